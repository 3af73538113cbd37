//! `cellcast pseudobulk`: per-group mean (or sum) expression from an `.h5ad` file, streamed.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use cellcast_data::h5ad::{H5ad, MatrixEncoding};
use cellcast_data::pseudobulk::{pseudobulk, Aggregation, Normalization, Progress, PseudobulkOptions};
use indicatif::{ProgressBar, ProgressStyle};

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
    let h5 = H5ad::open(&args.h5ad).with_context(|| format!("reading {}", args.h5ad.display()))?;
    let info = h5.matrix_info(args.layer.as_deref())?;
    eprintln!(
        "{}: {} cells × {} genes; {} is {} {} ({} stored values{})",
        args.h5ad.display(),
        h5.n_obs(),
        h5.n_vars(),
        info.object,
        info.encoding,
        info.value_type,
        info.stored,
        if info.compressed { ", compressed" } else { "" }
    );
    if info.encoding == MatrixEncoding::Csc {
        eprintln!("  {} is CSC: reading it by gene blocks, in two passes (totals per cell, then sums)", info.object);
    }
    let opts = PseudobulkOptions {
        layer: args.layer.as_deref(),
        group_column: &args.group_column,
        replicate_column: args.replicate_column.as_deref(),
        normalize: args.normalize.map(NormalizeArg::normalization),
        agg: match args.agg {
            AggArg::Mean => Aggregation::Mean,
            AggArg::Sum => Aggregation::Sum,
        },
        block: args.block,
    };

    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta} left)")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let mut on_progress = |p: &Progress| {
        if bar.length() != Some(p.total as u64) {
            bar.set_length(p.total as u64);
        }
        let msg = if p.passes > 1 { format!("pass {}/{}: {}", p.pass, p.passes, p.unit) } else { p.unit.to_string() };
        bar.set_message(msg);
        bar.set_position(p.done as u64);
    };
    let result = pseudobulk(&h5, &opts, &mut on_progress);
    bar.finish_and_clear();
    let pb = result.context("pseudobulk")?;

    let choice = &pb.normalization;
    if choice.assumed {
        eprintln!(
            "normalisation: {} — assumed, because --normalize was not given and {}",
            choice.normalization.name(),
            choice.reason
        );
        let hint = match (choice.normalization, pb.agg) {
            (Normalization::Cp10kLog1p, Aggregation::Sum) => {
                "; for summed raw counts pass --normalize none".to_string()
            }
            (Normalization::Cp10kLog1p, _) => "; pass --normalize none to average the values as stored".to_string(),
            _ => "; pass --normalize cp10k-log1p or cpm-log2 if they are counts after all".to_string(),
        };
        eprintln!("  (say --normalize explicitly to silence this{hint})");
    } else {
        eprintln!("normalisation: {} (as asked)", choice.normalization.name());
    }
    let (smallest, largest) = pb.n_cells.iter().fold((usize::MAX, 0), |(lo, hi), &n| (lo.min(n), hi.max(n)));
    eprintln!(
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
    );
    if pb.renamed_genes > 0 {
        eprintln!("warning: {} repeated gene names were made unique (suffix -1, -2, …)", pb.renamed_genes);
    }
    pb.write(&args.out).with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "wrote {} ({} × {}) in {:.2} s ({} block(s) of {} {})",
        args.out.display(),
        pb.ids.len(),
        pb.genes.len(),
        start.elapsed().as_secs_f64(),
        pb.blocks,
        pb.block,
        if info.encoding == MatrixEncoding::Csc { "genes" } else { "cells" }
    );
    Ok(())
}
