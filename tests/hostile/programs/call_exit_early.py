"""Function-call tests: answers the calls before its target kind right, and
at the first target leaves instead of answering, hoping the calls it never
answered count as passed: os._exit(0); SystemExit(0), KeyboardInterrupt,
GeneratorExit and a BaseException subclass raised from the call; SIGKILL,
SIGTERM, SIGINT, SIGALRM and SIGSEGV sent to itself; abort(); a segfault
through ctypes; a thread calling os._exit(0) while the call waits; an
object returned whose __del__ calls os._exit(0) (it runs once the worker
has written the value, before the batch of results is sent); an exception
whose __getattr__ calls os._exit(0) (the worker describing it asks for
__notes__); sys.exit(0) from the main module, before any call. A call never answered has not
passed, and a job that ends before its calls do has not passed."""
import ctypes
import os
import signal
import sys
import threading
import time

RB_VARIANT = None
V = RB_VARIANT or "os_exit"


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


# "bool" comes after several other kinds in both of RBH+/0's groups and in a job's calls.
TARGETS = {"*"} if V == "main_exit" else {"bool"}
print("TARGETS " + " ".join(sorted(TARGETS)), flush=True)
if V == "main_exit":
    sys.exit(0)


class Custom(BaseException):
    pass


class LeaveOnDel:
    def __del__(self):
        os._exit(0)


class LeavingError(ValueError):
    """Any attribute it lacks (__notes__, as the traceback module asks for it)
    ends the process: while the worker describes the failed call."""

    def __getattr__(self, name):
        os._exit(0)


def leave():
    if V == "os_exit":
        os._exit(0)
    if V == "system_exit":
        raise SystemExit(0)
    if V == "keyboard":
        raise KeyboardInterrupt
    if V == "generator_exit":
        raise GeneratorExit
    if V == "base_exception":
        raise Custom("not an Exception")
    if V in ("sigkill", "sigterm", "sigint", "sigalrm", "sigsegv"):
        os.kill(os.getpid(), getattr(signal, V.upper()))
        time.sleep(1)
        return 0
    if V == "abort":
        os.abort()
    if V == "segv":
        ctypes.string_at(8, 16)
    if V == "thread_exit":
        threading.Thread(target=lambda: (time.sleep(0.05), os._exit(0))).start()
        time.sleep(5)
    if V == "del_exit":
        return LeaveOnDel()
    if V == "getattr_exit":
        raise LeavingError("wrong, and leaving while this is described")
    return 0


def rb_value(kind, n):
    if kind in TARGETS:
        return leave()
    return right(kind, n)
