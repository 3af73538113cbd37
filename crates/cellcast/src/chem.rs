//! Molecules in, one row per molecule out: Morgan fingerprints and descriptors, Bemis–Murcko
//! scaffolds, nearest neighbours, and reproducible splits. A molecule that cannot be read never
//! stops a batch: its row carries the reason, and a note names it.
//!
//! The file workflows ([`featurize_morgan`], [`scaffold`], …) read a table and write one; the
//! in-memory functions ([`morgan_bits`], [`scaffolds`], [`canonical_smiles`], [`split_smiles`])
//! take SMILES and return values, for the Python package and other libraries.

use std::collections::BTreeMap;
use std::path::PathBuf;

use cellcast_chem::similarity::{PackedBits, TopK};
use cellcast_chem::{BitFingerprint, ChemError, CountFingerprint, Molecule, MorganParams};
use cellcast_data::output::{Column, OutputTable};
use cellcast_data::split::{Part, SplitMethod, SplitTable};
use cellcast_data::{WideSpec, WideTable};
use rayon::prelude::*;

use crate::{bail, Context, Observer, Result, Unit};

/// A table of molecules: its path and the columns holding ids and SMILES.
#[derive(Debug, Clone)]
pub struct MoleculeSource {
    /// CSV, TSV or Parquet (gzip too), or `-` for standard input.
    pub path: PathBuf,
    /// Column holding SMILES or CXSMILES.
    pub smiles_column: String,
    /// Column holding molecule ids (strings, unique).
    pub id_column: String,
}

impl MoleculeSource {
    pub fn new(path: impl Into<PathBuf>, smiles_column: &str, id_column: &str) -> Self {
        Self { path: path.into(), smiles_column: smiles_column.into(), id_column: id_column.into() }
    }
}

impl Default for MoleculeSource {
    fn default() -> Self {
        Self::new("", "smiles", "id")
    }
}

/// Ids and SMILES of a table, in its row order (a missing SMILES is `None`).
#[derive(Debug, Clone, Default)]
pub struct Molecules {
    pub ids: Vec<String>,
    pub smiles: Vec<Option<String>>,
}

impl Molecules {
    /// Molecules named by their row number (`0`, `1`, …), for inputs that come without ids.
    pub fn numbered<S: AsRef<str>>(smiles: &[S]) -> Self {
        Self {
            ids: (0..smiles.len()).map(|i| i.to_string()).collect(),
            smiles: smiles.iter().map(|s| Some(s.as_ref().to_string())).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Reads the id and SMILES columns of a molecule table.
pub fn read_molecules(source: &MoleculeSource) -> Result<Molecules> {
    let columns = [source.smiles_column.as_str()];
    let spec = WideSpec::text_only(&source.id_column, &columns);
    let table = WideTable::read(&source.path, &spec).with_context(|| {
        format!("reading molecules (columns '{}' and '{}')", source.id_column, source.smiles_column)
    })?;
    let smiles = table.text_column(&source.smiles_column).cloned().unwrap_or_default();
    Ok(Molecules { ids: table.ids, smiles })
}

/// Runs `f` on every molecule in parallel, reporting progress; results keep input order.
pub fn map_molecules<T: Send>(
    mols: &Molecules,
    what: &str,
    observer: &dyn Observer,
    f: impl Fn(&Molecule) -> Result<T, ChemError> + Sync,
) -> Vec<Result<T, ChemError>> {
    let progress = observer.progress(what, mols.len() as u64, Unit::Items);
    let out = mols
        .smiles
        .par_iter()
        .map(|s| {
            let r = Molecule::parse(s.as_deref().unwrap_or("")).and_then(|m| f(&m));
            progress.advance(1);
            r
        })
        .collect();
    progress.finish();
    out
}

/// Notes "1,000 molecules: 995 ok, 5 failed (3 invalid SMILES, …; `consequence`):", then one
/// note per molecule that failed: its id, the start of its SMILES and the reason. Returns the
/// number that failed.
pub fn summarize<T>(
    what: &str,
    mols: &Molecules,
    results: &[Result<T, ChemError>],
    consequence: &str,
    observer: &dyn Observer,
) -> usize {
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        *reasons.entry(e.kind()).or_default() += 1;
    }
    let failed: usize = reasons.values().sum();
    let detail = if failed == 0 {
        String::new()
    } else {
        let parts: Vec<String> = reasons.iter().map(|(k, n)| format!("{n} {k}")).collect();
        format!(" ({}; {consequence}):", parts.join(", "))
    };
    observer.note(&format!(
        "{what}: {} molecules, {} ok, {failed} failed{detail}",
        results.len(),
        results.len() - failed
    ));
    for (i, e) in results.iter().enumerate().filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e))) {
        observer.note(&format!("  {}", unreadable_line(&mols.ids[i], mols.smiles[i].as_deref(), e)));
    }
    failed
}

