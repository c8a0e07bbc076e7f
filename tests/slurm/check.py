"""The checks of the Slurm integration test (test_slurm.sh), one subcommand
each; every one exits 1 with a message saying what differs.

  check.py samples PROBLEMS OUT             write 164 canonical + 164 broken samples
  check.py shards SAMPLES N LOGDIR JOBID    the array's shard files and task logs
  check.py same SINGLE MERGED               results lines equal but for timings
  check.py passk SINGLE_OUT MERGED_OUT      the last stdout lines, equal pass@k
  check.py missing SAMPLES SHARD_FILE MISSING  the missing file holds that shard's samples
  check.py prefix OLD NEW K                 NEW's first K lines are OLD's, byte for byte

Standard library only (Debian's python3).
"""
import gzip
import json
import os
import random
import re
import sys

# The record fields that depend on the machine and the moment, not on the
# sample: masked before lines are compared byte for byte.
TIMING_FIELDS = ("runtime", "cpu_time", "max_rss_kb")
NUMBER = r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
TIMING_RE = re.compile(r'"(%s)":%s' % ("|".join(TIMING_FIELDS), NUMBER))
# A sample rerun after a wall-clock timeout on a busy machine says so in
# "rerun" (its first runtime); whether that happens depends on the load.
RERUN_RE = re.compile(r',"rerun":\{[^{}]*\}')

# Broken completions, one per task in turn: each fails its task's checks in a
# different way, deterministically and quickly (no timeouts).
BROKEN = (
    "    raise ValueError('broken sample')\n",  # an exception
    "    return (1 +\n",                        # a syntax error
    "    return None\n",                        # a wrong answer
    "",                                         # an empty completion
)


def fail(msg):
    sys.stderr.write("check.py: FAIL: %s\n" % msg)
    sys.exit(1)


def shard_of(key: bytes, count: int) -> int:
    """runbox's shard function, as docs/scaling.md states it: FNV-1a 64 over
    the key's bytes, the length xored in, the splitmix64 finaliser; 0 becomes
    1; modulo the number of shards."""
    mask = (1 << 64) - 1
    h = 0xCBF29CE484222325
    for b in key:
        h ^= b
        h = (h * 0x100000001B3) & mask
    h ^= len(key)
    h ^= h >> 30
    h = (h * 0xBF58476D1CE4E5B9) & mask
    h ^= h >> 27
    h = (h * 0x94D049BB133111EB) & mask
    h ^= h >> 31
    return (h or 1) % count


def sample_key(sample) -> bytes:
    """An eval sample's shard key: task_id, a NUL byte, the completion."""
    code = sample.get("completion", sample.get("solution"))
    return str(sample["task_id"]).encode() + b"\0" + code.encode()


def read_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        fail("%s: the last line has no newline" % path)
    return data.decode("utf-8").splitlines()


def cmd_samples(problems_path, out):
    with gzip.open(problems_path, "rt", encoding="utf-8") as f:
        problems = [json.loads(line) for line in f if line.strip()]
    if len(problems) != 164:
        fail("%s holds %d problems, expected HumanEval's 164" % (problems_path, len(problems)))
    samples = []
    for i, p in enumerate(problems):
        samples.append({"task_id": p["task_id"], "completion": p["canonical_solution"],
                        "kind": "canonical"})
        samples.append({"task_id": p["task_id"], "completion": BROKEN[i % len(BROKEN)],
                        "kind": "broken"})
    # Not in problem order, so that "the samples' order" means something.
    random.Random(7).shuffle(samples)
    for n, s in enumerate(samples):
        s["n"] = n
    with open(out, "w", encoding="utf-8") as f:
        for s in samples:
            f.write(json.dumps(s) + "\n")
    print("%d samples in %s" % (len(samples), out))


