//! Cells from an `.h5ad` file or from an AnnData in memory, read by the same code.
//!
//! [`CellSource`] is what [`crate::pseudobulk`] and [`crate::cells`] read: the shape, the obs and
//! var names and columns, how the matrix is stored, and the matrix a block of cells (or, for
//! CSC, of genes) at a time. [`H5ad`] implements it by streaming its file;
//! [`AnnDataView`] implements it over arrays borrowed from memory (numpy's, through the Python
//! package), without copying them whole. Both hand out the same blocks — values widened to f64,
//! rows canonical (indices sorted, duplicates summed), a non-finite value refused naming its cell
//! and gene — through the same functions, so a workflow gives the same numbers, bit for bit,
//! on a file and on the same data in memory.

use std::borrow::Cow;

use cellcast_stats::sparse::CsrMatrix;

use crate::error::{DataError, Result};
use crate::h5ad::matrix::{self, MajorLayout};
use crate::h5ad::{AnnColumn, ColumnBlock, H5ad, MatrixEncoding, MatrixInfo, RowBlock, ValueType};

/// Blocks of a matrix, in order; after an error the caller stops.
pub type Blocks<'a, T> = Box<dyn Iterator<Item = Result<T>> + 'a>;

/// Where cells come from: an `.h5ad` file or an AnnData in memory (see the [module
/// documentation](self)).
pub trait CellSource: Sync {
    /// How messages name the source: the file's path, or `AnnData (in memory)`.
    fn name(&self) -> String;
    /// (cells, genes).
    fn shape(&self) -> (usize, usize);
    fn obs_names(&self) -> &[String];
    fn var_names(&self) -> &[String];
    /// The obs columns, in order.
    fn obs_columns(&self) -> Vec<String>;
    /// The var columns, in order.
    fn var_columns(&self) -> Vec<String>;
    /// An obs column, one value per cell.
    fn obs_column(&self, name: &str) -> Result<Cow<'_, AnnColumn>>;
    /// A var column, one value per gene.
    fn var_column(&self, name: &str) -> Result<Cow<'_, AnnColumn>>;
    /// How `X` (`layer = None`) or a layer is stored.
    fn matrix_info(&self, layer: Option<&str>) -> Result<MatrixInfo>;
    /// `X` or a layer, `block_rows` cells at a time (a CSC matrix is transposed whole first).
    fn row_blocks(&self, layer: Option<&str>, block_rows: usize) -> Result<Blocks<'_, RowBlock>>;
    /// A CSC `X` or layer, `block_cols` genes at a time, each block genes × cells; CSR and dense
    /// matrices are refused.
    fn column_blocks(&self, layer: Option<&str>, block_cols: usize) -> Result<Blocks<'_, ColumnBlock>>;
    /// An error about `object` (`obs/condition`, `X/indptr`) of this source.
    fn error(&self, object: &str, message: String) -> DataError;
    /// An `obsm` embedding (cells × dimensions), widened to f64. A view has none.
    fn obsm(&self, name: &str) -> Result<cellcast_stats::Matrix> {
        Err(self.error("obsm", format!("no obsm '{name}'")))
    }
    /// Checks what opening did not (a file is checked when opened; a view when read).
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

impl CellSource for H5ad {
    fn name(&self) -> String {
        self.path().display().to_string()
    }

    fn shape(&self) -> (usize, usize) {
        H5ad::shape(self)
    }

    fn obs_names(&self) -> &[String] {
        H5ad::obs_names(self)
    }

    fn var_names(&self) -> &[String] {
        H5ad::var_names(self)
    }

    fn obs_columns(&self) -> Vec<String> {
        H5ad::obs_columns(self).to_vec()
    }

    fn var_columns(&self) -> Vec<String> {
        H5ad::var_columns(self).to_vec()
    }

    fn obs_column(&self, name: &str) -> Result<Cow<'_, AnnColumn>> {
        H5ad::obs_column(self, name).map(Cow::Owned)
    }

