"""Stores 512 MiB (twice its memory limit) in memfd files: tmpfs pages in
memory that never enter the address space RLIMIT_AS counts. Repeated over
256 descriptors this would be 16 GiB of the host's RAM per job."""
import os

chunk = b"\x01" * (1 << 20)
fds, mib = [], 0
try:
    for i in range(8):
        fd = os.memfd_create("hold%d" % i)
        fds.append(fd)
        for _ in range(64):
            os.write(fd, chunk)
            mib += 1
except OSError as e:
    print("stopped:", e, flush=True)
print("MEMFD_MIB", mib, flush=True)
if mib > 300:
    print("ESCAPED memory limit: %d MiB held in memfds" % mib, flush=True)
else:
    print("DENIED memfd beyond the memory limit", flush=True)
