#!/usr/bin/python3
"""HumanEval+ graded by evalplus's documented method, and the in-process floor.

Written here from the description of evalplus's grader (evalplus/evaluate.py
and evalplus/eval/__init__.py, master 26d6d00; see docs/benchmarks.md), not
copied from it. Three commands, each printing one JSON object on stdout:

  groundtruth  the reference solutions' outputs and times, computed in this
               process as evalplus's get_groundtruth does (prompt + canonical
               solution exec'd once per task, each input deep-copied, each
               call timed), pickled to --ground-truth. evalplus caches the
               same thing under ~/.cache/evalplus; the bench builds it once,
               before the clock.
  baseline     evalplus's method: a ProcessPoolExecutor of -j workers, one
               check per sample submitted with the task's problem and expected
               outputs as arguments (pickled to the worker); in the worker, per
               test kind (base, then plus), a fresh multiprocessing.Process
               (fork) that makes a temporary working dir, applies the
               reliability guard, exec()s the program with stdio swallowed,
               calls the entry point on each input under a per-input SIGALRM
               time limit of max(min_time_limit, factor * reference time),
               compares in the child (Python ==, then evalplus's float rule,
               HumanEval/32's find_zero oracle), and reports through shared
               memory (a Value for the status, an Array of per-input verdicts
               and a Value for the progress); the worker joins it with
               evalplus's process timeout and kills a straggler. Stops at the
               first failing input (evalplus's default, fast_check).
  floor        the in-process floor: -j processes forked once (a warm
               interpreter each, the problems and expected outputs already in
               memory), each exec()s a sample's program and calls its entry
               point on every base and plus input, comparing with the same
               rules; no isolation, no time limits, no copies of the inputs.
               The clock covers the grading only.

The whole command is what `baseline` is timed by (the bench times it from
outside, as a user would time evalplus); `load_s` and `grade_s` split it.

What is left out of evalplus's harness, all of which would only make the
baseline slower: its progress bars, the watchdog thread that makes its exit
wait up to 20 s, and writing eval_results.json (this writes a JSONL of
statuses with --output). MBPP+'s special oracles are not implemented: this
grades HumanEval+ only, whose one special oracle (find_zero) is.
"""

import argparse
import builtins
import contextlib
import copy
import faulthandler
import gzip
import hashlib
import io
import json
import math
import multiprocessing
import os
import pickle
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import Array, Value

import numpy as np  # evalplus's grader imports it at module level; the workers inherit it

MIN_TIME_LIMIT = 4.0  # evalplus master's DEFAULT_MIN_TIME_LIMIT (PyPI 0.3.1: 1.0)
TIME_LIMIT_FACTOR = 4.0  # DEFAULT_GT_TIME_LIMIT_FACTOR
PROCESS_TIMEOUT_CAP = 60.0  # EVALPLUS_TIMEOUT_PER_TASK's default

# The child's status, in shared memory.
ST_PASS, ST_FAIL, ST_UNSET = 0, 1, 3


def load_problems(path):
    """task_id -> record. HumanEval+'s inputs are plain JSON argument lists,
    used as they are (no per-task decoding, unlike MBPP+)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        recs = [json.loads(line) for line in f if line.strip()]
    return {r["task_id"]: r for r in recs}


def load_samples(path):
    """[(task_id, solution or None, completion or None)], in the file's order."""
    out = []
    with open(path) as f:
        for line in f:
            if line.strip():
                s = json.loads(line)
                out.append((s["task_id"], s.get("solution"), s.get("completion")))
    return out


def program_of(problems, sample):
    """The whole program, as evalplus builds it: the solution, else prompt + completion."""
    task_id, solution, completion = sample
    return solution if solution is not None else problems[task_id]["prompt"] + completion


