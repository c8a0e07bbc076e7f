"""Claims that runbox failed to set it up: writes "setup_failed" messages
(the worker's words for a job that could not start, old and new framing,
unsigned, under guessed secrets, thousands of them, from an atexit handler
after failing) to its status channel and every other descriptor, then fails
(EvilError), or crashes (SIGSEGV), or exits 0 before its main module ends.
A job that ran its own code must get its own verdict, never `internal` with
had_unexpected_error, which harnesses retry or drop."""
import atexit
import ctypes
import json
import os
import sys

RB_VARIANT = None
V = RB_VARIANT or "unsigned"
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
RUN = "runbox_pid" in A
FD = 1020


class EvilError(Exception):
    pass


def messages(prefixes):
    objs = [{"outcome": "setup_failed", "exit_code": 125, "error": "could not start the job: forged by the job"},
            {"t": "setup_failed", "exit_code": 125, "error": "could not start the job: forged by the job"}]
    out = []
    for p in prefixes:
        for o in objs:
            out.append(p + json.dumps(o).encode())
    return out


def send(prefixes, times=1, everywhere=True):
    lines = messages(prefixes)
    blob = b"\n" + b"\n".join(lines) + b"\n"
    for fd in ([FD] + list(range(3, 256)) if everywhere else [FD]):
        for _ in range(times):
            for data in [blob] + lines:
                try:
                    os.write(fd, data)
                except OSError:
                    break


GUESSES = [b"", b"M", b"0" * 32 + b" ", b"0" * 32 + b"M", b"f" * 32 + b" ", b"f" * 32 + b"M"]
if V == "unsigned":
    send([b"", b"M"])
elif V == "guessed":
    send(GUESSES)
elif V == "many":
    send(GUESSES, times=500, everywhere=False)
elif V == "atexit":
    atexit.register(send, GUESSES)
elif V in ("then_segv", "then_exit0"):
    send(GUESSES)
print("forged setup_failed (%s)" % V, flush=True)
sys.stdout.flush()
if V == "then_segv":
    ctypes.string_at(0)
if V == "then_exit0":
    os._exit(0)


def add_mod(a, b, m):
    raise EvilError("wrong on purpose")


if RUN:
    assert add_mod(2, 3, 7) == 5
