//! The autoscaling side of a scenario: each workload's HorizontalPodAutoscaler `spec`
//! (autoscaling/v2 field names and shapes, so a real HPA's spec can be pasted) and the
//! controller-manager's HPA settings.

use super::duration::Duration;
use super::file::LabelSelectorFile;
use super::model::WorkloadSpec;
use super::quantity::Quantity;
use super::suggest::did_you_mean;
use super::validate::{Ctx, count_in, keyword, keyword_or, loc};
use crate::control::hpa::behavior::{Behavior, Policy, PolicyKind, ScalingRules, SelectPolicy};
use crate::control::hpa::spec::{
    HpaControllerConfig, HpaSpec, MetricSource, MetricSpec, Resource, SimMetric, Target,
};
use crate::engine::SimTime;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// Upstream's default metric when `metrics` is empty: CPU at 80% of request.
pub const DEFAULT_CPU_UTILIZATION: i32 = 80;
/// Upstream's cap on `stabilizationWindowSeconds` (one hour).
const MAX_STABILIZATION_S: i64 = 3600;
/// Upstream's cap on a policy's `periodSeconds` (30 minutes).
const MAX_POLICY_PERIOD_S: i64 = 1800;

/// `controllers:` — settings of the simulated kube-controller-manager.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ControllersFile {
    /// The HPA controller's flags.
    pub hpa: Option<HpaControllerFile>,
}

