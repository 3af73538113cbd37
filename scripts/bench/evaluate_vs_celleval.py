"""`cellcast evaluate` against `cell-eval run`, side by side on the same generated screens (dev-only).

  generate  a perturbation screen (real) and a prediction of it (pred) as .h5ad: log1p-normalised
            float32 CSR, negative-binomial-like counts per gene with per-perturbation effects on
            a few hundred genes, a control group, and a prediction that gets part of each effect
            right (the rest is noise); written in blocks so the VCC-sized one fits in memory.
  run       both tools on one screen, one after the other, each under /usr/bin/time -v: wall time
            and peak resident memory, and how far cellcast's results.csv is from cell-eval's
            (largest relative difference per column).

Usage (the reference venv of scripts/golden/requirements-celleval.txt):
  python scripts/bench/evaluate_vs_celleval.py generate --cells 40000 --genes 2000 --perts 80 --out /tmp/bench40k
  python scripts/bench/evaluate_vs_celleval.py run --dir /tmp/bench40k --profile full --cellcast target/release/cellcast
  python scripts/bench/evaluate_vs_celleval.py generate --cells 300000 --genes 18000 --perts 150 \\
      --control-cells 38000 --density 0.06 --out /tmp/bench_vcc
  python scripts/bench/evaluate_vs_celleval.py run --dir /tmp/bench_vcc --profile vcc --cellcast target/release/cellcast \\
      --timeout 5400
  # `cellcast synth --kind screen` (raw counts, 56% of values stored) as real, a thinned copy as pred:
  cellcast synth --kind screen --genes 2000 --perturbations 75 --cells 490 --out /tmp/bench_synth/real
  python scripts/bench/evaluate_vs_celleval.py thin --screen /tmp/bench_synth/real/screen.h5ad --out /tmp/bench_synth
  python scripts/bench/evaluate_vs_celleval.py run --dir /tmp/bench_synth --profile full --pert-column perturbation \\
      --control control
  # cell-eval's own random AnnData (dense float64) at 40k cells:
  python scripts/bench/evaluate_vs_celleval.py random --out /tmp/bench_dense
  python scripts/bench/evaluate_vs_celleval.py run --dir /tmp/bench_dense --profile full --pert-column perturbation \\
      --control control
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import subprocess
import sys
import time

import numpy as np


def generate(args: argparse.Namespace) -> None:
    import anndata as ad
    import pandas as pd
    import scipy.sparse as sp

    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    genes = [f"G{j:05d}" for j in range(args.genes)]
    perts = [f"P{k:03d}" for k in range(args.perts)]
    control_cells = args.control_cells or args.cells // (args.perts + 1)
    per_pert = (args.cells - control_cells) // args.perts
    labels = np.array(["non-targeting"] * control_cells + [p for p in perts for _ in range(per_pert)], dtype=object)
    rng.shuffle(labels)
    n = len(labels)
    # Gene detection rates around `density`, skewed; per-perturbation effects on 200 genes.
    base = rng.gamma(0.6, 1.0, args.genes)
    base = base / base.mean() * args.density
    base = np.clip(base, 1e-4, 0.95)
    effect = np.ones((args.perts + 1, args.genes), dtype=np.float64)
    for k in range(args.perts):
        hit = rng.choice(args.genes, 200, replace=False)
        effect[k + 1, hit] = np.exp(rng.normal(0, 0.8, 200))
    group = np.zeros(n, dtype=np.int64)
    for k, p in enumerate(perts):
        group[labels == p] = k + 1

    def cells_matrix(noise: float, truth_share: float, seed: int):
        r = np.random.default_rng(seed)
        blocks = []
        for start in range(0, n, 20000):
            stop = min(n, start + 20000)
            g = group[start:stop]
            eff = effect[g]
            if truth_share < 1.0:
                eff = 1.0 + (eff - 1.0) * truth_share
            prob = np.clip(base[None, :] * eff, 0, 0.98)
            mask = r.random((stop - start, args.genes)) < prob
            counts = r.geometric(0.45, size=int(mask.sum())).astype(np.float32)
            if noise > 0:
                counts *= np.exp(r.normal(0, noise, counts.size)).astype(np.float32)
            rows, cols = np.nonzero(mask)
            m = sp.csr_matrix((counts, (rows, cols)), shape=(stop - start, args.genes), dtype=np.float32)
            totals = np.asarray(m.sum(axis=1)).ravel()
            totals[totals == 0] = 1
            m = sp.diags((1e4 / totals).astype(np.float32)) @ m
            m.data = np.log1p(m.data).astype(np.float32)
            blocks.append(m.tocsr())
        return sp.vstack(blocks, format="csr")

    for name, noise, share, seed in (("real", 0.0, 1.0, args.seed + 1), ("pred", 0.3, 0.6, args.seed + 2)):
        t = time.time()
        x = cells_matrix(noise, share, seed)
        obs = pd.DataFrame({"target_gene": pd.Categorical(labels)}, index=[f"c{i}" for i in range(n)])
        a = ad.AnnData(X=x, obs=obs, var=pd.DataFrame(index=genes))
        a.write_h5ad(os.path.join(args.out, f"{name}.h5ad"), compression="gzip" if args.gzip else None)
        print(f"{name}.h5ad: {n} cells x {args.genes} genes, {x.nnz} stored values, {time.time() - t:.1f} s", flush=True)
    with open(os.path.join(args.out, "screen.json"), "w") as f:
        json.dump(vars(args) | {"control_cells": control_cells, "cells_per_perturbation": per_pert}, f, indent=1)


def thin(args: argparse.Namespace) -> None:
    """real.h5ad = the screen's X and labels; pred.h5ad = its counts binomially thinned (p = 0.8)."""
    import anndata as ad
    import numpy as np

    a = ad.read_h5ad(args.screen)
    rng = np.random.default_rng(1)
    x = a.X.tocsr().copy()
    x.data = rng.binomial(x.data.astype(np.int64), 0.8).astype(np.float32)
    x.eliminate_zeros()
    obs = a.obs[["perturbation"]].copy()
    ad.AnnData(X=a.X, obs=obs, var=a.var[[]].copy()).write_h5ad(os.path.join(args.out, "real.h5ad"))
    ad.AnnData(X=x, obs=obs, var=a.var[[]].copy()).write_h5ad(os.path.join(args.out, "pred.h5ad"))


