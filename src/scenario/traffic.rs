//! Validation of the traffic side of a scenario: each workload's service model (how a pod
//! turns CPU into answers), its offered load (pattern components and trace replay), and the
//! SLO the run is judged against.

use super::file::{SloFile, TraceFile, TrafficFile, WorkloadFile};
use super::model::{Call, Retries, ServiceModel, Slo, WorkloadSpec};
use super::validate::{Ctx, DEFAULT_TIMEOUT, count_in, keyword, loc, quantity};
use crate::engine::SimTime;
use crate::traffic::bursts::Bursts;
use crate::traffic::queueing::ServiceTime;
use crate::traffic::trace::{TraceData, TraceOptions, TraceSeries, TraceValues};
use crate::traffic::{Component, SpikeShape, TrafficModel};

/// Envoy's default retry base interval.
const DEFAULT_RETRY_BACKOFF: SimTime = SimTime::from_millis(25);
/// Seconds in a week: the period of `weekly`.
const WEEK_S: f64 = 7.0 * 86_400.0;
/// Default weekly peak: Wednesday 14:00 for a run starting Monday 00:00.
const DEFAULT_WEEKLY_PEAK_S: f64 = (2.0 * 24.0 + 14.0) * 3600.0;
use serde_saphyr::Spanned;
use std::sync::Arc;

pub(super) fn validate_service(cx: &mut Ctx, w: &WorkloadFile, f: &str) -> ServiceModel {
    let mut model = ServiceModel {
        cpu_seconds_per_request: 0.0,
        concurrency: 1,
        timeout: DEFAULT_TIMEOUT,
        base_cpu_milli: 0,
        base_memory_bytes: None,
        memory_per_request_bytes: 0,
        service_time: ServiceTime::Exponential,
        retries: None,
    };
    let Some(s) = &w.service else { return model };
    #[derive(Clone, Copy)]
    enum Shape {
        Exponential,
        Constant,
        LogNormal,
    }
    let shape = match &s.service_time {
        None => Shape::Exponential,
        Some(v) => keyword(
            cx,
            v,
            &format!("{f}.service.serviceTime"),
            "serviceTime",
            &[
                ("exponential", Shape::Exponential),
                ("constant", Shape::Constant),
                ("lognormal", Shape::LogNormal),
            ],
        )
        .unwrap_or(Shape::Exponential),
    };
    let cv = match &s.cv {
        None => 1.0,
        Some(c) if c.value.is_finite() && c.value > 0.0 && c.value <= 10.0 => c.value,
        Some(c) => {
            cx.err(
                loc(c),
                format!("{f}.service.cv"),
                format!(
                    "{} is not a coefficient of variation (expected more than 0, at most 10)",
                    c.value
                ),
            );
            1.0
        }
    };
    if let (Some(c), Shape::Exponential | Shape::Constant) = (&s.cv, shape) {
        cx.err(
            loc(c),
            format!("{f}.service.cv"),
            "cv shapes a lognormal service time; add serviceTime: lognormal",
        );
    }
    model.service_time = match shape {
        Shape::Exponential => ServiceTime::Exponential,
        Shape::Constant => ServiceTime::Constant,
        Shape::LogNormal => ServiceTime::LogNormal { cv },
    };
    if let Some(q) = &s.base_cpu {
        model.base_cpu_milli = quantity(cx, q, &format!("{f}.service.baseCpu"), true).unwrap_or(0);
    }
    if let Some(q) = &s.base_memory {
        model.base_memory_bytes = quantity(cx, q, &format!("{f}.service.baseMemory"), false);
    }
    if let Some(q) = &s.memory_per_request {
        model.memory_per_request_bytes =
            quantity(cx, q, &format!("{f}.service.memoryPerRequest"), false).unwrap_or(0);
    }
    if let Some(r) = &s.retries {
        let attempts = count_in(
            cx,
            &r.attempts,
            &format!("{f}.service.retries.attempts"),
            0,
            10,
        );
        let backoff = match &r.backoff {
            None => DEFAULT_RETRY_BACKOFF,
            Some(b) if b.value.time() > SimTime::from_secs(600) => {
                cx.err(
                    loc(b),
                    format!("{f}.service.retries.backoff"),
                    "must be at most 10m",
                );
                DEFAULT_RETRY_BACKOFF
            }
            Some(b) => b.value.time(),
        };
        model.retries = (attempts > 0).then_some(Retries { attempts, backoff });
    }
    let cpu = s.cpu_per_request.value.time();
    if cpu == SimTime::ZERO {
        cx.err(
            loc(&s.cpu_per_request),
            format!("{f}.service.cpuPerRequest"),
            "must be more than 0ms",
        );
    }
    model.cpu_seconds_per_request = cpu.as_secs_f64();
    if let Some(c) = &s.concurrency {
        model.concurrency = count_in(cx, c, &format!("{f}.service.concurrency"), 1, 10_000);
    }
    if let Some(t) = &s.timeout {
        if t.value.time() == SimTime::ZERO {
            cx.err(
                loc(t),
                format!("{f}.service.timeout"),
                "must be more than 0ms",
            );
        }
        model.timeout = t.value.time();
    }
    model
}

