//! PodTopologySpread: Filter for DoNotSchedule constraints, Score for ScheduleAnyway ones
//! and for upstream's system default constraints.
//!
//! Upstream: kubernetes/kubernetes `pkg/scheduler/framework/plugins/podtopologyspread/`
//! (`filtering.go`: `skew = matchNum + selfMatch − minMatchNum > maxSkew` rejects, with the
//! global minimum taken as 0 below `minDomains`; `scoring.go`: per-constraint weight
//! `ln(size + 2)`, `round(Σ cnt·w + (maxSkew − 1))`, normalized as
//! `100 · (max + min − s) / max`; `plugin.go`: system defaults hostname/3 and zone/5,
//! ScheduleAnyway). Counts come from the World's incrementally maintained
//! [`crate::cluster::topology::SpreadIndex`] when every node is eligible, and from a scan
//! of all nodes when the pod's node affinity or taint policy narrows the eligible set.

use super::plugins::{MAX_NODE_SCORE, PodInfo};
use crate::cluster::{NodeId, World};
use crate::metrics::events::FitReason;

/// One compiled constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct SpreadTerm {
    /// Selector group in the spread index.
    pub group: u32,
    /// Topology key slot in the spread index.
    pub key: u32,
    /// The key is `kubernetes.io/hostname` (one domain per node).
    pub hostname: bool,
    /// maxSkew.
    pub max_skew: i64,
    /// DoNotSchedule.
    pub hard: bool,
    /// minDomains (1 when unset).
    pub min_domains: usize,
    /// The incoming pod matches its own selector.
    pub self_match: bool,
    /// nodeAffinityPolicy Honor.
    pub honor_affinity: bool,
    /// nodeTaintsPolicy Honor.
    pub honor_taints: bool,
}

/// Per-pod state computed before the node loop (upstream's PreFilter/PreScore state).
#[derive(Debug, Default)]
pub struct SpreadState {
    /// For each hard term: matching pods per domain over eligible nodes.
    counts: Vec<Vec<i64>>,
    /// For each hard term: the global minimum.
    min: Vec<i64>,
    seen: Vec<bool>,
}

fn eligible(
    world: &World,
    node: NodeId,
    pod: &PodInfo,
    terms: &[&SpreadTerm],
    honor_affinity: bool,
    honor_taints: bool,
) -> bool {
    let n = &world.nodes[node.0 as usize];
    if terms
        .iter()
        .any(|t| world.spread.domain(t.key, node).is_none())
    {
        return false;
    }
    if honor_affinity && super::plugins::node_affinity_filter(n, pod, &world.interner).is_err() {
        return false;
    }
    !(honor_taints && super::plugins::taint_toleration_filter(n, pod, n.pool.0).is_err())
}

/// True when the index's all-node counts equal what a scan of eligible nodes would count.
fn index_counts_apply(world: &World, pod: &PodInfo, t: &SpreadTerm) -> bool {
    world.spread.complete(t.key)
        && !t.honor_taints
        && (!t.honor_affinity || (pod.node_selector.is_empty() && pod.required.is_none()))
}

/// Matching pods per domain of `t` over eligible nodes, into `out`; marks domains seen.
fn domain_counts(
    world: &World,
    pod: &PodInfo,
    t: &SpreadTerm,
    all: &[&SpreadTerm],
    out: &mut Vec<i64>,
    seen: &mut Vec<bool>,
) {
    let domains = world.spread.domains(t.key);
    out.clear();
    out.resize(domains, 0);
    seen.clear();
    seen.resize(domains, false);
    if index_counts_apply(world, pod, t) && all.iter().all(|o| world.spread.complete(o.key)) {
        for (d, c) in world
            .spread
            .domain_counts(t.group, t.key)
            .iter()
            .enumerate()
        {
            out[d] = i64::from(*c);
            seen[d] = true;
        }
        return;
    }
    for &node in &world.live_nodes {
        if !eligible(world, node, pod, all, t.honor_affinity, t.honor_taints) {
            continue;
        }
        if let Some(d) = world.spread.domain(t.key, node) {
            out[d as usize] += i64::from(world.spread.node_count(t.group, node));
            seen[d as usize] = true;
        }
    }
}

