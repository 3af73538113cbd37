//! Differential expression of every perturbation group against the control group, as scanpy
//! 1.11 computes it with `sc.tl.rank_genes_groups(adata, groupby, reference=control,
//! method="t-test" | "wilcoxon", tie_correct=…)`.
//!
//! Everything scanpy reports is reproduced, per tested group and gene: the score (Welch t or
//! Wilcoxon z), the two-sided p-value, the Benjamini–Hochberg adjusted p-value over the genes of
//! the group (statsmodels `fdr_bh`), the log2 fold change from the group means, and the means.
//! The arithmetic follows scanpy's step for step (one-pass variances, the sqrt-and-square round
//! trip through scipy, NaN scores set to 0 and NaN p-values to 1, the order of the float
//! operations in the z-score) so that the numbers agree to the last few bits; where scanpy's
//! float64 results are stored as float32 in `adata.uns`, the values here are the float64 ones.
//!
//! The expression matrix is read row by row through [`CellsByGenes`], implemented for the
//! sparse [`CsrMatrix`](crate::sparse::CsrMatrix) (no densifying: absent entries are zeros) and the dense [`Matrix`].
//!
//! The Wilcoxon test never ranks the whole union of a group and the control. Each group gathers
//! its own rows (all groups in parallel) into per-gene sorted lists of its non-zero values; then,
//! gene by gene (in parallel), the control's sorted values get a bucket index and every group is
//! scored against them: the rank sum of a group in its union with the control comes from
//! locating each of the group's distinct values among the control's (O(1) per value with the
//! index, instead of a binary search). All zeros — typically most of a sparse column — form one
//! tied block whose midrank follows from the counts of negative values. The tie term Σ(t³ − t)
//! of the union is the control's, computed once per gene, corrected only at values the group
//! contains. The rank sums are exact integers (twice the sum of midranks), as scanpy's float64
//! sums of midranks are.

use rayon::prelude::*;

use crate::matrix::Matrix;
use crate::sparse::CsrMatrix;
use crate::special::{normal_sf, student_t_sf};

/// What can stop a differential-expression run.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum DeError {
    #[error("the expression matrix has {cells} cells but {labels} group labels")]
    LabelCount { cells: usize, labels: usize },
    #[error("control group {0} has no cells")]
    MissingControl(usize),
    #[error("there is no group besides the control group {0}")]
    NoContrast(usize),
    #[error(
        "group {group} has {cells} cell(s); scanpy's rank_genes_groups refuses every group with fewer \
         than 2 cells (for every method), so this does too"
    )]
    GroupTooSmall { group: usize, cells: usize },
    #[error("group {group} has no cells")]
    EmptyGroup { group: usize },
    #[error("the expression value at cell {cell}, gene {gene} is not finite")]
    NonFinite { cell: usize, gene: usize },
}

/// An element type of an expression matrix.
///
/// scanpy squares `X` in its own dtype before summing in float64 (for the t-test variances), so
/// the square is part of the element type: a float32 matrix squares in float32.
pub trait ExprValue: Copy + Send + Sync {
    fn to_f64(self) -> f64;
    /// x², rounded to this type's precision, then widened.
    fn square(self) -> f64;
}

impl ExprValue for f64 {
    fn to_f64(self) -> f64 {
        self
    }

    fn square(self) -> f64 {
        self * self
    }
}

impl ExprValue for f32 {
    fn to_f64(self) -> f64 {
        f64::from(self)
    }

    fn square(self) -> f64 {
        f64::from(self * self)
    }
}

/// A cells × genes expression matrix read one cell (row) at a time.
pub trait CellsByGenes: Sync {
    type Value: ExprValue;
    fn n_cells(&self) -> usize;
    fn n_genes(&self) -> usize;
    /// Calls `f(gene, value)` for the stored entries of row `cell`, genes increasing and below
    /// `n_genes()`; entries not visited are 0. Visiting zeros is allowed (they are skipped),
    /// visiting a gene twice is not (it would count twice).
    fn for_each_in_row<F: FnMut(usize, Self::Value)>(&self, cell: usize, f: F);
}

impl CellsByGenes for Matrix {
    type Value = f64;

    fn n_cells(&self) -> usize {
        self.nrows()
    }

    fn n_genes(&self) -> usize {
        self.ncols()
    }

    fn for_each_in_row<F: FnMut(usize, f64)>(&self, cell: usize, mut f: F) {
        for (j, &v) in self.row(cell).iter().enumerate() {
            f(j, v);
        }
    }
}

