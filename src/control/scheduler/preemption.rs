//! DefaultPreemption, the PostFilter that makes room for a pod no node fits by deleting
//! lower-priority pods.
//!
//! Upstream: kubernetes/kubernetes
//! `pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go`
//! (`PodEligibleToPreemptOthers`, `SelectVictimsOnNode`, `GetOffsetAndNumCandidates` with
//! `MinCandidateNodesPercentage` 10 and `MinCandidateNodesAbsolute` 100,
//! `filterPodsWithPDBViolation`) and `pkg/scheduler/framework/preemption/preemption.go`
//! (`findCandidates`, `DryRunPreemption`, `pickOneNodeForPreemption`), with PDB status from
//! `pkg/controller/disruption/disruption.go`.
//!
//! Follows upstream in: `preemptionPolicy: Never` makes a pod ineligible; only nodes that
//! failed on resources or host ports are candidates (the other filters' failures are
//! "unresolvable"); the dry run starts at a seeded random offset and stops once it has
//! `numCandidates` candidates with at least one that violates no PDB; on each node every
//! lower-priority pod is removed, then pods are reprieved most important first (higher
//! priority, then earlier start), PDB-violating ones before the others; the node is chosen by
//! fewest PDB violations, lowest highest victim priority, smallest priority sum, fewest
//! victims, latest start of the highest-priority victims, then candidate order; upstream's
//! messages (`preemption: not eligible due to preemptionPolicy=Never.`,
//! `No preemption victims found for incoming pod`, `Preemption is not helpful for
//! scheduling`).
//!
//! Simplified: victims are deleted at once rather than after their termination grace
//! period, and the preemptor binds to the chosen node in the same cycle (upstream nominates
//! it, keeps other pods of no higher priority off the node through the nomination, and binds
//! it in a later cycle: the same placement, sooner); a node's PodTopologySpread
//! and InterPodAffinity verdicts are taken as they are before removal (upstream re-runs those
//! filters with the victims removed), so a node that failed on skew or anti-affinity is never
//! a candidate.

use super::plugins::{self, PodInfo};
use crate::cluster::{Node, NodeId, PodId, World};
use crate::engine::{SimRng, SimTime};
use crate::metrics::events::FitReason;
use crate::scenario::DisruptionBudget;
use rand::RngExt;

/// Upstream `DefaultPreemptionArgs.MinCandidateNodesPercentage`.
pub const MIN_CANDIDATE_NODES_PERCENTAGE: usize = 10;
/// Upstream `DefaultPreemptionArgs.MinCandidateNodesAbsolute`.
pub const MIN_CANDIDATE_NODES_ABSOLUTE: usize = 100;

/// Why preemption could not help a node (or the pod), in upstream wording when rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreemptReason {
    /// The node failed a filter that removing pods cannot fix.
    NotHelpful,
    /// No lower-priority pods on the node.
    NoVictims,
    /// Even without every lower-priority pod the pod does not fit.
    StillUnfit(FitReason),
}

impl PreemptReason {
    /// Upstream's message.
    pub fn render(self, world: &World) -> String {
        match self {
            PreemptReason::NotHelpful => "Preemption is not helpful for scheduling".into(),
            PreemptReason::NoVictims => "No preemption victims found for incoming pod".into(),
            PreemptReason::StillUnfit(r) => r.render(world),
        }
    }
}

/// What PostFilter concluded when it could not make room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreemptionFailure {
    /// `preemptionPolicy: Never`.
    Never,
    /// Per-reason node counts.
    Nodes(Vec<(PreemptReason, u32)>),
}

/// A node where the pod fits once `victims` are gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The node.
    pub node: NodeId,
    /// Pods to delete, most important first.
    pub victims: Vec<PodId>,
    /// Victims whose deletion violates a PodDisruptionBudget.
    pub pdb_violations: u32,
}

/// `numCandidates` for a cluster of `n` potential nodes.
pub fn num_candidates(n: usize) -> usize {
    (n * MIN_CANDIDATE_NODES_PERCENTAGE / 100)
        .max(MIN_CANDIDATE_NODES_ABSOLUTE)
        .min(n)
}

