//! kube-scheduler: the scheduling framework's cycle over a profile of Filter and Score
//! plugins, with the scheduling queue, node sampling and random tie-breaking.
//!
//! Upstream: kubernetes/kubernetes `pkg/scheduler/schedule_one.go` (`schedulePod`,
//! `findNodesThatPassFilters`, `numFeasibleNodesToFind`, `prioritizeNodes`, `selectHost`),
//! `pkg/scheduler/framework/runtime/framework.go` (plugin order, normalize, weights),
//! `pkg/scheduler/backend/queue/scheduling_queue.go` (queue), plugins under
//! `pkg/scheduler/framework/plugins/` (see [`plugins`]).
//!
//! Follows upstream in: Filter plugins in profile order, the first failing plugin deciding
//! a node's reason; nodes visited round-robin from where the previous cycle stopped, until
//! `numFeasibleNodesToFind` feasible nodes are found; one feasible node is chosen without
//! scoring; scores normalized per plugin, multiplied by weights and summed; a uniform
//! seeded choice among nodes tied at the top; activeQ ordered by priority then queue time;
//! back-off 1 s → 10 s; re-queue on node-added and pod-deleted events; the 5-minute flush.
//!
//! PostFilter is DefaultPreemption ([`preemption`]).
//!
//! Simplified: PreFilter/PreScore exist only as per-pod precomputation ([`PodInfo`]);
//! VolumeBinding (dynamic provisioning) is not modelled; nodes are visited
//! sequentially (upstream checks 16 in parallel and
//! may overshoot the count); binding is instantaneous and never fails.

pub mod interpod;
pub mod plugins;
pub mod preemption;
pub mod profile;
pub mod queue;
pub mod spread;

use crate::cluster::labels::{Interner, LabelId, Requirement, Term};
use crate::cluster::world::{INSTANCE_TYPE_LABEL, NAME_FIELD, POOL_LABEL, ZONE_LABEL};
use crate::cluster::{NodeId, PodId, PodState, World};
use crate::engine::{SimRng, SimTime};
use crate::metrics::Recorder;
use crate::metrics::events::{EventKind, FitReason};
use crate::scenario::{
    PodSelector, PoolSpec, SelectorTerm, SpreadConstraint, TaintEffect, WorkloadSpec,
};
use plugins::PodInfo;
use profile::{FilterPlugin, Profile, Resource, ScorePlugin, Strategy, num_feasible_nodes_to_find};
use queue::SchedulingQueue;
use rand::RngExt;

