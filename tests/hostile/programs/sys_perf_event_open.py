"""perf_event_open on itself: kernel attack surface and side channels on other processes."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("calling", flush=True)
r = libc.syscall(298, ctypes.create_string_buffer(128), 0, -1, -1, 0)
print(("ESCAPED sys_perf_event_open returned %d" % r) if r >= 0 else ("DENIED errno %d" % ctypes.get_errno()), flush=True)
