"""Every statistic of `cellcast targets rank` on every screen, held out: the README's table.

Dev-only; needs a release build of cellcast (target/release/cellcast) and, for the real screens,
../shared. For each screen, `cellcast targets evaluate` runs twice: whole held-out groups with 2
folds (half of each perturbation against the other half's controls) and groups of 1, 10 and 30
cells with 5 folds (Norman: 1 and 10; 30 cells do not fit in its folds), seed 0. Screens:

  papalexi   Papalexi 2021 THP-1 ECCITE-seq CRISPR knockout, replicate 1 (raw counts), down
  norman     Norman 2019 K562 CRISPRa subset (`--where dataset=norman19`), up
  ko0..2     `cellcast synth --kind screen --knockout --cells 150 --seed S`, down
  down0..1   `cellcast synth --kind screen --cells 150 --seed S` (CRISPRi), down
  up0..1     `cellcast synth --kind screen --direction up --cells 150 --seed S` (CRISPRa), up

Evaluations already in --out are reused. Prints markdown: per screen, each DE ranker's MRR and
its difference from the default (de_auto) with the 95 % paired bootstrap interval; ▲ / ▼ mark an
interval wholly above / below 0.

Usage: python scripts/bench/target_statistics.py --out /tmp/target_statistics (~15 min, 2 cores)
"""

from __future__ import annotations

import argparse
import csv
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "target/release/cellcast"
SHARED = ROOT.parent / "shared/data/genetic_perturbation"
STATISTICS = ["wilcoxon", "welch", "mean_z", "detection", "combined"]
ORDER = ["papalexi", "norman", "ko0", "ko1", "ko2", "down0", "down1", "up0", "up1"]


def screens(out: Path):
    real = [
        ("papalexi", SHARED / "papalexi2021_thp1_eccite_rep1_n9428x299.h5ad", "target_top", "non-targeting", [],
         "down", "1,10,30"),
        ("norman", SHARED / "perturbench_devel_norman19_mcfaline23_n5961x500.h5ad", "condition", "control",
         ["--where", "dataset=norman19"], "up", "1,10"),
    ]
    synthetic = [(f"ko{s}", ["--knockout"], s, "down") for s in range(3)]
    synthetic += [(f"down{s}", [], s, "down") for s in range(2)]
    synthetic += [(f"up{s}", ["--direction", "up"], s, "up") for s in range(2)]
    for name, flags, seed, direction in synthetic:
        folder = out / f"screen_{name}"
        if not folder.exists():
            subprocess.run([BIN, "synth", "--kind", "screen", *flags, "--cells", "150", "--seed", str(seed), "--out",
                            folder], check=True, capture_output=True)
        real.append((name, folder / "screen.h5ad", "perturbation", "control", [], direction, "1,10,30"))
    return real


def evaluate(out: Path):
    for name, h5ad, column, control, extra, direction, sizes in screens(out):
        if not Path(h5ad).exists():
            print(f"<!-- {name}: {h5ad} absent, skipped -->")
            continue
        for suffix, folds, size in [("all", "2", "all"), ("q", "5", sizes)]:
            path = out / f"{name}_{suffix}.csv"
            if path.exists():
                continue
            args = [BIN, "targets", "evaluate", "--h5ad", h5ad, "--group-column", column, "--control", control,
                    *extra, "--direction", direction, "--group-size", size, "--folds", folds, "--out", path]
            subprocess.run(args, check=True, capture_output=True)


def table(out: Path):
    rows = {}
    for path in sorted(out.glob("*_*.csv")):
        screen = path.stem.rsplit("_", 1)[0]
        for r in csv.DictReader(open(path)):
            rows.setdefault(screen, {})[(r["group_size"], r["ranker"])] = r
    for screen in sorted(rows, key=lambda s: ORDER.index(s) if s in ORDER else len(ORDER)):
        cells = rows[screen]
        sizes = [s for s in ["all", "30", "10", "1"] if any(k[0] == s for k in cells)]
        direction = "up" if any(k[1].endswith("_up") for k in cells) else "down"
        names = [f"de_{s}_{direction}{sp}" for s in STATISTICS for sp in ["", "_specific"]]
        print(f"\n**{screen}**\n")
        print("| ranker | " + " | ".join("whole" if s == "all" else f"{s} cell{'s' * (s != '1')}" for s in sizes)
              + " |")
        print("|---|" + "---|" * len(sizes))
        for name in [f"de_auto_{direction}", *names, "pca50_knn15"]:
            line = []
            for s in sizes:
                r = cells.get((s, name))
                if r is None:
                    line.append("")
                    continue
                text = f"{float(r['mrr']):.3f}"
                if name.startswith("de_auto"):
                    text = f"**{text}** (hit@1 {float(r['hit@1']):.2f})"
                elif r["mrr_vs_default"]:
                    d, lo, hi = (float(r[k]) for k in ["mrr_vs_default", "default_ci_low", "default_ci_high"])
                    mark = " ▲" if lo > 0 else " ▼" if hi < 0 else ""
                    text += f" ({d:+.3f} [{lo:+.3f}, {hi:+.3f}]){mark}"
                line.append(text)
            label = "default (auto)" if name.startswith("de_auto") else name
            print(f"| {label} | " + " | ".join(line) + " |")
        vs = [cells.get((s, f"de_auto_{direction}")) for s in sizes]
        print("| default − pca_knn | " + " | ".join(
            f"{float(r['mrr_vs_pca_knn']):+.3f} [{float(r['ci_low']):+.3f}, {float(r['ci_high']):+.3f}]" if r else ""
            for r in vs) + " |")
        chosen = {s: r["chosen"] for s in sizes if (r := cells.get((s, f"de_auto_{direction}")))}
        print("\nauto chose: " + "; ".join(f"{s}: {c.replace(';', ', ')}" for s, c in chosen.items()))


def compact(out: Path):
    """One table: each ranker's MRR on every screen, whole groups / 30 cells (Norman: 10)."""
    rows = {}
    for path in sorted(out.glob("*_*.csv")):
        screen = path.stem.rsplit("_", 1)[0]
        for r in csv.DictReader(open(path)):
            rows.setdefault(screen, {})[(r["group_size"], r["ranker"])] = r
    order = [s for s in ORDER if s in rows]
    print("| ranker | " + " | ".join(order) + " |")
    print("|---|" + "---|" * len(order))
    names = ["de_auto_{d}"] + [f"de_{s}_{{d}}{sp}" for s in STATISTICS for sp in ["", "_specific"]] + ["pca50_knn15"]
    for name in names:
        line = []
        for screen in order:
            cells = rows[screen]
            d = "up" if any(k[1].endswith("_up") for k in cells) else "down"
            parts = []
            for size in ["all", "10" if screen == "norman" else "30"]:
                r = cells.get((size, name.format(d=d)))
                text = f"{float(r['mrr']):.3f}"
                if r["mrr_vs_default"] and not name.startswith("de_auto"):
                    lo, hi = float(r["default_ci_low"]), float(r["default_ci_high"])
                    text += "▲" if lo > 0 else "▼" if hi < 0 else ""
                parts.append(f"**{text}**" if name.startswith("de_auto") else text)
            line.append(" / ".join(parts))
        label = "default (auto)" if name.startswith("de_auto") else name.replace("_{d}", "")
        print(f"| {label} | " + " | ".join(line) + " |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--compact", action="store_true", help="the README's one table (MRR only)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    evaluate(args.out)
    compact(args.out) if args.compact else table(args.out)


if __name__ == "__main__":
    main()
