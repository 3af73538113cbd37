//! Evaluation: cross-validated scores of a model panel under the official metric and the metrics
//! that disagree with it, a leaderboard with ranks per metric, paired bootstrap intervals, and
//! the calibration of predictive standard deviations.

mod bootstrap;
pub mod calibration;
mod cv;
pub mod genetic_task;
mod panel;

pub use bootstrap::{paired_bootstrap, Comparison};
pub use calibration::{calibrate, Calibration};
pub use cv::{cross_validate, score_out_of_fold, CvResult, ModelCv};
pub use panel::{metric_panel, per_compound, MetricScore, PanelMetric, RowWeights};

/// What can stop an evaluation.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    // The model's error is part of the message, not a `source()`, so a printed chain says it once.
    #[error("model {model}, fold {fold}: {error}")]
    Fit { model: String, fold: usize, error: cellcast_models::ModelError },
    #[error(transparent)]
    Metric(#[from] cellcast_metrics::MetricError),
    #[error("fold {0} has no rows")]
    EmptyFold(usize),
    #[error("{0}")]
    Task(String),
}