/// "id 'x', SMILES 'CC(=O…': reason" for a molecule that could not be read.
pub fn unreadable_line(id: &str, smiles: Option<&str>, reason: impl std::fmt::Display) -> String {
    format!("id '{id}', SMILES '{}': {reason}", smiles_prefix(smiles.unwrap_or("")))
}

/// The first 40 characters of a SMILES, with an ellipsis when there is more.
pub fn smiles_prefix(smiles: &str) -> String {
    match smiles.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &smiles[..cut]),
        None => smiles.to_string(),
    }
}

const ERROR_COLUMN: &str = "the error column says why";

fn error_column<T>(results: &[Result<T, ChemError>]) -> Column {
    Column::Text(results.iter().map(|r| r.as_ref().err().map(ToString::to_string)).collect())
}

fn ids_column(ids: &[String]) -> Column {
    Column::Text(ids.iter().cloned().map(Some).collect())
}

/// What a molecule table workflow wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableOutcome {
    /// Rows written.
    pub rows: usize,
    /// Input molecules that could not be read (their rows say why).
    pub failed: usize,
}

/// Options of [`featurize_morgan`].
#[derive(Debug, Clone)]
pub struct FeaturizeMorganOptions {
    pub input: MoleculeSource,
    pub morgan: MorganParams,
    /// Count fingerprint instead of bits.
    pub counts: bool,
    /// `id,on_bits,error`: CSV, or Parquet when it ends in `.parquet`.
    pub out: PathBuf,
}

impl Default for FeaturizeMorganOptions {
    fn default() -> Self {
        Self { input: MoleculeSource::default(), morgan: MorganParams::default(), counts: false, out: PathBuf::new() }
    }
}

impl FeaturizeMorganOptions {
    pub fn validate(&self) -> Result<()> {
        self.morgan.validate()?;
        Ok(())
    }
}

/// Morgan fingerprints of every molecule of a table, RDKit's bits (or counts).
pub fn featurize_morgan(opts: &FeaturizeMorganOptions, observer: &dyn Observer) -> Result<TableOutcome> {
    opts.validate()?;
    let params = opts.morgan;
    let mols = read_molecules(&opts.input)?;
    let mut table = OutputTable::new().with("id", ids_column(&mols.ids));
    let failed;
    if opts.counts {
        let results = map_molecules(&mols, "Morgan counts", observer, |m| m.morgan_counts(params));
        failed = summarize("featurize morgan --counts", &mols, &results, ERROR_COLUMN, observer);
        let entries: Vec<&[(u32, u32)]> =
            results.iter().map(|r| r.as_ref().map_or(&[][..], CountFingerprint::entries)).collect();
        if cellcast_data::input::is_parquet_output(&opts.out) {
            table = table
                .with("on_bits", Column::UIntList(entries.iter().map(|e| e.iter().map(|p| p.0).collect()).collect()))
                .with("counts", Column::UIntList(entries.iter().map(|e| e.iter().map(|p| p.1).collect()).collect()));
        } else {
            let text = entries
                .iter()
                .map(|e| Some(e.iter().map(|(i, c)| format!("{i}:{c}")).collect::<Vec<_>>().join(" ")))
                .collect();
            table = table.with("on_bits", Column::Text(text));
        }
        table = table.with("error", error_column(&results));
    } else {
        let results = map_molecules(&mols, "Morgan bits", observer, |m| m.morgan_bits(params));
        failed = summarize("featurize morgan", &mols, &results, ERROR_COLUMN, observer);
        let bits = results.iter().map(|r| r.as_ref().map_or_else(|_| Vec::new(), |b| b.on_bits().collect())).collect();
        table = table.with("on_bits", Column::UIntList(bits)).with("error", error_column(&results));
    }
    table.write(&opts.out)?;
    Ok(TableOutcome { rows: mols.len(), failed })
}

