//! Tanimoto similarity (RDKit's definitions) and top-k neighbour search over packed bits.
//!
//! The search streams a contiguous block of library fingerprints through an AND + popcount
//! kernel: AVX-512 VPOPCNTQ or the `popcnt` instruction when the CPU has them (checked at run
//! time, so the portable build still gets hardware popcount), plain Rust otherwise.

use rayon::prelude::*;

use crate::fingerprint::{BitFingerprint, CountFingerprint};

/// RDKit `TanimotoSimilarity` of two bit vectors: |A∧B| / (|A| + |B| − |A∧B|), 0 when both are
/// empty. Panics if the sizes differ (RDKit raises); callers compare fingerprints of one kind.
pub fn tanimoto_bits(a: &BitFingerprint, b: &BitFingerprint) -> f64 {
    assert_eq!(a.nbits(), b.nbits(), "fingerprints of different sizes");
    let common: u32 = a.words().iter().zip(b.words()).map(|(x, y)| (x & y).count_ones()).sum();
    ratio(common, a.count_ones() + b.count_ones())
}

fn ratio(common: u32, total: u32) -> f64 {
    if total == 0 {
        0.0
    } else {
        f64::from(common) / f64::from(total - common)
    }
}

/// RDKit `TanimotoSimilarity` of two count vectors: Σmin / (Σa + Σb − Σmin), 0 when the
/// denominator is below 1e-6.
pub fn tanimoto_counts(a: &CountFingerprint, b: &CountFingerprint) -> f64 {
    let (ea, eb) = (a.entries(), b.entries());
    let (mut i, mut j, mut common) = (0, 0, 0u64);
    while i < ea.len() && j < eb.len() {
        match ea[i].0.cmp(&eb[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += u64::from(ea[i].1.min(eb[j].1));
                i += 1;
                j += 1;
            }
        }
    }
    let denom = (a.total() + b.total()) as f64 - common as f64;
    if denom.abs() < 1e-6 {
        0.0
    } else {
        common as f64 / denom
    }
}

/// Bit fingerprints of one size stored contiguously (word-major per fingerprint), the layout
/// the search kernel streams through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedBits {
    nwords: usize,
    words: Vec<u64>,
    ones: Vec<u32>,
}

impl PackedBits {
    /// Packs fingerprints of equal size (panics otherwise: callers featurize with one setting).
    pub fn new(fps: &[BitFingerprint]) -> Self {
        let nwords = fps.first().map_or(0, |f| f.words().len());
        let mut words = Vec::with_capacity(nwords * fps.len());
        for f in fps {
            assert_eq!(f.words().len(), nwords, "fingerprints of different sizes");
            words.extend_from_slice(f.words());
        }
        PackedBits { nwords, words, ones: fps.iter().map(BitFingerprint::count_ones).collect() }
    }

    pub fn len(&self) -> usize {
        self.ones.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ones.is_empty()
    }
}

/// A neighbour found by [`TopK`]: the library index and its similarity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbor {
    pub index: usize,
    pub similarity: f64,
}

/// Keeps, for every query, the k most similar library fingerprints seen so far; the library can
/// be fed in chunks (streamed from disk), each with its offset, in increasing offset order. Ties
/// keep the earlier library entry, so results do not depend on chunking or on the number of
/// threads.
pub struct TopK<'q> {
    queries: &'q [BitFingerprint],
    k: usize,
    best: Vec<Vec<Neighbor>>,
}

impl<'q> TopK<'q> {
    pub fn new(queries: &'q [BitFingerprint], k: usize) -> Self {
        TopK { queries, k, best: vec![Vec::with_capacity(k + 1); queries.len()] }
    }

