//! cell-eval's `pearson_edistance`: for every perturbation, the energy distance between its cells
//! and the control cells, E = 2·mean d(P, C) − mean d(P, P) − mean d(C, C), in the real and in
//! the predicted data; the metric is Pearson's r between the two across perturbations.
//!
//! Distances are scikit-learn's `euclidean_distances`: √(max(‖x‖² − 2x·y + ‖y‖², 0)), computed
//! in float64 and rounded to the data's precision before the square root (its float32 "upcast"
//! path), with a zero diagonal for a set against itself. Each mean is numpy's pairwise sum over
//! the distance matrix in row-major order, produced a block of rows at a time, never stored
//! whole.
//!
//! The products x·y come from one of three kernels. Sparse cells take scipy's sparse product,
//! which is what scikit-learn runs on them: x·y accumulates over the genes x expresses, in gene
//! order, adding x_k·y_k where y expresses gene k too. The fast form of it ([`Kernel::Columns`])
//! holds the other set dense, gene by gene, and adds x_k times gene k's values of every other cell
//! at once in SIMD lanes — a multiply then an add per term, never fused, and a zero y_k adds an
//! exact zero — so its sums are scipy's to the bit; without SIMD the scatter form adds only the
//! shared genes. Cells of a dense file take faer's dense product, whose sums run in another order
//! (a difference far below the float32 rounding of the distances); with SIMD, only over the genes
//! most cells express, the others through the columns kernel ([`Kernel::Split`]), their two
//! sums added. A set against itself computes only the upper half of its products (x·y = y·x
//! exactly in scipy's order too) when they fit in memory.

use std::collections::HashMap;
use std::sync::Arc;

use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, Mat, MatMut, Par};

use crate::numeric::{pairwise_sum_of, Leaves, Precision};
use crate::screen::{HeldValue, SparseRow};

/// Above this share of stored values faer's dense product is the faster: the sparse rows against
/// dense columns cost density · genes multiply-adds a pair, the dense product genes fused
/// multiply-adds at a higher rate (without SIMD the scatter form costs density² · genes
/// scattered ones, each some 30 times a dense one: about as fast at this density). Measured on
/// the 40k-cell screens (CPU of the whole run): at 12 % stored, 2.3 s with the columns kernel and
/// 3.7 s with faer's; at 56 %, 7.2 s and 4.1 s.
const DENSE_ABOVE_DENSITY: f64 = 0.2;
/// In a dense file, a gene stored in fewer of the cells than this share goes to the columns
/// kernel ([`Kernel::Split`]): per pair of cells it costs the columns kernel about three dense
/// multiply-adds per stored value (its tile of columns is read from the L2 cache), so a gene
/// stored in under a third of the cells is cheaper there. Measured on the counts 40k screen
/// (56 % stored; medians of three to five whole runs): faer alone 3.85 s; with 0.2 to 0.5 here
/// 3.62–3.68 s, 0.6 3.78 s, 0.7 4.03 s. On the Papalexi screen of ../shared/data (21 % stored,
/// 241 of its 299 genes below 0.4) a whole run went from 0.29 to 0.20 s.
const SPARSE_GENE_BELOW: f64 = 0.4;
/// The largest dense copy of one set of cells; a larger set keeps the scatter kernel.
const MAX_DENSE_BYTES: usize = 256 << 20;
/// The largest self-product held whole (to compute only its upper half).
const MAX_GRAM_BYTES: usize = 64 << 20;
/// Distances computed per block of rows.
const BLOCK_BYTES: usize = 16 << 20;
/// Cells of the dense columns a row's sums are taken for at a time with AVX-512: the sums stay
/// in SIMD registers (16 AVX-512 ones) while the row's genes pass, and every row passes over one
/// tile of all the genes before the next (measured faster than 32 or 64 on the log1p 40k
/// screen).
const COLUMN_TILE: usize = 128;
/// The tile with AVX2: eight of its sixteen registers of four sums (measured faster than 16 or
/// 48 on the log1p 40k screen, on an AMD EPYC of 2019).
const COLUMN_TILE_AVX2: usize = 32;

/// How the products of two sets of cells are computed (see the [module documentation](self)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kernel {
    /// faer's dense product.
    Dense,
    /// faer's dense product over the genes most cells express, the columns kernel over the others.
    Split(Arc<GeneSplit>),
    /// scipy's sparse product: sparse rows against the other set's dense gene columns, in AVX-512
    /// or AVX2 lanes.
    Columns,
    /// scipy's sparse product, scattered over the shared genes.
    Scatter,
}

/// The kernel for the cells of a file of `n_cells` cells, given how many of them store each gene.
/// For a sparse file, the choice between faer's product and scipy's does not depend on the CPU
/// (the two forms of scipy's give the same bits), so neither do the distances' sums.
pub fn kernel(stored_per_gene: &[u64], n_cells: usize) -> Kernel {
    let stored = stored_per_gene.iter().sum::<u64>() as usize;
    let density = stored as f64 / (n_cells * stored_per_gene.len()).max(1) as f64;
    if density <= DENSE_ABOVE_DENSITY {
        return if simd() { Kernel::Columns } else { Kernel::Scatter };
    }
    let sparse = |&n: &u64| (n as f64) < SPARSE_GENE_BELOW * n_cells as f64;
    if !simd() || !stored_per_gene.iter().any(sparse) {
        return Kernel::Dense;
    }
    let (mut n_dense, mut n_sparse) = (0, 0);
    let places = stored_per_gene
        .iter()
        .map(|n| {
            if sparse(n) {
                n_sparse += 1;
                (n_sparse - 1) | GeneSplit::SPARSE
            } else {
                n_dense += 1;
                n_dense - 1
            }
        })
        .collect();
    Kernel::Split(Arc::new(GeneSplit { places, n_dense: n_dense as usize, n_sparse: n_sparse as usize }))
}

