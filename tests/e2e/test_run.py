#!/usr/bin/python3
"""End-to-end tests of `runbox run`: the binary, a manifest, the records.

Run with Debian's interpreter: /usr/bin/python3 tests/e2e/test_run.py
Environment: RUNBOX (the runbox binary; default <repo>/build/runbox),
RUNBOX_ZYGOTE, RUNBOX_SOURCE_ROOT (set by `meson test --suite e2e`).
RUNBOX_E2E_KEEP=1 keeps the temporary files.

Safety: programs that attack processes (kill -1, kill of the parent, fork)
are only ever run through runbox, never with a bare python3. The python3
comparison (PythonParityTests) runs harmless programs only.
"""
import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rbtest import (  # noqa: E402
    layers,
    IS_ROOT, JOB_UID_BASE, JOB_UID_COUNT, NOBODY, PTRACE_NR, PYTHON3, RUNBOX, RunboxTestCase, alive, between,
    children_of, cleanup_tmp_root, contains, descendants_of, fmt_record, new_tmpdir,
    private_runbox_copy, remove_tree, run_batch, run_runbox, startswith, wait_until,
    write_manifest, zygotes_of)


def src(text):
    return textwrap.dedent(text).lstrip("\n")


# ==== the shared batch: one runbox run holding the single-job cases ===========
#
# Running these in one batch (-j 2) keeps the suite fast; each test method
# checks its own job's record.

