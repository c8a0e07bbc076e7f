"""Grows a list by a megabyte at a time until memory runs out (its job gets
96 MB: first-touch page faults are slow on virtual machines)."""
chunks = []
while True:
    chunks.append(bytearray(1 << 20))
