//! Offered load over time, composed from simple components.
//!
//! Additive components (constant, ramp, diurnal, absolute spikes, traces) sum to a base
//! rate; spikes given as a multiplier scale that sum. This mirrors how people describe
//! traffic ("200 rps baseline with a daily cycle, and a 3× flash sale at noon").

use super::bursts::Bursts;
use super::trace::TraceSeries;
use std::sync::Arc;

/// The shape of a spike over time: 0 before, rising to 1, holding, falling back to 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpikeShape {
    /// Start of the ramp-up, seconds.
    pub at_s: f64,
    /// Ramp-up length, seconds.
    pub ramp_up_s: f64,
    /// Time at the peak, seconds.
    pub hold_s: f64,
    /// Ramp-down length, seconds.
    pub ramp_down_s: f64,
}

impl SpikeShape {
    /// Fraction of the peak reached at `t_s` (0..=1), piecewise linear.
    pub fn level(&self, t_s: f64) -> f64 {
        let t = t_s - self.at_s;
        if t < 0.0 {
            return 0.0;
        }
        if t < self.ramp_up_s {
            return t / self.ramp_up_s;
        }
        let t = t - self.ramp_up_s;
        if t < self.hold_s {
            return 1.0;
        }
        let t = t - self.hold_s;
        if t < self.ramp_down_s {
            return 1.0 - t / self.ramp_down_s;
        }
        0.0
    }
}

/// One additive part of the offered rate.
#[derive(Debug, Clone)]
pub enum Component {
    /// A flat rate.
    Constant {
        /// Requests per second.
        rps: f64,
    },
    /// Linear from `from` to `to` between `start_s` and `end_s`.
    Ramp {
        /// Rate before the start.
        from: f64,
        /// Rate after the end.
        to: f64,
        /// Start, seconds.
        start_s: f64,
        /// End, seconds.
        end_s: f64,
    },
    /// Cosine day cycle.
    Diurnal {
        /// Trough rate.
        min: f64,
        /// Peak rate.
        max: f64,
        /// Time of the peak, seconds.
        peak_s: f64,
        /// Cycle length, seconds.
        period_s: f64,
    },
    /// Extra rate shaped like a spike.
    Spike {
        /// Shape over time.
        shape: SpikeShape,
        /// Extra rate at the peak.
        rps: f64,
    },
    /// A level change: `rps` more (or less, when negative) from `at_s` until `until_s`.
    Step {
        /// When the new level starts, seconds.
        at_s: f64,
        /// When it ends, seconds (infinity: never).
        until_s: f64,
        /// Rate added while the step lasts (may be negative: a drop).
        rps: f64,
    },
    /// A replayed recording.
    Trace(Arc<TraceSeries>),
}

impl Component {
    fn rate_at(&self, t_s: f64) -> f64 {
        match self {
            Component::Constant { rps } => *rps,
            Component::Ramp {
                from,
                to,
                start_s,
                end_s,
            } => {
                if t_s <= *start_s {
                    *from
                } else if t_s >= *end_s {
                    *to
                } else {
                    from + (to - from) * (t_s - start_s) / (end_s - start_s)
                }
            }
            Component::Diurnal {
                min,
                max,
                peak_s,
                period_s,
            } => {
                let phase = 2.0 * std::f64::consts::PI * (t_s - peak_s) / period_s;
                min + (max - min) * 0.5 * (1.0 + phase.cos())
            }
            Component::Spike { shape, rps } => rps * shape.level(t_s),
            Component::Step { at_s, until_s, rps } => {
                if (*at_s..*until_s).contains(&t_s) {
                    *rps
                } else {
                    0.0
                }
            }
            Component::Trace(series) => series.rate_at(t_s),
        }
    }
}

