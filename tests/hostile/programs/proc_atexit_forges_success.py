"""Fails, then tries to turn the failure into success from an atexit handler
with os._exit(0) after the main module ended."""
import atexit
import os
atexit.register(lambda: os._exit(0))
raise ValueError("this program failed")
