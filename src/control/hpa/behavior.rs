//! From a metric proposal to the replica count the HPA writes: stabilization windows and
//! scaling policies (`spec.behavior`), or the legacy rules when no behavior is given.
//!
//! Upstream: kubernetes/kubernetes `pkg/controller/podautoscaler/horizontal.go`
//! (`normalizeDesiredReplicas`, `stabilizeRecommendation`, `convertDesiredReplicasWithRules`,
//! `normalizeDesiredReplicasWithBehaviors`, `stabilizeRecommendationWithBehaviors`,
//! `convertDesiredReplicasWithBehaviorRate`, `calculateScaleUpLimitWithScalingRules`,
//! `calculateScaleDownLimitWithBehaviors`, `getReplicasChangePerPeriod`, `storeScaleEvent`)
//! and `pkg/apis/autoscaling/v2/defaults.go` for the default rules.
//!
//! Follows upstream in: strict "after the cutoff" windows, the recommendation history
//! reusing one sample older than both windows, scale events marked outdated past the
//! longest policy period and reused, `ceil` for Percent scale-up and truncation for
//! Percent scale-down, selectPolicy Max/Min/Disabled, and the condition reasons
//! (`ScaleUpLimit`, `TooManyReplicas`, `ScaleDownLimit`, `TooFewReplicas`,
//! `DesiredWithinRange`).
//!
//! Simplified: none in the arithmetic; conditions are reported as the limiting reason of
//! each sync rather than as status conditions.

use crate::engine::SimTime;

/// Legacy scale-up cap: `max(2 × current, 4)` (upstream `scaleUpLimitFactor`,
/// `scaleUpLimitMinimum`).
pub const SCALE_UP_LIMIT_FACTOR: f64 = 2.0;
/// See [`SCALE_UP_LIMIT_FACTOR`].
pub const SCALE_UP_LIMIT_MINIMUM: f64 = 4.0;

/// A policy's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// A number of pods per period.
    Pods,
    /// A percentage of the replicas at the start of the period.
    Percent,
}

/// `HPAScalingPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Pods or Percent.
    pub kind: PolicyKind,
    /// The amount.
    pub value: i32,
    /// `periodSeconds`.
    pub period: SimTime,
}

/// `selectPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectPolicy {
    /// The policy allowing the biggest change (default).
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// `HPAScalingRules` with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingRules {
    /// `stabilizationWindowSeconds`.
    pub stabilization: SimTime,
    /// `selectPolicy`.
    pub select: SelectPolicy,
    /// `policies`.
    pub policies: Vec<Policy>,
    /// `tolerance` (default: the controller's, 0.1).
    pub tolerance: f64,
}

impl ScalingRules {
    /// Upstream's default scale-up rules: no stabilization; at most 4 pods or 100% per
    /// 15 s, whichever is more.
    pub fn default_up(tolerance: f64) -> ScalingRules {
        ScalingRules {
            stabilization: SimTime::ZERO,
            select: SelectPolicy::Max,
            policies: vec![
                Policy {
                    kind: PolicyKind::Pods,
                    value: 4,
                    period: SimTime::from_secs(15),
                },
                Policy {
                    kind: PolicyKind::Percent,
                    value: 100,
                    period: SimTime::from_secs(15),
                },
            ],
            tolerance,
        }
    }

    /// Upstream's default scale-down rules: the controller's downscale stabilization
    /// window (300 s), then down to the minimum at once (100% per 15 s).
    pub fn default_down(stabilization: SimTime, tolerance: f64) -> ScalingRules {
        ScalingRules {
            stabilization,
            select: SelectPolicy::Max,
            policies: vec![Policy {
                kind: PolicyKind::Percent,
                value: 100,
                period: SimTime::from_secs(15),
            }],
            tolerance,
        }
    }

    fn longest_period(&self) -> SimTime {
        self.policies
            .iter()
            .map(|p| p.period)
            .max()
            .unwrap_or(SimTime::ZERO)
    }
}

