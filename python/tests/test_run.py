import pandas as pd
import pytest

import cellcast
from conftest import shared_path


def test_run_on_the_l1000_task(tmp_path):
    task = shared_path("tasks/l1000-drugbank")
    sample = pd.read_csv(task / "sample_submission.csv")
    r = cellcast.run(task, out=tmp_path / "out", models=["ridge_descriptors"])
    assert r.selected in set(r.leaderboard["model"])
    official = r.leaderboard[r.leaderboard["metric"] == "polaris/mean_squared_error"]
    assert set(official["model"]) == {"mean", "ridge_descriptors"}
    assert official["score"].min() < official[official["model"] == "mean"]["score"].iloc[0]
    assert list(r.submission.columns) == list(sample.columns)
    assert len(r.submission) == len(sample)
    written = pd.read_csv(tmp_path / "out" / "submission.csv")
    pd.testing.assert_frame_equal(written, r.submission, check_exact=False, rtol=1e-12, check_dtype=False)


def test_run_refuses_a_bad_split(tmp_path):
    with pytest.raises(ValueError, match="split must be"):
        cellcast.run(tmp_path, split="stratified")
    with pytest.raises((ValueError, OSError)):
        cellcast.run(tmp_path / "missing")
