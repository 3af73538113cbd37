//! Differential expression as pdex 0.3.0 computes it for cell-eval (`pdex(adata, mode="ref",
//! is_log1p=…, epsilon=0, geometric_mean=True)`): every perturbation against the control, gene
//! by gene.
//!
//! - Means, in count space (`target_mean`, `ref_mean`): `expm1(mean(X))` on log1p data,
//!   `expm1(mean(log1p(X)))` otherwise, in the file's precision. scipy averages a sparse matrix by
//!   scaling every stored value by `1/n` and summing row by row; numpy averages a dense one by
//!   summing rows and dividing — both reproduced, in float32 for float32 data.
//! - `log2_fold_change = log2(target_mean / ref_mean)` and `percent_change = (target_mean −
//!   ref_mean) / ref_mean`, 0 where both means are 0 (±inf where one is).
//! - The Mann-Whitney U test (numba-mwu's sparse kernel): two-sided, asymptotic, with tie and
//!   continuity corrections; `statistic` is U of the perturbation's cells.
//! - `fdr`: Benjamini–Hochberg over the genes of each perturbation (scipy's
//!   `false_discovery_control`).
//!
//! Ranks are never materialised: the control's sorted non-zero values are shared by every
//! perturbation, and a perturbation's rank sum follows from locating each of its values among
//! them (a merge of the two sorted lists), with all zeros one tied block.

use crate::numeric::{NumpyLog1p, Precision};

/// How pdex averages, fixed per file.
#[derive(Debug, Clone, Copy)]
pub struct MeanRule {
    pub precision: Precision,
    /// The matrix is sparse (scipy's mean) rather than dense (numpy's).
    pub sparse: bool,
    /// pdex's `is_log1p`.
    pub log1p: bool,
    /// The float32 log1p numpy runs (for the mean of data that is not log1p).
    pub numpy_log1p: NumpyLog1p,
}

impl MeanRule {
    /// pdex's pseudobulk of one gene over one perturbation's `n` cells, given its non-zero
    /// values in cell order.
    pub fn pseudobulk(&self, values: &[f64], n: usize) -> f64 {
        let p = self.precision;
        if !self.log1p && !self.sparse {
            // `_log1p_col_mean` casts a dense matrix to float64 first.
            let s: f64 = values.iter().map(|v| v.ln_1p()).sum();
            return (s / n as f64).exp_m1();
        }
        let transform = |v: f64| if self.log1p { v } else { p.ln_1p(self.numpy_log1p, v) };
        let mean = if self.sparse && p == Precision::F32 {
            // In float32 arithmetic: the same numbers as float64 rounded to float32 after each
            // step (a product of two float32 values is exact in float64, and a sum rounded twice
            // rounds as once: 53 ≥ 2·24 + 2 bits), with a third of the sum's dependency chain.
            let inv = (1.0 / n as f64) as f32;
            let sum = values.iter().fold(0f32, |acc, &v| {
                let t = transform(v);
                debug_assert_eq!(f64::from(t as f32), t, "float32 data");
                acc + t as f32 * inv
            });
            f64::from(sum)
        } else if self.sparse {
            let inv = p.round(1.0 / n as f64);
            p.sum_sequential(values.iter().map(|&v| p.round(transform(v) * inv)))
        } else {
            p.round(p.sum_sequential(values.iter().copied()) / n as f64)
        };
        p.exp_m1(mean)
    }
}

