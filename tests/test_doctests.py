"""The public API's docstring examples run and say what the code does (``hingecheck`` and ``hingecheck.api``)."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("module_name", ["hingecheck", "hingecheck.api"])
def test_docstring_examples_run(module_name, monkeypatch):
    monkeypatch.chdir(REPO)  # the examples name samples/ relative to the repository
    module = importlib.import_module(module_name)
    failed, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert attempted > 0, f"{module_name} has no docstring examples"
    assert failed == 0, f"{failed} of {attempted} docstring examples of {module_name} failed (see the output above)"
