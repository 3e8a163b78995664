//! The run's charts, drawn from its tables: users' traffic against capacity, replicas,
//! latency against the SLO, nodes per pool, the cost rate and availability over time.
//!
//! Long runs are bucketed to at most [`MAX_POINTS`] points per line (rates averaged,
//! latency and replica counts at their bucket's worst, availability at its lowest), so a
//! day at 15 s ticks stays a readable, small SVG. Charts with many workloads or pools show
//! the [`MAX_LINES`] largest and fold the rest into "other".

use super::chart::{Area, LineChart, Series};
use super::incidents::{Tick, user_ticks};
use super::tables::RunTables;

/// Most points per line.
pub const MAX_POINTS: usize = 720;
/// Most workloads or pools drawn separately.
pub const MAX_LINES: usize = 6;
/// Chart size in pixels.
pub const SIZE: (u32, u32) = (960, 420);

/// Line colours (Tableau 10), by rank.
const PALETTE: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];
const GREY: (u8, u8, u8) = (150, 150, 150);
const SLO_RED: (u8, u8, u8) = (200, 30, 30);

/// One chart, ready to render: its file stem, its title for the page, and the chart.
#[derive(Debug, Clone)]
pub struct NamedChart {
    /// File name without extension (`traffic` → traffic.svg, traffic.png).
    pub stem: String,
    /// What the page calls it.
    pub caption: String,
    /// The chart.
    pub chart: LineChart,
}

/// The time axis: minutes for runs up to three hours, hours beyond.
struct TimeAxis {
    divisor: f64,
    label: &'static str,
}

impl TimeAxis {
    fn of(t: &RunTables) -> TimeAxis {
        if t.summary.duration_s <= 3.0 * 3600.0 {
            TimeAxis {
                divisor: 60.0,
                label: "minutes since start",
            }
        } else {
            TimeAxis {
                divisor: 3600.0,
                label: "hours since start",
            }
        }
    }

    fn x(&self, time_s: f64) -> f64 {
        time_s / self.divisor
    }
}

/// How a bucket of samples becomes one point.
#[derive(Clone, Copy)]
enum Fold {
    Mean,
    Max,
    Min,
}

/// Buckets `points` (in time order) to at most [`MAX_POINTS`], each at its bucket's end.
fn bucket(points: &[(f64, f64)], fold: Fold) -> Vec<(f64, f64)> {
    let stride = points.len().div_ceil(MAX_POINTS).max(1);
    if stride == 1 {
        return points.to_vec();
    }
    points
        .chunks(stride)
        .filter_map(|c| {
            let x = c.last()?.0;
            let ys = c.iter().map(|p| p.1);
            let y = match fold {
                Fold::Mean => ys.sum::<f64>() / c.len() as f64,
                Fold::Max => ys.fold(f64::NEG_INFINITY, f64::max),
                Fold::Min => ys.fold(f64::INFINITY, f64::min),
            };
            Some((x, y))
        })
        .collect()
}

/// Workload indexes by requests offered, most first (ties in scenario order).
fn busiest_workloads(t: &RunTables, entry_only: bool) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..t.workloads.len())
        .filter(|&w| !entry_only || t.workloads[w].entry)
        .collect();
    idx.sort_by(|&a, &b| {
        t.workloads[b]
            .offered
            .cmp(&t.workloads[a].offered)
            .then(a.cmp(&b))
    });
    idx
}

/// Per-workload (x, value) lines of the chosen workloads.
fn per_workload(
    t: &RunTables,
    axis: &TimeAxis,
    chosen: &[usize],
    value: impl Fn(&super::tables::SeriesRow) -> Option<f64>,
) -> Vec<Vec<(f64, f64)>> {
    let mut slot = vec![usize::MAX; t.workloads.len()];
    for (i, &w) in chosen.iter().enumerate() {
        slot[w] = i;
    }
    let mut lines = vec![Vec::new(); chosen.len()];
    for r in &t.series {
        let i = slot[r.workload as usize];
        if i == usize::MAX {
            continue;
        }
        if let Some(v) = value(r) {
            lines[i].push((axis.x(r.time_s), v));
        }
    }
    lines
}

/// Every chart of the run, in page order.
pub fn run_charts(t: &RunTables) -> Vec<NamedChart> {
    let axis = TimeAxis::of(t);
    let ticks = user_ticks(t);
    vec![
        traffic(t, &axis, &ticks),
        availability(t, &axis, &ticks),
        latency(t, &axis),
        replicas(t, &axis),
        nodes(t, &axis),
        cost(t, &axis),
    ]
}

