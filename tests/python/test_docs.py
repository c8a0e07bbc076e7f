"""Every example of docs/python.md and of the package's docstrings runs, and
prints what the text says it prints."""

import doctest
import importlib
import inspect
import os
import re

import pytest

import runbox
from conftest import SOURCE_ROOT

DOC = os.path.join(SOURCE_ROOT, "docs", "python.md")
MODULES = ["runbox", "runbox._jobs", "runbox._results", "runbox._pool", "runbox._interpreter",
           "runbox._eval", "runbox._runpy", "runbox._coderunner", "runbox.code_execution"]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def test_every_example_of_docs_python_md():
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    # Python examples are doctest blocks, so their output is checked too;
    # a plain python block would be run by nobody.
    assert not re.search(r"^```python", text, re.M), "write Python examples as ```pycon blocks"
    blocks = re.findall(r"^```pycon\n(.*?)^```", text, re.M | re.S)
    assert len(blocks) >= 10
    assert all(b.lstrip().startswith(">>>") for b in blocks)
    here = os.getcwd()
    os.chdir(SOURCE_ROOT)  # as a reader would, from the repository root
    try:
        result = doctest.testfile(DOC, module_relative=False, optionflags=FLAGS, verbose=False,
                                  globs={}, report=True)
    finally:
        os.chdir(here)
    assert result.attempted >= 50
    assert result.failed == 0


def test_the_readme_python_example():
    readme = os.path.join(SOURCE_ROOT, "README.md")
    with open(readme, encoding="utf-8") as f:
        assert re.search(r"^```pycon\n>>> import runbox", f.read(), re.M)
    result = doctest.testfile(readme, module_relative=False, optionflags=FLAGS, globs={}, report=True)
    assert result.attempted >= 2
    assert result.failed == 0


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=FLAGS, report=True)
    assert result.failed == 0


def test_every_public_name_is_documented():
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    for name in runbox.__all__:
        obj = getattr(runbox, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__doc__, name
        assert name in text, f"docs/python.md does not mention runbox.{name}"
