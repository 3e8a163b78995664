//! Deployments end to end: a rolling update stays within maxSurge and maxUnavailable and,
//! with a preStop sleep, fails no request; a crashing version stalls, misses its progress
//! deadline and is rolled back; Recreate empties the old ReplicaSet first; crashing
//! containers restart with the kubelet's back-off.

use crate::util::{events, run_scenario, summary, variant};

const FIXTURE: &str = "tests/data/scenarios/rollout.yaml";

/// (time, ReplicaSet, size) of every ScalingReplicaSet event.
fn scalings(dir: &std::path::Path) -> Vec<(f64, String, u32)> {
    events(dir)
        .into_iter()
        .filter(|e| e.3 == "ScalingReplicaSet")
        .map(|e| {
            let (rs, to) =
                e.4.split_once(" replica set ")
                    .and_then(|(_, rest)| rest.split_once(" to "))
                    .expect("Scaled up|down replica set <rs> to <n>");
            (e.0, rs.to_string(), to.parse().expect("size"))
        })
        .collect()
}

#[test]
fn a_rolling_update_stays_within_surge_and_unavailability() {
    let dir = run_scenario(FIXTURE, &[]);
    let steps = scalings(&dir);
    // 10 replicas at 25%/25%: surge 3, unavailable 2. The first step: old to 8, new to 3.
    assert_eq!(
        steps[..2],
        [
            (300.0, "web-1".to_string(), 8),
            (300.0, "web-2".to_string(), 3)
        ]
    );
    // At no point do the two ReplicaSets add up to more than 13 or the old one shrink by
    // more than the new one's progress allows.
    let (mut old, mut new) = (10, 0);
    for (_, rs, to) in &steps {
        if rs == "web-1" {
            old = *to;
        } else {
            new = *to;
        }
        assert!(old + new <= 13, "{steps:?}");
        assert!(old + new >= 8, "{steps:?}");
    }
    assert_eq!((old, new), (0, 10));
}

#[test]
fn a_prestop_sleep_makes_the_rollout_lose_no_request() {
    let base = run_scenario(FIXTURE, &[]);
    let graceful = variant(
        FIXTURE,
        "            image: shop/web:2.3",
        "            image: shop/web:2.3\n            lifecycle: {preStop: {sleep: {seconds: 5}}}",
    );
    let dir = run_scenario(graceful.to_str().expect("utf-8 path"), &[]);
    let failed = |d: &std::path::Path| summary(d)["requests_failed"].as_u64().expect("failed");
    // Without it, a deleted pod stops answering while kube-proxy still routes to it.
    assert!(failed(&base) > 0);
    assert_eq!(failed(&dir), 0);
}

#[test]
fn a_crashing_version_misses_its_deadline_and_is_rolled_back() {
    let bad = variant(
        FIXTURE,
        "    rollout: {workload: web, image: shop/web:2.4}",
        "    rollout: {workload: web, image: shop/web:2.4, crashOnStart: 1.0}",
    );
    let text = std::fs::read_to_string(&bad).expect("variant");
    std::fs::write(
        &bad,
        text.replace(
            "    progressDeadlineSeconds: 120",
            "    progressDeadlineSeconds: 120\n    autoRollback: true",
        ),
    )
    .expect("write");
    let dir = run_scenario(bad.to_str().expect("utf-8 path"), &[]);
    let ev = events(&dir);
    // The new pods crash 5 s after each start and never become available: the rollout
    // stops at old 8 + new 3.
    let backoffs: Vec<_> = ev.iter().filter(|e| e.3 == "BackOff").collect();
    assert!(!backoffs.is_empty());
    let exceeded = ev
        .iter()
        .find(|e| e.3 == "ProgressDeadlineExceeded")
        .expect("deadline");
    assert_eq!(exceeded.0, 300.0 + 120.0);
    assert_eq!(
        exceeded.4,
        "ReplicaSet \"web-2\" has timed out progressing."
    );
    let rollback = ev
        .iter()
        .find(|e| e.3 == "DeploymentRollback")
        .expect("rollback");
    assert_eq!(rollback.0, exceeded.0);
    assert_eq!(rollback.4, "Rolled back deployment \"web\" to revision 1");
    let steps = scalings(&dir);
    let last = |rs: &str| steps.iter().rev().find(|s| s.1 == rs).map(|s| s.2);
    assert_eq!((last("web-1"), last("web-2")), (Some(10), Some(0)));
    // The crash loop: one pod's restarts wait 0, 10, 20 s ... (first restart immediate).
    let pod = &backoffs[0].2;
    let exits: Vec<f64> = ev
        .iter()
        .filter(|e| e.3 == "BackOff" && &e.2 == pod)
        .map(|e| e.0)
        .collect();
    // Restart k waits 10·2^(k-2) s, then 1 s to start and 5 s to crash: gaps 16, 26, ...
    assert!(exits.len() >= 2, "{exits:?}");
    assert_eq!(exits[1] - exits[0], 10.0 + 1.0 + 5.0, "{exits:?}");
    assert!(
        summary(&dir)["container_restarts"]
            .as_u64()
            .expect("restarts")
            > 0
    );
}

