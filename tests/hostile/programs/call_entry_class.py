"""Function-call tests on a method of one instance of class Solution, as
LeetCode-style harnesses call it (a job's entry_class; an eval sample whose
code holds "class Solution"): Solution() that calls os._exit(0) or raises;
a __getattribute__ that calls os._exit(0) when the method is looked up; no
method but a __getattr__ that hands out one; a metaclass whose __call__
returns an int; a __new__ that returns an object of another class; the
name Solution rebound after the class was made. Every variant answers its
non-target calls right where it answers at all; no target may pass, and a
job whose calls never ran has not passed."""
import os

RB_VARIANT = None
V = RB_VARIANT or "init_exit"


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


TARGETS = {"init_exit": {"*"}, "init_raises": {"*"}, "getattribute_exit": {"*"}, "getattr_method": {"int"},
           "metaclass_call": {"*"}, "new_other": {"int"}, "rebound": {"int"}}[V]
print("TARGETS " + " ".join(sorted(TARGETS)), flush=True)


def method(self, kind, n):
    return 0 if kind in TARGETS else right(kind, n)


class Meta(type):
    def __call__(cls, *a, **k):
        return 42 if V == "metaclass_call" else super().__call__(*a, **k)


class Other:
    rb_value = method


class Solution(metaclass=Meta):
    def __init__(self):
        if V == "init_exit":
            os._exit(0)
        if V == "init_raises":
            raise RuntimeError("no instance today")

    def __new__(cls):
        return Other() if V == "new_other" else super().__new__(cls)

    def __getattribute__(self, name):
        if V == "getattribute_exit" and name == "rb_value":
            os._exit(0)
        return object.__getattribute__(self, name)

    def __getattr__(self, name):
        if V == "getattr_method" and name == "rb_value":
            return lambda kind, n: method(self, kind, n)
        raise AttributeError(name)

    if V not in ("getattr_method",):
        rb_value = method


if V == "rebound":
    Solution = Other  # noqa: F811 (the name rebound: what runbox looks up)
