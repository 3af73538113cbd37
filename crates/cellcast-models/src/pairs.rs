//! Predictors for compound–target activity: labels are 1 (active), 0 (inactive) or NaN (pair not
//! measured) in a compounds × targets matrix, and a prediction is a score per pair (higher =
//! more likely active; only the order within a compound matters for the grouped AP).
//!
//! - [`GenePrior`]: how often the target is active among the training compounds measured on it,
//!   shrunk towards the overall rate;
//! - [`ActiveSimilarity`]: the query's Tanimoto similarity to the target's known actives — the
//!   maximum, the mean of the top k, or the similarity-ensemble (SEA) z-score that compares the
//!   summed similarity with what a random set of as many compounds would reach;
//! - [`LabelPropagation`]: the similarity-weighted share of the k nearest training compounds that
//!   are active on the target (an unmeasured pair counts as inactive: actives are what gets
//!   reported);
//! - [`LogisticStack`]: a logistic regression on other models' scores, fit on inner folds.
//!
//! Ties are broken by the smoothed gene prior (added with weight 10⁻⁶, below any similarity
//! difference that matters), so a compound with no similar active still gets a sensible order.

use cellcast_chem::similarity::tanimoto_bits;
use cellcast_stats::Matrix;
use faer::linalg::solvers::Solve;
use faer::Mat;
use rayon::prelude::*;

use crate::inner::{inner_folds, out_of_fold};
use crate::{Features, Fitted, ModelError, Predictor};

const TIE_BREAK: f64 = 1e-6;
/// [`TIE_BREAK`] in words, for the notes of the models that add it.
const TIE_BREAK_NOTE: &str = "- The similarity and label-propagation scores add 10⁻⁶ × the smoothed gene prior, so genes tied on similarity are ordered by how often they are active.";

/// Per-target active and measured counts over the training rows.
fn counts(y: &Matrix) -> (Vec<f64>, Vec<f64>) {
    let (mut pos, mut n) = (vec![0.0; y.ncols()], vec![0.0; y.ncols()]);
    for row in y.rows() {
        for (j, &v) in row.iter().enumerate() {
            if !v.is_nan() {
                pos[j] += v;
                n[j] += 1.0;
            }
        }
    }
    (pos, n)
}

/// (pos + s·p̄) / (n + s) per target, p̄ the overall active rate.
fn smoothed_prior(y: &Matrix, smoothing: f64) -> Vec<f64> {
    let (pos, n) = counts(y);
    let (total_pos, total_n) = (pos.iter().sum::<f64>(), n.iter().sum::<f64>());
    let overall = if total_n > 0.0 { total_pos / total_n } else { 0.0 };
    pos.iter()
        .zip(&n)
        .map(|(&p, &m)| if m + smoothing > 0.0 { (p + smoothing * overall) / (m + smoothing) } else { overall })
        .collect()
}

/// Tanimoto similarity of each query row to each library row (0 when either has no fingerprint).
fn similarities(features: &Features, queries: &[usize], library: &[usize]) -> Vec<Vec<f64>> {
    queries
        .par_iter()
        .map(|&q| match &features.morgan[q] {
            None => vec![0.0; library.len()],
            Some(a) => {
                library.iter().map(|&l| features.morgan[l].as_ref().map_or(0.0, |b| tanimoto_bits(a, b))).collect()
            }
        })
        .collect()
}

fn broadcast(rows: usize, profile: &[f64]) -> Matrix {
    let mut out = Matrix::filled(rows, profile.len(), 0.0);
    for i in 0..rows {
        out.row_mut(i).copy_from_slice(profile);
    }
    out
}

/// The gene prior: each target's active rate among the training compounds measured on it, with
/// `smoothing` pseudo-measurements at the overall rate (0 = the raw rate).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenePrior {
    pub smoothing: f64,
}

struct FittedProfile(Vec<f64>);

impl Fitted for FittedProfile {
    fn predict(&self, _features: &Features, rows: &[usize]) -> Matrix {
        broadcast(rows.len(), &self.0)
    }
}

impl Predictor for GenePrior {
    fn name(&self) -> String {
        format!("gene_prior_s{}", self.smoothing)
    }

    fn notes(&self) -> Vec<String> {
        let by = if self.smoothing == 1.0 {
            "one pseudo-compound".to_string()
        } else {
            format!("{} pseudo-compounds", self.smoothing)
        };
        vec![format!(
            "- `{}`: how often the gene is active among training compounds, smoothed towards the overall rate by {by}.",
            self.name()
        )]
    }

