//! A first kube-scheduler: the default Filter plugins that matter for capacity and the
//! NodeResourcesFit score, with upstream's integer arithmetic and random tie-breaking.
//!
//! Upstream: kubernetes/kubernetes `pkg/scheduler/schedule_one.go` (scheduling cycle,
//! `selectHost`), `pkg/scheduler/framework/plugins/noderesources/fit.go`,
//! `least_allocated.go`, `most_allocated.go`, `tainttoleration/taint_toleration.go`,
//! `nodeunschedulable/node_unschedulable.go`, `nodeaffinity/node_affinity.go`, and
//! `pkg/scheduler/internal/queue/scheduling_queue.go` for the queue.
//!
//! Follows upstream in: filter order and failure wording (`Insufficient cpu`, `Too many
//! pods`), scoring with the non-zero request defaults (100m CPU, 200MiB memory per container
//! without a request), LeastAllocated/MostAllocated as `((cap − req) · 100) / cap` averaged
//! with weights cpu 1 / memory 1 in int64 division, and a uniform seeded choice among the
//! nodes tied at the top score.
//!
//! Simplified (until the scheduler issue lands): only NodeResourcesFit scores (the other
//! default score plugins are absent), every feasible node is scored (no
//! `percentageOfNodesToScore`), pods of equal priority are queued FIFO, unschedulable pods
//! are retried on any node or pod-deletion event or after upstream's 5-minute
//! `podMaxInUnschedulablePodsDuration` (no 1 s → 10 s back-off), and binding is instant.

use crate::cluster::{NodeId, PodId, PodState, World};
use crate::engine::{SimRng, SimTime};
use crate::metrics::Recorder;
use crate::metrics::events::{EventKind, FitReason};
use crate::scenario::{PoolSpec, SchedulerProfile, TaintEffect, WorkloadSpec};
use rand::RngExt;
use std::collections::VecDeque;

/// Upstream `podMaxInUnschedulablePodsDuration`: an unschedulable pod is retried at least
/// this often even without a cluster event.
pub const MAX_IN_UNSCHEDULABLE: SimTime = SimTime::from_secs(300);
/// Upstream flushes the unschedulable queue every 30 s.
pub const UNSCHEDULABLE_FLUSH_PERIOD: SimTime = SimTime::from_secs(30);
/// Upstream `MaxNodeScore`.
pub const MAX_NODE_SCORE: i64 = 100;

/// The well-known zone label, matched per node.
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";
/// The well-known instance-type label.
pub const INSTANCE_TYPE_LABEL: &str = "node.kubernetes.io/instance-type";
/// kubesim's pool label, so a pod can target a pool by name.
pub const POOL_LABEL: &str = "kubesim.io/pool";

/// `leastRequestedScore` (least_allocated.go).
pub fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    ((capacity - requested) * MAX_NODE_SCORE) / capacity
}

/// `mostRequestedScore` (most_allocated.go).
pub fn most_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    (requested.min(capacity) * MAX_NODE_SCORE) / capacity
}

/// NodeResourcesFit's score over cpu and memory with weight 1 each: Σ w·s / Σ w in int64.
pub fn resource_fit_score(
    profile: SchedulerProfile,
    req_cpu: i64,
    cap_cpu: i64,
    req_mem: i64,
    cap_mem: i64,
) -> i64 {
    let scorer = match profile {
        SchedulerProfile::Default => least_requested_score,
        SchedulerProfile::BinPacking => most_requested_score,
    };
    let mut sum = 0;
    let mut weights = 0;
    for (req, cap) in [(req_cpu, cap_cpu), (req_mem, cap_mem)] {
        if cap > 0 {
            sum += scorer(req, cap);
            weights += 1;
        }
    }
    if weights == 0 { 0 } else { sum / weights }
}

/// The value of a node label, including the well-known per-node labels.
fn node_label<'a>(world: &'a World, node: NodeId, key: &str) -> Option<&'a str> {
    let n = &world.nodes[node.0 as usize];
    let pool = &world.pools[n.pool.0 as usize];
    match key {
        ZONE_LABEL => pool.zones.get(n.zone as usize).map(String::as_str),
        INSTANCE_TYPE_LABEL => Some(pool.instance_type.as_str()),
        POOL_LABEL => Some(pool.name.as_str()),
        _ => pool
            .labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str()),
    }
}

