//! The metrics every model is scored under: the task's official metric first, then the panel
//! of metrics that often disagree with it.

use cellcast_metrics::{resolve, score, Direction, Inputs, LabelInputs, MatrixInputs, Params};
use cellcast_stats::correlation::pearson;
use cellcast_stats::Matrix;

use crate::EvalError;

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
            PanelMetric::Registry(n) | PanelMetric::PerCompound(n) => n.clone(),
            PanelMetric::RowPearson => "per_compound_pearson".into(),
            PanelMetric::RowCosine => "per_compound_cosine".into(),
        }
    }

    pub fn direction(&self) -> Direction {
        match self {
            PanelMetric::Registry(n) | PanelMetric::PerCompound(n) => {
                resolve(n, &Params::default()).map_or(Direction::LowerIsBetter, |(i, _)| i.direction)
            }
            _ => Direction::HigherIsBetter,
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
            PanelMetric::RowPearson => mean_over_rows(truth, pred, pearson),
            PanelMetric::RowCosine => mean_over_rows(truth, pred, row_cosine),
        };
        Ok(MetricScore { metric: self.name(), direction: self.direction(), value })
    }
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
    }
}
