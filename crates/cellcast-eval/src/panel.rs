//! The metrics every model is scored under: the task's official metric first, then the panel
//! of metrics that often disagree with it.

use cellcast_metrics::{resolve, score, Direction, Inputs, LabelInputs, MatrixInputs, Params};
use cellcast_stats::correlation::pearson;
use cellcast_stats::Matrix;
use std::collections::HashMap;
use std::sync::Arc;

use cellcast_data::task::LabelKind;

use crate::EvalError;

/// The panel a task is scored under: its official metric first, then the metrics that tend to
/// disagree with it. Binary labels: the official per-compound label metric and the other of
/// `polaris/pr_auc` / `polaris/roc_auc`. With replicate weights (DRUG-seq counts), the official
/// DEG-weighted metric reads them and the inverse-variance proxy stands beside it.
pub fn metric_panel(labels: LabelKind, official: &str, weights: Option<&Arc<RowWeights>>) -> Vec<PanelMetric> {
    match (labels, weights) {
        (LabelKind::Binary, _) => {
            let other = if official.ends_with("roc_auc") { "polaris/pr_auc" } else { "polaris/roc_auc" };
            vec![PanelMetric::PerCompound(official.to_string()), PanelMetric::PerCompound(other.into())]
        }
        (LabelKind::Continuous, Some(w)) => vec![
            PanelMetric::Weighted { metric: official.to_string(), weights: Arc::clone(w) },
            PanelMetric::InverseVarianceMse,
            PanelMetric::Registry("polaris/mean_squared_error".into()),
            PanelMetric::RowPearson,
            PanelMetric::RowCosine,
        ],
        (LabelKind::Continuous, None) => vec![
            PanelMetric::Registry(official.to_string()),
            PanelMetric::Registry("mejia/wmse".into()),
            PanelMetric::RowPearson,
            PanelMetric::RowCosine,
        ],
    }
}

/// Per-compound official value, the unit a paired bootstrap resamples: the mean squared error
/// over the compound's observed targets (with weights, the weighted sum Σ w (p − t)² of
/// `vcpi/wmse`), or for binary labels its average precision (NaN when the compound has no
/// positive — Polaris skips it — and, for continuous labels, when it has no observed target).
pub fn per_compound(labels: LabelKind, truth: &Matrix, pred: &Matrix, weights: Option<&Matrix>) -> Vec<f64> {
    truth
        .rows()
        .zip(pred.rows())
        .enumerate()
        .map(|(i, (t, p))| {
            if let Some(w) = weights {
                return t.iter().zip(p).zip(w.row(i)).map(|((a, b), w)| w * (a - b) * (a - b)).sum();
            }
            let (tt, pp): (Vec<f64>, Vec<f64>) =
                t.iter().zip(p).filter(|(a, _)| !a.is_nan()).map(|(a, b)| (*a, *b)).unzip();
            match labels {
                LabelKind::Continuous if tt.is_empty() => f64::NAN,
                LabelKind::Continuous => {
                    tt.iter().zip(&pp).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / tt.len() as f64
                }
                LabelKind::Binary => {
                    let positive: Vec<bool> = tt.iter().map(|&v| v == 1.0).collect();
                    cellcast_stats::classification::average_precision(&positive, &pp).unwrap_or(f64::NAN)
                }
            }
        })
        .collect()
}

/// A metric of the panel.
#[derive(Debug, Clone, PartialEq)]
pub enum PanelMetric {
    /// A registry metric scored on truth/prediction matrices (e.g. `polaris/mean_squared_error`,
    /// `mejia/wmse` with its variance-weight fallback).
    Registry(String),
    /// A label metric of the registry (`polaris/pr_auc`, `polaris/roc_auc`) on the observed
    /// (compound, target) cells grouped by compound: Polaris' grouped score of a pair task.
    PerCompound(String),
    /// Mean over compounds of the Pearson correlation between true and predicted profiles.
    RowPearson,
    /// Mean over compounds of the cosine between true and predicted profiles.
    RowCosine,
    /// A registry metric that reads per-row weights (`vcpi/wmse`, `mejia/wmse`): the weights of
    /// every training row, picked by id for the rows scored.
    Weighted { metric: String, weights: Arc<RowWeights> },
    /// The proxy the field often optimises instead: per-gene MSE weighted by the inverse of the
    /// gene's truth variance over the scored rows (ddof 0; weights normalised to sum to 1,
    /// constant genes weigh 0), averaged over rows. Smooth predictions that get the noisy
    /// low-variance genes right win it; DEG weights reward the genes a compound moves.
    InverseVarianceMse,
}

/// Per-row, per-target weights keyed by row id.
#[derive(Debug, Clone, PartialEq)]
pub struct RowWeights {
    pub row_of: HashMap<String, usize>,
    pub weights: Matrix,
}

impl RowWeights {
    /// Weights of the rows `ids` (rows × targets), in that order.
    pub fn new(ids: &[String], weights: Matrix) -> Self {
        RowWeights { row_of: ids.iter().enumerate().map(|(i, id)| (id.clone(), i)).collect(), weights }
    }
}

