"""Helpers for the runbox end-to-end tests: running the binary, reading the
records back, checking their shape, and failing with the record in the message.

Standard library only; runs under Debian's /usr/bin/python3 (3.11).
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("RUNBOX_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
RUNBOX = os.path.abspath(os.environ.get("RUNBOX") or os.path.join(SOURCE_ROOT, "build", "runbox"))
RUNBOX_ZYGOTE = os.path.abspath(
    os.environ.get("RUNBOX_ZYGOTE") or os.path.join(os.path.dirname(RUNBOX), "runbox-zygote"))
PYTHON3 = "/usr/bin/python3"
IS_ROOT = os.geteuid() == 0
NOBODY = 65534
# As root, runbox runs jobs under uids of their own (sandbox/protocol.h).
JOB_UID_BASE = 0x70000000
JOB_UID_COUNT = 8192 * 1024  # every block a runbox may claim

# Exactly these keys, in this order; invalid records add "line" at the end.
RECORD_KEYS = (
    "id", "status", "return_code", "timed_out", "runtime", "cpu_time", "max_rss_kb",
    "stdout", "stdout_truncated", "stderr", "stderr_truncated", "error", "error_detail",
    "doc", "signal", "had_unexpected_error",
)
STATUSES = ("ok", "error", "timeout", "memory", "output_limit", "signal", "violation",
            "invalid", "internal")

# ptrace: an escape-only syscall that the sandbox answers with SIGSYS.
PTRACE_NR = {"x86_64": 101, "aarch64": 117, "riscv64": 117, "i686": 26, "i386": 26}.get(
    os.uname().machine, 101)

_TMP_ROOT = None


def tmp_root():
    """One directory for everything the suite creates, removed at the end."""
    global _TMP_ROOT
    if _TMP_ROOT is None:
        _TMP_ROOT = tempfile.mkdtemp(prefix="runbox-e2e-")
        os.chmod(_TMP_ROOT, 0o755)
    return _TMP_ROOT


def new_tmpdir(prefix="t"):
    d = tempfile.mkdtemp(prefix=prefix + "-", dir=tmp_root())
    os.chmod(d, 0o755)
    return d


def remove_tree(path):
    def onerror(func, p, exc):
        try:
            os.chmod(os.path.dirname(p), 0o755)
            os.chmod(p, 0o755)
        except OSError:
            pass
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            else:
                os.unlink(p)
        except OSError:
            pass
    if os.path.exists(path):
        shutil.rmtree(path, onerror=onerror)


def cleanup_tmp_root():
    global _TMP_ROOT
    if _TMP_ROOT is not None and not os.environ.get("RUNBOX_E2E_KEEP"):
        remove_tree(_TMP_ROOT)
        _TMP_ROOT = None


# ---- running runbox ----------------------------------------------------------

def job_line(job):
    """A manifest line: a dict is dumped as JSON, a str is taken as it is.
    A lone surrogate (U+DC80 to U+DCFF) is written as the raw byte it stands for."""
    return job if isinstance(job, str) else json.dumps(job, ensure_ascii=False)


def write_manifest(path, jobs):
    with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="\n") as f:
        for job in jobs:
            f.write(job_line(job) + "\n")
    return path


class DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise DuplicateKey("key %r appears twice" % k)
        d[k] = v
    return d


def parse_records(text):
    """Parses results text (JSON lines). Returns (records, problems)."""
    records, problems = [], []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        problems.append("results do not end with a newline (torn last line: %r)" % lines[-1][:200])
    for n, line in enumerate(lines, 1):
        # Results were read with surrogateescape; the contract is stricter:
        # every line is UTF-8, bytes that are not being escaped as \udcXX.
        try:
            line.encode("utf-8", "surrogateescape").decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append("results line %d is not UTF-8 (%s): %r" % (n, e, line[:300]))
            continue
        try:
            rec = json.loads(line, object_pairs_hook=_no_duplicates)
        except ValueError as e:
            problems.append("results line %d is not valid JSON (%s): %r" % (n, e, line[:300]))
            continue
        if not isinstance(rec, dict):
            problems.append("results line %d is not an object: %r" % (n, line[:300]))
            continue
        records.append(rec)
    return records, problems


class Run:
    """One runbox invocation: exit status, its own stdout/stderr, the records."""

    def __init__(self, args, returncode, stdout, stderr, results_text, duration):
        self.args = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.results_text = results_text
        self.duration = duration
        self.records, self.problems = parse_records(results_text or "")
        self.by_id = {}
        for rec in self.records:
            self.by_id.setdefault(rec.get("id"), []).append(rec)

    def by_line(self, line_no):
        return [r for r in self.records if r.get("line") == line_no]

    def describe(self):
        return ("runbox %s\n  exit status %s after %.1f s\n  stderr: %s" %
                (" ".join(self.args), self.returncode, self.duration,
                 _clip(self.stderr, 3000) or "(empty)"))


def _clip(text, limit=2000):
    if text is None:
        return None
    if len(text) <= limit:
        return text
    return text[:limit // 2] + ("...[%d chars omitted]..." % (len(text) - limit)) + text[-limit // 2:]


def run_runbox(args, *, input_bytes=None, timeout=120, cwd=None, env=None, runbox=None):
    """Runs runbox with args; returns a Run (records parsed from its stdout)."""
    cmd = [runbox or RUNBOX] + list(args)
    t0 = time.monotonic()
    p = subprocess.run(cmd, input=input_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, cwd=cwd, env=env)
    dt = time.monotonic() - t0
    out = p.stdout.decode("utf-8", "surrogateescape")
    err = p.stderr.decode("utf-8", "replace")
    return Run(cmd[1:], p.returncode, out, err, out, dt)


def run_batch(jobs, args=(), *, jobs_n=2, to_file=True, timeout=170, quiet=False,
              manifest_dir=None, cwd=None, runbox=None, prefix="batch", env=None):
    """Writes `jobs` as a manifest, runs `runbox run` on it, returns a Run whose
    records come from the results file (or stdout with to_file=False)."""
    d = manifest_dir or new_tmpdir(prefix)
    manifest = write_manifest(os.path.join(d, "manifest.jsonl"), jobs)
    cmd = ["run", manifest, "-j", str(jobs_n)]
    results = os.path.join(d, "results.jsonl")
    if to_file:
        cmd += ["-o", results]
    if quiet:
        cmd.append("-q")
    cmd += list(args)
    run = run_runbox(cmd, timeout=timeout, cwd=cwd or d, runbox=runbox, env=env)
    if to_file:
        text = ""
        if os.path.exists(results):
            with open(results, "rb") as f:
                text = f.read().decode("utf-8", "surrogateescape")
        run = Run(run.args, run.returncode, run.stdout, run.stderr, text, run.duration)
        run.results_path = results
    run.manifest_path = manifest
    return run


# ---- processes -----------------------------------------------------------------

def proc_cmdlines():
    """{pid: cmdline (bytes, NULs kept)} of every live, non-zombie process."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                st = f.read()
            state = st[st.rindex(b")") + 2:st.rindex(b")") + 3]
            if state in (b"Z", b"X"):
                continue
            with open("/proc/%s/cmdline" % name, "rb") as f:
                out[int(name)] = f.read()
        except (OSError, ValueError):
            continue
    return out


