"""evaluate(): what ``runbox eval`` does, from Python."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import tempfile
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from ._pool import EngineError, binary
from ._results import Result

__all__ = ["evaluate", "EvalResult"]

PathOrRecords = Union[str, "os.PathLike[str]", Iterable[Mapping[str, Any]]]


@dataclasses.dataclass(frozen=True)
class EvalResult:
    """What :func:`evaluate` found.

    ``pass_at_k`` is the pass@k dict ``runbox eval`` prints (``{"pass@1":
    0.5, ...}``, only the k a problem has enough samples for); ``records``
    holds one :class:`Result` per sample, in the samples' order: the sample's
    own fields, ``result`` and ``passed``, then the run's record
    (docs/eval.md).
    """

    pass_at_k: Dict[str, float]
    records: List[Result]

    @property
    def passed(self) -> int:
        """How many samples passed."""
        return sum(1 for r in self.records if r.get("passed"))


def _as_file(data: PathOrRecords, directory: str, name: str) -> str:
    if isinstance(data, (str, os.PathLike)):
        return os.path.abspath(os.fspath(data))
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as f:
        for i, item in enumerate(data):
            if not isinstance(item, Mapping):
                raise TypeError(f"{name.split('.')[0]} item {i} must be a dict, not {type(item).__name__}")
            f.write(json.dumps(dict(item), ensure_ascii=False) + "\n")
    return path


def evaluate(problems: PathOrRecords, samples: PathOrRecords,
             k: Sequence[int] = (1, 10, 100), *,
             workers: Optional[int] = None,
             timeout: Optional[float] = None,
             memory_mb: Optional[int] = None,
             rerun: bool = True,
             preload: Optional[str] = None,
             output: Union[str, "os.PathLike[str]", None] = None,
             format: Optional[str] = None,
             all_tests: bool = False,
             base_only: bool = False,
             min_time_limit: Optional[float] = None,
             time_limit_factor: Optional[float] = None,
             task_time_limit: Optional[float] = None,
             cache_dir: Union[str, "os.PathLike[str]", None] = None,
             evalplus_json: Union[str, "os.PathLike[str]", None] = None) -> EvalResult:
    """Grades samples against their problems by the benchmark's own rules
    and computes pass@k, as ``runbox eval`` does (docs/eval.md): same
    programs, same sandbox, same verdicts, same numbers. The formats are
    ``runbox eval``'s: HumanEval, MBPP, HumanEval+, MBPP+, LiveCodeBench,
    APPS, TACO, CodeContests and plain stdin/stdout lists, recognised from
    the problems' fields or named by ``format`` (``"humaneval+"``,
    ``"livecodebench"``, ...).

    ``problems`` and ``samples`` are files (JSON lines, gzipped or not; MBPP
    also as one JSON array; LiveCodeBench's own output file) or lists of
    dicts. ``k`` are the k for pass@k; those above the smallest number of
    samples a task has are left out, as the reference harness does.
    ``timeout`` replaces the grader's limit per test (HumanEval and MBPP:
    per sample, default 3 s). ``output`` keeps the results file there
    (replacing one); by default it is not kept.

    ``all_tests`` runs every test of a sample, also after one failed
    (evalplus's ``--test_details``). For HumanEval+ and MBPP+,
    ``base_only`` grades the base inputs only; a call gets
    ``time_limit_factor`` times the reference solution's time, at least
    ``min_time_limit`` seconds, and a sample's calls of one kind get at
    most ``task_time_limit`` seconds together (default 60); the reference
    outputs are cached in ``cache_dir``; ``evalplus_json`` also writes
    evalplus's ``eval_results.json`` there.

    >>> import runbox
    >>> problems = [{"task_id": "T/0", "prompt": "def add(a, b):\\n",
    ...              "canonical_solution": "    return a + b\\n",
    ...              "test": "def check(f):\\n    assert f(1, 2) == 3\\n", "entry_point": "add"}]
    >>> samples = [{"task_id": "T/0", "completion": "    return a + b\\n"},
    ...            {"task_id": "T/0", "completion": "    return a - b\\n"}]
    >>> ev = runbox.evaluate(problems, samples, k=(1,))
    >>> ev.pass_at_k
    {'pass@1': 0.5}
    >>> [r["result"] for r in ev.records]
    ['passed', 'failed: AssertionError (line 2 of the test)']

    Interrupting it (Ctrl-C) stops the grading and kills its jobs.
    """
    ks = [int(x) for x in k]
    if not ks or any(x < 1 for x in ks) or len(set(ks)) != len(ks):
        raise ValueError(f"k must be distinct whole numbers above 0, not {tuple(k)!r}")
    with tempfile.TemporaryDirectory(prefix="runbox-eval-") as tmp:
        problems_path = _as_file(problems, tmp, "problems.jsonl")
        samples_path = _as_file(samples, tmp, "samples.jsonl")
        results_path = os.path.abspath(os.fspath(output)) if output is not None else \
            os.path.join(tmp, "results.jsonl")
        argv = [binary("runbox"), "eval", "--problems", problems_path, "--samples", samples_path,
                "-o", results_path, "-k", ",".join(map(str, ks)), "--overwrite", "-q"]
        if workers is not None:
            argv += ["-j", str(int(workers))]
        if timeout is not None:
            argv += ["--timeout", repr(float(timeout))]
        if memory_mb is not None:
            argv += ["--memory", str(int(memory_mb))]
        if not rerun:
            argv.append("--no-rerun")
        if preload is not None:
            argv += ["--preload", preload]
        if format is not None:
            argv += ["--format", str(format)]
        if all_tests:
            argv.append("--all-tests")
        if base_only:
            argv.append("--base-only")
        if min_time_limit is not None:
            argv += ["--min-time-limit", repr(float(min_time_limit))]
        if time_limit_factor is not None:
            argv += ["--time-limit-factor", repr(float(time_limit_factor))]
        if task_time_limit is not None:
            argv += ["--task-time-limit", repr(float(task_time_limit))]
        if cache_dir is not None:
            argv += ["--cache-dir", os.path.abspath(os.fspath(cache_dir))]
        if evalplus_json is not None:
            argv += ["--evalplus-json", os.path.abspath(os.fspath(evalplus_json))]
        # The binary ends (SIGTERM, handled as ^C) when this process does,
        # however it ends (runbox's main: RUNBOX_DIE_WITH_PARENT).
        env = dict(os.environ, RUNBOX_ZYGOTE=binary("runbox-zygote"),
                   RUNBOX_DIE_WITH_PARENT=str(os.getpid()))
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, env=env, text=True)
        try:
            out, err = proc.communicate()
        except BaseException:
            proc.send_signal(signal.SIGINT)  # runbox eval stops and kills its jobs
            try:
                proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
            raise
        if proc.returncode != 0:
            raise EngineError(f"runbox eval failed (exit status {proc.returncode}): "
                              f"{err.strip() or out.strip()}")
        lines = out.strip().splitlines()
        pass_at_k = json.loads(lines[-1]) if lines else {}
        with open(results_path, encoding="utf-8", errors="surrogateescape") as f:
            records = [Result(json.loads(line)) for line in f if line.strip()]
    return EvalResult(pass_at_k=pass_at_k, records=records)
