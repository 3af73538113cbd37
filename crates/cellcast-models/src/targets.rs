//! Target identification: given a group of perturbed cells, which gene was perturbed?
//!
//! Two families of rankers:
//!
//! - **Differential expression** ([`de_target_ranking`]): every measured gene scored by a
//!   statistic of [`crate::target_statistics`] (Wilcoxon z, Welch t, mean shift, detection, …)
//!   against the controls, direction-aware — a CRISPRi or knockout target should drop, a CRISPRa
//!   target rise. Needs no training data, but can only find targets that are among the measured
//!   genes.
//! - **Reference-based** ([`ConditionRanker`]): learn from labelled cells of known perturbations
//!   and score each known condition for a new group — `pca_knn` (k nearest training cells in PCA
//!   space, class frequencies averaged over the group: the reference table's baseline),
//!   `pca_forest` and `pca_boosting` (a random forest and gradient-boosted trees on the PCA
//!   scores, the reference table's other baselines),
//!   `pca_centroid` (distance of the group's mean to each condition's mean in PCA space) and
//!   `signature` (Pearson correlation of the group's shift from the controls with each
//!   condition's). A gene's score is the best score of the conditions naming it (`A+B` names A
//!   and B), so these rank perturbed genes whether or not they are measured.

use std::collections::BTreeSet;

use cellcast_stats::de::CellsByGenes;
use cellcast_stats::Matrix;

use crate::boosting::{BoostingParams, GradientBoosting};
use crate::forest::{ForestParams, RandomForest};
use crate::pca::{column_means, Pca};
use crate::target_statistics::{statistic_by_group, statistics_by_group, TargetStatistic};
use crate::ModelError;

/// Which way a perturbation moves its target's expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// CRISPRi, knockout, knockdown: the target drops.
    Down,
    /// CRISPRa, overexpression: the target rises.
    Up,
    /// Unknown: any large change.
    Both,
}

impl Direction {
    /// `down`, `up` or `both`, as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Down => "down",
            Direction::Up => "up",
            Direction::Both => "both",
        }
    }
}

/// Scores (groups × genes, higher = more likely the target) from signed statistics against the
/// controls (e.g. [`statistic_by_group`]'s). A gene whose statistic is not finite (undefined, or
/// infinite because both groups are constant) ranks below every gene with a statistic.
pub fn de_target_scores(statistics: &Matrix, direction: Direction) -> Matrix {
    let mut out = statistics.clone();
    for g in 0..out.nrows() {
        let row = out.row_mut(g);
        for v in row.iter_mut() {
            *v = match direction {
                Direction::Down => -*v,
                Direction::Up => *v,
                Direction::Both => v.abs(),
            };
        }
        let floor = row.iter().copied().filter(|v| v.is_finite()).fold(f64::INFINITY, f64::min);
        let floor = if floor.is_finite() { floor - 1.0 } else { 0.0 };
        for v in row.iter_mut() {
            if !v.is_finite() {
                *v = floor;
            }
        }
    }
    out
}

/// DE-based target scores of every group of cells against the controls: the statistic of each
/// gene ([`statistic_by_group`]), turned by [`de_target_scores`] for the direction and, with
/// `specific`, by [`specific_target_scores`]. Groups of a single cell are ranked too. Returns
/// the tested groups (every group but the control, ascending) and their scores (groups × genes,
/// higher = more likely the target).
pub fn de_target_ranking<X: CellsByGenes>(
    x: &X,
    cell_groups: &[Option<usize>],
    control: usize,
    ranker: DeRanker,
) -> Result<(Vec<usize>, Matrix), ModelError> {
    let (groups, statistics) = statistic_by_group(x, cell_groups, control, ranker.statistic)?;
    let scores = de_target_scores(&statistics, ranker.direction);
    Ok((groups, if ranker.specific { specific_target_scores(&scores) } else { scores }))
}

/// [`de_target_ranking`] for several rankers on the same cells, one score matrix each in the
/// order given: each statistic is computed once (and the rank-sum z once for all of them), each
/// direction applied once per statistic.
pub fn de_target_rankings<X: CellsByGenes>(
    x: &X,
    cell_groups: &[Option<usize>],
    control: usize,
    rankers: &[DeRanker],
) -> Result<(Vec<usize>, Vec<Matrix>), ModelError> {
    let mut statistics: Vec<&'static TargetStatistic> = Vec::new();
    for r in rankers {
        if !statistics.contains(&r.statistic) {
            statistics.push(r.statistic);
        }
    }
    let (groups, values) = statistics_by_group(x, cell_groups, control, &statistics)?;
    let mut turned: Vec<((&str, Direction), Matrix)> = Vec::new();
    let mut out = Vec::with_capacity(rankers.len());
    for r in rankers {
        let key = (r.statistic.name, r.direction);
        let k = match turned.iter().position(|(k, _)| *k == key) {
            Some(k) => k,
            None => {
                let s = statistics.iter().position(|s| s.name == r.statistic.name).expect("collected above");
                turned.push((key, de_target_scores(&values[s], r.direction)));
                turned.len() - 1
            }
        };
        out.push(if r.specific { specific_target_scores(&turned[k].1) } else { turned[k].1.clone() });
    }
    Ok((groups, out))
}

/// A differential-expression target ranker: the statistic, the direction it is turned by, and
/// whether it is made specific ([`specific_target_scores`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeRanker {
    pub statistic: &'static TargetStatistic,
    pub direction: Direction,
    pub specific: bool,
}

impl DeRanker {
    /// `de_<statistic>_<direction>[_specific]`, e.g. `de_wilcoxon_down_specific`.
    pub fn name(&self) -> String {
        format!("de_{}_{}{}", self.statistic.name, self.direction.name(), if self.specific { "_specific" } else { "" })
    }
}

/// Chooses a DE ranker for a screen by held-out evaluation on its own labelled cells: every
/// candidate ranks held-out groups of the conditions whose labels name measured genes (against
/// the other fold's controls, [`cross_validate_de`]). The first candidate is the fallback; the
/// candidate with the highest MRR replaces it only when it is better beyond chance: the 5 %
/// quantile of its per-condition MRR difference from the fallback, over
/// [`AUTO_RESAMPLES`] bootstrap resamples of the conditions, is above 0. Small differences on a
/// few conditions are mostly noise, and a choice made on noise loses on the next screen. A
/// screen with fewer than `min_conditions` such conditions (each with two cells or more) is
/// ranked by the fallback without evaluating.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoDe {
    /// The rankers to choose from, the fallback first.
    pub candidates: Vec<DeRanker>,
    pub min_conditions: usize,
    /// Folds of the held-out evaluation.
    pub folds: usize,
}

