//! Numerical kernels for cellcast.
//!
//! Each function reproduces one reference implementation (named in its docs) to the last few
//! bits, because cellcast's scores must be the numbers the leaderboards compute:
//!
//! - [`special`]: digamma, trigamma, tetragamma, statmod's `logmdigamma`, limma's `trigammaInverse`,
//!   and the normal and Student t tails scipy's tests use;
//! - [`limma`]: `fitFDist`, `squeezeVar` and the moderated t of group-vs-control contrasts;
//! - [`de`]: scanpy's `rank_genes_groups` of every group against a control (Welch t-test,
//!   Wilcoxon rank-sum with or without tie correction, Benjamini–Hochberg), on sparse or dense cells;
//! - [`correlation`]: scipy's Pearson and Spearman statistics;
//! - [`classification`]: scikit-learn's average precision and ROC AUC;
//! - [`cluster`]: cell-eval's `clustering_agreement` (scanpy's kNN graph, igraph's Leiden with
//!   its random stream, scikit-learn's adjusted mutual information);
//! - [`moments`], [`rank`]: means, variances, medians and tie-averaged ranks;
//! - [`rng`]: the seeded generator behind every random step;
//! - [`folds`]: scikit-learn's `KFold(shuffle=True)` layout and `GroupKFold` assignment;
//! - [`pca`]: principal components with reproducible signs, on faer at a fixed degree of
//!   parallelism ([`linalg`]) so results do not depend on the thread count;
//! - [`Matrix`]: the dense row-major matrix the other crates exchange; [`sparse::CsrMatrix`] its
//!   sparse (CSR) counterpart.

pub mod classification;
pub mod cluster;
pub mod correlation;
pub mod de;
pub mod folds;
pub mod limma;
pub mod linalg;
mod matrix;
pub mod moments;
pub mod pca;
pub mod rank;
pub mod rng;
pub mod sort;
pub mod sparse;
pub mod special;

pub use matrix::Matrix;
