//! Scoring a prediction against the truth with a registered metric, exactly as the benchmark's
//! reference does, and the registry listing.

use cellcast_data::align::{aligned_values, match_rows};
use cellcast_data::{Matrix, NumericColumns, WideSpec, WideTable};
use cellcast_metrics::{
    parse_targets, resolve, InputKind, Inputs, LabelInputs, MatrixInputs, MetricInfo, MissingTruth, Params,
    RankingInputs, Use,
};
pub use cellcast_metrics::{Breakdown, Direction, Score};

use crate::table::{complete, numeric, one_stdin, Table};
use crate::{bail, Context, Observer, Result};

/// Options of [`score`].
#[derive(Debug, Clone)]
pub struct ScoreOptions {
    /// A registered metric's name (see [`metrics`]), e.g. `polaris/mean_squared_error`;
    /// `ranking/recall@5` is shorthand for `ranking/recall@k` with `k=5`.
    pub metric: String,
    pub truth: Table,
    pub pred: Table,
    /// Per-row, per-target weights (same ids and columns as the truth), for metrics that use them.
    pub weights: Option<Table>,
    /// The baseline's prediction (`myllia/score`).
    pub baseline: Option<Table>,
    /// The truth column whose values group the rows (Polaris' `group_by`).
    pub group_by: Option<String>,
    /// The id column of every input table.
    pub id_column: String,
    /// Metric parameters (`k`, `aggregation`, `cos_right`, `control`, …) as key/value text.
    pub params: Vec<(String, String)>,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        Self {
            metric: String::new(),
            truth: Table::default(),
            pred: Table::default(),
            weights: None,
            baseline: None,
            group_by: None,
            id_column: "id".into(),
            params: Vec::new(),
        }
    }
}

impl ScoreOptions {
    /// Resolves the metric and checks everything that can be checked before a file is read:
    /// its parameters, and the inputs it uses, needs or refuses.
    pub fn validate(&self) -> Result<(&'static MetricInfo, Params)> {
        one_stdin(&[
            ("--truth", Some(&self.truth)),
            ("--pred", Some(&self.pred)),
            ("--weights", self.weights.as_ref()),
            ("--baseline", self.baseline.as_ref()),
        ])?;
        let given = Params::from_pairs(self.params.iter().cloned());
        let (info, params) = resolve(&self.metric, &given)?;
        info.check_params(&params)?;
        let check = |input: &str, given: bool, usage: Use| -> Result<()> {
            match (given, usage) {
                (true, Use::No) => bail!("{} does not use {input}; remove it (see `cellcast metrics`)", info.name),
                (false, Use::Required) => bail!(
                    "{} needs {input} FILE; its inputs: {} (see `cellcast score --help`)",
                    info.name,
                    info.inputs_text()
                ),
                _ => Ok(()),
            }
        };
        check("--weights", self.weights.is_some(), info.weights)?;
        check("--baseline", self.baseline.is_some(), info.baseline)?;
        check("--group-column", self.group_by.is_some(), info.group_by)?;
        Ok((info, params))
    }
}

/// A score and the parameters it was computed with.
#[derive(Debug, Clone)]
pub struct ScoreOutcome {
    pub score: Score,
    /// The parameters as resolved from the options and the name (`recall@5` gives `k=5`).
    pub params: Vec<(String, String)>,
}

/// The metric's non-finite policy on the truth, so that an error names its row and column.
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

/// Scores `pred` against `truth`. Tables are aligned by id and by column name, whatever their
/// order; missing, extra or duplicated ids or columns are errors. The metric's warnings are in
/// the outcome and also go to the observer.
pub fn score(opts: &ScoreOptions, observer: &dyn Observer) -> Result<ScoreOutcome> {
    let (info, params) = opts.validate()?;
    let aligned = align(opts, info)?;
    let result = cellcast_metrics::score(info, aligned.inputs(), &params)?;
    for w in &result.warnings {
        observer.warning(w);
    }
    let params = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Ok(ScoreOutcome { score: result, params })
}

