//! Incidents: the periods where the users' requests missed the SLO, and what happened just
//! before each (a node failing, a spike, a rollout, pods not scaling up in time), so a
//! report answers "what went wrong, when, and why" without reading events.csv.
//!
//! A metrics tick violates the SLO when the users' requests (those of entry workloads) in
//! it were served below the availability objective, or when an entry workload's tick p99
//! exceeded the latency objective. Without an `slo:`, the availability objective is 99.9%.
//! Violating ticks at most [`MERGE_GAP_S`] apart form one incident. Causes are the events
//! of [`LOOKBACK_S`] before the start until the end, grouped by kind, plus a traffic spike
//! (offered load 1.5× the preceding ten minutes' mean), load near capacity (60% of what the
//! Ready pods could serve) and scale-up lag (an entry workload with fewer Ready pods than
//! desired). A Deployment scaling two ReplicaSets in the window is a rollout.

use super::tables::RunTables;

/// Availability objective used when the scenario has no SLO.
pub const DEFAULT_AVAILABILITY: f64 = 0.999;
/// Violating ticks this close together are one incident, seconds.
pub const MERGE_GAP_S: f64 = 60.0;
/// How far before an incident its causes are looked for, seconds.
pub const LOOKBACK_S: f64 = 600.0;
/// Offered load this many times the preceding window's mean is a spike.
const SPIKE_RATIO: f64 = 1.5;
/// Offered load at this share of the Ready pods' capacity is named as a cause.
const NEAR_CAPACITY: f64 = 0.6;

/// The users' requests in one metrics tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tick {
    /// Start of the tick, seconds.
    pub start_s: f64,
    /// End of the tick, seconds.
    pub end_s: f64,
    /// Requests offered to entry workloads.
    pub offered: f64,
    /// Requests served within timeout.
    pub served: f64,
    /// Requests failed.
    pub failed: f64,
    /// Highest tick p99 among entry workloads with traffic, ms.
    pub worst_p99_ms: Option<f64>,
    /// Offered requests per second.
    pub rps_offered: f64,
    /// Served requests per second.
    pub rps_served: f64,
    /// What the entry workloads' serving pods could sustain, requests per second.
    pub rps_capacity: f64,
}

impl Tick {
    /// served ÷ offered (1 without traffic).
    pub fn availability(&self) -> f64 {
        if self.offered > 0.0 {
            (self.served / self.offered).clamp(0.0, 1.0)
        } else {
            1.0
        }
    }
}

/// The users' requests tick by tick (rows are in time, then workload order).
pub fn user_ticks(t: &RunTables) -> Vec<Tick> {
    let mut ticks: Vec<Tick> = Vec::new();
    let mut prev_end = 0.0;
    for r in &t.series {
        let entry = t
            .workloads
            .get(r.workload as usize)
            .is_some_and(|w| w.entry);
        if ticks.last().is_none_or(|k| k.end_s != r.time_s) {
            if let Some(k) = ticks.last() {
                prev_end = k.end_s;
            }
            ticks.push(Tick {
                start_s: prev_end,
                end_s: r.time_s,
                offered: 0.0,
                served: 0.0,
                failed: 0.0,
                worst_p99_ms: None,
                rps_offered: 0.0,
                rps_served: 0.0,
                rps_capacity: 0.0,
            });
        }
        if !entry {
            continue;
        }
        let Some(k) = ticks.last_mut() else { continue };
        let dt = k.end_s - k.start_s;
        k.offered += r.rps_offered * dt;
        k.served += r.rps_served * dt;
        k.failed += r.rps_failed * dt;
        k.rps_offered += r.rps_offered;
        k.rps_served += r.rps_served;
        k.rps_capacity += r.rps_capacity;
        if r.rps_served > 0.0
            && let Some(p) = r.latency_p99_ms
        {
            k.worst_p99_ms = Some(k.worst_p99_ms.map_or(p, |w: f64| w.max(p)));
        }
    }
    ticks
}

/// One period where the SLO was missed.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// Users' requests offered in the period.
    pub offered: f64,
    /// Users' requests failed in the period.
    pub failed: f64,
    /// Highest tick p99 in the period, ms.
    pub worst_p99_ms: Option<f64>,
    /// Entry workloads with failures, most failures first.
    pub workloads: Vec<String>,
    /// What preceded it, most telling first.
    pub causes: Vec<String>,
}

