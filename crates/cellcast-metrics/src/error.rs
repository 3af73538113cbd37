/// What can make a score impossible. Messages say what to change.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MetricError {
    #[error("unknown metric '{name}'{suggestion}; `cellcast metrics` lists them all")]
    UnknownMetric { name: String, suggestion: String },
    #[error("{metric}: unknown parameter '{key}' (it takes: {allowed})")]
    UnknownParam { metric: String, key: String, allowed: String },
    #[error("{metric}: parameter {key}={value} is invalid: {expected}")]
    BadParam { metric: String, key: String, value: String, expected: String },
    #[error("{flag} and {param} disagree about {key}; give it once")]
    ConflictingParam { key: String, flag: String, param: String },
    #[error("parameter '{0}' is not KEY=VALUE")]
    ParamSyntax(String),
    #[error("{metric} needs {what}")]
    MissingInput { metric: String, what: String },
    /// A value the non-finite policy refuses (see `check`): names the input, the row id and the
    /// column.
    #[error("{}: the {} for id '{}', column '{}' is {}; {}", .0.metric, .0.input, .0.id, .0.column, .0.what, .0.hint)]
    NonFinite(Box<NonFiniteCell>),
    #[error("{metric}: {message}")]
    Invalid { metric: String, message: String },
}

/// The cell a [`MetricError::NonFinite`] is about (boxed: errors stay small on the hot path).
#[derive(Debug, Clone, PartialEq)]
pub struct NonFiniteCell {
    pub metric: String,
    /// `truth`, `prediction`, `weights` or `baseline`.
    pub input: &'static str,
    pub id: String,
    pub column: String,
    /// `missing`, or the value and why it cannot be scored.
    pub what: String,
    pub hint: String,
}

pub type Result<T> = std::result::Result<T, MetricError>;

pub(crate) fn invalid(metric: &str, message: impl Into<String>) -> MetricError {
    MetricError::Invalid { metric: metric.to_string(), message: message.into() }
}
