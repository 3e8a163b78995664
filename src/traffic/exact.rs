//! The exact request model: every arrival, service completion, call and retry is an event.
//!
//! It exists to check the fluid model ([`super::queueing`]) and to answer what the fluid
//! model averages away (a short burst, one slow pod, a retry storm through a call graph).
//! Requests arrive at each workload as a Poisson process at the tick's rate. kube-proxy
//! (iptables mode) picks one listed endpoint uniformly at random. A pod serves up to
//! `concurrency` requests at once; the rest wait in FIFO order. A request's own work is
//! exponential with mean `cpuPerRequest` core-seconds, done at the share of the pod's cores
//! it gets (processor sharing among the requests computing at once, fixed when its work
//! starts); then it makes its calls one after another (each
//! `ratio` becomes ⌊ratio⌋ calls plus one more with probability frac(ratio)), holding its
//! slot while it waits. It succeeds when its own work and every call succeeded and it
//! answered within its timeout; a failed call fails it at once. A request still queued past
//! its timeout is dropped when it reaches the front (its client has gone). A request routed
//! to an endpoint whose pod no longer answers fails at once. Failed requests are retried
//! after the back-off when the workload's clients retry; the latency of a request counts
//! from its first attempt.
//!
//! Simplified: endpoint lists change at tick boundaries (the fluid model uses their time
//! average); a pod that leaves the list finishes what it holds; a request's CPU share is
//! set when its work starts, not re-balanced as others come and go.

use super::queueing::ServiceTime;
use crate::engine::SimRng;
use crate::metrics::histogram::LatencyHistogram;
use crate::scenario::Call;
use rand::RngExt;
use rand_distr::StandardNormal;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// One listed endpoint as the exact model sees it at a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// A stable key of the pod (its arena id).
    pub pod: u32,
    /// False while the endpoint is still listed but its pod no longer answers.
    pub serving: bool,
}

/// One workload's parameters for a tick.
#[derive(Debug, Clone)]
pub struct WorkloadParams {
    /// Rate of new requests from outside (users), per second.
    pub rate_rps: f64,
    /// Rate of a request's own work on a whole core, 1/s (the work is Exp(mu) core-seconds).
    pub mu: f64,
    /// CPU cores of one pod, shared by the requests doing their own work at once.
    pub cores: f64,
    /// Shape of the own work around its mean `1 / mu`.
    pub service: ServiceTime,
    /// Slots per pod.
    pub concurrency: u32,
    /// Timeout, seconds.
    pub timeout_s: f64,
    /// CPU-seconds per request (for the CPU used).
    pub cpu_s_per_request: f64,
    /// Downstream calls of each request.
    pub calls: Vec<Call>,
    /// Retries after the first attempt.
    pub retries: u32,
    /// Back-off before the first retry, seconds (doubling).
    pub backoff_s: f64,
}

/// What one workload's requests did in a tick (counted when they finished).
#[derive(Debug, Clone, Default)]
pub struct WorkloadTick {
    /// First attempts that arrived (from users or callers).
    pub offered: f64,
    /// Requests that succeeded.
    pub served: f64,
    /// Requests that failed for good.
    pub failed: f64,
    /// Failed attempts sent back for a retry.
    pub retried: f64,
    /// CPU-seconds of own work completed.
    pub cpu_s: f64,
    /// Sum of successful response times, seconds.
    pub response_sum_s: f64,
    /// Response times of the tick's successful requests.
    pub latency: LatencyHistogram,
}

#[derive(Debug, Default)]
struct Server {
    workload: u32,
    pod: u32,
    listed: bool,
    serving: bool,
    busy: u32,
    queue: VecDeque<u32>,
    /// Processor sharing: requests doing their own work, as (virtual finish time, request),
    /// a min-heap. Virtual time advances at the rate each of them gets, min(1, cores / n).
    computing: BinaryHeap<std::cmp::Reverse<(OrdF64, u32)>>,
    virtual_time: f64,
    /// When `virtual_time` was last brought up to date.
    updated_at: f64,
    /// Bumped at every change, so a stale completion event is recognised and skipped.
    version: u32,
}

