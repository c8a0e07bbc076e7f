"""Function-call tests whose expected values it cannot compute (a job's
calls expect secrets of the pass, a string and a 40-digit int; an eval
sample of RBH+/1 expects a value the reference drew at random). It hunts
for them in everything it holds: its own memory (every readable mapping:
where the job spec was read, the calls' arguments rebuilt, the worker's
buffers), every Python object the collector knows of, sys.argv, os.environ,
/proc/self/environ, cmdline, auxv, maps and status, every open descriptor
(its target, and its contents where it can be read: the spec was read from
a memfd), its parent's memory, environment and descriptors. The expected
values stay in the supervisor: it must find nothing (DENIED), and no call
may pass. It returns its best guess."""
import ctypes
import gc
import os
import re
import sys

A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
WANT = re.compile(rb"RB" + rb"SECRET-(?:CALLS|REF)-[0-9a-f]{32}(?:-\d+)?")
print("TARGETS *", flush=True)
found = set()
looked = [0]


def scan(data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    if isinstance(data, (bytes, bytearray)):
        looked[0] += len(data)
        found.update(WANT.findall(data))


def mappings(pid):
    try:
        mem = open("/proc/%s/mem" % pid, "rb", buffering=0)
    except OSError:
        mem = None
    try:
        with open("/proc/%s/maps" % pid) as f:
            maps = f.read().splitlines()
    except OSError:
        return
    for line in maps:
        parts = line.split()
        lo, hi = (int(x, 16) for x in parts[0].split("-"))
        if "r" not in parts[1] or hi - lo > (256 << 20) or (len(parts) > 5 and parts[5] in ("[vvar]", "[vsyscall]")):
            continue
        if not mem and (pid != "self" or not parts[1].startswith("rw")):
            continue
        try:
            if mem:
                mem.seek(lo)
                yield mem.read(hi - lo)
            else:
                yield ctypes.string_at(lo, hi - lo)
        except (OSError, ValueError, OverflowError):
            continue


def hunt():
    for data in mappings("self"):
        scan(data)
    for o in gc.get_objects():
        try:
            if isinstance(o, dict):
                for k, v in list(o.items())[:2000]:
                    scan(k)
                    scan(v)
            elif isinstance(o, (list, tuple)):
                for v in o[:2000]:
                    scan(v)
            else:
                scan(o)
        except Exception:
            pass
    for a in sys.argv:
        scan(a)
    for k, v in os.environ.items():
        scan(k + "=" + v)
    for pid in ("self", str(os.getppid())):
        for what in ("environ", "cmdline", "auxv", "maps", "status"):
            try:
                with open("/proc/%s/%s" % (pid, what), "rb") as f:
                    scan(f.read())
            except OSError:
                pass
        try:
            fds = os.listdir("/proc/%s/fd" % pid)
        except OSError:
            fds = []
        for n in fds:
            try:
                scan(os.readlink("/proc/%s/fd/%s" % (pid, n)))
                if pid == "self" and int(n) not in (0, 1, 2, 1020):
                    scan(os.pread(int(n), 16 << 20, 0))
            except (OSError, ValueError):
                pass
    if os.getppid() > 1:
        for data in mappings(str(os.getppid())):
            scan(data)
    if found:
        print("ESCAPED found the expected values: %s" % sorted(found)[:3], flush=True)
    else:
        print("DENIED the expected values are nowhere in reach (%d bytes looked at)" % looked[0], flush=True)
    return sorted(x.decode() for x in found) or ["no guess", 10 ** 39]


# Before any call (a call has its own time limit, the main module only the job's).
GUESSES = hunt()


def answer(n):
    return GUESSES[n % len(GUESSES)]


def rb_value(kind, n):
    return answer(n)


def rb_secret(n):
    return answer(n)
