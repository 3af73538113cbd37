//! Weight builders: the per-(row, gene) weights the weighted metrics consume.
//!
//! - [`myllia_weights`]: the Kaggle "Echoes of Silenced Genes" recipe from moderated t-values.
//! - [`vcpi_weights`]: the VCPI contest's Welch-t-vs-rest weights from raw DRUG-seq counts.
//! - [`mejia_weights`]: Mejia et al.'s weights from scanpy's `t-test_overestim_var` vs rest.
//!
//! Group outputs are sorted by group label, as pandas/scanpy order them.

use std::collections::BTreeMap;

use cellcast_stats::moments::ReplicateSums;
use cellcast_stats::Matrix;

/// Weights with the row labels they belong to (compounds, groups or perturbations).
#[derive(Debug, Clone)]
pub struct GroupWeights {
    pub groups: Vec<String>,
    /// groups × genes.
    pub weights: Matrix,
    pub warnings: Vec<String>,
}

/// Myllia weights from moderated t (perturbations × genes): c = min(|t| + 0.1, 10), c = 0 for
/// the perturbation's own target genes (`target_genes[i]`, column indices of the targets that
/// are in the panel: one for a single perturbation, two for a double), w = n·c² / Σc². Rows sum
/// to the number of genes.
pub fn myllia_weights(t: &Matrix, target_genes: &[Vec<usize>]) -> Matrix {
    let n = t.ncols() as f64;
    let mut w = Matrix::filled(t.nrows(), t.ncols(), 0.0);
    for (i, row) in t.rows().enumerate() {
        let mut c: Vec<f64> = row.iter().map(|v| (v.abs() + 0.1).min(10.0)).collect();
        for &g in &target_genes[i] {
            c[g] = 0.0;
        }
        let total: f64 = c.iter().map(|x| x * x).sum();
        for (out, ci) in w.row_mut(i).iter_mut().zip(&c) {
            *out = n * ci * ci / total;
        }
    }
    w
}

/// Sample indices per group, groups sorted by label.
fn members(labels: &[String]) -> BTreeMap<&str, Vec<usize>> {
    let mut m: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, l) in labels.iter().enumerate() {
        m.entry(l.as_str()).or_default().push(i);
    }
    m
}

/// |t| → min–max to [0, 1] → square → divide by the sum; a degenerate row (all |t| equal, or a
/// zero sum) becomes uniform 1/n. Returns whether the row was degenerate.
fn minmax_square_normalize(t: &mut [f64]) -> bool {
    let n = t.len() as f64;
    let (lo, hi) = t.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v.abs()), hi.max(v.abs())));
    let span = hi - lo;
    let mut sum = 0.0;
    if span > 0.0 {
        for v in t.iter_mut() {
            let s = (v.abs() - lo) / span;
            *v = s * s;
            sum += *v;
        }
    }
    let usable = span > 0.0 && sum > 0.0;
    if !usable {
        t.iter_mut().for_each(|v| *v = 1.0 / n);
        return true;
    }
    t.iter_mut().for_each(|v| *v /= sum);
    false
}

/// How the VCPI Welch t estimates its variances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VcpiVariance {
    /// Within-compound and rest variances floored at the per-gene pooled variance (the
    /// contest's port of Mejia et al., its default).
    PerCompoundFloored,
    /// The per-gene pooled variance everywhere.
    Pooled,
}

/// log2(CPM + 1) of each sample (row) of a counts matrix; `None` for an empty library.
pub fn log2_cpm(counts: &[f64]) -> Option<Vec<f64>> {
    let library: f64 = counts.iter().sum();
    (library > 0.0).then(|| counts.iter().map(|c| (c / library * 1e6 + 1.0).log2()).collect())
}

/// VCPI contest weights from raw counts (samples × genes) and each sample's compound:
/// log2(CPM+1) per sample (empty libraries dropped), Welch t of each compound against all other
/// samples, then |t| → min–max → square → normalise per compound. Rows sum to 1.
pub fn vcpi_weights(counts: &Matrix, compound_of: &[String], mode: VcpiVariance) -> GroupWeights {
    let mut expr = Vec::new();
    let mut labels = Vec::new();
    for (row, label) in counts.rows().zip(compound_of) {
        if let Some(e) = log2_cpm(row) {
            expr.push(e);
            labels.push(label.clone());
        }
    }
    let mut weights = vcpi_weights_from_sums(&ReplicateSums::from_rows(&expr, &labels), mode);
    let dropped = counts.nrows() - expr.len();
    if dropped > 0 {
        weights.warnings.insert(0, format!("dropped {dropped} empty-library sample(s)"));
    }
    weights
}

