//! Which gene did each group of cells have perturbed? [`rank`] ranks every measured gene per
//! group from differential expression against the controls (no training data); [`evaluate`]
//! measures how well each target ranker finds the perturbed gene on a labelled screen, held out.

use std::path::{Path, PathBuf};

use cellcast_data::output::{Column, OutputTable};
pub use cellcast_data::pseudobulk::{Normalization, NormalizationChoice};
use cellcast_eval::{paired_bootstrap, Comparison};
use cellcast_models::target_statistics::statistic;
pub use cellcast_models::target_statistics::{TargetStatistic, STATISTICS};
use cellcast_models::targets::{
    cross_validate_rankers, de_target_ranking, paired_condition_means, AutoDe, ConditionRanker, CvOptions, TargetRanker,
};
pub use cellcast_models::targets::{AutoChoice, DeRanker, Direction, GroupSize, RankerScore};
use cellcast_stats::Matrix;

use crate::cells::{read_screen, report_unmeasured, ScreenOptions};
use crate::{bail, Context, Observer, Result};

/// Which statistic ranks the genes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StatisticChoice {
    /// Chosen per screen by held-out evaluation on the screen's own labelled groups (see
    /// [`AUTO_MIN_GROUPS`]); the fallback [`FALLBACK`] (groups of one cell: [`SINGLE_CELL_FALLBACK`])
    /// when the screen has too few.
    Auto,
    /// This statistic of [`STATISTICS`].
    Fixed(&'static TargetStatistic),
}

impl StatisticChoice {
    /// `auto` or a statistic's name.
    pub fn parse(name: &str) -> Result<Self> {
        if name == "auto" {
            return Ok(StatisticChoice::Auto);
        }
        statistic(name).map(StatisticChoice::Fixed).map_err(|e| crate::Error::input(format!("{e}, auto")))
    }

    pub fn name(&self) -> &'static str {
        match self {
            StatisticChoice::Auto => "auto",
            StatisticChoice::Fixed(s) => s.name,
        }
    }
}

/// `auto`'s fallback and first candidate: the combined statistic, not made specific.
pub const FALLBACK: &str = "combined";
/// `auto`'s fallback when every group to rank is a single cell, whose detection and rank say
/// little: the mean shift, not made specific.
pub const SINGLE_CELL_FALLBACK: &str = "mean_z";
/// Groups whose labels name a measured gene (two cells or more each) `auto` needs to choose.
pub const AUTO_MIN_GROUPS: usize = 5;

/// Options of [`rank`].
#[derive(Debug, Clone)]
pub struct TargetsRankOptions<'a> {
    /// The cells, their labels and control, and how they are read.
    pub screen: ScreenOptions<'a>,
    /// Which way a perturbation moves its target.
    pub direction: Direction,
    pub statistic: StatisticChoice,
    /// Subtract the other groups' median score of each gene (`false`: the plain statistic);
    /// `None`: a fixed statistic is made specific, `auto` chooses.
    pub specific: Option<bool>,
    /// `id` + one column per gene: CSV, or Parquet when it ends in `.parquet`; `None`: only
    /// return the table. What was done is written beside it as JSON ([`sidecar_path`]).
    pub out: Option<PathBuf>,
}

impl Default for TargetsRankOptions<'_> {
    fn default() -> Self {
        Self {
            screen: ScreenOptions::default(),
            direction: Direction::Both,
            statistic: StatisticChoice::Auto,
            specific: None,
            out: None,
        }
    }
}

impl TargetsRankOptions<'_> {
    pub fn validate(&self) -> Result<()> {
        if let Some(out) = &self.out {
            if out.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
                bail!("--out {}: the ranks are CSV or Parquet; the JSON beside them is the run record", out.display());
            }
        }
        self.screen.validate()
    }
}

/// The JSON record written beside `out`: the same path with the extension `.json`
/// (`ranks.csv` → `ranks.json`).
pub fn sidecar_path(out: &Path) -> PathBuf {
    out.with_extension("json")
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
    /// The ranker used: statistic, direction, specificity.
    pub ranker: DeRanker,
    /// How it was chosen (`auto`): the evidence, or why the fallback was taken.
    pub choice: Option<AutoChoice>,
    /// One sentence: which statistic, and why.
    pub why: String,
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
    /// The JSON record (also written beside `out`).
    pub record: String,
}

