//! Arc Institute's cell-eval 0.8.2 (the Virtual Cell Challenge evaluator), with the pdex 0.3.0
//! differential expression it runs, reproduced exactly and streamed from AnnData.
//!
//! [`evaluate`] takes a real and a predicted AnnData (an `.h5ad` file or arrays in memory,
//! through [`CellSource`]) and gives cell-eval's per-perturbation results table, its `describe()`
//! summary, the two DE tables and, with a baseline, the baseline-normalised scores of
//! `cell-eval score`. What it assumed (the scale of each file, whether the prediction's controls
//! are the real ones, the FDR scope) comes back as notes and warnings.
//!
//! Data flow per file: [`screen`] (labels, scale, one scan) → [`summary`] (pseudobulks and pdex,
//! gene chunk by gene chunk) → [`de_metrics`] / [`bulk_metrics`] / [`edistance`] → [`describe`].

pub mod baseline;
pub mod bulk_metrics;
pub mod ceiling;
mod cell_metrics;
pub mod de;
pub mod de_metrics;
pub mod describe;
pub mod edistance;
pub mod error;
pub mod numeric;
pub mod numpy_rng;
pub mod pdex;
pub mod profile;
pub mod score;
pub mod screen;
mod splits;
pub mod summary;

use std::path::Path;

use cellcast_data::anndata::CellSource;

pub use ceiling::Ceiling;
pub use de::DeTable;
pub use describe::MetricColumn;
pub use error::{CellEvalError, Result};
pub use numeric::NumpyLog1p;
pub use score::ScoreRow;
pub use screen::{Scale, ScaleChoice};

use crate::bulk_metrics::BulkPair;
use crate::cell_metrics::{clustering_agreement, embedding_discrimination, pearson_edistance};
use crate::de_metrics::DeMetrics;
use crate::error::input;
use crate::screen::{ReadOptions, Screen};
use crate::splits::celltype_splits;
use crate::summary::Summary;

/// What to evaluate and how (cell-eval's `run` arguments).
#[derive(Debug, Clone)]
pub struct EvaluateOptions<'a> {
    /// The obs column of perturbation labels (cell-eval's `--pert-col`).
    pub pert_column: &'a str,
    /// The control label (`--control-pert`).
    pub control: &'a str,
    /// One of [`profile::PROFILES`].
    pub profile: &'a str,
    /// Evaluate each cell type on its own (`--celltype-col`).
    pub celltype_column: Option<&'a str>,
    /// Metrics left out (`--skip-metrics`).
    pub skip_metrics: Vec<String>,
    /// `--allow-discrete`.
    pub allow_discrete: bool,
    /// Declared scales of the real and predicted files; `None` detects them.
    pub real_scale: Option<Scale>,
    pub pred_scale: Option<Scale>,
    /// DE tables to use instead of computing them (`--de-real`, `--de-pred`).
    pub de_real: Option<&'a Path>,
    pub de_pred: Option<&'a Path>,
    /// Bytes of expression values held per file: a file whose values fit is read once and kept
    /// (6 bytes a stored value for float32 or integer data of at most 65,536 genes, up to 12),
    /// a larger one is streamed again for every pass; and the values the DE pass of a streamed
    /// file gathers at once.
    pub memory_budget: u64,
    /// Also compute the data ceiling, with this seed (`--ceiling`, `--ceiling-seed`).
    pub ceiling_seed: Option<u64>,
    /// An obsm embedding for discrimination_score_l2 and _cosine (`--embed-key`; cell-eval
    /// computes L1 and every other metric on X whatever this says).
    pub embed_key: Option<&'a str>,
    /// The float32 log1p numpy ran where cell-eval ran (counts normalisation); `None`: the one
    /// numpy runs on this CPU (`--numpy-log1p`).
    pub numpy_log1p: Option<NumpyLog1p>,
}

