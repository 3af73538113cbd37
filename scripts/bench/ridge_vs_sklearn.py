"""Ridge with leave-one-out alpha selection: cellcast's ridge_gcv against scikit-learn's RidgeCV
on the same matrix — log(1 + Morgan r2/2048 counts) of the 936 L1000-task training compounds
(RDKit) and their 978-gene signatures, 15 alphas from 0.1 to 1e6, fit_intercept=True.

Dev-only; venv with RDKit and scikit-learn (scripts/golden/requirements-chem.txt).
Usage: python scripts/bench/ridge_vs_sklearn.py
"""

import csv
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import sklearn
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator
from sklearn.linear_model import RidgeCV

ROOT = Path(__file__).resolve().parents[2]
rows = list(csv.DictReader(open(ROOT.parent / "shared/tasks/l1000-drugbank/train.csv")))
genes = [c for c in rows[0] if c.startswith("geneID-")]
gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
x = np.zeros((len(rows), 2048))
for i, r in enumerate(rows):
    for j, c in gen.GetCountFingerprint(Chem.MolFromSmiles(r["SMILES"])).GetNonzeroElements().items():
        x[i, j] = np.log1p(c)
y = np.array([[float(r[g]) for g in genes] for r in rows])
alphas = [10 ** (-1.0 + 0.5 * k) for k in range(15)]

times = []
for _ in range(3):
    start = time.perf_counter()
    model = RidgeCV(alphas=alphas, fit_intercept=True).fit(x, y)
    times.append(time.perf_counter() - start)
sk = min(times)

tmp = Path(tempfile.mkdtemp())
np.savetxt(tmp / "x.csv", x, delimiter=",", fmt="%.17g")
np.savetxt(tmp / "y.csv", y, delimiter=",", fmt="%.17g")
out = subprocess.run(
    ["cargo", "run", "--release", "-q", "-p", "cellcast-models", "--example", "ridge_bench", "--", str(tmp / "x.csv"), str(tmp / "y.csv")],
    cwd=ROOT, check=True, capture_output=True, text=True,
).stdout.split()
cc, cc_alpha = float(out[0]), float(out[1])
print(f"{x.shape[0]} x {x.shape[1]} design, {y.shape[1]} targets, {len(alphas)} alphas (best of 3)\n")
print("| tool | seconds | chosen alpha |")
print("|---|---|---|")
print(f"| scikit-learn {sklearn.__version__} RidgeCV (gcv, numpy/OpenBLAS) | {sk:.3f} | {model.alpha_:g} |")
print(f"| cellcast ridge_gcv (faer) | {cc:.3f} | {cc_alpha:g} |")
print(f"\nratio: cellcast is {sk / cc:.1f}x scikit-learn")