/// An f64 with the total order, for heaps.
#[derive(Debug, Clone, Copy, PartialEq)]
struct OrdF64(f64);
impl Eq for OrdF64 {}
impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrdF64 {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

const NONE: u32 = u32::MAX;

/// A request in flight (an arena slot; `NONE` links).
#[derive(Debug, Clone, Copy)]
struct Request {
    workload: u32,
    parent: u32,
    /// First attempt's arrival (latency counts from here).
    first_arrival: f64,
    /// This attempt's arrival (its timeout counts from here).
    arrival: f64,
    attempt: u32,
    server: u32,
    /// Index into the workload's calls of the call being made, and calls left for it.
    call: u16,
    calls_left: u32,
    live: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The next outside arrival at a workload.
    External,
    /// The next own-work completion at a pod (if the event's version is still current).
    OwnDone,
    /// A failed request's retry is due.
    Retry,
}

#[derive(Debug, Clone, Copy)]
struct Event {
    time: f64,
    seq: u64,
    kind: Kind,
    /// Workload (External), server (OwnDone) or request (Retry).
    id: u32,
    /// The server's version when scheduled (OwnDone).
    version: u32,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    /// Reversed so `BinaryHeap` pops the earliest; ties by insertion order.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .time
            .total_cmp(&self.time)
            .then(other.seq.cmp(&self.seq))
    }
}

/// Every workload's pods and requests, kept across ticks.
#[derive(Debug)]
pub struct ExactNetwork {
    servers: Vec<Server>,
    /// Listed servers per workload, refreshed every tick.
    listed: Vec<Vec<u32>>,
    requests: Vec<Request>,
    free: Vec<u32>,
    events: BinaryHeap<Event>,
    seq: u64,
    rng: SimRng,
    params: Vec<WorkloadParams>,
    /// This tick's results per workload.
    pub ticks: Vec<WorkloadTick>,
}

fn exp_sample(rng: &mut SimRng, rate: f64) -> f64 {
    let u: f64 = rng.random();
    -(1.0 - u).ln() / rate
}

impl ExactNetwork {
    /// An empty network of `workloads` workloads drawing from `rng`.
    pub fn new(workloads: usize, rng: SimRng) -> ExactNetwork {
        ExactNetwork {
            servers: Vec::new(),
            listed: vec![Vec::new(); workloads],
            requests: Vec::new(),
            free: Vec::new(),
            events: BinaryHeap::new(),
            seq: 0,
            rng,
            params: Vec::new(),
            ticks: vec![WorkloadTick::default(); workloads],
        }
    }

    /// Sets a workload's endpoint list for the coming tick. Pods no longer listed stop
    /// receiving requests but finish what they hold (graceful termination).
    pub fn set_endpoints(&mut self, workload: usize, endpoints: &[Endpoint]) {
        let w = workload as u32;
        for &s in &self.listed[workload] {
            self.servers[s as usize].listed = false;
        }
        self.listed[workload].clear();
        for e in endpoints {
            let found = self
                .servers
                .iter()
                .position(|s| s.workload == w && s.pod == e.pod);
            let idx = match found {
                Some(i) => i,
                None => match self
                    .servers
                    .iter()
                    .position(|s| !s.listed && s.busy == 0 && s.queue.is_empty())
                {
                    Some(i) => {
                        self.servers[i].workload = w;
                        self.servers[i].pod = e.pod;
                        i
                    }
                    None => {
                        self.servers.push(Server {
                            workload: w,
                            pod: e.pod,
                            ..Server::default()
                        });
                        self.servers.len() - 1
                    }
                },
            };
            let s = &mut self.servers[idx];
            s.listed = true;
            s.serving = e.serving;
            self.listed[workload].push(idx as u32);
        }
    }

    fn push(&mut self, time: f64, kind: Kind, id: u32) {
        self.push_versioned(time, kind, id, 0);
    }

    fn push_versioned(&mut self, time: f64, kind: Kind, id: u32, version: u32) {
        self.seq += 1;
        self.events.push(Event {
            time,
            seq: self.seq,
            kind,
            id,
            version,
        });
    }

