"""Replaces itself with a shell via os.execv, and tries os.execve of python3."""
import os
for path, argv in (("/bin/sh", ["sh", "-c", "echo ESCAPED exec"]),
                   ("/usr/bin/python3", ["python3", "-c", "print('ESCAPED exec python')"])):
    try:
        os.execv(path, argv)
    except OSError as e:
        print("DENIED exec %s: %s" % (path, e), flush=True)
