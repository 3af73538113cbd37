//! `cellcast featurize …`, `scaffold`, `neighbors`, `split`: molecules in, one row per molecule
//! out. A molecule that cannot be parsed never stops a batch: its row carries the reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use cellcast_chem::similarity::{PackedBits, TopK};
use cellcast_chem::{BitFingerprint, ChemError, Molecule, MorganParams};
use cellcast_data::output::{Column, OutputTable};
use cellcast_data::split::{chemprop_scaffold, deepchem_scaffold, group_kfold, random_kfold, Part, SplitTable};
use cellcast_data::{WideSpec, WideTable};
use clap::builder::TypedValueParser as _;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

/// Where the molecules come from.
#[derive(clap::Args, Clone)]
pub struct MoleculeInput {
    /// Input table (CSV, TSV or Parquet) with an id column and a SMILES column.
    #[arg(long)]
    pub input: PathBuf,
    /// Column holding SMILES or CXSMILES.
    #[arg(long, default_value = "smiles")]
    pub smiles_column: String,
    /// Column holding molecule ids (strings, unique).
    #[arg(long, default_value = "id")]
    pub id_column: String,
}

/// Morgan fingerprint options.
#[derive(clap::Args, Clone, Copy)]
pub struct MorganArgs {
    /// Radius (2 = ECFP4), 0 to 3.
    #[arg(long, default_value_t = 2, value_parser = crate::args::whole(0..=3).map(|v| v as u32))]
    pub radius: u32,
    /// Fingerprint size in bits, 1 to 16777216 (RDKit folds environment ids modulo this).
    #[arg(long, default_value_t = 2048, value_parser = crate::args::whole(1..=1 << 24).map(|v| v as u32))]
    pub bits: u32,
    /// Include chirality (RDKit's includeChirality=True).
    #[arg(long)]
    pub chirality: bool,
}

impl MorganArgs {
    fn params(self) -> Result<MorganParams> {
        Ok(MorganParams { radius: self.radius, nbits: self.bits, chirality: self.chirality }.validate()?)
    }
}

/// Ids and SMILES of an input table.
pub struct Molecules {
    pub ids: Vec<String>,
    pub smiles: Vec<Option<String>>,
}

pub fn read_molecules(input: &MoleculeInput) -> Result<Molecules> {
    let columns = [input.smiles_column.as_str()];
    let spec = WideSpec::text_only(&input.id_column, &columns);
    let table = WideTable::read(&input.input, &spec)
        .with_context(|| format!("reading molecules (columns '{}' and '{}')", input.id_column, input.smiles_column))?;
    let smiles = table.text_column(&input.smiles_column).expect("requested column").clone();
    Ok(Molecules { ids: table.ids, smiles })
}

fn progress(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta} left)")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// Runs `f` on every molecule in parallel, with a progress bar; results keep input order.
pub fn map_molecules<T: Send>(
    mols: &Molecules,
    what: &str,
    f: impl Fn(&Molecule) -> Result<T, ChemError> + Sync,
) -> Vec<Result<T, ChemError>> {
    let bar = progress(mols.ids.len(), what);
    let out: Vec<Result<T, ChemError>> = mols
        .smiles
        .par_iter()
        .map(|s| {
            let r = Molecule::parse(s.as_deref().unwrap_or("")).and_then(|m| f(&m));
            bar.inc(1);
            r
        })
        .collect();
    bar.finish_and_clear();
    out
}

/// "1,000 molecules: 995 ok, 5 failed (3 invalid SMILES, …; `consequence`)" on stderr, then one
/// line per molecule that failed: its id, the start of its SMILES and the reason.
pub fn summarize<T>(what: &str, mols: &Molecules, results: &[Result<T, ChemError>], consequence: &str) {
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
    eprintln!("{what}: {} molecules, {} ok, {failed} failed{detail}", results.len(), results.len() - failed);
    for (i, e) in results.iter().enumerate().filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e))) {
        eprintln!("  {}", unreadable_line(&mols.ids[i], mols.smiles[i].as_deref(), e));
    }
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

fn finish(out: &Path, rows: usize) -> Result<()> {
    eprintln!("wrote {} ({rows} rows)", out.display());
    Ok(())
}

