//! The Filter and Score plugins, as pure functions of one pod and one node so each can be
//! tested against upstream's own test numbers.
//!
//! Upstream files (kubernetes/kubernetes `pkg/scheduler/framework/plugins/`):
//! `nodeunschedulable/node_unschedulable.go`, `nodename/node_name.go`,
//! `tainttoleration/taint_toleration.go`, `nodeaffinity/node_affinity.go`,
//! `nodeports/node_ports.go`, `noderesources/fit.go`, `least_allocated.go`,
//! `most_allocated.go`, `requested_to_capacity_ratio.go`, `balanced_allocation.go`,
//! `helper/normalize_score.go`. Integer division truncates as Go's does.

use super::profile::{Resource, Strategy};
use crate::cluster::Node;
use crate::cluster::labels::{Interner, LabelId, Term};
use crate::metrics::events::FitReason;
use crate::scenario::{HostPort, TaintEffect, Toleration};

/// Upstream `MaxNodeScore`.
pub const MAX_NODE_SCORE: i64 = 100;
/// Upstream `MaxCustomPriorityScore` (RequestedToCapacityRatio shape scores are 0..10).
pub const MAX_CUSTOM_PRIORITY_SCORE: i64 = 10;

/// Everything the plugins need about a pod, compiled once per workload.
#[derive(Debug, Clone, Default)]
pub struct PodInfo {
    /// Zonal volume constraints: (node label, its GA equivalent for a beta label, allowed
    /// values), and the topology labels whose presence on a node makes them apply.
    pub volume_zones: Vec<(LabelId, Option<LabelId>, Vec<LabelId>)>,
    /// See `volume_zones`.
    pub volume_topology_keys: Vec<LabelId>,
    /// Containers' images with a known size (ImageLocality).
    pub images: Vec<u32>,
    /// Number of containers (ImageLocality's maximum threshold scales with it).
    pub containers: i64,
    /// Requests beyond cpu and memory: (resource id, amount) (Filter only).
    pub extra_requests: Vec<(u16, u64)>,
    /// CPU request, milli-cores (Filter, BalancedAllocation).
    pub cpu_milli: i64,
    /// Memory request, bytes.
    pub memory_bytes: i64,
    /// CPU with non-zero defaults (Fit scoring).
    pub cpu_nonzero_milli: i64,
    /// Memory with non-zero defaults.
    pub memory_nonzero_bytes: i64,
    /// Tolerations.
    pub tolerations: Vec<Toleration>,
    /// `nodeSelector` as interned pairs.
    pub node_selector: Vec<(LabelId, LabelId)>,
    /// Required node affinity terms (ORed); None = none.
    pub required: Option<Vec<Term>>,
    /// Preferred node affinity terms with weights.
    pub preferred: Vec<(i64, Term)>,
    /// Host ports.
    pub host_ports: Vec<HostPort>,
    /// `spec.nodeName` as an interned node name.
    pub node_name: Option<LabelId>,
    /// True when the pod tolerates `node.kubernetes.io/unschedulable:NoSchedule`.
    pub tolerates_unschedulable: bool,
    /// Topology spread terms: the pod's own, or the profile's defaults.
    pub spread: Vec<super::spread::SpreadTerm>,
    /// The terms are the pod's own (nodes lacking a key are then ignored when scoring).
    pub spread_explicit: bool,
    /// Inter-pod affinity terms, both the pod's own and those of others that concern it.
    pub interpod: super::interpod::Compiled,
}

/// NodeUnschedulable: a cordoned node, unless tolerated.
pub fn node_unschedulable(node: &Node, pod: &PodInfo) -> Result<(), FitReason> {
    if !node.schedulable && !pod.tolerates_unschedulable {
        return Err(FitReason::Unschedulable);
    }
    Ok(())
}

/// NodeName: a pod with `spec.nodeName` fits only that node.
pub fn node_name(node: &Node, pod: &PodInfo, name_key: Option<LabelId>) -> Result<(), FitReason> {
    match (pod.node_name, name_key) {
        (Some(want), Some(key)) if node.labels.get(key) != Some(want) => Err(FitReason::NodeName),
        _ => Ok(()),
    }
}

