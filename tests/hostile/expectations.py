"""What runbox must do with each hostile program, per sandbox configuration.

One entry per file in programs/ (the runner refuses to run when the two
disagree). An entry gives the program's category, the manifest fields its job
gets (limits, stdin, tracked files), and `expect`: an Expect, or a function of
the active layers (a Layers) returning one.

Conventions of the programs, which the expectations rely on:
  - a line starting "ESCAPED" means an attack worked: no record may ever
    have one, in any configuration (the runner checks it for every job);
  - "DENIED ..." means an attempt was refused;
  - "GAP ..." means an attempt worked in a harmless way that only a layer
    which is off would have stopped (writing /tmp without Landlock). Such a
    line is a failure unless the expectation names the gap (Expect.gap), and
    then the runner reports it as a known gap of that configuration;
  - a "GAP shared-uid ..." line means the program reached something of its
    own uid (another job's dir, the results file, another process's memory):
    programs judge what they reach by its owner, so the same attack prints
    "ESCAPED (uid N's) ..." when it reaches something of another uid.

Passes (run_hostile.py): "full" (runbox as uid 65534, every layer doctor
reports), "reduced" (uid 65534, --no-landlock --no-namespaces: the
configuration docs/sandbox.md calls "Running without root and without
Landlock", where the shared-uid attacks are documented gaps) and "root"
(runbox as root, --no-landlock --no-namespaces: rlimits, seccomp and the
per-job uids alone, where the same attacks must be denied). A Layers says
which one a record came from.

Every GAP constant below cites the section of docs/sandbox.md that documents
the gap.

Limits: every job runs with --memory 256 --timeout 3 unless its job fields say
otherwise, and -j 2. Wall-clock limits of programs that need real CPU time to
reach their end (deep recursion, a 10 MB syntax error, CPU limits) are
generous: they cost nothing on an idle machine, and keep the verdicts right on
a loaded one (the suite was written on 2 cores at a load average above 10).
"""
import re

CPU_LIMIT = "CPU time limit"
WALL_LIMIT = "wall time limit"


class Layers:
    """The layers `runbox doctor --json` reports active, as booleans."""

    def __init__(self, active, root=False):
        self.active = dict(active)
        self.root = bool(root)  # runbox itself runs as root
        self.landlock = bool(active.get("landlock"))
        self.pid_ns = bool(active.get("pid_namespace"))
        self.net_ns = bool(active.get("network_namespace"))
        self.user_ns = bool(active.get("user_namespace"))
        self.ipc_ns = bool(active.get("ipc_uts_namespaces"))
        self.seccomp = bool(active.get("seccomp"))
        self.rlimits = bool(active.get("rlimits"))
        # As root, each job runs under a uid of its own (from JOB_UID_BASE).
        self.own_uids = self.root and bool(active.get("privilege_drop"))
        # docs/sandbox.md, "Running without root and without Landlock": jobs
        # run as runbox's own user and only DAC stands between them and what
        # that user owns. runbox must warn on stderr.
        self.exposed = not self.root and not self.landlock

    def describe(self):
        return ("runbox as %s; " % ("root" if self.root else "an ordinary user")) + ", ".join(
            "%s %s" % (k, "on" if v else "OFF") for k, v in sorted(self.active.items()))


class Expect:
    """The outcome a record must have.

    status      a status or a tuple of acceptable ones
    return_code an int, a tuple of acceptable ones, or None (not checked)
    signal      likewise
    error       a prefix the record's error must start with (None: not checked)
    error_has   substrings the error must contain
    stdout_has  substrings (or compiled regexes) stdout must contain
    stdout_lacks substrings stdout must not contain
    check       a function(record) returning a problem string, or None
    gap         when set, the outcome is a known gap of this configuration:
                the attack "succeeds" harmlessly (stdout has "GAP" lines);
                the text says what the gap is
    note        shown in the table's expected column
    passed      True or False: the record's `passed` (a job with cases, an
                eval line) must be that; None: not checked
    hole        a hole of runbox found by this suite and reported, not yet
                fixed: a text, or a function(record) returning one (or None
                where the record shows no hole). A record that shows it
                (a function-call test passed that must not) is reported as
                a known hole, not failed; one that no longer shows it is
                noted, so that the marker goes once runbox is fixed. Never
                a way to hide a containment failure: only verdicts
    """

    def __init__(self, status, return_code=None, signal=None, error=None, error_has=(),
                 stdout_has=(), stdout_lacks=(), check=None, gap=None, note=None, passed=None, hole=None):
        self.status = status if isinstance(status, tuple) else (status,)
        self.return_code = return_code
        self.signal = signal
        self.error = error
        self.error_has = tuple(error_has)
        self.stdout_has = tuple(stdout_has)
        self.stdout_lacks = tuple(stdout_lacks)
        self.check = check
        self.gap = gap
        self.note = note
        self.passed = passed
        self.hole = hole

    def hole_for(self, rec):
        """The known hole this record may show, or None."""
        return self.hole(rec) if callable(self.hole) else self.hole

    def describe(self):
        parts = ["/".join(self.status)]
        if self.return_code is not None:
            parts.append("rc=%s" % ("|".join(map(str, self.return_code))
                                    if isinstance(self.return_code, tuple) else self.return_code))
        if self.signal is not None:
            parts.append("sig=%s" % self.signal)
        markers = [m for m in self.stdout_has if isinstance(m, str)]
        if markers:
            first = "".join(c if c.isprintable() else "\\x%02x" % ord(c) if ord(c) < 256 else "\\u%04x" % ord(c)
                            for c in markers[0])
            first = first if len(first) <= 34 else first[:31] + "..."
            parts.append('"%s"%s' % (first, " +%d" % (len(markers) - 1) if len(markers) > 1 else ""))
        if self.passed is not None:
            parts.append("passed=%s" % str(self.passed).lower())
        if self.note:
            parts.append(self.note)
        if self.gap:
            parts.append("(GAP)")
        if self.hole:
            parts.append("(HOLE)")
        return " ".join(parts)

    def problems(self, rec):
        """Every way the record differs from the expectation."""
        out = []
        if rec.get("status") not in self.status:
            out.append("status %r, expected %s" % (rec.get("status"), " or ".join(self.status)))
        for key in ("return_code", "signal"):
            want = getattr(self, key)
            if want is None:
                continue
            ok = rec.get(key) in want if isinstance(want, tuple) else rec.get(key) == want
            if not ok:
                out.append("%s %r, expected %r" % (key, rec.get(key), want))
        err = rec.get("error") or ""
        if self.error is not None and not err.startswith(self.error):
            out.append("error %r does not start with %r" % (err[:200], self.error))
        for part in self.error_has:
            if part not in err:
                out.append("error %r lacks %r" % (err[:200], part))
        if self.passed is not None and rec.get("passed") is not self.passed:
            out.append("passed %r, expected %r" % (rec.get("passed"), self.passed))
        stdout = rec.get("stdout") or ""
        for m in self.stdout_has:
            if isinstance(m, str):
                if m not in stdout:
                    out.append("stdout lacks %r" % m)
            elif not m.search(stdout):
                out.append("stdout does not match /%s/" % m.pattern)
        for m in self.stdout_lacks:
            if m in stdout:
                out.append("stdout has %r" % m)
        if not self.hole_for(rec) and re.search(r"(?m)^HOLE\b", stdout):
            out.append("stdout has HOLE lines, but no known hole is expected here: %s" %
                       "; ".join(l for l in stdout.splitlines() if l.startswith("HOLE"))[:400])
        if not self.gap and re.search(r"(?m)^GAP\b", stdout):
            out.append("stdout has GAP lines, but no gap is expected in this configuration: %s" %
                       "; ".join(l for l in stdout.splitlines() if l.startswith("GAP"))[:400])
        if self.check:
            p = self.check(rec)
            if p:
                out.append(p)
        if "_call_args" in rec:  # a job or eval run of function-call tests: the runner adds their arguments
            p = calls_verdicts(rec, lenient=bool(self.gap or self.hole_for(rec)))
            if p:
                out.append(p)
        return out


class Prog:
    """copies: ((id suffix, extra job fields), ...) to run the program as
    several jobs (one record each, all checked against the expectation); a
    "commands" field whose entries have no argv gets the runner's context.

    A copy's fields may name a "variant": the program's line
    `RB_VARIANT = None` then reads `RB_VARIANT = "<variant>"` in that job,
    so one program tries several ways of one attack, one record each.

    modes: where the program runs. "run" (the default): a job of the pass's
    manifest. "humaneval", "mbpp", "calls": a sample of the pass's `runbox
    eval` batch on the problems of problems/ (the program is the sample's
    code: a HumanEval or HumanEval+ `solution`, an MBPP `completion`), as
    eval_copies[mode] says (default: copies, without job fields; a copy's
    "task" names the problem of its sample, default the batch's first). eval_expect is what each of
    its results lines must show (default: expect; a dict: per mode); every
    eval line must also have `passed` false and no `internal` status,
    whatever it expects.

    A job field "file_fixture" makes the job a `file` job: the runner makes
    that fixture for the pass (run_hostile.py, FileFixtures) and puts its
    path in "file". A string "@name" anywhere in the job's fields (a case's
    expected_stdout) is replaced by the pass's value of that name."""

    def __init__(self, category, expect, job=None, order=100, copies=(("", {}),), modes=("run",),
                 eval_copies=None, eval_expect=None):
        self.category = category
        self.expect = expect
        self.job = dict(job or {})
        self.order = order  # lower runs earlier in the manifest
        self.copies = tuple(copies)
        self.modes = tuple(modes)
        self.eval_copies = {m: tuple((eval_copies or {}).get(m, copies)) for m in self.modes if m in EVAL_MODES}
        self.eval_expect = eval_expect

    def copies_in(self, mode):
        if mode not in self.modes:
            return ()
        return self.copies if mode == "run" else self.eval_copies[mode]

    def njobs(self):
        return sum(len(self.copies_in(m)) for m in self.modes)

    def expectation(self, layers, mode="run"):
        e = self.expect
        if mode in EVAL_MODES and self.eval_expect is not None:
            e = self.eval_expect.get(mode, self.expect) if isinstance(self.eval_expect, dict) else self.eval_expect
        return e(layers) if callable(e) else e


