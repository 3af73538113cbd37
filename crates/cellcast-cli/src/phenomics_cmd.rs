//! `cellcast phenomics`: arguments → options → call → print.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use cellcast::phenomics::{self, PipelineOptions};

use crate::observer::Terminal;
use crate::report::fmt;

pub const LONG_ABOUT: &str = "\
Score every compound–gene pair from Cell Painting embeddings, zero-shot, as the RxRx3-core
benchmark's baseline does (Recursion's EFAAR pipeline):

  1. PCA of all wells (centred on the global mean; keeps --pca-components, default
     min(128, dimensions, wells − 1); each component's largest loading is made positive);
  2. per batch, centre and scale every dimension on that batch's control wells (subtract their
     mean, divide by their standard deviation, ddof 0) — this removes batch effects;
  3. the mean well of every gene, and of every (compound, concentration);
  4. score = |cosine| between a compound's profile and a gene's, maximised over the compound's
     concentrations.

--no-pca and --no-control-norm skip steps 1 and 2 (ablations).

Input (--embeddings; CSV, TSV or Parquet), one row per well:
  perturbation        compound name, gene symbol or control name
  perturbation_type   compound | gene | control
  concentration       a positive number for compounds; empty/null/NaN for genes and controls
  batch               the batch whose control wells normalise the well
  plate, well         optional, not used by the scores
  every other column  an embedding dimension, in file order (finite numbers)

Output (--out; CSV, or Parquet when the name ends in .parquet): compound,gene,score for every
pair, compounds and genes sorted. With --truth (compound,gene,active with active 0/1; pairs not
listed are inactive) the mean per-compound average precision is printed — the average precision
of `polaris/pr_auc`; compounds without an active gene are skipped.

Real OpenPhenom embeddings are not shipped; `cellcast synth --kind phenomics` writes a screen with
planted compound–gene activity and batch effects.

Example:
  cellcast synth --kind phenomics --out screen
  cellcast phenomics --embeddings screen/embeddings.parquet --truth screen/truth.csv \\
      --out scores.csv";

#[derive(clap::Args)]
pub struct PhenomicsArgs {
    /// Per-well embeddings (CSV, TSV or Parquet): perturbation, perturbation_type, concentration,
    /// batch, optional plate and well, then the embedding columns.
    #[arg(long)]
    pub embeddings: PathBuf,
    /// Output: compound,gene,score (CSV, or Parquet by extension).
    #[arg(long)]
    pub out: PathBuf,
    /// PCA components to keep, at least 1 [default: min(128, dimensions, wells − 1)].
    #[arg(long, value_name = "K", conflicts_with = "no_pca", value_parser = crate::args::whole(1..=usize::MAX))]
    pub pca_components: Option<usize>,
    /// Skip PCA: normalise and compare the embedding dimensions themselves.
    #[arg(long)]
    pub no_pca: bool,
    /// Skip the per-batch centring and scaling on control wells.
    #[arg(long)]
    pub no_control_norm: bool,
    /// Known activity, compound,gene,active (0/1): print the mean per-compound average precision.
    #[arg(long)]
    pub truth: Option<PathBuf>,
}

pub fn run(args: &PhenomicsArgs) -> Result<()> {
    let start = Instant::now();
    let opts = phenomics::PhenomicsOptions {
        embeddings: args.embeddings.clone(),
        pipeline: PipelineOptions {
            pca: !args.no_pca,
            pca_components: args.pca_components,
            control_norm: !args.no_control_norm,
        },
        truth: args.truth.clone(),
        out: Some(args.out.clone()),
    };
    let outcome = phenomics::phenomics(&opts, &Terminal::default())?;
    let report = &outcome.report;

    let mut out = String::new();
    outln!(
        out,
        "cellcast phenomics: {} wells ({} controls) in {} batch(es), {} embedding dimensions",
        report.wells,
        report.control_wells,
        report.batches,
        report.input_dimensions
    );
    match report.pca {
        Some((k, fraction)) => outln!(out, "  PCA: {k} components, {:.1} % of the variance", 100.0 * fraction),
        None => outln!(out, "  PCA: off"),
    }
    outln!(out, "  control normalisation per batch: {}", if opts.pipeline.control_norm { "on" } else { "off" });
    outln!(
        out,
        "  {} compounds ({} compound–concentration profiles) × {} genes → {} scores in {}",
        report.compounds,
        report.doses,
        report.genes,
        report.compounds * report.genes,
        args.out.display()
    );
    if let Some(ap) = &outcome.average_precision {
        outln!(
            out,
            "  mean per-compound average precision: {} ({} compounds scored, {} skipped without an active gene)",
            fmt(ap.mean),
            ap.scored(),
            ap.skipped
        );
        if ap.truth_compounds_unscored > 0 {
            outln!(
                out,
                "  note: {} compound(s) of the truth have no wells and are not scored",
                ap.truth_compounds_unscored
            );
        }
        if ap.active_pairs_without_gene > 0 {
            outln!(
                out,
                "  note: {} active pair(s) name a gene without wells; they cannot be ranked and are left out",
                ap.active_pairs_without_gene
            );
        }
    }
    eprintln!("done in {:.2} s", start.elapsed().as_secs_f64());
    crate::emit(&out)
}
