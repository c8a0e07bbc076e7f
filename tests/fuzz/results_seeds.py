#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz_results into tests/fuzz/corpus/results/.

The seeds are binary, in the layout fuzz_results.c reads (all integers big
endian); this script is their readable source. Run it after changing either.

    u8  status (mod 9)       u8  flags: 1 timed_out, 2 stdout_truncated,
    u32 return_code                 4 stderr_truncated, 8 had_unexpected_error,
    u8  signal (mod 65)             16 namespace_truncated, 32 with a namespace
    u64 runtime (double bits)  u64 cpu_time (double bits)
    u64 max_rss_kb (<< 24)     u8  number of tracked files (mod 4)
    bytes stdout, bytes stderr     bytes: u16 length, then the bytes
    bytes id                       (a C string: cut at its first NUL)
    u8 null-flag + bytes, for error, error_detail, doc (flag & 1: NULL)
    bytes namespace string     (only with flag 32)
    per tracked file: u8 (1: absent, 2: truncated), bytes path, bytes data
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "results")

STATUS = ["ok", "error", "timeout", "memory", "output_limit", "signal", "violation", "invalid", "internal"]


def b(data):
    return struct.pack(">H", len(data)) + data


def opt(data):
    return b"\x01" + b(b"") if data is None else b"\x00" + b(data)


def seed(status="ok", flags=0, rc=0, signal=0, runtime=0.031542, cpu=0.029871, rss=13120,
         stdout=b"", stderr=b"", id=b"job", error=None, detail=None, doc=None, namespace=None,
         tracked=()):
    if namespace is not None:
        flags |= 32
    out = struct.pack(">BBiB", STATUS.index(status), flags, rc, signal)
    out += struct.pack(">dd", runtime, cpu) + struct.pack(">Q", rss << 24) + bytes([len(tracked)])
    out += b(stdout) + b(stderr) + b(id) + opt(error) + opt(detail) + opt(doc)
    if namespace is not None:
        out += b(namespace)
    for path, data, truncated in tracked:
        out += bytes([(1 if data is None else 0) | (2 if truncated else 0)]) + b(path) + b(data or b"")
    return out


SEEDS = {
    "ok-hello": seed(stdout=b"hello, world!\n"),
    "error-traceback": seed("error", rc=1, stderr=b"Traceback (most recent call last):\n  File \"raises.py\", line 3\nZeroDivisionError: division by zero\n",
                            error=b"ZeroDivisionError: division by zero",
                            detail=b"Traceback (most recent call last):\n  ...\n", doc=b"A module docstring."),
    "timeout-killed": seed("timeout", flags=1, rc=-9, signal=9, runtime=1.000731, cpu=0.998, error=b"timed out after 1 s"),
    "signal-segv": seed("signal", rc=-11, signal=11, error=b"killed by SIGSEGV", stdout=b"x\n"),
    "violation": seed("violation", rc=-31, signal=31, error=b"forbidden system call: ptrace"),
    "invalid-no-rc": seed("invalid", rc=5, error=b"line 3: field 'timeout' must be a number of seconds, not a string", id=b"oops"),
    "internal": seed("internal", flags=8, rc=-1, error=b"worker set-up failed"),
    "memory": seed("memory", rc=1, error=b"MemoryError", stderr=b"MemoryError\n"),
    "output-limit": seed("output_limit", flags=2 | 4, rc=-9, signal=9, stdout=b"spam\n" * 200, stderr=b"e" * 300),
    # bytes that are not UTF-8, alone, in runs, truncated sequences, overlongs, surrogates
    "invalid-utf8-bytes": seed(stdout=b"\xff\xfe\x80\xbf\xc0\xc1\xf5\xf8\xfc", stderr=b"caf\xe9 na\xefve"),
    "truncated-sequences": seed(stdout=b"\xe2\x82", stderr=b"ok\xf0\x9f\x98"),
    "overlong-and-surrogate": seed(stdout=b"\xc0\xaf\xe0\x80\xaf\xed\xa0\x80\xed\xbf\xbf\xf4\x90\x80\x80"),
    "valid-utf8-edges": seed(stdout="\u0080\u07ff\u0800\uffff\U00010000\U0010ffff\u2028\u2029\ufeff".encode()),
    "mixed-valid-invalid": seed(stdout="é".encode() + b"\xe9" + "😀".encode() + b"\xf0\x9f" + b"x"),
    # NULs and control characters
    "nul-bytes": seed(stdout=b"a\x00b\x00\x00c", stderr=b"\x00"),
    "control-chars": seed(stdout=bytes(range(0x00, 0x20)) + b"\x7f", stderr=b"\"quoted\" back\\slash /slash\r\n\t"),
    "escapes-in-strings": seed(id=b"id \"with\" \\ and \x01\x1f", error=b"tab\there\nnewline", doc=b"\x7f\x08\x0c"),
    "invalid-utf8-in-cstrings": seed(id=b"caf\xe9", error=b"\xff error", detail=b"\xc3\x28", doc=b"\xed\xa0\x80"),
    "all-bytes": seed(stdout=bytes(range(256)), stderr=bytes(range(255, -1, -1))),
    "namespace": seed(namespace=b"total\xff", flags=16),
    "tracked-files": seed(tracked=[(b"out.txt", b"result\n", False), (b"log", None, False), (b"big.bin", b"\x00\xff" * 8, True)]),
    "tracked-utf8-paths": seed(tracked=[("données/é.txt".encode(), "é".encode(), False), (b"a\x01b", b"x", True)]),
    "tracked-invalid-utf8-path": seed(tracked=[(b"caf\xe9.txt", b"data", True)]),
    "big-numbers": seed(rc=2147483647, signal=64, runtime=604800.999999, cpu=123456.000001, rss=(1 << 40) - 1),
    "negative-rc": seed("error", rc=-2147483648),
    "empty": b"",
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.unlink(os.path.join(OUT, name))
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name + ".bin"), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(SEEDS), OUT))


if __name__ == "__main__":
    main()
