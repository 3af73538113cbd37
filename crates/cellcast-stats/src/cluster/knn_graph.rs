//! scanpy 1.11.5's `pp.neighbors(adata, n_neighbors, use_rep="X")` for small data: the exact
//! brute-force kNN of scikit-learn's `KNeighborsTransformer`, scanpy's bookkeeping of the self
//! column, and umap-learn 0.5.12's `fuzzy_simplicial_set` connectivities (in float32).
//!
//! Every step keeps the reference's arithmetic: squared distances by the
//! `‖x‖² + (−2 x·y) + ‖y‖²` decomposition with OpenBLAS's rounding of both terms (see
//! [`super::openblas`]), scikit-learn's fixed-size max-heap and introsort (they
//! decide the order of tied neighbours), umap's float32 bandwidth search and fuzzy union.

use super::{openblas, ClusterError, EXACT_KNN_MAX_ROWS};
use crate::Matrix;
use rayon::prelude::*;

/// The symmetric connectivities matrix in CSR form (columns ascending within each row), values in
/// float32 as umap-learn computes them. The diagonal is never stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Connectivities {
    n: usize,
    indptr: Vec<usize>,
    indices: Vec<usize>,
    data: Vec<f32>,
}

impl Connectivities {
    /// Number of vertices (rows of the input).
    pub fn n(&self) -> usize {
        self.n
    }

    /// Stored (non-zero) entries.
    pub fn nnz(&self) -> usize {
        self.data.len()
    }

    /// Column indices and values of row `i`.
    pub fn row(&self, i: usize) -> (&[usize], &[f32]) {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[a..b], &self.data[a..b])
    }

    /// Entries in row-major order, as `(row, column, value)`.
    pub fn triplets(&self) -> impl Iterator<Item = (usize, usize, f32)> + '_ {
        (0..self.n).flat_map(move |i| {
            let (cols, vals) = self.row(i);
            cols.iter().zip(vals).map(move |(&j, &v)| (i, j, v))
        })
    }
}

/// The kNN search result scanpy hands to umap: `n_neighbors` columns per row, self included.
#[derive(Debug, Clone)]
pub(crate) struct Knn {
    pub k: usize,
    pub indices: Vec<usize>,
    pub distances: Vec<f64>,
}

/// Connectivities of scanpy's `pp.neighbors(n_neighbors=n_neighbors, use_rep="X")` (method
/// "umap", metric "euclidean") on the rows of `x`, for the exact-kNN path scanpy takes below
/// 8192 observations (larger inputs are an error). `n_neighbors` counts the point itself, as in
/// scanpy; it must be in `2..=n_rows - 1` (cell-eval passes `min(15, n_rows - 1)`).
/// `sklearn_threads` is scikit-learn's OpenMP thread count (see [`super::REFERENCE_THREADS`]).
pub fn knn_connectivities(
    x: &Matrix,
    n_neighbors: usize,
    sklearn_threads: usize,
) -> Result<Connectivities, ClusterError> {
    let n = x.nrows();
    if n_neighbors < 2 || n_neighbors >= n {
        return Err(ClusterError::InvalidNeighbors { n_neighbors, n_rows: n });
    }
    if n > EXACT_KNN_MAX_ROWS {
        return Err(ClusterError::ApproximateNeighbors { n });
    }
    check_input(x)?;
    let knn = scanpy_knn(x, n_neighbors, sklearn_threads);
    Ok(umap_connectivities(&knn, n))
}

pub(crate) fn check_input(x: &Matrix) -> Result<(), ClusterError> {
    if x.ncols() == 0 {
        return Err(ClusterError::NoFeatures { n_rows: x.nrows() });
    }
    if x.as_slice().iter().any(|v| !v.is_finite()) {
        return Err(ClusterError::NonFinite);
    }
    Ok(())
}

/// scikit-learn's brute-force `kneighbors` of the rows of `x` among themselves (metric
/// euclidean, float64): `k` neighbours per row, nearest first, the query point included (it is
/// usually, not always, first), as `KNeighborsTransformer(algorithm="brute", n_neighbors=k - 1)`
/// returns them before scanpy's bookkeeping. Distances are rounded as scikit-learn and its
/// OpenBLAS round them, so exact duplicate rows sit at scikit-learn's tiny residual distances,
/// not at 0. `k` must be in `1..=n_rows`; `sklearn_threads` (≥ 1) is scikit-learn's OpenMP
/// thread count, which decides the order of exactly tied neighbours beyond 256 rows.
pub fn euclidean_kneighbors(
    x: &Matrix,
    k: usize,
    sklearn_threads: usize,
) -> Result<(Vec<usize>, Vec<f64>), ClusterError> {
    let n = x.nrows();
    if k == 0 || k > n {
        return Err(ClusterError::InvalidNeighbors { n_neighbors: k, n_rows: n });
    }
    if n > EXACT_KNN_MAX_ROWS {
        return Err(ClusterError::ApproximateNeighbors { n });
    }
    check_input(x)?;
    Ok(argkmin(x, k, sklearn_threads))
}

