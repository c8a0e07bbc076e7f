"""Bokeh's CodeRunner, with the code run in the sandbox.

Same constructor, properties and methods as
``bokeh.application.handlers.code_runner.CodeRunner``, so a handler built on
it can switch by changing an import. What differs follows from the code
running in another process:

- the source is compiled (for ``failed``, ``error``, ``doc`` right after
  construction) inside a sandboxed job too, not in the calling process;
- ``run(module)`` sends the module's JSON-able globals into the job and
  brings back, into ``module.__dict__``, the names the program left in its
  namespace (JSON values as they are, anything else as a
  :class:`runbox.Opaque` showing its repr);
- ``post_check`` runs here, after the job, with that namespace in place;
- the program's output is written to this process's stdout and stderr
  (``echo=False`` keeps it in ``result`` only).
"""

from __future__ import annotations

import os
import re
import sys
import traceback
import uuid
from os.path import basename, dirname
from types import ModuleType
from typing import Any, Callable, Dict, List, Optional, Union

from ._pool import Pool, default_pool
from ._results import Result, namespace_values, split_error
from ._runpy import names_in

__all__ = ["CodeRunner"]

PathLike = Union[str, "os.PathLike[str]"]

# Compiles the source given in `source` under `filename`, in a job: the
# calling process never parses untrusted text.
_COMPILE_CHECK = '''\
import ast, os, traceback
doc = error = error_detail = None
try:
    tree = ast.parse(source, filename)
    compile(tree, filename, "exec", dont_inherit=True)
    doc = ast.get_docstring(tree, clean=False)
except SyntaxError as e:
    name = os.path.basename(e.filename) if e.filename is not None else "???"
    error = f"Invalid syntax in {name!r} on line {e.lineno or '???'}:\\n{e.text or '???'}"
    error_detail = traceback.format_exc()
'''

_FRAME = re.compile(r'^  File "(?P<file>[^"]*)", line (?P<line>\d+), in (?P<func>.*)\n(?:    (?P<text>.*)\n)?',
                    re.MULTILINE)


