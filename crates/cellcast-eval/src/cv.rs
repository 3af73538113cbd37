//! K-fold cross-validation of a model panel.

use cellcast_models::{Features, Predictor};
use cellcast_stats::Matrix;
use rayon::prelude::*;

use crate::panel::{MetricScore, PanelMetric};
use crate::EvalError;

/// One model's cross-validated results.
pub struct ModelCv {
    pub model: String,
    /// `fold_scores[f][m]`: metric `m` on fold `f`.
    pub fold_scores: Vec<Vec<MetricScore>>,
    /// Every metric on the pooled out-of-fold predictions.
    pub pooled: Vec<MetricScore>,
    /// Out-of-fold predictions, train rows × targets.
    pub oof: Matrix,
    /// Out-of-fold predictive standard deviations, when the model estimates them
    /// ([`cellcast_models::Fitted::predict_with_std`]) on every fold.
    pub oof_std: Option<Matrix>,
}

/// The panel's results, models in the order given.
pub struct CvResult {
    pub metrics: Vec<PanelMetric>,
    pub models: Vec<ModelCv>,
}

/// Cross-validates every model: for each fold, fits on the other folds and predicts this one.
///
/// `feature_rows[i]` is the index in `features` of training row `i`; `y` holds the labels of the
/// training rows (rows × targets); `folds[i]` is the fold of training row `i` (0..nfolds).
/// `progress(model, fold)` is called after each fit (from worker threads, in any order).
#[allow(clippy::too_many_arguments)]
pub fn cross_validate(
    models: &[Box<dyn Predictor>],
    features: &Features,
    feature_rows: &[usize],
    y: &Matrix,
    ids: &[String],
    targets: &[String],
    folds: &[usize],
    nfolds: usize,
    metrics: &[PanelMetric],
    progress: &(dyn Fn(&str, usize) + Sync),
) -> Result<CvResult, EvalError> {
    let members: Vec<Vec<usize>> = (0..nfolds).map(|f| (0..folds.len()).filter(|&i| folds[i] == f).collect()).collect();
    if let Some(f) = members.iter().position(Vec::is_empty) {
        return Err(EvalError::EmptyFold(f));
    }
    // Every (model, fold) fit is independent: run them all in parallel, then assemble in order.
    let jobs: Vec<(usize, usize)> = (0..models.len()).flat_map(|m| (0..nfolds).map(move |f| (m, f))).collect();
    let outcomes: Vec<(Matrix, Option<Matrix>, Vec<MetricScore>)> = jobs
        .par_iter()
        .map(|&(m, f)| {
            let (model, test) = (&models[m], &members[f]);
            let train: Vec<usize> = (0..folds.len()).filter(|&i| folds[i] != f).collect();
            let train_features: Vec<usize> = train.iter().map(|&i| feature_rows[i]).collect();
            let test_features: Vec<usize> = test.iter().map(|&i| feature_rows[i]).collect();
            let fitted = model
                .fit(features, &train_features, &y.select_rows(&train))
                .map_err(|source| EvalError::Fit { model: model.name(), fold: f, error: source })?;
            let (pred, std) = match fitted.predict_with_std(features, &test_features) {
                Some((pred, std)) => (pred, Some(std)),
                None => (fitted.predict(features, &test_features), None),
            };
            let fold_ids: Vec<String> = test.iter().map(|&i| ids[i].clone()).collect();
            let truth = y.select_rows(test);
            let scores =
                metrics.iter().map(|m| m.score(&fold_ids, targets, &truth, &pred)).collect::<Result<Vec<_>, _>>()?;
            progress(&model.name(), f);
            Ok((pred, std, scores))
        })
        .collect::<Result<_, EvalError>>()?;
    let mut outcomes = outcomes.into_iter();
    let mut results = Vec::with_capacity(models.len());
    for model in models {
        let mut oof = Matrix::filled(y.nrows(), y.ncols(), f64::NAN);
        let mut oof_std = Some(Matrix::filled(y.nrows(), y.ncols(), f64::NAN));
        let mut fold_scores = Vec::with_capacity(nfolds);
        for test in &members {
            let (pred, std, scores) = outcomes.next().expect("one outcome per job");
            for (k, &i) in test.iter().enumerate() {
                oof.row_mut(i).copy_from_slice(pred.row(k));
            }
            match (std, oof_std.as_mut()) {
                (Some(std), Some(all)) => {
                    for (k, &i) in test.iter().enumerate() {
                        all.row_mut(i).copy_from_slice(std.row(k));
                    }
                }
                _ => oof_std = None,
            }
            fold_scores.push(scores);
        }
        let pooled = metrics.iter().map(|m| m.score(ids, targets, y, &oof)).collect::<Result<Vec<_>, _>>()?;
        results.push(ModelCv { model: model.name(), fold_scores, pooled, oof, oof_std });
    }
    Ok(CvResult { metrics: metrics.to_vec(), models: results })
}

