"""Reads the runner's secret, a file in a 0700 directory of root's."""
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
try:
    with open(A["secret_file"]) as f:
        print("ESCAPED read the secret:", f.read()[:30], flush=True)
except OSError as e:
    print("DENIED secret:", e, flush=True)
