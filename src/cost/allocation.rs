//! Cost allocation: who the node bill is spent on.
//!
//! Follows OpenCost's request-based allocation (opencost/opencost `pkg/costmodel`, spec
//! `spec/opencost-specv01.md`): a node's hourly price is split into a CPU part and a memory
//! part in the ratio of OpenCost's default prices ($0.031611 per core-hour, $0.004237 per
//! GiB-hour, `configs/default.json`), and each workload is charged its requests' share of
//! each part while its pods are bound. What no pod requested is **idle**; what a workload
//! requested but did not use is its **unused** cost (the slack its requests and HPA targets
//! buy); the placeholder pods of `headroom:` are the explicit **headroom**. Pool costs,
//! allocations and idle add up to the node bill; the control plane's fee is overhead.
//!
//! Simplified: requests are sampled at each metrics tick (OpenCost samples Prometheus once
//! a minute); a workload is charged its requests, not max(request, usage); GPUs and storage
//! are not priced.

use super::billing::{control_plane_cost, pool_costs};
use crate::cluster::World;
use crate::engine::SimTime;
use crate::metrics::Recorder;
use crate::metrics::recorder::RequestIntegral;
use crate::scenario::{CapacityType, Scenario};

/// OpenCost's default price of a core-hour, USD (`configs/default.json`).
pub const DEFAULT_CPU_USD_PER_CORE_HOUR: f64 = 0.031611;
/// OpenCost's default price of a GiB-hour of memory, USD.
pub const DEFAULT_MEMORY_USD_PER_GIB_HOUR: f64 = 0.004237;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const MS_PER_HOUR: f64 = 3_600_000.0;

/// Adds the requests of every bound pod held over the last `dt` to the recorder's
/// integrals (called at each metrics tick).
pub fn sample_requests(world: &World, scenario: &Scenario, rec: &mut Recorder, dt: SimTime) {
    let ms = dt.as_millis();
    if ms == 0 {
        return;
    }
    let pools = scenario.pools.len();
    for (p, nodes) in world.pool_nodes.iter().enumerate() {
        let pool = &scenario.pools[p];
        let n = nodes.len() as u64;
        rec.daemon_requested[p].add(pool.daemon_cpu_milli * n, pool.daemon_memory_bytes * n, ms);
    }
    for (w, state) in world.workloads.iter().enumerate() {
        let spec = &world.specs[w];
        for &pod in &state.active {
            if let Some(node) = world.pods[pod.0 as usize].node {
                let p = world.nodes[node.0 as usize].pool.0 as usize;
                rec.requested[w * pools + p].add(
                    spec.cpu_request_milli,
                    spec.memory_request_bytes,
                    ms,
                );
            }
        }
    }
}

/// One pool's line of the bill.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolLine {
    /// Pool name.
    pub pool: String,
    /// Instance type.
    pub instance_type: String,
    /// Spot or on-demand.
    pub capacity_type: CapacityType,
    /// Node-hours billed.
    pub node_hours: f64,
    /// Dollars.
    pub usd: f64,
}

/// One workload's (or the DaemonSets') share of the node bill.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadCost {
    /// Workload name (`daemonsets` for the per-node agents).
    pub name: String,
    /// Requested core-hours.
    pub cpu_core_hours: f64,
    /// Requested GiB-hours.
    pub memory_gib_hours: f64,
    /// Allocated cost, USD.
    pub usd: f64,
    /// The part of `usd` paying for requests it did not use.
    pub unused_usd: f64,
    /// Requests served within timeout.
    pub requests_served: f64,
}

impl WorkloadCost {
    /// Dollars per million requests served (None without requests).
    pub fn per_million_requests(&self) -> Option<f64> {
        (self.requests_served >= 1.0).then(|| self.usd / self.requests_served * 1e6)
    }
}

/// The whole bill of a run and its allocation.
#[derive(Debug, Clone, PartialEq)]
pub struct CostReport {
    /// Per pool, in pool order.
    pub pools: Vec<PoolLine>,
    /// Per workload, in scenario order.
    pub workloads: Vec<WorkloadCost>,
    /// The DaemonSet pods' share.
    pub daemon_sets: WorkloadCost,
    /// The managed control plane's fee.
    pub control_plane_usd: f64,
    /// Node cost no pod requested.
    pub idle_usd: f64,
}

impl CostReport {
    /// All nodes.
    pub fn nodes_usd(&self) -> f64 {
        self.pools.iter().map(|p| p.usd).sum()
    }

    /// Nodes of one capacity type.
    pub fn capacity_usd(&self, kind: CapacityType) -> f64 {
        self.pools
            .iter()
            .filter(|p| p.capacity_type == kind)
            .map(|p| p.usd)
            .sum()
    }

    /// Nodes plus the control plane.
    pub fn total_usd(&self) -> f64 {
        self.nodes_usd() + self.control_plane_usd
    }

    /// Requests paid for but not used, over every real workload.
    pub fn unused_usd(&self) -> f64 {
        self.workloads
            .iter()
            .filter(|w| w.name != crate::scenario::HEADROOM_WORKLOAD)
            .map(|w| w.unused_usd)
            .sum()
    }

