#!/usr/bin/env python3
"""Generate the golden fixtures of cell-eval's `clustering_agreement` (fixtures/golden/cluster/).

Dev-only script; see scripts/golden/README-cluster.md. Reference: cell-eval 0.8.2's
`ClusteringAgreement` (cell_eval/metrics/_anndata.py) with scanpy 1.11.5, umap-learn 0.5.12,
python-igraph 1.0.0 and scikit-learn 1.9.1 from the pinned venv (requirements-celleval.txt).

Each case directory holds
  real_centroids.csv, pred_centroids.csv  perturbation,<features...>; rows = non-control
                                           perturbations in sorted order, values %.17g (round-trip)
  expected.json                            the final value (or the error cell-eval raises), and the
                                           intermediates: kNN (sklearn's brute transformer, as scanpy
                                           calls it), umap connectivities, Leiden memberships per
                                           resolution and the AMI of each.

The intermediates are produced by the very calls cell-eval makes
(`ClusteringAgreement._cluster_leiden` on an AnnData of the centroids), and every case is checked
against `ClusteringAgreement()(pair)` itself on a PerturbationAnndataPair: the real data cases on
their cells, the synthetic ones on one cell per perturbation (plus a control cell).

Run:  /tmp/golden-celleval/bin/python scripts/golden/cluster_fixtures.py
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import warnings
from importlib.metadata import version
from pathlib import Path

# cell-eval's baseline groups with polars, whose group order (hence the float sum order of the
# mean of means) depends on its thread count; one thread is deterministic and is what the
# `cellcast evaluate` fixtures used. Must be set before polars is imported.
os.environ["POLARS_MAX_THREADS"] = "1"

import anndata as ad  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)

import scanpy as sc  # noqa: E402
from cell_eval import PerturbationAnndataPair  # noqa: E402
from cell_eval._baseline import build_base_mean_adata  # noqa: E402
from cell_eval.metrics._anndata import ClusteringAgreement  # noqa: E402
from sklearn.metrics import adjusted_mutual_info_score  # noqa: E402
from sklearn.neighbors import KNeighborsTransformer  # noqa: E402
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads  # noqa: E402

sc.settings.verbosity = 0

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "fixtures" / "golden" / "cluster"
DATA = Path("/work/shared/data/genetic_perturbation")
RESOLUTIONS = (0.2, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0)
CONTROL = "ctrl_"  # sorts before the P-names, never a perturbation of the synthetic cases


def fmt(x: float) -> str:
    return "%.17g" % x


def write_centroids(path: Path, names: list[str], x: np.ndarray) -> None:
    with open(path, "w") as f:
        f.write("perturbation," + ",".join(f"f{j}" for j in range(x.shape[1])) + "\n")
        for name, row in zip(names, x):
            f.write(name + "," + ",".join(fmt(v) for v in row) + "\n")


def read_centroids(path: Path) -> np.ndarray:
    df = pd.read_csv(path, index_col=0, dtype={"perturbation": str}, float_precision="round_trip")
    return df.to_numpy(np.float64)


def knn_debug(x: np.ndarray, k: int) -> dict:
    """sklearn's brute kNN exactly as scanpy builds it (k + 1 columns, self included)."""
    t = KNeighborsTransformer(algorithm="brute", n_neighbors=k, metric="euclidean")
    d = t.fit_transform(x)
    n = x.shape[0]
    return {
        "indices": d.indices.reshape(n, k + 1).tolist(),
        "distances": [[fmt(v) for v in r] for r in d.data.reshape(n, k + 1)],
    }


def cluster_side(x: np.ndarray, resolutions: tuple[float, ...]) -> dict:
    """cell-eval's `_cluster_leiden` calls on an AnnData of the centroids."""
    adc = ad.AnnData(X=x.copy())
    n = x.shape[0]
    out: dict = {"n_neighbors": min(15, n - 1)}
    labels = {}
    for r in resolutions:
        key = f"clusters_{r}"
        ClusteringAgreement._cluster_leiden(adc, r, key, 15)
        labels[r] = [int(v) for v in adc.obs[key].astype(str)]
    conn = adc.obsp["connectivities"].tocoo()
    out["connectivities"] = {
        "row": conn.row.tolist(),
        "col": conn.col.tolist(),
        "val": [fmt(float(v)) for v in conn.data],
        "dtype": str(conn.dtype),
    }
    out["knn"] = knn_debug(x, out["n_neighbors"])
    out["labels"] = {str(r): labels[r] for r in resolutions}
    return out


