"""Scans every process it can see for secrets: /proc/*/mem (every readable
mapping), environ, cmdline and the descriptors under fd/, looking for the
pattern of the secret holder's data (another job) and of the runner's
bystander (an ordinary process of uid 65534 outside any sandbox, holding a
secret in memory only). A process of the job's own uid is the documented
exposure of running without root and without Landlock ("GAP shared-uid");
one of another uid is an escape."""
import os
import re
import time

PATTERN = re.compile(rb"RB" + rb"SECRET-[A-Z]+-[0-9a-f]{32}")
me = os.getpid()
uid = os.getuid()
seen = readable_mem = 0
found = set()


def scan(pid, owner, what, data):
    for m in PATTERN.findall(data):
        if m not in found:
            found.add(m)
            how = "GAP shared-uid" if owner == uid else "ESCAPED (uid %d's)" % owner
            print("%s found %r in %s of pid %d" % (how, m[:24] + b"...", what, pid), flush=True)


time.sleep(0.3)  # the holder starts first; give it a moment to read its stdin
for name in os.listdir("/proc"):
    if not name.isdigit() or int(name) == me:
        continue
    pid = int(name)
    base = "/proc/%d" % pid
    try:
        owner = os.stat(base).st_uid
    except OSError:
        continue
    seen += 1
    for what in ("environ", "cmdline"):
        try:
            with open("%s/%s" % (base, what), "rb") as f:
                scan(pid, owner, what, f.read())
        except OSError:
            pass
    try:
        for fd in os.listdir(base + "/fd"):
            try:
                fdp = "%s/fd/%s" % (base, fd)
                fdfd = os.open(fdp, os.O_RDONLY | os.O_NONBLOCK)
                scan(pid, owner, "fd " + fd, os.read(fdfd, 1 << 16))
                os.close(fdfd)
            except OSError:
                pass
    except OSError:
        pass
    try:
        with open(base + "/maps") as f:
            maps = f.read().splitlines()
        with open(base + "/mem", "rb", buffering=0) as mem:
            readable_mem += 1
            for line in maps:
                parts = line.split()
                if "r" not in parts[1]:
                    continue
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                if hi - lo > 256 << 20:
                    continue
                try:
                    mem.seek(lo)
                    scan(pid, owner, "mem", mem.read(hi - lo))
                except (OSError, ValueError, OverflowError):
                    pass
    except OSError:
        pass
print("SCANNED %d processes, memory of %d readable, %d secrets found" % (seen, readable_mem, len(found)), flush=True)
