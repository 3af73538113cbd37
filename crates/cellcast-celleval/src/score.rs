//! `cell-eval score`: a model's mean metrics normalised against a baseline's
//! (`cell_eval/_score.py::score_agg_metrics`).
//!
//! Metrics whose best value is 0 (mae, mse, …) score `1 − user / base`; those whose best is 1
//! score `(user − base) / (1 − base)`; NaN becomes 0 and negatives are clipped to 0.
//! `avg_score` is the mean of these scores. Columns with no baseline comparison
//! (`de_nsig_counts_*`) are left out. Rows: the best-0 metrics, then the best-1 metrics, each in
//! column order, then `avg_score`.

use crate::profile::{best_of_column, Best};

/// One row of `score.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRow {
    pub metric: String,
    pub from_baseline: f64,
}

/// Scores the user's per-column means against the baseline's (same columns, same order).
pub fn score_against_baseline(columns: &[String], user: &[Option<f64>], base: &[Option<f64>]) -> Vec<ScoreRow> {
    let value = |v: Option<f64>| v.unwrap_or(f64::NAN);
    let mut rows = Vec::new();
    for best in [Best::Zero, Best::One] {
        for (k, c) in columns.iter().enumerate() {
            if best_of_column(c) != best {
                continue;
            }
            let (u, b) = (value(user[k]), value(base[k]));
            let s = match best {
                Best::Zero => 1.0 - u / b,
                _ => (u - b) / (1.0 - b),
            };
            let s = if s.is_nan() { 0.0 } else { s.max(0.0) };
            rows.push(ScoreRow { metric: c.clone(), from_baseline: s });
        }
    }
    let avg = rows.iter().map(|r| r.from_baseline).sum::<f64>() / rows.len() as f64;
    rows.push(ScoreRow { metric: "avg_score".into(), from_baseline: avg });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcc_score() {
        let cols: Vec<String> = ["overlap_at_N", "mae", "discrimination_score_l1"].map(String::from).to_vec();
        let rows =
            score_against_baseline(&cols, &[Some(0.3), Some(0.1), Some(0.8)], &[Some(0.2), Some(0.2), Some(0.9)]);
        let names: Vec<&str> = rows.iter().map(|r| r.metric.as_str()).collect();
        assert_eq!(names, ["mae", "overlap_at_N", "discrimination_score_l1", "avg_score"]);
        assert_eq!(rows[0].from_baseline, 0.5);
        assert!((rows[1].from_baseline - 0.125).abs() < 1e-15);
        assert_eq!(rows[2].from_baseline, 0.0); // worse than baseline: clipped
        assert!((rows[3].from_baseline - 0.625 / 3.0).abs() < 1e-15);
    }
}