def _json_like(value: Any, depth: int = 0) -> bool:
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if depth > 32:
        return False
    if isinstance(value, (list, tuple)):
        return all(_json_like(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_like(v, depth + 1) for k, v in value.items())
    return False


class CodeRunner:
    """Compile and run Python source code, in runbox's sandbox.

    ``source`` is the program's text, ``path`` the filename it runs under
    (tracebacks, ``__file__``), ``argv`` its ``sys.argv[1:]``; ``package`` a
    package module (from another CodeRunner's ``new_module()`` for an
    ``__init__.py``) whose directory the program's relative imports resolve
    against. Keyword-only: ``pool`` (default: the default pool), ``echo``,
    and job fields such as ``timeout``.

    >>> import runbox
    >>> cr = runbox.CodeRunner("'''Squares.'''\\nimport sys\\nsquares = [i * i for i in range(int(sys.argv[1]))]\\n",
    ...                        "squares.py", ["4"])
    >>> cr.failed, cr.doc
    (False, 'Squares.')
    >>> module = cr.new_module()
    >>> cr.run(module)
    >>> cr.ran, cr.failed, module.squares
    (True, False, [0, 1, 4, 9])
    >>> bad = runbox.CodeRunner("def f(:\\n", "bad.py", [])
    >>> bad.failed, bad.error
    (True, "Invalid syntax in 'bad.py' on line 1:\\ndef f(:\\n")
    """

    def __init__(self, source: str, path: PathLike, argv: List[str],
                 package: Optional[ModuleType] = None, *,
                 pool: Optional[Pool] = None, echo: bool = True, **fields: Any) -> None:
        if package and basename(os.fspath(path)) == "__init__.py":
            raise ValueError("__init__.py cannot have package specified")
        self._pool = pool
        self._echo = echo
        self._fields = fields
        self._permanent_error: Optional[str] = None
        self._permanent_error_detail: Optional[str] = None
        self.reset_run_errors()
        self._path = path
        self._source = source
        self._argv = argv
        self._package = package
        self.ran = False
        #: The last run's record, or None before the first run.
        self.result: Optional[Result] = None
        check = self._job({
            "id": "compile:" + basename(os.fspath(path)),
            "source": _COMPILE_CHECK,
            "path": "<runbox compile check>",
            "globals": {"source": source, "filename": os.fspath(path)},
            "capture": ["doc", "error", "error_detail"],
        })
        ns = namespace_values(check)
        if not check.ok:
            raise RuntimeError(f"the compile check of {os.fspath(path)!r} failed: {check.error}")
        self._compiled = ns.get("error") is None
        self._doc: Optional[str] = ns.get("doc")
        if not self._compiled:
            self._permanent_error = ns.get("error")
            self._permanent_error_detail = ns.get("error_detail")

    def _job(self, job: Dict[str, Any]) -> Result:
        future = (self._pool or default_pool()).submit({**self._fields, **job})
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    # ---- properties ------------------------------------------------------

    @property
    def doc(self) -> Optional[str]:
        """The module docstring of the source, or None."""
        return self._doc

    @property
    def error(self) -> Optional[str]:
        """Why the code does not compile, or why its last run failed; None otherwise."""
        return self._error if self._permanent_error is None else self._permanent_error

    @property
    def error_detail(self) -> Optional[str]:
        """The traceback (or other detail) behind ``error``, or None."""
        return self._error_detail if self._permanent_error_detail is None else self._permanent_error_detail

    @property
    def failed(self) -> bool:
        """True when the last run failed or the source does not compile."""
        return self._failed or not self._compiled

    @property
    def path(self) -> PathLike:
        """The filename the code runs under, as given."""
        return self._path

    @property
    def source(self) -> str:
        """The program text ``run`` sends to the sandbox."""
        return self._source

    # ---- methods ---------------------------------------------------------

    def new_module(self) -> Optional[ModuleType]:
        """A new, empty module for ``run`` (clearing the last run's errors),
        or None when the source does not compile."""
        self.reset_run_errors()
        if not self._compiled:
            return None
        name = "bokeh_app_" + uuid.uuid4().hex
        module = ModuleType(name)
        module.__dict__["__file__"] = os.path.abspath(self._path)
        if self._package:
            module.__package__ = self._package.__name__
            module.__path__ = [dirname(os.fspath(self._path))]  # type: ignore[attr-defined]
        if basename(os.fspath(self._path)) == "__init__.py":
            module.__package__ = name
            module.__path__ = [dirname(os.fspath(self._path))]  # type: ignore[attr-defined]
        return module

    def reset_run_errors(self) -> None:
        """Forgets the last run's failure; a failure to compile stays."""
        self._failed = False
        self._error: Optional[str] = None
        self._error_detail: Optional[str] = None

    def run(self, module: ModuleType, post_check: Optional[Callable[[], None]] = None) -> None:
        """Runs the code in a sandboxed job with ``module``'s globals, brings
        the names it bound back into ``module``, then calls ``post_check``
        (which raises if expected post-conditions are not met).

        A failure (an exception, a timeout, a post-check that raised) sets
        ``failed``, ``error`` and ``error_detail``, as in Bokeh.
        """
        if not self._compiled:
            raise RuntimeError(f"{os.fspath(self._path)!r} does not compile: {self._permanent_error}")
        path = os.fspath(self._path)
        job: Dict[str, Any] = {
            "id": basename(path) or "code",
            "source": self._source,
            "path": path,
            "argv": list(self._argv),
            "capture": names_in(self._source),
        }
        init = {k: v for k, v in module.__dict__.items()
                if not (k.startswith("__") and k.endswith("__")) and _json_like(v)}
        if init:
            job["globals"] = init
        roots = []
        # Bokeh puts the file's directory first on sys.path; a job's first
        # entry is its working dir, so the directory comes right after it.
        here = dirname(os.path.abspath(path))
        if os.path.isdir(here):
            roots.append(here)
        package_dir = self._package_dir()
        if package_dir:
            job["package"] = basename(package_dir)
            roots.append(dirname(package_dir))
        if roots:
            job["python_path"] = roots + list(self._fields.get("python_path", []))
        try:
            r = self._job(job)
        finally:
            self.ran = True
        self.result = r
        if self._echo:
            sys.stdout.write(r.stdout)
            sys.stderr.write(r.stderr)
        for name, value in namespace_values(r).items():
            module.__dict__[name] = value
        if not r.ok:
            self._failed = True
            self._error, self._error_detail = _bokeh_error(r, path, self._source)
            return
        if post_check:
            try:
                post_check()
            except Exception as e:
                self._failed = True
                self._error_detail = traceback.format_exc()
                frame = traceback.extract_tb(e.__traceback__)[-1]
                self._error = f"{e}\nFile {basename(frame.filename)!r}, line {frame.lineno}, " \
                              f"in {frame.name}:\n{frame.line}"

    def _package_dir(self) -> Optional[str]:
        if not self._package:
            return None
        paths = getattr(self._package, "__path__", None) or []
        if not paths:
            raise ValueError(f"package {self._package.__name__!r} has no __path__: "
                             "give the module new_module() made for its __init__.py")
        d = os.path.abspath(paths[0])
        if not basename(d).isidentifier():
            raise ValueError(f"package directory {d!r} is not an importable name")
        return d


def _bokeh_error(r: Result, path: str, source: str) -> "tuple[Optional[str], Optional[str]]":
    """error and error_detail as Bokeh words them: the exception's message,
    then where it surfaced: File 'app.py', line 3, in <module>: the line."""
    detail = r.error_detail
    frames = list(_FRAME.finditer(detail or ""))
    if not frames or r.status != "error":
        return r.error, detail or (r.stderr or None)
    last = frames[-1]
    text = last["text"]
    if text is None and last["file"] == path:
        # The job's traceback could not show the line (no file at `path`
        # where it ran); Bokeh's, reading the file, would.
        lines = source.splitlines()
        n = int(last["line"])
        text = lines[n - 1].strip() if 0 < n <= len(lines) else ""
    message = split_error(r.error)[1]
    return (f"{message}\nFile {basename(last['file'])!r}, line {last['line']}, "
            f"in {last['func']}:\n{text or ''}", detail)
