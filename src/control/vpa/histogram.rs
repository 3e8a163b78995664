//! The VPA recommender's histograms: exponential (or linear) buckets, percentiles that
//! return a bucket's upper edge, and exponential decay by sample age.
//!
//! Upstream: kubernetes/autoscaler `vertical-pod-autoscaler/pkg/recommender/util/`
//! `histogram.go`, `histogram_options.go` and `decaying_histogram.go`.
//!
//! Follows upstream in: bucket layout and lookup, the epsilon below which a bucket counts as
//! empty (and sub-epsilon additions that do not widen the range), `safeSubtract`, the
//! percentile walk that never adds the top bucket's weight and stops on `>=`, the decay
//! factor `2^((t − ref)/halfLife)` with the reference shifted (to a half-life multiple) once
//! a sample is more than 100 half-lives newer. Simplified: no checkpoints.

use crate::engine::SimTime;

/// Bucket layout (upstream `HistogramOptions`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BucketLayout {
    /// `NewExponentialHistogramOptions(maxValue, firstBucketSize, ratio, epsilon)`.
    Exponential {
        /// The first bucket's width.
        first: f64,
        /// Each bucket's width over the previous one's.
        ratio: f64,
    },
    /// `NewLinearHistogramOptions(maxValue, bucketSize, epsilon)` (upstream's tests use it).
    Linear {
        /// Bucket width.
        size: f64,
    },
}

/// A layout with its bucket count and epsilon.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistogramOptions {
    layout: BucketLayout,
    buckets: usize,
    epsilon: f64,
}

impl HistogramOptions {
    /// Exponential buckets up to `max` (the last bucket is open-ended).
    pub fn exponential(max: f64, first: f64, ratio: f64, epsilon: f64) -> HistogramOptions {
        let n = ((max * (ratio - 1.0) / first + 1.0).ln() / ratio.ln()).ceil() as usize + 1;
        HistogramOptions {
            layout: BucketLayout::Exponential { first, ratio },
            buckets: n,
            epsilon,
        }
    }

    /// Linear buckets of `size` up to `max`.
    pub fn linear(max: f64, size: f64, epsilon: f64) -> HistogramOptions {
        HistogramOptions {
            layout: BucketLayout::Linear { size },
            buckets: (max / size).ceil() as usize + 1,
            epsilon,
        }
    }

    /// Upstream's CPU histogram: cores, 0.01 first bucket, 5% growth, up to 1000 cores.
    pub fn cpu() -> HistogramOptions {
        HistogramOptions::exponential(1000.0, 0.01, 1.05, 0.001 * MIN_SAMPLE_WEIGHT)
    }

    /// Upstream's memory histogram: bytes, 10 MB first bucket, 5% growth, up to 1 TB.
    pub fn memory() -> HistogramOptions {
        HistogramOptions::exponential(1e12, 1e7, 1.05, 0.001 * MIN_SAMPLE_WEIGHT)
    }

    /// Number of buckets.
    pub fn buckets(&self) -> usize {
        self.buckets
    }

    /// Where bucket `b` starts.
    pub fn bucket_start(&self, b: usize) -> f64 {
        match self.layout {
            BucketLayout::Exponential { .. } if b == 0 => 0.0,
            BucketLayout::Exponential { first, ratio } => {
                first * (ratio.powf(b as f64) - 1.0) / (ratio - 1.0)
            }
            BucketLayout::Linear { size } => b as f64 * size,
        }
    }

    /// The bucket holding `v`.
    pub fn find_bucket(&self, v: f64) -> usize {
        let b = match self.layout {
            BucketLayout::Exponential { first, .. } if v < first => 0,
            BucketLayout::Exponential { first, ratio } => {
                ((v * (ratio - 1.0) / first + 1.0).ln() / ratio.ln()) as usize
            }
            BucketLayout::Linear { size } => (v / size).max(0.0) as usize,
        };
        b.min(self.buckets - 1)
    }
}

/// Upstream `minSampleWeight`: the weight of one CPU sample.
pub const MIN_SAMPLE_WEIGHT: f64 = 0.1;
/// Upstream `maxDecayExponent`: beyond 2^100 the reference moves.
const MAX_DECAY_EXPONENT: f64 = 100.0;

/// A histogram whose samples lose half their weight every `half_life` of age.
#[derive(Debug, Clone)]
pub struct DecayingHistogram {
    options: HistogramOptions,
    weights: Vec<f64>,
    total: f64,
    min_bucket: usize,
    max_bucket: usize,
    half_life: Option<SimTime>,
    reference: Option<SimTime>,
}

