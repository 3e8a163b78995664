//! The capacity side of a scenario: the cluster autoscaler's flags and each pool's node
//! provisioning time.

use super::duration::Duration;
use super::suggest::did_you_mean;
use super::validate::{Ctx, count_in, keyword, loc};
use crate::control::autoscaler::config::{AutoscalerConfig, Expander};
use crate::engine::SimTime;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// Default time from a node request to a Ready node (boot, kubelet join, CNI ready): the
/// median, and the 90th percentile of a lognormal around it. Typical managed-cluster
/// figures; measure yours and set them per pool.
pub const DEFAULT_PROVISIONING_MEDIAN: SimTime = SimTime::from_secs(90);
/// See [`DEFAULT_PROVISIONING_MEDIAN`].
pub const DEFAULT_PROVISIONING_P90: SimTime = SimTime::from_secs(150);

/// `clusterAutoscaler:` — enables the cluster autoscaler over every pool with `min`/`max`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterAutoscalerFile {
    /// `--scan-interval` (10s).
    pub scan_interval: Option<Spanned<Duration>>,
    /// `--expander` (least-waste); a comma-separated chain.
    pub expander: Option<Spanned<String>>,
    /// The priority expander's ConfigMap: priority → pool names.
    #[serde(default)]
    pub priorities: BTreeMap<i64, Vec<Spanned<String>>>,
    /// `--scale-down-enabled` (true).
    pub scale_down_enabled: Option<bool>,
    /// `--scale-down-utilization-threshold` (0.5).
    pub scale_down_utilization_threshold: Option<Spanned<f64>>,
    /// `--scale-down-unneeded-time` (10m).
    pub scale_down_unneeded_time: Option<Spanned<Duration>>,
    /// `--scale-down-delay-after-add` (10m).
    pub scale_down_delay_after_add: Option<Spanned<Duration>>,
    /// `--scale-down-delay-after-delete` (0s).
    pub scale_down_delay_after_delete: Option<Spanned<Duration>>,
    /// `--scale-down-delay-after-failure` (3m).
    pub scale_down_delay_after_failure: Option<Spanned<Duration>>,
    /// `--max-node-provision-time` (15m).
    pub max_node_provision_time: Option<Spanned<Duration>>,
    /// `--max-nodes-total` (0: unlimited).
    pub max_nodes_total: Option<Spanned<i64>>,
    /// `--max-scale-down-parallelism` (10).
    pub max_scale_down_parallelism: Option<Spanned<i64>>,
    /// `--max-drain-parallelism` (1).
    pub max_drain_parallelism: Option<Spanned<i64>>,
    /// `--expendable-pods-priority-cutoff` (-10).
    pub expendable_pods_priority_cutoff: Option<i32>,
    /// `--balance-similar-node-groups` (false).
    pub balance_similar_node_groups: Option<bool>,
    /// `--initial-node-group-backoff-duration` (5m).
    pub initial_node_group_backoff_duration: Option<Spanned<Duration>>,
    /// `--max-node-group-backoff-duration` (30m).
    pub max_node_group_backoff_duration: Option<Spanned<Duration>>,
    /// `--node-group-backoff-reset-timeout` (3h).
    pub node_group_backoff_reset_timeout: Option<Spanned<Duration>>,
}

/// A pool's `provisioning:` time (lognormal).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProvisioningFile {
    /// Median request-to-Ready time (default 90s).
    pub median: Option<Spanned<Duration>>,
    /// 90th percentile (default: 150s with the default median, else the median).
    pub p90: Option<Spanned<Duration>>,
    /// Share of requests whose instance never comes up (0).
    pub failure_rate: Option<Spanned<f64>>,
    /// Windows in which the cloud has no capacity of the pool's types.
    #[serde(default)]
    pub unavailable: Vec<UnavailableFile>,
}

/// A stock-out window.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UnavailableFile {
    /// From (simulated time).
    pub from: Spanned<Duration>,
    /// Until (exclusive).
    pub until: Spanned<Duration>,
}

