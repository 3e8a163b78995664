//! The ReplicaSet controller: keeps each workload at its desired replica count.
//!
//! Upstream: kubernetes/kubernetes `pkg/controller/replicaset/replica_set.go`
//! (`manageReplicas`) and `pkg/controller/controller_utils.go` (`ActivePodsWithRanks`).
//!
//! Follows upstream in: creating or deleting the difference between active and desired
//! pods, at most `BurstReplicas` (500) per sync, and choosing deletion victims in
//! upstream's order (unassigned before assigned, Pending before Running, not Ready before
//! Ready, pods doubled up on a node first, shorter-Ready first in log₂ buckets, more
//! restarts first, newer first).
//!
//! Simplified: creations are not split into slow-start batches (every create succeeds in
//! the simulator), pod-deletion-cost annotations are not ranked, the Unknown phase does not
//! exist here, and
//! a deleted pod frees its node at once (no termination grace period).

use crate::cluster::{PodId, PodState, WorkloadId, World};
use crate::control::scheduler::Scheduler;
use crate::engine::SimTime;
use crate::metrics::Recorder;
use crate::metrics::events::EventKind;

/// Upstream `BurstReplicas`: most creations or deletions in one sync.
pub const BURST_REPLICAS: u32 = 500;

/// What a sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncOutcome {
    /// Pods created.
    pub created: u32,
    /// Pods deleted.
    pub deleted: u32,
    /// True when the burst limit left work for another sync.
    pub more: bool,
}

/// One `manageReplicas` pass for each of a workload's ReplicaSets (one per revision).
pub fn sync(
    world: &mut World,
    w: WorkloadId,
    now: SimTime,
    scheduler: &mut Scheduler,
    recorder: &mut Recorder,
) -> SyncOutcome {
    let ws = &world.workloads[w.0 as usize];
    // One ReplicaSet per revision: each keeps its own pods at its own size.
    let sizes = ws.rs_replicas.clone();
    let mut counts = vec![0u32; sizes.len()];
    for &p in &ws.active {
        let r = world.pods[p.0 as usize].revision as usize;
        if r < counts.len() {
            counts[r] += 1;
        }
    }
    let mut out = SyncOutcome::default();
    let mut budget = BURST_REPLICAS;
    for (r, (&want, &have)) in sizes.iter().zip(&counts).enumerate() {
        if have < want {
            let diff = want - have;
            let n = diff.min(budget);
            for _ in 0..n {
                let pod = world.create_pod_of(w, r as u16, now);
                recorder.pod_created();
                recorder.event(now, EventKind::SuccessfulCreate { workload: w, pod });
                scheduler.enqueue(world, pod, now);
            }
            budget -= n;
            out.created += n;
            out.more |= diff > n;
        } else if have > want {
            let diff = have - want;
            let n = diff.min(budget);
            let victims: Vec<PodId> = deletion_order(world, w, now)
                .into_iter()
                .filter(|p| world.pods[p.0 as usize].revision as usize == r)
                .take(n as usize)
                .collect();
            for pod in victims {
                if world.pods[pod.0 as usize].unschedulable_since.is_some()
                    && world.pods[pod.0 as usize].state == PodState::Pending
                {
                    recorder.unschedulable_changed(now, -1);
                }
                world.delete_pod(pod, now);
                recorder.event(now, EventKind::SuccessfulDelete { workload: w, pod });
            }
            budget -= n;
            out.deleted += n;
            out.more |= diff > n;
        }
    }
    if out.deleted > 0 {
        scheduler.on_cluster_change(world, now);
    }
    out
}

/// The workload's active pods sorted so the first ones are deleted first
/// (`ActivePodsWithRanks.Less`).
pub fn deletion_order(world: &World, w: WorkloadId, now: SimTime) -> Vec<PodId> {
    let ws = &world.workloads[w.0 as usize];
    let mut keyed: Vec<(RankKey, PodId)> = ws
        .active
        .iter()
        .map(|&id| {
            let p = &world.pods[id.0 as usize];
            // Rank: active pods of the same workload on the same node.
            let doubled = p.node.map_or(0, |n| {
                world.nodes[n.0 as usize]
                    .pods
                    .iter()
                    .filter(|&&q| world.pods[q.0 as usize].workload == w)
                    .count() as u32
            });
            let key = RankKey {
                assigned: p.node.is_some(),
                running: matches!(p.state, PodState::Running | PodState::Ready),
                ready: p.state == PodState::Ready,
                neg_rank: u32::MAX - doubled,
                ready_bucket: p.ready_at.map_or(0, |t| log2_bucket(now.saturating_sub(t))),
                neg_restarts: u32::MAX - p.restarts,
                creation_bucket: log2_bucket(now.saturating_sub(p.created_at)),
                neg_id: u32::MAX - id.0,
            };
            (key, id)
        })
        .collect();
    keyed.sort_by_key(|a| a.0);
    keyed.into_iter().map(|(_, id)| id).collect()
}

