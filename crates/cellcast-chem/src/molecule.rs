//! Parsing SMILES / CXSMILES into a checked molecule, and everything computed from one.
//!
//! RDKit's `MolFromSmiles` reads the syntax and then sanitizes (valences, Kekulé structure,
//! aromaticity), rejecting what fails. Two engines give cellcast the same answers:
//!
//! - the native path ([`crate::native`]) reads the common drug-like SMILES and builds RDKit's
//!   sanitized model itself, fast; Morgan fingerprints come straight from it;
//! - chematic's general RDKit port covers everything else (and every other output: canonical
//!   SMILES, descriptors, scaffolds). Its parse runs eagerly only when the native path declined;
//!   [`Molecule::sanitize`] runs its sanitization once per molecule (cached), and every output
//!   either goes through it or fails the same way itself, so cellcast gives a result exactly when
//!   RDKit would. Every chematic call runs under `catch_unwind`, so a bug on some exotic input
//!   becomes a per-molecule error instead of aborting a batch.

use std::panic::{catch_unwind, UnwindSafe};
use std::sync::OnceLock;

use chematic_fp::{
    rdkit_morgan_bitvec, rdkit_morgan_fingerprint, RdkitMorganConfig, RdkitMorganFpSize, RdkitMorganRadius,
};
use chematic_smiles::{RdkitSmilesError, RdkitSmilesParams, SmilesParseLimits};

use crate::fingerprint::{BitFingerprint, CountFingerprint};
use crate::native::{morgan_environments, murcko_smiles, NativeMol};

/// Larger molecules are refused (RDKit reads them): chematic's Morgan fingerprint of a molecule
/// this large needs memory that grows faster than linearly with its size (measured: a
/// 99,000-atom chain took 12.8 s and 7 GB; 10,000 atoms 0.1 s). No benchmark compound comes near
/// this: the largest LINCS peptides have a few hundred atoms.
pub const MAX_ATOMS: usize = 20_000;

/// Molecules with more rings (bonds − atoms + fragments) are refused: ring perception's cost
/// grows about quadratically with the ring count of a fused system (measured on a ladder of
/// fused cyclohexanes: 500 rings 0.16 s, 1,500 rings 3.2 s, 2,500 rings 12.5 s for a Morgan
/// fingerprint). Benchmark compounds have fewer than 20.
pub const MAX_RINGS: usize = 2_500;

/// chematic's aromatic-ring count enumerates ring combinations (≈ O(rings⁵)): a 36-atom ring
/// mesh takes 0.4 s, 108 atoms 79 s (fuzzing finding, fuzz/findings/smiles). Descriptors of
/// molecules with more rings than this are refused instead of hanging; no benchmark compound
/// comes close.
pub const MAX_RINGS_FOR_DESCRIPTORS: usize = 24;

/// Molecules with more wildcard atoms (`*`) are refused: RDKit's Kekulé step (and chematic's
/// port of it) tries every assignment of the wildcards in an aromatic system, 2ⁿ attempts
/// (fuzzing finding: 34 wildcards hung sanitization). No benchmark SMILES has any.
pub const MAX_WILDCARD_ATOMS: usize = 8;

/// Why a SMILES did not give a molecule, or a molecule did not give a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChemError {
    #[error("empty SMILES")]
    Empty,
    #[error("invalid SMILES: {0}")]
    Syntax(String),
    #[error("rejected by sanitization (as RDKit would): {0}")]
    Sanitization(String),
    #[error("not supported: {0}")]
    Unsupported(String),
    #[error("internal error in the chemistry engine: {0}")]
    Internal(String),
    #[error("{0}")]
    Parameter(String),
}

/// The number of connected fragments of a graph (its atoms are `AtomIdx(0..n)`).
fn fragment_count(graph: &chematic_core::Molecule) -> usize {
    let n = graph.atom_count();
    let mut seen = vec![false; n];
    let mut stack = Vec::new();
    let mut fragments = 0;
    for start in 0..n {
        if seen[start] {
            continue;
        }
        fragments += 1;
        seen[start] = true;
        stack.push(start);
        while let Some(a) = stack.pop() {
            for &(b, _) in graph.neighbor_slice(chematic_core::AtomIdx(a as u32)) {
                let b = b.0 as usize;
                if b < n && !seen[b] {
                    seen[b] = true;
                    stack.push(b);
                }
            }
        }
    }
    fragments
}