impl SpreadState {
    /// PreFilter: counts and global minimum of every hard constraint.
    pub fn prefilter(&mut self, world: &World, pod: &PodInfo, terms: &[SpreadTerm]) {
        let hard: Vec<&SpreadTerm> = terms.iter().filter(|t| t.hard).collect();
        self.counts.resize_with(hard.len(), Vec::new);
        self.min.resize(hard.len(), 0);
        for (h, t) in hard.iter().enumerate() {
            let mut counts = std::mem::take(&mut self.counts[h]);
            domain_counts(world, pod, t, &hard, &mut counts, &mut self.seen);
            let present = self.seen.iter().filter(|s| **s).count();
            let min = counts
                .iter()
                .zip(&self.seen)
                .filter(|(_, s)| **s)
                .map(|(c, _)| *c)
                .min()
                .unwrap_or(0);
            self.min[h] = if present < t.min_domains { 0 } else { min };
            self.counts[h] = counts;
        }
    }

    /// Filter: every hard constraint's skew on `node` is within maxSkew.
    pub fn filter(
        &self,
        world: &World,
        node: NodeId,
        terms: &[SpreadTerm],
    ) -> Result<(), FitReason> {
        for (h, t) in terms.iter().filter(|t| t.hard).enumerate() {
            let Some(d) = world.spread.domain(t.key, node) else {
                return Err(FitReason::TopologyMissingLabel);
            };
            let skew = self.counts[h][d as usize] + i64::from(t.self_match) - self.min[h];
            if skew > t.max_skew {
                return Err(FitReason::TopologySpreadMismatch);
            }
        }
        Ok(())
    }
}

/// Go's `math.Round` (half away from zero) for non-negative values, without a libm call.
fn round_non_negative(x: f64) -> i64 {
    let t = x as i64; // truncation toward zero
    if x - t as f64 >= 0.5 { t + 1 } else { t }
}

