//! The World: every node, pod and workload of one run, with the running totals the
//! scheduler and reports need (requested CPU and memory per node, ready pods per workload).

use super::labels::{Interner, LabelSet};
use super::topology::SpreadIndex;
use crate::engine::SimTime;
use crate::scenario::{HostPort, PodSelector, PoolSpec, Scenario, Taint, WorkloadSpec};

/// Well-known node label: the node's name.
pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";
/// Well-known node label: the zone.
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";
/// Well-known node label: the instance type.
pub const INSTANCE_TYPE_LABEL: &str = "node.kubernetes.io/instance-type";
/// kubesim's pool label, so a pod can target a pool by name.
pub const POOL_LABEL: &str = "kubesim.io/pool";
/// kubesim's capacity-type label: `spot` or `on-demand` (Karpenter's
/// `karpenter.sh/capacity-type` values).
pub const CAPACITY_TYPE_LABEL: &str = "kubesim.io/capacity-type";
/// The node field `matchFields` can select on, stored as a pseudo-label.
pub const NAME_FIELD: &str = "metadata.name";

/// Index of a node pool in `Scenario::pools`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PoolId(pub u32);
/// Index of a node in `World::nodes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);
/// Index of a pod in `World::pods`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PodId(pub u32);
/// Index of a workload in `Scenario::workloads` and `World::workloads`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkloadId(pub u32);

/// A node and its running totals.
#[derive(Debug, Clone)]
pub struct Node {
    /// The pool it belongs to.
    pub pool: PoolId,
    /// Its number within the pool, for its name `<pool>-<n>`.
    pub ordinal: u32,
    /// Index into the pool's zones.
    pub zone: u16,
    /// Allocatable CPU, milli-cores.
    pub cpu_allocatable_milli: u64,
    /// Allocatable memory, bytes.
    pub memory_allocatable_bytes: u64,
    /// Pod capacity.
    pub max_pods: u32,
    /// Sum of bound pods' CPU requests.
    pub cpu_requested_milli: u64,
    /// Sum of bound pods' memory requests.
    pub memory_requested_bytes: u64,
    /// Sum of bound pods' CPU requests with upstream's non-zero defaults (for scoring).
    pub cpu_nonzero_milli: u64,
    /// Sum of bound pods' memory requests with non-zero defaults.
    pub memory_nonzero_bytes: u64,
    /// Bound pods.
    pub pods: Vec<PodId>,
    /// Accepting pods (Ready and not cordoned).
    pub schedulable: bool,
    /// Labels: the pool's plus the well-known ones (hostname, zone, instance type, pool).
    pub labels: LabelSet,
    /// Taints (the pool's, plus any the node lifecycle adds).
    pub taints: Vec<Taint>,
    /// Host ports claimed by bound pods.
    pub used_ports: Vec<HostPort>,
    /// Resources beyond cpu and memory: (resource id, allocatable, requested).
    pub extra: Vec<(u16, u64, u64)>,
    /// Images present (ids into `World::image_sizes`): the pool's, plus every image a pod
    /// bound here pulled (image garbage collection is not modelled).
    pub images: Vec<u32>,
    /// When it joined.
    pub created_at: SimTime,
    /// When it left the cluster (scaled down or lost); its id stays valid, it holds no pods
    /// and no controller looks at it again.
    pub removed_at: Option<SimTime>,
    /// When its instance was requested: the cloud bills from then.
    pub billed_from: SimTime,
    /// [`World::pod_changes`] when a pod was last bound to or deleted from it (Karpenter's
    /// "no pod event for consolidateAfter" reads it).
    pub pod_change: u64,
    /// Since when the node has sent no heartbeat (failed or partitioned); None: healthy.
    pub heartbeat_lost: Option<SimTime>,
    /// Its kubelet and containers are dead (a failure, not a partition): pods do not run.
    pub down: bool,
}

/// Where a pod is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PodState {
    /// Created, waiting for the scheduler.
    Pending,
    /// Bound to a node, container starting.
    Bound,
    /// Container running, not yet Ready.
    Running,
    /// Ready: an endpoint receiving traffic.
    Ready,
    /// Deleted; kept as a tombstone so ids stay valid.
    Deleted,
}

