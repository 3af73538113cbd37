//! limma's moderated t-statistic (`lmFit` → `contrasts.fit` → `eBayes`), following limma 3.63.
//!
//! Only what cellcast needs is here, and it is exact for that case: a one-way design
//! `~0 + group`, contrasts of every group against one control group, no observation weights and
//! no missing values (so every gene has the same residual degrees of freedom and `squeezeVar`
//! takes limma's "legacy" `fitFDist` path). `eBayes` uses its defaults: no trend, not robust.

use crate::de::{CellsByGenes, ExprValue};
use crate::matrix::Matrix;
use crate::moments::{mean, median};
use crate::special::{logmdigamma, trigamma, trigamma_inverse};

/// What can stop a limma fit.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LimmaError {
    #[error("the expression matrix has {samples} samples but {labels} group labels")]
    LabelCount { samples: usize, labels: usize },
    #[error("control group '{0}' has no samples")]
    MissingControl(String),
    #[error("there is no group besides the control '{0}'")]
    NoContrast(String),
    #[error(
        "no residual degrees of freedom ({samples} samples in {groups} groups): limma needs \
         replicates in at least one group"
    )]
    NoResidualDf { samples: usize, groups: usize },
    #[error("the expression value at sample {sample}, gene {gene} is not finite; limma here needs complete data")]
    NonFinite { sample: usize, gene: usize },
    #[error("could not estimate the prior degrees of freedom (no usable gene variances)")]
    PriorDf,
}

/// Result of limma's `fitFDist`: the scaled F distribution fitted to the sample variances.
#[derive(Debug, Clone, PartialEq)]
pub struct FDistFit {
    /// `scale`, the prior variance s₀².
    pub scale: f64,
    /// `df2`, the prior degrees of freedom d₀ (may be +∞).
    pub df2: f64,
    /// limma's warnings, word for word.
    pub warnings: Vec<String>,
}

/// limma's `fitFDist(x, df1)` with a common `df1` and no covariate.
pub fn fit_f_dist(x: &[f64], df1: f64) -> Result<FDistFit, LimmaError> {
    if x.is_empty() || !(df1.is_finite() && df1 > 1e-15) {
        return Err(LimmaError::PriorDf);
    }
    if x.len() == 1 {
        return Ok(FDistFit { scale: x[0], df2: 0.0, warnings: Vec::new() });
    }
    let mut x: Vec<f64> = x.iter().copied().filter(|v| v.is_finite() && *v > -1e-15).collect();
    match x.len() {
        0 => return Err(LimmaError::PriorDf),
        1 => return Ok(FDistFit { scale: x[0], df2: 0.0, warnings: Vec::new() }),
        _ => {}
    }
    let mut warnings = Vec::new();
    for v in &mut x {
        *v = v.max(0.0);
    }
    let mut m = median(&x);
    if m == 0.0 {
        warnings.push("More than half of residual variances are exactly zero: eBayes unreliable".to_string());
        m = 1.0;
    } else if x.contains(&0.0) {
        warnings.push("Zero sample variances detected, have been offset away from zero".to_string());
    }
    for v in &mut x {
        *v = v.max(1e-5 * m);
    }
    let shift = logmdigamma(df1 / 2.0);
    let e: Vec<f64> = x.iter().map(|v| v.ln() + shift).collect();
    let emean = mean(&e);
    let evar = e.iter().map(|v| (v - emean) * (v - emean)).sum::<f64>() / (e.len() - 1) as f64 - trigamma(df1 / 2.0);
    if evar > 0.0 {
        let df2 = 2.0 * trigamma_inverse(evar);
        let scale = (emean - logmdigamma(df2 / 2.0)).exp();
        Ok(FDistFit { scale, df2, warnings })
    } else {
        Ok(FDistFit { scale: mean(&x), df2: f64::INFINITY, warnings })
    }
}

/// Result of limma's `squeezeVar`.
#[derive(Debug, Clone, PartialEq)]
pub struct SqueezedVariances {
    /// Posterior variances s̃², one per gene.
    pub var_post: Vec<f64>,
    /// Prior variance s₀².
    pub var_prior: f64,
    /// Prior degrees of freedom d₀ (0 when fewer than three genes, +∞ when no extra variability).
    pub df_prior: f64,
    pub warnings: Vec<String>,
}

