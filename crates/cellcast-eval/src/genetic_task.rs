//! A Kaggle "Echoes of Silenced Genes"-style task built from a single-cell screen, and the
//! genetic response panel scored on its held-out perturbations.
//!
//! [`build_genetic_task`] follows the host's recipe as far as it is published (metrics.md §3.3)
//! and reconstructs the rest (§3.4):
//!
//! - **truth**: the log-fold-change of perturbation p, mean log-normalised expression of p's
//!   cells minus that of the control cells (the reconstruction's most likely "delta");
//! - **weights** (reconstructed t): limma's moderated t of p against the controls from one
//!   `~0 + group` fit over the single cells of every group (`eBayes`, no trend, not robust),
//!   then the published c = min(|t| + 0.1, 10), c = 0 on p's own target genes, w = n·c²/Σc²;
//! - **baseline** (published): the mean log-fold-change of the training perturbations.
//!
//! [`evaluate_genetic_panel`] fits every [`GeneticModel`] on the training perturbations'
//! pseudobulks, predicts the held-out ones and scores them with `myllia/score` (official) and
//! cell-eval's pseudobulk metrics (`celleval/mae`, `mae_delta`, `pearson_delta`,
//! `discrimination_score_l1|l2|cosine`).

use cellcast_metrics::{resolve, score, Inputs, MatrixInputs, Params};
use cellcast_models::genetic::{GeneticModel, PerturbationProfiles};
use cellcast_models::targets::condition_genes;
use cellcast_stats::de::CellsByGenes;
use cellcast_stats::limma::{moderated_t_from_stats, moderated_t_vs_control, OneWayStats};
use cellcast_stats::pca::column_means;
use cellcast_stats::Matrix;

use crate::EvalError;

/// A built task: every non-control perturbation (sorted) with its truth, weights and split.
#[derive(Debug, Clone)]
pub struct GeneticTask {
    pub perturbations: Vec<String>,
    pub genes: Vec<String>,
    pub control: String,
    /// Whether each perturbation is held out.
    pub is_test: Vec<bool>,
    /// Moderated t (reconstructed), perturbations × genes.
    pub t: Matrix,
    /// Myllia weights, perturbations × genes (rows sum to the number of genes).
    pub weights: Matrix,
    /// The columns of each perturbation's target genes that are measured.
    pub target_columns: Vec<Vec<usize>>,
    /// Per-perturbation mean log-expression (pseudobulk), and the controls'.
    pub profiles: Matrix,
    pub control_profile: Vec<f64>,
    /// Cells per perturbation, and control cells.
    pub cells: Vec<usize>,
    pub control_cells: usize,
    /// limma's prior degrees of freedom and variance, and its warnings.
    pub df_prior: f64,
    pub var_prior: f64,
    pub warnings: Vec<String>,
}

impl GeneticTask {
    pub fn train(&self) -> Vec<usize> {
        (0..self.perturbations.len()).filter(|&i| !self.is_test[i]).collect()
    }

    pub fn test(&self) -> Vec<usize> {
        (0..self.perturbations.len()).filter(|&i| self.is_test[i]).collect()
    }

    /// Perturbations × genes: mean log-expression of the perturbation minus the controls'
    /// (cell means in both limma designs).
    pub fn lfc(&self) -> Matrix {
        minus_control(&self.profiles, &self.control_profile)
    }

    /// The published baseline: the mean log-fold-change of the training perturbations.
    pub fn baseline(&self) -> Vec<f64> {
        column_means(&self.lfc().select_rows(&self.train()))
    }
}

/// Builds the task from normalised single cells (`x`, cells × `genes`) labelled by
/// `labels[i]`; `is_test(p)` says which perturbations are held out.
///
/// With `replicates` (each cell's replicate label, e.g. a donor, well or guide), limma is fitted
/// on the pseudobulk means of the (perturbation, replicate) pairs instead of on single cells —
/// the other reading of the host's unpublished design; the log-fold-changes stay cell means.
pub fn build_genetic_task<X: CellsByGenes>(
    x: &X,
    labels: &[String],
    replicates: Option<&[String]>,
    control: &str,
    genes: &[String],
    is_test: &dyn Fn(&str) -> bool,
) -> Result<GeneticTask, EvalError> {
    let limma_err = |e: cellcast_stats::limma::LimmaError| EvalError::Task(e.to_string());
    let stats = OneWayStats::from_samples(x, labels).map_err(limma_err)?;
    let fit = match replicates {
        None => moderated_t_from_stats(&stats, control),
        Some(reps) => {
            let (bulk, bulk_labels) = replicate_pseudobulk(x, labels, reps);
            moderated_t_vs_control(&bulk, &bulk_labels, control)
        }
    }
    .map_err(limma_err)?;
    let control_row = stats.names.iter().position(|n| n == control).expect("the fit found the control");
    let rows: Vec<usize> = (0..stats.names.len()).filter(|&k| k != control_row).collect();
    let target_columns: Vec<Vec<usize>> = fit
        .groups
        .iter()
        .map(|p| condition_genes(p).filter_map(|g| genes.iter().position(|x| *x == g)).collect())
        .collect();
    let weights = cellcast_metrics::weights::myllia_weights(&fit.t, &target_columns);
    let is_test: Vec<bool> = fit.groups.iter().map(|p| is_test(p)).collect();
    let n_test = is_test.iter().filter(|t| **t).count();
    if n_test == 0 || n_test == is_test.len() {
        return Err(EvalError::Task(format!(
            "{n_test} of {} perturbations held out: a task needs training and test perturbations",
            is_test.len()
        )));
    }
    Ok(GeneticTask {
        perturbations: fit.groups.clone(),
        genes: genes.to_vec(),
        control: control.to_string(),
        is_test,
        t: fit.t,
        weights,
        target_columns,
        profiles: stats.means.select_rows(&rows),
        control_profile: stats.means.row(control_row).to_vec(),
        cells: rows.iter().map(|&k| stats.sizes[k]).collect(),
        control_cells: stats.sizes[control_row],
        df_prior: fit.df_prior,
        var_prior: fit.var_prior,
        warnings: fit.warnings,
    })
}

