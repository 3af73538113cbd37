//! Gene programs: non-negative matrix factorisation X ≈ W·H (compounds × k, k × genes) by
//! multiplicative updates, reproducing scikit-learn's
//! `NMF(n_components=k, init="nndsvda", solver="mu", beta_loss="frobenius", tol, max_iter)`
//! step for step (same initialisation, same update order, same ε guards, same stopping rule),
//! so a program found here is the program a scikit-learn user would find.
//!
//! NNDSVD needs the leading k singular triplets. scikit-learn takes them from a randomized SVD;
//! here they come from an exact thin SVD. The two agree whenever the randomized one is exact
//! (k + 10 oversamples ≥ the smaller dimension, as in the golden fixtures) and otherwise differ
//! by its approximation error only; NNDSVD itself does not depend on the SVD's signs.

use faer::Mat;

use crate::ModelError;
use cellcast_stats::Matrix;

/// scikit-learn's guard against a zero denominator (`np.finfo(np.float32).eps`).
const DENOMINATOR_FLOOR: f64 = f32::EPSILON as f64;

/// How to factorise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NmfOptions {
    pub components: usize,
    /// Iteration cap (scikit-learn's default 200).
    pub max_iter: usize,
    /// Relative decrease of the error, checked every 10 iterations, below which the fit stops
    /// (scikit-learn's default 1e-4; 0 runs all `max_iter` iterations).
    pub tol: f64,
}

impl NmfOptions {
    pub fn new(components: usize) -> Self {
        Self { components, max_iter: 200, tol: 1e-4 }
    }
}

/// A fitted factorisation.
#[derive(Debug, Clone)]
pub struct Nmf {
    /// Rows × components: how much of each program each row carries.
    pub w: Matrix,
    /// Components × columns: each program's loading on each column (gene).
    pub h: Matrix,
    pub iterations: usize,
    /// ‖X − WH‖_F (scikit-learn's `reconstruction_err_`).
    pub error: f64,
}

impl Nmf {
    /// Each program's share of the reconstruction: ‖w_j h_jᵀ‖²_F over the sum of these terms.
    pub fn shares(&self) -> Vec<f64> {
        let k = self.h.nrows();
        let energy: Vec<f64> = (0..k)
            .map(|j| {
                let w2: f64 = (0..self.w.nrows()).map(|i| self.w.get(i, j).powi(2)).sum();
                let h2: f64 = self.h.row(j).iter().map(|v| v * v).sum();
                w2 * h2
            })
            .collect();
        let total: f64 = energy.iter().sum();
        energy.iter().map(|e| if total > 0.0 { e / total } else { 0.0 }).collect()
    }

    /// The same factorisation with programs ordered by decreasing share.
    pub fn sorted_by_share(self) -> Self {
        let shares = self.shares();
        let mut order: Vec<usize> = (0..shares.len()).collect();
        order.sort_by(|&a, &b| shares[b].total_cmp(&shares[a]).then(a.cmp(&b)));
        let mut w = Matrix::filled(self.w.nrows(), order.len(), 0.0);
        let mut h = Matrix::filled(order.len(), self.h.ncols(), 0.0);
        for (new, &old) in order.iter().enumerate() {
            for i in 0..self.w.nrows() {
                w.row_mut(i)[new] = self.w.get(i, old);
            }
            h.row_mut(new).copy_from_slice(self.h.row(old));
        }
        Self { w, h, ..self }
    }

    /// The `n` columns with the largest loadings on program `j`, best first (ties by index).
    pub fn top_columns(&self, j: usize, n: usize) -> Vec<usize> {
        let row = self.h.row(j);
        let mut order: Vec<usize> = (0..row.len()).collect();
        order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
        order.truncate(n);
        order
    }
}

