"""The Python package against what it replaces, side by side in one run.

Run through bench/python.sh, which installs the package into a fresh venv
and runs this with the venv's Python. Two comparisons, each over the same
jobs with the same number in flight (-j, default 2), in rounds that
alternate the order of the two sides (a slow patch of a shared machine hits
both alike); ratios are taken within a round, and their median reported:

1. trivial jobs (``print(sum(range(100)))``): ``runbox.run`` yielding a
   Result per job, against ``runbox run`` (the binary that came with the
   package) writing the records to a file. Both include starting their pool.
   Target: runbox.run within 10% of runbox run.

2. the same programs as predictions through ``runbox.code_execution.
   execute_predictions`` (the simple-code-execution interface), against a
   baseline written here from that library's documented method
   (preprocess, write, execute, clean up, postprocess): the preprocessor run
   in a multiprocessing pool (the library documents that it runs there, and
   must be picklable), every prediction's files written into a directory of
   its own, then the commands run by a multiprocessing pool of -j processes,
   each command a ``python3`` process in that directory (Popen, communicate
   with a timeout), then the tracked files read back, the directories
   removed, and the postprocessor run here. Target: the facade at least
   5x the baseline. For reference, a leaner variant is timed too: the same
   work per prediction from a thread pool, no phases and no multiprocessing
   (a bare ``python3``-process pool, faster than the library's method).

Writes bench/results/python-latest.json and prints a table.
"""

import argparse
import concurrent.futures
import datetime
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import runbox
from runbox.code_execution import (Command, CommandResult, Executable, ExecutionConfig,
                                   execute_predictions)

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
SOURCE = "print(sum(range(100)))"
EXPECTED = "4950\n"
# The baseline's python3: Debian's, as on a fresh Debian 12 (a pyenv shim
# first on PATH would make it slower still, and the comparison unfair).
PYTHON3 = "/usr/bin/python3"


def trivial_jobs(n):
    return [{"id": str(i), "source": SOURCE} for i in range(n)]


def cli_run(n, j, workdir):
    manifest = os.path.join(workdir, "trivial.jsonl")
    with open(manifest, "w") as f:
        for job in trivial_jobs(n):
            f.write(json.dumps(job) + "\n")
    out = os.path.join(workdir, "results.jsonl")
    if os.path.exists(out):
        os.unlink(out)
    exe = os.path.join(os.path.dirname(runbox.__file__), "bin", "runbox")
    t0 = time.perf_counter()
    subprocess.run([exe, "run", manifest, "-j", str(j), "-q", "-o", out], check=True)
    wall = time.perf_counter() - t0
    with open(out) as f:
        ok = sum(1 for line in f if json.loads(line)["stdout"] == EXPECTED)
    assert ok == n, f"runbox run: {ok} of {n} jobs gave the expected output"
    return n / wall


def py_run(n, j):
    jobs = trivial_jobs(n)
    t0 = time.perf_counter()
    ok = sum(1 for r in runbox.run(jobs, workers=j) if r.stdout == EXPECTED)
    wall = time.perf_counter() - t0
    assert ok == n, f"runbox.run: {ok} of {n} jobs gave the expected output"
    return n / wall


def predictions(n):
    return [{"id": i, "code": SOURCE} for i in range(n)]


def preprocessor(prediction):
    return Executable(files={"main.py": prediction["code"]},
                      commands=[Command(command=["python3", "main.py"])])


def postprocessor(prediction, result):
    return {"id": prediction["id"], "output": result.command_results[0].stdout,
            "success": result.command_results[0].return_code == 0}


def facade(n, j):
    t0 = time.perf_counter()
    out = execute_predictions(ExecutionConfig(num_workers=j, default_timeout=10), predictions(n),
                              preprocessor, postprocessor)
    wall = time.perf_counter() - t0
    ok = sum(1 for r in out.results if r["output"] == EXPECTED and r["success"])
    assert ok == n, f"facade: {ok} of {n} predictions gave the expected output"
    return n / wall


