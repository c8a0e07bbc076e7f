"""Plain Python recursion with the limit raised to ten million (its job gets
32 MB, so that the frames run out of memory quickly)."""
import sys
sys.setrecursionlimit(10 ** 7)


def f(n):
    return f(n + 1) + 1


f(0)