def cmd_shards(samples_path, count, logdir, jobid):
    """Each array task graded its own shard: its log's {"shard": "I/N"} line
    names its task id, the shard files are disjoint and cover every sample,
    and every sample is in the shard the documented hash gives it."""
    count = int(count)
    samples = [json.loads(line) for line in read_lines(samples_path)]
    owner = {}
    for i in range(count):
        path = "%s_results.shard-%d-of-%d.jsonl" % (samples_path, i, count)
        if not os.path.exists(path):
            fail("array task %d left no %s" % (i, path))
        lines = read_lines(path)
        for ln in lines:
            rec = json.loads(ln)
            idx = rec.get("sample_index")
            if not isinstance(idx, int) or not 0 <= idx < len(samples):
                fail("%s: a record without a valid sample_index: %.200s" % (path, ln))
            if idx in owner:
                fail("sample %d is in shard %d and in shard %d" % (idx, owner[idx], i))
            owner[idx] = i
            s = samples[idx]
            if rec.get("task_id") != s["task_id"] or rec.get("completion") != s["completion"]:
                fail("%s: sample_index %d holds another sample's record" % (path, idx))
            want = shard_of(sample_key(s), count)
            if want != i:
                fail("sample %d (%s) is in shard %d; the documented hash puts it in %d"
                     % (idx, s["task_id"], i, want))
        log = os.path.join(logdir, "eval-%s_%d.out" % (jobid, i))
        try:
            with open(log, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError as e:
            fail("array task %d: no log: %s" % (i, e))
        reports = [json.loads(l) for l in text.splitlines() if l.startswith('{"shard": ')]
        if not reports:
            fail("array task %d printed no {\"shard\": ...} line; its log:\n%s" % (i, text))
        want = {"shard": "%d/%d" % (i, count), "samples": len(lines),
                "passed": sum(json.loads(l)["passed"] for l in lines)}
        if reports[-1] != want:
            fail("array task %d reported %s, expected %s" % (i, reports[-1], want))
        print("array task %d: shard %s, %d samples, %d passed"
              % (i, want["shard"], want["samples"], want["passed"]))
    missing = sorted(set(range(len(samples))) - set(owner))
    if missing:
        fail("%d samples are in no shard file, the first: %s" % (len(missing), missing[:5]))
    print("%d shard files: disjoint, together all %d samples, each where the hash puts it"
          % (count, len(samples)))


def mask(line):
    masked, n = TIMING_RE.subn(lambda m: '"%s":_' % m.group(1), line)
    if n != len(TIMING_FIELDS):
        fail("a results line has %d of the timing fields %s, expected each once: %.300s"
             % (n, TIMING_FIELDS, line))
    return RERUN_RE.sub("", masked)


def cmd_same(single, merged):
    a, b = read_lines(single), read_lines(merged)
    if len(a) != len(b):
        fail("%s has %d lines, %s has %d" % (single, len(a), merged, len(b)))
    for n, (x, y) in enumerate(zip(a, b), 1):
        if mask(x) != mask(y):
            fail("line %d differs beyond timings:\n  single: %.400s\n  merged: %.400s"
                 % (n, mask(x), mask(y)))
    print("%d results lines, byte-identical but for %s" % (len(a), ", ".join(TIMING_FIELDS)))


def last_line(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    if not lines:
        fail("%s is empty" % path)
    return lines[-1]


def cmd_passk(single_out, merged_out):
    a, b = last_line(single_out), last_line(merged_out)
    if a != b:
        fail("pass@k differs: the single run printed %s, the merge %s" % (a, b))
    # Not vacuous: every canonical sample passed and every broken one failed.
    if json.loads(a) != {"pass@1": 0.5, "pass@2": 1.0}:
        fail("pass@k is %s, expected pass@1 0.5 and pass@2 1.0 (canonical pass, broken fail)" % a)
    print("pass@k: %s, in the single run and the merge" % a)


def cmd_missing(samples_path, shard_file, missing_path):
    """The merge's missing file lists exactly the samples of the lost shard,
    as they are in the samples file, in its order."""
    samples = read_lines(samples_path)
    lost = sorted(json.loads(l)["sample_index"] for l in read_lines(shard_file))
    want = [samples[i] for i in lost]
    got = read_lines(missing_path)
    if got != want:
        fail("%s has %d lines, expected the %d samples of the lost shard, verbatim"
             % (missing_path, len(got), len(want)))
    print("%s: the %d samples of the lost shard, verbatim and in order" % (missing_path, len(got)))


def cmd_prefix(old, new, k):
    k = int(k)
    a, b = read_lines(old), read_lines(new)
    if a[:k] != b[:k]:
        fail("the first %d lines of %s (graded before the crash) changed in %s: they were graded again"
             % (k, old, new))
    print("the %d lines graded before the crash were kept, not graded again" % k)


COMMANDS = {"samples": cmd_samples, "shards": cmd_shards, "same": cmd_same, "passk": cmd_passk,
            "missing": cmd_missing, "prefix": cmd_prefix}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