/// A pod.
#[derive(Debug, Clone)]
pub struct Pod {
    /// Owner.
    pub workload: WorkloadId,
    /// Its number within the workload, for its name `<workload>-<n>`.
    pub ordinal: u32,
    /// Lifecycle state.
    pub state: PodState,
    /// Node once bound.
    pub node: Option<NodeId>,
    /// Creation time.
    pub created_at: SimTime,
    /// When its container started (`status.startTime` as the HPA reads it).
    pub running_at: Option<SimTime>,
    /// When it became Ready.
    pub ready_at: Option<SimTime>,
    /// Since when it has been failing to schedule (None if never failed or now bound).
    pub unschedulable_since: Option<SimTime>,
    /// The scheduler's last attempt, which starts its wait in the unschedulable queue.
    pub last_attempt: SimTime,
    /// Scheduling attempts so far (sets the back-off).
    pub attempts: u32,
    /// When it last entered the active queue (orders equal priorities).
    pub queued_at: SimTime,
    /// Listed in its Service's endpoints (kube-proxy sends it requests).
    pub listed: bool,
    /// The Deployment revision (ReplicaSet) it belongs to.
    pub revision: u16,
    /// Container restarts so far.
    pub restarts: u32,
    /// The kubelet's crash-loop back-off entry: (current back-off, last update).
    pub backoff: Option<(SimTime, SimTime)>,
    /// Since when its probes have been failing (None: passing).
    pub probe_failing_since: Option<SimTime>,
    /// Its readiness probe took it out of Ready.
    pub unready_by_probe: bool,
}

/// A workload's live counters.
#[derive(Debug, Clone, Default)]
pub struct WorkloadState {
    /// Desired replicas (the ReplicaSet's `spec.replicas`).
    pub desired: u32,
    /// Pods not deleted, in creation order.
    pub active: Vec<PodId>,
    /// Ready pods right now.
    pub ready: u32,
    /// Pods created so far (names the next pod).
    pub created: u32,
    /// When `ready` last changed or was last integrated.
    pub ready_integrated_to: SimTime,
    /// The Deployment exists (after its `createAt`): uptime counts from then.
    pub exists: bool,
    /// Readiness integrals over the run.
    pub uptime: super::endpoints::Uptime,
    /// Pods listed in the workload's Service endpoints.
    pub endpoints: Vec<PodId>,
    /// Listed pods that no longer answer.
    pub endpoints_dead: u32,
    /// ∫ listed endpoints dt in ms since the last metrics tick.
    pub listed_ms_since_tick: u64,
    /// ∫ dead endpoints dt in ms since the last metrics tick.
    pub dead_ms_since_tick: u64,
    /// ∫ share of requests failing at once dt in ms since the last metrics tick.
    pub failing_ms_since_tick: f64,
    /// When the endpoint integrals were last brought up to date.
    pub endpoints_integrated_to: SimTime,
    /// The last metrics sample: what metrics-server and the custom-metrics adapter
    /// report to the HPA and the VPA recommender.
    pub usage: super::usage::UsageSample,
    /// `spec.replicas` of each revision's ReplicaSet (index: revision).
    pub rs_replicas: Vec<u32>,
    /// The Deployment's current revision (the new ReplicaSet).
    pub revision: u16,
    /// The revision before it (where `rollout undo` goes).
    pub previous_revision: u16,
    /// Available pods of the current revision at the last Deployment sync.
    pub new_available: u32,
    /// A rollout in progress: when it last made progress, and whether its deadline was
    /// reported.
    pub rollout: Option<(SimTime, bool)>,
}

