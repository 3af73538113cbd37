"""`targets rank` as the contract runs it, on 30-cell queries of Papalexi replicate 1 (dev-only).

Every knockout is subsampled to 30 cells (all controls kept), five seeds; each file is ranked
all at once by the default and by fixed statistics, and the MRR of the true gene is printed per
seed and averaged (ties take the mean rank). Not a held-out number for `auto`, which reads the
file's own labels, as the contract allows.

Usage: python scripts/bench/targets_queries30.py [--out /tmp/q30]   (needs target/release/cellcast
and ../shared; anndata, numpy, pandas)
"""

import argparse
import os
import subprocess
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
F = ROOT.parent / "shared/data/genetic_perturbation/papalexi2021_thp1_eccite_rep1_n9428x299.h5ad"
BIN = ROOT / "target/release/cellcast"
parser = argparse.ArgumentParser()
parser.add_argument("--out", default="/tmp/q30")
OUT = parser.parse_args().out
os.makedirs(OUT, exist_ok=True)
a = ad.read_h5ad(F)
lab = a.obs["target_top"].astype(str).values
res = {}
for seed in range(5):
    rng = np.random.default_rng(seed)
    keep = []
    for g in np.unique(lab):
        idx = np.where(lab == g)[0]
        keep.extend(idx if g == "non-targeting" else rng.choice(idx, min(30, len(idx)), replace=False))
    sub = a[np.sort(keep)].copy()
    path = f"{OUT}/s{seed}.h5ad"
    sub.write_h5ad(path)
    for name, extra in [("default", []), ("mean_z", ["--statistic", "mean_z", "--no-specific"]),
                        ("welch", ["--statistic", "welch", "--no-specific"]), ("combined", ["--statistic", "combined", "--no-specific"]),
                        ("wilcoxon_spec", ["--statistic", "wilcoxon"])]:
        out = f"{OUT}/r_{seed}_{name}.csv"
        subprocess.run([str(BIN), "targets", "rank", "--h5ad", path, "--group-column", "target_top", "--control", "non-targeting",
                        "--direction", "down", "--out", out, *extra], check=True, capture_output=True)
        d = pd.read_csv(out, index_col=0)
        rr = []
        for g, row in d.iterrows():
            if g in d.columns:
                v = row[g]
                rank = (row > v).sum() + 1 + 0.5 * ((row == v).sum() - 1)
                rr.append(1 / rank)
        res.setdefault(name, []).append(np.mean(rr))
for k, v in res.items():
    print(k, np.round(v, 3), round(float(np.mean(v)), 3))
