//! The cluster autoscaler: every scan interval it adds nodes for pods that fit nowhere and
//! removes nodes whose pods fit elsewhere and that have been underused for long enough.
//!
//! Upstream: kubernetes/autoscaler `cluster-autoscaler/core/static_autoscaler.go`
//! (`RunOnce`), `core/scaleup/orchestrator`, `core/scaledown/planner` and `eligibility`,
//! `simulator/utilization/info.go`, with the estimator in [`estimator`] and the expanders
//! in [`expander`]; flags and defaults in [`config`].
//!
//! Follows upstream in: the 10 s loop; only pods the scheduler marked unschedulable, above
//! the expendable-priority cutoff, trigger scale-up, after those that fit on nodes still
//! being provisioned are filtered out; one option per node group from the binpacking
//! estimate, capped by the group's max size and `maxNodesTotal`, chosen by the expander
//! chain; no scale-down in a loop that scaled up; utilization `max(cpu, memory)` of
//! requests over allocatable at or below the 0.5 threshold; a node is unneeded only if every
//! pod can move to another node without breaking a PodDisruptionBudget and none is
//! annotated `cluster-autoscaler.kubernetes.io/safe-to-evict: "false"`; deletion once
//! unneeded for longer than the unneeded time, outside the cooldowns after add (10 min), delete and failure; empty
//! nodes deleted in bulk (10), non-empty ones drained one at a time; min sizes kept;
//! nodes that do not register within `maxNodeProvisionTime` (15 min) fail the scale-up
//! and back the group off (5 min doubling to 30 min, reset after 3 h);
//! events `TriggeredScaleUp` and `ScaleDown`.
//!
//! Simplified: pods that fit an existing node are filtered out only for nodes that joined
//! after the scheduler last tried them (the scheduler's verdict stands for the others); a
//! node group's taints, labels and
//! zones decide fit for the whole group; a failed scale-up is noticed only at the max node
//! provision time (no cloud error fast path);
//! evicted pods are deleted at once (no graceful drain). Similar groups are balanced
//! (`balanceSimilarNodeGroups`) by shape, labels, taints and capacity type only.

pub mod config;
pub mod estimator;
pub mod expander;

use crate::cluster::{NodeId, PodState, World};
use crate::engine::{SimRng, SimTime};
use config::AutoscalerConfig;
use estimator::{PodGroup, Template, binpacking};
use expander::{ScaleUpOption, choose};

/// Whether two pools are similar node groups (upstream `nodegroupset` comparator): the
/// same capacity (memory within 1.5%), pods, labels, taints and capacity type; zones and
/// instance names may differ.
pub fn similar(a: &crate::scenario::PoolSpec, b: &crate::scenario::PoolSpec) -> bool {
    let mem = |x: u64| x as f64;
    a.cpu_capacity_milli == b.cpu_capacity_milli
        && (mem(a.memory_capacity_bytes) - mem(b.memory_capacity_bytes)).abs()
            <= 0.015 * mem(a.memory_capacity_bytes.max(b.memory_capacity_bytes))
        && a.max_pods == b.max_pods
        && a.labels == b.labels
        && a.taints == b.taints
        && a.spot.is_some() == b.spot.is_some()
        && a.extra_allocatable == b.extra_allocatable
}

/// Upstream `BalanceScaleUpBetweenGroups`: `nodes` new nodes spread over the chosen pool
/// and its similar pools, each time to the smallest group (nodes running or booting) that
/// is below its max, ties to the first listed.
fn balance(world: &World, chosen: usize, nodes: u32, total_room: u32) -> Vec<(u32, u32)> {
    let mut groups: Vec<usize> = vec![chosen];
    for (p, pool) in world.pools.iter().enumerate() {
        if p != chosen && similar(&world.pools[chosen], pool) {
            groups.push(p);
        }
    }
    let mut size: Vec<u32> = groups
        .iter()
        .map(|&p| world.pool_nodes[p].len() as u32 + world.pool_provisioning[p])
        .collect();
    let mut added = vec![0u32; groups.len()];
    for _ in 0..nodes.min(total_room) {
        let Some(g) = (0..groups.len())
            .filter(|&g| size[g] < world.pools[groups[g]].max)
            .min_by_key(|&g| (size[g], g))
        else {
            break;
        };
        size[g] += 1;
        added[g] += 1;
    }
    groups
        .iter()
        .zip(added)
        .filter(|(_, n)| *n > 0)
        .map(|(&p, n)| (p as u32, n))
        .collect()
}

