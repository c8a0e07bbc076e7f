"""keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING): the kernel keyring is shared with every process of the same user, including outside the sandbox."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("calling", flush=True)
r = libc.syscall(250, 0, -4, 0)
print(("ESCAPED sys_keyctl returned %d" % r) if r >= 0 else ("DENIED errno %d" % ctypes.get_errno()), flush=True)