fn rate(cx: &mut Ctx, v: &Spanned<f64>, field: &str) -> f64 {
    if !v.value.is_finite() || v.value < 0.0 || v.value > 1e9 {
        cx.err(
            loc(v),
            field,
            format!(
                "{} is not a rate (expected 0 to 1e9 requests per second)",
                v.value
            ),
        );
        return 0.0;
    }
    v.value
}

pub(super) fn validate_traffic(
    cx: &mut Ctx,
    raw: &[TrafficFile],
    f: &str,
    duration: SimTime,
) -> TrafficModel {
    let mut model = TrafficModel::default();
    for (i, t) in raw.iter().enumerate() {
        let tf = format!("{f}.traffic[{i}]");
        match t {
            TrafficFile::Constant { rps } => {
                let rps = rate(cx, rps, &format!("{tf}.constant.rps"));
                model.components.push(Component::Constant { rps });
            }
            TrafficFile::Ramp {
                from,
                to,
                start,
                end,
            } => {
                let from_v = rate(cx, from, &format!("{tf}.ramp.from"));
                let to_v = rate(cx, to, &format!("{tf}.ramp.to"));
                let start_s = start.map_or(0.0, |s| s.time().as_secs_f64());
                let end_s = end.value.time().as_secs_f64();
                if end_s <= start_s {
                    cx.err(loc(end), format!("{tf}.ramp.end"), "must be after start");
                }
                model.components.push(Component::Ramp {
                    from: from_v,
                    to: to_v,
                    start_s,
                    end_s,
                });
            }
            TrafficFile::Spike {
                at,
                multiplier,
                rps,
                ramp_up,
                hold,
                ramp_down,
            } => {
                let shape = SpikeShape {
                    at_s: at.value.time().as_secs_f64(),
                    ramp_up_s: ramp_up.map_or(60.0, |d| d.time().as_secs_f64()),
                    hold_s: hold.map_or(600.0, |d| d.time().as_secs_f64()),
                    ramp_down_s: ramp_down.map_or(300.0, |d| d.time().as_secs_f64()),
                };
                if at.value.time() > duration {
                    cx.err(
                        loc(at),
                        format!("{tf}.spike.at"),
                        format!("{} is after the end of the run", at.value),
                    );
                }
                match (multiplier, rps) {
                    (Some(m), None) => {
                        if !m.value.is_finite() || m.value < 0.0 || m.value > 1e6 {
                            cx.err(
                                loc(m),
                                format!("{tf}.spike.multiplier"),
                                format!("{} is not a multiplier (expected 0 to 1e6)", m.value),
                            );
                        }
                        model.multipliers.push((shape, m.value));
                    }
                    (None, Some(r)) => {
                        let rps = rate(cx, r, &format!("{tf}.spike.rps"));
                        model.components.push(Component::Spike { shape, rps });
                    }
                    _ => cx.err(
                        loc(at),
                        format!("{tf}.spike"),
                        "give exactly one of multiplier (relative) or rps (absolute)",
                    ),
                }
            }
            TrafficFile::Diurnal {
                min,
                max,
                peak_at,
                period,
            } => {
                let min_v = rate(cx, min, &format!("{tf}.diurnal.min"));
                let max_v = rate(cx, max, &format!("{tf}.diurnal.max"));
                if min_v > max_v {
                    cx.err(loc(min), format!("{tf}.diurnal.min"), "must not exceed max");
                }
                let period_s = match period {
                    Some(p) if p.value.time() == SimTime::ZERO => {
                        cx.err(
                            loc(p),
                            format!("{tf}.diurnal.period"),
                            "must be longer than 0s",
                        );
                        86_400.0
                    }
                    Some(p) => p.value.time().as_secs_f64(),
                    None => 86_400.0,
                };
                model.components.push(Component::Diurnal {
                    min: min_v,
                    max: max_v,
                    peak_s: peak_at.map_or(14.0 * 3600.0, |d| d.time().as_secs_f64()),
                    period_s,
                });
            }
            TrafficFile::Weekly { min, max, peak_at } => {
                let min_v = rate(cx, min, &format!("{tf}.weekly.min"));
                let max_v = rate(cx, max, &format!("{tf}.weekly.max"));
                if min_v > max_v {
                    cx.err(loc(min), format!("{tf}.weekly.min"), "must not exceed max");
                }
                model.components.push(Component::Diurnal {
                    min: min_v,
                    max: max_v,
                    peak_s: peak_at.map_or(DEFAULT_WEEKLY_PEAK_S, |d| d.time().as_secs_f64()),
                    period_s: WEEK_S,
                });
            }
            TrafficFile::Step { at, rps, until } => {
                if !rps.value.is_finite() || rps.value.abs() > 1e9 {
                    cx.err(
                        loc(rps),
                        format!("{tf}.step.rps"),
                        format!(
                            "{} is not a rate change (expected -1e9 to 1e9 requests per second)",
                            rps.value
                        ),
                    );
                }
                let at_s = at.value.time().as_secs_f64();
                let until_s = match until {
                    Some(u) if u.value.time() <= at.value.time() => {
                        cx.err(loc(u), format!("{tf}.step.until"), "must be after at");
                        f64::INFINITY
                    }
                    Some(u) => u.value.time().as_secs_f64(),
                    None => f64::INFINITY,
                };
                model.components.push(Component::Step {
                    at_s,
                    until_s,
                    rps: rps.value,
                });
            }
            TrafficFile::Bursts {
                multiplier,
                mean_duration,
                mean_interval,
            } => {
                if !multiplier.value.is_finite() || !(1.0..=1000.0).contains(&multiplier.value) {
                    cx.err(
                        loc(multiplier),
                        format!("{tf}.bursts.multiplier"),
                        format!(
                            "{} is not a burst multiplier (expected 1 to 1000)",
                            multiplier.value
                        ),
                    );
                }
                for (d, name) in [
                    (mean_duration, "meanDuration"),
                    (mean_interval, "meanInterval"),
                ] {
                    if d.value.time() < SimTime::from_secs(1) {
                        cx.err(loc(d), format!("{tf}.bursts.{name}"), "must be at least 1s");
                    }
                }
                if model.bursts.is_some() {
                    cx.err(
                        loc(multiplier),
                        format!("{tf}.bursts"),
                        "a workload takes one bursts component (merge them into one)",
                    );
                }
                model.bursts = Some(Bursts {
                    multiplier: multiplier.value,
                    mean_burst_s: mean_duration.value.time().as_secs_f64().max(1.0),
                    mean_calm_s: mean_interval.value.time().as_secs_f64().max(1.0),
                });
            }
            TrafficFile::Trace(trace) => {
                if let Some(series) = load_trace(cx, &tf, trace) {
                    model.components.push(Component::Trace(Arc::new(series)));
                }
            }
        }
    }
    model
}

