//! A run's report files read back: the charts, incidents and `index.html` are drawn from
//! these tables, for `kubesim run` and `kubesim report DIR` alike, so re-rendering a folder
//! gives the same bytes the run wrote.
//!
//! Columns are found by header name, so files with extra columns (a newer kubesim, or a
//! user's own) still load; a missing column or a cell that does not parse is an error
//! naming the file, the line, the column and what was expected.

use super::summary::Summary;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a run folder could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TablesError {
    /// A file is missing or unreadable.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file's content is not what kubesim writes.
    #[error("{}{}: {field}: expected {expected}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Content {
        /// The file.
        path: PathBuf,
        /// 1-based line, when known.
        line: Option<u64>,
        /// The column or key.
        field: String,
        /// What should have been there.
        expected: String,
    },
}

/// One row of timeseries.csv.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesRow {
    /// Seconds from the start.
    pub time_s: f64,
    /// Index into [`RunTables::workloads`].
    pub workload: u32,
    /// Desired replicas.
    pub replicas_desired: u32,
    /// Ready replicas.
    pub replicas_ready: u32,
    /// Offered requests per second.
    pub rps_offered: f64,
    /// Served within timeout, per second.
    pub rps_served: f64,
    /// Failed, per second.
    pub rps_failed: f64,
    /// The tick's p99, ms.
    pub latency_p99_ms: Option<f64>,
    /// What the serving pods could sustain (0 when the file predates the column).
    pub rps_capacity: f64,
}

/// One row of nodes.csv.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeLine {
    /// Seconds from the start.
    pub time_s: f64,
    /// Index into [`RunTables::pools`].
    pub pool: u32,
    /// Ready nodes.
    pub nodes_ready: u32,
    /// Nodes requested, not yet Ready.
    pub nodes_provisioning: u32,
    /// The pool's cost rate, USD per hour.
    pub cost_per_hour_usd: f64,
}

/// One row of events.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct EventLine {
    /// Seconds from the start.
    pub time_s: f64,
    /// Object kind.
    pub kind: String,
    /// Object name.
    pub object: String,
    /// Upstream reason.
    pub reason: String,
    /// Text.
    pub message: String,
}

/// One row of workloads.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadLine {
    /// Name.
    pub name: String,
    /// Requests offered.
    pub offered: u64,
    /// Requests failed.
    pub failed: u64,
    /// served ÷ offered.
    pub availability: f64,
    /// p99 over the run, ms.
    pub latency_p99_ms: Option<f64>,
    /// Error budget spent (with an availability SLO).
    pub error_budget_spent: Option<f64>,
    /// Fraction of its lifetime with a Ready pod.
    pub uptime: Option<f64>,
    /// Minutes without a Ready pod.
    pub downtime_minutes: f64,
    /// Users call it directly.
    pub entry: bool,
}

/// costs.csv, cell by cell (shown as a table).
#[derive(Debug, Clone, PartialEq)]
pub struct CostLine {
    /// pool, capacity_type, control_plane, workload, daemonsets, idle or total.
    pub scope: String,
    /// What the line is about.
    pub name: String,
    /// Instance type (pools).
    pub instance_type: String,
    /// Node-hours (pools).
    pub node_hours: Option<f64>,
    /// Dollars.
    pub cost_usd: f64,
    /// Dollars paying for requests not used (workloads).
    pub cost_unused_usd: Option<f64>,
    /// Share of the total.
    pub share: f64,
    /// Dollars per million requests served (workloads).
    pub per_million_usd: Option<f64>,
}

/// Everything the rendered report needs from a run folder.
#[derive(Debug, Clone)]
pub struct RunTables {
    /// summary.json.
    pub summary: Summary,
    /// scenario.yaml (the scenario as written, with its overrides), if present.
    pub scenario_yaml: Option<String>,
    /// workloads.csv, in scenario order.
    pub workloads: Vec<WorkloadLine>,
    /// timeseries.csv.
    pub series: Vec<SeriesRow>,
    /// Pools (name, instance type) in the order nodes.csv first names them.
    pub pools: Vec<(String, String)>,
    /// nodes.csv.
    pub nodes: Vec<NodeLine>,
    /// events.csv.
    pub events: Vec<EventLine>,
    /// costs.csv (empty when the file is absent).
    pub costs: Vec<CostLine>,
    /// Workloads with an HPA (those autoscaling.csv names), in scenario order.
    pub autoscaled: Vec<u32>,
}