fn traffic(_t: &RunTables, axis: &TimeAxis, ticks: &[Tick]) -> NamedChart {
    let pts = |f: fn(&Tick) -> f64| {
        bucket(
            &ticks
                .iter()
                .map(|k| (axis.x(k.end_s), f(k)))
                .collect::<Vec<_>>(),
            Fold::Mean,
        )
    };
    let mut capacity = Series::line(
        "capacity of Ready pods",
        pts(|k| k.rps_capacity),
        PALETTE[2],
    );
    capacity.dashed = true;
    NamedChart {
        stem: "traffic".into(),
        caption: "Users' traffic: offered, served and capacity".into(),
        chart: LineChart {
            title: "Users' requests: offered, served within timeout, and capacity".into(),
            x_label: axis.label.into(),
            y_label: "requests per second".into(),
            series: vec![
                Series::line("offered", pts(|k| k.rps_offered), GREY),
                Series::line("served within timeout", pts(|k| k.rps_served), PALETTE[0]),
                capacity,
            ],
            ..Default::default()
        },
    }
}

fn slo_line(label: String, value: f64, x0: f64, x1: f64) -> Series {
    let mut s = Series::line(&label, vec![(x0, value), (x1, value)], SLO_RED);
    s.dashed = true;
    s
}

fn availability(t: &RunTables, axis: &TimeAxis, ticks: &[Tick]) -> NamedChart {
    let points = bucket(
        &ticks
            .iter()
            .filter(|k| k.offered > 0.0)
            .map(|k| (axis.x(k.end_s), k.availability() * 100.0))
            .collect::<Vec<_>>(),
        Fold::Min,
    );
    let target = t.summary.slo_availability.map(|a| a * 100.0);
    let lowest = points
        .iter()
        .map(|p| p.1)
        .chain(target)
        .fold(100.0, f64::min);
    // Show the range that matters: from a little below the lowest point (or the target)
    // up to 100%.
    let floor = (100.0 - (100.0 - lowest) * 1.25).max(0.0);
    let floor = if floor >= 99.99 { 99.9 } else { floor };
    let x1 = axis.x(t.summary.duration_s);
    let mut series = vec![Series::line(
        "served within timeout (worst tick of each point)",
        points,
        PALETTE[0],
    )];
    if let Some(a) = target {
        series.push(slo_line(format!("SLO {a}%"), a, 0.0, x1));
    }
    NamedChart {
        stem: "availability".into(),
        caption: "Availability over time".into(),
        chart: LineChart {
            title: "Availability of users' requests".into(),
            x_label: axis.label.into(),
            y_label: "% served within timeout".into(),
            series,
            y_range: Some((floor, 100.0 + (100.0 - floor) * 0.02)),
            legend_low: true,
            ..Default::default()
        },
    }
}

fn latency(t: &RunTables, axis: &TimeAxis) -> NamedChart {
    let chosen: Vec<usize> = busiest_workloads(t, true)
        .into_iter()
        .take(MAX_LINES)
        .collect();
    let lines = per_workload(t, axis, &chosen, |r| {
        (r.rps_served > 0.0).then_some(r.latency_p99_ms).flatten()
    });
    let mut series: Vec<Series> = chosen
        .iter()
        .zip(lines)
        .enumerate()
        .map(|(i, (&w, pts))| {
            Series::line(
                &format!("{} p99", t.workloads[w].name),
                bucket(&pts, Fold::Max),
                PALETTE[i % PALETTE.len()],
            )
        })
        .collect();
    if let Some(bound) = t.summary.slo_latency_p99_ms {
        series.push(slo_line(
            format!("SLO p99 {bound} ms"),
            bound,
            0.0,
            axis.x(t.summary.duration_s),
        ));
    }
    NamedChart {
        stem: "latency".into(),
        caption: "p99 latency against the SLO".into(),
        chart: LineChart {
            title: "p99 response time of each metrics tick".into(),
            x_label: axis.label.into(),
            y_label: "milliseconds".into(),
            series,
            ..Default::default()
        },
    }
}

fn replicas(t: &RunTables, axis: &TimeAxis) -> NamedChart {
    let chosen: Vec<usize> = busiest_workloads(t, false)
        .into_iter()
        .take(MAX_LINES)
        .collect();
    let ready = per_workload(t, axis, &chosen, |r| Some(f64::from(r.replicas_ready)));
    let desired = per_workload(t, axis, &chosen, |r| Some(f64::from(r.replicas_desired)));
    let mut series = Vec::new();
    for (i, &w) in chosen.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let name = &t.workloads[w].name;
        let mut d = Series::line(
            &format!("{name} desired"),
            bucket(&desired[i], Fold::Max),
            color,
        );
        d.steps = true;
        d.dashed = true;
        let mut r = Series::line(
            &format!("{name} Ready"),
            bucket(&ready[i], Fold::Min),
            color,
        );
        r.steps = true;
        series.push(d);
        series.push(r);
    }
    NamedChart {
        stem: "replicas".into(),
        caption: "Replicas desired and Ready".into(),
        chart: LineChart {
            title: "Replicas: desired (dashed) and Ready (solid)".into(),
            x_label: axis.label.into(),
            y_label: "pods".into(),
            series,
            ..Default::default()
        },
    }
}

