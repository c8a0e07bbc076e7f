"""runbox.evaluate: what `runbox eval` does, pass@k and per-sample records."""

import gzip
import json
import os
import subprocess

import pytest

import runbox
from conftest import DATA

HUMANEVAL = os.path.join(DATA, "HumanEval.jsonl.gz")
MBPP = os.path.join(DATA, "sanitized-mbpp.json")


def humaneval(n):
    with gzip.open(HUMANEVAL, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f][:n]


def test_humaneval_from_lists():
    problems = humaneval(6)
    samples = []
    for p in problems:
        samples.append({"task_id": p["task_id"], "completion": p["canonical_solution"], "model": "ref"})
        samples.append({"task_id": p["task_id"], "completion": "    return None\n", "model": "none"})
    ev = runbox.evaluate(problems, samples, k=(1, 2), workers=2)
    assert ev.pass_at_k == {"pass@1": 0.5, "pass@2": 1.0}
    assert len(ev.records) == 12 and ev.passed == 6
    first = ev.records[0]
    assert (first["task_id"], first["model"], first.result, first.passed) == \
        (problems[0]["task_id"], "ref", "passed", True)
    assert ev.records[1].result.startswith("failed: ")
    assert ev.records[1].status in ("error", "ok")


def test_files_and_the_same_numbers_as_the_cli(tmp_path):
    problems = humaneval(10)
    samples = tmp_path / "samples.jsonl"
    with open(samples, "w") as f:
        for i, p in enumerate(problems):
            done = p["canonical_solution"] if i % 3 else "    raise ValueError('no')\n"
            f.write(json.dumps({"task_id": p["task_id"], "completion": done}) + "\n")
    ev = runbox.evaluate(HUMANEVAL, samples, k=[1], output=tmp_path / "kept.jsonl")
    assert (tmp_path / "kept.jsonl").exists()
    cli = subprocess.run([os.path.join(os.path.dirname(runbox.__file__), "bin", "runbox"), "eval",
                          "--problems", HUMANEVAL, "--samples", str(samples), "-k", "1", "-q",
                          "-o", str(tmp_path / "cli.jsonl")],
                         capture_output=True, text=True, check=True)
    assert ev.pass_at_k == json.loads(cli.stdout.strip().splitlines()[-1]) == {"pass@1": 0.6}
    assert ev.records[0].result == "failed: ValueError: no"


def test_mbpp_with_per_assert_results():
    with open(MBPP) as f:
        problems = json.load(f)[:3]
    samples = [{"task_id": p["task_id"], "completion": p["code"]} for p in problems]
    samples.append({"task_id": problems[0]["task_id"], "completion": "def nothing(): pass"})
    ev = runbox.evaluate(problems, samples, k=(1,))
    assert [r.passed for r in ev.records] == [True, True, True, False]
    assert all("tests" in r for r in ev.records)


def test_bad_arguments():
    with pytest.raises(ValueError, match="k must be"):
        runbox.evaluate([], [], k=(0,))
    with pytest.raises(TypeError, match="must be a dict"):
        runbox.evaluate([], ["not a dict"])
    with pytest.raises(runbox.EngineError, match="runbox eval failed"):
        runbox.evaluate("/nonexistent/problems.jsonl", [])


AGREEMENT = os.path.join(os.path.dirname(DATA), "tests", "agreement")


def test_humaneval_plus_with_a_cache_and_evalplus_json(tmp_path):
    problems = os.path.join(AGREEMENT, "humanevalplus_problems.jsonl.gz")
    with gzip.open(problems, "rt", encoding="utf-8") as f:
        tasks = [json.loads(line) for line in f][:2]
    samples = [{"task_id": t["task_id"], "solution": t["prompt"] + t["canonical_solution"]} for t in tasks]
    samples.append({"task_id": tasks[0]["task_id"], "solution": tasks[0]["prompt"] + "    return None\n"})
    ev = runbox.evaluate(problems, samples, k=(1,), workers=2, cache_dir=tmp_path / "cache",
                         evalplus_json=tmp_path / "eval_results.json", all_tests=True)
    assert [r.passed for r in ev.records] == [True, True, False]
    assert [(r["base_status"], r["plus_status"]) for r in ev.records[:2]] == [("pass", "pass")] * 2
    assert ev.records[2]["base_status"] == "fail"
    assert os.listdir(tmp_path / "cache")          # the reference outputs were kept
    assert set(json.load(open(tmp_path / "eval_results.json"))["eval"]) == {t["task_id"] for t in tasks}
    base = runbox.evaluate(problems, samples[:1], k=(1,), base_only=True, cache_dir=tmp_path / "cache")
    assert base.records[0]["base_status"] == "pass" and base.records[0].passed


def test_stdin_stdout_problems_named_by_format():
    problems = [{"name": "sum", "public_tests": {"input": ["1 2\n"], "output": ["3\n"]},
                 "private_tests": {"input": ["5 5\n"], "output": ["10\n"]},
                 "generated_tests": {"input": [], "output": []}}]
    samples = [{"task_id": "sum", "solution": "print(sum(map(int, input().split())))"},
               {"task_id": "sum", "solution": "print(3)"}]
    ev = runbox.evaluate(problems, samples, k=(1,), format="codecontests")
    assert [r.passed for r in ev.records] == [True, False]
    with pytest.raises(runbox.EngineError, match="format"):
        runbox.evaluate(problems, samples, k=(1,), format="no-such-format")
