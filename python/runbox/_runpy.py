"""runpy's run_path and run_module, each run in the sandbox.

The runner pattern: run a script, get back whether it worked, its exit code,
its error and the names it left in its namespace (a ``RunResult``). Here the
script runs as a runbox job, so it cannot harm the caller; its namespace
comes back by value (JSON, or the repr of what is not JSON).
"""

from __future__ import annotations

import dataclasses
import keyword
import os
import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from ._jobs import JobTypeError
from ._pool import Pool, default_pool
from ._results import Result, namespace_values

__all__ = ["RunResult", "run_path", "run_module"]

_IDENTIFIER = re.compile(r"(?<![\w.])[^\W\d]\w*")


def names_in(source: str) -> List[str]:
    """Every identifier that appears in `source` outside attribute access,
    keywords and dunder names left out: a superset of the module-level names
    the program can bind. A name the program did not bind is simply absent
    from what comes back."""
    seen = dict.fromkeys(m.group(0) for m in _IDENTIFIER.finditer(source))
    return [n for n in seen
            if not keyword.iskeyword(n) and not (n.startswith("__") and n.endswith("__"))]


@dataclasses.dataclass(frozen=True)
class RunResult:
    """How a program run with :func:`run_path` or :func:`run_module` ended.

    ``ok`` is true when it ran to its end (or exited 0); ``exit_code`` is its
    exit code (``-N`` when killed by signal N); ``error`` says why it failed
    (``"ZeroDivisionError: division by zero"``, ``"wall time limit of 2 s
    exceeded"``); ``namespace`` holds the captured globals, JSON values as
    they are and anything else as a :class:`runbox.Opaque` showing its repr.
    ``result`` is the whole record.
    """

    ok: bool
    exit_code: Optional[int]
    error: Optional[str]
    namespace: Dict[str, Any]
    stdout: str
    stderr: str
    error_detail: Optional[str]
    status: str
    result: Result

    @classmethod
    def from_result(cls, r: Result) -> "RunResult":
        return cls(ok=r.ok, exit_code=r.return_code, error=r.error,
                   namespace=namespace_values(r), stdout=r.stdout, stderr=r.stderr,
                   error_detail=r.error_detail, status=r.status, result=r)


def _json_globals(init_globals: Optional[Mapping[str, Any]], job: str) -> Optional[Dict[str, Any]]:
    if init_globals is None:
        return None
    if not isinstance(init_globals, Mapping):
        raise TypeError(f"init_globals must be a dict, not {type(init_globals).__name__}")
    for key in init_globals:
        if not isinstance(key, str):
            raise JobTypeError(f"job {job!r}: init_globals keys must be strings, not {key!r}",
                               job, "globals")
    return dict(init_globals)


def _run(job: Dict[str, Any], pool: Optional[Pool]) -> RunResult:
    future = (pool or default_pool()).submit(job)
    try:
        return RunResult.from_result(future.result())
    except BaseException:
        future.cancel()  # Ctrl-C while waiting kills the job
        raise


