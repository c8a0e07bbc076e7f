"""Name lookups and HTTP, the way ordinary code reaches the network: urllib
fetching http://127.0.0.1:PORT/ and http://[::1]:PORT/ (the runner's
servers), socket.create_connection by name ("localhost"), and a DNS query to
a resolver it names itself (the runner's UDP server). Name resolution is only
ever of "localhost": a lookup of any other name would go to the machine's
resolver, which is off limits even for a broken sandbox."""
import http.client
import socket
import sys
import urllib.request
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
tcp, tcp6, udp = int(A["tcp_port"]), int(A["tcp6_port"]), int(A["udp_port"])
try:
    infos = socket.getaddrinfo("localhost", tcp, type=socket.SOCK_STREAM)
    print("getaddrinfo localhost:", sorted({i[4][0] for i in infos}), flush=True)
except OSError as e:
    print("getaddrinfo localhost failed:", e, flush=True)
for url in ("http://127.0.0.1:%d/rbhostile" % tcp, "http://[::1]:%d/rbhostile" % tcp6):
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            print("ESCAPED fetched %s: %r" % (url, r.read(100)), flush=True)
    except Exception as e:  # URLError wraps the OSError
        print("DENIED urlopen %s: %s: %s" % (url, type(e).__name__, e), flush=True)
try:
    c = http.client.HTTPConnection("127.0.0.1", tcp, timeout=1)
    c.request("GET", "/rbhostile")
    print("ESCAPED http.client got", c.getresponse().status, flush=True)
except OSError as e:
    print("DENIED http.client:", e, flush=True)
try:
    s = socket.create_connection(("localhost", tcp), timeout=1)
    s.sendall(b"ESCAPED by name\n")
    print("ESCAPED create_connection(localhost)", flush=True)
except OSError as e:
    print("DENIED create_connection(localhost):", e, flush=True)
query = b"\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01"
try:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(1)
    u.sendto(query, ("127.0.0.1", udp))
    print("ESCAPED DNS query sent; answer %r" % (u.recv(512)[:40],), flush=True)
except OSError as e:
    print("DENIED dns:", e, flush=True)
