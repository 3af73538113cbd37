//! The statistics of `targets rank --statistic` against scipy and statsmodels
//! (fixtures/golden/target_statistics, made by scripts/golden/target_statistics_fixtures.py):
//! every statistic of every gene of every group, computed the way `targets rank` does from a
//! cells × genes matrix and group labels.

use std::path::Path;

use cellcast_models::target_statistics::{statistic, statistic_by_group, STATISTICS};
use cellcast_stats::Matrix;
use serde_json::Value;

fn number(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "nan" => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        v => v.as_f64().expect("a number"),
    }
}

#[test]
fn every_statistic_matches_scipy_and_statsmodels() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden/target_statistics/screen.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let rows: Vec<Vec<f64>> =
        doc["x"].as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(number).collect()).collect();
    let x = Matrix::from_rows(&rows).unwrap();
    let cell_groups: Vec<Option<usize>> =
        doc["cell_groups"].as_array().unwrap().iter().map(|g| Some(g.as_u64().unwrap() as usize)).collect();
    let expected = doc["expected"].as_object().unwrap();
    assert_eq!(expected.len(), STATISTICS.len(), "a golden table for every statistic");
    // The sparse path gives the same numbers as the dense one.
    let sparse = cellcast_stats::sparse::CsrMatrix::from_dense(&x);
    for (name, table) in expected {
        let stat = statistic(name).unwrap();
        let (groups, got) = statistic_by_group(&x, &cell_groups, 0, stat).unwrap();
        assert_eq!(groups, vec![1, 2, 3]);
        let (_, got_sparse) = statistic_by_group(&sparse, &cell_groups, 0, stat).unwrap();
        for (r, row) in table.as_array().unwrap().iter().enumerate() {
            for (j, want) in row.as_array().unwrap().iter().enumerate() {
                let (want, have) = (number(want), got.get(r, j));
                let same = if want.is_finite() {
                    (have - want).abs() <= 1e-10 * want.abs().max(1.0)
                } else {
                    have.is_nan() && want.is_nan() || have == want
                };
                assert!(same, "{name}, group {r}, gene {j}: {have} vs {want}");
                let s = got_sparse.get(r, j);
                assert!(s == have || s.is_nan() && have.is_nan(), "{name} sparse, group {r}, gene {j}: {s} vs {have}");
            }
        }
    }
}
