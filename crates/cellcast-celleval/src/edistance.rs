//! cell-eval's `pearson_edistance`: for every perturbation, the energy distance between its cells
//! and the control cells, E = 2·mean d(P, C) − mean d(P, P) − mean d(C, C), in the real and in
//! the predicted data; the metric is Pearson's r between the two across perturbations.
//!
//! Distances are scikit-learn's `euclidean_distances`: √(max(‖x‖² − 2x·y + ‖y‖², 0)), computed
//! in float64 and rounded to the data's precision before the square root (its float32 "upcast"
//! path), with a zero diagonal for a set against itself. Each mean is numpy's pairwise sum over
//! the distance matrix in row-major order, which is streamed here block by block, never stored
//! whole. Gram blocks come from faer's matrix product.

use faer::Mat;

use crate::numeric::Precision;

/// Cells as dense float64 rows (one perturbation's, or the control's).
pub struct Cells {
    pub rows: Mat<f64>,
    /// ‖row‖².
    norms: Vec<f64>,
    /// A 128-bit fingerprint of each row's values: rows with the same fingerprint are the same
    /// cell profile, at distance exactly 0 (see [`mean_distance`]).
    fingerprints: Vec<u128>,
}

impl Cells {
    pub fn new(rows: Mat<f64>) -> Cells {
        let norms = (0..rows.nrows()).map(|i| (0..rows.ncols()).map(|j| rows[(i, j)] * rows[(i, j)]).sum()).collect();
        let fingerprints = (0..rows.nrows())
            .map(|i| {
                // Two independent FNV-1a style streams over the value bits.
                let (mut a, mut b) = (0xcbf2_9ce4_8422_2325u64, 0x8422_2325_cbf2_9ce4u64);
                for j in 0..rows.ncols() {
                    let v = rows[(i, j)].to_bits();
                    a = (a ^ v).wrapping_mul(0x0000_0100_0000_01b3);
                    b = (b ^ v.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                }
                (u128::from(a) << 64) | u128::from(b)
            })
            .collect();
        Cells { rows, norms, fingerprints }
    }

    pub fn len(&self) -> usize {
        self.rows.nrows()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
    cellcast_stats::linalg::fixed_parallelism();
    let same = b.is_none();
    let b = b.unwrap_or(a);
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        return f64::NAN;
    }
    const BLOCK: usize = 256;
    let mut block_start = usize::MAX;
    let mut gram = Mat::<f64>::zeros(0, 0);
    let mut index = 0usize;
    let mut next = || {
        let (i, j) = (index / m, index % m);
        index += 1;
        if i / BLOCK != block_start {
            block_start = i / BLOCK;
            let lo = block_start * BLOCK;
            let hi = (lo + BLOCK).min(n);
            gram = a.rows.subrows(lo, hi - lo) * b.rows.transpose();
        }
        // Identical profiles are at distance 0. The Gram formula leaves a rounding residual
        // there whose sign depends on the BLAS; cell-eval's comes out ≤ 0 (clipped to 0), which
        // is what makes a baseline's constant predictions give constant energy distances.
        if (same && i == j) || a.fingerprints[i] == b.fingerprints[j] {
            return 0.0;
        }
        let g = gram[(i - block_start * BLOCK, j)];
        let d2 = p.round((-2.0 * g + a.norms[i]) + b.norms[j]).max(0.0);
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
        let a = Cells::new(Mat::from_fn(3, 1, |i, _| [0.0, 3.0, 4.0][i]));
        assert!((mean_distance(Precision::F64, &a, None) - 16.0 / 9.0).abs() < 1e-15);
        let b = Cells::new(Mat::from_fn(1, 1, |_, _| 1.0));
        assert!((mean_distance(Precision::F64, &a, Some(&b)) - 6.0 / 3.0).abs() < 1e-15);
    }
}
