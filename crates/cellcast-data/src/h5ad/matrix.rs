//! `X`, `layers/*` and `obsm/*`: sparse (CSR, CSC) and dense matrices, read a block of rows (or
//! columns) at a time.

use cellcast_stats::sparse::{strictly_decreasing, strictly_increasing, CsrMatrix};
use cellcast_stats::Matrix;
use hdf5_pure::{DType, Dataset};

use super::hdf::{self, Ctx, Node};
use crate::error::{DataError, Result};

/// How a matrix is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatrixEncoding {
    /// scipy `csr_matrix` (`encoding-type` `csr_matrix`, or anndata < 0.7's
    /// `h5sparse_format` `csr`): rows (cells) stream cheaply.
    Csr,
    /// scipy `csc_matrix`: columns (genes) stream cheaply, rows do not.
    Csc,
    /// A 2-D numeric dataset (`encoding-type` `array`).
    Dense,
}

impl std::fmt::Display for MatrixEncoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MatrixEncoding::Csr => "CSR",
            MatrixEncoding::Csc => "CSC",
            MatrixEncoding::Dense => "dense",
        })
    }
}

/// The stored element type, named as numpy names it (`float32`, `int64`, `bool`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
}

impl ValueType {
    fn of(dtype: &DType) -> Option<ValueType> {
        Some(match dtype {
            DType::F32 => ValueType::F32,
            DType::F64 => ValueType::F64,
            DType::I8 => ValueType::I8,
            DType::I16 => ValueType::I16,
            DType::I32 => ValueType::I32,
            DType::I64 => ValueType::I64,
            DType::U8 => ValueType::U8,
            DType::U16 => ValueType::U16,
            DType::U32 => ValueType::U32,
            DType::U64 => ValueType::U64,
            DType::Enum(names) if hdf::is_bool_enum(names) => ValueType::Bool,
            _ => return None,
        })
    }

    /// Integers (and booleans) only ever hold whole numbers.
    pub fn is_integer(self) -> bool {
        !matches!(self, ValueType::F32 | ValueType::F64)
    }
}

impl std::fmt::Display for ValueType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ValueType::Bool => "bool",
            ValueType::I8 => "int8",
            ValueType::I16 => "int16",
            ValueType::I32 => "int32",
            ValueType::I64 => "int64",
            ValueType::U8 => "uint8",
            ValueType::U16 => "uint16",
            ValueType::U32 => "uint32",
            ValueType::U64 => "uint64",
            ValueType::F32 => "float32",
            ValueType::F64 => "float64",
        })
    }
}

/// What [`super::H5ad::matrix_info`] reports about `X` or a layer.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixInfo {
    /// `X` or `layers/<name>`.
    pub object: String,
    pub encoding: MatrixEncoding,
    pub value_type: ValueType,
    /// (cells, genes).
    pub shape: (usize, usize),
    /// Values stored: the non-zeros of a sparse matrix, every cell of a dense one.
    pub stored: u64,
    /// Whether the values are gzip- (or otherwise) compressed.
    pub compressed: bool,
}

/// A matrix opened for reading: its datasets and validated sizes.
pub(crate) enum Source {
    Sparse(Box<Sparse>),
    Dense { ds: Dataset, object: String },
}

/// The three arrays of a CSR or CSC matrix. `major` is the compressed axis (rows of CSR,
/// columns of CSC), `minor` the other.
pub(crate) struct Sparse {
    pub object: String,
    pub indptr: Dataset,
    pub indices: Dataset,
    pub data: Dataset,
    pub major: usize,
    pub minor: usize,
    pub nnz: u64,
    /// CSR (the compressed axis is rows) or CSC (columns), for error messages.
    pub csr: bool,
}

pub(crate) struct Opened {
    pub info: MatrixInfo,
    pub source: Source,
}

