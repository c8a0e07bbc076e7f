"""Ignores and blocks every signal it is allowed to (SIGXCPU, SIGALRM,
SIGTERM, SIGINT, SIGHUP, ...), arms an alarm it will never see, and spins."""
import signal

for s in signal.valid_signals():
    try:
        signal.signal(s, signal.SIG_IGN)
    except (OSError, ValueError, RuntimeError):
        pass
signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
signal.alarm(1)
while True:
    pass