/// `disruptionsAllowed` of every budget now, from the pods' readiness and the workloads'
/// desired replicas (the disruption controller's arithmetic).
pub fn disruptions_allowed(
    world: &World,
    budgets: &[DisruptionBudget],
    members: &[Vec<u32>],
) -> Vec<i64> {
    budgets
        .iter()
        .zip(members)
        .map(|(b, ws)| {
            let healthy: i64 = ws
                .iter()
                .map(|&w| i64::from(world.workloads[w as usize].ready))
                .sum();
            let replicas: u32 = ws
                .iter()
                .map(|&w| world.workloads[w as usize].desired)
                .sum();
            let pods: u32 = ws
                .iter()
                .map(|&w| world.workloads[w as usize].active.len() as u32)
                .sum();
            let (expected, desired) = match (b.max_unavailable, b.min_available) {
                (Some(mu), _) => (replicas, replicas.saturating_sub(mu.scaled_up(replicas))),
                (None, Some(crate::scenario::IntOrPercent::Int(v))) => (pods, v),
                (None, Some(pct)) => (replicas, pct.scaled_up(replicas)),
                (None, None) => (0, 0),
            };
            if expected == 0 {
                0
            } else {
                (healthy - i64::from(desired)).max(0)
            }
        })
        .collect()
}

/// Everything a preemption attempt reads.
pub struct Attempt<'a> {
    /// The cluster.
    pub world: &'a World,
    /// The preemptor.
    pub pod: &'a PodInfo,
    /// Its priority.
    pub priority: i32,
    /// Budgets each workload's pods belong to, by workload index.
    pub workload_budgets: &'a [Vec<u32>],
    /// `disruptionsAllowed` per budget.
    pub allowed: &'a [i64],
    /// Nodes that failed on resources, ports or spreading skew (potential nodes).
    pub potential: &'a [NodeId],
    /// Potential nodes that failed on spreading skew or pod anti-affinity (not re-evaluated
    /// with victims removed).
    pub skewed: &'a [(NodeId, FitReason)],
    /// Nodes in the cluster.
    pub nodes: usize,
}

/// `findCandidates` + `SelectCandidate`: the node to preempt on and its victims, or why none.
pub fn preempt(a: &Attempt, rng: &mut SimRng) -> Result<Candidate, PreemptionFailure> {
    let not_helpful = (a.nodes - a.potential.len()) as u32;
    let mut reasons: Vec<(PreemptReason, u32)> = Vec::new();
    if not_helpful > 0 {
        reasons.push((PreemptReason::NotHelpful, not_helpful));
    }
    if a.potential.is_empty() {
        return Err(PreemptionFailure::Nodes(reasons));
    }
    let offset = rng.random_range(0..a.potential.len());
    let wanted = num_candidates(a.potential.len());
    let (mut violating, mut clean): (Vec<Candidate>, Vec<Candidate>) = (Vec::new(), Vec::new());
    for i in 0..a.potential.len() {
        let node = a.potential[(offset + i) % a.potential.len()];
        match select_victims(a, node) {
            Ok(c) if c.pdb_violations > 0 => violating.push(c),
            Ok(c) => clean.push(c),
            Err(r) => match reasons.iter_mut().find(|(x, _)| *x == r) {
                Some(e) => e.1 += 1,
                None => reasons.push((r, 1)),
            },
        }
        if !clean.is_empty() && clean.len() + violating.len() >= wanted {
            break;
        }
    }
    // Upstream lists non-violating candidates first.
    clean.extend(violating);
    pick_one_node(a.world, clean).ok_or(PreemptionFailure::Nodes(reasons))
}

