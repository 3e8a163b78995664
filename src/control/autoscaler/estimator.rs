//! How many new nodes of a node group would the pending pods need? Upstream's binpacking
//! estimator: first-fit-decreasing onto copies of the group's template node.
//!
//! Upstream: kubernetes/autoscaler `cluster-autoscaler/estimator/binpacking_estimator.go`
//! and `decreasing_pod_orderer.go`.
//!
//! Follows upstream in: pod groups ordered by `cpu/templateCpu + mem/templateMem`
//! descending; each pod first tried on the nodes added so far, then a new node is added
//! (when the limit allows); a group is given up when its pod does not fit even a fresh
//! node; the estimate counts the new nodes that received a pod. Simplified: resources and
//! the pod count are the only per-node checks (the caller has already checked the group's
//! taints and selectors against the template); no time limits.

/// A template node's allocatable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    /// CPU, milli-cores.
    pub cpu_milli: u64,
    /// Memory, bytes.
    pub memory_bytes: u64,
    /// Pods per node.
    pub max_pods: u32,
}

/// Identical pending pods (one workload's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodGroup {
    /// The workload.
    pub workload: u32,
    /// Each pod's CPU request, milli-cores.
    pub cpu_milli: u64,
    /// Each pod's memory request, bytes.
    pub memory_bytes: u64,
    /// How many.
    pub count: u32,
}

/// What the estimator found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Estimate {
    /// New nodes needed.
    pub nodes: u32,
    /// Pods placed, per workload (in the order groups were packed).
    pub scheduled: Vec<(u32, u32)>,
    /// Σ CPU requested by the placed pods, milli-cores.
    pub cpu_milli: u64,
    /// Σ memory requested by the placed pods, bytes.
    pub memory_bytes: u64,
}

impl Estimate {
    /// Pods placed in total.
    pub fn pods(&self) -> u32 {
        self.scheduled.iter().map(|s| s.1).sum()
    }
}

#[derive(Debug, Clone, Copy)]
struct Bin {
    cpu: u64,
    memory: u64,
    pods: u32,
    used: u32,
}

/// First-fit-decreasing of `groups` onto at most `max_nodes` new nodes like `template`.
pub fn binpacking(template: Template, groups: &[PodGroup], max_nodes: u32) -> Estimate {
    let score = |g: &PodGroup| {
        g.cpu_milli as f64 / template.cpu_milli.max(1) as f64
            + g.memory_bytes as f64 / template.memory_bytes.max(1) as f64
    };
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&a, &b| score(&groups[b]).total_cmp(&score(&groups[a])));
    let mut bins: Vec<Bin> = Vec::new();
    let mut out = Estimate::default();
    for &gi in &order {
        let g = groups[gi];
        let fits = |b: &Bin| b.cpu >= g.cpu_milli && b.memory >= g.memory_bytes && b.used < b.pods;
        let mut placed = 0u32;
        // Capacity only shrinks, so a node that refused one pod of the group refuses the
        // rest: the scan resumes where it stopped.
        let mut cursor = 0usize;
        for _ in 0..g.count {
            while cursor < bins.len() && !fits(&bins[cursor]) {
                cursor += 1;
            }
            if cursor == bins.len() {
                if bins.last().is_some_and(|b| b.used == 0) || bins.len() as u32 >= max_nodes {
                    break; // a fresh node did not take it, or no more nodes allowed
                }
                bins.push(Bin {
                    cpu: template.cpu_milli,
                    memory: template.memory_bytes,
                    pods: template.max_pods,
                    used: 0,
                });
                if !fits(&bins[cursor]) {
                    break;
                }
            }
            let b = &mut bins[cursor];
            b.cpu -= g.cpu_milli;
            b.memory -= g.memory_bytes;
            b.used += 1;
            placed += 1;
        }
        if placed > 0 {
            out.scheduled.push((g.workload, placed));
            out.cpu_milli += g.cpu_milli * u64::from(placed);
            out.memory_bytes += g.memory_bytes * u64::from(placed);
        }
    }
    out.nodes = bins.iter().filter(|b| b.used > 0).count() as u32;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    fn group(workload: u32, count: u32, cpu: u64, mem: u64) -> PodGroup {
        PodGroup {
            workload,
            cpu_milli: cpu,
            memory_bytes: mem,
            count,
        }
    }

    fn template(cpu: u64, mem_mib: u64, pods: u32) -> Template {
        Template {
            cpu_milli: cpu,
            memory_bytes: mem_mib * MIB,
            max_pods: pods,
        }
    }

    #[test]
    fn binpacking_matches_upstream_cases() {
        // binpacking_estimator_test.go (templates with 10 pods; 0 = no node limit).
        let none = u32::MAX;
        // 1: 10 × 350m on 1000m nodes → 2 per node → 5 nodes.
        let e = binpacking(template(1000, 2000, 10), &[group(0, 10, 350, 1000)], none);
        assert_eq!((e.nodes, e.pods()), (5, 10));
        // 2: 20 tiny pods, 10 pods per node → 2 nodes.
        let e = binpacking(template(10000, 20000, 10), &[group(0, 20, 10, 100)], none);
        assert_eq!((e.nodes, e.pods()), (2, 20));
        // 4: the limiter stops at 5 nodes, 10 of the 20 pods.
        let e = binpacking(template(1000, 5000, 10), &[group(0, 20, 500, 1000)], 5);
        assert_eq!((e.nodes, e.pods()), (5, 10));
        // 5: the larger pods go first and take all 5 nodes.
        let e = binpacking(
            template(1000, 5000, 10),
            &[group(0, 10, 50, 1000), group(1, 10, 500, 1000)],
            5,
        );
        assert_eq!((e.nodes, e.pods()), (5, 10));
        assert_eq!(e.scheduled, vec![(1, 10)]);
    }

    #[test]
    fn binpacking_matches_upstreams_benchmark_figure() {
        // BenchmarkBinpackingEstimate: 100 pods per 1000m node; 1,000 × 95m go first
        // (10 per node, 100 nodes with 50m left), then 50,000 × 50m fill those gaps and
        // 2,495 more nodes: 2,595 nodes, 51,000 pods.
        let e = binpacking(
            template(1000, 5000, 100),
            &[group(0, 50_000, 50, 100), group(1, 1_000, 95, 190)],
            3000,
        );
        assert_eq!((e.nodes, e.pods()), (2595, 51_000));
    }

    #[test]
    fn a_pod_too_big_for_a_fresh_node_gives_up_its_group() {
        let e = binpacking(template(1000, 5000, 10), &[group(0, 3, 2000, 1)], u32::MAX);
        assert_eq!((e.nodes, e.pods()), (0, 0));
    }
}
