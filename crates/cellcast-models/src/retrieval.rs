//! Stage B: nearest training compounds by Tanimoto on Morgan bits.

use cellcast_chem::similarity::{PackedBits, TopK};
use cellcast_chem::BitFingerprint;
use cellcast_stats::Matrix;

use crate::inner::{inner_folds, squared_error};
use crate::{column_means, Features, Fitted, ModelError, Predictor};

/// How neighbours are weighted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kernel {
    Uniform,
    /// Weight = Tanimoto similarity.
    Tanimoto,
    /// Weight = exp(similarity / τ).
    Softmax(f64),
}

impl Kernel {
    fn weight(self, similarity: f64) -> f64 {
        match self {
            Kernel::Uniform => 1.0,
            Kernel::Tanimoto => similarity,
            Kernel::Softmax(tau) => (similarity / tau).exp(),
        }
    }

    fn label(self) -> String {
        match self {
            Kernel::Uniform => "uniform".into(),
            Kernel::Tanimoto => "tanimoto".into(),
            Kernel::Softmax(tau) => format!("softmax{tau}"),
        }
    }

    /// The weighting in words, for reports.
    fn describe(self) -> String {
        match self {
            Kernel::Uniform => "uniform".into(),
            Kernel::Tanimoto => "Tanimoto".into(),
            Kernel::Softmax(tau) => format!("softmax τ = {tau}"),
        }
    }
}

/// k-nearest-neighbour retrieval: the (weighted) mean profile of the k most similar training
/// compounds with similarity > 0; the training mean when there is none (unreadable molecule,
/// or nothing in common with any training compound). Missing labels are skipped per target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetrievalKnn {
    pub k: usize,
    pub kernel: Kernel,
}

impl RetrievalKnn {
    pub fn new(k: usize, kernel: Kernel) -> Result<Self, ModelError> {
        if k == 0 {
            return Err(ModelError::Parameter("k must be at least 1".into()));
        }
        if let Kernel::Softmax(tau) = kernel {
            if !(tau.is_finite() && tau > 0.0) {
                return Err(ModelError::Parameter(format!("softmax temperature must be positive, got {tau}")));
            }
        }
        Ok(RetrievalKnn { k, kernel })
    }
}

struct FittedKnn {
    spec: RetrievalKnn,
    library: PackedBits,
    /// Training row (index into `y`) of each library entry.
    library_rows: Vec<usize>,
    y: Matrix,
    mean: Vec<f64>,
}

impl Predictor for RetrievalKnn {
    fn name(&self) -> String {
        format!("knn_k{}_{}", self.k, self.kernel.label())
    }

    fn notes(&self) -> Vec<String> {
        vec![format!(
            "- `{}`: the mean profile of the {} most similar training compounds (Tanimoto on Morgan r2/2048 bits), with {} weights; a fixed reference for `knn_tuned`.",
            self.name(),
            self.k,
            self.kernel.describe()
        )]
    }

    fn fit(&self, features: &Features, rows: &[usize], y: &Matrix) -> Result<Box<dyn Fitted>, ModelError> {
        Ok(Box::new(self.fit_knn(features, rows, y)?))
    }
}

impl RetrievalKnn {
    fn fit_knn(&self, features: &Features, rows: &[usize], y: &Matrix) -> Result<FittedKnn, ModelError> {
        if rows.is_empty() {
            return Err(ModelError::NoRows);
        }
        let usable: Vec<usize> = (0..rows.len()).filter(|&i| features.morgan[rows[i]].is_some()).collect();
        let fps: Vec<BitFingerprint> =
            usable.iter().map(|&i| features.morgan[rows[i]].clone().expect("filtered")).collect();
        Ok(FittedKnn {
            spec: *self,
            library: PackedBits::new(&fps),
            library_rows: usable,
            y: y.clone(),
            mean: column_means(y),
        })
    }
}

