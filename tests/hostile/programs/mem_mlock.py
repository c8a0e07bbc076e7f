"""Tries to lock memory (mlock, mlockall): locked pages cannot be swapped and
RLIMIT_MEMLOCK should be 0."""
import ctypes
import mmap

libc = ctypes.CDLL(None, use_errno=True)
m = mmap.mmap(-1, 64 << 20)
addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
r1 = libc.mlock(ctypes.c_void_p(addr), ctypes.c_size_t(64 << 20))
e1 = ctypes.get_errno()
r2 = libc.mlockall(3)  # MCL_CURRENT | MCL_FUTURE
e2 = ctypes.get_errno()
if r1 == 0 or r2 == 0:
    print("ESCAPED locked memory: mlock=%d mlockall=%d" % (r1, r2), flush=True)
else:
    print("DENIED mlock errno %d, mlockall errno %d" % (e1, e2), flush=True)