/// The first taint of a pool with effect NoSchedule/NoExecute that the pod does not tolerate.
fn untolerated_taint(w: &WorkloadSpec, pool: &PoolSpec) -> Option<usize> {
    pool.taints.iter().position(|t| {
        t.effect != TaintEffect::PreferNoSchedule
            && !w.tolerations.iter().any(|tol| tol.tolerates(t))
    })
}

/// Why a pod of `w` could never run on an empty node of `pool`, in upstream wording; empty
/// when it fits. Used by validation to reject hopeless scenarios before they run.
pub fn static_fit_reasons(w: &WorkloadSpec, pool: &PoolSpec) -> Vec<String> {
    let mut reasons = Vec::new();
    if let Some(t) = untolerated_taint(w, pool) {
        let t = &pool.taints[t];
        reasons.push(format!("untolerated taint {{{}: {}}}", t.key, t.value));
        return reasons;
    }
    let zone_ok = |v: &str| pool.zones.iter().any(|z| z == v);
    let selector_ok = w.node_selector.iter().all(|(k, v)| match k.as_str() {
        ZONE_LABEL => zone_ok(v),
        INSTANCE_TYPE_LABEL => pool.instance_type == *v,
        POOL_LABEL => pool.name == *v,
        _ => pool.labels.iter().any(|(lk, lv)| lk == k && lv == v),
    });
    if !selector_ok {
        reasons.push("didn't match Pod's node affinity/selector".to_string());
        return reasons;
    }
    if pool.max_pods == 0 {
        reasons.push("Too many pods".to_string());
    }
    if w.cpu_request_milli > pool.cpu_milli {
        reasons.push(format!("Insufficient cpu (node has {}m)", pool.cpu_milli));
    }
    if w.memory_request_bytes > pool.memory_bytes {
        reasons.push(format!(
            "Insufficient memory (node has {} bytes)",
            pool.memory_bytes
        ));
    }
    reasons
}

/// The scheduler's queues and random stream.
#[derive(Debug)]
pub struct Scheduler {
    profile: SchedulerProfile,
    active: VecDeque<PodId>,
    unschedulable: Vec<PodId>,
    rng: SimRng,
    /// Reused per-pod buffer: which pools pass the pool-level filters.
    pool_verdict: Vec<Option<FitReason>>,
    /// Reused reason histogram.
    reasons: Vec<(FitReason, u32)>,
}

impl Scheduler {
    /// A scheduler with empty queues.
    pub fn new(profile: SchedulerProfile, rng: SimRng) -> Scheduler {
        Scheduler {
            profile,
            active: VecDeque::new(),
            unschedulable: Vec::new(),
            rng,
            pool_verdict: Vec::new(),
            reasons: Vec::new(),
        }
    }

    /// Adds a new pod to the active queue.
    pub fn enqueue(&mut self, pod: PodId) {
        self.active.push_back(pod);
    }

    /// True when a scheduling cycle has work.
    pub fn has_active(&self) -> bool {
        !self.active.is_empty()
    }

    /// Pods waiting after a failed attempt.
    pub fn unschedulable_len(&self) -> usize {
        self.unschedulable.len()
    }

    /// A cluster event that may make pods schedulable (node added, pod deleted):
    /// upstream's `MoveAllToActiveOrBackoffQueue`.
    pub fn on_cluster_change(&mut self) {
        self.active.extend(self.unschedulable.drain(..));
    }

    /// Moves pods that have waited longer than [`MAX_IN_UNSCHEDULABLE`] back to active.
    pub fn flush_unschedulable(&mut self, world: &World, now: SimTime) {
        let mut i = 0;
        while i < self.unschedulable.len() {
            let pod = self.unschedulable[i];
            let since = world.pods[pod.0 as usize].last_attempt;
            if now.saturating_sub(since) >= MAX_IN_UNSCHEDULABLE {
                self.unschedulable.swap_remove(i);
                self.active.push_back(pod);
            } else {
                i += 1;
            }
        }
        // swap_remove disturbs order; restore FIFO by creation for determinism and fairness.
        self.unschedulable.sort_unstable();
    }

