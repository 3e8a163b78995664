//! Karpenter, the alternative to the cluster autoscaler: it launches, for pods no node
//! can take, the cheapest instance types that fit them, and consolidates nodes away when
//! their pods fit elsewhere or on a cheaper node.
//!
//! Upstream: kubernetes-sigs/karpenter `pkg/controllers/provisioning/provisioner.go` and
//! `batcher.go` (batching), `provisioning/scheduling/` (packing, in [`provision`]),
//! `pkg/controllers/disruption/` (`controller.go`, `emptiness.go`,
//! `multinodeconsolidation.go`, `singlenodeconsolidation.go`, `validation.go`, in
//! [`consolidation`]), `pkg/apis/v1/nodepool.go` (budgets, defaults, in [`config`]).
//!
//! Follows upstream in: batching pending pods (1 s idle, 10 s max); packing them largest
//! first onto nodes still launching, then onto planned NodeClaims (fewest pods first),
//! then onto a new NodeClaim of the highest-weight NodePool that admits the pod; each
//! NodeClaim launching the cheapest instance type that fits all its pods within the
//! NodePool's `limits`; the disruption loop every 10 s running Emptiness, then multi-node
//! consolidation (candidates by savings ratio, at most 100, binary search over prefixes of
//! two or more that can go with at most one cheaper replacement), then single-node
//! consolidation (by disruption cost); candidates only after `consolidateAfter` without
//! pod events, and only if every PodDisruptionBudget allows their pods' eviction and no pod
//! is annotated `karpenter.sh/do-not-disrupt`; budgets
//! per NodePool and reason (default 10%, cron windows), minus nodes already disrupting;
//! replacements strictly cheaper; spot-to-spot replacement behind its feature gate with
//! the 15-type minimum; commands re-validated after 15 s; replacements launched and Ready
//! before the old nodes drain; `expireAfter` (720 h) as forceful disruption.
//!
//! Simplified: only CPU, memory and pod slots are packed (extended resources decide
//! compatibility only); pod affinity, topology spread and zones are not part of the
//! packing (a launched node takes its zone round-robin); Drift, `minValues`,
//! `terminationGracePeriod` and pod deletion costs are not modelled; a pod event is seen
//! at the next 10 s disruption poll. Launch failures: a stock-out is an immediate
//! insufficient-capacity error (the offering skipped for 3 min), a failed boot is noticed
//! at the 15 min registration TTL.

pub mod config;
pub mod consolidation;
pub mod cron;
pub mod provision;

use crate::cluster::{NodeId, PodId, PodState, World};
use crate::engine::SimTime;
use config::{
    COMMAND_VALIDATION_DELAY, ConsolidationPolicy, DISRUPTION_POLL, KarpenterConfig,
    MAX_MULTI_NODE_CANDIDATES, Reason,
};
use consolidation::{Outcome, disruption_cost, savings_ratio, simulate};
use provision::{InFlight, pack};

/// How long an offering that failed to launch is skipped (`UnavailableOfferingsTTL`).
pub const UNAVAILABLE_OFFERING_TTL: SimTime = SimTime::from_secs(180);
/// How long a launched node may take to register before its NodeClaim is deleted
/// (`registrationTTL`).
pub const REGISTRATION_TTL: SimTime = SimTime::from_secs(900);

/// The label naming a node's NodePool.
pub const NODEPOOL_LABEL: &str = "karpenter.sh/nodepool";

/// A node Karpenter launches now.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    /// The scenario pool (instance type × capacity type).
    pub pool: u32,
    /// Its NodePool.
    pub nodepool: u32,
    /// The NodeClaim's number within its NodePool (its name is `<nodepool>-<n>`).
    pub claim: u32,
    /// The pods nominated to it.
    pub pods: Vec<PodId>,
}

/// What one provisioning pass decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Provisioning {
    /// Nodes to launch.
    pub launches: Vec<Launch>,
    /// Pods no NodePool can take (each reported once), with upstream-style reasons.
    pub failed: Vec<(PodId, String)>,
    /// NodeClaims whose every type was out of capacity (the pools tried, cheapest first):
    /// their pods are packed again at once without those offerings.
    pub insufficient: Vec<Vec<u32>>,
}

/// A disruption decision to carry out.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// Why.
    pub reason: Reason,
    /// Nodes to drain and delete.
    pub candidates: Vec<NodeId>,
    /// A replacement to launch first (pool), for `Underutilized/Replace`.
    pub replacement: Option<u32>,
}

