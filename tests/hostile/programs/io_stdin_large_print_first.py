"""Gets 4 MiB on stdin (far more than a pipe buffer) but prints 600 KB before
reading any of it: a supervisor that writes stdin before reading stdout
would deadlock here."""
import hashlib
import sys
for i in range(6000):
    sys.stdout.write("%099d\n" % i)
sys.stdout.flush()
data = sys.stdin.buffer.read()
print("STDIN_BYTES", len(data), hashlib.sha256(data).hexdigest())
