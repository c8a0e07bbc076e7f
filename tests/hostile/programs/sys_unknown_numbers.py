"""Calls system call numbers the kernel does not have (or will have in some
future version): 463, 1000, 4095, and 0x3fffffff."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
for nr in (463, 1000, 4095, 0x3FFFFFFF):
    r = libc.syscall(nr, 0, 0, 0)
    print(("ESCAPED syscall %d returned %d" % (nr, r)) if r >= 0 else ("DENIED syscall %d errno %d" % (nr, ctypes.get_errno())), flush=True)
