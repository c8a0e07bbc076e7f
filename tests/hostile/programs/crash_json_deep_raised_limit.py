"""json.loads of a million '[' with the recursion limit raised to ten million,
so that nothing but the C stack stops the scanner."""
import json
import sys
sys.setrecursionlimit(10 ** 7)
json.loads("[" * 10 ** 6)
