//! The run summary: the numbers users script against (summary.json / summary.csv) and the
//! short verdict printed on the terminal. Keys and meanings are fixed by CONTRACT.md.

use crate::cost::allocation::{CostReport, allocate};
use crate::metrics::histogram::LatencyHistogram;
use crate::scenario::CapacityType;
use crate::sim::RunOutput;
use serde::{Deserialize, Serialize};

/// summary.json, key for key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Root seed.
    pub seed: u64,
    /// Simulated seconds.
    pub duration_s: f64,
    /// Requests offered.
    pub requests_offered: u64,
    /// Requests served within timeout.
    pub requests_served: u64,
    /// Requests failed.
    pub requests_failed: u64,
    /// served / offered (1 when nothing was offered).
    pub availability: f64,
    /// Median latency of served requests.
    pub latency_p50_ms: Option<f64>,
    /// 95th percentile.
    pub latency_p95_ms: Option<f64>,
    /// 99th percentile.
    pub latency_p99_ms: Option<f64>,
    /// Node cost.
    pub cost_total_usd: f64,
    /// Node-hours billed.
    pub node_hours: f64,
    /// Fewest nodes at once.
    pub nodes_min: u32,
    /// Most nodes at once.
    pub nodes_max: u32,
    /// Time-weighted mean node count.
    pub nodes_avg: f64,
    /// Pods created.
    pub pods_created: u64,
    /// Pods evicted.
    pub pods_evicted: u64,
    /// Container restarts.
    pub container_restarts: u64,
    /// Pod-seconds spent unschedulable.
    pub unschedulable_pod_seconds: f64,
    /// SLO verdict; null without an SLO.
    pub slo_met: Option<bool>,
    /// Failed requests ÷ the failures the availability SLO allows (1 = the whole error
    /// budget; above 1 the SLO is missed); null without an availability SLO.
    pub error_budget_spent: Option<f64>,
    /// Lowest per-workload uptime: fraction of its lifetime with at least one Ready pod.
    pub uptime_min: Option<f64>,
    /// Nodes' part of `cost_total_usd`.
    pub cost_nodes_usd: f64,
    /// Spot nodes.
    pub cost_spot_usd: f64,
    /// On-demand nodes.
    pub cost_on_demand_usd: f64,
    /// The managed control plane's fee.
    pub cost_control_plane_usd: f64,
    /// Node cost no pod requested (idle capacity).
    pub cost_idle_usd: f64,
    /// Node cost workloads requested but did not use.
    pub cost_unused_usd: f64,
    /// Node cost of the `headroom:` placeholder pods.
    pub cost_headroom_usd: f64,
    /// Total cost per million requests served (null when none were).
    pub cost_per_million_requests_usd: Option<f64>,
    /// The scenario's availability objective (null without one).
    pub slo_availability: Option<f64>,
    /// The scenario's p99 latency objective, ms (null without one).
    pub slo_latency_p99_ms: Option<f64>,
}

/// The share of the error budget `failed` used: failed ÷ (offered × (1 − target)).
pub fn error_budget_spent(offered: u64, failed: u64, target: f64) -> f64 {
    let allowed = offered as f64 * (1.0 - target);
    if allowed > 0.0 {
        failed as f64 / allowed
    } else if failed == 0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// Fraction of `exists_ms` covered by `ms` (None when the workload never existed).
pub fn fraction(ms: u64, exists_ms: u64) -> Option<f64> {
    (exists_ms > 0).then(|| ms as f64 / exists_ms as f64)
}

/// Workloads that no other workload calls: their requests are the users' requests.
pub fn entry_workloads(out: &RunOutput) -> Vec<bool> {
    let mut entry = vec![true; out.scenario.workloads.len()];
    for w in &out.scenario.workloads {
        for c in &w.calls {
            entry[c.workload as usize] = false;
        }
    }
    entry
}

/// Rounds to `decimals` places so JSON text is short and stable.
pub fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    let r = (v * f).round() / f;
    if r == 0.0 { 0.0 } else { r }
}

