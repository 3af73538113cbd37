//! cell-eval's `clustering_agreement` against the golden fixtures of
//! scripts/golden/cluster_fixtures.py (fixtures/golden/cluster/<case>/): connectivities bit for
//! bit (and scikit-learn's kNN distances), Leiden labels identical at every resolution, AMI and the final value to 1e-12.

use cellcast_stats::cluster::{
    clustering_agreement, clustering_agreement_detail_with_threads, euclidean_kneighbors, knn_connectivities,
    ClusterError, N_NEIGHBORS,
};
use cellcast_stats::Matrix;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden/cluster")
}

fn read_centroids(path: &Path) -> Matrix {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let rows: Vec<Vec<f64>> =
        rdr.records().map(|r| r.unwrap().iter().skip(1).map(|v| v.parse::<f64>().unwrap()).collect()).collect();
    if rows.is_empty() {
        return Matrix::filled(0, 0, 0.0);
    }
    Matrix::from_rows(&rows).unwrap()
}

fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) => s.parse().unwrap(),
        _ => v.as_f64().unwrap(),
    }
}

fn labels(v: &Value) -> Vec<usize> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    a == b || (a - b).abs() <= tol * a.abs().max(b.abs())
}

fn conn_matches(m: &Matrix, side: &Value, threads: usize) -> bool {
    let k = N_NEIGHBORS.min(m.nrows() - 1);
    let conn = knn_connectivities(m, k, threads).unwrap();
    let c = &side["connectivities"];
    let (rows, cols, vals) = (c["row"].as_array().unwrap(), c["col"].as_array().unwrap(), c["val"].as_array().unwrap());
    let got: Vec<(usize, usize, f32)> = conn.triplets().collect();
    got.len() == rows.len()
        && got.iter().zip(rows.iter().zip(cols).zip(vals)).all(|(&(i, j, v), ((r, cc), x))| {
            i as u64 == r.as_u64().unwrap() && j as u64 == cc.as_u64().unwrap() && v == num(x) as f32
        })
}

/// scikit-learn's raw kNN (k + 1 columns): indices identical, distances bit for bit.
fn knn_matches(m: &Matrix, side: &Value, threads: usize) -> bool {
    let k = N_NEIGHBORS.min(m.nrows() - 1) + 1;
    let (idx, dist) = euclidean_kneighbors(m, k, threads).unwrap();
    let want_idx: Vec<u64> = side["knn"]["indices"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|v| v.as_u64().unwrap())
        .collect();
    let want_dist: Vec<f64> =
        side["knn"]["distances"].as_array().unwrap().iter().flat_map(|r| r.as_array().unwrap()).map(num).collect();
    if std::env::var("KNN_DEBUG").is_ok() {
        for t in 0..idx.len() {
            if idx[t] as u64 != want_idx[t] || dist[t].to_bits() != want_dist[t].to_bits() {
                eprintln!(
                    "first diff at {t} (row {}): {} {:e} vs {} {:e}",
                    t / k,
                    idx[t],
                    dist[t],
                    want_idx[t],
                    want_dist[t]
                );
                break;
            }
        }
    }
    idx.iter().map(|&i| i as u64).eq(want_idx)
        && dist.iter().map(|d| d.to_bits()).eq(want_dist.iter().map(|d| d.to_bits()))
}

#[test]
fn clustering_agreement_matches_cell_eval() {
    let dir = fixtures();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expected.json").exists())
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "too few cluster fixtures: {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let exp: Value = serde_json::from_str(&std::fs::read_to_string(case.join("expected.json")).unwrap()).unwrap();
        let real = read_centroids(&case.join("real_centroids.csv"));
        let pred = read_centroids(&case.join("pred_centroids.csv"));
        if exp.get("error").is_some() {
            match clustering_agreement(&real, &pred) {
                Err(ClusterError::TooFewPerturbations { .. }) => {}
                other => failures.push(format!("{name}: expected cell-eval's error, got {other:?}")),
            }
            continue;
        }
        let threads = exp["sklearn_threads"].as_u64().unwrap() as usize;
        let mut problems = Vec::new();
        if !knn_matches(&real, &exp["real"], threads) {
            problems.push("real knn".to_string());
        }
        if !knn_matches(&pred, &exp["pred"], threads) {
            problems.push("pred knn".to_string());
        }
        if !conn_matches(&real, &exp["real"], threads) {
            problems.push("real connectivities".to_string());
        }
        if !conn_matches(&pred, &exp["pred"], threads) {
            problems.push("pred connectivities".to_string());
        }
        let d = clustering_agreement_detail_with_threads(&real, &pred, threads).unwrap();
        if d.real_labels != labels(&exp["real"]["labels"]["1.0"]) {
            problems.push("real labels".to_string());
        }
        let resolutions = exp["resolutions"].as_array().unwrap();
        for (i, r) in resolutions.iter().enumerate() {
            let key = format!("{:?}", r.as_f64().unwrap());
            if d.pred_labels[i] != labels(&exp["pred"]["labels"][&key]) {
                problems.push(format!("pred labels @{key}"));
            }
            let want = num(&exp["ami"][i]);
            if !close(d.ami[i], want, 1e-12) {
                problems.push(format!("ami @{key}: {} vs {}", d.ami[i], want));
            }
        }
        let want = num(&exp["clustering_agreement"]);
        if !close(d.value, want, 1e-12) {
            problems.push(format!("value {} vs {}", d.value, want));
        }
        if !problems.is_empty() {
            failures.push(format!("{name}: {}", problems.join(", ")));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