/// The truth and a prediction read, checked and aligned row by row as [`score`] does it: what
/// a metric reads, owned, so it can be scored again on other rows (`compare`'s bootstrap).
#[derive(Debug, Clone)]
pub(crate) enum Aligned {
    Matrix {
        ids: Vec<String>,
        targets: Vec<String>,
        truth: Matrix,
        pred: Matrix,
        weights: Option<Matrix>,
        baseline: Option<Matrix>,
    },
    Labels {
        ids: Vec<String>,
        label_names: Vec<String>,
        truth: Matrix,
        scores: Matrix,
        groups: Option<Vec<Option<String>>>,
    },
    Ranking {
        ids: Vec<String>,
        candidates: Vec<String>,
        targets: Vec<Vec<String>>,
        scores: Matrix,
    },
}

impl Aligned {
    pub(crate) fn inputs(&self) -> Inputs<'_> {
        match self {
            Aligned::Matrix { ids, targets, truth, pred, weights, baseline } => Inputs::Matrix(MatrixInputs {
                ids,
                targets,
                truth,
                pred,
                weights: weights.as_ref(),
                baseline: baseline.as_ref(),
            }),
            Aligned::Labels { ids, label_names, truth, scores, groups } => {
                Inputs::Labels(LabelInputs { ids, label_names, truth, scores, groups: groups.as_deref() })
            }
            Aligned::Ranking { ids, candidates, targets, scores } => {
                Inputs::Ranking(RankingInputs { ids, candidates, targets, scores })
            }
        }
    }

    /// The truth's row ids, in row order.
    pub(crate) fn ids(&self) -> &[String] {
        match self {
            Aligned::Matrix { ids, .. } | Aligned::Labels { ids, .. } | Aligned::Ranking { ids, .. } => ids,
        }
    }

    /// Each row's group (`--group-by`), when the metric groups rows.
    pub(crate) fn groups(&self) -> Option<&[Option<String>]> {
        match self {
            Aligned::Labels { groups, .. } => groups.as_deref(),
            _ => None,
        }
    }

    /// The rows `rows`, in that order; a row may repeat: `(row, copy)` with copy > 0 renames its
    /// id (and group) `NAME#copy`, so that every row and group of a resample stays distinct.
    pub(crate) fn select(&self, rows: &[(usize, u32)]) -> Aligned {
        let at: Vec<usize> = rows.iter().map(|&(r, _)| r).collect();
        let rename = |names: &[String]| -> Vec<String> {
            rows.iter().map(|&(r, k)| if k == 0 { names[r].clone() } else { format!("{}#{k}", names[r]) }).collect()
        };
        match self {
            Aligned::Matrix { ids, targets, truth, pred, weights, baseline } => Aligned::Matrix {
                ids: rename(ids),
                targets: targets.clone(),
                truth: truth.select_rows(&at),
                pred: pred.select_rows(&at),
                weights: weights.as_ref().map(|w| w.select_rows(&at)),
                baseline: baseline.as_ref().map(|b| b.select_rows(&at)),
            },
            Aligned::Labels { ids, label_names, truth, scores, groups } => Aligned::Labels {
                ids: rename(ids),
                label_names: label_names.clone(),
                truth: truth.select_rows(&at),
                scores: scores.select_rows(&at),
                groups: groups.as_ref().map(|g| {
                    rows.iter()
                        .map(|&(r, k)| {
                            g[r].as_ref().map(|name| if k == 0 { name.clone() } else { format!("{name}#{k}") })
                        })
                        .collect()
                }),
            },
            Aligned::Ranking { ids, candidates, targets, scores } => Aligned::Ranking {
                ids: rename(ids),
                candidates: candidates.clone(),
                targets: at.iter().map(|&r| targets[r].clone()).collect(),
                scores: scores.select_rows(&at),
            },
        }
    }
}

