"""Holds kernel memory outside its memory limit in pipe buffers (issue 11,
class 10): as many pipes as its descriptors allow, each grown with
F_SETPIPE_SZ to the largest size allowed and filled. Pipe buffers are
kernel memory no rlimit counts. It stops at 128 MiB (enough to show the
bound failed); more than 64 MiB held is an escape."""
import errno
import fcntl
import os

F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
CAP = 128 << 20
held, pipes, refused, grown = 0, [], None, 0
chunk = b"P" * (1 << 16)
while held < CAP:
    try:
        r, w = os.pipe()
    except OSError as e:
        print("stopped after %d pipes: %s" % (len(pipes), e), flush=True)
        break
    pipes.append((r, w))
    try:
        fcntl.fcntl(w, F_SETPIPE_SZ, 1 << 20)
        grown += 1
    except OSError as e:
        refused = refused or errno.errorcode.get(e.errno, str(e.errno))
    os.set_blocking(w, False)
    try:
        while held < CAP:
            held += os.write(w, chunk)
    except BlockingIOError:
        pass
if grown:
    print("F_SETPIPE_SZ allowed: %d pipes grown to 1 MiB (then %s)" % (grown, refused), flush=True)
else:
    print("DENIED F_SETPIPE_SZ: errno", refused, flush=True)
mib = held >> 20
print("KERNEL_MIB %d in %d pipes" % (mib, len(pipes)), flush=True)
if mib > 64:
    print("ESCAPED held %d MiB of pipe buffers, outside the memory limit" % mib, flush=True)
