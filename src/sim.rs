//! One simulation run: builds the World from a scenario and drives the controllers with
//! the engine until the scenario's duration.
//!
//! The event loop is the only place that knows every controller; each controller owns its
//! own state and is called with the World. Traffic and metrics advance on a fixed tick
//! (the fluid model); the control plane reacts to discrete events in between.

use crate::cluster::{NodeId, PodId, PodState, PoolId, WorkloadId, World};
use crate::control::autoscaler::ClusterAutoscaler;
use crate::control::hpa::HpaController;
use crate::control::karpenter::config::{DISRUPTION_POLL, Reason};
use crate::control::karpenter::{Command, Karpenter};
use crate::control::nodelifecycle::{MONITOR_PERIOD, NodeLifecycle, not_ready_at};
use crate::control::replicaset;
use crate::control::scheduler::Scheduler;
use crate::control::scheduler::queue::UNSCHEDULABLE_FLUSH_PERIOD;
use crate::control::vpa::VpaRecommender;
use crate::engine::{Engine, RngStreams, SimRng, SimTime};
use crate::metrics::events::EventKind;
use crate::metrics::{NodeRow, Recorder};
use crate::scenario::Scenario;
use crate::scenario::faults::{FaultKind, NodeTarget};
use crate::traffic::plane::TrafficPlane;
use rand::RngExt;

/// Every kind of event the simulation schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Sample metrics and advance the traffic model.
    MetricsTick,
    /// Run the scheduler over its active queue.
    ScheduleCycle,
    /// The ReplicaSet controller syncs a workload.
    SyncWorkload(WorkloadId),
    /// A workload with `createAt` is created: its desired count takes effect.
    CreateWorkload(WorkloadId),
    /// A bound pod's container started (the pod's restart count when it was scheduled:
    /// a later crash or restart makes the event stale).
    PodRunning(PodId, u32),
    /// A pod passed its readiness gate (same staleness rule).
    PodReady(PodId, u32),
    /// A pod's container exited (crash), at the given restart count.
    ContainerExit(PodId, u32),
    /// The kubelet restarts a crashed container after its back-off.
    ContainerRestart(PodId, u32),
    /// A Deployment's rollout deadline check.
    ProgressCheck(WorkloadId),
    /// kube-proxy now routes to a pod that became Ready `endpointDelay` ago.
    EndpointAdd(PodId),
    /// kube-proxy stops routing to a pod that stopped answering `endpointDelay` ago.
    EndpointRemove(PodId),
    /// Periodic retry of long-unschedulable pods.
    FlushUnschedulable,
    /// The earliest scheduling back-off ended.
    BackoffFlush,
    /// The HPA controller syncs a workload's HorizontalPodAutoscaler.
    HpaSync(WorkloadId),
    /// The cluster autoscaler's loop.
    AutoscalerScan,
    /// A node requested from a pool (at the given time: billing starts then) finished
    /// booting and joined the cluster.
    NodeProvisioned(PoolId, SimTime),
    /// A spot node gets its interruption notice.
    SpotNotice(NodeId),
    /// A spot node's notice ran out: it is terminated.
    SpotTerminate(NodeId),
    /// Retry evicting a draining spot node's pods (as `kubectl drain` retries every 5 s).
    SpotDrain(NodeId),
    /// A scheduled interruption of a spot pool's oldest nodes.
    SpotScheduled(PoolId, u32),
    /// Karpenter looks at its open batch of pending pods.
    KarpenterBatch,
    /// Karpenter's disruption controller polls.
    KarpenterDisrupt,
    /// Karpenter drains a node it disrupts (retried while PodDisruptionBudgets refuse).
    KarpenterDrain(NodeId, Reason),
    /// A node requested from a pool (at the given time) never registered, and its node
    /// group (or Karpenter) gives up on it.
    ProvisionTimeout(PoolId, SimTime),
    /// The scenario's fault number n happens.
    Fault(u32),
    /// A node fails (true: kubelet and containers die; false: network partition).
    NodeDown(NodeId, bool),
    /// A failed or partitioned node is back (true: a repair of a random failure, which
    /// draws the node's next one).
    NodeUp(NodeId, bool),
    /// The node lifecycle controller's monitor pass that sees a silent node NotReady (or
    /// retries its NoExecute taint).
    NodeMonitor(NodeId),
    /// The taint manager deletes a pod from a tainted node.
    TaintEvict(PodId, NodeId),
    /// A manual drain retries the evictions PodDisruptionBudgets refused.
    DrainRetry(NodeId),
    /// A node pool upgrade checks its batch (every 5 s).
    UpgradeStep(PoolId),
}

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// A safety limit of the scenario was hit.
    #[error("{0}")]
    LimitExceeded(String),
    /// `--check` found a broken invariant.
    #[error("invariant violated at t={time}s after {event}: {what}")]
    Invariant {
        /// When.
        time: SimTime,
        /// The event just handled.
        event: String,
        /// What broke.
        what: String,
    },
}

/// Options that do not change what is simulated, only how it is watched.
#[derive(Clone, Copy, Default)]
pub struct RunOptions<'a> {
    /// Verify invariants after every event.
    pub check: bool,
    /// Called every [`PROGRESS_EVERY`] events, at each metrics tick (where the traffic of a
    /// large run spends its time) and at the end, with the simulated time
    /// reached and the events processed (a progress bar; it cannot change the run).
    pub progress: Option<&'a (dyn Fn(SimTime, u64) + Sync)>,
}

impl std::fmt::Debug for RunOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("check", &self.check)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Events between two progress reports: rare enough to cost nothing, often enough for a
/// bar to move several times a second.
pub const PROGRESS_EVERY: u64 = 1 << 14;

/// Everything a finished run produced.
#[derive(Debug)]
pub struct RunOutput {
    /// The scenario as run (after `--seed` and `--set`).
    pub scenario: Scenario,
    /// Final cluster state (names for reports).
    pub world: World,
    /// Measurements.
    pub recorder: Recorder,
    /// Events processed, the unit of simulation work.
    pub events_processed: u64,
}

struct Simulation {
    scenario: Scenario,
    engine: Engine<Event>,
    world: World,
    scheduler: Scheduler,
    recorder: Recorder,
    traffic: TrafficPlane,
    hpa: HpaController,
    vpa: VpaRecommender,
    autoscaler: Option<ClusterAutoscaler>,
    karpenter: Option<Karpenter>,
    lifecycle: NodeLifecycle,
    node_failure_rng: SimRng,
    crash_rng: SimRng,
    provisioning_rng: SimRng,
    failure_rng: SimRng,
    spot_rng: SimRng,
    stopped_answering: Vec<PodId>,
    cycle_scheduled: bool,
    flush_scheduled: bool,
    backoff_timer: Option<SimTime>,
    last_tick: SimTime,
    bound: Vec<PodId>,
    preempted: Vec<PodId>,
    /// Node pool upgrades in progress.
    upgrades: Vec<PoolUpgrade>,
    /// `--check`: verify PodDisruptionBudgets at each voluntary eviction.
    check: bool,
    /// The first broken rule an event handler noticed.
    violation: Option<String>,
}

