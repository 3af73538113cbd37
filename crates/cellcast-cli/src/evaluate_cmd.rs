//! `cellcast evaluate`: arguments → options → call → print.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use cellcast::evaluate::{self, Scale, PROFILES};
use cellcast::CellsSource;

use crate::observer::Terminal;

pub const LONG_ABOUT: &str = "\
Evaluate predicted single cells against real ones exactly as Arc Institute's cell-eval 0.8.2
(the Virtual Cell Challenge evaluator, with pdex 0.3.0 for differential expression) does, and
write its files: results.csv (one row per perturbation, one column per metric), agg_results.csv
(count, null_count, mean, std, min, 25%, 50%, 75%, max of each column), real_de.csv and
pred_de.csv (pdex's tables), with --baseline score.csv (cell-eval score: each mean against the
baseline's, and avg_score), and run.json (what was assumed, and why).

Profiles: full (28 columns), vcc (mae, discrimination_score_l1, overlap_at_N: the challenge's),
minimal, de, anndata, pds.

What cell-eval decides silently is said here, on stderr and in run.json:
  scale    integer data are raw counts: each file is normalised to its own median total and
           log1p-transformed (float32), as cell-eval does; decimals are log1p already (refused
           if negative or >= 15). Declare a file's scale with --real-scale / --pred-scale.
  controls a warning when the prediction's control cells are not the real ones, and which
           metrics that moves (every delta metric and every DE metric).
  FDR      Benjamini-Hochberg per perturbation over all genes; a gene is significant when its
           float32 FDR is below 0.05.
  DE       computed once per file and reused by every metric: skipping one changes no other.

Both files are streamed, never densified: the DE pass holds at most --memory-budget of
expression values per file at a time (more genes → more passes, same numbers).

Examples:
  cellcast evaluate --real real.h5ad --pred pred.h5ad --pert-column target_gene \\
      --control non-targeting --out eval/
  cellcast evaluate baseline --real real.h5ad --pert-column target_gene \\
      --control non-targeting --out baseline.h5ad
  cellcast evaluate --real real.h5ad --pred pred.h5ad --pert-column target_gene \\
      --control non-targeting --profile vcc --baseline baseline.h5ad --out eval/";

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct EvaluateCommand {
    #[command(subcommand)]
    pub command: Option<EvaluateSubcommand>,
    #[command(flatten)]
    pub run: EvaluateArgs,
}

#[derive(clap::Subcommand)]
pub enum EvaluateSubcommand {
    /// Make the baseline prediction cell-eval scores against: every perturbation predicted as
    /// the mean of the perturbation means, with the real control cells.
    Baseline(BaselineArgs),
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ScaleArg {
    /// Raw counts (normalised to the median total, then log1p).
    Counts,
    /// log1p-normalised expression (used as it is).
    Log1p,
}

impl ScaleArg {
    pub fn scale(self) -> Scale {
        match self {
            ScaleArg::Counts => Scale::Counts,
            ScaleArg::Log1p => Scale::Log1p,
        }
    }
}

#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// The real cells (.h5ad).
    #[arg(long, required = true)]
    pub real: Option<PathBuf>,
    /// The predicted cells (.h5ad): the same genes in the same order, the same perturbations.
    /// Optional with --ceiling (then only the ceiling is computed).
    #[arg(long, required_unless_present = "ceiling")]
    pub pred: Option<PathBuf>,
    /// The obs column of perturbation labels, in both files.
    #[arg(long, required = true)]
    pub pert_column: Option<String>,
    /// The label of the control cells.
    #[arg(long, required = true)]
    pub control: Option<String>,
    /// Which metrics.
    #[arg(long, default_value = "full", value_parser = clap::builder::PossibleValuesParser::new(PROFILES))]
    pub profile: String,
    /// Evaluate each cell type of this obs column on its own (files prefixed `<celltype>_`).
    #[arg(long)]
    pub celltype_column: Option<String>,
    /// A baseline prediction (from `cellcast evaluate baseline`): adds score.csv.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// The real DE table to use instead of computing it (pdex's columns).
    #[arg(long)]
    pub de_real: Option<PathBuf>,
    /// The predicted DE table to use instead of computing it.
    #[arg(long)]
    pub de_pred: Option<PathBuf>,
    /// Metrics to leave out, comma-separated (e.g. clustering_agreement,pearson_edistance).
    #[arg(long, value_delimiter = ',')]
    pub skip_metrics: Vec<String>,
    /// An obsm embedding for discrimination_score_l2 and _cosine (L1 and the rest use X, as
    /// in cell-eval).
    #[arg(long)]
    pub embed_key: Option<String>,
    /// Also estimate the data ceiling: the real data split into two disjoint halves per
    /// perturbation, one scored as the other's prediction; writes ceiling_results.csv and
    /// agg_ceiling_results.csv (Spearman–Brown corrected means).
    #[arg(long)]
    pub ceiling: bool,
    /// Seed of the ceiling's split (numpy's default_rng, as cell-eval).
    #[arg(long, default_value_t = 0, requires = "ceiling")]
    pub ceiling_seed: u64,
    /// Leave integer data as it is instead of normalising it (cell-eval's --allow-discrete).
    #[arg(long)]
    pub allow_discrete: bool,
    /// The float32 log1p numpy ran where cell-eval ran, which decides counts' normalised values
    /// (and so Wilcoxon ties): `avx512`, numpy's own kernel on CPUs with AVX-512, or `c-library`,
    /// the C library's log1pf that numpy calls on other CPUs. Default: the one numpy runs on
    /// this CPU; give it when the cell-eval results to match were made on another machine.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(cellcast::evaluate::NumpyLog1p::NAMES))]
    pub numpy_log1p: Option<String>,
    /// Declare the real file's scale instead of detecting it.
    #[arg(long, value_enum)]
    pub real_scale: Option<ScaleArg>,
    /// Declare the predicted file's scale instead of detecting it.
    #[arg(long, value_enum)]
    pub pred_scale: Option<ScaleArg>,
    /// Memory for expression values per file, in MiB: a file whose stored values fit (6 bytes
    /// each for float32 or integer data of at most 65,536 genes, 12 at most) is read once and
    /// kept; a larger one is streamed again on every pass. Also the values the DE pass of a
    /// streamed file gathers at once.
    #[arg(long, value_name = "MIB", default_value_t = 1024, value_parser = crate::args::whole(1..=usize::MAX))]
    pub memory_budget: usize,
    /// The output folder (written all at once).
    #[arg(long, required = true)]
    pub out: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct BaselineArgs {
    /// The real cells (.h5ad).
    #[arg(long)]
    pub real: PathBuf,
    /// The obs column of perturbation labels.
    #[arg(long)]
    pub pert_column: String,
    /// The label of the control cells.
    #[arg(long)]
    pub control: String,
    /// Leave integer data as it is (cell-eval's --allow-discrete).
    #[arg(long)]
    pub allow_discrete: bool,
    /// The baseline .h5ad to write; its DE table goes beside it as <stem>_de.csv.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(cmd: &EvaluateCommand) -> Result<()> {
    match &cmd.command {
        Some(EvaluateSubcommand::Baseline(args)) => baseline(args),
        None => evaluate(&cmd.run),
    }
}

fn evaluate(args: &EvaluateArgs) -> Result<()> {
    let start = Instant::now();
    let opts = evaluate::EvaluateOptions {
        real: CellsSource::H5ad(args.real.clone().expect("clap requires it")),
        pred: args.pred.clone().map(CellsSource::H5ad),
        baseline: args.baseline.clone().map(CellsSource::H5ad),
        pert_column: args.pert_column.clone().expect("clap requires it"),
        control: args.control.clone().expect("clap requires it"),
        profile: args.profile.clone(),
        celltype_column: args.celltype_column.clone(),
        skip_metrics: args.skip_metrics.clone(),
        allow_discrete: args.allow_discrete,
        real_scale: args.real_scale.map(ScaleArg::scale),
        pred_scale: args.pred_scale.map(ScaleArg::scale),
        de_real: args.de_real.clone(),
        de_pred: args.de_pred.clone(),
        memory_budget: args.memory_budget as u64 * (1 << 20),
        ceiling_seed: args.ceiling.then_some(args.ceiling_seed),
        embed_key: args.embed_key.clone(),
        numpy_log1p: args.numpy_log1p.as_deref().and_then(evaluate::NumpyLog1p::parse),
        out: args.out.clone(),
    };
    let outcome = evaluate::evaluate(&opts, &Terminal::default())?;
    print!("{}", outcome.summary());
    eprintln!(
        "wrote {} ({}) in {:.2} s",
        opts.out.as_ref().expect("clap requires it").display(),
        outcome.written.join(", "),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn baseline(args: &BaselineArgs) -> Result<()> {
    let start = Instant::now();
    let opts = evaluate::BaselineOptions {
        real: CellsSource::H5ad(args.real.clone()),
        pert_column: args.pert_column.clone(),
        control: args.control.clone(),
        allow_discrete: args.allow_discrete,
        out: args.out.clone(),
    };
    let outcome = evaluate::baseline(&opts, &Terminal::default())?;
    eprintln!(
        "wrote {} ({} cells: {} predicted, {} control) and {} in {:.2} s",
        args.out.display(),
        outcome.cells,
        outcome.cells - outcome.control_cells,
        outcome.control_cells,
        outcome.de_path.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
