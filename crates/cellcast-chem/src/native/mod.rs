//! cellcast's own reading of common molecules: SMILES → RDKit's sanitized model → Morgan
//! environments and Murcko scaffolds, without going through chematic.
//!
//! chematic's general RDKit port is exact but costs ≈ 45 µs a molecule before any output. This
//! path models the subset that covers nearly all drug-like SMILES (the organic main group,
//! charges, aromatic input in either form, no isotopes or explicit hydrogen atoms) and mirrors
//! RDKit's sanitization step by step for it: nitro clean-up, strict valences, Kekulé check,
//! radicals, aromaticity on the symmetrized SSSR, hydrogen adjustment. Whenever a molecule falls
//! outside that subset, or RDKit would reject it, or a step is ambiguous (an SSSR that is not
//! unique, an unusual ring tweak), [`NativeMol::from_smiles`] answers `None` and the caller goes
//! through chematic, which also produces RDKit's error message. Parity is proven on the RDKit
//! golden fixtures and by a differential test against chematic.

mod elements;
mod model;
mod morgan;
mod rings;
mod scaffold;
mod smiles;

pub(crate) use morgan::morgan_environments;
pub(crate) use scaffold::murcko_smiles;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum BondType {
    Single,
    Double,
    Triple,
    Aromatic,
}

impl BondType {
    /// Twice `Bond::getValenceContrib` (aromatic bonds count 1.5).
    fn twice_valence(self) -> i32 {
        match self {
            BondType::Single => 2,
            BondType::Double => 4,
            BondType::Triple => 6,
            BondType::Aromatic => 3,
        }
    }