def dataset_md5(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


# ---- ground truth, as evalplus computes it --------------------------------------

def reference_outputs(program, entry_point, inputs):
    namespace = {}
    exec(program, namespace)
    fn = namespace[entry_point]
    outs, times = [], []
    for inp in inputs:
        args = copy.deepcopy(inp)
        t0 = time.time()
        outs.append(fn(*args))
        times.append(time.time() - t0)
    return outs, times


def cmd_groundtruth(args):
    t0 = time.monotonic()
    problems = load_problems(args.problems)
    truth = {"dataset_md5": dataset_md5(args.problems), "tasks": {}}
    for tid, p in problems.items():
        prog = p["prompt"] + p["canonical_solution"]
        entry = {}
        for kind in ("base", "plus"):
            entry[kind], entry[kind + "_time"] = reference_outputs(prog, p["entry_point"], p[kind + "_input"])
        truth["tasks"][tid] = entry
    with open(args.ground_truth, "wb") as f:
        pickle.dump(truth, f, protocol=pickle.HIGHEST_PROTOCOL)
    return {"tasks": len(problems), "wall_s": time.monotonic() - t0,
            "inputs": sum(len(p["base_input"]) + len(p["plus_input"]) for p in problems.values())}


def load_truth(path, problems_path):
    with open(path, "rb") as f:
        truth = pickle.load(f)
    if truth["dataset_md5"] != dataset_md5(problems_path):
        sys.exit(f"evalplus_method: {path} was computed from another dataset file")
    return truth["tasks"]


# ---- comparison, by evalplus's rules ---------------------------------------------

def is_floats(x):
    """A float, a non-empty list or tuple of floats only, or a float ndarray."""
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)) and x:
        return all(isinstance(i, float) for i in x)
    if isinstance(x, np.ndarray):
        return x.dtype in (np.float64, np.float32)
    return False


def poly_at(xs, x):
    return sum(c * math.pow(x, i) for i, c in enumerate(xs))


class Checker:
    """Judges one call's output. Keeps the tolerance between calls, as
    evalplus's loop does: once an expected float raised it to 1e-6, it stays."""

    def __init__(self, entry_point, atol):
        self.find_zero = entry_point == "find_zero"  # HumanEval/32's special oracle
        self.atol = atol

    def ok(self, inp, out, exp):
        """True if right; False or an exception if not."""
        if self.find_zero:
            return abs(poly_at(*inp, out)) <= self.atol
        same = out == exp
        if self.atol == 0 and is_floats(exp):
            self.atol = 1e-6
        if same or self.atol == 0:
            return bool(same)
        if type(out) is not type(exp):
            return False
        if isinstance(exp, (list, tuple)) and len(out) != len(exp):
            return False
        return bool(np.allclose(out, exp, rtol=1e-07, atol=self.atol))


# ---- the evalplus-method baseline ------------------------------------------------

class _Timeout(Exception):
    pass


class _NoReadStringIO(io.StringIO):
    def read(self, *a, **k):
        raise OSError

    def readline(self, *a, **k):
        raise OSError

    def readlines(self, *a, **k):
        raise OSError

    def readable(self, *a, **k):
        return False


@contextlib.contextmanager
def quiet_stdio():
    sink = _NoReadStringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        saved, sys.stdin = sys.stdin, sink
        try:
            yield
        finally:
            sys.stdin = saved


@contextlib.contextmanager
def alarm_after(seconds):
    def on_alarm(signum, frame):
        raise _Timeout()

    signal.setitimer(signal.ITIMER_REAL, seconds)
    signal.signal(signal.SIGALRM, on_alarm)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def memory_cap_bytes():
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return min(4 << 30, total)


def guard(max_bytes):
    """The reliability guard: memory limits, and destructive functions set to
    None. Not a sandbox; evalplus says so too."""
    for lim in (resource.RLIMIT_AS, resource.RLIMIT_DATA, resource.RLIMIT_STACK):
        resource.setrlimit(lim, (max_bytes, max_bytes))
    faulthandler.disable()
    builtins.exit = builtins.quit = builtins.help = None
    builtins.open = None
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in ("kill", "killpg", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid",
                 "fork", "forkpty", "rename", "renames", "truncate", "replace", "unlink", "fchmod", "fchown",
                 "chmod", "chown", "chroot", "lchflags", "lchmod", "lchown", "getcwd", "chdir"):
        setattr(os, name, None)
    shutil.rmtree = shutil.move = shutil.chown = None
    subprocess.Popen = None
    for mod in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[mod] = None


