"""Writes to runbox's /proc entries: oom_score_adj (to make the OOM killer
pick runbox), comm, and the parent's, plus clear_refs and coredump_filter."""
import os
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
pids = [int(A["runbox_pid"])] + ([os.getppid()] if os.getppid() > 0 else [])
for pid in pids:
    for entry, value in (("oom_score_adj", "1000"), ("comm", "pwned"), ("clear_refs", "1"),
                         ("coredump_filter", "0x7f"), ("timerslack_ns", "100000000")):
        try:
            with open("/proc/%d/%s" % (pid, entry), "w") as f:
                f.write(value)
            print("ESCAPED wrote /proc/%d/%s" % (pid, entry), flush=True)
        except OSError as e:
            print("DENIED /proc/%d/%s: %s" % (pid, entry, e), flush=True)
