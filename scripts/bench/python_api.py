"""The Python package against the incumbents, side by side in one process (dev-only).

  score       cellcast.score("polaris/mean_squared_error", truth_df, pred_df) on a 234 x 978
              L1000 table (the shape of l1000-drugbank's test set: its first 234 training
              compounds as truth, the training mean as prediction) against polaris-lib's own
              metric call on the same DataFrames (Metric("mean_squared_error") through
              evaluate_benchmark, as score_vs_polaris.py calls it) and scikit-learn per gene.
  morgan      cellcast.chem.morgan(smiles) against RDKit's MorganGenerator + ConvertToNumpyArray
              on the LINCS SMILES, one thread each (RAYON_NUM_THREADS=1 is set before import).
  pseudobulk  cellcast.pseudobulk(adata, ...) on an in-memory raw-count AnnData against scanpy's
              normalize_total + log1p + sc.get.aggregate on a copy; time, and peak memory above
              the AnnData itself (tracemalloc sees numpy's and scanpy's allocations, not Rust's,
              so the peak is the process's resident set in a fresh subprocess per tool, its high-water mark
              reset once the AnnData is built: Linux's /proc/self/clear_refs).

Usage (the test venv of .ci/run plus polaris-lib 0.13.0):
  .venv/bin/pip install polaris-lib==0.13.0
  RAYON_NUM_THREADS=1 .venv/bin/python scripts/bench/python_api.py [--cells 200000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("RAYON_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"


def best(fn, repeats: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def bench_score(repeats: int) -> list[dict]:
    import cellcast
    from sklearn.metrics import mean_squared_error

    warnings.filterwarnings("ignore")
    train = pd.read_csv(SHARED / "tasks/l1000-drugbank/train.csv", dtype={"id": str})
    sample = pd.read_csv(SHARED / "tasks/l1000-drugbank/sample_submission.csv", nrows=1)
    genes = [c for c in sample.columns if c != "id"]
    id_col = [c for c in train.columns if c not in genes and c.lower() != "smiles"][0]
    truth = train.head(234)[[id_col] + genes].rename(columns={id_col: "id"})
    pred = truth.copy()
    pred[genes] = np.broadcast_to(train[genes].mean().to_numpy(), (len(pred), len(genes)))
    rows = []

    t, v = best(lambda: cellcast.score("polaris/mean_squared_error", truth, pred).value, repeats)
    rows.append({"tool": f"cellcast {cellcast.__version__}", "seconds": t, "value": v})

    def sklearn_loop():
        return float(np.mean([mean_squared_error(truth[g], pred[g]) for g in genes]))

    t, v = best(sklearn_loop, repeats)
    rows.append({"tool": "scikit-learn per gene", "seconds": t, "value": v})
    try:
        from polaris.dataset import DatasetV1
        from polaris.dataset._subset import Subset
        from polaris.evaluate import Metric
        from polaris.evaluate.utils import evaluate_benchmark
    except ImportError:
        rows.append({"tool": "polaris-lib", "seconds": float("nan"), "value": "not installed"})
        return rows

    def polaris_call():
        sub = Subset(DatasetV1(table=truth), list(range(len(truth))), "id", genes)
        y_pred = {g: pred[g].to_numpy() for g in genes}
        res = evaluate_benchmark(genes, ["test"], {"test": len(truth)}, {Metric(label="mean_squared_error")},
                                 {"test": sub}, y_pred=y_pred)
        return float(res["Score"].mean())

    import polaris

    t, v = best(polaris_call, max(1, repeats // 2))
    rows.append({"tool": f"polaris-lib {polaris.__version__}", "seconds": t, "value": v})
    return rows


def lincs_smiles() -> list[str]:
    """The compounds of LINCS (pert_type trt_cp with a SMILES), as chem_vs_rdkit.py reads them."""
    with gzip.open(SHARED / "data/l1000/lincs_pertinfo.tsv.gz", "rt") as f:
        table = pd.read_csv(f, sep="\t", dtype=str, keep_default_na=False)
    keep = (table["pert_type"] == "trt_cp") & ~table["canonical_smiles"].isin(["", "-666"])
    return table.loc[keep, "canonical_smiles"].tolist()


def bench_morgan(repeats: int) -> list[dict]:
    import cellcast
    from rdkit import Chem, DataStructs, RDLogger
    from rdkit.Chem import rdFingerprintGenerator

    RDLogger.DisableLog("rdApp.*")
    smiles = lincs_smiles()
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    ok = [s for s, m in zip(smiles, mols) if m is not None]
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)

    def rdkit_call():
        out = np.zeros((len(ok), 2048), dtype=np.uint8)
        for i, s in enumerate(ok):
            DataStructs.ConvertToNumpyArray(gen.GetFingerprint(Chem.MolFromSmiles(s)), out[i])
        return out

    t_c, x_c = best(lambda: cellcast.chem.morgan(ok, errors="ignore"), repeats)
    t_r, x_r = best(rdkit_call, max(1, repeats // 2))
    same = int((np.asarray(x_c, dtype=np.uint8) == x_r).all(axis=1).sum())
    return [
        {"tool": "cellcast.chem.morgan, 1 thread", "seconds": t_c, "molecules": len(ok), "rows equal to RDKit": same},
        {"tool": "RDKit MolFromSmiles + MorganGenerator", "seconds": t_r, "molecules": len(ok)},
    ]


PSEUDOBULK_CHILD = r"""
import gc, json, sys, time
import numpy as np, scipy.sparse as sp, anndata as ad, pandas as pd
cells, genes, groups, tool = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = np.random.default_rng(0)
nnz_per_cell = genes // 10
indptr = np.arange(cells + 1, dtype=np.int64) * nnz_per_cell
indices = np.sort(rng.integers(0, genes, size=(cells, nnz_per_cell)), axis=1).astype(np.int32)
data = rng.poisson(2.0, size=cells * nnz_per_cell).astype(np.float32) + 1
X = sp.csr_matrix((data, indices.ravel(), indptr), shape=(cells, genes))
X.sum_duplicates()
obs = pd.DataFrame({"g": pd.Categorical([f"p{i % groups}" for i in range(cells)])}, index=[str(i) for i in range(cells)])
a = ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=[f"gene{j}" for j in range(genes)]))
def status(field):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith(field))
gc.collect()
# The generator's temporaries must not count: reset the peak resident set (VmHWM) to now.
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
base = status("VmRSS:")
start = time.perf_counter()
if tool == "cellcast":
    import cellcast
    out = cellcast.pseudobulk(a, "g", normalize="cp10k-log1p")
    first = float(out.iloc[0, 0])
