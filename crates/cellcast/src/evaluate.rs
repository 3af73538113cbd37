//! `evaluate`: Arc Institute's cell-eval 0.8.2 (the Virtual Cell Challenge evaluator), exact and
//! streamed — real and predicted AnnData in, cell-eval's own output files out.
//!
//! The computation is `cellcast-celleval`'s; this module opens the sources, passes notes and
//! progress to the [`Observer`], and writes the folder all at once: `results.csv`,
//! `agg_results.csv`, `real_de.csv`, `pred_de.csv` (prefixed `<celltype>_` per cell type), with a
//! baseline `score.csv`, and `run.json`, which records what was assumed and why.

use std::path::PathBuf;
use std::sync::Mutex;

use cellcast_celleval as celleval;
use cellcast_data::staging::StagedDir;

pub use cellcast_celleval::profile::PROFILES;
pub use cellcast_celleval::{
    Ceiling, DeTable, Evaluation, MetricColumn, NumpyLog1p, Results, Scale, ScaleChoice, ScoreRow,
};

use crate::cells::CellsSource;
use crate::{bail, Context, Error, ErrorKind, Observer, Progress, Result, Unit};

impl From<celleval::CellEvalError> for Error {
    fn from(e: celleval::CellEvalError) -> Self {
        match e {
            celleval::CellEvalError::Data(d) => Error::from(*d),
            celleval::CellEvalError::Io { .. } => Error::new(ErrorKind::Io, e.to_string()),
            celleval::CellEvalError::Input(m) => Error::input(m),
        }
    }
}

/// Options of [`evaluate`] (cell-eval's `run` arguments, plus what its users asked for).
#[derive(Debug, Clone)]
pub struct EvaluateOptions<'a> {
    pub real: CellsSource<'a>,
    /// The prediction; `None` computes only the data ceiling (`ceiling_seed` must be set).
    pub pred: Option<CellsSource<'a>>,
    /// A baseline prediction (`evaluate baseline` makes one): scored like `pred`, then
    /// `score.csv` normalises `pred`'s means against it (cell-eval's `score`).
    pub baseline: Option<CellsSource<'a>>,
    /// The obs column of perturbation labels.
    pub pert_column: String,
    /// The control label.
    pub control: String,
    /// full, vcc, minimal, de, anndata or pds.
    pub profile: String,
    /// Evaluate each cell type of this obs column on its own.
    pub celltype_column: Option<String>,
    pub skip_metrics: Vec<String>,
    /// Leave integer data as it is (cell-eval's `--allow-discrete`).
    pub allow_discrete: bool,
    /// Declared scales (`None`: detected as cell-eval detects them).
    pub real_scale: Option<Scale>,
    pub pred_scale: Option<Scale>,
    /// DE tables to use instead of computing them.
    pub de_real: Option<PathBuf>,
    pub de_pred: Option<PathBuf>,
    /// Bytes of expression values held per file: a file that fits (6 bytes a value for float32
    /// or integer data of at most 65,536 genes, 12 at most) is read once and kept, a larger one
    /// streamed on every pass; also the values the DE pass of a streamed file gathers at once.
    pub memory_budget: u64,
    /// Also estimate the data ceiling (cell-eval's `--ceiling`) with this seed.
    pub ceiling_seed: Option<u64>,
    /// An obsm embedding for discrimination_score_l2 and _cosine (cell-eval's `--embed-key`).
    pub embed_key: Option<String>,
    /// The float32 log1p numpy ran where cell-eval ran, for counts (`None`: the one numpy runs
    /// on this CPU; see [`celleval::NumpyLog1p`]).
    pub numpy_log1p: Option<celleval::NumpyLog1p>,
    /// The output folder; `None`: only return the results.
    pub out: Option<PathBuf>,
}

impl Default for EvaluateOptions<'_> {
    fn default() -> Self {
        EvaluateOptions {
            real: CellsSource::default(),
            pred: None,
            baseline: None,
            pert_column: String::new(),
            control: String::new(),
            profile: "full".into(),
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
            out: None,
        }
    }
}

