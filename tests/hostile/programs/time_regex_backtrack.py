"""Catastrophic regex backtracking: the loop runs inside C code (the re
engine), where no Python-level signal handler gets a chance to run."""
import re
re.match(r"(a+)+$", "a" * 64 + "b")
print("finished")
