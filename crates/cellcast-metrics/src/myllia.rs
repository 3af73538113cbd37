//! The Kaggle "Echoes of Silenced Genes" host metric (`relative-wmae-multiplied-by-wcosine`):
//! Σ over perturbations of min(log2(baseline WMAE / WMAE), max_log2), times the non-negative
//! part of a smoothstep-gated weighted cosine, rounded to 5 decimals.

use crate::error::{invalid, MetricError, Result};
use crate::inputs::MatrixInputs;
use crate::params::Params;
use crate::registry::MetricInfo;
use crate::score::{Breakdown, Score};

/// The host metric's constants, overridable with `--param`.
#[derive(Debug, Clone, Copy)]
struct Constants {
    cos_left: f64,
    cos_right: f64,
    max_log2: f64,
    eps: f64,
}

/// Mean over genes of w·|truth − pred| (numpy's `mean(|err|·w, axis=1)`).
fn wmae(truth: &[f64], pred: &[f64], w: &[f64]) -> f64 {
    let sum: f64 = truth.iter().zip(pred).zip(w).map(|((t, p), w)| (t - p).abs() * w).sum();
    sum / truth.len() as f64
}

/// The gated weighted cosine over all cells, symmetric in `a` and `b`.
fn gated_cosine(a: &[f64], b: &[f64], c: Constants) -> f64 {
    let (mut num, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let m = x.abs().max(y.abs());
        let t = ((m - c.cos_left) / (c.cos_right - c.cos_left)).clamp(0.0, 1.0);
        let g = t * t * (3.0 - 2.0 * t);
        let g2 = g * g;
        num += g2 * x * y;
        aa += g2 * x * x;
        bb += g2 * y * y;
    }
    let den = aa.sqrt() * bb.sqrt();
    if den < c.eps {
        0.0
    } else {
        num / den
    }
}

/// Python's `round(x, 5)`: correctly rounded, ties to even (Rust's formatting is exact too).
fn round5(x: f64) -> f64 {
    format!("{x:.5}").parse().unwrap_or(x)
}

pub(crate) fn score(info: &MetricInfo, x: &MatrixInputs, params: &Params) -> Result<Score> {
    let missing = |what: &str| MetricError::MissingInput { metric: info.name.to_string(), what: what.to_string() };
    let weights = x.weights.ok_or_else(|| {
        missing(
            "--weights FILE (per-gene weights, each row summing to the number of genes; see `cellcast weights myllia`)",
        )
    })?;
    let baseline = x.baseline.ok_or_else(|| {
        missing("--baseline FILE (the baseline prediction, usually the mean training log-fold-change)")
    })?;
    let c = Constants {
        cos_left: params.get_f64("cos_left", 0.0),
        cos_right: params.get_f64("cos_right", 0.2),
        max_log2: params.get_f64("max_log2", 5.0),
        eps: params.get_f64("eps", 1e-12),
    };
    if c.cos_right <= c.cos_left {
        return Err(MetricError::BadParam {
            metric: info.name.into(),
            key: "cos_right".into(),
            value: c.cos_right.to_string(),
            expected: format!("greater than cos_left ({})", c.cos_left),
        });
    }
    let n = x.targets.len() as f64;
    for (i, w) in weights.rows().enumerate() {
        if let Some(j) = w.iter().position(|v| *v < 0.0) {
            return Err(invalid(
                info.name,
                format!("weight of '{}' for gene '{}' is negative ({})", x.ids[i], x.targets[j], w[j]),
            ));
        }
        let sum: f64 = w.iter().sum();
        if (sum - n).abs() > 1e-6 {
            return Err(invalid(
                info.name,
                format!("weights of '{}' sum to {sum}, not to the number of genes ({n}); rebuild them with `cellcast weights myllia`", x.ids[i]),
            ));
        }
    }
    let mut score = Score::new(info.name, info.direction, Breakdown::PerRow);
    let mut total = 0.0;
    for (i, id) in x.ids.iter().enumerate() {
        let (t, w) = (x.truth.row(i), weights.row(i));
        let pred_wmae = wmae(t, x.pred.row(i), w).max(c.eps);
        let base_wmae = wmae(t, baseline.row(i), w).max(c.eps);
        let term = (base_wmae / pred_wmae).log2().min(c.max_log2);
        total += term;
        score.entries.push((id.clone(), term));
    }
    let cosine = gated_cosine(x.pred.as_slice(), x.truth.as_slice(), c);
    let raw = total * cosine.max(0.0);
    score.value = round5(raw);
    score.n_scored = x.ids.len();
    score.details =
        vec![("sum_log2_wmae_ratio".into(), total), ("weighted_cosine".into(), cosine), ("unrounded".into(), raw)];
    Ok(score)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_pythons() {
        assert_eq!(round5(2.811_134_9), 2.81113);
        assert_eq!(round5(0.015625), 0.01562); // an exact binary tie: half to even, as Python
        assert_eq!(round5(-7.654_321), -7.65432);
    }
}
