"""Forks once; the child would announce itself and linger."""
import os
import time
try:
    pid = os.fork()
except OSError as e:
    print("DENIED fork:", e, flush=True)
else:
    if pid == 0:
        print("ESCAPED child process running", flush=True)
        time.sleep(30)
        os._exit(0)
    print("ESCAPED forked child", pid, flush=True)