/// What [`AutoDe::choose`] chose, and on what evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoChoice {
    pub ranker: DeRanker,
    /// Conditions whose labels name a measured gene (and that have two cells or more).
    pub labelled_conditions: usize,
    /// Every candidate's held-out scores, in candidate order; empty when the fallback was taken
    /// without evaluating.
    pub scores: Vec<RankerScore>,
}

impl AutoDe {
    /// The default choice: every statistic of [`crate::target_statistics::STATISTICS`], plain and
    /// specific, with `fallback` first; at least 5 labelled conditions; 2 folds.
    pub fn new(direction: Direction, fallback: DeRanker) -> Self {
        let mut candidates = vec![fallback];
        for statistic in crate::target_statistics::STATISTICS {
            for specific in [false, true] {
                let r = DeRanker { statistic, direction, specific };
                if !candidates.contains(&r) {
                    candidates.push(r);
                }
            }
        }
        AutoDe { candidates, min_conditions: 5, folds: 2 }
    }

    /// Chooses for a labelled screen (cells × `genes`, normalised; `labels` per cell).
    pub fn choose<X: CellsByGenes>(
        &self,
        x: &X,
        genes: &[String],
        labels: &[&str],
        control: &str,
        group_size: GroupSize,
        seed: u64,
    ) -> Result<AutoChoice, ModelError> {
        let fallback = *self.candidates.first().ok_or_else(|| ModelError::Parameter("no candidate rankers".into()))?;
        let measured: std::collections::HashSet<&str> = genes.iter().map(String::as_str).collect();
        let mut sizes: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        for l in labels {
            *sizes.entry(l).or_default() += 1;
        }
        let labelled_conditions = sizes
            .iter()
            .filter(|&(c, &n)| *c != control && n >= 2 && condition_genes(c).any(|g| measured.contains(g.as_str())))
            .count();
        let fallen = AutoChoice { ranker: fallback, labelled_conditions, scores: Vec::new() };
        if labelled_conditions < self.min_conditions || !sizes.contains_key(control) {
            return Ok(fallen);
        }
        let cv = CvOptions { folds: self.folds, group_size, seed };
        let scores = cross_validate_de(x, genes, labels, control, &self.candidates, cv)?;
        if scores[0].groups == 0 {
            return Ok(fallen);
        }
        let best = (0..scores.len()).fold(0, |best, k| if scores[k].mrr > scores[best].mrr { k } else { best });
        let (a, b) = paired_condition_means(&scores[best], &scores[0]);
        let chosen = if best > 0 && lower_bound(&a, &b, seed) > 0.0 { best } else { 0 };
        Ok(AutoChoice { ranker: self.candidates[chosen], labelled_conditions, scores })
    }
}

/// Bootstrap resamples of [`AutoDe`]'s test.
pub const AUTO_RESAMPLES: usize = 1000;

/// The 5 % quantile of the mean of `a − b` over bootstrap resamples of the pairs.
fn lower_bound(a: &[f64], b: &[f64], seed: u64) -> f64 {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    if d.is_empty() {
        return f64::NAN;
    }
    let mut rng = cellcast_stats::rng::SplitMix64::new(seed);
    let n = d.len();
    let mut means: Vec<f64> =
        (0..AUTO_RESAMPLES).map(|_| (0..n).map(|_| d[rng.below(n as u64) as usize]).sum::<f64>() / n as f64).collect();
    means.sort_by(f64::total_cmp);
    means[AUTO_RESAMPLES / 20]
}

/// Target scores made specific: from each group's score of a gene, the median of the other
/// groups' scores of that gene is subtracted. A gene that moves in every perturbation (a stress
/// or proliferation response) is no one's target; a target moves in its own group only. With
/// fewer than three groups there is no "usual" response to learn and the scores are returned
/// as they are.
pub fn specific_target_scores(scores: &Matrix) -> Matrix {
    let groups = scores.nrows();
    if groups < 3 {
        return scores.clone();
    }
    let mut out = scores.clone();
    // The column sorted once; the median of the others is read around each group's own rank.
    let mut order: Vec<usize> = Vec::with_capacity(groups);
    let mut rank = vec![0usize; groups];
    for j in 0..scores.ncols() {
        order.clear();
        order.extend(0..groups);
        order.sort_by(|&a, &b| scores.get(a, j).total_cmp(&scores.get(b, j)).then(a.cmp(&b)));
        for (r, &g) in order.iter().enumerate() {
            rank[g] = r;
        }
        // The k-th smallest of the others: skip the group's own position.
        let kth_other = |k: usize, own: usize| scores.get(order[if k < own { k } else { k + 1 }], j);
        let n = groups - 1;
        for (g, &own) in rank.iter().enumerate() {
            let median = if n % 2 == 1 {
                kth_other(n / 2, own)
            } else {
                0.5 * (kth_other(n / 2 - 1, own) + kth_other(n / 2, own))
            };
            out.set(g, j, scores.get(g, j) - median);
        }
    }
    out
}

/// A reference-based ranker of known conditions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConditionRanker {
    PcaKnn {
        components: usize,
        k: usize,
    },
    /// A random forest on the PCA scores of the perturbed cells; a group's score of a condition
    /// is the mean of its cells' class probabilities.
    PcaForest {
        components: usize,
        trees: usize,
        seed: u64,
    },
    /// Gradient-boosted trees (softmax, XGBoost-style histogram splits) on the same PCA scores.
    PcaBoosting {
        components: usize,
        rounds: usize,
    },
    PcaCentroid {
        components: usize,
    },
    Signature,
}

impl ConditionRanker {
    pub fn name(&self) -> String {
        match self {
            Self::PcaKnn { components, k } => format!("pca{components}_knn{k}"),
            Self::PcaForest { components, trees, .. } => format!("pca{components}_forest{trees}"),
            Self::PcaBoosting { components, rounds } => format!("pca{components}_boosting{rounds}"),
            Self::PcaCentroid { components } => format!("pca{components}_centroid"),
            Self::Signature => "signature".into(),
        }
    }