/// `spec.behavior` with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Behavior {
    /// Scale-up rules.
    pub scale_up: ScalingRules,
    /// Scale-down rules.
    pub scale_down: ScalingRules,
}

/// Why the count written differs from (or equals) the proposal: upstream's condition
/// reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Within min/max and the rate limits.
    DesiredWithinRange,
    /// Capped by the scale-up rate.
    ScaleUpLimit,
    /// Capped by maxReplicas.
    TooManyReplicas,
    /// Held up by the scale-down rate.
    ScaleDownLimit,
    /// Raised to minReplicas.
    TooFewReplicas,
    /// Held below the proposal by the scale-up stabilization window (or at the current
    /// count while the proposal rises).
    ScaleUpStabilized,
    /// Held above the proposal by a scale-down stabilization window.
    ScaleDownStabilized,
}

impl Limit {
    /// Upstream's reason string.
    pub fn reason(self) -> &'static str {
        match self {
            Limit::DesiredWithinRange => "DesiredWithinRange",
            Limit::ScaleUpLimit => "ScaleUpLimit",
            Limit::TooManyReplicas => "TooManyReplicas",
            Limit::ScaleDownLimit => "ScaleDownLimit",
            Limit::TooFewReplicas => "TooFewReplicas",
            Limit::ScaleUpStabilized => "ScaleUpStabilized",
            Limit::ScaleDownStabilized => "ScaleDownStabilized",
        }
    }
}

/// A recommendation kept for stabilization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recommendation {
    /// When it was made.
    pub at: SimTime,
    /// The replicas recommended.
    pub replicas: u32,
}

/// A rescale kept for the rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleEvent {
    /// When.
    pub at: SimTime,
    /// Pods added (scale-up list) or removed (scale-down list).
    pub change: u32,
    /// Older than the longest policy period: its slot may be reused.
    pub outdated: bool,
}

/// One HPA's memory between syncs (upstream keeps these maps by HPA key).
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Recent recommendations.
    pub recommendations: Vec<Recommendation>,
    /// Recent scale-ups.
    pub scale_up_events: Vec<ScaleEvent>,
    /// Recent scale-downs.
    pub scale_down_events: Vec<ScaleEvent>,
}

/// Strictly after `now − window` (a window of 0 keeps nothing).
fn after_cutoff(at: SimTime, now: SimTime, window: SimTime) -> bool {
    now.checked_sub(window).is_none_or(|cutoff| at > cutoff)
}

/// Strictly before `now − window`.
fn before_cutoff(at: SimTime, now: SimTime, window: SimTime) -> bool {
    now.checked_sub(window).is_some_and(|cutoff| at < cutoff)
}

impl History {
    /// Legacy stabilization: the highest recommendation of the last `window` (and this
    /// one); stores this one, reusing a sample older than the window.
    pub fn stabilize_legacy(&mut self, now: SimTime, desired: u32, window: SimTime) -> u32 {
        let mut max = desired;
        let mut old = None;
        for (i, r) in self.recommendations.iter().enumerate() {
            if before_cutoff(r.at, now, window) {
                old = Some(i);
            } else if r.replicas > max {
                max = r.replicas;
            }
        }
        self.store_recommendation(old, now, desired);
        max
    }

    /// Two-sided stabilization: no higher than the lowest recommendation of the scale-up
    /// window, no lower than the highest of the scale-down window, else the current count.
    pub fn stabilize(
        &mut self,
        now: SimTime,
        current: u32,
        desired: u32,
        behavior: &Behavior,
    ) -> u32 {
        let (mut up, mut down) = (desired, desired);
        let (up_window, down_window) = (
            behavior.scale_up.stabilization,
            behavior.scale_down.stabilization,
        );
        let mut old = None;
        for (i, r) in self.recommendations.iter().enumerate() {
            if after_cutoff(r.at, now, up_window) {
                up = up.min(r.replicas);
            }
            if after_cutoff(r.at, now, down_window) {
                down = down.max(r.replicas);
            }
            if before_cutoff(r.at, now, up_window) && before_cutoff(r.at, now, down_window) {
                old = Some(i);
            }
        }
        self.store_recommendation(old, now, desired);
        current.max(up).min(down)
    }

