//! What metrics-server and a custom-metrics adapter would report about a workload's pods:
//! one sample per metrics tick, taken from the traffic model. The HPA and the VPA
//! recommender read only this, never the traffic model itself.

use super::{Pod, PodState};
use crate::engine::SimTime;

/// A workload's usage over the last metrics window (all Ready pods serve an equal share,
/// as kube-proxy spreads requests evenly).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UsageSample {
    /// When the sample was scraped (ZERO with a zero window: no sample yet).
    pub at: SimTime,
    /// The window it averages over (metrics-server's resolution: the metrics tick).
    pub window: SimTime,
    /// CPU of one Ready pod, milli-cores (base + requests, capped by the limit).
    pub cpu_milli_serving: f64,
    /// CPU of one running pod that receives no traffic (not Ready), milli-cores.
    pub cpu_milli_idle: f64,
    /// Memory of one Ready pod, bytes.
    pub memory_bytes_serving: f64,
    /// Memory of one running pod without traffic, bytes.
    pub memory_bytes_idle: f64,
    /// Offered requests per second reaching one Ready pod.
    pub rps_per_pod: f64,
    /// Offered requests per second to the workload.
    pub rps_total: f64,
    /// Requests being served across the workload (time average, Little's law).
    pub in_flight_total: f64,
    /// Requests waiting in queues across the workload at the end of the window.
    pub queue_total: f64,
    /// Ready pods when the sample was taken.
    pub ready_pods: u32,
}

impl UsageSample {
    /// Whether metrics-server has a sample of `pod`: it must have been running for the
    /// whole window (a CPU rate needs two scrapes).
    pub fn covers(&self, pod: &Pod) -> bool {
        self.window > SimTime::ZERO
            && matches!(pod.state, PodState::Running | PodState::Ready)
            && pod
                .running_at
                .is_some_and(|t| t.saturating_add(self.window) <= self.at)
    }

    /// Whether `pod` was serving traffic when the sample was taken.
    pub fn serving(&self, pod: &Pod) -> bool {
        pod.state == PodState::Ready && pod.ready_at.is_some_and(|t| t <= self.at)
    }
}
