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
    /// The 14 standard descriptors, standardised on the training rows (scikit-learn's
    /// `StandardScaler`: population standard deviation; a constant column is left unscaled).
    Descriptors,
    /// Both blocks side by side.
    MorganCountsAndDescriptors,
}

impl RidgeInput {
    fn uses_descriptors(self) -> bool {
        matches!(self, RidgeInput::Descriptors | RidgeInput::MorganCountsAndDescriptors)
    }
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
        Self::on(RidgeInput::MorganCountsLog1p)
    }

    /// The standard α grid on the given input.
    pub fn on(input: RidgeInput) -> Self {
        RidgeGcv { alphas: (0..=14).map(|k| 10f64.powf(-1.0 + 0.5 * k as f64)).collect(), input }
    }
}

/// Centre and scale of each descriptor over the training rows that have descriptors.
#[derive(Debug, Clone, PartialEq)]
struct Standardizer {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl Standardizer {
    fn fit(features: &Features, rows: &[usize]) -> Self {
        let known: Vec<&[f64; 14]> = rows.iter().filter_map(|&r| features.descriptors[r].as_ref()).collect();
        let n = known.len().max(1) as f64;
        let mean: Vec<f64> = (0..14).map(|j| known.iter().map(|d| d[j]).sum::<f64>() / n).collect();
        let scale = (0..14)
            .map(|j| {
                let sd = (known.iter().map(|d| (d[j] - mean[j]).powi(2)).sum::<f64>() / n).sqrt();
                if sd > 0.0 {
                    sd
                } else {
                    1.0
                }
            })
            .collect();
        Standardizer { mean, scale }
    }
}

/// The dense design matrix of `rows` (rows × features). A compound without descriptors gets the
/// training mean (0 after standardising); one without a fingerprint gets zero counts.
fn design(features: &Features, rows: &[usize], input: RidgeInput, scaler: Option<&Standardizer>) -> Mat<f64> {
    let counts = if input == RidgeInput::Descriptors { 0 } else { features.count_bits as usize };
    let width = counts + if input.uses_descriptors() { 14 } else { 0 };
    let mut x = Mat::<f64>::zeros(rows.len(), width);
    for (i, &r) in rows.iter().enumerate() {
        if counts > 0 {
            if let Some(c) = &features.morgan_counts[r] {
                for &(j, n) in c.entries() {
                    x[(i, j as usize)] = f64::from(n).ln_1p();
                }
            }
        }
        if let (Some(s), Some(d)) = (scaler, &features.descriptors[r]) {
            for j in 0..14 {
                x[(i, counts + j)] = (d[j] - s.mean[j]) / s.scale[j];
            }
        }
    }
    x
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
    scaler: Option<Standardizer>,
    beta: Mat<f64>,
    intercept: Vec<f64>,
    path: GcvPath,
}

/// The first α with the smallest error (scikit-learn keeps the first among equals).
fn first_best(alphas: &[f64], loo_mse: &[f64]) -> f64 {
    alphas[(0..alphas.len()).fold(0, |b, k| if loo_mse[k] < loo_mse[b] { k } else { b })]
}

/// Mean squared leave-one-out error of residuals `r` with hat diagonal `h`.
fn loo_error(r: &Mat<f64>, h: &[f64]) -> f64 {
    let (n, t) = (r.nrows(), r.ncols());
    let mut total = 0.0;
    for (i, hi) in h.iter().enumerate() {
        let denom = 1.0 - hi;
        for j in 0..t {
            let e = r[(i, j)] / denom;
            total += e * e;
        }
    }
    total / (n * t) as f64
}

/// n ≤ p: one eigendecomposition of the centred Gram matrix XcXcᵀ (scikit-learn's "eigen" mode).
fn gcv_eigen(xc: &Mat<f64>, yc: &Mat<f64>, alphas: &[f64]) -> Result<(f64, Vec<f64>, Mat<f64>), ModelError> {
    let (n, t) = (xc.nrows(), yc.ncols());
    let gram = xc * xc.transpose();
    let evd = gram
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| ModelError::Parameter(format!("eigendecomposition failed: {e:?}")))?;
    let q = evd.U();
    let lambda: Vec<f64> = (0..n).map(|k| evd.S().column_vector()[k].max(0.0)).collect();
    let z = q.transpose() * yc;
    let mut loo_mse = Vec::with_capacity(alphas.len());
    for &alpha in alphas {
        let residual = q * Mat::<f64>::from_fn(n, t, |k, j| z[(k, j)] * alpha / (lambda[k] + alpha));
        let h: Vec<f64> = (0..n)
            .map(|i| {
                1.0 / n as f64 + (0..n).map(|k| q[(i, k)] * q[(i, k)] * lambda[k] / (lambda[k] + alpha)).sum::<f64>()
            })
            .collect();
        loo_mse.push(loo_error(&residual, &h));
    }
    let alpha = first_best(alphas, &loo_mse);
    let c = q * Mat::<f64>::from_fn(n, t, |k, j| z[(k, j)] / (lambda[k] + alpha));
    Ok((alpha, loo_mse, xc.transpose() * &c))
}

