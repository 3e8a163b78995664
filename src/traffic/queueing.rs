//! The fluid service model: offered requests + ready pods → served, failed and latency.
//!
//! Each Ready pod is an M/M/c queue: `c` = its concurrency, each slot serving at
//! `μ = min(1, cores/c) / cpuPerRequest` (slots share the pod's cores when there are fewer
//! cores than slots). kube-proxy spreads requests evenly over Ready endpoints, so each pod
//! sees `λ/n`. Below saturation the response time follows M/M/c theory (Erlang C for the
//! chance to wait, exponential waits and service); requests slower than the timeout count
//! as failed. At or above saturation the pods serve at capacity, the excess queues, and
//! whatever would wait longer than the timeout fails, carried over ticks as a backlog.

/// How the response time of one tick is distributed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LatencyDist {
    /// M/M/c steady state: service Exp(μ) plus, with probability `p_wait`, a wait Exp(θ)
    /// where θ = cμ − λ.
    Mmc {
        /// Rate of the exponential part of the service, 1/s.
        mu: f64,
        /// Fixed part of the service, seconds (0 for exponential service).
        shift_s: f64,
        /// Probability of waiting (Erlang C).
        p_wait: f64,
        /// Rate of the waiting time, 1/s.
        theta: f64,
    },
    /// Overload: a fixed wait `wait_s` in the backlog, then service Exp(μ).
    Backlogged {
        /// Per-slot service rate, 1/s.
        mu: f64,
        /// Time spent in the queue, s.
        wait_s: f64,
    },
}

impl LatencyDist {
    /// P(response time > t), t in seconds.
    pub fn survival(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 1.0;
        }
        match *self {
            LatencyDist::Mmc {
                mu,
                shift_s,
                p_wait,
                theta,
            } => {
                let t = t - shift_s;
                if t <= 0.0 {
                    return 1.0;
                }
                let no_wait = (-mu * t).exp();
                let with_wait = if (theta - mu).abs() < 1e-9 * mu {
                    (1.0 + mu * t) * (-mu * t).exp()
                } else {
                    (theta * (-mu * t).exp() - mu * (-theta * t).exp()) / (theta - mu)
                };
                ((1.0 - p_wait) * no_wait + p_wait * with_wait).clamp(0.0, 1.0)
            }
            LatencyDist::Backlogged { mu, wait_s } => {
                if t <= wait_s {
                    1.0
                } else {
                    (-mu * (t - wait_s)).exp()
                }
            }
        }
    }

    /// Mean response time, seconds.
    pub fn mean(&self) -> f64 {
        match *self {
            LatencyDist::Mmc {
                mu,
                shift_s,
                p_wait,
                theta,
            } => shift_s + 1.0 / mu + p_wait / theta,
            LatencyDist::Backlogged { mu, wait_s } => wait_s + 1.0 / mu,
        }
    }

    /// The `q` quantile (0 < q < 1), seconds, by bisection on the survival function.
    pub fn quantile(&self, q: f64) -> f64 {
        let target = 1.0 - q;
        let mut hi = self.mean().max(1e-6);
        while self.survival(hi) > target && hi < 1e7 {
            hi *= 2.0;
        }
        // Bisection to a relative precision of 1e-7, far below any figure reported.
        let mut lo = 0.0;
        while hi - lo > 1e-7 * hi {
            let mid = 0.5 * (lo + hi);
            if self.survival(mid) > target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        hi
    }
}

/// The distribution of a request's own work around its mean (`service.serviceTime`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ServiceTime {
    /// Exponential (coefficient of variation 1): the M/M/c assumption.
    Exponential,
    /// Always the mean (cv 0): M/D/c.
    Constant,
    /// Log-normal with this coefficient of variation: long tails of real services.
    LogNormal {
        /// Standard deviation ÷ mean.
        cv: f64,
    },
}

impl ServiceTime {
    /// Squared coefficient of variation.
    pub fn scv(self) -> f64 {
        match self {
            ServiceTime::Exponential => 1.0,
            ServiceTime::Constant => 0.0,
            ServiceTime::LogNormal { cv } => cv * cv,
        }
    }

    /// The shifted exponential (fixed part, exponential mean) with this mean and cv, the
    /// fluid model's stand-in: exact for exponential and constant, moments matched for a
    /// log-normal with cv ≤ 1 (a log-normal with cv > 1 is taken as exponential, whose
    /// tail is then too light).
    pub fn shifted_exponential(self, mean_s: f64) -> (f64, f64) {
        let cv = self.scv().sqrt().min(1.0);
        (mean_s * (1.0 - cv), mean_s * cv)
    }
}

