//! cell-eval 0.8.2's `clustering_agreement` metric (`ClusteringAgreement` in
//! `cell_eval/metrics/_anndata.py`), reproduced step for step:
//!
//! 1. per-perturbation centroids (the caller's rows, sorted perturbation order, control dropped);
//! 2. for each side, scanpy's `pp.neighbors(n_neighbors=min(15, n - 1), use_rep="X")`
//!    ([`knn_connectivities`]);
//! 3. Leiden on the real centroids at resolution 1 and on the predicted ones at 0.2 … 2.0
//!    (scanpy's `tl.leiden(flavor="igraph", n_iterations=2)`, seed 0; [`leiden`]);
//! 4. the best of scikit-learn's `adjusted_mutual_info_score` over the predicted resolutions,
//!    starting from 0 ([`adjusted_mutual_info`]).

mod knn_graph;
mod leiden;
mod mutual_info;
mod numpy_random;
mod openblas;

pub use knn_graph::{euclidean_kneighbors, knn_connectivities, Connectivities};
pub use leiden::leiden;
pub use mutual_info::adjusted_mutual_info;

use crate::Matrix;

/// Leiden resolution of the real centroids.
pub const REAL_RESOLUTION: f64 = 1.0;
/// Leiden resolutions swept on the predicted centroids.
pub const PRED_RESOLUTIONS: [f64; 7] = [0.2, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0];
/// Neighbourhood size cell-eval asks scanpy for (capped at n − 1).
pub const N_NEIGHBORS: usize = 15;
/// Largest row count for which scanpy (euclidean metric) computes exact neighbours.
pub const EXACT_KNN_MAX_ROWS: usize = 8191;
/// scanpy's default `random_state` for Leiden.
pub const LEIDEN_SEED: u32 = 0;
/// scikit-learn's OpenMP thread count in the reference runs: cell-eval run normally (no
/// `OMP_NUM_THREADS`) on the 2-core machine the fixtures come from. It only decides the order of
/// exactly tied neighbours beyond 256 perturbations (scikit-learn's chunk size), through the
/// ArgKmin strategy and its per-thread heaps; the distances themselves do not depend on it (the
/// BLAS calls run single-threaded).
pub const REFERENCE_THREADS: usize = 2;

/// Inputs on which cell-eval's metric raises instead of returning a value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "clustering_agreement needs at least 3 perturbations besides the control, got {n}; \
         cell-eval raises here ({reference})"
    )]
    TooFewPerturbations { n: usize, reference: &'static str },
    #[error("real and predicted centroids differ in shape ({real_rows}x{real_cols} vs {pred_rows}x{pred_cols})")]
    ShapeMismatch { real_rows: usize, real_cols: usize, pred_rows: usize, pred_cols: usize },
    #[error(
        "centroids have no features ({n_rows} rows); cell-eval's kNN (scikit-learn's input check) raises ValueError"
    )]
    NoFeatures { n_rows: usize },
    #[error(
        "centroids contain NaN or infinite values; cell-eval's kNN (scikit-learn's input check) raises ValueError"
    )]
    NonFinite,
    #[error(
        "{n} perturbations: from {EXACT_KNN_MAX_ROWS} + 1 rows scanpy's neighbours come from \
         pynndescent (approximate, randomised), which cellcast does not reproduce"
    )]
    ApproximateNeighbors { n: usize },
    #[error("n_neighbors must be in 2..={max}, got {n_neighbors}", max = n_rows.saturating_sub(1))]
    InvalidNeighbors { n_neighbors: usize, n_rows: usize },
}

/// Every intermediate of the metric, for inspection and tests.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusteringAgreementDetail {
    /// Leiden labels of the real centroids (resolution 1).
    pub real_labels: Vec<usize>,
    /// Leiden labels of the predicted centroids, one vector per entry of [`PRED_RESOLUTIONS`].
    pub pred_labels: Vec<Vec<usize>>,
    /// AMI of the real labels with each predicted labeling.
    pub ami: Vec<f64>,
    /// max(0, max AMI): the metric.
    pub value: f64,
}

/// cell-eval's `clustering_agreement` of real and predicted per-perturbation centroids (rows =
/// perturbations in sorted order, control excluded, same order in both).
pub fn clustering_agreement(real_centroids: &Matrix, pred_centroids: &Matrix) -> Result<f64, ClusterError> {
    clustering_agreement_detail(real_centroids, pred_centroids).map(|d| d.value)
}

/// [`clustering_agreement`] with its intermediates.
pub fn clustering_agreement_detail(
    real_centroids: &Matrix,
    pred_centroids: &Matrix,
) -> Result<ClusteringAgreementDetail, ClusterError> {
    clustering_agreement_detail_with_threads(real_centroids, pred_centroids, REFERENCE_THREADS)
}