    /// Runs `[t0, t1)` with these per-workload parameters; results land in `ticks`.
    pub fn run_tick(&mut self, params: Vec<WorkloadParams>, t0: f64, t1: f64) {
        self.params = params;
        for t in &mut self.ticks {
            t.offered = 0.0;
            t.served = 0.0;
            t.failed = 0.0;
            t.retried = 0.0;
            t.cpu_s = 0.0;
            t.response_sum_s = 0.0;
            t.latency.clear();
        }
        for w in 0..self.params.len() {
            let rate = self.params[w].rate_rps;
            if rate > 0.0 {
                let first = t0 + exp_sample(&mut self.rng, rate);
                if first < t1 {
                    self.push(first, Kind::External, w as u32);
                }
            }
        }
        while let Some(&e) = self.events.peek() {
            if e.time >= t1 {
                break;
            }
            self.events.pop();
            match e.kind {
                Kind::External => {
                    let w = e.id as usize;
                    let next = e.time + exp_sample(&mut self.rng, self.params[w].rate_rps);
                    if next < t1 {
                        self.push(next, Kind::External, e.id);
                    }
                    let r = self.new_request(e.id, NONE, e.time);
                    self.ticks[w].offered += 1.0;
                    self.arrive(r, e.time);
                }
                Kind::OwnDone => {
                    if self.servers[e.id as usize].version != e.version {
                        continue; // the pod's sharing changed since; a newer event stands
                    }
                    self.advance(e.id, e.time);
                    let Some(std::cmp::Reverse((_, r))) =
                        self.servers[e.id as usize].computing.pop()
                    else {
                        continue;
                    };
                    self.reschedule(e.id, e.time);
                    let w = self.requests[r as usize].workload as usize;
                    self.ticks[w].cpu_s += self.params[w].cpu_s_per_request;
                    self.start_calls(r, e.time);
                }
                Kind::Retry => {
                    let r = e.id as usize;
                    self.requests[r].arrival = e.time;
                    self.arrive(e.id, e.time);
                }
            }
        }
        // Outside arrivals beyond t1 are redrawn next tick (Poisson: memoryless).
        self.events.retain(|e| e.kind != Kind::External);
    }

    /// Requests waiting or in service right now.
    pub fn in_flight(&self) -> usize {
        self.requests.len() - self.free.len()
    }

    /// Requests still in flight per workload (counted failed when a run ends).
    pub fn in_flight_by_workload(&self) -> Vec<f64> {
        let mut n = vec![0.0; self.listed.len()];
        for r in &self.requests {
            if r.live {
                n[r.workload as usize] += 1.0;
            }
        }
        n
    }

    fn new_request(&mut self, workload: u32, parent: u32, now: f64) -> u32 {
        let req = Request {
            workload,
            parent,
            first_arrival: now,
            arrival: now,
            attempt: 0,
            server: NONE,
            call: 0,
            calls_left: 0,
            live: true,
        };
        match self.free.pop() {
            Some(i) => {
                self.requests[i as usize] = req;
                i
            }
            None => {
                self.requests.push(req);
                (self.requests.len() - 1) as u32
            }
        }
    }

    fn arrive(&mut self, r: u32, now: f64) {
        let w = self.requests[r as usize].workload as usize;
        let n = self.listed[w].len();
        if n == 0 {
            return self.finish(r, now, false); // no endpoints: connection refused
        }
        let pick = if n == 1 {
            0
        } else {
            self.rng.random_range(0..n)
        };
        let s = self.listed[w][pick];
        if !self.servers[s as usize].serving {
            return self.finish(r, now, false);
        }
        self.requests[r as usize].server = s;
        let server = &mut self.servers[s as usize];
        if server.busy < self.params[w].concurrency {
            server.busy += 1;
            self.start_own(r, now);
        } else {
            server.queue.push_back(r);
        }
    }

    /// Starts a request's own work. The pod's cores are shared by the requests computing at
    /// once (processor sharing): alone, a request gets a whole core; with n computing on
    /// fewer than n cores, each gets cores / n.
    fn start_own(&mut self, r: u32, now: f64) {
        let req = self.requests[r as usize];
        let w = req.workload as usize;
        let work = self.sample_work(w);
        self.advance(req.server, now);
        let server = &mut self.servers[req.server as usize];
        let finish = server.virtual_time + work;
        server
            .computing
            .push(std::cmp::Reverse((OrdF64(finish), r)));
        self.reschedule(req.server, now);
    }

