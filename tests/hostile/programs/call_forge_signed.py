"""Function-call tests whose answers it cannot compute (a job's calls expect
secrets of the pass; an eval sample of RBH+/1 expects a value the
reference drew at random). Before its calls it reads its own memory
(every readable mapping), where the worker keeps the hex secret that signs
its messages, and, under every 32-hex-digit string it finds, writes signed
messages on the status channel (fd 1020) ahead of the worker's: results
for every call index claiming `returned` with guessed values (strings of
its memory that look like secrets), `passed` and `ok` outcomes, values
tagged as digests and as objects of no type, malformed values (bad ints
and floats, a decimal int of 5,000 digits, a hex one of 20,000, bad base64,
a dict with a key and no value, an unknown tag, nesting 5,000 deep),
negative, fractional and huge indexes, truncated JSON, pieces that never
end, a last piece alone, and a verdict of success. The first result of an
index is the one kept, so its forged ones are judged. Another variant
rewrites the worker's own buffer in place (ctypes) while a value is being
written: the call's outcome and the value's text become what it likes.
None may pass, and runbox must not fail."""
import ctypes
import json
import os
import re
import secrets
import sys

RB_VARIANT = None
V = RB_VARIANT or "forge"
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
FD = 1020
HEX = re.compile(rb"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
SECRETISH = re.compile(rb"RB" + rb"SECRET-[A-Z]+-[0-9a-f]{32}(?:-\d+)?")
print("TARGETS *", flush=True)
done = []


def own_memory():
    """Every readable mapping of this process (through /proc/self/mem, or ctypes)."""
    try:
        mem = open("/proc/self/mem", "rb", buffering=0)
    except OSError:
        mem = None
    with open("/proc/self/maps") as f:
        maps = f.read().splitlines()
    for line in maps:
        parts = line.split()
        lo, hi = (int(x, 16) for x in parts[0].split("-"))
        if "r" not in parts[1] or hi - lo > (64 << 20) or (len(parts) > 5 and parts[5] in ("[vvar]", "[vsyscall]")):
            continue
        if not mem and not parts[1].startswith("rw"):
            continue
        try:
            if mem:
                mem.seek(lo)
                yield mem.read(hi - lo)
            else:
                yield ctypes.string_at(lo, hi - lo)
        except (OSError, ValueError, OverflowError):
            continue


def payloads(guesses):
    big = [{"t": "calls", "results": [{"index": i, "outcome": "returned", "value": g} for i in range(64)]}
           for g in guesses[:20]]
    results = [{"index": i, "outcome": o} for i in range(64) for o in ("passed", "ok", "returned")]
    values = ['["h","00000000000000000000000000000000","12"]', '["x","str","x"]', '["i","-"]', '["i","0x"]',
              '["i","1e5"]', '["f","pi"]', '["z","!!!!"]', '["b","@@"]', '["d","k"]', '["q",1]', '[1,2]',
              '["i","%s"]' % ("9" * 5000), '["i","0x%s"]' % ("f" * 20000), '["l",' * 5000 + '1' + ']' * 5000,
              '["cs","(1e999j)"]', '["c","nan","inf"]', '["set",["l"]]', '["fs",["d"]]', 'null', '{}']
    raw = ['{"t":"calls","results":[{"index":%d,"outcome":"returned","value":%s}]}' % (i, v)
           for i in range(3) for v in values]
    raw += ['{"t":"calls","results":[{"index":-1,"outcome":"returned","value":1}]}',
            '{"t":"calls","results":[{"index":0.5,"outcome":"returned","value":1}]}',
            '{"t":"calls","results":[{"index":1e300,"outcome":"returned","value":1}]}',
            '{"t":"calls","results":[{"index":"0","outcome":"returned","value":1}]}',
            '{"t":"calls","results":{"index":0}}', '{"t":"calls","results":[{"index":0,"outcome":',
            '{"t":"calls","results":[1,2,3,[],{}]}', '{"t":"calls"}', '{"t":"verdict","outcome":"completed",'
            '"exit_code":0}', '{"t":"setup_failed","error":"x","exit_code":125}', '[]', '"calls"']
    return [json.dumps(p) for p in big] + [json.dumps({"t": "calls", "results": results})] + raw


def forge():
    hexes, guesses = set(), set()
    for data in own_memory():
        hexes.update(HEX.findall(data))
        guesses.update(SECRETISH.findall(data))
    guesses = sorted(g.decode() for g in guesses) or ["no guess"]
    print("CANDIDATES %d, GUESSES %d" % (len(hexes), len(guesses)), flush=True)
    msgs = payloads(guesses)
    sent = 0
    for h in sorted(hexes)[:400]:
        for m in msgs:
            for frame in (b"M",):
                try:
                    os.write(FD, h + frame + m.encode())
                    sent += 1
                except OSError:
                    pass
        for piece in (b"C" + b"x" * 30000, b"C" + b"{" * 30000, b"E" + b"}"):
            try:
                os.write(FD, h + piece)
            except OSError:
                pass
        try:
            os.write(FD, h + b"C" + b'{"t":"calls","results":[')  # a piece that never ends
        except OSError:
            pass
    print("FORGED %d messages" % sent, flush=True)
    return guesses


MARK = "RBMARK-" + secrets.token_hex(16)


class Tamper:
    """Written as the second item of a list whose first is MARK: by the time the
    worker asks for its repr (it is of no type the worker tags, so its repr is
    the one piece of program code the serialiser runs), the call's result is
    in the worker's buffer up to here. It finds that text in its own memory
    and rewrites it in place: the result's outcome, and the marker, become
    what it likes."""

    def __repr__(self):
        needle = ('"value":["l","%s"' % MARK).encode()
        with open("/proc/self/maps") as f:
            maps = [l.split() for l in f.read().splitlines()]
        hits = 0
        for parts in maps:
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if not parts[1].startswith("rw") or hi - lo > (256 << 20) or (len(parts) > 5 and parts[5].startswith("[v")):
                continue
            data = ctypes.string_at(lo, hi - lo)
            at = data.find(needle)
            while at >= 0:
                start = data.rfind(b'"outcome":"returned"', max(0, at - 200), at)
                if start >= 0:
                    ctypes.memmove(lo + start, b'"outcome":"passed__"', 20)
                guess = (done[0][0] if done and isinstance(done[0][0], str) else "no guess").encode()
                ctypes.memmove(lo + at + 14, guess[:len(MARK)].ljust(len(MARK), b" "), len(MARK))
                hits += 1
                at = data.find(needle, at + 1)
        print("TAMPERED %d" % hits, flush=True)
        return "tamper"


if V == "forge":
    # Before any call (a call has its own time limit, the main module only the job's).
    done.append(forge())
else:
    done.append(["no guess"])


def answer(n):
    if V == "tamper_buffer":
        return [MARK, Tamper()]
    return done[0][n % len(done[0])]


def rb_value(kind, n):
    return answer(n)


def rb_secret(n):
    return answer(n)
