"""Writes outside through a symbolic link planted in its own working dir
(a link to /tmp, and one to the runner's canary dir)."""
import os
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
for i, target in enumerate(("/tmp", A["canary_dir"])):
    os.symlink(target, "link%d" % i)
    path = "link%d/%s-link-%d" % (i, A["gap_tag"], os.getpid())
    try:
        with open(path, "w") as f:
            f.write("x")
        print("GAP wrote through a symlink into", target, flush=True)
    except OSError as e:
        print("DENIED %s: %s" % (target, e), flush=True)
