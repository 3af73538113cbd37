//! Benchmark tasks in the Polaris/Kaggle folder layout: `train.csv`, `test_features.csv`,
//! `sample_submission.csv`, and an optional `task.toml` that overrides what is detected.
//!
//! Two layouts share one model of a task — compounds × targets with NaN where a label is
//! unknown — so every model of the panel serves both:
//!
//! - **wide** (L1000): one row per compound, one column per target. The targets are the columns
//!   of `sample_submission.csv` besides `id`.
//! - **pairs** (RxRx3 compound–gene, or any long table `compound, gene, value`): one row per
//!   (compound, target) pair and a single value column. Detected when the sample has one value
//!   column and the test rows carry a column that also exists in `train.csv` (the target, e.g.
//!   `gene`). The pairs are pivoted to compounds × targets; pairs never measured stay NaN.
//!
//! The molecule column is the one named like SMILES (`SMILES`, `smiles`, `CXSMILES`, …).
//!
//! A wide task's training data may also be a CMap matrix, `train.gct` or `train.gctx` (genes ×
//! samples with metadata), instead of `train.csv`: samples become training rows (ids = the
//! column ids), genes are matched to the sample's columns by row id or by a row-metadata field
//! (also with the Polaris `geneID-` prefix, so `pr_gene_id` 5720 names `geneID-5720`), and each
//! sample's molecule comes from a column-metadata field, or from a `molecules` table joined on
//! `molecule_key` (default `pert_id`) when the file carries no SMILES.
//!
//! A wide task's training data may also be DRUG-seq raw counts as the VCPI contest ships them:
//! `train_counts.csv` (or `.tsv`, `.parquet`; genes × samples, a gene id column then one column
//! per sample;
//! or `train_counts.mtx`, a Matrix Market file of genes × samples with its ids, one per line, in
//! `train_counts_genes.tsv` and `train_counts_samples.tsv`) and `train_samples.csv` (sample id, compound id, SMILES: one row per replicate sample). The
//! training rows are the compounds, their labels the mean log2(CPM + 1) of their replicates over
//! the genes of `sample_submission.csv` ([`crate::counts`], streamed), and the replicate sums
//! are kept ([`Task::replicates`]) for the VCPI weights; the official metric is `vcpi/wmse`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cellcast_stats::Matrix;
use serde::Deserialize;

use crate::error::{DataError, Result};
use crate::gct::GctMatrix;
use crate::table::{preview, NumericColumns, WideSpec, WideTable};

/// `task.toml`: everything is optional; what is given wins over detection.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    /// The column holding SMILES or CXSMILES.
    pub molecule_column: Option<String>,
    /// The id column of `test_features.csv` and `sample_submission.csv` (default: the sample's first).
    pub id_column: Option<String>,
    /// Pairs: the column naming the compound (default: the column that maps 1:1 to a molecule).
    pub compound_column: Option<String>,
    /// Pairs: the column naming the target (gene).
    pub target_column: Option<String>,
    /// The official metric, a `cellcast metrics` name (default: per-target MSE; for binary pair
    /// labels the mean per-compound average precision).
    pub metric: Option<String>,
    /// A control / basal profile: `"zero"` (z-scores, log-fold-changes) or a CSV/Parquet file
    /// (relative to the task folder) whose first row holds a value for every target.
    pub control: Option<String>,
    /// Default cross-validation split: `"scaffold"` or `"random"` (the command line wins).
    pub split: Option<String>,
    /// Default number of folds (the command line wins).
    pub folds: Option<usize>,
    /// GCT/GCTX training data without SMILES: a CSV/TSV (relative to the task folder) with the
    /// `molecule_key` column and the molecule column.
    pub molecules: Option<String>,
    /// The column-metadata field of a GCT/GCTX joined to `molecules` (default `pert_id`).
    pub molecule_key: Option<String>,
    /// DRUG-seq counts: the sample id column of `train_samples.csv` (default: its first).
    pub sample_column: Option<String>,
    /// The public benchmark the task is built from, so that a report can say how it differs:
    /// `"rxrx3-core"`, or `"none"`. Default: detected from the layout (see [`Benchmark`]).
    pub benchmark: Option<String>,
}

/// A public benchmark a task is built from (task.toml `benchmark`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Benchmark {
    /// RxRx3-core compound–gene activity. Detected, when task.toml does not say, from a binary
    /// pair task whose columns are `treatment`, `gene` and `active`: the layout of Polaris'
    /// `recursion/rxrx-compound-gene-activity-benchmark`.
    Rxrx3Core,
}

impl Benchmark {
    pub const NAMES: [&'static str; 2] = ["rxrx3-core", "none"];

    pub fn name(self) -> &'static str {
        match self {
            Benchmark::Rxrx3Core => "rxrx3-core",
        }
    }

