"""Floods stderr (line-buffered) with lines, forever."""
import sys
while True:
    sys.stderr.write("error line that never ends\n")
