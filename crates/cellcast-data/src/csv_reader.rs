//! CSV/TSV reading straight into a matrix: numbers are parsed as records stream in, so a
//! 10,000 × 1,000 table never exists as strings.
//!
//! Files without a quote character (the usual numeric tables) take a fast path that streams
//! blocks and splits lines and fields directly; a file with quotes is read by the `csv` crate.
//! Both feed the same [`Rows`] sink, so errors and results are identical.

use std::io::Read;
use std::ops::Range;
use std::path::Path;

use cellcast_stats::Matrix;

use crate::error::{DataError, Result};
use crate::table::{layout, parse_number_bytes, Layout, TextColumn, WideSpec, WideTable};

pub(crate) fn read(path: &Path, spec: &WideSpec, delimiter: u8) -> Result<WideTable> {
    let open = || crate::input::open(path);
    let csv_error = |e: csv::Error| {
        let line = e.position().map_or(0, |p| p.line());
        DataError::Csv { path: path.to_path_buf(), line, message: e.to_string() }
    };
    let csv_reader = |file| csv::ReaderBuilder::new().delimiter(delimiter).has_headers(true).from_reader(file);
    let mut reader = csv_reader(open()?);
    let header: Vec<String> =
        reader.headers().map_err(csv_error)?.iter().map(|h| h.trim_start_matches('\u{feff}').to_string()).collect();
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    let layout = layout(path, &header, spec)?;
    let mut rows = Rows::new(path, spec, layout.clone());
    if split_unquoted(open()?, delimiter, header.len(), &mut rows)? == Split::Done {
        return Ok(rows.finish());
    }
    // A quote somewhere: start over with the csv crate, which knows quoting rules.
    let mut rows = Rows::new(path, spec, layout);
    let mut reader = csv_reader(open()?);
    let mut record = csv::ByteRecord::new();
    reader.headers().map_err(csv_error)?;
    while reader.read_byte_record(&mut record).map_err(csv_error)? {
        let line = record.position().map_or(0, |p| p.line());
        rows.push(|k| record.get(k).unwrap_or_default(), line)?;
    }
    Ok(rows.finish())
}

#[derive(Debug, PartialEq)]
enum Split {
    Done,
    /// The file holds a quote character: the fast path cannot read it.
    Quoted,
}

/// Streams a quote-free file in blocks, splitting lines and fields directly (skipping blank
/// lines and the header, the first non-blank line; accepting `\r\n`) and checking that every
/// record has the header's field count, as the `csv` crate does. Stops at the first quote.
fn split_unquoted(mut file: impl Read, delimiter: u8, width: usize, rows: &mut Rows) -> Result<Split> {
    let io_error = |source| DataError::Io { path: rows.path.to_path_buf(), error: source };
    let mut buf = vec![0u8; 1 << 22];
    let mut filled = 0;
    let mut fields: Vec<Range<usize>> = Vec::with_capacity(width);
    let mut line_no = 0u64;
    let mut header_seen = false;
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0); // a line longer than the buffer
        }
        let n = file.read(&mut buf[filled..]).map_err(io_error)?;
        filled += n;
        let eof = n == 0;
        // Complete lines only, unless the file has ended.
        let usable = if eof { filled } else { memchr::memrchr(b'\n', &buf[..filled]).map_or(0, |i| i + 1) };
        let block = &buf[..usable];
        if memchr::memchr(b'"', block).is_some() {
            return Ok(Split::Quoted);
        }
        for line in block.split(|&b| b == b'\n') {
            if line.is_empty() && line.as_ptr() == block.as_ptr_range().end {
                break; // the empty tail after a final newline
            }
            line_no += 1;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            if !header_seen {
                header_seen = true;
                continue;
            }
            fields.clear();
            let mut field_start = 0;
            for i in memchr::memchr_iter(delimiter, line) {
                fields.push(field_start..i);
                field_start = i + 1;
            }
            fields.push(field_start..line.len());
            if fields.len() != width {
                return Err(DataError::Csv {
                    path: rows.path.to_path_buf(),
                    line: line_no,
                    message: format!("found record with {} fields, but the header has {width}", fields.len()),
                });
            }
            rows.push(|k| &line[fields[k].clone()], line_no)?;
        }
        if eof {
            return Ok(Split::Done);
        }
        buf.copy_within(usable..filled, 0);
        filled -= usable;
    }
}

/// Accumulates records into ids, text columns and the numeric matrix.
struct Rows<'a> {
    path: &'a Path,
    spec: &'a WideSpec<'a>,
    layout: Layout,
    ids: Vec<String>,
    text: Vec<TextColumn>,
    values: Vec<f64>,
}

impl<'a> Rows<'a> {
    fn new(path: &'a Path, spec: &'a WideSpec<'a>, layout: Layout) -> Self {
        let text = vec![Vec::new(); layout.text.len()];
        Rows { path, spec, layout, ids: Vec::new(), text, values: Vec::new() }
    }

    /// Adds one record; `field(k)` is the raw bytes of field `k`, `line` its line in the file.
    fn push<'f>(&mut self, field: impl Fn(usize) -> &'f [u8], line: u64) -> Result<()> {
        let row = self.ids.len() + 1;
        let path = self.path;
        // Only id and text cells are checked as UTF-8; numbers parse from bytes.
        let text_cell = |k: usize, column: &str| -> Result<String> {
            std::str::from_utf8(field(k)).map(|s| s.trim().to_string()).map_err(|_| DataError::Csv {
                path: path.to_path_buf(),
                line,
                message: format!("column '{column}' is not valid UTF-8 text"),
            })
        };
        let id = text_cell(self.layout.id, self.spec.id_column)?;
        if id.is_empty() {
            return Err(DataError::EmptyId { path: path.to_path_buf(), row, column: self.spec.id_column.to_string() });
        }
        for ((name, pos), column) in self.layout.text.iter().zip(&mut self.text) {
            let cell = match pos {
                Some(p) => Some(text_cell(*p, name)?).filter(|s| !s.is_empty()),
                None => None,
            };
            column.push(cell);
        }
        for (name, pos) in &self.layout.numeric {
            let raw = field(*pos);
            let value = parse_number_bytes(raw).ok_or_else(|| DataError::NotNumeric {
                path: path.to_path_buf(),
                row,
                id: id.clone(),
                column: name.clone(),
                value: String::from_utf8_lossy(raw).into_owned(),
            })?;
            self.values.push(value);
        }
        self.ids.push(id);
        Ok(())
    }

    fn finish(self) -> WideTable {
        let columns: Vec<String> = self.layout.numeric.into_iter().map(|(n, _)| n).collect();
        let values = Matrix::from_row_major(self.ids.len(), columns.len(), self.values)
            .expect("one value per numeric column per row");
        WideTable {
            path: self.path.to_path_buf(),
            id_column: self.spec.id_column.to_string(),
            ids: self.ids,
            columns,
            values,
            text: self.layout.text.into_iter().map(|(n, _)| n).zip(self.text).collect(),
        }
    }
}