fn duration(cx: &mut Ctx, d: &Option<Spanned<Duration>>, field: &str, default: SimTime) -> SimTime {
    match d {
        None => default,
        Some(d) if d.value.time() > SimTime::from_secs(24 * 3600) => {
            cx.err(loc(d), field, "must be at most 24h");
            default
        }
        Some(d) => d.value.time(),
    }
}

/// The autoscaler's settings, or None when the scenario has no `clusterAutoscaler`.
pub(super) fn validate_autoscaler(
    cx: &mut Ctx,
    raw: Option<&ClusterAutoscalerFile>,
    pool_names: &[String],
) -> Option<AutoscalerConfig> {
    let r = raw?;
    let f = "clusterAutoscaler";
    let d = AutoscalerConfig::default();
    let mut cfg = AutoscalerConfig {
        scan_interval: duration(
            cx,
            &r.scan_interval,
            &format!("{f}.scanInterval"),
            d.scan_interval,
        ),
        scale_down_enabled: r.scale_down_enabled.unwrap_or(true),
        unneeded_time: duration(
            cx,
            &r.scale_down_unneeded_time,
            &format!("{f}.scaleDownUnneededTime"),
            d.unneeded_time,
        ),
        delay_after_add: duration(
            cx,
            &r.scale_down_delay_after_add,
            &format!("{f}.scaleDownDelayAfterAdd"),
            d.delay_after_add,
        ),
        delay_after_delete: duration(
            cx,
            &r.scale_down_delay_after_delete,
            &format!("{f}.scaleDownDelayAfterDelete"),
            d.delay_after_delete,
        ),
        delay_after_failure: duration(
            cx,
            &r.scale_down_delay_after_failure,
            &format!("{f}.scaleDownDelayAfterFailure"),
            d.delay_after_failure,
        ),
        max_node_provision_time: duration(
            cx,
            &r.max_node_provision_time,
            &format!("{f}.maxNodeProvisionTime"),
            d.max_node_provision_time,
        ),
        expendable_priority_cutoff: r
            .expendable_pods_priority_cutoff
            .unwrap_or(d.expendable_priority_cutoff),
        balance_similar_node_groups: r.balance_similar_node_groups.unwrap_or(false),
        initial_node_group_backoff: duration(
            cx,
            &r.initial_node_group_backoff_duration,
            &format!("{f}.initialNodeGroupBackoffDuration"),
            d.initial_node_group_backoff,
        ),
        max_node_group_backoff: duration(
            cx,
            &r.max_node_group_backoff_duration,
            &format!("{f}.maxNodeGroupBackoffDuration"),
            d.max_node_group_backoff,
        ),
        node_group_backoff_reset: duration(
            cx,
            &r.node_group_backoff_reset_timeout,
            &format!("{f}.nodeGroupBackoffResetTimeout"),
            d.node_group_backoff_reset,
        ),
        ..d
    };
    if cfg.scan_interval < SimTime::from_secs(1) {
        if let Some(s) = &r.scan_interval {
            cx.err(loc(s), format!("{f}.scanInterval"), "must be at least 1s");
        }
        cfg.scan_interval = SimTime::from_secs(10);
    }
    if let Some(t) = &r.scale_down_utilization_threshold {
        if t.value.is_finite() && t.value > 0.0 && t.value <= 1.0 {
            cfg.utilization_threshold = t.value;
        } else {
            cx.err(
                loc(t),
                format!("{f}.scaleDownUtilizationThreshold"),
                format!(
                    "{} is not a utilization (expected more than 0, at most 1)",
                    t.value
                ),
            );
        }
    }
    if let Some(m) = &r.max_nodes_total {
        cfg.max_nodes_total = count_in(cx, m, &format!("{f}.maxNodesTotal"), 0, 1_000_000);
    }
    if let Some(m) = &r.max_scale_down_parallelism {
        cfg.max_scale_down_parallelism =
            count_in(cx, m, &format!("{f}.maxScaleDownParallelism"), 1, 10_000);
    }
    if let Some(m) = &r.max_drain_parallelism {
        cfg.max_drain_parallelism = count_in(cx, m, &format!("{f}.maxDrainParallelism"), 1, 10_000);
    }
    if let Some(e) = &r.expander {
        let mut chain = Vec::new();
        for name in e.value.split(',').map(str::trim) {
            let item = Spanned {
                value: name.to_string(),
                referenced: e.referenced,
                defined: e.defined,
            };
            if let Some(x) = keyword(
                cx,
                &item,
                &format!("{f}.expander"),
                "expander",
                &Expander::NAMES,
            ) {
                chain.push(x);
            }
        }
        if !chain.is_empty() {
            cfg.expanders = chain;
        }
    }
    for (prio, names) in &r.priorities {
        let mut pools = Vec::new();
        for n in names {
            match pool_names.iter().position(|p| *p == n.value) {
                Some(i) => pools.push(i as u32),
                None => {
                    let hint = did_you_mean(&n.value, pool_names.iter().map(String::as_str));
                    cx.err(
                        loc(n),
                        format!("{f}.priorities.{prio}"),
                        format!("no pool named `{}`{hint}", n.value),
                    );
                }
            }
        }
        cfg.priorities
            .push((i32::try_from(*prio).unwrap_or(0), pools));
    }
    if cfg.expanders.contains(&Expander::Priority) && cfg.priorities.is_empty() {
        cx.err(
            None,
            format!("{f}.priorities"),
            "the priority expander needs priorities: {PRIORITY: [pool, ...]}",
        );
    }
    Some(cfg)
}

