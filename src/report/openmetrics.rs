//! OpenMetrics text export of one run's time series, so a run can be loaded into Prometheus
//! (`promtool tsdb create-blocks-from openmetrics FILE DIR`) and explored in Grafana with
//! the dashboards and PromQL users already know, next to (or instead of) the CSV files.
//!
//! The data is the same as timeseries.csv and nodes.csv. Timestamps are simulated: a sample
//! taken `t` seconds into the run is stamped `start_unix_s + t`, so the caller picks where
//! the run sits on the time axis (pick a recent start: Prometheus deletes blocks older than
//! its retention).
//!
//! Simplifications:
//! - Gauges exist only at metrics ticks; nothing is interpolated in between.
//! - Counters (`*_total`) are rebuilt from the per-tick rates (rate × tick length, summed),
//!   so they match the run's totals only up to float rounding, and the cost counter
//!   integrates the sampled cost per hour (it ignores minimum charges the summary bills).
//!   Negative or non-finite increments are left out so counters never go down.
//! - Latency is each tick's p99 as a gauge, not a histogram: it cannot be re-aggregated
//!   across workloads or time windows.
//! - No `_created` samples, exemplars or timestamps before the first tick.
//! - Samples whose value is NaN or infinite are skipped; when two rows of one series share
//!   a timestamp, the last one wins.

use crate::engine::SimTime;
use crate::metrics::{NodeRow, TimeseriesRow};
use crate::sim::RunOutput;
use std::fmt;
use std::io::{self, BufWriter, Write};

/// Writes the run's time series as OpenMetrics text (ending in `# EOF`) to `w`.
///
/// Why: Prometheus and Grafana are where users already look at cluster metrics; this lets
/// them query a simulated run the same way. Samples are stamped `start_unix_s` plus the
/// simulated time, in seconds with millisecond precision; the same run yields the same bytes.
pub fn write_openmetrics(out: &RunOutput, start_unix_s: u64, w: &mut dyn Write) -> io::Result<()> {
    let clock = Clock { start_unix_s };
    let mut w = BufWriter::with_capacity(1 << 16, w);
    let timeseries = &out.recorder.timeseries;
    let workload_series = series_of(
        timeseries.iter().map(|r| r.workload as usize),
        out.scenario
            .workloads
            .iter()
            .map(|wl| labels(&[("workload", &wl.name)])),
    );
    for family in &WORKLOAD_FAMILIES {
        write_family(
            &mut w,
            clock,
            family,
            |i| timeseries.get(i),
            &workload_series,
        )?;
    }
    let nodes = &out.recorder.nodes;
    let pool_series = series_of(
        nodes.iter().map(|r| r.pool as usize),
        out.scenario
            .pools
            .iter()
            .map(|p| labels(&[("pool", &p.name), ("instance_type", &p.instance_type)])),
    );
    for family in &POOL_FAMILIES {
        write_family(&mut w, clock, family, |i| nodes.get(i), &pool_series)?;
    }
    w.write_all(b"# EOF\n")?;
    w.flush()
}

/// One metric family: its metadata and how a row yields its sample.
struct Family<R> {
    /// Family name (counters: without `_total`); ends in `_<unit>` when it has a unit.
    name: &'static str,
    /// OpenMetrics unit, the name's suffix.
    unit: Option<&'static str>,
    /// `# HELP` text (no backslash, newline or quote).
    help: &'static str,
    /// Gauge or counter, and the row's value.
    reading: Reading<R>,
}

/// How a family reads a row.
enum Reading<R> {
    /// The row's value as is (None: no sample for this row).
    Gauge(fn(&R) -> Option<Number>),
    /// A rate per second over the tick that ends at the row, summed into a running total.
    Counter(fn(&R) -> f64),
}

