//! SplitMix64: a tiny deterministic generator, so that generated captures and
//! randomised tests give the same bytes on every run and every machine.

/// SplitMix64, fully determined by its seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn u32(&mut self) -> u32 {
        (self.u64() >> 32) as u32
    }

    /// Uniform in `0..n` (n > 0), by multiply-and-shift rather than a biased modulo.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.u64()) * u128::from(n)) >> 64) as u64
    }

    /// An index into a collection of `len` items (len > 0).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `p` percent.
    pub fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// A value for an integer field: often random, often small (so that lengths stay
    /// reasonable), sometimes one of `literals` (so that `x == 6` can hold).
    pub fn draw(&mut self, mask: u64, literals: &[u64]) -> u64 {
        match self.u64() % 4 {
            0 | 1 => self.u64() & mask,
            2 => (self.u64() % 64) & mask,
            _ if literals.is_empty() => self.u64() & mask,
            _ => literals[(self.u64() % literals.len() as u64) as usize] & mask,
        }
    }

    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for b in &mut out {
            *b = self.u64() as u8;
        }
        out
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.u64() as u8).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_values() {
        // The first outputs for seed 0 of the reference implementation (Vigna).
        let mut r = Rng::new(0);
        assert_eq!(r.u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.u64(), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn bounded_draws_stay_in_bounds() {
        let mut r = Rng::new(42);
        for _ in 0..10_000 {
            assert!(r.below(7) < 7);
            assert!((3..=9).contains(&r.range(3, 9)));
            assert!(r.index(5) < 5);
            assert_eq!(r.draw(0xff, &[6]) & !0xff, 0);
        }
        let hits = (0..10_000).filter(|_| r.percent(30)).count();
        assert!((2_700..3_300).contains(&hits), "30 % of 10 000, got {hits}");
    }
}
