//! The validated scenario: typed, in simulation units, ready to build a World from.
//!
//! Everything here is plain owned data in integer units (milli-cores, bytes, milliseconds)
//! with defaults applied, so the simulation never parses or guesses.

use crate::cluster::labels::Operator;
use crate::control::scheduler::profile::Profile;
use crate::engine::SimTime;
use crate::traffic::TrafficModel;

/// A scenario after validation.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Scenario name; names the default output folder.
    pub name: String,
    /// Free text for reports.
    pub description: String,
    /// Where it came from (a path or `<embedded quickstart>`), for messages.
    pub source: String,
    /// The scenario file's text, as written (reports show what produced them); `--set`
    /// overrides are listed in `overrides`.
    pub source_text: String,
    /// The `--set KEY=VALUE` overrides applied, as given.
    pub overrides: Vec<String>,
    /// Simulated time to run.
    pub duration: SimTime,
    /// Root seed of every random stream.
    pub seed: u64,
    /// How requests are simulated.
    pub request_model: RequestModel,
    /// Readiness change → kube-proxy routing by it.
    pub endpoint_delay: SimTime,
    /// The managed control plane's fee per hour (EKS, GKE: $0.10; AKS free tier, OKE basic:
    /// 0), billed for the whole run.
    pub control_plane_usd_per_hour: f64,
    /// Interval of metric samples and traffic steps.
    pub metrics_tick: SimTime,
    /// Initial pods are Ready at time 0.
    pub warm_start: bool,
    /// Node pools in file order.
    pub pools: Vec<PoolSpec>,
    /// Workloads in file order.
    pub workloads: Vec<WorkloadSpec>,
    /// The objective the run is judged against, if any.
    pub slo: Option<Slo>,
    /// Scheduler profile: plugins, weights, arguments.
    pub scheduler: Profile,
    /// PodDisruptionBudgets.
    pub disruption_budgets: Vec<DisruptionBudget>,
    /// Names of the resources beyond cpu and memory, indexed by the ids pools and workloads use.
    pub extra_resources: Vec<String>,
    /// Known image sizes (normalized name, bytes); ids are indexes.
    pub images: Vec<(String, u64)>,
    /// Safety limits.
    pub limits: Limits,
    /// The HPA controller's settings.
    pub hpa_controller: crate::control::hpa::spec::HpaControllerConfig,
    /// The cluster autoscaler, when the scenario enables it.
    pub cluster_autoscaler: Option<crate::control::autoscaler::config::AutoscalerConfig>,
    /// Faults in time order.
    pub faults: Vec<super::faults::Fault>,
    /// Karpenter, when the scenario has `karpenter:` (its NodePools' pools are in `pools`).
    pub karpenter: Option<crate::control::karpenter::config::KarpenterConfig>,
}

/// One node pool.
#[derive(Debug, Clone)]
pub struct PoolSpec {
    /// Pool name.
    pub name: String,
    /// Instance type name (catalog name or `custom`).
    pub instance_type: String,
    /// Allocatable CPU per node in milli-cores (capacity minus the provider's reservations).
    pub cpu_milli: u64,
    /// Allocatable memory per node in bytes.
    pub memory_bytes: u64,
    /// CPU capacity per node, milli-cores (what the cloud sells; the least-waste expander
    /// measures against it).
    pub cpu_capacity_milli: u64,
    /// Memory capacity per node, bytes.
    pub memory_capacity_bytes: u64,
    /// Pods per node.
    pub max_pods: u32,
    /// On-demand price per node-hour.
    pub price_usd_per_hour: f64,
    /// Zones, assigned round-robin to nodes.
    pub zones: Vec<String>,
    /// Nodes at start.
    pub count: u32,
    /// Node-group bounds for the cluster autoscaler.
    pub min: u32,
    /// Autoscaling bounds.
    pub max: u32,
    /// Node labels, sorted by key.
    pub labels: Vec<(String, String)>,
    /// Node taints.
    pub taints: Vec<Taint>,
    /// Explicit node names, by ordinal (nodes read from real manifests); empty: `<pool>-<n>`.
    pub node_names: Vec<String>,
    /// Allocatable resources beyond cpu and memory: (resource id, amount).
    pub extra_allocatable: Vec<(u16, u64)>,
    /// Images (ids into `Scenario::images`) on the pool's nodes from the start.
    pub images: Vec<u32>,
    /// How its nodes come up (or fail to).
    pub provisioning: Provisioning,
    /// Spot capacity: how its nodes get interrupted (None: on-demand).
    pub spot: Option<SpotSpec>,
    /// CPU requested by the DaemonSet pods every node of the pool runs, milli-cores.
    pub daemon_cpu_milli: u64,
    /// Memory requested by those pods, bytes.
    pub daemon_memory_bytes: u64,
    /// How many DaemonSet pods each node runs (they count against maxPods).
    pub daemon_pods: u32,
    /// The provider's minimum billed time per instance (per-second billing after it).
    pub billing_minimum: SimTime,
    /// The Karpenter NodePool (index into `KarpenterConfig::node_pools`) that launches this
    /// pool's nodes; None for a node group of fixed size or under the cluster autoscaler.
    pub karpenter: Option<u32>,
    /// Random node failures of this pool (None: nodes only fail when `faults` says so).
    pub failures: Option<super::faults::NodeFailures>,
    /// The cloud selling the nodes (`aws`, `gcp`, `azure`, `oci`; empty for a custom pool):
    /// it sets the managed control plane's default fee.
    pub provider: String,
    /// Spot or on-demand: cost reports split the bill by it.
    pub capacity_type: CapacityType,
}