/// The two trace formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TraceFormat {
    Csv,
    AccessLog,
}

fn load_trace(cx: &mut Ctx, tf: &str, trace: &TraceFile) -> Option<TraceSeries> {
    let TraceFile {
        file,
        format,
        time_column,
        column,
        values,
        speedup,
        scale,
        peak_rps,
        skip,
        repeat,
    } = trace;
    let format = match format {
        None => TraceFormat::Csv,
        Some(f) => keyword(
            cx,
            f,
            &format!("{tf}.trace.format"),
            "format",
            &[
                ("csv", TraceFormat::Csv),
                ("accessLog", TraceFormat::AccessLog),
            ],
        )?,
    };
    if format == TraceFormat::AccessLog
        && let Some(v) = values
    {
        cx.err(
            loc(v),
            format!("{tf}.trace.values"),
            "an access log is one request per line; values, timeColumn and column are for csv traces",
        );
        return None;
    }
    let values = match values {
        None => TraceValues::Rate,
        Some(v) => keyword(
            cx,
            v,
            &format!("{tf}.trace.values"),
            "values",
            &[("rate", TraceValues::Rate), ("count", TraceValues::Count)],
        )?,
    };
    let positive =
        |cx: &mut Ctx, v: &Option<Spanned<f64>>, name: &str, allow_zero: bool| -> Option<f64> {
            match v {
                None => Some(1.0),
                Some(s)
                    if s.value.is_finite() && (s.value > 0.0 || (allow_zero && s.value == 0.0)) =>
                {
                    Some(s.value)
                }
                Some(s) => {
                    cx.err(
                        loc(s),
                        format!("{tf}.trace.{name}"),
                        format!("{} must be a positive number", s.value),
                    );
                    None
                }
            }
        };
    let speedup = positive(cx, speedup, "speedup", false)?;
    let scale = positive(cx, scale, "scale", true)?;
    let peak = match peak_rps {
        Some(p) => Some(positive(cx, &Some(p.clone()), "peakRps", false)?),
        None => None,
    };
    let path = cx.base_dir.join(&file.value);
    let display = path.display().to_string();
    let opts = TraceOptions {
        time_column: time_column.clone(),
        value_column: column.clone(),
        values,
        speedup,
        scale,
        peak_rps: peak,
        skip_s: skip.map_or(0.0, |d| d.time().as_secs_f64()),
        repeat: repeat.unwrap_or(true),
    };
    // Workloads replaying the same file read it once and share the rows.
    let key = format!("{display}\u{0}{format:?}\u{0}{time_column:?}\u{0}{column:?}\u{0}{values:?}");
    let data = match cx.traces.get(&key) {
        Some(d) => Arc::clone(d),
        None => {
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    cx.err(
                        loc(file),
                        format!("{tf}.trace.file"),
                        format!("cannot read trace `{display}`: {e}"),
                    );
                    return None;
                }
            };
            let parsed = match format {
                TraceFormat::Csv => TraceData::parse_csv(&display, &text, &opts),
                TraceFormat::AccessLog => TraceData::from_access_log(&display, &text),
            };
            match parsed {
                Ok(d) => {
                    let d = Arc::new(d);
                    cx.traces.insert(key, Arc::clone(&d));
                    d
                }
                Err(e) => {
                    cx.errors.push(e);
                    return None;
                }
            }
        }
    };
    match TraceSeries::play(&display, data, &opts) {
        Ok(s) => Some(s),
        Err(e) => {
            cx.errors.push(e);
            None
        }
    }
}