/// Runs a scenario to its end.
pub fn run(scenario: &Scenario, options: RunOptions) -> Result<RunOutput, SimError> {
    let streams = RngStreams::new(scenario.seed);
    let mut world = World::new(scenario);
    let scheduler = Scheduler::new(
        scenario.scheduler.clone(),
        streams.stream("scheduler"),
        &mut world,
    );
    let initial: Vec<u32> = scenario.pools.iter().map(|p| p.count).collect();
    let mut sim = Simulation {
        engine: Engine::new(),
        scheduler,
        recorder: {
            let mut rec = Recorder::new(scenario.workloads.len(), &initial);
            // One time-series row per workload per metrics tick: a big run's chunks are
            // prepared ahead (see RowStore), so rows are never copied as storage grows.
            let ticks = scenario.duration.as_millis() / scenario.metrics_tick.as_millis().max(1);
            let rows = (ticks as usize + 1).saturating_mul(scenario.workloads.len());
            rec.timeseries = crate::metrics::RowStore::with_expected_rows(rows);
            rec
        },
        traffic: TrafficPlane::new(scenario, &streams),
        hpa: HpaController::new(scenario.hpa_controller, scenario.workloads.len()),
        vpa: VpaRecommender::new(&world),
        autoscaler: scenario
            .cluster_autoscaler
            .clone()
            .map(|cfg| ClusterAutoscaler::new(cfg, streams.stream("cluster-autoscaler"), &world)),
        karpenter: scenario
            .karpenter
            .clone()
            .map(|cfg| Karpenter::new(cfg, &world)),
        lifecycle: NodeLifecycle::new(&world),
        node_failure_rng: streams.stream("node-failures"),
        crash_rng: streams.stream("container-crashes"),
        provisioning_rng: streams.stream("provisioning"),
        failure_rng: streams.stream("provisioning-failures"),
        spot_rng: streams.stream("spot"),
        stopped_answering: Vec::new(),
        cycle_scheduled: false,
        flush_scheduled: false,
        backoff_timer: None,
        last_tick: SimTime::ZERO,
        bound: Vec::new(),
        preempted: Vec::new(),
        upgrades: Vec::new(),
        check: options.check,
        violation: None,
        world,
        scenario: scenario.clone(),
    };
    for (w, spec) in scenario.workloads.iter().enumerate() {
        let id = WorkloadId(w as u32);
        if spec.create_at == SimTime::ZERO {
            sim.engine
                .schedule_at(SimTime::ZERO, Event::SyncWorkload(id));
        } else {
            sim.world.workloads[w].desired = 0;
            sim.engine
                .schedule_at(spec.create_at, Event::CreateWorkload(id));
        }
    }
    sim.engine.schedule_at(
        scenario.metrics_tick.min(scenario.duration),
        Event::MetricsTick,
    );
    for i in 0..sim.world.live_nodes.len() {
        let node = sim.world.live_nodes[i];
        sim.arm_spot(node, SimTime::ZERO);
        sim.arm_failure(node, SimTime::ZERO);
    }
    for (i, fault) in scenario.faults.iter().enumerate() {
        sim.engine.schedule_at(fault.at, Event::Fault(i as u32));
    }
    for (p, pool) in scenario.pools.iter().enumerate() {
        for &(at, nodes) in pool.spot.iter().flat_map(|s| s.scheduled.iter()) {
            sim.engine
                .schedule_at(at, Event::SpotScheduled(PoolId(p as u32), nodes));
        }
    }
    if let Some(ca) = &sim.autoscaler {
        sim.engine
            .schedule_at(ca.scan_interval(), Event::AutoscalerScan);
    }
    if sim.karpenter.is_some() {
        sim.engine
            .schedule_at(DISRUPTION_POLL, Event::KarpenterDisrupt);
    }
    // Each HPA first syncs one period after its workload appears (metrics-server has a
    // sample by then), after the metrics tick of the same instant.
    for (w, spec) in scenario.workloads.iter().enumerate() {
        if spec.hpa.is_some() {
            sim.engine.schedule_at(
                spec.create_at.saturating_add(sim.hpa.sync_period()),
                Event::HpaSync(WorkloadId(w as u32)),
            );
        }
    }
    let end = scenario.duration;
    let mut last_time = SimTime::ZERO;
    while let Some(event) = sim.engine.pop_until(end) {
        if options.check && sim.engine.now() < last_time && sim.violation.is_none() {
            sim.violation = Some(format!(
                "time went backwards from {}s to {}s",
                last_time.as_secs_f64(),
                sim.engine.now().as_secs_f64()
            ));
        }
        last_time = sim.engine.now();
        if let Some(report) = options.progress
            && (sim.engine.events_processed().is_multiple_of(PROGRESS_EVERY)
                || matches!(event, Event::MetricsTick))
        {
            report(last_time, sim.engine.events_processed());
        }
        sim.dispatch(event);
        sim.schedule_endpoint_removals();
        if sim.engine.events_processed() > sim.scenario.limits.max_events {
            return Err(SimError::LimitExceeded(format!(
                "the run processed more than limits.maxEvents = {} events by t={}s; raise limits.maxEvents if the scenario is meant to be this large",
                sim.scenario.limits.max_events,
                sim.engine.now()
            )));
        }
        if options.check
            && let Err(what) =
                crate::invariants::check(&sim.world).and(match sim.violation.take() {
                    Some(v) => Err(v),
                    None => Ok(()),
                })
        {
            return Err(SimError::Invariant {
                time: sim.engine.now(),
                event: format!("{event:?}"),
                what,
            });
        }
    }
    sim.engine.advance_to(end);
    if let Some(report) = options.progress {
        report(end, sim.engine.events_processed());
    }
    sim.traffic.finish(&mut sim.recorder);
    for w in 0..sim.world.workloads.len() {
        sim.recorder.workloads[w].uptime = sim.world.uptime(w, end);
    }
    sim.recorder.finish(end);
    sim.recorder.vpa = sim.vpa.recommendations(&sim.world);
    Ok(RunOutput {
        events_processed: sim.engine.events_processed(),
        scenario: sim.scenario,
        world: sim.world,
        recorder: sim.recorder,
    })
}

