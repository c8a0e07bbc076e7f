"""modify_ldt: segment descriptor tricks, long a source of kernel bugs."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("calling", flush=True)
r = libc.syscall(154, 0, ctypes.create_string_buffer(16), 16)
print(("ESCAPED sys_modify_ldt returned %d" % r) if r >= 0 else ("DENIED errno %d" % ctypes.get_errno()), flush=True)
