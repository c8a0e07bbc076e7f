"""The simple-code-execution library's interface, run by runbox.

Its users switch by changing an import::

    from code_execution import ExecutionConfig, execute_predictions, Executable, Command
    # becomes
    from runbox.code_execution import ExecutionConfig, execute_predictions, Executable, Command

The dataclasses keep their names, fields and defaults, and
``execute_predictions`` / ``execute_commands`` their parameters and return
values. Where the library writes files into a directory and starts a
``python`` process per command, runbox runs each prediction as one job: the
files are written into the job's private working dir, and each command is a
run of the program there, forked from runbox's warm interpreter inside the
sandbox (docs/python.md lists what differs).

Commands must run Python: ``python3 FILE ARGS...``, ``python3 -c CODE
ARGS...`` or ``python3 -m MODULE ARGS...`` (any ``python``/``python3.X`` name
or ``sys.executable``, with the flags ``-u -B -E -I -s -S -O -q``, ``-W``,
``-X``); anything else raises ValueError naming the prediction.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from ._pool import Pool, _cpu_count, default_pool
from ._results import Result

__all__ = [
    "Command", "CommandResult", "CommandsToRun", "Executable", "ExecutionConfig",
    "ExecutionResult", "OverallExecutionResults", "default_postprocessor",
    "default_should_early_stop", "execute_commands", "execute_predictions",
]


# ---- the library's data structures ------------------------------------------

@dataclasses.dataclass(frozen=True)
class Command:
    """A command to run: ``command`` is its argv (a Python invocation here).

    ``timeout`` defaults to the config's ``default_timeout``; ``num_times``
    runs it that many times (runtime is then their mean, unless one failed);
    ``stdin`` is fed to it (a list is joined with newlines).
    """

    command: List[str]
    timeout: Optional[float] = None
    num_times: int = 1
    stdin: Union[List[str], str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class CommandResult:
    """How one command ended."""

    return_code: int
    runtime: float
    stdout: str
    stderr: str
    timed_out: bool
    had_unexpected_error: bool = False

    @property
    def had_error(self) -> bool:
        """True when it exited non-zero or runbox could not run it."""
        return self.return_code != 0 or self.had_unexpected_error


def default_should_early_stop(cmd_idx: int, res: CommandResult,
                              expected_rtr_code: Optional[int] = 0,
                              stop_for_timeout: bool = True, **_k: Any) -> bool:
    """Stop after a command that timed out, did not return
    ``expected_rtr_code``, or had an unexpected error."""
    if stop_for_timeout and res.timed_out:
        return True
    if expected_rtr_code is not None and res.return_code != expected_rtr_code:
        return True
    return res.had_unexpected_error


@dataclasses.dataclass(frozen=True)
class ExecutionResult:
    """The results of one prediction's commands."""

    key: Any
    command_results: List[CommandResult]
    elapsed: float
    cwd: Optional[str]
    tracked_files: Dict[str, Optional[str]]
    expected_num_commands: int
    writing_time: float = -1
    cleanup_time: float = -1
    preprocess_time: float = -1

    @property
    def timed_out(self) -> bool:
        """True when the final command that ran hit its time limit."""
        return bool(self.command_results) and self.command_results[-1].timed_out

    @property
    def had_error(self) -> bool:
        """True when the final command that ran exited non-zero, or none ran."""
        if not self.command_results:
            return True
        return self.command_results[-1].return_code != 0

    @property
    def last_cmd(self) -> Optional[CommandResult]:
        """The final command's CommandResult, or None when none ran."""
        return self.command_results[-1] if self.command_results else None

    def all_had_return_code(self, return_code: int) -> bool:
        """True when each command that ran exited with ``return_code``."""
        return all(r.return_code == return_code for r in self.command_results)

    def to_dict(self, include_command_results: bool = False) -> Dict[str, Any]:
        """The fields as a dict, ``command_results`` only when asked for."""
        out = dataclasses.asdict(self)
        if not include_command_results:
            out.pop("command_results")
        return out

    @classmethod
    def invalid_result(cls, key: Any, num_commands: int = 1, runtime: float = 10.0,
                       return_code: int = 1, stdout: str = "SyntaxError",
                       stderr: str = "Invalid", elapsed: float = 10.0) -> "ExecutionResult":
        """A stand-in result for a prediction the preprocessor chose not to
        run (return it from the preprocessor instead of an Executable)."""
        return cls(key=key,
                   command_results=[CommandResult(return_code=return_code, runtime=runtime,
                                                  stdout=stdout, stderr=stderr, timed_out=False)
                                    for _ in range(num_commands)],
                   elapsed=elapsed, cwd=None, tracked_files={},
                   expected_num_commands=num_commands)

    def __getitem__(self, idx: int) -> CommandResult:
        return self.command_results[idx]

    def __len__(self) -> int:
        return len(self.command_results)


