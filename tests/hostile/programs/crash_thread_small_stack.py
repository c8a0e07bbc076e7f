"""Deep C recursion in a thread with a tiny stack (threading.stack_size(32
KiB)): the overflow happens off the main thread."""
import sys
import threading
sys.setrecursionlimit(10 ** 6)
threading.stack_size(32768)


def deep():
    nested = []
    for _ in range(10 ** 5):
        nested = [nested]
    print(len(repr(nested)))


t = threading.Thread(target=deep)
t.start()
t.join()
