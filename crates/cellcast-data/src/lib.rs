//! Tables and matrices for cellcast.
//!
//! Every input cellcast scores is a *wide table*: one row per sample (compound, perturbation,
//! cell), an `id` column holding strings (even when they look like numbers), and one column per
//! target or gene. [`WideTable::read`] reads CSV, TSV or Parquet into ids + a [`Matrix`] of
//! numbers (missing cells are NaN) + any text columns asked for; [`align`] lines two tables up by
//! id and column name; [`write`] writes results atomically. [`GctMatrix::read`] reads the
//! Connectivity Map's GCT and GCTX (HDF5) matrices, genes × samples, and turns them into
//! samples × genes wide tables ([`gct`]). [`H5ad::open`] reads AnnData `.h5ad` files, streaming
//! the expression matrix a block of cells at a time ([`h5ad`]), and [`pseudobulk`] averages
//! (or sums) it per group of cells in one bounded-memory pass. [`AnnDataView`] is an AnnData in
//! memory (numpy arrays borrowed from Python); both are a [`CellSource`], read by the same code.

// Errors carry the file, row, column and offending text so a user can fix the input; they are
// built once on a cold path, so their size does not matter.
#![allow(clippy::result_large_err)]

pub mod align;
pub mod anndata;
pub mod cells;
pub mod counts;
mod csv_reader;
mod error;
pub mod frame;
pub mod gct;
pub mod h5ad;
pub mod input;
pub mod output;
mod parquet_reader;
pub mod pseudobulk;
pub mod split;
pub mod staging;
mod table;
pub mod task;
pub mod write;

pub use anndata::{AnnDataView, CellSource};
pub use cellcast_stats::Matrix;
pub use error::{DataError, Result};
pub use frame::{Frame, FrameColumn};
pub use gct::{GctMatrix, MetaColumn};
pub use h5ad::{AnnColumn, H5ad};
pub use table::{preview, NumericColumns, TextColumn, WideSpec, WideTable};