/// Ranks every measured gene for each group by how likely it is the perturbed gene: a statistic
/// of the group's cells against the controls, turned by the direction, maybe made specific (see
/// [`TargetsRankOptions`]); says on the observer which statistic and why, and writes the JSON
/// record beside `out`.
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
    let sizes = screen.group_sizes();
    let (ranker, choice, why) = match opts.statistic {
        StatisticChoice::Fixed(statistic) => {
            let ranker = DeRanker { statistic, direction: opts.direction, specific: opts.specific.unwrap_or(true) };
            (ranker, None, "as asked".to_string())
        }
        StatisticChoice::Auto => {
            let single_cells = sizes.iter().enumerate().all(|(g, &n)| g == screen.control || n == 1);
            let auto = auto_ranker(opts.direction, opts.specific, single_cells);
            let labels: Vec<&str> = screen.group_of_row.iter().map(|&g| screen.groups[g].as_str()).collect();
            let group_size = if single_cells { GroupSize::Cells(1) } else { GroupSize::Whole };
            let choice =
                auto.choose(&screen.cells.x, &screen.genes, &labels, &screen.groups[screen.control], group_size, 0)?;
            let why = auto_reason(&choice, single_cells);
            (choice.ranker, Some(choice), why)
        }
    };
    observer.note(&format!(
        "statistic: {}{} ({}), direction {} — {why}",
        ranker.statistic.name,
        if ranker.specific { ", made specific" } else { "" },
        ranker.statistic.summary,
        ranker.direction.name()
    ));
    let (tested, scores) = de_target_ranking(&screen.cells.x, &groups, screen.control, ranker)?;
    let ids: Vec<String> = tested.iter().map(|&g| screen.groups[g].clone()).collect();
    let control_cells = sizes[screen.control];
    let record = rank_record(opts, &screen, ranker, choice.as_ref(), &why, &unmeasured);
    if let Some(out) = &opts.out {
        let mut table = OutputTable::new().with("id", Column::Text(ids.iter().cloned().map(Some).collect()));
        for (j, gene) in screen.genes.iter().enumerate() {
            table = table.with(gene, Column::Float((0..scores.nrows()).map(|r| scores.get(r, j)).collect()));
        }
        table.write(out).with_context(|| format!("writing {}", out.display()))?;
        let json = sidecar_path(out);
        cellcast_data::write::write_atomically(&json, |w| std::io::Write::write_all(w, record.as_bytes()))
            .with_context(|| format!("writing {}", json.display()))?;
        observer.note(&format!("what was done: {}", json.display()));
    }
    Ok(TargetsRankOutcome {
        ids,
        genes: screen.genes,
        scores,
        ranker,
        choice,
        why,
        normalization: screen.cells.normalization,
        cells: screen.cells.x.n_rows(),
        control_cells,
        cells_left_out: screen.cells_left_out,
        unmeasured,
        gene_column_hint: read.gene_column_hint,
        record,
    })
}

/// `auto` for this direction: every statistic, plain and specific (or only the one `specific`
/// asks for), the fallback first.
fn auto_ranker(direction: Direction, specific: Option<bool>, single_cells: bool) -> AutoDe {
    let name = if single_cells { SINGLE_CELL_FALLBACK } else { FALLBACK };
    let statistic = statistic(name).expect("a registered statistic");
    let mut auto = AutoDe::new(direction, DeRanker { statistic, direction, specific: specific.unwrap_or(false) });
    if let Some(specific) = specific {
        auto.candidates.retain(|r| r.specific == specific);
    }
    auto.min_conditions = AUTO_MIN_GROUPS;
    auto
}

/// Why `auto` ranks by what it chose, in one sentence.
fn auto_reason(choice: &AutoChoice, single_cells: bool) -> String {
    if choice.scores.is_empty() {
        return format!(
            "auto's fallback{}: {} group(s) name a measured gene and have two cells or more; choosing needs {}",
            if single_cells { " for single cells" } else { "" },
            choice.labelled_conditions,
            AUTO_MIN_GROUPS
        );
    }
    let chosen = choice.scores.iter().find(|s| s.ranker == choice.ranker.name()).expect("the chosen one was scored");
    let best = choice.scores.iter().fold(&choice.scores[0], |b, s| if s.mrr > b.mrr { s } else { b });
    let on = format!(
        "{} {} of the {} groups that name a measured gene (2 folds, against the other fold's controls)",
        chosen.groups,
        if single_cells { "single cells" } else { "half-groups" },
        choice.labelled_conditions
    );
    let fallback = &choice.scores[0];
    if !std::ptr::eq(chosen, fallback) {
        format!(
            "chosen by auto: held-out MRR {:.3} against the fallback's ({}) {:.3}, better beyond chance, on {on}",
            chosen.mrr, fallback.ranker, fallback.mrr
        )
    } else if best.ranker != chosen.ranker {
        format!(
            "auto kept the fallback: held-out MRR {:.3}; the best, {} at {:.3}, is not better beyond chance, on {on}",
            chosen.mrr, best.ranker, best.mrr
        )
    } else {
        format!("auto kept the fallback, the best: held-out MRR {:.3} on {on}", chosen.mrr)
    }
}

