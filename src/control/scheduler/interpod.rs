//! InterPodAffinity: place pods near (affinity) or away from (anti-affinity) pods matching a
//! label selector, within a topology domain (a node, a zone, any node label).
//!
//! Upstream: kubernetes/kubernetes
//! `pkg/scheduler/framework/plugins/interpodaffinity/filtering.go` (PreFilter counts,
//! `satisfyPodAffinity`, `satisfyPodAntiAffinity`, `satisfyExistingPodsAntiAffinity`) and
//! `scoring.go` (PreScore topology scores, Score, NormalizeScore), default
//! `hardPodAffinityWeight` 1 (`apis/config/v1/defaults.go`).
//!
//! Follows upstream in: required affinity needs, in the node's domain of every term, an
//! existing pod matching all terms — unless no pod anywhere matches and the pod matches its
//! own terms (the first pod of a group with self-affinity); a node lacking a term's topology
//! label fails affinity; required anti-affinity fails where a matching pod runs in the
//! domain; an existing pod's required anti-affinity that matches the incoming pod keeps it out
//! of that pod's domain (symmetry); scores add each matching existing pod's weight into its
//! domain (+w preferred affinity, −w preferred anti-affinity, and symmetric: +1 for existing
//! pods' required affinity and ±w for their preferred terms that match the incoming pod);
//! NormalizeScore `int64(100 · (s − min) / (max − min))` in floating point, 0 when all equal;
//! upstream's failure messages.
//!
//! Simplified: one namespace is simulated, so `namespaces` and `namespaceSelector` are not
//! read; terms are compiled per workload (every pod of a workload carries the same labels).

use super::plugins::PodInfo;
use crate::cluster::{NodeId, World};
use crate::metrics::events::FitReason;
use crate::scenario::PodAffinityTerm;

/// Upstream `InterPodAffinityArgs.hardPodAffinityWeight` default.
pub const HARD_POD_AFFINITY_WEIGHT: i64 = 1;

/// A workload's inter-pod terms, resolved to topology-key slots and matching workloads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compiled {
    /// Key slots of the required affinity terms.
    pub required: Vec<u32>,
    /// Workloads whose pods match every required affinity term.
    pub required_members: Vec<u32>,
    /// The pod matches all of its own required affinity terms.
    pub self_matches_required: bool,
    /// Required anti-affinity: (key slot, workloads matching the term).
    pub anti: Vec<(u32, Vec<u32>)>,
    /// Other workloads' required anti-affinity that matches this pod: (key slot, workload).
    pub existing_anti: Vec<(u32, u32)>,
    /// Score terms: (key slot, signed weight, workloads whose pods add it).
    pub score_terms: Vec<(u32, i64, Vec<u32>)>,
}

impl Compiled {
    /// True when the Filter can reject a node for this pod.
    pub fn filters(&self) -> bool {
        !self.required.is_empty() || !self.anti.is_empty() || !self.existing_anti.is_empty()
    }

    /// True when PreScore does not skip the plugin for this pod.
    pub fn scores(&self) -> bool {
        !self.score_terms.is_empty()
    }
}

