//! The kubelet's container restarts: the crash-loop back-off between a container's exit
//! and its next start.
//!
//! Upstream: kubernetes/kubernetes `pkg/kubelet/kuberuntime/kuberuntime_manager.go`
//! (`doBackOff`), `staging/src/k8s.io/client-go/util/flowcontrol/backoff.go` (`Next`,
//! `hasExpired`) and `pkg/kubelet/kubelet.go` (10 s initial, `MaxContainerBackOff` 300 s).
//!
//! Follows upstream in: the first exit restarts at once; each later exit waits the current
//! back-off, which doubles from 10 s up to 300 s; an exit more than 600 s (2 × max) after
//! the last restart starts over; `restartPolicy: Always`.
//!
//! Simplified: the restart happens exactly at the deadline (upstream's next pod sync can be
//! a few seconds later); liveness and startup probes are not modelled yet (a crash is the
//! container exiting), nor `restartPolicy` OnFailure/Never (Deployments require Always).

use crate::engine::SimTime;

/// `backOffPeriod`: the first back-off.
pub const INITIAL_BACKOFF: SimTime = SimTime::from_secs(10);
/// `MaxContainerBackOff`.
pub const MAX_BACKOFF: SimTime = SimTime::from_secs(300);

/// For a container that exited at `now` with back-off entry `entry` (current back-off, last
/// update), the wait before its restart and the entry after that restart.
pub fn restart_delay(
    entry: Option<(SimTime, SimTime)>,
    now: SimTime,
) -> (SimTime, (SimTime, SimTime)) {
    let expired = |(_, last): (SimTime, SimTime)| {
        now.saturating_sub(last) > SimTime::from_millis(2 * MAX_BACKOFF.as_millis())
    };
    match entry {
        Some(e) if !expired(e) => {
            let wait = e.0;
            let restart = now.saturating_add(wait);
            let next = SimTime::from_millis((wait.as_millis() * 2).min(MAX_BACKOFF.as_millis()));
            (wait, (next, restart))
        }
        _ => (SimTime::ZERO, (INITIAL_BACKOFF, now)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_delays_follow_the_reference_table() {
        // Exits back to back: 0, 10, 20, 40, 80, 160, 300, 300 s.
        let mut entry = None;
        let mut t = SimTime::ZERO;
        let mut delays = Vec::new();
        for _ in 0..8 {
            let (wait, e) = restart_delay(entry, t);
            delays.push(wait.as_millis() / 1000);
            entry = Some(e);
            t = t.saturating_add(wait).saturating_add(SimTime::from_secs(5));
        }
        assert_eq!(delays, [0, 10, 20, 40, 80, 160, 300, 300]);
        // An exit more than 600 s after the last restart starts over.
        let (wait, e) = restart_delay(entry, t.saturating_add(SimTime::from_secs(700)));
        assert_eq!((wait, e.0), (SimTime::ZERO, INITIAL_BACKOFF));
    }
}
