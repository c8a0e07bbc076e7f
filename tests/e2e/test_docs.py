#!/usr/bin/env python3
"""The manifest examples in docs/ run, and give what the docs say they give.

Every ```jsonl block of docs/manifest.md and docs/results.md is run as a
manifest (from a dir holding the files the docs say it needs); each of its
lines gets exactly one record, and the outcomes the text states are checked.
An example that drifts from the code fails here, not in a user's hands."""
import json
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rbtest import (RunboxTestCase, fmt_record, new_tmpdir, run_batch,  # noqa: E402
                    cleanup_tmp_root, SOURCE_ROOT, RUNBOX)

DOCS = os.path.join(SOURCE_ROOT, "docs")


def jsonl_blocks(name):
    """The lines of each ```jsonl block (indented ones too, as in a list);
    blocks whose info string says more (```jsonl file=...) are not manifests."""
    with open(os.path.join(DOCS, name), encoding="utf-8") as f:
        text = f.read()
    return [[line.strip() for line in b.split("\n") if line.strip()]
            for b in re.findall(r"```jsonl\n(.*?)```", text, re.S)]


def example_dir():
    """A dir with what the examples expect beside the manifest."""
    d = new_tmpdir("docs")
    shutil.copy(os.path.join(SOURCE_ROOT, "examples", "hello.py"), d)
    os.mkdir(os.path.join(d, "lib"))
    with open(os.path.join(d, "lib", "__init__.py"), "w") as f:
        f.write("")
    with open(os.path.join(d, "lib", "util.py"), "w") as f:
        f.write("def helper():\n    return 'helped'\n")
    return d


class ManifestExamples(RunboxTestCase):
    @classmethod
    def setUpClass(cls):
        cls.blocks = jsonl_blocks("manifest.md")
        lines = [line for block in cls.blocks for line in block]
        cls.run_ = run_batch(lines, manifest_dir=example_dir(), prefix="docs")
        cls.nlines = len(lines)

    def rec(self, job_id):
        self.assertRunOK(self.run_)
        return self.one_record(self.run_, job_id)

    def test_every_example_line_has_one_valid_record(self):
        self.assertRunOK(self.run_)
        self.assertGreaterEqual(len(self.blocks), 5, "docs/manifest.md lost its examples")
        self.assertEqual(len(self.run_.records), self.nlines)
        for r in self.run_.records:
            self.assertNotIn(r["status"], ("invalid", "internal"), fmt_record(r))

    def test_first_example(self):
        self.assertEqual(self.rec("greet")["stdout"], "hello world\n")
        # sys.argv is [basename(path), *argv]; path defaults to <id>.py.
        self.assertEqual(self.rec("args")["stdout"], "['args.py', '-n', '3']\n")
        r = self.rec("slow")
        self.assertEqual((r["status"], r["timed_out"]), ("timeout", True), fmt_record(r))

    def test_namespaces_packages_and_files(self):
        r = self.rec("with-globals")
        self.assertEqual(r["namespace"], {"total": 60, "numbers": [1, 2, 3]}, fmt_record(r))
        r = self.rec("in-a-package")
        self.assertEqual((r["status"], r["stdout"]), ("ok", "helped\n"), fmt_record(r))
        r = self.rec("with-files")
        self.assertEqual(r["tracked_files"], {"out.txt": "A,B\n1,2\n"}, fmt_record(r))

    def test_command_list(self):
        r = self.rec("steps")
        self.assertEqual([c["stdout"] for c in r["commands"]], ["a\n", "ab\n", "abc\n"], fmt_record(r))
        self.assertEqual(r["tracked_files"], {"log": "abc"})

    def test_cases(self):
        for job_id in ("a-plus-b", "third"):
            r = self.rec(job_id)
            self.assertIs(r["passed"], True, fmt_record(r))

    def verdicts(self, job_id):
        r = self.rec(job_id)
        return [c["verdict"] for c in r["cases"]]

    def test_per_case_timeout(self):
        r = self.rec("slow-case")
        self.assertEqual((r["passed"], self.verdicts("slow-case")), (True, ["passed", "passed"]), fmt_record(r))

    def test_comparisons_pass_and_fail_the_cases_the_text_says(self):
        said = {
            "cmp-whitespace": ["passed", "wrong_output"],
            "cmp-tokens-tolerance": ["passed", "passed", "wrong_output"],
            "cmp-exact": ["passed", "wrong_output", "wrong_output"],
            "cmp-lines": ["passed", "wrong_output", "wrong_output"],
            "cmp-case-insensitive": ["passed", "passed", "wrong_output"],
            "cmp-floats": ["passed", "wrong_output", "wrong_output"],
            "cmp-floats-tolerance": ["passed"],
            "cmp-unordered-lines": ["passed", "wrong_output"],
            "cmp-livecodebench": ["passed", "wrong_output", "wrong_output"],
            "cmp-apps": ["passed", "passed", "wrong_output"],
            "cmp-taco": ["passed", "wrong_output", "wrong_output", "passed"],
            "cmp-codecontests": ["passed", "wrong_output"],
        }
        for job_id, verdicts in said.items():
            self.assertEqual(self.verdicts(job_id), verdicts, fmt_record(self.rec(job_id)))

    def test_every_comparison_has_an_example(self):
        """Every name runbox takes for `compare`, with cases and with calls, as
        its error message lists them, is used by an example line."""
        used = {"cases": set(), "calls": set()}
        for block in self.blocks:
            for line in block:
                job = json.loads(line)
                for kind, default in (("cases", "whitespace"), ("calls", "python")):
                    if kind in job:
                        used[kind].add(job.get("compare", default))
        for kind, test in (("cases", '"cases": [{"expected_stdout": ""}]'),
                           ("calls", '"entry_point": "f", "calls": [{"args": []}]')):
            p = subprocess.run([RUNBOX, "run", "-q", "-"], capture_output=True, text=True,
                               input='{"id": "x", "source": "", "compare": "nope", %s}\n' % test)
            error = json.loads(p.stdout.splitlines()[0])["error"]
            names = re.findall(r'"([\w-]+)"', error.split("must be one of", 1)[1])
            self.assertGreaterEqual(len(names), 5, error)
            self.assertEqual(sorted(set(names) - used[kind]), [],
                             "compare names for %s without a ```jsonl example in manifest.md" % kind)

    def test_a_system_exit_is_judged_by_the_output_where_the_grader_says(self):
        r = self.rec("exit-after-answer")
        self.assertEqual((r["status"], r["passed"]), ("error", True), fmt_record(r))
        r = self.rec("exit-after-answer-strict")
        self.assertEqual((r["status"], r["passed"], self.verdicts("exit-after-answer-strict")),
                         ("error", False, ["error"]), fmt_record(r))

    def test_call_comparisons(self):
        for job_id, calls in (("calls-evalplus-mbpp", ["passed", "passed"]),
                              ("calls-evalplus-atol", ["passed", "passed", "wrong"]),
                              ("calls-apps", ["passed", "passed", "wrong"]),
                              ("calls-livecodebench-tuple", ["passed"]),
                              ("calls-python-tuple", ["wrong"])):
            r = self.rec(job_id)
            self.assertEqual((r["passed"], r["calls"]), ("wrong" not in calls, calls), fmt_record(r))

    def test_function_call_tests(self):
        r = self.rec("add")
        # 0.1 + 0.2 is not 0.3 under Python's ==, as the doc's record shows.
        self.assertEqual((r["status"], r["passed"], r["calls"]), ("ok", False, ["passed", "passed", "wrong"]),
                         fmt_record(r))
        self.assertEqual(r["call_failures"][0]["returned"], "0.30000000000000004")
        r = self.rec("leet")
        self.assertEqual((r["passed"], r["calls_passed"]), (True, 2), fmt_record(r))
        r = self.rec("close-enough")
        self.assertEqual((r["passed"], r["calls"]), (True, ["passed", "passed"]), fmt_record(r))

    def test_program_from_a_file(self):
        r = self.rec("hello-file")
        self.assertEqual((r["status"], r["stdout"]), ("ok", "hello, from a file\n"), fmt_record(r))


