//! Sorting many short lists of 32-bit keys (a perturbation's values of one gene, a few dozen to
//! a few hundred of them), as the rank tests do millions of times.
//!
//! A list of up to [`NETWORK_MAX`] keys is sorted by a bitonic sorting network held in SIMD
//! registers: sixteen-lane ones with AVX-512 (0.7–1.9 ns a key for 100–500 keys against the
//! standard sort's 3.0–4.0 ns, on the AVX-512 machine of earlier sittings), eight-lane ones with
//! AVX2. AVX2's sixteen registers hold only 64 keys without spilling to the stack (which made
//! the network slower than the standard sort from about 150 keys), so longer lists are sorted in
//! blocks of 64 and the sorted blocks merged eight keys at a time: on an AMD EPYC of 2019,
//! 1.7–2.8 ns a key up to 64 keys and 3.8–4.7 ns for 80–512, against the standard sort's 6–11
//! ns. Longer lists, and other CPUs, use the standard library's sort. Sorting keys has one answer
//! whatever the method, so the result is the same on every CPU.

/// The longest list sorted by the network.
pub const NETWORK_MAX: usize = 512;

/// Sorts `keys` ascending.
pub fn sort_u32(keys: &mut [u32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if keys.len() > 1 && keys.len() <= NETWORK_MAX {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F (checked just above).
                unsafe { network::avx512(keys) };
                return;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked just above).
                unsafe { network::avx2(keys) };
                return;
            }
        }
    }
    keys.sort_unstable();
}

#[cfg(target_arch = "x86_64")]
mod network {
    use std::arch::x86_64::*;

    /// A SIMD register of `LANES` keys, and the few operations the network needs. Every method
    /// is inlined into a function compiled for the register's instructions; calling one is
    /// safe only there.
    trait Register: Copy {
        const LANES: usize;
        /// The most keys the network sorts in these registers.
        const MAX_KEYS: usize;
        /// Every lane `u32::MAX`.
        unsafe fn padding() -> Self;
        /// `have` keys from `p`, the other lanes padding.
        unsafe fn load(p: *const u32, have: usize) -> Self;
        /// The first `have` lanes to `p`.
        unsafe fn store(self, p: *mut u32, have: usize);
        unsafe fn min(self, other: Self) -> Self;
        unsafe fn max(self, other: Self) -> Self;
        /// Lane l holds lane l ^ j.
        unsafe fn partner(self, j: usize) -> Self;
        /// Lane l from `hi` where bit l of `mask` is set, from `lo` elsewhere.
        unsafe fn select(lo: Self, hi: Self, mask: u32) -> Self;
    }

    #[derive(Clone, Copy)]
    struct Avx512(__m512i);

