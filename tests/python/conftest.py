"""Shared fixtures of the Python package's suite (tests/python).

scripts/test.sh runs this suite with the package pip-installed into a fresh
venv, as docs/python.md says to install it; it imports `runbox` from there,
never from the source tree.

As root, runbox runs each job under a uid of its own, so every file a job
reads must be readable by any user: `shared_dir` makes such a directory
(pytest's own tmp_path is private to root).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from typing import Iterator

import pytest

import runbox

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(SOURCE_ROOT, "data")


@pytest.fixture(scope="session")
def pool() -> Iterator[runbox.Pool]:
    """One pool for the tests that only need some pool."""
    with runbox.Pool(workers=2, timeout=20) as p:
        yield p


def make_shared_dir() -> str:
    d = tempfile.mkdtemp(prefix="runbox-pytest-")
    os.chmod(d, 0o755)
    return d


@pytest.fixture
def shared_dir() -> Iterator[str]:
    """A directory any user can read: for files that jobs read."""
    d = make_shared_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


def write(directory: str, name: str, text: str) -> str:
    """Writes a file any user can read (directories on the way too)."""
    path = os.path.join(directory, name)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    d = parent
    while d.startswith(directory) and d != directory:
        os.chmod(d, 0o755)
        d = os.path.dirname(d)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)
    return path