impl DecayingHistogram {
    /// An empty histogram; `half_life` None means no decay (upstream's plain histogram).
    pub fn new(options: HistogramOptions, half_life: Option<SimTime>) -> DecayingHistogram {
        DecayingHistogram {
            options,
            weights: vec![0.0; options.buckets],
            total: 0.0,
            min_bucket: options.buckets - 1,
            max_bucket: 0,
            half_life,
            reference: None,
        }
    }

    /// True when the lowest bucket with weight holds less than epsilon.
    pub fn is_empty(&self) -> bool {
        self.weights[self.min_bucket] < self.options.epsilon
    }

    /// Total (decayed) weight.
    pub fn total_weight(&self) -> f64 {
        self.total
    }

    fn decay_factor(&mut self, t: SimTime) -> f64 {
        let Some(half) = self.half_life.filter(|h| *h > SimTime::ZERO) else {
            return 1.0;
        };
        let h = half.as_millis() as f64;
        match self.reference {
            None => self.reference = Some(round_to(t, half)),
            Some(r) if (t.as_millis() as f64 - r.as_millis() as f64) / h > MAX_DECAY_EXPONENT => {
                let new_ref = round_to(t, half);
                let exponent =
                    ((r.as_millis() as f64 - new_ref.as_millis() as f64) / h + 0.5).floor();
                self.scale(2f64.powi(exponent as i32));
                self.reference = Some(new_ref);
            }
            Some(_) => {}
        }
        let r = self.reference.unwrap_or(SimTime::ZERO);
        ((t.as_millis() as f64 - r.as_millis() as f64) / h).exp2()
    }

    /// Adds `value` with `weight`, decayed by its time.
    pub fn add(&mut self, value: f64, weight: f64, t: SimTime) {
        let w = weight.max(0.0) * self.decay_factor(t);
        let b = self.options.find_bucket(value);
        self.weights[b] += w;
        self.total += w;
        if b < self.min_bucket && self.weights[b] >= self.options.epsilon {
            self.min_bucket = b;
        }
        if b > self.max_bucket && self.weights[b] >= self.options.epsilon {
            self.max_bucket = b;
        }
    }

    /// Removes a sample added before (weights never go below zero: upstream
    /// `safeSubtract`).
    pub fn subtract(&mut self, value: f64, weight: f64, t: SimTime) {
        let w = weight.max(0.0) * self.decay_factor(t);
        let eps = self.options.epsilon;
        let safe = |v: f64| if v - w < eps { 0.0 } else { v - w };
        self.total = safe(self.total);
        let b = self.options.find_bucket(value);
        self.weights[b] = safe(self.weights[b]);
        self.update_min_max();
    }

    fn scale(&mut self, f: f64) {
        for w in &mut self.weights[self.min_bucket.min(self.max_bucket)..=self.max_bucket] {
            *w *= f;
        }
        self.total *= f;
        self.update_min_max();
    }

    fn update_min_max(&mut self) {
        let last = self.options.buckets - 1;
        let eps = self.options.epsilon;
        while self.weights[self.min_bucket] < eps && self.min_bucket < last {
            self.min_bucket += 1;
        }
        while self.weights[self.max_bucket] < eps && self.max_bucket > 0 {
            self.max_bucket -= 1;
        }
    }

    /// Upstream `Percentile`: the upper edge of the bucket where the cumulative weight
    /// reaches `p` of the total (the start of the last bucket when it is there).
    pub fn percentile(&self, p: f64) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        let threshold = p * self.total;
        let mut sum = 0.0;
        let mut b = self.min_bucket;
        while b < self.max_bucket {
            sum += self.weights[b];
            if sum >= threshold {
                break;
            }
            b += 1;
        }
        if b < self.options.buckets - 1 {
            self.options.bucket_start(b + 1)
        } else {
            self.options.bucket_start(b)
        }
    }
}

