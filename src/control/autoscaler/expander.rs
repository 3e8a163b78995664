//! Choosing among scale-up options: upstream's expanders, chained, final ties random.
//!
//! Upstream: kubernetes/autoscaler `cluster-autoscaler/expander/` (`waste/waste.go`,
//! `mostpods`, `leastnodes`, `price/price.go`, `priority/priority.go`, `random`).
//!
//! Follows upstream in: least-waste's sum of idle CPU and memory fractions over the new
//! nodes' capacity; most-pods; least-nodes; the price expander's price ratio with the
//! stabilization pod (0.5 CPU, 500 MiB), the unfitness against the preferred 4 CPU / 16 GiB
//! node (sized by the cluster's node count) suppressed as the option grows; priority by pool lists; each expander passing its
//! exact ties to the next and the last ties broken at random. Simplified: the price
//! expander prices pods at GCE's default per-resource prices for every provider.

use super::config::Expander;
use crate::engine::SimRng;
use rand::RngExt;

/// One way to scale up: `nodes` more nodes of `pool`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleUpOption {
    /// The pool (node group).
    pub pool: u32,
    /// Nodes to add.
    pub nodes: u32,
    /// Pods they would take.
    pub pods: u32,
    /// Σ CPU requests of those pods, milli-cores.
    pub pod_cpu_milli: u64,
    /// Σ memory requests of those pods, bytes.
    pub pod_memory_bytes: u64,
    /// One node's CPU capacity, milli-cores.
    pub node_cpu_milli: u64,
    /// One node's memory capacity, bytes.
    pub node_memory_bytes: u64,
    /// One node's price per hour.
    pub node_price: f64,
}

/// Upstream's least-waste score: idle CPU fraction plus idle memory fraction.
pub fn waste(o: &ScaleUpOption) -> f64 {
    let n = f64::from(o.nodes);
    let cpu = o.node_cpu_milli as f64 * n;
    let mem = o.node_memory_bytes as f64 * n;
    let frac = |total: f64, used: f64| {
        if total > 0.0 {
            (total - used) / total
        } else {
            0.0
        }
    };
    frac(cpu, o.pod_cpu_milli as f64) + frac(mem, o.pod_memory_bytes as f64)
}

/// GCE's default price of a core-hour and a GiB-hour (upstream `gce_price_model.go`), used
/// to price the pods an option schedules.
const CPU_PRICE_PER_HOUR: f64 = 0.033174;
const GIB_PRICE_PER_HOUR: f64 = 0.004446;
/// The stabilization pod the price ratio adds to both sides: 0.5 CPU, 500 MiB.
const STABILIZATION_CPU: f64 = 0.5;
const STABILIZATION_GIB: f64 = 500.0 / 1024.0;
/// Upstream's `SimplePreferredNodeProvider`: the node size (CPU, milli-cores) that suits a
/// cluster of `nodes` nodes.
pub fn preferred_cpu_milli(nodes: usize) -> u64 {
    match nodes {
        0..=2 => 1000,
        3..=6 => 2000,
        7..=20 => 4000,
        21..=60 => 8000,
        61..=200 => 16000,
        _ => 32000,
    }
}

/// Upstream's price score from its parts (lower is better): the price ratio with the
/// stabilization pod on both sides, scaled by how far the node is from the preferred size,
/// an unfitness that fades as the option grows.
pub fn price_score_parts(
    node_price: f64,
    nodes: u32,
    pods_price: f64,
    stabilization_price: f64,
    node_cpu_milli: u64,
    preferred_cpu_milli: u64,
) -> f64 {
    let sub =
        (node_price * f64::from(nodes) + stabilization_price) / (pods_price + stabilization_price);
    let (pref, cpu) = (preferred_cpu_milli as f64, node_cpu_milli.max(1) as f64);
    let unfitness = (pref / cpu).max(cpu / pref);
    let suppressed = (unfitness - 1.0) * (1.0 - ((f64::from(nodes) - 1.0) / 15.0).tanh()) + 1.0;
    suppressed * sub
}

