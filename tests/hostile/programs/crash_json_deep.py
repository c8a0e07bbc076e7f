"""json.loads of '[' * 100000: recursion in the C scanner."""
import json
json.loads("[" * 100000)
