//! AnnData `.h5ad` files, read with the pure-Rust `hdf5-pure` (no libhdf5), streaming.
//!
//! [`H5ad::open`] reads what is small — the shape, the cell and gene names, the list of obs /
//! var columns — and leaves the rest on disk. Columns ([`H5ad::obs_column`]), `obsm` matrices
//! and `uns` scalars are read when asked for; the expression matrix (`X` or a layer) is read a
//! block of cells at a time with [`H5ad::row_blocks`], which reads only the slices of
//! `indptr`, `indices` and `data` the block needs.
//!
//! ```no_run
//! use cellcast_data::h5ad::H5ad;
//! # fn main() -> Result<(), cellcast_data::DataError> {
//! let h5 = H5ad::open(std::path::Path::new("cells.h5ad"))?;
//! println!("{} cells × {} genes, X is {:?}", h5.n_obs(), h5.n_vars(), h5.matrix_info(None)?.encoding);
//! let condition = h5.obs_column("condition")?;
//! let mut total = 0.0;
//! for block in h5.row_blocks(None, 10_000)? {
//!     let block = block?; // cells block.start .. block.start + block.rows.n_rows()
//!     total += block.rows.data().iter().sum::<f64>();
//! }
//! # let _ = (condition, total);
//! # Ok(())
//! # }
//! ```
//!
//! # Encodings read
//!
//! Following anndata's on-disk specification (the `encoding-type` / `encoding-version`
//! attributes anndata ≥ 0.8 writes):
//!
//! | element | encodings |
//! |---|---|
//! | `X`, `layers/*` | `csr_matrix`, `csc_matrix`, `array` (dense 2-D); values of any integer, float or bool type |
//! | `obs`, `var` | `dataframe` 0.2.0 (`_index`, `column-order`) and 0.1.0 (anndata 0.7: categories in `__categories`) |
//! | columns | `array` (numbers, bools), `string-array`, `categorical` (codes + categories, `ordered`; numeric categories too), `nullable-integer`, `nullable-boolean`, `nullable-string-array` |
//! | `obsm/*` | `array` (1-D or 2-D), `csr_matrix` / `csc_matrix` (densified) |
//! | `uns` | `dict` groups walked by path; `numeric-scalar`, `string`, and 0-D or one-element datasets |
//!
//! Files written by anndata < 0.7 are read too: no encoding attributes, `X` a group with
//! `h5sparse_format`, `obs` / `var` / `obsm` as record (compound) datasets whose first field is
//! the index, and categorical columns' categories in `uns/<column>_categories`, applied as
//! anndata's reader applies them.
//!
//! Anything else — `awkward-array`, `dataframe` elements inside `obsm`, `rec-array`,
//! zarr stores — is refused with [`DataError::H5adEncoding`] naming the element, its encoding and
//! what is read instead. `raw` and `obsp` / `varp` are not read.
//!
//! # Memory
//!
//! The file is opened with `hdf5-pure`'s streaming backend: metadata and chunks are fetched
//! from disk when needed (8 MiB metadata cache), never the whole file. `hdf5-pure` reads a
//! *row window* of a chunked, gzip-compressed 1-D dataset by decompressing only the chunks the
//! window overlaps (`Dataset::read_f64_rows`), keeping the last few in a 1 MiB chunk cache per
//! dataset. So a CSR block costs its own values plus at most a chunk on each side:
//!
//! - CSR: `indptr` for the block's rows, then `indices` and `data` for the values between its
//!   first and last pointer — about 24 bytes per stored value while a block is decoded (the raw
//!   bytes, the widened `i64` / `f64`, the final `u32` / `f64`), 12 once it is a
//!   [`CsrMatrix`].
//! - Dense: the block's rows, `block_rows × n_vars` values (2-D chunks overlapping them are
//!   decompressed whole).
//! - CSC: a row block needs every column, so [`H5ad::row_blocks`] on a CSC matrix reads the
//!   whole matrix once (O(stored values)), converts it to CSR and slices it. To stay bounded,
//!   read CSC by columns with [`H5ad::column_blocks`] (what [`crate::pseudobulk`] does).
//!
//! Names and columns are O(cells + genes). Before `hdf5-pure` reads a dataset, its declared
//! size is checked against the file size, so a corrupt header becomes an error rather than a
//! huge allocation; any panic inside `hdf5-pure` is caught and reported as an error.
//!
//! # Values
//!
//! Blocks are always `CsrMatrix<f64>`: float32 and integer values are widened exactly, so a
//! block holds the stored numbers. Rows come out canonical: column indices increasing, duplicate
//! entries summed (scipy's `sum_duplicates`). Explicitly stored zeros are kept in sparse blocks;
//! a dense block holds only the non-zero cells.

