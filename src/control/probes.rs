//! Liveness and readiness probes under load: a probe waits in the same queue as the app's
//! requests, so an overloaded pod fails them — liveness restarts it, readiness takes it
//! out of the endpoints — and the survivors get even more load: the cascade of real
//! incidents.
//!
//! Upstream: kubernetes/kubernetes `pkg/kubelet/prober/worker.go` (a worker per probe,
//! `failureThreshold` consecutive failures to act, `successThreshold` successes to
//! recover) and `pkg/apis/core/v1/defaults.go` (`SetDefaults_Probe`: period 10 s, timeout
//! 1 s, failure threshold 3, success threshold 1).
//!
//! Simplified: probes are judged at each metrics tick from the workload's mean queueing
//! delay (the backlog over the arrival rate), the same for all its pods; a run of failing
//! probes lasts from the first tick that saw the delay above the timeout, and acts once it
//! spans `failureThreshold` periods; handlers (`httpGet`, `exec`, ...) are not run.

use crate::cluster::usage::UsageSample;
use crate::engine::SimTime;

/// A probe's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// `initialDelaySeconds`.
    pub initial_delay: SimTime,
    /// `periodSeconds`.
    pub period: SimTime,
    /// `timeoutSeconds`.
    pub timeout: SimTime,
    /// `failureThreshold`.
    pub failure_threshold: u32,
    /// `successThreshold`.
    pub success_threshold: u32,
}

impl Probe {
    /// How long probes must fail in a row before the kubelet acts.
    pub fn failing_for(&self) -> SimTime {
        SimTime::from_millis(self.period.as_millis() * u64::from(self.failure_threshold))
    }

    /// How long probes must pass in a row before a pod is Ready again.
    pub fn passing_for(&self) -> SimTime {
        SimTime::from_millis(self.period.as_millis() * u64::from(self.success_threshold))
    }
}

/// The time a probe arriving now would wait for a worker: the workload's backlog over its
/// arrival rate (Little's law), 0 when nothing queues.
pub fn queueing_delay(usage: &UsageSample) -> SimTime {
    if usage.queue_total <= 0.0 || usage.rps_total <= 0.0 {
        return SimTime::ZERO;
    }
    SimTime::from_millis((usage.queue_total / usage.rps_total * 1000.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_act_after_three_periods_and_delay_follows_the_backlog() {
        let p = Probe {
            initial_delay: SimTime::ZERO,
            period: SimTime::from_secs(10),
            timeout: SimTime::from_secs(1),
            failure_threshold: 3,
            success_threshold: 1,
        };
        assert_eq!(p.failing_for(), SimTime::from_secs(30));
        assert_eq!(p.passing_for(), SimTime::from_secs(10));
        let usage = UsageSample {
            queue_total: 600.0,
            rps_total: 200.0,
            ..Default::default()
        };
        assert_eq!(queueing_delay(&usage), SimTime::from_secs(3));
        assert_eq!(queueing_delay(&UsageSample::default()), SimTime::ZERO);
    }
}
