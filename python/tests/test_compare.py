"""cellcast.compare: models made in Python, compared on a held-out set; every score equals
cellcast.score's, every interval holds its difference, and the headline names the winner."""

import numpy as np
import pandas as pd
import pytest

import cellcast


@pytest.fixture(scope="module")
def heldout():
    rng = np.random.default_rng(3)
    genes = [f"g{j}" for j in range(20)]
    truth = pd.DataFrame(rng.normal(size=(150, 20)), columns=genes)
    truth.insert(0, "id", [f"c{i}" for i in range(150)])
    y = truth[genes].to_numpy()
    models = {
        "mean": truth.assign(**{g: float(truth[g].mean()) for g in genes}),
        "ridge_like": truth.assign(**dict(zip(genes, (0.6 * y + rng.normal(0, 0.4, y.shape)).T))),
        "ridge_like2": truth.assign(**dict(zip(genes, (0.6 * y + rng.normal(0, 0.41, y.shape)).T))),
    }
    return truth, models


def test_scores_equal_score_and_intervals_hold(heldout, tmp_path):
    truth, models = heldout
    metrics = ["polaris/mean_squared_error", "per_compound_pearson"]
    r = cellcast.compare(truth, models, metrics=metrics, bootstrap=300, seed=1, out=tmp_path / "cmp")
    assert r.metrics == metrics and r.reference == "mean"
    for row in r.leaderboard.itertuples():
        assert row.score == cellcast.score(row.metric, truth, models[row.model]).value
        assert row.ci_low <= row.ci_high
    assert len(r.pairwise) == 6
    assert ((r.pairwise.ci_low <= r.pairwise.delta) & (r.pairwise.delta <= r.pairwise.ci_high)).all()
    assert (r.pairwise.p >= r.pairwise.p_resolution).all()
    mse = r.leaderboard[r.leaderboard.metric == metrics[0]].set_index("model")["rank"]
    assert mse["mean"] == 3
    assert r.headline.startswith("Under polaris/mean_squared_error (lower is better), ridge_like")
    assert "cannot be told apart" in r.headline
    assert r.scores().shape == (3, 2)
    assert sorted(r.written) == sorted(
        ["leaderboard.csv", "pairwise.csv", "rank_agreement.csv", "report.md", "report.html"]
    )
    on_disk = pd.read_csv(tmp_path / "cmp" / "leaderboard.csv", float_precision="round_trip")
    assert np.array_equal(on_disk["score"].to_numpy(), r.leaderboard["score"].to_numpy())


def test_folds_and_paths(heldout, tmp_path):
    truth, models = heldout
    paths = {}
    for name, frame in models.items():
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    folds = pd.DataFrame({"id": truth["id"], "fold": np.arange(len(truth)) % 3})
    r = cellcast.compare(truth, paths, metrics=["polaris/mean_squared_error"], folds=folds, bootstrap=100)
    assert set(r.folds["fold"]) == {"0", "1", "2"} and len(r.folds) == 9
    one = truth[folds["fold"] == 1]
    want = cellcast.score("polaris/mean_squared_error", one, models["mean"][folds["fold"] == 1]).value
    got = r.folds.query("model == 'mean' and fold == '1'")["score"].item()
    assert got == pytest.approx(want, rel=1e-12)


def test_refuses_bad_arguments(heldout):
    truth, models = heldout
    with pytest.raises(TypeError):
        cellcast.compare(truth, [models["mean"]])
    short = models["mean"].iloc[:10]
    with pytest.raises(ValueError, match="short"):
        cellcast.compare(truth, {"mean": models["mean"], "short": short})


def _task(task):
    """A small wide task: 90 simple molecules, 3 targets that depend on their size."""
    rng = np.random.default_rng(5)
    smiles = ["C" * k + end for end in ("", "O", "N") for k in range(1, 31)]
    ids = [f"m{i:03d}" for i in range(len(smiles))]
    size = np.array([len(s) for s in smiles], dtype=float)
    y = np.column_stack([size / 10, np.sin(size), -size / 20]) + rng.normal(0, 0.1, (len(smiles), 3))
    task.mkdir()
    train = pd.DataFrame(y[:75], columns=["t1", "t2", "t3"])
    train.insert(0, "smiles", smiles[:75])
    train.insert(0, "compound", ids[:75])
    train.to_csv(task / "train.csv", index=False)
    pd.DataFrame({"id": ids[75:], "smiles": smiles[75:]}).to_csv(task / "test_features.csv", index=False)
    pd.DataFrame({"id": ids[75:], "t1": 0.0, "t2": 0.0, "t3": 0.0}).to_csv(task / "sample_submission.csv", index=False)
    return train


def test_run_ranks_an_outside_model_on_the_same_folds(tmp_path):
    task = tmp_path / "task"
    train = _task(task)
    first = cellcast.run(task, out=tmp_path / "first", split="random", folds=3, models=["knn_tuned"])
    folds = tmp_path / "first" / "folds.csv"
    targets = ["t1", "t2", "t3"]
    mine = train[["compound"] + targets].rename(columns={"compound": "id"})
    mine[targets] = 0.9 * mine[targets]
    mine.to_csv(tmp_path / "mine.csv", index=False)
    r = cellcast.run(task, split_file=folds, predictions={"mine": tmp_path / "mine.csv"}, models=["knn_tuned"])
    board = r.leaderboard[r.leaderboard.metric == "polaris/mean_squared_error"].set_index("model")
    assert board.loc["mine", "rank"] == 1 and r.selected == first.selected
    y = train[targets].to_numpy()
    assert board.loc["mine", "score"] == pytest.approx(((0.1 * y) ** 2).mean(axis=0).mean(), rel=1e-12)
    # Without the folds it was made on, an outside model is refused.
    with pytest.raises(ValueError, match="split_file"):
        cellcast.run(task, predictions={"mine": tmp_path / "mine.csv"})