pub fn featurize_morgan(input: &MoleculeInput, morgan: MorganArgs, counts: bool, out: &Path) -> Result<()> {
    let params = morgan.params()?;
    let mols = read_molecules(input)?;
    let mut table = OutputTable::new().with("id", ids_column(&mols.ids));
    let n = mols.ids.len();
    if counts {
        let results = map_molecules(&mols, "Morgan counts", |m| m.morgan_counts(params));
        summarize("featurize morgan --counts", &mols, &results, ERROR_COLUMN);
        let entries: Vec<&[(u32, u32)]> = results.iter().map(|r| r.as_ref().map_or(&[][..], |c| c.entries())).collect();
        if cellcast_data::input::is_parquet_output(out) {
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
        let results = map_molecules(&mols, "Morgan bits", |m| m.morgan_bits(params));
        summarize("featurize morgan", &mols, &results, ERROR_COLUMN);
        let bits = results.iter().map(|r| r.as_ref().map_or_else(|_| Vec::new(), |b| b.on_bits().collect())).collect();
        table = table.with("on_bits", Column::UIntList(bits)).with("error", error_column(&results));
    }
    table.write(out)?;
    finish(out, n)
}

pub fn featurize_descriptors(input: &MoleculeInput, out: &Path) -> Result<()> {
    let mols = read_molecules(input)?;
    let results = map_molecules(&mols, "descriptors", Molecule::descriptors);
    summarize("featurize descriptors", &mols, &results, ERROR_COLUMN);
    let mut table = OutputTable::new().with("id", ids_column(&mols.ids));
    for (k, name) in cellcast_chem::Descriptors::NAMES.iter().enumerate() {
        let values = results.iter().map(|r| r.as_ref().map_or(f64::NAN, |d| d.values()[k])).collect();
        table = table.with(name, Column::Float(values));
    }
    table.with("error", error_column(&results)).write(out)?;
    finish(out, mols.ids.len())
}

pub fn scaffold(input: &MoleculeInput, generic: bool, out: &Path) -> Result<()> {
    let mols = read_molecules(input)?;
    let results =
        map_molecules(&mols, "scaffolds", |m| if generic { m.generic_scaffold() } else { m.murcko_scaffold(false) });
    summarize("scaffold", &mols, &results, ERROR_COLUMN);
    let scaffolds = results.iter().map(|r| r.as_ref().ok().cloned()).collect();
    OutputTable::new()
        .with("id", ids_column(&mols.ids))
        .with("scaffold", Column::Text(scaffolds))
        .with("error", error_column(&results))
        .write(out)?;
    finish(out, mols.ids.len())
}

/// Library molecules fingerprinted and searched per chunk, so a library of any size runs in
/// bounded memory.
const LIBRARY_CHUNK: usize = 100_000;

pub fn neighbors(
    query: &MoleculeInput,
    library_path: &Path,
    k: usize,
    morgan: MorganArgs,
    exclude_self: bool,
    out: &Path,
) -> Result<()> {
    let params = morgan.params()?;
    let queries = read_molecules(query)?;
    let library_input = MoleculeInput { input: library_path.to_path_buf(), ..query.clone() };
    let library = read_molecules(&library_input)?;
    let query_fps = map_molecules(&queries, "query fingerprints", |m| m.morgan_bits(params));
    summarize("neighbors (queries)", &queries, &query_fps, "those queries get no neighbours");
    let ok: Vec<usize> = (0..query_fps.len()).filter(|&i| query_fps[i].is_ok()).collect();
    let fps: Vec<BitFingerprint> = ok.iter().map(|&i| query_fps[i].clone().expect("filtered to ok")).collect();
    let mut search = TopK::new(&fps, k);
    let mut failed_library = Vec::new();
    let mut search_time = std::time::Duration::ZERO;
    for (c, start) in (0..library.ids.len()).step_by(LIBRARY_CHUNK).enumerate() {
        let end = (start + LIBRARY_CHUNK).min(library.ids.len());
        let chunk = Molecules { ids: library.ids[start..end].to_vec(), smiles: library.smiles[start..end].to_vec() };
        let lib_fps = map_molecules(&chunk, &format!("library chunk {}", c + 1), |m| m.morgan_bits(params));
        // A library molecule that failed holds an empty placeholder and is skipped.
        let valid: Vec<bool> = lib_fps.iter().map(Result::is_ok).collect();
        for (i, e) in lib_fps.iter().enumerate().filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e))) {
            failed_library.push(unreadable_line(&chunk.ids[i], chunk.smiles[i].as_deref(), e));
        }
        let lib: Vec<BitFingerprint> =
            lib_fps.into_iter().map(|r| r.unwrap_or_else(|_| BitFingerprint::from_on_bits(params.nbits, []))).collect();
        let lib = PackedBits::new(&lib);
        let skip = |q: usize, l: usize| !valid[l - start] || (exclude_self && queries.ids[ok[q]] == library.ids[l]);
        let started = std::time::Instant::now();
        search.feed(&lib, start, &skip);
        search_time += started.elapsed();
    }
    let pairs = fps.len() as f64 * library.ids.len() as f64;
    eprintln!(
        "neighbors: {} queries × {} library molecules searched in {:.3} s ({:.1} million comparisons/s)",
        fps.len(),
        library.ids.len(),
        search_time.as_secs_f64(),
        pairs / search_time.as_secs_f64().max(1e-9) / 1e6
    );
    if !failed_library.is_empty() {
        eprintln!("neighbors: {} library molecule(s) could not be read and are never returned:", failed_library.len());
        for line in &failed_library {
            eprintln!("  {line}");
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
        .write(out)?;
    finish(out, rows)
}

/// The Bemis–Murcko scaffold of every molecule, the groups of a scaffold split. An unparsable
/// molecule is a group of its own, so it never drags a scaffold along.
pub fn scaffold_groups(mols: &Molecules) -> Vec<String> {
    let results = map_molecules(mols, "scaffolds", |m| m.murcko_scaffold(false));
    summarize("scaffolds", mols, &results, "each is a group of its own");
    results.iter().zip(&mols.ids).map(|(r, id)| r.clone().unwrap_or_else(|_| format!("unparsed:{id}"))).collect()
}

/// The split methods of `cellcast split`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SplitMethod {
    /// scikit-learn GroupKFold over Bemis–Murcko scaffolds.
    ScaffoldKfold,
    /// Seeded random K-fold.
    RandomKfold,
    /// GroupKFold over the values of --group-column.
    GroupKfold,
    /// DeepChem ScaffoldSplitter (train/valid/test).
    Deepchem,
    /// chemprop v1 scaffold split, deterministic (train/valid/test).
    Chemprop,
    /// chemprop v1 balanced scaffold split, seeded (cellcast's RNG, not Python's).
    ChempropBalanced,
}

