//! The traffic side end to end: the fluid model against the exact per-request model on the
//! shipped scenarios, call graphs, retries, endpoint propagation, uptime, access-log replay.

use crate::util::{read_csv, run_scenario, summary, variant};
use std::path::Path;

fn workload_row(dir: &Path, name: &str) -> std::collections::BTreeMap<String, String> {
    let (header, rows) = read_csv(&dir.join("workloads.csv"));
    let row = rows
        .iter()
        .find(|r| r[0] == name)
        .unwrap_or_else(|| panic!("no row for {name} in workloads.csv"));
    header.iter().cloned().zip(row.iter().cloned()).collect()
}

fn num(row: &std::collections::BTreeMap<String, String>, key: &str) -> f64 {
    row[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key} = {:?} is not a number", row[key]))
}

#[test]
fn fluid_and_exact_models_agree_on_the_shipped_scenarios() {
    // Tolerances, for scenarios that stay within capacity: availability within 0.1
    // percentage point, overall p99 within 5%. Measured: see docs/traffic.md.
    for scenario in ["scenarios/quickstart.yaml", "scenarios/retail-replay.yaml"] {
        let fluid = summary(&run_scenario(scenario, &[]));
        let exact = summary(&run_scenario(scenario, &["--exact"]));
        let a = |s: &serde_json::Value| s["availability"].as_f64().expect("availability");
        let p99 = |s: &serde_json::Value| s["latency_p99_ms"].as_f64().expect("p99");
        assert!(
            (a(&fluid) - a(&exact)).abs() < 0.001,
            "{scenario}: availability fluid {} exact {}",
            a(&fluid),
            a(&exact)
        );
        assert!(
            (p99(&fluid) / p99(&exact) - 1.0).abs() < 0.05,
            "{scenario}: p99 fluid {} exact {}",
            p99(&fluid),
            p99(&exact)
        );
    }
}

#[test]
fn fluid_and_exact_models_agree_under_overload_within_wider_bounds() {
    // flash-sale's 2.5× spike overloads the storefront and checkout, with calls and
    // retries: the fluid model's per-tick averages are coarser there. Tolerances:
    // availability within 7 percentage points, p99 within 10%.
    let fluid = summary(&run_scenario("scenarios/flash-sale.yaml", &[]));
    let exact = summary(&run_scenario("scenarios/flash-sale.yaml", &["--exact"]));
    let a = |s: &serde_json::Value| s["availability"].as_f64().expect("availability");
    let p99 = |s: &serde_json::Value| s["latency_p99_ms"].as_f64().expect("p99");
    assert!(a(&exact) < 0.95, "the spike must overload: {}", a(&exact));
    assert!(
        (a(&fluid) - a(&exact)).abs() < 0.07,
        "availability fluid {} exact {}",
        a(&fluid),
        a(&exact)
    );
    assert!(
        (p99(&fluid) / p99(&exact) - 1.0).abs() < 0.10,
        "p99 fluid {} exact {}",
        p99(&fluid),
        p99(&exact)
    );
}

#[test]
fn calls_carry_load_downstream_and_add_to_latency() {
    let dir = run_scenario("tests/data/scenarios/calls.yaml", &[]);
    let front = workload_row(&dir, "frontend");
    let back = workload_row(&dir, "backend");
    let served_front = num(&front, "requests_served");
    assert!(
        (num(&back, "requests_offered") / served_front - 2.0).abs() < 0.01,
        "backend offered {} for {served_front} frontend requests",
        back["requests_offered"]
    );
    // Frontend latency includes two backend calls: its median exceeds twice the backend's.
    assert!(num(&front, "latency_p50_ms") > 2.0 * num(&back, "latency_p50_ms"));
    // The summary counts users' requests (the frontend's), not the calls.
    let s = summary(&dir);
    assert_eq!(
        s["requests_offered"].as_f64().expect("offered"),
        num(&front, "requests_offered")
    );
}

#[test]
fn a_failing_callee_fails_its_callers_requests() {
    let broken = variant(
        "tests/data/scenarios/calls.yaml",
        "  - name: backend\n    replicas: 4",
        "  - name: backend\n    replicas: 0",
    );
    let dir = run_scenario(broken.to_str().expect("utf-8 path"), &[]);
    let front = workload_row(&dir, "frontend");
    assert_eq!(num(&front, "requests_served"), 0.0);
    assert_eq!(num(&front, "availability"), 0.0);
}

