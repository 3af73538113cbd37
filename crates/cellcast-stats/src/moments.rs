//! Means and variances, written the way each reference package computes them.

/// Arithmetic mean; NaN for an empty slice.
pub fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    x.iter().sum::<f64>() / x.len() as f64
}

/// Two-pass variance with `ddof` delta degrees of freedom (numpy's `var(ddof=…)`).
/// NaN when fewer than `ddof + 1` values.
pub fn variance(x: &[f64], ddof: usize) -> f64 {
    if x.len() <= ddof {
        return f64::NAN;
    }
    let m = mean(x);
    let ss: f64 = x.iter().map(|v| (v - m) * (v - m)).sum();
    ss / (x.len() - ddof) as f64
}

/// Median (average of the two middle values for an even count); NaN for an empty slice.
pub fn median(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    let mut v = x.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_of_small_sample() {
        let x = [1.0, 2.0, 4.0, 7.0];
        assert_eq!(mean(&x), 3.5);
        assert_eq!(variance(&x, 0), 5.25);
        assert_eq!(variance(&x, 1), 7.0);
        assert_eq!(median(&x), 3.0);
        assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
        assert!(mean(&[]).is_nan());
        assert!(variance(&[1.0], 1).is_nan());
    }
}
