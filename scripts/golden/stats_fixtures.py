#!/usr/bin/env python3
"""Golden fixtures for the cellcast statistics code (limma moderated t, weight builders,
special functions).

Contract: /tmp/fixture_format.md section 2 (copied into scripts/golden/README-stats.md).
Output root: <repo>/fixtures/golden/{limma,weights_myllia,weights_vcpi,weights_mejia,special}.

Every expected value comes from a REFERENCE implementation:
  * limma        -> inmoose.limma (lmFit -> contrasts_fit -> eBayes), plus an independent
                    numpy implementation of metrics.md section 2 used only as a cross-check.
  * weights_mejia-> scanpy.tl.rank_genes_groups(method="t-test_overestim_var", reference="rest")
                    and the Mejia et al. min-max/square recipe (transcribed, see below).
  * weights_vcpi -> transcription of virtualcell-vcpi/vcpi-prediction-contest-2026 weights.py
                    (the package is not installable from the package index used here).
  * weights_myllia -> numpy transcription of the formula in metrics.md section 3.3.
  * special      -> scipy.special, mpmath (30 digits), inmoose.limma.fitFDist.trigammaInverse.

Deterministic: every random draw comes from numpy.random.default_rng(<fixed seed>).
Run:  /tmp/golden-stats/bin/python scripts/golden/stats_fixtures.py
"""

from __future__ import annotations

import json
import logging
import math
import sys
import warnings
from pathlib import Path

import anndata
import inmoose
import mpmath
import numpy as np
import pandas as pd
import scanpy as sc
import scipy
from inmoose.limma import contrasts_fit, eBayes, lmFit, squeezeVar
from inmoose.limma.fitFDist import trigammaInverse as inmoose_trigamma_inverse
from scipy.special import digamma, polygamma

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "fixtures" / "golden"
FLOAT_FMT = "%.17g"

VCPI_REF = (
    "virtualcell-vcpi/vcpi-prediction-contest-2026@0d823d19c5c7acfbd6fa47b2d342cc3ce68739ed:"
    "src/vcpi_prediction_contest/weights.py"
)
MEJIA_REF = (
    "shiftbioscience/diversity_by_design@4fd35bcab6405e5447580f0ac65646795c4f20ed:"
    "data/norman19/get_data.py (same recipe in "
    "@737bd0efa52d5832de0dd61d49034f65d5955306:analyses/common.py::initialize_analysis)"
)

VERSIONS = {
    "python": sys.version.split()[0],
    "inmoose": inmoose.__version__,
    "scanpy": sc.__version__,
    "anndata": anndata.__version__,
    "numpy": np.__version__,
    "pandas": pd.__version__,
    "scipy": scipy.__version__,
    "mpmath": mpmath.__version__,
}

REPORT: list[str] = []  # human-readable cross-check results, printed at the end


def note(msg: str) -> None:
    REPORT.append(msg)
    print(msg)


# --------------------------------------------------------------------------------------
# I/O helpers
# --------------------------------------------------------------------------------------


