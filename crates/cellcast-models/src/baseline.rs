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
