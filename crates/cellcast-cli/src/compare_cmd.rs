//! `cellcast compare`: arguments → options → compare → print.

use std::path::PathBuf;

use anyhow::Result;
use cellcast::compare::{CompareOptions, CompareOutcome};
use cellcast::engine::metrics::Params;
use cellcast::table::Table;

use crate::observer::Terminal;

pub const LONG_ABOUT: &str = "\
Compare several models' predictions of the same truth — your own models, made anywhere — under
the official metric and the metrics that disagree with it, with paired-bootstrap confidence
intervals and p-values for every difference, and a report that says who wins, by how much, and
whether it is real.

Each --pred NAME=FILE is checked against the truth and scored exactly as `cellcast score` scores
it (same layouts: see `cellcast score --help`). Without --metric, the official metric of the
truth's kind comes first, then the panel `cellcast run` scores beside it:
  a `targets` column               ranking/mrr, ranking/relevant_hit@1, @5, @10
  0/1 labels (or --group-by)       polaris/pr_auc, polaris/roc_auc
  continuous, --weights --baseline myllia/score, polaris/mean_squared_error, per_compound_pearson/cosine
  continuous, --weights            vcpi/wmse, proxy/inverse_variance_mse, polaris/mean_squared_error, …
  continuous                       polaris/mean_squared_error, mejia/wmse, per_compound_pearson/cosine

The bootstrap resamples the truth's rows (with --group-by, its groups: e.g. compounds) with
replacement; every model is scored on the same draws, so the differences are paired. A
--param control=LABEL row (cell-eval pseudobulks) is kept in every resample.

Writes to --out (all at once): leaderboard.csv (model, metric, score, rank, ci_low, ci_high,
direction), pairwise.csv (metric, model_a, model_b, delta = a − b, ci_low, ci_high, p,
p_resolution, resamples), rank_agreement.csv (Kendall's τ between the metrics' rankings and the
pairs they order oppositely), folds.csv (with --folds), report.md and report.html. A p-value
equal to p_resolution (1/resamples) means no resample crossed zero: p is below it.

Examples:
  cellcast compare --truth test.csv --pred ridge=ridge.csv --pred mine=my_model.csv --out cmp
  cellcast compare --truth labels.csv --group-by treatment --pred a=a.csv --pred b=b.csv --out cmp
  cellcast compare --truth test.csv --pred a=a.csv --pred b=b.csv --metric polaris/mean_squared_error \\
      --metric per_compound_pearson --folds folds.csv --bootstrap 2000 --seed 1 --out cmp";

#[derive(clap::Args)]
pub struct CompareArgs {
    /// The truth table (CSV, TSV or Parquet, gzip too; - for standard input).
    #[arg(long)]
    truth: PathBuf,
    /// A model's prediction, NAME=FILE; repeat for every model (the order of the report's
    /// tables). A model named `mean` or `baseline` is the reference of the forest plot, else the
    /// first one.
    #[arg(long = "pred", value_name = "NAME=FILE", required = true)]
    preds: Vec<String>,
    /// A metric (see `cellcast metrics`); repeat for several, the first is official. Default:
    /// the official metric of the truth's kind and its panel.
    #[arg(long = "metric", value_name = "NAME")]
    metrics: Vec<String>,
    /// Per-row, per-target weights (same ids and columns as the truth), for the metrics that
    /// use them.
    #[arg(long)]
    weights: Option<PathBuf>,
    /// The baseline's prediction (myllia/score).
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Truth column grouping the rows: grouped metrics score per group and the bootstrap
    /// resamples groups. `--group-column` is accepted too.
    #[arg(long = "group-by", alias = "group-column", value_name = "COLUMN")]
    group_by: Option<String>,
    /// Metric parameter, repeatable (k=5, control=NT, …); given to the metrics that take it.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// id,fold table (`cellcast split` output or a run's folds.csv): also score every fold.
    #[arg(long)]
    folds: Option<PathBuf>,
    /// Paired bootstrap resamples.
    #[arg(long, default_value_t = 1000, value_parser = crate::args::whole(1..=1_000_000))]
    bootstrap: usize,
    /// Seed of the bootstrap: the same seed gives the same bytes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Name of the id column in every input table.
    #[arg(long, default_value = "id")]
    id_column: String,
    /// The output folder.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: &CompareArgs) -> Result<()> {
    let params = Params::parse(&args.params)?;
    let opts = CompareOptions {
        truth: args.truth.clone().into(),
        preds: args
            .preds
            .iter()
            .map(|s| crate::args::named_file("--pred", s).map(|(n, p)| (n, Table::from(p))))
            .collect::<Result<_>>()?,
        metrics: args.metrics.clone(),
        weights: args.weights.clone().map(Table::from),
        baseline: args.baseline.clone().map(Table::from),
        group_by: args.group_by.clone(),
        params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        folds: args.folds.clone().map(Table::from),
        bootstrap: args.bootstrap,
        seed: args.seed,
        id_column: args.id_column.clone(),
        out: Some(args.out.clone()),
    };
    let outcome = cellcast::compare::compare(&opts, &Terminal::default())?;
    print_summary(&outcome);
    eprintln!("wrote {} ({})", args.out.display(), outcome.written.join(", "));
    Ok(())
}

fn print_summary(o: &CompareOutcome) {
    let official = &o.metrics[0].0;
    let width = o.models.iter().map(String::len).max().unwrap_or(5).max(5) + 2;
    let mut text = format!("{:<width$}{:>14}{:>6}{:>28}\n", "model", "score", "rank", "95% CI");
    for &m in &o.official_order() {
        if let Some(r) = o.row(&o.models[m], official) {
            text.push_str(&format!(
                "{:<width$}{:>14}{:>6}{:>28}\n",
                r.model,
                cellcast::report::fmt(r.score),
                r.rank,
                format!("[{}, {}]", cellcast::report::fmt(r.ci_low), cellcast::report::fmt(r.ci_high))
            ));
        }
    }
    text.push_str(&format!("\n{}\n", cellcast::report::compare::headline(o)));
    let _ = crate::emit(&text);
}
