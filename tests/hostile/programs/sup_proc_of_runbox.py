"""Reads /proc/<runbox's pid> and /proc/<parent>: mem (through maps),
environ, cmdline, the descriptors under fd/, cwd and root. Memory, environment
and descriptors must stay closed; a visible command line is information only."""
import os
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
targets = [("runbox", int(A["runbox_pid"]))]
if os.getppid() > 0:
    targets.append(("parent", os.getppid()))
for who, pid in targets:
    base = "/proc/%d" % pid
    try:
        with open(base + "/maps") as f:
            maps = f.read()
        print("ESCAPED read %s maps (%d bytes)" % (who, len(maps)), flush=True)
        for line in maps.splitlines():
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            if "r" in line.split()[1]:
                with open(base + "/mem", "rb") as m:
                    m.seek(lo)
                    m.read(min(hi - lo, 4096))
                print("ESCAPED read %s memory" % who, flush=True)
                break
    except (OSError, ValueError, OverflowError) as e:
        print("DENIED %s maps/mem: %s" % (who, e), flush=True)
    try:
        with open(base + "/mem", "rb") as m:
            m.read(1)
        print("ESCAPED opened %s mem" % who, flush=True)
    except OSError as e:
        print("DENIED %s mem: %s" % (who, e), flush=True)
    try:
        with open(base + "/environ", "rb") as f:
            env = f.read()
        print("ESCAPED read %s environ: %r" % (who, env[:300]), flush=True)
    except OSError as e:
        print("DENIED %s environ: %s" % (who, e), flush=True)
    for link in ("cwd", "root", "exe"):
        try:
            print("ESCAPED %s %s -> %s (listing %s)" % (
                who, link, os.readlink(base + "/" + link), os.listdir(base + "/" + link)[:5]), flush=True)
        except OSError as e:
            print("DENIED %s %s: %s" % (who, link, e), flush=True)
    try:
        fds = os.listdir(base + "/fd")
        print("ESCAPED listed %s fds %s" % (who, fds), flush=True)
        for fd in fds:
            try:
                with open(base + "/fd/" + fd, "rb") as f:
                    print("ESCAPED opened %s fd %s: %r" % (who, fd, f.read(100)), flush=True)
            except OSError:
                pass
    except OSError as e:
        print("DENIED %s fd/: %s" % (who, e), flush=True)
    try:
        with open(base + "/cmdline", "rb") as f:
            cmd = f.read()
        print("GAP %s cmdline visible: %r" % (who, cmd.replace(b"\0", b" ")[:300]), flush=True)
    except OSError as e:
        print("DENIED %s cmdline: %s" % (who, e), flush=True)
