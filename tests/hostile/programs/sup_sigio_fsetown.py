"""Sends signals without kill(): F_SETOWN/F_SETOWN_EX on a pipe pointing at
runbox (or its process group), O_ASYNC, then a write: the kernel would
deliver SIGIO, whose default action ends the process. Also FIOSETOWN."""
import ctypes
import fcntl
import os
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
pid = int(A["runbox_pid"])
r, w = os.pipe()
owned = False
for what, arg in (("F_SETOWN pid", pid), ("F_SETOWN group", -pid)):
    try:
        fcntl.fcntl(r, fcntl.F_SETOWN, arg)
        print("F_SETOWN accepted:", what, flush=True)
        owned = True
    except OSError as e:
        print("DENIED %s: %s" % (what, e), flush=True)


class owner_ex(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("pid", ctypes.c_int)]


try:
    fcntl.fcntl(r, 15, bytes(owner_ex(1, pid)))  # F_SETOWN_EX, F_OWNER_PID
    print("F_SETOWN_EX accepted", flush=True)
    owned = True
except OSError as e:
    print("DENIED F_SETOWN_EX:", e, flush=True)
try:
    fcntl.ioctl(r, 0x8901, ctypes.c_int(pid))  # FIOSETOWN
    print("FIOSETOWN accepted", flush=True)
    owned = True
except OSError as e:
    print("DENIED FIOSETOWN:", e, flush=True)
if owned:
    try:
        fl = fcntl.fcntl(r, fcntl.F_GETFL)
        fcntl.fcntl(r, fcntl.F_SETFL, fl | os.O_ASYNC)
        os.write(w, b"x")
        print("ESCAPED SIGIO aimed at runbox", flush=True)
    except OSError as e:
        print("DENIED O_ASYNC:", e, flush=True)