/// The JSON record of a ranking: statistic and formula, direction, normalisation, the genes that
/// cannot be ranked, and `auto`'s evidence.
fn rank_record(
    opts: &TargetsRankOptions<'_>,
    screen: &cellcast_data::cells::Screen,
    ranker: DeRanker,
    choice: Option<&AutoChoice>,
    why: &str,
    unmeasured: &[(String, Vec<String>)],
) -> String {
    use serde_json::json;
    let norm = &screen.cells.normalization;
    let record = json!({
        "cellcast": env!("CARGO_PKG_VERSION"),
        "input": opts.screen.cells.name(),
        "group_column": opts.screen.group_column,
        "control": opts.screen.control,
        "filter": opts.screen.filter.as_ref().map(|(c, v)| format!("{c}={v}")),
        "layer": opts.screen.layer,
        "gene_column": opts.screen.gene_column,
        "statistic": {
            "asked": opts.statistic.name(),
            "used": ranker.statistic.name,
            "summary": ranker.statistic.summary,
            "formula": ranker.statistic.formula,
            "specific": ranker.specific,
            "specific_means": "the median of the other groups' scores of the gene is subtracted",
            "why": why,
        },
        "auto": choice.map(|c| json!({
            "labelled_groups": c.labelled_conditions,
            "needs": AUTO_MIN_GROUPS,
            "held_out": c.scores.iter().map(|s| json!({
                "ranker": s.ranker, "mrr": s.mrr, "hit@1": s.hit_at[0], "hit@5": s.hit_at[1],
                "hit@10": s.hit_at[2], "groups": s.groups,
            })).collect::<Vec<_>>(),
        })),
        "direction": ranker.direction.name(),
        "normalization": {
            "name": norm.normalization.name(),
            "assumed": norm.assumed,
            "why": if norm.assumed { norm.reason.as_str() } else { "as asked" },
        },
        "groups": screen.groups.len() - 1,
        "genes": screen.genes.len(),
        "cells": screen.cells.x.n_rows(),
        "control_cells": screen.group_sizes()[screen.control],
        "cells_left_out": screen.cells_left_out,
        "not_ranked": unmeasured.iter().map(|(g, genes)| json!({"group": g, "genes_not_measured": genes}))
            .collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&record).expect("a JSON value");
    text.push('\n');
    text
}

/// Options of [`evaluate`].
#[derive(Debug, Clone)]
pub struct TargetsEvaluateOptions<'a> {
    pub screen: ScreenOptions<'a>,
    /// Held-out groups: so many cells each (at least 1; 1 = single cells), or every held-out
    /// cell of a perturbation in a fold ([`GroupSize::Whole`]).
    pub group_sizes: Vec<GroupSize>,
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
    /// mrr_vs_pca_knn, ci_low, ci_high, mrr_vs_default, default_ci_low, default_ci_high,
    /// chosen`: CSV, or Parquet by extension; `None`: only return them.
    pub out: Option<PathBuf>,
}