pub struct SplitOptions<'a> {
    pub method: SplitMethod,
    pub folds: usize,
    pub seed: u64,
    pub fractions: (f64, f64, f64),
    pub group_column: Option<&'a str>,
}

pub fn split(input: &MoleculeInput, opts: &SplitOptions, out: &Path) -> Result<()> {
    let (ids, groups) = match opts.method {
        SplitMethod::GroupKfold => {
            let Some(col) = opts.group_column else {
                bail!("--method group-kfold needs --group-column COLUMN");
            };
            let table = WideTable::read(&input.input, &WideSpec::text_only(&input.id_column, &[col]))
                .context("reading the group column")?;
            let groups = table
                .text_column(col)
                .expect("requested column")
                .iter()
                .map(|g| g.clone().unwrap_or_default())
                .collect();
            (table.ids, groups)
        }
        SplitMethod::RandomKfold => {
            let mols = read_molecules(input)?;
            let n = mols.ids.len();
            (mols.ids, vec![String::new(); n])
        }
        _ => {
            let mols = read_molecules(input)?;
            let groups = scaffold_groups(&mols);
            (mols.ids, groups)
        }
    };
    let parts: Vec<Part> = match opts.method {
        SplitMethod::RandomKfold => {
            random_kfold(ids.len(), opts.folds, opts.seed)?.into_iter().map(Part::Fold).collect()
        }
        SplitMethod::ScaffoldKfold | SplitMethod::GroupKfold => {
            group_kfold(&groups, opts.folds)?.into_iter().map(Part::Fold).collect()
        }
        SplitMethod::Deepchem => deepchem_scaffold(&groups, opts.fractions)?,
        SplitMethod::Chemprop => chemprop_scaffold(&groups, opts.fractions, None)?,
        SplitMethod::ChempropBalanced => chemprop_scaffold(&groups, opts.fractions, Some(opts.seed))?,
    };
    let mut counts: BTreeMap<Part, usize> = BTreeMap::new();
    for p in &parts {
        *counts.entry(*p).or_default() += 1;
    }
    let sizes: Vec<String> = counts.iter().map(|(p, n)| format!("{p}: {n}")).collect();
    eprintln!("split: {} rows → {}", ids.len(), sizes.join(", "));
    let rows = ids.len();
    SplitTable { ids, groups, parts }.write(out).context("writing the split")?;
    finish(out, rows)
}
