//! The floating-point arithmetic cell-eval does, reproduced: in float32 when the expression
//! matrix is float32 (or integer counts, which scanpy normalises into float32), in float64 when it
//! is float64.
//!
//! Every value is carried as an `f64`; [`Precision::round`] rounds the result of each operation
//! to the working precision. For `+ − × ÷` and `√` this gives exactly the float32 result
//! (float64 has more than twice float32's significand bits, so rounding twice is harmless).
//! Summation order is part of the result in float32, so [`Precision::sum`] follows numpy's
//! pairwise summation and [`Precision::sum_sequential`] a plain loop, each where the reference
//! uses it.

/// The working precision of one file's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    F32,
    F64,
}

impl Precision {
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "float32",
            Precision::F64 => "float64",
        }
    }

    /// `v` rounded to this precision.
    #[inline]
    pub fn round(self, v: f64) -> f64 {
        match self {
            Precision::F32 => v as f32 as f64,
            Precision::F64 => v,
        }
    }

    /// numpy's `np.log1p` in this precision (float32: the kernel numpy runs, see
    /// [`NumpyLog1p`]).
    #[inline]
    pub fn ln_1p(self, kernel: NumpyLog1p, v: f64) -> f64 {
        match self {
            Precision::F32 => kernel.f32(v as f32) as f64,
            Precision::F64 => v.ln_1p(),
        }
    }

    /// `e^v − 1` in this precision (float32: the C library's `expm1f`, which is what numba's
    /// `np.expm1` calls in pdex).
    #[inline]
    pub fn exp_m1(self, v: f64) -> f64 {
        match self {
            Precision::F32 => (v as f32).exp_m1() as f64,
            Precision::F64 => v.exp_m1(),
        }
    }

    /// numpy's `np.sum` of a contiguous 1-D array in this precision (pairwise summation).
    pub fn sum(self, v: &[f64]) -> f64 {
        pairwise_sum(self, v)
    }

    /// A left-to-right sum in this precision.
    pub fn sum_sequential(self, v: impl IntoIterator<Item = f64>) -> f64 {
        v.into_iter().fold(0.0, |acc, x| self.round(acc + x))
    }

    /// numpy's `np.mean` of a 1-D array: the pairwise sum divided by the length.
    pub fn mean(self, v: &[f64]) -> f64 {
        self.round(self.sum(v) / v.len() as f64)
    }
}

/// The float32 `log1p` numpy runs, which depends on the CPU it runs on: numpy 2 ships a SIMD
/// kernel for x86-64 CPUs with AVX-512 (its AVX512_SKX target) and calls the C library's
/// `log1pf` on every other CPU. The two differ by one unit in the last place on about 5% of
/// inputs (measured on 200,000 values in [0, 50): 4.6%), which moves float32 means and can
/// reorder tied values in the Wilcoxon test, so the kernel is part of what "identical to
/// cell-eval" means: by default the one numpy runs on this CPU, or the one of the machine
/// cell-eval ran on when that is another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumpyLog1p {
    /// numpy's AVX-512 kernel ([`numpy_log1p_f32`]).
    Avx512,
    /// The C library's `log1pf` (glibc's on Linux), as numpy calls it without AVX-512.
    CLibrary,
}

impl Default for NumpyLog1p {
    /// The one numpy runs on this CPU.
    fn default() -> NumpyLog1p {
        NumpyLog1p::this_cpu()
    }
}

impl NumpyLog1p {
    /// The names of [`NumpyLog1p::parse`].
    pub const NAMES: [&'static str; 2] = ["avx512", "c-library"];

    /// The kernel numpy runs on this CPU: AVX-512 when it has numpy's AVX512_SKX set (F, CD,
    /// BW, DQ and VL).
    pub fn this_cpu() -> NumpyLog1p {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx512f") && has!("avx512cd") && has!("avx512bw") && has!("avx512dq") && has!("avx512vl") {
                return NumpyLog1p::Avx512;
            }
        }
        NumpyLog1p::CLibrary
    }

    /// The kernel of one of [`NumpyLog1p::NAMES`].
    pub fn parse(name: &str) -> Option<NumpyLog1p> {
        [NumpyLog1p::Avx512, NumpyLog1p::CLibrary].into_iter().find(|k| k.name() == name)
    }

    /// `avx512` or `c-library`.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// `log1p(x)` by this kernel.
    #[inline]
    pub fn f32(self, x: f32) -> f32 {
        match self {
            NumpyLog1p::Avx512 => numpy_log1p_f32(x),
            // Rust's `ln_1p` is the C library's `log1pf`.
            NumpyLog1p::CLibrary => x.ln_1p(),
        }
    }

    /// [`NumpyLog1p::f32`] of every value of `xs`, in place.
    pub fn in_place(self, xs: &mut [f32]) {
        match self {
            NumpyLog1p::Avx512 => numpy_log1p_f32_in_place(xs),
            NumpyLog1p::CLibrary => xs.iter_mut().for_each(|x| *x = x.ln_1p()),
        }
    }
}

