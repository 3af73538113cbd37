//! Molecules for cellcast.
//!
//! - [`molecule`]: SMILES/CXSMILES → [`Molecule`] (accepted exactly when RDKit accepts it),
//!   canonical SMILES, Morgan bits and counts, descriptors, Murcko and generic scaffolds — all
//!   RDKit-identical: common molecules through cellcast's own native path (its SMILES reader and
//!   RDKit sanitization model, `native`), everything else through the pinned `chematic` 1.2.1
//!   crates;
//! - [`fingerprint`]: packed bit and sparse count fingerprints;
//! - [`similarity`]: RDKit's Tanimoto on bits and counts, streaming top-k neighbour search.

pub mod fingerprint;
pub mod molecule;
mod native;
pub mod similarity;

#[doc(hidden)]
pub use native::check_native_model;

pub use fingerprint::{BitFingerprint, CountFingerprint};
pub use molecule::{ChemError, Descriptors, Molecule, MorganParams};
