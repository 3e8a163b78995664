//! Reports: costs.csv, incidents.csv, the charts, index.html, `kubesim report DIR`, the
//! OpenMetrics export and the progress bar, through the real binary.

use crate::util::{col, kubesim, read_csv, run_scenario, scratch, summary};
use std::path::Path;

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// costs.csv rows of one scope as (name, cost_usd).
fn costs(dir: &Path, scope: &str) -> Vec<(String, f64)> {
    let (h, rows) = read_csv(&dir.join("costs.csv"));
    rows.iter()
        .filter(|r| col(&h, r, "scope") == scope)
        .map(|r| (col(&h, r, "name").to_string(), num(col(&h, r, "cost_usd"))))
        .collect()
}

fn sum(lines: &[(String, f64)]) -> f64 {
    lines.iter().map(|l| l.1).sum()
}

#[test]
fn the_bill_adds_up_and_allocates_by_requests() {
    let dir = run_scenario("scenarios/quickstart.yaml", &[]);
    let s = summary(&dir);
    let pools = sum(&costs(&dir, "pool"));
    let total = sum(&costs(&dir, "total"));
    assert!((pools - f(&s["cost_nodes_usd"])).abs() < 1e-5, "{pools}");
    assert!((total - f(&s["cost_total_usd"])).abs() < 1e-5, "{total}");
    // Allocations, DaemonSets, idle and the control plane make up the total.
    let parts = sum(&costs(&dir, "workload"))
        + sum(&costs(&dir, "daemonsets"))
        + sum(&costs(&dir, "idle"))
        + sum(&costs(&dir, "control_plane"));
    assert!((parts - total).abs() < 1e-4, "{parts} vs {total}");
    // web requests 500m × 6 pods, api 500m × 4 and worker 1 core × 2: web is charged the
    // most CPU-hours, and no workload more than the nodes cost.
    let workloads = costs(&dir, "workload");
    let cost_of = |n: &str| workloads.iter().find(|w| w.0 == n).map(|w| w.1).expect(n);
    assert!(cost_of("web") > cost_of("api"), "{workloads:?}");
    assert!(workloads.iter().all(|w| w.1 > 0.0 && w.1 < pools));
    // Spot and on-demand lines split the node cost.
    let kinds = costs(&dir, "capacity_type");
    assert_eq!(kinds.len(), 2);
    assert!((sum(&kinds) - pools).abs() < 1e-5);
    let per_million = f(&s["cost_per_million_requests_usd"]);
    let expect =
        f(&s["cost_total_usd"]) / s["requests_served"].as_u64().expect("served") as f64 * 1e6;
    assert!(
        (per_million - expect).abs() < 1e-4,
        "{per_million} vs {expect}"
    );
}

#[test]
fn spot_pools_are_billed_apart_and_the_control_plane_fee_can_be_set() {
    let dir = run_scenario(
        "scenarios/karpenter.yaml",
        &["--set", "cluster.controlPlane.pricePerHour=0.25"],
    );
    let s = summary(&dir);
    assert!(f(&s["cost_spot_usd"]) > 0.0, "{s}");
    let hours = f(&s["duration_s"]) / 3600.0;
    assert!((f(&s["cost_control_plane_usd"]) - 0.25 * hours).abs() < 1e-6);
    let spot = costs(&dir, "capacity_type")
        .into_iter()
        .find(|c| c.0 == "spot")
        .expect("spot line");
    assert!((spot.1 - f(&s["cost_spot_usd"])).abs() < 1e-5);
    // A custom pool (no cloud) has no default fee.
    let custom = run_scenario("tests/data/scenarios/node-failure.yaml", &[]);
    let s = summary(&custom);
    assert_eq!(f(&s["cost_control_plane_usd"]), 0.0, "{s}");
}

#[test]
fn a_zone_outage_is_an_incident_explained_by_the_node_failure() {
    let dir = run_scenario("scenarios/zone-outage.yaml", &[]);
    let (h, rows) = read_csv(&dir.join("incidents.csv"));
    assert!(!rows.is_empty(), "no incident");
    let first = &rows[0];
    // The nodes fail at 3600 s; the incident starts with that tick.
    assert_eq!(num(col(&h, first, "start_s")), 3600.0);
    assert!(num(col(&h, first, "requests_failed")) > 0.0);
    assert!(num(col(&h, first, "availability")) < 0.999);
    let causes = col(&h, first, "causes");
    assert!(causes.contains("node failure: NodeFailure"), "{causes}");
    assert_eq!(col(&h, first, "workloads"), "storefront");
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    assert!(html.contains("SLO missed"), "verdict missing");
    assert!(html.contains("node failure: NodeFailure"));
}

#[test]
fn the_run_writes_every_chart_as_svg_and_png_and_one_self_contained_page() {
    let dir = run_scenario("scenarios/hpa-spike.yaml", &[]);
    for stem in [
        "traffic",
        "availability",
        "latency",
        "replicas",
        "nodes",
        "cost",
    ] {
        let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).expect(stem);
        assert!(svg.contains("<svg") && svg.contains("</svg>"), "{stem}.svg");
        let png = std::fs::read(dir.join(format!("{stem}.png"))).expect(stem);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{stem}.png");
    }
    let svg = std::fs::read_to_string(dir.join("latency.svg")).expect("latency");
    assert!(svg.contains("SLO p99"), "the SLO line is labelled");
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    assert_eq!(html.matches("<svg").count(), 6, "the six charts inline");
    // Nothing to fetch: no script, no external stylesheet, image or font.
    assert!(!html.contains("<script"));
    for fetch in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(fetch), "{fetch}");
    }
    assert!(html.contains("Content-Security-Policy"));
    // The scenario that produced it, escaped.
    assert!(html.contains("<h2>Scenario</h2>"));
    assert!(html.contains("name: hpa-spike"));
}