/// Mean of the cells of every (perturbation, replicate) pair that occurs (pairs sorted), and
/// each pair's perturbation.
fn replicate_pseudobulk<X: CellsByGenes>(x: &X, labels: &[String], reps: &[String]) -> (Matrix, Vec<String>) {
    let mut pairs: Vec<(&str, &str)> = labels.iter().map(String::as_str).zip(reps.iter().map(String::as_str)).collect();
    let of_cell = pairs.clone();
    pairs.sort_unstable();
    pairs.dedup();
    let mut sums = Matrix::filled(pairs.len(), x.n_genes(), 0.0);
    let mut counts = vec![0usize; pairs.len()];
    for (cell, pair) in of_cell.iter().enumerate() {
        let k = pairs.binary_search(pair).expect("a pair");
        counts[k] += 1;
        let row = sums.row_mut(k);
        x.for_each_in_row(cell, |j, v| row[j] += cellcast_stats::de::ExprValue::to_f64(v));
    }
    for (k, &n) in counts.iter().enumerate() {
        for v in sums.row_mut(k) {
            *v /= n as f64;
        }
    }
    (sums, pairs.iter().map(|(p, _)| p.to_string()).collect())
}

/// The metrics of the genetic panel: the official one first.
pub const GENETIC_METRICS: [&str; 7] = [
    "myllia/score",
    "celleval/mae",
    "celleval/mae_delta",
    "celleval/pearson_delta",
    "celleval/discrimination_score_l1",
    "celleval/discrimination_score_l2",
    "celleval/discrimination_score_cosine",
];

/// One model's held-out predictions and scores.
#[derive(Debug, Clone)]
pub struct GeneticModelResult {
    pub model: String,
    /// Predicted log-fold-changes of the test perturbations (test × genes).
    pub lfc: Matrix,
    /// Test perturbations predicted by a simpler model because their genes are not measured.
    pub fallbacks: usize,
    /// (metric, value) in [`GENETIC_METRICS`] order.
    pub scores: Vec<(String, f64)>,
}

/// Fits each model on the training perturbations and scores its predictions of the test ones.
pub fn evaluate_genetic_panel(
    task: &GeneticTask,
    models: &[GeneticModel],
) -> Result<Vec<GeneticModelResult>, EvalError> {
    let (train, test) = (task.train(), task.test());
    let names = |rows: &[usize]| rows.iter().map(|&i| task.perturbations[i].clone()).collect::<Vec<_>>();
    let train_profiles = PerturbationProfiles {
        names: names(&train),
        genes: task.genes.clone(),
        profiles: task.profiles.select_rows(&train),
        control: task.control_profile.clone(),
    };
    let test_names = names(&test);
    let truth_lfc = task.lfc().select_rows(&test);
    let weights = task.weights.select_rows(&test);
    let baseline = broadcast(&task.baseline(), test.len());
    // cell-eval reads pseudobulks with the control row.
    let with_control = |profiles: &Matrix| {
        let mut rows: Vec<Vec<f64>> = vec![task.control_profile.clone()];
        rows.extend(profiles.rows().map(<[f64]>::to_vec));
        Matrix::from_rows(&rows).expect("rows of one length")
    };
    let bulk_ids: Vec<String> = std::iter::once(task.control.clone()).chain(test_names.iter().cloned()).collect();
    let truth_bulk = with_control(&task.profiles.select_rows(&test));
    let control_param = Params::from_pairs([("control", task.control.as_str())]);

    models
        .iter()
        .map(|model| {
            let prediction = model.predict(&train_profiles, &test_names).map_err(|source| EvalError::Fit {
                model: model.name(),
                fold: 0,
                error: source,
            })?;
            let lfc = minus_control(&prediction.profiles, &task.control_profile);
            let pred_bulk = with_control(&prediction.profiles);
            let mut scores = Vec::new();
            for name in GENETIC_METRICS {
                let (info, params) = resolve(name, &Params::default())?;
                let inputs = if name == "myllia/score" {
                    MatrixInputs {
                        ids: &test_names,
                        targets: &task.genes,
                        truth: &truth_lfc,
                        pred: &lfc,
                        weights: Some(&weights),
                        baseline: Some(&baseline),
                    }
                } else {
                    MatrixInputs {
                        ids: &bulk_ids,
                        targets: &task.genes,
                        truth: &truth_bulk,
                        pred: &pred_bulk,
                        weights: None,
                        baseline: None,
                    }
                };
                let params = if name.starts_with("celleval/") { control_param.clone() } else { params };
                scores.push((name.to_string(), score(info, Inputs::Matrix(inputs), &params)?.value));
            }
            Ok(GeneticModelResult { model: model.name(), lfc, fallbacks: prediction.fallbacks, scores })
        })
        .collect()
}

/// Every row of `profiles` minus the control profile: log-fold-changes.
fn minus_control(profiles: &Matrix, control: &[f64]) -> Matrix {
    let mut out = profiles.clone();
    for i in 0..out.nrows() {
        for (v, c) in out.row_mut(i).iter_mut().zip(control) {
            *v -= c;
        }
    }
    out
}

/// `rows` copies of `v`.
pub fn broadcast(v: &[f64], rows: usize) -> Matrix {
    Matrix::from_row_major(rows, v.len(), v.repeat(rows)).expect("rows × len values")
}
