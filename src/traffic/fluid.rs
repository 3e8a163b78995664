//! One workload's tick of the fluid model: its own service (traffic, calls and retries
//! meeting its pods as a queue), then the outcome made end to end, the latency booked and
//! the time-series row. Everything a workload's tick reads and writes is borrowed apart in
//! a [`Lane`], so the tick of one workload cannot reach another's state by accident.
//! The model itself is described in [`super::plane`].

use super::bursts::BurstState;
use super::latency_book::LatencyBook;
use super::latency_tables::LatencyTables;
use super::queueing::{LatencyDist, ServiceTime, TickLoad, TickOutcome, reshape, serve_tick};
use super::rate_ahead::RateAhead;
use crate::cluster::PodState;
use crate::cluster::usage::UsageSample;
use crate::cluster::world::{Node, Pod, WorkloadState};
use crate::engine::{SimRng, SimTime};
use crate::metrics::{TimeseriesRow, WorkloadTotals};
use crate::scenario::{Arrivals, WorkloadSpec};
use rand_distr::{Distribution, Poisson};

/// Requests waiting to be retried.
#[derive(Debug, Clone, Copy)]
pub(super) struct PendingRetry {
    pub(super) due: SimTime,
    /// Attempts already made (1 = the first failed).
    pub(super) attempt: u32,
    pub(super) count: f64,
    /// Mean time since the first attempt when the retry arrives, seconds.
    pub(super) elapsed_s: f64,
}

/// One workload's traffic state carried across ticks.
#[derive(Debug)]
pub struct WorkloadTraffic {
    pub(super) arrivals_rng: SimRng,
    pub(super) burst_rng: SimRng,
    pub(super) burst: Option<BurstState>,
    pub(super) backlog: f64,
    pub(super) retries: Vec<PendingRetry>,
    /// Downstream time per request, seconds (from the previous tick).
    pub(super) downstream_s: f64,
    // This tick, filled in pass 1 and read in pass 2:
    /// Calls arriving from callers.
    pub(super) called: f64,
    /// Arrivals by attempt number (index 0: first attempts).
    pub(super) arrivals_by_attempt: Vec<f64>,
    /// ∑ count × time since the first attempt, by attempt number (for the latency of
    /// requests that succeed on a retry).
    pub(super) elapsed_by_attempt: Vec<f64>,
    /// Requests that failed at once this tick (no endpoint, or a dead one).
    pub(super) failed_at_once: f64,
    /// Requests its own pods served within the timeout.
    pub(super) own_served: f64,
    /// Mean own response time of served requests, seconds.
    pub(super) own_mean_s: f64,
    /// Fraction of arrivals that succeeded end to end.
    pub(super) success: f64,
    /// Mean end-to-end response time of successful requests, seconds.
    pub(super) e2e_mean_s: f64,
    pub(super) outcome: Option<TickOutcome>,
    /// Requests per second the serving pods' own work could sustain this tick.
    pub(super) capacity_rps: f64,
    /// Latency not yet spread into the histogram.
    pub(super) latency: LatencyBook,
    /// The curve's mean rate over the coming ticks.
    pub(super) rate_ahead: RateAhead,
}

impl WorkloadTraffic {
    /// The workload's own offered rate over `(last, now]`: the curve's mean times the burst
    /// factor (which advances the burst process, so call it once per tick).
    pub(super) fn offered_rate(
        &mut self,
        spec: &crate::scenario::WorkloadSpec,
        last: SimTime,
        now: SimTime,
    ) -> f64 {
        if now <= last {
            return 0.0;
        }
        let burst = match (&mut self.burst, &spec.traffic.bursts) {
            (Some(state), Some(b)) => state.factor(
                b,
                &mut self.burst_rng,
                last.as_secs_f64(),
                now.as_secs_f64(),
            ),
            _ => 1.0,
        };
        self.rate_ahead.mean_rate(&spec.traffic, last, now) * burst
    }
}

/// A Poisson count with mean `mean` (0 for a zero or invalid mean).
pub(super) fn poisson(rng: &mut SimRng, mean: f64) -> f64 {
    if mean <= 0.0 || !mean.is_finite() {
        return 0.0;
    }
    if mean > 1e12 {
        return mean; // beyond any real rate; Poisson noise is negligible here
    }
    match Poisson::new(mean) {
        Ok(d) => d.sample(rng),
        Err(_) => mean,
    }
}

/// The cluster a workload's pods run on, read only during a traffic tick.
#[derive(Debug, Clone, Copy)]
pub struct Fleet<'a> {
    /// Every pod, by id.
    pub pods: &'a [Pod],
    /// Every node, by id.
    pub nodes: &'a [Node],
}

