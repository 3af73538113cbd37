//! Averaging ensembles of other predictors.

use cellcast_stats::Matrix;

use crate::{Features, Fitted, ModelError, Predictor};

/// The equal-weight average of its members' predictions.
pub struct Average {
    pub members: Vec<Box<dyn Predictor>>,
}

struct FittedAverage(Vec<Box<dyn Fitted>>);

impl Predictor for Average {
    fn name(&self) -> String {
        let names: Vec<String> = self.members.iter().map(|m| m.name()).collect();
        format!("avg({})", names.join("+"))
    }

    fn fit(&self, features: &Features, rows: &[usize], y: &Matrix) -> Result<Box<dyn Fitted>, ModelError> {
        if self.members.is_empty() {
            return Err(ModelError::Parameter("an ensemble needs members".into()));
        }
        let fitted = self.members.iter().map(|m| m.fit(features, rows, y)).collect::<Result<Vec<_>, _>>()?;
        Ok(Box::new(FittedAverage(fitted)))
    }
}

impl Fitted for FittedAverage {
    fn predict(&self, features: &Features, rows: &[usize]) -> Matrix {
        let preds: Vec<Matrix> = self.0.iter().map(|f| f.predict(features, rows)).collect();
        let mut out = preds[0].clone();
        let k = preds.len() as f64;
        for i in 0..out.nrows() {
            for (j, cell) in out.row_mut(i).iter_mut().enumerate() {
                *cell = preds.iter().map(|p| p.get(i, j)).sum::<f64>() / k;
            }
        }
        out
    }

    fn describe(&self) -> Option<String> {
        let parts: Vec<String> = self.0.iter().filter_map(|f| f.describe()).collect();
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MeanResponse;

    #[test]
    fn averages_members() {
        let f = Features::empty(3);
        let y = Matrix::from_rows(&[[2.0], [4.0]]).unwrap();
        let e = Average { members: vec![Box::new(MeanResponse), Box::new(MeanResponse)] };
        assert_eq!(e.name(), "avg(mean+mean)");
        assert_eq!(e.fit(&f, &[0, 1], &y).unwrap().predict(&f, &[2]).get(0, 0), 3.0);
    }
}
