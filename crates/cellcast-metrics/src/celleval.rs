//! Arc Institute cell-eval's pseudobulk ("anndata") metrics: MAE/MSE of the perturbation
//! pseudobulks and of their effects, Pearson of the effects, and the perturbation
//! discrimination score (PDS) under L1, L2 and cosine distances.
//!
//! Inputs are cell-eval's pseudobulks in cellcast's wide layout: one row per perturbation label
//! (the mean of its cells), one column per gene, the control row included, in truth (real) and
//! prediction alike. As in cell-eval (`cell_eval/metrics/_anndata.py`,
//! `cell_eval/_types/_anndata.py`):
//! - perturbations are the row labels other than the control, in label order (`np.unique`);
//! - effect = pseudobulk − control pseudobulk, within truth and within prediction separately;
//! - every metric is per perturbation (`per_row`); the value is the plain mean over
//!   perturbations (polars' `describe()` mean: a NaN entry makes the mean NaN);
//! - PDS of p: drop every gene column named exactly p (a combination `A+B` or a name that is no
//!   gene drops nothing), take the distance from p's predicted effect to every real effect
//!   (sklearn `pairwise_distances`: `l1` = cityblock, `l2` = euclidean, `cosine` =
//!   1 − cosine similarity with zero vectors kept zero, clipped to [0, 2]); rank = 0-based
//!   position of p among them; PDS = 1 − rank / N.
//!
//! Ties: cell-eval ranks with numpy's default (unstable) `argsort`, whose order of tied distances
//! depends on the platform. cellcast ranks tied distances by perturbation label order — numpy's
//! `argsort(kind="stable")`: rank = #{q : d_q < d_p} + #{q before p in label order : d_q = d_p}.

use rayon::prelude::*;

use cellcast_stats::correlation::pearson;

use crate::error::{invalid, Result};
use crate::inputs::MatrixInputs;
use crate::params::Params;
use crate::registry::MetricInfo;
use crate::score::{Breakdown, Score};

/// cell-eval's default control label (`MetricsEvaluator(control_pert="non-targeting")`, the
/// CLI's `--control-pert`).
pub const DEFAULT_CONTROL: &str = "non-targeting";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Mae,
    Mse,
    MaeDelta,
    MseDelta,
    PearsonDelta,
    Pds(Distance),
}

/// The distances of `discrimination_score_{l1,l2,cosine}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distance {
    L1,
    L2,
    Cosine,
}

fn kind_of(name: &str) -> Option<Kind> {
    Some(match name {
        "celleval/mae" => Kind::Mae,
        "celleval/mse" => Kind::Mse,
        "celleval/mae_delta" => Kind::MaeDelta,
        "celleval/mse_delta" => Kind::MseDelta,
        "celleval/pearson_delta" => Kind::PearsonDelta,
        "celleval/discrimination_score_l1" => Kind::Pds(Distance::L1),
        "celleval/discrimination_score_l2" => Kind::Pds(Distance::L2),
        "celleval/discrimination_score_cosine" => Kind::Pds(Distance::Cosine),
        _ => return None,
    })
}

fn mean_abs(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64
}

fn mean_sq(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>() / a.len() as f64
}

/// The column ranges left once the columns in `dropped` (sorted) are removed from `0..n`.
fn kept_ranges(n: usize, dropped: &[usize]) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(dropped.len() + 1);
    let mut start = 0;
    for &j in dropped {
        if j > start {
            out.push((start, j));
        }
        start = j + 1;
    }
    if start < n {
        out.push((start, n));
    }
    out
}

/// Σ over the kept columns of f(a_j, b_j), accumulated left to right (the order of the masked
/// vector cell-eval builds).
fn masked_sum(a: &[f64], b: &[f64], kept: &[(usize, usize)], f: impl Fn(f64, f64) -> f64) -> f64 {
    let mut acc = 0.0;
    for &(s, e) in kept {
        for (x, y) in a[s..e].iter().zip(&b[s..e]) {
            acc += f(*x, *y);
        }
    }
    acc
}

/// sklearn's `normalize`: the L2 norm, with 0 replaced by 1 (a zero vector stays zero).
fn norm_or_one(a: &[f64], kept: &[(usize, usize)]) -> f64 {
    let n = masked_sum(a, a, kept, |x, _| x * x).sqrt();
    if n == 0.0 {
        1.0
    } else {
        n
    }
}

