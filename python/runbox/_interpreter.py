"""Which CPython runs the jobs, and a venv's packages in them."""

from __future__ import annotations

import dataclasses
import functools
import glob
import os
import stat
import subprocess
import sys
import sysconfig
from typing import List, Optional, Tuple, Union

from . import _runbox

__all__ = ["Interpreter", "InterpreterMismatch", "interpreter", "site_packages"]


class InterpreterMismatch(RuntimeError):
    """A venv's packages were built for another Python than the jobs'."""


@dataclasses.dataclass(frozen=True)
class Interpreter:
    """The CPython that runs every job: the one runbox was built against,
    whatever Python imports the package.

    ``executable`` and ``version`` describe it; ``caller_version`` is the
    version of the Python that imported runbox, and ``matches_caller`` says
    whether the two share a ``major.minor`` (and so whether packages
    installed for the caller, a venv's included, import in jobs).
    """

    executable: str
    version: str
    version_info: Tuple[int, ...]
    caller_version: str
    matches_caller: bool

    def __str__(self) -> str:
        return f"CPython {self.version} ({self.executable})"


def _caller_version() -> Tuple[int, ...]:
    return tuple(sys.version_info[:3])


@functools.lru_cache(maxsize=None)
def interpreter() -> Interpreter:
    """Which CPython runs the jobs.

    >>> import runbox, sys
    >>> interp = runbox.interpreter()
    >>> interp.executable
    '/usr/bin/python3.11'
    >>> interp.matches_caller == (sys.version_info[:2] == interp.version_info[:2])
    True
    """
    executable = _runbox.PYTHON_EXECUTABLE
    info: Tuple[int, ...] = tuple(int(x) for x in _runbox.PYTHON_VERSION.split("."))
    try:
        # The jobs' interpreter itself says its full version: trusted code,
        # isolated from this environment (-I -S -E).
        out = subprocess.run([executable, "-I", "-S", "-E", "-c",
                              "import sys; print(*sys.version_info[:3])"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
        info = tuple(int(x) for x in out.split())
    except (OSError, subprocess.SubprocessError, ValueError):
        pass  # the version runbox was built against, major.minor only
    caller = _caller_version()
    return Interpreter(
        executable=executable,
        version=".".join(map(str, info)),
        version_info=info,
        caller_version=".".join(map(str, caller)),
        matches_caller=(sys.implementation.name == "cpython" and caller[:2] == info[:2]),
    )


def _venv_version(venv: str) -> Optional[Tuple[int, ...]]:
    """The Python version a venv was made with, from its pyvenv.cfg."""
    try:
        with open(os.path.join(venv, "pyvenv.cfg"), encoding="utf-8") as f:
            for line in f:
                key, sep, value = line.partition("=")
                if sep and key.strip() in ("version", "version_info"):
                    parts = value.strip().split(".")
                    return tuple(int(p) for p in parts[:3] if p.isdigit())
    except OSError:
        pass
    return None


def site_packages(venv: Union[str, "os.PathLike[str]", None] = None) -> List[str]:
    """The site-packages directories of a venv, to give a pool as
    ``python_path`` so the venv's packages import in jobs.

    ``venv`` is the venv's directory; by default, the environment of the
    Python running this code. Refused with :class:`InterpreterMismatch` when
    the venv's Python is not the jobs' ``major.minor``: its compiled packages
    would not load there, and pure ones may not work. As root, refused with
    PermissionError when the directories are not readable by other users
    (jobs then run under uids of their own).

    >>> import runbox
    >>> if runbox.interpreter().matches_caller:
    ...     with runbox.Pool(python_path=runbox.site_packages()) as pool:
    ...         print(pool.submit({"source": "import runbox; print('ok')"}).result().stdout, end="")
    ... else:
    ...     print("ok")
    ok
    """
    jobs = interpreter()
    if venv is None:
        where = sys.prefix
        version = _caller_version() if sys.implementation.name == "cpython" else None
        paths = []
        for key in ("purelib", "platlib"):
            p = sysconfig.get_paths()[key]
            if p not in paths:
                paths.append(p)
    else:
        where = os.path.abspath(os.fspath(venv))
        if not os.path.isfile(os.path.join(where, "pyvenv.cfg")):
            raise FileNotFoundError(f"{where} is not a venv (it has no pyvenv.cfg)")
        version = _venv_version(where)
        paths = sorted(glob.glob(os.path.join(where, "lib*", "python*", "site-packages")))
    if version is None or version[:2] != jobs.version_info[:2]:
        found = ".".join(map(str, version[:2])) if version else "an unknown version"
        raise InterpreterMismatch(
            f"jobs run under Python {jobs.version} ({jobs.executable}), but the packages in "
            f"{where} are for Python {found}: compiled packages would not import in jobs. "
            f"Make the venv with '{jobs.executable} -m venv' and install the packages there.")
    found = [p for p in paths if os.path.isdir(p)]
    _check_readable_by_jobs(found)
    return found


def _check_readable_by_jobs(paths: List[str]) -> None:
    """As root, runbox runs each job under a uid of its own: a directory on
    the way to `paths` that other users cannot enter keeps the packages out
    of reach, which a job would only report as a ModuleNotFoundError."""
    if os.geteuid() != 0:
        return
    for path in paths:
        d = path
        while True:
            mode = os.stat(d).st_mode
            need = stat.S_IXOTH | (stat.S_IROTH if d == path else 0)
            if mode & need != need:
                raise PermissionError(
                    f"jobs run under uids of their own (this process runs as root) and cannot "
                    f"read {path}: {d} is not open to other users (mode {stat.filemode(mode)}). "
                    f"Make the venv where any user can read it (under /opt, say), or chmod o+rx {d}.")
            parent = os.path.dirname(d)
            if parent == d:
                break
            d = parent