/// Pools ranked by their largest node count (most first), the rest folded into one group.
fn pool_groups(t: &RunTables, value: impl Fn(&super::tables::NodeLine) -> f64) -> Vec<Vec<u32>> {
    let mut peak = vec![0.0f64; t.pools.len()];
    for n in &t.nodes {
        let v = value(n);
        let p = &mut peak[n.pool as usize];
        *p = p.max(v);
    }
    let mut order: Vec<u32> = (0..t.pools.len() as u32)
        .filter(|&p| peak[p as usize] > 0.0)
        .collect();
    order.sort_by(|&a, &b| {
        peak[b as usize]
            .total_cmp(&peak[a as usize])
            .then(a.cmp(&b))
    });
    let mut groups: Vec<Vec<u32>> = order.iter().take(MAX_LINES).map(|&p| vec![p]).collect();
    if order.len() > MAX_LINES {
        groups.push(order[MAX_LINES..].to_vec());
    }
    groups
}

/// Stacked bands over time: for each sample time, the cumulative sum of `layers` values;
/// returns the bands highest first (each drawn down to 0, covering the ones below it).
fn stack(
    t: &RunTables,
    axis: &TimeAxis,
    layers: &[(String, Vec<u32>, bool)],
    value: impl Fn(&super::tables::NodeLine, bool) -> f64,
    extra_top: Option<(String, f64)>,
    colors: &[(u8, u8, u8)],
) -> Vec<Area> {
    let mut slot = vec![Vec::new(); t.pools.len()];
    for (i, (_, pools, provisioning)) in layers.iter().enumerate() {
        for &p in pools {
            slot[p as usize].push((i, *provisioning));
        }
    }
    let n = layers.len() + usize::from(extra_top.is_some());
    let mut tops: Vec<Vec<(f64, f64)>> = vec![Vec::new(); n];
    let mut at = f64::NAN;
    let mut sums = vec![0.0; n];
    let flush = |at: f64, sums: &mut Vec<f64>, tops: &mut Vec<Vec<(f64, f64)>>| {
        if at.is_nan() {
            return;
        }
        if let Some((_, v)) = &extra_top {
            let last = sums.len() - 1;
            sums[last] = *v;
        }
        let mut cum = 0.0;
        for (i, s) in sums.iter().enumerate() {
            cum += s;
            tops[i].push((axis.x(at), cum));
        }
        sums.iter_mut().for_each(|s| *s = 0.0);
    };
    for r in &t.nodes {
        if r.time_s != at {
            flush(at, &mut sums, &mut tops);
            at = r.time_s;
        }
        for &(i, provisioning) in &slot[r.pool as usize] {
            sums[i] += value(r, provisioning);
        }
    }
    flush(at, &mut sums, &mut tops);
    let labels: Vec<String> = layers
        .iter()
        .map(|l| l.0.clone())
        .chain(extra_top.map(|e| e.0))
        .collect();
    let mut areas: Vec<Area> = tops
        .into_iter()
        .zip(labels)
        .enumerate()
        .map(|(i, (points, label))| Area {
            label,
            points: bucket(&points, Fold::Max),
            color: colors[i % colors.len()],
        })
        .collect();
    areas.reverse();
    areas
}

/// A lighter tint of a palette colour, for filled bands.
fn tint((r, g, b): (u8, u8, u8)) -> (u8, u8, u8) {
    let mix = |c: u8| (u16::from(c) + 2 * 255) as f64 / 3.0;
    (mix(r) as u8, mix(g) as u8, mix(b) as u8)
}

fn group_label(t: &RunTables, group: &[u32]) -> String {
    match group {
        [p] => format!("{} ({})", t.pools[*p as usize].0, t.pools[*p as usize].1),
        _ => format!("{} other pools", group.len()),
    }
}

