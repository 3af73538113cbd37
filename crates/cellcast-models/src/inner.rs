//! Inner cross-validation inside a training set: how tuned models and fitted ensembles choose
//! without looking at the outer test fold.

use cellcast_stats::Matrix;

use crate::{Features, ModelError, Predictor};

/// Inner folds (0..k) of the given training rows: whole groups per fold (scikit-learn's
/// `GroupKFold`) when the features carry groups, otherwise a seeded random assignment. `k` is
/// lowered to the number of groups (or rows) available; fewer than 2 folds gives `None`.
pub(crate) fn inner_folds(features: &Features, rows: &[usize], k: usize, seed: u64) -> Option<(Vec<usize>, usize)> {
    if let Some(groups) = &features.groups {
        let g: Vec<String> = rows.iter().map(|&r| groups[r].clone()).collect();
        let mut distinct: Vec<&String> = g.iter().collect();
        distinct.sort_unstable();
        distinct.dedup();
        let k = k.min(distinct.len());
        return (k >= 2).then(|| (cellcast_stats::folds::group_kfold(&g, k).expect("k ≤ groups"), k));
    }
    let k = k.min(rows.len());
    if k < 2 {
        return None;
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    cellcast_stats::rng::SplitMix64::new(seed).shuffle(&mut order);
    let mut fold_of = vec![0; rows.len()];
    for (pos, &i) in order.iter().enumerate() {
        fold_of[i] = pos % k;
    }
    Some((fold_of, k))
}

/// Out-of-fold predictions of `model` over `rows` (one row per entry of `rows`).
pub(crate) fn out_of_fold(
    model: &dyn Predictor,
    features: &Features,
    rows: &[usize],
    y: &Matrix,
    fold_of: &[usize],
    folds: usize,
) -> Result<Matrix, ModelError> {
    let mut oof = Matrix::filled(y.nrows(), y.ncols(), 0.0);
    for f in 0..folds {
        let inner_train: Vec<usize> = (0..rows.len()).filter(|&i| fold_of[i] != f).collect();
        let inner_test: Vec<usize> = (0..rows.len()).filter(|&i| fold_of[i] == f).collect();
        let train_rows: Vec<usize> = inner_train.iter().map(|&i| rows[i]).collect();
        let test_rows: Vec<usize> = inner_test.iter().map(|&i| rows[i]).collect();
        let pred = model.fit(features, &train_rows, &y.select_rows(&inner_train))?.predict(features, &test_rows);
        for (k, &i) in inner_test.iter().enumerate() {
            oof.row_mut(i).copy_from_slice(pred.row(k));
        }
    }
    Ok(oof)
}

/// Mean squared error over the observed (non-NaN) labels.
pub(crate) fn squared_error(truth: &Matrix, pred: &Matrix) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for (t, p) in truth.rows().zip(pred.rows()) {
        for (a, b) in t.iter().zip(p) {
            if !a.is_nan() {
                sum += (a - b) * (a - b);
                n += 1;
            }
        }
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}
