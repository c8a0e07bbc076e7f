"""A job with test cases whose program prints the right answer (the sum of
the two numbers it reads) and then fails (EvilError), which under python3
fails the case. It tries to make the failure pass unnoticed: exit 0 from
sys.excepthook, from an exception whose str() exits, from atexit after
closing its status channel, after flooding it, after shutting it down, or
from a thread once the main module is gone. One variant per job. A case
passes only when the program itself ended well: never here."""
import atexit
import os
import socket
import sys
import threading
import time

RB_VARIANT = None
V = RB_VARIANT or "excepthook"
MAIN = threading.main_thread().ident
MYFILE = sys._getframe().f_code.co_filename


class EvilError(Exception):
    pass


def bye(*_):
    os._exit(0)


if V == "excepthook":
    sys.excepthook = bye
elif V == "exc_str":
    EvilError.__str__ = EvilError.__repr__ = bye
elif V == "close":
    os.close(1020)
    atexit.register(bye)
elif V == "shutdown":
    try:
        socket.socket(fileno=os.dup(1020)).shutdown(socket.SHUT_RDWR)
    except OSError:
        os.close(1020)
    atexit.register(bye)
elif V == "flood":
    n = 0
    while n < (1 << 20) + (100 << 10):
        n += os.write(1020, b"J" * 4096)
    atexit.register(bye)
elif V == "thread":
    def watch():
        while True:
            time.sleep(0.0005)
            f = sys._current_frames().get(MAIN)
            while f is not None and f.f_code.co_filename != MYFILE:
                f = f.f_back
            if f is None:
                os._exit(0)
    threading.Thread(target=watch, daemon=True).start()

a, b = map(int, input().split())
print(a + b, flush=True)
raise EvilError("the answer was printed, then the program failed")
