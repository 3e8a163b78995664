//! Pods waiting for a node that has already joined: the scheduler marked them
//! unschedulable before the node existed and will place them on its next retry. Both
//! autoscalers leave them out, or they would buy a node twice.
//!
//! Upstream: kubernetes/autoscaler `cluster-autoscaler/core/podlistprocessor/
//! filter_out_schedulable.go` (`FilterOutSchedulable`); Karpenter's scheduling simulation
//! against existing nodes (kubernetes-sigs/karpenter `provisioning/scheduling`).
//!
//! Simplified: only nodes that joined after the scheduler last tried the pod are checked
//! (its verdict stands for the others), on CPU, memory and pod slots.

use crate::cluster::{NodeId, PodId, World};

/// For each of `pods` (in the order given), whether it fits — first fit on CPU, memory and
/// pod slots, after the pods before it — a live, schedulable node that joined after the
/// scheduler last tried it. `fits[w][p]`: workload w may run on pool p at all.
pub fn placed_on_new_nodes(world: &World, fits: &[Vec<bool>], pods: &[PodId]) -> Vec<bool> {
    let oldest = pods
        .iter()
        .map(|p| world.pods[p.0 as usize].last_attempt)
        .min()
        .unwrap_or_default();
    // Nodes some of these pods were not tried on, with what has been handed out of them.
    let mut fresh: Vec<(NodeId, u64, u64, u32)> = world
        .live_nodes
        .iter()
        .filter(|&&n| {
            let node = &world.nodes[n.0 as usize];
            node.schedulable && node.created_at > oldest
        })
        .map(|&n| (n, 0, 0, 0))
        .collect();
    pods.iter()
        .map(|&pod| {
            if fresh.is_empty() {
                return false;
            }
            let p = &world.pods[pod.0 as usize];
            let w = p.workload.0 as usize;
            let spec = &world.specs[w];
            let (cpu, mem) = (spec.cpu_request_milli, spec.memory_request_bytes);
            let slot = fresh.iter_mut().find(|f| {
                let n = &world.nodes[f.0.0 as usize];
                n.created_at > p.last_attempt
                    && fits[w][n.pool.0 as usize]
                    && n.cpu_requested_milli + f.1 + cpu <= n.cpu_allocatable_milli
                    && n.memory_requested_bytes + f.2 + mem <= n.memory_allocatable_bytes
                    && n.pods.len() as u32 + f.3 < n.max_pods
            });
            match slot {
                Some(f) => {
                    f.1 += cpu;
                    f.2 += mem;
                    f.3 += 1;
                    true
                }
                None => false,
            }
        })
        .collect()
}