EVAL_MODES = ("humaneval", "mbpp", "calls")


# ---- helpers -------------------------------------------------------------------

def ok(*markers, **kw):
    """Ran to its end; every attempt refused."""
    return Expect("ok", return_code=0, stdout_has=markers or ("DENIED",), **kw)


def violation(marker="calling"):
    """Killed by the seccomp filter (SIGSYS) for an escape-only system call."""
    return Expect("violation", return_code=-31, signal=31,
                  error="killed by the sandbox: a forbidden system call", stdout_has=(marker,))


def cpu_timeout(rc=(-24, -9), cpu_markers=(), **kw):
    """Stopped by the CPU-time limit: SIGXCPU (-24) at the soft limit, or
    SIGKILL (-9) at the hard one for a program that survives SIGXCPU.

    On a machine so loaded that the job gets less than its CPU limit within
    its wall-clock limit, the wall limit fires first; that is accepted (the
    program is still stopped) and shown as "wall" in the table, but then the
    CPU-limit path was not exercised. `cpu_markers` are stdout markers
    required only when the CPU limit fired."""
    rcs = rc if isinstance(rc, tuple) else (rc,)

    def check(rec):
        err = rec.get("error") or ""
        if err.startswith(CPU_LIMIT):
            if rec.get("return_code") not in rcs:
                return "CPU limit hit with return_code %r, expected %s" % (rec.get("return_code"), rcs)
            missing = [m for m in cpu_markers if m not in (rec.get("stdout") or "")]
            return "stdout lacks %s" % missing if missing else None
        if err.startswith(WALL_LIMIT):
            return None if rec.get("return_code") == -9 else "wall limit with return_code %r" % rec.get("return_code")
        return "error %r is neither the CPU nor the wall-clock limit" % err[:100]
    return Expect("timeout", check=check, note="CPU limit, rc %s" % "|".join(map(str, rcs)), **kw)


def wall_timeout(**kw):
    return Expect("timeout", return_code=-9, signal=9, error=WALL_LIMIT, **kw)


def killed_by(sig, status="signal"):
    return Expect(status, return_code=-sig, signal=sig, error="killed by SIG")


def number_after(label, rec):
    """The last integer printed after `label` on stdout, or None."""
    found = re.findall(r"(?m)^%s (\d+)" % re.escape(label), rec.get("stdout") or "")
    return int(found[-1]) if found else None


def at_most(label, limit):
    def check(rec):
        n = number_after(label, rec)
        if n is None:
            return "stdout does not report %s" % label
        if n > limit:
            return "%s %d, more than %d" % (label, n, limit)
        return None
    return check


def exact_size(field, size):
    def check(rec):
        n = len((rec.get(field) or "").encode("utf-8", "surrogateescape"))
        return None if n == size else "%s holds %d bytes, expected exactly the limit, %d" % (field, n, size)
    return check


def no_tracked_files(rec):
    tf = rec.get("tracked_files")
    if tf:
        return "tracked_files holds %s: runbox read files the job planted" % sorted(tf)
    return None


def record_size_at_most(n):
    def check(rec):
        import json
        size = len(json.dumps(rec))
        return None if size <= n else "the record is %d bytes, more than %d" % (size, n)
    return check


def both(*checks):
    def check(rec):
        for c in checks:
            p = c(rec)
            if p:
                return p
        return None
    return check


DOC_HOST = 'docs/sandbox.md, threat model, "A host without seccomp" (without Landlock or namespaces)'
DOC_SHARED = 'docs/sandbox.md, threat model, "Running without root and without Landlock"'
GAP_WRITE = ("writes outside the working dir succeed where the job's uid may write (/tmp, /dev/shm; "
             "Landlock off); the runner deletes what was written (%s)" % DOC_HOST)
GAP_READ = ("reads a file of runbox's own user outside the working dir (Landlock off, jobs run as "
            "runbox's user) (%s)" % DOC_SHARED)
GAP_CMDLINE = ("runbox's and the zygote's command lines are readable in /proc (no PID namespace): "
               "the results path is visible (%s; %s)" % (DOC_HOST, DOC_SHARED))
# The shared-uid gaps: jobs run as the user who started runbox, and only DAC
# stands between them and what that user owns. runbox warns on stderr (the
# runner checks it). As root the same attacks must be denied.
GAP_OTHER_WORKDIRS = ("lists runbox's dir of working dirs, reads the secret holder's file and writes "
                      "into other jobs' working dirs: they are runbox's user's, so the job's (%s)" % DOC_SHARED)
GAP_RUNBOX_DIR = ("renames its own working dir and writes beside it in runbox's dir of working dirs, "
                  "which belongs to the job's uid (%s)" % DOC_SHARED)
GAP_RESULTS = ("reads the results file (another job's output) and appends a forged record to it; the "
               "runner accepts that one record, id hostile-forged-record, and nothing else (%s)" % DOC_SHARED)
GAP_BYSTANDER = ("reaches the memory of the runner's bystander, a dumpable process of the job's own uid "
                 "outside any sandbox, through /proc/<pid>/mem: job_scan_proc reads it, job_bystander_mem "
                 "also overwrites it (%s: memory of that user's other dumpable processes)" % DOC_SHARED)

JOB_UID_BASE = 0x70000000   # sandbox/protocol.h RB_JOB_UID_BASE
JOB_UID_SLOTS = 4096        # a pool slot's job: block + slot
JOB_UID_BLOCK = 8192        # a command list: block + 4096 + n
JOB_UID_COUNT = JOB_UID_BLOCK * 1024  # every block (each runbox claims one)
NOBODY = 65534
FORGED_ID = "hostile-forged-record"
IDS = re.compile(r"(?m)^UID (\d+) (\d+) (\d+) GID (\d+) (\d+) (\d+) GROUPS (\S+)")


def ids_note(L):
    return "own uid from 0x70000000" if L.own_uids else "uid %d" % NOBODY


def ids_check(L):
    """The ids a program printed ("UID r e s GID r e s GROUPS g"), against the
    pass: as root, a uid of the job's own in the range of its kind (a pool
    slot's, or a command list's), gid equal, no groups; otherwise runbox's
    own user, 65534."""
    def check(rec):
        commands = bool(rec.get("commands"))
        outs = [c.get("stdout") or "" for c in rec["commands"]] if commands else [rec.get("stdout") or ""]
        seen = []
        for out in outs:
            m = IDS.search(out)
            if not m:
                return "stdout does not report the ids (UID ... GID ... GROUPS ...)"
            uids, gids, groups = [int(x) for x in m.groups()[:3]], [int(x) for x in m.groups()[3:6]], m.group(7)
            seen.append(uids[0])
            if L.own_uids:
                if len(set(uids + gids)) != 1:
                    return "ids differ: uids %s gids %s (expected one value)" % (uids, gids)
                off = (uids[0] - JOB_UID_BASE) % JOB_UID_BLOCK
                in_range = JOB_UID_BASE <= uids[0] < JOB_UID_BASE + JOB_UID_COUNT
                if not in_range or (off >= JOB_UID_SLOTS) != commands:
                    return "uid %d is not one of %s (block + %s)" % (
                        uids[0], "a command list's uids" if commands else "the pool slots' uids",
                        "4096 + n" if commands else "slot")
                if groups != "-":
                    return "supplementary groups %s (expected none)" % groups
            elif set(uids + gids) != {NOBODY}:
                return "ids %s %s: expected runbox's own user, %d" % (uids, gids, NOBODY)
        if commands and len(set(seen)) != 1:
            return "the commands of one list ran under different uids %s (they share a dir)" % seen
        return None
    return check
# ---- issue 11: verdicts and containment ------------------------------------------

GAP_NEIGHBOURS = ("a `file` job reads what lies beside its program when it is of the job's own uid: the "
                  "manifest (a cases job's expected output, so that job passes), the results file, notes, "
                  "data, a symlink to the runner's canary (Landlock off, jobs run as runbox's user) (%s)"
                  % DOC_SHARED)
GAP_WORLD = ("as root without Landlock a job reads any world-readable file, one beside its program "
             "included (%s)" % DOC_SHARED)
