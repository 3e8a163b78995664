//! Consolidation's what-if: could these nodes go, their pods moving to the other nodes or
//! to one new, cheaper NodeClaim? And the disruption cost that orders the candidates.
//!
//! Upstream: kubernetes-sigs/karpenter `pkg/controllers/disruption/consolidation.go`
//! (`computeConsolidation`, spot-to-spot rule), `pkg/utils/disruption/disruption.go`
//! (costs).

use super::config::{KarpenterConfig, MIN_TYPES_FOR_SPOT_TO_SPOT};
use super::provision::room;
use crate::cluster::{NodeId, World};
use crate::engine::SimTime;

/// What consolidating a set of nodes would take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Their pods fit on the remaining nodes: delete them.
    Delete,
    /// Their pods need one new node of this pool, cheaper than the nodes removed.
    Replace(u32),
    /// Not possible, or not cheaper.
    No,
}

/// Upstream `EvictionCost`: what evicting one pod costs, from its priority and
/// `controller.kubernetes.io/pod-deletion-cost`, clamped to [−10, 10].
pub fn eviction_cost(priority: i32, deletion_cost: i32) -> f64 {
    (1.0 + f64::from(deletion_cost) / 2f64.powi(27) + f64::from(priority) / 2f64.powi(25))
        .clamp(-10.0, 10.0)
}

/// Upstream `LifetimeRemaining`: the share of `expireAfter` a node has left (1 without one).
pub fn lifetime_remaining(age: SimTime, expire_after: Option<SimTime>) -> f64 {
    match expire_after {
        None => 1.0,
        Some(e) if e == SimTime::ZERO => 0.0,
        Some(e) => ((e.as_secs_f64() - age.as_secs_f64()) / e.as_secs_f64()).clamp(0.0, 1.0),
    }
}

fn pod_costs(world: &World, node: NodeId) -> impl Iterator<Item = f64> + '_ {
    world.nodes[node.0 as usize].pods.iter().map(|p| {
        let w = world.pods[p.0 as usize].workload.0 as usize;
        eviction_cost(world.specs[w].priority, 0)
    })
}

/// Single-node consolidation's order: rescheduling cost × lifetime remaining, ascending.
pub fn disruption_cost(world: &World, node: NodeId, now: SimTime, expire: Option<SimTime>) -> f64 {
    let age = now.saturating_sub(world.nodes[node.0 as usize].created_at);
    pod_costs(world, node).sum::<f64>() * lifetime_remaining(age, expire)
}

/// Multi-node consolidation's order: price over `1 + Σ max(0, eviction cost)`, descending
/// (the most savings per unit of disruption first).
pub fn savings_ratio(world: &World, node: NodeId) -> f64 {
    let price = world.pool_of(node).price_usd_per_hour;
    price / (1.0 + pod_costs(world, node).map(|c| c.max(0.0)).sum::<f64>())
}