/// Distances from `pred` to every row of `real` (row-major, `n_genes` columns) over the kept
/// columns.
fn distances(real: &[f64], n_genes: usize, pred: &[f64], kept: &[(usize, usize)], d: Distance) -> Vec<f64> {
    let rows = real.chunks_exact(n_genes);
    match d {
        Distance::L1 => rows.map(|r| masked_sum(r, pred, kept, |x, y| (x - y).abs())).collect(),
        Distance::L2 => rows.map(|r| masked_sum(r, pred, kept, |x, y| (x - y) * (x - y)).sqrt()).collect(),
        Distance::Cosine => {
            let np = norm_or_one(pred, kept);
            let unit: Vec<f64> = pred.iter().map(|v| v / np).collect();
            rows.map(|r| {
                let nr = norm_or_one(r, kept);
                let sim = masked_sum(r, &unit, kept, |x, u| (x / nr) * u);
                (1.0 - sim).clamp(0.0, 2.0)
            })
            .collect()
        }
    }
}

/// 0-based rank of entry `i` in an ascending sort of `d`, tied values in index order.
fn stable_rank(d: &[f64], i: usize) -> usize {
    let di = d[i];
    d.iter().enumerate().filter(|&(j, &v)| v < di || (v == di && j < i)).count()
}

/// cell-eval's `discrimination_score` (PDS) of every perturbation: `real` and `pred` hold the
/// perturbations' effects (pseudobulk − control pseudobulk) row by row, in `perts` order (cell-eval's
/// sorted order), over `genes`. For perturbation p, the columns named p are dropped, the distances
/// from p's predicted effect to every real effect are ranked (ties in label order), and
/// PDS = 1 − rank / N. `None` when some perturbation leaves no column to compare.
pub fn discrimination_scores(
    real: &[f64],
    pred: &[f64],
    genes: &[String],
    perts: &[&str],
    d: Distance,
) -> Option<Vec<f64>> {
    let n_genes = genes.len();
    let n = perts.len();
    perts
        .par_iter()
        .enumerate()
        .map(|(k, p)| {
            let dropped: Vec<usize> = (0..n_genes).filter(|&j| genes[j] == *p).collect();
            let kept = kept_ranges(n_genes, &dropped);
            if kept.is_empty() {
                return None; // every column is p's own gene (sklearn refuses 0 features)
            }
            let dist = distances(real, n_genes, &pred[k * n_genes..(k + 1) * n_genes], &kept, d);
            Some(1.0 - stable_rank(&dist, k) as f64 / n as f64)
        })
        .collect()
}

