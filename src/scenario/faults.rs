//! The `faults:` list and pools' random node failures: what goes wrong in a run, and when.

use super::duration::Duration;
use super::suggest::did_you_mean;
use super::validate::{Ctx, count_in, loc};
use crate::engine::SimTime;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// Which nodes a fault hits.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeTarget {
    /// By name (`<pool>-<n>`, or the names of imported nodes).
    Named(Vec<String>),
    /// The pool's `count` oldest nodes that are up at the time.
    Pool {
        /// Pool index.
        pool: u32,
        /// How many.
        count: u32,
    },
}

/// One fault.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// The nodes die (kubelet and containers stop); back after `duration` (a reboot) or
    /// never.
    NodeFailure {
        /// Which nodes.
        nodes: NodeTarget,
        /// Down for this long (None: for good).
        duration: Option<SimTime>,
    },
    /// Every node of a zone dies for `duration`.
    ZoneOutage {
        /// Zone name.
        zone: String,
        /// Down for this long (None: for good).
        duration: Option<SimTime>,
    },
    /// The nodes lose the control plane (no heartbeats) but their pods keep running.
    Partition {
        /// Which nodes.
        nodes: NodeTarget,
        /// For this long (None: for good).
        duration: Option<SimTime>,
    },
    /// `kubectl drain`: cordon, then evict within PodDisruptionBudgets.
    Drain {
        /// Which nodes.
        nodes: NodeTarget,
    },
    /// `kubectl cordon`.
    Cordon {
        /// Which nodes.
        nodes: NodeTarget,
    },
    /// A new pod template version rolls out (`kubectl set image`).
    Rollout {
        /// Workload index.
        workload: u32,
        /// The revision it rolls to (index into the workload's `revisions`).
        revision: u16,
    },
    /// `kubectl rollout undo`: back to the previous revision.
    Rollback {
        /// Workload index.
        workload: u32,
    },
    /// A node pool surge upgrade: every node is replaced, `max_surge + max_unavailable`
    /// at a time, `max_surge` new nodes requested before each batch drains.
    PoolUpgrade {
        /// Pool index.
        pool: u32,
        /// New nodes added ahead of each batch.
        max_surge: u32,
        /// Old nodes drained beyond the surge in each batch.
        max_unavailable: u32,
    },
}

/// A fault at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// When.
    pub at: SimTime,
    /// What.
    pub kind: FaultKind,
}

/// A pool's random node failures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeFailures {
    /// Mean time between failures per node (exponential).
    pub mtbf: SimTime,
    /// How long a failed node stays down (None: for good).
    pub repair: Option<SimTime>,
}

/// One entry of `faults:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FaultFile {
    /// When it happens.
    pub at: Spanned<Duration>,
    /// Nodes die.
    pub node_failure: Option<NodesFile>,
    /// A zone goes dark.
    pub zone_outage: Option<ZoneOutageFile>,
    /// Nodes lose the control plane.
    pub partition: Option<NodesFile>,
    /// Nodes are drained.
    pub drain: Option<NodesFile>,
    /// Nodes are cordoned.
    pub cordon: Option<NodesFile>,
    /// A new version of a workload rolls out.
    pub rollout: Option<super::rollout::RolloutFile>,
    /// A workload rolls back to its previous version.
    pub rollback: Option<super::rollout::RollbackFile>,
    /// A node pool's surge upgrade.
    pub pool_upgrade: Option<PoolUpgradeFile>,
}

/// `poolUpgrade:` (GKE's surge upgrade settings).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PoolUpgradeFile {
    /// The pool.
    pub pool: Spanned<String>,
    /// New nodes ahead of each batch (default 1).
    pub max_surge: Option<Spanned<i64>>,
    /// Old nodes drained beyond the surge (default 0).
    pub max_unavailable: Option<Spanned<i64>>,
}

/// Nodes by name or by pool and count, and for how long.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodesFile {
    /// Node names.
    #[serde(default)]
    pub names: Vec<String>,
    /// A pool (with `nodes`).
    pub pool: Option<Spanned<String>>,
    /// How many of the pool's nodes (default 1).
    pub nodes: Option<Spanned<i64>>,
    /// How long (default: for good); not for drain and cordon.
    pub duration: Option<Spanned<Duration>>,
}

/// `zoneOutage:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ZoneOutageFile {
    /// Zone name.
    pub zone: Spanned<String>,
    /// How long (default: for good).
    pub duration: Option<Spanned<Duration>>,
}

/// A pool's `failures:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeFailuresFile {
    /// Mean time between failures per node.
    pub mean_time_between_failures: Spanned<Duration>,
    /// Time a failed node stays down (default: for good).
    pub repair_time: Option<Spanned<Duration>>,
}

fn target(cx: &mut Ctx, n: &NodesFile, f: &str, pool_names: &[String]) -> Option<NodeTarget> {
    match (&n.pool, n.names.is_empty()) {
        (Some(p), true) => {
            let Some(pool) = pool_names.iter().position(|x| *x == p.value) else {
                let hint = did_you_mean(&p.value, pool_names.iter().map(String::as_str));
                cx.err(
                    loc(p),
                    format!("{f}.pool"),
                    format!("no pool named `{}`{hint}", p.value),
                );
                return None;
            };
            let count = n
                .nodes
                .as_ref()
                .map_or(1, |c| count_in(cx, c, &format!("{f}.nodes"), 1, 100_000));
            Some(NodeTarget::Pool {
                pool: pool as u32,
                count,
            })
        }
        (None, false) => Some(NodeTarget::Named(n.names.clone())),
        (Some(p), false) => {
            cx.err(
                loc(p),
                f,
                "give either names or pool (with nodes), not both",
            );
            None
        }
        (None, true) => {
            cx.err(
                None,
                f,
                "which nodes? give names: [...] or pool: <name> with nodes: <count>",
            );
            None
        }
    }
}

