#!/usr/bin/python3
"""The hostile-program suite: programs in programs/ that attack the sandbox,
run through runbox in three passes, each only after the one before it
passed:

  full     runbox as uid 65534, every layer `runbox doctor` reports active;
  reduced  runbox as uid 65534, --no-landlock --no-namespaces: rlimits and
           seccomp only, jobs as runbox's own user. What that exposes of the
           user's own data is documented (docs/sandbox.md, "Running without
           root and without Landlock"): those programs' outcomes are GAPs,
           and runbox must have printed its warning;
  root     runbox as root, --no-landlock --no-namespaces: rlimits, seccomp
           and the per-job uids alone, and the shared-uid attacks of the
           reduced pass must be denied; every job's uid is checked.

Each record is checked against expectations.py, and the machine around each
pass: runbox exited 0, every job has exactly one record, no process of the
batch is left (a cgroup of the batch's own, and /proc), nothing was written
outside the working dirs, the runner's servers saw no connection, its
bystander's memory is intact, no two jobs in flight shared a uid.

SAFETY: the programs are dangerous outside the sandbox (as root, kill(-1, 9)
ends every process of the machine). This runner never runs them itself: it
runs runbox from a private copy of the binaries, as uid 65534 (setpriv) until
seccomp has been proven, and as root only in the last pass, after a benign
probe job showed that jobs drop to their own uids under seccomp. It refuses
to start when it cannot do so (not root). Never run a program of programs/
with a bare python3.

Usage (as root; standard library only, Debian's /usr/bin/python3):
    sudo /usr/bin/python3 tests/hostile/run_hostile.py
        [--only NAME,...] [--pass full|reduced|root|all] [--keep] [-v]
    /usr/bin/python3 tests/hostile/run_hostile.py --list   (any user: the
        programs and their expected outcome in each pass; nothing run)
RUNBOX=path/to/runbox picks the binary (default build/runbox).
Exit status: 0 when every expectation holds (documented gaps of a pass are
reported, not failed), 1 when any does not, 2 when the suite cannot run.
"""
import os
import sys

