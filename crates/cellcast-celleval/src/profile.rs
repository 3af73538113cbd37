//! cell-eval's metric registry and profiles (`cell_eval/metrics/_impl.py`,
//! `cell_eval/_pipeline/_runner.py`): which metrics a profile computes, in which order, and how
//! each compares with a baseline.

/// What a metric is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The two differential-expression tables.
    De,
    /// The two AnnData files (pseudobulks, cells, centroids).
    AnnData,
}

/// How a metric is normalised against a baseline (`MetricBestValue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Best {
    Zero,
    One,
    /// Not compared (`de_nsig_counts`).
    None,
}

/// A registered metric.
#[derive(Debug, Clone, Copy)]
pub struct MetricSpec {
    pub name: &'static str,
    pub source: Source,
    pub best: Best,
    pub description: &'static str,
}

const fn de(name: &'static str, best: Best, description: &'static str) -> MetricSpec {
    MetricSpec { name, source: Source::De, best, description }
}

const fn ad(name: &'static str, best: Best, description: &'static str) -> MetricSpec {
    MetricSpec { name, source: Source::AnnData, best, description }
}

/// Every metric, in cell-eval's registration order (the order of the `full` profile's columns).
pub const METRICS: &[MetricSpec] = &[
    de("overlap_at_N", Best::One, "overlap of the top-N real and predicted DE genes, N = real significant genes"),
    de("overlap_at_50", Best::One, "overlap of the top-50 DE genes"),
    de("overlap_at_100", Best::One, "overlap of the top-100 DE genes"),
    de("overlap_at_200", Best::One, "overlap of the top-200 DE genes"),
    de("overlap_at_500", Best::One, "overlap of the top-500 DE genes"),
    de("precision_at_N", Best::One, "precision of the top-N predicted DE genes, N = predicted significant genes"),
    de("precision_at_50", Best::One, "precision of the top-50 predicted DE genes"),
    de("precision_at_100", Best::One, "precision of the top-100 predicted DE genes"),
    de("precision_at_200", Best::One, "precision of the top-200 predicted DE genes"),
    de("precision_at_500", Best::One, "precision of the top-500 predicted DE genes"),
    de("de_spearman_sig", Best::One, "Spearman correlation of the numbers of significant genes across perturbations"),
    de("de_direction_match", Best::One, "agreement in the direction of change of the real significant genes"),
    de("de_spearman_lfc_sig", Best::One, "Spearman correlation of log fold changes over the real significant genes"),
    de("de_sig_genes_recall", Best::One, "recall of the real significant genes"),
    de("de_nsig_counts", Best::None, "numbers of significant genes, real and predicted"),
    de("pr_auc", Best::One, "precision-recall AUC of recovering the real significant genes"),
    de("roc_auc", Best::One, "ROC AUC of recovering the real significant genes"),
    ad("pearson_delta", Best::One, "Pearson correlation of the predicted and real effects (pseudobulk − control)"),
    ad("mse", Best::Zero, "mean squared error of the pseudobulks"),
    ad("mae", Best::Zero, "mean absolute error of the pseudobulks"),
    ad("mse_delta", Best::Zero, "mean squared error of the effects"),
    ad("mae_delta", Best::Zero, "mean absolute error of the effects"),
    ad("discrimination_score_l1", Best::One, "perturbation discrimination score (normalised rank), L1 distance"),
    ad("discrimination_score_l2", Best::One, "perturbation discrimination score, L2 distance"),
    ad("discrimination_score_cosine", Best::One, "perturbation discrimination score, cosine distance"),
    ad("pearson_edistance", Best::One, "Pearson correlation of real and predicted energy distances to control"),
    ad("clustering_agreement", Best::One, "agreement (AMI) of Leiden clusterings of real and predicted centroids"),
];

/// The profiles cell-eval knows.
pub const PROFILES: [&str; 6] = ["full", "vcc", "minimal", "de", "anndata", "pds"];

/// A metric by name.
pub fn metric(name: &str) -> Option<&'static MetricSpec> {
    METRICS.iter().find(|m| m.name == name)
}

/// The best value of a results column (`de_nsig_counts_real` is not registered: no baseline
/// comparison, as in cell-eval, which skips unregistered columns).
pub fn best_of_column(column: &str) -> Best {
    metric(column).map_or(Best::None, |m| m.best)
}

/// The metrics of a profile, in the profile's order; `None` for an unknown profile.
pub fn profile_metrics(profile: &str) -> Option<Vec<&'static str>> {
    let of = |s: Source| METRICS.iter().filter(|m| m.source == s).map(|m| m.name).collect::<Vec<_>>();
    Some(match profile {
        "full" => METRICS.iter().map(|m| m.name).collect(),
        "de" => of(Source::De),
        "anndata" => of(Source::AnnData),
        "minimal" => vec![
            "pearson_delta",
            "mse",
            "mae",
            "discrimination_score_l1",
            "overlap_at_N",
            "precision_at_N",
            "de_nsig_counts",
        ],
        "vcc" => vec!["mae", "discrimination_score_l1", "overlap_at_N"],
        "pds" => vec!["discrimination_score_l1"],
        _ => return None,
    })
}

/// cell-eval computes the DE metrics of a profile first, then the others, each group in the
/// profile's order; that is the order of the results columns.
pub fn computation_order(metrics: &[&'static str]) -> Vec<&'static str> {
    let is = |s: Source| move |n: &&&'static str| metric(n).is_some_and(|m| m.source == s);
    let mut out: Vec<&'static str> = metrics.iter().filter(is(Source::De)).copied().collect();
    out.extend(metrics.iter().filter(is(Source::AnnData)).copied());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_profile_has_the_28_columns_of_cell_eval() {
        // de_nsig_counts gives two columns.
        assert_eq!(profile_metrics("full").unwrap().len() + 1, 28);
        assert_eq!(
            computation_order(&profile_metrics("minimal").unwrap()),
            [
                "overlap_at_N",
                "precision_at_N",
                "de_nsig_counts",
                "pearson_delta",
                "mse",
                "mae",
                "discrimination_score_l1"
            ]
        );
        assert_eq!(
            computation_order(&profile_metrics("vcc").unwrap()),
            ["overlap_at_N", "mae", "discrimination_score_l1"]
        );
        assert!(profile_metrics("nope").is_none());
    }
}
