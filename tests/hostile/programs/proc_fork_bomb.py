"""A fork bomb: twenty thousand fork() calls in a tight loop. (A child that
ever appeared would report and leave at once, so that a broken sandbox shows
up in the record instead of taking the machine down.)"""
import os
refused = 0
for _ in range(20000):
    try:
        if os.fork() == 0:
            os.write(1, b"ESCAPED fork bomb child\n")
            os._exit(0)
    except OSError:
        refused += 1
print("DENIED %d forks refused" % refused, flush=True)