def write_wide(df: pd.DataFrame, path: Path) -> None:
    """Write a wide CSV: first column `id` (strings), full-precision floats, NaN -> empty."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = df.copy()
    out.index = pd.Index([str(i) for i in out.index], name="id")
    out.columns = [str(c) for c in out.columns]
    out.to_csv(path, float_format=FLOAT_FMT, na_rep="", lineterminator="\n")
    size = path.stat().st_size
    assert size < 100_000, f"{path} is {size} bytes (> 100 KB)"


def write_groups(groups: pd.Series, path: Path, col: str = "group") -> None:
    write_wide(pd.DataFrame({col: groups.astype(str).values}, index=groups.index), path)


def write_json(obj: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # allow_nan=False: any NaN/inf must have been mapped to null explicitly.
    path.write_text(json.dumps(obj, indent=2, allow_nan=False) + "\n")


def first_appearance(values) -> list[str]:
    return list(dict.fromkeys(str(v) for v in values))


def py_float(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


# --------------------------------------------------------------------------------------
# 1. limma (inmoose)
# --------------------------------------------------------------------------------------


def limma_inmoose(expr: pd.DataFrame, groups: pd.Series, control: str) -> dict:
    """Moderated t of (group - control) for every non-control group, via inmoose.limma.

    expr: samples x genes. groups: sample -> group label.
    Design ~0+group with one-hot columns in order of first appearance of the groups.
    """
    levels = first_appearance(groups.values)
    treated = [g for g in levels if g != control]
    design = pd.DataFrame(
        (groups.values[:, None] == np.array(levels)[None, :]).astype(float),
        index=expr.index,
        columns=levels,
    )
    fit = lmFit(expr.T.copy(), design)  # inmoose wants genes x samples
    coef_names = list(fit.coefficients.columns)  # inmoose renames design columns -> column0..
    contrasts = pd.DataFrame(0.0, index=coef_names, columns=[f"{g}-{control}" for g in treated])
    for j, g in enumerate(treated):
        contrasts.iloc[levels.index(g), j] = 1.0
        contrasts.iloc[levels.index(control), j] = -1.0
    fit2 = contrasts_fit(fit, contrasts)

    # inmoose 0.9.1 eBayes crashes in its B-statistic (lods) step when df_prior is infinite
    # (`~Infdf` on a Python bool gives -2 -> KeyError). The moderated t is computed BEFORE
    # that step, from squeezeVar, exactly as below (ebayes.py::_ebayes lines "Moderated
    # t-statistic"), so we reproduce that step with inmoose's own squeezeVar, and run the
    # full eBayes whenever it works to prove both agree bit for bit.
    sigma2 = np.asarray(fit2.sigma, dtype=float) ** 2
    df_res = np.asarray(fit2.df_residual, dtype=float)
    sv = squeezeVar(sigma2.copy(), df_res)
    t = (
        fit2.coefficients.to_numpy()
        / fit2.stdev_unscaled.to_numpy()
        / np.sqrt(np.asarray(sv["var_post"], dtype=float))[:, None]
    )
    ebayes_ok = True
    try:
        fit3 = eBayes(fit2)
        assert np.array_equal(fit3.t.to_numpy(), t), "eBayes t != squeezeVar-based t"
        assert fit3.df_prior == sv["df_prior"] and fit3.s2_prior == sv["var_prior"]
    except (KeyError, TypeError) as exc:  # the infinite-df_prior crash
        ebayes_ok = False
        note(f"  inmoose eBayes raised {type(exc).__name__}({exc}) -> used squeezeVar path")
    assert len(set(df_res.tolist())) == 1
    return {
        "t": pd.DataFrame(t.T, index=treated, columns=expr.columns),
        "df_prior": float(sv["df_prior"]),
        "s2_prior": float(sv["var_prior"]),
        "df_residual": float(df_res[0]),
        "design_columns": levels,
        "ebayes_ok": ebayes_ok,
        "sigma2": sigma2,
    }


# ---- independent re-implementation of metrics.md section 2 (cross-check only) ----------


def spec_logmdigamma(z: float) -> float:
    """statmod::logmdigamma as described in metrics.md 2.6 (recursion + series)."""
    if z < 5:
        return math.log(z / (z + 5)) + spec_logmdigamma(z + 5) + sum(1 / (z + k) for k in range(5))
    u = 1 / (z * z)
    series = (
        u / 12
        - u**2 / 120
        + u**3 / 252
        - u**4 / 240
        + u**5 / 132
        - 691 * u**6 / 32760
        + u**7 / 12
        - 3617 * u**8 / 8160
    )
    return 1 / (2 * z) + series


def spec_trigamma_inverse(x: float) -> float:
    if x > 1e7:
        return 1 / math.sqrt(x)
    if x < 1e-6:
        return 1 / x
    y = 0.5 + 1 / x
    for _ in range(51):
        tri = float(polygamma(1, y))
        dif = tri * (1 - tri / x) / float(polygamma(2, y))
        y += dif
        if -dif / y < 1e-8:
            break
    return y


def spec_limma(expr: pd.DataFrame, groups: pd.Series, control: str) -> dict:
    """metrics.md 2.1-2.5, equal-df legacy path, numpy only."""
    levels = first_appearance(groups.values)
    X = (groups.values[:, None] == np.array(levels)[None, :]).astype(float)
    Y = expr.to_numpy(dtype=float)
    n, p = X.shape
    d = n - np.linalg.matrix_rank(X)
    beta, *_ = np.linalg.lstsq(X, Y, rcond=None)
    resid = Y - X @ beta
    s2 = (resid**2).sum(axis=0) / d
    xtx_inv = np.linalg.inv(X.T @ X)
    # fitFDist
    x = np.maximum(s2, 0)
    m = np.median(x)
    if m == 0:
        m = 1
    x = np.maximum(x, 1e-5 * m)
    e = np.log(x) + spec_logmdigamma(d / 2)
    emean = e.mean()
    evar = ((e - emean) ** 2).sum() / (len(e) - 1) - float(polygamma(1, d / 2))
    if evar > 0:
        d0 = 2 * spec_trigamma_inverse(evar)
        s0 = math.exp(emean - spec_logmdigamma(d0 / 2))
        post = (d * s2 + d0 * s0) / (d + d0)
    else:
        d0 = math.inf
        s0 = x.mean()
        post = np.full_like(s2, s0)
    ts = []
    for g in levels:
        if g == control:
            continue
        c = np.zeros(p)
        c[levels.index(g)] = 1
        c[levels.index(control)] = -1
        ts.append((beta.T @ c) / math.sqrt(c @ xtx_inv @ c) / np.sqrt(post))
    return {"t": np.array(ts), "df_prior": d0, "s2_prior": s0}


def limma_case(name: str, expr: pd.DataFrame, groups: pd.Series, note_text: str,
               control: str = "ctrl") -> None:
    assert list(groups.index) == list(expr.index)
    assert groups.iloc[0] != control, "control must not be the first sample"
    res = limma_inmoose(expr, groups, control)
    spec = spec_limma(expr, groups, control)
    t_ref = res["t"].to_numpy()
    scale = np.maximum(np.abs(t_ref), 1.0)
    rel = np.max(np.abs(spec["t"] - t_ref) / scale)
    d0_ref, d0_spec = res["df_prior"], spec["df_prior"]
    d0_rel = 0.0 if (math.isinf(d0_ref) and math.isinf(d0_spec)) else abs(d0_spec / d0_ref - 1)
    note(
        f"limma/{name}: df_prior={d0_ref!r} s2_prior={res['s2_prior']!r} d={res['df_residual']} "
        f"| spec-vs-inmoose max |dt|/max(|t|,1)={rel:.3g}, df_prior rel={d0_rel:.3g}, "
        f"s2_prior rel={abs(spec['s2_prior'] / res['s2_prior'] - 1):.3g}"
    )
    assert rel < 1e-9 and d0_rel < 1e-9

    d = OUT / "limma" / name
    write_wide(expr, d / "expr.csv")
    write_groups(groups, d / "groups.csv")
    write_wide(res["t"], d / "expected_t.csv")
    meta = {
        "control": control,
        "df_prior": py_float(res["df_prior"]),
        "df_prior_infinite": math.isinf(res["df_prior"]),
        "s2_prior": res["s2_prior"],
        "df_residual": res["df_residual"],
        "design_columns": res["design_columns"],
        "reference": (
            f"inmoose {inmoose.__version__} inmoose.limma.lmFit(design ~0+group one-hot, columns "
            "in order of first appearance) -> contrasts_fit(group - ctrl) -> eBayes defaults "
            "(proportion=0.01, trend=False, robust=False); "
            + ("t = eBayes(fit).t" if res["ebayes_ok"] else
               "inmoose 0.9.1 eBayes crashes on an infinite df_prior (in its lods step, after t "
               "is computed), so t = coef/stdev_unscaled/sqrt(var_post) with var_post from "
               "inmoose.limma.squeezeVar, exactly as inmoose's _ebayes computes it")
            + "; cross-checked against a numpy implementation of metrics.md section 2 "
            f"(max rel diff {rel:.2g})"
        ),
        "note": note_text,
    }
    write_json(meta, d / "meta.json")


def limma_fixtures() -> None:
    # ---- case 1: four groups, 3-4 replicates, 150 genes, realistic moderate df_prior ----
    rng = np.random.default_rng(20240601)
    n_genes = 150
    genes = [f"g{i:03d}" for i in range(1, n_genes + 1)]
    labels = ["ctrl"] * 4 + ["A"] * 3 + ["B"] * 4 + ["C"] * 3
    order = rng.permutation(len(labels))
    labels = [labels[i] for i in order]
    if labels[0] == "ctrl":  # deterministic fix-up: control must not come first
        k = next(i for i, g in enumerate(labels) if g != "ctrl")
        labels[0], labels[k] = labels[k], labels[0]
    samples = [f"s{i:02d}" for i in range(1, len(labels) + 1)]
    groups = pd.Series(labels, index=samples)
    base = rng.normal(7.0, 2.0, n_genes)
    sig2 = 0.15 * 6 / rng.chisquare(6, n_genes)  # scaled inverse chi2 prior, d0=6
    eff = {g: np.where(rng.random(n_genes) < 0.15, rng.normal(0, 1.5, n_genes), 0.0)
           for g in ["ctrl", "A", "B", "C"]}
    eff["ctrl"][:] = 0.0
    Y = np.array([base + eff[g] + rng.normal(0, np.sqrt(sig2)) for g in labels])
    limma_case(
        "four_groups",
        pd.DataFrame(Y, index=samples, columns=genes),
        groups,
        "4 groups (ctrl 4, A 3, B 4, C 3 reps) x 150 genes, samples shuffled, control not first; "
        "gene variances drawn from a scaled inverse-chi2 prior (d0=6) so df_prior is finite and "
        "moderate; ~15% DE genes per treated group.",
    )

    # ---- case 2: unequal replicate counts, numeric-looking ids ----
    rng = np.random.default_rng(777)
    n_genes = 80
    genes = [str(1000 + i) for i in range(n_genes)]
    genes[0], genes[1], genes[2] = "0042", "7", "12"
    labels = ["ctrl"] * 6 + ["KO1"] * 2 + ["KO2"] * 3 + ["42"] * 5
    order = rng.permutation(len(labels))
    labels = [labels[i] for i in order]
    if labels[0] == "ctrl":
        k = next(i for i, g in enumerate(labels) if g != "ctrl")
        labels[0], labels[k] = labels[k], labels[0]
    samples = [f"{i:03d}" for i in (7, 12, 1, 100, 33, 2, 9, 10, 11, 5, 8, 4, 3, 6, 13, 14)]
    groups = pd.Series(labels, index=samples)
    base = rng.normal(5.0, 1.5, n_genes)
    sig2 = 0.3 * 3 / rng.chisquare(3, n_genes)  # heavier-tailed variances, d0=3
    eff = {g: np.where(rng.random(n_genes) < 0.2, rng.normal(0, 2.0, n_genes), 0.0)
           for g in ["ctrl", "KO1", "KO2", "42"]}
    eff["ctrl"][:] = 0.0
    Y = np.array([base + eff[g] + rng.normal(0, np.sqrt(sig2)) for g in labels])
    limma_case(
        "unequal_reps",
        pd.DataFrame(Y, index=samples, columns=genes),
        groups,
        "Unequal replicates (ctrl 6, KO1 2, KO2 3, '42' 5) x 80 genes; numeric-looking sample "
        "ids ('007','012',...), gene ids ('0042','7','12',...) and a numeric-looking group "
        "name '42' -- all must stay strings. Heavy-tailed variances (d0=3).",
    )

    # ---- case 3: zero-variance / identical-value genes ----
    rng = np.random.default_rng(31337)
    n_genes = 60
    genes = [f"gene{i:02d}" for i in range(n_genes)]
    labels = ["T1", "ctrl", "T2", "T2", "ctrl", "T1", "ctrl", "T1", "T2"]
    samples = [f"r{i}" for i in range(1, 10)]
    groups = pd.Series(labels, index=samples)
    base = rng.normal(6.0, 1.0, n_genes)
    sig2 = 0.2 * 8 / rng.chisquare(8, n_genes)
    eff = {"ctrl": np.zeros(n_genes),
           "T1": np.where(rng.random(n_genes) < 0.2, rng.normal(0, 1.0, n_genes), 0.0),
           "T2": np.where(rng.random(n_genes) < 0.2, rng.normal(0, 1.0, n_genes), 0.0)}
    Y = np.array([base + eff[g] + rng.normal(0, np.sqrt(sig2)) for g in labels])
    Y[:, 0] = 5.0                       # identical everywhere -> sigma=0, coef=0 -> t~0
    Y[:, 1] = 0.0                       # all zero (unexpressed) -> sigma=0, coef=0
    step = {"ctrl": 4.0, "T1": 6.5, "T2": 3.25}
    Y[:, 2] = [step[g] for g in labels]  # constant within groups, differs between -> sigma=0
    step2 = {"ctrl": 1.0, "T1": 1.0, "T2": 2.0}
    Y[:, 3] = [step2[g] for g in labels]
    limma_case(
        "zero_variance_genes",
        pd.DataFrame(Y, index=samples, columns=genes),
        groups,
        "3 groups x 3 reps x 60 genes. gene00 all 5.0 and gene01 all 0.0 (sigma=0, coef=0: t is "
        "~1e-15 rounding noise -> compare with an ABSOLUTE tolerance ~1e-9); gene02 constant "
        "within groups (4, 6.5, 3.25) and gene03 (1, 1, 2): sigma=0 but nonzero coef -> large "
        "finite t via s2_post = d0*s0^2/(d+d0). fitFDist clamps the zero variances to "
        "1e-5*median (limma warns 'Zero sample variances detected').",
    )

    # ---- case 4: evar <= 0 -> df_prior = Inf, s2_prior = mean(clamped s2) ----
    rng = np.random.default_rng(4242)
    n_genes = 40
    genes = [f"p_{i}" for i in range(n_genes)]
    labels = ["A", "ctrl", "B", "A", "ctrl", "B", "B", "ctrl", "A", "ctrl", "B", "A"]
    samples = [f"x{i:02d}" for i in range(1, 13)]
    groups = pd.Series(labels, index=samples)
    lab = np.array(labels)
    d = len(labels) - 3
    Y = np.empty((len(labels), n_genes))
    base = rng.normal(8.0, 1.0, n_genes)
    effA = rng.normal(0, 0.5, n_genes)
    effB = rng.normal(0, 0.5, n_genes)
    for j in range(n_genes):
        r = rng.normal(size=len(labels))
        for g in ("ctrl", "A", "B"):  # project out the group means -> pure residual space
            r[lab == g] -= r[lab == g].mean()
        r *= math.sqrt(d * 0.25 * (1 + 1e-3 * rng.uniform(-1, 1))) / np.linalg.norm(r)
        Y[:, j] = base[j] + np.where(lab == "A", effA[j], 0) + np.where(lab == "B", effB[j], 0) + r
    limma_case(
        "infinite_df_prior",
        pd.DataFrame(Y, index=samples, columns=genes),
        groups,
        "3 groups x 4 reps x 40 genes whose residual sums of squares are constructed to be "
        "equal to within 0.1%, so evar - trigamma(d/2) < 0: df_prior = +Inf (meta df_prior is "
        "null, df_prior_infinite true), s2_prior = mean of the (clamped) s2 and s2_post = "
        "s2_prior for every gene.",
    )


# --------------------------------------------------------------------------------------
# 2. weights_myllia (metrics.md 3.3)
# --------------------------------------------------------------------------------------


def myllia_weights(t: pd.DataFrame, targets: pd.Series) -> pd.DataFrame:
    """c = min(|t|+0.1, 10); c[target] = 0 if the target is a gene column; w = n c^2/sum c^2."""
    out = pd.DataFrame(index=t.index, columns=t.columns, dtype=float)
    n = t.shape[1]
    for pid in t.index:
        c = np.minimum(np.abs(t.loc[pid].to_numpy(dtype=float)) + 0.1, 10.0)
        tgt = targets.loc[pid]
        if tgt in t.columns:
            c[t.columns.get_loc(tgt)] = 0.0
        c2 = c * c
        out.loc[pid] = n * c2 / c2.sum()
    return out


def myllia_case(name: str, t: pd.DataFrame, targets: pd.Series, note_text: str) -> None:
    w = myllia_weights(t, targets)
    assert np.allclose(w.sum(axis=1), t.shape[1], rtol=1e-13)
    d = OUT / "weights_myllia" / name
    write_wide(t, d / "t.csv")
    write_wide(pd.DataFrame({"target": targets.values}, index=targets.index), d / "targets.csv")
    write_wide(w, d / "expected.csv")
    (d / "NOTE.txt").write_text(note_text + "\n")
    note(f"weights_myllia/{name}: {t.shape[0]} perturbations x {t.shape[1]} genes")


def myllia_fixtures() -> None:
    rng = np.random.default_rng(99)
    genes = [f"G{i:02d}" for i in range(1, 26)]
    perts = ["p_A", "p_B", "007", "12", "p_C", "p_D"]
    T = rng.normal(0, 3, (len(perts), len(genes)))
    T[0, 3] = 14.25      # |t| above the cap of 10
    T[0, 7] = -23.5
    T[1, 0] = 9.95       # just below the cap: c = 10.05 -> 10
    T[1, 1] = -9.85      # c = 9.95, not capped
    T[2, 5] = 250.0      # the TARGET has the largest |t| -> it is zeroed anyway
    targets = pd.Series(["G04", "G10", "G06", "G25", "G01", "G13"], index=perts)
    myllia_case(
        "basic",
        pd.DataFrame(T, index=perts, columns=genes),
        targets,
        "6 perturbations x 25 genes; every target is a gene column (gets weight exactly 0, "
        "including p_A whose target G04 has |t| = 14.25 and 007 whose target has |t| = 250); "
        "|t| > 10 capped at c = 10 (p_A G08 = -23.5); values either side of the cap; "
        "numeric-looking ids '007', '12'.",
    )

    rng = np.random.default_rng(100)
    genes = ["TP53", "MYC", "0001", "GAPDH", "ACTB", "KRAS", "EGFR", "PTEN", "RB1", "CDK4",
             "BRCA1", "SOX2"]
    perts = ["NTC_1", "sgMYC", "sgABSENT", "allzero", "allbig", "sgTP53"]
    T = rng.normal(0, 2.5, (len(perts), len(genes)))
    T[3, :] = 0.0                                   # all |t| = 0 -> c = 0.1 everywhere
    T[4, :] = rng.choice([-1, 1], len(genes)) * rng.uniform(10.5, 40, len(genes))  # all capped
    T[5, 5] = -12.0
    targets = pd.Series(["non-targeting", "MYC", "NOT_IN_PANEL", "GAPDH", "EGFR", "TP53"],
                        index=perts)
    myllia_case(
        "absent_target",
        pd.DataFrame(T, index=perts, columns=genes),
        targets,
        "Targets absent from the gene columns ('non-targeting', 'NOT_IN_PANEL') -> no gene is "
        "zeroed and weights sum to n with all genes > 0; 'allzero' row (t = 0 -> c = 0.1 "
        "uniform except the zeroed target); 'allbig' row (every |t| > 10 -> all c = 10 -> "
        "n/(n-1) except the zeroed target); numeric-looking gene id '0001'.",
    )


# --------------------------------------------------------------------------------------
# 3. weights_vcpi -- dev-only transcription of the contest's reference functions
# --------------------------------------------------------------------------------------
# Transcribed (formulas only, vectorised the same way so floating-point results match the
# reference) from VCPI_REF: _replicate_level_log2_cpm, _t_vs_rest_matrix,
# _minmax_square_normalize. Orientation there: genes x compounds, compounds SORTED by id.


def vcpi_log2_cpm(counts_gs: pd.DataFrame, s2c: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """counts_gs: genes x samples. Drops empty-library samples. CPM = (count/lib)*1e6."""
    lib = counts_gs.sum(axis=0)
    nonempty = lib > 0
    counts_gs = counts_gs.loc[:, nonempty]
    s2c = s2c.loc[nonempty.index[nonempty]]
    cpm = counts_gs.div(lib[nonempty], axis=1) * 1e6
    return np.log2(cpm + 1.0), s2c


def vcpi_t_vs_rest(log_cpm: pd.DataFrame, s2c: pd.Series, mode: str) -> pd.DataFrame:
    mat = log_cpm.to_numpy(dtype=float)
    n_genes, n_total = mat.shape
    compounds = pd.Index(s2c.unique()).sort_values()
    idx = {c: i for i, c in enumerate(compounds)}
    memb = np.zeros((n_total, len(compounds)))
    memb[np.arange(n_total), [idx[c] for c in s2c.to_numpy()]] = 1.0
    n_p = memb.sum(axis=0)
    sum_x = mat.sum(axis=1, keepdims=True)
    sum_x2 = (mat * mat).sum(axis=1, keepdims=True)
    sum_x_p = mat @ memb
    sum_x2_p = (mat * mat) @ memb
    np_row = n_p[None, :]
    mean_p = sum_x_p / np_row
    n_rest = float(n_total) - np_row
    mean_rest = (sum_x - sum_x_p) / n_rest
    pooled = mat.var(axis=1, ddof=1) if n_total >= 2 else np.zeros(n_genes)
    pooled_col = pooled[:, None]
    has_p = n_p >= 2
    safe_np = np.where(has_p[None, :], np_row, 2.0)
    raw_var_p = np.where(
        has_p[None, :],
        np.maximum((sum_x2_p - safe_np * mean_p * mean_p) / np.maximum(safe_np - 1.0, 1.0), 0.0),
        0.0,
    )
    has_r = n_rest >= 2
    safe_r = np.where(has_r, n_rest, 2.0)
    sum_x2_r = sum_x2 - sum_x2_p
    raw_var_r = np.where(
        has_r,
        np.maximum((sum_x2_r - safe_r * mean_rest * mean_rest) / np.maximum(safe_r - 1.0, 1.0), 0.0),
        0.0,
    )
    if mode == "per_compound_floored":
        var_p = np.maximum(raw_var_p, pooled_col)
        var_r = np.maximum(raw_var_r, pooled_col)
    elif mode == "pooled":
        var_p = np.broadcast_to(pooled_col, raw_var_p.shape).copy()
        var_r = np.broadcast_to(pooled_col, raw_var_r.shape).copy()
    else:
        raise ValueError(mode)
    var_p[:, ~has_p] = pooled_col  # singleton compounds: pooled variance in both modes
    denom = np.sqrt(var_p / np_row + var_r / n_rest)
    denom = np.where(denom < 1e-12, 1e-12, denom)
    return pd.DataFrame((mean_p - mean_rest) / denom, index=log_cpm.index, columns=compounds)


def vcpi_minmax_square_normalize(abs_t: pd.DataFrame) -> pd.DataFrame:
    mat = abs_t.to_numpy(dtype=float)
    n_genes = mat.shape[0]
    lo, hi = mat.min(axis=0), mat.max(axis=0)
    span = hi - lo
    degenerate = span <= 0
    scaled = (mat - lo[None, :]) / np.where(degenerate, 1.0, span)[None, :]
    sq = scaled * scaled
    col_sum = sq.sum(axis=0)
    normed = sq / np.where(col_sum > 0, col_sum, 1.0)[None, :]
    fallback = degenerate | (col_sum <= 0)
    normed[:, fallback] = 1.0 / n_genes
    return pd.DataFrame(normed, index=abs_t.index, columns=abs_t.columns)


def vcpi_case(name: str, counts: pd.DataFrame, groups: pd.Series, note_text: str,
              expect_uniform: list[str] | None = None) -> None:
    """counts: samples x genes (our CSV orientation); groups: sample -> compound."""
    log_cpm, s2c = vcpi_log2_cpm(counts.T.astype(float), groups.astype(str))
    order = first_appearance(s2c.values)  # first appearance among NON-dropped samples
    res = {}
    for mode in ("per_compound_floored", "pooled"):
        t = vcpi_t_vs_rest(log_cpm, s2c, mode)
        w = vcpi_minmax_square_normalize(t.abs())  # genes x compounds (sorted)
        w = w.T.loc[order, counts.columns]           # -> compounds x genes, our order
        assert np.allclose(w.sum(axis=1), 1.0, rtol=0, atol=1e-12), mode
        res[mode] = w
        uni = [c for c in order if np.all(w.loc[c].to_numpy() == 1.0 / counts.shape[1])]
        note(f"weights_vcpi/{name} [{mode}]: compounds={order} uniform(degenerate)={uni}")
        if expect_uniform is not None:
            assert sorted(uni) == sorted(expect_uniform), (mode, uni)
    # How much does the reference's one-pass variance (sum_x2 - n*mean^2)/(n-1) differ from
    # a two-pass variance? (informs the Rust tolerance; the fixture is the one-pass reference)
    mat = log_cpm.to_numpy()
    lab = s2c.to_numpy().astype(str)
    pooled = mat.var(axis=1, ddof=1)
    for mode in ("per_compound_floored", "pooled"):
        tp = {}
        for c in order:
            a, b = mat[:, lab == c], mat[:, lab != c]
            na, nb = a.shape[1], b.shape[1]
            if mode == "pooled":
                va, vb = pooled, pooled
            else:
                va = np.maximum(a.var(axis=1, ddof=1), pooled) if na >= 2 else pooled
                vb = np.maximum(b.var(axis=1, ddof=1), pooled) if nb >= 2 else pooled
            den = np.maximum(np.sqrt(va / na + vb / nb), 1e-12)
            tp[c] = (a.mean(axis=1) - b.mean(axis=1)) / den
        tp = pd.DataFrame(tp, index=log_cpm.index)
        w2 = vcpi_minmax_square_normalize(tp.abs()).T.loc[order, counts.columns]
        dw = np.max(np.abs(w2.to_numpy() - res[mode].to_numpy()))
        note(f"  [{mode}] two-pass-variance re-implementation vs reference: max |dw| {dw:.3g}")

    d = OUT / "weights_vcpi" / name
    write_wide(counts, d / "counts.csv")
    write_groups(groups, d / "groups.csv")
    write_wide(res["per_compound_floored"], d / "expected_per_compound_floored.csv")
    write_wide(res["pooled"], d / "expected_pooled.csv")
    (d / "NOTE.txt").write_text(note_text + f"\nreference: numpy transcription of {VCPI_REF}\n")


def vcpi_fixtures() -> None:
    rng = np.random.default_rng(2026)
    n_genes = 30
    genes = [f"ENSG{i:05d}" for i in range(1, n_genes + 1)]
    plan = [("cmpA", 3), ("DMSO", 4), ("cmpB", 3), ("cmpC", 1), ("007", 3), ("cmpE", 1)]
    labels = [c for c, k in plan for _ in range(k)]
    perm = rng.permutation(len(labels))
    labels = [labels[i] for i in perm]
    samples = [f"SEQ{i:03d}" for i in range(1, len(labels) + 1)]
    groups = pd.Series(labels, index=samples)
    gene_mu = np.exp(rng.normal(3.5, 1.5, n_genes))
    comp_fx = {c: np.exp(np.where(rng.random(n_genes) < 0.3, rng.normal(0, 0.8, n_genes), 0.0))
               for c, _ in plan}
    lib = rng.uniform(0.5, 2.0, len(labels))
    mu = np.array([gene_mu * comp_fx[c] * s for c, s in zip(labels, lib)])
    r = 10.0  # negative binomial dispersion
    counts = rng.negative_binomial(r, r / (r + mu)).astype(np.int64)
    counts[:, 4] = 0  # all-zero gene: log2cpm 0 everywhere -> t = 0/eps = 0
    # empty libraries: one sample of cmpB (cmpB keeps 2 replicates) and cmpE's only sample
    # (cmpE disappears from the output)
    counts[labels.index("cmpB")] = 0
    counts[labels.index("cmpE")] = 0
    vcpi_case(
        "basic",
        pd.DataFrame(counts, index=samples, columns=genes),
        groups,
        "18 samples x 30 genes, negative-binomial counts, samples shuffled. Empty-library samples "
        "(all-zero rows): one of cmpB's 3 (cmpB keeps 2 replicates) and cmpE's only sample "
        "(cmpE is dropped entirely and absent from the expected files). cmpC has 1 replicate "
        "(pooled-variance fallback in both modes). ENSG00005 is all zero (t = 0 for every "
        "compound -> it is every column's minimum -> weight 0). Numeric-looking compound '007'.",
    )

    # ---- degenerate: every retained sample has the same log2(CPM+1) profile exactly ----
    # base counts c_g = 2^k_g - 1 with sum = 1e6, so CPM ~= c_g and log2(CPM+1) = k_g is an
    # exact integer (asserted below); samples are integer multiples of the base, so (m*c)/(m*1e6) rounds to the
    # same double. All sums are then exact, every t is exactly 0 and every compound's column
    # is degenerate -> uniform 1/n_genes (the Mejia code would give all-zero weights instead).
    # greedy decomposition of 1e6 into terms 2^k - 1 with k <= 17 (repeats allowed), plus two
    # genes with zero counts (k = 0)
    terms, rem = [], 1_000_000
    while rem > 0:
        k = min(17, int(math.floor(math.log2(rem + 1))))
        terms.append(2**k - 1)
        rem -= 2**k - 1
    base = np.array(terms + [0, 0], dtype=np.int64)
    assert base.sum() == 1_000_000
    cpm = (base / 1e6) * 1e6  # not always == base (1 ulp off) but cpm + 1 rounds to 2^k
    kvec = np.log2(base + 1).round()
    assert np.array_equal(np.log2(cpm + 1.0), kvec), "log2(CPM+1) not an exact integer"
    for m in (2, 3, 5):
        assert np.array_equal(((m * base) / (m * 1e6)) * 1e6, cpm)
    n_g = len(base)
    genes = [f"g{i:02d}" for i in range(n_g)]
    labels = ["c2", "c1", "c3", "c1", "c2", "c1", "c4", "c2"]
    mult = [1, 2, 3, 5, 1, 1, 2, 3]
    counts = np.array([m * base for m in mult], dtype=np.int64)
    samples = [f"s{i}" for i in range(1, len(labels) + 1)]
    labels.insert(3, "c3")          # an empty-library replicate of c3 (c3 -> singleton)
    samples.insert(3, "s_empty")
    counts = np.insert(counts, 3, 0, axis=0)
    vcpi_case(
        "degenerate_uniform",
        pd.DataFrame(counts, index=samples, columns=genes),
        pd.Series(labels, index=samples),
        f"{len(samples)} samples x {n_g} genes. Every non-empty sample is an integer multiple of "
        "one base profile whose counts are 2^k-1 summing to 1e6, so log2(CPM+1) is an exact "
        "integer and identical across samples: all sums are exact, every t is exactly 0, every "
        "compound's |t| column has max == min and falls back to uniform 1/n_genes in both "
        "modes. Also: empty-library sample s_empty (dropped; c3 becomes a singleton), c4 singleton.",
        expect_uniform=["c2", "c1", "c3", "c4"],
    )


# --------------------------------------------------------------------------------------
# 4. weights_mejia -- scanpy t-test_overestim_var + Mejia min-max/square recipe
# --------------------------------------------------------------------------------------


def scanpy_scores(adata: anndata.AnnData, genes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (float64 scores from scanpy's own _RankGenes.t_test, float32 uns scores), both as
    groups x genes in the ORIGINAL gene order (uns is sorted by score per group)."""
    ad = adata.copy()
    n = ad.n_vars
    sc.tl.rank_genes_groups(ad, "group", method="t-test_overestim_var", reference="rest",
                            n_genes=n, use_raw=False, corr_method="benjamini-hochberg")
    rgg = ad.uns["rank_genes_groups"]
    names = pd.DataFrame(rgg["names"])
    scores = pd.DataFrame(rgg["scores"])
    uns = {}
    for g in names.columns:
        s = pd.Series(scores[g].to_numpy(), index=names[g].to_numpy())
        assert s.index.is_unique and set(s.index) == set(genes)
        uns[g] = s.reindex(genes)
    uns = pd.DataFrame(uns).T
    assert uns.dtypes.eq(np.float32).all()

    # The same statistic before scanpy casts it to float32 for .uns: scanpy's own class.
    from scanpy.tools._rank_genes_groups import _RankGenes

    rg = _RankGenes(ad, "all", "group", reference="rest", use_raw=False)
    full = {}
    for gi, sco, _p in rg.t_test("t-test_overestim_var"):
        full[str(rg.groups_order[gi])] = pd.Series(np.asarray(sco, dtype=np.float64),
                                                   index=list(rg.var_names))
    full = pd.DataFrame(full).T.loc[uns.index, genes]
    assert np.array_equal(full.to_numpy().astype(np.float32), uns.to_numpy()), \
        "float64 scores do not round to scanpy's float32 uns scores"
    return full, uns


