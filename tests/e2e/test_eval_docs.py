#!/usr/bin/env python3
"""The examples of docs/eval.md run, and print what the doc says they print.

How an example is marked in docs/eval.md:

    <!-- example: NAME -->            starts example NAME (one per format at least;
                                      NAME is the --format name of the format)
    <!-- example: NAME uses=OTHER --> the same, starting from OTHER's files

and every fenced block after the marker, up to the next marker, belongs to it:

    ```jsonl file=problems.jsonl      a file: its text (plus a final newline) is
    ...                               written under that name into the example's
    ```                               own directory (world-readable: as root, jobs
                                      run under other uids)

    ```console                        commands, each on a line that starts with
    $ runbox eval ...                 "$ ", followed by the lines it prints: for
    ...                               runbox, standard error then standard output;
    $ jq -c '{task_id, passed}' FILE  for jq, its output
    ...
    ```

The commands run in the example's directory, in order, with the binary under
test ($RUNBOX) for `runbox`; `-j 2` is added to an eval that does not say how
many jobs to run (the output does not depend on it). `jq` is done here for
the forms the doc uses (`{a, b}` and paths like `.a.b["c"][1]`); where a real
jq is installed, its output must be the same. Each command's output must be
the lines the doc shows, except that "graded in 0.1 s" may give any time.
A console block outside an example fails the test: every command the doc
shows is run.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rbtest import RUNBOX, SOURCE_ROOT, cleanup_tmp_root, new_tmpdir  # noqa: E402

DOC = os.path.join(SOURCE_ROOT, "docs", "eval.md")
MARKER = re.compile(r"^<!-- example: ([\w+-]+)(?: uses=([\w+-]+))? -->$")
FENCE = re.compile(r"^```(\S*)(.*)$")


def parse_doc(path):
    """(examples, stray): examples as {name: {"uses", "files": [(name, text)],
    "consoles": [text]}} in the doc's order; stray console blocks' first lines."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    examples, stray, current, i = {}, [], None, 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        if m:
            current = examples.setdefault(m.group(1), {"uses": m.group(2), "files": [], "consoles": []})
            i += 1
            continue
        if lines[i].startswith("## ") and current is not None:
            current = None  # an example ends with its section
        f = FENCE.match(lines[i])
        if not f:
            i += 1
            continue
        body = []
        i += 1
        while i < len(lines) and lines[i] != "```":
            body.append(lines[i])
            i += 1
        i += 1
        text = "\n".join(body)
        attrs = dict(a.split("=", 1) for a in f.group(2).split() if "=" in a)
        if f.group(1) == "console":
            if current is None:
                stray.append(body[0] if body else "")
            else:
                current["consoles"].append(text)
        elif "file" in attrs:
            if current is None:
                stray.append("file=" + attrs["file"])
            else:
                current["files"].append((attrs["file"], text + "\n"))
    return examples, stray


def commands(console):
    """[(command line, [output lines])] of a console block."""
    out = []
    for line in console.split("\n"):
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
        else:
            raise ValueError("output before any command: %r" % line)
    return out


# ---- jq, the little the doc uses ------------------------------------------------------

PATH_STEP = re.compile(r'\.(\w+)|\.?\["((?:[^"\\]|\\.)*)"\]|\.?\[(\d+)\]')


def jq_path(value, path):
    pos = 0
    while pos < len(path):
        m = PATH_STEP.match(path, pos)
        if not m:
            raise ValueError("jq path %r not understood at %r" % (path, path[pos:]))
        key = m.group(1) if m.group(1) is not None else (
            json.loads('"%s"' % m.group(2)) if m.group(2) is not None else int(m.group(3)))
        if value is None:
            pass
        elif isinstance(key, int):
            value = value[key] if key < len(value) else None
        else:
            value = value.get(key)
        pos = m.end()
    return value


def jq(filter_text, value):
    filter_text = filter_text.strip()
    m = re.fullmatch(r"\{\s*(\w+(?:\s*,\s*\w+)*)\s*\}", filter_text)
    if m:
        return {k.strip(): value.get(k.strip()) for k in m.group(1).split(",")}
    if filter_text.startswith("."):
        return jq_path(value, filter_text)
    raise ValueError("jq filter %r not understood" % filter_text)


