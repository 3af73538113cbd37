//! `cellcast run TASK_DIR`: load → featurize → split → cross-validate the panel → score under the
//! official metric and the panel → bootstrap → select → refit → submission and report.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use cellcast_data::output::{Column, OutputTable};
use cellcast_data::split::{group_kfold, random_kfold, Part, SplitTable};
use cellcast_data::staging::StagedDir;
use cellcast_data::task::{LabelKind, Layout, Task, TaskConfig};
use cellcast_data::write::{format_number, write_atomically, write_matrix};
use cellcast_eval::{cross_validate, paired_bootstrap, Comparison, CvResult, PanelMetric, RowWeights};
use cellcast_metrics::weights::{vcpi_weights_from_sums, VcpiVariance};
use cellcast_metrics::Direction;
use cellcast_models::{
    ActiveSimilarity, ActiveStat, Average, ControlProfile, Embedding, Features, GenePrior, Kernel, LabelPropagation,
    LogisticStack, MeanResponse, NeighbourPca, NeuralRegressor, Predictor, RetrievalKnn, RidgeGcv, RidgeInput, Stacked,
    TunedKnn,
};
use cellcast_stats::Matrix;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::report::fmt;

/// How the training compounds are split for cross-validation.
#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq, Debug)]
pub enum SplitKind {
    /// Whole Bemis–Murcko scaffold groups per fold (scikit-learn GroupKFold): new chemistry.
    Scaffold,
    /// Seeded random folds: optimistic when test compounds resemble training ones.
    Random,
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// Task folder with train.csv (or a CMap matrix train.gct / train.gctx), test_features.csv and
    /// sample_submission.csv, and optionally task.toml: molecule_column, id_column,
    /// compound_column, target_column, metric, control, split, folds, molecules, molecule_key.
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
}

/// A list of model specifications.
type Panel = Vec<Box<dyn Predictor>>;

/// Which neural models a run may use.
#[derive(Debug, Clone, Copy)]
pub struct NeuralOptions {
    /// In the default panel (`--neural`)?
    pub in_panel: bool,
    pub members: usize,
    /// A user embedding was given: add the models that read it (to the default panel too).
    pub embedding: bool,
}

/// The model panel for the task's labels: the models that run by default, and the optional ones
/// that run only when named with `--models`.
pub fn panel(seed: u64, task: &Task, neural: NeuralOptions) -> (Panel, Panel) {
    match task.labels {
        LabelKind::Continuous => {
            let mut default = regression_panel(seed, task.control.as_deref());
            let chemistry = neural_models(seed, neural.members);
            let mut optional = Vec::new();
            if neural.in_panel {
                default.extend(chemistry);
            } else {
                optional.extend(chemistry);
            }
            if neural.embedding {
                default.extend(embedding_models(seed, neural.members));
            }
            (default, optional)
        }
        LabelKind::Binary => (activity_panel(seed), Vec::new()),
    }
}

/// The neural models on the chemistry embedding: the deep MLP, the fusion decoder, and the
/// fusion decoder with the neighbours' residual-profile PCA (the ablation).
fn neural_models(seed: u64, members: usize) -> Vec<Box<dyn Predictor>> {
    vec![
        Box::new(NeuralRegressor::mlp(seed).with_members(members)),
        Box::new(NeuralRegressor::fusion(seed).with_members(members)),
        Box::new(
            NeuralRegressor::fusion(seed)
                .with_members(members)
                .with_neighbour_pca(NeighbourPca { components: 16, k: 10 }),
        ),
    ]
}

/// The neural models on the user's embedding (`--embedding`).
fn embedding_models(seed: u64, members: usize) -> Vec<Box<dyn Predictor>> {
    vec![
        Box::new(NeuralRegressor::mlp(seed).with_members(members).with_embedding(Embedding::External)),
        Box::new(NeuralRegressor::fusion(seed).with_members(members).with_embedding(Embedding::External)),
    ]
}

/// Compound–target activity: priors, similarity to each target's actives, neighbour votes,
/// retrieval and ridge, and a logistic combiner fit on inner folds.
fn activity_panel(seed: u64) -> Vec<Box<dyn Predictor>> {
    let prior = || Box::new(GenePrior { smoothing: 1.0 });
    let sea = || Box::new(ActiveSimilarity { stat: ActiveStat::Sea { threshold: 0.3 } });
    let max = || Box::new(ActiveSimilarity { stat: ActiveStat::Max });
    let propagation = || Box::new(LabelPropagation { k: 10 });
    let top3 = || Box::new(ActiveSimilarity { stat: ActiveStat::TopMean(3) });
    vec![
        Box::new(MeanResponse),
        prior(),
        max(),
        top3(),
        sea(),
        propagation(),
        Box::new(TunedKnn::standard(seed)),
        Box::new(RidgeGcv::standard()),
        Box::new(LogisticStack {
            members: vec![prior(), top3(), max(), propagation(), Box::new(TunedKnn::standard(seed))],
            inner_folds: 3,
            seed,
            l2: 1.0,
        }),
    ]
}

