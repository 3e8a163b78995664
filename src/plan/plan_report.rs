//! What `kubesim plan` writes: plan.csv (every candidate evaluated, with intervals and its
//! verdict), runs.csv (every run: the resume cache), pareto.svg/.png (cost against
//! availability, the frontier and the recommendation), index.html, and the recommendation
//! with its reason.

use super::compare::METRICS;
use super::planfile::PlanSpec;
use super::planner::{Cache, Evaluation, Objectives, RunValues, Verdict, candidate_key};
use crate::report::ReportError;
use crate::report::chart::{LineChart, Series};
use crate::report::csv::CsvBuilder;
use crate::report::write_file as write;
use std::fmt::Write as _;
use std::path::Path;

/// runs.csv: the cache, one row per candidate and seed, in key then seed order.
pub fn runs_csv(fingerprint: &str, cache: &Cache) -> String {
    let mut header = vec!["fingerprint", "candidate", "seed"];
    header.extend(METRICS.iter().map(|m| m.name));
    let mut b = CsvBuilder::with_header(&header);
    for ((key, seed), values) in cache {
        b.field(fingerprint).field(key).int(*seed);
        for v in values {
            b.exact(*v);
        }
        b.end_row();
    }
    b.finish()
}

/// Reads a previous attempt's runs.csv (only rows with the same `fingerprint`).
pub fn read_cache(path: &Path, fingerprint: &str) -> Cache {
    let mut cache = Cache::new();
    let Ok(mut reader) = csv::Reader::from_path(path) else {
        return cache;
    };
    let names: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(_) => return cache,
    };
    let expected: Vec<&str> = ["fingerprint", "candidate", "seed"]
        .into_iter()
        .chain(METRICS.iter().map(|m| m.name))
        .collect();
    if names != expected {
        return cache;
    }
    for record in reader.records().flatten() {
        if record.get(0) != Some(fingerprint) {
            continue;
        }
        let (Some(key), Some(Ok(seed))) = (record.get(1), record.get(2).map(str::parse::<u64>))
        else {
            continue;
        };
        let values: RunValues = (0..METRICS.len())
            .map(|i| record.get(3 + i).and_then(|t| t.parse::<f64>().ok()))
            .collect();
        cache.insert((key.to_string(), seed), values);
    }
    cache
}

/// Writes the cache atomically (after each batch: a killed plan loses at most one batch).
pub fn save_cache(dir: &Path, fingerprint: &str, cache: &Cache) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError {
        path: dir.to_path_buf(),
        source,
    })?;
    write(dir, "runs.csv", runs_csv(fingerprint, cache).as_bytes())
}

/// plan.csv: every candidate in evaluation order.
pub fn plan_csv(
    spec: &PlanSpec,
    evals: &[Evaluation],
    frontier: &[usize],
    chosen: Option<usize>,
) -> String {
    let mut header: Vec<String> = vec!["candidate".into()];
    header.extend(spec.search.iter().map(|d| d.key().to_string()));
    for h in [
        "seeds_run",
        "seeds_meeting_slo",
        "cost_usd_mean",
        "cost_usd_ci95_low",
        "cost_usd_ci95_high",
        "availability_mean",
        "availability_ci95_low",
        "availability_ci95_high",
        "latency_p99_ms_mean",
        "latency_p99_ms_ci95_low",
        "latency_p99_ms_ci95_high",
        "verdict",
        "pareto",
        "recommended",
    ] {
        header.push(h.into());
    }
    let refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut b = CsvBuilder::with_header(&refs);
    let fin = |x: f64| x.is_finite().then_some(x);
    for (i, e) in evals.iter().enumerate() {
        b.int(i as u64);
        for v in &e.values {
            b.field(v);
        }
        b.int(e.runs.len() as u64).int(e.met as u64);
        for (name, decimals) in [
            ("cost_total_usd", 6),
            ("availability", 6),
            ("latency_p99_ms", 3),
        ] {
            let s = e.stat(name);
            b.opt_float(fin(s.mean), decimals)
                .opt_float(fin(s.low()), decimals)
                .opt_float(fin(s.high()), decimals);
        }
        b.field(match e.verdict {
            Verdict::Meets => "meets",
            Verdict::Fails => "fails",
        })
        .field(if frontier.contains(&i) {
            "true"
        } else {
            "false"
        })
        .field(if chosen == Some(i) { "true" } else { "false" });
        b.end_row();
    }
    b.finish()
}