/// Per-workload families, from timeseries rows.
const WORKLOAD_FAMILIES: [Family<TimeseriesRow>; 10] = [
    Family {
        name: "kubesim_workload_replicas_desired",
        unit: None,
        help: "Replicas the workload controllers want.",
        reading: Reading::Gauge(|r| Some(Number::Int(r.replicas_desired.into()))),
    },
    Family {
        name: "kubesim_workload_replicas_ready",
        unit: None,
        help: "Ready replicas.",
        reading: Reading::Gauge(|r| Some(Number::Int(r.replicas_ready.into()))),
    },
    Family {
        name: "kubesim_workload_requests_offered_per_second",
        unit: None,
        help: "Requests offered per second over the tick.",
        reading: Reading::Gauge(|r| Some(Number::Float(r.rps_offered))),
    },
    Family {
        name: "kubesim_workload_requests_served_per_second",
        unit: None,
        help: "Requests served within their timeout per second over the tick.",
        reading: Reading::Gauge(|r| Some(Number::Float(r.rps_served))),
    },
    Family {
        name: "kubesim_workload_requests_failed_per_second",
        unit: None,
        help: "Requests failed per second over the tick.",
        reading: Reading::Gauge(|r| Some(Number::Float(r.rps_failed))),
    },
    Family {
        name: "kubesim_workload_cpu_utilization_ratio",
        unit: Some("ratio"),
        help: "CPU used divided by CPU requested by Ready pods.",
        reading: Reading::Gauge(|r| Some(Number::Float(r.cpu_utilization))),
    },
    Family {
        name: "kubesim_workload_latency_p99_seconds",
        unit: Some("seconds"),
        help: "99th percentile response time of the requests served in the tick.",
        reading: Reading::Gauge(|r| r.latency_p99_ms.map(|ms| Number::Float(ms / 1000.0))),
    },
    Family {
        name: "kubesim_workload_requests_offered",
        unit: None,
        help: "Requests offered since the start of the run.",
        reading: Reading::Counter(|r| r.rps_offered),
    },
    Family {
        name: "kubesim_workload_requests_served",
        unit: None,
        help: "Requests served within their timeout since the start of the run.",
        reading: Reading::Counter(|r| r.rps_served),
    },
    Family {
        name: "kubesim_workload_requests_failed",
        unit: None,
        help: "Requests failed since the start of the run.",
        reading: Reading::Counter(|r| r.rps_failed),
    },
];

/// Per-pool families, from node rows.
const POOL_FAMILIES: [Family<NodeRow>; 8] = [
    Family {
        name: "kubesim_pool_nodes_ready",
        unit: None,
        help: "Ready nodes in the pool.",
        reading: Reading::Gauge(|r| Some(Number::Int(r.nodes_ready.into()))),
    },
    Family {
        name: "kubesim_pool_nodes_provisioning",
        unit: None,
        help: "Nodes being provisioned for the pool.",
        reading: Reading::Gauge(|r| Some(Number::Int(r.nodes_provisioning.into()))),
    },
    Family {
        name: "kubesim_pool_cpu_allocatable_cores",
        unit: Some("cores"),
        help: "Allocatable CPU of the pool's Ready nodes.",
        reading: Reading::Gauge(|r| Some(milli_to_cores(r.cpu_allocatable_milli))),
    },
    Family {
        name: "kubesim_pool_cpu_requested_cores",
        unit: Some("cores"),
        help: "CPU requested by pods on the pool's Ready nodes.",
        reading: Reading::Gauge(|r| Some(milli_to_cores(r.cpu_requested_milli))),
    },
    Family {
        name: "kubesim_pool_memory_allocatable_bytes",
        unit: Some("bytes"),
        help: "Allocatable memory of the pool's Ready nodes.",
        reading: Reading::Gauge(|r| Some(Number::Int(r.memory_allocatable_bytes))),
    },
    Family {
        name: "kubesim_pool_memory_requested_bytes",
        unit: Some("bytes"),
        help: "Memory requested by pods on the pool's Ready nodes.",
        reading: Reading::Gauge(|r| Some(Number::Int(r.memory_requested_bytes))),
    },
    Family {
        name: "kubesim_pool_cost_per_hour_usd",
        unit: None,
        help: "What the pool's billed nodes cost per hour, in US dollars.",
        reading: Reading::Gauge(|r| Some(Number::Float(r.cost_per_hour_usd))),
    },
    Family {
        name: "kubesim_pool_cost_usd",
        unit: Some("usd"),
        help: "What the pool cost since the start of the run, in US dollars.",
        reading: Reading::Counter(|r| r.cost_per_hour_usd / 3600.0),
    },
];