    /// Fits on labelled cells (cells × genes, log-normalised) with their condition labels;
    /// cells labelled `control` are the reference.
    pub fn fit(&self, x: &Matrix, labels: &[&str], control: &str) -> Result<FittedConditionRanker, ModelError> {
        if labels.len() != x.nrows() {
            return Err(ModelError::Parameter(format!("{} labels for {} cells", labels.len(), x.nrows())));
        }
        let conditions: Vec<String> = labels
            .iter()
            .filter(|l| **l != control)
            .map(|l| l.to_string())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if conditions.is_empty() {
            return Err(ModelError::Parameter("no perturbed cells to learn from".into()));
        }
        let class_of = |l: &str| conditions.binary_search_by(|c| c.as_str().cmp(l)).ok();
        let controls: Vec<usize> = (0..x.nrows()).filter(|&i| labels[i] == control).collect();
        if controls.is_empty() {
            return Err(ModelError::Parameter(format!("no control cells labelled '{control}'")));
        }
        let classes: Vec<Option<usize>> = labels.iter().map(|l| class_of(l)).collect();
        let control_mean = column_means(&x.select_rows(&controls));
        let space = match *self {
            Self::PcaKnn { components, .. }
            | Self::PcaForest { components, .. }
            | Self::PcaBoosting { components, .. }
            | Self::PcaCentroid { components } => {
                let k = components.min(x.ncols()).min(x.nrows().saturating_sub(1));
                let pca = Pca::fit(x, k).map_err(|e| ModelError::Parameter(e.to_string()))?;
                let scores = pca.transform(x);
                Space::Pca(pca, scores)
            }
            Self::Signature => Space::Genes,
        };
        let embedded = match &space {
            Space::Pca(_, scores) => scores,
            Space::Genes => x,
        };
        // Per-condition means in the ranker's space (for signatures: minus the control mean).
        let mut means = Matrix::filled(conditions.len(), embedded.ncols(), 0.0);
        let mut counts = vec![0usize; conditions.len()];
        for (i, c) in classes.iter().enumerate() {
            if let Some(c) = *c {
                counts[c] += 1;
                for (m, v) in means.row_mut(c).iter_mut().zip(embedded.row(i)) {
                    *m += v;
                }
            }
        }
        for (c, &n) in counts.iter().enumerate() {
            for (j, m) in means.row_mut(c).iter_mut().enumerate() {
                *m /= n as f64;
                if matches!(space, Space::Genes) {
                    *m -= control_mean[j];
                }
            }
        }
        let (cells, cell_classes): (Vec<usize>, Vec<usize>) =
            classes.iter().enumerate().filter_map(|(i, c)| c.map(|c| (i, c))).unzip();
        let reference = embedded.select_rows(&cells);
        let classifier = match *self {
            Self::PcaForest { trees, seed, .. } => {
                let params = ForestParams { trees, seed, ..ForestParams::default() };
                Some(Classifier::Forest(RandomForest::fit(&reference, &cell_classes, conditions.len(), params)?))
            }
            Self::PcaBoosting { rounds, .. } => {
                let params = BoostingParams { rounds, ..BoostingParams::default() };
                Some(Classifier::Boosting(GradientBoosting::fit(&reference, &cell_classes, conditions.len(), params)?))
            }
            _ => None,
        };
        Ok(FittedConditionRanker {
            ranker: *self,
            conditions,
            space,
            means,
            control_mean,
            reference,
            cell_classes,
            classifier,
        })
    }
}

enum Space {
    Pca(Pca, Matrix),
    Genes,
}

/// A fitted reference-based ranker.
pub struct FittedConditionRanker {
    ranker: ConditionRanker,
    /// The known conditions, sorted.
    pub conditions: Vec<String>,
    space: Space,
    /// Condition means in the ranker's space (signature: shifts from the control mean).
    means: Matrix,
    control_mean: Vec<f64>,
    /// Perturbed training cells in the ranker's space, and their conditions (for kNN).
    reference: Matrix,
    cell_classes: Vec<usize>,
    classifier: Option<Classifier>,
}

/// The cell classifiers of the tree rankers.
enum Classifier {
    Forest(RandomForest),
    Boosting(GradientBoosting),
}

impl Classifier {
    fn predict_proba(&self, row: &[f64]) -> Vec<f64> {
        match self {
            Classifier::Forest(f) => f.predict_proba(row),
            Classifier::Boosting(b) => b.predict_proba(row),
        }
    }
}

impl FittedConditionRanker {
    /// One score per known condition (higher = more likely) for a group of cells (cells × genes).
    pub fn score_group(&self, cells: &Matrix) -> Vec<f64> {
        let embedded = match &self.space {
            Space::Pca(pca, _) => pca.transform(cells),
            Space::Genes => cells.clone(),
        };
        let mean = column_means(&embedded);
        match self.ranker {
            ConditionRanker::PcaKnn { k, .. } => {
                let mut votes = vec![0.0; self.conditions.len()];
                let k = k.min(self.reference.nrows()).max(1);
                let mut order: Vec<(f64, usize)> = Vec::with_capacity(self.reference.nrows());
                for cell in embedded.rows() {
                    order.clear();
                    order.extend(self.reference.rows().enumerate().map(|(r, row)| (squared_distance(cell, row), r)));
                    order.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    for &(_, r) in &order[..k] {
                        votes[self.cell_classes[r]] += 1.0 / (k * embedded.nrows()) as f64;
                    }
                }
                votes
            }
            ConditionRanker::PcaForest { .. } | ConditionRanker::PcaBoosting { .. } => {
                let classifier = self.classifier.as_ref().expect("fitted with the ranker");
                let mut p = vec![0.0; self.conditions.len()];
                for cell in embedded.rows() {
                    for (a, b) in p.iter_mut().zip(classifier.predict_proba(cell)) {
                        *a += b / embedded.nrows() as f64;
                    }
                }
                p
            }
            ConditionRanker::PcaCentroid { .. } => {
                self.means.rows().map(|centroid| -squared_distance(&mean, centroid).sqrt()).collect()
            }
            ConditionRanker::Signature => {
                let shift: Vec<f64> = mean.iter().zip(&self.control_mean).map(|(m, c)| m - c).collect();
                // A constant shift or signature has no correlation: score it 0 (no evidence).
                self.means
                    .rows()
                    .map(|signature| {
                        let r = cellcast_stats::correlation::pearson(&shift, signature);
                        if r.is_nan() {
                            0.0
                        } else {
                            r
                        }
                    })
                    .collect()
            }
        }
    }

