//! Inputs to a metric, already aligned by id and column (reading files is `cellcast-data`'s job).

use cellcast_stats::Matrix;

/// Truth and prediction matrices with the same rows (`ids`) and columns (`targets`), in the
/// same order. Truth may hold NaN (missing); prediction, weights and baseline may not.
#[derive(Debug, Clone, Copy)]
pub struct MatrixInputs<'a> {
    pub ids: &'a [String],
    pub targets: &'a [String],
    pub truth: &'a Matrix,
    pub pred: &'a Matrix,
    pub weights: Option<&'a Matrix>,
    pub baseline: Option<&'a Matrix>,
}

/// Binary labels (truth, 0/1 or NaN for missing) and scores, one column per label, rows
/// aligned; optional group of each row (`None` = no group, dropped as pandas does).
#[derive(Debug, Clone, Copy)]
pub struct LabelInputs<'a> {
    pub ids: &'a [String],
    pub label_names: &'a [String],
    pub truth: &'a Matrix,
    pub scores: &'a Matrix,
    pub groups: Option<&'a [Option<String>]>,
}

/// Per query: the true target genes and a score for every candidate gene.
#[derive(Debug, Clone, Copy)]
pub struct RankingInputs<'a> {
    pub ids: &'a [String],
    pub candidates: &'a [String],
    pub targets: &'a [Vec<String>],
    pub scores: &'a Matrix,
}

/// The inputs of any metric.
#[derive(Debug, Clone, Copy)]
pub enum Inputs<'a> {
    Matrix(MatrixInputs<'a>),
    Labels(LabelInputs<'a>),
    Ranking(RankingInputs<'a>),
}
