//! The Deployment controller: rolls a workload from one ReplicaSet (revision) to the next
//! within `maxSurge` and `maxUnavailable`, or recreates it, and rolls back.
//!
//! Upstream: kubernetes/kubernetes `pkg/controller/deployment/rolling.go`
//! (`reconcileNewReplicaSet`, `reconcileOldReplicaSets`, `cleanupUnhealthyReplicas`,
//! `scaleDownOldReplicaSetsForRollingUpdate`), `recreate.go`, `progress.go` and
//! `util/deployment_util.go` (`ResolveFenceposts`, `MaxUnavailable`, `NewRSNewReplicas`).
//!
//! Follows upstream in: surge rounded up and unavailability rounded down from percentages
//! (both 0 → 1 unavailable), the new ReplicaSet grown to at most replicas + surge in total,
//! old ReplicaSets scaled down oldest first — unhealthy pods first, then down to
//! replicas − maxUnavailable available — availability as Ready for `minReadySeconds`,
//! Recreate scaling the old pods to zero before the new ones start, and the
//! `progressDeadlineSeconds` timeout (`ProgressDeadlineExceeded`).
//!
//! Simplified: when `spec.replicas` changes mid-rollout the difference goes to the new
//! ReplicaSet (no proportional scaling); `revisionHistoryLimit` is not enforced (old
//! ReplicaSets at zero cost nothing in the simulation); automatic rollback on a missed
//! deadline is kubesim's option (`autoRollback`), as tools like Argo Rollouts do it —
//! upstream only reports the condition.

use crate::cluster::{PodState, WorkloadId, World};
use crate::engine::SimTime;

pub use crate::scenario::IntOrPercent;

/// `spec.strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Replace pods a few at a time.
    RollingUpdate {
        /// Pods above `replicas` during the update (25%).
        max_surge: IntOrPercent,
        /// Pods below `replicas` during the update (25%).
        max_unavailable: IntOrPercent,
    },
    /// Delete every old pod, then create the new ones.
    Recreate,
}

impl Default for Strategy {
    fn default() -> Self {
        Strategy::RollingUpdate {
            max_surge: IntOrPercent::Percent(25),
            max_unavailable: IntOrPercent::Percent(25),
        }
    }
}

/// `ResolveFenceposts`: (surge, unavailable) for `desired` replicas.
pub fn resolve_fenceposts(
    surge: IntOrPercent,
    unavailable: IntOrPercent,
    desired: u32,
) -> (u32, u32) {
    let s = surge.scaled_up(desired);
    let u = unavailable.scaled_down(desired);
    if s == 0 && u == 0 { (0, 1) } else { (s, u) }
}

/// `MaxUnavailable(deployment)`.
pub fn max_unavailable(strategy: Strategy, replicas: u32) -> u32 {
    match strategy {
        Strategy::RollingUpdate {
            max_surge,
            max_unavailable,
        } if replicas > 0 => resolve_fenceposts(max_surge, max_unavailable, replicas)
            .1
            .min(replicas),
        _ => 0,
    }
}

/// `NewRSNewReplicas`: the new ReplicaSet's replicas, given every ReplicaSet's total.
pub fn new_rs_new_replicas(strategy: Strategy, replicas: u32, all: u32, new: u32) -> u32 {
    match strategy {
        Strategy::Recreate => replicas,
        Strategy::RollingUpdate {
            max_surge,
            max_unavailable,
        } => {
            let surge = resolve_fenceposts(max_surge, max_unavailable, replicas).0;
            let max_total = replicas + surge;
            if all >= max_total {
                return new;
            }
            new + (max_total - all).min(replicas.saturating_sub(new))
        }
    }
}

/// A ReplicaSet as the rollout sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RsView {
    /// `spec.replicas`.
    pub replicas: u32,
    /// `status.availableReplicas`.
    pub available: u32,
}

