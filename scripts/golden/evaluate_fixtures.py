#!/usr/bin/env python3
"""Generate the golden `cellcast evaluate` fixtures (fixtures/golden/evaluate/<case>/) with cell-eval itself.

Dev-only script; see scripts/golden/README-evaluate.md. Every expected output is written by Arc
Institute's cell-eval 0.8.2 (with pdex 0.3.0) through its own CLI (`cell-eval run | baseline |
score`), run as a subprocess from a scratch copy of the case directory, so the command lines
recorded in case.json are exactly what produced the files. Inputs come from the real screens in
../shared/data (read-only); predictions are derived from them with a seeded generator.

Run:  /tmp/golden-celleval/bin/python scripts/golden/evaluate_fixtures.py [--only CASE ...]
Needs /work/shared/data (or $CELLCAST_SHARED/data). Deletes and rewrites fixtures/golden/evaluate/
only (with --only: only those case directories; the dedup references then may point at cases that
were not rewritten, which is fine as long as they are unchanged).

Every cell-eval process runs with POLARS_MAX_THREADS=1 (and the BLAS/OpenMP/numba thread counts at 1):
with more polars threads cell-eval's pseudobulk sums change order between runs and the last bits of
pearson_delta, mse_delta, mae_delta, ... with them. Reruns are byte-identical apart from wall times.

Storage rules (to keep the tree small; all recorded in case.json):
* h5ad inputs are written by anndata with compression="gzip";
* every DE table cell-eval writes (real_de.csv, pred_de.csv, baseline_de.csv, <ct>_real_de.csv, ...)
  is stored gzipped (`.csv.gz`, gzip mtime 0, so the bytes are reproducible); gunzip gives cell-eval's
  bytes exactly;
* `cell-eval baseline` writes baseline.h5ad uncompressed; it is re-written by anndata with
  compression="gzip" after checking that X, obs and var read back identical;
* a file whose bytes equal a file already stored by an earlier case (or earlier in the same case)
  is not stored twice: case.json's "files" entry for it has "stored_at" pointing at the stored
  copy (a path relative to fixtures/golden/evaluate/).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from importlib.metadata import version
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import polars as pl
import scipy.sparse as sp

warnings.filterwarnings("ignore")

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "fixtures" / "golden" / "evaluate"
SHARED = Path(os.environ.get("CELLCAST_SHARED", ROOT.parent / "shared"))
if not (SHARED / "data").is_dir():
    SHARED = Path("/work/shared")
DATA = SHARED / "data"
CELL_EVAL = str(Path(sys.executable).parent / "cell-eval")

NORMAN = DATA / "genetic_perturbation" / "perturbench_devel_norman19_mcfaline23_n5961x500.h5ad"
PAPALEXI = DATA / "genetic_perturbation" / "papalexi2021_thp1_eccite_rep1_n9428x299.h5ad"
KANG = DATA / "chemical_singlecell" / "scgen_kang2018_pbmc_ifnb_valid_n1975x6998.h5ad"

VERSIONS = {
    p: version(p)
    for p in ("cell-eval", "pdex", "anndata", "scanpy", "polars", "numpy", "scipy", "scikit-learn", "igraph", "pandas")
}

# The 28 per-perturbation metric columns of `--profile full`, in the order cell-eval 0.8.2 writes them
# (DE metrics first, then AnnData-pair metrics, each in registry order).
FULL_COLUMNS = [
    "overlap_at_N",
    "overlap_at_50",
    "overlap_at_100",
    "overlap_at_200",
    "overlap_at_500",
    "precision_at_N",
    "precision_at_50",
    "precision_at_100",
    "precision_at_200",
    "precision_at_500",
    "de_spearman_sig",
    "de_direction_match",
    "de_spearman_lfc_sig",
    "de_sig_genes_recall",
    "de_nsig_counts_real",
    "de_nsig_counts_pred",
    "pr_auc",
    "roc_auc",
    "pearson_delta",
    "mse",
    "mae",
    "mse_delta",
    "mae_delta",
    "discrimination_score_l1",
    "discrimination_score_l2",
    "discrimination_score_cosine",
    "pearson_edistance",
    "clustering_agreement",
]
DE_COLUMNS = FULL_COLUMNS[:18]
ANNDATA_COLUMNS = FULL_COLUMNS[18:]
PROFILE_COLUMNS = {
    "full": FULL_COLUMNS,
    "pds": ["discrimination_score_l1"],
    "de": DE_COLUMNS,
    "anndata": ANNDATA_COLUMNS,
    "vcc": ["overlap_at_N", "mae", "discrimination_score_l1"],
    "minimal": [
        "overlap_at_N",
        "precision_at_N",
        "de_nsig_counts_real",
        "de_nsig_counts_pred",
        "pearson_delta",
        "mse",
        "mae",
        "discrimination_score_l1",
    ],
}
# Every cell-eval process runs single-threaded. POLARS_MAX_THREADS=1 matters: with more polars
# threads, cell-eval's pseudobulks (polars group_by().mean()) are summed in a run-dependent order and
# the results change in the last bits from one run to the next; with one thread each group mean is
# the plain row-order sum divided by the count, and reruns are byte-identical.
RUN_ENV = {
    "POLARS_MAX_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
}
# numpy's float32 log1p depends on the CPU: its own SIMD kernel where the CPU has AVX512_SKX, the C
# library's log1pf elsewhere (one ulp apart on ~5% of inputs, which moves counts' normalised values
# and Wilcoxon ties). Recorded per case; cellcast's golden test runs each case with its kernel.
NUMPY_LOG1P = "avx512" if np._core._multiarray_umath.__cpu_features__.get("AVX512_SKX") else "c-library"

DE_OUTPUT = re.compile(r"(^|/)(.*_)?(real_de|pred_de|baseline_de)\.csv$")
DEDUP_MIN_BYTES = 50_000


# --------------------------------------------------------------------------------------------------
# inputs


def strip_to_core(adata: ad.AnnData, keep_obs: list[str] | None = None) -> ad.AnnData:
    """Drop uns/obsm/obsp/varm (cell-eval reads none of them unless --embed-key names one)."""
    obs = adata.obs if keep_obs is None else adata.obs[keep_obs]
    out = ad.AnnData(X=adata.X, obs=obs.copy(), var=adata.var.copy())
    for c in out.obs.columns:
        if isinstance(out.obs[c].dtype, pd.CategoricalDtype):
            out.obs[c] = out.obs[c].cat.remove_unused_categories()
    return out


def load_norman() -> ad.AnnData:
    a = ad.read_h5ad(NORMAN)
    n = a[(a.obs["dataset"] == "norman19").to_numpy()].copy()
    for c in n.obs.columns:
        if isinstance(n.obs[c].dtype, pd.CategoricalDtype):
            n.obs[c] = n.obs[c].cat.remove_unused_categories()
    return n


def load_papalexi(cap: int = 150, cap_control: int = 300, seed: int = 3030) -> ad.AnnData:
    """At most `cap` cells per perturbation and `cap_control` controls (seeded choice, file order kept)."""
    a = ad.read_h5ad(PAPALEXI)
    labels = a.obs["target_top"].astype(str).to_numpy()
    rng = np.random.default_rng(seed)
    keep = []
    for p in sorted(set(labels)):
        idx = np.flatnonzero(labels == p)
        k = cap_control if p == "non-targeting" else cap
        keep.append(idx if idx.size <= k else rng.choice(idx, k, replace=False))
    keep = np.sort(np.concatenate(keep))
    # obsm["grna_counts"] (guide UMI counts) and uns are dropped; X, obs and var are the file's.
    return strip_to_core(a[keep].copy())


KANG_GENES = 500


def load_kang(n_genes: int, cap: int = 100, seed: int = 5050) -> tuple[ad.AnnData, dict]:
    a = ad.read_h5ad(KANG)
    X = a.X.tocsr().astype(np.float64)
    mean = np.asarray(X.mean(axis=0)).ravel()
    sq = np.asarray(X.multiply(X).mean(axis=0)).ravel()
    var = sq - mean**2
    # the n_genes largest variances (ties by column order), kept in the file's gene order
    genes = np.sort(np.argsort(-var, kind="stable")[:n_genes])
    # at most `cap` cells per (cell type, condition), seeded choice, file order kept
    group = (a.obs["cell_type"].astype(str) + "/" + a.obs["condition"].astype(str)).to_numpy()
    rng = np.random.default_rng(seed)
    cells = []
    for g in sorted(set(group)):
        idx = np.flatnonzero(group == g)
        cells.append(idx if idx.size <= cap else rng.choice(idx, cap, replace=False))
    cells = np.sort(np.concatenate(cells))
    sub = strip_to_core(a[cells][:, genes].copy())
    sub.X = sp.csr_matrix(sub.X)
    note = {
        "genes": f"the {n_genes} genes with the largest variance of X over all {a.n_obs} cells "
        "(float64 population variance; ties by column order), kept in the file's gene order",
        "cells": f"at most {cap} cells per (cell_type, condition) (seeded {seed} choice, file order kept): {len(cells)} cells",
        "dropped": "uns, obsm (X_pca, X_tsne, X_umap), obsp (neighbour graph)",
    }
    return sub, note


SYNTH_GENES = (
    "ACTB GAPDH MYC TP53 KLF1 CEBPA GATA1 SPI1 RUNX1 TAL1 FLI1 IRF8 JUN FOS EGR1 STAT1 STAT3 NFKB1 "
    "RELA IRF1 CD44 CD34 KIT PTPRC HBB HBG1 HBZ GYPA TFRC ALAS2 LMO2 LYL1 ERG ETV6 MEIS1 HOXA9 "
    "PBX1 CDK6 CCND1 CCND2 CDKN1A CDKN2A MKI67 TOP2A PCNA MCM2 E2F1 RB1 BCL2 BAX MCL1 BIRC5 "
    "SOX4 ID2 HES1 NOTCH1 DNMT3A TET2 IDH1 ASXL1"
).split()


def make_synthetic(rng: np.random.Generator) -> tuple[ad.AnnData, np.ndarray, dict]:
    genes = SYNTH_GENES
    assert len(genes) == 60 and len(set(genes)) == 60
    singles = ["GATA1", "KLF1", "SPI1", "CEBPA", "MYC", "TP53", "IRF8"]
    combo = "KLF1+TP53"
    perts = singles + [combo]
    sizes = {"NT-ctrl": 120}
    for p, n in zip(perts, [52, 45, 63, 58, 67, 60, 65, 70]):
        sizes[p] = n
    assert sum(sizes.values()) == 600
    n_g = len(genes)
    mu = np.exp(rng.normal(0.8, 1.1, n_g))  # mean UMI per gene at library size 1
    effects = {"NT-ctrl": np.ones(n_g)}
    for p in singles:
        e = np.ones(n_g)
        hit = rng.choice(n_g, 8, replace=False)
        e[hit] = np.exp(rng.normal(0.0, 1.0, 8))
        e[genes.index(p)] = 0.12  # knock-down of the target
        effects[p] = e
    e = effects["KLF1"] * effects["TP53"]
    hit = rng.choice(n_g, 4, replace=False)
    e[hit] *= np.exp(rng.normal(0.0, 1.0, 4))
    effects[combo] = e
    rows, labels = [], []
    for p, n in sizes.items():
        lib = np.exp(rng.normal(np.log(40.0), 0.35, n))
        lam = lib[:, None] * mu[None, :] * effects[p][None, :]
        # negative binomial (gamma-Poisson, dispersion 0.3)
        lam = rng.gamma(1 / 0.3, lam * 0.3)
        rows.append(rng.poisson(lam))
        labels += [p] * n
    counts = np.vstack(rows).astype(np.float64)
    tot = counts.sum(axis=1, keepdims=True)
    tot[tot == 0] = 1.0
    X = np.log1p(counts / tot * 1e4)
    order = rng.permutation(X.shape[0])
    X = X[order]
    labels = np.array(labels, dtype=object)[order]
    obs = pd.DataFrame(
        {"guide_target": pd.Categorical(labels), "batch": pd.Categorical(rng.choice(["b1", "b2"], X.shape[0]))},
        index=[f"cell_{i:04d}" for i in range(X.shape[0])],
    )
    real = ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=pd.Index(genes)))
    W = rng.normal(0.0, 1.0, (n_g, 10)) / np.sqrt(n_g)
    real.obsm["X_emb"] = real.X @ W
    note = {
        "generator": "seeded gamma-Poisson counts (60 genes, control NT-ctrl 120 cells, 7 single-gene "
        "perturbations named after var genes (target knocked down to 12%, 8 random genes changed) and "
        "one combination KLF1+TP53), library-normalised to 1e4 and log1p, dense float64; "
        "obsm X_emb = X @ W with a fixed seeded 60x10 W (pred uses the same W)",
        "perturbations": {p: int(n) for p, n in sizes.items()},
    }
    return real, W, note


# --------------------------------------------------------------------------------------------------
# predictions


def _take_rows(X, idx):
    return X[idx] if not sp.issparse(X) else X[idx].tocsr()


def make_pred(
    real: ad.AnnData,
    pert_col: str,
    control: str,
    rng: np.random.Generator,
    *,
    kind: str,
    good: list[str],
    poor: list[str],
    swapped: dict[str, str] | None = None,
    control_mode: str = "identical",
    strata_col: str | None = None,
    keep_cols: list[str] | None = None,
) -> tuple[ad.AnnData, dict]:
    """A realistic prediction: per perturbation (within each stratum), pred cells are a resample of
    that perturbation's real cells with a fraction drawn from the control cells instead, then noised
    (log1p data: multiplicative noise on the expm1 scale per entry and per gene; counts: Poisson of
    the count times a per-cell depth factor and a per-gene factor). `good` perturbations get no
    control mixing and little noise; `poor` ones are 85% control cells and strong gene noise;
    `swapped[p] = q` draws p's cells from q's real cells.
    """
    swapped = swapped or {}
    labels = real.obs[pert_col].astype(str).to_numpy()
    strata = real.obs[strata_col].astype(str).to_numpy() if strata_col else np.array([""] * real.n_obs)
    X = real.X
    n_genes = real.n_vars
    blocks, obs_rows, params = [], [], {}
    for s in sorted(set(strata)):
        in_s = strata == s
        ctrl_idx = np.flatnonzero(in_s & (labels == control))
        for p in sorted(set(labels[in_s])):
            src_idx = np.flatnonzero(in_s & (labels == (swapped.get(p, p))))
            n_real = int(np.sum(in_s & (labels == p)))
            key = f"{s}/{p}" if strata_col else p
            if p == control:
                if control_mode == "identical":
                    blocks.append(_take_rows(X, ctrl_idx))
                    obs_rows += [(p, s)] * len(ctrl_idx)
                    params[key] = {"n": len(ctrl_idx), "how": "identical to the real control cells (same order)"}
                    continue
                n_pred, frac, sig_cell, sig_gene = n_real, 0.0, 0.25, 0.05
            else:
                n_pred = int(round(n_real * rng.uniform(0.8, 1.2)))
                if p in good or key in good:
                    frac, sig_cell, sig_gene = 0.0, 0.05, 0.02
                elif p in poor or key in poor:
                    frac, sig_cell, sig_gene = 0.85, 0.3, 0.4
                else:
                    frac, sig_cell, sig_gene = rng.uniform(0.1, 0.4), rng.uniform(0.1, 0.3), rng.uniform(0.05, 0.2)
            from_ctrl = rng.random(n_pred) < frac
            pick = np.where(
                from_ctrl,
                rng.choice(ctrl_idx, n_pred, replace=True),
                rng.choice(src_idx, n_pred, replace=True),
            )
            B = _take_rows(X, pick)
            gene_f = np.exp(rng.normal(0.0, sig_gene, n_genes))
            if sp.issparse(B):
                B = B.tocsr().astype(np.float64)
                B.sort_indices()
                data, cols = B.data, B.indices
                cell_of = np.repeat(np.arange(B.shape[0]), np.diff(B.indptr))
            else:
                B = np.asarray(B, dtype=np.float64)
                r, c = np.nonzero(B)
                data, cols, cell_of = B[r, c], c, r
            if kind == "log1p":
                noise = np.exp(rng.normal(0.0, sig_cell, data.size))
                # float32 precision (a model's output), also in float64 files: keeps the files small
                new = np.log1p(np.expm1(data) * noise * gene_f[cols]).astype(np.float32).astype(np.float64)
            elif kind == "counts":
                depth = rng.uniform(0.6, 1.0, B.shape[0])
                new = rng.poisson(data * depth[cell_of] * gene_f[cols]).astype(np.float64)
            else:
                raise ValueError(kind)
            if sp.issparse(B):
                B.data = new
                B.eliminate_zeros()
            else:
                B[r, c] = new
            blocks.append(B)
            obs_rows += [(p, s)] * n_pred
            params[key] = {
                "n": n_pred,
                "n_real": n_real,
                "control_fraction": round(float(frac), 4),
                "cell_noise_sd": round(float(sig_cell), 4),
                "gene_noise_sd": round(float(sig_gene), 4),
                **({"cells_from": swapped[p]} if p in swapped else {}),
                **({"quality": "good"} if (p in good or key in good) else {}),
                **({"quality": "poor"} if (p in poor or key in poor) else {}),
            }
    if sp.issparse(X):
        Xp = sp.vstack([sp.csr_matrix(b) for b in blocks]).tocsr()
    else:
        Xp = np.vstack(blocks)
    Xp = Xp.astype(X.dtype)  # int32 counts stay int32, float32 stays float32
    order = rng.permutation(Xp.shape[0])
    Xp = Xp[order]
    if sp.issparse(Xp):
        Xp = sp.csr_matrix(Xp)
        Xp.sort_indices()
    obs = pd.DataFrame(obs_rows, columns=[pert_col, strata_col or "_s"]).iloc[order].reset_index(drop=True)
    if not strata_col:
        obs = obs.drop(columns="_s")
    for c in keep_cols or []:
        if c not in obs.columns:
            raise ValueError(c)
    for c in obs.columns:
        obs[c] = pd.Categorical(obs[c])
    obs.index = [f"pred_{i:05d}" for i in range(len(obs))]
    pred = ad.AnnData(X=Xp, obs=obs, var=pd.DataFrame(index=real.var_names.copy()))
    assert list(pred.var_names) == list(real.var_names)
    assert set(pred.obs[pert_col].astype(str)) == set(labels)
    return pred, params


# --------------------------------------------------------------------------------------------------
# running cell-eval and storing what it wrote


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_h5ad(adata: ad.AnnData, path: Path) -> None:
    adata.write_h5ad(path, compression="gzip", compression_opts=9)


def describe_h5ad(adata: ad.AnnData) -> dict:
    X = adata.X
    kind = "csr" if sp.isspmatrix_csr(X) or isinstance(X, sp.csr_array) else ("csc" if sp.issparse(X) else "dense")
    return {
        "n_obs": int(adata.n_obs),
        "n_vars": int(adata.n_vars),
        "X": f"{kind} {np.dtype(X.dtype).name}",
        "obs_columns": list(adata.obs.columns),
        "obsm": list(adata.obsm.keys()),
    }


class Case:
    def __init__(self, name: str, description: str):
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix=f"cellcast-evalfx-{name}-"))
        self.info: dict = {
            "case": name,
            "description": description,
            "versions": VERSIONS,
            "env": RUN_ENV,
            "numpy_log1p": NUMPY_LOG1P,
            "inputs": {},
            "runs": [],
        }

    def add_input(self, fname: str, adata: ad.AnnData, **meta) -> None:
        path = self.dir / fname
        path.parent.mkdir(parents=True, exist_ok=True)
        write_h5ad(adata, path)
        self.info["inputs"][fname] = {**meta, **describe_h5ad(adata)}

    def copy_input(self, fname: str, src: Path, **meta) -> None:
        shutil.copyfile(src, self.dir / fname)
        self.info["inputs"][fname] = meta

    def run(
        self, argv: list[str], name: str, outputs_from: dict[str, list[str]] | None = None, args: dict | None = None
    ):
        before = {p for p in self.dir.rglob("*") if p.is_file()}
        t0 = time.perf_counter()
        proc = subprocess.run(
            [CELL_EVAL, *argv], cwd=self.dir, capture_output=True, text=True, env={**os.environ, **RUN_ENV}
        )
        wall = time.perf_counter() - t0
        after = {p for p in self.dir.rglob("*") if p.is_file()}
        new = sorted(str(p.relative_to(self.dir)) for p in after - before)
        log = proc.stderr + proc.stdout
        errors = sorted({m.group(1) for m in re.finditer(r"Error computing metric '?([^':]+)'?: ", log)})
        error_lines = [ln.split(" - ")[-1].strip() for ln in log.splitlines() if "Error computing metric" in ln]
        rec = {
            "name": name,
            "argv": ["cell-eval", *argv],
            "cwd": "the case directory",
            **({"args": args} if args else {}),
            "exit_code": proc.returncode,
            "wall_time_s": round(wall, 2),
            "files_written": new,
            "metric_errors_logged": error_lines,
        }
        if outputs_from:
            rec["outputs_from"] = outputs_from
        if proc.returncode != 0:
            tail = log.strip().splitlines()[-1] if log.strip() else ""
            rec["failure"] = tail
            print("  ", tail, flush=True)
        self.info["runs"].append(rec)
        print(f"  [{self.name}] {name}: exit {proc.returncode}, {wall:.1f}s, wrote {new}, errors {errors}", flush=True)
        return proc.returncode, rec

    def finish(self, store: "Store", checks: dict) -> None:
        self.info["checks"] = checks
        store.save_case(self)


class Store:
    """Writes case directories under OUT, gzipping DE tables and de-duplicating identical large files."""

    def __init__(self) -> None:
        self.by_hash: dict[str, str] = {}

    def index_existing(self, skip: set[str]) -> None:
        for case_json in sorted(OUT.glob("*/case.json")):
            if case_json.parent.name in skip:
                continue
            info = json.loads(case_json.read_text())
            for rel, f in info.get("files", {}).items():
                if f.get("stored_at") == f"{case_json.parent.name}/{rel}":
                    self.by_hash.setdefault(f["sha256"], f["stored_at"])

    def save_case(self, case: Case) -> None:
        dest = OUT / case.name
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        files: dict[str, dict] = {}
        for src in sorted(p for p in case.dir.rglob("*") if p.is_file()):
            rel = str(src.relative_to(case.dir))
            entry: dict = {}
            if DE_OUTPUT.search(rel) and not rel.startswith("inputs/"):
                raw = src.read_bytes()
                src.unlink()
                rel = rel + ".gz"
                src = case.dir / rel
                src.write_bytes(gzip_bytes(raw))
                entry["gzip"] = True
                entry["csv_sha256"] = hashlib.sha256(raw).hexdigest()
                entry["csv_bytes"] = len(raw)
            data = src.read_bytes()
            h = hashlib.sha256(data).hexdigest()
            entry["sha256"] = h
            entry["bytes"] = len(data)
            if len(data) >= DEDUP_MIN_BYTES and h in self.by_hash:
                entry["stored_at"] = self.by_hash[h]
            else:
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest / rel)
                entry["stored_at"] = f"{case.name}/{rel}"
                self.by_hash.setdefault(h, entry["stored_at"])
            files[rel] = entry
        case.info["files"] = files
        (dest / "case.json").write_text(json.dumps(case.info, indent=2) + "\n")
        shutil.rmtree(case.dir)


def gzip_bytes(raw: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    return buf.getvalue()


def gz_name(p: str) -> str:
    return p + ".gz" if DE_OUTPUT.search(p) else p


def check_results(
    case: Case, path: str, expected_perts: list[str], profile: str, skip: list[str] | None = None
) -> dict:
    """Read a results CSV back: one row per perturbation, which of the expected columns are there."""
    df = pl.read_csv(case.dir / path, infer_schema_length=None)
    cols = [c for c in df.columns if c != "perturbation"]
    perts = df["perturbation"].cast(pl.Utf8).to_list()
    expected_cols = [
        c for c in PROFILE_COLUMNS[profile] if not any(c == s or c.startswith(s + "_") for s in (skip or []))
    ]
    assert sorted(perts) == sorted(expected_perts), (path, perts, expected_perts)
    assert len(perts) == len(set(perts)), path
    unexpected = [c for c in cols if c not in FULL_COLUMNS]
    assert not unexpected, (path, unexpected)
    order_ok = [c for c in FULL_COLUMNS if c in cols] == cols
    nan_cells = {
        c: int(df[c].is_nan().sum()) for c in cols if df[c].dtype in (pl.Float64, pl.Float32) and df[c].is_nan().sum()
    }
    null_cells = {c: int(df[c].null_count()) for c in cols if df[c].null_count()}
    return {
        "rows": len(perts),
        "row_order": "sorted" if perts == sorted(perts) else "not sorted",
        "columns_present": cols,
        "columns_missing_vs_profile": [c for c in expected_cols if c not in cols],
        "full_profile_columns_present": f"{sum(c in cols for c in FULL_COLUMNS)}/28",
        "column_order_is_registry_order": order_ok,
        "nan_cells": nan_cells,
        "empty_cells": null_cells,
    }


def real_perts(adata: ad.AnnData, pert_col: str, control: str) -> list[str]:
    return sorted(set(adata.obs[pert_col].astype(str)) - {control})


# --------------------------------------------------------------------------------------------------
# cases

NORMAN_PERT, NORMAN_CTRL = "condition", "control"


def norman_inputs(seed: int):
    real = load_norman()
    perts = real_perts(real, NORMAN_PERT, NORMAN_CTRL)
    rng = np.random.default_rng(seed)
    pred, params = make_pred(
        real,
        NORMAN_PERT,
        NORMAN_CTRL,
        rng,
        kind="log1p",
        good=["KLF1"],
        poor=["CEBPE+RUNX1T1"],
        swapped={"SGK1": "MAPK1"},
    )
    return real, pred, params, perts


REAL_NORMAN_META = {
    "source": "../shared/data/genetic_perturbation/perturbench_devel_norman19_mcfaline23_n5961x500.h5ad",
    "derivation": 'cells with obs dataset == "norman19" (all obs/var/uns kept, unused categories removed), '
    "X unchanged (log1p, CSR float64)",
}


def run_args(pert: str, ctrl: str, profile: str, **extra) -> list[str]:
    a = [
        "run",
        "-ar",
        "real.h5ad",
        "-ap",
        "pred.h5ad",
        "--pert-col",
        pert,
        "--control-pert",
        ctrl,
        "--profile",
        profile,
    ]
    a += ["--num-threads", "1"]
    for k, v in extra.items():
        if v is True:
            a.append(f"--{k.replace('_', '-')}")
        elif v is not None and v is not False:
            a += [f"--{k.replace('_', '-')}", str(v)]
    return a


def std_outputs(prefix: str = "", ceiling: bool = False, de: bool = True) -> dict[str, list[str]]:
    o = {
        f"{prefix}results.csv": ["real.h5ad", "pred.h5ad"],
        f"{prefix}agg_results.csv": [f"{prefix}results.csv (polars describe() of it without the perturbation column)"],
    }
    if de:
        o[gz_name(f"{prefix}real_de.csv")] = ["real.h5ad (pdex, reference = control)"]
        o[gz_name(f"{prefix}pred_de.csv")] = ["pred.h5ad (pdex, reference = control)"]
    if ceiling:
        o[f"{prefix}ceiling_results.csv"] = ["real.h5ad only (two disjoint halves of each perturbation's cells)"]
        o[f"{prefix}agg_ceiling_results.csv"] = [
            f"{prefix}ceiling_results.csv (column means, Spearman-Brown 2r/(1+r) where r > 0 for SB metrics, else NaN)"
        ]
    return o


def case_norman_log1p(store: Store) -> None:
    c = Case(
        "norman_log1p",
        "Norman 2019 (K562 CRISPRa) log1p CSR float64, pred controls identical to real controls, --profile full",
    )
    real, pred, params, perts = norman_inputs(seed=101)
    c.add_input("real.h5ad", real, **REAL_NORMAN_META)
    c.add_input(
        "pred.h5ad",
        pred,
        derivation="seeded (101) resample/mix/noise of real per perturbation; see pred_params",
        pred_params=params,
    )
    args = {"pert_col": NORMAN_PERT, "control_pert": NORMAN_CTRL, "profile": "full", "num_threads": 1}
    c.run(run_args(NORMAN_PERT, NORMAN_CTRL, "full", outdir="."), "run", std_outputs(), args)
    c.finish(store, {"results.csv": check_results(c, "results.csv", perts, "full")})


def case_norman_pred_controls_differ(store: Store) -> None:
    c = Case(
        "norman_pred_controls_differ",
        "Norman 2019 real as in norman_log1p; pred control cells are a noisy resample of the real controls, --profile full",
    )
    real = load_norman()
    perts = real_perts(real, NORMAN_PERT, NORMAN_CTRL)
    rng = np.random.default_rng(202)
    pred, params = make_pred(
        real, NORMAN_PERT, NORMAN_CTRL, rng, kind="log1p", good=["MAP2K6"], poor=["TMSB4X"], control_mode="resample"
    )
    c.add_input("real.h5ad", real, **REAL_NORMAN_META)
    c.add_input(
        "pred.h5ad",
        pred,
        derivation="seeded (202) resample/mix/noise of real per perturbation, control cells resampled with noise too",
        pred_params=params,
    )
    args = {"pert_col": NORMAN_PERT, "control_pert": NORMAN_CTRL, "profile": "full", "num_threads": 1}
    c.run(run_args(NORMAN_PERT, NORMAN_CTRL, "full", outdir="."), "run", std_outputs(), args)
    c.finish(store, {"results.csv": check_results(c, "results.csv", perts, "full")})


PAP_PERT, PAP_CTRL = "target_top", "non-targeting"


def papalexi_inputs():
    real = load_papalexi()
    rng = np.random.default_rng(303)
    pred, params = make_pred(
        real, PAP_PERT, PAP_CTRL, rng, kind="counts", good=["IFNGR1"], poor=["IRF1"], swapped={"JAK2": "STAT1"}
    )
    return real, pred, params, real_perts(real, PAP_PERT, PAP_CTRL)


REAL_PAP_META = {
    "source": "../shared/data/genetic_perturbation/papalexi2021_thp1_eccite_rep1_n9428x299.h5ad",
    "derivation": "a seeded (3030) subset of cells: at most 150 per perturbation and 300 non-targeting (file order "
    "kept); X (raw UMI counts, CSR int32), obs and var as in the file; obsm grna_counts and uns dropped",
}


def case_papalexi(store: Store, discrete: bool, name: str = "") -> None:
    name = name or ("papalexi_counts_discrete" if discrete else "papalexi_counts")
    desc = "Papalexi 2021 THP-1 ECCITE-seq raw integer UMI counts (real and pred), "
    desc += (
        "--allow-discrete (no normalisation; pdex is_log1p=False)"
        if discrete
        else "cell-eval normalises both files itself (normalize_total + log1p)"
    )
    c = Case(name, desc)
    real, pred, params, perts = papalexi_inputs()
    c.add_input("real.h5ad", real, **REAL_PAP_META)
    c.add_input(
        "pred.h5ad",
        pred,
        derivation="seeded (303) resample of real cells of the same perturbation (some from controls), counts = "
        "Poisson(count x per-cell depth U(0.6,1) x per-gene factor), int32 CSR; control cells identical to real",
        pred_params=params,
    )
    args = {
        "pert_col": PAP_PERT,
        "control_pert": PAP_CTRL,
        "profile": "full",
        "num_threads": 1,
        "allow_discrete": discrete,
    }
    if not discrete:
        c.run(run_args(PAP_PERT, PAP_CTRL, "full", outdir="."), "run", std_outputs(), args)
        c.finish(store, {"results.csv": check_results(c, "results.csv", perts, "full")})
        return
    # int32 counts with --allow-discrete: pdex computes log1p in place on X's own dtype and raises
    # (float64 output into int32); every profile that runs DE fails (full, minimal, vcc, de, anndata:
    # the DE tables are built in MetricsEvaluator's constructor). Recorded, then what cell-eval does
    # produce: `--profile pds` (no DE) on the int32 files, and the full profile on the same counts
    # stored as float32 (integer-valued, so still "discrete").
    checks = {}
    for profile in ("full", "minimal"):
        rc, rec = c.run(
            run_args(PAP_PERT, PAP_CTRL, profile, outdir=f"int32_{profile}", allow_discrete=True),
            f"run_int32_{profile}",
            None,
            dict(args, profile=profile),
        )
        assert rc != 0, "expected the int32 + --allow-discrete run to fail"
        shutil.rmtree(c.dir / f"int32_{profile}", ignore_errors=True)
        rec["files_written"] = []
    o = {"pds/results.csv": ["real.h5ad", "pred.h5ad"], "pds/agg_results.csv": ["pds/results.csv (describe())"]}
    c.run(
        run_args(PAP_PERT, PAP_CTRL, "pds", outdir="pds", allow_discrete=True),
        "run_int32_pds",
        o,
        dict(args, profile="pds"),
    )
    checks["pds/results.csv"] = check_results(c, "pds/results.csv", perts, "pds")
    for fname, a in (("real_f32.h5ad", real), ("pred_f32.h5ad", pred)):
        b = a.copy()
        b.X = b.X.astype(np.float32)
        c.add_input(fname, b, derivation=f"{fname.replace('_f32', '')} with X cast to float32 (same integer values)")
    a32 = ["run", "-ar", "real_f32.h5ad", "-ap", "pred_f32.h5ad", "--pert-col", PAP_PERT, "--control-pert", PAP_CTRL]
    a32 += ["--profile", "full", "--num-threads", "1", "--allow-discrete", "--outdir", "f32"]
    o = std_outputs(prefix="f32/")
    o["f32/results.csv"] = ["real_f32.h5ad", "pred_f32.h5ad"]
    o["f32/real_de.csv.gz"] = ["real_f32.h5ad (pdex, is_log1p False)"]
    o["f32/pred_de.csv.gz"] = ["pred_f32.h5ad (pdex, is_log1p False)"]
    c.run(a32, "run_f32_full", o, args)
    checks["f32/results.csv"] = check_results(c, "f32/results.csv", perts, "full")
    c.info["profile_used"] = (
        "full on float32 copies of the counts (f32/); pds on the int32 files (pds/); full and minimal on int32 fail"
    )
    c.finish(store, checks)


def run_celltype_case(
    c: Case, real: ad.AnnData, pred: ad.AnnData, pert: str, ctrl: str, ct_col: str, store: Store
) -> None:
    args = {"pert_col": pert, "control_pert": ctrl, "profile": "full", "celltype_col": ct_col, "num_threads": 1}
    cts = sorted(set(real.obs[ct_col].astype(str)))
    outputs = {}
    for ct in cts:
        outputs.update(std_outputs(prefix=f"{ct.replace('/', '-')}_"))
    c.run(run_args(pert, ctrl, "full", celltype_col=ct_col, outdir="."), "run", outputs, args)
    checks = {}
    for ct in cts:
        p = f"{ct.replace('/', '-')}_results.csv"
        in_ct = (real.obs[ct_col].astype(str) == ct).to_numpy()
        expected = sorted(set(real.obs[pert].astype(str)[in_ct]) - {ctrl})
        checks[p] = check_results(c, p, expected, "full") if (c.dir / p).exists() else "not written"
    c.info["cell_types"] = cts
    c.finish(store, checks)


def case_kang(store: Store) -> None:
    c = Case(
        "kang_celltype",
        f"Kang 2018 PBMC IFN-beta (control vs stimulated), {KANG_GENES} most variable genes, --celltype-col cell_type, "
        "--profile full (one perturbation per cell type)",
    )
    real, note = load_kang(KANG_GENES)
    rng = np.random.default_rng(505)
    pred, params = make_pred(
        real,
        "condition",
        "control",
        rng,
        kind="log1p",
        # one cell type predicted well, one poorly (stimulated cells mostly control cells), the rest in between
        good=["CD14+Mono/stimulated"],
        poor=["B/stimulated"],
        strata_col="cell_type",
    )
    c.add_input(
        "real.h5ad",
        real,
        source="../shared/data/chemical_singlecell/scgen_kang2018_pbmc_ifnb_valid_n1975x6998.h5ad",
        derivation=f"X (log1p, CSR float32) on {note['genes']}; {note['cells']}; dropped {note['dropped']}",
    )
    c.add_input(
        "pred.h5ad",
        pred,
        derivation="seeded (505) per cell type: resample/mix/noise of that cell type's real cells per condition "
        "(control cells identical to real); float32 CSR like real",
        pred_params=params,
    )
    run_celltype_case(c, real, pred, "condition", "control", "cell_type", store)


def case_mcfaline(store: Store) -> None:
    c = Case(
        "mcfaline_celltype",
        "McFaline-Figueroa 2023 (CRISPRi, 3 glioblastoma cell lines x 9 perturbations + control), log1p CSR float64, "
        "--celltype-col cell_type, --profile full",
    )
    a = ad.read_h5ad(NORMAN)
    real = a[(a.obs["dataset"] == "mcfaline23").to_numpy()].copy()
    for col in real.obs.columns:
        if isinstance(real.obs[col].dtype, pd.CategoricalDtype):
            real.obs[col] = real.obs[col].cat.remove_unused_categories()
    rng = np.random.default_rng(606)
    pred, params = make_pred(
        real,
        NORMAN_PERT,
        NORMAN_CTRL,
        rng,
        kind="log1p",
        good=["A172/SGK1", "U87MG/MAPK1"],
        poor=["T98G/MAP4K3", "A172/PLK4"],
        swapped={},
        control_mode="resample",
        strata_col="cell_type",
    )
    c.add_input(
        "real.h5ad",
        real,
        source="../shared/data/genetic_perturbation/perturbench_devel_norman19_mcfaline23_n5961x500.h5ad",
        derivation='cells with obs dataset == "mcfaline23" (all obs/var/uns kept, unused categories removed), X unchanged',
    )
    c.add_input(
        "pred.h5ad",
        pred,
        derivation="seeded (606) per cell type: resample/mix/noise of that cell type's real cells per perturbation; "
        "control cells a noisy resample of that cell type's real controls",
        pred_params=params,
    )
    run_celltype_case(c, real, pred, NORMAN_PERT, NORMAN_CTRL, "cell_type", store)


def case_norman_baseline_vcc(store: Store) -> None:
    c = Case(
        "norman_baseline_vcc",
        "cell-eval baseline on norman_log1p's real; the baseline and norman_log1p's pred each scored with --profile vcc "
        "(and full), then cell-eval score user vs base",
    )
    real, pred, params, perts = norman_inputs(seed=101)
    c.add_input("real.h5ad", real, **REAL_NORMAN_META)
    c.add_input("pred.h5ad", pred, derivation="identical to norman_log1p/pred.h5ad", pred_params=params)
    c.run(
        [
            "baseline",
            "-a",
            "real.h5ad",
            "--pert-col",
            NORMAN_PERT,
            "--control-pert",
            NORMAN_CTRL,
            "-o",
            "baseline.h5ad",
            "-O",
            "baseline_de.csv",
            "-t",
            "1",
        ],
        "baseline",
        {
            "baseline.h5ad": [
                "real.h5ad (each perturbation: as many cells as in real, every one equal to the mean over ALL groups (control included) of the per-group mean of X; then the real control cells appended)"
            ],
            "baseline_de.csv.gz": ["baseline.h5ad (pdex, clip_value 2**20, is_log1p True)"],
        },
        {"pert_col": NORMAN_PERT, "control_pert": NORMAN_CTRL, "num_threads": 1},
    )
    # cell-eval writes baseline.h5ad uncompressed (~13 MB); store it gzip-compressed with identical content
    b_raw = ad.read_h5ad(c.dir / "baseline.h5ad")
    raw_bytes = (c.dir / "baseline.h5ad").stat().st_size
    raw_sha = sha256(c.dir / "baseline.h5ad")
    for profile in ("vcc", "full"):
        sfx = "" if profile == "vcc" else "_full"
        base_args = [
            "run",
            "-ar",
            "real.h5ad",
            "-ap",
            "baseline.h5ad",
            "--pert-col",
            NORMAN_PERT,
            "--control-pert",
            NORMAN_CTRL,
        ]
        base_args += ["--profile", profile, "--num-threads", "1", "-o", f"base{sfx}"]
        o = std_outputs(prefix=f"base{sfx}/")
        o[f"base{sfx}/results.csv"] = ["real.h5ad", "baseline.h5ad"]
        o[gz_name(f"base{sfx}/pred_de.csv")] = ["baseline.h5ad (pdex, reference = control)"]
        c.run(base_args, f"run_base_{profile}", o, {"profile": profile})
        c.run(
            run_args(NORMAN_PERT, NORMAN_CTRL, profile, outdir=f"user{sfx}"),
            f"run_user_{profile}",
            std_outputs(prefix=f"user{sfx}/"),
            {"profile": profile},
        )
        c.run(
            ["score", "-i", f"user{sfx}/agg_results.csv", "-I", f"base{sfx}/agg_results.csv", "-o", f"score{sfx}.csv"],
            f"score_{profile}",
            {f"score{sfx}.csv": [f"user{sfx}/agg_results.csv", f"base{sfx}/agg_results.csv"]},
        )
    tmp = c.dir / "baseline.rewritten.h5ad"
    write_h5ad(b_raw, tmp)
    b2 = ad.read_h5ad(tmp)
    same = (
        np.array_equal(
            np.asarray(b_raw.X.todense() if sp.issparse(b_raw.X) else b_raw.X),
            np.asarray(b2.X.todense() if sp.issparse(b2.X) else b2.X),
        )
        and b_raw.obs.equals(b2.obs)
        and b_raw.var.equals(b2.var)
        and list(b_raw.obs_names) == list(b2.obs_names)
        and type(b_raw.X) is type(b2.X)
        and b_raw.X.dtype == b2.X.dtype
    )
    assert same, "baseline.h5ad rewrite changed content"
    os.replace(tmp, c.dir / "baseline.h5ad")
    c.info["baseline_h5ad"] = {
        "as_written_by_cell_eval": {"bytes": raw_bytes, "sha256": raw_sha, "compression": None},
        "stored": "re-written by anndata with compression=gzip; X, obs (and obs_names) and var verified identical",
        **describe_h5ad(b_raw),
    }
    checks = {}
    for sub, profile in (("base", "vcc"), ("user", "vcc"), ("base_full", "full"), ("user_full", "full")):
        checks[f"{sub}/results.csv"] = check_results(c, f"{sub}/results.csv", perts, profile)
    for s in ("score.csv", "score_full.csv"):
        if (c.dir / s).exists():
            checks[s] = {"rows": pl.read_csv(c.dir / s)["metric"].to_list()}
    c.finish(store, checks)


def case_norman_ceiling(store: Store) -> None:
    c = Case(
        "norman_ceiling", "norman_log1p's files with --ceiling (seed 0), and --ceiling --ceiling-seed 7 into seed7/"
    )
    real, pred, params, perts = norman_inputs(seed=101)
    c.add_input("real.h5ad", real, **REAL_NORMAN_META)
    c.add_input("pred.h5ad", pred, derivation="identical to norman_log1p/pred.h5ad", pred_params=params)
    args = {
        "pert_col": NORMAN_PERT,
        "control_pert": NORMAN_CTRL,
        "profile": "full",
        "num_threads": 1,
        "ceiling": True,
        "ceiling_seed": 0,
    }
    c.run(
        run_args(NORMAN_PERT, NORMAN_CTRL, "full", ceiling=True, outdir="."),
        "run_ceiling_seed0",
        std_outputs(ceiling=True),
        args,
    )
    args7 = dict(args, ceiling_seed=7)
    c.run(
        run_args(NORMAN_PERT, NORMAN_CTRL, "full", ceiling=True, ceiling_seed=7, outdir="seed7"),
        "run_ceiling_seed7",
        std_outputs(prefix="seed7/", ceiling=True),
        args7,
    )
    checks = {}
    for p in ("results.csv", "ceiling_results.csv", "seed7/results.csv", "seed7/ceiling_results.csv"):
        checks[p] = check_results(c, p, perts, "full")
    c.finish(store, checks)


def case_synthetic(store: Store) -> None:
    c = Case(
        "synthetic_dense_f64_nondefault",
        "generated screen, dense float64 log1p X, obsm X_emb, control NT-ctrl, pert column guide_target; "
        "--embed-key X_emb --profile full, and again with --skip-metrics pearson_edistance,de_spearman_sig into skip/",
    )
    rng = np.random.default_rng(808)
    real, W, note = make_synthetic(rng)
    pred, params = make_pred(
        real, "guide_target", "NT-ctrl", rng, kind="log1p", good=["SPI1"], poor=["MYC"], swapped={"CEBPA": "GATA1"}
    )
    pred.obsm["X_emb"] = np.asarray(pred.X) @ W
    perts = real_perts(real, "guide_target", "NT-ctrl")
    c.add_input("real.h5ad", real, derivation=note["generator"], perturbations=note["perturbations"])
    c.add_input(
        "pred.h5ad",
        pred,
        derivation="seeded (808, after real) resample/mix/noise of real per perturbation; X_emb = X @ W",
        pred_params=params,
    )
    args = {
        "pert_col": "guide_target",
        "control_pert": "NT-ctrl",
        "profile": "full",
        "embed_key": "X_emb",
        "num_threads": 1,
    }
    c.run(run_args("guide_target", "NT-ctrl", "full", embed_key="X_emb", outdir="."), "run_embed", std_outputs(), args)
    skip = "pearson_edistance,de_spearman_sig"
    c.run(
        run_args("guide_target", "NT-ctrl", "full", embed_key="X_emb", skip_metrics=skip, outdir="skip"),
        "run_embed_skip",
        std_outputs(prefix="skip/"),
        dict(args, skip_metrics=skip),
    )
    checks = {
        "results.csv": check_results(c, "results.csv", perts, "full"),
        "skip/results.csv": check_results(c, "skip/results.csv", perts, "full", skip=skip.split(",")),
    }
    c.finish(store, checks)


def case_precomputed_de(store: Store) -> None:
    c = Case(
        "precomputed_de",
        "norman_log1p's files with --de-real / --de-pred (norman_log1p's real_de and its pred_de minus a few rows), --profile de",
    )
    src = OUT / "norman_log1p" / "case.json"
    info = json.loads(src.read_text())
    real, pred, params, perts = norman_inputs(seed=101)
    c.add_input("real.h5ad", real, **REAL_NORMAN_META)
    c.add_input("pred.h5ad", pred, derivation="identical to norman_log1p/pred.h5ad", pred_params=params)
    real_de = gzip.decompress((OUT / info["files"]["real_de.csv.gz"]["stored_at"]).read_bytes())
    pred_de = gzip.decompress((OUT / info["files"]["pred_de.csv.gz"]["stored_at"]).read_bytes())
    (c.dir / "inputs").mkdir()
    (c.dir / "inputs" / "de_real.csv.gz").write_bytes(gzip_bytes(real_de))
    lines = pred_de.decode().splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    df = pd.read_csv(io.BytesIO(pred_de))
    rng = np.random.default_rng(909)
    sig = np.flatnonzero(df["fdr"].to_numpy() < 0.05)
    # three significant rows and five others
    drop = set(rng.choice(sig, min(3, sig.size), replace=False).tolist())
    drop |= set(rng.choice(np.setdiff1d(np.arange(len(df)), sig), 5, replace=False).tolist())
    drop = sorted(drop)
    kept = [ln for i, ln in enumerate(body) if i not in set(drop)]
    (c.dir / "inputs" / "de_pred.csv.gz").write_bytes(gzip_bytes((header + "".join(kept)).encode()))
    c.info["inputs"]["inputs/de_real.csv.gz"] = {
        "derivation": "norman_log1p/real_de.csv.gz (byte-identical); cell-eval (polars read_csv) reads the .gz itself"
    }
    c.info["inputs"]["inputs/de_pred.csv.gz"] = {
        "derivation": "norman_log1p/pred_de.csv with these data rows removed (0-based, header excluded), gzipped "
        "(mtime 0); cell-eval (polars read_csv) reads the .gz itself",
        "removed_rows": [
            {
                "row": int(i),
                "target": str(df.iloc[i]["target"]),
                "feature": str(df.iloc[i]["feature"]),
                "fdr": float(df.iloc[i]["fdr"]),
            }
            for i in drop
        ],
    }
    args = {
        "pert_col": NORMAN_PERT,
        "control_pert": NORMAN_CTRL,
        "profile": "de",
        "num_threads": 1,
        "de_real": "inputs/de_real.csv.gz",
        "de_pred": "inputs/de_pred.csv.gz",
    }
    c.run(
        run_args(
            NORMAN_PERT, NORMAN_CTRL, "de", de_real="inputs/de_real.csv.gz", de_pred="inputs/de_pred.csv.gz", outdir="."
        ),
        "run_de",
        {
            "results.csv": ["inputs/de_real.csv.gz", "inputs/de_pred.csv.gz"],
            "agg_results.csv": ["results.csv (describe())"],
        },
        args,
    )
    c.finish(store, {"results.csv": check_results(c, "results.csv", perts, "de")})


def case_papalexi_c_library(store: Store) -> None:
    if NUMPY_LOG1P != "c-library":
        sys.exit("papalexi_counts_c_library is made on a CPU without AVX-512 (numpy's log1p there is the C library's)")
    case_papalexi(store, discrete=False, name="papalexi_counts_c_library")


CASES = {
    "norman_log1p": case_norman_log1p,
    "norman_pred_controls_differ": case_norman_pred_controls_differ,
    "papalexi_counts": lambda s: case_papalexi(s, discrete=False),
    "papalexi_counts_discrete": lambda s: case_papalexi(s, discrete=True),
    # papalexi_counts again, made on a CPU without AVX-512 (numpy's log1p is the C library's).
    "papalexi_counts_c_library": case_papalexi_c_library,
    "kang_celltype": case_kang,
    "mcfaline_celltype": case_mcfaline,
    "norman_baseline_vcc": case_norman_baseline_vcc,
    "norman_ceiling": case_norman_ceiling,
    "synthetic_dense_f64_nondefault": case_synthetic,
    "precomputed_de": case_precomputed_de,
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", choices=list(CASES))
    a = ap.parse_args()
    if not DATA.is_dir():
        sys.exit(f"real data not found at {DATA} (set CELLCAST_SHARED)")
    # A case made for the other kind of CPU is kept as it is on a full run.
    other_cpu = {"papalexi_counts_c_library"} if NUMPY_LOG1P != "c-library" else set()
    names = a.only or [n for n in CASES if n not in other_cpu]
    store = Store()
    if a.only or other_cpu:
        store.index_existing(skip=set(names))
        for n in names:
            shutil.rmtree(OUT / n, ignore_errors=True)
    else:
        shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    for n in names:
        print(f"case {n}", flush=True)
        CASES[n](store)
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