/// TaintToleration Filter: the first NoSchedule/NoExecute taint the pod does not tolerate.
pub fn taint_toleration_filter(node: &Node, pod: &PodInfo, pool: u32) -> Result<(), FitReason> {
    match node.taints.iter().position(|t| {
        t.effect != TaintEffect::PreferNoSchedule
            && !pod.tolerations.iter().any(|tol| tol.tolerates(t))
    }) {
        Some(i) => Err(FitReason::UntoleratedTaint(pool, i as u32)),
        None => Ok(()),
    }
}

/// TaintToleration Score: PreferNoSchedule taints not tolerated by the pod's tolerations
/// whose effect is PreferNoSchedule or empty (normalized later, reversed).
pub fn taint_toleration_score(node: &Node, pod: &PodInfo) -> i64 {
    node.taints
        .iter()
        .filter(|t| t.effect == TaintEffect::PreferNoSchedule)
        .filter(|t| {
            !pod.tolerations
                .iter()
                .filter(|tol| {
                    tol.effect
                        .is_none_or(|e| e == TaintEffect::PreferNoSchedule)
                })
                .any(|tol| tol.tolerates(t))
        })
        .count() as i64
}

/// NodeAffinity Filter: `nodeSelector` AND (any required term).
pub fn node_affinity_filter(
    node: &Node,
    pod: &PodInfo,
    interner: &Interner,
) -> Result<(), FitReason> {
    let selector_ok = pod
        .node_selector
        .iter()
        .all(|&(k, v)| node.labels.get(k) == Some(v));
    let required_ok = pod
        .required
        .as_ref()
        .is_none_or(|terms| terms.iter().any(|t| t.matches(&node.labels, interner)));
    if selector_ok && required_ok {
        Ok(())
    } else {
        Err(FitReason::NodeSelectorMismatch)
    }
}

/// NodeAffinity Score: the sum of the weights of matching preferred terms.
pub fn node_affinity_score(node: &Node, pod: &PodInfo, interner: &Interner) -> i64 {
    pod.preferred
        .iter()
        .filter(|(_, t)| t.matches(&node.labels, interner))
        .map(|(w, _)| *w)
        .sum()
}

/// NodePorts: a host port (same protocol) already taken on the node.
pub fn node_ports(node: &Node, pod: &PodInfo) -> Result<(), FitReason> {
    if pod.host_ports.iter().any(|p| node.used_ports.contains(p)) {
        return Err(FitReason::NodePorts);
    }
    Ok(())
}

/// NodeResourcesFit Filter; reports every insufficient resource, as upstream does.
/// Returns a bit set: 1 = too many pods, 2 = cpu, 4 = memory, 8 = some other resource
/// (which ones: [`fit_reasons`]).
pub fn fit_filter(node: &Node, pod: &PodInfo) -> u8 {
    let mut bits = 0;
    if node.pods.len() as u32 + 1 > node.max_pods {
        bits |= 1;
    }
    let free_cpu = node.cpu_allocatable_milli as i64 - node.cpu_requested_milli as i64;
    if pod.cpu_milli > 0 && pod.cpu_milli > free_cpu {
        bits |= 2;
    }
    let free_mem = node.memory_allocatable_bytes as i64 - node.memory_requested_bytes as i64;
    if pod.memory_bytes > 0 && pod.memory_bytes > free_mem {
        bits |= 4;
    }
    if !pod.extra_requests.is_empty() && pod.extra_requests.iter().any(|&r| extra_short(node, r)) {
        bits |= 8;
    }
    bits
}

/// True when the node has less of the resource free than requested (a resource the node
/// does not list has none, as upstream's scalar resources).
fn extra_short(node: &Node, (r, q): (u16, u64)) -> bool {
    let free = node
        .extra
        .iter()
        .find(|e| e.0 == r)
        .map_or(0, |e| e.1.saturating_sub(e.2));
    q > free
}

/// The reasons behind a [`fit_filter`] bit set, in upstream's order (pods, cpu, memory,
/// then other resources in the pod's order).
pub fn fit_reasons(bits: u8, node: &Node, pod: &PodInfo, mut f: impl FnMut(FitReason)) {
    for (bit, r) in [
        (1, FitReason::TooManyPods),
        (2, FitReason::InsufficientCpu),
        (4, FitReason::InsufficientMemory),
    ] {
        if bits & bit != 0 {
            f(r);
        }
    }
    if bits & 8 != 0 {
        for &e in &pod.extra_requests {
            if extra_short(node, e) {
                f(FitReason::InsufficientResource(e.0));
            }
        }
    }
}

