//! `cellcast pseudobulk`: arguments → options → call → print.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use cellcast::engine::data::h5ad::MatrixEncoding;
use cellcast::pseudobulk::{self, Aggregation, Normalization};
use cellcast::CellsSource;

use crate::observer::Terminal;

pub const LONG_ABOUT: &str = "\
Pseudobulk an AnnData file: one row per group of cells (an obs column's labels), one column per
gene, the mean (or sum) over the group's cells after a per-cell normalisation.

  cp10k-log1p  ln(1 + x / total × 1e4): scanpy's normalize_total(target_sum=1e4) + log1p
  cpm-log2     log2(x / total × 1e6 + 1): log2(CPM + 1)
  none         X as stored

Without --normalize the data decide: when every stored value is a non-negative integer, X holds
raw counts and is normalised with cp10k-log1p; otherwise it is used as stored. Which was assumed,
and why, is printed on stderr. For summed raw counts (a pseudobulk count matrix for DE), pass
--agg sum --normalize none.

Groups follow scanpy's sc.get.aggregate: categories in category order, other labels sorted;
cells without a label are left out (and counted on stderr). With --replicate-column the rows are
the (group, replicate) pairs that occur, with ids `group|replicate`. The id column is named `id`
whatever the group column, so the table goes as it is into `cellcast score`, `de limma` and
`weights`.

The matrix is read in blocks of cells (CSR, dense) or genes (CSC, two passes), never whole:
memory is O(groups × genes + cells) plus one block (about 25 MB by default, --block to change).

Output (--out): the `id` column, then one column per gene named by var_names (made unique as
anndata's var_names_make_unique does); CSV, or Parquet when the name ends in .parquet; written
atomically.

Example:
  cellcast pseudobulk --h5ad cells.h5ad --group-column perturbation --out pseudobulk.csv
  cellcast pseudobulk --h5ad cells.h5ad --group-column condition --replicate-column donor \\
      --agg sum --normalize none --layer counts --out counts.parquet";

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum NormalizeArg {
    /// scanpy normalize_total(target_sum=1e4) + log1p.
    #[value(name = "cp10k-log1p")]
    Cp10kLog1p,
    /// log2(counts per million + 1).
    #[value(name = "cpm-log2")]
    CpmLog2,
    /// The values as stored.
    #[value(name = "none")]
    None,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum AggArg {
    Mean,
    Sum,
}

#[derive(clap::Args)]
pub struct PseudobulkArgs {
    /// The AnnData file (.h5ad).
    #[arg(long)]
    pub h5ad: PathBuf,
    /// The obs column whose labels are the groups.
    #[arg(long)]
    pub group_column: String,
    /// Per-cell normalisation [default: cp10k-log1p for raw counts, else none; see --help].
    #[arg(long, value_enum)]
    pub normalize: Option<NormalizeArg>,
    /// Aggregate a layer instead of X.
    #[arg(long)]
    pub layer: Option<String>,
    /// Mean or sum over the cells of a group.
    #[arg(long, value_enum, default_value = "mean")]
    pub agg: AggArg,
    /// An obs column crossed with the groups: one row per (group, replicate) pair.
    #[arg(long)]
    pub replicate_column: Option<String>,
    /// Cells (genes for a CSC matrix) per block, at least 1 [default: about 1M stored values per
    /// block]. The output does not depend on it.
    #[arg(long, value_name = "N", value_parser = crate::args::whole(1..=usize::MAX))]
    pub block: Option<usize>,
    /// Output: CSV, or Parquet by extension.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: &PseudobulkArgs) -> Result<()> {
    let start = Instant::now();
    let opts = pseudobulk::PseudobulkOptions {
        cells: CellsSource::H5ad(args.h5ad.clone()),
        group_column: args.group_column.clone(),
        replicate_column: args.replicate_column.clone(),
        layer: args.layer.clone(),
        normalize: args.normalize.map(NormalizeArg::normalization),
        agg: match args.agg {
            AggArg::Mean => Aggregation::Mean,
            AggArg::Sum => Aggregation::Sum,
        },
        block: args.block,
        out: Some(args.out.clone()),
    };
    let pb = pseudobulk::pseudobulk(&opts, &Terminal::default())?;
    eprintln!(
        "wrote {} ({} × {}) in {:.2} s ({} block(s) of {} {})",
        args.out.display(),
        pb.ids.len(),
        pb.genes.len(),
        start.elapsed().as_secs_f64(),
        pb.blocks,
        pb.block,
        if pb.matrix.encoding == MatrixEncoding::Csc { "genes" } else { "cells" }
    );
    Ok(())
}

impl NormalizeArg {
    pub fn normalization(self) -> Normalization {
        match self {
            NormalizeArg::Cp10kLog1p => Normalization::Cp10kLog1p,
            NormalizeArg::CpmLog2 => Normalization::CpmLog2,
            NormalizeArg::None => Normalization::None,
        }
    }
}