    fn fit(&self, _features: &Features, rows: &[usize], y: &Matrix) -> Result<Box<dyn Fitted>, ModelError> {
        if rows.is_empty() {
            return Err(ModelError::NoRows);
        }
        if !(self.smoothing.is_finite() && self.smoothing >= 0.0) {
            return Err(ModelError::Parameter(format!("smoothing must be ≥ 0, got {}", self.smoothing)));
        }
        Ok(Box::new(FittedProfile(smoothed_prior(y, self.smoothing))))
    }
}

/// How the similarities of a query to a target's actives become one score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ActiveStat {
    Max,
    /// Mean of the k largest (fewer when the target has fewer actives).
    TopMean(usize),
    /// SEA: the sum of similarities ≥ `threshold` to the target's n actives, as a z-score against
    /// random compound sets of size n (mean n·m, standard deviation √n·s, with m and s the mean
    /// and spread of the thresholded similarity between random training pairs).
    Sea {
        threshold: f64,
    },
}

/// Similarity of the query to the known actives of each target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActiveSimilarity {
    pub stat: ActiveStat,
}

struct FittedActiveSimilarity {
    stat: ActiveStat,
    library: Vec<usize>,
    /// Library positions of each target's actives.
    actives: Vec<Vec<usize>>,
    prior: Vec<f64>,
    /// SEA's per-pair background (mean, standard deviation).
    background: (f64, f64),
}

impl Predictor for ActiveSimilarity {
    fn name(&self) -> String {
        match self.stat {
            ActiveStat::Max => "active_sim_max".into(),
            ActiveStat::TopMean(k) => format!("active_sim_top{k}"),
            ActiveStat::Sea { threshold } => format!("sea_t{threshold}"),
        }
    }

    fn notes(&self) -> Vec<String> {
        let own = match self.stat {
            ActiveStat::Max => format!(
                "- `{}`: the highest Tanimoto similarity (Morgan r2/2048 bits) of the compound to the gene's known actives; a gene without actives scores 0.",
                self.name()
            ),
            ActiveStat::TopMean(k) => format!(
                "- `{}`: the mean of the {k} highest Tanimoto similarities (Morgan r2/2048 bits) of the compound to the gene's known actives; a gene without actives scores 0.",
                self.name()
            ),
            ActiveStat::Sea { threshold } => format!(
                "- `{}`: the similarity-ensemble idea — the summed similarities above {threshold} to the gene's actives, as a z-score against what a random set of that many training compounds would score.",
                self.name()
            ),
        };
        vec![own, TIE_BREAK_NOTE.into()]
    }

    fn fit(&self, features: &Features, rows: &[usize], y: &Matrix) -> Result<Box<dyn Fitted>, ModelError> {
        if rows.is_empty() {
            return Err(ModelError::NoRows);
        }
        let actives = (0..y.ncols()).map(|j| (0..rows.len()).filter(|&i| y.get(i, j) == 1.0).collect()).collect();
        let background = match self.stat {
            ActiveStat::TopMean(0) => return Err(ModelError::Parameter("top-k needs k ≥ 1".into())),
            ActiveStat::Sea { threshold } => {
                // Every distinct pair of training compounds.
                let sims = similarities(features, rows, rows);
                let mut values = Vec::with_capacity(rows.len() * rows.len() / 2);
                for (i, row) in sims.iter().enumerate() {
                    values.extend(row[i + 1..].iter().map(|&t| if t >= threshold { t } else { 0.0 }));
                }
                let n = values.len().max(1) as f64;
                let m = values.iter().sum::<f64>() / n;
                let sd = (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n).sqrt();
                (m, if sd > 0.0 { sd } else { 1.0 })
            }
            _ => (0.0, 1.0),
        };
        Ok(Box::new(FittedActiveSimilarity {
            stat: self.stat,
            library: rows.to_vec(),
            actives,
            prior: smoothed_prior(y, 1.0),
            background,
        }))
    }
}

