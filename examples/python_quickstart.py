"""cellcast from Python, the way a notebook would use it: featurize compounds, split them by
scaffold, fit a simple scikit-learn model fold by fold, score it with the official metric, and
pseudobulk a single-cell AnnData.

Run from the repository root after `pip install .` (and `pip install scikit-learn anndata scipy`):

    python examples/python_quickstart.py [TASK_DIR]

TASK_DIR defaults to ../shared/tasks/l1000-drugbank (train.csv: drugbank_id, SMILES, 978 genes);
without it, a small synthetic task is made up so the script always runs.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

import cellcast

# 1. A table of compounds with one column per gene (the L1000 task, or a made-up one).
task = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / ".." / "shared/tasks/l1000-drugbank")
if (task / "train.csv").exists():
    train = pd.read_csv(task / "train.csv")
    id_col, smiles_col = "drugbank_id", "SMILES"
else:
    print(f"{task} not found: using a small synthetic task")
    rng = np.random.default_rng(0)
    rings = ["c1ccccc1", "c1ccncc1", "C1CCCCC1", "c1ccc2ccccc2c1", "c1ccoc1", "C1CCNCC1"]
    tails = ["C", "CC", "CO", "CN", "C(=O)O", "CCl", "OC", "C#N"]
    smiles = [r + t for r in rings for t in tails]
    train = pd.DataFrame({"id": [f"m{i}" for i in range(len(smiles))], "SMILES": smiles})
    for g in range(20):
        train[f"gene{g}"] = rng.normal(size=len(smiles))
    id_col, smiles_col = "id", "SMILES"
genes = [c for c in train.columns if c not in (id_col, smiles_col) and pd.api.types.is_numeric_dtype(train[c])]

# 2. Morgan fingerprints (RDKit's bits) and a 5-fold scaffold split.
X = cellcast.chem.morgan(train[smiles_col], radius=2, n_bits=2048, counts=True, errors="ignore")
X = np.log1p(X.astype(np.float64))
folds = cellcast.split(train[smiles_col], method="scaffold-kfold", folds=5, seed=0)
print(f"{len(train)} compounds, {len(genes)} genes, fold sizes {np.bincount(folds).tolist()}")

# 3. A ridge regression, out of fold, against the training mean.
Y = train[genes].to_numpy()
ridge = np.zeros_like(Y)
mean = np.zeros_like(Y)
for k in np.unique(folds):
    test = folds == k
    ridge[test] = Ridge(alpha=100.0).fit(X[~test], Y[~test]).predict(X[test])
    mean[test] = Y[~test].mean(axis=0)


def as_table(values):
    df = pd.DataFrame(values, columns=genes)
    df.insert(0, "id", train[id_col].astype(str).to_numpy())
    return df


truth = as_table(Y)
for name, pred in [("mean", mean), ("ridge", ridge)]:
    r = cellcast.score("polaris/mean_squared_error", truth, as_table(pred))
    print(f"{name:6s} MSE {r.value:.4f}  (worst gene {r.breakdown.idxmax()}: {r.breakdown.max():.3f})")

# 4. Pseudobulk of a single-cell AnnData, as scanpy's normalize_total + log1p + aggregate.
try:
    import anndata
    import scipy.sparse as sp
except ImportError:
    print("anndata/scipy not installed: skipping pseudobulk")
else:
    rng = np.random.default_rng(1)
    counts = sp.csr_matrix(rng.poisson(3.0, size=(300, 50)).astype(np.float32))
    obs = pd.DataFrame({"perturbation": rng.choice(["ctrl", "KO_A", "KO_B"], size=300)}, index=[f"cell{i}" for i in range(300)])
    adata = anndata.AnnData(counts, obs=obs, var=pd.DataFrame(index=[f"G{j}" for j in range(50)]))
    bulk = cellcast.pseudobulk(adata, "perturbation", normalize="cp10k-log1p")
    print(bulk.iloc[:, :5].round(3))
