"""Changes metadata outside its working dir (issue 11, class 8: Landlock
does not cover chmod, chown, utime or xattrs): the mode, owner, times and
extended attributes of the runner's canary (a file of runbox's user), its
world-writable dir, the working dirs' parent (`..`), --workdir and the
results file. Every route: Python's os functions by path; libc's path
calls through ctypes (chmod, fchmodat, chown, lchown, fchownat, utime,
utimes, utimensat, futimesat, setxattr, lsetxattr, removexattr,
lremovexattr); the raw system calls, fchmodat2 and setxattrat among them;
an O_PATH descriptor with AT_EMPTY_PATH or /proc/self/fd/N as the path; and
an ordinary descriptor (fchmod, fchown, futimens, fsetxattr). The path
calls must be refused in every pass, also on its own files; a change
through a descriptor needs the file opened, which Landlock or another uid
prevents (the shared-uid gap without either). Python's functions must
still work on its own files. What it changed of its own uid it restores."""
import ctypes
import errno
import os
import platform
import shutil
import stat
import sys

A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
UID, GID = os.getuid(), os.getgid()
libc = ctypes.CDLL(None, use_errno=True)
X86 = platform.machine() == "x86_64"
NR = dict(chmod=90, chown=92, lchown=94, utime=132, utimes=235, setxattr=188, lsetxattr=189, removexattr=197,
          lremovexattr=198, fchownat=260, futimesat=261, fchmodat=268, utimensat=280, fchmodat2=452,
          setxattrat=463, removexattrat=466)
AT_FDCWD, AT_EMPTY_PATH = -100, 0x1000
MARK = 946684800
XA = b"user.rbhostile.meta"
PATH_ROUTES = ("libc", "raw", "opath")
XBUF = ctypes.create_string_buffer(b"x")
counts = {"PATH_SYSCALLS_ALLOWED": 0, "CHANGED_OUTSIDE": 0}
summary = {}


def out(*a):
    print(*a, flush=True)


def meta(path):
    st = os.stat(path)
    try:
        xs = tuple(sorted(os.listxattr(path)))
    except OSError:
        xs = ()
    return (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_mtime_ns, xs), st


def c_ok(rc):
    if rc == -1 or (rc < 0 and rc > -4096):
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return rc


def timespecs(t):
    return (ctypes.c_long * 4)(t, 0, t, 0)


def timevals(t):
    return (ctypes.c_long * 4)(t, 0, t, 0)


def attempts(path, newmode):
    """(route, operation, function) for each way of changing path."""
    b = path.encode()
    ts, tv, ub = timespecs(MARK), timevals(MARK), (ctypes.c_long * 2)(MARK, MARK)
    xargs = (ctypes.c_uint64 * 2)(ctypes.addressof(XBUF), 1)
    L = [("python", "chmod", lambda: os.chmod(path, newmode)),
         ("python", "chown", lambda: os.chown(path, UID, GID)),
         ("python", "utime", lambda: os.utime(path, (MARK, MARK))),
         ("python", "setxattr", lambda: os.setxattr(path, XA, b"x")),
         ("libc", "chmod", lambda: c_ok(libc.chmod(b, newmode))),
         ("libc", "fchmodat", lambda: c_ok(libc.fchmodat(AT_FDCWD, b, newmode, 0))),
         ("libc", "chown", lambda: c_ok(libc.chown(b, UID, GID))),
         ("libc", "lchown", lambda: c_ok(libc.lchown(b, UID, GID))),
         ("libc", "fchownat", lambda: c_ok(libc.fchownat(AT_FDCWD, b, UID, GID, 0))),
         ("libc", "utime", lambda: c_ok(libc.utime(b, ub))),
         ("libc", "utimes", lambda: c_ok(libc.utimes(b, tv))),
         ("libc", "futimesat", lambda: c_ok(libc.futimesat(AT_FDCWD, b, tv))),
         ("libc", "utimensat", lambda: c_ok(libc.utimensat(AT_FDCWD, b, ts, 0))),
         ("libc", "setxattr", lambda: c_ok(libc.setxattr(b, XA, b"x", 1, 0))),
         ("libc", "lsetxattr", lambda: c_ok(libc.lsetxattr(b, XA, b"x", 1, 0)))]
    if X86:
        sc = libc.syscall
        L += [("raw", "chmod", lambda: c_ok(sc(NR["chmod"], b, newmode))),
              ("raw", "fchmodat", lambda: c_ok(sc(NR["fchmodat"], AT_FDCWD, b, newmode))),
              ("raw", "fchmodat2", lambda: c_ok(sc(NR["fchmodat2"], AT_FDCWD, b, newmode, 0))),
              ("raw", "chown", lambda: c_ok(sc(NR["chown"], b, UID, GID))),
              ("raw", "lchown", lambda: c_ok(sc(NR["lchown"], b, UID, GID))),
              ("raw", "fchownat", lambda: c_ok(sc(NR["fchownat"], AT_FDCWD, b, UID, GID, 0))),
              ("raw", "utime", lambda: c_ok(sc(NR["utime"], b, ub))),
              ("raw", "utimes", lambda: c_ok(sc(NR["utimes"], b, tv))),
              ("raw", "futimesat", lambda: c_ok(sc(NR["futimesat"], AT_FDCWD, b, tv))),
              ("raw", "utimensat", lambda: c_ok(sc(NR["utimensat"], AT_FDCWD, b, ts, 0))),
              ("raw", "setxattr", lambda: c_ok(sc(NR["setxattr"], b, XA, b"x", 1, 0))),
              ("raw", "lsetxattr", lambda: c_ok(sc(NR["lsetxattr"], b, XA, b"x", 1, 0))),
              ("raw", "setxattrat", lambda: c_ok(sc(NR["setxattrat"], AT_FDCWD, b, 0, XA, xargs, 16)))]

    def opath(fn):
        def go():
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                return fn(fd)
            finally:
                os.close(fd)
        return go
    proc = lambda fd: ("/proc/self/fd/%d" % fd).encode()  # noqa: E731
    if X86:
        L.append(("opath", "fchmodat2 AT_EMPTY_PATH",
                  opath(lambda fd: c_ok(libc.syscall(NR["fchmodat2"], fd, b"", newmode, AT_EMPTY_PATH)))))
    L += [("opath", "fchownat AT_EMPTY_PATH", opath(lambda fd: c_ok(libc.fchownat(fd, b"", UID, GID, AT_EMPTY_PATH)))),
          ("opath", "utimensat AT_EMPTY_PATH", opath(lambda fd: c_ok(libc.utimensat(fd, b"", ts, AT_EMPTY_PATH)))),
          ("opath", "chmod /proc/self/fd/N", opath(lambda fd: c_ok(libc.chmod(proc(fd), newmode)))),
          ("opath", "setxattr /proc/self/fd/N", opath(lambda fd: c_ok(libc.setxattr(proc(fd), XA, b"x", 1, 0)))),
          ("opath", "utimes /proc/self/fd/N", opath(lambda fd: c_ok(libc.utimes(proc(fd), tv))))]

    def viafd(fn):
        def go():
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            try:
                return fn(fd)
            finally:
                os.close(fd)
        return go
    L += [("fd", "fchmod", viafd(lambda fd: os.chmod(fd, newmode))),
          ("fd", "fchown", viafd(lambda fd: os.chown(fd, UID, GID))),
          ("fd", "futimens", viafd(lambda fd: os.utime(fd, (MARK, MARK)))),
          ("fd", "fsetxattr", viafd(lambda fd: os.setxattr(fd, XA, b"x")))]
    return L


