"""Mounts a tmpfs over /tmp (mount(2)), which would change the file system view of everyone in the mount namespace."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("calling", flush=True)
r = libc.syscall(165, b'none', b'/tmp', b'tmpfs', 0, None)
print(("ESCAPED sys_mount returned %d" % r) if r >= 0 else ("DENIED errno %d" % ctypes.get_errno()), flush=True)
