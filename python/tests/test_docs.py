"""The examples in the docstrings run and print what they say."""

import doctest
import importlib

import pytest

from cellcast import _cellcast

MODULES = [
    ("cellcast.chem", None),
    ("cellcast._split", None),
    ("cellcast._score", None),
    ("cellcast", None),
    ("cellcast._cells", None),
]


@pytest.mark.parametrize("name,binding", MODULES, ids=[m for m, _ in MODULES])
def test_docstring_examples(name, binding):
    if binding and not hasattr(_cellcast, binding):
        pytest.skip(f"{binding} binding not built yet")
    if name == "cellcast._cells":
        pytest.importorskip("anndata")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed (run with -s to see them)"
    assert result.attempted > 0
