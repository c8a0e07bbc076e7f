"""unshare(CLONE_NEWUSER | CLONE_NEWNS): a user namespace of its own would give it every capability there, and a lot of kernel attack surface."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("calling", flush=True)
r = libc.syscall(272, 0x10000000 | 0x00020000)
print(("ESCAPED sys_unshare returned %d" % r) if r >= 0 else ("DENIED errno %d" % ctypes.get_errno()), flush=True)