impl ChemError {
    /// The kind of error in a few words, for counts ("3 invalid SMILES, 1 unsupported").
    pub fn kind(&self) -> &'static str {
        match self {
            ChemError::Empty => "empty SMILES",
            ChemError::Syntax(_) => "invalid SMILES",
            ChemError::Sanitization(_) => "rejected by sanitization",
            ChemError::Unsupported(_) => "unsupported",
            ChemError::Internal(_) => "internal error",
            ChemError::Parameter(_) => "bad parameter",
        }
    }
}

/// Runs `f`, turning a panic inside chematic into [`ChemError::Internal`].
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, ChemError> + UnwindSafe) -> Result<T, ChemError> {
    catch_unwind(f).unwrap_or_else(|_| Err(ChemError::Internal(format!("{what} panicked"))))
}

fn rdkit_error(e: RdkitSmilesError) -> ChemError {
    match e {
        RdkitSmilesError::Sanitization(why) => ChemError::Sanitization(why),
        RdkitSmilesError::Unsupported(what) => ChemError::Unsupported(what),
    }
}

/// A parsed molecule; its sanitization and canonical SMILES are computed on first use.
#[derive(Clone)]
pub struct Molecule {
    smiles: String,
    /// RDKit's sanitized model, when the native path covers the molecule (then it is valid).
    native: Option<NativeMol>,
    /// chematic's graph: parsed at once when the native path declined, on first use otherwise.
    graph: OnceLock<Result<chematic_core::Molecule, ChemError>>,
    sanitized: OnceLock<Result<(), ChemError>>,
    canonical: OnceLock<Result<String, ChemError>>,
}

impl std::fmt::Debug for Molecule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Molecule").field(&self.smiles).finish()
    }
}

/// Morgan fingerprint settings (RDKit `rdFingerprintGenerator.GetMorganGenerator` defaults:
/// radius 2, 2048 bits, no chirality).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MorganParams {
    pub radius: u32,
    pub nbits: u32,
    pub chirality: bool,
}

impl Default for MorganParams {
    fn default() -> Self {
        MorganParams { radius: 2, nbits: 2048, chirality: false }
    }
}

impl MorganParams {
    /// Checks the parameters (radius 0–3, at least one bit).
    pub fn validate(self) -> Result<Self, ChemError> {
        if self.radius > 3 {
            return Err(ChemError::Parameter(format!("Morgan radius {} is not supported; use 0 to 3", self.radius)));
        }
        if self.nbits == 0 {
            return Err(ChemError::Parameter("a fingerprint needs at least one bit".into()));
        }
        Ok(self)
    }

    fn config(self) -> RdkitMorganConfig {
        let radius = match self.radius {
            0 => RdkitMorganRadius::R0,
            1 => RdkitMorganRadius::R1,
            2 => RdkitMorganRadius::R2,
            _ => RdkitMorganRadius::R3,
        };
        // The folded size only matters on the bit-vector fast path (sizes chematic folds to);
        // other sizes fold the unfolded counts here, with RDKit's `id % fpSize`.
        let fp_size = match self.nbits {
            128 => RdkitMorganFpSize::B128,
            256 => RdkitMorganFpSize::B256,
            512 => RdkitMorganFpSize::B512,
            1024 => RdkitMorganFpSize::B1024,
            _ => RdkitMorganFpSize::B2048,
        };
        RdkitMorganConfig { radius, fp_size, include_chirality: self.chirality }
    }

    fn native_size(self) -> bool {
        matches!(self.nbits, 128 | 256 | 512 | 1024 | 2048)
    }
}

/// The standard descriptor set, each as RDKit computes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Descriptors {
    pub mol_wt: f64,
    pub exact_mol_wt: f64,
    pub mol_log_p: f64,
    pub mol_mr: f64,
    pub tpsa: f64,
    pub num_h_donors: f64,
    pub num_h_acceptors: f64,
    pub num_rotatable_bonds: f64,
    pub ring_count: f64,
    pub num_aromatic_rings: f64,
    pub heavy_atom_count: f64,
    pub fraction_csp3: f64,
    pub formal_charge: f64,
    pub qed: f64,
}

impl Descriptors {
    /// Column names, RDKit's descriptor names.
    pub const NAMES: [&'static str; 14] = [
        "MolWt",
        "ExactMolWt",
        "MolLogP",
        "MolMR",
        "TPSA",
        "NumHDonors",
        "NumHAcceptors",
        "NumRotatableBonds",
        "RingCount",
        "NumAromaticRings",
        "HeavyAtomCount",
        "FractionCSP3",
        "FormalCharge",
        "qed",
    ];

