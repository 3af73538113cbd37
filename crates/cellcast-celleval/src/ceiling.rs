//! cell-eval's data ceiling (`MetricsEvaluator.compute_ceiling`): the real data split into two
//! disjoint halves per perturbation with numpy's `default_rng(seed).permutation`, one half scored
//! as the other's prediction, and the Spearman–Brown correction of the reliability metrics' means.

use crate::error::{input, Result};
use crate::numpy_rng::NumpyRng;
use crate::screen::Screen;
use crate::{de, describe, evaluate_pair, summarize, EvaluateOptions, Reporter, Results};

/// cell-eval's data ceiling: the real data split into two disjoint halves per perturbation,
/// one scored as the prediction of the other.
#[derive(Debug, Clone)]
pub struct Ceiling {
    /// The half-depth scores per perturbation (`ceiling_results.csv`).
    pub results: Results,
    /// Per column, the Spearman–Brown corrected mean 2r/(1+r) for the reliability metrics
    /// (NaN where r ≤ 0 and for every other metric): `agg_ceiling_results.csv`.
    pub corrected: Vec<(String, f64)>,
    pub seed: u64,
    /// Perturbations with fewer than two cells, left out of both halves.
    pub dropped_perturbations: usize,
}

impl Ceiling {
    /// `agg_ceiling_results.csv`: one row, a column per metric.
    pub fn write_corrected(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let names: Vec<String> = self.corrected.iter().map(|(n, _)| de::csv_field(n)).collect();
        writeln!(out, "{}", names.join(","))?;
        let values: Vec<String> = self.corrected.iter().map(|(_, v)| describe::format_value(Some(*v))).collect();
        writeln!(out, "{}", values.join(","))
    }
}

/// The metrics the Spearman–Brown correction applies to (cell-eval's `SB_METRICS`).
const SPEARMAN_BROWN: [&str; 20] = [
    "pearson_delta",
    "discrimination_score_l1",
    "discrimination_score_l2",
    "discrimination_score_cosine",
    "overlap_at_N",
    "overlap_at_50",
    "overlap_at_100",
    "overlap_at_200",
    "overlap_at_500",
    "precision_at_N",
    "precision_at_50",
    "precision_at_100",
    "precision_at_200",
    "precision_at_500",
    "de_spearman_sig",
    "de_spearman_lfc_sig",
    "de_direction_match",
    "de_sig_genes_recall",
    "pr_auc",
    "roc_auc",
];

/// cell-eval's `compute_ceiling` (see [`Ceiling`]): per perturbation (in pandas' groupby order,
/// which is the screen's), `rng.permutation` of its cells; the first ⌊n/2⌋ go to the "real"
/// half, the next ⌊n/2⌋ to the "predicted" one, halves ordered by perturbation then draw.
pub(crate) fn ceiling(
    real: &Screen<'_>,
    seed: u64,
    with_de: bool,
    metrics: &[&'static str],
    opts: &EvaluateOptions<'_>,
    reporter: &dyn Reporter,
) -> Result<Ceiling> {
    let mut rng = NumpyRng::new(seed);
    let kept: Vec<usize> =
        (0..real.perturbation_of_cell.len()).filter(|&c| real.perturbation_of_cell[c] != u32::MAX).collect();
    let mut cells_of: Vec<Vec<usize>> = vec![Vec::new(); real.perturbations.len()];
    for (k, &c) in kept.iter().enumerate() {
        cells_of[real.perturbation_of_cell[c] as usize].push(k);
    }
    let n = real.perturbation_of_cell.len();
    let (mut pos_a, mut pos_b) = (vec![u32::MAX; n], vec![u32::MAX; n]);
    let (mut next_a, mut next_b) = (0u32, 0u32);
    let mut dropped = 0;
    for idx in &cells_of {
        let perm = rng.permutation(idx);
        let h = perm.len() / 2;
        if h == 0 {
            dropped += 1;
            continue;
        }
        for &k in &perm[..h] {
            pos_a[kept[k]] = next_a;
            next_a += 1;
        }
        for &k in &perm[h..2 * h] {
            pos_b[kept[k]] = next_b;
            next_b += 1;
        }
    }
    if dropped > 0 {
        reporter.warning(&format!(
            "ceiling: {dropped} perturbation(s) with fewer than 2 cells cannot be split and are left out; the \
             ceiling is averaged over the other perturbations"
        ));
    }
    if real.sizes[real.control] < 2 {
        return Err(input(format!(
            "{}: the control '{}' has fewer than 2 cells; the disjoint-split ceiling needs two halves",
            real.name, opts.control
        )));
    }
    reporter.note(&format!("ceiling: two disjoint halves of {} (seed {seed})", real.name));
    let mut half_a = real.subset(pos_a)?;
    let mut half_b = real.subset(pos_b)?;
    // Each half is its own pass, with its own progress bar.
    half_a.name = format!("{} (half A)", real.name);
    half_b.name = format!("{} (half B)", real.name);
    let summary_a = summarize(&half_a, with_de, opts, reporter)?;
    let summary_b = summarize(&half_b, with_de, opts, reporter)?;
    let results =
        evaluate_pair(&half_a, &summary_a, &half_b, summary_b, with_de, (None, None), metrics, opts, reporter)?;
    let corrected = results
        .columns
        .iter()
        .map(|c| {
            let present: Vec<f64> = c.values.iter().flatten().copied().collect();
            let r = present.iter().sum::<f64>() / present.len() as f64;
            let v = if SPEARMAN_BROWN.contains(&c.name.as_str()) && r > 0.0 { 2.0 * r / (1.0 + r) } else { f64::NAN };
            (c.name.clone(), v)
        })
        .collect();
    Ok(Ceiling { results, corrected, seed, dropped_perturbations: dropped })
}
