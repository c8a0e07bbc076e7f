"""setns: enters another process's namespaces (here with a bad descriptor: the call itself is the attack)."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("calling", flush=True)
r = libc.syscall(308, -1, 0)
print(("ESCAPED sys_setns returned %d" % r) if r >= 0 else ("DENIED errno %d" % ctypes.get_errno()), flush=True)