/// Reads and aligns the tables of `opts` for the metric `info` (see [`score`]).
pub(crate) fn align(opts: &ScoreOptions, info: &MetricInfo) -> Result<Aligned> {
    let id = opts.id_column.as_str();
    Ok(match info.input() {
        InputKind::Matrix => {
            // The tables are independent: parse them on separate threads (parsing dominates).
            let (truth, pred, weights, baseline) = std::thread::scope(|scope| {
                let optional = |table: &'static str, t: Option<&Table>| {
                    let t = t.cloned();
                    scope.spawn(move || t.map(|t| complete(&t, id, table)).transpose())
                };
                let weights = optional("weights", opts.weights.as_ref());
                let baseline = optional("baseline", opts.baseline.as_ref());
                let pred = scope.spawn(|| complete(&opts.pred, id, "prediction"));
                let truth = numeric(&opts.truth, id, "truth");
                let joined = "a reader thread panicked";
                (truth, pred.join().expect(joined), weights.join().expect(joined), baseline.join().expect(joined))
            });
            let truth = truth?;
            check_truth(info, &truth)?;
            let pred_values = aligned_values(&truth, &pred?).context("aligning the prediction to the truth")?;
            let align = |table: Result<Option<WideTable>>, role: &str| -> Result<Option<Matrix>> {
                match table? {
                    None => Ok(None),
                    Some(t) => Ok(Some(
                        aligned_values(&truth, &t).with_context(|| format!("aligning the {role} to the truth"))?,
                    )),
                }
            };
            let weights = align(weights, "weights")?;
            let baseline = align(baseline, "baseline")?;
            Aligned::Matrix {
                ids: truth.ids,
                targets: truth.columns,
                truth: truth.values,
                pred: pred_values,
                weights,
                baseline,
            }
        }
        InputKind::Labels => {
            // The prediction's score columns name the labels; other truth columns (SMILES, gene,
            // …) are not read, so a Polaris test table can be scored as it is.
            let pred = complete(&opts.pred, id, "prediction")?;
            if pred.columns.is_empty() {
                bail!(
                    "{}: no score column besides '{id}'; name it like the truth's label column",
                    opts.pred.describe()
                );
            }
            let group_cols: Vec<&str> = opts.group_by.iter().map(String::as_str).collect();
            let spec = WideSpec {
                id_column: id,
                text_columns: &group_cols,
                optional_text: &[],
                numeric: NumericColumns::Only(&pred.columns),
            };
            let truth = opts
                .truth
                .read(&spec)
                .context("reading the truth labels (a column per score column of the prediction)")?;
            check_truth(info, &truth)?;
            let scores = aligned_values(&truth, &pred)
                .context("aligning the prediction to the truth (one score column per label, named like it)")?;
            let groups = opts.group_by.as_deref().and_then(|g| truth.text_column(g)).cloned();
            Aligned::Labels { ids: truth.ids, label_names: truth.columns, truth: truth.values, scores, groups }
        }
        InputKind::Ranking => {
            let truth = opts
                .truth
                .read(&WideSpec::text_only(id, &["targets"]))
                .context("reading the truth (columns: id, targets)")?;
            let pred = complete(&opts.pred, id, "prediction")?;
            let rows = match_rows(&truth, &pred).context("aligning the prediction to the truth")?;
            let scores = pred.values.select_rows(&rows);
            let targets: Vec<Vec<String>> = truth
                .text_column("targets")
                .into_iter()
                .flatten()
                .map(|cell| cell.as_deref().map(parse_targets).unwrap_or_default())
                .collect();
            Aligned::Ranking { ids: truth.ids, candidates: pred.columns, targets, scores }
        }
    })
}

/// One metric of the registry, as `cellcast metrics` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSummary {
    pub name: &'static str,
    /// `lower` or `higher` (is better).
    pub direction: &'static str,
    /// The inputs it reads, in one line.
    pub inputs: String,
    pub params: Vec<ParamSummary>,
    /// What it does with a missing truth cell.
    pub missing_truth: String,
    pub summary: &'static str,
    /// The reference implementation it reproduces.
    pub source: &'static str,
}

/// A parameter a metric accepts; `default: None` means it is required.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSummary {
    pub key: &'static str,
    pub default: Option<&'static str>,
    pub help: &'static str,
}

/// Every registered metric, in registry order.
pub fn metrics() -> Vec<MetricSummary> {
    cellcast_metrics::metrics()
        .iter()
        .map(|m| MetricSummary {
            name: m.name,
            direction: m.direction.as_str(),
            inputs: m.inputs_text(),
            params: m.params.iter().map(|p| ParamSummary { key: p.key, default: p.default, help: p.help }).collect(),
            missing_truth: m.missing_truth.describe(),
            summary: m.summary,
            source: m.source,
        })
        .collect()
}