/// Options of [`featurize_descriptors`].
#[derive(Debug, Clone, Default)]
pub struct FeaturizeDescriptorsOptions {
    pub input: MoleculeSource,
    /// `id`, one column per descriptor, `error`: CSV, or Parquet when it ends in `.parquet`.
    pub out: PathBuf,
}

impl FeaturizeDescriptorsOptions {
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// RDKit's 14 descriptors of every molecule of a table.
pub fn featurize_descriptors(opts: &FeaturizeDescriptorsOptions, observer: &dyn Observer) -> Result<TableOutcome> {
    opts.validate()?;
    let mols = read_molecules(&opts.input)?;
    let results = map_molecules(&mols, "descriptors", observer, Molecule::descriptors);
    let failed = summarize("featurize descriptors", &mols, &results, ERROR_COLUMN, observer);
    let mut table = OutputTable::new().with("id", ids_column(&mols.ids));
    for (k, name) in cellcast_chem::Descriptors::NAMES.iter().enumerate() {
        let values = results.iter().map(|r| r.as_ref().map_or(f64::NAN, |d| d.values()[k])).collect();
        table = table.with(name, Column::Float(values));
    }
    table.with("error", error_column(&results)).write(&opts.out)?;
    Ok(TableOutcome { rows: mols.len(), failed })
}

/// Options of [`scaffold`].
#[derive(Debug, Clone, Default)]
pub struct ScaffoldOptions {
    pub input: MoleculeSource,
    /// The generic (CSK) scaffold: every atom carbon, every bond single.
    pub generic: bool,
    /// `id,scaffold,error`: CSV, or Parquet when it ends in `.parquet`.
    pub out: PathBuf,
}

impl ScaffoldOptions {
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// The Bemis–Murcko scaffold of every molecule of a table, as RDKit's `MurckoScaffoldSmiles`.
pub fn scaffold(opts: &ScaffoldOptions, observer: &dyn Observer) -> Result<TableOutcome> {
    opts.validate()?;
    let mols = read_molecules(&opts.input)?;
    let generic = opts.generic;
    let results = map_molecules(&mols, "scaffolds", observer, |m| {
        if generic {
            m.generic_scaffold()
        } else {
            m.murcko_scaffold(false)
        }
    });
    let failed = summarize("scaffold", &mols, &results, ERROR_COLUMN, observer);
    let scaffolds = results.iter().map(|r| r.as_ref().ok().cloned()).collect();
    OutputTable::new()
        .with("id", ids_column(&mols.ids))
        .with("scaffold", Column::Text(scaffolds))
        .with("error", error_column(&results))
        .write(&opts.out)?;
    Ok(TableOutcome { rows: mols.len(), failed })
}

/// Library molecules fingerprinted and searched per chunk, so a library of any size runs in
/// bounded memory.
const LIBRARY_CHUNK: usize = 100_000;

/// Options of [`neighbors`].
#[derive(Debug, Clone)]
pub struct NeighborsOptions {
    pub query: MoleculeSource,
    /// The library table (same id and SMILES column names as the query).
    pub library: PathBuf,
    /// Neighbours per query, at least 1.
    pub k: usize,
    pub morgan: MorganParams,
    /// Never return a library molecule with the query's own id.
    pub exclude_self: bool,
    /// `query_id,rank,neighbor_id,similarity`: CSV, or Parquet when it ends in `.parquet`.
    pub out: PathBuf,
}

impl Default for NeighborsOptions {
    fn default() -> Self {
        Self {
            query: MoleculeSource::default(),
            library: PathBuf::new(),
            k: 5,
            morgan: MorganParams::default(),
            exclude_self: false,
            out: PathBuf::new(),
        }
    }
}

impl NeighborsOptions {
    pub fn validate(&self) -> Result<()> {
        if self.k == 0 {
            bail!("k must be at least 1 (neighbours per query)");
        }
        self.morgan.validate()?;
        Ok(())
    }
}

/// What [`neighbors`] searched and wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct NeighborsOutcome {
    pub rows: usize,
    pub queries: usize,
    pub library: usize,
    /// Seconds spent comparing fingerprints.
    pub search_seconds: f64,
}

/// The k most similar library molecules of every query (Tanimoto on Morgan bits); ties keep
/// library order.
pub fn neighbors(opts: &NeighborsOptions, observer: &dyn Observer) -> Result<NeighborsOutcome> {
    opts.validate()?;
    let params = opts.morgan;
    let queries = read_molecules(&opts.query)?;
    let library_source = MoleculeSource { path: opts.library.clone(), ..opts.query.clone() };
    let library = read_molecules(&library_source)?;
    let query_fps = map_molecules(&queries, "query fingerprints", observer, |m| m.morgan_bits(params));
    summarize("neighbors (queries)", &queries, &query_fps, "those queries get no neighbours", observer);
    let ok: Vec<usize> = (0..query_fps.len()).filter(|&i| query_fps[i].is_ok()).collect();
    let fps: Vec<BitFingerprint> = query_fps.into_iter().filter_map(|r| r.ok()).collect();
    let mut search = TopK::new(&fps, opts.k);
    let mut failed_library = Vec::new();
    let mut search_time = std::time::Duration::ZERO;
    for (c, start) in (0..library.len()).step_by(LIBRARY_CHUNK).enumerate() {
        let end = (start + LIBRARY_CHUNK).min(library.len());
        let chunk = Molecules { ids: library.ids[start..end].to_vec(), smiles: library.smiles[start..end].to_vec() };
        let lib_fps = map_molecules(&chunk, &format!("library chunk {}", c + 1), observer, |m| m.morgan_bits(params));
        // A library molecule that failed holds an empty placeholder and is skipped.
        let valid: Vec<bool> = lib_fps.iter().map(Result::is_ok).collect();
        for (i, e) in lib_fps.iter().enumerate().filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e))) {
            failed_library.push(unreadable_line(&chunk.ids[i], chunk.smiles[i].as_deref(), e));
        }
        let lib: Vec<BitFingerprint> =
            lib_fps.into_iter().map(|r| r.unwrap_or_else(|_| BitFingerprint::from_on_bits(params.nbits, []))).collect();
        let lib = PackedBits::new(&lib);
        let skip =
            |q: usize, l: usize| !valid[l - start] || (opts.exclude_self && queries.ids[ok[q]] == library.ids[l]);
        let started = std::time::Instant::now();
        search.feed(&lib, start, &skip);
        search_time += started.elapsed();
    }
    let pairs = fps.len() as f64 * library.len() as f64;
    observer.note(&format!(
        "neighbors: {} queries × {} library molecules searched in {:.3} s ({:.1} million comparisons/s)",
        fps.len(),
        library.len(),
        search_time.as_secs_f64(),
        pairs / search_time.as_secs_f64().max(1e-9) / 1e6
    ));
    if !failed_library.is_empty() {
        observer.note(&format!(
            "neighbors: {} library molecule(s) could not be read and are never returned:",
            failed_library.len()
        ));
        for line in &failed_library {
            observer.note(&format!("  {line}"));
        }
    }
    let hits = search.finish();
    let (mut qid, mut rank, mut nid, mut sim) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (q, list) in ok.iter().zip(&hits) {
        for (r, n) in list.iter().enumerate() {
            qid.push(Some(queries.ids[*q].clone()));
            rank.push(r as i64 + 1);
            nid.push(Some(library.ids[n.index].clone()));
            sim.push(n.similarity);
        }
    }
    let rows = qid.len();
    OutputTable::new()
        .with("query_id", Column::Text(qid))
        .with("rank", Column::Int(rank))
        .with("neighbor_id", Column::Text(nid))
        .with("similarity", Column::Float(sim))
        .write(&opts.out)?;
    Ok(NeighborsOutcome { rows, queries: fps.len(), library: library.len(), search_seconds: search_time.as_secs_f64() })
}

