//! The metric registry: every metric's name, direction, inputs, parameters and source.

use crate::error::{MetricError, Result};
use crate::inputs::{LabelInputs, MatrixInputs, RankingInputs};
use crate::params::Params;
use crate::score::{Breakdown, Score};

/// Whether lower or higher values are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    LowerIsBetter,
    HigherIsBetter,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::LowerIsBetter => "lower",
            Direction::HigherIsBetter => "higher",
        }
    }
}

/// The shape of the inputs a metric scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Truth and prediction are wide numeric tables with the same ids and columns.
    Matrix,
    /// Truth holds binary label column(s) (and maybe a group column); the prediction holds a
    /// score column of the same name per label.
    Labels,
    /// Truth holds `targets` (gene names joined by `;`); the prediction one score column per
    /// candidate gene.
    Ranking,
}

/// Whether an optional input is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    No,
    Optional,
    Required,
}

/// What a metric does with a missing (NaN) truth cell. Infinite values are never accepted, in
/// any input: no reference metric can score them (scikit-learn refuses "Input contains
/// infinity"), and a mean over them is not a number anyone should submit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingTruth {
    /// The reference leaves missing truth out of the score; the text says how, for the warning.
    Masked(&'static str),
    /// The reference has no rule for missing truth: a missing cell is an error.
    Refused,
}

impl MissingTruth {
    /// One line for `cellcast metrics`.
    pub fn describe(self) -> String {
        match self {
            MissingTruth::Masked(how) => format!("masked (missing cells are {how})"),
            MissingTruth::Refused => "refused (every truth cell must be a finite number)".into(),
        }
    }
}

/// The values a `--param` takes.
#[derive(Debug, Clone, Copy)]
pub enum ParamKind {
    PositiveInt,
    Float,
    Choice(&'static [&'static str]),
    /// Any non-empty text (e.g. a row label).
    Text,
}

/// A `--param` a metric accepts. `default: None` means the parameter is required.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub key: &'static str,
    pub default: Option<&'static str>,
    pub kind: ParamKind,
    pub help: &'static str,
}

/// The function that computes a metric, registered with it, for the metric's input kind: a
/// metric is only ever scored by its own function (no dispatch by name, no fallback).
#[derive(Debug, Clone, Copy)]
pub enum Scorer {
    Matrix(fn(&MetricInfo, &MatrixInputs, &Params) -> Result<Score>),
    Labels(fn(&MetricInfo, &LabelInputs, &Params) -> Result<Score>),
    Ranking(fn(&MetricInfo, &RankingInputs, &Params) -> Result<Score>),
}

/// Everything cellcast knows about a metric before scoring anything.
#[derive(Debug, Clone, Copy)]
pub struct MetricInfo {
    pub name: &'static str,
    pub direction: Direction,
    pub scorer: Scorer,
    pub weights: Use,
    pub baseline: Use,
    pub group_by: Use,
    pub params: &'static [ParamSpec],
    /// The metric's policy for missing truth cells (predictions, weights and baselines must
    /// always be complete and finite).
    pub missing_truth: MissingTruth,
    pub breakdown: Breakdown,
    pub summary: &'static str,
    pub source: &'static str,
}

impl MetricInfo {
    /// The shape of the inputs its scorer reads.
    pub fn input(&self) -> InputKind {
        match self.scorer {
            Scorer::Matrix(_) => InputKind::Matrix,
            Scorer::Labels(_) => InputKind::Labels,
            Scorer::Ranking(_) => InputKind::Ranking,
        }
    }