/// For every (workload, pool): why its pods could never run on the pool's nodes (first
/// reason, empty when they can), and whether they can. The autoscalers decide which node
/// groups could help a pending pod from it.
pub fn fit_matrix(world: &World) -> (Vec<Vec<bool>>, Vec<Vec<String>>) {
    let misfit: Vec<Vec<String>> = world
        .specs
        .iter()
        .map(|w| {
            world
                .pools
                .iter()
                .map(|p| {
                    static_fit_reasons(w, p, &world.resource_names)
                        .into_iter()
                        .next()
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect();
    let fits = misfit
        .iter()
        .map(|row| row.iter().map(String::is_empty).collect())
        .collect();
    (fits, misfit)
}

/// Why a pod of `w` could never run on an empty node of `pool`, in upstream wording; empty
/// when it fits. Validation uses it to reject hopeless scenarios before they run (pool-level
/// checks only: taints, nodeSelector, resources).
pub fn static_fit_reasons(
    w: &WorkloadSpec,
    pool: &PoolSpec,
    resource_names: &[String],
) -> Vec<String> {
    let mut reasons = Vec::new();
    if let Some(t) = pool.taints.iter().find(|t| {
        t.effect != TaintEffect::PreferNoSchedule
            && !w.tolerations.iter().any(|tol| tol.tolerates(t))
    }) {
        reasons.push(format!("untolerated taint {{{}: {}}}", t.key, t.value));
        return reasons;
    }
    let selector_ok = w.node_selector.iter().all(|(k, v)| match k.as_str() {
        ZONE_LABEL => pool.zones.iter().any(|z| z == v),
        INSTANCE_TYPE_LABEL => pool.instance_type == *v,
        POOL_LABEL => pool.name == *v,
        "kubernetes.io/hostname" => true,
        _ => pool.labels.iter().any(|(lk, lv)| lk == k && lv == v),
    });
    if !selector_ok {
        reasons.push("didn't match Pod's node affinity/selector".to_string());
        return reasons;
    }
    if let Some((_, zones)) = w.volume_zones.iter().find(|(k, _)| k == ZONE_LABEL)
        && !pool.zones.is_empty()
        && !pool.zones.iter().any(|z| zones.contains(z))
    {
        reasons.push("had no available volume zone".to_string());
        return reasons;
    }
    // What an empty node leaves once its DaemonSet pods run.
    let (cpu, memory) = (
        pool.cpu_milli.saturating_sub(pool.daemon_cpu_milli),
        pool.memory_bytes.saturating_sub(pool.daemon_memory_bytes),
    );
    if pool.max_pods <= pool.daemon_pods {
        reasons.push("Too many pods".to_string());
    }
    if w.cpu_request_milli > cpu {
        reasons.push(format!("Insufficient cpu (node has {cpu}m)"));
    }
    if w.memory_request_bytes > memory {
        reasons.push(format!("Insufficient memory (node has {memory} bytes)"));
    }
    for &(r, q) in &w.extra_requests {
        let has = pool
            .extra_allocatable
            .iter()
            .find(|e| e.0 == r)
            .map_or(0, |e| e.1);
        if q > has {
            let name = resource_names.get(r as usize).map_or("?", String::as_str);
            reasons.push(format!("Insufficient {name} (node has {has})"));
        }
    }
    reasons
}

fn compile_term(interner: &mut Interner, term: &SelectorTerm) -> Term {
    let mut reqs = Vec::new();
    for r in &term.expressions {
        for v in &r.values {
            interner.intern(v);
        }
        interner.intern(&r.key);
        reqs.push(Requirement::compile(interner, &r.key, r.op, &r.values));
    }
    for r in &term.fields {
        for v in &r.values {
            interner.intern(v);
        }
        reqs.push(Requirement::compile(interner, NAME_FIELD, r.op, &r.values));
    }
    Term(reqs)
}

/// Compiles a workload's topology spread terms: its own constraints, or else the profile's
/// defaults with the workload's own selector (upstream derives it from the owning
/// ReplicaSet).
fn compile_spread(
    world: &mut World,
    w: usize,
    profile: &Profile,
) -> (Vec<spread::SpreadTerm>, bool) {
    let spec = world.specs[w].clone();
    let explicit = !spec.spread.is_empty();
    let constraints: Vec<SpreadConstraint> = if explicit {
        spec.spread.clone()
    } else if spec.labels.is_empty() {
        Vec::new()
    } else {
        let selector = PodSelector {
            match_labels: spec.labels.clone(),
            expressions: Vec::new(),
        };
        profile
            .default_spread
            .iter()
            .map(|(key, max_skew, hard)| SpreadConstraint {
                max_skew: *max_skew,
                topology_key: key.clone(),
                hard: *hard,
                selector: selector.clone(),
                min_domains: None,
                honor_affinity: true,
                honor_taints: false,
            })
            .collect()
    };
    let terms = constraints
        .into_iter()
        .map(|c| {
            let group = world.spread_group(&c.selector);
            spread::SpreadTerm {
                group,
                key: world.spread_key(&c.topology_key),
                hostname: c.topology_key == crate::cluster::world::HOSTNAME_LABEL,
                max_skew: i64::from(c.max_skew),
                hard: c.hard,
                min_domains: c.min_domains.unwrap_or(1) as usize,
                self_match: world.spread.workload_matches(w, group),
                honor_affinity: c.honor_affinity,
                honor_taints: c.honor_taints,
            }
        })
        .collect();
    (terms, explicit)
}

/// Compiles a workload's scheduling-relevant fields against the World's label ids. Values
/// are interned (not just looked up) so nodes added later can still match them.
pub fn compile_pod(spec: &WorkloadSpec, interner: &mut Interner) -> PodInfo {
    let unschedulable_taint = crate::scenario::Taint {
        key: "node.kubernetes.io/unschedulable".to_string(),
        value: String::new(),
        effect: TaintEffect::NoSchedule,
    };
    PodInfo {
        extra_requests: spec.extra_requests.clone(),
        volume_zones: spec
            .volume_zones
            .iter()
            .map(|(k, values)| {
                let ga = k
                    .strip_prefix("failure-domain.beta.kubernetes.io/")
                    .map(|rest| interner.intern(&format!("topology.kubernetes.io/{rest}")));
                (
                    interner.intern(k),
                    ga,
                    values.iter().map(|v| interner.intern(v)).collect(),
                )
            })
            .collect(),
        volume_topology_keys: if spec.volume_zones.is_empty() {
            Vec::new()
        } else {
            [
                "topology.kubernetes.io/zone",
                "topology.kubernetes.io/region",
                "failure-domain.beta.kubernetes.io/zone",
                "failure-domain.beta.kubernetes.io/region",
            ]
            .iter()
            .map(|k| interner.intern(k))
            .collect()
        },
        images: spec.images.clone(),
        containers: i64::from(spec.containers),
        cpu_milli: spec.cpu_request_milli as i64,
        memory_bytes: spec.memory_request_bytes as i64,
        cpu_nonzero_milli: spec.cpu_nonzero_milli as i64,
        memory_nonzero_bytes: spec.memory_nonzero_bytes as i64,
        tolerations: spec.tolerations.clone(),
        node_selector: spec
            .node_selector
            .iter()
            .map(|(k, v)| (interner.intern(k), interner.intern(v)))
            .collect(),
        required: spec
            .node_affinity
            .required
            .as_ref()
            .map(|terms| terms.iter().map(|t| compile_term(interner, t)).collect()),
        preferred: spec
            .node_affinity
            .preferred
            .iter()
            .map(|(w, t)| (*w, compile_term(interner, t)))
            .collect(),
        host_ports: spec.host_ports.clone(),
        node_name: spec.node_name.as_ref().map(|n| interner.intern(n)),
        tolerates_unschedulable: spec
            .tolerations
            .iter()
            .any(|t| t.tolerates(&unschedulable_taint)),
        spread: Vec::new(),
        spread_explicit: false,
        interpod: interpod::Compiled::default(),
    }
}

/// A workload's compiled pod, for tests that call plugins directly.
#[cfg(test)]
pub(crate) fn pod_info_for(world: &mut World, w: usize) -> PodInfo {
    compile_pod(&world.specs[w], &mut world.interner)
}

/// The outcome of one pod's scheduling attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Bind to this node.
    Bind(NodeId),
    /// No node fits; the reasons counted over the nodes checked.
    Unschedulable(Vec<(FitReason, u32)>),
}

/// Reusable per-cycle buffers, so scheduling a pod allocates nothing.
#[derive(Debug, Default)]
struct Scratch {
    feasible: Vec<NodeId>,
    raw: Vec<i64>,
    totals: Vec<i64>,
    reasons: Vec<(FitReason, u32)>,
    spread: spread::SpreadState,
    interpod: interpod::State,
    /// Nodes that failed on resources, host ports or spreading skew (upstream's
    /// `Unschedulable`, as opposed to `UnschedulableAndUnresolvable`): preemption may help.
    resolvable: Vec<NodeId>,
    /// The subset of `resolvable` that failed on spreading skew or anti-affinity, with why.
    skewed: Vec<(NodeId, FitReason)>,
}

/// The scheduler: profile, compiled pods, queue, round-robin position and random stream.
#[derive(Debug)]
pub struct Scheduler {
    profile: Profile,
    pods: Vec<PodInfo>,
    queue: SchedulingQueue,
    next_start: usize,
    rng: SimRng,
    name_key: Option<LabelId>,
    scratch: Scratch,
    /// PodDisruptionBudgets each workload's pods fall under, by workload index.
    workload_budgets: Vec<Vec<u32>>,
    /// Workloads each budget selects, by budget index.
    budget_members: Vec<Vec<u32>>,
}

impl Scheduler {
    /// A scheduler for `world`'s workloads under `profile`.
    pub fn new(profile: Profile, rng: SimRng, world: &mut World) -> Scheduler {
        let mut pods: Vec<PodInfo> = Vec::with_capacity(world.specs.len());
        for w in 0..world.specs.len() {
            let mut info = compile_pod(&world.specs[w].clone(), &mut world.interner);
            let uses_spread = profile.filters.contains(&FilterPlugin::PodTopologySpread)
                || profile
                    .scores
                    .iter()
                    .any(|s| s.0 == ScorePlugin::PodTopologySpread);
            if uses_spread {
                (info.spread, info.spread_explicit) = compile_spread(world, w, &profile);
            }
            let uses_interpod = profile.filters.contains(&FilterPlugin::InterPodAffinity)
                || profile
                    .scores
                    .iter()
                    .any(|s| s.0 == ScorePlugin::InterPodAffinity);
            if uses_interpod {
                info.interpod = interpod::compile(world, w);
            }
            pods.push(info);
        }
        let name_key = Some(world.interner.intern(NAME_FIELD));
        let budget_members: Vec<Vec<u32>> = world
            .disruption_budgets
            .iter()
            .map(|b| {
                (0..world.specs.len() as u32)
                    .filter(|&w| b.selector.matches(&world.specs[w as usize].labels))
                    .collect()
            })
            .collect();
        let mut workload_budgets = vec![Vec::new(); world.specs.len()];
        for (b, members) in budget_members.iter().enumerate() {
            for &w in members {
                workload_budgets[w as usize].push(b as u32);
            }
        }
        Scheduler {
            profile,
            pods,
            queue: SchedulingQueue::default(),
            next_start: 0,
            rng,
            name_key,
            scratch: Scratch::default(),
            workload_budgets,
            budget_members,
        }
    }

    /// `disruptionsAllowed` of every PodDisruptionBudget now, and the budgets covering each
    /// workload (what the cluster autoscaler's drain simulation must respect).
    pub fn disruption_state(&self, world: &World) -> (Vec<i64>, &[Vec<u32>]) {
        (
            preemption::disruptions_allowed(world, &world.disruption_budgets, &self.budget_members),
            &self.workload_budgets,
        )
    }

    /// The profile in use.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Adds a new pod to activeQ.
    pub fn enqueue(&mut self, world: &mut World, pod: PodId, now: SimTime) {
        self.queue.push_active(world, pod, now);
    }

    /// True when a scheduling cycle has work.
    pub fn has_active(&self) -> bool {
        self.queue.active_len() > 0
    }

    /// Pods parked after failed attempts.
    pub fn waiting_len(&self) -> usize {
        self.queue.waiting_len()
    }

    /// True when the unschedulable set needs its periodic flush.
    pub fn has_unschedulable(&self) -> bool {
        self.queue.has_unschedulable()
    }

    /// When the earliest back-off ends.
    pub fn next_backoff_end(&self) -> Option<SimTime> {
        self.queue.next_backoff_end()
    }

    /// A node was added or a pod deleted: retry parked pods (after their back-off).
    pub fn on_cluster_change(&mut self, world: &mut World, now: SimTime) {
        self.queue.move_all(world, now);
    }

    /// Periodic housekeeping: back-offs that ended, pods parked for 5 minutes.
    pub fn flush(&mut self, world: &mut World, now: SimTime) {
        self.queue.flush_unschedulable(world, now);
        self.queue.flush_backoff(world, now);
    }

    /// Schedules every pod in activeQ once, in queue order; bound pods go to `bound`, pods
    /// deleted by preemption to `preempted` (their owners must replace them).
    pub fn run_cycle(
        &mut self,
        world: &mut World,
        now: SimTime,
        recorder: &mut Recorder,
        bound: &mut Vec<PodId>,
        preempted: &mut Vec<PodId>,
    ) {
        while let Some(pod) = self.queue.pop() {
            if world.pods[pod.0 as usize].state != PodState::Pending {
                continue; // deleted while queued
            }
            let decision = self.schedule_one(world, pod);
            let p = &mut world.pods[pod.0 as usize];
            p.attempts += 1;
            p.last_attempt = now;
            match decision {
                Decision::Bind(node) => {
                    if p.unschedulable_since.is_some() {
                        recorder.unschedulable_changed(now, -1);
                    }
                    world.bind(pod, node);
                    recorder.event(now, EventKind::Scheduled { pod, node });
                    bound.push(pod);
                }
                Decision::Unschedulable(reasons) => {
                    if p.unschedulable_since.is_none() {
                        p.unschedulable_since = Some(now);
                        recorder.unschedulable_changed(now, 1);
                    }
                    let nodes = world.live_nodes.len() as u32;
                    let outcome = if self.profile.preemption {
                        Some(self.post_filter(world, pod))
                    } else {
                        None
                    };
                    let failure = match &outcome {
                        Some(Err(f)) => Some(f.clone()),
                        _ => None,
                    };
                    recorder.event(
                        now,
                        EventKind::FailedScheduling {
                            pod,
                            nodes,
                            reasons,
                            preemption: failure,
                        },
                    );
                    match outcome {
                        Some(Ok(candidate)) => {
                            for &victim in &candidate.victims {
                                recorder.event(
                                    now,
                                    EventKind::Preempted {
                                        victim,
                                        by: pod,
                                        node: candidate.node,
                                    },
                                );
                                world.delete_pod(victim, now);
                                preempted.push(victim);
                            }
                            // The victims are gone at once (no grace period is modelled), so
                            // the preemptor binds to its nominated node now: what upstream's
                            // next cycle does, with nominated pods keeping others off the node.
                            let p = &mut world.pods[pod.0 as usize];
                            p.unschedulable_since = None;
                            recorder.unschedulable_changed(now, -1);
                            world.bind(pod, candidate.node);
                            recorder.event(
                                now,
                                EventKind::Scheduled {
                                    pod,
                                    node: candidate.node,
                                },
                            );
                            bound.push(pod);
                        }
                        _ => self.queue.add_unschedulable(pod),
                    }
                }
            }
        }
    }

    /// DefaultPreemption for a pod the last cycle found no node for.
    fn post_filter(
        &mut self,
        world: &World,
        pod: PodId,
    ) -> Result<preemption::Candidate, preemption::PreemptionFailure> {
        let w = world.pods[pod.0 as usize].workload.0 as usize;
        let spec = &world.specs[w];
        if !spec.preempts {
            return Err(preemption::PreemptionFailure::Never);
        }
        let priority = spec.priority;
        let potential = &self.scratch.resolvable;
        // No pod of lower priority runs anywhere: no node can have victims.
        let any_lower = world.specs.iter().enumerate().any(|(v, s)| {
            s.priority < priority
                && world.workloads[v]
                    .active
                    .iter()
                    .any(|p| world.pods[p.0 as usize].node.is_some())
        });
        if !any_lower {
            let mut why = Vec::new();
            let unhelpful = (world.live_nodes.len() - potential.len()) as u32;
            if unhelpful > 0 {
                why.push((preemption::PreemptReason::NotHelpful, unhelpful));
            }
            if !potential.is_empty() {
                why.push((preemption::PreemptReason::NoVictims, potential.len() as u32));
            }
            return Err(preemption::PreemptionFailure::Nodes(why));
        }
        let allowed =
            preemption::disruptions_allowed(world, &world.disruption_budgets, &self.budget_members);
        let attempt = preemption::Attempt {
            world,
            pod: &self.pods[w],
            priority,
            workload_budgets: &self.workload_budgets,
            allowed: &allowed,
            potential,
            skewed: &self.scratch.skewed,
            nodes: world.live_nodes.len(),
        };
        preemption::preempt(&attempt, &mut self.rng)
    }

    /// One `schedulePod`: filter (sampled, round-robin), score, select.
    pub fn schedule_one(&mut self, world: &World, pod: PodId) -> Decision {
        let info = &self.pods[world.pods[pod.0 as usize].workload.0 as usize];
        let n = world.live_nodes.len();
        let sc = &mut self.scratch;
        sc.feasible.clear();
        sc.reasons.clear();
        sc.resolvable.clear();
        sc.skewed.clear();
        if n == 0 {
            return Decision::Unschedulable(Vec::new());
        }
        let to_find = if self.profile.scores.is_empty() {
            1
        } else {
            num_feasible_nodes_to_find(self.profile.percentage_of_nodes_to_score, n as u32) as usize
        };
        // PreFilter: drop the filters that cannot reject this pod, so the per-node loop
        // runs only the checks that matter.
        let mut filters = [FilterPlugin::NodeResourcesFit; FilterPlugin::ALL.len()];
        let mut n_filters = 0;
        for &f in &self.profile.filters {
            let noop = match f {
                FilterPlugin::NodeUnschedulable => world.cordoned_nodes == 0,
                FilterPlugin::TaintToleration => world.hard_tainted_nodes == 0,
                FilterPlugin::NodeName => info.node_name.is_none(),
                FilterPlugin::NodeAffinity => {
                    info.node_selector.is_empty() && info.required.is_none()
                }
                FilterPlugin::NodePorts => info.host_ports.is_empty(),
                FilterPlugin::PodTopologySpread => !info.spread.iter().any(|t| t.hard),
                FilterPlugin::InterPodAffinity => !info.interpod.filters(),
                FilterPlugin::VolumeZone => info.volume_zones.is_empty(),
                _ => false,
            };
            if !noop && n_filters < filters.len() {
                filters[n_filters] = f;
                n_filters += 1;
            }
        }
        let filters = &filters[..n_filters];
        if filters.contains(&FilterPlugin::PodTopologySpread) {
            sc.spread.prefilter(world, info, &info.spread);
        }
        if filters.contains(&FilterPlugin::InterPodAffinity) {
            sc.interpod.prefilter(world, &info.interpod);
        }
        let only_fit = filters == [FilterPlugin::NodeResourcesFit];
        let mut processed = 0;
        let mut next = self.next_start % n;
        for _ in 0..n {
            let id = world.live_nodes[next];
            next += 1;
            if next == n {
                next = 0; // wrap without a division per node
            }
            processed += 1;
            // The common case, resources the only check left: no dispatch per node.
            let verdict = if only_fit {
                match plugins::fit_filter(&world.nodes[id.0 as usize], info) {
                    0 => Ok(()),
                    bits => Err(Failure::Fit(bits)),
                }
            } else {
                run_filters(
                    filters,
                    world,
                    id,
                    info,
                    self.name_key,
                    &sc.spread,
                    &sc.interpod,
                )
            };
            match verdict {
                Ok(()) => {
                    sc.feasible.push(id);
                    if sc.feasible.len() >= to_find {
                        break;
                    }
                }
                Err(Failure::One(r)) => {
                    if r == FitReason::NodePorts {
                        sc.resolvable.push(id);
                    } else if matches!(
                        r,
                        FitReason::TopologySpreadMismatch
                            | FitReason::PodAntiAffinityMismatch
                            | FitReason::ExistingAntiAffinity
                    ) {
                        // Upstream's `Unschedulable`: candidates, though removing victims
                        // is not re-evaluated for these filters (see preemption.rs).
                        sc.resolvable.push(id);
                        sc.skewed.push((id, r));
                    }
                    count(&mut sc.reasons, r)
                }
                Err(Failure::Fit(bits)) => {
                    sc.resolvable.push(id);
                    let reasons = &mut sc.reasons;
                    plugins::fit_reasons(bits, &world.nodes[id.0 as usize], info, |r| {
                        count(reasons, r)
                    });
                }
            }
        }
        self.next_start = (self.next_start + processed) % n;
        match sc.feasible.len() {
            0 => return Decision::Unschedulable(sc.reasons.clone()),
            1 => return Decision::Bind(sc.feasible[0]),
            _ => {}
        }
        sc.totals.clear();
        sc.totals.resize(sc.feasible.len(), 0);
        for &(plugin, weight) in &self.profile.scores {
            add_scores(
                &self.profile,
                plugin,
                weight,
                world,
                info,
                &sc.feasible,
                &mut sc.raw,
                &mut sc.totals,
            );
        }
        // selectHost: uniform among the nodes tied at the top score (reservoir sampling).
        let mut best = 0;
        let mut ties = 0u32;
        for i in 0..sc.feasible.len() {
            if i == 0 || sc.totals[i] > sc.totals[best] {
                best = i;
                ties = 1;
            } else if sc.totals[i] == sc.totals[best] {
                ties += 1;
                if self.rng.random_range(0..ties) == 0 {
                    best = i;
                }
            }
        }
        Decision::Bind(sc.feasible[best])
    }
}

/// One plugin's contribution to a node's score, for `explain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginScore {
    /// The plugin.
    pub plugin: ScorePlugin,
    /// Score before NormalizeScore.
    pub raw: i64,
    /// Score after NormalizeScore (0..100).
    pub normalized: i64,
    /// The profile's weight.
    pub weight: i64,
}

/// One node's verdict, for `explain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeVerdict {
    /// The node.
    pub node: NodeId,
    /// Why it was filtered out (empty when feasible).
    pub reasons: Vec<FitReason>,
    /// Per-plugin scores (feasible nodes only; plugins skipped by PreScore are absent).
    pub scores: Vec<PluginScore>,
    /// Σ normalized × weight.
    pub total: i64,
}

/// A scheduling decision laid open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// Every node in the order checked.
    pub nodes: Vec<NodeVerdict>,
    /// The node the scheduler picks.
    pub selected: Option<NodeId>,
}