    /// Scores every query against `chunk`, whose first entry is library index `offset`.
    /// `skip(query, library_index)` excludes pairs (e.g. a molecule and itself).
    pub fn feed(&mut self, chunk: &PackedBits, offset: usize, skip: &(dyn Fn(usize, usize) -> bool + Sync)) {
        let k = self.k;
        if k == 0 || chunk.is_empty() {
            return;
        }
        let kernel = Kernel::detect();
        self.best.par_iter_mut().zip(self.queries.par_iter()).enumerate().for_each(|(q, (best, query))| {
            assert_eq!(query.words().len(), chunk.nwords, "query and library fingerprints differ in size");
            let mut common = vec![0u32; chunk.len()];
            kernel.intersections(query.words(), chunk, &mut common);
            for (j, (&c, &ones)) in common.iter().zip(&chunk.ones).enumerate() {
                let similarity = ratio(c, query.count_ones() + ones);
                let index = offset + j;
                if (best.len() < k || similarity > best[best.len() - 1].similarity) && !skip(q, index) {
                    offer(best, k, Neighbor { index, similarity });
                }
            }
        });
    }

    /// Neighbours of each query, most similar first (ties: lower library index first).
    pub fn finish(self) -> Vec<Vec<Neighbor>> {
        self.best
    }
}

/// Inserts `n` into `best` (sorted by similarity desc, index asc) if it belongs in the top k.
fn offer(best: &mut Vec<Neighbor>, k: usize, n: Neighbor) {
    if best.len() == k && n.similarity <= best[k - 1].similarity {
        return; // ties with the last keep the earlier entry
    }
    let pos =
        best.partition_point(|b| b.similarity > n.similarity || (b.similarity == n.similarity && b.index < n.index));
    best.insert(pos, n);
    best.truncate(k);
}

/// The popcount kernel, chosen once from the CPU's features.
#[derive(Clone, Copy)]
enum Kernel {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Popcnt,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Kernel {
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512vpopcntdq")
            {
                return Kernel::Avx512;
            }
            if std::arch::is_x86_feature_detected!("popcnt") {
                return Kernel::Popcnt;
            }
        }
        Kernel::Portable
    }

    /// `out[j]` = |query ∧ library[j]|.
    fn intersections(self, query: &[u64], library: &PackedBits, out: &mut [u32]) {
        match self {
            Kernel::Portable => intersections_portable(query, library, out),
            // SAFETY: `detect` chose these kernels only after checking the CPU has the features
            // they are compiled for.
            #[cfg(target_arch = "x86_64")]
            Kernel::Popcnt => unsafe { intersections_popcnt(query, library, out) },
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                if query.len().is_multiple_of(8) {
                    unsafe { intersections_avx512(query, library, out) }
                } else {
                    unsafe { intersections_popcnt(query, library, out) }
                }
            }
        }
    }
}

#[inline(always)]
fn intersections_portable(query: &[u64], library: &PackedBits, out: &mut [u32]) {
    for (fp, c) in library.words.chunks_exact(library.nwords.max(1)).zip(out.iter_mut()) {
        *c = query.iter().zip(fp).map(|(x, y)| (x & y).count_ones()).sum();
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn intersections_popcnt(query: &[u64], library: &PackedBits, out: &mut [u32]) {
    intersections_portable(query, library, out);
}

/// 512 bits at a time: AND, per-lane popcount (VPOPCNTQ), accumulate.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vpopcntdq")]
fn intersections_avx512(query: &[u64], library: &PackedBits, out: &mut [u32]) {
    use std::arch::x86_64::*;
    let lanes = query.len() / 8;
    for (fp, c) in library.words.chunks_exact(query.len()).zip(out.iter_mut()) {
        let mut acc = _mm512_setzero_si512();
        for l in 0..lanes {
            // SAFETY: `l * 8 + 8 <= query.len() == fp.len()`, so both 64-byte loads are in bounds;
            // `loadu` has no alignment requirement.
            let (a, b) = unsafe {
                (
                    _mm512_loadu_si512(query.as_ptr().add(l * 8).cast()),
                    _mm512_loadu_si512(fp.as_ptr().add(l * 8).cast()),
                )
            };
            acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_and_si512(a, b)));
        }
        *c = _mm512_reduce_add_epi64(acc) as u32;
    }
}

