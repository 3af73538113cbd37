//! `run`: load a task folder → featurize → split → cross-validate the model panel → score under
//! the official metric and the panel → paired bootstrap → select → refit → submission, and with
//! an output folder, the files and reports.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use cellcast_data::output::{Column, OutputTable};
use cellcast_data::split::{group_kfold, random_kfold, Part, SplitMethod, SplitTable};
use cellcast_data::staging::StagedDir;
use cellcast_data::task::{Layout, Task, TaskConfig};
use cellcast_data::write::{format_number, write_atomically, write_matrix};
use cellcast_eval::{
    cross_validate, metric_panel, paired_bootstrap, per_compound, Calibration, Comparison, CvResult, RowWeights,
};
use cellcast_metrics::weights::{vcpi_weights_from_sums, VcpiVariance};
use cellcast_metrics::Direction;
use cellcast_models::Features;
use cellcast_stats::Matrix;

use crate::panel::{panel, select_models, NeuralOptions};
use crate::report::{self, programs::GenePrograms};
use crate::{bail, Context, Error, Observer, Result, Unit};

/// Options of [`run`].
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Task folder: train.csv (or a CMap matrix, or DRUG-seq counts), test_features.csv,
    /// sample_submission.csv, and optionally task.toml.
    pub task: PathBuf,
    /// A task.toml to use instead of the one in the task folder.
    pub task_config: Option<PathBuf>,
    /// Output folder, written all-or-nothing (staged beside it, moved in when the whole run
    /// succeeded); `None` computes everything and writes nothing.
    pub out: Option<PathBuf>,
    /// Cross-validation split, [`SplitMethod::ScaffoldKfold`] or [`SplitMethod::RandomKfold`]
    /// [default: task.toml's `split`, else scaffold].
    pub split: Option<SplitMethod>,
    /// The folds of a `split` file (id,group,fold) instead of making them.
    pub split_file: Option<PathBuf>,
    /// Number of folds, 2 to 1000 [default: task.toml's, else 5].
    pub folds: Option<usize>,
    /// Seed of every random step: the same seed gives the same bytes.
    pub seed: u64,
    /// Paired bootstrap resamples over compounds, 1 to 1,000,000.
    pub bootstrap: usize,
    /// Only these models (the mean baseline always runs); empty: the default panel.
    pub models: Vec<String>,
    /// Add the neural models to the default regression panel.
    pub neural: bool,
    /// Members of each neural ensemble, 1 to 100.
    pub neural_members: usize,
    /// A per-compound embedding for the neural models that read one.
    pub embedding: Option<PathBuf>,
    /// The embedding's id column [default: the task's id column, else `id`].
    pub embedding_id_column: Option<String>,
    /// Gene symbols for the report's gene programs.
    pub gene_annotation: Option<PathBuf>,
    /// Outside models: (name, out-of-fold predictions of the training compounds made on the
    /// folds of `split_file`), scored, bootstrapped and ranked with the panel (see
    /// [`read_outside_predictions`]). They cannot be refit, so the submission comes from the
    /// best panel model.
    pub predictions: Vec<(String, PathBuf)>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            task: PathBuf::new(),
            task_config: None,
            out: None,
            split: None,
            split_file: None,
            folds: None,
            seed: 0,
            bootstrap: 1000,
            models: Vec::new(),
            neural: false,
            neural_members: 5,
            embedding: None,
            embedding_id_column: None,
            gene_annotation: None,
            predictions: Vec::new(),
        }
    }
}

impl RunOptions {
    pub fn validate(&self) -> Result<()> {
        if let Some(m) = self.split {
            if !matches!(m, SplitMethod::ScaffoldKfold | SplitMethod::RandomKfold) {
                bail!("split: run cross-validates on scaffold-kfold or random-kfold folds, not {}", m.name());
            }
        }
        if self.split_file.is_some() && (self.split.is_some() || self.folds.is_some()) {
            bail!("split_file: the folds come from the file; give no split method or fold count with it");
        }
        if let Some(k) = self.folds {
            if !(2..=1000).contains(&k) {
                bail!("folds: {k} is out of range: give a whole number from 2 to 1000");
            }
        }
        if !(1..=1_000_000).contains(&self.bootstrap) {
            bail!("bootstrap: {} is out of range: give a whole number from 1 to 1000000", self.bootstrap);
        }
        if !self.predictions.is_empty() && self.split_file.is_none() {
            bail!(
                "predictions: outside out-of-fold predictions are scored on the folds they were made on; give those \
                 folds with split_file (a `cellcast split` file, or a previous run's folds.csv)"
            );
        }
        for (i, (name, _)) in self.predictions.iter().enumerate() {
            if name.is_empty() || self.predictions[..i].iter().any(|(n, _)| n == name) {
                bail!("predictions: model name '{name}' is empty or given twice; name every model differently");
            }
        }
        if !(1..=100).contains(&self.neural_members) {
            bail!("neural_members: {} is out of range: give a whole number from 1 to 100", self.neural_members);
        }
        Ok(())
    }
}