/// How a pool's nodes are bought: the cost report splits spot from on-demand spending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CapacityType {
    /// Pay as you go at the list price.
    #[default]
    OnDemand,
    /// Spare capacity at a discount, interruptible.
    Spot,
}

impl CapacityType {
    /// The name in reports, as Karpenter's `karpenter.sh/capacity-type` label spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            CapacityType::OnDemand => "on-demand",
            CapacityType::Spot => "spot",
        }
    }
}

/// One version of a workload's pod template.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    /// The image (for events and reports).
    pub image: String,
    /// Time from container start to Ready.
    pub startup: SimTime,
    /// Chance a container start crashes before it becomes Ready (a bad version: 1.0).
    pub crash_on_start: f64,
}

/// Pod annotations that block voluntary node removal by an autoscaler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EvictionBlockers {
    /// `cluster-autoscaler.kubernetes.io/safe-to-evict: "false"`.
    pub not_safe_to_evict: bool,
    /// `karpenter.sh/do-not-disrupt: "true"`.
    pub do_not_disrupt: bool,
}

/// How a pool's node requests turn into Ready nodes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Provisioning {
    /// Median time from a node request to a Ready node.
    pub median: SimTime,
    /// 90th percentile of that time (lognormal around the median).
    pub p90: SimTime,
    /// Share of requests whose instance never comes up (boot or join failure).
    pub failure_rate: f64,
    /// Windows `[from, until)` in which the cloud has no capacity of this type: every
    /// request fails (an insufficient-capacity error).
    pub unavailable: Vec<(SimTime, SimTime)>,
}

impl Provisioning {
    /// Whether the cloud is out of this capacity at `t`.
    pub fn stocked_out(&self, t: SimTime) -> bool {
        self.unavailable.iter().any(|&(a, b)| a <= t && t < b)
    }
}

/// How a spot pool's nodes are interrupted.
#[derive(Debug, Clone, PartialEq)]
pub struct SpotSpec {
    /// Mean time from a node's start to its interruption (exponential; None: only the
    /// scheduled interruptions).
    pub mean_time_to_interruption: Option<SimTime>,
    /// Interruption notice: the node is drained, then terminated when it ends.
    pub notice: SimTime,
    /// Scheduled interruptions: (when, how many of the pool's nodes, oldest first).
    pub scheduled: Vec<(SimTime, u32)>,
}

/// Taint effects as upstream names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaintEffect {
    /// New pods that do not tolerate it are not scheduled.
    NoSchedule,
    /// The scheduler avoids the node when it can.
    PreferNoSchedule,
    /// Not scheduled, and running pods are evicted.
    NoExecute,
}

/// A node taint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taint {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
    /// Effect.
    pub effect: TaintEffect,
}

/// A pod toleration (`v1.Toleration`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toleration {
    /// Key; empty with `exists` matches every key.
    pub key: String,
    /// Operator Exists (true) or Equal (false).
    pub exists: bool,
    /// Value for Equal.
    pub value: String,
    /// Effect; None matches all.
    pub effect: Option<TaintEffect>,
}