/// Compiles workload `w`'s terms and the other workloads' terms that concern it.
pub fn compile(world: &mut World, w: usize) -> Compiled {
    let members = |world: &World, terms: &[&PodAffinityTerm]| -> Vec<u32> {
        (0..world.specs.len() as u32)
            .filter(|&x| {
                terms
                    .iter()
                    .all(|t| t.selector.matches(&world.specs[x as usize].labels))
            })
            .collect()
    };
    let spec = world.specs[w].pod_affinity.clone();
    let labels = world.specs[w].labels.clone();
    let mut c = Compiled::default();
    let required: Vec<&PodAffinityTerm> = spec.required.iter().collect();
    for t in &required {
        c.required.push(world.spread_key(&t.topology_key));
    }
    if !required.is_empty() {
        c.required_members = members(world, &required);
        c.self_matches_required = required.iter().all(|t| t.selector.matches(&labels));
    }
    for t in &spec.required_anti {
        let key = world.spread_key(&t.topology_key);
        c.anti.push((key, members(world, &[t])));
    }
    for (weight, t) in &spec.preferred {
        let key = world.spread_key(&t.topology_key);
        c.score_terms.push((key, *weight, members(world, &[t])));
    }
    for (weight, t) in &spec.preferred_anti {
        let key = world.spread_key(&t.topology_key);
        c.score_terms.push((key, -*weight, members(world, &[t])));
    }
    // The other side: existing pods' terms that match this pod.
    for other in 0..world.specs.len() {
        let theirs = world.specs[other].pod_affinity.clone();
        for t in theirs
            .required_anti
            .iter()
            .filter(|t| t.selector.matches(&labels))
        {
            let key = world.spread_key(&t.topology_key);
            c.existing_anti.push((key, other as u32));
        }
        for t in theirs
            .required
            .iter()
            .filter(|t| t.selector.matches(&labels))
        {
            let key = world.spread_key(&t.topology_key);
            c.score_terms
                .push((key, HARD_POD_AFFINITY_WEIGHT, vec![other as u32]));
        }
        for (weight, t) in theirs
            .preferred
            .iter()
            .filter(|(_, t)| t.selector.matches(&labels))
        {
            let key = world.spread_key(&t.topology_key);
            c.score_terms.push((key, *weight, vec![other as u32]));
        }
        for (weight, t) in theirs
            .preferred_anti
            .iter()
            .filter(|(_, t)| t.selector.matches(&labels))
        {
            let key = world.spread_key(&t.topology_key);
            c.score_terms.push((key, -*weight, vec![other as u32]));
        }
    }
    c
}

/// Calls `f(domain)` for every bound pod of `members`, with the pod's node's domain of `key`.
fn for_each_pod_domain(world: &World, key: u32, members: &[u32], mut f: impl FnMut(u32)) {
    let domains = world.spread.node_domains(key);
    for &w in members {
        for p in &world.workloads[w as usize].active {
            if let Some(node) = world.pods[p.0 as usize].node
                && let Some(d) = domains[node.0 as usize]
            {
                f(d);
            }
        }
    }
}

/// PreFilter's per-pod counts, kept between pods to reuse their buffers.
#[derive(Debug, Default)]
pub struct State {
    /// Per required affinity term: pods matching all terms, per domain.
    affinity: Vec<Vec<u32>>,
    /// Some pod matches all required affinity terms somewhere.
    any_affinity: bool,
    /// Per required anti-affinity term: matching pods per domain.
    anti: Vec<Vec<u32>>,
    /// Per existing anti-affinity entry: domains holding one of that workload's pods.
    forbidden: Vec<Vec<bool>>,
}

impl State {
    /// PreFilter: counts matching pods per topology domain for every term.
    pub fn prefilter(&mut self, world: &World, c: &Compiled) {
        let sized = |v: &mut Vec<Vec<u32>>, n: usize, keys: &mut dyn Iterator<Item = u32>| {
            v.resize_with(n, Vec::new);
            for (slot, key) in v.iter_mut().zip(keys) {
                slot.clear();
                slot.resize(world.spread.domains(key), 0);
            }
        };
        sized(
            &mut self.affinity,
            c.required.len(),
            &mut c.required.iter().copied(),
        );
        self.any_affinity = false;
        for (i, &key) in c.required.iter().enumerate() {
            let counts = &mut self.affinity[i];
            for_each_pod_domain(world, key, &c.required_members, |d| counts[d as usize] += 1);
            self.any_affinity |= counts.iter().any(|&n| n > 0);
        }
        sized(
            &mut self.anti,
            c.anti.len(),
            &mut c.anti.iter().map(|a| a.0),
        );
        for (i, (key, members)) in c.anti.iter().enumerate() {
            let counts = &mut self.anti[i];
            for_each_pod_domain(world, *key, members, |d| counts[d as usize] += 1);
        }
        self.forbidden.resize_with(c.existing_anti.len(), Vec::new);
        for (i, &(key, w)) in c.existing_anti.iter().enumerate() {
            let slot = &mut self.forbidden[i];
            slot.clear();
            slot.resize(world.spread.domains(key), false);
            for_each_pod_domain(world, key, &[w], |d| slot[d as usize] = true);
        }
    }

