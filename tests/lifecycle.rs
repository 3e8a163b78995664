//! Node failures end to end, with upstream's timeline: a dead node's pods fail requests
//! until the node lifecycle controller sees it NotReady (50 s grace, 5 s monitor period),
//! then leave the endpoints; the taint manager deletes them 300 s after the NoExecute taint
//! (one node per 10 s per zone) and the ReplicaSet replaces them elsewhere.

use crate::util::{col, events, read_csv, run_scenario, variant};
use std::path::Path;

const FIXTURE: &str = "tests/data/scenarios/node-failure.yaml";

/// (time, rps_failed) per timeseries row of a workload.
fn failed(dir: &Path, workload: &str) -> Vec<(f64, f64)> {
    let (h, rows) = read_csv(&dir.join("timeseries.csv"));
    rows.iter()
        .filter(|r| col(&h, r, "workload") == workload)
        .map(|r| {
            (
                col(&h, r, "time_s").parse().expect("time"),
                col(&h, r, "rps_failed").parse().expect("failed"),
            )
        })
        .collect()
}

#[test]
fn a_dead_node_goes_not_ready_after_the_grace_period_and_its_pods_move_after_300s() {
    let dir = run_scenario(FIXTURE, &[]);
    let ev = events(&dir);
    let fault = ev.iter().find(|e| e.3 == "NodeFailure").expect("the fault");
    assert_eq!((fault.0, fault.2.as_str()), (300.0, "general-0"));
    let not_ready = ev.iter().find(|e| e.3 == "NodeNotReady").expect("NotReady");
    // Grace 50 s, seen at the next 5 s monitor pass.
    assert!(
        not_ready.0 - fault.0 >= 50.0 && not_ready.0 - fault.0 < 55.0 + 1e-9,
        "{not_ready:?}"
    );
    let evictions: Vec<_> = ev
        .iter()
        .filter(|e| e.3 == "TaintManagerEviction")
        .collect();
    assert!(!evictions.is_empty());
    for e in &evictions {
        // The only NotReady node in its zone is tainted at once; pods go 300 s later.
        assert_eq!(e.0, not_ready.0 + 300.0, "{e:?}");
        assert_eq!(e.4, format!("Marking for deletion Pod default/{}", e.2));
    }
    // Replacements are created at once and run on the surviving nodes.
    let created_after: Vec<_> = ev
        .iter()
        .filter(|e| e.3 == "SuccessfulCreate" && e.0 == evictions[0].0)
        .collect();
    assert_eq!(created_after.len(), evictions.len());
    for c in &created_after {
        let pod = c.4.trim_start_matches("Created pod: ");
        let bound = ev
            .iter()
            .find(|e| e.3 == "Scheduled" && e.2 == pod)
            .unwrap_or_else(|| panic!("{pod} never scheduled"));
        assert!(!bound.4.ends_with(" to general-0"), "{}", bound.4);
    }
    // Requests fail only while the dead pods are still listed: from the failure until
    // NotReady plus the endpoint delay (1 s), i.e. in the ticks up to 360 s.
    for (t, f) in failed(&dir, "web") {
        if t <= 300.0 || t > 375.0 {
            assert_eq!(f, 0.0, "failures at {t}");
        }
    }
    assert!(
        failed(&dir, "web")
            .iter()
            .any(|&(t, f)| t > 300.0 && f > 0.0)
    );
}

#[test]
fn a_short_outage_ends_before_eviction_and_the_pods_come_back_in_place() {
    let reboot = variant(
        FIXTURE,
        "nodeFailure: {names: [general-0]}",
        "nodeFailure: {names: [general-0], duration: 2m}",
    );
    let dir = run_scenario(reboot.to_str().expect("utf-8 path"), &[]);
    let ev = events(&dir);
    assert!(ev.iter().any(|e| e.3 == "NodeNotReady"));
    let ready = ev.iter().find(|e| e.3 == "NodeReady").expect("back");
    assert_eq!(ready.0, 420.0);
    assert!(ev.iter().all(|e| e.3 != "TaintManagerEviction"));
    // No pod was replaced: the ones on the node restarted there.
    let created = ev
        .iter()
        .filter(|e| e.3 == "SuccessfulCreate" && e.0 > 0.0)
        .count();
    assert_eq!(created, 0);
    let late = failed(&dir, "web");
    assert!(late.iter().filter(|r| r.0 > 450.0).all(|r| r.1 == 0.0));
}