impl Default for TargetsEvaluateOptions<'_> {
    fn default() -> Self {
        Self {
            screen: ScreenOptions::default(),
            group_sizes: vec![GroupSize::Cells(1), GroupSize::Cells(10)],
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
        if self.group_sizes.contains(&GroupSize::Cells(0)) {
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
    pub group_size: GroupSize,
    pub score: RankerScore,
    /// Its MRR against pca_knn's on the groups both scored, with a paired bootstrap interval
    /// over perturbations. The two rank different candidates (pca_knn the genes the training
    /// perturbations name, a DE ranker every measured gene), so this compares how high each puts
    /// the true gene, not two rankings of one list.
    pub vs_pca_knn: Comparison,
    /// For DE rankers: its MRR against the default's ([`TargetRanker::Auto`], `de_auto_<dir>`),
    /// paired the same way; NaN for reference rankers.
    pub vs_default: Comparison,
}

/// What [`evaluate`] measured.
#[derive(Debug, Clone)]
pub struct TargetsEvaluateOutcome {
    pub rows: Vec<EvaluateRow>,
    /// Group sizes skipped: no perturbation has that many cells in a held-out fold.
    pub skipped_group_sizes: Vec<GroupSize>,
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
    let de: Vec<TargetRanker> = STATISTICS
        .iter()
        .flat_map(|statistic| {
            [false, true].map(|specific| TargetRanker::De(DeRanker { statistic, direction, specific }))
        })
        .collect();
    let rankers: Vec<TargetRanker> = reference
        .iter()
        .map(|&r| TargetRanker::Reference(r))
        .chain([TargetRanker::Consensus(reference.to_vec())])
        .chain(de)
        .collect();
    let mut rows: Vec<EvaluateRow> = Vec::new();
    let mut skipped_group_sizes = Vec::new();
    for &group_size in &opts.group_sizes {
        // The default is chosen per fold on the training folds; single-cell groups fall back to
        // the single-cell fallback, as `rank` does for a file of single cells.
        let auto = TargetRanker::Auto(auto_ranker(direction, None, group_size == GroupSize::Cells(1)));
        let rankers: Vec<TargetRanker> = rankers.iter().cloned().chain([auto]).collect();
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
        // Each ranker against the reference baseline (pca_knn, first) and each DE ranker against
        // the default (auto, last), perturbations resampled.
        let default = scores.last().expect("auto is evaluated");
        let versus = |s: &RankerScore, base: &RankerScore| {
            let (a, b) = paired_condition_means(s, base);
            paired_bootstrap(&a, &b, BOOTSTRAP_RESAMPLES, opts.seed)
        };
        for (s, ranker) in scores.iter().zip(&rankers) {
            let is_de = matches!(ranker, TargetRanker::De(_) | TargetRanker::Auto(_));
            rows.push(EvaluateRow {
                group_size,
                score: s.clone(),
                vs_pca_knn: versus(s, &scores[0]),
                vs_default: if is_de { versus(s, default) } else { no_comparison() },
            });
        }
    }
    if rows.is_empty() {
        bail!("no --group-size could be evaluated: use smaller groups or fewer --folds");
    }
    observer.note(&format!(
        "{:>5}  {:<30} {:>6} {:>7} {:>10} {:>7} {:>6} {:>6} {:>6}  {:<24} Δ MRR vs de_auto [95% CI]",
        "cells",
        "ranker",
        "groups",
        "skipped",
        "candidates",
        "MRR",
        "hit@1",
        "hit@5",
        "hit@10",
        "Δ MRR vs pca_knn [95% CI]"
    ));
    let interval = |c: &Comparison| {
        if c.difference.is_nan() {
            String::new()
        } else {
            format!("{:+.3} [{:+.3}, {:+.3}]", c.difference, c.ci_low, c.ci_high)
        }
    };
    for r in &rows {
        let s = &r.score;
        observer.note(&format!(
            "{:>5}  {:<30} {:>6} {:>7} {:>10} {:>7.4} {:>6.3} {:>6.3} {:>6.3}  {:<24} {}",
            r.group_size.to_string(),
            s.ranker,
            s.groups,
            s.skipped,
            s.candidates,
            s.mrr,
            s.hit_at[0],
            s.hit_at[1],
            s.hit_at[2],
            interval(&r.vs_pca_knn),
            interval(&r.vs_default)
        ));
        if !s.chosen.is_empty() {
            observer.note(&format!("       (auto chose, fold by fold: {})", s.chosen.join(", ")));
        }
    }
    observer.note(&format!(
        "(Δ: mean over perturbations of the MRR difference on the groups both rankers scored; {BOOTSTRAP_RESAMPLES} \
         bootstrap resamples of the perturbations. pca_knn ranks the genes the training perturbations name, the DE \
         rankers every measured gene: Δ vs pca_knn compares how high each puts the true gene)"
    ));
    if let Some(out) = &opts.out {
        evaluate_table(&rows).write(out).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(TargetsEvaluateOutcome { rows, skipped_group_sizes, normalization: screen.cells.normalization, unmeasured })
}

fn no_comparison() -> Comparison {
    Comparison { difference: f64::NAN, ci_low: f64::NAN, ci_high: f64::NAN, p_value: f64::NAN, resamples: 0 }
}

fn evaluate_table(rows: &[EvaluateRow]) -> OutputTable {
    let int = |f: &dyn Fn(&EvaluateRow) -> usize| Column::Int(rows.iter().map(|r| f(r) as i64).collect());
    let float = |f: &dyn Fn(&RankerScore) -> f64| Column::Float(rows.iter().map(|r| f(&r.score)).collect());
    let versus = |f: &dyn Fn(&Comparison) -> f64| Column::Float(rows.iter().map(|r| f(&r.vs_pca_knn)).collect());
    let default = |f: &dyn Fn(&Comparison) -> f64| Column::Float(rows.iter().map(|r| f(&r.vs_default)).collect());
    let text = |f: &dyn Fn(&EvaluateRow) -> String| Column::Text(rows.iter().map(|r| Some(f(r))).collect());
    OutputTable::new()
        .with("group_size", text(&|r| r.group_size.to_string()))
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
        .with("mrr_vs_default", default(&|c| c.difference))
        .with("default_ci_low", default(&|c| c.ci_low))
        .with("default_ci_high", default(&|c| c.ci_high))
        .with("chosen", text(&|r| r.score.chosen.join(";")))
}
