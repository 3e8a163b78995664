//! `kubesim compare`: one scenario under several settings, on common random numbers. Every
//! variant runs the same seeds, so seed by seed the variants see the same arrivals, crashes
//! and provisioning draws, and their paired differences carry far less noise than their
//! means; the first variant is the baseline the others are measured against.
//!
//! Files: runs.csv (one row per variant and seed), compare.csv (per variant and metric: the
//! mean with its 95% interval, and the paired difference from the baseline with its
//! interval), compare.svg/.png (cost, availability and p99 per variant with intervals),
//! index.html, and compare.json (the spec, for `kubesim merge` of sharded runs later).

use super::runner::{Job, RunFailed, run_jobs};
use super::stats::{Interval, interval, paired_difference};
use crate::Scenario;
use crate::report::ReportError;
use crate::report::csv::CsvBuilder;
use crate::report::summary::Summary;
use crate::report::write_file as write;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// One variant: a name and the `--set` overrides that make it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Variant {
    /// Short name (a folder- and CSV-safe label).
    pub name: String,
    /// `KEY=VALUE` overrides, applied after the command's own `--set`s.
    pub sets: Vec<String>,
}

/// Parses `NAME:KEY=VALUE[,KEY=VALUE]...` (`NAME` alone: the scenario as it is). A comma
/// inside a value (`[a, b]`) stays in the value: a piece without `=` continues the previous
/// one.
pub fn parse_variant(text: &str) -> Result<Variant, String> {
    let expected = "expected NAME or NAME:KEY=VALUE[,KEY=VALUE]..., e.g. binpack:scheduler.profile=bin-packing";
    let (name, rest) = match text.split_once(':') {
        Some((n, r)) => (n.trim(), Some(r)),
        None => (text.trim(), None),
    };
    if name.is_empty()
        || name.len() > 63
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return Err(format!(
            "--variant `{text}`: the name must be 1-63 letters, digits, `-`, `_` or `.` ({expected})"
        ));
    }
    let mut sets: Vec<String> = Vec::new();
    let rest = rest.map(str::trim).filter(|r| !r.is_empty());
    for piece in rest.map(|r| r.split(',')).into_iter().flatten() {
        match sets.last_mut() {
            Some(last) if !piece.contains('=') => {
                last.push(',');
                last.push_str(piece);
            }
            _ if !piece.contains('=') => {
                return Err(format!(
                    "--variant `{text}`: `{piece}` is not KEY=VALUE ({expected})"
                ));
            }
            _ => sets.push(piece.trim().to_string()),
        }
    }
    Ok(Variant {
        name: name.to_string(),
        sets,
    })
}

/// A metric compared across variants.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    /// Column name (summary.json's key).
    pub name: &'static str,
    /// What the page calls it.
    pub label: &'static str,
    /// Reads it from a run's summary.
    pub get: fn(&Summary) -> Option<f64>,
}

/// The metrics of compare.csv, in order.
pub const METRICS: [Metric; 12] = [
    Metric {
        name: "cost_total_usd",
        label: "cost (USD)",
        get: |s| Some(s.cost_total_usd),
    },
    Metric {
        name: "availability",
        label: "availability",
        get: |s| Some(s.availability),
    },
    Metric {
        name: "latency_p99_ms",
        label: "p99 latency (ms)",
        get: |s| s.latency_p99_ms,
    },
    Metric {
        name: "latency_p50_ms",
        label: "p50 latency (ms)",
        get: |s| s.latency_p50_ms,
    },
    Metric {
        name: "slo_met",
        label: "SLO met (share of seeds)",
        get: |s| s.slo_met.map(|m| if m { 1.0 } else { 0.0 }),
    },
    Metric {
        name: "error_budget_spent",
        label: "error budget spent",
        get: |s| s.error_budget_spent,
    },
    Metric {
        name: "node_hours",
        label: "node-hours",
        get: |s| Some(s.node_hours),
    },
    Metric {
        name: "nodes_avg",
        label: "nodes (average)",
        get: |s| Some(s.nodes_avg),
    },
    Metric {
        name: "cost_idle_usd",
        label: "idle cost (USD)",
        get: |s| Some(s.cost_idle_usd),
    },
    Metric {
        name: "requests_failed",
        label: "requests failed",
        get: |s| Some(s.requests_failed as f64),
    },
    Metric {
        name: "pods_evicted",
        label: "pods evicted",
        get: |s| Some(s.pods_evicted as f64),
    },
    Metric {
        name: "unschedulable_pod_seconds",
        label: "unschedulable pod-seconds",
        get: |s| Some(s.unschedulable_pod_seconds),
    },
];