#[test]
fn recreate_removes_every_old_pod_before_the_new_ones_start() {
    let recreate = variant(
        FIXTURE,
        "    progressDeadlineSeconds: 120",
        "    progressDeadlineSeconds: 120\n    strategy: {type: Recreate}",
    );
    let dir = run_scenario(recreate.to_str().expect("utf-8 path"), &[]);
    let steps = scalings(&dir);
    assert_eq!(steps[0], (300.0, "web-1".to_string(), 0));
    assert_eq!(steps[1], (300.0, "web-2".to_string(), 10));
    // Downtime: the service had no endpoint while the new pods started.
    assert!(summary(&dir)["requests_failed"].as_u64().expect("failed") > 1000);
}

#[test]
fn a_manual_rollback_returns_to_the_previous_revision() {
    let undo = variant(
        FIXTURE,
        "    rollout: {workload: web, image: shop/web:2.4}",
        "    rollout: {workload: web, image: shop/web:2.4}\n  - at: 15m\n    rollback: {workload: web}",
    );
    let dir = run_scenario(undo.to_str().expect("utf-8 path"), &[]);
    let ev = events(&dir);
    let rb = ev
        .iter()
        .find(|e| e.3 == "DeploymentRollback")
        .expect("rollback");
    assert_eq!(rb.0, 900.0);
    let steps = scalings(&dir);
    let last = |rs: &str| steps.iter().rev().find(|s| s.1 == rs).map(|s| s.2);
    assert_eq!((last("web-1"), last("web-2")), (Some(10), Some(0)));
}

#[test]
fn an_overloaded_pod_fails_its_liveness_probe_and_the_restarts_cost_uptime() {
    const CASCADE: &str = "tests/data/scenarios/liveness-cascade.yaml";
    let dir = run_scenario(CASCADE, &[]);
    let ev = events(&dir);
    let unhealthy: Vec<_> = ev.iter().filter(|e| e.3 == "Unhealthy").collect();
    assert!(!unhealthy.is_empty());
    // The overload starts at 600 s; three failed probes 10 s apart take at least 30 s
    // (judged at the 15 s metrics ticks).
    assert!(unhealthy[0].0 >= 630.0, "{:?}", unhealthy[0]);
    assert!(unhealthy[0].4.starts_with("Liveness probe failed"));
    let killing = ev
        .iter()
        .filter(|e| e.3 == "Killing" && e.4.contains("failed liveness probe"))
        .count();
    assert_eq!(killing, unhealthy.len());
    let s = summary(&dir);
    assert!(s["container_restarts"].as_u64().expect("restarts") >= killing as u64);
    // The same overload without the probe keeps every pod up.
    let no_probe = variant(
        CASCADE,
        "            livenessProbe:\n              httpGet: {path: /healthz, port: 8080}\n              timeoutSeconds: 1\n",
        "",
    );
    let calm = run_scenario(no_probe.to_str().expect("utf-8 path"), &[]);
    assert!(events(&calm).iter().all(|e| e.3 != "Unhealthy"));
    let uptime = |d: &std::path::Path| summary(d)["uptime_min"].as_f64().expect("uptime");
    assert!(
        uptime(&dir) < uptime(&calm),
        "{} vs {}",
        uptime(&dir),
        uptime(&calm)
    );
}
