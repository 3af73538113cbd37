//! `cellcast compare`: arguments → options → compare → print.

use std::path::PathBuf;

use anyhow::Result;
use cellcast::compare::CompareOptions;
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

Single cells: with --real R.h5ad (and --pert-column, --control, --profile …), every --pred is an
.h5ad of predicted cells, evaluated exactly as `cellcast evaluate` evaluates it (cell-eval
0.8.2's metrics); each metric's score is its mean over perturbations (agg_results' mean) and the
bootstrap resamples perturbations. A metric with one value for the whole screen
(pearson_edistance, clustering_agreement, de_spearman_sig) gets no interval.

Examples:
  cellcast compare --real real.h5ad --pert-column target_gene --control non-targeting --profile vcc \\
      --pred gears=gears.h5ad --pred mean=baseline.h5ad --out cmp
  cellcast compare --truth test.csv --pred ridge=ridge.csv --pred mine=my_model.csv --out cmp
  cellcast compare --truth labels.csv --group-by treatment --pred a=a.csv --pred b=b.csv --out cmp
  cellcast compare --truth test.csv --pred a=a.csv --pred b=b.csv --metric polaris/mean_squared_error \\
      --metric per_compound_pearson --folds folds.csv --bootstrap 2000 --seed 1 --out cmp";

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("truth_or_real").required(true).args(["truth", "real"])))]
pub struct CompareArgs {
    /// The truth table (CSV, TSV or Parquet, gzip too; - for standard input).
    #[arg(long)]
    truth: Option<PathBuf>,
    /// Single cells: the real .h5ad. Every --pred is then an .h5ad of predicted cells, evaluated
    /// as `cellcast evaluate` does (cell-eval 0.8.2's metrics) and compared perturbation by
    /// perturbation.
    #[arg(long, value_name = "H5AD")]
    real: Option<PathBuf>,
    /// With --real: the obs column of perturbation labels.
    #[arg(long, requires = "real")]
    pert_column: Option<String>,
    /// With --real: the control label.
    #[arg(long, requires = "real")]
    control: Option<String>,
    /// With --real: cell-eval's profile (full, vcc, minimal, de, anndata, pds).
    #[arg(long, default_value = "full", requires = "real")]
    profile: String,
    /// With --real: an obsm embedding for discrimination_score_l2/cosine.
    #[arg(long, requires = "real")]
    embed_key: Option<String>,
    /// With --real: metrics to leave out, comma-separated.
    #[arg(long, value_delimiter = ',', requires = "real")]
    skip_metrics: Vec<String>,
    /// With --real: leave integer data as it is (cell-eval's --allow-discrete).
    #[arg(long, requires = "real")]
    allow_discrete: bool,
    /// With --real: declare the real file's scale instead of detecting it.
    #[arg(long, value_enum, requires = "real")]
    real_scale: Option<crate::evaluate_cmd::ScaleArg>,
    /// With --real: declare the predictions' scale instead of detecting it.
    #[arg(long, value_enum, requires = "real")]
    pred_scale: Option<crate::evaluate_cmd::ScaleArg>,
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
    let cells = args.real.as_ref().map(|real| cellcast::evaluate::EvaluateOptions {
        real: cellcast::CellsSource::H5ad(real.clone()),
        pert_column: args.pert_column.clone().unwrap_or_default(),
        control: args.control.clone().unwrap_or_default(),
        profile: args.profile.clone(),
        embed_key: args.embed_key.clone(),
        skip_metrics: args.skip_metrics.clone(),
        allow_discrete: args.allow_discrete,
        real_scale: args.real_scale.map(crate::evaluate_cmd::ScaleArg::scale),
        pred_scale: args.pred_scale.map(crate::evaluate_cmd::ScaleArg::scale),
        ..Default::default()
    });
    let opts = CompareOptions {
        truth: args.truth.clone().unwrap_or_default().into(),
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
        cells,
    };
    let outcome = cellcast::compare::compare(&opts, &Terminal::default())?;
    crate::emit(&cellcast::report::compare::summary(&outcome))?;
    eprintln!("wrote {} ({})", args.out.display(), outcome.written.join(", "));
    Ok(())
}