impl Toleration {
    /// `v1.Toleration.ToleratesTaint` from k8s.io/api core/v1/toleration.go.
    pub fn tolerates(&self, taint: &Taint) -> bool {
        if let Some(effect) = self.effect
            && effect != taint.effect
        {
            return false;
        }
        if !self.key.is_empty() && self.key != taint.key {
            return false;
        }
        if self.exists {
            return true;
        }
        self.value == taint.value
    }
}

/// How arrivals within a tick are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrivals {
    /// Poisson counts: the randomness of independent users.
    Poisson,
    /// Exactly rate × tick: no randomness, for clean comparisons.
    Fluid,
}

/// How requests are simulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestModel {
    /// Queueing theory per metrics tick (fast; the default).
    #[default]
    Fluid,
    /// Every request an event (slow; the fluid model's check).
    Exact,
}

/// A downstream call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Call {
    /// Called workload (index into `Scenario::workloads`).
    pub workload: u32,
    /// Calls per request.
    pub ratio: f64,
}

/// Client retries of failed requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retries {
    /// Retries after the first attempt.
    pub attempts: u32,
    /// Wait before the first retry; doubled for each next one.
    pub backoff: SimTime,
}

/// One workload (a Deployment and the service it runs).
#[derive(Debug, Clone)]
pub struct WorkloadSpec {
    /// Workload name.
    pub name: String,
    /// Desired replicas.
    pub replicas: u32,
    /// Pod labels, sorted by key.
    pub labels: Vec<(String, String)>,
    /// Pod CPU request (sum over containers), milli-cores.
    pub cpu_request_milli: u64,
    /// Pod memory request, bytes.
    pub memory_request_bytes: u64,
    /// CPU request for scoring, with upstream's 100m default for containers without one.
    pub cpu_nonzero_milli: u64,
    /// Memory request for scoring, with upstream's 200MiB default.
    pub memory_nonzero_bytes: u64,
    /// Pod CPU limit, when every container has one.
    pub cpu_limit_milli: Option<u64>,
    /// Pod memory limit, when every container has one.
    pub memory_limit_bytes: Option<u64>,
    /// Required node labels.
    pub node_selector: Vec<(String, String)>,
    /// Tolerations.
    pub tolerations: Vec<Toleration>,
    /// Bind-to-Ready time.
    pub startup: SimTime,
    /// When the workload is created; its pods appear then.
    pub create_at: SimTime,
    /// Requests of resources beyond cpu and memory: (resource id, amount).
    pub extra_requests: Vec<(u16, u64)>,
    /// Zonal volume constraints: (node label key, allowed values), from the PersistentVolumes
    /// bound to the pod's claims (VolumeZone).
    pub volume_zones: Vec<(String, Vec<String>)>,
    /// Containers in the pod (ImageLocality's threshold scales with it).
    pub containers: u32,
    /// Each container's name and requests: the VPA recommends per container, splitting
    /// the pod's usage by request share.
    pub container_requests: Vec<ContainerRequests>,
    /// Its containers' images with a known size (ids into `Scenario::images`).
    pub images: Vec<u32>,
    /// Request service model.
    pub service: ServiceModel,
    /// Offered load over time.
    pub traffic: TrafficModel,
    /// Arrival randomness.
    pub arrivals: Arrivals,
    /// Downstream calls per request.
    pub calls: Vec<Call>,
    /// Pod priority (from its PriorityClass, else the global default, else 0).
    pub priority: i32,
    /// Whether the pod may preempt lower-priority pods (`preemptionPolicy`).
    pub preempts: bool,
    /// Annotations that stop autoscalers from moving the pod: the cluster autoscaler's
    /// `cluster-autoscaler.kubernetes.io/safe-to-evict: "false"` and Karpenter's
    /// `karpenter.sh/do-not-disrupt: "true"` (its node is not scaled down or consolidated).
    pub eviction_blockers: EvictionBlockers,
    /// How long the pod stays on a node that became unreachable before the taint manager
    /// deletes it: its smallest matching `tolerationSeconds` for
    /// `node.kubernetes.io/unreachable:NoExecute`, 300 s by default (None: forever).
    pub unreachable_toleration: Option<SimTime>,
    /// Deployment `spec.strategy`.
    pub strategy: crate::control::deployment::Strategy,
    /// `spec.minReadySeconds`.
    pub min_ready: SimTime,
    /// `spec.progressDeadlineSeconds`.
    pub progress_deadline: SimTime,
    /// Roll back when a rollout misses its deadline.
    pub auto_rollback: bool,
    /// The pod template's versions: [0] the workload's own, then one per `rollout` fault.
    pub revisions: Vec<Revision>,
    /// Mean time between crashes of a running container (None: never crashes).
    pub crash_mtbf: Option<SimTime>,
    /// The longest `preStop` sleep of its containers: a deleted pod keeps answering this
    /// long while the endpoints drop it.
    pub pre_stop: SimTime,
    /// The first container's liveness probe.
    pub liveness: Option<crate::control::probes::Probe>,
    /// The first container's readiness probe.
    pub readiness: Option<crate::control::probes::Probe>,
    /// Required and preferred node affinity.
    pub node_affinity: NodeAffinity,
    /// Inter-pod affinity and anti-affinity.
    pub pod_affinity: PodAffinity,
    /// Host ports the pod claims on its node.
    pub host_ports: Vec<HostPort>,
    /// `spec.nodeName`, when the pod asks for one node.
    pub node_name: Option<String>,
    /// Explicit topology spread constraints (empty: the scheduler's system defaults apply).
    pub spread: Vec<SpreadConstraint>,
    /// The HorizontalPodAutoscaler scaling it, if any.
    pub hpa: Option<crate::control::hpa::spec::HpaSpec>,
}