/// All mutable cluster state of one run.
#[derive(Debug, Clone)]
pub struct World {
    /// Pools as specified.
    pub pools: Vec<PoolSpec>,
    /// Workloads as specified.
    pub specs: Vec<WorkloadSpec>,
    /// Node arena.
    pub nodes: Vec<Node>,
    /// Pod arena (deleted pods stay as tombstones).
    pub pods: Vec<Pod>,
    /// Workload counters, indexed like `specs`.
    pub workloads: Vec<WorkloadState>,
    /// Nodes per pool, by pool index (nodes in the cluster now).
    pub pool_nodes: Vec<Vec<NodeId>>,
    /// Every node in the cluster now, in the order they joined: what the scheduler walks.
    pub live_nodes: Vec<NodeId>,
    /// Nodes each pool has ever had (numbers the next node's name).
    pub pool_created: Vec<u32>,
    /// Nodes each pool has asked for that are still booting (billed, not yet schedulable).
    pub pool_provisioning: Vec<u32>,
    /// Of those, requests whose instance will never join (failed boots, stock-outs the
    /// node group has not noticed yet): counted as upcoming, not billed.
    pub pool_failing: Vec<u32>,
    /// Label strings ↔ ids for every node label and pod selector value.
    pub interner: Interner,
    /// Matching-pod counts for topology spreading.
    pub spread: SpreadIndex,
    /// PodDisruptionBudgets (read by preemption).
    pub disruption_budgets: Vec<crate::scenario::DisruptionBudget>,
    /// Names of resources beyond cpu and memory, by id (for messages).
    pub resource_names: Vec<String>,
    /// Nodes carrying a NoSchedule or NoExecute taint (0: TaintToleration's Filter has
    /// nothing to reject, so the scheduler skips it).
    pub hard_tainted_nodes: u32,
    /// Counts pod binds and deletions: a cheap "did anything move" for controllers that
    /// poll (Karpenter's consolidation skips a cluster that has not changed).
    pub pod_changes: u64,
    /// `cluster.endpointDelay`: how long kube-proxy lags behind a pod's change.
    pub endpoint_delay: SimTime,
    /// Cordoned nodes (0: NodeUnschedulable's Filter is skipped).
    pub cordoned_nodes: u32,
    /// Size in bytes of each known image, by id.
    pub image_sizes: Vec<u64>,
    /// Nodes holding each image, by id (ImageLocality's spread factor).
    pub image_nodes: Vec<u32>,
    /// The PodDisruptionBudget selecting each workload's pods, by workload (the first one
    /// whose selector matches the pod template's labels).
    pub workload_budget: Vec<Option<u32>>,
    /// Listed pods that stopped answering, not yet handed to the simulation.
    pub(super) stopped_answering: Vec<PodId>,
}

impl World {
    /// Builds the initial cluster: every pool's starting nodes, no pods yet.
    pub fn new(scenario: &Scenario) -> World {
        let mut world = World {
            pools: scenario.pools.clone(),
            specs: scenario.workloads.clone(),
            nodes: Vec::new(),
            pods: Vec::new(),
            workloads: scenario
                .workloads
                .iter()
                .map(|w| WorkloadState {
                    desired: w.replicas,
                    rs_replicas: vec![w.replicas],
                    exists: w.create_at == SimTime::ZERO,
                    ..Default::default()
                })
                .collect(),
            pool_nodes: vec![Vec::new(); scenario.pools.len()],
            live_nodes: Vec::new(),
            pool_created: vec![0; scenario.pools.len()],
            pool_provisioning: vec![0; scenario.pools.len()],
            pool_failing: vec![0; scenario.pools.len()],
            interner: Interner::default(),
            spread: SpreadIndex::new(
                &scenario
                    .workloads
                    .iter()
                    .map(|w| w.labels.clone())
                    .collect::<Vec<_>>(),
                0,
            ),
            disruption_budgets: scenario.disruption_budgets.clone(),
            resource_names: scenario.extra_resources.clone(),
            hard_tainted_nodes: 0,
            pod_changes: 0,
            endpoint_delay: scenario.endpoint_delay,
            cordoned_nodes: 0,
            image_sizes: scenario.images.iter().map(|i| i.1).collect(),
            image_nodes: vec![0; scenario.images.len()],
            workload_budget: scenario
                .workloads
                .iter()
                .map(|w| {
                    scenario
                        .disruption_budgets
                        .iter()
                        .position(|b| b.selector.matches(&w.labels))
                        .map(|i| i as u32)
                })
                .collect(),
            stopped_answering: Vec::new(),
        };
        for (p, pool) in scenario.pools.iter().enumerate() {
            for _ in 0..pool.count {
                world.add_node(PoolId(p as u32), SimTime::ZERO);
            }
        }
        world
    }

