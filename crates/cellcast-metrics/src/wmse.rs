//! DEG-weighted mean squared errors: the VCPI contest's (weights used as given) and Mejia et
//! al.'s (weights renormalised per row).

use cellcast_stats::moments::variance;
use cellcast_stats::Matrix;

use crate::error::{invalid, Result};
use crate::inputs::MatrixInputs;
use crate::registry::MetricInfo;
use crate::score::{Breakdown, Score};

/// The contest's fallback weights: per-gene variance of the truth across rows (ddof 0),
/// normalised to sum to 1; uniform when every gene is constant.
pub fn variance_weights(truth: &Matrix) -> Vec<f64> {
    let v: Vec<f64> = (0..truth.ncols())
        .map(|j| {
            let col: Vec<f64> = truth.column(j).into_iter().filter(|x| !x.is_nan()).collect();
            let var = variance(&col, 0);
            if var.is_nan() {
                0.0
            } else {
                var
            }
        })
        .collect();
    let sum: f64 = v.iter().sum();
    if sum > 0.0 {
        v.iter().map(|x| x / sum).collect()
    } else {
        vec![1.0 / truth.ncols() as f64; truth.ncols()]
    }
}

pub(crate) fn score(info: &MetricInfo, x: &MatrixInputs) -> Result<Score> {
    let renormalise = info.name == "mejia/wmse";
    let mut score = Score::new(info.name, info.direction, Breakdown::PerRow);
    let fallback = match x.weights {
        Some(_) => None,
        None => {
            score.warnings.push("no --weights given: using per-gene truth variance weights (ddof 0, normalised), the VCPI scorer's fallback".into());
            Some(variance_weights(x.truth))
        }
    };
    for (i, id) in x.ids.iter().enumerate() {
        let w: &[f64] = match (x.weights, &fallback) {
            (Some(m), _) => m.row(i),
            (None, Some(v)) => v,
            (None, None) => unreachable!(),
        };
        if let Some(j) = w.iter().position(|v| *v < 0.0) {
            return Err(invalid(info.name, format!("weight of '{id}' for '{}' is negative ({})", x.targets[j], w[j])));
        }
        let (t, p) = (x.truth.row(i), x.pred.row(i));
        let value = if renormalise {
            let total: f64 = w.iter().sum();
            if total <= 0.0 {
                return Err(invalid(info.name, format!("weights of '{id}' sum to 0; they cannot be renormalised")));
            }
            t.iter().zip(p).zip(w).map(|((t, p), w)| (w / total) * (p - t) * (p - t)).sum()
        } else {
            t.iter().zip(p).zip(w).map(|((t, p), w)| w * (p - t) * (p - t)).sum()
        };
        score.entries.push((id.clone(), value));
    }
    score.n_scored = score.entries.len();
    score.value = score.entries.iter().map(|(_, v)| v).sum::<f64>() / score.n_scored as f64;
    Ok(score)
}