def child_run(program, entry_point, inputs, expected, limits, atol, status, verdicts, done):
    """The fresh process of one sample and test kind."""
    with tempfile.TemporaryDirectory() as d:
        back = os.getcwd()
        os.chdir(d)
        keep = (shutil.rmtree, os.rmdir, os.chdir, os.getcwd, os.unlink, builtins.open)
        guard(memory_cap_bytes())
        try:
            namespace = {}
            with quiet_stdio():
                exec(program, namespace)
                fn = namespace[entry_point]
            checker = Checker(entry_point, atol)
            for i, inp in enumerate(inputs):
                try:
                    with alarm_after(limits[i]):
                        with quiet_stdio():
                            out = fn(*inp)
                    if not checker.ok(inp, out, expected[i]):
                        raise AssertionError(i)
                except BaseException:
                    verdicts[i] = False
                    done.value += 1
                    raise  # the first failure ends the run (evalplus's fast_check)
                verdicts[i] = True
                done.value += 1
            status.value = ST_PASS
        except BaseException:
            status.value = ST_FAIL
        shutil.rmtree, os.rmdir, os.chdir, os.getcwd, os.unlink, builtins.open = keep
        os.chdir(back)


def check_kind(program, entry_point, inputs, expected, ref_times, atol, min_limit, factor):
    """One test kind of one sample in a fresh process: "pass", "fail" or "timeout"."""
    limits = [max(min_limit, factor * t) for t in ref_times]
    timeout = min(PROCESS_TIMEOUT_CAP, sum(limits)) + 1
    status = Value("i", ST_UNSET)
    done = Value("i", 0)
    verdicts = Array("b", [False] * len(inputs))
    p = multiprocessing.Process(target=child_run, args=(program, entry_point, inputs, expected, limits, atol,
                                                        status, verdicts, done))
    p.start()
    p.join(timeout=timeout + 1)
    if p.is_alive():
        p.terminate()
        time.sleep(0.1)
    if p.is_alive():
        p.kill()
        time.sleep(0.1)
    st, n = status.value, done.value
    if st == ST_UNSET:
        return "timeout"
    if st == ST_PASS and n == len(inputs) and all(verdicts[:n]):
        return "pass"
    return "fail"


def check_sample(index, problem, program, truth, min_limit, factor):
    """What the pool worker runs per sample: base, then plus."""
    out = {"index": index, "task_id": problem["task_id"]}
    for kind in ("base", "plus"):
        out[kind] = check_kind(program, problem["entry_point"], problem[kind + "_input"], truth[kind],
                               truth[kind + "_time"], problem["atol"], min_limit, factor)
    return out


def cmd_baseline(args):
    t0 = time.monotonic()
    problems = load_problems(args.problems)
    truth = load_truth(args.ground_truth, args.problems)
    samples = load_samples(args.samples)
    load_s = time.monotonic() - t0
    results = [None] * len(samples)
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=multiprocessing.get_context("fork")) as ex:
        futures = [ex.submit(check_sample, i, problems[s[0]], program_of(problems, s), truth[s[0]],
                             args.min_time_limit, args.time_limit_factor) for i, s in enumerate(samples)]
        for fut in as_completed(futures):
            r = fut.result()
            results[r["index"]] = r
    if args.output:
        with open(args.output, "w") as f:
            for r in results:
                f.write(json.dumps({"task_id": r["task_id"], "base_status": r["base"],
                                    "plus_status": r["plus"]}) + "\n")
    return summary(results, load_s, time.monotonic() - t0 - load_s)


