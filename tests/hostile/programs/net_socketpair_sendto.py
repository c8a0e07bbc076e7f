"""socket() is refused, but socketpair() is allowed for asyncio. A datagram
(or seqpacket) pair would take a destination address and reach the host's
Unix sockets, so only AF_UNIX stream pairs may be made: asks for datagram
and seqpacket pairs (also with SOCK_NONBLOCK|SOCK_CLOEXEC, which a filter
comparing the whole type must mask), and where one is made, sends to the
runner's pathname and abstract datagram sockets with sendto() and sendmsg().
Then sends to the pathname socket from a stream pair, which must refuse a
destination. A stream pair must work (asyncio needs it)."""
import socket
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
FLAGS = socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC
for name, kind in (("SOCK_DGRAM", socket.SOCK_DGRAM), ("SOCK_DGRAM|flags", socket.SOCK_DGRAM | FLAGS),
                   ("SOCK_SEQPACKET", socket.SOCK_SEQPACKET), ("SOCK_SEQPACKET|flags", socket.SOCK_SEQPACKET | FLAGS)):
    try:
        a, b = socket.socketpair(socket.AF_UNIX, kind)
    except OSError as e:
        print("DENIED socketpair %s: %s" % (name, e), flush=True)
        continue
    print("made a %s socketpair" % name, flush=True)
    for what, addr in (("pathname", A["unix_dgram"]), ("abstract", "\0" + A["unix_abstract"])):
        try:
            a.sendto(b"ESCAPED sendto from a socketpair", addr)
            print("ESCAPED sendto reached the %s socket from a %s pair" % (what, name), flush=True)
        except OSError as e:
            print("DENIED sendto %s from a %s pair: %s" % (what, name, e), flush=True)
        try:
            a.sendmsg([b"ESCAPED sendmsg from a socketpair"], [], 0, addr)
            print("ESCAPED sendmsg reached the %s socket from a %s pair" % (what, name), flush=True)
        except OSError as e:
            print("DENIED sendmsg %s from a %s pair: %s" % (what, name, e), flush=True)
for name, kind in (("", socket.SOCK_STREAM), (" with flags", socket.SOCK_STREAM | FLAGS)):
    c, d = socket.socketpair(socket.AF_UNIX, kind)
    c.setblocking(True)
    d.setblocking(True)
    c.sendall(b"ping")
    print("stream pair%s works: %r" % (name, d.recv(4)), flush=True)
    try:
        c.sendto(b"ESCAPED stream", A["unix_dgram"])
        print("ESCAPED stream socketpair sendto", flush=True)
    except OSError as e:
        print("DENIED stream socketpair%s sendto: %s" % (name, e), flush=True)
