//! The `karpenter:` block: NodePools (allowed instance types and capacity types, limits,
//! disruption settings), turned into one scenario pool per instance type × capacity type
//! that Karpenter launches nodes of.

use super::capacity::{ProvisioningFile, default_spot_notice, validate_provisioning};
use super::duration::Duration;
use super::file::TaintFile;
use super::model::{PoolSpec, SpotSpec, Taint};
use super::quantity::Quantity;
use super::suggest::did_you_mean;
use super::validate::{Ctx, count_in, keyword_or, loc, quantity, taint_effect};
use crate::cluster::allocatable::{Reservations, allocatable};
use crate::cluster::catalog::{Catalog, InstanceType};
use crate::control::karpenter::NODEPOOL_LABEL;
use crate::control::karpenter::config::{
    Budget, BudgetNodes, ConsolidationPolicy, DEFAULT_BATCH_IDLE, DEFAULT_BATCH_MAX,
    KarpenterConfig, NodePoolConfig, Reason,
};
use crate::control::karpenter::cron::Cron;
use crate::engine::SimTime;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// `karpenter:` — Karpenter provisions and consolidates the NodePools' nodes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KarpenterFile {
    /// `BATCH_IDLE_DURATION` (1s).
    pub batch_idle_duration: Option<Spanned<Duration>>,
    /// `BATCH_MAX_DURATION` (10s).
    pub batch_max_duration: Option<Spanned<Duration>>,
    /// The `SpotToSpotConsolidation` feature gate (false).
    pub spot_to_spot_consolidation: Option<bool>,
    /// The NodePools.
    pub node_pools: Spanned<Vec<NodePoolFile>>,
}

/// One NodePool, flattened from `karpenter.sh/v1` NodePool + its NodeClass.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodePoolFile {
    /// NodePool name.
    pub name: Spanned<String>,
    /// Cloud provider whose catalog the types come from (aws, gcp, azure, oci).
    pub provider: Spanned<String>,
    /// Allowed instance types; `*` matches any run of characters (`m6i.*`). Default: all
    /// of the provider's.
    pub instance_types: Option<Vec<Spanned<String>>>,
    /// `karpenter.sh/capacity-type` values allowed: `on-demand`, `spot` (default
    /// on-demand only).
    pub capacity_types: Option<Vec<Spanned<String>>>,
    /// Zones its nodes go to (round-robin per instance type).
    pub zones: Option<Vec<String>>,
    /// `spec.weight` (0): higher weights are tried first.
    pub weight: Option<Spanned<i64>>,
    /// `spec.limits`: `cpu`, `memory` over its nodes' capacity.
    #[serde(default)]
    pub limits: BTreeMap<String, Spanned<Quantity>>,
    /// Labels on its nodes.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Taints on its nodes.
    #[serde(default)]
    pub taints: Vec<TaintFile>,
    /// `template.spec.expireAfter` (720h; `Never`).
    pub expire_after: Option<Spanned<String>>,
    /// `spec.disruption`.
    pub disruption: Option<DisruptionFile>,
    /// Time from launch to a Ready node (default median 90s, p90 150s).
    pub provisioning: Option<ProvisioningFile>,
    /// How its spot nodes are interrupted.
    pub spot: Option<KarpenterSpotFile>,
    /// `provider` (default: the managed service's reservations) or `none`.
    pub reservations: Option<Spanned<String>>,
}

/// Spot interruptions of a NodePool's spot nodes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KarpenterSpotFile {
    /// Mean time from a node's start to its interruption (exponential).
    pub mean_time_to_interruption: Option<Spanned<Duration>>,
    /// Notice before termination (default: the provider's).
    pub notice: Option<Spanned<Duration>>,
}

/// `spec.disruption`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DisruptionFile {
    /// `WhenEmpty` or `WhenEmptyOrUnderutilized` (default).
    pub consolidation_policy: Option<Spanned<String>>,
    /// `0s` (default) or a duration, or `Never`.
    pub consolidate_after: Option<Spanned<String>>,
    /// Disruption budgets (default one of 10%).
    pub budgets: Option<Vec<BudgetFile>>,
}

/// One disruption budget.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BudgetFile {
    /// `"10%"` or a count such as `"3"`.
    pub nodes: Spanned<String>,
    /// Reasons it limits: Empty, Underutilized (default: all).
    pub reasons: Option<Vec<Spanned<String>>>,
    /// Cron schedule (UTC) of when it is active; needs `duration`.
    pub schedule: Option<Spanned<String>>,
    /// How long each activation lasts.
    pub duration: Option<Spanned<Duration>>,
}

