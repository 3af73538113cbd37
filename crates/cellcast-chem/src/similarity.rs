//! Tanimoto similarity (RDKit's definitions) and top-k neighbour search over packed bits.
//!
//! The search inner loop is an AND + popcount over u64 words; on x86-64 it runs in a function
//! compiled for the `popcnt` instruction when the CPU has it (checked once at run time), so the
//! portable build still gets hardware popcount.

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

/// A neighbour found by [`TopK`]: the library index and its similarity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbor {
    pub index: usize,
    pub similarity: f64,
}

/// Keeps, for every query, the k most similar library fingerprints seen so far; the library can
/// be fed in chunks (streamed from disk), each with its offset. Ties keep the earlier library
/// entry, so results do not depend on chunking or on the number of threads.
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
    pub fn feed(&mut self, chunk: &[BitFingerprint], offset: usize, skip: &(dyn Fn(usize, usize) -> bool + Sync)) {
        let k = self.k;
        self.best.par_iter_mut().zip(self.queries.par_iter()).enumerate().for_each(|(q, (best, query))| {
            scan(query, chunk, offset, k, best, &|lib| skip(q, lib));
        });
    }

    /// Neighbours of each query, most similar first (ties: lower library index first).
    pub fn finish(self) -> Vec<Vec<Neighbor>> {
        self.best
    }
}

/// Inserts `n` into `best` (sorted by similarity desc, index asc) if it belongs in the top k.
fn offer(best: &mut Vec<Neighbor>, k: usize, n: Neighbor) {
    if best.len() == k {
        let last = best[k - 1];
        // Ties with the current last keep the earlier (already present) entry.
        if n.similarity <= last.similarity {
            return;
        }
    }
    let pos =
        best.partition_point(|b| b.similarity > n.similarity || (b.similarity == n.similarity && b.index < n.index));
    best.insert(pos, n);
    best.truncate(k);
}

fn scan(
    query: &BitFingerprint,
    chunk: &[BitFingerprint],
    offset: usize,
    k: usize,
    best: &mut Vec<Neighbor>,
    skip: &dyn Fn(usize) -> bool,
) {
    if k == 0 {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU supports popcnt, the only feature `scan_popcnt` is compiled for.
            unsafe { scan_popcnt(query, chunk, offset, k, best, skip) };
            return;
        }
    }
    scan_portable(query, chunk, offset, k, best, skip);
}

#[inline(always)]
fn scan_portable(
    query: &BitFingerprint,
    chunk: &[BitFingerprint],
    offset: usize,
    k: usize,
    best: &mut Vec<Neighbor>,
    skip: &dyn Fn(usize) -> bool,
) {
    let qw = query.words();
    for (j, fp) in chunk.iter().enumerate() {
        let index = offset + j;
        if skip(index) {
            continue;
        }
        let common: u32 = qw.iter().zip(fp.words()).map(|(x, y)| (x & y).count_ones()).sum();
        let similarity = ratio(common, query.count_ones() + fp.count_ones());
        if best.len() < k || similarity > best[best.len() - 1].similarity {
            offer(best, k, Neighbor { index, similarity });
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn scan_popcnt(
    query: &BitFingerprint,
    chunk: &[BitFingerprint],
    offset: usize,
    k: usize,
    best: &mut Vec<Neighbor>,
    skip: &dyn Fn(usize) -> bool,
) {
    scan_portable(query, chunk, offset, k, best, skip);
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
        whole.feed(&library, 0, &|_, _| false);
        let whole = whole.finish();
        let mut chunked = TopK::new(&queries, 3);
        for (c, chunk) in library.chunks(2).enumerate() {
            chunked.feed(chunk, 2 * c, &|_, _| false);
        }
        assert_eq!(whole, chunked.finish());
        let idx: Vec<usize> = whole[0].iter().map(|n| n.index).collect();
        assert_eq!(idx, vec![0, 1, 4]); // 1.0, 1.0 (tie: index order), then 2/3
        let mut skip_self = TopK::new(&queries, 1);
        skip_self.feed(&library, 0, &|_, lib| lib == 0);
        assert_eq!(skip_self.finish()[0][0].index, 1);
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