/// What the calls a workload's requests make did this tick.
#[derive(Debug, Clone, Copy)]
pub struct CallsOutcome {
    /// Chance that all of a request's calls succeeded.
    pub success: f64,
    /// Mean time a request spends in its calls, seconds.
    pub mean_s: f64,
}

impl CallsOutcome {
    /// A workload that makes no calls.
    pub const NONE: CallsOutcome = CallsOutcome {
        success: 1.0,
        mean_s: 0.0,
    };
}

/// One workload's share of the run, borrowed apart from the others': its spec, its
/// cluster state (endpoints, usage), its traffic state and its totals.
#[derive(Debug)]
pub struct Lane<'a> {
    /// Workload index.
    pub index: u32,
    /// Its spec.
    pub spec: &'a WorkloadSpec,
    /// Its cluster state.
    pub state: &'a mut WorkloadState,
    /// Its traffic state.
    pub traffic: &'a mut WorkloadTraffic,
    /// Its run totals.
    pub totals: &'a mut WorkloadTotals,
}

impl<'a> Lane<'a> {
    /// Workload `w`'s lane, borrowed out of the run's per-workload arrays.
    pub fn of(
        w: usize,
        specs: &'a [WorkloadSpec],
        states: &'a mut [WorkloadState],
        traffic: &'a mut [WorkloadTraffic],
        totals: &'a mut [WorkloadTotals],
    ) -> Lane<'a> {
        Lane {
            index: w as u32,
            spec: &specs[w],
            state: &mut states[w],
            traffic: &mut traffic[w],
            totals: &mut totals[w],
        }
    }

    /// The workload's own service this tick: its traffic, the calls its callers made
    /// (`traffic.called`) and the retries due meet its pods. Leaves the outcome in
    /// `traffic` for [`Lane::finish`]; a caller's calls are then `traffic.own_served`
    /// times each call's ratio.
    pub fn serve_own(&mut self, fleet: &Fleet, last: SimTime, now: SimTime) {
        let dt = now.saturating_sub(last);
        let dt_s = dt.as_secs_f64();
        let endpoints = self.state.take_endpoint_averages(now, dt);
        let spec = self.spec;
        let service = spec.service;
        let wt = &mut *self.traffic;
        let expected = wt.offered_rate(spec, last, now) * dt_s;
        let external = match spec.arrivals {
            Arrivals::Fluid => expected,
            Arrivals::Poisson => poisson(&mut wt.arrivals_rng, expected),
        };
        // First attempts: own traffic and calls; later attempts: retries now due.
        wt.arrivals_by_attempt.iter_mut().for_each(|a| *a = 0.0);
        wt.elapsed_by_attempt.iter_mut().for_each(|a| *a = 0.0);
        wt.arrivals_by_attempt[0] = external + wt.called;
        wt.retries.retain(|r| {
            if r.due <= now {
                wt.arrivals_by_attempt[r.attempt as usize] += r.count;
                wt.elapsed_by_attempt[r.attempt as usize] += r.count * r.elapsed_s;
                false
            } else {
                true
            }
        });
        let arrivals: f64 = wt.arrivals_by_attempt.iter().sum();
        let cores = average_cores_per_ready_pod(spec, self.state, fleet);
        let idle = arrivals <= 0.0 && wt.backlog <= 0.0;
        // Requests routed to a listed pod that no longer answers fail at once.
        let dead_share = endpoints.failing_share;
        // The pod's cores are shared by the requests doing their own work (processor
        // sharing, as the exact model does). Without calls, the pod is an M/M/k queue with
        // k = min(concurrency, cores) servers (rounded, at least 1, each at the matching
        // rate): PS and FCFS hold the same number of requests on average. With calls, a
        // request holds one of `concurrency` slots for its own work, stretched by the CPU
        // contention 1 / (1 − ρ_cpu) of processor sharing, plus its calls.
        let cpu_s = service.cpu_seconds_per_request;
        let c = f64::from(service.concurrency);
        let usable = c.min(cores);
        let serving_pods = (endpoints.listed - endpoints.dead).max(0.0);
        wt.capacity_rps = own_capacity_rps(serving_pods, usable, cpu_s);
        let (servers, per_server_s) = if usable <= 0.0 {
            (service.concurrency, 0.0)
        } else if wt.downstream_s <= 0.0 {
            own_servers(usable, service.concurrency, cpu_s)
        } else {
            let lambda_pod = if serving_pods > 0.0 && dt_s > 0.0 {
                arrivals / dt_s / serving_pods
            } else {
                0.0
            };
            let rho_cpu = (lambda_pod * cpu_s / usable).min(MAX_STRETCH_RHO);
            (
                service.concurrency,
                cpu_s / (1.0 - rho_cpu) + wt.downstream_s,
            )
        };
        let outcome = if dt_s <= 0.0 || idle {
            TickOutcome {
                served: 0.0,
                failed: 0.0,
                backlog: 0.0,
                latency: None,
                cpu_cores_used: 0.0,
            }
        } else {
            let dead = arrivals * dead_share;
            let expected_all = expected + wt.called + (arrivals - wt.arrivals_by_attempt[0]);
            let mut out = serve_tick(&TickLoad {
                arrivals: arrivals - dead,
                expected_arrivals: expected_all * (1.0 - dead_share),
                dt_s,
                endpoints: serving_pods,
                // A whole core per server: serve_tick's server rate is 1 / per_server_s.
                cores_per_pod: if per_server_s > 0.0 {
                    f64::from(servers)
                } else {
                    0.0
                },
                cpu_s_per_request: per_server_s,
                concurrency: servers,
                timeout_s: service.timeout.as_secs_f64(),
                backlog: wt.backlog,
            });
            out.failed += dead;
            wt.failed_at_once = dead
                + if serving_pods <= 0.0 {
                    out.failed - dead
                } else {
                    0.0
                };
            // CPU burns during own work only (cpuPerRequest per request), not while a
            // request waits on its calls; the pods cannot burn more than their cores.
            let serving = (endpoints.listed - endpoints.dead).max(0.0);
            // serve_tick counts busy servers; the CPU is the requests processed (late ones
            // included) times their own CPU.
            let processed = if per_server_s > 0.0 {
                out.cpu_cores_used * dt_s / per_server_s
            } else {
                0.0
            };
            out.cpu_cores_used = (processed / dt_s * cpu_s).min(cores * serving);
            // With calls, a slot was held for own work plus calls; the request's own
            // response is its wait plus its own work, the calls are added end to end.
            // A service time other than exponential reshapes wait and service.
            let own_mean_s = per_server_s - wt.downstream_s;
            let shaped = service.service_time != ServiceTime::Exponential;
            if (wt.downstream_s > 0.0 || shaped) && own_mean_s > 0.0 {
                out.latency = out
                    .latency
                    .map(|d| reshape(d, service.service_time, own_mean_s));
            }
            // Below saturation the share answered in time follows the reshaped distribution.
            if shaped
                && out.backlog <= 0.0
                && let Some(LatencyDist::Mmc { .. }) = out.latency
                && let Some(d) = out.latency
            {
                let answered = out.served + out.failed - dead;
                out.served = answered * (1.0 - d.survival(service.timeout.as_secs_f64()));
                out.failed = answered - out.served + dead;
            }
            wt.own_mean_s = out.latency.map_or(0.0, |d| d.mean());
            out
        };
        wt.backlog = outcome.backlog;
        wt.own_served = outcome.served;
        wt.outcome = Some(outcome);
    }

    /// Makes the tick's outcome end to end, given what the calls each request makes
    /// did (`calls`, from the callees, already final), books the latency, queues the
    /// retries and returns the tick's time-series row (None when the workload was not
    /// served this tick).
    pub fn finish(
        &mut self,
        calls: CallsOutcome,
        tables: &mut LatencyTables,
        now: SimTime,
        dt_s: f64,
    ) -> Option<TimeseriesRow> {
        let spec = self.spec;
        let service = spec.service;
        let CallsOutcome {
            success: calls_success,
            mean_s: calls_s,
        } = calls;
        let wt = &mut *self.traffic;
        let failed_at_once = std::mem::take(&mut wt.failed_at_once);
        let outcome = wt.outcome.take()?;
        let arrivals: f64 = wt.arrivals_by_attempt.iter().sum();
        let served = wt.own_served * calls_success;
        let failed = outcome.failed + wt.own_served * (1.0 - calls_success);
        wt.success = if arrivals > 0.0 {
            (served / arrivals).min(1.0)
        } else {
            1.0
        };
        wt.e2e_mean_s = wt.own_mean_s + calls_s;
        wt.downstream_s = calls_s;
        // Failed requests go back to their clients; those with attempts left retry.
        let fail_share = if arrivals > 0.0 {
            (failed / arrivals).min(1.0)
        } else {
            0.0
        };
        let mut final_failed = 0.0;
        let last_attempt = wt.arrivals_by_attempt.len() - 1;
        // A failed attempt took about the timeout, unless it failed at once.
        let at_once = if failed > 0.0 {
            (failed_at_once / failed).min(1.0)
        } else {
            0.0
        };
        let fail_time_s = service.timeout.as_secs_f64() * (1.0 - at_once);
        for (attempt, &count) in wt.arrivals_by_attempt.iter().enumerate() {
            let f = count * fail_share;
            if f <= 0.0 {
                continue;
            }
            match service.retries {
                Some(r) if attempt < last_attempt => {
                    let backoff = SimTime::from_millis(r.backoff.as_millis() << attempt.min(20));
                    let elapsed = wt.elapsed_by_attempt[attempt] / count;
                    wt.retries.push(PendingRetry {
                        due: now.saturating_add(backoff),
                        attempt: attempt as u32 + 1,
                        count: f,
                        elapsed_s: elapsed + fail_time_s + backoff.as_secs_f64(),
                    });
                }
                _ => final_failed += f,
            }
        }
        let first_attempts = wt.arrivals_by_attempt[0];
        let totals = &mut *self.totals;
        totals.offered += first_attempts;
        totals.served += served;
        totals.failed += final_failed;
        totals.retried += fail_share * (arrivals - wt.arrivals_by_attempt[last_attempt]);
        let timeout_s = service.timeout.as_secs_f64();
        // End-to-end latency: own response plus the calls' mean.
        // Requests that succeed on a retry count their time since the first attempt.
        let tick_p99 = outcome.latency.map(|d| {
            if arrivals <= 0.0 {
                // Only queued requests from earlier ticks were served.
                return wt
                    .latency
                    .book(d, served, calls_s, timeout_s, tables, &mut totals.latency)
                    + calls_s;
            }
            let mut p99 = 0.0;
            for attempt in 0..wt.arrivals_by_attempt.len() {
                let count = wt.arrivals_by_attempt[attempt];
                if count <= 0.0 {
                    continue;
                }
                let elapsed = wt.elapsed_by_attempt[attempt] / count;
                let share = served * count / arrivals;
                let shift = calls_s + elapsed;
                let p = wt
                    .latency
                    .book(d, share, shift, timeout_s, tables, &mut totals.latency)
                    + shift;
                if attempt == 0 {
                    p99 = p;
                }
            }
            p99
        });
        let e2e_mean_s = self.traffic.e2e_mean_s;
        let capacity_rps = self.traffic.capacity_rps;
        Some(self.record_row(
            now,
            dt_s,
            TickFigures {
                offered: first_attempts,
                served,
                failed: final_failed,
                cpu_cores_used: outcome.cpu_cores_used,
                p99_s: tick_p99,
                // Little's law: requests hold their slot through their calls.
                in_flight: if dt_s > 0.0 {
                    served / dt_s * e2e_mean_s
                } else {
                    0.0
                },
                queued: outcome.backlog,
                capacity_rps,
            },
        ))
    }

    /// Writes a workload's time-series row and its usage sample (what the HPA and the VPA
    /// recommender read).
    pub(super) fn record_row(&mut self, now: SimTime, dt_s: f64, f: TickFigures) -> TimeseriesRow {
        let spec = self.spec;
        let ready = f64::from(self.state.ready);
        let requested_cores = ready * spec.cpu_request_milli as f64 / 1000.0;
        let base_cores = ready * spec.service.base_cpu_milli as f64 / 1000.0;
        let per_s = |x: f64| if dt_s > 0.0 { x / dt_s } else { 0.0 };
        let used_cores = f.cpu_cores_used + base_cores;
        let per_pod = if ready > 0.0 {
            let per_pod = used_cores * 1000.0 / ready;
            match spec.cpu_limit_milli {
                Some(limit) => per_pod.min(limit as f64),
                None => per_pod,
            }
        } else {
            0.0
        };
        let ready_pods = self.state.ready;
        let base_memory = spec
            .service
            .base_memory_bytes
            .unwrap_or(spec.memory_request_bytes) as f64;
        let per_request_memory = spec.service.memory_per_request_bytes as f64;
        let idle_cpu = match spec.cpu_limit_milli {
            Some(limit) => (spec.service.base_cpu_milli as f64).min(limit as f64),
            None => spec.service.base_cpu_milli as f64,
        };
        self.state.usage = UsageSample {
            at: now,
            // dt_s ≥ 0 is whole milliseconds: adding a half and truncating rounds, without
            // the libm call `round` is on a baseline x86-64 build.
            window: SimTime::from_millis((dt_s * 1000.0 + 0.5) as u64),
            cpu_milli_serving: per_pod,
            cpu_milli_idle: idle_cpu,
            memory_bytes_serving: base_memory
                + per_request_memory * f.in_flight / f64::from(ready_pods.max(1)),
            memory_bytes_idle: base_memory,
            rps_per_pod: per_s(f.offered) / f64::from(ready_pods.max(1)),
            rps_total: per_s(f.offered),
            in_flight_total: f.in_flight,
            queue_total: f.queued,
            ready_pods,
        };
        let usage = &self.state.usage;
        let totals = &mut *self.totals;
        totals.cpu_used_core_s += usage.cpu_milli_serving / 1000.0 * f64::from(ready_pods) * dt_s;
        totals.memory_used_byte_s += usage.memory_bytes_serving * f64::from(ready_pods) * dt_s;
        let ws = &*self.state;
        TimeseriesRow {
            time: now,
            workload: self.index,
            replicas_desired: ws.desired,
            replicas_ready: ws.ready,
            rps_offered: per_s(f.offered),
            rps_served: per_s(f.served),
            rps_failed: per_s(f.failed),
            rps_capacity: f.capacity_rps,
            cpu_utilization: if requested_cores > 0.0 {
                used_cores / requested_cores
            } else {
                0.0
            },
            latency_p99_ms: f.p99_s.map(|s| s * 1000.0),
        }
    }
}

