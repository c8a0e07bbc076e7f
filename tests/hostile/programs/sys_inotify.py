"""Makes inotify instances (issue 11, class 12): they are counted per user
on the host (in a user namespace, against its owner), so one job taking
them all starved other jobs and host processes of that user. Through
libc's inotify_init and inotify_init1, the raw system calls, and
fanotify_init; up to 200 instances. All must be refused."""
import ctypes
import errno
import platform

libc = ctypes.CDLL(None, use_errno=True)
X86 = platform.machine() == "x86_64"
calls = [("inotify_init", lambda: libc.inotify_init()),
         ("inotify_init1", lambda: libc.inotify_init1(0)),
         ("inotify_init1 IN_NONBLOCK|IN_CLOEXEC", lambda: libc.inotify_init1(0o4000 | 0o2000000))]
if X86:
    calls += [("syscall inotify_init", lambda: libc.syscall(253)),
              ("syscall inotify_init1", lambda: libc.syscall(294, 0)),
              ("syscall fanotify_init", lambda: libc.syscall(300, 0, 0))]
total = 0
for name, f in calls:
    got = 0
    for _ in range(200 if name == "inotify_init1" else 1):
        fd = f()
        if fd < 0:
            e = ctypes.get_errno()
            if got == 0:
                print("DENIED %s: errno %s" % (name, errno.errorcode.get(e, e)), flush=True)
            break
        got += 1
        try:
            wd = libc.inotify_add_watch(fd, b".", 0x100)
            print("%s made instance fd %d (watch %d)" % (name, fd, wd), flush=True)
        except OSError:
            pass
    total += got
print("INOTIFY_INSTANCES %d" % total, flush=True)
if total:
    print("ESCAPED made %d inotify/fanotify instances" % total, flush=True)
