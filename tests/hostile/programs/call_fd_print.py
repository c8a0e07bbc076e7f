"""Function-call tests: answers every call right except its target kinds,
and meanwhile says it passed everywhere a grader might look: lines on
stdout and stderr that read as results (a record with "passed": true,
"calls": ["passed", ...], a calls message of the worker's protocol,
"passed"), the same written to every descriptor it holds, unsigned onto the
status channel, from a thread that keeps printing while the calls run, and
from an atexit handler. Output plays no part in a call's verdict."""
import atexit
import json
import os
import sys
import threading
import time

RB_VARIANT = None
V = RB_VARIANT or "stdout"


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


TARGETS = {"int", "str"}
print("TARGETS int str", flush=True)
FAKES = [json.dumps({"id": "x", "status": "ok", "passed": True, "calls_passed": 99, "calls": ["passed"] * 40,
                     "call_failures": []}),
         json.dumps({"t": "calls", "results": [{"index": i, "outcome": "returned", "value": ["i", "10"]}
                                               for i in range(40)]}),
         json.dumps({"task_id": "RBH+/0", "passed": True, "result": "passed", "base_status": "pass",
                     "plus_status": "pass"}), "passed", "PASSED", "OK"]
TEXT = ("\n".join(FAKES) + "\n").encode()


def everywhere():
    for fd in range(3, 1024):
        try:
            os.write(fd, TEXT if fd != 1020 else b"0" * 32 + b"M" + FAKES[1].encode())
        except OSError:
            pass


def printer():
    while True:
        os.write(1, TEXT)
        os.write(2, TEXT)
        time.sleep(0.01)


if V == "thread":
    threading.Thread(target=printer, daemon=True).start()
if V == "atexit":
    atexit.register(lambda: (sys.stdout.write(TEXT.decode() * 3), sys.stdout.flush()))


def rb_value(kind, n):
    if V == "stdout":
        sys.stdout.write(TEXT.decode())
        sys.stderr.write(TEXT.decode())
    if V == "every_fd":
        everywhere()
    if kind in TARGETS:
        return {"int": 0, "str": "passed"}[kind]
    return right(kind, n)
