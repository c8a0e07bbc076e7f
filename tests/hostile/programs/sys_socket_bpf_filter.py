"""Reaches the kernel's BPF interpreter and JIT through sockets instead of
bpf() (issue 11, class 13): attaches a classic BPF program to a socketpair
with SO_ATTACH_FILTER (through Python's setsockopt, through libc and
through the raw system call), and tries SO_ATTACH_BPF,
SO_ATTACH_REUSEPORT_CBPF and _EBPF, SO_LOCK_FILTER and SO_DETACH_FILTER,
on a socketpair and on its own status channel. All must be refused."""
import ctypes
import errno
import platform
import socket
import struct

libc = ctypes.CDLL(None, use_errno=True)
SOL_SOCKET = socket.SOL_SOCKET
OPTS = {"SO_ATTACH_FILTER": 26, "SO_DETACH_FILTER": 27, "SO_LOCK_FILTER": 44, "SO_ATTACH_BPF": 50,
        "SO_ATTACH_REUSEPORT_CBPF": 51, "SO_ATTACH_REUSEPORT_EBPF": 52}
# One instruction: "ret #0xffff" (accept).
insns = (ctypes.c_uint8 * 8)(*struct.pack("<HBBI", 0x06, 0, 0, 0xFFFF))
prog = struct.pack("<HxxxxxxQ", 1, ctypes.addressof(insns))
prog_c = ctypes.create_string_buffer(prog, len(prog))
attached = 0


def name(e):
    return errno.errorcode.get(e, str(e))


a, b = socket.socketpair()
targets = [("a socketpair", a.fileno()), ("fd 1020", 1020)]
for where, fd in targets:
    for opt, num in OPTS.items():
        if opt in ("SO_ATTACH_FILTER", "SO_ATTACH_REUSEPORT_CBPF"):
            val, ln = prog_c, len(prog)
        else:
            v = ctypes.c_int(1 if opt == "SO_LOCK_FILTER" else -1)
            val, ln = ctypes.byref(v), 4
        rc = libc.setsockopt(fd, SOL_SOCKET, num, val, ln)
        if rc == 0:
            if opt in ("SO_ATTACH_FILTER", "SO_ATTACH_REUSEPORT_CBPF"):
                attached += 1
                print("ESCAPED %s attached a classic BPF program to %s (libc)" % (opt, where), flush=True)
            else:
                print("%s accepted on %s" % (opt, where), flush=True)
        else:
            print("DENIED %s on %s: errno %s" % (opt, where, name(ctypes.get_errno())), flush=True)
try:
    a.setsockopt(SOL_SOCKET, OPTS["SO_ATTACH_FILTER"], prog)
    attached += 1
    print("ESCAPED SO_ATTACH_FILTER attached a classic BPF program (Python's setsockopt)", flush=True)
except OSError as e:
    print("DENIED SO_ATTACH_FILTER through Python: errno %s" % name(e.errno), flush=True)
if platform.machine() == "x86_64":
    rc = libc.syscall(54, b.fileno(), SOL_SOCKET, OPTS["SO_ATTACH_FILTER"], prog_c, len(prog))
    if rc == 0:
        attached += 1
        print("ESCAPED SO_ATTACH_FILTER attached a classic BPF program (raw setsockopt)", flush=True)
    else:
        print("DENIED SO_ATTACH_FILTER through the raw call: errno %s" % name(ctypes.get_errno()), flush=True)
a.send(b"ping")
print("ATTACHED %d" % attached, flush=True)
