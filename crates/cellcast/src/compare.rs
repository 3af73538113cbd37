//! `compare`: several models' predictions of one truth — the user's own models, made anywhere —
//! scored exactly as [`score`](crate::score::score) scores them, under the official metric and
//! the metrics that disagree with it; every difference between two models with a paired
//! bootstrap over the truth's rows (or groups); how far the metrics agree on the ranking; scores
//! per fold; and a report that says who wins, by how much, and whether it is real.
//!
//! The bootstrap is paired: each resample draws the truth's rows (or `--group-by` groups) with
//! replacement once, and every model is scored on the same draw, by the same metric code as
//! `score` (a row drawn twice is scored twice, under a renamed id). A row whose id is the
//! metric's `control` (cell-eval pseudobulks) is the reference of every other row and is kept
//! once in every resample.
//!
//! Single-cell predictions (`.h5ad`, [`CompareOptions::cells`]) are evaluated as
//! [`evaluate`](crate::evaluate::evaluate) does; each cell-eval metric's per-perturbation
//! values are then the units, and its score their mean.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;

use cellcast_data::output::{Column, OutputTable};
use cellcast_data::staging::StagedDir;
use cellcast_data::{NumericColumns, WideSpec};
use cellcast_metrics::{resolve, Direction, InputKind, MetricInfo, Params, Use};
use cellcast_stats::rng::SplitMix64;
use rayon::prelude::*;

use crate::report;
use crate::score::{align, Aligned, ScoreOptions};
use crate::table::{complete, one_stdin, Table};
use crate::{bail, Context, Observer, Result};

/// Options of [`compare`].
#[derive(Debug, Clone)]
pub struct CompareOptions {
    pub truth: Table,
    /// (model name, its prediction), in the order the report lists them.
    pub preds: Vec<(String, Table)>,
    /// Metrics, the first one official; empty: the official metric of the truth's kind and the
    /// panel `run` scores beside it (see [`default_metrics`]).
    pub metrics: Vec<String>,
    /// Per-row, per-target weights, for the metrics that use them.
    pub weights: Option<Table>,
    /// The baseline's prediction (`myllia/score`).
    pub baseline: Option<Table>,
    /// The truth column grouping the rows: grouped metrics score per group, and the bootstrap
    /// resamples groups.
    pub group_by: Option<String>,
    /// Metric parameters as key/value text, given to every metric that takes them.
    pub params: Vec<(String, String)>,
    /// A table of `id,fold` (a `cellcast split` file or a run's folds.csv): scores per fold too.
    pub folds: Option<Table>,
    /// Paired bootstrap resamples, 1 to 1,000,000.
    pub bootstrap: usize,
    pub seed: u64,
    pub id_column: String,
    /// Output folder, written all at once; `None` writes nothing.
    pub out: Option<PathBuf>,
    /// `.h5ad` predictions judged on cell-eval's metrics instead of tables: each prediction is
    /// evaluated against `real` as [`evaluate`](crate::evaluate::evaluate) does with these
    /// options (their `pred` and `out` are ignored), and the bootstrap resamples perturbations.
    /// `truth`, `metrics`, the weights, groups, params and folds are then unused.
    pub cells: Option<crate::evaluate::EvaluateOptions<'static>>,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self {
            truth: Table::default(),
            preds: Vec::new(),
            metrics: Vec::new(),
            weights: None,
            baseline: None,
            group_by: None,
            params: Vec::new(),
            folds: None,
            bootstrap: 1000,
            seed: 0,
            id_column: "id".into(),
            out: None,
            cells: None,
        }
    }
}

impl CompareOptions {
    pub fn validate(&self) -> Result<()> {
        if self.preds.is_empty() {
            bail!("give at least one prediction (--pred NAME=FILE)");
        }
        let mut seen = HashMap::new();
        for (name, _) in &self.preds {
            if name.is_empty() || name.contains(['\n', '\r']) {
                bail!("--pred: model name '{name}' must be a non-empty single line");
            }
            if seen.insert(name.as_str(), ()).is_some() {
                bail!("--pred: model name '{name}' is given twice; name every model differently");
            }
        }
        if !(1..=1_000_000).contains(&self.bootstrap) {
            bail!("bootstrap: {} is out of range: give a whole number from 1 to 1000000", self.bootstrap);
        }
        let mut tables: Vec<(&str, Option<&Table>)> = vec![("--truth", Some(&self.truth))];
        tables.extend(self.preds.iter().map(|(_, t)| ("--pred", Some(t))));
        tables.extend([("--weights", self.weights.as_ref()), ("--baseline", self.baseline.as_ref())]);
        tables.push(("--folds", self.folds.as_ref()));
        one_stdin(&tables)
    }
}

