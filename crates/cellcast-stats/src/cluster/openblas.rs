//! The float64 dot products of scikit-learn's euclidean `ArgKmin`, rounded exactly as the
//! reference computes them: scikit-learn calls scipy's bundled OpenBLAS (scipy-openblas 0.3.30,
//! `DYNAMIC_ARCH`), single-threaded (it wraps the reduction in `threadpool_limits(1, "blas")`), and
//! on AVX2 machines without an AVX-512 core type of its own (the reference machine, an AMD Zen
//! reported as "Haswell") OpenBLAS runs its Haswell kernels:
//!
//! - ‖x‖² by `ddot` (`kernel/x86_64/ddot.c` + `ddot_microk_haswell-2.c`): sixteen FMA
//!   accumulators over the first `n & !15` elements (four 4-lane registers, lane `l` of register
//!   `r` taking element `16c + 4r + l`), reduced as (lo + hi half of each register), then
//!   (r0 + r1) + (r2 + r3), then the two lanes; the remaining elements added one by one as
//!   `dot + y·x` (separately rounded, no FMA).
//! - x·y by `dgemm` (`driver/level3/level3.c`, `dgemm_kernel_4x8_haswell.S`): the features are
//!   cut into blocks (`GEMM_Q` = 256, the last two blocks balanced in multiples of
//!   `GEMM_UNROLL_M` = 4); within a block each output element is one sequential FMA chain from
//!   zero; the kernel adds `alpha ·` chain to C block after block (alpha = −2 is exact, so the
//!   sum of the chains in block order, times −2). One exception: the kernel's `4x1` edge (four
//!   `dgemm` rows against one column, i.e. four rows of Y against one row of X) splits the chain
//!   over four accumulators by feature index mod 4 (for the first `8·⌊len/8⌋` features of the
//!   block; the rest go to the first), reduced as (a0 + a1) + (a2 + a3). scikit-learn's call
//!   `dgemm("T", "N", n_Y, n_X, …)` makes X the kernel's N side, split by the driver into kernel
//!   calls of 24, then 8, then the remainder columns, and by the kernel into 24, 8, 4, 2, 1: so the
//!   last row of an X chunk of odd size meets the Y rows in full groups of four this way. Those
//!   products are not symmetric, so they are computed apart ([`Gram::get_xy`]).
//!
//! Both were checked bit for bit against the library for 1 … 20000 features. The two orders
//! differ, so a row's `ddot` norm and its `dgemm` product with an exact copy of itself differ in
//! the last bits: exactly duplicated rows sit at a tiny nonzero distance in the reference, and
//! these functions reproduce that distance.

use crate::Matrix;
use rayon::prelude::*;

/// OpenBLAS's `GEMM_Q` for double precision on Haswell (`param.h`).
const GEMM_Q: usize = 256;
/// OpenBLAS's `DGEMM_DEFAULT_UNROLL_M` on Haswell.
const GEMM_UNROLL_M: usize = 4;
/// Rows per packed panel of the Gram kernel (any tiling gives the same per-element chains).
const PANEL: usize = 4;

/// The feature blocks `(start, len)` of OpenBLAS's level-3 driver for inner dimension `k`.
fn k_blocks(k: usize) -> impl Iterator<Item = (usize, usize)> {
    let mut ls = 0;
    std::iter::from_fn(move || {
        if ls >= k {
            return None;
        }
        let mut min_l = k - ls;
        if min_l >= 2 * GEMM_Q {
            min_l = GEMM_Q;
        } else if min_l > GEMM_Q {
            min_l = (min_l / 2).div_ceil(GEMM_UNROLL_M) * GEMM_UNROLL_M;
        }
        let block = (ls, min_l);
        ls += min_l;
        Some(block)
    })
}

