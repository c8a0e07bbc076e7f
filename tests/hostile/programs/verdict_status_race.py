"""The status-channel race (issue 11, class 1). Its add_mod is wrong on
purpose, so its checks fail. Meanwhile threads wait on every handle of its
status channel it can get (fd 1020 itself, and the channel reopened through
/proc/self/fd and /proc/thread-self/fd); one that wins the worker's first
signed message learns the per-run secret and writes signed messages ahead of
the worker, in whatever framing it saw: set-up over, every check passed, the
program completed with exit code 0; then it exits 0. An atexit handler that
sleeps gives the threads time. Run as many jobs and eval samples: it must
never pass, never be `ok`."""
import atexit
import ctypes
import json
import os
import re
import sys
import threading
import time

FD = 1020
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
RUN = "runbox_pid" in A  # a job of runbox run; otherwise an eval sample, its checks after this code


def add_mod(a, b, m):
    time.sleep(0.002)  # slow checks: more time for the threads between two of the worker's messages
    return 0  # wrong on purpose


SIGNED = re.compile(rb"([0-9a-f]{32})(.?)\{")


def forgeries(nonce, sep):
    """What the worker would say if everything had passed, old and new words."""
    objs = [{"t": "running"}]
    for i in range(16):
        objs += [{"t": "check", "index": i, "status": "passed"}, {"check": i, "status": "passed"}]
    objs += [{"t": "verdict", "outcome": "completed", "exit_code": 0, "memory_error": False,
              "keyboard_interrupt": False},
             {"outcome": "completed", "exit_code": 0, "memory_error": False, "keyboard_interrupt": False}]
    return [nonce + sep + json.dumps(o, separators=(",", ":")).encode() for o in objs]


handles = []
for path in ("/proc/self/fd/%d" % FD, "/proc/thread-self/fd/%d" % FD):
    for flags in (os.O_RDWR, os.O_RDONLY):
        try:
            handles.append(os.open(path, flags | os.O_CLOEXEC))
        except OSError:
            pass
won = threading.Lock()
# Threads that cost little of the memory limit: small stacks, and one malloc
# arena for all (glibc reserves 64 MiB of address space per thread arena).
ctypes.CDLL(None).mallopt(-8, 1)  # M_ARENA_MAX
threading.stack_size(256 << 10)


def reader(fd):
    buf = b""
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError:
            return
        if not chunk:
            return
        if won.locked():
            # Another thread won: what this one read is the winner's forgery
            # (or the worker's words); it goes back for the supervisor.
            try:
                os.write(fd, chunk)
            except OSError:
                pass
            return
        buf += chunk
        m = SIGNED.search(buf)
        if not m or not won.acquire(blocking=False):
            continue
        lines = forgeries(m.group(1), m.group(2))
        blob = b"\n" + b"\n".join(lines) + b"\n"
        for w in [FD] + handles:
            for data in [blob] + lines:  # one write for a pipe, one message each for a socket
                try:
                    os.write(w, data)
                except OSError:
                    break
        os.write(1, b"ESCAPED stole a signed message from the status channel and wrote forged ones\n")
        time.sleep(0.02)  # the other threads put back what they take of it
        os._exit(0)


for h in [FD] + handles * 3:
    threading.Thread(target=reader, args=(h,), daemon=True).start()
atexit.register(time.sleep, 0.05)
time.sleep(0.005)
print("waiting on %d handles" % (1 + len(handles)), flush=True)
if RUN:
    assert add_mod(2, 3, 7) == 5, "add_mod is wrong on purpose"