mod frame;
mod hdf;
pub(crate) mod matrix;
mod write;

use std::path::Path;

use cellcast_stats::sparse::CsrMatrix;
use cellcast_stats::Matrix;

pub use frame::{AnnColumn, Categorical, Grouping};
pub use matrix::{MatrixEncoding, MatrixInfo, ValueType};
pub use write::{write_h5ad, CategoricalColumn, NewAnnData};

use crate::error::{DataError, Result};
use hdf::{Ctx, Node, Numbers};
use matrix::Source;

/// Bytes of parsed metadata kept between reads (group walks, object headers, chunk indexes).
const METADATA_CACHE_BYTES: usize = 8 << 20;

/// An AnnData file opened for reading (see the [module documentation](self)).
pub struct H5ad {
    ctx: Ctx,
    file: hdf5_pure::File,
    obs: frame::Frame,
    var: frame::Frame,
    layout: Layout,
}

/// Which generation of the on-disk format the file follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Encoding attributes everywhere (anndata ≥ 0.7; `dataframe` 0.2.0 from 0.8 on).
    Current,
    /// anndata < 0.7: record arrays for obs / var / obsm, categories in uns.
    Legacy,
}

impl std::fmt::Debug for H5ad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H5ad")
            .field("path", &self.ctx.path)
            .field("n_obs", &self.n_obs())
            .field("n_vars", &self.n_vars())
            .field("layout", &self.layout)
            .finish()
    }
}

/// A value of `uns`.
#[derive(Debug, Clone, PartialEq)]
pub enum UnsValue {
    Integer(i64),
    Number(f64),
    Bool(bool),
    Text(String),
}

/// A block of consecutive cells: cells `start .. start + rows.n_rows()`, all genes.
#[derive(Debug, Clone, PartialEq)]
pub struct RowBlock {
    pub start: usize,
    pub rows: CsrMatrix<f64>,
}

/// A block of consecutive genes of a CSC matrix, transposed: row `k` of `genes` is gene
/// `start + k`, its columns are the cells.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnBlock {
    pub start: usize,
    pub genes: CsrMatrix<f64>,
}

