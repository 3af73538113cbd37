//! The cellcast scorer registry.
//!
//! Every official metric of the benchmarks cellcast serves, each exact against its reference
//! implementation (see `cellcast metrics` for the sources), plus the weight builders that feed
//! the weighted metrics. Inputs arrive aligned ([`Inputs`]); reading and aligning files is
//! `cellcast-data`'s job.
//!
//! ```
//! use cellcast_metrics::{resolve, score, Inputs, MatrixInputs, Params};
//! use cellcast_stats::Matrix;
//!
//! let ids = vec!["a".to_string(), "b".to_string()];
//! let genes = vec!["g1".to_string()];
//! let truth = Matrix::from_rows(&[[1.0], [3.0]]).unwrap();
//! let pred = Matrix::from_rows(&[[2.0], [3.0]]).unwrap();
//! let (info, params) = resolve("polaris/mean_squared_error", &Params::default()).unwrap();
//! let inputs = MatrixInputs { ids: &ids, targets: &genes, truth: &truth, pred: &pred, weights: None, baseline: None };
//! let s = score(info, Inputs::Matrix(inputs), &params).unwrap();
//! assert_eq!(s.value, 0.5);
//! ```

pub mod celleval;
mod check;
mod error;
mod inputs;
mod myllia;
mod params;
mod polaris;
mod profiles;
mod ranking;
mod registry;
mod score;
pub mod weights;
mod wmse;

pub use error::{MetricError, NonFiniteCell, Result};
pub use inputs::{Inputs, LabelInputs, MatrixInputs, RankingInputs};
pub use params::Params;
pub use profiles::{inverse_variance_weights, row_cosine};
pub use registry::{
    metrics, resolve, Direction, InputKind, MetricInfo, MissingTruth, ParamKind, ParamSpec, Scorer, Use, RANKING_TIES,
};
pub use score::{Breakdown, Score};
pub use wmse::variance_weights;

/// Splits a `targets` cell ("GENE_A;GENE_B") into gene names, dropping blanks.
pub fn parse_targets(cell: &str) -> Vec<String> {
    cell.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// Scores `inputs` with the metric `info` (from [`resolve`]).
///
/// Every metric follows one policy for values that are not finite numbers (checked here, before
/// the metric runs): predictions, scores, weights and baselines must be finite; infinite truth
/// is an error; a missing (NaN) truth cell is an error unless the metric's reference masks it
/// ([`MissingTruth::Masked`]), and then the masked cells are counted in [`Score::n_masked`] and
/// named in a warning.
pub fn score(info: &MetricInfo, inputs: Inputs, params: &Params) -> Result<Score> {
    info.check_params(params)?;
    let mismatch = || MetricError::Invalid {
        metric: info.name.to_string(),
        message: format!("expects {:?} inputs", info.input()),
    };
    let kind_matches = matches!(
        (info.scorer, inputs),
        (Scorer::Matrix(_), Inputs::Matrix(_))
            | (Scorer::Labels(_), Inputs::Labels(_))
            | (Scorer::Ranking(_), Inputs::Ranking(_))
    );
    if !kind_matches {
        return Err(mismatch());
    }
    let rows = match inputs {
        Inputs::Matrix(x) => x.ids.len(),
        Inputs::Labels(x) => x.ids.len(),
        Inputs::Ranking(x) => x.ids.len(),
    };
    if rows == 0 {
        return Err(MetricError::Invalid {
            metric: info.name.to_string(),
            message: "the truth has no row: there is nothing to score".into(),
        });
    }
    let masked = check::finite_inputs(info, &inputs)?;
    let mut s = match (info.scorer, inputs) {
        (Scorer::Matrix(f), Inputs::Matrix(x)) => f(info, &x, params),
        (Scorer::Labels(f), Inputs::Labels(x)) => f(info, &x, params),
        (Scorer::Ranking(f), Inputs::Ranking(x)) => f(info, &x, params),
        _ => Err(mismatch()),
    }?;
    s.metric = info.display_name(params);
    s.n_masked = masked;
    if let (MissingTruth::Masked(how), true) = (info.missing_truth, masked > 0) {
        s.warnings.insert(0, format!("{masked} missing truth cell(s) {how}"));
    }
    Ok(s)
}
