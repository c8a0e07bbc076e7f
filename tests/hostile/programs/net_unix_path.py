"""Connects to a daemon's Unix socket (the runner's stream socket in a world-
accessible dir), the way a job would reach docker.sock or the D-Bus."""
import socket
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
for kind in (socket.SOCK_STREAM, socket.SOCK_SEQPACKET):
    try:
        s = socket.socket(socket.AF_UNIX, kind)
        s.settimeout(1)
        s.connect(A["unix_stream"])
        s.sendall(b"ESCAPED")
        print("ESCAPED connected to the daemon's socket", flush=True)
    except OSError as e:
        print("DENIED unix %s: %s" % (kind, e), flush=True)
try:
    d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    d.sendto(b"ESCAPED dgram socket()", A["unix_dgram"])
    print("ESCAPED sent a datagram with socket()", flush=True)
except OSError as e:
    print("DENIED unix dgram socket():", e, flush=True)
