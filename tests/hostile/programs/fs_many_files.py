"""Creates 6000 empty files in 600 directories of its working dir (and leaves
them, for runbox to clean up)."""
import os
n = 0
try:
    for d in range(600):
        os.mkdir("d%d" % d)
    for i in range(6000):
        open("d%d/f%d" % (i % 600, i), "w").close()
        n += 1
        if n % 500 == 0:
            print("FILES", n, flush=True)
except OSError as e:
    print("stopped:", e, flush=True)