/// Opens `X` or `layers/<name>` and checks its layout against the shape of the file.
pub(crate) fn open_matrix(ctx: &Ctx, file: &hdf5_pure::File, object: &str, shape: (usize, usize)) -> Result<Opened> {
    let (n_obs, n_vars) = shape;
    match hdf::node(ctx, file, object)? {
        None => Err(ctx.err(object, "missing: the file has no such matrix")),
        Some(Node::Dataset(ds)) => {
            let attrs = hdf::dataset_attrs(ctx, &ds, object)?;
            let enc = hdf::encoding(&attrs);
            if !matches!(enc.kind.as_str(), "" | "array") {
                return Err(ctx.encoding_err(object, &enc, "; a dataset matrix is a dense 'array'"));
            }
            let dims = hdf::shape(ctx, &ds, object)?;
            hdf::check_size(ctx, &ds, object)?;
            if dims != [n_obs as u64, n_vars as u64] {
                return Err(ctx.err(
                    object,
                    format!("has shape {dims:?}; the file has {n_obs} cells (obs) × {n_vars} genes (var)"),
                ));
            }
            let dtype = hdf::dtype(ctx, &ds, object)?;
            let value_type = ValueType::of(&dtype)
                .ok_or_else(|| ctx.err(object, format!("holds {dtype}; an expression matrix holds numbers")))?;
            let info = MatrixInfo {
                object: object.to_string(),
                encoding: MatrixEncoding::Dense,
                value_type,
                shape,
                stored: (n_obs as u64).saturating_mul(n_vars as u64),
                compressed: !ds.filters().is_empty(),
            };
            Ok(Opened { info, source: Source::Dense { ds, object: object.to_string() } })
        }
        Some(Node::Group(g)) => {
            let attrs = hdf::group_attrs(ctx, &g, object)?;
            let enc = hdf::encoding(&attrs);
            let (encoding, shape_attr) =
                match (enc.kind.as_str(), attrs.get("h5sparse_format").and_then(hdf::attr_text)) {
                    ("csr_matrix", _) => (MatrixEncoding::Csr, "shape"),
                    ("csc_matrix", _) => (MatrixEncoding::Csc, "shape"),
                    ("", Some(f)) if f == "csr" => (MatrixEncoding::Csr, "h5sparse_shape"),
                    ("", Some(f)) if f == "csc" => (MatrixEncoding::Csc, "h5sparse_shape"),
                    _ => {
                        return Err(ctx.encoding_err(
                            object,
                            &enc,
                            "; cellcast reads csr_matrix, csc_matrix and dense array matrices",
                        ))
                    }
                };
            let declared = attrs
                .get(shape_attr)
                .and_then(hdf::attr_ints)
                .ok_or_else(|| ctx.err(object, format!("has no '{shape_attr}' attribute (two integers)")))?;
            if declared != [n_obs as i64, n_vars as i64] {
                return Err(ctx.err(
                    object,
                    format!("has shape {declared:?}; the file has {n_obs} cells (obs) × {n_vars} genes (var)"),
                ));
            }
            let (major, minor) = match encoding {
                MatrixEncoding::Csr => (n_obs, n_vars),
                _ => (n_vars, n_obs),
            };
            let member = |name: &str| -> Result<(Dataset, String, usize, DType)> {
                let path = hdf::join(object, name);
                match hdf::node(ctx, file, &path)? {
                    Some(Node::Dataset(ds)) => {
                        let n = hdf::len_1d(ctx, &ds, &path)?;
                        let dtype = hdf::dtype(ctx, &ds, &path)?;
                        Ok((ds, path, n, dtype))
                    }
                    _ => Err(ctx.err(&path, "missing: a sparse matrix holds data, indices and indptr")),
                }
            };
            let (data, data_path, nnz, data_type) = member("data")?;
            let (indices, indices_path, n_indices, indices_type) = member("indices")?;
            let (indptr, indptr_path, n_indptr, indptr_type) = member("indptr")?;
            let value_type = ValueType::of(&data_type)
                .ok_or_else(|| ctx.err(&data_path, format!("holds {data_type}; an expression matrix holds numbers")))?;
            for (path, t) in [(&indices_path, &indices_type), (&indptr_path, &indptr_type)] {
                if !ValueType::of(t).is_some_and(|v| v.is_integer() && v != ValueType::Bool) {
                    return Err(ctx.err(path, format!("holds {t}; expected integers")));
                }
            }
            if n_indices != nnz {
                return Err(ctx.err(&indices_path, format!("holds {n_indices} values but data holds {nnz}")));
            }
            if n_indptr != major + 1 {
                let axis = if encoding == MatrixEncoding::Csr { "rows" } else { "columns" };
                return Err(ctx.err(
                    &indptr_path,
                    format!("holds {n_indptr} values; a {encoding} matrix with {major} {axis} needs {}", major + 1),
                ));
            }
            let csr = encoding == MatrixEncoding::Csr;
            let sparse =
                Sparse { object: object.to_string(), indptr, indices, data, major, minor, nnz: nnz as u64, csr };
            let first = sparse.read_indptr(ctx, 0, 1)?;
            let last = sparse.read_indptr(ctx, major, 1)?;
            if first != [0] || last != [nnz as i64] {
                return Err(ctx.err(
                    &indptr_path,
                    format!(
                        "runs from {} to {}; it must run from 0 to {nnz} (the number of stored values)",
                        first.first().copied().unwrap_or_default(),
                        last.first().copied().unwrap_or_default()
                    ),
                ));
            }
            let info = MatrixInfo {
                object: object.to_string(),
                encoding,
                value_type,
                shape,
                stored: nnz as u64,
                compressed: !sparse.data.filters().is_empty(),
            };
            Ok(Opened { info, source: Source::Sparse(Box::new(sparse)) })
        }
    }
}