impl Incident {
    /// served ÷ offered in the period.
    pub fn availability(&self) -> f64 {
        if self.offered > 0.0 {
            ((self.offered - self.failed) / self.offered).clamp(0.0, 1.0)
        } else {
            1.0
        }
    }
}

/// Whether a tick misses the objectives.
fn violates(k: &Tick, availability: f64, p99_ms: Option<f64>) -> bool {
    let slow = match (p99_ms, k.worst_p99_ms) {
        (Some(bound), Some(p)) => p > bound,
        _ => false,
    };
    (k.offered > 0.0 && k.availability() < availability) || slow
}

/// The incidents of a run, in time order.
pub fn find_incidents(t: &RunTables) -> Vec<Incident> {
    let ticks = user_ticks(t);
    let availability = t.summary.slo_availability.unwrap_or(DEFAULT_AVAILABILITY);
    let p99 = t.summary.slo_latency_p99_ms;
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for (i, k) in ticks.iter().enumerate() {
        if !violates(k, availability, p99) {
            continue;
        }
        match spans.last_mut() {
            Some(s) if k.start_s - ticks[s.1].end_s <= MERGE_GAP_S => s.1 = i,
            _ => spans.push((i, i)),
        }
    }
    spans
        .into_iter()
        .map(|(a, b)| describe(t, &ticks, a, b))
        .collect()
}

fn describe(t: &RunTables, ticks: &[Tick], a: usize, b: usize) -> Incident {
    let (start_s, end_s) = (ticks[a].start_s, ticks[b].end_s);
    let span = &ticks[a..=b];
    let offered: f64 = span.iter().map(|k| k.offered).sum();
    let failed: f64 = span.iter().map(|k| k.failed).sum();
    let worst_p99_ms = span.iter().filter_map(|k| k.worst_p99_ms).reduce(f64::max);
    // Failures per entry workload in the period.
    let mut by_workload = vec![0.0; t.workloads.len()];
    let mut lagging: Vec<(u32, u32, u32)> = Vec::new(); // (workload, desired, ready)
    // Rows are in time order: only the period's rows are visited.
    let first = t.series.partition_point(|r| r.time_s <= start_s);
    let last = t.series.partition_point(|r| r.time_s <= end_s);
    for r in &t.series[first..last.max(first)] {
        let w = r.workload as usize;
        if !t.workloads.get(w).is_some_and(|l| l.entry) {
            continue;
        }
        by_workload[w] += r.rps_failed;
        if r.replicas_ready < r.replicas_desired && !lagging.iter().any(|l| l.0 == r.workload) {
            lagging.push((r.workload, r.replicas_desired, r.replicas_ready));
        }
    }
    let mut failing: Vec<(usize, f64)> = by_workload
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, f)| *f > 0.0)
        .collect();
    failing.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    let workloads = failing
        .iter()
        .take(3)
        .map(|(w, _)| t.workloads[*w].name.clone())
        .collect();

    let mut causes = event_causes(t, start_s - LOOKBACK_S, end_s);
    // A spike: the period's offered rate against the ten minutes before it.
    let before: Vec<&Tick> = ticks
        .iter()
        .filter(|k| k.end_s <= start_s && k.start_s >= start_s - LOOKBACK_S)
        .collect();
    if !before.is_empty() {
        let base = before.iter().map(|k| k.rps_offered).sum::<f64>() / before.len() as f64;
        let peak = span.iter().map(|k| k.rps_offered).fold(0.0, f64::max);
        if base > 0.0 && peak >= SPIKE_RATIO * base {
            causes.push(format!(
                "traffic spike: {peak:.0} requests/s offered, {:.1}× the {:.0} of the 10 minutes before",
                peak / base,
                base
            ));
        }
    }
    // Load at the pods' limit: the busiest tick against what the Ready pods could serve.
    if let Some(k) = span.iter().filter(|k| k.rps_capacity > 0.0).max_by(|a, b| {
        (a.rps_offered / a.rps_capacity).total_cmp(&(b.rps_offered / b.rps_capacity))
    }) && k.rps_offered >= NEAR_CAPACITY * k.rps_capacity
    {
        causes.push(format!(
            "load near capacity: {:.0} requests/s offered, {:.0}% of what the Ready pods could serve",
            k.rps_offered,
            k.rps_offered / k.rps_capacity * 100.0
        ));
    }
    for (w, desired, ready) in lagging.iter().take(3) {
        causes.push(format!(
            "scale-up lag: {} had {ready} Ready of {desired} desired pods",
            t.workloads[*w as usize].name
        ));
    }
    Incident {
        start_s,
        end_s,
        offered,
        failed,
        worst_p99_ms,
        workloads,
        causes,
    }
}