impl Default for EvaluateOptions<'_> {
    fn default() -> Self {
        EvaluateOptions {
            pert_column: "target",
            control: "non-targeting",
            profile: "full",
            celltype_column: None,
            skip_metrics: Vec::new(),
            allow_discrete: false,
            real_scale: None,
            pred_scale: None,
            de_real: None,
            de_pred: None,
            memory_budget: 1 << 30,
            ceiling_seed: None,
            embed_key: None,
            numpy_log1p: None,
        }
    }
}

/// The results of one evaluation (one cell type, or all cells).
#[derive(Debug, Clone)]
pub struct Results {
    /// Perturbations (rows), sorted as cell-eval sorts them.
    pub perturbations: Vec<String>,
    /// One column per metric, in cell-eval's order.
    pub columns: Vec<MetricColumn>,
    /// pdex's tables, when computed (not when given).
    pub de_real: Option<DeTable>,
    pub de_pred: Option<DeTable>,
    /// With a baseline: the baseline's own results and the scores against it.
    pub baseline: Option<Box<Results>>,
    pub scores: Option<Vec<ScoreRow>>,
    /// The scale decided for each file (real, pred), and their working precision.
    pub scales: Vec<(String, ScaleChoice, numeric::Precision)>,
    /// How the prediction's control cells compare with the real ones.
    pub controls: ControlCheck,
    /// Metrics of the profile that gave no column (cell-eval fails on them here), and why.
    pub dropped: Vec<(String, String)>,
    /// Where each DE table came from: `computed` or the path read.
    pub de_sources: Option<(String, String)>,
}

/// The prediction's control cells against the real ones.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlCheck {
    pub real_cells: usize,
    pub pred_cells: usize,
    /// The largest |difference| between the two control pseudobulks (0 when identical).
    pub max_abs_difference: f64,
}

impl ControlCheck {
    /// Same number of cells and the same pseudobulk up to summation order (cells may come in
    /// another order).
    pub fn identical(&self) -> bool {
        self.real_cells == self.pred_cells && self.max_abs_difference <= 1e-9
    }
}

/// The metrics a prediction's own control cells move (effects and DE are measured against each
/// file's control).
pub const CONTROL_DEPENDENT: &str = "mae_delta, mse_delta, pearson_delta, discrimination_score_*, pearson_edistance \
     and every DE metric";

impl Results {
    /// polars' `describe()` of every column: [`describe::STATISTICS`] rows.
    pub fn aggregate(&self) -> Vec<[Option<f64>; 9]> {
        self.columns.iter().map(|c| describe::describe(&c.values)).collect()
    }

    /// `results.csv`.
    pub fn write_results(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let names: Vec<String> = self.columns.iter().map(|c| de::csv_field(&c.name)).collect();
        writeln!(out, "perturbation{}{}", if names.is_empty() { "" } else { "," }, names.join(","))?;
        for (i, p) in self.perturbations.iter().enumerate() {
            write!(out, "{}", de::csv_field(p))?;
            for c in &self.columns {
                write!(out, ",{}", describe::format_value(c.values[i]))?;
            }
            writeln!(out)?;
        }
        Ok(())
    }

    /// `agg_results.csv`.
    pub fn write_aggregate(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let names: Vec<String> = self.columns.iter().map(|c| de::csv_field(&c.name)).collect();
        writeln!(out, "statistic{}{}", if names.is_empty() { "" } else { "," }, names.join(","))?;
        let agg = self.aggregate();
        for (s, stat) in describe::STATISTICS.iter().enumerate() {
            write!(out, "{stat}")?;
            for a in &agg {
                write!(out, ",{}", describe::format_value(a[s]))?;
            }
            writeln!(out)?;
        }
        Ok(())
    }

    /// The mean of every column (the `mean` row of the aggregate).
    pub fn means(&self) -> Vec<Option<f64>> {
        self.aggregate().iter().map(|a| a[2]).collect()
    }
}

/// Messages for the caller to show.
pub trait Reporter: Sync {
    fn note(&self, message: &str);
    fn warning(&self, message: &str);
    /// `done` of `total` genes of `file` summarised.
    fn progress(&self, _file: &str, _done: usize, _total: usize) {}
}