impl<T: ExprValue> CellsByGenes for CsrMatrix<T> {
    type Value = T;

    fn n_cells(&self) -> usize {
        self.n_rows()
    }

    fn n_genes(&self) -> usize {
        self.n_cols()
    }

    fn for_each_in_row<F: FnMut(usize, T)>(&self, cell: usize, mut f: F) {
        let (cols, vals) = self.row(cell);
        for (&j, &v) in cols.iter().zip(vals) {
            f(j as usize, v);
        }
    }
}

/// The test, as scanpy's `method` (and `tie_correct`) names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeMethod {
    /// `method="t-test"`: Welch's t of group vs control.
    TTest,
    /// `method="wilcoxon"`: the rank-sum z of group vs control, optionally tie-corrected.
    Wilcoxon { tie_correct: bool },
}

/// Results of every tested group against the control; tables are tested groups × genes.
#[derive(Debug, Clone, PartialEq)]
pub struct DeResult {
    /// The tested groups (every group index but the control, ascending): the table rows.
    pub groups: Vec<usize>,
    /// Cells in each tested group.
    pub group_sizes: Vec<usize>,
    pub control: usize,
    pub control_size: usize,
    /// scanpy's `scores`: Welch t or Wilcoxon z (NaN replaced by 0, as scanpy does).
    pub scores: Matrix,
    /// Two-sided p-values (`pvals`; NaN replaced by 1).
    pub pvals: Matrix,
    /// Benjamini–Hochberg adjusted p-values over the genes of each group (`pvals_adj`).
    pub pvals_adj: Matrix,
    /// log2((expm1(mean_group) + 1e-9) / (expm1(mean_control) + 1e-9)) (`logfoldchanges`),
    /// which assumes natural-log `log1p` data, scanpy's default.
    pub log_fold_changes: Matrix,
    /// Group means of the expression values.
    pub means: Matrix,
    /// Control means of the expression values, one per gene.
    pub control_means: Vec<f64>,
}

/// Differential expression of every group against `control`, as scanpy's
/// `rank_genes_groups(adata, groupby, reference=control, method=…, n_genes=None)`.
///
/// `cell_groups[i]` is the group of cell (row) `i`, or `None` for a cell in no group (scanpy's
/// NaN category), which is ignored. Groups are numbered from 0; every number up to the largest
/// one used is a group and, as in scanpy (where an unused category counts as a group with no
/// cells), each must have at least 2 cells.
pub fn rank_genes_vs_control<X: CellsByGenes>(
    x: &X,
    cell_groups: &[Option<usize>],
    control: usize,
    method: DeMethod,
) -> Result<DeResult, DeError> {
    rank_genes(x, cell_groups, control, method, 2)
}

/// [`rank_genes_vs_control`] that also tests groups of a single cell (scanpy refuses them):
/// the Wilcoxon rank-sum z of one cell against the controls is well defined, and target
/// identification on single cells needs it. Welch's t of a single cell has no variance and
/// scores 0 (p = 1), as scanpy maps an undefined t. Every group still needs a cell.
pub fn rank_genes_vs_control_single_cells<X: CellsByGenes>(
    x: &X,
    cell_groups: &[Option<usize>],
    control: usize,
    method: DeMethod,
) -> Result<DeResult, DeError> {
    rank_genes(x, cell_groups, control, method, 1)
}