/// One row of the leaderboard: a model under a metric.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaderboardRow {
    pub model: String,
    pub metric: String,
    pub direction: Direction,
    /// On the pooled out-of-fold predictions.
    pub score: f64,
    /// Mean of the per-fold scores.
    pub fold_mean: f64,
    /// The standard deviation (ddof 1) of the per-fold scores (leaderboard.csv `fold_sd`).
    pub fold_sd: f64,
    /// 1 = best under this metric.
    pub rank: usize,
    pub selected: bool,
    /// Official metric only: the paired bootstrap against the selected model and the mean.
    pub vs_best: Option<Comparison>,
    pub vs_mean: Option<Comparison>,
}

/// The submission: exactly the ids and columns of sample_submission.csv.
#[derive(Debug, Clone)]
pub struct Submission {
    pub id_column: String,
    pub ids: Vec<String>,
    pub columns: Vec<String>,
    /// ids × columns.
    pub values: Matrix,
    /// The predictive standard deviation of every cell, when the selected model gives one.
    pub std: Option<Matrix>,
}

/// Molecules of the task that could not be read, and what became of them.
#[derive(Debug, Clone)]
pub struct Unreadable {
    /// One line per molecule: id, start of its SMILES, reason — what it was given instead.
    pub lines: Vec<String>,
    /// How many are test compounds.
    pub test: usize,
}

/// A model's uncertainty calibration.
#[derive(Debug, Clone)]
pub struct ModelCalibration {
    pub model: String,
    pub calibration: Calibration,
}

/// What a run found and made.
pub struct RunOutcome {
    pub task: Task,
    /// The split, in words: "5-fold scaffold (…)", "4-fold, the folds of FILE".
    pub split: String,
    pub folds: usize,
    pub seed: u64,
    pub bootstrap: usize,
    /// Training compounds with a defined official value (binary: at least one positive).
    pub scored: usize,
    /// Every model's cross-validated scores and out-of-fold predictions.
    pub cv: CvResult,
    /// What the models that ran are, distinct lines in panel order (for the report).
    pub model_notes: Vec<String>,
    pub leaderboard: Vec<LeaderboardRow>,
    /// The model refit for the submission, and its index in `cv.models`.
    pub selected: String,
    pub selected_index: usize,
    pub mean_index: usize,
    /// Every model against the selected one and against the mean (official metric).
    pub vs_best: Vec<Comparison>,
    pub vs_mean: Vec<Comparison>,
    /// What the refit chose (e.g. "α = 1000").
    pub fit_description: Option<String>,
    pub submission: Submission,
    pub unreadable: Option<Unreadable>,
    pub calibrations: Vec<ModelCalibration>,
    pub programs: Option<GenePrograms>,
    pub gene_symbols: Option<HashMap<String, String>>,
    /// The console leaderboard ([`report::summary_table`]).
    pub summary: String,
    /// The output folder, when one was written.
    pub out: Option<PathBuf>,
    /// The files written to it, in the order the CLI lists them.
    pub written: Vec<String>,
}

/// The split method named by task.toml's `split` (`scaffold` or `random`).
fn config_split(s: &str) -> Result<SplitMethod> {
    match s.to_ascii_lowercase().as_str() {
        "scaffold" => Ok(SplitMethod::ScaffoldKfold),
        "random" => Ok(SplitMethod::RandomKfold),
        _ => bail!("task.toml: split = '{s}' is not one of scaffold, random"),
    }
}