/// Upstream's node utilization from (requested, allocatable, DaemonSet requests) of CPU and
/// of memory: the larger ratio, DaemonSet pods out of both sides.
pub fn utilization(cpu: (u64, u64, u64), memory: (u64, u64, u64)) -> f64 {
    let ratio = |(requested, allocatable, daemon): (u64, u64, u64)| {
        requested.saturating_sub(daemon) as f64 / allocatable.saturating_sub(daemon).max(1) as f64
    };
    ratio(cpu).max(ratio(memory))
}

/// What one loop decided; the simulation carries it out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    /// Add nodes: (pool, how many); several pools when the scale-up is balanced across
    /// similar node groups.
    pub scale_up: Vec<(u32, u32)>,
    /// The pods the scale-up is for (they get `TriggeredScaleUp` events).
    pub triggered: Vec<crate::cluster::PodId>,
    /// Remove these nodes (their pods evicted first).
    pub scale_down: Vec<NodeId>,
    /// Pending pods no node group can help, with upstream's reason summary (each pod once).
    pub not_triggered: Vec<(crate::cluster::PodId, String)>,
}

/// The cluster autoscaler of one run.
#[derive(Debug)]
pub struct ClusterAutoscaler {
    cfg: AutoscalerConfig,
    rng: SimRng,
    /// Whether workload w's pods could run on pool p at all, `[w][p]`.
    fits: Vec<Vec<bool>>,
    /// Why not, in the scheduler's words (first reason), `[w][p]`.
    misfit: Vec<Vec<String>>,
    /// Pods already told they triggered no scale-up, by pod id.
    notified: Vec<bool>,
    /// Since when each node has been unneeded, by node id.
    unneeded_since: Vec<Option<SimTime>>,
    last_scale_up: Option<SimTime>,
    last_delete: Option<SimTime>,
    last_failure: Option<SimTime>,
    /// Per pool: backed off until, the last backoff's length, and the last failure.
    backoff: Vec<(SimTime, SimTime, Option<SimTime>)>,
}

impl ClusterAutoscaler {
    /// An autoscaler over `world`'s pools (each pool is a node group with its min and max).
    pub fn new(cfg: AutoscalerConfig, rng: SimRng, world: &World) -> ClusterAutoscaler {
        let (fits, misfit) = crate::control::scheduler::fit_matrix(world);
        ClusterAutoscaler {
            cfg,
            rng,
            fits,
            misfit,
            notified: Vec::new(),
            unneeded_since: Vec::new(),
            last_scale_up: None,
            last_delete: None,
            last_failure: None,
            backoff: vec![(SimTime::ZERO, SimTime::ZERO, None); world.pools.len()],
        }
    }

    /// `--max-node-provision-time`: how long a requested node may take to register.
    pub fn max_node_provision_time(&self) -> SimTime {
        self.cfg.max_node_provision_time
    }

    /// Nodes requested from `pool` did not register within the max provision time:
    /// upstream's `RegisterFailedScaleUp` backs the group off exponentially (5 min,
    /// doubling to 30 min; reset after 3 h without failures) and starts the
    /// scale-down-after-failure cooldown.
    pub fn scale_up_timed_out(&mut self, pool: usize, now: SimTime) {
        let (_, last_len, last_failure) = self.backoff[pool];
        let recent =
            last_failure.is_some_and(|t| now.saturating_sub(t) < self.cfg.node_group_backoff_reset);
        let len = if recent && last_len > SimTime::ZERO {
            SimTime::from_millis(last_len.as_millis().saturating_mul(2))
                .min(self.cfg.max_node_group_backoff)
        } else {
            self.cfg.initial_node_group_backoff
        };
        self.backoff[pool] = (now.saturating_add(len), len, Some(now));
        self.last_failure = Some(now);
    }

