"""Prints, then leaves a non-daemon thread that never ends: the interpreter
waits for it at exit forever. Output printed before must be kept."""
import threading
import time
print("BEFORE-THREAD")
threading.Thread(target=lambda: time.sleep(3600)).start()