/// Reads one CSV file, calling `row` with a cell accessor for each data row.
fn read_csv(
    dir: &Path,
    name: &str,
    mut row: impl FnMut(&Cells) -> Result<(), TablesError>,
) -> Result<(), TablesError> {
    let path = dir.join(name);
    let file = std::fs::File::open(&path).map_err(|source| TablesError::Io {
        path: path.clone(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(std::io::BufReader::with_capacity(1 << 16, file));
    let header = reader
        .headers()
        .map_err(|e| csv_error(&path, &e))?
        .iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
    let mut record = csv::StringRecord::new();
    let mut cells = Cells {
        path: &path,
        header: &header,
        record: csv::StringRecord::new(),
        line: 1,
    };
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                cells.line = record.position().map_or(0, |p| p.line());
                std::mem::swap(&mut cells.record, &mut record);
                row(&cells)?;
                std::mem::swap(&mut cells.record, &mut record);
            }
            Err(e) => return Err(csv_error(&path, &e)),
        }
    }
    Ok(())
}

fn csv_error(path: &Path, e: &csv::Error) -> TablesError {
    TablesError::Content {
        path: path.to_path_buf(),
        line: e.position().map(|p| p.line()),
        field: "row".into(),
        expected: format!("comma-separated values ({e})"),
    }
}

/// The cells of one row, by column name.
struct Cells<'a> {
    path: &'a Path,
    header: &'a [String],
    record: csv::StringRecord,
    line: u64,
}

impl Cells<'_> {
    fn err(&self, column: &str, expected: &str) -> TablesError {
        TablesError::Content {
            path: self.path.to_path_buf(),
            line: Some(self.line),
            field: format!("column `{column}`"),
            expected: expected.to_string(),
        }
    }

    fn column(&self, column: &str) -> Option<usize> {
        self.header.iter().position(|h| h == column)
    }

    fn text(&self, column: &str) -> Result<&str, TablesError> {
        let i = self
            .column(column)
            .ok_or_else(|| self.err(column, "this column in the header"))?;
        Ok(self.record.get(i).unwrap_or(""))
    }

    fn float(&self, column: &str) -> Result<f64, TablesError> {
        let t = self.text(column)?;
        t.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| self.err(column, &format!("a number, found `{t}`")))
    }

    fn opt_float(&self, column: &str) -> Result<Option<f64>, TablesError> {
        if self.column(column).is_none() || self.text(column)?.is_empty() {
            return Ok(None);
        }
        self.float(column).map(Some)
    }

    fn int(&self, column: &str) -> Result<u64, TablesError> {
        let t = self.text(column)?;
        t.parse::<u64>()
            .map_err(|_| self.err(column, &format!("a whole number, found `{t}`")))
    }

    fn count(&self, column: &str) -> Result<u32, TablesError> {
        let v = self.int(column)?;
        u32::try_from(v).map_err(|_| self.err(column, "a count below 2^32"))
    }
}