impl Simulation {
    fn dispatch(&mut self, event: Event) {
        let now = self.engine.now();
        match event {
            Event::MetricsTick => self.metrics_tick(now),
            Event::ScheduleCycle => self.schedule_cycle(now),
            Event::CreateWorkload(w) => {
                self.world.workload_created(w.0 as usize, now);
                self.world.workloads[w.0 as usize].desired =
                    self.world.specs[w.0 as usize].replicas;
                self.engine
                    .schedule_in(SimTime::ZERO, Event::SyncWorkload(w));
            }
            Event::SyncWorkload(w) => {
                for (revision, to, up) in crate::control::deployment::sync(&mut self.world, w, now)
                {
                    self.recorder.event(
                        now,
                        EventKind::ScalingReplicaSet {
                            workload: w,
                            revision,
                            to,
                            up,
                        },
                    );
                }
                let outcome = replicaset::sync(
                    &mut self.world,
                    w,
                    now,
                    &mut self.scheduler,
                    &mut self.recorder,
                );
                if outcome.created > 0 {
                    self.request_cycle();
                }
                // The Deployment controller sees its old pods go (Recreate waits for it).
                let rolling = self.world.workloads[w.0 as usize].rollout.is_some();
                if outcome.more || (rolling && outcome.deleted > 0) {
                    self.engine
                        .schedule_in(SimTime::ZERO, Event::SyncWorkload(w));
                }
            }
            Event::PodRunning(pod, epoch) => {
                let p = &self.world.pods[pod.0 as usize];
                if p.state == PodState::Bound && p.restarts == epoch && !self.on_down_node(pod) {
                    self.world.set_state(pod, PodState::Running, now);
                    self.arm_crash(pod, now);
                }
            }
            Event::ContainerExit(pod, epoch) => self.container_exit(pod, epoch, now),
            Event::ContainerRestart(pod, epoch) => {
                let p = &self.world.pods[pod.0 as usize];
                if p.state == PodState::Bound && p.restarts == epoch && !self.on_down_node(pod) {
                    self.start_container(pod, None);
                }
            }
            Event::ProgressCheck(w) => self.progress_check(w, now),
            Event::PodReady(pod, epoch) => {
                let p = &self.world.pods[pod.0 as usize];
                if matches!(p.state, PodState::Bound | PodState::Running)
                    && p.restarts == epoch
                    && !self.on_down_node(pod)
                {
                    let w = p.workload;
                    if self.world.workloads[w.0 as usize].rollout.is_some() {
                        // The rollout moves on once the pod counts as available.
                        let min_ready = self.world.specs[w.0 as usize].min_ready;
                        let wait = if min_ready > SimTime::ZERO {
                            min_ready.saturating_add(SimTime::from_millis(1))
                        } else {
                            SimTime::ZERO
                        };
                        self.engine.schedule_in(wait, Event::SyncWorkload(w));
                    }
                    self.world.set_state(pod, PodState::Ready, now);
                    // Pods of a warm start were routed to before the run began.
                    let delay = if now == SimTime::ZERO && self.scenario.warm_start {
                        SimTime::ZERO
                    } else {
                        self.scenario.endpoint_delay
                    };
                    self.engine.schedule_in(delay, Event::EndpointAdd(pod));
                }
            }
            Event::EndpointAdd(pod) => self.world.list_endpoint(pod, now),
            Event::EndpointRemove(pod) => self.world.unlist_endpoint(pod, now),
            Event::FlushUnschedulable => {
                self.flush_scheduled = false;
                self.scheduler.flush(&mut self.world, now);
                self.arm_scheduler();
            }
            Event::HpaSync(w) => {
                if let Some(replicas) = self.hpa.sync(&mut self.world, w, now, &mut self.recorder) {
                    self.world.workloads[w.0 as usize].desired = replicas;
                    self.engine
                        .schedule_in(SimTime::ZERO, Event::SyncWorkload(w));
                }
                self.engine
                    .schedule_in(self.hpa.sync_period(), Event::HpaSync(w));
            }
            Event::AutoscalerScan => self.autoscaler_scan(now),
            Event::NodeProvisioned(pool, requested_at) => {
                let p = pool.0 as usize;
                self.world.pool_provisioning[p] = self.world.pool_provisioning[p].saturating_sub(1);
                let node = self.world.add_node(pool, now);
                self.world.nodes[node.0 as usize].billed_from = requested_at;
                self.arm_spot(node, now);
                self.arm_failure(node, now);
                self.scheduler.on_cluster_change(&mut self.world, now);
                self.arm_scheduler();
                // A replacement is Ready: the nodes it replaces drain now.
                if let Some(cmd) = self
                    .karpenter
                    .as_mut()
                    .and_then(|k| k.node_ready(pool.0, requested_at))
                {
                    for &old in &cmd.candidates {
                        self.karpenter_drain(old, cmd.reason, now);
                    }
                }
            }
            Event::KarpenterBatch => self.karpenter_batch(now),
            Event::Fault(i) => self.apply_fault(i as usize, now),
            Event::NodeDown(node, dies) => self.node_down(node, dies, now),
            Event::NodeUp(node, rearm) => self.node_up(node, rearm, now),
            Event::NodeMonitor(node) => self.node_monitor(node, now),
            Event::TaintEvict(pod, node) => {
                let p = &self.world.pods[pod.0 as usize];
                if p.node == Some(node)
                    && p.state != PodState::Deleted
                    && self.lifecycle.tainted_at(node).is_some()
                {
                    self.evict(pod, now, EventKind::TaintManagerEviction { pod });
                }
            }
            Event::DrainRetry(node) => self.manual_drain(node, now),
            Event::UpgradeStep(pool) => self.upgrade_step(pool, now),
            Event::ProvisionTimeout(pool, requested_at) => {
                self.provision_timeout(pool, requested_at, now)
            }
            Event::KarpenterDisrupt => self.karpenter_disrupt(now),
            Event::KarpenterDrain(node, reason) => {
                if self.world.nodes[node.0 as usize].removed_at.is_none() {
                    self.karpenter_drain(node, reason, now);
                }
            }
            Event::SpotNotice(node) => self.spot_notice(node, now),
            Event::SpotTerminate(node) => self.spot_terminate(node, now),
            Event::SpotDrain(node) => {
                if self.world.nodes[node.0 as usize].removed_at.is_none() {
                    self.spot_drain(node, now);
                }
            }
            Event::SpotScheduled(pool, n) => {
                let nodes: Vec<NodeId> = self.world.pool_nodes[pool.0 as usize]
                    .iter()
                    .copied()
                    .filter(|&id| self.world.nodes[id.0 as usize].schedulable)
                    .take(n as usize)
                    .collect();
                for node in nodes {
                    self.spot_notice(node, now);
                }
            }
            Event::BackoffFlush => {
                if self.backoff_timer.is_some_and(|t| t <= now) {
                    self.backoff_timer = None;
                }
                self.scheduler.flush(&mut self.world, now);
                self.arm_scheduler();
            }
        }
    }

    /// One cluster-autoscaler loop, and carrying out what it decided.
    fn autoscaler_scan(&mut self, now: SimTime) {
        let Some(ca) = self.autoscaler.as_mut() else {
            return;
        };
        let (allowed, budgets) = self.scheduler.disruption_state(&self.world);
        let decision = ca.run_once(&self.world, now, &allowed, budgets);
        let interval = ca.scan_interval();
        for (pod, message) in &decision.not_triggered {
            self.recorder.event(
                now,
                EventKind::NotTriggerScaleUp {
                    pod: *pod,
                    message: message.clone(),
                },
            );
        }
        let mut groups = Vec::with_capacity(decision.scale_up.len());
        for &(pool, nodes) in &decision.scale_up {
            let p = pool as usize;
            let from = self.world.pool_nodes[p].len() as u32 + self.world.pool_provisioning[p];
            groups.push((pool, from, from + nodes));
            for _ in 0..nodes {
                self.request_node(pool, now);
            }
        }
        if !groups.is_empty() {
            for &pod in &decision.triggered {
                self.recorder.event(
                    now,
                    EventKind::TriggeredScaleUp {
                        pod,
                        groups: groups.clone(),
                    },
                );
            }
        }
        for &node in &decision.scale_down {
            for pod in self.world.nodes[node.0 as usize].pods.clone() {
                self.evict(pod, now, EventKind::ScaleDownPod { pod, node });
            }
            let pool = self.world.nodes[node.0 as usize].pool.0 as usize;
            self.bill_minimum(node, now);
            self.world.remove_node(node, now);
            self.recorder.event(now, EventKind::ScaleDownNode { node });
            self.recorder
                .pool_nodes_changed(now, pool, self.world.billed_nodes(pool));
        }
        self.engine.schedule_in(interval, Event::AutoscalerScan);
    }

    /// Karpenter's batch timer: keep waiting while pods arrive, else provision.
    fn karpenter_batch(&mut self, now: SimTime) {
        let Some(k) = self.karpenter.as_mut() else {
            return;
        };
        let provisioning = match k.batch_tick(&self.world, now) {
            Ok(p) => p,
            Err(next) => {
                self.engine.schedule_at(next, Event::KarpenterBatch);
                return;
            }
        };
        for (pod, message) in provisioning.failed {
            self.recorder
                .event(now, EventKind::KarpenterFailedScheduling { pod, message });
        }
        for tried in &provisioning.insufficient {
            self.recorder.event(
                now,
                EventKind::InsufficientCapacity {
                    pool: tried[0],
                    others: tried.len() as u32 - 1,
                },
            );
        }
        if !provisioning.insufficient.is_empty()
            && let Some(at) = self.karpenter.as_mut().and_then(|k| k.open_batch(now))
        {
            self.engine.schedule_at(at, Event::KarpenterBatch);
        }
        for l in provisioning.launches {
            if !self.launch_node(l.pool, now, None) {
                continue;
            }
            self.recorder.event(
                now,
                EventKind::NodeClaimLaunched {
                    pool: l.pool,
                    claim: l.claim,
                    pods: l.pods.len() as u32,
                    replacing: 0,
                },
            );
            for &pod in &l.pods {
                self.recorder.event(
                    now,
                    EventKind::Nominated {
                        pod,
                        pool: l.pool,
                        claim: l.claim,
                    },
                );
            }
        }
    }