/// limma's `squeezeVar(var, df)` with a common `df`, no covariate, not robust.
pub fn squeeze_var(var: &[f64], df: f64) -> Result<SqueezedVariances, LimmaError> {
    if var.is_empty() {
        return Err(LimmaError::PriorDf);
    }
    if var.len() < 3 {
        // limma: too few genes to estimate a prior; no moderation. (It returns var.prior = var.)
        return Ok(SqueezedVariances {
            var_post: var.to_vec(),
            var_prior: f64::NAN,
            df_prior: 0.0,
            warnings: Vec::new(),
        });
    }
    let fit = fit_f_dist(var, df)?;
    if fit.df2.is_nan() {
        return Err(LimmaError::PriorDf);
    }
    let (d0, s0) = (fit.df2, fit.scale);
    let var_post =
        if d0 > 1e100 { vec![s0; var.len()] } else { var.iter().map(|&s2| (df * s2 + d0 * s0) / (df + d0)).collect() };
    Ok(SqueezedVariances { var_post, var_prior: s0, df_prior: d0, warnings: fit.warnings })
}

/// Moderated t of every group against a control, from one `~0 + group` limma fit.
#[derive(Debug, Clone)]
pub struct ControlContrasts {
    /// The non-control groups, sorted by label; rows of `t` and `log_fc`.
    pub groups: Vec<String>,
    /// Moderated t, groups × genes.
    pub t: Matrix,
    /// Contrast estimates (group mean − control mean), groups × genes.
    pub log_fc: Matrix,
    /// Residual degrees of freedom d = samples − groups.
    pub df_residual: f64,
    pub df_prior: f64,
    pub var_prior: f64,
    pub warnings: Vec<String>,
}

/// The sufficient statistics of a one-way layout `~0 + group`: its coefficients are the group
/// means, and its residual variance pools the within-group sums of squares.
#[derive(Debug, Clone, PartialEq)]
pub struct OneWayStats {
    /// Group labels, sorted.
    pub names: Vec<String>,
    /// Samples per group.
    pub sizes: Vec<usize>,
    /// Group means, groups × genes.
    pub means: Matrix,
    /// Residual sum of squares of every gene, Σ over samples of (value − its group's mean)².
    pub rss: Vec<f64>,
}

impl OneWayStats {
    /// The statistics of `x` (samples × genes, dense or sparse) with `labels[i]` the group of
    /// sample `i`. Two passes over the values (means, then squared deviations), so no
    /// cancellation: a sparse gene's unstored zeros add (0 − mean)² each.
    pub fn from_samples<X: CellsByGenes>(x: &X, labels: &[String]) -> Result<Self, LimmaError> {
        let (n, genes) = (x.n_cells(), x.n_genes());
        if labels.len() != n {
            return Err(LimmaError::LabelCount { samples: n, labels: labels.len() });
        }
        let mut names: Vec<String> = labels.to_vec();
        names.sort_unstable();
        names.dedup();
        let membership: Vec<usize> =
            labels.iter().map(|l| names.binary_search(l).expect("every label is a name")).collect();
        let mut sizes = vec![0usize; names.len()];
        for &k in &membership {
            sizes[k] += 1;
        }
        let mut means = Matrix::filled(names.len(), genes, 0.0);
        let mut non_finite = None;
        for (i, &k) in membership.iter().enumerate() {
            let acc = means.row_mut(k);
            x.for_each_in_row(i, |j, v| {
                let v = v.to_f64();
                if !v.is_finite() && non_finite.is_none() {
                    non_finite = Some((i, j));
                }
                acc[j] += v;
            });
        }
        if let Some((sample, gene)) = non_finite {
            return Err(LimmaError::NonFinite { sample, gene });
        }
        for (k, &size) in sizes.iter().enumerate() {
            for a in means.row_mut(k) {
                *a /= size as f64;
            }
        }
        // Deviations of the visited values; every unvisited value is a 0 deviating by −mean.
        let mut visited = vec![0usize; names.len() * genes];
        let mut rss = vec![0.0; genes];
        for (i, &k) in membership.iter().enumerate() {
            let m = means.row(k);
            let seen = &mut visited[k * genes..(k + 1) * genes];
            x.for_each_in_row(i, |j, v| {
                rss[j] += (v.to_f64() - m[j]).powi(2);
                seen[j] += 1;
            });
        }
        for (k, &size) in sizes.iter().enumerate() {
            for (j, r) in rss.iter_mut().enumerate() {
                let zeros = size - visited[k * genes + j];
                if zeros > 0 {
                    *r += zeros as f64 * means.get(k, j).powi(2);
                }
            }
        }
        Ok(OneWayStats { names, sizes, means, rss })
    }
}

/// Fits `~0 + group` to `expr` (samples × genes), forms group − control contrasts and applies
/// `eBayes`. `labels[i]` is the group of sample (row) `i`.
pub fn moderated_t_vs_control(expr: &Matrix, labels: &[String], control: &str) -> Result<ControlContrasts, LimmaError> {
    moderated_t_from_stats(&OneWayStats::from_samples(expr, labels)?, control)
}