/// Milli-cores as cores (exact for every value a run produces).
fn milli_to_cores(milli: u64) -> Number {
    Number::Float(milli as f64 / 1000.0)
}

/// A sample value: integers print as integers, floats in Rust's shortest round-trip form.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Number {
    /// A count.
    Int(u64),
    /// A measurement.
    Float(f64),
}

impl Number {
    /// NaN and infinities have no place in the export.
    fn is_finite(self) -> bool {
        match self {
            Number::Int(_) => true,
            Number::Float(v) => v.is_finite(),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Number::Int(i) => write!(f, "{i}"),
            // Matches -0.0 too: `-0` would be legal but surprising.
            Number::Float(0.0) => f.write_str("0"),
            Number::Float(v) => write!(f, "{v}"),
        }
    }
}

/// Maps simulated time onto Unix time.
#[derive(Debug, Clone, Copy)]
struct Clock {
    /// The Unix time (seconds) of the run's t = 0.
    start_unix_s: u64,
}

impl Clock {
    /// The Unix timestamp of simulated time `t`.
    fn at(self, t: SimTime) -> Timestamp {
        Timestamp(u128::from(self.start_unix_s) * 1000 + u128::from(t.as_millis()))
    }
}

/// Unix milliseconds, printed as seconds with three decimals (`1700000015.000`).
#[derive(Debug, Clone, Copy)]
struct Timestamp(u128);

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

/// A recorder row with a sample time.
trait Timed {
    /// When the row was sampled.
    fn time(&self) -> SimTime;
}

impl Timed for TimeseriesRow {
    fn time(&self) -> SimTime {
        self.time
    }
}

impl Timed for NodeRow {
    fn time(&self) -> SimTime {
        self.time
    }
}

/// One labelled series (a workload or a pool) and its rows, in recorder order.
struct Series {
    /// The rendered label set, braces included.
    labels: String,
    /// Indices of the series' rows.
    rows: Vec<usize>,
}

/// Groups rows by their series key in one pass; rows whose key names no series are dropped.
fn series_of(
    keys: impl Iterator<Item = usize>,
    labels: impl Iterator<Item = String>,
) -> Vec<Series> {
    let mut series: Vec<Series> = labels
        .map(|labels| Series {
            labels,
            rows: Vec::new(),
        })
        .collect();
    for (row, key) in keys.enumerate() {
        if let Some(s) = series.get_mut(key) {
            s.rows.push(row);
        }
    }
    series
}

/// `{name="value",...}` with values escaped per OpenMetrics.
fn labels(pairs: &[(&str, &str)]) -> String {
    let mut out = String::from("{");
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        escape_label_value(value, &mut out);
        out.push('"');
    }
    out.push('}');
    out
}