/// numpy's float32 `log1p` on x86-64 with AVX-512 — the SIMD kernel numpy 2 ships (Intel's SVML
/// `log1pf16`, "LA" accuracy), which is what scanpy's `sc.pp.log1p` runs when cell-eval
/// normalises counts. It is not correctly rounded: the C library's `log1pf` differs from it by
/// one unit in the last place on about 5% of inputs, enough to reorder tied expression values
/// in the Wilcoxon test. Its steps, reproduced lane by lane: 1 + x as a high and a low part,
/// the exponent n and a mantissa m in [2/3, 4/3), r = (m − 1) + low·2⁻ⁿ, a degree-8 polynomial
/// in r by fused multiply-adds, and n·ln 2 added last. Inputs outside its fast path (1 + x
/// subnormal, infinite or NaN) take the C library's `log1pf`, as SVML's scalar fallback
/// handles them.
pub fn numpy_log1p_f32(x: f32) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        static FMA: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        if *FMA.get_or_init(|| std::arch::is_x86_feature_detected!("fma")) {
            // SAFETY: the CPU has FMA (checked above).
            return unsafe { log1p_fma(x) };
        }
    }
    log1p_steps(x)
}

/// [`log1p_steps`] compiled with hardware fused multiply-adds (the same results: `mul_add` is
/// fused either way, only faster).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
unsafe fn log1p_fma(x: f32) -> f32 {
    log1p_steps(x)
}

