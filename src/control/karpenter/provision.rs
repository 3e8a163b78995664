//! Karpenter's provisioning simulation: packing a batch of pending pods onto nodes still
//! booting, then onto new NodeClaims, each carrying every instance type that still fits.
//!
//! Upstream: kubernetes-sigs/karpenter `pkg/controllers/provisioning/scheduling/scheduler.go`
//! (`Solve`, `add`), `queue.go` (pod order) and `nodeclaim.go` (instance-type filtering).

use super::config::KarpenterConfig;
use crate::cluster::{PodId, World};
use crate::scenario::PoolSpec;

/// Room on an empty node of a pool once its DaemonSet pods run: (cpu, memory, pods).
pub fn room(pool: &PoolSpec) -> (u64, u64, u32) {
    (
        pool.cpu_milli.saturating_sub(pool.daemon_cpu_milli),
        pool.memory_bytes.saturating_sub(pool.daemon_memory_bytes),
        pool.max_pods.saturating_sub(pool.daemon_pods),
    )
}

/// A node launched but not Ready yet: pods the scheduler cannot place wait for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InFlight {
    /// Its scenario pool (instance type and capacity type).
    pub pool: u32,
    /// When it was requested.
    pub requested_at: crate::engine::SimTime,
}

/// A NodeClaim being planned: the pods on it and the instance types that fit them all.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// Its NodePool.
    pub nodepool: u32,
    /// Pools (instance type × capacity type) of the NodePool that fit every pod so far.
    pub pools: Vec<u32>,
    /// Σ CPU of its pods, milli-cores.
    pub cpu_milli: u64,
    /// Σ memory of its pods, bytes.
    pub memory_bytes: u64,
    /// Its pods.
    pub pods: Vec<PodId>,
}

/// The outcome of packing one batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Packing {
    /// New NodeClaims to launch.
    pub planned: Vec<Planned>,
    /// Pods that wait for an in-flight node: (pod, index into the in-flight list).
    pub on_in_flight: Vec<(PodId, usize)>,
    /// Pods that fit a node which joined after the scheduler last tried them: the
    /// scheduler's next retry will place them.
    pub on_new_nodes: Vec<PodId>,
    /// Pods no NodePool can take.
    pub unplaced: Vec<PodId>,
}

fn fits_room(pool: &PoolSpec, cpu: u64, memory: u64, pods: u32) -> bool {
    let (c, m, p) = room(pool);
    cpu <= c && memory <= m && pods <= p
}