impl Sparse {
    fn read_indptr(&self, ctx: &Ctx, start: usize, count: usize) -> Result<Vec<i64>> {
        let path = hdf::join(&self.object, "indptr");
        let v = self.indptr.read_i64_rows(start as u64, count as u64).map_err(|e| ctx.hdf(&path, e))?;
        if v.len() != count {
            return Err(ctx.err(&path, format!("read {} values at {start}; expected {count}", v.len())));
        }
        Ok(v)
    }

    /// Rows `start..start + count` of the compressed axis as a `count × minor` CSR matrix (see
    /// [`read_major`]).
    pub fn read_major(&self, ctx: &Ctx, start: usize, count: usize) -> Result<CsrMatrix<f64>> {
        let layout = MajorLayout { minor: self.minor, nnz: self.nnz, csr: self.csr };
        let indices_path = hdf::join(&self.object, "indices");
        let data_path = hdf::join(&self.object, "data");
        read_major(
            &layout,
            start,
            count,
            |at, n| self.read_indptr(ctx, at, n),
            |lo, len| {
                let indices =
                    hdf::read_index_rows(&self.indices, lo, len, self.minor).map_err(|e| ctx.hdf(&indices_path, e))?;
                let data = hdf::read_f64_rows(&self.data, lo, len).map_err(|e| ctx.hdf(&data_path, e))?;
                Ok((indices, data))
            },
            |part, message| ctx.err(&part_path(&self.object, part), message),
        )
    }
}

/// `X/indices` for part `indices` of `X`; `X` itself for part `""`.
pub(crate) fn part_path(object: &str, part: &str) -> String {
    if part.is_empty() {
        object.to_string()
    } else {
        hdf::join(object, part)
    }
}

/// The shape of a sparse matrix along its compressed axis.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MajorLayout {
    /// Columns of a CSR matrix, rows of a CSC one.
    pub minor: usize,
    pub nnz: u64,
    pub csr: bool,
}

/// Column indices of a window of stored values, each checked to lie in `0..minor`: the indices,
/// or the position in the window and the value of the first that does not.
pub(crate) type CheckedIndices = std::result::Result<Vec<u32>, (usize, i64)>;

/// [`CheckedIndices`] from indices widened to i64 (arrays in memory, and the integer types a
/// file rarely uses).
pub(crate) fn checked_indices(raw: &[i64], minor: usize) -> CheckedIndices {
    let in_range = |j: i64| j >= 0 && (j as u64) < minor as u64;
    // A pass without early exits first (vectorised), the culprit searched only on failure.
    if raw.iter().fold(true, |ok, &j| ok & in_range(j)) {
        Ok(raw.iter().map(|&j| j as u32).collect())
    } else {
        let k = raw.iter().position(|&j| !in_range(j)).expect("an index is out of range");
        Err((k, raw[k]))
    }
}

