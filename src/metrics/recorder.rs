//! The run's recorder: time series rows, events and running totals.

use super::events::{EventKind, EventRecord};
use super::histogram::LatencyHistogram;
use crate::engine::SimTime;

/// One row of timeseries.csv.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeseriesRow {
    /// End of the tick.
    pub time: SimTime,
    /// Workload index.
    pub workload: u32,
    /// Desired replicas.
    pub replicas_desired: u32,
    /// Ready replicas at the tick.
    pub replicas_ready: u32,
    /// Offered requests per second over the tick.
    pub rps_offered: f64,
    /// Served within timeout, per second.
    pub rps_served: f64,
    /// Failed, per second.
    pub rps_failed: f64,
    /// What the serving pods could sustain, requests per second (their concurrency,
    /// capped by their cores, over the CPU per request).
    pub rps_capacity: f64,
    /// CPU used ÷ CPU requested by ready pods.
    pub cpu_utilization: f64,
    /// p99 response time of the tick's served requests, ms.
    pub latency_p99_ms: Option<f64>,
}

/// One row of nodes.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRow {
    /// Sample time.
    pub time: SimTime,
    /// Pool index.
    pub pool: u32,
    /// Ready nodes.
    pub nodes_ready: u32,
    /// Nodes being provisioned.
    pub nodes_provisioning: u32,
    /// Allocatable CPU, milli-cores.
    pub cpu_allocatable_milli: u64,
    /// Requested CPU, milli-cores.
    pub cpu_requested_milli: u64,
    /// Allocatable memory, bytes.
    pub memory_allocatable_bytes: u64,
    /// Requested memory, bytes.
    pub memory_requested_bytes: u64,
    /// What the pool costs per hour right now.
    pub cost_per_hour_usd: f64,
}

/// Per-workload sums over the run.
#[derive(Debug, Clone, Default)]
pub struct WorkloadTotals {
    /// Requests offered.
    pub offered: f64,
    /// Requests served within timeout.
    pub served: f64,
    /// Requests failed (after their last retry).
    pub failed: f64,
    /// Failed attempts that clients retried.
    pub retried: f64,
    /// Latency of served requests.
    pub latency: LatencyHistogram,
    /// Readiness over the run.
    pub uptime: crate::cluster::endpoints::Uptime,
    /// CPU its pods used, core-seconds (the part of its requests it did not use is slack
    /// in the cost report).
    pub cpu_used_core_s: f64,
    /// Memory its pods used, byte-seconds.
    pub memory_used_byte_s: f64,
}

/// Requests held over time: the numerator of a cost allocation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RequestIntegral {
    /// Milli-cores × milliseconds.
    pub cpu_milli_ms: u128,
    /// Bytes × milliseconds.
    pub memory_byte_ms: u128,
}

impl RequestIntegral {
    /// Adds `cpu_milli` and `memory_bytes` held for `ms`.
    pub fn add(&mut self, cpu_milli: u64, memory_bytes: u64, ms: u64) {
        self.cpu_milli_ms += u128::from(cpu_milli) * u128::from(ms);
        self.memory_byte_ms += u128::from(memory_bytes) * u128::from(ms);
    }
}

