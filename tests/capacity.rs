//! The cluster autoscaler end to end: pending pods trigger a scale-up within one scan,
//! nodes join after their provisioning time and take the pods, and nodes leave only after
//! being unneeded for the unneeded time, never below the pool's minimum.

use crate::util::{col, events, read_csv, run_scenario, variant};
use std::path::Path;

const FIXTURE: &str = "tests/data/scenarios/ca-step.yaml";

/// (time, ready, provisioning) per nodes.csv row (one pool).
fn nodes(dir: &Path) -> Vec<(f64, u32, u32)> {
    let (h, rows) = read_csv(&dir.join("nodes.csv"));
    rows.iter()
        .map(|r| {
            (
                col(&h, r, "time_s").parse().expect("time"),
                col(&h, r, "nodes_ready").parse().expect("ready"),
                col(&h, r, "nodes_provisioning")
                    .parse()
                    .expect("provisioning"),
            )
        })
        .collect()
}

#[test]
fn pending_pods_trigger_a_scale_up_and_run_once_the_nodes_join() {
    let dir = run_scenario(FIXTURE, &[]);
    let ev = events(&dir);
    let failed = ev
        .iter()
        .find(|e| e.3 == "FailedScheduling")
        .expect("pods stopped fitting");
    let triggered: Vec<_> = ev.iter().filter(|e| e.3 == "TriggeredScaleUp").collect();
    let first = triggered.first().expect("a scale-up");
    // Within one 10 s scan of the pod failing to schedule.
    assert!(
        first.0 >= failed.0 && first.0 - failed.0 <= 10.0,
        "{failed:?} then {first:?}"
    );
    assert!(
        first.4.starts_with("pod triggered scale-up: [{small 2->"),
        "{}",
        first.4
    );
    // The nodes are billed and shown as provisioning, then Ready after their boot time
    // (lognormal, median 90 s, p90 120 s).
    let rows = nodes(&dir);
    let booting = rows.iter().find(|r| r.2 > 0).expect("nodes provisioning");
    assert!(booting.0 >= first.0);
    let joined = rows.iter().find(|r| r.1 > 2).expect("nodes joined");
    assert!(
        joined.0 - first.0 >= 30.0 && joined.0 - first.0 <= 300.0,
        "joined {} s after the trigger",
        joined.0 - first.0
    );
    // Every pod that triggered the scale-up is scheduled onto a new node afterwards.
    for t in &triggered {
        let bound = ev
            .iter()
            .find(|e| e.3 == "Scheduled" && e.2 == t.2)
            .unwrap_or_else(|| panic!("{} never scheduled", t.2));
        assert!(bound.0 > t.0 + 30.0, "{} bound at {}", t.2, bound.0);
        assert!(
            bound.4.contains(" to small-2") || bound.4.contains(" to small-3"),
            "{}",
            bound.4
        );
    }
    // Never above the pool's max, and back at its min at the end.
    assert!(rows.iter().all(|r| r.1 + r.2 <= 12));
    assert_eq!(rows.last().map(|r| r.1), Some(2));
}

#[test]
fn nodes_leave_only_after_the_unneeded_time() {
    let dir = run_scenario(FIXTURE, &[]);
    let ev = events(&dir);
    let scale_in = ev
        .iter()
        .find(|e| e.3 == "SuccessfulRescale" && e.4.ends_with("All metrics below target"))
        .expect("the HPA scaled in");
    let removals: Vec<_> = ev
        .iter()
        .filter(|e| e.1 == "Node" && e.3 == "ScaleDown")
        .collect();
    assert_eq!(removals.len(), 2, "{removals:?}");
    for r in &removals {
        assert_eq!(r.4, "nodes removed by cluster autoscaler");
        // Nodes emptied by the scale-in become unneeded then; upstream deletes them once
        // unneeded for more than scaleDownUnneededTime (10 min).
        assert!(
            r.0 - scale_in.0 > 600.0,
            "removed {} s after the scale-in",
            r.0 - scale_in.0
        );
    }
    // A shorter unneeded time removes them sooner; disabled scale-down never does.
    let quick = variant(
        FIXTURE,
        "clusterAutoscaler: {}",
        "clusterAutoscaler: {scaleDownUnneededTime: 2m}",
    );
    let dir = run_scenario(quick.to_str().expect("path"), &[]);
    let first = events(&dir)
        .into_iter()
        .find(|e| e.1 == "Node" && e.3 == "ScaleDown")
        .expect("removed");
    assert!(first.0 < removals[0].0, "{} vs {}", first.0, removals[0].0);
    let off = variant(
        FIXTURE,
        "clusterAutoscaler: {}",
        "clusterAutoscaler: {scaleDownEnabled: false}",
    );
    let dir = run_scenario(off.to_str().expect("path"), &[]);
    assert!(
        !events(&dir)
            .iter()
            .any(|e| e.1 == "Node" && e.3 == "ScaleDown")
    );
    assert!(nodes(&dir).last().is_some_and(|r| r.1 > 2));
}

