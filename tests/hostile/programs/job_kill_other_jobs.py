"""Signals every process it can see in /proc but itself (other jobs, the
secret holder among them, the zygote and its init, runbox when visible) with
SIGSTOP, SIGKILL and sigqueue. The holder must still end by its own time
limit (status timeout), not by a signal from here."""
import ctypes
import os
libc = ctypes.CDLL(None, use_errno=True)
me = os.getpid()
denied = gone = 0
for name in os.listdir("/proc"):
    if not name.isdigit() or int(name) == me:
        continue
    pid = int(name)
    for sig in (19, 9):
        try:
            os.kill(pid, sig)
            print("ESCAPED signalled pid %d with %d" % (pid, sig), flush=True)
        except ProcessLookupError:
            gone += 1
        except OSError:
            denied += 1
    info = (ctypes.c_int * 32)(9, 0, -1)
    if libc.syscall(129, pid, 9, info) == 0:  # rt_sigqueueinfo
        print("ESCAPED sigqueue SIGKILL to pid %d" % pid, flush=True)
print("DENIED %d signals refused (%d targets gone)" % (denied, gone), flush=True)