    /// Karpenter launches one node of `pool`; `command` is the consolidation it replaces
    /// nodes for. An insufficient-capacity error marks the offering unavailable and packs
    /// the pods again (a called-off replacement uncordons its nodes).
    fn launch_node(&mut self, pool: u32, now: SimTime, command: Option<Command>) -> bool {
        if self.request_node(pool, now) {
            if let Some(k) = self.karpenter.as_mut() {
                k.launched(pool, now, command);
            }
            return true;
        }
        self.recorder
            .event(now, EventKind::InsufficientCapacity { pool, others: 0 });
        if let Some(k) = self.karpenter.as_mut() {
            k.launch_failed(pool, now);
            if let Some(at) = k.open_batch(now) {
                self.engine.schedule_at(at, Event::KarpenterBatch);
            }
        }
        for n in command.iter().flat_map(|c| c.candidates.iter()) {
            if let Some(k) = self.karpenter.as_mut() {
                k.node_gone(*n);
            }
        }
        false
    }

    /// Asks the cloud for one node of `pool`. The request may fail: a stock-out window or
    /// the pool's failure rate. Karpenter hears of a stock-out at once (false returned);
    /// otherwise the request counts as upcoming (unbilled) until the node group's max
    /// provision time (Karpenter: registration TTL) runs out.
    fn request_node(&mut self, pool: u32, now: SimTime) -> bool {
        let p = pool as usize;
        let spec = &self.world.pools[p];
        let stocked_out = spec.provisioning.stocked_out(now);
        if stocked_out && spec.karpenter.is_some() {
            return false;
        }
        let rate = spec.provisioning.failure_rate;
        let fails = stocked_out || (rate > 0.0 && self.failure_rng.random::<f64>() < rate);
        self.world.pool_provisioning[p] += 1;
        if fails {
            self.world.pool_failing[p] += 1;
            let timeout = match (&self.autoscaler, spec.karpenter) {
                (_, Some(_)) => crate::control::karpenter::REGISTRATION_TTL,
                (Some(ca), None) => ca.max_node_provision_time(),
                (None, None) => DEFAULT_MAX_NODE_PROVISION_TIME,
            };
            self.engine
                .schedule_in(timeout, Event::ProvisionTimeout(PoolId(pool), now));
        } else {
            let delay = provisioning_delay(
                spec.provisioning.median,
                spec.provisioning.p90,
                &mut self.provisioning_rng,
            );
            self.engine
                .schedule_in(delay, Event::NodeProvisioned(PoolId(pool), now));
        }
        self.recorder
            .pool_nodes_changed(now, p, self.world.billed_nodes(p));
        true
    }

    /// A requested node never registered: the cluster autoscaler backs the group off,
    /// Karpenter forgets the NodeClaim and packs its pods again, a fixed group (a spot
    /// replacement) asks again.
    fn provision_timeout(&mut self, pool: PoolId, requested_at: SimTime, now: SimTime) {
        let p = pool.0 as usize;
        self.world.pool_provisioning[p] -= 1;
        self.world.pool_failing[p] -= 1;
        self.recorder.event(
            now,
            EventKind::ProvisionTimedOut {
                pool: pool.0,
                after: now.saturating_sub(requested_at),
            },
        );
        if self.world.pools[p].karpenter.is_some() {
            if let Some(k) = self.karpenter.as_mut() {
                let called_off = k.registration_failed(pool.0, requested_at);
                for n in called_off.iter().flat_map(|c| c.candidates.iter()) {
                    self.world.uncordon(*n);
                }
                if let Some(at) = k.open_batch(now) {
                    self.engine.schedule_at(at, Event::KarpenterBatch);
                }
            }
        } else if let Some(ca) = self.autoscaler.as_mut() {
            ca.scale_up_timed_out(p, now);
        } else {
            self.request_node(pool.0, now);
        }
        self.recorder
            .pool_nodes_changed(now, p, self.world.billed_nodes(p));
        self.scheduler.on_cluster_change(&mut self.world, now);
        self.arm_scheduler();
    }

    /// Karpenter's disruption poll, and carrying out its commands.
    fn karpenter_disrupt(&mut self, now: SimTime) {
        let Some(k) = self.karpenter.as_mut() else {
            return;
        };
        let (allowed, budgets) = self.scheduler.disruption_state(&self.world);
        let commands = k.disrupt(&self.world, now, &allowed, budgets);
        let next = k.next_poll(now);
        self.engine.schedule_at(next, Event::KarpenterDisrupt);
        for cmd in commands {
            let (reason, replace) = (cmd.reason, cmd.replacement);
            let candidates = cmd.candidates.clone();
            if let Some(pool) = replace {
                // The replacement is launched first; if the cloud has no capacity for it
                // the command is called off and the nodes stay.
                let replacing = candidates.len() as u32;
                if !self.launch_node(pool, now, Some(cmd)) {
                    continue;
                }
                let claim = self.karpenter.as_mut().map_or(0, |k| {
                    k.next_claim(self.world.pools[pool as usize].karpenter.unwrap_or(0))
                });
                self.recorder.event(
                    now,
                    EventKind::NodeClaimLaunched {
                        pool,
                        claim,
                        pods: 0,
                        replacing,
                    },
                );
            }
            for &node in &candidates {
                self.world.cordon(node);
                self.recorder.event(
                    now,
                    EventKind::DisruptionTerminating {
                        node,
                        reason,
                        replace: replace.is_some(),
                    },
                );
            }
            if replace.is_none() {
                for &node in &candidates {
                    self.karpenter_drain(node, reason, now);
                }
            }
        }
        self.scheduler.on_cluster_change(&mut self.world, now);
        self.arm_scheduler();
    }

    /// Evicts what the PodDisruptionBudgets allow from a node Karpenter disrupts; deletes
    /// the node once empty, else retries in 5 s.
    fn karpenter_drain(&mut self, node: NodeId, reason: Reason, now: SimTime) {
        let why = reason.as_str();
        self.drain_step(node, now, |pod| EventKind::Evicted { pod, why });
        if self.world.nodes[node.0 as usize].pods.is_empty() {
            let pool = self.world.nodes[node.0 as usize].pool.0 as usize;
            self.bill_minimum(node, now);
            self.world.remove_node(node, now);
            if let Some(k) = self.karpenter.as_mut() {
                k.node_gone(node);
            }
            self.recorder
                .pool_nodes_changed(now, pool, self.world.billed_nodes(pool));
        } else {
            self.engine
                .schedule_in(DRAIN_RETRY, Event::KarpenterDrain(node, reason));
        }
    }

