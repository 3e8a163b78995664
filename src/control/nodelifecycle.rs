//! The node lifecycle controller and taint-based eviction: a node that stops heartbeating
//! turns NotReady (Unknown) after the grace period, its pods leave the Service endpoints,
//! it gets the `unreachable` NoExecute taint at a per-zone rate, and its pods are deleted
//! once their toleration of that taint runs out (300 s by default).
//!
//! Upstream: kubernetes/kubernetes `pkg/controller/nodelifecycle/node_lifecycle_controller.go`
//! (`monitorNodeHealth`, `ComputeZoneState`, `handleDisruption`, the zone NoExecute
//! tainter), `pkg/controller/tainteviction/taint_eviction.go` (`getMinTolerationTime`) and
//! `plugin/pkg/admission/defaulttolerationseconds` (the 300 s default).
//!
//! Follows upstream in: `--node-monitor-period` 5 s and `--node-monitor-grace-period` 50 s
//! (so NotReady 50–55 s after the last heartbeat); `NodeNotReady` events and pods marked not
//! Ready; NoExecute taints one node at a time per zone through a token bucket of
//! `--node-eviction-rate` 0.1/s (burst 1); zone states Normal, PartialDisruption (more than
//! 2 not-ready nodes and at least 55 %: `--secondary-node-eviction-rate` 0.01/s above
//! `--large-cluster-size-threshold` 50 nodes, else 0) and FullDisruption (0.1/s), and no
//! tainting at all while every zone is fully disrupted; eviction at taint time plus the
//! smallest `tolerationSeconds` of the pod's matching tolerations (none with seconds:
//! never); a recovered node is Ready again and pending evictions are cancelled.
//!
//! Simplified: the node's Ready condition goes straight to Unknown (no separate
//! not-ready:NoExecute path for kubelet-reported failures); the NoSchedule taint is
//! modelled as a cordon; zone states are evaluated when a node turns NotReady and on each
//! retry of a held taint (every monitor period), not continuously for every node.

use crate::cluster::{NodeId, World};
use crate::engine::SimTime;

/// `--node-monitor-period`.
pub const MONITOR_PERIOD: SimTime = SimTime::from_secs(5);
/// `--node-monitor-grace-period` (50 s since v1.32).
pub const MONITOR_GRACE: SimTime = SimTime::from_secs(50);
/// `--node-eviction-rate`, nodes per second per zone.
pub const EVICTION_RATE: f64 = 0.1;
/// `--secondary-node-eviction-rate`.
pub const SECONDARY_EVICTION_RATE: f64 = 0.01;
/// `--large-cluster-size-threshold`.
pub const LARGE_CLUSTER_SIZE: usize = 50;
/// `--unhealthy-zone-threshold`.
pub const UNHEALTHY_ZONE_THRESHOLD: f64 = 0.55;
/// The DefaultTolerationSeconds admission plugin's `unreachable` toleration.
pub const DEFAULT_TOLERATION: SimTime = SimTime::from_secs(300);

/// A zone's health, as upstream computes it from its nodes' Ready conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneState {
    /// Evictions at the normal rate.
    Normal,
    /// Many nodes down: evictions slow down (or stop in small clusters).
    PartialDisruption,
    /// No node Ready.
    FullDisruption,
}

/// Upstream `ComputeZoneState` from (ready, not ready) counts.
pub fn zone_state(ready: usize, not_ready: usize) -> ZoneState {
    if ready == 0 && not_ready > 0 {
        ZoneState::FullDisruption
    } else if not_ready > 2
        && not_ready as f64 / (not_ready + ready) as f64 >= UNHEALTHY_ZONE_THRESHOLD
    {
        ZoneState::PartialDisruption
    } else {
        ZoneState::Normal
    }
}

/// The NoExecute tainting rate of a zone of `size` nodes in `state`, nodes per second.
pub fn eviction_rate(state: ZoneState, size: usize) -> f64 {
    match state {
        ZoneState::Normal | ZoneState::FullDisruption => EVICTION_RATE,
        ZoneState::PartialDisruption if size > LARGE_CLUSTER_SIZE => SECONDARY_EVICTION_RATE,
        ZoneState::PartialDisruption => 0.0,
    }
}

/// The first monitor pass at which a node silent since `last_heartbeat` is seen NotReady:
/// passes run every 5 s from the start; the grace period must have passed.
pub fn not_ready_at(last_heartbeat: SimTime) -> SimTime {
    let due = last_heartbeat.saturating_add(MONITOR_GRACE).as_millis();
    let period = MONITOR_PERIOD.as_millis();
    SimTime::from_millis(due.div_ceil(period) * period)
}

/// The controller's state in one run.
#[derive(Debug)]
pub struct NodeLifecycle {
    /// Global zone index of each (pool, pool-local zone).
    zone_of: Vec<Vec<usize>>,
    /// Zones by name, for reports.
    zones: Vec<String>,
    /// When each zone's token bucket next has a token.
    next_token: Vec<SimTime>,
    /// Per node: NotReady since (None: Ready).
    not_ready: Vec<Option<SimTime>>,
    /// Per node: the NoExecute taint's time (None: untainted).
    tainted: Vec<Option<SimTime>>,
}

