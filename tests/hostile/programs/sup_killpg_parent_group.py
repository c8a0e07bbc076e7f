"""killpg of runbox's process group and of its parent's process group (the
shell's or the supervisor's)."""
import os
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
rb = int(A["runbox_pid"])
try:
    g = os.getpgid(rb)
    os.killpg(g, 9)
    print("ESCAPED killpg(runbox's group %d)" % g, flush=True)
except OSError as e:
    print("DENIED killpg(runbox's group):", e, flush=True)
ppid = os.getppid()
try:
    g = os.getpgid(ppid)
    print("parent", ppid, "group", g, "mine", os.getpgid(0), flush=True)
    os.killpg(g, 9)
    print("killpg(%d) returned" % g, flush=True)
except OSError as e:
    print("DENIED killpg(parent's group):", e, flush=True)