    /// The `headroom:` placeholder pods' allocation (0 without headroom).
    pub fn headroom_usd(&self) -> f64 {
        self.workloads
            .iter()
            .filter(|w| w.name == crate::scenario::HEADROOM_WORKLOAD)
            .map(|w| w.usd)
            .sum()
    }
}

/// The CPU part of a node's price, by OpenCost's default price ratio.
pub fn cpu_share_of_price(cpu_milli: u64, memory_bytes: u64) -> f64 {
    let cpu = cpu_milli as f64 / 1000.0 * DEFAULT_CPU_USD_PER_CORE_HOUR;
    let memory = memory_bytes as f64 / GIB * DEFAULT_MEMORY_USD_PER_GIB_HOUR;
    if cpu + memory > 0.0 {
        cpu / (cpu + memory)
    } else {
        0.5
    }
}

/// Splits the run's bill. `served[w]` is each workload's requests served within timeout.
pub fn allocate(scenario: &Scenario, rec: &Recorder, served: &[f64]) -> CostReport {
    let costs = pool_costs(&scenario.pools, rec);
    let npools = scenario.pools.len();
    // What one milli-core·ms and one byte·ms of each pool cost: the pool's CPU (memory)
    // part over the CPU (memory) its billed nodes offered.
    let rates: Vec<(f64, f64)> = scenario
        .pools
        .iter()
        .zip(&costs)
        .zip(&rec.pool_node_ms)
        .map(|((pool, cost), &node_ms)| {
            let alpha = cpu_share_of_price(pool.cpu_milli, pool.memory_bytes);
            let cpu_offered = node_ms as f64 * pool.cpu_milli as f64;
            let memory_offered = node_ms as f64 * pool.memory_bytes as f64;
            let per = |part: f64, offered: f64| {
                if offered > 0.0 {
                    cost.usd * part / offered
                } else {
                    0.0
                }
            };
            (per(alpha, cpu_offered), per(1.0 - alpha, memory_offered))
        })
        .collect();
    let charge = |name: &str, integrals: &[RequestIntegral], served: f64| {
        let (mut cpu_ms, mut memory_ms, mut usd_cpu, mut usd_memory) = (0.0, 0.0, 0.0, 0.0);
        for (i, r) in integrals.iter().enumerate() {
            let (cpu_rate, memory_rate) = rates[i];
            cpu_ms += r.cpu_milli_ms as f64;
            memory_ms += r.memory_byte_ms as f64;
            usd_cpu += r.cpu_milli_ms as f64 * cpu_rate;
            usd_memory += r.memory_byte_ms as f64 * memory_rate;
        }
        (
            WorkloadCost {
                name: name.to_string(),
                cpu_core_hours: cpu_ms / 1000.0 / MS_PER_HOUR,
                memory_gib_hours: memory_ms / GIB / MS_PER_HOUR,
                usd: usd_cpu + usd_memory,
                unused_usd: 0.0,
                requests_served: served,
            },
            (usd_cpu, usd_memory),
        )
    };
    let workloads: Vec<WorkloadCost> = scenario
        .workloads
        .iter()
        .enumerate()
        .map(|(w, spec)| {
            let (mut cost, (usd_cpu, usd_memory)) = charge(
                &spec.name,
                &rec.requested[w * npools..(w + 1) * npools],
                served.get(w).copied().unwrap_or(0.0),
            );
            let totals = &rec.workloads[w];
            let unused = |used: f64, requested: f64| {
                if requested > 0.0 {
                    (1.0 - used / requested).clamp(0.0, 1.0)
                } else {
                    0.0
                }
            };
            let cpu_requested_core_s = cost.cpu_core_hours * 3600.0;
            let memory_requested_byte_s = cost.memory_gib_hours * GIB * 3600.0;
            cost.unused_usd = usd_cpu * unused(totals.cpu_used_core_s, cpu_requested_core_s)
                + usd_memory * unused(totals.memory_used_byte_s, memory_requested_byte_s);
            cost
        })
        .collect();
    let (daemon_sets, _) = charge("daemonsets", &rec.daemon_requested, 0.0);
    let nodes: f64 = costs.iter().map(|c| c.usd).sum();
    let allocated: f64 = workloads.iter().map(|w| w.usd).sum::<f64>() + daemon_sets.usd;
    CostReport {
        pools: scenario
            .pools
            .iter()
            .zip(&costs)
            .map(|(p, c)| PoolLine {
                pool: p.name.clone(),
                instance_type: p.instance_type.clone(),
                capacity_type: p.capacity_type,
                node_hours: c.node_hours,
                usd: c.usd,
            })
            .collect(),
        workloads,
        daemon_sets,
        control_plane_usd: control_plane_cost(scenario),
        // Sampling can overshoot the exact node integral by a hair: never negative.
        idle_usd: (nodes - allocated).max(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_balanced_node_splits_its_price_by_opencosts_default_rates() {
        // m5.large: 2 cores and 8 GiB. CPU 2 × 0.031611 = 0.063222, memory 8 × 0.004237
        // = 0.033896: the CPU part is 65.1%.
        let alpha = cpu_share_of_price(2000, 8 << 30);
        assert!((alpha - 0.063222 / (0.063222 + 0.033896)).abs() < 1e-12);
        // A memory-heavy node puts more of its price on memory.
        assert!(cpu_share_of_price(2000, 16 << 30) < alpha);
    }
}
