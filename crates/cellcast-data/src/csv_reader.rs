//! CSV/TSV reading straight into a matrix: numbers are parsed as records stream in, so a
//! 10,000 × 1,000 table never exists as strings.

use std::path::Path;

use cellcast_stats::Matrix;

use crate::error::{DataError, Result};
use crate::table::{layout, parse_number, TextColumn, WideSpec, WideTable};

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
    let header: Vec<String> = reader
        .headers()
        .map_err(csv_error)?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    let layout = layout(path, &header, spec)?;
    let mut ids = Vec::new();
    let mut values = Vec::new();
    let mut text: Vec<TextColumn> = vec![Vec::new(); layout.text.len()];
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_error)? {
        let row = ids.len() + 1;
        let id = record.get(layout.id).unwrap_or("").trim();
        if id.is_empty() {
            return Err(DataError::EmptyId { path: path.to_path_buf(), row, column: spec.id_column.to_string() });
        }
        for ((_, pos), column) in layout.text.iter().zip(&mut text) {
            let cell = pos.and_then(|p| record.get(p)).map(str::trim).filter(|s| !s.is_empty());
            column.push(cell.map(str::to_string));
        }
        for (name, pos) in &layout.numeric {
            let raw = record.get(*pos).unwrap_or("");
            let value = parse_number(raw).ok_or_else(|| DataError::NotNumeric {
                path: path.to_path_buf(),
                row,
                id: id.to_string(),
                column: name.clone(),
                value: raw.to_string(),
            })?;
            values.push(value);
        }
        ids.push(id.to_string());
    }
    let columns: Vec<String> = layout.numeric.into_iter().map(|(n, _)| n).collect();
    let values = Matrix::from_row_major(ids.len(), columns.len(), values)
        .expect("one value per numeric column per row");
    Ok(WideTable {
        path: path.to_path_buf(),
        id_column: spec.id_column.to_string(),
        ids,
        columns,
        values,
        text: layout.text.into_iter().map(|(n, _)| n).zip(text).collect(),
    })
}
