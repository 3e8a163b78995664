//! Karpenter end to end: pending pods are batched and get the cheapest instance types that
//! fit them; empty nodes go one budget's worth at a time after the validation delay; an
//! underused node is replaced by a cheaper one that boots before the old one drains; and
//! NodePool limits stop launches with upstream's message.

use crate::util::{col, events, read_csv, run_scenario, summary, variant};
use std::path::Path;

const STEP: &str = "tests/data/scenarios/karpenter-step.yaml";
const CONSOLIDATE: &str = "tests/data/scenarios/karpenter-consolidate.yaml";

/// Nodes running or booting per pool at the last nodes.csv sample.
fn final_nodes(dir: &Path) -> Vec<(String, u32)> {
    let (h, rows) = read_csv(&dir.join("nodes.csv"));
    let last: f64 = rows
        .iter()
        .map(|r| col(&h, r, "time_s").parse::<f64>().expect("time"))
        .fold(0.0, f64::max);
    rows.iter()
        .filter(|r| col(&h, r, "time_s").parse::<f64>().expect("time") == last)
        .map(|r| {
            let n: u32 = col(&h, r, "nodes_ready").parse().expect("ready");
            let p: u32 = col(&h, r, "nodes_provisioning").parse().expect("prov");
            (col(&h, r, "pool").to_string(), n + p)
        })
        .collect()
}

#[test]
fn pending_pods_are_batched_onto_the_cheapest_fitting_type() {
    let dir = run_scenario(STEP, &[]);
    let ev = events(&dir);
    let failed = ev
        .iter()
        .find(|e| e.3 == "FailedScheduling")
        .expect("pods stopped fitting the system node");
    let launched: Vec<_> = ev.iter().filter(|e| e.3 == "Launched").collect();
    let first = launched.first().expect("a NodeClaim launched");
    // The batch closes 1 s after the last new pod, and never later than 10 s.
    assert!(
        first.0 >= failed.0 + 1.0 && first.0 <= failed.0 + 10.0,
        "{failed:?} then {first:?}"
    );
    // Small batches of 500m pods: c6i.large ($0.085/h) is the cheapest m6i/c6i type that
    // takes them; m6i.large costs $0.096/h.
    for l in &launched {
        assert!(l.4.contains("instance-type c6i.large"), "{}", l.4);
    }
    // Every nominated pod is bound to a node of the NodePool after it boots (60-90 s).
    let nominated: Vec<_> = ev.iter().filter(|e| e.3 == "Nominated").collect();
    assert!(!nominated.is_empty());
    for n in &nominated {
        assert!(n.4.starts_with("Pod should schedule on: nodeclaim/default-"));
        let bound = ev
            .iter()
            .find(|e| e.3 == "Scheduled" && e.2 == n.2 && e.0 >= n.0)
            .unwrap_or_else(|| panic!("{} never scheduled", n.2));
        assert!(bound.4.contains("default-c6i.large-"), "{}", bound.4);
        assert!(
            bound.0 - n.0 >= 30.0,
            "{} bound {} s after",
            n.2,
            bound.0 - n.0
        );
    }
}