def zygotes_of(runbox_pid):
    """Pids of live processes that are the zygote (or a worker forked from it)
    of the runbox process `runbox_pid`: their command line is
    'runbox-zygote --parent=<pid>'."""
    tag = b"--parent=%d\x00" % runbox_pid
    return sorted(pid for pid, cmd in proc_cmdlines().items()
                  if b"runbox-zygote" in cmd and tag in cmd + b"\x00")


def children_of(pid):
    kids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                st = f.read()
            fields = st[st.rindex(b")") + 2:].split()
            if int(fields[1]) == pid:
                kids.append(int(name))
        except (OSError, ValueError, IndexError):
            continue
    return kids


def descendants_of(pid):
    seen, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children_of(p):
            if c not in seen:
                seen.append(c)
                todo.append(c)
    return seen


_LAYERS = None


def layers(runbox=None):
    """The sandbox layers jobs get here, as `runbox doctor --json` reports
    them: {"landlock": bool, "pid_namespace": bool, ...}."""
    global _LAYERS
    if _LAYERS is None:
        p = subprocess.run([runbox or RUNBOX, "doctor", "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        info = json.loads(p.stdout)
        _LAYERS = {k: v["active"] for k, v in info["layers"].items()}
    return _LAYERS


def alive(pids):
    """The pids of `pids` that are still running (zombies count as dead)."""
    out = []
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid, "rb") as f:
                st = f.read()
        except OSError:
            continue
        if st[st.rindex(b")") + 2:st.rindex(b")") + 3] not in (b"Z", b"X"):
            out.append(pid)
    return out


def wait_until(pred, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def private_runbox_copy():
    """Copies runbox and its zygote into a fresh world-readable dir (so that an
    unprivileged user can run them even when the build dir is under /root).
    Returns (dir, runbox path)."""
    d = tempfile.mkdtemp(prefix="runbox-bin-")
    os.chmod(d, 0o755)
    for src in (RUNBOX, RUNBOX_ZYGOTE):
        dst = os.path.join(d, os.path.basename(src))
        shutil.copy2(src, dst)
        os.chmod(dst, 0o755)
    return d, os.path.join(d, os.path.basename(RUNBOX))


# ---- assertions ----------------------------------------------------------------

def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# Fields a record has only when its job asked for them (docs/results.md).
EXTENSION_KEYS = ("doc_truncated", "namespace", "namespace_truncated", "tracked_files", "tracked_files_truncated",
                  "passed", "cases_passed", "cases", "runtimes", "mean_runtime", "runs", "commands",
                  "calls_passed", "calls", "call_failures")


def record_shape_problems(rec):
    """Everything wrong with the record's keys and value types."""
    p = []
    keys = list(rec.keys())
    invalid = rec.get("status") == "invalid"
    want = list(RECORD_KEYS) + (["line"] if invalid else [])
    if "calls_passed" in rec:  # a job with function-call tests (docs/manifest.md)
        if not isinstance(rec.get("calls"), list) or not rec["calls"]:
            p.append("calls %r is not a non-empty list" % (rec.get("calls"),))
        if not isinstance(rec.get("passed"), bool):
            p.append("passed %r is not a boolean" % (rec.get("passed"),))
        if not isinstance(rec.get("call_failures"), list):
            p.append("call_failures %r is not a list" % (rec.get("call_failures"),))
    elif "cases" in rec:  # a job with stdin/stdout cases (docs/manifest.md)
        if not isinstance(rec.get("cases"), list) or not rec["cases"]:
            p.append("cases %r is not a non-empty list" % (rec.get("cases"),))
        if not isinstance(rec.get("passed"), bool):
            p.append("passed %r is not a boolean" % (rec.get("passed"),))
    if keys[:len(want)] != want:
        p.append("keys are %s, expected %s first" % (keys, want))
    extra = [k for k in keys[len(want):] if k not in EXTENSION_KEYS]
    if extra:
        p.append("unknown fields %s after the documented ones" % extra)
    status = rec.get("status")
    if status not in STATUSES:
        p.append("status %r is not one of %s" % (status, STATUSES))
    rid = rec.get("id")
    if not (isinstance(rid, str) and rid) and not (invalid and rid is None):
        p.append("id %r: expected a non-empty string (null only on invalid records)" % (rid,))
    rc = rec.get("return_code")
    if invalid:
        if rc is not None:
            p.append("return_code of an invalid record is %r, expected null" % (rc,))
        if not (isinstance(rec.get("line"), int) and not isinstance(rec.get("line"), bool)
                and rec.get("line") >= 1):
            p.append("line %r: expected a line number >= 1" % (rec.get("line"),))
    elif not (isinstance(rc, int) and not isinstance(rc, bool)):
        p.append("return_code %r is not an integer" % (rc,))
    for k in ("timed_out", "stdout_truncated", "stderr_truncated", "had_unexpected_error"):
        if not isinstance(rec.get(k), bool):
            p.append("%s %r is not a boolean" % (k, rec.get(k)))
    for k in ("runtime", "cpu_time"):
        if not _is_number(rec.get(k)) or rec.get(k) < 0:
            p.append("%s %r is not a number >= 0" % (k, rec.get(k)))
    mr = rec.get("max_rss_kb")
    if not (isinstance(mr, int) and not isinstance(mr, bool) and mr >= 0):
        p.append("max_rss_kb %r is not an integer >= 0" % (mr,))
    for k in ("stdout", "stderr"):
        if not isinstance(rec.get(k), str):
            p.append("%s is %r, not a string" % (k, type(rec.get(k)).__name__))
    for k in ("error", "error_detail", "doc"):
        if rec.get(k) is not None and not isinstance(rec.get(k), str):
            p.append("%s %r is neither a string nor null" % (k, rec.get(k)))
    sig = rec.get("signal")
    if sig is not None and not (isinstance(sig, int) and not isinstance(sig, bool) and sig > 0):
        p.append("signal %r is neither a positive integer nor null" % (sig,))
    if isinstance(rc, int) and not isinstance(rc, bool) and not invalid:
        if rc < 0 and sig != -rc:
            p.append("return_code %d but signal %r" % (rc, sig))
        if rc >= 0 and sig is not None:
            p.append("return_code %d but signal %r (expected null)" % (rc, sig))
    if (status == "internal") != (rec.get("had_unexpected_error") is True):
        p.append("had_unexpected_error %r with status %r" % (rec.get("had_unexpected_error"), status))
    if status in ("ok",) and rec.get("error") is not None:
        p.append("status ok but error %r" % (rec.get("error"),))
    if status not in ("ok",) and not isinstance(rec.get("error"), str):
        p.append("status %r but error %r (expected a message)" % (status, rec.get("error")))
    if status == "timeout" and rec.get("timed_out") is not True:
        p.append("status timeout but timed_out %r" % (rec.get("timed_out"),))
    if status != "timeout" and rec.get("timed_out") is not False:
        p.append("status %r but timed_out %r" % (status, rec.get("timed_out")))
    return p


def fmt_record(rec):
    if rec is None:
        return "(no record)"
    shown = dict(rec)
    for k in ("stdout", "stderr", "error_detail"):
        if isinstance(shown.get(k), str):
            shown[k] = _clip(shown[k], 1500)
    return json.dumps(shown, indent=1, ensure_ascii=True)


class RunboxTestCase(unittest.TestCase):
    maxDiff = 4000

    def one_record(self, run, job_id):
        """The single record of job_id in run, checked for shape."""
        recs = run.by_id.get(job_id, [])
        if len(recs) != 1:
            self.fail("expected exactly one record for id %r, found %d\n%s\n  ids seen: %s%s" % (
                job_id, len(recs), run.describe(), sorted(map(str, run.by_id))[:60],
                "".join("\n" + fmt_record(r) for r in recs)))
        rec = recs[0]
        self.assertShape(rec, run)
        return rec

    def assertShape(self, rec, run=None):
        problems = record_shape_problems(rec)
        if problems:
            self.fail("malformed record:\n  - %s\n%s%s" % (
                "\n  - ".join(problems), fmt_record(rec),
                ("\n" + run.describe()) if run else ""))

    def assertRecord(self, rec, **expected):
        """Compares record fields with expected values; a callable expected
        value is a predicate. Reports every mismatch at once, with the record."""
        bad = []
        for key, want in expected.items():
            if key not in rec:
                bad.append("%s: missing" % key)
                continue
            got = rec[key]
            if callable(want):
                try:
                    ok = want(got)
                except Exception as e:  # a predicate that blows up is a mismatch
                    ok = False
                    bad.append("%s: predicate raised %r" % (key, e))
                if not ok:
                    bad.append("%s: %r does not satisfy %s" % (
                        key, _clip(got, 300) if isinstance(got, str) else got,
                        getattr(want, "__doc__", None) or getattr(want, "__name__", "predicate")))
            else:
                same = got == want and type(got) is type(want) or (
                    _is_number(got) and _is_number(want) and got == want)
                if not same:
                    bad.append("%s: got %r, expected %r" % (
                        key, _clip(got, 300) if isinstance(got, str) else got,
                        _clip(want, 300) if isinstance(want, str) else want))
        if bad:
            self.fail("record of %r differs from the contract:\n  - %s\n%s" % (
                rec.get("id"), "\n  - ".join(bad), fmt_record(rec)))

    def assertRunOK(self, run, returncode=0):
        if run.returncode != returncode or run.problems:
            self.fail("runbox exit status %s (expected %s); problems: %s\n%s" % (
                run.returncode, returncode, run.problems or "none", run.describe()))


def startswith(prefix):
    def pred(v):
        return isinstance(v, str) and v.startswith(prefix)
    pred.__doc__ = "startswith(%r)" % prefix
    return pred


def contains(*parts):
    def pred(v):
        return isinstance(v, str) and all(p in v for p in parts)
    pred.__doc__ = "contains(%s)" % ", ".join(map(repr, parts))
    return pred


def between(lo, hi):
    def pred(v):
        return _is_number(v) and lo <= v <= hi
    pred.__doc__ = "between(%r, %r)" % (lo, hi)
    return pred
