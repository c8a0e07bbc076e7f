"""Ignores SIGXCPU (the soft CPU limit's warning) and keeps spinning, hoping
to run forever."""
import signal
signal.signal(signal.SIGXCPU, signal.SIG_IGN)
while True:
    pass
