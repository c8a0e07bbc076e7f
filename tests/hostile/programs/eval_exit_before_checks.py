"""An eval sample whose add_mod is wrong, that tries to end with exit code 0
before its checks can fail: os._exit(0) or sys.exit(0) before the checks;
SystemExit(0) or KeyboardInterrupt from inside add_mod (so from inside a
check); a profile hook that calls os._exit(0) when a frame returns with
the failure (before the main module, or the check, is over); a thread that
calls os._exit(0) while the checks run. Exit code 0 is not a verdict: a
sample passes only when its checks ran to their end."""
import os
import sys
import threading
import time

RB_VARIANT = None
V = RB_VARIANT or "os_exit"


def add_mod(a, b, m):
    if V == "systemexit_in_check":
        raise SystemExit(0)
    if V == "keyboard_in_check":
        raise KeyboardInterrupt
    if V == "thread_during_checks":
        threading.Thread(target=lambda: (time.sleep(0.001), os._exit(0)), daemon=True).start()
        time.sleep(0.01)
    return 0


if V == "profile_on_return":
    def prof(frame, event, arg):
        if event == "return" and arg is None:  # a frame ending by an exception (or returning None)
            os._exit(0)
    sys.setprofile(prof)
if V == "os_exit":
    os._exit(0)
if V == "sys_exit":
    sys.exit(0)
