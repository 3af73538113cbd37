//! GCT and GCTX matrices: the Connectivity Map's formats for L1000 data.
//!
//! Both hold a matrix of *rows* (probes or genes) by *columns* (samples: wells, signatures),
//! an id per row and per column, and metadata fields for rows and for columns.
//! [`GctMatrix::read`] reads:
//!
//! - `.gct`: GCT text, version `#1.2` (one row-metadata field, usually `Description`, and no
//!   column metadata) or `#1.3` (any number of both).
//! - `.gct.gz`: the same, gzip-compressed.
//! - `.gctx`: GCTX, an HDF5 file read with the pure-Rust `hdf5-pure`. The matrix is
//!   `/0/DATA/0/matrix`, stored *transposed*: HDF5 shape `[columns, rows]`, i.e. samples × genes
//!   (cmapPy writes `data_df.transpose()`). The ids are `/0/META/ROW/id` and `/0/META/COL/id`;
//!   every other 1-D dataset in those two groups is a metadata field.
//!
//! The file's content decides between text and HDF5; the extension only says which files are
//! accepted. So a `.gctx` file that is really GCT text, like cmapPy's own test file
//! `test_l1000.gctx`, is read as text.
//!
//! Orientation: as cmapPy's `parse()` returns `data_df`, rows are genes (probes, `rid`) and
//! columns are samples (`cid`). cellcast's own tables are the other way round: rows are samples
//! (compounds, perturbations), columns are genes. [`GctMatrix::samples_by_genes`] gives that
//! matrix and [`GctMatrix::to_wide_table`] a [`WideTable`] with sample ids, gene names and the
//! column-metadata fields a caller needs to join samples to compounds (`pert_id`, `pert_iname`,
//! `canonical_smiles` ...).
//!
//! Values are `f64`; a missing value is NaN. In text, these cells are missing: the empty
//! cell and `NA`, `N/A`, `NaN`, `nan`, `null`, `None`, `#N/A`, `#NA`, `#N/A!`, `#VALUE!`, `na`
//! (cmapPy's list). A value equal to -666 is also read as NaN in both formats: it is CMap's
//! null value. Where this differs from cmapPy 4.0.1:
//!
//! - cmapPy refuses an empty data cell; cellcast reads it as missing.
//! - cmapPy's GCT reader turns only the text `-666` into NaN (`-666.0` stays a number), and its
//!   GCTX reader keeps -666 in the matrix; cellcast reads every -666 as NaN.
//! - cmapPy reads the matrix as `f32`; cellcast reads the text as `f64` (rounding it to `f32`
//!   gives cmapPy's value exactly) and widens GCTX `f32` exactly.
//!
//! Metadata are kept as text: the cells of a GCT file exactly as written, including CMap's
//! `-666` for missing. A GCTX metadata dataset may be stored as numbers. Those are formatted
//! as cmapPy formats them: cmapPy calls numpy's `astype(str)` before it converts columns to
//! numbers.
//!
//! - Integers are printed in decimal: `58`.
//! - Floats use the shortest digits that read back to the same value, at the stored precision
//!   (`f32` or `f64`).
//!   - They are written out in full from 1e-4 up to 1e16, with `.0` on whole numbers: `7.5`,
//!     `8.0`.
//!   - Outside that range they use an exponent of at least two digits: `1e-05`, `1.5e+16`.
//!   - The special values are `nan`, `inf` and `-inf`.
//!
//! So a field that GCT text writes as `8` reads as `8.0` from a GCTX file that stores it as a
//! float, just as it does in cmapPy.
//!
//! GCTX strings, fixed- or variable-length, are decoded as UTF-8 by `hdf5-pure`, which
//! replaces invalid bytes with U+FFFD. GCT text must be valid UTF-8: the reader refuses
//! anything else and names the line and column.
//!
//! Limits: a file is read whole into memory and the whole matrix is decoded (no subsetting by
//! row or column id, as cmapPy's `rid=`/`cid=` do), which suits plates and signature subsets,
//! not the multi-gigabyte LINCS GCTX releases. Before `hdf5-pure` reads a GCTX dataset, its
//! declared size is checked against the file size, so a corrupt header becomes an error rather
//! than a huge allocation; any panic inside `hdf5-pure` is caught and reported as an error.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use cellcast_stats::Matrix;

use crate::error::{DataError, Result};
use crate::table::{is_missing_token, parse_number_bytes, preview, WideTable};

/// One metadata field: its name and one text value per row (or per column) of the matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct MetaColumn {
    pub name: String,
    pub values: Vec<String>,
}

