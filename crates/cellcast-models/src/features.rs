//! Per-compound features computed once for all folds and models.

use cellcast_chem::{BitFingerprint, CountFingerprint, Molecule, MorganParams};
use rayon::prelude::*;

/// Features of every compound of a task (train and test rows together, by index).
pub struct Features {
    /// Morgan r2/2048 bits; `None` for a molecule that could not be read.
    pub morgan: Vec<Option<BitFingerprint>>,
    /// Morgan r2 counts folded to `count_bits`; `None` for a molecule that could not be read.
    pub morgan_counts: Vec<Option<CountFingerprint>>,
    pub count_bits: u32,
}

impl Features {
    /// Featurizes SMILES in parallel; unreadable molecules get `None` (models fall back).
    pub fn from_smiles(smiles: &[Option<String>]) -> Self {
        let params = MorganParams::default();
        let (morgan, morgan_counts) = smiles
            .par_iter()
            .map(|s| {
                let m = Molecule::parse(s.as_deref().unwrap_or(""));
                let bits = m.as_ref().ok().and_then(|m| m.morgan_bits(params).ok());
                let counts = m.as_ref().ok().and_then(|m| m.morgan_counts(params).ok());
                (bits, counts)
            })
            .unzip();
        Features { morgan, morgan_counts, count_bits: params.nbits }
    }

    /// Features without molecules (for tests of models that ignore them).
    pub fn empty(n: usize) -> Self {
        Features { morgan: vec![None; n], morgan_counts: vec![None; n], count_bits: 2048 }
    }
}
