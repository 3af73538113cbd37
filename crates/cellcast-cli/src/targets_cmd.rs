//! `cellcast targets rank` and `cellcast targets evaluate`: which gene did each group of cells
//! have perturbed?

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use cellcast_data::cells::{read_screen, Screen, ScreenSelection};
use cellcast_data::h5ad::H5ad;
use cellcast_data::output::{Column, OutputTable};
use cellcast_data::pseudobulk::Normalization;
use cellcast_eval::{paired_bootstrap, Comparison};
use cellcast_models::targets::{
    condition_genes, cross_validate_rankers, de_target_ranking, paired_condition_means, ConditionRanker, CvOptions,
    RankerScore, TargetRanker,
};

use crate::args::DirectionArg;
use crate::pseudobulk_cmd::NormalizeArg;

pub const RANK_ABOUT: &str = "\
Rank every measured gene for each group of cells by how likely it is the perturbed gene, from
differential expression against the control cells — no training data needed.

For each group (a label of --group-column other than --control), every gene gets the
tie-corrected Wilcoxon rank-sum z of the group's cells against the controls (scanpy's
rank_genes_groups statistic; groups of a single cell are ranked too). The direction turns z into
a score: a CRISPRi / knockout / knockdown target drops (--direction down: −z), a CRISPRa or
overexpression target rises (up: z), both: |z|. The score is then made specific: the median of the
other groups' scores of the gene is subtracted, so genes that move in every group (stress,
proliferation) do not crowd out the targets. --no-specific keeps the plain statistic.

A gene can only be ranked if it is measured: groups whose labels name genes that are not among the
file's genes (`A+B` names A and B) are listed on stderr. Genes are named by var_names, or by a var
column with --gene-column (when var_names are Ensembl ids and the labels are symbols; a hint says
so when a var column matches the labels better).

Input: X (or --layer) may be raw counts (every value a non-negative integer): it is then
normalised to counts per 10k + log1p unless --normalize says otherwise; transformed values are
used as stored. What was assumed is printed.

Output (--out, CSV or Parquet): `id` (the group label) and one column per gene of the file (names
made unique as anndata does), higher = more likely the target. It is what
`cellcast score --metric ranking/mrr --truth targets.csv --pred ranks.csv` reads, with a truth
table of `id,targets` (targets joined by ';').

Example:
  cellcast targets rank --h5ad screen.h5ad --group-column perturbation --control control \\
      --direction down --out ranks.csv";

pub const EVALUATE_ABOUT: &str = "\
Measure how well each target ranker finds the perturbed gene on a labelled screen, held out.