impl MetaColumn {
    /// The `i`-th value, or `None` when it is missing: empty, one of the missing spellings
    /// cmapPy knows (`na`, `NaN`, `-666`, ...) or `-666.0` (CMap's null stored as a float).
    /// Panics if `i` is out of range, like indexing `values`.
    pub fn get(&self, i: usize) -> Option<&str> {
        let v = self.values[i].as_str();
        (!is_missing_meta(v)).then_some(v)
    }
}

/// Metadata texts that mean "missing": cmapPy's `nan_values`, pandas' defaults, CMap's -666
/// (as GCT text writes it and as numpy prints an integer or float -666), and the empty cell.
pub fn is_missing_meta(value: &str) -> bool {
    let v = value.trim();
    is_missing_token(v) || matches!(v, "na" | "#NA" | "#N/A!" | "#VALUE!" | "-666" | "-666.0")
}

/// A GCT/GCTX matrix. `values` is rows × columns as the file lays it out: probes (genes) ×
/// samples, as cmapPy's `data_df`. Most cellcast models want samples × genes: see
/// [`GctMatrix::samples_by_genes`] and [`GctMatrix::to_wide_table`].
#[derive(Debug, Clone, PartialEq)]
pub struct GctMatrix {
    /// The file read, for error messages and [`GctMatrix::to_wide_table`].
    pub path: PathBuf,
    pub row_ids: Vec<String>,
    pub col_ids: Vec<String>,
    /// Row metadata fields in file order (GCT), or sorted by name (GCTX, as h5py lists them).
    pub row_meta: Vec<MetaColumn>,
    /// Column metadata fields, ordered like `row_meta`.
    pub col_meta: Vec<MetaColumn>,
    pub values: Matrix,
}

impl GctMatrix {
    /// Reads a `.gct`, `.gct.gz` or `.gctx` file. The extension is matched case-insensitively.
    pub fn read(path: &Path) -> Result<Self> {
        let name = path.file_name().and_then(|n| n.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
        let io_error = |source| DataError::Io { path: path.to_path_buf(), error: source };
        let bytes = if name.ends_with(".gct.gz") {
            let file = std::fs::File::open(path).map_err(io_error)?;
            let mut bytes = Vec::new();
            flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file))
                .read_to_end(&mut bytes)
                .map_err(io_error)?;
            bytes
        } else if name.ends_with(".gct") || name.ends_with(".gctx") {
            std::fs::read(path).map_err(io_error)?
        } else {
            return Err(DataError::UnknownMatrixFormat { path: path.to_path_buf() });
        };
        Self::from_bytes(path, bytes)
    }

    /// Parses a file's contents. HDF5 contents are read as GCTX, anything else as GCT text.
    /// `path` is not opened: it names the file in errors and is kept in [`GctMatrix::path`].
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Self> {
        if hdf5_pure::is_hdf5_bytes(&bytes) {
            read_gctx(path, bytes)
        } else {
            parse_gct(path, &bytes)
        }
    }

    pub fn nrows(&self) -> usize {
        self.row_ids.len()
    }

    pub fn ncols(&self) -> usize {
        self.col_ids.len()
    }

    /// The row metadata field of that name (the first, if the file repeats a name).
    pub fn row_meta(&self, name: &str) -> Option<&MetaColumn> {
        self.row_meta.iter().find(|m| m.name == name)
    }

    /// The column metadata field of that name (the first, if the file repeats a name).
    pub fn col_meta(&self, name: &str) -> Option<&MetaColumn> {
        self.col_meta.iter().find(|m| m.name == name)
    }

    /// The same data with rows and columns swapped, metadata included.
    pub fn transpose(&self) -> GctMatrix {
        GctMatrix {
            path: self.path.clone(),
            row_ids: self.col_ids.clone(),
            col_ids: self.row_ids.clone(),
            row_meta: self.col_meta.clone(),
            col_meta: self.row_meta.clone(),
            values: transpose(&self.values),
        }
    }

    /// The values as samples × genes (columns × rows of the file): row `j` is sample
    /// `col_ids[j]`, column `i` is gene `row_ids[i]`.
    pub fn samples_by_genes(&self) -> Matrix {
        transpose(&self.values)
    }

    /// The matrix as a cellcast wide table: one row per sample (id = column id, `cid`), one
    /// numeric column per gene, and the requested column-metadata fields as text columns
    /// (missing values, see [`MetaColumn::get`], are `None`). This is how to join samples to
    /// compounds: ask for `pert_id`, `pert_iname` or `canonical_smiles`.
    ///
    /// Genes are named by their row id, or by the row-metadata field `gene_names` when given
    /// (e.g. `pr_gene_id` to get Entrez ids instead of L1000 probe ids); that field must then be
    /// complete and unique.
    pub fn to_wide_table(&self, sample_fields: &[&str], gene_names: Option<&str>) -> Result<WideTable> {
        let missing = |name: &str, fields: &[MetaColumn], which: &str| {
            let names: Vec<&str> = fields.iter().map(|m| m.name.as_str()).collect();
            DataError::MissingColumn {
                path: self.path.clone(),
                column: name.to_string(),
                available: if names.is_empty() { "none".to_string() } else { preview(&names, 12) },
                hint: format!("; those are the file's {which}-metadata fields"),
            }
        };
        let columns = match gene_names {
            None => self.row_ids.clone(),
            Some(field) => {
                let meta = self.row_meta(field).ok_or_else(|| missing(field, &self.row_meta, "row"))?;
                let mut seen: HashMap<&str, usize> = HashMap::with_capacity(meta.values.len());
                let mut names = Vec::with_capacity(meta.values.len());
                for i in 0..meta.values.len() {
                    let name = meta.get(i).map(str::trim).ok_or_else(|| DataError::Mismatch {
                        path: self.path.clone(),
                        message: format!(
                            "row '{}' has no value in the row-metadata field '{field}', so it cannot name the gene",
                            self.row_ids[i]
                        ),
                    })?;
                    if let Some(first) = seen.insert(name, i) {
                        return Err(DataError::Mismatch {
                            path: self.path.clone(),
                            message: format!(
                                "rows '{}' and '{}' both have {field} '{name}'; gene names must be unique",
                                self.row_ids[first], self.row_ids[i]
                            ),
                        });
                    }
                    names.push(name.to_string());
                }
                names
            }
        };
        let mut text = Vec::with_capacity(sample_fields.len());
        for &field in sample_fields {
            let meta = self.col_meta(field).ok_or_else(|| missing(field, &self.col_meta, "column"))?;
            let values = (0..meta.values.len()).map(|j| meta.get(j).map(str::to_string)).collect();
            text.push((field.to_string(), values));
        }
        Ok(WideTable {
            path: self.path.clone(),
            id_column: "cid".to_string(),
            ids: self.col_ids.clone(),
            columns,
            values: self.samples_by_genes(),
            text,
        })
    }
}