/// A model under a metric.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardRow {
    pub model: String,
    pub metric: String,
    pub direction: Direction,
    pub score: f64,
    /// 1 = best; ties share the better rank.
    pub rank: usize,
    /// 95 % percentile interval of the score over the resamples.
    pub ci_low: f64,
    pub ci_high: f64,
}

/// Two models under a metric: delta = score(a) − score(b).
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub metric: String,
    pub model_a: String,
    pub model_b: String,
    pub delta: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Two-sided paired-bootstrap p of "no difference": twice the share of resamples on the
    /// far side of 0. It is never below `p_resolution`; at `p_resolution` no resample crossed
    /// 0 and the p-value is below it.
    pub p: f64,
    /// 1 / resamples used.
    pub p_resolution: f64,
    /// Resamples where both scores were defined.
    pub resamples: usize,
}

impl Pair {
    /// Whether the interval excludes 0 (the difference is real at the 5 % level).
    pub fn separated(&self) -> bool {
        self.ci_low > 0.0 || self.ci_high < 0.0
    }
}

/// How two metrics rank the models.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    pub metric_a: String,
    pub metric_b: String,
    /// Kendall's τ-b between the two orderings (better = higher under each metric's direction).
    pub kendall_tau: f64,
    /// Pairs of models the two metrics order in opposite ways.
    pub inversions: usize,
    pub pairs: usize,
}

/// A model's score on the rows of one fold.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldScore {
    pub model: String,
    pub metric: String,
    pub fold: String,
    pub score: f64,
}

/// What [`compare`] found.
#[derive(Debug, Clone)]
pub struct CompareOutcome {
    pub models: Vec<String>,
    /// The metrics in order, the first official, with their directions.
    pub metrics: Vec<(String, Direction)>,
    /// The model every other is measured against in the report: one named `mean` or `baseline`,
    /// else the first prediction.
    pub reference: usize,
    /// Model by model, metric by metric.
    pub board: Vec<BoardRow>,
    pub pairs: Vec<Pair>,
    pub agreement: Vec<Agreement>,
    pub folds: Vec<FoldScore>,
    /// Rows (or groups) of the truth the bootstrap resamples, and how many times.
    pub units: usize,
    pub unit_kind: &'static str,
    pub bootstrap: usize,
    pub seed: u64,
    pub warnings: Vec<String>,
    /// Files written, in order (empty without an output folder).
    pub written: Vec<String>,
}

impl CompareOutcome {
    pub fn row(&self, model: &str, metric: &str) -> Option<&BoardRow> {
        self.board.iter().find(|r| r.model == model && r.metric == metric)
    }

    /// The pair (a, b) under `metric`, oriented as asked (delta = a − b).
    pub fn pair(&self, metric: &str, a: &str, b: &str) -> Option<Pair> {
        self.pairs
            .iter()
            .find(|p| p.metric == metric && ((p.model_a == a && p.model_b == b) || (p.model_a == b && p.model_b == a)))
            .map(|p| {
                if p.model_a == a {
                    p.clone()
                } else {
                    Pair {
                        model_a: a.to_string(),
                        model_b: b.to_string(),
                        delta: -p.delta,
                        ci_low: -p.ci_high,
                        ci_high: -p.ci_low,
                        ..p.clone()
                    }
                }
            })
    }

    /// The models in order of the official metric, best first.
    pub fn official_order(&self) -> Vec<usize> {
        let official = &self.metrics[0].0;
        let mut order: Vec<usize> = (0..self.models.len()).collect();
        order.sort_by_key(|&m| self.row(&self.models[m], official).map_or(usize::MAX, |r| r.rank));
        order
    }
}

