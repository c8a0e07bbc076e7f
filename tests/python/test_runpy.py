"""runbox.run_path / run_module: runpy's runner pattern (RunResult), in the sandbox."""

import os
import zipfile

import pytest

import runbox
from conftest import write


def test_run_path_a_script(shared_dir):
    script = write(shared_dir, "area.py",
                   "import sys\nside = int(sys.argv[1])\narea = side * side\nprint(__name__, sys.argv[0] == __file__)\n")
    res = runbox.run_path(script, argv=["7"])
    assert isinstance(res, runbox.RunResult)
    assert (res.ok, res.exit_code, res.error) == (True, 0, None)
    assert res.namespace["area"] == 49 and res.namespace["side"] == 7
    assert isinstance(res.namespace["sys"], runbox.Opaque)
    assert res.stdout == "__main__ True\n"
    assert res.result.status == "ok"


def test_run_path_failure_and_exit_code(shared_dir):
    script = write(shared_dir, "fail.py", "import sys\nx = 1\nif sys.argv[1:] == ['exit']:\n    sys.exit(3)\n1 / 0\n")
    res = runbox.run_path(script)
    assert (res.ok, res.exit_code, res.error) == (False, 1, "ZeroDivisionError: division by zero")
    assert res.namespace == {"x": 1, "sys": res.namespace["sys"]}
    assert "line 5" in res.error_detail
    res = runbox.run_path(script, argv=["exit"])
    assert (res.ok, res.exit_code, res.error) == (False, 3, "SystemExit: 3")


def test_run_path_init_globals_capture_stdin_and_limits(shared_dir):
    script = write(shared_dir, "g.py", "line = input()\nresult = [n * scale for n in numbers]\n")
    res = runbox.run_path(script, init_globals={"numbers": [1, 2], "scale": 3}, capture=["result"],
                          stdin="text\n", timeout=5, memory_mb=256)
    assert res.namespace == {"result": [3, 6]}
    slow = write(shared_dir, "slow.py", "while True: pass\n")
    res = runbox.run_path(slow, timeout=0.5)
    assert (res.ok, res.status, res.exit_code) == (False, "timeout", -9)


def test_run_path_run_name(shared_dir):
    script = write(shared_dir, "named.py", "import sys\nname = __name__\nwhere = sys.path[1]\n")
    res = runbox.run_path(script, run_name="not_main")
    assert res.namespace["name"] == "not_main"
    assert res.namespace["where"] == shared_dir
    os.mkdir(os.path.join(shared_dir, "d"))
    with pytest.raises(ValueError, match="needs a .py file"):
        runbox.run_path(os.path.join(shared_dir, "d"), run_name="x")


def test_run_path_directory_and_zip(shared_dir):
    write(shared_dir, "app/__main__.py", "import helper\nvalue = helper.VALUE\n")
    write(shared_dir, "app/helper.py", "VALUE = 'from a dir'\n")
    res = runbox.run_path(os.path.join(shared_dir, "app"), capture=["value"])
    assert res.namespace == {"value": "from a dir"}, res.error_detail
    zpath = os.path.join(shared_dir, "app.zip")
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("__main__.py", "print('from a zip')\n")
    os.chmod(zpath, 0o644)
    assert runbox.run_path(zpath).stdout == "from a zip\n"


def test_run_path_missing_file():
    res = runbox.run_path("/nonexistent/runbox/x.py")
    assert (res.ok, res.exit_code) == (False, 2)
    assert "can't open file" in res.error


def test_run_module(shared_dir):
    res = runbox.run_module("json.tool", stdin='{"b": 1, "a": 2}', argv=["--sort-keys", "--compact"])
    assert res.ok and res.stdout == '{"a":2,"b":1}\n'
    write(shared_dir, "mymod.py", "import sys\nargs = sys.argv[1:]\nname = __name__\n")
    res = runbox.run_module("mymod", python_path=[shared_dir], argv=["a"], capture=["args", "name"])
    assert res.namespace == {"args": ["a"], "name": "__main__"}
    res = runbox.run_module("mymod", python_path=[shared_dir], run_name="other",
                            init_globals={"seed": 1}, capture=["name", "seed"])
    assert res.namespace == {"name": "other", "seed": 1}, res.error_detail
    missing = runbox.run_module("no_such_module_here")
    assert (missing.ok, missing.error) == (False, "ModuleNotFoundError: No module named 'no_such_module_here'")
    with pytest.raises(TypeError):
        runbox.run_module("")


def test_bad_init_globals(shared_dir):
    script = write(shared_dir, "s.py", "pass\n")
    with pytest.raises(runbox.JobTypeError, match="field 'globals' cannot be sent"):
        runbox.run_path(script, init_globals={"f": print})
    with pytest.raises(TypeError):
        runbox.run_path(script, init_globals=[1])
