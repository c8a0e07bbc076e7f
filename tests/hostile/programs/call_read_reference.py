"""Function-call tests whose expected values it cannot compute, read instead
from runbox's files: as an eval sample of RBH+/1 (its answers the reference
drew at random), it finds its `runbox eval` (its parent's parent) and its
command line in /proc, and reads its reference cache (--cache-dir: every expected value of the batch),
its results (-o, and the .partial file written as samples end: the
expected values of the calls that failed), its problems file (the
canonical solution); as a job (calls expecting secrets of the pass), it
reads runbox's results file, where jobs before it that failed the same
calls show what they expected. What it reads it judges by owner: "GAP
shared-uid" for files of its own uid (runbox's user without Landlock: a
documented gap), "HOLE" for another uid's file that runbox left readable.
It returns what it found."""
import ast
import json
import os
import re
import stat
import sys

A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
RUN = "runbox_pid" in A
WANT = re.compile(r"RB" + r"SECRET-(?:CALLS|REF)-[0-9a-f]{32}(?:-\d+)?")
print("TARGETS *", flush=True)
answers = {}   # n -> value
saw = []


def read(path, what):
    try:
        st = os.stat(path)
        with open(path, "rb") as f:
            data = f.read(256 << 20).decode("utf-8", "replace")
    except OSError as e:
        print("DENIED %s: %s" % (what, e.strerror), flush=True)
        return ""
    if st.st_uid == os.getuid():
        print("GAP shared-uid read %s" % what, flush=True)
    else:
        print("HOLE read %s (uid %d's, mode %s)" % (what, st.st_uid, stat.filemode(st.st_mode)), flush=True)
    saw.append(what)
    return data


def learn_results(text):
    """Results lines: a failed call's args and expected value, as Python prints them."""
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        runs = [rec] + [rec.get(k) or {} for k in ("base", "plus")]
        for run in runs:
            for f in run.get("call_failures") or []:
                try:
                    args, exp = ast.literal_eval(f["args"]), ast.literal_eval(f["expected"])
                except (ValueError, SyntaxError, KeyError):
                    continue
                if isinstance(exp, (str, int)) and args and isinstance(args[-1], int):
                    answers.setdefault(args[-1], exp)


def learn_cache(text):
    """The reference cache: {"task_id": ..., "base": [[value, seconds], ...], "plus": [...]}."""
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        for v in [p[0] for k in ("base", "plus") for p in rec.get(k) or []]:
            if isinstance(v, str) and WANT.fullmatch(v):
                answers.setdefault(int(v.rsplit("-", 1)[1]), v)


def look():
    if RUN:
        learn_results(read(A["results_file"], "runbox's results file"))
        return
    # Its runbox: the parent of its parent, the zygote (0 inside a PID namespace).
    mine = False
    try:
        with open("/proc/%d/stat" % os.getppid()) as f:
            runbox = f.read().rsplit(")", 1)[1].split()[1]
    except (OSError, IndexError):
        runbox = None
    for pid in [runbox] if runbox else []:
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        if "eval" not in argv or "--problems" not in argv:
            continue
        mine = True
        try:
            cwd = os.readlink("/proc/%s/cwd" % pid)
        except OSError:
            cwd = None
        opt = {argv[i]: argv[i + 1] for i in range(len(argv) - 1) if argv[i].startswith("-")}
        where = lambda p: p if os.path.isabs(p) or not cwd else os.path.join(cwd, p)  # noqa: E731
        if "--cache-dir" in opt:
            d = where(opt["--cache-dir"])
            try:
                names = os.listdir(d)
            except OSError as e:
                names = []
                print("DENIED listing the reference cache dir: %s" % e.strerror, flush=True)
            for n in names:
                learn_cache(read(os.path.join(d, n), "runbox's reference cache " + n))
        if "-o" in opt:
            for suffix in ("", ".partial"):
                learn_results(read(where(opt["-o"]) + suffix, "runbox's results" + suffix))
        if "--problems" in opt:
            read(where(opt["--problems"]), "runbox's problems file")
    if not mine:
        print("DENIED runbox eval is not in sight", flush=True)


# Before any call (a call has its own time limit, the main module only the job's).
look()
print("FOUND %d answers in %s" % (len(answers), ", ".join(saw) or "nothing"), flush=True)


def answer(n):
    return answers.get(n, "no guess")


def rb_value(kind, n):
    return answer(n)


def rb_secret(n):
    return answer(n)