/// Rows `start..start + count` of the compressed axis as a `count × minor` CSR matrix, from a
/// file or from memory alike, so both give the same blocks bit for bit: `read_indptr(at, n)`
/// reads `n` pointers, `read_window(lo, len)` the indices (checked, [`CheckedIndices`]) and the
/// values (widened to f64) they point at. Every pointer, index and value is checked
/// (`error(part, message)` names `indptr`, `indices`, `data`, or the matrix for `""`). Rows are
/// returned in canonical form: unsorted column indices are sorted, duplicates summed (as scipy's
/// `sum_duplicates`).
pub(crate) fn read_major(
    layout: &MajorLayout,
    start: usize,
    count: usize,
    read_indptr: impl FnOnce(usize, usize) -> Result<Vec<i64>>,
    read_window: impl FnOnce(u64, u64) -> Result<(CheckedIndices, Vec<f64>)>,
    error: impl Fn(&str, String) -> DataError,
) -> Result<CsrMatrix<f64>> {
    let axis = if layout.csr { "row" } else { "column" };
    let p = read_indptr(start, count + 1)?;
    if p.len() != count + 1 {
        return Err(error("indptr", format!("read {} values at {start}; expected {}", p.len(), count + 1)));
    }
    for k in 0..count {
        let (a, b) = (p[k], p[k + 1]);
        if a < 0 || b < a || b as u64 > layout.nnz {
            return Err(error(
                "indptr",
                format!(
                    "{axis} {} spans {a}..{b}, which is not a range of the {} stored values (indptr must not \
                     decrease)",
                    start + k,
                    layout.nnz
                ),
            ));
        }
    }
    let lo = p[0] as u64;
    let len = (p[count] - p[0]) as u64;
    let (indices, mut data) = if len == 0 { (Ok(Vec::new()), Vec::new()) } else { read_window(lo, len)? };
    let indices_read = indices.as_ref().map_or(len, |v| v.len() as u64);
    if indices_read != len || data.len() as u64 != len {
        return Err(error("", format!("read fewer values than indptr promises at {axis} {start}")));
    }
    // A pass without early exits first (vectorised), the culprit searched only on failure.
    let row_of = |k: usize| start + p.partition_point(|&x| x <= lo as i64 + k as i64).saturating_sub(1);
    let mut indices = match indices {
        Ok(v) => v,
        Err((k, j)) => {
            return Err(error(
                "indices",
                format!("{axis} {} has index {j}; valid indices are 0..{}", row_of(k), layout.minor),
            ));
        }
    };
    if !data.iter().fold(true, |ok, v| ok & v.is_finite()) {
        let k = data.iter().position(|v| !v.is_finite()).expect("a value is not finite");
        let (major, minor) = (row_of(k) as i64, i64::from(indices[k]));
        let (cell, gene) = if layout.csr { (major, minor) } else { (minor, major) };
        return Err(error("data", not_finite(data[k], cell, gene)));
    }
    let mut indptr: Vec<usize> = p.iter().map(|&x| (x - p[0]) as usize).collect();
    canonicalize(&mut indptr, &mut indices, &mut data);
    CsrMatrix::new(count, layout.minor, indptr, indices, data)
        .map_err(|e| error("", format!("internal error building a block: {e}")))
}

