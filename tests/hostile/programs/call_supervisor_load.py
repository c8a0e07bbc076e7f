"""Function-call tests: at its target kinds it returns, instead of the
answer, a list of one 4,299-digit int repeated (a few hundred KiB of
text), with the interpreter's digit limit at its 640 minimum so that the
worker sends each as hexadecimal, which costs it nothing. The supervisor
normalises every int it must compare: hex up to 3,572 digits back to
decimal, in time quadratic in the length, once per item. The verdict is
`wrong`; what the runner measures is how long the supervisor, which serves
every job of the batch from one thread, spent judging it."""
import sys

RB_VARIANT = None
V = RB_VARIANT or "hex_ints"


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


TARGETS = {"int", "list"}
print("TARGETS int list", flush=True)
sys.set_int_max_str_digits(640)
ITEM = 10 ** 4298 + 12345
LOAD = [ITEM] * 100


def rb_value(kind, n):
    if kind in TARGETS:
        return LOAD
    return right(kind, n)
