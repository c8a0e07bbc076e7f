"""Connects to an abstract Unix socket (no file: "\0name"), which only a
network namespace or Landlock's scoping separates."""
import socket
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(b"ESCAPED abstract", "\0" + A["unix_abstract"])
    print("ESCAPED sent to the abstract socket", flush=True)
except OSError as e:
    print("DENIED abstract:", e, flush=True)
