//! Benchmark tasks in the Polaris/Kaggle folder layout: `train.csv`, `test_features.csv`,
//! `sample_submission.csv`.
//!
//! The targets are the columns of `sample_submission.csv` besides `id`; the molecule column is
//! the one named like SMILES (`SMILES`, `smiles`, `CXSMILES`, `canonical_smiles`, …); training
//! rows are identified by the first column that is neither (the compound id), or by row number.

use std::path::{Path, PathBuf};

use cellcast_stats::Matrix;

use crate::error::{DataError, Result};
use crate::table::{preview, NumericColumns, WideSpec, WideTable};

/// A multi-target regression task (SMILES → one value per target).
#[derive(Debug, Clone)]
pub struct RegressionTask {
    pub dir: PathBuf,
    pub name: String,
    pub targets: Vec<String>,
    pub train_ids: Vec<String>,
    pub train_smiles: Vec<Option<String>>,
    /// Training labels, train rows × targets; missing cells are NaN.
    pub train_y: Matrix,
    /// Test ids in the order of `sample_submission.csv`.
    pub test_ids: Vec<String>,
    pub test_smiles: Vec<Option<String>>,
    pub molecule_column: String,
    /// The official metric (Polaris L1000: per-target MSE).
    pub metric: String,
}

fn header(path: &Path) -> Result<Vec<String>> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    let mut r = csv::Reader::from_reader(file);
    let h = r.headers().map_err(|e| DataError::Csv {
        path: path.to_path_buf(),
        line: e.position().map_or(1, |p| p.line()),
        message: e.to_string(),
    })?;
    Ok(h.iter().map(|s| s.trim_start_matches('\u{feff}').to_string()).collect())
}

/// The column holding molecules: the first whose name says SMILES.
fn molecule_column(path: &Path, columns: &[String]) -> Result<String> {
    columns.iter().find(|c| c.to_ascii_lowercase().contains("smiles")).cloned().ok_or_else(|| DataError::Mismatch {
        path: path.to_path_buf(),
        message: format!(
            "no SMILES column (columns: {}); name the molecule column so it contains 'smiles'",
            preview(columns, 8)
        ),
    })
}

impl RegressionTask {
    pub fn load(dir: &Path) -> Result<Self> {
        let train_path = dir.join("train.csv");
        let test_path = dir.join("test_features.csv");
        let sample_path = dir.join("sample_submission.csv");
        let sample_header = header(&sample_path)?;
        let id_column = sample_header.first().cloned().unwrap_or_default();
        let targets: Vec<String> = sample_header.iter().skip(1).cloned().collect();
        if targets.is_empty() {
            return Err(DataError::Mismatch {
                path: sample_path,
                message: "has no target column besides the id".into(),
            });
        }
        let sample = WideTable::read(&sample_path, &WideSpec::numeric(&id_column))?;

        let test_header = header(&test_path)?;
        let test_mol = molecule_column(&test_path, &test_header)?;
        let test_cols = [test_mol.as_str()];
        let test = WideTable::read(&test_path, &WideSpec::text_only(&id_column, &test_cols))?;
        // The submission must list exactly the sample's ids, in its order.
        let test_index = test.id_index();
        let sample_index = sample.id_index();
        let missing: Vec<&str> =
            sample.ids.iter().filter(|i| !test_index.contains_key(i.as_str())).map(String::as_str).collect();
        let extra: Vec<&str> =
            test.ids.iter().filter(|i| !sample_index.contains_key(i.as_str())).map(String::as_str).collect();
        if !missing.is_empty() || !extra.is_empty() {
            return Err(DataError::Mismatch {
                path: test_path,
                message: format!(
                    "ids do not match sample_submission.csv: {} sample id(s) have no test row ({}), {} test row(s) are not in the sample ({})",
                    missing.len(),
                    preview(&missing, 3),
                    extra.len(),
                    preview(&extra, 3)
                ),
            });
        }
        let test_smiles_all = test.text_column(&test_mol).expect("requested column");
        let test_smiles = sample.ids.iter().map(|i| test_smiles_all[test_index[i.as_str()]].clone()).collect();

        let train_header = header(&train_path)?;
        let train_mol = molecule_column(&train_path, &train_header)?;
        let missing: Vec<&String> = targets.iter().filter(|t| !train_header.contains(t)).collect();
        if !missing.is_empty() {
            return Err(DataError::Mismatch {
                path: train_path,
                message: format!(
                    "lacks {} target column(s) of sample_submission.csv ({})",
                    missing.len(),
                    preview(&missing, 5)
                ),
            });
        }
        let id_col = train_header.iter().find(|c| **c != train_mol && !targets.contains(c)).cloned();
        let spec_cols = [train_mol.as_str()];
        let (train, train_ids) = match id_col {
            Some(id) => {
                let spec = WideSpec {
                    id_column: &id,
                    text_columns: &spec_cols,
                    optional_text: &[],
                    numeric: NumericColumns::Only(&targets),
                };
                let t = WideTable::read(&train_path, &spec)?;
                let ids = t.ids.clone();
                (t, ids)
            }
            None => {
                return Err(DataError::Mismatch {
                    path: train_path,
                    message: "needs an id column besides the SMILES and the targets".into(),
                })
            }
        };
        let train_smiles = train.text_column(&train_mol).expect("requested column").clone();
        let name = dir.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        Ok(RegressionTask {
            dir: dir.to_path_buf(),
            name,
            targets,
            train_ids,
            train_smiles,
            train_y: train.values,
            test_ids: sample.ids,
            test_smiles,
            molecule_column: train_mol,
            metric: "polaris/mean_squared_error".to_string(),
        })
    }
}
