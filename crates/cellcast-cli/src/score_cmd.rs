//! `cellcast score`: load, align, score, report.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use cellcast_data::align::{aligned_values, match_rows};
use cellcast_data::{NumericColumns, WideSpec, WideTable};
use cellcast_metrics::{
    parse_targets, resolve, score, InputKind, Inputs, LabelInputs, MatrixInputs, MetricInfo, MissingTruth, Params,
    RankingInputs, Use,
};

use crate::load;
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

/// The metric's non-finite policy on the truth file, so that an error names its row and column.
fn check_truth(info: &MetricInfo, truth: &WideTable) -> Result<()> {
    let hint = match info.missing_truth {
        MissingTruth::Masked(_) => "an infinite truth cannot be scored; fix or remove the cell".to_string(),
        MissingTruth::Refused => {
            format!("{} has no rule for missing or infinite truth: give complete, finite truth", info.name)
        }
    };
    truth.check_truth(matches!(info.missing_truth, MissingTruth::Masked(_)), &hint).context("checking the truth")?;
    Ok(())
}

pub fn run(args: &ScoreArgs) -> Result<()> {
    crate::args::one_stdin(&[
        ("--truth", Some(args.truth.as_path())),
        ("--pred", Some(args.pred.as_path())),
        ("--weights", args.weights.as_deref()),
        ("--baseline", args.baseline.as_deref()),
    ])?;
    let mut given = Params::parse(&args.params)?;
    if let Some(control) = &args.control {
        given.set_from_flag("--control", "control", control)?;
    }
    if let Some(k) = args.k {
        given.set_from_flag("--k", "k", &k.to_string())?;
    }
    let (info, params) = resolve(&args.metric, &given)?;
    info.check_params(&params)?;
    // Flags the metric does not use, or needs and lacks, are refused before any file is read.
    let check_flag = |flag: &str, given: bool, usage: Use| -> Result<()> {
        match (given, usage) {
            (true, Use::No) => bail!("{} does not use {flag}; remove it (see `cellcast metrics`)", info.name),
            (false, Use::Required) => {
                bail!(
                    "{} needs {flag} FILE; its inputs: {} (see `cellcast score --help`)",
                    info.name,
                    info.inputs_text()
                )
            }
            _ => Ok(()),
        }
    };
    check_flag("--weights", args.weights.is_some(), info.weights)?;
    check_flag("--baseline", args.baseline.is_some(), info.baseline)?;
    check_flag("--group-column", args.group_column.is_some(), info.group_by)?;
    let id = args.id_column.as_str();

    let result = match info.input {
        InputKind::Matrix => {
            // The files are independent: parse them on separate threads (parsing dominates).
            let (truth, pred, weights, baseline) = std::thread::scope(|scope| {
                let optional = |path: &Option<PathBuf>, role: &'static str| {
                    let path = path.clone();
                    scope.spawn(move || path.map(|p| load::complete(&p, id, role)).transpose())
                };
                let weights = optional(&args.weights, "weights");
                let baseline = optional(&args.baseline, "baseline");
                let pred = scope.spawn(|| load::complete(&args.pred, id, "prediction"));
                let truth = load::numeric(&args.truth, id, "truth");
                let joined = "a reader thread panicked";
                (truth, pred.join().expect(joined), weights.join().expect(joined), baseline.join().expect(joined))
            });
            let truth = truth?;
            check_truth(info, &truth)?;
            let pred_values = aligned_values(&truth, &pred?).context("aligning the prediction to the truth")?;
            let align = |table: Result<Option<WideTable>>, role: &str| -> Result<Option<cellcast_data::Matrix>> {
                match table? {
                    None => Ok(None),
                    Some(t) => Ok(Some(
                        aligned_values(&truth, &t).with_context(|| format!("aligning the {role} to the truth"))?,
                    )),
                }
            };
            let weights = align(weights, "weights")?;
            let baseline = align(baseline, "baseline")?;
            let inputs = MatrixInputs {
                ids: &truth.ids,
                targets: &truth.columns,
                truth: &truth.values,
                pred: &pred_values,
                weights: weights.as_ref(),
                baseline: baseline.as_ref(),
            };
            score(info, Inputs::Matrix(inputs), &params)?
        }
        InputKind::Labels => {
            // The prediction's score columns name the labels; other truth columns (SMILES, gene,
            // …) are not read, so a Polaris test table can be scored as it is.
            let pred = load::complete(&args.pred, id, "prediction")?;
            if pred.columns.is_empty() {
                bail!("{}: no score column besides '{id}'; name it like the truth's label column", args.pred.display());
            }
            let group_cols: Vec<&str> = args.group_column.iter().map(String::as_str).collect();
            let spec = WideSpec {
                id_column: id,
                text_columns: &group_cols,
                optional_text: &[],
                numeric: NumericColumns::Only(&pred.columns),
            };
            let truth = WideTable::read(&args.truth, &spec)
                .context("reading the truth labels (a column per score column of the prediction)")?;
            check_truth(info, &truth)?;
            let scores = aligned_values(&truth, &pred)
                .context("aligning the prediction to the truth (one score column per label, named like it)")?;
            let groups = args.group_column.as_deref().and_then(|g| truth.text_column(g)).map(Vec::as_slice);
            let inputs = LabelInputs {
                ids: &truth.ids,
                label_names: &truth.columns,
                truth: &truth.values,
                scores: &scores,
                groups,
            };
            score(info, Inputs::Labels(inputs), &params)?
        }
        InputKind::Ranking => {
            let truth = WideTable::read(&args.truth, &WideSpec::text_only(id, &["targets"]))
                .context("reading the truth (columns: id, targets)")?;
            let pred = load::complete(&args.pred, id, "prediction")?;
            let rows = match_rows(&truth, &pred).context("aligning the prediction to the truth")?;
            let scores = pred.values.select_rows(&rows);
            let targets: Vec<Vec<String>> = truth
                .text_column("targets")
                .expect("requested column")
                .iter()
                .map(|cell| cell.as_deref().map(parse_targets).unwrap_or_default())
                .collect();
            let inputs =
                RankingInputs { ids: &truth.ids, candidates: &pred.columns, targets: &targets, scores: &scores };
            score(info, Inputs::Ranking(inputs), &params)?
        }
    };
    if args.json {
        crate::emit(&format!("{}\n", serde_json::to_string(&report::score_json(&result, &params))?))?;
    } else {
        report::print_score(&result)?;
    }
    for w in &result.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}
