"""Not an attack: reports the ids the job runs under and when it ran, so
that the runner can check them. As root, every job runs under a uid of its
own from 0x70000000 (a command list's from 0x70000000 + 4096), gid equal to
uid, no supplementary groups, and no two jobs in flight share one; otherwise
jobs run as runbox's own user."""
import os
import time
start = time.time()
print("UID %d %d %d GID %d %d %d GROUPS %s START %.6f" % (
    os.getresuid() + os.getresgid() + (",".join(map(str, os.getgroups())) or "-", start)), flush=True)
time.sleep(0.6)
print("END %.6f" % time.time(), flush=True)