/// scikit-learn's row chunk in its pairwise reductions (`pairwise_dist_chunk_size`).
const CHUNK: usize = 256;

/// scikit-learn's `ArgKmin` (euclidean specialisation) with `threads` OpenMP threads: squared
/// distances `(‖x‖² + (−2 x·y)) + ‖y‖²` from OpenBLAS's `ddot` norms and `dgemm` products,
/// fixed-size max-heaps, its introsort, then the square roots of the clipped values.
///
/// The heaps decide the order of exactly tied distances, and they depend on the strategy
/// scikit-learn picks ("auto", X = Y): `parallel_on_X` when `4 · 256 · threads < n` (each row's
/// heap fed directly, candidates in order), else `parallel_on_Y`: the 256-row candidate chunks
/// are split statically over `min(chunks, threads)` threads (libgomp: the first `chunks % t`
/// threads take one chunk more), each with its own heap, then those heaps are pushed in thread
/// order, in storage order, into the row's heap.
fn argkmin(x: &Matrix, big_k: usize, threads: usize) -> (Vec<usize>, Vec<f64>) {
    let n = x.nrows();
    let threads = threads.max(1);
    let norms: Vec<f64> = x.rows().map(|r| openblas::ddot(r, r)).collect();
    let gram = openblas::gram(x);
    let n_chunks = n.div_ceil(CHUNK);
    // Candidate ranges of each thread heap; None = parallel_on_X (no thread heaps).
    let parts: Option<Vec<(usize, usize)>> = if 4 * CHUNK * threads < n {
        None
    } else {
        let t = n_chunks.min(threads);
        let (q, r) = (n_chunks / t, n_chunks % t);
        Some(
            (0..t)
                .map(|i| {
                    let first = q * i + i.min(r);
                    let last = first + q + usize::from(i < r);
                    (first * CHUNK, (last * CHUNK).min(n))
                })
                .collect(),
        )
    };
    let mut idx = vec![0usize; n * big_k];
    let mut dist = vec![0f64; n * big_k];
    // Rows are independent, so the parallel result is the sequential one.
    idx.par_chunks_mut(big_k).zip(dist.par_chunks_mut(big_k)).enumerate().for_each(|(i, (ri, rd))| {
        let sq = |j: usize| {
            let middle = -2.0 * gram.get_xy(i, j);
            let sq = (norms[i] + middle) + norms[j];
            if sq > 0.0 {
                sq
            } else {
                0.0
            }
        };
        let mut vals = vec![f64::MAX; big_k];
        let mut inds = vec![0isize; big_k];
        match &parts {
            None => {
                for j in 0..n {
                    heap_push(&mut vals, &mut inds, sq(j), j as isize);
                }
            }
            Some(parts) => {
                let mut thread_vals = vec![f64::MAX; big_k];
                let mut thread_idx = vec![-1isize; big_k];
                for &(a, b) in parts {
                    thread_vals.fill(f64::MAX);
                    thread_idx.fill(-1);
                    for j in a..b {
                        heap_push(&mut thread_vals, &mut thread_idx, sq(j), j as isize);
                    }
                    for t in 0..big_k {
                        heap_push(&mut vals, &mut inds, thread_vals[t], thread_idx[t]);
                    }
                }
            }
        }
        let maxd = 2 * ((big_k as f64).log2() as isize);
        introsort_2way(&mut vals, &mut inds, maxd);
        for t in 0..big_k {
            ri[t] = inds[t] as usize;
            rd[t] = (if vals[t] > 0.0 { vals[t] } else { 0.0 }).sqrt();
        }
    });
    (idx, dist)
}

/// scikit-learn's `KNeighborsTransformer(algorithm="brute").fit_transform(x)` as scanpy uses it
/// (k + 1 neighbours per row, the query point included), then scanpy's
/// `_get_indices_distances_from_sparse_matrix` and its zeroing of the diagonal.
pub(crate) fn scanpy_knn(x: &Matrix, n_neighbors: usize, sklearn_threads: usize) -> Knn {
    let n = x.nrows();
    let big_k = n_neighbors + 1;
    let (idx, dist) = argkmin(x, big_k, sklearn_threads);

    // scanpy: the distances it keeps are a view of the sparse matrix's data, so zeroing the
    // diagonal of that matrix zeroes the self distances it passes on, unless it had to prepend a
    // self column (then the arrays are fresh copies and nothing is zeroed).
    let has_self = (0..n).any(|i| idx[i * big_k] == i);
    let k = n_neighbors;
    let mut indices = Vec::with_capacity(n * k);
    let mut distances = Vec::with_capacity(n * k);
    for i in 0..n {
        let (ri, rd) = (&idx[i * big_k..(i + 1) * big_k], &dist[i * big_k..(i + 1) * big_k]);
        if has_self {
            for t in 0..k {
                indices.push(ri[t]);
                distances.push(if ri[t] == i { 0.0 } else { rd[t] });
            }
        } else {
            indices.push(i);
            distances.push(0.0);
            indices.extend_from_slice(&ri[..k - 1]);
            distances.extend_from_slice(&rd[..k - 1]);
        }
    }
    Knn { k, indices, distances }
}

