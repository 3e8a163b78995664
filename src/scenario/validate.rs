//! Checks a parsed [`ScenarioFile`] and turns it into a typed [`Scenario`].
//!
//! All problems are collected (not just the first) and each names the file, the YAML
//! location of the offending value when the parser recorded it, the field path, and what
//! was expected. Defaults follow upstream Kubernetes where it has one (replicas 1,
//! requests defaulted from limits, the scheduler's non-zero request defaults).

use super::error::{InputError, InputErrors};
use super::file::*;
use super::model::*;
use super::quantity::Quantity;
use super::suggest::did_you_mean;
use crate::cluster::catalog::Catalog;
use crate::engine::SimTime;
use serde_saphyr::{Location, Spanned};
use std::collections::BTreeSet;
use std::path::Path;

/// Default interval of metric samples (the metrics-server resolution upstream HPA sees).
pub const DEFAULT_METRICS_TICK: SimTime = SimTime::from_secs(15);
/// Default bind-to-Ready time of a pod.
pub const DEFAULT_STARTUP: SimTime = SimTime::from_secs(10);
/// Default request timeout (a common ingress/client default).
pub const DEFAULT_TIMEOUT: SimTime = SimTime::from_secs(30);
/// Default Ready → routed delay: kube-proxy's `--iptables-min-sync-period` default (1 s).
pub const DEFAULT_ENDPOINT_DELAY: SimTime = SimTime::from_secs(1);
/// Default seed when neither the file nor `--seed` gives one.
pub const DEFAULT_SEED: u64 = 1;
/// Upstream `DefaultMilliCPURequest` (pkg/scheduler/util/pod_resources.go): 100m.
pub const NON_ZERO_CPU_MILLI: u64 = 100;
/// Upstream `DefaultMemoryRequest`: 200 MiB.
pub const NON_ZERO_MEMORY_BYTES: u64 = 200 * 1024 * 1024;
/// Most nodes one pool may start with.
pub const MAX_POOL_NODES: i64 = 100_000;
/// Most replicas one workload may ask for.
pub const MAX_REPLICAS: i64 = 1_000_000;

pub(super) struct Ctx<'a> {
    pub(super) file: &'a str,
    pub(super) base_dir: &'a Path,
    pub(super) errors: Vec<InputError>,
    /// Names of the resources beyond cpu and memory, by id (ephemeral-storage, extended).
    resources: Vec<String>,
    /// Known images (normalized name, size), by id.
    images: Vec<(String, u64)>,
    /// Trace files already read, by path and read options.
    pub(super) traces:
        std::collections::BTreeMap<String, std::sync::Arc<crate::traffic::trace::TraceData>>,
}

/// What kind of resource a name beyond cpu, memory and pods is, as upstream classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExtraKind {
    /// `ephemeral-storage` or `hugepages-<size>`: requests may be below limits.
    Native,
    /// A domain-prefixed name such as `nvidia.com/gpu`: integers, requests equal limits.
    Extended,
}

fn extra_kind(name: &str) -> Option<ExtraKind> {
    if name == "ephemeral-storage" || name.starts_with("hugepages-") {
        Some(ExtraKind::Native)
    } else if name.contains('/') && !name.starts_with("kubernetes.io/") && !name.ends_with('/') {
        Some(ExtraKind::Extended)
    } else {
        None
    }
}

impl Ctx<'_> {
    /// The id of a known image (one listed under `images`), by any spelling of its name.
    fn image_id(&self, name: &str) -> Option<u32> {
        let name = super::model::normalized_image_name(name);
        self.images
            .iter()
            .position(|(n, _)| *n == name)
            .map(|i| i as u32)
    }

    /// The id of a resource name beyond cpu and memory, registered on first use.
    fn resource_id(&mut self, name: &str) -> u16 {
        match self.resources.iter().position(|r| r == name) {
            Some(i) => i as u16,
            None => {
                self.resources.push(name.to_string());
                (self.resources.len() - 1) as u16
            }
        }
    }

    pub(super) fn err(
        &mut self,
        loc: Option<Location>,
        field: impl AsRef<str>,
        msg: impl Into<String>,
    ) {
        self.errors
            .push(InputError::at(self.file, loc, field.as_ref(), msg));
    }
}

/// Where a parsed value sits in its file, for error messages.
pub fn loc<T>(s: &Spanned<T>) -> Option<Location> {
    Some(s.referenced)
}