/// [`numpy_log1p_f32`] of every value of `xs`, in place: the fast path without a branch in
/// SIMD lanes, then the few inputs outside it again one by one.
pub fn numpy_log1p_f32_in_place(xs: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX-512F and FMA (checked just above).
            return unsafe { log1p_lanes_avx512(xs) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA (checked just above).
            return unsafe { log1p_lanes_avx2(xs) };
        }
    }
    for x in xs.iter_mut() {
        *x = numpy_log1p_f32(*x);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn log1p_lanes_avx512(xs: &mut [f32]) {
    log1p_lanes::<16>(xs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn log1p_lanes_avx2(xs: &mut [f32]) {
    log1p_lanes::<8>(xs)
}

/// [`numpy_log1p_f32_in_place`] a register of `LANES` values at a time.
#[inline(always)]
fn log1p_lanes<const LANES: usize>(xs: &mut [f32]) {
    for chunk in xs.chunks_mut(LANES) {
        let mut out = [0f32; LANES];
        let mut outside = false;
        for (o, &x) in out.iter_mut().zip(chunk.iter()) {
            let (fast, special) = log1p_fast_path(x);
            *o = fast;
            outside |= special;
        }
        for (x, &o) in chunk.iter_mut().zip(&out) {
            *x = if outside && log1p_fast_path(*x).1 { x.ln_1p() } else { o };
        }
    }
}

#[inline(always)]
fn log1p_steps(x: f32) -> f32 {
    match log1p_fast_path(x) {
        (_, true) => x.ln_1p(),
        (fast, false) => fast,
    }
}

/// numpy's kernel on its fast path, and whether `x` is outside it (1 + x subnormal, infinite
/// or NaN; the result is then meaningless and the C library's is taken).
#[inline(always)]
fn log1p_fast_path(x: f32) -> (f32, bool) {
    const TWO_THIRDS: u32 = 0x3f2a_aaab;
    const POLY: [u32; 8] =
        [0x3e0d_84ed, 0xbe1a_d9e3, 0x3e0f_cb12, 0xbe28_ad37, 0x3e4c_e190, 0xbe80_058e, 0x3eaa_aa94, 0xbf00_0000];
    const LN2: u32 = 0x3f31_7218;
    let f = f32::from_bits;
    let hi = x.max(1.0);
    let lo = x.min(1.0);
    let sum = hi + lo;
    let outside = (sum.to_bits() as i32).wrapping_add(0x0100_0000) < 0x0180_0000;
    let low = (hi - sum) + lo;
    let k = sum.to_bits().wrapping_sub(TWO_THIRDS) as i32;
    let n = k >> 23;
    let scale = f((1.0f32.to_bits() as i32).wrapping_sub(n << 23) as u32);
    let m = f(((k as u32) & 0x007f_ffff).wrapping_add(TWO_THIRDS));
    let r = (m - 1.0) + low * scale;
    let mut p = f(POLY[0]).mul_add(r, f(POLY[1]));
    for &c in &POLY[2..] {
        p = p.mul_add(r, f(c));
    }
    let q = (r * p).mul_add(r, r);
    let res = (n as f32).mul_add(f(LN2), q);
    (f(res.to_bits() | (x.to_bits() & 0x8000_0000)), outside)
}

/// numpy's pairwise summation (`pairwise_sum` in `loops_utils.h`): blocks of at most 128 values
/// are summed with eight interleaved accumulators, longer runs are split in two at a multiple
/// of eight.
fn pairwise_sum(p: Precision, a: &[f64]) -> f64 {
    pairwise_sum_of(p, &mut &*a, 0, a.len())
}

/// A sequence numpy's pairwise summation reads in order, a leaf of at most 128 values at a
/// time, so it can be produced block by block instead of held whole.
pub trait Leaves {
    /// The `n` values from index `lo`; calls come with increasing `lo`.
    fn leaf(&mut self, lo: usize, n: usize) -> &[f64];
}

impl Leaves for &[f64] {
    fn leaf(&mut self, lo: usize, n: usize) -> &[f64] {
        &self[lo..lo + n]
    }
}

/// numpy's pairwise summation of the `n` values of `values` from index `lo`.
pub fn pairwise_sum_of(p: Precision, values: &mut dyn Leaves, lo: usize, n: usize) -> f64 {
    if n <= 128 {
        let a = values.leaf(lo, n);
        if n < 8 {
            return p.sum_sequential(a.iter().copied());
        }
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let full = n - n % 8;
        let mut i = 8;
        while i < full {
            for (j, acc) in r.iter_mut().enumerate() {
                *acc = p.round(*acc + a[i + j]);
            }
            i += 8;
        }
        let left = p.round(p.round(r[0] + r[1]) + p.round(r[2] + r[3]));
        let right = p.round(p.round(r[4] + r[5]) + p.round(r[6] + r[7]));
        let mut res = p.round(left + right);
        for &v in &a[full..] {
            res = p.round(res + v);
        }
        return res;
    }
    let mut half = n / 2;
    half -= half % 8;
    let left = pairwise_sum_of(p, values, lo, half);
    p.round(left + pairwise_sum_of(p, values, lo + half, n - half))
}

/// numpy's `np.median` of a 1-D array in this precision: the middle value, or the mean of the
/// two middle values (their sum halved, each step rounded).
pub fn median(p: Precision, values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { p.round(p.round(v[n / 2 - 1] + v[n / 2]) / 2.0) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log1p_in_lanes_equals_one_at_a_time() {
        // Seeded float32 values over many exponents, both signs, and the inputs outside the
        // fast path (−1, below −1, infinities, NaN), in slices of every length up to three
        // blocks of lanes: the same bits as the scalar kernel.
        let mut rng = cellcast_stats::rng::SplitMix64::new(3);
        let specials = [-1.0f32, -1.5, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 0.0, -0.0, 1e-30, -0.999_999_9];
        for n in 0..50 {
            let xs: Vec<f32> = (0..n)
                .map(|i| {
                    if i % 7 == 3 {
                        specials[(i / 7) % specials.len()]
                    } else {
                        f32::from_bits((rng.next_u64() % 0x4200_0000) as u32) * if i % 2 == 0 { 1.0 } else { -0.5 }
                    }
                })
                .collect();
            let mut lanes = xs.clone();
            numpy_log1p_f32_in_place(&mut lanes);
            for (x, y) in xs.iter().zip(&lanes) {
                assert_eq!(y.to_bits(), numpy_log1p_f32(*x).to_bits(), "log1p({x})");
            }
        }
    }

    #[test]
    fn pairwise_sum_differs_from_sequential_in_float32_as_numpy_does() {
        // 1 + 2^-24 × 200: a left-to-right float32 sum never moves off 1.0; numpy's pairwise sum
        // adds the small values together first.
        let mut v = vec![1.0];
        v.extend(std::iter::repeat_n(2f64.powi(-24), 200));
        assert_eq!(Precision::F32.sum_sequential(v.iter().copied()), 1.0);
        assert!(Precision::F32.sum(&v) > 1.0);
        assert_eq!(Precision::F64.sum(&v), 1.0 + 200.0 * 2f64.powi(-24));
    }

    #[test]
    fn median_even_and_odd() {
        assert_eq!(median(Precision::F64, &[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(Precision::F64, &[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(Precision::F64, &[]), None);
    }
}
