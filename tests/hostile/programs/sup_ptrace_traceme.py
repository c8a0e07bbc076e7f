"""PTRACE_TRACEME: asks to be traced by its parent (the zygote), which would
then see and steer it."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("traceme", flush=True)
r = libc.syscall(101, 0, 0, 0, 0)
print(("ESCAPED traceme") if r == 0 else ("DENIED traceme errno %d" % ctypes.get_errno()), flush=True)
