"""io_uring_setup: a second system call interface whose operations (open, connect, ...) the seccomp filter never sees."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("calling", flush=True)
r = libc.syscall(425, 8, ctypes.create_string_buffer(120))
print(("ESCAPED sys_io_uring_setup returned %d" % r) if r >= 0 else ("DENIED errno %d" % ctypes.get_errno()), flush=True)