    /// RDKit's `Bond::BondType` enum value, the Morgan bond invariant.
    fn rdkit_code(self) -> u32 {
        match self {
            BondType::Single => 1,
            BondType::Double => 2,
            BondType::Triple => 3,
            BondType::Aromatic => 12,
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct Atom {
    anum: u8,
    charge: i8,
    /// Bracket H count (later also hydrogens RDKit makes explicit).
    explicit_hs: u8,
    /// Bracket atoms take no implicit hydrogens.
    no_implicit: bool,
    aromatic: bool,
    /// Written with `@`/`@@`.
    chiral: bool,
    explicit_valence: i32,
    implicit_valence: i32,
}

impl Atom {
    fn new(anum: u8, aromatic: bool) -> Self {
        Atom {
            anum,
            charge: 0,
            explicit_hs: 0,
            no_implicit: false,
            aromatic,
            chiral: false,
            explicit_valence: 0,
            implicit_valence: 0,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Bond {
    a: u32,
    b: u32,
    bt: BondType,
    aromatic: bool,
}

/// Compressed adjacency of `n` nodes joined by `edges`: node `a`'s (neighbour, edge index)
/// pairs are `adj[start[a]..start[a + 1]]`, in edge order.
fn compressed_adjacency(n: usize, edges: impl Iterator<Item = (u32, u32)> + Clone) -> (Vec<u32>, Vec<(u32, u32)>) {
    let mut start = vec![0u32; n + 1];
    for (x, y) in edges.clone() {
        start[x as usize + 1] += 1;
        start[y as usize + 1] += 1;
    }
    for a in 0..n {
        start[a + 1] += start[a];
    }
    let mut fill = start.clone();
    let mut adj = vec![(0u32, 0u32); start[n] as usize];
    for (k, (x, y)) in edges.enumerate() {
        for (from, to) in [(x, y), (y, x)] {
            adj[fill[from as usize] as usize] = (to, k as u32);
            fill[from as usize] += 1;
        }
    }
    (start, adj)
}

/// Atoms and bonds as parsed (bond indices in creation order).
#[derive(Default, Debug)]
pub(super) struct Graph {
    atoms: Vec<Atom>,
    bonds: Vec<Bond>,
    /// `/` or `\` was written (double-bond stereo).
    stereo_marks: bool,
}

impl Graph {
    fn bond_between(&self, x: u32, y: u32) -> Option<usize> {
        self.bonds.iter().position(|b| (b.a == x && b.b == y) || (b.a == y && b.b == x))
    }
}

/// A molecule in RDKit's sanitized state, as far as Morgan fingerprints and scaffolds see it.
#[derive(Clone, Debug)]
pub(crate) struct NativeMol {
    atoms: Vec<Atom>,
    bonds: Vec<Bond>,
    /// Per atom, its (neighbour, bond) pairs in bond order: `adj[start[a]..start[a + 1]]`.
    start: Vec<u32>,
    adj: Vec<(u32, u32)>,
    ring_atom: Vec<bool>,
    ring_bond: Vec<bool>,
    /// Whether the SMILES marks any stereo (`@`, `/`, `\`).
    has_stereo_marks: bool,
}

impl NativeMol {
    /// The sanitized molecule, or `None` when the native model does not cover `smiles` (the
    /// caller then uses chematic, which also reports RDKit's errors).
    pub(crate) fn from_smiles(smiles: &str) -> Option<NativeMol> {
        let graph = smiles::parse(smiles.as_bytes())?;
        model::sanitize(graph)
    }

    pub(crate) fn has_stereo_marks(&self) -> bool {
        self.has_stereo_marks
    }

    fn neighbors(&self, a: u32) -> &[(u32, u32)] {
        &self.adj[self.start[a as usize] as usize..self.start[a as usize + 1] as usize]
    }

    fn degree(&self, a: u32) -> usize {
        (self.start[a as usize + 1] - self.start[a as usize]) as usize
    }

    fn total_hs(&self, a: u32) -> u32 {
        let atom = &self.atoms[a as usize];
        u32::from(atom.explicit_hs) + if atom.no_implicit { 0 } else { atom.implicit_valence.max(0) as u32 }
    }
}

/// Differential check of the native model against chematic's port of RDKit's sanitization,
/// for tests and the fuzzer: `Ok` when the native path declines `smiles`, or when chematic also
/// accepts it and its sanitized molecule has the same aromaticity, charges and hydrogens on
/// every atom and the same type on every bond.
pub fn check_native_model(smiles: &str) -> Result<(), String> {
    use chematic_core::{BondIdx, BondOrder};
    let Some(m) = NativeMol::from_smiles(smiles) else { return Ok(()) };
    // `parse_template`: chematic's `parse` also refuses aromatic O/F written with one more bond
    // than it counts as allowed (`c2ccccc2o=c1=O`), which RDKit reads; sanitization decides.
    let graph = chematic_smiles::parse_template(smiles).map_err(|e| format!("chematic rejects the syntax: {e}"))?;
    let model = chematic_smiles::rdkit_sanitized_model(&graph).map_err(|e| format!("chematic rejects: {e:?}"))?;
    for (a, theirs) in model.atoms.iter().enumerate() {
        let atom = &m.atoms[a];
        let ours = Some((atom.aromatic, atom.charge, m.total_hs(a as u32) as u8));
        if ours != *theirs {
            return Err(format!("atom {a}: native {ours:?}, chematic {theirs:?}"));
        }
    }
    let mut ours: Vec<(u32, u32, BondType)> = m.bonds.iter().map(|b| (b.a.min(b.b), b.a.max(b.b), b.bt)).collect();
    let mut theirs = Vec::with_capacity(model.bonds.len());
    for (k, order) in model.bonds.iter().enumerate() {
        let bond = graph.bond(BondIdx(k as u32));
        let (x, y) = (bond.atom1.0, bond.atom2.0);
        let bt = match order {
            Some(BondOrder::Single) => BondType::Single,
            Some(BondOrder::Double) => BondType::Double,
            Some(BondOrder::Triple) => BondType::Triple,
            Some(BondOrder::Aromatic) => BondType::Aromatic,
            other => return Err(format!("bond {k}: chematic type {other:?}")),
        };
        theirs.push((x.min(y), x.max(y), bt));
    }
    ours.sort_unstable_by_key(|b| (b.0, b.1));
    theirs.sort_unstable_by_key(|b| (b.0, b.1));
    if ours != theirs {
        return Err(format!("bonds: native {ours:?}, chematic {theirs:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chematic_fp::{rdkit_morgan_fingerprint, RdkitMorganConfig, RdkitMorganFpSize, RdkitMorganRadius};

    use super::*;

    /// Unfolded Morgan ids (radius 2) as multiset, native and through chematic.
    fn both(smiles: &str) -> Option<(Vec<u32>, Vec<u32>)> {
        let native = NativeMol::from_smiles(smiles)?;
        let mut ours = Vec::new();
        morgan_environments(&native, 2, |id| ours.push(id)).unwrap();
        ours.sort_unstable();
        let graph = chematic_smiles::parse(smiles).unwrap();
        chematic_smiles::rdkit_num_atoms(&graph).expect("chematic sanitizes what the native path accepts");
        let config = RdkitMorganConfig {
            radius: RdkitMorganRadius::R2,
            fp_size: RdkitMorganFpSize::B2048,
            include_chirality: false,
        };
        let fp = rdkit_morgan_fingerprint(&graph, &config).unwrap();
        let mut theirs: Vec<u32> =
            fp.sparse_counts.iter().flat_map(|(&id, &c)| std::iter::repeat_n(id, c as usize)).collect();
        theirs.sort_unstable();
        Some((ours, theirs))
    }

    #[test]
    fn agrees_with_chematic_where_rdkit_perception_is_subtle() {
        let cases = [
            "c1ccccc1",
            "C1=CC=CC=C1",          // Kekulé input becomes aromatic
            "c1ccc2ccccc2c1",       // fused
            "c1ccc2cc3ccccc3cc2c1", // anthracene
            "O=c1cccc[nH]1",        // 2-pyridone
            "Cn1cccc1",             // pyrrole N
            "c1ccsc1",              // thiophene
            "c1cc[o+]cc1",          // pyrylium
            "[cH-]1cccc1",          // cyclopentadienide
            "C1=CC=CC=CC=C1",       // cyclooctatetraene: not aromatic
            "O=C1C=CC(=O)C=C1",     // quinone: not aromatic
            "c1ccc(-c2ccccc2)cc1",  // explicit single between rings
            "c1ccccc1c1ccccc1",     // aromatic bond between rings
            "CN(=O)=O",             // nitro clean-up
            "c1ccc(cc1)N(=O)=O",
            "C[n+]1ccccc1",               // pyridinium
            "[O-][n+]1ccccc1",            // N-oxide
            "O=S1(=O)C=CC=C1",            // sulfone ring: S is no candidate
            "C1CC2CCC1CC2",               // bridged, no candidates
            "c1cc2ccc3cccc4ccc(c1)c2c34", // pyrene
            "Cc1nc2ccccc2[nH]1",          // benzimidazole
            "OC(=O)C[C@H](N)C(=O)O",      // stereo marks
            "[Na+].[O-]C(=O)c1ccccc1",    // salt
            "C1CCOCCOCCOCC1",             // crown-like ring with O, no candidates
            "c1ccc2c(c1)oc1ccccc12",      // dibenzofuran
            "O=C1NC(=O)c2ccccc12",        // phthalimide
            "B1=CC=CC=C1",                // borinine-like
            "c1ccc2c(c1)[nH]c1ccccc12",   // carbazole
        ];
        for smiles in cases {
            let (ours, theirs) = both(smiles).unwrap_or_else(|| panic!("{smiles}: the native path declined"));
            assert_eq!(ours, theirs, "{smiles}");
        }
    }

    fn bits(smiles: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        morgan_environments(&NativeMol::from_smiles(smiles).unwrap(), 2, |id| ids.push(id % 2048)).unwrap();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Inputs where chematic departs from RDKit and the native path does not (RDKit 2026.09.1
    /// values, `GetMorganGenerator(radius=2, fpSize=2048)`).
    #[test]
    fn follows_rdkit_where_chematic_does_not() {
        // An aromatic-flagged N in a saturated ring: RDKit drops its bracket H in Kekulize.
        assert_eq!(
            bits("C[C@H](CS)C(=O)N1CCC[n@H]1C(=O)O"),
            [
                1, 80, 108, 229, 283, 321, 389, 425, 478, 650, 799, 807, 819, 926, 935, 1028, 1057, 1083, 1274, 1354,
                1459, 1480, 1672, 1717, 1760, 1889, 1917
            ]
        );
        // RDKit reads `o=c` in an aromatic ring (and writes the canonical `oc(=O)` form);
        // chematic's parser refuses it.
        assert_eq!(bits("CC(=O)CC(c1ccccc1)c1c(O)c2ccccc2o=c1=O"), bits("CC(=O)CC(c1ccccc1)c1c(O)c2ccccc2oc1=O"));
    }

    #[test]
    fn declines_what_it_does_not_model_or_rdkit_rejects() {
        for smiles in [
            "[13CH4]",           // isotope
            "[H]C([H])([H])[H]", // explicit hydrogen atoms
            "C[Fe]C",            // metal
            "c1cccc1",           // cannot be kekulized
            "C(C)(C)(C)(C)C",    // five-valent carbon
            "CCl(=O)(=O)=O",     // halogen oxide clean-up
            "C1CC",              // unclosed ring
            "C1CC1)",            // unbalanced branch
            "[CH3]",             // radical
            "*C",                // wildcard
            "[C@TH1H](F)(Cl)Br",
            "c1cccc2ccccs2cc1", // written aromatic, not aromatic: the Kekulé choice would show
            "CC.)C",            // a branch closed after a dot
            "[C@----------------------------------------------------------------------------------------------------------------------------------------H]", // fuzz finding: charge overflow
            "",
        ] {
            assert!(NativeMol::from_smiles(smiles).is_none(), "{smiles:?} should be declined");
        }
        // Long molecules are chematic's (whose own limit is larger).
        assert!(NativeMol::from_smiles(&"C".repeat(1_000)).is_some());
        assert!(NativeMol::from_smiles(&"C".repeat(1_001)).is_none());
    }

    #[test]
    fn ring_membership_and_aromaticity_as_rdkit_sees_them() {
        let m = NativeMol::from_smiles("C1=CC=CC=C1CC1CC1").unwrap();
        let aromatic: Vec<bool> = m.atoms.iter().map(|a| a.aromatic).collect();
        assert_eq!(aromatic, [true, true, true, true, true, true, false, false, false, false]);
        assert_eq!(m.ring_atom, [true, true, true, true, true, true, false, true, true, true]);
        assert!(m.bonds.iter().filter(|b| b.bt == BondType::Aromatic).count() == 6);
        // Pyrrole's N keeps its hydrogen through Kekulé and back.
        let pyrrole = NativeMol::from_smiles("c1cc[nH]c1").unwrap();
        assert_eq!(pyrrole.total_hs(3), 1);
        assert!(pyrrole.atoms[3].aromatic);
        // Azulene's fusion bond stays out of the aromatic 10-atom envelope, so it keeps the type
        // of whichever Kekulé structure RDKit's search finds: declined, chematic decides.
        assert!(NativeMol::from_smiles("c1ccc2cccc2cc1").is_none());
    }

    /// The native path must carry nearly all real compounds, or the speed is not there.
    #[test]
    fn covers_nearly_all_lincs_compounds() {
        use std::io::Read;
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/l1000/lincs_pertinfo.tsv.gz");
        let Ok(file) = std::fs::File::open(&path) else {
            eprintln!("SKIPPED covers_nearly_all_lincs_compounds: {} is absent", path.display());
            return;
        };
        let mut text = String::new();
        flate2::read::GzDecoder::new(file).read_to_string(&mut text).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
        let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let (kind, smiles) = (col("pert_type"), col("canonical_smiles"));
        let (mut total, mut native) = (0, 0);
        for line in lines {
            let cells: Vec<&str> = line.split('\t').collect();
            if cells[kind] != "trt_cp" || matches!(cells[smiles], "" | "-666") {
                continue;
            }
            total += 1;
            native += usize::from(NativeMol::from_smiles(cells[smiles]).is_some());
        }
        let share = native as f64 / total as f64;
        eprintln!("native path: {native} of {total} LINCS compounds ({:.2} %)", 100.0 * share);
        assert!(total > 20_000);
        assert!(share > 0.97, "{share}");
    }

    #[test]
    fn scaffolds_match_chematic_murcko() {
        for smiles in [
            "Cn1cccc1",             // N-substituent removed: [nH]
            "C[n+]1ccccc1",         // charged aromatic N: [nH+]
            "O=c1ccn(C)c(=O)[nH]1", // exocyclic C=O kept
            "CC(=O)c1ccccc1",
            "N#Cc1ccccc1",                    // nitrile goes
            "C=C1CCCCC1",                     // exocyclic methylene stays
            "c1ccccc1CCc1ccccc1.[Na+].[Cl-]", // linker; ions go
            "CCN(CC)C(=O)c1ccc2c(c1)OCO2",
            "[O-][N+](=O)c1ccc(cc1)C1CC1",
            "CC1=NN(C(=O)C1)c1ccccc1",
            "C[C@H](N)C(=O)N[C@@H]1CCCC1", // chiral ring atom loses its H mark
            "CCCC",                        // no ring: empty
        ] {
            let native = NativeMol::from_smiles(smiles).unwrap();
            let written = murcko_smiles(&native).unwrap();
            let ours = if written.is_empty() {
                written
            } else {
                chematic_smiles::rdkit_canonical_smiles(&chematic_smiles::parse(&written).unwrap()).unwrap()
            };
            let theirs = chematic_smiles::rdkit_murcko_scaffold(&chematic_smiles::parse(smiles).unwrap()).unwrap();
            assert_eq!(ours, theirs, "{smiles} (written {:?})", murcko_smiles(&native));
        }
        let pyrrole = NativeMol::from_smiles("Cn1cccc1").unwrap();
        assert_eq!(murcko_smiles(&pyrrole).unwrap(), "[nH]1cccc1");
    }
}