def restore(path, before, st):
    """Puts back what changed (possible only where the job may act on it)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        os.chmod(fd, before[0])
        os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))
        for x in os.listxattr(fd):
            if x.encode() == XA:
                os.removexattr(fd, x)
        return meta(path)[0] == before
    except OSError:
        return False
    finally:
        os.close(fd)


def attack(label, path, own=False):
    try:
        before, st = meta(path)
    except OSError as e:
        out("DENIED %s: cannot even stat it (%s)" % (label, e.strerror))
        return
    newmode = before[0] ^ 0o040
    for route, op, fn in attempts(path, newmode):
        key = (route, "own" if own else "outside")
        n, refused = summary.get(key, (0, 0))
        try:
            fn()
            ok = True
        except OSError as e:
            ok = False
            why = errno.errorcode.get(e.errno, str(e.errno))
        after, _ = meta(path)
        changed = ok or after != before
        summary[key] = (n + 1, refused + (not changed))
        if own:
            if changed and route in PATH_ROUTES:
                counts["PATH_SYSCALLS_ALLOWED"] += 1
                out("UNREFUSED %s %s on its own file" % (route, op))
            elif not changed and route == "python":
                out("could not %s its own file (python): %s" % (op, why))
        elif changed:
            if route in PATH_ROUTES:
                counts["PATH_SYSCALLS_ALLOWED"] += 1
            if before[1] == UID and route not in PATH_ROUTES:
                out("GAP shared-uid %s %s changed %s (its own uid's)" % (route, op, label))
            else:
                counts["CHANGED_OUTSIDE"] += 1
                out("ESCAPED %s %s changed %s (uid %d's)%s" % (route, op, label, before[1],
                    " through a path call seccomp must refuse" if route in PATH_ROUTES else ""))
        if after != before and not restore(path, before, st):
            out("could not restore %s after %s %s" % (label, route, op))


with open("own.txt", "w") as f:
    f.write("mine\n")
attack("its own file", "own.txt", own=True)
for op, f in (("chmod", lambda: os.chmod("own.txt", 0o640)), ("utime", lambda: os.utime("own.txt", (1, 1))),
              ("setxattr", lambda: os.setxattr("own.txt", XA, b"1")),
              ("removexattr", lambda: os.removexattr("own.txt", XA)),
              ("shutil.copy2", lambda: shutil.copy2("own.txt", "copy.txt")),
              ("shutil.copymode", lambda: shutil.copymode("own.txt", "copy.txt"))):
    try:
        f()
        out("OWN python %s ok" % op)
    except OSError as e:
        out("OWN python %s failed: %s" % (op, e))
for label, path in (("the canary", A["canary_file"]), ("the canary's dir", A["canary_dir"]),
                    ("the working dirs' parent", ".."), ("--workdir", A["workdir"]),
                    ("the results file", A["results_file"])):
    attack(label, path)
for (route, where), (n, refused) in sorted(summary.items()):
    out("ROUTE %s %s: %d of %d attempts changed nothing" % (route, where, refused, n))
for k, v in counts.items():
    out("%s %d" % (k, v))
