"""kcmp: compares kernel resources of two processes, probing their descriptors."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("calling", flush=True)
r = libc.syscall(312, 1, 1, 0, 0, 0)
print(("ESCAPED sys_kcmp returned %d" % r) if r >= 0 else ("DENIED errno %d" % ctypes.get_errno()), flush=True)