    /// What task.toml's `benchmark` says: `None` when it says nothing, `Some(None)` for "none".
    fn named(value: Option<&str>, path: &Path) -> Result<Option<Option<Self>>> {
        match value {
            None => Ok(None),
            Some("rxrx3-core") => Ok(Some(Some(Benchmark::Rxrx3Core))),
            Some("none") => Ok(Some(None)),
            Some(other) => Err(mismatch(
                path,
                format!("task.toml: benchmark = '{other}' is not one of {}", Self::NAMES.join(", ")),
            )),
        }
    }

    /// The benchmark named by task.toml, else the one the task's layout is recognised as.
    fn of(task: &Task, path: &Path) -> Result<Option<Self>> {
        match Self::named(task.config.benchmark.as_deref(), path)? {
            Some(named) => Ok(named),
            None => Ok(match &task.layout {
                Layout::Pairs(p)
                    if task.labels == LabelKind::Binary
                        && p.compound_column == "treatment"
                        && p.target_column == "gene"
                        && p.value_column == "active" =>
                {
                    Some(Benchmark::Rxrx3Core)
                }
                _ => None,
            }),
        }
    }
}

impl TaskConfig {
    /// Reads a `task.toml`.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(crate::error::io(path))?;
        let config: Self = toml::from_str(&text).map_err(|e| DataError::Mismatch {
            path: path.to_path_buf(),
            message: format!("not a valid task.toml: {}", e.to_string().trim_end()),
        })?;
        Benchmark::named(config.benchmark.as_deref(), path)?;
        Ok(config)
    }
}

/// What the labels are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKind {
    Continuous,
    /// Every label is 0 or 1 (activity); models output scores.
    Binary,
}

/// How the submission is laid out.
#[derive(Debug, Clone, PartialEq)]
pub enum Layout {
    /// One row per test compound, one column per target.
    Wide,
    /// One row per (compound, target) pair with a single value column.
    Pairs(PairLayout),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PairLayout {
    pub compound_column: String,
    pub target_column: String,
    pub value_column: String,
    /// One per submission row.
    pub cells: Vec<PairCell>,
}

/// A submission row of a pair task.
#[derive(Debug, Clone, PartialEq)]
pub struct PairCell {
    /// Index into the test compounds.
    pub compound: usize,
    pub target: String,
    /// The target's column in the training labels (None when no training compound was measured on it).
    pub column: Option<usize>,
}

/// A task: compounds × targets, whatever the file layout.
#[derive(Debug, Clone)]
pub struct Task {
    pub dir: PathBuf,
    pub name: String,
    pub layout: Layout,
    pub labels: LabelKind,
    pub targets: Vec<String>,
    /// Training compounds (ids, or compound names for pairs).
    pub train_ids: Vec<String>,
    pub train_smiles: Vec<Option<String>>,
    /// Training labels, compounds × targets; unknown cells are NaN.
    pub train_y: Matrix,
    /// Test compounds (wide: in the order of `sample_submission.csv`).
    pub test_ids: Vec<String>,
    pub test_smiles: Vec<Option<String>>,
    /// The ids of `sample_submission.csv`, in its order.
    pub submission_ids: Vec<String>,
    pub submission_id_column: String,
    pub molecule_column: String,
    /// The official metric.
    pub metric: String,
    /// The control profile (one value per target), when the task has one.
    pub control: Option<Vec<f64>>,
    /// DRUG-seq counts tasks: the replicates' log2(CPM + 1) summed per compound (groups in the
    /// order of `train_ids`, columns the targets), for replicate-level weights.
    pub replicates: Option<cellcast_stats::moments::ReplicateSums>,
    /// What loading left out or assumed, for the user (e.g. counts samples without a compound).
    pub notes: Vec<String>,
    pub config: TaskConfig,
    /// The public benchmark the task is built from, if known.
    pub benchmark: Option<Benchmark>,
}

impl Task {
    /// Loads a task folder, reading `task.toml` in it when present.
    pub fn load(dir: &Path) -> Result<Self> {
        let toml_path = dir.join("task.toml");
        let config = if toml_path.exists() { TaskConfig::read(&toml_path)? } else { TaskConfig::default() };
        Self::load_with(dir, config)
    }

