"""Function-call tests: answers every call right except its target kinds,
where it returns a list (or tuple) subclass that holds wrong items and
whose __iter__ yields the right ones. Python's == reads the items a list
holds (list.__eq__ never calls __iter__), so evalplus and Python judge it
wrong; a writer that iterates the value with the program's own __iter__
sends the right items instead. A known hole (reported): the target calls
pass."""
RB_VARIANT = None
V = RB_VARIANT or "list_iter_right"


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


TARGETS = {"list_iter_right": {"list"}, "tuple_iter_right": {"tuple"}}[V]
print("TARGETS " + " ".join(sorted(TARGETS)), flush=True)


def two_faced(base, shown):
    return type(base.__name__, (base,), {"__iter__": lambda self: iter(shown)})


def rb_value(kind, n):
    want = right(kind, n)
    if kind not in TARGETS:
        return want
    wrong = [-1] * (n + 1)
    value = two_faced(type(want), want)(wrong)
    assert value != want and list(value) == list(want)  # Python tells them apart; iterating does not
    return value