/// `leastRequestedScore`.
pub fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    ((capacity - requested) * MAX_NODE_SCORE) / capacity
}

/// `mostRequestedScore`.
pub fn most_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    (requested.min(capacity) * MAX_NODE_SCORE) / capacity
}

/// The RequestedToCapacityRatio shape function (`helper.BuildBrokenLinearFunction`) at
/// utilization `p`, with shape scores already scaled to 0..100.
fn broken_linear(shape: &[(i64, i64)], p: i64) -> i64 {
    for (i, &(u, s)) in shape.iter().enumerate() {
        if p <= u {
            if i == 0 {
                return s;
            }
            let (u0, s0) = shape[i - 1];
            return s0 + (s - s0) * (p - u0) / (u - u0);
        }
    }
    shape.last().map_or(0, |&(_, s)| s)
}

/// NodeResourcesFit Score under a strategy. `requested` already includes the pod
/// (with non-zero defaults); `resources` pairs each resource with its weight.
pub fn fit_score(
    strategy: &Strategy,
    resources: &[(Resource, i64)],
    requested: [i64; 2],
    allocatable: [i64; 2],
) -> i64 {
    let idx = |r: Resource| match r {
        Resource::Cpu => 0,
        Resource::Memory => 1,
    };
    match strategy {
        Strategy::LeastAllocated | Strategy::MostAllocated => {
            let scorer = if *strategy == Strategy::LeastAllocated {
                least_requested_score
            } else {
                most_requested_score
            };
            let (mut sum, mut weights) = (0i64, 0i64);
            for &(r, w) in resources {
                let i = idx(r);
                if allocatable[i] == 0 {
                    continue;
                }
                sum += scorer(requested[i], allocatable[i]) * w;
                weights += w;
            }
            if weights == 0 { 0 } else { sum / weights }
        }
        Strategy::RequestedToCapacityRatio(points) => {
            let scale = MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE;
            let shape: Vec<(i64, i64)> = points.iter().map(|&(u, s)| (u, s * scale)).collect();
            let (mut sum, mut weights) = (0i64, 0i64);
            for &(r, w) in resources {
                let i = idx(r);
                let util = if allocatable[i] == 0 || requested[i] > allocatable[i] {
                    100
                } else {
                    ((requested[i] as i128 * 100) / allocatable[i] as i128) as i64
                };
                let s = broken_linear(&shape, util);
                if s > 0 {
                    sum += s * w;
                    weights += w;
                }
            }
            if weights == 0 {
                0
            } else {
                (sum as f64 / weights as f64).round() as i64
            }
        }
    }
}