    /// Adds a Ready node to a pool.
    pub fn add_node(&mut self, pool: PoolId, now: SimTime) -> NodeId {
        let spec = &self.pools[pool.0 as usize];
        let ordinal = self.pool_created[pool.0 as usize];
        self.pool_created[pool.0 as usize] += 1;
        let id = NodeId(self.nodes.len() as u32);
        let zone = (ordinal as usize % spec.zones.len().max(1)) as u16;
        let name = spec
            .node_names
            .get(ordinal as usize)
            .cloned()
            .unwrap_or_else(|| format!("{}-{ordinal}", spec.name));
        let i = &mut self.interner;
        let mut pairs: Vec<_> = spec
            .labels
            .iter()
            .map(|(k, v)| (i.intern(k), i.intern(v)))
            .collect();
        pairs.push((i.intern(NAME_FIELD), i.intern(&name)));
        // A node read from a real manifest carries exactly its own labels.
        if spec.node_names.is_empty() {
            pairs.push((i.intern(HOSTNAME_LABEL), i.intern(&name)));
            if let Some(z) = spec.zones.get(zone as usize) {
                pairs.push((i.intern(ZONE_LABEL), i.intern(z)));
            }
            pairs.push((i.intern(INSTANCE_TYPE_LABEL), i.intern(&spec.instance_type)));
            pairs.push((i.intern(POOL_LABEL), i.intern(&spec.name)));
            let capacity = if spec.spot.is_some() {
                "spot"
            } else {
                "on-demand"
            };
            pairs.push((i.intern(CAPACITY_TYPE_LABEL), i.intern(capacity)));
        }
        let taints = spec.taints.clone();
        if taints
            .iter()
            .any(|t| t.effect != crate::scenario::TaintEffect::PreferNoSchedule)
        {
            self.hard_tainted_nodes += 1;
        }
        self.nodes.push(Node {
            pool,
            ordinal,
            zone,
            labels: LabelSet::new(pairs),
            taints,
            used_ports: Vec::new(),
            images: Vec::new(),
            extra: spec
                .extra_allocatable
                .iter()
                .map(|&(r, a)| (r, a, 0))
                .collect(),
            cpu_allocatable_milli: spec.cpu_milli,
            memory_allocatable_bytes: spec.memory_bytes,
            // DaemonSet pods are bound from the start: their requests and pod slots.
            max_pods: spec.max_pods.saturating_sub(spec.daemon_pods),
            cpu_requested_milli: spec.daemon_cpu_milli,
            memory_requested_bytes: spec.daemon_memory_bytes,
            cpu_nonzero_milli: spec.daemon_cpu_milli,
            memory_nonzero_bytes: spec.daemon_memory_bytes,
            pods: Vec::new(),
            schedulable: true,
            created_at: now,
            removed_at: None,
            billed_from: now,
            pod_change: self.pod_changes,
            heartbeat_lost: None,
            down: false,
        });
        self.pool_nodes[pool.0 as usize].push(id);
        self.live_nodes.push(id);
        for i in self.pools[pool.0 as usize].images.clone() {
            self.pull_image(id, i);
        }
        self.spread.node_added(&self.nodes[id.0 as usize].labels);
        id
    }

    /// (node, workload) of every bound pod, for indexes built mid-run.
    fn bound_pods(&self) -> Vec<(NodeId, u32)> {
        self.pods
            .iter()
            .filter(|p| p.state != PodState::Deleted)
            .filter_map(|p| p.node.map(|n| (n, p.workload.0)))
            .collect()
    }

    /// The spread-index group of a pod selector.
    /// Every workload registers its default constraints' selector here, so a selector
    /// already known must cost no more than finding it: no pod list, no label copies.
    pub fn spread_group(&mut self, selector: &PodSelector) -> u32 {
        if let Some(g) = self.spread.known_group(selector) {
            return g;
        }
        let bound = self.bound_pods();
        let labels: Vec<&[(String, String)]> =
            self.specs.iter().map(|w| w.labels.as_slice()).collect();
        self.spread.group(selector, &labels, &bound)
    }

    /// The spread-index slot of a topology key.
    pub fn spread_key(&mut self, key: &str) -> u32 {
        let label = self.interner.intern(key);
        let bound = self.bound_pods();
        let node_labels: Vec<&LabelSet> = self.nodes.iter().map(|n| &n.labels).collect();
        self.spread.key(label, &node_labels, &bound)
    }

    /// Creates a Pending pod for a workload.
    pub fn create_pod(&mut self, workload: WorkloadId, now: SimTime) -> PodId {
        let revision = self.workloads[workload.0 as usize].revision;
        self.create_pod_of(workload, revision, now)
    }