/// A model's results from its out-of-fold predictions made elsewhere (a user's own model, run
/// on these folds): every metric per fold and pooled, exactly as [`cross_validate`] scores a
/// panel model's.
#[allow(clippy::too_many_arguments)]
pub fn score_out_of_fold(
    model: &str,
    oof: Matrix,
    y: &Matrix,
    ids: &[String],
    targets: &[String],
    folds: &[usize],
    nfolds: usize,
    metrics: &[PanelMetric],
) -> Result<ModelCv, EvalError> {
    let mut fold_scores = Vec::with_capacity(nfolds);
    for f in 0..nfolds {
        let test: Vec<usize> = (0..folds.len()).filter(|&i| folds[i] == f).collect();
        if test.is_empty() {
            return Err(EvalError::EmptyFold(f));
        }
        let fold_ids: Vec<String> = test.iter().map(|&i| ids[i].clone()).collect();
        let (truth, pred) = (y.select_rows(&test), oof.select_rows(&test));
        fold_scores
            .push(metrics.iter().map(|m| m.score(&fold_ids, targets, &truth, &pred)).collect::<Result<Vec<_>, _>>()?);
    }
    let pooled = metrics.iter().map(|m| m.score(ids, targets, y, &oof)).collect::<Result<Vec<_>, _>>()?;
    Ok(ModelCv { model: model.to_string(), fold_scores, pooled, oof, oof_std: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cellcast_models::MeanResponse;

    #[test]
    fn mean_baseline_out_of_fold() {
        // Two folds of two rows; the out-of-fold prediction of a row is the other fold's mean.
        let features = Features::empty(4);
        let y = Matrix::from_rows(&[[1.0], [3.0], [5.0], [7.0]]).unwrap();
        let ids: Vec<String> = (0..4).map(|i| i.to_string()).collect();
        let models: Vec<Box<dyn Predictor>> = vec![Box::new(MeanResponse)];
        let metrics = vec![PanelMetric::Registry("polaris/mean_squared_error".into())];
        let r = cross_validate(
            &models,
            &features,
            &[0, 1, 2, 3],
            &y,
            &ids,
            &["g".into()],
            &[0, 0, 1, 1],
            2,
            &metrics,
            &|_, _| {},
        )
        .unwrap();
        assert_eq!(r.models[0].oof.column(0), vec![6.0, 6.0, 2.0, 2.0]);
        // Errors 5, 3, 3, 5 → MSE 17.
        assert_eq!(r.models[0].pooled[0].value, 17.0);
        assert_eq!(r.models[0].fold_scores[0][0].value, 17.0);
        assert!(r.models[0].oof_std.is_none());
        // The same predictions made elsewhere score the same.
        let outside =
            score_out_of_fold("mine", r.models[0].oof.clone(), &y, &ids, &["g".into()], &[0, 0, 1, 1], 2, &metrics)
                .unwrap();
        assert_eq!(outside.pooled[0].value, 17.0);
        assert_eq!(outside.fold_scores[1][0].value, r.models[0].fold_scores[1][0].value);
    }
}
