//! The HPA end to end: a spike it follows with upstream's lag and steps, a scale-down held
//! by the stabilization window, the legacy rate limit, custom metrics, and the reports
//! (autoscaling.csv, SuccessfulRescale events) a user reads them from.

use crate::util::{col, read_csv, run_scenario, variant};
use std::path::Path;

/// One HPA sync as autoscaling.csv shows it (first metric row of the sync).
#[derive(Debug, Clone)]
struct Sync {
    time: f64,
    current: u32,
    proposed: Option<u32>,
    desired: u32,
    limited_by: String,
}

fn syncs(dir: &Path) -> Vec<Sync> {
    let (h, rows) = read_csv(&dir.join("autoscaling.csv"));
    let mut out: Vec<Sync> = Vec::new();
    for r in &rows {
        let time: f64 = col(&h, r, "time_s").parse().expect("time");
        if out.last().is_some_and(|s| s.time == time) {
            continue; // further metrics of the same sync
        }
        out.push(Sync {
            time,
            current: col(&h, r, "replicas_current").parse().expect("current"),
            proposed: col(&h, r, "replicas_proposed").parse().ok(),
            desired: col(&h, r, "replicas_desired").parse().expect("desired"),
            limited_by: col(&h, r, "limited_by").to_string(),
        });
    }
    out
}

/// (time, message) of every SuccessfulRescale event.
fn rescales(dir: &Path) -> Vec<(f64, String)> {
    let (h, rows) = read_csv(&dir.join("events.csv"));
    rows.iter()
        .filter(|r| col(&h, r, "reason") == "SuccessfulRescale")
        .map(|r| {
            (
                col(&h, r, "time_s").parse().expect("time"),
                col(&h, r, "message").to_string(),
            )
        })
        .collect()
}

#[test]
fn the_hpa_follows_a_spike_in_bounded_steps_and_holds_the_scale_down() {
    let dir = run_scenario("scenarios/hpa-spike.yaml", &[]);
    let syncs = syncs(&dir);
    // One sync every 15 s from the first period on.
    assert_eq!(syncs.len(), 7200 / 15);
    assert!(syncs.windows(2).all(|w| w[1].time - w[0].time == 15.0));
    // Before the spike (00:30) the 3 pods need no more: no rescale.
    let events = rescales(&dir);
    let first = events.first().expect("the HPA rescaled");
    assert!(
        first.0 > 1800.0 && first.0 <= 1800.0 + 120.0,
        "first rescale at {}",
        first.0
    );
    assert!(
        first.1.starts_with("New size: ")
            && first.1.ends_with(
                "; reason: cpu resource utilization (percentage of request) above target"
            ),
        "{}",
        first.1
    );
    // Every step stays within the default scale-up policies: max(+4 pods, +100%) per 15 s.
    for s in &syncs {
        if s.desired > s.current {
            assert!(s.desired <= (s.current + 4).max(2 * s.current), "{s:?}");
        }
    }
    // At the peak: 210 rps × 10 ms = 2.1 cores of requests; at 60% of 500m with 25m idle
    // each pod takes 275m of them: ceil(2.1 / 0.275) = 8 (Poisson noise may add one).
    let peak = syncs.iter().map(|s| s.desired).max().expect("syncs");
    assert!((8..=9).contains(&peak), "peak {peak}");
    // The spike ends at 00:55–01:00. The first proposal below the current count starts the
    // 5-minute scale-down stabilization window: no scale-down before it has passed.
    let peak_at = syncs.iter().position(|s| s.desired == peak).expect("peak");
    let first_lower = syncs[peak_at..]
        .iter()
        .find(|s| s.proposed.is_some_and(|p| p < s.current))
        .expect("load fell");
    let first_down = syncs[peak_at..]
        .iter()
        .find(|s| s.desired < s.current)
        .expect("scaled down");
    assert!(
        first_down.time - first_lower.time >= 300.0 - 15.0,
        "scale-down at {} only {} s after the first lower proposal",
        first_down.time,
        first_down.time - first_lower.time
    );
    assert!(
        syncs
            .iter()
            .filter(|s| s.time > first_lower.time && s.time < first_down.time)
            .all(|s| s.desired == s.current && s.limited_by == "ScaleDownStabilized")
    );
    // Back to minReplicas by the end.
    assert_eq!(syncs.last().expect("syncs").desired, 3);
}

