"""cellcast.pseudobulk and cellcast.targets on in-memory AnnData and on .h5ad paths, against the
committed scanpy fixtures and against scanpy itself."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import cellcast
from conftest import GOLDEN

anndata = pytest.importorskip("anndata")
sp = pytest.importorskip("scipy.sparse")

H5AD = GOLDEN / "h5ad"
FIXTURES = [p for p in sorted(H5AD.glob("*.json")) if (H5AD / p.name.replace(".json", ".h5ad")).exists()]


def cases():
    for p in FIXTURES:
        spec = json.loads(p.read_text())
        for i, case in enumerate(spec.get("pseudobulk") or []):
            if case.get("replicate_column") is None:
                yield pytest.param(p, case, id=f"{p.stem}-{i}-{case['group_column']}-{case['normalize']}-{case['agg']}-{case.get('variant')}")


@pytest.mark.parametrize("fixture,case", list(cases()))
@pytest.mark.parametrize("source", ["memory", "path"])
def test_pseudobulk_matches_scanpy_fixtures(fixture, case, source):
    path = H5AD / fixture.name.replace(".json", ".h5ad")
    adata = anndata.read_h5ad(path) if source == "memory" else path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cellcast.CellcastWarning)
        got = cellcast.pseudobulk(adata, case["group_column"], normalize=case["normalize"], layer=case["layer"], agg=case["agg"])
    want = pd.DataFrame(case["values"], index=case["groups"], columns=case["genes"])
    assert list(got.index) == list(want.index)
    assert list(got.columns) == list(want.columns)
    # "native": scanpy computed in the file's dtype (float32 sums); cellcast sums in float64.
    tol = 1e-9 if case.get("variant") in (None, "float64") else 1e-6
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=tol, atol=tol)


def make_adata(fmt, dtype, categorical):
    rng = np.random.default_rng(7)
    counts = rng.poisson(rng.gamma(1.0, 2.0, size=(1, 30)), size=(200, 30)).astype(dtype)
    groups = rng.choice(["ctrl", "KO_A", "KO_B", "KO_C"], size=200)
    obs = pd.DataFrame({"perturbation": pd.Categorical(groups) if categorical else groups}, index=[f"c{i}" for i in range(200)])
    x = {"csr": sp.csr_matrix, "csc": sp.csc_matrix, "dense": np.asarray}[fmt](counts)
    return anndata.AnnData(x, obs=obs, var=pd.DataFrame(index=[f"G{j}" for j in range(30)]))


@pytest.mark.parametrize("fmt", ["csr", "csc", "dense"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32])
@pytest.mark.parametrize("categorical", [True, False])
def test_pseudobulk_matches_scanpy(fmt, dtype, categorical):
    sc = pytest.importorskip("scanpy")
    adata = make_adata(fmt, dtype, categorical)
    got = cellcast.pseudobulk(adata, "perturbation", normalize="cp10k-log1p")
    ref = adata.copy()
    ref.X = sp.csr_matrix(ref.X, dtype=np.float64)
    ref.obs["perturbation"] = ref.obs["perturbation"].astype("category")
    sc.pp.normalize_total(ref, target_sum=1e4)
    sc.pp.log1p(ref)
    agg = sc.get.aggregate(ref, by="perturbation", func="mean")
    want = pd.DataFrame(agg.layers["mean"], index=agg.obs_names, columns=agg.var_names)
    assert sorted(got.index) == sorted(want.index)
    want = want.loc[got.index]
    tol = 1e-5 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=tol, atol=tol)


def test_pseudobulk_sum_of_raw_counts():
    adata = make_adata("csr", np.float64, True)
    got = cellcast.pseudobulk(adata, "perturbation", normalize="none", agg="sum")
    dense = adata.X.toarray()
    for g in got.index:
        np.testing.assert_allclose(got.loc[g].to_numpy(), dense[(adata.obs["perturbation"] == g).to_numpy()].sum(axis=0))


def test_pseudobulk_errors():
    adata = make_adata("csr", np.float64, True)
    with pytest.raises(ValueError, match="no column 'nope'"):
        cellcast.pseudobulk(adata, "nope")
    with pytest.raises(ValueError):
        cellcast.pseudobulk(adata, "perturbation", normalize="zscore")
    with pytest.raises(OSError):
        cellcast.pseudobulk("/nonexistent.h5ad", "perturbation")


def test_targets_rank_finds_planted_knockdowns():
    rng = np.random.default_rng(3)
    n, genes = 300, 40
    counts = rng.poisson(20.0, size=(n, genes)).astype(np.float64)
    labels = np.array(["ctrl"] * 100 + ["G3"] * 100 + ["G7"] * 100)
    counts[labels == "G3", 3] = rng.poisson(2.0, size=100)
    counts[labels == "G7", 7] = rng.poisson(2.0, size=100)
    adata = anndata.AnnData(
        sp.csr_matrix(counts),
        obs=pd.DataFrame({"perturbation": labels}, index=[f"c{i}" for i in range(n)]),
        var=pd.DataFrame(index=[f"G{j}" for j in range(genes)]),
    )
    ranks = cellcast.targets.rank(adata, "perturbation", control="ctrl", direction="down")
    assert isinstance(ranks, pd.DataFrame)
    assert list(ranks.index) == ["G3", "G7"] and list(ranks.columns) == [f"G{j}" for j in range(genes)]
    assert ranks.loc["G3"].idxmax() == "G3" and ranks.loc["G7"].idxmax() == "G7"
    # What was done: two groups are too few for auto to choose, so its fallback, plain.
    record = ranks.attrs["cellcast"]
    assert record["statistic"]["asked"] == "auto" and record["statistic"]["used"] == "combined"
    assert record["statistic"]["specific"] is False and record["direction"] == "down"
    assert "choosing needs 5" in record["statistic"]["why"]
    assert record["normalization"]["name"] == "cp10k-log1p" and record["not_ranked"] == []
    # Every statistic finds them; the mean shift of G3 in control SDs is its formula's value.
    for statistic in ["wilcoxon", "welch", "mean_z", "detection", "combined"]:
        r = cellcast.targets.rank(adata, "perturbation", "ctrl", "down", statistic=statistic, specific=False)
        assert r.attrs["cellcast"]["statistic"]["used"] == statistic
        assert r.loc["G3"].idxmax() == "G3" and r.loc["G7"].idxmax() == "G7", statistic
    x = np.log1p(counts / counts.sum(axis=1, keepdims=True) * 1e4)
    ctrl, g3 = x[labels == "ctrl", 3], x[labels == "G3", 3]
    r = cellcast.targets.rank(adata, "perturbation", "ctrl", "up", statistic="mean_z", specific=False)
    assert np.isclose(r.loc["G3", "G3"], (g3.mean() - ctrl.mean()) / ctrl.std(ddof=1), rtol=1e-12)
    with pytest.raises(ValueError, match="no target statistic 'ttest'"):
        cellcast.targets.rank(adata, "perturbation", "ctrl", statistic="ttest")