/// pdex's `log2_fold_change` (epsilon 0): 0 where 0/0.
pub fn log2_fold_change(target: f64, reference: f64) -> f64 {
    let v = (target / reference).log2();
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// pdex's `percent_change` (prior count 0): the difference in the file's precision, divided in
/// float64; 0 where 0/0.
pub fn percent_change(p: Precision, target: f64, reference: f64) -> f64 {
    let v = p.round(target - reference) / reference;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// A perturbation's values of one gene against the control's, sorted ascending (non-zeros only).
pub struct SortedControl<'a> {
    values: &'a [f64],
    /// Σ(t³ − t) over the control's tied non-zero values.
    tie_term: f64,
}

impl<'a> SortedControl<'a> {
    pub fn new(values: &'a [f64]) -> Self {
        let mut tie_term = 0.0;
        let mut i = 0;
        while i < values.len() {
            let mut j = i + 1;
            while j < values.len() && values[j] == values[i] {
                j += 1;
            }
            let t = (j - i) as f64;
            tie_term += t * t * t - t;
            i = j;
        }
        SortedControl { values, tie_term }
    }
}

/// Two-sided Mann-Whitney U of a perturbation (`group`: its sorted non-zero values, `n_group`
/// cells) against the control (`n_ref` cells): (U of the perturbation, p-value).
pub fn mann_whitney(
    group: &[f64],
    n_group: usize,
    control: &SortedControl<'_>,
    n_ref: usize,
    below: &mut Vec<u32>,
) -> (f64, f64) {
    let (na, nb) = (n_group as f64, n_ref as f64);
    let nnz = group.len() + control.values.len();
    let n = n_group + n_ref;
    if nnz == 0 {
        return (na * nb / 2.0, 1.0);
    }
    let nz = (n - nnz) as f64;
    let nz_group = (n_group - group.len()) as f64;
    let (rank_sum_nz, ties) = rank_sum_and_ties(group, control.values, nz, below);
    let rank_sum = nz_group * ((nz + 1.0) / 2.0) + rank_sum_nz;
    let tie_nz = control.tie_term + ties;
    let u1 = rank_sum - na * (na + 1.0) / 2.0;
    let u2 = na * nb - u1;
    let tie_term = (nz * nz * nz - nz) + tie_nz;
    let nf = n as f64;
    let mu = na * nb / 2.0;
    let var_inner = (nf + 1.0) - tie_term / (nf * (nf - 1.0));
    let s_sq = na * nb / 12.0 * var_inner;
    if s_sq <= 0.0 {
        return (u1, 1.0);
    }
    let z = (u1.max(u2) - mu - 0.5) / s_sq.sqrt();
    // numba-mwu: _ndtr(−z) · 2 with _ndtr(x) = ½·erfc(−x/√2).
    let p = 0.5 * cellcast_stats::special::erfc(z / std::f64::consts::SQRT_2) * 2.0;
    (u1, p.clamp(0.0, 1.0))
}

/// The rank sum of the group's non-zero values among all cells (`nz` zeros rank first), and
/// Σ[(t³ − t) − (c³ − c)] over the non-zero values the group holds, t cells tied there of which
/// c in the control (the control's own ties are in [`SortedControl`]).
///
/// Within the group the mid-ranks always sum to n(n+1)/2, so the rank sum only needs, for each
/// value, the control values strictly below it and equal to it ([`counts`]); a run of a equal
/// group values meeting b equal control values adds (a+b)³ − (a+b) − (b³ − b) =
/// Σₖ<ₐ 3k² + 3k + 3b(2k + 1) + 3b², a term per value. Every count is a whole number, so both
/// results are exact.
fn rank_sum_and_ties(group: &[f64], control: &[f64], nz: f64, below: &mut Vec<u32>) -> (f64, f64) {
    let n = group.len();
    let (strictly_below, equal, ties) = counts(group, control, below);
    let n64 = n as u64;
    // Twice the rank sum above the zeros, a whole number.
    let twice = n64 * (n64 + 1) + 2 * strictly_below + equal;
    (twice as f64 / 2.0 + n as f64 * nz, ties as f64)
}

/// Σ over the group's values of the control values strictly below each, of those equal to each,
/// and Σ[(t³ − t) − (c³ − c)] (see [`rank_sum_and_ties`]).
fn counts(group: &[f64], control: &[f64], below: &mut Vec<u32>) -> (u64, u64, u64) {
    #[cfg(target_arch = "x86_64")]
    {
        // A much longer control is faster located by binary searches.
        if control.len() < 16 * group.len() {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F (checked just above).
                return unsafe { counts_avx512(group, control) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked just above).
                return unsafe { counts_avx2(group, control) };
            }
        }
    }
    counts_scalar(group, control, below)
}

