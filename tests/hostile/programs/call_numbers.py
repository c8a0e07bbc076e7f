"""Function-call tests: answers every call right except those of its target
kinds, where it returns a number that Python's == (or evalplus's
tolerance) tells apart from the answer but a careless comparison would not:
True for an int, an int for a bool, NaN and infinities for floats (NaN
equals nothing, -0.0 included), a float 1e-5 off (evalplus's atol is 1e-6),
a float for an int, a complex with a tiny imaginary part, a huge int one
off the answer (past the interpreter's 4300-digit limit it travels as hex).
Two variants change how ints travel without lying: the interpreter's digit
limit at its 640 minimum (big answers go as hex) or lifted (a 5,916-digit
answer goes as decimal); their big answers must still pass, only the
target int fails."""
import math
import sys

RB_VARIANT = None
V = RB_VARIANT or "bool_for_int"


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


TARGETS = {"bool_for_int": {"int"}, "int_for_bool": {"bool"}, "nan": {"float", "negzero"},
           "inf": {"float", "negzero"}, "near_float": {"float"}, "float_for_int": {"int"},
           "complex_for_int": {"int"}, "bigint_off_by_one": {"bigint"}, "digits_min": {"int"},
           "digits_unlimited": {"int"}}[V]
print("TARGETS " + " ".join(sorted(TARGETS)), flush=True)
if V == "digits_min":
    sys.set_int_max_str_digits(640)
if V == "digits_unlimited":
    sys.set_int_max_str_digits(0)


def rb_value(kind, n):
    want = right(kind, n)
    if kind not in TARGETS:
        return want
    if V == "bool_for_int":
        return True
    if V == "int_for_bool":
        return int(not want)
    if V == "nan":
        return math.nan
    if V == "inf":
        return -math.inf if kind == "negzero" else math.inf
    if V == "near_float":
        return want + 1e-5
    if V == "float_for_int":
        return float(want) + 0.5
    if V == "complex_for_int":
        return complex(want, 1e-300)
    if V == "bigint_off_by_one":
        return want + 1
    return want - 1  # digits_min, digits_unlimited