/// One container's requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRequests {
    /// Container name.
    pub name: String,
    /// CPU request, milli-cores.
    pub cpu_request_milli: u64,
    /// Memory request, bytes.
    pub memory_request_bytes: u64,
}

/// A pod label selector (`matchLabels` plus `matchExpressions`).
#[derive(Debug, Clone, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct PodSelector {
    /// Exact labels, sorted.
    pub match_labels: Vec<(String, String)>,
    /// Requirements (In, NotIn, Exists, DoesNotExist).
    pub expressions: Vec<(String, Operator, Vec<String>)>,
}

impl PodSelector {
    /// A selector that matches no pod: what an absent `labelSelector` means upstream for
    /// affinity terms and PodDisruptionBudgets (it requires a label key no pod can carry).
    pub fn nothing() -> PodSelector {
        PodSelector {
            match_labels: Vec::new(),
            expressions: vec![(
                String::new(),
                crate::cluster::labels::Operator::Exists,
                Vec::new(),
            )],
        }
    }

    /// `metav1.LabelSelector` semantics against a pod's labels.
    pub fn matches(&self, labels: &[(String, String)]) -> bool {
        let get = |k: &str| {
            labels
                .iter()
                .find(|(lk, _)| lk == k)
                .map(|(_, v)| v.as_str())
        };
        self.match_labels
            .iter()
            .all(|(k, v)| get(k) == Some(v.as_str()))
            && self.expressions.iter().all(|(k, op, values)| {
                let v = get(k);
                match op {
                    Operator::In => v.is_some_and(|v| values.iter().any(|x| x == v)),
                    Operator::NotIn => v.is_none_or(|v| !values.iter().any(|x| x == v)),
                    Operator::Exists => v.is_some(),
                    Operator::DoesNotExist => v.is_none(),
                    Operator::Gt | Operator::Lt => false,
                }
            })
    }
}

/// A `v1.TopologySpreadConstraint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpreadConstraint {
    /// maxSkew (≥ 1).
    pub max_skew: u32,
    /// Topology key.
    pub topology_key: String,
    /// DoNotSchedule (true) or ScheduleAnyway (false).
    pub hard: bool,
    /// Which pods count.
    pub selector: PodSelector,
    /// minDomains (hard constraints only).
    pub min_domains: Option<u32>,
    /// nodeAffinityPolicy Honor (default true).
    pub honor_affinity: bool,
    /// nodeTaintsPolicy Honor (default false).
    pub honor_taints: bool,
}

/// A `v1.NodeSelectorRequirement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorRequirement {
    /// Label key (or `metadata.name` for a field requirement).
    pub key: String,
    /// Operator.
    pub op: Operator,
    /// Values.
    pub values: Vec<String>,
}

/// A `v1.NodeSelectorTerm`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SelectorTerm {
    /// Label requirements, ANDed.
    pub expressions: Vec<SelectorRequirement>,
    /// Field requirements (`metadata.name`), ANDed.
    pub fields: Vec<SelectorRequirement>,
}

