"""Catches MemoryError and tries again, forever, holding on to what it got:
the memory limit never ends it, so the time limit has to."""
hold = []
size = 1 << 28
while True:
    try:
        hold.append(bytearray(size))
    except MemoryError:
        size = max(size // 2, 1 << 12)
