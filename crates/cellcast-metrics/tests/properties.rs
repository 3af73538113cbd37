//! Invariants every metric must keep, on random inputs: a perfect prediction scores the
//! metric's best value, and the order of rows and of columns does not change the score.

use cellcast_metrics::{
    metrics, resolve, score, Direction, InputKind, Inputs, LabelInputs, MatrixInputs, Params, RankingInputs, Score,
};
use cellcast_stats::Matrix;
use proptest::prelude::*;

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

fn matrix(rows: usize, cols: usize, values: &[f64]) -> Matrix {
    Matrix::from_row_major(rows, cols, values[..rows * cols].to_vec()).unwrap()
}

fn params_for(name: &str) -> Params {
    if name.ends_with("@k") {
        Params::from_pairs([("k", "2")])
    } else if name.starts_with("celleval/") {
        // The pseudobulk tables' control row: the first row id (`r0`).
        Params::from_pairs([("control", "r0")])
    } else {
        Params::default()
    }
}

/// Scores every metric of a kind on the given inputs.
fn score_matrix(name: &str, truth: &Matrix, pred: &Matrix, ids: &[String], genes: &[String]) -> Score {
    let (info, params) = resolve(name, &params_for(name)).unwrap();
    let n = genes.len() as f64;
    // Uniform weights that satisfy every metric's contract (Myllia rows sum to n).
    let w = if name == "myllia/score" { 1.0 } else { 1.0 / n };
    let weights = Matrix::filled(truth.nrows(), truth.ncols(), w);
    let baseline = Matrix::filled(truth.nrows(), truth.ncols(), 0.0);
    let inputs = MatrixInputs {
        ids,
        targets: genes,
        truth,
        pred,
        weights: (info.weights != cellcast_metrics::Use::No).then_some(&weights),
        baseline: (info.baseline != cellcast_metrics::Use::No).then_some(&baseline),
    };
    score(info, Inputs::Matrix(inputs), &params).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn perfect_regression_scores_best(rows in 3usize..12, cols in 1usize..6, values in prop::collection::vec(-5.0f64..5.0, 72)) {
        let truth = matrix(rows, cols, &values);
        let (ids, genes) = (names("r", rows), names("g", cols));
        for info in metrics().iter().filter(|m| m.input() == InputKind::Matrix && m.name != "myllia/score") {
            // With one gene every cosine distance is 0 or 2: ties everywhere, ranked by label.
            if info.name == "celleval/discrimination_score_cosine" && cols == 1 {
                continue;
            }
            let s = score_matrix(info.name, &truth, &truth, &ids, &genes);
            let best = match info.name {
                "polaris/r2" | "polaris/explained_var" | "polaris/pearsonr" | "polaris/spearmanr" => 1.0,
                "celleval/pearson_delta" => 1.0,
                name if name.starts_with("celleval/discrimination_score") => 1.0,
                _ => 0.0,
            };
            if !s.value.is_nan() {
                prop_assert!((s.value - best).abs() < 1e-12, "{}: perfect prediction scored {}", info.name, s.value);
            }
            prop_assert!(s.entries.iter().all(|(_, v)| v.is_nan() || (v - best).abs() < 1e-12), "{}", info.name);
        }
    }

    #[test]
    fn row_and_column_order_do_not_matter(
        rows in 3usize..10, cols in 2usize..6,
        truth_values in prop::collection::vec(-3.0f64..3.0, 60),
        noise in prop::collection::vec(-1.0f64..1.0, 60),
        seed in any::<u64>(),
    ) {
        let truth = matrix(rows, cols, &truth_values);
        let pred_values: Vec<f64> = truth_values.iter().zip(&noise).map(|(t, e)| t + e).collect();
        let pred = matrix(rows, cols, &pred_values);
        let (ids, genes) = (names("r", rows), names("g", cols));
        // A permutation of rows and one of columns, from the seed.
        let mut row_order: Vec<usize> = (0..rows).collect();
        let mut col_order: Vec<usize> = (0..cols).collect();
        let mut s = seed | 1;
        for v in [&mut row_order, &mut col_order] {
            for i in (1..v.len()).rev() {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                v.swap(i, (s % (i as u64 + 1)) as usize);
            }
        }
        let permute = |m: &Matrix| m.select_rows(&row_order).select_columns(&col_order);
        let ids_p: Vec<String> = row_order.iter().map(|&i| ids[i].clone()).collect();
        let genes_p: Vec<String> = col_order.iter().map(|&j| genes[j].clone()).collect();
        for info in metrics().iter().filter(|m| m.input() == InputKind::Matrix) {
            let a = score_matrix(info.name, &truth, &pred, &ids, &genes);
            let b = score_matrix(info.name, &permute(&truth), &permute(&pred), &ids_p, &genes_p);
            // The Myllia score is rounded to 5 decimals: summation order may flip the last digit.
            let tolerance_ok = if info.name == "myllia/score" { (a.value - b.value).abs() <= 1e-5 } else { close(a.value, b.value) };
            prop_assert!(tolerance_ok, "{}: {} vs {}", info.name, a.value, b.value);
            for (k, v) in &a.entries {
                let w = b.entries.iter().find(|(kb, _)| kb == k).map(|(_, v)| *v).unwrap();
                prop_assert!(close(*v, w), "{} entry {k}: {v} vs {w}", info.name);
            }
        }
    }

    #[test]
    fn perfect_scores_rank_and_classify_best(rows in 2usize..10, cands in 3usize..8, scores in prop::collection::vec(0.0f64..1.0, 80)) {
        // Labels from the scores' top half; a perfect score ranks every positive first.
        let ids = names("q", rows);
        let labels: Vec<f64> = (0..rows).map(|i| f64::from(u8::from(i % 2 == 0))).collect();
        let perfect = Matrix::from_row_major(rows, 1, labels.iter().map(|l| l + 0.5 * scores[0]).collect()).unwrap();
        let truth = Matrix::from_row_major(rows, 1, labels.clone()).unwrap();
        let label_names = vec!["active".to_string()];
        for name in ["polaris/pr_auc", "polaris/roc_auc"] {
            let (info, params) = resolve(name, &Params::default()).unwrap();
            let inputs = LabelInputs { ids: &ids, label_names: &label_names, truth: &truth, scores: &perfect, groups: None };
            let s = score(info, Inputs::Labels(inputs), &params).unwrap();
            prop_assert_eq!(s.value, 1.0, "{}", name);
        }
        // Ranking: each query's target gets the highest score.
        let candidates = names("gene", cands);
        let targets: Vec<Vec<String>> = (0..rows).map(|i| vec![candidates[i % cands].clone()]).collect();
        let mut m = Matrix::from_row_major(rows, cands, scores[..rows * cands].to_vec()).unwrap();
        for i in 0..rows {
            m.set(i, i % cands, 2.0);
        }
        for info in metrics().iter().filter(|m| m.input() == InputKind::Ranking) {
            let params = params_for(info.name);
            let inputs = RankingInputs { ids: &ids, candidates: &candidates, targets: &targets, scores: &m };
            let s = score(info, Inputs::Ranking(inputs), &params).unwrap();
            prop_assert_eq!(s.value, 1.0, "{}", info.name);
            prop_assert_eq!(info.direction, Direction::HigherIsBetter);
        }
    }
}