#[test]
fn without_a_cluster_autoscaler_pods_stay_pending() {
    let fixed = variant(FIXTURE, "clusterAutoscaler: {}\n", "");
    let dir = run_scenario(fixed.to_str().expect("path"), &[]);
    let ev = events(&dir);
    assert!(!ev.iter().any(|e| e.3 == "TriggeredScaleUp"));
    assert!(nodes(&dir).iter().all(|r| r.1 == 2 && r.2 == 0));
}

#[test]
fn a_spot_interruption_drains_within_the_budget_and_the_instance_is_replaced() {
    let dir = run_scenario("tests/data/scenarios/spot.yaml", &[]);
    let ev = events(&dir);
    let notice = ev
        .iter()
        .find(|e| e.3 == "SpotInterruption")
        .expect("the scheduled interruption");
    assert_eq!((notice.0, notice.2.as_str()), (600.0, "spot-0"));
    let kills: Vec<_> = ev.iter().filter(|e| e.3 == "Killing").collect();
    assert_eq!(kills.len(), 2, "the node held two web pods: {kills:?}");
    // maxUnavailable 1: the second eviction waits until the first pod's replacement is
    // Ready (startupTime 20 s), retried every 5 s like kubectl drain.
    assert_eq!(kills[0].0, 600.0);
    assert!(kills[1].0 >= 620.0 && kills[1].0 < 720.0, "{:?}", kills[1]);
    // AWS's 2-minute notice, then the instance is gone and replaced.
    let rows = nodes(&dir);
    let gone = rows.iter().find(|r| r.1 == 2).expect("the node left");
    assert_eq!((gone.0, gone.2), (720.0, 1));
    assert_eq!(rows.last().map(|r| (r.1, r.2)), Some((3, 0)));
    // Billed at the catalog's spot price: 3 × $0.07044 an hour.
    let (h, r) = read_csv(&dir.join("nodes.csv"));
    let price: f64 = col(&h, &r[0], "cost_per_hour_usd").parse().expect("cost");
    assert!((price - 3.0 * 0.07044).abs() < 1e-9, "{price}");
}

#[test]
fn spot_nodes_are_interrupted_at_the_pools_hazard_rate() {
    // 3 nodes for 24 h with a mean of 6 h between interruptions: about 12 notices
    // (Poisson; the bounds hold for any seed with overwhelming probability).
    let hazard = variant(
        "tests/data/scenarios/spot.yaml",
        "        interruptions: [{at: 10m, nodes: 1}]",
        "        meanTimeToInterruption: 6h",
    );
    let dir = run_scenario(hazard.to_str().expect("path"), &["--set", "duration=24h"]);
    let notices = events(&dir)
        .iter()
        .filter(|e| e.3 == "SpotInterruption")
        .count();
    assert!((4..=24).contains(&notices), "{notices} interruptions");
}

