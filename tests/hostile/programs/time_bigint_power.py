"""Huge integer arithmetic (10**10**8): minutes of CPU inside one C call."""
x = 10 ** 10 ** 8
print(x.bit_length())
