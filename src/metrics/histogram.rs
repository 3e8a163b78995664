//! A log-bucketed latency histogram that merges exactly.
//!
//! Percentiles of a run are read from the merged distribution of every served request,
//! never by averaging per-tick percentiles (which is wrong whenever load varies).
//! Buckets grow by 5% from 0.1 ms to about an hour, so a percentile is within 2.5%.

use crate::traffic::queueing::LatencyDist;

const FIRST_EDGE_S: f64 = 1e-4;
const GROWTH: f64 = 1.05;
const BUCKETS: usize = 360;

/// Request counts per latency bucket.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    /// `counts[i]` covers `(edge(i-1), edge(i)]`, with `edge(-1) = 0`.
    counts: Vec<f64>,
    total: f64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            counts: vec![0.0; BUCKETS],
            total: 0.0,
        }
    }
}

/// Upper edges of the buckets, computed once.
static EDGES: std::sync::LazyLock<[f64; BUCKETS]> = std::sync::LazyLock::new(|| {
    let mut edges = [0.0; BUCKETS];
    for (i, e) in edges.iter_mut().enumerate() {
        *e = FIRST_EDGE_S * GROWTH.powi(i as i32);
    }
    edges
});

fn edge(i: usize) -> f64 {
    EDGES[i]
}

impl LatencyHistogram {
    /// Adds `count` requests whose latency follows `dist`, truncated at `timeout_s`
    /// (slower requests failed and are not latency samples).
    pub fn add_distribution(&mut self, dist: &LatencyDist, count: f64, timeout_s: f64) {
        self.add_distribution_shifted(dist, count, timeout_s, 0.0);
    }

    /// Like [`Self::add_distribution`], every latency `shift_s` longer (time spent in
    /// downstream calls, which the pod's own queue does not see).
    pub fn add_distribution_shifted(
        &mut self,
        dist: &LatencyDist,
        count: f64,
        timeout_s: f64,
        shift_s: f64,
    ) {
        if count <= 0.0 {
            return;
        }
        let counts = &mut self.counts;
        for_each_bucket_share(dist, timeout_s, shift_s, |i, share| {
            counts[i] += count * share;
        });
        self.total += count;
    }

    /// Adds `count` requests spread as `shares` says (`shares[i]` of them in bucket
    /// `i`, the shares summing to 1): a distribution's shares computed once (see
    /// [`bucket_shares`]) and added for many ticks at the cost of a multiply-add each.
    pub fn add_shares(&mut self, shares: &[f64], count: f64) {
        if count <= 0.0 {
            return;
        }
        for (c, s) in self.counts.iter_mut().zip(shares) {
            *c += count * s;
        }
        self.total += count;
    }

    /// Adds `count` requests of one latency.
    pub fn add_value(&mut self, latency_s: f64, count: f64) {
        self.counts[bucket_of(latency_s)] += count;
        self.total += count;
    }

    /// Empties the histogram, keeping its memory.
    pub fn clear(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0.0);
        self.total = 0.0;
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
    }

    /// Requests recorded.
    pub fn total(&self) -> f64 {
        self.total
    }

    /// The `q` quantile in seconds (linear within a bucket), None when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.total <= 0.0 {
            return None;
        }
        let target = q.clamp(0.0, 1.0) * self.total;
        let mut cum = 0.0;
        let last = self.counts.iter().rposition(|&c| c > 0.0).unwrap_or(0);
        for (i, &c) in self.counts.iter().enumerate() {
            // The last non-empty bucket takes whatever rounding left over.
            if c > 0.0 && (cum + c >= target || i == last) {
                let lo = if i == 0 { 0.0 } else { edge(i - 1) };
                let hi = edge(i);
                let frac = ((target - cum) / c).clamp(0.0, 1.0);
                return Some(lo + (hi - lo) * frac);
            }
            cum += c;
        }
        Some(edge(BUCKETS - 1))
    }
}