/// The node's state with some pods taken off: requests, pod count and ports.
fn without(world: &World, node: &Node, removed: &[PodId]) -> Node {
    let mut n = node.clone();
    for &p in removed {
        let spec = &world.specs[world.pods[p.0 as usize].workload.0 as usize];
        n.cpu_requested_milli -= spec.cpu_request_milli;
        n.memory_requested_bytes -= spec.memory_request_bytes;
        n.pods.retain(|&q| q != p);
        for &(r, q) in &spec.extra_requests {
            if let Some(e) = n.extra.iter_mut().find(|e| e.0 == r) {
                e.2 -= q;
            }
        }
        for port in &spec.host_ports {
            if let Some(i) = n.used_ports.iter().position(|u| u == port) {
                n.used_ports.swap_remove(i);
            }
        }
    }
    n
}

/// Resources, pod count and ports: the filters removing pods can change.
fn fits(node: &Node, pod: &PodInfo) -> Result<(), FitReason> {
    let bits = plugins::fit_filter(node, pod);
    if bits & 1 != 0 {
        return Err(FitReason::TooManyPods);
    }
    if bits & 2 != 0 {
        return Err(FitReason::InsufficientCpu);
    }
    if bits & 4 != 0 {
        return Err(FitReason::InsufficientMemory);
    }
    if bits & 8 != 0 {
        let mut first = None;
        plugins::fit_reasons(8, node, pod, |r| {
            first.get_or_insert(r);
        });
        return Err(first.unwrap_or(FitReason::InsufficientMemory));
    }
    plugins::node_ports(node, pod)
}

/// When a pod started (its bind time: the kubelet starts it right after).
fn start_time(world: &World, p: PodId) -> SimTime {
    world.pods[p.0 as usize].last_attempt
}

fn priority_of(world: &World, p: PodId) -> i32 {
    world.specs[world.pods[p.0 as usize].workload.0 as usize].priority
}

/// `SelectVictimsOnNode`.
fn select_victims(a: &Attempt, id: NodeId) -> Result<Candidate, PreemptReason> {
    let world = a.world;
    let node = &world.nodes[id.0 as usize];
    let mut potential: Vec<PodId> = node
        .pods
        .iter()
        .copied()
        .filter(|&p| priority_of(world, p) < a.priority)
        .collect();
    if potential.is_empty() {
        return Err(PreemptReason::NoVictims);
    }
    if let Some(&(_, why)) = a.skewed.iter().find(|s| s.0 == id) {
        // Spreading and anti-affinity are not re-evaluated with victims removed (module doc).
        return Err(PreemptReason::StillUnfit(why));
    }
    let mut state = without(world, node, &potential);
    fits(&state, a.pod).map_err(PreemptReason::StillUnfit)?;
    // MoreImportantPod: higher priority first, then the one that started earlier.
    potential.sort_by_key(|&p| {
        (
            std::cmp::Reverse(priority_of(world, p)),
            start_time(world, p),
            p.0,
        )
    });
    // filterPodsWithPDBViolation, on this node's own copy of the budgets.
    let mut allowed = a.allowed.to_vec();
    let (mut violating, mut clean) = (Vec::new(), Vec::new());
    for &p in &potential {
        let w = world.pods[p.0 as usize].workload.0 as usize;
        let mut violates = false;
        for &b in &a.workload_budgets[w] {
            allowed[b as usize] -= 1;
            violates |= allowed[b as usize] < 0;
        }
        if violates {
            violating.push(p);
        } else {
            clean.push(p);
        }
    }
    let mut victims = Vec::new();
    let mut pdb_violations = 0;
    for (list, counts) in [(&violating, true), (&clean, false)] {
        for &p in list.iter() {
            // Reprieve: put it back; if the pod no longer fits, it is a victim after all.
            let spec = &world.specs[world.pods[p.0 as usize].workload.0 as usize];
            state.cpu_requested_milli += spec.cpu_request_milli;
            state.memory_requested_bytes += spec.memory_request_bytes;
            state.pods.push(p);
            state.used_ports.extend_from_slice(&spec.host_ports);
            let add_extra = |state: &mut Node, sign: bool| {
                for &(r, q) in &spec.extra_requests {
                    if let Some(e) = state.extra.iter_mut().find(|e| e.0 == r) {
                        e.2 = if sign { e.2 + q } else { e.2 - q };
                    }
                }
            };
            add_extra(&mut state, true);
            if fits(&state, a.pod).is_err() {
                add_extra(&mut state, false);
                state.cpu_requested_milli -= spec.cpu_request_milli;
                state.memory_requested_bytes -= spec.memory_request_bytes;
                state.pods.pop();
                let keep = state.used_ports.len() - spec.host_ports.len();
                state.used_ports.truncate(keep);
                victims.push(p);
                if counts {
                    pdb_violations += 1;
                }
            }
        }
    }
    victims.sort_by_key(|&p| {
        (
            std::cmp::Reverse(priority_of(world, p)),
            start_time(world, p),
            p.0,
        )
    });
    Ok(Candidate {
        node: id,
        victims,
        pdb_violations,
    })
}

