//! In-memory tables (a pandas DataFrame handed over by the Python package, or any caller's
//! columns), read into a [`WideTable`] by the same rules as a file: the same column checks, the
//! same missing-value tokens, the same errors naming the row and column.

use std::path::PathBuf;

use cellcast_stats::Matrix;

use crate::error::{DataError, Result};
use crate::table::{layout, parse_number, WideSpec, WideTable};

/// One column of an in-memory table. Missing cells are NaN (floats) or `None` (text).
#[derive(Debug, Clone, PartialEq)]
pub enum FrameColumn {
    Float(Vec<f64>),
    Int(Vec<i64>),
    Bool(Vec<bool>),
    Text(Vec<Option<String>>),
}

impl FrameColumn {
    pub fn len(&self) -> usize {
        match self {
            FrameColumn::Float(v) => v.len(),
            FrameColumn::Int(v) => v.len(),
            FrameColumn::Bool(v) => v.len(),
            FrameColumn::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cell as a number, or the text that is not one.
    fn number(&self, i: usize) -> std::result::Result<f64, String> {
        match self {
            FrameColumn::Float(v) => Ok(v[i]),
            FrameColumn::Int(v) => Ok(v[i] as f64),
            FrameColumn::Bool(v) => Ok(f64::from(u8::from(v[i]))),
            FrameColumn::Text(v) => match &v[i] {
                None => Ok(f64::NAN),
                Some(s) => parse_number(s).ok_or_else(|| s.clone()),
            },
        }
    }

    /// The cell as text (`None` when missing); numbers are written as Python's `str` writes
    /// them, so an integer id 7 is "7".
    fn text(&self, i: usize) -> Option<String> {
        match self {
            FrameColumn::Float(v) if v[i].is_nan() => None,
            FrameColumn::Float(v) => Some(float_text(v[i])),
            FrameColumn::Int(v) => Some(v[i].to_string()),
            FrameColumn::Bool(v) => Some(if v[i] { "True" } else { "False" }.to_string()),
            FrameColumn::Text(v) => v[i].as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
        }
    }
}

/// Python's `str(float)` for the values ids take: `3.0`, `0.5`, `1e-05`.
fn float_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e16 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// An in-memory table: named columns of equal length, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Frame {
    /// What the table is, for messages in place of a file name (e.g. `truth (DataFrame)`).
    pub name: String,
    pub columns: Vec<(String, FrameColumn)>,
}

impl Frame {
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), columns: Vec::new() }
    }

    pub fn with(mut self, name: impl Into<String>, column: FrameColumn) -> Self {
        self.columns.push((name.into(), column));
        self
    }

    pub fn nrows(&self) -> usize {
        self.columns.first().map_or(0, |(_, c)| c.len())
    }
}

impl WideTable {
    /// Reads an in-memory table as [`WideTable::read`] reads a file: ids unique.
    pub fn from_frame(frame: &Frame, spec: &WideSpec) -> Result<Self> {
        let table = Self::from_frame_long(frame, spec)?;
        table.check_unique_ids()?;
        Ok(table)
    }

    /// Reads an in-memory table whose ids may repeat, as [`WideTable::read_long`] does.
    pub fn from_frame_long(frame: &Frame, spec: &WideSpec) -> Result<Self> {
        let path = PathBuf::from(&frame.name);
        let n = frame.nrows();
        if let Some((name, c)) = frame.columns.iter().find(|(_, c)| c.len() != n) {
            return Err(DataError::Mismatch {
                path,
                message: format!(
                    "column '{name}' has {} rows, the first column {n}; columns must be equally long",
                    c.len()
                ),
            });
        }
        let header: Vec<String> = frame.columns.iter().map(|(name, _)| name.clone()).collect();
        let layout = layout(&path, &header, spec)?;
        let id_column = &frame.columns[layout.id].1;
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            match id_column.text(i) {
                Some(id) => ids.push(id),
                None => return Err(DataError::EmptyId { path, row: i + 1, column: spec.id_column.to_string() }),
            }
        }
        let text = layout
            .text
            .iter()
            .map(|(name, pos)| {
                let cells = match pos {
                    Some(p) => (0..n).map(|i| frame.columns[*p].1.text(i)).collect(),
                    None => vec![None; n],
                };
                (name.clone(), cells)
            })
            .collect();
        let mut values = Vec::with_capacity(n * layout.numeric.len());
        for (i, id) in ids.iter().enumerate() {
            for (name, pos) in &layout.numeric {
                let value = frame.columns[*pos].1.number(i).map_err(|value| DataError::NotNumeric {
                    path: path.clone(),
                    row: i + 1,
                    id: id.clone(),
                    column: name.clone(),
                    value,
                })?;
                values.push(value);
            }
        }
        let columns: Vec<String> = layout.numeric.into_iter().map(|(name, _)| name).collect();
        let values = Matrix::from_row_major(n, columns.len(), values).expect("one value per row and column");
        Ok(WideTable { path, id_column: spec.id_column.to_string(), ids, columns, values, text })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame {
        Frame::new("truth (DataFrame)")
            .with("id", FrameColumn::Int(vec![7, 8]))
            .with("g1", FrameColumn::Float(vec![1.0, f64::NAN]))
            .with("g2", FrameColumn::Text(vec![Some("2.5".into()), None]))
            .with("group", FrameColumn::Text(vec![Some(" a ".into()), Some(String::new())]))
    }

    #[test]
    fn reads_like_a_file() {
        let spec = WideSpec {
            id_column: "id",
            text_columns: &["group"],
            optional_text: &[],
            numeric: crate::NumericColumns::Rest,
        };
        let t = WideTable::from_frame(&frame(), &spec).unwrap();
        assert_eq!(t.ids, ["7", "8"]);
        assert_eq!(t.columns, ["g1", "g2"]);
        assert_eq!(t.values.row(0), [1.0, 2.5]);
        assert!(t.values.get(1, 0).is_nan() && t.values.get(1, 1).is_nan());
        assert_eq!(t.text_column("group").unwrap(), &[Some("a".to_string()), None]);
    }

    #[test]
    fn errors_name_the_table_row_and_column() {
        let bad = frame().with("g3", FrameColumn::Text(vec![Some("1".into()), Some("x".into())]));
        let err = WideTable::from_frame(&bad, &WideSpec::numeric("id")).unwrap_err().to_string();
        assert_eq!(err, "truth (DataFrame): row 1 (id '7'), column 'group': ' a ' is not a number");
        let dup = Frame::new("pred").with("id", FrameColumn::Text(vec![Some("a".into()), Some("a".into())]));
        assert!(matches!(
            WideTable::from_frame(&dup, &WideSpec::numeric("id")),
            Err(DataError::DuplicateId { first: 1, second: 2, .. })
        ));
        let missing = WideTable::from_frame(&frame(), &WideSpec::numeric("compound")).unwrap_err().to_string();
        assert!(missing.starts_with("truth (DataFrame): no column 'compound'"), "{missing}");
        assert_eq!(float_text(3.0), "3.0");
    }
}
