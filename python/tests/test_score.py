"""cellcast.score against the committed golden fixtures (polaris-lib, scikit-learn, cell-eval and
the Kaggle/VCPI reference code), from DataFrames and from files."""

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import cellcast
from conftest import GOLDEN


CASES = sorted(p for p in (GOLDEN / "score").iterdir() if (p / "expected.json").exists())


def read_table(path):
    # Every column but the id as numbers where they are numbers; the id stays text.
    return pd.read_csv(path, dtype={"id": str}, keep_default_na=True)


def case_args(case):
    exp = json.loads((case / "expected.json").read_text())
    kw = dict(exp.get("params") or {})
    for name in ("weights", "baseline"):
        if (case / f"{name}.csv").exists():
            kw[name] = case / f"{name}.csv"
    if exp.get("group_by"):
        kw["group_by"] = exp["group_by"]
    return exp, kw


def assert_close(got, want, what):
    if want is None or (isinstance(want, float) and math.isnan(want)):
        assert math.isnan(got), what
    else:
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12), what


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_score_matches_the_reference_from_files(case):
    exp, kw = case_args(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cellcast.CellcastWarning)
        r = cellcast.score(exp["metric"], case / "truth.csv", case / "pred.csv", **kw)
    assert_close(r.value, exp["value"], "value")
    assert r.breakdown.name == exp["breakdown"]
    for key, want in (exp.get("scores") or {}).items():
        assert_close(r.breakdown[key], want, key)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_score_matches_the_reference_from_dataframes(case):
    exp, kw = case_args(case)
    for name in ("weights", "baseline"):
        if name in kw:
            kw[name] = read_table(kw[name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cellcast.CellcastWarning)
        r = cellcast.score(exp["metric"], read_table(case / "truth.csv"), read_table(case / "pred.csv"), **kw)
    assert_close(r.value, exp["value"], "value")
    assert r.direction in ("lower", "higher")
    for key, want in (exp.get("scores") or {}).items():
        assert_close(r.breakdown[key], want, key)


def test_id_column_may_be_the_index():
    truth = pd.DataFrame({"g1": [1.0, 2.0], "g2": [0.0, 1.0]}, index=pd.Index(["a", "b"], name="id"))
    pred = pd.DataFrame({"id": ["b", "a"], "g1": [2.0, 1.5], "g2": [0.0, 0.0]})
    r = cellcast.score("polaris/mean_squared_error", truth, pred)
    assert r.value == pytest.approx(0.3125)
    assert r.breakdown.to_dict() == pytest.approx({"g1": 0.125, "g2": 0.5})


def test_masked_truth_warns_and_is_returned():
    truth = pd.DataFrame({"id": ["a", "b", "c"], "g": [1.0, np.nan, 3.0]})
    pred = pd.DataFrame({"id": ["a", "b", "c"], "g": [1.0, 2.0, 3.0]})
    with pytest.warns(cellcast.CellcastWarning):
        r = cellcast.score("polaris/mean_squared_error", truth, pred)
    assert r.warnings and r.n_masked == 1 and r.value == 0.0


def test_errors_name_the_row_and_column():
    truth = pd.DataFrame({"id": ["a", "b"], "g": [1.0, 2.0]})
    pred = pd.DataFrame({"id": ["a", "b"], "g": [1.0, np.inf]})
    with pytest.raises(ValueError, match=r"(?s)pred.*'b'.*'g'"):
        cellcast.score("polaris/mean_squared_error", truth, pred)
    with pytest.raises(ValueError, match="metric"):
        cellcast.score("no/such_metric", truth, truth)
    with pytest.raises(OSError):
        cellcast.score("polaris/mean_squared_error", "/nonexistent/truth.csv", pred)


def test_params_are_passed_like_the_command_line():
    case = GOLDEN / "score" / "ranking_relevant_hit_k3"
    exp = json.loads((case / "expected.json").read_text())
    with pytest.warns(cellcast.CellcastWarning, match="without a target"):
        r = cellcast.score("ranking/relevant_hit@k", case / "truth.csv", case / "pred.csv", k=3)
    assert r.value == pytest.approx(exp["value"])
    assert r.metric == "ranking/relevant_hit@3"