def execute(argv, cwd, timeout, stdin=None):
    """One command as its own process, output captured, with a timeout."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(input=stdin, timeout=timeout)
        return {"return_code": proc.returncode, "stdout": out.decode(), "stderr": err.decode(),
                "timed_out": False, "runtime": time.perf_counter() - start}
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"return_code": 0, "stdout": "", "stderr": "", "timed_out": True, "runtime": timeout}


def run_commands(item):
    """A prediction's commands in its directory, stopping at the first that fails."""
    directory, commands = item
    results = []
    for argv, timeout in commands:
        res = execute(argv, directory, timeout)
        results.append(res)
        if res["return_code"] != 0 or res["timed_out"]:
            break
    return results


class _Result:
    """What the postprocessor reads: command_results with the fields it uses."""

    def __init__(self, results):
        self.command_results = [CommandResult(r["return_code"], r["runtime"], r["stdout"],
                                              r["stderr"], r["timed_out"]) for r in results]


def library_method(n, j, workdir):
    """The library's documented method, written here: preprocess every
    prediction, write all their files, run the commands from a pool of
    processes, read tracked files back and clean up, postprocess."""
    t0 = time.perf_counter()
    root = tempfile.mkdtemp(prefix="sce-", dir=workdir)
    preds = predictions(n)
    with multiprocessing.get_context("fork").Pool(processes=j) as pool:
        executables = pool.map(preprocessor, preds, chunksize=1)
    work = []
    for idx, ex in enumerate(executables):
        d = os.path.join(root, f"pred{idx}")
        os.makedirs(d)
        for name, text in ex.files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        work.append((d, [([PYTHON3 if c.command[0] == "python3" else c.command[0], *c.command[1:]],
                          c.timeout or 10) for c in ex.commands]))
    with multiprocessing.get_context("fork").Pool(processes=j) as pool:
        ran = pool.map(run_commands, work, chunksize=1)
    out = []
    for (d, _), ex, prediction, results in zip(work, executables, preds, ran):
        tracked = {}
        for name in ex.tracked_files:
            p = os.path.join(d, name)
            tracked[name] = open(p).read() if os.path.exists(p) else None
        shutil.rmtree(d)
        out.append(postprocessor(prediction, _Result(results)))
    wall = time.perf_counter() - t0
    shutil.rmtree(root, ignore_errors=True)
    ok = sum(1 for r in out if r["output"] == EXPECTED and r["success"])
    assert ok == n, f"library method: {ok} of {n} predictions gave the expected output"
    return n / wall


