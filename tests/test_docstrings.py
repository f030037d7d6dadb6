"""Every docstring example in the package runs and prints what it says."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import autoscale

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(autoscale.__path__, "autoscale.")
    if not m.name.startswith("autoscale._traces") and m.name != "autoscale.__main__"
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0
