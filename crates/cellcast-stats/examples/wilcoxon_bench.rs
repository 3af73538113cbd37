//! Times `rank_genes_vs_control` (Wilcoxon) on a matrix written by
//! scripts/bench/wilcoxon_vs_scanpy.py: raw little-endian arrays `indptr.i64`, `indices.i32`,
//! `data.f32`, `groups.i32` (-1 = no group, 0 = control) and `shape.txt`. Prints the best of
//! three runs and writes the z-scores (tested groups × genes, f64) to `scores.f64`.
//!
//! Usage: cargo run --release -p cellcast-stats --example wilcoxon_bench -- DIR [--tie-correct]

use std::path::Path;
use std::time::Instant;

use cellcast_stats::de::{rank_genes_vs_control, DeMethod};
use cellcast_stats::sparse::CsrMatrix;

fn read_raw<const N: usize>(path: &Path) -> Vec<[u8; N]> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes.chunks_exact(N).map(|c| c.try_into().unwrap()).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = Path::new(args.get(1).expect("usage: wilcoxon_bench DIR [--tie-correct]"));
    let tie_correct = args.iter().any(|a| a == "--tie-correct");
    let shape: Vec<usize> = std::fs::read_to_string(dir.join("shape.txt"))
        .unwrap()
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    let (n_cells, n_genes) = (shape[0], shape[1]);
    let indptr: Vec<usize> =
        read_raw::<8>(&dir.join("indptr.i64")).into_iter().map(|b| i64::from_le_bytes(b) as usize).collect();
    let indices: Vec<u32> =
        read_raw::<4>(&dir.join("indices.i32")).into_iter().map(|b| i32::from_le_bytes(b) as u32).collect();
    let data: Vec<f32> = read_raw::<4>(&dir.join("data.f32")).into_iter().map(f32::from_le_bytes).collect();
    let groups: Vec<Option<usize>> = read_raw::<4>(&dir.join("groups.i32"))
        .into_iter()
        .map(|b| usize::try_from(i32::from_le_bytes(b)).ok())
        .collect();
    let x = CsrMatrix::new(n_cells, n_genes, indptr, indices, data).expect("valid CSR");

    let method = DeMethod::Wilcoxon { tie_correct };
    let mut times = Vec::new();
    let mut result = None;
    for _ in 0..3 {
        let start = Instant::now();
        let r = rank_genes_vs_control(&x, &groups, 0, method).expect("valid design");
        times.push(start.elapsed().as_secs_f64());
        result = Some(r);
    }
    let result = result.unwrap();
    let start = Instant::now();
    rank_genes_vs_control(&x, &groups, 0, DeMethod::TTest).expect("valid design");
    let ttest = start.elapsed().as_secs_f64();
    let best = times.iter().copied().fold(f64::INFINITY, f64::min);
    let bytes: Vec<u8> = result.scores.as_slice().iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(dir.join("scores.f64"), bytes).unwrap();
    println!(
        "cellcast wilcoxon (tie_correct={tie_correct}, {} threads): best {best:.3}s of {times:.3?}; t-test {ttest:.3}s",
        rayon::current_num_threads()
    );
}
