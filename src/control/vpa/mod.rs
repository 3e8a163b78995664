//! The VerticalPodAutoscaler recommender, in recommendation mode: every minute it samples
//! each running pod's CPU and memory, keeps per-container decaying histograms of CPU usage
//! and of memory peaks, and at the end of the run recommends requests with a target and a
//! confidence-widened lower and upper bound.
//!
//! Upstream: kubernetes/autoscaler `vertical-pod-autoscaler/pkg/recommender/`
//! (`model/aggregate_container_state.go`, `model/container.go`, `logic/estimator.go`,
//! `logic/recommender.go`, flag defaults in `config/`), histograms in [`histogram`].
//!
//! Follows upstream in: CPU samples of constant weight 0.1 with a 24 h half-life; one memory
//! sample per pod and 24 h aggregation interval (its peak, stamped at the interval's end,
//! a higher peak replacing the lower); percentiles 0.9 / 0.5 / 0.95, the 15% safety margin
//! (truncated separately), confidence `min(days of history, samples / 1440)` with the
//! bound multipliers `(1 + 0.001/c)^−2` and `(1 + 1/c)^+1`, the minimums of 25 millicores
//! and 250 MiB split across containers, and int64 truncation of every amount.
//!
//! Simplified: a pod's usage is split over its containers by their share of the pod's
//! requests; no OOM events (the simulator does not enforce memory limits); no
//! checkpoints, LimitRanges or VPA min/max policies; nothing is applied to pods.

pub mod histogram;

use crate::cluster::{PodState, World};
use crate::engine::SimTime;
use histogram::{DecayingHistogram, HistogramOptions, MIN_SAMPLE_WEIGHT};

/// Upstream `--recommender-interval`: how often usage is sampled.
pub const RECOMMENDER_INTERVAL: SimTime = SimTime::from_secs(60);
/// Upstream `--cpu-histogram-decay-half-life` and `--memory-histogram-decay-half-life`.
pub const HALF_LIFE: SimTime = SimTime::from_secs(24 * 3600);
/// Upstream `--memory-aggregation-interval`.
pub const MEMORY_INTERVAL: SimTime = SimTime::from_secs(24 * 3600);
/// Upstream `--confidence-interval-cpu` / `-memory`.
pub const CONFIDENCE_INTERVAL: SimTime = SimTime::from_secs(24 * 3600);
/// Upstream `--recommendation-margin-fraction`.
pub const SAFETY_MARGIN: f64 = 0.15;
/// Upstream `--pod-recommendation-min-cpu-millicores`.
pub const MIN_CPU_MILLI: f64 = 25.0;
/// Upstream `--pod-recommendation-min-memory-mb` (MiB).
pub const MIN_MEMORY_MIB: f64 = 250.0;
/// Upstream's cap on any amount (`MaxResourceAmount`).
const MAX_AMOUNT: f64 = 1e14;

/// One container's history across the workload's pods (`AggregateContainerState`).
#[derive(Debug, Clone)]
struct Aggregate {
    cpu: DecayingHistogram,
    memory_peaks: DecayingHistogram,
    first_sample: Option<SimTime>,
    last_sample: Option<SimTime>,
    samples: u64,
}

/// A pod container's current memory aggregation window (`ContainerState`).
#[derive(Debug, Clone, Copy, Default)]
struct PeakWindow {
    end: Option<SimTime>,
    peak: f64,
}

/// A recommendation for one container: CPU in milli-cores, memory in bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    /// The workload.
    pub workload: u32,
    /// The container.
    pub container: String,
    /// Target, lower bound and upper bound of CPU, milli-cores.
    pub cpu_milli: [i64; 3],
    /// Target, lower bound and upper bound of memory, bytes.
    pub memory_bytes: [i64; 3],
    /// Confidence in days of history (`getConfidence`).
    pub confidence: f64,
}