    /// Loads a task folder with the given configuration (e.g. a `task.toml` kept elsewhere).
    pub fn load_with(dir: &Path, config: TaskConfig) -> Result<Self> {
        let sample_path = dir.join("sample_submission.csv");
        let sample_header = header(&sample_path)?;
        let id_column = match &config.id_column {
            Some(c) => c.clone(),
            None => sample_header.first().cloned().unwrap_or_default(),
        };
        let value_columns: Vec<String> = sample_header.iter().filter(|c| **c != id_column).cloned().collect();
        if value_columns.is_empty() {
            return Err(mismatch(&sample_path, "has no value column besides the id".into()));
        }
        let sample = WideTable::read(&sample_path, &WideSpec::numeric(&id_column))?;
        if sample.nrows() == 0 {
            return Err(mismatch(&sample_path, "has a header but no row: there is nothing to predict".into()));
        }
        let test_path = dir.join("test_features.csv");
        let train_path = dir.join("train.csv");
        let test_header = header(&test_path)?;
        let molecule = match &config.molecule_column {
            Some(c) => c.clone(),
            None => molecule_column(&test_path, &test_header)?,
        };
        let name = dir.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let folder =
            |name, config| Folder { dir, name, config, sample: &sample, id_column: &id_column, molecule: &molecule };
        if !train_path.exists() {
            let counts = ["train_counts.csv", "train_counts.tsv", "train_counts.parquet", "train_counts.mtx"]
                .iter()
                .map(|f| dir.join(f))
                .find(|p| p.exists());
            let matrix = ["train.gctx", "train.gct", "train.gct.gz"].iter().map(|f| dir.join(f)).find(|p| p.exists());
            if counts.is_some() || matrix.is_some() {
                require_column(&test_path, &test_header, &molecule)?;
                let control_spec = config.control.clone();
                let mut task = match (counts, matrix) {
                    (Some(counts), _) => load_counts(folder(name, config), value_columns, &counts)?,
                    (None, Some(matrix)) => load_wide_matrix(folder(name, config), value_columns, &matrix)?,
                    (None, None) => unreachable!("one of them exists"),
                };
                if let Some(spec) = control_spec {
                    task.control = Some(read_control(dir, &spec, &task.targets)?);
                }
                task.benchmark = Benchmark::of(&task, &dir.join("task.toml"))?;
                return Ok(task);
            }
        }
        let train_header = header(&train_path)?;
        for (path, h) in [(&test_path, &test_header), (&train_path, &train_header)] {
            require_column(path, h, &molecule)?;
        }
        let pair_target = match &config.target_column {
            Some(t) => Some(t.clone()),
            None if value_columns.len() == 1 && train_header.contains(&value_columns[0]) => {
                let shared: Vec<&String> = test_header
                    .iter()
                    .filter(|c| **c != id_column && **c != molecule && train_header.contains(c))
                    .collect();
                pick_target_column(&test_path, &molecule, &shared)?
            }
            None => None,
        };
        let control_spec = config.control.clone();
        let mut task = match pair_target {
            Some(target_column) => load_pairs(folder(name, config), &target_column, &value_columns[0], &train_header)?,
            None => load_wide(folder(name, config), value_columns)?,
        };
        if let Some(spec) = control_spec {
            task.control = Some(read_control(dir, &spec, &task.targets)?);
        }
        task.benchmark = Benchmark::of(&task, &dir.join("task.toml"))?;
        Ok(task)
    }