def mejia_weights(scores: pd.DataFrame) -> pd.DataFrame:
    """Mejia recipe (transcribed from MEJIA_REF), then normalised to sum 1 per group.
    |t| -> min-max (max==min: zeros if max==0 else ones) -> nan_to_num -> square -> /sum."""
    out = {}
    for g in scores.index:
        a = np.abs(scores.loc[g].to_numpy())
        lo, hi = np.min(a), np.max(a)
        if hi == lo:
            w = np.zeros_like(a) if hi == 0 else np.ones_like(a)
        else:
            w = (a - lo) / (hi - lo)
        w = np.square(np.nan_to_num(w, nan=0.0))
        out[g] = w / np.sum(w)
    return pd.DataFrame(out, index=scores.columns).T


def mejia_case(name: str, expr: pd.DataFrame, groups: pd.Series, x_dtype, note_text: str) -> None:
    genes = list(expr.columns)
    X = expr.to_numpy().astype(x_dtype)
    assert np.array_equal(X.astype(np.float64), expr.to_numpy()), "expr not exactly representable"
    order = first_appearance(groups.values)
    ad = anndata.AnnData(X=X, obs=pd.DataFrame({"group": pd.Categorical(groups.values)},
                                                index=list(expr.index)),
                         var=pd.DataFrame(index=genes))
    full, uns32 = scanpy_scores(ad, genes)
    full = full.loc[order]
    uns32 = uns32.loc[order]
    w = mejia_weights(full)
    assert np.allclose(w.sum(axis=1), 1.0, rtol=0, atol=1e-12)

    # How far is this from the literally-faithful pipeline (float32 uns scores, float32 math)?
    w32 = {}
    for g in order:
        a = np.abs(uns32.loc[g].to_numpy())
        lo, hi = np.min(a), np.max(a)
        v = np.square(np.nan_to_num((a - lo) / (hi - lo), nan=0.0))
        w32[g] = v / np.sum(v)
    w32 = pd.DataFrame(w32, index=genes).T
    dw = np.max(np.abs(w32.to_numpy(dtype=np.float64) - w.to_numpy()))
    dt = np.max(np.abs(uns32.to_numpy(dtype=np.float64) - full.to_numpy()))

    # Float64-everywhere scores (what a pure-f64 reimplementation would compute) vs scanpy's.
    if x_dtype == np.float32:
        ad64 = ad.copy()
        ad64.X = ad64.X.astype(np.float64)
        full64, _ = scanpy_scores(ad64, genes)
        d64 = np.max(np.abs(full64.loc[order].to_numpy() - full.to_numpy())
                     / np.maximum(np.abs(full.to_numpy()), 1.0))
        extra = f"; scanpy(float32 X) vs scanpy(same values as float64 X): max rel dt {d64:.3g}"
    else:
        extra = ""
    note(f"weights_mejia/{name}: X={np.dtype(x_dtype).name} groups={order} "
         f"zero-scores={int((full.to_numpy() == 0).sum())}; |uns float32 - float64 t| max {dt:.3g}; "
         f"float32-pipeline weights vs expected max abs diff {dw:.3g}{extra}")

    # A straightforward loop implementation of the scanpy formula (what the Rust side will
    # write): sequential f64 sums; x*x rounded to X's dtype first (scanpy's elem_mul keeps the
    # dtype); var = (E[x^2]-E[x]^2)*n/(n-1), NOT clipped; Welch with n_rest := n_group;
    # NaN -> 0.
    Xd = X.astype(np.float64)
    Xsq = (X * X).astype(np.float64)
    lab = groups.to_numpy().astype(str)
    loop_t = np.zeros(full.shape)
    for gi, g in enumerate(order):
        stats = []
        for mask in (lab == g, lab != g):
            n = int(mask.sum())
            s1 = 0.0
            s2 = 0.0
            for i in np.flatnonzero(mask):
                s1 += Xd[i]
                s2 += Xsq[i]
            mean = s1 / n
            var = (s2 / n - mean**2) * (n / (n - 1))
            stats.append((mean, var))
        (m1, v1), (m2, v2) = stats
        n1 = int((lab == g).sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            tt = (m1 - m2) / np.sqrt(np.sqrt(v1) ** 2 / n1 + np.sqrt(v2) ** 2 / n1)
        loop_t[gi] = np.where(np.isnan(tt), 0.0, tt)
    dloop = np.max(np.abs(loop_t - full.to_numpy()) / np.maximum(np.abs(full.to_numpy()), 1.0))
    note(f"  loop re-implementation (x*x in {np.dtype(x_dtype).name}) vs scanpy: max rel dt "
         f"{dloop:.3g}")
    assert dloop < 1e-12

    d = OUT / "weights_mejia" / name
    write_wide(expr, d / "expr.csv")
    write_groups(groups, d / "groups.csv")
    write_wide(w, d / "expected.csv")
    write_wide(full, d / "expected_t.csv")
    write_json({
        "x_dtype": np.dtype(x_dtype).name,
        "reference": (
            f"scanpy {sc.__version__} sc.tl.rank_genes_groups(adata, 'group', "
            "method='t-test_overestim_var', reference='rest', n_genes=n_vars, use_raw=False); "
            "expected_t = the float64 scores from scanpy's _RankGenes.t_test (they round exactly "
            "to the float32 .uns scores, remapped from score order to var order); expected = "
            f"Mejia recipe from {MEJIA_REF} applied to expected_t in float64, normalised to sum 1"
        ),
        "uns_float32_vs_expected_t_max_abs": dt,
        "float32_pipeline_weights_vs_expected_max_abs": dw,
        "note": note_text,
    }, d / "meta.json")


def simulate_log1p(rng, labels, n_genes, gene_names):
    n = len(labels)
    levels = sorted(set(labels))
    mu = np.exp(rng.normal(0.5, 1.2, n_genes))
    fx = {g: np.exp(np.where(rng.random(n_genes) < 0.3, rng.normal(0, 1.0, n_genes), 0.0))
          for g in levels}
    size = rng.uniform(0.6, 1.6, n)
    mu_c = np.array([mu * fx[g] * s for g, s in zip(labels, size)])
    counts = rng.poisson(mu_c).astype(float)
    counts[counts.sum(axis=1) == 0, 0] = 1.0  # no empty cells (normalize_total)
    ad = anndata.AnnData(X=counts)
    sc.pp.normalize_total(ad, target_sum=1e4)
    sc.pp.log1p(ad)
    return np.asarray(ad.X, dtype=np.float64)


def mejia_fixtures() -> None:
    rng = np.random.default_rng(1906)
    sizes = {"p_A": 20, "p_B": 18, "12": 2, "p_C": 20}
    labels = [g for g, k in sizes.items() for _ in range(k)]
    labels = [labels[i] for i in rng.permutation(len(labels))]
    if labels[0] == "12":  # keep the 2-cell group away from the first row for readability
        k = next(i for i, g in enumerate(labels) if g != "12")
        labels[0], labels[k] = labels[k], labels[0]
    n_genes = 25
    genes = [f"gene_{i:02d}" for i in range(n_genes)]
    X = simulate_log1p(rng, labels, n_genes, genes)
    X[:, 7] = 0.0  # all-zero gene: mean 0, var 0 in every comparison -> NaN score -> 0
    lab = np.array(labels)
    X[lab == "12", 11] = 0.0  # zero in the 2-cell group only (its var is exactly 0)
    cells = [f"cell{i:02d}" for i in range(len(labels))]
    mejia_case(
        "basic_f64",
        pd.DataFrame(X, index=cells, columns=genes),
        pd.Series(labels, index=cells),
        np.float64,
        "60 cells x 25 genes x 4 groups (p_A 20, p_B 18, '12' 2, p_C 20), values = scanpy "
        "normalize_total(1e4)+log1p of Poisson counts, float64 X. gene_07 all zero (0/0 -> NaN "
        "-> scanpy score 0 for every group); gene_11 zero in the 2-cell group '12'. "
        "t-test_overestim_var = Welch t with n_rest replaced by n_group; variances are "
        "E[x^2]-E[x]^2 times n/(n-1) (one pass, not clipped).",
    )

    rng = np.random.default_rng(2506)
    sizes = {"KO_x": 15, "KO_y": 2, "KO_z": 25, "007": 18}
    labels = [g for g, k in sizes.items() for _ in range(k)]
    labels = [labels[i] for i in rng.permutation(len(labels))]
    n_genes = 25
    genes = [f"G{i}" for i in range(n_genes)]
    X = simulate_log1p(rng, labels, n_genes, genes).astype(np.float32).astype(np.float64)
    X[:, 0] = 0.0
    cells = [f"{i:03d}" for i in range(len(labels))]
    mejia_case(
        "float32_input",
        pd.DataFrame(X, index=cells, columns=genes),
        pd.Series(labels, index=cells),
        np.float32,
        "Same recipe with a float32 AnnData.X (what normalize_total/log1p produce on real "
        "data); expr.csv holds the float32 values exactly. scanpy squares x in float32 "
        "(elem_mul(x, x)) before the float64 mean, so E[x^2] carries float32 rounding: a pure "
        "float64 reimplementation differs (see meta.json / README). Group sizes 15, 2, 25, 18; "
        "G0 all zero; numeric-looking cell ids and group '007'.",
    )


# --------------------------------------------------------------------------------------
# 5. special functions
# --------------------------------------------------------------------------------------


def special_fixtures() -> None:
    mpmath.mp.dps = 30
    xs = set(np.logspace(-3, 6, 37).tolist())
    xs |= {0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 4.999999, 5.0, 5.000001, 5.5, 6.0,
           7.5, 9.99, 10.0, 12.5, 50.0, 0.01, 0.25, 0.75, 1e-3 * 1.5, 123.456}
    xs = sorted(xs)
    rows = []
    worst = {"trigamma": 0.0, "psi2": 0.0, "digamma": 0.0}
    for x in xs:
        mx = mpmath.mpf(x)
        tri = float(polygamma(1, x))
        psi2 = float(polygamma(2, x))
        dig = float(digamma(x))
        lmd = float(mpmath.log(mx) - mpmath.digamma(mx))
        for k, v, ref in (("trigamma", tri, mpmath.polygamma(1, mx)),
                          ("psi2", psi2, mpmath.polygamma(2, mx)),
                          ("digamma", dig, mpmath.digamma(mx))):
            if ref != 0:
                worst[k] = max(worst[k], float(abs((v - ref) / ref)))
        rows.append((x, tri, psi2, dig, lmd))
    df = pd.DataFrame(rows, columns=["x", "trigamma", "psi2", "digamma", "logmdigamma"])
    # contract section 2 fixes these columns exactly (x first, no `id` column)
    path = OUT / "special" / "polygamma.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, float_format=FLOAT_FMT, lineterminator="\n")
    note(f"special/polygamma.csv: {len(df)} x values; scipy vs mpmath max rel err "
         + ", ".join(f"{k} {v:.2g}" for k, v in worst.items()))

    # trigamma inverse over 1e-8..1e8, including the two closed-form branches (>1e7, <1e-6)
    txs = sorted(set(np.logspace(-8, 8, 49).tolist())
                 | {1e-6 * 0.999, 1e-6, 1e-6 * 1.001, 1e7 * 0.999, 1e7, 1e7 * 1.001,
                    0.1, 0.5, 1.0, 1.6449340668482264, 2.0, 10.0, 100.0})
    trows = []
    worst_newton = 0.0
    worst_branch = 0.0
    for x in txs:
        y = float(inmoose_trigamma_inverse(np.array([x], dtype=float))[0])
        ys = spec_trigamma_inverse(x)
        assert y == ys or abs(y / ys - 1) < 1e-15, (x, y, ys)
        # verify: trigamma(y) == x ?
        back = mpmath.polygamma(1, mpmath.mpf(y))
        relx = float(abs(back / x - 1))
        if 1e-6 <= x <= 1e7:
            worst_newton = max(worst_newton, relx)
        else:
            worst_branch = max(worst_branch, relx)
        trows.append((x, y))
    tdf = pd.DataFrame(trows, columns=["x", "y"])
    tdf.to_csv(OUT / "special" / "trigamma_inverse.csv", index=False, float_format=FLOAT_FMT,
               lineterminator="\n")
    note(f"special/trigamma_inverse.csv: {len(tdf)} x values; |trigamma(y)/x - 1| max "
         f"{worst_newton:.2g} on the Newton range [1e-6, 1e7], {worst_branch:.2g} on the "
         "closed-form branches (y=1/sqrt(x) for x>1e7, y=1/x for x<1e-6: limma's approximations)")


# --------------------------------------------------------------------------------------


def main() -> None:
    logging.getLogger("inmoose").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    sc.settings.verbosity = 0
    print("versions:", json.dumps(VERSIONS))
    limma_fixtures()
    myllia_fixtures()
    vcpi_fixtures()
    mejia_fixtures()
    special_fixtures()
    print("\n".join(["", "summary:"] + REPORT))


if __name__ == "__main__":
    main()
