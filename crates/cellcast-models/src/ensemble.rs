//! Ensembles of other predictors: an equal-weight average, and a weighted average whose
//! weights are fit on inner folds.

use cellcast_stats::Matrix;

use crate::inner::{inner_folds, out_of_fold};
use crate::{Features, Fitted, ModelError, Predictor};

/// The equal-weight average of its members' predictions.
pub struct Average {
    pub members: Vec<Box<dyn Predictor>>,
}

/// Members' fitted models and their weights (summing to 1).
struct FittedAverage {
    members: Vec<Box<dyn Fitted>>,
    weights: Vec<f64>,
}

impl Predictor for Average {
    fn name(&self) -> String {
        let names: Vec<String> = self.members.iter().map(|m| m.name()).collect();
        format!("avg({})", names.join("+"))
    }

    fn notes(&self) -> Vec<String> {
        let own = "- `avg(…)`: equal-weight average of its members.".to_string();
        std::iter::once(own).chain(self.members.iter().flat_map(|m| m.notes())).collect()
    }

    fn fit(&self, features: &Features, rows: &[usize], y: &Matrix) -> Result<Box<dyn Fitted>, ModelError> {
        if self.members.is_empty() {
            return Err(ModelError::Parameter("an ensemble needs members".into()));
        }
        let members = self.members.iter().map(|m| m.fit(features, rows, y)).collect::<Result<Vec<_>, _>>()?;
        let weights = vec![1.0 / members.len() as f64; members.len()];
        Ok(Box::new(FittedAverage { members, weights }))
    }
}

impl Fitted for FittedAverage {
    fn predict(&self, features: &Features, rows: &[usize]) -> Matrix {
        let preds: Vec<Matrix> = self.members.iter().map(|f| f.predict(features, rows)).collect();
        blend(&preds, &self.weights)
    }

    fn describe(&self) -> Option<String> {
        let mut parts: Vec<String> = self.members.iter().filter_map(|f| f.describe()).collect();
        let w: Vec<String> = self.weights.iter().map(|w| format!("{w:.2}")).collect();
        parts.push(format!("weights {}", w.join("/")));
        Some(parts.join("; "))
    }
}

/// Σ w_m · pred_m.
fn blend(preds: &[Matrix], weights: &[f64]) -> Matrix {
    let mut out = Matrix::filled(preds[0].nrows(), preds[0].ncols(), 0.0);
    for (p, &w) in preds.iter().zip(weights) {
        for (o, v) in out.as_mut_slice().iter_mut().zip(p.as_slice()) {
            *o += w * v;
        }
    }
    out
}

/// A weighted average whose weights (non-negative, summing to 1, on a grid of step 1/20) minimise
/// the squared error of the members' out-of-fold predictions on inner folds of the training rows
/// (whole groups per fold when the features carry groups). Members are then refit on all rows.
pub struct Stacked {
    pub members: Vec<Box<dyn Predictor>>,
    pub inner_folds: usize,
    pub seed: u64,
}

/// Every weight vector of `m` non-negative multiples of 1/`steps` summing to 1.
fn simplex_grid(m: usize, steps: usize) -> Vec<Vec<f64>> {
    fn fill(m: usize, left: usize, steps: usize, prefix: &mut Vec<usize>, out: &mut Vec<Vec<f64>>) {
        if prefix.len() + 1 == m {
            prefix.push(left);
            out.push(prefix.iter().map(|&k| k as f64 / steps as f64).collect());
            prefix.pop();
            return;
        }
        for k in 0..=left {
            prefix.push(k);
            fill(m, left - k, steps, prefix, out);
            prefix.pop();
        }
    }
    let mut out = Vec::new();
    fill(m, steps, steps, &mut Vec::new(), &mut out);
    out
}

impl Predictor for Stacked {
    fn name(&self) -> String {
        let names: Vec<String> = self.members.iter().map(|m| m.name()).collect();
        format!("stack({})", names.join("+"))
    }

    fn notes(&self) -> Vec<String> {
        let own = format!(
            "- `stack(…)`: weighted average of its members with weights (step 0.05, summing to 1) fit on inner {}-fold CV of each training fold.",
            self.inner_folds
        );
        std::iter::once(own).chain(self.members.iter().flat_map(|m| m.notes())).collect()
    }

    fn fit(&self, features: &Features, rows: &[usize], y: &Matrix) -> Result<Box<dyn Fitted>, ModelError> {
        if !(1..=4).contains(&self.members.len()) {
            return Err(ModelError::Parameter("a stacked ensemble takes 1 to 4 members".into()));
        }
        let m = self.members.len();
        let weights = match inner_folds(features, rows, self.inner_folds, self.seed) {
            None => vec![1.0 / m as f64; m],
            Some((fold_of, folds)) => {
                let oof = self
                    .members
                    .iter()
                    .map(|p| out_of_fold(p.as_ref(), features, rows, y, &fold_of, folds))
                    .collect::<Result<Vec<_>, _>>()?;
                // The loss is quadratic in w: wᵀGw − 2bᵀw (+ const) over the observed labels.
                let (mut gram, mut b) = (vec![vec![0.0; m]; m], vec![0.0; m]);
                for (c, &t) in y.as_slice().iter().enumerate() {
                    if t.is_nan() {
                        continue;
                    }
                    for i in 0..m {
                        let pi = oof[i].as_slice()[c];
                        b[i] += pi * t;
                        for j in 0..m {
                            gram[i][j] += pi * oof[j].as_slice()[c];
                        }
                    }
                }
                let loss = |w: &[f64]| -> f64 {
                    let quad: f64 = (0..m).map(|i| (0..m).map(|j| w[i] * gram[i][j] * w[j]).sum::<f64>()).sum();
                    quad - 2.0 * (0..m).map(|i| w[i] * b[i]).sum::<f64>()
                };
                simplex_grid(m, 20)
                    .into_iter()
                    .fold((f64::INFINITY, Vec::new()), |best, w| {
                        let l = loss(&w);
                        if l < best.0 {
                            (l, w)
                        } else {
                            best
                        }
                    })
                    .1
            }
        };
        let members = self.members.iter().map(|p| p.fit(features, rows, y)).collect::<Result<Vec<_>, _>>()?;
        Ok(Box::new(FittedAverage { members, weights }))
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

    #[test]
    fn simplex_grid_sums_to_one() {
        let g = simplex_grid(3, 20);
        assert_eq!(g.len(), 231);
        assert!(g.iter().all(|w| (w.iter().sum::<f64>() - 1.0).abs() < 1e-12 && w.iter().all(|x| *x >= 0.0)));
    }

    #[test]
    fn stacking_puts_the_weight_on_the_member_that_generalises() {
        use crate::ControlProfile;
        // Labels scatter around 10: the mean predicts them well, a zero profile does not.
        let n = 30;
        let f = Features::empty(n + 1);
        let rows: Vec<usize> = (0..n).collect();
        let y = Matrix::from_rows(&(0..n).map(|i| [10.0 + (i % 3) as f64 - 1.0]).collect::<Vec<_>>()).unwrap();
        let s = Stacked {
            members: vec![Box::new(ControlProfile(vec![0.0])), Box::new(MeanResponse)],
            inner_folds: 3,
            seed: 1,
        };
        assert_eq!(s.name(), "stack(control+mean)");
        let fitted = s.fit(&f, &rows, &y).unwrap();
        assert_eq!(fitted.describe().unwrap(), "weights 0.00/1.00");
        assert!((fitted.predict(&f, &[n]).get(0, 0) - 10.0).abs() < 1e-12);
    }
}
