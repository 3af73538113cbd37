//! `cellcast`: score perturbation-response predictions exactly as the official benchmarks do.

use std::path::PathBuf;
use std::process::ExitCode;

use args::Threads;
use clap::{Args, Parser, Subcommand, ValueEnum};

// Chemistry allocates many small graphs per molecule; mimalloc makes sanitization and
// canonicalization ~15 % faster than the system allocator (measured on the LINCS SMILES).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Turns transparent huge pages off for this process. The large buffers cellcast fills once
/// (a file's kept values, dense copies for distances) are first touched a 2 MiB page at a time
/// with them, and each such page is zeroed whole by the kernel: on `cellcast evaluate` over a
/// 40k-cell screen, system time fell from 1.45 s to 0.64 s and wall time by 0.7 s without them
/// (four runs each on a busy machine; user time unchanged; docs/BENCHMARKS.md).
fn use_small_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integer arguments and touches no memory of ours;
    // its failure (old kernels) only leaves the default.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Appends a formatted line to a `String`.
macro_rules! outln {
    ($buf:expr) => {
        $buf.push('\n')
    };
    ($buf:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($buf, $($arg)*);
    }};
}

mod args;
mod chem_cmd;
mod compare_cmd;
mod demo;
mod evaluate_cmd;
mod genetic_cmd;
mod observer;
mod phenomics_cmd;
mod pseudobulk_cmd;
mod report;
mod run_cmd;
mod score_cmd;
mod stats_cmd;
mod targets_cmd;

const LONG_ABOUT: &str = "\
cellcast scores predictions of how cells respond to perturbations (compounds, CRISPR knockdowns)
with the exact official metric of each benchmark: Polaris L1000 and RxRx3, the Kaggle \"Echoes of
Silenced Genes\" score, VCPI/Mejia weighted MSE and target-identification ranking metrics.

Start with `cellcast demo` for a tour, `cellcast metrics` for the list of metrics, and
`cellcast score --help` to score your own files.";

