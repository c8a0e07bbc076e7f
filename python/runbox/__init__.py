"""Run untrusted Python programs in bulk, each in a sandboxed process.

runbox forks every job from a warm interpreter, inside a sandbox (rlimits,
seccomp, Landlock, namespaces), with a wall-clock timeout and memory and
output limits, and reports one record per job. This package drives its C
engine in-process, the same one the ``runbox`` command line uses.

>>> import runbox
>>> for r in runbox.run([{"id": "hi", "source": "print('hello')"}]):
...     print(r.id, r.status, r.stdout, end="")
hi ok hello

The main pieces:

- :func:`run` runs jobs and yields results as they finish; :class:`Pool`
  gives futures (``submit``), ``map``, and ``await pool.run_async(job)``;
- :class:`Job` / dicts with the manifest's fields (docs/manifest.md) are
  jobs; :class:`Result` is a record (docs/results.md);
- :func:`evaluate` grades HumanEval- or MBPP-format samples (pass@k);
- :func:`run_path`, :func:`run_module` and :class:`RunResult` are runpy's
  runner pattern, and :class:`CodeRunner` is Bokeh's, all in the sandbox;
- :mod:`runbox.code_execution` is the simple-code-execution library's
  interface (``Command``, ``Executable``, ``execute_predictions``...);
- :func:`interpreter` says which CPython runs jobs, :func:`site_packages`
  makes a venv's packages importable in them.

See docs/python.md.
"""

from . import _runbox
from ._jobs import FIELDS, Job, JobError, JobLike, JobTypeError
from ._results import Opaque, Result
from ._pool import EngineError, Pool, default_pool, run
from ._interpreter import Interpreter, InterpreterMismatch, interpreter, site_packages
from ._eval import EvalResult, evaluate
from ._runpy import RunResult, run_module, run_path
from ._coderunner import CodeRunner
from .code_execution import (Command, CommandResult, Executable, ExecutionConfig,
                             ExecutionResult, execute_commands, execute_predictions)

__all__ = [
    "CodeRunner", "Command", "CommandResult", "EngineError", "EvalResult", "Executable",
    "ExecutionConfig", "ExecutionResult", "FIELDS", "Interpreter", "InterpreterMismatch", "Job",
    "JobError", "JobLike", "JobTypeError", "Opaque", "Pool", "Result", "RunResult",
    "default_pool", "evaluate", "execute_commands", "execute_predictions", "interpreter",
    "run", "run_module", "run_path", "site_packages",
]

__version__ = _runbox.VERSION

# Exceptions show as runbox.X in tracebacks, where users import them from.
for _cls in (JobError, JobTypeError, InterpreterMismatch):
    _cls.__module__ = __name__
del _cls
