//! `cellcast::score` on files and on in-memory frames (what the Python package passes): the
//! same golden values as the reference packages, whichever way the tables arrive.

use std::path::{Path, PathBuf};

use cellcast::score::{score, ScoreOptions};
use cellcast::table::{Frame, FrameColumn, Table};
use cellcast::{ErrorKind, Silent};

fn golden(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden/score").join(case)
}

fn expected(case: &str) -> f64 {
    let text = std::fs::read_to_string(golden(case).join("expected.json")).unwrap();
    let line = text.lines().find(|l| l.trim_start().starts_with("\"value\"")).unwrap();
    line.split(':').nth(1).unwrap().trim().trim_end_matches(',').parse().unwrap()
}

/// A CSV of the fixtures (no quoting) as pandas would hand it over: `text` columns as strings,
/// `ints` as integers, the others as floats (an empty cell is NaN).
fn frame(path: &Path, text: &[&str], ints: &[&str]) -> Frame {
    let content = std::fs::read_to_string(path).unwrap();
    let mut lines = content.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let mut frame = Frame::new(format!("{} (DataFrame)", path.file_name().unwrap().to_string_lossy()));
    for (k, name) in header.iter().enumerate() {
        let cells = rows.iter().map(|r| r[k]);
        let column = if text.contains(name) {
            FrameColumn::Text(cells.map(|c| Some(c.to_string())).collect())
        } else if ints.contains(name) {
            FrameColumn::Int(cells.map(|c| c.parse().unwrap()).collect())
        } else {
            FrameColumn::Float(cells.map(|c| if c.is_empty() { f64::NAN } else { c.parse().unwrap() }).collect())
        };
        frame = frame.with(*name, column);
    }
    frame
}

/// Within 1e-12 relative of the reference (summation order differs from numpy's pairwise sums).
fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= 1e-12 * expected.abs().max(1.0)
}

fn options(metric: &str, truth: Table, pred: Table) -> ScoreOptions {
    ScoreOptions { metric: metric.into(), truth, pred, ..Default::default() }
}

#[test]
fn frames_score_exactly_as_files() {
    let case = "polaris_mean_squared_error_nan_shuffled";
    let (truth, pred) = (golden(case).join("truth.csv"), golden(case).join("pred.csv"));
    let from_files =
        score(&options("polaris/mean_squared_error", truth.clone().into(), pred.clone().into()), &Silent).unwrap();
    let from_frames = score(
        &options("polaris/mean_squared_error", frame(&truth, &["id"], &[]).into(), frame(&pred, &["id"], &[]).into()),
        &Silent,
    )
    .unwrap();
    assert!(close(from_files.score.value, expected(case)), "{}", from_files.score.value);
    assert_eq!(from_frames.score.value, from_files.score.value);
    assert_eq!(from_frames.score.entries, from_files.score.entries);
    assert!(from_frames.score.n_masked > 0 && from_frames.score.warnings[0].contains("missing truth cell"));
}

#[test]
fn grouped_labels_and_rankings_from_frames() {
    let case = "polaris_pr_auc_grouped_mean";
    let truth = frame(&golden(case).join("truth.csv"), &["id", "treatment"], &[]);
    let pred = frame(&golden(case).join("pred.csv"), &["id"], &[]);
    let opts =
        ScoreOptions { group_by: Some("treatment".into()), ..options("polaris/pr_auc", truth.into(), pred.into()) };
    let r = score(&opts, &Silent).unwrap();
    assert!(close(r.score.value, expected(case)), "{}", r.score.value);

    let case = "ranking_mrr";
    let truth = frame(&golden(case).join("truth.csv"), &["id", "targets"], &[]);
    let pred = frame(&golden(case).join("pred.csv"), &["id"], &[]);
    let mrr = score(&options("ranking/mrr", truth.into(), pred.into()), &Silent).unwrap().score.value;
    assert!(close(mrr, expected(case)), "{mrr}");
}

#[test]
fn refusals_name_what_to_fix() {
    let case = golden("polaris_mean_squared_error_nan_shuffled");
    let base = options("polaris/mean_squared_eror", case.join("truth.csv").into(), case.join("pred.csv").into());
    let unknown = score(&base, &Silent).unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::Input);
    assert!(unknown.to_string().contains("polaris/mean_squared_error"), "{unknown}");
    let grouped =
        ScoreOptions { metric: "polaris/mean_squared_error".into(), group_by: Some("x".into()), ..base.clone() };
    assert_eq!(
        score(&grouped, &Silent).unwrap_err().to_string(),
        "polaris/mean_squared_error does not use --group-column; remove it (see `cellcast metrics`)"
    );
    let bad = Frame::new("pred (DataFrame)")
        .with("id", FrameColumn::Text(vec![Some("c001".into())]))
        .with("geneA", FrameColumn::Text(vec![Some("high".into())]));
    let opts = options("polaris/mean_squared_error", case.join("truth.csv").into(), bad.into());
    assert_eq!(
        score(&opts, &Silent).unwrap_err().to_string(),
        "reading the prediction: pred (DataFrame): row 1 (id 'c001'), column 'geneA': 'high' is not a number"
    );
}

#[test]
fn the_registry_lists_every_metric_once() {
    let list = cellcast::score::metrics();
    let mut names: Vec<&str> = list.iter().map(|m| m.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), list.len());
    let mse = list.iter().find(|m| m.name == "polaris/mean_squared_error").unwrap();
    assert_eq!(mse.direction, "lower");
}
