//! `cellcast run TASK_DIR`: arguments → options → [`cellcast::run::run`] → print.

use std::path::PathBuf;

use anyhow::Result;
use cellcast::engine::data::split::SplitMethod;
use cellcast::run::{self, RunOptions};

use crate::observer::Terminal;

/// How the training compounds are split for cross-validation.
#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq, Debug)]
pub enum SplitKind {
    /// Whole Bemis–Murcko scaffold groups per fold (scikit-learn GroupKFold): new chemistry.
    Scaffold,
    /// Seeded random folds: optimistic when test compounds resemble training ones.
    Random,
}

impl From<SplitKind> for SplitMethod {
    fn from(k: SplitKind) -> Self {
        match k {
            SplitKind::Scaffold => SplitMethod::ScaffoldKfold,
            SplitKind::Random => SplitMethod::RandomKfold,
        }
    }
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// Task folder with train.csv (or a CMap matrix train.gct / train.gctx), test_features.csv and
    /// sample_submission.csv, and optionally task.toml: molecule_column, id_column,
    /// compound_column, target_column, metric, control, split, folds, molecules, molecule_key,
    /// benchmark.
    pub task: PathBuf,
    /// Output folder (created if needed). Every output is written to a staging folder beside it
    /// and moved in only when the whole run succeeded: a failed or interrupted run leaves the
    /// folder as it was.
    #[arg(long)]
    pub out: PathBuf,
    /// Cross-validation split [default: task.toml's, else scaffold].
    #[arg(long, value_enum)]
    pub split: Option<SplitKind>,
    /// Use the folds of a `cellcast split` file (id,group,fold from a k-fold method) instead of
    /// making them, so that other tools and cellcast see the same folds. Every training compound
    /// needs a row; its groups (scaffolds) also hold out the inner tuning folds.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["split", "folds"])]
    pub split_file: Option<PathBuf>,
    /// Number of folds, 2 to 1000 [default: task.toml's, else 5].
    #[arg(long, value_parser = crate::args::whole(2..=1000))]
    pub folds: Option<usize>,
    /// Seed of every random step (random folds, tuning folds, neural networks, the bootstrap):
    /// the same seed gives the same bytes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Paired bootstrap resamples over compounds, 1 to 1000000.
    #[arg(long, default_value_t = 1000, value_parser = crate::args::whole(1..=1_000_000))]
    pub bootstrap: usize,
    /// Only these models, comma-separated (e.g. `knn_tuned,ridge_morgan_counts`, or a neural
    /// model such as `fusion`); the mean baseline always runs. Unknown names are refused with the
    /// list of available ones.
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<String>,
    /// Add the neural models (mlp, fusion, fusion_pca16: ensembles of heteroscedastic networks
    /// with predictive σ) to the regression panel. They are off by default because they take
    /// minutes rather than seconds; `--models fusion` runs one of them alone.
    #[arg(long)]
    pub neural: bool,
    /// Members of each neural ensemble, 1 to 100.
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = crate::args::whole(1..=100))]
    pub neural_members: usize,
    /// A per-compound embedding (CSV, TSV or Parquet: an id column and numeric columns) for the
    /// neural models: adds mlp_emb and fusion_emb, which read it instead of the fingerprint and
    /// descriptors. Every training and test compound must have a row.
    #[arg(long, value_name = "FILE")]
    pub embedding: Option<PathBuf>,
    /// The embedding file's id column [default: the task's id column, else `id`].
    #[arg(long, value_name = "COLUMN")]
    pub embedding_id_column: Option<String>,
    /// A task.toml to use instead of the one in the task folder (e.g. when that is read-only).
    #[arg(long)]
    pub task_config: Option<PathBuf>,
    /// Gene symbols for the report's gene programs: a CSV/TSV with a `symbol` column and a column
    /// holding the task's target names (e.g. ../shared/data/l1000/landmark_genes_978.csv).
    #[arg(long, value_name = "FILE")]
    pub gene_annotation: Option<PathBuf>,
    /// An outside model's out-of-fold predictions of the training compounds, NAME=FILE,
    /// repeatable; needs --split-file (the folds they were made on). FILE: `id` (as in the split
    /// file) and one column per target; for a pair task (RxRx3) `id`, the target column and the
    /// value column (id,gene,active), one row per labelled training pair. Scored, bootstrapped
    /// and ranked with the panel; not refit, so never the submission.
    #[arg(long = "predictions", value_name = "NAME=FILE", requires = "split_file")]
    pub predictions: Vec<String>,
}

impl RunArgs {
    fn options(&self) -> Result<RunOptions> {
        Ok(RunOptions {
            task: self.task.clone(),
            task_config: self.task_config.clone(),
            out: Some(self.out.clone()),
            split: self.split.map(SplitMethod::from),
            split_file: self.split_file.clone(),
            folds: self.folds,
            seed: self.seed,
            bootstrap: self.bootstrap,
            models: self.models.clone(),
            neural: self.neural,
            neural_members: self.neural_members,
            embedding: self.embedding.clone(),
            embedding_id_column: self.embedding_id_column.clone(),
            gene_annotation: self.gene_annotation.clone(),
            predictions: self
                .predictions
                .iter()
                .map(|s| crate::args::named_file("--predictions", s))
                .collect::<Result<_>>()?,
        })
    }
}

pub fn run(args: &RunArgs) -> Result<()> {
    let outcome = run::run(&args.options()?, &Terminal::default())?;
    crate::emit(&outcome.summary)?;
    eprintln!("selected {}; wrote {} to {}", outcome.selected, outcome.written.join(", "), args.out.display());
    Ok(())
}
