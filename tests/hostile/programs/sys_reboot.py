"""reboot(LINUX_REBOOT_CMD_CAD_OFF): in a PID namespace where it holds CAP_SYS_BOOT, reboot would kill the namespace's init and every job with it."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("calling", flush=True)
r = libc.syscall(169, ctypes.c_long(0xfee1dead), 672274793, 0x0, 0)
print(("ESCAPED sys_reboot returned %d" % r) if r >= 0 else ("DENIED errno %d" % ctypes.get_errno()), flush=True)