# Debian's interpreter, never one that happens to be first on PATH (pyenv).
if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.path.exists("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)

import argparse
import fcntl
import hashlib
import json
import re
import resource
import secrets
import select
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # nothing of ours in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
sys.path.insert(0, HERE)
import rbtest  # noqa: E402
import expectations as X  # noqa: E402

PROGRAMS_DIR = os.path.join(HERE, "programs")
NOBODY = X.NOBODY
SETPRIV = shutil.which("setpriv", path="/usr/bin:/bin:/usr/sbin:/sbin")
AS_NOBODY = [SETPRIV or "setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", "--"]
WATCHED_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/root")
PASS_TIMEOUT = 300  # seconds for one runbox invocation, far above what it needs
RUNBOX_DEFAULTS = ["--memory", "256", "--timeout", "3", "-j", "2"]
# A safety net of the runner, not a layer of runbox: if the sandbox were
# broken, a fork bomb as uid 65534 (or a job uid) still could not exhaust the
# machine's pids. Jobs inherit it; as root it binds only the jobs' uids.
NPROC_SAFETY_NET = 12000
JOB_UIDS = range(X.JOB_UID_BASE, X.JOB_UID_BASE + X.JOB_UID_COUNT)
WARNING = "runbox: warning: jobs run as your user (uid %d) without Landlock"
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Pass:
    def __init__(self, name, title, uid, flags):
        self.name, self.title, self.uid, self.flags = name, title, uid, flags

    def cmd(self, argv):
        """argv as this pass runs runbox: through setpriv as 65534, or as root."""
        return (AS_NOBODY if self.uid == NOBODY else []) + argv


# In the order they run; each runs only when the ones before it passed.
PASSES = {p.name: p for p in (
    Pass("full", "runbox as uid 65534, every layer runbox doctor reports active", NOBODY, []),
    Pass("reduced", "runbox as uid 65534, --no-landlock --no-namespaces", NOBODY,
         ["--no-landlock", "--no-namespaces"]),
    Pass("root", "runbox as root, --no-landlock --no-namespaces", 0, ["--no-landlock", "--no-namespaces"]),
)}


def log(*a):
    print(*a, flush=True)


# Records hold arbitrary bytes (surrogate-escaped): never die printing them.
for _stream in (sys.stdout, sys.stderr):
    try:
        _stream.reconfigure(errors="backslashreplace")
    except (AttributeError, ValueError):
        pass


def die(msg, code=2):
    print("run_hostile: " + msg, file=sys.stderr, flush=True)
    sys.exit(code)


def clip(text, n=600):
    text = text if isinstance(text, str) else repr(text)
    return text if len(text) <= n else text[:n // 2] + " ...[%d chars]... " % (len(text) - n) + text[-n // 2:]


# ---- preflight ---------------------------------------------------------------------

def preflight():
    """Refuses to go on unless runbox can be run as uid 65534."""
    if os.geteuid() != 0:
        die("must run as root: the hostile programs are only ever run by a runbox started as uid %d "
            "(setpriv) or as root, and only root can do both; refusing to run them as uid %d"
            % (NOBODY, os.geteuid()))
    if not SETPRIV:
        die("setpriv (util-linux) not found: cannot start runbox as uid %d; refusing to run" % NOBODY)
    p = subprocess.run(AS_NOBODY + ["/usr/bin/id", "-u"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0 or p.stdout.strip() != str(NOBODY).encode():
        die("setpriv could not switch to uid %d (%r %r); refusing to run" % (NOBODY, p.stdout, p.stderr))
    for path in (rbtest.RUNBOX, rbtest.RUNBOX_ZYGOTE):
        if not os.access(path, os.X_OK):
            die("%s is not built (set RUNBOX, or run ninja -C build)" % path)


LOCK_PATH = "/run/lock/runbox-hostile.lock"
LOCK_WAIT = 900  # seconds


def one_suite_at_a_time():
    """Two runs of the suite at once would see each other's processes of uid
    65534, files in /tmp and jobs of the same uids: the second one waits.
    Returns the open lock file (held until the process exits)."""
    d = os.path.dirname(LOCK_PATH)
    path = LOCK_PATH if os.path.isdir(d) else "/tmp/runbox-hostile.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log("another run of the hostile suite holds %s (%s): waiting up to %d s"
            % (path, os.pread(fd, 100, 0).decode("ascii", "replace").strip() or "?", LOCK_WAIT))
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    die("another run of the hostile suite still holds %s after %d s" % (path, LOCK_WAIT))
                time.sleep(1)
    os.ftruncate(fd, 0)
    os.pwrite(fd, ("pid %d since %s" % (os.getpid(), time.strftime("%H:%M:%S"))).encode(), 0)
    return fd


# ---- fixtures: canaries, secrets, servers, the bystander -----------------------------

class Servers:
    """Listeners the jobs must never reach: TCP and UDP on 127.0.0.1 and ::1
    (standing in for the outside world: no program ever aims off the
    machine), a Unix stream and a Unix datagram socket in a world-accessible
    dir (a daemon's socket, /dev/log), an abstract Unix datagram socket.
    Every connection or datagram is recorded."""

    def __init__(self, sockdir):
        self.events = []
        self.lock = threading.Lock()
        self.stop = False
        self.socks = []
        self.names = {}
        self.tcp = self._listen(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 0), "tcp 127.0.0.1")
        self.tcp_port = self.tcp.getsockname()[1]
        self.tcp6_port = 9  # the discard port: nothing listens there
        try:
            t6 = self._listen(socket.AF_INET6, socket.SOCK_STREAM, ("::1", 0), "tcp ::1")
            self.tcp6_port = t6.getsockname()[1]
        except OSError:
            pass
        udp = self._listen(socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", 0), "udp 127.0.0.1")
        self.udp_port = udp.getsockname()[1]
        try:
            self._listen(socket.AF_INET6, socket.SOCK_DGRAM, ("::1", self.udp_port), "udp ::1")
        except OSError:
            pass
        self.unix_stream = os.path.join(sockdir, "daemon.sock")
        self._listen(socket.AF_UNIX, socket.SOCK_STREAM, self.unix_stream, "unix stream")
        self.unix_dgram = os.path.join(sockdir, "log.sock")
        self._listen(socket.AF_UNIX, socket.SOCK_DGRAM, self.unix_dgram, "unix dgram")
        self.unix_abstract = "rbhostile-%s" % secrets.token_hex(8)
        self._listen(socket.AF_UNIX, socket.SOCK_DGRAM, "\0" + self.unix_abstract, "unix abstract")
        for path in (self.unix_stream, self.unix_dgram):
            os.chmod(path, 0o777)
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _listen(self, fam, kind, addr, name):
        s = socket.socket(fam, kind)
        s.bind(addr)
        if kind == socket.SOCK_STREAM:
            s.listen(16)
        s.setblocking(False)
        self.names[s] = name
        self.socks.append(s)
        return s

    def _loop(self):
        while not self.stop:
            r, _, _ = select.select(self.socks, [], [], 0.2)
            for s in r:
                try:
                    if s.type == socket.SOCK_STREAM:
                        c, _ = s.accept()
                        c.settimeout(0.5)
                        try:
                            data = c.recv(200)
                        except OSError:
                            data = b""
                        c.close()
                    else:
                        data, _ = s.recvfrom(200)
                    with self.lock:
                        self.events.append((time.time(), self.names[s], data))
                except OSError:
                    pass

    def since(self, t0):
        with self.lock:
            return [e for e in self.events if e[0] >= t0]

    def close(self):
        self.stop = True
        self.thread.join(2)
        for s in self.socks:
            s.close()


# An ordinary process of uid 65534, outside any sandbox and dumpable (as any
# program its user starts), holding a secret in memory only: not in its argv,
# environment or files. It reports the secret's address, and at the end what
# the buffer holds then.
BYSTANDER_SOURCE = r"""
import ctypes, os, sys
secret = sys.stdin.readline().strip().encode()
buf = ctypes.create_string_buffer(secret, len(secret))
sys.stdout.write("%d %d %d\n" % (os.getpid(), ctypes.addressof(buf), len(secret)))
sys.stdout.flush()
sys.stdin.readline()
sys.stdout.write(buf.raw.decode("ascii", "replace") + "\n")
sys.stdout.flush()
"""


class Bystander:
    def __init__(self, cwd):
        self.secret = "RBSECRET-BYSTANDER-" + secrets.token_hex(16)
        self.proc = subprocess.Popen(
            AS_NOBODY + ["/usr/bin/python3", "-I", "-S", "-c", BYSTANDER_SOURCE], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, cwd=cwd, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        self.proc.stdin.write((self.secret + "\n").encode())
        self.proc.stdin.flush()
        line = self._readline(20)
        try:
            pid, self.addr, self.length = (int(x) for x in line.split())
        except ValueError:
            self.close()
            die("the bystander did not start: %r" % line)
        if pid != self.proc.pid:  # setpriv execs python3 in place
            self.close()
            die("the bystander's pid %d is not its process's, %d" % (pid, self.proc.pid))
        self.pid = pid

    def _readline(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline().decode("ascii", "replace").strip() if r else ""

    def finish(self):
        """What its buffer holds now (None if it cannot tell); it then exits."""
        try:
            self.proc.stdin.write(b"report\n")
            self.proc.stdin.flush()
            held = self._readline(10) or None
        except OSError:
            held = None
        self.close()
        return held

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()  # our own child, by its pid
                self.proc.wait()


class Fixtures:
    """Everything the suite creates lives under one /tmp/rbhostile-* dir."""

    def __init__(self, keep=False):
        self.keep = keep
        self.base = tempfile.mkdtemp(prefix="rbhostile-", dir="/tmp")
        self.servers = None
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    def _setup(self):
        os.chmod(self.base, 0o755)
        # A private copy of the binaries that uid 65534 can run.
        self.bindir = os.path.join(self.base, "bin")
        os.mkdir(self.bindir, 0o755)
        for src in (rbtest.RUNBOX, rbtest.RUNBOX_ZYGOTE):
            dst = os.path.join(self.bindir, os.path.basename(src))
            shutil.copy2(src, dst)
            os.chmod(dst, 0o755)
        self.runbox = os.path.join(self.bindir, os.path.basename(rbtest.RUNBOX))
        self.runbox_digest = file_digest(self.runbox)
        # Root's secret in a 0700 dir: no job may ever read it.
        self.secret_dir = os.path.join(self.base, "secret")
        os.mkdir(self.secret_dir, 0o700)
        self.secret_file = os.path.join(self.secret_dir, "secret.txt")
        self.root_secret = "RBSECRET-ROOTFILE-" + secrets.token_hex(16)
        write_file(self.secret_file, self.root_secret + "\n", 0o600)
        # Root's secret in a file of mode 0600 in a dir anyone may enter, on
        # the working dirs' file system: a hard link to it must not make
        # runbox read it back as a tracked file.
        self.rootonly_dir = os.path.join(self.base, "rootonly")
        os.mkdir(self.rootonly_dir, 0o755)
        self.root_file = os.path.join(self.rootonly_dir, "rootonly.txt")
        self.root_file_secret = "RBSECRET-ROOTONLY-" + secrets.token_hex(16)
        write_file(self.root_file, self.root_file_secret + "\n", 0o600)
        # A world-writable dir (like /tmp) with a file of uid 65534: outside
        # every working dir, only Landlock keeps jobs of uid 65534 out of it.
        self.canary_dir = os.path.join(self.base, "canary")
        os.mkdir(self.canary_dir)
        os.chmod(self.canary_dir, 0o1777)
        self.canary_file = os.path.join(self.canary_dir, "canary.txt")
        self.canary = "RBCANARY-NOBODY-" + secrets.token_hex(16)
        write_file(self.canary_file, self.canary + "\n", 0o600)
        os.chown(self.canary_file, NOBODY, NOBODY)
        self.sockdir = os.path.join(self.base, "sock")
        os.mkdir(self.sockdir)
        os.chmod(self.sockdir, 0o777)
        self.servers = Servers(self.sockdir)
        self.env_secret = "RBSECRET-ENV-" + secrets.token_hex(16)
        # The bystander's cwd: empty, root's, nothing for a job to walk.
        self.bystander_dir = os.path.join(self.base, "bystander")
        os.mkdir(self.bystander_dir, 0o755)

    def pass_dir(self, p):
        """The pass's own dir (runbox's cwd, results) and --workdir. As uid
        65534, they are runbox's user's (0700). As root they are 0755, as
        root's umask makes them: what keeps jobs out of the results file and
        the working dirs must be runbox's doing, not the runner's."""
        d = os.path.join(self.base, "pass-" + p.name)
        work = os.path.join(d, "work")
        mode = 0o700 if p.uid == NOBODY else 0o755
        for path in (d, work):
            os.mkdir(path)
            os.chmod(path, mode)
            os.chown(path, p.uid, p.uid)
        return d, work

    def close(self):
        if self.servers:
            self.servers.close()
        if not self.keep:
            remove_tree_deep(self.base)


class FileFixtures:
    """The programs of `file` jobs (a Prog's job field "file_fixture"), made
    for one pass before it starts:

    neighbours     the program in a project dir of runbox's user (root's in
                   the root pass) that also holds what a grader keeps beside
                   the programs: the manifest (0600, holding a cases job's
                   expected output), a results file, notes, a hidden file and
                   a data dir (0600 each), a world-readable expected output,
                   a symlink named like a module pointing at the runner's
                   canary, a package and a __pycache__ that are symlinks to a
                   dir outside (an __init__.py and answers), and what the
                   program may import: helper.py and a package. Only the program and what it imports may be
                   read (docs/sandbox.md, Landlock).
    root_0600      root's file, mode 0600, in a dir anyone may enter, named
                   as the program: runbox must read it with the job's rights
                   (as root too), never its own. Its first line is a secret
                   that a job reading it would get back as a SyntaxError.
    root_in_0700   the same in a dir of mode 0700
    root_dir       a directory program (0700) whose __main__.py is that file
    root_zip       a zip app of root's, mode 0600
    root_symlink   a world-readable symlink to the root_0600 file
    """

    def __init__(self, fx, p):
        self.fx, self.p = fx, p
        self.base = os.path.join(fx.base, "fixtures-" + p.name)
        self.private = os.path.join(self.base, "private")
        self.neigh = os.path.join(fx.base, "neighbours-" + p.name)
        self.tops = [self.base, self.neigh]
        self.rootprog_secret = "RBSECRET-ROOTPROG-" + secrets.token_hex(16)
        self.answer = "RBSECRET-ANSWER-" + secrets.token_hex(16)
        self.neighbour_secrets = {}
        self._neigh_made = False
        os.mkdir(self.base, 0o755)
        os.chmod(self.base, 0o755)
        os.mkdir(self.private, 0o700)

    def gap_secrets(self):
        """What no record may hold, unless its expectation names a gap."""
        out = {"root's 0600 program file": self.rootprog_secret}
        out.update(self.neighbour_secrets)
        return out

    def _root_program(self, name, src):
        return "%s <- the first line of a file only root may read\n%s" % (self.rootprog_secret, src)

    def make(self, kind, name, src):
        if kind == "neighbours":
            return self._neighbours(name, src)
        path = os.path.join(self.base, name)
        if kind == "root_0600":
            write_file(path + ".py", self._root_program(name, src), 0o600)
            return path + ".py"
        if kind == "root_in_0700":
            p = os.path.join(self.private, name + ".py")
            write_file(p, self._root_program(name, src), 0o600)
            return p
        if kind == "root_dir":
            os.mkdir(path + ".d", 0o700)
            write_file(os.path.join(path + ".d", "__main__.py"), self._root_program(name, src), 0o600)
            return path + ".d"
        if kind == "root_zip":
            import zipfile
            with zipfile.ZipFile(path + ".pyz", "w") as z:
                z.writestr("__main__.py", self._root_program(name, src))
            os.chmod(path + ".pyz", 0o600)
            return path + ".pyz"
        if kind == "root_symlink":
            target = os.path.join(self.base, name + "-target.py")
            write_file(target, self._root_program(name, src), 0o600)
            os.symlink(target, path + ".py")
            return path + ".py"
        die("expectations.py names an unknown file fixture %r" % kind)

    def _neighbours(self, name, src):
        d, owner = self.neigh, self.p.uid
        if not self._neigh_made:
            self._neigh_made = True
            os.mkdir(d)
            os.chmod(d, 0o700 if owner == NOBODY else 0o755)
            s = {k: "RBSECRET-NEIGHBOUR-%s-%s" % (k.upper(), secrets.token_hex(16))
                 for k in ("results", "notes", "hidden", "data", "world", "stdin")}
            self.neighbour_secrets = {"a neighbour's " + k: v for k, v in s.items()}
            self.neighbour_secrets["a cases job's expected output"] = self.answer
            manifest = [{"id": "verdict_cases_file_neighbour", "file": "verdict_cases_file_neighbour.py",
                         "cases": [{"stdin": "", "expected_stdout": self.answer + "\n"}]},
                        {"id": "other-job", "source": "print(input())", "stdin": s["stdin"] + "\n"}]
            files = {
                "helper.py": ("VALUE = 'helper-ok'\n", 0o644),
                "pkg/__init__.py": ("VALUE = 'pkg-ok'\n", 0o644),
                "pkg/mod.py": ("VALUE = 'pkg.mod-ok'\n", 0o644),
                "manifest.jsonl": ("".join(json.dumps(j) + "\n" for j in manifest), 0o600),
                "results.jsonl": (json.dumps({"id": "other-job", "stdout": s["results"]}) + "\n", 0o600),
                "notes": (s["notes"] + "\n", 0o600),
                ".hidden": (s["hidden"] + "\n", 0o600),
                "data/answers.txt": (s["data"] + "\n", 0o600),
                "expected_output.txt": (s["world"] + "\n", 0o644),
            }
            for rel, (text, mode) in files.items():
                path = os.path.join(d, rel)
                if not os.path.isdir(os.path.dirname(path)):
                    os.mkdir(os.path.dirname(path), 0o755)
                    os.chown(os.path.dirname(path), owner, owner)
                write_file(path, text, mode)
                os.chown(path, owner, owner)
            os.symlink(self.fx.canary_file, os.path.join(d, "sneaky.py"))
            os.lchown(os.path.join(d, "sneaky.py"), owner, owner)
            # A package and a __pycache__ that are symlinks to a dir outside
            # (runbox's user's, 0700) holding an __init__.py and answers.
            out = os.path.join(self.fx.base, "outside-" + self.p.name)
            os.mkdir(out, 0o700)
            s["outside"] = "RBSECRET-NEIGHBOUR-OUTSIDE-" + secrets.token_hex(16)
            self.neighbour_secrets["a file outside the program's dir"] = s["outside"]
            for rel, text in (("__init__.py", "VALUE = 'outside'\n"), ("answers.txt", s["outside"] + "\n")):
                write_file(os.path.join(out, rel), text, 0o600)
                os.chown(os.path.join(out, rel), owner, owner)
            os.chown(out, owner, owner)
            self.tops.append(out)
            for link in ("linkpkg", "__pycache__"):
                os.symlink(out, os.path.join(d, link))
                os.lchown(os.path.join(d, link), owner, owner)
            os.chown(d, owner, owner)
        path = os.path.join(d, name + ".py")
        write_file(path, src, 0o644)
        os.chown(path, owner, owner)
        return path


def write_file(path, text, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def file_digest(path):
    """The file's digest, or None when it cannot be read (a job removed it)."""
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


# ---- the machine around a pass -------------------------------------------------------

def proc_info(pid):
    """(real uid, start time in ticks, exe, cmdline, state, ppid) of a live
    process, or None."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            st = f.read()
        rest = st[st.rindex(b")") + 2:].split()
        if rest[0] in (b"Z", b"X"):
            return None
        ppid, start = int(rest[1]), int(rest[19])
        with open("/proc/%d/status" % pid, "rb") as f:
            uid = int(re.search(rb"\nUid:\s+(\d+)", f.read()).group(1))
        try:
            exe = os.readlink("/proc/%d/exe" % pid)
        except OSError:
            exe = ""
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        return uid, start, exe, cmd, rest[0].decode(), ppid
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def all_processes():
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            info = proc_info(int(name))
            if info:
                out[int(name)] = info
    return out


def ticks_now():
    with open("/proc/uptime") as f:
        return int(float(f.read().split()[0]) * CLK_TCK)


class BatchCgroup:
    """A cgroup (v2) of the batch's own: runbox is put in it before it
    starts, and nothing it starts can leave it (the jobs cannot write the
    cgroup files). After runbox exits it must be empty. Without a writable
    cgroup v2 mount the runner falls back to /proc alone."""

    def __init__(self, tag):
        self.path = None
        self.why = None
        mount = None
        try:
            with open("/proc/self/mounts") as f:
                for line in f:
                    parts = line.split()
                    if parts[2] == "cgroup2":
                        mount = parts[1]
                        break
        except OSError:
            pass
        if not mount:
            self.why = "no cgroup v2 mounted"
            return
        path = os.path.join(mount, "rbhostile-" + tag)
        try:
            os.mkdir(path)
            self.fd = os.open(os.path.join(path, "cgroup.procs"), os.O_WRONLY)  # not inherited
            self.path = path
        except OSError as e:
            self.why = "cannot make a cgroup under %s: %s" % (mount, e)

    def enter(self):
        """In the child between fork and exec: as little as possible."""
        os.write(self.fd, b"0")

    def pids(self):
        try:
            with open(os.path.join(self.path, "cgroup.procs")) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def kill(self):
        try:
            with open(os.path.join(self.path, "cgroup.kill"), "w") as f:
                f.write("1")
        except OSError:
            for pid in self.pids():  # every one of them is of this batch
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass

    def remove(self):
        if not self.path:
            return
        os.close(self.fd)
        if rbtest.wait_until(lambda: not self.pids(), 5):
            pass
        try:
            os.rmdir(self.path)
        except OSError as e:
            log("   note: could not remove the cgroup %s: %s" % (self.path, e))


class Sampler(threading.Thread):
    """Looks at the batch's processes every 0.15 s while runbox runs. As
    root, each process that is not root's is a job: its uid must be in the
    job range, and no two jobs alive at once may share one. As uid 65534,
    every process of the batch must be 65534's."""

    def __init__(self, cg, runbox_pid, layers):
        super().__init__(daemon=True)
        self.cg, self.runbox_pid, self.layers = cg, runbox_pid, layers
        self.halt = threading.Event()
        self.samples = 0
        self.max_jobs = 0    # as root: processes of the job range at once
        self.max_procs = 0   # processes of the batch at once, runbox's own included
        self.uids = set()
        self.problems = []

    def run(self):
        while not self.halt.wait(0.15):
            try:
                self.sample()
            except Exception as e:  # never let the sampler end the pass
                self.problems.append("sampler error: %r" % e)
                return

    def sample(self):
        pids = self.cg.pids() if self.cg.path else rbtest.zygotes_of(self.runbox_pid)
        jobs = {}
        for pid in pids:
            info = proc_info(pid)
            if not info:
                continue
            uid = info[0]
            if self.layers.own_uids:
                if uid == 0:
                    continue  # runbox, its janitor, the zygote, a worker before it drops
                if uid not in JOB_UIDS:
                    self.problem("process %d (%s) of the batch runs as uid %d, outside the job range"
                                 % (pid, info[3][:80], uid))
                jobs[pid] = uid
            elif uid != NOBODY:
                self.problem("process %d (%s) of the batch runs as uid %d, not as runbox's user %d"
                             % (pid, info[3][:80], uid, NOBODY))
        self.samples += 1
        self.max_jobs = max(self.max_jobs, len(jobs))
        self.max_procs = max(self.max_procs, len(pids))
        self.uids.update(jobs.values())
        by_uid = {}
        for pid, uid in jobs.items():
            by_uid.setdefault(uid, []).append(pid)
        for uid, ps in by_uid.items():
            if len(ps) > 1:
                self.problem("uid %d held by %d jobs at once: pids %s" % (uid, len(ps), sorted(ps)))

    def problem(self, text):
        if text not in self.problems and len(self.problems) < 20:
            self.problems.append(text)


def snapshot_dirs(fx, pass_root, extra=(), skip=()):
    """What exists in the world-writable dirs, root's home, the runner's
    canary, socket and secret dirs, the pass's own dir and `extra` dirs
    (the file jobs' fixtures), not inside the `skip` dirs."""
    snap = {}
    for d in WATCHED_DIRS:
        try:
            for e in os.scandir(d):
                try:
                    st = e.stat(follow_symlinks=False)
                    snap[os.path.join(d, e.name)] = (st.st_uid, st.st_ino)
                except OSError:
                    pass
        except OSError:
            pass
    for top in (fx.canary_dir, fx.sockdir, fx.secret_dir, fx.rootonly_dir, fx.bystander_dir, pass_root) + tuple(extra):
        for p, st in walk_bounded(top, skip):
            snap[p] = (st.st_uid, st.st_ino)
    return snap


def walk_bounded(top, skip=(), max_depth=48):
    """(path, lstat) of everything under top, without recursion, never
    following a symlink, not below max_depth levels nor into `skip` dirs
    (the working dirs, which must be empty at the end and are checked
    apart: a job may leave trees thousands of levels deep there)."""
    stack = [(top, 0)]
    while stack:
        d, depth = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        for e in entries:
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            yield e.path, st
            if stat.S_ISDIR(st.st_mode) and depth < max_depth and e.path not in skip:
                stack.append((e.path, depth + 1))


def remove_tree_deep(path):
    """Removes path, a tree of any depth (a job's leftovers may be
    thousands of levels deep, their paths far past PATH_MAX), without
    recursion, holding two descriptors at a time, never following a
    symlink; as root, modes do not stand in the way. Returns False when
    something could not be removed."""
    try:
        st = os.lstat(path)
    except OSError:
        return True
    if not stat.S_ISDIR(st.st_mode):
        try:
            os.unlink(path)
            return True
        except OSError:
            return False
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        parent = os.open(os.path.dirname(os.path.abspath(path)), flags)
        cur = os.open(os.path.basename(path), flags, dir_fd=parent)
    except OSError:
        return False
    os.close(parent)
    names = [os.path.basename(path)]
    stuck = set()
    steps = 0
    while steps < 10 ** 7:
        steps += 1
        sub = None
        try:
            entries = list(os.scandir(cur))
        except OSError:
            entries = []
        for e in entries:
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                if (st.st_dev, st.st_ino) not in stuck and sub is None:
                    sub = (e.name, st)
                continue
            try:
                os.unlink(e.name, dir_fd=cur)
            except OSError:
                pass
        if sub is not None:
            try:
                nxt = os.open(sub[0], flags, dir_fd=cur)
            except OSError:
                stuck.add((sub[1].st_dev, sub[1].st_ino))
                continue
            os.close(cur)
            cur = nxt
            names.append(sub[0])
            continue
        here = os.fstat(cur)
        up = os.open("..", flags, dir_fd=cur)
        os.close(cur)
        name = names.pop()
        try:
            os.rmdir(name, dir_fd=up)
        except OSError:
            stuck.add((here.st_dev, here.st_ino))
        if not names:
            os.close(up)
            return not os.path.lexists(path)
        cur = up
    os.close(cur)
    return False


def metadata_of(path):
    """What a job must not change of a file outside its working dir: mode,
    owner, extended attributes (ACLs among them) and, of a file, its times
    (a dir's times change as runbox and the runner work in it). None when
    it is gone."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    try:
        xattrs = tuple(sorted((n, os.getxattr(path, n, follow_symlinks=False))
                              for n in os.listxattr(path, follow_symlinks=False)))
    except OSError:
        xattrs = ()
    times = None if stat.S_ISDIR(st.st_mode) else (st.st_mtime_ns,)
    return (stat.filemode(st.st_mode), st.st_uid, st.st_gid, xattrs, times)


def restore_metadata(path, m):
    """Puts back what metadata_of recorded (mode, owner, xattrs, mtime)."""
    if m is None or not os.path.lexists(path) or os.path.islink(path):
        return
    mode, uid, gid, xattrs, times = m
    try:
        os.chown(path, uid, gid)
        os.chmod(path, _mode_bits(mode))
        want = dict(xattrs)
        for n in os.listxattr(path):
            if n not in want:
                os.removexattr(path, n)
        for n, v in want.items():
            os.setxattr(path, n, v)
        if times:
            st = os.stat(path)
            os.utime(path, ns=(st.st_atime_ns, times[0]))
    except OSError as e:
        log("   note: could not restore the metadata of %s: %s" % (path, e))


def _mode_bits(filemode):
    """The permission bits of a stat.filemode() string ("-rw-r-----")."""
    bits = 0
    for i, c in enumerate(filemode[1:10]):
        if c not in "-ST":
            bits |= 1 << (8 - i)
    for i, (c, flag) in enumerate(((filemode[3], stat.S_ISUID), (filemode[6], stat.S_ISGID),
                                   (filemode[9], stat.S_ISVTX))):
        if c in "sStT":
            bits |= flag
    return bits


def fmt_meta(m):
    if m is None:
        return "(gone)"
    mode, uid, gid, xattrs, times = m
    return "%s %d:%d xattrs %s%s" % (mode, uid, gid, [n for n, _ in xattrs] or "none",
                                      " mtime %d" % times[0] if times else "")


def remove_path(path):
    if os.path.isdir(path) and not os.path.islink(path):
        remove_tree_deep(path)
    else:
        try:
            os.unlink(path)
        except OSError:
            pass


# ---- one pass ---------------------------------------------------------------------------

# runbox's own open-file limit in every pass: the common default (a soft
# limit of 1024), soft and hard, so that nothing runbox does may need more
# (issue 11: removing a tree deeper than its limit once left it behind).
RUNBOX_NOFILE = 1024
VARIANT_LINE = "RB_VARIANT = None"


def with_variant(src, variant):
    """The program as the job with this variant runs it."""
    if variant is None:
        return src
    if src.count(VARIANT_LINE + "\n") != 1:
        die("a program with variants must hold the line %r exactly once" % VARIANT_LINE)
    return src.replace(VARIANT_LINE + "\n", "RB_VARIANT = %r\n" % variant, 1)


def substitute(obj, values):
    """Every string "@name" in a job's fields, replaced by the pass's value."""
    if isinstance(obj, str) and obj.startswith("@") and obj[1:] in values:
        return values[obj[1:]]
    if isinstance(obj, dict):
        return {k: substitute(v, values) for k, v in obj.items()}
    if isinstance(obj, list):
        return [substitute(v, values) for v in obj]
    return obj


def shape_problems(rec):
    """rbtest's record shape check; the record fields issue 11 adds
    (doc_truncated, exception) are taken as known until rbtest knows them."""
    extra = [k for k in ("doc_truncated", "exception") if k in rec and k not in rbtest.EXTENSION_KEYS
             and k not in rbtest.RECORD_KEYS]
    if extra:
        rec = {k: v for k, v in rec.items() if k not in extra}
    return rbtest.record_shape_problems(rec)


# The eval batches: the hostile programs of an eval mode are the samples of
# one `runbox eval` per pass, on a problems file of ours (problems/), each
# sample wrong on purpose. Every line must fail.
PROBLEMS_DIR = os.path.join(HERE, "problems")
EVAL_TASK = {"humaneval": ("humaneval.jsonl", "RBH/0", "solution"),
             "mbpp": ("mbpp.jsonl", 9001, "completion"),
             "calls": ("humanevalplus.jsonl", "RBH+/0", "solution")}
# How each batch runs runbox eval (with the pass's flags). The calls batch
# (HumanEval+: a job of function calls per kind of input, base and plus,
# judged in the supervisor against what the reference solution returned)
# has room for values past the 64 MiB digest limit, per-call limits of
# 0.5 s (evalplus's are max(--min-time-limit, 4 x the reference's time)) so
# that a call that swallows its alarm meets the job's 3 s, no reruns, and
# its reference cache in its own dir (made 0755 as root, as a shared cache
# dir such as /var/cache would be: what runbox writes there must still be
# out of the jobs' reach).
EVAL_ARGS = {"humaneval": ["-j", "2", "--timeout", "3", "--memory", "256"],
             "mbpp": ["-j", "2", "--timeout", "3", "--memory", "256"],
             "calls": ["-j", "2", "--timeout", "3", "--memory", "512", "--min-time-limit", "0.5", "--no-rerun"]}


def call_kind(args):
    """What a function-call test is called for: its first argument (a
    kind of RBH+/0's, a size), as the programs' TARGETS lines name it."""
    if not isinstance(args, list) or not args:
        return ""
    return args[0] if isinstance(args[0], str) else json.dumps(args[0], separators=(",", ":"))


def load_call_problems():
    """problems/humanevalplus.jsonl: task id -> its record."""
    with open(os.path.join(PROBLEMS_DIR, EVAL_TASK["calls"][0]), encoding="utf-8") as f:
        return {p["task_id"]: p for p in map(json.loads, f)}


def manifest_value(v):
    """A Python value as a manifest's `expected` writes it (docs/manifest.md)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return v if abs(v) < 10 ** 300 else {"$int": hex(v)}
    if isinstance(v, float):
        neg_zero = v == 0 and str(v).startswith("-")
        return v if v == v and abs(v) != float("inf") and not neg_zero else {"$float": repr(v)}
    if isinstance(v, list):
        return [manifest_value(x) for x in v]
    if isinstance(v, tuple):
        return {"$tuple": [manifest_value(x) for x in v]}
    if isinstance(v, (set, frozenset)):
        return {"$frozenset" if isinstance(v, frozenset) else "$set": [manifest_value(x) for x in sorted(v)]}
    if isinstance(v, bytes):
        import base64
        return {"$bytes": base64.b64encode(v).decode()}
    if isinstance(v, dict):
        if all(isinstance(k, str) for k in v):
            return {k: manifest_value(x) for k, x in v.items()}
        return {"$dict": [[manifest_value(k), manifest_value(x)] for k, x in v.items()]}
    die("manifest_value: %r" % type(v))


def standard_calls():
    """The calls of a `run` job of function-call tests (the field "@calls_rbv"):
    RBH+/0's base and plus inputs, each expecting what its canonical solution
    (ours, trusted) returns; an argument holding NUL cannot be in a manifest."""
    p = load_call_problems()["RBH+/0"]
    ns = {}
    exec(p["prompt"] + p["canonical_solution"], ns)  # our own reference, never a hostile program
    digits = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return [{"args": a, "expected": manifest_value(ns[p["entry_point"]](*a)), "timeout": 1}
                for a in p["base_input"] + p["plus_input"] if not any(isinstance(x, str) and "\0" in x for x in a)]
    finally:
        sys.set_int_max_str_digits(digits)


class EvalBatch:
    def __init__(self, mode, d):
        self.mode, self.dir = mode, d
        self.problems = os.path.join(d, EVAL_TASK[mode][0])
        self.samples = os.path.join(d, "samples.jsonl")
        self.results = os.path.join(d, "results.jsonl")
        self.work = os.path.join(d, "work")
        self.cache = os.path.join(d, "cache")   # the calls batch's reference outputs
        self.ids = []           # the samples' hostile ids, in order
        self.expected = {}
        self.program_of = {}
        self.task_of = {}       # hostile id -> task id
        self.duration = 0.0
        self.supervisor_cpu = None  # runbox's own CPU seconds (user + system), the last seen
        self.lines = []


def prepare_evals(p, progs, root):
    """The eval batches of this pass (their files in <pass dir>/eval-MODE,
    the pass's user's, before the pass's snapshot)."""
    out = []
    for mode in X.EVAL_MODES:
        samples = []
        for name, src in progs:
            prog = X.PROGRAMS[name]
            for suffix, fields in prog.copies_in(mode):
                jid = "%s%s@%s" % (name, suffix, mode)
                samples.append((jid, name, with_variant(src, fields.get("variant")), fields.get("task")))
        if not samples:
            continue
        eb = EvalBatch(mode, os.path.join(root, "eval-" + mode))
        for d in (eb.dir, eb.work):
            os.mkdir(d)
            os.chmod(d, 0o700 if p.uid == NOBODY else 0o755)
            os.chown(d, p.uid, p.uid)
        if mode == "calls" and p.uid == 0:
            os.mkdir(eb.cache)
            os.chmod(eb.cache, 0o755)  # a shared cache dir: runbox creates its own 0700 only when it makes it
        fname, task, field = EVAL_TASK[mode]
        shutil.copyfile(os.path.join(PROBLEMS_DIR, fname), eb.problems)
        with open(eb.samples, "w") as f:
            for jid, name, code, sample_task in samples:
                f.write(json.dumps({"task_id": sample_task or task, field: code, "hostile_id": jid}) + "\n")
                eb.ids.append(jid)
                eb.program_of[jid] = name
                eb.task_of[jid] = sample_task or task
        for path in (eb.problems, eb.samples):
            os.chmod(path, 0o600)
            os.chown(path, p.uid, p.uid)
        out.append(eb)
    return out


class CpuWatch(threading.Thread):
    """The CPU time (user + system) a process spent itself, its children
    apart: read from /proc/PID/stat every 0.05 s until it ends, the last
    reading kept. For runbox, the supervisor's own work: judging values,
    reading messages, writing records."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.seconds = pid, None
        self.halt = threading.Event()
        self.start()

    def run(self):
        while not self.halt.is_set():
            try:
                with open("/proc/%d/stat" % self.pid, "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
                if fields[0] in (b"Z", b"X"):
                    return
                self.seconds = (int(fields[11]) + int(fields[12])) / CLK_TCK
            except (OSError, IndexError, ValueError):
                return
            self.halt.wait(0.05)

    def stop(self):
        self.halt.set()
        self.join(2)
        return self.seconds


def run_eval(fx, p, eb, env, child_setup, res):
    """Runs one eval batch as the pass runs runbox, in the batch's cgroup."""
    extra = ["--cache-dir", eb.cache] if eb.mode == "calls" else []
    cmd = p.cmd([fx.runbox, "eval", "--problems", eb.problems, "--samples", eb.samples, "-o", eb.results]
                + EVAL_ARGS[eb.mode] + extra + p.flags)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=eb.dir, env=dict(env, TMPDIR=eb.work), preexec_fn=child_setup)
    watch = CpuWatch(proc.pid)  # setpriv execs runbox in place: the same pid
    try:
        out, err = proc.communicate(timeout=PASS_TIMEOUT)
        rc, out, err = proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        proc.kill()  # our own child, by its pid
        _, err = proc.communicate()
        rc, out, err = "killed after %d s" % PASS_TIMEOUT, "", (err or b"").decode("utf-8", "replace")
    eb.supervisor_cpu = watch.stop()
    eb.duration = time.monotonic() - t0
    res.duration += eb.duration
    res.max_load = max(res.max_load, os.getloadavg()[0])
    who = "(eval %s)" % eb.mode
    if rc != 0:
        res.failures.append((who, "runbox eval exited with status %s (it must exit 0 whatever the samples do); "
                                  "stderr: %s" % (rc, clip(err, 2000))))
    for line in err.splitlines():
        if "zygote died" in line or "removing " in line:
            res.failures.append((who, "runbox reported: %s" % line.strip()))
    summary = [l.strip() for l in err.splitlines() if l.startswith("runbox eval:") or l.startswith("  passed")]
    log("   %s [%.1f s, runbox's own CPU %s] %s" % (
        eb.mode, eb.duration, "%.1f s" % eb.supervisor_cpu if eb.supervisor_cpu is not None else "unknown",
        " ".join(summary) or clip(err.strip(), 300)))
    if not out.strip().splitlines() or not out.strip().splitlines()[-1].startswith("{"):
        res.failures.append((who, "the last line of runbox eval's stdout is not its pass@k object: %r" % out[-300:]))
    text = ""
    if os.path.exists(eb.results):
        with open(eb.results, "rb") as f:
            text = f.read().decode("utf-8", "surrogateescape")
    for n, line in enumerate(text.splitlines()):
        try:
            eb.lines.append(json.loads(line))
        except ValueError:
            res.failures.append((who, "results line %d is not JSON: %s" % (n + 1, clip(line, 300))))


def eval_runs(line):
    """The records of an eval line: the line itself, or (HumanEval+, MBPP+:
    a job of calls per kind of input) its base and plus runs."""
    if "status" not in line and isinstance(line.get("base"), dict):
        return [("base", line["base"])] + ([("plus", line["plus"])] if isinstance(line.get("plus"), dict) else [])
    return [("", line)]


def check_eval(res, eb, layers, secrets_all, verbose):
    """Every line of an eval batch: one per sample in order, none passed, no
    internal status, no ESCAPED, no secret, and its program's expectation
    (in the calls batch, of each run, base and plus, with its calls' verdicts
    against what the program says it plays its tricks on)."""
    who = "(eval %s)" % eb.mode
    got_ids = [l.get("hostile_id") for l in eb.lines]
    if got_ids != eb.ids:
        res.failures.append((who, "%d results lines for %d samples, or not in the samples' order (%s)"
                             % (len(got_ids), len(eb.ids), clip(repr(got_ids), 300))))
    problems = load_call_problems() if eb.mode == "calls" else {}
    races = {}
    for line in eb.lines:
        jid = line.get("hostile_id")
        if jid not in eb.program_of:
            continue
        name = eb.program_of[jid]
        exp = X.PROGRAMS[name].expectation(layers, eb.mode)
        runs = eval_runs(line)
        stdout = "\n".join(run.get("stdout") or "" for _, run in runs)
        view = dict(line, stdout=stdout)
        hole = exp.hole_for(view)
        bad = []
        task = problems.get(eb.task_of.get(jid))
        for kind, run in runs:
            rec = dict(run, hostile_id=jid)
            if task is not None:
                rec["_call_args"] = task["%s_input" % kind]
            bad += [(kind + ": " if kind else "") + b for b in exp.problems(rec)]
            if run.get("status") == "internal" or run.get("had_unexpected_error") is not False:
                bad.append("%sstatus %r, had_unexpected_error %r: a failing sample must never look like runbox's "
                           "fault" % (kind + ": " if kind else "", run.get("status"), run.get("had_unexpected_error")))
        if line.get("passed") is not False:
            if hole:
                res.holes.append((jid, hole))
            elif not exp.gap:
                bad.append("FORGED VERDICT: passed is %r for a sample whose code is wrong" % line.get("passed"))
        elif hole:
            res.notes.append("%s: the known hole did not show (passed is false): if runbox was fixed, drop the "
                             "marker in expectations.py (%s)" % (jid, hole[:120]))
        escaped = [l for l in stdout.splitlines() if "ESCAPED" in l]
        if escaped:
            bad.append("ESCAPED in stdout: " + " | ".join(escaped)[:800])
        dumped = json.dumps({k: v for k, v in line.items() if k not in ("solution", "completion")})
        for what, value in secrets_all.items():
            if value in dumped:
                bad.append("the line holds %s" % what)
        tries, forged = races.get(name, (0, 0))
        races[name] = (tries + 1, forged + (line.get("passed") is not False))
        if len(runs) == 1:
            got = "%s rc=%s passed=%s" % (line.get("status"), line.get("return_code"), line.get("passed"))
        else:
            got = "%s passed=%s" % (" ".join("%s=%s" % (kind, run.get("status")) for kind, run in runs),
                                    line.get("passed"))
        marks = sorted({l.split()[0] for l in stdout.splitlines() if l.split()[:1] in (["GAP"], ["ESCAPED"], ["HOLE"])})
        if marks:
            got += " " + "+".join(marks)
        if verbose:
            got += "  [%.2fs] %s" % (sum(run.get("runtime") or 0 for _, run in runs),
                                     clip(line.get("result") or "", 60))
        cat = X.PROGRAMS[name].category
        if bad:
            res.failures.append((jid, "\n      ".join(bad) + "\n      line: " + fmt_line(line)))
            res.rows.append((jid, cat, exp.describe() + " passed=false", got, "FAIL"))
        elif hole and line.get("passed") is not False:
            res.rows.append((jid, cat, exp.describe(), got, "HOLE"))
        elif exp.gap:
            res.gaps.append((jid, exp.gap))
            res.rows.append((jid, cat, exp.describe() + " passed=false", got, "GAP"))
        else:
            res.rows.append((jid, cat, exp.describe() + " passed=false", got, "pass"))
    for name, (tries, forged) in sorted(races.items()):
        if tries > 1:
            log("   %s: %s tried %d times, %d forged passes" % (eb.mode, name, tries, forged))
            res.notes.append("%s in the %s batch: tried %d times, %d forged passes" % (name, eb.mode, tries, forged))


# The supervisor serves every job of a batch from one thread: what it spends
# judging one job's values, every other job waits for (their output is not
# read, their deadlines not enforced, no job starts). Without
# call_supervisor_load, the calls batch costs it well under 0.2 s.
SUPERVISOR_CPU_HOLE = 1.0  # seconds


def check_supervisor_cpu(res, eb):
    """call_supervisor_load's values (ints just below 10^4300 sent as hex, a
    list of them filling the value limit) must not cost the supervisor more
    than a second of CPU: it reads only the canonical form the worker
    writes, converting nothing (src/values.h)."""
    lines = [l for l in eb.lines if eb.program_of.get(l.get("hostile_id")) == "call_supervisor_load"]
    job_cpu = sum(run.get("cpu_time") or 0 for l in lines for _, run in eval_runs(l))
    if eb.supervisor_cpu is None:
        res.notes.append("(supervisor): runbox's own CPU time for the calls batch could not be read")
    elif eb.supervisor_cpu > SUPERVISOR_CPU_HOLE:
        res.failures.append(("(supervisor)", "the calls batch cost runbox %.1f s of its own CPU (at most %.1f s); "
                                             "the sample sending those values used %.2f s"
                             % (eb.supervisor_cpu, SUPERVISOR_CPU_HOLE, job_cpu)))
    else:
        res.notes.append("(supervisor): the calls batch cost runbox %.2f s of its own CPU" % eb.supervisor_cpu)


def fmt_line(line):
    """An eval line for a failure report: its record, or its base and plus runs'."""
    runs = eval_runs(line)
    if len(runs) == 1:
        return fmt_record(line)
    return json.dumps({"passed": line.get("passed"), "result": line.get("result"),
                       **{kind: json.loads(fmt_record(run)) for kind, run in runs}}, ensure_ascii=True)


def runbox_env(root, extra=None):
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": root, "TMPDIR": root}
    env.update(extra or {})
    return env


def doctor(fx, p, cwd):
    """The layers jobs get in this pass, from `runbox doctor --json`, run as
    the pass will run runbox."""
    r = subprocess.run(p.cmd([fx.runbox, "doctor", "--json"] + p.flags), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120, cwd=cwd, env=runbox_env(cwd))
    try:
        info = json.loads(r.stdout)
        return X.Layers({k: v["active"] for k, v in info["layers"].items()}, root=info["root"]), info
    except (ValueError, KeyError) as e:
        die("runbox doctor --json %s failed (%s): %s %s" % (" ".join(p.flags), e, r.stdout[:500], r.stderr[:500]))


# A benign job, run before any hostile program of a pass, as the pass runs
# them: it shows that the job is under seccomp and no_new_privs, without
# capabilities, and (as root) under a uid of the job range. Its only signals
# are signal 0, which delivers nothing.
PROBE_SOURCE = r"""
import json, os, socket
out = {"ids": list(os.getresuid()) + list(os.getresgid()), "groups": os.getgroups()}
st = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"):
    out[k] = st[k].strip()
def refused(what, f):
    try:
        r = f()
    except PermissionError:
        out[what] = "refused"
        return
    except OSError as e:
        out[what] = "errno %d" % e.errno
        return
    out[what] = "ALLOWED"
    return r
pid = refused("fork", os.fork)
if pid == 0:
    os._exit(0)
if pid:
    os.waitpid(pid, 0)
refused("kill(-1, 0)", lambda: os.kill(-1, 0))
refused("kill(parent, 0)", lambda: os.kill(os.getppid(), 0) if os.getppid() > 0 else os.kill(1, 0))
s = refused("socket", socket.socket)
if s:
    s.close()
print(json.dumps(out))
"""


def probe_problems(fx, p, layers, root, work):
    """Runs the benign probe job; returns why hostile programs must not run
    in this pass (an empty list when they may)."""
    job = {"id": "probe", "source": PROBE_SOURCE, "timeout": 20}
    r = subprocess.run(p.cmd([fx.runbox, "run", "-", "-o", "-", "-q", "--workdir", work] + p.flags),
                       input=(json.dumps(job) + "\n").encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120, cwd=root, env=runbox_env(root))
    try:
        rec = json.loads(r.stdout)
        out = json.loads(rec["stdout"])
    except (ValueError, KeyError, TypeError):
        return ["the probe job did not run: exit %s, %s %s" % (r.returncode, clip(r.stdout.decode("utf-8", "replace")),
                                                               clip(r.stderr.decode("utf-8", "replace")))]
    bad = []
    for k in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        if int(out[k], 16):
            bad.append("%s is %s" % (k, out[k]))
    if out["NoNewPrivs"] != "1" or out["Seccomp"] != "2":
        bad.append("NoNewPrivs %s, Seccomp %s" % (out["NoNewPrivs"], out["Seccomp"]))
    for what in ("fork", "kill(-1, 0)", "kill(parent, 0)", "socket"):
        if out[what] != "refused":
            bad.append("%s: %s" % (what, out[what]))
    ids = out["ids"]
    if 0 in ids:
        bad.append("the job has root ids %s" % ids)
    if layers.own_uids:
        if len(set(ids)) != 1 or ids[0] not in JOB_UIDS or (ids[0] - X.JOB_UID_BASE) % X.JOB_UID_BLOCK >= X.JOB_UID_SLOTS:
            bad.append("ids %s: expected one uid of the job range" % ids)
        if out["groups"]:
            bad.append("supplementary groups %s" % out["groups"])
    elif set(ids) != {NOBODY}:
        bad.append("ids %s: expected %d" % (ids, NOBODY))
    return bad


def load_programs(only):
    files = sorted(f[:-3] for f in os.listdir(PROGRAMS_DIR) if f.endswith(".py"))
    missing = [f for f in files if f not in X.PROGRAMS]
    extra = [n for n in X.PROGRAMS if n not in files]
    if missing or extra:
        die("programs/ and expectations.py disagree: no expectation for %s; no program for %s" % (missing, extra))
    names = files
    if only:
        unknown = [n for n in only if n not in X.PROGRAMS]
        if unknown:
            die("--only: unknown programs %s" % unknown)
        names = [n for n in files if n in only]
    progs = []
    for n in names:
        with open(os.path.join(PROGRAMS_DIR, n + ".py"), encoding="utf-8") as f:
            src = f.read()
        if not src.startswith('"""'):
            die("programs/%s.py has no docstring saying what it attempts" % n)
        progs.append((n, src))
    progs.sort(key=lambda p: (X.PROGRAMS[p[0]].order, p[0]))
    return progs


class PassResult:
    def __init__(self, p, layers):
        self.p = p
        self.name = p.name
        self.layers = layers
        self.rows = []          # (job id, category, expected, got, verdict)
        self.failures = []      # (program or "(what)", text)
        self.gaps = []          # (program or "(what)", text)
        self.holes = []         # (program or "(what)", text): known holes of runbox, reported, not failed
        self.notes = []         # things seen that may not be the batch's doing
        self.duration = 0.0
        self.max_load = 0.0
        self.nprograms = 0
        self.ran = False

    @property
    def failed(self):
        return bool(self.failures)


def uid_spans(rec):
    """(uid, start, end) of each run of a record that printed its ids and
    start time (the uid probes, the secret holder)."""
    runs = rec.get("commands") or [rec]
    out = []
    for run in runs:
        out_text = run.get("stdout") or ""
        m = X.IDS.search(out_text)
        s = re.search(r"START (\d+\.\d+)", out_text)
        if not (m and s):
            continue
        e = re.search(r"(?m)^END (\d+\.\d+)", out_text)
        start = float(s.group(1))
        end = float(e.group(1)) if e else start + float(run.get("runtime") or 0)
        out.append((int(m.group(1)), start, end))
    return out


def run_pass(fx, p, progs, verbose):
    root, work = fx.pass_dir(p)
    layers, info = doctor(fx, p, root)
    res = PassResult(p, layers)
    res.nprograms = len(progs)
    log("\n== pass %r: %s\n   %s" % (p.name, p.title, layers.describe()))
    if not (layers.seccomp and layers.rlimits):
        res.failures.append(("(pass)", "runbox doctor reports seccomp or rlimits inactive; refusing to run "
                                       "hostile programs under it: %s" % json.dumps(info["layers"])))
        return res
    if layers.root != (p.uid == 0):
        res.failures.append(("(pass)", "runbox doctor says root=%s, but this pass runs it as uid %d"
                             % (layers.root, p.uid)))
        return res
    if p.flags and (layers.landlock or layers.pid_ns or layers.user_ns or layers.net_ns):
        res.failures.append(("(pass)", "--no-landlock --no-namespaces left layers on: %s" % layers.describe()))
        return res
    if p.uid == 0 and not layers.own_uids:
        res.failures.append(("(pass)", "as root, runbox doctor does not report privilege_drop active: jobs would "
                                       "not run under uids of their own; refusing to run hostile programs as root"))
        return res
    if p.name == "full" and not (layers.landlock and layers.pid_ns):
        res.notes.append("Landlock or the PID namespace is missing on this host: the full pass does not "
                         "have every layer (%s)" % layers.describe())
    bad = probe_problems(fx, p, layers, root, work)
    if bad:
        res.failures.append(("(probe)", "the benign probe job shows the sandbox is not in place, so no hostile "
                                        "program ran: " + "; ".join(bad)))
        return res
    res.ran = True

    # Secrets of this pass: what the holder holds, what the printer prints.
    holder_hex = secrets.token_hex(16)
    secret_stdin = "RBSECRET-STDIN-" + holder_hex
    secret_argv = "RBSECRET-ARGV-" + secrets.token_hex(16)
    secret_file = "RBSECRET-FILE-" + holder_hex
    secret_out = "RBSECRET-OUT-" + secrets.token_hex(16)
    secret_trash = "RBSECRET-TRASH-" + secrets.token_hex(16)
    gap_tag = "rbhostile-gap-%s-%s" % (p.name, secrets.token_hex(4))
    results = os.path.join(root, "results.jsonl")
    bystander = Bystander(fx.bystander_dir)
    cg = BatchCgroup(secrets.token_hex(6))
    if not cg.path:
        res.notes.append("no cgroup of the batch's own (%s): stray processes are found by /proc alone" % cg.why)
    try:
        return _run_pass(fx, p, progs, verbose, res, layers, root, work, results, gap_tag, bystander, cg,
                         (secret_stdin, secret_argv, secret_file, secret_out, secret_trash))
    finally:
        if bystander.proc.poll() is None:
            bystander.close()
        if cg.path:
            if cg.pids():
                cg.kill()
            cg.remove()


def _run_pass(fx, p, progs, verbose, res, layers, root, work, results, gap_tag, bystander, cg, held):
    secret_stdin, secret_argv, secret_file, secret_out, secret_trash = held
    # What the jobs' fields name is made before the pass's snapshot: the
    # programs of file jobs and the eval batches' files.
    ffx = FileFixtures(fx, p)
    values = {"neighbour_answer": ffx.answer, "cases_answer": "RBSECRET-CASES-" + secrets.token_hex(16)}
    # Function-call tests: RBH+/0's calls, and two whose expected values are
    # secrets of the pass (a string and a 40-digit int) kept nowhere but in
    # runbox's memory: the manifest goes in on stdin.
    calls_secret = ("RBSECRET-CALLS-" + secrets.token_hex(16), 10 ** 39 + secrets.randbelow(9 * 10 ** 39))
    values["calls_rbv"] = standard_calls()
    values["calls_secret"] = [{"args": ["secret", i], "expected": v, "timeout": 15} for i, v in enumerate(calls_secret)]
    file_of = {}
    for name, src in progs:
        prog = X.PROGRAMS[name]
        for suffix, fields in prog.copies_in("run"):
            kind = dict(prog.job, **fields).get("file_fixture")
            if kind:
                fname = name if kind == "neighbours" else name + suffix.replace(".", "-")
                file_of[(name, suffix)] = ffx.make(kind, fname, with_variant(src, fields.get("variant")))
    evals = prepare_evals(p, progs, root)
    skip = {work} | {eb.work for eb in evals}
    before_fs = snapshot_dirs(fx, root, ffx.tops, skip)
    meta_paths = [fx.canary_file, fx.canary_dir, fx.secret_file, fx.root_file, fx.rootonly_dir, root, work] + [
        os.path.join(top, n) for top in ffx.tops if os.path.isdir(top) for n in [""] + os.listdir(top)]
    before_meta = {path: metadata_of(path) for path in meta_paths}
    canary_digest = file_digest(fx.canary_file)
    secret_digest = file_digest(fx.secret_file)
    root_file_digest = file_digest(fx.root_file)
    ticks0 = ticks_now()

    env = runbox_env(root, {"RBHOSTILE_ENV_CANARY": fx.env_secret})
    # The manifest goes in on stdin: the jobs must learn runbox's pid from it.
    cmd = p.cmd([fx.runbox, "run", "-", "-o", results, "--workdir", work, "-v"] + RUNBOX_DEFAULTS + p.flags)

    def child_setup():
        resource.setrlimit(resource.RLIMIT_NPROC, (NPROC_SAFETY_NET, NPROC_SAFETY_NET))
        resource.setrlimit(resource.RLIMIT_NOFILE, (RUNBOX_NOFILE, RUNBOX_NOFILE))
        if cg.path:
            cg.enter()

    t0 = time.time()
    mono0 = time.monotonic()
    res.max_load = os.getloadavg()[0]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=root, env=env, preexec_fn=child_setup)
    runbox_pid = proc.pid  # setpriv execs runbox in place: same pid
    run_cpu = CpuWatch(runbox_pid)
    real_runbox = os.path.realpath(fx.runbox)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if os.readlink("/proc/%d/exe" % runbox_pid) == real_runbox:
                break
        except OSError:
            pass
        time.sleep(0.01)
    else:
        res.failures.append(("(pass)", "pid %d never became runbox" % runbox_pid))
    sampler = Sampler(cg, runbox_pid, layers)
    sampler.start()

    context = ["runbox_pid=%d" % runbox_pid, "runbox_cwd=" + root, "workdir=" + work,
               "secret_file=" + fx.secret_file, "canary_file=" + fx.canary_file, "root_file=" + fx.root_file,
               "canary_dir=" + fx.canary_dir, "results_file=" + results, "gap_tag=" + gap_tag,
               "tcp_port=%d" % fx.servers.tcp_port, "tcp6_port=%d" % fx.servers.tcp6_port,
               "udp_port=%d" % fx.servers.udp_port,
               "unix_stream=" + fx.servers.unix_stream, "unix_dgram=" + fx.servers.unix_dgram,
               "unix_abstract=" + fx.servers.unix_abstract, "bystander_pid=%d" % bystander.pid,
               "bystander_addr=%d" % bystander.addr, "bystander_len=%d" % bystander.length]
    jobs, expected, program_of, call_args = [], {}, {}, {}
    for name, src in progs:
        prog = X.PROGRAMS[name]
        for suffix, fields in prog.copies_in("run"):
            job = dict(prog.job)
            job.update(fields)
            transform = job.pop("transform", None)
            role = job.pop("role", None)
            variant = job.pop("variant", None)
            job.pop("file_fixture", None)
            job = substitute(job, values)
            argv = list(context)
            if role == "holder":
                argv.append(secret_argv)
                job["stdin"] = secret_stdin + "\n"
            elif role == "printer":
                job["stdin"] = secret_out + "\n"
            elif role == "trash_victim":
                job["stdin"] = secret_trash + "\n"
            if "commands" in job:
                job["commands"] = [dict(c, argv=c.get("argv", argv)) for c in job["commands"]]
            jid = name + suffix
            code = with_variant(src, variant)
            job.update({"id": jid, "argv": argv})
            if (name, suffix) in file_of:
                job["file"] = file_of[(name, suffix)]
            else:
                job.update({"source": transform(code) if transform else code, "path": name + ".py"})
            jobs.append(job)
            expected[jid] = prog.expectation(layers)
            if job.get("calls"):
                call_args[jid] = [c.get("args") for c in job["calls"]]
            program_of[jid] = name
    manifest = "".join(json.dumps(j) + "\n" for j in jobs).encode()

    try:
        _, err = proc.communicate(manifest, timeout=PASS_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()  # our own child, by its pid
        _, err = proc.communicate()
        res.failures.append(("(pass)", "runbox did not finish within %d s" % PASS_TIMEOUT))
    res.duration = time.monotonic() - mono0
    for eb in evals:
        run_eval(fx, p, eb, env, child_setup, res)
    sampler.halt.set()
    sampler.join(5)
    res.max_load = max(res.max_load, os.getloadavg()[0])
    err = err.decode("utf-8", "replace")
    if proc.returncode != 0:
        res.failures.append(("(pass)", "runbox exited with status %s (it must exit 0 whatever the jobs do); "
                                       "stderr: %s" % (proc.returncode, clip(err, 2000))))
    for line in err.splitlines():
        if "zygote died" in line or "removing " in line:
            res.failures.append(("(pass)", "runbox reported: %s" % line.strip()))
    summary = [l for l in err.splitlines() if l.startswith("runbox: %d jobs" % len(jobs))]
    run_cpu = run_cpu.stop()
    log("   %s [runbox's own CPU %s]" % (summary[0] if summary else clip(err.strip(), 500),
                                        "%.1f s" % run_cpu if run_cpu is not None else "unknown"))

    # -- the warning: printed exactly when jobs run as runbox's user without Landlock.
    warned = [l for l in err.splitlines() if l.startswith(WARNING.split("(")[0])]
    if layers.exposed:
        want = WARNING % NOBODY
        if len(warned) != 1 or not warned[0].startswith(want):
            res.failures.append(("(warning)", "runbox must warn once that jobs run as its user without Landlock "
                                              "(%r...); its warning lines: %s" % (want, warned)))
        else:
            res.gaps.append(("(warning)", "runbox warned: %s" % warned[0]))
    elif warned:
        res.failures.append(("(warning)", "runbox warned that jobs run as its user, but in this pass they do not: "
                                          "%s" % warned))
    for line in err.splitlines():
        if "warning" in line.lower() and line not in warned:
            res.notes.append("runbox's stderr: %s" % line.strip()[:200])

    # -- processes: nothing of the batch may be left (its janitor included,
    # which runbox waits for).
    def leftovers():
        if cg.path:
            return {pid: proc_info(pid) or (-1, 0, "", "(gone)", "?", 0) for pid in cg.pids()}
        now = all_processes()
        return {pid: i for pid, i in now.items()
                if i[1] >= ticks0 and (i[2].startswith(fx.bindir) or fx.bindir in i[3]
                                       or "--parent=%d" % runbox_pid in i[3])}
    rbtest.wait_until(lambda: not leftovers(), 10)
    for pid, (uid, start, exe, cmdl, state, ppid) in sorted(leftovers().items()):
        res.failures.append(("(processes)", "process %d (uid %d, state %s, %s) of the batch outlived runbox"
                             % (pid, uid, state, cmdl[:200])))
    in_cgroup = set(cg.pids()) if cg.path else set()
    foreign = []
    for pid, (uid, start, exe, cmdl, state, ppid) in sorted(all_processes().items()):
        if start >= ticks0 and (uid in JOB_UIDS or uid == NOBODY) and pid != bystander.pid \
                and pid not in in_cgroup:
            foreign.append("%d (uid %d, %s)" % (pid, uid, cmdl[:100]))
    if foreign:
        text = ("%d process(es) of uid 65534 or of the job range started during the pass outside the batch's "
                "cgroup (another runbox or test on the machine?)" % len(foreign))
        res.notes.append(text + (": " + "; ".join(foreign[:10]) if verbose else ""))
    for problem in sampler.problems:
        res.failures.append(("(uids)", problem))

    # -- the bystander: its memory must be intact unless this pass documents otherwise.
    held_now = bystander.finish()
    if held_now != bystander.secret:
        if layers.exposed and "job_bystander_mem" in expected:
            res.gaps.append(("(bystander)", "its buffer now holds %r: written by a job of its uid" % held_now))
        else:
            res.failures.append(("(bystander)", "its memory was changed: it holds %r, not its secret" % held_now))

    # -- records: exactly one per job, nothing else.
    text = ""
    if os.path.exists(results):
        with open(results, "rb") as f:
            text = f.read().decode("utf-8", "surrogateescape")
    records, problems = rbtest.parse_records(text)
    for prob in problems:
        res.failures.append(("(results)", prob))
    by_id = {}
    for rec in records:
        by_id.setdefault(rec.get("id"), []).append(rec)
    for rid, recs in by_id.items():
        if rid in expected:
            continue
        if rid == X.FORGED_ID and len(recs) == 1 and expected.get("job_results_file") is not None \
                and expected["job_results_file"].gap:
            res.gaps.append(("(results)", "the forged record of job_results_file is in the results file: "
                                          + expected["job_results_file"].gap))
            continue
        res.failures.append(("(results)", "a record for id %r, which is not in the manifest (forged by a "
                                          "job?): %s" % (rid, clip(json.dumps(recs[0]), 400))))

    # -- servers: no connection, no datagram.
    for when, server, data in fx.servers.since(t0):
        res.failures.append(("(network)", "the runner's %s server was reached: %r" % (server, data[:100])))

    # -- files: nothing new outside the working dirs.
    after_fs = snapshot_dirs(fx, root, ffx.tops, skip)
    for path, (uid, ino) in sorted(after_fs.items()):
        if path in before_fs and before_fs[path][1] == ino:
            continue
        if path in (results, work) or path.startswith(work + "/"):
            continue  # the working dirs: checked below (runbox must have removed them)
        if any(path == eb.dir or path.startswith(eb.dir + "/") for eb in evals):
            continue  # an eval batch's samples, results and working dirs: checked below
        # Every program names what it writes outside with this pass's tag, so
        # a tagged entry is ours wherever it is; so is anything new in the
        # runner's own dirs. Other new files of uid 65534 or of the job range
        # in /tmp and the like may belong to other tests running on the
        # machine: reported, kept.
        ours = gap_tag in os.path.basename(path) or any(
            path.startswith(d + "/") for d in (fx.canary_dir, fx.sockdir, fx.secret_dir, fx.rootonly_dir,
                                               fx.bystander_dir, root) + tuple(ffx.tops))
        if not ours:
            if uid == NOBODY or uid in JOB_UIDS:
                res.notes.append("%s (uid %d) appeared outside the working dirs during the pass, without this "
                                 "pass's tag: another test's, or a program that did not say what it wrote" % (path, uid))
            continue
        if gap_tag in os.path.basename(path) and not layers.landlock:
            res.gaps.append(("(files)", "%s written outside the working dirs (Landlock off): deleted" % path))
        else:
            res.failures.append(("(files)", "%s was created outside the working dirs (uid %d)" % (path, uid)))
        remove_path(path)
    if file_digest(fx.canary_file) != canary_digest or file_digest(fx.secret_file) != secret_digest \
            or file_digest(fx.root_file) != root_file_digest:
        res.failures.append(("(files)", "the runner's canary or one of its secret files was modified (or removed)"))
    # Metadata outside the jobs (issue 11, 8): mode, owner, xattrs and (of
    # files) times of the canary, the secrets, the pass's dirs, the fixtures.
    for path, before in before_meta.items():
        after = metadata_of(path)
        if after != before:
            res.failures.append(("(files)", "the metadata of %s changed during the pass: %s -> %s"
                                 % (path, fmt_meta(before), fmt_meta(after))))
            restore_metadata(path, before)  # so that the next pass starts from the same fixtures
    for where, d in [("--workdir", work)] + [("the %s batch's TMPDIR" % eb.mode, eb.work) for eb in evals]:
        try:
            left_work = os.listdir(d)
        except OSError as e:
            left_work = ["(cannot list: %s)" % e]
        for n in left_work:
            path = os.path.join(d, n)
            if gap_tag in n and not layers.landlock:
                res.gaps.append(("(files)", "%s written outside the working dirs (Landlock off): deleted" % path))
            else:
                res.failures.append(("(files)", "runbox left %s in %s %s" % (n, where, d)))
            remove_path(path)

    # -- every record against its expectation and the universal rules.
    secrets_all = {"holder's stdin": secret_stdin, "holder's argv": secret_argv, "holder's file": secret_file,
                   "printer's output": secret_out, "the trash victim's answer": secret_trash,
                   "root's secret file": fx.root_secret,
                   "root's 0600 file": fx.root_file_secret, "the bystander's secret": bystander.secret,
                   "runbox's environment": fx.env_secret, "the uid-65534 canary": fx.canary,
                   "a cases job's expected output (in no file)": values["cases_answer"],
                   "a function-call test's expected string (in no file)": calls_secret[0],
                   "a function-call test's expected int (in no file)": str(calls_secret[1])}
    gap_secrets = ffx.gap_secrets()  # what a job may reach only through a documented gap
    secrets_all.update(gap_secrets)
    spans = {}
    for jid in expected:
        name = program_of[jid]
        exp = expected[jid]
        cat = X.PROGRAMS[name].category
        recs = by_id.get(jid, [])
        if len(recs) != 1:
            res.failures.append((jid, "%d records (expected exactly one)" % len(recs)))
            res.rows.append((jid, cat, exp.describe(), "%d records" % len(recs), "FAIL"))
            continue
        rec = recs[0]
        spans[jid] = uid_spans(rec)
        hole = None
        if jid in call_args:
            # A job of function-call tests: its calls' verdicts are checked
            # against the program's targets, and it never passes.
            bad = shape_problems(rec) + exp.problems(dict(rec, _call_args=call_args[jid]))
            hole = exp.hole_for(rec)
            if rec.get("passed") is not False:
                if hole:
                    res.holes.append((jid, hole))
                elif not exp.gap:
                    bad.append("FORGED VERDICT: passed is %r for a job whose calls it cannot all answer"
                               % rec.get("passed"))
            elif hole:
                res.notes.append("%s: the known hole did not show (passed is false): if runbox was fixed, drop the "
                                 "marker in expectations.py (%s)" % (jid, hole[:120]))
                hole = None
        else:
            bad = shape_problems(rec) + exp.problems(rec)
        stdout = rec.get("stdout") or ""
        for key in ("commands", "runs", "cases"):  # every process of the job
            for c in rec.get(key) or []:
                if isinstance(c, dict):
                    stdout += "\n" + (c.get("stdout") or "")
        escaped = [l for l in stdout.splitlines() if "ESCAPED" in l]
        if escaped:
            bad.append("ESCAPED in stdout: " + " | ".join(escaped)[:800])
        # A failed call's record shows what was expected: the supervisor's
        # word, not the job's; everything else must be free of secrets.
        dumped = json.dumps(dict(rec, call_failures=[{k: v for k, v in f.items() if k != "expected"}
                                                     for f in rec.get("call_failures") or []]))
        for what, value in secrets_all.items():
            if value in dumped:
                allowed = (name == "job_secret_printer" and value == secret_out) or (
                    value == fx.canary and layers.exposed and exp.gap) or (
                    value in gap_secrets.values() and value != ffx.rootprog_secret and exp.gap)
                if not allowed:
                    bad.append("the record holds %s" % what)
        got = "%s rc=%s" % (rec.get("status"), rec.get("return_code"))
        if rec.get("status") == "timeout":
            got += " (%s)" % ("cpu" if (rec.get("error") or "").startswith(X.CPU_LIMIT) else "wall")
        marks = sorted({l.split()[0] for l in stdout.splitlines() if l.split()[:1] in (["GAP"], ["ESCAPED"], ["HOLE"])})
        if marks:
            got += " " + "+".join(marks)
        counts = dict(re.findall(r"(?m)^([A-Z][A-Z_]+) (\d+)\b", stdout))
        for k in ("DENIED", "UID", "GAP", "END", "START"):
            counts.pop(k, None)
        if counts:
            got += " " + " ".join("%s=%s" % kv for kv in sorted(counts.items()))
        if spans[jid]:
            got += " uid=%s" % ",".join(sorted({str(s[0]) for s in spans[jid]}))
        if jid in call_args:
            got += " calls=%s/%d passed=%s" % (rec.get("calls_passed"), len(call_args[jid]), rec.get("passed"))
        if bad:
            verdict = "FAIL"
            res.failures.append((jid, "\n      ".join(bad) + "\n      record: " + fmt_record(rec)))
        elif hole and rec.get("passed") is not False:
            verdict = "HOLE"
        elif exp.gap:
            verdict = "GAP"
            res.gaps.append((jid, exp.gap))
        else:
            verdict = "pass"
        if verbose:
            got += "  [%.2fs]" % rec.get("runtime", 0)
        res.rows.append((jid, cat, exp.describe(), got, verdict))

    for eb in evals:
        check_eval(res, eb, layers, secrets_all, verbose)
        if eb.mode == "calls" and "call_supervisor_load" in eb.program_of.values():
            check_supervisor_cpu(res, eb)

    # -- uids: no two jobs that ran at the same time under one uid.
    if layers.own_uids:
        flat = [(jid, u, s, e) for jid, ss in spans.items() for (u, s, e) in ss]
        for i, (ja, ua, sa, ea) in enumerate(flat):
            for jb, ub, sb, eb in flat[i + 1:]:
                if ja != jb and ua == ub and min(ea, eb) - max(sa, sb) > 0.05:
                    res.failures.append(("(uids)", "%s and %s ran at the same time (%.2f s overlap) under one "
                                                   "uid, %d" % (ja, jb, min(ea, eb) - max(sa, sb), ua)))
    reported = sorted({u for ss in spans.values() for (u, _, _) in ss})
    if layers.own_uids:
        seen = "up to %d jobs at once, under uids %s" % (sampler.max_jobs, fmt_uids(sorted(sampler.uids)))
    else:
        seen = "up to %d processes of the batch at once, all of uid %d" % (sampler.max_procs, NOBODY)
    log("   uids: the jobs reported %s; %d samples of the batch's processes saw %s"
        % (fmt_uids(reported), sampler.samples, seen))
    if not fx.keep:
        remove_tree_deep(root)
    return res


def fmt_uids(uids):
    return ", ".join("%d (base+%d)" % (u, u - X.JOB_UID_BASE) if u in JOB_UIDS else str(u) for u in uids) or "none"


def fmt_record(rec):
    shown = {k: rec.get(k) for k in ("status", "return_code", "signal", "error", "stdout", "stderr",
                                     "stdout_truncated", "stderr_truncated", "runtime", "cpu_time")}
    for k in ("stdout", "stderr", "error"):
        if isinstance(shown[k], str):
            shown[k] = clip(shown[k], 900)
    if "tracked_files" in rec:
        shown["tracked_files"] = {k: clip(v, 100) for k, v in rec["tracked_files"].items()}
    if "commands" in rec:
        shown["commands"] = [{k: clip(c.get(k), 300) for k in ("status", "stdout", "error")} for c in rec["commands"]]
    if "calls_passed" in rec:
        shown["calls"] = rec.get("calls")
        shown["call_failures"] = [{k: clip(f.get(k), 120) for k in ("index", "status", "args", "returned", "error")
                                   if k in f} for f in (rec.get("call_failures") or [])[:4]]
    return json.dumps(shown, ensure_ascii=True)


def print_table(res):
    if not res.rows:
        return
    w = [max([len(r[i]) for r in res.rows] + [len(h)]) for i, h in enumerate(("program", "category", "expected"))]
    w = [min(w[0], 30), min(w[1], 12), min(w[2], 44)]
    log("\n%-*s  %-*s  %-*s  %-7s %s" % (w[0], "program", w[1], "category", w[2], "expected", "verdict", "got"))
    for prog, cat, exp, got, verdict in res.rows:
        log("%-*s  %-*s  %-*s  %-7s %s" % (w[0], prog, w[1], cat, w[2], exp, verdict, got))


LIST_LAYERS = ("rlimits", "seccomp", "landlock", "user_namespace", "network_namespace", "pid_namespace",
               "ipc_uts_namespaces", "privilege_drop", "not_dumpable")


def list_layers(name):
    """The layers each pass has on a host with all of them."""
    off = () if name == "full" else ("landlock", "user_namespace", "network_namespace", "pid_namespace",
                                     "ipc_uts_namespaces")
    return X.Layers({n: n not in off for n in LIST_LAYERS}, root=(PASSES[name].uid == 0))


def describe_modes(prog, layers):
    """A program's expected outcome in a pass: its job's, and its eval lines'
    (`mode xN:`), which also must all have passed false."""
    parts = []
    for mode in prog.modes:
        n = len(prog.copies_in(mode))
        desc = prog.expectation(layers, mode).describe()
        if mode == "run":
            parts.append(desc)
        else:
            parts.append("%s x%d: %s passed=false" % (mode, n, desc))
    return "; ".join(parts)


def list_programs(markdown=False):
    """The programs and their expected outcome in each pass, without running
    anything."""
    progs = load_programs(None)
    layers = {n: list_layers(n) for n in PASSES}
    rows = []
    for name, src in sorted(progs, key=lambda p: (X.PROGRAMS[p[0]].category, p[0])):
        prog = X.PROGRAMS[name]
        doc = " ".join(src.split('"""')[1].split())
        copies = prog.njobs()
        rows.append((name + (" (x%d)" % copies if copies > 1 else ""), prog.category,
                     [describe_modes(prog, layers[n]) for n in PASSES], doc))
    if markdown:  # the table of README.md (what each attempts: --list)
        log("| program | category | %s |" % " | ".join(PASSES))
        log("| --- | --- | %s |" % " | ".join("---" for _ in PASSES))
        for name, cat, exps, doc in rows:
            log("| `%s` | %s | %s |" % (name, cat, " | ".join(e.replace("|", "\\|") for e in exps)))
        return 0
    log("%-30s %-11s %-36s %-36s %-36s %s" % (("program", "category") + tuple(PASSES) + ("what it attempts",)))
    for name, cat, exps, doc in rows:
        log("%-30s %-11s %-36s %-36s %-36s %s" % ((name, cat) + tuple(exps) + (doc,)))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated program names")
    ap.add_argument("--pass", dest="passes", default="all", choices=["all"] + list(PASSES),
                    help="one pass, or all three in order (the default), each only if the one before passed")
    ap.add_argument("--keep", action="store_true", help="keep the temp dirs (under /tmp/rbhostile-*)")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--list", action="store_true", help="list the programs and their expectations; run nothing")
    ap.add_argument("--markdown", action="store_true", help="with --list: a Markdown table")
    args = ap.parse_args()
    if args.list:
        return list_programs(args.markdown)
    preflight()
    progs = load_programs(args.only.split(",") if args.only else None)
    lock = one_suite_at_a_time()  # noqa: F841 (held until exit)
    njobs = sum(X.PROGRAMS[n].njobs() for n, _ in progs)
    log("hostile suite: %d programs (%d jobs), runbox %s (a private copy)" % (len(progs), njobs, rbtest.RUNBOX))
    fx = Fixtures(keep=args.keep)
    t0 = time.monotonic()
    results, skipped = [], []
    names = list(PASSES) if args.passes == "all" else [args.passes]
    if args.passes == "root":
        log("note: --pass root alone: the passes as uid 65534 that prove seccomp first are not run; the benign "
            "probe job (seccomp, no_new_privs, no capabilities, a uid of the job range) still gates it")
    try:
        for i, name in enumerate(names):
            res = run_pass(fx, PASSES[name], progs, args.verbose)
            print_table(res)
            results.append(res)
            if res.failed and i + 1 < len(names):
                skipped = names[i + 1:]
                log("\npass %r failed: not running %s (hostile programs run as root only after the passes as "
                    "uid %d hold)" % (name, ", ".join(repr(n) for n in skipped), NOBODY))
                break
    finally:
        fx.close()
        if file_digest(rbtest.RUNBOX) != fx.runbox_digest:
            log("\nnote: %s was rebuilt while the suite ran: these results are for the binary it started with; "
                "rerun" % rbtest.RUNBOX)
    total = time.monotonic() - t0
    failed = False
    log("\n== summary (%.1f s)" % total)
    log("%-8s %-10s %-32s %8s %5s %5s %4s %4s %5s %6s %8s" % ("pass", "runbox as", "flags", "programs", "jobs",
                                                              "pass", "gap", "hole", "FAIL", "batch", "time"))
    for res in results:
        n = len(res.rows)
        npass = sum(1 for r in res.rows if r[4] == "pass")
        ngap = sum(1 for r in res.rows if r[4] == "GAP")
        nhole = sum(1 for r in res.rows if r[4] == "HOLE")
        nbatch = sum(1 for f in res.failures if f[0].startswith("("))
        log("%-8s %-10s %-32s %8d %5d %5d %4d %4d %5d %6d %7.1fs" % (
            res.name, "root" if res.p.uid == 0 else "uid %d" % res.p.uid, " ".join(res.p.flags) or "(every layer)",
            res.nprograms if res.ran else 0, n, npass, ngap, nhole, n - npass - ngap - nhole, nbatch, res.duration))
    for name in skipped:
        log("%-8s (not run: an earlier pass failed)" % name)
    for res in results:
        log("\npass %r (%s):" % (res.name, res.p.title))
        if res.gaps:
            log("  documented gaps of this configuration:")
            seen = set()
            for who, text in res.gaps:
                if (who, text) not in seen:
                    seen.add((who, text))
                    log("    - %s: %s" % (who, text))
        if res.holes:
            log("  known holes of runbox (found by this suite and reported; not failed until runbox is fixed):")
            seen = set()
            for who, text in res.holes:
                if (who, text) not in seen:
                    seen.add((who, text))
                    log("    - %s: %s" % (who, text))
        ncpu = len(os.sched_getaffinity(0))
        if res.max_load > 2 * ncpu:
            log("  note: load average up to %.1f on %d CPUs during the pass: a job that failed by hitting its "
                "wall-clock limit with little CPU time used may have been starved, not hung" % (res.max_load, ncpu))
        for note in res.notes:
            log("  note: " + note)
        if res.failures:
            failed = True
            log("  FAILURES:")
            for who, text in res.failures:
                log("    - %s: %s" % (who, text))
        elif not res.gaps:
            log("  every expectation holds")
    if skipped:
        failed = True
    nholes = len({h for res in results for h in res.holes})
    log("\nhostile suite: %s%s" % ("FAILED" if failed else "all expectations hold",
                                  " (%d known holes reported above)" % nholes if nholes else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