#[test]
fn headroom_placeholders_give_way_at_once_and_pull_the_scale_up_forward() {
    let with = variant(
        FIXTURE,
        "clusterAutoscaler: {}\n",
        "clusterAutoscaler: {}\nheadroom: {replicas: 2, requests: {cpu: \"1\", memory: 1Gi}}\n",
    );
    let dir = run_scenario(with.to_str().expect("path"), &[]);
    let ev = events(&dir);
    // Real pods preempt the placeholders and run on their room at once.
    let preempted: Vec<_> = ev.iter().filter(|e| e.3 == "Preempted").collect();
    assert_eq!(preempted.len(), 2, "{preempted:?}");
    for p in &preempted {
        assert!(p.2.starts_with("overprovisioning-"), "{p:?}");
        let by =
            p.4.split("default/")
                .nth(1)
                .and_then(|s| s.split(' ').next())
                .expect("preemptor");
        let bound = ev
            .iter()
            .find(|e| e.3 == "Scheduled" && e.2 == by)
            .expect("preemptor scheduled");
        assert_eq!(bound.0, p.0, "{by} waited");
    }
    // The evicted placeholders pend and trigger the scale-up themselves (priority -1 is
    // above the autoscaler's expendable cutoff of -10), before any real pod has to.
    let first = ev
        .iter()
        .find(|e| e.3 == "TriggeredScaleUp")
        .expect("scale-up");
    assert!(first.2.starts_with("overprovisioning-"), "{first:?}");
}

#[test]
fn daemonsets_take_room_on_every_node_of_their_pools() {
    let dir = run_scenario("tests/data/scenarios/daemonsets.yaml", &[]);
    let ev = events(&dir);
    let on = |pool: &str| {
        ev.iter()
            .filter(|e| e.3 == "Scheduled" && e.4.ends_with(&format!(" to {pool}-0")))
            .count()
    };
    // a: 2000m − 100m − 200m = 1700m → 5 pods; b: 2000m − 100m → 6 pods; the 12th waits.
    assert_eq!((on("a"), on("b")), (5, 6));
    assert!(
        ev.iter()
            .any(|e| e.3 == "FailedScheduling" && e.2 == "web-11")
    );
    // nodes.csv counts the DaemonSet pods' requests, as the API server does.
    let (h, rows) = read_csv(&dir.join("nodes.csv"));
    let requested = |pool: &str| {
        rows.iter()
            .find(|r| col(&h, r, "pool") == pool)
            .map(|r| col(&h, r, "cpu_requested").to_string())
    };
    assert_eq!(requested("a").as_deref(), Some("1.800"));
    assert_eq!(requested("b").as_deref(), Some("1.900"));
}

#[test]
fn an_instance_is_billed_at_least_the_providers_minimum() {
    // Node 0 lives 10 s, its replacement (requested at 10 s) 40 s: each billed 60 s, the
    // last one from its request at 50 s to the end: 670 s at m5.4xlarge's spot price.
    let dir = run_scenario("tests/data/scenarios/billing-minimum.yaml", &[]);
    let s = crate::util::summary(&dir);
    let hours = s["node_hours"].as_f64().expect("node_hours");
    assert!((hours - 670.0 / 3600.0).abs() < 1e-5, "{hours}");
    let cost = s["cost_nodes_usd"].as_f64().expect("cost");
    assert!((cost - 670.0 * 0.29678 / 3600.0).abs() < 1e-5, "{cost}");
}

#[test]
fn pods_no_group_can_help_are_told_why_once() {
    let capped = variant(FIXTURE, "      max: 12", "      max: 3");
    let dir = run_scenario(capped.to_str().expect("path"), &[]);
    let ev = events(&dir);
    let told: Vec<_> = ev.iter().filter(|e| e.3 == "NotTriggerScaleUp").collect();
    assert!(!told.is_empty());
    for t in &told {
        assert_eq!(
            t.4,
            "pod didn't trigger scale-up: 1 max node group size reached"
        );
    }
    // Once per pod, however many scans it stays pending.
    let mut pods: Vec<&str> = told.iter().map(|t| t.2.as_str()).collect();
    let n = pods.len();
    pods.sort();
    pods.dedup();
    assert_eq!(pods.len(), n);
    assert!(nodes(&dir).iter().all(|r| r.1 + r.2 <= 3));
}

