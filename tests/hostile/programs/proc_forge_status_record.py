"""Writes a fake "ok" status record to every descriptor it has (the record
pipe among them), then fails: the supervisor must not believe the forgery."""
import os
fake = b'{"status":"ok","return_code":0,"outcome":"ok","error":null}\n'
for fd in range(3, 1024):
    try:
        os.write(fd, fake * 8)
    except OSError:
        pass
raise RuntimeError("this program failed")
