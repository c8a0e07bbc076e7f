"""Function-call tests past the size limit of a return value, where a value
travels as the digest of its text. As an eval sample of RBH+/2, whose
reference answer for its base input is 65 strings of 1 MiB (65 MiB of
text: the expected value is itself a digest), it returns huge wrong
answers: the last byte changed, one string short, a tuple of the same
strings, one 65 MiB string, a list subclass equal to anything holding
other strings, a huge int; its plus input (1 MiB) it answers right. As a
job (RBH+/0's calls, a value limit of 256 KiB) it returns a 300,000-item
list for a small one. A digest is equal only to the same digest: no huge
wrong value may pass."""

RB_VARIANT = None
V = RB_VARIANT or "last_byte"


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


TARGETS = {"list"} if V == "huge_for_small" else {"65"}
print("TARGETS " + " ".join(sorted(TARGETS)), flush=True)


def rb_value(kind, n):
    if kind in TARGETS:
        return list(range(300000))
    return right(kind, n)


class Liar(list):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __hash__(self):
        return 0


def rb_blob(n, ch):
    mib = ch * (1 << 20)
    if str(n) not in TARGETS:
        return [mib] * n
    if V == "last_byte":
        return [mib] * (n - 1) + [mib[:-1] + "!"]
    if V == "one_short":
        return [mib] * (n - 1)
    if V == "tuple":
        return tuple([mib] * n)
    if V == "one_string":
        return "".join([mib] * n)
    if V == "liar_list":
        return Liar(["z" * (1 << 20)] * n)
    return (1 << (268 << 20)) - 1  # huge_int: 67 million hex digits
