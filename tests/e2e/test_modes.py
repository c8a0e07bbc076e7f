#!/usr/bin/env python3
"""Every job mode against what python3 does with the same program: python3
DIR, python3 APP.zip, python3 -m MOD, runpy.run_path with init_globals; and
the runner's other features: package, capture, files, tracked files, repeats
and command lists (docs/manifest.md).

Only harmless programs run under a bare python3 here."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from rbtest import (  # noqa: E402
    IS_ROOT, RunboxTestCase, cleanup_tmp_root, contains, fmt_record, layers, new_tmpdir, run_batch)

PYTHON = "/usr/bin/python3"

MAIN = """import sys, os
import helper
print("name", __name__)
print("argv", sys.argv[1:])
print("argv0 is the path", sys.argv[0] == os.environ.get("EXPECT_ARGV0", sys.argv[0]))
print("file", os.path.basename(__file__))
print("spec", __spec__.name if __spec__ else None)
print("helper", helper.VALUE)
code = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 0
sys.exit(code)
"""

MODULE = """import sys, os
print("name", __name__)
print("argv", [os.path.basename(sys.argv[0])] + sys.argv[1:])
print("package", __package__, "spec", __spec__.name)
from . import sibling
print("sibling", sibling.X)
if "--fail" in sys.argv:
    raise ValueError("asked to fail")