/// [`counts`] without SIMD: each group value located among the control's by a merge of the two
/// sorted lists that does not branch on the data, or by binary searches when the control's is
/// much the longer.
fn counts_scalar(group: &[f64], control: &[f64], below: &mut Vec<u32>) -> (u64, u64, u64) {
    let (n, m) = (group.len(), control.len());
    below.clear();
    below.resize(n, 0);
    if m >= 16 * n {
        lower_bounds(control, group, below);
    } else if m > 0 {
        // Four merges side by side, each over a quarter of the group from where a binary search
        // puts its first value: a single merge waits on its own last comparison at every step.
        const WAYS: usize = 4;
        let mut i: [usize; WAYS] = std::array::from_fn(|q| q * n / WAYS);
        let end: [usize; WAYS] = std::array::from_fn(|q| (q + 1) * n / WAYS);
        let mut j: [usize; WAYS] =
            std::array::from_fn(|q| if i[q] < n { control.partition_point(|&x| x < group[i[q]]) } else { m });
        loop {
            let mut busy = false;
            for q in 0..WAYS {
                if i[q] < end[q] {
                    busy = true;
                    let take = j[q] < m && control[j[q].min(m - 1)] < group[i[q]];
                    below[i[q]] = j[q] as u32;
                    j[q] += usize::from(take);
                    i[q] += usize::from(!take);
                }
            }
            if !busy {
                break;
            }
        }
    }
    let (mut strictly_below, mut equal, mut ties) = (0u64, 0u64, 0u64);
    let mut run = 0u64;
    for (i, (&v, &lo)) in group.iter().zip(below.iter()).enumerate() {
        let lo = lo as usize;
        let mut hi = lo;
        while hi < m && control[hi] == v {
            hi += 1;
        }
        let b = (hi - lo) as u64;
        run = if i > 0 && group[i - 1] == v { run + 1 } else { 0 };
        strictly_below += lo as u64;
        equal += b;
        ties += 3 * run * run + 3 * run + 3 * b * (2 * run + 1) + 3 * b * b;
    }
    (strictly_below, equal, ties)
}

/// For each value v of `values`, how many of `sorted` are below it (`partition_point(|x| x <
/// v)`), by binary searches that do not branch on the data, eight side by side: one search alone
/// waits on each of its loads in turn (on a VCC-sized screen, with 38,000 control cells, the rank
/// tests spent a fifth of the CPU time there; searching side by side took 8% off the run's CPU
/// time).
fn lower_bounds(sorted: &[f64], values: &[f64], out: &mut [u32]) {
    const WAYS: usize = 8;
    let m = sorted.len();
    if m == 0 {
        out.fill(0);
        return;
    }
    for (values, out) in values.chunks(WAYS).zip(out.chunks_mut(WAYS)) {
        let mut base = [0usize; WAYS];
        let mut size = m;
        while size > 1 {
            let half = size / 2;
            for (b, &v) in base.iter_mut().zip(values) {
                *b = std::hint::select_unpredictable(sorted[*b + half] < v, *b + half, *b);
            }
            size -= half;
        }
        for ((o, &b), &v) in out.iter_mut().zip(&base).zip(values) {
            *o = (b + usize::from(sorted[b] < v)) as u32;
        }
    }
}

/// A value both lists hold, as [`counts_in_lanes`] meets it: its copies in the group and in the
/// control so far, and the blocks of group values that met it first (where its control copies
/// are counted) and last (where its group copies were).
#[cfg(target_arch = "x86_64")]
struct Shared {
    value: f64,
    in_group: u64,
    in_control: u64,
    first_block: usize,
    last_block: usize,
}

#[cfg(target_arch = "x86_64")]
impl Shared {
    /// Its part of the tie term, 3ab(a + b).
    fn tie_term(&self) -> u64 {
        let (a, b) = (self.in_group, self.in_control);
        3 * a * b * (a + b)
    }
}

