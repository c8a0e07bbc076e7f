"""Reads a file outside its working dir that its own user owns (the runner's
canary, mode 0600): only Landlock stands between them."""
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
try:
    with open(A["canary_file"]) as f:
        data = f.read()
    print("GAP read the canary outside the working dir (%d bytes)" % len(data), flush=True)
except OSError as e:
    print("DENIED canary:", e, flush=True)