/// Sorts each row's indices (carrying the data) and sums duplicates, compacting in place. Rows
/// already strictly increasing — every row of a canonical scipy matrix — are left untouched.
fn canonicalize(indptr: &mut [usize], indices: &mut Vec<u32>, data: &mut Vec<f64>) {
    let rows = indptr.len() - 1;
    if (0..rows).all(|i| strictly_increasing(&indices[indptr[i]..indptr[i + 1]])) {
        return;
    }
    // A row's sort keys: the index above its position in the row, so that duplicates keep their
    // stored order (and are summed in it) while an unstable sort does the work.
    let (mut keys, mut values) = (Vec::<u64>::new(), Vec::<f64>::new());
    let mut out = 0usize;
    let mut start = indptr[0];
    for i in 0..rows {
        let end = indptr[i + 1];
        let increasing = strictly_increasing(&indices[start..end]);
        // A row stored in descending order (as some writers leave them) is only reversed.
        let reversed = !increasing && strictly_decreasing(&indices[start..end]);
        if reversed {
            indices[start..end].reverse();
            data[start..end].reverse();
        }
        if increasing || reversed {
            if out != start {
                indices.copy_within(start..end, out);
                data.copy_within(start..end, out);
            }
            out += end - start;
        } else {
            keys.clear();
            keys.extend(indices[start..end].iter().enumerate().map(|(at, &j)| (u64::from(j) << 32) | at as u64));
            keys.sort_unstable();
            values.clear();
            values.extend_from_slice(&data[start..end]);
            let row_start = out;
            for &key in &keys {
                let (j, v) = ((key >> 32) as u32, values[(key & 0xffff_ffff) as usize]);
                if out > row_start && indices[out - 1] == j {
                    data[out - 1] += v;
                } else {
                    indices[out] = j;
                    data[out] = v;
                    out += 1;
                }
            }
        }
        start = end;
        indptr[i + 1] = out;
    }
    indices.truncate(out);
    data.truncate(out);
}

/// The non-zero entries of `rows` dense rows of `width` values.
pub(crate) fn dense_to_csr(rows: usize, width: usize, values: &[f64]) -> Built {
    let mut indptr = Vec::with_capacity(rows + 1);
    indptr.push(0);
    // Every value is written and the end moves past the non-zero ones only: no branch on the
    // data (dense predictions mix zeros and values unpredictably) and no growth of the vectors.
    let n = values.len().min(rows * width);
    let (mut indices, mut data) = (vec![0u32; n], vec![0.0; n]);
    let mut end = 0;
    for row in values[..n].chunks_exact(width.max(1)) {
        for (j, &v) in row.iter().enumerate() {
            indices[end] = j as u32;
            data[end] = v;
            // (end ≤ the values seen before this one < n: the writes stay inside.)
            end += usize::from(v != 0.0);
        }
        indptr.push(end);
    }
    indices.truncate(end);
    data.truncate(end);
    while indptr.len() < rows + 1 {
        indptr.push(end);
    }
    CsrMatrix::new(rows, width, indptr, indices, data)
}

/// A block built in memory: valid by construction, but `CsrMatrix::new` checks anyway (and
/// refuses more than 2^32 columns).
pub(crate) type Built = std::result::Result<CsrMatrix<f64>, cellcast_stats::sparse::InvalidCsr>;

/// Reads dense rows `start..start + count` as f64.
pub(crate) fn read_dense_rows(
    ctx: &Ctx,
    ds: &Dataset,
    object: &str,
    start: usize,
    count: usize,
    width: usize,
) -> Result<Vec<f64>> {
    let v = ds.read_f64_rows(start as u64, count as u64).map_err(|e| ctx.hdf(object, e))?;
    if v.len() != count * width {
        return Err(ctx.err(object, format!("read {} values for {count} rows of {width}", v.len())));
    }
    if let Some(message) = dense_not_finite(&v, start, width) {
        return Err(ctx.err(object, message));
    }
    Ok(v)
}

/// The error text for the first non-finite value of dense rows from `start` on, if any.
pub(crate) fn dense_not_finite(values: &[f64], start: usize, width: usize) -> Option<String> {
    let k = values.iter().position(|x| !x.is_finite())?;
    Some(not_finite(values[k], (start + k / width.max(1)) as i64, (k % width.max(1)) as i64))
}

/// The error text for a stored value that is not a finite number (positions 0-based).
fn not_finite(v: f64, cell: i64, gene: i64) -> String {
    format!(
        "cell {cell}, gene {gene} (0-based) holds {v}: the matrix must hold finite numbers (a NaN or inf would \
         spread into every mean and test of its group); fix or drop that cell"
    )
}

