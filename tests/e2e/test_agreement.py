#!/usr/bin/python3
"""runbox eval agrees with each benchmark's own grader (docs/eval.md, "Agreement").

tests/agreement/ holds problems and samples of each format, and what the
benchmarks' real graders said of every sample (their verdicts, committed as
expected values; tests/agreement/README.md says how they were taken). Each
format is graded here by runbox eval, and every sample's verdict must be the
grader's: `passed`, and for HumanEval+ and MBPP+ `base_status` and
`plus_status` too. Where a grader's harness breaks a program that python3
runs (LiveCodeBench's and APPS's stdin replacement, their disabled exit()),
runbox runs it as python3 does: those samples carry `runbox_passed` and the
reason, and are checked against that.

Samples whose verdict depends on the machine's speed (`kind` slow_*) are left
out: the graders' verdicts were taken on one machine, at one load.

Run with Debian's interpreter: /usr/bin/python3 tests/e2e/test_agreement.py
"""
import gzip
import hashlib
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rbtest import RUNBOX, SOURCE_ROOT, cleanup_tmp_root, new_tmpdir  # noqa: E402

HERE = os.path.join(SOURCE_ROOT, "tests", "agreement")
TIMING_SENSITIVE = ("slow_exponential", "slow_on_big")

# evalplus gives a sample's calls of one kind at most 60 s together; the
# samples that loop for ever reach that cap (and burn a core while they do),
# every other sample ends far below 10 s, so the verdicts are the same.
EVALPLUS_FLAGS = ["--task-time-limit", "10"]

# format: (problems, samples, verdicts, extra flags)
FORMATS = {
    "humanevalplus": ("humanevalplus_problems.jsonl.gz", "humanevalplus_samples.jsonl", "humanevalplus_verdicts.jsonl",
                      EVALPLUS_FLAGS),
    "mbppplus": ("mbppplus_problems.jsonl.gz", "mbppplus_samples.jsonl", "mbppplus_verdicts.jsonl", EVALPLUS_FLAGS),
    "livecodebench": ("livecodebench_problems.jsonl", "livecodebench_samples.jsonl", "livecodebench_verdicts.jsonl", []),
    "livecodebench_own_file": ("livecodebench_problems.jsonl", "livecodebench_output.json", "livecodebench_verdicts.jsonl", []),
    "apps": ("apps_problems.jsonl", "apps_samples.jsonl", "apps_verdicts.jsonl", []),
    "taco": ("apps_problems.jsonl", "apps_samples.jsonl", "taco_verdicts.jsonl", ["--format", "taco"]),
    "codecontests": ("codecontests_problems.jsonl", "codecontests_samples.jsonl", "codecontests_verdicts.jsonl", []),
}


def lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def keyed(rows, by_order):
    """{(task_id as text, n): row}: by sample_index, or by order within a task
    (LiveCodeBench's own output file names samples by question and code index)."""
    out, seen = {}, {}
    for r in rows:
        task = str(r.get("task_id", r.get("question_id")))
        if by_order:
            n = seen.get(task, 0)
            seen[task] = n + 1
        else:
            n = r["sample_index"]
        out[(task, n)] = r
    return out