/// Per-workload outcome: the terminal table and workloads.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadSummary {
    /// Workload name.
    pub name: String,
    /// Requests offered (first attempts: own traffic plus calls from other workloads).
    pub offered: u64,
    /// Requests failed after their last retry.
    pub failed: u64,
    /// Failed attempts that clients retried.
    pub retried: u64,
    /// served / offered.
    pub availability: f64,
    /// Median latency of served requests, ms (end to end, calls included).
    pub latency_p50_ms: Option<f64>,
    /// 95th percentile, ms.
    pub latency_p95_ms: Option<f64>,
    /// p99 latency of served requests, ms.
    pub latency_p99_ms: Option<f64>,
    /// Share of the error budget used (with an availability SLO).
    pub error_budget_spent: Option<f64>,
    /// Fraction of the workload's lifetime with at least one Ready pod.
    pub uptime: Option<f64>,
    /// Fraction with at least its PodDisruptionBudget's minimum available (None without
    /// a budget).
    pub uptime_budget: Option<f64>,
    /// Minutes of its lifetime without a Ready pod.
    pub downtime_minutes: f64,
    /// Whether users call it directly (no other workload calls it): its requests are the
    /// users' requests.
    pub entry: bool,
}

fn counts(offered: f64, failed: f64) -> (u64, u64, u64, f64) {
    let offered = offered.round() as u64;
    let failed = (failed.round() as u64).min(offered);
    let served = offered - failed;
    let availability = if offered == 0 {
        1.0
    } else {
        served as f64 / offered as f64
    };
    (offered, served, failed, availability)
}

fn ms(h: &LatencyHistogram, q: f64) -> Option<f64> {
    h.quantile(q).map(|s| round(s * 1000.0, 3))
}

/// The run's bill and its allocation to workloads.
pub fn cost_report(out: &RunOutput) -> CostReport {
    let served: Vec<f64> = out.recorder.workloads.iter().map(|w| w.served).collect();
    allocate(&out.scenario, &out.recorder, &served)
}

/// Computes the summary of a finished run.
pub fn summarize(out: &RunOutput) -> Summary {
    let rec = &out.recorder;
    let mut merged = LatencyHistogram::default();
    let (mut offered, mut failed) = (0.0, 0.0);
    // Users' requests: those of entry workloads (calls are counted inside them).
    for (w, entry) in rec.workloads.iter().zip(entry_workloads(out)) {
        if entry {
            merged.merge(&w.latency);
            offered += w.offered;
            failed += w.failed;
        }
    }
    let (offered, served, failed, availability) = counts(offered, failed);
    let bill = cost_report(out);
    let node_hours: f64 = bill.pools.iter().map(|p| p.node_hours).sum();
    let cost = bill.total_usd();
    let duration_h = out.scenario.duration.as_secs_f64() / 3600.0;
    let p99 = ms(&merged, 0.99);
    let slo_met = out.scenario.slo.map(|slo| {
        let avail_ok = slo.availability.is_none_or(|a| availability >= a);
        let latency_ok = slo
            .latency_p99_ms
            .is_none_or(|bound| p99.is_none_or(|p| p <= bound));
        avail_ok && latency_ok
    });
    Summary {
        scenario: out.scenario.name.clone(),
        seed: out.scenario.seed,
        duration_s: round(out.scenario.duration.as_secs_f64(), 3),
        requests_offered: offered,
        requests_served: served,
        requests_failed: failed,
        availability: round(availability, 6),
        latency_p50_ms: ms(&merged, 0.50),
        latency_p95_ms: ms(&merged, 0.95),
        latency_p99_ms: p99,
        cost_total_usd: round(cost, 6),
        node_hours: round(node_hours, 6),
        nodes_min: rec.nodes_min,
        nodes_max: rec.nodes_max,
        nodes_avg: round(
            if duration_h > 0.0 {
                node_hours / duration_h
            } else {
                0.0
            },
            3,
        ),
        pods_created: rec.pods_created,
        pods_evicted: rec.pods_evicted,
        container_restarts: rec.container_restarts,
        unschedulable_pod_seconds: round(rec.unschedulable_pod_seconds(), 3),
        slo_met,
        error_budget_spent: out
            .scenario
            .slo
            .and_then(|slo| slo.availability)
            .map(|target| round(error_budget_spent(offered, failed, target), 6)),
        uptime_min: rec
            .workloads
            .iter()
            .filter_map(|w| fraction(w.uptime.up_ms, w.uptime.exists_ms))
            .reduce(f64::min)
            .map(|u| round(u, 6)),
        cost_nodes_usd: round(bill.nodes_usd(), 6),
        cost_spot_usd: round(bill.capacity_usd(CapacityType::Spot), 6),
        cost_on_demand_usd: round(bill.capacity_usd(CapacityType::OnDemand), 6),
        cost_control_plane_usd: round(bill.control_plane_usd, 6),
        cost_idle_usd: round(bill.idle_usd, 6),
        cost_unused_usd: round(bill.unused_usd(), 6),
        cost_headroom_usd: round(bill.headroom_usd(), 6),
        cost_per_million_requests_usd: (served > 0).then(|| round(cost / served as f64 * 1e6, 6)),
        slo_availability: out
            .scenario
            .slo
            .and_then(|s| s.availability)
            .map(|a| round(a, 9)),
        slo_latency_p99_ms: out.scenario.slo.and_then(|s| s.latency_p99_ms),
    }
}

