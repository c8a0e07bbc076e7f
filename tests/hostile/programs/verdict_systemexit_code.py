"""Ends with a SystemExit that is hard to read: its `code` is a property
that raises, or one that calls os._exit(0) when read; or its code is an
object whose str() raises, or calls os._exit(0) (python3 prints str(code)
and exits 1). The record must still say SystemExit, with an error that is
not null, and never `ok` or `passed`: reading the exit code is not a chance
for the program to choose it."""
import os
import sys

RB_VARIANT = None
V = RB_VARIANT or "code_raises"
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
RUN = "runbox_pid" in A


class Exit(SystemExit):
    @property
    def code(self):
        if V == "code_exits":
            os._exit(0)
        raise RuntimeError("no code for you")


class Code:
    def __str__(self):
        if V == "str_exits":
            os._exit(0)
        raise RuntimeError("no str for you")

    __repr__ = __str__


def add_mod(a, b, m):
    if V.startswith("code"):
        raise Exit(3)
    raise SystemExit(Code())


print("variant", V, flush=True)
if RUN:
    add_mod(2, 3, 7)
