"""iopl(3): raw access to the machine's I/O ports."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("calling", flush=True)
r = libc.syscall(172, 3)
print(("ESCAPED sys_iopl returned %d" % r) if r >= 0 else ("DENIED errno %d" % ctypes.get_errno()), flush=True)
