//! A synthetic DRUG-seq screen in the VCPI layout: raw counts (genes × replicate samples) of
//! compounds whose chemistry switches on planted gene programs.
//!
//! Compounds are the scaffold families × substituent pairs of [`crate::synth`]. The first
//! substituent decides the response: substituents are dealt to the programs (and a share of them
//! to none — inactive compounds, most of a real library), so the signal is shared across
//! scaffolds and a model can learn it from chemistry under a scaffold split. An active compound
//! moves its program's genes (log effects N(0, 0.8²), the same for every compound of the
//! program) by a strength that depends on the second substituent (0.6–1.4).
//!
//! Counts are Poisson with rate `library × share_g × exp(effect + noise)`: gene shares are
//! log-normal (so some genes are noisy at low counts), the per-sample noise N(0, 0.2²) makes
//! replicates differ, libraries vary ±30 %.

use cellcast_chem::Molecule;
use cellcast_stats::rng::SplitMix64;
use cellcast_stats::Matrix;

use crate::screen_synth::poisson;
use crate::synth::{shuffled_combinations, FAMILIES, SUBSTITUENTS};

/// The knobs of [`synth_drugseq`].
#[derive(Debug, Clone, PartialEq)]
pub struct DrugseqParams {
    pub compounds: usize,
    pub genes: usize,
    pub programs: usize,
    /// Genes per program.
    pub program_genes: usize,
    pub replicates: usize,
    /// Mean counts per sample.
    pub library: f64,
    pub seed: u64,
}

impl Default for DrugseqParams {
    fn default() -> Self {
        DrugseqParams {
            compounds: 240,
            genes: 300,
            programs: 4,
            program_genes: 15,
            replicates: 3,
            library: 200_000.0,
            seed: 0,
        }
    }
}

/// A generated screen.
#[derive(Debug, Clone)]
pub struct SynthDrugseq {
    pub compounds: Vec<String>,
    pub smiles: Vec<String>,
    /// Scaffold family of each compound (families 10 and 11 are the test compounds).
    pub family: Vec<usize>,
    /// The planted program each compound switches on (`None`: inactive).
    pub program: Vec<Option<usize>>,
    pub genes: Vec<String>,
    /// Sample ids and their compound (index into `compounds`).
    pub samples: Vec<(String, usize)>,
    /// Raw counts, genes × samples.
    pub counts: Matrix,
    /// The planted programs: (gene index, log effect).
    pub planted: Vec<Vec<(usize, f64)>>,
}

impl SynthDrugseq {
    /// Test compounds: the last two scaffold families, never trained on.
    pub fn is_test(&self, compound: usize) -> bool {
        self.family[compound] >= 10
    }
}