/// What kind of trouble an event reason signals (None: not a cause worth listing).
fn cause_kind(reason: &str) -> Option<&'static str> {
    Some(match reason {
        "NodeFailure" | "NodeNotReady" | "TaintManagerEviction" | "NetworkPartition" => {
            "node failure"
        }
        "SpotInterruption" => "spot interruption",
        "DeploymentRollback" | "ProgressDeadlineExceeded" => "rollout",
        "ScalingReplicaSet" => "scaling",
        "NodeUpgrade" | "DisruptionTerminating" | "Evicted" | "ScaleDown" => "node drain",
        "BackOff" | "Unhealthy" | "Killing" => "container restarts",
        "FailedScheduling"
        | "NotTriggerScaleUp"
        | "ScaleUpTimedOut"
        | "InsufficientCapacityError"
        | "RegistrationTimeout" => "capacity shortage",
        "TriggeredScaleUp" | "Launched" => "nodes added",
        "SuccessfulRescale" => "scaling",
        "Preempted" => "preemption",
        _ => return None,
    })
}

/// The ReplicaSet a ScalingReplicaSet message names ("Scaled up replica set web-2 to 3").
fn replica_set_of(message: &str) -> Option<&str> {
    let rest = message.split_once("replica set ")?.1;
    rest.split_whitespace().next()
}