BIG_STDIN = "".join("line %07d of the stdin\n" % i for i in range(2 * 1024 * 1024 // 24 + 1))
BIG_STDIN = BIG_STDIN[:2 * 1024 * 1024]
ONE_MB = 1024 * 1024

SHARED_JOBS = {
    # ---- ok
    "ok_print": {"source": "print('hello')\nprint('world')"},
    "ok_exit_noarg": {"source": "import sys\nprint('a')\nsys.exit()\nprint('not reached')"},
    "ok_exit_0": {"source": "import sys\nprint('b')\nsys.exit(0)"},
    "ok_exit_none": {"source": "import sys\nprint('c')\nsys.exit(None)"},
    "ok_raise_systemexit": {"source": "print('d')\nraise SystemExit"},
    # ---- error
    "err_exception": {"source": src("""
        def divide(a, b):
            return a / b
        print('before')
        divide(1, 0)
        """)},
    "err_syntax": {"source": "x = 1\nif x\n    pass\n"},
    "err_syntax_indented": {"source": "def f():\n    return (1 +\n"},
    "err_exit_3": {"source": "import sys\nprint('out')\nsys.exit(3)"},
    "err_exit_str": {"source": "import sys\nsys.exit('goodbye, cruel world')"},
    "err_exit_263": {"source": "import sys\nsys.exit(263)"},
    "err_os_exit": {"source": "import os, sys\nsys.stdout.write('flushed\\n')\nsys.stdout.flush()\nos._exit(4)"},
    "err_keyboard": {"source": "print('hi', flush=True)\nraise KeyboardInterrupt"},
    "err_multiline_message": {"source": "raise ValueError('line one\\nline two')"},
    "ok_os_exit0": {"source": "import os\nprint('unflushed')\nos._exit(0)"},
    "sec_forged_status": {"source": src("""
        import os
        # The status pipe is fd 1020 (docs/design.md); a verdict written there
        # by the program must not count.
        try:
            os.write(1020, b'{"outcome":"completed","exit_code":0}')
        except OSError as e:
            print('write failed', e.errno)
        print('forged')
        1 / 0
        """)},
    "err_atexit_os_exit0": {"source": src("""
        import atexit, os
        atexit.register(lambda: os._exit(0))
        1 / 0
        """)},
    # ---- timeout
    "to_wall": {"source": "import time\nprint('start', flush=True)\ntime.sleep(30)", "timeout": 1},
    # CPU limits with a wall limit far above them: on a loaded machine two
    # seconds of CPU can take many more of wall time, and the wall limit
    # must not be what ends these.
    "to_cpu": {"source": "while True:\n    pass", "cpu_time": 0.5, "timeout": 30},
    "to_cpu_ignored": {"source": src("""
        import signal
        signal.signal(signal.SIGXCPU, signal.SIG_IGN)
        while True:
            pass
        """), "cpu_time": 1, "timeout": 30},
    # ---- memory
    "mem_bytearray": {"source": "x = bytearray(4 * 1024 ** 3)", "memory_mb": 256},
    "mem_subclass": {"source": "class OutOfBudget(MemoryError):\n    pass\nraise OutOfBudget('custom')"},
    "mem_growing": {"source": "blocks = []\nwhile True:\n    blocks.append(bytearray(10 ** 6))",
                    "memory_mb": 256, "timeout": 10},
    # ---- output limits
    "out_lines": {"source": "while True:\n    print('spam')", "output_limit_kb": 64},
    "out_no_newline": {"source": "import sys\nwhile True:\n    sys.stdout.write('y' * 1000)",
                       "output_limit_kb": 64},
    "out_err_lines": {"source": "import sys\nwhile True:\n    print('err line', file=sys.stderr)",
                      "output_limit_kb": 64},
    "out_err_no_newline": {"source": "import sys\nwhile True:\n    sys.stderr.write('e' * 100)",
                           "output_limit_kb": 64},
    "out_exactly_limit": {"source": "import sys\nsys.stdout.write('x' * 1024)\nsys.stderr.write('z' * 1024)",
                          "output_limit_kb": 1},
    "out_one_past_limit": {"source": "import sys\nsys.stdout.write('x' * 1025)", "output_limit_kb": 1},
    "out_bad_utf8": {"source": src(r"""
        import sys
        sys.stdout.buffer.write(b'ok \xff\xfe | \xc3( | \xe2\x82\xac | \xed\xa0\x80 | \xf4\x90\x80\x80 | \x00\x01\x7f end\n')
        sys.stderr.buffer.write(b'err \x80\xc0\xaf tail')
        """)},
    "out_unicode": {"source": "print('h\u00e9llo \u2713 \U0001F600')"},
    # ---- signals and the sandbox
    "sig_segv": {"source": "import ctypes\nprint('x', flush=True)\nctypes.string_at(0)"},
    "sig_self_term": {"source": "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)"},
    "viol_ptrace": {"source": "import ctypes\nctypes.CDLL(None).syscall(%d, 0, 0, 0, 0)" % PTRACE_NR},
    "sb_fork": {"source": src("""
        import os
        print('pid', os.getpid() > 0, flush=True)
        pid = os.fork()
        if pid == 0:
            print('CHILD RAN')
            os._exit(0)
        print('PARENT AFTER FORK')
        """)},
    "sb_subprocess": {"source": src("""
        import subprocess
        out = subprocess.run(['/bin/echo', 'SUBPROCESS RAN'], capture_output=True)
        print(out.stdout)
        """)},
    "sb_system": {"source": src("""
        import os
        try:
            rc = os.system('echo SYSTEM RAN; echo pwned > pwned.txt')
        except PermissionError as e:
            print('PermissionError', e.errno)
        else:
            print('returned', rc)
        print('file exists:', os.path.exists('pwned.txt'))
        """)},
    "sb_socket": {"source": "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\nprint('SOCKET CREATED')"},
    "sb_socket_unix": {"source": "import socket\ns = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\nprint('SOCKET CREATED')"},
    "sb_multiprocessing": {"source": src("""
        import multiprocessing
        p = multiprocessing.Process(target=print, args=('CHILD RAN',))
        p.start()
        p.join()
        """)},
    "sb_process_pool": {"source": src("""
        import concurrent.futures
        with concurrent.futures.ProcessPoolExecutor(1) as ex:
            print('POOL RAN', ex.submit(abs, -1).result())
        """)},
    "sb_socketpair_asyncio": {"source": src("""
        import asyncio, socket
        a, b = socket.socketpair()
        a.sendall(b'ping')
        print(b.recv(4))
        async def main():
            await asyncio.sleep(0.01)
            return 'asyncio ok'
        print(asyncio.run(main()))
        """)},
    "sb_self_alarm": {"source": src("""
        import signal, time
        signal.signal(signal.SIGALRM, lambda *a: print('alarm'))
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        time.sleep(0.5)
        print('end')
        """)},
    "sb_threads_work": {"source": src("""
        import threading
        out = []
        ts = [threading.Thread(target=out.append, args=(i,)) for i in range(8)]
        for t in ts: t.start()
        for t in ts: t.join()
        print(sorted(out))
        """)},
    "sb_rlimits": {"source": src("""
        import os, resource as r
        print([r.getrlimit(x) for x in (r.RLIMIT_CPU, r.RLIMIT_FSIZE, r.RLIMIT_NOFILE,
                                         r.RLIMIT_CORE, r.RLIMIT_STACK)])
        with open('big', 'wb', buffering=0) as f:
            f.seek(64 * 1024 * 1024)
            try:
                f.write(b'x')
            except OSError as e:
                print('fsize errno', e.errno)
        files = []
        try:
            while True:
                files.append(open('big', 'rb'))
        except OSError as e:
            print('nofile errno', e.errno)
        for f in files:
            f.close()
        try:
            open('/dev/tty')
            print('TTY OPENED')
        except OSError as e:
            print('tty refused')
        """), "cpu_time": 2.5},
    "sb_kill_parent": {"source": "import os\nos.kill(os.getppid(), 9)\nprint('KILLED PARENT')"},
    "sb_kill_all": {"source": "import os\nos.kill(-1, 9)\nprint('KILLED EVERYONE')"},
    "sb_kill_all_term": {"source": "import os, signal\nos.kill(-1, signal.SIGTERM)\nprint('SIGNALLED EVERYONE')"},
    # ---- stdin, argv, path, doc
    "io_stdin_echo": {"source": "import sys\nfor line in sys.stdin:\n    print(line.rstrip('\\n').upper())",
                      "stdin": "alpha\nbeta\ngamma"},
    "io_stdin_input": {"source": "a = input()\nb = input()\nprint(int(a) + int(b))", "stdin": "40\n2\n"},
    "io_stdin_closed": {"source": src("""
        import sys
        print(repr(sys.stdin.read()))
        try:
            input()
        except EOFError:
            print('EOFError')
        """)},
    "io_stdin_big": {"source": src("""
        import sys, hashlib
        sys.stdout.write('o' * (1024 * 1024))
        sys.stdout.flush()
        data = sys.stdin.read()
        print()
        print(len(data), hashlib.sha256(data.encode()).hexdigest())
        """), "stdin": BIG_STDIN, "output_limit_kb": 4096, "timeout": 20},
    "io_argv": {"source": "import sys\nprint(repr(sys.argv[1:]))",
                "argv": ["one", "two words", "", "--flag", "\u00fcnicode"]},
    "io_argv_none": {"source": "import sys\nprint(repr(sys.argv[1:]))"},
    "io_path": {"source": "def f():\n    raise RuntimeError('boom')\nf()", "path": "pkg/the_module.py"},
    "io_path_default": {"source": "\n\nraise ValueError('where')"},
    "io_main_identity": {"source": src("""
        import os, sys
        print(__name__, __file__, sys.argv, sys.path[0] == os.getcwd())
        print(sys.flags.isolated, sys.flags.utf8_mode, sys.stdout.encoding)
        """), "path": "dir/prog_name.py", "argv": ["x"]},
    "io_doc": {"source": "'''The doc line.\n\nSecond paragraph.'''\nprint(__doc__.split()[1])"},
    "io_no_doc": {"source": "x = 1\n'''not a docstring'''\nprint(__doc__)"},
    # ---- threads, atexit, teardown
    "th_unjoined": {"source": src("""
        import threading, time
        def work():
            time.sleep(0.3)
            print('thread done')
        threading.Thread(target=work).start()
        print('main done')
        """)},
    "th_atexit_order": {"source": src("""
        import atexit
        atexit.register(print, 'registered first, runs last')
        atexit.register(print, 'registered second, runs first')
        print('main')
        """)},
    "th_unclosed_file_del": {"source": src("""
        import atexit
        _f = open('data.txt', 'w')
        _f.write('written but never closed')
        atexit.register(lambda: print('atexit sees', repr(open('data.txt').read())))
        class Reader:
            def __del__(self, open=open, print=print, repr=repr):
                print('__del__ sees', repr(open('data.txt').read()))
        reader = Reader()
        print('main sees', repr(open('data.txt').read()))
        """)},
    "th_del_output": {"source": src("""
        class Noisy:
            def __del__(self):
                print('Noisy.__del__ ran')
        keep = Noisy()
        print('main ends')
        """)},
    "th_thread_hangs": {"source": src("""
        import threading, time
        threading.Thread(target=time.sleep, args=(100,)).start()
        print('printed before the hang')
        """), "timeout": 1},
    "th_thread_hangs_flushed": {"source": src("""
        import threading, time
        threading.Thread(target=time.sleep, args=(100,)).start()
        print('printed before the hang', flush=True)
        """), "timeout": 1},
    "th_atexit_hangs": {"source": src("""
        import atexit, time
        atexit.register(time.sleep, 100)
        print('printed before the hang')
        """), "timeout": 1},
    "th_atexit_hangs_flushed": {"source": src("""
        import atexit, time
        atexit.register(time.sleep, 100)
        print('printed before the hang', flush=True)
        """), "timeout": 1},
    # ---- environment
    "env_environment": {"source": "import os, json\nprint(json.dumps(dict(os.environ)))"},
    "env_workdir_modes": {"source": "import os\nprint(oct(os.stat('..').st_mode & 0o777), oct(os.stat('.').st_mode & 0o777), os.stat('.').st_uid == os.getuid())"},
    "env_identity": {"source": src("""
        import os
        print(os.getuid(), os.geteuid(), os.getgid())
        """)},
    "env_after_attacks": {"source": "print('still running')"},
}

_shared = None


def shared_batch():
    global _shared
    if _shared is None:
        env = dict(os.environ, RUNBOX_E2E_SENTINEL="must-not-leak", PYTHONPATH="/nonexistent")
        _shared = run_batch([dict(id=k, **v) for k, v in SHARED_JOBS.items()], prefix="shared",
                            env=env)
    return _shared


class SharedBatchCase(RunboxTestCase):
    def rec(self, job_id):
        run = shared_batch()
        self.assertRunOK(run)
        return self.one_record(run, job_id)


# ==== 1. statuses and exit paths ===============================================

class StatusTests(SharedBatchCase):

    def test_batch_has_one_well_formed_record_per_job(self):
        run = shared_batch()
        self.assertRunOK(run)
        self.assertEqual(sorted(map(str, run.by_id)), sorted(SHARED_JOBS),
                         "ids in the results differ from the manifest\n" + run.describe())
        for rec in run.records:
            self.assertShape(rec, run)
            self.assertNotEqual(rec["status"], "internal", fmt_record(rec))

    def test_ok_plain(self):
        r = self.rec("ok_print")
        self.assertRecord(r, status="ok", return_code=0, timed_out=False, stdout="hello\nworld\n",
                          stderr="", error=None, error_detail=None, signal=None,
                          stdout_truncated=False, stderr_truncated=False,
                          had_unexpected_error=False, doc=None)
        self.assertRecord(r, runtime=between(0.0, 10.0), cpu_time=between(0.0, 10.0),
                          max_rss_kb=lambda v: v > 0)

    def test_ok_sys_exit_variants(self):
        for job_id, out in (("ok_exit_noarg", "a\n"), ("ok_exit_0", "b\n"),
                            ("ok_exit_none", "c\n"), ("ok_raise_systemexit", "d\n")):
            with self.subTest(job_id):
                self.assertRecord(self.rec(job_id), status="ok", return_code=0, stdout=out,
                                  stderr="", error=None, error_detail=None, signal=None)

    def test_error_uncaught_exception(self):
        r = self.rec("err_exception")
        self.assertRecord(r, status="error", return_code=1, timed_out=False, signal=None,
                          stdout="before\n", error="ZeroDivisionError: division by zero",
                          error_detail=contains("Traceback (most recent call last):",
                                                'File "err_exception.py", line 4',
                                                'File "err_exception.py", line 2, in divide',
                                                "ZeroDivisionError: division by zero"),
                          stderr=startswith("Traceback (most recent call last):\n"))
        self.assertTrue(r["stderr"].endswith("ZeroDivisionError: division by zero\n"), fmt_record(r))
        self.assertIn('File "err_exception.py", line 2, in divide', r["stderr"], fmt_record(r))

    def test_error_syntax_error(self):
        r = self.rec("err_syntax")
        self.assertRecord(r, status="error", return_code=1, signal=None, stdout="",
                          error="Invalid syntax in 'err_syntax.py' on line 2:\nif x",
                          stderr=contains("SyntaxError"))
        r = self.rec("err_syntax_indented")
        self.assertRecord(r, status="error", return_code=1,
                          error="Invalid syntax in 'err_syntax_indented.py' on line 2:\n    return (1 +")

    def test_error_sys_exit_int(self):
        self.assertRecord(self.rec("err_exit_3"), status="error", return_code=3, signal=None,
                          stdout="out\n", stderr="", error="SystemExit: 3", timed_out=False)

    def test_error_sys_exit_str(self):
        self.assertRecord(self.rec("err_exit_str"), status="error", return_code=1, signal=None,
                          stdout="", stderr="goodbye, cruel world\n",
                          error="SystemExit: goodbye, cruel world")

    def test_error_sys_exit_large_int_keeps_low_byte(self):
        self.assertRecord(self.rec("err_exit_263"), status="error", return_code=7, signal=None,
                          error=startswith("SystemExit: "))

    def test_error_os_exit(self):
        self.assertRecord(self.rec("err_os_exit"), status="error", return_code=4, signal=None,
                          stdout="flushed\n",
                          error="exited with code 4 before its main module finished")

    def test_error_keyboard_interrupt(self):
        self.assertRecord(self.rec("err_keyboard"), status="error", return_code=-2, signal=2,
                          timed_out=False, stdout="hi\n", error="KeyboardInterrupt",
                          stderr=contains("KeyboardInterrupt"))

    def test_atexit_os_exit_does_not_change_verdict(self):
        self.assertRecord(self.rec("err_atexit_os_exit0"), status="error", return_code=1,
                          signal=None, error="ZeroDivisionError: division by zero")

    def test_error_multiline_message_keeps_type_and_message(self):
        # results.md: for an exception, error is its type and message, with
        # the message's own newlines; error_detail has the whole traceback.
        r = self.rec("err_multiline_message")
        self.assertRecord(r, status="error", return_code=1,
                          error_detail=contains("ValueError: line one\nline two"),
                          stderr=contains("ValueError: line one\nline two\n"))
        self.assertRecord(r, error="ValueError: line one\nline two")

    def test_ok_os_exit0_before_main_ends(self):
        # Nothing ran after os._exit(0): ok; the unflushed print is lost, as under python3.
        self.assertRecord(self.rec("ok_os_exit0"), status="ok", return_code=0, stdout="",
                          error=None, signal=None)

    def test_forged_status_record_is_ignored(self):
        r = self.rec("sec_forged_status")
        self.assertRecord(r, status="error", return_code=1, signal=None,
                          error="ZeroDivisionError: division by zero",
                          stderr=contains("ZeroDivisionError"))

    def test_timeout_wall(self):
        r = self.rec("to_wall")
        self.assertRecord(r, status="timeout", return_code=-9, signal=9, timed_out=True,
                          error="wall time limit of 1 s exceeded", stdout="start\n",
                          runtime=between(0.9, 5.0), cpu_time=between(0.0, 0.8))

    def test_timeout_cpu_sigxcpu(self):
        # cpu_time 0.5 is rounded up to whole seconds: a 1 s RLIMIT_CPU.
        r = self.rec("to_cpu")
        self.assertRecord(r, status="timeout", return_code=-24, signal=24, timed_out=True,
                          error="CPU time limit of 1 s exceeded", cpu_time=between(0.7, 2.5))

    def test_timeout_cpu_sigxcpu_ignored(self):
        # SIGXCPU ignored: the kernel's SIGKILL at the hard limit (soft + 1 s).
        r = self.rec("to_cpu_ignored")
        self.assertRecord(r, status="timeout", return_code=-9, signal=9, timed_out=True,
                          error="CPU time limit of 1 s exceeded", cpu_time=between(1.4, 3.5),
                          runtime=lambda v: v < 29.5)

    def test_memory_error(self):
        self.assertRecord(self.rec("mem_subclass"), status="memory", return_code=1,
                          error="OutOfBudget: custom")
        for job_id in ("mem_bytearray", "mem_growing"):
            with self.subTest(job_id):
                self.assertRecord(self.rec(job_id), status="memory", return_code=1, signal=None,
                                  timed_out=False, error=contains("MemoryError"),
                                  stderr=contains("MemoryError"))

    def test_signal_sigsegv(self):
        self.assertRecord(self.rec("sig_segv"), status="signal", return_code=-11, signal=11,
                          timed_out=False, error="killed by SIGSEGV", stdout="x\n")

    def test_signal_job_may_signal_itself(self):
        self.assertRecord(self.rec("sig_self_term"), status="signal", return_code=-15, signal=15,
                          error="killed by SIGTERM")

    def test_violation_escape_syscall(self):
        self.assertRecord(self.rec("viol_ptrace"), status="violation", return_code=-31, signal=31,
                          timed_out=False,
                          error=startswith("killed by the sandbox: a forbidden system call"))


# ==== 2./3. stdin, argv, path, doc, output ======================================

class InputOutputTests(SharedBatchCase):

    def test_stdin_echo(self):
        self.assertRecord(self.rec("io_stdin_echo"), status="ok", stdout="ALPHA\nBETA\nGAMMA\n")
        self.assertRecord(self.rec("io_stdin_input"), status="ok", stdout="42\n")

    def test_stdin_closed_by_default(self):
        self.assertRecord(self.rec("io_stdin_closed"), status="ok", stdout="''\nEOFError\n")

    def test_stdin_2mb_while_printing_1mb_does_not_deadlock(self):
        r = self.rec("io_stdin_big")
        want = "o" * ONE_MB + "\n%d %s\n" % (len(BIG_STDIN), hashlib.sha256(BIG_STDIN.encode()).hexdigest())
        self.assertRecord(r, status="ok", return_code=0, stdout_truncated=False, timed_out=False)
        self.assertEqual(len(r["stdout"]), len(want), fmt_record(r))
        self.assertTrue(r["stdout"] == want, "stdout differs at the end: %r" % r["stdout"][-120:])

    def test_argv(self):
        self.assertRecord(self.rec("io_argv"), status="ok",
                          stdout="['one', 'two words', '', '--flag', '\u00fcnicode']\n")
        self.assertRecord(self.rec("io_argv_none"), status="ok", stdout="[]\n")

    def test_path_shown_in_traceback(self):
        r = self.rec("io_path")
        self.assertRecord(r, status="error", error="RuntimeError: boom",
                          stderr=contains('File "pkg/the_module.py", line 3, in <module>',
                                          'File "pkg/the_module.py", line 2, in f'),
                          error_detail=contains('File "pkg/the_module.py", line 2, in f'))
        self.assertNotIn("io_path.py", r["stderr"])
        self.assertRecord(self.rec("io_path_default"), status="error",
                          stderr=contains('File "io_path_default.py", line 3'))

    def test_program_runs_as_main_module(self):
        # manifest.md "What a program sees": sys.argv[0] is basename(path),
        # __file__ is path, sys.path[0] the working dir; isolated, UTF-8 mode.
        self.assertRecord(self.rec("io_main_identity"), status="ok", stdout=(
            "__main__ dir/prog_name.py ['prog_name.py', 'x'] True\n1 1 utf-8\n"))

    def test_environment_is_clean(self):
        r = self.rec("env_environment")
        self.assertRecord(r, status="ok")
        env = json.loads(r["stdout"])
        self.assertNotIn("RUNBOX_E2E_SENTINEL", env, "runbox's environment reached the job")
        self.assertNotIn("PYTHONPATH", env)
        self.assertEqual(env.get("LANG"), "C.UTF-8")
        self.assertEqual(env.get("LC_ALL"), "C.UTF-8")
        self.assertEqual(env.get("OPENBLAS_NUM_THREADS"), "1")
        self.assertIn("PATH", env)
        self.assertEqual(env.get("HOME"), env.get("TMPDIR"))
        self.assertTrue(env.get("HOME", "").startswith("/"))
        extra = [k for k in env if k not in ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR")
                 and not k.endswith("_NUM_THREADS") and k != "VECLIB_MAXIMUM_THREADS"]
        self.assertEqual(extra, [], "unexpected variables in a job's environment")

    def test_doc(self):
        self.assertRecord(self.rec("io_doc"), status="ok", stdout="doc\n",
                          doc="The doc line.\n\nSecond paragraph.")
        self.assertRecord(self.rec("io_no_doc"), status="ok", stdout="None\n", doc=None)

    def check_capped(self, job_id, stream, expected_prefix_unit, limit_kb=64):
        r = self.rec(job_id)
        other = "stderr" if stream == "stdout" else "stdout"
        self.assertRecord(r, status="output_limit", return_code=-9, signal=9, timed_out=False,
                          error="%s exceeded the output limit of %d KB" % (stream, limit_kb),
                          **{stream + "_truncated": True, other + "_truncated": False})
        data = r[stream].encode("utf-8", "surrogateescape")
        self.assertEqual(len(data), limit_kb * 1024, "captured %s is %d bytes\n%s" % (
            stream, len(data), fmt_record(r)))
        want = (expected_prefix_unit * (limit_kb * 1024 // len(expected_prefix_unit) + 1))[:limit_kb * 1024]
        self.assertTrue(data == want.encode(), "captured %s is not the program's output: %r..." % (
            stream, data[:80]))

    def test_stdout_cap_lines(self):
        self.check_capped("out_lines", "stdout", "spam\n")

    def test_stdout_cap_no_newlines(self):
        self.check_capped("out_no_newline", "stdout", "y")

    def test_stderr_cap_lines(self):
        self.check_capped("out_err_lines", "stderr", "err line\n")

    def test_stderr_cap_no_newlines(self):
        self.check_capped("out_err_no_newline", "stderr", "e")

    def test_output_exactly_at_limit_is_kept_whole(self):
        self.assertRecord(self.rec("out_exactly_limit"), status="ok", return_code=0,
                          stdout="x" * 1024, stderr="z" * 1024,
                          stdout_truncated=False, stderr_truncated=False)
        # (return_code is checked by test_output_limit_verdict_is_stable)
        self.assertRecord(self.rec("out_one_past_limit"), status="output_limit",
                          stdout="x" * 1024, stdout_truncated=True,
                          error="stdout exceeded the output limit of 1 KB")

    def test_output_limit_verdict_is_stable(self):
        # A program that writes one byte past its cap and exits at once: the
        # record must say what results.md says for output_limit (killed,
        # return_code -9, signal 9) however the kill and the exit race.
        jobs = [{"id": "past%02d" % i, "source": "import sys\nsys.stdout.write('x' * 1025)",
                 "output_limit_kb": 1} for i in range(60)]
        run = run_batch(jobs, quiet=True, prefix="pastcap")
        self.assertRunOK(run)
        seen = {}
        for j in jobs:
            r = self.one_record(run, j["id"])
            key = (r["status"], r["return_code"], r["signal"], r["stdout_truncated"], len(r["stdout"]))
            seen.setdefault(key, []).append(r["id"])
        want = ("output_limit", -9, 9, True, 1024)
        self.assertEqual(list(seen), [want], "verdicts of 60 identical jobs (status, return_code, "
                         "signal, stdout_truncated, len(stdout)): %s" %
                         {k: len(v) for k, v in seen.items()})

    def test_invalid_utf8_round_trips(self):
        r = self.rec("out_bad_utf8")
        self.assertRecord(r, status="ok")
        self.assertEqual(r["stdout"].encode("utf-8", "surrogateescape"),
                         b"ok \xff\xfe | \xc3( | \xe2\x82\xac | \xed\xa0\x80 | \xf4\x90\x80\x80 | \x00\x01\x7f end\n",
                         fmt_record(r))
        self.assertEqual(r["stderr"].encode("utf-8", "surrogateescape"), b"err \x80\xc0\xaf tail",
                         fmt_record(r))

    def test_unicode_output(self):
        self.assertRecord(self.rec("out_unicode"), status="ok", stdout="h\u00e9llo \u2713 \U0001F600\n")


# ==== 4. threads, atexit, teardown ==============================================

class TeardownTests(SharedBatchCase):

    def test_unjoined_thread_output_kept(self):
        self.assertRecord(self.rec("th_unjoined"), status="ok", return_code=0,
                          stdout="main done\nthread done\n")

    def test_atexit_handlers_run_last_registered_first(self):
        self.assertRecord(self.rec("th_atexit_order"), status="ok",
                          stdout="main\nregistered second, runs first\nregistered first, runs last\n")

    def test_unclosed_file_flushed_when_globals_released(self):
        # As under python3: atexit runs before the module's globals go, so it
        # still sees the unflushed (empty) file; releasing `_f` (underscore
        # names go first) flushes it before `reader.__del__` reads it.
        self.assertRecord(self.rec("th_unclosed_file_del"), status="ok", stdout=(
            "main sees ''\n"
            "atexit sees ''\n"
            "__del__ sees 'written but never closed'\n"))

    def test_del_output_at_teardown(self):
        self.assertRecord(self.rec("th_del_output"), status="ok",
                          stdout="main ends\nNoisy.__del__ ran\n")

    def test_thread_never_ends_times_out_keeping_flushed_output(self):
        self.assertRecord(self.rec("th_thread_hangs_flushed"), status="timeout", return_code=-9,
                          timed_out=True, signal=9, error="wall time limit of 1 s exceeded",
                          stdout="printed before the hang\n")

    def test_thread_never_ends_times_out_keeping_printed_output(self):
        # The contract: what was printed before the hang is kept, even when
        # the program did not flush (stdout is a pipe, so block-buffered).
        self.assertRecord(self.rec("th_thread_hangs"), status="timeout", return_code=-9,
                          timed_out=True, signal=9, error="wall time limit of 1 s exceeded",
                          stdout="printed before the hang\n")

    def test_atexit_never_ends_times_out_keeping_flushed_output(self):
        self.assertRecord(self.rec("th_atexit_hangs_flushed"), status="timeout", return_code=-9,
                          timed_out=True, signal=9, error="wall time limit of 1 s exceeded",
                          stdout="printed before the hang\n")

    def test_atexit_never_ends_times_out_keeping_printed_output(self):
        self.assertRecord(self.rec("th_atexit_hangs"), status="timeout", return_code=-9,
                          timed_out=True, signal=9, error="wall time limit of 1 s exceeded",
                          stdout="printed before the hang\n")


# ==== 5. sandbox ===================================================================

def nobody_workdir(bindir):
    """Gives a private runbox copy's dir to uid 65534 and makes a --workdir
    in it that 65534 owns; returns the workdir."""
    os.chown(bindir, NOBODY, NOBODY)
    wd = os.path.join(bindir, "work")
    os.mkdir(wd)
    os.chown(wd, NOBODY, NOBODY)
    return wd


class SandboxTests(SharedBatchCase):

    def assertPermissionError(self, job_id, forbidden):
        r = self.rec(job_id)
        self.assertRecord(r, status="error", return_code=1, signal=None,
                          error=startswith("PermissionError: "),
                          stderr=contains("PermissionError"))
        self.assertNotIn(forbidden, r["stdout"], fmt_record(r))
        return r

    def test_fork_permission_error(self):
        r = self.assertPermissionError("sb_fork", "CHILD RAN")
        self.assertEqual(r["stdout"], "pid True\n", fmt_record(r))

    def test_subprocess_permission_error(self):
        self.assertPermissionError("sb_subprocess", "SUBPROCESS RAN")

    def test_os_system_runs_nothing(self):
        # docs/sandbox.md: os.system raises PermissionError "or returns 32512:
        # the shell could not be started". Either way no shell may run.
        r = self.rec("sb_system")
        self.assertRecord(r, status="ok", return_code=0)
        self.assertNotIn("SYSTEM RAN", r["stdout"], fmt_record(r))
        self.assertIn(r["stdout"], ("PermissionError 1\nfile exists: False\n",
                                    "returned 32512\nfile exists: False\n"), fmt_record(r))

    def test_multiprocessing_permission_error(self):
        self.assertPermissionError("sb_multiprocessing", "CHILD RAN")
        self.assertPermissionError("sb_process_pool", "POOL RAN")

    def test_what_stays_allowed(self):
        # socketpair and asyncio, signalling itself, threads.
        self.assertRecord(self.rec("sb_socketpair_asyncio"), status="ok",
                          stdout="b'ping'\nasyncio ok\n")
        self.assertRecord(self.rec("sb_self_alarm"), status="ok", stdout="alarm\nend\n")
        self.assertRecord(self.rec("sb_threads_work"), status="ok", stdout="[0, 1, 2, 3, 4, 5, 6, 7]\n")

    def test_resource_limits(self):
        # docs/sandbox.md layer 1: CPU ceil(2.5)=3 s, hard 4; 64 MiB files;
        # 256 files; no core; 8 MiB stack; no /dev/tty.
        self.assertRecord(self.rec("sb_rlimits"), status="ok", stdout=(
            "[(3, 4), (67108864, 67108864), (256, 256), (0, 0), (8388608, 8388608)]\n"
            "fsize errno 27\nnofile errno 24\ntty refused\n"))

    def test_socket_permission_error(self):
        self.assertPermissionError("sb_socket", "SOCKET CREATED")
        self.assertPermissionError("sb_socket_unix", "SOCKET CREATED")

    def test_kill_parent_permission_error(self):
        if layers()["pid_namespace"]:
            # The parent is outside the job's PID namespace: getppid() is 0,
            # and kill(0) signals the job's own group, the job alone.
            self.assertRecord(self.rec("sb_kill_parent"), status="signal", return_code=-9,
                              stdout="")
        else:
            self.assertPermissionError("sb_kill_parent", "KILLED PARENT")

    def test_kill_everyone_permission_error(self):
        self.assertPermissionError("sb_kill_all", "KILLED EVERYONE")
        self.assertPermissionError("sb_kill_all_term", "SIGNALLED EVERYONE")

    def test_batch_continues_after_attacks(self):
        # One job at a time, attacks first: every later job must still run.
        jobs = [
            {"id": "fork", "source": "import os\nos.fork()"},
            {"id": "kill_parent", "source": "import os\nos.kill(os.getppid(), 9)"},
            {"id": "kill_all", "source": "import os\nos.kill(-1, 9)"},
            {"id": "kill_group0", "source": "import os, signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nos.kill(0, signal.SIGTERM)\nprint('own group only')"},
            {"id": "fork_bomb", "source": "import os\nwhile True:\n    os.fork()"},
            {"id": "after_1", "source": "print('after 1')"},
            {"id": "after_2", "source": "print('after 2')"},
        ]
        run = run_batch(jobs, jobs_n=1, prefix="attacks")
        self.assertRunOK(run)
        for job_id in ("fork", "kill_parent", "kill_all", "fork_bomb"):
            with self.subTest(job_id):
                if job_id == "kill_parent" and layers()["pid_namespace"]:
                    self.assertRecord(self.one_record(run, job_id), status="signal", return_code=-9)
                    continue
                self.assertRecord(self.one_record(run, job_id), status="error", return_code=1,
                                  error=startswith("PermissionError"))
        self.assertRecord(self.one_record(run, "kill_group0"), status="ok", stdout="own group only\n")
        self.assertRecord(self.one_record(run, "after_1"), status="ok", stdout="after 1\n")
        self.assertRecord(self.one_record(run, "after_2"), status="ok", stdout="after 2\n")
        self.assertEqual(len(run.records), len(jobs), run.describe())
        self.assertIn("7 jobs", run.stderr, "summary line missing\n" + run.describe())

    @unittest.skipUnless(IS_ROOT, "runbox drops privileges only when run as root")
    def test_jobs_run_under_uids_of_their_own_when_root(self):
        rec = self.rec("env_identity")
        self.assertRecord(rec, status="ok")
        uid, euid, gid = map(int, rec["stdout"].split())
        self.assertTrue(JOB_UID_BASE <= uid < JOB_UID_BASE + JOB_UID_COUNT, fmt_record(rec))
        self.assertEqual((euid, gid), (uid, uid))
        # Jobs in flight at once never share a uid: nothing of one job
        # (its files, its processes) is another's, even without Landlock.
        jobs = [{"id": "j%d" % i, "source": "import os, time\ntime.sleep(0.5)\nprint(os.getuid())"}
                for i in range(4)]
        run = run_batch(jobs, ["--no-landlock", "--no-namespaces"], jobs_n=4, prefix="uids")
        self.assertRunOK(run)
        uids = [int(self.one_record(run, "j%d" % i)["stdout"]) for i in range(4)]
        self.assertEqual(len(set(uids)), 4, uids)
        self.assertTrue(all(JOB_UID_BASE <= u < JOB_UID_BASE + JOB_UID_COUNT for u in uids), uids)

    @unittest.skipUnless(IS_ROOT, "needs root to start runbox as uid 65534 with setpriv")
    def test_unprivileged_runbox_survives_dangerous_jobs(self):
        bindir, runbox = private_runbox_copy()
        try:
            wd = nobody_workdir(bindir)
            jobs = [
                {"id": "kill_all", "source": "import os\nos.kill(-1, 9)\nprint('KILLED EVERYONE')"},
                {"id": "kill_parent", "source": "import os\nos.kill(os.getppid(), 9)"},
                {"id": "kill_zygote_group", "source": "import os\nos.killpg(os.getpgid(os.getppid()), 9)"},
                {"id": "fork", "source": "import os\nos.fork()"},
                {"id": "locked_dir", "source": src("""
                    import os
                    os.makedirs('a/b/c')
                    open('a/b/c/f', 'w').write('x')
                    os.chmod('a/b', 0)
                    os.chmod('a', 0)
                    print(os.getcwd())
                    """)},
                {"id": "who", "source": "import os\nprint(os.getuid())"},
                {"id": "last", "source": "print('last job ran')"},
            ]
            manifest = write_manifest(os.path.join(bindir, "manifest.jsonl"), jobs)
            os.chmod(manifest, 0o644)
            results = os.path.join(bindir, "results.jsonl")
            cmd = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
                   runbox, "run", manifest, "-o", results, "-j", "2", "--workdir", wd]
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                               cwd=bindir)
            diag = "setpriv runbox exit %d\nstderr: %s" % (p.returncode, p.stderr.decode(errors="replace"))
            self.assertEqual(p.returncode, 0, diag)
            with open(results, encoding="utf-8", errors="surrogateescape") as f:
                recs = [json.loads(line) for line in f]
            by_id = {r["id"]: r for r in recs}
            self.assertEqual(sorted(by_id), sorted(j["id"] for j in jobs), diag)
            self.assertEqual(len(recs), len(jobs), diag)
            for job_id in ("kill_all", "kill_parent", "kill_zygote_group", "fork"):
                with self.subTest(job_id):
                    self.assertShape(by_id[job_id])
                    if job_id in ("kill_parent", "kill_zygote_group") and layers()["pid_namespace"]:
                        # getppid() is 0 inside the PID namespace: the job hits its own group.
                        self.assertRecord(by_id[job_id], status="signal", return_code=-9)
                        continue
                    self.assertRecord(by_id[job_id], status="error", return_code=1,
                                      error=startswith("PermissionError"))
            self.assertRecord(by_id["who"], status="ok", stdout="%d\n" % NOBODY)
            self.assertRecord(by_id["last"], status="ok", stdout="last job ran\n")
            self.assertRecord(by_id["locked_dir"], status="ok")
            self.assertFalse(os.path.exists(by_id["locked_dir"]["stdout"].strip()),
                             "the job's working dir was left behind")
            self.assertEqual(os.listdir(wd), [], "left under --workdir: %s" % os.listdir(wd))
        finally:
            remove_tree(bindir)

    @unittest.skipUnless(IS_ROOT, "needs root to start runbox as uid 65534 with setpriv")
    def test_unprivileged_without_landlock_warns_even_when_quiet(self):
        bindir, runbox = private_runbox_copy()
        try:
            wd = nobody_workdir(bindir)
            manifest = write_manifest(os.path.join(bindir, "m.jsonl"),
                                      [{"id": "a", "source": "print(1)"}])
            os.chmod(manifest, 0o644)
            for extra, warned in ((["--no-landlock"], True), ([], not layers()["landlock"])):
                results = os.path.join(bindir, "r.jsonl")
                cmd = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
                       runbox, "run", manifest, "-o", results, "--overwrite", "-q", "--workdir", wd]
                p = subprocess.run(cmd + extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   timeout=60, cwd=bindir)
                err = p.stderr.decode(errors="replace")
                self.assertEqual(p.returncode, 0, err)
                if warned:
                    self.assertIn("runbox: warning: jobs run as your user (uid %d) without Landlock"
                                  % NOBODY, err)
                else:
                    self.assertEqual(err, "")
        finally:
            remove_tree(bindir)
        # As root, jobs run under uids of their own: no warning, with or without Landlock.
        run = run_batch([{"id": "a", "source": "print(1)"}], ["--no-landlock", "-q"])
        self.assertEqual(run.returncode, 0, run.describe())
        self.assertEqual(run.stderr, "")


# ==== 6. comparison with python3 ================================================

PARITY_PROGRAMS = {
    "prints": ("print('hello')\nprint(1 + 2, 'x', sep='-', end='!\\n')\nprint()\n", None),
    "unicode": ("print('h\u00e9llo \u2713')\nimport sys\nsys.stdout.write('no newline at the end')\n", None),
    "exception_after_output": ("print('before')\nraise ValueError('bad value')\n", None),
    "sys_exit_3": ("print('out')\nimport sys\nsys.exit(3)\n", None),
    "sys_exit_str": ("import sys\nprint('x')\nsys.exit('bye')\n", None),
    "sys_exit_none": ("import sys\nprint('y')\nsys.exit(None)\n", None),
    "sys_exit_263": ("import sys\nsys.exit(263)\n", None),
    "os_exit_unflushed": ("import os\nprint('lost in the buffer')\nos._exit(4)\n", None),
    "keyboard_interrupt": ("print('k', flush=True)\nraise KeyboardInterrupt\n", None),
    "threads": (src("""
        import threading, time
        def work(n):
            time.sleep(0.1 * n)
            print('thread', n)
        for n in (1, 2, 3):
            threading.Thread(target=work, args=(n,)).start()
        print('main done')
        """), None),
    "thread_exception": (src("""
        import threading
        def boom():
            raise RuntimeError('in thread')
        t = threading.Thread(target=boom)
        t.start()
        t.join()
        print('main continues')
        """), None),
    "atexit": (src("""
        import atexit
        atexit.register(print, 'first registered')
        atexit.register(print, 'second registered')
        def failing():
            raise RuntimeError('atexit fails')
        atexit.register(failing)
        print('main')
        """), None),
    "del_output": (src("""
        class Noisy:
            def __init__(self, name):
                self.name = name
            def __del__(self):
                print('del', self.name)
        _early = Noisy('underscore name')
        late = Noisy('plain name')
        print('end of main')
        """), None),
    "unclosed_file": (src("""
        import atexit
        f = open('out.txt', 'w')
        f.write('unclosed content')
        atexit.register(lambda: print('atexit:', repr(open('out.txt').read())))
        class Check:
            # builtins as defaults: python3 may have dropped them by the time
            # this runs during interpreter shutdown.
            def __del__(self, open=open, print=print, repr=repr):
                print('del:', repr(open('out.txt').read()))
        z_check = Check()
        """), None),
    "stdin_echo": (src("""
        import sys
        total = 0
        for line in sys.stdin:
            total += len(line)
            print(line.rstrip('\\n')[::-1])
        print('total', total)
        """), "first line\nsecond line\nno newline"),
    "cwd_files": (src("""
        import os
        with open('f.txt', 'w') as f:
            f.write('abc')
        print(open('f.txt').read(), sorted(os.listdir('.')))
        """), None),
    "exception_in_del_ignored": (src("""
        class Bad:
            def __del__(self):
                raise ValueError('ignored')
        b = Bad()
        del b
        print('survived')
        """), None),
}


def _parity_run_python3(path, stdin):
    cwd = new_tmpdir("py3")
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": cwd, "TMPDIR": cwd}
    p = subprocess.run([PYTHON3, path], input=(stdin or "").encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, cwd=cwd, env=env, timeout=30)
    return p


_parity = None


def parity_batch():
    global _parity
    if _parity is None:
        d = new_tmpdir("parity")
        os.mkdir(os.path.join(d, "progs"))
        jobs = []
        for name, (text, stdin) in PARITY_PROGRAMS.items():
            path = os.path.join(d, "progs", name + ".py")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            os.chmod(path, 0o644)
            job = {"id": name, "file": "progs/%s.py" % name, "timeout": 5}
            if stdin is not None:
                job["stdin"] = stdin
            jobs.append(job)
        _parity = (d, run_batch(jobs, manifest_dir=d))
    return _parity


class PythonParityTests(RunboxTestCase):
    """Harmless programs, run by /usr/bin/python3 and by runbox as `file` jobs:
    same stdout, same exit status."""


def _make_parity_test(name):
    def test(self):
        d, run = parity_batch()
        self.assertRunOK(run)
        rec = self.one_record(run, name)
        text, stdin = PARITY_PROGRAMS[name]
        p = _parity_run_python3(os.path.join(d, "progs", name + ".py"), stdin)
        py_out = p.stdout.decode("utf-8", "surrogateescape")
        diag = ("python3: exit %d\n  stdout %r\n  stderr %r\nrunbox record:\n%s" %
                (p.returncode, py_out, p.stderr.decode(errors="replace"), fmt_record(rec)))
        self.assertEqual(rec["stdout"], py_out, "stdout differs\n" + diag)
        self.assertEqual(rec["return_code"], p.returncode, "exit status differs\n" + diag)
        self.assertEqual(rec["status"], "ok" if p.returncode == 0 else "error", diag)
    test.__name__ = "test_same_as_python3_" + name
    return test


for _name in PARITY_PROGRAMS:
    setattr(PythonParityTests, "test_same_as_python3_" + _name, _make_parity_test(_name))


class FileJobTests(RunboxTestCase):

    def test_file_job_relative_to_manifest_dir(self):
        d = new_tmpdir("filejob")
        os.mkdir(os.path.join(d, "sub"))
        with open(os.path.join(d, "sub", "prog.py"), "w") as f:
            f.write('"""File doc."""\nimport os, sys\nprint("file job", sys.argv, sys.path[0], __file__)\n1/0\n')
        os.chmod(os.path.join(d, "sub", "prog.py"), 0o644)
        jobs = [{"id": "rel", "file": "sub/prog.py", "argv": ["z"]},
                {"id": "abs", "file": os.path.join(d, "sub", "prog.py")},
                {"id": "missing", "file": "sub/nope.py"}]
        # runbox started from another directory: paths are the manifest's.
        run = run_batch(jobs, manifest_dir=d, cwd="/")
        self.assertRunOK(run)
        prog = os.path.join(os.path.realpath(d), "sub", "prog.py")
        subdir = os.path.dirname(prog)
        # manifest.md: sys.argv is [file, *argv], sys.path[0] the file's dir,
        # __file__ the resolved path; tracebacks show it.
        self.assertRecord(self.one_record(run, "rel"), status="error", return_code=1,
                          stdout="file job %r %s %s\n" % ([prog, "z"], subdir, prog),
                          doc="File doc.", error="ZeroDivisionError: division by zero",
                          stderr=contains('File "%s", line 4' % prog))
        self.assertRecord(self.one_record(run, "abs"), status="error",
                          stdout="file job %r %s %s\n" % ([prog], subdir, prog))
        missing = os.path.join(os.path.realpath(d), "sub", "nope.py")
        self.assertRecord(self.one_record(run, "missing"), status="error", return_code=2,
                          stderr=contains("nope.py"),
                          error="can't open file '%s': [Errno 2] No such file or directory" % missing)


# ==== 7. invalid manifest lines ==================================================

INVALID_MANIFEST = [
    ('{"id": "v_first", "source": "print(\'first\')"}', None),                       # 1
    ("this is not json", ("not valid JSON (column", None)),                          # 2
    ("[1, 2, 3]", ("must be a JSON object", None)),                                   # 3
    ("", None),                                                                       # 4 blank
    ('{"source": "print(1)"}', ("'id'", None)),                                       # 5 no id
    ('{"id": "", "source": "print(1)"}', ("'id'", None)),                             # 6 empty id
    ('{"id": 5, "source": "print(1)"}', ("'id'", None)),                              # 7 number id
    ('{"id": "no_program"}', ("'source'", "no_program")),                             # 8
    ('{"id": "both", "source": "print(1)", "file": "x.py"}', ("'file'", "both")),     # 9
    ('{"id": "argv_str", "source": "print(1)", "argv": "a b"}', ("'argv'", "argv_str")),   # 10
    ('{"id": "argv_int", "source": "print(1)", "argv": ["a", 2]}', ("'argv'", "argv_int")),  # 11
    ('{"id": "timeout_0", "source": "print(1)", "timeout": 0}', ("'timeout'", "timeout_0")),  # 12
    ('{"id": "timeout_neg", "source": "print(1)", "timeout": -1}', ("'timeout'", "timeout_neg")),  # 13
    ('{"id": "timeout_str", "source": "print(1)", "timeout": "soon"}', ("'timeout'", "timeout_str")),  # 14
    ('{"id": "mem_frac", "source": "print(1)", "memory_mb": 1.5}', ("'memory_mb'", "mem_frac")),  # 15
    ('{"id": "olimit_0", "source": "print(1)", "output_limit_kb": 0}', ("'output_limit_kb'", "olimit_0")),  # 16
    ('{"id": "unknown", "source": "print(1)", "colour": "red"}', ("'colour'", "unknown")),  # 17
    ('{"id": "v_first", "source": "print(\'dup\')"}', ("duplicate id 'v_first' (first on line 1)", None)),  # 18
    ('{"id": "nul", "source": "print(\'a\\u0000b\')"}', ("\\u0000", "nul")),         # 19
    ('{"id": "after", "source": "print(1)"} trailing', ("text after", "ANY")),        # 20
    ('{"id": "globals_list", "source": "print(1)", "globals": [1]}', ("'globals'", "globals_list")),  # 21
    ('{"id": "cpu_str", "source": "print(1)", "cpu_time": "x"}', ("'cpu_time'", "cpu_str")),  # 22
    ('{"id": "stdin_num", "source": "print(1)", "stdin": 5}', ("'stdin'", "stdin_num")),  # 23
    ('{"id": "path_num", "source": "print(1)", "path": 3}', ("'path'", "path_num")),  # 24
    ("   \t ", None),                                                                 # 25 blank
    ('{"id": "v_middle", "source": "print(\'middle\')"}', None),                      # 26
    ('{"id": "src_num", "source": 42}', ("'source'", "src_num")),                    # 27
    ('{"id": "mem_str", "source": "print(1)", "memory_mb": "lots"}', ("'memory_mb'", "mem_str")),  # 28
    ('{"id": "argv_obj", "source": "print(1)", "argv": {"a": 1}}', ("'argv'", "argv_obj")),  # 29
    ('{"id": "module", "module": "1json"}', ("'module'", "module")),                  # 30
    ('{"id": "twice", "source": "print(1)", "source": "print(2)"}', ("'source'", "ANY")),  # 31
    ('{"id": "timeout_huge", "source": "print(1)", "timeout": 1e300}', ("'timeout'", "timeout_huge")),  # 32
    ('{"id": "v_last", "source": "print(\'last\')"}', None),                          # 33
]


class InvalidLineTests(RunboxTestCase):
    _run = None

    @classmethod
    def batch(cls):
        if cls._run is None:
            cls._run = run_batch([line for line, _ in INVALID_MANIFEST], prefix="invalid")
        return cls._run

    def invalid_record(self, line_no):
        run = self.batch()
        self.assertRunOK(run)
        recs = run.by_line(line_no)
        if len(recs) != 1:
            self.fail("expected one invalid record for line %d, got %d\n%s\n%s" % (
                line_no, len(recs), "\n".join(map(fmt_record, recs)), run.describe()))
        rec = recs[0]
        self.assertShape(rec, run)
        text, (must_name, want_id) = INVALID_MANIFEST[line_no - 1]
        self.assertRecord(rec, status="invalid", return_code=None, line=line_no,
                          error=startswith("line %d: " % line_no))
        self.assertIn(must_name, rec["error"], "the error does not name %s\n%s" % (
            must_name, fmt_record(rec)))
        if want_id != "ANY":
            self.assertRecord(rec, id=want_id)
        self.assertRecord(rec, stdout="", stderr="", timed_out=False, signal=None)
        return rec

    def test_valid_jobs_around_invalid_lines_run(self):
        run = self.batch()
        self.assertRunOK(run)
        for job_id, out in (("v_first", "first\n"), ("v_middle", "middle\n"), ("v_last", "last\n")):
            self.assertRecord(self.one_record(run, job_id), status="ok", stdout=out)

    def test_one_record_per_nonblank_line_and_none_for_blank_lines(self):
        run = self.batch()
        self.assertRunOK(run)
        nonblank = [i for i, (line, _) in enumerate(INVALID_MANIFEST, 1) if line.strip()]
        self.assertEqual(len(run.records), len(nonblank), run.describe())
        lines = sorted(r["line"] for r in run.records if r["status"] == "invalid")
        expect = [i for i, (_, e) in enumerate(INVALID_MANIFEST, 1) if e]
        self.assertEqual(lines, expect)
        self.assertEqual(run.by_line(4) + run.by_line(25), [])

    def test_not_json(self):
        self.assertRecord(self.invalid_record(2), error="line 2: not valid JSON (column 1)")

    def test_not_an_object(self):
        self.invalid_record(3)

    def test_missing_id(self):
        self.invalid_record(5)

    def test_empty_id(self):
        self.invalid_record(6)

    def test_non_string_id(self):
        self.invalid_record(7)

    def test_no_program(self):
        self.invalid_record(8)

    def test_source_and_file(self):
        rec = self.invalid_record(9)
        self.assertIn("'source'", rec["error"])

    def test_argv_not_a_list(self):
        self.invalid_record(10)
        self.invalid_record(29)

    def test_argv_item_not_a_string(self):
        self.invalid_record(11)

    def test_timeout_not_positive(self):
        self.invalid_record(12)
        self.invalid_record(13)
        self.invalid_record(32)

    def test_timeout_string(self):
        self.invalid_record(14)
        self.invalid_record(22)

    def test_memory_fraction_or_string(self):
        self.invalid_record(15)
        self.invalid_record(28)

    def test_output_limit_zero(self):
        self.invalid_record(16)

    def test_unknown_field(self):
        self.invalid_record(17)

    def test_runner_fields_are_checked(self):
        self.assertRecord(self.invalid_record(21), error=contains("must be an object"))
        self.assertRecord(self.invalid_record(30), error=contains("is not a module name"))

    def test_duplicate_id(self):
        self.assertRecord(self.invalid_record(18), id=None,
                          error="line 18: duplicate id 'v_first' (first on line 1)")
        run = self.batch()
        self.assertEqual(run.by_id["v_first"][0]["stdout"], "first\n")

    def test_nul_in_string(self):
        rec = self.invalid_record(19)
        self.assertIn("'source'", rec["error"], "the error does not name the field\n" + fmt_record(rec))

    def test_text_after_object(self):
        self.invalid_record(20)

    def test_wrong_type_string_fields(self):
        self.invalid_record(23)
        self.invalid_record(24)
        self.invalid_record(27)

    def test_key_given_twice(self):
        self.invalid_record(31)

    def test_nul_in_id_does_not_shadow_another_id(self):
        # "a\u0000b" must not be taken for "a": the job "a" must still run.
        jobs = ['{"id": "a\\u0000b", "source": "print(1)"}',
                '{"id": "a", "source": "print(\'the real a\')"}']
        run = run_batch(jobs, prefix="nulid")
        self.assertRunOK(run)
        bad = run.by_line(1)
        self.assertEqual(len(bad), 1, run.describe())
        self.assertRecord(bad[0], status="invalid", line=1, error=startswith("line 1: "))
        self.assertNotEqual(bad[0]["id"], "a", "the invalid line's id was cut at the NUL\n" + fmt_record(bad[0]))
        good = [r for r in run.records if r.get("line") is None]
        self.assertEqual(len(good), 1, "\n".join(map(fmt_record, run.records)))
        self.assertRecord(good[0], id="a", status="ok", stdout="the real a\n")


# ==== 8. the command line =======================================================

class CliTests(RunboxTestCase):

    def simple_manifest(self, n=3):
        d = new_tmpdir("cli")
        m = write_manifest(os.path.join(d, "m.jsonl"),
                           [{"id": "c%d" % i, "source": "print(%d)" % i} for i in range(n)])
        return d, m

    def assertUsageError(self, run, *must_mention, code=2):
        self.assertEqual(run.returncode, code, run.describe())
        self.assertEqual(run.stdout, "", "usage errors print nothing on stdout\n" + run.describe())
        lines = run.stderr.strip("\n").split("\n")
        self.assertTrue(lines[0].startswith("runbox: "), run.describe())
        for extra in lines[1:]:
            self.assertTrue(extra.startswith("Try "), "more than one error line\n" + run.describe())
        for m in must_mention:
            self.assertIn(m, lines[0], run.describe())
        for bad in ("Traceback", "Segmentation", "core dumped", "Aborted", "AddressSanitizer"):
            self.assertNotIn(bad, run.stderr)

    def gzip_manifest(self, n=20):
        d, m = self.simple_manifest(n)
        with open(m, "rb") as f:
            data = gzip.compress(f.read())
        gz = m + ".gz"
        with open(gz, "wb") as f:
            f.write(data)
        return d, gz, data

    def test_gzip_manifest(self):
        # docs/cli.md: a manifest file compressed with gzip is read as it is,
        # by path or as standard input redirected from the file.
        d, gz, data = self.gzip_manifest()
        out = os.path.join(d, "r.jsonl")
        run = run_runbox(["run", gz, "-o", out])
        self.assertEqual(run.returncode, 0, run.describe())
        self.assertIn("20 jobs", run.stderr)
        with open(out) as f:
            recs = [json.loads(line) for line in f]
        self.assertEqual(sorted(r["id"] for r in recs), sorted("c%d" % i for i in range(20)))
        self.assertTrue(all(r["status"] == "ok" for r in recs))
        with open(gz, "rb") as f:
            p = subprocess.run([RUNBOX, "run", "-", "-q"], stdin=f, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.count(b"\n"), 20)
        # --resume of a gzip manifest: nothing left to do.
        run = run_runbox(["run", gz, "-o", out, "--resume", "-q"])
        self.assertEqual(run.returncode, 0, run.describe())
        with open(out) as f:
            self.assertEqual(len(f.readlines()), 20)

    def test_gzip_manifest_sharded_and_merged(self):
        d, gz, data = self.gzip_manifest(30)
        outs = []
        for i in range(2):
            out = os.path.join(d, "r%d.jsonl" % i)
            run = run_runbox(["run", gz, "-o", out, "--shard", "%d/2" % i, "-q"])
            self.assertEqual(run.returncode, 0, run.describe())
            outs.append(out)
        merged = os.path.join(d, "merged.jsonl")
        run = run_runbox(["merge"] + outs + ["-o", merged, "--manifest", gz, "-q"])
        self.assertEqual(run.returncode, 0, run.describe())
        with open(merged) as f:
            self.assertEqual([json.loads(line)["id"] for line in f], ["c%d" % i for i in range(30)])
        # A manifest cut short cannot be checked against: merge says so.
        cut = os.path.join(d, "cut.jsonl.gz")
        with open(cut, "wb") as f:
            f.write(data[:len(data) - 12])
        run = run_runbox(["merge"] + outs + ["-o", merged, "--manifest", cut, "-q"])
        self.assertEqual(run.returncode, 1, run.describe())
        self.assertIn("corrupt or cut short", run.stderr)

    def test_gzip_manifest_through_a_pipe_is_refused(self):
        d, gz, data = self.gzip_manifest()
        run = run_runbox(["run", "-"], input_bytes=data)
        self.assertEqual(run.returncode, 1, run.describe())
        self.assertEqual(run.stdout, "")
        self.assertIn("gzip-compressed", run.stderr)
        self.assertIn("zcat", run.stderr)

    def test_gzip_manifest_cut_short(self):
        # The complete lines before the cut run and keep their records; the
        # cut is an error naming where it happened.
        d, gz, data = self.gzip_manifest(400)
        with open(gz, "wb") as f:
            f.write(data[:len(data) // 2])
        out = os.path.join(d, "r.jsonl")
        run = run_runbox(["run", gz, "-o", out, "-q"])
        self.assertEqual(run.returncode, 1, run.describe())
        self.assertIn("the gzip data is corrupt or cut short", run.stderr)
        with open(out) as f:
            recs = [json.loads(line) for line in f]
        self.assertGreater(len(recs), 0)
        self.assertLess(len(recs), 400)
        self.assertTrue(all(r["status"] == "ok" for r in recs), recs[-1])

    def test_usage_errors_are_one_line(self):
        # docs/cli.md: "Every error a user can cause is one line on standard
        # error starting with `runbox: `, naming the file or option at fault
        # (for a bad option, followed by a line pointing at `--help`)."
        d, m = self.simple_manifest()
        for args in (["frobnicate"], ["run", m, "--bogus"], ["run"], ["run", m, "-j", "zero"],
                     ["run", os.path.join(d, "missing.jsonl")]):
            with self.subTest(args=args):
                run = run_runbox(args)
                self.assertIn(run.returncode, (1, 2), run.describe())
                lines = run.stderr.splitlines()
                self.assertIn(len(lines), (1, 2), "expected one error line on stderr, got %r" % run.stderr)
                self.assertTrue(lines[0].startswith("runbox: "), run.describe())
                if len(lines) == 2:
                    self.assertRegex(lines[1], r"^Try 'runbox( run)? --help'\.$", run.describe())

    def test_help(self):
        for args in (["--help"], ["-h"]):
            run = run_runbox(args)
            self.assertEqual(run.returncode, 0, run.describe())
            self.assertIn("Usage: runbox", run.stdout)
            self.assertIn("run MANIFEST", run.stdout)

    def test_run_help(self):
        for args in (["run", "--help"], ["run", "-h"]):
            run = run_runbox(args)
            self.assertEqual(run.returncode, 0, run.describe())
            self.assertIn("Usage: runbox run MANIFEST", run.stdout)
            for opt in ("--output", "--jobs", "--timeout", "--cpu-time", "--memory",
                        "--output-limit", "--resume", "--overwrite", "--workdir", "--preload",
                        "--quiet", "--verbose"):
                self.assertIn(opt, run.stdout)

    def test_version(self):
        run = run_runbox(["--version"])
        self.assertEqual(run.returncode, 0, run.describe())
        self.assertRegex(run.stdout, r"^runbox \d+\.\d+\.\d+\n$")

    def test_no_arguments_is_usage_error(self):
        run = run_runbox([])
        self.assertEqual(run.returncode, 2, run.describe())
        self.assertIn("Usage", run.stderr)

    def test_unknown_command(self):
        self.assertUsageError(run_runbox(["frobnicate"]), "frobnicate")

    def test_unknown_option(self):
        d, m = self.simple_manifest()
        self.assertUsageError(run_runbox(["run", m, "--bogus"]), "--bogus")

    def test_no_manifest(self):
        self.assertUsageError(run_runbox(["run"]), "manifest")
        self.assertUsageError(run_runbox(["run", "-j", "2"]), "manifest")

    def test_bad_option_values(self):
        d, m = self.simple_manifest()
        for args, name in ((["-j", "0"], "--jobs"), (["-j", "x"], "--jobs"),
                           (["--jobs", "-3"], "--jobs"),
                           (["--timeout", "0"], "--timeout"), (["--timeout", "-1"], "--timeout"),
                           (["--timeout", "soon"], "--timeout"), (["--timeout", "nan"], "--timeout"),
                           (["--cpu-time", "abc"], "--cpu-time"), (["--memory", "1.5"], "--memory"),
                           (["--memory", "0"], "--memory"), (["--output-limit", "0"], "--output-limit"),
                           (["--timeout"], "--timeout")):
            with self.subTest(args=args):
                self.assertUsageError(run_runbox(["run", m] + args), name)
        self.assertFalse(os.path.exists(os.path.join(d, "results.jsonl")))

    def test_resume_needs_results_file_and_excludes_overwrite(self):
        d, m = self.simple_manifest()
        self.assertUsageError(run_runbox(["run", m, "--resume"]), "--resume")
        out = os.path.join(d, "r.jsonl")
        self.assertUsageError(run_runbox(["run", m, "-o", out, "--resume", "--overwrite"]), "--resume")

    def test_missing_manifest_file(self):
        d = new_tmpdir("cli")
        missing = os.path.join(d, "no-such-manifest.jsonl")
        run = run_runbox(["run", missing, "-q"])
        self.assertEqual(run.returncode, 1, run.describe())
        self.assertIn("no-such-manifest.jsonl", run.stderr, run.describe())
        self.assertEqual(run.stdout, "")
        self.assertNotIn("Traceback", run.stderr)

    def test_manifest_is_a_directory(self):
        d = new_tmpdir("cli")
        run = run_runbox(["run", d])
        self.assertEqual(run.returncode, 1, run.describe())
        self.assertIn(d, run.stderr)

    def test_existing_results_file_is_refused_and_untouched(self):
        d, m = self.simple_manifest()
        out = os.path.join(d, "results.jsonl")
        original = b'{"id":"old","status":"ok"}\nsomething precious\n'
        with open(out, "wb") as f:
            f.write(original)
        run = run_runbox(["run", m, "-o", out])
        self.assertEqual(run.returncode, 1, run.describe())
        self.assertIn("results.jsonl", run.stderr)
        self.assertIn("--resume", run.stderr)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), original, "runbox changed a results file it refused")

    def test_empty_results_file_is_used(self):
        d, m = self.simple_manifest(2)
        out = os.path.join(d, "results.jsonl")
        open(out, "w").close()
        run = run_runbox(["run", m, "-o", out, "-q"])
        self.assertEqual(run.returncode, 0, run.describe())
        with open(out) as f:
            self.assertEqual(sorted(json.loads(line)["id"] for line in f), ["c0", "c1"])

    def test_overwrite_replaces_results_file(self):
        d, m = self.simple_manifest(2)
        out = os.path.join(d, "results.jsonl")
        with open(out, "w") as f:
            f.write("old junk\n" * 100)
        run = run_runbox(["run", m, "-o", out, "--overwrite", "-q"])
        self.assertEqual(run.returncode, 0, run.describe())
        with open(out) as f:
            lines = f.read().splitlines()
        self.assertEqual(sorted(json.loads(line)["id"] for line in lines), ["c0", "c1"])

    def test_results_to_stdout_by_default(self):
        d, m = self.simple_manifest(3)
        run = run_runbox(["run", m, "-q"], cwd=d)
        self.assertEqual(run.returncode, 0, run.describe())
        self.assertEqual(sorted(run.by_id), ["c0", "c1", "c2"], run.describe())
        for i in range(3):
            self.assertRecord(self.one_record(run, "c%d" % i), status="ok", stdout="%d\n" % i)
        run2 = run_runbox(["run", m, "-q", "-o", "-"], cwd=d)
        self.assertEqual(sorted(run2.by_id), ["c0", "c1", "c2"], run2.describe())

    def test_manifest_from_stdin(self):
        d = new_tmpdir("cli")
        text = "".join(json.dumps({"id": "s%d" % i, "source": "print(%d * 2)" % i}) + "\n"
                       for i in range(5))
        run = run_runbox(["run", "-", "-q"], input_bytes=text.encode(), cwd=d)
        self.assertEqual(run.returncode, 0, run.describe())
        self.assertEqual(len(run.records), 5, run.describe())
        for i in range(5):
            self.assertRecord(self.one_record(run, "s%d" % i), status="ok", stdout="%d\n" % (i * 2))

    def test_manifest_from_slow_pipe(self):
        # The writer sleeps between lines (and mid-line): each job starts as
        # its line arrives; nothing waits for EOF to start.
        d = new_tmpdir("cli")
        out = os.path.join(d, "results.jsonl")
        p = subprocess.Popen([RUNBOX, "run", "-", "-o", out, "-q", "-j", "2"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=d)
        seen_before_eof = []
        try:
            for i in range(4):
                line = json.dumps({"id": "p%d" % i, "source": "print('piped %d')" % i}) + "\n"
                half = len(line) // 2
                p.stdin.write(line[:half].encode())
                p.stdin.flush()
                time.sleep(0.2)
                p.stdin.write(line[half:].encode())
                p.stdin.flush()
                time.sleep(0.3)
            # Before EOF: the first jobs already have their records.
            def records_so_far():
                try:
                    with open(out) as f:
                        return [json.loads(x)["id"] for x in f if x.endswith("\n")]
                except (OSError, ValueError):
                    return []
            seen_before_eof = wait_until(lambda: len(records_so_far()) >= 3 and records_so_far(), 5)
            # The last line without its newline, then EOF.
            _, err = p.communicate(input=b'{"id": "p_last", "source": "print(\'last\')"}', timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 0, err.decode(errors="replace"))
        self.assertTrue(seen_before_eof and len(seen_before_eof) >= 3,
                        "jobs did not run while the manifest was still open: %r" % (seen_before_eof,))
        with open(out) as f:
            recs = [json.loads(x) for x in f]
        self.assertEqual(sorted(r["id"] for r in recs), ["p0", "p1", "p2", "p3", "p_last"])
        for r in recs:
            want = "last\n" if r["id"] == "p_last" else "piped %s\n" % r["id"][1:]
            self.assertRecord(r, status="ok", stdout=want)

    def test_quiet_prints_nothing_on_stderr(self):
        jobs = [{"id": "q_ok", "source": "print(1)"}, {"id": "q_err", "source": "1/0"},
                "not json", {"id": "q_out", "source": "import sys\nsys.stderr.write('to stderr')"}]
        run = run_batch(jobs, quiet=True, prefix="quiet")
        self.assertRunOK(run)
        self.assertEqual(run.stderr, "", run.describe())
        self.assertEqual(run.stdout, "")
        self.assertEqual(len(run.records), 4)
        run = run_batch(jobs, quiet=True, to_file=False, prefix="quiet")
        self.assertEqual(run.returncode, 0, run.describe())
        self.assertEqual(run.stderr, "", run.describe())
        self.assertEqual(len(run.records), 4)

    def test_summary_on_stderr_without_quiet(self):
        jobs = [{"id": "s_ok", "source": "print(1)"}, {"id": "s_err", "source": "1/0"}]
        run = run_batch(jobs, prefix="summary")
        self.assertRunOK(run)
        self.assertIn("2 jobs", run.stderr, run.describe())
        self.assertIn("ok 1", run.stderr, run.describe())
        self.assertIn("error 1", run.stderr, run.describe())
        self.assertEqual(run.stdout, "", "with -o FILE nothing goes to stdout\n" + run.describe())

    def test_limit_flags_are_defaults_jobs_override(self):
        jobs = [
            {"id": "flag_timeout", "source": "import time\ntime.sleep(30)"},
            {"id": "own_timeout", "source": "import time\ntime.sleep(30)", "timeout": 0.5},
            {"id": "flag_output", "source": "print('x' * 3000)"},
            {"id": "own_output", "source": "print('x' * 3000)", "output_limit_kb": 4},
            {"id": "flag_memory", "source": "x = bytearray(200 * 1024 * 1024)\nprint('allocated')"},
            {"id": "own_memory", "source": "x = bytearray(200 * 1024 * 1024)\nprint('allocated')",
             "memory_mb": 1024, "timeout": 10, "cpu_time": 10},
            {"id": "flag_cpu", "source": "while True:\n    pass", "timeout": 8},
        ]
        run = run_batch(jobs, ["--timeout", "1", "--output-limit", "2", "--memory", "100",
                               "--cpu-time", "1"], prefix="flags")
        self.assertRunOK(run)
        self.assertRecord(self.one_record(run, "flag_timeout"), status="timeout",
                          error="wall time limit of 1 s exceeded")
        self.assertRecord(self.one_record(run, "own_timeout"), status="timeout",
                          error="wall time limit of 0.5 s exceeded")
        self.assertRecord(self.one_record(run, "flag_output"), status="output_limit",
                          error="stdout exceeded the output limit of 2 KB")
        self.assertRecord(self.one_record(run, "own_output"), status="ok", stdout="x" * 3000 + "\n")
        self.assertRecord(self.one_record(run, "flag_memory"), status="memory", return_code=1)
        self.assertRecord(self.one_record(run, "own_memory"), status="ok", stdout="allocated\n")
        self.assertRecord(self.one_record(run, "flag_cpu"), status="timeout", return_code=-24,
                          error="CPU time limit of 1 s exceeded")

    def test_bad_workdir(self):
        d, m = self.simple_manifest()
        run = run_runbox(["run", m, "--workdir", os.path.join(d, "no", "such", "dir")])
        self.assertEqual(run.returncode, 1, run.describe())
        self.assertIn(os.path.join(d, "no", "such", "dir"), run.stderr)
        self.assertNotIn("Traceback", run.stderr)

    def test_records_in_completion_order(self):
        jobs = [{"id": "slow", "source": "import time\ntime.sleep(1)\nprint('slow')"},
                {"id": "fast", "source": "print('fast')"}]
        run = run_batch(jobs, quiet=True, prefix="order")
        self.assertRunOK(run)
        self.assertEqual([r["id"] for r in run.records], ["fast", "slow"],
                         "records are not in completion order")

    def test_preload(self):
        job = [{"id": "pre", "source": "import sys\nprint('decimal' in sys.modules)"}]
        run = run_batch(job, ["--preload", "decimal"], prefix="preload")
        self.assertRunOK(run)
        self.assertRecord(self.one_record(run, "pre"), status="ok", stdout="True\n")
        run = run_batch(job, ["--preload", ""], prefix="preload")
        self.assertRunOK(run)
        self.assertRecord(self.one_record(run, "pre"), status="ok", stdout="False\n")
        run = run_batch(job, ["--preload", "no_such_module_xyz"], prefix="preload")
        self.assertEqual(run.returncode, 1, run.describe())
        self.assertIn("no_such_module_xyz", run.stderr)
        self.assertNotIn("Traceback", run.stderr)

    def interrupt(self, sig):
        # Two quick jobs, then jobs that wait for a flag file: interrupted
        # while those run, runbox exits 130 with the quick jobs' records;
        # --resume (flag present) then runs exactly the rest.
        d = new_tmpdir("intr")
        flag = os.path.join(d, "flag")
        wait_src = "import os, time\nwhile not os.path.exists(%r):\n    time.sleep(0.05)\nprint('done')" % flag
        jobs = [{"id": "quick%d" % i, "source": "print('quick')"} for i in range(2)]
        jobs += [{"id": "wait%d" % i, "source": wait_src, "timeout": 60} for i in range(4)]
        m = write_manifest(os.path.join(d, "m.jsonl"), jobs)
        out = os.path.join(d, "r.jsonl")
        wd = os.path.join(d, "wd")
        os.mkdir(wd)
        p = subprocess.Popen([RUNBOX, "run", m, "-o", out, "-j", "2", "-q", "--workdir", wd],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            def two_waiting():
                try:
                    with open(out) as f:
                        done = f.read().count("\n")
                except OSError:
                    done = 0
                procs = descendants_of(p.pid)
                return done >= 2 and len(procs) >= 3 and procs
            zyg = wait_until(two_waiting, 15)
            self.assertTrue(zyg, "the quick jobs did not finish or 2 workers never appeared")
            time.sleep(0.3)
            t0 = time.monotonic()
            p.send_signal(sig)
            _, err = p.communicate(timeout=15)
            took = time.monotonic() - t0
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 130, err.decode(errors="replace"))
        self.assertLess(took, 5.0)
        gone = wait_until(lambda: not zygotes_of(p.pid), 3)
        self.assertTrue(gone, "zygote/workers survived the interrupted runbox: %s" % zygotes_of(p.pid))
        self.assertEqual(alive(zyg), [], "processes of the batch still alive")
        with open(out) as f:
            recs = [json.loads(line) for line in f]
        self.assertEqual(sorted(r["id"] for r in recs), ["quick0", "quick1"],
                         "records after the interruption: %s" % [(r["id"], r["status"]) for r in recs])
        open(flag, "w").close()
        self.assertEqual(os.listdir(wd), [], "working dirs left after the interruption")
        run = run_runbox(["run", m, "-o", out, "-j", "2", "-q", "--resume", "--workdir", wd], timeout=60)
        self.assertEqual(run.returncode, 0, run.describe())
        with open(out) as f:
            recs = [json.loads(line) for line in f]
        self.assertEqual(sorted(r["id"] for r in recs), sorted(j["id"] for j in jobs))
        for r in recs:
            self.assertRecord(r, status="ok", stdout="quick\n" if r["id"].startswith("quick") else "done\n")

    def test_sigterm_exits_130_and_stops_workers(self):
        self.interrupt(signal.SIGTERM)

    def test_sigint_exits_130_and_stops_workers(self):
        self.interrupt(signal.SIGINT)

    def test_sighup_exits_130_and_stops_workers(self):
        self.interrupt(signal.SIGHUP)


# ==== 9.-11. big batches, resume ===================================================

class BigBatchTests(RunboxTestCase):

    def test_thousand_jobs(self):
        jobs = []
        for i in range(1000):
            if i % 10 == 7:
                jobs.append({"id": "job-%04d" % i, "source": "print(%d)\nraise ValueError('job %d')" % (i, i)})
            else:
                jobs.append({"id": "job-%04d" % i, "source": "import sys\nprint(%d)\nprint(sys.argv[1])" % i,
                             "argv": ["arg-%d" % i]})
        run = run_batch(jobs, quiet=True, timeout=170, prefix="thousand")
        self.assertRunOK(run)
        self.assertEqual(len(run.records), 1000, run.describe())
        ids = [r["id"] for r in run.records]
        self.assertEqual(len(set(ids)), 1000, "some id has more than one record")
        for i in range(1000):
            rec = self.one_record(run, "job-%04d" % i)
            if i % 10 == 7:
                self.assertRecord(rec, status="error", return_code=1, stdout="%d\n" % i,
                                  error="ValueError: job %d" % i)
            else:
                self.assertRecord(rec, status="ok", return_code=0, stdout="%d\narg-%d\n" % (i, i),
                                  stderr="", error=None)

    def test_resume_after_supervisor_sigkill(self):
        n = 200
        d = new_tmpdir("resume")
        runbox = RUNBOX
        jobs = [{"id": "r%03d" % i, "source": "import time\ntime.sleep(0.05)\nprint('job %d')" % i}
                for i in range(n)]
        m = write_manifest(os.path.join(d, "m.jsonl"), jobs)
        out = os.path.join(d, "results.jsonl")

        def complete_lines():
            try:
                with open(out, "rb") as f:
                    return f.read().count(b"\n")
            except OSError:
                return 0

        # Its own --workdir, to see that the janitor removes the working
        # dirs of the jobs a SIGKILLed runbox had in flight.
        wd = os.path.join(d, "wd")
        os.mkdir(wd)
        p = subprocess.Popen([runbox, "run", m, "-o", out, "-j", "2", "-q", "--workdir", wd],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
        try:
            got = wait_until(lambda: complete_lines() >= 40, 60)
            self.assertTrue(got, "no records appeared")
            batch_procs = descendants_of(p.pid)
            self.assertTrue(batch_procs, "no zygote under runbox")
            self.assertTrue(zygotes_of(p.pid), "no process named runbox-zygote --parent=%d" % p.pid)
            os.kill(p.pid, signal.SIGKILL)   # the process only, not its group
            p.wait(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, -9)
        left = wait_until(lambda: not zygotes_of(p.pid), 3)
        self.assertTrue(left, "after SIGKILL of runbox, its zygote/workers survive: %s" % zygotes_of(p.pid))
        # The PID namespace's init and its jobs die a moment after the zygote.
        wait_until(lambda: not alive(batch_procs), 3)
        self.assertEqual(alive(batch_procs), [], "processes of the killed batch still alive")
        emptied = wait_until(lambda: os.listdir(wd) == [], 10)
        self.assertTrue(emptied, "a SIGKILLed runbox left working dirs: %s" % os.listdir(wd))

        with open(out, "rb") as f:
            before = f.read()
        self.assertLess(before.count(b"\n"), n, "the batch finished before the kill; test is void")
        kept = before[:before.rindex(b"\n") + 1] if b"\n" in before else b""
        with open(out, "ab") as f:
            f.write(b'{"id":"r000","status":"ok","return_code":0,"timed_o')  # torn line

        run = run_runbox(["run", m, "-o", out, "-j", "2", "--resume", "--workdir", wd],
                         runbox=runbox, timeout=120)
        self.assertEqual(run.returncode, 0, run.describe())
        with open(out, "rb") as f:
            after = f.read()
        self.assertTrue(after.startswith(kept), "resume changed the records that were complete")
        self.assertTrue(after.endswith(b"\n"))
        recs = []
        for k, line in enumerate(after.decode().split("\n")[:-1], 1):
            try:
                recs.append(json.loads(line))
            except ValueError:
                self.fail("results line %d is not valid JSON: %r" % (k, line[:200]))
        ids = [r["id"] for r in recs]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        self.assertEqual(dup, [], "ids with more than one record")
        self.assertEqual(sorted(ids), sorted(j["id"] for j in jobs))
        for r in recs:
            self.assertShape(r)
            self.assertRecord(r, status="ok", stdout="job %d\n" % int(r["id"][1:]))

    def test_zygote_killed_mid_batch_is_replaced(self):
        # docs/design.md: if the zygote dies, its workers die with it, a new
        # zygote starts and the jobs in flight run again, once.
        jobs = [{"id": "z%02d" % i, "source": "import time\ntime.sleep(0.2)\nprint(%d)" % i}
                for i in range(16)]
        d = new_tmpdir("zygote")
        m = write_manifest(os.path.join(d, "m.jsonl"), jobs)
        out = os.path.join(d, "r.jsonl")
        wd = os.path.join(d, "wd")
        os.mkdir(wd)
        p = subprocess.Popen([RUNBOX, "run", m, "-o", out, "-j", "2", "-q", "--workdir", wd],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            def records():
                try:
                    with open(out) as f:
                        return f.read().count("\n")
                except OSError:
                    return 0
            self.assertTrue(wait_until(lambda: records() >= 4, 30), "no records appeared")
            zygote = [pid for pid in children_of(p.pid) if pid in zygotes_of(p.pid)]
            self.assertEqual(len(zygote), 1, "expected one zygote child of runbox")
            os.kill(zygote[0], signal.SIGKILL)
            _, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 0, err.decode(errors="replace"))
        with open(out) as f:
            recs = [json.loads(line) for line in f]
        self.assertEqual(sorted(r["id"] for r in recs), [j["id"] for j in jobs],
                         "one record per job expected")
        for r in recs:
            self.assertShape(r)
            self.assertRecord(r, status="ok", stdout="%d\n" % int(r["id"][1:]))
        self.assertEqual(os.listdir(wd), [], "working dirs left behind")

    def test_resume_skips_done_and_invalid_lines(self):
        d = new_tmpdir("resume2")
        jobs = [{"id": "a", "source": "print('a')"}, "garbage line", {"id": "b", "source": "print('b')"},
                {"id": "a", "source": "print('dup')"}, {"id": "bad", "source": "x", "timeout": -1}]
        m = write_manifest(os.path.join(d, "m.jsonl"), jobs)
        out = os.path.join(d, "r.jsonl")
        first = run_runbox(["run", m, "-o", out, "-q"])
        self.assertEqual(first.returncode, 0, first.describe())
        with open(out, "rb") as f:
            text1 = f.read()
        self.assertEqual(text1.count(b"\n"), 5)
        second = run_runbox(["run", m, "-o", out, "-q", "--resume"])
        self.assertEqual(second.returncode, 0, second.describe())
        with open(out, "rb") as f:
            self.assertEqual(f.read(), text1, "resume of a finished batch must add nothing")

    def test_mixed_300_jobs(self):
        # Every shared-batch case (each checked against its verdict there),
        # file jobs, invalid lines and a blank line, 300 records in all.
        cases = []
        for k, v in SHARED_JOBS.items():
            if k in ("io_stdin_big", "to_cpu_ignored", "mem_growing"):
                continue   # the slow or heavy ones: covered in the shared batch
            cases.append((k, v))
        fast = [c for c in cases if "timeout" not in c[1] and c[0] != "to_cpu"]
        slow = [c for c in cases if c not in fast]
        d = new_tmpdir("mixed")
        with open(os.path.join(d, "prog.py"), "w") as f:
            f.write("import sys\nprint('file', sys.argv[1:])\n")
        expected = {}
        lines = []
        i = 0
        for name, fields in slow:          # each slow case twice
            for _ in range(2):
                job_id = "m%03d-%s" % (i, name)
                lines.append(dict(id=job_id, **fields))
                expected[job_id] = name
                i += 1
        invalid_lines = ['{"id": "inv-%d", "source": 1}', "not json %d", '{"id": "inv-t%d", "source": "x", "timeout": 0}']
        while len(lines) < 300:
            if i % 23 == 5:
                tmpl = invalid_lines[i % 3]
                lines.append(tmpl % i)
                expected[("line", len(lines))] = "invalid"
            elif i % 17 == 3:
                job_id = "m%03d-file" % i
                lines.append({"id": job_id, "file": "prog.py", "argv": [str(i)]})
                expected[job_id] = "file:%d" % i
            else:
                name, fields = fast[i % len(fast)]
                job_id = "m%03d-%s" % (i, name)
                lines.append(dict(id=job_id, **fields))
                expected[job_id] = name
            i += 1
        lines.insert(150, "")
        reference = shared_batch()
        self.assertRunOK(reference)
        run = run_batch(lines, manifest_dir=d, quiet=True, prefix="mixed")
        self.assertRunOK(run)
        self.assertEqual(len(run.records), 300, run.describe())
        for rec in run.records:
            self.assertShape(rec, run)
        for key, name in expected.items():
            with self.subTest(key):
                if isinstance(key, tuple):
                    line_no = key[1] + (1 if key[1] > 150 else 0)
                    recs = run.by_line(line_no)
                    self.assertEqual(len(recs), 1, "line %d: %s" % (line_no, recs))
                    self.assertEqual(recs[0]["status"], "invalid")
                    continue
                rec = self.one_record(run, key)
                if name.startswith("file:"):
                    self.assertRecord(rec, status="ok", stdout="file ['%s']\n" % name[5:])
                    continue
                ref = self.one_record(reference, name)
                # Same program, same verdict as when it ran in the shared batch.
                # (out_one_past_limit races its own kill: see
                # test_output_limit_verdict_is_stable.)
                if name != "out_one_past_limit":
                    self.assertRecord(rec, return_code=ref["return_code"], signal=ref["signal"])
                self.assertRecord(rec, status=ref["status"], timed_out=ref["timed_out"],
                                  stdout_truncated=ref["stdout_truncated"],
                                  stderr_truncated=ref["stderr_truncated"], doc=ref["doc"])
                # env_environment prints its own working dir, env_identity its
                # slot's uid.
                if name not in ("env_environment", "env_identity"):
                    self.assertRecord(rec, stdout=ref["stdout"])


# ==== 12. working dirs ==============================================================

class CasesTests(RunboxTestCase):
    """Jobs with stdin/stdout test cases: a process per case, outputs compared
    in the supervisor (docs/manifest.md, "Test cases")."""
    _run = None

    JOBS = [
        {"id": "sum_ok", "source": "a, b = map(int, input().split())\nprint(a + b)",
         "cases": [{"stdin": "1 2\n", "expected_stdout": "3\n"},
                   {"stdin": "10 20", "expected_stdout": "  30  "},
                   {"stdin": "-1 1\n", "expected_stdout": "0"}]},
        {"id": "sum_wrong", "source": "a, b = map(int, input().split())\nprint(a - b)",
         "cases": [{"stdin": "2 2\n", "expected_stdout": "4\n"}, {"stdin": "0 0\n", "expected_stdout": "0"}]},
        {"id": "early", "source": "a, b = map(int, input().split())\nprint(a * b)", "early_stop": True,
         "cases": [{"stdin": "2 2", "expected_stdout": "4"}, {"stdin": "1 5", "expected_stdout": "6"},
                   {"stdin": "3 3", "expected_stdout": "9"}]},
        {"id": "floats", "source": "print(1 / 3, 2 / 3)", "float_tolerance": 1e-6,
         "cases": [{"expected_stdout": "0.333333 0.666667"}]},
        {"id": "floats_strict", "source": "print(1 / 3)", "cases": [{"expected_stdout": "0.333333"}]},
        {"id": "exact", "source": "print('x ')", "compare": "exact",
         "cases": [{"expected_stdout": "x\n"}, {"expected_stdout": "x \n"}]},
        {"id": "crash", "source": "x = int(input())\nprint(10 // x)",
         "cases": [{"stdin": "2", "expected_stdout": "5"}, {"stdin": "0", "expected_stdout": "0"}]},
        {"id": "slow", "source": "import time\nn = int(input())\ntime.sleep(n)\nprint(n)", "timeout": 0.5,
         "cases": [{"stdin": "0", "expected_stdout": "0"}, {"stdin": "3", "expected_stdout": "3"}]},
        {"id": "sees_no_answer", "source": "import os, sys\nprint(sorted(os.environ), sys.argv, sys.stdin.read())",
         "argv": ["x"], "cases": [{"stdin": "in", "expected_stdout": "SECRET-ANSWER-4711"}]},
    ]

    @classmethod
    def batch(cls):
        if cls._run is None:
            cls._run = run_batch(cls.JOBS, prefix="cases")
        return cls._run

    def rec(self, job_id):
        run = self.batch()
        self.assertRunOK(run)
        return self.one_record(run, job_id)

    def verdicts(self, rec):
        return [c["verdict"] for c in rec["cases"]]

    def test_all_cases_pass(self):
        r = self.rec("sum_ok")
        self.assertEqual((r["status"], r["passed"], r["cases_passed"]), ("ok", True, 3), fmt_record(r))
        self.assertEqual(self.verdicts(r), ["passed"] * 3)
        self.assertEqual([c["stdout"] for c in r["cases"]], ["3\n", "30\n", "0\n"])
        # Sums over the cases; the last case speaks for the rest.
        self.assertAlmostEqual(r["runtime"], sum(c["runtime"] for c in r["cases"]), places=5)
        self.assertEqual(r["stdout"], "0\n")

    def test_wrong_output_is_not_a_crash(self):
        r = self.rec("sum_wrong")
        self.assertEqual((r["status"], r["passed"], r["cases_passed"]), ("ok", False, 1), fmt_record(r))
        self.assertEqual(self.verdicts(r), ["wrong_output", "passed"])
        self.assertEqual(r["stdout"], "0\n")  # the deciding case: the first that failed

    def test_early_stop_runs_no_more_cases(self):
        r = self.rec("early")
        self.assertEqual(self.verdicts(r), ["passed", "wrong_output", "not_run"], fmt_record(r))
        self.assertFalse(r["passed"])
        self.assertNotIn("stdout", r["cases"][2])

    def test_float_tolerance(self):
        self.assertTrue(self.rec("floats")["passed"])
        self.assertEqual(self.verdicts(self.rec("floats_strict")), ["wrong_output"])

    def test_exact_comparison(self):
        self.assertEqual(self.verdicts(self.rec("exact")), ["wrong_output", "passed"])

    def test_a_crashing_case_decides_the_record(self):
        r = self.rec("crash")
        self.assertEqual(self.verdicts(r), ["passed", "error"], fmt_record(r))
        self.assertEqual((r["status"], r["return_code"]), ("error", 1))
        self.assertIn("ZeroDivisionError", r["error"])

    def test_each_case_has_its_own_time_limit(self):
        r = self.rec("slow")
        self.assertEqual(self.verdicts(r), ["passed", "timeout"], fmt_record(r))
        self.assertEqual(r["status"], "timeout")
        self.assertTrue(r["cases"][1]["timed_out"])

    def test_expected_output_never_reaches_the_job(self):
        r = self.rec("sees_no_answer")
        out = r["cases"][0]["stdout"]
        self.assertNotIn("SECRET", out, fmt_record(r))
        self.assertIn("['cases_0.py', 'x'] in", out.replace("sees_no_answer.py", "cases_0.py"))

    def test_resume_skips_jobs_with_cases(self):
        d = new_tmpdir("cases-resume")
        jobs = [self.JOBS[0], self.JOBS[1]]
        first = run_batch(jobs[:1], manifest_dir=d, prefix="cases-resume")
        self.assertRunOK(first)
        again = run_runbox(["run", first.manifest_path, "-o", first.results_path, "--resume", "-q"])
        self.assertRunOK(again)
        write_manifest(first.manifest_path, jobs)
        third = run_runbox(["run", first.manifest_path, "-o", first.results_path, "--resume", "-q"])
        self.assertRunOK(third)
        with open(first.results_path) as f:
            ids = [json.loads(l)["id"] for l in f]
        self.assertEqual(sorted(ids), ["sum_ok", "sum_wrong"])


class WorkingDirTests(SharedBatchCase):

    def test_working_dir_modes(self):
        # docs/sandbox.md: the dir holding the working dirs is 0711 (reach
        # your own, list none); a job's own dir is private to it.
        self.assertRecord(self.rec("env_workdir_modes"), status="ok", stdout="0o711 0o700 True\n")

    def test_fresh_private_working_dir_removed_after_run(self):
        root = new_tmpdir("workroot")
        jobs = [
            {"id": "w1", "source": src("""
                import os, json
                before = sorted(os.listdir('.'))
                os.makedirs('sub/dir')
                open('sub/dir/file.txt', 'w').write('x' * 1000)
                open('top.txt', 'w').write('hello')
                print(json.dumps({'cwd': os.getcwd(), 'before': before,
                                  'home': os.environ.get('HOME'), 'tmpdir': os.environ.get('TMPDIR'),
                                  'after': sorted(os.listdir('.'))}))
                """)},
            {"id": "w2", "source": src("""
                import os, json, tempfile
                before = sorted(os.listdir('.'))
                t = tempfile.mkstemp()[1]
                print(json.dumps({'cwd': os.getcwd(), 'before': before,
                                  'mkstemp_in_cwd': os.path.dirname(t) == os.getcwd(),
                                  'top_exists': os.path.exists('top.txt')}))
                """)},
        ]
        run = run_batch(jobs, ["--workdir", root], jobs_n=1, prefix="wd")
        self.assertRunOK(run)
        r1 = self.one_record(run, "w1")
        r2 = self.one_record(run, "w2")
        self.assertRecord(r1, status="ok")
        self.assertRecord(r2, status="ok")
        a, b = json.loads(r1["stdout"]), json.loads(r2["stdout"])
        self.assertEqual(a["before"], [], fmt_record(r1))
        self.assertEqual(a["after"], ["sub", "top.txt"])
        self.assertEqual(a["home"], a["cwd"])
        self.assertEqual(a["tmpdir"], a["cwd"])
        self.assertTrue(a["cwd"].startswith(root + "/"), "working dir %s not under --workdir %s" % (a["cwd"], root))
        self.assertEqual(b["before"], [], fmt_record(r2))
        self.assertFalse(b["top_exists"])
        self.assertTrue(b["mkstemp_in_cwd"])
        self.assertNotEqual(a["cwd"], b["cwd"])
        for cwd in (a["cwd"], b["cwd"]):
            self.assertFalse(os.path.exists(cwd), "working dir %s left behind" % cwd)
        self.assertEqual(os.listdir(root), [], "left under --workdir: %s" % os.listdir(root))

    def test_a_deep_tree_left_behind_does_not_hold_up_other_jobs(self):
        # Removing what a job left is the janitor's work, not the event
        # loop's: the jobs after it keep their clocks (docs/design.md).
        root = new_tmpdir("workroot")
        jobs = [{"id": "tree", "source": src("""
            import os
            os.chdir(os.getcwd())
            for i in range(1500):
                os.mkdir('d')
                os.chdir('d')
                for j in range(3):
                    open('f%d' % j, 'w').close()
            print('planted')
            """)}]
        jobs += [{"id": "nap%d" % i, "source": "import time; time.sleep(0.3); print('up')",
                  "timeout": 4} for i in range(12)]
        run = run_batch(jobs, ["--workdir", root], jobs_n=2, prefix="tree")
        self.assertRunOK(run)
        self.assertRecord(self.one_record(run, "tree"), status="ok", stdout="planted\n")
        for i in range(12):
            self.assertRecord(self.one_record(run, "nap%d" % i), status="ok", stdout="up\n")
        self.assertEqual(os.listdir(root), [], "left under --workdir: %s" % os.listdir(root))

    def test_a_relative_workdir_is_made_absolute(self):
        base = new_tmpdir("relwd")
        os.mkdir(os.path.join(base, "rel"))
        run = run_batch([{"id": "w", "source": "import os\nopen('x', 'w').write('1')\nprint(os.getcwd())"}],
                        ["--workdir", "rel"], cwd=base, prefix="relwd")
        self.assertRunOK(run)
        rec = self.one_record(run, "w")
        self.assertRecord(rec, status="ok")
        self.assertTrue(rec["stdout"].startswith(os.path.join(base, "rel") + "/runbox-"), fmt_record(rec))

    def test_concurrent_job_cannot_see_another_jobs_files(self):
        root = new_tmpdir("workroot")
        jobs = [
            {"id": "writer", "source": src("""
                import os, time
                open('secret.txt', 'w').write('s3cr3t')
                print(os.getpid(), os.getcwd(), flush=True)
                time.sleep(1.5)
                """)},
            {"id": "snoop", "source": src(r"""
                import os, time
                time.sleep(0.6)
                found, pids = [], []
                print('listing', sorted(os.listdir('.')))
                try:
                    for s in os.listdir('..'):
                        for root, dirs, files in os.walk(os.path.join('..', s)):
                            if 'secret.txt' in files:
                                found.append(os.path.join(root, 'secret.txt'))
                except OSError:
                    pass
                for p in os.listdir('/proc'):
                    if not p.isdigit() or int(p) == os.getpid():
                        continue
                    pids.append(int(p))
                    try:
                        if 'secret.txt' in os.listdir('/proc/%s/cwd' % p):
                            found.append('/proc/%s/cwd' % p)
                        found.append(open('/proc/%s/cwd/secret.txt' % p).read())
                    except OSError:
                        pass
                print('FOUND' if found else 'nothing found', found)
                print('pids', sorted(pids))
                """)},
        ]
        run = run_batch(jobs, ["--workdir", root], jobs_n=2, prefix="snoop")
        self.assertRunOK(run)
        w = self.one_record(run, "writer")
        s = self.one_record(run, "snoop")
        self.assertRecord(w, status="ok")
        self.assertRecord(s, status="ok", stdout=contains("listing []\n", "nothing found"))
        writer_pid = int(w["stdout"].split()[0])
        pids = json.loads(s["stdout"].split("pids ")[1])
        self.assertIn(writer_pid, pids, "the two jobs did not overlap; test is void\n" + fmt_record(s))
        self.assertEqual(os.listdir(root), [])


def tearDownModule():
    cleanup_tmp_root()


if __name__ == "__main__":
    if not os.access(RUNBOX, os.X_OK):
        sys.stderr.write("runbox binary not found at %s (set RUNBOX or build first)\n" % RUNBOX)
        sys.exit(1)
    t0 = time.monotonic()
    prog = unittest.main(verbosity=2, exit=False)
    result = prog.result
    # A short list at the very end: meson prints only the tail of the log.
    bad = result.failures + result.errors + [(t, "unexpected success") for t in result.unexpectedSuccesses]
    if bad:
        sys.stderr.write("\n==== %d failing test(s); details above ====\n" % len(bad))
        for test, text in bad:
            lines = [x for x in str(text).splitlines() if x.strip()]
            at = next((i for i, x in enumerate(lines) if x.startswith(("AssertionError", "Error"))
                       or "Error:" in x), len(lines) - 1)
            reason = lines[at:at + 1] + [x.strip() for x in lines[at + 1:at + 4] if x.startswith("  - ")]
            sys.stderr.write("  %s\n%s\n" % (test.id().replace("__main__.", ""),
                                               "\n".join("      " + x[:300] for x in reason)))
    sys.stderr.write("e2e suite: %d tests, %.1f s, runbox %s\n" % (
        result.testsRun, time.monotonic() - t0, RUNBOX))
    sys.exit(0 if result.wasSuccessful() else 1)
