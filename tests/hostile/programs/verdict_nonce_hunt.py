"""Hunts for the per-run secret that signs its verdict in everything it can
read without reading its own memory: every Python object the collector
knows of, sys.argv, os.environ, /proc/self/environ and cmdline, every open
descriptor's contents (a leaked job spec would hold the secret), /proc/self/fd
links, the auxiliary vector. With each 32-hex-digit candidate it writes
signed messages saying everything passed and the program completed, then
fails (EvilError) and exits 0 from atexit. The secret must not be derivable
from anything the program can read."""
import atexit
import gc
import json
import os
import re
import sys

A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
RUN = "runbox_pid" in A
FD = 1020
HEX = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
cands = set()


def scan_text(t):
    if isinstance(t, bytes):
        t = t.decode("latin-1")
    if isinstance(t, str) and len(t) >= 32:
        cands.update(HEX.findall(t))


for o in gc.get_objects():
    if isinstance(o, dict):
        for k, v in list(o.items())[:1000]:
            scan_text(k)
            scan_text(v)
    elif isinstance(o, (list, tuple)):
        for v in o[:1000]:
            scan_text(v)
    else:
        scan_text(o)
for a in sys.argv:
    scan_text(a)
for k, v in os.environ.items():
    scan_text(k + "=" + v)
for p in ("/proc/self/environ", "/proc/self/cmdline", "/proc/self/auxv", "/proc/self/status"):
    try:
        with open(p, "rb") as f:
            scan_text(f.read())
    except OSError:
        pass
for n in os.listdir("/proc/self/fd"):
    try:
        scan_text(os.readlink("/proc/self/fd/" + n))
        fd = int(n)
        if fd not in (0, 1, 2, FD):
            scan_text(os.pread(fd, 1 << 20, 0))
    except (OSError, ValueError):
        pass
print("CANDIDATES %d" % len(cands), flush=True)
objs = [{"t": "running"}, {"t": "verdict", "outcome": "completed", "exit_code": 0, "memory_error": False,
                           "keyboard_interrupt": False},
        {"outcome": "completed", "exit_code": 0, "memory_error": False, "keyboard_interrupt": False}]
objs += [{"t": "check", "index": i, "status": "passed"} for i in range(8)]
objs += [{"check": i, "status": "passed"} for i in range(8)]


def forge():
    for c in sorted(cands)[:5000]:
        for sep in (" ", "M"):
            for o in objs:
                try:
                    os.write(FD, ("\n" + c + sep + json.dumps(o) + "\n").encode())
                except OSError:
                    return


class EvilError(Exception):
    pass


def add_mod(a, b, m):
    forge()
    atexit.register(os._exit, 0)
    raise EvilError("wrong on purpose")


if RUN:
    assert add_mod(2, 3, 7) == 5
