//! A synthetic single-cell CRISPR screen with known answers: raw counts of control cells and of
//! cells whose perturbation hits one gene (or two, for double perturbations), for testing target
//! identification and response prediction without data files.
//!
//! Each cell's counts are Poisson with rate `library × share_j × exp(effect_j + noise)`:
//!
//! - gene shares are log-normal (a few highly expressed genes, many low ones), libraries
//!   log-normal around `library`, the per-cell, per-gene noise N(0, 0.3²) (overdispersion);
//! - a perturbation multiplies its target's rate by its knockdown factor (CRISPRi: 0.05–0.4;
//!   CRISPRa: 4–12×) — unless the target is *unmeasured* (named `NOTMEASURED<k>`, not a gene of
//!   the panel), so a ranker must say it cannot find it;
//! - each single perturbation also moves one of a few shared *programs* (20 genes, log effects
//!   N(0, 0.6²), scaled by a per-perturbation strength), so perturbations of a program look
//!   alike — what response prediction learns from;
//! - every perturbed cell shifts a common stress response (10 genes, +0.4 in log) — the genes a
//!   naive DE ranker confuses with targets;
//! - a double perturbation `A+B` adds the log effects of A and B (plus both knockdowns).
//!
//! With [`Knockout`] the perturbations are CRISPR knockouts instead, which lower their target
//! less reliably than CRISPRi: a share of each perturbation's cells keep a working allele
//! (in-frame edits) and their target is untouched; in the other cells nonsense-mediated decay
//! leaves part of the mRNA; and targets are lowly detected genes (a few counts per cell).

use cellcast_stats::rng::SplitMix64;
use cellcast_stats::sparse::CsrMatrix;

use crate::targets::Direction;

/// The knobs of [`synth_screen`].
#[derive(Debug, Clone, PartialEq)]
pub struct ScreenParams {
    pub genes: usize,
    /// Single-gene perturbations (each its own target gene).
    pub perturbations: usize,
    /// Double perturbations `A+B` of two single ones.
    pub doubles: usize,
    /// Single perturbations whose target is not among the measured genes.
    pub unmeasured: usize,
    pub cells_per_group: usize,
    pub control_cells: usize,
    /// Which way a perturbation moves its target (`Both` draws each perturbation's way).
    pub direction: Direction,
    /// Mean counts per cell.
    pub library: f64,
    pub programs: usize,
    /// Knockouts instead of CRISPRi / CRISPRa (needs `direction` [`Direction::Down`]).
    pub knockout: Option<Knockout>,
    pub seed: u64,
}

/// How generated knockouts act on their targets (each perturbation draws its own values
/// uniformly from the ranges).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Knockout {
    /// Share of a perturbation's cells that escape: their target is not lowered at all.
    pub escape: (f64, f64),
    /// Share of the target's mRNA left in the edited cells (nonsense-mediated decay is partial).
    pub residual: (f64, f64),
    /// Targets are drawn among the genes whose mean count per control cell lies in this range.
    pub target_counts: (f64, f64),
}

impl Default for Knockout {
    fn default() -> Self {
        Knockout { escape: (0.1, 0.4), residual: (0.15, 0.6), target_counts: (1.0, 8.0) }
    }
}

impl Default for ScreenParams {
    fn default() -> Self {
        ScreenParams {
            genes: 300,
            perturbations: 20,
            doubles: 5,
            unmeasured: 2,
            cells_per_group: 40,
            control_cells: 200,
            direction: Direction::Down,
            library: 4000.0,
            programs: 4,
            knockout: None,
            seed: 0,
        }
    }
}

/// A generated screen.
#[derive(Debug, Clone)]
pub struct SynthScreen {
    /// Raw counts, cells × genes.
    pub counts: CsrMatrix<f64>,
    pub genes: Vec<String>,
    /// Each cell's perturbation label (`control`, `G0012`, `G0012+G0040`).
    pub labels: Vec<String>,
    /// The perturbation labels, control first.
    pub groups: Vec<String>,
    /// The control label.
    pub control: String,
    /// For every perturbation (in `groups[1..]` order): the log change of each of its targets
    /// (ln of the knockdown or activation factor; of a knockout, in the cells that do not escape).
    pub target_log_change: Vec<Vec<f64>>,
    /// For every perturbation: the share of its cells in which each target escapes (0 but for
    /// knockouts).
    pub target_escape: Vec<Vec<f64>>,
}