/// Factorises a non-negative matrix.
pub fn nmf(x: &Matrix, options: &NmfOptions) -> Result<Nmf, ModelError> {
    crate::linalg::fixed_parallelism();
    let (n, m) = (x.nrows(), x.ncols());
    let k = options.components;
    if k == 0 || k > n.min(m) {
        return Err(ModelError::Parameter(format!(
            "NMF needs 1 ≤ components ≤ min(rows, columns) = {}, got {k}",
            n.min(m)
        )));
    }
    if let Some(pos) = x.as_slice().iter().position(|v| !v.is_finite() || *v < 0.0) {
        return Err(ModelError::Parameter(format!(
            "NMF needs finite non-negative values; row {}, column {} is {}",
            pos / m,
            pos % m,
            x.as_slice()[pos]
        )));
    }
    let xm = Mat::<f64>::from_fn(n, m, |i, j| x.get(i, j));
    let (mut w, mut h) = nndsvda(&xm, k)?;
    let error_at_init = frobenius_error(&xm, &w, &h);
    let mut previous = error_at_init;
    let mut iterations = 0;
    for it in 1..=options.max_iter {
        iterations = it;
        // W ← W ∘ (X Hᵀ) / (W H Hᵀ)
        let numerator = &xm * h.transpose();
        let denominator = &w * (&h * h.transpose());
        multiply_by_ratio(&mut w, &numerator, &denominator);
        // H ← H ∘ (Wᵀ X) / (Wᵀ W H)
        let numerator = w.transpose() * &xm;
        let denominator = (w.transpose() * &w) * &h;
        multiply_by_ratio(&mut h, &numerator, &denominator);
        if options.tol > 0.0 && it % 10 == 0 {
            let error = frobenius_error(&xm, &w, &h);
            if (previous - error) / error_at_init < options.tol {
                break;
            }
            previous = error;
        }
    }
    let error = frobenius_error(&xm, &w, &h);
    let to_matrix = |a: &Mat<f64>| {
        let mut out = Matrix::filled(a.nrows(), a.ncols(), 0.0);
        for i in 0..a.nrows() {
            for (j, cell) in out.row_mut(i).iter_mut().enumerate() {
                *cell = a[(i, j)];
            }
        }
        out
    };
    Ok(Nmf { w: to_matrix(&w), h: to_matrix(&h), iterations, error })
}

/// `target ∘= numerator / denominator`, with scikit-learn's floor on exact-zero denominators.
fn multiply_by_ratio(target: &mut Mat<f64>, numerator: &Mat<f64>, denominator: &Mat<f64>) {
    for j in 0..target.ncols() {
        for i in 0..target.nrows() {
            let d = denominator[(i, j)];
            target[(i, j)] *= numerator[(i, j)] / if d == 0.0 { DENOMINATOR_FLOOR } else { d };
        }
    }
}

fn frobenius_error(x: &Mat<f64>, w: &Mat<f64>, h: &Mat<f64>) -> f64 {
    let wh = w * h;
    let mut sum = 0.0;
    for j in 0..x.ncols() {
        for i in 0..x.nrows() {
            sum += (x[(i, j)] - wh[(i, j)]).powi(2);
        }
    }
    sum.sqrt()
}

/// NNDSVD (Boutsidis & Gallopoulos 2008) with zeros replaced by the mean of X, as scikit-learn's
/// `init="nndsvda"`: the leading singular pair as is (absolute values), every other pair split
/// into its positive and negative parts, keeping the part with the larger norm product.
fn nndsvda(x: &Mat<f64>, k: usize) -> Result<(Mat<f64>, Mat<f64>), ModelError> {
    let (n, m) = (x.nrows(), x.ncols());
    let svd = x.thin_svd().map_err(|e| ModelError::Parameter(format!("SVD failed: {e:?}")))?;
    let (u, s, v) = (svd.U(), svd.S().column_vector(), svd.V());
    let mut w = Mat::<f64>::zeros(n, k);
    let mut h = Mat::<f64>::zeros(k, m);
    for i in 0..n {
        w[(i, 0)] = s[0].sqrt() * u[(i, 0)].abs();
    }
    for j in 0..m {
        h[(0, j)] = s[0].sqrt() * v[(j, 0)].abs();
    }
    let norm = |values: &mut dyn Iterator<Item = f64>| values.map(|t| t * t).sum::<f64>().sqrt();
    for c in 1..k {
        let x_pos = norm(&mut (0..n).map(|i| u[(i, c)].max(0.0)));
        let y_pos = norm(&mut (0..m).map(|j| v[(j, c)].max(0.0)));
        let x_neg = norm(&mut (0..n).map(|i| (-u[(i, c)]).max(0.0)));
        let y_neg = norm(&mut (0..m).map(|j| (-v[(j, c)]).max(0.0)));
        let (positive, sigma) =
            if x_pos * y_pos > x_neg * y_neg { (true, x_pos * y_pos) } else { (false, x_neg * y_neg) };
        let lambda = (s[c] * sigma).sqrt();
        let part = |t: f64| if positive { t.max(0.0) } else { (-t).max(0.0) };
        let (x_norm, y_norm) = if positive { (x_pos, y_pos) } else { (x_neg, y_neg) };
        for i in 0..n {
            w[(i, c)] = lambda * part(u[(i, c)]) / x_norm;
        }
        for j in 0..m {
            h[(c, j)] = lambda * part(v[(j, c)]) / y_norm;
        }
    }
    let mut total = 0.0;
    for j in 0..m {
        for i in 0..n {
            total += x[(i, j)];
        }
    }
    let mean = total / (n * m) as f64;
    // scikit-learn zeroes entries below 1e-6 (and NaNs from a zero-norm part), then fills zeros
    // with the mean.
    let fill = |t: f64| if t < 1e-6 || t.is_nan() { mean } else { t };
    for j in 0..k {
        for i in 0..n {
            w[(i, j)] = fill(w[(i, j)]);
        }
        for c in 0..m {
            h[(j, c)] = fill(h[(j, c)]);
        }
    }
    Ok((w, h))
}

