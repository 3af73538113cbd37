import re

import pandas as pd
import pytest

import cellcast


def test_version_and_exports():
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", cellcast.__version__)
    for name in ["metrics", "score", "split", "pseudobulk", "run", "chem", "targets"]:
        assert hasattr(cellcast, name), name


def test_exception_classes_subclass_the_builtin_kinds():
    assert issubclass(cellcast.InputError, ValueError)
    assert issubclass(cellcast.CellcastIOError, OSError)
    assert issubclass(cellcast.ComputeError, RuntimeError)
    for c in (cellcast.InputError, cellcast.CellcastIOError, cellcast.ComputeError):
        assert issubclass(c, cellcast.CellcastError)
    assert issubclass(cellcast.CellcastWarning, UserWarning)


def test_metrics_lists_the_registry():
    m = cellcast.metrics()
    assert isinstance(m, pd.DataFrame)
    assert list(m.columns) == ["name", "direction", "inputs", "params", "missing_truth", "summary", "source"]
    m = m.set_index("name")
    assert m.loc["polaris/mean_squared_error", "direction"] == "lower"
    assert m.loc["polaris/pr_auc", "direction"] == "higher"
    assert "masked" in m.loc["polaris/mean_squared_error", "missing_truth"]
    keys = [p["key"] for p in m.loc["myllia/score", "params"]]
    assert "cos_right" in keys
    assert set(m["direction"]) == {"lower", "higher"}
    assert len(m) >= 20

