//! Deployment rollout settings of a workload (`strategy`, `minReadySeconds`,
//! `progressDeadlineSeconds`, `crashes`) and the `rollout` / `rollback` faults.

use super::duration::Duration;
use super::file::IntOrString;
use super::model::{IntOrPercent, Revision, WorkloadSpec};
use super::validate::{Ctx, count_in, keyword_or, loc};
use crate::control::deployment::Strategy;
use crate::engine::SimTime;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// Deployment `spec.progressDeadlineSeconds` default.
pub const DEFAULT_PROGRESS_DEADLINE: SimTime = SimTime::from_secs(600);
/// How long a crashing container runs before it exits (a bad version failing at start).
pub const CRASH_AFTER: SimTime = SimTime::from_secs(5);

/// `spec.strategy`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StrategyFile {
    /// `RollingUpdate` (default) or `Recreate`.
    #[serde(rename = "type")]
    pub kind: Option<Spanned<String>>,
    /// `rollingUpdate: {maxSurge, maxUnavailable}`.
    pub rolling_update: Option<RollingUpdateFile>,
}

/// `spec.strategy.rollingUpdate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RollingUpdateFile {
    /// 25% by default.
    pub max_surge: Option<Spanned<IntOrString>>,
    /// 25% by default.
    pub max_unavailable: Option<Spanned<IntOrString>>,
}

/// A workload's `crashes:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CrashesFile {
    /// Mean time between crashes of a running container.
    pub mean_time_between_failures: Option<Spanned<Duration>>,
    /// Chance each container start crashes before Ready.
    pub on_start: Option<Spanned<f64>>,
}

/// A `rollout:` fault: a new pod template version.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RolloutFile {
    /// The workload.
    pub workload: Spanned<String>,
    /// The new image.
    pub image: Spanned<String>,
    /// Its startup time (default: the workload's).
    pub startup_time: Option<Spanned<Duration>>,
    /// Chance each of its container starts crashes (1.0: a bad version).
    pub crash_on_start: Option<Spanned<f64>>,
}

/// A `rollback:` fault (`kubectl rollout undo`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RollbackFile {
    /// The workload.
    pub workload: Spanned<String>,
}

fn share(cx: &mut Ctx, v: &Spanned<f64>, field: &str) -> f64 {
    if v.value.is_finite() && (0.0..=1.0).contains(&v.value) {
        v.value
    } else {
        cx.err(
            loc(v),
            field,
            format!("{} is not a probability (expected 0 to 1)", v.value),
        );
        0.0
    }
}

/// Kubernetes' `IntOrString` as a count (0..=1000000) or a percentage (0%..100%).
pub(super) fn int_or_percent(
    cx: &mut Ctx,
    v: &Spanned<IntOrString>,
    field: &str,
) -> Option<IntOrPercent> {
    let bad = |cx: &mut Ctx, what: String| {
        cx.err(
            loc(v),
            field,
            format!("{what} (expected a count such as 2 or a percentage such as \"50%\")"),
        );
        None
    };
    match &v.value {
        IntOrString::Int(n) if (0..=1_000_000).contains(n) => Some(IntOrPercent::Int(*n as u32)),
        IntOrString::Int(n) => bad(cx, format!("{n} is out of range")),
        IntOrString::Str(s) => match s.strip_suffix('%').map(str::parse::<u32>) {
            Some(Ok(p)) if p <= 100 => Some(IntOrPercent::Percent(p)),
            _ => bad(
                cx,
                format!("`{s}` is not a count or a percentage from 0% to 100%"),
            ),
        },
    }
}

