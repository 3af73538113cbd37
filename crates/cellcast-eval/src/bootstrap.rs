//! Paired bootstrap over compounds: is model A really better than model B?

use cellcast_stats::rng::SplitMix64;

/// A paired bootstrap comparison of two models' mean per-compound losses (or scores).
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// mean(a) − mean(b) on the original rows.
    pub difference: f64,
    /// 95 % percentile interval of the resampled differences.
    pub ci_low: f64,
    pub ci_high: f64,
    /// Two-sided bootstrap p-value for "no difference": twice the share of resamples on the far
    /// side of 0, never below 1/resamples (at that floor no resample crossed 0: the p-value is
    /// below the bootstrap's resolution, not 0).
    pub p_value: f64,
    pub resamples: usize,
}

/// Resamples compounds with replacement (`resamples` times, seeded) and reports the difference
/// of the means of `a` and `b` (per-compound values of the two models on the same compounds).
pub fn paired_bootstrap(a: &[f64], b: &[f64], resamples: usize, seed: u64) -> Comparison {
    assert_eq!(a.len(), b.len(), "paired values");
    let n = a.len();
    if n == 0 || resamples == 0 {
        // Nothing to resample: no interval and no test, rather than a made-up one.
        let difference = if n == 0 { f64::NAN } else { a.iter().zip(b).map(|(x, y)| x - y).sum::<f64>() / n as f64 };
        return Comparison { difference, ci_low: f64::NAN, ci_high: f64::NAN, p_value: f64::NAN, resamples };
    }
    let diffs: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let difference = diffs.iter().sum::<f64>() / n as f64;
    let mut rng = SplitMix64::new(seed);
    let mut samples: Vec<f64> =
        (0..resamples).map(|_| (0..n).map(|_| diffs[rng.below(n as u64) as usize]).sum::<f64>() / n as f64).collect();
    samples.sort_by(f64::total_cmp);
    let quantile = |q: f64| samples[((q * (resamples - 1) as f64).round() as usize).min(resamples - 1)];
    let below = samples.iter().filter(|&&d| d <= 0.0).count() as f64 / resamples as f64;
    let above = samples.iter().filter(|&&d| d >= 0.0).count() as f64 / resamples as f64;
    Comparison {
        difference,
        ci_low: quantile(0.025),
        ci_high: quantile(0.975),
        p_value: (2.0 * below.min(above)).clamp(1.0 / resamples as f64, 1.0),
        resamples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_and_null_differences() {
        let a: Vec<f64> = (0..200).map(|i| 1.0 + (i % 7) as f64 * 0.01).collect();
        let b: Vec<f64> = a.iter().map(|x| x + 0.5).collect();
        let c = paired_bootstrap(&a, &b, 1000, 1);
        assert!((c.difference + 0.5).abs() < 1e-12);
        assert!(c.ci_high < 0.0 && c.p_value < 0.01);
        assert_eq!(c.p_value, 0.001, "no resample crosses 0: p at the resolution, not 0");
        let same = paired_bootstrap(&a, &a, 1000, 1);
        assert_eq!(same.difference, 0.0);
        assert_eq!(same.p_value, 1.0);
        assert_eq!(c, paired_bootstrap(&a, &b, 1000, 1), "same seed, same result");
        // No resamples or no rows: no interval, no panic.
        let none = paired_bootstrap(&a, &b, 0, 1);
        assert!((none.difference + 0.5).abs() < 1e-12 && none.ci_low.is_nan() && none.p_value.is_nan());
        assert!(paired_bootstrap(&[], &[], 100, 1).difference.is_nan());
    }
}
