"""The daemon recipe: fork, setsid, fork again, and live on in the
background after the job ends. Also tries setsid() and setpgid() directly."""
import os
import time
for name, call in (("setsid", os.setsid), ("setpgid", lambda: os.setpgid(0, 0))):
    try:
        call()
        print("%s succeeded" % name, flush=True)
    except OSError as e:
        print("DENIED %s: %s" % (name, e), flush=True)
try:
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            print("ESCAPED daemon alive", flush=True)
            time.sleep(60)
        os._exit(0)
    print("ESCAPED first fork worked", flush=True)
except OSError as e:
    print("DENIED fork:", e, flush=True)