/// Regression: baselines, tuned retrieval, fixed retrieval references, ridge on three inputs
/// and two ensembles. `control` adds the control-profile baseline.
fn regression_panel(seed: u64, control: Option<&[f64]>) -> Vec<Box<dyn Predictor>> {
    let knn = |k, kernel| -> Box<dyn Predictor> { Box::new(RetrievalKnn { k, kernel }) };
    let mut models: Vec<Box<dyn Predictor>> = vec![Box::new(MeanResponse)];
    if let Some(c) = control {
        models.push(Box::new(ControlProfile(c.to_vec())));
    }
    models.extend([
        Box::new(TunedKnn::standard(seed)) as Box<dyn Predictor>,
        knn(1, Kernel::Uniform),
        knn(10, Kernel::Tanimoto),
        knn(50, Kernel::Tanimoto),
        Box::new(RidgeGcv::standard()),
        Box::new(RidgeGcv::on(RidgeInput::Descriptors)),
        Box::new(RidgeGcv::on(RidgeInput::MorganCountsAndDescriptors)),
        Box::new(Average { members: vec![Box::new(TunedKnn::standard(seed)), Box::new(RidgeGcv::standard())] }),
        Box::new(Stacked {
            members: vec![Box::new(TunedKnn::standard(seed)), Box::new(RidgeGcv::on(RidgeInput::Descriptors))],
            inner_folds: 3,
            seed,
        }),
    ]);
    models
}

/// The default panel, or the requested names among the default and optional models (the mean
/// baseline always stays: every model is compared against it).
fn select_models(
    default: Vec<Box<dyn Predictor>>,
    optional: Vec<Box<dyn Predictor>>,
    wanted: &[String],
) -> Result<Vec<Box<dyn Predictor>>> {
    if wanted.is_empty() {
        return Ok(default);
    }
    let all: Vec<Box<dyn Predictor>> = default.into_iter().chain(optional).collect();
    let names: Vec<String> = all.iter().map(|m| m.name()).collect();
    if let Some(unknown) = wanted.iter().find(|w| !names.contains(w)) {
        bail!("--models: no model named '{unknown}'; available: {}", names.join(", "));
    }
    Ok(all.into_iter().filter(|m| m.name() == "mean" || wanted.contains(&m.name())).collect())
}

/// The official metric first, then the metrics that tend to disagree with it. With replicate
/// weights (DRUG-seq counts), the official DEG-weighted metric reads them and the
/// inverse-variance proxy stands beside it.
fn metrics(task: &Task, weights: Option<&Arc<RowWeights>>) -> Vec<PanelMetric> {
    match (task.labels, weights) {
        (LabelKind::Binary, _) => {
            let other = if task.metric.ends_with("roc_auc") { "polaris/pr_auc" } else { "polaris/roc_auc" };
            vec![PanelMetric::PerCompound(task.metric.clone()), PanelMetric::PerCompound(other.into())]
        }
        (LabelKind::Continuous, Some(w)) => vec![
            PanelMetric::Weighted { metric: task.metric.clone(), weights: Arc::clone(w) },
            PanelMetric::InverseVarianceMse,
            PanelMetric::Registry("polaris/mean_squared_error".into()),
            PanelMetric::RowPearson,
            PanelMetric::RowCosine,
        ],
        (LabelKind::Continuous, None) => vec![
            PanelMetric::Registry(task.metric.clone()),
            PanelMetric::Registry("mejia/wmse".into()),
            PanelMetric::RowPearson,
            PanelMetric::RowCosine,
        ],
    }
}

/// Folds of the training compounds and their groups (scaffolds, or empty for random).
pub fn make_folds(
    smiles: &[Option<String>],
    ids: &[String],
    kind: SplitKind,
    folds: usize,
    seed: u64,
) -> Result<(Vec<usize>, Vec<String>)> {
    Ok(match kind {
        SplitKind::Random => (random_kfold(smiles.len(), folds, seed)?, vec![String::new(); smiles.len()]),
        SplitKind::Scaffold => {
            let mols = cellcast::chem::Molecules { ids: ids.to_vec(), smiles: smiles.to_vec() };
            let groups = cellcast::chem::scaffold_groups(&mols, &crate::observer::Terminal::default());
            (group_kfold(&groups, folds)?, groups)
        }
    })
}