#[derive(Parser)]
#[command(name = "cellcast", version, about = "Score perturbation-response predictions exactly as the benchmarks do", long_about = LONG_ABOUT)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    threads: Threads,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole pipeline on a task folder: featurize, split, cross-validate the model panel,
    /// score, compare, select, and write a submission with its report.
    ///
    /// TASK_DIR holds train.csv, test_features.csv and sample_submission.csv (Polaris/Kaggle
    /// layout). Writes submission.csv (exactly the ids and columns of sample_submission.csv),
    /// predictions.parquet, leaderboard.csv, folds.csv and report.md to --out.
    ///
    /// Example: cellcast run ../shared/tasks/l1000-drugbank --out results/l1000
    Run(run_cmd::RunArgs),
    /// Score a prediction file against the truth with an official metric.
    #[command(long_about = score_cmd::LONG_ABOUT)]
    Score(score_cmd::ScoreArgs),
    /// Compare several models' predictions of one truth: official metric and panel, paired
    /// bootstrap CIs and p-values, rank agreement, and a report.
    #[command(long_about = compare_cmd::LONG_ABOUT)]
    Compare(compare_cmd::CompareArgs),
    /// List every metric: name, direction, inputs and the reference it reproduces.
    Metrics {
        /// Print the registry as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Differential expression.
    #[command(subcommand)]
    De(DeCommand),
    /// Build the per-gene weights that the weighted metrics use.
    #[command(subcommand)]
    Weights(WeightsCommand),
    /// Molecular features: Morgan fingerprints or descriptors, RDKit-identical.
    #[command(subcommand)]
    Featurize(FeaturizeCommand),
    /// Bemis–Murcko scaffold of every molecule, as RDKit's MurckoScaffoldSmiles writes it.
    ///
    /// Writes `id,scaffold,error`; acyclic molecules have the empty scaffold.
    ///
    /// Example: cellcast scaffold --input compounds.csv --smiles-column smiles --id-column id --out scaffolds.csv
    Scaffold {
        #[command(flatten)]
        input: chem_cmd::MoleculeInput,
        /// The generic (CSK) scaffold: every atom carbon, every bond single.
        #[arg(long)]
        generic: bool,
        /// Output table `id,scaffold,error`: CSV, or Parquet when it ends in .parquet.
        #[arg(long)]
        out: PathBuf,
    },
    /// The k most similar library molecules of every query (Tanimoto on Morgan bits).
    ///
    /// Writes `query_id,rank,neighbor_id,similarity`; ties keep library order.
    ///
    /// Example: cellcast neighbors --query test.csv --library train.csv --smiles-column SMILES --id-column id -k 5 --out nn.csv
    Neighbors {
        #[command(flatten)]
        query: QueryInput,
        /// Library table (same id and SMILES column names as the query).
        #[arg(long)]
        library: PathBuf,
        /// Neighbours per query, at least 1.
        #[arg(short = 'k', long = "k", default_value_t = 5, value_parser = args::whole(1..=usize::MAX))]
        k: usize,
        #[command(flatten)]
        morgan: chem_cmd::MorganArgs,
        /// Never return a library molecule with the query's own id.
        #[arg(long)]
        exclude_self: bool,
        /// Output table `query_id,rank,neighbor_id,similarity`: CSV, or Parquet when it ends in .parquet.
        #[arg(long)]
        out: PathBuf,
    },
    /// Assign molecules to cross-validation folds or train/valid/test, reproducibly.
    ///
    /// Writes `id,group,fold` (fold 0..K-1, or train/valid/test); `cellcast run --split-file`
    /// reads a k-fold split back, so that every model (cellcast's and yours) sees the same folds.
    ///
    /// Example: cellcast split --input train.csv --smiles-column SMILES --id-column id --method scaffold-kfold --folds 5 --out folds.csv
    Split {
        #[command(flatten)]
        input: chem_cmd::MoleculeInput,
        /// How to split: k-fold methods write folds 0..K-1, deepchem / chemprop ones
        /// train/valid/test.
        #[arg(long, value_enum)]
        method: chem_cmd::SplitMethod,
        /// Number of folds (k-fold methods), 2 to 1000.
        #[arg(long, default_value_t = 5, value_parser = args::whole(2..=1000))]
        folds: usize,
        /// Seed of the random methods (random-kfold, chemprop-balanced).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Train, valid and test fractions, each in [0, 1], summing to 1 (deepchem / chemprop
        /// methods).
        #[arg(long, default_value = "0.8,0.1,0.1", value_parser = args::fractions)]
        fractions: (f64, f64, f64),
        /// Column whose values are the groups (with --method group-kfold).
        #[arg(long)]
        group_column: Option<String>,
        /// Output table `id,group,fold`: CSV, or Parquet when it ends in .parquet.
        #[arg(long)]
        out: PathBuf,
    },
    /// The whole pipeline on a built-in synthetic task under a random and a scaffold split
    /// (no files needed): retrieval beats the mean only when test compounds have relatives in
    /// training.
    ///
    /// Example: cellcast demo --out demo_results
    Demo(demo::DemoArgs),
    /// Write synthetic data with known answers: a positive-control task folder that `cellcast run`
    /// reads (--kind task, the default), or a Cell Painting-like screen with planted compound–gene
    /// activity and batch effects for `cellcast phenomics` (--kind phenomics).
    ///
    /// Example: cellcast synth --out synthetic_task && cellcast run synthetic_task --out results
    ///
    /// Example: cellcast synth --kind phenomics --out screen --batch-effect 2
    Synth(demo::SynthArgs),
    /// Zero-shot compound–gene activity from per-well image embeddings (RxRx3-core's EFAAR
    /// baseline): PCA, control normalisation per batch, profiles, max |cos| over concentrations.
    ///
    /// Example: cellcast phenomics --embeddings screen/embeddings.parquet --truth screen/truth.csv --out scores.csv
    #[command(long_about = phenomics_cmd::LONG_ABOUT)]
    Phenomics(phenomics_cmd::PhenomicsArgs),
    /// Per-group mean (or sum) expression of an AnnData (.h5ad) file, streamed in blocks:
    /// one row per group of an obs column, one column per gene.
    ///
    /// Example: cellcast pseudobulk --h5ad cells.h5ad --group-column perturbation --out pseudobulk.csv
    #[command(long_about = pseudobulk_cmd::LONG_ABOUT)]
    Pseudobulk(pseudobulk_cmd::PseudobulkArgs),
    /// Evaluate predicted single cells against real ones exactly as cell-eval 0.8.2 (the Virtual
    /// Cell Challenge evaluator) does, and write its files; `evaluate baseline` makes the
    /// challenge's baseline prediction.
    #[command(long_about = evaluate_cmd::LONG_ABOUT)]
    Evaluate(evaluate_cmd::EvaluateCommand),
    /// Target identification: rank the genes of each group of perturbed cells by how likely
    /// each is the perturbed one, and measure rankers on labelled screens.
    #[command(subcommand)]
    Targets(TargetsCommand),
    /// Build benchmark tasks from raw data.
    #[command(subcommand)]
    Task(TaskCommand),
}

