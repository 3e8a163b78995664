//! The traffic plane of one run: at every metrics tick, turns each workload's offered load,
//! its Service endpoints and its pods' CPU into served and failed requests and latency.
//!
//! Fluid model (the default), one tick: workloads are visited callers first (the call graph
//! is a DAG). Each receives its own traffic (pattern × bursts, Poisson counts), the calls
//! its callers made this tick, and the retries that fell due. Requests sent to endpoints
//! whose pod no longer answers fail at once; the rest meet the pods as a queue
//! ([`super::queueing`]): M/M/k with k = min(concurrency, cores) without calls; with calls,
//! `concurrency` slots each held for the own work (stretched by processor sharing) plus the
//! callees' mean time from the previous tick, so overload downstream saturates callers too.
//! A second pass, callees first, makes outcomes end to end: a request succeeds only if its
//! own work finished within the timeout and every call it made succeeded. Failed attempts
//! go back as retries when the workload's clients retry. Latency is booked per quantized
//! distribution and spread into the streaming histogram once.
//!
//! Exact model (`requestModel: exact`): the whole tick goes to [`super::exact`], which
//! simulates every request, call and retry.
//!
//! Simplified (fluid): downstream time is a mean, not the callee's distribution; a call's
//! success is independent of the others; retries re-enter at tick granularity.

use super::bursts::BurstState;
use super::exact::{Endpoint, ExactNetwork, WorkloadParams};
use super::latency_book::LatencyBook;
use super::latency_tables::LatencyTables;
use super::queueing::{LatencyDist, ServiceTime, TickLoad, TickOutcome, reshape, serve_tick};
use super::rate_ahead::RateAhead;
use crate::cluster::usage::UsageSample;
use crate::cluster::{PodState, World};
use crate::engine::{RngStreams, SimRng, SimTime};
use crate::metrics::{Recorder, TimeseriesRow};
use crate::scenario::{Arrivals, RequestModel, Scenario};
use rand_distr::{Distribution, Poisson};

/// Requests waiting to be retried.
#[derive(Debug, Clone, Copy)]
struct PendingRetry {
    due: SimTime,
    /// Attempts already made (1 = the first failed).
    attempt: u32,
    count: f64,
    /// Mean time since the first attempt when the retry arrives, seconds.
    elapsed_s: f64,
}

/// One workload's traffic state carried across ticks.
#[derive(Debug)]
struct WorkloadTraffic {
    arrivals_rng: SimRng,
    burst_rng: SimRng,
    burst: Option<BurstState>,
    backlog: f64,
    retries: Vec<PendingRetry>,
    /// Downstream time per request, seconds (from the previous tick).
    downstream_s: f64,
    // This tick, filled in pass 1 and read in pass 2:
    /// Calls arriving from callers.
    called: f64,
    /// Arrivals by attempt number (index 0: first attempts).
    arrivals_by_attempt: Vec<f64>,
    /// ∑ count × time since the first attempt, by attempt number (for the latency of
    /// requests that succeed on a retry).
    elapsed_by_attempt: Vec<f64>,
    /// Requests that failed at once this tick (no endpoint, or a dead one).
    failed_at_once: f64,
    /// Requests its own pods served within the timeout.
    own_served: f64,
    /// Mean own response time of served requests, seconds.
    own_mean_s: f64,
    /// Fraction of arrivals that succeeded end to end.
    success: f64,
    /// Mean end-to-end response time of successful requests, seconds.
    e2e_mean_s: f64,
    outcome: Option<TickOutcome>,
    /// Requests per second the serving pods' own work could sustain this tick.
    capacity_rps: f64,
    /// Latency not yet spread into the histogram.
    latency: LatencyBook,
    /// The curve's mean rate over the coming ticks.
    rate_ahead: RateAhead,
}