    /// The kubelet starts a pod's container: Running within a second, Ready after the
    /// revision's startup time (`startup` overrides it: zero for a warm start).
    fn start_container(&mut self, pod: PodId, startup: Option<SimTime>) {
        let p = &self.world.pods[pod.0 as usize];
        let spec = &self.world.specs[p.workload.0 as usize];
        let startup = startup.unwrap_or_else(|| {
            spec.revisions
                .get(p.revision as usize)
                .map_or(spec.startup, |r| r.startup)
        });
        let epoch = p.restarts;
        self.engine.schedule_in(
            startup.min(SimTime::from_secs(1)),
            Event::PodRunning(pod, epoch),
        );
        self.engine
            .schedule_in(startup, Event::PodReady(pod, epoch));
    }

    /// Draws whether a started container will crash: at once for a bad version
    /// (`crashOnStart`), else after an exponential time with the workload's MTBF.
    fn arm_crash(&mut self, pod: PodId, now: SimTime) {
        let p = &self.world.pods[pod.0 as usize];
        let spec = &self.world.specs[p.workload.0 as usize];
        let on_start = spec
            .revisions
            .get(p.revision as usize)
            .map_or(0.0, |r| r.crash_on_start);
        let epoch = p.restarts;
        let mtbf = spec.crash_mtbf;
        if on_start > 0.0 && self.crash_rng.random::<f64>() < on_start {
            self.engine.schedule_in(
                crate::scenario::rollout::CRASH_AFTER,
                Event::ContainerExit(pod, epoch),
            );
        } else if let Some(m) = mtbf {
            let u: f64 = self.crash_rng.random();
            let after = -(1.0 - u).ln() * m.as_secs_f64();
            self.engine.schedule_at(
                now.saturating_add(SimTime::from_millis((after * 1000.0) as u64)),
                Event::ContainerExit(pod, epoch),
            );
        }
    }

    /// A container crashed: the pod stops answering, and the kubelet restarts it after
    /// the crash-loop back-off (`BackOff` while it waits).
    fn container_exit(&mut self, pod: PodId, epoch: u32, now: SimTime) {
        let p = &self.world.pods[pod.0 as usize];
        if p.restarts != epoch
            || !matches!(p.state, PodState::Running | PodState::Ready)
            || self.on_down_node(pod)
        {
            return;
        }
        self.world.set_state(pod, PodState::Bound, now);
        let p = &mut self.world.pods[pod.0 as usize];
        p.restarts += 1;
        let (delay, entry) = crate::control::kubelet::restart_delay(p.backoff, now);
        p.backoff = Some(entry);
        let epoch = p.restarts;
        self.recorder.container_restarts += 1;
        if delay > SimTime::ZERO {
            self.recorder.event(now, EventKind::BackOff { pod });
        }
        self.engine
            .schedule_in(delay, Event::ContainerRestart(pod, epoch));
    }

    /// Liveness and readiness probes against the tick's queueing delay: an overloaded pod
    /// fails them; liveness restarts it, readiness unlists it until probes pass again.
    fn probe_tick(&mut self, now: SimTime) {
        for w in 0..self.world.specs.len() {
            let spec = &self.world.specs[w];
            let (live, ready) = (spec.liveness, spec.readiness);
            if live.is_none() && ready.is_none() {
                continue;
            }
            let delay = crate::control::probes::queueing_delay(&self.world.workloads[w].usage);
            let pods = self.world.workloads[w].active.clone();
            for pod in pods {
                let p = &self.world.pods[pod.0 as usize];
                let started = p.running_at.unwrap_or(now);
                if self.on_down_node(pod) {
                    continue;
                }
                if p.unready_by_probe {
                    // Out of the endpoints it gets no traffic, so its probes pass.
                    if p.state == PodState::Running
                        && let Some(r) = ready
                        && now.saturating_sub(p.probe_failing_since.unwrap_or(now))
                            >= r.passing_for()
                    {
                        let epoch = p.restarts;
                        let q = &mut self.world.pods[pod.0 as usize];
                        q.unready_by_probe = false;
                        q.probe_failing_since = None;
                        self.engine
                            .schedule_in(SimTime::ZERO, Event::PodReady(pod, epoch));
                    }
                    continue;
                }
                if p.state != PodState::Ready {
                    continue;
                }
                let timeout = [live, ready]
                    .iter()
                    .flatten()
                    .map(|x| x.timeout)
                    .min()
                    .unwrap_or(SimTime::MAX);
                if delay <= timeout {
                    self.world.pods[pod.0 as usize].probe_failing_since = None;
                    continue;
                }
                let since = *self.world.pods[pod.0 as usize]
                    .probe_failing_since
                    .get_or_insert(now);
                let failing = now.saturating_sub(since);
                let past = |x: Option<crate::control::probes::Probe>| {
                    x.filter(|x| {
                        delay > x.timeout
                            && failing >= x.failing_for()
                            && now >= started.saturating_add(x.initial_delay)
                    })
                };
                if let Some(l) = past(live) {
                    self.recorder.event(
                        now,
                        EventKind::Unhealthy {
                            pod,
                            liveness: true,
                            timeout: l.timeout,
                        },
                    );
                    let why = "failed liveness probe, will be restarted";
                    self.recorder.event(now, EventKind::Killing { pod, why });
                    self.world.pods[pod.0 as usize].probe_failing_since = None;
                    let epoch = self.world.pods[pod.0 as usize].restarts;
                    self.container_exit(pod, epoch, now);
                } else if let Some(r) = past(ready) {
                    self.recorder.event(
                        now,
                        EventKind::Unhealthy {
                            pod,
                            liveness: false,
                            timeout: r.timeout,
                        },
                    );
                    self.world.set_state(pod, PodState::Running, now);
                    let q = &mut self.world.pods[pod.0 as usize];
                    q.unready_by_probe = true;
                    q.probe_failing_since = Some(now);
                }
            }
        }
    }

    /// A rollout's deadline: `ProgressDeadlineExceeded` once, and an automatic rollback
    /// when the workload asks for one.
    fn progress_check(&mut self, w: WorkloadId, now: SimTime) {
        let i = w.0 as usize;
        let Some((progress_at, reported)) = self.world.workloads[i].rollout else {
            return;
        };
        let due = progress_at.saturating_add(self.world.specs[i].progress_deadline);
        if now < due {
            self.engine.schedule_at(due, Event::ProgressCheck(w));
            return;
        }
        if !reported {
            self.world.workloads[i].rollout = Some((progress_at, true));
            let revision = self.world.workloads[i].revision;
            self.recorder.event(
                now,
                EventKind::ProgressDeadlineExceeded {
                    workload: w,
                    revision,
                },
            );
            if self.world.specs[i].auto_rollback {
                self.rollback(w, now);
            }
        }
    }

    /// `kubectl rollout undo`: the previous revision becomes the new ReplicaSet.
    fn rollback(&mut self, w: WorkloadId, now: SimTime) {
        let ws = &mut self.world.workloads[w.0 as usize];
        let to = ws.previous_revision;
        if to == ws.revision {
            return;
        }
        ws.previous_revision = ws.revision;
        ws.revision = to;
        ws.rollout = Some((now, false));
        self.recorder.event(
            now,
            EventKind::DeploymentRollback {
                workload: w,
                revision: to,
            },
        );
        self.engine
            .schedule_in(SimTime::ZERO, Event::SyncWorkload(w));
        let deadline = self.world.specs[w.0 as usize].progress_deadline;
        self.engine.schedule_in(deadline, Event::ProgressCheck(w));
    }

    fn on_down_node(&self, pod: PodId) -> bool {
        self.world.pods[pod.0 as usize]
            .node
            .is_some_and(|n| self.world.nodes[n.0 as usize].down)
    }