/// Re-shapes an M/M/c response-time distribution for service of another shape with own
/// mean `own_mean_s`: the chance to wait stays Erlang C's, the mean wait scales by
/// (1 + cs²) / 2 (the Allen–Cunneen approximation, exact for M/G/1's mean: Pollaczek–
/// Khinchine), and the service part becomes the shifted exponential of that shape.
pub fn reshape(dist: LatencyDist, service: ServiceTime, own_mean_s: f64) -> LatencyDist {
    let (shift_s, exp_mean_s) = service.shifted_exponential(own_mean_s);
    let mu = if exp_mean_s > 0.0 {
        1.0 / exp_mean_s
    } else {
        1e9 // no exponential part: a nanosecond, as good as none
    };
    match dist {
        LatencyDist::Mmc { p_wait, theta, .. } => LatencyDist::Mmc {
            mu,
            shift_s,
            p_wait,
            theta: theta * 2.0 / (1.0 + service.scv()),
        },
        LatencyDist::Backlogged { wait_s, .. } => LatencyDist::Backlogged {
            mu,
            wait_s: wait_s + shift_s,
        },
    }
}

/// Erlang C: the probability that an arrival waits in an M/M/c queue with offered load
/// `a = λ/μ` (a < c), via the numerically stable Erlang B recursion.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    if a <= 0.0 {
        return 0.0;
    }
    if a >= f64::from(c) {
        return 1.0;
    }
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let c = f64::from(c);
    (c * b / (c - a * (1.0 - b))).clamp(0.0, 1.0)
}

/// The inputs of one tick for one workload.
#[derive(Debug, Clone, Copy)]
pub struct TickLoad {
    /// Requests that arrived during the tick.
    pub arrivals: f64,
    /// The mean of `arrivals` (the Poisson draw's mean): steady-state latency depends on
    /// the rate, not on one tick's draw, whose noise M/M/c theory already includes.
    pub expected_arrivals: f64,
    /// Tick length, seconds.
    pub dt_s: f64,
    /// Time-averaged Ready endpoints.
    pub endpoints: f64,
    /// CPU cores one pod can use.
    pub cores_per_pod: f64,
    /// CPU-seconds per request.
    pub cpu_s_per_request: f64,
    /// Slots per pod.
    pub concurrency: u32,
    /// Timeout, seconds.
    pub timeout_s: f64,
    /// Requests queued from earlier ticks.
    pub backlog: f64,
}

/// What one tick produced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TickOutcome {
    /// Requests answered within the timeout.
    pub served: f64,
    /// Requests that failed (no endpoint, timed out, dropped from an overfull queue).
    pub failed: f64,
    /// Requests still queued for the next tick.
    pub backlog: f64,
    /// Response-time distribution of served requests (None when nothing was served).
    pub latency: Option<LatencyDist>,
    /// Busy CPU-cores averaged over the tick.
    pub cpu_cores_used: f64,
}

