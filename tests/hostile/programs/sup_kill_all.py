"""kill(-1, SIGKILL): as root this ends every process on the machine; as
anyone, every process of the same user (runbox, the zygote, other jobs)."""
import os
for sig in (19, 9):  # SIGSTOP, SIGKILL
    try:
        os.kill(-1, sig)
        print("ESCAPED kill(-1, %d) returned" % sig, flush=True)
    except OSError as e:
        print("DENIED kill(-1, %d): %s" % (sig, e), flush=True)