/// Everything measured in one run.
#[derive(Debug, Default)]
pub struct Recorder {
    /// timeseries.csv rows in time then workload order.
    pub timeseries: super::RowStore<TimeseriesRow>,
    /// nodes.csv rows in time then pool order.
    pub nodes: Vec<NodeRow>,
    /// events.csv rows in time order.
    pub events: Vec<EventRecord>,
    /// Totals per workload.
    pub workloads: Vec<WorkloadTotals>,
    /// VPA recommendations at the end of the run (vpa.csv).
    pub vpa: Vec<crate::control::vpa::Recommendation>,
    /// Every HPA sync's decision (autoscaling.csv), in time order.
    pub hpa_syncs: Vec<crate::control::hpa::SyncRecord>,
    /// Pods created by controllers.
    pub pods_created: u64,
    /// Pods evicted (node failure, preemption).
    pub pods_evicted: u64,
    /// Container restarts.
    pub container_restarts: u64,
    unschedulable_now: i64,
    unschedulable_pod_ms: u128,
    unschedulable_since: SimTime,
    /// Node-milliseconds per pool (billing basis).
    pub pool_node_ms: Vec<u128>,
    pool_nodes_now: Vec<u32>,
    pool_last_change: Vec<SimTime>,
    /// Requests of each workload's bound pods on each pool, sampled at every metrics tick
    /// (the way OpenCost samples Prometheus): `[workload × pools + pool]`, milli-core and
    /// byte × milliseconds. The basis of cost allocation.
    pub requested: Vec<RequestIntegral>,
    /// The same for the DaemonSet pods on each pool's nodes.
    pub daemon_requested: Vec<RequestIntegral>,
    /// Fewest nodes at any time.
    pub nodes_min: u32,
    /// Most nodes at any time.
    pub nodes_max: u32,
}

impl Recorder {
    /// A recorder for `workloads` workloads and pools starting with `initial_nodes` each.
    pub fn new(workloads: usize, initial_nodes: &[u32]) -> Recorder {
        let total: u32 = initial_nodes.iter().sum();
        Recorder {
            workloads: vec![WorkloadTotals::default(); workloads],
            requested: vec![RequestIntegral::default(); workloads * initial_nodes.len()],
            daemon_requested: vec![RequestIntegral::default(); initial_nodes.len()],
            pool_node_ms: vec![0; initial_nodes.len()],
            pool_nodes_now: initial_nodes.to_vec(),
            pool_last_change: vec![SimTime::ZERO; initial_nodes.len()],
            nodes_min: total,
            nodes_max: total,
            ..Default::default()
        }
    }

    /// Records an event.
    pub fn event(&mut self, time: SimTime, kind: EventKind) {
        self.events.push(EventRecord { time, kind });
    }

    /// Counts a pod creation.
    pub fn pod_created(&mut self) {
        self.pods_created += 1;
    }

    /// The number of pods that failed scheduling and still wait changed by `delta`.
    pub fn unschedulable_changed(&mut self, now: SimTime, delta: i64) {
        self.integrate_unschedulable(now);
        self.unschedulable_now += delta;
        debug_assert!(self.unschedulable_now >= 0);
    }

    fn integrate_unschedulable(&mut self, now: SimTime) {
        let dt = now.saturating_sub(self.unschedulable_since).as_millis();
        self.unschedulable_pod_ms += self.unschedulable_now.max(0) as u128 * u128::from(dt);
        self.unschedulable_since = now;
    }

    /// Bills one node of `pool` for `time` more (a provider's minimum charge).
    pub fn bill_extra(&mut self, pool: usize, time: SimTime) {
        self.pool_node_ms[pool] += u128::from(time.as_millis());
    }

    /// A pool's node count changed.
    pub fn pool_nodes_changed(&mut self, now: SimTime, pool: usize, nodes: u32) {
        self.integrate_pool(now, pool);
        self.pool_nodes_now[pool] = nodes;
        let total: u32 = self.pool_nodes_now.iter().sum();
        self.nodes_min = self.nodes_min.min(total);
        self.nodes_max = self.nodes_max.max(total);
    }

    fn integrate_pool(&mut self, now: SimTime, pool: usize) {
        let dt = now.saturating_sub(self.pool_last_change[pool]).as_millis();
        self.pool_node_ms[pool] += u128::from(self.pool_nodes_now[pool]) * u128::from(dt);
        self.pool_last_change[pool] = now;
    }

    /// Closes every running integral at the end of the run.
    pub fn finish(&mut self, end: SimTime) {
        self.integrate_unschedulable(end);
        for p in 0..self.pool_nodes_now.len() {
            self.integrate_pool(end, p);
        }
    }

    /// Pod-seconds spent unschedulable (valid after [`Recorder::finish`]).
    pub fn unschedulable_pod_seconds(&self) -> f64 {
        self.unschedulable_pod_ms as f64 / 1000.0
    }
}