fn rank_genes<X: CellsByGenes>(
    x: &X,
    cell_groups: &[Option<usize>],
    control: usize,
    method: DeMethod,
    min_cells: usize,
) -> Result<DeResult, DeError> {
    let design = Design::new(x.n_cells(), cell_groups, control, min_cells)?;
    let genes = x.n_genes();
    let wilcoxon = matches!(method, DeMethod::Wilcoxon { .. });

    // Every group's moments (and, for the Wilcoxon test, sorted values per gene), in parallel:
    // each group reads only its own rows.
    let gathered: Vec<Gather> = design.members.par_iter().map(|cells| Gather::new(x, cells, wilcoxon)).collect();
    // Report the first non-finite value in row order, whichever group holds it.
    if let Some((cell, gene)) = gathered.iter().filter_map(|g| g.non_finite).min() {
        return Err(DeError::NonFinite { cell, gene });
    }
    let moments: Vec<(Vec<f64>, Vec<f64>)> =
        gathered.iter().zip(&design.members).map(|(g, cells)| g.moments(cells.len())).collect();
    let n_control = design.members[control].len();
    let (control_means, control_vars) = &moments[control];
    let tests = &design.tests;

    let (scores, pvals): (Vec<Vec<f64>>, Vec<Vec<f64>>) = match method {
        DeMethod::TTest => tests
            .par_iter()
            .map(|&g| {
                let ((means, vars), n) = (&moments[g], design.members[g].len());
                (0..genes)
                    .map(|j| {
                        let (t, p) = welch_t_test(means[j], vars[j], n, control_means[j], control_vars[j], n_control);
                        // scanpy: NaN scores → 0, NaN p-values → 1 (0/0 when both groups are
                        // constant and equal, or a tiny negative one-pass variance under the sqrt).
                        (if t.is_nan() { 0.0 } else { t }, if p.is_nan() { 1.0 } else { p })
                    })
                    .unzip()
            })
            .unzip(),
        DeMethod::Wilcoxon { tie_correct } => {
            // Gene by gene, so that the control's values and their index stay in cache while
            // every group is compared with them. (z, p) pairs are gene-major here.
            let mut by_gene = vec![(0.0, 0.0); genes * tests.len()];
            by_gene.par_chunks_mut(tests.len()).enumerate().for_each(|(j, out)| {
                let nonzero = gathered[control].gene(j);
                let reference = Reference::new(nonzero, n_control - nonzero.len());
                for (slot, &g) in out.iter_mut().zip(tests) {
                    let (nonzero, n) = (gathered[g].gene(j), design.members[g].len());
                    let (twice_sum, ties) = reference.rank_sum(nonzero, n - nonzero.len());
                    *slot = rank_sum_z(twice_sum, ties, n, n_control, tie_correct);
                }
            });
            (0..tests.len()).into_par_iter().map(|r| (0..genes).map(|j| by_gene[j * tests.len() + r]).unzip()).unzip()
        }
    };

    let pvals_adj: Vec<Vec<f64>> = pvals.par_iter().map(|p| benjamini_hochberg(p)).collect();
    let log_fold_changes: Vec<Vec<f64>> = tests
        .iter()
        .map(|&g| {
            moments[g]
                .0
                .iter()
                .zip(control_means)
                // The 1e-9 keeps 0/0 and log(0) away, exactly as scanpy adds it.
                .map(|(&mg, &mc)| ((mg.exp_m1() + 1e-9) / (mc.exp_m1() + 1e-9)).log2())
                .collect()
        })
        .collect();
    let table = |rows: Vec<Vec<f64>>| {
        Matrix::from_row_major(rows.len(), genes, rows.concat()).expect("one value per group and gene")
    };
    Ok(DeResult {
        groups: tests.clone(),
        group_sizes: tests.iter().map(|&g| design.members[g].len()).collect(),
        control,
        control_size: n_control,
        scores: table(scores),
        pvals: table(pvals),
        pvals_adj: table(pvals_adj),
        log_fold_changes: table(log_fold_changes),
        means: table(tests.iter().map(|&g| moments[g].0.clone()).collect()),
        control_means: control_means.clone(),
    })
}

/// Welch's t-test from summary statistics, as scanpy calls scipy: `ttest_ind_from_stats(mean1,
/// sqrt(var1), n1, mean2, sqrt(var2), n2, equal_var=False)`. Returns (t, two-sided p).
///
/// The variances go through scanpy's sqrt and scipy's square (not always the identity in
/// floating point); a NaN Welch df (both variances 0) becomes 1 as in scipy. A negative
/// variance gives NaN, which scanpy then maps to a score of 0 and a p-value of 1.
pub fn welch_t_test(mean1: f64, var1: f64, n1: usize, mean2: f64, var2: f64, n2: usize) -> (f64, f64) {
    let (sd1, sd2) = (var1.sqrt(), var2.sqrt());
    let vn1 = sd1 * sd1 / n1 as f64;
    let vn2 = sd2 * sd2 / n2 as f64;
    let df = (vn1 + vn2) * (vn1 + vn2) / (vn1 * vn1 / (n1 as f64 - 1.0) + vn2 * vn2 / (n2 as f64 - 1.0));
    let df = if df.is_nan() { 1.0 } else { df };
    let t = (mean1 - mean2) / (vn1 + vn2).sqrt();
    (t, 2.0 * student_t_sf(t.abs(), df))
}