fn nodes(t: &RunTables, axis: &TimeAxis) -> NamedChart {
    let groups = pool_groups(t, |n| f64::from(n.nodes_ready + n.nodes_provisioning));
    let mut layers: Vec<(String, Vec<u32>, bool)> = groups
        .iter()
        .map(|g| (group_label(t, g), g.clone(), false))
        .collect();
    let all: Vec<u32> = groups.iter().flatten().copied().collect();
    layers.push(("provisioning (all pools)".into(), all, true));
    let mut colors: Vec<(u8, u8, u8)> = (0..groups.len())
        .map(|i| tint(PALETTE[i % PALETTE.len()]))
        .collect();
    colors.push((225, 225, 225));
    let areas = stack(
        t,
        axis,
        &layers,
        |n, provisioning| {
            f64::from(if provisioning {
                n.nodes_provisioning
            } else {
                n.nodes_ready
            })
        },
        None,
        &colors,
    );
    NamedChart {
        stem: "nodes".into(),
        caption: "Nodes per pool, stacked, with nodes being provisioned".into(),
        chart: LineChart {
            title: "Nodes per pool (Ready), and nodes being provisioned on top".into(),
            x_label: axis.label.into(),
            y_label: "nodes".into(),
            areas,
            ..Default::default()
        },
    }
}

fn cost(t: &RunTables, axis: &TimeAxis) -> NamedChart {
    let groups = pool_groups(t, |n| n.cost_per_hour_usd);
    let layers: Vec<(String, Vec<u32>, bool)> = groups
        .iter()
        .map(|g| (group_label(t, g), g.clone(), false))
        .collect();
    let hours = t.summary.duration_s / 3600.0;
    let control_plane = if hours > 0.0 {
        t.summary.cost_control_plane_usd / hours
    } else {
        0.0
    };
    let mut colors: Vec<(u8, u8, u8)> = (0..groups.len())
        .map(|i| tint(PALETTE[i % PALETTE.len()]))
        .collect();
    colors.push((205, 205, 205));
    let areas = stack(
        t,
        axis,
        &layers,
        |n, _| n.cost_per_hour_usd,
        (control_plane > 0.0).then(|| ("control plane".to_string(), control_plane)),
        &colors,
    );
    NamedChart {
        stem: "cost".into(),
        caption: "Cost rate over time".into(),
        chart: LineChart {
            title: format!(
                "Cost rate: ${:.2} in total over the run",
                t.summary.cost_total_usd
            ),
            x_label: axis.label.into(),
            y_label: "USD per hour".into(),
            areas,
            ..Default::default()
        },
    }
}

/// `replicas-<workload>.svg` for each named workload (those with an HPA): desired and Ready
/// replicas (left axis) against offered requests per second (right axis).
pub fn replica_chart(t: &RunTables, w: usize) -> NamedChart {
    let axis = TimeAxis::of(t);
    let chosen = [w];
    let desired = per_workload(t, &axis, &chosen, |r| Some(f64::from(r.replicas_desired)));
    let ready = per_workload(t, &axis, &chosen, |r| Some(f64::from(r.replicas_ready)));
    let rps = per_workload(t, &axis, &chosen, |r| Some(r.rps_offered));
    let name = &t.workloads[w].name;
    let mut offered = Series::line(
        "offered requests/s (right)",
        bucket(&rps[0], Fold::Mean),
        (160, 160, 160),
    );
    offered.right_axis = true;
    let mut d = Series::line(
        "desired replicas",
        bucket(&desired[0], Fold::Max),
        PALETTE[0],
    );
    d.steps = true;
    let mut r = Series::line("Ready replicas", bucket(&ready[0], Fold::Min), PALETTE[2]);
    r.steps = true;
    NamedChart {
        stem: format!("replicas-{name}"),
        caption: format!("{name}: replicas and load"),
        chart: LineChart {
            title: format!("{name}: replicas and load"),
            x_label: axis.label.into(),
            y_label: "pods".into(),
            y2_label: "offered requests/s".into(),
            series: vec![offered, d, r],
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucketing_keeps_short_series_and_folds_long_ones() {
        let short: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), 1.0)).collect();
        assert_eq!(bucket(&short, Fold::Mean), short);
        let long: Vec<(f64, f64)> = (0..2000)
            .map(|i| (f64::from(i), f64::from(i % 3)))
            .collect();
        let mean = bucket(&long, Fold::Mean);
        assert!(mean.len() <= MAX_POINTS, "{}", mean.len());
        // Stride 3: each bucket holds 0, 1, 2 once.
        assert_eq!(mean[0], (2.0, 1.0));
        assert_eq!(bucket(&long, Fold::Max)[0].1, 2.0);
        assert_eq!(bucket(&long, Fold::Min)[0].1, 0.0);
    }

    #[test]
    fn tints_are_lighter() {
        let (r, g, b) = tint((31, 119, 180));
        assert!(r > 31 && g > 119 && b > 180);
    }
}