/// Folds of compounds and their groups (scaffolds; empty strings for random folds). Scaffolds
/// are noted through `observer` as `chem` does.
pub fn make_folds(
    smiles: &[Option<String>],
    ids: &[String],
    method: SplitMethod,
    folds: usize,
    seed: u64,
    observer: &dyn Observer,
) -> Result<(Vec<usize>, Vec<String>)> {
    Ok(match method {
        SplitMethod::RandomKfold => (random_kfold(smiles.len(), folds, seed)?, vec![String::new(); smiles.len()]),
        SplitMethod::ScaffoldKfold => {
            let mols = crate::chem::Molecules { ids: ids.to_vec(), smiles: smiles.to_vec() };
            let groups = crate::chem::scaffold_groups(&mols, observer);
            (group_kfold(&groups, folds)?, groups)
        }
        other => bail!("split: run cross-validates on scaffold-kfold or random-kfold folds, not {}", other.name()),
    })
}

/// Runs the whole pipeline on a task folder; see the module docs.
pub fn run(opts: &RunOptions, observer: &dyn Observer) -> Result<RunOutcome> {
    opts.validate()?;
    let task = match &opts.task_config {
        // A task.toml that cannot be read is its own error, not one of loading the task.
        Some(path) => Task::load_with(&opts.task, TaskConfig::read(path)?),
        None => Task::load(&opts.task),
    }
    .with_context(|| format!("loading the task in {}", opts.task.display()))?;
    let method = match (opts.split, task.config.split.as_deref()) {
        (Some(s), _) => s,
        (None, None) => SplitMethod::ScaffoldKfold,
        (None, Some(s)) => config_split(s)?,
    };
    let nfolds = opts.folds.or(task.config.folds).unwrap_or(5);
    let symbols = match &opts.gene_annotation {
        Some(path) => Some(report::programs::read_gene_annotation(path, &task.targets)?),
        None => None,
    };
    let layout = match &task.layout {
        Layout::Wide => String::new(),
        Layout::Pairs(p) => format!(" ({} pairs to predict)", p.cells.len()),
    };
    observer.note(&format!(
        "task {}: {} training compounds, {} test compounds{layout}, {} targets; official metric {}",
        task.name,
        task.train_ids.len(),
        task.test_ids.len(),
        task.targets.len(),
        task.metric
    ));
    for note in &task.notes {
        observer.note(&format!("  {note}"));
    }
    // Refuse an unusable output folder before the work, not after it.
    let stage = opts.out.as_deref().map(StagedDir::new).transpose()?;
    let all_smiles: Vec<Option<String>> = task.train_smiles.iter().chain(&task.test_smiles).cloned().collect();
    let mut features = Features::from_smiles(&all_smiles);
    if let Some(path) = &opts.embedding {
        let ids: Vec<String> = task.train_ids.iter().chain(&task.test_ids).cloned().collect();
        let e = read_embedding(path, opts.embedding_id_column.as_deref(), &task.submission_id_column, &ids)?;
        observer.note(&format!("embedding {}: {} dimensions", path.display(), e.ncols()));
        features.embedding = Some(e);
    }
    let n_train = task.train_ids.len();
    let (folds, groups, nfolds, split_text) = match &opts.split_file {
        Some(path) => {
            let kfolds = SplitTable::read(path).context("reading --split-file")?.kfolds_of(&task.train_ids, path)?;
            let text = format!(
                "{}-fold, the folds of {}{}",
                kfolds.k,
                path.display(),
                if every_row_grouped(&kfolds.groups) { " (its groups hold out the inner tuning folds)" } else { "" }
            );
            (kfolds.folds, kfolds.groups, kfolds.k, text)
        }
        None => {
            let (folds, groups) = make_folds(&task.train_smiles, &task.train_ids, method, nfolds, opts.seed, observer)?;
            let text = match method {
                SplitMethod::RandomKfold => format!("{nfolds}-fold random"),
                _ => format!("{nfolds}-fold scaffold (GroupKFold on Bemis–Murcko scaffolds)"),
            };
            (folds, groups, nfolds, text)
        }
    };
    if every_row_grouped(&groups) {
        // Inner tuning folds hold out scaffolds too; test compounds never enter a fit.
        features.groups =
            Some(groups.iter().cloned().chain(std::iter::repeat_n(String::new(), task.test_ids.len())).collect());
    }
    let split_table =
        SplitTable { ids: task.train_ids.clone(), groups, parts: folds.iter().map(|&f| Part::Fold(f)).collect() };
    // Into the staging folder now rather than with the other files: it still appears only if
    // the whole run succeeds, and meanwhile shows that the run has started.
    if let Some(stage) = &stage {
        split_table.write(&stage.join("folds.csv"))?;
    }

    let neural =
        NeuralOptions { in_panel: opts.neural, members: opts.neural_members, embedding: opts.embedding.is_some() };
    let (default, optional) = panel(opts.seed, &task, neural);
    let models = select_models(default, optional, &opts.models)?;
    // Each model's own line, then the lines several models share (how their scores are tied,
    // how their networks train), each once.
    let mut model_notes: Vec<String> = Vec::new();
    for note in models.iter().flat_map(|m| m.notes()) {
        if !model_notes.contains(&note) {
            model_notes.push(note);
        }
    }
    let (own, shared): (Vec<String>, Vec<String>) = model_notes.into_iter().partition(|n| n.starts_with("- `"));
    let mut model_notes: Vec<String> = own.into_iter().chain(shared).collect();
    // DRUG-seq counts: the VCPI weights of every training compound, from its replicates.
    let weights = task.replicates.as_ref().map(|sums| {
        let w = vcpi_weights_from_sums(sums, VcpiVariance::PerCompoundFloored);
        for warning in &w.warnings {
            observer.note(&format!("VCPI weights: {warning}"));
        }
        Arc::new(RowWeights::new(&w.groups, w.weights))
    });
    let metrics = metric_panel(task.labels, &task.metric, weights.as_ref());
    let bars: Vec<(String, Box<dyn crate::Progress>, AtomicU64)> = models
        .iter()
        .map(|m| (m.name(), observer.progress(&m.name(), nfolds as u64, Unit::Folds), AtomicU64::new(0)))
        .collect();
    let train_rows: Vec<usize> = (0..n_train).collect();
    // Outside predictions are read and checked before the cross-validation, so a bad file
    // fails at once.
    let mut outside = Vec::new();
    for (name, path) in &opts.predictions {
        if models.iter().any(|m| &m.name() == name) {
            bail!("predictions: '{name}' is the name of a panel model; give the outside model another name");
        }
        outside.push((
            name,
            path,
            read_outside_predictions(&task, path).with_context(|| format!("predictions {name}"))?,
        ));
    }
    let mut cv = cross_validate(
        &models,
        &features,
        &train_rows,
        &task.train_y,
        &task.train_ids,
        &task.targets,
        &folds,
        nfolds,
        &metrics,
        &|model, _fold| {
            if let Some((_, bar, done)) = bars.iter().find(|(name, _, _)| name == model) {
                bar.advance(1);
                if done.fetch_add(1, Ordering::SeqCst) + 1 == nfolds as u64 {
                    bar.finish();
                }
            }
        },
    )?;
    drop(bars);
    for (name, path, oof) in outside {
        let scored = cellcast_eval::score_out_of_fold(
            name,
            oof,
            &task.train_y,
            &task.train_ids,
            &task.targets,
            &folds,
            nfolds,
            &metrics,
        )?;
        observer.note(&format!(
            "outside model {name} ({}): {} = {}",
            path.display(),
            task.metric,
            report::fmt(scored.pooled[0].value)
        ));
        model_notes.push(format!(
            "- `{name}`: an outside model's out-of-fold predictions ({}), made on these folds; scored, bootstrapped and \
             ranked like the panel, but not refit, so it cannot be the submission.",
            path.display()
        ));
        cv.models.push(scored);
    }
    let panel_models = models.len();

    // Selection: the best pooled out-of-fold official score among the models that can be refit.
    let direction = metrics[0].direction();
    let best = (0..panel_models)
        .reduce(|a, b| {
            if report::better(direction, cv.models[b].pooled[0].value, cv.models[a].pooled[0].value) {
                b
            } else {
                a
            }
        })
        .expect("non-empty panel");
    let mean_idx = cv.models.iter().position(|m| m.model == "mean").expect("the panel has the mean");
    let row_weights = weights.as_ref().map(|w| &w.weights);
    let values: Vec<Vec<f64>> =
        cv.models.iter().map(|m| per_compound(task.labels, &task.train_y, &m.oof, row_weights)).collect();
    // Compounds where the official value exists (it depends on the truth only).
    let scored: Vec<usize> = (0..n_train).filter(|&i| values[mean_idx][i].is_finite()).collect();
    let kept: Vec<Vec<f64>> = values.iter().map(|v| scored.iter().map(|&i| v[i]).collect()).collect();
    // Each model against the best and against the mean, on the same resamples of compounds.
    let versus = |other: usize| -> Vec<Comparison> {
        kept.iter().map(|l| paired_bootstrap(l, &kept[other], opts.bootstrap, opts.seed)).collect()
    };
    let (vs_best, vs_mean) = (versus(best), versus(mean_idx));
    let leaderboard = leaderboard_rows(&cv, best, &vs_best, &vs_mean);

    // Refit the winner on all of train; predict the test compounds.
    let winner = &models[best];
    let fitted = winner
        .fit(&features, &train_rows, &task.train_y)
        .map_err(|e| Error::new(crate::ErrorKind::Compute, format!("refitting {}: {e}", winner.name())))?;
    let test_rows: Vec<usize> = (n_train..n_train + task.test_ids.len()).collect();
    let (pred, test_std) = match fitted.predict_with_std(&features, &test_rows) {
        Some((pred, std)) => (pred, Some(std)),
        None => (fitted.predict(&features, &test_rows), None),
    };
    // A pair whose target no training compound was measured on gets the mean of all labels.
    let observed: Vec<f64> = task.train_y.as_slice().iter().copied().filter(|v| !v.is_nan()).collect();
    let (columns, values) = task.submission(&pred, cellcast_stats::moments::mean(&observed));
    if values.as_slice().iter().any(|v| !v.is_finite()) {
        return Err(Error::new(
            crate::ErrorKind::Compute,
            format!("{} produced a non-finite prediction; no submission written", winner.name()),
        ));
    }
    let unreadable = unreadable_molecules(&task, &features, &pred, &winner.name(), observer);
    let submission = Submission {
        id_column: task.submission_id_column.clone(),
        ids: task.submission_ids.clone(),
        columns,
        values,
        std: test_std.map(|s| task.submission(&s, f64::NAN).1),
    };
    let calibrations: Vec<ModelCalibration> = cv
        .models
        .iter()
        .filter_map(|m| {
            let std = m.oof_std.as_ref()?;
            let c = cellcast_eval::calibrate(&task.train_y, &m.oof, std, &folds, nfolds)?;
            Some(ModelCalibration { model: m.model.clone(), calibration: c })
        })
        .collect();
    let programs = if matches!(task.layout, Layout::Wide) && best != mean_idx {
        report::programs::gene_programs(&cv.models[best].oof, &cv.models[mean_idx].oof)?
    } else {
        None
    };
    let summary = report::summary_table(&cv, best, &vs_mean, &vs_best);
    let mut outcome = RunOutcome {
        split: split_text,
        folds: nfolds,
        seed: opts.seed,
        bootstrap: opts.bootstrap,
        scored: scored.len(),
        model_notes,
        leaderboard,
        selected: cv.models[best].model.clone(),
        selected_index: best,
        mean_index: mean_idx,
        cv,
        vs_best,
        vs_mean,
        fit_description: fitted.describe(),
        submission,
        unreadable,
        calibrations,
        programs,
        gene_symbols: symbols,
        summary,
        out: None,
        written: Vec::new(),
        task,
    };
    if let (Some(stage), Some(out)) = (stage, &opts.out) {
        outcome.written = write_outputs(&outcome, stage.path())?;
        stage.commit()?;
        outcome.out = Some(out.clone());
    }
    Ok(outcome)
}

