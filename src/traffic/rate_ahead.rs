//! A workload's offered rate for the coming ticks, computed a batch at a time.
//!
//! A traffic curve depends on time only, not on what the cluster does, so the mean rate of
//! the next ticks can be computed before they come. One workload's batch walks its curve
//! (a replayed trace's rows, say) front to back while they are in the cache; computed a
//! tick at a time, among a thousand other workloads, every tick's two lookups missed it.
//! Results are bit-identical to asking the curve every tick: the same function, the same
//! arguments.

use super::pattern::TrafficModel;
use crate::engine::SimTime;

/// Ticks computed per batch: 64 × 8 bytes, one page's worth for a thousand workloads
/// together.
const BATCH: usize = 64;

/// Mean rates of the ticks `start + k·step .. start + (k+1)·step`, k < `rates.len()`.
#[derive(Debug, Default, Clone)]
pub struct RateAhead {
    start: SimTime,
    step: SimTime,
    /// The next tick to hand out.
    next: usize,
    rates: Vec<f64>,
    /// Scratch: the batch's tick edges, seconds.
    edges: Vec<f64>,
}

impl RateAhead {
    /// The mean of `model` over `[last, now]`, requests per second (0 for an empty tick).
    /// Regular ticks are served from the batch; a tick off the grid (a shorter last tick,
    /// say) starts a new one.
    pub fn mean_rate(&mut self, model: &TrafficModel, last: SimTime, now: SimTime) -> f64 {
        let step = now.saturating_sub(last);
        if step == SimTime::ZERO {
            return 0.0;
        }
        let expected = SimTime::from_millis(
            self.start
                .as_millis()
                .saturating_add(self.step.as_millis().saturating_mul(self.next as u64)),
        );
        if self.next >= self.rates.len() || step != self.step || last != expected {
            self.refill(model, last, step);
        }
        let rate = self.rates[self.next];
        self.next += 1;
        rate
    }

    fn refill(&mut self, model: &TrafficModel, start: SimTime, step: SimTime) {
        self.start = start;
        self.step = step;
        self.next = 0;
        self.rates.clear();
        self.edges.clear();
        let mut t = start;
        self.edges.push(t.as_secs_f64());
        for _ in 0..BATCH {
            t = t.saturating_add(step);
            self.edges.push(t.as_secs_f64());
        }
        model.mean_rates_between(&self.edges, &mut self.rates);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::pattern::Component;

    fn ramp() -> TrafficModel {
        TrafficModel {
            components: vec![Component::Ramp {
                from: 10.0,
                to: 1000.0,
                start_s: 100.0,
                end_s: 5000.0,
            }],
            ..TrafficModel::default()
        }
    }

    #[test]
    fn batched_rates_are_the_curves_to_the_bit() {
        let model = ramp();
        let mut ahead = RateAhead::default();
        let step = SimTime::from_secs(15);
        let mut last = SimTime::ZERO;
        for _ in 0..500 {
            let now = last.saturating_add(step);
            let direct = model.mean_rate(last.as_secs_f64(), now.as_secs_f64());
            assert_eq!(
                ahead.mean_rate(&model, last, now).to_bits(),
                direct.to_bits()
            );
            last = now;
        }
    }

    #[test]
    fn batched_trace_rates_are_the_traces_to_the_bit() {
        use crate::traffic::trace::{TraceOptions, TraceSeries, TraceValues};
        // 97 rows of uneven rates, sped up, skipped into and looping: ticks of 15 s and
        // 7 s cross rows, the trace's end and its start again.
        let text: String = std::iter::once("t,rps\n".to_string())
            .chain((0..97).map(|i| format!("{i},{}\n", (i * 37 % 23) as f64 * 1.7 + 0.3)))
            .collect();
        for (speedup, skip_s, repeat) in [(1.0, 0.0, true), (1.3, 41.5, true), (0.7, 5.0, false)] {
            let opts = TraceOptions {
                time_column: None,
                value_column: None,
                values: TraceValues::Rate,
                speedup,
                scale: 2.5,
                peak_rps: None,
                skip_s,
                repeat,
            };
            let series = TraceSeries::parse("t.csv", &text, &opts).expect("valid trace");
            let model = TrafficModel {
                components: vec![Component::Trace(std::sync::Arc::new(series))],
                ..TrafficModel::default()
            };
            for step_s in [15, 7] {
                let mut ahead = RateAhead::default();
                let step = SimTime::from_secs(step_s);
                let mut last = SimTime::ZERO;
                for _ in 0..200 {
                    let now = last.saturating_add(step);
                    let direct = model.mean_rate(last.as_secs_f64(), now.as_secs_f64());
                    let batched = ahead.mean_rate(&model, last, now);
                    assert_eq!(batched.to_bits(), direct.to_bits(), "{speedup} {skip_s}");
                    last = now;
                }
            }
        }
    }

    #[test]
    fn a_tick_off_the_grid_starts_a_new_batch() {
        let model = ramp();
        let mut ahead = RateAhead::default();
        let s = SimTime::from_secs;
        let first = ahead.mean_rate(&model, s(1000), s(1015));
        assert_eq!(first, model.mean_rate(1000.0, 1015.0));
        // A shorter tick, then a jump: both answered for their own span.
        assert_eq!(
            ahead.mean_rate(&model, s(1015), s(1020)),
            model.mean_rate(1015.0, 1020.0)
        );
        assert_eq!(
            ahead.mean_rate(&model, s(3000), s(3005)),
            model.mean_rate(3000.0, 3005.0)
        );
        assert_eq!(ahead.mean_rate(&model, s(3005), s(3005)), 0.0);
    }
}