    /// Submission columns besides the id, and their values (one row per submission id) from
    /// predictions for the test compounds (rows of `pred` follow `test_ids`). A pair whose
    /// target was never measured in training gets `fallback`.
    pub fn submission(&self, pred: &Matrix, fallback: f64) -> (Vec<String>, Matrix) {
        match &self.layout {
            Layout::Wide => (self.targets.clone(), pred.clone()),
            Layout::Pairs(p) => {
                let mut values = Matrix::filled(p.cells.len(), 1, fallback);
                for (r, cell) in p.cells.iter().enumerate() {
                    if let Some(t) = cell.column {
                        values.row_mut(r)[0] = pred.get(cell.compound, t);
                    }
                }
                (vec![p.value_column.clone()], values)
            }
        }
    }
}

fn mismatch(path: &Path, message: String) -> DataError {
    DataError::Mismatch { path: path.to_path_buf(), message }
}

fn header(path: &Path) -> Result<Vec<String>> {
    let mut r = csv::Reader::from_reader(crate::input::open(path)?);
    header_of(path, &mut r)
}

/// The header of a CSV being read (a byte-order mark dropped); an empty file is an error.
fn header_of<R: std::io::Read>(path: &Path, r: &mut csv::Reader<R>) -> Result<Vec<String>> {
    let h: Vec<String> = r
        .headers()
        .map_err(|e| csv_error(path, &e))?
        .iter()
        .map(|s| s.trim_start_matches('\u{feff}').to_string())
        .collect();
    if h.iter().all(String::is_empty) {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    Ok(h)
}

fn csv_error(path: &Path, e: &csv::Error) -> DataError {
    DataError::Csv { path: path.to_path_buf(), line: e.position().map_or(1, |p| p.line()), message: e.to_string() }
}

fn require_column(path: &Path, columns: &[String], column: &str) -> Result<()> {
    if columns.iter().any(|c| c == column) {
        return Ok(());
    }
    Err(DataError::MissingColumn {
        path: path.to_path_buf(),
        column: column.to_string(),
        available: preview(columns, 8),
        hint: "; set the column names in task.toml".into(),
    })
}

/// The column holding molecules: the first whose name says SMILES.
fn molecule_column(path: &Path, columns: &[String]) -> Result<String> {
    columns.iter().find(|c| c.to_ascii_lowercase().contains("smiles")).cloned().ok_or_else(|| {
        mismatch(
            path,
            format!(
                "no SMILES column (columns: {}); name the molecule column so it contains 'smiles' or set molecule_column in task.toml",
                preview(columns, 8)
            ),
        )
    })
}

/// All rows of a CSV as text, with the header.
fn read_text_rows(path: &Path) -> Result<(Vec<String>, Vec<csv::StringRecord>)> {
    let mut r = csv::Reader::from_reader(std::io::BufReader::new(crate::input::open(path)?));
    let h = header_of(path, &mut r)?;
    let rows = r.records().collect::<std::result::Result<Vec<_>, _>>().map_err(|e| csv_error(path, &e))?;
    Ok((h, rows))
}

/// Among the test columns shared with train, the target is the one whose values are not tied to
/// one molecule (a gene is measured with many compounds; a compound name has one SMILES).
fn pick_target_column(test_path: &Path, molecule: &str, candidates: &[&String]) -> Result<Option<String>> {
    if candidates.is_empty() {
        return Ok(None);
    }
    let (h, rows) = read_text_rows(test_path)?;
    let mol = h.iter().position(|c| c == molecule).expect("checked");
    let varies = |col: usize| {
        let mut seen: HashMap<&str, &str> = HashMap::new();
        rows.iter().any(|r| {
            let (k, m) = (r.get(col).unwrap_or(""), r.get(mol).unwrap_or(""));
            *seen.entry(k).or_insert(m) != m
        })
    };
    let targets: Vec<&String> =
        candidates.iter().copied().filter(|c| varies(h.iter().position(|x| x == *c).expect("from header"))).collect();
    match targets.as_slice() {
        [one] => Ok(Some((*one).clone())),
        [] if candidates.len() == 1 => Ok(Some(candidates[0].clone())),
        _ => Err(mismatch(
            test_path,
            format!(
                "cannot tell which column names the target of each pair ({}); set target_column in task.toml",
                preview(candidates, 4)
            ),
        )),
    }
}

/// What every loader starts from: the folder, its name and configuration, the sample submission,
/// and the columns that hold the ids and the molecules.
struct Folder<'a> {
    dir: &'a Path,
    name: String,
    config: TaskConfig,
    sample: &'a WideTable,
    id_column: &'a str,
    molecule: &'a str,
}

fn load_wide(folder: Folder<'_>, targets: Vec<String>) -> Result<Task> {
    let Folder { dir, name, config, sample, id_column, molecule } = folder;
    let test_smiles = wide_test_molecules(dir, sample, id_column, molecule)?;
    let train_path = dir.join("train.csv");
    let test_cols = [molecule];
    let train_header = header(&train_path)?;
    let missing: Vec<&String> = targets.iter().filter(|t| !train_header.contains(t)).collect();
    if !missing.is_empty() {
        return Err(mismatch(
            &train_path,
            format!("lacks {} target column(s) of sample_submission.csv ({})", missing.len(), preview(&missing, 5)),
        ));
    }
    let train_id = match &config.compound_column {
        Some(c) => c.clone(),
        None => train_header
            .iter()
            .find(|c| **c != molecule && !targets.contains(c))
            .cloned()
            .ok_or_else(|| mismatch(&train_path, "needs an id column besides the SMILES and the targets".into()))?,
    };
    let spec = WideSpec {
        id_column: &train_id,
        text_columns: &test_cols,
        optional_text: &[],
        numeric: NumericColumns::Only(&targets),
    };
    let train = WideTable::read(&train_path, &spec)?;
    let train_smiles = train.text_column(molecule).expect("requested column").clone();
    Ok(wide_task(
        Folder { dir, name, config, sample, id_column, molecule },
        targets,
        (train.ids, train_smiles, train.values),
        test_smiles,
    ))
}

/// The molecules of the test compounds, in the order of the sample submission.
fn wide_test_molecules(dir: &Path, sample: &WideTable, id_column: &str, molecule: &str) -> Result<Vec<Option<String>>> {
    let test_path = dir.join("test_features.csv");
    let test = WideTable::read(&test_path, &WideSpec::text_only(id_column, &[molecule]))?;
    check_same_ids(&test_path, &test.ids, &sample.ids)?;
    let test_index = test.id_index();
    let all = test.text_column(molecule).expect("requested column");
    Ok(sample.ids.iter().map(|i| all[test_index[i.as_str()]].clone()).collect())
}

/// Training rows of a wide task: ids, molecules and labels (rows × targets).
type WideTrain = (Vec<String>, Vec<Option<String>>, Matrix);

fn wide_task(
    folder: Folder<'_>,
    targets: Vec<String>,
    (train_ids, train_smiles, train_y): WideTrain,
    test_smiles: Vec<Option<String>>,
) -> Task {
    let Folder { dir, name, config, sample, id_column, molecule } = folder;
    let metric = config.metric.clone().unwrap_or_else(|| "polaris/mean_squared_error".into());
    Task {
        dir: dir.to_path_buf(),
        name,
        layout: Layout::Wide,
        labels: LabelKind::Continuous,
        targets,
        train_ids,
        train_smiles,
        train_y,
        test_ids: sample.ids.clone(),
        test_smiles,
        submission_ids: sample.ids.clone(),
        submission_id_column: id_column.to_string(),
        molecule_column: molecule.to_string(),
        metric,
        control: None,
        replicates: None,
        notes: Vec::new(),
        config,
        benchmark: None,
    }
}

/// A wide task whose training data is DRUG-seq counts (see the module docs).
fn load_counts(folder: Folder<'_>, targets: Vec<String>, counts_path: &Path) -> Result<Task> {
    let Folder { dir, name, config, sample, id_column, molecule } = folder;
    let test_smiles = wide_test_molecules(dir, sample, id_column, molecule)?;
    let samples_path = dir.join("train_samples.csv");
    let samples_header = header(&samples_path)?;
    require_column(&samples_path, &samples_header, molecule)?;
    let sample_column = match &config.sample_column {
        Some(c) => c.clone(),
        None => samples_header.first().cloned().unwrap_or_default(),
    };
    let compound_column = match &config.compound_column {
        Some(c) => c.clone(),
        None => samples_header.iter().find(|c| **c != sample_column && c.as_str() != molecule).cloned().ok_or_else(
            || mismatch(&samples_path, "needs a compound column besides the sample id and the SMILES".into()),
        )?,
    };
    let columns = [compound_column.as_str(), molecule];
    let table = WideTable::read(&samples_path, &WideSpec::text_only(&sample_column, &columns))?;
    let compound = table.text_column(&compound_column).expect("requested column");
    let smiles = table.text_column(molecule).expect("requested column");
    let mut compound_of = HashMap::new();
    let mut smiles_of: HashMap<String, Option<String>> = HashMap::new();
    for (row, id) in table.ids.iter().enumerate() {
        let Some(c) = compound[row].clone() else {
            return Err(mismatch(&samples_path, format!("row {} (sample '{id}') has no compound", row + 1)));
        };
        match smiles_of.get(&c) {
            Some(previous) if *previous != smiles[row] => {
                return Err(mismatch(
                    &samples_path,
                    format!("compound '{c}' has two SMILES (row {}: {:?} vs {:?})", row + 1, smiles[row], previous),
                ))
            }
            Some(_) => {}
            None => {
                smiles_of.insert(c.clone(), smiles[row].clone());
            }
        }
        compound_of.insert(id.clone(), c);
    }
    let opts = crate::counts::CountsOptions { compound_of: &compound_of, panel: Some(&targets), min_mean_cpm: 1.0 };
    let expression = if counts_path.extension().is_some_and(|e| e == "mtx") {
        let genes = dir.join("train_counts_genes.tsv");
        let samples = dir.join("train_counts_samples.tsv");
        crate::counts::compound_expression_mtx(counts_path, &genes, &samples, &opts)?
    } else {
        crate::counts::compound_expression(counts_path, &opts)?
    };
    let sums = expression.sums;
    let train_smiles = sums.groups.iter().map(|c| smiles_of[c].clone()).collect();
    let mut config = config;
    config.metric.get_or_insert_with(|| "vcpi/wmse".into());
    let mut task = wide_task(
        Folder { dir, name, config, sample, id_column, molecule },
        targets,
        (sums.groups.clone(), train_smiles, sums.means()),
        test_smiles,
    );
    task.replicates = Some(sums);
    let counts_name = counts_path.display();
    if expression.samples_without_compound > 0 {
        task.notes.push(format!(
            "{counts_name}: {} sample column(s) have no row in train_samples.csv and were left out",
            expression.samples_without_compound
        ));
    }
    if !expression.empty_libraries.is_empty() {
        task.notes.push(format!(
            "{counts_name}: {} sample(s) with an empty library were dropped (e.g. '{}')",
            expression.empty_libraries.len(),
            expression.empty_libraries[0]
        ));
    }
    task.notes.push(format!(
        "{counts_name}: {} genes read, {} scored; {} replicate samples of {} compounds",
        expression.genes_read,
        task.targets.len(),
        task.replicates.as_ref().map_or(0, |r| r.samples),
        task.train_ids.len()
    ));
    Ok(task)
}

/// A wide task whose training data is a GCT/GCTX matrix (see the module docs).
fn load_wide_matrix(folder: Folder<'_>, targets: Vec<String>, path: &Path) -> Result<Task> {
    let Folder { dir, name, config, sample, id_column, molecule } = folder;
    let test_smiles = wide_test_molecules(dir, sample, id_column, molecule)?;
    let gct = GctMatrix::read(path)?;
    // Name genes the way the sample does: by row id, or a row-metadata field, or that field with
    // the Polaris `geneID-` prefix — whichever names every target.
    let wanted: std::collections::HashSet<&str> = targets.iter().map(String::as_str).collect();
    let mut namings: Vec<(String, Vec<String>)> = vec![("row ids".into(), gct.row_ids.clone())];
    for meta in &gct.row_meta {
        let values: Vec<String> =
            (0..meta.values.len()).map(|i| meta.get(i).unwrap_or("").trim().to_string()).collect();
        namings.push((format!("geneID-<{}>", meta.name), values.iter().map(|v| format!("geneID-{v}")).collect()));
        namings.push((meta.name.clone(), values));
    }
    let covered = |names: &[String]| names.iter().filter(|n| wanted.contains(n.as_str())).count();
    let (_, gene_names) = namings.iter().find(|(_, names)| covered(names) == wanted.len()).ok_or_else(|| {
        let (best, names) = namings.iter().max_by_key(|(_, n)| covered(n)).expect("row ids are a naming");
        let missing: Vec<&String> = targets.iter().filter(|t| !names.contains(t)).collect();
        mismatch(
            path,
            format!(
                "no gene naming covers the {} columns of sample_submission.csv: the best, {best}, misses {} ({})",
                targets.len(),
                missing.len(),
                preview(&missing, 4)
            ),
        )
    })?;
    let column_of: HashMap<&str, usize> = gene_names.iter().enumerate().map(|(i, g)| (g.as_str(), i)).collect();
    let by_gene = gct.samples_by_genes();
    let mut y = Matrix::filled(gct.ncols(), targets.len(), f64::NAN);
    for s in 0..gct.ncols() {
        let row = by_gene.row(s);
        for (j, cell) in y.row_mut(s).iter_mut().enumerate() {
            *cell = row[column_of[targets[j].as_str()]];
        }
    }
    let smiles = gct_molecules(dir, &config, &gct, molecule)?;
    Ok(wide_task(
        Folder { dir, name, config, sample, id_column, molecule },
        targets,
        (gct.col_ids.clone(), smiles, y),
        test_smiles,
    ))
}

/// Each sample's molecule: a column-metadata field named like the molecule column (or like
/// SMILES), else the `molecules` table joined on `molecule_key`.
fn gct_molecules(dir: &Path, config: &TaskConfig, gct: &GctMatrix, molecule: &str) -> Result<Vec<Option<String>>> {
    let field = gct
        .col_meta
        .iter()
        .find(|m| m.name == molecule)
        .or_else(|| gct.col_meta.iter().find(|m| m.name.to_ascii_lowercase().contains("smiles")));
    if let Some(meta) = field {
        return Ok((0..gct.ncols()).map(|j| meta.get(j).map(str::to_string)).collect());
    }
    let Some(table) = &config.molecules else {
        return Err(mismatch(
            &gct.path,
            format!(
                "no column-metadata field holds SMILES ({}); add `molecules = \"file.csv\"` (with columns {} and {molecule}) to task.toml",
                preview(&gct.col_meta.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), 8),
                config.molecule_key.as_deref().unwrap_or("pert_id")
            ),
        ));
    };
    let key = config.molecule_key.clone().unwrap_or_else(|| "pert_id".into());
    let keys = gct.col_meta(&key).ok_or_else(|| DataError::MissingColumn {
        path: gct.path.clone(),
        column: key.clone(),
        available: preview(&gct.col_meta.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), 8),
        hint: "; set molecule_key in task.toml to the field that names the compound".into(),
    })?;
    let path = dir.join(table);
    let spec =
        WideSpec { id_column: &key, text_columns: &[molecule], optional_text: &[], numeric: NumericColumns::Ignore };
    let lookup = WideTable::read(&path, &spec)?;
    let index = lookup.id_index();
    let values = lookup.text_column(molecule).expect("requested column");
    Ok((0..gct.ncols()).map(|j| keys.get(j).and_then(|k| index.get(k)).and_then(|&i| values[i].clone())).collect())
}