/// Karpenter's state in one run.
#[derive(Debug)]
pub struct Karpenter {
    cfg: KarpenterConfig,
    /// Whether workload w's pods may run on pool p at all, `[w][p]`.
    fits: Vec<Vec<bool>>,
    /// Why not (first reason), `[w][p]`.
    misfit: Vec<Vec<String>>,
    in_flight: Vec<InFlight>,
    /// The open batch: when it opened and how many pods were pending at the last look.
    batch: Option<(SimTime, usize)>,
    /// NodeClaims launched per NodePool (for their names).
    claims: Vec<u32>,
    /// Pods already told no NodePool can take them.
    notified: Vec<bool>,
    /// Per node: the pod-change stamp last seen and when it was first seen.
    seen: Vec<Option<(u64, SimTime)>>,
    /// Nodes being disrupted (cordoned by a command, not yet deleted).
    disrupting: Vec<bool>,
    /// A consolidation command waiting out its validation delay: (computed at, command,
    /// each candidate's pod-change stamp then).
    validating: Option<(SimTime, Command, Vec<u64>)>,
    /// Replacements launched and not Ready yet: (pool, requested at, command).
    waiting: Vec<(u32, SimTime, Command)>,
    /// `World::pod_changes` and live-node count when consolidation last found nothing.
    consolidated: Option<(u64, usize)>,
    /// Per pool: the offering is unavailable until then (after an insufficient-capacity
    /// error).
    unavailable_until: Vec<SimTime>,
}

impl Karpenter {
    /// Karpenter over `world`'s NodePool pools.
    pub fn new(cfg: KarpenterConfig, world: &World) -> Karpenter {
        let (fits, misfit) = crate::control::scheduler::fit_matrix(world);
        Karpenter {
            claims: vec![0; cfg.node_pools.len()],
            cfg,
            fits,
            misfit,
            in_flight: Vec::new(),
            batch: None,
            notified: Vec::new(),
            seen: Vec::new(),
            disrupting: Vec::new(),
            validating: None,
            waiting: Vec::new(),
            consolidated: None,
            unavailable_until: vec![SimTime::ZERO; world.pools.len()],
        }
    }

    /// The settings.
    pub fn config(&self) -> &KarpenterConfig {
        &self.cfg
    }

    /// Pending pods the scheduler could not place.
    fn pending(world: &World) -> Vec<PodId> {
        world
            .workloads
            .iter()
            .flat_map(|ws| ws.active.iter().copied())
            .filter(|p| {
                let pod = &world.pods[p.0 as usize];
                pod.state == PodState::Pending && pod.unschedulable_since.is_some()
            })
            .collect()
    }

    /// Opens a batch if none is open; returns when to look at it (None: already open).
    pub fn open_batch(&mut self, now: SimTime) -> Option<SimTime> {
        if self.batch.is_some() {
            return None;
        }
        self.batch = Some((now, 0));
        Some(now.saturating_add(self.cfg.batch_idle))
    }

    /// The batch timer fired. While pods keep arriving (and the batch is younger than
    /// `batchMaxDuration`) it returns `Err(next look)`; otherwise the batch closes and
    /// the pending pods are provisioned for.
    pub fn batch_tick(&mut self, world: &World, now: SimTime) -> Result<Provisioning, SimTime> {
        let Some((opened, seen)) = self.batch else {
            return Ok(Provisioning::default());
        };
        let pods = Self::pending(world);
        let deadline = opened.saturating_add(self.cfg.batch_max);
        if pods.len() > seen && now < deadline {
            self.batch = Some((opened, pods.len()));
            return Err(now.saturating_add(self.cfg.batch_idle).min(deadline));
        }
        self.batch = None;
        Ok(self.provision(world, &pods, now))
    }

    /// Σ capacity (cpu, memory) of a NodePool's nodes running or launching.
    fn nodepool_usage(&self, world: &World, np: usize) -> (u64, u64) {
        self.cfg.node_pools[np]
            .pools
            .iter()
            .map(|&p| {
                let pool = &world.pools[p as usize];
                let n = world.pool_nodes[p as usize].len() as u64
                    + u64::from(world.pool_provisioning[p as usize]);
                (n * pool.cpu_capacity_milli, n * pool.memory_capacity_bytes)
            })
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }

    fn provision(&mut self, world: &World, pods: &[PodId], now: SimTime) -> Provisioning {
        let mut out = Provisioning::default();
        if pods.is_empty() {
            return out;
        }
        let offered = self.offered(now);
        let packing = pack(
            world,
            &self.cfg,
            &self.fits,
            &offered,
            pods,
            &self.in_flight,
        );
        let mut usage: Vec<(u64, u64)> = (0..self.cfg.node_pools.len())
            .map(|np| self.nodepool_usage(world, np))
            .collect();
        let mut unplaced = packing.unplaced;
        for plan in packing.planned {
            let np = plan.nodepool as usize;
            let npc = &self.cfg.node_pools[np];
            let mut options = plan.pools.clone();
            options.sort_by(|&a, &b| {
                let (pa, pb) = (&world.pools[a as usize], &world.pools[b as usize]);
                pa.price_usd_per_hour
                    .total_cmp(&pb.price_usd_per_hour)
                    .then(a.cmp(&b))
            });
            let within = |p: u32| {
                let pool = &world.pools[p as usize];
                npc.limit_cpu_milli
                    .is_none_or(|l| usage[np].0 + pool.cpu_capacity_milli <= l)
                    && npc
                        .limit_memory_bytes
                        .is_none_or(|l| usage[np].1 + pool.memory_capacity_bytes <= l)
            };
            // The cloud tries the claim's types cheapest first (a fleet request); types it
            // has no capacity for fail and are skipped for a while.
            let mut stocked_out = Vec::new();
            let choice = options.into_iter().filter(|&p| within(p)).find(|&p| {
                let out_of_stock = world.pools[p as usize].provisioning.stocked_out(now);
                if out_of_stock {
                    stocked_out.push(p);
                }
                !out_of_stock
            });
            for &p in &stocked_out {
                self.unavailable_until[p as usize] = now.saturating_add(UNAVAILABLE_OFFERING_TTL);
            }
            if choice.is_none() && !stocked_out.is_empty() {
                out.insufficient.push(stocked_out);
                continue;
            }
            match choice {
                Some(pool) => {
                    let spec = &world.pools[pool as usize];
                    usage[np].0 += spec.cpu_capacity_milli;
                    usage[np].1 += spec.memory_capacity_bytes;
                    self.claims[np] += 1;
                    out.launches.push(Launch {
                        pool,
                        nodepool: plan.nodepool,
                        claim: self.claims[np],
                        pods: plan.pods,
                    });
                }
                None => {
                    let why = format!(
                        "all available instance types exceed limits for nodepool: \"{}\"",
                        npc.name
                    );
                    self.fail(&plan.pods, &why, &mut out);
                }
            }
        }
        unplaced.sort();
        for pod in unplaced {
            let why = self.incompatible(world, pod);
            self.fail(&[pod], &why, &mut out);
        }
        out
    }

    /// Upstream's `Failed to schedule pod` wording: per NodePool, why none of its types
    /// take the pod.
    fn incompatible(&self, world: &World, pod: PodId) -> String {
        let w = world.pods[pod.0 as usize].workload.0 as usize;
        let parts: Vec<String> = self
            .cfg
            .node_pools
            .iter()
            .map(|np| {
                let why = np
                    .pools
                    .iter()
                    .map(|&p| &self.misfit[w][p as usize])
                    .find(|m| !m.is_empty());
                match why {
                    Some(m) if np.pools.iter().all(|&p| !self.fits[w][p as usize]) => {
                        format!("incompatible with nodepool \"{}\", {m}", np.name)
                    }
                    _ => format!(
                        "incompatible with nodepool \"{}\", no instance type satisfied resources",
                        np.name
                    ),
                }
            })
            .collect();
        format!("Failed to schedule pod, {}", parts.join("; "))
    }

    fn fail(&mut self, pods: &[PodId], why: &str, out: &mut Provisioning) {
        for &pod in pods {
            let i = pod.0 as usize;
            if self.notified.len() <= i {
                self.notified.resize(i + 1, false);
            }
            if !self.notified[i] {
                self.notified[i] = true;
                out.failed.push((pod, why.to_string()));
            }
        }
    }