/// Validates `raw` read from `file`; relative trace paths resolve against `base_dir`.
pub fn validate(
    raw: ScenarioFile,
    file: &str,
    base_dir: &Path,
    catalog: &Catalog,
) -> Result<Scenario, InputErrors> {
    let mut cx = Ctx {
        file,
        base_dir,
        errors: Vec::new(),
        resources: Vec::new(),
        images: Vec::new(),
        traces: std::collections::BTreeMap::new(),
    };
    for (i, img) in raw.images.iter().enumerate() {
        let name = super::model::normalized_image_name(&img.name);
        if let Some(size) = quantity(&mut cx, &img.size, &format!("images[{i}].size"), false)
            && !cx.images.iter().any(|(n, _)| *n == name)
        {
            cx.images.push((name, size));
        }
    }
    if let Some(v) = &raw.api_version
        && v.value != "kubesim/v1"
    {
        cx.err(
            loc(v),
            "apiVersion",
            format!("`{}` is not supported (expected kubesim/v1)", v.value),
        );
    }
    if let Some(k) = &raw.kind
        && k.value != "Scenario"
    {
        cx.err(
            loc(k),
            "kind",
            format!("`{}` is not a scenario (expected Scenario)", k.value),
        );
    }
    check_name(&mut cx, &raw.name, "name");
    let duration = raw.duration.value.time();
    if duration == SimTime::ZERO {
        cx.err(loc(&raw.duration), "duration", "must be longer than 0s");
    } else if duration > SimTime::from_secs(366 * 86_400) {
        cx.err(loc(&raw.duration), "duration", "must be at most 366d");
    }
    let metrics_tick = match &raw.metrics_tick {
        None => DEFAULT_METRICS_TICK,
        Some(t) => {
            let v = t.value.time();
            if v < SimTime::from_secs(1) {
                cx.err(loc(t), "metricsTick", "must be at least 1s");
            } else if duration > SimTime::ZERO && v > duration {
                cx.err(loc(t), "metricsTick", "must not be longer than duration");
            }
            v
        }
    };

    let limits = validate_limits(&mut cx, raw.limits.as_ref());
    let mut pools = validate_pools(&mut cx, &raw.cluster, catalog, raw.karpenter.is_some());
    let karpenter =
        super::karpenter::validate_karpenter(&mut cx, raw.karpenter.as_ref(), catalog, &mut pools);
    if let (Some(k), Some(_)) = (&raw.karpenter, &raw.cluster_autoscaler) {
        cx.err(
            loc(&k.node_pools),
            "karpenter",
            "a scenario runs either the cluster autoscaler or Karpenter, not both (remove one of clusterAutoscaler and karpenter)",
        );
    }
    super::capacity::apply_daemon_sets(&mut cx, &raw.cluster.daemon_sets, &mut pools);
    let mut workloads = validate_workloads(
        &mut cx,
        &raw.workloads,
        duration,
        &limits,
        &raw.persistent_volumes,
    );
    super::traffic::validate_calls(&mut cx, &raw.workloads.value, &mut workloads);
    let hpa_controller =
        super::autoscaling::validate_controllers(&mut cx, raw.controllers.as_ref());
    let pool_names: Vec<String> = pools.iter().map(|p| p.name.clone()).collect();
    let cluster_autoscaler =
        super::capacity::validate_autoscaler(&mut cx, raw.cluster_autoscaler.as_ref(), &pool_names);
    super::autoscaling::validate_hpas(
        &mut cx,
        &raw.workloads.value,
        &mut workloads,
        &hpa_controller,
        &raw.metric_aliases,
    );
    let request_model = keyword_or(
        &mut cx,
        raw.request_model.as_ref(),
        "requestModel",
        "requestModel",
        &[
            ("fluid", RequestModel::Fluid),
            ("exact", RequestModel::Exact),
        ],
        RequestModel::Fluid,
    );
    let endpoint_delay = match &raw.cluster.endpoint_delay {
        None => DEFAULT_ENDPOINT_DELAY,
        Some(d) if d.value.time() > SimTime::from_secs(600) => {
            cx.err(loc(d), "cluster.endpointDelay", "must be at most 10m");
            DEFAULT_ENDPOINT_DELAY
        }
        Some(d) => d.value.time(),
    };
    let slo = raw
        .slo
        .as_ref()
        .and_then(|s| super::traffic::validate_slo(&mut cx, s));
    let scheduler = super::scheduling::validate_scheduler(&mut cx, raw.scheduler.as_ref());
    let priorities = super::scheduling::validate_priority_classes(&mut cx, &raw.priority_classes);
    let disruption_budgets =
        super::scheduling::validate_disruption_budgets(&mut cx, &raw.pod_disruption_budgets);
    for (i, (w, spec)) in raw
        .workloads
        .value
        .iter()
        .zip(workloads.iter_mut())
        .enumerate()
    {
        super::scheduling::apply_pod_scheduling(
            &mut cx,
            &w.template.spec,
            &format!("workloads[{i}]"),
            &priorities,
            spec,
        );
        super::rollout::apply_rollout_settings(&mut cx, w, &format!("workloads[{i}]"), spec);
    }
    let zones: Vec<String> = {
        let mut z: Vec<String> = pools.iter().flat_map(|p| p.zones.iter().cloned()).collect();
        z.sort();
        z.dedup();
        z
    };
    let faults = super::faults::validate_faults(
        &mut cx,
        &raw.faults,
        &pools.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
        &zones,
        duration,
        &mut workloads,
    );
    if let Some(h) = &raw.headroom
        && let Some(w) = super::capacity::headroom_workload(&mut cx, h, &pools, &workloads)
    {
        workloads.push(w);
    }
    let control_plane_usd_per_hour =
        super::capacity::control_plane_fee(&mut cx, raw.cluster.control_plane.as_ref(), &pools);
    if cx.errors.is_empty() {
        // Only meaningful when pools and pods parsed cleanly; otherwise it repeats them.
        check_fit(&mut cx, &raw.workloads.value, &workloads, &pools);
    }

    if !cx.errors.is_empty() {
        return Err(InputErrors(cx.errors));
    }
    Ok(Scenario {
        name: raw.name.value,
        description: raw.description.unwrap_or_default(),
        source: file.to_string(),
        source_text: String::new(),
        overrides: Vec::new(),
        duration,
        seed: raw.seed.unwrap_or(DEFAULT_SEED),
        request_model,
        endpoint_delay,
        control_plane_usd_per_hour,
        metrics_tick,
        warm_start: raw.warm_start.unwrap_or(true),
        pools,
        workloads,
        slo,
        disruption_budgets,
        extra_resources: cx.resources,
        images: cx.images,
        scheduler,
        limits,
        hpa_controller,
        cluster_autoscaler,
        karpenter,
        faults,
    })
}