/// A reporter that drops everything.
pub struct Quiet;

impl Reporter for Quiet {
    fn note(&self, _: &str) {}
    fn warning(&self, _: &str) {}
}

/// What one evaluation (one cell type, or all cells) gives.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The cell type, when split by one.
    pub celltype: Option<String>,
    /// The prediction's results (none in ceiling-only mode).
    pub results: Option<Results>,
    /// The data ceiling, when asked for.
    pub ceiling: Option<Ceiling>,
}

/// cell-eval's `run`: `pred` against `real` (with `baseline`, also `run` on the baseline then
/// `score`), and with `ceiling_seed` the data ceiling of `real`. Without `pred` only the ceiling
/// is computed.
pub fn evaluate(
    real: &dyn CellSource,
    pred: Option<&dyn CellSource>,
    baseline: Option<&dyn CellSource>,
    opts: &EvaluateOptions<'_>,
    reporter: &dyn Reporter,
) -> Result<Vec<Evaluation>> {
    let metrics = metric_list(opts)?;
    if pred.is_none() && opts.ceiling_seed.is_none() {
        return Err(input("give a prediction, or ask for the data ceiling alone"));
    }
    let splits = match opts.celltype_column {
        None => vec![None],
        Some(col) => celltype_splits(real, pred, baseline, col)?,
    };
    let with_de = opts.profile != "pds";
    if with_de {
        reporter.note(
            "significance: pdex's Benjamini–Hochberg FDR over the genes of each perturbation (per-perturbation \
             scope), float32 FDR < 0.05, as cell-eval 0.8.2",
        );
    }
    let mut out = Vec::new();
    for split in &splits {
        let keep = |k: usize| split.as_ref().and_then(|(_, masks)| masks.get(k)).and_then(|m| m.as_deref());
        let celltype = split.as_ref().map(|(ct, _)| ct.clone());
        if let Some(ct) = &celltype {
            reporter.note(&format!("cell type '{ct}'"));
        }
        // The first pass over each file is sequential work: read the two side by side.
        let (real_screen, pred_screen) = rayon::join(
            || open_screen(real, opts, opts.real_scale, keep(0)),
            || pred.map(|p| open_screen(p, opts, opts.pred_scale, keep(1))).transpose(),
        );
        let real_screen = real_screen?;
        let results = match pred_screen? {
            None => None,
            Some(pred_screen) => {
                // One after the other: each is parallel inside, and side by side they would hold
                // two gene chunks at once.
                let real_summary = summarize(&real_screen, with_de && opts.de_real.is_none(), opts, reporter)?;
                let pred_summary = summarize(&pred_screen, with_de && opts.de_pred.is_none(), opts, reporter);
                let mut results = evaluate_pair(
                    &real_screen,
                    &real_summary,
                    &pred_screen,
                    pred_summary?,
                    with_de,
                    (opts.de_real, opts.de_pred),
                    &metrics,
                    opts,
                    reporter,
                )?;
                if let Some(b) = baseline {
                    let base_screen = open_screen(b, opts, None, keep(2))?;
                    let base_summary = summarize(&base_screen, with_de, opts, reporter)?;
                    let base = evaluate_pair(
                        &real_screen,
                        &real_summary,
                        &base_screen,
                        base_summary,
                        with_de,
                        (opts.de_real, None),
                        &metrics,
                        opts,
                        reporter,
                    )?;
                    let names: Vec<String> = results.columns.iter().map(|c| c.name.clone()).collect();
                    let base_names: Vec<String> = base.columns.iter().map(|c| c.name.clone()).collect();
                    if names != base_names {
                        return Err(input(format!(
                            "the baseline's results have columns {base_names:?} but the prediction's have {names:?}; \
                             cell-eval score needs the same columns"
                        )));
                    }
                    results.scores = Some(score::score_against_baseline(&names, &results.means(), &base.means()));
                    results.baseline = Some(Box::new(base));
                }
                Some(results)
            }
        };
        let ceiling = match opts.ceiling_seed {
            None => None,
            Some(seed) => Some(ceiling::ceiling(&real_screen, seed, with_de, &metrics, opts, reporter)?),
        };
        out.push(Evaluation { celltype, results, ceiling });
    }
    Ok(out)
}

