//! The command line as CONTRACT.md promises it: commands, flags, output files and columns.

use crate::util::{
    col, kubesim, kubesim_in, read_csv, run_scenario, scratch, shipped_scenarios, summary,
};

const SUMMARY_KEYS: [&str; 22] = [
    "scenario",
    "seed",
    "duration_s",
    "requests_offered",
    "requests_served",
    "requests_failed",
    "availability",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "cost_total_usd",
    "node_hours",
    "nodes_min",
    "nodes_max",
    "nodes_avg",
    "pods_created",
    "pods_evicted",
    "container_restarts",
    "unschedulable_pod_seconds",
    "slo_met",
    "error_budget_spent",
    "uptime_min",
];

#[test]
fn run_without_a_scenario_writes_the_contract_files_to_reports_quickstart() {
    let cwd = scratch("cwd");
    let r = kubesim_in(&cwd, &["run"]);
    assert_eq!(r.code, 0, "{}", r.stderr); // a missed SLO fails only with --fail-on-slo
    assert!(r.stdout.contains("kubesim: quickstart"), "{}", r.stdout);
    assert!(r.stdout.contains("reports/quickstart/"), "{}", r.stdout);
    let dir = cwd.join("reports/quickstart");
    let (ts, rows) = read_csv(&dir.join("timeseries.csv"));
    // CONTRACT.md's columns first; kubesim may add more after them.
    assert_eq!(
        ts[..9],
        [
            "time_s",
            "workload",
            "replicas_desired",
            "replicas_ready",
            "rps_offered",
            "rps_served",
            "rps_failed",
            "cpu_utilization",
            "latency_p99_ms"
        ]
    );
    // 2 h at 15 s ticks, 3 workloads.
    assert_eq!(rows.len(), 480 * 3);
    let (nodes, rows) = read_csv(&dir.join("nodes.csv"));
    assert_eq!(
        nodes,
        [
            "time_s",
            "pool",
            "instance_type",
            "nodes_ready",
            "nodes_provisioning",
            "cpu_allocatable",
            "cpu_requested",
            "memory_allocatable_bytes",
            "memory_requested_bytes",
            "cost_per_hour_usd"
        ]
    );
    assert_eq!(rows.len(), 480);
    let (events, _) = read_csv(&dir.join("events.csv"));
    assert_eq!(events, ["time_s", "kind", "object", "reason", "message"]);
    let (sum_header, sum_rows) = read_csv(&dir.join("summary.csv"));
    // CONTRACT.md's keys first, in order; kubesim may add more after them.
    assert_eq!(sum_header[..SUMMARY_KEYS.len()], SUMMARY_KEYS);
    assert_eq!(sum_rows.len(), 1);
    let json = summary(&dir);
    let keys: Vec<&str> = json
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys[..SUMMARY_KEYS.len()], SUMMARY_KEYS);
    // summary.csv and summary.json agree.
    assert_eq!(
        col(&sum_header, &sum_rows[0], "requests_offered"),
        json["requests_offered"].to_string()
    );
}

#[test]
fn the_embedded_default_is_scenarios_quickstart_yaml() {
    let a = scratch("embedded");
    let b = run_scenario("scenarios/quickstart.yaml", &[]);
    let r = kubesim(&["run", "--quiet", "--out", &a.to_string_lossy()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for f in ["summary.json", "timeseries.csv", "events.csv"] {
        assert_eq!(
            std::fs::read(a.join(f)).ok(),
            std::fs::read(b.join(f)).ok(),
            "{f}"
        );
    }
}

#[test]
fn set_and_fail_on_slo_answer_the_quickstart_question() {
    // Six web replicas miss the p99 SLO during the spike; seven meet it (see README tour).
    let out = scratch("slo");
    let out_s = out.to_string_lossy().into_owned();
    let missed = kubesim(&["run", "--quiet", "--fail-on-slo", "--out", &out_s]);
    assert_eq!(missed.code, 1, "{}", missed.stderr);
    assert_eq!(summary(&out)["slo_met"], serde_json::Value::Bool(false));
    let met = kubesim(&[
        "run",
        "--quiet",
        "--fail-on-slo",
        "--set",
        "workloads.web.replicas=7",
        "--out",
        &out_s,
    ]);
    assert_eq!(met.code, 0, "{}", met.stderr);
    assert_eq!(summary(&out)["slo_met"], serde_json::Value::Bool(true));
    let (h, rows) = read_csv(&out.join("timeseries.csv"));
    let web = rows
        .iter()
        .find(|r| col(&h, r, "workload") == "web")
        .expect("web rows");
    assert_eq!(col(&h, web, "replicas_desired"), "7");
}

#[test]
fn set_errors_name_the_override() {
    let r = kubesim(&["run", "--set", "workloads.webb.replicas=3"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--set workloads.webb.replicas=3"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("did you mean `web`?"), "{}", r.stderr);
    let r = kubesim(&["run", "--set", "workloads.web.replicas=many"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("(after --set): workloads[0].replicas"),
        "{}",
        r.stderr
    );
    let r = kubesim(&["run", "--set", "duration"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("expected KEY=VALUE"), "{}", r.stderr);
}

#[test]
fn seed_flag_overrides_the_scenario_seed() {
    let dir = run_scenario("scenarios/quickstart.yaml", &["--seed", "7"]);
    assert_eq!(summary(&dir)["seed"], 7);
}

#[test]
fn quiet_prints_nothing_and_the_default_prints_a_verdict() {
    let out = scratch("quiet");
    let r = kubesim(&["run", "--quiet", "--out", &out.to_string_lossy()]);
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, "", ""));
    let r = kubesim(&["run", "--out", &out.to_string_lossy()]);
    assert!(r.stdout.contains("SLO        MISSED"), "{}", r.stdout);
}

#[test]
fn validate_accepts_every_shipped_scenario_and_rejects_a_bad_one_in_a_batch() {
    let files = shipped_scenarios();
    let args: Vec<&str> = std::iter::once("validate")
        .chain(files.iter().map(String::as_str))
        .collect();
    let r = kubesim(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), files.len());
    let r = kubesim(&[
        "validate",
        "scenarios/quickstart.yaml",
        "tests/data/bad/bad-quantity.yaml",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.starts_with("ok: scenarios/quickstart.yaml"));
}

#[test]
fn output_folder_holds_only_the_finished_files() {
    let dir = run_scenario("scenarios/quickstart.yaml", &[]);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("out")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "autoscaling.csv",
            "availability.png",
            "availability.svg",
            "cost.png",
            "cost.svg",
            "costs.csv",
            "events.csv",
            "incidents.csv",
            "index.html",
            "latency.png",
            "latency.svg",
            "nodes.csv",
            "nodes.png",
            "nodes.svg",
            "replicas.png",
            "replicas.svg",
            "scenario.yaml",
            "summary.csv",
            "summary.json",
            "timeseries.csv",
            "traffic.png",
            "traffic.svg",
            "vpa.csv",
            "workloads.csv"
        ]
    );
}

#[test]
fn a_closed_stdout_is_not_a_crash() {
    // `kubesim run | head -1`: the reader goes away before the summary is written.
    let out = scratch("pipe");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(["run", "--out", &out.to_string_lossy()])
        .current_dir(crate::util::repo())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let result = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    assert!(out.join("summary.json").exists());
}