    fn store_recommendation(&mut self, old: Option<usize>, now: SimTime, replicas: u32) {
        let rec = Recommendation { at: now, replicas };
        match old {
            Some(i) => self.recommendations[i] = rec,
            None => self.recommendations.push(rec),
        }
    }

    /// Pods added (or removed) by the events of the last `period`.
    fn change_in_period(events: &[ScaleEvent], now: SimTime, period: SimTime) -> i64 {
        events
            .iter()
            .filter(|e| after_cutoff(e.at, now, period))
            .map(|e| i64::from(e.change))
            .sum()
    }

    /// The most replicas the scale-up policies allow now.
    pub fn scale_up_limit(&self, now: SimTime, current: u32, rules: &ScalingRules) -> i64 {
        let pick: fn(i64, i64) -> i64 = match rules.select {
            SelectPolicy::Disabled => return i64::from(current),
            SelectPolicy::Min => i64::min,
            SelectPolicy::Max => i64::max,
        };
        let mut result = if rules.select == SelectPolicy::Min {
            i64::from(i32::MAX)
        } else {
            i64::from(i32::MIN)
        };
        for p in &rules.policies {
            let start = self.period_start(now, current, p.period);
            let proposed = match p.kind {
                PolicyKind::Pods => start + i64::from(p.value),
                PolicyKind::Percent => {
                    (start as f64 * (1.0 + f64::from(p.value) / 100.0)).ceil() as i64
                }
            };
            result = pick(result, proposed);
        }
        result
    }

    /// The fewest replicas the scale-down policies allow now.
    pub fn scale_down_limit(&self, now: SimTime, current: u32, rules: &ScalingRules) -> i64 {
        let pick: fn(i64, i64) -> i64 = match rules.select {
            SelectPolicy::Disabled => return i64::from(current),
            SelectPolicy::Min => i64::max,
            SelectPolicy::Max => i64::min,
        };
        let mut result = if rules.select == SelectPolicy::Min {
            i64::from(i32::MIN)
        } else {
            i64::from(i32::MAX)
        };
        for p in &rules.policies {
            let start = self.period_start(now, current, p.period);
            let proposed = match p.kind {
                PolicyKind::Pods => start - i64::from(p.value),
                // Truncation, as upstream's int32 conversion.
                PolicyKind::Percent => (start as f64 * (1.0 - f64::from(p.value) / 100.0)) as i64,
            };
            result = pick(result, proposed);
        }
        result
    }

    /// Replicas at the start of a policy period: current minus what the period added,
    /// plus what it removed.
    fn period_start(&self, now: SimTime, current: u32, period: SimTime) -> i64 {
        i64::from(current) - Self::change_in_period(&self.scale_up_events, now, period)
            + Self::change_in_period(&self.scale_down_events, now, period)
    }

    /// Records a rescale for the rate limits (only HPAs with `behavior` keep them).
    pub fn store_scale_event(&mut self, behavior: &Behavior, now: SimTime, from: u32, to: u32) {
        let (events, rules, change) = if to > from {
            (&mut self.scale_up_events, &behavior.scale_up, to - from)
        } else if to < from {
            (&mut self.scale_down_events, &behavior.scale_down, from - to)
        } else {
            return;
        };
        let longest = rules.longest_period();
        for e in events.iter_mut() {
            if before_cutoff(e.at, now, longest) {
                e.outdated = true;
            }
        }
        let event = ScaleEvent {
            at: now,
            change,
            outdated: false,
        };
        // Upstream overwrites the last outdated slot.
        match events.iter_mut().rev().find(|e| e.outdated) {
            Some(slot) => *slot = event,
            None => events.push(event),
        }
    }
}