@dataclasses.dataclass(frozen=True)
class Executable:
    """What a prediction needs: ``files`` to write (``{path: text}``), the
    ``commands`` to run in order, the ``tracked_files`` to read back, when to
    stop early, and a function applied to each command's stdout."""

    files: Dict[str, str]
    commands: List[Command]
    tracked_files: List[str] = dataclasses.field(default_factory=list)
    should_early_stop: Callable[[int, CommandResult], bool] = default_should_early_stop
    stdout_postprocessor: Optional[Callable[[str], str]] = None

    def __post_init__(self) -> None:
        if not callable(self.should_early_stop):
            raise ValueError("should_early_stop must be callable")


@dataclasses.dataclass(frozen=True)
class CommandsToRun:
    """Commands to run in ``cwd``, a directory already holding their files
    (what ``execute_commands`` takes)."""

    cwd: Path
    commands: List[Command]
    tracked_files: List[str] = dataclasses.field(default_factory=list)
    should_early_stop: Callable[[int, CommandResult], bool] = default_should_early_stop
    stdout_postprocessor: Optional[Callable[[str], str]] = None


@dataclasses.dataclass
class ExecutionConfig:
    """Execution settings. runbox uses ``num_workers`` (jobs in flight) and
    ``default_timeout``; the other fields are kept so configs carry over."""

    num_workers: int
    max_tasks_per_process: Optional[int] = None
    write_rate_limit: int = 768
    chunk_size: int = 1
    batch_size: int = 1
    disable_tqdm: bool = False
    default_timeout: int = 10
    max_execute_at_once: int = -1
    num_executors: int = 4
    log_freq: int = 1000
    buffer_size: int = 100
    display_write_progress: bool = False
    write_log_freq: int = 100_000

    def __post_init__(self) -> None:
        if self.num_workers < 1:
            self.num_workers = 1

    @property
    def batched(self) -> bool:
        """True when ``batch_size`` is above 1 (runbox does not batch)."""
        return self.batch_size > 1


@dataclasses.dataclass
class OverallExecutionResults:
    """What ``execute_predictions`` returns: the postprocessed results in
    the predictions' order, and where the time went."""

    results: List[Dict[str, Any]]
    net_time: float
    pure_exec_time: float
    execution_time: float
    writing_time: float
    postprocessing_time: float
    preprocessing_time: float
    timestamp: Optional[str] = None

    def __post_init__(self) -> None:
        if self.timestamp is None:
            self.timestamp = datetime.datetime.now().isoformat()

    @property
    def timing_dict(self) -> Dict[str, Any]:
        """The timings as a dict."""
        return {
            "net_time": self.net_time, "pure_exec_time": self.pure_exec_time,
            "execution_time": self.execution_time, "writing_time": self.writing_time,
            "postprocessing_time": self.postprocessing_time,
            "preprocessing_time": self.preprocessing_time, "timestamp": self.timestamp,
        }


def default_postprocessor(prediction: Dict[str, Any], result: ExecutionResult, **_: Any) -> Dict[str, Any]:
    """The prediction's fields, then the result's."""
    return {**prediction, **result.to_dict()}


# ---- commands as runbox jobs ---------------------------------------------------

_PYTHON_NAME = re.compile(r"python(3(\.\d+)?)?")
_FLAGS_ALONE = set("uBEIsSOq")
_FLAGS_WITH_VALUE = {"-W", "-X"}

# Runs one command of a prediction whose commands run different programs:
# argv is [kind, target, argv0, args...].
_TRAMPOLINE = """\
import runpy as _runpy, sys as _sys
_kind, _target = _sys.argv[1], _sys.argv[2]
_sys.argv[:] = _sys.argv[3:]
if _kind == "code":
    exec(compile(_target, "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
elif _kind == "module":
    _runpy.run_module(_target, run_name="__main__", alter_sys=True)
else:
    _runpy.run_path(_target, run_name="__main__")
"""


