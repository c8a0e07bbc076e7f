"""Fails (add_mod raises EvilError), after sabotaging its status channel
(fd 1020) so that the failure cannot be reported, and exits 0 afterwards
from atexit and from a thread: closing it; shutdown() of it; dup2() of
/dev/null or of a pipe over it (its soft open-file limit raised first),
keeping a copy and stealing what the worker writes into the pipe, or
swapping the two back and forth in a thread; making it non-blocking and
filling it, or setting a tiny SO_SNDTIMEO; flooding it with 1.1 MiB of junk,
with junk from a thread while the worker writes, with forged lines under
guessed secrets; sending it descriptors (SCM_RIGHTS) by the thousand. One
variant per job. A sabotaged channel must never read as success."""
import atexit
import ctypes
import errno
import json
import os
import re
import resource
import secrets
import socket
import sys
import threading
import time

RB_VARIANT = None
V = RB_VARIANT or "close"
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
RUN = "runbox_pid" in A
FD = 1020
MAIN = threading.main_thread().ident
MYFILE = sys._getframe().f_code.co_filename
SIGNED = re.compile(rb"([0-9a-f]{32})(.?)\{")


class EvilError(Exception):
    pass


# Threads that cost little of the memory limit: small stacks, and one malloc
# arena for all (glibc reserves 64 MiB of address space per thread arena).
ctypes.CDLL(None).mallopt(-8, 1)  # M_ARENA_MAX
threading.stack_size(256 << 10)


def out(*a):
    print(*a, flush=True)


def ename(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def forge(w, nonce, sep):
    objs = [{"t": "running"}] + [{"t": "check", "index": i, "status": "passed"} for i in range(16)] + [
        {"check": i, "status": "passed"} for i in range(16)] + [
        {"t": "verdict", "outcome": "completed", "exit_code": 0, "memory_error": False, "keyboard_interrupt": False},
        {"outcome": "completed", "exit_code": 0, "memory_error": False, "keyboard_interrupt": False}]
    lines = [nonce + sep + json.dumps(o).encode() for o in objs]
    for data in [b"\n" + b"\n".join(lines) + b"\n"] + lines:
        try:
            os.write(w, data)
        except OSError:
            return


def steal(r, w):
    """Reads what the worker wrote into our pipe; forges onto the real channel."""
    buf = b""
    while True:
        try:
            chunk = os.read(r, 1 << 16)
        except OSError:
            return
        if not chunk:
            return
        buf += chunk
        m = SIGNED.search(buf)
        if m:
            forge(w, m.group(1), m.group(2))
            os.write(1, b"ESCAPED the worker wrote its signed message into our pipe; forged ones sent\n")
            os._exit(0)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def over(src):
    """dup2 src over fd 1020; True when it worked."""
    try:
        os.dup2(src, FD)
        return True
    except OSError as e:
        out("DENIED dup2 onto fd 1020: errno %s (open-file limit %s)" % (ename(e), raise_nofile()))
        return False


SOCKS = []


def sock():
    """fd 1020 as a socket object (the descriptor itself: a copy might be
    refused). Kept, never closed by the collector."""
    s = socket.socket(fileno=FD)
    SOCKS.append(s)
    return s


if V == "close":
    libc = ctypes.CDLL(None, use_errno=True)
    for how, f in (("close", lambda: os.close(FD)),
                   ("close_range", lambda: libc.syscall(436, FD, FD, 0) == 0 or os.strerror(ctypes.get_errno())),
                   ("closerange", lambda: os.closerange(FD, FD + 1))):
        try:
            r = f()
            if isinstance(r, str):
                out("DENIED %s of fd 1020: %s" % (how, r))
                continue
            out("%s of fd 1020 returned" % how)
        except OSError as e:
            out("DENIED %s of fd 1020: errno %s" % (how, ename(e)))
    try:
        os.fstat(FD)
        out("fd 1020 is still there")
    except OSError:
        out("fd 1020 is closed")
elif V in ("shutdown_wr", "shutdown_rdwr"):
    try:
        s = sock()
        s.shutdown(socket.SHUT_WR if V == "shutdown_wr" else socket.SHUT_RDWR)
        out("shut fd 1020 down")
    except OSError as e:
        out("DENIED shutdown of fd 1020 (errno %s): closing it instead" % ename(e))
        try:
            os.close(FD)
        except OSError as e:
            out("DENIED close of fd 1020: errno %s" % ename(e))
elif V == "dup2_devnull":
    raise_nofile()
    if over(os.open("/dev/null", os.O_WRONLY | os.O_CLOEXEC)):
        out("fd 1020 is /dev/null now")
elif V in ("dup2_pipe_steal", "swap_race"):
    raise_nofile()
    try:
        saved = os.dup(FD)
    except OSError as e:
        saved = None
        out("DENIED dup of fd 1020: errno %s" % ename(e))
    r, w = os.pipe()
    if saved is not None:
        threading.Thread(target=steal, args=(r, saved), daemon=True).start()
        if V == "dup2_pipe_steal":
            if over(w):
                out("fd 1020 is our pipe now; the real channel is fd %d" % saved)
        else:
            def swap():
                while True:
                    try:
                        os.dup2(w, FD)
                        os.dup2(saved, FD)
                    except OSError:
                        return
            if over(w) and over(saved):
                for _ in range(2):
                    threading.Thread(target=swap, daemon=True).start()
                out("swapping fd 1020 between the channel and our pipe")
elif V in ("nonblock_fill", "sndtimeo_fill"):
    if V == "sndtimeo_fill":
        try:
            sock().setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, b"\0" * 8 + (1).to_bytes(8, "little"))
            out("SO_SNDTIMEO set to 1 us")
        except OSError as e:
            out("SO_SNDTIMEO refused: errno %s" % ename(e))
    try:
        os.set_blocking(FD, False)
        n = 0
        try:
            while n < (8 << 20):
                n += os.write(FD, b"x" * 4096)
        except OSError as e:
            out("filled fd 1020 with %d bytes (errno %s)" % (n, ename(e)))
    except OSError as e:
        out("DENIED making fd 1020 non-blocking (F_SETFL): errno %s" % ename(e))
        try:
            import fcntl
            import termios
            fcntl.ioctl(FD, termios.FIONBIO, b"\1\0\0\0")
            out("made fd 1020 non-blocking with ioctl FIONBIO")
            n = 0
            try:
                while n < (8 << 20):
                    n += os.write(FD, b"x" * 4096)
            except OSError as e:
                out("filled fd 1020 with %d bytes (errno %s)" % (n, ename(e)))
        except OSError as e:
            out("DENIED ioctl FIONBIO on fd 1020: errno %s" % ename(e))
