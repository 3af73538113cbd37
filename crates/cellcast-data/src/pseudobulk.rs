//! Pseudobulk: the expression of every group of cells (a perturbation, a condition, a
//! (condition, replicate) pair), averaged or summed over its cells, from an `.h5ad` file in one
//! streaming pass.
//!
//! Each cell is normalised on its own first ([`Normalization`]), then the groups are
//! aggregated:
//!
//! - `cp10k-log1p`: `ln(1 + x / (total / 1e4))` with `total` the cell's sum over all genes —
//!   scanpy's `sc.pp.normalize_total(adata, target_sum=1e4)` followed by `sc.pp.log1p`,
//!   operation for operation. A cell with no counts stays 0 (scanpy leaves it unscaled).
//! - `cpm-log2`: `log2(x / total * 1e6 + 1)`, the log2(CPM + 1) of the VCPI contest code, written
//!   as `cellcast weights vcpi` computes it (an empty cell stays 0).
//! - `none`: the values as stored.
//!
//! The mean of a group is the sum over its cells, in cell order, divided by the number of
//! cells — what scanpy's `sc.get.aggregate(adata, by=…, func="mean")` computes (its sparse
//! indicator product adds the cells of a group in order). With float64 `X` the results agree
//! with scanpy's to the last bit or so (numpy's dense row sums are pairwise, ours sequential);
//! with float32 `X` scanpy normalises in float32 while cellcast widens every stored value to f64
//! first, so they agree to float32 rounding (about 1e-7 relative).
//!
//! Groups are the labels of an obs column, in the order scanpy and pandas give them (see
//! [`crate::h5ad::AnnColumn::grouping`]): categories in category order, other values sorted;
//! groups without cells are left out and so are cells without a label (NaN, masked) — scanpy's
//! `aggregate` fails on those; pandas' `groupby` drops them, as here. With a replicate column the
//! groups are the (group, replicate) pairs that occur, labelled `group|replicate`.
//!
//! # When `--normalize` is not given
//!
//! [`PseudobulkOptions::normalize`] `None` decides from the data: when every stored value of the
//! matrix is a non-negative integer, the matrix holds raw counts and is normalised with
//! `cp10k-log1p`; otherwise it is already transformed and is used as stored. The decision needs
//! every value, and the pass is single, so both aggregates are accumulated (twice the group ×
//! gene memory) and the one the data call for is kept. [`Pseudobulk::normalization`] says which
//! was assumed and why, so the caller can tell the user (cell-eval guesses silently).
//!
//! # Memory
//!
//! O(groups × genes) for the sums (× 2 when the normalisation is decided from the data),
//! O(cells) for the group of each cell, plus one block of the matrix: about 24 bytes per stored
//! value of the block while it is decoded. Blocks hold [`BLOCK_VALUES`] stored values on average
//! (cells per block = cells × `BLOCK_VALUES` / stored values) unless
//! [`PseudobulkOptions::block`] says otherwise. A CSC matrix is read by gene blocks in two passes
//! (per-cell totals, then the sums), adding O(cells) for the totals; CSR and dense matrices are
//! read once, by cell blocks. The result does not depend on the block size, nor on whether the
//! matrix is CSR, CSC or dense: every sum adds the same values in the same order.

use cellcast_stats::sparse::CsrMatrix;
use cellcast_stats::Matrix;

use crate::anndata::CellSource;
use crate::error::Result;
use crate::h5ad::{Grouping, MatrixEncoding, MatrixInfo};
use crate::output::{Column, OutputTable};

/// Stored values per block when [`PseudobulkOptions::block`] is `None` (about 25 MB while a
/// block is decoded).
pub const BLOCK_VALUES: usize = 1 << 20;

/// How each cell is normalised before aggregation (see the [module documentation](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalization {
    /// scanpy `normalize_total(target_sum=1e4)` + `log1p`.
    Cp10kLog1p,
    /// log2(counts per million + 1).
    CpmLog2,
    /// The values as stored.
    None,
}