def timed(cmd: list[str], timeout: float | None, env: dict | None = None) -> dict:
    # Each tool starts with no dirty pages of the other's outputs pending: writeback of the
    # previous run's CSVs would otherwise throttle this run's writes.
    os.sync()
    t = time.time()
    try:
        p = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, timeout=timeout, env=env)
        code, err = p.returncode, p.stderr
    except subprocess.TimeoutExpired as e:
        code, err = "timeout", (e.stderr or b"").decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
    wall = time.time() - t
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    return {"wall_s": round(wall, 2), "max_rss_mb": round(int(rss.group(1)) / 1024, 1) if rss else None, "exit": code,
            "stderr_tail": err.strip().splitlines()[-25:]}


def compare(a: str, b: str) -> dict:
    def load(p):
        with open(p) as f:
            r = list(csv.reader(f))
        return r[0], {row[0]: row[1:] for row in r[1:]}

    ha, ra = load(a)
    hb, rb = load(b)
    worst = {}
    for j, col in enumerate(ha[1:]):
        if col not in hb:
            worst[col] = "missing in cell-eval"
            continue
        k = hb.index(col) - 1
        w = 0.0
        for pert, vals in ra.items():
            x, y = vals[j], rb.get(pert, [""] * len(hb))[k]
            if x == y:
                continue
            fx, fy = (float(v) if v else math.nan for v in (x, y))
            if math.isnan(fx) and math.isnan(fy):
                continue
            w = max(w, abs(fx - fy) / max(abs(fx), abs(fy), 1e-300))
        worst[col] = w
    return worst


