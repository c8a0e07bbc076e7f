"""Stops itself with SIGSTOP: a stopped process uses no CPU and never exits
on its own; the supervisor must still end it at the wall-clock limit."""
import os
import signal
print("stopping myself", flush=True)
os.kill(os.getpid(), signal.SIGSTOP)
print("resumed?", flush=True)
