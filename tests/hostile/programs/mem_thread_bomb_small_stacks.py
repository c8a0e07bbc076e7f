"""Thread bomb with the smallest stacks (threading.stack_size(32 KiB)):
thousands of non-daemon threads that never end, each one a kernel task. The
memory limit bounds their number; the wall-clock limit ends them."""
import threading

threading.stack_size(32768)
ev = threading.Event()
n = 0
try:
    while n < 20000:
        threading.Thread(target=ev.wait).start()
        n += 1
        if n % 500 == 0:
            print("THREADS", n, flush=True)
except (RuntimeError, MemoryError) as e:
    print("stopped:", type(e).__name__, flush=True)
print("THREADS", n, flush=True)
