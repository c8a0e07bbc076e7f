"""Reads from a stdin that has nothing in it (input() on EOF), then reads it
raw again."""
import os
print("read %r" % os.read(0, 100), flush=True)
name = input()
print("hello", name)
