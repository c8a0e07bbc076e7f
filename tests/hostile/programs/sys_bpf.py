"""bpf(BPF_PROG_LOAD): loading eBPF programs, a rich source of kernel exploits."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("calling", flush=True)
r = libc.syscall(321, 5, ctypes.create_string_buffer(128), 128)
print(("ESCAPED sys_bpf returned %d" % r) if r >= 0 else ("DENIED errno %d" % ctypes.get_errno()), flush=True)
