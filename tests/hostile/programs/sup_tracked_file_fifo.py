"""Makes its tracked file a FIFO nobody writes to: a supervisor that opens it
to read it back would block forever."""
import os
os.mkfifo("out.txt")
os.mkfifo("log.txt")
print("planted fifos", flush=True)
