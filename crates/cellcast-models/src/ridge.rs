//! Ridge regression with the penalty chosen by efficient leave-one-out (generalised)
//! cross-validation, as scikit-learn's `RidgeCV(alphas, fit_intercept=True)` does in its
//! `gcv_mode="eigen"` (n_samples ≤ n_features): one eigendecomposition of the centred Gram matrix
//! K = XcXcᵀ serves every α, the intercept is not penalised, and α minimises the mean squared
//! leave-one-out error over all samples and targets (one α shared by the targets).
//!
//! With K = Q diag(λ) Qᵀ and Z = QᵀYc, for each α:
//!   residual R = Q diag(α/(λ+α)) Z,   hat diagonal h_i = 1/n + Σ_k Q_ik² λ_k/(λ_k+α),
//!   leave-one-out error E_i = R_i / (1 − h_i).
//! The dual coefficients C = Q diag(1/(λ+α)) Z give β = XcᵀC and the intercept ȳ − x̄ᵀβ.

use faer::{Mat, Side};

use cellcast_stats::Matrix;

use crate::{column_means, Features, Fitted, ModelError, Predictor};

/// Which features a ridge model reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RidgeInput {
    /// log(1 + count) of each Morgan r2/2048 count.
    MorganCountsLog1p,
}

/// Ridge regression with α chosen by leave-one-out CV over `alphas`.
#[derive(Debug, Clone, PartialEq)]
pub struct RidgeGcv {
    pub alphas: Vec<f64>,
    pub input: RidgeInput,
}

impl RidgeGcv {
    /// α ∈ {10⁻¹, 10⁻⁰·⁵, …, 10⁶}: wide enough for 2,048 log-count features.
    pub fn standard() -> Self {
        RidgeGcv {
            alphas: (0..=14).map(|k| 10f64.powf(-1.0 + 0.5 * k as f64)).collect(),
            input: RidgeInput::MorganCountsLog1p,
        }
    }
}

/// The dense design matrix of `rows` (rows × features).
fn design(features: &Features, rows: &[usize], input: RidgeInput) -> Mat<f64> {
    match input {
        RidgeInput::MorganCountsLog1p => {
            let p = features.count_bits as usize;
            let mut x = Mat::<f64>::zeros(rows.len(), p);
            for (i, &r) in rows.iter().enumerate() {
                if let Some(c) = &features.morgan_counts[r] {
                    for &(j, n) in c.entries() {
                        x[(i, j as usize)] = f64::from(n).ln_1p();
                    }
                }
            }
            x
        }
    }
}

/// The result of the leave-one-out search: the chosen α and every α's mean squared LOO error.
#[derive(Debug, Clone, PartialEq)]
pub struct GcvPath {
    pub alpha: f64,
    pub loo_mse: Vec<f64>,
}

/// Fitted ridge: y = x·β + intercept.
pub struct FittedRidge {
    input: RidgeInput,
    beta: Mat<f64>,
    intercept: Vec<f64>,
    path: GcvPath,
}

/// Solves ridge with GCV on a dense design `x` (n × p) and labels `y` (n × T, complete).
pub fn ridge_gcv(x: &Mat<f64>, y: &Matrix, alphas: &[f64]) -> Result<(Mat<f64>, Vec<f64>, GcvPath), ModelError> {
    let (n, p, t) = (x.nrows(), x.ncols(), y.ncols());
    if n < 2 {
        return Err(ModelError::NoRows);
    }
    if alphas.is_empty() || alphas.iter().any(|a| !(a.is_finite() && *a > 0.0)) {
        return Err(ModelError::Parameter("alphas must be positive and finite".into()));
    }
    let x_mean: Vec<f64> = (0..p).map(|j| (0..n).map(|i| x[(i, j)]).sum::<f64>() / n as f64).collect();
    let y_mean = column_means(y);
    let xc = Mat::<f64>::from_fn(n, p, |i, j| x[(i, j)] - x_mean[j]);
    let yc = Mat::<f64>::from_fn(n, t, |i, j| y.get(i, j) - y_mean[j]);
    let gram = &xc * xc.transpose();
    let evd = gram
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| ModelError::Parameter(format!("eigendecomposition failed: {e:?}")))?;
    let q = evd.U();
    let lambda: Vec<f64> = (0..n).map(|k| evd.S().column_vector()[k].max(0.0)).collect();
    let z = q.transpose() * &yc;
    let q_sq = Mat::<f64>::from_fn(n, n, |i, k| q[(i, k)] * q[(i, k)]);

    let mut loo_mse = Vec::with_capacity(alphas.len());
    for &alpha in alphas {
        let scaled = Mat::<f64>::from_fn(n, t, |k, j| z[(k, j)] * alpha / (lambda[k] + alpha));
        let residual = q * &scaled;
        let shrink: Vec<f64> = lambda.iter().map(|l| l / (l + alpha)).collect();
        let mut total = 0.0;
        for i in 0..n {
            let h = 1.0 / n as f64 + (0..n).map(|k| q_sq[(i, k)] * shrink[k]).sum::<f64>();
            let denom = 1.0 - h;
            for j in 0..t {
                let e = residual[(i, j)] / denom;
                total += e * e;
            }
        }
        loo_mse.push(total / (n * t) as f64);
    }
    // scikit-learn keeps the first α among equal errors.
    let best = (0..alphas.len()).fold(0, |b, k| if loo_mse[k] < loo_mse[b] { k } else { b });
    let alpha = alphas[best];
    let dual = Mat::<f64>::from_fn(n, t, |k, j| z[(k, j)] / (lambda[k] + alpha));
    let c = q * &dual;
    let beta = xc.transpose() * &c;
    let intercept = (0..t).map(|j| y_mean[j] - (0..p).map(|f| x_mean[f] * beta[(f, j)]).sum::<f64>()).collect();
    Ok((beta, intercept, GcvPath { alpha, loo_mse }))
}

impl Predictor for RidgeGcv {
    fn name(&self) -> String {
        match self.input {
            RidgeInput::MorganCountsLog1p => "ridge_morgan_counts".into(),
        }
    }

    fn fit(&self, features: &Features, rows: &[usize], y: &Matrix) -> Result<Box<dyn Fitted>, ModelError> {
        // Missing labels are imputed with the target's mean (they then pull towards it).
        let means = column_means(y);
        let mut complete = y.clone();
        for i in 0..complete.nrows() {
            for (v, m) in complete.row_mut(i).iter_mut().zip(&means) {
                if v.is_nan() {
                    *v = *m;
                }
            }
        }
        let x = design(features, rows, self.input);
        let (beta, intercept, path) = ridge_gcv(&x, &complete, &self.alphas)?;
        Ok(Box::new(FittedRidge { input: self.input, beta, intercept, path }))
    }
}

impl Fitted for FittedRidge {
    fn describe(&self) -> Option<String> {
        Some(format!("α = {}", self.path.alpha))
    }

    fn predict(&self, features: &Features, rows: &[usize]) -> Matrix {
        let x = design(features, rows, self.input);
        let pred = &x * &self.beta;
        let mut out = Matrix::filled(rows.len(), self.intercept.len(), 0.0);
        for i in 0..rows.len() {
            for (j, cell) in out.row_mut(i).iter_mut().enumerate() {
                *cell = pred[(i, j)] + self.intercept[j];
            }
        }
        out
    }
}