pub(super) fn validate_slo(cx: &mut Ctx, s: &SloFile) -> Option<Slo> {
    let availability = s.availability.as_ref().and_then(|a| {
        if a.value.is_finite() && a.value > 0.0 && a.value <= 100.0 {
            Some(a.value / 100.0)
        } else {
            cx.err(
                loc(a),
                "slo.availability",
                format!(
                    "{} is not a percentage (expected more than 0 and at most 100, e.g. 99.9)",
                    a.value
                ),
            );
            None
        }
    });
    let latency_p99_ms = s.latency_p99.as_ref().and_then(|l| {
        if l.value.time() == SimTime::ZERO {
            cx.err(loc(l), "slo.latencyP99", "must be longer than 0ms");
            None
        } else {
            Some(l.value.time().as_millis() as f64)
        }
    });
    Some(Slo {
        availability,
        latency_p99_ms,
    })
}

/// Resolves each workload's `calls` to workload indices. Calls must form a DAG: a cycle
/// would have every request wait on itself.
pub(super) fn validate_calls(cx: &mut Ctx, raw: &[WorkloadFile], specs: &mut [WorkloadSpec]) {
    let names: Vec<&str> = raw.iter().map(|w| w.name.value.as_str()).collect();
    for (i, w) in raw.iter().enumerate() {
        let mut calls = Vec::new();
        for (j, c) in w.calls.iter().enumerate() {
            let field = format!("workloads[{i}].calls[{j}]");
            let Some(target) = names.iter().position(|n| *n == c.workload.value) else {
                let hint = super::suggest::closest(&c.workload.value, names.iter().copied())
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                cx.err(
                    loc(&c.workload),
                    format!("{field}.workload"),
                    format!("no workload named `{}`{hint}", c.workload.value),
                );
                continue;
            };
            if target == i {
                cx.err(
                    loc(&c.workload),
                    format!("{field}.workload"),
                    "a workload cannot call itself",
                );
                continue;
            }
            let ratio = match &c.ratio {
                None => 1.0,
                Some(r) if r.value.is_finite() && r.value > 0.0 && r.value <= 100.0 => r.value,
                Some(r) => {
                    cx.err(
                        loc(r),
                        format!("{field}.ratio"),
                        format!(
                            "{} is not a call ratio (expected more than 0, at most 100)",
                            r.value
                        ),
                    );
                    continue;
                }
            };
            calls.push(Call {
                workload: target as u32,
                ratio,
            });
        }
        if let Some(spec) = specs.get_mut(i) {
            spec.calls = calls;
        }
    }
    if let Some(cycle) = find_cycle(specs) {
        let path: Vec<&str> = cycle.iter().map(|&w| specs[w].name.as_str()).collect();
        cx.err(
            raw.get(cycle[0]).map(|w| w.name.referenced),
            format!("workloads[{}].calls", cycle[0]),
            format!(
                "calls form a cycle ({}); requests would wait on themselves",
                path.join(" → ")
            ),
        );
    }
}

