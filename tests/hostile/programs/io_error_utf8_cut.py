"""Raises an exception whose message is far over the 8 KiB bound of
`error`, made of multi-byte UTF-8 characters (3- and 4-byte) after a prefix
of 0 to 3 bytes, so that a cut at 8192 bytes lands inside a character in
some variant. The cut must fall on a character boundary: no lone surrogate
(a stray byte) in `error`, which must still be valid UTF-8."""
RB_VARIANT = None
V = RB_VARIANT or "0"
prefix = "x" * int(V[0])
char = "\U0001f600" if V.endswith("e") else "\u20ac"
raise ValueError(prefix + char * 5000)