/// Score for the soft terms among `terms` over `feasible`, normalized, into `raw`.
/// `require_all` is true for explicit constraints (nodes lacking a key are ignored and
/// score 0).
pub fn score(
    world: &World,
    pod: &PodInfo,
    terms: &[SpreadTerm],
    require_all: bool,
    feasible: &[NodeId],
    raw: &mut Vec<i64>,
    before: Option<&mut Vec<i64>>,
) {
    let soft: Vec<&SpreadTerm> = terms.iter().filter(|t| !t.hard).collect();
    let ignored = |node: NodeId| {
        require_all
            && soft
                .iter()
                .any(|t| world.spread.domain(t.key, node).is_none())
    };
    let kept = if require_all {
        feasible.iter().filter(|&&n| !ignored(n)).count()
    } else {
        feasible.len()
    };
    // PreScore: per-term weight ln(size + 2) and, for non-hostname keys, domain counts.
    let mut weights = Vec::with_capacity(soft.len());
    let mut counts: Vec<Vec<i64>> = Vec::with_capacity(soft.len());
    let mut seen = Vec::new();
    for t in &soft {
        let size = if t.hostname {
            kept
        } else {
            let domains = world.spread.node_domains(t.key);
            let mut in_feasible = vec![false; world.spread.domains(t.key)];
            for &n in feasible {
                if let Some(d) = domains[n.0 as usize]
                    && !ignored(n)
                {
                    in_feasible[d as usize] = true;
                }
            }
            in_feasible.iter().filter(|s| **s).count()
        };
        weights.push(((size + 2) as f64).ln());
        let mut c = Vec::new();
        if !t.hostname {
            let scope: Vec<&SpreadTerm> = if require_all { soft.clone() } else { vec![*t] };
            domain_counts(world, pod, t, &scope, &mut c, &mut seen);
        }
        counts.push(c);
    }
    // Each term's lookups hoisted out of the per-node loop.
    struct View<'a> {
        domains: &'a [Option<u32>],
        node_counts: Option<&'a [u32]>,
        domain_counts: &'a [i64],
        weight: f64,
        skew: f64,
    }
    let views: Vec<View> = soft
        .iter()
        .enumerate()
        .map(|(i, t)| View {
            domains: world.spread.node_domains(t.key),
            node_counts: t.hostname.then(|| world.spread.node_counts(t.group)),
            domain_counts: &counts[i],
            weight: weights[i],
            skew: (t.max_skew - 1) as f64,
        })
        .collect();
    raw.clear();
    raw.resize(feasible.len(), 0);
    for (slot, &node) in raw.iter_mut().zip(feasible) {
        if require_all && ignored(node) {
            continue;
        }
        let n = node.0 as usize;
        let mut s = 0.0f64;
        for v in &views {
            if let Some(d) = v.domains[n] {
                let cnt = match v.node_counts {
                    Some(c) => i64::from(c[n]),
                    None => v.domain_counts[d as usize],
                };
                s += cnt as f64 * v.weight + v.skew;
            }
        }
        *slot = round_non_negative(s);
    }
    if let Some(b) = before {
        b.clear();
        b.extend_from_slice(raw);
    }
    // NormalizeScore over the nodes not ignored.
    let (mut min, mut max) = (i64::MAX, 0i64);
    for (node, &s) in feasible.iter().zip(raw.iter()) {
        if require_all && ignored(*node) {
            continue;
        }
        min = min.min(s);
        max = max.max(s);
    }
    for (node, s) in feasible.iter().zip(raw.iter_mut()) {
        *s = if require_all && ignored(*node) {
            0
        } else if max == 0 {
            MAX_NODE_SCORE
        } else {
            MAX_NODE_SCORE * (max + min - *s) / max
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::WorkloadId;
    use crate::control::scheduler::{Scheduler, profile::Profile};
    use crate::engine::{RngStreams, SimTime};
    use crate::scenario::load_str;
    use std::path::Path;

    /// Three nodes in zones a, a, b; `w` pods with app=w placed 2, 1, 0; the incoming pod
    /// carries `constraint`.
    fn setup(constraint: &str) -> (World, Scheduler) {
        let yaml = format!(
            "name: t\nduration: 1m\ncluster:\n  pools: [{{name: n, instanceType: m5.xlarge, zones: [a, a, b], count: 3}}]\nworkloads:\n  - name: w\n    replicas: 0\n    template:\n      metadata: {{labels: {{app: w}}}}\n      spec:\n        topologySpreadConstraints: [{constraint}]\n        containers: [{{name: c, resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}}}]\n"
        );
        let scenario = match load_str("t.yaml", &yaml, Path::new("."), &[]) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let mut world = World::new(&scenario);
        let sched = Scheduler::new(
            Profile::default_profile(),
            RngStreams::new(1).stream("s"),
            &mut world,
        );
        for (node, n) in [(0u32, 2), (1, 1)] {
            for _ in 0..n {
                let pod = world.create_pod(WorkloadId(0), SimTime::ZERO);
                world.bind(pod, NodeId(node));
            }
        }
        (world, sched)
    }

    fn scores(constraint: &str) -> Vec<i64> {
        let (world, sched) = setup(constraint);
        let pod = &sched.pods[0];
        let feasible: Vec<NodeId> = (0..3).map(NodeId).collect();
        let mut raw = Vec::new();
        score(
            &world,
            pod,
            &pod.spread,
            pod.spread_explicit,
            &feasible,
            &mut raw,
            None,
        );
        raw
    }

    #[test]
    fn zone_scores_follow_upstreams_formula() {
        // Two zones among the candidates: w = ln(2 + 2). Zone a holds 3 matching pods:
        // raw = round(3·ln 4 + (1 − 1)) = 4 for both a-nodes, 0 for the b-node.
        // Normalized 100·(max + min − s)/max: 0, 0, 100.
        let c = "{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: w}}}";
        assert_eq!(scores(c), [0, 0, 100]);
    }

    #[test]
    fn hostname_scores_follow_upstreams_formula() {
        // Three candidate nodes: w = ln 5. raw = round(cnt·ln 5 + (2 − 1)) = 4, 3, 1.
        // Normalized with max 4, min 1: 100·(5 − s)/4 = 25, 50, 100.
        let c = "{maxSkew: 2, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: w}}}";
        assert_eq!(scores(c), [25, 50, 100]);
    }

    #[test]
    fn rounding_is_half_away_from_zero_like_go() {
        for x in [0.0, 0.4999, 0.5, 1.5, 2.5, 4.159, 1e9 + 0.5] {
            assert_eq!(round_non_negative(x), x.round() as i64, "{x}");
        }
    }

    #[test]
    fn filter_rejects_nodes_past_max_skew() {
        let c = "{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: w}}}";
        let (world, sched) = setup(c);
        let pod = &sched.pods[0];
        let mut state = SpreadState::default();
        state.prefilter(&world, pod, &pod.spread);
        // Zone a has 3, zone b 0: placing in a gives skew 3 + 1 − 0 = 4 > 1.
        assert_eq!(
            state.filter(&world, NodeId(0), &pod.spread),
            Err(FitReason::TopologySpreadMismatch)
        );
        assert_eq!(state.filter(&world, NodeId(2), &pod.spread), Ok(()));
    }
}