/// CPU utilization beyond which the processor-sharing stretch stops growing (20×): past
/// it the slots, not the stretch, limit what the pod serves.
const MAX_STRETCH_RHO: f64 = 0.95;

/// One tick of one workload, as recorded.
#[derive(Debug, Clone, Copy)]
pub(super) struct TickFigures {
    pub(super) offered: f64,
    pub(super) served: f64,
    pub(super) failed: f64,
    pub(super) cpu_cores_used: f64,
    pub(super) p99_s: Option<f64>,
    /// Requests being served, time average.
    pub(super) in_flight: f64,
    /// Requests waiting at the end of the tick.
    pub(super) queued: f64,
    /// Requests per second the serving pods could sustain.
    pub(super) capacity_rps: f64,
}

/// Requests per second `pods` pods sustain when each works on `slots` requests at once
/// (its concurrency, capped by its cores) and a request needs `cpu_s` of CPU.
pub(super) fn own_capacity_rps(pods: f64, slots: f64, cpu_s: f64) -> f64 {
    if cpu_s > 0.0 && slots > 0.0 {
        pods * slots / cpu_s
    } else {
        0.0
    }
}

/// A pod without calls as the M/M/k queue it is on average: k = its usable cores
/// (`usable` > 0: concurrency capped by cores) rounded, at least 1 and at most
/// `concurrency`, each serving at the matching rate. Returns k and each server's time
/// per request, seconds.
pub fn own_servers(usable: f64, concurrency: u32, cpu_s: f64) -> (u32, f64) {
    // usable > 0: adding a half and truncating rounds (no libm call).
    let k = ((usable + 0.5) as u64 as f64).clamp(1.0, f64::from(concurrency));
    (k as u32, cpu_s * k / usable)
}