#[test]
fn balancing_spreads_a_scale_up_over_similar_zonal_groups() {
    let dir = run_scenario("tests/data/scenarios/ca-zones.yaml", &[]);
    let (h, rows) = read_csv(&dir.join("nodes.csv"));
    let last_time = rows
        .last()
        .map(|r| col(&h, r, "time_s").to_string())
        .expect("rows");
    let sizes: Vec<u32> = rows
        .iter()
        .filter(|r| col(&h, r, "time_s") == last_time)
        .map(|r| col(&h, r, "nodes_ready").parse().expect("ready"))
        .collect();
    // Five new nodes for the burst, spread so the groups differ by at most one.
    assert_eq!(sizes.iter().sum::<u32>(), 8, "{sizes:?}");
    assert!(
        sizes
            .iter()
            .max()
            .zip(sizes.iter().min())
            .is_some_and(|(a, b)| a - b <= 1),
        "{sizes:?}"
    );
    let ev = events(&dir);
    let first = ev
        .iter()
        .find(|e| e.3 == "TriggeredScaleUp")
        .expect("scale-up");
    assert_eq!(first.4.matches("->").count(), 3, "{}", first.4);
    // Without balancing one group takes them all.
    let off = variant(
        "tests/data/scenarios/ca-zones.yaml",
        "balanceSimilarNodeGroups: true",
        "balanceSimilarNodeGroups: false",
    );
    let dir = run_scenario(off.to_str().expect("path"), &[]);
    let (h, rows) = read_csv(&dir.join("nodes.csv"));
    let max = rows
        .iter()
        .map(|r| col(&h, r, "nodes_ready").parse::<u32>().expect("ready"))
        .max();
    assert_eq!(max, Some(6));
}

#[test]
fn a_stocked_out_group_times_out_backs_off_and_the_next_group_grows() {
    let dir = run_scenario("tests/data/scenarios/ca-stockout.yaml", &[]);
    let ev = events(&dir);
    let first = ev
        .iter()
        .find(|e| e.3 == "TriggeredScaleUp")
        .expect("a scale-up");
    // The price expander picks the spot pool (cheapest), which has no capacity.
    assert!(first.4.contains("{spot 0->"), "{}", first.4);
    let timed_out: Vec<_> = ev.iter().filter(|e| e.3 == "ScaleUpTimedOut").collect();
    assert!(!timed_out.is_empty(), "no timeout");
    for t in &timed_out {
        // maxNodeProvisionTime: 15 minutes after the request.
        assert_eq!(t.0 - first.0, 900.0);
        assert_eq!(
            t.4,
            "Nodes added to group spot failed to register within 15m0s"
        );
    }
    // The spot group is backed off (5 min): the same scan grows the on-demand pool, and no
    // later scale-up goes to spot while it lasts.
    let next: Vec<_> = ev
        .iter()
        .filter(|e| e.3 == "TriggeredScaleUp" && e.0 > first.0)
        .collect();
    assert!(next[0].4.contains("{ondemand 0->"), "{}", next[0].4);
    assert_eq!(next[0].0, timed_out[0].0);
    assert!(
        next.iter()
            .all(|e| !e.4.contains("{spot") || e.0 >= timed_out[0].0 + 300.0)
    );
    // Requests that never came up are not billed: nodes.csv shows them provisioning at no
    // cost, and every batch pod runs on an on-demand node in the end.
    let (h, rows) = read_csv(&dir.join("nodes.csv"));
    let spot_waiting = rows
        .iter()
        .find(|r| col(&h, r, "pool") == "spot" && col(&h, r, "nodes_provisioning") != "0")
        .expect("spot requests shown as provisioning");
    assert_eq!(col(&h, spot_waiting, "cost_per_hour_usd"), "0.000000");
    for i in 0..6 {
        let pod = format!("batch-{i}");
        let bound = ev
            .iter()
            .find(|e| e.3 == "Scheduled" && e.2 == pod)
            .unwrap_or_else(|| panic!("{pod} never ran"));
        assert!(bound.4.contains(" to ondemand-"), "{}", bound.4);
    }
}

#[test]
fn safe_to_evict_false_pins_a_pods_node_but_empty_nodes_still_go() {
    let count = |dir: &Path, message: &str| events(dir).iter().filter(|e| e.4 == message).count();
    let base = run_scenario(FIXTURE, &[]);
    let moved = "deleting pod for node scale down";
    assert!(
        count(&base, moved) > 0,
        "the fixture drains a non-empty node"
    );
    let pinned = variant(
        FIXTURE,
        "    template:\n      spec:",
        "    template:\n      metadata:\n        annotations: {cluster-autoscaler.kubernetes.io/safe-to-evict: \"false\"}\n      spec:",
    );
    let dir = run_scenario(pinned.to_str().expect("utf-8 path"), &[]);
    assert_eq!(count(&dir, moved), 0, "an annotated pod was evicted");
    assert!(count(&dir, "nodes removed by cluster autoscaler") > 0);
}