/// Benjamini–Hochberg adjusted p-values, as statsmodels' `multipletests(method="fdr_bh")`
/// computes them (after scanpy's NaN → 1): p₍ᵢ₎ / (i/n), running minimum from the largest,
/// capped at 1, in the input order.
pub fn benjamini_hochberg(pvals: &[f64]) -> Vec<f64> {
    let n = pvals.len();
    let p: Vec<f64> = pvals.iter().map(|&v| if v.is_nan() { 1.0 } else { v }).collect();
    let mut order: Vec<usize> = (0..n).collect();
    // Tied p-values end up with the same adjusted value whatever their order, so an unstable
    // sort (like numpy's quicksort argsort) gives the same result.
    order.sort_unstable_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![0.0; n];
    let mut running = f64::INFINITY;
    for (k, &i) in order.iter().enumerate().rev() {
        // statsmodels divides by ecdf = arange(1, n+1) / n, rounded once.
        let ecdf = (k + 1) as f64 / n as f64;
        running = running.min(p[i] / ecdf);
        adjusted[i] = running.min(1.0);
    }
    adjusted
}

/// The cells of every group and the tested groups, validated as scanpy validates them.
struct Design {
    /// Cells (row indices, ascending) of each group.
    members: Vec<Vec<usize>>,
    tests: Vec<usize>,
}

impl Design {
    fn new(n_cells: usize, cell_groups: &[Option<usize>], control: usize, min_cells: usize) -> Result<Self, DeError> {
        if cell_groups.len() != n_cells {
            return Err(DeError::LabelCount { cells: n_cells, labels: cell_groups.len() });
        }
        let max = cell_groups.iter().flatten().max().copied();
        if max.is_some_and(|m| m >= n_cells) {
            return Err(Self::sparse_numbering(cell_groups, control, min_cells));
        }
        let n_groups = max.map_or(0, |m| m + 1);
        let mut members = vec![Vec::new(); n_groups];
        for (cell, g) in cell_groups.iter().enumerate() {
            if let Some(g) = *g {
                members[g].push(cell);
            }
        }
        if members.get(control).is_none_or(Vec::is_empty) {
            return Err(DeError::MissingControl(control));
        }
        if n_groups < 2 {
            return Err(DeError::NoContrast(control));
        }
        if let Some((group, cells)) = members.iter().enumerate().find(|(_, m)| m.len() < min_cells.max(1)) {
            return Err(Self::too_small(group, cells.len(), min_cells));
        }
        let tests = (0..n_groups).filter(|&g| g != control).collect();
        Ok(Self { members, tests })
    }

    /// The error for group numbers reaching the number of cells, found without allocating per
    /// group number: more numbers than cells leave one below n_cells + 1 with fewer than 2 cells.
    fn sparse_numbering(cell_groups: &[Option<usize>], control: usize, min_cells: usize) -> DeError {
        let mut counts = std::collections::BTreeMap::new();
        for &g in cell_groups.iter().flatten() {
            *counts.entry(g).or_insert(0usize) += 1;
        }
        if !counts.contains_key(&control) {
            return DeError::MissingControl(control);
        }
        let (group, cells) = (0..)
            .map(|g| (g, counts.get(&g).copied().unwrap_or(0)))
            .find(|&(_, n)| n < min_cells.max(1))
            .expect("filling group numbers 0..=n takes n + 1 cells or more");
        Self::too_small(group, cells, min_cells)
    }

    fn too_small(group: usize, cells: usize, min_cells: usize) -> DeError {
        if min_cells < 2 {
            DeError::EmptyGroup { group }
        } else {
            DeError::GroupTooSmall { group, cells }
        }
    }
}

/// One group's data, gathered from its rows: Σx and Σx² per gene, summed over the cells in row
/// order as scanpy's sparse kernel does (and numpy's axis-0 mean of a dense array), and, when
/// asked, its non-zero values laid out by gene and sorted.
struct Gather {
    /// The first (cell, gene) whose value is not finite: the results are then not computed.
    non_finite: Option<(usize, usize)>,
    sum: Vec<f64>,
    sum_sq: Vec<f64>,
    /// Gene j's values are `values[offsets[j]..offsets[j + 1]]`.
    offsets: Vec<usize>,
    values: Vec<f64>,
}

