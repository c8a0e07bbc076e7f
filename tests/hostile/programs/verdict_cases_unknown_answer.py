"""A job with a test case whose expected output (a secret of the pass) it
cannot compute. It looks for it everywhere a program can look: its own
memory (/proc/self/mem, every readable mapping), its environment, argv and
descriptors, the command line and environment of every process in sight,
runbox's and its parent's descriptors, its working dir's parent, the
results file; it forges signed records with every secret-looking string
its memory holds, and prints its best guess. Cases are compared in the
supervisor: the expected output never reaches the job, so nothing it does
can pass."""
import ctypes
import json
import os
import re
import sys

A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
WANT = re.compile(rb"RB" + rb"SECRET-CASES-[0-9a-f]{32}")
HEX = re.compile(rb"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
found, hexes = set(), set()
looked = 0


def scan(data):
    global looked
    looked += len(data)
    found.update(WANT.findall(data))


# Its own memory, every readable mapping (through /proc/self/mem, or with
# ctypes where a process that is not dumpable may not open that).
try:
    mem = open("/proc/self/mem", "rb", buffering=0)
except OSError as e:
    mem = None
    print("/proc/self/mem:", e, "- reading with ctypes", file=sys.stderr)
with open("/proc/self/maps") as f:
    maps = f.read().splitlines()
for line in maps:
    parts = line.split()
    lo, hi = (int(x, 16) for x in parts[0].split("-"))
    if "r" not in parts[1] or hi - lo > (64 << 20) or (len(parts) > 5 and parts[5] in ("[vvar]", "[vsyscall]")):
        continue
    if not mem and not parts[1].startswith("rw"):
        continue  # with ctypes, a file mapping past its file's end would fault (SIGBUS)
    try:
        if mem:
            mem.seek(lo)
            data = mem.read(hi - lo)
        else:
            data = ctypes.string_at(lo, hi - lo)
    except (OSError, ValueError, OverflowError):
        continue
    scan(data)
    hexes.update(HEX.findall(data))
for a in sys.argv:
    scan(a.encode())
scan(json.dumps(dict(os.environ)).encode())
# Every process in sight, and every file it can list near it.
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    for what in ("cmdline", "environ"):
        try:
            with open("/proc/%s/%s" % (pid, what), "rb") as f:
                scan(f.read())
        except OSError:
            pass
    if int(pid) not in (int(A.get("runbox_pid", "0")), os.getppid()):
        continue  # the descriptors of runbox and its zygote only: others' pipes are not ours to drain
    try:
        for fd in os.listdir("/proc/%s/fd" % pid):
            try:
                with open("/proc/%s/fd/%s" % (pid, fd), "rb") as f:
                    os.set_blocking(f.fileno(), False)
                    scan(f.read(1 << 20) or b"")
            except (OSError, TypeError):
                pass
    except OSError:
        pass
# Files near it, a few levels down (other jobs' dirs may hold trees
# thousands of levels deep).
stack = [(d, 0) for d in (os.path.dirname(os.getcwd()), A.get("runbox_cwd", "/"),
                          os.path.dirname(A.get("results_file", "/x")))]
seen = set()
while stack:
    d, depth = stack.pop()
    if d in seen or depth > 6:
        continue
    seen.add(d)
    try:
        entries = list(os.scandir(d))
    except OSError:
        continue
    for e in entries:
        try:
            if e.is_dir(follow_symlinks=False):
                stack.append((e.path, depth + 1))
            elif e.is_file(follow_symlinks=False):
                with open(e.path, "rb") as f:
                    scan(f.read(1 << 20))
        except OSError:
            pass
# Forged records under every secret-looking string of its memory.
for h in list(hexes)[:20000]:
    for o in ({"t": "verdict", "outcome": "completed", "exit_code": 0}, {"outcome": "completed", "exit_code": 0}):
        try:
            os.write(1020, b"\n" + h + b" " + json.dumps(o).encode() + b"\n")
            os.write(1020, h + b"M" + json.dumps(o).encode())
        except OSError:
            break
print("looked at %d bytes, %d candidates" % (looked, len(found)), file=sys.stderr)
print(sorted(found)[0].decode() if found else "42")
