"""Makes a 32-bit system call through int 0x80 from 64-bit code (executable
memory written through ctypes): the i386 entry point has its own syscall
numbers, which an x86-64 filter must not confuse with its own."""
import ctypes
import mmap
import platform
if platform.machine() != "x86_64":
    print("SKIPPED not x86_64", flush=True)
    raise SystemExit(0)
code = bytes([0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0xc3])  # mov eax, 20 (i386 getpid); int 0x80; ret
m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
m.write(code)
f = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(m)))
print("calling", flush=True)
print("ESCAPED int 0x80 getpid returned", f(), flush=True)