impl Normalization {
    /// The name the CLI uses: `cp10k-log1p`, `cpm-log2`, `none`.
    pub fn name(self) -> &'static str {
        match self {
            Normalization::Cp10kLog1p => "cp10k-log1p",
            Normalization::CpmLog2 => "cpm-log2",
            Normalization::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Normalization> {
        match s {
            "cp10k-log1p" => Some(Normalization::Cp10kLog1p),
            "cpm-log2" => Some(Normalization::CpmLog2),
            "none" => Some(Normalization::None),
            _ => None,
        }
    }

    /// The per-cell factor: `total / 1e4` (cp10k), `total` (CPM), unused otherwise.
    pub(crate) fn factor(self, total: f64) -> f64 {
        match self {
            Normalization::Cp10kLog1p => total / 1e4,
            _ => total,
        }
    }

    /// One stored value `v` of a cell whose [`Normalization::factor`] is `f`, normalised.
    /// Zero stays zero, so sparse entries stay sparse.
    pub(crate) fn apply(self, v: f64, f: f64) -> f64 {
        match self {
            // scanpy divides by counts_per_cell / target_sum, skipping cells whose total is 0.
            Normalization::Cp10kLog1p => (if f == 0.0 { v } else { v / f }).ln_1p(),
            Normalization::CpmLog2 => ((if f == 0.0 { v } else { v / f * 1e6 }) + 1.0).log2(),
            Normalization::None => v,
        }
    }
}

/// How the cells of a group are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    Mean,
    /// For raw counts (with [`Normalization::None`]): the pseudobulk count matrix.
    Sum,
}

impl Aggregation {
    pub fn name(self) -> &'static str {
        match self {
            Aggregation::Mean => "mean",
            Aggregation::Sum => "sum",
        }
    }
}

/// What to aggregate.
#[derive(Debug, Clone, Copy)]
pub struct PseudobulkOptions<'a> {
    /// A layer instead of `X`.
    pub layer: Option<&'a str>,
    /// The obs column whose labels are the groups.
    pub group_column: &'a str,
    /// An obs column crossed with the groups: one row per (group, replicate) pair.
    pub replicate_column: Option<&'a str>,
    /// `None`: decided from the data (see the [module documentation](self)).
    pub normalize: Option<Normalization>,
    pub agg: Aggregation,
    /// Cells per block (CSR, dense) or genes per block (CSC); `None` sizes blocks from
    /// [`BLOCK_VALUES`].
    pub block: Option<usize>,
}

/// The normalisation used, and whether it was given or assumed from the data.
#[derive(Debug, Clone, PartialEq)]
pub struct NormalizationChoice {
    pub normalization: Normalization,
    /// `false` when the caller chose it.
    pub assumed: bool,
    /// Why (for an assumed choice): what the values looked like.
    pub reason: String,
}

/// What the stored values look like: whether they could be raw counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValueCheck {
    /// Every stored value is a non-negative integer.
    pub counts: bool,
    /// The first value that is not (cell, gene, value).
    pub first_non_count: Option<(usize, usize, f64)>,
    /// The largest stored value (NaN ignored).
    pub max: f64,
    /// Stored values seen.
    pub stored: u64,
}

impl ValueCheck {
    pub(crate) fn new() -> Self {
        ValueCheck { counts: true, first_non_count: None, max: f64::NEG_INFINITY, stored: 0 }
    }

    pub(crate) fn see(&mut self, cell: usize, gene: usize, v: f64) {
        self.stored += 1;
        if v > self.max {
            self.max = v;
        }
        if self.counts && !(v >= 0.0 && v.fract() == 0.0) {
            self.counts = false;
            self.first_non_count = Some((cell, gene, v));
        }
    }
}

/// Progress of a pseudobulk pass, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// 1-based pass (CSC matrices take two).
    pub pass: usize,
    pub passes: usize,
    pub done: usize,
    pub total: usize,
    /// `cells` or `genes`.
    pub unit: &'static str,
}

/// The name of a pseudobulk table's id column: `id`, what `score`, `de limma` and `weights` read
/// by default.
pub const PSEUDOBULK_ID: &str = "id";

/// One row per group, one column per gene.
#[derive(Debug, Clone)]
pub struct Pseudobulk {
    /// What the ids are: the group column's name, or `group|replicate` with a replicate column.
    /// The table's id column is always named [`PSEUDOBULK_ID`], so that every command reads it.
    pub id_column: String,
    /// The group labels (`group|replicate` with a replicate column).
    pub ids: Vec<String>,
    /// Cells per group.
    pub n_cells: Vec<usize>,
    /// The gene names (`var_names`, made unique as anndata's `var_names_make_unique` does).
    pub genes: Vec<String>,
    /// How many gene names were renamed to make them unique.
    pub renamed_genes: usize,
    /// groups × genes.
    pub values: Matrix,
    pub normalization: NormalizationChoice,
    pub agg: Aggregation,
    /// Cells left out because their group (or replicate) label is missing.
    pub cells_without_group: usize,
    /// The matrix read.
    pub matrix: MatrixInfo,
    pub check: ValueCheck,
    /// Cells (or genes, for CSC) per block, and the number of blocks read per pass.
    pub block: usize,
    pub blocks: usize,
}

