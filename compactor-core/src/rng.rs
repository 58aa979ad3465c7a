//! A small seeded pseudo-random generator: the core takes seeds as arguments and never reads
//! entropy or a clock, so the same seed gives the same result on every machine.

/// A small deterministic pseudo-random generator (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value, zero included). The seed goes through
    /// SplitMix64's mixer, a bijection, so different seeds start different sequences (the
    /// one seed it maps to the all-zero state, which xorshift cannot leave, starts where
    /// seed 0 does).
    ///
    /// # Examples
    /// ```
    /// use compactor_core::testing::Rng;
    /// let (mut a, mut b) = (Rng::new(2), Rng::new(3));
    /// assert_ne!(a.next_u64(), b.next_u64());
    /// assert_eq!(Rng::new(7).next_u64(), Rng::new(7).next_u64());
    /// ```
    pub fn new(seed: u64) -> Self {
        let mix = |seed: u64| {
            let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        match mix(seed) {
            0 => Self(mix(0)),
            state => Self(state),
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `percent` / 100.
    #[cfg(any(test, feature = "test-util"))]
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn neighbouring_seeds_give_different_sequences() {
        // The old seeding (`seed ^ K | 1`) sent seeds 2k and 2k + 1 to one state.
        let first: Vec<u64> = (0..64).map(|s| Rng::new(s).next_u64()).collect();
        let mut distinct = first.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), first.len());
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = Rng::new(0);
        assert!((0..1000).all(|_| rng.below(7) < 7));
        assert_eq!(rng.below(0), 0);
    }
}
