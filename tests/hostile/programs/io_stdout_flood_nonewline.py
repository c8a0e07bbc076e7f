"""Floods stdout without a single newline, straight to the descriptor."""
import os
chunk = b"y" * 65536
while True:
    os.write(1, chunk)
