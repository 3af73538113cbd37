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
pub use cv::{cross_validate, CvResult, ModelCv};
pub use panel::{inverse_variance_weights, row_cosine, MetricScore, PanelMetric, RowWeights};

/// What can stop an evaluation.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("model {model}, fold {fold}: {source}")]
    Fit { model: String, fold: usize, source: cellcast_models::ModelError },
    #[error("{0}")]
    Metric(#[from] cellcast_metrics::MetricError),
    #[error("fold {0} has no rows")]
    EmptyFold(usize),
    #[error("{0}")]
    Task(String),
}
