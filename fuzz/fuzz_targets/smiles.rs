//! SMILES / CXSMILES → `Molecule` and every output computed from it.
//!
//! Differential: the native path (taken by `Molecule::parse` when it covers the molecule) must
//! build the same sanitized molecule as chematic's port of RDKit (so accept only what it
//! accepts) and give the same scaffolds.
//!
//! Nothing here may panic. `Molecule` runs chematic under `catch_unwind`, which would hide a
//! chematic panic as `Err(ChemError::Internal(_))`; so an `Internal` error is treated as a
//! finding too (libfuzzer-sys's panic hook also aborts on any panic, caught or not).
#![no_main]

use cellcast_chem::{ChemError, Molecule, MorganParams};
use libfuzzer_sys::fuzz_target;

fn check<T>(what: &str, input: &str, r: Result<T, ChemError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(ChemError::Internal(msg)) => panic!("{what}: ChemError::Internal({msg:?}) on input {input:?}"),
        Err(_) => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let Some(m) = check("parse", &input, Molecule::parse(&input)) else { return };
    check("sanitize", &input, m.sanitize());
    if let Some(smiles) = check("canonical_smiles", &input, m.canonical_smiles()) {
        // Canonical SMILES must itself parse (without an internal error).
        check("parse(canonical)", &input, Molecule::parse(smiles));
    }
    let chiral = MorganParams { radius: 3, nbits: 1024, chirality: true };
    for params in [MorganParams::default(), chiral] {
        check("morgan_bits", &input, m.morgan_bits(params));
        check("morgan_counts", &input, m.morgan_counts(params));
    }
    // A non-native size takes the fold-the-counts path.
    check("morgan_bits(1000)", &input, m.morgan_bits(MorganParams { nbits: 1000, ..Default::default() }));
    check("murcko_scaffold(false)", &input, m.murcko_scaffold(false));
    check("murcko_scaffold(true)", &input, m.murcko_scaffold(true));
    check("generic_scaffold", &input, m.generic_scaffold());
    check("descriptors", &input, m.descriptors());

    if let Err(why) = cellcast_chem::check_native_model(&input) {
        panic!("native model differs on {input:?}: {why}");
    }
    let valid = |m: &Molecule| m.sanitize().is_ok();
    if let Some(r) = Molecule::parse_with_chematic(&input).ok().filter(valid).filter(|_| valid(&m)) {
        assert_eq!(m.murcko_scaffold(false).ok(), r.murcko_scaffold(false).ok(), "scaffold differs on {input:?}");
    }
});