/// The Bemis–Murcko scaffold of every molecule, the groups of a scaffold split. An unparsable
/// molecule is a group of its own (`unparsed:ID`), so it never drags a scaffold along.
pub fn scaffold_groups(mols: &Molecules, observer: &dyn Observer) -> Vec<String> {
    let results = map_molecules(mols, "scaffolds", observer, |m| m.murcko_scaffold(false));
    summarize("scaffolds", mols, &results, "each is a group of its own", observer);
    results.iter().zip(&mols.ids).map(|(r, id)| r.clone().unwrap_or_else(|_| format!("unparsed:{id}"))).collect()
}

/// Options of [`split`].
#[derive(Debug, Clone)]
pub struct SplitOptions {
    pub input: MoleculeSource,
    pub method: SplitMethod,
    /// Number of folds of the k-fold methods, 2 to 1000.
    pub folds: usize,
    /// Seed of the random methods (random-kfold, chemprop-balanced).
    pub seed: u64,
    /// Train, valid and test fractions of the deepchem / chemprop methods.
    pub fractions: (f64, f64, f64),
    /// The column whose values are the groups, for group-kfold.
    pub group_column: Option<String>,
    /// `id,group,fold`: CSV, or Parquet when it ends in `.parquet`.
    pub out: PathBuf,
}