/// The label of control cells.
pub const CONTROL: &str = "control";

/// Generates a screen (see the [module documentation](self)); the same parameters give the
/// same screen.
pub fn synth_screen(p: &ScreenParams) -> SynthScreen {
    let mut rng = SplitMix64::new(p.seed);
    let genes: Vec<String> = (0..p.genes).map(|j| format!("G{j:04}")).collect();
    let log_share: Vec<f64> = (0..p.genes).map(|_| 1.3 * rng.normal()).collect();
    let total: f64 = log_share.iter().map(|v| v.exp()).sum();
    let share: Vec<f64> = log_share.iter().map(|v| v.exp() / total).collect();

    // Targets: distinct measured genes, preferring those expressed well enough to see a drop.
    let mut by_share: Vec<usize> = (0..p.genes).collect();
    by_share.sort_by(|&a, &b| share[b].total_cmp(&share[a]));
    let mut pool: Vec<usize> = by_share[..(p.genes / 2).max(1)].to_vec();
    rng.shuffle(&mut pool);
    let stress: Vec<usize> = pool.split_off(pool.len().saturating_sub(10));
    if let Some(ko) = &p.knockout {
        // Knockout targets are lowly detected: the genes whose control count is in range (the
        // nearest ones in log scale when too few are), never a stress gene.
        let centre = (ko.target_counts.0 * ko.target_counts.1).sqrt().ln();
        let mut low: Vec<usize> = (0..p.genes).filter(|g| !stress.contains(g)).collect();
        let count = |g: usize| p.library * share[g];
        let distance = |g: usize| {
            let c = count(g);
            if (ko.target_counts.0..=ko.target_counts.1).contains(&c) {
                0.0
            } else {
                (c.ln() - centre).abs()
            }
        };
        low.sort_by(|&a, &b| distance(a).total_cmp(&distance(b)).then(a.cmp(&b)));
        let in_range = low.iter().take_while(|&&g| distance(g) == 0.0).count();
        low.truncate(in_range.max(p.perturbations));
        rng.shuffle(&mut low);
        pool = low;
    }
    let measured = p.perturbations.saturating_sub(p.unmeasured);
    let programs: Vec<Vec<(usize, f64)>> = (0..p.programs.max(1))
        .map(|_| (0..20).map(|_| (rng.below(p.genes as u64) as usize, 0.6 * rng.normal())).collect())
        .collect();

    struct Perturbation {
        label: String,
        /// (gene, log change, share of cells escaping) of the targets.
        targets: Vec<(Option<usize>, f64, f64)>,
        /// log effects on every gene besides the targets.
        effect: Vec<f64>,
    }
    let mut singles = Vec::new();
    for k in 0..p.perturbations {
        let target = (k < measured).then(|| pool[k % pool.len()]);
        let up = match p.direction {
            Direction::Down => false,
            Direction::Up => true,
            Direction::Both => rng.uniform() < 0.5,
        };
        let mut factor = if up { 4.0 + 8.0 * rng.uniform() } else { 0.05 + 0.35 * rng.uniform() };
        let mut escape = 0.0;
        if let Some(ko) = &p.knockout {
            factor = ko.residual.0 + (ko.residual.1 - ko.residual.0) * rng.uniform();
            escape = ko.escape.0 + (ko.escape.1 - ko.escape.0) * rng.uniform();
        }
        let mut effect = vec![0.0; p.genes];
        let strength = 0.5 + rng.uniform();
        for &(g, e) in &programs[k % programs.len()] {
            effect[g] += strength * e;
        }
        for &g in &stress {
            effect[g] += 0.4;
        }
        let label = target.map_or_else(|| format!("NOTMEASURED{k}"), |t| genes[t].clone());
        singles.push(Perturbation { label, targets: vec![(target, factor.ln(), escape)], effect });
    }
    let mut doubles = Vec::new();
    for d in 0..p.doubles.min(p.perturbations * p.perturbations.saturating_sub(1) / 2) {
        // Pairs (0,1), (1,2), … (n-1,0), then (0,2), (1,3), …: reproducible.
        let n = p.perturbations;
        let (a, b) = (d % n, (d % n + 1 + d / n) % n);
        let (a, b) = (&singles[a.min(b)], &singles[a.max(b)]);
        let effect = a
            .effect
            .iter()
            .zip(&b.effect)
            .zip(&stress_mask(&stress, p.genes))
            .map(|((x, y), s)| x + y - s * 0.4)
            .collect();
        doubles.push(Perturbation {
            label: format!("{}+{}", a.label, b.label),
            targets: a.targets.iter().chain(&b.targets).copied().collect(),
            effect,
        });
    }
    let perturbations: Vec<Perturbation> = singles.into_iter().chain(doubles).collect();

    let mut labels = Vec::new();
    let mut indptr = vec![0usize];
    let mut indices = Vec::new();
    let mut data = Vec::new();
    let control = Perturbation { label: CONTROL.to_string(), targets: Vec::new(), effect: vec![0.0; p.genes] };
    let mut hit: Vec<bool> = Vec::new();
    let groups: Vec<(&Perturbation, usize)> = std::iter::once((&control, p.control_cells))
        .chain(perturbations.iter().map(|q| (q, p.cells_per_group)))
        .collect();
    for &(q, n) in &groups {
        for _ in 0..n {
            let library = p.library * (0.3 * rng.normal()).exp();
            // Whether each target is lowered in this cell (drawn only where cells can escape,
            // so CRISPRi screens keep their random stream).
            hit.clear();
            hit.extend(q.targets.iter().map(|t| t.2 == 0.0 || rng.uniform() >= t.2));
            for (j, (&effect, &share)) in q.effect.iter().zip(&share).enumerate() {
                let mut log_rate = effect + 0.3 * rng.normal();
                for (&(t, change, _), &hit) in q.targets.iter().zip(&hit) {
                    if hit && t == Some(j) {
                        log_rate += change;
                    }
                }
                let count = poisson(&mut rng, library * share * log_rate.exp());
                if count > 0 {
                    indices.push(j as u32);
                    data.push(count as f64);
                }
            }
            indptr.push(data.len());
            labels.push(q.label.clone());
        }
    }
    let counts = CsrMatrix::new(labels.len(), p.genes, indptr, indices, data).expect("rows built in gene order");
    SynthScreen {
        counts,
        genes,
        groups: groups.iter().map(|g| g.0.label.clone()).collect(),
        labels,
        control: CONTROL.to_string(),
        target_log_change: perturbations.iter().map(|q| q.targets.iter().map(|t| t.1).collect()).collect(),
        target_escape: perturbations.iter().map(|q| q.targets.iter().map(|t| t.2).collect()).collect(),
    }
}