    /// Core-seconds of own work of one request of workload `w`.
    fn sample_work(&mut self, w: usize) -> f64 {
        let p = &self.params[w];
        let mean = 1.0 / p.mu;
        match p.service {
            ServiceTime::Exponential => exp_sample(&mut self.rng, p.mu),
            ServiceTime::Constant => mean,
            ServiceTime::LogNormal { cv } => {
                let sigma2 = (1.0 + cv * cv).ln();
                let z: f64 = self.rng.sample(StandardNormal);
                mean * (sigma2.sqrt() * z - 0.5 * sigma2).exp()
            }
        }
    }

    /// Share of a core each computing request of `server` gets now.
    fn share(&self, server: u32) -> f64 {
        let s = &self.servers[server as usize];
        let n = s.computing.len() as f64;
        if n == 0.0 {
            return 1.0;
        }
        (self.params[s.workload as usize].cores / n).min(1.0)
    }

    /// Brings the server's virtual time up to `now`.
    fn advance(&mut self, server: u32, now: f64) {
        let share = self.share(server);
        let s = &mut self.servers[server as usize];
        s.virtual_time += (now - s.updated_at).max(0.0) * share;
        s.updated_at = now;
    }

    /// Schedules the server's next own-work completion under its current sharing.
    fn reschedule(&mut self, server: u32, now: f64) {
        let share = self.share(server);
        let s = &mut self.servers[server as usize];
        s.version = s.version.wrapping_add(1);
        let Some(std::cmp::Reverse((OrdF64(finish), _))) = s.computing.peek().copied() else {
            return;
        };
        let at = now + (finish - s.virtual_time).max(0.0) / share;
        let version = s.version;
        self.push_versioned(at, Kind::OwnDone, server, version);
    }

    /// Own work done: make the calls, in order, then answer.
    fn start_calls(&mut self, r: u32, now: f64) {
        self.requests[r as usize].call = 0;
        self.requests[r as usize].calls_left = NONE;
        self.next_call(r, now);
    }

    fn next_call(&mut self, r: u32, now: f64) {
        let w = self.requests[r as usize].workload as usize;
        loop {
            let req = self.requests[r as usize];
            let Some(call) = self.params[w].calls.get(req.call as usize).copied() else {
                return self.finish(r, now, true);
            };
            let left = if req.calls_left == NONE {
                let whole = call.ratio.floor();
                let extra = u32::from(self.rng.random::<f64>() < call.ratio - whole);
                whole as u32 + extra
            } else {
                req.calls_left
            };
            if left == 0 {
                let req = &mut self.requests[r as usize];
                req.call += 1;
                req.calls_left = NONE;
                continue;
            }
            self.requests[r as usize].calls_left = left - 1;
            let child = self.new_request(call.workload, r, now);
            self.ticks[call.workload as usize].offered += 1.0;
            return self.arrive(child, now);
        }
    }

    /// A request's attempt ended (`ok`: its work and calls succeeded).
    fn finish(&mut self, r: u32, now: f64, ok: bool) {
        let req = self.requests[r as usize];
        let w = req.workload as usize;
        if req.server != NONE {
            self.release(req.server, now);
            self.requests[r as usize].server = NONE;
        }
        let in_time = now - req.arrival <= self.params[w].timeout_s;
        if ok && in_time {
            let response = now - req.first_arrival;
            let t = &mut self.ticks[w];
            t.served += 1.0;
            t.response_sum_s += response;
            t.latency.add_value(response, 1.0);
            return self.answer(r, now, true);
        }
        if req.attempt < self.params[w].retries {
            self.ticks[w].retried += 1.0;
            let backoff = self.params[w].backoff_s * f64::from(1u32 << req.attempt.min(20));
            let q = &mut self.requests[r as usize];
            q.attempt += 1;
            q.call = 0;
            q.calls_left = NONE;
            self.push(now + backoff, Kind::Retry, r);
            return;
        }
        self.ticks[w].failed += 1.0;
        self.answer(r, now, false);
    }

