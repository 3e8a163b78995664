//! Validation of everything the scheduler reads: the `scheduler` block (a built-in profile
//! plus `KubeSchedulerConfiguration`-shaped overrides), PriorityClasses, and each pod's
//! scheduling fields (node affinity, priorityClassName, host ports, nodeName).

use super::file::{
    IntOrString, NodeSelectorTermFile, PluginSetFile, PodAffinityTermFile, PodDisruptionBudgetFile,
    PodSelectorFile, PodSpecFile, PriorityClassFile, SchedulerFile,
};
use super::model::{
    DisruptionBudget, HostPort, NodeAffinity, PodAffinityTerm, PodSelector, SelectorRequirement,
    SelectorTerm, SpreadConstraint, WorkloadSpec,
};
use super::validate::{Ctx, count_in, keyword, keyword_or, loc};
use crate::cluster::labels::Operator;
use crate::control::scheduler::profile::{
    DEFAULT_PREEMPTION, FilterPlugin, NOT_YET_MODELLED, Profile, Resource, ScorePlugin, Strategy,
};
use std::collections::BTreeMap;

/// Upstream's built-in classes (`system-cluster-critical`, `system-node-critical`).
const SYSTEM_CLASSES: [(&str, i64); 2] = [
    ("system-cluster-critical", 2_000_000_000),
    ("system-node-critical", 2_000_001_000),
];
/// Upstream `HighestUserDefinablePriority`.
const MAX_USER_PRIORITY: i64 = 1_000_000_000;

/// A validated PriorityClass table.
#[derive(Debug, Default)]
pub(super) struct Priorities {
    by_name: BTreeMap<String, (i32, bool)>,
    global_default: Option<(i32, bool)>,
}

/// Checks the PriorityClasses and returns name → (value, may preempt).
pub(super) fn validate_priority_classes(cx: &mut Ctx, raw: &[PriorityClassFile]) -> Priorities {
    let mut p = Priorities::default();
    for (name, value) in SYSTEM_CLASSES {
        p.by_name.insert(name.to_string(), (value as i32, true));
    }
    for (i, pc) in raw.iter().enumerate() {
        let f = format!("priorityClasses[{i}]");
        if p.by_name.contains_key(&pc.name.value) {
            cx.err(
                loc(&pc.name),
                format!("{f}.name"),
                format!(
                    "`{}` is defined twice (or is a system class)",
                    pc.name.value
                ),
            );
            continue;
        }
        if pc.value.value.abs() > MAX_USER_PRIORITY {
            cx.err(
                loc(&pc.value),
                format!("{f}.value"),
                format!(
                    "{} is out of range (user classes must lie within ±1000000000)",
                    pc.value.value
                ),
            );
        }
        let preempts = keyword_or(
            cx,
            pc.preemption_policy.as_ref(),
            &format!("{f}.preemptionPolicy"),
            "preemptionPolicy",
            &[("PreemptLowerPriority", true), ("Never", false)],
            true,
        );
        let entry = (
            pc.value.value.clamp(-MAX_USER_PRIORITY, MAX_USER_PRIORITY) as i32,
            preempts,
        );
        if pc.global_default {
            if p.global_default.is_some() {
                cx.err(
                    loc(&pc.name),
                    format!("{f}.globalDefault"),
                    "only one PriorityClass may be the global default",
                );
            }
            p.global_default = Some(entry);
        }
        p.by_name.insert(pc.name.value.clone(), entry);
    }
    p
}

