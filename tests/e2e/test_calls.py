#!/usr/bin/env python3
"""Function-call tests (docs/manifest.md#function-call-tests), end to end:
the real binary, the real worker, values compared in the supervisor."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rbtest import RunboxTestCase, cleanup_tmp_root, fmt_record, run_batch  # noqa: E402

SECRET = "expected-value-7f3a9c0e51d2"


def job(id, source, calls, **kw):
    return dict(id=id, source=source, calls=calls, entry_point=kw.pop("entry_point", "f"), **kw)


class CallTests(RunboxTestCase):
    @classmethod
    def setUpClass(cls):
        jobs = [
            job("types", "def f(x):\n    return x\n", [
                {"args": [1], "expected": 1.0},
                {"args": [{"$tuple": [1, 2]}], "expected": [1, 2]},
                {"args": [{"$set": [3, 1]}], "expected": {"$frozenset": [1, 3]}},
                {"args": [{"$dict": [[1, "a"]]}], "expected": {"$dict": [[1, "a"]]}},
                {"args": [{"$bytes": "AAE="}], "expected": {"$bytes": "AAE="}},
                {"args": [{"$complex": "(1-2j)"}], "expected": {"$complex": "1-2j"}},
            ]),
            # An int far past the interpreter's 4,300-digit decimal limit travels as hex.
            job("huge", "def f(n):\n    return 7 ** n\n", [{"args": [9000], "expected": {"$int": hex(7 ** 9000)}}]),
            job("liar", "class Yes:\n    def __eq__(self, other):\n        return True\n"
                        "def f():\n    return Yes()\n", [{"args": [], "expected": 42}]),
            job("errors", "def f(x):\n    if x == 0:\n        raise KeyError('zero')\n"
                          "    if x == 1:\n        while True:\n            pass\n    return x\n",
                [{"args": [0], "expected": 0}, {"args": [1], "expected": 1, "timeout": 0.3},
                 {"args": [2], "expected": 2}], all_tests=True, timeout=20),
            job("group-stops", "def f(x):\n    if x < 0:\n        raise ValueError(x)\n    return x\n",
                [{"args": [1], "expected": 1, "group": 0}, {"args": [-1], "expected": -1, "group": 0},
                 {"args": [2], "expected": 2, "group": 0}, {"args": [3], "expected": 3, "group": 1}]),
            # A call that swallows its alarm runs on until the job's own deadline.
            job("swallow", "def f():\n    while True:\n        try:\n            while True:\n                pass\n"
                           "        except BaseException:\n            pass\n",
                [{"args": [], "expected": 0, "timeout": 0.2}], timeout=2),
            job("mutation", "def f(xs):\n    xs.append(1)\n    return len(xs)\n",
                [{"args": [[]], "expected": 1}, {"args": [[]], "expected": 1}]),
            job("method", "class Solution:\n    def __init__(self):\n        self.calls = 0\n"
                          "    def count(self):\n        self.calls += 1\n        return self.calls\n",
                [{"args": [], "expected": 1}, {"args": [], "expected": 2}], entry_class="Solution",
                entry_point="count"),
            job("missing", "x = 1\n", [{"args": [], "expected": 1}, {"args": [], "expected": 2}]),
            job("no-expected", "def f(a):\n    return {'sum': a + 1}\n", [{"args": [1]}]),
            job("program-fails", "raise SystemExit(3)\ndef f():\n    return 1\n", [{"args": [], "expected": 1}]),
            # The expected value is nowhere the job can reach: not in its memory, not in /proc.
            job("hunt", "import gc, os\n"
                        "def f():\n"
                        "    found = any(isinstance(o, str) and %r in o for o in gc.get_objects())\n"
                        "    for name in os.listdir('/proc/self'):\n"
                        "        try:\n"
                        "            found = found or %r.encode() in open('/proc/self/' + name, 'rb').read()\n"
                        "        except Exception:\n"
                        "            pass\n"
                        "    return 'FOUND' if found else 'nothing'\n" % (SECRET[:12] + SECRET[12:], SECRET),
                [{"args": [], "expected": SECRET}]),
            job("evalplus", "def f(x):\n    return x * 1.0000001\n",
                [{"args": [1.0], "expected": 1.0}, {"args": [3.0], "expected": 3.5}], compare="evalplus-humaneval"),
            job("apps", "def f(x):\n    return x + 1\n", [{"args": [1], "expected": [2]}], compare="apps"),
        ]
        cls.run_ = run_batch(jobs, prefix="calls")

    def rec(self, job_id):
        self.assertRunOK(self.run_)
        return self.one_record(self.run_, job_id)

    def test_values_keep_their_types(self):
        r = self.rec("types")
        self.assertEqual(r["calls"], ["passed", "wrong", "passed", "passed", "passed", "passed"], fmt_record(r))
        self.assertEqual(r["call_failures"][0]["returned"], "(1, 2)")
        self.assertEqual(r["call_failures"][0]["expected"], "[1, 2]")
        self.assertEqual(self.rec("huge")["calls"], ["passed"])

    def test_a_value_that_says_it_equals_anything_does_not(self):
        r = self.rec("liar")
        self.assertEqual((r["passed"], r["calls"]), (False, ["wrong"]), fmt_record(r))
        self.assertIn("Yes object", r["call_failures"][0]["returned"])

    def test_exceptions_and_time_limits(self):
        r = self.rec("errors")
        self.assertEqual(r["calls"], ["exception", "timeout", "passed"], fmt_record(r))
        first, second = r["call_failures"]
        self.assertEqual((first["exception"], first["error"]), ("KeyError", "KeyError: 'zero'"))
        self.assertGreaterEqual(second["time"], 0.3)
        r = self.rec("group-stops")
        self.assertEqual(r["calls"], ["passed", "exception", "not_run", "passed"], fmt_record(r))
        r = self.rec("swallow")
        self.assertEqual((r["status"], r["calls"]), ("timeout", ["not_run"]), fmt_record(r))

    def test_each_call_gets_arguments_of_its_own_and_methods_one_instance(self):
        self.assertEqual(self.rec("mutation")["calls"], ["passed", "passed"])
        self.assertEqual(self.rec("method")["calls"], ["passed", "passed"])

    def test_a_missing_entry_point_fails_the_first_call(self):
        r = self.rec("missing")
        self.assertEqual(r["calls"], ["exception", "not_run"], fmt_record(r))
        self.assertEqual(r["call_failures"][0]["error"], "NameError: name 'f' is not defined")

    def test_returned_values_without_expected_ones(self):
        r = self.rec("no-expected")
        self.assertEqual((r["passed"], r["calls"]), (True, ["returned"]), fmt_record(r))

    def test_calls_run_only_after_a_program_that_completed(self):
        r = self.rec("program-fails")
        self.assertEqual((r["status"], r["return_code"], r["calls"]), ("error", 3, ["not_run"]), fmt_record(r))

    def test_the_expected_value_never_reaches_the_job(self):
        r = self.rec("hunt")
        self.assertEqual(r["call_failures"][0]["returned"], "'nothing'", fmt_record(r))

    def test_benchmark_rules(self):
        self.assertEqual(self.rec("evalplus")["calls"], ["passed", "wrong"])
        self.assertEqual(self.rec("apps")["calls"], ["passed"])


class CallManifestErrors(RunboxTestCase):
    def test_bad_lines_name_the_field(self):
        lines = [
            {"id": "a", "source": "", "calls": [{"args": 1}], "entry_point": "f"},
            {"id": "b", "source": "", "calls": [{"args": []}]},
            {"id": "c", "source": "", "calls": [{"args": []}], "entry_point": "f", "compare": "fuzzy"},
            {"id": "d", "source": "", "calls": [{"args": [], "extra": 1}], "entry_point": "f"},
            {"id": "e", "source": "", "entry_point": "f"},
            {"id": "f", "source": "", "calls": [{"args": [{"$tuple": 3}]}], "entry_point": "f"},
            {"id": "g", "source": "", "calls": [{"args": []}], "cases": [{"expected_stdout": ""}], "entry_point": "f"},
        ]
        run = run_batch(lines, prefix="calls-invalid")
        want = {
            "a": "field 'calls': item 0: 'args' must be an array (the positional arguments)",
            "b": "field 'calls' needs 'entry_point'",
            "c": "field 'compare' for calls must be one of",
            "d": "field 'calls': item 0 has an unknown field 'extra'",
            "e": "field 'entry_point' only goes with 'calls'",
            "f": "field 'calls': item 0: 'args': a $-escape whose value is not an array",
            "g": "fields 'calls' and 'cases' exclude each other",
        }
        for job_id, text in want.items():
            r = self.one_record(run, job_id)
            self.assertEqual(r["status"], "invalid", fmt_record(r))
            self.assertIn(text, r["error"], fmt_record(r))


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        cleanup_tmp_root()
