//! `kubesim plan`: bisection, early stopping, the recommendation, resuming, and the same
//! bytes for any thread count.

use crate::util::{col, kubesim, read_csv, scratch};
use std::path::Path;

fn plan(file: &str, out: &Path, extra: &[&str]) -> crate::util::Output {
    let out_s = out.to_string_lossy().into_owned();
    let mut args = vec!["plan", file, "--out", &out_s];
    args.extend_from_slice(extra);
    let r = kubesim(&args);
    assert_eq!(r.code, 0, "kubesim {args:?}: {}", r.stderr);
    r
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

#[test]
fn the_recommendation_is_the_cheapest_passing_candidate_found_by_bisection() {
    let dir = scratch("plan");
    let r = plan("tests/data/plans/small.yaml", &dir, &[]);
    assert!(r.stdout.contains("Recommended: "), "{}", r.stdout);
    let (h, rows) = read_csv(&dir.join("plan.csv"));
    // Bisection over 4..=8 tries at most 1 + ceil(log2(5)) = 4 counts per node type,
    // not all 5.
    assert!(rows.len() <= 8, "{} candidates", rows.len());
    let chosen: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| col(&h, r, "recommended") == "true")
        .collect();
    assert_eq!(chosen.len(), 1);
    let chosen = chosen[0];
    assert_eq!(col(&h, chosen, "verdict"), "meets");
    let cost = |r: &Vec<String>| num(col(&h, r, "cost_usd_mean"));
    for r in rows.iter().filter(|r| col(&h, r, "verdict") == "meets") {
        assert!(cost(r) >= cost(chosen) - 1e-9, "a cheaper candidate passed");
    }
    // Early stopping: a clearly failing candidate stops after its first batch of seeds.
    assert!(
        rows.iter()
            .any(|r| col(&h, r, "verdict") == "fails" && num(col(&h, r, "seeds_run")) < 4.0),
        "no candidate stopped early"
    );
    // The smallest passing replica count of the recommended type fails one below it.
    let replicas = num(col(&h, chosen, "workloads.web.replicas"));
    let kind = col(&h, chosen, "cluster.pools.general.instanceType");
    if replicas > 4.0 {
        let below = rows.iter().find(|r| {
            col(&h, r, "cluster.pools.general.instanceType") == kind
                && num(col(&h, r, "workloads.web.replicas")) == replicas - 1.0
        });
        assert_eq!(below.map(|r| col(&h, r, "verdict")), Some("fails"));
    }
    for f in [
        "pareto.svg",
        "pareto.png",
        "index.html",
        "recommendation.txt",
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
}

#[test]
fn outputs_are_the_same_bytes_with_one_and_two_threads() {
    let (a, b) = (scratch("plan1"), scratch("plan2"));
    plan(
        "tests/data/plans/small.yaml",
        &a,
        &["--threads", "1", "--quiet"],
    );
    plan(
        "tests/data/plans/small.yaml",
        &b,
        &["--threads", "2", "--quiet"],
    );
    for f in ["plan.csv", "runs.csv", "pareto.svg", "index.html"] {
        assert_eq!(
            std::fs::read(a.join(f)).expect(f),
            std::fs::read(b.join(f)).expect(f),
            "{f} differs between 1 and 2 threads"
        );
    }
}

#[test]
fn a_plan_killed_half_way_resumes_without_redoing_runs() {
    let full = scratch("plan-full");
    plan("tests/data/plans/small.yaml", &full, &["--quiet"]);
    // An interrupted attempt: the cache holds only the first half of the runs.
    let part = scratch("plan-part");
    let text = std::fs::read_to_string(full.join("runs.csv")).expect("runs");
    let lines: Vec<&str> = text.lines().collect();
    let kept = lines.len() / 2;
    std::fs::write(part.join("runs.csv"), lines[..kept].join("\n") + "\n").expect("write");
    let r = plan("tests/data/plans/small.yaml", &part, &[]);
    assert!(
        r.stdout
            .contains(&format!("({} from an earlier attempt)", kept - 1)),
        "{}",
        r.stdout
    );
    for f in ["plan.csv", "runs.csv", "index.html"] {
        assert_eq!(
            std::fs::read(part.join(f)).expect(f),
            std::fs::read(full.join(f)).expect(f),
            "{f}: the resumed plan differs"
        );
    }
    // A cache from another plan (another fingerprint) is not used.
    let r = plan(
        "tests/data/plans/small.yaml",
        &part,
        &["--seeds", "3", "--quiet"],
    );
    assert_eq!(r.code, 0);
}

#[test]
fn bad_plans_are_reported_with_line_and_field() {
    let dir = scratch("plan-bad");
    let r = kubesim(&[
        "plan",
        "tests/data/plans/bad-range.yaml",
        "--out",
        &dir.to_string_lossy(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("bad-range.yaml:7"), "{}", r.stderr);
    assert!(r.stderr.contains("search[0].max"), "{}", r.stderr);
    assert!(r.stderr.contains("slo.availability"), "{}", r.stderr);
}

#[test]
fn the_shipped_plan_sizes_the_quickstart_for_its_flash_sale() {
    let dir = scratch("plan-shipped");
    let r = plan(
        "plans/quickstart-flash-sale.yaml",
        &dir,
        &["--seeds", "3", "--quiet"],
    );
    assert_eq!(r.code, 0);
    let why = std::fs::read_to_string(dir.join("recommendation.txt")).expect("why");
    assert!(why.starts_with("Recommended: "), "{why}");
}

#[test]
fn shards_merge_into_the_bytes_of_one_machine() {
    let whole = scratch("plan-whole");
    plan("tests/data/plans/small.yaml", &whole, &["--quiet"]);
    let (a, b, merged) = (scratch("shard-a"), scratch("shard-b"), scratch("merged"));
    // Shard 0 of 2 from a Kubernetes Indexed Job's variables, shard 1 from Slurm's.
    let run = |dir: &Path, env: &[(&str, &str)]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubesim"))
            .args(["plan", "tests/data/plans/small.yaml", "--quiet", "--out"])
            .arg(dir)
            .envs(env.iter().copied())
            .current_dir(crate::util::repo())
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(
        &a,
        &[("JOB_COMPLETION_INDEX", "0"), ("KUBESIM_SHARDS", "2")],
    );
    run(
        &b,
        &[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ],
    );
    assert!(!a.join("plan.csv").exists(), "a shard writes no verdicts");
    let missing = kubesim(&[
        "merge",
        &a.to_string_lossy(),
        "--out",
        &merged.to_string_lossy(),
    ]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("1/2 missing"), "{}", missing.stderr);
    let r = kubesim(&[
        "merge",
        &a.to_string_lossy(),
        &b.to_string_lossy(),
        "--out",
        &merged.to_string_lossy(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for f in ["plan.csv", "runs.csv", "pareto.svg", "index.html"] {
        assert_eq!(
            std::fs::read(merged.join(f)).expect(f),
            std::fs::read(whole.join(f)).expect(f),
            "{f}: merged differs from unsharded"
        );
    }
}

#[test]
fn judged_by_bounds_every_seed_runs_and_passing_bounds_meet_the_slo() {
    let dir = scratch("plan-bound");
    let r = plan("tests/data/plans/bound.yaml", &dir, &[]);
    assert!(
        r.stdout.contains("at the 95% bound of the mean"),
        "{}",
        r.stdout
    );
    let (h, rows) = read_csv(&dir.join("plan.csv"));
    assert!(!rows.is_empty());
    for row in &rows {
        assert_eq!(
            col(&h, row, "seeds_run"),
            "3",
            "no early stop when judging bounds"
        );
        let meets = col(&h, row, "verdict") == "meets";
        let low = col(&h, row, "availability_ci95_low");
        let high = col(&h, row, "latency_p99_ms_ci95_high");
        let by_bounds =
            !low.is_empty() && num(low) >= 0.999 && !high.is_empty() && num(high) <= 500.0;
        assert_eq!(meets, by_bounds, "row {row:?}");
    }
}
