"""Signals runbox itself, by the pid the runner passes in argv: SIGSTOP,
SIGTERM, SIGKILL, and sigqueue through rt_sigqueueinfo."""
import ctypes
import os
import signal
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
pid = int(A["runbox_pid"])
for sig in (signal.SIGSTOP, signal.SIGTERM, signal.SIGKILL):
    try:
        os.kill(pid, sig)
        print("ESCAPED signalled runbox %d with %s" % (pid, sig.name), flush=True)
    except OSError as e:
        print("DENIED kill(runbox, %s): %s" % (sig.name, e), flush=True)
libc = ctypes.CDLL(None, use_errno=True)
info = (ctypes.c_int * 32)(9, 0, -1)
r = libc.syscall(129, pid, 9, info)  # rt_sigqueueinfo
print(("ESCAPED rt_sigqueueinfo") if r == 0 else ("DENIED rt_sigqueueinfo errno %d" % ctypes.get_errno()), flush=True)