GAP_METADATA = ("changes mode, times and extended attributes of files of runbox's user outside its working "
                "dir (the canary, the working dirs' parent, --workdir, the results file) through a "
                "descriptor or Python's os functions: they are its own uid's and Landlock is off; the "
                "path-based calls stay refused; the program puts back what it changed (%s)" % DOC_SHARED)
GAP_THREADS = ("a job may hold more than 256 threads: without root every job runs as runbox's uid, and "
               "RLIMIT_NPROC bounds the batch's tasks together (what the uid held at the start plus 2,048), far "
               "below the host's PID limit (docs/sandbox.md, threat model, \"Threads without root\")")
GAP_PARENT = ("leaves the working dirs' parent, a dir of its own uid, at mode 000 through a descriptor "
              "(Landlock off); runbox must go on: every later job runs, nothing is left (%s)" % DOC_SHARED)


def variant_of(rec):
    """The variant a record's job ran: its id's part after the program's name."""
    base = (rec.get("hostile_id") or rec.get("id") or "").split("@")[0]
    return base.split(".", 1)[1] if "." in base else ""


def by_variant(checks, default=None):
    """A check picking one of `checks` (variant: function(rec)) by the record's variant."""
    def check(rec):
        c = checks.get(variant_of(rec), default)
        return c(rec) if c else None
    return check


def status_is(status, rc=None, error=None):
    def check(rec):
        if rec.get("status") != status:
            return "status %r, expected %r" % (rec.get("status"), status)
        if rc is not None and rec.get("return_code") != rc:
            return "return_code %r, expected %r" % (rec.get("return_code"), rc)
        if error is not None and not (rec.get("error") or "").startswith(error):
            return "error %r does not start with %r" % ((rec.get("error") or "")[:200], error)
        return None
    return check


def failed_not_zero(rec):
    """A program that failed with its channel gone: any non-zero exit, never ok."""
    if rec.get("status") != "error" or rec.get("return_code") in (0, None):
        return "status %r return_code %r: a failing program whose status channel it broke must be " \
               "`error` with a non-zero code" % (rec.get("status"), rec.get("return_code"))
    return None


def clean_text(field, max_bytes):
    """The field is valid UTF-8 (no lone surrogate: no byte cut out of a
    character) and at most max_bytes long."""
    def check(rec):
        v = rec.get(field)
        if not isinstance(v, str):
            return "%s is %r" % (field, v)
        bad = [c for c in v if 0xD800 <= ord(c) <= 0xDFFF]
        if bad:
            return "%s holds %d lone surrogates (a character cut in two): ...%r" % (field, len(bad), v[-12:])
        n = len(v.encode("utf-8"))
        return None if n <= max_bytes else "%s is %d bytes, more than %d" % (field, n, max_bytes)
    return check


def flag_true(field):
    def check(rec):
        return None if rec.get(field) is True else "%s is %r, expected true" % (field, rec.get(field))
    return check


def capture_kept(rec):
    """issue 11, 5: nothing dropped silently. small and after captured as
    they are; big as {"$truncated": bytes}; namespace_truncated."""
    ns = rec.get("namespace")
    if not isinstance(ns, dict):
        return "namespace is %r: dropped" % (type(ns).__name__ if ns is not None else None)
    if ns.get("small") != 1 or ns.get("after") != 2:
        return "namespace lost small or after: %s" % sorted(ns)
    big = ns.get("big")
    if not (isinstance(big, dict) and list(big) == ["$truncated"] and isinstance(big["$truncated"], int)
            and big["$truncated"] > 0):
        return "namespace's big is %r, expected {\"$truncated\": <bytes>}" % (str(big)[:80],)
    if rec.get("namespace_truncated") is not True:
        return "namespace_truncated is %r" % rec.get("namespace_truncated")
    return None


def many_kept(rec):
    ns = rec.get("namespace")
    if not isinstance(ns, dict):
        return "namespace is dropped"
    for i in range(40):
        v = ns.get("m%02d" % i)
        if v != "M" * 40000 and not (isinstance(v, dict) and list(v) == ["$truncated"]):
            return "namespace's m%02d is %r: neither its value nor {\"$truncated\": ...}" % (i, str(v)[:60])
    if rec.get("namespace_truncated") is not True:
        return "namespace_truncated is %r" % rec.get("namespace_truncated")
    return None


def doc_kept(rec):
    doc = rec.get("doc")
    if not isinstance(doc, str) or not doc.startswith("\u20ac" * 100):
        return "doc is %r: dropped" % (doc[:40] if isinstance(doc, str) else doc)
    return both(clean_text("doc", 64 << 10), flag_true("doc_truncated"))(rec)


def cases_passed_is(n):
    def check(rec):
        return None if rec.get("cases_passed") == n else "cases_passed %r, expected %d" % (rec.get("cases_passed"), n)
    return check


def stderr_free_of(*words):
    """The program reports to stderr (its stdout is a case's answer)."""
    def check(rec):
        text = (rec.get("stderr") or "") + "".join((c.get("stderr") or "") for c in rec.get("cases") or [])
        hits = [l for l in text.splitlines() if any(l.startswith(w) for w in words)]
        return ("stderr: " + " | ".join(hits)[:600]) if hits else None
    return check


def at_least(label, n):
    def check(rec):
        got = number_after(label, rec)
        return None if got is not None and got >= n else "%s %r, expected at least %d" % (label, got, n)
    return check


V_LIAR = ("int_eq", "float_eq", "str_eq", "bytes_eq", "list_eq", "tuple_eq", "dict_eq", "set_eq", "anything",
          "class_property", "builtin_name", "index_wrong")
V_NUMBERS = ("bool_for_int", "int_for_bool", "nan", "inf", "near_float", "float_for_int", "complex_for_int",
             "bigint_off_by_one", "digits_min", "digits_unlimited")
V_MUTATE = ("iter_raises", "iter_systemexit", "iter_keyboard", "iter_exit", "iter_forever", "empty_outer_list",
            "clear_dict", "grow_set", "repr_recursion", "repr_exit", "self_containing", "deep_nesting",
            "lone_surrogate")
V_DIGEST = ("last_byte", "one_short", "tuple", "one_string", "liar_list", "huge_int")
V_MONKEY = ("builtins", "import_hook", "sys_modules", "signal_module", "gc_callback", "worker_functions",
            "recursion_limit")
V_FD = ("stdout", "every_fd", "thread", "atexit")
V_LEAVE = ("os_exit", "system_exit", "keyboard", "generator_exit", "base_exception", "sigkill", "sigterm", "sigint",
           "sigalrm", "sigsegv", "abort", "segv", "thread_exit", "del_exit", "getattr_exit", "main_exit")
V_ALARM = ("sig_ign", "handler_noop", "setitimer_zero", "catch_loop", "sigmask_early", "thread_join")
V_CLASS = ("init_exit", "init_raises", "getattribute_exit", "getattr_method", "metaclass_call", "new_other",
           "rebound")
V_EXIT = ("excepthook", "traceback_module", "traceback_functions", "exc_str", "exc_repr", "arg_repr", "cause_str",
          "notes", "meta_getattr", "stderr_write", "stdout_flush", "audit_hook", "gc_callback", "profile_hook",
          "trace_hook", "del_on_clear", "itimer_real", "itimer_prof", "thread_after_module")
V_SABOTAGE_BROKEN = ("close", "shutdown_wr", "shutdown_rdwr", "dup2_devnull", "dup2_pipe_steal", "swap_race")
V_SABOTAGE = V_SABOTAGE_BROKEN + ("nonblock_fill", "sndtimeo_fill", "flood_1mib", "flood_thread", "fake_lines",
                                  "scm_rights")
V_SETUP = ("unsigned", "guessed", "many", "atexit", "then_segv", "then_exit0")
V_SYSEXIT = ("code_raises", "code_exits", "str_raises", "str_exits")
V_CASES_FAIL = ("excepthook", "exc_str", "close", "shutdown", "flood", "thread")
V_THREADS = ("threading", "_thread", "executor", "pthread", "clone")
V_TREE = ("1500", "5000", "longnames", "traps")
TREE_DEPTH = {"1500": 1500, "5000": 5000, "longnames": 1000, "traps": 400, "num_times": 1500, "commands": 400}


def variants(names):
    return tuple(("." + v, {"variant": v}) for v in names)


def tries(n):
    return tuple((".%d" % i, {}) for i in range(1, n + 1))


EVIL = Expect("error", return_code=1, error="EvilError")
# MBPP: a sample that exits 0 once a check failed (while runbox reports that
# check, or between two checks) ends before its checks did: `ok` with return
# code 0 is what its process did; `passed` stays false, which is the verdict.
MBPP_EXITS = Expect(("error", "ok"), note="ok: exit 0 before its checks ended")
CAPTURE = ["small", "big", "after", "evil"] + ["m%02d" % i for i in range(40)]


def _neighbours(L):
    """fs_file_job_neighbours, per pass."""
    imports = ("IMPORTED helper helper-ok", "IMPORTED pkg pkg-ok pkg.mod-ok", "LISTED", "READ its own program")
    private = ("manifest.jsonl", "results.jsonl", "notes", ".hidden", "data/answers.txt", "sneaky.py",
               "linkpkg/answers.txt", "__pycache__/answers.txt")
    if L.landlock:
        return ok(*imports + tuple("DENIED " + n for n in private + ("expected_output.txt",)))
    if L.exposed:
        return ok(*imports + tuple("GAP shared-uid read " + n for n in private), gap=GAP_NEIGHBOURS)
    return ok(*imports + tuple("DENIED " + n for n in private) + ("GAP world-readable read expected_output.txt",),
              gap=GAP_WORLD)