    /// Filter, in upstream's order: affinity, anti-affinity, existing pods' anti-affinity.
    pub fn filter(&self, world: &World, node: NodeId, c: &Compiled) -> Result<(), FitReason> {
        let domain = |key: u32| world.spread.node_domains(key)[node.0 as usize];
        if !c.required.is_empty() {
            let mut pods_exist = true;
            for (i, &key) in c.required.iter().enumerate() {
                match domain(key) {
                    None => return Err(FitReason::PodAffinityMismatch),
                    Some(d) => pods_exist &= self.affinity[i][d as usize] > 0,
                }
            }
            if !pods_exist && (self.any_affinity || !c.self_matches_required) {
                return Err(FitReason::PodAffinityMismatch);
            }
        }
        for (i, &(key, _)) in c.anti.iter().enumerate() {
            if let Some(d) = domain(key)
                && self.anti[i][d as usize] > 0
            {
                return Err(FitReason::PodAntiAffinityMismatch);
            }
        }
        for (i, &(key, _)) in c.existing_anti.iter().enumerate() {
            if let Some(d) = domain(key)
                && self.forbidden[i][d as usize]
            {
                return Err(FitReason::ExistingAntiAffinity);
            }
        }
        Ok(())
    }
}

/// PreScore + Score + NormalizeScore over `feasible` into `raw`; `before` gets the scores
/// before normalizing (for `explain`).
pub fn score(
    world: &World,
    pod: &PodInfo,
    feasible: &[NodeId],
    raw: &mut Vec<i64>,
    before: Option<&mut Vec<i64>>,
) {
    let c = &pod.interpod;
    raw.clear();
    raw.resize(feasible.len(), 0);
    let mut per_domain: Vec<i64> = Vec::new();
    for (key, weight, members) in &c.score_terms {
        per_domain.clear();
        per_domain.resize(world.spread.domains(*key), 0);
        for_each_pod_domain(world, *key, members, |d| per_domain[d as usize] += weight);
        let domains = world.spread.node_domains(*key);
        for (slot, node) in raw.iter_mut().zip(feasible) {
            if let Some(d) = domains[node.0 as usize] {
                *slot += per_domain[d as usize];
            }
        }
    }
    if let Some(b) = before {
        b.clear();
        b.extend_from_slice(raw);
    }
    normalize(raw);
}