impl EvaluateOptions<'_> {
    pub fn validate(&self) -> Result<()> {
        if self.pert_column.is_empty() {
            bail!("give the obs column of perturbation labels (pert column)");
        }
        if self.control.is_empty() {
            bail!("give the control label (control)");
        }
        if !PROFILES.contains(&self.profile.as_str()) {
            bail!("unknown profile '{}'; choose one of {}", self.profile, PROFILES.join(", "));
        }
        if self.memory_budget < 1 << 20 {
            bail!("the memory budget must be at least 1 MiB");
        }
        if self.pred.is_none() && self.ceiling_seed.is_none() {
            bail!("give a prediction (pred), or ask for the data ceiling alone (ceiling)");
        }
        if self.pred.is_none() && (self.baseline.is_some() || self.de_pred.is_some()) {
            bail!("a baseline or a predicted DE table needs a prediction (pred)");
        }
        // A DE table is read after both files are summarised: check it is there first.
        for p in self.de_real.iter().chain(&self.de_pred) {
            if !p.is_file() {
                return Err(Error::new(ErrorKind::Io, format!("{}: no such DE table (file not found)", p.display())));
            }
        }
        self.real.validate()?;
        for s in self.pred.iter().chain(&self.baseline) {
            s.validate()?;
        }
        Ok(())
    }
}

/// What [`evaluate`] gives: one [`Evaluation`] per cell type (one in all without a cell-type
/// column), the files written, and the `run.json` record.
#[derive(Debug, Clone)]
pub struct EvaluateOutcome {
    pub evaluations: Vec<Evaluation>,
    pub written: Vec<String>,
    pub run_json: String,
}

/// The progress bar of the file being summarised: (file, genes done, bar).
type FileBar = (String, usize, Box<dyn Progress>);

impl EvaluateOutcome {
    /// The means as a table to read: one line per metric (with the ceiling beside it when
    /// computed), then the scores against the baseline; one block per cell type.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let mean = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
        for e in &self.evaluations {
            if let Some(ct) = &e.celltype {
                let _ = writeln!(out, "cell type {ct}");
            }
            let ceiling: &[(String, f64)] = e.ceiling.as_ref().map_or(&[], |c| c.corrected.as_slice());
            let Some(r) = &e.results else {
                let _ = writeln!(out, "{:<28} {:>12}", "metric", "ceiling");
                for (n, v) in ceiling {
                    let _ = writeln!(out, "{n:<28} {:>12}", mean(Some(*v)));
                }
                continue;
            };
            let _ = writeln!(
                out,
                "{:<28} {:>12}{}",
                "metric",
                "mean",
                if ceiling.is_empty() { "" } else { "      ceiling" }
            );
            for (c, m) in r.columns.iter().zip(r.means()) {
                let ceil = ceiling.iter().find(|(n, _)| *n == c.name).map(|(_, v)| format!(" {:>12}", mean(Some(*v))));
                let _ = writeln!(out, "{:<28} {:>12}{}", c.name, mean(m), ceil.unwrap_or_default());
            }
            if let Some(scores) = &r.scores {
                let _ = writeln!(out, "\n{:<28}", "score vs baseline");
                for s in scores {
                    let _ = writeln!(out, "{:<28} {:>12.6}", s.metric, s.from_baseline);
                }
            }
        }
        out
    }
}

/// Passes the evaluator's messages to an observer, with one progress bar per file pass (the
/// real and predicted files are summarised side by side, each with its own bar).
struct Relay<'o> {
    observer: &'o dyn Observer,
    bars: Mutex<Vec<FileBar>>,
}

impl celleval::Reporter for Relay<'_> {
    fn note(&self, message: &str) {
        self.observer.note(message);
    }

    fn warning(&self, message: &str) {
        self.observer.warning(message);
    }

    fn progress(&self, file: &str, done: usize, total: usize) {
        let mut bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        let at = match bars.iter().position(|(f, d, _)| f == file && done > *d) {
            Some(at) => at,
            None => {
                // A new pass over this file (or its first): a new bar in place of the old one.
                bars.retain(|(f, _, _)| f != file);
                let label = format!("differential expression and pseudobulks of {file}");
                bars.push((file.to_string(), 0, self.observer.progress(&label, total as u64, Unit::Items)));
                bars.len() - 1
            }
        };
        let (_, d, bar) = &mut bars[at];
        bar.advance((done - *d) as u64);
        *d = done;
        if done == total {
            bar.finish();
        }
    }
}