/// A pool's provisioning: time to Ready, failures and stock-outs.
pub(super) fn validate_provisioning(
    cx: &mut Ctx,
    raw: Option<&ProvisioningFile>,
    f: &str,
) -> crate::scenario::Provisioning {
    let mut out = crate::scenario::Provisioning {
        median: DEFAULT_PROVISIONING_MEDIAN,
        p90: DEFAULT_PROVISIONING_P90,
        ..Default::default()
    };
    let Some(p) = raw else {
        return out;
    };
    if let Some(m) = &p.median {
        out.median = duration(
            cx,
            &Some(Spanned {
                value: m.value,
                referenced: m.referenced,
                defined: m.defined,
            }),
            &format!("{f}.provisioning.median"),
            DEFAULT_PROVISIONING_MEDIAN,
        );
        out.p90 = out.median;
    }
    match &p.p90 {
        None => {}
        Some(q) if q.value.time() < out.median => {
            cx.err(
                loc(q),
                format!("{f}.provisioning.p90"),
                "must not be shorter than the median",
            );
        }
        Some(q) => out.p90 = q.value.time(),
    }
    if let Some(r) = &p.failure_rate {
        if r.value.is_finite() && (0.0..1.0).contains(&r.value) {
            out.failure_rate = r.value;
        } else {
            cx.err(
                loc(r),
                format!("{f}.provisioning.failureRate"),
                format!(
                    "{} is not a share of requests (expected 0 or more, below 1)",
                    r.value
                ),
            );
        }
    }
    for (i, u) in p.unavailable.iter().enumerate() {
        let (a, b) = (u.from.value.time(), u.until.value.time());
        if b <= a {
            cx.err(
                loc(&u.until),
                format!("{f}.provisioning.unavailable[{i}].until"),
                "must be after from",
            );
        } else {
            out.unavailable.push((a, b));
        }
    }
    out
}

/// A spot pool's `spot:` settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SpotFile {
    /// Mean time from a node's start to its interruption (exponential).
    pub mean_time_to_interruption: Option<Spanned<Duration>>,
    /// Notice before termination (default: the provider's: AWS 2m, GCP and Azure 30s).
    pub notice: Option<Spanned<Duration>>,
    /// Interruptions at fixed times: `[{at: 2h, nodes: 3}]`.
    #[serde(default)]
    pub interruptions: Vec<ScheduledInterruptionFile>,
}

/// One scheduled spot interruption.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScheduledInterruptionFile {
    /// When.
    pub at: Spanned<Duration>,
    /// How many of the pool's nodes (oldest first; default 1).
    pub nodes: Option<Spanned<i64>>,
}