#[test]
fn a_partitioned_node_keeps_serving_until_it_is_seen_not_ready() {
    let cut = variant(
        FIXTURE,
        "nodeFailure: {names: [general-0]}",
        "partition: {names: [general-0]}",
    );
    let dir = run_scenario(cut.to_str().expect("utf-8 path"), &[]);
    let ev = events(&dir);
    assert!(ev.iter().any(|e| e.3 == "NetworkPartition"));
    let not_ready = ev.iter().find(|e| e.3 == "NodeNotReady").expect("NotReady");
    // Its pods answer until the controller marks them not Ready: no failed request before
    // (a dead node's pods fail from the moment it dies).
    assert!(
        failed(&dir, "web")
            .iter()
            .filter(|r| r.0 <= not_ready.0)
            .all(|r| r.1 == 0.0)
    );
    assert!(ev.iter().any(|e| e.3 == "TaintManagerEviction"));
}

#[test]
fn toleration_seconds_set_how_long_pods_stay_on_an_unreachable_node() {
    let quick = variant(
        FIXTURE,
        "              requests: {cpu: 500m, memory: 512Mi}",
        "              requests: {cpu: 500m, memory: 512Mi}\n        tolerations:\n          - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 30}",
    );
    let dir = run_scenario(quick.to_str().expect("utf-8 path"), &[]);
    let ev = events(&dir);
    let not_ready = ev.iter().find(|e| e.3 == "NodeNotReady").expect("NotReady");
    let first = ev
        .iter()
        .find(|e| e.3 == "TaintManagerEviction")
        .expect("eviction");
    assert_eq!(first.0, not_ready.0 + 30.0);
}

#[test]
fn a_drain_evicts_one_pod_at_a_time_within_the_budget() {
    let drained = variant(
        FIXTURE,
        "faults:\n  - at: 5m\n    nodeFailure: {names: [general-0]}",
        "podDisruptionBudgets:\n  - {name: web, selector: {matchLabels: {app: web}}, minAvailable: 5}\nfaults:\n  - at: 5m\n    drain: {names: [general-0]}",
    );
    // run_scenario runs with --check: an eviction past the budget fails the run.
    let dir = run_scenario(drained.to_str().expect("utf-8 path"), &[]);
    let evicted: Vec<f64> = events(&dir)
        .iter()
        .filter(|e| e.3 == "Evicted" && e.4 == "Evicted pod: drain")
        .map(|e| e.0)
        .collect();
    assert!(evicted.len() >= 2, "{evicted:?}");
    // 6 replicas, minAvailable 5: one at a time, the next once the replacement is Ready
    // (10 s startup), retried every 5 s.
    for w in evicted.windows(2) {
        assert!(w[1] - w[0] >= 10.0, "{evicted:?}");
    }
}

#[test]
fn a_surge_upgrade_replaces_every_node_one_at_a_time() {
    let upgrade = variant(
        FIXTURE,
        "faults:\n  - at: 5m\n    nodeFailure: {names: [general-0]}",
        "podDisruptionBudgets:\n  - {name: web, selector: {matchLabels: {app: web}}, minAvailable: 5}\nfaults:\n  - at: 5m\n    poolUpgrade: {pool: general, maxSurge: 1}",
    );
    let dir = run_scenario(upgrade.to_str().expect("utf-8 path"), &[]);
    let ev = events(&dir);
    let upgraded: Vec<&str> = ev
        .iter()
        .filter(|e| e.3 == "NodeUpgrade")
        .map(|e| e.2.as_str())
        .collect();
    assert_eq!(upgraded, ["general-0", "general-1", "general-2"]);
    // One batch at a time: each old node is cordoned only after the previous one is gone
    // and its replacement has joined.
    let times: Vec<f64> = ev
        .iter()
        .filter(|e| e.3 == "NodeUpgrade")
        .map(|e| e.0)
        .collect();
    for w in times.windows(2) {
        assert!(w[1] > w[0], "{times:?}");
    }
    // The pool ends with three new nodes, and every pod runs on them.
    let (h, rows) = read_csv(&dir.join("nodes.csv"));
    let last = rows.last().expect("rows");
    assert_eq!(col(&h, last, "nodes_ready"), "3");
    let scheduled_on_old = ev
        .iter()
        .filter(|e| e.3 == "Scheduled" && e.0 > times[2] && e.4.ends_with(" to general-2"));
    assert_eq!(scheduled_on_old.count(), 0);
}
