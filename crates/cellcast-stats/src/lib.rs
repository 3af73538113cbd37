//! Numerical kernels for cellcast.
//!
//! Each function reproduces one reference implementation (named in its docs) to the last few
//! bits, because cellcast's scores must be the numbers the leaderboards compute:
//!
//! - [`special`]: digamma, trigamma, tetragamma, statmod's `logmdigamma`, limma's `trigammaInverse`;
//! - [`limma`]: `fitFDist`, `squeezeVar` and the moderated t of group-vs-control contrasts;
//! - [`correlation`]: scipy's Pearson and Spearman statistics;
//! - [`classification`]: scikit-learn's average precision and ROC AUC;
//! - [`moments`], [`rank`]: means, variances, medians and tie-averaged ranks;
//! - [`rng`]: the seeded generator behind every random step;
//! - [`Matrix`]: the dense row-major matrix the other crates exchange.

pub mod classification;
pub mod correlation;
pub mod limma;
mod matrix;
pub mod moments;
pub mod rank;
pub mod rng;
pub mod special;

pub use matrix::Matrix;
