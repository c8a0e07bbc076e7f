"""Calls getpid through the x32 ABI (system call number with bit 30 set), a second syscall table a filter written for x86-64 numbers could miss."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("calling", flush=True)
r = libc.syscall(0x40000000 | 39)
print(("ESCAPED sys_x32_abi returned %d" % r) if r >= 0 else ("DENIED errno %d" % ctypes.get_errno()), flush=True)
