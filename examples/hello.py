"""Greets whoever is named on the command line."""
import sys

print("hello,", " ".join(sys.argv[1:]) or "nobody")
