//! Renders the human half of a report from a run folder's files: incidents.csv, the charts
//! (SVG and PNG) and index.html. `kubesim run` calls it after writing its CSV files and
//! `kubesim report DIR` calls it alone, so both give the same bytes.

use super::ReportError;
use super::charts::{NamedChart, SIZE, replica_chart, run_charts};
use super::csv::CsvBuilder;
use super::incidents::{Incident, find_incidents};
use super::tables::{RunTables, TablesError};
use super::write_file as write;
use std::path::Path;

/// Most `replicas-<workload>.svg` charts one run writes (the first workloads with an HPA).
pub const MAX_REPLICA_CHARTS: usize = 20;

/// Why a folder could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The run's files are missing or malformed.
    #[error(transparent)]
    Tables(#[from] TablesError),
    /// An output could not be written.
    #[error(transparent)]
    Write(#[from] ReportError),
    /// A chart could not be drawn.
    #[error("cannot draw {chart}: {message}")]
    Chart {
        /// The chart's file stem.
        chart: String,
        /// What plotters said.
        message: String,
    },
}

/// What a render wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// Files written, in order.
    pub files: Vec<String>,
    /// Incidents found.
    pub incidents: usize,
}

/// incidents.csv text.
pub fn incidents_csv(incidents: &[Incident]) -> String {
    let mut b = CsvBuilder::with_header(&[
        "start_s",
        "end_s",
        "duration_s",
        "requests_offered",
        "requests_failed",
        "availability",
        "latency_p99_ms_max",
        "workloads",
        "causes",
    ]);
    for i in incidents {
        b.float(i.start_s, 3)
            .float(i.end_s, 3)
            .float(i.end_s - i.start_s, 3)
            .float(i.offered, 0)
            .float(i.failed, 0)
            .float(i.availability(), 6)
            .opt_float(i.worst_p99_ms, 3)
            .field(&i.workloads.join(";"))
            .field(&i.causes.join("; "));
        b.end_row();
    }
    b.finish()
}

/// Renders incidents.csv, the charts and index.html into `dir` from the files there.
pub fn render_dir(dir: &Path) -> Result<Rendered, RenderError> {
    render_tables(dir, RunTables::load(dir)?)
}

/// Renders the run folder `dir` from `tables` (loaded from it, or built as it would load).
pub fn render_tables(dir: &Path, tables: RunTables) -> Result<Rendered, RenderError> {
    let incidents = find_incidents(&tables);
    let mut files = Vec::new();
    write(dir, "incidents.csv", incidents_csv(&incidents).as_bytes())?;
    files.push("incidents.csv".to_string());
    let draw_err = |c: &NamedChart, message: String| RenderError::Chart {
        chart: c.stem.clone(),
        message,
    };
    let mut rendered: Vec<(NamedChart, String)> = Vec::new();
    for c in run_charts(&tables) {
        let svg =
            super::chart::render_svg(&c.chart, SIZE.0, SIZE.1).map_err(|m| draw_err(&c, m))?;
        let png =
            super::chart::render_png(&c.chart, SIZE.0, SIZE.1).map_err(|m| draw_err(&c, m))?;
        write(dir, &format!("{}.svg", c.stem), svg.as_bytes())?;
        write(dir, &format!("{}.png", c.stem), &png)?;
        files.push(format!("{}.svg", c.stem));
        files.push(format!("{}.png", c.stem));
        rendered.push((c, svg));
    }
    for &w in tables.autoscaled.iter().take(MAX_REPLICA_CHARTS) {
        let c = replica_chart(&tables, w as usize);
        let svg = super::chart::render_svg(&c.chart, 900, 420).map_err(|m| draw_err(&c, m))?;
        write(dir, &format!("{}.svg", c.stem), svg.as_bytes())?;
        files.push(format!("{}.svg", c.stem));
    }
    let html = super::html::index_html(&tables, &incidents, &rendered);
    write(dir, "index.html", html.as_bytes())?;
    files.push("index.html".to_string());
    Ok(Rendered {
        files,
        incidents: incidents.len(),
    })
}