/// The provider's interruption notice: AWS two minutes, GCP and Azure 30 seconds.
pub fn default_spot_notice(provider: &str) -> SimTime {
    match provider {
        "aws" | "oci" => SimTime::from_secs(120),
        _ => SimTime::from_secs(30),
    }
}

/// A pool's capacity type and spot settings.
pub(super) fn validate_spot(
    cx: &mut Ctx,
    p: &super::file::PoolFile,
    f: &str,
    provider: &str,
) -> Option<crate::scenario::model::SpotSpec> {
    #[derive(Clone, Copy, PartialEq)]
    enum Kind {
        OnDemand,
        Spot,
    }
    let kind = match &p.capacity_type {
        None => Kind::OnDemand,
        Some(k) => keyword(
            cx,
            k,
            &format!("{f}.capacityType"),
            "capacity type",
            &[("onDemand", Kind::OnDemand), ("spot", Kind::Spot)],
        )
        .unwrap_or(Kind::OnDemand),
    };
    if kind == Kind::OnDemand {
        if let Some(s) = &p.spot
            && let Some(m) = &s.mean_time_to_interruption
        {
            cx.err(
                loc(m),
                format!("{f}.spot"),
                "spot settings need capacityType: spot",
            );
        }
        return None;
    }
    let s = p.spot.as_ref();
    let mtti = s
        .and_then(|s| s.mean_time_to_interruption.as_ref())
        .map(|m| {
            if m.value.time() < SimTime::from_secs(60) {
                cx.err(
                    loc(m),
                    format!("{f}.spot.meanTimeToInterruption"),
                    "must be at least 1m",
                );
            }
            m.value.time().max(SimTime::from_secs(60))
        });
    let notice = match s.and_then(|s| s.notice.as_ref()) {
        None => default_spot_notice(provider),
        Some(n) if n.value.time() > SimTime::from_secs(3600) => {
            cx.err(loc(n), format!("{f}.spot.notice"), "must be at most 1h");
            default_spot_notice(provider)
        }
        Some(n) => n.value.time(),
    };
    let scheduled = s
        .map(|s| {
            s.interruptions
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    let n = x.nodes.as_ref().map_or(1, |n| {
                        count_in(
                            cx,
                            n,
                            &format!("{f}.spot.interruptions[{i}].nodes"),
                            1,
                            100_000,
                        )
                    });
                    (x.at.value.time(), n)
                })
                .collect()
        })
        .unwrap_or_default();
    Some(crate::scenario::model::SpotSpec {
        mean_time_to_interruption: mtti,
        notice,
        scheduled,
    })
}

/// `headroom:` — overprovisioning: low-priority placeholder pods that hold spare capacity
/// and are preempted the moment real pods need it (their replacements then pend and make
/// the cluster autoscaler add a node ahead of demand).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HeadroomFile {
    /// Placeholder pods (or give `fraction`).
    pub replicas: Option<Spanned<i64>>,
    /// Placeholders sized to this fraction of the starting cluster's allocatable CPU.
    pub fraction: Option<Spanned<f64>>,
    /// Each placeholder's requests: `{cpu, memory}`.
    pub requests: BTreeMap<String, Spanned<super::quantity::Quantity>>,
    /// Their priority (default -1: below every workload, above the autoscaler's
    /// expendable cutoff of -10, so they still trigger scale-up).
    pub priority: Option<Spanned<i64>>,
}

/// The name of the placeholder workload `headroom` adds.
pub const HEADROOM_WORKLOAD: &str = "overprovisioning";