/// Writes every output of a run into `dir`; returns the file names in the order the CLI lists
/// them.
fn write_outputs(o: &RunOutcome, dir: &Path) -> Result<Vec<String>> {
    let mut written: Vec<String> =
        ["submission.csv", "predictions.parquet", "leaderboard.csv", "folds.csv", "report.md", "report.html"]
            .map(String::from)
            .to_vec();
    write_leaderboard(&dir.join("leaderboard.csv"), &o.leaderboard)?;
    let s = &o.submission;
    write_matrix(&dir.join("submission.csv"), &s.id_column, &s.ids, &s.columns, &s.values)?;
    write_predictions(&dir.join("predictions.parquet"), &o.task, &s.values, s.std.as_ref())?;
    for c in &o.calibrations {
        let file = report::calibration_file(&c.model);
        write_text(&dir.join(&file), &report::calibration_svg(&c.model, &c.calibration))?;
        written.push(file);
    }
    if let Some(programs) = &o.programs {
        report::programs::write_programs_csv(
            &dir.join("programs.csv"),
            programs,
            &o.task.targets,
            o.gene_symbols.as_ref(),
        )?;
        written.push("programs.csv".into());
    }
    write_text(&dir.join("report.md"), &report::markdown(o))?;
    write_text(&dir.join("report.html"), &report::html(o))?;
    Ok(written)
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    write_atomically(path, |out| out.write_all(text.as_bytes()))?;
    Ok(())
}