/// [`moderated_t_vs_control`] from the layout's statistics (e.g. of single cells read sparse).
pub fn moderated_t_from_stats(stats: &OneWayStats, control: &str) -> Result<ControlContrasts, LimmaError> {
    let OneWayStats { names, sizes, means, rss } = stats;
    let n: usize = sizes.iter().sum();
    let control_idx =
        names.iter().position(|g| g == control).ok_or_else(|| LimmaError::MissingControl(control.into()))?;
    if names.len() < 2 {
        return Err(LimmaError::NoContrast(control.into()));
    }
    let df = n.saturating_sub(names.len()) as f64;
    if df <= 0.0 {
        return Err(LimmaError::NoResidualDf { samples: n, groups: names.len() });
    }
    let sigma2: Vec<f64> = rss.iter().map(|r| r / df).collect();
    let squeezed = squeeze_var(&sigma2, df)?;

    let contrast_groups: Vec<usize> = (0..names.len()).filter(|&k| k != control_idx).collect();
    let genes = means.ncols();
    let mut t = Matrix::filled(contrast_groups.len(), genes, 0.0);
    let mut log_fc = Matrix::filled(contrast_groups.len(), genes, 0.0);
    let control_mean = means.row(control_idx);
    for (r, &k) in contrast_groups.iter().enumerate() {
        let unscaled = (1.0 / sizes[k] as f64 + 1.0 / sizes[control_idx] as f64).sqrt();
        for (j, (&mk, &mc)) in means.row(k).iter().zip(control_mean).enumerate() {
            let coef = mk - mc;
            log_fc.set(r, j, coef);
            t.set(r, j, coef / unscaled / squeezed.var_post[j].sqrt());
        }
    }
    Ok(ControlContrasts {
        groups: contrast_groups.iter().map(|&k| names[k].clone()).collect(),
        t,
        log_fc,
        df_residual: df,
        df_prior: squeezed.df_prior,
        var_prior: squeezed.var_prior,
        warnings: squeezed.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_and_dense_samples_give_the_same_layout_statistics() {
        let dense =
            Matrix::from_rows(&[[0.0, 1.5, 2.0], [3.0, 0.0, 0.0], [0.0, 2.5, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 4.0]])
                .unwrap();
        let labels: Vec<String> = ["b", "a", "b", "a", "a"].iter().map(|s| s.to_string()).collect();
        let a = OneWayStats::from_samples(&dense, &labels).unwrap();
        let b = OneWayStats::from_samples(&crate::sparse::CsrMatrix::from_dense(&dense), &labels).unwrap();
        assert_eq!(a.names, vec!["a", "b"]);
        assert_eq!(a.sizes, vec![3, 2]);
        assert_eq!(a.means.row(0), &[4.0 / 3.0, 0.0, 4.0 / 3.0]);
        // Gene 0: a = {3, 1, 0} around 4/3, b = {0, 0} around 0.
        let want = (5.0f64 / 3.0).powi(2) + (1.0f64 / 3.0).powi(2) + (4.0f64 / 3.0).powi(2);
        assert!((a.rss[0] - want).abs() < 1e-12);
        assert_eq!(a.names, b.names);
        assert_eq!(a.means, b.means);
        for (x, y) in a.rss.iter().zip(&b.rss) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
    }

    #[test]
    fn constant_variances_give_infinite_prior_df() {
        // Identical variances: evar ≤ 0, so d₀ = ∞ and every posterior is the prior mean.
        let fit = squeeze_var(&[2.0, 2.0, 2.0, 2.0], 4.0).unwrap();
        assert!(fit.df_prior.is_infinite());
        assert_eq!(fit.var_prior, 2.0);
        assert_eq!(fit.var_post, vec![2.0; 4]);
    }

    #[test]
    fn fewer_than_three_genes_are_not_moderated() {
        let fit = squeeze_var(&[1.0, 3.0], 2.0).unwrap();
        assert_eq!(fit.df_prior, 0.0);
        assert_eq!(fit.var_post, vec![1.0, 3.0]);
    }

    #[test]
    fn errors_name_the_problem() {
        let expr = Matrix::from_rows(&[[1.0], [2.0]]).unwrap();
        let labels = vec!["a".to_string(), "ctrl".to_string()];
        assert_eq!(
            moderated_t_vs_control(&expr, &labels, "ctrl").unwrap_err(),
            LimmaError::NoResidualDf { samples: 2, groups: 2 }
        );
        assert_eq!(
            moderated_t_vs_control(&expr, &labels, "nope").unwrap_err(),
            LimmaError::MissingControl("nope".into())
        );
    }
}