/// Fills a workload's rollout settings and its first revision.
pub(super) fn apply_rollout_settings(
    cx: &mut Ctx,
    w: &super::file::WorkloadFile,
    f: &str,
    spec: &mut WorkloadSpec,
) {
    if let Some(st) = &w.strategy {
        let recreate = keyword_or(
            cx,
            st.kind.as_ref(),
            &format!("{f}.strategy.type"),
            "strategy",
            &[("RollingUpdate", false), ("Recreate", true)],
            false,
        );
        if recreate {
            spec.strategy = Strategy::Recreate;
            if st.rolling_update.is_some() {
                cx.err(
                    st.kind.as_ref().and_then(loc),
                    format!("{f}.strategy.rollingUpdate"),
                    "may not be given with type Recreate (as upstream validation says)",
                );
            }
        } else if let Some(ru) = &st.rolling_update {
            let pct25 = IntOrPercent::Percent(25);
            let surge = ru.max_surge.as_ref().map_or(Some(pct25), |v| {
                int_or_percent(cx, v, &format!("{f}.strategy.rollingUpdate.maxSurge"))
            });
            let unavailable = ru.max_unavailable.as_ref().map_or(Some(pct25), |v| {
                int_or_percent(cx, v, &format!("{f}.strategy.rollingUpdate.maxUnavailable"))
            });
            if let (Some(s), Some(u)) = (surge, unavailable) {
                let zero =
                    |x: IntOrPercent| matches!(x, IntOrPercent::Int(0) | IntOrPercent::Percent(0));
                if zero(s) && zero(u) {
                    cx.err(
                        ru.max_surge.as_ref().and_then(loc),
                        format!("{f}.strategy.rollingUpdate"),
                        "maxSurge and maxUnavailable may not both be 0 (as upstream validation says)",
                    );
                }
                spec.strategy = Strategy::RollingUpdate {
                    max_surge: s,
                    max_unavailable: u,
                };
            }
        }
    }
    if let Some(m) = &w.min_ready_seconds {
        spec.min_ready = SimTime::from_secs(u64::from(count_in(
            cx,
            m,
            &format!("{f}.minReadySeconds"),
            0,
            86_400,
        )));
    }
    if let Some(p) = &w.progress_deadline_seconds {
        spec.progress_deadline = SimTime::from_secs(u64::from(count_in(
            cx,
            p,
            &format!("{f}.progressDeadlineSeconds"),
            1,
            86_400,
        )));
    }
    if let Some(h) = &w.revision_history_limit {
        count_in(cx, h, &format!("{f}.revisionHistoryLimit"), 0, 1_000);
    }
    spec.auto_rollback = w.auto_rollback.unwrap_or(false);
    let image = w
        .template
        .spec
        .containers
        .first()
        .and_then(|c| c.image.clone())
        .unwrap_or_default();
    let mut first = Revision {
        image,
        startup: spec.startup,
        crash_on_start: 0.0,
    };
    if let Some(c) = &w.crashes {
        if let Some(p) = &c.on_start {
            first.crash_on_start = share(cx, p, &format!("{f}.crashes.onStart"));
        }
        spec.crash_mtbf = c.mean_time_between_failures.as_ref().map(|m| {
            if m.value.time() < SimTime::from_secs(10) {
                cx.err(
                    loc(m),
                    format!("{f}.crashes.meanTimeBetweenFailures"),
                    "must be at least 10s",
                );
            }
            m.value.time().max(SimTime::from_secs(10))
        });
    }
    spec.revisions = vec![first];
    if let Some(c) = w.template.spec.containers.first() {
        let cf = format!("{f}.template.spec.containers[0]");
        spec.liveness = c
            .liveness_probe
            .as_ref()
            .map(|p| probe(cx, p, &format!("{cf}.livenessProbe")));
        spec.readiness = c
            .readiness_probe
            .as_ref()
            .map(|p| probe(cx, p, &format!("{cf}.readinessProbe")));
    }
    for (j, c) in w.template.spec.containers.iter().enumerate() {
        if let Some(sleep) = c
            .lifecycle
            .as_ref()
            .and_then(|l| l.pre_stop.as_ref())
            .and_then(|h| h.sleep.as_ref())
        {
            let secs = count_in(
                cx,
                &sleep.seconds,
                &format!("{f}.template.spec.containers[{j}].lifecycle.preStop.sleep.seconds"),
                0,
                3600,
            );
            spec.pre_stop = spec.pre_stop.max(SimTime::from_secs(u64::from(secs)));
        }
    }
}

/// A `rollout:` fault: appends the new revision to its workload; returns (workload,
/// revision).
pub(super) fn validate_rollout(
    cx: &mut Ctx,
    r: &RolloutFile,
    f: &str,
    workloads: &mut [WorkloadSpec],
) -> Option<(u32, u16)> {
    let w = workload_index(cx, &r.workload, f, workloads)?;
    let spec = &mut workloads[w];
    let revision = Revision {
        image: r.image.value.clone(),
        startup: r
            .startup_time
            .as_ref()
            .map_or(spec.startup, |d| d.value.time()),
        crash_on_start: r
            .crash_on_start
            .as_ref()
            .map_or(0.0, |p| share(cx, p, &format!("{f}.crashOnStart"))),
    };
    spec.revisions.push(revision);
    Some((w as u32, (spec.revisions.len() - 1) as u16))
}

/// The index of the workload a fault names.
pub(super) fn workload_index(
    cx: &mut Ctx,
    name: &Spanned<String>,
    f: &str,
    workloads: &[WorkloadSpec],
) -> Option<usize> {
    let found = workloads.iter().position(|w| w.name == name.value);
    if found.is_none() {
        let hint =
            super::suggest::did_you_mean(&name.value, workloads.iter().map(|w| w.name.as_str()));
        cx.err(
            loc(name),
            format!("{f}.workload"),
            format!("no workload named `{}`{hint}", name.value),
        );
    }
    found
}

/// A probe's timing, with upstream's defaults (`SetDefaults_Probe`).
fn probe(cx: &mut Ctx, p: &super::file::ProbeFile, f: &str) -> crate::control::probes::Probe {
    let mut secs = |v: &Option<Spanned<i64>>, key: &str, min: i64, default: u32| {
        v.as_ref().map_or(default, |v| {
            count_in(cx, v, &format!("{f}.{key}"), min, 3600)
        })
    };
    let initial = secs(&p.initial_delay_seconds, "initialDelaySeconds", 0, 0);
    let period = secs(&p.period_seconds, "periodSeconds", 1, 10);
    let timeout = secs(&p.timeout_seconds, "timeoutSeconds", 1, 1);
    let failures = secs(&p.failure_threshold, "failureThreshold", 1, 3);
    let successes = secs(&p.success_threshold, "successThreshold", 1, 1);
    crate::control::probes::Probe {
        initial_delay: SimTime::from_secs(u64::from(initial)),
        period: SimTime::from_secs(u64::from(period)),
        timeout: SimTime::from_secs(u64::from(timeout)),
        failure_threshold: failures,
        success_threshold: successes,
    }
}
