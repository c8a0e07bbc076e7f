"""Leaves a directory tree 3000 levels deep in its working dir, with the
permissions taken off every level, for runbox to remove."""
import os
top = os.getcwd()
made = 0
try:
    for i in range(3000):
        os.mkdir("d")
        os.chdir("d")
        made += 1
    with open("bottom", "w") as f:
        f.write("x")
except OSError as e:
    print("stopped at", made, e, flush=True)
for i in range(made):
    os.chdir("..")
    os.chmod("d", 0)
print("DEPTH", made, flush=True)