/// Whether every training compound has a fold group (a scaffold split, or a split file with
/// groups): inner tuning folds then hold out whole groups too.
fn every_row_grouped(groups: &[String]) -> bool {
    !groups.is_empty() && groups.iter().all(|g| !g.is_empty())
}

/// Every molecule of the task that could not be read, noted and returned for the report: its
/// id, the start of its SMILES, the reason, and for a test compound what it was given instead.
fn unreadable_molecules(
    task: &Task,
    features: &Features,
    test_pred: &Matrix,
    model: &str,
    observer: &dyn Observer,
) -> Option<Unreadable> {
    let n_train = task.train_ids.len();
    let ids: Vec<&String> = task.train_ids.iter().chain(&task.test_ids).collect();
    let smiles: Vec<&Option<String>> = task.train_smiles.iter().chain(&task.test_smiles).collect();
    let bad: Vec<usize> = (0..ids.len()).filter(|&i| features.errors[i].is_some()).collect();
    if bad.is_empty() {
        return None;
    }
    // The per-target training mean, to tell a test compound that it got exactly that.
    let train_mean: Vec<f64> = (0..task.train_y.ncols())
        .map(|j| {
            let col: Vec<f64> = task.train_y.column(j).into_iter().filter(|v| !v.is_nan()).collect();
            cellcast_stats::moments::mean(&col)
        })
        .collect();
    let mut lines = Vec::new();
    for &i in &bad {
        let reason = features.errors[i].as_deref().unwrap_or_default();
        let what = crate::chem::unreadable_line(ids[i], smiles[i].as_deref(), reason);
        let instead = if i < n_train {
            "training compound: no model learns from its chemistry (models that need it skip it; under a scaffold \
             split it is a fold group of its own)"
                .to_string()
        } else {
            let row = test_pred.row(i - n_train);
            let is_mean = row.iter().zip(&train_mean).all(|(p, m)| (p - m).abs() <= 1e-12 * m.abs().max(1.0));
            if is_mean {
                format!("test compound: {model} predicts the training mean of every target for it")
            } else {
                format!("test compound: {model} predicts it from an empty fingerprint (no chemistry), not the training mean")
            }
        };
        lines.push(format!("{what} — {instead}"));
    }
    let n_test = bad.iter().filter(|&&i| i >= n_train).count();
    observer.note(&format!(
        "note: {} molecule(s) could not be read ({} training, {n_test} test):",
        bad.len(),
        bad.len() - n_test
    ));
    for line in &lines {
        observer.note(&format!("  {line}"));
    }
    Some(Unreadable { lines, test: n_test })
}

