//! cell-eval's `pearson_edistance`: for every perturbation, the energy distance between its cells
//! and the control cells, E = 2·mean d(P, C) − mean d(P, P) − mean d(C, C), in the real and in
//! the predicted data; the metric is Pearson's r between the two across perturbations.
//!
//! Distances are scikit-learn's `euclidean_distances`: √(max(‖x‖² − 2x·y + ‖y‖², 0)), computed
//! in float64 and rounded to the data's precision before the square root (its float32 "upcast"
//! path), with a zero diagonal for a set against itself. The cells stay sparse, and so do the
//! products: x·y accumulates over the genes both cells express, in gene order — scipy's sparse
//! product, which is what scikit-learn runs on sparse cells (about 1/density² fewer operations
//! than a dense product). Each mean is numpy's pairwise sum over the distance matrix in
//! row-major order, streamed row by row, never stored whole.

use faer::Mat;

use crate::numeric::Precision;

/// Cells as sparse rows (one perturbation's, or the control's), genes ascending.
pub struct Cells {
    rows: Vec<(Vec<u32>, Vec<f64>)>,
    /// The rows as columns (compressed): gene k's (cell, value) pairs are
    /// `entries[starts[k]..starts[k + 1]]`, for products against them.
    starts: Vec<usize>,
    entries: Vec<(u32, f64)>,
    /// ‖row‖², summed in stored order (scipy's `csr_row_norms`).
    norms: Vec<f64>,
    /// A 128-bit fingerprint of each row: rows with the same fingerprint are the same profile,
    /// at distance exactly 0 (see [`mean_distance`]).
    fingerprints: Vec<u128>,
    n_genes: usize,
}

impl Cells {
    pub fn new(rows: Vec<(Vec<u32>, Vec<f64>)>, n_genes: usize) -> Cells {
        let mut starts = vec![0usize; n_genes + 1];
        for (idx, _) in &rows {
            for &j in idx {
                starts[j as usize + 1] += 1;
            }
        }
        for k in 0..n_genes {
            starts[k + 1] += starts[k];
        }
        let mut fill = starts.clone();
        let mut entries = vec![(0u32, 0.0); starts[n_genes]];
        for (i, (idx, v)) in rows.iter().enumerate() {
            for (&j, &x) in idx.iter().zip(v) {
                entries[fill[j as usize]] = (i as u32, x);
                fill[j as usize] += 1;
            }
        }
        let norms = rows.iter().map(|(_, v)| v.iter().fold(0.0, |acc, x| acc + x * x)).collect();
        let fingerprints = rows
            .iter()
            .map(|(idx, v)| {
                // Two independent FNV-1a style streams over the (gene, value) pairs.
                let (mut a, mut b) = (0xcbf2_9ce4_8422_2325u64, 0x8422_2325_cbf2_9ce4u64);
                for (&j, &x) in idx.iter().zip(v) {
                    let w = x.to_bits() ^ (u64::from(j) << 52);
                    a = (a ^ w).wrapping_mul(0x0000_0100_0000_01b3);
                    b = (b ^ w.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                }
                (u128::from(a) << 64) | u128::from(b)
            })
            .collect();
        Cells { rows, starts, entries, norms, fingerprints, n_genes }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Stored values per cell.
    fn mean_row_nnz(&self) -> f64 {
        self.entries.len() as f64 / self.rows.len().max(1) as f64
    }

    /// Rows `lo..hi` as a dense matrix.
    fn dense(&self, lo: usize, hi: usize) -> Mat<f64> {
        let mut m = Mat::<f64>::zeros(hi - lo, self.n_genes);
        for (i, (idx, v)) in self.rows[lo..hi].iter().enumerate() {
            for (&j, &x) in idx.iter().zip(v) {
                m[(i, j as usize)] = x;
            }
        }
        m
    }
}

/// numpy's `pairwise_sum` over a stream of `n` values, consumed in order.
struct PairwiseStream<'a> {
    p: Precision,
    next: &'a mut dyn FnMut() -> f64,
}

impl PairwiseStream<'_> {
    fn sum(&mut self, n: usize) -> f64 {
        let p = self.p;
        if n < 8 {
            let mut r = 0.0;
            for _ in 0..n {
                r = p.round(r + (self.next)());
            }
            return r;
        }
        if n <= 128 {
            let mut r = [0.0; 8];
            for v in r.iter_mut() {
                *v = (self.next)();
            }
            let full = n - n % 8;
            for _ in (8..full).step_by(8) {
                for v in r.iter_mut() {
                    *v = p.round(*v + (self.next)());
                }
            }
            let left = p.round(p.round(r[0] + r[1]) + p.round(r[2] + r[3]));
            let right = p.round(p.round(r[4] + r[5]) + p.round(r[6] + r[7]));
            let mut res = p.round(left + right);
            for _ in full..n {
                res = p.round(res + (self.next)());
            }
            return res;
        }
        let mut half = n / 2;
        half -= half % 8;
        let a = self.sum(half);
        let b = self.sum(n - half);
        p.round(a + b)
    }
}