    /// Per pool, whether Karpenter would launch it now: not after a recent launch failure
    /// (upstream's unavailable-offerings cache).
    fn offered(&self, now: SimTime) -> Vec<bool> {
        self.unavailable_until.iter().map(|&u| now >= u).collect()
    }

    /// A launch of `pool` failed with an insufficient-capacity error: the offering is
    /// skipped for `UnavailableOfferingsTTL` (3 min); the pods are packed again.
    pub fn launch_failed(&mut self, pool: u32, now: SimTime) {
        self.unavailable_until[pool as usize] = now.saturating_add(UNAVAILABLE_OFFERING_TTL);
    }

    /// A launched node never registered (NodeClaim registration TTL): it is forgotten; a
    /// consolidation waiting for it is called off and returned so its nodes are
    /// uncordoned.
    pub fn registration_failed(&mut self, pool: u32, requested_at: SimTime) -> Option<Command> {
        let cmd = self.node_ready(pool, requested_at)?;
        for n in &cmd.candidates {
            self.disrupting[n.0 as usize] = false;
        }
        Some(cmd)
    }

    /// Numbers a NodeClaim of NodePool `np` launched outside a provisioning pass.
    pub fn next_claim(&mut self, np: u32) -> u32 {
        self.claims[np as usize] += 1;
        self.claims[np as usize]
    }

    /// The simulation launched a node of `pool` at `requested_at` (for provisioning or
    /// as a replacement for `command`).
    pub fn launched(&mut self, pool: u32, requested_at: SimTime, command: Option<Command>) {
        self.in_flight.push(InFlight { pool, requested_at });
        if let Some(c) = command {
            self.waiting.push((pool, requested_at, c));
        }
    }

    /// A node Karpenter launched is Ready; returns the command whose replacement it was
    /// (its old nodes can drain now).
    pub fn node_ready(&mut self, pool: u32, requested_at: SimTime) -> Option<Command> {
        if let Some(i) = self
            .in_flight
            .iter()
            .position(|f| f.pool == pool && f.requested_at == requested_at)
        {
            self.in_flight.remove(i);
        }
        let i = self
            .waiting
            .iter()
            .position(|w| w.0 == pool && w.1 == requested_at)?;
        Some(self.waiting.remove(i).2)
    }

    /// A node left the cluster (drained, interrupted): it is no longer being disrupted.
    pub fn node_gone(&mut self, node: NodeId) {
        if let Some(d) = self.disrupting.get_mut(node.0 as usize) {
            *d = false;
        }
    }

    /// When the next disruption poll should run after one at `now`: at the end of a
    /// pending command's validation delay, else one poll period later.
    pub fn next_poll(&self, now: SimTime) -> SimTime {
        match &self.validating {
            Some((at, _, _)) => at.saturating_add(COMMAND_VALIDATION_DELAY).max(now),
            None => now.saturating_add(DISRUPTION_POLL),
        }
    }

    fn observe(&mut self, world: &World, now: SimTime) {
        if self.seen.len() < world.nodes.len() {
            self.seen.resize(world.nodes.len(), None);
            self.disrupting.resize(world.nodes.len(), false);
        }
        for &node in &world.live_nodes {
            let n = &world.nodes[node.0 as usize];
            let slot = &mut self.seen[node.0 as usize];
            match slot {
                None => *slot = Some((n.pod_change, n.created_at)),
                Some((stamp, _)) if *stamp != n.pod_change => *slot = Some((n.pod_change, now)),
                Some(_) => {}
            }
        }
    }

    /// Nodes of NodePool `np` live and not being disrupted, and those being disrupted.
    fn nodepool_nodes(&self, world: &World, np: usize) -> (u32, u32) {
        let mut counts = (0, 0);
        for &p in &self.cfg.node_pools[np].pools {
            for &node in &world.pool_nodes[p as usize] {
                if self.disrupting[node.0 as usize] {
                    counts.1 += 1;
                } else {
                    counts.0 += 1;
                }
            }
        }
        counts
    }

    /// Budget left per NodePool for `reason` now.
    fn budgets(&self, world: &World, reason: Reason, now: SimTime) -> Vec<u32> {
        (0..self.cfg.node_pools.len())
            .map(|np| {
                let (nodes, disrupting) = self.nodepool_nodes(world, np);
                self.cfg.node_pools[np]
                    .allowed_disruptions(reason, nodes, now)
                    .saturating_sub(disrupting)
            })
            .collect()
    }