impl H5ad {
    /// Opens an `.h5ad` file: reads the obs and var names and column lists and checks that `X`
    /// (when present) has the shape they give.
    pub fn open(path: &Path) -> Result<H5ad> {
        let file_len = hdf::file_len(path)?;
        let ctx = Ctx { path: path.to_path_buf(), file_len };
        let outer = ctx.clone();
        hdf::guarded(&outer, "", move || {
            match hdf5_pure::is_hdf5(path) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(ctx.err("", "not an HDF5 file (an .h5ad file is HDF5; zarr stores are not read)"))
                }
                Err(source) => return Err(DataError::Io { path: path.to_path_buf(), error: source }),
            }
            let access = hdf5_pure::FileAccessProperties::new()
                .with_metadata_cache(hdf5_pure::MetadataCacheConfig::new(METADATA_CACHE_BYTES));
            let source =
                hdf::PositionedFile::open(path).map_err(|error| DataError::Io { path: path.to_path_buf(), error })?;
            let file = hdf5_pure::File::from_source_with_options(source, access).map_err(|e| ctx.hdf("", e))?;
            let root = file.root().attrs().map_err(|e| ctx.hdf("", e))?;
            let enc = hdf::encoding(&root);
            if !enc.kind.is_empty() && enc.kind != "anndata" {
                return Err(ctx.encoding_err("", &enc, "; the root of an .h5ad file is 'anndata'"));
            }
            let mut obs = frame::open_frame(&ctx, &file, "obs")?;
            let mut var = frame::open_frame(&ctx, &file, "var")?;
            let legacy = matches!(obs.store, frame::FrameStore::Records { .. })
                || matches!(var.store, frame::FrameStore::Records { .. });
            if legacy {
                frame::apply_legacy_categories(&ctx, &file, &mut [&mut obs, &mut var])?;
            }
            let h5 = H5ad { ctx, file, obs, var, layout: if legacy { Layout::Legacy } else { Layout::Current } };
            if h5.has_x()? {
                h5.opened(None)?;
            }
            Ok(h5)
        })
    }

    pub fn path(&self) -> &Path {
        &self.ctx.path
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Number of cells (rows of `X`, rows of `obs`).
    pub fn n_obs(&self) -> usize {
        self.obs.names.len()
    }

    /// Number of genes (columns of `X`, rows of `var`).
    pub fn n_vars(&self) -> usize {
        self.var.names.len()
    }

    /// (cells, genes).
    pub fn shape(&self) -> (usize, usize) {
        (self.n_obs(), self.n_vars())
    }

    /// The cell names (`obs_names`).
    pub fn obs_names(&self) -> &[String] {
        &self.obs.names
    }

    /// The gene names (`var_names`).
    pub fn var_names(&self) -> &[String] {
        &self.var.names
    }

    /// The obs columns in `column-order` (the index is not a column).
    pub fn obs_columns(&self) -> &[String] {
        &self.obs.columns
    }

    /// The var columns in `column-order`.
    pub fn var_columns(&self) -> &[String] {
        &self.var.columns
    }

    /// An obs column, one value per cell.
    pub fn obs_column(&self, name: &str) -> Result<AnnColumn> {
        hdf::guarded(&self.ctx, "obs", || frame::frame_column(&self.ctx, &self.file, &self.obs, "obs", name))
    }

    /// A var column, one value per gene.
    pub fn var_column(&self, name: &str) -> Result<AnnColumn> {
        hdf::guarded(&self.ctx, "var", || frame::frame_column(&self.ctx, &self.file, &self.var, "var", name))
    }

    fn has_x(&self) -> Result<bool> {
        Ok(hdf::node(&self.ctx, &self.file, "X")?.is_some())
    }

    fn matrix_object(&self, layer: Option<&str>) -> Result<String> {
        match layer {
            None => Ok("X".to_string()),
            Some(name) => {
                let layers = self.layers()?;
                if layers.iter().any(|l| l == name) {
                    Ok(format!("layers/{name}"))
                } else {
                    Err(self.ctx.err(
                        "layers",
                        format!(
                            "no layer '{name}' (layers: {})",
                            if layers.is_empty() { "none".to_string() } else { crate::table::preview(&layers, 20) }
                        ),
                    ))
                }
            }
        }
    }

    fn opened(&self, layer: Option<&str>) -> Result<matrix::Opened> {
        let object = self.matrix_object(layer)?;
        matrix::open_matrix(&self.ctx, &self.file, &object, self.shape())
    }

    /// How `X` (`layer = None`) or a layer is stored.
    pub fn matrix_info(&self, layer: Option<&str>) -> Result<MatrixInfo> {
        hdf::guarded(&self.ctx, "X", || Ok(self.opened(layer)?.info))
    }

    /// The layer names, sorted.
    pub fn layers(&self) -> Result<Vec<String>> {
        hdf::guarded(&self.ctx, "layers", || self.members("layers"))
    }

    /// Names in a group (datasets and groups), sorted; none when the group is absent.
    fn members(&self, group: &str) -> Result<Vec<String>> {
        match hdf::node(&self.ctx, &self.file, group)? {
            Some(Node::Group(g)) => {
                let mut names = g.datasets().map_err(|e| self.ctx.hdf(group, e))?;
                names.extend(g.groups().map_err(|e| self.ctx.hdf(group, e))?);
                names.sort();
                Ok(names)
            }
            _ => Ok(Vec::new()),
        }
    }

    /// The obsm names, sorted.
    pub fn obsm_names(&self) -> Result<Vec<String>> {
        hdf::guarded(&self.ctx, "obsm", || match hdf::node(&self.ctx, &self.file, "obsm")? {
            Some(Node::Dataset(ds)) => {
                let mut names: Vec<String> =
                    matrix::obsm_records(&self.ctx, &ds, self.n_obs())?.into_iter().map(|(n, _)| n).collect();
                names.sort();
                Ok(names)
            }
            _ => self.members("obsm"),
        })
    }

    /// An obsm matrix (cells × k) as dense f64; a 1-D array is one column.
    pub fn obsm(&self, name: &str) -> Result<Matrix> {
        hdf::guarded(&self.ctx, "obsm", || match hdf::node(&self.ctx, &self.file, "obsm")? {
            Some(Node::Dataset(ds)) => matrix::obsm_records(&self.ctx, &ds, self.n_obs())?
                .into_iter()
                .find(|(n, _)| n == name)
                .map(|(_, m)| m)
                .ok_or_else(|| self.ctx.err("obsm", format!("no field '{name}'"))),
            _ => {
                let names = self.members("obsm")?;
                if !names.iter().any(|n| n == name) {
                    return Err(self.ctx.err(
                        "obsm",
                        format!(
                            "no element '{name}' (obsm holds: {})",
                            if names.is_empty() { "nothing".to_string() } else { crate::table::preview(&names, 20) }
                        ),
                    ));
                }
                matrix::read_obsm(&self.ctx, &self.file, &format!("obsm/{name}"), self.n_obs())
            }
        })
    }

    /// A scalar of `uns` by its path below `uns` (`"seed"`, `"neighbors/params/n_neighbors"`):
    /// a 0-D dataset, or a one-element 1-D dataset (anndata < 0.7 wrote scalars that way).
    pub fn uns_scalar(&self, path: &str) -> Result<UnsValue> {
        let object = format!("uns/{}", path.trim_matches('/'));
        hdf::guarded(&self.ctx, &object, || {
            let ctx = &self.ctx;
            let ds = match hdf::node(ctx, &self.file, &object)? {
                Some(Node::Dataset(ds)) => ds,
                Some(Node::Group(_)) => return Err(ctx.err(&object, "is a group, not a scalar")),
                None => return Err(ctx.err(&object, "missing")),
            };
            let attrs = hdf::dataset_attrs(ctx, &ds, &object)?;
            let enc = hdf::encoding(&attrs);
            if !matches!(enc.kind.as_str(), "" | "numeric-scalar" | "string" | "array" | "string-array" | "bytes") {
                return Err(ctx.encoding_err(&object, &enc, "; uns scalars are 'numeric-scalar' or 'string'"));
            }
            let n = hdf::len_1d(ctx, &ds, &object)?;
            if n != 1 {
                return Err(ctx.err(&object, format!("holds {n} values, not one")));
            }
            let dtype = hdf::dtype(ctx, &ds, &object)?;
            if hdf::is_text(&dtype) {
                let mut v = hdf::read_texts(ctx, &ds, &object, Some(1))?;
                return Ok(UnsValue::Text(v.pop().unwrap_or_default()));
            }
            Ok(match hdf::read_numbers(ctx, &ds, &object, Some(1))? {
                Numbers::Float(v) => UnsValue::Number(v[0]),
                Numbers::Int(v) => UnsValue::Integer(v[0]),
                Numbers::Bool(v) => UnsValue::Bool(v[0]),
            })
        })
    }

    /// Reads `X` (or a layer) `block_rows` cells at a time, in order (see the module
    /// documentation for the memory each block costs). A CSC matrix is read whole first.
    pub fn row_blocks(&self, layer: Option<&str>, block_rows: usize) -> Result<RowBlocks<'_>> {
        hdf::guarded(&self.ctx, "X", || {
            let opened = self.opened(layer)?;
            let block = block_rows.max(1);
            let state = match opened.source {
                Source::Sparse(s) if s.csr => RowState::Csr(s),
                Source::Sparse(s) => {
                    let genes = s.read_major(&self.ctx, 0, s.major)?;
                    let cells = matrix::transpose(&genes)
                        .map_err(|e| self.ctx.err(&opened.info.object, format!("transposing the CSC matrix: {e}")))?;
                    RowState::Memory(cells)
                }
                Source::Dense { ds, object } => RowState::Dense { ds, object },
            };
            Ok(RowBlocks { h5: self, state, info: opened.info, next: 0, block })
        })
    }

    /// Reads a CSC `X` (or layer) `block_cols` genes at a time, each block transposed (genes ×
    /// cells). Memory is bounded by the block. CSR and dense matrices are refused: read them by
    /// rows.
    pub fn column_blocks(&self, layer: Option<&str>, block_cols: usize) -> Result<ColumnBlocks<'_>> {
        hdf::guarded(&self.ctx, "X", || {
            let opened = self.opened(layer)?;
            match opened.source {
                Source::Sparse(s) if !s.csr => {
                    Ok(ColumnBlocks { h5: self, sparse: s, info: opened.info, next: 0, block: block_cols.max(1) })
                }
                _ => Err(self.ctx.err(
                    &opened.info.object,
                    format!(
                        "is stored {}; column blocks stream CSC matrices only (read it by rows)",
                        opened.info.encoding
                    ),
                )),
            }
        })
    }
}