/// Generates a screen (see the [module documentation](self)); the same parameters give the same
/// screen.
pub fn synth_drugseq(p: &DrugseqParams) -> SynthDrugseq {
    let mut rng = SplitMix64::new(p.seed);
    let genes: Vec<String> = (0..p.genes).map(|g| format!("ENSG{g:011}")).collect();
    let log_share: Vec<f64> = (0..p.genes).map(|_| 1.2 * rng.normal()).collect();
    let total: f64 = log_share.iter().map(|v| v.exp()).sum();
    let share: Vec<f64> = log_share.iter().map(|v| v.exp() / total).collect();

    // Programs: disjoint gene sets drawn from the better-expressed half (a response must be
    // measurable), each gene with its own log effect.
    let mut order: Vec<usize> = (0..p.genes).collect();
    order.sort_by(|&a, &b| share[b].total_cmp(&share[a]));
    let mut pool = order[..p.genes / 2].to_vec();
    rng.shuffle(&mut pool);
    let planted: Vec<Vec<(usize, f64)>> = (0..p.programs)
        .map(|k| {
            pool[k * p.program_genes..(k + 1) * p.program_genes]
                .iter()
                .map(|&g| {
                    let e = 0.8 * rng.normal();
                    (g, if e.abs() < 0.3 { 0.3f64.copysign(e) } else { e })
                })
                .collect()
        })
        .collect();
    // Substituents → programs: about a third inactive.
    let mut program_of_substituent: Vec<Option<usize>> =
        (0..SUBSTITUENTS.len()).map(|a| if a % 3 == 2 { None } else { Some(a % p.programs.max(1)) }).collect();
    rng.shuffle(&mut program_of_substituent);

    let combos = shuffled_combinations(&mut rng);
    let (mut compounds, mut smiles, mut family, mut program, mut strength) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (f, a, b) in combos {
        if compounds.len() == p.compounds {
            break;
        }
        let s = FAMILIES[f].replace("{a}", SUBSTITUENTS[a]).replace("{b}", SUBSTITUENTS[b]);
        if Molecule::parse_sanitized(&s).is_err() {
            continue;
        }
        compounds.push(format!("cmp_{:04}", compounds.len()));
        smiles.push(s);
        family.push(f);
        program.push(if p.programs == 0 { None } else { program_of_substituent[a] });
        strength.push(0.6 + 0.8 * b as f64 / (SUBSTITUENTS.len() - 1) as f64);
    }

    let mut samples = Vec::new();
    let mut columns: Vec<Vec<f64>> = Vec::new();
    for c in 0..compounds.len() {
        let mut effect = vec![0.0; p.genes];
        if let Some(k) = program[c] {
            for &(g, e) in &planted[k] {
                effect[g] = strength[c] * e;
            }
        }
        for r in 0..p.replicates {
            let library = p.library * (1.0 + 0.3 * (2.0 * rng.uniform() - 1.0));
            let column: Vec<f64> = (0..p.genes)
                .map(|g| {
                    let rate = library * share[g] * (effect[g] + 0.2 * rng.normal()).exp();
                    poisson(&mut rng, rate) as f64
                })
                .collect();
            samples.push((format!("{}_r{}", compounds[c], r + 1), c));
            columns.push(column);
        }
    }
    let mut counts = Matrix::filled(p.genes, columns.len(), 0.0);
    for (j, column) in columns.iter().enumerate() {
        for (g, &v) in column.iter().enumerate() {
            counts.set(g, j, v);
        }
    }
    SynthDrugseq { compounds, smiles, family, program, genes, samples, counts, planted }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproducible_counts_with_programs_switched_on_by_chemistry() {
        let p = DrugseqParams { compounds: 60, ..DrugseqParams::default() };
        let s = synth_drugseq(&p);
        assert_eq!(s.compounds.len(), 60);
        assert_eq!((s.counts.nrows(), s.counts.ncols()), (300, 180));
        assert_eq!(synth_drugseq(&p).counts, s.counts);
        assert!(s.counts.as_slice().iter().all(|v| v.fract() == 0.0 && *v >= 0.0));
        assert!(s.program.iter().any(Option::is_none) && s.program.iter().any(Option::is_some));
        // A program gene's log CPM moves in the program's compounds.
        let (g, e) = s.planted[0][0];
        let log_cpm = |c: usize| {
            let cols: Vec<usize> = (0..s.samples.len()).filter(|&j| s.samples[j].1 == c).collect();
            cols.iter()
                .map(|&j| {
                    let lib: f64 = (0..300).map(|i| s.counts.get(i, j)).sum();
                    (s.counts.get(g, j) / lib * 1e6 + 1.0).log2()
                })
                .sum::<f64>()
                / cols.len() as f64
        };
        let on: Vec<usize> = (0..60).filter(|&c| s.program[c] == Some(0)).collect();
        let off: Vec<usize> = (0..60).filter(|&c| s.program[c].is_none()).collect();
        let mean = |cs: &[usize]| cs.iter().map(|&c| log_cpm(c)).sum::<f64>() / cs.len() as f64;
        let shift = mean(&on) - mean(&off);
        assert!(shift * e > 0.0 && shift.abs() > 0.3, "shift {shift}, planted {e}");
    }
}