    /// Creates a pod of a given revision (an old ReplicaSet replacing a lost pod).
    pub fn create_pod_of(&mut self, workload: WorkloadId, revision: u16, now: SimTime) -> PodId {
        let id = PodId(self.pods.len() as u32);
        let w = &mut self.workloads[workload.0 as usize];
        self.pods.push(Pod {
            workload,
            ordinal: w.created,
            state: PodState::Pending,
            node: None,
            created_at: now,
            running_at: None,
            ready_at: None,
            unschedulable_since: None,
            last_attempt: now,
            attempts: 0,
            queued_at: now,
            listed: false,
            revision,
            restarts: 0,
            backoff: None,
            probe_failing_since: None,
            unready_by_probe: false,
        });
        w.created += 1;
        w.active.push(id);
        id
    }

    /// Takes an empty node out of the cluster (its pods must be gone first). Names of later
    /// nodes of the pool keep counting up, as a cloud's instance names do.
    pub fn remove_node(&mut self, node: NodeId, now: SimTime) {
        let n = &mut self.nodes[node.0 as usize];
        debug_assert!(n.pods.is_empty(), "remove_node on a node with pods");
        if n.removed_at.is_some() {
            return;
        }
        n.removed_at = Some(now);
        if !n.schedulable {
            self.cordoned_nodes -= 1;
        }
        n.schedulable = false;
        if n.taints
            .iter()
            .any(|t| t.effect != crate::scenario::TaintEffect::PreferNoSchedule)
        {
            self.hard_tainted_nodes -= 1;
        }
        let pool = n.pool.0 as usize;
        self.pool_nodes[pool].retain(|&id| id != node);
        self.live_nodes.retain(|&id| id != node);
    }

    /// Instances of pool `p` the cloud bills now: nodes, and requests that will come up.
    pub fn billed_nodes(&self, p: usize) -> u32 {
        self.pool_nodes[p].len() as u32 + self.pool_provisioning[p] - self.pool_failing[p]
    }

    /// Uncordons a node (a disruption that was called off).
    pub fn uncordon(&mut self, node: NodeId) {
        let n = &mut self.nodes[node.0 as usize];
        if !n.schedulable && n.removed_at.is_none() {
            n.schedulable = true;
            self.cordoned_nodes -= 1;
        }
    }

    /// Cordons a node (`spec.unschedulable: true`).
    pub fn cordon(&mut self, node: NodeId) {
        let n = &mut self.nodes[node.0 as usize];
        if n.schedulable {
            n.schedulable = false;
            self.cordoned_nodes += 1;
        }
    }

    /// Forgets images pulled by bound pods, keeping only each pool's own list: a cluster
    /// snapshot's `status.images` is what upstream's ImageLocality reads, nothing else.
    pub fn keep_only_pool_images(&mut self) {
        self.image_nodes.iter_mut().for_each(|n| *n = 0);
        for id in 0..self.nodes.len() {
            self.nodes[id].images.clear();
            let pool = self.nodes[id].pool.0 as usize;
            for i in self.pools[pool].images.clone() {
                self.pull_image(NodeId(id as u32), i);
            }
        }
    }

    /// Records that `node` holds image `image`.
    fn pull_image(&mut self, node: NodeId, image: u32) {
        let n = &mut self.nodes[node.0 as usize];
        if !n.images.contains(&image) {
            n.images.push(image);
            self.image_nodes[image as usize] += 1;
        }
    }

    /// Binds a pending pod to a node and charges its requests to the node.
    pub fn bind(&mut self, pod: PodId, node: NodeId) {
        let p = &mut self.pods[pod.0 as usize];
        debug_assert_eq!(p.state, PodState::Pending);
        p.state = PodState::Bound;
        p.node = Some(node);
        p.unschedulable_since = None;
        let spec = &self.specs[p.workload.0 as usize];
        let n = &mut self.nodes[node.0 as usize];
        n.cpu_requested_milli += spec.cpu_request_milli;
        n.memory_requested_bytes += spec.memory_request_bytes;
        n.cpu_nonzero_milli += spec.cpu_nonzero_milli;
        n.memory_nonzero_bytes += spec.memory_nonzero_bytes;
        n.used_ports.extend_from_slice(&spec.host_ports);
        for &(r, q) in &spec.extra_requests {
            match n.extra.iter_mut().find(|e| e.0 == r) {
                Some(e) => e.2 += q,
                None => n.extra.push((r, 0, q)),
            }
        }
        n.pods.push(pod);
        self.pod_changes += 1;
        n.pod_change = self.pod_changes;
        let w = p.workload.0 as usize;
        self.spread.pod_changed(w, node, 1);
        for i in 0..self.specs[w].images.len() {
            let image = self.specs[w].images[i];
            self.pull_image(node, image);
        }
    }

