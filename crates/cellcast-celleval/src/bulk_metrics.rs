//! cell-eval's pseudobulk ("anndata") metrics (`cell_eval/metrics/_anndata.py`): mae, mse,
//! mae_delta, mse_delta, pearson_delta and discrimination_score_{l1,l2,cosine}, on the
//! pseudobulks of [`crate::summary`].
//!
//! The pseudobulks are float32 for float32 data, and numpy, scikit-learn and scipy then compute
//! in float32: effects (perturbation − control), errors and their means (numpy's pairwise sum),
//! and Pearson's r (scipy's steps). Done in float64 instead, `pearson_delta` moves by up to 6e-6.

use cellcast_metrics::celleval::{discrimination_scores, Distance};

use crate::describe::MetricColumn;
use crate::numeric::Precision;
use crate::summary::Summary;

/// The real and predicted pseudobulks of the same perturbations.
pub struct BulkPair<'a> {
    real: &'a Summary,
    pred: &'a Summary,
    /// cell-eval's perturbations: sorted labels, control excluded.
    pub perturbations: Vec<String>,
    real_index: Vec<usize>,
    pred_index: Vec<usize>,
    genes: &'a [String],
    /// numpy's result type of real and pred values.
    precision: Precision,
}

impl<'a> BulkPair<'a> {
    /// `perturbations` must be labels of both summaries.
    pub fn new(real: &'a Summary, pred: &'a Summary, perturbations: Vec<String>, genes: &'a [String]) -> Self {
        let index = |s: &Summary| -> Vec<usize> {
            perturbations.iter().map(|p| s.perturbations.iter().position(|q| q == p).expect("checked label")).collect()
        };
        let precision = if real.precision == Precision::F64 || pred.precision == Precision::F64 {
            Precision::F64
        } else {
            Precision::F32
        };
        BulkPair { real, pred, real_index: index(real), pred_index: index(pred), perturbations, genes, precision }
    }

    fn effect(s: &Summary, g: usize) -> Vec<f64> {
        let p = s.precision;
        s.bulk_row(g).iter().zip(s.bulk_row(s.control)).map(|(a, c)| p.round(a - c)).collect()
    }

    /// The column of one pseudobulk metric; `None` if `name` is not one.
    pub fn compute(&self, name: &str) -> Option<MetricColumn> {
        let p = self.precision;
        let per = |f: &dyn Fn(usize) -> f64| -> Vec<Option<f64>> {
            (0..self.perturbations.len()).map(|k| Some(f(k))).collect()
        };
        let pert = |k: usize| (self.real.bulk_row(self.real_index[k]), self.pred.bulk_row(self.pred_index[k]));
        let effects =
            |k: usize| (Self::effect(self.real, self.real_index[k]), Self::effect(self.pred, self.pred_index[k]));
        let values = match name {
            "mae" => per(&|k| {
                let (r, q) = pert(k);
                mean_abs_error(p, q, r)
            }),
            "mse" => per(&|k| {
                let (r, q) = pert(k);
                mean_squared_error(p, q, r)
            }),
            "mae_delta" => per(&|k| {
                let (r, q) = effects(k);
                mean_abs_error(p, &q, &r)
            }),
            "mse_delta" => per(&|k| {
                let (r, q) = effects(k);
                mean_squared_error(p, &q, &r)
            }),
            "pearson_delta" => per(&|k| {
                let (r, q) = effects(k);
                pearson(p, &q, &r)
            }),
            "discrimination_score_l1" => self.discrimination(Distance::L1)?,
            "discrimination_score_l2" => self.discrimination(Distance::L2)?,
            "discrimination_score_cosine" => self.discrimination(Distance::Cosine)?,
            _ => return None,
        };
        Some(MetricColumn { name: name.to_string(), values })
    }

    fn discrimination(&self, d: Distance) -> Option<Vec<Option<f64>>> {
        let n = self.perturbations.len();
        let (mut real, mut pred) = (Vec::new(), Vec::new());
        for k in 0..n {
            let (r, q) = (Self::effect(self.real, self.real_index[k]), Self::effect(self.pred, self.pred_index[k]));
            real.extend(r);
            pred.extend(q);
        }
        let labels: Vec<&str> = self.perturbations.iter().map(String::as_str).collect();
        Some(match discrimination_scores(&real, &pred, self.genes, &labels, d) {
            Some(v) => v.into_iter().map(Some).collect(),
            // sklearn refuses a comparison over no feature; cell-eval logs the error and drops
            // the metric's column.
            None => return None,
        })
    }
}

/// scikit-learn's `mean_absolute_error` in precision `p`.
fn mean_abs_error(p: Precision, a: &[f64], b: &[f64]) -> f64 {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| p.round(y - x).abs()).collect();
    p.mean(&d)
}

/// scikit-learn's `mean_squared_error` in precision `p`.
fn mean_squared_error(p: Precision, a: &[f64], b: &[f64]) -> f64 {
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| {
            let e = p.round(x - y);
            p.round(e * e)
        })
        .collect();
    p.mean(&d)
}

/// scipy's `pearsonr(x, y).statistic` in precision `p`: centred vectors scaled by their
/// max-abs, normalised, dotted; NaN for a constant input, ±1 for two points.
pub fn pearson(p: Precision, x: &[f64], y: &[f64]) -> f64 {
    if p == Precision::F64 {
        return cellcast_stats::correlation::pearson(x, y);
    }
    let n = x.len();
    if n < 2 || x.iter().all(|&v| v == x[0]) || y.iter().all(|&v| v == y[0]) {
        return f64::NAN;
    }
    let unit = |v: &[f64]| -> Vec<f64> {
        let m = p.mean(v);
        let c: Vec<f64> = v.iter().map(|a| p.round(a - m)).collect();
        let max = c.iter().fold(0.0_f64, |a, b| a.max(b.abs()));
        let scaled: Vec<f64> = c.iter().map(|a| p.round(a / max)).collect();
        let sq: Vec<f64> = scaled.iter().map(|a| p.round(a * a)).collect();
        let norm = p.round(max * p.round(p.sum(&sq).sqrt()));
        c.iter().map(|a| p.round(a / norm)).collect()
    };
    let (a, b) = (unit(x), unit(y));
    let prod: Vec<f64> = a.iter().zip(&b).map(|(u, v)| p.round(u * v)).collect();
    let r = p.sum(&prod).clamp(-1.0, 1.0);
    if n == 2 {
        r.round()
    } else {
        r
    }
}