impl Scheduler {
    /// Runs the full cycle for `pod` and records every step: all filters on every node (or,
    /// with `sample`, the nodes upstream's `percentageOfNodesToScore` would check), then every
    /// score plugin's raw and normalized score on the feasible nodes.
    pub fn explain(&mut self, world: &World, pod: PodId, sample: bool) -> Explanation {
        let info = &self.pods[world.pods[pod.0 as usize].workload.0 as usize];
        let n = world.live_nodes.len();
        let mut state = spread::SpreadState::default();
        if self
            .profile
            .filters
            .contains(&FilterPlugin::PodTopologySpread)
            && info.spread.iter().any(|t| t.hard)
        {
            state.prefilter(world, info, &info.spread);
        }
        let mut interpod_state = interpod::State::default();
        if self
            .profile
            .filters
            .contains(&FilterPlugin::InterPodAffinity)
            && info.interpod.filters()
        {
            interpod_state.prefilter(world, &info.interpod);
        }
        let to_find = if sample {
            num_feasible_nodes_to_find(self.profile.percentage_of_nodes_to_score, n as u32) as usize
        } else {
            n
        };
        let mut verdicts = Vec::new();
        let mut feasible = Vec::new();
        for i in 0..n {
            let id = world.live_nodes[(self.next_start + i) % n.max(1)];
            let reasons = match run_filters(
                &self.profile.filters,
                world,
                id,
                info,
                self.name_key,
                &state,
                &interpod_state,
            ) {
                Ok(()) => {
                    feasible.push(id);
                    Vec::new()
                }
                Err(Failure::One(r)) => vec![r],
                Err(Failure::Fit(bits)) => {
                    let mut reasons = Vec::new();
                    plugins::fit_reasons(bits, &world.nodes[id.0 as usize], info, |r| {
                        reasons.push(r)
                    });
                    reasons
                }
            };
            verdicts.push(NodeVerdict {
                node: id,
                reasons,
                scores: Vec::new(),
                total: 0,
            });
            if feasible.len() >= to_find {
                break;
            }
        }
        let (mut raw, mut before) = (Vec::new(), Vec::new());
        for &(plugin, weight) in &self.profile.scores {
            if feasible.is_empty()
                || !score_plugin(
                    &self.profile,
                    plugin,
                    world,
                    info,
                    &feasible,
                    &mut raw,
                    Some(&mut before),
                )
            {
                continue;
            }
            for (k, node) in feasible.iter().enumerate() {
                if let Some(v) = verdicts.iter_mut().find(|v| v.node == *node) {
                    v.scores.push(PluginScore {
                        plugin,
                        raw: before[k],
                        normalized: raw[k],
                        weight,
                    });
                    v.total += raw[k] * weight;
                }
            }
        }
        // selectHost over the feasible nodes, in the order checked.
        let mut selected: Option<(NodeId, i64)> = None;
        let mut ties = 0u32;
        for v in verdicts.iter().filter(|v| v.reasons.is_empty()) {
            match selected {
                Some((_, best)) if v.total < best => {}
                Some((_, best)) if v.total == best => {
                    ties += 1;
                    if self.rng.random_range(0..ties) == 0 {
                        selected = Some((v.node, v.total));
                    }
                }
                _ => {
                    selected = Some((v.node, v.total));
                    ties = 1;
                }
            }
        }
        Explanation {
            nodes: verdicts,
            selected: selected.map(|s| s.0),
        }
    }
}