/// Packs `pods` (sorted here by CPU, then memory, descending, then age, as upstream's
/// queue) onto nodes that joined since the scheduler last tried the pod, then onto the
/// in-flight nodes, then onto planned NodeClaims tried in order of
/// fewest pods, then onto a new NodeClaim of the highest-weight NodePool that admits the
/// pod. `fits[w][p]`: pods of workload w may run on pool p at all (taints, selectors);
/// `offered[p]`: new nodes of pool p may be launched now.
pub fn pack(
    world: &World,
    cfg: &KarpenterConfig,
    fits: &[Vec<bool>],
    offered: &[bool],
    pods: &[PodId],
    in_flight: &[InFlight],
) -> Packing {
    let request = |pod: PodId| {
        let spec = &world.specs[world.pods[pod.0 as usize].workload.0 as usize];
        (spec.cpu_request_milli, spec.memory_request_bytes)
    };
    let mut order: Vec<PodId> = pods.to_vec();
    order.sort_by(|a, b| {
        let (ra, rb) = (request(*a), request(*b));
        rb.0.cmp(&ra.0).then(rb.1.cmp(&ra.1)).then(a.cmp(b))
    });
    let mut nodepools: Vec<u32> = (0..cfg.node_pools.len() as u32).collect();
    nodepools.sort_by_key(|&n| (-cfg.node_pools[n as usize].weight, n));
    // What each in-flight node already holds: (cpu, memory, pods).
    let mut flight_used = vec![(0u64, 0u64, 0u32); in_flight.len()];
    let on_new = crate::control::fresh_nodes::placed_on_new_nodes(world, fits, &order);
    let mut out = Packing::default();
    for (pod, new) in order.into_iter().zip(on_new) {
        if new {
            out.on_new_nodes.push(pod);
            continue;
        }
        let w = world.pods[pod.0 as usize].workload.0 as usize;
        let (cpu, mem) = request(pod);
        let flight = in_flight.iter().enumerate().position(|(i, f)| {
            let pool = &world.pools[f.pool as usize];
            let u = flight_used[i];
            fits[w][f.pool as usize] && fits_room(pool, u.0 + cpu, u.1 + mem, u.2 + 1)
        });
        if let Some(i) = flight {
            let u = &mut flight_used[i];
            *u = (u.0 + cpu, u.1 + mem, u.2 + 1);
            out.on_in_flight.push((pod, i));
            continue;
        }
        let mut by_size: Vec<usize> = (0..out.planned.len()).collect();
        by_size.sort_by_key(|&i| (out.planned[i].pods.len(), i));
        let joined = by_size.into_iter().find(|&i| {
            let c = &out.planned[i];
            let n = c.pods.len() as u32 + 1;
            c.pools.iter().any(|&p| {
                fits[w][p as usize]
                    && fits_room(
                        &world.pools[p as usize],
                        c.cpu_milli + cpu,
                        c.memory_bytes + mem,
                        n,
                    )
            })
        });
        if let Some(i) = joined {
            let c = &mut out.planned[i];
            c.cpu_milli += cpu;
            c.memory_bytes += mem;
            c.pods.push(pod);
            let n = c.pods.len() as u32;
            let (total_cpu, total_mem) = (c.cpu_milli, c.memory_bytes);
            c.pools.retain(|&p| {
                fits[w][p as usize] && fits_room(&world.pools[p as usize], total_cpu, total_mem, n)
            });
            continue;
        }
        let fresh = nodepools.iter().find_map(|&np| {
            let pools: Vec<u32> = cfg.node_pools[np as usize]
                .pools
                .iter()
                .copied()
                .filter(|&p| {
                    offered[p as usize]
                        && fits[w][p as usize]
                        && fits_room(&world.pools[p as usize], cpu, mem, 1)
                })
                .collect();
            (!pools.is_empty()).then_some(Planned {
                nodepool: np,
                pools,
                cpu_milli: cpu,
                memory_bytes: mem,
                pods: vec![pod],
            })
        });
        match fresh {
            Some(c) => out.planned.push(c),
            None => out.unplaced.push(pod),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::WorkloadId;
    use crate::engine::SimTime;
    use crate::scenario::load_str;
    use std::path::Path;

    /// A Karpenter cluster (c6i.large/xlarge/2xlarge on demand; `big` NodePool of weight
    /// `w`) and `n` pending pods of `cpu` each.
    fn world(cpu: &str, weight: u32) -> (World, KarpenterConfig) {
        let yaml = format!(
            "name: t\nduration: 1h\ncluster:\n  pools: []\nkarpenter:\n  nodePools:\n    - {{name: small, provider: aws, instanceTypes: [c6i.large, c6i.xlarge, c6i.2xlarge]}}\n    - {{name: big, provider: aws, instanceTypes: [m6i.2xlarge], weight: {weight}}}\nworkloads:\n  - name: web\n    replicas: 0\n    template:\n      spec:\n        containers:\n          - name: app\n            resources:\n              requests: {{cpu: {cpu}, memory: 256Mi}}\n"
        );
        let s = load_str("t.yaml", &yaml, Path::new("."), &[]).expect("valid scenario");
        (World::new(&s), s.karpenter.expect("karpenter"))
    }

    fn fits(world: &World) -> Vec<Vec<bool>> {
        vec![vec![true; world.pools.len()]; world.specs.len()]
    }

    fn pending(world: &mut World, n: usize) -> Vec<PodId> {
        (0..n)
            .map(|_| world.create_pod(WorkloadId(0), SimTime::ZERO))
            .collect()
    }

    #[test]
    fn one_claim_takes_pods_while_some_type_still_fits_them_all() {
        let (mut w, cfg) = world("500m", 0);
        let pods = pending(&mut w, 5);
        let p = pack(&w, &cfg, &fits(&w), &vec![true; w.pools.len()], &pods, &[]);
        assert_eq!(p.planned.len(), 1);
        let c = &p.planned[0];
        assert_eq!((c.nodepool, c.pods.len(), c.cpu_milli), (0, 5, 2500));
        // 2.5 cores: c6i.large (2 vCPU) is filtered out, xlarge and 2xlarge remain.
        let names: Vec<&str> = c
            .pools
            .iter()
            .map(|&p| w.pools[p as usize].instance_type.as_str())
            .collect();
        assert_eq!(names, ["c6i.xlarge", "c6i.2xlarge"]);
    }

    #[test]
    fn pods_wait_for_in_flight_nodes_before_new_claims_and_weight_picks_the_nodepool() {
        let (mut w, cfg) = world("1", 0);
        let pods = pending(&mut w, 3);
        let xlarge = w
            .pools
            .iter()
            .position(|p| p.instance_type == "c6i.xlarge")
            .expect("pool") as u32;
        let flight = [InFlight {
            pool: xlarge,
            requested_at: SimTime::ZERO,
        }];
        // A 4-vCPU node less reservations holds three 1-core pods.
        let p = pack(
            &w,
            &cfg,
            &fits(&w),
            &vec![true; w.pools.len()],
            &pods,
            &flight,
        );
        assert_eq!((p.on_in_flight.len(), p.planned.len()), (3, 0));
        // Without it, the heavier NodePool is tried first.
        let (mut w, cfg) = world("1", 10);
        let pods = pending(&mut w, 3);
        let p = pack(&w, &cfg, &fits(&w), &vec![true; w.pools.len()], &pods, &[]);
        assert_eq!(p.planned[0].nodepool, 1);
    }

    #[test]
    fn a_pod_no_type_fits_is_unplaced() {
        let (mut w, cfg) = world("64", 0);
        let pods = pending(&mut w, 1);
        let p = pack(&w, &cfg, &fits(&w), &vec![true; w.pools.len()], &pods, &[]);
        assert_eq!(p.unplaced, pods);
    }
}