impl Pseudobulk {
    /// The id column, then one float column per gene.
    pub fn to_table(&self) -> OutputTable {
        let mut table =
            OutputTable::new().with(PSEUDOBULK_ID, Column::Text(self.ids.iter().cloned().map(Some).collect()));
        for (j, gene) in self.genes.iter().enumerate() {
            table = table.with(gene, Column::Float((0..self.values.nrows()).map(|g| self.values.get(g, j)).collect()));
        }
        table
    }

    /// Writes the table (CSV, or Parquet for `.parquet` / `.pq`) atomically.
    pub fn write(&self, path: &std::path::Path) -> Result<()> {
        self.to_table().write(path)
    }
}

/// Sums per group × gene, in cell order.
struct Sums {
    n_vars: usize,
    values: Vec<f64>,
}

impl Sums {
    /// Zeroed sums, or an error when groups × genes cannot be allocated (grouping by a column
    /// with a label per cell can ask for terabytes).
    fn new(groups: usize, n_vars: usize) -> std::result::Result<Self, String> {
        let n = groups.checked_mul(n_vars).ok_or_else(|| "more than 2^64 sums".to_string())?;
        let mut values = Vec::new();
        values.try_reserve_exact(n).map_err(|_| {
            format!("cannot allocate {groups} groups × {n_vars} genes of sums ({:.1} GB)", n as f64 * 8.0 / 1e9)
        })?;
        values.resize(n, 0.0);
        Ok(Sums { n_vars, values })
    }

    fn add(&mut self, group: u32, gene: usize, v: f64) {
        self.values[group as usize * self.n_vars + gene] += v;
    }
}

/// What each stored value feeds.
enum Mode {
    Fixed(Normalization, Sums),
    /// Decided after the pass: the raw sums and the cp10k-log1p sums side by side.
    Auto {
        raw: Sums,
        normalized: Sums,
    },
}

