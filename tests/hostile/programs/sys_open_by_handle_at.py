"""open_by_handle_at: opens files by handle, around every path check (the Shocker container escape)."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("calling", flush=True)
r = libc.syscall(304, -100, ctypes.create_string_buffer(136), 0)
print(("ESCAPED sys_open_by_handle_at returned %d" % r) if r >= 0 else ("DENIED errno %d" % ctypes.get_errno()), flush=True)