def expected_for(real: np.ndarray, pred: np.ndarray) -> dict:
    try:
        real_side = cluster_side(real, (1.0,))
        pred_side = cluster_side(pred, RESOLUTIONS)
    except Exception as e:  # the reference raises on some degenerate inputs
        return {"error": {"type": type(e).__name__, "message": str(e)}}
    real_labels = pd.Categorical([str(v) for v in real_side["labels"]["1.0"]])
    best = 0.0
    amis = []
    for r in RESOLUTIONS:
        pred_labels = pd.Categorical([str(v) for v in pred_side["labels"][str(r)]])
        s = adjusted_mutual_info_score(real_labels, pred_labels)
        amis.append(s)
        best = max(best, s)
    return {
        "clustering_agreement": float(best),
        "ami": [float(a) for a in amis],
        "real": real_side,
        "pred": pred_side,
    }


def celleval_on_pair(real_cells: ad.AnnData, pred_cells: ad.AnnData, pert_col: str, control: str):
    pair = PerturbationAnndataPair(real=real_cells, pred=pred_cells, pert_col=pert_col, control_pert=control)
    try:
        return {"value": float(ClusteringAgreement()(pair))}
    except Exception as e:
        return {"error": {"type": type(e).__name__, "message": str(e)}}


def one_cell_per_pert(names: list[str], x: np.ndarray) -> ad.AnnData:
    """A cell-level AnnData whose per-perturbation means are exactly the rows of x."""
    cells = np.vstack([np.zeros((1, x.shape[1])), x])
    obs = pd.DataFrame({"target": [CONTROL] + names}, index=[f"c{i}" for i in range(len(names) + 1)])
    var = pd.DataFrame(index=[f"f{j}" for j in range(x.shape[1])])
    return ad.AnnData(X=cells, obs=obs, var=var)