impl Fitted for FittedActiveSimilarity {
    fn predict(&self, features: &Features, rows: &[usize]) -> Matrix {
        let sims = similarities(features, rows, &self.library);
        let mut out = Matrix::filled(rows.len(), self.actives.len(), 0.0);
        let mut buf = Vec::new();
        for (i, s) in sims.iter().enumerate() {
            for (j, cell) in out.row_mut(i).iter_mut().enumerate() {
                buf.clear();
                buf.extend(self.actives[j].iter().map(|&a| s[a]));
                let score = match self.stat {
                    ActiveStat::Max => buf.iter().copied().fold(0.0, f64::max),
                    ActiveStat::TopMean(k) => {
                        buf.sort_by(|a, b| b.total_cmp(a));
                        let top = &buf[..k.min(buf.len())];
                        if top.is_empty() {
                            0.0
                        } else {
                            top.iter().sum::<f64>() / top.len() as f64
                        }
                    }
                    ActiveStat::Sea { threshold } => {
                        // A target without actives scores as one dissimilar active would.
                        let n = buf.len().max(1) as f64;
                        let raw: f64 = buf.iter().filter(|&&t| t >= threshold).sum();
                        let (m, sd) = self.background;
                        (raw - n * m) / (n.sqrt() * sd)
                    }
                };
                *cell = score + TIE_BREAK * self.prior[j];
            }
        }
        out
    }
}

/// Similarity-weighted vote of the k nearest training compounds (similarity > 0) on each target;
/// a pair the neighbour was not measured on counts as inactive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelPropagation {
    pub k: usize,
}

struct FittedPropagation {
    k: usize,
    library: Vec<usize>,
    y: Matrix,
    prior: Vec<f64>,
}

impl Predictor for LabelPropagation {
    fn name(&self) -> String {
        format!("label_prop_k{}", self.k)
    }

    fn notes(&self) -> Vec<String> {
        vec![
            format!(
                "- `{}`: similarity-weighted vote of the {} most similar training compounds on each gene (a gene the neighbour was not measured on counts as inactive).",
                self.name(),
                self.k
            ),
            TIE_BREAK_NOTE.into(),
        ]
    }

    fn fit(&self, _features: &Features, rows: &[usize], y: &Matrix) -> Result<Box<dyn Fitted>, ModelError> {
        if rows.is_empty() {
            return Err(ModelError::NoRows);
        }
        if self.k == 0 {
            return Err(ModelError::Parameter("k must be at least 1".into()));
        }
        Ok(Box::new(FittedPropagation {
            k: self.k,
            library: rows.to_vec(),
            y: y.clone(),
            prior: smoothed_prior(y, 1.0),
        }))
    }
}

impl Fitted for FittedPropagation {
    fn predict(&self, features: &Features, rows: &[usize]) -> Matrix {
        let sims = similarities(features, rows, &self.library);
        let mut out = Matrix::filled(rows.len(), self.y.ncols(), 0.0);
        for (i, s) in sims.iter().enumerate() {
            // Most similar first; ties keep the earlier training row.
            let mut order: Vec<usize> = (0..s.len()).filter(|&l| s[l] > 0.0).collect();
            order.sort_by(|&a, &b| s[b].total_cmp(&s[a]).then(a.cmp(&b)));
            order.truncate(self.k);
            let wsum: f64 = order.iter().map(|&l| s[l]).sum();
            let row = out.row_mut(i);
            for &l in &order {
                for (cell, &v) in row.iter_mut().zip(self.y.row(l)) {
                    if v == 1.0 {
                        *cell += s[l] / wsum;
                    }
                }
            }
            for (cell, p) in row.iter_mut().zip(&self.prior) {
                *cell += TIE_BREAK * p;
            }
        }
        out
    }
}

/// Logistic regression (L2 penalty `l2` on the standardised member scores, intercept free) on
/// the members' out-of-fold scores from inner folds of the training rows; members are then refit
/// on all rows and their scores combined.
pub struct LogisticStack {
    pub members: Vec<Box<dyn Predictor>>,
    pub inner_folds: usize,
    pub seed: u64,
    pub l2: f64,
}

struct FittedLogistic {
    members: Vec<Box<dyn Fitted>>,
    /// Per member: centre and scale of its scores.
    scaling: Vec<(f64, f64)>,
    /// Intercept, then one weight per member.
    weights: Vec<f64>,
}

impl Predictor for LogisticStack {
    fn name(&self) -> String {
        let names: Vec<String> = self.members.iter().map(|m| m.name()).collect();
        format!("logistic({})", names.join("+"))
    }

    fn notes(&self) -> Vec<String> {
        let own = format!(
            "- `logistic(…)`: L2-penalised logistic regression (λ = {}, scikit-learn's `C = {}`) on the standardised member scores, fit on out-of-fold member scores from inner folds of each training fold.",
            self.l2,
            1.0 / self.l2
        );
        std::iter::once(own).chain(self.members.iter().flat_map(|m| m.notes())).collect()
    }

