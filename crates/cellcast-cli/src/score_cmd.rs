//! `cellcast score`: arguments → options → score → print.

use std::path::PathBuf;

use anyhow::Result;
use cellcast::engine::metrics::Params;
use cellcast::score::ScoreOptions;
use cellcast::table::Table;

use crate::observer::Terminal;
use crate::report;

pub const LONG_ABOUT: &str = "\
Score a prediction file against the truth with an official metric.

Files are CSV, TSV or Parquet wide tables: an `id` column (ids are strings, even when they look
like numbers) and one column per target. Truth and prediction are aligned by id and by column
name, whatever their order; missing, extra or duplicated ids or columns are errors. A missing
truth cell (empty or NaN) is masked per target, as Polaris does; a missing prediction is an error.

Input layouts by metric kind (see `cellcast metrics`):
  polaris regression, vcpi/wmse, mejia/wmse, myllia/score:
      truth and pred: id + one column per target/gene
      --weights (same layout as truth), --baseline (a prediction file of the baseline)
  celleval/*:
      truth and pred: per-perturbation pseudobulks (mean of the cells), id = perturbation label,
      one column per gene, the control row included (--control LABEL, default
      non-targeting)
  polaris/pr_auc, polaris/roc_auc:
      truth: id, a 0/1 label column and (with --group-column) the group column
      pred:  id and a score column named like the label
  ranking/*:
      truth: id and `targets` (gene names joined by ';')
      pred:  id and one score column per candidate gene (higher = more likely)

Examples:
  cellcast score --metric polaris/mean_squared_error --truth test.csv --pred pred.csv
  cellcast score --metric polaris/pr_auc --truth labels.csv --pred scores.csv --group-column treatment --json
  cellcast score --metric myllia/score --truth lfc.csv --pred pred.csv --weights w.csv --baseline mean.csv
  cellcast score --metric ranking/relevant_hit@k --k 5 --truth targets.csv --pred ranks.csv
  cellcast score --metric celleval/discrimination_score_l1 --truth real_bulk.csv --pred pred_bulk.csv --control NT";

#[derive(clap::Args)]
pub struct ScoreArgs {
    /// Metric name, e.g. polaris/mean_squared_error (list them with `cellcast metrics`).
    #[arg(long)]
    metric: String,
    /// The truth table: CSV, TSV or Parquet, gzip-compressed too (truth.csv.gz), or - for
    /// standard input.
    #[arg(long)]
    truth: PathBuf,
    /// The prediction table (the same formats; - for standard input).
    #[arg(long)]
    pred: PathBuf,
    /// Per-row, per-target weights (same ids and columns as the truth).
    #[arg(long)]
    weights: Option<PathBuf>,
    /// The baseline's prediction (myllia/score: usually the mean training log-fold-change).
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Truth column whose values group the rows (pr_auc/roc_auc: one score per group, then
    /// aggregated; Polaris' group_by). `--group-by` is accepted too.
    #[arg(long = "group-column", alias = "group-by", value_name = "COLUMN")]
    group_column: Option<String>,
    /// The control row's id in both pseudobulk tables (celleval/*); the same as --param
    /// control=LABEL.
    #[arg(long, value_name = "LABEL")]
    control: Option<String>,
    /// The cut-off rank of the @k ranking metrics, at least 1; the same as --param k=N or a
    /// metric name ending in @N.
    #[arg(short = 'k', long = "k", value_name = "N", value_parser = crate::args::whole(1..=usize::MAX))]
    k: Option<usize>,
    /// Metric parameter, repeatable: k=5, aggregation=median, cos_right=0.3, control=ctrl, …
    #[arg(long = "param", value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// Print one JSON object (metric, value, breakdown, warnings) on stdout.
    #[arg(long)]
    json: bool,
    /// Name of the id column in every input table.
    #[arg(long, default_value = "id")]
    id_column: String,
}

pub fn run(args: &ScoreArgs) -> Result<()> {
    let mut params = Params::parse(&args.params)?;
    if let Some(control) = &args.control {
        params.set_from_flag("--control", "control", control)?;
    }
    if let Some(k) = args.k {
        params.set_from_flag("--k", "k", &k.to_string())?;
    }
    let opts = ScoreOptions {
        metric: args.metric.clone(),
        truth: args.truth.clone().into(),
        pred: args.pred.clone().into(),
        weights: args.weights.clone().map(Table::from),
        baseline: args.baseline.clone().map(Table::from),
        group_by: args.group_column.clone(),
        id_column: args.id_column.clone(),
        params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    };
    let outcome = cellcast::score::score(&opts, &Terminal::default())?;
    if args.json {
        crate::emit(&format!("{}\n", serde_json::to_string(&report::score_json(&outcome))?))
    } else {
        report::print_score(&outcome.score)
    }
}
