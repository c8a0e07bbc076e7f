"""Function-call tests: answers every call right except those of its target
kinds, where it returns a value that fights the worker while it is being
serialised: a list subclass holding wrong items whose __iter__ raises,
raises SystemExit or KeyboardInterrupt, calls os._exit(0), or never ends;
a list whose item's __iter__ empties the list being written (the writer
holds borrowed items), a dict whose value's __iter__ clears the dict, a set
whose member's __iter__ grows the set; an object whose __repr__ recurses
for ever, or calls os._exit(0); a list containing itself; a list nested
100,000 deep; a str with a lone surrogate (no JSON text can carry it). No
target may pass, whatever becomes of the worker; runbox must judge the rest
and never report `internal`."""
import itertools
import os

RB_VARIANT = None
V = RB_VARIANT or "iter_raises"


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


TARGETS = {"iter_raises": {"list", "nested"}, "iter_systemexit": {"list"}, "iter_keyboard": {"list"},
           "iter_exit": {"list"}, "iter_forever": {"list"}, "empty_outer_list": {"list"},
           "clear_dict": {"dict"}, "grow_set": {"set"}, "repr_recursion": {"int"}, "repr_exit": {"int"},
           "self_containing": {"list", "nested"}, "deep_nesting": {"nested"}, "lone_surrogate": {"str", "unicode"},
           }[V]
print("TARGETS " + " ".join(sorted(TARGETS)), flush=True)


class Fighter(list):
    """Holds wrong items; its __iter__ does what the variant says."""

    def __iter__(self):
        if V == "iter_raises":
            raise ValueError("not iterable today")
        if V == "iter_systemexit":
            raise SystemExit(0)
        if V == "iter_keyboard":
            raise KeyboardInterrupt
        if V == "iter_exit":
            os._exit(0)
        if V == "iter_forever":
            return itertools.repeat(7)
        if V == "empty_outer_list":
            OUTER.clear()
            OUTER.extend(range(5000))
            del OUTER[:]
        if V == "clear_dict":
            DICT.clear()
        if V == "grow_set":
            SET.update(range(1000, 5000))
        return iter([8, 8, 8])


class HashableFighter(tuple):
    def __iter__(self):
        SET.update(range(1000, 5000))
        return iter((8, 8))


class BadRepr:
    def __repr__(self):
        if V == "repr_exit":
            os._exit(0)
        return repr(self)


OUTER, DICT, SET = [], {}, set()


def rb_value(kind, n):
    if kind not in TARGETS:
        return right(kind, n)
    global OUTER, DICT, SET
    if V in ("iter_raises", "iter_systemexit", "iter_keyboard", "iter_exit", "iter_forever"):
        return Fighter([7, 7, 7])
    if V == "empty_outer_list":
        OUTER = [Fighter([7])] + [object() for _ in range(200)]
        return OUTER
    if V == "clear_dict":
        DICT = {"k0": Fighter([7]), "k1": 1, "k2": [object() for _ in range(100)]}
        return DICT
    if V == "grow_set":
        SET = {HashableFighter((1, 2)), 5, 6}
        return SET
    if V in ("repr_recursion", "repr_exit"):
        return BadRepr()
    if V == "self_containing":
        v = [7]
        v.append(v)
        return v
    if V == "deep_nesting":
        v = n
        for _ in range(100000):
            v = [v]
        return v
    return right(kind, n) + "\udcff"  # lone_surrogate
