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
//! distribution and spread into the streaming histogram once. One workload's tick is
//! [`super::fluid::Lane`]: what it reads and writes, borrowed apart from the others'.
//!
//! Exact model (`requestModel: exact`): the whole tick goes to [`super::exact`], which
//! simulates every request, call and retry.
//!
//! Simplified (fluid): downstream time is a mean, not the callee's distribution; a call's
//! success is independent of the others; retries re-enter at tick granularity.

use super::bursts::BurstState;
use super::exact::{Endpoint, ExactNetwork, WorkloadParams};
use super::fluid::{
    CallsOutcome, Fleet, Lane, TickFigures, WorkloadTraffic, average_cores_per_ready_pod,
    own_capacity_rps,
};
use super::latency_book::LatencyBook;
use super::latency_tables::LatencyTables;
use super::rate_ahead::RateAhead;
use crate::cluster::{PodState, World};
use crate::engine::{RngStreams, SimTime};
use crate::metrics::Recorder;
use crate::scenario::{RequestModel, Scenario};

/// The traffic side of a run.
#[derive(Debug)]
pub struct TrafficPlane {
    /// Callers before callees.
    order: Vec<u32>,
    /// Workloads that make no calls and receive none: nothing of theirs waits for another
    /// workload, so the second pass serves and finishes each in one go (the same numbers,
    /// its state read once per tick instead of twice).
    standalone: Vec<bool>,
    workloads: Vec<WorkloadTraffic>,
    endpoints_scratch: Vec<Endpoint>,
    /// The exact per-request model, when the scenario asks for it.
    network: Option<ExactNetwork>,
    /// Bucket shares of the distributions the workloads book, shared by all of them.
    tables: LatencyTables,
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
        let mut standalone: Vec<bool> = scenario
            .workloads
            .iter()
            .map(|w| w.calls.is_empty())
            .collect();
        for c in scenario.workloads.iter().flat_map(|w| &w.calls) {
            if let Some(callee) = standalone.get_mut(c.workload as usize) {
                *callee = false;
            }
        }
        TrafficPlane {
            order: crate::scenario::call_order(&scenario.workloads),
            standalone,
            network: (scenario.request_model == RequestModel::Exact)
                .then(|| ExactNetwork::new(scenario.workloads.len(), streams.stream("exact"))),
            tables: LatencyTables::new(),
            workloads,
            endpoints_scratch: Vec::new(),
        }
    }

    /// Advances every workload over the tick `(last, now]` and records the results.
    pub fn tick(&mut self, world: &mut World, last: SimTime, now: SimTime, rec: &mut Recorder) {
        let dt = now.saturating_sub(last);
        let (t0, t1) = (last.as_secs_f64(), now.as_secs_f64());
        if self.network.is_some() {
            return self.exact_tick(world, now, dt, t0, t1, rec);
        }
        self.tick_in_order(world, last, now, rec);
    }

    /// Callers first for their own service (their calls reach the callees), then callees
    /// first to make outcomes end to end; a workload outside any call graph does both in
    /// the second pass. (Ticking workloads without calls on rayon's
    /// threads was tried: a tick is about 0.25 ms of work for a thousand workloads, and
    /// waking the pool every tick cost about what it saved; see BENCHMARKS.md.)
    fn tick_in_order(
        &mut self,
        world: &mut World,
        last: SimTime,
        now: SimTime,
        rec: &mut Recorder,
    ) {
        let dt_s = now.saturating_sub(last).as_secs_f64();
        let tables = &mut self.tables;
        if tables.is_full() {
            tables.clear(); // bounded memory; bookings are logged by key
        }
        for wt in &mut self.workloads {
            wt.called = 0.0;
        }
        let fleet = Fleet {
            pods: &world.pods,
            nodes: &world.nodes,
        };
        for &w in &self.order {
            let w = w as usize;
            if self.standalone[w] {
                continue; // served in the second pass, in one go
            }
            let spec = &world.specs[w];
            let mut lane = Lane::of(
                w,
                &world.specs,
                &mut world.workloads,
                &mut self.workloads,
                &mut rec.workloads,
            );
            lane.serve_own(&fleet, last, now);
            let served = lane.traffic.own_served;
            for c in &spec.calls {
                self.workloads[c.workload as usize].called += served * c.ratio;
            }
        }
        for &w in self.order.iter().rev() {
            let w = w as usize;
            let spec = &world.specs[w];
            // Success and time of the calls each request makes (callees are final).
            let mut calls = CallsOutcome::NONE;
            for c in &spec.calls {
                let callee = &self.workloads[c.workload as usize];
                calls.success *= callee.success.powf(c.ratio);
                calls.mean_s += c.ratio * callee.e2e_mean_s;
            }
            let mut lane = Lane::of(
                w,
                &world.specs,
                &mut world.workloads,
                &mut self.workloads,
                &mut rec.workloads,
            );
            if self.standalone[w] {
                lane.serve_own(&fleet, last, now);
            }
            if let Some(row) = lane.finish(calls, tables, now, dt_s) {
                rec.timeseries.push(row);
            }
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
            let fleet = Fleet {
                pods: &world.pods,
                nodes: &world.nodes,
            };
            let cores = average_cores_per_ready_pod(&world.specs[w], &world.workloads[w], &fleet);
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
            let queued =
                (in_network.get(w).copied().unwrap_or(0.0) - capacity_slots(world, w)).max(0.0);
            let mut lane = Lane::of(
                w,
                &world.specs,
                &mut world.workloads,
                &mut self.workloads,
                &mut rec.workloads,
            );
            let totals = &mut *lane.totals;
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
                queued,
                capacity_rps: lane.traffic.capacity_rps,
            };
            let row = lane.record_row(now, dt_s, figures);
            rec.timeseries.push(row);
        }
        self.network = Some(network);
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

/// Requests a workload's Ready pods can work on at once.
fn capacity_slots(world: &World, w: usize) -> f64 {
    f64::from(world.workloads[w].ready) * f64::from(world.specs[w].service.concurrency)
}
