//! Principal component analysis (of Cell Painting wells in the phenomics pipeline, of cells in
//! target identification). Centred on the global mean, one faer thin SVD of the centred rows;
//! each component's sign is fixed (its largest-|loading| entry positive), so the same input always
//! gives the same scores, whatever the SVD routine's own sign convention.

use faer::Mat;

use crate::Matrix;

/// Why a PCA cannot be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PcaError {
    #[error("cannot keep {requested} PCA components: at most {max} (min of rows − 1 and dimensions), at least 1")]
    Components { requested: usize, max: usize },
    #[error("PCA failed: {0}")]
    Svd(String),
}

type Result<T> = std::result::Result<T, PcaError>;

/// A fitted PCA.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    /// Mean of every input dimension over the wells it was fitted on.
    pub mean: Vec<f64>,
    /// Components × input dimensions; each row a unit loading vector.
    pub components: Matrix,
    /// Variance of the wells along each component (ddof 1, as scikit-learn reports it), descending.
    pub explained_variance: Vec<f64>,
    /// Total variance of the wells (ddof 1), for the explained fraction.
    pub total_variance: f64,
}

impl Pca {
    /// Fits `n_components` components on the rows of `x` (wells × dimensions).
    pub fn fit(x: &Matrix, n_components: usize) -> Result<Self> {
        crate::linalg::fixed_parallelism();
        let (n, d) = (x.nrows(), x.ncols());
        let max = d.min(n.saturating_sub(1));
        if n_components == 0 || n_components > max {
            return Err(PcaError::Components { requested: n_components, max });
        }
        let mean = column_means(x);
        let centred = Mat::<f64>::from_fn(n, d, |i, j| x.get(i, j) - mean[j]);
        let (s, v) = singular_values_and_right_vectors(&centred)?;
        let mut components = Matrix::filled(n_components, d, 0.0);
        for k in 0..n_components {
            let loading: Vec<f64> = (0..d).map(|j| v[(j, k)]).collect();
            // The first entry of largest magnitude decides the sign.
            let anchor = (0..d).fold(0, |best, j| if loading[j].abs() > loading[best].abs() { j } else { best });
            let sign = if loading[anchor] < 0.0 { -1.0 } else { 1.0 };
            for (c, l) in components.row_mut(k).iter_mut().zip(&loading) {
                *c = sign * l;
            }
        }
        let dof = (n - 1) as f64;
        let explained_variance = (0..n_components).map(|k| s[k] * s[k] / dof).collect();
        let total_variance = (0..d).map(|j| (0..n).map(|i| centred[(i, j)].powi(2)).sum::<f64>()).sum::<f64>() / dof;
        Ok(Pca { mean, components, explained_variance, total_variance })
    }

    /// The fraction of the total variance the kept components explain.
    pub fn explained_fraction(&self) -> f64 {
        if self.total_variance > 0.0 {
            self.explained_variance.iter().sum::<f64>() / self.total_variance
        } else {
            1.0
        }
    }

    /// Scores of the rows of `x` (wells × input dimensions) on the components.
    pub fn transform(&self, x: &Matrix) -> Matrix {
        crate::linalg::fixed_parallelism();
        let (n, d, k) = (x.nrows(), x.ncols(), self.components.nrows());
        assert_eq!(d, self.mean.len(), "PCA: input has {d} dimensions, the fit had {}", self.mean.len());
        let centred = Mat::<f64>::from_fn(n, d, |i, j| x.get(i, j) - self.mean[j]);
        let loadings = Mat::<f64>::from_fn(d, k, |j, c| self.components.get(c, j));
        let scores = centred * loadings;
        let mut out = Matrix::filled(n, k, 0.0);
        for i in 0..n {
            for (c, value) in out.row_mut(i).iter_mut().enumerate() {
                *value = scores[(i, c)];
            }
        }
        out
    }
}

/// The thin SVD's singular values and right singular vectors (dimensions × min(wells,
/// dimensions)) — faer's thin SVD without the left vectors, which would be as large as the input.
fn singular_values_and_right_vectors(a: &Mat<f64>) -> Result<(Vec<f64>, Mat<f64>)> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::svd::{svd, svd_scratch, ComputeSvdVectors};

    let (m, n) = a.shape();
    let size = m.min(n);
    let par = faer::get_global_parallelism();
    let mut s = faer::Col::<f64>::zeros(size);
    let mut v = Mat::<f64>::zeros(n, size);
    let scratch = svd_scratch::<f64>(m, n, ComputeSvdVectors::No, ComputeSvdVectors::Thin, par, Default::default());
    svd(
        a.as_ref(),
        s.as_diagonal_mut(),
        None,
        Some(v.as_mut()),
        par,
        MemStack::new(&mut MemBuffer::new(scratch)),
        Default::default(),
    )
    .map_err(|e| PcaError::Svd(format!("{e:?}")))?;
    Ok(((0..size).map(|k| s[k]).collect(), v))
}

