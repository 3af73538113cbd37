//! Times `ridge_gcv` on a design and label matrix given as headerless CSV files (used by
//! scripts/bench/ridge_vs_sklearn.py). Prints the chosen alpha and the best of 3 wall times.

use std::time::Instant;

use cellcast_models::ridge_gcv;
use cellcast_stats::Matrix;

fn read(path: &str) -> Vec<Vec<f64>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_path(path).expect("readable CSV");
    r.records().map(|rec| rec.expect("record").iter().map(|v| v.parse().expect("number")).collect()).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let x = read(&args[1]);
    let y = Matrix::from_rows(&read(&args[2])).expect("rectangular labels");
    let xm = faer::Mat::<f64>::from_fn(x.len(), x[0].len(), |i, j| x[i][j]);
    let alphas: Vec<f64> = (0..=14).map(|k| 10f64.powf(-1.0 + 0.5 * k as f64)).collect();
    let mut best = f64::INFINITY;
    let mut alpha = 0.0;
    for _ in 0..3 {
        let start = Instant::now();
        let (_, _, path) = ridge_gcv(&xm, &y, &alphas).expect("ridge");
        best = best.min(start.elapsed().as_secs_f64());
        alpha = path.alpha;
    }
    println!("{best:.4} {alpha}");
}
