"""add_key: the kernel keyrings are shared beyond the job (the user keyring outlives it); this one aims at its own process keyring so that nothing would outlive it even if the call went through."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("calling", flush=True)
r = libc.syscall(248, b'user', b'rbhostile', b'secret', 6, -2)
print(("ESCAPED sys_add_key returned %d" % r) if r >= 0 else ("DENIED errno %d" % ctypes.get_errno()), flush=True)