    pub fn values(&self) -> [f64; 14] {
        [
            self.mol_wt,
            self.exact_mol_wt,
            self.mol_log_p,
            self.mol_mr,
            self.tpsa,
            self.num_h_donors,
            self.num_h_acceptors,
            self.num_rotatable_bonds,
            self.ring_count,
            self.num_aromatic_rings,
            self.heavy_atom_count,
            self.fraction_csp3,
            self.formal_charge,
            self.qed,
        ]
    }
}

impl Molecule {
    /// Parses a SMILES or CXSMILES string (`SMILES |extension|`: the extension, and anything
    /// after the first whitespace, is ignored — RDKit reads it as the molecule's name or its CX
    /// annotations, which change none of the outputs cellcast computes).
    pub fn parse(input: &str) -> Result<Self, ChemError> {
        let smiles = input.split_whitespace().next().ok_or(ChemError::Empty)?;
        Self::with_engines(smiles, NativeMol::from_smiles(smiles))
    }

    /// The molecule of `smiles` (the first word of the input), with its native model if any;
    /// without one, chematic's parse runs at once so that syntax errors surface here.
    fn with_engines(smiles: &str, native: Option<NativeMol>) -> Result<Self, ChemError> {
        let m = Molecule {
            smiles: smiles.to_string(),
            native,
            graph: OnceLock::new(),
            sanitized: OnceLock::new(),
            canonical: OnceLock::new(),
        };
        if m.native.is_none() {
            let graph = m.graph()?;
            let rings = (graph.bond_count() + fragment_count(graph)).saturating_sub(graph.atom_count());
            if rings > MAX_RINGS {
                return Err(ChemError::Unsupported(format!(
                    "{rings} rings: cellcast reads molecules of at most {MAX_RINGS} rings (ring perception would take \
                     minutes); RDKit reads it"
                )));
            }
            let wildcards = graph.atoms().filter(|(_, a)| a.wildcard).count();
            if wildcards > MAX_WILDCARD_ATOMS {
                return Err(ChemError::Unsupported(format!(
                    "{wildcards} wildcard atoms (*): at most {MAX_WILDCARD_ATOMS} are supported"
                )));
            }
        }
        Ok(m)
    }

    /// Parses with chematic alone, never the native path: the reference engine that
    /// differential tests and the fuzzer compare the native path against.
    #[doc(hidden)]
    pub fn parse_with_chematic(input: &str) -> Result<Self, ChemError> {
        let smiles = input.split_whitespace().next().ok_or(ChemError::Empty)?;
        Self::with_engines(smiles, None)
    }