/// Appends `value` with backslash, double quote and newline escaped.
fn escape_label_value(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Writes one family: metadata, then each series' samples in time order (`row(i)` is row
/// `i` of the table, wherever it is stored).
fn write_family<'a, R: Timed + 'a>(
    w: &mut dyn Write,
    clock: Clock,
    family: &Family<R>,
    row: impl Fn(usize) -> Option<&'a R>,
    series: &[Series],
) -> io::Result<()> {
    write_metadata(w, family)?;
    let total_name = format!("{}_total", family.name);
    for s in series {
        let series_rows = s.rows.iter().filter_map(|&i| row(i));
        match family.reading {
            Reading::Gauge(value) => {
                let points = series_rows.map(|r| (r.time(), value(r)));
                write_points(w, clock, family.name, &s.labels, points)?;
            }
            Reading::Counter(rate) => {
                let points = running_total(series_rows, rate);
                write_points(w, clock, &total_name, &s.labels, points)?;
            }
        }
    }
    Ok(())
}

/// `# TYPE`, `# UNIT` (when the family has one) and `# HELP` lines.
fn write_metadata<R>(w: &mut dyn Write, family: &Family<R>) -> io::Result<()> {
    let kind = match family.reading {
        Reading::Gauge(_) => "gauge",
        Reading::Counter(_) => "counter",
    };
    writeln!(w, "# TYPE {} {kind}", family.name)?;
    if let Some(unit) = family.unit {
        writeln!(w, "# UNIT {} {unit}", family.name)?;
    }
    writeln!(w, "# HELP {} {}", family.name, family.help)
}

/// The running total of `rate` (per second) times each row's tick: the time since the
/// previous row of the series, or since t = 0 for the first one.
fn running_total<'a, R: Timed + 'a>(
    rows: impl Iterator<Item = &'a R>,
    rate: fn(&R) -> f64,
) -> impl Iterator<Item = (SimTime, Option<Number>)> {
    let mut last = SimTime::ZERO;
    let mut total = 0.0_f64;
    rows.map(move |r| {
        let tick = r.time().saturating_sub(last);
        last = last.max(r.time());
        let increment = rate(r) * tick.as_secs_f64();
        if increment.is_finite() && increment > 0.0 {
            total += increment;
        }
        (r.time(), Some(Number::Float(total)))
    })
}

/// Writes a series' samples, skipping missing and non-finite values, keeping the last of
/// samples that share a timestamp and dropping any that go back in time.
fn write_points(
    w: &mut dyn Write,
    clock: Clock,
    name: &str,
    labels: &str,
    points: impl Iterator<Item = (SimTime, Option<Number>)>,
) -> io::Result<()> {
    let mut pending: Option<(SimTime, Number)> = None;
    for (time, value) in points {
        let Some(value) = value.filter(|v| v.is_finite()) else {
            continue;
        };
        match pending {
            Some((held, _)) if time < held => continue,
            Some((held, held_value)) if time > held => {
                write_sample(w, clock, name, labels, held, held_value)?;
            }
            _ => {}
        }
        pending = Some((time, value));
    }
    match pending {
        Some((time, value)) => write_sample(w, clock, name, labels, time, value),
        None => Ok(()),
    }
}

/// One sample line: `name{labels} value timestamp`.
fn write_sample(
    w: &mut dyn Write,
    clock: Clock,
    name: &str,
    labels: &str,
    time: SimTime,
    value: Number,
) -> io::Result<()> {
    writeln!(w, "{name}{labels} {value} {}", clock.at(time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_quickstart;
    use crate::sim::{RunOptions, run};
    use std::collections::{HashMap, HashSet};

    const START: u64 = 1_700_000_000;

    /// The quickstart (2 h, 15 s ticks): three workloads on one pool.
    fn small_run() -> RunOutput {
        let scenario = load_quickstart(&[]).expect("quickstart loads");
        // Default options: no invariant checks.
        run(&scenario, RunOptions::default()).expect("quickstart runs")
    }

    fn export(out: &RunOutput) -> String {
        let mut bytes = Vec::new();
        write_openmetrics(out, START, &mut bytes).expect("writes to memory");
        String::from_utf8(bytes).expect("UTF-8")
    }

    /// A sample line split into (metric name, label set, value, timestamp).
    fn parse_sample(line: &str) -> (&str, &str, f64, f64) {
        let mut parts = line.rsplitn(3, ' ');
        let ts = parts.next().expect("timestamp");
        let value = parts.next().expect("value");
        let series = parts.next().expect("series");
        let (name, labels) = series.split_at(series.find('{').unwrap_or(series.len()));
        (
            name,
            labels,
            value.parse().expect("numeric value"),
            ts.parse().expect("numeric timestamp"),
        )
    }

    fn samples(text: &str) -> impl Iterator<Item = (&str, &str, f64, f64)> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(parse_sample)
    }

    #[test]
    fn families_are_contiguous_and_fully_described() {
        let text = export(&small_run());
        let mut seen = HashSet::new();
        let mut current: Option<(String, String)> = None;
        let mut described: HashMap<String, Vec<&str>> = HashMap::new();
        for line in text.lines() {
            if let Some(meta) = line.strip_prefix("# ") {
                let mut words = meta.splitn(3, ' ');
                let (keyword, name) = (words.next(), words.next());
                let (Some(keyword), Some(name)) = (keyword, name) else {
                    assert_eq!(line, "# EOF");
                    continue;
                };
                if keyword == "TYPE" {
                    assert!(seen.insert(name.to_string()), "{name} described twice");
                    let kind = words.next().expect("type").to_string();
                    current = Some((name.to_string(), kind));
                }
                described.entry(name.to_string()).or_default().push(keyword);
                continue;
            }
            let (name, _, _, _) = parse_sample(line);
            let (family, kind) = current.as_ref().expect("a sample after a TYPE line");
            let expected = match kind.as_str() {
                "counter" => format!("{family}_total"),
                _ => family.clone(),
            };
            assert_eq!(name, expected, "sample outside its family");
        }
        assert_eq!(seen.len(), WORKLOAD_FAMILIES.len() + POOL_FAMILIES.len());
        for (name, keywords) in &described {
            let unit = name.ends_with("_seconds")
                || name.ends_with("_bytes")
                || name.ends_with("_ratio")
                || name.ends_with("_cores")
                || name.ends_with("_cost_usd");
            let expected = if unit {
                ["TYPE", "UNIT", "HELP"].as_slice()
            } else {
                ["TYPE", "HELP"].as_slice()
            };
            assert_eq!(keywords, expected, "{name}");
        }
    }

    #[test]
    fn every_unit_is_the_name_suffix_and_help_needs_no_escaping() {
        let metadata = WORKLOAD_FAMILIES
            .iter()
            .map(|f| (f.name, f.unit, f.help))
            .chain(POOL_FAMILIES.iter().map(|f| (f.name, f.unit, f.help)));
        for (name, unit, help) in metadata {
            if let Some(unit) = unit {
                assert!(name.ends_with(&format!("_{unit}")), "{name} / {unit}");
            }
            assert!(
                !help.is_empty() && !help.contains(['\\', '\n', '"']),
                "{name}"
            );
            assert!(!name.ends_with("_total"), "{name}");
        }
    }

    #[test]
    fn series_move_forward_and_counters_never_drop() {
        let text = export(&small_run());
        let mut last: HashMap<(String, String), (f64, f64)> = HashMap::new();
        for (name, labels, value, ts) in samples(&text) {
            let key = (name.to_string(), labels.to_string());
            if let Some(&(prev_ts, prev_value)) = last.get(&key) {
                assert!(ts > prev_ts, "{name}{labels} at {ts} after {prev_ts}");
                if name.ends_with("_total") {
                    assert!(value >= prev_value, "{name}{labels} went down at {ts}");
                }
            }
            last.insert(key, (ts, value));
        }
        assert!(!last.is_empty());
    }

    #[test]
    fn request_counters_add_up_to_the_run_totals() {
        let out = small_run();
        let text = export(&out);
        let mut finals: HashMap<&str, f64> = HashMap::new();
        for (name, labels, value, _) in samples(&text) {
            if name == "kubesim_workload_requests_offered_total" {
                finals.insert(labels, value);
            }
        }
        for (w, spec) in out.scenario.workloads.iter().enumerate() {
            let offered = out.recorder.workloads[w].offered;
            let exported = finals
                .get(format!("{{workload=\"{}\"}}", spec.name).as_str())
                .copied()
                .unwrap_or(0.0);
            assert!(
                (exported - offered).abs() <= 1e-6 * offered.max(1.0),
                "{}: exported {exported}, recorded {offered}",
                spec.name
            );
        }
        assert!(
            finals.values().any(|&v| v > 0.0),
            "some traffic was offered"
        );
    }

    #[test]
    fn timestamps_are_the_start_plus_simulated_seconds() {
        let text = export(&small_run());
        // The quickstart samples every 15 s and runs 2 h.
        let first = "kubesim_workload_replicas_desired{workload=\"web\"} ";
        let line = text
            .lines()
            .find(|l| l.starts_with(first))
            .expect("a web sample");
        assert!(line.ends_with(" 1700000015.000"), "{line}");
        assert!(text.contains(" 1700007200.000\n"), "last tick at 2 h");
        assert_eq!(
            Clock { start_unix_s: 5 }
                .at(SimTime::from_millis(7))
                .to_string(),
            "5.007"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let mut out = small_run();
        out.scenario.workloads[0].name = "we\"b\\x\ny".to_string();
        let text = export(&out);
        assert!(
            text.contains("{workload=\"we\\\"b\\\\x\\ny\"}"),
            "escaped name"
        );
        assert!(
            text.lines().all(|l| !l.is_empty()),
            "no raw newline in a label"
        );
    }

    #[test]
    fn text_is_deterministic_and_ends_with_eof() {
        let out = small_run();
        let text = export(&out);
        assert!(text.ends_with("\n# EOF\n"));
        assert_eq!(text.matches("# EOF").count(), 1);
        assert_eq!(text, export(&small_run()), "same run, same bytes");
    }

    #[test]
    fn shared_timestamps_keep_the_last_row_and_bad_values_are_skipped() {
        let mut out = small_run();
        let rows = &mut out.recorder.timeseries;
        let mut extra = rows.last().expect("rows").clone();
        let name = out.scenario.workloads[extra.workload as usize].name.clone();
        extra.replicas_desired = 4242;
        rows.push(extra.clone());
        if let Some(first) = rows.get_mut(0) {
            first.cpu_utilization = f64::NAN;
        }
        if let Some(second) = rows.get_mut(1) {
            second.rps_offered = f64::INFINITY;
        }
        let text = export(&out);
        let desired = format!("kubesim_workload_replicas_desired{{workload=\"{name}\"}} ");
        let last = text
            .lines()
            .rfind(|l| l.starts_with(&desired))
            .expect("samples");
        assert!(last.starts_with(&format!("{desired}4242 ")), "{last}");
        let at_last = text
            .lines()
            .filter(|l| l.starts_with(&desired) && l.ends_with(" 1700007200.000"))
            .count();
        assert_eq!(at_last, 1, "one sample per timestamp");
        assert!(!text.contains("NaN") && !text.contains("inf"));
    }

    #[test]
    fn latency_samples_exist_only_where_measured() {
        let out = small_run();
        let text = export(&out);
        let measured = out
            .recorder
            .timeseries
            .iter()
            .filter(|r| r.latency_p99_ms.is_some())
            .count();
        let exported = samples(&text)
            .filter(|s| s.0 == "kubesim_workload_latency_p99_seconds")
            .count();
        assert_eq!(exported, measured);
        assert!(measured > 0, "some ticks measured latency");
    }

    #[test]
    fn numbers_print_as_integers_or_shortest_floats() {
        assert_eq!(Number::Int(6).to_string(), "6");
        assert_eq!(Number::Float(0.1 + 0.2).to_string(), "0.30000000000000004");
        assert_eq!(Number::Float(2.0).to_string(), "2");
        assert_eq!(Number::Float(-0.0).to_string(), "0");
        assert_eq!(milli_to_cores(3920).to_string(), "3.92");
        assert!(!Number::Float(f64::NAN).is_finite());
    }

    #[test]
    fn pool_cost_counter_integrates_cost_per_hour() {
        let out = small_run();
        let text = export(&out);
        let expected: f64 = {
            let mut last = SimTime::ZERO;
            let mut total = 0.0;
            for r in out.recorder.nodes.iter().filter(|r| r.pool == 0) {
                total += r.cost_per_hour_usd * r.time.saturating_sub(last).as_secs_f64() / 3600.0;
                last = r.time;
            }
            total
        };
        let exported = samples(&text)
            .filter(|s| s.0 == "kubesim_pool_cost_usd_total")
            .last()
            .expect("cost samples");
        assert!(
            exported
                .1
                .contains("pool=\"general\",instance_type=\"m5.xlarge\"")
        );
        assert!(
            (exported.2 - expected).abs() < 1e-9 && expected > 0.0,
            "{exported:?}"
        );
    }
}