/// Evaluates `pred` against `real` as cell-eval 0.8.2 does (see the [module
/// documentation](self)).
pub fn evaluate(opts: &EvaluateOptions<'_>, observer: &dyn Observer) -> Result<EvaluateOutcome> {
    opts.validate()?;
    let real = opts.real.open()?;
    let pred = opts.pred.as_ref().map(CellsSource::open).transpose()?;
    let baseline = opts.baseline.as_ref().map(CellsSource::open).transpose()?;
    let options = celleval::EvaluateOptions {
        pert_column: &opts.pert_column,
        control: &opts.control,
        profile: &opts.profile,
        celltype_column: opts.celltype_column.as_deref(),
        skip_metrics: opts.skip_metrics.clone(),
        allow_discrete: opts.allow_discrete,
        real_scale: opts.real_scale,
        pred_scale: opts.pred_scale,
        de_real: opts.de_real.as_deref(),
        de_pred: opts.de_pred.as_deref(),
        memory_budget: opts.memory_budget,
        ceiling_seed: opts.ceiling_seed,
        embed_key: opts.embed_key.as_deref(),
        numpy_log1p: opts.numpy_log1p,
    };
    let relay = Relay { observer, bars: Mutex::new(Vec::new()) };
    let evaluations = celleval::evaluate(
        real.source(),
        pred.as_ref().map(|p| p.source()),
        baseline.as_ref().map(|b| b.source()),
        &options,
        &relay,
    )?;
    let run_json = run_record(opts, &evaluations);
    let mut written = Vec::new();
    if let Some(out) = &opts.out {
        let stage = StagedDir::new(out)?;
        for e in &evaluations {
            let prefix = e.celltype.as_ref().map(|c| format!("{}_", c.replace('/', "-"))).unwrap_or_default();
            let write =
                |name: &str, f: &(dyn Fn(&mut dyn std::io::Write) -> std::io::Result<()> + Sync)| -> Result<()> {
                    let path = stage.join(format!("{prefix}{name}"));
                    let file = std::fs::File::create(&path).with_context(|| format!("writing {}", path.display()))?;
                    let mut w = std::io::BufWriter::new(file);
                    f(&mut w)
                        .and_then(|_| std::io::Write::flush(&mut w))
                        .with_context(|| format!("writing {}", path.display()))
                };
            if let Some(c) = &e.ceiling {
                write("ceiling_results.csv", &|w| c.results.write_results(w))?;
                write("agg_ceiling_results.csv", &|w| c.write_corrected(w))?;
            }
            let Some(r) = &e.results else { continue };
            write("results.csv", &|w| r.write_results(w))?;
            write("agg_results.csv", &|w| r.write_aggregate(w))?;
            // The two DE tables side by side: each file's writes then overlap the other's
            // formatting (on this machine the kernel copies 20 MB of CSV at ~0.5 GB/s).
            let de_csv = |name: &str, de: &Option<celleval::DeTable>| match de {
                Some(de) => write(name, &|w| de.write_csv(w)),
                None => Ok(()),
            };
            let (real_de, pred_de) = std::thread::scope(|scope| {
                let pred_de = scope.spawn(|| de_csv("pred_de.csv", &r.de_pred));
                let real_de = de_csv("real_de.csv", &r.de_real);
                (real_de, pred_de.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            });
            real_de?;
            pred_de?;
            if let Some(scores) = &r.scores {
                write("score.csv", &|w| {
                    writeln!(w, "metric,from_baseline")?;
                    for s in scores {
                        writeln!(w, "{},{:?}", s.metric, s.from_baseline)?;
                    }
                    Ok(())
                })?;
            }
        }
        let json_path = stage.join("run.json");
        std::fs::write(&json_path, &run_json).with_context(|| format!("writing {}", json_path.display()))?;
        written = stage.commit()?;
    }
    Ok(EvaluateOutcome { evaluations, written, run_json })
}

/// Options of [`baseline`].
#[derive(Debug, Clone, Default)]
pub struct BaselineOptions<'a> {
    pub real: CellsSource<'a>,
    pub pert_column: String,
    pub control: String,
    /// Leave integer data as it is (cell-eval's `--allow-discrete`).
    pub allow_discrete: bool,
    /// The baseline `.h5ad`; its DE table is written beside it as `<stem>_de.csv`.
    pub out: PathBuf,
}

/// What [`baseline`] wrote.
#[derive(Debug, Clone)]
pub struct BaselineOutcome {
    pub cells: usize,
    pub control_cells: usize,
    pub de_path: PathBuf,
}

