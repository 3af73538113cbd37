use std::path::PathBuf;

use cellcast_data::DataError;

/// Everything that can stop the phenomics pipeline. Input errors name the file, the row (1-based,
/// header excluded), the perturbation and the column, so a user can go straight to the bad cell.
#[derive(Debug, thiserror::Error)]
pub enum PhenomicsError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("{path}: row {row} ({id_column} '{id}'), column '{column}': {message}")]
    BadCell { path: PathBuf, row: usize, id_column: &'static str, id: String, column: String, message: String },
    #[error("{path}: {message}")]
    BadTable { path: PathBuf, message: String },
    #[error("the embeddings hold no {0} wells; the pipeline needs compound and gene wells")]
    NoWells(&'static str),
    #[error(
        "batch '{batch}' has {controls} control well(s); control normalisation needs at least 2 per \
         batch (add controls, merge batches, or turn it off with --no-control-norm)"
    )]
    TooFewControls { batch: String, controls: usize },
    #[error(
        "batch '{batch}': the control wells do not vary along {dimension} (standard deviation {sd:e}), \
         so it cannot be scaled on them; drop that column, keep fewer PCA components, or turn \
         control normalisation off (--no-control-norm)"
    )]
    ConstantOnControls { batch: String, dimension: String, sd: f64 },
    #[error(transparent)]
    Pca(#[from] cellcast_stats::pca::PcaError),
    #[error("the generator's parameters are invalid: {0}")]
    Parameter(String),
}

pub type Result<T> = std::result::Result<T, PhenomicsError>;