    /// A one-line description of the inputs, for `cellcast metrics`.
    pub fn inputs_text(&self) -> String {
        let mut parts = vec![match self.input() {
            InputKind::Matrix if self.name.starts_with("celleval/") => {
                "truth+pred pseudobulks (perturbation × gene, control row included)"
            }
            InputKind::Matrix => "truth+pred matrices (id × target)",
            InputKind::Labels => "truth labels 0/1 + pred scores (same column name)",
            InputKind::Ranking => "truth `targets` (a;b) + pred score per candidate gene",
        }
        .to_string()];
        for (what, usage) in [("--weights", self.weights), ("--baseline", self.baseline), ("--group-by", self.group_by)]
        {
            match usage {
                Use::Required => parts.push(format!("{what} (required)")),
                Use::Optional => parts.push(format!("{what} (optional)")),
                Use::No => {}
            }
        }
        for p in self.params {
            parts.push(format!("--param {}={}", p.key, p.default.unwrap_or("(required)")));
        }
        parts.join("; ")
    }

    /// The name with the parameters that shape it: `ranking/relevant_hit@5` for
    /// `ranking/relevant_hit@k` scored with k = 5.
    pub fn display_name(&self, params: &Params) -> String {
        match (self.name.strip_suffix("@k"), params.get_str("k")) {
            (Some(stem), Some(k)) => format!("{stem}@{k}"),
            _ => self.name.to_string(),
        }
    }

    /// Checks `params` before any data is read: unknown keys, missing required keys and
    /// values of the wrong kind are errors.
    pub fn check_params(&self, params: &Params) -> Result<()> {
        let keys: Vec<&str> = self.params.iter().map(|p| p.key).collect();
        params.check_keys(self.name, &keys)?;
        for spec in self.params {
            let Some(value) = params.get_str(spec.key) else {
                if spec.default.is_none() {
                    return Err(MetricError::MissingInput {
                        metric: self.name.to_string(),
                        what: format!("--param {}=N ({})", spec.key, spec.help),
                    });
                }
                continue;
            };
            let (ok, expected) = match spec.kind {
                ParamKind::PositiveInt => {
                    (value.parse::<usize>().is_ok_and(|k| k > 0), "a positive whole number".to_string())
                }
                ParamKind::Float => (value.parse::<f64>().is_ok_and(f64::is_finite), "a finite number".to_string()),
                ParamKind::Choice(options) => (options.contains(&value), options.join(" or ")),
                ParamKind::Text => (!value.is_empty(), "a non-empty label".to_string()),
            };
            if !ok {
                return Err(MetricError::BadParam {
                    metric: self.name.to_string(),
                    key: spec.key.to_string(),
                    value: value.to_string(),
                    expected,
                });
            }
        }
        Ok(())
    }
}

const MASKED_PER_TARGET: &str = "left out of their target's score, as Polaris masks NaN truth per target";
const MASKED_LABELS: &str = "left out of the score (rows with a missing label), as Polaris masks NaN truth";

const POLARIS: &str = "polaris-hub/polaris@4dd22f1:polaris/evaluate (scored per target, NaN truth masked)";
const AGGREGATION: ParamSpec = ParamSpec {
    key: "aggregation",
    default: Some("mean"),
    kind: ParamKind::Choice(&["mean", "median"]),
    help: "mean or median over groups (with --group-by)",
};
const K: ParamSpec = ParamSpec { key: "k", default: None, kind: ParamKind::PositiveInt, help: "cut-off rank" };
const TIES: &str = "; ties by score descending, then candidate column order";

macro_rules! polaris_regression {
    ($name:literal, $dir:expr, $summary:literal) => {
        MetricInfo {
            name: $name,
            direction: $dir,
            scorer: Scorer::Matrix(|info, x, _| crate::polaris::regression(info, x)),
            weights: Use::No,
            baseline: Use::No,
            group_by: Use::No,
            params: &[],
            missing_truth: MissingTruth::Masked(MASKED_PER_TARGET),
            breakdown: Breakdown::PerTarget,
            summary: $summary,
            source: POLARIS,
        }
    };
}

macro_rules! ranking {
    ($name:literal, $params:expr, $summary:expr) => {
        MetricInfo {
            name: $name,
            direction: Direction::HigherIsBetter,
            scorer: Scorer::Ranking(crate::ranking::score),
            weights: Use::No,
            baseline: Use::No,
            group_by: Use::No,
            params: $params,
            missing_truth: MissingTruth::Refused,
            breakdown: Breakdown::PerRow,
            summary: $summary,
            source: "ENNCELADUS/gene-perturbation-prediction compute_gene_metrics (queries without targets skipped)",
        }
    };
}

