"""prctl games: make itself dumpable again (so its memory opens up), clear
its parent-death signal (to outlive runbox), become a subreaper, let any
process ptrace it, raise ambient capabilities, touch securebits and the
memory map, and lift no_new_privs."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
PR = {
    "PR_SET_DUMPABLE 1": (4, 1),
    "PR_SET_PDEATHSIG 0": (1, 0),
    "PR_SET_CHILD_SUBREAPER 1": (36, 1),
    "PR_SET_PTRACER any": (0x59616d61, 0xFFFFFFFFFFFFFFFF),
    "PR_CAP_AMBIENT raise CAP_SYS_ADMIN": (47, 2, 21),
    "PR_SET_SECUREBITS 0": (28, 0),
    "PR_SET_MM start_brk": (35, 6, 0),
    "PR_SET_NO_NEW_PRIVS 0": (38, 0),
}
for name, args in PR.items():
    args = [ctypes.c_ulong(a) for a in args] + [ctypes.c_ulong(0)] * (5 - len(args))
    r = libc.prctl(*args)
    e = ctypes.get_errno()
    if r == 0:
        print("ESCAPED %s succeeded" % name, flush=True)
    else:
        print("DENIED %s: r=%d errno %d" % (name, r, e), flush=True)
print("dumpable now", libc.prctl(3, 0, 0, 0, 0), flush=True)
