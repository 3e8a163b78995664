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
    #[error("{}: cannot read ({source}); expected a folder written by `kubesim run`", path.display())]
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

impl SeriesRow {
    /// The recorded rows as a reader of timeseries.csv gets them back (the written
    /// decimals, to the bit), None when a value would not read back as a number: the
    /// caller then reads the file and reports it as any reader would.
    pub fn as_written(
        rows: &crate::metrics::RowStore<crate::metrics::TimeseriesRow>,
    ) -> Option<Vec<SeriesRow>> {
        use super::csv::float_as_written as written;
        // Sized once: collecting through `Option` knows no length and grew the vector by
        // doubling, copying hundreds of megabytes on a big run.
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(SeriesRow {
                // "s.mmm" reads back as the double nearest ms / 1000: this quotient.
                time_s: r.time.as_millis() as f64 / 1000.0,
                workload: r.workload,
                replicas_desired: r.replicas_desired,
                replicas_ready: r.replicas_ready,
                rps_offered: written(r.rps_offered, 3)?,
                rps_served: written(r.rps_served, 3)?,
                rps_failed: written(r.rps_failed, 3)?,
                latency_p99_ms: match r.latency_p99_ms {
                    Some(v) => Some(written(v, 3)?),
                    None => None,
                },
                rps_capacity: written(r.rps_capacity, 3)?,
            });
        }
        Some(out)
    }
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

/// Reads one CSV file, calling `row` for each data row. `columns` names the columns the
/// caller reads, by position (`?name` for optional ones); each is looked up in the header
/// once, not per cell.
fn read_csv(
    dir: &Path,
    name: &str,
    columns: &[&str],
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
    let header = reader.headers().map_err(|e| csv_error(&path, &e))?.clone();
    let mut index = Vec::with_capacity(columns.len());
    let mut names = Vec::with_capacity(columns.len());
    for c in columns {
        let (optional, c) = match c.strip_prefix('?') {
            Some(rest) => (true, rest),
            None => (false, *c),
        };
        let i = header.iter().position(|h| h == c);
        if i.is_none() && !optional {
            return Err(TablesError::Content {
                path,
                line: Some(1),
                field: format!("column `{c}`"),
                expected: "this column in the header".into(),
            });
        }
        index.push(i);
        names.push(c);
    }
    let mut cells = Cells {
        path: &path,
        names: &names,
        index: &index,
        record: csv::StringRecord::new(),
        line: 1,
    };
    let mut record = csv::StringRecord::new();
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

/// The cells of one row, by the position of their column in the caller's list.
struct Cells<'a> {
    path: &'a Path,
    names: &'a [&'a str],
    index: &'a [Option<usize>],
    record: csv::StringRecord,
    line: u64,
}

impl Cells<'_> {
    fn err(&self, c: usize, expected: &str) -> TablesError {
        TablesError::Content {
            path: self.path.to_path_buf(),
            line: Some(self.line),
            field: format!("column `{}`", self.names.get(c).copied().unwrap_or("?")),
            expected: expected.to_string(),
        }
    }

    /// Whether the file has the (optional) column.
    fn has(&self, c: usize) -> bool {
        self.index.get(c).copied().flatten().is_some()
    }

    fn text(&self, c: usize) -> &str {
        self.index
            .get(c)
            .copied()
            .flatten()
            .and_then(|i| self.record.get(i))
            .unwrap_or("")
    }

    fn float(&self, c: usize) -> Result<f64, TablesError> {
        let t = self.text(c);
        t.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| self.err(c, &format!("a number, found `{t}`")))
    }

    fn opt_float(&self, c: usize) -> Result<Option<f64>, TablesError> {
        if self.text(c).is_empty() {
            return Ok(None);
        }
        self.float(c).map(Some)
    }

    fn int(&self, c: usize) -> Result<u64, TablesError> {
        let t = self.text(c);
        t.parse::<u64>()
            .map_err(|_| self.err(c, &format!("a whole number, found `{t}`")))
    }

    fn count(&self, c: usize) -> Result<u32, TablesError> {
        let v = self.int(c)?;
        u32::try_from(v).map_err(|_| self.err(c, "a count below 2^32"))
    }
}

impl RunTables {
    /// Reads the report files of the run folder `dir`.
    pub fn load(dir: &Path) -> Result<RunTables, TablesError> {
        RunTables::load_with_series(dir, None)
    }

