"""Sets the system clock (clock_settime(CLOCK_REALTIME), to the time it already is, so that a broken sandbox does no harm)."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("calling", flush=True)
now = (ctypes.c_long * 2)()
libc.clock_gettime(0, now)
r = libc.syscall(227, 0, now)
print(("ESCAPED sys_clock_settime returned %d" % r) if r >= 0 else ("DENIED errno %d" % ctypes.get_errno()), flush=True)
