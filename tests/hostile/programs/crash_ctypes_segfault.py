"""Reads unmapped memory (address 8) through ctypes."""
import ctypes
print("about to crash", flush=True)
ctypes.string_at(8, 16)  # not NULL: ctypes would not even read that