/// `cleanupUnhealthyReplicas`: scales old ReplicaSets (oldest first) down by their
/// unavailable pods, at most `max` in total; returns how many.
pub fn cleanup_unhealthy(old: &mut [RsView], max: u32) -> u32 {
    let mut total = 0;
    for rs in old.iter_mut() {
        if total >= max {
            break;
        }
        if rs.replicas == 0 || rs.replicas == rs.available {
            continue;
        }
        let n = (max - total).min(rs.replicas - rs.available);
        rs.replicas -= n;
        total += n;
    }
    total
}

/// `scaleDownOldReplicaSetsForRollingUpdate`: scales old ReplicaSets (oldest first) down
/// while more than `replicas − maxUnavailable` pods are available in all; returns how many.
pub fn scale_down_old(old: &mut [RsView], new: RsView, replicas: u32, max_unavailable: u32) -> u32 {
    let min_available = replicas.saturating_sub(max_unavailable);
    let available: u32 = old.iter().map(|r| r.available).sum::<u32>() + new.available;
    if available <= min_available {
        return 0;
    }
    let target = available - min_available;
    let mut total = 0;
    for rs in old.iter_mut() {
        if total >= target {
            break;
        }
        if rs.replicas == 0 {
            continue;
        }
        let n = rs.replicas.min(target - total);
        rs.replicas -= n;
        total += n;
    }
    total
}

/// `reconcileOldReplicaSets`: the old ReplicaSets' new sizes.
pub fn reconcile_old(old: &mut [RsView], new: RsView, replicas: u32, max_unavailable: u32) {
    let old_count: u32 = old.iter().map(|r| r.replicas).sum();
    if old_count == 0 {
        return;
    }
    let all = old_count + new.replicas;
    let min_available = replicas.saturating_sub(max_unavailable);
    let new_unavailable = new.replicas.saturating_sub(new.available);
    let max_scaled_down = i64::from(all) - i64::from(min_available) - i64::from(new_unavailable);
    if max_scaled_down <= 0 {
        return;
    }
    cleanup_unhealthy(old, max_scaled_down as u32);
    scale_down_old(old, new, replicas, max_unavailable);
}

/// One rolling-update or recreate step: given the new ReplicaSet and the old ones (oldest
/// first), their next sizes. `old_pods` counts old pods still running (Recreate waits for
/// them to be gone).
pub fn step(
    strategy: Strategy,
    replicas: u32,
    new: &mut RsView,
    old: &mut [RsView],
    old_pods: u32,
) {
    match strategy {
        Strategy::Recreate => {
            old.iter_mut().for_each(|r| r.replicas = 0);
            new.replicas = if old_pods == 0 { replicas } else { 0 };
        }
        Strategy::RollingUpdate { .. } => {
            let all: u32 = old.iter().map(|r| r.replicas).sum::<u32>() + new.replicas;
            if new.replicas > replicas {
                new.replicas = replicas;
            } else if new.replicas < replicas {
                new.replicas = new_rs_new_replicas(strategy, replicas, all, new.replicas);
            }
            reconcile_old(old, *new, replicas, max_unavailable(strategy, replicas));
        }
    }
}

/// `IsPodAvailable`: Ready for at least `min_ready`.
pub fn is_available(ready_at: Option<SimTime>, min_ready: SimTime, now: SimTime) -> bool {
    ready_at.is_some_and(|t| min_ready == SimTime::ZERO || t.saturating_add(min_ready) < now)
}

