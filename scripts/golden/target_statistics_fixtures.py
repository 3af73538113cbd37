"""Golden values for the statistics `cellcast targets rank --statistic` ranks genes by
(crates/cellcast-models/src/target_statistics.rs), from scipy and statsmodels themselves (dev-only).

A small screen of log-normalised values (cells × genes) with a control group and three groups (12
cells, 5 cells, a single cell) holds the awkward genes: zero-inflated counts, controls that are all
zero, a gene that is zero everywhere, a group that is all zero, a knockout-like drop. For every
group and gene it writes
  - welch:     scipy.stats.ttest_ind(group, control, equal_var=False).statistic
  - mean_z:    (mean(group) - mean(control)) / std(control, ddof=1)   (numpy)
  - detection: statsmodels proportions_ztest([k_group, k_control], [n, m]).statistic (the pooled
               two-proportion z); statsmodels gives NaN when every value or none is non-zero,
               which cellcast defines as 0 (no change in detection), so 0 is written there
  - wilcoxon:  (U - n·m/2) / sqrt(tiecorrect · n·m·(n+m+1)/12), U from scipy.stats.mannwhitneyu and
               tiecorrect from scipy.stats.tiecorrect (scanpy's score; 0 where every value ties)
  - combined:  (wilcoxon + z_mean + detection) / sqrt(3), z_mean = (mean(group) - mean(control)) /
               (std(control, ddof=1) · sqrt(1/n + 1/m)), a non-finite part counted as 0
Writes fixtures/golden/target_statistics/screen.json (non-finite values as the strings "nan", "inf",
"-inf"). Deterministic: two runs give identical bytes.

Run with the venv of requirements-stats.txt (scipy 1.17.1, statsmodels 0.15.0, numpy 2.4.6).
"""

import json
import math
import warnings
from pathlib import Path

import numpy as np
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest

OUT = Path(__file__).resolve().parents[2] / "fixtures/golden/target_statistics"


def screen():
    rng = np.random.default_rng(18)
    sizes = {"control": 40, "A": 12, "B": 5, "C": 1}
    cells, groups = [], []
    for g, (label, n) in enumerate(sizes.items()):
        for _ in range(n):
            drop = label == "A"
            row = [
                rng.normal(2.0 - (0.8 if label == "B" else 0.0), 1.0),  # continuous
                math.log1p(rng.poisson(0.8)),  # zero-inflated counts
                0.0 if label == "control" else math.log1p(rng.poisson(1.5)),  # controls all zero
                0.0,  # zero everywhere
                0.0 if label == "B" else math.log1p(rng.poisson(2.0)),  # a group all zero
                math.log1p(rng.poisson(0.4 if drop else 4.0)),  # a knockout-like drop in A
            ]
            cells.append([round(v, 12) for v in row])
            groups.append(g)
    return list(sizes), np.array(cells), np.array(groups)


def detection(g, c):
    kg, kc = int((g != 0).sum()), int((c != 0).sum())
    pooled = (kg + kc) / (len(g) + len(c))
    if pooled in (0.0, 1.0):
        return 0.0
    return float(proportions_ztest([kg, kc], [len(g), len(c)])[0])


def wilcoxon(g, c):
    n, m = len(g), len(c)
    u = stats.mannwhitneyu(g, c, alternative="two-sided", use_continuity=False, method="asymptotic").statistic
    tc = stats.tiecorrect(stats.rankdata(np.concatenate([g, c])))
    if tc == 0:
        return 0.0
    return float((u - n * m / 2) / math.sqrt(tc * n * m * (n + m + 1) / 12))


def enc(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def main():
    labels, x, groups = screen()
    control = x[groups == 0]
    expected = {s: [] for s in ["wilcoxon", "welch", "mean_z", "detection", "combined"]}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for k in range(1, len(labels)):
            grp = x[groups == k]
            rows = {s: [] for s in expected}
            for j in range(x.shape[1]):
                g, c = grp[:, j], control[:, j]
                welch = stats.ttest_ind(g, c, equal_var=False).statistic
                sd = np.std(c, ddof=1)
                mean_z = (np.mean(g) - np.mean(c)) / sd
                det = detection(g, c)
                w = wilcoxon(g, c)
                z_mean = (np.mean(g) - np.mean(c)) / (sd * math.sqrt(1 / len(g) + 1 / len(c)))
                fin = lambda v: float(v) if np.isfinite(v) else 0.0  # noqa: E731
                rows["welch"].append(enc(welch))
                rows["mean_z"].append(enc(mean_z))
                rows["detection"].append(enc(det))
                rows["wilcoxon"].append(enc(w))
                rows["combined"].append(enc((fin(w) + fin(z_mean) + fin(det)) / math.sqrt(3)))
            for s in expected:
                expected[s].append(rows[s])
    OUT.mkdir(parents=True, exist_ok=True)
    doc = {
        "made_by": "scripts/golden/target_statistics_fixtures.py",
        "versions": {"scipy": scipy.__version__, "statsmodels": statsmodels.__version__, "numpy": np.__version__},
        "groups": labels,
        "control": 0,
        "cell_groups": groups.tolist(),
        "x": x.tolist(),
        "expected": expected,
    }
    text = json.dumps(doc, indent=1) + "\n"
    (OUT / "screen.json").write_text(text)
    assert len(text) < 100_000
    print(f"wrote {OUT / 'screen.json'}: {x.shape[0]} cells x {x.shape[1]} genes, {len(labels) - 1} groups")
    for s, v in expected.items():
        print(s, v[0])


if __name__ == "__main__":
    main()