/// Per-workload outcomes in scenario order.
pub fn workload_summaries(out: &RunOutput) -> Vec<WorkloadSummary> {
    let entry = entry_workloads(out);
    out.recorder
        .workloads
        .iter()
        .zip(&out.scenario.workloads)
        .zip(entry)
        .map(|((t, spec), entry)| {
            let (offered, _, failed, availability) = counts(t.offered, t.failed);
            let has_budget = out
                .scenario
                .disruption_budgets
                .iter()
                .any(|b| b.selector.matches(&spec.labels));
            WorkloadSummary {
                name: spec.name.clone(),
                offered,
                failed,
                retried: t.retried.round() as u64,
                availability,
                latency_p50_ms: ms(&t.latency, 0.50),
                latency_p95_ms: ms(&t.latency, 0.95),
                latency_p99_ms: ms(&t.latency, 0.99),
                error_budget_spent: out
                    .scenario
                    .slo
                    .and_then(|slo| slo.availability)
                    .map(|target| round(error_budget_spent(offered, failed, target), 6)),
                uptime: fraction(t.uptime.up_ms, t.uptime.exists_ms),
                uptime_budget: if has_budget {
                    fraction(t.uptime.budget_ms, t.uptime.exists_ms)
                } else {
                    None
                },
                downtime_minutes: t.uptime.exists_ms.saturating_sub(t.uptime.up_ms) as f64
                    / 60_000.0,
                entry,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_keep_served_plus_failed_equal_offered() {
        assert_eq!(counts(10.4, 0.6), (10, 9, 1, 0.9));
        assert_eq!(counts(0.0, 0.0), (0, 0, 0, 1.0));
        assert_eq!(counts(5.0, 7.0).2, 5);
    }

    #[test]
    fn error_budget_is_failures_over_allowed_failures() {
        // 99.9% of 1,000,000 allows 1,000 failures: 250 failed is a quarter of the budget.
        assert!((error_budget_spent(1_000_000, 250, 0.999) - 0.25).abs() < 1e-9);
        assert!((error_budget_spent(1_000_000, 2_000, 0.999) - 2.0).abs() < 1e-9);
        assert_eq!(error_budget_spent(0, 0, 0.999), 0.0);
        assert_eq!(error_budget_spent(10, 1, 1.0), f64::INFINITY);
        assert_eq!(fraction(5, 10), Some(0.5));
        assert_eq!(fraction(0, 0), None);
    }

    #[test]
    fn round_is_stable_and_has_no_negative_zero() {
        assert_eq!(round(1.23456789, 3), 1.235);
        assert_eq!(round(-0.0000001, 3).to_string(), "0");
    }
}