impl NodeLifecycle {
    /// A controller over `world`'s zones.
    pub fn new(world: &World) -> NodeLifecycle {
        let mut zones: Vec<String> = Vec::new();
        let zone_of = world
            .pools
            .iter()
            .map(|p| {
                p.zones
                    .iter()
                    .map(|z| match zones.iter().position(|x| x == z) {
                        Some(i) => i,
                        None => {
                            zones.push(z.clone());
                            zones.len() - 1
                        }
                    })
                    .collect()
            })
            .collect();
        NodeLifecycle {
            next_token: vec![SimTime::ZERO; zones.len()],
            zone_of,
            zones,
            not_ready: Vec::new(),
            tainted: Vec::new(),
        }
    }

    fn grow(&mut self, world: &World) {
        if self.not_ready.len() < world.nodes.len() {
            self.not_ready.resize(world.nodes.len(), None);
            self.tainted.resize(world.nodes.len(), None);
        }
    }

    /// The node's zone (global index).
    pub fn zone(&self, world: &World, node: NodeId) -> usize {
        let n = &world.nodes[node.0 as usize];
        self.zone_of[n.pool.0 as usize]
            .get(n.zone as usize)
            .copied()
            .unwrap_or(0)
    }

    /// Whether the controller sees the node NotReady.
    pub fn is_not_ready(&self, node: NodeId) -> bool {
        self.not_ready
            .get(node.0 as usize)
            .copied()
            .flatten()
            .is_some()
    }

    /// When the node got its NoExecute taint (None: it has none).
    pub fn tainted_at(&self, node: NodeId) -> Option<SimTime> {
        self.tainted.get(node.0 as usize).copied().flatten()
    }

    /// The monitor saw the node's heartbeat lapse: it is NotReady from `now`.
    pub fn mark_not_ready(&mut self, world: &World, node: NodeId, now: SimTime) {
        self.grow(world);
        self.not_ready[node.0 as usize] = Some(now);
    }

    /// The node heartbeats again: Ready, untainted.
    pub fn mark_ready(&mut self, world: &World, node: NodeId) {
        self.grow(world);
        self.not_ready[node.0 as usize] = None;
        self.tainted[node.0 as usize] = None;
    }

    /// (ready, not ready, size) of a zone over live nodes.
    fn zone_counts(&self, world: &World, zone: usize) -> (usize, usize) {
        let mut counts = (0, 0);
        for &n in &world.live_nodes {
            if self.zone(world, n) == zone {
                if self.is_not_ready(n) {
                    counts.1 += 1;
                } else {
                    counts.0 += 1;
                }
            }
        }
        counts
    }

    /// Tries to taint a NotReady node now: the time of its taint (now, or when the zone's
    /// bucket next has a token), or None while the zone's rate is 0 (partial disruption
    /// of a small zone, or every zone fully disrupted): try again next period.
    pub fn taint(&mut self, world: &World, node: NodeId, now: SimTime) -> Option<SimTime> {
        self.grow(world);
        if let Some(t) = self.tainted[node.0 as usize] {
            return Some(t);
        }
        let all_down = (0..self.zones.len()).all(|z| {
            let (ready, not_ready) = self.zone_counts(world, z);
            ready + not_ready == 0 || zone_state(ready, not_ready) == ZoneState::FullDisruption
        });
        if all_down {
            return None; // master disruption mode: no evictions at all
        }
        let zone = self.zone(world, node);
        let (ready, not_ready) = self.zone_counts(world, zone);
        let rate = eviction_rate(zone_state(ready, not_ready), ready + not_ready);
        if rate <= 0.0 {
            return None;
        }
        let at = now.max(self.next_token[zone]);
        self.next_token[zone] = at.saturating_add(SimTime::from_millis((1000.0 / rate) as u64));
        self.tainted[node.0 as usize] = Some(at);
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_states_match_the_reference_vectors() {
        // 10 nodes, 2 NotReady → Normal (needs more than 2).
        assert_eq!(zone_state(8, 2), ZoneState::Normal);
        // 3 of 5 NotReady (0.6) → Partial, rate 0 in a zone of 5.
        assert_eq!(zone_state(2, 3), ZoneState::PartialDisruption);
        assert_eq!(eviction_rate(ZoneState::PartialDisruption, 5), 0.0);
        // 30 of 54 NotReady (0.556) → Partial, 0.01/s above 50 nodes.
        assert_eq!(zone_state(24, 30), ZoneState::PartialDisruption);
        assert_eq!(eviction_rate(ZoneState::PartialDisruption, 54), 0.01);
        // 0 of 4 Ready → Full, 0.1/s.
        assert_eq!(zone_state(0, 4), ZoneState::FullDisruption);
        assert_eq!(eviction_rate(ZoneState::FullDisruption, 4), 0.1);
    }

    #[test]
    fn not_ready_comes_at_the_first_monitor_pass_after_the_grace_period() {
        assert_eq!(not_ready_at(SimTime::ZERO), SimTime::from_secs(50));
        assert_eq!(
            not_ready_at(SimTime::from_millis(1_200)),
            SimTime::from_secs(55)
        );
    }
}
