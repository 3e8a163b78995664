//! Service endpoints and readiness over time: which pods kube-proxy sends a workload's
//! requests to, and how long the workload had Ready replicas at all.
//!
//! Upstream: pkg/controller/endpointslice/endpointslice_controller.go lists a Service's
//! Ready pods; kube-proxy (pkg/proxy/iptables/proxier.go) rewrites its rules at most once
//! per `--iptables-min-sync-period` (default 1 s). Between a pod's change and the rules
//! catching up, traffic still follows the old list: a pod that just became Ready gets no
//! requests yet, and a pod that stopped answering still gets its share, which fails.
//! Simplified: one delay (`cluster.endpointDelay`) covers the whole pipeline (kubelet
//! status update, EndpointSlice controller, kube-proxy sync); one Service per workload,
//! selecting exactly its pods; a deleted pod stops answering at once (no preStop hook).

use super::world::{PodId, PodState, WorkloadState, World};
use crate::engine::SimTime;

/// Time-averaged endpoint counts of one workload over a metrics tick.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EndpointAverages {
    /// Endpoints listed (where kube-proxy sends requests).
    pub listed: f64,
    /// Of those, endpoints whose pod no longer answers.
    pub dead: f64,
    /// Share of the tick's requests that fail at once: the time average of the dead share
    /// of the listed endpoints, counting times with no endpoint at all as 1 (kube-proxy
    /// spreads requests evenly over what is listed at each moment).
    pub failing_share: f64,
}

/// Readiness integrals of one workload over the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Uptime {
    /// Milliseconds the workload existed (after its `createAt`).
    pub exists_ms: u64,
    /// Milliseconds with at least one Ready replica.
    pub up_ms: u64,
    /// Milliseconds with at least the PodDisruptionBudget's minimum available.
    pub budget_ms: u64,
}

impl World {
    /// Adds a pod to its workload's endpoints (the delay after it became Ready has passed).
    /// A pod that is no longer Ready by then is not listed.
    pub fn list_endpoint(&mut self, pod: PodId, now: SimTime) {
        let p = &self.pods[pod.0 as usize];
        if p.listed || p.state != PodState::Ready {
            return;
        }
        let w = p.workload.0 as usize;
        self.integrate_endpoints(w, now);
        self.pods[pod.0 as usize].listed = true;
        self.workloads[w].endpoints.push(pod);
    }

    /// Removes a pod from its workload's endpoints (the delay after it stopped being
    /// Ready has passed).
    pub fn unlist_endpoint(&mut self, pod: PodId, now: SimTime) {
        let p = &self.pods[pod.0 as usize];
        if !p.listed {
            return;
        }
        let answering = p.state == PodState::Ready;
        let w = p.workload.0 as usize;
        self.integrate_endpoints(w, now);
        self.pods[pod.0 as usize].listed = false;
        let ws = &mut self.workloads[w];
        ws.endpoints.retain(|&q| q != pod);
        if !answering {
            ws.endpoints_dead -= 1;
        }
    }

    /// A listed pod stopped answering (it left Ready): its share of requests fails until
    /// it is unlisted.
    pub(super) fn endpoint_stopped_answering(&mut self, pod: PodId, now: SimTime) {
        let w = self.pods[pod.0 as usize].workload.0 as usize;
        self.integrate_endpoints(w, now);
        self.workloads[w].endpoints_dead += 1;
        self.stopped_answering.push(pod);
    }

    /// Listed pods that stopped answering since the last call: the simulation schedules
    /// their removal from the endpoints after the propagation delay.
    pub fn take_stopped_answering(&mut self, into: &mut Vec<PodId>) {
        into.append(&mut self.stopped_answering);
    }

    fn integrate_endpoints(&mut self, w: usize, now: SimTime) {
        self.workloads[w].integrate_endpoints(now);
    }

    /// Time-averaged endpoints since the last call, then resets the integrals.
    pub fn take_endpoint_averages(
        &mut self,
        w: usize,
        now: SimTime,
        interval: SimTime,
    ) -> EndpointAverages {
        self.workloads[w].take_endpoint_averages(now, interval)
    }

    /// The workload now exists (its Deployment was created): uptime starts counting.
    pub fn workload_created(&mut self, w: usize, now: SimTime) {
        self.integrate_ready(w, now);
        self.workloads[w].exists = true;
    }

    /// Readiness integrals up to `now`.
    pub fn uptime(&mut self, w: usize, now: SimTime) -> Uptime {
        self.integrate_ready(w, now);
        self.workloads[w].uptime
    }

    /// Pods the workload's PodDisruptionBudget wants available right now (upstream
    /// disruption controller: minAvailable scaled against the expected count, rounded up;
    /// maxUnavailable subtracted from it). None when no budget selects the workload.
    pub fn budget_min_available(&self, w: usize) -> Option<u32> {
        let budget = self.workload_budget[w]?;
        let b = &self.disruption_budgets[budget as usize];
        let expected = self.workloads[w].desired;
        match (b.min_available, b.max_unavailable) {
            (Some(min), _) => Some(min.scaled_up(expected)),
            (None, Some(max)) => Some(expected.saturating_sub(max.scaled_up(expected))),
            (None, None) => None,
        }
    }
}

impl WorkloadState {
    fn integrate_endpoints(&mut self, now: SimTime) {
        let dt = now.saturating_sub(self.endpoints_integrated_to).as_millis();
        self.listed_ms_since_tick += self.endpoints.len() as u64 * dt;
        self.dead_ms_since_tick += u64::from(self.endpoints_dead) * dt;
        self.failing_ms_since_tick += if self.endpoints.is_empty() {
            dt as f64
        } else {
            f64::from(self.endpoints_dead) / self.endpoints.len() as f64 * dt as f64
        };
        self.endpoints_integrated_to = now;
    }

    /// Time-averaged endpoints since the last call, then resets the integrals. On the
    /// workload's own state, so the traffic plane can tick workloads apart.
    pub fn take_endpoint_averages(&mut self, now: SimTime, interval: SimTime) -> EndpointAverages {
        self.integrate_endpoints(now);
        let avg = if interval.as_millis() == 0 {
            EndpointAverages {
                listed: self.endpoints.len() as f64,
                dead: f64::from(self.endpoints_dead),
                failing_share: if self.endpoints.is_empty() {
                    1.0
                } else {
                    f64::from(self.endpoints_dead) / self.endpoints.len() as f64
                },
            }
        } else {
            let ms = interval.as_millis() as f64;
            EndpointAverages {
                listed: self.listed_ms_since_tick as f64 / ms,
                dead: self.dead_ms_since_tick as f64 / ms,
                failing_share: (self.failing_ms_since_tick / ms).clamp(0.0, 1.0),
            }
        };
        self.listed_ms_since_tick = 0;
        self.dead_ms_since_tick = 0;
        self.failing_ms_since_tick = 0.0;
        avg
    }
}
