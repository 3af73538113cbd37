//! Fingerprint storage: bits packed into u64 words, counts as sorted sparse pairs.

/// A folded bit fingerprint: bit `i` lives in word `i / 64`, position `i % 64`. The number of
/// on bits is stored, since every Tanimoto needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitFingerprint {
    nbits: u32,
    ones: u32,
    words: Box<[u64]>,
}

impl BitFingerprint {
    /// A fingerprint of `nbits` bits with the given bits set (indices ≥ `nbits` are folded in
    /// with `% nbits`, as RDKit folds).
    pub fn from_on_bits(nbits: u32, on: impl IntoIterator<Item = u32>) -> Self {
        assert!(nbits > 0, "a fingerprint needs at least one bit");
        let mut words = vec![0u64; nbits.div_ceil(64) as usize].into_boxed_slice();
        for b in on {
            let b = b % nbits;
            words[(b / 64) as usize] |= 1u64 << (b % 64);
        }
        let ones = words.iter().map(|w| w.count_ones()).sum();
        BitFingerprint { nbits, ones, words }
    }

    pub fn nbits(&self) -> u32 {
        self.nbits
    }

    /// Number of set bits.
    pub fn count_ones(&self) -> u32 {
        self.ones
    }

    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// Set bit indices, ascending.
    pub fn on_bits(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(k, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = w.trailing_zeros();
                w &= w - 1;
                Some(k as u32 * 64 + bit)
            })
        })
    }
}

/// A count fingerprint: (index, count) pairs sorted by index, zero counts absent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CountFingerprint {
    entries: Vec<(u32, u32)>,
}

impl CountFingerprint {
    /// From (index, count) pairs in any order; repeated indices add up, zero counts vanish.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (u32, u32)>) -> Self {
        let mut entries: Vec<(u32, u32)> = pairs.into_iter().filter(|(_, c)| *c > 0).collect();
        entries.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(entries.len());
        for (i, c) in entries {
            match merged.last_mut() {
                Some((j, acc)) if *j == i => *acc += c,
                _ => merged.push((i, c)),
            }
        }
        CountFingerprint { entries: merged }
    }

    pub fn entries(&self) -> &[(u32, u32)] {
        &self.entries
    }

    /// Σ counts.
    pub fn total(&self) -> u64 {
        self.entries.iter().map(|&(_, c)| u64::from(c)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_pack_and_unpack() {
        let fp = BitFingerprint::from_on_bits(2048, [5, 64, 2047, 5, 4100]);
        // 4100 % 2048 = 4.
        assert_eq!(fp.on_bits().collect::<Vec<_>>(), vec![4, 5, 64, 2047]);
        assert_eq!(fp.count_ones(), 4);
        assert_eq!(fp.words().len(), 32);
        let odd = BitFingerprint::from_on_bits(100, [99]);
        assert_eq!(odd.words().len(), 2);
    }

    #[test]
    fn counts_merge_and_sort() {
        let c = CountFingerprint::from_pairs([(7, 1), (3, 2), (7, 2), (9, 0)]);
        assert_eq!(c.entries(), &[(3, 2), (7, 3)]);
        assert_eq!(c.total(), 5);
    }
}