/// A call cycle as workload indices, first repeated at the end, if there is one.
fn find_cycle(specs: &[WorkloadSpec]) -> Option<Vec<usize>> {
    // 0 unvisited, 1 on the stack, 2 done.
    fn visit(w: usize, specs: &[WorkloadSpec], mark: &mut [u8], stack: &mut Vec<usize>) -> bool {
        mark[w] = 1;
        stack.push(w);
        for c in &specs[w].calls {
            let t = c.workload as usize;
            if mark[t] == 1 {
                let start = stack.iter().position(|&s| s == t).unwrap_or(0);
                stack.drain(..start);
                stack.push(t);
                return true;
            }
            if mark[t] == 0 && visit(t, specs, mark, stack) {
                return true;
            }
        }
        stack.pop();
        mark[w] = 2;
        false
    }
    let mut mark = vec![0u8; specs.len()];
    for w in 0..specs.len() {
        let mut stack = Vec::new();
        if mark[w] == 0 && visit(w, specs, &mut mark, &mut stack) {
            return Some(stack);
        }
    }
    None
}

/// Workloads ordered so every caller comes before the workloads it calls.
pub fn call_order(specs: &[WorkloadSpec]) -> Vec<u32> {
    let mut callers = vec![0u32; specs.len()];
    for s in specs {
        for c in &s.calls {
            callers[c.workload as usize] += 1;
        }
    }
    // Kahn's algorithm, lowest index first among the ready: a stable, documented order.
    let mut ready: std::collections::BTreeSet<usize> =
        (0..specs.len()).filter(|&w| callers[w] == 0).collect();
    let mut order = Vec::with_capacity(specs.len());
    while let Some(w) = ready.pop_first() {
        order.push(w as u32);
        for c in &specs[w].calls {
            let t = c.workload as usize;
            callers[t] -= 1;
            if callers[t] == 0 {
                ready.insert(t);
            }
        }
    }
    order
}
