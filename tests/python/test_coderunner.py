"""runbox.CodeRunner: Bokeh's CodeRunner interface, the code run in the sandbox."""

import os
import sys
from types import ModuleType

import pytest

import runbox
from conftest import write


def test_a_new_runner():
    cr = runbox.CodeRunner("# test", "path", [])
    assert (cr.failed, cr.doc, cr.error, cr.error_detail, cr.ran) == (False, None, None, None, False)
    assert (cr.source, cr.path) == ("# test", "path")


def test_a_syntax_error_is_permanent():
    cr = runbox.CodeRunner("This is a syntax error", "path", [])
    assert cr.failed
    assert cr.error.startswith("Invalid syntax in 'path' on line 1:")
    assert "SyntaxError" in cr.error_detail
    assert cr.new_module() is None
    cr.reset_run_errors()
    assert cr.failed and cr.error is not None
    with pytest.raises(RuntimeError, match="does not compile"):
        cr.run(ModuleType("m"))


def test_new_module():
    cr = runbox.CodeRunner("# test", "path", [])
    m = cr.new_module()
    assert m.__name__.startswith("bokeh_app_")
    assert m.__file__ == os.path.abspath("path") and m.__package__ is None
    init = runbox.CodeRunner("# test", "/foo/__init__.py", [])
    pkg = init.new_module()
    assert pkg.__package__ == pkg.__name__ and pkg.__path__ == ["/foo"]
    sub = runbox.CodeRunner("# test", "path", [], package=pkg).new_module()
    assert sub.__package__ == pkg.__name__
    with pytest.raises(ValueError, match="__init__.py cannot have package specified"):
        runbox.CodeRunner("# test", "/foo/__init__.py", [], package=pkg)


def test_run_sets_ran_fills_the_module_and_runs_the_post_check(capsys):
    cr = runbox.CodeRunner("import sys\nargv = list(sys.argv)\nprint('hi')\n", "path", ["foo", "10"])
    m = cr.new_module()
    m.given = {"a": 1}
    checked = {}
    cr.run(m, lambda: checked.setdefault("argv", m.argv))
    assert cr.ran and not cr.failed
    assert m.argv == ["path", "foo", "10"] == checked["argv"]
    assert capsys.readouterr().out == "hi\n"
    assert cr.result.stdout == "hi\n"


def test_run_does_not_touch_this_process():
    cwd, path, argv = os.getcwd(), list(sys.path), list(sys.argv)
    cr = runbox.CodeRunner("import os, sys\nos.chdir('/')\nsys.path.clear()\nsys.argv[:] = []", "p.py", [])
    cr.run(cr.new_module())
    assert (os.getcwd(), sys.path, sys.argv) == (cwd, path, argv)


def test_globals_go_in_and_come_back():
    cr = runbox.CodeRunner("total = sum(numbers) * scale\nobj = object()", "calc.py", [])
    m = cr.new_module()
    m.numbers, m.scale, m.not_json = [1, 2, 3], 10, object()
    cr.run(m)
    assert m.total == 60
    assert isinstance(m.obj, runbox.Opaque) and repr(m.obj).startswith("<object object at")


def test_a_failing_run_is_worded_as_bokeh_does(capsys):
    cr = runbox.CodeRunner("x = 1\nraise ValueError('bad input')\n", "/tmp/app.py", [])
    m = cr.new_module()
    cr.run(m)
    assert cr.failed and cr.ran
    assert cr.error == "bad input\nFile 'app.py', line 2, in <module>:\nraise ValueError('bad input')"
    assert "Traceback" in cr.error_detail
    assert m.x == 1
    cr.new_module()  # resets run errors
    assert not cr.failed and cr.error is None


def test_a_failing_post_check():
    cr = runbox.CodeRunner("x = 1", "p.py", [])

    def post_check():
        raise RuntimeError("replaced the output document")

    cr.run(cr.new_module(), post_check)
    assert cr.failed
    assert cr.error.startswith("replaced the output document\nFile 'test_coderunner.py', line")


def test_timeouts_and_docstrings():
    cr = runbox.CodeRunner("'''some docstring\n\nfoo bar'''\nwhile True: pass", "loop.py", [], timeout=0.5)
    assert cr.doc == "some docstring\n\nfoo bar"
    cr.run(cr.new_module())
    assert cr.failed and cr.error == "wall time limit of 0.5 s exceeded"


def test_a_package_directory(shared_dir):
    init_path = write(shared_dir, "app/__init__.py", "NAME = 'app'\n")
    write(shared_dir, "app/util.py", "def helper():\n    return 'helped'\n")
    main_path = os.path.join(shared_dir, "app", "main.py")
    with open(init_path) as f:
        init = runbox.CodeRunner(f.read(), init_path, [])
    package = init.new_module()
    init.run(package)
    assert package.NAME == "app"
    cr = runbox.CodeRunner("from . import util\nout = util.helper()\n", main_path, [], package=package)
    m = cr.new_module()
    cr.run(m)
    assert not cr.failed, cr.error_detail
    assert m.out == "helped"