fn better(direction: Direction, a: f64, b: f64) -> bool {
    match direction {
        Direction::LowerIsBetter => a < b,
        Direction::HigherIsBetter => a > b,
    }
}

/// Per-compound official value, the unit the paired bootstrap resamples: the mean squared error
/// over the compound's observed targets (with weights, the weighted sum Σ w (p − t)² of
/// `vcpi/wmse`), or for binary labels its average precision (NaN when the compound has no
/// positive — Polaris skips it).
fn per_compound(labels: LabelKind, truth: &Matrix, pred: &Matrix, weights: Option<&Matrix>) -> Vec<f64> {
    truth
        .rows()
        .zip(pred.rows())
        .enumerate()
        .map(|(i, (t, p))| {
            if let Some(w) = weights {
                return t.iter().zip(p).zip(w.row(i)).map(|((a, b), w)| w * (a - b) * (a - b)).sum();
            }
            let (tt, pp): (Vec<f64>, Vec<f64>) =
                t.iter().zip(p).filter(|(a, _)| !a.is_nan()).map(|(a, b)| (*a, *b)).unzip();
            match labels {
                LabelKind::Continuous if tt.is_empty() => f64::NAN,
                LabelKind::Continuous => {
                    tt.iter().zip(&pp).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / tt.len() as f64
                }
                LabelKind::Binary => {
                    let positive: Vec<bool> = tt.iter().map(|&v| v == 1.0).collect();
                    cellcast_stats::classification::average_precision(&positive, &pp).unwrap_or(f64::NAN)
                }
            }
        })
        .collect()
}

/// The split and fold count: command line, else task.toml, else scaffold / 5.
fn resolve_split(args: &RunArgs, config: &TaskConfig) -> Result<(SplitKind, usize)> {
    let split = match (args.split, config.split.as_deref()) {
        (Some(s), _) => s,
        (None, None) => SplitKind::Scaffold,
        (None, Some(s)) => <SplitKind as clap::ValueEnum>::from_str(s, true)
            .map_err(|_| anyhow::anyhow!("task.toml: split = '{s}' is not one of scaffold, random"))?,
    };
    Ok((split, args.folds.or(config.folds).unwrap_or(5)))
}

/// One progress bar per model, ticking per fold (hidden when stderr is not a terminal).
fn progress_bars(models: &[Box<dyn Predictor>], folds: usize) -> (MultiProgress, Vec<(String, ProgressBar)>) {
    let multi = MultiProgress::new();
    let width = models.iter().map(|m| m.name().len()).max().unwrap_or(10);
    let style =
        ProgressStyle::with_template(&format!("{{prefix:<{width}}} [{{bar:20}}] fold {{pos}}/{{len}} {{elapsed}}"))
            .expect("template")
            .progress_chars("=> ");
    let bars = models
        .iter()
        .map(|m| {
            let bar = multi.add(ProgressBar::new(folds as u64).with_style(style.clone()).with_prefix(m.name()));
            (m.name(), bar)
        })
        .collect();
    (multi, bars)
}