/// The elbow of an error curve (errors for k = 1, 2, …): the point farthest from the straight
/// line joining the first and last points (the "kneedle" rule). Returns the chosen k.
pub fn elbow(errors: &[f64]) -> usize {
    if errors.len() < 3 {
        return errors.len().max(1);
    }
    let last = errors.len() - 1;
    let (x0, y0, x1, y1) = (0.0, errors[0], last as f64, errors[last]);
    let length = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt();
    let distance = |i: usize| ((y1 - y0) * i as f64 - (x1 - x0) * errors[i] + x1 * y0 - y1 * x0).abs() / length;
    1 + (0..=last).max_by(|&a, &b| distance(a).total_cmp(&distance(b)).then(b.cmp(&a))).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exact_low_rank_nonnegative_matrix_is_reconstructed() {
        // X = W·H with two disjoint programs.
        let w = [[1.0, 0.0], [2.0, 0.5], [0.0, 1.0], [1.0, 1.0], [3.0, 0.0]];
        let h = [[1.0, 2.0, 0.0, 0.0, 1.0], [0.0, 0.0, 3.0, 1.0, 0.0]];
        let rows: Vec<Vec<f64>> =
            w.iter().map(|wr| (0..5).map(|j| wr[0] * h[0][j] + wr[1] * h[1][j]).collect()).collect();
        let x = Matrix::from_rows(&rows).unwrap();
        let fit = nmf(&x, &NmfOptions { components: 2, max_iter: 2000, tol: 0.0 }).unwrap();
        // Multiplicative updates converge slowly near the optimum: ask for 0.1 % of ‖X‖.
        let norm = x.as_slice().iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!(fit.error < 1e-3 * norm, "error {} of {norm}", fit.error);
        // One program loads on genes {0, 1, 4}, the other on {2, 3}.
        let mut tops: Vec<Vec<usize>> = (0..2).map(|j| fit.top_columns(j, 2)).collect();
        tops.sort();
        assert_eq!(tops, vec![vec![1, 0], vec![2, 3]]);
        let shares = fit.shares();
        assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let sorted = fit.clone().sorted_by_share();
        let sorted_shares = sorted.shares();
        assert!(sorted_shares[0] >= sorted_shares[1]);
        assert!((sorted.error - fit.error).abs() < 1e-15);
        assert!((sorted_shares[0] - shares.iter().cloned().fold(0.0, f64::max)).abs() < 1e-12);
    }

    #[test]
    fn bad_input_is_refused() {
        let x = Matrix::from_rows(&[[1.0, -1.0], [0.0, 2.0]]).unwrap();
        assert!(matches!(nmf(&x, &NmfOptions::new(1)), Err(ModelError::Parameter(m)) if m.contains("row 0, column 1")));
        let x = Matrix::from_rows(&[[1.0, 1.0], [0.0, 2.0]]).unwrap();
        assert!(nmf(&x, &NmfOptions::new(3)).is_err());
        assert!(nmf(&x, &NmfOptions::new(0)).is_err());
    }

    #[test]
    fn elbow_finds_the_bend() {
        assert_eq!(elbow(&[10.0, 4.0, 3.5, 3.2, 3.0]), 2);
        assert_eq!(elbow(&[10.0, 9.0, 8.0, 2.0, 1.9, 1.8]), 4);
    }
}
