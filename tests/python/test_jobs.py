"""Jobs: every manifest field works, and bad input is refused at submit,
naming the job and the field."""

import math
import os

import pytest

import runbox
from conftest import write


# ---- bad input -----------------------------------------------------------------

@pytest.mark.parametrize("job, cls, field, text", [
    ({"id": "t", "source": "pass", "timeout": "soon"}, runbox.JobTypeError, "timeout",
     "job 't': field 'timeout' must be a number of seconds, not a string"),
    ({"id": "m", "source": "pass", "memory_mb": 0}, runbox.JobError, "memory_mb",
     "job 'm': field 'memory_mb' must be between 1 and 1048576, got 0"),
    ({"id": "u", "source": "pass", "timout": 3}, runbox.JobTypeError, "timout",
     "job 'u': unknown field 'timout'"),
    ({"id": "a", "source": "pass", "argv": ["x", 2]}, runbox.JobTypeError, "argv",
     "job 'a': field 'argv': item 1 must be a string, not a number"),
    ({"id": "p"}, runbox.JobError, None,
     "job 'p': no program: give one of 'source', 'file' or 'module'"),
    ({"id": "two", "source": "x", "module": "y"}, runbox.JobError, None,
     "job 'two': fields 'source', 'file' and 'module' exclude each other"),
    ({"id": "nul", "source": "pass", "stdin": "a\0b"}, runbox.JobError, "stdin",
     "job 'nul': field 'stdin' holds \\u0000 (NUL), which cannot reach a program"),
    ({"id": 7, "source": "pass"}, runbox.JobTypeError, "id",
     "job '7': field 'id' must be a string, not a number"),
])
def test_bad_fields_raise_naming_job_and_field(pool, job, cls, field, text):
    with pytest.raises(cls) as info:
        pool.submit(job)
    assert str(info.value) == text
    assert info.value.field == field
    assert isinstance(info.value, ValueError)
    if cls is runbox.JobTypeError:
        assert isinstance(info.value, TypeError)


@pytest.mark.parametrize("job, field, why", [
    ({"id": "s", "source": "pass", "globals": {"s": {1, 2}}}, "globals", "set is not JSON"),
    ({"id": "n", "source": "pass", "globals": {"x": math.nan}}, "globals", "Out of range float"),
    ({"id": "o", "source": "pass", "stdin": object()}, "stdin", "object is not JSON"),
    ({"id": "b", "source": "pass", "stdin": b"bytes"}, "stdin", "bytes is not JSON"),
    ({"id": "sur", "source": "pass", "stdin": "\udc80"}, "stdin", "surrogate"),
])
def test_values_that_cannot_be_sent_are_refused_at_submit(pool, job, field, why):
    with pytest.raises(runbox.JobTypeError) as info:
        pool.submit(job)
    assert info.value.field == field
    assert str(info.value).startswith(f"job {job['id']!r}: field {field!r} cannot be sent to a job")
    assert why in str(info.value)


def test_a_job_must_be_a_dict_or_a_job(pool):
    with pytest.raises(TypeError, match="must be a dict of manifest fields or a runbox.Job, not list"):
        pool.submit(["source", "pass"])


def test_bad_jobs_do_not_hurt_the_pool(pool):
    for _ in range(50):
        with pytest.raises(ValueError):
            pool.submit({"source": "pass", "cpu_time": -1})
    assert pool.submit({"source": "print('fine')"}).result().stdout == "fine\n"


def test_job_validate_and_to_dict():
    job = runbox.Job(id="x", source="print(1)", argv=["a"])
    assert job.to_dict() == {"id": "x", "source": "print(1)", "argv": ["a"]}
    job.validate()
    with pytest.raises(runbox.JobError, match="field 'output_limit_kb' must be between"):
        runbox.Job(source="pass", output_limit_kb=-1).validate()


# ---- every field works ---------------------------------------------------------

def test_source_path_argv_stdin_and_limits(pool):
    r = pool.submit({"id": "p", "source": "import sys\nprint(sys.argv, input(), __file__)",
                     "path": "prog.py", "argv": ["-n", "3"], "stdin": "in\n",
                     "timeout": 5, "cpu_time": 5, "memory_mb": 256, "output_limit_kb": 64}).result()
    assert r.stdout == "['prog.py', '-n', '3'] in prog.py\n"


def test_output_and_memory_limits(pool):
    flood = pool.submit({"source": "while True: print('spam' * 100)", "output_limit_kb": 16}).result()
    assert flood.status == "output_limit" and flood.stdout_truncated
    hog = pool.submit({"source": "x = bytearray(512 * 1024 * 1024)", "memory_mb": 64}).result()
    assert hog.status == "memory"