fn duration_or_never(cx: &mut Ctx, s: &Spanned<String>, field: &str) -> Option<SimTime> {
    if s.value == "Never" {
        return None;
    }
    match Duration::parse(&s.value) {
        Ok(d) => Some(d.time()),
        Err(e) => {
            cx.err(
                loc(s),
                field,
                format!("{e} (expected a duration such as 30s or 720h, or Never)"),
            );
            None
        }
    }
}

/// `*` wildcards over a whole name.
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len()).any(|i| tail.is_char_boundary(i) && glob(rest, &tail[i..]))
        }
    }
}

fn budget(cx: &mut Ctx, b: &BudgetFile, f: &str) -> Option<Budget> {
    let v = b.nodes.value.trim();
    let nodes = if let Some(p) = v.strip_suffix('%') {
        p.parse::<u32>()
            .ok()
            .filter(|&p| p <= 100)
            .map(BudgetNodes::Percent)
    } else {
        v.parse::<u32>().ok().map(BudgetNodes::Count)
    };
    let Some(nodes) = nodes else {
        cx.err(
            loc(&b.nodes),
            format!("{f}.nodes"),
            format!(
                "`{v}` is not a node budget (expected a percentage such as \"10%\" or a count such as \"3\")"
            ),
        );
        return None;
    };
    let mut reasons = Vec::new();
    for (i, r) in b.reasons.iter().flatten().enumerate() {
        let allowed = [
            ("Empty", Reason::Empty),
            ("Underutilized", Reason::Underutilized),
            ("Drifted", Reason::Drifted),
        ];
        if let Some(x) = super::validate::keyword(
            cx,
            r,
            &format!("{f}.reasons[{i}]"),
            "disruption reason",
            &allowed,
        ) {
            reasons.push(x);
        }
    }
    let window = match (&b.schedule, &b.duration) {
        (None, None) => None,
        (Some(s), Some(d)) => match Cron::parse(&s.value) {
            Ok(c) => Some((c, d.value.time())),
            Err(e) => {
                cx.err(loc(s), format!("{f}.schedule"), e);
                None
            }
        },
        (Some(s), None) => {
            cx.err(
                loc(s),
                format!("{f}.duration"),
                "a budget with a schedule needs a duration",
            );
            None
        }
        (None, Some(d)) => {
            cx.err(
                loc(d),
                format!("{f}.schedule"),
                "a budget with a duration needs a schedule",
            );
            None
        }
    };
    Some(Budget {
        nodes,
        reasons,
        window,
    })
}

/// A pool of one catalog instance type for a NodePool.
fn type_pool(np: &NodePoolFile, it: &InstanceType, spot: bool, reserve: bool) -> PoolSpec {
    let capacity = (
        u64::from(it.vcpu) * 1000,
        (it.memory_gib * 1024.0 * 1024.0 * 1024.0) as u64,
    );
    let (cpu, memory) = if reserve {
        allocatable(
            Reservations::for_provider(it.provider),
            capacity.0,
            capacity.1,
            it.max_pods,
            it.name,
        )
    } else {
        capacity
    };
    let capacity_type = if spot { "spot" } else { "on-demand" };
    let mut labels: Vec<(String, String)> = np
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    labels.push((NODEPOOL_LABEL.to_string(), np.name.value.clone()));
    labels.push((
        "karpenter.sh/capacity-type".to_string(),
        capacity_type.to_string(),
    ));
    labels.sort();
    labels.dedup_by(|a, b| a.0 == b.0);
    PoolSpec {
        name: format!(
            "{}-{}{}",
            np.name.value,
            it.name,
            if spot { "-spot" } else { "" }
        ),
        instance_type: it.name.to_string(),
        cpu_milli: cpu,
        memory_bytes: memory,
        cpu_capacity_milli: capacity.0,
        memory_capacity_bytes: capacity.1,
        max_pods: it.max_pods,
        price_usd_per_hour: if spot {
            it.spot_price_usd_per_hour.unwrap_or(it.price_usd_per_hour)
        } else {
            it.price_usd_per_hour
        },
        zones: np
            .zones
            .clone()
            .unwrap_or_else(|| vec!["zone-a".to_string()]),
        count: 0,
        min: 0,
        max: super::validate::MAX_POOL_NODES as u32,
        labels,
        taints: Vec::new(),
        node_names: Vec::new(),
        extra_allocatable: Vec::new(),
        images: Vec::new(),
        provisioning: Default::default(),
        spot: None,
        daemon_cpu_milli: 0,
        daemon_memory_bytes: 0,
        daemon_pods: 0,
        billing_minimum: SimTime::from_secs(60),
        karpenter: None,
        failures: None,
        provider: it.provider.to_string(),
        capacity_type: if spot {
            super::model::CapacityType::Spot
        } else {
            super::model::CapacityType::OnDemand
        },
    }
}

