"""Connects to the TCP server the runner listens with on 127.0.0.1 (and
tries a UDP datagram to it): the server must see nothing at all."""
import socket
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
port = int(A["tcp_port"])
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=1)
    s.sendall(b"ESCAPED hello from a job\n")
    print("ESCAPED connected to 127.0.0.1:%d" % port, flush=True)
except OSError as e:
    print("DENIED tcp:", e, flush=True)
try:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"ESCAPED udp", ("127.0.0.1", port))
    print("ESCAPED sent a UDP datagram", flush=True)
except OSError as e:
    print("DENIED udp:", e, flush=True)
