//! `kubesim explain`: one scheduling decision laid open — "why did my pod land there?".
//!
//! A [`Snapshot`] of real Nodes and Pods is loaded into a [`World`], the running pods are
//! bound where the snapshot says they run, and the scheduler's [`Scheduler::explain`] runs the
//! pod to explain through every filter on every node and every score plugin on the feasible
//! ones. This module turns that into the table users read and the JSON of CONTRACT.md.

use crate::cluster::world::{NodeId, PodId, WorkloadId, World};
use crate::control::scheduler::{Explanation, Scheduler};
use crate::engine::RngStreams;
use crate::engine::time::SimTime;
use crate::metrics::events::nodes_unavailable;
use crate::scenario::k8s::Snapshot;
use serde_json::{Map, Value, json};
use std::fmt::Write as _;

/// One node's line in the report.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeReport {
    /// The node's name.
    pub name: String,
    /// Upstream failure reasons; empty when the node passed every filter.
    pub reasons: Vec<String>,
    /// (plugin, raw, normalized, weight) per score plugin that ran.
    pub scores: Vec<(&'static str, i64, i64, i64)>,
    /// Σ normalized × weight.
    pub total: i64,
}

/// The whole explanation, ready to render.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// `namespace/name` of the pod.
    pub pod: String,
    /// Its requests as `cpu 500m, memory 1Gi`.
    pub requests: String,
    /// Scheduler profile name.
    pub profile: String,
    /// Score plugins and weights in profile order.
    pub plugins: Vec<(&'static str, i64)>,
    /// Nodes in the cluster.
    pub node_count: usize,
    /// Feasible nodes first, by total score (highest first), then the filtered-out ones;
    /// names break ties.
    pub nodes: Vec<NodeReport>,
    /// The node the scheduler picks, if any.
    pub selected: Option<String>,
    /// How many feasible nodes share the top score (the pick among them is uniform, seeded).
    pub tied: usize,
    /// Upstream's FailedScheduling message when no node fits.
    pub failure: Option<String>,
}

/// Places the snapshot's running pods and explains where its last pod would go. With
/// `sample`, only as many nodes as `percentageOfNodesToScore` allows are checked, as in a
/// real scheduling cycle; otherwise every node is.
pub fn explain(snapshot: &Snapshot, seed: u64, sample: bool) -> Report {
    let scenario = &snapshot.scenario;
    let mut world = World::new(scenario);
    for &pool in &snapshot.cordoned {
        let node = world.pool_nodes[pool as usize][0];
        world.cordon(node);
    }
    for &(w, pool) in &snapshot.bound {
        let pod = world.create_pod(WorkloadId(w), SimTime::ZERO);
        let node = world.pool_nodes[pool as usize][0];
        world.bind(pod, node);
    }
    world.keep_only_pool_images();
    let incoming = WorkloadId(scenario.workloads.len() as u32 - 1);
    let pod = world.create_pod(incoming, SimTime::ZERO);
    let streams = RngStreams::new(seed);
    let mut scheduler = Scheduler::new(
        scenario.scheduler.clone(),
        streams.stream("scheduler"),
        &mut world,
    );
    let explanation = scheduler.explain(&world, pod, sample);
    build_report(snapshot, &world, &scheduler, pod, &explanation)
}

fn build_report(
    snapshot: &Snapshot,
    world: &World,
    scheduler: &Scheduler,
    pod: PodId,
    ex: &Explanation,
) -> Report {
    let spec = &world.specs[world.pods[pod.0 as usize].workload.0 as usize];
    let name = |n: NodeId| world.node_name(n);
    let mut nodes: Vec<NodeReport> = ex
        .nodes
        .iter()
        .map(|v| NodeReport {
            name: name(v.node),
            reasons: v.reasons.iter().map(|r| r.render(world)).collect(),
            scores: v
                .scores
                .iter()
                .map(|s| (s.plugin.name(), s.raw, s.normalized, s.weight))
                .collect(),
            total: v.total,
        })
        .collect();
    nodes.sort_by(|a, b| {
        (!a.reasons.is_empty(), -a.total, &a.name).cmp(&(!b.reasons.is_empty(), -b.total, &b.name))
    });
    let top = nodes
        .iter()
        .filter(|n| n.reasons.is_empty())
        .map(|n| n.total)
        .max();
    let tied = nodes
        .iter()
        .filter(|n| n.reasons.is_empty() && Some(n.total) == top)
        .count();
    let failure = ex.selected.is_none().then(|| {
        let mut counts: Vec<(String, u32)> = Vec::new();
        for r in nodes.iter().flat_map(|n| &n.reasons) {
            match counts.iter_mut().find(|(s, _)| s == r) {
                Some(c) => c.1 += 1,
                None => counts.push((r.clone(), 1)),
            }
        }
        nodes_unavailable(world.live_nodes.len() as u32, counts.into_iter())
    });
    Report {
        pod: snapshot.pod_names.last().cloned().unwrap_or_default(),
        requests: format!(
            "cpu {}, memory {}",
            format_cpu(spec.cpu_request_milli),
            format_bytes(spec.memory_request_bytes)
        ),
        profile: scheduler.profile().name.clone(),
        plugins: scheduler
            .profile()
            .scores
            .iter()
            .map(|&(p, w)| (p.name(), w))
            .collect(),
        node_count: world.live_nodes.len(),
        nodes,
        selected: ex.selected.map(name),
        tied,
        failure,
    }
}