/// `cell-eval baseline` of `real` (see [`baseline`]).
pub fn build_baseline(
    real: &dyn CellSource,
    opts: &EvaluateOptions<'_>,
    reporter: &dyn Reporter,
) -> Result<baseline::Baseline> {
    let screen = open_screen(real, opts, opts.real_scale, None)?;
    reporter.note(&format!("{}: scale: {}", screen.name, screen.scale.reason));
    let summary = summarize(&screen, false, opts, reporter)?;
    baseline::baseline(&screen, &summary, real.obs_names())
}

/// pdex's table of one file whose scale is known to be log1p (a baseline cellcast wrote).
pub fn log1p_differential_expression(
    src: &dyn CellSource,
    opts: &EvaluateOptions<'_>,
    reporter: &dyn Reporter,
) -> Result<DeTable> {
    let ro = ReadOptions {
        pert_column: opts.pert_column,
        control: opts.control,
        scale: Some(Scale::Log1p),
        allow_discrete: false,
        keep: None,
        hold_bytes: opts.memory_budget,
        numpy_log1p: opts.numpy_log1p.unwrap_or_default(),
    };
    let screen = Screen::open(src, &ro)?;
    let summary = summarize(&screen, true, opts, reporter)?;
    Ok(summary.de.expect("asked for"))
}

fn open_screen<'s>(
    src: &'s dyn CellSource,
    opts: &EvaluateOptions<'_>,
    scale: Option<Scale>,
    keep: Option<&[bool]>,
) -> Result<Screen<'s>> {
    let ro = ReadOptions {
        pert_column: opts.pert_column,
        control: opts.control,
        scale,
        allow_discrete: opts.allow_discrete,
        keep,
        hold_bytes: opts.memory_budget,
        numpy_log1p: opts.numpy_log1p.unwrap_or_default(),
    };
    Screen::open(src, &ro)
}

