//! Wide tables: one row per sample, an `id` column, a few text columns and numeric columns.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cellcast_stats::Matrix;

use crate::error::{DataError, Result};
use crate::input::{self, Format};
use crate::{csv_reader, parquet_reader};

/// Which columns of a wide table are ids and text; every other column is read as numbers.
#[derive(Debug, Clone)]
pub struct WideSpec<'a> {
    pub id_column: &'a str,
    /// Columns kept as text (group labels, target lists). A listed column that is absent from
    /// the file is an error unless it is also in `optional_text`.
    pub text_columns: &'a [&'a str],
    /// Text columns that may be absent.
    pub optional_text: &'a [&'a str],
    /// Which of the remaining columns are read as numbers.
    pub numeric: NumericColumns<'a>,
}

/// The numeric columns a [`WideSpec`] asks for.
#[derive(Debug, Clone, Copy)]
pub enum NumericColumns<'a> {
    /// Every column that is not the id or a text column.
    Rest,
    /// Exactly these (each must exist); other columns are ignored.
    Only(&'a [String]),
    /// None: the other columns are ignored.
    Ignore,
}

impl<'a> WideSpec<'a> {
    /// A table with an id column and only numeric columns besides it.
    pub fn numeric(id_column: &'a str) -> Self {
        Self { id_column, text_columns: &[], optional_text: &[], numeric: NumericColumns::Rest }
    }

    /// A table from which only the id and the given text columns are wanted.
    pub fn text_only(id_column: &'a str, text_columns: &'a [&'a str]) -> Self {
        Self { id_column, text_columns, optional_text: &[], numeric: NumericColumns::Ignore }
    }
}

/// A text column: `None` marks a missing cell.
pub type TextColumn = Vec<Option<String>>;

/// A table read from disk: ids (always strings), named numeric columns as a matrix (missing
/// cells are NaN) and the requested text columns.
#[derive(Debug, Clone)]
pub struct WideTable {
    pub path: PathBuf,
    pub id_column: String,
    pub ids: Vec<String>,
    pub columns: Vec<String>,
    pub values: Matrix,
    pub text: Vec<(String, TextColumn)>,
}

impl WideTable {
    /// Reads a CSV (comma), TSV (tab) or Parquet file, chosen by extension; `NAME.csv.gz` and
    /// the like are gunzipped as they are read, and `-` reads standard input (format sniffed).
    /// A UTF-8 byte-order mark and CRLF line endings are accepted.
    pub fn read(path: &Path, spec: &WideSpec) -> Result<Self> {
        let table = Self::read_long(path, spec)?;
        table.check_unique_ids()?;
        Ok(table)
    }

    /// Reads a *long* table, whose id column may repeat (one row per well, per pair, …): the same
    /// formats and checks as [`WideTable::read`] except that ids need not be unique.
    pub fn read_long(path: &Path, spec: &WideSpec) -> Result<Self> {
        match input::format_of(path)? {
            Format::Parquet => parquet_reader::read(path, spec),
            text => csv_reader::read(path, spec, text.delimiter()),
        }
    }

    pub fn nrows(&self) -> usize {
        self.ids.len()
    }

    /// The text column of that name, if it was requested and present.
    pub fn text_column(&self, name: &str) -> Option<&TextColumn> {
        self.text.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }

    /// Index of a numeric column.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// Fails on the first NaN or infinite value, naming its row and column: predictions, weights
    /// and expression matrices must be complete.
    pub fn require_finite(&self, hint: &str) -> Result<()> {
        for (i, row) in self.values.rows().enumerate() {
            if let Some(j) = row.iter().position(|v| !v.is_finite()) {
                let what = if row[j].is_nan() {
                    "missing value".to_string()
                } else {
                    format!("value {} is not finite", row[j])
                };
                return Err(self.bad_value(i, j, what, hint));
            }
        }
        Ok(())
    }

    /// Checks a truth table against a metric's non-finite policy, naming the first bad cell:
    /// an infinite value is always an error; a missing one (NaN) is an error unless
    /// `missing_allowed`. Returns the number of missing cells.
    pub fn check_truth(&self, missing_allowed: bool, hint: &str) -> Result<usize> {
        let mut missing = 0;
        for (i, row) in self.values.rows().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                if v.is_infinite() {
                    return Err(self.bad_value(i, j, format!("value {v} is not finite"), hint));
                }
                if v.is_nan() {
                    if !missing_allowed {
                        return Err(self.bad_value(i, j, "missing value".into(), hint));
                    }
                    missing += 1;
                }
            }
        }
        Ok(missing)
    }

    /// An error about the cell at row `i` (0-based), numeric column `j`.
    pub fn bad_value(&self, i: usize, j: usize, what: String, hint: &str) -> DataError {
        DataError::BadValue {
            path: self.path.clone(),
            row: i + 1,
            id: self.ids[i].clone(),
            column: self.columns[j].clone(),
            what,
            hint: hint.to_string(),
        }
    }

    /// Position of every id, for aligning other tables to this one.
    pub fn id_index(&self) -> HashMap<&str, usize> {
        self.ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect()
    }

    pub(crate) fn check_unique_ids(&self) -> Result<()> {
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(self.ids.len());
        for (i, id) in self.ids.iter().enumerate() {
            if let Some(first) = seen.insert(id, i) {
                return Err(DataError::DuplicateId {
                    path: self.path.clone(),
                    id: id.clone(),
                    first: first + 1,
                    second: i + 1,
                });
            }
        }
        Ok(())
    }
}

