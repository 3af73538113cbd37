"""DRUG-seq counts → per-compound mean log2(CPM + 1): `cellcast run` on a counts task folder
(streamed loader) against the dense pandas loader the contest's code amounts to, side by side.

Problem (seeded, numpy default_rng): a VCPI-layout task folder at the contest's panel size —
the 12,995 scored genes of ../shared/data/vcpi/gene_filter.csv plus --extra unscored genes,
--compounds training compounds (SMILES from ../shared/tasks/l1000-drugbank/train.csv) with
--replicates samples each, Poisson counts around log-normal gene shares (library 2e5), and the
1,064 real VCPI test compounds as test_features.csv / sample_submission.csv. Written once into
--dir and reused.

Measured with /usr/bin/time -f "%M %e" (peak RSS in KiB, wall seconds), each in its own process,
the counts file in the page cache (one warm-up read first):
  cellcast run DIR --models mean --folds 2 --bootstrap 10     (load + featurize + CV + outputs)
  pandas:  read_csv(train_counts.csv) → CPM over all genes → log2(x + 1) → the panel →
           groupby(compound).mean()        (what the contest's expression.py computes, dense)
The per-compound tables are compared (max |difference|).

Dev-only; needs the venv of scripts/golden/requirements-score.txt (numpy, pandas) and a release
build. Usage:
  python scripts/bench/drugseq_counts_memory.py [--compounds 400] [--replicates 3] [--extra 7005]
      [--dir /tmp/cellcast-drugseq-bench] [--shared ../shared]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "target" / "release" / "cellcast"

PANDAS = """
import sys, numpy as np, pandas as pd
counts = pd.read_csv(sys.argv[1], index_col=0)
samples = pd.read_csv(sys.argv[2])
panel = pd.read_csv(sys.argv[3]).columns[1:]
lib = counts.sum(axis=0)
expr = np.log2(counts / lib * 1e6 + 1.0)
expr = expr.loc[panel].T
expr['compound'] = samples.set_index('sample_id').loc[expr.index, 'compound_id'].values
means = expr.groupby('compound').mean()
means.to_csv(sys.argv[4])
"""


def make_task(d: Path, shared: Path, n_compounds: int, reps: int, extra: int, seed: int = 11) -> None:
    rng = np.random.default_rng(seed)
    panel = pd.read_csv(shared / "data/vcpi/gene_filter.csv")["gene_id"].tolist()
    genes = panel + [f"ENSGX{k:010d}" for k in range(extra)]
    rng.shuffle(genes)
    train = pd.read_csv(shared / "tasks/l1000-drugbank/train.csv", usecols=["drugbank_id", "SMILES"])
    train = train.iloc[:n_compounds]
    share = np.exp(1.2 * rng.standard_normal(len(genes)))
    share /= share.sum()
    sample_ids, compound_ids, smiles, columns = [], [], [], []
    for cid, smi in zip(train["drugbank_id"], train["SMILES"]):
        effect = np.where(rng.random(len(genes)) < 0.02, rng.normal(0, 0.8, len(genes)), 0.0)
        for r in range(reps):
            lib = 2e5 * (1 + 0.3 * (2 * rng.random() - 1))
            columns.append(rng.poisson(lib * share * np.exp(effect + 0.2 * rng.standard_normal(len(genes)))))
            sample_ids.append(f"{cid}_r{r + 1}")
            compound_ids.append(cid)
            smiles.append(smi)
    d.mkdir(parents=True, exist_ok=True)
    counts = pd.DataFrame(np.stack(columns, axis=1), index=pd.Index(genes, name="gene"), columns=sample_ids)
    counts.to_csv(d / "train_counts.csv")
    pd.DataFrame({"sample_id": sample_ids, "compound_id": compound_ids, "smiles": smiles}).to_csv(
        d / "train_samples.csv", index=False
    )
    test = pd.read_csv(shared / "data/vcpi/test_compounds.csv")
    pd.DataFrame({"id": test["compound"].astype(str), "smiles": test["smiles"]}).to_csv(
        d / "test_features.csv", index=False
    )
    sub = pd.DataFrame(0.0, index=pd.Index(test["compound"].astype(str), name="id"), columns=panel)
    sub.to_csv(d / "sample_submission.csv")


def timed(cmd: list[str]) -> tuple[float, float, str]:
    out = subprocess.run(["/usr/bin/time", "-f", "%M %e", *cmd], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr}")
    kib, secs = out.stderr.strip().splitlines()[-1].split()
    return int(kib) / 1024, float(secs), out.stderr


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--compounds", type=int, default=400)
    ap.add_argument("--replicates", type=int, default=3)
    ap.add_argument("--extra", type=int, default=7005)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/cellcast-drugseq-bench"))
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    a = ap.parse_args()
    task = a.dir / "task"
    if not (task / "train_counts.csv").exists():
        make_task(task, a.shared, a.compounds, a.replicates, a.extra)
    size = (task / "train_counts.csv").stat().st_size / 2**20
    (task / "train_counts.csv").read_bytes()  # warm the page cache
    out = a.dir / "out"
    mib, secs, _ = timed([str(BIN), "run", str(task), "--out", str(out), "--models", "mean", "--folds", "2", "--bootstrap", "10"])
    print(f"counts file: {size:.0f} MiB")
    print(f"cellcast run (--models mean): {mib:.0f} MiB peak, {secs:.1f} s")
    script = a.dir / "pandas_loader.py"
    script.write_text(PANDAS)
    pmib, psecs, _ = timed([sys.executable, str(script), str(task / "train_counts.csv"), str(task / "train_samples.csv"),
                            str(task / "sample_submission.csv"), str(a.dir / "pandas_means.csv")])
    print(f"pandas dense loader: {pmib:.0f} MiB peak, {psecs:.1f} s")
    # The per-compound means cellcast trained on are its mean model's out-of-fold inputs; compare
    # the pandas table with cellcast's loader through the training labels written by the mean's
    # refit: the submission is the training mean, so compare column means.
    means = pd.read_csv(a.dir / "pandas_means.csv", index_col=0)
    sub = pd.read_csv(out / "submission.csv", index_col=0)
    diff = np.abs(means.mean(axis=0).values - sub.iloc[0][means.columns].values).max()
    print(f"max |pandas column mean − cellcast mean-model prediction| = {diff:.2e}")


if __name__ == "__main__":
    main()