    impl Register for Avx512 {
        const LANES: usize = 16;
        const MAX_KEYS: usize = super::NETWORK_MAX;
        #[inline(always)]
        unsafe fn padding() -> Self {
            Avx512(_mm512_set1_epi32(-1))
        }
        #[inline(always)]
        unsafe fn load(p: *const u32, have: usize) -> Self {
            let mask = ((1u32 << have) - 1) as u16;
            // SAFETY: the mask covers only the caller's `have` keys; masked-off lanes are not read.
            Avx512(unsafe { _mm512_mask_loadu_epi32(_mm512_set1_epi32(-1), mask, p.cast()) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut u32, have: usize) {
            let mask = ((1u32 << have) - 1) as u16;
            // SAFETY: the mask covers only the caller's `have` keys.
            unsafe { _mm512_mask_storeu_epi32(p.cast(), mask, self.0) }
        }
        #[inline(always)]
        unsafe fn min(self, other: Self) -> Self {
            Avx512(_mm512_min_epu32(self.0, other.0))
        }
        #[inline(always)]
        unsafe fn max(self, other: Self) -> Self {
            Avx512(_mm512_max_epu32(self.0, other.0))
        }
        #[inline(always)]
        unsafe fn partner(self, j: usize) -> Self {
            let l = |i: usize| (i ^ j) as i32;
            let index = _mm512_setr_epi32(
                l(0),
                l(1),
                l(2),
                l(3),
                l(4),
                l(5),
                l(6),
                l(7),
                l(8),
                l(9),
                l(10),
                l(11),
                l(12),
                l(13),
                l(14),
                l(15),
            );
            Avx512(_mm512_permutexvar_epi32(index, self.0))
        }
        #[inline(always)]
        unsafe fn select(lo: Self, hi: Self, mask: u32) -> Self {
            Avx512(_mm512_mask_mov_epi32(lo.0, mask as u16, hi.0))
        }
    }

    #[derive(Clone, Copy)]
    struct Avx2(__m256i);

    impl Register for Avx2 {
        const LANES: usize = 8;
        const MAX_KEYS: usize = 64;
        #[inline(always)]
        unsafe fn padding() -> Self {
            Avx2(_mm256_set1_epi32(-1))
        }
        #[inline(always)]
        unsafe fn load(p: *const u32, have: usize) -> Self {
            let mut lanes = [u32::MAX; 8];
            // SAFETY: the caller's `have` keys are readable.
            unsafe { std::ptr::copy_nonoverlapping(p, lanes.as_mut_ptr(), have) };
            // SAFETY: `lanes` holds eight keys.
            Avx2(unsafe { _mm256_loadu_si256(lanes.as_ptr().cast()) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut u32, have: usize) {
            let mut lanes = [0u32; 8];
            // SAFETY: `lanes` holds eight keys; the caller's `have` keys are writable.
            unsafe {
                _mm256_storeu_si256(lanes.as_mut_ptr().cast(), self.0);
                std::ptr::copy_nonoverlapping(lanes.as_ptr(), p, have);
            }
        }
        #[inline(always)]
        unsafe fn min(self, other: Self) -> Self {
            Avx2(_mm256_min_epu32(self.0, other.0))
        }
        #[inline(always)]
        unsafe fn max(self, other: Self) -> Self {
            Avx2(_mm256_max_epu32(self.0, other.0))
        }
        #[inline(always)]
        unsafe fn partner(self, j: usize) -> Self {
            let l = |i: usize| (i ^ j) as i32;
            let index = _mm256_setr_epi32(l(0), l(1), l(2), l(3), l(4), l(5), l(6), l(7));
            Avx2(_mm256_permutevar8x32_epi32(self.0, index))
        }
        #[inline(always)]
        unsafe fn select(lo: Self, hi: Self, mask: u32) -> Self {
            let m = |i: u32| -(((mask >> i) & 1) as i32);
            let lanes = _mm256_setr_epi32(m(0), m(1), m(2), m(3), m(4), m(5), m(6), m(7));
            Avx2(_mm256_blendv_epi8(lo.0, hi.0, lanes))
        }
    }

    /// Sorts up to [`super::NETWORK_MAX`] keys in sixteen-lane registers.
    ///
    /// # Safety
    /// The CPU has AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn avx512(keys: &mut [u32]) {
        // SAFETY: AVX-512F is enabled for this function.
        unsafe { network::<Avx512>(keys) }
    }

    /// Sorts up to [`super::NETWORK_MAX`] keys in eight-lane registers: up to 64 (the eight
    /// registers the network holds without spilling) by the network, longer lists in blocks of
    /// 64 then merged ([`blocks_then_merges`]).
    ///
    /// # Safety
    /// The CPU has AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn avx2(keys: &mut [u32]) {
        // SAFETY: AVX2 is enabled for this function; `network` is given at most MAX_KEYS keys.
        unsafe {
            if keys.len() <= Avx2::MAX_KEYS {
                network::<Avx2>(keys)
            } else {
                blocks_then_merges::<Avx2>(keys)
            }
        }
    }

    /// Sorts up to [`super::NETWORK_MAX`] keys: padded with `u32::MAX` to whole registers (which
    /// sorts last, as in [`network`]), sorted in blocks of eight registers by the network, then
    /// the sorted runs merged pairwise (runs of eight registers, then sixteen, …) by
    /// [`merge_runs`].
    #[inline(always)]
    unsafe fn blocks_then_merges<Reg: Register>(keys: &mut [u32]) {
        const BLOCK_REGISTERS: usize = 8;
        let n = keys.len();
        debug_assert!(n <= super::NETWORK_MAX);
        let lanes = Reg::LANES;
        let padded = n.div_ceil(lanes) * lanes;
        let (mut a, mut b) = ([u32::MAX; super::NETWORK_MAX], [u32::MAX; super::NETWORK_MAX]);
        a[..n].copy_from_slice(keys);
        let block = BLOCK_REGISTERS * lanes;
        for run in a[..padded].chunks_mut(block) {
            // SAFETY: the caller's instructions; a run holds at most eight registers of keys.
            unsafe { sort_registers::<Reg, BLOCK_REGISTERS>(run) };
        }
        let (mut from, mut to) = (&mut a, &mut b);
        let mut width = block;
        while width < padded {
            for start in (0..padded).step_by(2 * width) {
                let mid = (start + width).min(padded);
                let end = (start + 2 * width).min(padded);
                // SAFETY: the caller's instructions; runs are whole registers.
                unsafe { merge_runs::<Reg>(&from[start..mid], &from[mid..end], &mut to[start..end]) };
            }
            std::mem::swap(&mut from, &mut to);
            width *= 2;
        }
        keys.copy_from_slice(&from[..n]);
    }

    /// Merges two ascending runs of whole registers into `out`: the smaller next register of the
    /// two runs goes through an in-register merge with the larger half of the last one, whose
    /// smaller half is final.
    #[inline(always)]
    unsafe fn merge_runs<Reg: Register>(x: &[u32], y: &[u32], out: &mut [u32]) {
        let lanes = Reg::LANES;
        if y.is_empty() {
            out.copy_from_slice(x);
            return;
        }
        // SAFETY (every call): the caller's instructions; reads and writes are whole registers
        // inside the runs and `out` (runs are whole registers, `out` their total).
        unsafe {
            let mut carry = Reg::load(x.as_ptr(), lanes);
            let mut next = Reg::load(y.as_ptr(), lanes);
            let (mut i, mut j, mut o) = (lanes, lanes, 0);
            loop {
                let (low, high) = merge_registers(carry, next);
                low.store(out.as_mut_ptr().add(o), lanes);
                o += lanes;
                carry = high;
                if i < x.len() && (j >= y.len() || x[i] <= y[j]) {
                    next = Reg::load(x.as_ptr().add(i), lanes);
                    i += lanes;
                } else if j < y.len() {
                    next = Reg::load(y.as_ptr().add(j), lanes);
                    j += lanes;
                } else {
                    carry.store(out.as_mut_ptr().add(o), lanes);
                    return;
                }
            }
        }
    }

    /// Two ascending registers merged: (the smaller half ascending, the larger half ascending).
    /// One reversed against the other gives two bitonic halves (every key of the first at most
    /// every key of the second), each then sorted by the network's last stages.
    #[inline(always)]
    unsafe fn merge_registers<Reg: Register>(x: Reg, y: Reg) -> (Reg, Reg) {
        let lanes = Reg::LANES;
        // SAFETY (every call): the caller's instructions.
        unsafe {
            let reversed = y.partner(lanes - 1);
            let (mut low, mut high) = (x.min(reversed), x.max(reversed));
            let mut j = lanes / 2;
            while j > 0 {
                let upper = upper_lanes(lanes, j);
                let (l, h) = (low.partner(j), high.partner(j));
                low = Reg::select(low.min(l), low.max(l), upper);
                high = Reg::select(high.min(h), high.max(h), upper);
                j /= 2;
            }
            (low, high)
        }
    }

    /// Sorts up to `Reg::MAX_KEYS` keys with the smallest power-of-two number of registers that
    /// holds them; missing lanes are padded with `u32::MAX`, which sorts last (a key equal
    /// to it is indistinguishable from the padding, so the first `len` outputs are still right).
    #[inline(always)]
    unsafe fn network<Reg: Register>(keys: &mut [u32]) {
        debug_assert!(keys.len() <= Reg::MAX_KEYS);
        // SAFETY (each arm): the caller's instructions, and `keys` holds at most R·LANES keys for
        // the R chosen.
        unsafe {
            match keys.len().div_ceil(Reg::LANES) {
                0 => {}
                1 => sort_registers::<Reg, 1>(keys),
                2 => sort_registers::<Reg, 2>(keys),
                3..=4 => sort_registers::<Reg, 4>(keys),
                5..=8 => sort_registers::<Reg, 8>(keys),
                9..=16 => sort_registers::<Reg, 16>(keys),
                _ => sort_registers::<Reg, 32>(keys),
            }
        }
    }

    /// The full bitonic network over R registers, every stage spelled out so that the registers
    /// are indexed by constants (and stay in registers, as many as the CPU has).
    #[inline(always)]
    unsafe fn sort_registers<Reg: Register, const R: usize>(keys: &mut [u32]) {
        let n = keys.len();
        let lanes = Reg::LANES;
        if R * lanes > Reg::MAX_KEYS || n > R * lanes {
            // A register count these registers are never given (compiled to nothing).
            return keys.sort_unstable();
        }
        // SAFETY: the caller's instructions.
        let mut r = [unsafe { Reg::padding() }; R];
        // Registers past the keys stay all padding (and their addresses are never formed).
        for (q, reg) in r.iter_mut().enumerate().take(n.div_ceil(lanes)) {
            // SAFETY: lanes q·LANES.. up to n are inside `keys`.
            *reg = unsafe { Reg::load(keys.as_ptr().add(q * lanes), (n - q * lanes).min(lanes)) };
        }
        macro_rules! stages {
            ($(($k:literal, $j:literal)),* $(,)?) => { $( unsafe { stage::<Reg, R, $k, $j>(&mut r) }; )* };
        }
        // Block size k doubles; within it the compare distance j halves. Stages beyond R·LANES
        // keys compile to nothing.
        stages!(
            (2, 1),
            (4, 2),
            (4, 1),
            (8, 4),
            (8, 2),
            (8, 1),
            (16, 8),
            (16, 4),
            (16, 2),
            (16, 1),
            (32, 16),
            (32, 8),
            (32, 4),
            (32, 2),
            (32, 1),
            (64, 32),
            (64, 16),
            (64, 8),
            (64, 4),
            (64, 2),
            (64, 1),
            (128, 64),
            (128, 32),
            (128, 16),
            (128, 8),
            (128, 4),
            (128, 2),
            (128, 1),
            (256, 128),
            (256, 64),
            (256, 32),
            (256, 16),
            (256, 8),
            (256, 4),
            (256, 2),
            (256, 1),
            (512, 256),
            (512, 128),
            (512, 64),
            (512, 32),
            (512, 16),
            (512, 8),
            (512, 4),
            (512, 2),
            (512, 1),
        );
        for (q, reg) in r.iter().enumerate().take(n.div_ceil(lanes)) {
            // SAFETY: lanes q·LANES.. up to n are inside `keys`.
            unsafe { reg.store(keys.as_mut_ptr().add(q * lanes), (n - q * lanes).min(lanes)) };
        }
    }

    /// One stage of the network: key g is compared with key g ^ J and, within blocks of K keys
    /// sorted ascending where g & K == 0 (descending elsewhere), the lower position keeps the
    /// smaller key.
    #[inline(always)]
    unsafe fn stage<Reg: Register, const R: usize, const K: usize, const J: usize>(r: &mut [Reg; R]) {
        let lanes = Reg::LANES;
        if K > R * lanes {
            return;
        }
        // SAFETY (every call): the caller's instructions.
        unsafe {
            if J >= lanes {
                // Between registers q and q ^ J/LANES; the direction is the register's.
                let step = J / lanes;
                for q in 0..R {
                    let p = q ^ step;
                    if p > q {
                        let (lo, hi) = (r[q].min(r[p]), r[q].max(r[p]));
                        let ascending = (q * lanes) & K == 0;
                        (r[q], r[p]) = if ascending { (lo, hi) } else { (hi, lo) };
                    }
                }
            } else {
                for (q, reg) in r.iter_mut().enumerate() {
                    let takes_max = if K >= lanes {
                        // The whole register runs one way.
                        let upper = upper_lanes(lanes, J);
                        if (q * lanes) & K == 0 {
                            upper
                        } else {
                            !upper
                        }
                    } else {
                        max_lanes(lanes, K, J)
                    };
                    let other = reg.partner(J);
                    *reg = Reg::select(reg.min(other), reg.max(other), takes_max);
                }
            }
        }
    }

    /// The lanes that are the upper of their pair (l & j != 0).
    #[inline(always)]
    fn upper_lanes(lanes: usize, j: usize) -> u32 {
        (0..lanes).filter(|l| l & j != 0).fold(0, |mask, l| mask | 1 << l)
    }

    /// For blocks smaller than a register: the lanes that keep the larger key, the upper of
    /// their pair in an ascending block, the lower in a descending one.
    #[inline(always)]
    fn max_lanes(lanes: usize, k: usize, j: usize) -> u32 {
        (0..lanes).filter(|l| (l & k == 0) == (l & j != 0)).fold(0, |mask, l| mask | 1 << l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    /// Lists of the lengths `lengths`, keys spread and keys with many ties, the largest key
    /// included, each sorted by `sort` and by the standard sort.
    fn agrees_with_the_standard_sort(lengths: impl Iterator<Item = usize>, sort: impl Fn(&mut [u32])) {
        let mut rng = SplitMix64::new(11);
        for n in lengths {
            for spread in [u64::from(u32::MAX) + 1, 7] {
                let mut keys: Vec<u32> = (0..n).map(|_| (rng.next_u64() % spread) as u32).collect();
                if n > 3 {
                    keys[n / 2] = u32::MAX;
                }
                let mut want = keys.clone();
                want.sort_unstable();
                sort(&mut keys);
                assert_eq!(keys, want, "length {n}, keys below {spread}");
            }
        }
    }

    #[test]
    fn sorts_as_the_standard_sort_at_every_length() {
        agrees_with_the_standard_sort((0..=600).chain([1000, 5000]), sort_u32);
    }

    /// Each network this CPU can run, at every length it is built for (`sort_u32` picks only
    /// one per CPU, and some lengths only).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn every_network_sorts_every_length_it_takes() {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above); lengths stay within 512.
            agrees_with_the_standard_sort(0..=NETWORK_MAX, |k| unsafe { network::avx2(k) });
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above); lengths stay within 512.
            agrees_with_the_standard_sort(0..=NETWORK_MAX, |k| unsafe { network::avx512(k) });
        }
    }
}