/// A file's genes parted between faer's product and the columns kernel ([`Kernel::Split`]).
#[derive(Debug, PartialEq, Eq)]
pub struct GeneSplit {
    /// Each gene's place among its part's genes, with [`GeneSplit::SPARSE`] set for a sparse one.
    places: Vec<u32>,
    n_dense: usize,
    n_sparse: usize,
}

impl GeneSplit {
    const SPARSE: u32 = 1 << 31;

    /// `rows` parted: their dense genes as a genes × cells matrix, their sparse ones as rows of
    /// the sparse genes' places.
    fn apply(&self, rows: &[SparseRow<'_>]) -> (Mat<f64>, OwnedRows) {
        // Without a branch on the part (genes of both parts alternate unpredictably): every value
        // is written to both, a sparse gene's into a spare last row of the matrix, a dense one's
        // past the sparse rows' end, where the next value overwrites it (that end is at most the
        // values seen before, so inside the arrays).
        let mut dense = Mat::<f64>::zeros(self.n_dense + 1, rows.len());
        let stored: usize = rows.iter().map(|(idx, _)| idx.len()).sum();
        let mut sparse = OwnedRows { indptr: vec![0], genes: vec![0; stored], values: vec![0.0; stored] };
        let mut end = 0;
        for (i, (idx, v)) in rows.iter().enumerate() {
            let col = dense.col_mut(i);
            let col = col.try_as_col_major_mut().expect("a column of an owned matrix is contiguous").as_slice_mut();
            for (&k, &x) in idx.iter().zip(v.iter()) {
                let place = self.places[k as usize];
                let is_sparse = place & Self::SPARSE != 0;
                let place = place & !Self::SPARSE;
                col[if is_sparse { self.n_dense } else { place as usize }] = x;
                sparse.genes[end] = place;
                sparse.values[end] = x;
                end += usize::from(is_sparse);
            }
            sparse.indptr.push(end);
        }
        // Sized for every stored value: give back what the dense genes' values did not take.
        sparse.genes.truncate(end);
        sparse.genes.shrink_to_fit();
        sparse.values.truncate(end);
        sparse.values.shrink_to_fit();
        dense.truncate(self.n_dense, rows.len());
        (dense, sparse)
    }
}

/// Rows of cells owned (the sparse genes' part of a [`GeneSplit`]).
struct OwnedRows {
    indptr: Vec<usize>,
    genes: Vec<u32>,
    values: Vec<f64>,
}

impl OwnedRows {
    fn rows(&self, range: std::ops::Range<usize>) -> Vec<SparseRow<'_>> {
        range
            .map(|r| {
                let span = self.indptr[r]..self.indptr[r + 1];
                (&self.genes[span.clone()], &self.values[span])
            })
            .collect()
    }
}

/// Whether this CPU has the SIMD the columns kernel is compiled for: AVX-512, whose 32
/// registers hold a row's 128 sums, or AVX2, whose 16 hold 32 (without either the scatter form,
/// which gives the same bits, is as fast).
fn simd() -> bool {
    ColumnSimd::detect() != ColumnSimd::Portable
}

/// Cells (one perturbation's, or the control's), genes ascending.
pub struct Cells<'r> {
    rows: Vec<SparseRow<'r>>,
    /// ‖row‖², summed in stored order (scipy's `csr_row_norms`); identical profiles, at
    /// distance exactly 0, have the same (see [`Twins`]).
    norms: Vec<f64>,
    n_genes: usize,
    form: Form,
}

enum Form {
    /// genes × cells: a cell is a contiguous column.
    Dense(Mat<f64>),
    /// Dense gene columns, a tile of cells at a time (see [`Columns`]).
    Columns(Columns),
    /// Parted by `split`: the dense genes × cells, and the sparse genes' rows and columns.
    Split { split: Arc<GeneSplit>, dense: Mat<f64>, sparse: OwnedRows, columns: Columns },
    /// The rows as columns: gene k's cells and values are `cells[starts[k]..starts[k + 1]]`,
    /// cells ascending.
    Sparse { starts: Vec<usize>, cells: Vec<u32>, values: Vec<f64> },
}

/// A value of the dense columns: float32 or float64.
trait ColumnValue: HeldValue {
    /// Four consecutive values from `p`, widened to float64.
    ///
    /// # Safety
    /// `p..p + 4` is inside one allocation, and the CPU has AVX2.
    #[cfg(target_arch = "x86_64")]
    unsafe fn four(p: *const Self) -> std::arch::x86_64::__m256d;
}

impl ColumnValue for f32 {
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn four(p: *const f32) -> std::arch::x86_64::__m256d {
        use std::arch::x86_64::*;
        // SAFETY: the caller's.
        unsafe { _mm256_cvtps_pd(_mm_loadu_ps(p)) }
    }
}

impl ColumnValue for f64 {
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn four(p: *const f64) -> std::arch::x86_64::__m256d {
        // SAFETY: the caller's.
        unsafe { std::arch::x86_64::_mm256_loadu_pd(p) }
    }
}

/// The dense gene columns of the columns kernel, a tile of cells at a time: cell `b·tile + i`'s
/// value of gene k is `values[(b·n_genes + k)·tile + i]`, zeros after the last cell. A tile's
/// values are contiguous, so its pass over a row's genes walks forward through them (gene rows a
/// whole set of cells apart, 2 KiB for 512 float32s, all fell into a few of the L2 cache's sets).
struct Columns {
    values: ColumnValues,
    n_genes: usize,
    simd: ColumnSimd,
}

/// float32 when every value is one exactly (half the bytes to stream, and the same products: a
/// float32 widens to float64 exactly).
enum ColumnValues {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// The instructions the columns kernel runs on, which set its tile (the cells whose sums stay
/// in registers while a row's genes pass).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnSimd {
    /// 32 registers of eight sums.
    Avx512,
    /// 16 registers of four (eight hold the sums).
    Avx2,
    /// Any CPU (tests ask for the kernel without SIMD).
    Portable,
}