class ResultsExamples(RunboxTestCase):
    def test_invalid_lines_give_the_documented_records(self):
        blocks = jsonl_blocks("results.md")
        self.assertEqual(len(blocks), 1, "docs/results.md's invalid-lines example moved")
        run = run_batch(blocks[0], prefix="docs-invalid")
        self.assertRunOK(run)
        by_line = {r.get("line"): r for r in run.records if r["status"] == "invalid"}
        self.assertEqual(sorted(by_line), [2, 3, 4], [fmt_record(r) for r in run.records])
        self.assertEqual(by_line[2]["error"],
                         "line 2: field 'timeout' must be a number of seconds, not a string")
        self.assertEqual(by_line[3]["error"], "line 3: not valid JSON (column 1)")
        self.assertEqual(by_line[4]["error"], "line 4: duplicate id 'ok-job' (first on line 1)")
        self.assertIsNone(by_line[4]["id"])
        ok = self.one_record(run, "ok-job")
        self.assertEqual((ok["status"], ok["stdout"]), ("ok", "1\n"))


class EvalExamples(RunboxTestCase):
    def test_the_sample_line_passes_on_humaneval(self):
        problems = os.path.join(os.path.abspath(os.environ.get("RUNBOX_DATASETS")
                                                or os.path.join(SOURCE_ROOT, "data")),
                                "HumanEval.jsonl.gz")
        if not os.path.isfile(problems):
            self.skipTest("HumanEval.jsonl.gz not found at %s (set RUNBOX_DATASETS)" % problems)
        blocks = jsonl_blocks("eval.md")
        self.assertEqual(len(blocks), 1, "docs/eval.md's sample example moved")
        d = new_tmpdir("docs-eval")
        samples = os.path.join(d, "samples.jsonl")
        with open(samples, "w") as f:
            f.write("\n".join(line.strip() for line in blocks[0]) + "\n")
        p = subprocess.run([RUNBOX, "eval", "--problems", problems, "--samples", samples, "-q"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip().split("\n")[-1], '{"pass@1": 1.0}', p.stderr)
        with open(samples + "_results.jsonl") as f:
            rec = json.loads(f.readline())
        self.assertEqual((rec["result"], rec["passed"], rec["model"]), ("passed", True, "m1"))


class GeneratedListsTests(unittest.TestCase):
    """Lists in the docs that the code prints are the code's."""

    def test_design_lists_the_workers_steps(self):
        zygote = os.environ.get("RUNBOX_ZYGOTE") or os.path.join(os.path.dirname(RUNBOX), "runbox-zygote")
        steps = subprocess.run([zygote, "--print-worker-steps"], stdout=subprocess.PIPE, check=True,
                               text=True).stdout.rstrip("\n").rstrip(";") + "."
        with open(os.path.join(DOCS, "design.md"), encoding="utf-8") as f:
            self.assertIn(steps, f.read(), "docs/design.md's list of the worker's steps is not the code's")


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        cleanup_tmp_root()
