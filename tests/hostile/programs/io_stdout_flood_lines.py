"""Floods stdout with lines, forever."""
line = "flood " * 16
while True:
    print(line)
