//! A validated HorizontalPodAutoscaler: the autoscaling/v2 `spec` with defaults applied and
//! metric names resolved to what the simulated metrics pipeline can measure.

use super::behavior::Behavior;
use super::replicas::CalculatorConfig;
use crate::engine::SimTime;

/// kube-controller-manager's HPA settings (the `--horizontal-pod-autoscaler-*` flags).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HpaControllerConfig {
    /// `--horizontal-pod-autoscaler-sync-period` (15 s).
    pub sync_period: SimTime,
    /// `--horizontal-pod-autoscaler-tolerance` (0.1).
    pub tolerance: f64,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (5 min).
    pub downscale_stabilization: SimTime,
    /// CPU initialization period and initial readiness delay.
    pub calculator: CalculatorConfig,
}

impl Default for HpaControllerConfig {
    fn default() -> Self {
        HpaControllerConfig {
            sync_period: SimTime::from_secs(15),
            tolerance: 0.1,
            downscale_stabilization: SimTime::from_secs(300),
            calculator: CalculatorConfig::default(),
        }
    }
}

/// A resource metrics-server reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// CPU, milli-cores.
    Cpu,
    /// Memory, bytes.
    Memory,
}

impl Resource {
    /// The Kubernetes resource name.
    pub fn name(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu",
            Resource::Memory => "memory",
        }
    }
}

/// A quantity the simulated custom/external metrics adapter can serve, by its metric name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimMetric {
    /// Offered requests per second (per pod: what each Ready endpoint receives).
    RequestsPerSecond,
    /// Requests being served (per pod, or in total).
    RequestsInFlight,
    /// Requests waiting in queues, past the pods' concurrency.
    QueueLength,
}

impl SimMetric {
    /// Every metric name the adapter serves, with its meaning.
    pub const ALL: [(&'static str, SimMetric); 3] = [
        ("requests_per_second", SimMetric::RequestsPerSecond),
        ("requests_in_flight", SimMetric::RequestsInFlight),
        ("queue_length", SimMetric::QueueLength),
    ];
}

/// A metric target (`MetricTarget`), values in milli-units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `type: Utilization`, `averageUtilization` percent of request.
    Utilization(i32),
    /// `type: AverageValue`: per pod.
    AverageValue(i64),
    /// `type: Value`: in total.
    Value(i64),
}

impl Target {
    /// The `type` as written in the spec.
    pub fn type_name(self) -> &'static str {
        match self {
            Target::Utilization(_) => "Utilization",
            Target::AverageValue(_) => "AverageValue",
            Target::Value(_) => "Value",
        }
    }
}

/// Where a metric comes from (`MetricSpec` by `type`).
#[derive(Debug, Clone, PartialEq)]
pub enum MetricSource {
    /// `type: Resource`: metrics-server usage of the target's pods.
    Resource(Resource),
    /// `type: Pods`: a per-pod custom metric of the target's pods.
    Pods(SimMetric),
    /// `type: Object`: one value describing another workload (its Service or Deployment).
    Object {
        /// The described workload (index).
        workload: u32,
        /// What is measured on it.
        metric: SimMetric,
    },
    /// `type: External`: a value summed over the workloads the selector matches.
    External {
        /// The selected workloads (indices).
        workloads: Vec<u32>,
        /// What is measured.
        metric: SimMetric,
    },
}

/// One entry of `spec.metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSpec {
    /// Short name for reports: the resource (`cpu`, `memory`) or the metric's name.
    pub name: String,
    /// The source.
    pub source: MetricSource,
    /// The target.
    pub target: Target,
    /// How upstream names it in a rescale reason (e.g. "cpu resource utilization
    /// (percentage of request)", "pods metric requests_per_second").
    pub description: String,
}

/// A validated HPA.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaSpec {
    /// `minReplicas` (default 1).
    pub min_replicas: u32,
    /// `maxReplicas`.
    pub max_replicas: u32,
    /// `metrics` (default: CPU at 80% utilization).
    pub metrics: Vec<MetricSpec>,
    /// `behavior` with defaults filled in, or None for the legacy rules.
    pub behavior: Option<Behavior>,
}