    /// chematic's graph of the molecule (parsed on first use). A molecule the native path
    /// accepted is valid as RDKit reads it, so chematic's stricter pre-check of O/F valences
    /// (which refuses RDKit-valid input such as an aromatic `o=c`) is skipped for it.
    fn graph(&self) -> Result<&chematic_core::Molecule, ChemError> {
        self.graph
            .get_or_init(|| {
                guarded("parsing", || {
                    let parsed = if self.native.is_some() {
                        chematic_smiles::parse_template(&self.smiles)
                    } else {
                        let limits = SmilesParseLimits { max_atoms: MAX_ATOMS, ..Default::default() };
                        chematic_smiles::parse_with_limits(&self.smiles, &limits)
                    };
                    parsed.map_err(|e| match e {
                        chematic_smiles::SmilesError::ResourceLimit { resource, actual, limit } => {
                            ChemError::Unsupported(format!(
                                "{actual} {resource}: cellcast reads molecules of at most {limit} {resource} \
                                 (larger ones need memory that grows faster than their size); RDKit reads it"
                            ))
                        }
                        e => ChemError::Syntax(e.to_string()),
                    })
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses and sanitizes: `Ok` exactly when RDKit's `MolFromSmiles` returns a molecule.
    pub fn parse_sanitized(input: &str) -> Result<Self, ChemError> {
        let m = Self::parse(input)?;
        m.sanitize()?;
        Ok(m)
    }

    /// RDKit's sanitization (cached): `Err` when RDKit would reject the molecule.
    pub fn sanitize(&self) -> Result<(), ChemError> {
        if self.native.is_some() {
            return Ok(());
        }
        self.sanitized
            .get_or_init(|| {
                let graph = self.graph()?;
                guarded("sanitization", || chematic_smiles::rdkit_num_atoms(graph).map(|_| ()).map_err(rdkit_error))
            })
            .clone()
    }

    /// The native model, when it can give a Morgan fingerprint with these settings (chiral
    /// fingerprints of stereo-marked molecules need CIP labels, which only chematic computes).
    fn native_for_morgan(&self, params: MorganParams) -> Option<&NativeMol> {
        self.native.as_ref().filter(|m| !(params.chirality && m.has_stereo_marks()))
    }

    /// RDKit's canonical isomeric SMILES (`Chem.MolToSmiles(mol)`), computed once.
    pub fn canonical_smiles(&self) -> Result<&str, ChemError> {
        self.canonical
            .get_or_init(|| {
                let graph = self.graph()?;
                guarded("canonical SMILES", || chematic_smiles::rdkit_canonical_smiles(graph).map_err(rdkit_error))
            })
            .as_deref()
            .map_err(Clone::clone)
    }

    /// Morgan bit fingerprint, identical to RDKit's `GetMorganGenerator(...).GetFingerprint`.
    pub fn morgan_bits(&self, params: MorganParams) -> Result<BitFingerprint, ChemError> {
        let params = params.validate()?;
        if let Some(native) = self.native_for_morgan(params) {
            let mut ids = Vec::with_capacity(64);
            if morgan_environments(native, params.radius, |id| ids.push(id)).is_some() {
                return Ok(BitFingerprint::from_on_bits(params.nbits, ids));
            }
        }
        self.sanitize()?;
        if !params.native_size() {
            let counts = self.morgan_counts(params)?;
            return Ok(BitFingerprint::from_on_bits(params.nbits, counts.entries().iter().map(|&(i, _)| i)));
        }
        let graph = self.graph()?;
        guarded("Morgan fingerprint", || {
            let bits =
                rdkit_morgan_bitvec(graph, &params.config()).map_err(|e| ChemError::Unsupported(e.to_string()))?;
            let on = (0..bits.bit_width()).filter(|&i| bits.get(i)).map(|i| i as u32);
            Ok(BitFingerprint::from_on_bits(params.nbits, on))
        })
    }

    /// Morgan count fingerprint folded to `nbits`, identical to RDKit's `GetCountFingerprint`.
    pub fn morgan_counts(&self, params: MorganParams) -> Result<CountFingerprint, ChemError> {
        let params = params.validate()?;
        if let Some(native) = self.native_for_morgan(params) {
            let mut ids = Vec::with_capacity(64);
            if morgan_environments(native, params.radius, |id| ids.push((id % params.nbits, 1))).is_some() {
                return Ok(CountFingerprint::from_pairs(ids));
            }
        }
        self.sanitize()?;
        let graph = self.graph()?;
        guarded("Morgan fingerprint", || {
            let fp =
                rdkit_morgan_fingerprint(graph, &params.config()).map_err(|e| ChemError::Unsupported(e.to_string()))?;
            Ok(CountFingerprint::from_pairs(fp.sparse_counts.iter().map(|(&raw, &c)| (raw % params.nbits, c))))
        })
    }

    /// Bemis–Murcko scaffold as RDKit's `MurckoScaffoldSmiles` writes it (non-isomeric unless
    /// `chirality`); the empty string for a molecule without rings. (chematic's scaffold runs
    /// RDKit's sanitization itself and fails where it fails.)
    pub fn murcko_scaffold(&self, chirality: bool) -> Result<String, ChemError> {
        // The native path builds RDKit's scaffold molecule; chematic only canonicalizes it.
        if let Some(scaffold) = self.native.as_ref().filter(|_| !chirality).and_then(murcko_smiles) {
            if scaffold.is_empty() {
                return Ok(scaffold);
            }
            return guarded("Murcko scaffold", || {
                let graph = chematic_smiles::parse(&scaffold)
                    .map_err(|e| ChemError::Internal(format!("re-reading scaffold {scaffold}: {e}")))?;
                chematic_smiles::rdkit_canonical_smiles(&graph).map_err(rdkit_error)
            });
        }
        let graph = self.graph()?;
        guarded("Murcko scaffold", || {
            let isomeric = chematic_smiles::rdkit_murcko_scaffold(graph).map_err(rdkit_error)?;
            // Without stereo marks or isotopes the isomeric string is already the non-isomeric
            // one; only the others need rewriting (which costs a second canonicalization).
            let has_isomeric_marks = isomeric.bytes().enumerate().any(|(i, b)| {
                matches!(b, b'@' | b'/' | b'\\')
                    || (b == b'[' && isomeric.as_bytes().get(i + 1).is_some_and(u8::is_ascii_digit))
            });
            if chirality || !has_isomeric_marks {
                return Ok(isomeric);
            }
            let scaffold = chematic_smiles::parse(&isomeric)
                .map_err(|e| ChemError::Internal(format!("re-reading scaffold: {e}")))?;
            let flat = RdkitSmilesParams { isomeric: false, ..Default::default() };
            chematic_smiles::rdkit_smiles(&scaffold, &flat).map_err(rdkit_error)
        })
    }

    /// Generic (CSK) scaffold: RDKit's `MakeScaffoldGeneric(GetScaffoldForMol(mol))` as SMILES.
    pub fn generic_scaffold(&self) -> Result<String, ChemError> {
        self.sanitize()?;
        let graph = self.graph()?;
        guarded("generic scaffold", || {
            let generic = chematic_chem::generic_murcko_scaffold(graph);
            if generic.atom_count() == 0 {
                return Ok(String::new());
            }
            chematic_smiles::rdkit_canonical_smiles(&generic).map_err(rdkit_error)
        })
    }

    /// The standard descriptor set.
    pub fn descriptors(&self) -> Result<Descriptors, ChemError> {
        use chematic_chem as c;
        self.sanitize()?;
        let g = self.graph()?;
        guarded("descriptors", || {
            let rings = c::rdkit_num_rings(g);
            if rings > MAX_RINGS_FOR_DESCRIPTORS {
                return Err(ChemError::Unsupported(format!(
                    "{rings} rings: descriptors are computed for at most {MAX_RINGS_FOR_DESCRIPTORS} rings"
                )));
            }
            let (mol_log_p, mol_mr) = c::logp_and_mr(g);
            Ok(Descriptors {
                mol_wt: c::rdkit_molecular_weight(g),
                exact_mol_wt: c::exact_mass(g),
                mol_log_p,
                mol_mr,
                tpsa: c::rdkit_tpsa(g),
                num_h_donors: c::hbd_count(g) as f64,
                num_h_acceptors: c::rdkit_hba_count(g) as f64,
                num_rotatable_bonds: c::rotatable_bond_count(g) as f64,
                ring_count: rings as f64,
                num_aromatic_rings: c::rdkit_aromatic_ring_count(g) as f64,
                heavy_atom_count: c::heavy_atom_count(g) as f64,
                fraction_csp3: c::fsp3(g),
                formal_charge: f64::from(c::formal_charge_sum(g)),
                qed: c::qed(g),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cxsmiles_and_reports_failures() {
        let m = Molecule::parse("c1ccccc1O |c:1|").unwrap();
        assert_eq!(m.canonical_smiles().unwrap(), "Oc1ccccc1");
        assert_eq!(Molecule::parse("C1=CC=CC=C1O").unwrap().canonical_smiles().unwrap(), "Oc1ccccc1");
        assert!(matches!(Molecule::parse("C1CC"), Err(ChemError::Syntax(_))));
        for rejected in ["c1cccc1", "C(C)(C)(C)(C)C"] {
            // Syntax is fine; RDKit's sanitization rejects it, and so does every output.
            let m = Molecule::parse(rejected).unwrap();
            assert!(matches!(m.sanitize(), Err(ChemError::Sanitization(_))));
            assert!(matches!(m.morgan_bits(MorganParams::default()), Err(ChemError::Sanitization(_))));
            assert!(matches!(m.descriptors(), Err(ChemError::Sanitization(_))));
            assert!(m.murcko_scaffold(false).is_err());
            assert!(m.generic_scaffold().is_err());
            assert!(matches!(Molecule::parse_sanitized(rejected), Err(ChemError::Sanitization(_))));
        }
        assert_eq!(Molecule::parse("   ").unwrap_err(), ChemError::Empty);
    }

    #[test]
    fn morgan_matches_rdkit_on_phenol() {
        // RDKit: GetMorganGenerator(radius=2, fpSize=2048).GetFingerprint(MolFromSmiles('c1ccccc1O')).
        let m = Molecule::parse("c1ccccc1O").unwrap();
        let bits: Vec<u32> = m.morgan_bits(MorganParams::default()).unwrap().on_bits().collect();
        assert_eq!(bits, vec![65, 389, 745, 807, 1088, 1199, 1380, 1602, 1750, 1778, 1873]);
        let counts = m.morgan_counts(MorganParams::default()).unwrap();
        assert_eq!(counts.entries()[0], (65, 2));
        assert_eq!(counts.total(), 20);
        // A non-native size folds the same environments.
        let folded = m.morgan_bits(MorganParams { nbits: 4096, ..Default::default() }).unwrap();
        assert_eq!(folded.nbits(), 4096);
        assert!(MorganParams { radius: 4, ..Default::default() }.validate().is_err());
    }

    #[test]
    fn many_wildcards_are_refused_quickly() {
        let hang = "CC(C)NCC(O)COc1c*ccc21cccsc*****************************C(C)NCC(OO*)C***2";
        assert!(matches!(Molecule::parse(hang), Err(ChemError::Unsupported(_))));
        let eight = "c1c*ccc2c*c*c*c*c*c*c*12";
        assert!(Molecule::parse(eight).unwrap().sanitize().is_ok());
    }

    #[test]
    fn an_aromatic_o_double_bond_reads_as_in_rdkit() {
        // RDKit reads it and writes the second form; chematic's parser alone would refuse it.
        let m = Molecule::parse("CC(=O)CC(c1ccccc1)c1c(O)c2ccccc2o=c1=O").unwrap();
        assert!(m.sanitize().is_ok());
        assert_eq!(m.canonical_smiles().unwrap(), "CC(=O)CC(c1ccccc1)c1c(O)c2ccccc2oc1=O");
    }

    #[test]
    fn ring_meshes_are_refused_quickly() {
        let mesh = "C1C2C3C4C5C6C7C8C9".repeat(6);
        let m = Molecule::parse(&mesh).unwrap();
        assert!(matches!(m.descriptors(), Err(ChemError::Unsupported(_))));
        assert!(m.morgan_bits(MorganParams::default()).is_ok());
    }

    #[test]
    fn large_molecules_are_read_up_to_the_stated_limits() {
        // A 10,000-atom chain and a 2,000-residue glycine peptide (RDKit reads both) go through
        // chematic and give the same Morgan bits as a short chain / peptide through the native
        // path (long-chain environments repeat).
        let bits = |s: &str| Molecule::parse(s).unwrap().morgan_bits(MorganParams::default()).unwrap();
        assert_eq!(bits(&"C".repeat(10_000)), bits(&"C".repeat(50)));
        let peptide = |n: usize| format!("{}O", "NCC(=O)".repeat(n));
        assert_eq!(bits(&peptide(2_000)), bits(&peptide(20)));
        // Past the limits: refused as unsupported, with the limit, never as "invalid SMILES".
        match Molecule::parse(&"C".repeat(MAX_ATOMS + 1)) {
            Err(ChemError::Unsupported(m)) => assert!(m.contains("20001 atoms") && m.contains("at most 20000"), "{m}"),
            other => panic!("{other:?}"),
        }
        // Fused cyclohexanes: each ring opens the next closure digit and closes the previous.
        let rings = MAX_RINGS + 10;
        let mut ladder = String::from("C1CC");
        for i in 0..rings {
            let (open, close) = if i % 2 == 0 { (2, 1) } else { (1, 2) };
            ladder.push_str(&format!("C{open}CCC{close}"));
        }
        ladder.push_str(if rings.is_multiple_of(2) { "C1" } else { "C2" });
        match Molecule::parse(&ladder) {
            Err(ChemError::Unsupported(m)) => assert!(m.contains("at most 2500 rings"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn scaffolds() {
        let m = Molecule::parse(
            "O[C@@H](COC1=CC=CC(Cl)=C1)\\C=C\\[C@H]1[C@H](O)C[C@H](O)[C@@H]1C\\C=C/CCCC([O-])=O |c:6,9,t:4|",
        )
        .unwrap();
        assert_eq!(m.murcko_scaffold(false).unwrap(), "C(=CC1CCCC1)CCOc1ccccc1");
        assert_eq!(m.murcko_scaffold(true).unwrap(), "C(=C\\C1CCCC1)/CCOc1ccccc1");
        assert_eq!(m.generic_scaffold().unwrap(), "C1CCC(CCCCCC2CCCC2)CC1");
        assert_eq!(Molecule::parse("CCCC").unwrap().murcko_scaffold(false).unwrap(), "");
    }
}