/// The metrics `compare` scores when none is asked for: the official metric of the truth's
/// kind, then the panel `run` scores beside it.
///
/// - a `targets` column (target identification): `ranking/mrr`, `ranking/relevant_hit@1`,
///   `@5`, `@10`;
/// - 0/1 labels (or `--group-by`): `polaris/pr_auc` (per group with `--group-by`, as RxRx3's
///   official mean per-compound average precision), `polaris/roc_auc`;
/// - continuous with weights and a baseline: `myllia/score`, `polaris/mean_squared_error`,
///   `per_compound_pearson`, `per_compound_cosine`;
/// - continuous with weights: `vcpi/wmse`, `proxy/inverse_variance_mse`,
///   `polaris/mean_squared_error`, `per_compound_pearson`, `per_compound_cosine`;
/// - continuous: `polaris/mean_squared_error`, `mejia/wmse`, `per_compound_pearson`,
///   `per_compound_cosine`.
pub fn default_metrics(opts: &CompareOptions) -> Result<Vec<String>> {
    let id = opts.id_column.as_str();
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let truth_text = opts
        .truth
        .read(&WideSpec {
            id_column: id,
            text_columns: &[],
            optional_text: &["targets"],
            numeric: NumericColumns::Ignore,
        })
        .context("reading the truth")?;
    // An absent optional column reads as all missing.
    if truth_text.text_column("targets").is_some_and(|c| c.iter().any(Option::is_some)) {
        return Ok(names(&[
            "ranking/mrr",
            "ranking/relevant_hit@1",
            "ranking/relevant_hit@5",
            "ranking/relevant_hit@10",
        ]));
    }
    let labels = || names(&["polaris/pr_auc", "polaris/roc_auc"]);
    if opts.group_by.is_some() {
        return Ok(labels());
    }
    let pred = complete(&opts.preds[0].1, id, "prediction")?;
    let truth = opts
        .truth
        .read(&WideSpec {
            id_column: id,
            text_columns: &[],
            optional_text: &[],
            numeric: NumericColumns::Only(&pred.columns),
        })
        .context("reading the truth (a column per prediction column)")?;
    let binary = truth.values.as_slice().iter().all(|v| v.is_nan() || *v == 0.0 || *v == 1.0);
    Ok(match (binary, opts.weights.is_some(), opts.baseline.is_some()) {
        (true, _, _) => labels(),
        (false, true, true) => {
            names(&["myllia/score", "polaris/mean_squared_error", "per_compound_pearson", "per_compound_cosine"])
        }
        (false, true, false) => names(&[
            "vcpi/wmse",
            "proxy/inverse_variance_mse",
            "polaris/mean_squared_error",
            "per_compound_pearson",
            "per_compound_cosine",
        ]),
        (false, false, _) => {
            names(&["polaris/mean_squared_error", "mejia/wmse", "per_compound_pearson", "per_compound_cosine"])
        }
    })
}

/// One metric, resolved, with every model's inputs aligned to the truth.
struct Scored {
    name: String,
    info: &'static MetricInfo,
    params: Params,
    /// Per model.
    aligned: Vec<Aligned>,
    scores: Vec<cellcast_metrics::Score>,
}