/// What to compare.
#[derive(Debug, Clone)]
pub struct CompareSpec {
    /// The scenario's name (for titles).
    pub scenario_name: String,
    /// Where it came from.
    pub source: String,
    /// The variants, baseline first; each with its scenario loaded.
    pub variants: Vec<(Variant, Scenario)>,
    /// The seeds every variant runs.
    pub seeds: Vec<u64>,
    /// `--set` overrides applied to every variant.
    pub sets: Vec<String>,
}

/// Per variant and metric: the mean and its interval, and the paired difference from the
/// baseline.
#[derive(Debug, Clone)]
pub struct MetricResult {
    /// Variant index.
    pub variant: usize,
    /// Metric index into [`METRICS`].
    pub metric: usize,
    /// Mean over seeds with its interval.
    pub mean: Interval,
    /// Variant − baseline, seed by seed (None for the baseline itself).
    pub diff: Option<Interval>,
    /// The baseline's mean (for relative differences).
    pub baseline_mean: f64,
}

/// The outcome of a comparison.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Values per variant, metric and seed: `values[v][m][s]`.
    pub values: Vec<Vec<Vec<Option<f64>>>>,
    /// Aggregates, variant-major then metric order.
    pub results: Vec<MetricResult>,
}

/// The jobs of a comparison, seed-major (seed 0 of every variant first), so a partial run
/// still pairs up.
pub fn jobs(spec: &CompareSpec) -> Vec<Job<'_>> {
    spec.seeds
        .iter()
        .flat_map(|&seed| {
            spec.variants
                .iter()
                .map(move |(_, scenario)| Job { scenario, seed })
        })
        .collect()
}

/// One run's metrics, in [`METRICS`] order.
pub type RunValues = Vec<Option<f64>>;

/// Runs the jobs `shard` owns (all without one); returns (job index, metrics) in job order.
pub fn run_rows(
    spec: &CompareSpec,
    shard: Option<super::shard::Shard>,
    threads: usize,
    done: &(dyn Fn(usize) + Sync),
) -> Result<Vec<(usize, RunValues)>, RunFailed> {
    let all = jobs(spec);
    let owned: Vec<usize> = (0..all.len())
        .filter(|&j| shard.is_none_or(|s| s.owns(j)))
        .collect();
    let picked: Vec<Job<'_>> = owned.iter().map(|&j| all[j]).collect();
    let summaries = run_jobs(&picked, threads, done)?;
    Ok(owned
        .into_iter()
        .zip(summaries)
        .map(|(j, s)| (j, METRICS.iter().map(|m| (m.get)(&s)).collect()))
        .collect())
}

/// Why a comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// A run failed.
    #[error(transparent)]
    Run(#[from] RunFailed),
    /// A job has no result (cannot happen without shards; a bug if it does).
    #[error("{0}")]
    Incomplete(String),
}

/// Runs every variant on every seed and aggregates.
pub fn compare(
    spec: &CompareSpec,
    threads: usize,
    done: &(dyn Fn(usize) + Sync),
) -> Result<(Vec<(usize, RunValues)>, Comparison), CompareError> {
    let rows = run_rows(spec, None, threads, done)?;
    let c = from_rows(spec, &rows).map_err(CompareError::Incomplete)?;
    Ok((rows, c))
}

/// Aggregates rows covering every job; Err names the first job no row covers.
pub fn from_rows(spec: &CompareSpec, rows: &[(usize, RunValues)]) -> Result<Comparison, String> {
    let nv = spec.variants.len();
    let total = nv * spec.seeds.len();
    let mut grid: Vec<Option<&RunValues>> = vec![None; total];
    for (j, v) in rows {
        if let Some(slot) = grid.get_mut(*j) {
            *slot = Some(v);
        }
    }
    let mut values = vec![vec![vec![None; spec.seeds.len()]; METRICS.len()]; nv];
    for (j, row) in grid.iter().enumerate() {
        let (seed, v) = (j / nv, j % nv);
        let Some(row) = row else {
            return Err(format!(
                "no run of variant `{}` with seed {}",
                spec.variants[v].0.name, spec.seeds[seed]
            ));
        };
        for (m, per_seed) in values[v].iter_mut().enumerate() {
            per_seed[seed] = row.get(m).copied().flatten().filter(|x| x.is_finite());
        }
    }
    Ok(aggregate_values(values))
}