const CELLEVAL: &str = "ArcInstitute/cell-eval 0.8.2 (PyPI): cell_eval/metrics/_anndata.py on the pseudobulks of cell_eval/_types/_anndata.py";
const CONTROL: ParamSpec = ParamSpec {
    key: "control",
    default: Some(crate::celleval::DEFAULT_CONTROL),
    kind: ParamKind::Text,
    help: "id of the control row in both pseudobulk tables (cell-eval's control_pert)",
};

macro_rules! celleval {
    ($name:literal, $dir:expr, $summary:expr) => {
        MetricInfo {
            name: $name,
            direction: $dir,
            scorer: Scorer::Matrix(crate::celleval::score),
            weights: Use::No,
            baseline: Use::No,
            group_by: Use::No,
            params: &[CONTROL],
            missing_truth: MissingTruth::Refused,
            breakdown: Breakdown::PerRow,
            summary: $summary,
            source: CELLEVAL,
        }
    };
}

/// The summary of a perturbation discrimination score.
macro_rules! pds_summary {
    ($what:literal) => {
        concat!(
            $what,
            ": per perturbation 1 − rank/N of its real effect among all real effects by distance to its predicted effect ",
            "(gene column named like the perturbation dropped; ties by label order), mean over perturbations"
        )
    };
}

