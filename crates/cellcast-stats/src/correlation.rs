//! Pearson and Spearman correlation as scipy computes them (`.statistic`).

use crate::moments::mean;
use crate::rank::average_ranks;

/// scipy.stats.pearsonr's statistic.
///
/// Like scipy: two points give ±1 exactly (the sign of the slope, 0 if flat); a constant input
/// gives NaN; the result is clipped to [−1, 1]. Fewer than two points give NaN (scipy raises).
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(x.len(), y.len(), "pearson: lengths differ");
    let n = x.len();
    if n < 2 {
        return f64::NAN;
    }
    if x.iter().all(|&v| v == x[0]) || y.iter().all(|&v| v == y[0]) {
        return f64::NAN;
    }
    if n == 2 {
        return ((x[1] - x[0]).signum() * (y[1] - y[0]).signum()).clamp(-1.0, 1.0);
    }
    let (mx, my) = (mean(x), mean(y));
    // scipy scales the centred vectors by their max-abs before taking norms, which keeps the
    // norms finite for extreme magnitudes; we do the same so results agree to the last bits.
    let xm: Vec<f64> = x.iter().map(|v| v - mx).collect();
    let ym: Vec<f64> = y.iter().map(|v| v - my).collect();
    let xmax = xm.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
    let ymax = ym.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
    let xs: Vec<f64> = xm.iter().map(|v| v / xmax).collect();
    let ys: Vec<f64> = ym.iter().map(|v| v / ymax).collect();
    let nx = xs.iter().map(|v| v * v).sum::<f64>().sqrt();
    let ny = ys.iter().map(|v| v * v).sum::<f64>().sqrt();
    let r: f64 = xs.iter().zip(&ys).map(|(a, b)| (a / nx) * (b / ny)).sum();
    r.clamp(-1.0, 1.0)
}

/// scipy.stats.spearmanr's statistic: Pearson correlation of average ranks; NaN when either
/// input is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(x.len(), y.len(), "spearman: lengths differ");
    if x.len() < 2 {
        return f64::NAN;
    }
    let rx = average_ranks(x);
    let ry = average_ranks(y);
    let (mx, my) = (mean(&rx), mean(&ry));
    let mut sxy = 0.0;
    let mut sxx = 0.0;
    let mut syy = 0.0;
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    (sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_inverse_correlation() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert!((pearson(&x, &[2.0, 4.0, 6.0, 8.0]) - 1.0).abs() < 1e-15);
        assert!((pearson(&x, &[8.0, 6.0, 4.0, 2.0]) + 1.0).abs() < 1e-15);
        assert!((spearman(&x, &[1.0, 10.0, 100.0, 1000.0]) - 1.0).abs() < 1e-15);
        assert!(pearson(&x, &[1.0, 1.0, 1.0, 1.0]).is_nan());
        assert_eq!(pearson(&[0.0, 1.0], &[3.0, 2.0]), -1.0);
    }
}