    /// Consolidation candidates: Karpenter's nodes, not being disrupted, without a pod
    /// event for `consolidateAfter`, whose pods' PodDisruptionBudgets allow eviction.
    fn candidates(
        &self,
        world: &World,
        now: SimTime,
        pdb_allowed: &[i64],
        pdb_of: &[Vec<u32>],
    ) -> Vec<NodeId> {
        world
            .live_nodes
            .iter()
            .copied()
            .filter(|&node| {
                let n = &world.nodes[node.0 as usize];
                let Some(np) = world.pools[n.pool.0 as usize].karpenter else {
                    return false;
                };
                let Some(after) = self.cfg.node_pools[np as usize].consolidate_after else {
                    return false;
                };
                let quiet_since = self.seen[node.0 as usize].map_or(n.created_at, |s| s.1);
                // A node just launched holds nominated pods for 2 × batchMaxDuration
                // (upstream's nomination period): not a candidate before they land.
                let nominated_until = n
                    .created_at
                    .saturating_add(self.cfg.batch_max)
                    .saturating_add(self.cfg.batch_max);
                n.schedulable
                    && now >= nominated_until
                    && !self.disrupting[node.0 as usize]
                    && now >= quiet_since.saturating_add(after)
                    && n.pods.iter().all(|p| {
                        let w = world.pods[p.0 as usize].workload.0 as usize;
                        !world.specs[w].eviction_blockers.do_not_disrupt
                            && pdb_of[w].iter().all(|&b| pdb_allowed[b as usize] > 0)
                    })
            })
            .collect()
    }

    fn excluded(&self, world: &World, candidates: &[NodeId]) -> Vec<bool> {
        let mut ex = self.disrupting.clone();
        ex.resize(world.nodes.len(), false);
        for c in candidates {
            ex[c.0 as usize] = true;
        }
        ex
    }

    fn nodepool_of(world: &World, node: NodeId) -> usize {
        world.pool_of(node).karpenter.unwrap_or(0) as usize
    }

    /// One disruption poll; returns the commands to carry out now (their nodes are marked
    /// as disrupting). `pdb_allowed` is each PodDisruptionBudget's `disruptionsAllowed`
    /// and `pdb_of[w]` the budgets covering workload w.
    pub fn disrupt(
        &mut self,
        world: &World,
        now: SimTime,
        pdb_allowed: &[i64],
        pdb_of: &[Vec<u32>],
    ) -> Vec<Command> {
        self.observe(world, now);
        let mut out = self.expire(world, now);
        if let Some((at, cmd, stamps)) = self.validating.take() {
            if now < at.saturating_add(COMMAND_VALIDATION_DELAY) {
                self.validating = Some((at, cmd, stamps));
                return self.mark(out);
            }
            if self.still_valid(world, now, &cmd, &stamps, pdb_allowed, pdb_of) {
                out.push(cmd);
            }
            return self.mark(out);
        }
        let sig = (world.pod_changes, world.live_nodes.len());
        if self.consolidated == Some(sig) {
            return self.mark(out);
        }
        let candidates = self.candidates(world, now, pdb_allowed, pdb_of);
        match self.consolidate(world, now, &candidates) {
            Some(cmd) => {
                let stamps = cmd
                    .candidates
                    .iter()
                    .map(|c| world.nodes[c.0 as usize].pod_change)
                    .collect();
                self.validating = Some((now, cmd, stamps));
            }
            // Nothing to do until pods or nodes change (upstream `markConsolidated`);
            // budgets may have blocked a move, so then look again next poll.
            None if !candidates.is_empty() && self.budget_blocked(world, now) => {}
            None => self.consolidated = Some(sig),
        }
        self.mark(out)
    }

    fn budget_blocked(&self, world: &World, now: SimTime) -> bool {
        [Reason::Empty, Reason::Underutilized]
            .iter()
            .any(|&r| self.budgets(world, r, now).contains(&0))
    }

    fn mark(&mut self, commands: Vec<Command>) -> Vec<Command> {
        for c in &commands {
            for n in &c.candidates {
                self.disrupting[n.0 as usize] = true;
            }
        }
        commands
    }