impl Gather {
    /// Zeros are skipped: adding 0 changes no sum, and the rank statistics treat them as one block.
    fn new<X: CellsByGenes>(x: &X, cells: &[usize], keep_values: bool) -> Self {
        let genes = x.n_genes();
        let (mut sum, mut sum_sq) = (vec![0.0; genes], vec![0.0; genes]);
        let mut offsets = vec![0usize; if keep_values { genes + 1 } else { 1 }];
        let mut non_finite = None;
        for &cell in cells {
            x.for_each_in_row(cell, |j, v| {
                let f = v.to_f64();
                if !f.is_finite() {
                    // Cells come in row order and genes in column order: the first one met is the
                    // first in row order.
                    non_finite.get_or_insert((cell, j));
                } else if f != 0.0 {
                    sum[j] += f;
                    sum_sq[j] += v.square();
                    if keep_values {
                        offsets[j + 1] += 1;
                    }
                }
            });
        }
        if !keep_values || non_finite.is_some() {
            return Self { non_finite, sum, sum_sq, offsets, values: Vec::new() };
        }
        // Counting sort by gene, then each gene's values sorted.
        for j in 1..offsets.len() {
            offsets[j] += offsets[j - 1];
        }
        let mut values = vec![0.0; offsets[genes]];
        let mut next = offsets[..genes].to_vec();
        for &cell in cells {
            x.for_each_in_row(cell, |j, v| {
                let f = v.to_f64();
                if f != 0.0 {
                    values[next[j]] = f;
                    next[j] += 1;
                }
            });
        }
        for j in 0..genes {
            values[offsets[j]..offsets[j + 1]].sort_unstable_by(f64::total_cmp);
        }
        Self { non_finite, sum, sum_sq, offsets, values }
    }

    /// scanpy's _get_mean_var: mean = Σx/n, var = (Σx²/n − mean²)·n/(n − 1), per gene.
    fn moments(&self, n: usize) -> (Vec<f64>, Vec<f64>) {
        let (nf, factor) = (n as f64, n as f64 / (n - 1) as f64);
        self.sum
            .iter()
            .zip(&self.sum_sq)
            .map(|(&s, &s2)| {
                let mean = s / nf;
                (mean, (s2 / nf - mean * mean) * factor)
            })
            .unzip()
    }

    /// Gene j's sorted non-zero values (gathered with `keep_values`).
    fn gene(&self, j: usize) -> &[f64] {
        &self.values[self.offsets[j]..self.offsets[j + 1]]
    }
}

/// Σ(t³ − t) contribution of a tie block of size t.
fn tie_term(t: usize) -> u128 {
    let t = t as u128;
    t * t * t - t
}

/// The control's values at one gene, with what every comparison against it reuses.
struct Reference<'a> {
    /// Sorted non-zero values.
    nonzero: &'a [f64],
    zeros: usize,
    /// Number of negative values (they rank below the zero block).
    negatives: usize,
    /// Σ(t³ − t) over the control's tie blocks, the zero block included.
    ties: u128,
    /// A bucket index over [lo, hi]: value c falls in bucket ⌊(c − lo)·scale⌋ (capped), and
    /// `starts[b]` counts the values in buckets before b. With about one value per bucket,
    /// locating a group value among the control values costs O(1) instead of a binary search
    /// (which was most of the work, every group being compared with the same control).
    lo: f64,
    hi: f64,
    scale: f64,
    starts: Vec<usize>,
}

impl<'a> Reference<'a> {
    fn new(nonzero: &'a [f64], zeros: usize) -> Self {
        let mut ties = tie_term(zeros);
        let mut start = 0;
        while start < nonzero.len() {
            let run = nonzero[start..].iter().take_while(|&&w| w == nonzero[start]).count();
            ties += tie_term(run);
            start += run;
        }
        let negatives = nonzero.partition_point(|&w| w < 0.0);
        let n_buckets = nonzero.len().max(1);
        let (lo, hi) = match (nonzero.first(), nonzero.last()) {
            (Some(&lo), Some(&hi)) => (lo, hi),
            _ => (0.0, 0.0),
        };
        // hi − lo can overflow to ∞ for extreme values: scale 0 puts everything in one bucket,
        // which stays correct (a binary search over all values).
        let scale = if hi > lo { n_buckets as f64 / (hi - lo) } else { 0.0 };
        let mut reference = Self { nonzero, zeros, negatives, ties, lo, hi, scale, starts: vec![0; n_buckets + 1] };
        for &c in nonzero {
            let b = reference.bucket(c);
            reference.starts[b + 1] += 1;
        }
        for b in 1..=n_buckets {
            reference.starts[b] += reference.starts[b - 1];
        }
        reference
    }

