"""IPv6 TCP to the runner's server on [::1], and UDP datagrams (a DNS query)
to the runner's server on 127.0.0.1. The runner's loopback servers stand in
for the outside world: a job in a network namespace cannot reach the host's
loopback either, and no address off this machine is ever a target."""
import socket
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
try:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.settimeout(1)
    s.connect(("::1", int(A["tcp6_port"])))
    s.sendall(b"ESCAPED tcp6\n")
    print("ESCAPED connected to [::1]:%s" % A["tcp6_port"], flush=True)
except OSError as e:
    print("DENIED tcp6:", e, flush=True)
query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x09rbhostile\x07invalid\x00\x00\x01\x00\x01"
for fam, addr in ((socket.AF_INET, ("127.0.0.1", int(A["udp_port"]))),
                  (socket.AF_INET6, ("::1", int(A["udp_port"])))):
    try:
        u = socket.socket(fam, socket.SOCK_DGRAM)
        u.sendto(query, addr)
        print("ESCAPED sent a DNS query to", addr[0], flush=True)
    except OSError as e:
        print("DENIED udp %s: %s" % (addr[0], e), flush=True)