pub(crate) fn score(info: &MetricInfo, x: &MatrixInputs, params: &Params) -> Result<Score> {
    let kind = kind_of(info.name).ok_or_else(|| invalid(info.name, "not a cell-eval metric"))?;
    let control = params.get_str("control").unwrap_or(DEFAULT_CONTROL);
    let Some(ctrl) = x.ids.iter().position(|id| id == control) else {
        return Err(invalid(
            info.name,
            format!(
                "no control row '{control}' among the {} row ids; the pseudobulk tables must include the \
                 control (name it with --control LABEL, or --param control=LABEL)",
                x.ids.len()
            ),
        ));
    };
    let n_genes = x.targets.len();
    if n_genes == 0 {
        return Err(invalid(info.name, "no gene columns"));
    }
    for (i, id) in x.ids.iter().enumerate() {
        if let Some(j) = x.truth.row(i).iter().position(|v| !v.is_finite()) {
            return Err(invalid(
                info.name,
                format!("truth pseudobulk of '{id}' for '{}' is missing or not finite", x.targets[j]),
            ));
        }
        if let Some(j) = x.pred.row(i).iter().position(|v| !v.is_finite()) {
            return Err(invalid(
                info.name,
                format!("predicted pseudobulk of '{id}' for '{}' is missing or not finite", x.targets[j]),
            ));
        }
    }
    // cell-eval's perturbation order: np.unique of the labels (code-point order = UTF-8 byte order).
    let mut perts: Vec<usize> = (0..x.ids.len()).filter(|&i| i != ctrl).collect();
    perts.sort_by(|&a, &b| x.ids[a].cmp(&x.ids[b]));
    if perts.is_empty() {
        return Err(invalid(info.name, format!("only the control row '{control}': no perturbation to score")));
    }
    let effect = |m: &cellcast_stats::Matrix, i: usize| -> Vec<f64> {
        m.row(i).iter().zip(m.row(ctrl)).map(|(p, c)| p - c).collect()
    };

    let mut score = Score::new(info.name, info.direction, Breakdown::PerRow);
    let values: Vec<f64> = match kind {
        Kind::Mae => perts.iter().map(|&i| mean_abs(x.pred.row(i), x.truth.row(i))).collect(),
        Kind::Mse => perts.iter().map(|&i| mean_sq(x.pred.row(i), x.truth.row(i))).collect(),
        Kind::MaeDelta | Kind::MseDelta | Kind::PearsonDelta => perts
            .iter()
            .map(|&i| {
                let (pe, re) = (effect(x.pred, i), effect(x.truth, i));
                match kind {
                    Kind::MaeDelta => mean_abs(&pe, &re),
                    Kind::MseDelta => mean_sq(&pe, &re),
                    _ => pearson(&pe, &re),
                }
            })
            .collect(),
        Kind::Pds(d) => {
            let n = perts.len();
            let real: Vec<f64> = perts.iter().flat_map(|&i| effect(x.truth, i)).collect();
            let pred: Vec<f64> = perts.iter().flat_map(|&i| effect(x.pred, i)).collect();
            let labels: Vec<&str> = perts.iter().map(|&i| x.ids[i].as_str()).collect();
            let matched = labels.iter().filter(|p| x.targets.iter().any(|g| g == *p)).count();
            score.details.push(("perturbations".into(), n as f64));
            score.details.push(("perturbations_named_like_a_gene".into(), matched as f64));
            discrimination_scores(&real, &pred, x.targets, &labels, d).ok_or_else(|| {
                invalid(info.name, "every gene column is named like its perturbation: nothing left to compare")
            })?
        }
    };
    score.entries = perts.iter().zip(&values).map(|(&i, &v)| (x.ids[i].clone(), v)).collect();
    score.n_scored = values.iter().filter(|v| !v.is_nan()).count();
    score.n_skipped = values.len() - score.n_scored;
    score.value = values.iter().sum::<f64>() / values.len() as f64;
    if score.n_skipped > 0 {
        let undefined: Vec<&str> =
            score.entries.iter().filter(|(_, v)| v.is_nan()).map(|(k, _)| k.as_str()).take(5).collect();
        score.warnings.push(format!(
            "{} perturbation(s) with an undefined score (constant effect: Pearson is NaN), e.g. {}; the mean is \
             NaN, as cell-eval reports it",
            score.n_skipped,
            undefined.join(", ")
        ));
    }
    Ok(score)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_ranges_skip_dropped_columns() {
        assert_eq!(kept_ranges(5, &[]), vec![(0, 5)]);
        assert_eq!(kept_ranges(5, &[0]), vec![(1, 5)]);
        assert_eq!(kept_ranges(5, &[2]), vec![(0, 2), (3, 5)]);
        assert_eq!(kept_ranges(5, &[3, 4]), vec![(0, 3)]);
        assert!(kept_ranges(1, &[0]).is_empty());
    }

    #[test]
    fn ties_rank_in_label_order() {
        let d = [0.5, 0.2, 0.5, 0.5, 0.1];
        assert_eq!(stable_rank(&d, 4), 0);
        assert_eq!(stable_rank(&d, 1), 1);
        assert_eq!(stable_rank(&d, 0), 2);
        assert_eq!(stable_rank(&d, 2), 3);
        assert_eq!(stable_rank(&d, 3), 4);
    }

    #[test]
    fn cosine_of_a_zero_vector_is_one() {
        let real = [1.0, 2.0, -3.0, 0.0, 0.0, 0.0];
        let kept = kept_ranges(3, &[]);
        assert_eq!(distances(&real, 3, &[0.0, 0.0, 0.0], &kept, Distance::Cosine), vec![1.0, 1.0]);
        let d = distances(&real, 3, &[2.0, 4.0, -6.0], &kept, Distance::Cosine);
        assert!(d[0].abs() < 1e-15 && d[1] == 1.0);
        assert_eq!(distances(&real, 3, &[1.0, 1.0, 1.0], &kept_ranges(3, &[1]), Distance::L1), vec![4.0, 2.0]);
    }
}