    /// The bucket of a value in [lo, hi]. Rounding keeps (v − lo)·scale non-decreasing in v, so
    /// a value in an earlier bucket is smaller and one in a later bucket is larger.
    fn bucket(&self, v: f64) -> usize {
        (((v - self.lo) * self.scale) as usize).min(self.starts.len() - 2)
    }

    /// (control non-zero values below v, control non-zero values equal to v).
    fn locate(&self, v: f64) -> (usize, usize) {
        if self.nonzero.is_empty() || v < self.lo {
            return (0, 0);
        }
        if v > self.hi {
            return (self.nonzero.len(), 0);
        }
        let b = self.bucket(v);
        let bucket = &self.nonzero[self.starts[b]..self.starts[b + 1]];
        let below = bucket.partition_point(|&c| c < v);
        let equal = bucket[below..].iter().take_while(|&&c| c == v).count();
        (self.starts[b] + below, equal)
    }

    /// Twice the midrank sum of a group (sorted non-zero values and a count of zeros) in its
    /// union with the control (an exact integer), and the union's Σ(t³ − t).
    fn rank_sum(&self, nonzero: &[f64], zeros: usize) -> (u128, u128) {
        let mut twice_sum = 0u128;
        let mut ties = self.ties;
        // A block of `in_group` group values and `in_control` control values, all equal, above
        // `below` union values: midrank below + (in_group + in_control + 1)/2, and the union's
        // tie block grows from in_control to in_group + in_control.
        let mut add_block = |below: usize, in_group: usize, in_control: usize| {
            twice_sum += in_group as u128 * (2 * below + in_group + in_control + 1) as u128;
            ties += tie_term(in_group + in_control) - tie_term(in_control);
        };
        if zeros > 0 {
            let group_negatives = nonzero.partition_point(|&w| w < 0.0);
            add_block(group_negatives + self.negatives, zeros, self.zeros);
        }
        let mut i = 0;
        while i < nonzero.len() {
            let v = nonzero[i];
            let in_group = nonzero[i..].iter().take_while(|&&w| w == v).count();
            let (control_below, in_control) = self.locate(v);
            // Positive values also sit above both zero blocks.
            let zeros_below = if v > 0.0 { zeros + self.zeros } else { 0 };
            add_block(i + control_below + zeros_below, in_group, in_control);
            i += in_group;
        }
        (twice_sum, ties)
    }
}