fn transpose(m: &Matrix) -> Matrix {
    let (rows, cols) = (m.nrows(), m.ncols());
    let src = m.as_slice();
    let mut out = Matrix::filled(cols, rows, 0.0);
    for j in 0..cols {
        for (i, v) in out.row_mut(j).iter_mut().enumerate() {
            *v = src[i * cols + j];
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// GCT text
// ---------------------------------------------------------------------------------------------

/// Lines without their `\n` or `\r\n`, numbered from 1.
struct Lines<'a> {
    rest: &'a [u8],
    line: u64,
}

impl<'a> Iterator for Lines<'a> {
    type Item = (u64, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match memchr::memchr(b'\n', self.rest) {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, &[][..]),
        };
        self.rest = rest;
        self.line += 1;
        Some((self.line, line.strip_suffix(b"\r").unwrap_or(line)))
    }
}

/// Cells that mean "missing" in GCT text on top of those every cellcast table accepts: the
/// rest of cmapPy's `nan_values`.
fn is_gct_missing(cell: &[u8]) -> bool {
    matches!(cell.trim_ascii(), b"na" | b"#NA" | b"#N/A!" | b"#VALUE!")
}

/// CMap's null value, which cmapPy turns into NaN.
const CMAP_NULL: f64 = -666.0;

fn gct_number(cell: &[u8]) -> Option<f64> {
    match parse_number_bytes(cell) {
        Some(v) if v == CMAP_NULL => Some(f64::NAN),
        Some(v) => Some(v),
        None if is_gct_missing(cell) => Some(f64::NAN),
        None => None,
    }
}

struct TextParser<'a> {
    path: &'a Path,
    lines: Lines<'a>,
    /// The last line read, for "file ends" errors.
    last_line: u64,
}

impl<'a> TextParser<'a> {
    fn error(&self, line: u64, column: Option<usize>, message: String) -> DataError {
        DataError::Gct { path: self.path.to_path_buf(), line, column, message }
    }