fn describe(spec: &PlanSpec, e: &Evaluation) -> String {
    candidate_key(&spec.search, &e.values)
}

/// The recommendation and why, in one paragraph.
pub fn reason(
    spec: &PlanSpec,
    objectives: &Objectives,
    evals: &[Evaluation],
    chosen: Option<usize>,
) -> String {
    let mut slo = Vec::new();
    if let Some(a) = objectives.availability {
        slo.push(format!("availability ≥ {:.3}%", a * 100.0));
    }
    if let Some(l) = objectives.latency_p99_ms {
        slo.push(format!("p99 ≤ {l} ms"));
    }
    let slo = if objectives.by_bound {
        format!("{} at the 95% bound of the mean", slo.join(" and "))
    } else {
        format!(
            "{} in at least {:.0}% of seeds",
            slo.join(" and "),
            objectives.seeds_meeting * 100.0
        )
    };
    let passing = evals.iter().filter(|e| e.verdict == Verdict::Meets).count();
    let Some(c) = chosen else {
        return format!(
            "No candidate meets the SLO ({slo}) among the {} evaluated: widen the search (more capacity, larger types).",
            evals.len()
        );
    };
    let e = &evals[c];
    let cost = e.stat("cost_total_usd");
    let avail = e.stat("availability");
    let mut text = format!(
        "Recommended: {} — ${:.2} ± {:.2} per run, availability {:.3}%, met the SLO ({slo}) in {} of {} seeds; the cheapest of the {passing} passing candidates out of {} evaluated.",
        describe(spec, e),
        cost.mean,
        if cost.half_width.is_finite() {
            cost.half_width
        } else {
            0.0
        },
        avail.mean * 100.0,
        e.met,
        e.runs.len(),
        evals.len()
    );
    // The cheapest failing candidate below it says why the plan could not go lower.
    let cheaper = evals
        .iter()
        .filter(|o| o.verdict == Verdict::Fails)
        .filter(|o| o.stat("cost_total_usd").mean < cost.mean * (1.0 - 1e-9))
        .max_by(|a, b| {
            a.stat("cost_total_usd")
                .mean
                .total_cmp(&b.stat("cost_total_usd").mean)
        });
    if let Some(o) = cheaper {
        let _ = write!(
            text,
            " The next cheaper candidate, {} (${:.2}), met it in only {} of {} seeds.",
            describe(spec, o),
            o.stat("cost_total_usd").mean,
            o.met,
            o.runs.len()
        );
    }
    text
}

/// The cost/availability scatter with the frontier and the recommendation.
fn pareto_chart(
    evals: &[Evaluation],
    frontier: &[usize],
    chosen: Option<usize>,
    objectives: &Objectives,
) -> LineChart {
    let point = |e: &Evaluation| {
        (
            e.stat("cost_total_usd").mean,
            e.stat("availability").mean * 100.0,
        )
    };
    let pts = |v: Verdict| -> Vec<(f64, f64)> {
        evals
            .iter()
            .filter(|e| e.verdict == v)
            .map(point)
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect()
    };
    let mut meets = Series::line("meets the SLO", pts(Verdict::Meets), (44, 160, 44));
    meets.markers = true;
    let mut fails = Series::line("fails the SLO", pts(Verdict::Fails), (214, 39, 40));
    fails.markers = true;
    let mut series = vec![
        Series::line(
            "Pareto frontier",
            frontier.iter().map(|&i| point(&evals[i])).collect(),
            (150, 150, 150),
        ),
        fails,
        meets,
    ];
    if let Some(c) = chosen {
        let mut r = Series::line("recommended", vec![point(&evals[c])], (31, 119, 180));
        r.markers = true;
        series.push(r);
    }
    let all: Vec<(f64, f64)> = evals
        .iter()
        .map(point)
        .filter(|p| p.1.is_finite())
        .collect();
    let lowest = all
        .iter()
        .map(|p| p.1)
        .chain(objectives.availability.map(|a| a * 100.0))
        .fold(100.0, f64::min);
    let floor = (100.0 - (100.0 - lowest) * 1.25).max(0.0);
    let floor = if floor >= 99.99 { 99.9 } else { floor };
    if let Some(a) = objectives.availability {
        let (x0, x1) = all
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                (a.min(p.0), b.max(p.0))
            });
        if x0.is_finite() {
            let mut s = Series::line(
                &format!("SLO {}%", a * 100.0),
                vec![(x0, a * 100.0), (x1, a * 100.0)],
                (200, 30, 30),
            );
            s.dashed = true;
            series.push(s);
        }
    }
    LineChart {
        title: "Candidates: mean cost against mean availability".into(),
        x_label: "cost per run, USD".into(),
        y_label: "% of requests served within timeout".into(),
        series,
        y_range: Some((floor, 100.0 + (100.0 - floor) * 0.02)),
        legend_low: true,
        ..Default::default()
    }
}