    /// Live nodes a fault's target names now.
    fn resolve(&self, target: &NodeTarget) -> Vec<NodeId> {
        match target {
            NodeTarget::Named(names) => self
                .world
                .live_nodes
                .iter()
                .copied()
                .filter(|&n| names.contains(&self.world.node_name(n)))
                .collect(),
            NodeTarget::Pool { pool, count } => self.world.pool_nodes[*pool as usize]
                .iter()
                .copied()
                .filter(|&n| self.world.nodes[n.0 as usize].heartbeat_lost.is_none())
                .take(*count as usize)
                .collect(),
        }
    }

    fn apply_fault(&mut self, i: usize, now: SimTime) {
        let kind = self.scenario.faults[i].kind.clone();
        let (nodes, dies, duration) = match &kind {
            FaultKind::NodeFailure { nodes, duration } => (self.resolve(nodes), true, *duration),
            FaultKind::Partition { nodes, duration } => (self.resolve(nodes), false, *duration),
            FaultKind::ZoneOutage { zone, duration } => {
                let nodes = self
                    .world
                    .live_nodes
                    .iter()
                    .copied()
                    .filter(|&n| {
                        let node = &self.world.nodes[n.0 as usize];
                        self.world.pools[node.pool.0 as usize]
                            .zones
                            .get(node.zone as usize)
                            == Some(zone)
                    })
                    .collect();
                (nodes, true, *duration)
            }
            FaultKind::Drain { nodes } => {
                for n in self.resolve(nodes) {
                    self.world.cordon(n);
                    self.manual_drain(n, now);
                }
                self.scheduler.on_cluster_change(&mut self.world, now);
                self.arm_scheduler();
                return;
            }
            FaultKind::Cordon { nodes } => {
                for n in self.resolve(nodes) {
                    self.world.cordon(n);
                }
                return;
            }
            FaultKind::Rollout { workload, revision } => {
                let w = WorkloadId(*workload);
                let ws = &mut self.world.workloads[*workload as usize];
                ws.previous_revision = ws.revision;
                ws.revision = *revision;
                if ws.rs_replicas.len() <= *revision as usize {
                    ws.rs_replicas.resize(*revision as usize + 1, 0);
                }
                ws.rollout = Some((now, false));
                self.engine
                    .schedule_in(SimTime::ZERO, Event::SyncWorkload(w));
                let deadline = self.world.specs[*workload as usize].progress_deadline;
                self.engine.schedule_in(deadline, Event::ProgressCheck(w));
                return;
            }
            FaultKind::Rollback { workload } => {
                self.rollback(WorkloadId(*workload), now);
                return;
            }
            FaultKind::PoolUpgrade {
                pool,
                max_surge,
                max_unavailable,
            } => {
                let old = self.world.pool_nodes[*pool as usize].clone();
                self.upgrades
                    .push((*pool, old, Vec::new(), *max_surge, *max_unavailable));
                for _ in 0..*max_surge {
                    self.request_node(*pool, now);
                }
                self.engine
                    .schedule_in(SimTime::ZERO, Event::UpgradeStep(PoolId(*pool)));
                return;
            }
        };
        for node in nodes {
            self.node_down(node, dies, now);
            if let Some(d) = duration {
                self.engine.schedule_in(d, Event::NodeUp(node, false));
            }
        }
    }

    /// One look at a pool upgrade: once the surge nodes have joined, drain the next batch
    /// of old nodes (within PodDisruptionBudgets); once the batch is empty, delete it and
    /// request its replacements beyond the surge; done when no old node is left.
    fn upgrade_step(&mut self, pool: PoolId, now: SimTime) {
        let Some(i) = self.upgrades.iter().position(|u| u.0 == pool.0) else {
            return;
        };
        let p = pool.0 as usize;
        let (_, mut old, mut batch, surge, unavailable) = self.upgrades[i].clone();
        if batch.is_empty() {
            if self.world.pool_provisioning[p] > 0 {
                // The surge nodes are still booting.
                self.engine
                    .schedule_in(MONITOR_PERIOD, Event::UpgradeStep(pool));
                return;
            }
            old.retain(|n| self.world.nodes[n.0 as usize].removed_at.is_none());
            if old.is_empty() {
                self.upgrades.remove(i);
                return;
            }
            let take = ((surge + unavailable) as usize).min(old.len());
            batch = old.drain(..take).collect();
            for &n in &batch {
                self.world.cordon(n);
                self.recorder.event(
                    now,
                    EventKind::NodeFault {
                        node: n,
                        reason: "NodeUpgrade",
                    },
                );
            }
            self.scheduler.on_cluster_change(&mut self.world, now);
        }
        for &n in &batch {
            if self.world.nodes[n.0 as usize].removed_at.is_none() {
                self.drain_step(n, now, |pod| EventKind::Evicted { pod, why: "drain" });
            }
        }
        if batch
            .iter()
            .all(|n| self.world.nodes[n.0 as usize].pods.is_empty())
        {
            let n_batch = batch.len() as u32;
            for n in batch.drain(..) {
                if self.world.nodes[n.0 as usize].removed_at.is_none() {
                    self.bill_minimum(n, now);
                    self.world.remove_node(n, now);
                }
            }
            self.recorder
                .pool_nodes_changed(now, p, self.world.billed_nodes(p));
            // Replacements: the batch beyond the surge now, the next surge ahead of the
            // next batch.
            let more = if old.is_empty() { 0 } else { surge };
            for _ in 0..n_batch.saturating_sub(surge) + more {
                self.request_node(pool.0, now);
            }
        }
        self.upgrades[i] = (pool.0, old, batch, surge, unavailable);
        self.arm_scheduler();
        self.engine
            .schedule_in(DRAIN_RETRY, Event::UpgradeStep(pool));
    }

    /// `kubectl drain`: evicts what the PodDisruptionBudgets allow, retrying every 5 s.
    fn manual_drain(&mut self, node: NodeId, now: SimTime) {
        if self.world.nodes[node.0 as usize].removed_at.is_some() {
            return;
        }
        self.drain_step(node, now, |pod| EventKind::Evicted { pod, why: "drain" });
        if !self.world.nodes[node.0 as usize].pods.is_empty() {
            self.engine
                .schedule_in(DRAIN_RETRY, Event::DrainRetry(node));
        }
    }

    /// Draws a node's next random failure from its pool's mean time between failures.
    fn arm_failure(&mut self, node: NodeId, now: SimTime) {
        let pool = self.world.nodes[node.0 as usize].pool.0 as usize;
        let Some(f) = self.world.pools[pool].failures else {
            return;
        };
        let u: f64 = self.node_failure_rng.random();
        let after = -(1.0 - u).ln() * f.mtbf.as_secs_f64();
        let at = now.saturating_add(SimTime::from_millis((after * 1000.0) as u64));
        self.engine.schedule_at(at, Event::NodeDown(node, true));
        if let Some(repair) = f.repair {
            self.engine
                .schedule_at(at.saturating_add(repair), Event::NodeUp(node, true));
        }
    }

    /// A node stops heartbeating; with `dies`, its containers stop too (their pods stop
    /// answering at once, though they stay listed until the node is seen NotReady).
    fn node_down(&mut self, node: NodeId, dies: bool, now: SimTime) {
        let n = &self.world.nodes[node.0 as usize];
        if n.removed_at.is_some() || n.heartbeat_lost.is_some() {
            return;
        }
        self.world.nodes[node.0 as usize].heartbeat_lost = Some(now);
        self.world.nodes[node.0 as usize].down = dies;
        let reason = if dies {
            "NodeFailure"
        } else {
            "NetworkPartition"
        };
        self.recorder
            .event(now, EventKind::NodeFault { node, reason });
        if dies {
            for pod in self.world.nodes[node.0 as usize].pods.clone() {
                // The containers die with the node: pending starts and crashes are void.
                self.world.pods[pod.0 as usize].restarts += 1;
                if matches!(
                    self.world.pods[pod.0 as usize].state,
                    PodState::Running | PodState::Ready
                ) {
                    self.world.set_state(pod, PodState::Bound, now);
                }
            }
        }
        self.engine
            .schedule_at(not_ready_at(now), Event::NodeMonitor(node));
    }