/// Scores every prediction under every metric (see the [module documentation](self)).
pub fn compare(opts: &CompareOptions, observer: &dyn Observer) -> Result<CompareOutcome> {
    opts.validate()?;
    if let Some(cells) = &opts.cells {
        return compare_cells(opts, cells, observer);
    }
    let metric_names = if opts.metrics.is_empty() {
        let m = default_metrics(opts)?;
        observer.note(&format!("metrics: {} (the official metric of this kind of truth first)", m.join(", ")));
        m
    } else {
        opts.metrics.clone()
    };
    let mut warnings = Vec::new();
    let mut metrics: Vec<Scored> = Vec::new();
    // What a metric reads depends only on its input layout, the optional tables it uses and its
    // rule for missing truth (checked when read): each model's files are read and aligned once
    // per such reading, not once per metric.
    type Reading = (InputKind, bool, bool, bool, String);
    let mut read: Vec<(Reading, Vec<Aligned>)> = Vec::new();
    for name in &metric_names {
        let given = Params::from_pairs(opts.params.iter().cloned());
        let (info, _) = resolve(name, &given).with_context(|| format!("metric {name}"))?;
        // Parameters a metric does not take are left out for it, so one --param can serve the
        // metrics that use it.
        let mine: Vec<(String, String)> =
            opts.params.iter().filter(|(k, _)| info.params.iter().any(|p| p.key == k)).cloned().collect();
        let key = (
            info.input(),
            info.weights != Use::No,
            info.baseline != Use::No,
            info.group_by != Use::No,
            format!("{:?}", info.missing_truth),
        );
        let cached = read.iter().position(|(k, _)| *k == key);
        let mut aligned = Vec::new();
        let mut scores = Vec::new();
        let mut params = None;
        for (i, (model, pred)) in opts.preds.iter().enumerate() {
            let so = ScoreOptions {
                metric: name.clone(),
                truth: opts.truth.clone(),
                pred: pred.clone(),
                weights: opts.weights.clone().filter(|_| info.weights != Use::No),
                baseline: opts.baseline.clone().filter(|_| info.baseline != Use::No),
                group_by: opts.group_by.clone().filter(|_| info.group_by != Use::No),
                id_column: opts.id_column.clone(),
                params: mine.clone(),
            };
            let (info, p) = so.validate().with_context(|| format!("{model} under {name}"))?;
            let a = match cached {
                Some(c) => read[c].1[i].clone(),
                None => align(&so, info).with_context(|| format!("{model} ({})", pred.describe()))?,
            };
            let s = cellcast_metrics::score(info, a.inputs(), &p).with_context(|| format!("{model} under {name}"))?;
            for w in &s.warnings {
                // Said once per metric when every model gets the same warning.
                let w = format!("{name}: {w}");
                if !warnings.contains(&w) {
                    observer.warning(&w);
                    warnings.push(w);
                }
            }
            scores.push(s);
            aligned.push(a);
            params = Some(p);
        }
        if cached.is_none() {
            read.push((key, aligned.clone()));
        }
        metrics.push(Scored { name: name.clone(), info, params: params.expect("one model at least"), aligned, scores });
    }
    let models: Vec<String> = opts.preds.iter().map(|(n, _)| n.clone()).collect();

    // The bootstrap: one draw of units per resample, shared by every model and metric.
    let first = &metrics[0].aligned[0];
    let control =
        metrics.iter().find_map(|m| m.params.iter().find(|(k, _)| *k == "control").map(|(_, v)| v.to_string()));
    let (units, unit_kind) = units(first, control.as_deref());
    let fixed: Vec<(usize, u32)> = first
        .ids()
        .iter()
        .enumerate()
        .filter(|(_, id)| control.as_deref() == Some(id.as_str()))
        .map(|(r, _)| (r, 0))
        .collect();
    let draws: Vec<Vec<usize>> = (0..opts.bootstrap).map(|b| draw_units(units.len(), opts.seed, b as u64)).collect();
    observer.note(&format!(
        "paired bootstrap: {} resamples of {} {unit_kind}, seed {}",
        opts.bootstrap,
        units.len(),
        opts.seed
    ));
    let mut board = Vec::new();
    let mut pairs = Vec::new();
    for m in &metrics {
        let entries: Vec<Option<Vec<Vec<f64>>>> = m
            .scores
            .iter()
            .zip(&m.aligned)
            .map(|(s, a)| if fixed.is_empty() { unit_entries(s, a, &units) } else { None })
            .collect();
        let values: Vec<f64> = m.scores.iter().map(|s| s.value).collect();
        let (b, p) = resampled(&models, &m.name, m.info.direction, &values, &draws, &|draw| {
            // The rows of a draw, made once for the models rescored on it.
            let mut rows = None;
            entries
                .iter()
                .zip(&m.aligned)
                .map(|(e, a)| match e {
                    Some(e) => mean_of_entries(draw, e),
                    None => {
                        let rows = rows.get_or_insert_with(|| rows_of(draw, &units, &fixed));
                        cellcast_metrics::score(m.info, a.select(rows).inputs(), &m.params)
                            .map_or(f64::NAN, |s| s.value)
                    }
                })
                .collect()
        });
        board.extend(b);
        pairs.extend(p);
    }
    let agreement = agreement(
        &metrics
            .iter()
            .map(|m| (m.name.clone(), m.info.direction, m.scores.iter().map(|s| s.value).collect()))
            .collect::<Vec<_>>(),
    );
    let folds = match &opts.folds {
        None => Vec::new(),
        Some(t) => fold_scores(t, &opts.id_column, &metrics, &models)?,
    };
    let outcome = CompareOutcome {
        reference: reference_of(&models),
        models,
        metrics: metrics.iter().map(|m| (m.name.clone(), m.info.direction)).collect(),
        board,
        pairs,
        agreement,
        folds,
        units: units.len(),
        unit_kind,
        bootstrap: opts.bootstrap,
        seed: opts.seed,
        warnings,
        written: Vec::new(),
    };
    finish(outcome, opts)
}

/// The model the report measures the others against: one named `mean` or `baseline`, else the
/// first.
fn reference_of(models: &[String]) -> usize {
    models.iter().position(|m| m.eq_ignore_ascii_case("mean") || m.eq_ignore_ascii_case("baseline")).unwrap_or(0)
}

/// Writes the outputs, when asked, all at once.
fn finish(mut outcome: CompareOutcome, opts: &CompareOptions) -> Result<CompareOutcome> {
    if let Some(out) = &opts.out {
        let stage = StagedDir::new(out)?;
        outcome.written = write_outputs(&outcome, stage.path())?;
        stage.commit()?;
    }
    Ok(outcome)
}

