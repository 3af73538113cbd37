//! `np.random.default_rng(seed).permutation(x)` reproduced: numpy's `SeedSequence`, its PCG64
//! bit generator (XSL-RR 128/64) and the Fisher–Yates shuffle of `Generator.shuffle` with its
//! bounded integers (`random_interval`: masked rejection on 32-bit draws below 2³², which PCG64
//! serves in halves of a 64-bit draw). cell-eval's data ceiling splits cells with it.

const MASK32: u64 = 0xFFFF_FFFF;
const INIT_A: u32 = 0x43b0_d7e5;
const MULT_A: u32 = 0x931e_8875;
const INIT_B: u32 = 0x8b51_f9dd;
const MULT_B: u32 = 0x58f3_8ded;
const MIX_MULT_L: u32 = 0xca01_f9dd;
const MIX_MULT_R: u32 = 0x4973_f715;
const POOL_SIZE: usize = 4;

/// numpy's `SeedSequence(seed)` (no spawn key): the entropy pool.
fn seed_pool(seed: u64) -> [u32; POOL_SIZE] {
    let mut entropy = Vec::new();
    let mut n = seed;
    if n == 0 {
        entropy.push(0u32);
    }
    while n > 0 {
        entropy.push((n & MASK32) as u32);
        n >>= 32;
    }
    let mut hash_const = INIT_A;
    let mut hashmix = |value: u32| -> u32 {
        let mut v = value ^ hash_const;
        hash_const = hash_const.wrapping_mul(MULT_A);
        v = v.wrapping_mul(hash_const);
        v ^ (v >> 16)
    };
    let mix = |x: u32, y: u32| -> u32 {
        let r = MIX_MULT_L.wrapping_mul(x).wrapping_sub(MIX_MULT_R.wrapping_mul(y));
        r ^ (r >> 16)
    };
    let mut pool = [0u32; POOL_SIZE];
    for (i, p) in pool.iter_mut().enumerate() {
        *p = hashmix(entropy.get(i).copied().unwrap_or(0));
    }
    for src in 0..POOL_SIZE {
        for dst in 0..POOL_SIZE {
            if src != dst {
                let h = hashmix(pool[src]);
                pool[dst] = mix(pool[dst], h);
            }
        }
    }
    for &e in entropy.iter().skip(POOL_SIZE) {
        for p in pool.iter_mut() {
            let h = hashmix(e);
            *p = mix(*p, h);
        }
    }
    pool
}

/// `SeedSequence.generate_state(n, np.uint64)`.
fn generate_state_u64(pool: &[u32; POOL_SIZE], n: usize) -> Vec<u64> {
    let mut hash_const = INIT_B;
    let words: Vec<u32> = (0..2 * n)
        .map(|i| {
            let mut v = pool[i % POOL_SIZE] ^ hash_const;
            hash_const = hash_const.wrapping_mul(MULT_B);
            v = v.wrapping_mul(hash_const);
            v ^ (v >> 16)
        })
        .collect();
    words.chunks(2).map(|w| u64::from(w[0]) | (u64::from(w[1]) << 32)).collect()
}

/// numpy's `Generator(PCG64(seed))`, as far as `permutation` needs it.
pub struct NumpyRng {
    state: u128,
    inc: u128,
    /// The upper half of a 64-bit draw kept for the next 32-bit draw.
    pending: Option<u32>,
}

const PCG_MULT: u128 = (2_549_297_995_355_413_924u128 << 64) | 4_865_540_595_714_422_341u128;

impl NumpyRng {
    /// `np.random.default_rng(seed)`.
    pub fn new(seed: u64) -> NumpyRng {
        let s = generate_state_u64(&seed_pool(seed), 4);
        let init_state = (u128::from(s[0]) << 64) | u128::from(s[1]);
        let init_seq = (u128::from(s[2]) << 64) | u128::from(s[3]);
        let mut rng = NumpyRng { state: 0, inc: (init_seq << 1) | 1, pending: None };
        rng.step();
        rng.state = rng.state.wrapping_add(init_state);
        rng.step();
        rng
    }

    fn step(&mut self) {
        self.state = self.state.wrapping_mul(PCG_MULT).wrapping_add(self.inc);
    }

    pub fn next_u64(&mut self) -> u64 {
        self.step();
        let x = ((self.state >> 64) as u64) ^ (self.state as u64);
        x.rotate_right((self.state >> 122) as u32)
    }

    pub fn next_u32(&mut self) -> u32 {
        if let Some(v) = self.pending.take() {
            return v;
        }
        let next = self.next_u64();
        self.pending = Some((next >> 32) as u32);
        next as u32
    }

    /// numpy's `random_interval(max)`: uniform on 0..=max by masked rejection.
    fn interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        for shift in [1, 2, 4, 8, 16, 32] {
            mask |= mask >> shift;
        }
        if max <= MASK32 {
            loop {
                let v = u64::from(self.next_u32()) & mask;
                if v <= max {
                    return v;
                }
            }
        }
        loop {
            let v = self.next_u64() & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// `Generator.permutation(items)` of a 1-D array: a shuffled copy.
    pub fn permutation<T: Clone>(&mut self, items: &[T]) -> Vec<T> {
        let mut v = items.to_vec();
        for i in (1..v.len()).rev() {
            let j = self.interval(i as u64) as usize;
            v.swap(i, j);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy() {
        // numpy 2.4.6: np.random.default_rng(0).permutation(10) and the first raw draws.
        let mut rng = NumpyRng::new(0);
        assert_eq!(rng.permutation(&(0..10).collect::<Vec<u32>>()), [4, 6, 2, 7, 3, 5, 9, 0, 8, 1]);
        let mut rng = NumpyRng::new(12345);
        assert_eq!(rng.next_u64(), 4193609425186963869);
        let p = NumpyRng::new(7).permutation(&(100..130).collect::<Vec<u32>>());
        assert_eq!(
            p,
            [
                112, 114, 104, 128, 122, 124, 117, 103, 127, 119, 118, 113, 100, 125, 123, 110, 108, 107, 101, 115,
                106, 116, 120, 105, 129, 126, 102, 121, 109, 111
            ]
        );
        // A seed over 32 bits is two entropy words.
        let p = NumpyRng::new((1 << 40) + 3).permutation(&(0..20).collect::<Vec<u32>>());
        assert_eq!(p, [11, 16, 9, 7, 17, 2, 5, 19, 10, 6, 15, 4, 14, 13, 3, 18, 0, 8, 1, 12]);
    }
}
