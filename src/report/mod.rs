//! Report files: what a run leaves in its output folder (names and columns per CONTRACT.md).
//!
//! Every file is rendered in memory, then written atomically, in a fixed order, with floats
//! printed at fixed precision, so the same run always yields the same bytes.

pub mod atomic;
pub mod chart;
pub mod charts;
pub mod csv;
pub mod html;
pub mod incidents;
pub mod openmetrics;
pub mod render;
pub mod summary;
pub mod tables;

use crate::sim::RunOutput;
use atomic::write_atomic_with;
use csv::CsvBuilder;
use std::io::Write;
use std::path::{Path, PathBuf};
use summary::{Summary, summarize};

/// Files a run writes, in the order they are written.
pub const RUN_FILES: [&str; 9] = [
    "summary.json",
    "summary.csv",
    "workloads.csv",
    "costs.csv",
    "timeseries.csv",
    "nodes.csv",
    "events.csv",
    "autoscaling.csv",
    "vpa.csv",
];

/// Why reports could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct ReportError {
    /// The file or folder.
    pub path: PathBuf,
    /// The OS error.
    pub source: std::io::Error,
}

/// Writes `bytes` to `dir/name` atomically, naming the file in the error.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), ReportError> {
    let path = dir.join(name);
    write_atomic_with(&path, |w| w.write_all(bytes)).map_err(|source| ReportError { path, source })
}

/// Writes a run's whole report into `dir`: the data files, then the incidents, charts and
/// index.html rendered from them; returns the summary and what was rendered.
pub fn write_report(
    dir: &Path,
    out: &RunOutput,
) -> Result<(Summary, render::Rendered), render::RenderError> {
    let summary = write_run(dir, out)?;
    // The rows just written, as they read back: the same tables `kubesim report` loads.
    let series = tables::SeriesRow::as_written(&out.recorder.timeseries);
    let tables = tables::RunTables::load_with_series(dir, series)?;
    let rendered = render::render_tables(dir, tables)?;
    Ok((summary, rendered))
}

/// Renders and writes every run data file into `dir` (created if missing); returns the
/// summary.
pub fn write_run(dir: &Path, out: &RunOutput) -> Result<Summary, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError {
        path: dir.to_path_buf(),
        source,
    })?;
    let summary = summarize(out);
    let files: [(&str, Render); 9] = [
        ("summary.json", |_, s, w| {
            w.write_all(summary_json(s).as_bytes())
        }),
        ("summary.csv", |_, s, w| {
            w.write_all(summary_csv(s).as_bytes())
        }),
        ("workloads.csv", |o, _, w| {
            w.write_all(workloads_csv(o).as_bytes())
        }),
        ("costs.csv", |o, _, w| {
            w.write_all(costs_csv(&summary::cost_report(o)).as_bytes())
        }),
        ("timeseries.csv", |o, _, w| timeseries_csv(o, w)),
        ("nodes.csv", |o, _, w| nodes_csv(o, w)),
        ("events.csv", |o, _, w| events_csv(o, w)),
        ("autoscaling.csv", |o, _, w| autoscaling_csv(o, w)),
        ("vpa.csv", |o, _, w| w.write_all(vpa_csv(o).as_bytes())),
    ];
    debug_assert!(files.iter().map(|f| f.0).eq(RUN_FILES));
    for (name, render) in files {
        let path = dir.join(name);
        write_atomic_with(&path, |w| render(out, &summary, w))
            .map_err(|source| ReportError { path, source })?;
    }
    let path = dir.join("scenario.yaml");
    write_atomic_with(&path, |w| w.write_all(scenario_yaml(out).as_bytes()))
        .map_err(|source| ReportError { path, source })?;
    Ok(summary)
}