    fn fit(&self, features: &Features, rows: &[usize], y: &Matrix) -> Result<Box<dyn Fitted>, ModelError> {
        if self.members.is_empty() {
            return Err(ModelError::Parameter("a stack needs members".into()));
        }
        if y.as_slice().iter().any(|v| !(v.is_nan() || *v == 0.0 || *v == 1.0)) {
            return Err(ModelError::Parameter("logistic stacking needs 0/1 labels".into()));
        }
        let Some((fold_of, folds)) = inner_folds(features, rows, self.inner_folds, self.seed) else {
            return Err(ModelError::Parameter("too few training compounds for inner folds".into()));
        };
        let oof = self
            .members
            .iter()
            .map(|m| out_of_fold(m.as_ref(), features, rows, y, &fold_of, folds))
            .collect::<Result<Vec<_>, _>>()?;
        let cells: Vec<usize> = (0..y.as_slice().len()).filter(|&c| !y.as_slice()[c].is_nan()).collect();
        let scaling: Vec<(f64, f64)> = oof
            .iter()
            .map(|p| {
                let v: Vec<f64> = cells.iter().map(|&c| p.as_slice()[c]).collect();
                let m = v.iter().sum::<f64>() / v.len().max(1) as f64;
                let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len().max(1) as f64).sqrt();
                (m, if sd > 0.0 { sd } else { 1.0 })
            })
            .collect();
        let x: Vec<Vec<f64>> = cells
            .iter()
            .map(|&c| oof.iter().zip(&scaling).map(|(p, (m, sd))| (p.as_slice()[c] - m) / sd).collect())
            .collect();
        let labels: Vec<f64> = cells.iter().map(|&c| y.as_slice()[c]).collect();
        let weights = logistic_regression(&x, &labels, self.l2);
        let members = self.members.iter().map(|m| m.fit(features, rows, y)).collect::<Result<Vec<_>, _>>()?;
        Ok(Box::new(FittedLogistic { members, scaling, weights }))
    }
}

impl Fitted for FittedLogistic {
    fn predict(&self, features: &Features, rows: &[usize]) -> Matrix {
        let preds: Vec<Matrix> = self.members.iter().map(|m| m.predict(features, rows)).collect();
        let mut out = Matrix::filled(rows.len(), preds[0].ncols(), 0.0);
        for (c, cell) in out.as_mut_slice().iter_mut().enumerate() {
            let z = self.weights[0]
                + preds
                    .iter()
                    .zip(&self.scaling)
                    .zip(&self.weights[1..])
                    .map(|((p, (m, sd)), w)| w * (p.as_slice()[c] - m) / sd)
                    .sum::<f64>();
            *cell = 1.0 / (1.0 + (-z).exp());
        }
        out
    }

    fn describe(&self) -> Option<String> {
        let w: Vec<String> = self.weights[1..].iter().map(|w| format!("{w:.3}")).collect();
        Some(format!("weights on standardised scores {}", w.join("/")))
    }
}