/// Runs the fluid model for one tick.
pub fn serve_tick(load: &TickLoad) -> TickOutcome {
    let demand = load.arrivals + load.backlog;
    if load.endpoints <= 0.0 || load.cores_per_pod <= 0.0 {
        // No endpoints: every request fails at once (connection refused).
        return TickOutcome {
            served: 0.0,
            failed: demand,
            backlog: 0.0,
            latency: None,
            cpu_cores_used: 0.0,
        };
    }
    let c = load.concurrency.max(1);
    let slot_share = (load.cores_per_pod / f64::from(c)).min(1.0);
    let mu = slot_share / load.cpu_s_per_request;
    let capacity_rps = load.endpoints * f64::from(c) * mu;
    let lambda = load.expected_arrivals / load.dt_s;
    let lambda_pod = lambda / load.endpoints;
    if load.backlog <= 0.0 && lambda < capacity_rps * 0.999 {
        let a = lambda_pod / mu;
        let dist = LatencyDist::Mmc {
            mu,
            shift_s: 0.0,
            p_wait: erlang_c(c, a),
            theta: f64::from(c) * mu - lambda_pod,
        };
        let late = dist.survival(load.timeout_s);
        let served = load.arrivals * (1.0 - late);
        return TickOutcome {
            served,
            failed: load.arrivals * late,
            backlog: 0.0,
            latency: (served > 0.0).then_some(dist),
            cpu_cores_used: load.arrivals / load.dt_s * load.cpu_s_per_request,
        };
    }
    // Saturated: the pods work at capacity through a FIFO queue that holds what could
    // still start before its client gives up (older requests are dropped when they reach
    // the front). A request that waited `wait_s` still fails when its service takes longer
    // than the time left: the pods spent the work, the client got nothing. The requests
    // that do start are the youngest of those at the front, so their wait stops one mean
    // service time short of the timeout (a calibration: the exact model serves 50% of
    // capacity in time on tests/data/scenarios/spike-overload.yaml, this gives 63%).
    let can_serve = capacity_rps * load.dt_s;
    let processed = demand.min(can_serve);
    let remaining = demand - processed;
    let max_queue = capacity_rps * load.timeout_s;
    let backlog = remaining.min(max_queue);
    let wait_s = ((load.backlog + backlog) * 0.5 / capacity_rps)
        .min(load.timeout_s - 1.0 / mu)
        .max(0.0);
    let dist = LatencyDist::Backlogged { mu, wait_s };
    let late = processed * dist.survival(load.timeout_s);
    let served = processed - late;
    TickOutcome {
        served,
        failed: remaining - backlog + late,
        backlog,
        latency: (served > 0.0).then_some(dist),
        cpu_cores_used: processed / load.dt_s * load.cpu_s_per_request,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_textbook_values() {
        // M/M/1: P(wait) = ρ.
        assert!((erlang_c(1, 0.5) - 0.5).abs() < 1e-12);
        // M/M/2 with a = 1 (ρ = 0.5): C = 1/3.
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
        // Classic call-centre example: c = 10, a = 8 → C ≈ 0.4092.
        assert!((erlang_c(10, 8.0) - 0.4092).abs() < 1e-3);
        assert_eq!(erlang_c(4, 4.0), 1.0);
        assert_eq!(erlang_c(4, 0.0), 0.0);
    }

    #[test]
    fn constant_service_gives_pollaczek_khinchine_for_one_server() {
        // M/D/1 at ρ = 0.8, service 0.1 s: mean wait ρ·S / (2(1 − ρ)) = 0.2 s.
        let mm1 = LatencyDist::Mmc {
            mu: 10.0,
            shift_s: 0.0,
            p_wait: erlang_c(1, 0.8),
            theta: 2.0,
        };
        let md1 = reshape(mm1, ServiceTime::Constant, 0.1);
        assert!((md1.mean() - 0.3).abs() < 1e-6, "{}", md1.mean());
        // Nobody answers faster than the fixed service time.
        assert_eq!(md1.survival(0.099), 1.0);
        // Exponential stays as it was.
        let same = reshape(mm1, ServiceTime::Exponential, 0.1);
        assert!((same.mean() - mm1.mean()).abs() < 1e-12);
        // A log-normal with cv 0.5 keeps the mean 0.1 s of service.
        let (shift, exp) = ServiceTime::LogNormal { cv: 0.5 }.shifted_exponential(0.1);
        assert!((shift + exp - 0.1).abs() < 1e-12 && (exp - 0.05).abs() < 1e-12);
    }

    #[test]
    fn mm1_response_time_is_exponential_with_rate_mu_minus_lambda() {
        // M/M/1, μ = 10, λ = 5: T ~ Exp(5): mean 0.2 s, p99 = ln(100)/5.
        let dist = LatencyDist::Mmc {
            mu: 10.0,
            shift_s: 0.0,
            p_wait: erlang_c(1, 0.5),
            theta: 5.0,
        };
        assert!((dist.mean() - 0.2).abs() < 1e-12);
        assert!((dist.quantile(0.99) - (100f64).ln() / 5.0).abs() < 1e-6);
        assert!((dist.survival(0.2) - (-1.0f64).exp()).abs() < 1e-12);
    }

    fn load(arrivals: f64, endpoints: f64) -> TickLoad {
        TickLoad {
            arrivals,
            expected_arrivals: arrivals,
            dt_s: 10.0,
            endpoints,
            cores_per_pod: 1.0,
            cpu_s_per_request: 0.1,
            concurrency: 1,
            timeout_s: 1.0,
            backlog: 0.0,
        }
    }

    #[test]
    fn no_endpoints_fail_everything() {
        let out = serve_tick(&load(100.0, 0.0));
        assert_eq!(out.failed, 100.0);
        assert_eq!(out.served, 0.0);
    }

    #[test]
    fn light_load_is_served_and_uses_cpu_in_proportion() {
        // 2 pods × 10 rps capacity, 5 rps offered.
        let out = serve_tick(&load(50.0, 2.0));
        // Only the M/M/1 tail beyond the 1 s timeout fails: P(T > 1 s) = e^(-(μ-λ)·1).
        let tail = (-(10.0f64 - 2.5) * 1.0).exp();
        assert!((out.failed / 50.0 - tail).abs() < 1e-9, "{out:?}");
        assert!((out.served + out.failed - 50.0).abs() < 1e-9);
        assert!((out.cpu_cores_used - 0.5).abs() < 1e-12);
    }

    #[test]
    fn overload_serves_capacity_queues_what_fits_and_fails_the_rest() {
        // 1 pod, capacity 10 rps, 30 rps for 10 s: process 100, queue 10 (1 s × 10 rps),
        // drop 190. The processed waited 0.5 s on average, so those whose service outlasts
        // the remaining 0.5 s (e^(-10 × 0.5)) are late: failed though processed.
        let out = serve_tick(&load(300.0, 1.0));
        let late = 100.0 * (-5.0f64).exp();
        assert!((out.served - (100.0 - late)).abs() < 1e-9, "{out:?}");
        assert!((out.backlog - 10.0).abs() < 1e-9);
        assert!((out.failed - (190.0 + late)).abs() < 1e-9);
        assert!((out.cpu_cores_used - 1.0).abs() < 1e-12);
        let next = serve_tick(&TickLoad {
            backlog: out.backlog,
            ..load(0.0, 1.0)
        });
        assert!((next.served + next.failed - 10.0).abs() < 1e-9 && next.backlog == 0.0);
    }
}
