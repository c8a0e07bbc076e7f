"""Raises an exception carrying 10 MB of text: in its message, in a note
(add_note), or in the exception it was raised from. The traceback printed
to stderr goes far past the output limit; the verdict is the exception's
(status `error`, return code 1, `error` naming it), never `output_limit`,
with stderr cut and stderr_truncated set."""
RB_VARIANT = None
V = RB_VARIANT or "message"
big = "M" * (10 << 20)
if V == "message":
    raise ValueError(big)
if V == "note":
    e = ValueError("small message")
    e.add_note(big)
    raise e
try:
    raise KeyError(big)
except KeyError as cause:
    raise ValueError("small message") from cause