impl Default for SplitOptions {
    fn default() -> Self {
        Self {
            input: MoleculeSource::default(),
            method: SplitMethod::ScaffoldKfold,
            folds: 5,
            seed: 0,
            fractions: (0.8, 0.1, 0.1),
            group_column: None,
            out: PathBuf::new(),
        }
    }
}

impl SplitOptions {
    pub fn validate(&self) -> Result<()> {
        validate_split(self.method, self.folds, self.fractions)?;
        if self.method == SplitMethod::GroupKfold && self.group_column.is_none() {
            bail!("--method group-kfold needs --group-column COLUMN");
        }
        Ok(())
    }
}

fn validate_split(method: SplitMethod, folds: usize, fractions: (f64, f64, f64)) -> Result<()> {
    if !(2..=1000).contains(&folds) {
        bail!("folds must be a whole number from 2 to 1000 (got {folds})");
    }
    let (a, b, c) = fractions;
    let valid = [a, b, c].iter().all(|f| f.is_finite() && (0.0..=1.0).contains(f)) && ((a + b + c) - 1.0).abs() < 1e-9;
    if !method.name().ends_with("kfold") && !valid {
        bail!("fractions must be three numbers in [0, 1] summing to 1 (got {a}, {b}, {c})");
    }
    Ok(())
}

/// What [`split`] assigned: the number of rows in each fold or part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitOutcome {
    pub rows: usize,
    pub sizes: BTreeMap<Part, usize>,
}

