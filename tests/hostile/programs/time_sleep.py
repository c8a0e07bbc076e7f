"""Sleeps for an hour: uses no CPU, so only the wall-clock limit stops it."""
import time
time.sleep(3600)