/// A block of up to `LANES` group values in a SIMD register.
#[cfg(target_arch = "x86_64")]
trait Lanes: Copy {
    const LANES: usize;
    /// The `lanes` values from `p` (the rest of the register unused).
    ///
    /// # Safety
    /// `p..p + lanes` is inside `group`, `lanes <= LANES`, and the CPU has the instructions.
    unsafe fn load(p: *const f64, lanes: usize) -> Self;
    /// How many of the values are greater than `v`, and how many equal to it.
    ///
    /// # Safety
    /// The CPU has the instructions.
    unsafe fn compare(self, v: f64) -> (u32, u32);
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Avx512Block(std::arch::x86_64::__m512d, u8);

#[cfg(target_arch = "x86_64")]
impl Lanes for Avx512Block {
    const LANES: usize = 8;
    #[inline(always)]
    unsafe fn load(p: *const f64, lanes: usize) -> Self {
        let valid = ((1u16 << lanes) - 1) as u8;
        // SAFETY: the mask covers only the caller's `lanes` values.
        Avx512Block(unsafe { std::arch::x86_64::_mm512_maskz_loadu_pd(valid, p) }, valid)
    }
    #[inline(always)]
    unsafe fn compare(self, v: f64) -> (u32, u32) {
        use std::arch::x86_64::*;
        // SAFETY: the caller's (AVX-512F).
        unsafe {
            let c = _mm512_set1_pd(v);
            (
                _mm512_mask_cmp_pd_mask::<_CMP_GT_OQ>(self.1, self.0, c).count_ones(),
                _mm512_mask_cmp_pd_mask::<_CMP_EQ_OQ>(self.1, self.0, c).count_ones(),
            )
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Avx2Block(std::arch::x86_64::__m256d);

#[cfg(target_arch = "x86_64")]
impl Lanes for Avx2Block {
    const LANES: usize = 4;
    #[inline(always)]
    unsafe fn load(p: *const f64, lanes: usize) -> Self {
        use std::arch::x86_64::*;
        // The lanes past the values are NaN, which compares neither greater nor equal.
        let mut values = [f64::NAN; 4];
        // SAFETY: the caller's `lanes` values are inside `group`.
        unsafe { std::ptr::copy_nonoverlapping(p, values.as_mut_ptr(), lanes) };
        // SAFETY: the caller's (AVX2).
        Avx2Block(unsafe { _mm256_loadu_pd(values.as_ptr()) })
    }
    #[inline(always)]
    unsafe fn compare(self, v: f64) -> (u32, u32) {
        use std::arch::x86_64::*;
        // SAFETY: the caller's (AVX2).
        unsafe {
            let c = _mm256_set1_pd(v);
            (
                (_mm256_movemask_pd(_mm256_cmp_pd::<_CMP_GT_OQ>(self.0, c)) as u32).count_ones(),
                (_mm256_movemask_pd(_mm256_cmp_pd::<_CMP_EQ_OQ>(self.0, c)) as u32).count_ones(),
            )
        }
    }
}

/// [`counts`] with AVX-512: eight group values at a time (see [`counts_in_lanes`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,popcnt")]
unsafe fn counts_avx512(group: &[f64], control: &[f64]) -> (u64, u64, u64) {
    // SAFETY: the CPU has AVX-512F (this function's feature).
    unsafe { counts_in_lanes::<Avx512Block>(group, control) }
}

/// [`counts`] with AVX2: four group values at a time (see [`counts_in_lanes`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
unsafe fn counts_avx2(group: &[f64], control: &[f64]) -> (u64, u64, u64) {
    // SAFETY: the CPU has AVX2 (this function's feature).
    unsafe { counts_in_lanes::<Avx2Block>(group, control) }
}

/// [`counts`] in SIMD lanes: Σ over the group's values of the control values strictly below
/// (and equal to) each, and the tie term. A block of group values at a time is compared with
/// each control value up to the largest of them; with both lists sorted, every control value
/// before that is below the whole block. The tie term is regrouped by distinct value v, held a
/// times in the group and b in the control: Σ (a³ − a) over the group's runs, plus 3ab(a + b)
/// for each value both hold, counted as the comparisons find them equal.
///
/// # Safety
/// The CPU has `L`'s instructions.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn counts_in_lanes<L: Lanes>(group: &[f64], control: &[f64]) -> (u64, u64, u64) {
    let (n, m) = (group.len(), control.len());
    let (mut below, mut equal, mut ties) = (0u64, 0u64, 0u64);
    let mut shared: Option<Shared> = None;
    let mut k = 0;
    for (block, start) in (0..n).step_by(L::LANES).enumerate() {
        let lanes = (n - start).min(L::LANES);
        // SAFETY: `start..start + lanes` is inside `group`; the caller's CPU.
        let g = unsafe { L::load(group.as_ptr().add(start), lanes) };
        let (first, last) = (group[start], group[start + lanes - 1]);
        // The previous block stopped after its largest value; control values equal to this
        // block's first (a group value repeated across the blocks) are not below it.
        let mut j = k;
        while j > 0 && control[j - 1] >= first {
            j -= 1;
        }
        below += (j * lanes) as u64;
        while j < m && control[j] <= last {
            let v = control[j];
            // SAFETY: the caller's CPU.
            let (greater, eq) = unsafe { g.compare(v) };
            below += u64::from(greater);
            if eq != 0 {
                let a = u64::from(eq);
                equal += a;
                match &mut shared {
                    Some(s) if s.value == v => {
                        if block == s.first_block {
                            // Another control copy, met by the block that counts them.
                            s.in_control += 1;
                        } else if block != s.last_block {
                            // The group's copies go on in this block.
                            s.in_group += a;
                            s.last_block = block;
                        }
                    }
                    _ => {
                        ties += shared.as_ref().map_or(0, Shared::tie_term);
                        shared = Some(Shared {
                            value: v,
                            in_group: a,
                            in_control: 1,
                            first_block: block,
                            last_block: block,
                        });
                    }
                }
            }
            j += 1;
        }
        k = j;
    }
    ties += shared.as_ref().map_or(0, Shared::tie_term);
    // A run of a equal group values adds a³ − a = Σ 3r(r + 1) over r = 1..a − 1.
    let mut run = 0u64;
    for (a, b) in group.iter().zip(&group[1.min(n)..]) {
        run = (run + 1) * u64::from(a == b);
        ties += 3 * run * (run + 1);
    }
    (below, equal, ties)
}

/// scipy's `false_discovery_control(ps)` (Benjamini–Hochberg): sorted p-values scaled by m/i,
/// running minimum from the largest, clipped to [0, 1], in the input order.
pub fn false_discovery_control(ps: &[f64]) -> Vec<f64> {
    let m = ps.len();
    if m <= 1 {
        return ps.to_vec();
    }
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| ps[a].total_cmp(&ps[b]).then(a.cmp(&b)));
    let mut adjusted = vec![0.0; m];
    let mut running = f64::INFINITY;
    for (k, &i) in order.iter().enumerate().rev() {
        let scaled = ps[i] * (m as f64 / (k + 1) as f64);
        running = running.min(scaled);
        adjusted[i] = running.clamp(0.0, 1.0);
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rank sum and ties by walking the group's distinct values through the control's.
    fn walked(group: &[f64], control: &[f64], nz: f64) -> (f64, f64) {
        let (mut rank_sum, mut ties) = (0.0, 0.0);
        let mut i = 0;
        while i < group.len() {
            let v = group[i];
            let a = group[i..].iter().take_while(|&&x| x == v).count();
            let lo = control.partition_point(|&x| x < v);
            let b = control[lo..].iter().take_while(|&&x| x == v).count();
            let (a, b, t) = (a as f64, b as f64, (a + b) as f64);
            rank_sum += a * (nz + (i + lo) as f64 + (t + 1.0) / 2.0);
            ties += (t * t * t - t) - (b * b * b - b);
            i += a as usize;
        }
        (rank_sum, ties)
    }

    #[test]
    fn rank_sums_and_ties_equal_the_walks() {
        // Seeded sorted lists of whole halves (many ties) and of spread values (ties rare),
        // against short and long controls: the same numbers as the walk, to the bit.
        let mut rng = cellcast_stats::rng::SplitMix64::new(7);
        let mut next = || rng.next_u64();
        let mut below = Vec::new();
        let mut tied = 0;
        for case in 0..4000 {
            let spread = if case % 2 == 0 { 8 } else { 1 << 20 };
            let n_group = next() % 40;
            let n_control = if case % 3 == 0 { 20 * n_group.max(1) } else { next() % 40 };
            let mut list = |n: u64| -> Vec<f64> {
                let mut v: Vec<f64> = (0..n).map(|_| (1 + next() % spread) as f64 * 0.5).collect();
                v.sort_by(f64::total_cmp);
                v
            };
            let (group, control) = (list(n_group), list(n_control));
            let nz = (next() % 5) as f64;
            let want = walked(&group, &control, nz);
            tied += usize::from(want.1 > 0.0);
            assert_eq!(rank_sum_and_ties(&group, &control, nz, &mut below), want, "{group:?} {control:?}");
            let scalar = counts_scalar(&group, &control, &mut below);
            assert_eq!(counts(&group, &control, &mut below), scalar);
            // Every SIMD form this CPU has (whatever `counts` chose).
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx512f") {
                    assert_eq!(unsafe { counts_avx512(&group, &control) }, scalar);
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    assert_eq!(unsafe { counts_avx2(&group, &control) }, scalar);
                }
            }
        }
        assert!(tied > 1000, "{tied}");
    }

