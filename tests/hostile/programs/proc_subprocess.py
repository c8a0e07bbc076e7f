"""Runs a shell through subprocess, which would print the marker."""
import subprocess
try:
    out = subprocess.run(["/bin/sh", "-c", "echo ESCAPED shell ran; id"], capture_output=True)
    print(out.stdout.decode(), flush=True)
except OSError as e:
    print("DENIED subprocess:", type(e).__name__, e, flush=True)
