"""Changes its execution domain with personality(): ADDR_NO_RANDOMIZE (turns
off ASLR), READ_IMPLIES_EXEC; a query (0xffffffff) is allowed."""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.personality.argtypes = [ctypes.c_ulong]
print("query", libc.personality(0xFFFFFFFF), flush=True)
for name, persona in (("ADDR_NO_RANDOMIZE", 0x0040000), ("READ_IMPLIES_EXEC", 0x0400000), ("PER_LINUX32", 0x0008)):
    r = libc.personality(persona)
    now = libc.personality(0xFFFFFFFF)
    if now & persona:
        print("ESCAPED personality %s set (now %#x)" % (name, now), flush=True)
    else:
        print("DENIED personality %s: r=%d errno %d" % (name, r, ctypes.get_errno()), flush=True)