enum Failure {
    One(FitReason),
    Fit(u8),
}

fn count(reasons: &mut Vec<(FitReason, u32)>, reason: FitReason) {
    match reasons.iter_mut().find(|(r, _)| *r == reason) {
        Some((_, n)) => *n += 1,
        None => reasons.push((reason, 1)),
    }
}

fn run_filters(
    filters: &[FilterPlugin],
    world: &World,
    id: NodeId,
    pod: &PodInfo,
    name_key: Option<LabelId>,
    spread_state: &spread::SpreadState,
    interpod_state: &interpod::State,
) -> Result<(), Failure> {
    let node = &world.nodes[id.0 as usize];
    for f in filters {
        let r = match f {
            FilterPlugin::NodeUnschedulable => plugins::node_unschedulable(node, pod),
            FilterPlugin::NodeName => plugins::node_name(node, pod, name_key),
            FilterPlugin::TaintToleration => {
                plugins::taint_toleration_filter(node, pod, node.pool.0)
            }
            FilterPlugin::NodeAffinity => plugins::node_affinity_filter(node, pod, &world.interner),
            FilterPlugin::NodePorts => plugins::node_ports(node, pod),
            FilterPlugin::PodTopologySpread => spread_state.filter(world, id, &pod.spread),
            FilterPlugin::InterPodAffinity => interpod_state.filter(world, id, &pod.interpod),
            FilterPlugin::VolumeZone => plugins::volume_zone(node, pod),
            FilterPlugin::NodeResourcesFit => {
                let bits = plugins::fit_filter(node, pod);
                if bits != 0 {
                    return Err(Failure::Fit(bits));
                }
                Ok(())
            }
        };
        r.map_err(Failure::One)?;
    }
    Ok(())
}