    /// Whether a pool is backed off after a failed scale-up.
    pub fn backed_off(&self, pool: usize, now: SimTime) -> bool {
        self.backoff.get(pool).is_some_and(|b| now < b.0)
    }

    /// The loop period.
    pub fn scan_interval(&self) -> SimTime {
        self.cfg.scan_interval
    }

    /// How long a node has been unneeded (for reports and tests).
    pub fn unneeded_since(&self, node: NodeId) -> Option<SimTime> {
        self.unneeded_since.get(node.0 as usize).copied().flatten()
    }

    /// One `RunOnce`. `allowed` is each PodDisruptionBudget's `disruptionsAllowed` now and
    /// `budgets[w]` the budgets covering workload w.
    pub fn run_once(
        &mut self,
        world: &World,
        now: SimTime,
        allowed: &[i64],
        budgets: &[Vec<u32>],
    ) -> Decision {
        let mut decision = Decision::default();
        if self.unneeded_since.len() < world.nodes.len() {
            self.unneeded_since.resize(world.nodes.len(), None);
        }
        self.scale_up(world, now, &mut decision);
        if !decision.scale_up.is_empty() {
            self.last_scale_up = Some(now);
        }
        if self.cfg.scale_down_enabled {
            self.scale_down(world, now, allowed, budgets, &mut decision);
        }
        decision
    }

    /// Pending pods that failed scheduling, grouped by workload.
    /// Pods waiting for a node that already joined are left out (`FilterOutSchedulable`).
    fn pending_groups(&self, world: &World) -> Vec<(PodGroup, Vec<crate::cluster::PodId>)> {
        let pending: Vec<crate::cluster::PodId> = world
            .workloads
            .iter()
            .enumerate()
            .filter(|(w, _)| world.specs[*w].priority >= self.cfg.expendable_priority_cutoff)
            .flat_map(|(_, ws)| ws.active.iter().copied())
            .filter(|p| {
                let pod = &world.pods[p.0 as usize];
                pod.state == PodState::Pending && pod.unschedulable_since.is_some()
            })
            .collect();
        let on_new = crate::control::fresh_nodes::placed_on_new_nodes(world, &self.fits, &pending);
        let mut groups: Vec<(PodGroup, Vec<crate::cluster::PodId>)> = Vec::new();
        for (pod, placed) in pending.into_iter().zip(on_new) {
            if placed {
                continue;
            }
            let w = world.pods[pod.0 as usize].workload.0;
            match groups.last_mut() {
                Some((g, pods)) if g.workload == w => {
                    g.count += 1;
                    pods.push(pod);
                }
                _ => {
                    let spec = &world.specs[w as usize];
                    groups.push((
                        PodGroup {
                            workload: w,
                            cpu_milli: spec.cpu_request_milli,
                            memory_bytes: spec.memory_request_bytes,
                            count: 1,
                        },
                        vec![pod],
                    ));
                }
            }
        }
        groups
    }

    /// A new node of `pool` as the estimator sees it: its DaemonSet pods already there.
    fn template(world: &World, pool: usize) -> Template {
        let p = &world.pools[pool];
        Template {
            cpu_milli: p.cpu_milli.saturating_sub(p.daemon_cpu_milli),
            memory_bytes: p.memory_bytes.saturating_sub(p.daemon_memory_bytes),
            max_pods: p.max_pods.saturating_sub(p.daemon_pods),
        }
    }