def jq_lines(args, cwd):
    """`jq -c FILTER FILE`, the output as lines."""
    if len(args) != 3 or args[0] != "-c":
        raise ValueError("expected jq -c FILTER FILE, got %r" % args)
    with open(os.path.join(cwd, args[2]), encoding="utf-8") as f:
        values = [json.loads(line) for line in f if line.strip()]
    return [json.dumps(jq(args[1], v), ensure_ascii=False, separators=(",", ":")) for v in values]


def normalised(lines):
    return [re.sub(r"graded in \d+(\.\d+)? s", "graded in N s", line) for line in lines]


class EvalDocExamples(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.examples, cls.stray = parse_doc(DOC)
        cls.dirs = {}

    def example_dir(self, name):
        """A fresh dir with the example's files (and those of the one it uses)."""
        ex = self.examples[name]
        d = new_tmpdir("eval-docs-" + re.sub(r"\W", "_", name))
        files = (self.examples[ex["uses"]]["files"] if ex["uses"] else []) + ex["files"]
        for fname, text in files:
            path = os.path.join(d, fname)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            os.chmod(path, 0o644)
        return d

    def run_example(self, name):
        self.assertIn(name, self.examples, "docs/eval.md has no example of %s" % name)
        ex = self.examples[name]
        self.assertTrue(ex["consoles"], "example %s shows no command" % name)
        d = self.example_dir(name)
        ran_eval = False
        for console in ex["consoles"]:
            for line, want in commands(console):
                argv = shlex.split(line)
                if argv[0] == "runbox":
                    args = argv[1:]
                    if args[0] == "eval" and not ({"-j", "--jobs"} & set(args)):
                        args += ["-j", "2"]
                    p = subprocess.run([RUNBOX] + args, cwd=d, capture_output=True, text=True, timeout=300)
                    self.assertEqual(p.returncode, 0, "example %s: %s\n%s" % (name, line, p.stderr))
                    got = p.stderr.splitlines() + p.stdout.splitlines()
                    ran_eval = ran_eval or args[0] == "eval"
                elif argv[0] == "jq":
                    got = jq_lines(argv[1:], d)
                    if shutil.which("jq"):
                        real = subprocess.run(argv, cwd=d, capture_output=True, text=True, check=True)
                        self.assertEqual(real.stdout.splitlines(), got, "this test's jq is not jq: %s" % line)
                else:
                    self.fail("example %s: a command this test cannot run: %s" % (name, line))
                self.assertEqual(normalised(got), normalised(want),
                                 "example %s: `%s` printed something else than the doc shows" % (name, line))
        self.assertTrue(ran_eval, "example %s runs no runbox eval" % name)

    def test_every_command_belongs_to_an_example(self):
        self.assertEqual(self.stray, [], "console or file blocks of docs/eval.md outside an example")

    def test_every_format_has_an_example(self):
        p = subprocess.run([RUNBOX, "eval", "--help"], capture_output=True, text=True, check=True)
        m = re.search(r"--format NAME.*?:\n\s+(.*?)\n\s+-k", p.stdout, re.S)
        self.assertIsNotNone(m, "runbox eval --help no longer lists the formats")
        names = [n.strip() for n in m.group(1).replace("\n", " ").split(",")]
        self.assertGreaterEqual(len(names), 9, names)
        self.assertEqual(sorted(set(names) - set(self.examples)), [], "formats without an example in docs/eval.md")

    def test_humaneval(self):
        self.run_example("humaneval")

    def test_mbpp(self):
        self.run_example("mbpp")

    def test_humaneval_plus(self):
        self.run_example("humaneval+")

    def test_mbpp_plus(self):
        self.run_example("mbpp+")

    def test_livecodebench(self):
        self.run_example("livecodebench")

    def test_apps(self):
        self.run_example("apps")

    def test_taco(self):
        self.run_example("taco")

    def test_codecontests(self):
        self.run_example("codecontests")

    def test_stdio(self):
        self.run_example("stdio")

    def test_no_example_is_left_untested(self):
        tested = {n[len("test_"):].replace("_plus", "+") for n in dir(self) if n.startswith("test_")}
        self.assertEqual(sorted(set(self.examples) - tested), [], "examples of docs/eval.md no test runs")


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        cleanup_tmp_root()