    /// Mann-Whitney with every value ranked explicitly, for checking the shortcut.
    fn brute(a: &[f64], b: &[f64]) -> (f64, f64) {
        let mut all: Vec<(f64, bool)> = a.iter().map(|&v| (v, true)).chain(b.iter().map(|&v| (v, false))).collect();
        all.sort_by(|x, y| x.0.total_cmp(&y.0));
        let mut r1 = 0.0;
        let mut tie = 0.0;
        let mut i = 0;
        while i < all.len() {
            let mut j = i;
            while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
                j += 1;
            }
            let avg = (i + j) as f64 / 2.0 + 1.0;
            let t = (j - i + 1) as f64;
            tie += t * t * t - t;
            r1 += all[i..=j].iter().filter(|x| x.1).count() as f64 * avg;
            i = j + 1;
        }
        let (na, nb) = (a.len() as f64, b.len() as f64);
        let n = na + nb;
        let u1 = r1 - na * (na + 1.0) / 2.0;
        let s = (na * nb / 12.0 * ((n + 1.0) - tie / (n * (n - 1.0)))).sqrt();
        let z = (u1.max(na * nb - u1) - na * nb / 2.0 - 0.5) / s;
        (u1, (cellcast_stats::special::erfc(z / std::f64::consts::SQRT_2)).clamp(0.0, 1.0))
    }