/// The placeholder workload, sized by count or by fraction of the starting cluster CPU.
pub(super) fn headroom_workload(
    cx: &mut Ctx,
    h: &HeadroomFile,
    pools: &[crate::scenario::model::PoolSpec],
    taken: &[crate::scenario::model::WorkloadSpec],
) -> Option<crate::scenario::model::WorkloadSpec> {
    use super::validate::quantity;
    let f = "headroom";
    if taken.iter().any(|w| w.name == HEADROOM_WORKLOAD) {
        cx.err(
            None,
            f,
            format!("a workload is already named `{HEADROOM_WORKLOAD}`, the name headroom uses"),
        );
        return None;
    }
    for (k, q) in &h.requests {
        if k != "cpu" && k != "memory" {
            cx.err(
                loc(q),
                format!("{f}.requests.{k}"),
                "expected cpu or memory",
            );
        }
    }
    let cpu = h
        .requests
        .get("cpu")
        .and_then(|q| quantity(cx, q, &format!("{f}.requests.cpu"), true))
        .unwrap_or(0);
    let memory = h
        .requests
        .get("memory")
        .and_then(|q| quantity(cx, q, &format!("{f}.requests.memory"), false))
        .unwrap_or(0);
    if cpu == 0 {
        cx.err(
            None,
            format!("{f}.requests.cpu"),
            "placeholders need a CPU request (e.g. cpu: 1)",
        );
        return None;
    }
    let replicas = match (&h.replicas, &h.fraction) {
        (Some(r), None) => count_in(cx, r, &format!("{f}.replicas"), 0, 100_000),
        (None, Some(fr)) if fr.value.is_finite() && fr.value > 0.0 && fr.value < 1.0 => {
            let total: f64 = pools
                .iter()
                .map(|p| f64::from(p.count) * p.cpu_milli as f64)
                .sum();
            (fr.value * total / cpu as f64).ceil() as u32
        }
        (None, Some(fr)) => {
            cx.err(
                loc(fr),
                format!("{f}.fraction"),
                format!(
                    "{} is not a fraction (expected more than 0, less than 1)",
                    fr.value
                ),
            );
            return None;
        }
        _ => {
            cx.err(None, f, "give exactly one of replicas and fraction");
            return None;
        }
    };
    let priority = h
        .priority
        .as_ref()
        .map_or(-1, |p| p.value.clamp(-1_000_000_000, 1_000_000_000) as i32);
    Some(crate::scenario::model::WorkloadSpec {
        name: HEADROOM_WORKLOAD.to_string(),
        replicas,
        labels: vec![("app".to_string(), HEADROOM_WORKLOAD.to_string())],
        cpu_request_milli: cpu,
        memory_request_bytes: memory,
        cpu_nonzero_milli: cpu,
        memory_nonzero_bytes: if memory > 0 {
            memory
        } else {
            super::validate::NON_ZERO_MEMORY_BYTES
        },
        cpu_limit_milli: None,
        memory_limit_bytes: None,
        node_selector: Vec::new(),
        tolerations: Vec::new(),
        startup: SimTime::from_secs(1),
        create_at: SimTime::ZERO,
        extra_requests: Vec::new(),
        volume_zones: Vec::new(),
        containers: 1,
        container_requests: vec![crate::scenario::model::ContainerRequests {
            name: "pause".to_string(),
            cpu_request_milli: cpu,
            memory_request_bytes: memory,
        }],
        images: Vec::new(),
        service: crate::scenario::model::ServiceModel {
            cpu_seconds_per_request: 0.001,
            concurrency: 1,
            timeout: super::validate::DEFAULT_TIMEOUT,
            base_cpu_milli: 0,
            base_memory_bytes: Some(0),
            memory_per_request_bytes: 0,
            service_time: crate::traffic::queueing::ServiceTime::Exponential,
            retries: None,
        },
        traffic: Default::default(),
        arrivals: crate::scenario::model::Arrivals::Fluid,
        calls: Vec::new(),
        priority,
        preempts: false,
        eviction_blockers: Default::default(),
        unreachable_toleration: Some(crate::control::nodelifecycle::DEFAULT_TOLERATION),
        strategy: Default::default(),
        min_ready: SimTime::ZERO,
        progress_deadline: super::rollout::DEFAULT_PROGRESS_DEADLINE,
        auto_rollback: false,
        revisions: vec![crate::scenario::model::Revision {
            image: "registry.k8s.io/pause:3.10".to_string(),
            startup: SimTime::from_secs(1),
            crash_on_start: 0.0,
        }],
        crash_mtbf: None,
        pre_stop: SimTime::ZERO,
        liveness: None,
        readiness: None,
        node_affinity: Default::default(),
        pod_affinity: Default::default(),
        host_ports: Vec::new(),
        node_name: None,
        spread: Vec::new(),
        hpa: None,
    })
}