fn aggregate_values(values: Vec<Vec<Vec<Option<f64>>>>) -> Comparison {
    let mut results = Vec::new();
    for (v, per_metric) in values.iter().enumerate() {
        for (m, seeds) in per_metric.iter().enumerate() {
            let flat: Vec<f64> = seeds.iter().flatten().copied().collect();
            let base: Vec<f64> = values[0][m].iter().flatten().copied().collect();
            results.push(MetricResult {
                variant: v,
                metric: m,
                mean: interval(&flat),
                diff: (v > 0).then(|| paired_difference(&values[0][m], seeds)),
                baseline_mean: interval(&base).mean,
            });
        }
    }
    Comparison { values, results }
}

/// runs.csv text for `rows` (job index, metrics).
pub fn rows_csv(spec: &CompareSpec, rows: &[(usize, RunValues)]) -> String {
    let mut header = vec!["variant", "seed"];
    header.extend(METRICS.iter().map(|m| m.name));
    let mut b = CsvBuilder::with_header(&header);
    let nv = spec.variants.len();
    for (j, values) in rows {
        b.field(&spec.variants[j % nv].0.name)
            .int(spec.seeds[j / nv]);
        for v in values {
            b.exact(*v);
        }
        b.end_row();
    }
    b.finish()
}

/// Reads a shard's runs.csv back into (job index, metrics) rows.
pub fn read_rows(path: &Path, spec: &CompareSpec) -> Result<Vec<(usize, RunValues)>, String> {
    let mut reader =
        csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let nv = spec.variants.len();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("{}: {e}", path.display()))?;
        let line = i + 2;
        let name = record.get(0).unwrap_or("");
        let v = spec
            .variants
            .iter()
            .position(|(v, _)| v.name == name)
            .ok_or_else(|| {
                format!(
                    "{}:{line}: variant `{name}` is not in compare.json",
                    path.display()
                )
            })?;
        let seed: u64 = record
            .get(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("{}:{line}: seed: expected a whole number", path.display()))?;
        let s = spec.seeds.iter().position(|&x| x == seed).ok_or_else(|| {
            format!(
                "{}:{line}: seed {seed} is not in compare.json",
                path.display()
            )
        })?;
        let values: RunValues = (0..METRICS.len())
            .map(|m| record.get(2 + m).and_then(|t| t.parse::<f64>().ok()))
            .collect();
        rows.push((s * nv + v, values));
    }
    Ok(rows)
}

fn pct_of(x: f64, base: f64) -> Option<f64> {
    (base.abs() > 0.0 && x.is_finite()).then(|| x / base * 100.0)
}

/// compare.csv: per variant and metric, the mean with its interval and the paired
/// difference from the baseline.
pub fn compare_csv(spec: &CompareSpec, c: &Comparison) -> String {
    let mut b = CsvBuilder::with_header(&[
        "variant",
        "metric",
        "n",
        "mean",
        "ci95_low",
        "ci95_high",
        "std",
        "baseline",
        "diff_mean",
        "diff_ci95_low",
        "diff_ci95_high",
        "diff_pct",
        "diff_pct_ci95_half_width",
        "significant",
    ]);
    let finite = |x: f64| x.is_finite().then_some(x);
    for r in &c.results {
        b.field(&spec.variants[r.variant].0.name)
            .field(METRICS[r.metric].name)
            .int(r.mean.n as u64)
            .opt_float(finite(r.mean.mean), 6)
            .opt_float(finite(r.mean.low()), 6)
            .opt_float(finite(r.mean.high()), 6)
            .opt_float(finite(r.mean.std), 6)
            .field(&spec.variants[0].0.name);
        match r.diff {
            Some(d) => {
                b.opt_float(finite(d.mean), 6)
                    .opt_float(finite(d.low()), 6)
                    .opt_float(finite(d.high()), 6)
                    .opt_float(pct_of(d.mean, r.baseline_mean), 4)
                    .opt_float(pct_of(d.half_width, r.baseline_mean.abs()), 4)
                    .field(if d.excludes_zero() { "true" } else { "false" });
            }
            None => {
                b.field("")
                    .field("")
                    .field("")
                    .field("")
                    .field("")
                    .field("");
            }
        }
        b.end_row();
    }
    b.finish()
}

fn result<'a>(c: &'a Comparison, v: usize, name: &str) -> Option<&'a MetricResult> {
    let m = METRICS.iter().position(|m| m.name == name)?;
    c.results.iter().find(|r| r.variant == v && r.metric == m)
}

