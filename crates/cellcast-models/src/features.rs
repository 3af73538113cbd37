//! Per-compound features computed once for all folds and models.

use cellcast_chem::{BitFingerprint, CountFingerprint, Molecule, MorganParams};
use rayon::prelude::*;

/// Features of every compound of a task (train and test rows together, by index).
pub struct Features {
    /// Morgan r2/2048 bits; `None` for a molecule that could not be read.
    pub morgan: Vec<Option<BitFingerprint>>,
    /// Why a molecule could not be read (`None` for the molecules that were).
    pub errors: Vec<Option<String>>,
    /// Morgan r2 counts folded to `count_bits`; `None` for a molecule that could not be read.
    pub morgan_counts: Vec<Option<CountFingerprint>>,
    pub count_bits: u32,
    /// RDKit's standard descriptors (`Descriptors::NAMES`); `None` when not computable.
    pub descriptors: Vec<Option<[f64; 14]>>,
    /// The cross-validation group of each compound (its scaffold under a scaffold split), so
    /// that models tuning on inner folds hold out whole groups as the outer folds do.
    pub groups: Option<Vec<String>>,
    /// An optional per-compound embedding supplied by the user (one row per compound, in the
    /// order above), read by models built on [`crate::Embedding::External`].
    pub embedding: Option<cellcast_stats::Matrix>,
}

impl Features {
    /// Featurizes SMILES in parallel; unreadable molecules get `None` (models fall back).
    pub fn from_smiles(smiles: &[Option<String>]) -> Self {
        let params = MorganParams::default();
        let per_molecule: Vec<_> = smiles
            .par_iter()
            .map(|s| {
                let m = Molecule::parse(s.as_deref().unwrap_or(""));
                let bits = m
                    .as_ref()
                    .map_err(ToString::to_string)
                    .and_then(|m| m.morgan_bits(params).map_err(|e| e.to_string()));
                let counts = m.as_ref().ok().and_then(|m| m.morgan_counts(params).ok());
                let descriptors = m.as_ref().ok().and_then(|m| m.descriptors().ok()).map(|d| d.values());
                (bits, counts, descriptors.filter(|v| v.iter().all(|x| x.is_finite())))
            })
            .collect();
        let mut f = Features::empty(0);
        f.count_bits = params.nbits;
        for (bits, counts, descriptors) in per_molecule {
            let (bits, error) = match bits {
                Ok(b) => (Some(b), None),
                Err(e) => (None, Some(e)),
            };
            f.errors.push(error);
            f.morgan.push(bits);
            f.morgan_counts.push(counts);
            f.descriptors.push(descriptors);
        }
        f
    }

    /// Features without molecules (for tests of models that ignore them).
    pub fn empty(n: usize) -> Self {
        Features {
            morgan: vec![None; n],
            errors: vec![None; n],
            morgan_counts: vec![None; n],
            count_bits: 2048,
            descriptors: vec![None; n],
            groups: None,
            embedding: None,
        }
    }

    /// Features holding only 64-bit Morgan fingerprints with the given on-bits (for tests of
    /// the similarity models).
    #[cfg(test)]
    pub(crate) fn from_bits(bits: &[&[u32]]) -> Self {
        let mut f = Features::empty(bits.len());
        f.morgan =
            bits.iter().map(|b| Some(cellcast_chem::BitFingerprint::from_on_bits(64, b.iter().copied()))).collect();
        f
    }
}