/// Legacy rate and range rules (no `behavior`): at most `max(2 × current, 4)`, within
/// min and max.
pub fn convert_legacy(current: u32, desired: u32, min: u32, max: u32) -> (u32, Limit) {
    convert_legacy_with_factor(current, desired, min, max, SCALE_UP_LIMIT_FACTOR)
}

/// [`convert_legacy`] with another scale-up factor (upstream's tests use 8).
pub fn convert_legacy_with_factor(
    current: u32,
    desired: u32,
    min: u32,
    max: u32,
    factor: f64,
) -> (u32, Limit) {
    let scale_up_limit = (factor * f64::from(current)).max(SCALE_UP_LIMIT_MINIMUM);
    let scale_up_limit = scale_up_limit as u32;
    let (max_allowed, max_reason) = if max > scale_up_limit {
        (scale_up_limit, Limit::ScaleUpLimit)
    } else {
        (max, Limit::TooManyReplicas)
    };
    if desired < min {
        (min, Limit::TooFewReplicas)
    } else if desired > max_allowed {
        (max_allowed, max_reason)
    } else {
        (desired, Limit::DesiredWithinRange)
    }
}

/// The scaling policies applied to a stabilized recommendation.
pub fn convert_with_behavior(
    history: &History,
    now: SimTime,
    current: u32,
    desired: u32,
    min: u32,
    max: u32,
    behavior: &Behavior,
) -> (u32, Limit) {
    if desired > current {
        let limit = history
            .scale_up_limit(now, current, &behavior.scale_up)
            .max(i64::from(current));
        let (max_allowed, reason) = if i64::from(max) > limit {
            (limit as u32, Limit::ScaleUpLimit)
        } else {
            (max, Limit::TooManyReplicas)
        };
        if desired > max_allowed {
            return (max_allowed, reason);
        }
    } else if desired < current {
        let limit = history
            .scale_down_limit(now, current, &behavior.scale_down)
            .min(i64::from(current));
        let (min_allowed, reason) = if i64::from(min) < limit {
            (limit as u32, Limit::ScaleDownLimit)
        } else {
            (min, Limit::TooFewReplicas)
        };
        if desired < min_allowed {
            return (min_allowed, reason);
        }
    }
    (desired, Limit::DesiredWithinRange)
}

/// Upstream `normalizeDesiredReplicas` (no behavior): legacy stabilization, then the
/// legacy rules.
pub fn normalize_legacy(
    history: &mut History,
    now: SimTime,
    current: u32,
    proposal: u32,
    min: u32,
    max: u32,
    downscale_window: SimTime,
) -> (u32, Limit) {
    let stabilized = history.stabilize_legacy(now, proposal, downscale_window);
    let (desired, limit) = convert_legacy(current, stabilized, min, max);
    if limit == Limit::DesiredWithinRange && stabilized != proposal {
        return (desired, Limit::ScaleDownStabilized);
    }
    (desired, limit)
}

/// Upstream `normalizeDesiredReplicasWithBehaviors`: two-sided stabilization, then the
/// scaling policies.
#[allow(clippy::too_many_arguments)]
pub fn normalize_with_behavior(
    history: &mut History,
    now: SimTime,
    current: u32,
    proposal: u32,
    min: u32,
    max: u32,
    behavior: &Behavior,
) -> (u32, Limit) {
    let stabilized = history.stabilize(now, current, proposal, behavior);
    let (desired, limit) =
        convert_with_behavior(history, now, current, stabilized, min, max, behavior);
    if limit == Limit::DesiredWithinRange && stabilized != proposal {
        let held = if proposal >= current {
            Limit::ScaleUpStabilized
        } else {
            Limit::ScaleDownStabilized
        };
        return (desired, held);
    }
    (desired, limit)
}