/// predictions.parquet: one row per (submission id, compound, target), with the predictive
/// standard deviation in a `std` column when the selected model gives one.
fn write_predictions(path: &Path, task: &Task, submission: &Matrix, std: Option<&Matrix>) -> Result<()> {
    // Rows are (id, compound, target) cells — compounds × targets of them — so the three text
    // columns are stored as codes into their distinct values.
    let mut sds = Vec::new();
    let (mut ids, mut compounds, mut targets, mut values) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let target_labels: Vec<String> = match &task.layout {
        Layout::Wide => task.targets.clone(),
        Layout::Pairs(p) => {
            let mut t: Vec<String> = p.cells.iter().map(|c| c.target.clone()).collect();
            t.sort_unstable();
            t.dedup();
            t
        }
    };
    match &task.layout {
        Layout::Wide => {
            for i in 0..task.submission_ids.len() {
                for j in 0..task.targets.len() {
                    ids.push(i as u32);
                    compounds.push(i as u32);
                    targets.push(j as u32);
                    values.push(submission.get(i, j));
                    sds.extend(std.map(|s| s.get(i, j)));
                }
            }
        }
        Layout::Pairs(p) => {
            for (r, cell) in p.cells.iter().enumerate() {
                ids.push(r as u32);
                compounds.push(cell.compound as u32);
                targets.push(target_labels.binary_search(&cell.target).expect("a target") as u32);
                values.push(submission.get(r, 0));
                sds.extend(std.map(|s| s.get(r, 0)));
            }
        }
    }
    let mut table = OutputTable::new()
        .with("id", Column::Labels { labels: task.submission_ids.clone(), codes: ids })
        .with("compound", Column::Labels { labels: task.test_ids.clone(), codes: compounds })
        .with("target", Column::Labels { labels: target_labels, codes: targets })
        .with("prediction", Column::Float(values));
    if std.is_some() {
        table = table.with("std", Column::Float(sds));
    }
    table.write(path)?;
    Ok(())
}

