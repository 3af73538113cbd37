//! Parquet reading through arrow: numeric columns of any width become f64, string, dictionary
//! (pandas categorical) and integer columns can serve as ids and text.

use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use cellcast_stats::Matrix;

use crate::error::{DataError, Result};
use crate::table::{layout, parse_number, TextColumn, WideSpec, WideTable};

/// Either a file or bytes in memory (standard input, a `.parquet.gz`): Parquet needs random access.
enum ParquetBytes {
    File(std::fs::File),
    Memory(bytes::Bytes),
}

impl parquet::file::reader::Length for ParquetBytes {
    fn len(&self) -> u64 {
        match self {
            ParquetBytes::File(f) => f.len(),
            ParquetBytes::Memory(b) => b.len() as u64,
        }
    }
}

impl parquet::file::reader::ChunkReader for ParquetBytes {
    type T = Box<dyn std::io::Read + Send>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(match self {
            ParquetBytes::File(f) => Box::new(f.get_read(start)?),
            ParquetBytes::Memory(b) => Box::new(b.get_read(start)?),
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        match self {
            ParquetBytes::File(f) => f.get_bytes(start, length),
            ParquetBytes::Memory(b) => b.get_bytes(start, length),
        }
    }
}

/// Opens `path` as Parquet, from the file itself or from its bytes read whole.
fn open(path: &Path) -> Result<ParquetRecordBatchReaderBuilder<ParquetBytes>> {
    let source = if crate::input::is_plain_file(path) {
        ParquetBytes::File(std::fs::File::open(path).map_err(crate::error::io(path))?)
    } else {
        ParquetBytes::Memory(crate::input::read_all(path)?.into())
    };
    ParquetRecordBatchReaderBuilder::try_new(source)
        .map_err(|e| DataError::Parquet { path: path.to_path_buf(), message: e.to_string() })
}

pub(crate) fn read(path: &Path, spec: &WideSpec) -> Result<WideTable> {
    let parquet_error =
        |e: &dyn std::fmt::Display| DataError::Parquet { path: path.to_path_buf(), message: e.to_string() };
    let builder = open(path)?;
    let header: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
    let layout = layout(path, &header, spec)?;
    let rows = usize::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
    let reader = builder.with_batch_size(8192).build().map_err(|e| parquet_error(&e))?;

    let mut ids: Vec<String> = Vec::with_capacity(rows);
    let mut text: Vec<TextColumn> = vec![Vec::with_capacity(rows); layout.text.len()];
    // Column-major while reading (arrow is columnar), transposed once at the end.
    let mut columns: Vec<Vec<f64>> = vec![Vec::with_capacity(rows); layout.numeric.len()];
    for batch in reader {
        let batch = batch.map_err(|e| parquet_error(&e))?;
        let first_row = ids.len();
        for (row, id) in text_values(path, &header[layout.id], batch.column(layout.id))?.into_iter().enumerate() {
            match id {
                Some(id) if !id.trim().is_empty() => ids.push(id.trim().to_string()),
                _ => {
                    return Err(DataError::EmptyId {
                        path: path.to_path_buf(),
                        row: first_row + row + 1,
                        column: spec.id_column.to_string(),
                    })
                }
            }
        }
        for ((_, pos), column) in layout.text.iter().zip(&mut text) {
            match pos {
                Some(p) => column.extend(text_values(path, &header[*p], batch.column(*p))?),
                None => column.extend(std::iter::repeat_n(None, batch.num_rows())),
            }
        }
        for ((name, pos), column) in layout.numeric.iter().zip(&mut columns) {
            let values = numeric_values(path, name, batch.column(*pos), &ids[first_row..], first_row)?;
            column.extend(values);
        }
    }
    let n = ids.len();
    let mut values = Vec::with_capacity(n * columns.len());
    for i in 0..n {
        values.extend(columns.iter().map(|c| c[i]));
    }
    let names: Vec<String> = layout.numeric.into_iter().map(|(n, _)| n).collect();
    let values = Matrix::from_row_major(n, names.len(), values).expect("one value per numeric column per row");
    Ok(WideTable {
        path: path.to_path_buf(),
        id_column: spec.id_column.to_string(),
        ids,
        columns: names,
        values,
        text: layout.text.into_iter().map(|(n, _)| n).zip(text).collect(),
    })
}

/// Streams a Parquet table row by row, a record batch at a time, calling
/// `f(header, row, first column as text, the other columns as numbers)` (rows 1-based, nulls
/// NaN); returns the header. Memory: one batch of `batch_rows` rows.
pub(crate) fn each_row(
    path: &Path,
    batch_rows: usize,
    mut f: impl FnMut(&[String], usize, &str, &[f64]) -> Result<()>,
) -> Result<Vec<String>> {
    let parquet_error =
        |e: &dyn std::fmt::Display| DataError::Parquet { path: path.to_path_buf(), message: e.to_string() };
    let builder = open(path)?;
    let header: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
    let reader = builder.with_batch_size(batch_rows.max(1)).build().map_err(|e| parquet_error(&e))?;
    let mut done = 0;
    let mut row = Vec::with_capacity(header.len().saturating_sub(1));
    for batch in reader {
        let batch = batch.map_err(|e| parquet_error(&e))?;
        let ids: Vec<String> =
            text_values(path, &header[0], batch.column(0))?.into_iter().map(Option::unwrap_or_default).collect();
        let columns: Vec<Vec<f64>> = (1..header.len())
            .map(|c| numeric_values(path, &header[c], batch.column(c), &ids, done))
            .collect::<Result<_>>()?;
        for (i, id) in ids.iter().enumerate() {
            row.clear();
            row.extend(columns.iter().map(|c| c[i]));
            f(&header, done + i + 1, id, &row)?;
        }
        done += ids.len();
    }
    Ok(header)
}

fn unsupported(path: &Path, column: &str, data_type: &DataType, wanted: &'static str) -> DataError {
    DataError::UnsupportedType {
        path: path.to_path_buf(),
        column: column.to_string(),
        data_type: data_type.to_string(),
        wanted,
    }
}

/// Any numeric, boolean or number-as-text column as f64; nulls become NaN.
fn numeric_values(path: &Path, column: &str, array: &ArrayRef, ids: &[String], first_row: usize) -> Result<Vec<f64>> {
    macro_rules! primitive {
        ($t:ty) => {{
            let a = array.as_primitive::<$t>();
            (0..a.len()).map(|i| if a.is_null(i) { f64::NAN } else { f64::from(a.value(i)) }).collect()
        }};
    }
    macro_rules! wide_int {
        ($t:ty) => {{
            // i64/u64 → f64 rounds above 2^53, as pandas does when it computes in float64.
            let a = array.as_primitive::<$t>();
            (0..a.len()).map(|i| if a.is_null(i) { f64::NAN } else { a.value(i) as f64 }).collect()
        }};
    }
    Ok(match array.data_type() {
        DataType::Float64 => primitive!(Float64Type),
        DataType::Float32 => primitive!(Float32Type),
        DataType::Float16 => {
            let a = array.as_primitive::<Float16Type>();
            (0..a.len()).map(|i| if a.is_null(i) { f64::NAN } else { f64::from(a.value(i).to_f32()) }).collect()
        }
        DataType::Int8 => primitive!(Int8Type),
        DataType::Int16 => primitive!(Int16Type),
        DataType::Int32 => primitive!(Int32Type),
        DataType::Int64 => wide_int!(Int64Type),
        DataType::UInt8 => primitive!(UInt8Type),
        DataType::UInt16 => primitive!(UInt16Type),
        DataType::UInt32 => primitive!(UInt32Type),
        DataType::UInt64 => wide_int!(UInt64Type),
        DataType::Boolean => {
            let a = array.as_boolean();
            (0..a.len()).map(|i| if a.is_null(i) { f64::NAN } else { f64::from(u8::from(a.value(i))) }).collect()
        }
        DataType::Null => vec![f64::NAN; array.len()],
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(_, _) => {
            let texts = text_values(path, column, array)?;
            let mut out = Vec::with_capacity(texts.len());
            for (i, cell) in texts.into_iter().enumerate() {
                let raw = cell.unwrap_or_default();
                out.push(parse_number(&raw).ok_or_else(|| DataError::NotNumeric {
                    path: path.to_path_buf(),
                    row: first_row + i + 1,
                    id: ids.get(i).cloned().unwrap_or_default(),
                    column: column.to_string(),
                    value: raw.clone(),
                })?);
            }
            out
        }
        other => return Err(unsupported(path, column, other, "numbers")),
    })
}

/// Any string, dictionary-of-string, integer or boolean column as text; nulls become `None`.
fn text_values(path: &Path, column: &str, array: &ArrayRef) -> Result<TextColumn> {
    macro_rules! display {
        ($a:expr) => {{
            let a = $a;
            (0..a.len()).map(|i| (!a.is_null(i)).then(|| a.value(i).to_string())).collect()
        }};
    }
    Ok(match array.data_type() {
        DataType::Utf8 => display!(array.as_string::<i32>()),
        DataType::LargeUtf8 => display!(array.as_string::<i64>()),
        DataType::Utf8View => display!(array.as_string_view()),
        DataType::Int8 => display!(array.as_primitive::<Int8Type>()),
        DataType::Int16 => display!(array.as_primitive::<Int16Type>()),
        DataType::Int32 => display!(array.as_primitive::<Int32Type>()),
        DataType::Int64 => display!(array.as_primitive::<Int64Type>()),
        DataType::UInt8 => display!(array.as_primitive::<UInt8Type>()),
        DataType::UInt16 => display!(array.as_primitive::<UInt16Type>()),
        DataType::UInt32 => display!(array.as_primitive::<UInt32Type>()),
        DataType::UInt64 => display!(array.as_primitive::<UInt64Type>()),
        DataType::Boolean => display!(array.as_boolean()),
        DataType::Dictionary(_, _) => {
            let dict = array.as_any_dictionary();
            let values = text_values(path, column, dict.values())?;
            let keys = dict.normalized_keys();
            (0..array.len()).map(|i| if array.is_null(i) { None } else { values[keys[i]].clone() }).collect()
        }
        other => return Err(unsupported(path, column, other, "text")),
    })
}