def emit(case: str, names: list[str], real: np.ndarray, pred: np.ndarray, note: str, check: dict) -> None:
    d = OUT / case
    d.mkdir(parents=True, exist_ok=True)
    write_centroids(d / "real_centroids.csv", names, real)
    write_centroids(d / "pred_centroids.csv", names, pred)
    real_b, pred_b = read_centroids(d / "real_centroids.csv"), read_centroids(d / "pred_centroids.csv")
    assert real_b.shape == real.shape and np.array_equal(real_b, real), case
    assert np.array_equal(pred_b, pred), case
    exp = expected_for(real, pred)
    # The harness must be cell-eval: same value, or the same error.
    if "error" in exp or "error" in check:
        assert exp.get("error") == check.get("error"), (case, exp.get("error"), check)
    else:
        assert exp["clustering_agreement"] == check["value"], (case, exp["clustering_agreement"], check)
    doc = {
        "case": case,
        "note": note,
        "n_perturbations": int(real.shape[0]),
        "n_features": int(real.shape[1]),
        "resolutions": list(RESOLUTIONS),
        # scikit-learn's OpenMP threads: the order of exactly tied neighbours past 256 rows
        # depends on it.
        "sklearn_threads": _openmp_effective_n_threads(),
        "celleval_check": check,
        **exp,
    }
    with open(d / "expected.json", "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    shown = exp.get("clustering_agreement", exp.get("error"))
    print(f"{case:28s} n={real.shape[0]:4d} d={real.shape[1]:4d} -> {shown}")


def synthetic(case: str, real: np.ndarray, pred: np.ndarray, note: str) -> None:
    n = real.shape[0]
    names = [f"P{i:03d}" for i in range(n)]
    check = celleval_on_pair(one_cell_per_pert(names, real), one_cell_per_pert(names, pred), "target", CONTROL)
    emit(case, names, real, pred, note, check)


def blobs(rng: np.random.Generator, n: int, d: int, k: int, spread: float) -> np.ndarray:
    centers = rng.normal(0.0, 3.0, size=(k, d))
    which = rng.integers(0, k, size=n)
    return centers[which] + rng.normal(0.0, spread, size=(n, d))


def real_case(case: str, cells: ad.AnnData, pert_col: str, control: str, noise: float, seed: int, note: str) -> None:
    cells = cells.copy()
    x = cells.X.toarray() if sp.issparse(cells.X) else np.asarray(cells.X)
    x = x.astype(np.float64)
    cells.X = x
    rng = np.random.default_rng(seed)
    pred = cells.copy()
    pred.X = x + rng.normal(0.0, noise, size=x.shape)
    cells.var_names = [f"g{j}" for j in range(x.shape[1])]
    pred.var_names = cells.var_names
    cells.obs[pert_col] = cells.obs[pert_col].astype(str)
    pred.obs[pert_col] = pred.obs[pert_col].astype(str)
    real_c = ClusteringAgreement._centroid_ann(cells, pert_col, control)
    pred_c = ClusteringAgreement._centroid_ann(pred, pert_col, control)
    names = [str(v) for v in real_c.obs[pert_col]]
    assert names == sorted(names) and names == [str(v) for v in pred_c.obs[pert_col]]
    check = celleval_on_pair(cells, pred, pert_col, control)
    emit(case, names, np.asarray(real_c.X), np.asarray(pred_c.X), note, check)


def baseline_case(case: str, cells: ad.AnnData, pert_col: str, control: str, note: str) -> None:
    """Pred = `cell-eval baseline` (every perturbation's cells set to one mean vector)."""
    cells = cells.copy()
    for col in cells.obs.columns:
        if isinstance(cells.obs[col].dtype, pd.CategoricalDtype):
            cells.obs[col] = cells.obs[col].cat.remove_unused_categories()
    pred = build_base_mean_adata(cells.copy(), pert_col=pert_col, control_pert=control)
    if os.environ.get("CLUSTER_BASELINE_CHECK"):  # dev check against a `cell-eval baseline` h5ad
        other = ad.read_h5ad(os.environ["CLUSTER_BASELINE_CHECK"])
        assert np.array_equal(other.X.toarray(), pred.X.toarray() if sp.issparse(pred.X) else pred.X), case
    real_c = ClusteringAgreement._centroid_ann(cells, pert_col, control)
    pred_c = ClusteringAgreement._centroid_ann(pred, pert_col, control)
    names = [str(v) for v in real_c.obs[pert_col]]
    assert names == sorted(names) and names == [str(v) for v in pred_c.obs[pert_col]]
    check = celleval_on_pair(cells, pred, pert_col, control)
    emit(case, names, np.asarray(real_c.X, dtype=np.float64), np.asarray(pred_c.X, dtype=np.float64), note, check)


def duplicate_rows(rng: np.random.Generator, groups: list[int], d: int) -> np.ndarray:
    """Rows in exactly identical groups (sizes `groups`), log1p-like positive values, shuffled."""
    rows = [np.tile(np.log1p(rng.gamma(0.5, 2.0, size=d)), (g, 1)) for g in groups]
    x = np.vstack(rows)
    return x[rng.permutation(x.shape[0])].copy()


def main() -> None:
    print("cell-eval", version("cell-eval"), "scanpy", version("scanpy"), "igraph", version("igraph"),
          "umap-learn", version("umap-learn"), "scikit-learn", version("scikit-learn"))
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    rng = np.random.default_rng(20250916)

    # Real data (skipped when ../shared is absent).
    norman = DATA / "perturbench_devel_norman19_mcfaline23_n5961x500.h5ad"
    if norman.exists():
        a = ad.read_h5ad(norman)
        if "control" in set(a.obs["condition"].astype(str)):
            real_case("real_norman19_mcfaline23", a, "condition", "control", 0.5, 8,
                      f"{norman.name}, both datasets, pert column condition, control 'control', X as stored; pred = cells + N(0, 0.25)")
        for ds, noise in (("norman19", 0.3), ("mcfaline23", 0.3)):
            b = a[a.obs["dataset"] == ds]
            if "control" in set(b.obs["condition"].astype(str)):
                real_case(f"real_{ds}", b, "condition", "control", noise, 7,
                          f"{norman.name}, obs dataset=={ds}, pert column condition, control 'control', X as stored; pred = cells + N(0, {noise}^2)")
        b = a[a.obs["dataset"] == "norman19"]
        baseline_case("real_norman19_baseline", b, "condition", "control",
                      f"{norman.name}, obs dataset==norman19, X as stored; pred = cell-eval baseline (build_base_mean_adata: "
                      "every perturbation's cells = the mean of the perturbation means), so the pred centroids are (nearly) identical rows")
    papalexi = DATA / "papalexi2021_thp1_eccite_rep1_n9428x299.h5ad"
    if papalexi.exists():
        p = ad.read_h5ad(papalexi)
        p.X = p.X.astype(np.float64)
        sc.pp.normalize_total(p, target_sum=1e4)
        sc.pp.log1p(p)
        for noise, seed in ((0.2, 11), (1.0, 12)):
            real_case(f"real_papalexi_noise{noise}", p, "target_top", "non-targeting", noise, seed,
                      f"{papalexi.name}, normalize_total(1e4)+log1p in float64, pert column target_top, control 'non-targeting'; pred = cells + N(0, {noise}^2)")

    # Synthetic: sizes around the n_neighbors = min(15, n - 1) boundary and beyond.
    for n, d, k, spread, noise in (
        (3, 4, 2, 0.5, 0.3), (4, 5, 2, 0.5, 0.3), (5, 6, 2, 0.6, 0.3), (6, 6, 3, 0.6, 0.5),
        (8, 10, 3, 0.8, 0.5), (12, 10, 3, 0.8, 0.7), (15, 12, 4, 1.0, 0.7), (16, 12, 4, 1.0, 0.7),
        (17, 12, 4, 1.0, 1.0), (25, 20, 5, 1.0, 1.0), (40, 30, 6, 1.2, 1.5), (60, 30, 6, 1.5, 2.0),
        (100, 50, 8, 1.5, 2.0), (150, 40, 10, 2.0, 3.0), (200, 64, 12, 2.0, 3.0),
    ):
        real = blobs(rng, n, d, k, spread)
        pred = real + rng.normal(0.0, noise, size=real.shape)
        synthetic(f"blobs_n{n}", real, pred, f"{k} gaussian blobs (sd {spread}) in {d} dims; pred = real + N(0, {noise}^2)")
    # Pred noise of the order of the blob spread: partial agreement.
    for n, d, k, spread, noise in ((30, 8, 4, 1.0, 2.5), (45, 10, 5, 1.0, 3.0), (70, 12, 6, 1.5, 4.0), (120, 16, 8, 1.5, 4.0)):
        real = blobs(rng, n, d, k, spread)
        pred = real + rng.normal(0.0, noise, size=real.shape)
        synthetic(f"noisy_blobs_n{n}", real, pred, f"{k} gaussian blobs (sd {spread}) in {d} dims; pred = real + N(0, {noise}^2)")
    # Past scikit-learn's 256-row chunk (several Y chunks in the kNN reduction).
    real = blobs(rng, 300, 20, 10, 1.5)
    synthetic("blobs_n300", real, real + rng.normal(0.0, 2.0, size=real.shape), "10 gaussian blobs (sd 1.5) in 20 dims, 300 rows; pred = real + N(0, 4)")
    # Pred rows permuted: structure kept, identities lost.
    real = blobs(rng, 40, 10, 5, 1.0)
    synthetic("permuted_pred_n40", real, real[rng.permutation(40)], "pred = real rows in a random order")
    # Unstructured data: many near-equal modularity moves.
    for n, d in ((20, 5), (35, 4), (80, 8), (200, 3)):
        real = rng.normal(size=(n, d))
        pred = rng.normal(size=(n, d))
        synthetic(f"uniform_n{n}", real, pred, f"independent N(0,1) real and pred, {d} dims")
    # Pred unrelated to real and pred = real.
    real = blobs(rng, 30, 10, 4, 0.8)
    synthetic("pred_equals_real_n30", real, real.copy(), "pred identical to real")
    # Ties: lattice points (many exactly equal distances), small integers.
    lat = np.array([[i, j] for i in range(5) for j in range(4)], dtype=np.float64)
    synthetic("ties_lattice_n20", lat, lat[::-1].copy() * 2.0, "5x4 integer lattice (exactly tied distances); pred the reversed lattice x2")
    cube = np.array([[(i >> b) & 1 for b in range(4)] for i in range(16)], dtype=np.float64)
    synthetic("ties_hypercube_n16", cube, cube + rng.normal(0.0, 0.1, size=cube.shape), "vertices of the 4-cube; pred noisy")
    # Duplicated rows.
    base = blobs(rng, 12, 6, 3, 0.7)
    dup = np.vstack([base, base[:4]])
    synthetic("duplicates_n16", dup, dup + rng.normal(0.0, 0.5, size=dup.shape), "12 rows + exact copies of the first 4 (real); pred noisy")
    synthetic("duplicates_pred_n16", base[np.r_[0:12, 0:4]] + 0.0, np.vstack([base, base[:4]]), "pred has exact duplicate rows")
    # Degenerate inputs.
    for n in (1, 2, 3):
        real = rng.normal(size=(n, 4))
        pred = rng.normal(size=(n, 4))
        synthetic(f"degenerate_n{n}", real, pred, f"{n} perturbation(s)")
    real = blobs(rng, 10, 5, 2, 0.5)
    synthetic("identical_pred_rows_n10", real, np.tile(real.mean(axis=0), (10, 1)), "pred = the same row for every perturbation (a mean baseline)")
    synthetic("zero_pred_n10", real, np.zeros_like(real), "pred all zero")
    synthetic("zero_real_n10", np.zeros_like(real), real.copy(), "real all zero")
    synthetic("identical_both_n4", np.ones((4, 3)), np.ones((4, 3)), "every row equal, real and pred")

    # Exactly identical / duplicated rows with enough features that OpenBLAS's ddot (norms) and
    # dgemm (products) round differently: duplicates sit at tiny nonzero distances in the
    # reference. Sizes cover ddot's 16-wide body and tail, dgemm's feature blocks (256, then
    # balanced halves), the 4x1 edge kernel (odd row counts; last row of each odd chunk) and a
    # second scikit-learn chunk of odd size (n = 261).
    for n, d in ((9, 600), (15, 37), (17, 300), (25, 64), (33, 100)):
        real = blobs(rng, n, d, 3, 1.0)
        row = np.log1p(rng.gamma(0.5, 2.0, size=d))
        synthetic(f"identical_rows_n{n}_d{d}", real, np.tile(row, (n, 1)),
                  f"3 blobs in {d} dims; pred = one log1p-like row repeated (a baseline prediction)")
    for n, groups, d in ((20, [6, 5, 4, 3, 2], 200), (31, [10, 8, 7, 4, 2], 129), (24, [3] * 8, 45)):
        real = blobs(rng, n, d, 4, 1.0)
        synthetic(f"duplicate_groups_n{n}_d{d}", real, duplicate_rows(rng, groups, d),
                  f"4 blobs in {d} dims; pred = groups of exactly identical rows, sizes {groups}")
    real = blobs(rng, 261, 24, 6, 1.0)
    pred = duplicate_rows(rng, [61, 50, 50, 40, 30, 30], 24)
    synthetic("duplicate_groups_n261_d24", real, pred,
              "6 blobs in 24 dims, 261 rows (chunks of 256 and 5); pred = six groups of identical rows")
    # The same with scikit-learn on one OpenMP thread (as under OMP_NUM_THREADS=1): one thread
    # heap instead of two, so exactly tied neighbours come out in another order.
    with threadpool_limits(limits=1, user_api="openmp"):
        synthetic("duplicate_groups_n261_d24_omp1", real, pred,
                  "duplicate_groups_n261_d24 with scikit-learn limited to one OpenMP thread")
    synthetic("identical_both_n21_d40", np.tile(rng.normal(size=40), (21, 1)), np.tile(rng.normal(size=40), (21, 1)),
              "real and pred each one row repeated 21 times, 40 dims")


if __name__ == "__main__":
    sys.exit(main())
