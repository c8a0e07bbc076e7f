"""Runs right after job_trash_victim in the same slot (the runner orders
them so), so as root under the same uid. Looks in runbox's dir of working
dirs for finished jobs' dirs waiting for the janitor (.done-1, .done-2, ...:
predictable names, so no listing of that dir is needed), moves what it can
out of them into its own working dir before the janitor gets there, and
reads the files, looking for the victim's secret. A dir of runbox's own user
is the documented exposure of running without root and without Landlock
("GAP shared-uid"); a dir of a job's uid, where runbox runs as root, is
another job's data ("ESCAPED")."""
import os
import re
import time
PATTERN = re.compile(rb"RB" + rb"SECRET-[A-Z]+-[0-9a-f]{32}")
root = os.path.dirname(os.getcwd())
root_owner = os.stat(root).st_uid
entered, moved, found = set(), [], {}
deadline = time.monotonic() + 1.0
while time.monotonic() < deadline and not found:
    for n in range(1, 40):
        d = os.path.join(root, ".done-%d" % n)
        try:
            owner = os.stat(d).st_uid
            names = os.listdir(d)
        except OSError:
            continue
        entered.add(d)
        how = "GAP shared-uid" if owner == root_owner else "ESCAPED (uid %d's)" % owner
        for name in names:
            dst = "taken-%d-%s" % (n, name)
            try:
                os.rename(os.path.join(d, name), dst)  # out of the janitor's way
                moved.append((how, os.path.basename(d), dst))
            except OSError:
                pass
    for how, where, dst in moved:
        for top, _, files in os.walk(dst) if os.path.isdir(dst) else [(".", [], [dst])]:
            for fn in files:
                try:
                    with open(os.path.join(top, fn), "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                for m in PATTERN.findall(data):
                    if m not in found:
                        found[m] = how
                        print("%s read a finished job's file, taken from %s: %r" % (how, where, m[:24] + b"..."),
                              flush=True)
    time.sleep(0.005)
print("TRASH entered %d dirs, moved %d entries, read %d secrets" % (len(entered), len(moved), len(found)), flush=True)
