//! Result tables written as CSV or Parquet (chosen by the file extension), atomically.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, UInt32Builder};
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};

use crate::error::{DataError, Result};
use crate::write::{format_number, write_atomically};

/// One output column.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Text; `None` is written as an empty CSV cell / a Parquet null.
    Text(Vec<Option<String>>),
    Float(Vec<f64>),
    Int(Vec<i64>),
    /// Lists of small integers (e.g. on-bit indices): space-separated in CSV, `list<uint32>` in
    /// Parquet.
    UIntList(Vec<Vec<u32>>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::Text(v) => v.len(),
            Column::Float(v) => v.len(),
            Column::Int(v) => v.len(),
            Column::UIntList(v) => v.len(),
        }
    }

    fn csv_cell(&self, i: usize) -> String {
        match self {
            Column::Text(v) => v[i].clone().unwrap_or_default(),
            Column::Float(v) => format_number(v[i]),
            Column::Int(v) => v[i].to_string(),
            Column::UIntList(v) => v[i].iter().map(u32::to_string).collect::<Vec<_>>().join(" "),
        }
    }

    fn arrow(&self) -> ArrayRef {
        match self {
            Column::Text(v) => Arc::new(StringArray::from(v.clone())),
            Column::Float(v) => Arc::new(Float64Array::from(v.clone())),
            Column::Int(v) => Arc::new(Int64Array::from(v.clone())),
            Column::UIntList(v) => {
                let mut b = ListBuilder::new(UInt32Builder::new());
                for list in v {
                    b.values().append_slice(list);
                    b.append(true);
                }
                Arc::new(b.finish())
            }
        }
    }
}

/// Named columns of equal length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutputTable {
    columns: Vec<(String, Column)>,
}

impl OutputTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a column (all columns must have the same length).
    pub fn with(mut self, name: &str, column: Column) -> Self {
        if let Some((_, first)) = self.columns.first() {
            assert_eq!(first.len(), column.len(), "column '{name}' has a different length");
        }
        self.columns.push((name.to_string(), column));
        self
    }

    fn nrows(&self) -> usize {
        self.columns.first().map_or(0, |(_, c)| c.len())
    }

    /// Writes `.parquet` / `.pq` as Parquet (snappy), anything else as CSV.
    pub fn write(&self, path: &Path) -> Result<()> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
        if ext == "parquet" || ext == "pq" {
            self.write_parquet(path)
        } else {
            self.write_csv(path)
        }
    }

    fn write_csv(&self, path: &Path) -> Result<()> {
        write_atomically(path, |out| {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(self.columns.iter().map(|(n, _)| n.as_str())).map_err(std::io::Error::other)?;
            for i in 0..self.nrows() {
                w.write_record(self.columns.iter().map(|(_, c)| c.csv_cell(i))).map_err(std::io::Error::other)?;
            }
            w.flush()
        })
    }

    fn write_parquet(&self, path: &Path) -> Result<()> {
        let batch = RecordBatch::try_from_iter(self.columns.iter().map(|(n, c)| (n.as_str(), c.arrow())))
            .map_err(|e| DataError::Parquet { path: path.to_path_buf(), message: e.to_string() })?;
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .build();
        write_atomically(path, |out| {
            let mut writer = parquet::arrow::ArrowWriter::try_new(out, batch.schema(), Some(props))
                .map_err(std::io::Error::other)?;
            writer.write(&batch).map_err(std::io::Error::other)?;
            writer.close().map_err(std::io::Error::other)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{WideSpec, WideTable};

    #[test]
    fn csv_and_parquet_hold_the_same_table() {
        let dir = std::env::temp_dir().join(format!("cellcast-output-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let table = OutputTable::new()
            .with("id", Column::Text(vec![Some("007".into()), Some("b".into())]))
            .with("on_bits", Column::UIntList(vec![vec![1, 5, 2047], vec![]]))
            .with("x", Column::Float(vec![0.1, f64::NAN]))
            .with("error", Column::Text(vec![None, Some("invalid SMILES".into())]));
        table.write(&dir.join("t.csv")).unwrap();
        let text = std::fs::read_to_string(dir.join("t.csv")).unwrap();
        assert_eq!(text, "id,on_bits,x,error\n007,1 5 2047,0.1,\nb,,,invalid SMILES\n");
        table.write(&dir.join("t.parquet")).unwrap();
        let spec = WideSpec::text_only("id", &["error"]);
        let back = WideTable::read(&dir.join("t.parquet"), &spec).unwrap();
        assert_eq!(back.ids, vec!["007", "b"]);
        assert_eq!(back.text_column("error").unwrap()[1].as_deref(), Some("invalid SMILES"));
    }
}
