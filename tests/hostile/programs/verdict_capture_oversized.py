"""Makes its record too big to travel: a docstring of 180,000 characters of
3-byte UTF-8 (over the 64 KiB doc bound, which a byte cut would split) and a
captured name whose JSON is 1.5 MiB (over the capture bound and the status
channel's cap), beside small captured names; or forty captured names of
40 KB each; or a captured object whose repr() calls os._exit(0). Some
variants then fail and exit 0 from atexit, hoping the oversized record is
dropped and the exit code read instead. Nothing may be dropped silently: a
name that does not fit comes back as {"$truncated": bytes}, the doc cut at a
character boundary with doc_truncated, and the verdict stays the program's."""
import atexit
import os

RB_VARIANT = None
V = RB_VARIANT or "ok"
__doc__ = "\u20ac" * 180000  # 540,000 bytes of UTF-8
small = 1
after = 2
if V in ("ok", "fail_exit0"):
    big = "B" * (3 << 19)
if V == "many_medium":
    for i in range(40):
        globals()["m%02d" % i] = "M" * 40000


class Evil:
    def __repr__(self):
        os._exit(0)


class EvilError(Exception):
    pass


if V == "repr_exit":
    evil = Evil()
print("variant", V, flush=True)
if V in ("fail_exit0", "repr_exit"):
    atexit.register(os._exit, 0)
    raise EvilError("this program failed")