/// The recommender of one run.
#[derive(Debug)]
pub struct VpaRecommender {
    /// Per workload, per container.
    aggregates: Vec<Vec<Aggregate>>,
    /// Per pod id, per container.
    windows: Vec<Vec<PeakWindow>>,
    next_sample: SimTime,
    /// Samples taken and not yet added, in the order taken.
    log: Vec<LoggedSample>,
    /// Scratch of [`Self::add_logged`]: the log's indices by workload, and where each
    /// workload's start.
    order: Vec<u32>,
    order_start: Vec<u32>,
}

/// One pod's usage as sampled, before it is split over its containers and added.
#[derive(Debug, Clone, Copy)]
struct LoggedSample {
    workload: u32,
    pod: u32,
    cpu_milli: f64,
    memory_bytes: f64,
    measure_start: SimTime,
}

/// Samples logged before they are added: 2 MiB, about an hour of a thousand one-pod
/// workloads.
const SAMPLE_LOG_LEN: usize = 1 << 16;

impl VpaRecommender {
    /// A recommender for every workload with CPU or memory requests.
    pub fn new(world: &World) -> VpaRecommender {
        let aggregates = world
            .specs
            .iter()
            .map(|s| {
                s.container_requests
                    .iter()
                    .map(|_| Aggregate {
                        cpu: DecayingHistogram::new(HistogramOptions::cpu(), Some(HALF_LIFE)),
                        memory_peaks: DecayingHistogram::new(
                            HistogramOptions::memory(),
                            Some(HALF_LIFE),
                        ),
                        first_sample: None,
                        last_sample: None,
                        samples: 0,
                    })
                    .collect()
            })
            .collect();
        VpaRecommender {
            aggregates,
            windows: Vec::new(),
            next_sample: RECOMMENDER_INTERVAL,
            log: Vec::new(),
            order: Vec::new(),
            order_start: Vec::new(),
        }
    }

    /// Takes the usage sample of every running pod once per recommender interval (call
    /// after each metrics tick). Samples are logged and added to the histograms a
    /// workload at a time ([`Self::add_logged`]): adding each as it comes touched a
    /// thousand workloads' histograms in turn, a cache miss per step.
    pub fn observe(&mut self, world: &World, now: SimTime) {
        if now < self.next_sample {
            return;
        }
        while self.next_sample <= now {
            self.next_sample = self.next_sample.saturating_add(RECOMMENDER_INTERVAL);
        }
        for w in 0..world.specs.len() {
            let sample = &world.workloads[w].usage;
            if sample.window == SimTime::ZERO {
                continue;
            }
            let measure_start = sample.at.saturating_sub(sample.window);
            for &pod in &world.workloads[w].active {
                let p = &world.pods[pod.0 as usize];
                if !matches!(p.state, PodState::Running | PodState::Ready) || !sample.covers(p) {
                    continue;
                }
                let (cpu_milli, memory_bytes) = if sample.serving(p) {
                    (sample.cpu_milli_serving, sample.memory_bytes_serving)
                } else {
                    (sample.cpu_milli_idle, sample.memory_bytes_idle)
                };
                self.log.push(LoggedSample {
                    workload: w as u32,
                    pod: pod.0,
                    cpu_milli,
                    memory_bytes,
                    measure_start,
                });
            }
        }
        if self.log.len() >= SAMPLE_LOG_LEN {
            self.add_logged(world);
        }
    }