/// One Deployment sync: resizes the workload's ReplicaSets (`rs_replicas`) toward its
/// `desired` replicas on the current revision, tracks the rollout's progress, and returns
/// the resizes as (revision, new size, up).
pub fn sync(world: &mut World, w: WorkloadId, now: SimTime) -> Vec<(u16, u32, bool)> {
    let i = w.0 as usize;
    let spec = &world.specs[i];
    let ws = &world.workloads[i];
    let cur = ws.revision as usize;
    let n = ws.rs_replicas.len().max(cur + 1);
    let mut available = vec![0u32; n];
    let mut pods = vec![0u32; n];
    for &p in &ws.active {
        let pod = &world.pods[p.0 as usize];
        let r = (pod.revision as usize).min(n - 1);
        pods[r] += 1;
        if pod.state == PodState::Ready && is_available(pod.ready_at, spec.min_ready, now) {
            available[r] += 1;
        }
    }
    let mut sizes = ws.rs_replicas.clone();
    sizes.resize(n, 0);
    let old_ids: Vec<usize> = (0..n).filter(|&r| r != cur).collect();
    let mut new = RsView {
        replicas: sizes[cur],
        available: available[cur],
    };
    let mut old: Vec<RsView> = old_ids
        .iter()
        .map(|&r| RsView {
            replicas: sizes[r],
            available: available[r],
        })
        .collect();
    let old_total: u32 = old.iter().map(|r| r.replicas).sum();
    let old_pods: u32 = old_ids.iter().map(|&r| pods[r]).sum();
    if old_total == 0 && old_pods == 0 {
        new.replicas = ws.desired; // no rollout: the ReplicaSet follows spec.replicas
    } else {
        step(spec.strategy, ws.desired, &mut new, &mut old, old_pods);
    }
    let mut changes = Vec::new();
    let mut next = sizes.clone();
    next[cur] = new.replicas;
    for (k, &r) in old_ids.iter().enumerate() {
        next[r] = old[k].replicas;
    }
    for r in 0..n {
        if next[r] != sizes[r] {
            changes.push((r as u16, next[r], next[r] > sizes[r]));
        }
    }
    let new_old_total: u32 = old.iter().map(|r| r.replicas).sum();
    let desired = ws.desired;
    let ws = &mut world.workloads[i];
    if let Some((progress_at, reported)) = ws.rollout {
        let progressed = next[cur] > sizes[cur]
            || available[cur] > ws.new_available
            || new_old_total < old_total;
        ws.rollout = Some((if progressed { now } else { progress_at }, reported));
        if next[cur] == desired && available[cur] >= desired && new_old_total == 0 && old_pods == 0
        {
            ws.rollout = None;
        }
    }
    ws.new_available = available[cur];
    ws.rs_replicas = next;
    changes
}

#[cfg(test)]
mod tests {
    //! Numbers from upstream's rolling_test.go and util/deployment_util_test.go tables.
    use super::*;
    use IntOrPercent::{Int, Percent};

    fn rolling(surge: IntOrPercent, unavailable: IntOrPercent) -> Strategy {
        Strategy::RollingUpdate {
            max_surge: surge,
            max_unavailable: unavailable,
        }
    }

    #[test]
    fn resolve_fenceposts_upstream_cases() {
        // TestResolveFenceposts (the parse-error rows do not exist here: the scenario
        // validator rejects them); a nil value is 0.
        assert_eq!(resolve_fenceposts(Percent(0), Percent(0), 0), (0, 1));
        assert_eq!(resolve_fenceposts(Percent(39), Percent(39), 10), (4, 3));
        assert_eq!(resolve_fenceposts(Int(0), Percent(39), 10), (0, 3));
        assert_eq!(resolve_fenceposts(Percent(39), Int(0), 10), (4, 0));
        assert_eq!(resolve_fenceposts(Int(0), Int(0), 10), (0, 1));
    }

    #[test]
    fn max_unavailable_upstream_cases() {
        // TestMaxUnavailable (maxSurge 1).
        let m = |r, u| max_unavailable(rolling(Int(1), u), r);
        assert_eq!(
            (m(10, Int(5)), m(10, Int(10)), m(5, Int(10)), m(0, Int(10))),
            (5, 10, 5, 0)
        );
        assert_eq!(max_unavailable(Strategy::Recreate, 10), 0);
        assert_eq!(
            (m(10, Percent(50)), m(10, Percent(100)), m(5, Percent(100))),
            (5, 10, 5)
        );
        // TestMinAvailable: replicas − MaxUnavailable.
        assert_eq!(10 - m(10, Percent(60)), 4);
    }

    #[test]
    fn new_rs_new_replicas_upstream_cases() {
        // TestNewRSNewReplicas: another ReplicaSet holds 5; maxUnavailable 1.
        assert_eq!(new_rs_new_replicas(rolling(Int(1), Int(1)), 1, 5, 5), 5);
        assert_eq!(new_rs_new_replicas(rolling(Int(10), Int(1)), 6, 5, 2), 6);
        assert_eq!(new_rs_new_replicas(Strategy::Recreate, 3, 5, 1), 3);
    }