/// scanpy's rank-sum z of a group of n cells against m control cells, with the same float
/// operations in the same order (`_RankGenes.wilcoxon` with a reference), and its two-sided p.
fn rank_sum_z(twice_sum: u128, ties: u128, n: usize, m: usize, tie_correct: bool) -> (f64, f64) {
    let total = n + m;
    // The midranks are multiples of ½, so scanpy's float64 sum of them is this value exactly.
    let rank_sum = twice_sum as f64 / 2.0;
    let var = if tie_correct {
        // _tiecorrect: 1 − Σ(t³ − t)/(N³ − N) in float64 (both integers are exact in float64).
        let size = total as f64;
        let tc = 1.0 - ties as f64 / (size * size * size - size);
        tc * n as f64 * m as f64 * (total + 1) as f64 / 12.0
    } else {
        // Without tie correction scanpy multiplies Python integers (exactly) before dividing.
        (n as u128 * m as u128 * (total + 1) as u128) as f64 / 12.0
    };
    let z = (rank_sum - n as f64 * ((total + 1) as f64 / 2.0)) / var.sqrt();
    // 0/0 when every value is tied and the correction zeroes the variance: scanpy sets 0.
    let z = if z.is_nan() { 0.0 } else { z };
    (z, 2.0 * normal_sf(z.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rank::average_ranks;

    /// Brute-force rank sum and tie term over the explicit union (scanpy's dense path).
    fn brute(group: &[f64], control: &[f64]) -> (f64, u128) {
        let union: Vec<f64> = group.iter().chain(control).copied().collect();
        let ranks = average_ranks(&union);
        let mut sorted = union.clone();
        sorted.sort_by(f64::total_cmp);
        let mut ties = 0;
        let mut i = 0;
        while i < sorted.len() {
            let run = sorted[i..].iter().take_while(|&&v| v == sorted[i]).count();
            ties += tie_term(run);
            i += run;
        }
        (ranks[..group.len()].iter().sum(), ties)
    }

    fn sample_of(values: &[f64]) -> (Vec<f64>, usize) {
        let mut nz: Vec<f64> = values.iter().copied().filter(|&v| v != 0.0).collect();
        nz.sort_by(f64::total_cmp);
        let zeros = values.len() - nz.len();
        (nz, zeros)
    }

    #[test]
    fn merged_rank_sum_matches_full_ranking() {
        let mut rng = crate::rng::SplitMix64::new(11);
        for case in 0..600 {
            // Zeros (about 40%) mixed with: small integers (many ties, negatives), continuous
            // values (no ties), clustered values with one extreme outlier (most values share a
            // bucket of the control's index) or values of ±1e300 (lo − hi overflows).
            let kind = case % 4;
            let mut draw = |n: usize| -> Vec<f64> {
                (0..n)
                    .map(|_| {
                        if rng.below(10) < 4 {
                            return 0.0;
                        }
                        match kind {
                            0 => rng.below(7) as f64 - 2.0 + if case % 3 == 0 { 0.5 } else { 0.0 },
                            1 => rng.normal(),
                            2 if rng.below(20) == 0 => 1e6,
                            2 => 1.0 + 1e-3 * rng.below(5) as f64,
                            _ => [-1e300, 1e300, 2.0, -0.5][rng.below(4) as usize],
                        }
                    })
                    .collect()
            };
            let (n, m) = (1 + case % 9, 2 + case % 23);
            let (group, control) = (draw(n), draw(m));
            let (gnz, gz) = sample_of(&group);
            let (cnz, cz) = sample_of(&control);
            let reference = Reference::new(&cnz, cz);
            let (twice, ties) = reference.rank_sum(&gnz, gz);
            let (want_sum, want_ties) = brute(&group, &control);
            assert_eq!(twice as f64 / 2.0, want_sum, "case {case}: {group:?} vs {control:?}");
            assert_eq!(ties, want_ties, "case {case}");
        }
    }

    #[test]
    fn bh_matches_hand_computation() {
        // p sorted: 0.01, 0.02, 0.03, 0.5 → raw 0.04, 0.04, 0.04, 0.5.
        let adj = benjamini_hochberg(&[0.5, 0.01, 0.03, 0.02]);
        let want = [0.5, 0.04, 0.04, 0.04];
        for (a, w) in adj.iter().zip(want) {
            assert!((a - w).abs() < 1e-15, "{adj:?}");
        }
        assert_eq!(benjamini_hochberg(&[f64::NAN, 0.9]), vec![1.0, 1.0]);
        assert!(benjamini_hochberg(&[]).is_empty());
    }

    #[test]
    fn sparse_and_dense_inputs_agree() {
        let dense = Matrix::from_rows(&[
            [0.0, 1.5, 0.0],
            [2.0, 0.0, 0.0],
            [0.0, 1.5, 3.0],
            [1.0, 0.0, 0.0],
            [0.0, 0.5, 0.0],
            [0.0, 0.0, 1.0],
            [4.0, 0.0, 0.0],
        ])
        .unwrap();
        let groups = [Some(1), Some(0), Some(1), None, Some(0), Some(0), Some(1)];
        let sparse = CsrMatrix::from_dense(&dense);
        assert_eq!(sparse.to_dense(), dense);
        for method in
            [DeMethod::TTest, DeMethod::Wilcoxon { tie_correct: false }, DeMethod::Wilcoxon { tie_correct: true }]
        {
            let a = rank_genes_vs_control(&dense, &groups, 0, method).unwrap();
            let b = rank_genes_vs_control(&sparse, &groups, 0, method).unwrap();
            assert_eq!(a, b);
            assert_eq!(a.groups, vec![1]);
            assert_eq!((a.group_sizes[0], a.control_size), (3, 3));
        }
        // A single cell is a group for target identification (scanpy refuses it).
        let single = [Some(1), Some(0), Some(2), None, Some(0), Some(0), Some(1)];
        let t = DeMethod::TTest;
        assert_eq!(
            rank_genes_vs_control(&dense, &single, 0, t).unwrap_err(),
            DeError::GroupTooSmall { group: 2, cells: 1 }
        );
        let w =
            rank_genes_vs_control_single_cells(&dense, &single, 0, DeMethod::Wilcoxon { tie_correct: true }).unwrap();
        assert_eq!(w.group_sizes, vec![2, 1]);
        // Cell 2 (gene 2 = 3.0) outranks every control on gene 2: U = 3 of 3, z > 0.
        assert!(w.scores.get(1, 2) > 1.0, "{:?}", w.scores);
        let t1 = rank_genes_vs_control_single_cells(&dense, &single, 0, t).unwrap();
        assert_eq!(t1.scores.row(1), &[0.0, 0.0, 0.0]);
        let gap = [Some(0), Some(2), None, None, None, None, None];
        assert_eq!(
            rank_genes_vs_control_single_cells(&dense, &gap, 0, t).unwrap_err(),
            DeError::EmptyGroup { group: 1 }
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let m = Matrix::from_rows(&[[1.0], [2.0], [3.0], [4.0], [5.0]]).unwrap();
        let t = DeMethod::TTest;
        assert_eq!(
            rank_genes_vs_control(&m, &[Some(0); 4], 0, t).unwrap_err(),
            DeError::LabelCount { cells: 5, labels: 4 }
        );
        assert_eq!(
            rank_genes_vs_control(&m, &[Some(0), Some(0), Some(1), Some(1), None], 2, t).unwrap_err(),
            DeError::MissingControl(2)
        );
        assert_eq!(rank_genes_vs_control(&m, &[Some(0); 5], 0, t).unwrap_err(), DeError::NoContrast(0));
        // A single-cell group is refused for every method, as scanpy does.
        let one = [Some(0), Some(0), Some(1), Some(2), Some(2)];
        for method in [t, DeMethod::Wilcoxon { tie_correct: false }] {
            assert_eq!(
                rank_genes_vs_control(&m, &one, 0, method).unwrap_err(),
                DeError::GroupTooSmall { group: 1, cells: 1 }
            );
        }
        // A group number with no cells is an empty group, also far beyond the number of cells.
        let gap = [Some(0), Some(0), Some(2), Some(2), None];
        assert_eq!(rank_genes_vs_control(&m, &gap, 0, t).unwrap_err(), DeError::GroupTooSmall { group: 1, cells: 0 });
        let huge = [Some(0), Some(0), Some(1), Some(1), Some(usize::MAX)];
        assert_eq!(rank_genes_vs_control(&m, &huge, 0, t).unwrap_err(), DeError::GroupTooSmall { group: 2, cells: 0 });
        assert_eq!(
            rank_genes_vs_control(&m, &huge, usize::MAX - 1, t).unwrap_err(),
            DeError::MissingControl(usize::MAX - 1)
        );
        // The first non-finite value in row order, across groups; cells in no group are not read.
        let nan = Matrix::from_rows(&[[1.0, 0.0], [2.0, f64::INFINITY], [3.0, f64::NAN], [4.0, 0.0], [f64::NAN, 0.0]])
            .unwrap();
        for method in [t, DeMethod::Wilcoxon { tie_correct: true }] {
            assert_eq!(
                rank_genes_vs_control(&nan, &[Some(1), Some(0), Some(0), Some(1), None], 0, method).unwrap_err(),
                DeError::NonFinite { cell: 1, gene: 1 }
            );
        }
    }

    #[test]
    fn constant_genes_follow_scanpy() {
        // Gene 0 all zero: t = 0/0 → 0, p = 1; Wilcoxon without correction z = 0, with
        // correction 0/0 → 0. Gene 1 constant within groups but different: t = −inf, p = 0.
        let m = Matrix::from_rows(&[[0.0, 2.0], [0.0, 2.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]).unwrap();
        let groups = [Some(0), Some(0), Some(1), Some(1), Some(1)];
        let t = rank_genes_vs_control(&m, &groups, 0, DeMethod::TTest).unwrap();
        assert_eq!((t.scores.get(0, 0), t.pvals.get(0, 0), t.log_fold_changes.get(0, 0)), (0.0, 1.0, 0.0));
        assert_eq!((t.scores.get(0, 1), t.pvals.get(0, 1), t.pvals_adj.get(0, 1)), (f64::NEG_INFINITY, 0.0, 0.0));
        for tie_correct in [false, true] {
            let w = rank_genes_vs_control(&m, &groups, 0, DeMethod::Wilcoxon { tie_correct }).unwrap();
            assert_eq!((w.scores.get(0, 0), w.pvals.get(0, 0)), (0.0, 1.0));
            assert!(w.scores.get(0, 1) < 0.0);
        }
    }
}
