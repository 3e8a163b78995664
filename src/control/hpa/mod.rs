//! The HorizontalPodAutoscaler controller: every sync period, each HPA reads its metrics,
//! proposes a replica count per metric, takes the largest, stabilizes and rate-limits it,
//! and writes the result to the workload's `spec.replicas`.
//!
//! Upstream: kubernetes/kubernetes `pkg/controller/podautoscaler/horizontal.go`
//! (`reconcileAutoscaler`, `computeReplicasForMetrics`, `recordInitialRecommendation`),
//! with the replica arithmetic in [`replicas`] and the normalization in [`behavior`].
//!
//! Follows upstream in: the 15 s sync period; the branches for zero replicas (scaling
//! disabled), above max and below min (no metrics read); the maximum over metrics with
//! invalid metrics blocking scale-down; the first recommendation seeded with the current
//! count; rescale reasons and the `SuccessfulRescale` message; scale events stored only
//! with `behavior`.
//!
//! Simplified: the controller reads the metrics sample of the last metrics tick (its
//! window is the tick, so usage is 0–1 tick old), one HPA per workload, no status
//! conditions beyond the limiting reason written to `autoscaling.csv`, and repeated
//! identical warnings are emitted once (upstream's event recorder counts them instead).

pub mod behavior;
pub mod replicas;
pub mod spec;
#[cfg(test)]
mod upstream_tests;

use crate::cluster::{PodState, WorkloadId, World};
use crate::engine::SimTime;
use crate::metrics::Recorder;
use crate::metrics::events::{EventKind, RescaleReason};
use behavior::{History, Limit};
use replicas::{CalcError, Phase, PodMetric, PodView, Proposal, Tolerances};
use spec::{HpaControllerConfig, HpaSpec, MetricSource, Resource, SimMetric, Target};

/// One HPA's state between syncs.
#[derive(Debug, Clone, Default)]
struct HpaState {
    history: History,
    /// The first sync seeds the recommendations with the current count.
    initialized: bool,
    /// The last warning emitted, so a persisting failure is reported once.
    last_warning: Option<String>,
}

/// What one sync decided, for `autoscaling.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncRecord {
    /// Sync time.
    pub time: SimTime,
    /// The workload.
    pub workload: u32,
    /// `spec.replicas` before the sync.
    pub current: u32,
    /// The largest metric proposal (None when no metric could be computed).
    pub proposed: Option<u32>,
    /// The count written (equal to `current` when nothing changed).
    pub desired: u32,
    /// What bounded the result (upstream's condition reason), or why nothing was computed.
    pub limit: &'static str,
    /// Each metric's current value and target in its display units, in spec order.
    pub metrics: Vec<MetricReading>,
}

/// A metric's value at a sync, as `kubectl describe hpa` shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricReading {
    /// Current value (percent for utilization, else units per pod or in total).
    pub current: Option<f64>,
    /// Target in the same unit.
    pub target: f64,
    /// The metric's proposal.
    pub proposal: Option<u32>,
}

/// The HPA controller of one run.
#[derive(Debug)]
pub struct HpaController {
    cfg: HpaControllerConfig,
    states: Vec<HpaState>,
    pods: Vec<PodView>,
}

impl HpaController {
    /// A controller for the scenario's workloads (state only for those with an HPA).
    pub fn new(cfg: HpaControllerConfig, workloads: usize) -> HpaController {
        HpaController {
            cfg,
            states: vec![HpaState::default(); workloads],
            pods: Vec::new(),
        }
    }

    /// The sync period.
    pub fn sync_period(&self) -> SimTime {
        self.cfg.sync_period
    }

