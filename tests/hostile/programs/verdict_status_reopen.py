"""Tries every way to get a second handle on its status channel (fd 1020, the
one its verdict travels on) that could read what the worker writes there:
reopening it through /proc/self/fd/1020, /proc/<pid>/fd, /proc/thread-self,
its task's dir and /dev/fd, read-only, read-write and write-only; reading the
descriptor itself, and splicing from it into a pipe; peeking at it as a
socket; opening the supervisor's and
its parent's descriptors through /proc. Any handle that reads the worker's
words would let it steal the per-run secret and forge its record. Then it
fails (RuntimeError)."""
import errno
import os
import re
import socket
import sys
import threading
import time

FD = 1020
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
WORKERS_WORDS = re.compile(rb"[0-9a-f]{32}|outcome|verdict")


def name(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def out(*a):
    print(*a, flush=True)


# 1. Reopen it by path. A pipe's write end reopened O_RDONLY or O_RDWR is a
# read end of the same pipe; a socket cannot be opened through /proc (ENXIO).
paths = [("/proc/self/fd/1020", "/proc/self/fd/%d" % FD),
         ("/proc/<pid>/fd/1020", "/proc/%d/fd/%d" % (os.getpid(), FD)),
         ("/proc/thread-self/fd/1020", "/proc/thread-self/fd/%d" % FD),
         ("/proc/self/task/<tid>/fd/1020", "/proc/self/task/%d/fd/%d" % (threading.get_native_id(), FD)),
         ("/dev/fd/1020", "/dev/fd/%d" % FD)]
for label, path in paths:
    for flag, fname in ((os.O_RDONLY, "O_RDONLY"), (os.O_RDWR, "O_RDWR"), (os.O_WRONLY, "O_WRONLY")):
        try:
            h = os.open(path, flag | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as e:
            out("DENIED reopen %s %s errno %s" % (label, fname, name(e)))
            continue
        if flag == os.O_WRONLY:
            out("reopened %s O_WRONLY (nothing more than writing to fd 1020, which it may)" % label)
        else:
            out("ESCAPED reopened %s %s: a handle that reads what the worker writes on its status channel"
                % (label, fname))
        os.close(h)

# 2. Read the descriptor itself (in a thread: a read may block for ever):
# what arrives there must never be the worker's.
got = []


def read_it():
    try:
        got.append(os.read(FD, 1 << 16))
    except OSError as e:
        got.append(e)


def splice_it():
    """splice() out of fd 1020 into a pipe of its own: reading by another name."""
    r, w = os.pipe()
    try:
        n = os.splice(FD, w, 1 << 16)
        got.append(os.read(r, n) if n else b"")
    except OSError as e:
        got.append(e)


threading.Thread(target=read_it, daemon=True).start()
threading.Thread(target=splice_it, daemon=True).start()
time.sleep(0.2)
if not got:
    out("DENIED read fd 1020: nothing arrived in 0.2 s")
for g in got:
    if isinstance(g, OSError):
        out("DENIED read fd 1020: errno %s" % name(g))
    elif WORKERS_WORDS.search(g):
        out("ESCAPED read the worker's words on fd 1020: %r" % g[:100])
    else:
        out("DENIED read fd 1020: %d bytes, none of them the worker's" % len(g))

# 3. As a socket (the descriptor itself, not a copy): peek at what waits
# without blocking, and ask who is at the other end.
try:
    s = socket.socket(fileno=FD)
    try:
        data = s.recv(1 << 16, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        if WORKERS_WORDS.search(data or b""):
            out("ESCAPED peeked at the worker's words on fd 1020: %r" % data[:100])
        else:
            out("DENIED peek fd 1020: %d bytes, none of them the worker's" % len(data))
    except OSError as e:
        out("DENIED peek fd 1020: errno %s" % name(e))
    try:
        import struct
        pid, uid, gid = struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        out("fd 1020's peer: pid %d uid %d" % (pid, uid))
    except OSError:
        pass
    s.detach()
except OSError as e:
    out("DENIED peek fd 1020: not a socket (errno %s)" % name(e))

# 4. The other ends: the supervisor's (runbox's) and the parent's descriptors.
for who, pid in (("the supervisor", int(A.get("runbox_pid", "0"))), ("the parent", os.getppid())):
    if pid <= 0:
        out("DENIED %s's descriptors: no such process in sight" % who)
        continue
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError as e:
        out("DENIED %s's descriptors: listing errno %s" % (who, name(e)))
        continue
    opened = 0
    for n in fds:
        try:
            h = os.open("/proc/%d/fd/%s" % (pid, n), os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            opened += 1
            os.close(h)
        except OSError:
            pass
    if opened:
        out("ESCAPED opened %d of %s's descriptors (pid %d)" % (opened, who, pid))
    else:
        out("DENIED %s's descriptors: listed %d, opened none" % (who, len(fds)))

raise RuntimeError("this program failed")