    #[test]
    fn reconcile_new_replica_set_upstream_cases() {
        // TestDeploymentController_reconcileNewReplicaSet (maxUnavailable 0): the new RS's
        // size from (deployment replicas 10, maxSurge, old replicas, new replicas).
        let step_new = |surge, old_replicas, new_replicas| {
            let mut new = RsView {
                replicas: new_replicas,
                available: 0,
            };
            let mut old = [RsView {
                replicas: old_replicas,
                available: 0,
            }];
            step(
                rolling(Int(surge), Int(0)),
                10,
                &mut new,
                &mut old,
                old_replicas,
            );
            new.replicas
        };
        assert_eq!(step_new(0, 10, 0), 0);
        assert_eq!(step_new(2, 10, 0), 2);
        assert_eq!(step_new(2, 5, 0), 7);
        assert_eq!(step_new(2, 10, 2), 2);
        assert_eq!(step_new(2, 2, 11), 10);
    }

    #[test]
    fn reconcile_old_replica_sets_upstream_cases() {
        // TestDeploymentController_reconcileOldReplicaSets (maxSurge 0; replicas 10):
        // (maxUnavailable, old replicas, new replicas, old available, new available) →
        // old replicas after (upstream's expectedOldReplicas; case 4 does not scale).
        let cases = [
            (0, 10, 0, 10, 0, 9),
            (2, 10, 0, 10, 0, 8),
            (2, 10, 0, 8, 0, 8),
            (2, 10, 0, 9, 0, 8),
            (2, 8, 2, 8, 0, 8),
        ];
        for (unavail, old_r, new_r, old_a, new_a, expected) in cases {
            let mut old = [RsView {
                replicas: old_r,
                available: old_a,
            }];
            let new = RsView {
                replicas: new_r,
                available: new_a,
            };
            let max_unavailable = max_unavailable(rolling(Int(0), Int(unavail)), 10);
            reconcile_old(&mut old, new, 10, max_unavailable);
            assert_eq!(
                old[0].replicas, expected,
                "{unavail} {old_r} {new_r} {old_a}"
            );
        }
    }

    #[test]
    fn cleanup_unhealthy_upstream_cases() {
        // TestDeploymentController_cleanupUnhealthyReplicas: (old replicas, available, max)
        // → cleaned.
        for (replicas, available, max, expected) in
            [(10, 8, 1, 1), (10, 8, 3, 2), (10, 8, 0, 0), (10, 10, 3, 0)]
        {
            let mut old = [RsView {
                replicas,
                available,
            }];
            assert_eq!(cleanup_unhealthy(&mut old, max), expected);
        }
    }

    #[test]
    fn scale_down_old_upstream_cases() {
        // TestDeploymentController_scaleDownOldReplicaSetsForRollingUpdate (maxSurge 0,
        // replicas 10, only the old RS listed): (maxUnavailable, available, old replicas)
        // → old replicas after.
        for (unavail, available, replicas, expected) in [
            (0, 10, 10, 9),
            (2, 10, 10, 8),
            (2, 8, 10, 10),
            (2, 10, 0, 0),
            (2, 1, 10, 10),
        ] {
            let mu = max_unavailable(rolling(Int(0), Int(unavail)), 10);
            let mut old = [RsView {
                replicas,
                available,
            }];
            scale_down_old(&mut old, RsView::default(), 10, mu);
            assert_eq!(old[0].replicas, expected);
        }
    }

    #[test]
    fn default_fenceposts_match_the_reference_vectors() {
        let d = |n| resolve_fenceposts(Percent(25), Percent(25), n);
        assert_eq!((d(10), d(4), d(3), d(1)), ((3, 2), (1, 1), (1, 0), (1, 0)));
        assert_eq!(resolve_fenceposts(Int(0), Int(0), 5), (0, 1));
        assert_eq!(max_unavailable(Strategy::Recreate, 10), 0);
    }
}
