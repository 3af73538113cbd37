"""Would a count-based statistic rank knockout targets better? A held-out probe, in numpy.

Dev-only (issue 18): before adding a statistic to `targets rank`, this measures candidates on the
raw counts against the statistics cellcast has, on the same protocol as `cellcast targets
evaluate` — stratified folds, every held-out group (whole: 2 folds; 30 cells: 5 folds) ranked
against the other folds' controls, specific = minus the other held-out groups' median — but with
numpy's folds (3 seeds averaged), so its numbers are close to, not equal to, the evaluate's.
MRR is averaged over perturbations (each perturbation's mean reciprocal rank, then their mean).

Statistics, for gene j of a group g of n cells against m controls c (y raw counts, L the cell's
total count, x = log1p(1e4 y / L)):

  mean_z, detection, combined   as cellcast's (docs/TARGET_STATISTICS.md), on x
  nb                 NB score z: (Y_g − μ S_g) / √(μ S_g + φ μ² Q_g + (S_g/S_c)² (μ S_c + φ μ² Q_c)),
                     Y_g = Σ_g y, μ = Σ_c y / S_c, S = Σ L, Q = Σ L²; φ the controls' method-of-moments
                     overdispersion, var_c(y/L) = μ·mean_c(1/L) + φ μ², clipped at 0 and shrunk:
                     (w φ̂ + 50 φ₀)/(w + 50), w = m (1 − exp(−μ mean_c L)) (control cells expected to
                     have a count), φ₀ the median over genes of the clipped φ̂
  nb_log             Wald z of the log rate ratio: log(r_g / r_c) / √(1/(r_g S_g) + φ Q_g/S_g²
                     + 1/(r_c S_c) + φ Q_c/S_c²), r = (Σ y + 0.5) / S
  detection_lib      zeros against the NB's expected zeros given each cell's library:
                     (Σ_g p0 − zeros_g) / √(Σ_g p0 (1 − p0)), p0 = (1 + φ L μ)^(−1/φ)
  combined_nb        (z_wilcoxon + z_mean + z_detection + nb_log) / 2

`_specific` subtracts the other groups' median (cellcast's); `_specific_mad` also divides by the
other groups' spread, 1.4826 · MAD, floored at the median over genes of that spread (so genes whose
score rarely moves, as zero-inflated ones in small groups, are not blown up by a near-zero MAD).

Usage: /tmp/golden-celleval/bin/python scripts/bench/count_statistics_probe.py --out DIR
(generated screens are made with target/release/cellcast in DIR; about 10 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import anndata as ad
import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "target/release/cellcast"
PAPALEXI = ROOT.parent / "shared/data/genetic_perturbation/papalexi2021_thp1_eccite_rep1_n9428x299.h5ad"
SEEDS = 3


class Screen:
    def __init__(self, path, column, control):
        a = ad.read_h5ad(path)
        y = a.X.toarray() if sp.issparse(a.X) else np.asarray(a.X)
        self.y = y.astype(float)
        assert np.all(self.y == np.round(self.y)), "raw counts needed"
        self.labels = a.obs[column].astype(str).values
        self.control = control
        self.genes = {g: j for j, g in enumerate(a.var_names)}
        self.lib = self.y.sum(1)
        self.x = np.log1p(self.y / self.lib[:, None] * 1e4)


def finite(v):
    return np.where(np.isfinite(v), v, 0.0)


def wilcoxon(s, g, c):
    n, m = len(g), len(c)
    v = np.vstack([s.x[g], s.x[c]])
    out = np.empty(v.shape[1])
    for j in range(v.shape[1]):
        _, t = np.unique(v[:, j], return_counts=True)
        var = n * m / 12 * (n + m + 1 - (t ** 3 - t).sum() / ((n + m) * (n + m - 1)))
        out[j] = (rankdata(v[:, j])[:n].sum() - n * (n + m + 1) / 2) / np.sqrt(var) if var > 0 else 0.0
    return out


def detection(s, g, c):
    dg, dc = (s.x[g] != 0).sum(0), (s.x[c] != 0).sum(0)
    p = (dg + dc) / (len(g) + len(c))
    with np.errstate(all="ignore"):
        z = (dg / len(g) - dc / len(c)) / np.sqrt(p * (1 - p) * (1 / len(g) + 1 / len(c)))
    return np.where((p > 0) & (p < 1), z, 0.0)


def z_mean(s, g, c):
    with np.errstate(all="ignore"):
        return (s.x[g].mean(0) - s.x[c].mean(0)) / (s.x[c].std(0, ddof=1) * np.sqrt(1 / len(g) + 1 / len(c)))


def mean_z(s, g, c):
    with np.errstate(all="ignore"):
        return (s.x[g].mean(0) - s.x[c].mean(0)) / s.x[c].std(0, ddof=1)


def combined(s, g, c):
    return (finite(wilcoxon(s, g, c)) + finite(z_mean(s, g, c)) + finite(detection(s, g, c))) / np.sqrt(3)


def dispersion(s, c):
    yc, lc = s.y[c], s.lib[c]
    mu = yc.sum(0) / lc.sum()
    with np.errstate(all="ignore"):
        phi = ((yc / lc[:, None]).var(0, ddof=1) - mu * np.mean(1 / lc)) / mu ** 2
    ok = np.isfinite(phi)
    phi = np.where(ok, np.clip(phi, 0, None), 0.0)
    phi0 = np.median(phi[ok])
    w = len(c) * (1 - np.exp(-mu * lc.mean()))
    return mu, (w * phi + 50 * phi0) / (w + 50)


def nb(s, g, c):
    mu, phi = dispersion(s, c)
    lg, lc = s.lib[g], s.lib[c]
    sg, qg, sc, qc = lg.sum(), (lg ** 2).sum(), lc.sum(), (lc ** 2).sum()
    var = mu * sg + phi * mu ** 2 * qg + (sg / sc) ** 2 * (mu * sc + phi * mu ** 2 * qc)
    with np.errstate(all="ignore"):
        return np.where(mu > 0, (s.y[g].sum(0) - mu * sg) / np.sqrt(var), np.nan)


def nb_log(s, g, c):
    _, phi = dispersion(s, c)
    lg, lc = s.lib[g], s.lib[c]
    sg, qg, sc, qc = lg.sum(), (lg ** 2).sum(), lc.sum(), (lc ** 2).sum()
    rg, rc = (s.y[g].sum(0) + 0.5) / sg, (s.y[c].sum(0) + 0.5) / sc
    return np.log(rg / rc) / np.sqrt(1 / (rg * sg) + phi * qg / sg ** 2 + 1 / (rc * sc) + phi * qc / sc ** 2)


def detection_lib(s, g, c):
    mu, phi = dispersion(s, c)
    lg = s.lib[g][:, None]
    with np.errstate(all="ignore"):
        p0 = np.where(phi > 0, (1 + phi * lg * mu) ** (-1 / np.where(phi > 0, phi, 1)), np.exp(-lg * mu))
        v = (p0 * (1 - p0)).sum(0)
        z = (p0.sum(0) - (s.y[g] == 0).sum(0)) / np.sqrt(v)
    return np.where(v > 0, z, 0.0)


def combined_nb(s, g, c):
    parts = [wilcoxon(s, g, c), z_mean(s, g, c), detection(s, g, c), nb_log(s, g, c)]
    return sum(finite(p) for p in parts) / 2


STATISTICS = {"mean_z": mean_z, "detection": detection, "combined": combined, "nb": nb, "nb_log": nb_log, "detection_lib": detection_lib,
              "combined_nb": combined_nb}


def specific(scores):
    return np.array([scores[i] - np.median(np.delete(scores, i, axis=0), axis=0) for i in range(len(scores))])


def specific_mad(scores):
    out = np.empty_like(scores)
    for i in range(len(scores)):
        others = np.delete(scores, i, axis=0)
        median = np.median(others, axis=0)
        mad = 1.4826 * np.median(np.abs(others - median), axis=0)
        floor = np.median(mad[mad > 0]) if np.any(mad > 0) else 1.0
        out[i] = (scores[i] - median) / np.maximum(mad, floor)
    return out


def evaluate(s, sign, folds, size, seed):
    rng = np.random.default_rng(seed)
    fold_of = np.zeros(len(s.labels), int)
    for cond in sorted(set(s.labels)):
        cells = np.where(s.labels == cond)[0]
        rng.shuffle(cells)
        fold_of[cells] = np.arange(len(cells)) % folds
    rr = {}
    for f in range(folds):
        c = np.where((fold_of != f) & (s.labels == s.control))[0]
        held = []
        for cond in sorted(set(s.labels) - {s.control}):
            cells = np.where((fold_of == f) & (s.labels == cond))[0]
            if size == "all":
                held += [(cond, cells)] if len(cells) else []
            else:
                held += [(cond, cells[k:k + size]) for k in range(0, len(cells) - size + 1, size)]
        for name, statistic in STATISTICS.items():
            plain = np.array([sign * statistic(s, g, c) for _, g in held])
            low = np.nanmin(np.where(np.isfinite(plain), plain, np.nan), axis=1, keepdims=True) - 1
            plain = np.where(np.isfinite(plain), plain, low)
            variants = [(name, plain), (name + "_specific", specific(plain))]
            if name in ("mean_z", "combined"):
                variants.append((name + "_specific_mad", specific_mad(plain)))
            for variant, scores in variants:
                for (cond, _), row in zip(held, scores):
                    truth = [s.genes[t] for t in cond.split("+") if t in s.genes]
                    if truth:
                        order = np.argsort(-row, kind="stable")
                        rank = min(int(np.where(order == t)[0][0]) for t in truth) + 1
                        rr.setdefault(variant, {}).setdefault(cond, []).append(1 / rank)
    return {v: np.mean([np.mean(x) for x in per.values()]) for v, per in rr.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    screens = []
    if PAPALEXI.exists():
        screens.append(("papalexi", PAPALEXI, "target_top", "non-targeting", -1))
    for name, flags, seed, sign in [("ko0", ["--knockout"], 0, -1), ("ko1", ["--knockout"], 1, -1),
                                    ("down0", [], 0, -1), ("up0", ["--direction", "up"], 0, 1)]:
        folder = args.out / f"screen_{name}"
        if not folder.exists():
            subprocess.run([BIN, "synth", "--kind", "screen", *flags, "--cells", "150", "--seed", str(seed), "--out",
                            folder], check=True, capture_output=True)
        screens.append((name, folder / "screen.h5ad", "perturbation", "control", sign))
    table = {}
    for name, path, column, control, sign in screens:
        s = Screen(path, column, control)
        for folds, size in [(2, "all"), (5, 30)]:
            runs = [evaluate(s, sign, folds, size, seed) for seed in range(SEEDS)]
            for variant in runs[0]:
                table.setdefault(variant, {})[f"{name} {size}"] = np.mean([r[variant] for r in runs])
    columns = list(next(iter(table.values())))
    print("| statistic | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for variant, row in table.items():
        print(f"| {variant} | " + " | ".join(f"{row[k]:.3f}" for k in columns) + " |")


if __name__ == "__main__":
    main()