    #[test]
    fn rank_shortcut_equals_explicit_ranking() {
        let a = [0.0, 0.0, 1.5, 2.0, 2.0, 3.0, 0.0, 7.0];
        let b = [0.0, 2.0, 2.0, 1.0, 0.0, 0.0, 0.0, 3.0, 3.0, 9.0, 0.5];
        let mut ga: Vec<f64> = a.iter().copied().filter(|&v| v != 0.0).collect();
        ga.sort_by(f64::total_cmp);
        let mut gb: Vec<f64> = b.iter().copied().filter(|&v| v != 0.0).collect();
        gb.sort_by(f64::total_cmp);
        let control = SortedControl::new(&gb);
        let (u, p) = mann_whitney(&ga, a.len(), &control, b.len(), &mut Vec::new());
        let (u_ref, p_ref) = brute(&a, &b);
        assert_eq!(u, u_ref);
        assert!((p - p_ref).abs() <= 1e-15 * p_ref.max(1e-300));
    }

    #[test]
    fn fdr_matches_scipy_example() {
        // scipy docs (Neuhaus et al.): false_discovery_control of 15 p-values.
        let ps = [
            0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528,
            0.7590, 1.000,
        ];
        let q = false_discovery_control(&ps);
        let expected = [
            0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.06385714, 0.06385714, 0.0645, 0.0765, 0.486, 0.58118182,
            0.714875, 0.75323077, 0.81321429, 1.0,
        ];
        for (a, b) in q.iter().zip(expected) {
            assert!((a - b).abs() < 1e-8, "{a} vs {b}");
        }
    }
}
