//! The façade's one error type: what went wrong, in a sentence that names the file, row and
//! column and says how to fix it, plus a kind a front end maps to an exit code or an exception.

use std::fmt::Display;

/// What kind of failure an [`Error`] is; front ends map it to an exit code or exception class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The options or the input data were refused (a bad value, a missing column, a malformed
    /// file): the user can fix it.
    Input,
    /// The operating system refused a read or a write (missing file, permissions, full disk).
    Io,
    /// A computation that cannot give a right number on this input (a singular fit, a model
    /// that produced a non-finite prediction).
    Compute,
}

/// An error of a cellcast workflow. Its message is the whole chain, outermost first, joined by
/// `": "` (what cellcast was doing, then why it failed), as the CLI prints it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// Refused options or input.
    pub fn input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Input, message)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error, with what was being done in front: `"{context}: {message}"`.
    pub fn context(self, context: impl Display) -> Self {
        Self { kind: self.kind, message: format!("{context}: {}", self.message) }
    }
}

/// Renders an error with its whole `source()` chain, `": "`-joined (anyhow's `{:#}`).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

macro_rules! from_errors {
    ($($kind:ident: $ty:ty),* $(,)?) => {$(
        impl From<$ty> for Error {
            fn from(e: $ty) -> Self {
                Self::new(ErrorKind::$kind, chain(&e))
            }
        }
    )*};
}

from_errors!(
    Input: cellcast_data::split::SplitError,
    Input: cellcast_metrics::MetricError,
    Input: cellcast_chem::ChemError,
    Input: cellcast_phenomics::PhenomicsError,
    Compute: cellcast_models::ModelError,
    Compute: cellcast_models::pca::PcaError,
    Compute: cellcast_eval::EvalError,
    Compute: cellcast_stats::limma::LimmaError,
    Compute: cellcast_stats::de::DeError,
    Compute: cellcast_stats::sparse::InvalidCsr,
    Input: csv::Error,
);

/// A data error is the user's to fix, except when the operating system refused the file (missing,
/// unreadable, a full disk): that is an `Io` error (Python's `OSError`).
impl From<cellcast_data::DataError> for Error {
    fn from(e: cellcast_data::DataError) -> Self {
        let kind = match e {
            cellcast_data::DataError::Io { .. } => ErrorKind::Io,
            _ => ErrorKind::Input,
        };
        Self::new(kind, chain(&e))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Self::new(ErrorKind::Io, chain(&e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `.context(…)` and `.with_context(|| …)` on any result whose error converts into [`Error`].
pub trait Context<T> {
    fn context(self, context: impl Display) -> Result<T>;
    fn with_context<C: Display>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, context: impl Display) -> Result<T> {
        self.map_err(|e| e.into().context(context))
    }

    fn with_context<C: Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| e.into().context(context()))
    }
}

/// Returns early with an [`ErrorKind::Input`] error formatted like `format!`.
#[macro_export]
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::Error::input(format!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_prefixes_the_whole_chain() {
        let e = Error::input("no column 'x'").context("reading the truth").context("scoring");
        assert_eq!(e.to_string(), "scoring: reading the truth: no column 'x'");
        assert_eq!(e.kind(), ErrorKind::Input);
        let io: Result<()> = Err(std::io::Error::other("disk full")).context("writing out.csv");
        assert_eq!(io.unwrap_err().to_string(), "writing out.csv: disk full");
    }
}