/// A DaemonSet: one pod with these requests on every node of its pools.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DaemonSetFile {
    /// Name, for messages.
    pub name: Spanned<String>,
    /// The pod's requests: `{cpu, memory}`.
    #[serde(default)]
    pub requests: BTreeMap<String, Spanned<super::quantity::Quantity>>,
    /// Pools it runs on (default: every pool).
    pub pools: Option<Vec<Spanned<String>>>,
}

/// Adds each DaemonSet's pod to the pools it runs on; a node it leaves no room on is an
/// error.
pub(super) fn apply_daemon_sets(
    cx: &mut Ctx,
    sets: &[DaemonSetFile],
    pools: &mut [crate::scenario::model::PoolSpec],
) {
    use super::validate::quantity;
    let names: Vec<String> = pools.iter().map(|p| p.name.clone()).collect();
    for (i, d) in sets.iter().enumerate() {
        let f = format!("cluster.daemonSets[{i}]");
        let mut cpu = 0;
        let mut memory = 0;
        for (k, q) in &d.requests {
            match k.as_str() {
                "cpu" => cpu = quantity(cx, q, &format!("{f}.requests.cpu"), true).unwrap_or(0),
                "memory" => {
                    memory = quantity(cx, q, &format!("{f}.requests.memory"), false).unwrap_or(0)
                }
                _ => cx.err(
                    loc(q),
                    format!("{f}.requests.{k}"),
                    "expected cpu or memory",
                ),
            }
        }
        let mut targets = vec![true; pools.len()];
        if let Some(list) = &d.pools {
            targets = vec![false; pools.len()];
            for n in list {
                match names.iter().position(|p| *p == n.value) {
                    Some(p) => targets[p] = true,
                    None => {
                        let hint = did_you_mean(&n.value, names.iter().map(String::as_str));
                        cx.err(
                            loc(n),
                            format!("{f}.pools"),
                            format!("no pool named `{}`{hint}", n.value),
                        );
                    }
                }
            }
        }
        for (p, pool) in pools.iter_mut().enumerate().filter(|(p, _)| targets[*p]) {
            pool.daemon_cpu_milli += cpu;
            pool.daemon_memory_bytes += memory;
            pool.daemon_pods += 1;
            if pool.daemon_cpu_milli > pool.cpu_milli
                || pool.daemon_memory_bytes > pool.memory_bytes
                || pool.daemon_pods >= pool.max_pods
            {
                cx.err(
                    loc(&d.name),
                    &f,
                    format!("`{}` leaves no room on pool {}'s nodes (its DaemonSets need more than the node's allocatable)", d.name.value, names[p]),
                );
            }
        }
    }
}

/// The managed control plane's fee per hour when the scenario names none: EKS and GKE
/// charge $0.10 per cluster-hour (standard support; GKE's free-tier credit is not applied),
/// AKS's free tier and OKE's basic clusters nothing.
pub fn default_control_plane_fee(provider: &str) -> f64 {
    match provider {
        "aws" | "gcp" => 0.10,
        _ => 0.0,
    }
}

/// `cluster.controlPlane.pricePerHour`, or the default of the pools' provider (nothing when
/// the pools are custom or come from several clouds).
pub(super) fn control_plane_fee(
    cx: &mut Ctx,
    cp: Option<&super::file::ControlPlaneFile>,
    pools: &[crate::scenario::model::PoolSpec],
) -> f64 {
    if let Some(p) = cp.and_then(|c| c.price_per_hour.as_ref()) {
        if p.value.is_finite() && p.value >= 0.0 {
            return p.value;
        }
        cx.err(
            loc(p),
            "cluster.controlPlane.pricePerHour",
            format!("{} must be a price of 0 or more", p.value),
        );
        return 0.0;
    }
    let mut providers = pools.iter().map(|p| p.provider.as_str());
    match providers.next() {
        Some(first) if providers.all(|p| p == first) => default_control_plane_fee(first),
        _ => 0.0,
    }
}
