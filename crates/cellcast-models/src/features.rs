//! Per-compound features computed once for all folds and models.

use cellcast_chem::{BitFingerprint, Molecule, MorganParams};
use rayon::prelude::*;

/// Features of every compound of a task (train and test rows together, by index).
pub struct Features {
    /// Morgan r2/2048 bits; `None` for a molecule that could not be read.
    pub morgan: Vec<Option<BitFingerprint>>,
}

impl Features {
    /// Featurizes SMILES in parallel; unreadable molecules get `None` (models fall back).
    pub fn from_smiles(smiles: &[Option<String>]) -> Self {
        let params = MorganParams::default();
        let morgan = smiles
            .par_iter()
            .map(|s| Molecule::parse(s.as_deref().unwrap_or("")).and_then(|m| m.morgan_bits(params)).ok())
            .collect();
        Features { morgan }
    }

    pub fn len(&self) -> usize {
        self.morgan.len()
    }

    pub fn is_empty(&self) -> bool {
        self.morgan.is_empty()
    }
}