#[test]
fn requests_fail_until_the_endpoint_is_routed_and_the_delay_counts() {
    let slow = run_scenario("tests/data/scenarios/cold-start.yaml", &[]);
    let fast_file = variant(
        "tests/data/scenarios/cold-start.yaml",
        "endpointDelay: 5s",
        "endpointDelay: 0s",
    );
    let fast = run_scenario(fast_file.to_str().expect("utf-8 path"), &[]);
    let failed = |d: &Path| num(&workload_row(d, "web"), "requests_failed");
    // 50 rps fail for 20 s of startup, then for the 5 s endpoint delay.
    assert!(
        (failed(&fast) - 1000.0).abs() <= 5.0,
        "{} failed",
        failed(&fast)
    );
    assert!(
        (failed(&slow) - failed(&fast) - 250.0).abs() <= 5.0,
        "{} vs {}",
        failed(&slow),
        failed(&fast)
    );
    // Uptime counts readiness, not routing: 20 s of 600 s down in both.
    for d in [&slow, &fast] {
        let up = num(&workload_row(d, "web"), "uptime");
        assert!((up - 580.0 / 600.0).abs() < 1e-6, "{up}");
    }
}

#[test]
fn retries_recover_requests_that_failed_while_no_pod_was_routed() {
    let plain = run_scenario("tests/data/scenarios/cold-start.yaml", &[]);
    let with_retries = variant(
        "tests/data/scenarios/cold-start.yaml",
        "      # RETRIES",
        "      retries: {attempts: 5, backoff: 1s}",
    );
    let retried = run_scenario(with_retries.to_str().expect("utf-8 path"), &[]);
    let row = workload_row(&retried, "web");
    let base = workload_row(&plain, "web");
    // Back-off 1, 2, 4, 8, 16 s covers 31 s: requests of the last 6 s of the 25 s outage
    // get through on a retry; the earlier ones use up their attempts.
    assert!(num(&row, "requests_failed") < num(&base, "requests_failed") - 100.0);
    assert!(num(&row, "requests_retried") > num(&base, "requests_failed"));
    assert_eq!(num(&base, "requests_retried"), 0.0);
    // Retries are not new requests: both runs offered the same first attempts.
    assert_eq!(
        num(&row, "requests_offered"),
        num(&base, "requests_offered")
    );
}

#[test]
fn an_access_log_replays_one_request_per_line() {
    let dir = run_scenario("tests/data/scenarios/access-log.yaml", &[]);
    let row = workload_row(&dir, "web");
    assert_eq!(num(&row, "requests_offered"), 150.0);
    let (_, rows) = read_csv(&dir.join("timeseries.csv"));
    // The first 5 s tick holds seconds 0-4: 1+2+3+4+1 requests.
    assert_eq!(rows[0][4], "2.200");
    assert!(
        rows.iter().skip(12).all(|r| r[4] == "0.000"),
        "log ends at 60 s"
    );
}

#[test]
fn requests_routed_to_preempted_pods_fail_until_their_endpoints_go() {
    let slow = run_scenario("tests/data/scenarios/preempted-endpoints.yaml", &[]);
    let instant = variant(
        "tests/data/scenarios/preempted-endpoints.yaml",
        "endpointDelay: 3s",
        "endpointDelay: 0s",
    );
    let instant = run_scenario(instant.to_str().expect("utf-8 path"), &[]);
    let failed = |d: &Path| num(&workload_row(d, "batch"), "requests_failed");
    // 2 of 4 endpoints dead for 3 s at 100 rps: 150 requests.
    assert!((failed(&slow) - 150.0).abs() < 2.0, "{}", failed(&slow));
    assert!(failed(&instant) < 1.0, "{}", failed(&instant));
    let (h, rows) = read_csv(&slow.join("timeseries.csv"));
    let failing: Vec<&str> = rows
        .iter()
        .filter(|r| r[1] == "batch" && r[6] != "0.000")
        .map(|r| r[0].as_str())
        .collect();
    assert_eq!(h[6], "rps_failed");
    assert_eq!(
        failing,
        ["605"],
        "failures only in the tick of the preemption"
    );
}

#[test]
fn uptime_counts_ready_time_and_the_pdb_minimum_separately() {
    let dir = run_scenario("tests/data/scenarios/pdb-uptime.yaml", &[]);
    let web = workload_row(&dir, "web");
    assert!(
        (num(&web, "uptime") - 580.0 / 600.0).abs() < 1e-6,
        "{web:?}"
    );
    assert_eq!(num(&web, "uptime_budget"), 0.0);
    // No PDB selects `idle`: its budget column stays empty.
    assert_eq!(workload_row(&dir, "idle")["uptime_budget"], "");
    let s = summary(&dir);
    assert!((s["uptime_min"].as_f64().expect("uptime_min") - 580.0 / 600.0).abs() < 1e-6);
}
