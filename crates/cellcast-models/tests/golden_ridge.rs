//! Ridge with leave-one-out α selection against scikit-learn's RidgeCV (fixtures/golden/ridge,
//! made by scripts/golden/ridge_fixtures.py).

use std::path::Path;

use cellcast_models::ridge_gcv;
use cellcast_stats::Matrix;

fn read_matrix(path: &Path) -> Vec<Vec<f64>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_path(path).unwrap();
    r.records().map(|rec| rec.unwrap().iter().map(|v| v.parse().unwrap()).collect()).collect()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-8)
}

#[test]
fn ridge_gcv_matches_scikit_learn_ridgecv() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden/ridge");
    for case in ["wide_sparse", "wide_dense", "tall_dense"] {
        let dir = root.join(case);
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
        let x = read_matrix(&dir.join("x.csv"));
        let y = Matrix::from_rows(&read_matrix(&dir.join("y.csv"))).unwrap();
        let xm = faer::Mat::<f64>::from_fn(x.len(), x[0].len(), |i, j| x[i][j]);
        let alphas: Vec<f64> = expected["alphas"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let (beta, intercept, path) = ridge_gcv(&xm, &y, &alphas).unwrap();
        assert_eq!(path.alpha, expected["alpha"].as_f64().unwrap(), "{case}: chosen alpha");
        for (k, want) in expected["loo_mse"].as_array().unwrap().iter().enumerate() {
            assert!(
                close(path.loo_mse[k], want.as_f64().unwrap(), 1e-9),
                "{case}: LOO MSE at alpha {}: {} vs {want}",
                alphas[k],
                path.loo_mse[k]
            );
        }
        for (f, row) in expected["coef"].as_array().unwrap().iter().enumerate() {
            for (t, want) in row.as_array().unwrap().iter().enumerate() {
                let want = want.as_f64().unwrap();
                assert!(
                    (beta[(f, t)] - want).abs() <= 1e-9 * (1.0 + want.abs()),
                    "{case}: coef[{f},{t}] {} vs {want}",
                    beta[(f, t)]
                );
            }
        }
        for (t, want) in expected["intercept"].as_array().unwrap().iter().enumerate() {
            assert!(close(intercept[t], want.as_f64().unwrap(), 1e-9), "{case}: intercept");
        }
    }
}