The cells of every perturbation (and the controls) are dealt into seeded, stratified folds. For
each fold, the held-out cells of each perturbation are cut into groups of --group-size cells, and
every ranker ranks genes for every group using only the other folds:

  pca<K>_knn<k>     k nearest training cells in a K-component PCA, votes of their perturbations
                    (the reference table's pca_knn baseline)
  pca<K>_forest<T>  a random forest (T trees, √K features per split, Gini, scikit-learn's
                    defaults) on the PCA scores; class probabilities averaged over the group
                    (the reference table's random-forest baseline)
  pca<K>_boosting<R> gradient-boosted trees (R rounds, depth 3, learning rate 0.1, XGBoost-style
                    histogram splits, softmax) on the PCA scores (the table's xgboost baseline)
  pca<K>_centroid   distance of the group's mean to each perturbation's mean in the PCA
  signature         Pearson correlation of the group's shift from the controls with each
                    perturbation's
  consensus         the five above, each one's scores standardised over the perturbations,
                    averaged
  de_wilcoxon_<dir>[_specific]   `targets rank`'s statistic against the training controls; ranks
                    every measured gene, learns nothing, cannot find an unmeasured target

Reference rankers rank the genes the training perturbations name (`A+B` names A and B); a group
counts for a ranker when one of its true genes is among the ranker's candidates (`skipped`
otherwise). Reported: MRR and hit@1/5/10 per ranker and group size, and each ranker's MRR
difference from pca_knn with a 95 % paired bootstrap interval that resamples perturbations
(cells of one perturbation are not independent, so groups are not resampled); empty for the DE
rankers, whose candidates are other genes.

Example:
  cellcast targets evaluate --h5ad norman.h5ad --group-column condition --control control \\
      --where dataset=norman19 --group-size 1,10 --out target_id.csv";

/// The screen options `rank`, `evaluate` and `task genetic` share.
#[derive(clap::Args)]
pub struct ScreenArgs {
    /// The AnnData file (.h5ad).
    #[arg(long)]
    pub h5ad: PathBuf,
    /// The obs column of perturbation labels.
    #[arg(long)]
    pub group_column: String,
    /// The label of the control cells in --group-column.
    #[arg(long)]
    pub control: String,
    /// Use a layer instead of X.
    #[arg(long)]
    pub layer: Option<String>,
    /// Per-cell normalisation [default: cp10k-log1p for raw counts, else none].
    #[arg(long, value_enum)]
    pub normalize: Option<NormalizeArg>,
    /// Only the cells with this value in an obs column, as COLUMN=VALUE (e.g. dataset=norman19).
    #[arg(long = "where", value_name = "COLUMN=VALUE", value_parser = parse_filter)]
    pub filter: Option<(String, String)>,
    /// Name genes by this var column instead of var_names (e.g. gene_name when var_names are
    /// Ensembl ids and perturbation labels are symbols).
    #[arg(long)]
    pub gene_column: Option<String>,
}

fn parse_filter(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((c, v)) if !c.is_empty() => Ok((c.to_string(), v.to_string())),
        _ => Err("give COLUMN=VALUE, e.g. dataset=norman19".into()),
    }
}

impl ScreenArgs {
    /// Reads the selected cells, printing what was read and assumed.
    pub fn read(&self) -> Result<Screen> {
        let start = Instant::now();
        let h5 = H5ad::open(&self.h5ad).with_context(|| format!("reading {}", self.h5ad.display()))?;
        let sel = ScreenSelection {
            group_column: &self.group_column,
            control: &self.control,
            filter: self.filter.as_ref().map(|(c, v)| (c.as_str(), v.as_str())),
            layer: self.layer.as_deref(),
            normalize: self.normalize.map(NormalizeArg::normalization),
            gene_column: self.gene_column.as_deref(),
        };
        let screen = read_screen(&h5, &sel)?;
        let choice = &screen.cells.normalization;
        if choice.assumed {
            eprintln!(
                "normalisation: {} — assumed, because --normalize was not given and {}",
                choice.normalization.name(),
                choice.reason
            );
        } else {
            eprintln!("normalisation: {} (as asked)", choice.normalization.name());
        }
        let sizes = screen.group_sizes();
        eprintln!(
            "{}: {} cells × {} genes read ({} left out: no label{}) in {:.2} s; {} group(s) besides '{}' ({} control cells)",
            self.h5ad.display(),
            screen.cells.x.n_rows(),
            screen.genes.len(),
            screen.cells_left_out,
            if self.filter.is_some() { " or filtered" } else { "" },
            start.elapsed().as_secs_f64(),
            screen.groups.len() - 1,
            self.control,
            sizes[screen.control]
        );
        if self.gene_column.is_none() {
            suggest_gene_column(&h5, &screen);
        }
        if screen.groups.len() < 2 {
            bail!(
                "{}: only the control group '{}' has cells; there is nothing to rank",
                self.h5ad.display(),
                self.control
            );
        }
        Ok(screen)
    }
}

impl NormalizeArg {
    pub fn normalization(self) -> Normalization {
        match self {
            NormalizeArg::Cp10kLog1p => Normalization::Cp10kLog1p,
            NormalizeArg::CpmLog2 => Normalization::CpmLog2,
            NormalizeArg::None => Normalization::None,
        }
    }
}

#[derive(clap::Args)]
pub struct RankArgs {
    #[command(flatten)]
    pub screen: ScreenArgs,
    /// Which way the perturbation moves its target.
    #[arg(long, value_enum, default_value = "both")]
    pub direction: DirectionArg,
    /// Rank by the plain statistic, without subtracting the other groups' median.
    #[arg(long)]
    pub no_specific: bool,
    /// Output: CSV, or Parquet by extension.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn rank(args: &RankArgs) -> Result<()> {
    let start = Instant::now();
    let screen = args.screen.read()?;
    if screen.genes.iter().any(|g| g == "id") {
        bail!("{}: a gene is named 'id', like the output's id column; rename it", args.screen.h5ad.display());
    }
    report_unmeasured(&screen);
    let groups: Vec<Option<usize>> = screen.group_of_row.iter().map(|&g| Some(g)).collect();
    let (tested, scores) =
        de_target_ranking(&screen.cells.x, &groups, screen.control, args.direction.direction(), !args.no_specific)?;
    let ids: Vec<Option<String>> = tested.iter().map(|&g| Some(screen.groups[g].clone())).collect();
    let mut table = OutputTable::new().with("id", Column::Text(ids));
    for (j, gene) in screen.genes.iter().enumerate() {
        table = table.with(gene, Column::Float((0..scores.nrows()).map(|r| scores.get(r, j)).collect()));
    }
    table.write(&args.out).with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "wrote {} ({} groups × {} genes) in {:.2} s",
        args.out.display(),
        tested.len(),
        screen.genes.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// When the labels name few var_names but many values of a text var column (symbols beside
/// Ensembl ids), says which --gene-column to pass.
fn suggest_gene_column(h5: &H5ad, screen: &Screen) {
    let named: Vec<String> = screen
        .groups
        .iter()
        .enumerate()
        .filter(|&(g, _)| g != screen.control)
        .flat_map(|(_, label)| condition_genes(label).collect::<Vec<_>>())
        .collect();
    let hits = |names: &std::collections::HashSet<&str>| named.iter().filter(|g| names.contains(g.as_str())).count();
    let by_var_names = hits(&screen.genes.iter().map(String::as_str).collect());
    for column in h5.var_columns() {
        let Ok(values) = h5.var_column(column) else { continue };
        let labels: Vec<String> = values.labels().into_iter().flatten().collect();
        let found = hits(&labels.iter().map(String::as_str).collect());
        if found > by_var_names && found * 2 >= named.len() {
            eprintln!(
                "hint: the perturbation labels name {found} genes of var column '{column}' but {by_var_names} var_names; \
                 pass --gene-column {column} to name genes by it"
            );
            return;
        }
    }
}

/// Lists the groups whose labels name genes that are not measured.
fn report_unmeasured(screen: &Screen) {
    let measured: std::collections::HashSet<&str> = screen.genes.iter().map(String::as_str).collect();
    let missing: Vec<(String, Vec<String>)> = screen
        .groups
        .iter()
        .enumerate()
        .filter(|&(g, _)| g != screen.control)
        .filter_map(|(_, label)| {
            let absent: Vec<String> = condition_genes(label).filter(|gene| !measured.contains(gene.as_str())).collect();
            (!absent.is_empty()).then(|| (label.clone(), absent))
        })
        .collect();
    if missing.is_empty() {
        eprintln!("every group's label names measured genes");
        return;
    }
    let shown: Vec<String> = missing.iter().take(10).map(|(l, a)| format!("{l} ({})", a.join(", "))).collect();
    eprintln!(
        "note: {} of {} groups name genes that are not measured, so those genes cannot be ranked: {}{}",
        missing.len(),
        screen.groups.len() - 1,
        shown.join("; "),
        if missing.len() > shown.len() {
            format!("; … ({} more)", missing.len() - shown.len())
        } else {
            String::new()
        }
    );
}

#[derive(clap::Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub screen: ScreenArgs,
    /// Cells per held-out group, comma-separated, each at least 1 (1 = single cells).
    #[arg(long, value_delimiter = ',', default_value = "1,10", value_parser = crate::args::whole(1..=usize::MAX))]
    pub group_size: Vec<usize>,
    /// Stratified folds, 2 to 1000.
    #[arg(long, default_value_t = 5, value_parser = crate::args::whole(2..=1000))]
    pub folds: usize,
    /// Seed of the folds, the forest, the groups of cells and the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Principal components of the PCA rankers, at least 1.
    #[arg(long, default_value_t = 50, value_parser = crate::args::whole(1..=usize::MAX))]
    pub components: usize,
    /// Neighbours of pca_knn, at least 1.
    #[arg(short = 'k', long = "k", default_value_t = 15, value_parser = crate::args::whole(1..=usize::MAX))]
    pub k: usize,
    /// Trees of pca_forest, at least 1.
    #[arg(long, default_value_t = 100, value_parser = crate::args::whole(1..=usize::MAX))]
    pub trees: usize,
    /// Boosting rounds of pca_boosting (one tree per perturbation per round), at least 1.
    #[arg(long, default_value_t = 50, value_parser = crate::args::whole(1..=usize::MAX))]
    pub rounds: usize,
    /// The direction the DE rankers assume.
    #[arg(long, value_enum, default_value = "both")]
    pub direction: DirectionArg,
    /// Output CSV: group_size, ranker, groups, skipped, candidates, mrr, hit@1, hit@5, hit@10,
    /// mrr_vs_pca_knn, ci_low, ci_high.
    #[arg(long)]
    pub out: PathBuf,
}

/// Bootstrap resamples of the comparisons against pca_knn.
const BOOTSTRAP_RESAMPLES: usize = 2000;

/// Dense cells × genes values above this need a narrower selection (--where).
const MAX_DENSE_VALUES: usize = 400_000_000;

pub fn evaluate(args: &EvaluateArgs) -> Result<()> {
    let start = Instant::now();
    if args.group_size.contains(&0) {
        bail!("--group-size: groups need at least one cell");
    }
    let screen = args.screen.read()?;
    report_unmeasured(&screen);
    let (n, g) = (screen.cells.x.n_rows(), screen.genes.len());
    if n.saturating_mul(g) > MAX_DENSE_VALUES {
        bail!(
            "{n} cells × {g} genes is too large for the reference rankers (they need the cells dense); select \
             fewer cells with --where COLUMN=VALUE"
        );
    }
    let x = screen.cells.x.to_dense();
    let labels: Vec<&str> = screen.group_of_row.iter().map(|&g| screen.groups[g].as_str()).collect();
    let direction = args.direction.direction();
    let reference = [
        ConditionRanker::PcaKnn { components: args.components, k: args.k },
        ConditionRanker::PcaForest { components: args.components, trees: args.trees, seed: args.seed },
        ConditionRanker::PcaBoosting { components: args.components, rounds: args.rounds },
        ConditionRanker::PcaCentroid { components: args.components },
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
    let mut rows: Vec<(usize, RankerScore, Comparison)> = Vec::new();
    for &group_size in &args.group_size {
        let cv = CvOptions { folds: args.folds, group_size, seed: args.seed };
        let scores = cross_validate_rankers(&x, &screen.genes, &labels, &args.screen.control, &rankers, cv)?;
        if scores[0].per_group.is_empty() {
            let largest = screen
                .group_sizes()
                .iter()
                .enumerate()
                .filter(|&(g, _)| g != screen.control)
                .map(|(_, n)| *n)
                .max()
                .unwrap_or(0);
            eprintln!(
                "warning: --group-size {group_size}: no perturbation has {group_size} cells in a held-out fold (the \
                 largest has {largest} cells, about {} per fold); skipped",
                largest / args.folds.max(1)
            );
            continue;
        }
        // Each ranker against the reference baseline (pca_knn, first), perturbations resampled.
        // Rankers of other candidate sets (DE ranks every measured gene) are not comparable.
        for s in &scores {
            let vs_knn = if s.candidates == scores[0].candidates {
                let (a, b) = paired_condition_means(s, &scores[0]);
                paired_bootstrap(&a, &b, BOOTSTRAP_RESAMPLES, args.seed)
            } else {
                Comparison {
                    difference: f64::NAN,
                    ci_low: f64::NAN,
                    ci_high: f64::NAN,
                    p_value: f64::NAN,
                    resamples: 0,
                }
            };
            rows.push((group_size, s.clone(), vs_knn));
        }
    }
    if rows.is_empty() {
        bail!("no --group-size could be evaluated: use smaller groups or fewer --folds");
    }
    eprintln!(
        "{:>5}  {:<26} {:>6} {:>7} {:>10} {:>7} {:>6} {:>6} {:>6}  Δ MRR vs pca_knn [95% CI]",
        "cells", "ranker", "groups", "skipped", "candidates", "MRR", "hit@1", "hit@5", "hit@10"
    );
    for (size, s, c) in &rows {
        eprintln!(
            "{size:>5}  {:<26} {:>6} {:>7} {:>10} {:>7.4} {:>6.3} {:>6.3} {:>6.3}  {:+.3} [{:+.3}, {:+.3}]",
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
        );
    }
    eprintln!(
        "(Δ: mean over perturbations of the MRR difference on the groups both rankers scored; {BOOTSTRAP_RESAMPLES} \
         bootstrap resamples of the perturbations)"
    );
    let int = |f: &dyn Fn(&(usize, RankerScore, Comparison)) -> usize| {
        Column::Int(rows.iter().map(|r| f(r) as i64).collect())
    };
    let float = |f: &dyn Fn(&RankerScore) -> f64| Column::Float(rows.iter().map(|(_, s, _)| f(s)).collect());
    let versus = |f: &dyn Fn(&Comparison) -> f64| Column::Float(rows.iter().map(|(_, _, c)| f(c)).collect());
    OutputTable::new()
        .with("group_size", int(&|r| r.0))
        .with("ranker", Column::Text(rows.iter().map(|(_, s, _)| Some(s.ranker.clone())).collect()))
        .with("groups", int(&|r| r.1.groups))
        .with("skipped", int(&|r| r.1.skipped))
        .with("candidates", int(&|r| r.1.candidates))
        .with("mrr", float(&|s| s.mrr))
        .with("hit@1", float(&|s| s.hit_at[0]))
        .with("hit@5", float(&|s| s.hit_at[1]))
        .with("hit@10", float(&|s| s.hit_at[2]))
        .with("mrr_vs_pca_knn", versus(&|c| c.difference))
        .with("ci_low", versus(&|c| c.ci_low))
        .with("ci_high", versus(&|c| c.ci_high))
        .write(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!("wrote {} in {:.1} s", args.out.display(), start.elapsed().as_secs_f64());
    Ok(())
}