/// Upstream's price score of an option in a cluster of `cluster_nodes` nodes, pods priced
/// at GCE's per-resource prices.
pub fn price_score(o: &ScaleUpOption, cluster_nodes: usize) -> f64 {
    let gib = 1024.0 * 1024.0 * 1024.0;
    let pods_price = o.pod_cpu_milli as f64 / 1000.0 * CPU_PRICE_PER_HOUR
        + o.pod_memory_bytes as f64 / gib * GIB_PRICE_PER_HOUR;
    let stab = STABILIZATION_CPU * CPU_PRICE_PER_HOUR + STABILIZATION_GIB * GIB_PRICE_PER_HOUR;
    price_score_parts(
        o.node_price,
        o.nodes,
        pods_price,
        stab,
        o.node_cpu_milli,
        preferred_cpu_milli(cluster_nodes),
    )
}

/// Keeps the options with the best value of `key` (`better(a, b)`: a beats b).
fn keep_best(cands: &mut Vec<usize>, key: impl Fn(usize) -> f64, lower_is_better: bool) {
    let best = cands.iter().map(|&i| key(i)).fold(
        if lower_is_better {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        },
        |a, b| if lower_is_better { a.min(b) } else { a.max(b) },
    );
    cands.retain(|&i| key(i) == best);
}

