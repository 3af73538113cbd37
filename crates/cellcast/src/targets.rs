//! Which gene did each group of cells have perturbed? [`rank`] ranks every measured gene per
//! group from differential expression against the controls (no training data); [`evaluate`]
//! measures how well each target ranker finds the perturbed gene on a labelled screen, held out.

use std::path::PathBuf;

use cellcast_data::output::{Column, OutputTable};
pub use cellcast_data::pseudobulk::{Normalization, NormalizationChoice};
use cellcast_eval::{paired_bootstrap, Comparison};
use cellcast_models::targets::{
    cross_validate_rankers, de_target_ranking, paired_condition_means, ConditionRanker, CvOptions, TargetRanker,
};
pub use cellcast_models::targets::{Direction, RankerScore};
use cellcast_stats::Matrix;

use crate::cells::{read_screen, report_unmeasured, ScreenOptions};
use crate::{bail, Context, Observer, Result};

/// Options of [`rank`].
#[derive(Debug, Clone)]
pub struct TargetsRankOptions<'a> {
    /// The cells, their labels and control, and how they are read.
    pub screen: ScreenOptions<'a>,
    /// Which way a perturbation moves its target.
    pub direction: Direction,
    /// Subtract the other groups' median score of each gene (`false`: the plain statistic).
    pub specific: bool,
    /// `id` + one column per gene: CSV, or Parquet when it ends in `.parquet`; `None`: only
    /// return the table.
    pub out: Option<PathBuf>,
}

impl Default for TargetsRankOptions<'_> {
    fn default() -> Self {
        Self { screen: ScreenOptions::default(), direction: Direction::Both, specific: true, out: None }
    }
}

impl TargetsRankOptions<'_> {
    pub fn validate(&self) -> Result<()> {
        self.screen.validate()
    }
}

/// What [`rank`] ranked, and what it assumed.
#[derive(Debug, Clone)]
pub struct TargetsRankOutcome {
    /// The ranked groups (every label but the control's), in the column's order.
    pub ids: Vec<String>,
    /// Gene names (made unique as anndata does).
    pub genes: Vec<String>,
    /// groups × genes; higher = more likely the perturbed gene.
    pub scores: Matrix,
    pub normalization: NormalizationChoice,
    /// Cells read (labelled and selected), of which controls.
    pub cells: usize,
    pub control_cells: usize,
    /// Cells left out: no label, or not selected by the filter.
    pub cells_left_out: usize,
    /// Groups whose labels name genes that are not measured: (label, those genes).
    pub unmeasured: Vec<(String, Vec<String>)>,
    /// A var column whose values the labels name better than var_names (a note suggested it).
    pub gene_column_hint: Option<String>,
}

/// Ranks every measured gene for each group by how likely it is the perturbed gene: the
/// tie-corrected Wilcoxon z of the group's cells against the controls, turned by the direction,
/// made specific (see [`TargetsRankOptions`]).
pub fn rank(opts: &TargetsRankOptions<'_>, observer: &dyn Observer) -> Result<TargetsRankOutcome> {
    opts.validate()?;
    let opened = opts.screen.cells.open()?;
    let read = read_screen(opened.source(), &opts.screen.selection(), observer)?;
    let screen = read.screen;
    if opts.out.is_some() && screen.genes.iter().any(|g| g == "id") {
        bail!("{}: a gene is named 'id', like the output's id column; rename it", opts.screen.cells.name());
    }
    let unmeasured = report_unmeasured(&screen, observer);
    let groups: Vec<Option<usize>> = screen.group_of_row.iter().map(|&g| Some(g)).collect();
    let (tested, scores) = de_target_ranking(&screen.cells.x, &groups, screen.control, opts.direction, opts.specific)?;
    let ids: Vec<String> = tested.iter().map(|&g| screen.groups[g].clone()).collect();
    if let Some(out) = &opts.out {
        let mut table = OutputTable::new().with("id", Column::Text(ids.iter().cloned().map(Some).collect()));
        for (j, gene) in screen.genes.iter().enumerate() {
            table = table.with(gene, Column::Float((0..scores.nrows()).map(|r| scores.get(r, j)).collect()));
        }
        table.write(out).with_context(|| format!("writing {}", out.display()))?;
    }
    let control_cells = screen.group_sizes()[screen.control];
    Ok(TargetsRankOutcome {
        ids,
        genes: screen.genes,
        scores,
        normalization: screen.cells.normalization,
        cells: screen.cells.x.n_rows(),
        control_cells,
        cells_left_out: screen.cells_left_out,
        unmeasured,
        gene_column_hint: read.gene_column_hint,
    })
}