/// Computes the pseudobulk of the cells of `src`, a file or an AnnData in memory (see the
/// [module documentation](self)). `progress` is called after every block.
pub fn pseudobulk(
    src: &dyn CellSource,
    opts: &PseudobulkOptions<'_>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Pseudobulk> {
    src.validate()?;
    let mut grouping = src.obs_column(opts.group_column)?.grouping();
    let mut id_column = opts.group_column.to_string();
    if let Some(rep) = opts.replicate_column {
        grouping = grouping.cross(&src.obs_column(rep)?.grouping());
        id_column = format!("{}|{rep}", opts.group_column);
    }
    if grouping.labels.is_empty() {
        let what = opts.replicate_column.map_or_else(String::new, |r| format!(" and '{r}'"));
        return Err(src.error(
            &format!("obs/{}", opts.group_column),
            format!("no cell has a label in '{}'{what}: there is no group to aggregate", opts.group_column),
        ));
    }
    let info = src.matrix_info(opts.layer)?;
    let (genes, renamed_genes) = make_unique(src.var_names());
    if genes.iter().any(|g| g == PSEUDOBULK_ID) {
        return Err(
            src.error("var", format!("a gene is named '{PSEUDOBULK_ID}', like the id column of the output; rename it"))
        );
    }
    let (n_obs, n_vars) = src.shape();
    let groups = grouping.labels.len();
    let sums = |what: &str| {
        Sums::new(groups, n_vars).map_err(|message| {
            src.error(
                &format!("obs/{}", opts.group_column),
                format!("{message}{what}; is '{}' really a grouping column?", opts.group_column),
            )
        })
    };
    let mut check = ValueCheck::new();
    let (norm, sums, block, blocks) = match info.encoding {
        MatrixEncoding::Csr | MatrixEncoding::Dense => {
            let mut mode = match opts.normalize {
                Some(n) => Mode::Fixed(n, sums("")?),
                None => Mode::Auto { raw: sums("")?, normalized: sums(" (twice, to decide the normalisation)")? },
            };
            let block = opts.block.unwrap_or_else(|| auto_block(&info, n_obs)).max(1);
            let mut blocks = 0;
            for b in src.row_blocks(opts.layer, block)? {
                let b = b?;
                accumulate_rows(&b.rows, b.start, &grouping, &mut mode, &mut check);
                blocks += 1;
                let done = b.start + b.rows.n_rows();
                progress(&Progress { pass: 1, passes: 1, done, total: n_obs, unit: "cells" });
            }
            let (norm, sums) = match mode {
                Mode::Fixed(n, sums) => (n, sums),
                Mode::Auto { normalized, .. } if check.counts => (Normalization::Cp10kLog1p, normalized),
                Mode::Auto { raw, .. } => (Normalization::None, raw),
            };
            (norm, sums, block, blocks)
        }
        MatrixEncoding::Csc => {
            let block = opts.block.unwrap_or_else(|| auto_block(&info, n_vars)).max(1);
            // Pass 1: every cell's total (added gene by gene, as a CSR row adds them) and the
            // value check, so the normalisation is known before pass 2 and one set of sums is
            // enough.
            let mut totals = vec![0.0f64; n_obs];
            let mut blocks = 0;
            for b in src.column_blocks(opts.layer, block)? {
                let b = b?;
                for k in 0..b.genes.n_rows() {
                    let (cells, vals) = b.genes.row(k);
                    for (&i, &v) in cells.iter().zip(vals) {
                        totals[i as usize] += v;
                        check.see(i as usize, b.start + k, v);
                    }
                }
                blocks += 1;
                let done = b.start + b.genes.n_rows();
                progress(&Progress { pass: 1, passes: 2, done, total: n_vars, unit: "genes" });
            }
            let norm =
                opts.normalize.unwrap_or(if check.counts { Normalization::Cp10kLog1p } else { Normalization::None });
            let mut sums = sums("")?;
            let factors: Vec<f64> = totals.iter().map(|&t| norm.factor(t)).collect();
            drop(totals);
            for b in src.column_blocks(opts.layer, block)? {
                let b = b?;
                for k in 0..b.genes.n_rows() {
                    let gene = b.start + k;
                    let (cells, vals) = b.genes.row(k);
                    for (&i, &v) in cells.iter().zip(vals) {
                        if let Some(g) = grouping.of_cell[i as usize] {
                            sums.add(g, gene, norm.apply(v, factors[i as usize]));
                        }
                    }
                }
                let done = b.start + b.genes.n_rows();
                progress(&Progress { pass: 2, passes: 2, done, total: n_vars, unit: "genes" });
            }
            (norm, sums, block, blocks)
        }
    };
    let normalization = match opts.normalize {
        Some(_) => NormalizationChoice { normalization: norm, assumed: false, reason: String::new() },
        None => assumed(norm, &check, &info, src),
    };
    let n_cells = grouping.sizes();
    let mut values = sums.values;
    if opts.agg == Aggregation::Mean {
        for (g, row) in values.chunks_mut(n_vars.max(1)).enumerate().take(groups) {
            let n = n_cells[g] as f64;
            for v in row {
                *v /= n;
            }
        }
    }
    let values = Matrix::from_row_major(groups, n_vars, values)
        .ok_or_else(|| src.error(&info.object, "internal error: the sums do not fill groups × genes".to_string()))?;
    Ok(Pseudobulk {
        id_column,
        ids: grouping.labels.clone(),
        n_cells,
        genes,
        renamed_genes,
        values,
        normalization,
        agg: opts.agg,
        cells_without_group: grouping.unlabelled(),
        matrix: info,
        check,
        block,
        blocks,
    })
}

fn accumulate_rows(rows: &CsrMatrix<f64>, start: usize, grouping: &Grouping, mode: &mut Mode, check: &mut ValueCheck) {
    for r in 0..rows.n_rows() {
        let cell = start + r;
        let (idx, vals) = rows.row(r);
        for (&j, &v) in idx.iter().zip(vals) {
            check.see(cell, j as usize, v);
        }
        let Some(g) = grouping.of_cell[cell] else { continue };
        match mode {
            Mode::Fixed(Normalization::None, sums) => {
                for (&j, &v) in idx.iter().zip(vals) {
                    sums.add(g, j as usize, v);
                }
            }
            Mode::Fixed(norm, sums) => {
                let f = norm.factor(vals.iter().sum());
                for (&j, &v) in idx.iter().zip(vals) {
                    sums.add(g, j as usize, norm.apply(v, f));
                }
            }
            Mode::Auto { raw, normalized } => {
                let norm = Normalization::Cp10kLog1p;
                let f = norm.factor(vals.iter().sum());
                for (&j, &v) in idx.iter().zip(vals) {
                    raw.add(g, j as usize, v);
                    normalized.add(g, j as usize, norm.apply(v, f));
                }
            }
        }
    }
}

