"""runbox.code_execution: the simple-code-execution library's interface."""

import dataclasses
import os

import pytest

import runbox
from runbox.code_execution import (Command, CommandResult, CommandsToRun, Executable,
                                   ExecutionConfig, ExecutionResult, OverallExecutionResults,
                                   default_postprocessor, default_should_early_stop,
                                   execute_commands, execute_predictions)
from conftest import write

CONFIG = ExecutionConfig(num_workers=2, default_timeout=10)


def one_file(code, **kw):
    return lambda pred: Executable(files={"main.py": pred[code]},
                                   commands=[Command(command=["python3", "main.py"], **kw)])


def test_the_quickstart():
    preds = [{"id": 1, "code": "print('Hello, World!')"},
             {"id": 2, "code": "x = 5\nprint(x * 2)"},
             {"id": 3, "code": "import math\nprint(math.sqrt(16))"}]

    def postprocessor(prediction, result):
        return {"id": prediction["id"], "output": result.command_results[0].stdout,
                "success": result.command_results[0].return_code == 0,
                "runtime": result.command_results[0].runtime}

    out = execute_predictions(config=ExecutionConfig(num_workers=2, default_timeout=10, max_execute_at_once=3),
                              pred_list=preds, preprocessor=one_file("code"), postprocessor=postprocessor)
    assert isinstance(out, OverallExecutionResults)
    assert [(r["id"], r["output"], r["success"]) for r in out.results] == \
        [(1, "Hello, World!\n", True), (2, "10\n", True), (3, "4.0\n", True)]
    assert all(r["runtime"] > 0 and "postprocess_time" in r for r in out.results)
    assert out.net_time >= out.execution_time > 0 and "timestamp" in out.timing_dict


def test_the_default_postprocessor():
    out = execute_predictions(CONFIG, [{"code": "import sys; print('e', file=sys.stderr); sys.exit(3)"}],
                              one_file("code"))
    (r,) = out.results
    assert r["code"].startswith("import sys")
    assert r["key"] == "0.0" and r["expected_num_commands"] == 1 and r["cwd"] is None
    assert "command_results" not in r and r["preprocess_time"] >= 0
    full = default_postprocessor({"a": 1}, ExecutionResult.invalid_result("k"))
    assert full["a"] == 1 and full["key"] == "k"


def test_command_results():
    out = execute_predictions(CONFIG, [{"code": "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"},
                                       {"code": "while True: pass"}],
                              one_file("code", timeout=0.5), postprocessor=lambda p, r: {"r": r})
    failed, slow = (x["r"] for x in out.results)
    c = failed.command_results[0]
    assert isinstance(c, CommandResult)
    assert (c.return_code, c.stdout, c.stderr, c.timed_out, c.had_error) == (3, "out\n", "err\n", False, True)
    assert failed.had_error and not failed.timed_out and failed.last_cmd is c and failed[0] is c
    assert len(failed) == 1 and failed.all_had_return_code(3)
    assert slow.timed_out and slow.command_results[0].timed_out


def test_several_commands_share_a_dir_and_stop_early():
    def pre(pred):
        return Executable(
            files={"step.py": "import sys\nopen('log', 'a').write(input())\nprint(open('log').read())\nsys.exit(int(sys.argv[1]))"},
            commands=[Command(["python3", "step.py", "0"], stdin=["a"]),
                      Command(["python3", "step.py", pred["second"]], stdin="b"),
                      Command(["python3", "step.py", "0"], stdin=["c", "d"])],
            tracked_files=["log", "absent"])

    out = execute_predictions(CONFIG, [{"second": "0"}, {"second": "1"}], pre, postprocessor=lambda p, r: {"r": r})
    all3, stopped = (x["r"] for x in out.results)
    assert [c.stdout for c in all3.command_results] == ["a\n", "ab\n", "abc\n"]
    assert all3.tracked_files == {"log": "abc", "absent": None}
    assert [c.return_code for c in stopped.command_results] == [0, 1]
    assert stopped.expected_num_commands == 3 and stopped.tracked_files["log"] == "ab"


def test_a_custom_should_early_stop():
    def stop_on_marker(idx, res):
        return "stop" in res.stdout

    def pre(pred):
        return Executable(files={"m.py": "print(input())"},
                          commands=[Command(["python3", "m.py"], stdin=s) for s in ("go", "stop", "never")],
                          should_early_stop=stop_on_marker)

    (r,) = execute_predictions(CONFIG, [{}], pre, postprocessor=lambda p, r: {"r": r}).results
    assert [c.stdout for c in r["r"].command_results] == ["go\n", "stop\n"]


