//! `cellcast task genetic`: arguments → options → call → print.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use cellcast::genetic::{self, TestSplit};

use crate::observer::Terminal;
use crate::targets_cmd::ScreenArgs;

pub const LONG_ABOUT: &str = "\
Build a Kaggle \"Echoes of Silenced Genes\"-style task from a single-cell CRISPR screen, and score
the genetic response panel on its held-out perturbations.

From the cells of every perturbation (a label of --group-column) and the controls (--control):
  log-fold-change   mean log-expression of the perturbation's cells minus the controls'
                    (X normalised to cp10k + log1p when it holds raw counts; see --normalize)
  weights           limma moderated t of each perturbation against the controls, one ~0 + group
                    fit over single cells (or, with --replicate-column, over the pseudobulks of
                    (perturbation, replicate) pairs), eBayes (no trend, not robust) —
                    RECONSTRUCTED: the host did not publish its design — then the published recipe
                    c = min(|t| + 0.1, 10), c = 0 on the perturbation's own target gene(s),
                    w = n·c²/Σc²
  baseline          the mean log-fold-change of the training perturbations (published)

The perturbations are split into training and test: --split random (--test-fraction of them,
drawn with --seed), --split doubles (every A+B whose singles A and B are in the screen is
predicted from the rest), or --test FILE listing test ids one per line. Written to --out:
  train_lfc.csv, test_lfc.csv       id + one column per gene (log-fold-changes)
  weights.csv, train_weights.csv    Myllia weights of the test / training perturbations
  baseline.csv                      the mean training log-fold-change, one row per test id
  pseudobulk.csv                    mean log-expression of the controls and every perturbation
  split.csv                         id, set (train/test), cells, targets (';'-joined),
                                    measured_targets
  predictions/<model>.csv           each panel model's predicted test log-fold-changes
  leaderboard.csv                   model, metric, value, fallbacks

The panel: no_change (the controls), mean (of the training perturbations; its Myllia score is 0 by
construction), additive (A+B from A and B), linear_k10 (Ahlmann-Eltze's low-rank linear model,
λ = 0.1) and embedding_knn5. Scores: myllia/score (official) and cell-eval's celleval/mae,
mae_delta, pearson_delta and discrimination_score_l1|l2|cosine on the pseudobulks.

Score your own predictions exactly as the host does:
  cellcast score --metric myllia/score --truth DIR/test_lfc.csv --pred pred.csv \\
      --weights DIR/weights.csv --baseline DIR/baseline.csv

Example:
  cellcast task genetic --h5ad norman.h5ad --group-column condition --control control \\
      --where dataset=norman19 --test-fraction 0.5 --seed 0 --out norman_task";

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitArg {
    Random,
    Doubles,
}

#[derive(clap::Args)]
pub struct GeneticArgs {
    #[command(flatten)]
    pub screen: ScreenArgs,
    /// How to choose the test perturbations: `random` (--test-fraction of them, drawn with
    /// --seed) or `doubles` (every double perturbation A+B whose singles A and B are in the
    /// screen: the singles train, the combination is predicted).
    #[arg(long, value_enum, default_value = "random", conflicts_with = "test")]
    pub split: SplitArg,
    /// Share of the perturbations held out as test with --split random, greater than 0 and
    /// less than 1.
    #[arg(long, default_value_t = 0.5, conflicts_with = "test", value_parser = crate::args::number(0.0, 1.0, true))]
    pub test_fraction: f64,
    /// The test perturbations: a file with one id per line (a first line `id` is a header).
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Seed of the random test split.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Fit limma on the pseudobulk means of (perturbation, replicate) pairs, the replicates being
    /// this obs column's labels (donor, well, guide), instead of on single cells.
    #[arg(long)]
    pub replicate_column: Option<String>,
    /// Output folder (written whole or not at all: a staging folder beside it is moved in when
    /// everything succeeded).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: &GeneticArgs) -> Result<()> {
    let start = Instant::now();
    let split = match (&args.test, args.split) {
        (Some(path), _) => TestSplit::File(path.clone()),
        (None, SplitArg::Doubles) => TestSplit::Doubles,
        (None, SplitArg::Random) => TestSplit::Random { fraction: args.test_fraction },
    };
    let opts = genetic::GeneticTaskOptions {
        screen: args.screen.options(),
        split,
        seed: args.seed,
        replicate_column: args.replicate_column.clone(),
        out: args.out.clone(),
    };
    genetic::task_genetic(&opts, &Terminal::default())?;
    eprintln!(
        "wrote the task, predictions and leaderboard to {} in {:.2} s",
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