def thread_pool(n, j, workdir):
    """The lean variant: a directory, files and a python3 process per
    prediction, from a thread pool, no phases."""
    root = tempfile.mkdtemp(prefix="sce-", dir=workdir)

    def one(item):
        idx, prediction = item
        ex = preprocessor(prediction)
        d = os.path.join(root, f"pred{idx}")
        os.makedirs(d)
        for name, text in ex.files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        results = []
        for cmd in ex.commands:
            argv = [PYTHON3 if cmd.command[0] == "python3" else cmd.command[0], *cmd.command[1:]]
            res = execute(argv, d, cmd.timeout or 10)
            results.append(res)
            if res["return_code"] != 0 or res["timed_out"]:
                break
        tracked = {}
        for name in ex.tracked_files:
            p = os.path.join(d, name)
            tracked[name] = open(p).read() if os.path.exists(p) else None
        shutil.rmtree(d)
        return {"id": prediction["id"], "output": results[0]["stdout"],
                "success": results[0]["return_code"] == 0}

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=j) as pool:
        out = list(pool.map(one, enumerate(predictions(n))))
    wall = time.perf_counter() - t0
    shutil.rmtree(root, ignore_errors=True)
    ok = sum(1 for r in out if r["output"] == EXPECTED and r["success"])
    assert ok == n, f"thread pool: {ok} of {n} predictions gave the expected output"
    return n / wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-j", type=int, default=2, help="jobs in flight, every side (default 2)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds of each comparison (default 5)")
    ap.add_argument("--trivial-jobs", type=int, default=3000, help="jobs per trivial run (default 3000)")
    ap.add_argument("--predictions", type=int, default=1000,
                    help="predictions per simple-code-execution run (default 1000)")
    ap.add_argument("--quick", action="store_true", help="a small run, to check the harness")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.trivial_jobs, args.predictions = 2, 300, 60
    workdir = tempfile.mkdtemp(prefix="runbox-pybench-")
    rounds = []
    try:
        for r in range(args.rounds):
            flip = r % 2 == 1
            row = {}
            for name in (["py_run", "cli_run"] if flip else ["cli_run", "py_run"]):
                row[name] = (py_run(args.trivial_jobs, args.j) if name == "py_run"
                             else cli_run(args.trivial_jobs, args.j, workdir))
            sides = ["facade", "library", "threads"]
            for name in (sides[::-1] if flip else sides):
                row[name] = (facade(args.predictions, args.j) if name == "facade"
                             else library_method(args.predictions, args.j, workdir) if name == "library"
                             else thread_pool(args.predictions, args.j, workdir))
            row["run_ratio"] = row["py_run"] / row["cli_run"]
            row["sce_ratio"] = row["facade"] / row["library"]
            row["threads_ratio"] = row["facade"] / row["threads"]
            rounds.append(row)
            print(f"round {r + 1}: runbox run {row['cli_run']:.0f}/s, runbox.run {row['py_run']:.0f}/s "
                  f"({row['run_ratio']:.3f}); facade {row['facade']:.0f}/s, library method "
                  f"{row['library']:.0f}/s ({row['sce_ratio']:.2f}x), thread pool "
                  f"{row['threads']:.0f}/s ({row['threads_ratio']:.2f}x)", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    med = {k: statistics.median(row[k] for row in rounds) for k in rounds[0]}
    report = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                    "loadavg_at_end": os.getloadavg()},
        "python": sys.version.split()[0], "jobs_python": runbox.interpreter().version,
        "args": vars(args), "rounds": rounds, "median": med,
        "targets": {"runbox.run within 10% of runbox run": med["run_ratio"] >= 0.9,
                    "facade at least 5x the baseline": med["sce_ratio"] >= 5},
    }
    if not args.quick:
        os.makedirs(RESULTS, exist_ok=True)
        with open(os.path.join(RESULTS, "python-latest.json"), "w") as f:
            json.dump(report, f, indent=1)
    print(f"\n-j {args.j}, {args.rounds} rounds, medians (jobs/s); "
          f"{args.trivial_jobs} trivial jobs, {args.predictions} predictions per run\n")
    print("| comparison | runbox side | baseline side | ratio | target |")
    print("| --- | ---: | ---: | ---: | --- |")
    print(f"| trivial jobs: runbox.run vs runbox run | {med['py_run']:.0f} | {med['cli_run']:.0f} | "
          f"{med['run_ratio']:.3f} | >= 0.90: {'met' if med['run_ratio'] >= 0.9 else 'NOT met'} |")
    print(f"| simple-code-execution: facade vs the library's method (preprocess in a process pool, write the files, a process pool runs python3 per command) | "
          f"{med['facade']:.0f} | {med['library']:.0f} | {med['sce_ratio']:.2f}x | >= 5x: "
          f"{'met' if med['sce_ratio'] >= 5 else 'NOT met'} |")
    print(f"| simple-code-execution: facade vs a bare thread pool of python3 processes | "
          f"{med['facade']:.0f} | {med['threads']:.0f} | {med['threads_ratio']:.2f}x | (reference) |")


if __name__ == "__main__":
    main()