def _metadata(L):
    own = tuple("OWN python %s ok" % op for op in ("chmod", "utime", "setxattr", "removexattr", "shutil.copy2",
                                                   "shutil.copymode"))
    return ok(*own + ("ROUTE fd outside", "ROUTE python outside", "CHANGED_OUTSIDE"),
              check=both(at_most("PATH_SYSCALLS_ALLOWED", 0), at_most("CHANGED_OUTSIDE", 0)),
              gap=GAP_METADATA if L.exposed else None)


GAP_DISK = ("no disk quota in any configuration: a job writes into its working dir as fast as it can "
            "until its time limit (64 MiB per file); runbox removes it afterwards")

STDIN_BIG = ("".join("%07d abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 %%\n" % i
                     for i in range(60000)))[:4 << 20]


def _huge_syntax_error(source):
    # A 10 MB single line whose syntax error is at its very end.
    return source + "x = '" + "A" * (10 << 20) + "' 1 +\n"


# ---- function-call verdicts -----------------------------------------------------------
# The "calls" programs define RBH+/0's rb_value (problems/humanevalplus.jsonl)
# and answer it right, except at the kinds of call they name on a line
# "TARGETS kind kind" ("*": every call), where they play their trick. They
# run as `run` jobs with `calls` (the runner fills "@calls_rbv" with RBH+/0's
# inputs and the values its canonical solution returns; "@calls_secret" with
# two calls expecting secrets of the pass), and as samples of the `calls`
# eval batch (HumanEval+: a job per kind of input, base and plus, against
# the reference's values). A job or line of calls never passes (the runner
# checks `passed`, as a FORGED VERDICT otherwise), and every run's calls are
# checked by calls_verdicts.

TARGETS_LINE = re.compile(r"(?m)^TARGETS (.*)$")
CALLS_JOB = {"entry_point": "rb_value", "calls": "@calls_rbv", "timeout": 6, "memory_mb": 512}
CALLS_SECRET_JOB = {"entry_point": "rb_value", "calls": "@calls_secret", "timeout": 40, "memory_mb": 512}
GAP_REFERENCE = ("reads the expected values of the calls from runbox's files of its own uid (its results, and in "
                 "eval its reference cache and results): they are runbox's user's, Landlock is off (%s)" % DOC_SHARED)


def call_kind(args):
    """As the runner's call_kind: a call's first argument, which TARGETS lines name."""
    if not isinstance(args, list) or not args:
        return ""
    import json
    return args[0] if isinstance(args[0], str) else json.dumps(args[0], separators=(",", ":"))


def calls_verdicts(rec, lenient=False):
    """A run of function-call tests (the runner adds "_call_args", each call's
    arguments): one status per call; no call of a target kind passed; every
    call before the first target passed, or is `not_run` because the process
    ended before the worker sent its batch of results (the program answers
    those right: nothing it did before could change that, so runbox and its
    rules work); results come in order, so no call after a `not_run` one that
    ran passed. `lenient`: a documented gap or a known hole may let a target
    pass."""
    args = rec["_call_args"]
    statuses = rec.get("calls")
    if not args and statuses is None:
        return None  # a kind of input with no inputs (RBH+/3's plus): nothing to call
    if not isinstance(statuses, list) or len(statuses) != len(args):
        return "calls %r: expected one status for each of the %d calls" % (statuses, len(args))
    m = TARGETS_LINE.search(rec.get("stdout") or "")
    targets = set(m.group(1).split()) if m else {"*"}  # it ended before saying: every call
    hit = lost = False
    for i, (a, status) in enumerate(zip(args, statuses)):
        kind = call_kind(a)
        if status == "passed" and lost:
            return "call %d (%s) passed after a call that was never reported: results come in order" % (i, kind)
        lost = lost or status == "not_run"
        if "*" in targets or kind in targets:
            hit = True
            if status == "passed" and not lenient:
                return "FORGED call %d (%s): the program played its trick there, and the call passed" % (i, kind)
        elif not hit and status not in ("passed", "not_run"):
            return ("call %d (%s) is %r: the program answers it right, and nothing it did before could change "
                    "that" % (i, kind, status))
    return None


def call_status_is(index_kind, statuses):
    """The first call of kind `index_kind` has one of `statuses` (a run that has one)."""
    def check(rec):
        args = rec.get("_call_args") or []
        for a, status in zip(args, rec.get("calls") or []):
            if call_kind(a) == index_kind:
                return None if status in statuses else "the %s call is %r, expected %s" % (
                    index_kind, status, " or ".join(statuses))
        return None
    return check


def call_prog(expect, names=None, job=CALLS_JOB, modes=("run", "calls"), eval_names=None, task=None,
              extra_copies=(), **kw):
    """A program of function-call tests: one job per variant (`names`; None: the
    program has none) and `extra_copies`, and one sample per variant of
    `eval_names` (default: the same) in the calls batch, on RBH+/0 or `task`."""
    copies = (variants(names) if names else (("", {}),) if names is None else ()) + tuple(extra_copies)
    enames = eval_names if eval_names is not None else names
    eval_copies = tuple((suffix, dict(fields, task=task) if task else fields)
                        for suffix, fields in (variants(enames) if enames else (("", {}),)))
    return Prog("calls", expect, job, copies=copies, modes=modes, eval_copies={"calls": eval_copies}, **kw)


# ---- the table -------------------------------------------------------------------