/// NodeResourcesBalancedAllocation Score from the requested fractions (pod included, real
/// requests): `int64((1 − std) · 100)`.
pub fn balanced_allocation_score(fractions: &[f64]) -> i64 {
    let std = match fractions.len() {
        0 | 1 => 0.0,
        2 => (fractions[0] - fractions[1]).abs() / 2.0,
        n => {
            let mean = fractions.iter().sum::<f64>() / n as f64;
            (fractions
                .iter()
                .map(|f| (f - mean) * (f - mean))
                .sum::<f64>()
                / n as f64)
                .sqrt()
        }
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

/// `DefaultNormalizeScore(MaxNodeScore, reverse)`.
pub fn default_normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = MAX_NODE_SCORE);
        }
        return;
    }
    for s in scores {
        *s = MAX_NODE_SCORE * *s / max;
        if reverse {
            *s = MAX_NODE_SCORE - *s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEAST: Strategy = Strategy::LeastAllocated;
    const MOST: Strategy = Strategy::MostAllocated;
    const CPU_MEM: [(Resource, i64); 2] = [(Resource::Cpu, 1), (Resource::Memory, 1)];

    #[test]
    fn least_allocated_matches_upstream_cases() {
        // least_allocated_test.go: node 4000m / 10000 bytes, requested 3000m / 5000 → (25 + 50) / 2.
        assert_eq!(fit_score(&LEAST, &CPU_MEM, [3000, 5000], [4000, 10000]), 37);
        // Only the pod's non-zero defaults on a big node: cpu 97.5 and memory 97.9 truncate to 97.
        assert_eq!(
            fit_score(&LEAST, &CPU_MEM, [100, 209_715_200], [4000, 10_000_000_000]),
            97
        );
        // Over capacity scores 0 for that resource.
        assert_eq!(fit_score(&LEAST, &CPU_MEM, [5000, 5000], [4000, 10000]), 25);
        // Resource weights: cpu 1, memory 3 → (25·1 + 50·3) / 4 = 43.
        assert_eq!(
            fit_score(
                &LEAST,
                &[(Resource::Cpu, 1), (Resource::Memory, 3)],
                [3000, 5000],
                [4000, 10000]
            ),
            43
        );
    }

    #[test]
    fn most_allocated_matches_upstream_cases() {
        // most_allocated_test.go style: (75 + 50) / 2 = 62; over capacity caps at 100.
        assert_eq!(fit_score(&MOST, &CPU_MEM, [3000, 5000], [4000, 10000]), 62);
        assert_eq!(
            fit_score(&MOST, &CPU_MEM, [6000, 10000], [4000, 10000]),
            100
        );
        assert_eq!(fit_score(&MOST, &CPU_MEM, [0, 0], [4000, 10000]), 0);
    }

    #[test]
    fn requested_to_capacity_ratio_interpolates_and_rounds() {
        // Shape {0:10, 100:0} (a "least allocated" curve): utilization 50 % → 50, 25 % → 75.
        let rtcr = Strategy::RequestedToCapacityRatio(vec![(0, 10), (100, 0)]);
        assert_eq!(fit_score(&rtcr, &CPU_MEM, [2000, 2500], [4000, 10000]), 63); // (50 + 75) / 2 = 62.5 → 63
        // Shape {0:0, 100:10}: utilization 0 scores 0 and is left out of the mean.
        let pack = Strategy::RequestedToCapacityRatio(vec![(0, 0), (100, 10)]);
        assert_eq!(fit_score(&pack, &CPU_MEM, [0, 5000], [4000, 10000]), 50);
        assert_eq!(fit_score(&pack, &CPU_MEM, [0, 0], [4000, 10000]), 0);
        // Over capacity counts as 100 % utilization.
        assert_eq!(
            fit_score(&pack, &CPU_MEM, [9000, 10000], [4000, 10000]),
            100
        );
        assert_eq!(broken_linear(&[(10, 0), (50, 100)], 5), 0);
        assert_eq!(broken_linear(&[(10, 0), (50, 100)], 30), 50);
        assert_eq!(broken_linear(&[(10, 0), (50, 100)], 90), 100);
    }

    #[test]
    fn balanced_allocation_uses_half_the_difference_for_two_resources() {
        // balanced_allocation_test.go: cpu 3000/4000, memory 5000/10000 → 1 − |0.75 − 0.5|/2 = 0.875 → 87.
        assert_eq!(balanced_allocation_score(&[0.75, 0.5]), 87);
        assert_eq!(balanced_allocation_score(&[0.5, 0.5]), 100);
        // cpu 6000/10000, memory 0/20000 → 1 − 0.3 = 70.
        assert_eq!(balanced_allocation_score(&[0.6, 0.0]), 70);
        // Three resources use the population standard deviation.
        let three = balanced_allocation_score(&[0.2, 0.4, 0.6]);
        assert_eq!(three, ((1.0 - (0.08f64 / 3.0).sqrt()) * 100.0) as i64);
    }

    #[test]
    fn normalize_scales_to_the_max_and_reverses() {
        let mut s = [0, 1, 2];
        default_normalize(&mut s, true);
        assert_eq!(s, [100, 50, 0]);
        let mut s = [2, 4, 8];
        default_normalize(&mut s, false);
        assert_eq!(s, [25, 50, 100]);
        let mut zero = [0, 0];
        default_normalize(&mut zero, true);
        assert_eq!(zero, [100, 100]);
        let mut zero = [0, 0];
        default_normalize(&mut zero, false);
        assert_eq!(zero, [0, 0]);
    }
}

/// ImageLocality's lower threshold (upstream `minThreshold`, 23 MiB).
pub const IMAGE_MIN_THRESHOLD: i64 = 23 * 1024 * 1024;
/// ImageLocality's per-container upper threshold (`maxContainerThreshold`, 1000 MiB).
pub const IMAGE_MAX_CONTAINER_THRESHOLD: i64 = 1000 * 1024 * 1024;

/// ImageLocality Score (`image_locality.go`): each of the pod's images present on the node
/// adds `int64(size · nodesWithImage / allNodes)`; the sum, clamped to
/// [23 MiB, 1000 MiB × containers], maps linearly onto 0..100. No NormalizeScore.
pub fn image_locality_score(
    node: &Node,
    pod: &PodInfo,
    image_sizes: &[u64],
    image_nodes: &[u32],
    total_nodes: usize,
) -> i64 {
    let mut sum: i64 = 0;
    for &img in &pod.images {
        if node.images.contains(&img) {
            let spread = f64::from(image_nodes[img as usize]) / total_nodes.max(1) as f64;
            sum += (image_sizes[img as usize] as f64 * spread) as i64;
        }
    }
    let max = IMAGE_MAX_CONTAINER_THRESHOLD * pod.containers.max(1);
    let clamped = sum.clamp(IMAGE_MIN_THRESHOLD, max);
    100 * (clamped - IMAGE_MIN_THRESHOLD) / (max - IMAGE_MIN_THRESHOLD)
}

#[cfg(test)]
mod image_locality_tests {
    //! Upstream `imagelocality/image_locality_test.go` TestImageLocalityPriority: the same
    //! node images, sizes and pods, and upstream's expected scores.

    use super::*;
    use crate::cluster::World;
    use crate::scenario::load_str;
    use std::path::Path;

    const SIZES: [(&str, u32); 10] = [
        ("gcr.io/10", 10),
        ("gcr.io/20", 20),
        ("gcr.io/30", 30),
        ("gcr.io/40", 40),
        ("gcr.io/250", 250),
        ("gcr.io/300", 300),
        ("gcr.io/600", 600),
        ("gcr.io/900", 900),
        ("gcr.io/2000", 2000),
        ("gcr.io/4000", 4000),
    ];

    fn scores(nodes: &[&[&str]], pod: &[&str]) -> Vec<i64> {
        let images: String = SIZES
            .iter()
            .map(|(n, mb)| format!("  - {{name: '{n}', size: {mb}Mi}}\n"))
            .collect();
        let pools: String = nodes
            .iter()
            .enumerate()
            .map(|(i, imgs)| {
                format!(
                    "    - {{name: node{i}, cpu: '4', memory: 16Gi, count: 1, images: [{}]}}\n",
                    imgs.iter()
                        .map(|s| format!("'{s}:latest'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect();
        let containers: String = pod
            .iter()
            .enumerate()
            .map(|(i, img)| format!("{{name: c{i}, image: '{img}'}}"))
            .collect::<Vec<_>>()
            .join(", ");
        let yaml = format!(
            "name: t\nduration: 1h\nimages:\n{images}cluster:\n  pools:\n{pools}workloads:\n  - name: p\n    replicas: 0\n    template: {{spec: {{containers: [{containers}]}}}}\n"
        );
        let scenario = load_str("t.yaml", &yaml, Path::new("."), &[]).expect("valid scenario");
        let mut world = World::new(&scenario);
        let info = super::super::pod_info_for(&mut world, 0);
        world
            .nodes
            .iter()
            .map(|n| {
                image_locality_score(
                    n,
                    &info,
                    &world.image_sizes,
                    &world.image_nodes,
                    world.nodes.len(),
                )
            })
            .collect()
    }

    const NODE_40_300_2000: &[&str] = &["gcr.io/40", "gcr.io/300", "gcr.io/2000"];
    const NODE_250_10: &[&str] = &["gcr.io/250", "gcr.io/10"];
    const NODE_600_40_900: &[&str] = &["gcr.io/600", "gcr.io/40", "gcr.io/900"];
    const NODE_300_600_900: &[&str] = &["gcr.io/300", "gcr.io/600", "gcr.io/900"];
    const NODE_4000_30: &[&str] = &["gcr.io/4000", "gcr.io/30"];
    const NODE_20_30_40: &[&str] = &["gcr.io/20", "gcr.io/30", "gcr.io/40"];

    #[test]
    fn two_images_spread_on_two_nodes_prefer_the_larger_image_one() {
        assert_eq!(
            scores(
                &[NODE_40_300_2000, NODE_250_10],
                &["gcr.io/40", "gcr.io/250"]
            ),
            [0, 5]
        );
    }

    #[test]
    fn two_images_on_one_node_prefer_this_node() {
        assert_eq!(
            scores(
                &[NODE_40_300_2000, NODE_250_10],
                &["gcr.io/40", "gcr.io/300"]
            ),
            [7, 0]
        );
    }

    #[test]
    fn above_the_maximum_threshold_the_limit_applies() {
        assert_eq!(
            scores(&[NODE_4000_30, NODE_250_10], &["gcr.io/10", "gcr.io/4000"]),
            [100, 0]
        );
        assert_eq!(
            scores(
                &[NODE_4000_30, NODE_250_10, &[]],
                &["gcr.io/10", "gcr.io/4000"]
            ),
            [66, 0, 0]
        );
    }

    #[test]
    fn pod_with_multiple_large_images_prefers_the_node_with_all() {
        assert_eq!(
            scores(
                &[NODE_600_40_900, NODE_300_600_900, &[]],
                &["gcr.io/300", "gcr.io/600", "gcr.io/900"]
            ),
            [32, 36, 0]
        );
    }

    #[test]
    fn pod_with_multiple_small_images() {
        assert_eq!(
            scores(&[NODE_20_30_40, NODE_4000_30], &["gcr.io/30", "gcr.io/40"]),
            [1, 0]
        );
    }

    #[test]
    fn image_names_are_normalized_as_upstream() {
        // TestNormalizedImageName.
        use crate::scenario::normalized_image_name as n;
        assert_eq!(n("root"), "root:latest");
        assert_eq!(n("gcr.io:5000/root"), "gcr.io:5000/root:latest");
        assert_eq!(n("root:tag"), "root:tag");
        assert_eq!(n("root@sha256:abc"), "root@sha256:abc");
    }
}

/// VolumeZone Filter (`volumezone/volume_zone.go`): a node with zone or region labels must
/// carry, for every zonal volume of the pod, one of the volume's values (a beta label on the
/// volume also matches the node's GA label); a node with none of those labels passes.
pub fn volume_zone(node: &Node, pod: &PodInfo) -> Result<(), FitReason> {
    if pod.volume_zones.is_empty()
        || !pod
            .volume_topology_keys
            .iter()
            .any(|&k| node.labels.get(k).is_some())
    {
        return Ok(());
    }
    for (key, ga, values) in &pod.volume_zones {
        let v = node
            .labels
            .get(*key)
            .or_else(|| ga.and_then(|g| node.labels.get(g)));
        if !v.is_some_and(|v| values.contains(&v)) {
            return Err(FitReason::VolumeZoneConflict);
        }
    }
    Ok(())
}

#[cfg(test)]
mod taint_and_affinity_score_tests {
    //! Upstream `tainttoleration/taint_toleration_test.go` TestTaintTolerationScore and
    //! `nodeaffinity/node_affinity_test.go` TestNodeAffinityPriority: the same nodes and pods,
    //! upstream's expected normalized scores.

    use super::*;
    use crate::cluster::World;
    use crate::scenario::load_str;
    use std::path::Path;

    /// Nodes given as `labels` / `taints` flow maps; one pod with `spec` (YAML, indented 8).
    fn world(nodes: &[(&str, &str)], spec: &str) -> (World, PodInfo) {
        let pools: String = nodes
            .iter()
            .enumerate()
            .map(|(i, (labels, taints))| {
                format!("    - {{name: node{}, cpu: '4', memory: 16Gi, count: 1, labels: {{{labels}}}, taints: [{taints}]}}\n", i + 1)
            })
            .collect();
        let yaml = format!(
            "name: t\nduration: 1h\ncluster:\n  pools:\n{pools}workloads:\n  - name: p\n    replicas: 0\n    template:\n      spec:\n        containers: [{{name: c}}]\n{spec}"
        );
        let scenario = load_str("t.yaml", &yaml, Path::new("."), &[]).expect("valid scenario");
        let mut world = World::new(&scenario);
        let info = super::super::pod_info_for(&mut world, 0);
        (world, info)
    }

    fn taint_scores(nodes: &[&str], tolerations: &str) -> Vec<i64> {
        let nodes: Vec<(&str, &str)> = nodes.iter().map(|t| ("", *t)).collect();
        let spec = if tolerations.is_empty() {
            String::new()
        } else {
            format!("        tolerations: [{tolerations}]\n")
        };
        let (w, pod) = world(&nodes, &spec);
        let mut s: Vec<i64> = w
            .nodes
            .iter()
            .map(|n| taint_toleration_score(n, &pod))
            .collect();
        default_normalize(&mut s, true);
        s
    }

    const FOO_BAR: &str = "{key: foo, value: bar, effect: PreferNoSchedule}";
    const ARM: &str = "{key: cpu-type, value: arm64, effect: PreferNoSchedule}";
    const SSD: &str = "{key: disk-type, value: ssd, effect: PreferNoSchedule}";

    #[test]
    fn tolerated_taints_score_higher_than_intolerable_ones() {
        let tol = "{key: foo, operator: Equal, value: bar, effect: PreferNoSchedule}";
        let blah = "{key: foo, value: blah, effect: PreferNoSchedule}";
        assert_eq!(taint_scores(&[FOO_BAR, blah], tol), [100, 0]);
    }

    #[test]
    fn all_tolerated_nodes_score_the_same_however_many_taints() {
        let tol = "{key: cpu-type, operator: Equal, value: arm64, effect: PreferNoSchedule}, {key: disk-type, operator: Equal, value: ssd, effect: PreferNoSchedule}";
        let both = format!("{ARM}, {SSD}");
        assert_eq!(taint_scores(&["", ARM, &both], tol), [100, 100, 100]);
    }

    #[test]
    fn more_intolerable_taints_score_lower() {
        let tol = "{key: foo, operator: Equal, value: bar, effect: PreferNoSchedule}";
        let both = format!("{ARM}, {SSD}");
        assert_eq!(taint_scores(&["", ARM, &both], tol), [100, 50, 0]);
    }

    #[test]
    fn only_prefer_no_schedule_taints_count() {
        let tol = "{key: cpu-type, operator: Equal, value: arm64, effect: NoSchedule}, {key: disk-type, operator: Equal, value: ssd, effect: NoSchedule}";
        let hard = "{key: cpu-type, value: arm64, effect: NoSchedule}";
        assert_eq!(taint_scores(&["", hard, ARM], tol), [100, 100, 0]);
    }

    #[test]
    fn without_tolerations_the_untainted_node_wins() {
        assert_eq!(taint_scores(&["", ARM], ""), [100, 0]);
    }

    fn affinity_scores(nodes: &[&str], preferred: &str) -> Vec<i64> {
        let nodes: Vec<(&str, &str)> = nodes.iter().map(|l| (*l, "")).collect();
        let spec = if preferred.is_empty() {
            String::new()
        } else {
            format!(
                "        affinity:\n          nodeAffinity:\n            preferredDuringSchedulingIgnoredDuringExecution:\n{preferred}"
            )
        };
        let (w, pod) = world(&nodes, &spec);
        let mut s: Vec<i64> = w
            .nodes
            .iter()
            .map(|n| node_affinity_score(n, &pod, &w.interner))
            .collect();
        default_normalize(&mut s, false);
        s
    }

    const AFFINITY1: &str = "              - {weight: 2, preference: {matchExpressions: [{key: foo, operator: In, values: [bar]}]}}\n";
    const AFFINITY2: &str = "              - {weight: 2, preference: {matchExpressions: [{key: foo, operator: In, values: [bar]}]}}\n              - {weight: 4, preference: {matchExpressions: [{key: key, operator: In, values: [value]}]}}\n              - {weight: 5, preference: {matchExpressions: [{key: foo, operator: In, values: [bar]}, {key: key, operator: In, values: [value]}, {key: az, operator: In, values: [az1]}]}}\n";

    #[test]
    fn no_node_affinity_means_equal_scores() {
        assert_eq!(
            affinity_scores(&["foo: bar", "key: value", "az: az1"], ""),
            [0, 0, 0]
        );
    }

    #[test]
    fn only_the_matching_node_scores() {
        assert_eq!(
            affinity_scores(&["foo: bar", "key: value", "az: az1"], AFFINITY1),
            [100, 0, 0]
        );
    }

    #[test]
    fn weights_add_up_and_normalize_to_the_best_node() {
        // node1 2, node5 2+4+5 = 11, node2 4 → 2·100/11 = 18, 100, 4·100/11 = 36.
        assert_eq!(
            affinity_scores(
                &["foo: bar", "foo: bar, key: value, az: az1", "key: value"],
                AFFINITY2
            ),
            [18, 100, 36]
        );
    }
}
