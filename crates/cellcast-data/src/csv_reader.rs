//! CSV/TSV reading straight into a matrix: numbers are parsed as records stream in, so a
//! 10,000 × 1,000 table never exists as strings.

use std::path::Path;

use cellcast_stats::Matrix;

use crate::error::{DataError, Result};
use crate::table::{layout, parse_number_bytes, TextColumn, WideSpec, WideTable};

pub(crate) fn read(path: &Path, spec: &WideSpec, delimiter: u8) -> Result<WideTable> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .buffer_capacity(1 << 20)
        .from_reader(file);
    let csv_error = |e: csv::Error| {
        let line = e.position().map_or(0, |p| p.line());
        DataError::Csv { path: path.to_path_buf(), line, message: e.to_string() }
    };
    let header: Vec<String> =
        reader.headers().map_err(csv_error)?.iter().map(|h| h.trim_start_matches('\u{feff}').to_string()).collect();
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    let layout = layout(path, &header, spec)?;
    let mut ids = Vec::new();
    let mut values = Vec::new();
    let mut text: Vec<TextColumn> = vec![Vec::new(); layout.text.len()];
    // Byte records: only id and text cells are checked as UTF-8; numbers parse from bytes.
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(csv_error)? {
        let row = ids.len() + 1;
        let text_cell = |pos: usize, column: &str| -> Result<String> {
            let raw = record.get(pos).unwrap_or_default();
            std::str::from_utf8(raw).map(|s| s.trim().to_string()).map_err(|_| DataError::Csv {
                path: path.to_path_buf(),
                line: record.position().map_or(0, |p| p.line()),
                message: format!("column '{column}' is not valid UTF-8 text"),
            })
        };
        let id = text_cell(layout.id, spec.id_column)?;
        if id.is_empty() {
            return Err(DataError::EmptyId { path: path.to_path_buf(), row, column: spec.id_column.to_string() });
        }
        for ((name, pos), column) in layout.text.iter().zip(&mut text) {
            let cell = match pos {
                Some(p) => Some(text_cell(*p, name)?).filter(|s| !s.is_empty()),
                None => None,
            };
            column.push(cell);
        }
        for (name, pos) in &layout.numeric {
            let raw = record.get(*pos).unwrap_or_default();
            let value = parse_number_bytes(raw).ok_or_else(|| DataError::NotNumeric {
                path: path.to_path_buf(),
                row,
                id: id.clone(),
                column: name.clone(),
                value: String::from_utf8_lossy(raw).into_owned(),
            })?;
            values.push(value);
        }
        ids.push(id);
    }
    let columns: Vec<String> = layout.numeric.into_iter().map(|(n, _)| n).collect();
    let values =
        Matrix::from_row_major(ids.len(), columns.len(), values).expect("one value per numeric column per row");
    Ok(WideTable {
        path: path.to_path_buf(),
        id_column: spec.id_column.to_string(),
        ids,
        columns,
        values,
        text: layout.text.into_iter().map(|(n, _)| n).zip(text).collect(),
    })
}
