//! Tables as callers have them: a file (CSV, TSV, Parquet, gzip, `-` for standard input) or an
//! in-memory [`Frame`] (a pandas DataFrame from Python). Both are read by the same rules.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cellcast_data::{preview, Matrix, WideSpec, WideTable};
pub use cellcast_data::{Frame, FrameColumn};

use crate::{bail, Context, Result};

/// A table to read: a file or an in-memory frame.
#[derive(Debug, Clone)]
pub enum Table {
    Path(PathBuf),
    Frame(Frame),
}

impl Default for Table {
    fn default() -> Self {
        Table::Path(PathBuf::new())
    }
}

impl From<PathBuf> for Table {
    fn from(p: PathBuf) -> Self {
        Table::Path(p)
    }
}

impl From<&Path> for Table {
    fn from(p: &Path) -> Self {
        Table::Path(p.to_path_buf())
    }
}

impl From<&str> for Table {
    fn from(p: &str) -> Self {
        Table::Path(p.into())
    }
}

impl From<Frame> for Table {
    fn from(f: Frame) -> Self {
        Table::Frame(f)
    }
}

impl Table {
    /// Reads the table; ids must be unique.
    pub fn read(&self, spec: &WideSpec) -> Result<WideTable> {
        Ok(match self {
            Table::Path(p) => WideTable::read(p, spec)?,
            Table::Frame(f) => WideTable::from_frame(f, spec)?,
        })
    }

    /// The file name, or the frame's name, for messages.
    pub fn describe(&self) -> String {
        match self {
            Table::Path(p) => p.display().to_string(),
            Table::Frame(f) => f.name.clone(),
        }
    }

    fn is_stdin(&self) -> bool {
        matches!(self, Table::Path(p) if p.as_os_str() == "-")
    }
}

/// Standard input (`-`) can stand for one input table only: refuses two inputs naming it.
pub fn one_stdin(inputs: &[(&str, Option<&Table>)]) -> Result<()> {
    let stdin: Vec<&str> =
        inputs.iter().filter(|(_, t)| t.is_some_and(Table::is_stdin)).map(|(name, _)| *name).collect();
    if stdin.len() > 1 {
        bail!("{} name standard input (-); only one input can be read from it", stdin.join(" and "));
    }
    Ok(())
}

/// A numeric wide table (id + numeric columns).
pub fn numeric(table: &Table, id_column: &str, role: &str) -> Result<WideTable> {
    table.read(&WideSpec::numeric(id_column)).with_context(|| format!("reading the {role}"))
}

/// A numeric table that must hold no missing or infinite value.
pub fn complete(table: &Table, id_column: &str, role: &str) -> Result<WideTable> {
    let t = numeric(table, id_column, role)?;
    t.require_finite(&format!("the {role} must be complete, finite numbers"))
        .with_context(|| format!("checking the {role}"))?;
    Ok(t)
}

/// The `group` column of a groups table, looked up for every id of `table`, in its row order.
/// Ids of `table` without a group are an error; groups of ids not in `table` are ignored.
pub fn groups_for(table: &WideTable, groups: &Table, id_column: &str) -> Result<Vec<String>> {
    let groups_table = groups
        .read(&WideSpec::text_only(id_column, &["group"]))
        .context("reading the groups file (columns: id, group)")?;
    let column = groups_table.text_column("group").cloned().unwrap_or_default();
    let mut by_id: HashMap<&str, &str> = HashMap::with_capacity(groups_table.nrows());
    for (i, (id, g)) in groups_table.ids.iter().zip(&column).enumerate() {
        match g {
            Some(g) => by_id.insert(id.as_str(), g.as_str()),
            None => bail!("{}: row {} (id '{id}') has an empty group", groups.describe(), i + 1),
        };
    }
    let missing: Vec<&str> =
        table.ids.iter().filter(|id| !by_id.contains_key(id.as_str())).map(String::as_str).collect();
    if !missing.is_empty() {
        bail!(
            "{}: no group for {} id(s) of {} ({}); every sample needs a row in the groups file",
            groups.describe(),
            missing.len(),
            table.path.display(),
            preview(&missing, 5)
        );
    }
    Ok(table.ids.iter().map(|id| by_id[id.as_str()].to_string()).collect())
}

/// A table of numbers with an id per row and a name per column (groups × genes), what `de`,
/// `weights` and `pseudobulk` produce.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledMatrix {
    /// The header of the id column when written.
    pub id_column: String,
    pub ids: Vec<String>,
    pub columns: Vec<String>,
    pub values: Matrix,
}

impl LabelledMatrix {
    /// Writes it atomically: CSV, TSV or Parquet by extension, gzip by `.gz`.
    pub fn write(&self, path: &Path) -> Result<()> {
        cellcast_data::write::write_matrix(path, &self.id_column, &self.ids, &self.columns, &self.values)
            .context("writing the output")
    }
}