    /// Like [`Self::load`], with timeseries.csv's rows given (as [`SeriesRow::as_written`]
    /// makes them) instead of read back: the run that just wrote them skips parsing the
    /// run's largest file.
    pub fn load_with_series(
        dir: &Path,
        given_series: Option<Vec<SeriesRow>>,
    ) -> Result<RunTables, TablesError> {
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
        let columns = [
            "workload",
            "requests_offered",
            "requests_failed",
            "availability",
            "latency_p99_ms",
            "error_budget_spent",
            "uptime",
            "?downtime_minutes",
            "?entry",
        ];
        read_csv(dir, "workloads.csv", &columns, |c| {
            workloads.push(WorkloadLine {
                name: c.text(0).to_string(),
                offered: c.int(1)?,
                failed: c.int(2)?,
                availability: c.float(3)?,
                latency_p99_ms: c.opt_float(4)?,
                error_budget_spent: c.opt_float(5)?,
                uptime: c.opt_float(6)?,
                downtime_minutes: c.opt_float(7)?.unwrap_or(0.0),
                entry: !c.has(8) || c.text(8) == "true",
            });
            Ok(())
        })?;
        let index: BTreeMap<String, u32> = workloads
            .iter()
            .enumerate()
            .map(|(i, w)| (w.name.clone(), i as u32))
            .collect();

        let given = given_series.is_some();
        let mut series = given_series.unwrap_or_default();
        let columns = [
            "time_s",
            "workload",
            "replicas_desired",
            "replicas_ready",
            "rps_offered",
            "rps_served",
            "rps_failed",
            "latency_p99_ms",
            "?rps_capacity",
        ];
        // Rows cycle through the workloads in order: try the next one before a lookup.
        let mut next = 0usize;
        let read = |c: &Cells| -> Result<(), TablesError> {
            let name = c.text(1);
            let workload = match workloads.get(next) {
                Some(w) if w.name == name => next as u32,
                _ => *index
                    .get(name)
                    .ok_or_else(|| c.err(1, "a workload listed in workloads.csv"))?,
            };
            next = (workload as usize + 1) % workloads.len().max(1);
            series.push(SeriesRow {
                time_s: c.float(0)?,
                workload,
                replicas_desired: c.count(2)?,
                replicas_ready: c.count(3)?,
                rps_offered: c.float(4)?,
                rps_served: c.float(5)?,
                rps_failed: c.float(6)?,
                latency_p99_ms: c.opt_float(7)?,
                rps_capacity: c.opt_float(8)?.unwrap_or(0.0),
            });
            Ok(())
        };
        if !given {
            read_csv(dir, "timeseries.csv", &columns, read)?;
        }

        let mut pools: Vec<(String, String)> = Vec::new();
        let mut pool_index: BTreeMap<String, u32> = BTreeMap::new();
        let mut nodes = Vec::new();
        let columns = [
            "time_s",
            "pool",
            "instance_type",
            "nodes_ready",
            "nodes_provisioning",
            "cost_per_hour_usd",
        ];
        read_csv(dir, "nodes.csv", &columns, |c| {
            let name = c.text(1);
            let pool = match pool_index.get(name) {
                Some(&i) => i,
                None => {
                    let i = pools.len() as u32;
                    pools.push((name.to_string(), c.text(2).to_string()));
                    pool_index.insert(name.to_string(), i);
                    i
                }
            };
            nodes.push(NodeLine {
                time_s: c.float(0)?,
                pool,
                nodes_ready: c.count(3)?,
                nodes_provisioning: c.count(4)?,
                cost_per_hour_usd: c.float(5)?,
            });
            Ok(())
        })?;

        let mut events = Vec::new();
        let columns = ["time_s", "kind", "object", "reason", "message"];
        read_csv(dir, "events.csv", &columns, |c| {
            events.push(EventLine {
                time_s: c.float(0)?,
                kind: c.text(1).to_string(),
                object: c.text(2).to_string(),
                reason: c.text(3).to_string(),
                message: c.text(4).to_string(),
            });
            Ok(())
        })?;

        let mut costs = Vec::new();
        if dir.join("costs.csv").exists() {
            let columns = [
                "scope",
                "name",
                "instance_type",
                "node_hours",
                "cost_usd",
                "cost_unused_usd",
                "share",
                "cost_per_million_requests_usd",
            ];
            read_csv(dir, "costs.csv", &columns, |c| {
                costs.push(CostLine {
                    scope: c.text(0).to_string(),
                    name: c.text(1).to_string(),
                    instance_type: c.text(2).to_string(),
                    node_hours: c.opt_float(3)?,
                    cost_usd: c.float(4)?,
                    cost_unused_usd: c.opt_float(5)?,
                    share: c.float(6)?,
                    per_million_usd: c.opt_float(7)?,
                });
                Ok(())
            })?;
        }
        let mut autoscaled: Vec<u32> = Vec::new();
        if dir.join("autoscaling.csv").exists() {
            read_csv(dir, "autoscaling.csv", &["workload"], |c| {
                if let Some(&w) = index.get(c.text(0))
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
