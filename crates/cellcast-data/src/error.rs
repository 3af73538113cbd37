use std::path::PathBuf;

/// Everything that can go wrong reading, aligning or writing a table. Every variant names the
/// file, and where it applies the row and column, so a user can go straight to the bad cell.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The OS error is part of the message and deliberately not a `source()`, so that a printed
    /// error chain does not repeat it.
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{path}: not a valid CSV file near line {line}: {message}")]
    Csv { path: PathBuf, line: u64, message: String },
    #[error("{path}: cannot read it as Parquet: {message}")]
    Parquet { path: PathBuf, message: String },
    /// An output path cellcast cannot write as asked.
    #[error("{path}: {message}")]
    Output { path: PathBuf, message: String },
    #[error("{path}: unsupported file type; give a .csv, .tsv or .parquet file (any of them may be gzip-compressed, NAME.csv.gz), or - for standard input")]
    UnknownFormat { path: PathBuf },
    #[error("{path}: the file is empty (no header row); give a table with a header line")]
    Empty { path: PathBuf },
    #[error("{path}: no column '{column}' (columns are: {available}){hint}")]
    MissingColumn { path: PathBuf, column: String, available: String, hint: String },
    #[error("{path}: column '{column}' appears more than once in the header")]
    DuplicateColumn { path: PathBuf, column: String },
    #[error("{path}: id '{id}' appears more than once (rows {first} and {second}); ids must be unique")]
    DuplicateId { path: PathBuf, id: String, first: usize, second: usize },
    #[error("{path}: row {row} has an empty id in column '{column}'")]
    EmptyId { path: PathBuf, row: usize, column: String },
    #[error("{path}: row {row} (id '{id}'), column '{column}': '{value}' is not a number")]
    NotNumeric { path: PathBuf, row: usize, id: String, column: String, value: String },
    #[error("{path}: row {row} (id '{id}'), column '{column}': {what}; {hint}")]
    BadValue { path: PathBuf, row: usize, id: String, column: String, what: String, hint: String },
    #[error("{path}: column '{column}' has type {data_type}, which cellcast cannot read as {wanted}")]
    UnsupportedType { path: PathBuf, column: String, data_type: String, wanted: &'static str },
    #[error("{path}: {message}")]
    Mismatch { path: PathBuf, message: String },
    /// A problem in a GCT text file. `line` is 1-based; `column` is the 1-based tab-separated
    /// field of that line, when one field is to blame.
    #[error("{path}: line {line}{}: {message}", column_suffix(*.column))]
    Gct { path: PathBuf, line: u64, column: Option<usize>, message: String },
    /// A GCTX (HDF5) file that is corrupt, lacks the GCTX layout, or uses an encoding cellcast
    /// does not read.
    #[error("{path}: cannot read it as GCTX (HDF5): {message}")]
    Gctx { path: PathBuf, message: String },
    #[error("{path}: unsupported file type; give a .gct, .gct.gz or .gctx file")]
    UnknownMatrixFormat { path: PathBuf },
    /// An AnnData (`.h5ad`) file that is corrupt or inconsistent. `object` is the path inside
    /// the file (`X/indptr`, `obs/cell_type/codes`), or `/` for the file as a whole.
    #[error("{path}: {object}: {message}")]
    H5ad { path: PathBuf, object: String, message: String },
    /// An AnnData in memory ([`crate::anndata::AnnDataView`]) that is inconsistent. `object` is
    /// the element (`X/indptr`, `obs/condition`, `layers/counts`).
    #[error("AnnData (in memory): {object}: {message}")]
    AnnData { object: String, message: String },
    /// An AnnData element stored in an encoding cellcast does not read.
    #[error("{path}: {object} has encoding-type '{encoding}'{}, which cellcast cannot read{hint}", version_suffix(.version))]
    H5adEncoding { path: PathBuf, object: String, encoding: String, version: String, hint: String },
}

fn version_suffix(version: &str) -> String {
    if version.is_empty() {
        String::new()
    } else {
        format!(" (version {version})")
    }
}

fn column_suffix(column: Option<usize>) -> String {
    column.map(|c| format!(", column {c}")).unwrap_or_default()
}

pub type Result<T> = std::result::Result<T, DataError>;

/// `map_err(io(path))`: an I/O error about `path`.
pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
    move |error| DataError::Io { path: path.to_path_buf(), error }
}

/// Runs `f`, which calls the HDF5 parser on untrusted bytes (`hdf5-pure`: errors for the corrupt
/// files we tried, but a large parser); a panic inside becomes `Err` with its message, for the
/// caller to wrap in an error naming the file.
pub(crate) fn catch_parser_panic<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        format!("the HDF5 reader failed ({what}); the file is probably corrupt")
    })
}