def run_path(path: Union[str, "os.PathLike[str]"],
             init_globals: Optional[Mapping[str, Any]] = None,
             run_name: str = "__main__",
             argv: Optional[Sequence[str]] = None,
             capture: Optional[Iterable[str]] = None, *,
             stdin: Optional[str] = None,
             pool: Optional[Pool] = None,
             **fields: Any) -> RunResult:
    """Runs the program at ``path`` in the sandbox, as ``runpy.run_path``
    would run it: a ``.py`` file, or a directory or zip holding
    ``__main__.py``.

    ``init_globals`` (JSON values) are set before it runs; ``argv`` becomes
    ``sys.argv[1:]``; ``stdin`` is fed to it. ``capture`` names the globals
    to bring back; by default, for a ``.py`` file, every name its text
    mentions that it left in its namespace. Other keywords are job fields
    (``timeout=5``, ``memory_mb=256``...). ``pool`` runs it on that pool
    instead of the default one.

    ``run_name`` other than ``"__main__"`` runs a ``.py`` file's text as a
    program whose ``__name__`` is ``run_name`` (and ``sys.path`` holds the
    file's directory after the job's own).

    >>> import os, runbox, tempfile
    >>> d = tempfile.mkdtemp(); os.chmod(d, 0o755)
    >>> script = os.path.join(d, "area.py")
    >>> with open(script, "w") as f:
    ...     _ = f.write("import sys\\nside = int(sys.argv[1])\\narea = side * side\\n")
    >>> os.chmod(script, 0o644)
    >>> res = runbox.run_path(script, argv=["7"])
    >>> res.ok, res.exit_code, res.namespace["area"]
    (True, 0, 49)
    >>> runbox.run_path(script, argv=["x"]).error
    "ValueError: invalid literal for int() with base 10: 'x'"
    """
    file = os.path.abspath(os.fspath(path))
    job: Dict[str, Any] = {"id": os.path.basename(file) or file}
    job.update(fields)
    if argv is not None:
        job["argv"] = list(argv)
    if stdin is not None:
        job["stdin"] = stdin
    source = None
    if capture is None or run_name != "__main__":
        if file.endswith(".py") and os.path.isfile(file):
            with open(file, encoding="utf-8", errors="surrogateescape") as f:
                source = f.read()
        elif run_name != "__main__":
            raise ValueError("run_name other than '__main__' needs a .py file")
    names = list(capture) if capture is not None else names_in(source or "")
    if names:
        job["capture"] = names
    init = _json_globals(init_globals, job["id"])
    if run_name == "__main__":
        job["file"] = file
        if init:
            job["globals"] = init
    else:
        # runpy's run_name: the file's text as a program named run_name.
        job["source"] = source
        job["path"] = file
        job["globals"] = {**(init or {}), "__name__": run_name}
        job["python_path"] = [os.path.dirname(file)] + list(job.get("python_path", []))
    return _run(job, pool)


def run_module(mod_name: str,
               init_globals: Optional[Mapping[str, Any]] = None,
               run_name: str = "__main__",
               alter_sys: bool = True,
               argv: Optional[Sequence[str]] = None,
               capture: Optional[Iterable[str]] = None, *,
               stdin: Optional[str] = None,
               python_path: Optional[Sequence[Union[str, "os.PathLike[str]"]]] = None,
               pool: Optional[Pool] = None,
               **fields: Any) -> RunResult:
    """Runs module ``mod_name`` in the sandbox, as ``python3 -m`` (and
    ``runpy.run_module``) would: a package runs its ``__main__`` submodule.

    The module is looked up in the job's ``sys.path``: its working dir, then
    ``python_path``, then the interpreter's own. ``capture`` names the
    globals to bring back (a module's text is not read here, so nothing comes
    back without it). ``run_name`` other than ``"__main__"``, or
    ``alter_sys=False``, runs it through ``runpy.run_module`` inside the job
    with those arguments. Other keywords are as for :func:`run_path`.

    >>> import runbox
    >>> res = runbox.run_module("json.tool", stdin='{"b": 1, "a": [1, 2]}', argv=["--sort-keys"])
    >>> print(res.stdout, end="")
    {
        "a": [
            1,
            2
        ],
        "b": 1
    }
    """
    if not isinstance(mod_name, str) or not mod_name:
        raise TypeError(f"mod_name must be a module name, not {mod_name!r}")
    job: Dict[str, Any] = {"id": mod_name}
    job.update(fields)
    if argv is not None:
        job["argv"] = list(argv)
    if stdin is not None:
        job["stdin"] = stdin
    if python_path is not None:
        job["python_path"] = [os.path.abspath(os.fspath(p)) for p in python_path]
    names = list(capture) if capture is not None else []
    init = _json_globals(init_globals, mod_name)
    if run_name == "__main__" and alter_sys:
        job["module"] = mod_name
        if init:
            job["globals"] = init
        if names:
            job["capture"] = names
    else:
        # runpy.run_module itself, inside the job; what it returns becomes
        # the program's globals, so capture reads them as usual.
        given = sorted(init or {})
        job["source"] = (
            "import runpy as _runpy\n"
            f"globals().update(_runpy.run_module({mod_name!r}, "
            f"init_globals={{_k: globals()[_k] for _k in {given!r}}}, "
            f"run_name={run_name!r}, alter_sys={bool(alter_sys)!r}))\n")
        job["path"] = f"<run_module {mod_name}>"
        if init:
            job["globals"] = init
        if names:
            job["capture"] = names
    return _run(job, pool)