    /// Genes named by the known conditions (`A+B` names A and B), sorted.
    pub fn candidate_genes(&self) -> Vec<String> {
        self.conditions.iter().flat_map(|c| condition_genes(c)).collect::<BTreeSet<_>>().into_iter().collect()
    }

    /// Gene scores from condition scores: each gene gets the best score of the conditions naming
    /// it, in the order of [`Self::candidate_genes`].
    pub fn gene_scores(&self, condition_scores: &[f64]) -> Vec<f64> {
        self.candidate_genes()
            .iter()
            .map(|g| {
                self.conditions
                    .iter()
                    .zip(condition_scores)
                    .filter(|(c, _)| condition_genes(c).any(|x| &x == g))
                    .map(|(_, s)| *s)
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .collect()
    }
}

/// The average of score vectors, each standardised to mean 0 and sd 1 (a constant vector
/// contributes nothing).
pub fn consensus(score_vectors: impl Iterator<Item = Vec<f64>>) -> Vec<f64> {
    let mut total: Vec<f64> = Vec::new();
    let mut n = 0.0;
    for v in score_vectors {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        total.resize(v.len(), 0.0);
        for (t, x) in total.iter_mut().zip(&v) {
            *t += if sd > 0.0 { (x - mean) / sd } else { 0.0 };
        }
        n += 1.0;
    }
    total.iter().map(|t| t / n).collect()
}

/// The genes a condition label names: `KLF1+MAP2K6` → KLF1, MAP2K6 (`ctrl` tokens dropped).
pub fn condition_genes(condition: &str) -> impl Iterator<Item = String> + '_ {
    condition.split('+').map(str::trim).filter(|g| !g.is_empty() && *g != "ctrl").map(str::to_string)
}

fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum()
}

/// The reciprocal rank of the best-ranked true gene (ranking by score descending, ties by
/// candidate order, as `ranking/mrr` does); `None` when no true gene is a candidate.
pub fn reciprocal_rank(scores: &[f64], candidates: &[String], truth: &[String]) -> Option<f64> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order.iter().position(|&i| truth.contains(&candidates[i])).map(|p| 1.0 / (p + 1) as f64)
}

/// How [`cross_validate_rankers`] holds cells out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CvOptions {
    pub folds: usize,
    pub group_size: GroupSize,
    pub seed: u64,
}

/// The held-out groups [`cross_validate_rankers`] ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupSize {
    /// Groups of this many consecutive held-out cells of one condition (1: single cells).
    Cells(usize),
    /// Every held-out cell of a condition in a fold as one group: the condition as a whole.
    Whole,
}

impl std::fmt::Display for GroupSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GroupSize::Cells(n) => write!(f, "{n}"),
            GroupSize::Whole => f.write_str("all"),
        }
    }
}

/// A ranker that [`cross_validate_rankers`] evaluates.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetRanker {
    /// Learned from the labelled cells of the training folds.
    Reference(ConditionRanker),
    /// Differential expression of the held-out group against the training folds' controls
    /// ([`de_target_ranking`]); ranks every measured gene and needs no labels.
    De(DeRanker),
    /// The reference rankers together: each one's condition scores standardised across the
    /// conditions (z-scores), then averaged.
    Consensus(Vec<ConditionRanker>),
    /// A DE ranker chosen per training set by [`AutoDe`] (on the training folds only), then run
    /// as [`TargetRanker::De`].
    Auto(AutoDe),
}

impl TargetRanker {
    pub fn name(&self) -> String {
        match self {
            Self::Reference(r) => r.name(),
            Self::Consensus(_) => "consensus".into(),
            Self::De(r) => r.name(),
            Self::Auto(a) => format!("de_auto_{}", a.candidates.first().map_or("none", |r| r.direction.name())),
        }
    }
}

/// Cross-validated scores of a ranker.
#[derive(Debug, Clone, PartialEq)]
pub struct RankerScore {
    pub ranker: String,
    /// Mean reciprocal rank of the best-ranked true gene over the scored held-out groups.
    pub mrr: f64,
    /// Share of scored groups with a true gene in the top 1, 5 and 10.
    pub hit_at: [f64; 3],
    /// Held-out groups scored.
    pub groups: usize,
    /// Held-out groups skipped because none of their true genes is a candidate of this ranker
    /// (a DE ranker cannot find an unmeasured target; a reference ranker one never trained on).
    pub skipped: usize,
    /// Genes the ranker ranks.
    pub candidates: usize,
    /// Every held-out group in evaluation order (the same for every ranker): its condition and
    /// reciprocal rank (`None` when skipped).
    pub per_group: Vec<(String, Option<f64>)>,
    /// For [`TargetRanker::Auto`]: the ranker it chose in each fold.
    pub chosen: Vec<String>,
}

/// Running sums of reciprocal ranks and hits.
#[derive(Default)]
struct Tally {
    rr: f64,
    hits: [f64; 3],
    groups: usize,
    skipped: usize,
    candidates: usize,
    per_group: Vec<(String, Option<f64>)>,
    chosen: Vec<String>,
}

impl Tally {
    fn add(&mut self, condition: &str, rr: Option<f64>) {
        self.per_group.push((condition.to_string(), rr));
        let Some(rr) = rr else {
            self.skipped += 1;
            return;
        };
        self.rr += rr;
        for (h, k) in self.hits.iter_mut().zip([1.0, 5.0, 10.0]) {
            *h += f64::from(u8::from(1.0 / rr <= k));
        }
        self.groups += 1;
    }

    fn score(self, ranker: String) -> RankerScore {
        let n = self.groups.max(1) as f64;
        RankerScore {
            ranker,
            mrr: self.rr / n,
            hit_at: self.hits.map(|h| h / n),
            groups: self.groups,
            skipped: self.skipped,
            candidates: self.candidates,
            per_group: self.per_group,
            chosen: self.chosen,
        }
    }
}