def random_screen(args: argparse.Namespace) -> None:
    """cell-eval's own test data at scale: `cell_eval.data.build_random_anndata` (dense float64,
    every value stored, log1p of uniform random counts scaled to 1e4 a cell), real with seed 42,
    pred with seed 7 and the real obs (the same cells in each perturbation)."""
    from cell_eval.data import build_random_anndata

    os.makedirs(args.out, exist_ok=True)
    real = build_random_anndata(n_cells=args.cells, n_genes=args.genes, n_perts=args.perts, random_state=42)
    pred = build_random_anndata(n_cells=args.cells, n_genes=args.genes, n_perts=args.perts, random_state=7)
    pred.obs = real.obs.copy()
    real.write_h5ad(os.path.join(args.out, "real.h5ad"))
    pred.write_h5ad(os.path.join(args.out, "pred.h5ad"))
    print(f"real.h5ad, pred.h5ad: {real.n_obs} cells x {real.n_vars} genes, dense {real.X.dtype}")


def run(args: argparse.Namespace) -> None:
    real, pred = os.path.join(args.dir, "real.h5ad"), os.path.join(args.dir, "pred.h5ad")
    out = {}
    ce_dir = os.path.join(args.dir, f"celleval_{args.profile}")
    cc_dir = os.path.join(args.dir, f"cellcast_{args.profile}")
    env = dict(os.environ, POLARS_MAX_THREADS=os.environ.get("POLARS_MAX_THREADS", "2"))
    ce_cmd = [os.path.join(os.path.dirname(sys.executable), "cell-eval"), "run", "-ar", real, "-ap", pred,
              "--pert-col", args.pert_column, "--control-pert", args.control, "--profile", args.profile,
              "--num-threads", str(args.threads), "--outdir", ce_dir]
    cc_cmd = [args.cellcast, "evaluate", "--real", real, "--pred", pred, "--pert-column", args.pert_column,
              "--control", args.control, "--profile", args.profile, "--out", cc_dir]
    # The tools alternate, each run once per repeat; each tool's run of median wall time is kept,
    # with every run's wall time beside it.
    runs: dict[str, list[dict]] = {"cell-eval": [], "cellcast": []}
    for _ in range(args.repeats):
        if not args.skip_celleval:
            runs["cell-eval"].append(timed(ce_cmd, args.timeout, env))
        runs["cellcast"].append(timed(cc_cmd, args.timeout))
    for tool, rs in runs.items():
        if not rs:
            continue
        ranked = sorted(rs, key=lambda r: r["wall_s"])
        out[tool] = dict(ranked[(len(ranked) - 1) // 2], walls_s=[r["wall_s"] for r in rs])
        print(tool, json.dumps({k: v for k, v in out[tool].items() if k != "stderr_tail"}), flush=True)
    if out.get("cell-eval", {}).get("exit") == 0 and out["cellcast"]["exit"] == 0:
        out["max_relative_difference"] = compare(os.path.join(cc_dir, "results.csv"), os.path.join(ce_dir, "results.csv"))
        print("largest relative difference per column:", json.dumps(out["max_relative_difference"]))
    with open(os.path.join(args.dir, f"bench_{args.profile}.json"), "w") as f:
        json.dump(out, f, indent=1)


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--cells", type=int, default=40000)
    g.add_argument("--genes", type=int, default=2000)
    g.add_argument("--perts", type=int, default=80)
    g.add_argument("--control-cells", type=int, default=0)
    g.add_argument("--density", type=float, default=0.12)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--gzip", action="store_true")
    g.add_argument("--out", required=True)
    r = sub.add_parser("run")
    r.add_argument("--dir", required=True)
    r.add_argument("--profile", default="full")
    r.add_argument("--cellcast", default="target/release/cellcast")
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--timeout", type=float, default=None)
    r.add_argument("--skip-celleval", action="store_true")
    r.add_argument("--repeats", type=int, default=1, help="runs of each tool, alternating; the median is kept")
    r.add_argument("--pert-column", default="target_gene")
    r.add_argument("--control", default="non-targeting")
    t = sub.add_parser("thin")
    t.add_argument("--screen", required=True)
    t.add_argument("--out", required=True)
    q = sub.add_parser("random")
    q.add_argument("--cells", type=int, default=40000)
    q.add_argument("--genes", type=int, default=2000)
    q.add_argument("--perts", type=int, default=80)
    q.add_argument("--out", required=True)
    a = ap.parse_args()
    {"generate": generate, "run": run, "thin": thin, "random": random_screen}[a.cmd](a)


if __name__ == "__main__":
    main()
