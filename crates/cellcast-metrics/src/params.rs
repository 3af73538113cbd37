//! `--param KEY=VALUE` parsing and checking.

use std::collections::BTreeMap;

use crate::error::{MetricError, Result};

/// Metric parameters as given on the command line, checked against what the metric accepts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    /// Parses `KEY=VALUE` strings; a key given twice keeps the last value.
    pub fn parse<S: AsRef<str>>(pairs: &[S]) -> Result<Self> {
        let mut values = BTreeMap::new();
        for pair in pairs {
            let (k, v) =
                pair.as_ref().split_once('=').ok_or_else(|| MetricError::ParamSyntax(pair.as_ref().to_string()))?;
            values.insert(k.trim().to_string(), v.trim().to_string());
        }
        Ok(Self { values })
    }

    /// Builds from key/value pairs (for library callers).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Self { values: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    /// Sets `key` from a command-line flag (`--k 5` for `k=5`); a `--param` that gave the same
    /// key another value is a conflict, not silently overridden.
    pub fn set_from_flag(&mut self, flag: &str, key: &str, value: &str) -> Result<()> {
        match self.values.get(key) {
            Some(given) if given != value => Err(MetricError::ConflictingParam {
                key: key.to_string(),
                flag: format!("{flag} {value}"),
                param: format!("--param {key}={given}"),
            }),
            _ => {
                self.values.insert(key.to_string(), value.to_string());
                Ok(())
            }
        }
    }

    /// Fails on any key not in `allowed`.
    pub(crate) fn check_keys(&self, metric: &str, allowed: &[&str]) -> Result<()> {
        match self.values.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(key) => Err(MetricError::UnknownParam {
                metric: metric.to_string(),
                key: key.clone(),
                allowed: if allowed.is_empty() { "no parameters".to_string() } else { allowed.join(", ") },
            }),
            None => Ok(()),
        }
    }

    pub(crate) fn get_str(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// A float parameter, or `default` when absent (values were checked by
    /// `MetricInfo::check_params` before any metric reads them).
    pub(crate) fn get_f64(&self, key: &str, default: f64) -> f64 {
        self.get_str(key).and_then(|v| v.parse().ok()).unwrap_or(default)
    }

    /// A whole-number parameter, if given.
    pub(crate) fn get_usize(&self, key: &str) -> Option<usize> {
        self.get_str(key).and_then(|v| v.parse().ok())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks() {
        let p = Params::parse(&["k=5", "aggregation = median"]).unwrap();
        assert_eq!(p.get_usize("k"), Some(5));
        assert_eq!(p.get_str("aggregation"), Some("median"));
        assert!(p.check_keys("m", &["k"]).is_err());
        assert!(p.check_keys("m", &["k", "aggregation"]).is_ok());
        assert_eq!(Params::parse(&["oops"]).unwrap_err(), MetricError::ParamSyntax("oops".into()));
        assert_eq!(Params::default().get_f64("eps", 1.0), 1.0);
        assert_eq!(Params::parse(&["eps=0.5"]).unwrap().get_f64("eps", 1.0), 0.5);
        let mut p = Params::parse(&["k=5"]).unwrap();
        assert!(p.set_from_flag("--k", "k", "5").is_ok());
        assert!(matches!(p.set_from_flag("--k", "k", "3"), Err(MetricError::ConflictingParam { .. })));
        assert!(p.set_from_flag("--control", "control", "NT").is_ok());
        assert_eq!(p.get_str("control"), Some("NT"));
    }
}