/// [`compare`] of `.h5ad` predictions on cell-eval's metrics: every prediction evaluated
/// against the real cells, each metric's per-perturbation values the units of the bootstrap,
/// its score their mean (cell-eval's `agg_results` mean). A metric with one value for every
/// perturbation (pearson_edistance, clustering_agreement, de_spearman_sig) is a statistic of
/// the whole screen: resampling perturbations says nothing about it, so it gets no interval.
fn compare_cells(
    opts: &CompareOptions,
    cells: &crate::evaluate::EvaluateOptions<'static>,
    observer: &dyn Observer,
) -> Result<CompareOutcome> {
    use cellcast_celleval::profile::{self, Best};
    let mut perturbations: Option<Vec<String>> = None;
    // per model: (metric name, per-perturbation values)
    let mut columns: Vec<Vec<(String, Vec<f64>)>> = Vec::new();
    let mut warnings = Vec::new();
    for (name, pred) in &opts.preds {
        let crate::table::Table::Path(path) = pred else {
            bail!("--pred {name}: an .h5ad prediction is a file path");
        };
        observer.note(&format!("{name}: evaluating {} against {}", path.display(), cells.real.name()));
        let eval_opts = crate::evaluate::EvaluateOptions {
            pred: Some(crate::CellsSource::H5ad(path.clone())),
            out: None,
            ceiling_seed: None,
            baseline: None,
            ..cells.clone()
        };
        let outcome = crate::evaluate::evaluate(&eval_opts, observer).with_context(|| format!("--pred {name}"))?;
        let Some(results) = outcome.evaluations.into_iter().next().and_then(|e| e.results) else {
            bail!("--pred {name}: cell-eval gave no results");
        };
        match &perturbations {
            None => perturbations = Some(results.perturbations.clone()),
            Some(p) if *p != results.perturbations => {
                bail!("--pred {name}: its perturbations differ from the first prediction's; compare predictions of one screen")
            }
            _ => {}
        }
        columns.push(
            results
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.values.iter().map(|v| v.unwrap_or(f64::NAN)).collect()))
                .collect(),
        );
    }
    let perturbations = perturbations.expect("one prediction at least");
    let models: Vec<String> = opts.preds.iter().map(|(n, _)| n.clone()).collect();
    // The metrics every model has, in cell-eval's order, with a direction (the counts of
    // significant genes are not scores).
    let mut metrics: Vec<(String, Direction)> = Vec::new();
    for (name, _) in &columns[0] {
        let best = profile::metric(name).map(|m| m.best).unwrap_or(Best::None);
        let direction = match best {
            Best::One => Direction::HigherIsBetter,
            Best::Zero => Direction::LowerIsBetter,
            Best::None => continue,
        };
        if columns.iter().all(|c| c.iter().any(|(n, _)| n == name)) {
            metrics.push((name.clone(), direction));
        }
    }
    if metrics.is_empty() {
        bail!("no cell-eval metric to compare the predictions on; choose another profile");
    }
    let draws: Vec<Vec<usize>> =
        (0..opts.bootstrap).map(|b| draw_units(perturbations.len(), opts.seed, b as u64)).collect();
    let mut board = Vec::new();
    let mut pairs = Vec::new();
    let mut scored = Vec::new();
    for (metric, direction) in &metrics {
        let entries: Vec<Vec<Vec<f64>>> = columns
            .iter()
            .map(|c| c.iter().find(|(n, _)| n == metric).expect("checked").1.iter().map(|&v| vec![v]).collect())
            .collect();
        let values: Vec<f64> = entries.iter().map(|e| mean_of_entries(&(0..e.len()).collect::<Vec<_>>(), e)).collect();
        for (model, e) in models.iter().zip(&entries) {
            let missing = e.iter().filter(|v| !v[0].is_finite()).count();
            if missing > 0 {
                let w = format!(
                    "{metric}: {model} has no value for {missing} of {} perturbations; its score is the mean of the \
                     others (cell-eval's agg_results mean is NaN then)",
                    e.len()
                );
                observer.warning(&w);
                warnings.push(w);
            }
        }
        let global = entries.iter().all(|e| e.iter().all(|v| v[0] == e[0][0] || (v[0].is_nan() && e[0][0].is_nan())));
        if global {
            let w = format!(
                "{metric}: one value for the whole screen, so the bootstrap over perturbations gives it no interval"
            );
            observer.note(&w);
            warnings.push(w);
        }
        let (mut b, mut p) = resampled(&models, metric, *direction, &values, &draws, &|draw| {
            entries.iter().map(|e| mean_of_entries(draw, e)).collect()
        });
        if global {
            for r in &mut b {
                (r.ci_low, r.ci_high) = (f64::NAN, f64::NAN);
            }
            for q in &mut p {
                (q.ci_low, q.ci_high, q.p, q.resamples) = (f64::NAN, f64::NAN, f64::NAN, 0);
            }
        }
        board.extend(b);
        pairs.extend(p);
        scored.push((metric.clone(), *direction, values));
    }
    observer.note(&format!(
        "paired bootstrap: {} resamples of {} perturbations, seed {}",
        opts.bootstrap,
        perturbations.len(),
        opts.seed
    ));
    let outcome = CompareOutcome {
        reference: reference_of(&models),
        models,
        metrics,
        board,
        pairs,
        agreement: agreement(&scored),
        folds: Vec::new(),
        units: perturbations.len(),
        unit_kind: "perturbations",
        bootstrap: opts.bootstrap,
        seed: opts.seed,
        warnings,
        written: Vec::new(),
    };
    finish(outcome, opts)
}

