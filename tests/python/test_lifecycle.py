"""Ctrl-C, SIGTERM, SIGKILL, os._exit and the interpreter's exit end every
job: no process is left behind, and the working dirs go.

Each case runs a small program in a child Python and watches it from a
process that made itself a child subreaper (PR_SET_CHILD_SUBREAPER), so that
anything the program leaves behind (its zygote, a job) is reparented here,
where it is counted, instead of to init.
"""

import glob
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

WATCHER = textwrap.dedent(r"""
    import ctypes, os, signal, subprocess, sys, time
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    program, how = sys.argv[1], sys.argv[2]
    p = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    assert p.stdout.readline().strip() == "ready"
    p.stdout.close()  # a leftover process may hold the pipe: never wait for its end
    if how != "none":
        p.send_signal(getattr(signal, how))
    rc = p.wait(timeout=60)
    def children():
        found = []
        for task in os.listdir(f"/proc/{os.getpid()}/task"):
            with open(f"/proc/{os.getpid()}/task/{task}/children") as f:
                found += f.read().split()
        return found
    left = []
    deadline = time.monotonic() + 5  # processes die within milliseconds of their parent
    while time.monotonic() < deadline:
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        left = children()
        if not left:
            break
        time.sleep(0.1)
    names = []
    for pid in left:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                names.append(f.read().replace(b"\0", b" ").decode())
        except OSError:
            pass
        os.kill(int(pid), signal.SIGKILL)  # ours (reparented here): clean up
    print(rc)
    print(repr(names))
""")

START = textwrap.dedent("""
    import os, sys, time, runbox
    pool = runbox.Pool(workers=2, workdir=WORKDIR)
    futures = [pool.submit({"source": "import time; time.sleep(60)", "timeout": 120}) for _ in range(4)]
    time.sleep(0.5)  # the jobs are running
""")


def watch(program, how, workdir):
    program = f"WORKDIR = {workdir!r}\n" + program
    out = subprocess.run([sys.executable, "-c", WATCHER, program, how], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rc, names = out.stdout.split("\n", 1)
    return int(rc), eval(names)


CASES = {
    "ctrl-c": (START + "print('ready', flush=True)\ntime.sleep(60)\n", "SIGINT", -signal.SIGINT),
    "sigterm": (START + "print('ready', flush=True)\ntime.sleep(60)\n", "SIGTERM", -signal.SIGTERM),
    "sigkill": (START + "print('ready', flush=True)\ntime.sleep(60)\n", "SIGKILL", -signal.SIGKILL),
    "exit": (START + "print('ready', flush=True)\n", "none", 0),
    "os._exit": (START + "print('ready', flush=True)\nos._exit(0)\n", "none", 0),
    "run-ctrl-c": (textwrap.dedent("""
        import time, runbox
        jobs = [{"source": "pass"}] + [{"source": "import time; time.sleep(60)"} for _ in range(8)]
        results = runbox.run(jobs, workers=2, workdir=WORKDIR)
        next(results)  # the pool is up, the sleepers are running
        print('ready', flush=True)
        for r in results:
            pass
    """), "SIGINT", -signal.SIGINT),
}

EVALUATE = textwrap.dedent("""
    import threading, runbox
    problems = [{"task_id": "T/0", "prompt": "def f():\\n", "canonical_solution": "    return 1\\n",
                 "test": "def check(f):\\n    assert f() == 1\\n", "entry_point": "f"}]
    samples = [{"task_id": "T/0", "completion": "    import time; time.sleep(60)\\n"}] * 4
    threading.Timer(1.0, lambda: print("ready", flush=True)).start()
    runbox.evaluate(problems, samples, k=(1,), workers=2, timeout=100)
""")
CASES["evaluate-ctrl-c"] = (EVALUATE, "SIGINT", -signal.SIGINT)
CASES["evaluate-sigkill"] = (EVALUATE, "SIGKILL", -signal.SIGKILL)


@pytest.mark.parametrize("case", sorted(CASES))
def test_no_process_is_left_behind(case, shared_dir):
    program, how, expected_rc = CASES[case]
    rc, left = watch(program, how, shared_dir)
    assert left == []
    assert rc == expected_rc
    # The working dirs go too (the janitor removes them, also after SIGKILL).
    deadline = time.monotonic() + 10
    while glob.glob(os.path.join(shared_dir, "runbox-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert glob.glob(os.path.join(shared_dir, "runbox-*")) == []


def test_the_watcher_sees_what_is_left_behind(shared_dir):
    # The control case: a process started in a session of its own outlives
    # the program that started it, and the watcher reports it.
    program = "import subprocess\nsubprocess.Popen(['sleep', '60'], start_new_session=True)\nprint('ready', flush=True)\n"
    rc, left = watch(program, "none", shared_dir)
    assert rc == 0
    assert left == ["sleep 60 "]
