"""Spins forever in a pure-Python loop: only the CPU-time limit can stop it."""
n = 0
while True:
    n += 1