/// Validates `karpenter:`, appending its pools to `pools`.
pub(super) fn validate_karpenter(
    cx: &mut Ctx,
    raw: Option<&KarpenterFile>,
    catalog: &Catalog,
    pools: &mut Vec<PoolSpec>,
) -> Option<KarpenterConfig> {
    let r = raw?;
    let idle = r
        .batch_idle_duration
        .as_ref()
        .map_or(DEFAULT_BATCH_IDLE, |d| d.value.time());
    let max = r
        .batch_max_duration
        .as_ref()
        .map_or(DEFAULT_BATCH_MAX, |d| d.value.time());
    if let Some(d) = &r.batch_idle_duration
        && (idle < SimTime::from_millis(100) || idle > SimTime::from_secs(600))
    {
        cx.err(
            loc(d),
            "karpenter.batchIdleDuration",
            "must lie within 100ms and 10m",
        );
    }
    if let Some(d) = &r.batch_max_duration
        && (max < idle || max > SimTime::from_secs(3600))
    {
        cx.err(
            loc(d),
            "karpenter.batchMaxDuration",
            "must be at least batchIdleDuration and at most 1h",
        );
    }
    if r.node_pools.value.is_empty() {
        cx.err(
            loc(&r.node_pools),
            "karpenter.nodePools",
            "no NodePools (expected at least one)",
        );
    }
    let mut node_pools = Vec::new();
    for (i, np) in r.node_pools.value.iter().enumerate() {
        let f = format!("karpenter.nodePools[{i}]");
        if node_pools
            .iter()
            .any(|n: &NodePoolConfig| n.name == np.name.value)
        {
            cx.err(
                loc(&np.name),
                format!("{f}.name"),
                format!("NodePool `{}` is defined twice", np.name.value),
            );
        }
        let providers = ["aws", "gcp", "azure", "oci"];
        if !providers.contains(&np.provider.value.as_str()) {
            let hint = did_you_mean(&np.provider.value, providers.iter().copied());
            cx.err(
                loc(&np.provider),
                format!("{f}.provider"),
                format!(
                    "unknown provider `{}`{hint} (expected one of: aws, gcp, azure, oci)",
                    np.provider.value
                ),
            );
            continue;
        }
        let offered: Vec<&InstanceType> = catalog
            .all()
            .iter()
            .filter(|it| it.provider == np.provider.value)
            .collect();
        let mut types: Vec<&InstanceType> = Vec::new();
        match &np.instance_types {
            None => types = offered.clone(),
            Some(patterns) => {
                for (j, p) in patterns.iter().enumerate() {
                    let matched: Vec<&InstanceType> = offered
                        .iter()
                        .copied()
                        .filter(|it| glob(&p.value, it.name))
                        .collect();
                    if matched.is_empty() {
                        let hint = did_you_mean(&p.value, offered.iter().map(|it| it.name));
                        cx.err(
                            loc(p),
                            format!("{f}.instanceTypes[{j}]"),
                            format!(
                                "`{}` matches no {} instance type in the built-in catalog{hint} (see data/instance-types.csv)",
                                p.value, np.provider.value
                            ),
                        );
                    }
                    for it in matched {
                        if !types.iter().any(|t| t.name == it.name) {
                            types.push(it);
                        }
                    }
                }
            }
        }
        let (mut on_demand, mut spot) = (true, false);
        if let Some(cts) = &np.capacity_types {
            on_demand = false;
            for (j, c) in cts.iter().enumerate() {
                match keyword_or(
                    cx,
                    Some(c),
                    &format!("{f}.capacityTypes[{j}]"),
                    "capacity type",
                    &[("on-demand", Some(false)), ("spot", Some(true))],
                    None,
                ) {
                    Some(true) => spot = true,
                    Some(false) => on_demand = true,
                    None => {}
                }
            }
        }
        let reserve = keyword_or(
            cx,
            np.reservations.as_ref(),
            &format!("{f}.reservations"),
            "reservations",
            &[("provider", true), ("none", false)],
            true,
        );
        let provisioning = validate_provisioning(cx, np.provisioning.as_ref(), &f);
        let mut taints = Vec::new();
        for (j, t) in np.taints.iter().enumerate() {
            if let Some(effect) = taint_effect(cx, &t.effect, &format!("{f}.taints[{j}].effect")) {
                taints.push(Taint {
                    key: t.key.clone(),
                    value: t.value.clone(),
                    effect,
                });
            }
        }
        let spot_spec = SpotSpec {
            mean_time_to_interruption: np
                .spot
                .as_ref()
                .and_then(|s| s.mean_time_to_interruption.as_ref())
                .map(|m| m.value.time().max(SimTime::from_secs(60))),
            notice: np
                .spot
                .as_ref()
                .and_then(|s| s.notice.as_ref())
                .map_or(default_spot_notice(&np.provider.value), |n| n.value.time()),
            scheduled: Vec::new(),
        };
        let index = node_pools.len() as u32;
        let mut members = Vec::new();
        for it in &types {
            for is_spot in [false, true] {
                if (is_spot && !spot) || (!is_spot && !on_demand) {
                    continue;
                }
                if is_spot && it.spot_price_usd_per_hour.is_none() {
                    continue; // no spot offering for this type
                }
                let mut pool = type_pool(np, it, is_spot, reserve);
                pool.taints = taints.clone();
                pool.provisioning = provisioning.clone();
                pool.spot = is_spot.then(|| spot_spec.clone());
                pool.karpenter = Some(index);
                members.push(pools.len() as u32);
                pools.push(pool);
            }
        }
        if members.is_empty() && !types.is_empty() {
            cx.err(
                loc(&np.name),
                format!("{f}.capacityTypes"),
                "no allowed instance type has an offering of the allowed capacity types (the catalog has no spot price for them)",
            );
        }
        let mut limit = |key: &str, milli: bool| {
            np.limits
                .get(key)
                .and_then(|q| quantity(cx, q, &format!("{f}.limits.{key}"), milli))
        };
        let (limit_cpu_milli, limit_memory_bytes) = (limit("cpu", true), limit("memory", false));
        for (key, q) in &np.limits {
            if key != "cpu" && key != "memory" {
                cx.err(
                    loc(q),
                    format!("{f}.limits.{key}"),
                    "only cpu and memory limits are modelled",
                );
            }
        }
        let d = np.disruption.as_ref();
        let policy = keyword_or(
            cx,
            d.and_then(|d| d.consolidation_policy.as_ref()),
            &format!("{f}.disruption.consolidationPolicy"),
            "consolidation policy",
            &[
                ("WhenEmpty", ConsolidationPolicy::WhenEmpty),
                (
                    "WhenEmptyOrUnderutilized",
                    ConsolidationPolicy::WhenEmptyOrUnderutilized,
                ),
            ],
            ConsolidationPolicy::WhenEmptyOrUnderutilized,
        );
        let consolidate_after = match d.and_then(|d| d.consolidate_after.as_ref()) {
            None => Some(SimTime::ZERO),
            Some(s) => duration_or_never(cx, s, &format!("{f}.disruption.consolidateAfter")),
        };
        let budgets = match d.and_then(|d| d.budgets.as_ref()) {
            None => vec![Budget {
                nodes: BudgetNodes::Percent(10),
                reasons: Vec::new(),
                window: None,
            }],
            Some(list) => list
                .iter()
                .enumerate()
                .filter_map(|(j, b)| budget(cx, b, &format!("{f}.disruption.budgets[{j}]")))
                .collect(),
        };
        let expire_after = match &np.expire_after {
            None => Some(SimTime::from_secs(720 * 3600)),
            Some(s) => duration_or_never(cx, s, &format!("{f}.expireAfter")),
        };
        let weight = np.weight.as_ref().map_or(0, |w| {
            count_in(cx, w, &format!("{f}.weight"), 0, 100) as i32
        });
        node_pools.push(NodePoolConfig {
            name: np.name.value.clone(),
            weight,
            pools: members,
            limit_cpu_milli,
            limit_memory_bytes,
            policy,
            consolidate_after,
            budgets,
            expire_after,
        });
    }
    Some(KarpenterConfig {
        batch_idle: idle,
        batch_max: max,
        node_pools,
        spot_to_spot: r.spot_to_spot_consolidation.unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn glob_matches_families_and_sizes() {
        assert!(glob("m6i.*", "m6i.large"));
        assert!(!glob("m6i.*", "m6id.large"));
        assert!(glob("*.xlarge", "c6i.xlarge"));
        assert!(glob("e2-*-4", "e2-standard-4"));
        assert!(!glob("e2-*-4", "e2-standard-8"));
        assert!(glob("t3.micro", "t3.micro"));
    }
}
