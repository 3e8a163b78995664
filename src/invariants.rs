//! The invariant checker behind `--check`: cheap-to-state truths about the World that every
//! controller must preserve (PodDisruptionBudgets at each voluntary eviction are checked
//! where the eviction happens, `Simulation::evict`). Tests run with it on, so a controller bug fails loudly at the
//! event that caused it instead of skewing a report.

use crate::cluster::{PodState, World};

/// Returns a description of the first broken invariant.
pub fn check(world: &World) -> Result<(), String> {
    let mut cpu = vec![0u64; world.nodes.len()];
    let mut mem = vec![0u64; world.nodes.len()];
    let mut pods_on = vec![0u32; world.nodes.len()];
    let mut ready = vec![0u32; world.workloads.len()];
    let mut active = vec![0usize; world.workloads.len()];
    let mut flagged = vec![0usize; world.workloads.len()];
    for (i, p) in world.pods.iter().enumerate() {
        if p.listed {
            flagged[p.workload.0 as usize] += 1;
        }
        let name = || world.pod_name(crate::cluster::PodId(i as u32));
        match (p.state, p.node) {
            (PodState::Pending, Some(_)) => {
                return Err(format!("pod {} is Pending but bound", name()));
            }
            (PodState::Bound | PodState::Running | PodState::Ready, None) => {
                return Err(format!("pod {} is {:?} without a node", name(), p.state));
            }
            _ => {}
        }
        if p.state == PodState::Deleted {
            continue;
        }
        active[p.workload.0 as usize] += 1;
        if p.state == PodState::Ready {
            ready[p.workload.0 as usize] += 1;
        }
        if p.revision as usize >= world.workloads[p.workload.0 as usize].rs_replicas.len() {
            return Err(format!("pod {} belongs to no ReplicaSet", name()));
        }
        if let Some(n) = p.node {
            let node = &world.nodes[n.0 as usize];
            if node.removed_at.is_some() {
                return Err(format!(
                    "pod {} is on {}, which left the cluster",
                    name(),
                    world.node_name(n)
                ));
            }
            if node.down && matches!(p.state, PodState::Running | PodState::Ready) {
                return Err(format!(
                    "pod {} is {:?} on {}, whose containers are dead",
                    name(),
                    p.state,
                    world.node_name(n)
                ));
            }
            let spec = &world.specs[p.workload.0 as usize];
            cpu[n.0 as usize] += spec.cpu_request_milli;
            mem[n.0 as usize] += spec.memory_request_bytes;
            pods_on[n.0 as usize] += 1;
            if !world.nodes[n.0 as usize]
                .pods
                .contains(&crate::cluster::PodId(i as u32))
            {
                return Err(format!(
                    "pod {} is bound to {} but not in its pod list",
                    name(),
                    world.node_name(n)
                ));
            }
        }
    }
    for (i, n) in world.nodes.iter().enumerate() {
        let id = crate::cluster::NodeId(i as u32);
        let pool = &world.pools[n.pool.0 as usize];
        if n.cpu_requested_milli != cpu[i] + pool.daemon_cpu_milli
            || n.memory_requested_bytes != mem[i] + pool.daemon_memory_bytes
            || n.pods.len() as u32 != pods_on[i]
        {
            return Err(format!(
                "node {}'s running totals disagree with its pods",
                world.node_name(id)
            ));
        }
        if n.cpu_requested_milli > n.cpu_allocatable_milli
            || n.memory_requested_bytes > n.memory_allocatable_bytes
        {
            return Err(format!("node {} is over-committed", world.node_name(id)));
        }
        if pods_on[i] > n.max_pods {
            return Err(format!(
                "node {} has more than maxPods pods",
                world.node_name(id)
            ));
        }
    }
    for (w, ws) in world.workloads.iter().enumerate() {
        if ws.ready != ready[w] || ws.active.len() != active[w] {
            return Err(format!(
                "workload {}'s counters disagree with its pods",
                world.specs[w].name
            ));
        }
        check_endpoints(world, w, flagged[w])?;
    }
    Ok(())
}

/// A workload's Service endpoints: each listed pod is its own, listed once and flagged as
/// listed; the dead count is the listed pods that no longer answer; no unlisted pod claims
/// to be listed.
fn check_endpoints(world: &World, w: usize, flagged: usize) -> Result<(), String> {
    let ws = &world.workloads[w];
    let name = &world.specs[w].name;
    let mut dead = 0;
    for (i, &pod) in ws.endpoints.iter().enumerate() {
        let p = &world.pods[pod.0 as usize];
        if p.workload.0 as usize != w || !p.listed || ws.endpoints[..i].contains(&pod) {
            return Err(format!(
                "workload {name}'s endpoints list {} wrongly",
                world.pod_name(pod)
            ));
        }
        if p.state != PodState::Ready {
            dead += 1;
        }
    }
    if dead != ws.endpoints_dead {
        return Err(format!(
            "workload {name} counts {} dead endpoints, its list has {dead}",
            ws.endpoints_dead
        ));
    }
    if flagged != ws.endpoints.len() {
        return Err(format!(
            "workload {name}: {flagged} pods flagged as endpoints, {} listed",
            ws.endpoints.len()
        ));
    }
    Ok(())
}