/// Paired per-condition mean reciprocal ranks of two rankers evaluated on the same groups: for
/// every condition (sorted) with a group both scored, the mean over those groups of each one's
/// reciprocal rank. Cells of a condition are not independent, so comparisons resample
/// conditions, not groups.
pub fn paired_condition_means(a: &RankerScore, b: &RankerScore) -> (Vec<f64>, Vec<f64>) {
    let mut sums: std::collections::BTreeMap<&str, (f64, f64, usize)> = std::collections::BTreeMap::new();
    for ((ca, ra), (_, rb)) in a.per_group.iter().zip(&b.per_group) {
        if let (Some(ra), Some(rb)) = (ra, rb) {
            let e = sums.entry(ca.as_str()).or_default();
            e.0 += ra;
            e.1 += rb;
            e.2 += 1;
        }
    }
    sums.values().map(|&(x, y, n)| (x / n as f64, y / n as f64)).unzip()
}

/// Held-out evaluation of target rankers on one labelled screen (cells × `genes`, normalised):
/// the cells of every condition (and of the controls) are split into `folds` seeded,
/// stratified folds; each fold's perturbed cells, cut into groups of `group_size` consecutive
/// held-out cells of one condition (or, [`GroupSize::Whole`], all of them), are ranked by each
/// ranker fitted on (or, for DE, compared with the controls of) the other folds. Group size 1 is
/// single-cell identification. A group's reciprocal rank is that of its best-ranked true gene
/// (`A+B` names A and B).
pub fn cross_validate_rankers(
    x: &Matrix,
    genes: &[String],
    labels: &[&str],
    control: &str,
    rankers: &[TargetRanker],
    cv: CvOptions,
) -> Result<Vec<RankerScore>, ModelError> {
    let split = Split::new(x.nrows(), genes, x.ncols(), labels, control, cv)?;
    let mut tallies: Vec<Tally> = rankers.iter().map(|_| Tally::default()).collect();
    for f in 0..cv.folds {
        let (train, held) = split.fold(f);
        if held.is_empty() {
            continue;
        }
        // The DE rankers together: their statistics computed once per fold.
        let de: Vec<DeRanker> =
            rankers.iter().filter_map(|r| if let TargetRanker::De(d) = r { Some(*d) } else { None }).collect();
        let mut de_results = split.de_fold(x, &train, &held, &de)?.into_iter();
        for (ranker, tally) in rankers.iter().zip(&mut tallies) {
            match ranker {
                TargetRanker::Reference(_) | TargetRanker::Consensus(_) => {
                    let members = match ranker {
                        TargetRanker::Reference(r) => std::slice::from_ref(r),
                        TargetRanker::Consensus(rs) => rs.as_slice(),
                        _ => unreachable!("matched above"),
                    };
                    let train_x = x.select_rows(&train);
                    let train_labels: Vec<&str> = train.iter().map(|&i| labels[i]).collect();
                    let fitted: Vec<FittedConditionRanker> =
                        members.iter().map(|r| r.fit(&train_x, &train_labels, control)).collect::<Result<_, _>>()?;
                    let candidates = fitted[0].candidate_genes();
                    tally.candidates = candidates.len();
                    for (c, cells) in &held {
                        let truth: Vec<String> = condition_genes(c).collect();
                        let group = x.select_rows(cells);
                        let scores = if fitted.len() == 1 {
                            fitted[0].score_group(&group)
                        } else {
                            consensus(fitted.iter().map(|f| f.score_group(&group)))
                        };
                        tally.add(c, reciprocal_rank(&fitted[0].gene_scores(&scores), &candidates, &truth));
                    }
                }
                TargetRanker::De(_) => split.tally(de_results.next().expect("one result per DE ranker"), tally),
                TargetRanker::Auto(auto) => {
                    // The statistic is chosen on the training folds alone (their own held-out
                    // halves), then ranks this fold's groups.
                    let view = Rows { x, rows: &train };
                    let train_labels: Vec<&str> = train.iter().map(|&i| labels[i]).collect();
                    let choice = auto.choose(&view, genes, &train_labels, control, cv.group_size, cv.seed)?;
                    tally.chosen.push(choice.ranker.name());
                    let mut result = split.de_fold(x, &train, &held, &[choice.ranker])?;
                    split.tally(result.pop().expect("one ranker"), tally);
                }
            }
        }
    }
    Ok(rankers.iter().zip(tallies).map(|(r, t)| t.score(r.name())).collect())
}

/// [`cross_validate_rankers`] for DE rankers only, on any cells × genes matrix (sparse too): the
/// same folds and groups, the same numbers.
pub fn cross_validate_de<X: CellsByGenes>(
    x: &X,
    genes: &[String],
    labels: &[&str],
    control: &str,
    rankers: &[DeRanker],
    cv: CvOptions,
) -> Result<Vec<RankerScore>, ModelError> {
    let split = Split::new(x.n_cells(), genes, x.n_genes(), labels, control, cv)?;
    let mut tallies: Vec<Tally> = rankers.iter().map(|_| Tally::default()).collect();
    for f in 0..cv.folds {
        let (train, held) = split.fold(f);
        if held.is_empty() {
            continue;
        }
        for (result, tally) in split.de_fold(x, &train, &held, rankers)?.into_iter().zip(&mut tallies) {
            split.tally(result, tally);
        }
    }
    Ok(rankers.iter().zip(tallies).map(|(r, t)| t.score(r.name())).collect())
}

/// One DE ranker's results on a fold: each held-out group's condition and reciprocal rank.
type FoldResult<'a> = Vec<(&'a str, Option<f64>)>;

/// The seeded, stratified folds of a labelled screen and the held-out groups of each.
struct Split<'a> {
    genes: &'a [String],
    labels: &'a [&'a str],
    control: &'a str,
    conditions: BTreeSet<&'a str>,
    fold_of: Vec<usize>,
    group_size: GroupSize,
}