/// scikit-learn's `heap_push` onto a fixed-size max-heap stored as parallel arrays.
fn heap_push(values: &mut [f64], indices: &mut [isize], val: f64, val_idx: isize) {
    let size = values.len();
    if val >= values[0] {
        return;
    }
    let mut current = 0;
    loop {
        let left = 2 * current + 1;
        let right = left + 1;
        if left >= size {
            break;
        }
        // The larger child, the left one on ties (or when it is the only one).
        let swap = if right >= size || values[left] >= values[right] { left } else { right };
        if val >= values[swap] {
            break;
        }
        values[current] = values[swap];
        indices[current] = indices[swap];
        current = swap;
    }
    values[current] = val;
    indices[current] = val_idx;
}

/// scikit-learn's `simultaneous_sort` (introsort, 2-way partition): not stable, so tied
/// distances come out in the order this particular algorithm leaves them.
fn introsort_2way(values: &mut [f64], indices: &mut [isize], mut maxd: isize) {
    let mut start = 0usize;
    let mut n = values.len();
    while n > 15 {
        let (v, ix) = (&mut values[start..start + n], &mut indices[start..start + n]);
        if maxd <= 0 {
            heapsort(v, ix);
            return;
        }
        maxd -= 1;
        let pivot = inplace_median3(v, ix);
        let mut i = 1isize;
        let mut j = n as isize - 2;
        loop {
            while i <= j && v[i as usize] < pivot {
                i += 1;
            }
            while i <= j && v[j as usize] > pivot {
                j -= 1;
            }
            if i >= j {
                break;
            }
            v.swap(i as usize, j as usize);
            ix.swap(i as usize, j as usize);
            i += 1;
            j -= 1;
        }
        let pivot_idx = i as usize;
        v.swap(pivot_idx, n - 1);
        ix.swap(pivot_idx, n - 1);
        introsort_2way(&mut v[..pivot_idx], &mut ix[..pivot_idx], maxd);
        start += pivot_idx + 1;
        n -= pivot_idx + 1;
    }
    insertion_sort(&mut values[start..start + n], &mut indices[start..start + n]);
}

fn inplace_median3(v: &mut [f64], ix: &mut [isize]) -> f64 {
    let n = v.len();
    let p = n / 2;
    if v[0] > v[n - 1] {
        v.swap(0, n - 1);
        ix.swap(0, n - 1);
    }
    if v[n - 1] > v[p] {
        v.swap(n - 1, p);
        ix.swap(n - 1, p);
        if v[0] > v[n - 1] {
            v.swap(0, n - 1);
            ix.swap(0, n - 1);
        }
    }
    v[n - 1]
}

fn heapsort(v: &mut [f64], ix: &mut [isize]) {
    let n = v.len();
    let mut start = (n as isize - 2) / 2;
    loop {
        sift_down(v, ix, start.max(0) as usize, n);
        if start <= 0 {
            break;
        }
        start -= 1;
    }
    let mut end = n.saturating_sub(1);
    while end > 0 {
        v.swap(0, end);
        ix.swap(0, end);
        sift_down(v, ix, 0, end);
        end -= 1;
    }
}

fn sift_down(v: &mut [f64], ix: &mut [isize], start: usize, end: usize) {
    let mut root = start;
    loop {
        let child = root * 2 + 1;
        let mut maxind = root;
        if child < end && v[maxind] < v[child] {
            maxind = child;
        }
        if child + 1 < end && v[maxind] < v[child + 1] {
            maxind = child + 1;
        }
        if maxind == root {
            break;
        }
        v.swap(root, maxind);
        ix.swap(root, maxind);
        root = maxind;
    }
}

fn insertion_sort(v: &mut [f64], ix: &mut [isize]) {
    for i in 1..v.len() {
        let (tv, ti) = (v[i], ix[i]);
        let mut j = i;
        while j > 0 && v[j - 1] > tv {
            v[j] = v[j - 1];
            ix[j] = ix[j - 1];
            j -= 1;
        }
        v[j] = tv;
        ix[j] = ti;
    }
}

const SMOOTH_K_TOLERANCE: f64 = 1e-5;
const MIN_K_DIST_SCALE: f64 = 1e-3;

