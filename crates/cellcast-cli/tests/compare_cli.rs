//! `cellcast compare` end to end: every model is scored exactly as `cellcast score` scores it,
//! every pairwise interval holds its difference, the report states the winner and the interval
//! in words and numbers, a metric that disagrees shows up as an inversion, and the same seed
//! gives the same bytes on any thread count.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::{cellcast_err, cellcast_ok, read_csv_text, score_json, temp_dir};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A seeded truth of 120 rows × 6 targets and four models: `close` (truth shrunk, little
/// noise), `close2` (the same with slightly more noise: a near tie), `mean` (the column
/// means) and `scaled` (3 × the truth: perfectly correlated, far off in squared error).
fn tables(dir: &Path) -> (PathBuf, Vec<(&'static str, PathBuf)>) {
    let mut state = 12345u64;
    let mut noise = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    let (rows, cols) = (120, 6);
    let truth: Vec<Vec<f64>> = (0..rows).map(|_| (0..cols).map(|_| 2.0 * noise()).collect()).collect();
    let means: Vec<f64> = (0..cols).map(|j| truth.iter().map(|r| r[j]).sum::<f64>() / rows as f64).collect();
    let write = |name: &str, f: &mut dyn FnMut(usize, usize) -> f64| {
        let mut text = String::from("id");
        for j in 0..cols {
            let _ = write!(text, ",g{j}");
        }
        text.push('\n');
        for i in 0..rows {
            let _ = write!(text, "c{i}");
            for j in 0..cols {
                let _ = write!(text, ",{}", f(i, j));
            }
            text.push('\n');
        }
        let path = dir.join(format!("{name}.csv"));
        std::fs::write(&path, text).unwrap();
        path
    };
    let t = write("truth", &mut |i, j| truth[i][j]);
    let models = vec![
        ("mean", write("mean", &mut |_, j| means[j])),
        ("close", write("close", &mut |i, j| 0.8 * truth[i][j] + 0.3 * noise())),
        ("close2", write("close2", &mut |i, j| 0.8 * truth[i][j] + 0.31 * noise())),
        ("scaled", write("scaled", &mut |i, j| 3.0 * truth[i][j])),
    ];
    (t, models)
}

fn compare(truth: &Path, models: &[(&str, PathBuf)], out: &Path, extra: &[&str]) -> String {
    let mut args: Vec<String> = vec!["compare".into(), "--truth".into(), s(truth).into()];
    for (name, path) in models {
        args.push("--pred".into());
        args.push(format!("{name}={}", s(path)));
    }
    args.extend(extra.iter().map(|a| a.to_string()));
    args.extend(["--out".into(), s(out).into()]);
    cellcast_ok(args)
}

/// The `value` of `score --json`, parsed from its text (serde_json's float parsing may be one
/// unit in the last place off).
fn value(json: &str) -> f64 {
    json.split("\"value\":").nth(1).unwrap().split(',').next().unwrap().parse().unwrap()
}

#[test]
fn scores_as_score_does_with_intervals_that_hold_their_differences() {
    let dir = temp_dir("compare-basic");
    let (truth, models) = tables(&dir);
    let out = dir.join("out");
    let metrics = ["polaris/mean_squared_error", "per_compound_pearson"];
    compare(&truth, &models, &out, &["--metric", metrics[0], "--metric", metrics[1], "--bootstrap", "400"]);
    let board = read_csv_text(&out.join("leaderboard.csv"));
    assert_eq!(board.len(), 8);
    for row in &board {
        let path = &models.iter().find(|(n, _)| *n == row["model"]).unwrap().1;
        let want = value(&score_json(&row["metric"], &truth, path, &[]));
        assert_eq!(row["score"].parse::<f64>().unwrap(), want, "{} under {}", row["model"], row["metric"]);
        let (lo, hi): (f64, f64) = (row["ci_low"].parse().unwrap(), row["ci_high"].parse().unwrap());
        assert!(lo <= hi && lo.is_finite(), "{row:?}");
    }
    // Ranks: under MSE close < close2 < mean < scaled; under Pearson scaled is perfect.
    let rank = |m: &str, metric: &str| -> usize {
        board.iter().find(|r| r["model"] == m && r["metric"] == metric).unwrap()["rank"].parse().unwrap()
    };
    assert_eq!(
        [rank("close", metrics[0]), rank("close2", metrics[0]), rank("mean", metrics[0]), rank("scaled", metrics[0])],
        [1, 2, 3, 4]
    );
    assert_eq!(rank("scaled", metrics[1]), 1);

    let pairs = read_csv_text(&out.join("pairwise.csv"));
    assert_eq!(pairs.len(), 12, "6 pairs under each of 2 metrics");
    for p in &pairs {
        let (d, lo, hi): (f64, f64, f64) =
            (p["delta"].parse().unwrap(), p["ci_low"].parse().unwrap(), p["ci_high"].parse().unwrap());
        assert!(lo <= d && d <= hi, "interval holds its difference: {p:?}");
        let (pv, res): (f64, f64) = (p["p"].parse().unwrap(), p["p_resolution"].parse().unwrap());
        assert!(pv >= res && pv <= 1.0 && (res - 1.0 / 400.0).abs() < 1e-12, "{p:?}");
    }
    // The differences are the differences of the scores.
    let score = |m: &str| -> f64 {
        board.iter().find(|r| r["model"] == m && r["metric"] == metrics[0]).unwrap()["score"].parse().unwrap()
    };
    let mean_close =
        pairs.iter().find(|p| p["model_a"] == "mean" && p["model_b"] == "close" && p["metric"] == metrics[0]).unwrap();
    assert!((mean_close["delta"].parse::<f64>().unwrap() - (score("mean") - score("close"))).abs() < 1e-12);
    assert_eq!(mean_close["p"], "0.0025", "no resample crosses 0: p at its resolution");

    // The metrics disagree: scaled is last under MSE and first under Pearson.
    let agreement = read_csv_text(&out.join("rank_agreement.csv"));
    assert_eq!(agreement.len(), 1);
    let inversions: usize = agreement[0]["inversions"].parse().unwrap();
    let tau: f64 = agreement[0]["kendall_tau"].parse().unwrap();
    assert!(inversions >= 3 && tau < 0.5, "{agreement:?}");

    // The report: the winner, the reference (mean) and the near tie in words and numbers.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let headline = html.split(r#"<p id="headline""#).nth(1).unwrap().split("</p>").next().unwrap();
    assert!(headline.contains(r#"data-winner="close""#) && headline.contains(r#"data-reference="mean""#), "{headline}");
    let attr = |name: &str| -> f64 {
        headline.split(&format!("{name}=\"")).nth(1).unwrap().split('"').next().unwrap().parse().unwrap()
    };
    assert!((attr("data-delta") - (score("close") - score("mean"))).abs() < 1e-12);
    assert!(attr("data-ci-low") <= attr("data-delta") && attr("data-delta") <= attr("data-ci-high"));
    assert!(headline.contains("ranks first") && headline.contains("p &lt; 0.003"), "{headline}");
    assert!(headline.contains("runner-up close2") && headline.contains("cannot be told apart"), "{headline}");
    assert!(headline.contains("Under per_compound_pearson, scaled ranks first instead"), "{headline}");
    assert!(!html.contains("0.0 ") && html.contains("<svg"), "no p written as 0.0; a forest plot");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("cannot be told apart") && md.contains("⇄"));
}

#[test]
fn the_same_bytes_on_any_thread_count_and_folds_scored() {
    let dir = temp_dir("compare-threads");
    let (truth, models) = tables(&dir);
    let mut folds = String::from("id,fold\n");
    for i in 0..120 {
        let _ = writeln!(folds, "c{i},{}", i % 3);
    }
    std::fs::write(dir.join("folds.csv"), folds).unwrap();
    let run = |threads: &str| {
        let out = dir.join(format!("t{threads}"));
        compare(
            &truth,
            &models,
            &out,
            &["--threads", threads, "--folds", s(&dir.join("folds.csv")), "--bootstrap", "200", "--seed", "7"],
        );
        out
    };
    let (one, two) = (run("1"), run("2"));
    for f in ["leaderboard.csv", "pairwise.csv", "rank_agreement.csv", "folds.csv", "report.md", "report.html"] {
        assert_eq!(std::fs::read(one.join(f)).unwrap(), std::fs::read(two.join(f)).unwrap(), "{f}");
    }
    let folds = read_csv_text(&one.join("folds.csv"));
    // 4 models × 4 default metrics × 3 folds.
    assert_eq!(folds.len(), 48);
    assert_eq!(folds.iter().filter(|f| f["fold"] == "2").count(), 16);
}

#[test]
fn grouped_labels_resample_groups_and_match_score() {
    let dir = temp_dir("compare-groups");
    let mut truth = String::from("id,compound,active\n");
    let (mut a, mut b) = (String::from("id,active\n"), String::from("id,active\n"));
    for i in 0..200 {
        let label = u8::from(i % 3 == 0);
        let _ = writeln!(truth, "r{i},comp{},{label}", i / 10);
        let _ = writeln!(a, "r{i},{}", f64::from(label) * 0.5 + ((i * 37) % 11) as f64 / 11.0);
        let _ = writeln!(b, "r{i},{}", ((i * 53) % 17) as f64 / 17.0);
    }
    for (name, text) in [("truth", &truth), ("a", &a), ("b", &b)] {
        std::fs::write(dir.join(format!("{name}.csv")), text).unwrap();
    }
    let out = dir.join("out");
    let models = vec![("a", dir.join("a.csv")), ("b", dir.join("b.csv"))];
    let stderr_free = compare(&dir.join("truth.csv"), &models, &out, &["--group-by", "compound", "--bootstrap", "300"]);
    assert!(stderr_free.contains("polaris/pr_auc"), "{stderr_free}");
    let board = read_csv_text(&out.join("leaderboard.csv"));
    for row in &board {
        let want = value(&score_json(
            &row["metric"],
            &dir.join("truth.csv"),
            &dir.join(format!("{}.csv", row["model"])),
            &["--group-column", "compound"],
        ));
        assert_eq!(row["score"].parse::<f64>().unwrap(), want, "{row:?}");
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("resamples of the truth's 20 groups"), "{md}");
}

#[test]
fn bad_inputs_fail_cleanly_and_write_nothing() {
    let dir = temp_dir("compare-errors");
    let (truth, models) = tables(&dir);
    let out = dir.join("out");
    let base = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = vec!["compare".into(), "--truth".into(), s(&truth).into()];
        v.extend(extra.iter().map(|a| a.to_string()));
        v.extend(["--out".into(), s(&out).into()]);
        v
    };
    let p = |name: &str, i: usize| format!("{name}={}", s(&models[i].1));
    let err = cellcast_err(base(&["--pred", &p("a", 0), "--pred", &p("a", 1)]));
    assert!(err.contains("given twice"), "{err}");
    let err = cellcast_err(base(&["--pred", s(&models[0].1)]));
    assert!(err.contains("NAME=FILE"), "{err}");
    // A prediction missing a row of the truth.
    let short = dir.join("short.csv");
    let text = std::fs::read_to_string(&models[1].1).unwrap();
    std::fs::write(&short, text.lines().take(50).collect::<Vec<_>>().join("\n")).unwrap();
    let err = cellcast_err(base(&["--pred", &p("a", 0), "--pred", &format!("short={}", s(&short))]));
    assert!(err.contains("short") && err.contains("c49"), "{err}");
    assert!(!out.exists(), "nothing written");
}

#[test]
fn single_cell_predictions_compare_on_cell_evals_metrics() {
    let case = common::golden().join("evaluate/norman_log1p");
    let dir = temp_dir("compare-cells");
    let (real, pred) = (case.join("real.h5ad"), case.join("pred.h5ad"));
    let base = dir.join("base.h5ad");
    cellcast_ok([
        "evaluate",
        "baseline",
        "--real",
        s(&real),
        "--pert-column",
        "condition",
        "--control",
        "control",
        "--out",
        s(&base),
    ]);
    let out = dir.join("out");
    cellcast_ok([
        "compare",
        "--real",
        s(&real),
        "--pert-column",
        "condition",
        "--control",
        "control",
        "--pred",
        &format!("mean={}", s(&base)),
        "--pred",
        &format!("model={}", s(&pred)),
        "--bootstrap",
        "300",
        "--out",
        s(&out),
    ]);
    // Each score is the model's mean over perturbations: cell-eval's own agg_results mean
    // (fixture made by cell-eval 0.8.2) where it has no NaN.
    let agg = read_csv_text(&case.join("agg_results.csv"));
    let mean_row = agg.iter().find(|r| r["statistic"] == "mean").unwrap();
    let board = read_csv_text(&out.join("leaderboard.csv"));
    let mut checked = 0;
    for row in board.iter().filter(|r| r["model"] == "model") {
        let want: f64 = mean_row[&row["metric"]].parse().unwrap();
        if want.is_finite() {
            let got: f64 = row["score"].parse().unwrap();
            assert!((got - want).abs() <= 1e-9 * want.abs().max(1e-12), "{}: {got} vs {want}", row["metric"]);
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
    assert!(!board.iter().any(|r| r["metric"].starts_with("de_nsig_counts")), "counts are not scores");
    // A whole-screen statistic gets no interval; a per-perturbation one does.
    let row = |m: &str, metric: &str| board.iter().find(|r| r["model"] == m && r["metric"] == metric).unwrap().clone();
    assert_eq!(row("model", "pearson_edistance")["ci_low"], "");
    let (lo, hi): (f64, f64) =
        (row("model", "mae")["ci_low"].parse().unwrap(), row("model", "mae")["ci_high"].parse().unwrap());
    assert!(lo < hi);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("resamples of the real screen's 33 perturbations") && md.contains("one value for the whole screen"),
        "{md}"
    );
}
