"""Fills the disk: first a file past the 64 MiB file-size limit, then 64 MiB
files one after another (stopping at 512 MiB so as not to hurt the test
machine; the time limit usually stops it first)."""
import os
chunk = b"\0" * (1 << 20)
try:
    with open("big", "wb") as f:
        for i in range(80):
            f.write(chunk)
    print("ESCAPED wrote an 80 MiB file", flush=True)
except OSError as e:
    print("DENIED file past 64 MiB:", e, flush=True)
os.unlink("big")
mib = 0
try:
    for n in range(8):
        with open("fill%d" % n, "wb") as f:
            for i in range(64):
                f.write(chunk)
                mib += 1
        print("FILLED_MIB", mib, flush=True)
except OSError as e:
    print("stopped:", e, flush=True)