    /// One `reconcileAutoscaler` for workload `w`; returns the new `spec.replicas` when
    /// it rescaled.
    pub fn sync(
        &mut self,
        world: &mut World,
        w: WorkloadId,
        now: SimTime,
        rec: &mut Recorder,
    ) -> Option<u32> {
        let wi = w.0 as usize;
        let spec = world.specs[wi].hpa.clone()?;
        let current = world.workloads[wi].desired;
        let state = &mut self.states[wi];
        if !state.initialized {
            state.initialized = true;
            state
                .history
                .recommendations
                .push(behavior::Recommendation {
                    at: now,
                    replicas: current,
                });
        }
        let mut record = SyncRecord {
            time: now,
            workload: w.0,
            current,
            proposed: None,
            desired: current,
            limit: "",
            metrics: Vec::new(),
        };
        let (desired, reason) = if current == 0 {
            record.limit = "ScalingDisabled";
            rec.hpa_syncs.push(record);
            return None;
        } else if current > spec.max_replicas {
            record.limit = "TooManyReplicas";
            (spec.max_replicas, RescaleReason::AboveMax)
        } else if current < spec.min_replicas {
            record.limit = "TooFewReplicas";
            (spec.min_replicas, RescaleReason::BelowMin)
        } else {
            match self.compute(world, wi, &spec, current, now, &mut record.metrics) {
                Err((failed, first)) => {
                    record.limit = "FailedComputeMetricsReplicas";
                    let message = format!(
                        "invalid metrics ({failed} invalid out of {}), first error is: {first}",
                        spec.metrics.len()
                    );
                    let state = &mut self.states[wi];
                    if state.last_warning.as_deref() != Some(message.as_str()) {
                        rec.event(
                            now,
                            EventKind::FailedComputeMetricsReplicas {
                                workload: w,
                                message: message.clone(),
                            },
                        );
                        state.last_warning = Some(message);
                    }
                    rec.hpa_syncs.push(record);
                    return None;
                }
                Ok((proposal, metric)) => {
                    self.states[wi].last_warning = None;
                    record.proposed = Some(proposal);
                    let reason = if proposal > current {
                        RescaleReason::AboveTarget(metric as u32)
                    } else if proposal < current {
                        RescaleReason::AllBelowTarget
                    } else {
                        RescaleReason::Unchanged
                    };
                    let history = &mut self.states[wi].history;
                    let (desired, limit) = match &spec.behavior {
                        None => behavior::normalize_legacy(
                            history,
                            now,
                            current,
                            proposal,
                            spec.min_replicas,
                            spec.max_replicas,
                            self.cfg.downscale_stabilization,
                        ),
                        Some(b) => behavior::normalize_with_behavior(
                            history,
                            now,
                            current,
                            proposal,
                            spec.min_replicas,
                            spec.max_replicas,
                            b,
                        ),
                    };
                    record.limit = limit.reason();
                    if limit == Limit::DesiredWithinRange && desired == current {
                        record.limit = "ReadyForNewScale";
                    }
                    (desired, reason)
                }
            }
        };
        record.desired = desired;
        rec.hpa_syncs.push(record);
        if desired == current {
            return None;
        }
        if let Some(b) = &spec.behavior {
            self.states[wi]
                .history
                .store_scale_event(b, now, current, desired);
        }
        rec.event(
            now,
            EventKind::SuccessfulRescale {
                workload: w,
                new_size: desired,
                reason,
            },
        );
        Some(desired)
    }