/// The bootstrap's units: groups of rows (`--group-by`) or single rows; the control row is not
/// one (it is kept in every resample).
fn units(aligned: &Aligned, control: Option<&str>) -> (Vec<Vec<usize>>, &'static str) {
    let ids = aligned.ids();
    let free = |r: &usize| control != Some(ids[*r].as_str());
    match aligned.groups() {
        Some(groups) => {
            let mut index: HashMap<&str, usize> = HashMap::new();
            let mut units: Vec<Vec<usize>> = Vec::new();
            for (r, g) in groups.iter().enumerate() {
                // Rows without a group are dropped by the metric; they stay single units.
                let key = g.as_deref().unwrap_or("");
                if g.is_none() {
                    units.push(vec![r]);
                    continue;
                }
                let k = *index.entry(key).or_insert_with(|| {
                    units.push(Vec::new());
                    units.len() - 1
                });
                units[k].push(r);
            }
            (units, "groups")
        }
        None => ((0..ids.len()).filter(free).map(|r| vec![r]).collect(), "rows"),
    }
}

/// Resample `b`: `n` units drawn with replacement, seeded by `seed` and `b` alone (so any thread
/// count draws the same).
fn draw_units(n: usize, seed: u64, b: u64) -> Vec<usize> {
    // The resample's state is a hash of b: SplitMix64 states one step apart would give the same
    // sequence shifted by one draw.
    let mut rng = SplitMix64::new(seed ^ SplitMix64::new(b).next_u64());
    (0..n).map(|_| rng.below(n as u64) as usize).collect()
}

/// The rows of a draw: the fixed rows, then each drawn unit's rows; the k-th draw of a unit is
/// its copy k.
fn rows_of(draw: &[usize], units: &[Vec<usize>], fixed: &[(usize, u32)]) -> Vec<(usize, u32)> {
    let mut copies = vec![0u32; units.len()];
    let mut rows = fixed.to_vec();
    for &u in draw {
        rows.extend(units[u].iter().map(|&r| (r, copies[u])));
        copies[u] += 1;
    }
    rows
}

/// Each unit's entries of `score`, when the metric's value is the plain mean of its finite
/// entries and every entry belongs to one unit (a per-row metric on row units, a per-group one
/// on group units). A resample's value is then the mean of its drawn units' entries — the
/// number scoring the resample gives, without scoring it again.
fn unit_entries(score: &cellcast_metrics::Score, aligned: &Aligned, units: &[Vec<usize>]) -> Option<Vec<Vec<f64>>> {
    use cellcast_metrics::Breakdown;
    let finite: Vec<f64> = score.entries.iter().map(|(_, v)| *v).filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return None;
    }
    let mean = finite.iter().sum::<f64>() / finite.len() as f64;
    if (mean - score.value).abs() > 1e-9 * score.value.abs().max(1.0) {
        return None;
    }
    let by_key: HashMap<&str, f64> = score.entries.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let keys: Vec<Vec<&str>> = match (score.breakdown, aligned.groups()) {
        (Breakdown::PerRow, None) => {
            units.iter().map(|u| u.iter().map(|&r| aligned.ids()[r].as_str()).collect()).collect()
        }
        (Breakdown::PerGroup, Some(groups)) => {
            units.iter().map(|u| groups[u[0]].as_deref().into_iter().collect()).collect()
        }
        _ => return None,
    };
    // Every entry must be some unit's, once.
    if keys.iter().map(Vec::len).sum::<usize>() != score.entries.len() {
        return None;
    }
    keys.iter().map(|k| k.iter().map(|key| by_key.get(key).copied()).collect::<Option<Vec<f64>>>()).collect()
}

/// The mean of the finite entries of the drawn units.
fn mean_of_entries(draw: &[usize], entries: &[Vec<f64>]) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for &u in draw {
        for &v in entries[u].iter().filter(|v| v.is_finite()) {
            sum += v;
            n += 1;
        }
    }
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64
    }
}

/// The 95 % percentile interval of the finite values (NaN when none).
fn interval(mut v: Vec<f64>) -> (f64, f64) {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((p * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)];
    (q(0.025), q(0.975))
}