#[derive(Subcommand)]
enum TaskCommand {
    /// A Myllia-style task (log-fold-changes, limma weights, mean baseline) from a single-cell
    /// screen, with the genetic response panel scored on its held-out perturbations.
    ///
    /// Example: cellcast task genetic --h5ad screen.h5ad --group-column perturbation --control control --out task
    #[command(long_about = genetic_cmd::LONG_ABOUT)]
    Genetic(genetic_cmd::GeneticArgs),
}

#[derive(Subcommand)]
enum TargetsCommand {
    /// Rank every measured gene for each group of cells (DE against the controls).
    ///
    /// Example: cellcast targets rank --h5ad screen.h5ad --group-column perturbation --control control --direction down --out ranks.csv
    #[command(long_about = targets_cmd::RANK_ABOUT)]
    Rank(targets_cmd::RankArgs),
    /// Held-out MRR and hit@k of every target ranker on a labelled screen.
    ///
    /// Example: cellcast targets evaluate --h5ad norman.h5ad --group-column condition --control control --out target_id.csv
    #[command(long_about = targets_cmd::EVALUATE_ABOUT)]
    Evaluate(targets_cmd::EvaluateArgs),
}

/// `--query` is the molecule input of `neighbors`.
#[derive(Args, Clone)]
struct QueryInput {
    /// Query table (CSV, TSV or Parquet) with an id column and a SMILES column.
    #[arg(long)]
    query: PathBuf,
    /// Column holding SMILES or CXSMILES.
    #[arg(long, default_value = "smiles")]
    smiles_column: String,
    /// Column holding molecule ids.
    #[arg(long, default_value = "id")]
    id_column: String,
}