/// Names become folder names and CSV cells: keep them to DNS-label-like characters.
fn check_name(cx: &mut Ctx, name: &Spanned<String>, field: &str) {
    let v = &name.value;
    if v.is_empty() {
        cx.err(loc(name), field, "must not be empty");
    } else if v.len() > 63
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        cx.err(
            loc(name),
            field,
            format!(
                "`{v}` is not a valid name (expected at most 63 letters, digits, '-', '_' or '.')"
            ),
        );
    }
}

fn check_unique(cx: &mut Ctx, names: &[&Spanned<String>], list: &str) {
    let mut seen = BTreeSet::new();
    for (i, n) in names.iter().enumerate() {
        if !seen.insert(n.value.as_str()) {
            cx.err(
                loc(n),
                format!("{list}[{i}].name"),
                format!("`{}` is used twice (names must be unique)", n.value),
            );
        }
    }
}

pub(super) fn count_in(cx: &mut Ctx, v: &Spanned<i64>, field: &str, min: i64, max: i64) -> u32 {
    if v.value < min || v.value > max {
        let what = if v.value < 0 {
            "must be 0 or more".to_string()
        } else {
            format!("must be between {min} and {max}")
        };
        let what = if v.value < min && min > 0 {
            format!("must be at least {min}")
        } else {
            what
        };
        cx.err(loc(v), field, format!("{} {what}", v.value));
        return 0;
    }
    v.value as u32
}

fn validate_limits(cx: &mut Ctx, raw: Option<&LimitsFile>) -> Limits {
    let mut limits = Limits::default();
    if let Some(l) = raw {
        if let Some(p) = &l.max_pods {
            limits.max_pods = count_in(cx, p, "limits.maxPods", 1, 10_000_000);
        }
        if let Some(e) = &l.max_events {
            if e.value < 1_000 {
                cx.err(
                    loc(e),
                    "limits.maxEvents",
                    format!("{} must be at least 1000", e.value),
                );
            } else {
                limits.max_events = e.value as u64;
            }
        }
    }
    limits
}

