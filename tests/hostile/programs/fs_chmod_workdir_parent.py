"""Makes the working dirs' parent (`..`, runbox's dir of working dirs)
mode 000 and leaves it so, by every route: chmod by path (Python, libc,
the raw calls), an O_PATH descriptor (fchmodat2 with AT_EMPTY_PATH, chmod
of /proc/self/fd/N) and an ordinary descriptor (fchmod). Once, runbox's
user's jobs could do it, after which every later job was `internal` and
working dirs were left behind. Where the parent is its own uid's and
Landlock is off (the reduced pass) the descriptor route works: a
documented shared-uid gap, which runbox must survive (later jobs run,
nothing is left)."""
import ctypes
import errno
import os
import platform
import stat

libc = ctypes.CDLL(None, use_errno=True)
X86 = platform.machine() == "x86_64"
uid = os.getuid()


def c_ok(rc):
    if rc == -1:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def via(flags, fn):
    def go():
        fd = os.open("..", flags | os.O_CLOEXEC)
        try:
            fn(fd)
        finally:
            os.close(fd)
    return go


routes = [("python chmod", lambda: os.chmod("..", 0)),
          ("libc chmod", lambda: c_ok(libc.chmod(b"..", 0))),
          ("libc fchmodat", lambda: c_ok(libc.fchmodat(-100, b"..", 0, 0))),
          ("O_PATH chmod /proc/self/fd/N", via(os.O_PATH, lambda fd: c_ok(libc.chmod(b"/proc/self/fd/%d" % fd, 0))))]
if X86:
    routes += [("raw chmod", lambda: c_ok(libc.syscall(90, b"..", 0))),
               ("raw fchmodat", lambda: c_ok(libc.syscall(268, -100, b"..", 0))),
               ("raw fchmodat2", lambda: c_ok(libc.syscall(452, -100, b"..", 0, 0))),
               ("O_PATH fchmodat2 AT_EMPTY_PATH", via(os.O_PATH, lambda fd: c_ok(libc.syscall(452, fd, b"", 0, 0x1000))))]
routes.append(("fchmod", via(os.O_RDONLY | os.O_DIRECTORY, lambda fd: os.chmod(fd, 0))))
owner = os.stat("..").st_uid
original = stat.S_IMODE(os.stat("..").st_mode)
for name, fn in routes:
    try:
        fn()
    except OSError as e:
        print("DENIED %s: errno %s" % (name, errno.errorcode.get(e.errno, e.errno)), flush=True)
        continue
    mode = stat.S_IMODE(os.stat("..").st_mode)
    if mode == original:
        print("DENIED %s: returned 0, mode unchanged" % name, flush=True)
        continue
    how = "GAP shared-uid" if owner == uid else "ESCAPED (uid %d's)" % owner
    print("%s %s left the working dirs' parent at mode %03o" % (how, name, mode), flush=True)
    break
print("PARENT mode now %03o (was %03o)" % (stat.S_IMODE(os.stat("..").st_mode), original), flush=True)