    /// The request is over: free it and tell its caller.
    fn answer(&mut self, r: u32, now: f64, ok: bool) {
        let parent = self.requests[r as usize].parent;
        self.requests[r as usize].live = false;
        self.free.push(r);
        if parent == NONE {
            return;
        }
        if ok {
            self.next_call(parent, now);
        } else {
            self.finish(parent, now, false);
        }
    }

    /// A slot of `server` came free: start the next queued request still worth serving.
    fn release(&mut self, server: u32, now: f64) {
        loop {
            let s = &mut self.servers[server as usize];
            let Some(next) = s.queue.pop_front() else {
                s.busy -= 1;
                return;
            };
            let w = self.requests[next as usize].workload as usize;
            if now - self.requests[next as usize].arrival > self.params[w].timeout_s {
                // Its client gave up while it waited.
                self.requests[next as usize].server = NONE;
                self.finish(next, now, false);
                continue;
            }
            self.start_own(next, now);
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;
    use crate::traffic::queueing::{LatencyDist, erlang_c};

    fn params(rate: f64, mu: f64, c: u32) -> WorkloadParams {
        WorkloadParams {
            rate_rps: rate,
            mu,
            // A core per slot: no CPU contention, so the pod is a plain M/M/c queue.
            cores: f64::from(c),
            service: ServiceTime::Exponential,
            concurrency: c,
            timeout_s: 1e9,
            cpu_s_per_request: 0.1,
            calls: Vec::new(),
            retries: 0,
            backoff_s: 0.0,
        }
    }

    /// Mean response time of one pod with these parameters over 200,000 s (after 1,000 s
    /// of warm-up).
    fn mean_response_one_pod(p: WorkloadParams, seed: u64) -> f64 {
        let mut net = ExactNetwork::new(1, RngStreams::new(seed).stream("exact-test"));
        net.set_endpoints(
            0,
            &[Endpoint {
                pod: 0,
                serving: true,
            }],
        );
        let (mut sum, mut served) = (0.0, 0.0);
        for i in 0..20_000u32 {
            net.run_tick(
                vec![p.clone()],
                f64::from(i) * 10.0,
                f64::from(i + 1) * 10.0,
            );
            if i >= 100 {
                sum += net.ticks[0].response_sum_s;
                served += net.ticks[0].served;
            }
        }
        sum / served
    }

    /// Runs an M/M/c queue (one pod, c slots) at utilization `rho` and returns
    /// ((mean, p99) measured, (mean, p99) from Erlang C), seconds.
    fn mmc(c: u32, rho: f64, seed: u64) -> ((f64, f64), (f64, f64)) {
        let mu = 10.0;
        let lambda = rho * f64::from(c) * mu;
        let mut net = ExactNetwork::new(1, RngStreams::new(seed).stream("exact-test"));
        net.set_endpoints(
            0,
            &[Endpoint {
                pod: 0,
                serving: true,
            }],
        );
        let mut hist = LatencyHistogram::default();
        let (mut sum, mut served) = (0.0, 0.0);
        // 1,000 s of warm-up, then 200,000 s: 1M to 7M requests per point.
        for i in 0..20_100u32 {
            net.run_tick(
                vec![params(lambda, mu, c)],
                f64::from(i) * 10.0,
                f64::from(i + 1) * 10.0,
            );
            if i < 100 {
                continue;
            }
            let t = &net.ticks[0];
            hist.merge(&t.latency);
            sum += t.response_sum_s;
            served += t.served;
        }
        let dist = LatencyDist::Mmc {
            mu,
            shift_s: 0.0,
            p_wait: erlang_c(c, lambda / mu),
            theta: f64::from(c) * mu - lambda,
        };
        (
            (sum / served, hist.quantile(0.99).expect("served requests")),
            (dist.mean(), dist.quantile(0.99)),
        )
    }

    #[test]
    fn exact_mode_matches_erlang_c_for_mmc() {
        // Tolerances: mean within 2%, p99 within 5% (the histogram's 5% buckets, read by
        // linear interpolation, plus sampling noise; ρ = 0.9 queues are strongly
        // autocorrelated). Measured at these seeds: means within 0.8%, p99s within 1.8%.
        for c in [1u32, 2, 4] {
            for rho in [0.5, 0.8, 0.9] {
                let ((mean, p99), (mean_th, p99_th)) = mmc(c, rho, 7 + u64::from(c));
                eprintln!(
                    "c={c} rho={rho}: mean {:+.2}%, p99 {:+.2}%",
                    (mean / mean_th - 1.0) * 100.0,
                    (p99 / p99_th - 1.0) * 100.0
                );
                assert!(
                    (mean / mean_th - 1.0).abs() < 0.02,
                    "c={c} ρ={rho}: mean {mean} vs Erlang C {mean_th}"
                );
                assert!(
                    (p99 / p99_th - 1.0).abs() < 0.05,
                    "c={c} ρ={rho}: p99 {p99} vs Erlang C {p99_th}"
                );
            }
        }
    }

    #[test]
    fn constant_service_matches_pollaczek_khinchine() {
        // M/D/1 at ρ = 0.8, service 0.1 s: mean response 0.1 + 0.8 · 0.1 / (2 · 0.2) = 0.3 s.
        let p = WorkloadParams {
            service: ServiceTime::Constant,
            ..params(8.0, 10.0, 1)
        };
        let mean = mean_response_one_pod(p, 6);
        assert!((mean / 0.3 - 1.0).abs() < 0.03, "mean {mean}");
    }

    #[test]
    fn one_core_shared_by_many_slots_is_processor_sharing() {
        // 16 slots on one core at ρ = 0.7: M/M/1-PS, mean response E[S] / (1 − ρ).
        let p = WorkloadParams {
            cores: 1.0,
            ..params(7.0, 10.0, 16)
        };
        let mean = mean_response_one_pod(p, 5);
        assert!((mean / (0.1 / 0.3) - 1.0).abs() < 0.03, "mean {mean}");
    }

    #[test]
    fn a_call_adds_the_callees_time_and_load() {
        // Frontend (own work 10 ms) calls the backend (20 ms) twice per request, at light
        // load: a frontend response is about 10 + 2 × 20 ms, and the backend sees 2λ.
        let mut net = ExactNetwork::new(2, RngStreams::new(3).stream("exact-test"));
        for w in 0..2 {
            net.set_endpoints(
                w,
                &[Endpoint {
                    pod: w as u32,
                    serving: true,
                }],
            );
        }
        let mut front = params(1.0, 100.0, 64);
        front.calls = vec![Call {
            workload: 1,
            ratio: 2.0,
        }];
        let back = WorkloadParams {
            rate_rps: 0.0,
            ..params(0.0, 50.0, 64)
        };
        let (mut sum, mut served, mut back_offered) = (0.0, 0.0, 0.0);
        for i in 0..20_000u32 {
            net.run_tick(
                vec![front.clone(), back.clone()],
                f64::from(i) * 10.0,
                f64::from(i + 1) * 10.0,
            );
            sum += net.ticks[0].response_sum_s;
            served += net.ticks[0].served;
            back_offered += net.ticks[1].offered;
        }
        let mean = sum / served;
        assert!((mean / 0.050 - 1.0).abs() < 0.03, "mean {mean}");
        assert!((back_offered / served - 2.0).abs() < 0.02);
    }

    #[test]
    fn a_dead_callee_fails_the_caller_and_retries_add_attempts() {
        let mut net = ExactNetwork::new(2, RngStreams::new(4).stream("exact-test"));
        net.set_endpoints(
            0,
            &[Endpoint {
                pod: 0,
                serving: true,
            }],
        );
        net.set_endpoints(
            1,
            &[Endpoint {
                pod: 1,
                serving: false,
            }],
        );
        let mut front = params(10.0, 100.0, 8);
        front.calls = vec![Call {
            workload: 1,
            ratio: 1.0,
        }];
        let mut back = params(0.0, 100.0, 8);
        back.retries = 2;
        back.backoff_s = 0.01;
        net.run_tick(vec![front, back], 0.0, 100.0);
        let (f, b) = (&net.ticks[0], &net.ticks[1]);
        assert_eq!(f.served, 0.0);
        assert!(f.failed > 900.0, "{f:?}");
        // Each call tried three times: two retries, then a final failure.
        assert!((b.retried / b.failed - 2.0).abs() < 0.01, "{b:?}");
        assert_eq!(net.in_flight(), 0);
    }
}