    fn var_column(&self, name: &str) -> Result<Cow<'_, AnnColumn>> {
        H5ad::var_column(self, name).map(Cow::Owned)
    }

    fn matrix_info(&self, layer: Option<&str>) -> Result<MatrixInfo> {
        H5ad::matrix_info(self, layer)
    }

    fn row_blocks(&self, layer: Option<&str>, block_rows: usize) -> Result<Blocks<'_, RowBlock>> {
        Ok(Box::new(H5ad::row_blocks(self, layer, block_rows)?))
    }

    fn column_blocks(&self, layer: Option<&str>, block_cols: usize) -> Result<Blocks<'_, ColumnBlock>> {
        Ok(Box::new(H5ad::column_blocks(self, layer, block_cols)?))
    }

    fn error(&self, object: &str, message: String) -> DataError {
        DataError::H5ad { path: self.path().to_path_buf(), object: object.to_string(), message }
    }

    fn obsm(&self, name: &str) -> Result<cellcast_stats::Matrix> {
        H5ad::obsm(self, name)
    }
}

/// Stored values of a matrix in memory, in any numeric dtype numpy gives (widened to f64 exactly
/// when read, as the `.h5ad` reader widens them; `u64` and `i64` beyond 2^53 round).
#[derive(Debug, Clone, Copy)]
pub enum Values<'a> {
    F64(&'a [f64]),
    F32(&'a [f32]),
    I64(&'a [i64]),
    I32(&'a [i32]),
    I16(&'a [i16]),
    I8(&'a [i8]),
    U64(&'a [u64]),
    U32(&'a [u32]),
    U16(&'a [u16]),
    U8(&'a [u8]),
    Bool(&'a [bool]),
}

impl Values<'_> {
    pub fn len(&self) -> usize {
        match self {
            Values::F64(v) => v.len(),
            Values::F32(v) => v.len(),
            Values::I64(v) => v.len(),
            Values::I32(v) => v.len(),
            Values::I16(v) => v.len(),
            Values::I8(v) => v.len(),
            Values::U64(v) => v.len(),
            Values::U32(v) => v.len(),
            Values::U16(v) => v.len(),
            Values::U8(v) => v.len(),
            Values::Bool(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The numpy name of the element type.
    pub fn value_type(&self) -> ValueType {
        match self {
            Values::F64(_) => ValueType::F64,
            Values::F32(_) => ValueType::F32,
            Values::I64(_) => ValueType::I64,
            Values::I32(_) => ValueType::I32,
            Values::I16(_) => ValueType::I16,
            Values::I8(_) => ValueType::I8,
            Values::U64(_) => ValueType::U64,
            Values::U32(_) => ValueType::U32,
            Values::U16(_) => ValueType::U16,
            Values::U8(_) => ValueType::U8,
            Values::Bool(_) => ValueType::Bool,
        }
    }

    /// Values `lo..hi` as f64 (the caller checks the range).
    fn to_f64(self, lo: usize, hi: usize) -> Vec<f64> {
        match self {
            Values::F64(v) => v[lo..hi].to_vec(),
            Values::F32(v) => v[lo..hi].iter().map(|&x| f64::from(x)).collect(),
            Values::I64(v) => v[lo..hi].iter().map(|&x| x as f64).collect(),
            Values::I32(v) => v[lo..hi].iter().map(|&x| f64::from(x)).collect(),
            Values::I16(v) => v[lo..hi].iter().map(|&x| f64::from(x)).collect(),
            Values::I8(v) => v[lo..hi].iter().map(|&x| f64::from(x)).collect(),
            Values::U64(v) => v[lo..hi].iter().map(|&x| x as f64).collect(),
            Values::U32(v) => v[lo..hi].iter().map(|&x| f64::from(x)).collect(),
            Values::U16(v) => v[lo..hi].iter().map(|&x| f64::from(x)).collect(),
            Values::U8(v) => v[lo..hi].iter().map(|&x| f64::from(x)).collect(),
            Values::Bool(v) => v[lo..hi].iter().map(|&x| f64::from(u8::from(x))).collect(),
        }
    }
}

/// Index arrays of a sparse matrix in memory (scipy uses int32, or int64 for large matrices).
#[derive(Debug, Clone, Copy)]
pub enum Indices<'a> {
    I32(&'a [i32]),
    I64(&'a [i64]),
}

impl Indices<'_> {
    pub fn len(&self) -> usize {
        match self {
            Indices::I32(v) => v.len(),
            Indices::I64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get(&self, k: usize) -> i64 {
        match self {
            Indices::I32(v) => i64::from(v[k]),
            Indices::I64(v) => v[k],
        }
    }

    fn to_i64(self, lo: usize, hi: usize) -> Vec<i64> {
        match self {
            Indices::I32(v) => v[lo..hi].iter().map(|&x| i64::from(x)).collect(),
            Indices::I64(v) => v[lo..hi].to_vec(),
        }
    }
}

/// A cells × genes matrix in memory: scipy's `csr_matrix` / `csc_matrix` arrays, or a dense
/// row-major (C order) array.
#[derive(Debug, Clone, Copy)]
pub enum MatrixView<'a> {
    Csr { shape: (usize, usize), indptr: Indices<'a>, indices: Indices<'a>, data: Values<'a> },
    Csc { shape: (usize, usize), indptr: Indices<'a>, indices: Indices<'a>, data: Values<'a> },
    Dense { shape: (usize, usize), data: Values<'a> },
}

impl<'a> MatrixView<'a> {
    /// (cells, genes).
    pub fn shape(&self) -> (usize, usize) {
        match self {
            MatrixView::Csr { shape, .. } | MatrixView::Csc { shape, .. } | MatrixView::Dense { shape, .. } => *shape,
        }
    }

    pub fn encoding(&self) -> MatrixEncoding {
        match self {
            MatrixView::Csr { .. } => MatrixEncoding::Csr,
            MatrixView::Csc { .. } => MatrixEncoding::Csc,
            MatrixView::Dense { .. } => MatrixEncoding::Dense,
        }
    }

    fn data(&self) -> Values<'a> {
        match self {
            MatrixView::Csr { data, .. } | MatrixView::Csc { data, .. } | MatrixView::Dense { data, .. } => *data,
        }
    }

    /// The compressed arrays and layout of a sparse matrix.
    fn sparse(&self) -> Option<(Indices<'a>, Indices<'a>, MajorLayout, usize)> {
        let (shape, indptr, indices, csr) = match *self {
            MatrixView::Csr { shape, indptr, indices, .. } => (shape, indptr, indices, true),
            MatrixView::Csc { shape, indptr, indices, .. } => (shape, indptr, indices, false),
            MatrixView::Dense { .. } => return None,
        };
        let (major, minor) = if csr { shape } else { (shape.1, shape.0) };
        Some((indptr, indices, MajorLayout { minor, nnz: indices.len() as u64, csr }, major))
    }

    /// Checks the arrays against the shape and each other: lengths, `indptr` from 0 to the
    /// number of stored values and never decreasing, every index in range. Values are checked
    /// (finite) when read, as a file's are.
    fn validate(&self, object: &str) -> std::result::Result<(), (String, String)> {
        let (rows, cols) = self.shape();
        let err = |part: &str, message: String| Err((matrix::part_path(object, part), message));
        match self {
            MatrixView::Dense { data, .. } => {
                if Some(data.len()) != rows.checked_mul(cols) {
                    return err(
                        "",
                        format!(
                            "holds {} values; a dense {rows} × {cols} matrix holds {} (row-major)",
                            data.len(),
                            rows as u128 * cols as u128
                        ),
                    );
                }
            }
            _ => {
                let (indptr, indices, layout, major) = self.sparse().expect("sparse");
                let nnz = indices.len();
                let encoding = self.encoding();
                let axis = if layout.csr { "rows" } else { "columns" };
                if self.data().len() != nnz {
                    return err("indices", format!("holds {nnz} values but data holds {}", self.data().len()));
                }
                if indptr.len() != major + 1 {
                    return err(
                        "indptr",
                        format!(
                            "holds {} values; a {encoding} matrix with {major} {axis} needs {}",
                            indptr.len(),
                            major + 1
                        ),
                    );
                }
                let (first, last) = (indptr.get(0), indptr.get(major));
                if first != 0 || last != nnz as i64 {
                    return err(
                        "indptr",
                        format!(
                            "runs from {first} to {last}; it must run from 0 to {nnz} (the number of stored values)"
                        ),
                    );
                }
                let one = if layout.csr { "row" } else { "column" };
                for k in 0..major {
                    let (a, b) = (indptr.get(k), indptr.get(k + 1));
                    if b < a {
                        return err(
                            "indptr",
                            format!("{one} {k} spans {a}..{b}, which is not a range of the {nnz} stored values (indptr must not decrease)"),
                        );
                    }
                    for p in a as usize..b as usize {
                        let j = indices.get(p);
                        if j < 0 || j as u64 >= layout.minor as u64 {
                            return err(
                                "indices",
                                format!("{one} {k} has index {j}; valid indices are 0..{}", layout.minor),
                            );
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Rows `start..start + count` of the compressed axis (rows of CSR, columns of CSC).
    fn read_major(&self, object: &str, start: usize, count: usize) -> Result<CsrMatrix<f64>> {
        let (indptr, indices, layout, major) = self.sparse().expect("sparse");
        let data = self.data();
        let nnz = indices.len().min(data.len());
        read_major_view(object, &layout, start, count, major, indptr, indices, data, nnz)
    }

    /// Dense rows `start..start + count` as a CSR block of their non-zero values.
    fn dense_rows(&self, object: &str, start: usize, count: usize) -> Result<CsrMatrix<f64>> {
        let width = self.shape().1;
        let data = self.data();
        let (lo, hi) = (start * width, (start + count) * width);
        if hi > data.len() {
            return Err(view_error(
                object,
                format!("holds {} values; rows up to {} need {hi}", data.len(), start + count),
            ));
        }
        let values = data.to_f64(lo, hi);
        if let Some(message) = matrix::dense_not_finite(&values, start, width) {
            return Err(view_error(object, message));
        }
        matrix::dense_to_csr(count, width, &values).map_err(|e| view_error(object, e.to_string()))
    }
}

#[allow(clippy::too_many_arguments)]
fn read_major_view(
    object: &str,
    layout: &MajorLayout,
    start: usize,
    count: usize,
    major: usize,
    indptr: Indices<'_>,
    indices: Indices<'_>,
    data: Values<'_>,
    nnz: usize,
) -> Result<CsrMatrix<f64>> {
    matrix::read_major(
        layout,
        start,
        count,
        |at, n| {
            if at + n > major + 1 || at + n > indptr.len() {
                return Err(view_error(&format!("{object}/indptr"), format!("has no values {at}..{}", at + n)));
            }
            Ok(indptr.to_i64(at, at + n))
        },
        |lo, len| {
            let (lo, hi) = (lo as usize, (lo + len) as usize);
            if hi > nnz {
                return Err(view_error(object, format!("indptr points at values {lo}..{hi} of {nnz}")));
            }
            Ok((matrix::checked_indices(&indices.to_i64(lo, hi), layout.minor), data.to_f64(lo, hi)))
        },
        |part, message| view_error(&matrix::part_path(object, part), message),
    )
}

/// An error about `object` of an AnnData in memory.
fn view_error(object: &str, message: String) -> DataError {
    DataError::AnnData { object: object.to_string(), message }
}

/// An AnnData in memory, borrowed: `X`, layers, obs and var (see the [module
/// documentation](self)). Nothing is copied until a block is read.
#[derive(Debug, Clone)]
pub struct AnnDataView<'a> {
    pub x: MatrixView<'a>,
    pub layers: Vec<(String, MatrixView<'a>)>,
    pub obs_names: Vec<String>,
    pub obs: Vec<(String, AnnColumn)>,
    pub var_names: Vec<String>,
    pub var: Vec<(String, AnnColumn)>,
    /// obsm embeddings (cells × dimensions), copied: they are small.
    pub obsm: Vec<(String, cellcast_stats::Matrix)>,
}

impl<'a> AnnDataView<'a> {
    /// A view of `x` with cells and genes named `0`, `1`, … and no columns or layers.
    pub fn new(x: MatrixView<'a>) -> Self {
        let (n_obs, n_vars) = x.shape();
        AnnDataView {
            x,
            layers: Vec::new(),
            obs_names: (0..n_obs).map(|i| i.to_string()).collect(),
            obs: Vec::new(),
            var_names: (0..n_vars).map(|j| j.to_string()).collect(),
            var: Vec::new(),
            obsm: Vec::new(),
        }
    }

    /// Checks the whole view: names and columns against the shape of `X`, every layer's shape,
    /// each matrix's arrays (lengths, `indptr` from 0 to the number of stored values and never
    /// decreasing, indices in range), categorical codes within their categories, no name given
    /// twice. The values are checked (finite) when a matrix is read, naming the cell and gene, as
    /// for a file.
    pub fn validate(&self) -> Result<()> {
        let (n_obs, n_vars) = self.x.shape();
        if self.obs_names.len() != n_obs {
            return Err(view_error(
                "obs_names",
                format!("has {} names; X has {n_obs} cells (rows)", self.obs_names.len()),
            ));
        }
        if self.var_names.len() != n_vars {
            return Err(view_error(
                "var_names",
                format!("has {} names; X has {n_vars} genes (columns)", self.var_names.len()),
            ));
        }
        for (key, columns, n, what) in [("obs", &self.obs, n_obs, "cells"), ("var", &self.var, n_vars, "genes")] {
            for (k, (name, column)) in columns.iter().enumerate() {
                let object = format!("{key}/{name}");
                if columns[..k].iter().any(|(other, _)| other == name) {
                    return Err(view_error(key, format!("has two columns named '{name}'")));
                }
                if column.len() != n {
                    return Err(view_error(&object, format!("has {} values for {n} {what}", column.len())));
                }
                if let AnnColumn::Categorical(c) = column {
                    if let Some(code) = c.codes.iter().flatten().find(|&&code| code as usize >= c.categories.len()) {
                        return Err(view_error(
                            &object,
                            format!("has code {code} but {} categories", c.categories.len()),
                        ));
                    }
                }
            }
        }
        self.x.validate("X").map_err(|(object, message)| view_error(&object, message))?;
        for (k, (name, layer)) in self.layers.iter().enumerate() {
            let object = format!("layers/{name}");
            if self.layers[..k].iter().any(|(other, _)| other == name) {
                return Err(view_error("layers", format!("has two layers named '{name}'")));
            }
            if layer.shape() != (n_obs, n_vars) {
                return Err(view_error(
                    &object,
                    format!("has shape {:?}; X has {n_obs} cells × {n_vars} genes", layer.shape()),
                ));
            }
            layer.validate(&object).map_err(|(object, message)| view_error(&object, message))?;
        }
        Ok(())
    }

    /// `X` or a layer, with its name (`X`, `layers/<name>`).
    fn matrix(&self, layer: Option<&str>) -> Result<(String, &MatrixView<'a>)> {
        match layer {
            None => Ok(("X".to_string(), &self.x)),
            Some(name) => match self.layers.iter().find(|(n, _)| n == name) {
                Some((_, m)) => Ok((format!("layers/{name}"), m)),
                None => {
                    let names: Vec<String> = self.layers.iter().map(|(n, _)| n.clone()).collect();
                    Err(view_error(
                        "layers",
                        format!(
                            "no layer '{name}' (layers: {})",
                            if names.is_empty() { "none".to_string() } else { crate::table::preview(&names, 20) }
                        ),
                    ))
                }
            },
        }
    }

    fn column<'s>(&'s self, key: &str, columns: &'s [(String, AnnColumn)], name: &str) -> Result<&'s AnnColumn> {
        columns.iter().find(|(n, _)| n == name).map(|(_, c)| c).ok_or_else(|| {
            let names: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
            view_error(
                key,
                format!(
                    "no column '{name}' (columns are: {}); those are the columns of {key}",
                    if names.is_empty() { "none".to_string() } else { crate::table::preview(&names, 20) }
                ),
            )
        })
    }
}

impl CellSource for AnnDataView<'_> {
    fn name(&self) -> String {
        "AnnData (in memory)".to_string()
    }

    fn obsm(&self, name: &str) -> Result<cellcast_stats::Matrix> {
        self.obsm.iter().find(|(n, _)| n == name).map(|(_, m)| m.clone()).ok_or_else(|| {
            let names: Vec<&str> = self.obsm.iter().map(|(n, _)| n.as_str()).collect();
            self.error(
                "obsm",
                format!(
                    "no obsm '{name}' (given: {})",
                    if names.is_empty() { "none".into() } else { names.join(", ") }
                ),
            )
        })
    }

    fn shape(&self) -> (usize, usize) {
        (self.obs_names.len(), self.var_names.len())
    }

    fn obs_names(&self) -> &[String] {
        &self.obs_names
    }

    fn var_names(&self) -> &[String] {
        &self.var_names
    }

    fn obs_columns(&self) -> Vec<String> {
        self.obs.iter().map(|(n, _)| n.clone()).collect()
    }

    fn var_columns(&self) -> Vec<String> {
        self.var.iter().map(|(n, _)| n.clone()).collect()
    }

    fn obs_column(&self, name: &str) -> Result<Cow<'_, AnnColumn>> {
        self.column("obs", &self.obs, name).map(Cow::Borrowed)
    }

    fn var_column(&self, name: &str) -> Result<Cow<'_, AnnColumn>> {
        self.column("var", &self.var, name).map(Cow::Borrowed)
    }

    fn matrix_info(&self, layer: Option<&str>) -> Result<MatrixInfo> {
        let (object, m) = self.matrix(layer)?;
        let shape = m.shape();
        let stored = match m {
            MatrixView::Dense { .. } => (shape.0 as u64).saturating_mul(shape.1 as u64),
            _ => m.data().len() as u64,
        };
        Ok(MatrixInfo {
            object,
            encoding: m.encoding(),
            value_type: m.data().value_type(),
            shape,
            stored,
            compressed: false,
        })
    }

    fn row_blocks(&self, layer: Option<&str>, block_rows: usize) -> Result<Blocks<'_, RowBlock>> {
        let (object, m) = self.matrix(layer)?;
        m.validate(&object).map_err(|(object, message)| view_error(&object, message))?;
        let n = m.shape().0;
        let block = block_rows.max(1);
        let starts = (0..n).step_by(block);
        match m {
            MatrixView::Csr { .. } => Ok(Box::new(starts.map(move |start| {
                let count = block.min(n - start);
                m.read_major(&object, start, count).map(|rows| RowBlock { start, rows })
            }))),
            MatrixView::Dense { .. } => Ok(Box::new(starts.map(move |start| {
                let count = block.min(n - start);
                m.dense_rows(&object, start, count).map(|rows| RowBlock { start, rows })
            }))),
            MatrixView::Csc { .. } => {
                // As for a file: the whole matrix by genes, transposed once, then sliced.
                let genes = m.read_major(&object, 0, m.shape().1)?;
                let cells = matrix::transpose(&genes)
                    .map_err(|e| view_error(&object, format!("transposing the CSC matrix: {e}")))?;
                Ok(Box::new(starts.map(move |start| {
                    let count = block.min(n - start);
                    matrix::slice_rows(&cells, start, start + count)
                        .map(|rows| RowBlock { start, rows })
                        .map_err(|e| view_error(&object, e.to_string()))
                })))
            }
        }
    }

    fn column_blocks(&self, layer: Option<&str>, block_cols: usize) -> Result<Blocks<'_, ColumnBlock>> {
        let (object, m) = self.matrix(layer)?;
        if !matches!(m, MatrixView::Csc { .. }) {
            return Err(view_error(
                &object,
                format!("is stored {}; column blocks stream CSC matrices only (read it by rows)", m.encoding()),
            ));
        }
        m.validate(&object).map_err(|(object, message)| view_error(&object, message))?;
        let n = m.shape().1;
        let block = block_cols.max(1);
        Ok(Box::new((0..n).step_by(block).map(move |start| {
            let count = block.min(n - start);
            m.read_major(&object, start, count).map(|genes| ColumnBlock { start, genes })
        })))
    }

    fn error(&self, object: &str, message: String) -> DataError {
        view_error(object, message)
    }

    fn validate(&self) -> Result<()> {
        AnnDataView::validate(self)
    }
}