/// Fills a workload's scheduling fields from its pod spec.
pub(super) fn apply_pod_scheduling(
    cx: &mut Ctx,
    spec: &PodSpecFile,
    f: &str,
    priorities: &Priorities,
    out: &mut WorkloadSpec,
) {
    let (priority, preempts) = match &spec.priority_class_name {
        Some(name) => match priorities.by_name.get(&name.value) {
            Some(&entry) => entry,
            None => {
                let names: Vec<&str> = priorities.by_name.keys().map(String::as_str).collect();
                let hint = super::suggest::did_you_mean(&name.value, names.iter().copied());
                cx.err(
                    loc(name),
                    format!("{f}.template.spec.priorityClassName"),
                    format!(
                        "no PriorityClass `{}`{hint} (define it under priorityClasses)",
                        name.value
                    ),
                );
                (0, true)
            }
        },
        None => priorities.global_default.unwrap_or((0, true)),
    };
    out.priority = priority;
    out.preempts = preempts;
    out.node_name = spec.node_name.as_ref().map(|n| n.value.clone());
    if let Some(a) = &spec.affinity {
        let af = format!("{f}.template.spec.affinity");
        for (raw, name, anti) in [
            (&a.pod_affinity, "podAffinity", false),
            (&a.pod_anti_affinity, "podAntiAffinity", true),
        ] {
            let Some(raw) = raw else { continue };
            let pf = format!("{af}.{name}");
            let required: Vec<PodAffinityTerm> = raw
                .required_during_scheduling_ignored_during_execution
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    pod_affinity_term(
                        cx,
                        t,
                        &format!("{pf}.requiredDuringSchedulingIgnoredDuringExecution[{i}]"),
                    )
                })
                .collect();
            let preferred: Vec<(i64, PodAffinityTerm)> = raw
                .preferred_during_scheduling_ignored_during_execution
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let tf = format!("{pf}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
                    let weight =
                        i64::from(count_in(cx, &t.weight, &format!("{tf}.weight"), 1, 100));
                    (
                        weight,
                        pod_affinity_term(
                            cx,
                            &t.pod_affinity_term,
                            &format!("{tf}.podAffinityTerm"),
                        ),
                    )
                })
                .collect();
            if anti {
                out.pod_affinity.required_anti = required;
                out.pod_affinity.preferred_anti = preferred;
            } else {
                out.pod_affinity.required = required;
                out.pod_affinity.preferred = preferred;
            }
        }
    }
    if let Some(na) = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
    {
        let af = format!("{f}.template.spec.affinity.nodeAffinity");
        let mut affinity = NodeAffinity::default();
        if let Some(req) = &na.required_during_scheduling_ignored_during_execution {
            let rf =
                format!("{af}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
            if req.node_selector_terms.is_empty() {
                cx.err(
                    None,
                    &rf,
                    "must have at least one term (upstream validation)",
                );
            }
            affinity.required = Some(
                req.node_selector_terms
                    .iter()
                    .enumerate()
                    .map(|(t, term)| selector_term(cx, term, &format!("{rf}[{t}]")))
                    .collect(),
            );
        }
        for (i, p) in na
            .preferred_during_scheduling_ignored_during_execution
            .iter()
            .enumerate()
        {
            let pf = format!("{af}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
            let weight = count_in(cx, &p.weight, &format!("{pf}.weight"), 1, 100);
            affinity.preferred.push((
                i64::from(weight),
                selector_term(cx, &p.preference, &format!("{pf}.preference")),
            ));
        }
        out.node_affinity = affinity;
    }
    let mut ports = Vec::new();
    for (c, container) in spec.containers.iter().enumerate() {
        for (j, port) in container.ports.iter().enumerate() {
            let pf = format!("{f}.template.spec.containers[{c}].ports[{j}]");
            count_in(
                cx,
                &port.container_port,
                &format!("{pf}.containerPort"),
                1,
                65535,
            );
            let protocol = keyword_or(
                cx,
                port.protocol.as_ref(),
                &format!("{pf}.protocol"),
                "protocol",
                &[("TCP", 0u8), ("UDP", 1), ("SCTP", 2)],
                0,
            );
            if let Some(hp) = &port.host_port {
                let n = count_in(cx, hp, &format!("{pf}.hostPort"), 1, 65535);
                let hp = HostPort {
                    protocol,
                    port: n as u16,
                };
                if ports.contains(&hp) {
                    cx.err(
                        loc(&port.container_port),
                        format!("{pf}.hostPort"),
                        format!("host port {n} is claimed twice in one pod"),
                    );
                }
                ports.push(hp);
            }
        }
    }
    out.host_ports = ports;
    out.spread = spec
        .topology_spread_constraints
        .iter()
        .enumerate()
        .map(|(i, c)| {
            spread_constraint(
                cx,
                c,
                &format!("{f}.template.spec.topologySpreadConstraints[{i}]"),
            )
        })
        .collect();
}

fn spread_constraint(
    cx: &mut Ctx,
    c: &super::file::SpreadConstraintFile,
    f: &str,
) -> SpreadConstraint {
    let max_skew = count_in(cx, &c.max_skew, &format!("{f}.maxSkew"), 1, 1_000_000);
    let hard = keyword(
        cx,
        &c.when_unsatisfiable,
        &format!("{f}.whenUnsatisfiable"),
        "whenUnsatisfiable",
        &[("DoNotSchedule", true), ("ScheduleAnyway", false)],
    )
    .unwrap_or(true);
    if c.topology_key.is_empty() {
        cx.err(
            loc(&c.max_skew),
            format!("{f}.topologyKey"),
            "must not be empty",
        );
    }
    let min_domains = c
        .min_domains
        .as_ref()
        .map(|m| count_in(cx, m, &format!("{f}.minDomains"), 1, 1_000_000));
    if min_domains.is_some() && !hard {
        cx.err(
            c.min_domains.as_ref().map(|m| m.referenced),
            format!("{f}.minDomains"),
            "minDomains is allowed only with whenUnsatisfiable: DoNotSchedule (upstream validation)",
        );
    }
    let policy =
        |cx: &mut Ctx, p: &Option<serde_saphyr::Spanned<String>>, name: &str, default: bool| {
            keyword_or(
                cx,
                p.as_ref(),
                &format!("{f}.{name}"),
                name,
                &[("Honor", true), ("Ignore", false)],
                default,
            )
        };
    let honor_affinity = policy(cx, &c.node_affinity_policy, "nodeAffinityPolicy", true);
    let honor_taints = policy(cx, &c.node_taints_policy, "nodeTaintsPolicy", false);
    let selector = c
        .label_selector
        .as_ref()
        .map(|sel| pod_selector(cx, sel, &format!("{f}.labelSelector")))
        .unwrap_or_default();
    SpreadConstraint {
        max_skew,
        topology_key: c.topology_key.clone(),
        hard,
        selector,
        min_domains,
        honor_affinity,
        honor_taints,
    }
}

/// A `v1.PodAffinityTerm`; an absent selector selects no pods, as upstream.
fn pod_affinity_term(cx: &mut Ctx, t: &PodAffinityTermFile, f: &str) -> PodAffinityTerm {
    if t.topology_key.value.is_empty() {
        cx.err(
            Some(t.topology_key.referenced),
            format!("{f}.topologyKey"),
            "must not be empty (e.g. kubernetes.io/hostname or topology.kubernetes.io/zone)",
        );
    }
    PodAffinityTerm {
        selector: t
            .label_selector
            .as_ref()
            .map(|s| pod_selector(cx, s, &format!("{f}.labelSelector")))
            .unwrap_or_else(PodSelector::nothing),
        topology_key: t.topology_key.value.clone(),
    }
}

/// `metav1.LabelSelector` for pods (matchLabels and matchExpressions).
fn pod_selector(cx: &mut Ctx, sel: &PodSelectorFile, f: &str) -> PodSelector {
    let mut selector = PodSelector {
        match_labels: sel
            .match_labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        expressions: Vec::new(),
    };
    let ops = [
        ("In", Operator::In),
        ("NotIn", Operator::NotIn),
        ("Exists", Operator::Exists),
        ("DoesNotExist", Operator::DoesNotExist),
    ];
    for (i, r) in sel.match_expressions.iter().enumerate() {
        let rf = format!("{f}.matchExpressions[{i}]");
        if let Some(op) = keyword(cx, &r.operator, &format!("{rf}.operator"), "operator", &ops) {
            selector
                .expressions
                .push((r.key.clone(), op, r.values.clone()));
        }
    }
    selector
}

/// Checks the PodDisruptionBudgets as upstream's validation does: exactly one of
/// minAvailable and maxUnavailable, counts ≥ 0, percentages 0%..100%.
pub(super) fn validate_disruption_budgets(
    cx: &mut Ctx,
    raw: &[PodDisruptionBudgetFile],
) -> Vec<DisruptionBudget> {
    let mut out = Vec::new();
    for (i, b) in raw.iter().enumerate() {
        let f = format!("podDisruptionBudgets[{i}]");
        let value = |cx: &mut Ctx, v: &serde_saphyr::Spanned<IntOrString>, field: &str| {
            super::rollout::int_or_percent(cx, v, &format!("{f}.{field}"))
        };
        let min_available = b
            .min_available
            .as_ref()
            .and_then(|v| value(cx, v, "minAvailable"));
        let max_unavailable = b
            .max_unavailable
            .as_ref()
            .and_then(|v| value(cx, v, "maxUnavailable"));
        if b.min_available.is_some() == b.max_unavailable.is_some() {
            cx.err(
                Some(b.name.referenced),
                &f,
                "set exactly one of minAvailable and maxUnavailable",
            );
        }
        out.push(DisruptionBudget {
            name: b.name.value.clone(),
            selector: b
                .selector
                .as_ref()
                .map(|s| pod_selector(cx, s, &format!("{f}.selector")))
                .unwrap_or_else(PodSelector::nothing),
            min_available,
            max_unavailable,
        });
    }
    out
}

fn selector_term(cx: &mut Ctx, term: &NodeSelectorTermFile, f: &str) -> SelectorTerm {
    let ops = [
        ("In", Operator::In),
        ("NotIn", Operator::NotIn),
        ("Exists", Operator::Exists),
        ("DoesNotExist", Operator::DoesNotExist),
        ("Gt", Operator::Gt),
        ("Lt", Operator::Lt),
    ];
    let mut out = SelectorTerm::default();
    for (list, is_field, name) in [
        (&term.match_expressions, false, "matchExpressions"),
        (&term.match_fields, true, "matchFields"),
    ] {
        for (i, r) in list.iter().enumerate() {
            let rf = format!("{f}.{name}[{i}]");
            let Some(op) = keyword(cx, &r.operator, &format!("{rf}.operator"), "operator", &ops)
            else {
                continue;
            };
            // Upstream validation (ValidateNodeSelectorRequirement).
            let problem = match op {
                Operator::In | Operator::NotIn if r.values.is_empty() => {
                    Some("needs at least one value")
                }
                Operator::Exists | Operator::DoesNotExist if !r.values.is_empty() => {
                    Some("takes no values")
                }
                Operator::Gt | Operator::Lt
                    if r.values.len() != 1 || r.values[0].parse::<i64>().is_err() =>
                {
                    Some("needs exactly one integer value")
                }
                _ => None,
            };
            if let Some(p) = problem {
                cx.err(
                    loc(&r.operator),
                    format!("{rf}.values"),
                    format!("operator {} {p}", r.operator.value),
                );
            }
            if is_field
                && (r.key != "metadata.name" || !matches!(op, Operator::In | Operator::NotIn))
            {
                cx.err(
                    loc(&r.operator),
                    &rf,
                    "matchFields supports only key metadata.name with In or NotIn",
                );
            }
            let req = SelectorRequirement {
                key: r.key.clone(),
                op,
                values: r.values.clone(),
            };
            if is_field {
                out.fields.push(req)
            } else {
                out.expressions.push(req)
            }
        }
    }
    out
}

/// Builds the profile: a built-in one, then `percentageOfNodesToScore`, `plugins` and
/// `pluginConfig` applied in upstream's merge order.
pub(super) fn validate_scheduler(cx: &mut Ctx, raw: Option<&SchedulerFile>) -> Profile {
    let Some(raw) = raw else {
        return Profile::default_profile();
    };
    let mut profile = match &raw.profile {
        None => Profile::default_profile(),
        Some(name) => {
            let options: Vec<(&str, &str)> =
                Profile::BUILTIN_NAMES.iter().map(|n| (*n, *n)).collect();
            keyword(cx, name, "scheduler.profile", "profile", &options)
                .and_then(Profile::builtin)
                .unwrap_or_else(Profile::default_profile)
        }
    };
    if let Some(p) = &raw.percentage_of_nodes_to_score {
        profile.percentage_of_nodes_to_score =
            count_in(cx, p, "scheduler.percentageOfNodesToScore", 0, 100);
    }
    let mut customised = false;
    if let Some(plugins) = &raw.plugins {
        for (set, point) in [
            (&plugins.multi_point, "multiPoint"),
            (&plugins.filter, "filter"),
            (&plugins.score, "score"),
            (&plugins.post_filter, "postFilter"),
        ] {
            if let Some(set) = set {
                customised = true;
                apply_plugin_set(cx, &mut profile, set, point);
            }
        }
    }
    for (i, pc) in raw.plugin_config.iter().enumerate() {
        customised = true;
        let f = format!("scheduler.pluginConfig[{i}]");
        match pc.name.value.as_str() {
            "NodeResourcesFit" => {
                if let Some(ss) = &pc.args.scoring_strategy {
                    let kind = keyword_or(
                        cx,
                        ss.kind.as_ref(),
                        &format!("{f}.args.scoringStrategy.type"),
                        "type",
                        &[("LeastAllocated", 0), ("MostAllocated", 1), ("RequestedToCapacityRatio", 2)],
                        0,
                    );
                    if let Some(res) = &ss.resources {
                        profile.fit_resources = resources(cx, res, &format!("{f}.args.scoringStrategy.resources"));
                    }
                    profile.fit_strategy = match kind {
                        1 => Strategy::MostAllocated,
                        2 => Strategy::RequestedToCapacityRatio(shape(cx, ss.requested_to_capacity_ratio.as_ref(), &f)),
                        _ => Strategy::LeastAllocated,
                    };
                }
            }
                        "PodTopologySpread" => {
                let list = keyword_or(
                    cx,
                    pc.args.defaulting_type.as_ref(),
                    &format!("{f}.args.defaultingType"),
                    "defaultingType",
                    &[("System", false), ("List", true)],
                    false,
                );
                profile.default_spread = if list {
                    pc.args
                        .default_constraints
                        .iter()
                        .flatten()
                        .enumerate()
                        .map(|(i, c)| {
                            let sc = spread_constraint(cx, c, &format!("{f}.args.defaultConstraints[{i}]"));
                            (sc.topology_key, sc.max_skew, sc.hard)
                        })
                        .collect()
                } else {
                    if pc.args.default_constraints.as_ref().is_some_and(|c| !c.is_empty()) {
                        cx.err(
                            pc.args.defaulting_type.as_ref().map(|d| d.referenced),
                            format!("{f}.args.defaultConstraints"),
                            "defaultConstraints need defaultingType: List (upstream validation)",
                        );
                    }
                    crate::control::scheduler::profile::system_default_spread()
                };
            }
            "NodeResourcesBalancedAllocation" => {
                if let Some(res) = &pc.args.resources {
                    profile.balanced_resources =
                        resources(cx, res, &format!("{f}.args.resources")).into_iter().map(|(r, _)| r).collect();
                }
            }
            other => cx.err(
                loc(&pc.name),
                format!("{f}.name"),
                                format!(
                    "`{other}` takes no arguments the simulator reads (expected NodeResourcesFit, NodeResourcesBalancedAllocation or PodTopologySpread)"
                ),
            ),
        }
    }
    if customised {
        profile.name = "custom".to_string();
    }
    profile
}

fn apply_plugin_set(cx: &mut Ctx, profile: &mut Profile, set: &PluginSetFile, point: &str) {
    let post_filter = point == "postFilter" || point == "multiPoint";
    let filters = point == "filter" || point == "multiPoint";
    let scores = point == "score" || point == "multiPoint";
    for (i, d) in set.disabled.iter().enumerate() {
        let f = format!("scheduler.plugins.{point}.disabled[{i}].name");
        if post_filter && (d.name.value == "*" || d.name.value == DEFAULT_PREEMPTION) {
            profile.preemption = false;
        }
        if d.name.value == DEFAULT_PREEMPTION {
            if !post_filter {
                cx.err(loc(&d.name), f, format!("{DEFAULT_PREEMPTION} is a postFilter plugin (configure it under postFilter or multiPoint)"));
            }
            continue;
        }
        if point == "postFilter" {
            if d.name.value != "*" {
                cx.err(
                    loc(&d.name),
                    f,
                    format!(
                        "`{}` is not a postFilter plugin (expected {DEFAULT_PREEMPTION})",
                        d.name.value
                    ),
                );
            }
            continue;
        }
        if d.name.value == "*" {
            if filters {
                profile.filters.clear();
            }
            if scores {
                profile.scores.clear();
            }
            continue;
        }
        let Some((filter, score)) = plugin(cx, &d.name, &f) else {
            continue;
        };
        if filters && let Some(p) = filter {
            profile.filters.retain(|x| *x != p);
        }
        if scores && let Some(p) = score {
            profile.scores.retain(|x| x.0 != p);
        }
    }
    for (i, e) in set.enabled.iter().enumerate() {
        let f = format!("scheduler.plugins.{point}.enabled[{i}]");
        if e.name.value == DEFAULT_PREEMPTION || point == "postFilter" {
            if post_filter && e.name.value == DEFAULT_PREEMPTION {
                profile.preemption = true;
            } else {
                cx.err(
                    loc(&e.name),
                    format!("{f}.name"),
                    format!(
                        "`{}` is not a {point} plugin (DefaultPreemption is the postFilter plugin)",
                        e.name.value
                    ),
                );
            }
            continue;
        }
        let Some((filter, score)) = plugin(cx, &e.name, &format!("{f}.name")) else {
            continue;
        };
        if filters
            && let Some(p) = filter
            && !profile.filters.contains(&p)
        {
            profile.filters.push(p);
            profile.filters.sort();
        }
        if scores && let Some(p) = score {
            let weight = match &e.weight {
                Some(w) => i64::from(count_in(cx, w, &format!("{f}.weight"), 1, 100)),
                None => ScorePlugin::DEFAULTS
                    .iter()
                    .find(|d| d.0 == p)
                    .map_or(1, |d| d.1),
            };
            match profile.scores.iter_mut().find(|x| x.0 == p) {
                Some(existing) => existing.1 = weight,
                None => {
                    profile.scores.push((p, weight));
                    profile.scores.sort_by_key(|x| x.0);
                }
            }
        } else if let Some(w) = &e.weight
            && score.is_none()
        {
            cx.err(
                loc(w),
                format!("{f}.weight"),
                format!("{} is not a score plugin", e.name.value),
            );
        }
    }
}

/// Resolves an upstream plugin name to the filter and score plugins it stands for.
fn plugin(
    cx: &mut Ctx,
    name: &serde_saphyr::Spanned<String>,
    f: &str,
) -> Option<(Option<FilterPlugin>, Option<ScorePlugin>)> {
    let n = name.value.as_str();
    let filter = FilterPlugin::ALL.into_iter().find(|p| p.name() == n);
    let score = ScorePlugin::DEFAULTS
        .into_iter()
        .map(|d| d.0)
        .find(|p| p.name() == n);
    if filter.is_some() || score.is_some() {
        return Some((filter, score));
    }
    if NOT_YET_MODELLED.contains(&n) {
        cx.err(loc(name), f, format!("plugin `{n}` is not modelled yet"));
        return None;
    }
    let known: Vec<&str> = FilterPlugin::ALL
        .iter()
        .map(|p| p.name())
        .chain(ScorePlugin::DEFAULTS.iter().map(|d| d.0.name()))
        .collect();
    let hint = super::suggest::did_you_mean(n, known.iter().copied());
    cx.err(loc(name), f, format!("unknown plugin `{n}`{hint}"));
    None
}

fn resources(
    cx: &mut Ctx,
    raw: &[super::file::ResourceWeightFile],
    f: &str,
) -> Vec<(Resource, i64)> {
    let mut out = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let Some(res) = keyword(
            cx,
            &r.name,
            &format!("{f}[{i}].name"),
            "resource",
            &[("cpu", Resource::Cpu), ("memory", Resource::Memory)],
        ) else {
            continue;
        };
        // Upstream defaults a weight of 0 (or unset) to 1.
        let weight = r.weight.as_ref().map_or(1, |w| {
            i64::from(count_in(cx, w, &format!("{f}[{i}].weight"), 0, 100)).max(1)
        });
        out.push((res, weight));
    }
    if out.is_empty() {
        cx.err(None, f, "needs at least one resource");
    }
    out
}

fn shape(cx: &mut Ctx, raw: Option<&super::file::RtcrFile>, f: &str) -> Vec<(i64, i64)> {
    let sf = format!("{f}.args.scoringStrategy.requestedToCapacityRatio.shape");
    let Some(raw) = raw else {
        cx.err(None, &sf, "RequestedToCapacityRatio needs a shape");
        return vec![(0, 0), (100, 10)];
    };
    let mut points = Vec::new();
    for (i, p) in raw.shape.iter().enumerate() {
        let u = count_in(
            cx,
            &p.utilization,
            &format!("{sf}[{i}].utilization"),
            0,
            100,
        );
        let s = count_in(cx, &p.score, &format!("{sf}[{i}].score"), 0, 10);
        if let Some(&(prev, _)) = points.last()
            && i64::from(u) <= prev
        {
            cx.err(
                loc(&p.utilization),
                format!("{sf}[{i}].utilization"),
                "utilization must increase from point to point",
            );
        }
        points.push((i64::from(u), i64::from(s)));
    }
    if points.is_empty() {
        cx.err(None, &sf, "needs at least one point");
        points.push((0, 0));
    }
    points
}