    /// Tries every active pod once, in queue order. Bound pods are appended to `bound`.
    pub fn run_cycle(
        &mut self,
        world: &mut World,
        now: SimTime,
        recorder: &mut Recorder,
        bound: &mut Vec<PodId>,
    ) {
        while let Some(pod) = self.active.pop_front() {
            if world.pods[pod.0 as usize].state != PodState::Pending {
                continue; // deleted while queued
            }
            match self.schedule_one(world, pod) {
                Some(node) => {
                    if world.pods[pod.0 as usize].unschedulable_since.is_some() {
                        recorder.unschedulable_changed(now, -1);
                    }
                    world.bind(pod, node);
                    recorder.event(now, EventKind::Scheduled { pod, node });
                    bound.push(pod);
                }
                None => {
                    let p = &mut world.pods[pod.0 as usize];
                    p.last_attempt = now;
                    if p.unschedulable_since.is_none() {
                        p.unschedulable_since = Some(now);
                        recorder.unschedulable_changed(now, 1);
                    }
                    let nodes = world.nodes.len() as u32;
                    recorder.event(
                        now,
                        EventKind::FailedScheduling {
                            pod,
                            nodes,
                            reasons: self.reasons.clone(),
                        },
                    );
                    self.unschedulable.push(pod);
                }
            }
        }
    }

    /// Filters and scores every node for one pod; returns the chosen node, or None with
    /// `self.reasons` holding the per-reason node counts.
    fn schedule_one(&mut self, world: &World, pod: PodId) -> Option<NodeId> {
        let spec = &world.specs[world.pods[pod.0 as usize].workload.0 as usize];
        self.reasons.clear();
        self.pool_verdict.clear();
        for (p, pool) in world.pools.iter().enumerate() {
            self.pool_verdict.push(
                untolerated_taint(spec, pool)
                    .map(|t| FitReason::UntoleratedTaint(p as u32, t as u32)),
            );
        }
        let mut best: Option<NodeId> = None;
        let mut best_score = i64::MIN;
        let mut ties = 0u32;
        for (i, node) in world.nodes.iter().enumerate() {
            let id = NodeId(i as u32);
            // Filters in upstream's plugin order; the first failing plugin decides.
            if !node.schedulable {
                self.count(FitReason::Unschedulable);
                continue;
            }
            if let Some(reason) = self.pool_verdict[node.pool.0 as usize] {
                self.count(reason);
                continue;
            }
            if !spec
                .node_selector
                .iter()
                .all(|(k, v)| node_label(world, id, k) == Some(v.as_str()))
            {
                self.count(FitReason::NodeSelectorMismatch);
                continue;
            }
            let mut fits = true;
            if node.pods.len() as u32 + 1 > node.max_pods {
                self.count(FitReason::TooManyPods);
                fits = false;
            }
            if spec.cpu_request_milli
                > node
                    .cpu_allocatable_milli
                    .saturating_sub(node.cpu_requested_milli)
            {
                self.count(FitReason::InsufficientCpu);
                fits = false;
            }
            if spec.memory_request_bytes
                > node
                    .memory_allocatable_bytes
                    .saturating_sub(node.memory_requested_bytes)
            {
                self.count(FitReason::InsufficientMemory);
                fits = false;
            }
            if !fits {
                continue;
            }
            let score = resource_fit_score(
                self.profile,
                (node.cpu_nonzero_milli + spec.cpu_nonzero_milli) as i64,
                node.cpu_allocatable_milli as i64,
                (node.memory_nonzero_bytes + spec.memory_nonzero_bytes) as i64,
                node.memory_allocatable_bytes as i64,
            );
            // selectHost: reservoir sampling gives a uniform choice among top-score ties.
            if score > best_score {
                best_score = score;
                best = Some(id);
                ties = 1;
            } else if score == best_score {
                ties += 1;
                if self.rng.random_range(0..ties) == 0 {
                    best = Some(id);
                }
            }
        }
        best
    }

    fn count(&mut self, reason: FitReason) {
        match self.reasons.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => self.reasons.push((reason, 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_and_most_requested_follow_upstream_integer_math() {
        // least_allocated.go: ((capacity - requested) * 100) / capacity, truncating.
        assert_eq!(least_requested_score(3000, 4000), 25);
        assert_eq!(least_requested_score(0, 4000), 100);
        assert_eq!(least_requested_score(5000, 4000), 0);
        assert_eq!(least_requested_score(1, 3), 66);
        assert_eq!(most_requested_score(1, 3), 33);
        assert_eq!(most_requested_score(5000, 4000), 100);
        assert_eq!(most_requested_score(5, 0), 0);
    }

    #[test]
    fn resource_fit_averages_cpu_and_memory_with_integer_division() {
        // cpu 25, memory 50 → (25 + 50) / 2 = 37 (truncated).
        assert_eq!(
            resource_fit_score(SchedulerProfile::Default, 3000, 4000, 5000, 10000),
            37
        );
        assert_eq!(
            resource_fit_score(SchedulerProfile::BinPacking, 3000, 4000, 5000, 10000),
            62
        );
    }
}
