//! The pending-event priority queue.
//!
//! Events are ordered by `(time, insertion sequence)`: two events at the same millisecond
//! come out in the order they were scheduled. That tie rule is what makes a run
//! reproducible without relying on how the heap happens to be laid out.

use super::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    /// Reversed so that std's max-heap pops the earliest `(time, seq)` first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// A min-queue of events keyed by `(time, insertion sequence)`.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

impl<E> std::fmt::Debug for EventQueue<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventQueue")
            .field("len", &self.heap.len())
            .field("next_seq", &self.next_seq)
            .finish()
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }

    /// An empty queue with room for `n` events, so a known-size run does not regrow it.
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(n),
            next_seq: 0,
        }
    }

    /// Adds an event; later pushes at the same time pop later.
    pub fn push(&mut self, time: SimTime, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { time, seq, event });
    }

    /// Removes and returns the earliest event.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|e| (e.time, e.event))
    }

    /// The time of the earliest event, without removing it.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.time)
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::RngStreams;
    use rand::RngExt;

    /// Model-based check: the queue pops exactly what a stable sort by time yields.
    #[test]
    fn matches_a_stable_sort_on_random_schedules() {
        let streams = RngStreams::new(7);
        for case in 0..50u64 {
            let mut rng = streams.stream_indexed("queue-oracle", case);
            let mut queue = EventQueue::new();
            let mut oracle: Vec<(u64, u32)> = Vec::new();
            let n = rng.random_range(0..300u32);
            for id in 0..n {
                // Few distinct times, so ties are common.
                let t = rng.random_range(0..20u64);
                queue.push(SimTime(t), id);
                oracle.push((t, id));
            }
            oracle.sort_by_key(|&(t, _)| t); // stable: insertion order within a time
            let popped: Vec<(u64, u32)> = std::iter::from_fn(|| queue.pop())
                .map(|(t, id)| (t.0, id))
                .collect();
            assert_eq!(popped, oracle, "case {case}");
        }
    }

    #[test]
    fn interleaved_pushes_keep_fifo_within_a_time() {
        let mut q = EventQueue::with_capacity(4);
        q.push(SimTime(5), "first");
        q.push(SimTime(1), "early");
        q.push(SimTime(5), "second");
        assert_eq!(q.pop(), Some((SimTime(1), "early")));
        q.push(SimTime(5), "third");
        assert_eq!(q.pop().map(|p| p.1), Some("first"));
        assert_eq!(q.pop().map(|p| p.1), Some("second"));
        assert_eq!(q.pop().map(|p| p.1), Some("third"));
        assert!(q.is_empty());
    }
}
