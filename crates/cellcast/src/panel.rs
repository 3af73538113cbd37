//! The model catalog of `run`: which models a task's labels get, by default and on request. A
//! model is one file in `cellcast-models` (its `Predictor`, with its report notes) plus one line
//! here.

use cellcast_data::task::{LabelKind, Task};
use cellcast_models::{
    ActiveSimilarity, ActiveStat, Average, ControlProfile, Embedding, GenePrior, Kernel, LabelPropagation,
    LogisticStack, MeanResponse, NeighbourPca, NeuralRegressor, Predictor, RetrievalKnn, RidgeGcv, RidgeInput, Stacked,
    TunedKnn,
};

use crate::{bail, Result};

/// A list of models.
pub type Panel = Vec<Box<dyn Predictor>>;

/// Which neural models a run may use.
#[derive(Debug, Clone, Copy)]
pub struct NeuralOptions {
    /// In the default panel?
    pub in_panel: bool,
    /// Members of each ensemble.
    pub members: usize,
    /// A user embedding was given: add the models that read it (to the default panel too).
    pub embedding: bool,
}

/// The model panel for the task's labels: the models that run by default, and the optional ones
/// that run only when named.
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

/// The default panel, or the requested names among the default and optional models (the mean
/// baseline always stays: every model is compared against it).
pub fn select_models(default: Panel, optional: Panel, wanted: &[String]) -> Result<Panel> {
    if wanted.is_empty() {
        return Ok(default);
    }
    let all: Panel = default.into_iter().chain(optional).collect();
    let names: Vec<String> = all.iter().map(|m| m.name()).collect();
    if let Some(unknown) = wanted.iter().find(|w| !names.contains(w)) {
        bail!("--models: no model named '{unknown}'; available: {}", names.join(", "));
    }
    Ok(all.into_iter().filter(|m| m.name() == "mean" || wanted.contains(&m.name())).collect())
}

/// The neural models on the chemistry embedding: the deep MLP, the fusion decoder, and the
/// fusion decoder with the neighbours' residual-profile PCA (the ablation).
fn neural_models(seed: u64, members: usize) -> Panel {
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

/// The neural models on the user's embedding.
fn embedding_models(seed: u64, members: usize) -> Panel {
    vec![
        Box::new(NeuralRegressor::mlp(seed).with_members(members).with_embedding(Embedding::External)),
        Box::new(NeuralRegressor::fusion(seed).with_members(members).with_embedding(Embedding::External)),
    ]
}

/// Compound–target activity: priors, similarity to each target's actives, neighbour votes,
/// retrieval and ridge, and a logistic combiner fit on inner folds.
fn activity_panel(seed: u64) -> Panel {
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
fn regression_panel(seed: u64, control: Option<&[f64]>) -> Panel {
    let knn = |k, kernel| -> Box<dyn Predictor> { Box::new(RetrievalKnn { k, kernel }) };
    let mut models: Panel = vec![Box::new(MeanResponse)];
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
