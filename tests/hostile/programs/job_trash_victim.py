"""The victim, not an attacker: keeps a secret (its stdin, standing in for a
job's hidden inputs or expected answers) in files under subdirectories of
its working dir, with a few thousand other files, and ends. A dir with
subdirectories is not scrubbed for reuse but renamed aside for runbox's
janitor, which removes it in the background while the slot's next job
(job_trash_reader) starts."""
import os
import sys
secret = sys.stdin.read().strip()
for d in ("a", "b", "c"):
    os.mkdir(d)
    for i in range(2000):
        open("%s/f%d" % (d, i), "w").close()
    with open(d + "/answer.txt", "w") as f:
        f.write(secret + "\n")
print("left 3 answers under subdirs", flush=True)
