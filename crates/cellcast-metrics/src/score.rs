//! The result of scoring: an aggregate, its breakdown and anything the user should know.

use crate::registry::Direction;

/// What the breakdown entries are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    /// One score per target column (gene).
    PerTarget,
    /// One score per group (e.g. per compound for grouped `pr_auc`).
    PerGroup,
    /// One score per row id (compound, perturbation, query).
    PerRow,
}

impl Breakdown {
    /// The JSON key the CLI uses for this breakdown.
    pub fn key(self) -> &'static str {
        match self {
            Breakdown::PerTarget => "per_target",
            Breakdown::PerGroup => "per_group",
            Breakdown::PerRow => "per_row",
        }
    }
}

/// A metric's value with its breakdown.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub metric: String,
    /// The aggregate (the number a leaderboard shows); NaN when nothing could be scored.
    pub value: f64,
    pub direction: Direction,
    pub breakdown: Breakdown,
    /// (key, score) in a stable order; NaN marks an entry that was skipped.
    pub entries: Vec<(String, f64)>,
    /// Intermediate quantities worth showing (e.g. the two factors of the Myllia score).
    pub details: Vec<(String, f64)>,
    /// Entries that entered the aggregate, and entries skipped by the metric's rules.
    pub n_scored: usize,
    pub n_skipped: usize,
    /// Missing truth cells left out under the metric's masking policy (0 when it has none).
    pub n_masked: usize,
    pub warnings: Vec<String>,
}

impl Score {
    pub(crate) fn new(metric: &str, direction: Direction, breakdown: Breakdown) -> Self {
        Score {
            metric: metric.to_string(),
            value: f64::NAN,
            direction,
            breakdown,
            entries: Vec::new(),
            details: Vec::new(),
            n_scored: 0,
            n_skipped: 0,
            n_masked: 0,
            warnings: Vec::new(),
        }
    }
}
