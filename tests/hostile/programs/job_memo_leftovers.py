"""A channel between jobs through what a working dir keeps (issue 11, class
6). The "set" job marks its working dir `.` every way it can: a user.*
extended attribute, POSIX ACLs (access and default), an odd mode (sticky,
0o1751), old times, two plain files; the "read" job runs right after it in
the same slot and looks for any of it on its own `.`. The "num_times" and
"cases" jobs (3 runs, 3 cases one after another) do both in each run: a
memo that would let later runs skip their work and make mean_runtime lie.
Reading anything set is ESCAPED; a clean dir prints CLEAN (only that, on
stdout, so the cases match)."""
import os
import stat
import struct
import sys
import time

RB_VARIANT = None
V = RB_VARIANT or "read"
MARK_TIME = 946684800  # 2000-01-01
MARK_MODE = 0o1751
XATTR = "user.rbhostile.memo"


def err(*a):
    print(*a, file=sys.stderr, flush=True)


def acl(uid):
    ent = [(1, 7, 0xFFFFFFFF), (2, 7, uid), (4, 5, 0xFFFFFFFF), (0x10, 7, 0xFFFFFFFF), (0x20, 1, 0xFFFFFFFF)]
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in ent)


def look():
    """What the run before left on `.`, if anything."""
    found = []
    st = os.stat(".")
    try:
        names = os.listxattr(".")
    except OSError as e:
        names = []
        err("listxattr:", e)
    for n in names:
        if n.startswith("user.") or n.startswith("system.posix_acl") or n.startswith("trusted."):
            try:
                value = os.getxattr(".", n)
            except OSError:
                value = b"?"
            found.append("the extended attribute %s=%r" % (n, value[:40]))
    if stat.S_IMODE(st.st_mode) == MARK_MODE or st.st_mode & stat.S_ISVTX:
        found.append("mode %o" % stat.S_IMODE(st.st_mode))
    if st.st_mtime < MARK_TIME + 86400 or st.st_atime < MARK_TIME + 86400:
        found.append("times %d/%d" % (st.st_atime, st.st_mtime))
    for n in os.listdir("."):
        found.append("the file %r" % n)
    err("INODE %d mode %o xattrs %s" % (st.st_ino, stat.S_IMODE(st.st_mode), names))
    return found


def mark():
    """Marks `.` every way there is; says which ones worked (on stderr)."""
    done = []
    for name in ("memo.txt", ".memo"):
        with open(name, "w") as f:
            f.write("memo: the answer is 42\n")
    fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
    for what, f in (("xattr (fd)", lambda: os.setxattr(fd, XATTR, b"42")),
                    ("xattr (path)", lambda: os.setxattr(".", XATTR + "2", b"42")),
                    ("acl access", lambda: os.setxattr(fd, "system.posix_acl_access", acl(os.getuid()))),
                    ("acl default", lambda: os.setxattr(fd, "system.posix_acl_default", acl(os.getuid()))),
                    ("mode", lambda: os.chmod(fd, MARK_MODE)),
                    ("times", lambda: os.utime(fd, (MARK_TIME, MARK_TIME)))):
        try:
            f()
            done.append(what)
        except OSError as e:
            err("could not set %s: %s" % (what, e))
    os.close(fd)
    err("SET " + ", ".join(done))
    return done


if V == "set":
    done = mark()
    print("SET %d marks" % len(done), flush=True)
    err("left", sorted(os.listdir(".")))
else:
    found = look()
    if found:
        for f in found:
            print("ESCAPED the job before in this dir left %s" % f, flush=True)
    else:
        print("CLEAN", flush=True)
    if V in ("num_times", "cases"):
        if not found:
            t = time.monotonic()
            while time.monotonic() - t < 0.05:
                pass  # the work a memo would let the next run skip
        mark()