/// The submission must list exactly the sample's ids.
fn check_same_ids(test_path: &Path, test_ids: &[String], sample_ids: &[String]) -> Result<()> {
    let test_set: std::collections::HashSet<&str> = test_ids.iter().map(String::as_str).collect();
    let sample_set: std::collections::HashSet<&str> = sample_ids.iter().map(String::as_str).collect();
    let missing: Vec<&str> = sample_ids.iter().map(String::as_str).filter(|i| !test_set.contains(i)).collect();
    let extra: Vec<&str> = test_ids.iter().map(String::as_str).filter(|i| !sample_set.contains(i)).collect();
    if missing.is_empty() && extra.is_empty() {
        return Ok(());
    }
    Err(mismatch(
        test_path,
        format!(
            "ids do not match sample_submission.csv: {} sample id(s) have no test row ({}), {} test row(s) are not in the sample ({})",
            missing.len(),
            preview(&missing, 3),
            extra.len(),
            preview(&extra, 3)
        ),
    ))
}

/// Compounds met in a long table, keyed by name, each with its first molecule.
#[derive(Default)]
struct Compounds {
    ids: Vec<String>,
    smiles: Vec<Option<String>>,
    index: HashMap<String, usize>,
}

impl Compounds {
    fn intern(&mut self, id: &str, smiles: &str) -> usize {
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        self.ids.push(id.to_string());
        self.smiles.push((!smiles.trim().is_empty()).then(|| smiles.to_string()));
        self.index.insert(id.to_string(), self.ids.len() - 1);
        self.ids.len() - 1
    }
}

