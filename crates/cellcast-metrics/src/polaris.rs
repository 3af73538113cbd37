//! Polaris' metrics: each target scored on its own with NaN truth masked, as
//! `polaris.evaluate.utils.evaluate_benchmark` does, and the grouped `pr_auc` / `roc_auc` of
//! `GroupedMetricConfig` (pandas groupby, `on_error="ignore"`).

use std::collections::BTreeMap;

use cellcast_stats::classification::{average_precision, roc_auc};
use cellcast_stats::correlation::{pearson, spearman};
use cellcast_stats::moments::{mean, median};

use crate::error::{invalid, Result};
use crate::inputs::{LabelInputs, MatrixInputs};
use crate::params::Params;
use crate::registry::MetricInfo;
use crate::score::{Breakdown, Score};

/// Scores one target's masked (truth, prediction) pairs.
fn regression_kernel(name: &str, y: &[f64], p: &[f64]) -> f64 {
    let n = y.len() as f64;
    match name {
        "polaris/mean_squared_error" => y.iter().zip(p).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / n,
        "polaris/mean_absolute_error" => y.iter().zip(p).map(|(a, b)| (a - b).abs()).sum::<f64>() / n,
        "polaris/r2" => {
            if y.len() < 2 {
                return f64::NAN; // sklearn: "R^2 score is not well-defined with less than two samples"
            }
            let my = mean(y);
            let num: f64 = y.iter().zip(p).map(|(a, b)| (a - b) * (a - b)).sum();
            let den: f64 = y.iter().map(|a| (a - my) * (a - my)).sum();
            force_finite(num, den)
        }
        "polaris/explained_var" => {
            let diffs: Vec<f64> = y.iter().zip(p).map(|(a, b)| a - b).collect();
            let md = mean(&diffs);
            let my = mean(y);
            let num = diffs.iter().map(|d| (d - md) * (d - md)).sum::<f64>() / n;
            let den = y.iter().map(|a| (a - my) * (a - my)).sum::<f64>() / n;
            force_finite(num, den)
        }
        "polaris/pearsonr" => pearson(y, p),
        "polaris/spearmanr" => spearman(y, p),
        _ => unreachable!("not a Polaris regression metric: {name}"),
    }
}

/// scikit-learn's `force_finite=True` rule for R² and explained variance.
fn force_finite(num: f64, den: f64) -> f64 {
    match (num != 0.0, den != 0.0) {
        (_, true) => 1.0 - num / den,
        (true, false) => 0.0,
        (false, false) => 1.0,
    }
}

/// Per-target Polaris regression metrics; the aggregate is the mean over the targets that
/// produced a number (a NaN target, e.g. Pearson of a constant column, is reported and skipped).
pub(crate) fn regression(info: &MetricInfo, x: &MatrixInputs) -> Result<Score> {
    // Targets are columns of row-major matrices: gather them a block at a time so that each
    // row is read contiguously (a column-at-a-time walk is cache-hostile on 10k × 1k inputs).
    const BLOCK: usize = 64;
    let mut score = Score::new(info.name, info.direction, Breakdown::PerTarget);
    let n = x.ids.len();
    for start in (0..x.targets.len()).step_by(BLOCK) {
        let end = (start + BLOCK).min(x.targets.len());
        let mut y: Vec<Vec<f64>> = vec![Vec::with_capacity(n); end - start];
        let mut p: Vec<Vec<f64>> = vec![Vec::with_capacity(n); end - start];
        for i in 0..n {
            let (t_row, p_row) = (&x.truth.row(i)[start..end], &x.pred.row(i)[start..end]);
            for (k, (&t, &q)) in t_row.iter().zip(p_row).enumerate() {
                if !t.is_nan() {
                    y[k].push(t);
                    p[k].push(q);
                }
            }
        }
        for (k, target) in x.targets[start..end].iter().enumerate() {
            if y[k].is_empty() {
                return Err(invalid(
                    info.name,
                    format!("target '{target}' has no non-missing truth value (Polaris/scikit-learn cannot score an empty target)"),
                ));
            }
            score.entries.push((target.clone(), regression_kernel(info.name, &y[k], &p[k])));
        }
    }
    aggregate_skipping_nan(&mut score, "target", mean);
    Ok(score)
}

