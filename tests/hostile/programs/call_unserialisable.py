"""Function-call tests: returns, for every call, a value of no type a return
value is sent as, whose contents look like the answer but that Python's ==
tells apart from it: a generator, map and filter objects, range, a deque,
an array, a dict view, a lambda, a module, a frame, an exception, a lock,
an open file, an iterator, Ellipsis and NotImplemented, bytes for a str.
Each travels as ["x", type, repr] (bytes as bytes), which equals nothing:
no call may pass."""
import array
import collections
import sys
import threading

RB_VARIANT = None
V = RB_VARIANT or "all"


def right(kind, n):
    """The right answer: the canonical solution of problems/humanevalplus.jsonl, RBH+/0."""
    if kind == "nested":
        v = n
        for _ in range(n):
            v = [v]
        return v
    return {"int": lambda: n * 7 + 3, "str": lambda: "v%d" % n, "unicode": lambda: "\u00e9\u20ac\U0001f600" * n,
            "echo": lambda: n, "list": lambda: list(range(n)), "tuple": lambda: tuple(range(n)),
            "dict": lambda: {"k%d" % i: i for i in range(n)}, "set": lambda: set(range(n)),
            "frozenset": lambda: frozenset(range(n)), "float": lambda: n / 7, "negzero": lambda: -0.0 * n,
            "bool": lambda: n % 2 == 0, "none": lambda: None, "bytes": lambda: bytes(range(n)),
            "bigint": lambda: 7 ** (n * 1000)}[kind]()


TARGETS = {"*"}
print("TARGETS *", flush=True)


def rb_value(kind, n):
    want = right(kind, n)
    if kind == "int":
        return lambda: want
    if kind in ("str", "unicode"):
        return want.encode()
    if kind == "list":
        return (x for x in want) if n < 10 else range(n)
    if kind == "tuple":
        return collections.deque(want)
    if kind == "nested":
        return sys._getframe()
    if kind == "dict":
        return want.items()
    if kind == "set":
        return map(int, want)
    if kind == "frozenset":
        return filter(None, want)
    if kind == "float":
        return ValueError(want)
    if kind == "negzero":
        return NotImplemented
    if kind == "bool":
        return sys
    if kind == "none":
        return Ellipsis
    if kind == "bytes":
        return array.array("B", want)
    if kind == "bigint":
        return threading.Lock()
    if kind == "echo":
        return open("/dev/null")
    return iter([want])
