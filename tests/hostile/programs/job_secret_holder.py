"""The victim, not an attacker: holds secrets in its stdin, argv, memory and a
file in its working dir, then waits to be killed while other jobs try to
find them. It never prints them. It prints its ids and start time (the
runner checks that no job running beside it shares its uid)."""
import os
import sys
import time
start = time.time()
secret_stdin = sys.stdin.read().strip()
secret_argv = [a for a in sys.argv if a.startswith("RBSECRET-")]
with open("secret.txt", "w") as f:
    f.write(secret_stdin.replace("STDIN", "FILE") + "\n")
held = [secret_stdin, secret_argv, secret_stdin.encode() * 4]
print("UID %d %d %d GID %d %d %d GROUPS %s START %.6f" % (
    os.getresuid() + os.getresgid() + (",".join(map(str, os.getgroups())) or "-", start)), flush=True)
print("holding %d secrets in pid %d" % (len(secret_argv) + 2, os.getpid()), flush=True)
while True:
    time.sleep(1)