elif V == "flood_1mib":
    n = 0
    while n < (1 << 20) + (100 << 10):
        n += os.write(FD, b"J" * 4096)
    out("wrote %d bytes of junk to fd 1020" % n)
elif V == "flood_thread":
    def junk():
        while True:
            try:
                os.write(FD, b"J" * 1000)
            except OSError:
                return
    for _ in range(2):
        threading.Thread(target=junk, daemon=True).start()
elif V == "fake_lines":
    for _ in range(300):
        nonce = secrets.token_hex(16).encode()
        forge(FD, nonce, b" ")
        forge(FD, nonce, b"M")
    out("sent forged lines under 300 guessed secrets")
elif V == "scm_rights":
    try:
        s = sock()
        pipes = [os.pipe() for _ in range(60)]
        fds = [fd for p in pipes for fd in p]
        sent = 0
        for _ in range(400):
            try:
                s.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                    b"".join(fd.to_bytes(4, "little") for fd in fds))])
                sent += 1
            except OSError as e:
                out("sendmsg stopped after %d messages: errno %s" % (sent, ename(e)))
                break
        out("sent %d descriptors to the other end of fd 1020" % (sent * len(fds)))
    except OSError as e:
        out("SCM_RIGHTS refused: errno %s" % ename(e))


def after_module():
    """Exits 0 as soon as the main module's frames are gone from the main thread."""
    while True:
        time.sleep(0.0005)
        f = sys._current_frames().get(MAIN)
        while f is not None and not (f.f_code.co_filename == MYFILE or f.f_code.co_name in ("<module>", "check")):
            f = f.f_back
        if f is None:
            os._exit(0)


atexit.register(os._exit, 0)


def add_mod(a, b, m):
    threading.Thread(target=after_module, daemon=True).start()
    raise EvilError("wrong on purpose")


if RUN:
    assert add_mod(2, 3, 7) == 5
