"""System V IPC and POSIX message queues: objects that outlive the process
and are shared with the whole IPC namespace (shmget, msgget, semget,
mq_open)."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
for name, nr, args in (("shmget", 29, (0, 1 << 20, 0o1000 | 0o666)), ("msgget", 68, (0, 0o1000 | 0o666)),
                       ("semget", 64, (0, 1, 0o1000 | 0o666)), ("mq_open", 240, (b"rbhostile", 0o100 | 2, 0o666, None))):
    r = libc.syscall(nr, *args)
    print(("ESCAPED %s created %d" % (name, r)) if r >= 0 else ("DENIED %s errno %d" % (name, ctypes.get_errno())), flush=True)