    /// Adds the logged samples to the histograms, workload by workload, each workload's
    /// in the order they were taken: every histogram sees the same additions in the same
    /// order as if each had been added when taken, so the sums are the same to the bit.
    fn add_logged(&mut self, world: &World) {
        if self.log.is_empty() {
            return;
        }
        // A counting sort by workload, stable.
        let workloads = self.aggregates.len();
        self.order_start.clear();
        self.order_start.resize(workloads + 1, 0);
        for s in &self.log {
            self.order_start[s.workload as usize + 1] += 1;
        }
        for w in 0..workloads {
            self.order_start[w + 1] += self.order_start[w];
        }
        self.order.clear();
        self.order.resize(self.log.len(), 0);
        let mut next = self.order_start.clone();
        for (i, s) in self.log.iter().enumerate() {
            let slot = &mut next[s.workload as usize];
            self.order[*slot as usize] = i as u32;
            *slot += 1;
        }
        for &i in &self.order {
            let s = self.log[i as usize];
            let w = s.workload as usize;
            let spec = &world.specs[w];
            let (cpu_total, mem_total) = (
                spec.cpu_request_milli.max(1) as f64,
                spec.memory_request_bytes.max(1) as f64,
            );
            let n = spec.container_requests.len() as f64;
            if self.windows.len() <= s.pod as usize {
                self.windows.resize(s.pod as usize + 1, Vec::new());
            }
            let windows = &mut self.windows[s.pod as usize];
            if windows.is_empty() {
                windows.resize(spec.container_requests.len(), PeakWindow::default());
            }
            for (c, req) in spec.container_requests.iter().enumerate() {
                // Split by request share (evenly when the pod requests none).
                let cpu_share = if spec.cpu_request_milli > 0 {
                    req.cpu_request_milli as f64 / cpu_total
                } else {
                    1.0 / n
                };
                let mem_share = if spec.memory_request_bytes > 0 {
                    req.memory_request_bytes as f64 / mem_total
                } else {
                    1.0 / n
                };
                let agg = &mut self.aggregates[w][c];
                let measure_start = s.measure_start;
                agg.cpu.add(
                    s.cpu_milli * cpu_share / 1000.0,
                    MIN_SAMPLE_WEIGHT,
                    measure_start,
                );
                agg.samples += 1;
                agg.first_sample = Some(
                    agg.first_sample
                        .map_or(measure_start, |f| f.min(measure_start)),
                );
                agg.last_sample = Some(
                    agg.last_sample
                        .map_or(measure_start, |l| l.max(measure_start)),
                );
                add_memory_sample(
                    agg,
                    &mut windows[c],
                    s.memory_bytes * mem_share,
                    measure_start,
                );
            }
        }
        self.log.clear();
    }

    /// The recommendations at the end of the run, workload then container order.
    pub fn recommendations(&mut self, world: &World) -> Vec<Recommendation> {
        self.add_logged(world);
        let mut out = Vec::new();
        for (w, spec) in world.specs.iter().enumerate() {
            let n = spec.container_requests.len().max(1) as f64;
            let min_cpu = trunc(trunc(MIN_CPU_MILLI) * (1.0 / n));
            let min_memory = trunc(trunc(MIN_MEMORY_MIB * 1024.0 * 1024.0) * (1.0 / n));
            for (c, req) in spec.container_requests.iter().enumerate() {
                let agg = &self.aggregates[w][c];
                if agg.samples == 0 {
                    continue;
                }
                let confidence = confidence(agg);
                let cpu = |p: f64| trunc(agg.cpu.percentile(p) * 1000.0);
                let memory = |p: f64| trunc(agg.memory_peaks.percentile(p));
                out.push(Recommendation {
                    workload: w as u32,
                    container: req.name.clone(),
                    cpu_milli: bounds(cpu, confidence, min_cpu),
                    memory_bytes: bounds(memory, confidence, min_memory),
                    confidence,
                });
            }
        }
        out
    }
}

/// Upstream's peak-per-interval memory sampling for one pod container.
fn add_memory_sample(agg: &mut Aggregate, window: &mut PeakWindow, usage: f64, t: SimTime) {
    let end = *window.end.get_or_insert(t);
    if t < end {
        if window.peak != 0.0 && usage > window.peak {
            agg.memory_peaks.subtract(window.peak, 1.0, end);
            agg.memory_peaks.add(usage, 1.0, end);
            window.peak = usage;
        }
        return;
    }
    // A new interval: the end moves by whole intervals past `t`.
    let gap = t.saturating_sub(end).as_millis();
    let step = MEMORY_INTERVAL.as_millis();
    let new_end = end.saturating_add(SimTime::from_millis(gap / step * step + step));
    window.end = Some(new_end);
    window.peak = usage;
    agg.memory_peaks.add(usage, 1.0, new_end);
}

