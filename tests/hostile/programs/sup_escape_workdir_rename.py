"""Renames its own working dir away, creates a directory in its place that it
removes all rights from, and drops a file beside it (in runbox's directory
of working dirs)."""
import os
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
cwd = os.getcwd()
try:
    os.rename(cwd, cwd + "-moved")
    print("GAP renamed the working dir in its parent", flush=True)
    os.mkdir(cwd)
    os.chmod(cwd, 0)
except OSError as e:
    print("DENIED rename:", e, flush=True)
try:
    with open(os.path.join(os.path.dirname(cwd), A["gap_tag"] + "-sibling"), "w") as f:
        f.write("x")
    print("GAP wrote beside the working dir", flush=True)
except OSError as e:
    print("DENIED write beside:", e, flush=True)