fn pair(metric: &str, a: &str, b: &str, delta: f64, deltas: Vec<f64>) -> Pair {
    let n = deltas.len();
    let (ci_low, ci_high) = interval(deltas.clone());
    let (p, p_resolution) = if n == 0 {
        (f64::NAN, f64::NAN)
    } else {
        let below = deltas.iter().filter(|&&d| d <= 0.0).count() as f64;
        let above = deltas.iter().filter(|&&d| d >= 0.0).count() as f64;
        let resolution = 1.0 / n as f64;
        ((2.0 * below.min(above) / n as f64).clamp(resolution, 1.0), resolution)
    };
    Pair {
        metric: metric.to_string(),
        model_a: a.to_string(),
        model_b: b.to_string(),
        delta,
        ci_low,
        ci_high,
        p,
        p_resolution,
        resamples: n,
    }
}

/// One metric's leaderboard rows and pairs: the point scores `values` (per model), and every
/// model's score on each draw from `resample(draw)` (run in parallel over the draws).
fn resampled(
    models: &[String],
    metric: &str,
    direction: Direction,
    values: &[f64],
    draws: &[Vec<usize>],
    resample: &(dyn Fn(&[usize]) -> Vec<f64> + Sync),
) -> (Vec<BoardRow>, Vec<Pair>) {
    // resampled[b][model]
    let resampled: Vec<Vec<f64>> = draws.par_iter().map(|draw| resample(draw)).collect();
    let mut board = Vec::new();
    for (i, model) in models.iter().enumerate() {
        let (ci_low, ci_high) = interval(resampled.iter().map(|r| r[i]).collect());
        let rank = 1 + values.iter().filter(|&&o| report::better(direction, o, values[i])).count();
        board.push(BoardRow {
            model: model.clone(),
            metric: metric.to_string(),
            direction,
            score: values[i],
            rank,
            ci_low,
            ci_high,
        });
    }
    let mut pairs = Vec::new();
    for a in 0..models.len() {
        for b in a + 1..models.len() {
            let deltas: Vec<f64> = resampled.iter().map(|r| r[a] - r[b]).filter(|d| d.is_finite()).collect();
            pairs.push(pair(metric, &models[a], &models[b], values[a] - values[b], deltas));
        }
    }
    (board, pairs)
}

/// Kendall's τ-b between every two metrics' orderings of the models: (metric, direction,
/// score per model).
fn agreement(metrics: &[(String, Direction, Vec<f64>)]) -> Vec<Agreement> {
    // Oriented so that higher is better under every metric.
    let oriented = |m: &(String, Direction, Vec<f64>)| -> Vec<f64> {
        m.2.iter().map(|&s| if m.1 == Direction::LowerIsBetter { -s } else { s }).collect()
    };
    let mut out = Vec::new();
    for i in 0..metrics.len() {
        for j in i + 1..metrics.len() {
            let (x, y) = (oriented(&metrics[i]), oriented(&metrics[j]));
            let (mut concordant, mut discordant, mut tie_x, mut tie_y) = (0usize, 0usize, 0usize, 0usize);
            for a in 0..x.len() {
                for b in a + 1..x.len() {
                    let (dx, dy) = (x[a] - x[b], y[a] - y[b]);
                    if !(dx.is_finite() && dy.is_finite()) {
                        continue;
                    }
                    match (dx == 0.0, dy == 0.0) {
                        (true, true) => {}
                        (true, false) => tie_x += 1,
                        (false, true) => tie_y += 1,
                        (false, false) if (dx > 0.0) == (dy > 0.0) => concordant += 1,
                        _ => discordant += 1,
                    }
                }
            }
            let (c, d) = (concordant as f64, discordant as f64);
            let denominator = ((c + d + tie_x as f64) * (c + d + tie_y as f64)).sqrt();
            out.push(Agreement {
                metric_a: metrics[i].0.clone(),
                metric_b: metrics[j].0.clone(),
                kendall_tau: if denominator > 0.0 { (c - d) / denominator } else { f64::NAN },
                inversions: discordant,
                pairs: x.len() * x.len().saturating_sub(1) / 2,
            });
        }
    }
    out
}

