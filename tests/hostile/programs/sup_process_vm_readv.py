"""Reads runbox's memory with process_vm_readv, around /proc/<pid>/mem."""
import ctypes
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
libc = ctypes.CDLL(None, use_errno=True)


class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


buf = ctypes.create_string_buffer(4096)
local = iovec(ctypes.cast(buf, ctypes.c_void_p), 4096)
remote = iovec(0x400000, 4096)
print("reading", flush=True)
r = libc.syscall(310, int(A["runbox_pid"]), ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
print(("ESCAPED process_vm_readv read %d" % r) if r > 0 else ("DENIED errno %d" % ctypes.get_errno()), flush=True)