/// `controllers.hpa:` — the `--horizontal-pod-autoscaler-*` flags.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HpaControllerFile {
    /// `--horizontal-pod-autoscaler-sync-period` (15s).
    pub sync_period: Option<Spanned<Duration>>,
    /// `--horizontal-pod-autoscaler-tolerance` (0.1).
    pub tolerance: Option<Spanned<f64>>,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (5m).
    pub downscale_stabilization: Option<Spanned<Duration>>,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (5m).
    pub cpu_initialization_period: Option<Spanned<Duration>>,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay` (30s).
    pub initial_readiness_delay: Option<Spanned<Duration>>,
}

/// `HorizontalPodAutoscalerSpec` (autoscaling/v2).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HpaFile {
    /// Must name this workload's Deployment when given.
    pub scale_target_ref: Option<ObjectReferenceFile>,
    /// Default 1.
    pub min_replicas: Option<Spanned<i64>>,
    /// Required.
    pub max_replicas: Spanned<i64>,
    /// Default: CPU at 80% utilization.
    #[serde(default)]
    pub metrics: Vec<MetricSpecFile>,
    /// Absent: the legacy rules (no per-HPA policies).
    pub behavior: Option<BehaviorFile>,
}

/// `CrossVersionObjectReference`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectReferenceFile {
    /// e.g. `apps/v1`.
    pub api_version: Option<Spanned<String>>,
    /// e.g. `Deployment` or `Service`.
    pub kind: Spanned<String>,
    /// The object's name: a workload's name.
    pub name: Spanned<String>,
}

/// `MetricSpec`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricSpecFile {
    /// `Resource`, `Pods`, `Object`, `External` (or `ContainerResource`, not modelled).
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    /// For `Resource`.
    pub resource: Option<ResourceMetricFile>,
    /// For `Pods`.
    pub pods: Option<PodsMetricFile>,
    /// For `Object`.
    pub object: Option<ObjectMetricFile>,
    /// For `External`.
    pub external: Option<PodsMetricFile>,
}

/// `ResourceMetricSource`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourceMetricFile {
    /// `cpu` or `memory`.
    pub name: Spanned<String>,
    /// The target.
    pub target: MetricTargetFile,
}

/// `PodsMetricSource` and `ExternalMetricSource` (same shape).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodsMetricFile {
    /// The metric.
    pub metric: MetricIdentifierFile,
    /// The target.
    pub target: MetricTargetFile,
}

/// `ObjectMetricSource`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectMetricFile {
    /// The object measured: a workload's Service or Deployment, by name.
    pub described_object: ObjectReferenceFile,
    /// The metric.
    pub metric: MetricIdentifierFile,
    /// The target.
    pub target: MetricTargetFile,
}

/// `MetricIdentifier`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricIdentifierFile {
    /// A name the simulated adapter serves, or an alias from `metricAliases`.
    pub name: Spanned<String>,
    /// For External metrics: which workloads (by pod labels) the value sums over.
    pub selector: Option<LabelSelectorFile>,
}

/// `MetricTarget`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricTargetFile {
    /// `Utilization`, `AverageValue` or `Value`.
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    /// For `Value`.
    pub value: Option<Spanned<Quantity>>,
    /// For `AverageValue`.
    pub average_value: Option<Spanned<Quantity>>,
    /// For `Utilization`, percent.
    pub average_utilization: Option<Spanned<i64>>,
}

/// `HorizontalPodAutoscalerBehavior`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BehaviorFile {
    /// Scale-up rules.
    pub scale_up: Option<ScalingRulesFile>,
    /// Scale-down rules.
    pub scale_down: Option<ScalingRulesFile>,
}

/// `HPAScalingRules`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScalingRulesFile {
    /// 0–3600.
    pub stabilization_window_seconds: Option<Spanned<i64>>,
    /// `Max`, `Min` or `Disabled`.
    pub select_policy: Option<Spanned<String>>,
    /// Rate limits.
    pub policies: Option<Vec<PolicyFile>>,
    /// Per-direction tolerance (HPAConfigurableTolerance).
    pub tolerance: Option<Spanned<Quantity>>,
}

/// `HPAScalingPolicy`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyFile {
    /// `Pods` or `Percent`.
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    /// More than 0.
    pub value: Spanned<i64>,
    /// 1–1800.
    pub period_seconds: Spanned<i64>,
}

fn duration_in(
    cx: &mut Ctx,
    d: Option<&Spanned<Duration>>,
    field: &str,
    default: SimTime,
    max: SimTime,
) -> SimTime {
    match d {
        None => default,
        Some(d) if d.value.time() > max => {
            cx.err(
                loc(d),
                field,
                format!("must be at most {}s", max.as_secs_f64()),
            );
            default
        }
        Some(d) => d.value.time(),
    }
}

/// The HPA controller's settings, defaults as upstream.
pub(super) fn validate_controllers(
    cx: &mut Ctx,
    raw: Option<&ControllersFile>,
) -> HpaControllerConfig {
    let mut cfg = HpaControllerConfig::default();
    let Some(h) = raw.and_then(|c| c.hpa.as_ref()) else {
        return cfg;
    };
    let f = "controllers.hpa";
    let hour = SimTime::from_secs(3600);
    cfg.sync_period = duration_in(
        cx,
        h.sync_period.as_ref(),
        &format!("{f}.syncPeriod"),
        cfg.sync_period,
        hour,
    );
    if cfg.sync_period < SimTime::from_secs(1) {
        if let Some(d) = &h.sync_period {
            cx.err(loc(d), format!("{f}.syncPeriod"), "must be at least 1s");
        }
        cfg.sync_period = SimTime::from_secs(15);
    }
    if let Some(t) = &h.tolerance {
        if t.value.is_finite() && (0.0..1.0).contains(&t.value) {
            cfg.tolerance = t.value;
        } else {
            cx.err(
                loc(t),
                format!("{f}.tolerance"),
                format!(
                    "{} is not a tolerance (expected at least 0, less than 1)",
                    t.value
                ),
            );
        }
    }
    cfg.downscale_stabilization = duration_in(
        cx,
        h.downscale_stabilization.as_ref(),
        &format!("{f}.downscaleStabilization"),
        cfg.downscale_stabilization,
        hour,
    );
    cfg.calculator.cpu_initialization_period = duration_in(
        cx,
        h.cpu_initialization_period.as_ref(),
        &format!("{f}.cpuInitializationPeriod"),
        cfg.calculator.cpu_initialization_period,
        hour,
    );
    cfg.calculator.initial_readiness_delay = duration_in(
        cx,
        h.initial_readiness_delay.as_ref(),
        &format!("{f}.initialReadinessDelay"),
        cfg.calculator.initial_readiness_delay,
        hour,
    );
    cfg
}

/// Resolves a metric name: one the adapter serves, possibly through `metricAliases`.
fn sim_metric(
    cx: &mut Ctx,
    name: &Spanned<String>,
    field: &str,
    aliases: &std::collections::BTreeMap<String, String>,
) -> Option<SimMetric> {
    let resolved = aliases.get(&name.value).unwrap_or(&name.value);
    if let Some((_, m)) = SimMetric::ALL.iter().find(|(n, _)| n == resolved) {
        return Some(*m);
    }
    let names: Vec<&str> = SimMetric::ALL.iter().map(|(n, _)| *n).collect();
    let hint = did_you_mean(&name.value, names.iter().copied());
    cx.err(
        loc(name),
        field,
        format!(
            "kubesim cannot measure metric `{}`{hint} (expected one of: {}, or map your metric's name to one under metricAliases)",
            name.value,
            names.join(", ")
        ),
    );
    None
}

/// A target of the allowed types, in milli-units.
fn target(cx: &mut Ctx, t: &MetricTargetFile, field: &str, allowed: &[&str]) -> Option<Target> {
    #[derive(Clone, Copy)]
    enum Kind {
        Utilization,
        AverageValue,
        Value,
    }
    let all = [
        ("Utilization", Kind::Utilization),
        ("AverageValue", Kind::AverageValue),
        ("Value", Kind::Value),
    ];
    let choices: Vec<(&str, Kind)> = all
        .into_iter()
        .filter(|(n, _)| allowed.contains(n))
        .collect();
    let kind = keyword(
        cx,
        &t.kind,
        &format!("{field}.type"),
        "target type",
        &choices,
    )?;
    let milli = |cx: &mut Ctx, q: &Option<Spanned<Quantity>>, key: &str| -> Option<i64> {
        let Some(q) = q else {
            cx.err(
                loc(&t.kind),
                format!("{field}.{key}"),
                format!("is required for type {}", t.kind.value),
            );
            return None;
        };
        match q.value.milli_value() {
            Ok(v) if v > 0 => Some(v),
            Ok(_) => {
                cx.err(loc(q), format!("{field}.{key}"), "must be more than 0");
                None
            }
            Err(e) => {
                cx.err(loc(q), format!("{field}.{key}"), e.to_string());
                None
            }
        }
    };
    match kind {
        Kind::Utilization => {
            let Some(u) = &t.average_utilization else {
                cx.err(
                    loc(&t.kind),
                    format!("{field}.averageUtilization"),
                    "is required for type Utilization",
                );
                return None;
            };
            (count_in(cx, u, &format!("{field}.averageUtilization"), 1, 100_000) > 0)
                .then_some(Target::Utilization(u.value as i32))
        }
        Kind::AverageValue => milli(cx, &t.average_value, "averageValue").map(Target::AverageValue),
        Kind::Value => milli(cx, &t.value, "value").map(Target::Value),
    }
}

/// Scaling rules with upstream's field-by-field defaults.
fn rules(
    cx: &mut Ctx,
    raw: Option<&ScalingRulesFile>,
    field: &str,
    defaults: ScalingRules,
) -> ScalingRules {
    let Some(r) = raw else { return defaults };
    let mut out = defaults;
    if let Some(s) = &r.stabilization_window_seconds {
        out.stabilization = SimTime::from_secs(u64::from(count_in(
            cx,
            s,
            &format!("{field}.stabilizationWindowSeconds"),
            0,
            MAX_STABILIZATION_S,
        )));
    }
    out.select = keyword_or(
        cx,
        r.select_policy.as_ref(),
        &format!("{field}.selectPolicy"),
        "selectPolicy",
        &[
            ("Max", SelectPolicy::Max),
            ("Min", SelectPolicy::Min),
            ("Disabled", SelectPolicy::Disabled),
        ],
        SelectPolicy::Max,
    );
    if let Some(policies) = &r.policies {
        if policies.is_empty() && out.select != SelectPolicy::Disabled {
            cx.err(
                None,
                format!("{field}.policies"),
                "must list at least one policy (or set selectPolicy: Disabled)",
            );
        }
        out.policies = policies
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let pf = format!("{field}.policies[{i}]");
                let kind = keyword(
                    cx,
                    &p.kind,
                    &format!("{pf}.type"),
                    "policy type",
                    &[("Pods", PolicyKind::Pods), ("Percent", PolicyKind::Percent)],
                );
                let value = count_in(cx, &p.value, &format!("{pf}.value"), 1, i64::from(i32::MAX));
                let period = count_in(
                    cx,
                    &p.period_seconds,
                    &format!("{pf}.periodSeconds"),
                    1,
                    MAX_POLICY_PERIOD_S,
                );
                Some(Policy {
                    kind: kind?,
                    value: i32::try_from(value).ok().filter(|v| *v > 0)?,
                    period: SimTime::from_secs(u64::from(period)).max(SimTime::from_millis(1)),
                })
            })
            .collect();
    }
    if let Some(t) = &r.tolerance {
        match t.value.milli_value() {
            Ok(m) if (0..1000).contains(&m) => out.tolerance = m as f64 / 1000.0,
            _ => cx.err(
                loc(t),
                format!("{field}.tolerance"),
                format!(
                    "`{}` is not a tolerance (expected at least 0, less than 1, e.g. 0.05)",
                    t.value.as_str()
                ),
            ),
        }
    }
    out
}

/// Validates every workload's `hpa` (needs all workloads: Object and External metrics
/// may name others).
pub(super) fn validate_hpas(
    cx: &mut Ctx,
    raw: &[super::file::WorkloadFile],
    workloads: &mut [WorkloadSpec],
    controller: &HpaControllerConfig,
    aliases: &std::collections::BTreeMap<String, String>,
) {
    let names: Vec<String> = workloads.iter().map(|w| w.name.clone()).collect();
    let labels: Vec<Vec<(String, String)>> = workloads.iter().map(|w| w.labels.clone()).collect();
    for (i, w) in raw.iter().enumerate() {
        let Some(h) = &w.hpa else { continue };
        let f = format!("workloads[{i}].hpa");
        if let Some(r) = &h.scale_target_ref {
            if r.name.value != w.name.value {
                cx.err(
                    loc(&r.name),
                    format!("{f}.scaleTargetRef.name"),
                    format!(
                        "`{}` is not this workload (expected {}, or leave scaleTargetRef out)",
                        r.name.value, w.name.value
                    ),
                );
            }
            if !matches!(r.kind.value.as_str(), "Deployment" | "ReplicaSet") {
                cx.err(
                    loc(&r.kind),
                    format!("{f}.scaleTargetRef.kind"),
                    format!(
                        "`{}` cannot be scaled here (expected Deployment)",
                        r.kind.value
                    ),
                );
            }
        }
        let min = match &h.min_replicas {
            None => 1,
            Some(m) => count_in(
                cx,
                m,
                &format!("{f}.minReplicas"),
                1,
                super::validate::MAX_REPLICAS,
            ),
        };
        let max = count_in(
            cx,
            &h.max_replicas,
            &format!("{f}.maxReplicas"),
            1,
            super::validate::MAX_REPLICAS,
        );
        if max > 0 && min > max {
            cx.err(
                loc(&h.max_replicas),
                format!("{f}.maxReplicas"),
                format!("{max} is less than minReplicas {min}"),
            );
        }
        let mut metrics = Vec::new();
        for (j, m) in h.metrics.iter().enumerate() {
            let mf = format!("{f}.metrics[{j}]");
            if let Some(spec) = metric(cx, m, &mf, &names, &labels, i, aliases) {
                metrics.push(spec);
            }
        }
        let memory_model = workloads
            .get(i)
            .is_some_and(|w| w.service.base_memory_bytes.is_some());
        for (j, m) in metrics.iter().enumerate() {
            if m.source == MetricSource::Resource(Resource::Memory) && !memory_model {
                cx.err(
                    h.metrics.get(j).map(|m| m.kind.referenced),
                    format!("{f}.metrics[{j}].resource.name"),
                    "scaling on memory needs a memory model: set service.baseMemory (and service.memoryPerRequest) for this workload",
                );
            }
        }
        if h.metrics.is_empty() {
            metrics.push(MetricSpec {
                name: "cpu".into(),
                source: MetricSource::Resource(Resource::Cpu),
                target: Target::Utilization(DEFAULT_CPU_UTILIZATION),
                description: "cpu resource utilization (percentage of request)".into(),
            });
        }
        let behavior = h.behavior.as_ref().map(|b| Behavior {
            scale_up: rules(
                cx,
                b.scale_up.as_ref(),
                &format!("{f}.behavior.scaleUp"),
                ScalingRules::default_up(controller.tolerance),
            ),
            scale_down: rules(
                cx,
                b.scale_down.as_ref(),
                &format!("{f}.behavior.scaleDown"),
                ScalingRules::default_down(
                    controller.downscale_stabilization,
                    controller.tolerance,
                ),
            ),
        });
        if let Some(spec) = workloads.get_mut(i) {
            spec.hpa = Some(HpaSpec {
                min_replicas: min.max(1),
                max_replicas: max.max(1),
                metrics,
                behavior,
            });
        }
    }
}

/// One `spec.metrics` entry.
fn metric(
    cx: &mut Ctx,
    m: &MetricSpecFile,
    f: &str,
    names: &[String],
    labels: &[Vec<(String, String)>],
    own: usize,
    aliases: &std::collections::BTreeMap<String, String>,
) -> Option<MetricSpec> {
    #[derive(Clone, Copy, PartialEq)]
    enum Kind {
        Resource,
        Pods,
        Object,
        External,
        ContainerResource,
    }
    let kind = keyword(
        cx,
        &m.kind,
        &format!("{f}.type"),
        "metric type",
        &[
            ("Resource", Kind::Resource),
            ("Pods", Kind::Pods),
            ("Object", Kind::Object),
            ("External", Kind::External),
            ("ContainerResource", Kind::ContainerResource),
        ],
    )?;
    let missing = |cx: &mut Ctx, key: &str| {
        cx.err(
            loc(&m.kind),
            format!("{f}.{key}"),
            format!("is required for type {}", m.kind.value),
        );
    };
    match kind {
        Kind::ContainerResource => {
            cx.err(loc(&m.kind), format!("{f}.type"), "ContainerResource metrics are not modelled (pods are measured as a whole); use type: Resource");
            None
        }
        Kind::Resource => {
            let Some(r) = &m.resource else {
                missing(cx, "resource");
                return None;
            };
            let res = keyword(
                cx,
                &r.name,
                &format!("{f}.resource.name"),
                "resource",
                &[("cpu", Resource::Cpu), ("memory", Resource::Memory)],
            )?;
            let target = target(
                cx,
                &r.target,
                &format!("{f}.resource.target"),
                &["Utilization", "AverageValue"],
            )?;
            let description = match target {
                Target::Utilization(_) => format!(
                    "{} resource utilization (percentage of request)",
                    res.name()
                ),
                _ => format!("{} resource", res.name()),
            };
            Some(MetricSpec {
                name: res.name().into(),
                source: MetricSource::Resource(res),
                target,
                description,
            })
        }
        Kind::Pods => {
            let Some(p) = &m.pods else {
                missing(cx, "pods");
                return None;
            };
            let metric = sim_metric(
                cx,
                &p.metric.name,
                &format!("{f}.pods.metric.name"),
                aliases,
            )?;
            let target = target(
                cx,
                &p.target,
                &format!("{f}.pods.target"),
                &["AverageValue"],
            )?;
            Some(MetricSpec {
                name: p.metric.name.value.clone(),
                source: MetricSource::Pods(metric),
                target,
                description: format!("pods metric {}", p.metric.name.value),
            })
        }
        Kind::Object => {
            let Some(o) = &m.object else {
                missing(cx, "object");
                return None;
            };
            let obj = &o.described_object;
            let Some(workload) = names.iter().position(|n| *n == obj.name.value) else {
                let hint = did_you_mean(&obj.name.value, names.iter().map(String::as_str));
                cx.err(loc(&obj.name), format!("{f}.object.describedObject.name"), format!("no workload named `{}`{hint} (the described object is a workload's Service or Deployment)", obj.name.value));
                return None;
            };
            let metric = sim_metric(
                cx,
                &o.metric.name,
                &format!("{f}.object.metric.name"),
                aliases,
            )?;
            let target = target(
                cx,
                &o.target,
                &format!("{f}.object.target"),
                &["Value", "AverageValue"],
            )?;
            Some(MetricSpec {
                name: o.metric.name.value.clone(),
                source: MetricSource::Object {
                    workload: workload as u32,
                    metric,
                },
                target,
                // Upstream names an AverageValue object metric "external metric …".
                description: match target {
                    Target::AverageValue(_) => {
                        format!("external metric {}(<nil>)", o.metric.name.value)
                    }
                    _ => format!("{} metric {}", obj.kind.value, o.metric.name.value),
                },
            })
        }
        Kind::External => {
            let Some(e) = &m.external else {
                missing(cx, "external");
                return None;
            };
            let metric = sim_metric(
                cx,
                &e.metric.name,
                &format!("{f}.external.metric.name"),
                aliases,
            )?;
            let workloads: Vec<u32> = match &e.metric.selector {
                None => vec![own as u32],
                Some(sel) => labels
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| {
                        sel.match_labels
                            .iter()
                            .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
                    })
                    .map(|(i, _)| i as u32)
                    .collect(),
            };
            if workloads.is_empty() {
                cx.err(loc(&e.metric.name), format!("{f}.external.metric.selector"), "matches no workload's pod labels (the selector picks the workloads whose traffic the value sums)");
                return None;
            }
            let target = target(
                cx,
                &e.target,
                &format!("{f}.external.target"),
                &["Value", "AverageValue"],
            )?;
            let selector = e
                .metric
                .selector
                .as_ref()
                .map(|s| {
                    let parts: Vec<String> = s.match_labels.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                    format!("&LabelSelector{{MatchLabels:map[string]string{{{}}},MatchExpressions:[]LabelSelectorRequirement{{}},}}", parts.join(" "))
                })
                .unwrap_or_else(|| "<nil>".into());
            Some(MetricSpec {
                name: e.metric.name.value.clone(),
                source: MetricSource::External { workloads, metric },
                target,
                description: format!("external metric {}({selector})", e.metric.name.value),
            })
        }
    }
}