/// Mean of each column.
pub fn column_means(x: &Matrix) -> Vec<f64> {
    let mut sums = vec![0.0; x.ncols()];
    for row in x.rows() {
        for (s, v) in sums.iter_mut().zip(row) {
            *s += v;
        }
    }
    let n = x.nrows().max(1) as f64;
    sums.into_iter().map(|s| s / n).collect()
}

#[cfg(test)]
mod tests {
    use crate::rng::SplitMix64;

    use super::*;

    /// 200 wells in 6 dimensions: variance 25 along `a`, 4 along `b`, tiny noise elsewhere, plus
    /// an offset that centring must remove.
    fn planted(seed: u64) -> (Matrix, Vec<f64>, Vec<f64>) {
        let a = [0.6, 0.0, -0.8, 0.0, 0.0, 0.0];
        let b = [0.0, 0.0, 0.0, 0.0, 0.0, -1.0];
        let mut rng = SplitMix64::new(seed);
        let rows: Vec<Vec<f64>> = (0..200)
            .map(|_| {
                let (za, zb) = (5.0 * rng.normal(), 2.0 * rng.normal());
                (0..6).map(|j| 10.0 + za * a[j] + zb * b[j] + 1e-3 * rng.normal()).collect()
            })
            .collect();
        (Matrix::from_rows(&rows).unwrap(), a.to_vec(), b.to_vec())
    }

    fn dot(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn recovers_a_planted_low_rank_structure_in_variance_order() {
        let (x, a, b) = planted(3);
        let pca = Pca::fit(&x, 3).unwrap();
        // The first two components are the planted directions (up to sign, fixed below, and up to
        // the small rotation that the sample correlation of 200 draws allows).
        assert!(dot(pca.components.row(0), &a).abs() > 0.998, "{:?}", pca.components.row(0));
        assert!(dot(pca.components.row(1), &b).abs() > 0.998, "{:?}", pca.components.row(1));
        // Together they span the planted plane: the third component is orthogonal to both.
        assert!(dot(pca.components.row(2), &a).abs() < 1e-3 && dot(pca.components.row(2), &b).abs() < 1e-3);
        // Variances in order, near the planted 25 and 4, and the third is the 1e-3 noise.
        let ev = &pca.explained_variance;
        assert!(ev[0] > ev[1] && ev[1] > ev[2]);
        assert!((ev[0] / 25.0 - 1.0).abs() < 0.25 && (ev[1] / 4.0 - 1.0).abs() < 0.25, "{ev:?}");
        assert!(ev[2] < 1e-5, "{ev:?}");
        assert!(pca.explained_fraction() > 0.999_999);
        // Sign rule: the largest-|loading| entry is positive (−0.8 of `a` becomes +0.8).
        assert!(pca.components.get(0, 2) > 0.79 && pca.components.get(1, 5) > 0.99);
        // Scores: centred, with the component's variance, uncorrelated.
        let scores = pca.transform(&x);
        let means = column_means(&scores);
        assert!(means.iter().all(|m| m.abs() < 1e-9), "{means:?}");
        let var0 = scores.column(0).iter().map(|v| v * v).sum::<f64>() / 199.0;
        assert!((var0 - ev[0]).abs() < 1e-9 * ev[0]);
        assert!(dot(&scores.column(0), &scores.column(1)).abs() < 1e-8 * 199.0 * ev[0]);
    }

    #[test]
    fn same_input_same_components_and_bounds_are_checked() {
        let (x, _, _) = planted(5);
        assert_eq!(Pca::fit(&x, 2).unwrap(), Pca::fit(&x, 2).unwrap());
        assert!(matches!(Pca::fit(&x, 0), Err(PcaError::Components { max: 6, .. })));
        assert!(matches!(Pca::fit(&x, 7), Err(PcaError::Components { requested: 7, max: 6 })));
        let two = Matrix::from_rows(&[[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]]).unwrap();
        assert!(matches!(Pca::fit(&two, 2), Err(PcaError::Components { max: 1, .. })));
    }
}
