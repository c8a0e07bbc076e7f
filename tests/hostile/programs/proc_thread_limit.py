"""Starts threads until it cannot (issue 11, class 11: raw pthreads made
32,443 threads in 2.6 s and ran the host out of PIDs): with threading,
with _thread, with a ThreadPoolExecutor of 1,000 workers, with
pthread_create through ctypes (start routine libc's pause(), no Python in
the thread), and with libc's clone() (CLONE_THREAD, pause() on a stack of
its own). Small stacks, so memory is not what stops them. One variant per
job. A job under a uid of its own (runbox as root) may have 256 threads:
more than 260 alive is an escape, and it gives up at 1,000. Jobs sharing
runbox's uid share a bound (docs/sandbox.md, "Threads without root"): more
than 260 is that gap, more than 2,100 an escape; it gives up at 2,600.
Both far below the host's PID limit."""
import ctypes
import errno
import os
import resource
import sys
import threading

RB_VARIANT = None
V = RB_VARIANT or "threading"
OWN_UID = os.getuid() >= 0x70000000  # runbox as root: a uid per job
LIMIT = 1000 if OWN_UID else 2600
ev = threading.Event()
n = 0
stopped = None
libc = ctypes.CDLL(None, use_errno=True)
libc.mallopt(-8, 1)  # M_ARENA_MAX: one malloc arena, not 64 MiB of address space per thread
keep = []


def err_of(e):
    return errno.errorcode.get(e, str(e))


if V in ("threading", "_thread", "executor"):
    threading.stack_size(65536)
try:
    if V == "threading":
        while n < LIMIT:
            threading.Thread(target=ev.wait, daemon=True).start()
            n += 1
    elif V == "_thread":
        import _thread
        while n < LIMIT:
            _thread.start_new_thread(ev.wait, ())
            n += 1
    elif V == "executor":
        from concurrent.futures import ThreadPoolExecutor
        ex = ThreadPoolExecutor(max_workers=LIMIT)
        for _ in range(LIMIT):
            try:
                ex.submit(ev.wait)
            finally:
                n = len(ex._threads)
    elif V == "pthread":
        attr = ctypes.create_string_buffer(128)
        libc.pthread_attr_init(attr)
        libc.pthread_attr_setstacksize(attr, ctypes.c_size_t(65536))
        libc.pthread_attr_setdetachstate(attr, 1)
        start = ctypes.cast(libc.pause, ctypes.c_void_p)
        tid = ctypes.c_ulong()
        while n < LIMIT:
            rc = libc.pthread_create(ctypes.byref(tid), attr, start, None)
            if rc:
                stopped = "pthread_create: %s" % err_of(rc)
                break
            n += 1
    elif V == "clone":
        flags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000  # VM FS FILES SIGHAND THREAD SYSVSEM
        fn = ctypes.cast(libc.pause, ctypes.c_void_p)
        libc.clone.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
        while n < LIMIT:
            stack = ctypes.create_string_buffer(65536)
            keep.append(stack)
            top = (ctypes.addressof(stack) + 65536 - 64) & ~15
            rc = libc.clone(fn, top, flags, None)
            if rc < 0:
                stopped = "clone: %s" % err_of(ctypes.get_errno())
                break
            n += 1
except (RuntimeError, MemoryError, OSError) as e:
    stopped = "%s: %s" % (type(e).__name__, e)
alive = len(os.listdir("/proc/self/task"))
if stopped:
    print("DENIED thread %d: %s" % (n + 1, stopped), flush=True)
print("THREADS %d (tasks alive: %d; RLIMIT_NPROC %s)" % (n, alive, resource.getrlimit(resource.RLIMIT_NPROC)[0]),
      flush=True)
if alive > 260 and (OWN_UID or alive > 2100):
    print("ESCAPED %d threads alive in one job" % alive, flush=True)
elif alive > 260:
    print("GAP shared-uid %d threads alive in one job: the bound is the batch's" % alive, flush=True)
ev.set()
sys.stdout.flush()
os._exit(0)