enum RowState {
    Csr(Box<matrix::Sparse>),
    Dense { ds: hdf5_pure::Dataset, object: String },
    Memory(CsrMatrix<f64>),
}

/// The iterator of [`H5ad::row_blocks`]. After an error it ends.
pub struct RowBlocks<'a> {
    h5: &'a H5ad,
    state: RowState,
    info: MatrixInfo,
    next: usize,
    block: usize,
}

impl std::fmt::Debug for RowBlocks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowBlocks")
            .field("info", &self.info)
            .field("next", &self.next)
            .field("block", &self.block)
            .finish()
    }
}

impl std::fmt::Debug for ColumnBlocks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ColumnBlocks")
            .field("info", &self.info)
            .field("next", &self.next)
            .field("block", &self.block)
            .finish()
    }
}

impl RowBlocks<'_> {
    /// The matrix being read.
    pub fn info(&self) -> &MatrixInfo {
        &self.info
    }

    /// Cells per block (the last block may be shorter).
    pub fn block_rows(&self) -> usize {
        self.block
    }
}

impl Iterator for RowBlocks<'_> {
    type Item = Result<RowBlock>;

    fn next(&mut self) -> Option<Self::Item> {
        let n = self.h5.n_obs();
        if self.next >= n {
            return None;
        }
        let start = self.next;
        let count = self.block.min(n - start);
        let ctx = &self.h5.ctx;
        let result = hdf::guarded(ctx, &self.info.object, || match &self.state {
            RowState::Csr(s) => s.read_major(ctx, start, count),
            RowState::Dense { ds, object } => {
                let width = self.h5.n_vars();
                let values = matrix::read_dense_rows(ctx, ds, object, start, count, width)?;
                matrix::dense_to_csr(count, width, &values).map_err(|e| ctx.err(object, e.to_string()))
            }
            RowState::Memory(m) => {
                matrix::slice_rows(m, start, start + count).map_err(|e| ctx.err(&self.info.object, e.to_string()))
            }
        });
        self.next = if result.is_ok() { start + count } else { n };
        Some(result.map(|rows| RowBlock { start, rows }))
    }
}

/// The iterator of [`H5ad::column_blocks`]. After an error it ends.
pub struct ColumnBlocks<'a> {
    h5: &'a H5ad,
    sparse: Box<matrix::Sparse>,
    info: MatrixInfo,
    next: usize,
    block: usize,
}

impl ColumnBlocks<'_> {
    pub fn info(&self) -> &MatrixInfo {
        &self.info
    }
}

impl Iterator for ColumnBlocks<'_> {
    type Item = Result<ColumnBlock>;

    fn next(&mut self) -> Option<Self::Item> {
        let n = self.sparse.major;
        if self.next >= n {
            return None;
        }
        let start = self.next;
        let count = self.block.min(n - start);
        let ctx = &self.h5.ctx;
        let result = hdf::guarded(ctx, &self.info.object, || self.sparse.read_major(ctx, start, count));
        self.next = if result.is_ok() { start + count } else { n };
        Some(result.map(|genes| ColumnBlock { start, genes }))
    }
}