def summary(results, load_s, grade_s):
    base = sum(r["base"] == "pass" for r in results)
    both = sum(r["base"] == "pass" and r["plus"] == "pass" for r in results)
    first_bad = next((r for r in results if r["base"] != "pass" or r["plus"] != "pass"), None)
    return {"samples": len(results), "base_passed": base, "passed": both, "first_not_passed": first_bad,
            "load_s": load_s, "grade_s": grade_s}


# ---- the in-process floor ------------------------------------------------------

_FLOOR = {}  # each worker's own copy of the problems, expected outputs and samples


def floor_load(problems_path, truth_path, samples_path, barrier):
    """The pool's initializer: every worker reads the data itself, so that no
    worker pays copy-on-write faults on a parent's heap (reading a Python
    object writes its reference count)."""
    t0 = time.monotonic()
    _FLOOR["problems"] = load_problems(problems_path)
    _FLOOR["truth"] = load_truth(truth_path, problems_path)
    _FLOOR["samples"] = load_samples(samples_path)
    _FLOOR["load_s"] = time.monotonic() - t0
    _FLOOR["barrier"] = barrier


def floor_sample(index):
    c0 = time.process_time()
    out = floor_grade(index)
    out["cpu_s"] = time.process_time() - c0
    return out


def floor_grade(index):
    problems, truth, samples = _FLOOR["problems"], _FLOOR["truth"], _FLOOR["samples"]
    s = samples[index]
    p = problems[s[0]]
    out = {"index": index, "task_id": s[0]}
    try:
        namespace = {}
        exec(program_of(problems, s), namespace)
        fn = namespace[p["entry_point"]]
    except BaseException:  # noqa: BLE001 - a broken sample is a verdict here, not a crash
        out["base"] = out["plus"] = "fail"
        return out
    for kind in ("base", "plus"):
        checker = Checker(p["entry_point"], p["atol"])
        expected = truth[s[0]][kind]
        verdict = "pass"
        for i, inp in enumerate(p[kind + "_input"]):
            try:
                if not checker.ok(inp, fn(*inp), expected[i]):
                    verdict = "fail"
            except BaseException:  # noqa: BLE001
                verdict = "fail"
            if verdict != "pass":
                break
        out[kind] = verdict
    return out


def floor_ready(_):
    _FLOOR["barrier"].wait()  # every worker holds one of these until all have loaded
    return _FLOOR["load_s"]


def cmd_floor(args):
    t0 = time.monotonic()
    n = len(load_samples(args.samples))
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(args.jobs)
    with ctx.Pool(args.jobs, initializer=floor_load,
                  initargs=(args.problems, args.ground_truth, args.samples, barrier)) as pool:
        load_s = max(pool.map(floor_ready, range(args.jobs), chunksize=1))  # every worker loaded, before the clock
        t1 = time.monotonic()
        results = sorted(pool.imap_unordered(floor_sample, range(n), chunksize=1), key=lambda r: r["index"])
        grade_s = time.monotonic() - t1
    out = summary(results, load_s, grade_s)
    out["start_s"] = t1 - t0
    out["grade_cpu_s"] = sum(r["cpu_s"] for r in results)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=("groundtruth", "baseline", "floor"))
    ap.add_argument("--problems", required=True, help="HumanEvalPlus-v0.1.10.jsonl.gz")
    ap.add_argument("--samples", help="JSONL of {task_id, solution} or {task_id, completion}")
    ap.add_argument("--ground-truth", required=True, help="the pickle `groundtruth` writes and the others read")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="pool workers (evalplus's --parallel)")
    ap.add_argument("--min-time-limit", type=float, default=MIN_TIME_LIMIT)
    ap.add_argument("--time-limit-factor", type=float, default=TIME_LIMIT_FACTOR)
    ap.add_argument("-o", "--output", help="baseline: a JSONL of each sample's statuses")
    args = ap.parse_args()
    if args.command != "groundtruth" and not args.samples:
        ap.error("--samples is needed")
    res = {"groundtruth": cmd_groundtruth, "baseline": cmd_baseline, "floor": cmd_floor}[args.command](args)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