/// Upstream's NormalizeScore: min–max scaling to 0..100 in floating point, truncated.
pub fn normalize(scores: &mut [i64]) {
    let (Some(&min), Some(&max)) = (scores.iter().min(), scores.iter().max()) else {
        return;
    };
    let diff = max - min;
    for s in scores.iter_mut() {
        *s = if diff > 0 {
            (100.0 * ((*s - min) as f64 / diff as f64)) as i64
        } else {
            0
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_scales_min_to_0_and_max_to_100_truncating() {
        let mut s = [-5, 0, 5, 10];
        normalize(&mut s);
        // (0+5)/15·100 = 33.3 → 33; (5+5)/15·100 = 66.6 → 66.
        assert_eq!(s, [0, 33, 66, 100]);
        let mut same = [7, 7];
        normalize(&mut same);
        assert_eq!(same, [0, 0]);
    }
}

#[cfg(test)]
mod upstream_cases {
    //! Cases from upstream's `interpodaffinity/scoring_test.go` (TestPreferredAffinity) and
    //! `filtering_test.go`, on the same node labels and pods, with upstream's expected scores.

    use super::*;
    use crate::cluster::{PodState, WorkloadId};
    use crate::engine::SimTime;
    use crate::scenario::load_str;
    use std::path::Path;

    /// One node per label map; workloads given as YAML list items (replicas 0).
    fn world(nodes: &[&str], workloads: &str) -> World {
        let pools: String = nodes
            .iter()
            .enumerate()
            .map(|(i, labels)| {
                format!("    - {{name: node{}, cpu: '4', memory: 16Gi, count: 1, labels: {{{labels}}}}}\n", i + 1)
            })
            .collect();
        let yaml =
            format!("name: t\nduration: 1h\ncluster:\n  pools:\n{pools}workloads:\n{workloads}");
        World::new(&load_str("t.yaml", &yaml, Path::new("."), &[]).expect("valid scenario"))
    }

    fn bind(world: &mut World, w: u32, node: u32) {
        let p = world.create_pod(WorkloadId(w), SimTime::ZERO);
        world.bind(p, NodeId(node));
        world.set_state(p, PodState::Running, SimTime::ZERO);
    }

    fn scores(world: &mut World, w: usize) -> Vec<i64> {
        let mut info = super::super::pod_info_for(world, w);
        info.interpod = compile(world, w);
        let feasible: Vec<NodeId> = (0..world.nodes.len() as u32).map(NodeId).collect();
        let mut raw = Vec::new();
        score(world, &info, &feasible, &mut raw, None);
        raw
    }

    fn pod(name: &str, labels: &str, affinity: &str) -> String {
        format!(
            "  - name: {name}\n    replicas: 0\n    template:\n      metadata: {{labels: {{{labels}}}}}\n      spec:\n        containers: [{{name: c}}]\n{affinity}"
        )
    }

    const PREFER_S1_REGION: &str = "        affinity:\n          podAffinity:\n            preferredDuringSchedulingIgnoredDuringExecution:\n              - weight: 5\n                podAffinityTerm:\n                  labelSelector: {matchExpressions: [{key: security, operator: In, values: [S1]}]}\n                  topologyKey: region\n";

    #[test]
    fn affinity_scores_the_matching_pods_domain_highest() {
        // "Affinity: pod that matches topology key & pods in nodes will get high score
        // comparing to others which doesn't match either pods in nodes or in topology key".
        let pods = pod("existing", "security: S1", "")
            + &pod("incoming", "security: S1", PREFER_S1_REGION);
        let mut w = world(&["region: China", "region: India", "az: az1"], &pods);
        bind(&mut w, 0, 0);
        assert_eq!(scores(&mut w, 1), [100, 0, 0]);
    }

    #[test]
    fn every_node_of_the_matching_domain_scores_the_same() {
        // "All the nodes that have the same topology key & label value with one of them has
        // an existing pod that match the affinity rules, have the same score".
        let pods = pod("existing", "security: S1", "")
            + &pod("incoming", "security: S1", PREFER_S1_REGION);
        let mut w = world(&["region: China", "region: China", "region: India"], &pods);
        bind(&mut w, 0, 0);
        assert_eq!(scores(&mut w, 1), [100, 100, 0]);
    }

    #[test]
    fn anti_affinity_scores_the_matching_pods_domain_lowest() {
        // "Anti Affinity: pod that does not match existing pods in node will get high score".
        let anti = PREFER_S1_REGION.replace("podAffinity:\n", "podAntiAffinity:\n");
        let pods = pod("existing", "security: S1", "") + &pod("incoming", "security: S2", &anti);
        let mut w = world(&["region: China", "region: India"], &pods);
        bind(&mut w, 0, 0);
        assert_eq!(scores(&mut w, 1), [0, 100]);
    }

    #[test]
    fn existing_pods_terms_count_for_the_incoming_pod() {
        // "Affinity symmetry": an existing pod's preferred term, and (with
        // hardPodAffinityWeight 1) its required term, that match the incoming pod.
        let prefer_s2_host = PREFER_S1_REGION
            .replace("S1", "S2")
            .replace("topologyKey: region", "topologyKey: hostname");
        let pods =
            pod("existing", "security: S1", &prefer_s2_host) + &pod("incoming", "security: S2", "");
        let mut w = world(&["hostname: a", "hostname: b"], &pods);
        bind(&mut w, 0, 0);
        assert_eq!(scores(&mut w, 1), [100, 0]);
        let required = "        affinity:\n          podAffinity:\n            requiredDuringSchedulingIgnoredDuringExecution:\n              - labelSelector: {matchLabels: {security: S2}}\n                topologyKey: hostname\n";
        let pods = pod("existing", "security: S1", required) + &pod("incoming", "security: S2", "");
        let mut w = world(&["hostname: a", "hostname: b"], &pods);
        bind(&mut w, 0, 1);
        assert_eq!(scores(&mut w, 1), [0, 100]);
    }

    fn filter_all(world: &mut World, w: usize) -> Vec<Result<(), FitReason>> {
        let c = compile(world, w);
        let mut state = State::default();
        state.prefilter(world, &c);
        (0..world.nodes.len() as u32)
            .map(|n| state.filter(world, NodeId(n), &c))
            .collect()
    }

    #[test]
    fn required_terms_filter_both_ways() {
        let need = "        affinity:\n          podAffinity:\n            requiredDuringSchedulingIgnoredDuringExecution:\n              - labelSelector: {matchLabels: {service: securityscan}}\n                topologyKey: region\n";
        let avoid = need.replace("podAffinity", "podAntiAffinity");
        let pods = pod("scan", "service: securityscan", "")
            + &pod("near", "app: x", need)
            + &pod("away", "app: y", &avoid)
            + &pod(
                "guard",
                "app: guard",
                &avoid.replace("service: securityscan", "app: z"),
            )
            + &pod("z", "app: z", "");
        let mut w = world(
            &["region: r1", "region: r1", "region: r2", "zone: none"],
            &pods,
        );
        bind(&mut w, 0, 0);
        bind(&mut w, 3, 2);
        use FitReason::*;
        // Affinity: the scan pod's region, and a node without the key never matches.
        assert_eq!(
            filter_all(&mut w, 1),
            [
                Ok(()),
                Ok(()),
                Err(PodAffinityMismatch),
                Err(PodAffinityMismatch)
            ]
        );
        // Anti-affinity: anywhere but the scan pod's region (a node without the key is fine).
        assert_eq!(
            filter_all(&mut w, 2),
            [
                Err(PodAntiAffinityMismatch),
                Err(PodAntiAffinityMismatch),
                Ok(()),
                Ok(())
            ]
        );
        // Symmetry: `guard` (region r2) refuses app=z pods in its region.
        assert_eq!(
            filter_all(&mut w, 4),
            [Ok(()), Ok(()), Err(ExistingAntiAffinity), Ok(())]
        );
    }

    #[test]
    fn the_first_pod_of_a_self_affine_group_may_go_anywhere_with_the_key() {
        // Upstream's special case: no pod matches yet, and the pod matches its own term.
        let self_affine = "        affinity:\n          podAffinity:\n            requiredDuringSchedulingIgnoredDuringExecution:\n              - labelSelector: {matchLabels: {app: group}}\n                topologyKey: region\n";
        let pods = pod("group", "app: group", self_affine);
        let mut w = world(&["region: r1", "zone: z"], &pods);
        assert_eq!(
            filter_all(&mut w, 0),
            [Ok(()), Err(FitReason::PodAffinityMismatch)]
        );
        bind(&mut w, 0, 0);
        let mut w2 = world(&["region: r1", "region: r2"], &pods);
        bind(&mut w2, 0, 0);
        assert_eq!(
            filter_all(&mut w2, 0),
            [Ok(()), Err(FitReason::PodAffinityMismatch)]
        );
    }
}