class Agreement(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = new_tmpdir("agreement")
        cls.cache = os.path.join(cls.dir, "cache")
        cls.passk = {}

    def grade(self, name, more=()):
        problems, samples, verdicts, flags = FORMATS[name]
        flags = flags + list(more)
        out = os.path.join(self.dir, name + ".jsonl")
        t0 = time.monotonic()
        p = subprocess.run([RUNBOX, "eval", "--problems", os.path.join(HERE, problems), "--samples",
                            os.path.join(HERE, samples), "-o", out, "--cache-dir", self.cache, "-j", "2", "-q"] + flags,
                           capture_output=True, text=True, timeout=900)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.passk[name] = json.loads(p.stdout.strip().splitlines()[-1])
        sys.stderr.write("  %s graded in %.1f s\n" % (name, time.monotonic() - t0))
        by_order = samples.endswith(".json")
        return keyed(lines(os.path.join(HERE, verdicts)), by_order), keyed(lines(out), by_order)

    def check(self, name, more=()):
        truth, ours = self.grade(name, more)
        wrong = []
        for key, t in sorted(truth.items(), key=str):
            if t["kind"] in TIMING_SENSITIVE:
                continue
            o = ours.get(key)
            if o is None:
                wrong.append("%s: no line" % (key,))
                continue
            want = {"passed": t.get("runbox_passed", t["passed"])}
            for f in ("base_status", "plus_status"):
                if f in t:
                    want[f] = t[f]
            got = {f: o.get(f) for f in want}
            if got != want:
                wrong.append("%s %s: grader %s, runbox %s (%s)" % (key, t["kind"], want, got, o.get("result")))
        self.assertEqual(wrong, [], "\n".join(wrong))

    def test_humanevalplus(self):
        """Also evalplus's eval_results.json: its dataset hash (the md5 of
        the problems' text, as evalplus computes it) and each sample's
        statuses as the results file has them."""
        ep = os.path.join(self.dir, "eval_results.json")
        self.check("humanevalplus", ["--evalplus-json", ep])
        problems = os.path.join(HERE, FORMATS["humanevalplus"][0])
        with gzip.open(problems, "rb") as f:
            md5 = hashlib.md5(f.read()).hexdigest()
        with open(ep, encoding="utf-8") as f:
            doc = json.load(f)
        self.assertEqual(doc["hash"], md5)
        self.assertEqual(set(doc["pass_at_k"]), {"base", "plus"})
        ours = lines(os.path.join(self.dir, "humanevalplus.jsonl"))
        theirs = [e for task in doc["eval"].values() for e in task]
        self.assertEqual(len(theirs), len(ours))
        by_task = {}
        for r in ours:
            by_task.setdefault(r["task_id"], []).append((r["base_status"], r["plus_status"]))
        for task, entries in doc["eval"].items():
            self.assertEqual([(e["base_status"], e["plus_status"]) for e in entries], by_task[task], task)
        self.check_merge("humanevalplus")
        self.check_cache_is_private("humanevalplus")

    def check_cache_is_private(self, name):
        """The reference cache holds every expected output: readable by its
        owner only, and one that others could write is not believed."""
        caches = [os.path.join(self.cache, f) for f in os.listdir(self.cache) if f.endswith(".jsonl")]
        self.assertTrue(caches)
        for c in caches:
            self.assertEqual(os.stat(c).st_mode & 0o777, 0o600, c)
            os.chmod(c, 0o666)
        problems, samples = FORMATS[name][0], FORMATS[name][1]
        one = os.path.join(self.dir, name + ".one.jsonl")
        with open(os.path.join(HERE, samples), encoding="utf-8") as f, open(one, "w", encoding="utf-8") as g:
            g.write(f.readline())
        p = subprocess.run([RUNBOX, "eval", "--problems", os.path.join(HERE, problems), "--samples", one,
                            "-o", one + ".out", "--cache-dir", self.cache, "-j", "2"] + FORMATS[name][3],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("computing the expected outputs", p.stderr)
        for c in caches:
            self.assertEqual(os.stat(c).st_mode & 0o777, 0o600, c)

    def check_merge(self, name):
        """The results split in two, as two shards would write them, and
        merged: the same file, and the same scores as eval printed (for
        HumanEval+ the base and base + extra ones too)."""
        results = os.path.join(self.dir, name + ".jsonl")
        with open(results, encoding="utf-8") as f:
            rows = f.readlines()
        shards = []
        for i in range(2):
            path = os.path.join(self.dir, "%s.shard%d.jsonl" % (name, i))
            with open(path, "w", encoding="utf-8") as f:
                f.writelines(rows[i::2])
            shards.append(path)
        merged = os.path.join(self.dir, name + ".merged.jsonl")
        p = subprocess.run([RUNBOX, "merge", "--samples", os.path.join(HERE, FORMATS[name][1]), "-o", merged, "-q"]
                           + shards, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout.strip().splitlines()[-1]), self.passk[name])
        self.assertEqual(len(lines(merged)), len(rows))

    def test_evalplus_calls_functions_whatever_the_text_says(self):
        """evalplus calls the entry point as a function: a sample that merely
        mentions a class Solution (LiveCodeBench's and APPS's test) is not
        called as Solution().f."""
        one = os.path.join(self.dir, "solution-text.jsonl")
        with open(one, "w", encoding="utf-8") as f:
            f.write(json.dumps({"task_id": "HumanEval/0", "solution":
                                "# not a class Solution here\ndef has_close_elements(numbers, threshold):\n"
                                "    return any(abs(a - b) < threshold for i, a in enumerate(numbers)"
                                " for b in numbers[i + 1:])\n"}) + "\n")
        p = subprocess.run([RUNBOX, "eval", "--problems", os.path.join(HERE, FORMATS["humanevalplus"][0]),
                            "--samples", one, "-o", one + ".out", "--cache-dir", self.cache, "-q"],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([r["passed"] for r in lines(one + ".out")], [True])

    def test_mbppplus(self):
        self.check("mbppplus")

    def test_livecodebench(self):
        self.check("livecodebench")

    def test_livecodebench_own_output_file(self):
        self.check("livecodebench_own_file")

    def test_apps(self):
        self.check("apps")

    def test_taco(self):
        self.check("taco")

    def test_codecontests(self):
        self.check("codecontests")


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        cleanup_tmp_root()
