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
            let (k, v) = pair
                .as_ref()
                .split_once('=')
                .ok_or_else(|| MetricError::ParamSyntax(pair.as_ref().to_string()))?;
            values.insert(k.trim().to_string(), v.trim().to_string());
        }
        Ok(Self { values })
    }

    /// Builds from key/value pairs (for library callers).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Self { values: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
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

    /// A finite float parameter, or `default` when absent.
    pub(crate) fn get_f64(&self, metric: &str, key: &str, default: f64) -> Result<f64> {
        match self.values.get(key) {
            None => Ok(default),
            Some(v) => v.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| MetricError::BadParam {
                metric: metric.to_string(),
                key: key.to_string(),
                value: v.clone(),
                expected: "a finite number".to_string(),
            }),
        }
    }

    /// A positive integer parameter, required.
    pub(crate) fn get_positive(&self, metric: &str, key: &str) -> Result<usize> {
        let v = self.values.get(key).ok_or_else(|| MetricError::MissingInput {
            metric: metric.to_string(),
            what: format!("--param {key}=N (a positive whole number)"),
        })?;
        v.parse::<usize>().ok().filter(|k| *k > 0).ok_or_else(|| MetricError::BadParam {
            metric: metric.to_string(),
            key: key.to_string(),
            value: v.clone(),
            expected: "a positive whole number".to_string(),
        })
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
        assert_eq!(p.get_positive("m", "k").unwrap(), 5);
        assert_eq!(p.get_str("aggregation"), Some("median"));
        assert!(p.check_keys("m", &["k"]).is_err());
        assert!(p.check_keys("m", &["k", "aggregation"]).is_ok());
        assert_eq!(Params::parse(&["oops"]).unwrap_err(), MetricError::ParamSyntax("oops".into()));
        let bad = Params::parse(&["k=0"]).unwrap();
        assert!(matches!(bad.get_positive("m", "k"), Err(MetricError::BadParam { .. })));
        let f = Params::parse(&["eps=abc"]).unwrap();
        assert!(f.get_f64("m", "eps", 1.0).is_err());
        assert_eq!(Params::default().get_f64("m", "eps", 1.0).unwrap(), 1.0);
    }
}