def _program(argv: Sequence[str], where: str) -> Tuple[str, str, List[str]]:
    """(kind, target, args) of a python command: kind is 'path', 'code' or 'module'."""
    if isinstance(argv, str):
        raise ValueError(f"{where}: a command is a list of strings (its argv), not the string {argv!r}")
    argv = list(argv)
    if not argv or not isinstance(argv[0], str):
        raise ValueError(f"{where}: a command is a list of strings, not {argv!r}")
    exe = argv[0]
    if not (_PYTHON_NAME.fullmatch(os.path.basename(exe)) or exe == sys.executable):
        raise ValueError(f"{where}: runbox runs Python programs only, and {exe!r} is not "
                         "python: use ['python3', 'main.py', ...]")
    i = 1
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "-":
        flag = argv[i]
        if flag == "-c" or flag == "-m":
            if i + 1 >= len(argv):
                raise ValueError(f"{where}: {flag} needs a value in {argv!r}")
            return ("code" if flag == "-c" else "module"), argv[i + 1], argv[i + 2:]
        if flag in _FLAGS_WITH_VALUE:
            i += 2
            continue
        if flag[:2] in _FLAGS_WITH_VALUE or set(flag[1:]) <= _FLAGS_ALONE:
            i += 1
            continue
        raise ValueError(f"{where}: python option {flag!r} is not supported in {argv!r}")
    if i >= len(argv):
        raise ValueError(f"{where}: no program in {argv!r} (reading a program from stdin is not supported)")
    return "path", argv[i], argv[i + 1:]


def _stdin_text(stdin: Union[List[str], str, None]) -> Optional[str]:
    if not stdin:
        return None
    return "\n".join(stdin) if isinstance(stdin, list) else stdin


def _norm(path: str) -> str:
    return os.path.normpath(path)


@dataclasses.dataclass
class _Plan:
    """A prediction as one runbox job, and how its record maps back."""

    job: Dict[str, Any]
    runs: List[int]          # for each run of the job, the index of its command
    num_commands: int
    custom_stop: Optional[Callable[[int, CommandResult], bool]]
    stdout_postprocessor: Optional[Callable[[str], str]]
    tracked: List[str]


def _plan(job_id: str, files: Dict[str, str], commands: Sequence[Any], tracked: List[str],
          should_early_stop: Callable[[int, CommandResult], bool],
          stdout_postprocessor: Optional[Callable[[str], str]], default_timeout: float) -> _Plan:
    cmds = [c if isinstance(c, Command) else Command(**c) for c in commands]
    where = f"prediction {job_id}"
    programs = []
    for n, c in enumerate(cmds):
        programs.append(_program(c.command, f"{where}, command {n}"))
    file_sources = {_norm(k): v for k, v in files.items()}
    job: Dict[str, Any] = {"id": job_id}
    if files:
        job["files"] = dict(files)
    if tracked:
        job["tracked_files"] = list(tracked)
    if not cmds:
        return _Plan(job, [], 0, None, stdout_postprocessor, list(tracked))

    kinds = {(kind, target) for kind, target, _ in programs}
    if len(kinds) == 1:
        kind, target = next(iter(kinds))
        if kind == "code":
            job["source"], job["path"] = target, "<string>"
        elif kind == "module":
            job["module"] = target
        elif _norm(target) in file_sources:
            job["source"], job["path"] = file_sources[_norm(target)], target
        elif os.path.isabs(target):
            job["file"] = target
        else:
            kinds = set()  # a file an earlier command makes, or none: the trampoline finds out
    if len(kinds) != 1:
        job.pop("source", None)
        job["source"], job["path"] = _TRAMPOLINE, "<runbox command>"
        argvs = [[kind, target, "-c" if kind == "code" else target, *args]
                 for kind, target, args in programs]
    else:
        argvs = [list(args) for _, _, args in programs]

    runs: List[int] = []
    entries = []
    for n, (c, argv) in enumerate(zip(cmds, argvs)):
        timeout = c.timeout if c.timeout is not None else default_timeout
        for _ in range(max(1, int(c.num_times))):
            entry: Dict[str, Any] = {"argv": argv, "timeout": timeout}
            text = _stdin_text(c.stdin)
            if text is not None:
                entry["stdin"] = text
            entries.append(entry)
            runs.append(n)
    custom = None if should_early_stop is default_should_early_stop else should_early_stop
    if len(entries) == 1:
        # One run: a plain job, the fastest runbox has.
        job.update({k: v for k, v in entries[0].items() if k != "timeout" or v is not None})
    else:
        job["commands"] = entries
        if custom is None:
            job["early_stop"] = True
    return _Plan(job, runs, len(cmds), custom, stdout_postprocessor, list(tracked))


