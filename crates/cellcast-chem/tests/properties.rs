//! Invariants of the chemistry engine on random inputs and on the public molecules.

use std::path::Path;

use cellcast_chem::similarity::{tanimoto_bits, tanimoto_counts, PackedBits, TopK};
use cellcast_chem::{BitFingerprint, CountFingerprint, Molecule, MorganParams};
use proptest::prelude::*;

fn public_smiles() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden/chem/public/molecules.csv");
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records().map(|rec| rec.unwrap()[1].to_string()).collect()
}

fn bits_strategy() -> impl Strategy<Value = BitFingerprint> {
    prop::collection::vec(0u32..256, 0..40).prop_map(|on| BitFingerprint::from_on_bits(256, on))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn tanimoto_is_a_similarity(a in bits_strategy(), b in bits_strategy()) {
        let s = tanimoto_bits(&a, &b);
        prop_assert!((0.0..=1.0).contains(&s));
        prop_assert_eq!(s, tanimoto_bits(&b, &a));
        prop_assert_eq!(tanimoto_bits(&a, &a), if a.count_ones() == 0 { 0.0 } else { 1.0 });
    }

    #[test]
    fn count_tanimoto_is_a_similarity(a in prop::collection::vec((0u32..64, 1u32..5), 0..20), b in prop::collection::vec((0u32..64, 1u32..5), 0..20)) {
        let (a, b) = (CountFingerprint::from_pairs(a), CountFingerprint::from_pairs(b));
        let s = tanimoto_counts(&a, &b);
        prop_assert!((0.0..=1.0).contains(&s));
        prop_assert_eq!(s, tanimoto_counts(&b, &a));
    }

    #[test]
    fn top_k_equals_a_full_sort(queries in prop::collection::vec(bits_strategy(), 1..4), library in prop::collection::vec(bits_strategy(), 1..60), k in 1usize..8) {
        let mut search = TopK::new(&queries, k);
        search.feed(&PackedBits::new(&library), 0, &|_, _| false);
        for (q, found) in queries.iter().zip(search.finish()) {
            let mut all: Vec<(usize, f64)> = library.iter().enumerate().map(|(j, l)| (j, tanimoto_bits(q, l))).collect();
            all.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            let want: Vec<usize> = all.iter().take(k).map(|x| x.0).collect();
            prop_assert_eq!(found.iter().map(|n| n.index).collect::<Vec<_>>(), want);
        }
    }

    #[test]
    fn canonical_smiles_is_a_fixed_point_and_bits_ignore_atom_order(pick in 0usize..224) {
        let smiles = public_smiles();
        let Ok(m) = Molecule::parse_sanitized(&smiles[pick % smiles.len()]) else { return Ok(()) };
        let canonical = m.canonical_smiles().unwrap().to_string();
        if canonical.is_empty() {
            return Ok(());
        }
        let again = Molecule::parse_sanitized(&canonical).unwrap();
        prop_assert_eq!(again.canonical_smiles().unwrap(), canonical.as_str());
        let p = MorganParams::default();
        prop_assert_eq!(m.morgan_bits(p).unwrap(), again.morgan_bits(p).unwrap());
        // Folding: a 512-bit fingerprint is the 2048-bit one taken modulo 512.
        let folded: Vec<u32> = m.morgan_bits(p).unwrap().on_bits().map(|b| b % 512).collect();
        let small = m.morgan_bits(MorganParams { nbits: 512, ..p }).unwrap();
        prop_assert_eq!(small, BitFingerprint::from_on_bits(512, folded));
    }
}

/// Edits of real SMILES: a character deleted, or one of a SMILES alphabet inserted. Most edits
/// still parse, and many land on the rarer corners (charges, odd rings, aromatic typos).
fn edited_smiles() -> impl Strategy<Value = String> {
    const ALPHABET: &[u8] = b"CNOSPBFIcnospb=#()1234%[]+-H@/\\.:0";
    let sources = public_smiles();
    (0..sources.len(), prop::collection::vec((any::<bool>(), 0usize..200, 0..ALPHABET.len()), 1..4)).prop_map(
        move |(i, edits)| {
            let mut s = sources[i].clone().into_bytes();
            for (insert, at, c) in edits {
                if s.is_empty() {
                    break;
                }
                let at = at % s.len();
                if insert {
                    s.insert(at, ALPHABET[c]);
                } else {
                    s.remove(at);
                }
            }
            String::from_utf8_lossy(&s).into_owned()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20000))]

    /// The native path accepts only what chematic (RDKit's sanitization, ported) accepts, builds
    /// the same sanitized molecule, and gives the same scaffolds. (Where it declines, cellcast
    /// uses chematic itself.) (Morgan fingerprints are
    /// checked against RDKit itself in rdkit_parity.rs; chematic's own Morgan code perceives
    /// molecules separately and differs from RDKit on a few odd inputs such as `[n@H]`.)
    #[test]
    fn native_path_matches_chematic(smiles in edited_smiles()) {
        prop_assert_eq!(cellcast_chem::check_native_model(&smiles), Ok(()), "{}", smiles);
        let ours = Molecule::parse(&smiles).ok().filter(|m| m.sanitize().is_ok());
        let reference = Molecule::parse_with_chematic(&smiles).ok().filter(|m| m.sanitize().is_ok());
        if let (Some(m), Some(r)) = (ours, reference) {
            prop_assert_eq!(m.murcko_scaffold(false).ok(), r.murcko_scaffold(false).ok(), "scaffold of {}", smiles);
        }
    }
}
