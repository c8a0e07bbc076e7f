"""Floods stderr without newlines, through the text layer and raw writes."""
import os
import sys
while True:
    sys.stderr.write("z" * 4096)
    os.write(2, b"Z" * 65536)