    /// The next line, blank or not.
    fn next_line(&mut self) -> Option<(u64, &'a [u8])> {
        let next = self.lines.next();
        if let Some((n, _)) = next {
            self.last_line = n;
        }
        next
    }

    /// The next line that is not blank: pandas, and so cmapPy, skips blank lines.
    fn next_content_line(&mut self) -> Option<(u64, &'a [u8])> {
        loop {
            let (n, line) = self.next_line()?;
            if !line.trim_ascii().is_empty() {
                return Some((n, line));
            }
        }
    }

    /// A missing line: the file ended before `what`.
    fn ended(&self, what: &str) -> DataError {
        self.error(self.last_line + 1, None, format!("the file ends before {what}"))
    }

    /// Splits a line into exactly `expected` tab-separated fields. Extra fields that are empty
    /// are dropped (spreadsheets pad lines with tabs); anything else that does not fit is an
    /// error naming the first field out of place.
    fn fields(&self, n: u64, line: &'a [u8], expected: usize, layout: &str, out: &mut Vec<&'a [u8]>) -> Result<()> {
        out.clear();
        out.extend(line.split(|&b| b == b'\t'));
        while out.len() > expected && out.last().is_some_and(|f| f.trim_ascii().is_empty()) {
            out.pop();
        }
        if out.len() < expected {
            return Err(self.error(
                n,
                Some(out.len() + 1),
                format!("the line has {} fields, expected {expected} ({layout})", out.len()),
            ));
        }
        if out.len() > expected {
            return Err(self.error(
                n,
                Some(expected + 1),
                format!("the line has {} fields, expected {expected} ({layout})", out.len()),
            ));
        }
        Ok(())
    }

    fn text(&self, n: u64, column: usize, cell: &[u8]) -> Result<String> {
        std::str::from_utf8(cell)
            .map(str::to_string)
            .map_err(|_| self.error(n, Some(column), "the cell is not valid UTF-8 text".to_string()))
    }

    /// An id: surrounding spaces dropped, as for every cellcast table; empty is an error.
    fn id(&self, n: u64, column: usize, cell: &[u8], what: &str) -> Result<String> {
        let id = self.text(n, column, cell)?.trim().to_string();
        if id.is_empty() {
            return Err(self.error(n, Some(column), format!("empty {what}")));
        }
        Ok(id)
    }
}

/// Dimensions from line 2.
struct Dims {
    rows: usize,
    cols: usize,
    row_meta: usize,
    col_meta: usize,
}

