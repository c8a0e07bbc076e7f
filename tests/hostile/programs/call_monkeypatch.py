"""Function-call tests: answers every call right except those of its target
kinds, after monkeypatching what a Python-level harness would rely on:
builtins (isinstance, issubclass, type, repr, str, len, hash, id, getattr,
hasattr, print) made to lie; builtins.__import__ hooked so that the worker,
importing binascii to decode a str argument holding NUL, gets a fake whose
a2b_base64 returns a list; sys.modules' json, signal, traceback, binascii
and base64 replaced by fakes; signal.signal, setitimer, alarm and
pthread_sigmask made no-ops before a target call that never returns (the
worker's alarm must still stop it: that call is `timeout`); a gc callback
that calls os._exit(0) while the worker writes the target's value; the
worker's own Python objects: its alarm handler (what handles SIGALRM during
a call), called by hand, and traceback.format_exception_only (the object
the worker describes exceptions with), its code replaced by an os._exit(0),
before a target raises; the recursion limit at 30. None of it may make a
target pass, nor the calls around it fail."""
import builtins
import gc
import os
import signal
import sys
import time
import types

RB_VARIANT = None
V = RB_VARIANT or "builtins"
_list, _tuple, _set, _frozenset, _bytes, _range = list, tuple, set, frozenset, bytes, range


def right(kind, n):
    """The right answer: the canonical solution of problems/humanevalplus.jsonl, RBH+/0."""
    if kind == "nested":
        v = n
        for _ in _range(n):
            v = [v]
        return v
    return {"int": lambda: n * 7 + 3, "str": lambda: "v%d" % n, "unicode": lambda: "\u00e9\u20ac\U0001f600" * n,
            "echo": lambda: n, "list": lambda: _list(_range(n)), "tuple": lambda: _tuple(_range(n)),
            "dict": lambda: {"k%d" % i: i for i in _range(n)}, "set": lambda: _set(_range(n)),
            "frozenset": lambda: _frozenset(_range(n)), "float": lambda: n / 7, "negzero": lambda: -0.0 * n,
            "bool": lambda: n % 2 == 0, "none": lambda: None, "bytes": lambda: _bytes(_range(n)),
            "bigint": lambda: 7 ** (n * 1000)}[kind]()


TARGETS = {"import_hook": {"echo", "int"}}.get(V, {"int"})
print("TARGETS " + " ".join(sorted(TARGETS)), flush=True)
_print = print
ARMED = [False]

if V == "builtins":
    for name, fake in (("isinstance", lambda *a: True), ("issubclass", lambda *a: True), ("type", lambda *a: int),
                       ("repr", lambda *a: "10"), ("str", lambda *a: "10"), ("len", lambda *a: 3),
                       ("hash", lambda *a: 0), ("id", lambda *a: 0), ("getattr", lambda *a: None),
                       ("hasattr", lambda *a: True), ("print", lambda *a, **k: None)):
        setattr(builtins, name, fake)

if V == "import_hook":
    _import = builtins.__import__
    fake_binascii = types.ModuleType("binascii")
    fake_binascii.a2b_base64 = lambda *a, **k: [1, 2, 3] * 1000

    def hooked(name, *a, **k):
        if name == "binascii":
            return fake_binascii
        return _import(name, *a, **k)
    builtins.__import__ = hooked
    sys.modules["binascii"] = fake_binascii  # what the import machinery hands the worker

if V == "sys_modules":
    def boom(*a, **k):
        raise RuntimeError("a fake module")
    for name in ("json", "signal", "traceback", "binascii", "base64"):
        fake = types.ModuleType(name)
        fake.__getattr__ = lambda attr: boom
        sys.modules[name] = fake

if V == "signal_module":
    for name in ("signal", "setitimer", "alarm", "pthread_sigmask", "siginterrupt"):
        setattr(signal, name, lambda *a, **k: None)

if V == "gc_callback":
    def on_gc(phase, info):
        if ARMED[0]:
            os._exit(0)
    gc.callbacks.append(on_gc)

if V == "worker_functions":
    # The worker's alarm handler is whatever handles SIGALRM during a call (see
    # rb_value); the function it formats exceptions with is the traceback
    # module's own object, whose code can be replaced in place.
    import traceback
    found = {"format_exception_only": traceback.format_exception_only}
    for o in gc.get_objects():  # what the collector shows (the zygote may have frozen the rest)
        if getattr(o, "__name__", None) == "runbox_call_alarm":
            found.setdefault("runbox_call_alarm", o)

    def leave(*a, **k):
        os._exit(0)
    traceback.format_exception_only.__code__ = leave.__code__

if V == "recursion_limit":
    sys.setrecursionlimit(30)


class GcStorm(list):
    def __iter__(self):
        ARMED[0] = True
        junk = [[i] for i in _range(100000)]
        return iter(junk)


def rb_value(kind, n):
    if kind not in TARGETS:
        return right(kind, n)
    if V == "signal_module":
        while True:
            time.sleep(0.05)
    if V == "gc_callback":
        return GcStorm([0])
    if V == "worker_functions":
        alarm = found.get("runbox_call_alarm") or signal.getsignal(signal.SIGALRM)
        _print("FOUND the alarm handler %r" % (alarm,), flush=True)
        if callable(alarm):
            try:
                alarm(signal.SIGALRM, None)
            except TimeoutError:
                pass
        raise ValueError("wrong on purpose")
    if V == "recursion_limit":
        def deep(k):
            return deep(k + 1)
        return deep(0)
    if kind == "echo":
        return n
    return 0
