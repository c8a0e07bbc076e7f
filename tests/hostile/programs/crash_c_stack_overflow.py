"""Overflows the C stack: the recursion limit raised to a million and repr()
of a list nested a million deep, so the recursion runs in C."""
import sys
sys.setrecursionlimit(10 ** 6)
nested = []
for _ in range(10 ** 6):
    nested = [nested]
print(len(repr(nested)))