/// The mean Euclidean distance between the rows of `a` and of `b` (`b = None`: `a` against
/// itself, diagonal zero), as `sklearn.metrics.pairwise_distances(a, b).mean()`.
pub fn mean_distance(p: Precision, a: &Cells, b: Option<&Cells>) -> f64 {
    let same = b.is_none();
    let b = b.unwrap_or(a);
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        return f64::NAN;
    }
    // The sparse product costs (stored values of a row) × (cells per gene of b) per row; a dense
    // one costs n_genes × m per row at SIMD speed. Dense cells take faer's product, whose sums
    // run in another order than scipy's (a difference far below the float32 rounding of the
    // distances).
    let sparse_cost = a.mean_row_nnz() * (b.entries.len() as f64 / a.n_genes.max(1) as f64);
    let dense = sparse_cost * 8.0 > m as f64;
    let b_dense = dense.then(|| b.dense(0, m));
    const BLOCK: usize = 256;
    let mut gram = Mat::<f64>::zeros(0, 0);
    let mut row = usize::MAX;
    let mut dots = vec![0.0; m];
    let mut index = 0usize;
    let mut next = || {
        let (i, j) = (index / m, index % m);
        index += 1;
        if i != row {
            row = i;
            if let Some(bd) = &b_dense {
                if i % BLOCK == 0 {
                    cellcast_stats::linalg::fixed_parallelism();
                    gram = a.dense(i, (i + BLOCK).min(n)) * bd.transpose();
                }
                for (jj, d) in dots.iter_mut().enumerate() {
                    *d = gram[(i % BLOCK, jj)];
                }
            } else {
                dots.iter_mut().for_each(|d| *d = 0.0);
                let (idx, v) = &a.rows[i];
                for (&k, &x) in idx.iter().zip(v) {
                    for &(jj, y) in &b.entries[b.starts[k as usize]..b.starts[k as usize + 1]] {
                        dots[jj as usize] += x * y;
                    }
                }
            }
        }
        // Identical profiles are at distance 0. Through the Gram formula a rounding residual
        // can remain there, whose sign depends on the summation order; cell-eval's comes out
        // ≤ 0 (clipped to 0), which is what makes a baseline's constant predictions give
        // constant energy distances.
        if (same && i == j) || a.fingerprints[i] == b.fingerprints[j] {
            return 0.0;
        }
        let d2 = p.round((-2.0 * dots[j] + a.norms[i]) + b.norms[j]).max(0.0);
        p.round(d2.sqrt())
    };
    let total = PairwiseStream { p, next: &mut next }.sum(n * m);
    p.round(total / (n * m) as f64)
}

/// The energy distance between `x` and the control `control`, given the control's mean
/// self-distance: 2δ − σx − σc, in precision `p`.
pub fn energy_distance(p: Precision, x: &Cells, control: &Cells, sigma_control: f64) -> f64 {
    let sigma_x = mean_distance(p, x, None);
    let delta = mean_distance(p, x, Some(control));
    p.round(p.round(2.0 * delta - sigma_x) - sigma_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_pairwise_sum_equals_numpy_order() {
        let v: Vec<f64> = (0..1000).map(|i| ((i * 37 % 101) as f64 * 0.013).sin() as f32 as f64).collect();
        let mut k = 0;
        let mut next = || {
            k += 1;
            v[k - 1]
        };
        let s = PairwiseStream { p: Precision::F32, next: &mut next }.sum(v.len());
        assert_eq!(s, Precision::F32.sum(&v));
    }

    #[test]
    fn distances_of_known_points() {
        // Points 0, 3 and 4 on a line: self distances 0,3,4 / 3,0,1 / 4,1,0 → mean 16/9.
        let a = Cells::new(vec![(vec![], vec![]), (vec![0], vec![3.0]), (vec![0], vec![4.0])], 1);
        assert!((mean_distance(Precision::F64, &a, None) - 16.0 / 9.0).abs() < 1e-15);
        let b = Cells::new(vec![(vec![0], vec![1.0])], 1);
        assert!((mean_distance(Precision::F64, &a, Some(&b)) - 6.0 / 3.0).abs() < 1e-15);
    }
}
