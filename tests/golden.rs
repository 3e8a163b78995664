//! Golden outputs: the quickstart's summary, node table, bill, incidents and page, and the
//! hpa-spike's decisions and charts, are pinned byte for byte, so any change to what a run
//! reports is a deliberate one. Regenerate with
//! `KUBESIM_UPDATE_GOLDEN=1 cargo test golden` (ignored when CI=true) and review the diff.

use crate::util::{kubesim, repo, run_scenario};
use std::path::Path;

/// Compares `got` with the golden file at `path` (or rewrites it when updating).
fn check_golden(path: &Path, got: &str) {
    let update = std::env::var_os("KUBESIM_UPDATE_GOLDEN").is_some()
        && std::env::var("CI").as_deref() != Ok("true");
    if update {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("golden dir");
        }
        std::fs::write(path, got).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with KUBESIM_UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    assert_eq!(got, want, "output differs from {}", path.display());
}

#[test]
fn quickstart_outputs_match_the_golden_files() {
    let dir = run_scenario("scenarios/quickstart.yaml", &[]);
    let golden = repo().join("tests/golden/quickstart");
    for f in [
        "summary.json",
        "summary.csv",
        "workloads.csv",
        "nodes.csv",
        "costs.csv",
        "incidents.csv",
        "index.html",
    ] {
        let got = std::fs::read_to_string(dir.join(f)).expect("run output");
        check_golden(&golden.join(f), &got);
    }
}

#[test]
fn hpa_spike_outputs_match_the_golden_files() {
    // The HPA's sync-by-sync decisions, the VPA's recommendation and the replica chart
    // (fonts are embedded, so the SVG is the same on every machine).
    let dir = run_scenario("scenarios/hpa-spike.yaml", &[]);
    let golden = repo().join("tests/golden/hpa-spike");
    for f in [
        "autoscaling.csv",
        "vpa.csv",
        "replicas-storefront.svg",
        "traffic.svg",
    ] {
        let got = std::fs::read_to_string(dir.join(f)).expect("run output");
        check_golden(&golden.join(f), &got);
    }
    // docs/autoscaling.md shows this chart: it stays what the scenario produces.
    let chart = std::fs::read_to_string(dir.join("replicas-storefront.svg")).expect("chart");
    check_golden(&repo().join("docs/images/hpa-spike-replicas.svg"), &chart);
}

#[test]
fn explain_outputs_match_the_golden_files() {
    let golden = repo().join("tests/golden/explain");
    for (format, file) in [("json", "shop-web.json"), ("table", "shop-web.txt")] {
        let out = kubesim(&[
            "explain",
            "tests/data/explain/cluster.yaml",
            "--pod",
            "tests/data/explain/pod.yaml",
            "--format",
            format,
        ]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        check_golden(&golden.join(file), &out.stdout);
    }
}
