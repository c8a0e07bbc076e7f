"""Catches SIGXCPU with a handler that says so and carries on spinning."""
import signal
import sys

def on_xcpu(signum, frame):
    sys.stdout.write("caught SIGXCPU, carrying on\n")
    sys.stdout.flush()

signal.signal(signal.SIGXCPU, on_xcpu)
while True:
    pass