/// Mean and standard deviation (ddof 1) of a metric over folds.
fn fold_stats(cv: &CvResult, model: usize, metric: usize) -> (f64, f64) {
    let v: Vec<f64> = cv.models[model].fold_scores.iter().map(|f| f[metric].value).collect();
    (cellcast_stats::moments::mean(&v), cellcast_stats::moments::variance(&v, 1).sqrt())
}

/// An outside model's out-of-fold predictions of the training compounds, as a training-rows ×
/// targets matrix. A wide task takes `id` (the training ids, as in the split file) and one
/// column per target; a pair task takes `id` (the compound), its target column and its value
/// column (`id,gene,active` for RxRx3), one row per labelled training pair. Every training
/// compound (every labelled pair) needs exactly one prediction; unknown ids, targets or
/// columns are refused.
pub fn read_outside_predictions(task: &Task, path: &Path) -> Result<Matrix> {
    use cellcast_data::{NumericColumns, WideSpec, WideTable};
    let row_of: HashMap<&str, usize> = task.train_ids.iter().enumerate().map(|(r, id)| (id.as_str(), r)).collect();
    let col_of: HashMap<&str, usize> = task.targets.iter().enumerate().map(|(c, t)| (t.as_str(), c)).collect();
    let mut oof = Matrix::filled(task.train_ids.len(), task.targets.len(), f64::NAN);
    match &task.layout {
        Layout::Wide => {
            let t = WideTable::read(path, &WideSpec::numeric("id"))?;
            t.require_finite("out-of-fold predictions must be complete, finite numbers")?;
            if let Some(c) = t.columns.iter().find(|c| !col_of.contains_key(c.as_str())) {
                bail!(
                    "{}: column '{c}' is not a target of the task; give id and one column per target",
                    path.display()
                );
            }
            if let Some(c) = task.targets.iter().find(|c| !t.columns.contains(c)) {
                bail!("{}: no column for target '{c}'; give id and one column per target", path.display());
            }
            let mut seen = vec![false; task.train_ids.len()];
            for (r, id) in t.ids.iter().enumerate() {
                let Some(&i) = row_of.get(id.as_str()) else {
                    bail!(
                        "{}: row {} has id '{id}', which is not a training compound of the folds",
                        path.display(),
                        r + 2
                    );
                };
                seen[i] = true;
                for (k, c) in t.columns.iter().enumerate() {
                    oof.set(i, col_of[c.as_str()], t.values.get(r, k));
                }
            }
            if let Some(i) = seen.iter().position(|s| !s) {
                bail!(
                    "{}: no prediction for training compound '{}' ({} missing); predict every training compound out of fold",
                    path.display(),
                    task.train_ids[i],
                    seen.iter().filter(|s| !**s).count()
                );
            }
        }
        Layout::Pairs(p) => {
            let value = [p.value_column.clone()];
            let spec = WideSpec {
                id_column: "id",
                text_columns: &[p.target_column.as_str()],
                optional_text: &[],
                numeric: NumericColumns::Only(&value),
            };
            let t = WideTable::read_long(path, &spec)?;
            let targets = t.text_column(&p.target_column).expect("asked for");
            for (r, id) in t.ids.iter().enumerate() {
                let line = r + 2;
                let (Some(&i), Some(target)) = (row_of.get(id.as_str()), targets[r].as_deref()) else {
                    bail!(
                        "{}: row {line} has compound '{id}', which is not a training compound of the folds",
                        path.display()
                    );
                };
                let Some(&j) = col_of.get(target) else {
                    bail!(
                        "{}: row {line} has {} '{target}', which no training compound was measured on",
                        path.display(),
                        p.target_column
                    );
                };
                let v = t.values.get(r, 0);
                if !v.is_finite() {
                    bail!("{}: row {line} ({id}, {target}) has no finite {}", path.display(), p.value_column);
                }
                if !oof.get(i, j).is_nan() {
                    bail!("{}: row {line} predicts ({id}, {target}) a second time", path.display());
                }
                oof.set(i, j, v);
            }
            for i in 0..task.train_ids.len() {
                for j in 0..task.targets.len() {
                    if task.train_y.get(i, j).is_nan() && oof.get(i, j).is_nan() {
                        // Unlabelled pairs are never scored; a number keeps them out of the way.
                        oof.set(i, j, 0.0);
                    } else if oof.get(i, j).is_nan() {
                        bail!(
                            "{}: no prediction for the labelled pair ({}, {}); predict every labelled training pair out of fold",
                            path.display(),
                            task.train_ids[i],
                            task.targets[j]
                        );
                    }
                }
            }
        }
    }
    Ok(oof)
}

