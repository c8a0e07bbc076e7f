"""Looks for other jobs' working dirs (its parent directory and /proc/*/cwd),
reads every file in them looking for the secret holder's file, and drops a
file into each. What it reaches is judged by its owner: a dir or file of the
job's own uid is the documented exposure of running without root and without
Landlock ("GAP shared-uid"); one of another uid is an escape. It touches
nothing outside this batch's --workdir (other runbox instances of the same
user may be running on the machine)."""
import os
import re
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
PATTERN = re.compile(rb"RB" + rb"SECRET-[A-Z]+-[0-9a-f]{32}")
me = os.getcwd()
batch = os.path.realpath(A["workdir"]) + "/"
uid = os.getuid()


def reached(path):
    """How to report reaching path: by whose it is."""
    try:
        owner = os.stat(path).st_uid
    except OSError:
        owner = -1
    return "GAP shared-uid" if owner == uid else "ESCAPED (uid %d's)" % owner


parent = os.path.dirname(me)
dirs = set()
try:
    for name in os.listdir(parent):
        p = os.path.join(parent, name)
        if p != me and os.path.isdir(p):
            dirs.add(p)
    print("%s listed the parent: %d other working dirs" % (reached(parent), len(dirs)), flush=True)
except OSError as e:
    print("DENIED listing the parent:", e, flush=True)
foreign = 0
for name in os.listdir("/proc"):
    if name.isdigit() and int(name) != os.getpid():
        try:
            d = os.readlink("/proc/%s/cwd" % name)
        except OSError:
            continue
        if d == me:
            continue
        if (d + "/").startswith(batch):
            dirs.add(d)
            print("%s found a cwd in this batch through /proc/%s/cwd" % (reached("/proc/" + name), name), flush=True)
        else:
            foreign += 1
if foreign:
    print("saw %d cwds of processes outside this batch (left alone)" % foreign, flush=True)
for d in sorted(dirs):
    try:
        for root, _, files in os.walk(d):
            for fn in files:
                path = os.path.join(root, fn)
                try:
                    with open(path, "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                for m in PATTERN.findall(data):
                    print("%s read another job's file: %r" % (reached(path), m[:24] + b"..."), flush=True)
        with open(os.path.join(d, "rbhostile-planted"), "w") as f:
            f.write("planted by another job\n")
        print("%s wrote into another job's working dir" % reached(d), flush=True)
    except OSError as e:
        print("DENIED %s: %s" % (os.path.basename(d), e), flush=True)
print("DONE", len(dirs), "dirs tried", flush=True)
