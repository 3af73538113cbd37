"""Side-by-side timing: `cellcast score` against the incumbent Python workflows.

Dev-only (needs the venv of scripts/golden/requirements-score.txt: polaris-lib, scikit-learn,
pandas). Writes a seeded 10,000 x 1,000 truth/prediction pair (CSV and Parquet, ~5% missing
truth cells), then times, end to end from files on disk to the per-target table:

  cellcast      target/release/cellcast score --metric polaris/mean_squared_error ... --json
  polaris-lib   pandas.read_csv/read_parquet + align by id + polaris evaluate_benchmark
  sklearn       pandas.read_csv/read_parquet + align + per-target masked sklearn MSE

Each is run --repeats times (polaris-lib --polaris-repeats times: it takes minutes per run at
full size); the median wall time is reported with the ratio to cellcast.
Usage: python scripts/bench/score_vs_polaris.py [--rows 10000] [--cols 1000] [--repeats 3] [--no-polaris]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")

# Imported up front so that library import time is not charged to any timed run.
from polaris.dataset import DatasetV1  # noqa: E402
from polaris.dataset._subset import Subset  # noqa: E402
from polaris.evaluate import Metric  # noqa: E402
from polaris.evaluate.utils import evaluate_benchmark  # noqa: E402
from sklearn.metrics import mean_squared_error  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def make_data(out: Path, rows: int, cols: int) -> None:
    rng = np.random.default_rng(20261121)
    genes = [f"gene_{j:04d}" for j in range(cols)]
    ids = [f"cmpd_{i:05d}" for i in range(rows)]
    truth = rng.normal(size=(rows, cols))
    pred = truth + rng.normal(scale=0.5, size=(rows, cols))
    truth[rng.random(size=(rows, cols)) < 0.05] = np.nan
    t = pd.DataFrame(truth, columns=genes)
    t.insert(0, "id", ids)
    p = pd.DataFrame(pred, columns=genes)
    p.insert(0, "id", ids)
    p = p.sample(frac=1.0, random_state=1)  # predictions in another order than the truth
    out.mkdir(parents=True, exist_ok=True)
    t.to_csv(out / "truth.csv", index=False)
    p.to_csv(out / "pred.csv", index=False)
    t.to_parquet(out / "truth.parquet", index=False)
    p.to_parquet(out / "pred.parquet", index=False)


def read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path).set_index("id")
    return pd.read_csv(path, dtype={"id": str}).set_index("id")


def run_cellcast(truth: Path, pred: Path) -> float:
    out = subprocess.run(
        [str(ROOT / "target/release/cellcast"), "score", "--metric", "polaris/mean_squared_error",
         "--truth", str(truth), "--pred", str(pred), "--json"],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)["value"]


def run_polaris(truth_path: Path, pred_path: Path) -> float:
    truth = read(truth_path)
    pred = read(pred_path).loc[truth.index, truth.columns]
    targets = list(truth.columns)
    sub = Subset(DatasetV1(table=truth.reset_index()), list(range(len(truth))), "id", targets)
    y_pred = {t: pred[t].to_numpy() for t in targets}
    res = evaluate_benchmark(targets, ["test"], {"test": len(truth)}, {Metric(label="mean_squared_error")},
                             {"test": sub}, y_pred=y_pred)
    return float(res["Score"].mean())


def run_sklearn(truth_path: Path, pred_path: Path) -> float:
    truth = read(truth_path)
    pred = read(pred_path).loc[truth.index, truth.columns]
    scores = []
    for t in truth.columns:
        y = truth[t].to_numpy()
        mask = ~np.isnan(y)
        scores.append(mean_squared_error(y[mask], pred[t].to_numpy()[mask]))
    return float(np.mean(scores))


def timed(fn, *args, repeats: int) -> tuple[float, float]:
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--cols", type=int, default=1_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--polaris-repeats", type=int, default=1, help="polaris-lib takes minutes per run at full size")
    ap.add_argument("--no-polaris", action="store_true", help="skip polaris-lib (over 25 minutes at 10,000 x 1,000)")
    ap.add_argument("--data", type=Path, default=Path("/tmp/cellcast-bench"))
    args = ap.parse_args()
    data = args.data / f"{args.rows}x{args.cols}"
    if not (data / "pred.parquet").exists():
        make_data(data, args.rows, args.cols)
    print(f"{args.rows} x {args.cols}\n")
    print(f"| input | tool | median wall time (s) | × cellcast | MSE |")
    print(f"|---|---|---|---|---|")
    for ext in ["csv", "parquet"]:
        truth, pred = data / f"truth.{ext}", data / f"pred.{ext}"
        base, v0 = timed(run_cellcast, truth, pred, repeats=args.repeats)
        print(f"| {ext} | cellcast | {base:.2f} | 1.0 | {v0:.12f} |", flush=True)
        tools = [("pandas + scikit-learn", run_sklearn, args.repeats)]
        if not args.no_polaris:
            tools.append(("polaris-lib 0.13", run_polaris, args.polaris_repeats))
        for name, fn, repeats in tools:
            t, v = timed(fn, truth, pred, repeats=repeats)
            print(f"| {ext} | {name} | {t:.2f} | {t / base:.1f} | {v:.12f} |", flush=True)


if __name__ == "__main__":
    main()