impl<'a> Split<'a> {
    fn new(
        cells: usize,
        genes: &'a [String],
        n_genes: usize,
        labels: &'a [&'a str],
        control: &'a str,
        cv: CvOptions,
    ) -> Result<Self, ModelError> {
        let CvOptions { folds, group_size, seed } = cv;
        if folds < 2 || group_size == GroupSize::Cells(0) {
            return Err(ModelError::Parameter(format!(
                "need ≥ 2 folds and groups of ≥ 1 cell (got {folds}, {group_size})"
            )));
        }
        if genes.len() != n_genes || labels.len() != cells {
            return Err(ModelError::Parameter(format!(
                "{cells} cells × {n_genes} genes with {} labels and {} gene names",
                labels.len(),
                genes.len()
            )));
        }
        // Stratified folds: shuffle each condition's cells, deal them round-robin.
        let mut fold_of = vec![0usize; labels.len()];
        let conditions: BTreeSet<&str> = labels.iter().copied().collect();
        let mut rng = cellcast_stats::rng::SplitMix64::new(seed);
        for c in &conditions {
            let mut cells: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == *c).collect();
            rng.shuffle(&mut cells);
            for (k, i) in cells.into_iter().enumerate() {
                fold_of[i] = k % folds;
            }
        }
        Ok(Split { genes, labels, control, conditions, fold_of, group_size })
    }

    /// The training cells of fold `f` and its held-out groups: (condition, cells).
    fn fold(&self, f: usize) -> (Vec<usize>, Vec<(&'a str, Vec<usize>)>) {
        let labels = self.labels;
        let train: Vec<usize> = (0..labels.len()).filter(|&i| self.fold_of[i] != f).collect();
        let held = self
            .conditions
            .iter()
            .filter(|c| **c != self.control)
            .flat_map(|c| {
                let cells: Vec<usize> =
                    (0..labels.len()).filter(|&i| self.fold_of[i] == f && labels[i] == *c).collect();
                match self.group_size {
                    GroupSize::Cells(size) => cells.chunks_exact(size).map(|g| (*c, g.to_vec())).collect::<Vec<_>>(),
                    GroupSize::Whole if cells.is_empty() => Vec::new(),
                    GroupSize::Whole => vec![(*c, cells)],
                }
            })
            .collect();
        (train, held)
    }

    /// Ranks every held-out group of a fold against the fold's training controls, by each
    /// ranker: per ranker, every group's condition and reciprocal rank.
    fn de_fold<X: CellsByGenes>(
        &self,
        x: &X,
        train: &[usize],
        held: &[(&'a str, Vec<usize>)],
        rankers: &[DeRanker],
    ) -> Result<Vec<FoldResult<'a>>, ModelError> {
        if rankers.is_empty() {
            return Ok(Vec::new());
        }
        // The training controls are group 0, held-out group k is group k + 1.
        let mut rows: Vec<usize> = train.iter().copied().filter(|&i| self.labels[i] == self.control).collect();
        let mut groups = vec![Some(0); rows.len()];
        for (k, (_, cells)) in held.iter().enumerate() {
            rows.extend(cells);
            groups.extend(std::iter::repeat_n(Some(k + 1), cells.len()));
        }
        let (tested, scores) = de_target_rankings(&Rows { x, rows: &rows }, &groups, 0, rankers)?;
        Ok(scores
            .iter()
            .map(|scores| {
                tested
                    .iter()
                    .enumerate()
                    .map(|(r, &g)| {
                        let truth: Vec<String> = condition_genes(held[g - 1].0).collect();
                        (held[g - 1].0, reciprocal_rank(scores.row(r), self.genes, &truth))
                    })
                    .collect()
            })
            .collect())
    }

    /// Adds one DE ranker's results of a fold ([`Split::de_fold`]) to its tally.
    fn tally(&self, result: FoldResult<'_>, tally: &mut Tally) {
        tally.candidates = self.genes.len();
        for (condition, rr) in result {
            tally.add(condition, rr);
        }
    }
}

/// Some rows of a cells × genes matrix, in the given order, without copying them.
pub struct Rows<'a, X> {
    pub x: &'a X,
    pub rows: &'a [usize],
}