    fn scale_up(&mut self, world: &World, now: SimTime, decision: &mut Decision) {
        let mut groups = self.pending_groups(world);
        if groups.is_empty() {
            return;
        }
        // FilterOutSchedulable: pods that fit on nodes already on their way wait for them.
        for (p, &upcoming) in world.pool_provisioning.iter().enumerate() {
            if upcoming == 0 {
                continue;
            }
            let fitting: Vec<PodGroup> = groups
                .iter()
                .filter(|(g, _)| self.fits[g.workload as usize][p] && g.count > 0)
                .map(|(g, _)| *g)
                .collect();
            let est = binpacking(Self::template(world, p), &fitting, upcoming);
            for (w, n) in est.scheduled {
                if let Some((g, pods)) = groups.iter_mut().find(|(g, _)| g.workload == w) {
                    g.count -= n;
                    pods.drain(..n as usize);
                }
            }
        }
        groups.retain(|(g, _)| g.count > 0);
        if groups.is_empty() {
            return;
        }
        let total: u32 =
            world.live_nodes.len() as u32 + world.pool_provisioning.iter().sum::<u32>();
        let total_room = match self.cfg.max_nodes_total {
            0 => u32::MAX,
            m => m.saturating_sub(total),
        };
        let mut options = Vec::new();
        let mut estimates = Vec::new();
        for (p, pool) in world.pools.iter().enumerate() {
            let size = world.pool_nodes[p].len() as u32 + world.pool_provisioning[p];
            let room = pool.max.saturating_sub(size).min(total_room);
            if room == 0 || self.backed_off(p, now) {
                continue;
            }
            let fitting: Vec<PodGroup> = groups
                .iter()
                .filter(|(g, _)| self.fits[g.workload as usize][p])
                .map(|(g, _)| *g)
                .collect();
            if fitting.is_empty() {
                continue;
            }
            let est = binpacking(Self::template(world, p), &fitting, room);
            if est.nodes == 0 {
                continue;
            }
            options.push(ScaleUpOption {
                pool: p as u32,
                nodes: est.nodes,
                pods: est.pods(),
                pod_cpu_milli: est.cpu_milli,
                pod_memory_bytes: est.memory_bytes,
                node_cpu_milli: pool.cpu_capacity_milli,
                node_memory_bytes: pool.memory_capacity_bytes,
                node_price: pool.price_usd_per_hour,
            });
            estimates.push(est);
        }
        self.explain_unhelped(world, now, &groups, &estimates, total_room, decision);
        let cluster_nodes = world.live_nodes.len();
        let Some(i) = choose(
            &options,
            &self.cfg.expanders,
            &self.cfg.priorities,
            cluster_nodes,
            &mut self.rng,
        ) else {
            return;
        };
        let o = &options[i];
        decision.scale_up = if self.cfg.balance_similar_node_groups {
            balance(world, o.pool as usize, o.nodes, total_room)
        } else {
            vec![(o.pool, o.nodes)]
        };
        for &(w, n) in &estimates[i].scheduled {
            if let Some((_, pods)) = groups.iter().find(|(g, _)| g.workload == w) {
                decision.triggered.extend(pods.iter().take(n as usize));
            }
        }
    }

    /// `NotTriggerScaleUp` for pending pods that no option would schedule: per node group
    /// the reason, counted ("1 max node group size reached, 2 Insufficient cpu ...").
    fn explain_unhelped(
        &mut self,
        world: &World,
        now: SimTime,
        groups: &[(PodGroup, Vec<crate::cluster::PodId>)],
        estimates: &[estimator::Estimate],
        total_room: u32,
        decision: &mut Decision,
    ) {
        if self.notified.len() < world.pods.len() {
            self.notified.resize(world.pods.len(), false);
        }
        for (g, pods) in groups {
            let w = g.workload as usize;
            if estimates
                .iter()
                .any(|e| e.scheduled.iter().any(|s| s.0 == g.workload))
            {
                continue;
            }
            let mut counts: Vec<(String, u32)> = Vec::new();
            for (p, pool) in world.pools.iter().enumerate() {
                let size = world.pool_nodes[p].len() as u32 + world.pool_provisioning[p];
                let reason = if !self.fits[w][p] {
                    format!("node(s) {}", self.misfit[w][p])
                } else if self.backed_off(p, now) {
                    "in backoff after failed scale-up".to_string()
                } else if pool.max.saturating_sub(size).min(total_room) == 0 {
                    "max node group size reached".to_string()
                } else {
                    "pod would not fit a new node".to_string()
                };
                match counts.iter_mut().find(|c| c.0 == reason) {
                    Some(c) => c.1 += 1,
                    None => counts.push((reason, 1)),
                }
            }
            counts.sort();
            let summary: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
            let message = format!("pod didn't trigger scale-up: {}", summary.join(", "));
            for &pod in pods {
                if !self.notified[pod.0 as usize] {
                    self.notified[pod.0 as usize] = true;
                    decision.not_triggered.push((pod, message.clone()));
                }
            }
        }
    }