/// A metric's value.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricScore {
    pub metric: String,
    pub direction: Direction,
    pub value: f64,
}

impl PanelMetric {
    pub fn name(&self) -> String {
        match self {
            PanelMetric::Registry(n) | PanelMetric::PerCompound(n) | PanelMetric::Weighted { metric: n, .. } => {
                n.clone()
            }
            PanelMetric::InverseVarianceMse => "proxy/inverse_variance_mse".into(),
            PanelMetric::RowPearson => "per_compound_pearson".into(),
            PanelMetric::RowCosine => "per_compound_cosine".into(),
        }
    }

    pub fn direction(&self) -> Direction {
        match self {
            PanelMetric::Registry(n) | PanelMetric::PerCompound(n) | PanelMetric::Weighted { metric: n, .. } => {
                resolve(n, &Params::default()).map_or(Direction::LowerIsBetter, |(i, _)| i.direction)
            }
            PanelMetric::InverseVarianceMse => Direction::LowerIsBetter,
            PanelMetric::RowPearson | PanelMetric::RowCosine => Direction::HigherIsBetter,
        }
    }

    /// Scores predictions of the rows `ids` (truth may hold NaN).
    pub fn score(
        &self,
        ids: &[String],
        targets: &[String],
        truth: &Matrix,
        pred: &Matrix,
    ) -> Result<MetricScore, EvalError> {
        let value = match self {
            PanelMetric::Registry(name) => {
                let (info, params) = resolve(name, &Params::default())?;
                let inputs = MatrixInputs { ids, targets, truth, pred, weights: None, baseline: None };
                score(info, Inputs::Matrix(inputs), &params)?.value
            }
            PanelMetric::PerCompound(name) => {
                let (info, params) = resolve(name, &Params::default())?;
                let (mut cell_ids, mut groups, mut labels, mut scores) =
                    (Vec::new(), Vec::new(), Vec::new(), Vec::new());
                for (i, (t, p)) in truth.rows().zip(pred.rows()).enumerate() {
                    for (j, (&label, &s)) in t.iter().zip(p).enumerate() {
                        if !label.is_nan() {
                            cell_ids.push(format!("{} × {}", ids[i], targets[j]));
                            groups.push(Some(ids[i].clone()));
                            labels.push(label);
                            scores.push(s);
                        }
                    }
                }
                let (truth, scores) = (column_matrix(&labels), column_matrix(&scores));
                let names = ["label".to_string()];
                let inputs = LabelInputs {
                    ids: &cell_ids,
                    label_names: &names,
                    truth: &truth,
                    scores: &scores,
                    groups: Some(&groups),
                };
                score(info, Inputs::Labels(inputs), &params)?.value
            }
            PanelMetric::Weighted { metric, weights } => {
                let (info, params) = resolve(metric, &Params::default())?;
                let rows: Vec<usize> = ids
                    .iter()
                    .map(|id| {
                        weights
                            .row_of
                            .get(id)
                            .copied()
                            .ok_or_else(|| EvalError::Task(format!("{metric}: no weights for row '{id}'")))
                    })
                    .collect::<Result<_, _>>()?;
                let w = weights.weights.select_rows(&rows);
                let inputs = MatrixInputs { ids, targets, truth, pred, weights: Some(&w), baseline: None };
                score(info, Inputs::Matrix(inputs), &params)?.value
            }
            PanelMetric::InverseVarianceMse => {
                let w = inverse_variance_weights(truth);
                let per_row: Vec<f64> =
                    truth.rows().zip(pred.rows()).map(|(t, p)| weighted_squared_error(t, p, &w)).collect();
                per_row.iter().sum::<f64>() / per_row.len() as f64
            }
            PanelMetric::RowPearson => mean_over_rows(truth, pred, pearson),
            PanelMetric::RowCosine => mean_over_rows(truth, pred, row_cosine),
        };
        Ok(MetricScore { metric: self.name(), direction: self.direction(), value })
    }
}

/// Per-gene 1 / variance of the truth over the rows (ddof 0, NaN cells skipped), normalised to
/// sum to 1; constant genes weigh 0.
pub fn inverse_variance_weights(truth: &Matrix) -> Vec<f64> {
    let inv: Vec<f64> = (0..truth.ncols())
        .map(|j| {
            let col: Vec<f64> = truth.column(j).into_iter().filter(|x| !x.is_nan()).collect();
            let v = cellcast_stats::moments::variance(&col, 0);
            if v > 0.0 {
                1.0 / v
            } else {
                0.0
            }
        })
        .collect();
    let total: f64 = inv.iter().sum();
    inv.iter().map(|v| if total > 0.0 { v / total } else { 0.0 }).collect()
}

/// Σ w (p − t)² over the observed cells (`truth` and `weights` in the same gene order).
fn weighted_squared_error(truth: &[f64], pred: &[f64], weights: &[f64]) -> f64 {
    truth.iter().zip(pred).zip(weights).filter(|((t, _), _)| !t.is_nan()).map(|((t, p), w)| w * (p - t) * (p - t)).sum()
}