/// The metrics the options ask for, in computation order; unknown names are refused.
fn metric_list(opts: &EvaluateOptions<'_>) -> Result<Vec<&'static str>> {
    let all = profile::profile_metrics(opts.profile).ok_or_else(|| {
        input(format!("unknown profile '{}'; choose one of {}", opts.profile, profile::PROFILES.join(", ")))
    })?;
    for s in &opts.skip_metrics {
        if profile::metric(s).is_none() {
            let names: Vec<&str> = profile::METRICS.iter().map(|m| m.name).collect();
            return Err(input(format!("--skip-metrics: unknown metric '{s}' (metrics: {})", names.join(", "))));
        }
    }
    let kept: Vec<&'static str> = all.into_iter().filter(|m| !opts.skip_metrics.iter().any(|s| s == m)).collect();
    Ok(profile::computation_order(&kept))
}

pub(crate) fn summarize(
    screen: &Screen<'_>,
    with_de: bool,
    opts: &EvaluateOptions<'_>,
    reporter: &dyn Reporter,
) -> Result<Summary> {
    let name = screen.name.clone();
    summary::summarize(screen, with_de, opts.memory_budget, &mut |done, total| reporter.progress(&name, done, total))
}

/// One prediction (or baseline) against the real data, both summarised (`pred_summary` with DE
/// unless its table is given).
#[allow(clippy::too_many_arguments)]
pub(crate) fn evaluate_pair(
    real: &Screen<'_>,
    real_summary: &Summary,
    pred: &Screen<'_>,
    pred_summary: Summary,
    with_de: bool,
    (de_real_path, de_pred_path): (Option<&Path>, Option<&Path>),
    metrics: &[&'static str],
    opts: &EvaluateOptions<'_>,
    reporter: &dyn Reporter,
) -> Result<Results> {
    check_pair(real, pred)?;
    for s in [real, pred] {
        let log1p = if s.scale.normalized && s.precision == numeric::Precision::F32 {
            match s.numpy_log1p {
                NumpyLog1p::Avx512 => "; float32 log1p: numpy's AVX-512 kernel",
                NumpyLog1p::CLibrary => "; float32 log1p: the C library's log1pf, as numpy without AVX-512",
            }
        } else {
            ""
        };
        reporter.note(&format!(
            "{}: {} cells × {} genes, {} perturbations; scale: {}{log1p}",
            s.name,
            s.sizes.iter().sum::<usize>(),
            s.n_genes(),
            s.perturbations.len() - 1,
            s.scale.reason
        ));
    }
    let controls = compare_controls(real, real_summary, pred, &pred_summary);
    // A ceiling's halves have different control cells by design.
    if !controls.identical() && real.position.is_none() {
        reporter.warning(&format!(
            "the prediction's control cells differ from the real ones ({} vs {} cells; control pseudobulks differ \
             by up to {:.4}). Effects are measured against each file's own control, so this moves \
             {CONTROL_DEPENDENT}; mae and mse do not use the control",
            controls.pred_cells, controls.real_cells, controls.max_abs_difference
        ));
    }

    let mut perturbations: Vec<String> =
        real.perturbations.iter().filter(|p| p.as_str() != opts.control).cloned().collect();
    perturbations.sort();

    // DE tables: computed (once per file) or read.
    let source = |p: Option<&Path>| p.map_or("computed".to_string(), |p| p.display().to_string());
    let de_sources = with_de.then(|| (source(de_real_path), source(de_pred_path)));
    let de_metrics = if with_de {
        let (real_table, pred_table) =
            (table_or_read(de_real_path, &real_summary.de)?, table_or_read(de_pred_path, &pred_summary.de)?);
        Some(DeMetrics::new(&real_table, &pred_table)?)
    } else {
        None
    };
    // The computed tables go out with the results (the real one is shared with a baseline's
    // evaluation, so it is copied; the prediction's is moved).
    let de_real = real_summary.de.clone();
    let mut pred_summary = pred_summary;
    let de_pred = pred_summary.de.take();

    let pair = BulkPair::new(real_summary, &pred_summary, perturbations.clone(), &real.genes);
    let mut columns = Vec::new();
    let mut dropped = Vec::new();
    for &m in metrics {
        let spec = profile::metric(m).expect("registered");
        let computed: Option<Vec<MetricColumn>> = match spec.source {
            profile::Source::De => {
                let Some(de) = &de_metrics else { continue };
                let cols = de.compute(m).expect("a DE metric");
                Some(align(cols, &de.perturbations, &perturbations))
            }
            profile::Source::AnnData => match m {
                "pearson_edistance" => pearson_edistance(real, pred, &perturbations, reporter)?,
                "clustering_agreement" => match clustering_agreement(real_summary, &pred_summary, &perturbations) {
                    Ok(v) => Some(vec![MetricColumn { name: m.into(), values: vec![Some(v); perturbations.len()] }]),
                    Err(why) => {
                        dropped.push((m.to_string(), why));
                        continue;
                    }
                },
                "discrimination_score_l2" | "discrimination_score_cosine" if opts.embed_key.is_some() => {
                    let key = opts.embed_key.expect("checked");
                    embedding_discrimination(m, real, pred, key, &perturbations)?
                }
                _ => pair.compute(m).map(|c| vec![c]),
            },
        };
        match computed {
            Some(cols) => {
                for c in cols {
                    // A metric whose per-perturbation dict came back empty leaves no column in
                    // cell-eval's pivot (the significant-gene metrics when nothing is significant).
                    if c.values.iter().any(Option::is_some) {
                        columns.push(c);
                    } else {
                        dropped.push((c.name.clone(), drop_reason(&c.name, perturbations.len())));
                    }
                }
            }
            None => dropped.push((m.to_string(), drop_reason(m, perturbations.len()))),
        }
    }
    for (m, why) in &dropped {
        reporter.warning(&format!("{m}: {why}; cell-eval leaves the column out, and so does cellcast"));
    }
    Ok(Results {
        perturbations,
        columns,
        de_real,
        de_pred,
        baseline: None,
        scores: None,
        scales: vec![
            (real.name.clone(), real.scale.clone(), real.precision),
            (pred.name.clone(), pred.scale.clone(), pred.precision),
        ],
        controls,
        dropped,
        de_sources,
    })
}

/// Why cell-eval gives no column for metric `m`.
fn drop_reason(m: &str, n_perturbations: usize) -> String {
    match m {
        "pearson_edistance" => format!("Pearson's r needs at least two perturbations ({n_perturbations} here)"),
        m if m.starts_with("discrimination_score") => {
            "every gene is named like its perturbation, so no gene is left to compare".into()
        }
        _ => "no perturbation has a real significant gene".into(),
    }
}

/// The DE table read from `path`, or the one computed.
fn table_or_read<'t>(path: Option<&Path>, computed: &'t Option<DeTable>) -> Result<std::borrow::Cow<'t, DeTable>> {
    Ok(match path {
        Some(p) => std::borrow::Cow::Owned(DeTable::read_csv(p)?),
        None => std::borrow::Cow::Borrowed(computed.as_ref().expect("computed when not given")),
    })
}

