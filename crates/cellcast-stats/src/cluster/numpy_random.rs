//! The random stream igraph's Leiden sees inside scanpy: `numpy.random.RandomState(seed)`
//! (MT19937) behind scanpy's `_RNGIgraph` shim, called through python-igraph's RNG bridge.
//!
//! python-igraph asks `getrandbits(32)` for raw bits, which the shim answers with
//! `RandomState.tomaxint() & 0xFFFF_FFFF` (two MT19937 words per call), and `random()` for
//! uniforms (two words, numpy's 53-bit legacy double). igraph's C core builds bounded integers
//! from the raw bits with Lemire's method.

const N: usize = 624;
const M: usize = 397;

pub(crate) struct NumpyRandomState {
    mt: [u32; N],
    pos: usize,
}

impl NumpyRandomState {
    /// `RandomState(seed)` for an integer seed (numpy's `mt19937_seed`, Knuth's initialiser).
    pub fn new(seed: u32) -> Self {
        let mut mt = [0u32; N];
        mt[0] = seed;
        for i in 1..N {
            mt[i] = 1_812_433_253u32.wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_add(i as u32);
        }
        Self { mt, pos: N }
    }

    fn regenerate(&mut self) {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        const MATRIX_A: u32 = 0x9908_b0df;
        for i in 0..N {
            let y = (self.mt[i] & UPPER) | (self.mt[(i + 1) % N] & LOWER);
            let mut v = self.mt[(i + M) % N] ^ (y >> 1);
            if y & 1 != 0 {
                v ^= MATRIX_A;
            }
            self.mt[i] = v;
        }
        self.pos = 0;
    }

    fn next_u32(&mut self) -> u32 {
        if self.pos == N {
            self.regenerate();
        }
        let mut y = self.mt[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `tomaxint() & 0xFFFF_FFFF`: numpy draws a 64-bit word (high half first) and shifts it
    /// right by one.
    pub fn getrandbits32(&mut self) -> u32 {
        let hi = u64::from(self.next_u32());
        let lo = u64::from(self.next_u32());
        (((hi << 32) | lo) >> 1) as u32
    }

    /// `random()`: numpy's legacy double from 27 + 26 bits.
    pub fn random(&mut self) -> f64 {
        let a = self.next_u32() >> 5;
        let b = self.next_u32() >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) / 9_007_199_254_740_992.0
    }

    /// igraph's `RNG_INTEGER(0, h)` (h ≥ 1) with a 32-bit generator: Lemire's debiased
    /// multiplication on 32 random bits.
    pub fn igraph_integer(&mut self, h: usize) -> usize {
        let range = (h as u32).wrapping_add(1);
        let t = range.wrapping_neg() % range;
        loop {
            let x = self.getrandbits32();
            let m = u64::from(x) * u64::from(range);
            if (m as u32) >= t {
                return (m >> 32) as usize;
            }
        }
    }

    /// igraph's `RNG_UNIF(0, h)`: `h` itself (without a draw) when the interval is empty, else a
    /// uniform redrawn until it differs from `h`.
    pub fn igraph_unif(&mut self, h: f64) -> f64 {
        if h == 0.0 {
            return h;
        }
        loop {
            let r = self.random() * h;
            if r != h {
                return r;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_random_state_zero() {
        // RandomState(0): tomaxint() = 5061911111874532631, then random() = 0.7151893663724195.
        let mut r = NumpyRandomState::new(0);
        assert_eq!(r.getrandbits32(), (5_061_911_111_874_532_631u64 & 0xFFFF_FFFF) as u32);
        assert_eq!(r.random(), 0.7151893663724195);
    }
}
