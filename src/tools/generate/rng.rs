//! The generator's randomness: splitmix64 streams derived from (seed, what,
//! ids), so that any record can be remade from its ids alone and the output
//! is the same on every platform.

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// splitmix64: small, fast, and the same on every platform.
pub struct Rng(u64);

// What a stream is for (with the ids it is derived from).
pub const TAG_PARTNER: u64 = 1;
pub const TAG_COMPANY: u64 = 2;
pub const TAG_DEVICE: u64 = 3;
pub const TAG_JOB: u64 = 4;
pub const TAG_RUN: u64 = 5;
pub const TAG_LOG_ITEM: u64 = 6;

impl Rng {
    /// The stream for one thing (`tag`, `a`, `b`) of a data set (`seed`).
    pub fn derive(seed: u64, tag: u64, a: u64, b: u64) -> Rng {
        let mut s = mix(seed ^ GOLDEN);
        for x in [tag, a, b] {
            s = mix(s.wrapping_add(x.wrapping_mul(GOLDEN)) ^ 0xD6E8_FEB8_6659_FD93);
        }
        Rng(s)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }

    /// Uniform in 0..n (0 when n is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in lo..=hi (lo when hi <= lo).
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = hi.wrapping_sub(lo) as u64;
        lo.wrapping_add(self.below(span.saturating_add(1)) as i64)
    }

    pub fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    pub fn pick<T: Copy + Default>(&mut self, xs: &[T]) -> T {
        let i = self.below(xs.len() as u64) as usize;
        xs.get(i).copied().unwrap_or_default()
    }

    /// A millisecond fraction.
    pub fn ms(&mut self) -> i64 {
        self.below(1000) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_stable() {
        let mut r = Rng::derive(42, 1, 2, 3);
        let a: Vec<u64> = (0..3).map(|_| r.next()).collect();
        let mut r = Rng::derive(42, 1, 2, 3);
        let b: Vec<u64> = (0..3).map(|_| r.next()).collect();
        assert_eq!(a, b);
        assert_ne!(Rng::derive(42, 1, 2, 4).next(), a[0]);
        let mut r = Rng::derive(7, 0, 0, 0);
        assert!((0..1000).all(|_| (3..=5).contains(&r.between(3, 5))));
    }
}
