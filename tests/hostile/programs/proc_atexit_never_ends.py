"""Prints (without flushing), then registers an atexit handler that never
returns. Output printed before must be kept."""
import atexit
import time
print("BEFORE-ATEXIT")
atexit.register(lambda: time.sleep(3600))