/// Cell texts that mean "missing", as pandas' `read_csv` reads them by default.
pub(crate) fn is_missing_token(s: &str) -> bool {
    matches!(
        s,
        "" | "NA" | "N/A" | "n/a" | "NaN" | "nan" | "-NaN" | "-nan" | "null" | "NULL" | "None" | "<NA>" | "#N/A"
    )
}

/// Parses a numeric cell; `None` when it is not a number. Missing tokens give NaN.
pub(crate) fn parse_number(raw: &str) -> Option<f64> {
    parse_number_bytes(raw.as_bytes())
}

/// [`parse_number`] on raw bytes (the CSV hot path: no UTF-8 check for numbers).
pub(crate) fn parse_number_bytes(raw: &[u8]) -> Option<f64> {
    let s = raw.trim_ascii();
    if let Ok(v) = fast_float2::parse::<f64, _>(s) {
        return Some(v);
    }
    let s = std::str::from_utf8(s).ok()?;
    if is_missing_token(s) {
        return Some(f64::NAN);
    }
    // fast-float reads "inf"/"infinity"/"nan" in any case; accept the other spellings tools write.
    match s {
        "Inf" | "+Inf" | "INF" => Some(f64::INFINITY),
        "-Inf" | "-INF" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// Resolves the requested columns against a header: (id position, text positions by name,
/// numeric columns with their positions).
#[derive(Clone)]
pub(crate) struct Layout {
    pub id: usize,
    pub text: Vec<(String, Option<usize>)>,
    pub numeric: Vec<(String, usize)>,
}

pub(crate) fn layout(path: &Path, header: &[String], spec: &WideSpec) -> Result<Layout> {
    let mut seen = HashMap::new();
    for h in header {
        if seen.insert(h.as_str(), ()).is_some() {
            return Err(DataError::DuplicateColumn { path: path.to_path_buf(), column: h.clone() });
        }
    }
    let find = |name: &str| header.iter().position(|h| h == name);
    let missing = |name: &str, hint: &str| DataError::MissingColumn {
        path: path.to_path_buf(),
        column: name.to_string(),
        available: preview(header, 8),
        hint: hint.to_string(),
    };
    let id = find(spec.id_column).ok_or_else(|| missing(spec.id_column, "; name the id column with --id-column"))?;
    let mut text = Vec::new();
    for &name in spec.text_columns.iter().chain(spec.optional_text) {
        let pos = find(name);
        if pos.is_none() && !spec.optional_text.contains(&name) {
            return Err(missing(name, ""));
        }
        text.push((name.to_string(), pos));
    }
    let is_text = |k: usize| k == id || text.iter().any(|(_, p)| *p == Some(k));
    let numeric = match spec.numeric {
        NumericColumns::Rest => {
            header.iter().enumerate().filter(|(k, _)| !is_text(*k)).map(|(k, h)| (h.clone(), k)).collect()
        }
        NumericColumns::Ignore => Vec::new(),
        NumericColumns::Only(names) => {
            let mut cols = Vec::with_capacity(names.len());
            for name in names {
                let k = find(name).ok_or_else(|| missing(name, ""))?;
                cols.push((name.clone(), k));
            }
            cols
        }
    };
    Ok(Layout { id, text, numeric })
}

/// "a, b, c, … (40 in all)" for error messages.
pub fn preview<S: AsRef<str>>(items: &[S], max: usize) -> String {
    let shown: Vec<String> = items.iter().take(max).map(|s| format!("'{}'", s.as_ref())).collect();
    if items.len() > max {
        format!("{}, … ({} in all)", shown.join(", "), items.len())
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_missing_tokens() {
        assert_eq!(parse_number(" 1.5 "), Some(1.5));
        assert_eq!(parse_number("-2e-3"), Some(-0.002));
        assert!(parse_number("").unwrap().is_nan());
        assert!(parse_number("NA").unwrap().is_nan());
        assert_eq!(parse_number("-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_number("Inf"), Some(f64::INFINITY));
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("1.5x"), None);
    }

    #[test]
    fn long_tables_may_repeat_ids() {
        let dir = std::env::temp_dir().join(format!("cellcast-long-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("wells.csv");
        std::fs::write(&path, "perturbation,x\nA,1\nA,2\nB,3\n").unwrap();
        let long = WideTable::read_long(&path, &WideSpec::numeric("perturbation")).unwrap();
        assert_eq!(long.ids, vec!["A", "A", "B"]);
        assert_eq!(long.values.column(0), vec![1.0, 2.0, 3.0]);
        let wide = WideTable::read(&path, &WideSpec::numeric("perturbation"));
        assert!(matches!(wide, Err(DataError::DuplicateId { first: 1, second: 2, .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn preview_truncates() {
        assert_eq!(preview(&["a", "b"], 5), "'a', 'b'");
        assert_eq!(preview(&["a", "b", "c"], 2), "'a', 'b', … (3 in all)");
    }
}