/// Aggregates the finite entries; NaN entries count as skipped and are named in a warning.
fn aggregate_skipping_nan(score: &mut Score, what: &str, aggregate: fn(&[f64]) -> f64) {
    let finite: Vec<f64> = score.entries.iter().map(|(_, v)| *v).filter(|v| !v.is_nan()).collect();
    let skipped: Vec<&str> = score.entries.iter().filter(|(_, v)| v.is_nan()).map(|(k, _)| k.as_str()).collect();
    score.n_scored = finite.len();
    score.n_skipped = skipped.len();
    if !skipped.is_empty() {
        score.warnings.push(format!(
            "{} {what}(s) could not be scored and are left out of the aggregate: {}",
            skipped.len(),
            name_list(&skipped)
        ));
    }
    score.value = if finite.is_empty() { f64::NAN } else { aggregate(&finite) };
    if finite.is_empty() {
        score.warnings.push(format!("no {what} could be scored: the aggregate is NaN"));
    }
}

fn name_list(items: &[&str]) -> String {
    let shown: Vec<String> = items.iter().take(5).map(|s| format!("'{s}'")).collect();
    if items.len() > 5 {
        format!("{}, …", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

#[derive(Clone, Copy)]
enum Curve {
    AveragePrecision,
    RocAuc,
}

impl Curve {
    fn of(name: &str) -> Self {
        if name == "polaris/roc_auc" {
            Curve::RocAuc
        } else {
            Curve::AveragePrecision
        }
    }

    fn score(self, labels: &[bool], scores: &[f64]) -> Option<f64> {
        match self {
            Curve::AveragePrecision => average_precision(labels, scores),
            Curve::RocAuc => roc_auc(labels, scores),
        }
    }
}

/// Masked binary labels and scores of label column `j` for the given rows.
fn labelled(
    info: &MetricInfo,
    x: &LabelInputs,
    j: usize,
    rows: impl Iterator<Item = usize>,
) -> Result<(Vec<bool>, Vec<f64>)> {
    let mut labels = Vec::new();
    let mut scores = Vec::new();
    for i in rows {
        let t = x.truth.get(i, j);
        if t.is_nan() {
            continue;
        }
        if t != 0.0 && t != 1.0 {
            return Err(invalid(
                info.name,
                format!(
                    "label '{}' of id '{}' is {t}; labels must be 0 or 1 (or empty for missing)",
                    x.label_names[j], x.ids[i]
                ),
            ));
        }
        labels.push(t == 1.0);
        scores.push(x.scores.get(i, j));
    }
    Ok((labels, scores))
}

/// `pr_auc` / `roc_auc`, plain (one score per label column) or grouped.
pub(crate) fn classification(info: &MetricInfo, x: &LabelInputs, params: &Params) -> Result<Score> {
    let curve = Curve::of(info.name);
    let aggregation: fn(&[f64]) -> f64 = match params.get_str("aggregation") {
        Some("median") => median,
        _ => mean,
    };
    let Some(groups) = x.groups else {
        let mut score = Score::new(info.name, info.direction, Breakdown::PerTarget);
        for (j, name) in x.label_names.iter().enumerate() {
            let (labels, scores) = labelled(info, x, j, 0..x.ids.len())?;
            let value = curve.score(&labels, &scores).ok_or_else(|| {
                invalid(
                    info.name,
                    match curve {
                        Curve::AveragePrecision => {
                            format!("label '{name}' has no positive: average precision is undefined")
                        }
                        Curve::RocAuc => format!("label '{name}' has only one class: ROC AUC is undefined"),
                    },
                )
            })?;
            score.entries.push((name.clone(), value));
        }
        aggregate_skipping_nan(&mut score, "label", mean);
        return Ok(score);
    };
    if x.label_names.len() != 1 {
        return Err(invalid(
            info.name,
            format!("a grouped score needs exactly one label column, found {}", x.label_names.len()),
        ));
    }
    // pandas groupby: sorted keys, rows without a group dropped.
    let mut members: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        if let Some(g) = g {
            members.entry(g.as_str()).or_default().push(i);
        }
    }
    let mut score = Score::new(info.name, info.direction, Breakdown::PerGroup);
    for (group, rows) in members {
        let (labels, scores) = labelled(info, x, 0, rows.into_iter())?;
        score.entries.push((group.to_string(), curve.score(&labels, &scores).unwrap_or(f64::NAN)));
    }
    aggregate_skipping_nan(&mut score, "group", aggregation);
    if score.n_skipped > 0 {
        // Replace the generic warning with the rule Polaris applies.
        score.warnings.retain(|w| !w.contains("could not be scored"));
        score.warnings.push(match curve {
            Curve::AveragePrecision => {
                format!("{} group(s) without a positive label skipped (Polaris on_error=ignore)", score.n_skipped)
            }
            Curve::RocAuc => format!("{} single-class group(s) skipped (Polaris on_error=ignore)", score.n_skipped),
        });
    }
    Ok(score)
}
