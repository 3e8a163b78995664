//! PLAN.yaml: what `kubesim plan` searches. Read like scenarios are (line, column and field
//! in every error), then checked into a [`PlanSpec`].
//!
//! ```yaml
//! kind: Plan
//! name: flash-sale-sizing
//! scenario: quickstart.yaml          # relative to this file; omitted: the embedded quickstart
//! set: [workloads.worker.replicas=1] # applied to every candidate
//! seeds: 10
//! search:
//!   - key: cluster.pools.general.instanceType
//!     values: [m5.xlarge, c5.xlarge]
//!   - key: cluster.pools.general.count   # integers, bisected: more capacity, more availability
//!     min: 2
//!     max: 12
//! slo: {availability: 0.999, latencyP99Ms: 500, seedsMeeting: 0.9}   # or judge: bound
//! objective: cost
//! ```

use crate::scenario::error::{InputError, InputErrors};
use crate::scenario::load::deserialize_located;
use crate::scenario::validate::loc;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PlanFile {
    #[allow(dead_code)]
    api_version: Option<String>,
    kind: Option<Spanned<String>>,
    name: Spanned<String>,
    scenario: Option<Spanned<String>>,
    #[serde(default)]
    set: Vec<Spanned<String>>,
    seeds: Option<Spanned<i64>>,
    search: Spanned<Vec<DimensionFile>>,
    slo: Option<SloFile>,
    objective: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DimensionFile {
    key: Spanned<String>,
    values: Option<Vec<serde_json::Value>>,
    min: Option<Spanned<i64>>,
    max: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SloFile {
    availability: Option<Spanned<f64>>,
    latency_p99_ms: Option<Spanned<f64>>,
    seeds_meeting: Option<Spanned<f64>>,
    judge: Option<Spanned<String>>,
}

/// One searched key.
#[derive(Debug, Clone, PartialEq)]
pub enum Dimension {
    /// Every value is tried.
    Values {
        /// Dotted scenario key.
        key: String,
        /// Values as `--set` would take them.
        values: Vec<String>,
    },
    /// An integer where more is safer (a count of nodes or replicas): bisected for the
    /// smallest value that meets the SLO.
    Range {
        /// Dotted scenario key.
        key: String,
        /// Smallest value tried.
        min: i64,
        /// Largest value tried.
        max: i64,
    },
}

impl Dimension {
    /// The key it sets.
    pub fn key(&self) -> &str {
        match self {
            Dimension::Values { key, .. } | Dimension::Range { key, .. } => key,
        }
    }
}

/// A checked plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanSpec {
    /// Plan name (the default output folder).
    pub name: String,
    /// The scenario file (None: the embedded quickstart).
    pub scenario: Option<PathBuf>,
    /// Overrides applied to every candidate.
    pub sets: Vec<String>,
    /// Seeds per candidate.
    pub seeds: u32,
    /// Searched keys, in file order.
    pub search: Vec<Dimension>,
    /// Availability objective (None: the scenario's, if any).
    pub availability: Option<f64>,
    /// p99 objective, ms (None: the scenario's, if any).
    pub latency_p99_ms: Option<f64>,
    /// Share of seeds that must meet the SLO for a candidate to pass.
    pub seeds_meeting: f64,
    /// Judge by the 95% confidence bounds of the means (`judge: bound`) instead of the
    /// share of seeds.
    pub by_bound: bool,
}

/// Default share of seeds that must meet the SLO.
pub const DEFAULT_SEEDS_MEETING: f64 = 0.9;
/// Most values a range may span (a planner, not a sweep).
const MAX_RANGE: i64 = 100_000;

fn scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Reads and checks the plan at `path`.
pub fn load_plan(path: &Path) -> Result<PlanSpec, InputErrors> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::file(&file, format!("cannot read the plan: {e}")))?;
    let raw: PlanFile = deserialize_located(&file, &text)?;
    let mut errors = Vec::new();
    let mut err = |l, field: &str, msg: String| errors.push(InputError::at(&file, l, field, msg));
    if let Some(k) = &raw.kind
        && k.value != "Plan"
    {
        err(loc(k), "kind", format!("`{}`: expected Plan", k.value));
    }
    let seeds = match &raw.seeds {
        None => 10,
        Some(s) if (1..=10_000).contains(&s.value) => s.value as u32,
        Some(s) => {
            err(loc(s), "seeds", format!("{}: expected 1 to 10000", s.value));
            1
        }
    };
    let mut search = Vec::new();
    if raw.search.value.is_empty() {
        err(
            loc(&raw.search),
            "search",
            "expected at least one key to search".into(),
        );
    }
    for (i, d) in raw.search.value.iter().enumerate() {
        let f = format!("search[{i}]");
        let key = d.key.value.trim().to_string();
        if key.is_empty() {
            err(loc(&d.key), &format!("{f}.key"), "must not be empty".into());
        }
        match (&d.values, &d.min, &d.max) {
            (Some(values), None, None) => {
                let scalars: Option<Vec<String>> = values.iter().map(scalar).collect();
                match scalars {
                    Some(v) if !v.is_empty() => search.push(Dimension::Values { key, values: v }),
                    _ => err(
                        loc(&d.key),
                        &format!("{f}.values"),
                        "expected a list of one or more scalars".into(),
                    ),
                }
            }
            (None, Some(min), Some(max)) => {
                if max.value < min.value || max.value - min.value > MAX_RANGE {
                    err(
                        loc(max),
                        &format!("{f}.max"),
                        format!(
                            "{}: expected at least min ({}) and at most min + {MAX_RANGE}",
                            max.value, min.value
                        ),
                    );
                } else {
                    search.push(Dimension::Range {
                        key,
                        min: min.value,
                        max: max.value,
                    });
                }
            }
            _ => err(
                loc(&d.key),
                &f,
                "expected either `values: [...]` or both `min` and `max`".into(),
            ),
        }
    }
    if search
        .iter()
        .filter(|d| matches!(d, Dimension::Range { .. }))
        .count()
        > 1
    {
        err(
            loc(&raw.search),
            "search",
            "only one key can be bisected (min/max); give `values` for the others".into(),
        );
    }
    let slo = raw.slo.as_ref();
    let share = |s: &Option<Spanned<f64>>, field: &str, err: &mut dyn FnMut(_, &str, String)| {
        s.as_ref().and_then(|v| {
            if v.value > 0.0 && v.value <= 1.0 {
                Some(v.value)
            } else {
                err(
                    loc(v),
                    field,
                    format!("{}: expected a share above 0, at most 1", v.value),
                );
                None
            }
        })
    };
    let availability = slo.and_then(|s| share(&s.availability, "slo.availability", &mut err));
    let seeds_meeting = slo
        .and_then(|s| share(&s.seeds_meeting, "slo.seedsMeeting", &mut err))
        .unwrap_or(DEFAULT_SEEDS_MEETING);
    let latency_p99_ms = slo.and_then(|s| s.latency_p99_ms.as_ref()).and_then(|l| {
        if l.value > 0.0 && l.value.is_finite() {
            Some(l.value)
        } else {
            err(
                loc(l),
                "slo.latencyP99Ms",
                format!("{}: expected milliseconds above 0", l.value),
            );
            None
        }
    });
    let by_bound = match slo.and_then(|s| s.judge.as_ref()) {
        None => false,
        Some(j) if j.value == "seeds" => false,
        Some(j) if j.value == "bound" => true,
        Some(j) => {
            err(
                loc(j),
                "slo.judge",
                format!(
                    "`{}`: expected seeds (the share of seeds meeting it) or bound (the 95% bound of the mean)",
                    j.value
                ),
            );
            false
        }
    };
    if let Some(o) = &raw.objective
        && o.value != "cost"
    {
        err(
            loc(o),
            "objective",
            format!("`{}`: expected cost (the lowest mean cost)", o.value),
        );
    }
    for s in &raw.set {
        if !s.value.contains('=') {
            err(loc(s), "set", format!("`{}`: expected KEY=VALUE", s.value));
        }
    }
    if !errors.is_empty() {
        return Err(InputErrors(errors));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    Ok(PlanSpec {
        name: raw.name.value,
        scenario: raw.scenario.map(|s| base.join(s.value)),
        sets: raw.set.into_iter().map(|s| s.value).collect(),
        seeds,
        search,
        availability,
        latency_p99_ms,
        seeds_meeting,
        by_bound,
    })
}
