#!/usr/bin/env python3
"""The C API as a user meets it: install runbox into a staging root, build
examples/embed.c against the installed header and library with pkg-config,
and run it."""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("RUNBOX_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
RUNBOX = os.environ.get("RUNBOX") or os.path.join(ROOT, "build", "runbox")
BUILD = os.path.dirname(os.path.abspath(RUNBOX))


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300, **kw)
    if p.returncode != 0:
        raise AssertionError("%s failed (%d)\nstdout:\n%s\nstderr:\n%s" % (cmd, p.returncode, p.stdout, p.stderr))
    return p


class EmbedTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stage = tempfile.mkdtemp(prefix="runbox-embed-")
        run(["meson", "install", "-C", BUILD, "--destdir", cls.stage, "--no-rebuild", "--quiet"])
        pcs = glob.glob(os.path.join(cls.stage, "**", "runbox.pc"), recursive=True)
        if len(pcs) != 1:
            raise AssertionError("expected one installed runbox.pc, found %s" % pcs)
        cls.pc_dir = os.path.dirname(pcs[0])
        cls.env = dict(os.environ, PKG_CONFIG_PATH=cls.pc_dir, PKG_CONFIG_SYSROOT_DIR=cls.stage)
        libs = glob.glob(os.path.join(cls.stage, "**", "librunbox.so.0"), recursive=True)
        zygotes = glob.glob(os.path.join(cls.stage, "**", "libexec", "runbox", "runbox-zygote"), recursive=True)
        if len(libs) != 1 or len(zygotes) != 1:
            raise AssertionError("installed tree lacks the library or the zygote: %s %s" % (libs, zygotes))
        cls.libdir = os.path.dirname(libs[0])
        cls.zygote = zygotes[0]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.stage, ignore_errors=True)

    def pkg_config(self, *args):
        return run(["pkg-config"] + list(args) + ["runbox"], env=self.env).stdout.split()

    def build(self, source, out, extra=()):
        cmd = ["cc", "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror"] + list(extra) + [source, "-o", out]
        cmd += self.pkg_config("--cflags", "--libs")
        run(cmd, env=self.env)

    def test_pkg_config_describes_the_library(self):
        self.assertEqual(run(["pkg-config", "--modversion", "runbox"], env=self.env).stdout.strip(), "0.1.0")
        self.assertIn("-lrunbox", self.pkg_config("--libs"))
        include = [f for f in self.pkg_config("--cflags") if f.startswith("-I")]
        self.assertTrue(any(os.path.exists(os.path.join(f[2:], "runbox.h")) for f in include), include)

    def test_only_the_public_api_is_exported(self):
        out = run(["nm", "-D", "--defined-only", os.path.join(self.libdir, "librunbox.so.0")]).stdout
        exported = sorted(line.split()[-1].split("@")[0] for line in out.splitlines() if " T " in line)
        self.assertEqual(exported, sorted([
            "rb_pool_cancel", "rb_pool_drain", "rb_pool_fd", "rb_pool_free", "rb_pool_free_slots", "rb_pool_layers", "rb_pool_new",
            "rb_pool_pending", "rb_pool_run", "rb_pool_submit", "rb_status_name"]))

    def test_example_builds_and_runs(self):
        exe = os.path.join(self.stage, "embed")
        self.build(os.path.join(ROOT, "examples", "embed.c"), exe)
        env = dict(os.environ, LD_LIBRARY_PATH=self.libdir, RUNBOX_ZYGOTE=self.zygote)
        p = subprocess.run([exe], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60, env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        lines = p.stdout.splitlines()
        by_id = {l.split()[0]: l for l in lines if l and not l.startswith(" ")}
        self.assertRegex(by_id["hello"], r"^hello\s+ok\s+rc=0\s+.*stdout=hello from C$")
        self.assertRegex(by_id["raises"], r"^raises\s+error\s+rc=1\s")
        self.assertIn("error: ZeroDivisionError: division by zero", p.stdout)
        self.assertRegex(by_id["loops"], r"^loops\s+timeout\s+rc=-9\s")
        self.assertEqual(lines[-1], "3 results")

    def test_header_is_clean_c99_and_cxx(self):
        src = os.path.join(self.stage, "h.c")
        with open(src, "w") as f:
            f.write("#include <runbox.h>\nint main(void) { return rb_status_name(RB_STATUS_OK)[0] != 'o'; }\n")
        self.build(src, os.path.join(self.stage, "h"), extra=["-std=c99"])
        if shutil.which("g++"):
            cxx = os.path.join(self.stage, "h.cc")
            shutil.copy(src, cxx)
            run(["g++", "-Wall", "-Werror", "-c", cxx, "-o", os.path.join(self.stage, "h.o")]
                + self.pkg_config("--cflags"), env=self.env)


if __name__ == "__main__":
    unittest.main(verbosity=2)