/// Events in `[from, to]` that can explain an incident, one line per kind: the first
/// occurrence and how many there were.
fn event_causes(t: &RunTables, from: f64, to: f64) -> Vec<String> {
    let window = || {
        t.events
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.time_s >= from && e.time_s <= to)
    };
    // A Deployment scaling two ReplicaSets in the window is rolling out, not just scaling.
    let mut replica_sets: Vec<(&str, &str)> = Vec::new(); // (deployment, replica set)
    for (_, e) in window() {
        if e.reason == "ScalingReplicaSet"
            && let Some(rs) = replica_set_of(&e.message)
            && !replica_sets.contains(&(e.object.as_str(), rs))
        {
            replica_sets.push((e.object.as_str(), rs));
        }
    }
    let rolling = |deployment: &str| replica_sets.iter().filter(|r| r.0 == deployment).count() > 1;
    let mut kinds: Vec<(&'static str, usize, usize)> = Vec::new(); // (kind, first event, count)
    for (i, e) in window() {
        let Some(kind) = cause_kind(&e.reason) else {
            continue;
        };
        let kind = if e.reason == "ScalingReplicaSet" && rolling(&e.object) {
            "rollout"
        } else {
            kind
        };
        match kinds.iter_mut().find(|k| k.0 == kind) {
            Some(k) => k.2 += 1,
            None => kinds.push((kind, i, 1)),
        }
    }
    kinds
        .into_iter()
        .map(|(kind, first, n)| {
            let e = &t.events[first];
            let more = if n > 1 {
                format!(" (+{} more)", n - 1)
            } else {
                String::new()
            };
            format!(
                "{kind}: {} {} {} at {:.0} s{more}",
                e.reason, e.kind, e.object, e.time_s
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tables::{EventLine, SeriesRow, WorkloadLine};

    fn tables(rows: &[(f64, f64, f64)], events: &[(f64, &str)]) -> RunTables {
        let summary: crate::report::summary::Summary = serde_json::from_str(
            r#"{"scenario":"t","seed":1,"duration_s":600.0,"requests_offered":0,
            "requests_served":0,"requests_failed":0,"availability":1.0,"latency_p50_ms":null,
            "latency_p95_ms":null,"latency_p99_ms":null,"cost_total_usd":0.0,"node_hours":0.0,
            "nodes_min":0,"nodes_max":0,"nodes_avg":0.0,"pods_created":0,"pods_evicted":0,
            "container_restarts":0,"unschedulable_pod_seconds":0.0,"slo_met":null,
            "error_budget_spent":null,"uptime_min":null,"cost_nodes_usd":0.0,
            "cost_spot_usd":0.0,"cost_on_demand_usd":0.0,"cost_control_plane_usd":0.0,
            "cost_idle_usd":0.0,"cost_unused_usd":0.0,"cost_headroom_usd":0.0,
            "cost_per_million_requests_usd":null,"slo_availability":0.99,
            "slo_latency_p99_ms":null}"#,
        )
        .expect("summary");
        RunTables {
            summary,
            scenario_yaml: None,
            workloads: vec![WorkloadLine {
                name: "web".into(),
                offered: 0,
                failed: 0,
                availability: 1.0,
                latency_p99_ms: None,
                error_budget_spent: None,
                uptime: None,
                downtime_minutes: 0.0,
                entry: true,
            }],
            series: rows
                .iter()
                .map(|&(time_s, offered, failed)| SeriesRow {
                    time_s,
                    workload: 0,
                    replicas_desired: 2,
                    replicas_ready: 2,
                    rps_offered: offered,
                    rps_served: offered - failed,
                    rps_failed: failed,
                    latency_p99_ms: Some(10.0),
                    rps_capacity: 100.0,
                })
                .collect(),
            pools: vec![],
            nodes: vec![],
            events: events
                .iter()
                .map(|&(time_s, reason)| EventLine {
                    time_s,
                    kind: "Node".into(),
                    object: "n-1".into(),
                    reason: reason.into(),
                    message: String::new(),
                })
                .collect(),
            costs: vec![],
            autoscaled: vec![],
        }
    }

    #[test]
    fn consecutive_violating_ticks_are_one_incident_with_its_cause() {
        // 15 s ticks; ticks ending at 60 and 75 s lose 10% (below the 99% objective).
        let rows: Vec<(f64, f64, f64)> = (1..=10)
            .map(|i| {
                let t = f64::from(i) * 15.0;
                (t, 10.0, if t == 60.0 || t == 75.0 { 1.0 } else { 0.0 })
            })
            .collect();
        let t = tables(
            &rows,
            &[(40.0, "NodeNotReady"), (50.0, "TaintManagerEviction")],
        );
        let incidents = find_incidents(&t);
        assert_eq!(incidents.len(), 1, "{incidents:?}");
        let i = &incidents[0];
        assert_eq!((i.start_s, i.end_s), (45.0, 75.0));
        assert!((i.failed - 30.0).abs() < 1e-9, "{}", i.failed);
        assert!((i.availability() - 0.9).abs() < 1e-9);
        assert_eq!(i.workloads, vec!["web".to_string()]);
        assert_eq!(i.causes.len(), 1, "{:?}", i.causes);
        assert!(i.causes[0].starts_with("node failure: NodeNotReady"));
        assert!(i.causes[0].ends_with("(+1 more)"));
    }

    #[test]
    fn ticks_far_apart_are_separate_incidents_and_a_spike_is_named() {
        let rows: Vec<(f64, f64, f64)> = (1..=40)
            .map(|i| {
                let t = f64::from(i) * 15.0;
                let offered = if t == 450.0 { 40.0 } else { 10.0 };
                let failed = if t == 150.0 || t == 450.0 { 5.0 } else { 0.0 };
                (t, offered, failed)
            })
            .collect();
        let incidents = find_incidents(&tables(&rows, &[]));
        assert_eq!(incidents.len(), 2);
        assert!(incidents[0].causes.is_empty());
        assert!(
            incidents[1]
                .causes
                .iter()
                .any(|c| c.starts_with("traffic spike: 40")),
            "{:?}",
            incidents[1].causes
        );
    }

    #[test]
    fn a_run_within_its_slo_has_no_incident() {
        let rows: Vec<(f64, f64, f64)> =
            (1..=10).map(|i| (f64::from(i) * 15.0, 10.0, 0.0)).collect();
        assert!(find_incidents(&tables(&rows, &[(40.0, "NodeNotReady")])).is_empty());
        let ticks = user_ticks(&tables(&rows, &[]));
        assert_eq!(ticks.len(), 10);
        assert_eq!((ticks[1].start_s, ticks[1].end_s), (15.0, 30.0));
        assert!((ticks[1].offered - 150.0).abs() < 1e-9);
    }
}