impl RunTables {
    /// Reads the report files of the run folder `dir`.
    pub fn load(dir: &Path) -> Result<RunTables, TablesError> {
        let summary_path = dir.join("summary.json");
        let text = std::fs::read_to_string(&summary_path).map_err(|source| TablesError::Io {
            path: summary_path.clone(),
            source,
        })?;
        let summary: Summary = serde_json::from_str(&text).map_err(|e| TablesError::Content {
            path: summary_path.clone(),
            line: Some(e.line() as u64),
            field: "summary".into(),
            expected: format!("the summary object kubesim writes ({e})"),
        })?;
        let scenario_yaml = std::fs::read_to_string(dir.join("scenario.yaml")).ok();

        let mut workloads = Vec::new();
        read_csv(dir, "workloads.csv", |c| {
            workloads.push(WorkloadLine {
                name: c.text("workload")?.to_string(),
                offered: c.int("requests_offered")?,
                failed: c.int("requests_failed")?,
                availability: c.float("availability")?,
                latency_p99_ms: c.opt_float("latency_p99_ms")?,
                error_budget_spent: c.opt_float("error_budget_spent")?,
                uptime: c.opt_float("uptime")?,
                downtime_minutes: c.opt_float("downtime_minutes")?.unwrap_or(0.0),
                entry: c.column("entry").is_none() || c.text("entry")? == "true",
            });
            Ok(())
        })?;
        let index: BTreeMap<String, u32> = workloads
            .iter()
            .enumerate()
            .map(|(i, w)| (w.name.clone(), i as u32))
            .collect();

        let mut series = Vec::new();
        read_csv(dir, "timeseries.csv", |c| {
            let name = c.text("workload")?;
            let workload = *index
                .get(name)
                .ok_or_else(|| c.err("workload", "a workload listed in workloads.csv"))?;
            series.push(SeriesRow {
                time_s: c.float("time_s")?,
                workload,
                replicas_desired: c.count("replicas_desired")?,
                replicas_ready: c.count("replicas_ready")?,
                rps_offered: c.float("rps_offered")?,
                rps_served: c.float("rps_served")?,
                rps_failed: c.float("rps_failed")?,
                latency_p99_ms: c.opt_float("latency_p99_ms")?,
                rps_capacity: c.opt_float("rps_capacity")?.unwrap_or(0.0),
            });
            Ok(())
        })?;

        let mut pools: Vec<(String, String)> = Vec::new();
        let mut pool_index: BTreeMap<String, u32> = BTreeMap::new();
        let mut nodes = Vec::new();
        read_csv(dir, "nodes.csv", |c| {
            let name = c.text("pool")?;
            let pool = match pool_index.get(name) {
                Some(&i) => i,
                None => {
                    let i = pools.len() as u32;
                    pools.push((name.to_string(), c.text("instance_type")?.to_string()));
                    pool_index.insert(name.to_string(), i);
                    i
                }
            };
            nodes.push(NodeLine {
                time_s: c.float("time_s")?,
                pool,
                nodes_ready: c.count("nodes_ready")?,
                nodes_provisioning: c.count("nodes_provisioning")?,
                cost_per_hour_usd: c.float("cost_per_hour_usd")?,
            });
            Ok(())
        })?;

        let mut events = Vec::new();
        read_csv(dir, "events.csv", |c| {
            events.push(EventLine {
                time_s: c.float("time_s")?,
                kind: c.text("kind")?.to_string(),
                object: c.text("object")?.to_string(),
                reason: c.text("reason")?.to_string(),
                message: c.text("message")?.to_string(),
            });
            Ok(())
        })?;

        let mut costs = Vec::new();
        if dir.join("costs.csv").exists() {
            read_csv(dir, "costs.csv", |c| {
                costs.push(CostLine {
                    scope: c.text("scope")?.to_string(),
                    name: c.text("name")?.to_string(),
                    instance_type: c.text("instance_type")?.to_string(),
                    node_hours: c.opt_float("node_hours")?,
                    cost_usd: c.float("cost_usd")?,
                    cost_unused_usd: c.opt_float("cost_unused_usd")?,
                    share: c.float("share")?,
                    per_million_usd: c.opt_float("cost_per_million_requests_usd")?,
                });
                Ok(())
            })?;
        }
        let mut autoscaled: Vec<u32> = Vec::new();
        if dir.join("autoscaling.csv").exists() {
            read_csv(dir, "autoscaling.csv", |c| {
                if let Some(&w) = index.get(c.text("workload")?)
                    && !autoscaled.contains(&w)
                {
                    autoscaled.push(w);
                }
                Ok(())
            })?;
            autoscaled.sort_unstable();
        }
        Ok(RunTables {
            autoscaled,
            summary,
            scenario_yaml,
            workloads,
            series,
            pools,
            nodes,
            events,
            costs,
        })
    }
}