/// The transpose of a CSR matrix (a CSC matrix read along its columns gives genes × cells).
pub(crate) fn transpose(m: &CsrMatrix<f64>) -> Built {
    let (rows, cols) = (m.n_rows(), m.n_cols());
    let mut counts = vec![0usize; cols + 1];
    for &j in m.indices() {
        counts[j as usize + 1] += 1;
    }
    for j in 0..cols {
        counts[j + 1] += counts[j];
    }
    let indptr = counts.clone();
    let mut next = counts;
    let mut indices = vec![0u32; m.nnz()];
    let mut data = vec![0.0; m.nnz()];
    for i in 0..rows {
        let (idx, vals) = m.row(i);
        for (&j, &v) in idx.iter().zip(vals) {
            let k = next[j as usize];
            indices[k] = i as u32;
            data[k] = v;
            next[j as usize] += 1;
        }
    }
    CsrMatrix::new(cols, rows, indptr, indices, data)
}

/// Rows `start..end` of an in-memory CSR matrix.
pub(crate) fn slice_rows(m: &CsrMatrix<f64>, start: usize, end: usize) -> Built {
    let p = m.indptr();
    let (lo, hi) = (p[start], p[end]);
    let indptr = p[start..=end].iter().map(|&x| x - lo).collect();
    CsrMatrix::new(end - start, m.n_cols(), indptr, m.indices()[lo..hi].to_vec(), m.data()[lo..hi].to_vec())
}

/// An `obsm` element as a dense matrix with `n_obs` rows.
pub(crate) fn read_obsm(ctx: &Ctx, file: &hdf5_pure::File, object: &str, n_obs: usize) -> Result<Matrix> {
    match hdf::node(ctx, file, object)? {
        None => Err(ctx.err(object, "missing")),
        Some(Node::Dataset(ds)) => {
            let attrs = hdf::dataset_attrs(ctx, &ds, object)?;
            let enc = hdf::encoding(&attrs);
            if !matches!(enc.kind.as_str(), "" | "array") {
                return Err(ctx.encoding_err(object, &enc, "; obsm elements are read as dense arrays"));
            }
            let dims = hdf::shape(ctx, &ds, object)?;
            hdf::check_size(ctx, &ds, object)?;
            let cols = match dims.as_slice() {
                [n] if *n == n_obs as u64 => 1,
                [n, k] if *n == n_obs as u64 => *k as usize,
                _ => return Err(ctx.err(object, format!("has shape {dims:?}; obsm arrays have {n_obs} rows (cells)"))),
            };
            let dtype = hdf::dtype(ctx, &ds, object)?;
            if ValueType::of(&dtype).is_none() {
                return Err(ctx.err(object, format!("holds {dtype}; expected numbers")));
            }
            let values = ds.read_f64().map_err(|e| ctx.hdf(object, e))?;
            Matrix::from_row_major(n_obs, cols, values)
                .ok_or_else(|| ctx.err(object, "the values read do not fill its shape"))
        }
        Some(Node::Group(g)) => {
            let attrs = hdf::group_attrs(ctx, &g, object)?;
            let enc = hdf::encoding(&attrs);
            if enc.kind == "csr_matrix" || enc.kind == "csc_matrix" {
                let k = attrs
                    .get("shape")
                    .and_then(hdf::attr_ints)
                    .and_then(|s| (s.len() == 2 && s[0] == n_obs as i64 && s[1] >= 0).then_some(s[1] as usize))
                    .ok_or_else(|| ctx.err(object, format!("has no 'shape' attribute of ({n_obs}, k)")))?;
                let opened = open_matrix(ctx, file, object, (n_obs, k))?;
                let mut out = Matrix::filled(n_obs, k, 0.0);
                let Source::Sparse(s) = opened.source else {
                    return Err(ctx.err(object, "is not a sparse matrix"));
                };
                let whole = s.read_major(ctx, 0, s.major)?;
                let csr_rows = s.csr;
                for i in 0..whole.n_rows() {
                    let (idx, vals) = whole.row(i);
                    for (&j, &v) in idx.iter().zip(vals) {
                        let (r, c) = if csr_rows { (i, j as usize) } else { (j as usize, i) };
                        out.row_mut(r)[c] = v;
                    }
                }
                Ok(out)
            } else {
                Err(ctx.encoding_err(object, &enc, "; cellcast reads obsm arrays and sparse matrices"))
            }
        }
    }
}

