"""Writes a file into /tmp, outside its working dir."""
import os
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
path = "/tmp/%s-tmp-%d" % (A["gap_tag"], os.getpid())
try:
    with open(path, "w") as f:
        f.write("written by a job\n")
    print("GAP wrote", path, flush=True)
except OSError as e:
    print("DENIED /tmp:", e, flush=True)