/// The compound column of a long table: as configured, else the first column besides the
/// molecule, target, value and id (else the molecule itself names the compound).
fn compound_column(config: &TaskConfig, columns: &[String], exclude: &[&str]) -> String {
    config.compound_column.clone().unwrap_or_else(|| {
        columns.iter().find(|c| !exclude.contains(&c.as_str())).cloned().unwrap_or_else(|| exclude[0].to_string())
    })
}

fn load_pairs(folder: Folder<'_>, target_column: &str, value_column: &str, train_header: &[String]) -> Result<Task> {
    let Folder { dir, name, config, sample, id_column, molecule } = folder;
    let train_path = dir.join("train.csv");
    let test_path = dir.join("test_features.csv");
    let exclude = [molecule, target_column, value_column, id_column];
    let compound = compound_column(&config, train_header, &exclude);
    let (h, rows) = read_text_rows(&train_path)?;
    let col = |c: &str| -> Result<usize> {
        require_column(&train_path, &h, c)?;
        Ok(h.iter().position(|x| x == c).expect("checked"))
    };
    let (c_col, m_col, t_col, v_col) = (col(&compound)?, col(molecule)?, col(target_column)?, col(value_column)?);

    let mut compounds = Compounds::default();
    let mut targets: Vec<String> = Vec::new();
    let mut target_index: HashMap<String, usize> = HashMap::new();
    let mut cells: Vec<(usize, usize, f64)> = Vec::with_capacity(rows.len());
    let mut lines: Vec<usize> = Vec::with_capacity(rows.len()); // the file line of each cell
    for (r, row) in rows.iter().enumerate() {
        let line = r + 2;
        let field = |c: usize| row.get(c).unwrap_or("").trim();
        let id = field(c_col);
        if id.is_empty() {
            return Err(DataError::EmptyId { path: train_path, row: line, column: compound });
        }
        let i = compounds.intern(id, row.get(m_col).unwrap_or(""));
        let target = field(t_col);
        if target.is_empty() {
            return Err(DataError::EmptyId { path: train_path, row: line, column: target_column.to_string() });
        }
        let j = *target_index.entry(target.to_string()).or_insert_with(|| {
            targets.push(target.to_string());
            targets.len() - 1
        });
        let text = field(v_col);
        if text.is_empty() {
            continue;
        }
        let value = crate::table::parse_number(text).ok_or_else(|| DataError::NotNumeric {
            path: train_path.clone(),
            row: line,
            id: id.to_string(),
            column: value_column.to_string(),
            value: text.to_string(),
        })?;
        if value.is_nan() {
            continue; // a missing label, as an empty cell
        }
        if value.is_infinite() {
            return Err(DataError::BadValue {
                path: train_path,
                row: line,
                id: id.to_string(),
                column: value_column.to_string(),
                what: format!("label {value} is not finite"),
                hint: "fix the label or leave the cell empty (missing)".into(),
            });
        }
        cells.push((i, j, value));
        lines.push(line);
    }
    // Repeated measurements of a pair are averaged.
    let mut sum = Matrix::filled(compounds.ids.len(), targets.len(), 0.0);
    let mut count = Matrix::filled(compounds.ids.len(), targets.len(), 0.0);
    for &(i, j, v) in &cells {
        sum.row_mut(i)[j] += v;
        count.row_mut(i)[j] += 1.0;
    }
    let mut train_y = Matrix::filled(compounds.ids.len(), targets.len(), f64::NAN);
    for i in 0..train_y.nrows() {
        for j in 0..targets.len() {
            let n = count.get(i, j);
            if n > 0.0 {
                train_y.row_mut(i)[j] = sum.get(i, j) / n;
            }
        }
    }
    let binary = pair_labels_are_binary(&train_path, &config, value_column, &compounds.ids, &cells, &lines)?;

    // Test pairs, in the order of the sample submission.
    let (th, test_rows) = read_text_rows(&test_path)?;
    let tcol = |c: &str| -> Result<usize> {
        require_column(&test_path, &th, c)?;
        Ok(th.iter().position(|x| x == c).expect("checked"))
    };
    let (ti, tm, tt) = (tcol(id_column)?, tcol(molecule)?, tcol(target_column)?);
    let tc = th.iter().position(|x| *x == compound).unwrap_or(tm);
    let test_ids: Vec<String> = test_rows.iter().map(|r| r.get(ti).unwrap_or("").trim().to_string()).collect();
    check_same_ids(&test_path, &test_ids, &sample.ids)?;
    let row_of: HashMap<&str, usize> = test_ids.iter().enumerate().map(|(r, id)| (id.as_str(), r)).collect();
    let mut test_compounds = Compounds::default();
    let mut pair_cells = Vec::with_capacity(sample.ids.len());
    for id in &sample.ids {
        let row = &test_rows[row_of[id.as_str()]];
        let compound = test_compounds.intern(row.get(tc).unwrap_or("").trim(), row.get(tm).unwrap_or(""));
        let target = row.get(tt).unwrap_or("").trim().to_string();
        pair_cells.push(PairCell { compound, column: target_index.get(&target).copied(), target });
    }
    let metric = config
        .metric
        .clone()
        .unwrap_or_else(|| if binary { "polaris/pr_auc" } else { "polaris/mean_squared_error" }.to_string());
    Ok(Task {
        dir: dir.to_path_buf(),
        name,
        layout: Layout::Pairs(PairLayout {
            compound_column: compound,
            target_column: target_column.to_string(),
            value_column: value_column.to_string(),
            cells: pair_cells,
        }),
        labels: if binary { LabelKind::Binary } else { LabelKind::Continuous },
        targets,
        train_ids: compounds.ids,
        train_smiles: compounds.smiles,
        train_y,
        test_ids: test_compounds.ids,
        test_smiles: test_compounds.smiles,
        submission_ids: sample.ids.clone(),
        submission_id_column: id_column.to_string(),
        molecule_column: molecule.to_string(),
        metric,
        control: None,
        replicates: None,
        notes: Vec::new(),
        config,
        benchmark: None,
    })
}