/// Options of [`evaluate`].
#[derive(Debug, Clone)]
pub struct TargetsEvaluateOptions<'a> {
    pub screen: ScreenOptions<'a>,
    /// Cells per held-out group, each at least 1 (1 = single cells).
    pub group_sizes: Vec<usize>,
    /// Stratified folds, 2 to 1000.
    pub folds: usize,
    /// Seed of the folds, the forest, the groups of cells and the bootstrap.
    pub seed: u64,
    /// Principal components of the PCA rankers.
    pub components: usize,
    /// Neighbours of pca_knn.
    pub k: usize,
    /// Trees of pca_forest.
    pub trees: usize,
    /// Boosting rounds of pca_boosting.
    pub rounds: usize,
    /// The direction the DE rankers assume.
    pub direction: Direction,
    /// `group_size, ranker, groups, skipped, candidates, mrr, hit@1, hit@5, hit@10,
    /// mrr_vs_pca_knn, ci_low, ci_high`: CSV, or Parquet by extension; `None`: only return them.
    pub out: Option<PathBuf>,
}

impl Default for TargetsEvaluateOptions<'_> {
    fn default() -> Self {
        Self {
            screen: ScreenOptions::default(),
            group_sizes: vec![1, 10],
            folds: 5,
            seed: 0,
            components: 50,
            k: 15,
            trees: 100,
            rounds: 50,
            direction: Direction::Both,
            out: None,
        }
    }
}

impl TargetsEvaluateOptions<'_> {
    pub fn validate(&self) -> Result<()> {
        if self.group_sizes.contains(&0) {
            bail!("--group-size: groups need at least one cell");
        }
        if !(2..=1000).contains(&self.folds) {
            bail!("folds must be a whole number from 2 to 1000 (got {})", self.folds);
        }
        for (name, v) in
            [("components", self.components), ("k", self.k), ("trees", self.trees), ("rounds", self.rounds)]
        {
            if v == 0 {
                bail!("{name} must be at least 1");
            }
        }
        self.screen.validate()
    }
}

/// One ranker at one group size.
#[derive(Debug, Clone)]
pub struct EvaluateRow {
    pub group_size: usize,
    pub score: RankerScore,
    /// Its MRR against pca_knn's with a paired bootstrap interval (NaN for rankers of other
    /// candidates).
    pub vs_pca_knn: Comparison,
}

/// What [`evaluate`] measured.
#[derive(Debug, Clone)]
pub struct TargetsEvaluateOutcome {
    pub rows: Vec<EvaluateRow>,
    /// Group sizes skipped: no perturbation has that many cells in a held-out fold.
    pub skipped_group_sizes: Vec<usize>,
    pub normalization: NormalizationChoice,
    pub unmeasured: Vec<(String, Vec<String>)>,
}

/// Bootstrap resamples of the comparisons against pca_knn.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;

/// Dense cells × genes values above this need a narrower selection.
const MAX_DENSE_VALUES: usize = 400_000_000;

