//! `cellcast demo` and `cellcast synth`: arguments → options → [`cellcast::demo::demo`] /
//! [`cellcast::synth::synth`] → print.

use std::path::PathBuf;

use anyhow::Result;
use cellcast::synth::{self, SynthOptions};

use crate::observer::Terminal;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Also write the results: DIR/leaderboard.csv with columns regime,model,metric,score.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed of the synthetic task, the folds and the models.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// What `cellcast synth` generates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SynthKind {
    /// A SMILES → response task folder that `cellcast run` reads.
    Task,
    /// Per-well Cell Painting-like embeddings with planted compound–gene activity, for
    /// `cellcast phenomics`.
    Phenomics,
    /// A single-cell CRISPR screen (raw counts, .h5ad) with known targets, for `cellcast targets`
    /// and `cellcast task genetic`.
    Screen,
    /// A DRUG-seq task folder in the VCPI layout (raw counts of replicate samples, planted gene
    /// programs switched on by chemistry) that `cellcast run` reads.
    Drugseq,
}

#[derive(clap::Args)]
pub struct SynthArgs {
    /// Output folder. --kind task: train.csv, test_features.csv, sample_submission.csv,
    /// test_labels.csv. --kind phenomics: embeddings.parquet, truth.csv (compound,gene,active).
    #[arg(long)]
    pub out: PathBuf,
    /// What to generate (each kind takes the flags marked with it below).
    #[arg(long, value_enum, default_value = "task")]
    pub kind: SynthKind,
    /// Number of compounds (task: default 300, 24 to 2,352; phenomics: default 120; drugseq:
    /// default 240, at least 20).
    #[arg(long, value_parser = crate::args::whole(1..=usize::MAX))]
    pub compounds: Option<usize>,
    /// Number of responses per compound [task only; default 20].
    #[arg(long, value_parser = crate::args::whole(1..=usize::MAX))]
    pub targets: Option<usize>,
    /// Standard deviation of the noise (task: added to each response, default 0.5; phenomics:
    /// added to each well's every embedding dimension, default 1).
    #[arg(long, allow_negative_numbers = true, value_parser = crate::args::number(0.0, f64::INFINITY, false))]
    pub noise: Option<f64>,
    /// Number of genes knocked out [phenomics; default 200], or measured [screen; default 300].
    #[arg(long, value_parser = crate::args::whole(1..=usize::MAX))]
    pub genes: Option<usize>,
    /// Single-gene perturbations [screen only; default 20, two of them of unmeasured genes; plus
    /// 5 double perturbations].
    #[arg(long, value_parser = crate::args::whole(1..=usize::MAX))]
    pub perturbations: Option<usize>,
    /// Cells per perturbation [screen only; default 40; 200 control cells].
    #[arg(long, value_parser = crate::args::whole(1..=usize::MAX))]
    pub cells: Option<usize>,
    /// Which way perturbations move their targets: down (CRISPRi) or up (CRISPRa) [screen only;
    /// default down].
    #[arg(long, value_enum)]
    pub direction: Option<crate::args::DirectionArg>,
    /// CRISPR knockouts instead of CRISPRi [screen only, direction down]: 10–40 % of each
    /// knockout's cells escape (in-frame edits), the edited cells keep 15–60 % of the target's
    /// mRNA (nonsense-mediated decay is partial), and targets are lowly detected genes (1–8
    /// counts per control cell).
    #[arg(long)]
    pub knockout: bool,
    /// Embedding dimensions [phenomics only; default 64].
    #[arg(long, value_parser = crate::args::whole(1..=usize::MAX))]
    pub dims: Option<usize>,
    /// Number of batches, each with its own control wells [phenomics only; default 4].
    #[arg(long, value_parser = crate::args::whole(1..=usize::MAX))]
    pub batches: Option<usize>,
    /// Batch-effect strength: sd of each batch's shift of each dimension, in well-noise units;
    /// dimensions are also rescaled by exp(0.2 × this × N(0,1)) [phenomics only; default 1; 0 for
    /// none].
    #[arg(long, allow_negative_numbers = true, value_parser = crate::args::number(0.0, f64::INFINITY, false))]
    pub batch_effect: Option<f64>,
    /// Seed of every random draw: the same seed writes the same bytes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

pub fn run(args: &DemoArgs) -> Result<()> {
    let opts = cellcast::demo::DemoOptions { seed: args.seed, out: args.out.clone() };
    let outcome = cellcast::demo::demo(&opts, &Terminal::default())?;
    let mut out = outcome.text;
    if let Some(path) = &outcome.leaderboard {
        out.push_str(&format!("wrote {}\n", path.display()));
    }
    crate::emit(&out)
}

impl From<SynthKind> for synth::SynthKind {
    fn from(k: SynthKind) -> Self {
        match k {
            SynthKind::Task => synth::SynthKind::Task,
            SynthKind::Phenomics => synth::SynthKind::Phenomics,
            SynthKind::Screen => synth::SynthKind::Screen,
            SynthKind::Drugseq => synth::SynthKind::Drugseq,
        }
    }
}

/// Writes synthetic data with known answers.
pub fn synth(args: &SynthArgs) -> Result<()> {
    let opts = SynthOptions {
        out: args.out.clone(),
        kind: args.kind.into(),
        compounds: args.compounds,
        targets: args.targets,
        noise: args.noise,
        genes: args.genes,
        perturbations: args.perturbations,
        cells: args.cells,
        direction: args.direction.map(crate::args::DirectionArg::direction),
        knockout: args.knockout,
        dims: args.dims,
        batches: args.batches,
        batch_effect: args.batch_effect,
        seed: args.seed,
    };
    let outcome = synth::synth(&opts, &Terminal::default())?;
    eprintln!("wrote {} to {}", outcome.description, args.out.display());
    Ok(())
}
