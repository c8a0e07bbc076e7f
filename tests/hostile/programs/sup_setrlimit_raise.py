"""Raises every resource limit it can (soft to hard, hard to infinity), then
allocates 1 GiB and opens 4096 files."""
import resource
raised = []


def inf(v):
    return float("inf") if v == resource.RLIM_INFINITY else v


for name in dir(resource):
    if not name.startswith("RLIMIT_"):
        continue
    which = getattr(resource, name)
    soft, hard = resource.getrlimit(which)
    for new in ((resource.RLIM_INFINITY, resource.RLIM_INFINITY), (hard, hard)):
        try:
            resource.setrlimit(which, new)
        except (ValueError, OSError):
            continue
        s2, h2 = resource.getrlimit(which)
        if inf(h2) > inf(hard):
            print("ESCAPED raised the hard limit of %s from %s to %s" % (name, hard, h2), flush=True)
        raised.append(name)
        break
print("soft limits raised to hard:", raised, flush=True)
try:
    big = bytearray(1 << 30)
    print("ESCAPED allocated 1 GiB", flush=True)
except MemoryError:
    print("DENIED 1 GiB allocation", flush=True)
files = []
try:
    for i in range(4096):
        files.append(open("/dev/null"))
    print("ESCAPED opened 4096 files", flush=True)
except OSError as e:
    print("DENIED file %d: %s" % (len(files), e), flush=True)