/// OpenBLAS `ddot(n, a, 1, b, 1)` with its Haswell micro-kernel, one thread.
pub(crate) fn ddot(a: &[f64], b: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if fma_available() {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        return unsafe { ddot_fma(a, b) };
    }
    ddot_impl(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn ddot_fma(a: &[f64], b: &[f64]) -> f64 {
    ddot_impl(a, b)
}

#[inline(always)]
fn ddot_impl(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let n1 = n & !15;
    let mut dot = 0.0f64;
    if n1 > 0 {
        let mut acc = [0.0f64; 16];
        for (x, y) in a[..n1].chunks_exact(16).zip(b[..n1].chunks_exact(16)) {
            for l in 0..16 {
                acc[l] = x[l].mul_add(y[l], acc[l]);
            }
        }
        // Each ymm register: low half + high half, lane by lane.
        let h = |r: usize| [acc[4 * r] + acc[4 * r + 2], acc[4 * r + 1] + acc[4 * r + 3]];
        let (r0, r1, r2, r3) = (h(0), h(1), h(2), h(3));
        let s01 = [r0[0] + r1[0], r0[1] + r1[1]];
        let s23 = [r2[0] + r3[0], r2[1] + r3[1]];
        let s = [s01[0] + s23[0], s01[1] + s23[1]];
        dot = s[0] + s[1];
    }
    for i in n1..n {
        dot += b[i] * a[i];
    }
    dot
}

/// scikit-learn's `pairwise_dist_chunk_size`: ArgKmin cuts X and Y into chunks of 256 rows, one
/// `dgemm` call per pair of chunks.
const SKLEARN_CHUNK: usize = 256;

/// `dgemm`'s x·y for one pair of rows, in OpenBLAS's order (the sum before the −2 factor).
#[cfg(test)]
pub(crate) fn gemm_dot(a: &[f64], b: &[f64]) -> f64 {
    let mut total = 0.0f64;
    for (s, l) in k_blocks(a.len()) {
        let mut acc = 0.0f64;
        for t in s..s + l {
            acc = a[t].mul_add(b[t], acc);
        }
        total += acc;
    }
    total
}

/// `dgemm`'s x·y in the `4x1` edge kernel's order (see the module notes).
fn edge_4x1_dot(fma: bool, a: &[f64], b: &[f64], blocks: &[(usize, usize)]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if fma {
        // SAFETY: `fma` comes from `fma_available`, which checked AVX2 and FMA.
        return unsafe { edge_4x1_dot_fma(a, b, blocks) };
    }
    let _ = fma;
    edge_4x1_dot_impl(a, b, blocks)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn edge_4x1_dot_fma(a: &[f64], b: &[f64], blocks: &[(usize, usize)]) -> f64 {
    edge_4x1_dot_impl(a, b, blocks)
}

#[inline(always)]
fn edge_4x1_dot_impl(a: &[f64], b: &[f64], blocks: &[(usize, usize)]) -> f64 {
    let mut total = 0.0f64;
    for &(s, l) in blocks {
        let mut acc = [0.0f64; 4];
        let unrolled = l / 8 * 8;
        let (pa, pb) = (&a[s..s + l], &b[s..s + l]);
        for t in 0..unrolled {
            acc[t % 4] = pa[t].mul_add(pb[t], acc[t % 4]);
        }
        for t in unrolled..l {
            acc[0] = pa[t].mul_add(pb[t], acc[0]);
        }
        total += (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
    total
}

/// The query rows whose products with some Y rows come from the `4x1` edge kernel: the last row
/// of each scikit-learn chunk of odd size.
fn edge_rows(n: usize) -> impl Iterator<Item = usize> {
    (0..n.div_ceil(SKLEARN_CHUNK)).filter_map(move |c| {
        let (start, end) = (c * SKLEARN_CHUNK, ((c + 1) * SKLEARN_CHUNK).min(n));
        ((end - start) % 2 == 1).then_some(end - 1)
    })
}

/// Whether Y row `j` is in a full group of four of its chunk (the `dgemm` M side).
fn in_full_group(n: usize, j: usize) -> bool {
    let start = j / SKLEARN_CHUNK * SKLEARN_CHUNK;
    let len = (start + SKLEARN_CHUNK).min(n) - start;
    j - start < len / 4 * 4
}

/// The products scikit-learn's `dgemm` calls give for the rows of a matrix against themselves
/// (before the −2 factor): the symmetric part as an upper triangle (each pair computed once; a
/// product of two numbers is commutative, so each chain is too), and the `4x1` edge products of
/// the few query rows that have them.
pub(crate) struct Gram {
    n: usize,
    data: Vec<f64>,
    /// (query row, its products with every Y row, in the edge order where that applies).
    edge: Vec<(usize, Vec<f64>)>,
}

impl Gram {
    /// x_i · x_j as `dgemm` gives it for query row `i` (X) and candidate row `j` (Y).
    pub(crate) fn get_xy(&self, i: usize, j: usize) -> f64 {
        if let Some((_, row)) = self.edge.iter().find(|(r, _)| *r == i) {
            return row[j];
        }
        let (a, b) = if i <= j { (i, j) } else { (j, i) };
        self.data[row_start(self.n, a) + (b - a)]
    }
}

/// Start of row `i` in the packed upper triangle of an `n × n` matrix.
fn row_start(n: usize, i: usize) -> usize {
    // Σ_{r<i} (n − r) = i·n − i(i − 1)/2
    i * n - (i * i.saturating_sub(1)) / 2
}

/// Whether the CPU has hardware FMA (then the kernels are compiled with it; without it
/// `mul_add` is the C library's exactly rounded `fma`, same results, slower).
fn fma_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Candidate rows per tile: two panels.
const TILE_J: usize = 2 * PANEL;
type Tile = [[f64; TILE_J]; PANEL];

/// The `dgemm` Gram matrix of the rows of `x`.
pub(crate) fn gram(x: &Matrix) -> Gram {
    let (n, d) = (x.nrows(), x.ncols());
    let n_panels = n.div_ceil(PANEL);
    // Panels of PANEL rows, feature-major (`panel[t * PANEL + r]` = x[PANEL·p + r][t]), zero-padded.
    let mut packed = vec![0.0f64; (n_panels + 1) * PANEL * d];
    for (p, panel) in packed.chunks_exact_mut(PANEL * d).take(n_panels).enumerate() {
        for r in 0..PANEL {
            let i = p * PANEL + r;
            if i < n {
                for (t, &v) in x.row(i).iter().enumerate() {
                    panel[t * PANEL + r] = v;
                }
            }
        }
    }
    let panel = |p: usize| &packed[p * PANEL * d..(p + 1) * PANEL * d];
    let mut data = vec![0.0f64; row_start(n, n)];
    // The rows of one panel are contiguous in the packed triangle: one task per panel.
    let mut chunks: Vec<&mut [f64]> = Vec::with_capacity(n_panels);
    let mut rest = data.as_mut_slice();
    for p in 0..n_panels {
        let (a, b) = (p * PANEL, ((p + 1) * PANEL).min(n));
        let (head, tail) = rest.split_at_mut(row_start(n, b) - row_start(n, a));
        chunks.push(head);
        rest = tail;
    }
    let blocks: Vec<(usize, usize)> = k_blocks(d).collect();
    let fma = fma_available();
    chunks.into_par_iter().enumerate().for_each(|(p, out)| {
        let base = row_start(n, p * PANEL);
        for q in (p..n_panels).step_by(2) {
            // Panel n_panels is all zeros.
            let tile = tile_dots(fma, panel(p), panel(q), panel((q + 1).min(n_panels)), &blocks);
            for (r, row) in tile.iter().enumerate() {
                let i = p * PANEL + r;
                if i >= n {
                    break;
                }
                for (c, &v) in row.iter().enumerate() {
                    let j = q * PANEL + c;
                    if j >= i && j < n {
                        out[row_start(n, i) - base + (j - i)] = v;
                    }
                }
            }
        }
    });
    let edge = edge_rows(n)
        .map(|i| {
            let row: Vec<f64> = (0..n)
                .into_par_iter()
                .map(|j| {
                    if in_full_group(n, j) {
                        edge_4x1_dot(fma, x.row(i), x.row(j), &blocks)
                    } else {
                        let (a, b) = if i <= j { (i, j) } else { (j, i) };
                        data[row_start(n, a) + (b - a)]
                    }
                })
                .collect();
            (i, row)
        })
        .collect();
    Gram { n, data, edge }
}

/// All dot products of one packed panel with two others (PANEL × 2·PANEL), each one FMA chain
/// per feature block, the block sums added in order.
fn tile_dots(fma: bool, a: &[f64], b0: &[f64], b1: &[f64], blocks: &[(usize, usize)]) -> Tile {
    #[cfg(target_arch = "x86_64")]
    if fma {
        // SAFETY: `fma` comes from `fma_available`, which checked AVX2 and FMA.
        return unsafe { tile_dots_fma(a, b0, b1, blocks) };
    }
    let _ = fma;
    tile_dots_impl(a, b0, b1, blocks)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tile_dots_fma(a: &[f64], b0: &[f64], b1: &[f64], blocks: &[(usize, usize)]) -> Tile {
    tile_dots_impl(a, b0, b1, blocks)
}

#[inline(always)]
fn tile_dots_impl(a: &[f64], b0: &[f64], b1: &[f64], blocks: &[(usize, usize)]) -> Tile {
    let mut total = [[0.0f64; TILE_J]; PANEL];
    for &(s, l) in blocks {
        let mut acc = [[0.0f64; TILE_J]; PANEL];
        let range = s * PANEL..(s + l) * PANEL;
        let (pa, pb0, pb1) = (&a[range.clone()], &b0[range.clone()], &b1[range]);
        for ((av, bv0), bv1) in pa.chunks_exact(PANEL).zip(pb0.chunks_exact(PANEL)).zip(pb1.chunks_exact(PANEL)) {
            for r in 0..PANEL {
                for c in 0..PANEL {
                    acc[r][c] = av[r].mul_add(bv0[c], acc[r][c]);
                    acc[r][PANEL + c] = av[r].mul_add(bv1[c], acc[r][PANEL + c]);
                }
            }
        }
        for r in 0..PANEL {
            for c in 0..TILE_J {
                total[r][c] += acc[r][c];
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_follow_the_level3_driver() {
        let b: Vec<_> = k_blocks(700).collect();
        // 700 ≥ 512 → 256; 444 in (256, 512) → ceil(222 / 4)·4 = 224; then 220.
        assert_eq!(b, vec![(0, 256), (256, 224), (480, 220)]);
        assert_eq!(k_blocks(256).collect::<Vec<_>>(), vec![(0, 256)]);
        assert_eq!(k_blocks(257).collect::<Vec<_>>(), vec![(0, 128), (128, 129)]);
        assert_eq!(k_blocks(0).count(), 0);
    }

    #[test]
    fn kernels_agree_with_and_without_hardware_fma() {
        let d = 700;
        let v: Vec<f64> = (0..3 * PANEL * d).map(|t| ((t * 7919 % 1000) as f64 / 37.0).sin()).collect();
        let (a, b0, b1) = (&v[..PANEL * d], &v[PANEL * d..2 * PANEL * d], &v[2 * PANEL * d..]);
        let blocks: Vec<_> = k_blocks(d).collect();
        let fma = fma_available();
        assert_eq!(tile_dots(false, a, b0, b1, &blocks), tile_dots(fma, a, b0, b1, &blocks));
        assert_eq!(edge_4x1_dot(false, a, b0, &blocks).to_bits(), edge_4x1_dot(fma, a, b0, &blocks).to_bits());
        assert_eq!(ddot_impl(a, b0).to_bits(), ddot(a, b0).to_bits());
    }

    #[test]
    fn edge_rows_are_the_ends_of_odd_chunks() {
        assert_eq!(edge_rows(15).collect::<Vec<_>>(), vec![14]);
        assert_eq!(edge_rows(16).count(), 0);
        assert_eq!(edge_rows(256 + 7).collect::<Vec<_>>(), vec![262]);
        assert_eq!(edge_rows(3 * 256).count(), 0);
        assert!(in_full_group(15, 11) && !in_full_group(15, 12));
        assert!(in_full_group(263, 255) && in_full_group(263, 259) && !in_full_group(263, 260));
    }

    #[test]
    fn gram_matches_the_pairwise_chains() {
        let (n, d) = (11, 600);
        let mut s = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let data: Vec<f64> = (0..n * d).map(|_| next()).collect();
        let x = Matrix::from_row_major(n, d, data).unwrap();
        let g = gram(&x);
        for i in 0..n {
            for j in 0..n {
                if i == n - 1 && j < n / 4 * 4 {
                    continue;
                }
                assert_eq!(g.get_xy(i, j).to_bits(), gemm_dot(x.row(i), x.row(j)).to_bits(), "{i},{j}");
            }
        }
    }
}