impl Component {
    /// The mean rate over `[t0, t1]`: exact for every shape but the spike (midpoint rule).
    fn mean_rate(&self, t0_s: f64, t1_s: f64) -> f64 {
        let span = t1_s - t0_s;
        if span <= 0.0 {
            return self.rate_at(t0_s);
        }
        match self {
            Component::Constant { rps } => *rps,
            Component::Ramp {
                from,
                to,
                start_s,
                end_s,
            } => {
                // Antiderivative of the clamped linear ramp.
                let area = |t: f64| {
                    let before = t.min(*start_s);
                    let during = (t.min(*end_s) - start_s).max(0.0);
                    let after = (t - end_s).max(0.0);
                    from * before
                        + from * during
                        + (to - from) * during * during / (2.0 * (end_s - start_s))
                        + to * after
                };
                (area(t1_s) - area(t0_s)) / span
            }
            Component::Diurnal {
                min,
                max,
                peak_s,
                period_s,
            } => {
                let w = 2.0 * std::f64::consts::PI / period_s;
                let mean_cos =
                    ((w * (t1_s - peak_s)).sin() - (w * (t0_s - peak_s)).sin()) / (w * span);
                min + (max - min) * 0.5 * (1.0 + mean_cos)
            }
            Component::Step { at_s, until_s, rps } => {
                let overlap = (t1_s.min(*until_s) - t0_s.max(*at_s)).max(0.0);
                rps * overlap / span
            }
            Component::Trace(series) => series.mean_rate(t0_s, t1_s),
            Component::Spike { .. } => midpoint_mean(|t| self.rate_at(t), t0_s, t1_s),
        }
    }
}

/// A workload's offered load: additive components times multiplicative spikes.
#[derive(Debug, Clone, Default)]
pub struct TrafficModel {
    /// Summed parts.
    pub components: Vec<Component>,
    /// Spikes given as multipliers: `(shape, peak multiplier)`.
    pub multipliers: Vec<(SpikeShape, f64)>,
    /// Random bursts on top of everything (a Markov-modulated Poisson process).
    pub bursts: Option<Bursts>,
}

impl TrafficModel {
    /// The offered rate (requests per second) at an instant.
    pub fn rate_at(&self, t_s: f64) -> f64 {
        let base: f64 = self.components.iter().map(|c| c.rate_at(t_s)).sum();
        let factor: f64 = self
            .multipliers
            .iter()
            .map(|(shape, m)| 1.0 + (m - 1.0) * shape.level(t_s))
            .product();
        (base * factor).max(0.0)
    }

    /// The mean rate over `[t0, t1]`, so a tick sees the area under the curve rather than
    /// one sampled point: exact for traces, the composite midpoint rule otherwise.
    pub fn mean_rate(&self, t0_s: f64, t1_s: f64) -> f64 {
        if self.multipliers.is_empty() {
            // A sum: each component's own mean, in closed form where there is one.
            let sum: f64 = self
                .components
                .iter()
                .map(|c| c.mean_rate(t0_s, t1_s))
                .sum();
            return sum.max(0.0);
        }
        midpoint_mean(|t| self.rate_at(t), t0_s, t1_s)
    }

    /// The mean rates between consecutive `edges` (increasing, seconds), appended to
    /// `out`: each [`Self::mean_rate`] of its span to the bit. A lone replayed trace, the
    /// common case, computes each edge's area once.
    pub fn mean_rates_between(&self, edges: &[f64], out: &mut Vec<f64>) {
        if let ([Component::Trace(series)], true) =
            (&self.components[..], self.multipliers.is_empty())
        {
            let from = out.len();
            series.mean_rates_between(edges, out);
            for r in &mut out[from..] {
                // As mean_rate sums its one component.
                *r = std::iter::once(*r).sum::<f64>().max(0.0);
            }
            return;
        }
        out.extend(edges.windows(2).map(|p| self.mean_rate(p[0], p[1])));
    }
}

