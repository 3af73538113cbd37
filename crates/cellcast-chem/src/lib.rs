//! Molecules for cellcast.
//!
//! - [`fingerprint`]: packed bit and sparse count fingerprints;
//! - [`similarity`]: RDKit's Tanimoto on bits and counts, streaming top-k neighbour search.

pub mod fingerprint;
pub mod similarity;

pub use fingerprint::{BitFingerprint, CountFingerprint};
