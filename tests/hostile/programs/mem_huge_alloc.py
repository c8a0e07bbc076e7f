"""Asks for 16 GiB in a single allocation."""
buf = bytearray(16 << 30)
print(len(buf))