/// anndata < 0.7 kept obsm as one record array: each field an (n_obs, k) matrix.
pub(crate) fn obsm_records(ctx: &Ctx, ds: &Dataset, n_obs: usize) -> Result<Vec<(String, Matrix)>> {
    let fields = hdf::read_compound(ctx, ds, "obsm")?;
    let mut out = Vec::with_capacity(fields.len());
    for (name, field) in fields {
        let (width, values) = match field {
            hdf::Field::Array { width, values } => (width, values),
            hdf::Field::Float(v) => (1, v),
            hdf::Field::Int(v) => (1, v.into_iter().map(|x| x as f64).collect()),
            _ => return Err(ctx.err("obsm", format!("field '{name}' is not numeric"))),
        };
        let m = Matrix::from_row_major(n_obs, width, values)
            .ok_or_else(|| ctx.err("obsm", format!("field '{name}' does not have {n_obs} rows")))?;
        out.push((name, m));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_rows_sort_and_sum_duplicates() {
        let mut indptr = vec![0, 3, 5, 5];
        let mut indices = vec![4, 1, 2, 3, 3];
        let mut data = vec![1.0, 2.0, 3.0, 0.5, 0.25];
        canonicalize(&mut indptr, &mut indices, &mut data);
        assert_eq!(indptr, vec![0, 3, 4, 4]);
        assert_eq!(indices, vec![1, 2, 4, 3]);
        assert_eq!(data, vec![2.0, 3.0, 1.0, 0.75]);
        // A row stored in descending order, duplicates summed in stored order (0.1 + 0.2 + 0.3
        // is not 0.3 + 0.2 + 0.1 in float64), and canonical rows moved down after the compaction.
        let mut indptr = vec![0, 3, 7, 9, 10];
        let mut indices = vec![9, 5, 0, 2, 7, 2, 2, 1, 3, 4];
        let mut data = vec![1.0, 2.0, 3.0, 0.1, 4.0, 0.2, 0.3, 5.0, 6.0, 7.0];
        canonicalize(&mut indptr, &mut indices, &mut data);
        assert_eq!(indptr, vec![0, 3, 5, 7, 8]);
        assert_eq!(indices, vec![0, 5, 9, 2, 7, 1, 3, 4]);
        assert_eq!(data, vec![3.0, 2.0, 1.0, 0.1 + 0.2 + 0.3, 4.0, 5.0, 6.0, 7.0]);
        assert_ne!(0.1 + 0.2 + 0.3, 0.3 + 0.2 + 0.1);
    }

    #[test]
    fn dense_rows_keep_their_non_zero_values() {
        // A full row, an empty one (−0.0 is a zero), a mixed one, and a fourth row past the
        // values given (empty).
        let m = dense_to_csr(4, 3, &[1.0, 2.0, 3.0, 0.0, -0.0, 0.0, 0.0, 5.0, -6.0]).unwrap();
        assert_eq!(m.row(0), (&[0u32, 1, 2][..], &[1.0, 2.0, 3.0][..]));
        assert_eq!(m.row(1), (&[][..], &[][..]));
        assert_eq!(m.row(2), (&[1u32, 2][..], &[5.0, -6.0][..]));
        assert_eq!(m.row(3), (&[][..], &[][..]));
        assert_eq!(m.n_rows(), 4);
    }

    #[test]
    fn transpose_and_slices() {
        let m = dense_to_csr(2, 3, &[1.0, 0.0, 2.0, 0.0, 3.0, 0.0]).unwrap();
        let t = transpose(&m).unwrap();
        assert_eq!((t.n_rows(), t.n_cols()), (3, 2));
        assert_eq!(t.row(0), (&[0u32][..], &[1.0][..]));
        assert_eq!(t.row(1), (&[1u32][..], &[3.0][..]));
        assert_eq!(t.row(2), (&[0u32][..], &[2.0][..]));
        assert_eq!(transpose(&t).unwrap(), m);
        let s = slice_rows(&m, 1, 2).unwrap();
        assert_eq!(s.row(0), (&[1u32][..], &[3.0][..]));
    }
}