/// `cell-eval baseline`: writes the baseline prediction of `real` (every perturbation's cells
/// predicted as the mean of the perturbation means, control cells as they are) and its DE table.
pub fn baseline(opts: &BaselineOptions<'_>, observer: &dyn Observer) -> Result<BaselineOutcome> {
    if opts.pert_column.is_empty() || opts.control.is_empty() {
        bail!("give the obs column of perturbation labels and the control label");
    }
    if opts.out.extension().is_none_or(|e| e != "h5ad") {
        bail!("{}: the baseline is an AnnData file; give a path ending in .h5ad", opts.out.display());
    }
    opts.real.validate()?;
    let real = opts.real.open()?;
    let options = celleval::EvaluateOptions {
        pert_column: &opts.pert_column,
        control: &opts.control,
        allow_discrete: opts.allow_discrete,
        ..celleval::EvaluateOptions::default()
    };
    let relay = Relay { observer, bars: Mutex::new(Vec::new()) };
    let b = celleval::build_baseline(real.source(), &options, &relay)?;
    let column = cellcast_data::h5ad::CategoricalColumn {
        name: opts.pert_column.clone(),
        categories: b.perturbations.clone(),
        codes: b.codes.iter().map(|&c| Some(c)).collect(),
    };
    let data = cellcast_data::h5ad::NewAnnData {
        x: &b.x,
        obs_names: &b.obs_names,
        var_names: real.source().var_names(),
        obs_columns: std::slice::from_ref(&column),
        var_columns: &[],
    };
    cellcast_data::h5ad::write_h5ad(&opts.out, &data)?;
    observer.note(&format!("differential expression of the baseline ({})", opts.out.display()));
    let written = cellcast_data::H5ad::open(&opts.out)?;
    let de = celleval::log1p_differential_expression(&written, &options, &relay)?;
    let stem = opts.out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let de_path = opts.out.with_file_name(format!("{stem}_de.csv"));
    cellcast_data::write::write_atomically(&de_path, |w| de.write_csv(w))?;
    Ok(BaselineOutcome { cells: b.obs_names.len(), control_cells: b.control_cells, de_path })
}

/// `run.json`: the options, and per cell type the scale of each file and why, the control check,
/// the FDR scope, where DE came from, the columns given and the metrics left out.
fn run_record(opts: &EvaluateOptions<'_>, evaluations: &[Evaluation]) -> String {
    use serde_json::json;
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    let finite = |v: f64| v.is_finite().then_some(v);
    let results_record = |r: &Results| {
        let c = &r.controls;
        json!({
            "files": r.scales.iter().map(|(name, s, p)| json!({
                "file": name,
                "scale": s.scale.name(),
                "declared": s.declared,
                "normalized": s.normalized,
                "target_sum": s.target_sum,
                "pdex_is_log1p": s.pdex_log1p,
                "precision": p.name(),
                "why": s.reason,
            })).collect::<Vec<_>>(),
            "controls": {
                "identical": c.identical(),
                "real_cells": c.real_cells,
                "pred_cells": c.pred_cells,
                "max_abs_pseudobulk_difference": finite(c.max_abs_difference),
                "moves": if c.identical() { "nothing" } else { celleval::CONTROL_DEPENDENT },
            },
            "perturbations": r.perturbations.len(),
            "columns": r.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            "left_out": r.dropped.iter().map(|(m, why)| json!({"metric": m, "why": why})).collect::<Vec<_>>(),
            "de": r.de_sources.as_ref().map(|(real, pred)| json!({"real": real, "pred": pred})),
            "score": r.scores.as_ref().map(|rows| rows.iter()
                .map(|s| json!({"metric": s.metric, "from_baseline": finite(s.from_baseline)}))
                .collect::<Vec<_>>()),
        })
    };
    let evaluations: Vec<serde_json::Value> = evaluations
        .iter()
        .map(|e| {
            json!({
                "celltype": e.celltype,
                "results": e.results.as_ref().map(results_record),
                "ceiling": e.ceiling.as_ref().map(|c| json!({
                    "seed": c.seed,
                    "perturbations_left_out": c.dropped_perturbations,
                    "half_depth": results_record(&c.results),
                })),
            })
        })
        .collect();
    let record = json!({
        "cellcast": env!("CARGO_PKG_VERSION"),
        "reference": "cell-eval 0.8.2 with pdex 0.3.0",
        "options": {
            "real": opts.real.name(),
            "pred": opts.pred.as_ref().map(CellsSource::name),
            "baseline": opts.baseline.as_ref().map(CellsSource::name),
            "pert_column": opts.pert_column,
            "control": opts.control,
            "profile": opts.profile,
            "celltype_column": opts.celltype_column,
            "skip_metrics": opts.skip_metrics,
            "allow_discrete": opts.allow_discrete,
            "de_real": path(&opts.de_real),
            "de_pred": path(&opts.de_pred),
            "embed_key": opts.embed_key,
            "ceiling_seed": opts.ceiling_seed,
            // The float32 log1p of counts normalisation: given, or the one numpy runs on this CPU.
            "numpy_log1p": opts.numpy_log1p.unwrap_or_default().name(),
        },
        "fdr": {
            "method": "Benjamini-Hochberg (scipy false_discovery_control, as pdex)",
            "scope": "per perturbation, over every gene of the file",
            "threshold": 0.05,
            "compared_in": "float32",
        },
        "differential_expression": "computed once per file and read by every DE metric; skipping a metric changes no other",
        "evaluations": evaluations,
    });
    let mut text = serde_json::to_string_pretty(&record).expect("a JSON value");
    text.push('\n');
    text
}
