use cellcast_data::DataError;

/// What can stop an evaluation. Every message names the file (and row or column) at fault and
/// says how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum CellEvalError {
    /// Boxed: a data error is large, and every `Result` here would carry its size.
    #[error(transparent)]
    Data(Box<DataError>),
    /// Inputs that cannot be evaluated as given.
    #[error("{0}")]
    Input(String),
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
}

pub type Result<T, E = CellEvalError> = std::result::Result<T, E>;

pub(crate) fn input(message: impl Into<String>) -> CellEvalError {
    CellEvalError::Input(message.into())
}

impl From<DataError> for CellEvalError {
    fn from(e: DataError) -> Self {
        CellEvalError::Data(Box::new(e))
    }
}