    /// Utilization of a node (upstream `utilization.Calculate`): the larger of CPU and
    /// memory requests over allocatable, DaemonSet pods left out of both.
    pub fn utilization(world: &World, node: NodeId) -> f64 {
        let n = &world.nodes[node.0 as usize];
        let p = &world.pools[n.pool.0 as usize];
        utilization(
            (
                n.cpu_requested_milli,
                n.cpu_allocatable_milli,
                p.daemon_cpu_milli,
            ),
            (
                n.memory_requested_bytes,
                n.memory_allocatable_bytes,
                p.daemon_memory_bytes,
            ),
        )
    }

    fn scale_down(
        &mut self,
        world: &World,
        now: SimTime,
        allowed: &[i64],
        budgets: &[Vec<u32>],
        decision: &mut Decision,
    ) {
        // Free capacity other nodes would lend to moved pods, and which nodes took some.
        let mut extra_cpu = vec![0u64; world.nodes.len()];
        let mut extra_mem = vec![0u64; world.nodes.len()];
        let mut extra_pods = vec![0u32; world.nodes.len()];
        let mut destination = vec![false; world.nodes.len()];
        let mut removable = vec![false; world.nodes.len()];
        let mut allowed = allowed.to_vec();
        let mut cursor = vec![0usize; world.specs.len()];
        let mut size: Vec<u32> = world.pool_nodes.iter().map(|n| n.len() as u32).collect();
        for &node in &world.live_nodes {
            let n = &world.nodes[node.0 as usize];
            let pool = n.pool.0 as usize;
            if size[pool] <= world.pools[pool].min
                || destination[node.0 as usize]
                || Self::utilization(world, node) > self.cfg.utilization_threshold
            {
                continue;
            }
            // Every pod must fit on some other node (first fit in node order) within its
            // budgets; the moves are kept so later candidates see them.
            let mut moves: Vec<(usize, u64, u64)> = Vec::new();
            let mut spent: Vec<u32> = Vec::new();
            let mut ok = true;
            for &pod in &n.pods {
                let w = world.pods[pod.0 as usize].workload.0 as usize;
                let spec = &world.specs[w];
                if spec.priority < self.cfg.expendable_priority_cutoff {
                    continue; // expendable: never blocks
                }
                if spec.eviction_blockers.not_safe_to_evict {
                    ok = false; // `safe-to-evict: "false"` pins the node
                    break;
                }
                for &b in &budgets[w] {
                    let used = spent.iter().filter(|&&s| s == b).count() as i64;
                    if allowed[b as usize] - used <= 0 {
                        ok = false;
                    }
                    spent.push(b);
                }
                if !ok {
                    break;
                }
                let (cpu, mem) = (spec.cpu_request_milli, spec.memory_request_bytes);
                // Nodes that cannot take a pod of w under the moves already committed this
                // loop never can later in it (capacity only shrinks): the workload's cursor
                // skips them for good, keeping the search near-linear over the loop.
                let closed = |d: NodeId| {
                    let dn = &world.nodes[d.0 as usize];
                    let i = d.0 as usize;
                    removable[i]
                        || !dn.schedulable
                        || !self.fits[w][dn.pool.0 as usize]
                        || dn.cpu_requested_milli + extra_cpu[i] + cpu > dn.cpu_allocatable_milli
                        || dn.memory_requested_bytes + extra_mem[i] + mem
                            > dn.memory_allocatable_bytes
                        || dn.pods.len() as u32 + extra_pods[i] >= dn.max_pods
                };
                while let Some(&d) = world.live_nodes.get(cursor[w]) {
                    if d != node && closed(d) {
                        cursor[w] += 1;
                    } else {
                        break;
                    }
                }
                let target = world.live_nodes[cursor[w].min(world.live_nodes.len())..]
                    .iter()
                    .copied()
                    .find(|&d| {
                        let dn = &world.nodes[d.0 as usize];
                        let i = d.0 as usize;
                        let pending: (u64, u64, u32) = moves
                            .iter()
                            .filter(|m| m.0 == i)
                            .fold((0, 0, 0), |a, m| (a.0 + m.1, a.1 + m.2, a.2 + 1));
                        d != node
                            && !closed(d)
                            && dn.cpu_requested_milli + extra_cpu[i] + pending.0 + cpu
                                <= dn.cpu_allocatable_milli
                            && dn.memory_requested_bytes + extra_mem[i] + pending.1 + mem
                                <= dn.memory_allocatable_bytes
                            && dn.pods.len() as u32 + extra_pods[i] + pending.2 < dn.max_pods
                    });
                match target {
                    Some(d) => moves.push((d.0 as usize, cpu, mem)),
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if !ok {
                continue;
            }
            removable[node.0 as usize] = true;
            size[pool] -= 1;
            for b in spent {
                allowed[b as usize] -= 1;
            }
            for (d, cpu, mem) in moves {
                extra_cpu[d] += cpu;
                extra_mem[d] += mem;
                extra_pods[d] += 1;
                destination[d] = true;
            }
        }
        for &node in &world.live_nodes {
            let i = node.0 as usize;
            self.unneeded_since[i] = if removable[i] {
                Some(self.unneeded_since[i].unwrap_or(now))
            } else {
                None
            };
        }
        if !decision.scale_up.is_empty() || self.in_cooldown(now) {
            return;
        }
        let due = |n: &NodeId| {
            self.unneeded_since[n.0 as usize]
                .is_some_and(|t| now.saturating_sub(t) > self.cfg.unneeded_time)
        };
        let is_empty = |n: &NodeId| {
            world.nodes[n.0 as usize].pods.iter().all(|p| {
                let w = world.pods[p.0 as usize].workload.0 as usize;
                world.specs[w].priority < self.cfg.expendable_priority_cutoff
            })
        };
        let empty: Vec<NodeId> = world
            .live_nodes
            .iter()
            .filter(|n| due(n) && is_empty(n))
            .take(self.cfg.max_scale_down_parallelism as usize)
            .copied()
            .collect();
        decision.scale_down = empty;
        if decision.scale_down.is_empty() {
            decision.scale_down = world
                .live_nodes
                .iter()
                .filter(|n| due(n))
                .take(self.cfg.max_drain_parallelism as usize)
                .copied()
                .collect();
        }
        if !decision.scale_down.is_empty() {
            self.last_delete = Some(now);
            for n in &decision.scale_down {
                self.unneeded_since[n.0 as usize] = None;
            }
        }
    }

    fn in_cooldown(&self, now: SimTime) -> bool {
        let within = |t: Option<SimTime>, d: SimTime| t.is_some_and(|t| t.saturating_add(d) > now);
        within(self.last_scale_up, self.cfg.delay_after_add)
            || within(self.last_delete, self.cfg.delay_after_delete)
            || within(self.last_failure, self.cfg.delay_after_failure)
    }
}

#[cfg(test)]
mod tests {
    use super::utilization;

    #[test]
    fn utilization_matches_upstream_info_test() {
        // simulator/utilization/info_test.go, node1 = 2000m, 2,000,000 B. Case 1: its pods
        // request 200m and 400,000 B: cpu 0.1, memory 0.2 → 0.2.
        assert!((utilization((200, 2000, 0), (400_000, 2_000_000, 0)) - 0.2).abs() < 1e-12);
        // Case 4: two DaemonSet pods skipped: cpu 200/1800, memory 400,000/1,600,000.
        let u = utilization((400, 2000, 200), (800_000, 2_000_000, 400_000));
        assert!((u - 0.25).abs() < 1e-12, "{u}");
    }
}