/// Simulates removing `candidates`: their pods (largest first) go first-fit onto the
/// live, schedulable nodes not in `excluded`; what is left must fit one new NodeClaim
/// whose cheapest allowed type is strictly cheaper than the candidates together.
/// `offered[p]`: pool p may be launched now.
pub fn simulate(
    world: &World,
    cfg: &KarpenterConfig,
    fits: &[Vec<bool>],
    offered: &[bool],
    candidates: &[NodeId],
    excluded: &[bool],
) -> Outcome {
    let mut pods: Vec<(u64, u64, usize)> = candidates
        .iter()
        .flat_map(|&c| world.nodes[c.0 as usize].pods.iter())
        .map(|p| {
            let w = world.pods[p.0 as usize].workload.0 as usize;
            let s = &world.specs[w];
            (s.cpu_request_milli, s.memory_request_bytes, w)
        })
        .collect();
    pods.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    // Capacity this what-if has already handed out: (node index, cpu, memory, pods).
    let mut lent: Vec<(usize, u64, u64, u32)> = Vec::new();
    let mut left: Vec<(u64, u64, usize)> = Vec::new();
    for &(cpu, mem, w) in &pods {
        let target = world.live_nodes.iter().find(|&&d| {
            let i = d.0 as usize;
            let n = &world.nodes[i];
            if excluded[i] || !n.schedulable || !fits[w][n.pool.0 as usize] {
                return false;
            }
            let (c, m, p) = lent
                .iter()
                .find(|l| l.0 == i)
                .map_or((0, 0, 0), |l| (l.1, l.2, l.3));
            n.cpu_requested_milli + c + cpu <= n.cpu_allocatable_milli
                && n.memory_requested_bytes + m + mem <= n.memory_allocatable_bytes
                && n.pods.len() as u32 + p < n.max_pods
        });
        match target {
            Some(&d) => {
                let i = d.0 as usize;
                match lent.iter_mut().find(|l| l.0 == i) {
                    Some(l) => {
                        l.1 += cpu;
                        l.2 += mem;
                        l.3 += 1;
                    }
                    None => lent.push((i, cpu, mem, 1)),
                }
            }
            None => left.push((cpu, mem, w)),
        }
    }
    if left.is_empty() {
        return Outcome::Delete;
    }
    let price: f64 = candidates
        .iter()
        .map(|&c| world.pool_of(c).price_usd_per_hour)
        .sum();
    let all_spot = candidates.iter().all(|&c| world.pool_of(c).spot.is_some());
    let (cpu, mem) = left.iter().fold((0, 0), |a, p| (a.0 + p.0, a.1 + p.1));
    let n = left.len() as u32;
    // Every allowed type of every NodePool that takes all the leftover pods on one node
    // and costs strictly less (upstream filters replacement types by price).
    let mut cheaper: Vec<(f64, u32)> = cfg
        .node_pools
        .iter()
        .flat_map(|np| np.pools.iter().copied())
        .filter(|&p| {
            let pool = &world.pools[p as usize];
            let (c, m, k) = room(pool);
            pool.price_usd_per_hour < price
                && offered[p as usize]
                && cpu <= c
                && mem <= m
                && n <= k
                && left.iter().all(|l| fits[l.2][p as usize])
        })
        .map(|p| (world.pools[p as usize].price_usd_per_hour, p))
        .collect();
    cheaper.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let Some(&(_, best)) = cheaper.first() else {
        return Outcome::No;
    };
    let allows_spot = cheaper
        .iter()
        .any(|c| world.pools[c.1 as usize].spot.is_some());
    if all_spot && allows_spot {
        // Spot to spot: behind the SpotToSpotConsolidation feature gate (off by default);
        // a single node needs at least 15 cheaper spot types, so the replacement is not
        // the next type to be interrupted.
        let spot: Vec<u32> = cheaper
            .iter()
            .map(|c| c.1)
            .filter(|&p| world.pools[p as usize].spot.is_some())
            .collect();
        if !cfg.spot_to_spot || (candidates.len() == 1 && spot.len() < MIN_TYPES_FOR_SPOT_TO_SPOT) {
            return Outcome::No;
        }
        return Outcome::Replace(spot[0]);
    }
    Outcome::Replace(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eviction_cost_matches_the_reference_vectors() {
        assert!((eviction_cost(0, 0) - 1.0).abs() < 1e-12);
        assert_eq!(eviction_cost(2_000_000_000, 0), 10.0);
        assert!((eviction_cost(0, 1 << 27) - 2.0).abs() < 1e-12);
        assert!((eviction_cost(-1_000_000, 0) - 0.9702).abs() < 1e-4);
    }

    #[test]
    fn lifetime_remaining_is_half_at_half_of_expire_after() {
        let h = |x: u64| SimTime::from_secs(x * 3600);
        assert!((lifetime_remaining(h(360), Some(h(720))) - 0.5).abs() < 1e-12);
        assert_eq!(lifetime_remaining(h(800), Some(h(720))), 0.0);
        assert_eq!(lifetime_remaining(h(800), None), 1.0);
    }
}
