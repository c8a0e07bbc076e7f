"""C stack overflow through ctypes: a CFUNCTYPE callback that calls itself
through the C trampoline, with the recursion limit raised to ten million, so
every level adds C frames (libffi, the callback thunk) until the 8 MiB stack
runs out."""
import ctypes
import sys
sys.setrecursionlimit(10 ** 7)
CB = ctypes.CFUNCTYPE(ctypes.c_long, ctypes.c_long)


def f(n):
    return cb(n + 1)


cb = CB(f)
print("recursing", flush=True)
print("ESCAPED returned", cb(0), flush=True)