    /// `computeReplicasForMetrics`: the largest proposal and the metric (index) that made
    /// it, or the count of invalid metrics and the first error.
    fn compute(
        &mut self,
        world: &World,
        w: usize,
        spec: &HpaSpec,
        current: u32,
        now: SimTime,
        readings: &mut Vec<MetricReading>,
    ) -> Result<(u32, usize), (usize, String)> {
        let mut best: Option<(u32, usize)> = None;
        let mut invalid = 0usize;
        let mut first_error = None;
        for (i, m) in spec.metrics.iter().enumerate() {
            let result = self.propose(world, w, m, current, now, spec);
            let target = match m.target {
                Target::Utilization(p) => f64::from(p),
                Target::AverageValue(v) | Target::Value(v) => v as f64 / 1000.0,
            };
            match result {
                Ok(p) => {
                    readings.push(MetricReading {
                        current: Some(match m.target {
                            Target::Utilization(_) => p.current as f64,
                            _ => p.current as f64 / 1000.0,
                        }),
                        target,
                        proposal: Some(p.replicas),
                    });
                    if best.is_none_or(|(r, _)| p.replicas > r) {
                        best = Some((p.replicas, i));
                    }
                }
                Err(e) => {
                    readings.push(MetricReading {
                        current: None,
                        target,
                        proposal: None,
                    });
                    invalid += 1;
                    if first_error.is_none() {
                        first_error = Some(metric_error(m, &e));
                    }
                }
            }
        }
        match best {
            Some((replicas, i)) if invalid == 0 || replicas >= current => Ok((replicas, i)),
            _ => Err((invalid, first_error.unwrap_or_default())),
        }
    }

    /// One metric's proposal.
    fn propose(
        &mut self,
        world: &World,
        w: usize,
        m: &spec::MetricSpec,
        current: u32,
        now: SimTime,
        spec: &HpaSpec,
    ) -> Result<Proposal, CalcError> {
        let tol = tolerances(&self.cfg, spec);
        let calc = self.cfg.calculator;
        match (&m.source, m.target) {
            (MetricSource::Resource(r), Target::Utilization(t)) => {
                self.pod_views(world, w, PodValue::Resource(*r));
                replicas::resource_utilization_replicas(
                    current,
                    t,
                    r.name(),
                    &self.pods,
                    now,
                    &calc,
                    tol,
                )
            }
            (MetricSource::Resource(r), Target::AverageValue(v)) => {
                self.pod_views(world, w, PodValue::Resource(*r));
                replicas::average_value_replicas(
                    current,
                    v,
                    *r == Resource::Cpu,
                    &self.pods,
                    now,
                    &calc,
                    tol,
                )
            }
            (MetricSource::Pods(metric), Target::AverageValue(v)) => {
                self.pod_views(world, w, PodValue::Custom(*metric));
                replicas::average_value_replicas(current, v, false, &self.pods, now, &calc, tol)
            }
            (MetricSource::Object { workload, metric }, target) => {
                let value = total_milli(world, &[*workload], *metric);
                object_or_external(world, w, current, value, target, tol)
            }
            (MetricSource::External { workloads, metric }, target) => {
                let value = total_milli(world, workloads, *metric);
                object_or_external(world, w, current, value, target, tol)
            }
            (_, t) => Err(CalcError::InvalidTarget(match t {
                Target::Utilization(p) => i64::from(p),
                Target::AverageValue(v) | Target::Value(v) => v,
            })),
        }
    }

    /// The pods of workload `w` as the replica calculator reads them.
    fn pod_views(&mut self, world: &World, w: usize, value: PodValue) {
        self.pods.clear();
        let spec = &world.specs[w];
        let sample = &world.workloads[w].usage;
        for &pod in &world.workloads[w].active {
            let p = &world.pods[pod.0 as usize];
            let phase = match p.state {
                PodState::Pending | PodState::Bound => Phase::Pending,
                PodState::Running | PodState::Ready => Phase::Running,
                PodState::Deleted => continue,
            };
            let ready = match p.state {
                PodState::Ready => p.ready_at.map(|t| (true, t)),
                PodState::Running => p.running_at.map(|t| (false, t)),
                _ => None,
            };
            let serving = sample.serving(p);
            let (metric, request) = match value {
                PodValue::Resource(Resource::Cpu) => (
                    if serving {
                        sample.cpu_milli_serving
                    } else {
                        sample.cpu_milli_idle
                    },
                    Some(spec.cpu_request_milli as i64).filter(|r| *r > 0),
                ),
                PodValue::Resource(Resource::Memory) => (
                    1000.0
                        * if serving {
                            sample.memory_bytes_serving
                        } else {
                            sample.memory_bytes_idle
                        },
                    Some(spec.memory_request_bytes as i64 * 1000).filter(|r| *r > 0),
                ),
                PodValue::Custom(m) => (
                    1000.0 * if serving { per_pod(sample, m) } else { 0.0 },
                    None,
                ),
            };
            self.pods.push(PodView {
                phase,
                deleting: false,
                ready,
                start: p.running_at,
                request,
                metric: sample.covers(p).then_some(PodMetric {
                    value: metric.round() as i64,
                    timestamp: sample.at,
                    window: sample.window,
                }),
            });
        }
    }
}