/// Adds one plugin's weighted, normalized scores to `totals`. Equivalent to
/// [`score_plugin`] for choosing a node, but skips plugins whose score is the same on every
/// candidate (it cannot change the choice) and accumulates NodeResourcesFit directly, so the
/// hot path reads each node once per plugin and allocates nothing.
#[allow(clippy::too_many_arguments)]
fn add_scores(
    profile: &Profile,
    plugin: ScorePlugin,
    weight: i64,
    world: &World,
    pod: &PodInfo,
    feasible: &[NodeId],
    raw: &mut Vec<i64>,
    totals: &mut [i64],
) {
    match plugin {
        // No preferred terms: every node scores 0.
        ScorePlugin::NodeAffinity if pod.preferred.is_empty() => {}
        // No image with a known size: every node scores 0.
        ScorePlugin::ImageLocality if pod.images.is_empty() => {}
        // No taints on any candidate: every node normalizes to 100.
        ScorePlugin::TaintToleration
            if feasible
                .iter()
                .all(|id| world.nodes[id.0 as usize].taints.is_empty()) => {}
        ScorePlugin::NodeResourcesFit
            if profile.fit_resources == [(Resource::Cpu, 1), (Resource::Memory, 1)]
                && matches!(
                    profile.fit_strategy,
                    Strategy::LeastAllocated | Strategy::MostAllocated
                ) =>
        {
            // The default weights: the same integer arithmetic as fit_score, without the
            // per-resource loop.
            let scorer = if profile.fit_strategy == Strategy::LeastAllocated {
                plugins::least_requested_score
            } else {
                plugins::most_requested_score
            };
            for (t, id) in totals.iter_mut().zip(feasible) {
                let n = &world.nodes[id.0 as usize];
                let (cpu_alloc, mem_alloc) = (
                    n.cpu_allocatable_milli as i64,
                    n.memory_allocatable_bytes as i64,
                );
                let cpu = scorer(
                    n.cpu_nonzero_milli as i64 + pod.cpu_nonzero_milli,
                    cpu_alloc,
                );
                let mem = scorer(
                    n.memory_nonzero_bytes as i64 + pod.memory_nonzero_bytes,
                    mem_alloc,
                );
                let score = match (cpu_alloc > 0, mem_alloc > 0) {
                    (true, true) => (cpu + mem) / 2,
                    (true, false) => cpu,
                    (false, true) => mem,
                    (false, false) => 0,
                };
                *t += weight * score;
            }
        }
        ScorePlugin::NodeResourcesFit => {
            let nodes = feasible.iter().map(|id| &world.nodes[id.0 as usize]);
            for (t, n) in totals.iter_mut().zip(nodes) {
                *t += weight
                    * plugins::fit_score(
                        &profile.fit_strategy,
                        &profile.fit_resources,
                        [
                            n.cpu_nonzero_milli as i64 + pod.cpu_nonzero_milli,
                            n.memory_nonzero_bytes as i64 + pod.memory_nonzero_bytes,
                        ],
                        [
                            n.cpu_allocatable_milli as i64,
                            n.memory_allocatable_bytes as i64,
                        ],
                    );
            }
        }
        ScorePlugin::NodeResourcesBalancedAllocation
            if profile.balanced_resources == [Resource::Cpu, Resource::Memory]
                && (pod.cpu_milli > 0 || pod.memory_bytes > 0) =>
        {
            // The default two-resource case, same arithmetic as balanced_allocation_score.
            for (t, id) in totals.iter_mut().zip(feasible) {
                let n = &world.nodes[id.0 as usize];
                let cpu_alloc = n.cpu_allocatable_milli as i64;
                let mem_alloc = n.memory_allocatable_bytes as i64;
                let score = if cpu_alloc > 0 && mem_alloc > 0 {
                    let fc = ((n.cpu_requested_milli as i64 + pod.cpu_milli) as f64
                        / cpu_alloc as f64)
                        .min(1.0);
                    let fm = ((n.memory_requested_bytes as i64 + pod.memory_bytes) as f64
                        / mem_alloc as f64)
                        .min(1.0);
                    ((1.0 - (fc - fm).abs() / 2.0) * plugins::MAX_NODE_SCORE as f64) as i64
                } else {
                    plugins::MAX_NODE_SCORE
                };
                *t += weight * score;
            }
        }
        _ => {
            if score_plugin(profile, plugin, world, pod, feasible, raw, None) {
                for (t, r) in totals.iter_mut().zip(raw.iter()) {
                    *t += r * weight;
                }
            }
        }
    }
}

