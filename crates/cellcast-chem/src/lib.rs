//! Molecules for cellcast.
//!
//! - [`molecule`]: SMILES/CXSMILES → [`Molecule`] (accepted exactly when RDKit accepts it),
//!   canonical SMILES, Morgan bits and counts, descriptors, Murcko and generic scaffolds — all
//!   RDKit-identical through the pinned `chematic` 1.2.1 crates;
//! - [`fingerprint`]: packed bit and sparse count fingerprints;
//! - [`similarity`]: RDKit's Tanimoto on bits and counts, streaming top-k neighbour search.

pub mod fingerprint;
pub mod molecule;
mod native;

#[doc(hidden)]
pub use native::check_native_model;
pub mod similarity;

pub use fingerprint::{BitFingerprint, CountFingerprint};
pub use molecule::{ChemError, Descriptors, Molecule, MorganParams};