    /// Moves a pod to a new state, keeping the workload's ready count and its time integral.
    pub fn set_state(&mut self, pod: PodId, state: PodState, now: SimTime) {
        let p = &mut self.pods[pod.0 as usize];
        let was_ready = p.state == PodState::Ready;
        p.state = state;
        if matches!(state, PodState::Running | PodState::Ready) && p.running_at.is_none() {
            p.running_at = Some(now);
        }
        if state == PodState::Ready {
            p.ready_at = Some(now);
        }
        let is_ready = state == PodState::Ready;
        let listed = p.listed;
        if was_ready != is_ready {
            let w = p.workload.0 as usize;
            if listed && was_ready {
                self.endpoint_stopped_answering(pod, now);
            }
            self.integrate_ready(w, now);
            let ws = &mut self.workloads[w];
            if is_ready {
                ws.ready += 1;
            } else {
                ws.ready -= 1;
            }
        }
    }

    /// Deletes a pod: frees its node's resources and drops it from its workload.
    pub fn delete_pod(&mut self, pod: PodId, now: SimTime) {
        // A preStop sleep at least as long as the endpoint delay keeps the pod answering
        // until kube-proxy has dropped it: it leaves the endpoints without failing anyone.
        let p = &self.pods[pod.0 as usize];
        if p.listed
            && p.state == PodState::Ready
            && self.specs[p.workload.0 as usize].pre_stop >= self.endpoint_delay
        {
            self.unlist_endpoint(pod, now);
        }
        self.set_state(pod, PodState::Deleted, now);
        let p = &self.pods[pod.0 as usize];
        let (workload, node) = (p.workload, p.node);
        if let Some(node) = node {
            let spec = &self.specs[workload.0 as usize];
            let n = &mut self.nodes[node.0 as usize];
            n.cpu_requested_milli -= spec.cpu_request_milli;
            n.memory_requested_bytes -= spec.memory_request_bytes;
            n.cpu_nonzero_milli -= spec.cpu_nonzero_milli;
            n.memory_nonzero_bytes -= spec.memory_nonzero_bytes;
            for port in &spec.host_ports {
                if let Some(i) = n.used_ports.iter().position(|p| p == port) {
                    n.used_ports.swap_remove(i);
                }
            }
            for &(r, q) in &spec.extra_requests {
                if let Some(e) = n.extra.iter_mut().find(|e| e.0 == r) {
                    e.2 -= q;
                }
            }
            n.pods.retain(|&q| q != pod);
            self.pod_changes += 1;
            n.pod_change = self.pod_changes;
            self.spread.pod_changed(workload.0 as usize, node, -1);
        }
        self.workloads[workload.0 as usize]
            .active
            .retain(|&q| q != pod);
    }

    /// Brings the workload's uptime integrals up to `now` (call before `ready` changes).
    pub fn integrate_ready(&mut self, w: usize, now: SimTime) {
        let min_available = self.budget_min_available(w);
        let ws = &mut self.workloads[w];
        let dt = now.saturating_sub(ws.ready_integrated_to).as_millis();
        if ws.exists {
            ws.uptime.exists_ms += dt;
            if ws.ready >= 1 {
                ws.uptime.up_ms += dt;
            }
            if ws.ready >= min_available.unwrap_or(0) {
                ws.uptime.budget_ms += dt;
            }
        }
        ws.ready_integrated_to = now;
    }

    /// `<pool>-<n>` (or the node's own name), the node's name in reports.
    pub fn node_name(&self, node: NodeId) -> String {
        let n = &self.nodes[node.0 as usize];
        let pool = &self.pools[n.pool.0 as usize];
        match pool.node_names.get(n.ordinal as usize) {
            Some(name) => name.clone(),
            None => format!("{}-{}", pool.name, n.ordinal),
        }
    }

    /// `<workload>-<n>`, the pod's name in reports.
    pub fn pod_name(&self, pod: PodId) -> String {
        let p = &self.pods[pod.0 as usize];
        format!("{}-{}", self.specs[p.workload.0 as usize].name, p.ordinal)
    }

    /// The pool spec of a node.
    pub fn pool_of(&self, node: NodeId) -> &PoolSpec {
        &self.pools[self.nodes[node.0 as usize].pool.0 as usize]
    }
}