fn parse_gct(path: &Path, bytes: &[u8]) -> Result<GctMatrix> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes); // a UTF-8 byte-order mark
    let mut p = TextParser { path, lines: Lines { rest: bytes, line: 0 }, last_line: 0 };

    let (n, version_line) = p.next_line().ok_or_else(|| p.ended("the version line ('#1.2' or '#1.3')"))?;
    let v12 = match version_line.trim_ascii() {
        b"#1.2" => true,
        b"#1.3" => false,
        other => {
            let shown = String::from_utf8_lossy(&other[..other.len().min(40)]).into_owned();
            return Err(p.error(n, None, format!("a GCT file starts with '#1.2' or '#1.3', not '{shown}'")));
        }
    };

    let (n, dims_line) = p.next_line().ok_or_else(|| p.ended("the dimensions line"))?;
    let mut dims: Vec<&[u8]> = dims_line.split(|&b| b == b'\t').map(<[u8]>::trim_ascii).collect();
    while dims.len() > 1 && dims.last().is_some_and(|d| d.is_empty()) {
        dims.pop();
    }
    let wanted = if v12 {
        "2 numbers (rows, columns)"
    } else {
        "4 numbers (rows, columns, row-metadata fields, column-metadata fields)"
    };
    if dims.len() != if v12 { 2 } else { 4 } {
        return Err(p.error(
            n,
            None,
            format!(
                "the dimensions line of a GCT {} file holds {wanted}; found {} fields",
                if v12 { "#1.2" } else { "#1.3" },
                dims.len()
            ),
        ));
    }
    let mut counts = [0usize; 4];
    for (k, d) in dims.iter().enumerate() {
        counts[k] = std::str::from_utf8(d).ok().and_then(|s| s.parse().ok()).ok_or_else(|| {
            p.error(n, Some(k + 1), format!("'{}' is not a count (a whole number ≥ 0)", String::from_utf8_lossy(d)))
        })?;
    }
    // GCT 1.2 has one row-metadata field (Description) and no column metadata, as cmapPy reads it.
    let dims = if v12 {
        Dims { rows: counts[0], cols: counts[1], row_meta: 1, col_meta: 0 }
    } else {
        Dims { rows: counts[0], cols: counts[1], row_meta: counts[2], col_meta: counts[3] }
    };
    let width = 1usize
        .checked_add(dims.row_meta)
        .and_then(|w| w.checked_add(dims.cols))
        .ok_or_else(|| p.error(n, None, "the dimensions are too large".to_string()))?;
    let layout = format!("1 id + {} row-metadata + {} sample columns", dims.row_meta, dims.cols);

    // The header line is checked against `width` below: until then, do not trust it.
    let mut fields: Vec<&[u8]> = Vec::with_capacity(width.min(bytes.len() / 2 + 1));

    // Header: id header, row-metadata names, column ids.
    let (n, header) = p.next_content_line().ok_or_else(|| p.ended("the header line"))?;
    p.fields(n, header, width, &layout, &mut fields)?;
    // Every data line holds `width - 1` tabs and a line end: the file size bounds the number of
    // rows to reserve for, whatever line 2 claims.
    let rows_capacity = dims.rows.min(bytes.len() / width + 1);
    let mut row_meta: Vec<MetaColumn> = Vec::with_capacity(dims.row_meta);
    for (k, cell) in fields.iter().enumerate().skip(1).take(dims.row_meta) {
        row_meta.push(MetaColumn { name: p.text(n, k + 1, cell)?, values: Vec::with_capacity(rows_capacity) });
    }
    let mut col_ids = Vec::with_capacity(dims.cols);
    for (k, cell) in fields.iter().enumerate().skip(1 + dims.row_meta) {
        col_ids.push(p.id(n, k + 1, cell, "column id")?);
    }
    check_unique(&col_ids).map_err(|(first, second)| {
        p.error(
            n,
            Some(second + 2 + dims.row_meta),
            format!(
                "column id '{}' appears twice (columns {} and {})",
                col_ids[second],
                first + 2 + dims.row_meta,
                second + 2 + dims.row_meta
            ),
        )
    })?;

    // Column metadata (1.3 only): the name, filler under the row-metadata names, then values.
    let mut col_meta: Vec<MetaColumn> = Vec::with_capacity(dims.col_meta.min(bytes.len() / width + 1));
    for _ in 0..dims.col_meta {
        let (n, line) = p.next_content_line().ok_or_else(|| {
            p.ended(&format!(
                "the {} column-metadata lines that line 2 declares (found {})",
                dims.col_meta,
                col_meta.len()
            ))
        })?;
        p.fields(n, line, width, &layout, &mut fields)?;
        let mut values = Vec::with_capacity(dims.cols);
        for (k, cell) in fields.iter().enumerate().skip(1 + dims.row_meta) {
            values.push(p.text(n, k + 1, cell)?);
        }
        col_meta.push(MetaColumn { name: p.text(n, 1, fields[0])?, values });
    }

    // Data lines. Every value needs at least a tab, so the file size bounds the allocation
    // whatever the dimensions line claims.
    let cells =
        dims.rows.checked_mul(dims.cols).ok_or_else(|| p.error(2, None, "the dimensions are too large".to_string()))?;
    let mut values = Vec::with_capacity(cells.min(bytes.len()));
    let mut row_ids = Vec::with_capacity(rows_capacity);
    let mut row_lines = Vec::with_capacity(rows_capacity);
    for _ in 0..dims.rows {
        let (n, line) = p.next_content_line().ok_or_else(|| {
            p.ended(&format!("the {} data rows that line 2 declares (found {})", dims.rows, row_ids.len()))
        })?;
        p.fields(n, line, width, &layout, &mut fields)?;
        let id = p.id(n, 1, fields[0], "row id")?;
        for (k, meta) in row_meta.iter_mut().enumerate() {
            meta.values.push(p.text(n, k + 2, fields[k + 1])?);
        }
        for (j, cell) in fields[1 + dims.row_meta..].iter().enumerate() {
            let v = gct_number(cell).ok_or_else(|| {
                let shown = String::from_utf8_lossy(&cell[..cell.len().min(40)]).into_owned();
                p.error(
                    n,
                    Some(2 + dims.row_meta + j),
                    format!("'{shown}' is not a number (row '{id}', column '{}')", col_ids[j]),
                )
            })?;
            values.push(v);
        }
        row_ids.push(id);
        row_lines.push(n);
    }
    check_unique(&row_ids).map_err(|(first, second)| {
        p.error(
            row_lines[second],
            Some(1),
            format!(
                "row id '{}' appears twice (lines {} and {})",
                row_ids[second], row_lines[first], row_lines[second]
            ),
        )
    })?;
    if let Some((n, _)) = p.next_content_line() {
        return Err(p.error(n, None, format!("more lines than the {} data rows that line 2 declares", dims.rows)));
    }

    let values = Matrix::from_row_major(dims.rows, dims.cols, values)
        .ok_or_else(|| p.error(2, None, "internal error: the values do not fill the matrix".to_string()))?;
    Ok(GctMatrix { path: path.to_path_buf(), row_ids, col_ids, row_meta, col_meta, values })
}