/// Smaller sorts first = deleted first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct RankKey {
    assigned: bool,
    running: bool,
    ready: bool,
    /// Higher rank (more doubled-up) first.
    neg_rank: u32,
    /// Ready for less time first (LogarithmicScaleDown buckets).
    ready_bucket: u32,
    /// More container restarts first.
    neg_restarts: u32,
    /// Created more recently first.
    creation_bucket: u32,
    /// Newest id first as the final tie-break (upstream uses the pod UID).
    neg_id: u32,
}

/// `floor(log2(age in seconds))`, 0 for ages under 2 s; upstream's LogarithmicScaleDown.
fn log2_bucket(age: SimTime) -> u32 {
    let secs = age.as_millis() / 1000;
    if secs <= 1 {
        0
    } else {
        63 - secs.leading_zeros()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_buckets_group_similar_ages() {
        assert_eq!(log2_bucket(SimTime::from_secs(0)), 0);
        assert_eq!(log2_bucket(SimTime::from_secs(2)), 1);
        assert_eq!(log2_bucket(SimTime::from_secs(3)), 1);
        assert_eq!(log2_bucket(SimTime::from_secs(4)), 2);
        assert_eq!(log2_bucket(SimTime::from_secs(1000)), 9);
    }

    #[test]
    fn rank_key_orders_as_upstream() {
        let base = RankKey {
            assigned: true,
            running: true,
            ready: true,
            neg_rank: u32::MAX - 1,
            ready_bucket: 5,
            neg_restarts: u32::MAX,
            creation_bucket: 5,
            neg_id: 10,
        };
        let unassigned = RankKey {
            assigned: false,
            running: false,
            ready: false,
            ..base
        };
        let not_ready = RankKey {
            ready: false,
            ..base
        };
        let doubled = RankKey {
            neg_rank: u32::MAX - 3,
            ..base
        };
        let fresh = RankKey {
            ready_bucket: 1,
            ..base
        };
        assert!(unassigned < not_ready && not_ready < base);
        assert!(doubled < base);
        assert!(fresh < base);
    }

    /// A pod as upstream's TestSortingActivePodsWithRanks builds it: ages in seconds
    /// before `now` (None: not Ready), rank, restarts.
    fn key(
        node: bool,
        running: bool,
        ready_age: Option<u64>,
        rank: u32,
        restarts: u32,
        created_age: u64,
    ) -> RankKey {
        RankKey {
            assigned: node,
            running,
            ready: ready_age.is_some(),
            neg_rank: u32::MAX - rank,
            ready_bucket: ready_age.map_or(0, |a| log2_bucket(SimTime::from_secs(a))),
            neg_restarts: u32::MAX - restarts,
            creation_bucket: log2_bucket(SimTime::from_secs(created_age)),
            neg_id: 0,
        }
    }

    #[test]
    fn upstream_sorting_active_pods_with_ranks_cases() {
        // controller_utils_test.go TestSortingActivePodsWithRanks (the cases without the
        // Unknown phase and pod-deletion cost, which are not modelled). "lesser" is
        // deleted first. Ages: now, 2 h, 5 h, 8 h, a month.
        const MONTH: u64 = 30 * 86_400;
        let unscheduled = |rank| key(false, false, None, rank, 0, 0);
        let pending = |rank| key(true, false, None, rank, 0, 0);
        let not_ready = |rank| key(true, true, None, rank, 0, 0);
        let ready_now = |rank| key(true, true, Some(0), rank, 0, 0);
        let ready_then = |rank| key(true, true, Some(MONTH), rank, 0, MONTH);
        let high_restarts = |rank| key(true, true, Some(0), rank, 9001, 0);
        let created_then = |rank| key(true, true, Some(0), rank, 0, MONTH);
        let cases = [
            (unscheduled(1), pending(2)),
            (unscheduled(2), pending(1)),
            (pending(1), not_ready(2)),
            (not_ready(1), ready_now(1)),
            (ready_now(1), ready_then(1)),
            (ready_now(2), ready_then(1)),
            (high_restarts(1), ready_now(1)),
            (ready_now(2), high_restarts(1)),
            (ready_now(1), created_then(1)),
            (created_then(2), ready_now(1)),
            // Unscheduled, ready 2 h against 5 h: different log₂ buckets.
            (
                key(false, true, Some(7_200), 1, 0, MONTH),
                key(false, true, Some(18_000), 1, 0, MONTH),
            ),
        ];
        for (i, (lesser, greater)) in cases.iter().enumerate() {
            assert!(lesser < greater, "case {i}");
        }
        // Equal under LogarithmicScaleDown: created 5 h and 8 h ago; ready 5 h and 8 h ago.
        assert_eq!(
            key(false, false, None, 1, 0, 18_000),
            key(false, false, None, 1, 0, 28_800)
        );
        assert_eq!(
            key(false, true, Some(18_000), 1, 0, MONTH),
            key(false, true, Some(28_800), 1, 0, MONTH)
        );
    }
}
