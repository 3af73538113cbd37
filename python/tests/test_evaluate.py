"""cellcast.evaluate against cell-eval 0.8.2's own outputs (fixtures/golden/evaluate/, made by its
CLI): from paths and from AnnData in memory (CSR, CSC, dense), counts and log1p, per cell type,
with a baseline, the ceiling, and clean errors."""

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import cellcast
from conftest import GOLDEN

CASES = GOLDEN / "evaluate"


def assert_frame_close(ours: pd.DataFrame, path: Path, key: str = "perturbation") -> None:
    theirs = pd.read_csv(path)
    assert list(ours.columns) == list(theirs.columns)
    assert list(ours[key]) == list(theirs[key])
    a = ours.drop(columns=[key]).to_numpy(dtype=float)
    b = theirs.drop(columns=[key]).to_numpy(dtype=float)
    both_nan = np.isnan(a) & np.isnan(b)
    assert ((np.abs(a - b) <= 1e-6 * np.maximum(np.abs(a), np.abs(b)) + 1e-12) | both_nan).all()


def test_paths_give_cell_evals_results_and_aggregate():
    d = CASES / "norman_log1p"
    results, agg = cellcast.evaluate(d / "real.h5ad", d / "pred.h5ad", pert_column="condition", control="control")
    assert len(results.columns) == 29  # perturbation + the 28 columns of the full profile
    assert_frame_close(results, d / "results.csv")
    assert_frame_close(agg, d / "agg_results.csv", key="statistic")


@pytest.mark.parametrize("layout", ["csr", "csc", "dense"])
def test_anndata_in_memory_equals_the_file(layout):
    d = CASES / "papalexi_counts"
    real, pred = ad.read_h5ad(d / "real.h5ad"), ad.read_h5ad(d / "pred.h5ad")
    for a in (real, pred):
        a.X = {"csr": sp.csr_matrix, "csc": sp.csc_matrix, "dense": lambda x: x.toarray()}[layout](a.X)
    # The case was made on a CPU with AVX-512 (numpy's own float32 log1p kernel).
    with pytest.warns(cellcast.CellcastWarning, match="control cells differ"):
        r = cellcast.evaluate(real, pred, pert_column="target_top", control="non-targeting", numpy_log1p="avx512")
    assert_frame_close(r.results, d / "results.csv")
    files = r.run["evaluations"][0]["results"]["files"]
    assert [f["scale"] for f in files] == ["counts", "counts"]
    assert all(f["normalized"] for f in files)


def test_cell_types_are_evaluated_one_by_one():
    d = CASES / "mcfaline_celltype"
    r = cellcast.evaluate(d / "real.h5ad", d / "pred.h5ad", pert_column="condition", control="control",
                          celltype_column="cell_type")
    assert list(r.results.columns[:2]) == ["celltype", "perturbation"]
    for ct, block in r.results.groupby("celltype", sort=False):
        theirs = pd.read_csv(d / f"{ct}_results.csv")
        # A metric with no value in one cell type is a column of that cell type's file only;
        # in the joined frame it is NaN there.
        extra = [c for c in block.columns if c not in theirs.columns and c != "celltype"]
        assert block[extra].isna().all().all()
        assert_frame_close(block[list(theirs.columns)].reset_index(drop=True), d / f"{ct}_results.csv")


def test_baseline_scores_as_cell_eval_score():
    d = CASES / "norman_baseline_vcc"
    real, pred = CASES / "norman_log1p/real.h5ad", CASES / "norman_log1p/pred.h5ad"
    r = cellcast.evaluate(real, pred, pert_column="condition", control="control", profile="vcc",
                          baseline=d / "baseline.h5ad")
    theirs = pd.read_csv(d / "score.csv")
    assert list(r.scores["metric"]) == list(theirs["metric"])
    np.testing.assert_allclose(r.scores["from_baseline"], theirs["from_baseline"], rtol=1e-6, atol=1e-12)


def test_ceiling_and_files(tmp_path):
    d = CASES / "norman_ceiling"
    real = CASES / "norman_log1p/real.h5ad"
    r = cellcast.evaluate(real, pert_column="condition", control="control", ceiling=True, out=tmp_path / "o")
    assert r.results is None
    assert_frame_close(r.ceiling, d / "ceiling_results.csv")
    theirs = pd.read_csv(d / "agg_ceiling_results.csv")
    np.testing.assert_allclose(r.ceiling_agg[theirs.columns].to_numpy(float), theirs.to_numpy(float), rtol=1e-6)
    written = sorted(p.name for p in (tmp_path / "o").iterdir() if not p.name.startswith("."))
    assert written == ["agg_ceiling_results.csv", "ceiling_results.csv", "run.json"]


def test_refused_inputs_name_the_problem():
    d = CASES / "norman_log1p"
    with pytest.raises(cellcast.InputError, match="control 'ctrl'"):
        cellcast.evaluate(d / "real.h5ad", d / "pred.h5ad", pert_column="condition", control="ctrl")
    with pytest.raises(cellcast.InputError, match="obs has no column 'nope'"):
        cellcast.evaluate(ad.read_h5ad(d / "real.h5ad"), d / "pred.h5ad", pert_column="nope", control="control")
    with pytest.raises(cellcast.InputError, match="ceiling"):
        cellcast.evaluate(d / "real.h5ad", pert_column="condition", control="control")
    with pytest.raises(ValueError, match="numpy_log1p"):
        cellcast.evaluate(d / "real.h5ad", d / "pred.h5ad", pert_column="condition", control="control",
                          numpy_log1p="svml")


def test_embedding_from_an_anndata_in_memory():
    d = CASES / "synthetic_dense_f64_nondefault"
    real, pred = ad.read_h5ad(d / "real.h5ad"), ad.read_h5ad(d / "pred.h5ad")
    r = cellcast.evaluate(real, pred, pert_column="guide_target", control="NT-ctrl", embed_key="X_emb")
    assert_frame_close(r.results, d / "results.csv")
    with pytest.raises(cellcast.InputError, match="obsm has no 'nope'"):
        cellcast.evaluate(real, pred, pert_column="guide_target", control="NT-ctrl", embed_key="nope")