/// Newton–Raphson (IRLS) for L2-penalised logistic regression with a free intercept; returns
/// [intercept, weights…]. Stops when the step is below 1e-10 or after 50 iterations.
pub fn logistic_regression(x: &[Vec<f64>], y: &[f64], l2: f64) -> Vec<f64> {
    crate::linalg::fixed_parallelism();
    let d = x.first().map_or(0, Vec::len) + 1;
    let design = Mat::<f64>::from_fn(y.len(), d, |i, k| if k == 0 { 1.0 } else { x[i][k - 1] });
    let mut w = Mat::<f64>::zeros(d, 1);
    for _ in 0..50 {
        let z = &design * &w;
        let p: Vec<f64> = (0..y.len()).map(|i| 1.0 / (1.0 + (-z[(i, 0)]).exp())).collect();
        let weighted = Mat::<f64>::from_fn(y.len(), d, |i, k| (p[i] * (1.0 - p[i])).max(1e-12) * design[(i, k)]);
        let residual = Mat::<f64>::from_fn(y.len(), 1, |i, _| y[i] - p[i]);
        let mut grad = design.transpose() * &residual;
        let mut hess = design.transpose() * &weighted;
        for k in 1..d {
            grad[(k, 0)] -= l2 * w[(k, 0)];
            hess[(k, k)] += l2;
        }
        hess[(0, 0)] += 1e-9; // keeps an all-one-class fit solvable
        let step = hess.partial_piv_lu().solve(&grad);
        let size = (0..d).map(|k| step[(k, 0)].abs()).fold(0.0, f64::max);
        if !size.is_finite() {
            return vec![0.0; d];
        }
        w += &step;
        if size < 1e-10 {
            break;
        }
    }
    (0..d).map(|k| w[(k, 0)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAN: f64 = f64::NAN;

    #[test]
    fn gene_prior_shrinks_towards_the_overall_rate() {
        let f = Features::empty(3);
        let y = Matrix::from_rows(&[[1.0, 0.0, NAN], [1.0, NAN, NAN]]).unwrap();
        // Overall rate 2/3. Raw: 1, 0, (never measured) 2/3. With s = 1: 2.667/3, 0.667/2, 2/3.
        let raw = GenePrior { smoothing: 0.0 }.fit(&f, &[0, 1], &y).unwrap().predict(&f, &[2]);
        assert_eq!(raw.row(0), &[1.0, 0.0, 2.0 / 3.0]);
        let s = GenePrior { smoothing: 1.0 }.fit(&f, &[0, 1], &y).unwrap().predict(&f, &[2]);
        let want = [(2.0 + 2.0 / 3.0) / 3.0, (2.0 / 3.0) / 2.0, 2.0 / 3.0];
        assert!(s.row(0).iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-15), "{:?}", s.row(0));
    }

    #[test]
    fn similarity_to_actives_max_topk_and_sea() {
        // Library: row 0 and 1 active on target 0, row 2 active on target 1. Query row 3.
        let f = Features::from_bits(&[&[1, 2, 3, 4], &[1, 2, 9], &[20, 21], &[1, 2, 3]]);
        let y = Matrix::from_rows(&[[1.0, 0.0], [1.0, NAN], [0.0, 1.0]]).unwrap();
        let fit = |stat| ActiveSimilarity { stat }.fit(&f, &[0, 1, 2], &y).unwrap().predict(&f, &[3]);
        // Tanimoto to row 0: 3/4, to row 1: 2/4, to row 2: 0.
        let max = fit(ActiveStat::Max);
        assert!((max.get(0, 0) - 0.75).abs() < 1e-5 && max.get(0, 1) < 1e-5);
        let top2 = fit(ActiveStat::TopMean(2));
        assert!((top2.get(0, 0) - 0.625).abs() < 1e-5);
        // SEA background over the 3 library pairs: similarities 2/5, 0, 0 → mean 2/15, sd.
        let (m, sd) = (2.0 / 15.0, ((2.0f64 / 5.0 - 2.0 / 15.0).powi(2) + 2.0 * (2.0f64 / 15.0).powi(2)) / 3.0);
        let sd = sd.sqrt();
        let sea = fit(ActiveStat::Sea { threshold: 0.3 });
        let want0 = (1.25 - 2.0 * m) / (2f64.sqrt() * sd);
        assert!((sea.get(0, 0) - want0).abs() < 1e-5, "{} vs {want0}", sea.get(0, 0));
        assert!(sea.get(0, 1) < sea.get(0, 0));
    }

    #[test]
    fn label_propagation_counts_unmeasured_pairs_as_inactive() {
        let f = Features::from_bits(&[&[1, 2, 3, 4], &[1, 2, 9], &[20, 21], &[1, 2, 3]]);
        let y = Matrix::from_rows(&[[1.0, NAN], [0.0, 1.0], [1.0, 1.0]]).unwrap();
        let p = LabelPropagation { k: 2 }.fit(&f, &[0, 1, 2], &y).unwrap().predict(&f, &[3]);
        // Neighbours: row 0 (3/4) and row 1 (2/4); row 2 shares nothing.
        assert!((p.get(0, 0) - 0.6).abs() < 1e-5 && (p.get(0, 1) - 0.4).abs() < 1e-5, "{:?}", p.row(0));
    }

    #[test]
    fn logistic_regression_recovers_a_known_model() {
        // Labels drawn from p = σ(0.5 + 2x₁ − x₂) on a grid: the fit lands near the truth.
        let mut x = Vec::new();
        let mut y = Vec::new();
        let mut rng = cellcast_stats::rng::SplitMix64::new(3);
        for _ in 0..4000 {
            let (a, b) = (rng.normal(), rng.normal());
            let p = 1.0 / (1.0 + (-(0.5 + 2.0 * a - b)).exp());
            x.push(vec![a, b]);
            y.push(f64::from(u8::from(rng.uniform() < p)));
        }
        let w = logistic_regression(&x, &y, 0.0);
        assert!((w[0] - 0.5).abs() < 0.15 && (w[1] - 2.0).abs() < 0.2 && (w[2] + 1.0).abs() < 0.15, "{w:?}");
    }
}