/// Mean CPU cores a Ready pod of workload `w` can use: its limit when it has one, otherwise
/// its request plus a CFS-weight share (by request) of its node's unrequested CPU.
pub(super) fn average_cores_per_ready_pod(
    spec: &WorkloadSpec,
    state: &WorkloadState,
    fleet: &Fleet,
) -> f64 {
    let mut sum = 0.0;
    let mut n = 0u32;
    for &pod in &state.active {
        let p = &fleet.pods[pod.0 as usize];
        if p.state != PodState::Ready {
            continue;
        }
        let Some(node) = p.node else { continue };
        let node = &fleet.nodes[node.0 as usize];
        let weight = spec.cpu_request_milli.max(2) as f64;
        let spare = node
            .cpu_allocatable_milli
            .saturating_sub(node.cpu_requested_milli) as f64;
        let burst = spec.cpu_request_milli as f64
            + spare * weight / (node.cpu_requested_milli as f64).max(weight);
        let cores_milli = match spec.cpu_limit_milli {
            Some(limit) => limit as f64,
            None => burst,
        };
        sum += cores_milli / 1000.0;
        n += 1;
    }
    let base = spec.service.base_cpu_milli as f64 / 1000.0;
    if n == 0 {
        0.0
    } else {
        (sum / f64::from(n) - base).max(0.0)
    }
}