/// All-pairs bit Tanimoto matrix (row-major, n × n) for small sets.
pub fn tanimoto_matrix(fps: &[BitFingerprint]) -> Vec<f64> {
    let n = fps.len();
    let mut out = vec![0.0; n * n];
    out.par_chunks_mut(n.max(1)).enumerate().for_each(|(i, row)| {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = tanimoto_bits(&fps[i], &fps[j]);
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(on: &[u32]) -> BitFingerprint {
        BitFingerprint::from_on_bits(128, on.iter().copied())
    }

    #[test]
    fn rdkit_definitions() {
        assert_eq!(tanimoto_bits(&bits(&[1, 2, 3]), &bits(&[2, 3, 4, 5])), 2.0 / 5.0);
        assert_eq!(tanimoto_bits(&bits(&[]), &bits(&[])), 0.0);
        assert_eq!(tanimoto_bits(&bits(&[7]), &bits(&[7])), 1.0);
        let a = CountFingerprint::from_pairs([(1, 2), (2, 1)]);
        let b = CountFingerprint::from_pairs([(1, 1), (3, 4)]);
        // Σmin = 1; Σa + Σb − Σmin = 3 + 5 − 1 = 7.
        assert_eq!(tanimoto_counts(&a, &b), 1.0 / 7.0);
        assert_eq!(tanimoto_counts(&CountFingerprint::default(), &CountFingerprint::default()), 0.0);
    }

    #[test]
    fn top_k_is_independent_of_chunking_and_breaks_ties_by_index() {
        let library: Vec<BitFingerprint> =
            [&[1, 2][..], &[1, 2], &[1], &[3], &[1, 2, 3], &[]].iter().map(|b| bits(b)).collect();
        let queries = vec![bits(&[1, 2])];
        let mut whole = TopK::new(&queries, 3);
        whole.feed(&PackedBits::new(&library), 0, &|_, _| false);
        let whole = whole.finish();
        let mut chunked = TopK::new(&queries, 3);
        for (c, chunk) in library.chunks(2).enumerate() {
            chunked.feed(&PackedBits::new(chunk), 2 * c, &|_, _| false);
        }
        assert_eq!(whole, chunked.finish());
        let idx: Vec<usize> = whole[0].iter().map(|n| n.index).collect();
        assert_eq!(idx, vec![0, 1, 4]); // 1.0, 1.0 (tie: index order), then 2/3
        let mut skip_self = TopK::new(&queries, 1);
        skip_self.feed(&PackedBits::new(&library), 0, &|_, lib| lib == 0);
        assert_eq!(skip_self.finish()[0][0].index, 1);
    }

    #[test]
    fn every_kernel_counts_the_same() {
        let fps: Vec<BitFingerprint> =
            (0..50u32).map(|i| BitFingerprint::from_on_bits(2048, (0..i * 7).map(|b| (b * 37 + i) % 2048))).collect();
        let packed = PackedBits::new(&fps);
        let mut reference = vec![0u32; fps.len()];
        intersections_portable(fps[3].words(), &packed, &mut reference);
        for (j, fp) in fps.iter().enumerate() {
            let direct: u32 = fps[3].words().iter().zip(fp.words()).map(|(a, b)| (a & b).count_ones()).sum();
            assert_eq!(reference[j], direct);
        }
        let mut out = vec![0u32; fps.len()];
        Kernel::detect().intersections(fps[3].words(), &packed, &mut out);
        assert_eq!(out, reference);
    }

    #[test]
    fn matrix_is_symmetric_with_unit_diagonal() {
        let fps: Vec<BitFingerprint> = [&[1, 2][..], &[2, 3], &[9]].iter().map(|b| bits(b)).collect();
        let m = tanimoto_matrix(&fps);
        assert_eq!(m[0], 1.0);
        assert_eq!(m[1], m[3]);
        assert_eq!(m[1], 1.0 / 3.0);
    }
}
