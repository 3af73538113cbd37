//! Pseudobulk: one row per group of cells (an obs column's labels), one column per gene, the
//! mean (or sum) over the group's cells after a per-cell normalisation — from an `.h5ad` file
//! streamed in blocks, or from an AnnData in memory, with the same numbers.

use std::path::PathBuf;

use cellcast_data::h5ad::MatrixEncoding;
pub use cellcast_data::pseudobulk::{Aggregation, Normalization, NormalizationChoice, Pseudobulk};

use crate::cells::CellsSource;
use crate::{bail, Context, Observer, Progress, Result, Unit};

/// Options of [`pseudobulk`].
#[derive(Debug, Clone)]
pub struct PseudobulkOptions<'a> {
    pub cells: CellsSource<'a>,
    /// The obs column whose labels are the groups.
    pub group_column: String,
    /// An obs column crossed with the groups: one row per (group, replicate) pair, with ids
    /// `group|replicate`.
    pub replicate_column: Option<String>,
    /// Aggregate a layer instead of X.
    pub layer: Option<String>,
    /// `None`: cp10k-log1p when every stored value is a non-negative integer (raw counts), else
    /// none; the outcome says which and why.
    pub normalize: Option<Normalization>,
    pub agg: Aggregation,
    /// Cells (genes for a CSC matrix) per block, at least 1; `None`: about 1M stored values per
    /// block. The result does not depend on it.
    pub block: Option<usize>,
    /// `id` + one column per gene: CSV, or Parquet when it ends in `.parquet`; `None`: only
    /// return the table.
    pub out: Option<PathBuf>,
}

impl Default for PseudobulkOptions<'_> {
    fn default() -> Self {
        Self {
            cells: CellsSource::default(),
            group_column: String::new(),
            replicate_column: None,
            layer: None,
            normalize: None,
            agg: Aggregation::Mean,
            block: None,
            out: None,
        }
    }
}

impl PseudobulkOptions<'_> {
    pub fn validate(&self) -> Result<()> {
        if self.group_column.is_empty() {
            bail!("give the obs column whose labels are the groups (group column)");
        }
        if self.block == Some(0) {
            bail!("block must be at least 1 (cells or genes per block)");
        }
        self.cells.validate()
    }
}

/// The pseudobulk table — `ids` (groups), `genes`, `values` (groups × genes) — and what was
/// assumed: [`Pseudobulk::normalization`] (given, or decided from the data and why),
/// `cells_without_group`, `renamed_genes`, the cells of each group, the matrix read.
pub type PseudobulkOutcome = Pseudobulk;

/// Aggregates the cells of every group (see [`PseudobulkOptions`]); notes what was read and
/// assumed, and writes the table when `out` is given.
pub fn pseudobulk(opts: &PseudobulkOptions<'_>, observer: &dyn Observer) -> Result<PseudobulkOutcome> {
    opts.validate()?;
    let opened = opts.cells.open()?;
    let src = opened.source();
    let layer = opts.layer.as_deref();
    let info = src.matrix_info(layer)?;
    let (n_obs, n_vars) = src.shape();
    observer.note(&format!(
        "{}: {} cells × {} genes; {} is {} {} ({} stored values{})",
        opts.cells.name(),
        n_obs,
        n_vars,
        info.object,
        info.encoding,
        info.value_type,
        info.stored,
        if info.compressed { ", compressed" } else { "" }
    ));
    if info.encoding == MatrixEncoding::Csc {
        observer.note(&format!(
            "  {} is CSC: reading it by gene blocks, in two passes (totals per cell, then sums)",
            info.object
        ));
    }
    let data_opts = cellcast_data::pseudobulk::PseudobulkOptions {
        layer,
        group_column: &opts.group_column,
        replicate_column: opts.replicate_column.as_deref(),
        normalize: opts.normalize,
        agg: opts.agg,
        block: opts.block,
    };
    // One progress step per pass: (pass, its handle, units done so far).
    let mut current: Option<(usize, Box<dyn Progress>, usize)> = None;
    let mut on_progress = |p: &cellcast_data::pseudobulk::Progress| {
        if current.as_ref().is_none_or(|(pass, _, _)| *pass != p.pass) {
            if let Some((_, bar, _)) = current.take() {
                bar.finish();
            }
            let label =
                if p.passes > 1 { format!("pass {}/{}: {}", p.pass, p.passes, p.unit) } else { p.unit.to_string() };
            current = Some((p.pass, observer.progress(&label, p.total as u64, Unit::Items), 0));
        }
        if let Some((_, bar, done)) = current.as_mut() {
            bar.advance(p.done.saturating_sub(*done) as u64);
            *done = p.done;
        }
    };
    let result = cellcast_data::pseudobulk::pseudobulk(src, &data_opts, &mut on_progress);
    if let Some((_, bar, _)) = current.take() {
        bar.finish();
    }
    let pb = result.context("pseudobulk")?;

    crate::cells::note_normalization(&pb.normalization, observer, |choice| {
        let hint = match (choice.normalization, pb.agg) {
            (Normalization::Cp10kLog1p, Aggregation::Sum) => "; for summed raw counts pass --normalize none",
            (Normalization::Cp10kLog1p, _) => "; pass --normalize none to average the values as stored",
            _ => "; pass --normalize cp10k-log1p or cpm-log2 if they are counts after all",
        };
        format!("  (say --normalize explicitly to silence this{hint})")
    });
    let (smallest, largest) = pb.n_cells.iter().fold((usize::MAX, 0), |(lo, hi), &n| (lo.min(n), hi.max(n)));
    observer.note(&format!(
        "{} groups of {}..{} cells ({} of '{}'){}",
        pb.ids.len(),
        smallest,
        largest,
        pb.agg.name(),
        pb.id_column,
        if pb.cells_without_group > 0 {
            format!("; {} cells without a label left out", pb.cells_without_group)
        } else {
            String::new()
        }
    ));
    if pb.renamed_genes > 0 {
        observer.warning(&format!("{} repeated gene names were made unique (suffix -1, -2, …)", pb.renamed_genes));
    }
    if let Some(out) = &opts.out {
        pb.write(out).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(pb)
}
