//! Stage A baselines.

use cellcast_stats::Matrix;

use crate::{column_means, Features, Fitted, ModelError, Predictor};

/// Predicts every compound as the per-target training mean.
#[derive(Debug, Clone, Copy, Default)]
pub struct MeanResponse;

struct FittedMean(Vec<f64>);

impl Predictor for MeanResponse {
    fn name(&self) -> String {
        "mean".into()
    }

    fn notes(&self) -> Vec<String> {
        vec!["- `mean`: the per-target training mean (for binary pairs: how often the target is active among the training compounds measured on it).".into()]
    }

    fn fit(&self, _features: &Features, rows: &[usize], y: &Matrix) -> Result<Box<dyn Fitted>, ModelError> {
        if rows.is_empty() {
            return Err(ModelError::NoRows);
        }
        Ok(Box::new(FittedMean(column_means(y))))
    }
}

impl Fitted for FittedMean {
    fn predict(&self, _features: &Features, rows: &[usize]) -> Matrix {
        let mut out = Matrix::filled(rows.len(), self.0.len(), 0.0);
        for i in 0..rows.len() {
            out.row_mut(i).copy_from_slice(&self.0);
        }
        out
    }
}

/// Predicts every compound as the task's control (basal) profile: "the compound does nothing".
/// For z-scores or log-fold-changes that is the zero profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlProfile(pub Vec<f64>);

impl Predictor for ControlProfile {
    fn name(&self) -> String {
        "control".into()
    }

    fn notes(&self) -> Vec<String> {
        vec!["- `control`: the task's control profile (task.toml `control`), i.e. \"the compound does nothing\".".into()]
    }

    fn fit(&self, _features: &Features, _rows: &[usize], y: &Matrix) -> Result<Box<dyn Fitted>, ModelError> {
        if self.0.len() != y.ncols() {
            return Err(ModelError::Parameter(format!(
                "the control profile has {} values for {} targets",
                self.0.len(),
                y.ncols()
            )));
        }
        Ok(Box::new(FittedMean(self.0.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baselines_ignore_the_compound() {
        let f = Features::empty(3);
        let y = Matrix::from_rows(&[[1.0, f64::NAN], [3.0, 4.0]]).unwrap();
        let mean = MeanResponse.fit(&f, &[0, 1], &y).unwrap().predict(&f, &[2]);
        assert_eq!(mean.row(0), &[2.0, 4.0]);
        let control = ControlProfile(vec![0.5, -1.0]).fit(&f, &[0, 1], &y).unwrap().predict(&f, &[2, 0]);
        assert_eq!(control.row(1), &[0.5, -1.0]);
        assert!(ControlProfile(vec![0.0]).fit(&f, &[0, 1], &y).is_err());
    }
}
