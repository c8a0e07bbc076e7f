"""A "daemon" that keeps the job's stdout open: tries fork, posix_spawn and
raw clone()/vfork() through ctypes to leave something holding the pipe."""
import ctypes
import os
libc = ctypes.CDLL(None, use_errno=True)
try:
    pid = os.posix_spawn("/bin/sleep", ["sleep", "60"], os.environ)
    print("ESCAPED posix_spawn started", pid, flush=True)
except OSError as e:
    print("DENIED posix_spawn:", e, flush=True)
# clone(SIGCHLD, 0): fork by another name (child returns 0 into the same code).
r = libc.syscall(56, 17, 0, 0, 0, 0)
if r == 0:
    os.write(1, b"ESCAPED clone child holding stdout\n")
    libc.sleep(60)
    os._exit(0)
print(("DENIED clone errno %d" % ctypes.get_errno()) if r < 0 else ("ESCAPED clone %d" % r), flush=True)
try:
    if os.fork() == 0:
        os.write(1, b"ESCAPED forked daemon\n")
        libc.sleep(60)
        os._exit(0)
except OSError as e:
    print("DENIED fork:", e, flush=True)
