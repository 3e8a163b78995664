//! The HPA's replica calculator: from per-pod metrics (or one object/external value) to a
//! replica proposal, with upstream's pod grouping, tolerance and missing/unready handling.
//!
//! Upstream: kubernetes/kubernetes `pkg/controller/podautoscaler/replica_calculator.go`
//! (`GetResourceReplicas`, `GetRawResourceReplicas`, `GetMetricReplicas`,
//! `calcPlainMetricReplicas`, `GetObjectMetricReplicas`, `GetObjectPerPodMetricReplicas`,
//! `GetExternalMetricReplicas`, `GetExternalPerPodMetricReplicas`, `groupPods`) and
//! `pkg/controller/podautoscaler/metrics/utilization.go`.
//!
//! Follows upstream in: integer milli-unit values, utilization truncated to a whole percent
//! before the ratio, `ceil` of the float product, inclusive tolerance bounds (two-sided,
//! as `behavior.scaleUp/scaleDown.tolerance`), missing pods filled with
//! `request × max(100, target)/100` (or the target value) when scaling down and 0 when
//! scaling up, unready pods counted as 0 when scaling up, and the rule that a fill that
//! flips the direction or lands within tolerance keeps the current count.
//!
//! Simplified: pure functions over a pod list the caller builds; container-level
//! (`ContainerResource`) metrics are not modelled.

use crate::engine::SimTime;

/// The two tolerance bounds around a usage ratio of 1 (upstream `Tolerances`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// Below 1: ratios at or above `1 − scale_down` keep the count.
    pub scale_down: f64,
    /// Above 1: ratios at or below `1 + scale_up` keep the count.
    pub scale_up: f64,
}

impl Tolerances {
    /// The same tolerance both ways (the controller flag, default 0.1).
    pub fn both(t: f64) -> Tolerances {
        Tolerances {
            scale_down: t,
            scale_up: t,
        }
    }

    /// Whether a usage ratio is close enough to 1 to keep the current count.
    pub fn is_within(&self, ratio: f64) -> bool {
        (1.0 - self.scale_down) <= ratio && ratio <= (1.0 + self.scale_up)
    }
}

/// A pod's phase as the HPA sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not yet running (unscheduled or its containers starting).
    Pending,
    /// Running.
    Running,
    /// Failed (ignored).
    Failed,
}

/// One metric sample of one pod, in milli-units (milli-cores, milli-bytes, milli-requests
/// per second), as metrics-server or a custom-metrics adapter reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodMetric {
    /// The value, milli-units.
    pub value: i64,
    /// When the sample was taken.
    pub timestamp: SimTime,
    /// The window it averages over.
    pub window: SimTime,
}

/// What the replica calculator reads about one pod of the target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodView {
    /// Phase.
    pub phase: Phase,
    /// Being deleted (`deletionTimestamp` set): ignored.
    pub deleting: bool,
    /// The Ready condition: `None` when the pod has none yet, else (status, last transition).
    pub ready: Option<(bool, SimTime)>,
    /// `status.startTime` (None before the kubelet accepted the pod).
    pub start: Option<SimTime>,
    /// The pod's request of the metric's resource, milli-units (None: a container lacks one).
    pub request: Option<i64>,
    /// Its metric, when the source has one.
    pub metric: Option<PodMetric>,
}