/// The chosen option's index, or None when there is none.
pub fn choose(
    options: &[ScaleUpOption],
    chain: &[Expander],
    priorities: &[(i32, Vec<u32>)],
    cluster_nodes: usize,
    rng: &mut SimRng,
) -> Option<usize> {
    let mut cands: Vec<usize> = (0..options.len()).collect();
    for e in chain {
        if cands.len() <= 1 {
            break;
        }
        match e {
            Expander::Random => {}
            Expander::MostPods => keep_best(&mut cands, |i| f64::from(options[i].pods), false),
            Expander::LeastNodes => keep_best(&mut cands, |i| f64::from(options[i].nodes), true),
            Expander::LeastWaste => keep_best(&mut cands, |i| waste(&options[i]), true),
            Expander::Price => keep_best(
                &mut cands,
                |i| price_score(&options[i], cluster_nodes),
                true,
            ),
            Expander::Priority => {
                let prio = |i: usize| {
                    priorities
                        .iter()
                        .filter(|(_, pools)| pools.contains(&options[i].pool))
                        .map(|(p, _)| f64::from(*p))
                        .fold(f64::NEG_INFINITY, f64::max)
                };
                keep_best(&mut cands, prio, false);
            }
        }
    }
    match cands.len() {
        0 => None,
        1 => Some(cands[0]),
        n => Some(cands[rng.random_range(0..n)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn option(pool: u32, cpu: u64, mem_mib: u64, pods: u32) -> ScaleUpOption {
        let mib = 1024 * 1024;
        ScaleUpOption {
            pool,
            nodes: 1,
            pods,
            pod_cpu_milli: 500 * u64::from(pods),
            pod_memory_bytes: 1000 * mib * u64::from(pods),
            node_cpu_milli: cpu,
            node_memory_bytes: mem_mib * mib,
            node_price: 1.0,
        }
    }

    fn pick(options: &[ScaleUpOption], chain: &[Expander]) -> Option<u32> {
        let mut rng = crate::engine::RngStreams::new(1).stream("t");
        choose(options, chain, &[], 10, &mut rng).map(|i| options[i].pool)
    }

    #[test]
    fn least_waste_matches_upstream() {
        // waste_test.go: 500m / 1000 MiB pods; balanced 8000m/16000MiB, highmem
        // 8000m/32000MiB, lowcpu 4000m/16000MiB.
        let balanced = option(0, 8000, 16000, 1);
        let highmem = option(1, 8000, 32000, 1);
        let lowcpu = option(2, 4000, 16000, 1);
        assert_eq!(waste(&option(0, 8000, 16000, 0)), 2.0);
        assert_eq!(waste(&balanced), 1.875);
        assert_eq!(waste(&highmem), 1.90625);
        assert_eq!(waste(&lowcpu), 1.8125);
        let chain = [Expander::LeastWaste];
        assert_eq!(pick(&[balanced.clone(), highmem.clone()], &chain), Some(0));
        assert_eq!(pick(&[balanced, highmem, lowcpu], &chain), Some(2));
    }

    #[test]
    fn least_nodes_and_most_pods_keep_their_ties() {
        let with = |pool, nodes, pods| ScaleUpOption {
            nodes,
            pods,
            ..option(pool, 1000, 1000, 0)
        };
        // leastnodes_test.go: 23, 0 (skipped upstream; never built here), 5, 8, 5, 5, 22.
        let opts: Vec<ScaleUpOption> = [23, 5, 8, 5, 5, 22]
            .iter()
            .enumerate()
            .map(|(i, &n)| with(i as u32, n, 1))
            .collect();
        let mut cands: Vec<usize> = (0..opts.len()).collect();
        keep_best(&mut cands, |i| f64::from(opts[i].nodes), true);
        assert_eq!(cands, vec![1, 3, 4]);
        // mostpods_test.go: 0 pods vs 1 pod vs 1 pod → the two with one.
        let opts = [with(0, 1, 0), with(1, 1, 1), with(2, 1, 1)];
        let mut cands: Vec<usize> = (0..3).collect();
        keep_best(&mut cands, |i| f64::from(opts[i].pods), false);
        assert_eq!(cands, vec![1, 2]);
    }

    #[test]
    fn price_scores_match_upstream() {
        // price_test.go: n1 = 1000m, n2 = 4000m; pod prices p1 = 20, p2 = 10, the
        // stabilization pod 10; ng1 takes 2 nodes of n1, ng2 1 node of n2, both [p1, p2].
        let score =
            |price, nodes, pods, cpu, pref| price_score_parts(price, nodes, pods, 10.0, cpu, pref);
        // A: n1 = 20, n2 = 200, preferred 2000m → ng1.
        let (a1, a2) = (
            score(20.0, 2, 30.0, 1000, 2000),
            score(200.0, 1, 30.0, 4000, 2000),
        );
        assert!((a1 - 2.41679).abs() < 1e-4 && (a2 - 10.5).abs() < 1e-9 && a1 < a2);
        // B: n1 = 50, preferred 4000m → ng2.
        let (b1, b2) = (
            score(50.0, 2, 30.0, 1000, 4000),
            score(200.0, 1, 30.0, 4000, 4000),
        );
        assert!((b1 - 10.4508).abs() < 1e-3 && (b2 - 5.25).abs() < 1e-9 && b2 < b1);
        // C: 80 vs 40 nodes, preferred 4000m → ng1.
        let (c1, c2) = (
            score(20.0, 80, 30.0, 1000, 4000),
            score(200.0, 40, 30.0, 4000, 4000),
        );
        assert!((c1 - 40.2564).abs() < 1e-3 && (c2 - 200.25).abs() < 1e-9);
        // E: ng1 fits only p1 (pods price 20) → ng2.
        let (e1, e2) = (
            score(200.0, 2, 20.0, 1000, 2000),
            score(200.0, 1, 30.0, 4000, 2000),
        );
        assert!((e1 - 26.4236).abs() < 1e-3 && e2 < e1);
        // TestPreferredNode: node count → preferred cores.
        for (n, cores) in [
            (1, 1),
            (3, 2),
            (9, 4),
            (27, 8),
            (81, 16),
            (243, 32),
            (500, 32),
        ] {
            assert_eq!(preferred_cpu_milli(n), cores * 1000, "{n} nodes");
        }
    }

    #[test]
    fn priority_keeps_the_highest_matching_pools_or_all_when_none_match() {
        let opts = [
            option(0, 1000, 1000, 1),
            option(1, 1000, 1000, 1),
            option(2, 1000, 1000, 1),
        ];
        let mut rng = crate::engine::RngStreams::new(1).stream("t");
        let prios = vec![(10, vec![0, 1]), (50, vec![2])];
        let chain = [Expander::Priority];
        assert_eq!(choose(&opts, &chain, &prios, 3, &mut rng), Some(2));
        let prios = vec![(10, vec![1])];
        assert_eq!(choose(&opts, &chain, &prios, 3, &mut rng), Some(1));
        // None matches: every option stays, the random fallback picks one of them.
        let none = vec![(10, vec![7])];
        assert!(choose(&opts, &chain, &none, 3, &mut rng).is_some());
    }
}