/// Writes plan.csv, pareto.svg/.png and index.html.
pub fn write_plan(
    dir: &Path,
    spec: &PlanSpec,
    objectives: &Objectives,
    evals: &[Evaluation],
    frontier: &[usize],
    chosen: Option<usize>,
) -> Result<String, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError {
        path: dir.to_path_buf(),
        source,
    })?;
    write(
        dir,
        "plan.csv",
        plan_csv(spec, evals, frontier, chosen).as_bytes(),
    )?;
    let chart = pareto_chart(evals, frontier, chosen, objectives);
    let chart_error = |message: String| ReportError {
        path: dir.join("pareto.svg"),
        source: std::io::Error::other(message),
    };
    let svg = crate::report::chart::render_svg(&chart, 960, 480).map_err(chart_error)?;
    let png = crate::report::chart::render_png(&chart, 960, 480).map_err(chart_error)?;
    write(dir, "pareto.svg", svg.as_bytes())?;
    write(dir, "pareto.png", &png)?;
    let why = reason(spec, objectives, evals, chosen);
    write(dir, "recommendation.txt", format!("{why}\n").as_bytes())?;
    write(
        dir,
        "index.html",
        page(spec, evals, chosen, &why, &svg).as_bytes(),
    )?;
    Ok(why)
}

fn page(
    spec: &PlanSpec,
    evals: &[Evaluation],
    chosen: Option<usize>,
    why: &str,
    svg: &str,
) -> String {
    use crate::report::html::{escape, page_head};
    let mut h = page_head(&format!("kubesim plan: {}", spec.name));
    let _ = write!(
        h,
        "<h1>{}</h1>\n<p class=\"sub\">kubesim plan: {} candidates evaluated, up to {} seeds each, common random numbers</p>\n",
        escape(&spec.name),
        evals.len(),
        spec.seeds
    );
    let class = if chosen.is_some() { "ok" } else { "bad" };
    let _ = writeln!(h, "<div class=\"verdict {class}\">{}</div>", escape(why));
    let svg = svg.find("<svg").map_or(svg, |i| &svg[i..]);
    let _ = writeln!(
        h,
        "<figure>{svg}<figcaption>Every candidate's mean cost and availability (pareto.svg, pareto.png)</figcaption></figure>"
    );
    h.push_str("<h2>Candidates</h2>\n<table><tr><th>#</th>");
    for d in &spec.search {
        let _ = write!(h, "<th>{}</th>", escape(d.key()));
    }
    h.push_str("<th>seeds meeting / run</th><th>cost (95% CI)</th><th>availability</th><th>p99</th><th>verdict</th></tr>\n");
    for (i, e) in evals.iter().enumerate() {
        let cost = e.stat("cost_total_usd");
        let p99 = e.stat("latency_p99_ms");
        let _ = write!(
            h,
            "<tr{}><td class=\"num\">{i}</td>",
            if chosen == Some(i) {
                " class=\"total\""
            } else {
                ""
            }
        );
        for v in &e.values {
            let _ = write!(h, "<td>{}</td>", escape(v));
        }
        let _ = writeln!(
            h,
            "<td class=\"num\">{} / {}</td><td class=\"num\">${:.2} ± {}</td><td class=\"num\">{:.3}%</td><td class=\"num\">{}</td><td>{}</td></tr>",
            e.met,
            e.runs.len(),
            cost.mean,
            if cost.half_width.is_finite() {
                format!("{:.2}", cost.half_width)
            } else {
                "–".into()
            },
            e.stat("availability").mean * 100.0,
            if p99.mean.is_finite() {
                format!("{:.1} ms", p99.mean)
            } else {
                "–".into()
            },
            match e.verdict {
                Verdict::Meets => "meets",
                Verdict::Fails => "fails",
            }
        );
    }
    let _ = writeln!(
        h,
        "</table>\n<footer>Made by kubesim {}. Data: plan.csv, runs.csv.</footer>\n</main>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    );
    h
}
