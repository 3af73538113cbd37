#!/usr/bin/env python3
"""Generate Parquet twins of scoring fixtures and real-data scoring fixtures for cellcast.

Dev-only script, same venv as score_fixtures.py (requirements-score.txt). It reuses the polaris /
vcpi reference functions of score_fixtures.py (imported, not copied), so the references are the
same ones as for fixtures/golden/score/.

A. fixtures/golden/parquet/<case>/  -- Parquet twins of three score cases:
   truth.parquet, pred.parquet (+ weights.parquet) and an unchanged copy of expected.json.
   The CSVs are parsed with a correctly rounded float parser (pandas float_precision="round_trip",
   the same values Rust's f64::from_str gives), written with
   pandas.to_parquet(engine="pyarrow", index=False), read back and checked cell by cell against
   the CSV, the Parquet schema / codec is asserted, and the case is re-scored from the Parquet
   files with the reference functions.

B. fixtures/golden/real/<case>/  -- expectations derived from the shared task data in
   /work/shared/tasks (read only; NOT copied: only small derived vectors and expected JSONs are
   written). The Rust test rebuilds truth/pred from the shared file (recipe in README-score.md and
   in each expected*.json "source" field) and skips when the data is absent.

Run:  python scripts/golden/real_fixtures.py [--shared /work/shared]
Deletes and regenerates fixtures/golden/parquet/ and (if the shared data is present)
fixtures/golden/real/ only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import score_fixtures as sf  # noqa: E402  (reference functions + version string)

ROOT = Path(__file__).resolve().parents[2]
SCORE = ROOT / "fixtures" / "golden" / "score"
OUT_PQ = ROOT / "fixtures" / "golden" / "parquet"
OUT_REAL = ROOT / "fixtures" / "golden" / "real"
VSTR = sf.VSTR + f", pyarrow {sf.version('pyarrow')}"
MAX_FILE = 100 * 1024

SUMMARY: list[str] = []


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def read_csv_exact(path: Path, str_cols=()) -> pd.DataFrame:
    """Read an id-first CSV with a correctly rounded float parser (NOT pandas' default xstrtod,
    which is off by one ulp on many 17-digit values). Returns the frame with `id` as a column."""
    dtype = {"id": str}
    dtype.update({c: str for c in str_cols})
    df = pd.read_csv(path, dtype=dtype, float_precision="round_trip")
    assert df["id"].is_unique
    return df


def same_float(a: np.ndarray, b: np.ndarray) -> bool:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def max_diff(exp: dict, got_value, got_scores: dict) -> float:
    """Largest |expected - recomputed| over value and breakdown (null == NaN)."""
    def d(e, g):
        g = sf.num(g)
        if e is None or g is None:
            assert e is None and g is None, (e, g)
            return 0.0
        return abs(e - g)

    assert set(exp["scores"]) == {str(k) for k in got_scores}, "breakdown keys differ"
    m = d(exp["value"], got_value)
    for k, v in got_scores.items():
        m = max(m, d(exp["scores"][str(k)], v))
    return m


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json(path: Path, doc: dict) -> None:
    path.write_text(json.dumps(doc, indent=2) + "\n")


def check_sizes(d: Path) -> None:
    for f in d.iterdir():
        assert f.stat().st_size < MAX_FILE, f"{f} is {f.stat().st_size} bytes (> 100 KB)"


# --------------------------------------------------------------------------------------------
# A. Parquet twins
# --------------------------------------------------------------------------------------------


def write_parquet(df: pd.DataFrame, path: Path, compression: str) -> None:
    kw = {} if compression == "snappy" else {"compression": compression}  # snappy = pandas default
    df.to_parquet(path, engine="pyarrow", index=False, **kw)
    meta = pq.ParquetFile(path).metadata
    for rg in range(meta.num_row_groups):
        for c in range(meta.num_columns):
            codec = meta.row_group(rg).column(c).compression
            assert codec == compression.upper(), (path, codec)


def check_roundtrip(path: Path, csv_df: pd.DataFrame) -> pd.DataFrame:
    """Read the Parquet back with pandas and compare to the CSV (ids as strings)."""
    back = pd.read_parquet(path, engine="pyarrow")
    assert list(back.columns) == list(csv_df.columns), path
    assert list(back["id"].astype(str)) == list(csv_df["id"]), path
    for c in csv_df.columns[1:]:
        if csv_df[c].dtype == object:
            assert list(back[c].astype(str)) == list(csv_df[c]), (path, c)
        else:
            vals = back[c].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            assert same_float(vals, csv_df[c].to_numpy(dtype=float)), (path, c)
    return back


def arrow_types(path: Path) -> dict:
    schema = pq.read_schema(path)
    return {f.name: str(f.type) for f in schema}


def parquet_twin(case: str, compression: str = "snappy") -> None:
    src = SCORE / case
    name = case if compression == "snappy" else f"{case}_{compression}"
    d = OUT_PQ / name
    d.mkdir(parents=True)
    exp = json.loads((src / "expected.json").read_text())
    shutil.copyfile(src / "expected.json", d / "expected.json")

    files = {}
    for stem in ("truth", "pred", "weights"):
        if not (src / f"{stem}.csv").exists():
            continue
        csv_df = read_csv_exact(src / f"{stem}.csv", str_cols=("treatment",) if stem == "truth" else ())
        pdf = csv_df.copy()
        if case == "polaris_mean_squared_error_nan_shuffled":
            pdf["id"] = pdf["id"].astype(pd.StringDtype())  # pandas string column -> arrow string
        if case == "polaris_pr_auc_grouped_mean" and stem == "truth":
            pdf["treatment"] = pd.Categorical(pdf["treatment"])  # -> arrow dictionary<int8, string>
            lab = pdf["active"]
            assert set(lab.dropna().unique()) <= {0.0, 1.0}
            pdf["active"] = lab.astype("Int8")  # nullable int8: the one empty label becomes a null
        path = d / f"{stem}.parquet"
        write_parquet(pdf, path, compression)
        files[stem] = check_roundtrip(path, csv_df)
        types = arrow_types(path)
        if case == "polaris_mean_squared_error_nan_shuffled":
            assert types["id"] == "string", types
        if case == "polaris_pr_auc_grouped_mean" and stem == "truth":
            assert types["treatment"].startswith("dictionary<values=string"), types
            assert types["active"] == "int8", types
        for c, t in types.items():
            if c not in ("id", "treatment", "active") or (stem == "pred" and c == "active"):
                assert t == "double", (path, c, t)
        # NaN in a float column must be stored as a Parquet null (pyarrow from_pandas semantics)
        nulls = sum(
            pq.ParquetFile(path).metadata.row_group(rg).column(c).statistics.null_count
            for rg in range(pq.ParquetFile(path).metadata.num_row_groups)
            for c in range(pq.ParquetFile(path).metadata.num_columns)
        )
        n_nan = int(csv_df.iloc[:, 1:].select_dtypes("number").isna().sum().sum())
        assert nulls == n_nan, (path, nulls, n_nan)

    # re-score from the Parquet contents with the same reference functions
    t = files["truth"].copy()
    p = files["pred"].copy()
    t["id"] = t["id"].astype(str)
    p["id"] = p["id"].astype(str)
    t, p = t.set_index("id"), p.set_index("id")
    if exp["metric"].startswith("polaris/") and exp["group_by"] is None:
        t = t.astype(float)
        value, scores = sf.polaris_regression(t, p.astype(float), exp["metric"].split("/")[1])
    elif exp["metric"].startswith("polaris/"):
        t["treatment"] = t["treatment"].astype(str)
        t["active"] = t["active"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        value, scores = sf.polaris_classification(
            t, p, exp["metric"].split("/")[1], "active",
            group_by=exp["group_by"], aggregation=exp["params"].get("aggregation", "mean"),
        )
    elif exp["metric"] == "vcpi/wmse":
        w = files["weights"].copy()
        w["id"] = w["id"].astype(str)
        w = w.set_index("id").loc[t.index, list(t.columns)].to_numpy(dtype=float)
        per = sf.vcpi_wmse(t.to_numpy(dtype=float), p.loc[t.index, list(t.columns)].to_numpy(dtype=float), w)
        value, scores = float(np.mean(per)), dict(zip(t.index, per.tolist()))
    else:
        raise ValueError(exp["metric"])
    diff = max_diff(exp, value, scores)
    assert diff <= 1e-12, (name, diff)
    check_sizes(d)
    SUMMARY.append(
        f"{name:52s} {exp['metric']:28s} value={exp['value']!r}  "
        f"(re-scored from parquet, max |diff| vs expected.json = {diff:.3g})"
    )


def parquet_cases() -> None:
    if OUT_PQ.exists():
        shutil.rmtree(OUT_PQ)
    OUT_PQ.mkdir(parents=True)
    for case in ("polaris_mean_squared_error_nan_shuffled", "polaris_pr_auc_grouped_mean", "vcpi_wmse_weights"):
        parquet_twin(case)
    parquet_twin("vcpi_wmse_weights", compression="zstd")


# --------------------------------------------------------------------------------------------
# B. real-data fixtures
# --------------------------------------------------------------------------------------------

L1000_FILE = "tasks/l1000-drugbank/train.csv"
L1000_N_TRAIN = 700
RXRX3_FILE = "tasks/rxrx3-compound-gene/train.csv"


def roundtrip_csv(df: pd.DataFrame, tmp: Path, name: str, str_cols=()) -> pd.DataFrame:
    """Write as the fixtures would be written (%.17g), read back exactly, return id-indexed."""
    path = tmp / name
    sf.write_csv(df, path)
    return read_csv_exact(path, str_cols=str_cols).set_index("id")


def l1000_case(shared: Path, tmp: Path) -> None:
    src = shared / L1000_FILE
    raw = pd.read_csv(src, dtype=str, keep_default_na=False)
    genes = [c for c in raw.columns if c.startswith("geneID-")]
    assert list(raw.columns[:3]) == ["drugbank_id", "name", "SMILES"] and len(genes) == 978
    assert list(raw.columns[3:]) == genes and raw["drugbank_id"].is_unique
    # correctly rounded parse of every cell (no empty cells in this file)
    X = np.array([[float(v) for v in row] for row in raw[genes].itertuples(index=False)], dtype=np.float64)
    assert not np.isnan(X).any()
    n_train = L1000_N_TRAIN
    train, test = X[:n_train], X[n_train:]
    test_ids = raw["drugbank_id"].iloc[n_train:].tolist()

    # baseline: sequential float64 sum over the 700 train rows in file order, then / 700
    s = np.zeros(len(genes), dtype=np.float64)
    for row in train:
        s = s + row
    baseline = s / float(n_train)
    pandas_mean = pd.DataFrame(train, columns=genes).mean().to_numpy()
    ulp_dev = float(np.max(np.abs(baseline - pandas_mean) / np.spacing(np.abs(pandas_mean))))

    d = OUT_REAL / "l1000_mean_baseline"
    d.mkdir(parents=True)
    pd.DataFrame({"gene": genes, "value": baseline}).to_csv(
        d / "baseline_vector.csv", index=False, float_format="%.17g", lineterminator="\n"
    )
    bv = pd.read_csv(d / "baseline_vector.csv", float_precision="round_trip")
    assert list(bv["gene"]) == genes and np.array_equal(bv["value"].to_numpy(), baseline)

    truth_df = sf.frame(test_ids, genes, test)
    pred_df = sf.frame(test_ids, genes, np.tile(baseline, (len(test_ids), 1)))
    truth = roundtrip_csv(truth_df, tmp, "l1000_truth.csv")
    pred = roundtrip_csv(pred_df, tmp, "l1000_pred.csv")
    assert np.array_equal(truth.to_numpy(), test) and np.array_equal(pred.to_numpy()[0], baseline)

    source = {
        "file": L1000_FILE,
        "sha256": sha256(src),
        "id_column": "drugbank_id",
        "gene_columns": "every column whose name starts with 'geneID-' (978, file order; columns 4..981)",
        "n_rows": int(len(raw)),
        "n_train": n_train,
        "n_test": int(len(test_ids)),
        "split": "data rows in file order: rows [0, 700) = train, rows [700, 936) = test",
        "prediction": (
            "baseline_vector.csv: per gene, value = (sequential float64 sum of the 700 train values in "
            "file order, starting at 0.0) / 700.0; the same vector for every test row"
        ),
        "truth": "id = drugbank_id of each test row (file order), the 978 gene columns as parsed",
    }
    outs = [
        ("expected.json", "mean_squared_error"),
        ("expected_r2.json", "r2"),
        ("expected_mae.json", "mean_absolute_error"),
    ]
    for fname, label in outs:
        value, scores = sf.polaris_regression(truth, pred, label)
        # same value from the in-memory frames (no CSV round trip)
        v2, _ = sf.polaris_regression(truth_df.set_index("id"), pred_df.set_index("id"), label)
        assert v2 == value
        doc = {
            "metric": f"polaris/{label}",
            "group_by": None,
            "params": {},
            "value": sf.num(value),
            "breakdown": "per_target",
            "scores": {k: sf.num(v) for k, v in scores.items()},
            "reference": (
                f"polaris-lib Metric(label='{label}') scored via polaris.evaluate.utils.evaluate_benchmark "
                f"(DatasetV1/Subset), as score_fixtures.polaris_regression; {VSTR}"
            ),
            "note": (
                "real data: LINCS L1000 DrugBank consensus signatures (values have 3 decimals, clipped to "
                f"[-10, 10]); 236 test compounds x 978 genes, no missing cells. Prediction = per-gene mean of "
                f"the first 700 rows (constant per gene). value = mean over the 978 genes. baseline_vector.csv holds "
                f"the sequential-sum means (max deviation from pandas .mean(), pairwise summation: "
                f"{ulp_dev:.0f} ulp)."
            ),
            "source": source,
        }
        write_json(d / fname, doc)
        SUMMARY.append(f"real/l1000_mean_baseline/{fname:24s} polaris/{label:20s} value={value!r}")
    check_sizes(d)


def rxrx3_case(shared: Path, tmp: Path) -> None:
    src = shared / RXRX3_FILE
    raw = pd.read_csv(src, dtype=str, keep_default_na=False)
    assert list(raw.columns) == ["treatment", "SMILES", "gene", "active"]
    assert set(raw["active"]) <= {"0", "1"} and (raw["treatment"] != "").all() and (raw["gene"] != "").all()
    raw["id"] = [str(i) for i in range(len(raw))]  # 0-based data-row index (no id column in the file)
    raw["y"] = raw["active"].astype(int)

    compounds = sorted(raw["treatment"].unique())  # code-point order (== byte order of UTF-8)
    fit_c = set(compounds[0::2])
    eval_c = set(compounds[1::2])
    fit = raw[raw["treatment"].isin(fit_c)]
    ev = raw[raw["treatment"].isin(eval_c)]

    # gene prior: active count / pair count over the fit rows, per gene (exact integer counts)
    counts = fit.groupby("gene")["y"].agg(["sum", "count"])
    prior = {g: float(int(r["sum"])) / float(int(r["count"])) for g, r in counts.iterrows()}
    genes_sorted = sorted(prior)
    d = OUT_REAL / "rxrx3_gene_prior"
    d.mkdir(parents=True)
    pd.DataFrame({"gene": genes_sorted, "score": [prior[g] for g in genes_sorted]}).to_csv(
        d / "gene_prior.csv", index=False, float_format="%.17g", lineterminator="\n"
    )
    gp = pd.read_csv(d / "gene_prior.csv", dtype={"gene": str}, keep_default_na=False, float_precision="round_trip")
    assert [prior[g] for g in gp["gene"]] == gp["score"].tolist()

    score = np.array([prior.get(g, 0.0) for g in ev["gene"]], dtype=np.float64)
    n_unseen = int(sum(g not in prior for g in ev["gene"]))
    truth_df = pd.DataFrame({"id": ev["id"].tolist(), "treatment": ev["treatment"].tolist(), "active": ev["y"].tolist()})
    pred_df = pd.DataFrame({"id": ev["id"].tolist(), "active": score})
    truth = roundtrip_csv(truth_df, tmp, "rxrx3_truth.csv", str_cols=("treatment",))
    pred = roundtrip_csv(pred_df, tmp, "rxrx3_pred.csv")
    assert np.array_equal(pred["active"].to_numpy(), score)

    source = {
        "file": RXRX3_FILE,
        "sha256": sha256(src),
        "id_column": None,
        "id_rule": (
            "the file has no id column: id = 0-based index of the data row in train.csv (header not "
            "counted, all rows counted, decimal without padding: '0', '1', ..., '7078')"
        ),
        "group_column": "treatment",
        "label_column": "active",
        "gene_column": "gene",
        "n_rows": int(len(raw)),
        "n_compounds": len(compounds),
        "n_fit_compounds": len(fit_c),
        "n_eval_compounds": len(eval_c),
        "n_fit_rows": int(len(fit)),
        "n_eval_rows": int(len(ev)),
        "n_prior_genes": len(prior),
        "n_eval_rows_unseen_gene": n_unseen,
        "split": (
            "unique treatment strings sorted ascending by code point; 0-based position even = fit, "
            "odd = eval; a row belongs to the split of its treatment"
        ),
        "prediction": (
            "gene_prior.csv: per gene seen in fit rows, score = (number of fit rows with that gene and "
            "active == 1) / (number of fit rows with that gene), float64 division of the two counts; "
            "eval row score = prior of its gene, 0.0 if the gene has no fit row"
        ),
        "truth": "eval rows in file order: id, treatment, active (0/1); pred: id, active = score",
    }
    for fname, label in (("expected.json", "pr_auc"), ("expected_roc.json", "roc_auc")):
        value, scores = sf.polaris_classification(truth, pred, label, "active", group_by="treatment", aggregation="mean")
        v2, s2 = sf.polaris_classification(
            truth_df.set_index("id"), pred_df.set_index("id"), label, "active", group_by="treatment",
            aggregation="mean",
        )
        assert v2 == value and s2 == scores
        assert list(scores) == sorted(eval_c)
        skipped = sorted(k for k, v in scores.items() if v is None)
        doc = {
            "metric": f"polaris/{label}",
            "group_by": "treatment",
            "params": {"aggregation": "mean"},
            "value": sf.num(value),
            "breakdown": "per_group",
            "scores": {str(k): sf.num(v) for k, v in scores.items()},
            "reference": (
                f"polaris-lib Metric(label='{label}', config=GroupedMetricConfig(group_by='treatment', "
                f"on_error='ignore', aggregation='mean')) via evaluate_benchmark; per-group scores recomputed "
                f"with polaris prepare_metric_kwargs + DEFAULT_METRICS['{label}'].fn and checked against the "
                f"aggregate (score_fixtures.polaris_classification); {VSTR}"
            ),
            "note": (
                f"real data: RxRx3 compound-gene pairs; {len(eval_c)} eval compounds, {len(ev)} pairs; "
                f"gene-prior scores are heavily tied (many genes share a rate, {n_unseen} eval pairs have an "
                f"unseen gene -> 0.0); {len(skipped)} compound(s) skipped (null): "
                + ("no positive" if label == "pr_auc" else "single class")
                + "."
            ),
            "source": source,
        }
        write_json(d / fname, doc)
        SUMMARY.append(
            f"real/rxrx3_gene_prior/{fname:24s}   polaris/{label:20s} value={value!r} "
            f"(groups {len(scores)}, skipped {len(skipped)})"
        )
    check_sizes(d)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="/work/shared", type=Path)
    args = ap.parse_args()

    parquet_cases()
    if (args.shared / L1000_FILE).exists() and (args.shared / RXRX3_FILE).exists():
        if OUT_REAL.exists():
            shutil.rmtree(OUT_REAL)
        OUT_REAL.mkdir(parents=True)
        with tempfile.TemporaryDirectory() as tmp:
            l1000_case(args.shared, Path(tmp))
            rxrx3_case(args.shared, Path(tmp))
    else:
        print(f"WARNING: shared data not found under {args.shared}; fixtures/golden/real left untouched")
    for line in SUMMARY:
        print(line)
    print(f"({VSTR})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