impl FittedKnn {
    /// The up-to-`k` most similar training compounds (row in `y`, similarity > 0) of each row,
    /// most similar first (ties: earlier training row first).
    fn neighbours(&self, features: &Features, rows: &[usize], k: usize) -> Vec<Vec<(usize, f64)>> {
        let with_fp: Vec<usize> = (0..rows.len()).filter(|&i| features.morgan[rows[i]].is_some()).collect();
        let queries: Vec<BitFingerprint> =
            with_fp.iter().map(|&i| features.morgan[rows[i]].clone().expect("filtered")).collect();
        let mut search = TopK::new(&queries, k);
        if !self.library.is_empty() {
            search.feed(&self.library, 0, &|_, _| false);
        }
        let mut neighbours: Vec<Vec<(usize, f64)>> = vec![Vec::new(); rows.len()];
        for (&i, list) in with_fp.iter().zip(search.finish()) {
            neighbours[i] = list
                .iter()
                .filter(|n| n.similarity > 0.0)
                .map(|n| (self.library_rows[n.index], n.similarity))
                .collect();
        }
        neighbours
    }

    /// The kernel-weighted mean label of the first `k` neighbours, per target (the training
    /// mean where no neighbour has the label).
    fn aggregate(&self, neighbours: &[Vec<(usize, f64)>], k: usize, kernel: Kernel) -> Matrix {
        let t = self.mean.len();
        let mut out = Matrix::filled(neighbours.len(), t, 0.0);
        let mut wsum = vec![0.0; t];
        for (i, list) in neighbours.iter().enumerate() {
            // Row-wise accumulation (contiguous label rows) rather than target by target.
            let acc = out.row_mut(i);
            wsum.fill(0.0);
            for &(r, sim) in &list[..k.min(list.len())] {
                let w = kernel.weight(sim);
                for ((a, ws), &v) in acc.iter_mut().zip(wsum.iter_mut()).zip(self.y.row(r)) {
                    if !v.is_nan() {
                        *a += w * v;
                        *ws += w;
                    }
                }
            }
            for ((a, &ws), &m) in acc.iter_mut().zip(&wsum).zip(&self.mean) {
                *a = if ws > 0.0 { *a / ws } else { m };
            }
        }
        out
    }
}