impl WorkloadTraffic {
    /// The workload's own offered rate over `(last, now]`: the curve's mean times the burst
    /// factor (which advances the burst process, so call it once per tick).
    fn offered_rate(
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

/// The traffic side of a run.
#[derive(Debug)]
pub struct TrafficPlane {
    /// Callers before callees.
    order: Vec<u32>,
    workloads: Vec<WorkloadTraffic>,
    endpoints_scratch: Vec<Endpoint>,
    /// The exact per-request model, when the scenario asks for it.
    network: Option<ExactNetwork>,
    /// Bucket shares of the distributions the workloads book, shared by all of them.
    tables: LatencyTables,
}

/// A Poisson count with mean `mean` (0 for a zero or invalid mean).
fn poisson(rng: &mut SimRng, mean: f64) -> f64 {
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

impl TrafficPlane {
    /// The plane for `scenario`, its random streams derived from `streams`.
    pub fn new(scenario: &Scenario, streams: &RngStreams) -> TrafficPlane {
        let workloads: Vec<WorkloadTraffic> = scenario
            .workloads
            .iter()
            .enumerate()
            .map(|(w, spec)| {
                let mut burst_rng = streams.stream_indexed("bursts", w as u64);
                let burst = spec
                    .traffic
                    .bursts
                    .map(|b| BurstState::new(&b, &mut burst_rng));
                let attempts = spec.service.retries.map_or(0, |r| r.attempts) as usize + 1;
                WorkloadTraffic {
                    arrivals_rng: streams.stream_indexed("traffic", w as u64),
                    burst_rng,
                    burst,
                    backlog: 0.0,
                    retries: Vec::new(),
                    downstream_s: 0.0,
                    called: 0.0,
                    arrivals_by_attempt: vec![0.0; attempts],
                    elapsed_by_attempt: vec![0.0; attempts],
                    failed_at_once: 0.0,
                    own_served: 0.0,
                    own_mean_s: 0.0,
                    success: 1.0,
                    e2e_mean_s: 0.0,
                    outcome: None,
                    capacity_rps: 0.0,
                    latency: LatencyBook::default(),
                    rate_ahead: RateAhead::default(),
                }
            })
            .collect();
        TrafficPlane {
            order: crate::scenario::call_order(&scenario.workloads),
            network: (scenario.request_model == RequestModel::Exact)
                .then(|| ExactNetwork::new(scenario.workloads.len(), streams.stream("exact"))),
            tables: LatencyTables::new(workloads.len()),
            workloads,
            endpoints_scratch: Vec::new(),
        }
    }

    /// Advances every workload over the tick `(last, now]` and records the results.
    pub fn tick(&mut self, world: &mut World, last: SimTime, now: SimTime, rec: &mut Recorder) {
        let dt = now.saturating_sub(last);
        let dt_s = dt.as_secs_f64();
        let (t0, t1) = (last.as_secs_f64(), now.as_secs_f64());
        if self.network.is_some() {
            return self.exact_tick(world, now, dt, t0, t1, rec);
        }
        if self.tables.is_full() {
            // Bounded memory: spread what every workload booked, then start afresh.
            for (w, wt) in self.workloads.iter_mut().enumerate() {
                wt.latency
                    .spread_tables(&mut self.tables, &mut rec.workloads[w].latency);
            }
            self.tables.clear();
        }
        for wt in &mut self.workloads {
            wt.called = 0.0;
        }
        for i in 0..self.order.len() {
            let w = self.order[i] as usize;
            self.serve_own(world, w, last, now, dt, dt_s);
        }
        for i in (0..self.order.len()).rev() {
            let w = self.order[i] as usize;
            self.finish_end_to_end(world, w, now, dt_s, rec);
        }
    }

    /// One tick of the exact model: every workload's requests at once, calls included.
    fn exact_tick(
        &mut self,
        world: &mut World,
        now: SimTime,
        dt: SimTime,
        t0: f64,
        t1: f64,
        rec: &mut Recorder,
    ) {
        let Some(mut network) = self.network.take() else {
            return;
        };
        let dt_s = dt.as_secs_f64();
        let mut params = Vec::with_capacity(world.specs.len());
        for w in 0..world.specs.len() {
            world.take_endpoint_averages(w, now, dt); // keep the integrals in step
            self.endpoints_scratch.clear();
            for &pod in &world.workloads[w].endpoints {
                self.endpoints_scratch.push(Endpoint {
                    pod: pod.0,
                    serving: world.pods[pod.0 as usize].state == PodState::Ready,
                });
            }
            network.set_endpoints(w, &self.endpoints_scratch);
            let cores = average_cores_per_ready_pod(world, w);
            let spec = &world.specs[w];
            let service = spec.service;
            self.workloads[w].capacity_rps = own_capacity_rps(
                f64::from(world.workloads[w].ready),
                f64::from(service.concurrency).min(cores),
                service.cpu_seconds_per_request,
            );
            let rate_rps = self.workloads[w].offered_rate(spec, now.saturating_sub(dt), now);
            params.push(WorkloadParams {
                rate_rps,
                mu: 1.0 / service.cpu_seconds_per_request,
                service: service.service_time,
                // No Ready pod: nothing listed answers, so the cores are never used.
                cores: cores.max(1e-3),
                concurrency: service.concurrency,
                timeout_s: service.timeout.as_secs_f64(),
                cpu_s_per_request: service.cpu_seconds_per_request,
                calls: spec.calls.clone(),
                retries: service.retries.map_or(0, |r| r.attempts),
                backoff_s: service.retries.map_or(0.0, |r| r.backoff.as_secs_f64()),
            });
        }
        network.run_tick(params, t0, t1);
        let in_network = network.in_flight_by_workload();
        for w in 0..world.specs.len() {
            let t = &network.ticks[w];
            let totals = &mut rec.workloads[w];
            totals.offered += t.offered;
            totals.served += t.served;
            totals.failed += t.failed;
            totals.retried += t.retried;
            totals.latency.merge(&t.latency);
            let figures = TickFigures {
                offered: t.offered,
                served: t.served,
                failed: t.failed,
                cpu_cores_used: if dt_s > 0.0 { t.cpu_s / dt_s } else { 0.0 },
                p99_s: t.latency.quantile(0.99),
                // Little's law over the tick's completed requests.
                in_flight: if dt_s > 0.0 {
                    t.response_sum_s / dt_s
                } else {
                    0.0
                },
                queued: (in_network.get(w).copied().unwrap_or(0.0) - capacity_slots(world, w))
                    .max(0.0),
                capacity_rps: self.workloads[w].capacity_rps,
            };
            record_row(world, rec, w, now, dt_s, figures);
        }
        self.network = Some(network);
    }

    #[allow(clippy::too_many_arguments)]
    fn serve_own(
        &mut self,
        world: &mut World,
        w: usize,
        last: SimTime,
        now: SimTime,
        dt: SimTime,
        dt_s: f64,
    ) {
        let endpoints = world.take_endpoint_averages(w, now, dt);
        let spec = &world.specs[w];
        let service = spec.service;
        let wt = &mut self.workloads[w];
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
        let cores = average_cores_per_ready_pod(world, w);
        let spec = &world.specs[w];
        let wt = &mut self.workloads[w];
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
            let k = usable.round().clamp(1.0, c);
            (k as u32, cpu_s * k / usable)
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
        for c in &spec.calls {
            let callee = c.workload as usize;
            let served = self.workloads[w].own_served;
            self.workloads[callee].called += served * c.ratio;
        }
        self.workloads[w].outcome = Some(outcome);
    }

    fn finish_end_to_end(
        &mut self,
        world: &mut World,
        w: usize,
        now: SimTime,
        dt_s: f64,
        rec: &mut Recorder,
    ) {
        let spec = &world.specs[w];
        let service = spec.service;
        // Success and time of the calls each request makes (callees are already final).
        let mut calls_success = 1.0;
        let mut calls_s = 0.0;
        for c in &spec.calls {
            let callee = &self.workloads[c.workload as usize];
            calls_success *= callee.success.powf(c.ratio);
            calls_s += c.ratio * callee.e2e_mean_s;
        }
        let wt = &mut self.workloads[w];
        let failed_at_once = std::mem::take(&mut wt.failed_at_once);
        let Some(outcome) = wt.outcome.take() else {
            return;
        };
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
        let totals = &mut rec.workloads[w];
        totals.offered += first_attempts;
        totals.served += served;
        totals.failed += final_failed;
        totals.retried += fail_share * (arrivals - wt.arrivals_by_attempt[last_attempt]);
        let timeout_s = service.timeout.as_secs_f64();
        // End-to-end latency: own response plus the calls' mean.
        // Requests that succeed on a retry count their time since the first attempt.
        let tick_p99 = outcome.latency.map(|d| {
            let wt = &mut self.workloads[w];
            if arrivals <= 0.0 {
                // Only queued requests from earlier ticks were served.
                return wt.latency.book(
                    d,
                    served,
                    calls_s,
                    timeout_s,
                    &mut self.tables,
                    &mut totals.latency,
                ) + calls_s;
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
                let p = wt.latency.book(
                    d,
                    share,
                    shift,
                    timeout_s,
                    &mut self.tables,
                    &mut totals.latency,
                ) + shift;
                if attempt == 0 {
                    p99 = p;
                }
            }
            p99
        });
        record_row(
            world,
            rec,
            w,
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
                    served / dt_s * self.workloads[w].e2e_mean_s
                } else {
                    0.0
                },
                queued: outcome.backlog,
                capacity_rps: self.workloads[w].capacity_rps,
            },
        );
    }

    /// Requests still waiting for a retry when the run ends: they count as failed, so
    /// served + failed = offered.
    pub fn finish(&mut self, rec: &mut Recorder) {
        if let Some(network) = &self.network {
            for (w, n) in network.in_flight_by_workload().into_iter().enumerate() {
                rec.workloads[w].failed += n;
            }
        }
        for (w, wt) in self.workloads.iter_mut().enumerate() {
            wt.latency
                .flush(&mut self.tables, &mut rec.workloads[w].latency);
            let pending: f64 = wt.retries.iter().map(|r| r.count).sum();
            rec.workloads[w].failed += pending + wt.backlog;
            wt.retries.clear();
            wt.backlog = 0.0;
        }
    }
}

/// CPU utilization beyond which the processor-sharing stretch stops growing (20×): past
/// it the slots, not the stretch, limit what the pod serves.
const MAX_STRETCH_RHO: f64 = 0.95;

/// One tick of one workload, as recorded.
#[derive(Debug, Clone, Copy)]
struct TickFigures {
    offered: f64,
    served: f64,
    failed: f64,
    cpu_cores_used: f64,
    p99_s: Option<f64>,
    /// Requests being served, time average.
    in_flight: f64,
    /// Requests waiting at the end of the tick.
    queued: f64,
    /// Requests per second the serving pods could sustain.
    capacity_rps: f64,
}

/// Requests per second `pods` pods sustain when each works on `slots` requests at once
/// (its concurrency, capped by its cores) and a request needs `cpu_s` of CPU.
fn own_capacity_rps(pods: f64, slots: f64, cpu_s: f64) -> f64 {
    if cpu_s > 0.0 && slots > 0.0 {
        pods * slots / cpu_s
    } else {
        0.0
    }
}

/// Writes a workload's time-series row and its usage sample (what the HPA and the VPA
/// recommender read).
fn record_row(
    world: &mut World,
    rec: &mut Recorder,
    w: usize,
    now: SimTime,
    dt_s: f64,
    f: TickFigures,
) {
    let spec = &world.specs[w];
    let ready = f64::from(world.workloads[w].ready);
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
    let ready_pods = world.workloads[w].ready;
    let base_memory = spec
        .service
        .base_memory_bytes
        .unwrap_or(spec.memory_request_bytes) as f64;
    let per_request_memory = spec.service.memory_per_request_bytes as f64;
    let idle_cpu = match spec.cpu_limit_milli {
        Some(limit) => (spec.service.base_cpu_milli as f64).min(limit as f64),
        None => spec.service.base_cpu_milli as f64,
    };
    world.workloads[w].usage = UsageSample {
        at: now,
        window: SimTime::from_millis((dt_s * 1000.0).round() as u64),
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
    let usage = &world.workloads[w].usage;
    let totals = &mut rec.workloads[w];
    totals.cpu_used_core_s += usage.cpu_milli_serving / 1000.0 * f64::from(ready_pods) * dt_s;
    totals.memory_used_byte_s += usage.memory_bytes_serving * f64::from(ready_pods) * dt_s;
    let ws = &world.workloads[w];
    rec.timeseries.push(TimeseriesRow {
        time: now,
        workload: w as u32,
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
    });
}

/// Requests a workload's Ready pods can work on at once.
fn capacity_slots(world: &World, w: usize) -> f64 {
    f64::from(world.workloads[w].ready) * f64::from(world.specs[w].service.concurrency)
}

/// Mean CPU cores a Ready pod of workload `w` can use: its limit when it has one, otherwise
/// its request plus a CFS-weight share (by request) of its node's unrequested CPU.
fn average_cores_per_ready_pod(world: &World, w: usize) -> f64 {
    let spec = &world.specs[w];
    let mut sum = 0.0;
    let mut n = 0u32;
    for &pod in &world.workloads[w].active {
        let p = &world.pods[pod.0 as usize];
        if p.state != PodState::Ready {
            continue;
        }
        let Some(node) = p.node else { continue };
        let node = &world.nodes[node.0 as usize];
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