static REGISTRY: &[MetricInfo] = &[
    polaris_regression!("polaris/mean_squared_error", Direction::LowerIsBetter, "per-target MSE (sklearn), mean over targets"),
    polaris_regression!("polaris/mean_absolute_error", Direction::LowerIsBetter, "per-target MAE (sklearn), mean over targets"),
    polaris_regression!("polaris/r2", Direction::HigherIsBetter, "per-target R² (sklearn r2_score, force_finite), mean over targets"),
    polaris_regression!("polaris/pearsonr", Direction::HigherIsBetter, "per-target Pearson r (scipy), mean over targets"),
    polaris_regression!("polaris/spearmanr", Direction::HigherIsBetter, "per-target Spearman ρ (scipy), mean over targets"),
    polaris_regression!("polaris/explained_var", Direction::HigherIsBetter, "per-target explained variance (sklearn), mean over targets"),
    MetricInfo {
        name: "polaris/pr_auc",
        direction: Direction::HigherIsBetter,
        scorer: Scorer::Labels(crate::polaris::classification),
        weights: Use::No,
        baseline: Use::No,
        group_by: Use::Optional,
        params: &[AGGREGATION],
        missing_truth: MissingTruth::Masked(MASKED_LABELS),
        breakdown: Breakdown::PerGroup,
        summary: "average precision (sklearn, tied scores one threshold); grouped: groups without a positive skipped, all-positive groups score 1",
        source: POLARIS,
    },
    MetricInfo {
        name: "polaris/roc_auc",
        direction: Direction::HigherIsBetter,
        scorer: Scorer::Labels(crate::polaris::classification),
        weights: Use::No,
        baseline: Use::No,
        group_by: Use::Optional,
        params: &[AGGREGATION],
        missing_truth: MissingTruth::Masked(MASKED_LABELS),
        breakdown: Breakdown::PerGroup,
        summary: "ROC AUC (sklearn); grouped: single-class groups skipped",
        source: POLARIS,
    },
    MetricInfo {
        name: "myllia/score",
        direction: Direction::HigherIsBetter,
        scorer: Scorer::Matrix(crate::myllia::score),
        weights: Use::Required,
        baseline: Use::Required,
        group_by: Use::No,
        params: &[
            ParamSpec { key: "cos_left", default: Some("0"), kind: ParamKind::Float, help: "gate start of the weighted cosine" },
            ParamSpec {
                key: "cos_right",
                default: Some("0.2"),
                kind: ParamKind::Float,
                help: "gate end (the host code's 0.2; the competition page says 0.3)",
            },
            ParamSpec { key: "max_log2", default: Some("5"), kind: ParamKind::Float, help: "cap of each log2 WMAE ratio" },
            ParamSpec { key: "eps", default: Some("1e-12"), kind: ParamKind::Float, help: "floor of WMAEs and of the cosine denominator" },
        ],
        missing_truth: MissingTruth::Refused,
        breakdown: Breakdown::PerRow,
        summary: "Σ_perturbations min(log2(baseline WMAE / WMAE), max_log2) × max(0, gated weighted cosine), rounded to 5 decimals",
        source: "Kaggle 'relative-wmae-multiplied-by-wcosine' (fsb2210/myllia-competition@a16588c:src/metric.py)",
    },
    MetricInfo {
        name: "vcpi/wmse",
        direction: Direction::LowerIsBetter,
        scorer: Scorer::Matrix(|info, x, _| crate::wmse::score(info, x)),
        weights: Use::Optional,
        baseline: Use::No,
        group_by: Use::No,
        params: &[],
        missing_truth: MissingTruth::Refused,
        breakdown: Breakdown::PerRow,
        summary: "per compound Σ_g w·(pred−true)² with weights as given, mean over compounds; no weights: per-gene truth variance (ddof 0), normalised",
        source: "virtualcell-vcpi/vcpi-prediction-contest-2026@e0f81f3:src/vcpi_prediction_contest/metrics.py",
    },
    MetricInfo {
        name: "mejia/wmse",
        direction: Direction::LowerIsBetter,
        scorer: Scorer::Matrix(|info, x, _| crate::wmse::score(info, x)),
        weights: Use::Optional,
        baseline: Use::No,
        group_by: Use::No,
        params: &[],
        missing_truth: MissingTruth::Refused,
        breakdown: Breakdown::PerRow,
        summary: "per row Σ_g (w/Σw)·(pred−true)² (weights renormalised per row), mean over rows; no weights: per-gene truth variance",
        source: "shiftbioscience/diversity_by_design@24a20c5:analyses/common.py::wmse",
    },
    celleval!("celleval/mae", Direction::LowerIsBetter, "per perturbation MAE of pred vs real pseudobulk (sklearn), mean over perturbations"),
    celleval!("celleval/mse", Direction::LowerIsBetter, "per perturbation MSE of pred vs real pseudobulk (sklearn), mean over perturbations"),
    celleval!(
        "celleval/mae_delta",
        Direction::LowerIsBetter,
        "per perturbation MAE of the effects (pseudobulk − control, within pred and within real), mean over perturbations"
    ),
    celleval!(
        "celleval/mse_delta",
        Direction::LowerIsBetter,
        "per perturbation MSE of the effects (pseudobulk − control), mean over perturbations"
    ),
    celleval!(
        "celleval/pearson_delta",
        Direction::HigherIsBetter,
        "per perturbation Pearson r (scipy) of pred vs real effect; a constant effect is NaN and makes the mean NaN"
    ),
    celleval!(
        "celleval/discrimination_score_l1",
        Direction::HigherIsBetter,
        pds_summary!("PDS with L1 (cityblock) distances between effects")
    ),
    celleval!(
        "celleval/discrimination_score_l2",
        Direction::HigherIsBetter,
        pds_summary!("PDS with L2 (euclidean) distances between effects")
    ),
    celleval!(
        "celleval/discrimination_score_cosine",
        Direction::HigherIsBetter,
        pds_summary!("PDS with cosine distances between effects (a zero effect is at distance 1 from all)")
    ),
    ranking!("ranking/relevant_hit@k", &[K], "1 if any target is in the top k, mean over queries"),
    ranking!("ranking/exact_hit@k", &[K], "1 if every target is in the top k, mean over queries"),
    ranking!("ranking/recall@k", &[K], "share of targets in the top k, mean over queries"),
    ranking!("ranking/ndcg@k", &[K], "binary-relevance nDCG at k, mean over queries"),
    ranking!("ranking/mrr", &[], "1 / rank of the best-ranked target, mean over queries"),
];