/// umap-learn's `smooth_knn_dist` (local_connectivity 1, bandwidth 1, 64 bisection steps):
/// distances, bounds and bandwidths in float32, as numba compiles it.
fn smooth_knn_dist(dist: &[f32], n: usize, k: usize) -> (Vec<f32>, Vec<f32>) {
    let target = (k as f64).log2();
    // Only consulted for rows without a positive distance, whose memberships are all 1 whatever
    // the bandwidth; numba's parallel reduction order (thread-count dependent) cannot matter.
    let mean_all = dist.iter().fold(0f32, |s, &v| s + v) as f64 / dist.len() as f64;
    let mut sigmas = vec![0f32; n];
    let mut rhos = vec![0f32; n];
    for i in 0..n {
        let row = &dist[i * k..(i + 1) * k];
        let rho = row.iter().copied().find(|&d| d > 0.0).unwrap_or(0.0);
        rhos[i] = rho;
        let (mut lo, mut hi, mut mid) = (0f32, f32::MAX, 1f32);
        for _ in 0..64 {
            // Despite its float32 `locals`, the compiled loop sums in float64 (the quotient,
            // its exp and the sum): that is what reproduces umap's bandwidths bit for bit.
            let mut psum = 0f64;
            for &dj in &row[1..] {
                let d = dj - rho;
                if d > 0.0 {
                    psum += (-(f64::from(d) / f64::from(mid))).exp();
                } else {
                    psum += 1.0;
                }
            }
            if (psum - target).abs() < SMOOTH_K_TOLERANCE {
                break;
            }
            if psum > target {
                hi = mid;
                mid = ((lo + hi) as f64 / 2.0) as f32;
            } else {
                lo = mid;
                if hi >= f32::MAX {
                    mid = (mid as f64 * 2.0) as f32;
                } else {
                    mid = ((lo + hi) as f64 / 2.0) as f32;
                }
            }
        }
        let mut sigma = mid;
        if rho > 0.0 {
            let mean_row = row.iter().fold(0f32, |s, &v| s + v) as f64 / k as f64;
            if (sigma as f64) < MIN_K_DIST_SCALE * mean_row {
                sigma = (MIN_K_DIST_SCALE * mean_row) as f32;
            }
        } else if (sigma as f64) < MIN_K_DIST_SCALE * mean_all {
            sigma = (MIN_K_DIST_SCALE * mean_all) as f32;
        }
        sigmas[i] = sigma;
    }
    (sigmas, rhos)
}

/// umap-learn's `fuzzy_simplicial_set` from precomputed neighbours (set_op_mix_ratio 1): the
/// membership strengths, then the fuzzy union `A + Aᵀ − A∘Aᵀ`, all in float32.
pub(crate) fn umap_connectivities(knn: &Knn, n: usize) -> Connectivities {
    let k = knn.k;
    let dist: Vec<f32> = knn.distances.iter().map(|&d| d as f32).collect();
    let (sigmas, rhos) = smooth_knn_dist(&dist, n, k);
    // Rows of A (columns ascending, zeros eliminated as `coo.eliminate_zeros` does) and of Aᵀ.
    let mut a_rows: Vec<Vec<(usize, f32)>> = vec![Vec::with_capacity(k); n];
    let mut at_rows: Vec<Vec<(usize, f32)>> = vec![Vec::new(); n];
    for i in 0..n {
        for t in 0..k {
            let j = knn.indices[i * k + t];
            let d = dist[i * k + t];
            let val = if j == i {
                0.0
            } else if d - rhos[i] <= 0.0 || sigmas[i] == 0.0 {
                1.0
            } else {
                (-((d - rhos[i]) / sigmas[i])).exp()
            };
            if val != 0.0 {
                a_rows[i].push((j, val));
            }
        }
        a_rows[i].sort_by_key(|&(j, _)| j);
        for &(j, val) in &a_rows[i] {
            at_rows[j].push((i, val));
        }
    }
    let mut indptr = Vec::with_capacity(n + 1);
    let mut indices = Vec::new();
    let mut data = Vec::new();
    indptr.push(0);
    for i in 0..n {
        let (ra, rt) = (&a_rows[i], &at_rows[i]);
        let (mut p, mut q) = (0, 0);
        while p < ra.len() || q < rt.len() {
            let ja = ra.get(p).map_or(usize::MAX, |e| e.0);
            let jt = rt.get(q).map_or(usize::MAX, |e| e.0);
            let j = ja.min(jt);
            let x = if ja == j { ra[p].1 } else { 0.0 };
            let y = if jt == j { rt[q].1 } else { 0.0 };
            p += usize::from(ja == j);
            q += usize::from(jt == j);
            let w = (x + y) - x * y;
            if w != 0.0 {
                indices.push(j);
                data.push(w);
            }
        }
        indptr.push(indices.len());
    }
    Connectivities { n, indptr, indices, data }
}