/// `pickOneNodeForPreemption`: each criterion narrows the candidates; the first left wins.
pub fn pick_one_node(world: &World, mut candidates: Vec<Candidate>) -> Option<Candidate> {
    if let Some(i) = candidates.iter().position(|c| c.victims.is_empty()) {
        return Some(candidates.swap_remove(i));
    }
    let criteria: [&dyn Fn(&Candidate) -> i64; 5] = [
        // Fewest PDB violations.
        &|c| -i64::from(c.pdb_violations),
        // Lowest highest-priority victim.
        &|c| -i64::from(priority_of(world, c.victims[0])),
        // Smallest sum of priorities, each shifted to be positive.
        &|c| {
            -c.victims
                .iter()
                .map(|&p| i64::from(priority_of(world, p)) + i64::from(i32::MAX) + 1)
                .sum::<i64>()
        },
        // Fewest victims.
        &|c| -(c.victims.len() as i64),
        // Latest start among the highest-priority victims (the earliest of them counts).
        &|c| {
            let top = priority_of(world, c.victims[0]);
            c.victims
                .iter()
                .filter(|&&p| priority_of(world, p) == top)
                .map(|&p| start_time(world, p).as_millis() as i64)
                .min()
                .unwrap_or(0)
        },
    ];
    for score in criteria {
        if candidates.len() <= 1 {
            break;
        }
        let best = candidates.iter().map(score).max()?;
        candidates.retain(|c| score(c) == best);
    }
    candidates.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{PodState, WorkloadId};
    use crate::scenario::load_str;
    use std::path::Path;

    /// Nodes `n0..` of 4 cpu / 110 pods; workloads `low` (1), `mid` (10), `high` (100),
    /// `two` (priority 1, 2 cpu), none running yet.
    fn world(nodes: u32, extra: &str) -> World {
        let yaml = format!(
            "name: t\nduration: 1h\npriorityClasses:\n  - {{name: low, value: 1}}\n  - {{name: mid, value: 10}}\n  - {{name: high, value: 100}}\n\
             cluster:\n  pools:\n    - {{name: n, cpu: '4', memory: 16Gi, count: {nodes}}}\nworkloads:\n\
             {w}{extra}",
            w = [("low", "low", "1"), ("mid", "mid", "1"), ("high", "high", "1"), ("two", "low", "2")]
                .iter()
                .map(|(n, class, cpu)| format!(
                    "  - name: {n}\n    replicas: 0\n    template:\n      metadata: {{labels: {{app: {n}}}}}\n      spec:\n        priorityClassName: {class}\n        containers: [{{name: c, resources: {{requests: {{cpu: '{cpu}'}}}}}}]\n"
                ))
                .collect::<String>()
        );
        World::new(&load_str("t.yaml", &yaml, Path::new("."), &[]).expect("valid scenario"))
    }

    /// Binds a pod of workload `w` to node `n`, started at `start_s`.
    fn run(world: &mut World, w: u32, n: u32, start_s: u64) -> PodId {
        let p = world.create_pod(WorkloadId(w), SimTime::ZERO);
        world.bind(p, NodeId(n));
        world.set_state(p, PodState::Ready, SimTime::from_secs(start_s));
        world.pods[p.0 as usize].last_attempt = SimTime::from_secs(start_s);
        p
    }

    fn candidate(node: u32, victims: &[PodId], pdb_violations: u32) -> Candidate {
        Candidate {
            node: NodeId(node),
            victims: victims.to_vec(),
            pdb_violations,
        }
    }

    const LOW: u32 = 0;
    const MID: u32 = 1;
    const TWO: u32 = 3;

    // The cases below follow upstream's TestPickOneNodeForPreemption
    // (default_preemption_test.go): each names the criterion that decides.

    #[test]
    fn a_node_needing_no_victims_wins_outright() {
        let mut w = world(2, "");
        let v = run(&mut w, LOW, 0, 0);
        let pick = pick_one_node(&w, vec![candidate(0, &[v], 0), candidate(1, &[], 0)]);
        assert_eq!(pick.map(|c| c.node), Some(NodeId(1)));
    }

    #[test]
    fn the_node_whose_highest_victim_priority_is_lowest_is_picked() {
        let mut w = world(2, "");
        let (a1, a2) = (run(&mut w, MID, 0, 0), run(&mut w, LOW, 0, 0));
        let (b1, b2) = (run(&mut w, LOW, 1, 0), run(&mut w, LOW, 1, 0));
        let pick = pick_one_node(
            &w,
            vec![candidate(0, &[a1, a2], 0), candidate(1, &[b1, b2], 0)],
        );
        assert_eq!(pick.map(|c| c.node), Some(NodeId(1)));
    }

    #[test]
    fn equal_highest_priority_then_smallest_priority_sum() {
        let mut w = world(2, "");
        let (a1, a2) = (run(&mut w, MID, 0, 0), run(&mut w, MID, 0, 0));
        let (b1, b2) = (run(&mut w, MID, 1, 0), run(&mut w, LOW, 1, 0));
        let pick = pick_one_node(
            &w,
            vec![candidate(0, &[a1, a2], 0), candidate(1, &[b1, b2], 0)],
        );
        assert_eq!(pick.map(|c| c.node), Some(NodeId(1)));
        // Adjusted priorities (p + MaxInt32 + 1) make one victim cheaper than two.
        let (c1, d1, d2) = (
            run(&mut w, LOW, 0, 0),
            run(&mut w, LOW, 1, 0),
            run(&mut w, LOW, 1, 0),
        );
        let pick = pick_one_node(&w, vec![candidate(1, &[d1, d2], 0), candidate(0, &[c1], 0)]);
        assert_eq!(pick.map(|c| c.node), Some(NodeId(0)));
    }

    #[test]
    fn equal_victims_then_the_latest_started_highest_priority_victim() {
        let mut w = world(2, "");
        let a = run(&mut w, LOW, 0, 10);
        let b = run(&mut w, LOW, 1, 20);
        let pick = pick_one_node(&w, vec![candidate(0, &[a], 0), candidate(1, &[b], 0)]);
        assert_eq!(pick.map(|c| c.node), Some(NodeId(1)));
    }

    #[test]
    fn fewer_pdb_violations_beat_lower_priorities() {
        let mut w = world(2, "");
        let a = run(&mut w, LOW, 0, 0);
        let b = run(&mut w, MID, 1, 0);
        let pick = pick_one_node(&w, vec![candidate(0, &[a], 1), candidate(1, &[b], 0)]);
        assert_eq!(pick.map(|c| c.node), Some(NodeId(1)));
    }

    fn attempt_on<'a>(
        w: &'a World,
        pod: &'a PodInfo,
        budgets: &'a [Vec<u32>],
        allowed: &'a [i64],
        potential: &'a [NodeId],
    ) -> Attempt<'a> {
        Attempt {
            world: w,
            pod,
            priority: 100,
            workload_budgets: budgets,
            allowed,
            potential,
            skewed: &[],
            nodes: w.nodes.len(),
        }
    }

    #[test]
    fn victims_are_reprieved_most_important_first() {
        // 4 cpu: two low pods (1 cpu each) and a two-cpu pod of priority 1 started first.
        let mut w = world(1, "");
        let big = run(&mut w, TWO, 0, 0);
        let (l1, l2) = (run(&mut w, LOW, 0, 5), run(&mut w, LOW, 0, 6));
        let mut pod = super::super::pod_info_for(&mut w, TWO as usize);
        pod.cpu_milli = 2000;
        let budgets = vec![Vec::new(); w.specs.len()];
        let c = select_victims(
            &attempt_on(&w, &pod, &budgets, &[], &[NodeId(0)]),
            NodeId(0),
        )
        .expect("fits once pods go");
        // The earliest-started pod is reprieved first and stays; both later ones must go.
        assert_eq!(c.victims, [l1, l2]);
        assert!(!c.victims.contains(&big));
        assert_eq!(c.pdb_violations, 0);
    }

    #[test]
    fn pdb_protected_pods_are_reprieved_before_others() {
        // Upstream "PDB: Prefer lower priority pod for preemption, when preemption without
        // pdb violation is not possible": both pods are covered by a budget allowing 0
        // disruptions; the higher-priority one is reprieved, the lower one is the victim.
        let mut w = world(1, "");
        w.nodes[0].max_pods = 2;
        let p1 = run(&mut w, LOW, 0, 0);
        let _p2 = run(&mut w, MID, 0, 0);
        let mut pod = super::super::pod_info_for(&mut w, LOW as usize);
        pod.cpu_milli = 1;
        let mut budgets = vec![Vec::new(); w.specs.len()];
        budgets[LOW as usize].push(0);
        budgets[MID as usize].push(0);
        let c = select_victims(
            &attempt_on(&w, &pod, &budgets, &[0], &[NodeId(0)]),
            NodeId(0),
        )
        .expect("fits");
        assert_eq!(c.victims, [p1]);
        assert_eq!(c.pdb_violations, 1);
    }

    #[test]
    fn no_lower_priority_pods_means_no_victims() {
        let mut w = world(1, "");
        let _ = run(&mut w, LOW, 0, 0);
        let pod = super::super::pod_info_for(&mut w, LOW as usize);
        let budgets = vec![Vec::new(); w.specs.len()];
        let mut a = attempt_on(&w, &pod, &budgets, &[], &[NodeId(0)]);
        a.priority = 1; // equal priority cannot preempt
        assert_eq!(select_victims(&a, NodeId(0)), Err(PreemptReason::NoVictims));
    }

    #[test]
    fn candidate_count_follows_upstream_args() {
        assert_eq!(num_candidates(50), 50);
        assert_eq!(num_candidates(500), 100);
        assert_eq!(num_candidates(5000), 500);
    }

    #[test]
    fn disruptions_allowed_matches_the_disruption_controller() {
        // The reference's derived examples (disruption.go arithmetic).
        let budget =
            |min: Option<crate::scenario::IntOrPercent>, max| crate::scenario::DisruptionBudget {
                name: "b".into(),
                selector: Default::default(),
                min_available: min,
                max_unavailable: max,
            };
        use crate::scenario::IntOrPercent::{Int, Percent};
        let mut w = world(1, "");
        fn set(w: &mut World, ready: u32, desired: u32, active: usize) {
            let s = &mut w.workloads[0];
            s.ready = ready;
            s.desired = desired;
            s.active = (0..active as u32).map(PodId).collect();
        }
        let cases = [
            (budget(Some(Int(2)), None), (3, 3, 3), 1),
            (budget(Some(Percent(50)), None), (5, 5, 5), 2),
            (budget(None, Some(Percent(30))), (10, 10, 10), 3),
            (budget(None, Some(Int(1))), (2, 3, 3), 0),
        ];
        for (b, (ready, desired, active), want) in cases {
            set(&mut w, ready, desired, active);
            let got = disruptions_allowed(&w, std::slice::from_ref(&b), &[vec![0]]);
            assert_eq!(got, [want], "{b:?}");
        }
    }
}
