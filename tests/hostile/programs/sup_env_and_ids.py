"""Looks for runbox's environment in its own (a canary variable), checks its
capabilities, ids, no_new_privs and seccomp mode, and tries setuid(0),
setgid(0), setgroups([0]) and taking the uid of a neighbouring job."""
import os
leaked = [k for k in os.environ if k.startswith("RBHOSTILE")]
print(("ESCAPED runbox's environment leaked: %s" % leaked) if leaked else "DENIED no canary in os.environ", flush=True)
print("ENV", sorted(os.environ), flush=True)
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
    v = int(status[cap].strip(), 16)
    print(("ESCAPED has capabilities %s=%x" % (cap, v)) if v else "DENIED %s 0" % cap, flush=True)
print("NoNewPrivs", status["NoNewPrivs"].strip(), "Seccomp", status["Seccomp"].strip(), flush=True)
if status["NoNewPrivs"].strip() != "1" or status["Seccomp"].strip() != "2":
    print("ESCAPED no_new_privs or seccomp filter missing", flush=True)
print("UID %d %d %d GID %d %d %d GROUPS %s" % (
    os.getresuid() + os.getresgid() + (",".join(map(str, os.getgroups())) or "-",)), flush=True)
if 0 in os.getresuid() or 0 in os.getresgid():
    print("ESCAPED running with root ids", flush=True)
uid = os.getuid()
for what, call in (("setuid(0)", lambda: os.setuid(0)), ("setgid(0)", lambda: os.setgid(0)),
                   ("setgroups([0])", lambda: os.setgroups([0])),
                   ("setresuid to a neighbour's uid", lambda: os.setresuid(uid + 1, uid + 1, uid + 1)),
                   ("setresgid to a neighbour's gid", lambda: os.setresgid(uid + 1, uid + 1, uid + 1))):
    try:
        call()
        print("ESCAPED %s worked: now %s %s" % (what, os.getresuid(), os.getresgid()), flush=True)
    except OSError as e:
        print("DENIED %s: %s" % (what, e), flush=True)