fn validate_pools(
    cx: &mut Ctx,
    cluster: &ClusterFile,
    catalog: &Catalog,
    karpenter: bool,
) -> Vec<PoolSpec> {
    if cluster.pools.value.is_empty() && !karpenter {
        cx.err(
            loc(&cluster.pools),
            "cluster.pools",
            "no node pools (expected at least one pool with nodes)",
        );
        return Vec::new();
    }
    check_unique(
        cx,
        &cluster
            .pools
            .value
            .iter()
            .map(|p| &p.name)
            .collect::<Vec<_>>(),
        "cluster.pools",
    );
    let mut pools = Vec::new();
    for (i, p) in cluster.pools.value.iter().enumerate() {
        let f = format!("cluster.pools[{i}]");
        check_name(cx, &p.name, &format!("{f}.name"));
        let mut spec = PoolSpec {
            name: p.name.value.clone(),
            instance_type: "custom".to_string(),
            cpu_milli: 0,
            memory_bytes: 0,
            cpu_capacity_milli: 0,
            memory_capacity_bytes: 0,
            max_pods: 110,
            price_usd_per_hour: 0.0,
            zones: p
                .zones
                .clone()
                .unwrap_or_else(|| vec!["zone-a".to_string()]),
            count: 0,
            min: 0,
            max: 0,
            labels: p
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            taints: Vec::new(),
            node_names: Vec::new(),
            extra_allocatable: Vec::new(),
            images: p
                .images
                .iter()
                .filter_map(|name| cx.image_id(name))
                .collect(),
            provisioning: Provisioning::default(),
            spot: None,
            daemon_cpu_milli: 0,
            daemon_memory_bytes: 0,
            daemon_pods: 0,
            billing_minimum: SimTime::ZERO,
            karpenter: None,
            failures: None,
            provider: String::new(),
            capacity_type: Default::default(),
        };
        let mut spot_price = None;
        let mut provider = p
            .provider
            .as_ref()
            .map_or("", |s| s.value.as_str())
            .to_string();
        spec.provisioning = super::capacity::validate_provisioning(cx, p.provisioning.as_ref(), &f);
        if let Some(t) = &p.instance_type {
            let wanted = p.provider.as_ref().map(|s| s.value.as_str());
            let found = catalog.find(&t.value, wanted);
            match found.as_slice() {
                [it] => {
                    spec.instance_type = it.name.to_string();
                    spec.cpu_milli = u64::from(it.vcpu) * 1000;
                    spec.memory_bytes = (it.memory_gib * 1024.0 * 1024.0 * 1024.0) as u64;
                    spec.max_pods = it.max_pods;
                    spec.price_usd_per_hour = it.price_usd_per_hour;
                    spot_price = it.spot_price_usd_per_hour;
                    provider = it.provider.to_string();
                }
                [] => {
                    let hint = did_you_mean(&t.value, catalog.names());
                    cx.err(
                        loc(t),
                        format!("{f}.instanceType"),
                        format!(
                            "`{}` is not in the built-in catalog{hint} (see `data/instance-types.csv`, or give cpu, memory and pricePerHour instead)",
                            t.value
                        ),
                    );
                }
                _ => cx.err(
                    loc(t),
                    format!("{f}.instanceType"),
                    format!(
                        "`{}` is offered by several providers; set `provider`",
                        t.value
                    ),
                ),
            }
        } else if p.cpu.is_none() || p.memory.is_none() {
            cx.err(
                loc(&p.name),
                &f,
                "a pool needs either instanceType or both cpu and memory (with pricePerHour for costs)",
            );
        }
        if let Some(c) = &p.cpu
            && let Some(v) = quantity(cx, c, &format!("{f}.cpu"), true)
        {
            spec.cpu_milli = v;
        }
        if let Some(m) = &p.memory
            && let Some(v) = quantity(cx, m, &format!("{f}.memory"), false)
        {
            spec.memory_bytes = v;
        }
        if (p.cpu.is_some() && spec.cpu_milli == 0)
            || (p.memory.is_some() && spec.memory_bytes == 0)
        {
            cx.err(loc(&p.name), &f, "cpu and memory must be more than 0");
        }
        if let Some(mp) = &p.max_pods {
            spec.max_pods = count_in(cx, mp, &format!("{f}.maxPods"), 1, 1000);
        }
        for (name, q) in &p.allocatable {
            let af = format!("{f}.allocatable.{name}");
            if matches!(name.as_str(), "cpu" | "memory" | "pods") {
                let key = if name == "pods" {
                    "maxPods"
                } else {
                    name.as_str()
                };
                cx.err(loc(q), af, format!("set `{key}` on the pool instead"));
            } else if extra_kind(name).is_none() {
                cx.err(loc(q), af, format!("`{name}` is not a resource the scheduler knows (expected ephemeral-storage, hugepages-<size> or an extended resource such as nvidia.com/gpu)"));
            } else if let Some(v) = quantity(cx, q, &af, false) {
                let id = cx.resource_id(name);
                spec.extra_allocatable.push((id, v));
            }
        }
        spec.cpu_capacity_milli = spec.cpu_milli;
        spec.memory_capacity_bytes = spec.memory_bytes;
        let reservations = match &p.reservations {
            None => true,
            Some(r) => keyword(
                cx,
                r,
                &format!("{f}.reservations"),
                "reservations",
                &[("provider", true), ("none", false)],
            )
            .unwrap_or(true),
        };
        // Explicit cpu and memory are allocatable as given; catalog capacity loses the
        // provider's reservations.
        if reservations && p.cpu.is_none() && p.memory.is_none() && p.instance_type.is_some() {
            use crate::cluster::allocatable::{Reservations, allocatable};
            (spec.cpu_milli, spec.memory_bytes) = allocatable(
                Reservations::for_provider(&provider),
                spec.cpu_capacity_milli,
                spec.memory_capacity_bytes,
                spec.max_pods,
                &spec.instance_type,
            );
        }
        spec.spot = super::capacity::validate_spot(cx, p, &f, &provider);
        if spec.spot.is_some() {
            spec.capacity_type = super::model::CapacityType::Spot;
        }
        spec.provider = provider.clone();
        spec.failures = super::faults::validate_node_failures(cx, p.failures.as_ref(), &f);
        // AWS (Linux), GCP and OCI bill per second after a 1-minute minimum; Azure per
        // minute. A custom pool has no provider minimum.
        if !provider.is_empty() {
            spec.billing_minimum = SimTime::from_secs(60);
        }
        if spec.spot.is_some() && p.price_per_hour.is_none() {
            match spot_price {
                Some(sp) => spec.price_usd_per_hour = sp,
                None => cx.err(
                    p.capacity_type.as_ref().and_then(loc),
                    format!("{f}.pricePerHour"),
                    "the catalog has no spot price for this instance type; give pricePerHour",
                ),
            }
        }
        if let Some(price) = &p.price_per_hour {
            if !price.value.is_finite() || price.value < 0.0 {
                cx.err(
                    loc(price),
                    format!("{f}.pricePerHour"),
                    format!("{} must be a price of 0 or more", price.value),
                );
            } else {
                spec.price_usd_per_hour = price.value;
            }
        }
        if spec.zones.is_empty() || spec.zones.iter().any(|z| z.is_empty()) {
            cx.err(
                loc(&p.name),
                format!("{f}.zones"),
                "zones must be non-empty names (omit the key for one default zone)",
            );
        }
        spec.count = count_in(cx, &p.count, &format!("{f}.count"), 0, MAX_POOL_NODES);
        spec.min = p.min.as_ref().map_or(spec.count, |m| {
            count_in(cx, m, &format!("{f}.min"), 0, MAX_POOL_NODES)
        });
        spec.max = p.max.as_ref().map_or(spec.count, |m| {
            count_in(cx, m, &format!("{f}.max"), 0, MAX_POOL_NODES)
        });
        if spec.min > spec.count || spec.count > spec.max {
            cx.err(
                loc(&p.count),
                format!("{f}.count"),
                format!(
                    "count {} must lie within min {} and max {}",
                    spec.count, spec.min, spec.max
                ),
            );
        }
        for (j, t) in p.taints.iter().enumerate() {
            if let Some(effect) = taint_effect(cx, &t.effect, &format!("{f}.taints[{j}].effect")) {
                spec.taints.push(Taint {
                    key: t.key.clone(),
                    value: t.value.clone(),
                    effect,
                });
            }
        }
        pools.push(spec);
    }
    if !karpenter && !pools.is_empty() && pools.iter().all(|p| p.count == 0 && p.max == 0) {
        cx.err(
            loc(&cluster.pools),
            "cluster.pools",
            "every pool has count 0 (expected at least one node at the start)",
        );
    }
    pools
}