impl Fitted for FittedKnn {
    fn predict(&self, features: &Features, rows: &[usize]) -> Matrix {
        let neighbours = self.neighbours(features, rows, self.spec.k);
        self.aggregate(&neighbours, self.spec.k, self.spec.kernel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_neighbour_copies_its_profile_and_falls_back_to_the_mean() {
        // Train rows 0..3, query rows 3 (shares bits with row 1) and 4 (shares nothing).
        let f = Features::from_bits(&[&[1, 2], &[10, 11], &[20], &[10, 11, 12], &[40]]);
        let y = Matrix::from_rows(&[[0.0, 1.0], [5.0, f64::NAN], [3.0, 3.0]]).unwrap();
        let model = RetrievalKnn::new(1, Kernel::Uniform).unwrap().fit(&f, &[0, 1, 2], &y).unwrap();
        let p = model.predict(&f, &[3, 4]);
        assert_eq!(p.get(0, 0), 5.0);
        // Target 1 of the neighbour is missing: the mean of the observed training values.
        assert_eq!(p.get(0, 1), 2.0);
        assert_eq!(p.row(1), &[8.0 / 3.0, 2.0]);
        assert!(RetrievalKnn::new(0, Kernel::Uniform).is_err());
    }

    #[test]
    fn kernels_weight_by_similarity() {
        let f = Features::from_bits(&[&[1, 2, 3, 4], &[1, 9], &[1, 2, 3]]);
        let y = Matrix::from_rows(&[[10.0], [0.0]]).unwrap();
        // Query row 2: similarity 3/4 to row 0, 1/4 to row 1.
        let sim = RetrievalKnn::new(2, Kernel::Tanimoto).unwrap().fit(&f, &[0, 1], &y).unwrap();
        assert!((sim.predict(&f, &[2]).get(0, 0) - 7.5).abs() < 1e-12);
        let uni = RetrievalKnn::new(2, Kernel::Uniform).unwrap().fit(&f, &[0, 1], &y).unwrap();
        assert_eq!(uni.predict(&f, &[2]).get(0, 0), 5.0);
    }
}

/// kNN whose k and kernel are chosen on inner folds of the training rows (3-fold, whole groups
/// when the features carry them, else seeded random), by pooled mean squared error over the observed labels, then refit on all of them — so the outer
/// cross-validation scores a procedure, not a configuration picked with the test folds' help.
#[derive(Debug, Clone)]
pub struct TunedKnn {
    pub grid: Vec<RetrievalKnn>,
    pub inner_folds: usize,
    pub seed: u64,
}

impl TunedKnn {
    /// The default grid: k ∈ {1, 3, 5, 10, 20, 50} × uniform / Tanimoto / softmax(τ = 0.1).
    pub fn standard(seed: u64) -> Self {
        let mut grid = Vec::new();
        for k in [1, 3, 5, 10, 20, 50] {
            for kernel in [Kernel::Uniform, Kernel::Tanimoto, Kernel::Softmax(0.1)] {
                grid.push(RetrievalKnn { k, kernel });
            }
        }
        TunedKnn { grid, inner_folds: 3, seed }
    }
}

impl Predictor for TunedKnn {
    fn name(&self) -> String {
        "knn_tuned".into()
    }

    fn notes(&self) -> Vec<String> {
        let mut ks: Vec<usize> = self.grid.iter().map(|m| m.k).collect();
        ks.sort_unstable();
        ks.dedup();
        let mut kernels: Vec<String> = Vec::new();
        for m in &self.grid {
            let d = m.kernel.describe();
            if !kernels.contains(&d) {
                kernels.push(d);
            }
        }
        let ks: Vec<String> = ks.iter().map(ToString::to_string).collect();
        vec![format!(
            "- `knn_tuned`: Tanimoto kNN on Morgan r2/2048 bits, k ∈ {{{}}} and the kernel ({}) chosen on inner {}-fold CV of each training fold (scaffold groups under a scaffold split).",
            ks.join(", "),
            kernels.join(", "),
            self.inner_folds
        )]
    }

    fn fit(&self, features: &Features, rows: &[usize], y: &Matrix) -> Result<Box<dyn Fitted>, ModelError> {
        if self.grid.is_empty() {
            return Err(ModelError::Parameter("empty kNN grid".into()));
        }
        // One neighbour search per inner fold at the largest k serves every grid point: the
        // top-k list is a prefix of the top-k_max list.
        let best = match inner_folds(features, rows, self.inner_folds, self.seed) {
            None => self.grid[0],
            Some((fold_of, folds)) => {
                let k_max = self.grid.iter().map(|s| s.k).max().expect("non-empty grid");
                let mut oof = vec![Matrix::filled(y.nrows(), y.ncols(), 0.0); self.grid.len()];
                for f in 0..folds {
                    let inner_train: Vec<usize> = (0..rows.len()).filter(|&i| fold_of[i] != f).collect();
                    let inner_test: Vec<usize> = (0..rows.len()).filter(|&i| fold_of[i] == f).collect();
                    let train_rows: Vec<usize> = inner_train.iter().map(|&i| rows[i]).collect();
                    let test_rows: Vec<usize> = inner_test.iter().map(|&i| rows[i]).collect();
                    let library = RetrievalKnn { k: k_max, kernel: Kernel::Uniform }.fit_knn(
                        features,
                        &train_rows,
                        &y.select_rows(&inner_train),
                    )?;
                    let neighbours = library.neighbours(features, &test_rows, k_max);
                    for (spec, oof) in self.grid.iter().zip(&mut oof) {
                        let pred = library.aggregate(&neighbours, spec.k, spec.kernel);
                        for (r, &i) in inner_test.iter().enumerate() {
                            oof.row_mut(i).copy_from_slice(pred.row(r));
                        }
                    }
                }
                let losses: Vec<f64> = oof.iter().map(|p| squared_error(y, p)).collect();
                let g = (0..self.grid.len()).min_by(|&a, &b| losses[a].total_cmp(&losses[b])).expect("non-empty grid");
                self.grid[g]
            }
        };
        best.fit(features, rows, y)
    }
}