/// scenario.yaml: the scenario as written, headed by the seed and `--set` overrides the
/// run used, so the report says exactly what produced it.
fn scenario_yaml(out: &RunOutput) -> String {
    let s = &out.scenario;
    let mut text = format!("# kubesim run of {} with seed {}\n", s.source, s.seed);
    for o in &s.overrides {
        text.push_str(&format!("# --set {o}\n"));
    }
    text.push_str(&s.source_text);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Streams one run file's text.
type Render = fn(&RunOutput, &Summary, &mut dyn Write) -> std::io::Result<()>;

/// summary.json text (pretty, trailing newline).
pub fn summary_json(summary: &Summary) -> String {
    let mut s =
        serde_json::to_string_pretty(summary).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// summary.csv text: the JSON keys as header, one data row.
pub fn summary_csv(summary: &Summary) -> String {
    let value = serde_json::to_value(summary).unwrap_or_default();
    let Some(map) = value.as_object() else {
        return String::new();
    };
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    let mut b = CsvBuilder::with_header(&keys);
    for v in map.values() {
        match v {
            serde_json::Value::Null => b.field(""),
            serde_json::Value::String(s) => b.field(s),
            other => b.field(&other.to_string()),
        };
    }
    b.end_row();
    b.finish()
}

/// One row per workload: its SLO figures and uptime over the run.
fn workloads_csv(out: &RunOutput) -> String {
    let mut b = CsvBuilder::with_header(&[
        "workload",
        "requests_offered",
        "requests_served",
        "requests_failed",
        "requests_retried",
        "availability",
        "latency_p50_ms",
        "latency_p95_ms",
        "latency_p99_ms",
        "error_budget_spent",
        "uptime",
        "uptime_budget",
        "downtime_minutes",
        "entry",
    ]);
    for w in summary::workload_summaries(out) {
        b.field(&w.name)
            .int(w.offered)
            .int(w.offered - w.failed)
            .int(w.failed)
            .int(w.retried)
            .float(w.availability, 6)
            .opt_float(w.latency_p50_ms, 3)
            .opt_float(w.latency_p95_ms, 3)
            .opt_float(w.latency_p99_ms, 3)
            .opt_float(w.error_budget_spent, 6)
            .opt_float(w.uptime, 6)
            .opt_float(w.uptime_budget, 6)
            .float(w.downtime_minutes, 3)
            .field(if w.entry { "true" } else { "false" });
        b.end_row();
    }
    b.finish()
}

/// The bill, line by line: pools, spot vs on-demand, the control plane, each workload's
/// allocation, the DaemonSets, idle capacity and the total. `share` is of the total.
pub fn costs_csv(bill: &crate::cost::allocation::CostReport) -> String {
    use crate::cost::allocation::WorkloadCost;
    use crate::scenario::CapacityType;
    let mut b = CsvBuilder::with_header(&[
        "scope",
        "name",
        "instance_type",
        "capacity_type",
        "node_hours",
        "cpu_core_hours",
        "memory_gib_hours",
        "cost_usd",
        "cost_unused_usd",
        "share",
        "requests_served",
        "cost_per_million_requests_usd",
    ]);
    let total = bill.total_usd();
    let share = |usd: f64| if total > 0.0 { usd / total } else { 0.0 };
    for p in &bill.pools {
        b.field("pool")
            .field(&p.pool)
            .field(&p.instance_type)
            .field(p.capacity_type.as_str())
            .float(p.node_hours, 6)
            .field("")
            .field("")
            .float(p.usd, 6)
            .field("")
            .float(share(p.usd), 6)
            .field("")
            .field("");
        b.end_row();
    }
    for kind in [CapacityType::OnDemand, CapacityType::Spot] {
        let hours: f64 = bill
            .pools
            .iter()
            .filter(|p| p.capacity_type == kind)
            .map(|p| p.node_hours)
            .sum();
        let usd = bill.capacity_usd(kind);
        b.field("capacity_type")
            .field(kind.as_str())
            .field("")
            .field(kind.as_str())
            .float(hours, 6)
            .field("")
            .field("")
            .float(usd, 6)
            .field("")
            .float(share(usd), 6)
            .field("")
            .field("");
        b.end_row();
    }
    let simple = |b: &mut CsvBuilder, scope: &str, usd: f64| {
        b.field(scope)
            .field(scope)
            .field("")
            .field("")
            .field("")
            .field("")
            .field("")
            .float(usd, 6)
            .field("")
            .float(share(usd), 6)
            .field("")
            .field("");
        b.end_row();
    };
    simple(&mut b, "control_plane", bill.control_plane_usd);
    let allocated = |b: &mut CsvBuilder, scope: &str, w: &WorkloadCost| {
        b.field(scope)
            .field(&w.name)
            .field("")
            .field("")
            .field("")
            .float(w.cpu_core_hours, 6)
            .float(w.memory_gib_hours, 6)
            .float(w.usd, 6)
            .float(w.unused_usd, 6)
            .float(share(w.usd), 6)
            .int(w.requests_served.round() as u64)
            .opt_float(w.per_million_requests(), 6);
        b.end_row();
    };
    for w in &bill.workloads {
        allocated(&mut b, "workload", w);
    }
    allocated(&mut b, "daemonsets", &bill.daemon_sets);
    simple(&mut b, "idle", bill.idle_usd);
    simple(&mut b, "total", total);
    b.finish()
}

fn timeseries_csv(out: &RunOutput, w: &mut dyn Write) -> std::io::Result<()> {
    let mut b = CsvBuilder::with_header(&[
        "time_s",
        "workload",
        "replicas_desired",
        "replicas_ready",
        "rps_offered",
        "rps_served",
        "rps_failed",
        "cpu_utilization",
        "latency_p99_ms",
        "rps_capacity",
    ]);
    for r in &out.recorder.timeseries {
        b.time(r.time)
            .field(&out.scenario.workloads[r.workload as usize].name)
            .uint(r.replicas_desired)
            .uint(r.replicas_ready)
            .float(r.rps_offered, 3)
            .float(r.rps_served, 3)
            .float(r.rps_failed, 3)
            .float(r.cpu_utilization, 4)
            .opt_float(r.latency_p99_ms, 3)
            .float(r.rps_capacity, 3);
        b.end_row();
        b.spill(w)?;
    }
    b.finish_into(w)
}

fn nodes_csv(out: &RunOutput, w: &mut dyn Write) -> std::io::Result<()> {
    let mut b = CsvBuilder::with_header(&[
        "time_s",
        "pool",
        "instance_type",
        "nodes_ready",
        "nodes_provisioning",
        "cpu_allocatable",
        "cpu_requested",
        "memory_allocatable_bytes",
        "memory_requested_bytes",
        "cost_per_hour_usd",
    ]);
    for r in &out.recorder.nodes {
        let pool = &out.scenario.pools[r.pool as usize];
        b.display(r.time)
            .field(&pool.name)
            .field(&pool.instance_type)
            .int(r.nodes_ready)
            .int(r.nodes_provisioning)
            .float(r.cpu_allocatable_milli as f64 / 1000.0, 3)
            .float(r.cpu_requested_milli as f64 / 1000.0, 3)
            .int(r.memory_allocatable_bytes)
            .int(r.memory_requested_bytes)
            .float(r.cost_per_hour_usd, 6);
        b.end_row();
        b.spill(w)?;
    }
    b.finish_into(w)
}

fn events_csv(out: &RunOutput, w: &mut dyn Write) -> std::io::Result<()> {
    let mut b = CsvBuilder::with_header(&["time_s", "kind", "object", "reason", "message"]);
    for e in &out.recorder.events {
        let (kind, object, reason, message) = e.render(&out.world);
        b.display(e.time)
            .field(kind)
            .field(&object)
            .field(reason)
            .field(&message);
        b.end_row();
        b.spill(w)?;
    }
    b.finish_into(w)
}

/// One row per HPA sync and metric: what each metric read, what it proposed, and what the
/// controller wrote after stabilization and rate limits.
fn autoscaling_csv(out: &RunOutput, w: &mut dyn Write) -> std::io::Result<()> {
    let mut b = CsvBuilder::with_header(&[
        "time_s",
        "workload",
        "metric",
        "target_type",
        "current_value",
        "target_value",
        "metric_proposal",
        "replicas_current",
        "replicas_proposed",
        "replicas_desired",
        "limited_by",
    ]);
    for r in &out.recorder.hpa_syncs {
        let spec = &out.scenario.workloads[r.workload as usize];
        let metrics = spec.hpa.as_ref().map_or(&[][..], |h| &h.metrics[..]);
        let rows = r.metrics.len().max(1);
        for i in 0..rows {
            b.display(r.time).field(&spec.name);
            match (r.metrics.get(i), metrics.get(i)) {
                (Some(reading), Some(m)) => {
                    b.field(&m.name)
                        .field(m.target.type_name())
                        .opt_float(reading.current, 3)
                        .float(reading.target, 3);
                    match reading.proposal {
                        Some(p) => b.int(p),
                        None => b.field(""),
                    };
                }
                _ => {
                    b.field("").field("").field("").field("").field("");
                }
            }
            b.int(r.current);
            match r.proposed {
                Some(p) => b.int(p),
                None => b.field(""),
            };
            b.int(r.desired).field(r.limit);
            b.end_row();
            b.spill(w)?;
        }
    }
    b.finish_into(w)
}

/// One row per workload container: the VPA recommender's requests next to the current ones.
fn vpa_csv(out: &RunOutput) -> String {
    let mut b = CsvBuilder::with_header(&[
        "workload",
        "container",
        "cpu_request_m",
        "cpu_target_m",
        "cpu_lower_bound_m",
        "cpu_upper_bound_m",
        "memory_request_bytes",
        "memory_target_bytes",
        "memory_lower_bound_bytes",
        "memory_upper_bound_bytes",
        "confidence_days",
    ]);
    for r in &out.recorder.vpa {
        let spec = &out.scenario.workloads[r.workload as usize];
        let req = spec
            .container_requests
            .iter()
            .find(|c| c.name == r.container);
        b.field(&spec.name)
            .field(&r.container)
            .int(req.map_or(0, |c| c.cpu_request_milli))
            .int(r.cpu_milli[0])
            .int(r.cpu_milli[1])
            .int(r.cpu_milli[2])
            .int(req.map_or(0, |c| c.memory_request_bytes))
            .int(r.memory_bytes[0])
            .int(r.memory_bytes[1])
            .int(r.memory_bytes[2])
            .float(r.confidence, 4);
        b.end_row();
    }
    b.finish()
}