/// `t` rounded to the nearest multiple of `unit` (halves up), as Go's `Time.Round`.
fn round_to(t: SimTime, unit: SimTime) -> SimTime {
    let u = unit.as_millis().max(1);
    SimTime::from_millis((t.as_millis() + u / 2) / u * u)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Upstream's tests: util/histogram_options_test.go, histogram_test.go,
    // decaying_histogram_test.go (linear options 10.0, 1.0, 1e-15 unless noted).
    fn linear() -> HistogramOptions {
        HistogramOptions::linear(10.0, 1.0, 1e-15)
    }

    #[test]
    fn bucket_layouts_match_upstream() {
        let l = HistogramOptions::linear(5.0, 0.3, 0.001);
        assert_eq!(l.buckets(), 18);
        assert_eq!(l.bucket_start(17), 5.1);
        assert_eq!(
            [-1.0, 0.0, 1.3, 100.0].map(|v| l.find_bucket(v)),
            [0, 0, 4, 17]
        );
        let e = HistogramOptions::exponential(500.0, 40.0, 1.5, 0.001);
        assert_eq!(e.buckets(), 6);
        assert_eq!(
            [0, 1, 2, 3, 4, 5].map(|b| e.bucket_start(b)),
            [0.0, 40.0, 100.0, 190.0, 325.0, 527.5]
        );
        assert_eq!(
            [-1.0, 39.99, 40.0, 100.0, 900.0].map(|v| e.find_bucket(v)),
            [0, 0, 1, 2, 5]
        );
        assert_eq!(HistogramOptions::cpu().buckets(), 176);
        assert_eq!(HistogramOptions::memory().buckets(), 176);
    }

    #[test]
    fn percentiles_return_upper_bucket_edges() {
        let mut h = DecayingHistogram::new(linear(), None);
        for p in [-0.5, 0.0, 0.5, 1.0, 1.5] {
            assert_eq!(h.percentile(p), 0.0);
        }
        for i in 1..=4 {
            h.add(f64::from(i), f64::from(i), SimTime::ZERO);
        }
        let expected = [2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 4.0, 5.0, 5.0, 5.0, 5.0];
        for (i, e) in expected.iter().enumerate() {
            assert_eq!(h.percentile(i as f64 / 10.0), *e, "p{i}0");
        }
        // TestPercentileOutOfBounds.
        let mut h = DecayingHistogram::new(HistogramOptions::linear(1.0, 0.1, 1e-15), None);
        h.add(0.1, 0.1, SimTime::ZERO);
        h.add(0.2, 0.2, SimTime::ZERO);
        assert!((h.percentile(-0.1) - 0.2).abs() < 1e-12);
        assert!((h.percentile(1.1) - 0.3).abs() < 1e-12);
        h.add(0.0, 0.1, SimTime::ZERO);
        h.add(1.0, 0.2, SimTime::ZERO);
        assert!((h.percentile(-0.1) - 0.1).abs() < 1e-12);
        assert!((h.percentile(1.1) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn emptiness_follows_epsilon() {
        // TestEmptyHistogram and TestNonEmptyOnEpsilonAddition.
        let mut h = DecayingHistogram::new(HistogramOptions::linear(1.0, 0.1, 1e-15), None);
        assert!(h.is_empty());
        h.add(0.1, 2.5e-15, SimTime::ZERO);
        assert!(!h.is_empty());
        h.subtract(0.1, 1e-15, SimTime::ZERO);
        assert!(!h.is_empty());
        h.subtract(0.1, 1e-15, SimTime::ZERO);
        assert!(h.is_empty());
        let mut h = DecayingHistogram::new(HistogramOptions::linear(1.0, 0.1, 1e-15), None);
        h.add(9.9, 3e-15, SimTime::ZERO);
        h.add(0.1, 0.3e-15, SimTime::ZERO);
        h.add(999.9, 0.3e-15, SimTime::ZERO);
        assert!(!h.is_empty());
    }

    /// Upstream's start time, Unix 1234567890 s, as an offset from the (hour-aligned)
    /// origin: 1890 s past the hour, so the reference rounds up by 1710 s.
    fn start() -> SimTime {
        SimTime::from_secs(1_000 * 3600 + 1890)
    }

    #[test]
    fn decay_halves_weight_every_half_life() {
        let hour = SimTime::from_secs(3600);
        let at = |h: u64| start().saturating_add(SimTime::from_secs(h * 3600));
        // TestSimpleDecay.
        let mut h = DecayingHistogram::new(linear(), Some(hour));
        h.add(2.0, 1000.0, start());
        h.add(1.0, 1.0, at(20));
        assert_eq!(h.percentile(0.999), 2.0);
        assert_eq!(h.percentile(1.0), 3.0);
        // TestLongtermDecay: 101 half-lives later the old sample is gone.
        let mut h = DecayingHistogram::new(linear(), Some(hour));
        h.add(2.0, 1.0, start());
        h.add(1.0, 1.0, at(101));
        assert_eq!(h.percentile(1.0), 2.0);
        // TestDecayingHistogramPercentiles.
        let mut h = DecayingHistogram::new(linear(), Some(hour));
        for i in 1..=4u64 {
            h.add(i as f64, i as f64, at(i - 1));
        }
        let cases = [
            (0.0, 2.0),
            (0.02, 2.0),
            (0.03, 3.0),
            (0.10, 3.0),
            (0.11, 4.0),
            (0.34, 4.0),
            (0.35, 5.0),
            (1.0, 5.0),
        ];
        for (p, e) in cases {
            assert_eq!(h.percentile(p), e, "p{p}");
        }
    }
}
