"""Fails (its add_mod raises EvilError, so the main module or the check that
calls it raises), then tries to turn the failure into exit code 0 with code
that runs after the main module (or the check) raised, while runbox formats
and reports it: sys.excepthook; a replaced traceback module or its
functions; an exception (its type, its argument, its cause, its notes, its
class's metaclass) whose str/repr calls os._exit(0); sys.stderr or
sys.stdout replaced by objects that exit when written or flushed; an audit
hook, a gc callback, a profile or trace hook, a __del__ of a frame's local
that exit once the failure is on its way; a timer signal (ITIMER_REAL,
ITIMER_PROF) whose handler exits, with a deep traceback to format and a slow
atexit; a thread that exits once the main module's frame is gone. One
variant per job. The verdict must be fixed before any of it runs."""
import atexit
import gc
import os
import signal
import sys
import threading
import time
import types

RB_VARIANT = None
V = RB_VARIANT or "excepthook"
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
RUN = "runbox_pid" in A
MYFILE = sys._getframe().f_code.co_filename
ARMED = []


def bye(*_a, **_k):
    os._exit(0)


def in_job_code():
    """Whether the program's own code (its module, a check, add_mod) is
    still on the stack: an exit then would be one before the main module
    ended, which is its right. Only an exit after that is an attack."""
    f = sys._getframe(1)
    while f is not None:
        if f.f_code.co_name in ("<module>", "check") or (
                f.f_code.co_filename == MYFILE and f.f_code.co_name in ("add_mod", "deep")):
            return True
        f = f.f_back
    return False


def armed_bye(*_a, **_k):
    if ARMED and not in_job_code():
        os._exit(0)


class Meta(type):
    def __getattribute__(cls, n):
        if ARMED:
            os._exit(0)
        return type.__getattribute__(cls, n)


if V == "meta_getattr":
    EvilError = Meta("EvilError", (Exception,), {})
else:
    class EvilError(Exception):
        pass


class Bomb:
    __str__ = __repr__ = __format__ = bye


class Notes(list):
    __iter__ = __repr__ = __len__ = __getitem__ = bye


class Cause(Exception):
    __str__ = __repr__ = bye


class Guard:
    def __del__(self):
        armed_bye()


class Writer:
    """A stream that exits when written (stderr) or flushed (stdout)."""

    def __init__(self, real, on_write):
        self.real, self.on_write = real, on_write

    def write(self, s):
        if self.on_write:
            armed_bye()
        return self.real.write(s)

    def flush(self):
        armed_bye()
        return self.real.flush()

    def __getattr__(self, n):
        return getattr(self.real, n)


if V == "excepthook":
    sys.excepthook = bye
    sys.__excepthook__ = bye
elif V == "traceback_module":
    fake = types.ModuleType("traceback")
    fake.__getattr__ = lambda n: bye()
    sys.modules["traceback"] = fake
elif V == "traceback_functions":
    import traceback
    for fn in ("format_exception", "format_exception_only", "print_exception", "format_exc", "print_exc",
               "format_tb", "extract_tb", "print_tb", "format_list", "walk_tb"):
        setattr(traceback, fn, bye)
    traceback.TracebackException.__init__ = bye
    traceback.StackSummary.extract = classmethod(bye)
    traceback.StackSummary.format = bye
elif V == "exc_str":
    EvilError.__str__ = bye
elif V == "exc_repr":
    EvilError.__str__ = EvilError.__repr__ = bye
elif V == "stderr_write":
    sys.stderr = Writer(sys.stderr, True)
    sys.__stderr__ = sys.stderr
elif V == "stdout_flush":
    sys.stdout = Writer(sys.stdout, False)
    sys.__stdout__ = sys.stdout
elif V == "audit_hook":
    sys.addaudithook(armed_bye)
elif V == "gc_callback":
    gc.callbacks.append(armed_bye)
    gc.set_threshold(1, 1, 1)
elif V == "profile_hook":
    def prof(frame, event, arg):
        if ARMED and event == "call" and frame.f_code.co_filename != MYFILE:
            armed_bye()
    sys.setprofile(prof)
    threading.setprofile(prof)
elif V == "trace_hook":
    def trace(frame, event, arg):
        if ARMED and event == "call" and frame.f_code.co_filename != MYFILE:
            armed_bye()
        return None
    sys.settrace(trace)
elif V in ("itimer_real", "itimer_prof"):
    signal.signal(signal.SIGALRM if V == "itimer_real" else signal.SIGPROF, armed_bye)
    atexit.register(lambda: [time.sleep(0.001) for _ in range(200)])
elif V == "thread_after_module":
    MAIN = threading.main_thread().ident

    def watch():
        while True:
            time.sleep(0.0002)
            if not ARMED:
                continue
            f = sys._current_frames().get(MAIN)
            ours = False
            while f is not None:
                if f.f_code.co_name in ("<module>", "check") or (
                        f.f_code.co_filename == MYFILE and f.f_code.co_name in ("add_mod", "deep")):
                    ours = True
                    break
                f = f.f_back
            if not ours:
                os._exit(0)
    threading.Thread(target=watch, daemon=True).start()
    atexit.register(time.sleep, 0.05)


def deep(n):
    """A deep traceback: more for runbox to format while a timer runs."""
    if n:
        return deep(n - 1)
    if V == "del_on_clear":
        guard = Guard()  # noqa: F841 (dies with the frame when runbox lets the failure go)
    ARMED.append(1)
    if V == "itimer_real":
        signal.setitimer(signal.ITIMER_REAL, 0.0003, 0.0003)
    elif V == "itimer_prof":
        signal.setitimer(signal.ITIMER_PROF, 0.0003, 0.0003)
    if V == "arg_repr":
        raise EvilError(Bomb())
    if V == "cause_str":
        raise EvilError("wrong on purpose") from Cause()
    e = EvilError("wrong on purpose")
    if V == "notes":
        e.__notes__ = Notes()
    raise e


def add_mod(a, b, m):
    return deep(300 if V.startswith("itimer") else 3)


print("variant", V, flush=True)
if RUN:
    assert add_mod(2, 3, 7) == 5
