//! `index.html`: the one page a platform engineer sends to their manager. Self-contained
//! (inline CSS and SVG, no script, a Content-Security-Policy that forbids any fetch), so it
//! opens from a mail attachment or an artifact store with no network.
//!
//! Sections: the SLO verdict, summary cards, the charts, incidents, workloads, the bill,
//! and the scenario that produced it all.

use super::charts::NamedChart;
use super::incidents::Incident;
use super::tables::RunTables;
use std::fmt::Write as _;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The pages' stylesheet (run, compare and plan pages).
const STYLE: &str = r#"
:root { --ok: #1b7f3b; --bad: #b42318; --muted: #667085; --line: #e4e7ec; --bg: #f8f9fb; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 0; color: #1d2939; background: var(--bg); }
main { max-width: 1040px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 12px; border-bottom: 1px solid var(--line); padding-bottom: 6px; }
.sub { color: var(--muted); margin: 0 0 18px; }
.verdict { border-radius: 10px; padding: 14px 18px; font-size: 17px; margin: 12px 0 18px; }
.verdict.ok { background: #ecfdf3; border: 1px solid #abefc6; color: var(--ok); }
.verdict.bad { background: #fef3f2; border: 1px solid #fecdca; color: var(--bad); }
.verdict.none { background: #f2f4f7; border: 1px solid var(--line); color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card .label { color: var(--muted); font-size: 13px; }
.card .value { font-size: 22px; font-weight: 600; margin-top: 4px; }
.card .note { color: var(--muted); font-size: 12px; margin-top: 2px; }
figure { background: #fff; border: 1px solid var(--line); border-radius: 10px; margin: 0 0 16px; padding: 8px; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 13px; padding: 4px 8px 2px; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #f2f4f7; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 600; }
pre { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; overflow-x: auto; font-size: 13px; }
.empty { color: var(--muted); }
footer { color: var(--muted); font-size: 12px; margin-top: 36px; }
"#;

fn pct(x: f64) -> String {
    format!("{:.3}%", x * 100.0)
}

fn usd(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("${x:.0}")
    } else {
        format!("${x:.2}")
    }
}

fn opt_ms(x: Option<f64>) -> String {
    x.map_or("–".into(), |v| format!("{v:.1} ms"))
}

fn clock(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn card(out: &mut String, label: &str, value: &str, note: &str) {
    let _ = write!(
        out,
        "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div><div class=\"note\">{}</div></div>",
        escape(label),
        escape(value),
        escape(note)
    );
}

/// The SLO verdict line and its class.
fn verdict(t: &RunTables, incidents: usize) -> (&'static str, String) {
    let s = &t.summary;
    let mut parts = Vec::new();
    if let Some(a) = s.slo_availability {
        parts.push(format!(
            "availability {} (objective {})",
            pct(s.availability),
            pct(a)
        ));
    }
    if let Some(l) = s.slo_latency_p99_ms {
        parts.push(format!(
            "p99 {} (objective {l} ms)",
            opt_ms(s.latency_p99_ms)
        ));
    }
    if let Some(spent) = s.error_budget_spent {
        parts.push(format!("{:.0}% of the error budget spent", spent * 100.0));
    }
    let incidents = match incidents {
        0 => "no incident".to_string(),
        1 => "1 incident".to_string(),
        n => format!("{n} incidents"),
    };
    match s.slo_met {
        Some(true) => ("ok", format!("SLO met: {}; {incidents}.", parts.join(", "))),
        Some(false) => (
            "bad",
            format!("SLO missed: {}; {incidents}.", parts.join(", ")),
        ),
        None => (
            "none",
            format!(
                "No SLO given: {} of requests served; {incidents} (ticks below 99.9%).",
                pct(s.availability)
            ),
        ),
    }
}

/// The start of a kubesim page up to `<main>`: charset, a Content-Security-Policy that
/// forbids every fetch, the title and the inline stylesheet.
pub fn page_head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(title)
    )
}

/// Strips the XML prologue plotters may emit, so the SVG can sit inline in HTML.
fn inline_svg(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

/// Renders the page. `charts` pairs each chart with its SVG text.
pub fn index_html(
    t: &RunTables,
    incidents: &[Incident],
    charts: &[(NamedChart, String)],
) -> String {
    let s = &t.summary;
    let mut h = page_head(&format!("kubesim: {}", s.scenario));
    let _ = write!(
        h,
        "<h1>{}</h1>\n<p class=\"sub\">kubesim run, seed {}, {} simulated ({:.0} s)</p>\n",
        escape(&s.scenario),
        s.seed,
        clock(s.duration_s),
        s.duration_s
    );
    let (class, text) = verdict(t, incidents.len());
    let _ = writeln!(h, "<div class=\"verdict {class}\">{}</div>", escape(&text));

    h.push_str("<div class=\"cards\">");
    card(
        &mut h,
        "Availability",
        &pct(s.availability),
        &format!(
            "{} of {} requests failed",
            s.requests_failed, s.requests_offered
        ),
    );
    card(
        &mut h,
        "Latency p99",
        &opt_ms(s.latency_p99_ms),
        &format!(
            "p50 {}, p95 {}",
            opt_ms(s.latency_p50_ms),
            opt_ms(s.latency_p95_ms)
        ),
    );
    card(
        &mut h,
        "Total cost",
        &usd(s.cost_total_usd),
        &format!(
            "nodes {}, control plane {}",
            usd(s.cost_nodes_usd),
            usd(s.cost_control_plane_usd)
        ),
    );
    card(
        &mut h,
        "Cost per million requests",
        &s.cost_per_million_requests_usd.map_or("–".into(), usd),
        "total cost ÷ requests served",
    );
    card(
        &mut h,
        "Idle and unused",
        &usd(s.cost_idle_usd + s.cost_unused_usd),
        &format!(
            "idle {}, requested but unused {}",
            usd(s.cost_idle_usd),
            usd(s.cost_unused_usd)
        ),
    );
    card(
        &mut h,
        "Nodes",
        &format!("{:.1} avg", s.nodes_avg),
        &format!(
            "{} to {}, {:.1} node-hours",
            s.nodes_min, s.nodes_max, s.node_hours
        ),
    );
    card(
        &mut h,
        "Spot share of node cost",
        &if s.cost_nodes_usd > 0.0 {
            format!("{:.0}%", s.cost_spot_usd / s.cost_nodes_usd * 100.0)
        } else {
            "–".into()
        },
        &format!("spot {}", usd(s.cost_spot_usd)),
    );
    card(
        &mut h,
        "Disruption",
        &format!("{} evicted", s.pods_evicted),
        &format!(
            "{} restarts, {:.0} pod-s unschedulable",
            s.container_restarts, s.unschedulable_pod_seconds
        ),
    );
    h.push_str("</div>\n");

    h.push_str("<h2>Charts</h2>\n");
    for (c, svg) in charts {
        let _ = writeln!(
            h,
            "<figure id=\"chart-{}\">{}<figcaption>{} ({}.svg, {}.png)</figcaption></figure>",
            escape(&c.stem),
            inline_svg(svg),
            escape(&c.caption),
            escape(&c.stem),
            escape(&c.stem)
        );
    }

    incidents_table(&mut h, incidents);
    workloads_table(&mut h, t);
    costs_table(&mut h, t);

    if let Some(yaml) = &t.scenario_yaml {
        let _ = write!(h, "<h2>Scenario</h2>\n<pre>{}</pre>\n", escape(yaml));
    }
    let _ = write!(
        h,
        "<footer>Made by kubesim {}. Data: summary.json, timeseries.csv, nodes.csv, events.csv, costs.csv, incidents.csv in this folder; <code>kubesim report DIR</code> re-renders this page.</footer>\n</main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    h
}

fn incidents_table(h: &mut String, incidents: &[Incident]) {
    h.push_str("<h2>Incidents</h2>\n");
    if incidents.is_empty() {
        h.push_str("<p class=\"empty\">No period missed the SLO.</p>\n");
        return;
    }
    h.push_str("<table><tr><th>#</th><th>start</th><th>end</th><th>duration</th><th>failed requests</th><th>availability</th><th>worst p99</th><th>workloads</th><th>what preceded it</th></tr>\n");
    for (i, inc) in incidents.iter().enumerate() {
        let causes = if inc.causes.is_empty() {
            "no event; load within capacity?".to_string()
        } else {
            inc.causes
                .iter()
                .map(|c| escape(c))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let _ = writeln!(
            h,
            "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.0} s</td><td class=\"num\">{:.0}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{causes}</td></tr>",
            i + 1,
            clock(inc.start_s),
            clock(inc.end_s),
            inc.end_s - inc.start_s,
            inc.failed,
            pct(inc.availability()),
            opt_ms(inc.worst_p99_ms),
            escape(&inc.workloads.join(", ")),
        );
    }
    h.push_str("</table>\n");
}

fn workloads_table(h: &mut String, t: &RunTables) {
    h.push_str("<h2>Workloads</h2>\n<table><tr><th>workload</th><th>requests</th><th>failed</th><th>availability</th><th>p99</th><th>error budget spent</th><th>uptime</th><th>downtime</th></tr>\n");
    for w in &t.workloads {
        let _ = writeln!(
            h,
            "<tr><td>{}{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.1} min</td></tr>",
            escape(&w.name),
            if w.entry { "" } else { " (called)" },
            w.offered,
            w.failed,
            pct(w.availability),
            opt_ms(w.latency_p99_ms),
            w.error_budget_spent
                .map_or("–".into(), |e| format!("{:.0}%", e * 100.0)),
            w.uptime.map_or("–".into(), pct),
            w.downtime_minutes,
        );
    }
    h.push_str("</table>\n");
}

fn costs_table(h: &mut String, t: &RunTables) {
    h.push_str("<h2>Cost</h2>\n");
    if t.costs.is_empty() {
        h.push_str("<p class=\"empty\">No costs.csv in this folder.</p>\n");
        return;
    }
    h.push_str("<table><tr><th>line</th><th>what</th><th>node-hours</th><th>cost</th><th>of which unused</th><th>share</th><th>per million requests</th></tr>\n");
    for c in &t.costs {
        let what = match c.scope.as_str() {
            "pool" => format!("{} ({})", c.name, c.instance_type),
            _ => c.name.clone(),
        };
        let _ = writeln!(
            h,
            "<tr{}><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">${:.4}</td><td class=\"num\">{}</td><td class=\"num\">{:.1}%</td><td class=\"num\">{}</td></tr>",
            if c.scope == "total" {
                " class=\"total\""
            } else {
                ""
            },
            escape(&c.scope.replace('_', " ")),
            escape(&what),
            c.node_hours.map_or(String::new(), |v| format!("{v:.1}")),
            c.cost_usd,
            c.cost_unused_usd
                .map_or(String::new(), |v| format!("${v:.4}")),
            c.share * 100.0,
            c.per_million_usd
                .map_or(String::new(), |v| format!("${v:.4}")),
        );
    }
    h.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
    }

    #[test]
    fn clock_reads_hours_minutes_seconds() {
        assert_eq!(clock(3725.0), "1:02:05");
        assert_eq!(clock(0.0), "0:00:00");
    }

    #[test]
    fn inline_svg_drops_the_prologue() {
        assert_eq!(inline_svg("<?xml version=\"1.0\"?>\n<svg x>"), "<svg x>");
        assert_eq!(inline_svg("<svg/>"), "<svg/>");
    }
}
