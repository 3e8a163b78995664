//! The scheduling queue: activeQ ordered by priority then queue time, a back-off queue for
//! pods that recently failed, and the unschedulable set that waits for a cluster event.
//!
//! Follows `pkg/scheduler/backend/queue/scheduling_queue.go`: `PrioritySort` (higher
//! priority first, then earlier timestamp), back-off `min(1 s · 2^(attempts−1), 10 s)`,
//! `MoveAllToActiveOrBackoffQueue` on cluster events (a pod still backing off goes to the
//! back-off queue), and the 5-minute `podMaxInUnschedulablePodsDuration` flush. The back-off
//! queue is flushed when its earliest pod's back-off ends (upstream polls every second).

use crate::cluster::{PodId, World};
use crate::engine::SimTime;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// Upstream `podInitialBackoffSeconds`.
pub const INITIAL_BACKOFF: SimTime = SimTime::from_secs(1);
/// Upstream `podMaxBackoffSeconds`.
pub const MAX_BACKOFF: SimTime = SimTime::from_secs(10);
/// Upstream `DefaultPodMaxInUnschedulablePodsDuration`.
pub const MAX_IN_UNSCHEDULABLE: SimTime = SimTime::from_secs(300);
/// How often upstream flushes the unschedulable set.
pub const UNSCHEDULABLE_FLUSH_PERIOD: SimTime = SimTime::from_secs(30);

/// Back-off after `attempts` failed attempts: 1, 2, 4, 8, 10, 10, ... s.
pub fn backoff(attempts: u32) -> SimTime {
    if attempts == 0 {
        return SimTime::ZERO;
    }
    let shift = (attempts - 1).min(16);
    SimTime(INITIAL_BACKOFF.0.saturating_mul(1 << shift)).min(MAX_BACKOFF)
}

#[derive(Debug, PartialEq, Eq)]
struct Active {
    priority: i32,
    queued_at: SimTime,
    seq: u64,
    pod: PodId,
}

impl Ord for Active {
    /// Max-heap: higher priority, then earlier queue time, then earlier insertion.
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.queued_at.cmp(&self.queued_at))
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for Active {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The three queues.
#[derive(Debug, Default)]
pub struct SchedulingQueue {
    active: BinaryHeap<Active>,
    backoff: BinaryHeap<Reverse<(SimTime, u64, PodId)>>,
    unschedulable: Vec<PodId>,
    seq: u64,
}

impl SchedulingQueue {
    /// Adds a pod to activeQ.
    pub fn push_active(&mut self, world: &mut World, pod: PodId, now: SimTime) {
        let p = &mut world.pods[pod.0 as usize];
        p.queued_at = now;
        let priority = world.specs[p.workload.0 as usize].priority;
        self.seq += 1;
        self.active.push(Active {
            priority,
            queued_at: now,
            seq: self.seq,
            pod,
        });
    }

    /// The next pod to schedule.
    pub fn pop(&mut self) -> Option<PodId> {
        self.active.pop().map(|a| a.pod)
    }

    /// Pods waiting in activeQ.
    pub fn active_len(&self) -> usize {
        self.active.len()
    }

    /// Pods parked after a failed attempt (unschedulable set and back-off queue).
    pub fn waiting_len(&self) -> usize {
        self.unschedulable.len() + self.backoff.len()
    }

    /// Parks a pod that no node fits until a cluster event or the periodic flush.
    pub fn add_unschedulable(&mut self, pod: PodId) {
        self.unschedulable.push(pod);
    }

    /// `MoveAllToActiveOrBackoffQueue`: a node was added or a pod deleted.
    pub fn move_all(&mut self, world: &mut World, now: SimTime) {
        let pods = std::mem::take(&mut self.unschedulable);
        for pod in pods {
            self.requeue(world, pod, now);
        }
    }

    /// Moves pods that waited [`MAX_IN_UNSCHEDULABLE`] since their last attempt.
    pub fn flush_unschedulable(&mut self, world: &mut World, now: SimTime) {
        let pods = std::mem::take(&mut self.unschedulable);
        for pod in pods {
            if now.saturating_sub(world.pods[pod.0 as usize].last_attempt) >= MAX_IN_UNSCHEDULABLE {
                self.requeue(world, pod, now);
            } else {
                self.unschedulable.push(pod);
            }
        }
    }

    /// Moves pods whose back-off has ended to activeQ.
    pub fn flush_backoff(&mut self, world: &mut World, now: SimTime) {
        while let Some(Reverse((until, _, pod))) = self.backoff.peek().copied() {
            if until > now {
                break;
            }
            self.backoff.pop();
            self.push_active(world, pod, now);
        }
    }

    /// When the earliest back-off ends.
    pub fn next_backoff_end(&self) -> Option<SimTime> {
        self.backoff.peek().map(|Reverse((t, _, _))| *t)
    }

    /// True when something waits in the unschedulable set.
    pub fn has_unschedulable(&self) -> bool {
        !self.unschedulable.is_empty()
    }

    fn requeue(&mut self, world: &mut World, pod: PodId, now: SimTime) {
        let p = &world.pods[pod.0 as usize];
        let until = p.last_attempt.saturating_add(backoff(p.attempts));
        if until > now {
            self.seq += 1;
            self.backoff.push(Reverse((until, self.seq, pod)));
        } else {
            self.push_active(world, pod, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_up_to_ten() {
        let secs: Vec<u64> = (1..=7).map(|a| backoff(a).as_millis() / 1000).collect();
        assert_eq!(secs, [1, 2, 4, 8, 10, 10, 10]);
        assert_eq!(backoff(0), SimTime::ZERO);
        assert_eq!(backoff(200), MAX_BACKOFF);
    }

    #[test]
    fn priority_then_queue_time_then_insertion() {
        let mut h = BinaryHeap::new();
        let a = |priority, t, seq| Active {
            priority,
            queued_at: SimTime(t),
            seq,
            pod: PodId(seq as u32),
        };
        h.push(a(0, 5, 1));
        h.push(a(10, 9, 2));
        h.push(a(0, 1, 3));
        h.push(a(0, 1, 4));
        let order: Vec<u32> = std::iter::from_fn(|| h.pop().map(|x| x.pod.0)).collect();
        assert_eq!(order, [2, 3, 4, 1]);
    }
}