/// 1 for the stress genes (a double perturbation shifts them once, not twice).
fn stress_mask(stress: &[usize], genes: usize) -> Vec<f64> {
    let mut m = vec![0.0; genes];
    for &g in stress {
        m[g] = 1.0;
    }
    m
}

/// A Poisson draw: Knuth's product method for small rates, a rounded normal for large ones
/// (rate ≥ 30, where the two differ by far less than the screen's own noise).
pub(crate) fn poisson(rng: &mut SplitMix64, rate: f64) -> u64 {
    if rate <= 0.0 || !rate.is_finite() {
        return 0;
    }
    if rate < 30.0 {
        let limit = (-rate).exp();
        let mut k = 0;
        let mut product = rng.uniform();
        while product > limit {
            k += 1;
            product *= rng.uniform();
        }
        return k;
    }
    (rate + rate.sqrt() * rng.normal()).round().max(0.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screens_are_reproducible_counts_with_the_planted_structure() {
        let p = ScreenParams { genes: 80, perturbations: 6, doubles: 2, unmeasured: 1, ..ScreenParams::default() };
        let s = synth_screen(&p);
        assert_eq!(s.counts.n_rows(), 200 + 8 * 40);
        assert_eq!(s.groups.len(), 1 + 6 + 2);
        assert_eq!(s.groups[0], CONTROL);
        assert!(s.groups[6].starts_with("NOTMEASURED"));
        assert_eq!(s.groups[7], format!("{}+{}", s.groups[1], s.groups[2]));
        assert!(s.counts.data().iter().all(|v| *v >= 1.0 && v.fract() == 0.0));
        assert_eq!(synth_screen(&p).counts, s.counts);
        assert_ne!(synth_screen(&ScreenParams { seed: 1, ..p.clone() }).counts, s.counts);
        // A knocked-down target's mean count falls to 5-40 % of the controls'.
        let target = s.genes.iter().position(|g| g == &s.groups[1]).unwrap();
        let mean = |label: &str| {
            let rows: Vec<usize> = (0..s.labels.len()).filter(|&i| s.labels[i] == label).collect();
            let total: f64 = rows
                .iter()
                .map(|&i| {
                    let (idx, vals) = s.counts.row(i);
                    idx.iter().zip(vals).filter(|(j, _)| **j as usize == target).map(|(_, v)| v).sum::<f64>()
                })
                .sum();
            total / rows.len() as f64
        };
        let ratio = mean(&s.groups[1]) / mean(CONTROL);
        let planted = s.target_log_change[0][0].exp();
        assert!((0.02..0.5).contains(&ratio) && (ratio / planted - 1.0).abs() < 0.5, "{ratio} vs {planted}");
        assert!(poisson(&mut SplitMix64::new(0), 0.0) == 0);
        let mut rng = SplitMix64::new(3);
        let draws: Vec<f64> = (0..20_000).map(|_| poisson(&mut rng, 4.5) as f64).collect();
        let m = draws.iter().sum::<f64>() / draws.len() as f64;
        let v = draws.iter().map(|x| (x - m).powi(2)).sum::<f64>() / draws.len() as f64;
        assert!((m - 4.5).abs() < 0.06 && (v - 4.5).abs() < 0.2, "{m} {v}");
    }

    #[test]
    fn knockouts_hit_lowly_detected_targets_in_some_cells_only() {
        let ko = Knockout::default();
        let p = ScreenParams { knockout: Some(ko), cells_per_group: 300, doubles: 0, ..ScreenParams::default() };
        let s = synth_screen(&p);
        assert_eq!(s.counts, synth_screen(&p).counts, "reproducible");
        let counts = |label: &str, gene: usize| -> Vec<f64> {
            (0..s.labels.len())
                .filter(|&i| s.labels[i] == label)
                .map(|i| {
                    let (idx, vals) = s.counts.row(i);
                    idx.iter().position(|&j| j as usize == gene).map_or(0.0, |k| vals[k])
                })
                .collect()
        };
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        for (k, label) in s.groups[1..].iter().enumerate().filter(|(_, l)| !l.starts_with("NOTMEASURED")) {
            let gene = s.genes.iter().position(|g| g == label).unwrap();
            let control = mean(&counts(CONTROL, gene));
            // Lowly detected: about 1-8 counts per control cell (the library varies, so allow
            // the draw of 200 cells some slack).
            assert!((0.6..12.0).contains(&control), "{label}: {control} counts per control cell");
            let (change, escape) = (s.target_log_change[k][0], s.target_escape[k][0]);
            assert!((ko.residual.0..=ko.residual.1).contains(&change.exp()), "{label}: residual {}", change.exp());
            assert!((ko.escape.0..=ko.escape.1).contains(&escape), "{label}: escape {escape}");
            // The group's mean falls to escape + (1 − escape) × residual of the controls'.
            let want = escape + (1.0 - escape) * change.exp();
            let ratio = mean(&counts(label, gene)) / control;
            assert!((ratio - want).abs() < 0.25, "{label}: ratio {ratio} vs {want}");
        }
        // CRISPRi screens escape nowhere.
        let crispri = synth_screen(&ScreenParams::default());
        assert!(crispri.target_escape.iter().flatten().all(|&e| e == 0.0));
    }
}