#[test]
fn empty_nodes_go_one_budget_at_a_time_after_validation() {
    let dir = run_scenario(STEP, &[]);
    let ev = events(&dir);
    let rescale_in = ev
        .iter()
        .filter(|e| e.3 == "SuccessfulRescale" && e.4.contains("below target"))
        .map(|e| e.0)
        .next()
        .expect("the HPA scales in after the step");
    let deleted: Vec<f64> = ev
        .iter()
        .filter(|e| e.3 == "DisruptionTerminating")
        .map(|e| {
            assert_eq!(e.4, "Disrupting Node: Empty/Delete");
            e.0
        })
        .collect();
    assert!(!deleted.is_empty(), "no node consolidated");
    // The first command waits out the 15 s validation after the poll that found it.
    assert!(deleted[0] >= rescale_in + 15.0, "{deleted:?}");
    // The default 10% budget of a pool of under 10 nodes allows one at a time: each
    // deletion is a new poll plus validation (≥ 15 s) after the previous one.
    for w in deleted.windows(2) {
        assert!(w[1] - w[0] >= 15.0, "{deleted:?}");
    }
    // At the end only the system node remains.
    let left: u32 = final_nodes(&dir)
        .iter()
        .filter(|(p, _)| p.starts_with("default-"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(left, 0, "{:?}", final_nodes(&dir));
}

#[test]
fn an_underused_node_is_replaced_by_a_cheaper_one_that_boots_first() {
    let dir = run_scenario(CONSOLIDATE, &[]);
    let ev = events(&dir);
    let big = ev
        .iter()
        .find(|e| e.3 == "Launched")
        .expect("the first launch");
    assert!(big.4.contains("for 12 pod(s)") && big.4.contains("c6i.2xlarge"));
    let disrupt = ev
        .iter()
        .find(|e| e.3 == "DisruptionTerminating")
        .expect("consolidation");
    assert_eq!(disrupt.4, "Disrupting Node: Underutilized/Replace");
    assert_eq!(disrupt.2, "default-c6i.2xlarge-0");
    let replacement = ev
        .iter()
        .find(|e| e.3 == "Launched" && e.4.contains("replacing 1 node(s)"))
        .expect("a replacement");
    assert!(replacement.4.contains("c6i.large"), "{}", replacement.4);
    // Pods are evicted only once the replacement is Ready (60 s boot).
    let evicted: Vec<_> = ev.iter().filter(|e| e.3 == "Evicted").collect();
    assert_eq!(evicted.len(), 2, "{evicted:?}");
    for e in &evicted {
        assert_eq!(e.4, "Evicted pod: Underutilized");
        assert!(e.0 - replacement.0 >= 59.0, "evicted at {}", e.0);
    }
    // Consolidation pays: the same run without it costs more.
    let cost = |d: &Path| {
        summary(d)["cost_total_usd"]
            .as_f64()
            .expect("cost_total_usd")
    };
    let never = variant(
        CONSOLIDATE,
        "      provisioning: {median: 60s, p90: 60s}",
        "      provisioning: {median: 60s, p90: 60s}\n      disruption: {consolidateAfter: Never}",
    );
    let kept = run_scenario(never.to_str().expect("utf-8 path"), &[]);
    assert!(
        events(&kept).iter().all(|e| e.3 != "DisruptionTerminating"),
        "consolidateAfter: Never still consolidated"
    );
    assert!(
        cost(&dir) < cost(&kept),
        "{} vs {}",
        cost(&dir),
        cost(&kept)
    );
}

#[test]
fn a_budget_of_zero_blocks_consolidation_and_limits_block_launches() {
    let blocked = variant(
        CONSOLIDATE,
        "      provisioning: {median: 60s, p90: 60s}",
        "      provisioning: {median: 60s, p90: 60s}\n      disruption:\n        budgets: [{nodes: \"0\", reasons: [Underutilized]}]",
    );
    let dir = run_scenario(blocked.to_str().expect("utf-8 path"), &[]);
    assert!(events(&dir).iter().all(|e| e.3 != "DisruptionTerminating"));
    // A cpu limit of 4 leaves no room for the 8-vCPU type the 12 pods need together: the
    // pods are split over smaller nodes up to the limit, the rest are told why.
    let limited = variant(
        CONSOLIDATE,
        "      provisioning: {median: 60s, p90: 60s}",
        "      provisioning: {median: 60s, p90: 60s}\n      limits: {cpu: \"4\"}",
    );
    let dir = run_scenario(limited.to_str().expect("utf-8 path"), &[]);
    let ev = events(&dir);
    let refused = ev
        .iter()
        .find(|e| e.1 == "Pod" && e.3 == "FailedScheduling" && e.4.contains("exceed limits"))
        .expect("a pod told the limit is reached");
    assert!(
        refused
            .4
            .contains("all available instance types exceed limits for nodepool: \"default\""),
        "{}",
        refused.4
    );
}

#[test]
fn spot_capacity_is_preferred_when_the_nodepool_allows_it() {
    let spot = variant(
        STEP,
        "      instanceTypes: [\"m6i.*\", \"c6i.*\"]",
        "      instanceTypes: [\"m5.*\", \"c5.*\"]\n      capacityTypes: [on-demand, spot]",
    );
    let dir = run_scenario(spot.to_str().expect("utf-8 path"), &[]);
    let launched: Vec<_> = events(&dir)
        .into_iter()
        .filter(|e| e.3 == "Launched")
        .collect();
    assert!(!launched.is_empty());
    for l in &launched {
        // c5.large spot ($0.034/h) is the cheapest offering that fits.
        assert!(
            l.4.contains("instance-type c5.large, capacity-type spot"),
            "{}",
            l.4
        );
    }
}

#[test]
fn an_insufficient_capacity_error_falls_back_to_the_next_nodepool() {
    let stocked_out = variant(
        STEP,
        "  nodePools:\n",
        "  nodePools:\n    - name: spot\n      provider: aws\n      weight: 10\n      instanceTypes: [\"c5.*\"]\n      capacityTypes: [spot]\n      provisioning: {unavailable: [{from: 0s, until: 2h}]}\n",
    );
    let dir = run_scenario(stocked_out.to_str().expect("utf-8 path"), &[]);
    let ev = events(&dir);
    let ice: Vec<_> = ev
        .iter()
        .filter(|e| e.3 == "InsufficientCapacityError")
        .collect();
    assert!(!ice.is_empty(), "the heavier spot NodePool was tried first");
    assert_eq!(ice[0].2, "spot");
    // Each failed offering is skipped for 3 minutes; the pods are packed again at once
    // onto the next offering, so the default NodePool launches within the next batch.
    let launched = ev
        .iter()
        .find(|e| e.3 == "Launched")
        .expect("a fallback launch");
    assert!(launched.2.starts_with("default-"), "{launched:?}");
    assert!(
        launched.0 - ice[0].0 <= 11.0,
        "{} then {}",
        ice[0].0,
        launched.0
    );
    for e in ev
        .iter()
        .filter(|e| e.3 == "Scheduled" && e.2.starts_with("api-"))
    {
        assert!(!e.4.contains(" to spot-"), "{}", e.4);
    }
}

#[test]
fn do_not_disrupt_keeps_the_node_out_of_consolidation() {
    let pinned = variant(
        CONSOLIDATE,
        "    template:\n      spec:",
        "    template:\n      metadata:\n        annotations: {karpenter.sh/do-not-disrupt: \"true\"}\n      spec:",
    );
    let dir = run_scenario(pinned.to_str().expect("utf-8 path"), &[]);
    let ev = events(&dir);
    assert!(
        ev.iter().any(|e| e.3 == "SuccessfulRescale"),
        "the HPA still scales in"
    );
    assert!(
        ev.iter()
            .all(|e| e.3 != "DisruptionTerminating" && e.3 != "Evicted")
    );
}