/// [`vcpi_weights`] from the replicates' log2(CPM+1) summarised per compound (what a streaming
/// reader of a genes × samples counts table accumulates).
pub fn vcpi_weights_from_sums(sums: &ReplicateSums, mode: VcpiVariance) -> GroupWeights {
    let genes = sums.total.len();
    let mut warnings = Vec::new();
    let n_total = sums.samples as f64;
    let singletons = sums.sizes.iter().filter(|&&n| n < 2).count();
    if singletons > 0 {
        warnings.push(format!("{singletons} compound(s) have <2 replicates; using the pooled variance for them"));
    }
    let pooled = &sums.pooled_var;
    let mut weights = Matrix::filled(sums.groups.len(), genes, 0.0);
    let mut degenerate = 0;
    for (r, &size) in sums.sizes.iter().enumerate() {
        let n_p = size as f64;
        let n_rest = n_total - n_p;
        let t = weights.row_mut(r);
        for j in 0..genes {
            // The contest derives group and rest moments from sums of x and x².
            let (sx, sx2) = (sums.sum.get(r, j), sums.sum_sq.get(r, j));
            let mean_p = sx / n_p;
            let mean_rest = (sums.total[j] - sx) / n_rest;
            let raw_var_p = if n_p >= 2.0 { ((sx2 - n_p * mean_p * mean_p) / (n_p - 1.0)).max(0.0) } else { 0.0 };
            let raw_var_rest = if n_rest >= 2.0 {
                ((sums.total_sq[j] - sx2 - n_rest * mean_rest * mean_rest) / (n_rest - 1.0)).max(0.0)
            } else {
                0.0
            };
            let (var_p, var_rest) = match mode {
                VcpiVariance::PerCompoundFloored => (raw_var_p.max(pooled[j]), raw_var_rest.max(pooled[j])),
                VcpiVariance::Pooled => (pooled[j], pooled[j]),
            };
            let var_p = if n_p < 2.0 { pooled[j] } else { var_p };
            let denom = (var_p / n_p + var_rest / n_rest).sqrt().max(1e-12);
            t[j] = (mean_p - mean_rest) / denom;
        }
        degenerate += usize::from(minmax_square_normalize(t));
    }
    if degenerate > 0 {
        warnings.push(format!("{degenerate} compound(s) had degenerate |t|; they get uniform weights"));
    }
    GroupWeights { groups: sums.groups.clone(), weights, warnings }
}

/// The dtype of the AnnData `X` scanpy would have worked on. scanpy squares `X` in its own
/// dtype before summing in float64, so float32 data must be squared in float32 to reproduce it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScanpyDtype {
    Float32,
    #[default]
    Float64,
}

/// scanpy's per-gene mean and variance: float64 sums, var = (E[x²] − E[x]²)·n/(n−1).
fn scanpy_mean_var(expr: &Matrix, rows: &[usize], dtype: ScanpyDtype) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len() as f64;
    let genes = expr.ncols();
    let mut s = vec![0.0; genes];
    let mut s2 = vec![0.0; genes];
    for &i in rows {
        for (j, v) in expr.row(i).iter().enumerate() {
            s[j] += v;
            s2[j] += match dtype {
                ScanpyDtype::Float64 => v * v,
                ScanpyDtype::Float32 => f64::from((*v as f32) * (*v as f32)),
            };
        }
    }
    let mean: Vec<f64> = s.iter().map(|x| x / n).collect();
    let var = s2.iter().zip(&mean).map(|(x2, m)| (x2 / n - m * m) * (n / (n - 1.0))).collect();
    (mean, var)
}

/// Raw scanpy `rank_genes_groups(method="t-test_overestim_var", reference="rest")` scores:
/// Welch t of each group against all other rows with the rest's n replaced by the group's n;
/// NaN scores become 0. Returns (sorted groups, groups × genes).
pub fn overestim_var_t(expr: &Matrix, labels: &[String], dtype: ScanpyDtype) -> (Vec<String>, Matrix) {
    let groups = members(labels);
    let mut t = Matrix::filled(groups.len(), expr.ncols(), 0.0);
    for (r, rows) in groups.values().enumerate() {
        let mut in_group = vec![false; expr.nrows()];
        rows.iter().for_each(|&i| in_group[i] = true);
        let rest: Vec<usize> = (0..expr.nrows()).filter(|&i| !in_group[i]).collect();
        let (mean_g, var_g) = scanpy_mean_var(expr, rows, dtype);
        let (mean_r, var_r) = scanpy_mean_var(expr, &rest, dtype);
        let n_g = rows.len() as f64;
        for (j, out) in t.row_mut(r).iter_mut().enumerate() {
            // scipy's ttest_ind_from_stats squares the standard deviations it is given.
            let (sd_g, sd_r) = (var_g[j].sqrt(), var_r[j].sqrt());
            let denom = (sd_g * sd_g / n_g + sd_r * sd_r / n_g).sqrt();
            let v = (mean_g[j] - mean_r[j]) / denom;
            *out = if v.is_nan() { 0.0 } else { v };
        }
    }
    (groups.keys().map(|g| g.to_string()).collect(), t)
}

/// Mejia et al.'s DEG weights: scanpy `t-test_overestim_var` of each group vs the rest, then
/// |t| → min–max → square → normalise to sum 1 per group (degenerate groups: uniform).
pub fn mejia_weights(expr: &Matrix, labels: &[String], dtype: ScanpyDtype) -> GroupWeights {
    let (groups, mut weights) = overestim_var_t(expr, labels, dtype);
    let mut degenerate = 0;
    for r in 0..groups.len() {
        degenerate += usize::from(minmax_square_normalize(weights.row_mut(r)));
    }
    let warnings = if degenerate > 0 {
        vec![format!("{degenerate} group(s) had degenerate |t|; they get uniform weights")]
    } else {
        Vec::new()
    };
    GroupWeights { groups, weights, warnings }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn myllia_weights_sum_to_n_and_zero_the_target() {
        let t = Matrix::from_rows(&[[1.0, -2.0, 30.0, 0.0]]).unwrap();
        let w = myllia_weights(&t, &[vec![1]]);
        let row = w.row(0);
        assert_eq!(row[1], 0.0);
        assert!((row.iter().sum::<f64>() - 4.0).abs() < 1e-12);
        // c = [1.1, 0, 10, 0.1] → Σc² = 101.22
        assert!((row[2] - 4.0 * 100.0 / 101.22).abs() < 1e-12);
    }

    #[test]
    fn degenerate_rows_are_uniform() {
        let mut v = [2.0, -2.0, 2.0];
        assert!(minmax_square_normalize(&mut v));
        assert_eq!(v, [1.0 / 3.0; 3]);
        let mut v = [0.0, 1.0, -2.0];
        assert!(!minmax_square_normalize(&mut v));
        assert_eq!(v, [0.0, 0.2, 0.8]);
    }
}