/// One line per variant against the baseline, e.g. "binpack against default: cost −14.0%
/// ± 3.1%; availability −0.001 pp ± 0.002 pp (not significant); p99 +2.0% ± 1.1%".
pub fn sentences(spec: &CompareSpec, c: &Comparison) -> Vec<String> {
    let base = &spec.variants[0].0.name;
    let n = spec.seeds.len();
    (1..spec.variants.len())
        .map(|v| {
            let mut parts = Vec::new();
            for (name, label) in [
                ("cost_total_usd", "cost"),
                ("availability", "availability"),
                ("latency_p99_ms", "p99"),
            ] {
                let Some(r) = result(c, v, name) else {
                    continue;
                };
                let Some(d) = r.diff.filter(|d| d.n > 0 && d.mean.is_finite()) else {
                    continue;
                };
                let verdict = if d.excludes_zero() {
                    ""
                } else {
                    " (not significant)"
                };
                let text = if name == "availability" {
                    format!(
                        "{label} {:+.3} pp ± {:.3} pp{verdict}",
                        d.mean * 100.0,
                        d.half_width * 100.0
                    )
                } else {
                    match (
                        pct_of(d.mean, r.baseline_mean),
                        pct_of(d.half_width, r.baseline_mean.abs()),
                    ) {
                        (Some(p), Some(h)) => format!("{label} {p:+.1}% ± {h:.1}%{verdict}"),
                        (Some(p), None) => format!("{label} {p:+.1}% (one seed: no interval)"),
                        _ => format!("{label} {:+.3}{verdict}", d.mean),
                    }
                };
                parts.push(text);
            }
            format!(
                "{} against {base}: {} (95% intervals of paired differences over {n} seed{})",
                spec.variants[v].0.name,
                parts.join("; "),
                if n == 1 { "" } else { "s" }
            )
        })
        .collect()
}

/// The three panels of compare.svg: cost, availability and p99 per variant.
fn panels(spec: &CompareSpec, c: &Comparison) -> Vec<crate::report::chart::IntervalPanel> {
    [
        ("cost_total_usd", "cost, USD", 1.0),
        ("availability", "availability, %", 100.0),
        ("latency_p99_ms", "p99 latency, ms", 1.0),
    ]
    .iter()
    .map(
        |&(name, title, scale)| crate::report::chart::IntervalPanel {
            title: title.to_string(),
            points: (0..spec.variants.len())
                .filter_map(|v| {
                    let r = result(c, v, name)?;
                    Some((
                        spec.variants[v].0.name.clone(),
                        r.mean.mean * scale,
                        r.mean.low() * scale,
                        r.mean.high() * scale,
                    ))
                })
                .collect(),
        },
    )
    .collect()
}

/// compare.json: what was compared (for people, and for merging shards).
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct SpecFile {
    /// Scenario name.
    pub scenario: String,
    /// Where the scenario came from (a path, or the embedded quickstart).
    pub source: String,
    /// `--set` overrides of every variant.
    pub sets: Vec<String>,
    /// The variants.
    pub variants: Vec<Variant>,
    /// The seeds.
    pub seeds: Vec<u64>,
    /// `I/N` for a shard's folder; absent for a whole comparison.
    pub shard: Option<String>,
}

/// compare.json text.
pub fn spec_json(spec: &CompareSpec, shard: Option<super::shard::Shard>) -> String {
    let file = SpecFile {
        scenario: spec.scenario_name.clone(),
        source: spec.source.clone(),
        sets: spec.sets.clone(),
        variants: spec.variants.iter().map(|v| v.0.clone()).collect(),
        seeds: spec.seeds.clone(),
        shard: shard.map(|s| s.label()),
    };
    let mut json = serde_json::to_string_pretty(&file).unwrap_or_default();
    json.push('\n');
    json
}

/// Writes a shard's slice: its runs.csv and compare.json.
pub fn write_shard(
    dir: &Path,
    spec: &CompareSpec,
    shard: super::shard::Shard,
    rows: &[(usize, RunValues)],
) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError {
        path: dir.to_path_buf(),
        source,
    })?;
    write(dir, "compare.json", spec_json(spec, Some(shard)).as_bytes())?;
    write(dir, "runs.csv", rows_csv(spec, rows).as_bytes())
}