/// Every model's score on the rows of each fold of `folds` (`id,fold`; rows of the truth the
/// table does not name are refused).
fn fold_scores(folds: &Table, id_column: &str, metrics: &[Scored], models: &[String]) -> Result<Vec<FoldScore>> {
    let t = folds.read(&WideSpec::text_only(id_column, &["fold"])).context("reading --folds (columns: id, fold)")?;
    let fold_of: HashMap<&str, &str> = t
        .ids
        .iter()
        .zip(t.text_column("fold").expect("asked for"))
        .filter_map(|(id, f)| f.as_deref().map(|f| (id.as_str(), f)))
        .collect();
    let ids = metrics[0].aligned[0].ids();
    let mut names: Vec<&str> = Vec::new();
    let mut rows_of: HashMap<&str, Vec<(usize, u32)>> = HashMap::new();
    for (r, id) in ids.iter().enumerate() {
        let Some(&f) = fold_of.get(id.as_str()) else {
            bail!("--folds ({}): no fold for truth row '{id}'; give the folds of every truth row", folds.describe());
        };
        if !rows_of.contains_key(f) {
            names.push(f);
        }
        rows_of.entry(f).or_default().push((r, 0));
    }
    names.sort_by(|a, b| match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    });
    let mut out = Vec::new();
    for m in metrics {
        for (i, model) in models.iter().enumerate() {
            for f in &names {
                let a = m.aligned[i].select(&rows_of[f]);
                let score = cellcast_metrics::score(m.info, a.inputs(), &m.params).map_or(f64::NAN, |s| s.value);
                out.push(FoldScore { model: model.clone(), metric: m.name.clone(), fold: f.to_string(), score });
            }
        }
    }
    Ok(out)
}

fn write_outputs(o: &CompareOutcome, dir: &std::path::Path) -> Result<Vec<String>> {
    let text = |v: Vec<String>| Column::Text(v.into_iter().map(Some).collect());
    let b = &o.board;
    OutputTable::new()
        .with("model", text(b.iter().map(|r| r.model.clone()).collect()))
        .with("metric", text(b.iter().map(|r| r.metric.clone()).collect()))
        .with("score", Column::Float(b.iter().map(|r| r.score).collect()))
        .with("rank", Column::Int(b.iter().map(|r| r.rank as i64).collect()))
        .with("ci_low", Column::Float(b.iter().map(|r| r.ci_low).collect()))
        .with("ci_high", Column::Float(b.iter().map(|r| r.ci_high).collect()))
        .with("direction", text(b.iter().map(|r| r.direction.as_str().to_string()).collect()))
        .write(&dir.join("leaderboard.csv"))?;
    let p = &o.pairs;
    OutputTable::new()
        .with("metric", text(p.iter().map(|r| r.metric.clone()).collect()))
        .with("model_a", text(p.iter().map(|r| r.model_a.clone()).collect()))
        .with("model_b", text(p.iter().map(|r| r.model_b.clone()).collect()))
        .with("delta", Column::Float(p.iter().map(|r| r.delta).collect()))
        .with("ci_low", Column::Float(p.iter().map(|r| r.ci_low).collect()))
        .with("ci_high", Column::Float(p.iter().map(|r| r.ci_high).collect()))
        .with("p", Column::Float(p.iter().map(|r| r.p).collect()))
        .with("p_resolution", Column::Float(p.iter().map(|r| r.p_resolution).collect()))
        .with("resamples", Column::Int(p.iter().map(|r| r.resamples as i64).collect()))
        .write(&dir.join("pairwise.csv"))?;
    let a = &o.agreement;
    OutputTable::new()
        .with("metric_a", text(a.iter().map(|r| r.metric_a.clone()).collect()))
        .with("metric_b", text(a.iter().map(|r| r.metric_b.clone()).collect()))
        .with("kendall_tau", Column::Float(a.iter().map(|r| r.kendall_tau).collect()))
        .with("inversions", Column::Int(a.iter().map(|r| r.inversions as i64).collect()))
        .with("pairs", Column::Int(a.iter().map(|r| r.pairs as i64).collect()))
        .write(&dir.join("rank_agreement.csv"))?;
    let mut written: Vec<String> = ["leaderboard.csv", "pairwise.csv", "rank_agreement.csv"].map(String::from).to_vec();
    if !o.folds.is_empty() {
        let f = &o.folds;
        OutputTable::new()
            .with("model", text(f.iter().map(|r| r.model.clone()).collect()))
            .with("metric", text(f.iter().map(|r| r.metric.clone()).collect()))
            .with("fold", text(f.iter().map(|r| r.fold.clone()).collect()))
            .with("score", Column::Float(f.iter().map(|r| r.score).collect()))
            .write(&dir.join("folds.csv"))?;
        written.push("folds.csv".into());
    }
    let md = report::compare::markdown(o);
    let html = report::compare::html(o);
    for (name, body) in [("report.md", md), ("report.html", html)] {
        cellcast_data::write::write_atomically(&dir.join(name), |w| w.write_all(body.as_bytes()))?;
        written.push(name.into());
    }
    Ok(written)
}
