//! Binary ranking curves as scikit-learn computes them: average precision and ROC AUC.
//!
//! Both walk the distinct score values from the highest down, so tied scores form one threshold
//! block (scikit-learn's `_binary_clf_curve`).

/// Cumulative (true positives, false positives) at each distinct score, highest score first.
fn threshold_counts(labels: &[bool], scores: &[f64]) -> Vec<(f64, f64)> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut out = Vec::new();
    let (mut tp, mut fp) = (0.0, 0.0);
    for (pos, &i) in order.iter().enumerate() {
        if labels[i] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_block = order.get(pos + 1).is_none_or(|&next| scores[next] != scores[i]);
        if last_of_block {
            out.push((tp, fp));
        }
    }
    out
}

/// scikit-learn's `average_precision_score` for binary labels: Σ (Rₖ − Rₖ₋₁)·Pₖ over distinct
/// thresholds, with no interpolation. `None` when there is no positive (Polaris raises there).
pub fn average_precision(labels: &[bool], scores: &[f64]) -> Option<f64> {
    assert_eq!(labels.len(), scores.len(), "average_precision: lengths differ");
    let positives = labels.iter().filter(|&&l| l).count() as f64;
    if positives == 0.0 {
        return None;
    }
    let mut ap = 0.0;
    let mut prev_recall = 0.0;
    for (tp, fp) in threshold_counts(labels, scores) {
        let recall = tp / positives;
        ap += (recall - prev_recall) * (tp / (tp + fp));
        prev_recall = recall;
    }
    Some(ap)
}

/// scikit-learn's `roc_auc_score` for binary labels: the trapezoidal area under the ROC curve.
/// `None` when only one class is present (scikit-learn raises there).
pub fn roc_auc(labels: &[bool], scores: &[f64]) -> Option<f64> {
    assert_eq!(labels.len(), scores.len(), "roc_auc: lengths differ");
    let positives = labels.iter().filter(|&&l| l).count() as f64;
    let negatives = labels.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return None;
    }
    let mut area = 0.0;
    let (mut prev_fpr, mut prev_tpr) = (0.0, 0.0);
    for (tp, fp) in threshold_counts(labels, scores) {
        let (fpr, tpr) = (fp / negatives, tp / positives);
        area += (fpr - prev_fpr) * (tpr + prev_tpr) / 2.0;
        (prev_fpr, prev_tpr) = (fpr, tpr);
    }
    Some(area)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sklearn_doc_examples() {
        // scikit-learn docstring: average_precision_score([0,0,1,1],[0.1,0.4,0.35,0.8]) = 0.8333…
        let labels = [false, false, true, true];
        let scores = [0.1, 0.4, 0.35, 0.8];
        assert!((average_precision(&labels, &scores).unwrap() - 0.833_333_333_333_333_3).abs() < 1e-15);
        // roc_auc_score on the same data = 0.75.
        assert!((roc_auc(&labels, &scores).unwrap() - 0.75).abs() < 1e-15);
    }

    #[test]
    fn ties_are_one_block_and_edge_cases() {
        // All scores tied: AP = prevalence, AUC = 0.5.
        let labels = [true, false, false, true, false];
        let scores = [0.5; 5];
        assert!((average_precision(&labels, &scores).unwrap() - 0.4).abs() < 1e-15);
        assert_eq!(roc_auc(&labels, &scores), Some(0.5));
        assert_eq!(average_precision(&[true, true], &[0.1, 0.2]), Some(1.0));
        assert_eq!(average_precision(&[false, false], &[0.1, 0.2]), None);
        assert_eq!(roc_auc(&[true, true], &[0.1, 0.2]), None);
    }
}
