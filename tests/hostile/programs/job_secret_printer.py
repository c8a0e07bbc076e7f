"""The victim of the results-file attack: prints a secret (its stdin) as its
output, which only its own record may carry."""
import sys
print(sys.stdin.read().strip(), flush=True)