/// `v1.NodeAffinity`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeAffinity {
    /// Required terms (ORed); None = no requirement.
    pub required: Option<Vec<SelectorTerm>>,
    /// Preferred terms with weights.
    pub preferred: Vec<(i64, SelectorTerm)>,
}

/// A pod (anti-)affinity term: pods matching `selector` in the same `topology_key` domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodAffinityTerm {
    /// Pods the term is about.
    pub selector: PodSelector,
    /// Node label defining the domain.
    pub topology_key: String,
}

/// Inter-pod affinity and anti-affinity of a pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodAffinity {
    /// Required affinity terms (all must hold).
    pub required: Vec<PodAffinityTerm>,
    /// Required anti-affinity terms (none may be violated).
    pub required_anti: Vec<PodAffinityTerm>,
    /// Preferred affinity terms with weights.
    pub preferred: Vec<(i64, PodAffinityTerm)>,
    /// Preferred anti-affinity terms with weights.
    pub preferred_anti: Vec<(i64, PodAffinityTerm)>,
}

impl PodAffinity {
    /// True when the pod has no terms at all.
    pub fn is_empty(&self) -> bool {
        self.required.is_empty()
            && self.required_anti.is_empty()
            && self.preferred.is_empty()
            && self.preferred_anti.is_empty()
    }
}

/// A claimed host port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HostPort {
    /// 0 TCP, 1 UDP, 2 SCTP.
    pub protocol: u8,
    /// Port number.
    pub port: u16,
}

/// How a pod serves requests.
#[derive(Debug, Clone, Copy)]
pub struct ServiceModel {
    /// CPU-seconds per request on one core.
    pub cpu_seconds_per_request: f64,
    /// Requests in service at once per pod.
    pub concurrency: u32,
    /// Requests slower than this fail.
    pub timeout: SimTime,
    /// CPU a pod uses when idle, milli-cores.
    pub base_cpu_milli: u64,
    /// Memory a pod uses when idle, bytes (None: its memory request).
    pub base_memory_bytes: Option<u64>,
    /// Memory each request in flight holds, bytes.
    pub memory_per_request_bytes: u64,
    /// Shape of the per-request CPU time.
    pub service_time: crate::traffic::queueing::ServiceTime,
    /// Client retries.
    pub retries: Option<Retries>,
}

/// The objective.
#[derive(Debug, Clone, Copy)]
pub struct Slo {
    /// Fraction of offered requests served within timeout (0..1).
    pub availability: Option<f64>,
    /// Bound on the run's p99 latency, ms.
    pub latency_p99_ms: Option<f64>,
}

/// Limits checked during a run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most pods at once.
    pub max_pods: u32,
    /// Most events in one run.
    pub max_events: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pods: 1_000_000,
            max_events: 200_000_000,
        }
    }
}

/// A PodDisruptionBudget: how many selected pods must stay available.
#[derive(Debug, Clone, PartialEq)]
pub struct DisruptionBudget {
    /// Name, for messages.
    pub name: String,
    /// Pods covered.
    pub selector: PodSelector,
    /// Exactly one of the two is set.
    pub min_available: Option<IntOrPercent>,
    /// See `min_available`.
    pub max_unavailable: Option<IntOrPercent>,
}

/// A count or a percentage (of the expected pods), as PDB fields take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrPercent {
    /// A count.
    Int(u32),
    /// A percentage, 0..=100.
    Percent(u32),
}

impl IntOrPercent {
    /// The value scaled against `total`, percentages rounded up (upstream
    /// `GetScaledValueFromIntOrPercent(..., roundUp=true)`).
    pub fn scaled_up(self, total: u32) -> u32 {
        match self {
            IntOrPercent::Int(v) => v,
            IntOrPercent::Percent(p) => (u64::from(p) * u64::from(total)).div_ceil(100) as u32,
        }
    }

    /// The value scaled against `total`, percentages rounded down (`roundUp=false`, as
    /// for a Deployment's `maxUnavailable`).
    pub fn scaled_down(self, total: u32) -> u32 {
        match self {
            IntOrPercent::Int(v) => v,
            IntOrPercent::Percent(p) => (u64::from(p) * u64::from(total) / 100) as u32,
        }
    }
}

/// Upstream's `normalizedImageName`: a reference without tag or digest gets `:latest`.
pub fn normalized_image_name(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') || name.contains('@') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}
