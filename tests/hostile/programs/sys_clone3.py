"""clone3 through a raw syscall: its flags live in memory the filter cannot
read, so it must be refused outright (ENOSYS, so glibc falls back to clone),
and clone without CLONE_THREAD (a fork) must be refused too."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
args = (ctypes.c_uint64 * 11)(0, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0)  # exit_signal SIGCHLD
r = libc.syscall(435, args, 88)
if r == 0:
    libc._exit(0)
print(("ESCAPED clone3 made %d" % r) if r > 0 else ("DENIED clone3 errno %d" % ctypes.get_errno()), flush=True)
r = libc.syscall(56, 0x00000100 | 17, 0, 0, 0, 0)  # clone(CLONE_VM | SIGCHLD)
if r == 0:
    libc._exit(0)
print(("ESCAPED clone made %d" % r) if r > 0 else ("DENIED clone errno %d" % ctypes.get_errno()), flush=True)