/// Runs one score plugin (with its PreScore and NormalizeScore) over the feasible nodes into
/// `raw`; `before`, when given, receives the scores before NormalizeScore (for `explain`).
/// Returns false when PreScore skips the plugin for this pod.
pub(crate) fn score_plugin(
    profile: &Profile,
    plugin: ScorePlugin,
    world: &World,
    pod: &PodInfo,
    feasible: &[NodeId],
    raw: &mut Vec<i64>,
    mut before: Option<&mut Vec<i64>>,
) -> bool {
    raw.clear();
    fn keep(before: &mut Option<&mut Vec<i64>>, raw: &[i64]) {
        if let Some(b) = before.as_deref_mut() {
            b.clear();
            b.extend_from_slice(raw);
        }
    }
    let nodes = feasible.iter().map(|id| &world.nodes[id.0 as usize]);
    match plugin {
        ScorePlugin::TaintToleration => {
            raw.extend(nodes.map(|n| plugins::taint_toleration_score(n, pod)));
            keep(&mut before, raw);
            plugins::default_normalize(raw, true);
        }
        ScorePlugin::NodeAffinity => {
            raw.extend(nodes.map(|n| plugins::node_affinity_score(n, pod, &world.interner)));
            keep(&mut before, raw);
            plugins::default_normalize(raw, false);
        }
        ScorePlugin::NodeResourcesFit => {
            raw.extend(nodes.map(|n| {
                plugins::fit_score(
                    &profile.fit_strategy,
                    &profile.fit_resources,
                    [
                        n.cpu_nonzero_milli as i64 + pod.cpu_nonzero_milli,
                        n.memory_nonzero_bytes as i64 + pod.memory_nonzero_bytes,
                    ],
                    [
                        n.cpu_allocatable_milli as i64,
                        n.memory_allocatable_bytes as i64,
                    ],
                )
            }));
            keep(&mut before, raw);
        }
        ScorePlugin::ImageLocality => {
            raw.extend(nodes.map(|n| {
                plugins::image_locality_score(
                    n,
                    pod,
                    &world.image_sizes,
                    &world.image_nodes,
                    world.live_nodes.len(),
                )
            }));
            keep(&mut before, raw);
        }
        ScorePlugin::InterPodAffinity => {
            // PreScore: no preferred terms here and none elsewhere that concern this pod.
            if !pod.interpod.scores() {
                return false;
            }
            interpod::score(world, pod, feasible, raw, before.as_deref_mut());
        }
        ScorePlugin::PodTopologySpread => {
            // PreScore: nothing to score without soft constraints.
            if pod.spread.iter().all(|t| t.hard) {
                return false;
            }
            spread::score(
                world,
                pod,
                &pod.spread,
                pod.spread_explicit,
                feasible,
                raw,
                before.as_deref_mut(),
            );
        }
        ScorePlugin::NodeResourcesBalancedAllocation => {
            // PreScore: a pod that requests none of the resources is skipped.
            let requests_any = profile.balanced_resources.iter().any(|r| match r {
                Resource::Cpu => pod.cpu_milli > 0,
                Resource::Memory => pod.memory_bytes > 0,
            });
            if !requests_any {
                return false;
            }
            let mut fractions = [0.0f64; 2];
            raw.extend(nodes.map(|n| {
                let mut k = 0;
                for r in &profile.balanced_resources {
                    let (req, alloc) = match r {
                        Resource::Cpu => (
                            n.cpu_requested_milli as i64 + pod.cpu_milli,
                            n.cpu_allocatable_milli as i64,
                        ),
                        Resource::Memory => (
                            n.memory_requested_bytes as i64 + pod.memory_bytes,
                            n.memory_allocatable_bytes as i64,
                        ),
                    };
                    if alloc > 0 && k < fractions.len() {
                        fractions[k] = (req as f64 / alloc as f64).min(1.0);
                        k += 1;
                    }
                }
                plugins::balanced_allocation_score(&fractions[..k])
            }));
            keep(&mut before, raw);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::WorkloadId;
    use crate::engine::RngStreams;
    use crate::scenario::load_str;
    use std::path::Path;

    const CLUSTER: &str = r#"
name: oracle
duration: 1m
cluster:
  pools:
    - {name: a, instanceType: m5.xlarge, zones: [z1, z2], count: 6, labels: {disk: ssd}}
    - name: b
      instanceType: r5.large
      zones: [z1, z2]
      count: 6
      taints: [{key: spot, value: "true", effect: PreferNoSchedule}]
    - {name: c, cpu: "3", memory: 5Gi, pricePerHour: 0.1, count: 5}
workloads:
  - name: small
    replicas: 0
    template: {spec: {containers: [{name: c, resources: {requests: {cpu: 150m, memory: 300Mi}}}]}}
  - name: best-effort
    replicas: 0
    template: {spec: {containers: [{name: c}]}}
  - name: picky
    replicas: 0
    template:
      spec:
        affinity:
          nodeAffinity:
            preferredDuringSchedulingIgnoredDuringExecution:
              - {weight: 30, preference: {matchExpressions: [{key: disk, operator: In, values: [ssd]}]}}
              - {weight: 70, preference: {matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [z2]}]}}
        containers: [{name: c, resources: {requests: {cpu: 700m, memory: 2Gi}}}]
"#;

    /// Model-based oracle: the hot path's totals (`add_scores`) must rank nodes exactly as
    /// the plain sum of every plugin's normalized, weighted score (`score_plugin`) does —
    /// they may differ only by the same constant on every node.
    #[test]
    fn fast_scoring_ranks_nodes_exactly_like_the_full_plugin_sum() {
        for (profile_name, profile) in [
            ("default", Profile::default_profile()),
            ("bin-packing", Profile::bin_packing()),
            (
                "rtcr",
                Profile {
                    fit_strategy: profile::Strategy::RequestedToCapacityRatio(vec![
                        (0, 2),
                        (60, 10),
                        (100, 0),
                    ]),
                    fit_resources: vec![(Resource::Cpu, 2), (Resource::Memory, 1)],
                    ..Profile::default_profile()
                },
            ),
        ] {
            let scenario = match load_str("oracle.yaml", CLUSTER, Path::new("."), &[]) {
                Ok(s) => s,
                Err(e) => panic!("{e}"),
            };
            let mut world = World::new(&scenario);
            let sched = Scheduler::new(profile.clone(), RngStreams::new(3).stream("s"), &mut world);
            let mut rng = RngStreams::new(9).stream("fill");
            for _ in 0..40 {
                let node = NodeId(rng.random_range(0..world.nodes.len() as u32));
                let w = WorkloadId(rng.random_range(0..3u32));
                let pod = world.create_pod(w, SimTime::ZERO);
                if plugins::fit_filter(&world.nodes[node.0 as usize], &sched.pods[w.0 as usize])
                    == 0
                {
                    world.bind(pod, node);
                }
            }
            let feasible: Vec<NodeId> = (0..world.nodes.len() as u32).map(NodeId).collect();
            for (w, pod) in sched.pods.iter().enumerate() {
                let mut fast = vec![0i64; feasible.len()];
                let mut raw = Vec::new();
                for &(plugin, weight) in &profile.scores {
                    add_scores(
                        &profile, plugin, weight, &world, pod, &feasible, &mut raw, &mut fast,
                    );
                }
                let mut full = vec![0i64; feasible.len()];
                for &(plugin, weight) in &profile.scores {
                    if score_plugin(&profile, plugin, &world, pod, &feasible, &mut raw, None) {
                        for (t, r) in full.iter_mut().zip(&raw) {
                            *t += r * weight;
                        }
                    }
                }
                let offset = full[0] - fast[0];
                assert!(
                    full.iter().zip(&fast).all(|(f, q)| f - q == offset),
                    "{profile_name}, workload {w}: full {full:?} vs fast {fast:?}"
                );
                assert!(
                    full.iter().collect::<std::collections::BTreeSet<_>>().len() > 1,
                    "{profile_name}/{w}: scores should vary"
                );
            }
        }
    }
}
