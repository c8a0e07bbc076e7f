"""Compiles an expression nested 100000 deep ('-' * 100000 + '1'), then one a
million deep with the recursion limit raised."""
import sys
try:
    compile("-" * 100000 + "1", "deep", "eval")
except (RecursionError, MemoryError, SyntaxError) as e:
    print("first:", type(e).__name__, flush=True)
sys.setrecursionlimit(10 ** 7)
compile("-" * 10 ** 6 + "1", "deeper", "eval")
