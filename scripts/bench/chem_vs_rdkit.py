"""Side-by-side chemistry throughput: cellcast against RDKit on the same SMILES, one thread.

Dev-only; needs the venv of scripts/golden/requirements-chem.txt (RDKit) and ../shared.
Uses the 20,330 LINCS compound SMILES (../shared/data/l1000/lincs_pertinfo.tsv.gz, trt_cp).

  parse + Morgan   RDKit: MolFromSmiles + GetMorganGenerator(2, 2048).GetFingerprint, per molecule
                   cellcast: `cellcast featurize morgan --threads 1` (file in, file out)
  scaffolds        RDKit: MurckoScaffold.MurckoScaffoldSmiles(smiles)
                   cellcast: `cellcast scaffold --threads 1`
  Tanimoto search  RDKit: DataStructs.BulkTanimotoSimilarity of each query against the library
                   (fingerprints precomputed) + top-k by argsort
                   cellcast: `cellcast neighbors --threads 1 -k 5`, search time as it reports it

Usage: python scripts/bench/chem_vs_rdkit.py [--queries 2000]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import re
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import rdFingerprintGenerator
from rdkit.Chem.Scaffolds import MurckoScaffold

RDLogger.DisableLog("rdApp.*")
ROOT = Path(__file__).resolve().parents[2]
CELLCAST = ROOT / "target/release/cellcast"


def lincs_smiles(shared: Path) -> list[tuple[str, str]]:
    with gzip.open(shared / "data/l1000/lincs_pertinfo.tsv.gz", "rt") as f:
        rows = csv.DictReader(f, delimiter="\t")
        return [(r["pert_id"], r["canonical_smiles"]) for r in rows
                if r["pert_type"] == "trt_cp" and r["canonical_smiles"] not in ("", "-666")]


def best_of(fn, repeats=3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def cellcast(*args: str) -> str:
    out = subprocess.run([str(CELLCAST), *args, "--threads", "1"], check=True, capture_output=True, text=True)
    return out.stderr


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--queries", type=int, default=2000)
    args = ap.parse_args()
    mols = lincs_smiles(args.shared)
    n = len(mols)
    tmp = Path(tempfile.mkdtemp())
    with open(tmp / "mols.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "smiles"])
        w.writerows(mols)
    with open(tmp / "queries.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "smiles"])
        w.writerows(mols[: args.queries])
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    smiles = [s for _, s in mols]
    common = ["--input", str(tmp / "mols.csv"), "--smiles-column", "smiles", "--id-column", "id"]

    rows = []
    t_rd = best_of(lambda: [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in smiles])
    t_cc = best_of(lambda: cellcast("featurize", "morgan", *common, "--out", str(tmp / "fp.csv")))
    rows.append(("parse + Morgan r2/2048 (molecules/s)", n / t_rd, n / t_cc))
    t_rd = best_of(lambda: [MurckoScaffold.MurckoScaffoldSmiles(s) for s in smiles])
    t_cc = best_of(lambda: cellcast("scaffold", *common, "--out", str(tmp / "scaf.csv")))
    rows.append(("Murcko scaffolds (molecules/s)", n / t_rd, n / t_cc))

    fps = [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in smiles]
    queries = fps[: args.queries]

    def rdkit_search():
        for q in queries:
            sims = np.array(DataStructs.BulkTanimotoSimilarity(q, fps))
            np.argsort(-sims, kind="stable")[:5]

    t_rd = best_of(rdkit_search, repeats=1)
    pairs = len(queries) * n
    log = cellcast("neighbors", "--query", str(tmp / "queries.csv"), "--library", str(tmp / "mols.csv"),
                   "--smiles-column", "smiles", "--id-column", "id", "-k", "5", "--out", str(tmp / "nn.csv"))
    rate = float(re.search(r"\(([\d.]+) million comparisons/s\)", log).group(1)) * 1e6
    rows.append(("Tanimoto top-5 search (comparisons/s)", pairs / t_rd, rate))

    print(f"{n} LINCS SMILES, one thread each\n")
    print("| task | RDKit 2026.09 | cellcast | × RDKit |")
    print("|---|---|---|---|")
    for name, rd, cc in rows:
        print(f"| {name} | {rd:,.0f} | {cc:,.0f} | {cc / rd:.1f} |")


if __name__ == "__main__":
    main()