/// `500m`, `2`, `1500m`.
fn format_cpu(milli: u64) -> String {
    if milli.is_multiple_of(1000) {
        (milli / 1000).to_string()
    } else {
        format!("{milli}m")
    }
}

/// `512Mi`, `2Gi`, `1000` (bytes that are no whole binary unit stay bytes).
fn format_bytes(bytes: u64) -> String {
    for (unit, shift) in [("Ti", 40), ("Gi", 30), ("Mi", 20), ("Ki", 10)] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

/// The JSON object of CONTRACT.md.
pub fn render_json(report: &Report) -> String {
    let nodes: Vec<Value> = report
        .nodes
        .iter()
        .map(|n| {
            let mut scores = Map::new();
            for &(plugin, raw, normalized, weight) in &n.scores {
                scores.insert(
                    plugin.to_string(),
                    json!({ "raw": raw, "normalized": normalized, "weight": weight, "weighted": normalized * weight }),
                );
            }
            json!({
                "name": n.name,
                "feasible": n.reasons.is_empty(),
                "reasons": n.reasons,
                "scores": scores,
                "total": n.total,
            })
        })
        .collect();
    let out = json!({ "pod": report.pod, "selected": report.selected, "nodes": nodes });
    let mut text = serde_json::to_string_pretty(&out).unwrap_or_default();
    text.push('\n');
    text
}

/// The human-readable table: one row per node, one column per score plugin showing
/// `raw→normalized`, the weighted total, and for filtered-out nodes the reasons.
pub fn render_table(report: &Report) -> String {
    let mut out = String::new();
    let checked = report.nodes.len();
    let _ = writeln!(out, "Pod {} ({})", report.pod, report.requests);
    let _ = writeln!(
        out,
        "Profile {}: {} of {} nodes checked, {} feasible",
        report.profile,
        checked,
        report.node_count,
        report.nodes.iter().filter(|n| n.reasons.is_empty()).count()
    );
    let _ = writeln!(out);
    let mut header: Vec<String> = vec!["NODE".into(), "TOTAL".into()];
    header.extend(report.plugins.iter().map(|(p, w)| format!("{p} ×{w}")));
    let mut rows: Vec<Vec<String>> = Vec::new();
    for n in report.nodes.iter().filter(|n| n.reasons.is_empty()) {
        let mut row = vec![n.name.clone(), n.total.to_string()];
        for (plugin, _) in &report.plugins {
            row.push(match n.scores.iter().find(|s| s.0 == *plugin) {
                Some(&(_, raw, norm, _)) if raw == norm => norm.to_string(),
                Some(&(_, raw, norm, _)) => format!("{raw}→{norm}"),
                None => "-".into(),
            });
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (c, cell) in cells.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            if c == 0 {
                s.push_str(cell);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str("  ");
                s.push_str(&" ".repeat(pad));
                s.push_str(cell);
            }
        }
        s.trim_end().to_string()
    };
    if !rows.is_empty() {
        let _ = writeln!(out, "{}", line(&header));
        for r in &rows {
            let _ = writeln!(out, "{}", line(r));
        }
        let _ = writeln!(
            out,
            "(a cell is raw→normalized score, or one number when they are equal; TOTAL = Σ normalized × weight; - = skipped by PreScore)"
        );
    }
    let rejected: Vec<&NodeReport> = report
        .nodes
        .iter()
        .filter(|n| !n.reasons.is_empty())
        .collect();
    if !rejected.is_empty() {
        if !rows.is_empty() {
            let _ = writeln!(out);
        }
        let _ = writeln!(out, "Filtered out:");
        let w = rejected
            .iter()
            .map(|n| n.name.chars().count())
            .max()
            .unwrap_or(0);
        for n in rejected {
            let _ = writeln!(out, "  {:w$}  {}", n.name, n.reasons.join("; "));
        }
    }
    let _ = writeln!(out);
    match (&report.selected, &report.failure) {
        (Some(node), _) => {
            let total = report
                .nodes
                .iter()
                .find(|n| &n.name == node)
                .map_or(0, |n| n.total);
            let tie = if report.tied > 1 {
                format!(
                    "; {} nodes tied at the top, one picked uniformly at random (seeded)",
                    report.tied
                )
            } else {
                String::new()
            };
            let _ = writeln!(out, "Selected: {node} (total {total}{tie})");
        }
        (None, Some(msg)) => {
            let _ = writeln!(out, "Unschedulable: {msg}");
        }
        (None, None) => {
            let _ = writeln!(out, "Unschedulable: no nodes.");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_print_as_kubectl_would() {
        assert_eq!(format_cpu(500), "500m");
        assert_eq!(format_cpu(2000), "2");
        assert_eq!(format_bytes(512 << 20), "512Mi");
        assert_eq!(format_bytes(3 << 30), "3Gi");
        assert_eq!(format_bytes(1000), "1000");
        assert_eq!(format_bytes(0), "0");
    }
}