    /// Nodes past their NodePool's `expireAfter` are deleted regardless of budgets.
    fn expire(&self, world: &World, now: SimTime) -> Vec<Command> {
        world
            .live_nodes
            .iter()
            .copied()
            .filter(|&node| {
                let n = &world.nodes[node.0 as usize];
                let expire = world.pools[n.pool.0 as usize]
                    .karpenter
                    .and_then(|np| self.cfg.node_pools[np as usize].expire_after);
                !self.disrupting[node.0 as usize]
                    && expire.is_some_and(|e| now >= n.created_at.saturating_add(e))
            })
            .map(|node| Command {
                reason: Reason::Expired,
                candidates: vec![node],
                replacement: None,
            })
            .collect()
    }

    fn still_valid(
        &self,
        world: &World,
        now: SimTime,
        cmd: &Command,
        stamps: &[u64],
        pdb_allowed: &[i64],
        pdb_of: &[Vec<u32>],
    ) -> bool {
        let candidates = self.candidates(world, now, pdb_allowed, pdb_of);
        let unchanged = cmd
            .candidates
            .iter()
            .zip(stamps)
            .all(|(c, &s)| candidates.contains(c) && world.nodes[c.0 as usize].pod_change == s);
        if !unchanged {
            return false;
        }
        let excluded = self.excluded(world, &cmd.candidates);
        let offered = self.offered(now);
        let outcome = simulate(
            world,
            &self.cfg,
            &self.fits,
            &offered,
            &cmd.candidates,
            &excluded,
        );
        match cmd.replacement {
            None => outcome == Outcome::Delete,
            Some(p) => outcome == Outcome::Replace(p),
        }
    }

    /// Emptiness, then multi-node, then single-node consolidation; the first that finds
    /// something wins.
    fn consolidate(&self, world: &World, now: SimTime, candidates: &[NodeId]) -> Option<Command> {
        // Emptiness.
        let mut left = self.budgets(world, Reason::Empty, now);
        let empty: Vec<NodeId> = candidates
            .iter()
            .copied()
            .filter(|&c| {
                let np = Self::nodepool_of(world, c);
                let take = world.nodes[c.0 as usize].pods.is_empty() && left[np] > 0;
                if take {
                    left[np] -= 1;
                }
                take
            })
            .collect();
        if !empty.is_empty() {
            return Some(Command {
                reason: Reason::Empty,
                candidates: empty,
                replacement: None,
            });
        }
        let underutilized: Vec<NodeId> = candidates
            .iter()
            .copied()
            .filter(|&c| {
                self.cfg.node_pools[Self::nodepool_of(world, c)].policy
                    == ConsolidationPolicy::WhenEmptyOrUnderutilized
            })
            .collect();
        if underutilized.is_empty() {
            return None;
        }
        let budget = self.budgets(world, Reason::Underutilized, now);
        let offered = self.offered(now);
        self.multi_node(world, &offered, &underutilized, &budget)
            .or_else(|| self.single_node(world, now, &offered, &underutilized, &budget))
    }

    fn command(outcome: Outcome, candidates: Vec<NodeId>) -> Option<Command> {
        let replacement = match outcome {
            Outcome::No => return None,
            Outcome::Delete => None,
            Outcome::Replace(p) => Some(p),
        };
        Some(Command {
            reason: Reason::Underutilized,
            candidates,
            replacement,
        })
    }

    fn multi_node(
        &self,
        world: &World,
        offered: &[bool],
        candidates: &[NodeId],
        budget: &[u32],
    ) -> Option<Command> {
        let mut sorted: Vec<(f64, NodeId)> = candidates
            .iter()
            .map(|&c| (savings_ratio(world, c), c))
            .collect();
        sorted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut left = budget.to_vec();
        let list: Vec<NodeId> = sorted
            .into_iter()
            .map(|s| s.1)
            .filter(|&c| {
                let np = Self::nodepool_of(world, c);
                let take = left[np] > 0;
                if take {
                    left[np] -= 1;
                }
                take
            })
            .take(MAX_MULTI_NODE_CANDIDATES)
            .collect();
        if list.len() < 2 {
            return None;
        }
        // Binary search over prefixes of 2..=n nodes for the largest that can go.
        let (mut lo, mut hi) = (1usize, list.len() - 1);
        let mut best = None;
        while lo <= hi {
            let mid = (lo + hi) / 2;
            let prefix = &list[..=mid];
            let outcome = simulate(
                world,
                &self.cfg,
                &self.fits,
                offered,
                prefix,
                &self.excluded(world, prefix),
            );
            if outcome == Outcome::No {
                hi = mid - 1;
            } else {
                best = Self::command(outcome, prefix.to_vec());
                lo = mid + 1;
            }
        }
        best
    }