else:
    import scanpy as sc
    b = a.copy()
    sc.pp.normalize_total(b, target_sum=1e4)
    sc.pp.log1p(b)
    agg = sc.get.aggregate(b, by="g", func="mean")
    first = float(agg.layers["mean"][0, 0])
seconds = time.perf_counter() - start
peak = status("VmHWM:")
print(json.dumps({"seconds": seconds, "peak_above_input_mib": (peak - base) / 1024, "first": first}))
"""


def bench_pseudobulk(cells: int, genes: int, groups: int) -> list[dict]:
    rows = []
    for tool in ("cellcast", "scanpy"):
        out = subprocess.run([sys.executable, "-c", PSEUDOBULK_CHILD, str(cells), str(genes), str(groups), tool],
                             check=True, capture_output=True, text=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append({"tool": tool, **r})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cells", type=int, default=200_000)
    ap.add_argument("--genes", type=int, default=2_000)
    ap.add_argument("--groups", type=int, default=500)
    ap.add_argument("--only", choices=["score", "morgan", "pseudobulk"])
    args = ap.parse_args()
    print(f"RAYON_NUM_THREADS={os.environ['RAYON_NUM_THREADS']}, python {sys.version.split()[0]}")
    if args.only in (None, "score"):
        print("score (234 x 978 L1000 table, DataFrames in memory):")
        for r in bench_score(args.repeats):
            print("  ", r)
    if args.only in (None, "morgan"):
        print("morgan r2/2048 bits, LINCS SMILES, one thread:")
        for r in bench_morgan(args.repeats):
            print("  ", r)
    if args.only in (None, "pseudobulk"):
        print(f"pseudobulk of an in-memory AnnData, {args.cells} cells x {args.genes} genes, {args.groups} groups:")
        for r in bench_pseudobulk(args.cells, args.genes, args.groups):
            print("  ", r)


if __name__ == "__main__":
    main()