/// p < n: one thin SVD Xc = U S Vᵀ (scikit-learn's "svd" mode); the residual is
/// Yc − U diag(s²/(s²+α)) UᵀYc, the hat diagonal 1/n + Σₖ Uᵢₖ² s²ₖ/(s²ₖ+α), β = V diag(s/(s²+α)) UᵀYc.
fn gcv_svd(xc: &Mat<f64>, yc: &Mat<f64>, alphas: &[f64]) -> Result<(f64, Vec<f64>, Mat<f64>), ModelError> {
    let (n, t) = (xc.nrows(), yc.ncols());
    let svd = xc.thin_svd().map_err(|e| ModelError::Parameter(format!("SVD failed: {e:?}")))?;
    let (u, v) = (svd.U(), svd.V());
    let r = u.ncols();
    let s2: Vec<f64> = (0..r).map(|k| svd.S().column_vector()[k].powi(2)).collect();
    let z = u.transpose() * yc;
    let mut loo_mse = Vec::with_capacity(alphas.len());
    for &alpha in alphas {
        let fitted = u * Mat::<f64>::from_fn(r, t, |k, j| z[(k, j)] * s2[k] / (s2[k] + alpha));
        let residual = Mat::<f64>::from_fn(n, t, |i, j| yc[(i, j)] - fitted[(i, j)]);
        let h: Vec<f64> = (0..n)
            .map(|i| 1.0 / n as f64 + (0..r).map(|k| u[(i, k)] * u[(i, k)] * s2[k] / (s2[k] + alpha)).sum::<f64>())
            .collect();
        loo_mse.push(loo_error(&residual, &h));
    }
    let alpha = first_best(alphas, &loo_mse);
    let beta = v * Mat::<f64>::from_fn(r, t, |k, j| z[(k, j)] * s2[k].sqrt() / (s2[k] + alpha));
    Ok((alpha, loo_mse, beta))
}

/// Solves ridge with GCV on a dense design `x` (n × p) and labels `y` (n × T, complete).
pub fn ridge_gcv(x: &Mat<f64>, y: &Matrix, alphas: &[f64]) -> Result<(Mat<f64>, Vec<f64>, GcvPath), ModelError> {
    crate::linalg::fixed_parallelism();
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
    let (alpha, loo_mse, beta) = if p < n { gcv_svd(&xc, &yc, alphas)? } else { gcv_eigen(&xc, &yc, alphas)? };
    let intercept = (0..t).map(|j| y_mean[j] - (0..p).map(|f| x_mean[f] * beta[(f, j)]).sum::<f64>()).collect();
    Ok((beta, intercept, GcvPath { alpha, loo_mse }))
}

impl Predictor for RidgeGcv {
    fn name(&self) -> String {
        match self.input {
            RidgeInput::MorganCountsLog1p => "ridge_morgan_counts".into(),
            RidgeInput::Descriptors => "ridge_descriptors".into(),
            RidgeInput::MorganCountsAndDescriptors => "ridge_morgan_descriptors".into(),
        }
    }

    fn notes(&self) -> Vec<String> {
        let input = match self.input {
            RidgeInput::MorganCountsLog1p => "log(1 + Morgan r2/2048 counts)",
            RidgeInput::Descriptors => "the 14 standardised RDKit descriptors",
            RidgeInput::MorganCountsAndDescriptors => {
                "log(1 + Morgan r2/2048 counts) and the 14 standardised RDKit descriptors"
            }
        };
        vec![format!(
            "- `{}`: multi-output ridge on {input}; α by leave-one-out CV within each training fold (scikit-learn RidgeCV's rule).",
            self.name()
        )]
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
        let scaler = self.input.uses_descriptors().then(|| Standardizer::fit(features, rows));
        let x = design(features, rows, self.input, scaler.as_ref());
        let (beta, intercept, path) = ridge_gcv(&x, &complete, &self.alphas)?;
        Ok(Box::new(FittedRidge { input: self.input, scaler, beta, intercept, path }))
    }
}

impl Fitted for FittedRidge {
    fn describe(&self) -> Option<String> {
        Some(format!("α = {}", self.path.alpha))
    }

    fn predict(&self, features: &Features, rows: &[usize]) -> Matrix {
        crate::linalg::fixed_parallelism();
        let x = design(features, rows, self.input, self.scaler.as_ref());
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
