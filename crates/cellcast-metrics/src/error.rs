/// What can make a score impossible. Messages say what to change.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MetricError {
    #[error("unknown metric '{name}'{suggestion}; `cellcast metrics` lists them all")]
    UnknownMetric { name: String, suggestion: String },
    #[error("{metric}: unknown parameter '{key}' (it takes: {allowed})")]
    UnknownParam { metric: String, key: String, allowed: String },
    #[error("{metric}: parameter {key}={value} is invalid: {expected}")]
    BadParam { metric: String, key: String, value: String, expected: String },
    #[error("parameter '{0}' is not KEY=VALUE")]
    ParamSyntax(String),
    #[error("{metric} needs {what}")]
    MissingInput { metric: String, what: String },
    #[error("{metric}: {message}")]
    Invalid { metric: String, message: String },
}

pub type Result<T> = std::result::Result<T, MetricError>;

pub(crate) fn invalid(metric: &str, message: impl Into<String>) -> MetricError {
    MetricError::Invalid { metric: metric.to_string(), message: message.into() }
}
