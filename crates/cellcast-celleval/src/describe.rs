//! The per-perturbation results table and its summary, as cell-eval builds them with polars:
//! `results.csv` (one row per perturbation, one column per metric) and `agg_results.csv`
//! (polars' `describe()`).

/// One metric column: a value per perturbation, `None` where the metric gave none (cell-eval
/// writes an empty cell there).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricColumn {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// The statistics of `agg_results.csv`, in order.
pub const STATISTICS: [&str; 9] = ["count", "null_count", "mean", "std", "min", "25%", "50%", "75%", "max"];

/// polars' `describe()` of one column: count (non-null, NaN included), null count, mean and
/// standard deviation (ddof 1; NaN if any NaN, none below two values), min and max ignoring NaN
/// (NaN only if all are), and the 25/50/75% quantiles with polars' "nearest" rule — the value at
/// index round((n − 1)·q) of the sorted non-null values, NaN sorting last.
pub fn describe(values: &[Option<f64>]) -> [Option<f64>; 9] {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let n = present.len();
    let nulls = (values.len() - n) as f64;
    if n == 0 {
        return [Some(0.0), Some(nulls), None, None, None, None, None, None, None];
    }
    let mean = present.iter().sum::<f64>() / n as f64;
    let std = (n > 1).then(|| {
        let ss: f64 = present.iter().map(|v| (v - mean) * (v - mean)).sum();
        (ss / (n - 1) as f64).sqrt()
    });
    let finite: Vec<f64> = present.iter().copied().filter(|v| !v.is_nan()).collect();
    let (min, max) = if finite.is_empty() {
        (f64::NAN, f64::NAN)
    } else {
        (finite.iter().copied().fold(f64::INFINITY, f64::min), finite.iter().copied().fold(f64::NEG_INFINITY, f64::max))
    };
    let mut sorted = present.clone();
    sorted.sort_by(f64::total_cmp);
    // total_cmp puts negative NaN first; polars sorts every NaN last.
    sorted.sort_by_key(|v| v.is_nan());
    let quantile = |q: f64| sorted[(((n - 1) as f64) * q).round() as usize];
    [
        Some(n as f64),
        Some(nulls),
        Some(mean),
        std,
        Some(min),
        Some(quantile(0.25)),
        Some(quantile(0.5)),
        Some(quantile(0.75)),
        Some(max),
    ]
}

/// A value as polars writes a Float64 CSV cell: shortest round-trip digits, `1.0` for whole
/// numbers, `NaN`, `inf`, empty for null.
pub fn format_value(v: Option<f64>) -> String {
    match v {
        None => String::new(),
        Some(v) => format!("{v:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_follows_polars() {
        // polars 2.1: describe() of [1.0, NaN, 3.0, null, 2.0].
        let d = describe(&[Some(1.0), Some(f64::NAN), Some(3.0), None, Some(2.0)]);
        assert_eq!(d[0], Some(4.0));
        assert_eq!(d[1], Some(1.0));
        assert!(d[2].unwrap().is_nan() && d[3].unwrap().is_nan());
        assert_eq!(&d[4..], &[Some(1.0), Some(2.0), Some(3.0), Some(3.0), Some(3.0)]);
        // [1, 2, 3]: nearest rounds half away from zero (25% → index 1).
        let d = describe(&[Some(1.0), Some(2.0), Some(3.0)]);
        assert_eq!(&d[2..], &[Some(2.0), Some(1.0), Some(1.0), Some(2.0), Some(2.0), Some(3.0), Some(3.0)]);
        // One value: no standard deviation.
        assert_eq!(describe(&[Some(2.0)])[3], None);
        assert_eq!(describe(&[None])[..3], [Some(0.0), Some(1.0), None]);
    }

    #[test]
    fn values_are_written_as_polars_writes_them() {
        assert_eq!(format_value(Some(1.0)), "1.0");
        assert_eq!(format_value(Some(1e-10)), "1e-10");
        assert_eq!(format_value(Some(0.1)), "0.1");
        assert_eq!(format_value(Some(f64::NAN)), "NaN");
        assert_eq!(format_value(Some(f64::INFINITY)), "inf");
        assert_eq!(format_value(None), "");
    }
}