/// Cross-validates every target ranker on a labelled screen (see [`TargetsEvaluateOptions`]);
/// notes the results table.
pub fn evaluate(opts: &TargetsEvaluateOptions<'_>, observer: &dyn Observer) -> Result<TargetsEvaluateOutcome> {
    opts.validate()?;
    let opened = opts.screen.cells.open()?;
    let screen = read_screen(opened.source(), &opts.screen.selection(), observer)?.screen;
    let unmeasured = report_unmeasured(&screen, observer);
    let (n, g) = (screen.cells.x.n_rows(), screen.genes.len());
    if n.saturating_mul(g) > MAX_DENSE_VALUES {
        bail!(
            "{n} cells × {g} genes is too large for the reference rankers (they need the cells dense); select \
             fewer cells with --where COLUMN=VALUE"
        );
    }
    let x = screen.cells.x.to_dense();
    let labels: Vec<&str> = screen.group_of_row.iter().map(|&g| screen.groups[g].as_str()).collect();
    let direction = opts.direction;
    let reference = [
        ConditionRanker::PcaKnn { components: opts.components, k: opts.k },
        ConditionRanker::PcaForest { components: opts.components, trees: opts.trees, seed: opts.seed },
        ConditionRanker::PcaBoosting { components: opts.components, rounds: opts.rounds },
        ConditionRanker::PcaCentroid { components: opts.components },
        ConditionRanker::Signature,
    ];
    let rankers: Vec<TargetRanker> = reference
        .iter()
        .map(|&r| TargetRanker::Reference(r))
        .chain([
            TargetRanker::Consensus(reference.to_vec()),
            TargetRanker::De { direction, specific: false },
            TargetRanker::De { direction, specific: true },
        ])
        .collect();
    let mut rows: Vec<EvaluateRow> = Vec::new();
    let mut skipped_group_sizes = Vec::new();
    for &group_size in &opts.group_sizes {
        let cv = CvOptions { folds: opts.folds, group_size, seed: opts.seed };
        let scores = cross_validate_rankers(&x, &screen.genes, &labels, &opts.screen.control, &rankers, cv)?;
        if scores[0].per_group.is_empty() {
            let largest = screen
                .group_sizes()
                .iter()
                .enumerate()
                .filter(|&(g, _)| g != screen.control)
                .map(|(_, n)| *n)
                .max()
                .unwrap_or(0);
            observer.warning(&format!(
                "--group-size {group_size}: no perturbation has {group_size} cells in a held-out fold (the largest \
                 has {largest} cells, about {} per fold); skipped",
                largest / opts.folds.max(1)
            ));
            skipped_group_sizes.push(group_size);
            continue;
        }
        // Each ranker against the reference baseline (pca_knn, first), perturbations resampled.
        // Rankers of other candidate sets (DE ranks every measured gene) are not comparable.
        for s in &scores {
            let vs_pca_knn = if s.candidates == scores[0].candidates {
                let (a, b) = paired_condition_means(s, &scores[0]);
                paired_bootstrap(&a, &b, BOOTSTRAP_RESAMPLES, opts.seed)
            } else {
                Comparison {
                    difference: f64::NAN,
                    ci_low: f64::NAN,
                    ci_high: f64::NAN,
                    p_value: f64::NAN,
                    resamples: 0,
                }
            };
            rows.push(EvaluateRow { group_size, score: s.clone(), vs_pca_knn });
        }
    }
    if rows.is_empty() {
        bail!("no --group-size could be evaluated: use smaller groups or fewer --folds");
    }
    observer.note(&format!(
        "{:>5}  {:<26} {:>6} {:>7} {:>10} {:>7} {:>6} {:>6} {:>6}  Δ MRR vs pca_knn [95% CI]",
        "cells", "ranker", "groups", "skipped", "candidates", "MRR", "hit@1", "hit@5", "hit@10"
    ));
    for r in &rows {
        let (s, c) = (&r.score, &r.vs_pca_knn);
        observer.note(&format!(
            "{:>5}  {:<26} {:>6} {:>7} {:>10} {:>7.4} {:>6.3} {:>6.3} {:>6.3}  {:+.3} [{:+.3}, {:+.3}]",
            r.group_size,
            s.ranker,
            s.groups,
            s.skipped,
            s.candidates,
            s.mrr,
            s.hit_at[0],
            s.hit_at[1],
            s.hit_at[2],
            c.difference,
            c.ci_low,
            c.ci_high
        ));
    }
    observer.note(&format!(
        "(Δ: mean over perturbations of the MRR difference on the groups both rankers scored; {BOOTSTRAP_RESAMPLES} \
         bootstrap resamples of the perturbations)"
    ));
    if let Some(out) = &opts.out {
        evaluate_table(&rows).write(out).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(TargetsEvaluateOutcome { rows, skipped_group_sizes, normalization: screen.cells.normalization, unmeasured })
}

fn evaluate_table(rows: &[EvaluateRow]) -> OutputTable {
    let int = |f: &dyn Fn(&EvaluateRow) -> usize| Column::Int(rows.iter().map(|r| f(r) as i64).collect());
    let float = |f: &dyn Fn(&RankerScore) -> f64| Column::Float(rows.iter().map(|r| f(&r.score)).collect());
    let versus = |f: &dyn Fn(&Comparison) -> f64| Column::Float(rows.iter().map(|r| f(&r.vs_pca_knn)).collect());
    OutputTable::new()
        .with("group_size", int(&|r| r.group_size))
        .with("ranker", Column::Text(rows.iter().map(|r| Some(r.score.ranker.clone())).collect()))
        .with("groups", int(&|r| r.score.groups))
        .with("skipped", int(&|r| r.score.skipped))
        .with("candidates", int(&|r| r.score.candidates))
        .with("mrr", float(&|s| s.mrr))
        .with("hit@1", float(&|s| s.hit_at[0]))
        .with("hit@5", float(&|s| s.hit_at[1]))
        .with("hit@10", float(&|s| s.hit_at[2]))
        .with("mrr_vs_pca_knn", versus(&|c| c.difference))
        .with("ci_low", versus(&|c| c.ci_low))
        .with("ci_high", versus(&|c| c.ci_high))
}
