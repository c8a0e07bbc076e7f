"""Writes into root's home, /etc, /usr/lib/python3 (to plant code other
programs would import) and /proc/sysrq-trigger. (Anything it managed to
plant it removes again: the record says ESCAPED either way.)"""
import glob
import os
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
name = A["gap_tag"] + "-planted"
targets = ["/root/." + name, "/etc/" + name]
targets += [os.path.join(p, name.replace("-", "_") + ".py") for p in glob.glob("/usr/lib/python3*/")[:1]]
for path in targets:
    try:
        with open(path, "w") as f:
            f.write("print('planted')\n")
        print("ESCAPED wrote", path, flush=True)
        os.unlink(path)
    except OSError as e:
        print("DENIED %s: %s" % (path, e), flush=True)
try:
    with open("/proc/sysrq-trigger", "w") as f:
        f.write("h")
    print("ESCAPED wrote /proc/sysrq-trigger", flush=True)
except OSError as e:
    print("DENIED sysrq-trigger:", e, flush=True)
