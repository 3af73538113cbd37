//! The model panel. Every model is a [`Predictor`]: checked hyper-parameters that `fit` on
//! training rows and return a [`Fitted`] model that can only `predict`.
//!
//! - [`MeanResponse`]: the per-target training mean — the baseline the field keeps failing to beat;
//! - [`RetrievalKnn`]: the k most Tanimoto-similar training compounds, averaged (uniform,
//!   similarity or softmax weights), falling back to the mean without a usable neighbour;
//!   [`TunedKnn`] picks k and the kernel on inner folds;
//! - [`RidgeGcv`]: multi-output ridge on log Morgan counts, α by scikit-learn's efficient
//!   leave-one-out CV;
//! - [`Average`]: the equal-weight average of other models; [`Stacked`]: weights fit on inner folds;
//! - for compound–target activity (binary pairs): [`GenePrior`], [`ActiveSimilarity`] (max, top-k
//!   mean, SEA z-score), [`LabelPropagation`] and the [`LogisticStack`] combiner;
//! - [`programs`]: gene programs by NMF (scikit-learn's multiplicative updates, golden);
//! - [`targets`]: target identification (DE scores, reference-based condition rankers), ranking
//!   by the statistics of [`target_statistics`];
//! - [`forest`]: a random forest classifier (scikit-learn's defaults), for target identification;
//! - [`genetic`]: response prediction for unseen genetic perturbations (no change, mean,
//!   additive, Ahlmann-Eltze's low-rank linear model, embedding kNN);
//! - [`NeuralRegressor`]: a deep MLP on the chemistry embedding and a fusion decoder that also
//!   reads neighbour support, each an ensemble of heteroscedastic networks (burn, CPU) whose
//!   [`Fitted::predict_with_std`] gives the ensemble's total predictive standard deviation;
//! - [`pca`]: principal components with reproducible signs.

mod baseline;
pub mod boosting;
// PCA and faer's fixed parallelism live in cellcast-stats (phenomics and eval use them too).
pub use cellcast_stats::{linalg, pca};
pub mod drugseq_synth;
mod ensemble;
mod features;
pub mod forest;
pub mod genetic;
mod inner;
pub mod neural;
mod pairs;
pub mod programs;
mod retrieval;
mod ridge;
pub mod screen_synth;
pub mod synth;
pub mod target_statistics;
pub mod targets;
mod uncertainty;

pub use baseline::{ControlProfile, MeanResponse};
pub use ensemble::{Average, Stacked};
pub use features::Features;
pub use neural::{Architecture, Embedding, FittedNeural, NeighbourPca, NeuralRegressor};
pub use pairs::{logistic_regression, ActiveSimilarity, ActiveStat, GenePrior, LabelPropagation, LogisticStack};
pub use retrieval::{Kernel, RetrievalKnn, TunedKnn};
pub use ridge::{ridge_gcv, GcvPath, RidgeGcv, RidgeInput};
pub use uncertainty::EnsembleMoments;

use cellcast_stats::Matrix;

/// What can stop a fit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("no training rows")]
    NoRows,
    #[error("invalid hyper-parameter: {0}")]
    Parameter(String),
}

/// A model specification that can be fitted.
pub trait Predictor: Send + Sync {
    /// A short, stable name (used in leaderboards): e.g. `knn_k10_tanimoto`.
    fn name(&self) -> String;

    /// Fits on the given rows of `features` with labels `y` (rows × targets, NaN = missing;
    /// `y` has one row per entry of `rows`).
    fn fit(&self, features: &Features, rows: &[usize], y: &Matrix) -> Result<Box<dyn Fitted>, ModelError>;

    /// What the model is, for a run's report: Markdown list items (`- `name`: …`), its own
    /// first, then its members' for an ensemble. A report lists each distinct item once, and only
    /// for the models that ran.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A fitted model.
pub trait Fitted: Send + Sync {
    /// Predictions for the given rows of `features` (rows × targets), all finite.
    fn predict(&self, features: &Features, rows: &[usize]) -> Matrix;

    /// Predictions with a predictive standard deviation per cell (both rows × targets), for
    /// models that estimate their uncertainty; `None` (the default) for those that do not.
    fn predict_with_std(&self, _features: &Features, _rows: &[usize]) -> Option<(Matrix, Matrix)> {
        None
    }

    /// What the fit chose, for reports (e.g. "α = 1000"), if anything.
    fn describe(&self) -> Option<String> {
        None
    }
}

/// Per-target mean of `y` over its non-missing values (0 for a target never observed).
pub(crate) fn column_means(y: &Matrix) -> Vec<f64> {
    let mut sum = vec![0.0; y.ncols()];
    let mut n = vec![0usize; y.ncols()];
    for row in y.rows() {
        for (j, v) in row.iter().enumerate() {
            if !v.is_nan() {
                sum[j] += v;
                n[j] += 1;
            }
        }
    }
    sum.iter().zip(&n).map(|(s, &c)| if c == 0 { 0.0 } else { s / c as f64 }).collect()
}
