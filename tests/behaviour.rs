//! End-to-end behaviour of the control loop and the traffic model, each checked against
//! what Kubernetes or queueing theory says must happen.

use crate::util::{col, read_csv, run_scenario, summary};
use serde_json::Value;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn overload_fails_requests_only_while_the_spike_lasts() {
    let dir = run_scenario("tests/data/scenarios/spike-overload.yaml", &[]);
    let (h, rows) = read_csv(&dir.join("timeseries.csv"));
    for r in &rows {
        let t: f64 = col(&h, r, "time_s").parse().expect("time");
        let failed: f64 = col(&h, r, "rps_failed").parse().expect("failed");
        let served: f64 = col(&h, r, "rps_served").parse().expect("served");
        if t < 600.0 {
            assert!(
                failed < 0.01,
                "no failures before the spike, t={t}: {failed}"
            );
        } else if t == 615.0 {
            // First overloaded tick: 600 offered, 300 served, 40 fill the 2 s queue.
            assert!(
                (failed - 260.0 / 15.0).abs() < 0.01,
                "t={t}: failed {failed}"
            );
        } else if (630.0..=900.0).contains(&t) {
            // 40 rps offered, capacity 20 rps, the 2 s queue full: the pods work at
            // capacity, but a request starts with about one mean service (100 ms) left
            // before its timeout, so only 1 − e^(−1) of the work is answered in time
            // (the exact model: about half; see docs/traffic.md).
            let in_time = 20.0 * (1.0 - (-1.0f64).exp());
            assert!((served - in_time).abs() < 0.01, "t={t}: served {served}");
            assert!(
                (failed - (40.0 - in_time)).abs() < 1.5,
                "t={t}: failed {failed}"
            );
        } else if t >= 960.0 {
            assert!(failed < 0.01, "recovered after the spike, t={t}: {failed}");
        }
    }
    let s = summary(&dir);
    assert!(
        f(&s["availability"]) < 0.8 && f(&s["availability"]) > 0.6,
        "{s}"
    );
}

#[test]
fn traffic_without_endpoints_fails_entirely() {
    let dir = run_scenario("tests/data/scenarios/no-endpoints.yaml", &[]);
    let s = summary(&dir);
    assert_eq!(s["requests_served"], 0);
    assert!(s["requests_failed"].as_u64().expect("count") > 10_000);
    assert_eq!(s["availability"], 0.0);
    assert_eq!(s["latency_p99_ms"], Value::Null);
    assert_eq!(s["slo_met"], false);
}

#[test]
fn pods_that_fit_nowhere_stay_pending_with_upstreams_message() {
    let dir = run_scenario("tests/data/scenarios/unschedulable.yaml", &[]);
    let (h, rows) = read_csv(&dir.join("events.csv"));
    let failed: Vec<_> = rows
        .iter()
        .filter(|r| col(&h, r, "reason") == "FailedScheduling")
        .collect();
    assert!(!failed.is_empty());
    assert_eq!(
        col(&h, failed[0], "message"),
        "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."
    );
    let scheduled = rows
        .iter()
        .filter(|r| col(&h, r, "reason") == "Scheduled")
        .count();
    assert_eq!(scheduled, 4);
    let (th, ts) = read_csv(&dir.join("timeseries.csv"));
    assert!(ts.iter().all(|r| col(&th, r, "replicas_ready") == "4"));
    // Two pods wait the whole 20 minutes.
    let s = summary(&dir);
    assert_eq!(f(&s["unschedulable_pod_seconds"]), 2.0 * 1200.0);
    // Retried every 5 minutes (podMaxInUnschedulablePodsDuration), not in a busy loop.
    assert!(failed.len() <= 2 * 5, "{} attempts", failed.len());
}

#[test]
fn taints_keep_pods_off_a_pool_unless_tolerated_and_selected() {
    let dir = run_scenario("tests/data/scenarios/taints.yaml", &[]);
    let (h, rows) = read_csv(&dir.join("events.csv"));
    let mut placed = 0;
    for r in rows.iter().filter(|r| col(&h, r, "reason") == "Scheduled") {
        let msg = col(&h, r, "message");
        let pod = col(&h, r, "object");
        if pod.starts_with("web-") {
            assert!(
                msg.ends_with(" to general-0") || msg.ends_with(" to general-1"),
                "{msg}"
            );
        } else {
            assert!(
                msg.ends_with(" to batch-0") || msg.ends_with(" to batch-1"),
                "{msg}"
            );
        }
        placed += 1;
    }
    assert_eq!(placed, 10);
}

#[test]
fn least_allocated_spreads_and_bin_packing_packs() {
    let nodes_used = |extra: &[&str]| {
        let dir = run_scenario("scenarios/quickstart.yaml", extra);
        let (h, rows) = read_csv(&dir.join("events.csv"));
        let mut nodes: Vec<String> = rows
            .iter()
            .filter(|r| col(&h, r, "reason") == "Scheduled")
            .filter_map(|r| col(&h, r, "message").rsplit(' ').next().map(str::to_string))
            .collect();
        nodes.sort();
        nodes.dedup();
        nodes.len()
    };
    // 7 cores of requests on three 4-core nodes: spreading uses all three, packing two.
    assert_eq!(nodes_used(&[]), 3);
    assert_eq!(nodes_used(&["--set", "scheduler.profile=bin-packing"]), 2);
}

#[test]
fn a_single_pod_behaves_like_an_mm1_queue() {
    let dir = run_scenario("tests/data/scenarios/mm1.yaml", &[]);
    let s = summary(&dir);
    // Exp(5/s): p50 = ln 2 / 5, p99 = ln 100 / 5; the histogram resolves within 2.5 %.
    let p50 = f(&s["latency_p50_ms"]);
    let p99 = f(&s["latency_p99_ms"]);
    assert!(
        (p50 / (2f64.ln() / 5.0 * 1000.0) - 1.0).abs() < 0.03,
        "p50 {p50}"
    );
    assert!(
        (p99 / (100f64.ln() / 5.0 * 1000.0) - 1.0).abs() < 0.03,
        "p99 {p99}"
    );
    assert_eq!(s["requests_offered"], 18_000);
    let (h, rows) = read_csv(&dir.join("timeseries.csv"));
    // CPU used 0.5 core of a 1-core request.
    assert_eq!(col(&h, &rows[10], "cpu_utilization"), "0.5000");
}

#[test]
fn cost_is_node_hours_times_the_catalog_price() {
    let dir = run_scenario("scenarios/quickstart.yaml", &[]);
    let s = summary(&dir);
    // Three m5.xlarge at $0.192/h for two hours, and EKS's $0.10/h control plane.
    assert_eq!(f(&s["node_hours"]), 6.0);
    assert!((f(&s["cost_nodes_usd"]) - 3.0 * 0.192 * 2.0).abs() < 1e-9);
    assert!((f(&s["cost_control_plane_usd"]) - 0.10 * 2.0).abs() < 1e-9);
    assert!((f(&s["cost_total_usd"]) - (3.0 * 0.192 * 2.0 + 0.2)).abs() < 1e-9);
    assert_eq!(
        (s["nodes_min"].as_u64(), s["nodes_max"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(s["pods_created"], 12);
}