/// Maps a keyword to its value; an unknown one is reported as
/// "unknown {what} `x`; did you mean `y`? (expected one of: a, b)".
pub(super) fn keyword<T: Copy>(
    cx: &mut Ctx,
    s: &Spanned<String>,
    field: &str,
    what: &str,
    allowed: &[(&str, T)],
) -> Option<T> {
    if let Some((_, v)) = allowed.iter().find(|(name, _)| *name == s.value) {
        return Some(*v);
    }
    let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
    let hint = did_you_mean(&s.value, names.iter().copied());
    cx.err(
        loc(s),
        field,
        format!(
            "unknown {what} `{}`{hint} (expected one of: {})",
            s.value,
            names.join(", ")
        ),
    );
    None
}

/// A keyword that may be absent, with a default.
pub(super) fn keyword_or<T: Copy>(
    cx: &mut Ctx,
    s: Option<&Spanned<String>>,
    field: &str,
    what: &str,
    allowed: &[(&str, T)],
    default: T,
) -> T {
    s.and_then(|s| keyword(cx, s, field, what, allowed))
        .unwrap_or(default)
}

pub(super) fn taint_effect(cx: &mut Ctx, e: &Spanned<String>, field: &str) -> Option<TaintEffect> {
    let effects = [
        ("NoSchedule", TaintEffect::NoSchedule),
        ("PreferNoSchedule", TaintEffect::PreferNoSchedule),
        ("NoExecute", TaintEffect::NoExecute),
    ];
    keyword(cx, e, field, "effect", &effects)
}

/// Converts a quantity to milli-units (`milli`) or base units, reporting errors at its spot.
pub(super) fn quantity(
    cx: &mut Ctx,
    q: &Spanned<Quantity>,
    field: &str,
    milli: bool,
) -> Option<u64> {
    let r = if milli {
        q.value.non_negative_milli_value()
    } else {
        q.value.non_negative_value()
    };
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            cx.err(loc(q), field, e.to_string());
            None
        }
    }
}

/// Topology labels VolumeZone reads from a PersistentVolume (upstream `volume_zone.go`).
const VOLUME_TOPOLOGY_LABELS: [&str; 4] = [
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
];

