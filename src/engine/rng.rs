//! Named random streams derived from one root seed.
//!
//! Each component (scheduler tie-breaks, traffic noise, pod start jitter, ...) draws from its
//! own stream seeded by a fixed hash of `(root seed, component name)`. Adding a component or
//! drawing more numbers in one never shifts the numbers another component sees, so a change
//! in one controller does not perturb every other part of a run.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// The PRNG every stream uses. Xoshiro256++ is fast and, unlike `StdRng`, its output is
/// fixed by its definition, so runs stay reproducible across rand releases.
pub type SimRng = Xoshiro256PlusPlus;

/// The factory of streams for one run.
#[derive(Clone, Copy, Debug)]
pub struct RngStreams {
    root_seed: u64,
}

impl RngStreams {
    /// Streams for a run with this root seed.
    pub fn new(root_seed: u64) -> Self {
        RngStreams { root_seed }
    }

    /// The root seed reported in summary.json.
    pub fn root_seed(&self) -> u64 {
        self.root_seed
    }

    /// The stream for a named component.
    pub fn stream(&self, component: &str) -> SimRng {
        self.stream_indexed(component, 0)
    }

    /// The stream for the `index`-th instance of a component (e.g. one per workload).
    pub fn stream_indexed(&self, component: &str, index: u64) -> SimRng {
        let name_hash = fnv1a64(component.as_bytes());
        let mixed = splitmix64(self.root_seed ^ splitmix64(name_hash ^ splitmix64(index)));
        SimRng::seed_from_u64(mixed)
    }
}

/// FNV-1a: a fixed, dependency-free string hash (std's hasher is randomly keyed).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// SplitMix64 finaliser: spreads nearby inputs (seed 1 vs 2) over the whole 64-bit space.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    fn first_draws(mut rng: SimRng) -> Vec<u64> {
        (0..4).map(|_| rng.random::<u64>()).collect()
    }

    #[test]
    fn same_seed_and_name_give_the_same_numbers() {
        let a = RngStreams::new(42).stream("scheduler");
        let b = RngStreams::new(42).stream("scheduler");
        assert_eq!(first_draws(a), first_draws(b));
    }

    #[test]
    fn streams_differ_by_name_index_and_seed() {
        let s = RngStreams::new(42);
        let base = first_draws(s.stream("scheduler"));
        assert_ne!(base, first_draws(s.stream("traffic")));
        assert_ne!(base, first_draws(s.stream_indexed("scheduler", 1)));
        assert_ne!(base, first_draws(RngStreams::new(43).stream("scheduler")));
    }

    #[test]
    fn fnv_matches_the_published_test_vector() {
        // FNV-1a 64-bit of "a" from the reference test suite.
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
    }
}