"""


def python3(args, cwd, stdin=b""):
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    p = subprocess.run([PYTHON] + args, cwd=cwd, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60, env=env)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class ModeParityTests(RunboxTestCase):
    """The same program, under python3 and as a runbox job: same stdout and
    exit code."""

    @classmethod
    def setUpClass(cls):
        cls.d = new_tmpdir("modes")
        os.chmod(cls.d, 0o755)
        # python3 DIR: a directory with __main__.py and a sibling module.
        cls.app = os.path.join(cls.d, "app")
        os.mkdir(cls.app)
        with open(os.path.join(cls.app, "__main__.py"), "w") as f:
            f.write(MAIN)
        with open(os.path.join(cls.app, "helper.py"), "w") as f:
            f.write("VALUE = 'from the app dir'\n")
        # python3 APP.zip: the same, zipped, behind a shebang line as zipapps are.
        cls.zip = os.path.join(cls.d, "app.pyz")
        with open(cls.zip, "wb") as raw:
            raw.write(b"#!/usr/bin/env python3\n")
            with zipfile.ZipFile(raw, "w") as z:
                z.writestr("__main__.py", MAIN)
                z.writestr("helper.py", "VALUE = 'from the zip'\n")
        # python3 -m pkg.tool
        pkg = os.path.join(cls.d, "pkg")
        os.mkdir(pkg)
        for name, text in (("__init__.py", ""), ("tool.py", MODULE), ("sibling.py", "X = 7\n"),
                           ("__main__.py", "print('pkg main ran')\n")):
            with open(os.path.join(pkg, name), "w") as f:
                f.write(text)
        nomain = os.path.join(cls.d, "nomain")
        os.mkdir(nomain)
        open(os.path.join(nomain, "__init__.py"), "w").close()
        for root, dirs, files in os.walk(cls.d):
            for n in dirs + files:
                os.chmod(os.path.join(root, n), 0o755)

    def job_and_python3(self, job, py_args, cwd=None):
        run = run_batch([job], manifest_dir=new_tmpdir("modes-run"))
        self.assertRunOK(run)
        rec = self.one_record(run, job["id"])
        code, out, err = python3(py_args, cwd or self.d)
        return rec, code, out, err

    def assertSame(self, rec, code, out, err):
        self.assertEqual(rec["stdout"], out, "stdout differs from python3's\n%s\npython3 stderr:\n%s"
                         % (fmt_record(rec), err))
        self.assertEqual(rec["return_code"], code, fmt_record(rec))

    def test_directory_with_main(self):
        for args in (["a", "b"], ["3"]):
            rec, code, out, err = self.job_and_python3(
                {"id": "dir", "file": self.app, "argv": args}, [self.app] + args)
            self.assertSame(rec, code, out, err)
            self.assertIn("name __main__\nargv %s\n" % args, rec["stdout"])
            self.assertIn("file __main__.py\nspec __main__\nhelper from the app dir\n", rec["stdout"])

    def test_zip_app(self):
        rec, code, out, err = self.job_and_python3({"id": "zip", "file": self.zip, "argv": ["z"]},
                                                  [self.zip, "z"])
        self.assertSame(rec, code, out, err)
        self.assertIn("helper from the zip", rec["stdout"])

    def test_module(self):
        job = {"id": "mod", "module": "pkg.tool", "argv": ["x"], "python_path": [self.d]}
        rec, code, out, err = self.job_and_python3(job, ["-m", "pkg.tool", "x"])
        self.assertSame(rec, code, out, err)
        self.assertIn("name __main__\nargv ['tool.py', 'x']\npackage pkg spec pkg.tool\nsibling 7\n", rec["stdout"])

    def test_module_that_raises(self):
        job = {"id": "modfail", "module": "pkg.tool", "argv": ["--fail"], "python_path": [self.d]}
        rec, code, out, err = self.job_and_python3(job, ["-m", "pkg.tool", "--fail"])
        self.assertSame(rec, code, out, err)
        self.assertEqual((rec["status"], rec["error"]), ("error", "ValueError: asked to fail"))
        # The traceback shows runpy's frames, as python3's does.
        self.assertIn("runpy", rec["stderr"])
        self.assertIn("runpy", err)

    def test_package_runs_its_main(self):
        job = {"id": "pkgmain", "module": "pkg", "python_path": [self.d]}
        rec, code, out, err = self.job_and_python3(job, ["-m", "pkg"])
        self.assertSame(rec, code, out, err)
        self.assertEqual(rec["stdout"], "pkg main ran\n")

    def test_package_without_main(self):
        job = {"id": "nomain", "module": "nomain", "python_path": [self.d]}
        rec, code, out, err = self.job_and_python3(job, ["-m", "nomain"])
        self.assertEqual(rec["return_code"], code)
        self.assertEqual(code, 1)
        self.assertIn("cannot be directly executed", rec["stderr"])
        self.assertIn("cannot be directly executed", err)

    def test_missing_module(self):
        rec, code, out, err = self.job_and_python3({"id": "missing", "module": "no_such_mod_xyz"},
                                                  ["-m", "no_such_mod_xyz"])
        self.assertEqual((rec["return_code"], code), (1, 1))
        self.assertEqual(rec["status"], "error")
        self.assertEqual(rec["error"], "ModuleNotFoundError: No module named 'no_such_mod_xyz'")
        self.assertTrue(rec["stderr"].endswith(": No module named no_such_mod_xyz\n"), rec["stderr"])
        self.assertTrue(err.endswith(": No module named no_such_mod_xyz\n"), err)

    def test_file_matches_runpy_run_path_with_init_globals(self):
        script = os.path.join(self.d, "g.py")
        with open(script, "w") as f:
            f.write("import sys\nprint(__name__, sys.argv[1:], greeting, sorted(numbers))\n")
        os.chmod(script, 0o755)
        g = {"greeting": "hi", "numbers": [3, 1, 2]}
        job = {"id": "runpy", "file": script, "argv": ["a"], "globals": g}
        runner = ("import runpy, sys, json\nsys.argv = [%r, 'a']\n"
                  "runpy.run_path(%r, init_globals=json.loads(%r), run_name='__main__')\n"
                  % (script, script, json.dumps(g)))
        rec, code, out, err = self.job_and_python3(job, ["-c", runner])
        self.assertSame(rec, code, out, err)
        self.assertEqual(rec["stdout"], "__main__ ['a'] hi [1, 2, 3]\n")


class RunnerFeatureTests(RunboxTestCase):
    _run = None

    @classmethod
    def batch(cls):
        if cls._run is None:
            d = new_tmpdir("features")
            os.chmod(d, 0o755)
            lib = os.path.join(d, "lib")
            os.mkdir(lib)
            with open(os.path.join(lib, "__init__.py"), "w") as f:
                f.write("")
            with open(os.path.join(lib, "util.py"), "w") as f:
                f.write("def helper():\n    return 42\n")
            for n in ("lib", "lib/__init__.py", "lib/util.py"):
                os.chmod(os.path.join(d, n), 0o755)
            jobs = [
                {"id": "package", "source": "from . import util\nprint(util.helper(), __package__, __path__[0].endswith('lib'))",
                 "package": "lib", "path": "lib/main.py", "python_path": ["."]},
                {"id": "init_package", "source": "x", "package": "lib", "path": "lib/__init__.py"},
                {"id": "capture", "source": "import os\nnums = [1, 2.5, None]\nd = {'k': 'v'}\nmod = os\n"
                                            "class Bad:\n    def __repr__(self): raise ValueError('no repr')\n"
                                            "bad = Bad()\nbig = 'x' * 2000",
                 "capture": ["nums", "d", "mod", "bad", "absent", "big"], "output_limit_kb": 1},
                {"id": "capture_after_error", "source": "partial = 'set'\n1 / 0\nnever = 1",
                 "capture": ["partial", "never"]},
                {"id": "files", "source": "import os\nprint(open('data/in.txt').read())\n"
                                          "open('out/result.txt', 'w').write('result!')\n"
                                          "os.symlink('/etc/passwd', 'leak')\nos.mkfifo('fifo')\n"
                                          "open('big.txt', 'w').write('y' * 5000)",
                 "files": {"data/in.txt": "hello files", "out/.keep": ""},
                 "tracked_files": ["out/result.txt", "leak", "fifo", "absent.txt", "big.txt"],
                 "output_limit_kb": 1},
                {"id": "repeat", "source": "import time\ntime.sleep(0.05)\nprint('r')", "num_times": 4},
                {"id": "commands", "source": "import sys\nn = int(input())\n"
                                             "open('log', 'a').write(str(n))\n"
                                             "print(open('log').read(), sys.argv[1:])\n"
                                             "import time\ntime.sleep(n / 10)\nsys.exit(0 if n < 3 else 1)",
                 "commands": [{"stdin": "1", "argv": ["one"]}, {"stdin": "2"},
                              {"stdin": "3", "timeout": 5}, {"stdin": "4"}],
                 "early_stop": True, "argv": ["default"], "tracked_files": ["log"], "files": {"log": "0"}},
                {"id": "commands_timeout", "source": "import time\ntime.sleep(float(input()))\nprint('done')",
                 "commands": [{"stdin": "0"}, {"stdin": "5", "timeout": 0.3}, {"stdin": "0"}]},
                {"id": "libpath", "source": "import util\nprint(util.helper())", "python_path": ["lib"]},
                # A tracked path that is not UTF-8 (a raw byte 0xE9 in the
                # manifest line), in a single run, a repeated job and a command list.
                {"id": "raw_path", "source": "open(b'caf\\xe9.txt', 'wb').write(b'x')",
                 "tracked_files": ["caf\udce9.txt"]},
                {"id": "raw_path_repeat", "source": "open(b'caf\\xe9.txt', 'wb').write(b'x' * 2000)",
                 "num_times": 2, "tracked_files": ["caf\udce9.txt"], "output_limit_kb": 1},
                {"id": "raw_path_commands", "source": "open(b'caf\\xe9.txt', 'ab').write(b'y')",
                 "commands": [{}, {}], "tracked_files": ["caf\udce9.txt"]},
            ]
            cls._run = run_batch(jobs, manifest_dir=d, prefix="features")
        return cls._run

    def rec(self, job_id):
        run = self.batch()
        self.assertRunOK(run)
        return self.one_record(run, job_id)

    def test_package(self):
        r = self.rec("package")
        self.assertEqual((r["status"], r["stdout"]), ("ok", "42 lib True\n"), fmt_record(r))

    def test_init_with_package_is_invalid(self):
        r = self.rec("init_package")
        self.assertEqual(r["status"], "invalid")
        self.assertIn("__init__.py cannot have package specified", r["error"])

    def test_capture(self):
        r = self.rec("capture")
        ns = r["namespace"]
        self.assertEqual(ns["nums"], [1, 2.5, None], fmt_record(r))
        self.assertEqual(ns["d"], {"k": "v"})
        self.assertEqual(ns["mod"], {"$repr": "<module 'os' (frozen)>"})
        self.assertEqual(ns["bad"], {"$error": "ValueError: no repr"})
        self.assertNotIn("absent", ns)
        # Past the 1 KB bound: named, with the size that did not fit, never dropped silently.
        self.assertEqual(ns["big"], {"$truncated": 2002})
        self.assertIs(r["namespace_truncated"], True)

    def test_capture_after_an_exception(self):
        r = self.rec("capture_after_error")
        self.assertEqual(r["status"], "error")
        self.assertEqual(r["namespace"], {"partial": "set"})

    def test_files_and_tracked_files(self):
        r = self.rec("files")
        self.assertEqual(r["stdout"], "hello files\n", fmt_record(r))
        tracked = r["tracked_files"]
        self.assertEqual(tracked["out/result.txt"], "result!")
        # A symlink the job planted, a FIFO and an absent file are left out.
        self.assertEqual(sorted(tracked), ["big.txt", "out/result.txt"])
        self.assertEqual(len(tracked["big.txt"]), 1024)
        self.assertEqual(r["tracked_files_truncated"], ["big.txt"])

    def test_repeats(self):
        r = self.rec("repeat")
        self.assertEqual(len(r["runtimes"]), 4, fmt_record(r))
        self.assertEqual(len(r["runs"]), 4)
        self.assertTrue(all(t >= 0.05 for t in r["runtimes"]), r["runtimes"])
        self.assertAlmostEqual(r["mean_runtime"], sum(r["runtimes"]) / 4, places=5)
        self.assertTrue(all(run["status"] == "ok" and run["stdout"] == "r\n" for run in r["runs"]))

    def test_commands_share_a_dir_and_stop_early(self):
        r = self.rec("commands")
        cmds = r["commands"]
        self.assertEqual([c["status"] for c in cmds], ["ok", "ok", "error", "not_run"], fmt_record(r))
        self.assertEqual(cmds[0]["stdout"], "01 ['one']\n")
        self.assertEqual(cmds[1]["stdout"], "012 ['default']\n")
        self.assertEqual(cmds[2]["return_code"], 1)
        self.assertEqual((r["status"], r["return_code"]), ("error", 1))  # the deciding command
        self.assertEqual(r["tracked_files"], {"log": "0123"})

    def test_each_command_has_its_own_timeout(self):
        r = self.rec("commands_timeout")
        self.assertEqual([c["status"] for c in r["commands"]], ["ok", "timeout", "ok"], fmt_record(r))
        self.assertEqual(r["status"], "timeout")

    def test_tracked_paths_that_are_not_utf8(self):
        # The record is UTF-8 (parse_records checks every line); the path's
        # byte comes back as \udce9, as the data's bytes do.
        r = self.rec("raw_path")
        self.assertEqual(r["tracked_files"], {"caf\udce9.txt": "x"}, fmt_record(r))
        r = self.rec("raw_path_repeat")
        self.assertEqual(r["tracked_files"], {"caf\udce9.txt": "x" * 1024}, fmt_record(r))
        self.assertEqual(r["tracked_files_truncated"], ["caf\udce9.txt"])
        r = self.rec("raw_path_commands")
        self.assertEqual(r["tracked_files"], {"caf\udce9.txt": "yy"}, fmt_record(r))

    def test_python_path_relative_to_the_manifest(self):
        self.assertEqual(self.rec("libpath")["stdout"], "42\n")


class ClosedDirectoryTests(RunboxTestCase):
    """As root, each job runs under a uid of its own, which cannot pass
    through a 0700 directory above its program (root's home, in most
    containers). With namespaces, the job is given its program's tree and
    runs it as python3 does: a file importing the module beside it, a
    directory app, a zip app; nothing else of the closed directory is
    visible. Without them, the record says which directory is in the way
    and what to do."""

    @classmethod
    def setUpClass(cls):
        if not IS_ROOT:
            raise unittest.SkipTest("needs root: jobs run under uids of their own only when runbox is root")
        cls.closed = os.path.join(new_tmpdir("closed"), "home")
        proj = os.path.join(cls.closed, "proj")
        app = os.path.join(cls.closed, "app")
        os.makedirs(proj)
        os.makedirs(app)
        os.chmod(cls.closed, 0o700)
        with open(os.path.join(cls.closed, "private.txt"), "w") as f:
            f.write("not for jobs\n")
        with open(os.path.join(proj, "main.py"), "w") as f:
            f.write("import os, sys, helper\n"
                    "print('main', helper.X, sys.argv[0])\n"
                    "closed = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))\n"
                    "try:\n"
                    "    names = os.listdir(closed)\n"
                    "except PermissionError:\n"
                    "    names = []\n"
                    "print('others visible', any(n != 'proj' for n in names))\n"
                    "print('private', os.path.exists(os.path.join(closed, 'private.txt')))\n")
        with open(os.path.join(proj, "helper.py"), "w") as f:
            f.write("X = 6 * 7\n")
        with open(os.path.join(app, "__main__.py"), "w") as f:
            f.write("import part\nprint('dir app', part.Y)\n")
        with open(os.path.join(app, "part.py"), "w") as f:
            f.write("Y = 'here'\n")
        cls.zip = os.path.join(proj, "app.zip")
        with zipfile.ZipFile(cls.zip, "w") as z:
            z.writestr("__main__.py", "print('zip app')\n")
        cls.programs = {"file": os.path.join(proj, "main.py"), "dir": app, "zip": cls.zip}
        jobs = [dict(id=k, file=v) for k, v in cls.programs.items()]
        cls.with_ns = run_batch(jobs, prefix="closed-ns")
        cls.without_ns = run_batch(jobs, ["--no-namespaces"], prefix="closed-nons")

    def test_programs_run_as_python3_runs_them(self):
        if not layers().get("user_namespace"):
            self.skipTest("no user namespaces on this machine: the record says what to do "
                          "(test_without_namespaces_the_record_says_what_to_do)")
        for job_id, path in self.programs.items():
            code, out, err = python3([path], cwd="/")
            r = self.one_record(self.with_ns, job_id)
            if job_id == "file":
                # The same, but for what the closed dir shows: python3 (root)
                # sees all of it, the job nothing beyond the way to its program.
                out = out.replace("others visible True", "others visible False").replace(
                    "private True", "private False")
            self.assertRecord(r, status="ok" if code == 0 else "error", return_code=code, stdout=out)

    def test_without_namespaces_the_record_says_what_to_do(self):
        for job_id in self.programs:
            r = self.one_record(self.without_ns, job_id)
            self.assertRecord(r, status="error", return_code=2, error=contains(
                "Permission denied", "cannot pass through %s" % self.closed, "chmod o+x %s" % self.closed,
                "namespaces on"))


class TracebackSourceLineTests(RunboxTestCase):
    """Tracebacks show each frame's source line, as python3 shows a file's:
    for source jobs (no file at all), file jobs, and eval's programs and
    checks, in stderr and in error_detail."""

    @classmethod
    def setUpClass(cls):
        d = new_tmpdir("tb")
        cls.file = os.path.join(d, "raises.py")
        with open(cls.file, "w") as f:
            f.write("def half(x):\n    return 1 / x\n\nhalf(0)\n")
        cls.run_ = run_batch([
            dict(id="source", source="def half(x):\n    return 1 / x\n\nhalf(0)\n"),
            dict(id="file", file=cls.file),
        ], prefix="tb")

    def test_source_and_file_jobs(self):
        code, _, err = python3([self.file], cwd="/")
        self.assertEqual(code, 1)
        for job_id in ("source", "file"):
            r = self.one_record(self.run_, job_id)
            for field in ("stderr", "error_detail"):
                self.assertIn("    half(0)\n", r[field], fmt_record(r))
                self.assertIn("    return 1 / x\n", r[field], fmt_record(r))
        # The file job's stderr is python3's, byte for byte.
        self.assertEqual(self.one_record(self.run_, "file")["stderr"], err)

    def test_a_failing_humaneval_sample_shows_its_assert(self):
        problems = os.path.join(os.environ.get("RUNBOX_DATASETS") or os.path.join(
            os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "data"),
            "HumanEval.jsonl.gz")
        d = new_tmpdir("tb-eval")
        samples = os.path.join(d, "samples.jsonl")
        with open(samples, "w") as f:
            f.write(json.dumps({"task_id": "HumanEval/0", "completion": "    return False\n"}) + "\n")
        out = os.path.join(d, "results.jsonl")
        p = subprocess.run([os.environ.get("RUNBOX", "build/runbox"), "eval", "--problems", problems,
                            "--samples", samples, "-o", out, "-q"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        with open(out) as f:
            rec = json.loads(f.readline())
        self.assertFalse(rec["passed"])
        self.assertIn("    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True\n",
                      rec["error_detail"], rec["error_detail"])


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        cleanup_tmp_root()
