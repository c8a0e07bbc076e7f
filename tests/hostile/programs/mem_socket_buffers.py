"""Holds kernel memory outside its memory limit in socket buffers (issue
11, class 10): Unix stream socketpairs (the one kind a job may make), each
end's send and receive buffers raised with SO_SNDBUF, SO_RCVBUF and their
FORCE variants, then both directions filled. It stops at 128 MiB; more
than 64 MiB held is an escape."""
import errno
import socket

CAP = 128 << 20
held, pairs = 0, []
denied = {}
chunk = b"S" * (1 << 16)
opts = [("SO_SNDBUF", socket.SO_SNDBUF), ("SO_RCVBUF", socket.SO_RCVBUF),
        ("SO_SNDBUFFORCE", getattr(socket, "SO_SNDBUFFORCE", 32)),
        ("SO_RCVBUFFORCE", getattr(socket, "SO_RCVBUFFORCE", 33))]
while held < CAP:
    try:
        a, b = socket.socketpair()
    except OSError as e:
        print("stopped after %d pairs: %s" % (len(pairs), e), flush=True)
        break
    pairs.append((a, b))
    for s in (a, b):
        for name, opt in opts:
            try:
                s.setsockopt(socket.SOL_SOCKET, opt, 64 << 20)
            except OSError as e:
                denied.setdefault(name, errno.errorcode.get(e.errno, str(e.errno)))
        s.setblocking(False)
    for s in (a, b):
        try:
            while held < CAP:
                held += s.send(chunk)
        except (BlockingIOError, OSError):
            pass
for name, _ in opts:
    if name in denied:
        print("DENIED %s: errno %s" % (name, denied[name]), flush=True)
    else:
        print("%s allowed" % name, flush=True)
mib = held >> 20
print("KERNEL_MIB %d in %d socketpairs" % (mib, len(pairs)), flush=True)
if mib > 64:
    print("ESCAPED held %d MiB of socket buffers, outside the memory limit" % mib, flush=True)