/// The reason given for a normalisation decided from the data.
pub(crate) fn assumed(
    n: Normalization,
    check: &ValueCheck,
    info: &MatrixInfo,
    src: &dyn CellSource,
) -> NormalizationChoice {
    let reason = match check.first_non_count {
        None if check.stored == 0 => {
            format!("{} stores no values (an all-zero matrix counts as raw counts)", info.object)
        }
        None => format!(
            "every stored value of {} ({} {}, {} values, largest {}) is a non-negative integer: raw counts",
            info.object,
            info.encoding,
            info.value_type,
            check.stored,
            crate::write::format_number(check.max)
        ),
        Some((cell, gene, v)) => format!(
            "{} ({} {}) holds values that are not non-negative integers (cell '{}', gene '{}': {}): already \
             normalised or transformed",
            info.object,
            info.encoding,
            info.value_type,
            src.obs_names().get(cell).map_or("?", String::as_str),
            src.var_names().get(gene).map_or("?", String::as_str),
            if v.is_nan() { "NaN".to_string() } else { crate::write::format_number(v) }
        ),
    };
    NormalizationChoice { normalization: n, assumed: true, reason }
}

/// Cells (or genes) per block so that a block holds about [`BLOCK_VALUES`] stored values.
pub(crate) fn auto_block(info: &MatrixInfo, major: usize) -> usize {
    let per_major = match info.encoding {
        MatrixEncoding::Dense => info.shape.1 as f64,
        _ => info.stored as f64 / major.max(1) as f64,
    };
    if per_major <= 0.0 {
        return major.max(1);
    }
    ((BLOCK_VALUES as f64 / per_major) as usize).clamp(1, major.max(1))
}

/// anndata's `var_names_make_unique`: the second and later copies of a name get `-1`, `-2`, …
/// (skipping suffixes that are already names).
pub fn make_unique(names: &[String]) -> (Vec<String>, usize) {
    use std::collections::{HashMap, HashSet};
    let mut taken: HashSet<String> = names.iter().cloned().collect();
    if taken.len() == names.len() {
        return (names.to_vec(), 0);
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut renamed = 0;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let count = seen.entry(name.as_str()).or_insert(0);
        if *count == 0 {
            *count = 1;
            out.push(name.clone());
            continue;
        }
        let mut k = *count;
        let mut candidate = format!("{name}-{k}");
        while taken.contains(&candidate) {
            k += 1;
            candidate = format!("{name}-{k}");
        }
        *count = k + 1;
        taken.insert(candidate.clone());
        out.push(candidate);
        renamed += 1;
    }
    (out, renamed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisations_follow_scanpy_and_vcpi() {
        let n = Normalization::Cp10kLog1p;
        let f = n.factor(20.0);
        assert_eq!(n.apply(5.0, f), (5.0f64 / (20.0 / 1e4)).ln_1p());
        assert_eq!(n.apply(0.0, f), 0.0);
        assert_eq!(n.apply(3.0, n.factor(0.0)), 3.0f64.ln_1p()); // an empty cell is left unscaled
        let c = Normalization::CpmLog2;
        assert_eq!(c.apply(5.0, c.factor(20.0)), (5.0f64 / 20.0 * 1e6 + 1.0).log2());
        assert_eq!(c.apply(0.0, c.factor(20.0)), 0.0);
        assert_eq!(Normalization::None.apply(2.5, 7.0), 2.5);
        for n in [Normalization::Cp10kLog1p, Normalization::CpmLog2, Normalization::None] {
            assert_eq!(Normalization::parse(n.name()), Some(n));
        }
    }

    #[test]
    fn counts_check() {
        let mut c = ValueCheck::new();
        c.see(0, 0, 3.0);
        c.see(0, 1, 0.0);
        assert!(c.counts);
        c.see(1, 2, 0.5);
        c.see(1, 3, -1.0);
        assert!(!c.counts);
        assert_eq!(c.first_non_count, Some((1, 2, 0.5)));
        let mut c = ValueCheck::new();
        c.see(0, 0, f64::NAN);
        assert!(!c.counts);
        let mut c = ValueCheck::new();
        c.see(0, 0, f64::INFINITY);
        assert!(!c.counts);
    }

    #[test]
    fn unique_gene_names_like_anndata() {
        let names: Vec<String> = ["a", "b", "a", "a-1", "a"].iter().map(|s| s.to_string()).collect();
        let (u, n) = make_unique(&names);
        assert_eq!(u, vec!["a", "b", "a-2", "a-1", "a-3"]);
        assert_eq!(n, 2);
    }
}