def test_num_times_and_stdout_postprocessor():
    def pre(pred):
        return Executable(files={"m.py": "print('Hi')"},
                          commands=[Command(["python3", "m.py"], num_times=3)],
                          stdout_postprocessor=str.lower)

    (r,) = execute_predictions(CONFIG, [{}], pre, postprocessor=lambda p, r: {"r": r}).results
    (c,) = r["r"].command_results
    assert c.stdout == "hi\n" and c.runtime > 0


def test_python_c_m_and_mixed_programs():
    def pre(pred):
        return Executable(
            files={"gen.py": "open('made.py', 'w').write('print(6 * 7)')", "lib.py": "print('lib', __name__)"},
            commands=[Command(["python3", "gen.py"]), Command(["python3", "-u", "made.py"]),
                      Command(["python", "-c", "import sys; print(sys.argv[1:])", "x"]),
                      Command(["python3.11", "-m", "lib"])])

    (r,) = execute_predictions(CONFIG, [{}], pre, postprocessor=lambda p, r: {"r": r}).results
    outs = [c.stdout for c in r["r"].command_results]
    assert outs == ["", "42\n", "['x']\n", "lib __main__\n"], r["r"]


def test_preprocessor_may_skip_or_return_lists():
    def pre(pred):
        if pred.get("skip"):
            return [ExecutionResult.invalid_result(key=None)]
        return [Executable(files={"m.py": f"print({i})"}, commands=[Command(["python3", "m.py"])])
                for i in range(2)]

    out = execute_predictions(CONFIG, [{"skip": True}, {}], pre, preproc_returns_list=True,
                              postprocessor=lambda p, rs: {"outs": [r.command_results[0].stdout for r in rs]})
    assert [r["outs"] for r in out.results] == [["SyntaxError"], ["0\n", "1\n"]]


def test_debug_dir_gets_the_files(tmp_path):
    execute_predictions(CONFIG, [{"code": "print(1)"}], one_file("code"), debug_dir=tmp_path)
    assert (tmp_path / "pred0.0" / "main.py").read_text() == "print(1)"


def test_execute_commands_reads_the_prepared_dir(shared_dir):
    d = os.path.join(shared_dir, "pred0")
    write(d, "main.py", "import helper\nprint(helper.X)\nopen('out', 'w').write('o')")
    write(d, "helper.py", "X = 'helped'")
    preds = [{"key": (0, 0), "executable": CommandsToRun(cwd=d, commands=[Command(["python3", "main.py"])],
                                                          tracked_files=["out"])}]
    elapsed, pure, results = execute_commands(preds, CONFIG)
    ((key, res),) = results
    assert key == (0, 0) and res.key == "0.0"
    assert res.command_results[0].stdout == "helped\n" and res.tracked_files == {"out": "o"}
    assert elapsed >= pure > 0


def test_commands_must_run_python():
    def pre(pred):
        return Executable(files={}, commands=[Command(["bash", "-c", "echo hi"])])

    with pytest.raises(ValueError, match="runbox runs Python programs only"):
        execute_predictions(CONFIG, [{}], pre)
    with pytest.raises(ValueError, match="should_early_stop must be callable"):
        Executable(files={}, commands=[], should_early_stop=None)
    with pytest.raises(ValueError, match="not the string"):
        execute_predictions(CONFIG, [{}], lambda p: Executable(files={}, commands=[Command("python3 x.py")]))


def test_dataclass_fields_match_the_library():
    names = lambda cls: [f.name for f in dataclasses.fields(cls)]
    assert names(Command) == ["command", "timeout", "num_times", "stdin"]
    assert names(CommandResult) == ["return_code", "runtime", "stdout", "stderr", "timed_out",
                                    "had_unexpected_error"]
    assert names(Executable) == ["files", "commands", "tracked_files", "should_early_stop",
                                 "stdout_postprocessor"]
    assert names(ExecutionResult) == ["key", "command_results", "elapsed", "cwd", "tracked_files",
                                      "expected_num_commands", "writing_time", "cleanup_time",
                                      "preprocess_time"]
    assert default_should_early_stop(0, CommandResult(0, 0.1, "", "", True))
    assert not default_should_early_stop(0, CommandResult(0, 0.1, "", "", False))
    assert ExecutionConfig(num_workers=2, batch_size=4).batched
    assert ExecutionConfig(num_workers=0).num_workers == 1
    assert runbox.Command is Command and runbox.execute_predictions is execute_predictions