    fn single_node(
        &self,
        world: &World,
        now: SimTime,
        offered: &[bool],
        candidates: &[NodeId],
        budget: &[u32],
    ) -> Option<Command> {
        let mut sorted: Vec<(f64, NodeId)> = candidates
            .iter()
            .map(|&c| {
                let np = Self::nodepool_of(world, c);
                let expire = self.cfg.node_pools[np].expire_after;
                (disruption_cost(world, c, now, expire), c)
            })
            .collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        sorted.into_iter().find_map(|(_, c)| {
            if budget[Self::nodepool_of(world, c)] == 0 {
                return None;
            }
            let outcome = simulate(
                world,
                &self.cfg,
                &self.fits,
                offered,
                &[c],
                &self.excluded(world, &[c]),
            );
            Self::command(outcome, vec![c])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{PoolId, WorkloadId};
    use crate::scenario::load_str;
    use std::path::Path;

    /// Three c6i.xlarge nodes with one 1-core pod each, launched at t=0.
    fn spread_thin() -> (World, Karpenter) {
        let yaml = "name: t\nduration: 1h\ncluster:\n  pools: []\nkarpenter:\n  nodePools:\n    - {name: default, provider: aws, instanceTypes: [c6i.large, c6i.xlarge]}\nworkloads:\n  - name: web\n    replicas: 0\n    template:\n      spec:\n        containers:\n          - name: app\n            resources:\n              requests: {cpu: \"1\", memory: 1Gi}\n";
        let s = load_str("t.yaml", yaml, Path::new("."), &[]).expect("valid scenario");
        let mut world = World::new(&s);
        let xlarge = world
            .pools
            .iter()
            .position(|p| p.instance_type == "c6i.xlarge")
            .expect("pool") as u32;
        for _ in 0..3 {
            let node = world.add_node(PoolId(xlarge), SimTime::ZERO);
            let pod = world.create_pod(WorkloadId(0), SimTime::ZERO);
            world.bind(pod, node);
        }
        let k = Karpenter::new(s.karpenter.expect("karpenter"), &world);
        (world, k)
    }

    #[test]
    fn multi_node_consolidation_replaces_three_thin_nodes_with_one() {
        let (world, mut k) = spread_thin();
        let t = SimTime::from_secs(100);
        // Budgets: the default 10% of 3 nodes rounds up to 1, which would cap the prefix.
        for np in &mut k.cfg.node_pools {
            np.budgets[0].nodes = config::BudgetNodes::Percent(100);
        }
        assert!(
            k.disrupt(&world, t, &[], &[vec![]]).is_empty(),
            "validating first"
        );
        assert_eq!(k.next_poll(t), t.saturating_add(COMMAND_VALIDATION_DELAY));
        let cmds = k.disrupt(&world, k.next_poll(t), &[], &[vec![]]);
        assert_eq!(cmds.len(), 1);
        let c = &cmds[0];
        assert_eq!(c.reason, Reason::Underutilized);
        assert_eq!(c.candidates.len(), 3);
        // Three cores fit one c6i.xlarge ($0.17/h) for $0.51/h of nodes.
        let pool = c.replacement.expect("a replacement");
        assert_eq!(world.pools[pool as usize].instance_type, "c6i.xlarge");
    }

    #[test]
    fn the_default_budget_limits_consolidation_to_one_node_at_a_time() {
        let (world, mut k) = spread_thin();
        let t = SimTime::from_secs(100);
        k.disrupt(&world, t, &[], &[vec![]]);
        let cmds = k.disrupt(&world, k.next_poll(t), &[], &[vec![]]);
        // 10% of 3 → 1: single-node consolidation deletes one node (its pod fits the
        // others' spare cores).
        assert_eq!(cmds.len(), 1);
        assert_eq!(cmds[0].candidates.len(), 1);
        assert_eq!(cmds[0].replacement, None);
    }

    #[test]
    fn a_pdb_that_allows_no_disruption_keeps_every_node() {
        let (world, mut k) = spread_thin();
        let t = SimTime::from_secs(100);
        assert!(k.disrupt(&world, t, &[0], &[vec![0]]).is_empty());
        assert!(k.validating.is_none());
    }
}