    /// The monitor pass after the grace period: NotReady, pods out of the endpoints, the
    /// NoExecute taint when the zone's rate allows, evictions after the tolerations.
    fn node_monitor(&mut self, node: NodeId, now: SimTime) {
        let n = &self.world.nodes[node.0 as usize];
        if n.removed_at.is_some() || n.heartbeat_lost.is_none() {
            return;
        }
        if !self.lifecycle.is_not_ready(node) {
            self.lifecycle.mark_not_ready(&self.world, node, now);
            self.recorder.event(now, EventKind::NodeNotReady { node });
            self.world.cordon(node);
            // MarkPodsNotReady: the pods leave the Service endpoints.
            for pod in self.world.nodes[node.0 as usize].pods.clone() {
                let p = &self.world.pods[pod.0 as usize];
                if p.state == PodState::Ready {
                    self.world.set_state(pod, PodState::Running, now);
                } else if p.listed {
                    self.engine
                        .schedule_in(self.scenario.endpoint_delay, Event::EndpointRemove(pod));
                }
            }
            self.scheduler.on_cluster_change(&mut self.world, now);
            self.arm_scheduler();
        }
        match self.lifecycle.taint(&self.world, node, now) {
            Some(at) => {
                for &pod in &self.world.nodes[node.0 as usize].pods {
                    let w = self.world.pods[pod.0 as usize].workload.0 as usize;
                    if let Some(wait) = self.world.specs[w].unreachable_toleration {
                        self.engine
                            .schedule_at(at.saturating_add(wait), Event::TaintEvict(pod, node));
                    }
                }
            }
            None => self
                .engine
                .schedule_in(MONITOR_PERIOD, Event::NodeMonitor(node)),
        }
    }

    /// A failed or partitioned node heartbeats again: Ready, uncordoned, its surviving
    /// pods' containers restart.
    fn node_up(&mut self, node: NodeId, rearm: bool, now: SimTime) {
        let n = &self.world.nodes[node.0 as usize];
        if n.removed_at.is_some() || n.heartbeat_lost.is_none() {
            return;
        }
        let was_down = n.down;
        self.world.nodes[node.0 as usize].heartbeat_lost = None;
        self.world.nodes[node.0 as usize].down = false;
        self.recorder.event(
            now,
            EventKind::NodeFault {
                node,
                reason: "NodeRecovered",
            },
        );
        if self.lifecycle.is_not_ready(node) {
            self.lifecycle.mark_ready(&self.world, node);
            self.recorder.event(now, EventKind::NodeReady { node });
            self.world.uncordon(node);
        }
        for pod in self.world.nodes[node.0 as usize].pods.clone() {
            let p = &self.world.pods[pod.0 as usize];
            match p.state {
                // Containers start again (a reboot), or were running all along (partition).
                PodState::Bound if was_down => self.start_container(pod, None),
                PodState::Running if !was_down => {
                    let epoch = p.restarts;
                    self.engine
                        .schedule_in(SimTime::ZERO, Event::PodReady(pod, epoch));
                }
                _ => {}
            }
        }
        self.scheduler.on_cluster_change(&mut self.world, now);
        self.arm_scheduler();
        if rearm {
            self.arm_failure(node, now);
        }
    }

    /// Draws a spot node's interruption time (exponential around the pool's mean).
    fn arm_spot(&mut self, node: NodeId, now: SimTime) {
        let pool = self.world.nodes[node.0 as usize].pool.0 as usize;
        let Some(mtti) = self.world.pools[pool]
            .spot
            .as_ref()
            .and_then(|s| s.mean_time_to_interruption)
        else {
            return;
        };
        let u: f64 = self.spot_rng.random();
        let after = -(1.0 - u).ln() * mtti.as_secs_f64();
        self.engine.schedule_at(
            now.saturating_add(SimTime::from_millis((after * 1000.0) as u64)),
            Event::SpotNotice(node),
        );
    }

    /// A spot interruption notice: cordon the node, evict what the PodDisruptionBudgets
    /// allow at once, terminate it when the notice ends.
    fn spot_notice(&mut self, node: NodeId, now: SimTime) {
        let n = &self.world.nodes[node.0 as usize];
        if n.removed_at.is_some() || !n.schedulable {
            return; // gone, or already draining
        }
        let pool = n.pool.0 as usize;
        let notice = self.world.pools[pool]
            .spot
            .as_ref()
            .map_or(SimTime::ZERO, |s| s.notice);
        self.world.cordon(node);
        self.recorder
            .event(now, EventKind::SpotInterruption { node, notice });
        self.engine.schedule_in(notice, Event::SpotTerminate(node));
        self.spot_drain(node, now);
    }

    /// Evicts the pods of a draining spot node that their PodDisruptionBudgets allow now,
    /// and retries in 5 s while any remain.
    fn spot_drain(&mut self, node: NodeId, now: SimTime) {
        let why = "spot interruption";
        self.drain_step(node, now, |pod| EventKind::Killing { pod, why });
        if !self.world.nodes[node.0 as usize].pods.is_empty() {
            self.engine.schedule_in(DRAIN_RETRY, Event::SpotDrain(node));
        }
    }

    /// Evicts the pods of a draining node that their PodDisruptionBudgets allow now (as
    /// `kubectl drain` and Karpenter's terminator do through the eviction API).
    fn drain_step(&mut self, node: NodeId, now: SimTime, event: impl Fn(PodId) -> EventKind) {
        let (mut allowed, budgets) = self.scheduler.disruption_state(&self.world);
        let pods = self.world.nodes[node.0 as usize].pods.clone();
        let mut evict = Vec::new();
        for pod in pods {
            let w = self.world.pods[pod.0 as usize].workload;
            let covered = &budgets[w.0 as usize];
            if covered.iter().any(|&b| allowed[b as usize] <= 0) {
                continue; // its budget is spent: it stays for now
            }
            for &b in covered {
                allowed[b as usize] -= 1;
            }
            evict.push(pod);
        }
        for pod in evict {
            self.evict(pod, now, event(pod));
        }
    }

    /// The notice ran out: the pods still there die with the node, and the node group
    /// replaces the instance to keep its size.
    fn spot_terminate(&mut self, node: NodeId, now: SimTime) {
        if self.world.nodes[node.0 as usize].removed_at.is_some() {
            return;
        }
        for pod in self.world.nodes[node.0 as usize].pods.clone() {
            let why = "spot instance terminated";
            self.evict(pod, now, EventKind::Killing { pod, why });
        }
        let pool = self.world.nodes[node.0 as usize].pool.0 as usize;
        self.bill_minimum(node, now);
        self.world.remove_node(node, now);
        if let Some(k) = self.karpenter.as_mut() {
            k.node_gone(node);
        }
        if self.world.pools[pool].karpenter.is_some() {
            // Karpenter replaces capacity by provisioning for the pods that lost it.
            self.recorder
                .pool_nodes_changed(now, pool, self.world.billed_nodes(pool));
            return;
        }
        self.request_node(pool as u32, now);
    }

