"""Starts threads (default 8 MiB stacks) until it cannot start more, holding
them all: each stack must count against the memory limit."""
import threading

ev = threading.Event()
n = 0
try:
    while n < 10000:
        threading.Thread(target=ev.wait, daemon=True).start()
        n += 1
except (RuntimeError, MemoryError) as e:
    print("stopped after", n, "threads:", type(e).__name__, e, flush=True)
print("THREADS", n, flush=True)
ev.set()
