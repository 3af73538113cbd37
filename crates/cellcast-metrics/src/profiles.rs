//! Metrics on whole response profiles, the counterweights `cellcast run` scores beside each
//! official per-target metric (no benchmark's official score): the mean over rows of the Pearson
//! correlation or the cosine between the true and the predicted profile, and the
//! inverse-variance-weighted MSE many papers optimise instead of a DEG-weighted one.

use cellcast_stats::correlation;
use cellcast_stats::Matrix;

use crate::error::Result;
use crate::inputs::MatrixInputs;
use crate::params::Params;
use crate::registry::MetricInfo;
use crate::score::{Breakdown, Score};

/// Mean over rows of the Pearson r of the profiles (missing truth cells dropped from the row).
pub(crate) fn pearson(info: &MetricInfo, x: &MatrixInputs, _: &Params) -> Result<Score> {
    Ok(mean_over_rows(info, x, correlation::pearson))
}

/// Mean over rows of the cosine of the profiles (missing truth cells dropped from the row).
pub(crate) fn cosine(info: &MetricInfo, x: &MatrixInputs, _: &Params) -> Result<Score> {
    Ok(mean_over_rows(info, x, row_cosine))
}

/// Per-gene MSE weighted by 1 / the gene's truth variance over the scored rows, averaged over
/// rows: smooth predictions that get the noisy low-variance genes right win it.
pub(crate) fn inverse_variance_mse(info: &MetricInfo, x: &MatrixInputs, _: &Params) -> Result<Score> {
    let w = inverse_variance_weights(x.truth);
    let mut score = Score::new(info.name, info.direction, Breakdown::PerRow);
    for (id, (t, p)) in x.ids.iter().zip(x.truth.rows().zip(x.pred.rows())) {
        let error = t.iter().zip(p).zip(&w).filter(|((t, _), _)| !t.is_nan()).map(|((t, p), w)| w * (p - t) * (p - t));
        score.entries.push((id.clone(), error.sum()));
    }
    score.value = score.entries.iter().map(|(_, v)| v).sum::<f64>() / score.entries.len() as f64;
    score.n_scored = score.entries.len();
    Ok(score)
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

/// Mean of `f(truth row, pred row)` over the rows where it is defined (NaN truth cells dropped
/// first); rows where it is not are skipped.
fn mean_over_rows(info: &MetricInfo, x: &MatrixInputs, f: fn(&[f64], &[f64]) -> f64) -> Score {
    let mut score = Score::new(info.name, info.direction, Breakdown::PerRow);
    let (mut sum, mut n) = (0.0, 0usize);
    for (id, (t, p)) in x.ids.iter().zip(x.truth.rows().zip(x.pred.rows())) {
        let (tt, pp): (Vec<f64>, Vec<f64>) =
            t.iter().zip(p).filter(|(a, _)| !a.is_nan()).map(|(a, b)| (*a, *b)).unzip();
        let v = f(&tt, &pp);
        if !v.is_nan() {
            sum += v;
            n += 1;
        }
        score.entries.push((id.clone(), v));
    }
    score.value = if n == 0 { f64::NAN } else { sum / n as f64 };
    score.n_scored = n;
    score.n_skipped = x.ids.len() - n;
    if score.n_skipped > 0 {
        score
            .warnings
            .push(format!("{} row(s) with an undefined value (a constant or empty profile) skipped", score.n_skipped));
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{resolve, score, Inputs, MatrixInputs};

    #[test]
    fn profile_metrics() {
        assert!((row_cosine(&[1.0, 0.0], &[1.0, 1.0]) - 1.0 / 2f64.sqrt()).abs() < 1e-15);
        assert!(row_cosine(&[0.0, 0.0], &[1.0, 1.0]).is_nan());
        let t = Matrix::from_rows(&[[1.0, 2.0, 3.0], [1.0, f64::NAN, 0.0]]).unwrap();
        let p = Matrix::from_rows(&[[2.0, 4.0, 6.0], [3.0, 9.0, 1.0]]).unwrap();
        let ids = vec!["a".to_string(), "b".to_string()];
        let genes = vec!["g1".to_string(), "g2".to_string(), "g3".to_string()];
        let inputs = MatrixInputs { ids: &ids, targets: &genes, truth: &t, pred: &p, weights: None, baseline: None };
        let run = |name: &str| {
            let (info, params) = resolve(name, &Params::default()).unwrap();
            score(info, Inputs::Matrix(inputs), &params).unwrap()
        };
        // Row b keeps two cells: the Pearson of two points is ±1.
        assert!((run("per_compound_pearson").value - 1.0).abs() < 1e-12);
        let cos = run("per_compound_cosine");
        assert!((cos.entries[1].1 - 3.0 / 10f64.sqrt()).abs() < 1e-12, "{:?}", cos.entries);
        // Variances (ddof 0): g1 0, g2 0 (one cell), g3 2.25 → all the weight on g3.
        let ivm = run("proxy/inverse_variance_mse");
        assert_eq!(ivm.entries, vec![("a".to_string(), 9.0), ("b".to_string(), 1.0)]);
        assert_eq!(ivm.value, 5.0);
    }
}