#[test]
fn report_re_renders_the_same_bytes_from_the_csv_files() {
    // The run draws from its time-series rows converted in memory; `kubesim report`
    // parses timeseries.csv. Every chart drawn from the rows must come out the same.
    let dir = run_scenario("scenarios/flash-sale.yaml", &[]);
    let rendered = [
        "index.html",
        "incidents.csv",
        "traffic.svg",
        "traffic.png",
        "availability.svg",
        "latency.svg",
        "latency.png",
        "replicas.svg",
        "nodes.svg",
        "cost.png",
    ];
    let before: Vec<Vec<u8>> = rendered
        .iter()
        .map(|n| std::fs::read(dir.join(n)).expect(n))
        .collect();
    for n in rendered {
        std::fs::remove_file(dir.join(n)).expect(n);
    }
    let out = kubesim(&["report", &dir.to_string_lossy()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("index.html"), "{}", out.stdout);
    for (n, bytes) in rendered.iter().zip(before) {
        assert_eq!(std::fs::read(dir.join(n)).expect(n), bytes, "{n} differs");
    }
}

#[test]
fn report_names_the_file_line_and_column_of_bad_input() {
    let dir = run_scenario("scenarios/quickstart.yaml", &[]);
    let ts = dir.join("timeseries.csv");
    let text = std::fs::read_to_string(&ts).expect("timeseries");
    let broken = text.replacen(",147.133,", ",lots,", 1);
    assert_ne!(broken, text, "the fixture value moved");
    std::fs::write(&ts, broken).expect("write");
    let out = kubesim(&["report", &dir.to_string_lossy()]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("timeseries.csv:4"), "{}", out.stderr);
    assert!(
        out.stderr.contains("column `rps_offered`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("found `lots`"), "{}", out.stderr);
    let empty = scratch("empty");
    let out = kubesim(&["report", &empty.to_string_lossy()]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("summary.json") && out.stderr.contains("kubesim run"),
        "{}",
        out.stderr
    );
}

#[test]
fn openmetrics_export_has_simulated_timestamps_from_the_given_start() {
    let dir = scratch("om");
    let file = dir.join("run.om");
    let out = kubesim(&[
        "run",
        "--quiet",
        "--out",
        &dir.join("out").to_string_lossy(),
        "--openmetrics",
        &file.to_string_lossy(),
        "--openmetrics-start",
        "1767225600",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(&file).expect("openmetrics");
    assert!(text.ends_with("# EOF\n"));
    assert!(text.contains("# TYPE kubesim_workload_requests_offered counter"));
    assert!(text.contains("kubesim_workload_replicas_ready{workload=\"web\"} 6 1767225615.000"));
    // The last sample of a series is at the end of the 2-hour run.
    assert!(text.contains("1767232800.000\n"));
}

#[test]
fn progress_shows_on_a_terminal_only_and_never_with_quiet() {
    // Not a terminal: nothing on stderr even when the bar would show at once.
    let dir = scratch("progress");
    let out_dir = dir.join("out").to_string_lossy().into_owned();
    let plain = std::process::Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(["run", "--out", &out_dir])
        .env("KUBESIM_PROGRESS_AFTER_MS", "0")
        .output()
        .expect("runs");
    assert!(plain.status.success());
    assert!(
        plain.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    // On a terminal (util-linux `script` gives it one), the bar draws simulated time.
    let pty = |quiet: &str| {
        std::process::Command::new("script")
            .args([
                "-qfec",
                &format!(
                    "{} run {quiet} --out {out_dir}",
                    env!("CARGO_BIN_EXE_kubesim")
                ),
                "/dev/null",
            ])
            .env("KUBESIM_PROGRESS_AFTER_MS", "0")
            .output()
    };
    let Ok(shown) = pty("") else {
        eprintln!("skipped the terminal half: no `script` on this machine");
        return;
    };
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.contains("s simulated"), "{text}");
    let quiet = pty("--quiet").expect("script runs");
    assert!(
        !String::from_utf8_lossy(&quiet.stdout).contains("simulated"),
        "--quiet printed something"
    );
}

/// Headless Chromium (Debian's `chromium`) loads index.html: no console message (a CSP
/// violation, a failed fetch, a script error) and a screenshot with the charts' colours.
/// Runs when KUBESIM_CHROMIUM names the browser (`.ci/run` installs it and sets it).
#[test]
fn index_html_loads_in_headless_chromium_without_console_errors() {
    let Ok(browser) = std::env::var("KUBESIM_CHROMIUM") else {
        eprintln!("skipped: set KUBESIM_CHROMIUM=/usr/bin/chromium to run");
        return;
    };
    let dir = run_scenario("scenarios/zone-outage.yaml", &[]);
    let shot = dir.join("screenshot.png");
    let profile = scratch("chromium-profile");
    let out = std::process::Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1100,1800",
            &format!("--user-data-dir={}", profile.display()),
            &format!("--screenshot={}", shot.display()),
        ])
        .arg(format!("file://{}", dir.join("index.html").display()))
        .output()
        .expect("chromium starts");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    // The screenshot shows the charts: count pixels of the series blue (31, 119, 180) and
    // of the stacked nodes' tint.
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&shot).expect("screenshot"),
    ));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let blue = pixels
        .chunks(channels)
        .filter(|p| p[0].abs_diff(31) < 12 && p[1].abs_diff(119) < 12 && p[2].abs_diff(180) < 12)
        .count();
    assert!(
        blue > 500,
        "only {blue} chart-blue pixels in the screenshot"
    );
    assert!(info.width >= 1000 && info.height >= 1700);
}