/// DE metric columns come in the DE tables' perturbation order; the results rows are the
/// AnnData perturbations (cell-eval pivots on the union, DE perturbations first).
fn align(cols: Vec<MetricColumn>, from: &[String], to: &[String]) -> Vec<MetricColumn> {
    cols.into_iter()
        .map(|c| MetricColumn {
            name: c.name,
            values: to.iter().map(|p| from.iter().position(|q| q == p).and_then(|i| c.values[i])).collect(),
        })
        .collect()
}

/// cell-eval's `PerturbationAnndataPair` checks.
fn check_pair(real: &Screen<'_>, pred: &Screen<'_>) -> Result<()> {
    if real.genes != pred.genes {
        let first = real.genes.iter().zip(&pred.genes).position(|(a, b)| a != b);
        return Err(input(match first {
            _ if real.genes.len() != pred.genes.len() => format!(
                "{} has {} genes but {} has {}; cell-eval needs the same genes in the same order",
                real.name,
                real.genes.len(),
                pred.name,
                pred.genes.len()
            ),
            Some(j) => format!(
                "gene {j} is '{}' in {} but '{}' in {}; cell-eval needs the same var_names in the same order",
                real.genes[j], real.name, pred.genes[j], pred.name
            ),
            None => unreachable!("equal genes"),
        }));
    }
    let set = |s: &Screen<'_>| {
        let mut v = s.perturbations.clone();
        v.sort();
        v
    };
    let (a, b) = (set(real), set(pred));
    if a != b {
        let only_real: Vec<&String> = a.iter().filter(|p| !b.contains(p)).take(8).collect();
        let only_pred: Vec<&String> = b.iter().filter(|p| !a.contains(p)).take(8).collect();
        return Err(input(format!(
            "the perturbations differ: only in {}: {only_real:?}; only in {}: {only_pred:?}. cell-eval evaluates \
             the same perturbations in both files",
            real.name, pred.name
        )));
    }
    Ok(())
}

fn compare_controls(real: &Screen<'_>, rs: &Summary, pred: &Screen<'_>, ps: &Summary) -> ControlCheck {
    let (rc, pc) = (rs.bulk_row(rs.control), ps.bulk_row(ps.control));
    ControlCheck {
        real_cells: real.sizes[real.control],
        pred_cells: pred.sizes[pred.control],
        max_abs_difference: rc.iter().zip(pc).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max),
    }
}