/// The controller settings the calculator needs (kube-controller-manager flags).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalculatorConfig {
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (5 min).
    pub cpu_initialization_period: SimTime,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay` (30 s).
    pub initial_readiness_delay: SimTime,
}

impl Default for CalculatorConfig {
    fn default() -> Self {
        CalculatorConfig {
            cpu_initialization_period: SimTime::from_secs(300),
            initial_readiness_delay: SimTime::from_secs(30),
        }
    }
}

/// Why no proposal could be made (upstream's error text, which the controller reports in a
/// `FailedGetResourceMetric`-style event).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalcError {
    /// The selector matched no pod.
    #[error("no pods returned by selector while calculating replica count")]
    NoPods,
    /// Every pod was unready or lacked a metric.
    #[error("did not receive metrics for targeted pods (pods might be unready)")]
    NoMetrics,
    /// A pod lacks a request of the resource, so utilization is undefined.
    #[error("missing request for {0}")]
    MissingRequest(&'static str),
    /// The target is zero or negative.
    #[error("invalid metric target {0}")]
    InvalidTarget(i64),
}

/// A proposal and the current value it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proposal {
    /// Replicas the metric asks for.
    pub replicas: u32,
    /// Utilization in whole percent (Resource Utilization), else the average or total
    /// value in milli-units, as `status.currentMetrics` shows it.
    pub current: i64,
}

/// How each pod counts, per upstream `groupPods`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Ready with a metric: counted.
    Ready,
    /// Pending, or (for CPU) not yet trustworthy: dropped, or 0 when scaling up.
    Unready,
    /// Running without a metric: filled in by the direction of the change.
    Missing,
    /// Deleting or failed: not counted at all.
    Ignored,
}

/// Upstream `groupPods`: CPU samples taken while a pod was starting are not trusted (the
/// CPU initialization period), and a pod that never became Ready after its initial
/// readiness delay is unready; other metrics only drop pending pods.
pub fn group_pod(pod: &PodView, is_cpu: bool, now: SimTime, cfg: &CalculatorConfig) -> Group {
    if pod.deleting || pod.phase == Phase::Failed {
        return Group::Ignored;
    }
    if pod.phase == Phase::Pending {
        return Group::Unready;
    }
    let Some(metric) = pod.metric else {
        return Group::Missing;
    };
    if !is_cpu {
        return Group::Ready;
    }
    let (Some((ready, transition)), Some(start)) = (pod.ready, pod.start) else {
        return Group::Unready;
    };
    let unready = if now < start.saturating_add(cfg.cpu_initialization_period) {
        // Still initializing: unready unless Ready and the sample began after it became so.
        !ready || metric.timestamp < transition.saturating_add(metric.window)
    } else {
        // Past initialization: unready only if it has never been Ready since starting.
        !ready && start.saturating_add(cfg.initial_readiness_delay) > transition
    };
    if unready {
        Group::Unready
    } else {
        Group::Ready
    }
}

/// Per-pod values after grouping: what the ratio is computed over.
#[derive(Debug, Clone, Copy)]
struct Entry {
    group: Group,
    value: i64,
    request: i64,
}

/// Groups the pods and keeps the counted ones' values.
fn entries(
    pods: &[PodView],
    is_cpu: bool,
    now: SimTime,
    cfg: &CalculatorConfig,
) -> Result<(Vec<Entry>, u32), CalcError> {
    if pods.is_empty() {
        return Err(CalcError::NoPods);
    }
    let mut out = Vec::with_capacity(pods.len());
    let mut ready_count = 0u32;
    for pod in pods {
        let group = group_pod(pod, is_cpu, now, cfg);
        if group == Group::Ready {
            ready_count += 1;
        }
        out.push(Entry {
            group,
            value: pod.metric.map_or(0, |m| m.value),
            request: pod.request.unwrap_or(0),
        });
    }
    Ok((out, ready_count))
}

/// `ceil(ratio × n)` as upstream's `int32(math.Ceil(...))`.
fn ceil_replicas(ratio: f64, n: u32) -> u32 {
    (ratio * f64::from(n))
        .ceil()
        .clamp(0.0, f64::from(i32::MAX)) as u32
}

/// Shared tail of every per-pod calculation (upstream's two-step rule): with no missing
/// pods and no unready pods to count as 0, the ratio decides alone; otherwise the missing
/// and unready are filled in, and a refill that lands within tolerance or flips the
/// direction keeps the current count.
fn per_pod_replicas(
    current: u32,
    ready_count: u32,
    entries: &mut [Entry],
    tol: Tolerances,
    ratio_of: impl Fn(&[Entry]) -> f64,
    missing_fill_down: impl Fn(&Entry) -> i64,
) -> u32 {
    let ratio = ratio_of(entries);
    let has_unready = entries.iter().any(|e| e.group == Group::Unready);
    let has_missing = entries.iter().any(|e| e.group == Group::Missing);
    let scale_up_with_unready = has_unready && ratio > 1.0;
    if !scale_up_with_unready && !has_missing {
        if tol.is_within(ratio) {
            return current;
        }
        return ceil_replicas(ratio, ready_count);
    }
    // The refilled set: ready pods, missing pods (filled unless the ratio is exactly 1)
    // and, when scaling up, the unready at 0.
    for e in entries.iter_mut() {
        match e.group {
            Group::Missing if ratio < 1.0 => e.value = missing_fill_down(e),
            Group::Missing if ratio > 1.0 => e.value = 0,
            Group::Unready if scale_up_with_unready => e.value = 0,
            _ => continue,
        }
        e.group = Group::Ready;
    }
    let counted = entries.iter().filter(|e| e.group == Group::Ready).count() as u32;
    let new_ratio = ratio_of(entries);
    if tol.is_within(new_ratio)
        || (ratio < 1.0 && new_ratio > 1.0)
        || (ratio > 1.0 && new_ratio < 1.0)
    {
        return current;
    }
    let proposed = ceil_replicas(new_ratio, counted);
    if (new_ratio < 1.0 && proposed > current) || (new_ratio > 1.0 && proposed < current) {
        return current;
    }
    proposed
}

/// Σ usage × 100 / Σ request over counted pods, truncated to a whole percent
/// (upstream `GetResourceUtilizationRatio`), and the raw average.
fn utilization(entries: &[Entry]) -> Option<(i64, i64)> {
    let (mut usage, mut requests, mut n) = (0i64, 0i64, 0i64);
    for e in entries.iter().filter(|e| e.group == Group::Ready) {
        usage += e.value;
        requests += e.request;
        n += 1;
    }
    (requests > 0).then(|| (usage * 100 / requests, usage / n))
}

/// Σ value / n over counted pods (upstream `GetMetricUsageRatio`'s average).
fn average(entries: &[Entry]) -> i64 {
    let (mut sum, mut n) = (0i64, 0i64);
    for e in entries.iter().filter(|e| e.group == Group::Ready) {
        sum += e.value;
        n += 1;
    }
    if n == 0 { 0 } else { sum / n }
}

/// Resource metric with a `Utilization` target (percent of request).
pub fn resource_utilization_replicas(
    current: u32,
    target_percent: i32,
    resource: &'static str,
    pods: &[PodView],
    now: SimTime,
    cfg: &CalculatorConfig,
    tol: Tolerances,
) -> Result<Proposal, CalcError> {
    if target_percent <= 0 {
        return Err(CalcError::InvalidTarget(i64::from(target_percent)));
    }
    let (mut entries, ready_count) = entries(pods, resource == "cpu", now, cfg)?;
    if !entries.iter().any(|e| e.group == Group::Ready) {
        return Err(CalcError::NoMetrics);
    }
    if pods.iter().any(|p| p.request.is_none()) {
        return Err(CalcError::MissingRequest(resource));
    }
    let target = i64::from(target_percent);
    let (percent, _) = utilization(&entries).ok_or(CalcError::MissingRequest(resource))?;
    let ratio_of = |es: &[Entry]| utilization(es).map_or(0.0, |(u, _)| u as f64 / target as f64);
    let replicas = per_pod_replicas(current, ready_count, &mut entries, tol, ratio_of, |e| {
        e.request * target.max(100) / 100
    });
    Ok(Proposal {
        replicas,
        current: percent,
    })
}

/// Per-pod average against a target value (Resource `AverageValue`, Pods metrics:
/// upstream `calcPlainMetricReplicas`). CPU pods are grouped with CPU's readiness rules.
pub fn average_value_replicas(
    current: u32,
    target_milli: i64,
    is_cpu: bool,
    pods: &[PodView],
    now: SimTime,
    cfg: &CalculatorConfig,
    tol: Tolerances,
) -> Result<Proposal, CalcError> {
    if target_milli <= 0 {
        return Err(CalcError::InvalidTarget(target_milli));
    }
    let (mut entries, ready_count) = entries(pods, is_cpu, now, cfg)?;
    if !entries.iter().any(|e| e.group == Group::Ready) {
        return Err(CalcError::NoMetrics);
    }
    let usage = average(&entries);
    let ratio_of = |es: &[Entry]| average(es) as f64 / target_milli as f64;
    let replicas = per_pod_replicas(current, ready_count, &mut entries, tol, ratio_of, |_| {
        target_milli
    });
    Ok(Proposal {
        replicas,
        current: usage,
    })
}

/// One value against a target value (Object and External `Value`: upstream
/// `getUsageRatioReplicaCount`): scales the Ready pod count by the ratio, or from zero
/// replicas to `ceil(ratio)`.
pub fn value_replicas(
    current: u32,
    ready_pods: u32,
    value_milli: i64,
    target_milli: i64,
    tol: Tolerances,
) -> Result<Proposal, CalcError> {
    if target_milli <= 0 {
        return Err(CalcError::InvalidTarget(target_milli));
    }
    let ratio = value_milli as f64 / target_milli as f64;
    let replicas = if current != 0 {
        if tol.is_within(ratio) {
            current
        } else {
            ceil_replicas(ratio, ready_pods)
        }
    } else {
        ceil_replicas(ratio, 1)
    };
    Ok(Proposal {
        replicas,
        current: value_milli,
    })
}

/// One value against a per-pod target (Object and External `AverageValue`): the count that
/// brings value / replicas to the target, measured against `status.replicas`.
pub fn per_pod_value_replicas(
    status_replicas: u32,
    value_milli: i64,
    target_milli: i64,
    tol: Tolerances,
) -> Result<Proposal, CalcError> {
    if target_milli <= 0 {
        return Err(CalcError::InvalidTarget(target_milli));
    }
    let mut replicas = status_replicas;
    let ratio = value_milli as f64 / (target_milli as f64 * f64::from(status_replicas));
    if !tol.is_within(ratio) {
        replicas = ceil_replicas(value_milli as f64 / target_milli as f64, 1);
    }
    let current = if status_replicas > 0 {
        (value_milli as f64 / f64::from(status_replicas)).ceil() as i64
    } else {
        value_milli
    };
    Ok(Proposal { replicas, current })
}
