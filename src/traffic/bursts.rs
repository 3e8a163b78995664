//! Bursty arrivals: a two-state Markov-modulated Poisson process (MMPP).
//!
//! Real traffic is burstier than Poisson: crawlers, retries after a blip, a push
//! notification. An MMPP alternates between a calm state (rate × 1) and a burst state
//! (rate × `multiplier`), each lasting an exponentially distributed time. It is the
//! textbook model of bursty arrivals (Fischer & Meier-Hellstern, "The MMPP cookbook", 1993).
//! The state is drawn from the workload's own RNG stream, so turning bursts on for one
//! workload does not change any other workload's draws.

use crate::engine::SimRng;
use rand::RngExt;

/// The parameters of the burst process.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bursts {
    /// Rate multiplier while bursting.
    pub multiplier: f64,
    /// Mean length of a burst, seconds.
    pub mean_burst_s: f64,
    /// Mean time between bursts (length of a calm spell), seconds.
    pub mean_calm_s: f64,
}

impl Bursts {
    /// Long-run mean of the factor, so users can see what bursts add on average.
    pub fn mean_factor(&self) -> f64 {
        let burst_share = self.mean_burst_s / (self.mean_burst_s + self.mean_calm_s);
        1.0 + (self.multiplier - 1.0) * burst_share
    }
}

/// Where the burst process is: the current state and when it next flips.
#[derive(Debug, Clone, Copy)]
pub struct BurstState {
    in_burst: bool,
    next_switch_s: f64,
}

fn exponential(rng: &mut SimRng, mean_s: f64) -> f64 {
    // 1 - U lies in (0, 1]: the log is finite.
    let u: f64 = rng.random();
    -mean_s * (1.0 - u).ln()
}

impl BurstState {
    /// Starts calm at time 0.
    pub fn new(bursts: &Bursts, rng: &mut SimRng) -> BurstState {
        BurstState {
            in_burst: false,
            next_switch_s: exponential(rng, bursts.mean_calm_s),
        }
    }

    /// The mean rate factor over `[t0_s, t1_s)`, advancing the state to `t1_s`. Ticks must
    /// be asked in order.
    pub fn factor(&mut self, bursts: &Bursts, rng: &mut SimRng, t0_s: f64, t1_s: f64) -> f64 {
        if t1_s <= t0_s {
            return if self.in_burst {
                bursts.multiplier
            } else {
                1.0
            };
        }
        let mut burst_time = 0.0;
        let mut t = t0_s;
        while t < t1_s {
            let until = self.next_switch_s.min(t1_s);
            if self.in_burst {
                burst_time += until - t;
            }
            t = until;
            if self.next_switch_s <= t1_s {
                self.in_burst = !self.in_burst;
                let mean = if self.in_burst {
                    bursts.mean_burst_s
                } else {
                    bursts.mean_calm_s
                };
                self.next_switch_s += exponential(rng, mean);
            }
        }
        1.0 + (bursts.multiplier - 1.0) * burst_time / (t1_s - t0_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;

    #[test]
    fn long_run_factor_matches_the_burst_share() {
        let b = Bursts {
            multiplier: 4.0,
            mean_burst_s: 30.0,
            mean_calm_s: 270.0,
        };
        let mut rng = RngStreams::new(1).stream("bursts");
        let mut state = BurstState::new(&b, &mut rng);
        let ticks = 200_000;
        let mut sum = 0.0;
        let mut bursting_ticks = 0;
        for i in 0..ticks {
            let f = state.factor(&b, &mut rng, f64::from(i) * 10.0, f64::from(i + 1) * 10.0);
            assert!((1.0..=4.0).contains(&f), "{f}");
            if f > 1.0 {
                bursting_ticks += 1;
            }
            sum += f;
        }
        // 10% of the time bursting at ×4: mean factor 1.3.
        let mean = sum / f64::from(ticks);
        assert!((mean - b.mean_factor()).abs() < 0.01, "{mean}");
        assert!((b.mean_factor() - 1.3).abs() < 1e-12);
        // Bursts come and go: neither always nor never.
        assert!(bursting_ticks > ticks / 20 && bursting_ticks < ticks / 4);
    }
}
