"""The command line that comes with the package: `runbox` in the venv's bin
and `python -m runbox`, the same binary, with its zygote."""

import json
import os
import subprocess
import sys

import runbox
from conftest import write


def venv_runbox():
    return os.path.join(os.path.dirname(sys.executable), "runbox")


def test_the_venv_has_the_runbox_command():
    out = subprocess.run([venv_runbox(), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout == f"runbox {runbox.__version__}\n"


def test_python_dash_m_runbox_runs_a_manifest(shared_dir):
    manifest = write(shared_dir, "jobs.jsonl", json.dumps({"id": "a", "source": "print(6 * 7)"}) + "\n")
    out = subprocess.run([sys.executable, "-m", "runbox", "run", manifest, "-q"],
                         capture_output=True, text=True, check=True, env=dict(os.environ, RUNBOX_ZYGOTE=""))
    record = json.loads(out.stdout)
    assert (record["id"], record["stdout"]) == ("a", "42\n")


def test_the_binaries_are_inside_the_package():
    bin_dir = os.path.join(os.path.dirname(runbox.__file__), "bin")
    for name in ("runbox", "runbox-zygote"):
        assert os.access(os.path.join(bin_dir, name), os.X_OK)