/// [`clustering_agreement_detail`] as cell-eval computes it with scikit-learn on
/// `sklearn_threads` OpenMP threads (e.g. 1 under `OMP_NUM_THREADS=1`); see [`REFERENCE_THREADS`].
pub fn clustering_agreement_detail_with_threads(
    real_centroids: &Matrix,
    pred_centroids: &Matrix,
    sklearn_threads: usize,
) -> Result<ClusteringAgreementDetail, ClusterError> {
    let (real, pred) = (real_centroids, pred_centroids);
    if real.nrows() != pred.nrows() || real.ncols() != pred.ncols() {
        return Err(ClusterError::ShapeMismatch {
            real_rows: real.nrows(),
            real_cols: real.ncols(),
            pred_rows: pred.nrows(),
            pred_cols: pred.ncols(),
        });
    }
    let n = real.nrows();
    match n {
        0 | 1 => {
            return Err(ClusterError::TooFewPerturbations {
                n,
                reference: "scikit-learn's KNeighborsTransformer rejects n_neighbors = n - 1 < 1 \
                            with InvalidParameterError",
            })
        }
        2 => {
            return Err(ClusterError::TooFewPerturbations {
                n,
                reference: "with one neighbour, which is the point itself, scanpy's neighbor matrix \
                            has no column left and numpy raises ValueError: Maximum allowed size exceeded",
            })
        }
        _ => {}
    }
    knn_graph::check_input(real)?;
    knn_graph::check_input(pred)?;
    let k = N_NEIGHBORS.min(n - 1);
    let real_conn = knn_connectivities(real, k, sklearn_threads)?;
    let pred_conn = knn_connectivities(pred, k, sklearn_threads)?;
    let real_labels = leiden(&real_conn, REAL_RESOLUTION, LEIDEN_SEED);
    let mut pred_labels = Vec::with_capacity(PRED_RESOLUTIONS.len());
    let mut ami = Vec::with_capacity(PRED_RESOLUTIONS.len());
    let mut value = 0.0f64;
    for &r in &PRED_RESOLUTIONS {
        let labels = leiden(&pred_conn, r, LEIDEN_SEED);
        let s = adjusted_mutual_info(&real_labels, &labels);
        // Python's max(best, s): keeps best unless s is strictly greater.
        if s > value {
            value = s;
        }
        ami.push(s);
        pred_labels.push(labels);
    }
    Ok(ClusteringAgreementDetail { real_labels, pred_labels, ami, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(rows: &[&[f64]]) -> Matrix {
        Matrix::from_rows(rows).unwrap()
    }

    #[test]
    fn too_few_perturbations_is_cell_evals_error() {
        let one = m(&[&[1.0, 2.0]]);
        let two = m(&[&[1.0, 2.0], &[3.0, 4.0]]);
        assert!(matches!(clustering_agreement(&one, &one), Err(ClusterError::TooFewPerturbations { n: 1, .. })));
        assert!(matches!(clustering_agreement(&two, &two), Err(ClusterError::TooFewPerturbations { n: 2, .. })));
        let empty = Matrix::filled(0, 3, 0.0);
        assert!(matches!(clustering_agreement(&empty, &empty), Err(ClusterError::TooFewPerturbations { n: 0, .. })));
    }

    #[test]
    fn bad_inputs_are_errors() {
        let a = m(&[&[1.0, 2.0], &[3.0, 4.0], &[5.0, 7.0]]);
        let b = m(&[&[1.0, 2.0], &[3.0, 4.0]]);
        assert!(matches!(clustering_agreement(&a, &b), Err(ClusterError::ShapeMismatch { .. })));
        let nan = m(&[&[1.0, f64::NAN], &[3.0, 4.0], &[5.0, 7.0]]);
        assert_eq!(clustering_agreement(&a, &nan), Err(ClusterError::NonFinite));
        let none = Matrix::filled(3, 0, 0.0);
        assert!(matches!(clustering_agreement(&none, &none), Err(ClusterError::NoFeatures { .. })));
        assert!(matches!(knn_connectivities(&a, 3, REFERENCE_THREADS), Err(ClusterError::InvalidNeighbors { .. })));
        assert!(matches!(knn_connectivities(&a, 1, REFERENCE_THREADS), Err(ClusterError::InvalidNeighbors { .. })));
    }

    #[test]
    fn degenerate_rows_give_a_value() {
        let same = Matrix::filled(5, 2, 1.0);
        let zero = Matrix::filled(5, 2, 0.0);
        let real = m(&[&[0.0, 0.0], &[0.1, 0.0], &[5.0, 5.0], &[5.1, 5.0], &[9.0, 0.0]]);
        for (a, b) in [(&same, &same), (&real, &zero), (&zero, &real), (&real, &same)] {
            let v = clustering_agreement(a, b).unwrap();
            assert!((0.0..=1.0).contains(&v), "{v}");
        }
    }
}