PROGRAMS = {
    # -- time ------------------------------------------------------------------------
    "time_busy_loop": Prog("time", cpu_timeout(rc=-24), {"cpu_time": 1, "timeout": 8}),
    "time_regex_backtrack": Prog("time", cpu_timeout(rc=-24), {"cpu_time": 1, "timeout": 8}),
    "time_bigint_power": Prog("time", cpu_timeout(rc=-24), {"cpu_time": 1, "timeout": 8}),
    "time_sleep": Prog("time", wall_timeout(), {"timeout": 1}),
    "time_sigxcpu_ignored": Prog("time", cpu_timeout(rc=-9), {"cpu_time": 1, "timeout": 12}),
    "time_sigxcpu_handler": Prog("time", cpu_timeout(rc=-9, cpu_markers=("caught SIGXCPU",)),
                                 {"cpu_time": 1, "timeout": 12}),
    "time_sigstop_self": Prog("time", wall_timeout(stdout_has=("stopping myself",), stdout_lacks=("resumed",)),
                              {"timeout": 1}),
    "time_alarm_rearm": Prog("time", wall_timeout(), {"timeout": 1.5}),
    "time_ignore_all_signals": Prog("time", cpu_timeout(rc=-9), {"cpu_time": 1, "timeout": 12}),
    "time_thread_spin": Prog("time", cpu_timeout(rc=-24), {"cpu_time": 1, "timeout": 8}),
    "time_select_forever": Prog("time", wall_timeout(), {"timeout": 1}),

    # -- memory ----------------------------------------------------------------------
    "mem_list_growth": Prog("memory", Expect("memory", error_has=("MemoryError",), note="MemoryError"),
                            {"memory_mb": 96, "timeout": 15}),
    "mem_huge_alloc": Prog("memory", Expect("memory", return_code=1, error="MemoryError"), {"timeout": 6}),
    "mem_retry_loop": Prog("memory", cpu_timeout(), {"cpu_time": 1, "timeout": 4}),
    "mem_thread_bomb": Prog("memory", Expect("ok", return_code=0, stdout_has=("THREADS",),
                                             check=at_most("THREADS", 64), note="<=64 threads")),
    # Issue 11: 256 threads per job (RLIMIT_NPROC in a uid or user namespace of
    # its own; shared with the batch in the reduced pass); last in the
    # manifest, with the other thread bombs.
    "mem_thread_bomb_small_stacks": Prog("memory", lambda L: Expect(
        ("timeout", "ok", "error", "memory"), stdout_has=("THREADS",),
        check=at_most("THREADS", 260), note="<=260 threads") if L.own_uids else Expect(
        ("timeout", "ok", "error", "memory"), stdout_has=("THREADS",), gap=GAP_THREADS,
        check=at_most("THREADS", 2100), note="<=2100 threads, the batch's bound"), {"timeout": 3}, order=200),
    "mem_memfd_outside_limit": Prog("memory", ok("DENIED memfd beyond the memory limit"), {"timeout": 8}),
    "mem_mlock": Prog("memory", ok("DENIED mlock")),

    # -- processes -------------------------------------------------------------------
    "proc_fork": Prog("processes", ok("DENIED fork")),
    "proc_fork_bomb": Prog("processes", ok("DENIED 20000 forks refused")),
    "proc_subprocess": Prog("processes", ok("DENIED subprocess")),
    "proc_os_system": Prog("processes", ok("DENIED os.system returned 32512")),
    "proc_multiprocessing": Prog("processes", ok("DENIED fork", "DENIED spawn", "DENIED forkserver")),
    "proc_double_fork_setsid": Prog("processes", ok("DENIED setsid", "DENIED fork")),
    "proc_daemon_keeps_stdout": Prog("processes", ok("DENIED posix_spawn", "DENIED clone", "DENIED fork")),
    "proc_exec": Prog("processes", ok("DENIED exec /bin/sh", "DENIED exec /usr/bin/python3")),
    "proc_thread_never_ends": Prog("processes", wall_timeout(stdout_has=("BEFORE-THREAD",)), {"timeout": 1.5}),
    "proc_atexit_never_ends": Prog("processes", wall_timeout(stdout_has=("BEFORE-ATEXIT",)), {"timeout": 1.5}),
    "proc_atexit_forges_success": Prog("processes", Expect("error", return_code=1, error="ValueError")),
    "proc_forge_status_record": Prog("processes", Expect("error", return_code=1, error="RuntimeError")),

    # -- output and input ------------------------------------------------------------
    "io_stdout_flood_lines": Prog("output", Expect(
        "output_limit", return_code=-9, error="stdout exceeded the output limit of 64 KB",
        check=both(exact_size("stdout", 64 << 10), lambda r: None if r["stdout_truncated"] else "stdout_truncated false")),
        {"output_limit_kb": 64}),
    "io_stdout_flood_nonewline": Prog("output", Expect(
        "output_limit", return_code=-9, error="stdout exceeded the output limit of 64 KB",
        check=exact_size("stdout", 64 << 10)), {"output_limit_kb": 64}),
    "io_stderr_flood_lines": Prog("output", Expect(
        "output_limit", return_code=-9, error="stderr exceeded the output limit of 64 KB",
        check=both(exact_size("stderr", 64 << 10), lambda r: None if r["stderr_truncated"] else "stderr_truncated false")),
        {"output_limit_kb": 64}),
    "io_stderr_flood_nonewline": Prog("output", Expect(
        "output_limit", return_code=-9, error="stderr exceeded the output limit of 64 KB",
        check=exact_size("stderr", 64 << 10)), {"output_limit_kb": 64}),
    "io_huge_syntax_error": Prog("output", Expect(
        ("error", "output_limit"), check=both(
            record_size_at_most(1 << 20),
            lambda r: None if r["status"] != "error" or (r["error"] or "").startswith("Invalid syntax")
            else "error %r" % (r["error"] or "")[:100]),
        note="record <= 1 MiB"), {"output_limit_kb": 256, "timeout": 30, "transform": _huge_syntax_error}),
    "io_closed_stdout": Prog("output", Expect("ok", return_code=0, stdout_has=("before closing",),
                                              stdout_lacks=("after closing",))),
    "io_stdin_absent": Prog("input", Expect("error", return_code=1, error="EOFError", stdout_has=("read b''",))),
    "io_stdin_large_print_first": Prog("input", Expect("ok", return_code=0, stdout_has=(
        "STDIN_BYTES %d " % len(STDIN_BIG.encode()),)), {"stdin": STDIN_BIG, "output_limit_kb": 2048, "timeout": 5}),
    "io_binary_garbage": Prog("output", Expect("ok", return_code=0, stdout_has=(
        "MARK-START\x00\udcff\udcfe", "MARK-END", '"fake-record"'),
        check=lambda r: None if "\udc80" in r["stderr"] else "stderr lost its non-UTF-8 bytes")),
    "io_fd_inventory": Prog("supervisor", Expect("ok", return_code=0, stdout_has=("EXTRA_FDS",),
                                                 check=at_most("EXTRA_FDS", 1), note="<=1 extra fd")),
    "io_dev_tty": Prog("supervisor", ok("DENIED /dev/tty", "DENIED TIOCSTI fd 0", "DENIED TIOCSTI fd 2")),

    # -- attacks on the supervisor -----------------------------------------------------
    # Inside a PID namespace getppid() is 0 and kill(0) is the job's own group:
    # the job kills itself. Outside, the parent is the zygote: EPERM.
    "sup_kill_parent": Prog("supervisor", lambda L: Expect("signal", return_code=-9, signal=9, stdout_has=("PPID 0",))
                            if L.pid_ns else ok("DENIED kill parent")),
    "sup_kill_runbox": Prog("supervisor", ok("DENIED kill(runbox, SIGSTOP)", "DENIED kill(runbox, SIGKILL)",
                                             "DENIED rt_sigqueueinfo")),
    "sup_kill_all": Prog("supervisor", ok("DENIED kill(-1, 19)", "DENIED kill(-1, 9)")),
    "sup_killpg_parent_group": Prog("supervisor", lambda L: Expect(
        "signal", return_code=-9, signal=9, stdout_has=("DENIED killpg(runbox's group)",))
        if L.pid_ns else ok("DENIED killpg(runbox's group)", "DENIED killpg(parent's group)")),
    "sup_proc_of_runbox": Prog("supervisor", lambda L: ok("DENIED runbox maps/mem", "DENIED runbox environ")
                               if L.pid_ns else ok("DENIED runbox maps/mem", "DENIED runbox environ",
                                                   "DENIED runbox fd/", "DENIED parent mem", "DENIED parent environ",
                                                   "GAP runbox cmdline visible", gap=GAP_CMDLINE)),
    "sup_proc_write_runbox": Prog("supervisor", ok("DENIED /proc/")),
    "sup_ptrace_runbox": Prog("supervisor", violation("attaching")),
    "sup_ptrace_traceme": Prog("supervisor", violation("traceme")),
    "sup_process_vm_readv": Prog("supervisor", violation("reading")),
    "sup_pidfd": Prog("supervisor", violation("pidfd_open")),
    "sup_sigio_fsetown": Prog("supervisor", ok("DENIED F_SETOWN pid", "DENIED F_SETOWN_EX", "DENIED FIOSETOWN",
                                               stdout_lacks=("accepted",))),
    "sup_env_and_ids": Prog("supervisor", lambda L: ok(
        "DENIED no canary", "DENIED CapEff 0", "NoNewPrivs 1 Seccomp 2", "DENIED setuid(0)",
        "DENIED setresuid to a neighbour's uid", "DENIED setresgid to a neighbour's gid", check=ids_check(L))),
    "sup_setrlimit_raise": Prog("supervisor", ok("DENIED 1 GiB allocation", "DENIED file")),
    "sup_prctl_games": Prog("supervisor", ok("DENIED PR_SET_DUMPABLE 1", "DENIED PR_SET_PDEATHSIG 0",
                                             "DENIED PR_SET_PTRACER any", "dumpable now 0")),
    "sup_personality": Prog("supervisor", ok("DENIED personality ADDR_NO_RANDOMIZE",
                                             "DENIED personality READ_IMPLIES_EXEC")),
    "sup_tracked_file_symlink": Prog("supervisor", Expect("ok", return_code=0, stdout_has=("planted",),
                                                          check=no_tracked_files, note="nothing tracked"),
                                     {"tracked_files": ["out.txt", "canary.txt", "shadow.txt", "results.txt"]}),
    "sup_tracked_file_fifo": Prog("supervisor", Expect("ok", return_code=0, stdout_has=("planted fifos",),
                                                       check=no_tracked_files, note="nothing tracked"),
                                  {"tracked_files": ["out.txt", "log.txt"]}),
    # A link to a file of another uid is "LINKED" (fs.protected_hardlinks 0):
    # not a failure by itself; runbox reading it back with its rights would be,
    # and the runner finds the canary or root's secret in the record then.
    "sup_tracked_file_hardlink": Prog("supervisor", lambda L: Expect(
        "ok", return_code=0, stdout_has=("GAP canary: hard link", "root file:"), gap=GAP_READ)
        if L.exposed else Expect("ok", return_code=0, stdout_has=("canary:", "root file:"),
                                 check=None if L.own_uids else no_tracked_files),
        {"tracked_files": ["out.txt", "root.txt"]}),
    "sup_deep_dir_tree": Prog("supervisor", Expect("ok", return_code=0, stdout_has=("DEPTH 3000",),
                                                   note="removed after"), {"timeout": 15}),
    "sup_escape_workdir_rename": Prog("supervisor", lambda L: ok("GAP renamed", "GAP wrote beside", gap=GAP_RUNBOX_DIR)
                                      if L.exposed else ok("DENIED rename", "DENIED write beside")),

    # -- attacks on other jobs (the holder runs first, the others while it lives) -------
    "job_secret_holder": Prog("other jobs", lambda L: wall_timeout(stdout_has=("holding 3 secrets",),
                                                                   check=ids_check(L), note=ids_note(L)),
                              {"timeout": 8, "role": "holder"}, order=0),
    # The victim and the reader run back to back in one slot while the holder
    # keeps the other busy: the reader starts while the janitor is removing
    # the victim's dir. Finding the victim's secret is racing the janitor, so
    # in the reduced pass the gap is allowed, not required.
    "job_trash_victim": Prog("other jobs", Expect("ok", return_code=0, stdout_has=("left 3 answers",)),
                             {"role": "trash_victim", "timeout": 10}, order=1),
    "job_trash_reader": Prog("other jobs", lambda L: Expect(
        "ok", return_code=0, stdout_has=("TRASH",), gap=GAP_OTHER_WORKDIRS, note="GAP if it wins the race")
        if L.exposed else ok("TRASH", "read 0 secrets"), order=2),
    "job_secret_printer": Prog("other jobs", Expect("ok", return_code=0, stdout_has=("RBSECRET-OUT-",)),
                               {"role": "printer"}, order=3),
    # The shared-uid attacks: documented gaps as runbox's own user without
    # Landlock (the "reduced" pass), denied with Landlock and as root.
    "job_scan_proc": Prog("other jobs", lambda L: ok(
        "GAP shared-uid found b'RBSECRET-BYSTANDER-", "SCANNED", gap=GAP_BYSTANDER)
        if L.exposed else ok("SCANNED", "0 secrets found"), order=4),
    "job_bystander_mem": Prog("other jobs", lambda L: ok(
        "GAP shared-uid read the bystander's memory", "GAP shared-uid wrote the bystander's memory",
        gap=GAP_BYSTANDER) if L.exposed else ok("DENIED the bystander is not visible") if L.pid_ns
        else ok("DENIED reading the bystander's memory", "DENIED writing the bystander's memory"), order=4),
    "job_read_other_workdirs": Prog("other jobs", lambda L: ok(
        "GAP shared-uid listed the parent", "GAP shared-uid read another job's file",
        "GAP shared-uid wrote into another job's working dir", gap=GAP_OTHER_WORKDIRS)
        if L.exposed else ok("DENIED listing the parent", "DONE 0 dirs"), order=5),
    "job_results_file": Prog("other jobs", lambda L: ok(
        "GAP shared-uid read runbox's results file", "GAP shared-uid another job's output",
        "GAP shared-uid appended a forged record", gap=GAP_RESULTS)
        if L.exposed else ok("candidates []") if L.pid_ns else ok("runbox's command line is visible", "DENIED reading"),
        {"timeout": 6}, order=6),
    # Signals everything it sees while the holder lives; the holder must still
    # end by its own time limit.
    "job_kill_other_jobs": Prog("other jobs", ok("DENIED", stdout_lacks=("ESCAPED",)), order=7),
    # Not an attack: its ids, checked per pass, and its run times, which the
    # runner compares with every other job's (no two jobs in flight may share
    # a uid as root). Run as three jobs and a command list of two (".commands":
    # both commands under one uid of the command-list range).
    "job_uid_probe": Prog("other jobs", lambda L: Expect("ok", return_code=0, stdout_has=("UID", "END"),
                                                         check=ids_check(L), note=ids_note(L)),
                          order=8, copies=(("", {}), (".2", {}), (".3", {}), (".commands", {"commands": [{}, {}]}))),

    # -- system calls ----------------------------------------------------------------
    "sys_x32_abi": Prog("syscalls", violation()),
    "sys_int80_i386": Prog("syscalls", Expect(
        ("violation", "signal"), return_code=(-31, -11), stdout_has=("calling",),
        note="SIGSYS; SIGSEGV on kernels without IA-32 emulation")),
    "sys_io_uring_setup": Prog("syscalls", violation()),
    "sys_clone3": Prog("syscalls", ok("DENIED clone3 errno 38", "DENIED clone errno 1")),
    "sys_memfd_exec": Prog("syscalls", ok("DENIED memfd_create", "DENIED execve of the copy by path errno 1",
                                          "DENIED execve of the copy errno 1", "DENIED execveat of the copy errno 1")),
    "sys_unknown_numbers": Prog("syscalls", ok("DENIED syscall 463", "DENIED syscall 1000", "DENIED syscall 4095",
                                               "DENIED syscall 1073741823")),
    "sys_mount": Prog("syscalls", violation()),
    "sys_unshare": Prog("syscalls", violation()),
    "sys_setns": Prog("syscalls", violation()),
    "sys_bpf": Prog("syscalls", violation()),
    "sys_perf_event_open": Prog("syscalls", violation()),
    "sys_keyctl": Prog("syscalls", violation()),
    "sys_add_key": Prog("syscalls", violation()),
    "sys_userfaultfd": Prog("syscalls", violation()),
    "sys_reboot": Prog("syscalls", violation()),
    "sys_clock_settime": Prog("syscalls", violation()),
    "sys_open_by_handle_at": Prog("syscalls", violation()),
    "sys_kcmp": Prog("syscalls", violation()),
    "sys_modify_ldt": Prog("syscalls", violation()),
    "sys_iopl": Prog("syscalls", violation()),
    "sys_sysv_ipc": Prog("syscalls", ok("DENIED shmget", "DENIED msgget", "DENIED semget", "DENIED mq_open")),

    # -- files -----------------------------------------------------------------------
    "fs_write_tmp": Prog("files", lambda L: ok("DENIED /tmp") if L.landlock else ok("GAP wrote /tmp/", gap=GAP_WRITE)),
    "fs_write_shm_vartmp": Prog("files", lambda L: ok("DENIED /dev/shm", "DENIED /var/tmp") if L.landlock
                                else ok("GAP wrote /dev/shm/", "GAP wrote /var/tmp/", gap=GAP_WRITE)),
    "fs_write_workdir_parents": Prog("files", lambda L: ok("DENIED", stdout_lacks=("GAP",)) if L.landlock
                                     else ok("GAP wrote", gap=GAP_WRITE)),
    "fs_write_root_home": Prog("files", ok("DENIED /root/", "DENIED /etc/", "DENIED sysrq-trigger")),
    "fs_symlink_out": Prog("files", lambda L: ok("DENIED /tmp") if L.landlock
                           else ok("GAP wrote through a symlink into /tmp", gap=GAP_WRITE)),
    "fs_read_secret_0700": Prog("files", ok("DENIED secret")),
    "fs_read_system_secrets": Prog("files", ok("DENIED /etc/shadow", "DENIED /dev/kmsg")),
    # The canary is uid 65534's: readable by jobs only when they run as 65534.
    "fs_read_user_canary": Prog("files", lambda L: ok("GAP read the canary", gap=GAP_READ) if L.exposed
                                else ok("DENIED canary")),
    "fs_fill_disk": Prog("files", Expect(("ok", "timeout"), stdout_has=("DENIED file past 64 MiB",),
                                         gap=GAP_DISK), {"timeout": 4}),
    "fs_many_files": Prog("files", Expect(("ok", "timeout"), stdout_has=("FILES",), note="removed after"),
                          {"timeout": 5}),

    # -- network -----------------------------------------------------------------------
    "net_tcp_localhost": Prog("network", ok("DENIED tcp", "DENIED udp")),
    "net_tcp6_udp": Prog("network", ok("DENIED tcp6", "DENIED udp 127.0.0.1", "DENIED udp ::1")),
    "net_dns_http": Prog("network", ok("DENIED urlopen http://127.0.0.1", "DENIED urlopen http://[::1]",
                                       "DENIED http.client", "DENIED create_connection(localhost)", "DENIED dns")),
    "net_unix_path": Prog("network", ok("DENIED unix", "DENIED unix dgram socket()")),
    "net_unix_abstract": Prog("network", ok("DENIED abstract")),
    "net_socketpair_sendto": Prog("network", ok(
        "DENIED socketpair SOCK_DGRAM:", "DENIED socketpair SOCK_DGRAM|flags", "DENIED socketpair SOCK_SEQPACKET:",
        "DENIED socketpair SOCK_SEQPACKET|flags", "stream pair works: b'ping'", "stream pair with flags works",
        "DENIED stream socketpair sendto", "DENIED stream socketpair with flags sendto", stdout_lacks=("made a",))),
    "net_netlink_packet": Prog("network", ok("DENIED netlink route", "DENIED packet", "DENIED raw icmp")),

    # -- crashes -----------------------------------------------------------------------
    "crash_c_stack_overflow": Prog("crashes", killed_by(11), {"timeout": 20}),
    # Python 3.11 ends it with MemoryError, or "SystemError: error return without
    # exception set" when a frame cannot be allocated; a SIGSEGV is contained too.
    "crash_python_recursion": Prog("crashes", Expect(("memory", "signal", "error"), note="MemoryError or SIGSEGV"),
                                   {"memory_mb": 32, "timeout": 20}),
    "crash_thread_small_stack": Prog("crashes", killed_by(11), {"timeout": 15}),
    "crash_ctypes_recursion": Prog("crashes", Expect("signal", return_code=-11, signal=11, stdout_has=("recursing",)),
                                   {"timeout": 15}),
    "crash_faulthandler": Prog("crashes", Expect(
        "signal", return_code=-11, signal=11, stdout_has=("survived SIGUSR1 dump",),
        check=lambda r: None if "Fatal Python error" in r["stderr"] else "stderr lacks faulthandler's dump")),
    "crash_faulthandler_exit": Prog("crashes", Expect(
        "error", return_code=1, error="exited with code 1 before its main module finished", stdout_has=("armed",))),
    "crash_thread_huge_stack": Prog("crashes", Expect(("error", "memory"), return_code=1,
                                                      error_has=("can't start new thread",))),
    "crash_ctypes_segfault": Prog("crashes", Expect("signal", return_code=-11, signal=11,
                                                    stdout_has=("about to crash",))),
    "crash_abort": Prog("crashes", killed_by(6)),
    "crash_json_deep": Prog("crashes", Expect("error", return_code=1, error="RecursionError")),
    "crash_json_deep_raised_limit": Prog("crashes", killed_by(11), {"timeout": 15}),
    # A SyntaxError raised at run time: its type and message, not its 100 KB source line.
    "crash_eval_parens": Prog("crashes", Expect("error", return_code=1, error="SyntaxError: too many nested parentheses",
                                                check=lambda r: None if len(r["error"]) <= 8192
                                                else "error is %d chars" % len(r["error"]))),
    "crash_compile_deep": Prog("crashes", Expect(("memory", "error", "signal"), stdout_has=("first:",),
                                                 note="MemoryError/RecursionError/SIGSEGV")),

    # -- issue 11: verdicts (runbox run, cases, runbox eval) -----------------------------
    # Each eval sample is wrong on purpose (add_mod returns 0 or raises); besides
    # what is named here, every eval line must have passed false and no
    # internal status (run_hostile.check_eval).
    "verdict_status_reopen": Prog("verdicts", Expect(
        "error", return_code=1, error="RuntimeError", stdout_has=(
            "DENIED reopen /proc/self/fd/1020 O_RDONLY", "DENIED reopen /proc/self/fd/1020 O_RDWR",
            "DENIED reopen /proc/thread-self/fd/1020 O_RDWR", "DENIED reopen /dev/fd/1020 O_RDONLY",
            "DENIED read fd 1020", "DENIED peek fd 1020", "DENIED the supervisor's descriptors",
            "DENIED the parent's descriptors"))),
    # The race of issue 11 (class 1): 4 jobs, and 20 HumanEval and 10 MBPP samples
    # per pass; the runner reports how many were forged (must be none).
    "verdict_status_race": Prog("verdicts", Expect("error", return_code=1, error="AssertionError",
                                                   stdout_has=("waiting on",)),
                                copies=tries(4), modes=("run", "humaneval", "mbpp"),
                                eval_copies={"humaneval": tries(20), "mbpp": tries(10)}),
    "verdict_exit_while_reporting": Prog("verdicts", EVIL, copies=variants(V_EXIT),
                                         modes=("run", "humaneval", "mbpp"), eval_expect={"mbpp": MBPP_EXITS}),
    "verdict_status_sabotage": Prog("verdicts", Expect("error", check=by_variant(
        {v: failed_not_zero for v in V_SABOTAGE_BROKEN}, status_is("error", 1, "EvilError")),
        note="broken channel: error rc!=0; else error rc=1 EvilError"),
        {"timeout": 6}, copies=variants(V_SABOTAGE), modes=("run", "humaneval", "mbpp"),
        eval_expect={"humaneval": Expect("error", check=by_variant({v: failed_not_zero for v in V_SABOTAGE_BROKEN},
                                                                   status_is("error", 1))),
                     "mbpp": MBPP_EXITS}),
    "verdict_forge_setup_failed": Prog("verdicts", Expect(
        ("error", "signal", "ok"), check=by_variant({"then_segv": status_is("signal", -11),
                                                     "then_exit0": status_is("ok", 0),
                                                     "cases": both(status_is("error", 1, "EvilError"),
                                                                   lambda r: None if r.get("passed") is False
                                                                   else "passed is not false")},
                                                    status_is("error", 1, "EvilError")),
        note="never internal: error rc=1, signal (then_segv), ok (then_exit0: exit 0 mid-program)"),
        copies=variants(V_SETUP) + ((".cases", {"variant": "guessed",
                                                "cases": [{"stdin": "", "expected_stdout": "x"}]}),),
        modes=("run", "humaneval", "mbpp"),
        eval_copies={m: variants(V_SETUP) for m in ("humaneval", "mbpp")},
        eval_expect=Expect(("error", "signal", "ok"), check=by_variant(
            {"then_segv": status_is("signal", -11), "then_exit0": status_is("ok", 0)}, status_is("error")))),
    "verdict_capture_oversized": Prog("verdicts", Expect(("ok", "error"), check=by_variant({
        "ok": both(status_is("ok", 0), capture_kept, doc_kept),
        "fail_exit0": both(status_is("error", 1, "EvilError"), capture_kept, doc_kept),
        "repr_exit": status_is("error", 1, "EvilError"),
        "many_medium": both(status_is("ok", 0), many_kept, doc_kept)}),
        note="namespace and doc kept, cut with $truncated/doc_truncated; fails stay error rc=1"),
        {"capture": CAPTURE, "timeout": 10}, copies=variants(("ok", "fail_exit0", "repr_exit", "many_medium"))),
    "verdict_systemexit_code": Prog("verdicts", Expect("error", error="SystemExit", check=failed_not_zero),
                                    copies=variants(V_SYSEXIT), modes=("run", "humaneval", "mbpp"),
                                    eval_expect={"humaneval": Expect("error", check=failed_not_zero),
                                                 "mbpp": MBPP_EXITS}),
    "verdict_nonce_hunt": Prog("verdicts", Expect("error", return_code=1, error="EvilError",
                                                  stdout_has=("CANDIDATES",)),
                               {"timeout": 8}, modes=("run", "humaneval", "mbpp")),
    "eval_exit_before_checks": Prog("verdicts", None, modes=("humaneval", "mbpp"), copies=variants((
        "os_exit", "sys_exit", "systemexit_in_check", "keyboard_in_check", "profile_on_return",
        "thread_during_checks")), eval_expect=Expect(("error", "ok"), note="(exit 0 before its checks ended)")),
    # Cases are compared in the supervisor: whatever the job does, a wrong or
    # unknown answer, or a failure after a right one, never passes.
    "verdict_cases_unknown_answer": Prog("verdicts", Expect("ok", return_code=0, passed=False,
                                                            check=cases_passed_is(0)),
                                         {"cases": [{"stdin": "", "expected_stdout": "@cases_answer"}],
                                          "timeout": 15}),
    "verdict_cases_fail_after_answer": Prog("verdicts", Expect("error", passed=False, check=cases_passed_is(0)),
                                            {"cases": [{"stdin": "7 5\n", "expected_stdout": "12\n"},
                                                       {"stdin": "1 2\n", "expected_stdout": "3\n"}]},
                                            copies=variants(V_CASES_FAIL)),
    "verdict_cases_file_neighbour": Prog("verdicts", lambda L: Expect(
        "ok", return_code=0, gap=GAP_NEIGHBOURS, check=stderr_free_of("ESCAPED"), note="passes only by the gap")
        if L.exposed else Expect("ok", return_code=0, passed=False, check=stderr_free_of("ESCAPED", "GAP")),
        {"file_fixture": "neighbours", "cases": [{"stdin": "", "expected_stdout": "@neighbour_answer"}]}),
    "io_error_utf8_cut": Prog("output", Expect("error", return_code=1, error="ValueError: ",
                                               check=clean_text("error", 8192), note="cut on a character"),
                              copies=variants(("0", "1", "2", "1e", "2e", "3e"))),
    "io_exception_10mb": Prog("output", Expect("error", return_code=1, error="ValueError",
                                               check=flag_true("stderr_truncated"), note="not output_limit"),
                              {"timeout": 20}, copies=variants(("message", "note", "cause"))),

    # -- issue 11: containment -----------------------------------------------------------
    # Right after job_trash_reader, in the same slot (the holder keeps the other).
    "job_memo_leftovers": Prog("other jobs", Expect("ok", return_code=0, check=by_variant({
        "set": lambda r: None if "SET" in (r.get("stdout") or "") else "the setter printed nothing",
        "read": lambda r: None if (r.get("stdout") or "").strip() == "CLEAN" else "stdout is not CLEAN",
        "num_times": lambda r: None if all((x.get("stdout") or "").strip() == "CLEAN" for x in r.get("runs") or [{}])
        else "a run found leftovers",
        "cases": both(cases_passed_is(3), lambda r: None if r.get("passed") is True else "passed is not true")}),
        note="the next job (run, case) sees nothing left"), order=2.5,
        copies=(("." + "set", {"variant": "set"}), (".read", {"variant": "read"}),
                (".num_times", {"variant": "num_times", "num_times": 3}),
                (".cases", {"variant": "cases", "early_stop": True,
                            "cases": [{"stdin": "", "expected_stdout": "CLEAN"}] * 3}))),
    "fs_file_job_neighbours": Prog("files", _neighbours, {"file_fixture": "neighbours"}),
    "fs_file_job_root_secret": Prog("files", Expect("error", check=lambda r: failed_not_zero(r) or (
        None if "Permission denied" in (r.get("error") or "") or variant_of(r) in ("dir", "zip")
        else "error %r does not say Permission denied" % (r.get("error") or "")[:200]),
        note="can't open file: Permission denied; the secret never in the record"),
        copies=((".0600", {"file_fixture": "root_0600"}), (".in0700dir", {"file_fixture": "root_in_0700"}),
                (".dir", {"file_fixture": "root_dir"}), (".zip", {"file_fixture": "root_zip"}),
                (".symlink", {"file_fixture": "root_symlink"}))),
    "fs_metadata_outside": Prog("files", _metadata),
    # Early, so that most of the batch comes after it (the reduced pass: runbox
    # must go on with its working dirs' parent at mode 000).
    "fs_chmod_workdir_parent": Prog("files", lambda L: ok("GAP shared-uid", gap=GAP_PARENT) if L.exposed else ok(
        "DENIED python chmod", "DENIED libc chmod", "DENIED O_PATH chmod /proc/self/fd/N", "DENIED fchmod",
        stdout_lacks=("GAP",)), order=9),
    "mem_pipe_buffers": Prog("memory", ok("DENIED F_SETPIPE_SZ", "KERNEL_MIB", check=at_most("KERNEL_MIB", 64)),
                             {"memory_mb": 64, "timeout": 10}),
    "mem_socket_buffers": Prog("memory", ok(
        "DENIED SO_SNDBUF", "DENIED SO_RCVBUF", "DENIED SO_SNDBUFFORCE", "DENIED SO_RCVBUFFORCE", "KERNEL_MIB",
        check=at_most("KERNEL_MIB", 64)), {"memory_mb": 64, "timeout": 10}),
    "mem_inflight_buffers": Prog("memory", ok("KERNEL_MIB", check=at_most("KERNEL_MIB", 64)),
                                 {"memory_mb": 64, "timeout": 10}),
    "proc_thread_limit": Prog("processes", lambda L: Expect(
        "ok", return_code=0, stdout_has=("DENIED thread", "THREADS"), check=at_most("THREADS", 260),
        note="<=260 threads") if L.own_uids else Expect(
        "ok", return_code=0, stdout_has=("DENIED thread", "THREADS"), check=at_most("THREADS", 2100), gap=GAP_THREADS,
        note="<=2100 threads, the batch's bound"), {"timeout": 10}, order=200, copies=variants(V_THREADS)),
    "sys_inotify": Prog("syscalls", ok("DENIED inotify_init:", "DENIED inotify_init1:", "DENIED syscall inotify_init:",
                                       "DENIED syscall inotify_init1:", check=at_most("INOTIFY_INSTANCES", 0))),
    "sys_socket_bpf_filter": Prog("syscalls", ok(*tuple("DENIED %s on a socketpair: errno EPERM" % o for o in (
        "SO_ATTACH_FILTER", "SO_ATTACH_BPF", "SO_ATTACH_REUSEPORT_CBPF", "SO_ATTACH_REUSEPORT_EBPF",
        "SO_LOCK_FILTER")) + ("DENIED SO_ATTACH_FILTER through Python: errno EPERM",),
        check=at_most("ATTACHED", 0))),
    # -- function-call verdicts (see "function-call verdicts" above) ----------------------
    "call_liar_eq": call_prog(Expect("ok", return_code=0), V_LIAR, extra_copies=tuple(
        (".%s.%s" % (v, c), {"variant": v, "compare": c}) for v in ("anything", "tuple_eq", "list_eq")
        for c in ("livecodebench", "apps", "evalplus-humaneval", "evalplus-mbpp"))),
    "call_iter_lies": call_prog(Expect("ok", return_code=0), ("list_iter_right", "tuple_iter_right")),
    "call_numbers": call_prog(Expect("ok", return_code=0), V_NUMBERS, extra_copies=tuple(
        (".%s.evalplus" % v, {"variant": v, "compare": "evalplus-humaneval"}) for v in ("near_float", "nan", "inf"))),
    # Emptying the list being written makes the worker read freed memory: a
    # crash of the job's own process (reported), never a pass.
    # The worker copies a container before writing its items, so emptying it
    # from a repr run meanwhile changes nothing (it read freed memory once).
    "call_mutate_serialise": call_prog(Expect("ok", return_code=0), V_MUTATE),
    "call_unserialisable": call_prog(Expect("ok", return_code=0)),
    # A job's limit on a value is its output limit: 256 KiB here. In eval it
    # is 64 MiB, and RBH+/2's reference answer is past it.
    "call_digest": call_prog(Expect("ok", return_code=0), ("huge_for_small",), dict(CALLS_JOB, output_limit_kb=256),
                             eval_names=V_DIGEST, task="RBH+/2"),
    "call_digest_tagless": call_prog(Expect("ok", return_code=0), modes=("calls",),
                                     task="RBH+/3"),
    # import_hook: the worker decodes an argument (a str holding NUL: RBH+/0's
    # plus input "echo", eval only) with the program's binascii, and reads
    # the list it returns as bytes: a crash of its own process (reported).
    "call_monkeypatch": call_prog(Expect(("ok", "signal"), check=by_variant({
        "signal_module": both(status_is("ok", 0), call_status_is("int", ("timeout",))),
        "worker_functions": both(status_is("ok", 0), call_status_is("int", ("timeout",)),
                                 lambda r: None if "FOUND the alarm handler" in (r.get("stdout") or "")
                                 else "stdout lacks 'FOUND the alarm handler'"),
        "import_hook": lambda r: None if r.get("status") in ("ok", "signal") else "status %r" % r.get("status")},
        status_is("ok", 0)), note="ok rc=0; signal_module, worker_functions: the target call `timeout`; "
                                  "import_hook: SIGSEGV decoding an argument"), V_MONKEY),
    "call_forge_signed": call_prog(Expect("ok", return_code=0, check=by_variant({
        "forge": lambda r: None if "FORGED" in (r.get("stdout") or "") else "stdout lacks 'FORGED'",
        "tamper_buffer": at_least("TAMPERED", 1)}), note="forge: FORGED; tamper_buffer: TAMPERED >= 1"),
        ("forge", "tamper_buffer"), job=CALLS_SECRET_JOB, task="RBH+/1"),
    "call_fd_print": call_prog(Expect("ok", return_code=0), V_FD),
    "call_hunt_memory": call_prog(Expect("ok", return_code=0, stdout_has=(
        "DENIED the expected values are nowhere in reach",)), job=CALLS_SECRET_JOB, task="RBH+/1"),
    # Late in the manifest: jobs before it (call_hunt_memory, call_forge_signed)
    # failed the same secret calls, and their records show what was expected.
    "call_read_reference": call_prog(
        lambda L: Expect("ok", return_code=0, stdout_has=("GAP shared-uid read runbox's results file",),
                         gap=GAP_REFERENCE) if L.exposed
        else Expect("ok", return_code=0, stdout_has=("DENIED runbox's results file",)),
        job=CALLS_SECRET_JOB, task="RBH+/1", order=190,
        eval_expect=lambda L: Expect("ok", return_code=0, stdout_has=("GAP shared-uid read runbox's reference cache",),
                                     gap=GAP_REFERENCE) if L.exposed
        else Expect("ok", return_code=0, stdout_has=("DENIED runbox eval is not in sight",)) if L.pid_ns
        else Expect("ok", return_code=0, stdout_has=("DENIED runbox's reference cache", "DENIED runbox's results",
                                                    "DENIED runbox's problems file"))),
    "call_exit_early": call_prog(Expect(("ok", "signal"), check=by_variant(
        {v: status_is("signal", -s) for v, s in (("sigkill", 9), ("sigterm", 15), ("sigsegv", 11), ("abort", 6),
                                                 ("segv", 11))}, status_is("ok", 0)),
        note="ok rc=0, or killed by its signal"), V_LEAVE),
    # Each job and sample waits for its time limit: 3 s (the calls batch's
    # --timeout 3 for the base inputs, where its target is; the plus inputs
    # pass). Three of the ways in eval, all six as jobs.
    "call_alarm_swallow": call_prog(Expect("timeout", return_code=-9, error=WALL_LIMIT), V_ALARM,
                                    dict(CALLS_JOB, timeout=3), order=200,
                                    eval_names=("sig_ign", "setitimer_zero", "sigmask_early"),
                                    eval_expect=Expect(("timeout", "ok"), check=lambda r: None if (
                                        r.get("status") == "timeout") == ("none" in str(r.get("_call_args")))
                                        else "status %r: the run with the target must time out, the other "
                                             "pass" % r.get("status"))),
    "call_args_mutation": call_prog(Expect("ok", return_code=0, check=by_variant({
        "fresh_args": lambda r: None if "DENIED arguments rebuilt for every call" in (r.get("stdout") or "")
        else "stdout lacks 'DENIED arguments rebuilt for every call'"})), (), {"timeout": 5}, modes=("run",),
        extra_copies=((".find_zero", {"variant": "find_zero", "entry_point": "find_zero",
                                      "compare": "evalplus-humaneval",
                                      "calls": [{"args": [[1, 2]], "expected": -0.5},
                                                {"args": [[-6, 11, -6, 1]], "expected": 1.0}]}),
                      (".fresh_args", {"variant": "fresh_args", "entry_point": "rb_total",
                                       "calls": [{"args": [[1, 2, 3]], "expected": 6}] * 3 +
                                                [{"args": [[4, 5]], "expected": 9}]}))),
    "call_entry_class": call_prog(Expect("ok", return_code=0), V_CLASS, dict(CALLS_JOB, entry_class="Solution")),
    "call_supervisor_load": call_prog(Expect("ok", return_code=0)),
    "sup_deep_tree": Prog("supervisor", Expect("ok", return_code=0, stdout_has=("DEPTH",), check=lambda r: at_least(
        "DEPTH", TREE_DEPTH.get(variant_of(r), 1))(r), note="removed after, nothing outside"), {"timeout": 20},
        copies=variants(V_TREE) + ((".num_times", {"variant": "1500", "num_times": 2}),
                                   (".commands", {"variant": "traps", "commands": [{}, {}]}))),
}