/// All metrics, in the order `cellcast metrics` lists them.
pub fn metrics() -> &'static [MetricInfo] {
    REGISTRY
}

/// Tie-breaking rule of the ranking metrics, for documentation.
pub const RANKING_TIES: &str = TIES;

/// Finds a metric by name. `ranking/recall@5` is accepted for `ranking/recall@k` with `k=5`
/// (the returned params then carry `k`).
pub fn resolve(name: &str, params: &Params) -> Result<(&'static MetricInfo, Params)> {
    if let Some(info) = REGISTRY.iter().find(|m| m.name == name) {
        return Ok((info, params.clone()));
    }
    if let Some((stem, k)) = name.rsplit_once('@') {
        if k.parse::<usize>().is_ok() {
            let generic = format!("{stem}@k");
            if let Some(info) = REGISTRY.iter().find(|m| m.name == generic) {
                if let Some(given) = params.get_str("k").filter(|given| given.parse::<usize>().ok() != k.parse().ok()) {
                    return Err(MetricError::BadParam {
                        metric: name.to_string(),
                        key: "k".into(),
                        value: given.to_string(),
                        expected: format!(
                            "the name already sets k={k}; give either {name} or {generic} with --param k={given}"
                        ),
                    });
                }
                let mut merged: Vec<(String, String)> =
                    params.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
                merged.push(("k".to_string(), k.to_string()));
                return Ok((info, Params::from_pairs(merged)));
            }
        }
    }
    let suggestion = REGISTRY
        .iter()
        .map(|m| (edit_distance(name, m.name), m.name))
        .filter(|(d, _)| *d <= 4)
        .min()
        .map(|(_, n)| format!(" (did you mean '{n}'?)"))
        .or_else(|| {
            REGISTRY
                .iter()
                .find(|m| m.name.rsplit('/').next() == Some(name))
                .map(|m| format!(" (did you mean '{}'?)", m.name))
        })
        .unwrap_or_default();
    Err(MetricError::UnknownMetric { name: name.to_string(), suggestion })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push((prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_resolvable() {
        for (i, m) in REGISTRY.iter().enumerate() {
            assert!(REGISTRY[..i].iter().all(|o| o.name != m.name), "{} twice", m.name);
            assert_eq!(resolve(m.name, &Params::default()).unwrap().0.name, m.name);
        }
    }

    #[test]
    fn at_k_alias_and_suggestions() {
        let (info, params) = resolve("ranking/recall@5", &Params::default()).unwrap();
        assert_eq!(info.name, "ranking/recall@k");
        assert_eq!(params.get_str("k"), Some("5"));
        assert_eq!(info.display_name(&params), "ranking/recall@5");
        // The same k twice is fine; two different ones are refused, not silently resolved.
        assert!(resolve("ranking/recall@5", &Params::parse(&["k=5"]).unwrap()).is_ok());
        match resolve("ranking/relevant_hit@5", &Params::parse(&["k=1"]).unwrap()) {
            Err(MetricError::BadParam { key, value, expected, .. }) => {
                assert_eq!((key.as_str(), value.as_str()), ("k", "1"));
                assert!(expected.contains("already sets k=5"), "{expected}");
            }
            other => panic!("{other:?}"),
        }
        match resolve("polaris/mean_squared_eror", &Params::default()) {
            Err(MetricError::UnknownMetric { suggestion, .. }) => {
                assert!(suggestion.contains("polaris/mean_squared_error"))
            }
            other => panic!("{other:?}"),
        }
        match resolve("pr_auc", &Params::default()) {
            Err(MetricError::UnknownMetric { suggestion, .. }) => assert!(suggestion.contains("polaris/pr_auc")),
            other => panic!("{other:?}"),
        }
    }
}