#[derive(Subcommand)]
enum FeaturizeCommand {
    /// Morgan (ECFP-like) fingerprints, identical to RDKit's rdFingerprintGenerator.
    ///
    /// CSV output: `id,on_bits,error` with ascending on-bit indices separated by spaces (with
    /// --counts: `index:count` pairs). Parquet output: `on_bits` as a list (and `counts`).
    ///
    /// Example: cellcast featurize morgan --input compounds.csv --smiles-column smiles --id-column id --out fp.csv
    Morgan {
        #[command(flatten)]
        input: chem_cmd::MoleculeInput,
        #[command(flatten)]
        morgan: chem_cmd::MorganArgs,
        /// Count fingerprint instead of bits.
        #[arg(long)]
        counts: bool,
        /// Output table `id,on_bits,error`: CSV, or Parquet when it ends in .parquet.
        #[arg(long)]
        out: PathBuf,
    },
    /// RDKit descriptors: MolWt, ExactMolWt, MolLogP, MolMR, TPSA, NumHDonors, NumHAcceptors,
    /// NumRotatableBonds, RingCount, NumAromaticRings, HeavyAtomCount, FractionCSP3,
    /// FormalCharge, qed.
    ///
    /// Example: cellcast featurize descriptors --input compounds.csv --smiles-column smiles --id-column id --out desc.csv
    Descriptors {
        #[command(flatten)]
        input: chem_cmd::MoleculeInput,
        /// Output table `id`, one column per descriptor, `error`: CSV, or Parquet when it ends in .parquet.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum DeCommand {
    /// limma moderated t of every group against a control group.
    ///
    /// Fits `~0 + group` per gene, forms the contrasts group − control and applies eBayes with
    /// limma's defaults (squeezeVar / fitFDist, no trend, not robust), as limma 3.63 does.
    /// Writes one row per non-control group (sorted), one column per gene.
    ///
    /// Example: cellcast de limma --expr pseudobulk.csv --groups samples.csv --control NT --out t.csv
    Limma(LimmaArgs),
}

#[derive(Args)]
struct LimmaArgs {
    /// Expression matrix: an id column (sample) and one column per gene (log scale).
    #[arg(long)]
    expr: PathBuf,
    /// Sample groups: columns `id` (matching --expr) and `group`.
    #[arg(long)]
    groups: PathBuf,
    /// The label of the control group in --groups.
    #[arg(long)]
    control: String,
    /// Output CSV of moderated t (groups × genes).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    ids: IdColumn,
}

#[derive(Args, Clone)]
struct IdColumn {
    /// Name of the id column in the input tables.
    #[arg(long, default_value = "id")]
    id_column: String,
}

#[derive(Subcommand)]
enum WeightsCommand {
    /// Kaggle "Echoes of Silenced Genes" weights from moderated t.
    ///
    /// c = min(|t| + 0.1, 10); the perturbation's own target gene gets c = 0; w = n·c²/Σc², so
    /// each row sums to the number of genes. A target absent from the genes zeroes nothing.
    ///
    /// Example: cellcast weights myllia --t t.csv --targets targets.csv --out weights.csv
    Myllia(MylliaArgs),
    /// VCPI contest weights from raw DRUG-seq counts.
    ///
    /// log2(CPM+1) per sample (empty libraries dropped), Welch t of each compound against all
    /// other samples, |t| → min–max → square → normalise so each compound's weights sum to 1.
    ///
    /// Example: cellcast weights vcpi --counts counts.csv --groups samples.csv --out weights.csv
    Vcpi(VcpiArgs),
    /// Mejia et al. DEG weights: scanpy's t-test_overestim_var of each group against the rest.
    ///
    /// |t| → min–max → square → normalise so each group's weights sum to 1.
    ///
    /// Example: cellcast weights mejia --expr cells.csv --groups cells_groups.csv --out weights.csv
    Mejia(MejiaArgs),
}

#[derive(Args)]
struct MylliaArgs {
    /// Moderated t: id (perturbation) and one column per gene (e.g. from `cellcast de limma`).
    #[arg(long)]
    t: PathBuf,
    /// Each perturbation's target gene: columns `id` and `target`.
    #[arg(long)]
    targets: PathBuf,
    /// Output CSV of weights (groups × genes, each row summing to the number of genes).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    ids: IdColumn,
}

#[derive(Clone, Copy, ValueEnum)]
enum VarianceMode {
    /// Variances floored at the per-gene pooled variance (the contest's default).
    #[value(name = "per_compound_floored", alias = "per-compound-floored")]
    PerCompoundFloored,
    /// The per-gene pooled variance everywhere.
    #[value(name = "pooled")]
    Pooled,
}

#[derive(Args)]
struct VcpiArgs {
    /// Raw counts: id (sample) and one column per gene.
    #[arg(long)]
    counts: PathBuf,
    /// Sample → compound: columns `id` and `group`.
    #[arg(long)]
    groups: PathBuf,
    /// How each compound's per-gene variance is estimated.
    #[arg(long, value_enum, default_value = "per_compound_floored")]
    variance: VarianceMode,
    /// Output CSV of weights (compounds × genes, each row summing to 1).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    ids: IdColumn,
}

#[derive(Args)]
struct MejiaArgs {
    /// Expression (log-normalised): id (cell or sample) and one column per gene.
    #[arg(long)]
    expr: PathBuf,
    /// Cell → group: columns `id` and `group`.
    #[arg(long)]
    groups: PathBuf,
    /// Drop the cells of this group first (Mejia et al. test perturbations against the other
    /// perturbations, without the controls).
    #[arg(long)]
    control: Option<String>,
    /// The dtype scanpy would see: float32 reproduces scanpy on float32 AnnData bit for bit.
    #[arg(long, value_enum, default_value = "float64")]
    x_dtype: XDtype,
    /// Output CSV of weights (groups × genes, each row summing to 1).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    ids: IdColumn,
}

#[derive(Clone, Copy, ValueEnum)]
enum XDtype {
    Float32,
    Float64,
}

/// Writes a command's output to stdout; a reader that closed the pipe early
/// (`cellcast metrics | head`) is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// On SIGINT, SIGTERM or SIGHUP: remove every partial output (temporary files, staging folders)
/// and exit 128 + the signal's number, so an interrupted command leaves its outputs as they were.
fn remove_partial_outputs_on_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else { return };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            cellcast::engine::data::staging::remove_pending();
            eprintln!("\ninterrupted (signal {signal}): partial outputs removed, nothing is left half-written");
            std::process::exit(128 + signal);
        }
    });
}