/// Validates `faults:` against the scenario's pools and zones.
pub(super) fn validate_faults(
    cx: &mut Ctx,
    raw: &[FaultFile],
    pool_names: &[String],
    zones: &[String],
    duration: SimTime,
    workloads: &mut [crate::scenario::WorkloadSpec],
) -> Vec<Fault> {
    let mut out = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let f = format!("faults[{i}]");
        let at = r.at.value.time();
        if at >= duration {
            cx.err(
                loc(&r.at),
                format!("{f}.at"),
                "is at or after the end of the run",
            );
        }
        let kinds = [
            r.node_failure.is_some(),
            r.zone_outage.is_some(),
            r.partition.is_some(),
            r.drain.is_some(),
            r.cordon.is_some(),
            r.rollout.is_some(),
            r.rollback.is_some(),
            r.pool_upgrade.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            cx.err(
                loc(&r.at),
                &f,
                "give exactly one of nodeFailure, zoneOutage, partition, drain, cordon, rollout, rollback, poolUpgrade",
            );
            continue;
        }
        let dur = |d: &Option<Spanned<Duration>>| d.as_ref().map(|d| d.value.time());
        let kind = if let Some(u) = &r.pool_upgrade {
            let uf = format!("{f}.poolUpgrade");
            match pool_names.iter().position(|x| *x == u.pool.value) {
                None => {
                    let hint = did_you_mean(&u.pool.value, pool_names.iter().map(String::as_str));
                    cx.err(
                        loc(&u.pool),
                        format!("{uf}.pool"),
                        format!("no pool named `{}`{hint}", u.pool.value),
                    );
                    None
                }
                Some(pool) => {
                    let max_surge = u
                        .max_surge
                        .as_ref()
                        .map_or(1, |v| count_in(cx, v, &format!("{uf}.maxSurge"), 0, 100));
                    let max_unavailable = u.max_unavailable.as_ref().map_or(0, |v| {
                        count_in(cx, v, &format!("{uf}.maxUnavailable"), 0, 100)
                    });
                    if max_surge + max_unavailable == 0 {
                        cx.err(
                            loc(&u.pool),
                            &uf,
                            "maxSurge and maxUnavailable may not both be 0",
                        );
                        None
                    } else {
                        Some(FaultKind::PoolUpgrade {
                            pool: pool as u32,
                            max_surge,
                            max_unavailable,
                        })
                    }
                }
            }
        } else if let Some(ro) = &r.rollout {
            super::rollout::validate_rollout(cx, ro, &format!("{f}.rollout"), workloads)
                .map(|(workload, revision)| FaultKind::Rollout { workload, revision })
        } else if let Some(rb) = &r.rollback {
            super::rollout::workload_index(cx, &rb.workload, &format!("{f}.rollback"), workloads)
                .map(|w| FaultKind::Rollback { workload: w as u32 })
        } else if let Some(n) = &r.node_failure {
            target(cx, n, &format!("{f}.nodeFailure"), pool_names).map(|nodes| {
                FaultKind::NodeFailure {
                    nodes,
                    duration: dur(&n.duration),
                }
            })
        } else if let Some(n) = &r.partition {
            target(cx, n, &format!("{f}.partition"), pool_names).map(|nodes| FaultKind::Partition {
                nodes,
                duration: dur(&n.duration),
            })
        } else if let Some(n) = &r.drain {
            target(cx, n, &format!("{f}.drain"), pool_names).map(|nodes| FaultKind::Drain { nodes })
        } else if let Some(n) = &r.cordon {
            target(cx, n, &format!("{f}.cordon"), pool_names)
                .map(|nodes| FaultKind::Cordon { nodes })
        } else if let Some(z) = &r.zone_outage {
            if zones.contains(&z.zone.value) {
                Some(FaultKind::ZoneOutage {
                    zone: z.zone.value.clone(),
                    duration: dur(&z.duration),
                })
            } else {
                let hint = did_you_mean(&z.zone.value, zones.iter().map(String::as_str));
                cx.err(
                    loc(&z.zone),
                    format!("{f}.zoneOutage.zone"),
                    format!("no pool has a zone `{}`{hint}", z.zone.value),
                );
                None
            }
        } else {
            None
        };
        if let Some(kind) = kind {
            out.push(Fault { at, kind });
        }
    }
    out.sort_by_key(|f| f.at);
    out
}

/// Validates a pool's `failures:`.
pub(super) fn validate_node_failures(
    cx: &mut Ctx,
    raw: Option<&NodeFailuresFile>,
    f: &str,
) -> Option<NodeFailures> {
    let r = raw?;
    let mtbf = r.mean_time_between_failures.value.time();
    if mtbf < SimTime::from_secs(60) {
        cx.err(
            loc(&r.mean_time_between_failures),
            format!("{f}.failures.meanTimeBetweenFailures"),
            "must be at least 1m",
        );
        return None;
    }
    Some(NodeFailures {
        mtbf,
        repair: r.repair_time.as_ref().map(|d| d.value.time()),
    })
}