pub fn run(args: &RunArgs) -> Result<()> {
    let task = match &args.task_config {
        Some(path) => Task::load_with(&args.task, TaskConfig::read(path)?),
        None => Task::load(&args.task),
    }
    .with_context(|| format!("loading the task in {}", args.task.display()))?;
    let (split, nfolds) = resolve_split(args, &task.config)?;
    let symbols = match &args.gene_annotation {
        Some(path) => Some(crate::programs_report::read_gene_annotation(path, &task.targets)?),
        None => None,
    };
    let layout = match &task.layout {
        Layout::Wide => String::new(),
        Layout::Pairs(p) => format!(" ({} pairs to predict)", p.cells.len()),
    };
    eprintln!(
        "task {}: {} training compounds, {} test compounds{layout}, {} targets; official metric {}",
        task.name,
        task.train_ids.len(),
        task.test_ids.len(),
        task.targets.len(),
        task.metric
    );
    for note in &task.notes {
        eprintln!("  {note}");
    }
    let stage = StagedDir::new(&args.out)?;
    let all_smiles: Vec<Option<String>> = task.train_smiles.iter().chain(&task.test_smiles).cloned().collect();
    let mut features = Features::from_smiles(&all_smiles);
    if let Some(path) = &args.embedding {
        let ids: Vec<String> = task.train_ids.iter().chain(&task.test_ids).cloned().collect();
        let e = read_embedding(path, args.embedding_id_column.as_deref(), &task.submission_id_column, &ids)?;
        eprintln!("embedding {}: {} dimensions", path.display(), e.ncols());
        features.embedding = Some(e);
    }
    let n_train = task.train_ids.len();
    let (folds, groups, nfolds, split_text) = match &args.split_file {
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
            let (folds, groups) = make_folds(&task.train_smiles, &task.train_ids, split, nfolds, args.seed)?;
            let text = match split {
                SplitKind::Scaffold => format!("{nfolds}-fold scaffold (GroupKFold on Bemis–Murcko scaffolds)"),
                SplitKind::Random => format!("{nfolds}-fold random"),
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
    split_table.write(&stage.join("folds.csv"))?;

    let neural =
        NeuralOptions { in_panel: args.neural, members: args.neural_members, embedding: args.embedding.is_some() };
    let (default, optional) = panel(args.seed, &task, neural);
    let models = select_models(default, optional, &args.models)?;
    // DRUG-seq counts: the VCPI weights of every training compound, from its replicates.
    let weights = task.replicates.as_ref().map(|sums| {
        let w = vcpi_weights_from_sums(sums, VcpiVariance::PerCompoundFloored);
        for warning in &w.warnings {
            eprintln!("VCPI weights: {warning}");
        }
        Arc::new(RowWeights::new(&w.groups, w.weights))
    });
    let metric_panel = metrics(&task, weights.as_ref());
    let (_multi, bars) = progress_bars(&models, nfolds);
    let train_rows: Vec<usize> = (0..n_train).collect();
    let cv = cross_validate(
        &models,
        &features,
        &train_rows,
        &task.train_y,
        &task.train_ids,
        &task.targets,
        &folds,
        nfolds,
        &metric_panel,
        &|model, _fold| {
            if let Some((_, bar)) = bars.iter().find(|(name, _)| name == model) {
                bar.inc(1);
                if bar.position() == bar.length().unwrap_or(0) {
                    bar.finish();
                }
            }
        },
    )?;

    // Selection: the best pooled out-of-fold official score.
    let direction = metric_panel[0].direction();
    let best = (0..cv.models.len())
        .reduce(
            |a, b| if better(direction, cv.models[b].pooled[0].value, cv.models[a].pooled[0].value) { b } else { a },
        )
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
        kept.iter().map(|l| paired_bootstrap(l, &kept[other], args.bootstrap, args.seed)).collect()
    };
    let (vs_best, vs_mean) = (versus(best), versus(mean_idx));
    write_leaderboard(&stage.join("leaderboard.csv"), &cv, best, &vs_best, &vs_mean)?;

    // Refit the winner on all of train; predict the test compounds.
    let winner = &models[best];
    let fitted = winner
        .fit(&features, &train_rows, &task.train_y)
        .map_err(|e| anyhow::anyhow!("refitting {}: {e}", winner.name()))?;
    let test_rows: Vec<usize> = (n_train..n_train + task.test_ids.len()).collect();
    let (pred, test_std) = match fitted.predict_with_std(&features, &test_rows) {
        Some((pred, std)) => (pred, Some(std)),
        None => (fitted.predict(&features, &test_rows), None),
    };
    // A pair whose target no training compound was measured on gets the mean of all labels.
    let observed: Vec<f64> = task.train_y.as_slice().iter().copied().filter(|v| !v.is_nan()).collect();
    let (columns, submission) = task.submission(&pred, cellcast_stats::moments::mean(&observed));
    if submission.as_slice().iter().any(|v| !v.is_finite()) {
        bail!("{} produced a non-finite prediction; no submission written", winner.name());
    }
    let unreadable = unreadable_molecules(&task, &features, &pred, &winner.name());
    write_matrix(
        &stage.join("submission.csv"),
        &task.submission_id_column,
        &task.submission_ids,
        &columns,
        &submission,
    )?;
    let submission_std = test_std.map(|s| task.submission(&s, f64::NAN).1);
    write_predictions(&stage.join("predictions.parquet"), &task, &submission, submission_std.as_ref())?;
    let mut sections: Vec<String> = unreadable.into_iter().collect();
    let mut outputs =
        String::from("submission.csv, predictions.parquet, leaderboard.csv, folds.csv, report.md, report.html");
    let mut svgs = Vec::new();
    for m in &cv.models {
        let Some(std) = &m.oof_std else { continue };
        let Some(c) = cellcast_eval::calibrate(&task.train_y, &m.oof, std, &folds, nfolds) else { continue };
        let file = format!("calibration_{}.svg", crate::calibration_report::file_stem(&m.model));
        let points: Vec<(f64, f64)> = c.deciles.iter().map(|b| (b.rms_sigma, b.rmse)).collect();
        let svg = crate::plot::reliability_plot(&format!("{}: σ deciles, claimed vs made", m.model), &points);
        write_atomically(&stage.join(&file), |out| {
            use std::io::Write;
            out.write_all(svg.as_bytes())
        })?;
        outputs.push_str(&format!(", {file}"));
        sections.push(crate::calibration_report::markdown(&m.model, &c, &file));
        svgs.push(svg);
    }
    if matches!(task.layout, Layout::Wide) && best != mean_idx {
        if let Some(programs) = crate::programs_report::gene_programs(&cv.models[best].oof, &cv.models[mean_idx].oof)? {
            crate::programs_report::write_programs_csv(
                &stage.join("programs.csv"),
                &programs,
                &task.targets,
                symbols.as_ref(),
            )?;
            outputs.push_str(", programs.csv");
            sections.push(crate::programs_report::markdown(
                &programs,
                &cv.models[best].model,
                &task.targets,
                symbols.as_ref(),
            ));
        }
    }
    let context =
        RunContext { split: split_text, folds: nfolds, scored: scored.len(), describe: fitted.describe(), sections };
    let summary = summary_table(&cv, best, &vs_mean, &vs_best);
    write_report(&stage.join("report.md"), &task, args, &context, &cv, best, &summary)?;
    write_html_report(&stage.join("report.html"), &task, &cv, best, &vs_mean, &svgs)?;
    stage.commit()?;
    crate::emit(&summary)?;
    eprintln!("selected {}; wrote {outputs} to {}", cv.models[best].model, args.out.display());
    Ok(())
}

/// Whether every training compound has a fold group (a scaffold split, or a split file with
/// groups): inner tuning folds then hold out whole groups too.
fn every_row_grouped(groups: &[String]) -> bool {
    !groups.is_empty() && groups.iter().all(|g| !g.is_empty())
}

/// Every molecule of the task that could not be read, on stderr and as a report section: its
/// id, the start of its SMILES, the reason, and for a test compound what it was given instead.
fn unreadable_molecules(task: &Task, features: &Features, test_pred: &Matrix, model: &str) -> Option<String> {
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
        let what = cellcast::chem::unreadable_line(ids[i], smiles[i].as_deref(), reason);
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
    eprintln!("note: {} molecule(s) could not be read ({} training, {n_test} test):", bad.len(), bad.len() - n_test);
    for line in &lines {
        eprintln!("  {line}");
    }
    let mut section = format!(
        "## Unreadable molecules\n\n{} molecule(s) could not be read ({} training, {n_test} test compounds).\n\n",
        bad.len(),
        bad.len() - n_test
    );
    for line in &lines {
        section.push_str(&format!("- {}\n", line.replace('|', "\\|")));
    }
    Some(section)
}

/// What the report needs to know beyond the scores.
struct RunContext {
    /// The split, in words: "5-fold scaffold (…)", "4-fold, the folds of FILE".
    split: String,
    folds: usize,
    /// Training compounds with a defined official value (binary: at least one positive).
    scored: usize,
    /// What the refit winner chose.
    describe: Option<String>,
    /// Extra report sections (e.g. gene programs), in order.
    sections: Vec<String>,
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
    (cellcast_stats::moments::mean(&v), cellcast_stats::moments::variance(&v, 1))
}

/// Rank (1 = best) of each model under each metric.
fn ranks(cv: &CvResult) -> Vec<Vec<usize>> {
    (0..cv.models.len())
        .map(|m| {
            (0..cv.metrics.len())
                .map(|k| {
                    let v = cv.models[m].pooled[k].value;
                    1 + cv.models.iter().filter(|o| better(cv.metrics[k].direction(), o.pooled[k].value, v)).count()
                })
                .collect()
        })
        .collect()
}

fn write_leaderboard(
    path: &Path,
    cv: &CvResult,
    best: usize,
    vs_best: &[Comparison],
    vs_mean: &[Comparison],
) -> Result<()> {
    let ranks = ranks(cv);
    write_atomically(path, |out| {
        let mut w = std::io::BufWriter::new(out);
        use std::io::Write;
        writeln!(w, "model,metric,direction,score,fold_mean,fold_sd,rank,selected,diff_vs_best,ci_low_vs_best,ci_high_vs_best,p_vs_best,diff_vs_mean,ci_low_vs_mean,ci_high_vs_mean,p_vs_mean")?;
        for (m, model) in cv.models.iter().enumerate() {
            for (k, metric) in cv.metrics.iter().enumerate() {
                let (fm, fsd) = fold_stats(cv, m, k);
                let mut line = format!(
                    "{},{},{},{},{},{},{},{}",
                    model.model,
                    metric.name(),
                    metric.direction().as_str(),
                    format_number(model.pooled[k].value),
                    format_number(fm),
                    format_number(fsd),
                    ranks[m][k],
                    u8::from(m == best)
                );
                if k == 0 {
                    for c in [&vs_best[m], &vs_mean[m]] {
                        let _ = write!(
                            line,
                            ",{},{},{},{}",
                            format_number(c.difference),
                            format_number(c.ci_low),
                            format_number(c.ci_high),
                            format_number(c.p_value)
                        );
                    }
                } else {
                    line.push_str(",,,,,,,,");
                }
                writeln!(w, "{line}")?;
            }
        }
        w.flush()
    })?;
    Ok(())
}

/// The console/report leaderboard: every metric with its rank, then the official metric's
/// paired-bootstrap difference to the mean baseline and to the selected model.
fn summary_table(cv: &CvResult, best: usize, vs_mean: &[Comparison], vs_best: &[Comparison]) -> String {
    let ranks = ranks(cv);
    let width = cv.models.iter().map(|m| m.model.len()).max().unwrap_or(5) + 2;
    let mut s = String::new();
    let _ = write!(s, "{:<width$}", "model");
    for m in &cv.metrics {
        let _ = write!(s, "{:>30}", m.name());
    }
    let _ = writeln!(s, "{:>34}{:>34}", "Δ official vs mean [95% CI]", "Δ vs selected [95% CI]");
    for (i, model) in cv.models.iter().enumerate() {
        let mark = if i == best { "*" } else { " " };
        let _ = write!(s, "{mark}{:<w$}", model.model, w = width - 1);
        for (k, score) in model.pooled.iter().enumerate() {
            let _ = write!(s, "{:>30}", format!("{} (#{})", fmt(score.value), ranks[i][k]));
        }
        for c in [&vs_mean[i], &vs_best[i]] {
            let _ = write!(s, "{:>34}", format!("{} [{}, {}]", fmt(c.difference), fmt(c.ci_low), fmt(c.ci_high)));
        }
        s.push('\n');
    }
    let _ = writeln!(s, "* selected (best cross-validated {}); ranks per metric in parentheses", cv.metrics[0].name());
    s
}

fn write_report(
    path: &Path,
    task: &Task,
    args: &RunArgs,
    context: &RunContext,
    cv: &CvResult,
    best: usize,
    summary: &str,
) -> Result<()> {
    let mut r = String::new();
    let _ = writeln!(r, "# cellcast run: {}\n", task.name);
    let what = match &task.layout {
        Layout::Wide => format!("{} test compounds, {} targets", task.test_ids.len(), task.targets.len()),
        Layout::Pairs(p) => format!(
            "{} test compounds in {} (compound, {}) pairs; {} {}s measured in training, {} compound–{} pairs labelled",
            task.test_ids.len(),
            p.cells.len(),
            p.target_column,
            task.targets.len(),
            p.target_column,
            task.train_y.as_slice().iter().filter(|v| !v.is_nan()).count(),
            p.target_column
        ),
    };
    let _ = writeln!(
        r,
        "{} training compounds, {what}. Official metric: `{}`. \
         Cross-validation: {}; seed {}; {} paired bootstrap resamples over compounds.\n",
        task.train_ids.len(),
        task.metric,
        context.split,
        args.seed,
        args.bootstrap
    );
    if task.labels == LabelKind::Binary {
        let _ = writeln!(
            r,
            "Binary labels: scores are ranked per compound. {} of {} training compounds have a positive and are scored; {} are skipped (Polaris `on_error=ignore`).\n",
            context.scored,
            task.train_ids.len(),
            task.train_ids.len() - context.scored
        );
    }
    let chose = context.describe.as_deref().map(|d| format!(" (fit on all of train: {d})")).unwrap_or_default();
    let _ = writeln!(
        r,
        "Selected: **{}**{chose}, refit on all training compounds for `submission.csv`.\n",
        cv.models[best].model
    );
    let _ = writeln!(r, "## Pooled out-of-fold scores\n\n```\n{summary}```\n");
    let _ = writeln!(r, "## Per-fold {}\n", cv.metrics[0].name());
    let _ =
        writeln!(r, "| model | {} |", (0..context.folds).map(|f| format!("fold {f}")).collect::<Vec<_>>().join(" | "));
    let _ = writeln!(r, "|---|{}", "---|".repeat(context.folds));
    for m in &cv.models {
        let cells: Vec<String> = m.fold_scores.iter().map(|f| fmt(f[0].value)).collect();
        let _ = writeln!(r, "| {} | {} |", m.model, cells.join(" | "));
    }
    let notes = match task.layout {
        Layout::Pairs(_) => PAIR_NOTES,
        Layout::Wide => REGRESSION_NOTES,
    };
    let neural = if cv.models.iter().any(|m| m.model.starts_with("mlp") || m.model.starts_with("fusion")) {
        NEURAL_NOTES
    } else {
        ""
    };
    let _ = writeln!(r, "\n## Models\n\n{MODEL_NOTES}{notes}{neural}");
    if matches!(task.layout, Layout::Pairs(_)) && task.name.to_ascii_lowercase().contains("rxrx3") {
        let _ = writeln!(r, "{RXRX3_DIFFERENCES}");
    }
    for section in &context.sections {
        let _ = writeln!(r, "{section}");
    }
    write_atomically(path, |out| {
        use std::io::Write;
        out.write_all(r.as_bytes())
    })?;
    Ok(())
}

const MODEL_NOTES: &str = "- `mean`: the per-target training mean (for binary pairs: how often the target is active among the training compounds measured on it).
- `control`: the task's control profile (task.toml `control`), i.e. \"the compound does nothing\".
- `knn_tuned`: Tanimoto kNN on Morgan r2/2048 bits, k ∈ {1, 3, 5, 10, 20, 50} and the kernel (uniform, Tanimoto, softmax τ = 0.1) chosen on inner 3-fold CV of each training fold (scaffold groups under a scaffold split); `knn_k*`: fixed references.
- `ridge_morgan_counts`, `ridge_descriptors`, `ridge_morgan_descriptors`: multi-output ridge on log(1 + Morgan r2/2048 counts), on the 14 standardised RDKit descriptors, and on both; α by leave-one-out CV within each training fold (scikit-learn RidgeCV's rule).
- Missing labels are skipped by the mean and kNN and imputed with the target mean for ridge; a compound that cannot be read gets the mean.
";

const REGRESSION_NOTES: &str = "- `avg(…)`: equal-weight average of its members; `stack(…)`: weighted average with weights (step 0.05, summing to 1) fit on inner folds of each training fold.
";

const NEURAL_NOTES: &str = "- `mlp`, `fusion`, `fusion_pca16` (and `*_emb` on a `--embedding` file): ensembles of 5 seeded networks (burn, CPU) predicting each target's residual over the training mean with a heteroscedastic head (per-target mean and log-variance). Input: log(1 + Morgan r2/2048 counts) and the 14 standardised descriptors (or the standardised user embedding); 256 → 128 ReLU units, dropout 0.5, AdamW (lr 3·10⁻⁴, weight decay 0.01), 3 epochs of MSE, then Gaussian NLL with early stopping on an inner validation fold of whole scaffolds (member m holds out inner fold m). `fusion` adds, after the first layer, the compound's neighbour support among the training compounds — the largest Tanimoto similarity, the mean of the 5 largest, log(1 + the number ≥ 0.4), computed for a training compound without itself — and `fusion_pca16` also the 16 principal-component scores of its 10 nearest neighbours' similarity-weighted residual profile. Prediction: the members' mean; σ: √(mean member variance + variance of the member means).
";

const PAIR_NOTES: &str = "- `gene_prior_s1`: how often the gene is active among training compounds, smoothed towards the overall rate by one pseudo-compound.
- `active_sim_max`, `active_sim_top3`: the highest, and the mean of the three highest, Tanimoto similarities (Morgan r2/2048 bits) of the compound to the gene's known actives; a gene without actives scores 0.
- `sea_t0.3`: the similarity-ensemble idea — the summed similarities above 0.3 to the gene's actives, as a z-score against what a random set of that many training compounds would score.
- `label_prop_k10`: similarity-weighted vote of the 10 most similar training compounds on each gene (a gene the neighbour was not measured on counts as inactive).
- `logistic(…)`: L2-penalised logistic regression (λ = 1, scikit-learn's `C = 1`) on the standardised member scores, fit on out-of-fold member scores from inner folds of each training fold.
- Every pair score adds 10⁻⁶ × the smoothed gene prior, so genes tied on similarity are ordered by how often they are active.
";

/// What a reader of an RxRx3 compound–gene report must know before comparing its numbers with
/// Recursion's published ones.
const RXRX3_DIFFERENCES: &str = "## Differences from the upstream RxRx3-core benchmark

- Labels: `active = 1` when the best measured potency (IC50/EC50) is ≤ 1 µM, `active = 0` when it is ≥ 10 µM; pairs in between are dropped (the benchmark's thresholds applied to its compound–gene annotations).
- Negatives: each compound also gets up to 20 randomly drawn RxRx3-core genes as negatives, as the benchmark's negative sampling does; so the gene prior and \"does this gene have any known ligand\" carry signal a real screen would not.
- No images: the upstream zero-shot method scores pairs by |cosine| between OpenPhenom embeddings of compound and knockout wells. Those embeddings are not available here, so every model above uses chemistry and training labels only; the embedding pipeline (`cellcast phenomics`) runs when per-well embeddings are supplied.
- Split: test compounds are whole scaffold groups held out from training, so scores measure generalisation to new chemotypes; upstream evaluates all annotated compounds zero-shot.
";

/// report.html: the official score of every model with its bootstrap interval (shifted from the
/// difference to the mean onto the score scale) and its per-fold values, plus the rank table.
fn write_html_report(
    path: &Path,
    task: &Task,
    cv: &CvResult,
    best: usize,
    vs_mean: &[Comparison],
    calibration_svgs: &[String],
) -> Result<()> {
    let mean_idx = cv.models.iter().position(|m| m.model == "mean").expect("the panel has the mean");
    let mean_score = cv.models[mean_idx].pooled[0].value;
    let folds: Vec<Vec<f64>> = cv.models.iter().map(|m| m.fold_scores.iter().map(|f| f[0].value).collect()).collect();
    let rows: Vec<crate::plot::Row> = cv
        .models
        .iter()
        .enumerate()
        .map(|(i, m)| crate::plot::Row {
            label: &m.model,
            value: m.pooled[0].value,
            interval: (mean_score + vs_mean[i].ci_low, mean_score + vs_mean[i].ci_high),
            folds: &folds[i],
            highlight: i == best,
        })
        .collect();
    let metric = cv.metrics[0].name();
    let svg = crate::plot::dot_plot(
        &format!("{metric}: pooled out-of-fold (dot), 95% bootstrap CI vs the mean (line), folds (grey)"),
        &format!("{} is better", cv.metrics[0].direction().as_str()),
        &rows,
    );
    let ranks = ranks(cv);
    let mut table = String::from("<table><tr><th>model</th>");
    for m in &cv.metrics {
        let _ = write!(table, "<th>{}</th>", m.name());
    }
    table.push_str("</tr>");
    for (i, m) in cv.models.iter().enumerate() {
        let _ = write!(table, "<tr{}><td>{}</td>", if i == best { r#" class="best""# } else { "" }, m.model);
        for (k, s) in m.pooled.iter().enumerate() {
            let _ = write!(table, "<td>{} <span class=\"rank\">#{}</span></td>", fmt(s.value), ranks[i][k]);
        }
        table.push_str("</tr>");
    }
    table.push_str("</table>");
    if !calibration_svgs.is_empty() {
        table.push_str("<h2>Uncertainty calibration</h2><p>Details: report.md.</p>");
        for svg in calibration_svgs {
            table.push_str(svg);
        }
    }
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>cellcast: {name}</title><style>\
         body{{font-family:sans-serif;margin:2em;max-width:70em}} table{{border-collapse:collapse}} \
         td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}} td:first-child{{text-align:left}} \
         tr.best{{background:#fdecea}} .rank{{color:#888;font-size:small}}</style></head><body>\
         <h1>cellcast run: {name}</h1><p>Selected: <b>{best}</b>. Ranks per metric show where the metrics disagree.</p>\
         {svg}<h2>Pooled out-of-fold scores</h2>{table}<p>Details: report.md, leaderboard.csv, folds.csv.</p></body></html>\n",
        name = task.name,
        best = cv.models[best].model
    );
    write_atomically(path, |out| {
        use std::io::Write;
        out.write_all(html.as_bytes())
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
            return Err(anyhow::Error::new(e).context(format!(
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