/// The zone/region constraints of the volumes a pod's claims are bound to.
fn volume_zones(
    cx: &mut Ctx,
    spec: &PodSpecFile,
    f: &str,
    volumes: &[super::file::PersistentVolumeFile],
) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for (i, v) in spec.volumes.iter().enumerate() {
        let Some(claim) = &v.persistent_volume_claim else {
            continue;
        };
        let Some(pv) = volumes
            .iter()
            .find(|pv| pv.claim.value == claim.claim_name.value)
        else {
            let names: Vec<&str> = volumes.iter().map(|pv| pv.claim.value.as_str()).collect();
            let hint = did_you_mean(&claim.claim_name.value, names.iter().copied());
            cx.err(
                loc(&claim.claim_name),
                format!("{f}.template.spec.volumes[{i}].persistentVolumeClaim.claimName"),
                format!(
                    "no PersistentVolume is bound to claim `{}`{hint} (add one under persistentVolumes with `claim: {}`)",
                    claim.claim_name.value, claim.claim_name.value
                ),
            );
            continue;
        };
        for key in VOLUME_TOPOLOGY_LABELS {
            if let Some(value) = pv.labels.get(key) {
                // `LabelZonesToSet`: several zones joined by "__".
                let values = value.split("__").map(|z| z.trim().to_string()).collect();
                out.push((key.to_string(), values));
            }
        }
    }
    out
}