#[test]
fn the_scale_up_rate_follows_the_behavior_or_the_legacy_rule() {
    // A step from 50 to 500 rps: 5 cores of requests need 20 pods at 50% of 500m.
    let dir = run_scenario("tests/data/scenarios/hpa-step.yaml", &[]);
    let events = rescales(&dir);
    let sizes: Vec<u32> = events
        .iter()
        .map(|(_, m)| {
            m["New size: ".len()..]
                .split(';')
                .next()
                .expect("size")
                .parse()
                .expect("n")
        })
        .collect();
    // Default behavior: from 2 at most max(2 + 4, 2 × 2) = 6 in the first sync.
    assert_eq!(sizes.first(), Some(&6), "{events:?}");
    assert_eq!(sizes.iter().max(), Some(&20), "{events:?}");
    let up_limited = syncs(&dir).iter().any(|s| s.limited_by == "ScaleUpLimit");
    assert!(up_limited, "the policies never bound");
    // The step ends at 40m; the default scale-down (100% per 15 s) after the 300 s window
    // returns to minReplicas in one rescale.
    let last = events.last().expect("events");
    assert_eq!(last.1, "New size: 2; reason: All metrics below target");
    assert!((2700.0..=2700.0 + 60.0).contains(&last.0), "{last:?}");

    // Without `behavior` the legacy rule caps each rescale at max(2 × current, 4).
    let legacy = variant(
        "tests/data/scenarios/hpa-step.yaml",
        "      behavior: {}\n",
        "",
    );
    let dir = run_scenario(legacy.to_str().expect("path"), &[]);
    let syncs = syncs(&dir);
    assert_eq!(
        syncs
            .iter()
            .find(|s| s.desired != s.current)
            .map(|s| s.desired),
        Some(4)
    );
    for s in &syncs {
        if s.desired > s.current {
            assert!(s.desired <= (2 * s.current).max(4), "{s:?}");
        }
    }
    assert!(syncs.iter().any(|s| s.limited_by == "ScaleUpLimit"));

    // A scale-down policy of one pod per minute turns the single drop into steps.
    let slow = variant(
        "tests/data/scenarios/hpa-step.yaml",
        "      behavior: {}\n",
        "      behavior:\n        scaleDown:\n          policies: [{type: Pods, value: 1, periodSeconds: 60}]\n",
    );
    let dir = run_scenario(slow.to_str().expect("path"), &[]);
    let downs: Vec<(f64, String)> = rescales(&dir)
        .into_iter()
        .filter(|(_, m)| m.ends_with("All metrics below target"))
        .collect();
    assert!(downs.len() >= 10, "{downs:?}");
    for w in downs.windows(2) {
        assert!(w[1].0 - w[0].0 >= 60.0, "{downs:?}");
    }
}

#[test]
fn custom_metrics_scale_on_requests_per_pod_and_in_total() {
    // Pods metric: 500 rps at 50 per pod → 10 pods (Poisson noise may add one).
    let pods = variant(
        "tests/data/scenarios/hpa-step.yaml",
        "        - type: Resource\n          resource:\n            name: cpu\n            target: {type: Utilization, averageUtilization: 50}\n",
        "        - type: Pods\n          pods:\n            metric: {name: http_requests_per_second}\n            target: {type: AverageValue, averageValue: \"50\"}\n",
    );
    let text = std::fs::read_to_string(&pods).expect("variant");
    std::fs::write(
        &pods,
        format!("{text}metricAliases: {{http_requests_per_second: requests_per_second}}\n"),
    )
    .expect("alias");
    let dir = run_scenario(pods.to_str().expect("path"), &[]);
    let peak = syncs(&dir).iter().map(|s| s.desired).max().expect("syncs");
    assert!((10..=11).contains(&peak), "peak {peak}");
    let (_, first) = rescales(&dir).into_iter().next().expect("rescaled");
    assert!(
        first.ends_with("reason: pods metric http_requests_per_second above target"),
        "{first}"
    );

    // External AverageValue of the total: the same count.
    let external = variant(
        "tests/data/scenarios/hpa-step.yaml",
        "        - type: Resource\n          resource:\n            name: cpu\n            target: {type: Utilization, averageUtilization: 50}\n",
        "        - type: External\n          external:\n            metric: {name: requests_per_second, selector: {matchLabels: {app: api}}}\n            target: {type: AverageValue, averageValue: \"50\"}\n",
    );
    let dir = run_scenario(external.to_str().expect("path"), &[]);
    let peak = syncs(&dir).iter().map(|s| s.desired).max().expect("syncs");
    assert!((10..=11).contains(&peak), "peak {peak}");
}

#[test]
fn the_vpa_recommends_the_observed_p90_plus_its_margin() {
    let dir = run_scenario("scenarios/hpa-spike.yaml", &[]);
    let (h, rows) = read_csv(&dir.join("vpa.csv"));
    assert_eq!(rows.len(), 1, "one container");
    let r = &rows[0];
    let n = |c: &str| col(&h, r, c).parse::<f64>().expect(c);
    assert_eq!(col(&h, r, "container"), "web");
    // Per-pod CPU from the time series (utilization × 500m request), one sample per Ready
    // pod and tick: its 90th percentile plus the 15% safety margin, within the
    // histogram's 5% buckets (and the weight decay over 2 h of a 24 h half-life).
    let (th, trows) = read_csv(&dir.join("timeseries.csv"));
    let mut samples: Vec<(f64, f64)> = trows
        .iter()
        .map(|t| {
            let u: f64 = col(&th, t, "cpu_utilization").parse().expect("util");
            let ready: f64 = col(&th, t, "replicas_ready").parse().expect("ready");
            (u * 500.0, ready)
        })
        .collect();
    samples.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = samples.iter().map(|s| s.1).sum();
    let mut acc = 0.0;
    let p90 = samples
        .iter()
        .find(|s| {
            acc += s.1;
            acc >= 0.9 * total
        })
        .expect("p90")
        .0;
    let target = n("cpu_target_m");
    assert!(
        (target / (p90 * 1.15) - 1.0).abs() < 0.08,
        "target {target}m, observed p90 {p90}m"
    );
    assert!(n("cpu_lower_bound_m") <= target && target <= n("cpu_upper_bound_m"));
    // Memory: 300Mi base plus 2Mi per request in flight, peak per day, plus 15%.
    let mem = n("memory_target_bytes");
    let base = 300.0 * 1024.0 * 1024.0;
    assert!(
        mem > base * 1.15 && mem < base * 1.15 * 1.1,
        "memory target {mem}"
    );
    // Two hours of history: confidence = 2 h / 24 h, minus the first sample's minute.
    assert!((n("confidence_days") - 2.0 / 24.0).abs() < 0.002);
}
