"""Function-call tests: answers its first calls right, then makes a call run
past its time limit without the alarm that enforces it stopping it: it
ignores SIGALRM, or installs a handler that does nothing, inside the call;
cancels the timer (setitimer 0); catches every TimeoutError in a loop;
blocks SIGALRM in an early call (the worker installs its handler again
before each call, not the signal mask) so that a later call runs on; or
does the work in a thread and joins it, catching the TimeoutError. It never
answers the target. The job's own time limit must end it: the target, and
the calls after it, have not passed."""
import signal
import threading
import time

RB_VARIANT = None
V = RB_VARIANT or "sig_ign"


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


TARGETS = {"none"}  # after several other kinds, in RBH+/0's base inputs and in a job's calls
print("TARGETS none", flush=True)


def forever():
    while True:
        try:
            time.sleep(0.05)
        except TimeoutError:
            pass


def rb_value(kind, n):
    if V == "sigmask_early" and kind == "int":  # the first call
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    if kind not in TARGETS:
        return right(kind, n)
    if V == "sig_ign":
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
    if V == "handler_noop":
        signal.signal(signal.SIGALRM, lambda *a: None)
    if V == "setitimer_zero":
        signal.setitimer(signal.ITIMER_REAL, 0)
    if V == "thread_join":
        t = threading.Thread(target=forever, daemon=True)
        t.start()
        while True:
            try:
                t.join()
            except TimeoutError:
                pass
    forever()