    /// A node leaving before the provider's minimum billed time is billed the rest.
    fn bill_minimum(&mut self, node: NodeId, now: SimTime) {
        let n = &self.world.nodes[node.0 as usize];
        let pool = n.pool.0 as usize;
        let lived = now.saturating_sub(n.billed_from);
        let minimum = self.world.pools[pool].billing_minimum;
        if lived < minimum {
            self.recorder
                .bill_extra(pool, minimum.saturating_sub(lived));
        }
    }

    /// Deletes a pod from its node (counted as evicted, `event` recorded); its ReplicaSet
    /// replaces it.
    fn evict(&mut self, pod: PodId, now: SimTime, event: EventKind) {
        // Voluntary evictions go through the eviction API: every PodDisruptionBudget
        // covering the pod must allow one more disruption.
        let voluntary = matches!(
            event,
            EventKind::ScaleDownPod { .. } | EventKind::Evicted { .. }
        );
        if self.check && voluntary && self.violation.is_none() {
            let (allowed, budgets) = self.scheduler.disruption_state(&self.world);
            let w = self.world.pods[pod.0 as usize].workload.0 as usize;
            if budgets[w].iter().any(|&b| allowed[b as usize] <= 0)
                && self.world.pods[pod.0 as usize].state == PodState::Ready
            {
                self.violation = Some(format!(
                    "pod {} was evicted although its PodDisruptionBudget allows no disruption",
                    self.world.pod_name(pod)
                ));
            }
        }
        self.recorder.event(now, event);
        self.recorder.pods_evicted += 1;
        let w = self.world.pods[pod.0 as usize].workload;
        self.world.delete_pod(pod, now);
        self.engine
            .schedule_in(SimTime::ZERO, Event::SyncWorkload(w));
    }

    fn request_cycle(&mut self) {
        if !self.cycle_scheduled {
            self.cycle_scheduled = true;
            self.engine.schedule_in(SimTime::ZERO, Event::ScheduleCycle);
        }
    }

    /// Schedules whatever the scheduler's queues need next: a cycle for active pods, the
    /// periodic unschedulable flush, and a wake-up when the earliest back-off ends.
    fn arm_scheduler(&mut self) {
        if self.scheduler.has_active() {
            self.request_cycle();
        }
        if !self.flush_scheduled && self.scheduler.has_unschedulable() {
            self.flush_scheduled = true;
            self.engine
                .schedule_in(UNSCHEDULABLE_FLUSH_PERIOD, Event::FlushUnschedulable);
        }
        if let Some(t) = self.scheduler.next_backoff_end()
            && self.backoff_timer.is_none_or(|armed| armed > t)
        {
            self.backoff_timer = Some(t);
            self.engine.schedule_at(t, Event::BackoffFlush);
        }
    }

    fn schedule_cycle(&mut self, now: SimTime) {
        self.cycle_scheduled = false;
        self.bound.clear();
        self.scheduler.run_cycle(
            &mut self.world,
            now,
            &mut self.recorder,
            &mut self.bound,
            &mut self.preempted,
        );
        // Preempted pods' owners replace them; their deletion may let parked pods fit.
        if !self.preempted.is_empty() {
            for i in 0..self.preempted.len() {
                let w = self.world.pods[self.preempted[i].0 as usize].workload;
                self.engine
                    .schedule_in(SimTime::ZERO, Event::SyncWorkload(w));
            }
            self.preempted.clear();
            self.scheduler.on_cluster_change(&mut self.world, now);
        }
        for i in 0..self.bound.len() {
            let pod = self.bound[i];
            // Pods of a warm start were already running when the simulation started.
            let warm = now == SimTime::ZERO && self.scenario.warm_start;
            self.start_container(pod, warm.then_some(SimTime::ZERO));
        }
        self.arm_scheduler();
        if (self.scheduler.has_unschedulable() || self.scheduler.next_backoff_end().is_some())
            && let Some(at) = self.karpenter.as_mut().and_then(|k| k.open_batch(now))
        {
            self.engine.schedule_at(at, Event::KarpenterBatch);
        }
    }

    /// Pods that stopped answering while listed leave the endpoints after the delay.
    fn schedule_endpoint_removals(&mut self) {
        self.world
            .take_stopped_answering(&mut self.stopped_answering);
        for i in 0..self.stopped_answering.len() {
            let pod = self.stopped_answering[i];
            // A pod on a node that just went silent stays listed until the node lifecycle
            // controller sees it NotReady (node_monitor unlists it then).
            let held = self.world.pods[pod.0 as usize].node.is_some_and(|n| {
                self.world.nodes[n.0 as usize].heartbeat_lost.is_some()
                    && !self.lifecycle.is_not_ready(n)
                    && self.world.pods[pod.0 as usize].state != PodState::Deleted
            });
            if !held {
                self.engine
                    .schedule_in(self.scenario.endpoint_delay, Event::EndpointRemove(pod));
            }
        }
        self.stopped_answering.clear();
    }

    fn metrics_tick(&mut self, now: SimTime) {
        self.traffic
            .tick(&mut self.world, self.last_tick, now, &mut self.recorder);
        self.probe_tick(now);
        self.vpa.observe(&self.world, now);
        crate::cost::allocation::sample_requests(
            &self.world,
            &self.scenario,
            &mut self.recorder,
            now.saturating_sub(self.last_tick),
        );
        for (p, nodes) in self.world.pool_nodes.iter().enumerate() {
            let mut row = NodeRow {
                time: now,
                pool: p as u32,
                nodes_ready: 0,
                nodes_provisioning: 0,
                cpu_allocatable_milli: 0,
                cpu_requested_milli: 0,
                memory_allocatable_bytes: 0,
                memory_requested_bytes: 0,
                cost_per_hour_usd: 0.0,
            };
            row.nodes_provisioning = self.world.pool_provisioning[p];
            for id in nodes {
                let n = &self.world.nodes[id.0 as usize];
                row.nodes_ready += 1;
                row.cpu_allocatable_milli += n.cpu_allocatable_milli;
                row.cpu_requested_milli += n.cpu_requested_milli;
                row.memory_allocatable_bytes += n.memory_allocatable_bytes;
                row.memory_requested_bytes += n.memory_requested_bytes;
            }
            row.cost_per_hour_usd =
                f64::from(self.world.billed_nodes(p)) * self.world.pools[p].price_usd_per_hour;
            self.recorder.nodes.push(row);
        }
        self.last_tick = now;
        if now < self.scenario.duration {
            let next = now
                .saturating_add(self.scenario.metrics_tick)
                .min(self.scenario.duration);
            self.engine.schedule_at(next, Event::MetricsTick);
        }
    }
}

/// A node pool upgrade in progress: (pool, old nodes left, the batch draining, surge,
/// unavailable).
type PoolUpgrade = (u32, Vec<NodeId>, Vec<NodeId>, u32, u32);

/// How long a node group without the cluster autoscaler waits for a node that does not
/// register before asking again (the autoscaler's `--max-node-provision-time` default).
const DEFAULT_MAX_NODE_PROVISION_TIME: SimTime = SimTime::from_secs(900);

/// How often a drain retries evictions a PodDisruptionBudget refused (`kubectl drain`).
const DRAIN_RETRY: SimTime = SimTime::from_secs(5);

/// A node's request-to-Ready time: lognormal with the pool's median and 90th percentile.
fn provisioning_delay(median: SimTime, p90: SimTime, rng: &mut SimRng) -> SimTime {
    /// The standard normal's 90th percentile.
    const Z90: f64 = 1.281_551_565_545;
    let m = median.as_secs_f64().max(1e-3);
    let sigma = (p90.as_secs_f64().max(m) / m).ln() / Z90;
    let z: f64 = rng.sample(rand_distr::StandardNormal);
    SimTime::from_millis((m * (sigma * z).exp() * 1000.0).round() as u64)
}