/// What a pod view's metric holds.
#[derive(Debug, Clone, Copy)]
enum PodValue {
    Resource(Resource),
    Custom(SimMetric),
}

/// A custom metric of one Ready pod.
fn per_pod(sample: &crate::cluster::usage::UsageSample, m: SimMetric) -> f64 {
    let ready = f64::from(sample.ready_pods.max(1));
    match m {
        SimMetric::RequestsPerSecond => sample.rps_per_pod,
        SimMetric::RequestsInFlight => sample.in_flight_total / ready,
        SimMetric::QueueLength => sample.queue_total / ready,
    }
}

/// An Object or External value summed over workloads, milli-units.
fn total_milli(world: &World, workloads: &[u32], m: SimMetric) -> Option<i64> {
    let mut sum = 0.0;
    for &w in workloads {
        let s = &world.workloads[w as usize].usage;
        if s.window == SimTime::ZERO {
            return None;
        }
        sum += match m {
            SimMetric::RequestsPerSecond => s.rps_total,
            SimMetric::RequestsInFlight => s.in_flight_total,
            SimMetric::QueueLength => s.queue_total,
        };
    }
    Some((sum * 1000.0).round() as i64)
}

/// Object and External proposals: `Value` scales the Ready pods by the ratio,
/// `AverageValue` divides by the per-pod target.
fn object_or_external(
    world: &World,
    w: usize,
    current: u32,
    value: Option<i64>,
    target: Target,
    tol: Tolerances,
) -> Result<Proposal, CalcError> {
    let value = value.ok_or(CalcError::NoMetrics)?;
    let ws = &world.workloads[w];
    match target {
        Target::Value(t) => replicas::value_replicas(current, ws.ready, value, t, tol),
        Target::AverageValue(t) => {
            replicas::per_pod_value_replicas(ws.active.len() as u32, value, t, tol)
        }
        Target::Utilization(p) => Err(CalcError::InvalidTarget(i64::from(p))),
    }
}

/// The HPA's tolerances: per direction from `behavior`, else the controller's.
fn tolerances(cfg: &HpaControllerConfig, spec: &HpaSpec) -> Tolerances {
    match &spec.behavior {
        Some(b) => Tolerances {
            scale_up: b.scale_up.tolerance,
            scale_down: b.scale_down.tolerance,
        },
        None => Tolerances::both(cfg.tolerance),
    }
}

/// Upstream's wrapping of a calculator error per metric type.
fn metric_error(m: &spec::MetricSpec, e: &CalcError) -> String {
    match (&m.source, m.target) {
        (MetricSource::Resource(r), Target::Utilization(_)) => format!(
            "failed to get {} resource metric value: failed to get {} utilization: {e}",
            r.name(),
            r.name()
        ),
        (MetricSource::Resource(r), _) => format!(
            "failed to get {} resource metric value: failed to get {} usage: {e}",
            r.name(),
            r.name()
        ),
        (MetricSource::Pods(_), _) => format!("failed to get pods metric value: {e}"),
        (MetricSource::Object { .. }, _) => format!("failed to get object metric value: {e}"),
        (MetricSource::External { .. }, _) => format!("failed to get external metric value: {e}"),
    }
}