fn validate_workloads(
    cx: &mut Ctx,
    spanned: &Spanned<Vec<WorkloadFile>>,
    duration: SimTime,
    limits: &Limits,
    volumes: &[super::file::PersistentVolumeFile],
) -> Vec<WorkloadSpec> {
    let raw = &spanned.value;
    if raw.is_empty() {
        cx.err(
            loc(spanned),
            "workloads",
            "no workloads (expected at least one)",
        );
    }
    check_unique(
        cx,
        &raw.iter().map(|w| &w.name).collect::<Vec<_>>(),
        "workloads",
    );
    let mut total_replicas: u64 = 0;
    let mut out = Vec::new();
    for (i, w) in raw.iter().enumerate() {
        let f = format!("workloads[{i}]");
        check_name(cx, &w.name, &format!("{f}.name"));
        let replicas = match &w.replicas {
            None => 1,
            Some(r) => count_in(cx, r, &format!("{f}.replicas"), 0, MAX_REPLICAS),
        };
        total_replicas += u64::from(replicas);
        let labels: Vec<(String, String)> = w
            .template
            .metadata
            .as_ref()
            .map(|m| {
                m.labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_else(|| vec![("app".to_string(), w.name.value.clone())]);
        if let Some(sel) = &w.selector {
            for (k, v) in &sel.match_labels {
                if !labels.iter().any(|(lk, lv)| lk == k && lv == v) {
                    cx.err(
                        loc(&w.name),
                        format!("{f}.selector.matchLabels"),
                        format!("`{k}: {v}` does not match the template labels (upstream rejects a selector that does not select its template)"),
                    );
                }
            }
        }
        let resources = pod_resources(cx, &w.template.spec, &f);
        let node_selector = w
            .template
            .spec
            .node_selector
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut tolerations = Vec::new();
        let mut unreachable_seconds: Vec<Option<SimTime>> = Vec::new();
        for (j, t) in w.template.spec.tolerations.iter().enumerate() {
            let tf = format!("{f}.template.spec.tolerations[{j}]");
            let exists = keyword_or(
                cx,
                t.operator.as_ref(),
                &format!("{tf}.operator"),
                "operator",
                &[("Equal", false), ("Exists", true)],
                false,
            );
            let effect = t.effect.as_ref().and_then(|e| {
                if e.value.is_empty() {
                    None
                } else {
                    taint_effect(cx, e, &format!("{tf}.effect"))
                }
            });
            let toleration = Toleration {
                key: t.key.clone(),
                exists,
                value: t.value.clone(),
                effect,
            };
            // The taint manager's clock for unreachable nodes (getMinTolerationTime).
            let unreachable = Taint {
                key: "node.kubernetes.io/unreachable".to_string(),
                value: String::new(),
                effect: TaintEffect::NoExecute,
            };
            if toleration.tolerates(&unreachable) {
                let secs = t
                    .toleration_seconds
                    .map(|s| SimTime::from_secs(s.max(0) as u64));
                unreachable_seconds.push(secs);
            }
            tolerations.push(toleration);
        }
        let unreachable_toleration = if unreachable_seconds.is_empty() {
            Some(crate::control::nodelifecycle::DEFAULT_TOLERATION)
        } else {
            unreachable_seconds.iter().flatten().min().copied()
        };
        let startup = w
            .startup_time
            .as_ref()
            .map_or(DEFAULT_STARTUP, |s| s.value.time());
        let create_at = w.create_at.as_ref().map_or(SimTime::ZERO, |c| {
            let t = c.value.time();
            if t >= duration && duration > SimTime::ZERO {
                cx.err(
                    loc(c),
                    format!("{f}.createAt"),
                    "must be before the end of the run (duration)",
                );
            }
            t
        });
        let service = super::traffic::validate_service(cx, w, &f);
        let traffic = super::traffic::validate_traffic(cx, &w.traffic, &f, duration);
        if !w.traffic.is_empty() && w.service.is_none() {
            cx.err(
                loc(&w.name),
                format!("{f}.service"),
                "a workload with traffic needs a service model (cpuPerRequest, concurrency, timeout)",
            );
        }
        let arrivals = keyword_or(
            cx,
            w.arrivals.as_ref(),
            &format!("{f}.arrivals"),
            "arrivals",
            &[("poisson", Arrivals::Poisson), ("fluid", Arrivals::Fluid)],
            Arrivals::Poisson,
        );
        out.push(WorkloadSpec {
            name: w.name.value.clone(),
            replicas,
            labels,
            cpu_request_milli: resources.cpu_request,
            memory_request_bytes: resources.memory_request,
            cpu_nonzero_milli: resources.cpu_nonzero,
            memory_nonzero_bytes: resources.memory_nonzero,
            cpu_limit_milli: resources.cpu_limit,
            memory_limit_bytes: resources.memory_limit,
            node_selector,
            tolerations,
            startup,
            create_at,
            extra_requests: resources.extra,
            volume_zones: volume_zones(cx, &w.template.spec, &f, volumes),
            containers: w.template.spec.containers.len() as u32,
            container_requests: resources.containers.clone(),
            images: w
                .template
                .spec
                .containers
                .iter()
                .filter_map(|c| c.image.as_deref().and_then(|i| cx.image_id(i)))
                .collect(),
            service,
            traffic,
            arrivals,
            calls: Vec::new(),
            priority: 0,
            preempts: true,
            unreachable_toleration,
            strategy: Default::default(),
            min_ready: SimTime::ZERO,
            progress_deadline: super::rollout::DEFAULT_PROGRESS_DEADLINE,
            auto_rollback: false,
            revisions: Vec::new(),
            crash_mtbf: None,
            pre_stop: SimTime::ZERO,
            liveness: None,
            readiness: None,
            eviction_blockers: {
                let a = w.template.metadata.as_ref().map(|m| &m.annotations);
                let is = |k: &str, v: &str| a.is_some_and(|a| a.get(k).is_some_and(|x| x == v));
                EvictionBlockers {
                    not_safe_to_evict: is(
                        "cluster-autoscaler.kubernetes.io/safe-to-evict",
                        "false",
                    ),
                    do_not_disrupt: is("karpenter.sh/do-not-disrupt", "true"),
                }
            },
            node_affinity: Default::default(),
            pod_affinity: Default::default(),
            host_ports: Vec::new(),
            node_name: None,
            spread: Vec::new(),
            hpa: None,
        });
    }
    if total_replicas > u64::from(limits.max_pods) {
        cx.err(
            loc(spanned),
            "workloads",
            format!("{total_replicas} replicas in total exceed limits.maxPods = {} (raise the limit if this is intended)", limits.max_pods),
        );
    }
    out
}

struct PodResources {
    /// Requests of resources beyond cpu and memory: (resource id, amount).
    extra: Vec<(u16, u64)>,
    cpu_request: u64,
    memory_request: u64,
    cpu_nonzero: u64,
    memory_nonzero: u64,
    cpu_limit: Option<u64>,
    memory_limit: Option<u64>,
    containers: Vec<ContainerRequests>,
}

/// Sums container requests and limits as upstream's `PodRequests` does (no init
/// containers or overhead yet), defaulting a missing request to its limit as the API
/// server does, and computing the scheduler's non-zero request.
fn pod_resources(cx: &mut Ctx, spec: &PodSpecFile, f: &str) -> PodResources {
    let mut r = PodResources {
        extra: Vec::new(),
        cpu_request: 0,
        memory_request: 0,
        cpu_nonzero: 0,
        memory_nonzero: 0,
        cpu_limit: Some(0),
        memory_limit: Some(0),
        containers: Vec::new(),
    };
    if spec.containers.is_empty() {
        cx.err(
            None,
            format!("{f}.template.spec.containers"),
            "no containers (expected at least one)",
        );
    }
    for (c, container) in spec.containers.iter().enumerate() {
        let cf = format!("{f}.template.spec.containers[{c}].resources");
        let empty = ResourcesFile {
            requests: Default::default(),
            limits: Default::default(),
        };
        let res = container.resources.as_ref().unwrap_or(&empty);
        for (kind, map) in [("requests", &res.requests), ("limits", &res.limits)] {
            for (name, q) in map.iter() {
                if name != "cpu" && name != "memory" && extra_kind(name).is_none() {
                    let hint = did_you_mean(name, ["cpu", "memory", "ephemeral-storage"]);
                    cx.err(
                        loc(q),
                        format!("{cf}.{kind}.{name}"),
                        format!(
                            "`{name}` is not a resource the scheduler knows{hint} (expected cpu, memory, ephemeral-storage, hugepages-<size> or an extended resource such as nvidia.com/gpu)"
                        ),
                    );
                }
            }
        }
        // Resources beyond cpu and memory: a missing request takes the limit; extended
        // resources cannot be overcommitted (upstream validation).
        let extra_names: std::collections::BTreeSet<&String> = res
            .requests
            .keys()
            .chain(res.limits.keys())
            .filter(|n| extra_kind(n).is_some())
            .collect();
        for name in extra_names {
            let req_q = res.requests.get(name);
            let lim_q = res.limits.get(name);
            let req = req_q.and_then(|q| quantity(cx, q, &format!("{cf}.requests.{name}"), false));
            let lim = lim_q.and_then(|q| quantity(cx, q, &format!("{cf}.limits.{name}"), false));
            if extra_kind(name) == Some(ExtraKind::Extended) {
                if lim_q.is_none()
                    && let Some(q) = req_q
                {
                    cx.err(loc(q), format!("{cf}.limits.{name}"), format!("missing: `{name}` is an extended resource, which needs a limit equal to its request"));
                } else if let (Some(rq), Some(l), Some(q)) = (req, lim, req_q)
                    && rq != l
                {
                    cx.err(
                        loc(q),
                        format!("{cf}.requests.{name}"),
                        format!(
                            "must equal the limit ({l}): extended resources cannot be overcommitted"
                        ),
                    );
                }
            }
            if let Some(v) = req.or(lim).filter(|&v| v > 0) {
                let id = cx.resource_id(name);
                match r.extra.iter_mut().find(|e| e.0 == id) {
                    Some(e) => e.1 += v,
                    None => r.extra.push((id, v)),
                }
            }
        }
        let get = |cx: &mut Ctx,
                   map: &std::collections::BTreeMap<String, Spanned<Quantity>>,
                   key: &str,
                   kind: &str| {
            map.get(key)
                .and_then(|q| quantity(cx, q, &format!("{cf}.{kind}.{key}"), key == "cpu"))
        };
        let cpu_lim = get(cx, &res.limits, "cpu", "limits");
        let mem_lim = get(cx, &res.limits, "memory", "limits");
        // API-server defaulting: a request left out takes the limit's value.
        let cpu_req = get(cx, &res.requests, "cpu", "requests").or(cpu_lim);
        let mem_req = get(cx, &res.requests, "memory", "requests").or(mem_lim);
        for (req, lim, key) in [(cpu_req, cpu_lim, "cpu"), (mem_req, mem_lim, "memory")] {
            if let (Some(rq), Some(l)) = (req, lim)
                && rq > l
                && let Some(q) = res.requests.get(key)
            {
                cx.err(
                    loc(q),
                    format!("{cf}.requests.{key}"),
                    format!(
                        "must be less than or equal to the {key} limit ({})",
                        res.limits.get(key).map(|s| s.value.as_str()).unwrap_or("")
                    ),
                );
            }
        }
        r.cpu_request += cpu_req.unwrap_or(0);
        r.memory_request += mem_req.unwrap_or(0);
        r.containers.push(ContainerRequests {
            name: container.name.clone(),
            cpu_request_milli: cpu_req.unwrap_or(0),
            memory_request_bytes: mem_req.unwrap_or(0),
        });
        r.cpu_nonzero += cpu_req.unwrap_or(NON_ZERO_CPU_MILLI);
        r.memory_nonzero += mem_req.unwrap_or(NON_ZERO_MEMORY_BYTES);
        r.cpu_limit = r.cpu_limit.zip(cpu_lim).map(|(a, b)| a + b);
        r.memory_limit = r.memory_limit.zip(mem_lim).map(|(a, b)| a + b);
    }
    if spec.containers.is_empty() {
        r.cpu_limit = None;
        r.memory_limit = None;
    }
    r
}

/// A workload whose pod fits on no pool's node would stay Pending forever; say so up
/// front, with each pool's reason in upstream's wording.
fn check_fit(cx: &mut Ctx, raw: &[WorkloadFile], workloads: &[WorkloadSpec], pools: &[PoolSpec]) {
    if pools.is_empty() {
        return;
    }
    for (i, w) in workloads.iter().enumerate() {
        if w.replicas == 0 {
            continue;
        }
        let reasons: Vec<String> = pools
            .iter()
            .map(|p| {
                let why = crate::control::scheduler::static_fit_reasons(w, p, &cx.resources);
                format!(
                    "{}: {}",
                    p.name,
                    if why.is_empty() {
                        "fits".to_string()
                    } else {
                        why.join(", ")
                    }
                )
            })
            .collect();
        let fits_somewhere = pools
            .iter()
            .any(|p| crate::control::scheduler::static_fit_reasons(w, p, &cx.resources).is_empty());
        if !fits_somewhere {
            cx.err(
                raw.get(i).map(|r| r.name.referenced),
                format!("workloads[{i}]"),
                format!(
                    "a `{}` pod (cpu {}m, memory {} bytes) fits no node pool ({})",
                    w.name,
                    w.cpu_request_milli,
                    w.memory_request_bytes,
                    reasons.join("; ")
                ),
            );
        }
    }
}
