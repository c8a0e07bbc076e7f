"""Writes files into /dev/shm and /var/tmp, the other world-writable dirs."""
import os
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
for d in ("/dev/shm", "/var/tmp"):
    path = "%s/%s-%d" % (d, A["gap_tag"], os.getpid())
    try:
        with open(path, "w") as f:
            f.write("written by a job\n")
        print("GAP wrote", path, flush=True)
    except OSError as e:
        print("DENIED %s: %s" % (d, e), flush=True)