/// The mean of `f` over `[t0, t1]` by the composite midpoint rule. Midpoints never fall on
/// the edges, so a step exactly at a tick boundary (a spike with no ramp) stays in its tick.
fn midpoint_mean(f: impl Fn(f64) -> f64, t0_s: f64, t1_s: f64) -> f64 {
    const POINTS: u32 = 8;
    let step = (t1_s - t0_s) / f64::from(POINTS);
    (0..POINTS)
        .map(|i| f(t0_s + (f64::from(i) + 0.5) * step))
        .sum::<f64>()
        / f64::from(POINTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spike() -> SpikeShape {
        SpikeShape {
            at_s: 100.0,
            ramp_up_s: 10.0,
            hold_s: 20.0,
            ramp_down_s: 10.0,
        }
    }

    #[test]
    fn spike_shape_ramps_holds_and_returns() {
        let s = spike();
        assert_eq!(s.level(99.0), 0.0);
        assert_eq!(s.level(105.0), 0.5);
        assert_eq!(s.level(110.0), 1.0);
        assert_eq!(s.level(129.9), 1.0);
        assert!((s.level(135.0) - 0.5).abs() < 1e-12);
        assert_eq!(s.level(140.0), 0.0);
    }

    #[test]
    fn multiplier_scales_the_sum_and_absolute_spike_adds() {
        let model = TrafficModel {
            components: vec![
                Component::Constant { rps: 100.0 },
                Component::Spike {
                    shape: spike(),
                    rps: 50.0,
                },
            ],
            multipliers: vec![(spike(), 3.0)],
            bursts: None,
        };
        assert_eq!(model.rate_at(0.0), 100.0);
        assert_eq!(model.rate_at(115.0), 450.0); // (100 + 50) · 3
        assert_eq!(model.rate_at(105.0), (100.0 + 25.0) * 2.0);
    }

    #[test]
    fn diurnal_peaks_at_peak_time_and_bottoms_half_a_period_later() {
        let c = Component::Diurnal {
            min: 10.0,
            max: 110.0,
            peak_s: 3600.0,
            period_s: 86_400.0,
        };
        assert!((c.rate_at(3600.0) - 110.0).abs() < 1e-9);
        assert!((c.rate_at(3600.0 + 43_200.0) - 10.0).abs() < 1e-9);
        assert!((c.rate_at(3600.0 + 21_600.0) - 60.0).abs() < 1e-9);
    }

    #[test]
    fn ramp_is_linear_and_clamped() {
        let c = Component::Ramp {
            from: 0.0,
            to: 100.0,
            start_s: 10.0,
            end_s: 20.0,
        };
        assert_eq!(c.rate_at(0.0), 0.0);
        assert_eq!(c.rate_at(15.0), 50.0);
        assert_eq!(c.rate_at(99.0), 100.0);
    }

    #[test]
    fn closed_form_means_match_fine_numeric_integration() {
        let shapes = [
            Component::Ramp {
                from: 10.0,
                to: 70.0,
                start_s: 100.0,
                end_s: 400.0,
            },
            Component::Diurnal {
                min: 5.0,
                max: 95.0,
                peak_s: 3_000.0,
                period_s: 7_200.0,
            },
            Component::Step {
                at_s: 250.0,
                until_s: 260.5,
                rps: -40.0,
            },
        ];
        for c in &shapes {
            for (t0, t1) in [
                (0.0, 150.0),
                (90.0, 410.0),
                (255.0, 256.0),
                (1_000.0, 5_000.0),
            ] {
                let n = 200_000;
                let h = (t1 - t0) / f64::from(n);
                let numeric: f64 = (0..n)
                    .map(|i| c.rate_at(t0 + (f64::from(i) + 0.5) * h))
                    .sum::<f64>()
                    / f64::from(n);
                let exact = c.mean_rate(t0, t1);
                assert!(
                    (exact - numeric).abs() < 1e-3,
                    "{c:?} [{t0}, {t1}]: {exact} vs {numeric}"
                );
            }
        }
    }

    #[test]
    fn mean_rate_integrates_a_ramp_exactly() {
        let model = TrafficModel {
            components: vec![Component::Ramp {
                from: 0.0,
                to: 100.0,
                start_s: 0.0,
                end_s: 100.0,
            }],
            multipliers: vec![],
            bursts: None,
        };
        assert!((model.mean_rate(0.0, 10.0) - 5.0).abs() < 1e-12);
    }
}
