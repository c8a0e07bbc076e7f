"""Leaves its working dir hard to remove (issue 11, class 14: removal held
a descriptor per level, so a tree 1,500 deep outlived the batch when
runbox's open-file limit was 1,024, without a word): a chain of dirs 1,500
or 5,000 deep; one of 1,000 levels of 255-byte names (paths of 256 KB); a
tree whose dirs hold read-only files, FIFOs and symlinks to the canary's
dir, to /, to --workdir and up the tree, named like the dirs a remover
would descend into. Every dir ends at mode 000 (read-only dirs of read-only
files in the traps variant). Also as a job run twice (num_times) and as a
command list. Nothing may be left under --workdir, nothing outside
removed."""
import os
import sys

RB_VARIANT = None
V = RB_VARIANT or "1500"
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
depth = {"1500": 1500, "5000": 5000, "longnames": 1000, "traps": 400}[V]
name = "n" * 255 if V == "longnames" else "d"
unique = "tree-%d" % os.getpid()  # a command list's commands share the dir
os.mkdir(unique)
os.chdir(unique)
made = 0
try:
    for i in range(depth):
        os.mkdir(name)
        os.chdir(name)
        made += 1
        if V == "traps" and i % 50 == 0:
            for link, target in (("link-canary-dir", A.get("canary_dir", "/tmp")), ("link-root", "/"),
                                 ("link-workdir", A.get("workdir", "/tmp")), ("link-up", "../../.."),
                                 ("z" + name, A.get("canary_dir", "/tmp"))):
                os.symlink(target, link)
            os.mkfifo("fifo")
            with open("readonly", "w") as f:
                f.write("x")
            os.chmod("readonly", 0o444)
    with open("bottom", "w") as f:
        f.write("x")
except OSError as e:
    print("stopped at", made, e, flush=True)
for i in range(made):
    os.chdir("..")
    os.chmod(name, 0o555 if V == "traps" and i % 2 else 0)
os.chdir("..")
os.chmod(unique, 0)
print("DEPTH", made, flush=True)