fn main() -> ExitCode {
    use_small_pages();
    remove_partial_outputs_on_signals();
    let cli = Cli::parse();
    if let Err(e) = cli.threads.install() {
        eprintln!("error: {e:#}");
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Score(args) => score_cmd::run(&args),
        Command::Compare(args) => compare_cmd::run(&args),
        Command::Run(args) => run_cmd::run(&args),
        Command::Metrics { json } => report::print_registry(json),
        Command::De(DeCommand::Limma(a)) => stats_cmd::limma(&a.expr, &a.groups, &a.control, &a.out, &a.ids.id_column),
        Command::Weights(WeightsCommand::Myllia(a)) => stats_cmd::myllia(&a.t, &a.targets, &a.out, &a.ids.id_column),
        Command::Weights(WeightsCommand::Vcpi(a)) => {
            let mode = match a.variance {
                VarianceMode::PerCompoundFloored => cellcast::weights::VcpiVariance::PerCompoundFloored,
                VarianceMode::Pooled => cellcast::weights::VcpiVariance::Pooled,
            };
            stats_cmd::vcpi(&a.counts, &a.groups, mode, &a.out, &a.ids.id_column)
        }
        Command::Weights(WeightsCommand::Mejia(a)) => {
            let dtype = match a.x_dtype {
                XDtype::Float32 => cellcast::weights::ScanpyDtype::Float32,
                XDtype::Float64 => cellcast::weights::ScanpyDtype::Float64,
            };
            stats_cmd::mejia(&a.expr, &a.groups, a.control.as_deref(), dtype, &a.out, &a.ids.id_column)
        }
        Command::Featurize(FeaturizeCommand::Morgan { input, morgan, counts, out }) => {
            chem_cmd::featurize_morgan(&input, morgan, counts, &out)
        }
        Command::Featurize(FeaturizeCommand::Descriptors { input, out }) => {
            chem_cmd::featurize_descriptors(&input, &out)
        }
        Command::Scaffold { input, generic, out } => chem_cmd::scaffold(&input, generic, &out),
        Command::Neighbors { query, library, k, morgan, exclude_self, out } => {
            let input = chem_cmd::MoleculeInput {
                input: query.query,
                smiles_column: query.smiles_column,
                id_column: query.id_column,
            };
            chem_cmd::neighbors(&input, &library, k, morgan, exclude_self, &out)
        }
        Command::Split { input, method, folds, seed, fractions, group_column, out } => {
            chem_cmd::split(&input, chem_cmd::SplitArgs { method, folds, seed, fractions, group_column }, &out)
        }
        Command::Demo(args) => demo::run(&args),
        Command::Synth(args) => demo::synth(&args),
        Command::Phenomics(args) => phenomics_cmd::run(&args),
        Command::Pseudobulk(args) => pseudobulk_cmd::run(&args),
        Command::Evaluate(cmd) => evaluate_cmd::run(&cmd),
        Command::Targets(TargetsCommand::Rank(args)) => targets_cmd::rank(&args),
        Command::Targets(TargetsCommand::Evaluate(args)) => targets_cmd::evaluate(&args),
        Command::Task(TaskCommand::Genetic(args)) => genetic_cmd::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every flag and argument of every command, with the command path, that has no help text.
    fn undocumented(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let builtin = matches!(arg.get_id().as_str(), "help" | "version");
            if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
                out.push(format!("{path} {}", arg.get_long().map_or(arg.get_id().to_string(), |l| format!("--{l}"))));
            }
        }
        for sub in cmd.get_subcommands() {
            undocumented(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_flag_has_help() {
        let cli = super::Cli::command();
        cli.clone().debug_assert();
        let mut missing = Vec::new();
        undocumented(&cli, "cellcast", &mut missing);
        assert!(missing.is_empty(), "flags without help text:\n{}", missing.join("\n"));
    }
}
