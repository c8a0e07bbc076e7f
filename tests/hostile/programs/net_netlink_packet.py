"""Raw and kernel sockets: AF_NETLINK (route, audit, uevents), AF_PACKET
(raw frames) and a raw ICMP socket."""
import socket
for name, fam, kind, proto in (("netlink route", socket.AF_NETLINK, socket.SOCK_RAW, 0),
                               ("netlink uevent", socket.AF_NETLINK, socket.SOCK_DGRAM, 15),
                               ("packet", socket.AF_PACKET, socket.SOCK_RAW, 0x0300),
                               ("raw icmp", socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP),
                               ("icmp ping", socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)):
    try:
        s = socket.socket(fam, kind, proto)
        print("ESCAPED opened a %s socket" % name, flush=True)
    except OSError as e:
        print("DENIED %s: %s" % (name, e), flush=True)
