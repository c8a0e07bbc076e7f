"""Kills its parent with SIGKILL (os.kill(os.getppid(), 9)): without a PID
namespace the parent is the zygote; inside one getppid() is 0, and kill(0)
signals the job's own process group."""
import os
ppid = os.getppid()
print("PPID", ppid, flush=True)
try:
    os.kill(ppid, 9)
    print("kill(%d, 9) returned" % ppid, flush=True)
except OSError as e:
    print("DENIED kill parent:", e, flush=True)
