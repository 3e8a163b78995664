//! `kubesim compare`: common random numbers, intervals, paired differences, and the same
//! bytes for any thread count.

use crate::util::{col, kubesim, read_csv, scratch};
use std::path::Path;

fn compare(out: &Path, seeds: &str, extra: &[&str]) -> crate::util::Output {
    let out_s = out.to_string_lossy().into_owned();
    let mut args = vec![
        "compare",
        "scenarios/cluster-autoscaler.yaml",
        "--variant",
        "default",
        "--variant",
        "binpack:scheduler.profile=bin-packing",
        "--seeds",
        seeds,
        "--quiet",
        "--out",
        &out_s,
    ];
    args.extend_from_slice(extra);
    kubesim(&args)
}

/// compare.csv's row for a variant and metric.
fn row(dir: &Path, variant: &str, metric: &str) -> (Vec<String>, Vec<String>) {
    let (h, rows) = read_csv(&dir.join("compare.csv"));
    let r = rows
        .into_iter()
        .find(|r| col(&h, r, "variant") == variant && col(&h, r, "metric") == metric)
        .unwrap_or_else(|| panic!("no row {variant} {metric}"));
    (h, r)
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

#[test]
fn outputs_are_the_same_bytes_with_one_and_two_threads() {
    let (a, b) = (scratch("cmp1"), scratch("cmp2"));
    let ra = compare(&a, "4", &["--threads", "1"]);
    assert_eq!(ra.code, 0, "{}", ra.stderr);
    let rb = compare(&b, "4", &["--threads", "2"]);
    assert_eq!(rb.code, 0, "{}", rb.stderr);
    for f in [
        "runs.csv",
        "compare.csv",
        "compare.svg",
        "compare.png",
        "index.html",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).expect(f),
            std::fs::read(b.join(f)).expect(f),
            "{f} differs between 1 and 2 threads"
        );
    }
}

#[test]
fn every_variant_runs_the_same_seeds_and_bin_packing_is_cheaper() {
    let dir = scratch("cmp");
    // 8 seeds give the 2.8% saving an interval that excludes 0 (4 do not).
    let r = compare(&dir, "8", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (h, runs) = read_csv(&dir.join("runs.csv"));
    assert_eq!(runs.len(), 16);
    let seeds = |v: &str| -> Vec<String> {
        runs.iter()
            .filter(|r| col(&h, r, "variant") == v)
            .map(|r| col(&h, r, "seed").to_string())
            .collect()
    };
    assert_eq!(seeds("default"), seeds("binpack"));
    assert_eq!(
        seeds("default")[..3],
        ["21", "22", "23"],
        "seed, seed+1, ..."
    );
    // MostAllocated packs the day's pods onto fewer nodes: the paired difference of cost
    // is negative and its interval excludes 0.
    let (h, r) = row(&dir, "binpack", "cost_total_usd");
    assert!(num(col(&h, &r, "diff_mean")) < 0.0);
    assert!(num(col(&h, &r, "diff_ci95_high")) < 0.0);
    assert_eq!(col(&h, &r, "significant"), "true");
    // The mean's interval contains the mean of the runs.
    let mean = num(col(&h, &r, "mean"));
    assert!(num(col(&h, &r, "ci95_low")) <= mean && mean <= num(col(&h, &r, "ci95_high")));
    let html = std::fs::read_to_string(dir.join("index.html")).expect("page");
    assert!(
        html.contains("binpack against default: cost -"),
        "sentence missing"
    );
}

#[test]
fn a_variant_equal_to_the_baseline_differs_by_exactly_nothing() {
    let dir = scratch("cmp-same");
    let r = kubesim(&[
        "compare",
        "--variant",
        "a",
        "--variant",
        "b:seed=42",
        "--seeds",
        "3",
        "--out",
        &dir.to_string_lossy(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // `seed=42` is the quickstart's own seed: seeds come from the base scenario, so b is a.
    for metric in ["cost_total_usd", "availability", "latency_p99_ms"] {
        let (h, row) = row(&dir, "b", metric);
        assert_eq!(num(col(&h, &row, "diff_mean")), 0.0, "{metric}");
        assert_eq!(col(&h, &row, "significant"), "false");
    }
    assert!(r.stdout.contains("b against a:"), "{}", r.stdout);
}

#[test]
fn bad_variants_are_named() {
    let dir = scratch("cmp-bad");
    let out = dir.to_string_lossy().into_owned();
    let r = kubesim(&["compare", "--variant", "x y:a=1", "--out", &out]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--variant `x y:a=1`"), "{}", r.stderr);
    let r = kubesim(&[
        "compare",
        "--variant",
        "a",
        "--variant",
        "b:workloads.web.replicas=lots",
        "--out",
        &out,
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("in --variant `b`"), "{}", r.stderr);
    assert!(r.stderr.contains("replicas"), "{}", r.stderr);
    let r = kubesim(&["compare", "--variant", "a", "--variant", "a", "--out", &out]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("twice"), "{}", r.stderr);
    let r = kubesim(&["compare", "--variant", "a", "--seeds", "0", "--out", &out]);
    assert_eq!(r.code, 2);
}

#[test]
fn comparison_shards_merge_into_the_bytes_of_one_machine() {
    let (whole, a, b, merged) = (
        scratch("cmp-whole"),
        scratch("cmp-a"),
        scratch("cmp-b"),
        scratch("cmp-merged"),
    );
    assert_eq!(compare(&whole, "3", &[]).code, 0);
    assert_eq!(compare(&a, "3", &["--shard", "0/2"]).code, 0);
    assert_eq!(compare(&b, "3", &["--shard", "1/2"]).code, 0);
    let (_, rows) = read_csv(&a.join("runs.csv"));
    assert_eq!(rows.len(), 3, "shard 0/2 runs every other of the 6 runs");
    let r = kubesim(&[
        "merge",
        &b.to_string_lossy(),
        &a.to_string_lossy(),
        "--out",
        &merged.to_string_lossy(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for f in ["runs.csv", "compare.csv", "compare.svg", "index.html"] {
        assert_eq!(
            std::fs::read(merged.join(f)).expect(f),
            std::fs::read(whole.join(f)).expect(f),
            "{f}: merged differs from unsharded"
        );
    }
}

#[test]
fn the_shipped_comparison_script_compares_the_two_profiles() {
    let bin = scratch("cmp-bin");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kubesim"), bin.join("kubesim"))
        .expect("symlink");
    let out = scratch("cmp-script");
    let r = std::process::Command::new("bash")
        .args(["plans/compare-scheduler-profiles.sh", "--quiet", "--out"])
        .arg(&out)
        .current_dir(crate::util::repo())
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("SEEDS", "2")
        .output()
        .expect("bash runs");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let (h, rows) = read_csv(&out.join("runs.csv"));
    let variants: Vec<&str> = rows.iter().map(|r| col(&h, r, "variant")).collect();
    assert_eq!(variants, ["default", "binpack", "default", "binpack"]);
}