/// Assigns the molecules of a table to folds or train/valid/test, reproducibly, and writes
/// `id,group,fold`.
pub fn split(opts: &SplitOptions, observer: &dyn Observer) -> Result<SplitOutcome> {
    opts.validate()?;
    let (ids, groups) = match (opts.method, opts.group_column.as_deref()) {
        (SplitMethod::GroupKfold, Some(col)) => {
            let table = WideTable::read(&opts.input.path, &WideSpec::text_only(&opts.input.id_column, &[col]))
                .context("reading the group column")?;
            let groups = table.text_column(col).into_iter().flatten().map(|g| g.clone().unwrap_or_default()).collect();
            (table.ids, groups)
        }
        _ => {
            let mols = read_molecules(&opts.input)?;
            let groups = molecule_groups(&mols, opts.method, observer);
            (mols.ids, groups)
        }
    };
    let parts = opts.method.assign(&groups, opts.folds, opts.seed, opts.fractions)?;
    let mut sizes: BTreeMap<Part, usize> = BTreeMap::new();
    for p in &parts {
        *sizes.entry(*p).or_default() += 1;
    }
    let listed: Vec<String> = sizes.iter().map(|(p, n)| format!("{p}: {n}")).collect();
    observer.note(&format!("split: {} rows → {}", ids.len(), listed.join(", ")));
    let rows = ids.len();
    SplitTable { ids, groups, parts }.write(&opts.out).context("writing the split")?;
    Ok(SplitOutcome { rows, sizes })
}

/// The groups a method splits by: scaffolds, or none (random).
fn molecule_groups(mols: &Molecules, method: SplitMethod, observer: &dyn Observer) -> Vec<String> {
    if method.uses_scaffolds() {
        scaffold_groups(mols, observer)
    } else {
        vec![String::new(); mols.len()]
    }
}

// ---------------------------------------------------------------------------------------------
// In memory: SMILES in, values out (the Python package's `cellcast.chem` and `cellcast.split`).

/// Morgan bit fingerprints of SMILES, in order: RDKit's bits, or why the molecule was refused.
pub fn morgan_bits<S: AsRef<str> + Sync>(
    smiles: &[S],
    params: MorganParams,
) -> Result<Vec<Result<BitFingerprint, ChemError>>> {
    let params = params.validate()?;
    Ok(smiles.par_iter().map(|s| Molecule::parse(s.as_ref()).and_then(|m| m.morgan_bits(params))).collect())
}

/// Morgan count fingerprints of SMILES, in order.
pub fn morgan_counts<S: AsRef<str> + Sync>(
    smiles: &[S],
    params: MorganParams,
) -> Result<Vec<Result<CountFingerprint, ChemError>>> {
    let params = params.validate()?;
    Ok(smiles.par_iter().map(|s| Molecule::parse(s.as_ref()).and_then(|m| m.morgan_counts(params))).collect())
}

/// Bemis–Murcko scaffold SMILES (RDKit's `MurckoScaffoldSmiles`; `generic`: the CSK scaffold)
/// of each SMILES, or why it was refused. An acyclic molecule has the empty scaffold.
pub fn scaffolds<S: AsRef<str> + Sync>(smiles: &[S], generic: bool) -> Vec<Result<String, ChemError>> {
    smiles
        .par_iter()
        .map(|s| {
            let m = Molecule::parse(s.as_ref())?;
            if generic {
                m.generic_scaffold()
            } else {
                m.murcko_scaffold(false)
            }
        })
        .collect()
}

/// RDKit's canonical isomeric SMILES (`Chem.MolToSmiles`) of each SMILES, or why it was refused.
pub fn canonical_smiles<S: AsRef<str> + Sync>(smiles: &[S]) -> Vec<Result<String, ChemError>> {
    smiles
        .par_iter()
        .map(|s| Molecule::parse(s.as_ref()).and_then(|m| m.canonical_smiles().map(str::to_string)))
        .collect()
}

/// The fold (k-fold methods) or part of each SMILES under `method`, as [`split`] assigns them to
/// a table of these molecules in this order (ids are the row numbers).
pub fn split_smiles<S: AsRef<str>>(
    smiles: &[S],
    method: SplitMethod,
    folds: usize,
    seed: u64,
    fractions: (f64, f64, f64),
    observer: &dyn Observer,
) -> Result<Vec<Part>> {
    validate_split(method, folds, fractions)?;
    if method == SplitMethod::GroupKfold {
        bail!("group-kfold splits by a group column, not by molecules; use scaffold-kfold or random-kfold");
    }
    let mols = Molecules::numbered(smiles);
    let groups = molecule_groups(&mols, method, observer);
    Ok(method.assign(&groups, folds, seed, fractions)?)
}
