"""Opens /proc/<pid>/mem of the runner's bystander (an ordinary, dumpable
process of uid 65534 outside any sandbox, holding a secret at an address the
runner passes in), reads the secret and overwrites it. Writing another
process's memory is running code as that process, outside seccomp. A
bystander of the job's own uid is the documented exposure of running without
root and without Landlock ("GAP shared-uid"); of another uid, an escape."""
import os
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
pid, addr, n = int(A["bystander_pid"]), int(A["bystander_addr"]), int(A["bystander_len"])
base = "/proc/%d" % pid
try:
    owner = os.stat(base).st_uid
    with open(base + "/comm") as f:
        comm = f.read().strip()
    print("the bystander's pid %d is visible (%s, uid %d)" % (pid, comm, owner), flush=True)
except OSError as e:
    print("DENIED the bystander is not visible:", e, flush=True)
    sys.exit(0)
how = "GAP shared-uid" if owner == os.getuid() else "ESCAPED (uid %d's)" % owner
try:
    with open(base + "/mem", "rb", buffering=0) as m:
        m.seek(addr)
        data = m.read(n)
    print("%s read the bystander's memory: %r" % (how, data[:24] + b"..."), flush=True)
except (OSError, ValueError, OverflowError) as e:
    print("DENIED reading the bystander's memory:", e, flush=True)
try:
    with open(base + "/mem", "r+b", buffering=0) as m:
        m.seek(addr)
        m.write(b"RBOVERWRITTEN-BY-A-JOB".ljust(n, b"!"))
    print("%s wrote the bystander's memory" % how, flush=True)
except (OSError, ValueError, OverflowError) as e:
    print("DENIED writing the bystander's memory:", e, flush=True)
