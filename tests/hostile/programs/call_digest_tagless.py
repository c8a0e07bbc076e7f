"""An eval sample of RBH+/3, whose reference answer is 64 MiB of text and
Fraction(10**300 + 7, 3): past the size limit, so the expected value is the
digest of its text, and that text holds the Fraction as ["x", "Fraction",
repr], its repr cut at 200 bytes. It returns the same text with a wrong
Fraction, 10**300 + 10 over 3, whose repr differs only past those 200
bytes. ["x", ...] is meant to equal nothing; inside a digest it equals
whatever shares its type name and its repr's first 200 bytes. A known hole
(reported): the sample passes."""

TARGETS = {"7"}
print("TARGETS 7", flush=True)


def rb_tagless_blob(k):
    from fractions import Fraction
    return ["y" * (1 << 26), Fraction(10 ** 300 + k + 3, 3)]