impl ColumnSimd {
    fn detect() -> ColumnSimd {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return ColumnSimd::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return ColumnSimd::Avx2;
            }
        }
        ColumnSimd::Portable
    }

    fn tile(self) -> usize {
        match self {
            ColumnSimd::Avx512 | ColumnSimd::Portable => COLUMN_TILE,
            ColumnSimd::Avx2 => COLUMN_TILE_AVX2,
        }
    }
}

impl Columns {
    fn new(rows: &[SparseRow<'_>], n_genes: usize, simd: ColumnSimd) -> Columns {
        fn fill<T: HeldValue>(rows: &[SparseRow<'_>], n_genes: usize, tile: usize) -> Vec<T> {
            let mut values = vec![T::from_f64(0.0); rows.len().div_ceil(tile) * tile * n_genes];
            for (c, (idx, v)) in rows.iter().enumerate() {
                let (b, i) = (c / tile, c % tile);
                for (&k, &x) in idx.iter().zip(v.iter()) {
                    values[(b * n_genes + k as usize) * tile + i] = T::from_f64(x);
                }
            }
            values
        }
        let tile = simd.tile();
        let narrow = rows.iter().all(|(_, v)| v.iter().all(|&x| f64::from(x as f32) == x));
        let values = if narrow {
            ColumnValues::F32(fill(rows, n_genes, tile))
        } else {
            ColumnValues::F64(fill(rows, n_genes, tile))
        };
        Columns { values, n_genes, simd }
    }

    /// `out[r * m + j] = Σ_k x_rk · column_k[j]` for the sparse rows `rows` against these `m`
    /// cells, for every j — or, with `upper = Some(first)`, only for j ≥ first + r (entries
    /// below are left as they are). Each sum runs over row r's genes in order, a multiply then
    /// an add per gene, as scipy's sparse product (see the module documentation).
    fn times(&self, rows: &[SparseRow<'_>], m: usize, upper: Option<usize>, out: &mut [f64]) {
        match &self.values {
            ColumnValues::F32(c) => rows_times_columns(self.simd, rows, c, self.n_genes, m, upper, out),
            ColumnValues::F64(c) => rows_times_columns(self.simd, rows, c, self.n_genes, m, upper, out),
        }
    }
}

impl<'r> Cells<'r> {
    /// Held for `kernel` (see [`kernel`]), or for the scatter kernel if its copy would not fit.
    pub fn new(rows: Vec<SparseRow<'r>>, n_genes: usize, kernel: &Kernel) -> Cells<'r> {
        let norms = rows.iter().map(|(_, v)| v.iter().fold(0.0, |acc, x| acc + x * x)).collect();
        let fits = rows.len() * n_genes * 8 <= MAX_DENSE_BYTES;
        let form = if *kernel == Kernel::Dense && fits {
            Form::Dense(densify(&rows, n_genes))
        } else if *kernel == Kernel::Columns && fits {
            Form::Columns(Columns::new(&rows, n_genes, ColumnSimd::detect()))
        } else if let (Kernel::Split(split), true) = (kernel, fits) {
            let (dense, sparse) = split.apply(&rows);
            let columns = Columns::new(&sparse.rows(0..rows.len()), split.n_sparse, ColumnSimd::detect());
            Form::Split { split: split.clone(), dense, sparse, columns }
        } else {
            let mut starts = vec![0usize; n_genes + 1];
            for (idx, _) in &rows {
                for &j in idx.iter() {
                    starts[j as usize + 1] += 1;
                }
            }
            for k in 0..n_genes {
                starts[k + 1] += starts[k];
            }
            let mut fill = starts.clone();
            let mut cells = vec![0u32; starts[n_genes]];
            let mut values = vec![0.0; starts[n_genes]];
            for (i, (idx, v)) in rows.iter().enumerate() {
                for (&j, &x) in idx.iter().zip(v.iter()) {
                    cells[fill[j as usize]] = i as u32;
                    values[fill[j as usize]] = x;
                    fill[j as usize] += 1;
                }
            }
            Form::Sparse { starts, cells, values }
        };
        Cells { rows, norms, n_genes, form }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// `rows` as a genes × cells matrix.
fn densify(rows: &[SparseRow<'_>], n_genes: usize) -> Mat<f64> {
    let mut m = Mat::<f64>::zeros(n_genes, rows.len());
    for (i, (idx, v)) in rows.iter().enumerate() {
        let col = m.col_mut(i);
        let col = col.try_as_col_major_mut().expect("a column of an owned matrix is contiguous").as_slice_mut();
        for (&j, &x) in idx.iter().zip(v.iter()) {
            col[j as usize] = x;
        }
    }
    m
}

/// The products of rows `r0..r0 + nb` of `a` with every row of `b`, into `out` (row r's
/// products contiguous: `out[r * m..(r + 1) * m]`).
fn products(a: &Cells<'_>, b: &Cells<'_>, r0: usize, nb: usize, out: &mut [f64]) {
    let m = b.len();
    match &b.form {
        Form::Dense(bd) => {
            let block;
            let ad = match &a.form {
                Form::Dense(ad) => ad.as_ref().subcols(r0, nb),
                Form::Columns { .. } | Form::Split { .. } | Form::Sparse { .. } => {
                    block = densify(&a.rows[r0..r0 + nb], a.n_genes);
                    block.as_ref()
                }
            };
            let dst = MatMut::from_column_major_slice_mut(out, m, nb);
            matmul(dst, Accum::Replace, bd.transpose(), ad, 1.0, Par::Seq);
        }
        Form::Columns(columns) => columns.times(&a.rows[r0..r0 + nb], m, None, out),
        Form::Split { split, dense: bd, columns, .. } => {
            let parted;
            let (ad, a_sparse) = match &a.form {
                Form::Split { dense, sparse, .. } => (dense.as_ref().subcols(r0, nb), sparse.rows(r0..r0 + nb)),
                _ => {
                    parted = split.apply(&a.rows[r0..r0 + nb]);
                    (parted.0.as_ref(), parted.1.rows(0..nb))
                }
            };
            columns.times(&a_sparse, m, None, out);
            let dst = MatMut::from_column_major_slice_mut(out, m, nb);
            matmul(dst, Accum::Add, bd.transpose(), ad, 1.0, Par::Seq);
        }
        Form::Sparse { starts, cells, values } => {
            out.iter_mut().for_each(|d| *d = 0.0);
            for (r, (idx, v)) in a.rows[r0..r0 + nb].iter().enumerate() {
                let dots = &mut out[r * m..(r + 1) * m];
                for (&k, &x) in idx.iter().zip(v.iter()) {
                    let (lo, hi) = (starts[k as usize], starts[k as usize + 1]);
                    for (&j, &y) in cells[lo..hi].iter().zip(&values[lo..hi]) {
                        dots[j as usize] += x * y;
                    }
                }
            }
        }
    }
}

/// [`Columns::times`] on the instructions `simd` (the columns' tile is its tile).
fn rows_times_columns<T: ColumnValue>(
    simd: ColumnSimd,
    rows: &[SparseRow<'_>],
    columns: &[T],
    n_genes: usize,
    m: usize,
    upper: Option<usize>,
    out: &mut [f64],
) {
    match simd {
        // SAFETY: the CPU has AVX-512F (detected).
        #[cfg(target_arch = "x86_64")]
        ColumnSimd::Avx512 => unsafe { rows_times_columns_avx512(rows, columns, n_genes, m, upper, out) },
        // SAFETY: the CPU has AVX2 (detected).
        #[cfg(target_arch = "x86_64")]
        ColumnSimd::Avx2 => unsafe { avx2::rows_times_columns(rows, columns, n_genes, m, upper, out) },
        _ => rows_times_columns_body::<T, COLUMN_TILE>(rows, columns, n_genes, m, upper, out),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn rows_times_columns_avx512<T: HeldValue>(
    rows: &[SparseRow<'_>],
    columns: &[T],
    n_genes: usize,
    m: usize,
    upper: Option<usize>,
    out: &mut [f64],
) {
    rows_times_columns_body::<T, COLUMN_TILE>(rows, columns, n_genes, m, upper, out)
}

/// The tiles of the `m` cells of `columns`, `TILE` at a time, and for each the rows whose
/// products with it are wanted (every row, or with `upper = Some(first)` those whose products
/// from cell first + r on reach the tile): `row_sums(block, row)` gives a row's `TILE` sums
/// against the tile's block of columns, and the wanted ones land in `out`.
#[inline(always)]
fn for_each_tile<T, const TILE: usize>(
    rows: &[SparseRow<'_>],
    columns: &[T],
    n_genes: usize,
    m: usize,
    upper: Option<usize>,
    out: &mut [f64],
    mut row_sums: impl FnMut(&[T], SparseRow<'_>) -> [f64; TILE],
) {
    for t0 in (0..m).step_by(TILE) {
        let t1 = m.min(t0 + TILE);
        let block = &columns[t0 * n_genes..(t0 + TILE) * n_genes];
        for (r, &row) in rows.iter().enumerate() {
            let from = upper.map_or(0, |first| first + r).max(t0);
            if from < t1 {
                let sums = row_sums(block, row);
                out[r * m + from..r * m + t1].copy_from_slice(&sums[from - t0..t1 - t0]);
            }
        }
    }
}

/// [`rows_times_columns`], compiled for AVX-512 (and for any CPU, where a test asks for the
/// columns kernel without SIMD): a tile's sums are accumulated in registers over the row's
/// genes.
#[inline(always)]
fn rows_times_columns_body<T: HeldValue, const TILE: usize>(
    rows: &[SparseRow<'_>],
    columns: &[T],
    n_genes: usize,
    m: usize,
    upper: Option<usize>,
    out: &mut [f64],
) {
    for_each_tile::<T, TILE>(rows, columns, n_genes, m, upper, out, |block, (idx, v)| {
        let mut sums = [0.0f64; TILE];
        for (&k, &x) in idx.iter().zip(v.iter()) {
            let tile: &[T; TILE] = block[k as usize * TILE..][..TILE].try_into().expect("TILE values");
            for (s, &y) in sums.iter_mut().zip(tile) {
                *s += x * y.get();
            }
        }
        sums
    })
}

/// [`rows_times_columns`] in AVX2's sixteen registers, written out: the compiler's own
/// vectorisation of the generic body spills a tile's sums and widens some values one at a time.
/// Same sums, in the same order, as the body.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{for_each_tile, ColumnValue};
    use crate::screen::SparseRow;

    const TILE: usize = super::COLUMN_TILE_AVX2;
    /// A tile's gene columns (2000 genes: 256 KiB of float32s) live in the L2 cache, and a row's
    /// genes are scattered over them: the values of the gene this many ahead are fetched into L1
    /// while the current one is added (measured on the log1p 40k screen: the energy distances'
    /// 1.32 s became 1.26 s; 2 or 8 ahead did no better, nor did float64 columns or passes over
    /// the tile a block of genes at a time).
    const AHEAD: usize = 4;

    /// # Safety
    /// The CPU has AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn rows_times_columns<T: ColumnValue>(
        rows: &[SparseRow<'_>],
        columns: &[T],
        n_genes: usize,
        m: usize,
        upper: Option<usize>,
        out: &mut [f64],
    ) {
        for_each_tile::<T, TILE>(rows, columns, n_genes, m, upper, out, |block, (idx, v)| {
            let mut acc = [_mm256_setzero_pd(); TILE / 4];
            for (c, (&k, &x)) in idx.iter().zip(v.iter()).enumerate() {
                let tile = &block[k as usize * TILE..][..TILE];
                if let Some(&ahead) = idx.get(c + AHEAD) {
                    let p = block.as_ptr().wrapping_add(ahead as usize * TILE).cast::<i8>();
                    for line in (0..TILE * std::mem::size_of::<T>()).step_by(64) {
                        _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(line));
                    }
                }
                let x = _mm256_set1_pd(x);
                for (q, a) in acc.iter_mut().enumerate() {
                    // A multiply, then an add: never fused, as scipy's product.
                    // SAFETY: `tile` holds TILE = 4 · acc.len() values; the CPU has AVX2.
                    *a = _mm256_add_pd(*a, _mm256_mul_pd(x, unsafe { T::four(tile.as_ptr().add(4 * q)) }));
                }
            }
            let mut sums = [0.0f64; TILE];
            for (q, a) in acc.iter().enumerate() {
                // SAFETY: `sums` holds TILE = 4 · acc.len() values.
                unsafe { _mm256_storeu_pd(sums.as_mut_ptr().add(4 * q), *a) };
            }
            sums
        })
    }
}

/// The whole products of `a` with itself (column-major n × n, symmetric), computing the upper
/// half only; `None` when they would not fit.
fn self_products(a: &Cells<'_>) -> Option<Vec<f64>> {
    let n = a.len();
    if n * n * 8 > MAX_GRAM_BYTES {
        return None;
    }
    let mut g = vec![0.0; n * n];
    match &a.form {
        Form::Columns(columns) => {
            // Row i of the upper half, (i, j ≥ i), contiguous at g[i * n..]; mirrored below.
            columns.times(&a.rows, n, Some(0), &mut g);
            mirror(&mut g, n, true);
            return Some(g);
        }
        Form::Split { dense, sparse, columns, .. } => {
            // The same half from the sparse genes; in column-major terms it is the lower one,
            // where faer adds the dense genes' products.
            columns.times(&sparse.rows(0..n), n, Some(0), &mut g);
            triangular::matmul(
                MatMut::from_column_major_slice_mut(&mut g, n, n),
                BlockStructure::TriangularLower,
                Accum::Add,
                dense.transpose(),
                BlockStructure::Rectangular,
                dense.as_ref(),
                BlockStructure::Rectangular,
                1.0,
                Par::Seq,
            );
            mirror(&mut g, n, true);
            return Some(g);
        }
        _ => {}
    }
    match &a.form {
        Form::Dense(ad) => triangular::matmul(
            MatMut::from_column_major_slice_mut(&mut g, n, n),
            BlockStructure::TriangularUpper,
            Accum::Replace,
            ad.transpose(),
            BlockStructure::Rectangular,
            ad.as_ref(),
            BlockStructure::Rectangular,
            1.0,
            Par::Seq,
        ),
        Form::Columns { .. } | Form::Split { .. } => unreachable!("handled above"),
        Form::Sparse { starts, cells, values } => {
            // Entry (i, j ≥ i) in column j, accumulated over row i's genes in order.
            for (i, (idx, v)) in a.rows.iter().enumerate() {
                for (&k, &x) in idx.iter().zip(v.iter()) {
                    let (lo, hi) = (starts[k as usize], starts[k as usize + 1]);
                    let from = lo + cells[lo..hi].partition_point(|&c| (c as usize) < i);
                    for (&j, &y) in cells[from..hi].iter().zip(&values[from..hi]) {
                        g[j as usize * n + i] += x * y;
                    }
                }
            }
        }
    }
    // Column-major with the upper half known: in row-major terms, the half below the diagonal.
    mirror(&mut g, n, false);
    Some(g)
}

/// Completes the symmetric n × n matrix `g` (row-major) from one half: the entries above the
/// diagonal (`g[i·n + j]`, j > i) when `known_above`, else those below. A tile of 32 × 32 at a
/// time, so that the side read or written a row apart stays in the L1 cache.
fn mirror(g: &mut [f64], n: usize, known_above: bool) {
    const TILE: usize = 32;
    for i0 in (0..n).step_by(TILE) {
        for j0 in (i0..n).step_by(TILE) {
            for i in i0..n.min(i0 + TILE) {
                for j in j0.max(i + 1)..n.min(j0 + TILE) {
                    if known_above {
                        g[j * n + i] = g[i * n + j];
                    } else {
                        g[i * n + j] = g[j * n + i];
                    }
                }
            }
        }
    }
}

/// The rows of a set of cells grouped by profile, to find a row's identical twins without
/// comparing it with every row: identical rows have the same norm, so each norm (its bits) keys
/// the classes of identical rows that have it (their first row is the representative).
struct Twins {
    classes: Vec<Vec<u32>>,
    class_of: Vec<u32>,
    by_norm: HashMap<u64, Vec<u32>>,
}

impl Twins {
    fn of(b: &Cells<'_>) -> Twins {
        let mut twins = Twins { classes: Vec::new(), class_of: Vec::with_capacity(b.len()), by_norm: HashMap::new() };
        for (j, norm) in b.norms.iter().enumerate() {
            let same_norm = twins.by_norm.entry(norm.to_bits()).or_default();
            let class = match same_norm.iter().find(|&&c| b.rows[twins.classes[c as usize][0] as usize] == b.rows[j]) {
                Some(&c) => c,
                None => {
                    twins.classes.push(Vec::new());
                    same_norm.push((twins.classes.len() - 1) as u32);
                    (twins.classes.len() - 1) as u32
                }
            };
            twins.classes[class as usize].push(j as u32);
            twins.class_of.push(class);
        }
        twins
    }

    /// The rows of `b` identical to row `i` of `a` (`same`: `a` is `b`, whose classes are known).
    fn of_row<'t>(&'t self, a: &Cells<'_>, i: usize, b: &Cells<'_>, same: bool) -> &'t [u32] {
        let class = if same {
            Some(self.class_of[i])
        } else {
            let candidates = self.by_norm.get(&a.norms[i].to_bits()).map_or(&[][..], Vec::as_slice);
            candidates.iter().copied().find(|&c| b.rows[self.classes[c as usize][0] as usize] == a.rows[i])
        };
        class.map_or(&[], |c| &self.classes[c as usize])
    }
}

thread_local! {
    /// Blocks of products and distances, kept between distance matrices: a fresh one would be
    /// zeroed (and its pages faulted in) for every perturbation.
    static BUFFERS: std::cell::RefCell<Vec<Vec<f64>>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn reused_buffer() -> Vec<f64> {
    BUFFERS.with(|b| b.borrow_mut().pop()).unwrap_or_default()
}

impl Drop for DistanceRows<'_> {
    fn drop(&mut self) {
        let (dots, distances) = (std::mem::take(&mut self.dots), std::mem::take(&mut self.distances));
        BUFFERS.with(|b| b.borrow_mut().extend([dots, distances]));
    }
}

/// The distance matrix of `a` against `b`, row-major, a block of rows at a time.
struct DistanceRows<'c> {
    p: Precision,
    a: &'c Cells<'c>,
    b: &'c Cells<'c>,
    same: bool,
    /// The whole self-products, when held (row i is column i).
    gram: Option<Vec<f64>>,
    twins: Twins,
    block: usize,
    first: usize,
    rows: usize,
    dots: Vec<f64>,
    distances: Vec<f64>,
}

impl<'c> DistanceRows<'c> {
    fn new(p: Precision, a: &'c Cells<'c>, b: Option<&'c Cells<'c>>) -> DistanceRows<'c> {
        let same = b.is_none();
        let b = b.unwrap_or(a);
        let m = b.len();
        // A leaf of numpy's sum (≤ 128 values) must lie within one block.
        let block = (BLOCK_BYTES / (8 * m)).max(128 / m + 2).min(a.len());
        DistanceRows {
            p,
            a,
            b,
            same,
            gram: if same { self_products(a) } else { None },
            twins: Twins::of(b),
            block,
            first: 0,
            rows: 0,
            dots: reused_buffer(),
            distances: reused_buffer(),
        }
    }

    /// Computes rows `r0..` (a block of them).
    fn fill(&mut self, r0: usize) {
        let (a, b, p) = (self.a, self.b, self.p);
        let m = b.len();
        let nb = self.block.min(a.len() - r0);
        let dots: &[f64] = match &self.gram {
            Some(g) => &g[r0 * m..(r0 + nb) * m],
            None => {
                self.dots.resize(nb * m, 0.0);
                products(a, b, r0, nb, &mut self.dots);
                &self.dots
            }
        };
        self.distances.resize(nb * m, 0.0);
        for r in 0..nb {
            let i = r0 + r;
            let dots = &dots[r * m..(r + 1) * m];
            let out = &mut self.distances[r * m..(r + 1) * m];
            distances_from_products(p, dots, a.norms[i], &b.norms, out);
            // Identical profiles are at distance 0. Through the Gram formula a rounding
            // residual can remain there, whose sign depends on the summation order;
            // cell-eval's comes out ≤ 0 (clipped to 0), which is what makes a baseline's
            // constant predictions give constant energy distances.
            if self.same {
                out[i] = 0.0;
            }
            for &j in self.twins.of_row(a, i, b, self.same) {
                out[j as usize] = 0.0;
            }
        }
        self.first = r0;
        self.rows = nb;
    }
}

/// scikit-learn's distances from the products: `out[j] = √max(‖a‖² − 2·dots[j] + norms[j], 0)`,
/// the squared distance and the root each rounded to precision `p`.
fn distances_from_products(p: Precision, dots: &[f64], norm_i: f64, norms: &[f64], out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above).
            return unsafe { distances_avx512(p, dots, norm_i, norms, out) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { distances_avx2(p, dots, norm_i, norms, out) };
        }
    }
    distances_body(p, dots, norm_i, norms, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn distances_avx2(p: Precision, dots: &[f64], norm_i: f64, norms: &[f64], out: &mut [f64]) {
    distances_body(p, dots, norm_i, norms, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn distances_avx512(p: Precision, dots: &[f64], norm_i: f64, norms: &[f64], out: &mut [f64]) {
    distances_body(p, dots, norm_i, norms, out)
}

/// [`distances_from_products`], one loop per precision so that each compiles to SIMD lanes.
#[inline(always)]
fn distances_body(p: Precision, dots: &[f64], norm_i: f64, norms: &[f64], out: &mut [f64]) {
    let cells = out.iter_mut().zip(dots).zip(norms);
    match p {
        Precision::F32 => {
            for ((d, &dot), &norm_j) in cells {
                let d2 = ((-2.0 * dot + norm_i) + norm_j) as f32;
                *d = f64::from(d2.max(0.0).sqrt());
            }
        }
        Precision::F64 => {
            for ((d, &dot), &norm_j) in cells {
                *d = ((-2.0 * dot + norm_i) + norm_j).max(0.0).sqrt();
            }
        }
    }
}

impl Leaves for DistanceRows<'_> {
    fn leaf(&mut self, lo: usize, n: usize) -> &[f64] {
        let m = self.b.len();
        let (r0, last) = (lo / m, (lo + n - 1) / m);
        if r0 < self.first || last >= self.first + self.rows {
            self.fill(r0);
        }
        let at = lo - self.first * m;
        &self.distances[at..at + n]
    }
}

/// The mean Euclidean distance between the rows of `a` and of `b` (`b = None`: `a` against
/// itself, diagonal zero), as `sklearn.metrics.pairwise_distances(a, b).mean()`.
pub fn mean_distance(p: Precision, a: &Cells<'_>, b: Option<&Cells<'_>>) -> f64 {
    let (n, m) = (a.len(), b.unwrap_or(a).len());
    if n == 0 || m == 0 {
        return f64::NAN;
    }
    let total = pairwise_sum_of(p, &mut DistanceRows::new(p, a, b), 0, n * m);
    p.round(total / (n * m) as f64)
}

/// The energy distance between `x` and the control `control`, given the control's mean
/// self-distance: 2δ − σx − σc, in precision `p`.
pub fn energy_distance(p: Precision, x: &Cells<'_>, control: &Cells<'_>, sigma_control: f64) -> f64 {
    let sigma_x = mean_distance(p, x, None);
    let delta = mean_distance(p, x, Some(control));
    p.round(p.round(2.0 * delta - sigma_x) - sigma_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points() -> Vec<SparseRow<'static>> {
        // Points 0, 3 and 4 on a line, and (1, 2) in the plane.
        vec![(&[], &[]), (&[0], &[3.0]), (&[0], &[4.0]), (&[0, 1], &[1.0, 2.0])]
    }

    #[test]
    fn distances_of_known_points_on_every_kernel() {
        // Gene 0 in three of the four points, gene 1 in one: split between the two products.
        let split = kernel(&[3, 1], 4);
        assert!(!simd() || matches!(&split, Kernel::Split(s) if s.n_dense == 1 && s.n_sparse == 1));
        let kernels = [Kernel::Dense, Kernel::Columns, Kernel::Scatter, split];
        for (at, kernel) in kernels.iter().enumerate() {
            let other = &kernels[(at + 1) % kernels.len()];
            let a = Cells::new(points()[..3].to_vec(), 2, kernel);
            // Self distances 0,3,4 / 3,0,1 / 4,1,0 → mean 16/9.
            assert!((mean_distance(Precision::F64, &a, None) - 16.0 / 9.0).abs() < 1e-15);
            let b = Cells::new(vec![(&[0], &[1.0])], 2, kernel);
            assert!((mean_distance(Precision::F64, &a, Some(&b)) - 6.0 / 3.0).abs() < 1e-15);
            // Against (1, 2): √5, √8, √13.
            let c = Cells::new(points()[3..].to_vec(), 2, other);
            let want = (5f64.sqrt() + 8f64.sqrt() + 13f64.sqrt()) / 3.0;
            assert!((mean_distance(Precision::F64, &a, Some(&c)) - want).abs() < 1e-15);
            assert!((mean_distance(Precision::F64, &c, Some(&a)) - want).abs() < 1e-15);
        }
    }

    #[test]
    fn kernel_follows_the_files_density_and_each_genes() {
        let simd = simd();
        // 12 % stored: scipy's product.
        let sparse = kernel(&[12; 100], 100);
        assert_eq!(sparse, if simd { Kernel::Columns } else { Kernel::Scatter });
        // Every gene in at least 40 % of the cells: faer's product alone.
        assert_eq!(kernel(&[40, 90, 100], 100), Kernel::Dense);
        // Dense genes 0 and 2, sparse genes 1 and 3 (with SIMD for the columns kernel).
        match kernel(&[90, 39, 100, 0], 100) {
            Kernel::Split(s) => {
                assert!(simd);
                assert_eq!(s.places, [0, GeneSplit::SPARSE, 1, 1 | GeneSplit::SPARSE]);
                assert_eq!((s.n_dense, s.n_sparse), (2, 2));
            }
            other => assert!(!simd && other == Kernel::Dense, "{other:?}"),
        }
    }

    #[test]
    fn split_kernel_gives_faers_products() {
        // Seeded cells over 300 genes stored at densities from 2 % to 98 %, float32 values: the
        // split kernel's products, across and against itself, agree with faer's over all the
        // genes to 1e-13 relative (only their order of summation differs), and the mean
        // distances, rounded to float32, are the same.
        let mut rng = cellcast_stats::rng::SplitMix64::new(11);
        let mut next = || rng.next_u64();
        let mut make = |n: usize| -> Vec<(Vec<u32>, Vec<f64>)> {
            (0..n)
                .map(|_| {
                    let genes: Vec<u32> =
                        (0..300u32).filter(|&k| next() % 300 < 6 + 288 * u64::from(k) / 300).collect();
                    let values =
                        genes.iter().map(|_| ((next() % 10_000) as f64 / 97.0).ln_1p() as f32 as f64).collect();
                    (genes, values)
                })
                .collect()
        };
        let (x, y) = (make(150), make(70));
        fn rows(c: &[(Vec<u32>, Vec<f64>)]) -> Vec<SparseRow<'_>> {
            c.iter().map(|(g, v)| (&g[..], &v[..])).collect()
        }
        let mut stored = vec![0; 300];
        x.iter().chain(&y).flat_map(|(g, _)| g).for_each(|&k| stored[k as usize] += 1);
        let split = match kernel(&stored, 220) {
            Kernel::Split(s) => Kernel::Split(s),
            other => {
                assert!(!simd(), "a dense file with sparse genes takes the split kernel, not {other:?}");
                return;
            }
        };
        let held = |kernel: &Kernel| (Cells::new(rows(&x), 300, kernel), Cells::new(rows(&y), 300, kernel));
        let ((sa, sb), (da, db)) = (held(&split), held(&Kernel::Dense));
        assert!(matches!(sa.form, Form::Split { .. }) && matches!(da.form, Form::Dense(_)));
        let close = |got: &[f64], want: &[f64]| {
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() <= 1e-13 * w.abs().max(1.0), "{g} against {w}");
            }
        };
        let across = |a: &Cells<'_>, b: &Cells<'_>| {
            let mut out = vec![f64::NAN; a.len() * b.len()];
            products(a, b, 0, a.len(), &mut out);
            out
        };
        close(&across(&sa, &sb), &across(&da, &db));
        close(&across(&sb, &sa), &across(&db, &da));
        // A set held otherwise (the scatter form, when a copy would not fit) against split cells.
        let scattered = Cells::new(rows(&x), 300, &Kernel::Scatter);
        close(&across(&scattered, &sb), &across(&da, &db));
        close(&self_products(&sa).expect("fits"), &self_products(&da).expect("fits"));
        for p in [Precision::F32, Precision::F64] {
            let f32_or_close = |g: f64, w: f64| p == Precision::F64 && (g - w).abs() <= 1e-13 * w || g == w;
            let (g, w) = (mean_distance(p, &sa, None), mean_distance(p, &da, None));
            assert!(f32_or_close(g, w), "{g} against {w}");
            let (g, w) = (mean_distance(p, &sa, Some(&sb)), mean_distance(p, &da, Some(&db)));
            assert!(f32_or_close(g, w), "{g} against {w}");
        }
    }

    #[test]
    fn columns_kernel_adds_as_scipy_does() {
        // Seeded sparse cells (about 20 % of 300 genes stored), sets of 150 and 70 (more than
        // one tile), with float32 values (float32 columns) and float64 ones (float64 columns):
        // the columns kernel's distances are the scatter kernel's to the bit, against itself
        // (upper half) and across.
        for float32 in [true, false] {
            let mut rng = cellcast_stats::rng::SplitMix64::new(7);
            let mut next = || rng.next_u64();
            let mut make = |n: usize| -> Vec<(Vec<u32>, Vec<f64>)> {
                (0..n)
                    .map(|_| {
                        let genes: Vec<u32> = (0..300u32).filter(|_| next() % 5 == 0).collect();
                        let values = genes
                            .iter()
                            .map(|_| {
                                let v = ((next() % 10_000) as f64 / 997.0).ln_1p();
                                if float32 {
                                    v as f32 as f64
                                } else {
                                    v
                                }
                            })
                            .collect();
                        (genes, values)
                    })
                    .collect()
            };
            let (x, y) = (make(150), make(70));
            fn rows(c: &[(Vec<u32>, Vec<f64>)]) -> Vec<SparseRow<'_>> {
                c.iter().map(|(g, v)| (&g[..], &v[..])).collect()
            }
            let p = if float32 { Precision::F32 } else { Precision::F64 };
            // The columns kernel on every instruction set this CPU has.
            let mut forms: Vec<Option<ColumnSimd>> = vec![None, Some(ColumnSimd::Portable)];
            if ColumnSimd::detect() == ColumnSimd::Avx512 {
                forms.push(Some(ColumnSimd::Avx512));
            }
            if ColumnSimd::detect() != ColumnSimd::Portable {
                forms.push(Some(ColumnSimd::Avx2));
            }
            let mut seen = Vec::new();
            for simd in forms {
                fn held(c: &[(Vec<u32>, Vec<f64>)], simd: Option<ColumnSimd>) -> Cells<'_> {
                    let mut cells = Cells::new(rows(c), 300, &Kernel::Scatter);
                    if let Some(simd) = simd {
                        cells.form = Form::Columns(Columns::new(&cells.rows, 300, simd));
                    }
                    cells
                }
                let (a, b) = (held(&x, simd), held(&y, simd));
                if let Form::Columns(columns) = &a.form {
                    assert_eq!(matches!(columns.values, ColumnValues::F32(_)), float32);
                }
                // The float64 products themselves, not only the distances they round to.
                let mut across = vec![0.0; 150 * 70];
                products(&a, &b, 0, 150, &mut across);
                let own = self_products(&a).expect("fits");
                let means =
                    [mean_distance(p, &a, None), mean_distance(p, &a, Some(&b)), mean_distance(p, &b, Some(&a))];
                let bits = |v: &[f64]| v.iter().map(|d| d.to_bits()).collect::<Vec<_>>();
                seen.push((bits(&across), bits(&own), bits(&means)));
            }
            for (k, other) in seen.iter().enumerate().skip(1) {
                assert!(seen[0] == *other, "kernel {k}'s products differ from scatter's (float32 values: {float32})");
            }
            assert!(seen[0].0.iter().filter(|&&d| d != 0).count() > 10_000 * 9 / 10);
        }
    }

    #[test]
    fn blocks_give_numpys_row_major_pairwise_sum() {
        // 300 × 300 distances (more than one leaf per row, rows split across leaves), summed
        // block by block, equal the float32 pairwise sum of the whole matrix.
        let values: Vec<[f64; 2]> =
            (0..300).map(|i| [((i * 37 % 101) as f64 * 0.013).sin() as f32 as f64, (i % 7) as f64]).collect();
        let rows: Vec<SparseRow<'_>> = values.iter().map(|v| (&[0u32, 1][..], &v[..])).collect();
        let cells = Cells::new(rows.clone(), 2, &Kernel::Scatter);
        let p = Precision::F32;
        let mut whole = Vec::new();
        for (i, (_, x)) in rows.iter().enumerate() {
            for (j, (_, y)) in rows.iter().enumerate() {
                let dot = x[0] * y[0] + x[1] * y[1];
                let d2 = p.round((-2.0 * dot + cells.norms[i]) + cells.norms[j]).max(0.0);
                whole.push(if i == j || x == y { 0.0 } else { p.round(d2.sqrt()) });
            }
        }
        let want = p.round(p.sum(&whole) / whole.len() as f64);
        assert_eq!(mean_distance(p, &cells, None), want);
        let mut stream = DistanceRows::new(p, &cells, None);
        stream.block = 3;
        assert_eq!(p.round(pairwise_sum_of(p, &mut stream, 0, 90_000) / 90_000.0), want);
    }
}