/// `min(days of history, samples per day of one-minute sampling)`.
fn confidence(agg: &Aggregate) -> f64 {
    let (Some(first), Some(last)) = (agg.first_sample, agg.last_sample) else {
        return 0.0;
    };
    let interval = CONFIDENCE_INTERVAL.as_millis() as f64;
    let lifespan = last.saturating_sub(first).as_millis() as f64 / interval;
    let per_minute = agg.samples as f64 / (interval / 60_000.0);
    lifespan.min(per_minute)
}

/// Target, lower and upper bound from a percentile function, as upstream wraps them:
/// percentile, margin, confidence multiplier (bounds), minimum.
fn bounds(percentile: impl Fn(f64) -> f64, confidence: f64, min: f64) -> [i64; 3] {
    let margin = |base: f64| base + trunc(base * SAFETY_MARGIN);
    let scaled = |base: f64, multiplier: f64, exponent: f64| {
        trunc(base * (1.0 + multiplier / confidence).powf(exponent))
    };
    let target = margin(percentile(0.9));
    let lower = scaled(margin(percentile(0.5)), 0.001, -2.0);
    let upper = scaled(margin(percentile(0.95)), 1.0, 1.0);
    [target, lower, upper].map(|v| v.max(min) as i64)
}

/// Upstream `resourceAmountFromFloat`: truncation, capped at 1e14, never negative.
fn trunc(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        0.0
    } else if x > MAX_AMOUNT {
        MAX_AMOUNT
    } else {
        x.trunc()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples logged and added a round at a time, or all at once, or by a recommender
    /// whose log fills at odd moments: every histogram sees its samples in the same order,
    /// so the recommendations agree to the bit.
    #[test]
    fn adding_logged_samples_late_changes_no_number() {
        use crate::scenario::load_str;
        use std::path::Path;
        let yaml = "apiVersion: kubesim/v1\nkind: Scenario\nname: t\nduration: 1h\n\
            cluster:\n  pools:\n    - {name: p, cpu: '8', memory: 32Gi, count: 1}\n\
            workloads:\n\
            \x20 - name: one\n    replicas: 2\n    template:\n      spec:\n        containers:\n\
            \x20         - {name: a, resources: {requests: {cpu: 500m, memory: 256Mi}}}\n\
            \x20 - name: two\n    replicas: 2\n    template:\n      spec:\n        containers:\n\
            \x20         - {name: a, resources: {requests: {cpu: 300m, memory: 128Mi}}}\n\
            \x20         - {name: b, resources: {requests: {cpu: 100m, memory: 512Mi}}}\n";
        let scenario = load_str("t.yaml", yaml, Path::new("."), &[]).expect("valid scenario");
        let world = World::new(&scenario);
        // 300 rounds of a minute: four pods of two workloads, usage wandering up and down
        // (memory peaks replace each other), one round of a day later (a new interval).
        let rounds: Vec<Vec<LoggedSample>> = (0..300u32)
            .map(|r| {
                let minute = if r == 299 { 24 * 60 + 5 } else { u64::from(r) };
                (0..4u32)
                    .map(|pod| LoggedSample {
                        workload: pod / 2,
                        pod,
                        cpu_milli: 100.0 + f64::from((r * 37 + pod * 11) % 400),
                        memory_bytes: 1e8 + 1e6 * f64::from((r * 53 + pod * 7) % 300),
                        measure_start: SimTime::from_secs(60 * minute),
                    })
                    .collect()
            })
            .collect();
        let feed = |add_every: usize| {
            let mut vpa = VpaRecommender::new(&world);
            for (i, round) in rounds.iter().enumerate() {
                vpa.log.extend_from_slice(round);
                if (i + 1) % add_every == 0 {
                    vpa.add_logged(&world);
                }
            }
            vpa.recommendations(&world)
        };
        let each_round = feed(1);
        assert_eq!(each_round.len(), 3, "{each_round:?}");
        assert!(each_round.iter().all(|r| r.cpu_milli[0] > 0));
        assert_eq!(each_round, feed(7));
        assert_eq!(each_round, feed(1000));
    }

    fn empty() -> Aggregate {
        Aggregate {
            cpu: DecayingHistogram::new(HistogramOptions::cpu(), Some(HALF_LIFE)),
            memory_peaks: DecayingHistogram::new(HistogramOptions::memory(), Some(HALF_LIFE)),
            first_sample: None,
            last_sample: None,
            samples: 0,
        }
    }

    #[test]
    fn percentile_estimator_matches_upstream() {
        // TestPercentileEstimator: 1, 2, 3 cores and 1e9, 2e9, 3e9 bytes, weight 1.
        let mut cpu = DecayingHistogram::new(HistogramOptions::cpu(), None);
        let mut mem = DecayingHistogram::new(HistogramOptions::memory(), None);
        for i in 1..=3 {
            cpu.add(f64::from(i), 1.0, SimTime::ZERO);
            mem.add(f64::from(i) * 1e9, 1.0, SimTime::ZERO);
        }
        assert_eq!(trunc(cpu.percentile(0.2) * 1000.0), 1016.0);
        assert_eq!(trunc(mem.percentile(0.5)), 2_093_479_957.0);
    }

    #[test]
    fn confidence_and_bounds_match_upstream() {
        // TestConfidenceMultiplier: no history → upper 1e14, lower 0.
        assert_eq!(confidence(&empty()), 0.0);
        let b = bounds(|_| 3140.0, 0.0, 0.0);
        assert_eq!(b[2], 100_000_000_000_000);
        assert_eq!(b[1], 0);
        // Nine samples two minutes apart: confidence = 9 / 1440 = 0.00625.
        let mut agg = empty();
        for k in 0..9u64 {
            agg.cpu
                .add(1.0, MIN_SAMPLE_WEIGHT, SimTime::from_secs(120 * k));
            agg.samples += 1;
            let t = SimTime::from_secs(120 * k);
            agg.first_sample = Some(agg.first_sample.map_or(t, |f| f.min(t)));
            agg.last_sample = Some(agg.last_sample.map_or(t, |l| l.max(t)));
        }
        assert_eq!(confidence(&agg), 0.00625);
        // Multiplier 0.1, exponent 2: × 289 → 907.46 cores.
        assert_eq!(
            trunc(3140.0 * (1.0 + 0.1 / 0.00625f64).powf(2.0)),
            907_460.0
        );
        // The 15% margin is truncated on its own; the minimum is the outermost wrapper.
        assert_eq!(bounds(|_| 1001.0, 1.0, 0.0)[0], 1001 + 150);
        assert_eq!(bounds(|_| 10.0, 1.0, 25.0)[0], 25);
    }

    #[test]
    fn memory_keeps_one_peak_per_interval() {
        let mut agg = empty();
        let mut w = PeakWindow::default();
        let min = |m: u64| SimTime::from_secs(60 * m);
        add_memory_sample(&mut agg, &mut w, 1e9, min(0));
        add_memory_sample(&mut agg, &mut w, 3e9, min(1)); // replaces the lower peak
        add_memory_sample(&mut agg, &mut w, 2e9, min(2)); // below the peak: ignored
        assert!((agg.memory_peaks.total_weight() - 1.0).abs() < 1e-9);
        assert_eq!(
            agg.memory_peaks.percentile(1.0),
            HistogramOptions::memory()
                .bucket_start(HistogramOptions::memory().find_bucket(3e9) + 1)
        );
        // The next day opens a new interval: a second peak.
        add_memory_sample(&mut agg, &mut w, 1e9, min(24 * 60 + 1));
        assert!(agg.memory_peaks.total_weight() > 1.5);
    }
}