/// The share of `dist`'s requests, truncated at `timeout_s` and every one `shift_s` later,
/// that falls in each bucket: `(bucket, share)` in bucket order, shares summing to 1. The
/// one place a distribution is cut into buckets, for direct adds and for cached shares.
fn for_each_bucket_share(
    dist: &LatencyDist,
    timeout_s: f64,
    shift_s: f64,
    mut visit: impl FnMut(usize, f64),
) {
    // The CDF at an edge is the own CDF at (edge − shift), truncated at the timeout.
    let within = 1.0 - dist.survival(timeout_s);
    if within <= 0.0 {
        // All mass sits at the timeout (a saturated queue): book it there.
        visit(bucket_of(timeout_s + shift_s), 1.0);
        return;
    }
    let mut prev_cdf = 0.0;
    for i in 0..BUCKETS {
        let own = (edge(i) - shift_s).min(timeout_s);
        if own <= 0.0 {
            continue;
        }
        let cdf = 1.0 - dist.survival(own);
        // Past 1 − 1e-12 of the served mass, the rest goes in this bucket: the
        // remaining edges would each add less than a trillionth.
        let last = own >= timeout_s || within - cdf <= 1e-12 * within;
        let upto = if last { within } else { cdf };
        visit(i, (upto - prev_cdf).max(0.0) / within);
        prev_cdf = upto;
        if last {
            break;
        }
    }
}

/// Fills `shares` with the share of `dist`'s requests (truncated at `timeout_s`) in each
/// bucket, from bucket 0 to the last one holding any: what [`LatencyHistogram::add_shares`]
/// takes.
pub fn bucket_shares(dist: &LatencyDist, timeout_s: f64, shares: &mut Vec<f64>) {
    shares.clear();
    for_each_bucket_share(dist, timeout_s, 0.0, |i, share| {
        if shares.len() <= i {
            shares.resize(i + 1, 0.0);
        }
        shares[i] += share;
    });
}

/// The bucket a latency falls in.
fn bucket_of(latency_s: f64) -> usize {
    let i = if latency_s <= FIRST_EDGE_S {
        0
    } else {
        ((latency_s / FIRST_EDGE_S).ln() / GROWTH.ln()).ceil() as usize
    };
    i.min(BUCKETS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_an_exponential_are_within_bucket_resolution() {
        let dist = LatencyDist::Backlogged {
            mu: 10.0,
            wait_s: 0.0,
        };
        let mut h = LatencyHistogram::default();
        h.add_distribution(&dist, 1000.0, 100.0);
        for q in [0.5, 0.95, 0.99] {
            let exact = -(1.0f64 - q).ln() / 10.0;
            let got = h.quantile(q).expect("non-empty");
            assert!((got / exact - 1.0).abs() < 0.03, "q{q}: {got} vs {exact}");
        }
        assert!((h.total() - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn merging_weights_by_request_count_not_by_tick() {
        // 990 fast requests and 10 slow ones: p99 sits at the boundary, not the mean of p99s.
        let mut fast = LatencyHistogram::default();
        fast.add_value(0.010, 990.0);
        let mut slow = LatencyHistogram::default();
        slow.add_value(1.0, 10.0);
        fast.merge(&slow);
        let p99 = fast.quantile(0.99).expect("non-empty");
        assert!(p99 < 0.0106, "{p99}");
        assert!(fast.quantile(0.995).expect("non-empty") > 0.9);
        assert!(LatencyHistogram::default().quantile(0.5).is_none());
    }

    #[test]
    fn shifting_moves_quantiles_by_the_shift() {
        let dist = LatencyDist::Backlogged {
            mu: 10.0,
            wait_s: 0.0,
        };
        let mut plain = LatencyHistogram::default();
        plain.add_distribution(&dist, 1000.0, 100.0);
        let mut shifted = LatencyHistogram::default();
        shifted.add_distribution_shifted(&dist, 1000.0, 100.0, 0.5);
        for q in [0.5, 0.99] {
            let base = plain.quantile(q).expect("non-empty");
            let s = shifted.quantile(q).expect("non-empty");
            assert!(
                (s / (base + 0.5) - 1.0).abs() < 0.03,
                "q{q}: {s} vs {base}+0.5"
            );
        }
    }

    #[test]
    fn truncation_at_timeout_keeps_all_served_mass_below_it() {
        let dist = LatencyDist::Backlogged {
            mu: 1.0,
            wait_s: 0.0,
        };
        let mut h = LatencyHistogram::default();
        h.add_distribution(&dist, 100.0, 0.5);
        assert!(h.quantile(1.0).expect("non-empty") <= 0.5 * GROWTH);
    }
}