/// The first repeated id as (first position, second position).
fn check_unique(ids: &[String]) -> std::result::Result<(), (usize, usize)> {
    let mut seen = std::collections::HashMap::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        if let Some(first) = seen.insert(id.as_str(), i) {
            return Err((first, i));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// GCTX (HDF5)
// ---------------------------------------------------------------------------------------------

const MATRIX: &str = "/0/DATA/0/matrix";
const ROW_META: &str = "/0/META/ROW";
const COL_META: &str = "/0/META/COL";

fn read_gctx(path: &Path, bytes: Vec<u8>) -> Result<GctMatrix> {
    let error = |message| DataError::Gctx { path: path.to_path_buf(), message };
    crate::error::catch_parser_panic(|| gctx_parts(bytes))
        .map_err(error)?
        .map(|m| GctMatrix { path: path.to_path_buf(), ..m })
        .map_err(error)
}

type Gctx<T> = std::result::Result<T, String>;

fn gctx_parts(bytes: Vec<u8>) -> Gctx<GctMatrix> {
    let file_len = bytes.len();
    let file = hdf5_pure::File::from_bytes(bytes).map_err(|e| e.to_string())?;
    let (row_ids, row_meta) = read_meta(&file, ROW_META, file_len)?;
    let (col_ids, col_meta) = read_meta(&file, COL_META, file_len)?;
    for (ids, group) in [(&row_ids, ROW_META), (&col_ids, COL_META)] {
        if let Some(id) = ids.iter().find(|id| id.trim().is_empty()) {
            return Err(format!("{group}/id holds an empty id{}", if id.is_empty() { "" } else { " (only spaces)" }));
        }
        check_unique(ids).map_err(|(a, b)| {
            format!("{group}/id: id '{}' appears twice (positions {} and {})", ids[b], a + 1, b + 1)
        })?;
    }

    let matrix = file.dataset(MATRIX).map_err(|e| format!("no dataset {MATRIX}: {e}"))?;
    let shape = matrix.shape().map_err(|e| format!("{MATRIX}: {e}"))?;
    let (nrows, ncols) = (row_ids.len(), col_ids.len());
    // GCTX stores the matrix transposed: HDF5 dimensions [columns (samples), rows (genes)].
    if shape != [ncols as u64, nrows as u64] {
        return Err(format!(
            "{MATRIX} has shape {shape:?}; with {nrows} row ids and {ncols} column ids a GCTX matrix is \
             [{ncols}, {nrows}] (samples × genes)"
        ));
    }
    match matrix.dtype().map_err(|e| format!("{MATRIX}: {e}"))? {
        hdf5_pure::DType::F32
        | hdf5_pure::DType::F64
        | hdf5_pure::DType::I8
        | hdf5_pure::DType::I16
        | hdf5_pure::DType::I32
        | hdf5_pure::DType::I64
        | hdf5_pure::DType::U8
        | hdf5_pure::DType::U16
        | hdf5_pure::DType::U32
        | hdf5_pure::DType::U64 => {}
        other => return Err(format!("{MATRIX} holds {other}; cellcast reads a numeric matrix only")),
    }
    check_size(&matrix, MATRIX, file_len)?;
    let mut data = matrix.read_f64().map_err(|e| format!("{MATRIX}: {e}"))?;
    for v in &mut data {
        if *v == CMAP_NULL {
            *v = f64::NAN;
        }
    }
    let samples_by_genes = Matrix::from_row_major(ncols, nrows, data)
        .ok_or_else(|| format!("{MATRIX}: the data read do not match its shape {shape:?}"))?;
    Ok(GctMatrix { path: PathBuf::new(), row_ids, col_ids, row_meta, col_meta, values: transpose(&samples_by_genes) })
}

/// The ids (`<group>/id`) and the other metadata datasets of a META group, sorted by name.
fn read_meta(file: &hdf5_pure::File, group: &str, file_len: usize) -> Gctx<(Vec<String>, Vec<MetaColumn>)> {
    let g = file.group(group).map_err(|e| format!("no group {group}: {e}"))?;
    let mut names = g.datasets().map_err(|e| format!("{group}: {e}"))?;
    names.sort();
    if !names.iter().any(|n| n == "id") {
        return Err(format!("no dataset {group}/id (the ids)"));
    }
    let ids = read_strings(file, &format!("{group}/id"), None, file_len)?;
    let mut meta = Vec::with_capacity(names.len() - 1);
    for name in names.into_iter().filter(|n| n != "id") {
        let values = read_strings(file, &format!("{group}/{name}"), Some(ids.len()), file_len)?;
        meta.push(MetaColumn { name, values });
    }
    Ok((ids, meta))
}

/// Deflate's largest compression ratio is about 1032:1.
pub(crate) const MAX_DEFLATE_RATIO: u64 = 1032;

/// Refuses a dataset whose declared size this file cannot hold.
///
/// `hdf5-pure` allocates a dataset's (and a chunk's) declared size before reading it, and a
/// failed allocation aborts the program: it is not a panic that [`read_gctx`] could catch. A
/// corrupt header can declare any size, so the size is checked first: raw data cannot be larger
/// than the file, and filtered (compressed) data at most [`MAX_DEFLATE_RATIO`] times the file.
fn check_size(ds: &hdf5_pure::Dataset, name: &str, file_len: usize) -> Gctx<()> {
    match oversized(ds, file_len as u64).map_err(|err| format!("{name}: {err}"))? {
        Some(problem) => Err(format!("{name} {problem}")),
        None => Ok(()),
    }
}

/// Why a dataset's declared size (or chunk size) cannot fit a `file_len`-byte file, if it cannot:
/// the one size guard shared by the GCTX and h5ad readers.
pub(crate) fn oversized(
    ds: &hdf5_pure::Dataset,
    file_len: u64,
) -> std::result::Result<Option<String>, hdf5_pure::Error> {
    let element = ds.element_size()?;
    let ratio = if ds.filters().is_empty() { 1 } else { MAX_DEFLATE_RATIO };
    let limit = file_len.saturating_mul(ratio);
    let bytes = |dims: &[u64]| dims.iter().try_fold(element, |acc, &d| acc.checked_mul(d));
    let shape = ds.shape()?;
    let chunk = ds.chunk_shape()?;
    for (what, dims) in [("data", Some(shape)), ("chunk", chunk)] {
        let Some(dims) = dims else { continue };
        match bytes(&dims) {
            Some(n) if n <= limit => {}
            n => {
                let n = n.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string());
                return Ok(Some(format!(
                    "declares {what} of {n} bytes (dimensions {dims:?}, {element}-byte values), more than a \
                     {file_len}-byte file can hold; the file is corrupt"
                )));
            }
        }
    }
    Ok(None)
}

/// A 1-D dataset as text: strings as stored, numbers formatted as numpy's `astype(str)` does.
/// `len`, when given, is the length the dataset must have.
fn read_strings(file: &hdf5_pure::File, name: &str, len: Option<usize>, file_len: usize) -> Gctx<Vec<String>> {
    use hdf5_pure::DType;
    let e = |err: hdf5_pure::Error| format!("{name}: {err}");
    let ds = file.dataset(name).map_err(e)?;
    let shape = ds.shape().map_err(e)?;
    // 1-D, or 2-D with one dimension of 1 (a row or column vector written from MATLAB).
    let n = shape.iter().product::<u64>();
    if shape.len() > 2 || shape.iter().filter(|&&d| d != 1).count() > 1 {
        return Err(format!("{name} has shape {shape:?}; metadata datasets are one-dimensional"));
    }
    if let Some(len) = len {
        if n != len as u64 {
            return Err(format!("{name} holds {n} values; the ids hold {len}"));
        }
    }
    check_size(&ds, name, file_len)?;
    let values = match ds.dtype().map_err(e)? {
        DType::String => ds.read_string().map_err(e)?,
        DType::VariableLengthString => {
            // Payloads live in the file's heaps, so a valid file's strings cannot be much larger
            // than the file; the limits stop a corrupt one from asking for far more memory.
            let options = hdf5_pure::VlenStringReadOptions::new()
                .with_max_elements(usize::try_from(n).unwrap_or(usize::MAX))
                .with_max_payload_bytes(file_len.saturating_mul(16).saturating_add(1 << 20));
            ds.read_vlen_strings(options).map_err(e)?
        }
        DType::F32 => {
            ds.read_f32().map_err(e)?.into_iter().map(|v| numpy_float_str(f64::from(v), format!("{v:e}"))).collect()
        }
        DType::F64 => ds.read_f64().map_err(e)?.into_iter().map(|v| numpy_float_str(v, format!("{v:e}"))).collect(),
        DType::I8 | DType::I16 | DType::I32 | DType::I64 | DType::U8 | DType::U16 | DType::U32 => {
            ds.read_i64().map_err(e)?.into_iter().map(|v| v.to_string()).collect()
        }
        DType::U64 => ds.read_u64().map_err(e)?.into_iter().map(|v| v.to_string()).collect(),
        other => return Err(format!("{name} holds {other}; cellcast reads string or numeric metadata only")),
    };
    if values.len() as u64 != n {
        return Err(format!("{name}: read {} values from a dataset of {n}", values.len()));
    }
    Ok(values)
}

/// A float as numpy prints it (`str(np.float64(x))`, equal to Python's `repr` for `f64`).
/// `sci` is Rust's `{:e}` of the value at its stored precision, which gives the shortest digits
/// that read back to that value: "7.5e0", "-1e-5", "1.5e16".
pub(crate) fn numpy_float_str(v: f64, sci: String) -> String {
    if v.is_nan() {
        return "nan".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let (negative, unsigned) = match sci.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, sci.as_str()),
    };
    let Some((mantissa, exp)) = unsigned.split_once('e') else { return sci };
    let Ok(exp) = exp.parse::<i32>() else { return sci };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if negative { "-" } else { "" };
    // numpy switches to an exponent below 1e-4 and from 1e16 on, comparing the value itself.
    let magnitude = v.abs();
    if magnitude != 0.0 && !(1e-4..1e16).contains(&magnitude) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{exp_sign}{:02}", exp.unsigned_abs());
    }
    let point = exp + 1; // digits before the decimal point
    if point <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else {
        let point = point as usize;
        if digits.len() <= point {
            format!("{sign}{digits}{}.0", "0".repeat(point - digits.len()))
        } else {
            format!("{sign}{}.{}", &digits[..point], &digits[point..])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f64s(v: f64) -> String {
        numpy_float_str(v, format!("{v:e}"))
    }

    fn f32s(v: f32) -> String {
        numpy_float_str(f64::from(v), format!("{v:e}"))
    }

    #[test]
    fn floats_print_as_numpy_does() {
        assert_eq!(f64s(7.5), "7.5");
        assert_eq!(f64s(8.0), "8.0");
        assert_eq!(f64s(-666.0), "-666.0");
        assert_eq!(f64s(0.0), "0.0");
        assert_eq!(f64s(-0.0), "-0.0");
        assert_eq!(f64s(3.33), "3.33");
        assert_eq!(f64s(0.0001), "0.0001");
        assert_eq!(f64s(0.00001), "1e-05");
        assert_eq!(f64s(-1.25e-7), "-1.25e-07");
        assert_eq!(f64s(1e16), "1e+16");
        assert_eq!(f64s(1.5e16), "1.5e+16");
        assert_eq!(f64s(9999999999999998.0), "9999999999999998.0");
        assert_eq!(f64s(123456789.125), "123456789.125");
        assert_eq!(f64s(1e300), "1e+300");
        assert_eq!(f64s(f64::NAN), "nan");
        assert_eq!(f64s(f64::NEG_INFINITY), "-inf");
        assert_eq!(f32s(0.1), "0.1");
        assert_eq!(f32s(11.3819), "11.3819");
        // f32 0.0001 is 9.99999974e-05, below 1e-4: numpy prints it with an exponent.
        assert_eq!(f32s(0.0001), "1e-04");
    }

    #[test]
    fn transpose_swaps_rows_and_columns() {
        let m = Matrix::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).unwrap();
        let t = transpose(&m);
        assert_eq!((t.nrows(), t.ncols()), (3, 2));
        assert_eq!(t.row(2), &[3.0, 6.0]);
        assert_eq!(transpose(&t), m);
    }

    #[test]
    fn missing_cells_and_cmap_null() {
        for cell in ["", "NaN", "nan", "NA", "na", "#N/A", "#N/A!", "#VALUE!", "None", "-666", "-666.0"] {
            assert!(gct_number(cell.as_bytes()).unwrap().is_nan(), "{cell}");
        }
        assert_eq!(gct_number(b"-666.5"), Some(-666.5));
        assert_eq!(gct_number(b" 1.5e-3 "), Some(0.0015));
        assert_eq!(gct_number(b"abc"), None);
    }
}
