"""Function-call tests: answers every call right except those of its target
kinds, where it returns an object that pretends to be the right answer: int,
float, str, bytes, list, tuple, dict, set and frozenset subclasses whose
__eq__ says yes to anything (and __ne__ no), whose __hash__, __repr__,
__str__, __len__, __iter__ (but a list's or tuple's: call_iter_lies),
__getitem__, __contains__, keys, items, values, __index__, __int__,
__float__ and __bool__ all describe the right answer while the object
itself holds a wrong one; an object equal to anything;
objects whose __class__ is a property naming the right type (isinstance
lies); instances of classes named int, str and list in module builtins; a
non-int whose __index__ gives a wrong int. Each target call must be judged
wrong: the value is read from the object itself, in C, and compared in the
supervisor. One variant per job (and eval sample)."""

RB_VARIANT = None
V = RB_VARIANT or "int_eq"


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


TARGETS = {"int_eq": {"int"}, "float_eq": {"float", "negzero"}, "str_eq": {"str", "unicode"}, "bytes_eq": {"bytes"},
           "list_eq": {"list", "nested"}, "tuple_eq": {"tuple"}, "dict_eq": {"dict"},
           "set_eq": {"set", "frozenset"}, "anything": {"*"}, "class_property": {"int", "bool", "none"},
           "builtin_name": {"int", "str", "list"}, "index_wrong": {"int"}}[V]
print("TARGETS " + " ".join(sorted(TARGETS)), flush=True)


def liar(base, shown):
    """A subclass of `base` whose every method describes `shown`."""
    def it(self):
        return iter(shown)
    methods = {
        "__eq__": lambda self, other: True, "__ne__": lambda self, other: False,
        "__hash__": lambda self: hash(shown) if not isinstance(shown, (list, dict, set)) else 0,
        "__repr__": lambda self: repr(shown), "__str__": lambda self: str(shown),
        "__format__": lambda self, spec: format(shown, spec), "__bool__": lambda self: bool(shown),
    }
    if isinstance(shown, (str, bytes, list, tuple, dict, set, frozenset)):
        methods.update({"__len__": lambda self: len(shown), "__contains__": lambda self, x: True,
                        "__reversed__": lambda self: reversed(list(shown))})
    if isinstance(shown, (str, bytes, dict, set, frozenset)):
        methods["__iter__"] = it  # a list's or tuple's: call_iter_lies (a known hole)
    if isinstance(shown, (str, bytes, list, tuple)):
        methods["__getitem__"] = lambda self, i: shown[i]
    if isinstance(shown, dict):
        methods.update({"keys": lambda self: shown.keys(), "items": lambda self: shown.items(),
                        "values": lambda self: shown.values(), "get": lambda self, k, d=None: shown.get(k, d),
                        "__getitem__": lambda self, k: shown[k], "copy": lambda self: dict(shown)})
    if isinstance(shown, int) and not isinstance(shown, bool):
        methods.update({"__index__": lambda self: shown, "__int__": lambda self: shown,
                        "__float__": lambda self: float(shown)})
    if isinstance(shown, float):
        methods.update({"__float__": lambda self: shown, "__int__": lambda self: int(shown)})
    return type(base.__name__, (base,), methods)


class Anything:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __hash__(self):
        return 0

    def __repr__(self):
        return "10"


class ClassLiar:
    """isinstance(x, int) is True of it: its __class__ is a property."""

    def __init__(self, shown):
        self.shown = shown

    @property
    def __class__(self):
        return type(self.shown)

    def __eq__(self, other):
        return True

    def __hash__(self):
        return hash(self.shown)

    def __repr__(self):
        return repr(self.shown)


def builtin_named(name, shown):
    cls = type(name, (), {"__eq__": lambda self, other: True, "__ne__": lambda self, other: False,
                          "__hash__": lambda self: 0, "__repr__": lambda self: repr(shown),
                          "__module__": "builtins", "__qualname__": name})
    return cls()


class IndexWrong:
    """A number whose __index__ says 0 and that equals anything."""

    def __index__(self):
        return 0

    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0


WRONG = {"int": 0, "float": 99.5, "negzero": 99.5, "str": "wrong", "unicode": "wrong", "bytes": b"wrong",
         "list": [9, 9], "nested": [9, 9], "tuple": (9,), "dict": {"wrong": 1}, "set": {99}, "frozenset": {99}}
BASES = {"int": int, "float": float, "negzero": float, "str": str, "unicode": str, "bytes": bytes, "list": list,
         "nested": list, "tuple": tuple, "dict": dict, "set": set, "frozenset": frozenset}


def rb_value(kind, n):
    if "*" not in TARGETS and kind not in TARGETS:
        return right(kind, n)
    want = right(kind, n)
    if V == "anything":
        return Anything()
    if V == "class_property":
        return ClassLiar(want)
    if V == "builtin_name":
        return builtin_named(type(want).__name__, want)
    if V == "index_wrong":
        return IndexWrong()
    return liar(BASES[kind], want)(WRONG[kind])