/// Writes runs.csv, compare.csv, compare.svg/.png, compare.json and index.html into `dir`.
pub fn write_comparison(
    dir: &Path,
    spec: &CompareSpec,
    rows: &[(usize, RunValues)],
    c: &Comparison,
) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError {
        path: dir.to_path_buf(),
        source,
    })?;
    write(dir, "compare.json", spec_json(spec, None).as_bytes())?;
    write(dir, "runs.csv", rows_csv(spec, rows).as_bytes())?;
    write(dir, "compare.csv", compare_csv(spec, c).as_bytes())?;
    let title = format!(
        "{}: means with 95% intervals over {} seeds",
        spec.scenario_name,
        spec.seeds.len()
    );
    let panels = panels(spec, c);
    let chart_error = |message: String| ReportError {
        path: dir.join("compare.svg"),
        source: std::io::Error::other(message),
    };
    let svg = crate::report::chart::render_intervals_svg(&title, &panels, 1020, 380)
        .map_err(chart_error)?;
    let png = crate::report::chart::render_intervals_png(&title, &panels, 1020, 380)
        .map_err(chart_error)?;
    write(dir, "compare.svg", svg.as_bytes())?;
    write(dir, "compare.png", &png)?;
    write(dir, "index.html", page(spec, c, &svg).as_bytes())?;
    Ok(())
}

fn page(spec: &CompareSpec, c: &Comparison, svg: &str) -> String {
    use crate::report::html::{escape, page_head};
    let mut h = page_head(&format!("kubesim compare: {}", spec.scenario_name));
    let _ = writeln!(
        h,
        "<h1>{}: {} variants compared</h1>\n<p class=\"sub\">kubesim compare, {} seeds each ({}), common random numbers: every variant ran the same seeds</p>",
        escape(&spec.scenario_name),
        spec.variants.len(),
        spec.seeds.len(),
        escape(
            &spec
                .seeds
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    );
    for s in sentences(spec, c) {
        let _ = writeln!(h, "<div class=\"verdict none\">{}</div>", escape(&s));
    }
    let svg = svg.find("<svg").map_or(svg, |i| &svg[i..]);
    let _ = writeln!(
        h,
        "<figure>{svg}<figcaption>Means with 95% confidence intervals (compare.svg, compare.png)</figcaption></figure>"
    );
    h.push_str("<h2>Metrics</h2>\n<table><tr><th>metric</th><th>variant</th><th>mean</th><th>95% interval</th><th>against the baseline</th></tr>\n");
    for (m, metric) in METRICS.iter().enumerate() {
        for r in c.results.iter().filter(|r| r.metric == m) {
            let interval = if r.mean.half_width.is_finite() {
                format!("{:.4} – {:.4}", r.mean.low(), r.mean.high())
            } else {
                "–".into()
            };
            let diff = match r.diff {
                None => "baseline".to_string(),
                Some(d) if d.half_width.is_finite() => format!(
                    "{:+.4} ± {:.4}{}",
                    d.mean,
                    d.half_width,
                    if d.excludes_zero() { " *" } else { "" }
                ),
                Some(d) => format!("{:+.4}", d.mean),
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{:.4}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(metric.label),
                escape(&spec.variants[r.variant].0.name),
                r.mean.mean,
                interval,
                diff
            );
        }
    }
    h.push_str(
        "</table>\n<p class=\"sub\">* the 95% interval of the paired difference excludes 0.</p>\n",
    );
    h.push_str("<h2>Variants</h2>\n<table><tr><th>variant</th><th>settings</th></tr>\n");
    for (v, _) in &spec.variants {
        let sets = if v.sets.is_empty() {
            "the scenario as written".to_string()
        } else {
            v.sets.join(", ")
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td></tr>",
            escape(&v.name),
            escape(&sets)
        );
    }
    h.push_str("</table>\n");
    let _ = writeln!(
        h,
        "<footer>Made by kubesim {} from {}. Data: runs.csv, compare.csv.</footer>\n</main>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION"),
        escape(&spec.source)
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_parse_with_commas_inside_values() {
        let v = parse_variant("binpack:scheduler.profile=bin-packing").expect("ok");
        assert_eq!(v.name, "binpack");
        assert_eq!(v.sets, vec!["scheduler.profile=bin-packing"]);
        let v = parse_variant("z:a.b=[x, y],c=2").expect("ok");
        assert_eq!(v.sets, vec!["a.b=[x, y]", "c=2"]);
        assert_eq!(
            parse_variant("base").expect("ok").sets,
            Vec::<String>::new()
        );
        assert!(parse_variant(":a=1").is_err());
        assert!(parse_variant("x y:a=1").is_err());
        assert!(parse_variant("x:nothing").is_err());
    }
}