def test_file_module_and_relative_paths(pool, shared_dir):
    write(shared_dir, "hello.py", "import sys\nprint('hello', *sys.argv[1:])\n")
    write(shared_dir, "pkg/__init__.py", "")
    write(shared_dir, "pkg/__main__.py", "print('pkg main')\n")
    r = pool.submit({"file": os.path.join(shared_dir, "hello.py"), "argv": ["you"]}).result()
    assert r.stdout == "hello you\n"
    here = os.getcwd()
    os.chdir(shared_dir)
    try:  # a relative file is taken from the current directory at submit
        r = pool.submit({"file": "hello.py"}).result()
    finally:
        os.chdir(here)
    assert r.stdout == "hello\n"
    r = pool.submit({"module": "pkg", "python_path": [shared_dir]}).result()
    assert r.stdout == "pkg main\n"


def test_globals_capture_files_tracked_files(pool):
    r = pool.submit({"source": "import os\ntotal = sum(numbers)\nopen('out.txt', 'w').write(open('in/data').read().upper())",
                     "globals": {"numbers": [1, 2, 3]}, "capture": ["total", "os", "missing"],
                     "files": {"in/data": "abc"}, "tracked_files": ["out.txt"]}).result()
    assert r.status == "ok", r.error
    assert r.namespace["total"] == 6
    assert r.namespace["os"] == {"$repr": "<module 'os' (frozen)>"}
    assert "missing" not in r.namespace
    assert r.tracked_files == {"out.txt": "ABC"}


def test_package(pool, shared_dir):
    write(shared_dir, "lib/__init__.py", "")
    write(shared_dir, "lib/util.py", "def helper():\n    return 'helped'\n")
    r = pool.submit({"source": "from . import util\nprint(util.helper())", "package": "lib",
                     "path": "lib/main.py", "python_path": [shared_dir]}).result()
    assert r.stdout == "helped\n", r.error_detail


def test_cases(pool):
    r = pool.submit({"source": "a, b = map(int, input().split())\nprint(a + b)",
                     "cases": [{"stdin": "1 2\n", "expected_stdout": "3\n"},
                               {"stdin": "2 2\n", "expected_stdout": "5\n"}],
                     "compare": "whitespace", "early_stop": False}).result()
    assert (r.status, r.passed, r.cases_passed) == ("ok", False, 1)
    assert not r.ok
    assert [c["verdict"] for c in r.cases] == ["passed", "wrong_output"]
    third = pool.submit({"source": "print(1 / 3)", "float_tolerance": 1e-6,
                         "cases": [{"expected_stdout": "0.333333"}]}).result()
    assert third.passed and third.ok


def test_num_times_and_commands(pool):
    r = pool.submit({"source": "print('x')", "num_times": 3}).result()
    assert len(r.runs) == 3 and len(r.runtimes) == 3 and r.mean_runtime > 0
    r = pool.submit({"source": "open('log', 'a').write(input())\nprint(open('log').read())",
                     "commands": [{"stdin": "a"}, {"stdin": "b"}], "tracked_files": ["log"]}).result()
    assert [c["stdout"] for c in r.commands] == ["a\n", "ab\n"]
    assert r.tracked_files == {"log": "ab"}


def test_function_calls(pool):
    r = pool.submit({"source": "def add(a, b):\n    return a + b\n", "entry_point": "add",
                     "calls": [{"args": [1, 2], "expected": 3}, {"args": [[1], [2]], "expected": [1, 2]},
                               {"args": [1, 1], "expected": 3}]}).result()
    assert (r.passed, r.calls_passed) == (False, 2), r.to_dict()
    assert not r.ok


def test_the_job_class_has_every_manifest_field():
    import dataclasses
    from runbox import _runbox
    assert {f.name for f in dataclasses.fields(runbox.Job)} == set(_runbox.MANIFEST_FIELDS) == set(runbox.FIELDS)


def test_output_bytes_come_back_as_surrogate_escapes(pool):
    r = pool.submit({"source": "import sys; sys.stdout.buffer.write(b'a\\xffb')"}).result()
    assert r.stdout == "a\udcffb"
    assert r.stdout.encode("utf-8", "surrogateescape") == b"a\xffb"


def test_job_runs_under_the_interpreter_runbox_was_built_against(pool):
    r = pool.submit({"source": "import sys; print(sys.executable, '%d.%d' % sys.version_info[:2])"}).result()
    exe, version = r.stdout.split()
    interp = runbox.interpreter()
    assert exe == interp.executable
    assert version == "%d.%d" % interp.version_info[:2]
