//! `cellcast featurize …`, `scaffold`, `neighbors`, `split`: arguments → options → call → print.

use std::path::PathBuf;

use anyhow::Result;
use cellcast::chem::{self, MoleculeSource};
use cellcast::engine::chem::MorganParams;
use cellcast::engine::data::split::SplitMethod as Method;
use clap::builder::TypedValueParser as _;

use crate::observer::Terminal;

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

impl MoleculeInput {
    fn source(&self) -> MoleculeSource {
        MoleculeSource {
            path: self.input.clone(),
            smiles_column: self.smiles_column.clone(),
            id_column: self.id_column.clone(),
        }
    }
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
    fn params(self) -> MorganParams {
        MorganParams { radius: self.radius, nbits: self.bits, chirality: self.chirality }
    }
}

fn wrote(out: &std::path::Path, rows: usize) {
    eprintln!("wrote {} ({rows} rows)", out.display());
}

pub fn featurize_morgan(input: &MoleculeInput, morgan: MorganArgs, counts: bool, out: &std::path::Path) -> Result<()> {
    let opts =
        chem::FeaturizeMorganOptions { input: input.source(), morgan: morgan.params(), counts, out: out.to_path_buf() };
    let outcome = chem::featurize_morgan(&opts, &Terminal::default())?;
    wrote(out, outcome.rows);
    Ok(())
}

pub fn featurize_descriptors(input: &MoleculeInput, out: &std::path::Path) -> Result<()> {
    let opts = chem::FeaturizeDescriptorsOptions { input: input.source(), out: out.to_path_buf() };
    let outcome = chem::featurize_descriptors(&opts, &Terminal::default())?;
    wrote(out, outcome.rows);
    Ok(())
}

pub fn scaffold(input: &MoleculeInput, generic: bool, out: &std::path::Path) -> Result<()> {
    let opts = chem::ScaffoldOptions { input: input.source(), generic, out: out.to_path_buf() };
    let outcome = chem::scaffold(&opts, &Terminal::default())?;
    wrote(out, outcome.rows);
    Ok(())
}

pub fn neighbors(
    query: &MoleculeInput,
    library: &std::path::Path,
    k: usize,
    morgan: MorganArgs,
    exclude_self: bool,
    out: &std::path::Path,
) -> Result<()> {
    let opts = chem::NeighborsOptions {
        query: query.source(),
        library: library.to_path_buf(),
        k,
        morgan: morgan.params(),
        exclude_self,
        out: out.to_path_buf(),
    };
    let outcome = chem::neighbors(&opts, &Terminal::default())?;
    wrote(out, outcome.rows);
    Ok(())
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

impl From<SplitMethod> for Method {
    fn from(m: SplitMethod) -> Self {
        match m {
            SplitMethod::ScaffoldKfold => Method::ScaffoldKfold,
            SplitMethod::RandomKfold => Method::RandomKfold,
            SplitMethod::GroupKfold => Method::GroupKfold,
            SplitMethod::Deepchem => Method::Deepchem,
            SplitMethod::Chemprop => Method::Chemprop,
            SplitMethod::ChempropBalanced => Method::ChempropBalanced,
        }
    }
}

pub struct SplitArgs {
    pub method: SplitMethod,
    pub folds: usize,
    pub seed: u64,
    pub fractions: (f64, f64, f64),
    pub group_column: Option<String>,
}

pub fn split(input: &MoleculeInput, args: SplitArgs, out: &std::path::Path) -> Result<()> {
    let opts = chem::SplitOptions {
        input: input.source(),
        method: args.method.into(),
        folds: args.folds,
        seed: args.seed,
        fractions: args.fractions,
        group_column: args.group_column,
        out: out.to_path_buf(),
    };
    let outcome = chem::split(&opts, &Terminal::default())?;
    wrote(out, outcome.rows);
    Ok(())
}