/// A one-column matrix.
fn column_matrix(values: &[f64]) -> Matrix {
    let mut m = Matrix::filled(values.len(), 1, 0.0);
    for (i, &v) in values.iter().enumerate() {
        m.row_mut(i)[0] = v;
    }
    m
}

/// Mean of `f(truth row, pred row)` over rows where it is defined (NaN truth cells dropped).
fn mean_over_rows(truth: &Matrix, pred: &Matrix, f: fn(&[f64], &[f64]) -> f64) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for (t, p) in truth.rows().zip(pred.rows()) {
        let (tt, pp): (Vec<f64>, Vec<f64>) =
            t.iter().zip(p).filter(|(a, _)| !a.is_nan()).map(|(a, b)| (*a, *b)).unzip();
        let v = f(&tt, &pp);
        if !v.is_nan() {
            sum += v;
            n += 1;
        }
    }
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64
    }
}

/// Cosine of two profiles (NaN when either is all zeros).
pub fn row_cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        f64::NAN
    } else {
        dot / (na * nb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_metrics() {
        assert!((row_cosine(&[1.0, 0.0], &[1.0, 1.0]) - 1.0 / 2f64.sqrt()).abs() < 1e-15);
        assert!(row_cosine(&[0.0, 0.0], &[1.0, 1.0]).is_nan());
        let t = Matrix::from_rows(&[[1.0, 2.0, 3.0], [1.0, f64::NAN, 0.0]]).unwrap();
        let p = Matrix::from_rows(&[[2.0, 4.0, 6.0], [3.0, 9.0, 1.0]]).unwrap();
        // Row 1 keeps two cells: Pearson of two points is ±1.
        assert!((mean_over_rows(&t, &p, pearson) - 1.0).abs() < 1e-12);
        let ids = vec!["a".to_string(), "b".to_string()];
        let genes = vec!["g1".to_string(), "g2".to_string(), "g3".to_string()];
        let mse = PanelMetric::Registry("polaris/mean_squared_error".into()).score(&ids, &genes, &t, &p).unwrap();
        // Per-target MSE: g1 (1+4)/2, g2 4/1, g3 (9+1)/2 → mean 23/6.
        assert!((mse.value - 23.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn per_compound_average_precision_skips_compounds_without_a_positive() {
        let ids = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let genes = vec!["g1".to_string(), "g2".to_string(), "g3".to_string()];
        let t = Matrix::from_rows(&[[1.0, 0.0, f64::NAN], [0.0, 1.0, 1.0], [0.0, 0.0, f64::NAN]]).unwrap();
        let p = Matrix::from_rows(&[[0.2, 0.9, 0.5], [0.3, 0.1, 0.2], [0.5, 0.5, 0.5]]).unwrap();
        // a: positive ranked second of two → AP 0.5; b: positives at ranks 3 and 2 → (1/2 + 2/3)/2;
        // c has no positive and is skipped (Polaris on_error=ignore).
        let ap = PanelMetric::PerCompound("polaris/pr_auc".into()).score(&ids, &genes, &t, &p).unwrap();
        assert!((ap.value - (0.5 + (0.5 + 2.0 / 3.0) / 2.0) / 2.0).abs() < 1e-12, "{}", ap.value);
        assert_eq!(ap.direction, Direction::HigherIsBetter);
        // The per-compound values the bootstrap resamples average to the same score.
        let values = per_compound(LabelKind::Binary, &t, &p, None);
        assert!((values[0] - 0.5).abs() < 1e-12 && values[2].is_nan(), "{values:?}");
    }

    #[test]
    fn per_compound_squared_error_skips_missing_cells_and_reads_weights() {
        let t = Matrix::from_rows(&[[1.0, f64::NAN], [0.0, 2.0], [f64::NAN, f64::NAN]]).unwrap();
        let p = Matrix::from_rows(&[[3.0, 9.0], [1.0, 0.0], [0.0, 0.0]]).unwrap();
        let v = per_compound(LabelKind::Continuous, &t, &p, None);
        assert_eq!(&v[..2], &[4.0, 2.5]);
        assert!(v[2].is_nan());
        let w = Matrix::from_rows(&[[0.5, 0.5], [1.0, 0.0], [0.0, 0.0]]).unwrap();
        let t = Matrix::from_rows(&[[1.0, 1.0], [0.0, 2.0], [0.0, 0.0]]).unwrap();
        assert_eq!(per_compound(LabelKind::Continuous, &t, &p, Some(&w)), vec![34.0, 1.0, 0.0]);
    }

    #[test]
    fn panel_puts_the_official_metric_first() {
        let names = |p: Vec<PanelMetric>| p.iter().map(PanelMetric::name).collect::<Vec<_>>();
        assert_eq!(
            names(metric_panel(LabelKind::Binary, "polaris/roc_auc", None)),
            ["polaris/roc_auc", "polaris/pr_auc"]
        );
        assert_eq!(
            names(metric_panel(LabelKind::Continuous, "polaris/mean_squared_error", None))[..2],
            ["polaris/mean_squared_error", "mejia/wmse"]
        );
    }
}
