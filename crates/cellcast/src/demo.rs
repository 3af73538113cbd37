//! `demo`: the whole pipeline on a built-in synthetic task, under a random and a scaffold split —
//! retrieval looks excellent when a compound's scaffold family is in training and collapses when
//! whole families are held out.

use std::fmt::Write as _;
use std::path::PathBuf;

use cellcast_data::output::{Column, OutputTable};
use cellcast_data::split::SplitMethod;
use cellcast_data::staging::StagedDir;
use cellcast_eval::{cross_validate, PanelMetric};
use cellcast_models::synth::synth_task;
use cellcast_models::{Features, Kernel, MeanResponse, Predictor, RetrievalKnn, RidgeGcv, TunedKnn};

use crate::report::fmt;
use crate::run::make_folds;
use crate::{Observer, Result};

/// Compounds, responses and noise of the demo's task (also `synth`'s defaults).
pub(crate) const COMPOUNDS: usize = 300;
pub(crate) const TARGETS: usize = 20;
pub(crate) const NOISE: f64 = 0.5;

/// Options of [`demo`].
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// Seed of the synthetic task, the folds and the models.
    pub seed: u64,
    /// Also write `leaderboard.csv` (regime,model,metric,score) into this folder.
    pub out: Option<PathBuf>,
}

impl DemoOptions {
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// One score of the demo.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoScore {
    /// `random` or `scaffold`.
    pub regime: String,
    pub model: String,
    pub metric: String,
    pub score: f64,
}

/// What the demo found.
#[derive(Debug, Clone)]
pub struct DemoOutcome {
    pub scores: Vec<DemoScore>,
    /// The tour as the CLI prints it.
    pub text: String,
    /// The leaderboard written, if any.
    pub leaderboard: Option<PathBuf>,
}

impl DemoOutcome {
    /// The pooled out-of-fold score of `model` under `metric` in a regime (NaN when absent).
    pub fn score(&self, regime: &str, model: &str, metric: &str) -> f64 {
        self.scores
            .iter()
            .find(|r| r.regime == regime && r.model == model && r.metric == metric)
            .map_or(f64::NAN, |r| r.score)
    }
}

fn demo_panel(seed: u64) -> Vec<Box<dyn Predictor>> {
    vec![
        Box::new(MeanResponse),
        Box::new(RetrievalKnn { k: 1, kernel: Kernel::Uniform }),
        Box::new(TunedKnn::standard(seed)),
        Box::new(RidgeGcv::standard()),
    ]
}

/// Runs the demo.
pub fn demo(opts: &DemoOptions, observer: &dyn Observer) -> Result<DemoOutcome> {
    opts.validate()?;
    // Refuse an unusable output folder before the work, not after it.
    let stage = opts.out.as_deref().map(StagedDir::new).transpose()?;
    let task = synth_task(COMPOUNDS, TARGETS, NOISE, opts.seed);
    let smiles: Vec<Option<String>> = task.smiles.iter().cloned().map(Some).collect();
    let mut features = Features::from_smiles(&smiles);
    let rows: Vec<usize> = (0..task.ids.len()).collect();
    let metrics = vec![PanelMetric::Registry("polaris/mean_squared_error".into()), PanelMetric::RowPearson];
    let models = demo_panel(opts.seed);
    let mut out = String::new();
    let _ =
        writeln!(out, "cellcast demo: {COMPOUNDS} synthetic compounds in 12 scaffold families × {TARGETS} responses");
    let _ = writeln!(
        out,
        "(responses: a fixed function of each compound's scaffold and Morgan bits, plus noise; 5-fold CV)\n"
    );
    let mut scores: Vec<DemoScore> = Vec::new();
    for (regime, method) in [("random", SplitMethod::RandomKfold), ("scaffold", SplitMethod::ScaffoldKfold)] {
        let (folds, groups) = make_folds(&smiles, &task.ids, method, 5, opts.seed, observer)?;
        // Tuning inside a training fold holds out whole scaffolds when the outer split does.
        features.groups = (method == SplitMethod::ScaffoldKfold).then_some(groups);
        let cv = cross_validate(
            &models,
            &features,
            &rows,
            &task.y,
            &task.ids,
            &task.targets,
            &folds,
            5,
            &metrics,
            &|_, _| {},
        )?;
        let _ = writeln!(out, "{regime} split");
        for m in &cv.models {
            let _ = write!(out, "  {:<20}", m.model);
            for s in &m.pooled {
                let _ = write!(out, "  {} {:>10}", s.metric, fmt(s.value));
                scores.push(DemoScore {
                    regime: regime.into(),
                    model: m.model.clone(),
                    metric: s.metric.clone(),
                    score: s.value,
                });
            }
            out.push('\n');
        }
    }
    let mut outcome = DemoOutcome { scores, text: String::new(), leaderboard: None };
    let mse = |regime: &str, model: &str| outcome.score(regime, model, "polaris/mean_squared_error");
    let _ = writeln!(
        out,
        "\nNearest neighbour vs the mean (MSE): random split {} vs {}, scaffold split {} vs {}.",
        fmt(mse("random", "knn_k1_uniform")),
        fmt(mse("random", "mean")),
        fmt(mse("scaffold", "knn_k1_uniform")),
        fmt(mse("scaffold", "mean"))
    );
    let _ =
        writeln!(out, "Retrieval wins when test compounds have relatives in training and loses to the mean when whole");
    let _ = writeln!(
        out,
        "scaffold families are new: the split decides what a model is worth. Next: `cellcast run TASK_DIR`."
    );
    outcome.text = out;
    if let (Some(dir), Some(stage)) = (&opts.out, stage) {
        let records = &outcome.scores;
        let text = |f: fn(&DemoScore) -> &String| Column::Text(records.iter().map(|r| Some(f(r).clone())).collect());
        OutputTable::new()
            .with("regime", text(|r| &r.regime))
            .with("model", text(|r| &r.model))
            .with("metric", text(|r| &r.metric))
            .with("score", Column::Float(records.iter().map(|r| r.score).collect()))
            .write(&stage.join("leaderboard.csv"))?;
        stage.commit()?;
        outcome.leaderboard = Some(dir.join("leaderboard.csv"));
    }
    Ok(outcome)
}
