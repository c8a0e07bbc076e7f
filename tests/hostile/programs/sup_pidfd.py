"""Opens a pidfd on runbox (pidfd_open), to signal it with pidfd_send_signal
or steal its descriptors with pidfd_getfd."""
import ctypes
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
libc = ctypes.CDLL(None, use_errno=True)
print("pidfd_open", flush=True)
fd = libc.syscall(434, int(A["runbox_pid"]), 0)
if fd >= 0:
    print("ESCAPED pidfd_open gave", fd, flush=True)
    print("getfd", libc.syscall(438, fd, 3, 0), flush=True)
else:
    print("DENIED pidfd_open errno %d" % ctypes.get_errno(), flush=True)
