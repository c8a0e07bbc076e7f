"""runbox.interpreter and runbox.site_packages."""

import os
import sys

import pytest

import runbox


def test_interpreter_says_which_python_runs_jobs(pool):
    interp = runbox.interpreter()
    assert os.path.isabs(interp.executable)
    assert interp.version == ".".join(map(str, interp.version_info))
    assert interp.matches_caller == (sys.version_info[:2] == interp.version_info[:2])
    r = pool.submit({"source": "import sys, platform; print(sys.executable, platform.python_version())"}).result()
    assert r.stdout.split() == [interp.executable, interp.version]
    assert str(interp) == f"CPython {interp.version} ({interp.executable})"


def test_site_packages_of_this_venv_import_in_jobs(shared_dir):
    if not runbox.interpreter().matches_caller:
        with pytest.raises(runbox.InterpreterMismatch):
            runbox.site_packages()
        return
    paths = runbox.site_packages()
    assert paths and all(os.path.isdir(p) for p in paths)
    with runbox.Pool(workers=1, python_path=paths) as p:
        r = p.submit({"source": "import runbox, os; print(os.path.dirname(runbox.__file__))"}).result()
    assert r.stdout.strip() == os.path.dirname(runbox.__file__), r.error_detail


def test_site_packages_refuses_another_version(shared_dir):
    theirs = runbox.interpreter().version_info[1] + 1
    with open(os.path.join(shared_dir, "pyvenv.cfg"), "w") as f:
        f.write(f"home = /usr/bin\nversion = 3.{theirs}.0\n")
    os.makedirs(os.path.join(shared_dir, "lib", f"python3.{theirs}", "site-packages"))
    with pytest.raises(runbox.InterpreterMismatch) as info:
        runbox.site_packages(shared_dir)
    message = str(info.value)
    assert f"are for Python 3.{theirs}" in message and runbox.interpreter().executable in message


def test_site_packages_of_a_matching_venv(shared_dir):
    ours = "%d.%d" % runbox.interpreter().version_info[:2]
    with open(os.path.join(shared_dir, "pyvenv.cfg"), "w") as f:
        f.write(f"home = /usr/bin\nversion = {ours}.1\n")
    site = os.path.join(shared_dir, "lib", f"python{ours}", "site-packages")
    os.makedirs(site)
    assert runbox.site_packages(shared_dir) == [site]
    with pytest.raises(FileNotFoundError, match="not a venv"):
        runbox.site_packages(os.path.join(shared_dir, "lib"))


@pytest.mark.skipif(os.geteuid() != 0, reason="only root's jobs run under other uids")
def test_site_packages_out_of_the_jobs_reach(shared_dir):
    ours = "%d.%d" % runbox.interpreter().version_info[:2]
    venv = os.path.join(shared_dir, "private", "venv")
    os.makedirs(os.path.join(venv, "lib", f"python{ours}", "site-packages"))
    with open(os.path.join(venv, "pyvenv.cfg"), "w") as f:
        f.write(f"version = {ours}.0\n")
    os.chmod(os.path.join(shared_dir, "private"), 0o700)
    with pytest.raises(PermissionError, match="is not open to other users"):
        runbox.site_packages(venv)
