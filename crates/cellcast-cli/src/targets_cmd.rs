//! `cellcast targets rank` and `cellcast targets evaluate`: arguments → options → call → print.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use cellcast::cells::ScreenOptions;
use cellcast::targets;
use cellcast::CellsSource;

use crate::args::DirectionArg;
use crate::observer::Terminal;
use crate::pseudobulk_cmd::NormalizeArg;
use cellcast::targets::{GroupSize, StatisticChoice};

pub const RANK_ABOUT: &str = "\
Rank every measured gene for each group of cells by how likely it is the perturbed gene, from
differential expression against the control cells — no training data needed.

For each group (a label of --group-column other than --control), every gene gets a statistic of
the group's cells against the controls, on the normalised values (n cells x in the group, m
controls y; groups of a single cell are ranked too). --statistic chooses it:

  wilcoxon   tie-corrected Wilcoxon rank-sum z (scanpy's rank_genes_groups score):
             z = (R − n(n + m + 1)/2) / √(n·m/12 · (n + m + 1 − T/((n + m)(n + m − 1)))), R the sum
             of the group's midranks among the n + m values, T = Σ(t³ − t) over tied blocks; 0
             when every value ties
  welch      Welch's t: t = (x̄ − ȳ) / √(s²ₓ/n + s²ᵧ/m), sample variances (n − 1 denominators);
             undefined for one cell
  mean_z     the mean shift in units of the control spread: d = (x̄ − ȳ) / sᵧ, sᵧ the controls'
             standard deviation (m − 1 denominator); undefined when the controls are constant
  detection  the change in detection rate (share of cells with a non-zero value), as a binomial
             z: z = (pₓ − pᵧ) / √(p(1 − p)(1/n + 1/m)), p the pooled share; 0 when p is 0 or 1
  combined   the three together: (z_wilcoxon + z_mean + z_detection) / √3, z_mean = (x̄ − ȳ) /
             (sᵧ √(1/n + 1/m)), z_detection as detection; an undefined part counts 0
  auto       (the default) chosen per screen. The fallback is combined, plain (for a file whose
             groups are all single cells: mean_z, plain). When at least 5 groups name a measured
             gene (two cells or more each), every statistic, plain and made specific, ranks
             held-out halves of those groups (2 folds, against the other fold's controls); the one
             with the highest mean reciprocal rank of the true gene replaces the fallback only if
             it is better beyond chance (the 5 % bootstrap quantile of its per-group gain, groups
             resampled, is above 0). The choice reads the labels of the groups it then ranks; with
             few groups that would favour it, which is why it needs 5. `cellcast targets evaluate`
             measures it held out, choosing on the training folds only.

The direction turns the statistic into a score: a CRISPRi / knockout / knockdown target drops
(--direction down: −statistic), a CRISPRa or overexpression target rises (up: the statistic),
both: its size. A statistic that is undefined or infinite for a gene ranks it last. A fixed
statistic is then made specific unless --no-specific: the median of the other groups' scores of
the gene is subtracted, so genes that move in every group (stress, proliferation) do not crowd out
the targets; auto chooses (--specific / --no-specific restrict its choice).

A gene can only be ranked if it is measured: groups whose labels name genes that are not among the
file's genes (`A+B` names A and B) are listed on stderr and in the record. Genes are named by
var_names, or by a var column with --gene-column (when var_names are Ensembl ids and the labels are
symbols; a hint says so when a var column matches the labels better).

Input: X (or --layer) may be raw counts (every value a non-negative integer): it is then
normalised to counts per 10k + log1p unless --normalize says otherwise; transformed values are
used as stored. What was assumed is printed.

Output (--out, CSV or Parquet): `id` (the group label) and one column per gene of the file (names
made unique as anndata does), higher = more likely the target. It is what
`cellcast score --metric ranking/mrr --truth targets.csv --pred ranks.csv` reads, with a truth
table of `id,targets` (targets joined by ';'). Beside it, the same name with `.json` (ranks.csv →
ranks.json) records what was done: the statistic used, its formula and why (auto's held-out
scores), the direction, specificity, normalisation, and the groups whose genes cannot be ranked
because they are not measured.

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
  de_<statistic>_<dir>[_specific]   each statistic of `targets rank` (wilcoxon, welch, mean_z,
                    detection, combined; plain and made specific) against the training controls;
                    ranks every measured gene, learns nothing, cannot find an unmeasured target
  de_auto_<dir>     `targets rank`'s default: the statistic chosen on the training folds alone
                    (their groups' held-out halves), then run as above; the choice of each fold
                    is printed

--group-size takes numbers of cells and `all`: every held-out cell of a perturbation in a fold as
one group (with --folds 2, half of each perturbation, ranked against the other half's controls).

Reference rankers rank the genes the training perturbations name (`A+B` names A and B); a group
counts for a ranker when one of its true genes is among the ranker's candidates (`skipped`
otherwise). Reported: MRR and hit@1/5/10 per ranker and group size; each ranker's MRR difference
from pca_knn on the groups both scored, and each DE ranker's from de_auto, with 95 % paired
bootstrap intervals that resample perturbations (cells of one perturbation are not independent,
so groups are not resampled). pca_knn ranks fewer candidates than a DE ranker (the perturbed
genes, measured or not, against every measured gene), so that difference says how high each
puts the true gene, not which orders one list better.

Example:
  cellcast targets evaluate --h5ad norman.h5ad --group-column condition --control control \\
      --where dataset=norman19 --group-size 1,10,all --out target_id.csv";

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
    pub fn options(&self) -> ScreenOptions<'static> {
        ScreenOptions {
            cells: CellsSource::H5ad(self.h5ad.clone()),
            group_column: self.group_column.clone(),
            control: self.control.clone(),
            layer: self.layer.clone(),
            normalize: self.normalize.map(NormalizeArg::normalization),
            filter: self.filter.clone(),
            gene_column: self.gene_column.clone(),
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
    /// The statistic: wilcoxon, welch, mean_z, detection, combined, or auto (chosen per screen;
    /// see above).
    #[arg(long, default_value = "auto", value_parser = parse_statistic)]
    pub statistic: StatisticChoice,
    /// Rank by the plain statistic, without subtracting the other groups' median (with auto:
    /// choose among plain statistics only).
    #[arg(long, conflicts_with = "specific")]
    pub no_specific: bool,
    /// Subtract the other groups' median (with auto: choose among specific statistics only).
    #[arg(long)]
    pub specific: bool,
    /// Output: CSV, or Parquet by extension; what was done goes beside it with the extension
    /// .json (ranks.csv → ranks.json).
    #[arg(long)]
    pub out: PathBuf,
}

fn parse_statistic(s: &str) -> Result<StatisticChoice, String> {
    StatisticChoice::parse(s).map_err(|e| e.to_string())
}

fn parse_group_size(s: &str) -> Result<GroupSize, String> {
    if s.trim() == "all" {
        return Ok(GroupSize::Whole);
    }
    crate::args::whole(1..=usize::MAX)(s).map(GroupSize::Cells).map_err(|e| format!("{e}, or all"))
}

pub fn rank(args: &RankArgs) -> Result<()> {
    let start = Instant::now();
    let opts = targets::TargetsRankOptions {
        screen: args.screen.options(),
        direction: args.direction.direction(),
        statistic: args.statistic,
        specific: match (args.specific, args.no_specific) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        out: Some(args.out.clone()),
    };
    let outcome = targets::rank(&opts, &Terminal::default())?;
    eprintln!(
        "wrote {} ({} groups × {} genes) and {} in {:.2} s",
        args.out.display(),
        outcome.ids.len(),
        outcome.genes.len(),
        targets::sidecar_path(&args.out).display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

#[derive(clap::Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub screen: ScreenArgs,
    /// Cells per held-out group, comma-separated, each at least 1 (1 = single cells), or `all`
    /// (every held-out cell of a perturbation in a fold).
    #[arg(long, value_delimiter = ',', default_value = "1,10", value_parser = parse_group_size)]
    pub group_size: Vec<GroupSize>,
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
    /// mrr_vs_pca_knn, ci_low, ci_high, mrr_vs_default, default_ci_low, default_ci_high, chosen.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn evaluate(args: &EvaluateArgs) -> Result<()> {
    let start = Instant::now();
    let opts = targets::TargetsEvaluateOptions {
        screen: args.screen.options(),
        group_sizes: args.group_size.clone(),
        folds: args.folds,
        seed: args.seed,
        components: args.components,
        k: args.k,
        trees: args.trees,
        rounds: args.rounds,
        direction: args.direction.direction(),
        out: Some(args.out.clone()),
    };
    targets::evaluate(&opts, &Terminal::default())?;
    eprintln!("wrote {} in {:.1} s", args.out.display(), start.elapsed().as_secs_f64());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_help_gives_every_statistic_and_the_sidecar() {
        for s in cellcast::targets::STATISTICS {
            assert!(super::RANK_ABOUT.contains(&format!("\n  {}", s.name)), "{} is not in --help", s.name);
        }
        assert!(super::RANK_ABOUT.contains("ranks.csv →\nranks.json"));
        assert_eq!(super::parse_group_size("all"), Ok(cellcast::targets::GroupSize::Whole));
        assert_eq!(super::parse_group_size("30"), Ok(cellcast::targets::GroupSize::Cells(30)));
        assert!(super::parse_group_size("0").unwrap_err().ends_with("or all"));
    }
}