def _command_result(run: Dict[str, Any], post: Optional[Callable[[str], str]]) -> CommandResult:
    rc = run.get("return_code")
    stdout = run.get("stdout") or ""
    return CommandResult(
        return_code=rc if rc is not None else -1,
        runtime=run.get("runtime", 0.0),
        stdout=post(stdout) if post else stdout,
        stderr=run.get("stderr") or "",
        timed_out=bool(run.get("timed_out")),
        had_unexpected_error=run.get("status") in ("internal", "invalid"),
    )


def _result_of(plan: _Plan, key: Any, record: Result, times: Dict[str, float]) -> ExecutionResult:
    runs = record["commands"] if "commands" in record else [record]
    by_command: List[List[Dict[str, Any]]] = [[] for _ in range(plan.num_commands)]
    for n, run in zip(plan.runs, runs):
        if run.get("status") != "not_run":
            by_command[n].append(run)
    results: List[CommandResult] = []
    for n, done in enumerate(by_command):
        if not done:
            break
        # num_times: stop at the first failed run; runtime is the mean when
        # all passed, else the first run's (the library's rule).
        kept = []
        for run in done:
            kept.append(run)
            if run.get("status") != "ok":
                break
        res = _command_result(kept[-1], plan.stdout_postprocessor)
        if len(kept) > 1 and kept[-1].get("status") == "ok":
            res = dataclasses.replace(res, runtime=sum(r.get("runtime", 0.0) for r in kept) / len(kept))
        elif len(kept) > 1:
            res = dataclasses.replace(res, runtime=kept[0].get("runtime", 0.0))
        results.append(res)
        if plan.custom_stop is not None and plan.custom_stop(n, res):
            break
        if len(kept) < len(done):
            break
    tracked = record.get("tracked_files") or {}
    return ExecutionResult(
        key=key, command_results=results,
        elapsed=sum(r.runtime for r in results), cwd=None,
        tracked_files={f: tracked.get(f) for f in plan.tracked},
        expected_num_commands=plan.num_commands, **times)


def _run_plans(plans: List[Tuple[Any, _Plan]], config: ExecutionConfig, pool: Optional[Pool],
               times: Callable[[Any], Dict[str, float]]) -> Dict[Any, ExecutionResult]:
    """Runs the plans; each result's key is its key's text, its timings `times(key)`."""
    if not plans:
        return {}
    workers = max(1, int(config.num_workers))
    own = pool is None and workers != _cpu_count()
    if pool is None:
        # A worker per CPU is what the default pool has, warm after its first use.
        pool = Pool(workers=workers) if own else default_pool()
    try:
        by_id = {plan.job["id"]: (key, plan) for key, plan in plans}
        out: Dict[Any, ExecutionResult] = {}
        for record in pool.run(plan.job for _, plan in plans):
            key, plan = by_id[record.id]
            out[key] = _result_of(plan, _key_text(key), record, times(key))
        return out
    finally:
        if own:
            pool.close()


def _key_text(key: Any) -> str:
    return ".".join(map(str, key)) if isinstance(key, tuple) else str(key)


# ---- the entry points -----------------------------------------------------------

def execute_commands(predictions: List[Dict[str, Any]], config: ExecutionConfig, *,
                     pool: Optional[Pool] = None) -> Tuple[float, float, List[Tuple[Any, ExecutionResult]]]:
    """Runs prepared commands: each prediction is ``{"key": ..., "executable":
    CommandsToRun}``, whose ``cwd`` holds the files the commands need (read
    from there into the job; what the commands write stays in the job's own
    dir, and ``tracked_files`` come back in the result).

    Returns ``(elapsed, pure_exec_time, [(key, ExecutionResult), ...])``.
    """
    start = time.perf_counter()
    plans = []
    for pred in predictions:
        key = pred["key"]
        ex: CommandsToRun = pred["executable"]
        files = _read_dir(Path(ex.cwd))
        plan = _plan(_key_text(key), files, ex.commands, list(ex.tracked_files),
                     ex.should_early_stop, ex.stdout_postprocessor, config.default_timeout)
        plans.append((key, plan))
    exec_start = time.perf_counter()
    results = _run_plans(plans, config, pool, lambda key: {})
    pure = time.perf_counter() - exec_start
    ordered = [(key, results[key]) for key, _ in plans]
    return time.perf_counter() - start, pure, ordered


def _read_dir(root: Path) -> Dict[str, str]:
    files: Dict[str, str] = {}
    if root.is_file():
        root = root.parent
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            files[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8",
                                                                       errors="surrogateescape")
    return files


