//! The discrete-event core: a simulated clock, a (time, sequence)-ordered event queue and
//! named random streams.
//!
//! It exists so that every controller shares one notion of "now" and one deterministic order
//! of happenings. **Invariant:** nothing in this module knows about Kubernetes; it is generic
//! over the event type so the same core drives a cluster run, a benchmark or a test.

pub mod queue;
pub mod rng;
pub mod time;

pub use queue::EventQueue;
pub use rng::{RngStreams, SimRng};
pub use time::SimTime;

/// A clock plus its pending events: the loop of every simulation pops from here.
///
/// Time never moves backwards: scheduling an event in the past is a programming error and
/// is clamped to "now" so a bad controller cannot reorder history.
#[derive(Debug)]
pub struct Engine<E> {
    now: SimTime,
    queue: EventQueue<E>,
    processed: u64,
}

impl<E> Default for Engine<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Engine<E> {
    /// A new engine at time zero with no events.
    pub fn new() -> Self {
        Engine {
            now: SimTime::ZERO,
            queue: EventQueue::new(),
            processed: 0,
        }
    }

    /// The simulated time of the event being handled (or of the last one).
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// How many events have been popped so far; reports and benchmarks use it as the
    /// unit of work.
    pub fn events_processed(&self) -> u64 {
        self.processed
    }

    /// Events still waiting.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Schedules `event` at absolute time `at` (clamped to now).
    pub fn schedule_at(&mut self, at: SimTime, event: E) {
        self.queue.push(at.max(self.now), event);
    }

    /// Schedules `event` after `delay` from now.
    pub fn schedule_in(&mut self, delay: SimTime, event: E) {
        self.queue.push(self.now.saturating_add(delay), event);
    }

    /// Pops the next event at or before `until`, advancing the clock to its time.
    /// Returns `None` when the queue is empty or the next event lies after `until`.
    pub fn pop_until(&mut self, until: SimTime) -> Option<E> {
        if self.queue.peek_time()? > until {
            return None;
        }
        let (time, event) = self.queue.pop()?;
        self.now = time;
        self.processed += 1;
        Some(event)
    }

    /// Moves the clock forward to `t` (used at the end of a run so totals cover the whole
    /// duration even when the last event came earlier).
    pub fn advance_to(&mut self, t: SimTime) {
        self.now = self.now.max(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_follows_popped_events_and_stops_at_horizon() {
        let mut engine = Engine::new();
        engine.schedule_at(SimTime::from_secs(5), 'b');
        engine.schedule_at(SimTime::from_secs(1), 'a');
        engine.schedule_at(SimTime::from_secs(20), 'c');
        assert_eq!(engine.pop_until(SimTime::from_secs(10)), Some('a'));
        assert_eq!(engine.now(), SimTime::from_secs(1));
        engine.schedule_in(SimTime::from_secs(2), 'x');
        assert_eq!(engine.pop_until(SimTime::from_secs(10)), Some('x'));
        assert_eq!(engine.now(), SimTime::from_secs(3));
        assert_eq!(engine.pop_until(SimTime::from_secs(10)), Some('b'));
        assert_eq!(engine.pop_until(SimTime::from_secs(10)), None);
        assert_eq!(engine.pending(), 1);
        assert_eq!(engine.events_processed(), 3);
    }

    #[test]
    fn events_in_the_past_are_clamped_to_now() {
        let mut engine = Engine::new();
        engine.schedule_at(SimTime::from_secs(10), 1);
        engine.pop_until(SimTime::MAX);
        engine.schedule_at(SimTime::from_secs(2), 2);
        assert_eq!(engine.pop_until(SimTime::MAX), Some(2));
        assert_eq!(engine.now(), SimTime::from_secs(10));
    }
}