/// The leaderboard: models in panel order, each with every metric of the panel.
fn leaderboard_rows(cv: &CvResult, best: usize, vs_best: &[Comparison], vs_mean: &[Comparison]) -> Vec<LeaderboardRow> {
    let ranks = report::ranks(cv);
    let mut rows = Vec::new();
    for (m, model) in cv.models.iter().enumerate() {
        for (k, metric) in cv.metrics.iter().enumerate() {
            let (fold_mean, fold_sd) = fold_stats(cv, m, k);
            rows.push(LeaderboardRow {
                model: model.model.clone(),
                metric: metric.name(),
                direction: metric.direction(),
                score: model.pooled[k].value,
                fold_mean,
                fold_sd,
                rank: ranks[m][k],
                selected: m == best,
                vs_best: (k == 0).then(|| vs_best[m].clone()),
                vs_mean: (k == 0).then(|| vs_mean[m].clone()),
            });
        }
    }
    rows
}

fn write_leaderboard(path: &Path, rows: &[LeaderboardRow]) -> Result<()> {
    write_atomically(path, |out| {
        let mut w = std::io::BufWriter::new(out);
        writeln!(w, "model,metric,direction,score,fold_mean,fold_sd,rank,selected,diff_vs_best,ci_low_vs_best,ci_high_vs_best,p_vs_best,diff_vs_mean,ci_low_vs_mean,ci_high_vs_mean,p_vs_mean")?;
        for r in rows {
            let mut line = format!(
                "{},{},{},{},{},{},{},{}",
                r.model,
                r.metric,
                r.direction.as_str(),
                format_number(r.score),
                format_number(r.fold_mean),
                format_number(r.fold_sd),
                r.rank,
                u8::from(r.selected)
            );
            match (&r.vs_best, &r.vs_mean) {
                (Some(b), Some(m)) => {
                    for c in [b, m] {
                        line.push_str(&format!(
                            ",{},{},{},{}",
                            format_number(c.difference),
                            format_number(c.ci_low),
                            format_number(c.ci_high),
                            format_number(c.p_value)
                        ));
                    }
                }
                _ => line.push_str(",,,,,,,,"),
            }
            writeln!(w, "{line}")?;
        }
        w.flush()
    })?;
    Ok(())
}

/// Reads a per-compound embedding and aligns it to `ids` (train then test compounds): one row per
/// id, every cell finite. The id column is `id_column`, else the task's id column, else `id`.
fn read_embedding(path: &Path, id_column: Option<&str>, task_id_column: &str, ids: &[String]) -> Result<Matrix> {
    use cellcast_data::{preview, WideSpec, WideTable};
    let candidates: Vec<&str> = match id_column {
        Some(c) => vec![c],
        None if task_id_column == "id" => vec!["id"],
        None => vec![task_id_column, "id"],
    };
    let mut first_error = None;
    let mut table = None;
    for c in &candidates {
        match WideTable::read(path, &WideSpec::numeric(c)) {
            Ok(t) => {
                table = Some(t);
                break;
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let table = match (table, first_error) {
        (Some(t), _) => t,
        (None, Some(e)) => {
            return Err(Error::from(e).context(format!(
                "reading the embedding {} (id column tried: {})",
                path.display(),
                candidates.join(", ")
            )))
        }
        (None, None) => bail!("reading the embedding {}: no id column to try", path.display()),
    };
    if table.columns.is_empty() {
        bail!("the embedding {} has no numeric column besides its id column '{}'", path.display(), table.id_column);
    }
    table.require_finite("an embedding must be complete")?;
    let index = table.id_index();
    let missing: Vec<&String> = ids.iter().filter(|id| !index.contains_key(id.as_str())).collect();
    if !missing.is_empty() {
        bail!(
            "the embedding {} has no row for {} of the task's {} compounds (ids in column '{}'): {}",
            path.display(),
            missing.len(),
            ids.len(),
            table.id_column,
            preview(&missing, 10)
        );
    }
    let mut out = Matrix::filled(ids.len(), table.columns.len(), 0.0);
    for (i, id) in ids.iter().enumerate() {
        out.row_mut(i).copy_from_slice(table.values.row(index[id.as_str()]));
    }
    Ok(out)
}