def execute_predictions(config: ExecutionConfig, pred_list: List[Dict[str, Any]],
                        preprocessor: Callable[[Dict[str, Any]], Any],
                        postprocessor: Optional[Callable[[Dict[str, Any], Any], Dict[str, Any]]] = None,
                        debug_dir: Optional[Path] = None,
                        preproc_returns_list: bool = False,
                        preproc_batch_size: int = 1,
                        error_directory: Optional[Path] = None, *,
                        pool: Optional[Pool] = None) -> OverallExecutionResults:
    """Preprocesses each prediction into an :class:`Executable`, runs them
    all, and postprocesses each result with its prediction, as the library
    does.

    ``preprocessor(prediction)`` returns an Executable (a list of them with
    ``preproc_returns_list``), or an :class:`ExecutionResult` for a
    prediction not to run. ``postprocessor(prediction, result)`` returns a
    dict (default: the prediction's fields, then the result's); with
    ``preproc_returns_list`` it gets the list of results. ``debug_dir``, if
    given, receives a copy of each prediction's files (``pred<idx>.<sub>``).
    Functions need not be picklable: they run in this process.

    >>> from runbox.code_execution import ExecutionConfig, execute_predictions, Executable, Command
    >>> preds = [{"id": 1, "code": "print('Hello, World!')"}, {"id": 2, "code": "print(6 * 7)"}]
    >>> out = execute_predictions(
    ...     ExecutionConfig(num_workers=2), preds,
    ...     preprocessor=lambda p: Executable(files={"main.py": p["code"]},
    ...                                       commands=[Command(command=["python3", "main.py"])]),
    ...     postprocessor=lambda p, r: {"id": p["id"], "output": r.command_results[0].stdout})
    >>> [(r["id"], r["output"]) for r in out.results]
    [(1, 'Hello, World!\\n'), (2, '42\\n')]
    """
    if postprocessor is None:
        postprocessor = default_postprocessor
    start = time.perf_counter()
    preproc_times: Dict[Tuple[int, int], float] = {}
    plans: List[Tuple[Tuple[int, int], _Plan]] = []
    results: Dict[Tuple[int, int], ExecutionResult] = {}
    for idx, prediction in enumerate(pred_list):
        t0 = time.perf_counter()
        made = preprocessor(prediction)
        spent = time.perf_counter() - t0
        for sub_idx, item in enumerate(made if preproc_returns_list else [made]):
            key = (idx, sub_idx)
            preproc_times[key] = spent
            if isinstance(item, ExecutionResult):
                results[key] = dataclasses.replace(item, key=key, preprocess_time=spent)
                continue
            if not isinstance(item, Executable):
                raise TypeError(f"prediction {idx}: the preprocessor returned "
                                f"{type(item).__name__}, not an Executable or ExecutionResult")
            plans.append((key, _plan(_key_text(key), item.files, item.commands,
                                     list(item.tracked_files), item.should_early_stop,
                                     item.stdout_postprocessor, config.default_timeout)))
            if debug_dir is not None:
                _write_files(Path(debug_dir) / f"pred{_key_text(key)}", item.files)
    preprocessing_time = time.perf_counter() - start

    exec_start = time.perf_counter()
    results.update(_run_plans(plans, config, pool, lambda key: {
        "preprocess_time": preproc_times.get(key, 0.0), "writing_time": 0.0, "cleanup_time": 0.0}))
    execution_time = time.perf_counter() - exec_start

    post_start = time.perf_counter()
    grouped: List[Tuple[int, Any]] = []
    if preproc_returns_list:
        by_pred: Dict[int, List[ExecutionResult]] = {}
        for key in sorted(results):
            by_pred.setdefault(key[0], []).append(results[key])
        grouped = sorted(by_pred.items())
    else:
        grouped = [(key[0], results[key]) for key in sorted(results)]
    processed = []
    for idx, res in grouped:
        t0 = time.perf_counter()
        out = postprocessor(pred_list[idx], res)
        out["postprocess_time"] = time.perf_counter() - t0
        processed.append(out)
    postprocessing_time = time.perf_counter() - post_start
    return OverallExecutionResults(
        results=processed,
        net_time=time.perf_counter() - start,
        pure_exec_time=execution_time,
        execution_time=execution_time,
        writing_time=0.0,
        postprocessing_time=postprocessing_time,
        preprocessing_time=preprocessing_time,
    )


def _write_files(directory: Path, files: Dict[str, str]) -> None:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