/// Whether a pair task's labels are binary activities (scored by `polaris/pr_auc`) or continuous
/// values. `metric` in task.toml decides when given (a binary metric then needs 0/1 labels);
/// otherwise 0/1 labels everywhere make a binary task, and labels that are almost all 0/1 are
/// refused as ambiguous rather than silently turning the task into a regression.
fn pair_labels_are_binary(
    path: &Path,
    config: &TaskConfig,
    value_column: &str,
    compound_ids: &[String],
    cells: &[(usize, usize, f64)],
    lines: &[usize],
) -> Result<bool> {
    let is_01 = |v: f64| v == 0.0 || v == 1.0;
    let first_other = cells.iter().position(|&(_, _, v)| !is_01(v));
    let bad = |k: usize, hint: String| DataError::BadValue {
        path: path.to_path_buf(),
        row: lines[k],
        id: compound_ids[cells[k].0].clone(),
        column: value_column.to_string(),
        what: format!("label {} is not 0 or 1", cells[k].2),
        hint,
    };
    if let Some(metric) = &config.metric {
        let binary = metric.ends_with("pr_auc") || metric.ends_with("roc_auc");
        if let (true, Some(k)) = (binary, first_other) {
            return Err(bad(k, format!("task.toml's metric {metric} scores 0/1 activities")));
        }
        return Ok(binary);
    }
    let Some(k) = first_other else { return Ok(!cells.is_empty()) };
    let n01 = cells.iter().filter(|&&(_, _, v)| is_01(v)).count();
    if n01 * 10 >= cells.len() * 9 {
        let others = cells.len() - n01;
        return Err(bad(
            k,
            format!(
                "{n01} of the {} labels are 0 or 1 and {others} are not, so cellcast cannot tell a binary activity \
                 task from a regression: fix the label(s), or set metric in task.toml (polaris/pr_auc for 0/1 \
                 activities, polaris/mean_squared_error for continuous values)",
                cells.len()
            ),
        ));
    }
    Ok(false)
}

/// The control profile named by `task.toml`.
fn read_control(dir: &Path, spec: &str, targets: &[String]) -> Result<Vec<f64>> {
    if spec.eq_ignore_ascii_case("zero") {
        return Ok(vec![0.0; targets.len()]);
    }
    let path = dir.join(spec);
    let h = match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => header(&path)?,
        _ => Vec::new(),
    };
    let id = h.first().cloned().unwrap_or_else(|| "id".into());
    let spec =
        WideSpec { id_column: &id, text_columns: &[], optional_text: &[], numeric: NumericColumns::Only(targets) };
    let table = WideTable::read(&path, &spec)?;
    if table.nrows() == 0 {
        return Err(mismatch(&path, "the control profile has no row".into()));
    }
    table.require_finite("the control profile needs a number for every target")?;
    Ok(table.values.row(0).to_vec())
}