impl<X: CellsByGenes> CellsByGenes for Rows<'_, X> {
    type Value = X::Value;

    fn n_cells(&self) -> usize {
        self.rows.len()
    }

    fn n_genes(&self) -> usize {
        self.x.n_genes()
    }

    fn for_each_in_row<F: FnMut(usize, Self::Value)>(&self, cell: usize, f: F) {
        self.x.for_each_in_row(self.rows[cell], f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cellcast_stats::rng::SplitMix64;

    fn wilcoxon() -> &'static TargetStatistic {
        crate::target_statistics::statistic("wilcoxon").unwrap()
    }

    /// Cells of three conditions and controls in 12 genes: each condition shifts its own genes.
    fn screen(seed: u64, per: usize) -> (Matrix, Vec<&'static str>) {
        let mut rng = SplitMix64::new(seed);
        let conditions = ["control", "A", "B", "A+B"];
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for &c in &conditions {
            for _ in 0..per {
                let row: Vec<f64> = (0..12)
                    .map(|g| {
                        let shift = match (c, g) {
                            ("A", 0..=2) | ("A+B", 0..=2) => 2.0,
                            ("B", 3..=5) | ("A+B", 3..=5) => -2.0,
                            _ => 0.0,
                        };
                        5.0 + shift + rng.normal()
                    })
                    .collect();
                rows.push(row);
                labels.push(c);
            }
        }
        (Matrix::from_rows(&rows).unwrap(), labels)
    }

    #[test]
    fn reference_rankers_recognise_held_out_groups() {
        let (train, labels) = screen(1, 40);
        let (test, test_labels) = screen(2, 10);
        for ranker in [
            ConditionRanker::PcaKnn { components: 5, k: 15 },
            ConditionRanker::PcaForest { components: 5, trees: 30, seed: 0 },
            ConditionRanker::PcaBoosting { components: 5, rounds: 30 },
            ConditionRanker::PcaCentroid { components: 5 },
            ConditionRanker::Signature,
        ] {
            let fitted = ranker.fit(&train, &labels, "control").unwrap();
            assert_eq!(fitted.conditions, vec!["A", "A+B", "B"]);
            assert_eq!(fitted.candidate_genes(), vec!["A", "B"]);
            for want in ["A", "B", "A+B"] {
                let rows: Vec<usize> = (0..test.nrows()).filter(|&i| test_labels[i] == want).collect();
                let scores = fitted.score_group(&test.select_rows(&rows));
                let best = (0..3).max_by(|&a, &b| scores[a].total_cmp(&scores[b])).unwrap();
                assert_eq!(fitted.conditions[best], want, "{}: {scores:?}", ranker.name());
                // A group of A cells ranks gene A first.
                if want != "A+B" {
                    let genes = fitted.gene_scores(&scores);
                    let rr = reciprocal_rank(&genes, &fitted.candidate_genes(), &[want.to_string()]);
                    assert_eq!(rr, Some(1.0), "{}", ranker.name());
                }
            }
        }
    }

    #[test]
    fn cross_validation_scores_every_ranker_on_held_out_groups() {
        let (x, labels) = screen(4, 30);
        let rankers = [
            TargetRanker::Reference(ConditionRanker::PcaKnn { components: 5, k: 15 }),
            TargetRanker::Reference(ConditionRanker::Signature),
        ];
        // Genes 0-2 are named A, 3-5 B: what A and B shift.
        let genes: Vec<String> = (0..12)
            .map(|g| {
                if g < 3 {
                    "A".into()
                } else if g < 6 {
                    "B".into()
                } else {
                    format!("g{g}")
                }
            })
            .collect();
        let cv = |rankers: &[TargetRanker], folds| {
            let opts = CvOptions { folds, group_size: GroupSize::Cells(5), seed: 0 };
            cross_validate_rankers(&x, &genes, &labels, "control", rankers, opts)
        };
        let scores = cv(&rankers, 3).unwrap();
        // 3 conditions × 30 cells, 10 held out per fold → 2 groups of 5 per condition and fold.
        assert!(scores.iter().all(|s| s.groups == 18 && s.skipped == 0 && s.candidates == 2), "{scores:?}");
        // Groups of 5 cells of this clean screen are recognised: a true gene first every time.
        assert!(scores.iter().all(|s| s.mrr == 1.0 && s.hit_at == [1.0; 3]), "{scores:?}");
        assert_eq!(scores, cv(&rankers, 3).unwrap());
        assert!(cv(&rankers, 1).is_err());
        // DE ranks all 12 genes: A's and B's groups put a gene named A / B first (A+B shifts
        // both), whichever way they move with `both`; `up` cannot find B (it drops).
        let de = cv(
            &[
                TargetRanker::De(DeRanker { statistic: wilcoxon(), direction: Direction::Both, specific: false }),
                TargetRanker::De(DeRanker { statistic: wilcoxon(), direction: Direction::Up, specific: false }),
            ],
            3,
        )
        .unwrap();
        assert_eq!((de[0].groups, de[0].candidates, de[0].mrr), (18, 12, 1.0), "{de:?}");
        assert_eq!(de[0].ranker, "de_wilcoxon_both");
        assert_eq!(de[0].per_group.len(), 18);
        let (a, b) = paired_condition_means(&de[0], &scores[0]);
        assert_eq!((a, b), (vec![1.0; 3], vec![1.0; 3]), "one mean per condition");
        assert!(de[1].mrr < 0.8, "{de:?}");
    }

    #[test]
    fn knn_votes_are_class_frequencies() {
        let (train, labels) = screen(3, 20);
        let fitted = ConditionRanker::PcaKnn { components: 4, k: 5 }.fit(&train, &labels, "control").unwrap();
        let scores = fitted.score_group(&train.select_rows(&[25, 45]));
        assert!((scores.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{scores:?}");
        assert!(scores.iter().all(|s| (s * 10.0).fract().abs() < 1e-9), "multiples of 1/(k·cells): {scores:?}");
    }

    #[test]
    fn de_scores_follow_the_direction_and_sink_undefined_genes() {
        let de = Matrix::from_rows(&[[-3.0, 1.0, f64::NAN, 2.0]]).unwrap();
        assert_eq!(de_target_scores(&de, Direction::Down).row(0), &[3.0, -1.0, -3.0, -2.0]);
        assert_eq!(de_target_scores(&de, Direction::Up).row(0), &[-3.0, 1.0, -4.0, 2.0]);
        assert_eq!(de_target_scores(&de, Direction::Both).row(0), &[3.0, 1.0, 0.0, 2.0]);
        // Infinite statistics (constant controls) sink too, whichever way they point.
        let de = Matrix::from_rows(&[[f64::INFINITY, 1.0, f64::NEG_INFINITY]]).unwrap();
        assert_eq!(de_target_scores(&de, Direction::Up).row(0), &[0.0, 1.0, 0.0]);
    }

    #[test]
    fn specific_scores_subtract_the_other_groups_median() {
        let s = Matrix::from_rows(&[[5.0, 3.0], [0.0, 3.0], [1.0, 2.0], [-1.0, 4.0]]).unwrap();
        let out = specific_target_scores(&s);
        // Gene 0: others of group 0 are {0, 1, -1} → median 0; of group 1 {5, 1, -1} → 1.
        assert_eq!(out.row(0), &[5.0, 0.0]);
        assert_eq!(out.row(1), &[-1.0, 0.0]);
        assert_eq!(out.row(2), &[1.0, -1.0]);
        assert_eq!(out.row(3), &[-2.0, 1.0]);
        let two = Matrix::from_rows(&[[1.0], [2.0]]).unwrap();
        assert_eq!(specific_target_scores(&two), two);
    }

    /// A generated screen's counts as cp10k + log1p.
    fn normalised(s: &crate::screen_synth::SynthScreen) -> Matrix {
        let mut rows = Vec::new();
        for i in 0..s.counts.n_rows() {
            let (idx, vals) = s.counts.row(i);
            let total: f64 = vals.iter().sum();
            let mut row = vec![0.0; s.genes.len()];
            for (&j, &v) in idx.iter().zip(vals) {
                row[j as usize] = (v / total * 1e4).ln_1p();
            }
            rows.push(row);
        }
        Matrix::from_rows(&rows).unwrap()
    }

    /// MRR of DE target ranking on a generated CRISPRi screen (cp10k + log1p), over the
    /// perturbations whose targets are measured.
    fn screen_mrr(params: &crate::screen_synth::ScreenParams, direction: Direction, specific: bool) -> f64 {
        let s = crate::screen_synth::synth_screen(params);
        let x = normalised(&s);
        let groups: Vec<Option<usize>> = s.labels.iter().map(|l| s.groups.iter().position(|g| g == l)).collect();
        let ranker = DeRanker { statistic: wilcoxon(), direction, specific };
        let (tested, scores) = de_target_ranking(&x, &groups, 0, ranker).unwrap();
        let rrs: Vec<f64> = tested
            .iter()
            .enumerate()
            .filter_map(|(r, &g)| {
                let truth: Vec<String> = condition_genes(&s.groups[g]).collect();
                reciprocal_rank(scores.row(r), &s.genes, &truth)
            })
            .collect();
        rrs.iter().sum::<f64>() / rrs.len() as f64
    }

    #[test]
    fn de_ranking_finds_knocked_down_targets_and_specificity_helps() {
        use crate::screen_synth::ScreenParams;
        let p = ScreenParams { cells_per_group: 8, ..ScreenParams::default() };
        let plain = screen_mrr(&p, Direction::Down, false);
        let specific = screen_mrr(&p, Direction::Down, true);
        let both = screen_mrr(&p, Direction::Both, true);
        let wrong = screen_mrr(&p, Direction::Up, true);
        // Measured: plain 0.812, specific 0.900, both 0.823, up 0.003.
        assert!(specific > 0.85 && specific > plain + 0.05, "{specific} vs {plain}");
        assert!(both > 0.75, "{both}");
        assert!(wrong < 0.05, "{wrong}");
    }

    #[test]
    fn de_cross_validation_is_the_same_on_any_matrix_and_for_whole_groups() {
        let (x, labels) = screen(4, 30);
        let genes: Vec<String> =
            ["A", "B"].iter().map(|g| g.to_string()).chain((2..12).map(|g| format!("g{g}"))).collect();
        let rankers: Vec<DeRanker> = crate::target_statistics::STATISTICS
            .iter()
            .map(|statistic| DeRanker { statistic, direction: Direction::Both, specific: true })
            .collect();
        for group_size in [GroupSize::Cells(1), GroupSize::Cells(4), GroupSize::Whole] {
            let cv = CvOptions { folds: 3, group_size, seed: 7 };
            let all: Vec<TargetRanker> = rankers.iter().map(|&r| TargetRanker::De(r)).collect();
            let dense = cross_validate_rankers(&x, &genes, &labels, "control", &all, cv).unwrap();
            let sparse = cellcast_stats::sparse::CsrMatrix::from_dense(&x);
            assert_eq!(dense, cross_validate_de(&sparse, &genes, &labels, "control", &rankers, cv).unwrap());
            // Whole groups: one per condition and fold, all 10 of its held-out cells.
            if group_size == GroupSize::Whole {
                assert!(dense.iter().all(|s| s.per_group.len() == 9), "{:?}", dense[0].per_group);
            }
        }
    }

    #[test]
    fn rankings_together_are_the_rankings_one_by_one() {
        let (x, labels) = screen(5, 12);
        let names = ["control", "A", "B", "A+B"];
        let groups: Vec<Option<usize>> = labels.iter().map(|l| names.iter().position(|n| n == l)).collect();
        let mut rankers = Vec::new();
        for statistic in crate::target_statistics::STATISTICS.iter().rev() {
            for direction in [Direction::Down, Direction::Both] {
                for specific in [true, false] {
                    rankers.push(DeRanker { statistic, direction, specific });
                }
            }
        }
        let (tested, together) = de_target_rankings(&x, &groups, 0, &rankers).unwrap();
        assert_eq!((tested.as_slice(), together.len()), (&[1, 2, 3][..], rankers.len()));
        for (r, scores) in rankers.iter().zip(&together) {
            assert_eq!(&de_target_ranking(&x, &groups, 0, *r).unwrap().1, scores, "{}", r.name());
        }
    }

    #[test]
    fn auto_keeps_the_fallback_unless_another_is_clearly_better() {
        use crate::screen_synth::{synth_screen, Knockout, ScreenParams};
        use crate::target_statistics::statistic;
        let params =
            ScreenParams { knockout: Some(Knockout::default()), cells_per_group: 60, ..ScreenParams::default() };
        let s = synth_screen(&params);
        let x = normalised(&s);
        let labels: Vec<&str> = s.labels.iter().map(String::as_str).collect();
        let fallback =
            DeRanker { statistic: statistic("combined").unwrap(), direction: Direction::Down, specific: false };
        let auto = AutoDe::new(Direction::Down, fallback);
        assert_eq!(auto.candidates.len(), 10);
        assert_eq!(auto.candidates[0], fallback);
        let choice = auto.choose(&x, &s.genes, &labels, "control", GroupSize::Whole, 0).unwrap();
        // 23 perturbations name a measured gene (the 2 unmeasured singles and the doubles with
        // one of them do not). A knockout's cells losing the transcript is the signal here: the
        // drop in detection, made specific, wins by far.
        assert_eq!(choice.labelled_conditions, 23);
        assert_eq!(choice.ranker.name(), "de_detection_down_specific");
        let score = |name: &str| choice.scores.iter().find(|s| s.ranker == name).unwrap().mrr;
        assert!(score("de_detection_down_specific") > score("de_combined_down") + 0.1, "{:?}", choice.scores);
        // Too few labelled conditions: the fallback, without evaluating.
        let strict = AutoDe { min_conditions: 24, ..auto.clone() };
        let choice = strict.choose(&x, &s.genes, &labels, "control", GroupSize::Whole, 0).unwrap();
        assert_eq!((choice.ranker, choice.scores.len()), (fallback, 0));
        // Candidates that rank alike: the fallback stays.
        let same = AutoDe { candidates: vec![fallback, fallback], ..auto };
        assert_eq!(same.choose(&x, &s.genes, &labels, "control", GroupSize::Whole, 0).unwrap().ranker, fallback);
    }

    #[test]
    fn reciprocal_rank_uses_the_best_true_gene_and_stable_ties() {
        let c: Vec<String> = ["A", "B", "C"].iter().map(|s| s.to_string()).collect();
        assert_eq!(reciprocal_rank(&[0.1, 0.9, 0.5], &c, &["C".into()]), Some(0.5));
        assert_eq!(reciprocal_rank(&[0.5, 0.5, 0.5], &c, &["B".into(), "C".into()]), Some(0.5));
        assert_eq!(reciprocal_rank(&[0.5, 0.5, 0.5], &c, &["Z".into()]), None);
    }
}
