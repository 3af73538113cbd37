//! A synthetic positive-control task: compounds built from scaffold families and substituents,
//! responses a fixed function of their structure plus noise — a strong effect determined by the
//! compound's Bemis–Murcko scaffold (each scaffold its own seeded random profile) and a weak
//! linear effect of the whole molecule's Morgan bits (shared across families). Most of the
//! signal is family-specific, so retrieval shines when a compound's family is in training
//! (random split) and does worse than the mean when whole families are held out (scaffold
//! split) — the contrast of "The Metric Picks the Winner", reproduced with no data files.

use cellcast_chem::{Molecule, MorganParams};
use cellcast_stats::rng::SplitMix64;
use cellcast_stats::Matrix;

/// Ring systems with two attachment points.
pub(crate) const FAMILIES: [&str; 12] = [
    "{a}c1ccc({b})cc1",
    "{a}c1ccc({b})nc1",
    "{a}c1ccc2cc({b})ccc2c1",
    "{a}c1ccc2[nH]c({b})cc2c1",
    "{a}C1CCC({b})CC1",
    "{a}C1CCN({b})CC1",
    "{a}c1ccc({b})s1",
    "{a}c1cnc({b})nc1",
    "{a}c1ccc(-c2ccc({b})cc2)cc1",
    "{a}C(=O)N1CCN({b})CC1",
    "{a}c1ccc2occ({b})c2c1",
    "{a}C1CC2CCC({b})C2C1",
];

pub(crate) const SUBSTITUENTS: [&str; 14] =
    ["C", "CC", "F", "Cl", "Br", "O", "N", "OC", "C(F)(F)F", "C#N", "C(=O)O", "C(=O)N", "S(C)(=O)=O", "N(C)C"];

/// 64-bit FNV-1a, a stable hash (std's hasher may change between Rust versions).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// A generated task: compounds (id, SMILES, family) and their responses.
#[derive(Debug, Clone)]
pub struct SynthTask {
    pub ids: Vec<String>,
    pub smiles: Vec<String>,
    pub family: Vec<usize>,
    pub targets: Vec<String>,
    pub y: Matrix,
}

/// Every (family, first substituent, second substituent) triple, in a seeded random order: the
/// compounds a generator draws from.
pub(crate) fn shuffled_combinations(rng: &mut SplitMix64) -> Vec<(usize, usize, usize)> {
    let mut combos: Vec<(usize, usize, usize)> = Vec::new();
    for f in 0..FAMILIES.len() {
        for a in 0..SUBSTITUENTS.len() {
            for b in 0..SUBSTITUENTS.len() {
                combos.push((f, a, b));
            }
        }
    }
    rng.shuffle(&mut combos);
    combos
}

/// Generates `n` distinct compounds (at most 12 × 14 × 14) with `targets` responses each.
pub fn synth_task(n: usize, targets: usize, noise: f64, seed: u64) -> SynthTask {
    let mut rng = SplitMix64::new(seed);
    let combos = shuffled_combinations(&mut rng);
    let params = MorganParams::default();
    // Weak, shared effect: sparse weights on the molecule's Morgan bits.
    let molecule_weights: Vec<Vec<f64>> = (0..targets)
        .map(|_| (0..params.nbits).map(|_| if rng.uniform() < 0.1 { 0.4 * rng.normal() } else { 0.0 }).collect())
        .collect();
    let (mut ids, mut smiles, mut family, mut rows) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (f, a, b) in combos {
        if ids.len() == n {
            break;
        }
        let s = FAMILIES[f].replace("{a}", SUBSTITUENTS[a]).replace("{b}", SUBSTITUENTS[b]);
        let Ok(molecule) = Molecule::parse_sanitized(&s) else { continue };
        let Ok(bits) = molecule.morgan_bits(params) else { continue };
        let Ok(scaffold) = molecule.murcko_scaffold(false) else { continue };
        // Strong, family-specific effect: a random profile seeded by the scaffold's SMILES.
        let mut family_rng = SplitMix64::new(seed ^ fnv1a(scaffold.as_bytes()));
        let on: Vec<u32> = bits.on_bits().collect();
        let row: Vec<f64> = (0..targets)
            .map(|t| {
                let strong = 3.0 * family_rng.normal();
                let weak: f64 = on.iter().map(|&i| molecule_weights[t][i as usize]).sum();
                strong + weak + noise * rng.normal()
            })
            .collect();
        ids.push(format!("syn_{:04}", ids.len()));
        smiles.push(s);
        family.push(f);
        rows.push(row);
    }
    SynthTask {
        ids,
        smiles,
        family,
        targets: (0..targets).map(|t| format!("response_{t:02}")).collect(),
        y: Matrix::from_rows(&rows).expect("equal rows"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_valid_and_distinct() {
        let a = synth_task(120, 5, 0.5, 3);
        let b = synth_task(120, 5, 0.5, 3);
        assert_eq!(a.smiles, b.smiles);
        assert_eq!(a.y, b.y);
        assert_eq!(a.ids.len(), 120);
        let mut unique = a.smiles.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 120);
        assert!(a.smiles.iter().all(|s| Molecule::parse_sanitized(s).is_ok()));
        assert_ne!(a.y, synth_task(120, 5, 0.5, 4).y);
    }
}
