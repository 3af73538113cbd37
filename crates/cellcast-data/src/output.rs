//! Result tables written as CSV or Parquet (chosen by the file extension), atomically.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, UInt32Builder};
use arrow_array::types::UInt32Type;
use arrow_array::{ArrayRef, DictionaryArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt32Array};

use crate::error::Result;
use crate::input::Format;
use crate::write::format_number;

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
    /// Text from a few distinct values, stored as codes into `labels` (4 bytes a row, not a
    /// string): a dictionary-encoded string column in Parquet, the label in CSV. For long
    /// tables such as predictions.parquet (rows = compounds × targets).
    Labels {
        labels: Vec<String>,
        codes: Vec<u32>,
    },
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::Text(v) => v.len(),
            Column::Float(v) => v.len(),
            Column::Int(v) => v.len(),
            Column::UIntList(v) => v.len(),
            Column::Labels { codes, .. } => codes.len(),
        }
    }

    fn csv_cell(&self, i: usize) -> String {
        match self {
            Column::Text(v) => v[i].clone().unwrap_or_default(),
            Column::Float(v) => format_number(v[i]),
            Column::Int(v) => v[i].to_string(),
            Column::UIntList(v) => v[i].iter().map(u32::to_string).collect::<Vec<_>>().join(" "),
            Column::Labels { labels, codes } => labels[codes[i] as usize].clone(),
        }
    }

    /// Rows `rows` as an Arrow array.
    fn arrow(&self, rows: std::ops::Range<usize>) -> ArrayRef {
        match self {
            Column::Text(v) => Arc::new(v[rows].iter().map(Option::as_deref).collect::<StringArray>()),
            Column::Float(v) => Arc::new(Float64Array::from_iter_values(v[rows].iter().copied())),
            Column::Int(v) => Arc::new(Int64Array::from_iter_values(v[rows].iter().copied())),
            Column::Labels { labels, codes } => Arc::new(DictionaryArray::<UInt32Type>::new(
                UInt32Array::from_iter_values(codes[rows].iter().copied()),
                Arc::new(StringArray::from_iter_values(labels)),
            )),
            Column::UIntList(v) => {
                let mut b = ListBuilder::new(UInt32Builder::new());
                for list in &v[rows] {
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

    /// Writes `.parquet` / `.pq` as Parquet (snappy), `.tsv` / `.tab` / `.txt` as tab-separated
    /// text, anything else as CSV; a further `.gz` (`scores.csv.gz`) gzip-compresses the file.
    pub fn write(&self, path: &Path) -> Result<()> {
        let (format, gzip) = crate::input::output_format(path);
        crate::write::write_output(path, gzip, |out| match format {
            Format::Parquet => self.write_parquet(path, out),
            text => self.write_text(text.delimiter(), out),
        })
    }

    fn write_text<W: std::io::Write>(&self, delimiter: u8, out: W) -> std::io::Result<()> {
        let mut w = csv::WriterBuilder::new().delimiter(delimiter).from_writer(out);
        w.write_record(self.columns.iter().map(|(n, _)| n.as_str())).map_err(std::io::Error::other)?;
        for i in 0..self.nrows() {
            w.write_record(self.columns.iter().map(|(_, c)| c.csv_cell(i))).map_err(std::io::Error::other)?;
        }
        w.flush()
    }

    /// Parquet, converted to Arrow a slice of rows at a time ([`PARQUET_BATCH_ROWS`]) so a long
    /// table is never copied whole.
    fn write_parquet<W: std::io::Write + Send>(&self, path: &Path, out: W) -> std::io::Result<()> {
        let nrows = self.nrows();
        let batch = |start: usize| {
            let rows = start..(start + PARQUET_BATCH_ROWS).min(nrows);
            RecordBatch::try_from_iter(self.columns.iter().map(|(n, c)| (n.as_str(), c.arrow(rows.clone()))))
        };
        let parquet_error =
            |e: &dyn std::fmt::Display| std::io::Error::other(format!("{}: cannot write Parquet: {e}", path.display()));
        let first = batch(0).map_err(|e| parquet_error(&e))?;
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .build();
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(out, first.schema(), Some(props)).map_err(|e| parquet_error(&e))?;
        writer.write(&first).map_err(|e| parquet_error(&e))?;
        for start in (PARQUET_BATCH_ROWS..nrows).step_by(PARQUET_BATCH_ROWS) {
            writer.write(&batch(start).map_err(|e| parquet_error(&e))?).map_err(|e| parquet_error(&e))?;
        }
        writer.close().map_err(|e| parquet_error(&e))?;
        Ok(())
    }
}

/// Rows converted to Arrow at a time when writing Parquet (a few in unit tests, so that they
/// cover several batches).
const PARQUET_BATCH_ROWS: usize = if cfg!(test) { 4 } else { 1 << 20 };

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
            .with("error", Column::Text(vec![None, Some("invalid SMILES".into())]))
            .with("target", Column::Labels { labels: vec!["g1".into(), "g2".into()], codes: vec![1, 0] });
        table.write(&dir.join("t.csv")).unwrap();
        let text = std::fs::read_to_string(dir.join("t.csv")).unwrap();
        assert_eq!(text, "id,on_bits,x,error,target\n007,1 5 2047,0.1,,g2\nb,,,invalid SMILES,g1\n");
        table.write(&dir.join("t.parquet")).unwrap();
        let spec = WideSpec::text_only("id", &["error", "target"]);
        let back = WideTable::read(&dir.join("t.parquet"), &spec).unwrap();
        assert_eq!(back.ids, vec!["007", "b"]);
        assert_eq!(back.text_column("error").unwrap()[1].as_deref(), Some("invalid SMILES"));
        assert_eq!(back.text_column("target").unwrap()[0].as_deref(), Some("g2"));

        // A table of several Arrow batches reads back whole and in order.
        let n = 11;
        let long = OutputTable::new()
            .with("id", Column::Text((0..n).map(|i| Some(format!("r{i}"))).collect()))
            .with("x", Column::Float((0..n).map(|i| i as f64 / 2.0).collect()))
            .with(
                "g",
                Column::Labels {
                    labels: vec!["a".into(), "b".into()],
                    codes: (0..n).map(|i| (i % 2) as u32).collect(),
                },
            );
        long.write(&dir.join("long.parquet")).unwrap();
        let back = WideTable::read(&dir.join("long.parquet"), &WideSpec::text_only("id", &["g"])).unwrap();
        assert_eq!(back.ids, (0..n).map(|i| format!("r{i}")).collect::<Vec<_>>());
        assert_eq!(back.text_column("g").unwrap()[10].as_deref(), Some("a"));
    }
}
