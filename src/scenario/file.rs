//! The scenario file as written: serde types that keep the user's spelling and positions.
//!
//! This is the low level of a two-level input model (as in ripgrep's low/high args): these
//! types mirror the YAML one to one, reject unknown keys, and keep source locations
//! ([`Spanned`]) on the values that later checks may need to point at. `validate` turns them
//! into the typed [`crate::scenario::Scenario`]. Workload fields use the names and shapes of
//! the Kubernetes Deployment spec (`replicas`, `template.metadata.labels`,
//! `template.spec.containers[].resources`, `nodeSelector`, `tolerations`) so a real manifest's
//! `spec` can be pasted in.

use super::duration::Duration;
use super::quantity::Quantity;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// The whole scenario document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioFile {
    /// Format version; only `kubesim/v1` exists.
    pub api_version: Option<Spanned<String>>,
    /// Always `Scenario` when given.
    pub kind: Option<Spanned<String>>,
    /// Names the output folder and every report.
    pub name: Spanned<String>,
    /// Free text shown in reports.
    pub description: Option<String>,
    /// Simulated time to run.
    pub duration: Spanned<Duration>,
    /// Root seed; `--seed` overrides it.
    pub seed: Option<u64>,
    /// How requests are simulated: `fluid` (default: queueing theory per metrics tick) or
    /// `exact` (every request an event; slower, used to check the fluid model).
    pub request_model: Option<Spanned<String>>,
    /// Interval between metric samples and traffic-model steps.
    pub metrics_tick: Option<Spanned<Duration>>,
    /// Pods that exist at the start are already Ready (default true): the run starts from
    /// a cluster in steady state, not from a cold boot.
    pub warm_start: Option<bool>,
    /// The nodes.
    pub cluster: ClusterFile,
    /// What runs on the nodes.
    pub workloads: Spanned<Vec<WorkloadFile>>,
    /// Service-level objective the run is judged against.
    pub slo: Option<SloFile>,
    /// kube-scheduler profile selection.
    pub scheduler: Option<SchedulerFile>,
    /// PriorityClasses (`scheduling.k8s.io/v1`) that workloads name in `priorityClassName`.
    #[serde(default)]
    pub priority_classes: Vec<PriorityClassFile>,
    /// PersistentVolumes bound to claims, flattened; zonal ones pin their pods' zone.
    #[serde(default)]
    pub persistent_volumes: Vec<PersistentVolumeFile>,
    /// Container image sizes, for ImageLocality (an image with no size here scores nothing).
    #[serde(default)]
    pub images: Vec<ImageFile>,
    /// PodDisruptionBudgets (`policy/v1`) that preemption tries not to violate.
    #[serde(default)]
    pub pod_disruption_budgets: Vec<PodDisruptionBudgetFile>,
    /// Safety limits against runaway scenarios.
    pub limits: Option<LimitsFile>,
    /// Overprovisioning placeholder pods.
    pub headroom: Option<super::capacity::HeadroomFile>,
    /// The cluster autoscaler (absent: node pools keep their size).
    pub cluster_autoscaler: Option<super::capacity::ClusterAutoscalerFile>,
    /// What goes wrong, and when: node failures, zone outages, partitions, drains.
    #[serde(default)]
    pub faults: Vec<super::faults::FaultFile>,
    /// Karpenter NodePools (the alternative to `clusterAutoscaler`).
    pub karpenter: Option<super::karpenter::KarpenterFile>,
    /// Settings of the simulated kube-controller-manager (the HPA controller's flags).
    pub controllers: Option<super::autoscaling::ControllersFile>,
    /// Your metric names mapped to the ones kubesim measures (e.g.
    /// `http_requests_per_second: requests_per_second`), so a real HPA spec pastes as is.
    #[serde(default)]
    pub metric_aliases: BTreeMap<String, String>,
}

/// A PersistentVolume bound to a claim (`spec.claimRef.name` → `claim`), flattened.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PersistentVolumeFile {
    /// Volume name.
    pub name: String,
    /// The PersistentVolumeClaim it is bound to.
    pub claim: Spanned<String>,
    /// Labels; `topology.kubernetes.io/zone` and `.../region` (values joined by `__` for
    /// several) restrict the nodes that can use it.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// A pod volume (`v1.Volume`): only claims matter to the scheduler; the common in-pod
/// sources are accepted and ignored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VolumeFile {
    /// Volume name.
    pub name: String,
    /// A PersistentVolumeClaim reference.
    pub persistent_volume_claim: Option<ClaimRefFile>,
    /// Ignored by the scheduler.
    pub empty_dir: Option<serde_json::Value>,
    /// Ignored by the scheduler.
    pub config_map: Option<serde_json::Value>,
    /// Ignored by the scheduler.
    pub secret: Option<serde_json::Value>,
    /// Ignored by the scheduler.
    pub projected: Option<serde_json::Value>,
}

/// `v1.PersistentVolumeClaimVolumeSource`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClaimRefFile {
    /// The claim's name.
    pub claim_name: Spanned<String>,
    /// Read-only mount (not used by the scheduler).
    pub read_only: Option<bool>,
}

/// A container image and its size (`status.images[].sizeBytes` on a node).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageFile {
    /// Image reference; a name without tag means `:latest`, as upstream normalizes it.
    pub name: String,
    /// Size on disk, a quantity such as `350Mi`.
    pub size: Spanned<Quantity>,
}

/// A PodDisruptionBudget, flattened (`metadata.name` → `name`, the `spec` fields inline).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodDisruptionBudgetFile {
    /// Budget name.
    pub name: Spanned<String>,
    /// Pods it covers; `{}` selects every pod, as in policy/v1.
    pub selector: Option<PodSelectorFile>,
    /// Pods that must stay available: a count or a percentage such as `"50%"`.
    pub min_available: Option<Spanned<IntOrString>>,
    /// Pods that may be unavailable: a count or a percentage.
    pub max_unavailable: Option<Spanned<IntOrString>>,
}

/// Kubernetes' `IntOrString`: `2` or `"50%"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    /// A count.
    Int(i64),
    /// A percentage such as `50%`.
    Str(String),
}

/// Node capacity.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterFile {
    /// Groups of identical nodes.
    pub pools: Spanned<Vec<PoolFile>>,
    /// Time from a pod's readiness change to kube-proxy routing by it (default 1s: the
    /// iptables min-sync-period).
    pub endpoint_delay: Option<Spanned<Duration>>,
    /// Per-node agents (log shippers, CNI, kube-proxy): one pod on every node of the
    /// pools they name (default: all).
    #[serde(default)]
    pub daemon_sets: Vec<super::capacity::DaemonSetFile>,
    /// The managed control plane's fee (default: the provider's standard tier).
    pub control_plane: Option<ControlPlaneFile>,
}

/// `cluster.controlPlane`: what the managed control plane costs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ControlPlaneFile {
    /// Fee per cluster-hour, USD.
    pub price_per_hour: Option<Spanned<f64>>,
}

/// One node pool (an EKS managed node group, a GKE node pool, an AKS agent pool).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PoolFile {
    /// Unique pool name.
    pub name: Spanned<String>,
    /// A type from the built-in catalog, e.g. `m5.large`, `e2-standard-4`, `D4s_v5`.
    pub instance_type: Option<Spanned<String>>,
    /// Cloud provider of `instanceType` when the name is ambiguous: aws, gcp, azure, oci.
    pub provider: Option<Spanned<String>>,
    /// Explicit allocatable CPU (overrides the catalog).
    pub cpu: Option<Spanned<Quantity>>,
    /// Explicit allocatable memory (overrides the catalog).
    pub memory: Option<Spanned<Quantity>>,
    /// Maximum pods per node (kubelet `maxPods`).
    pub max_pods: Option<Spanned<i64>>,
    /// Images present on the pool's nodes from the start (baked into the machine image).
    #[serde(default)]
    pub images: Vec<String>,
    /// Other allocatable resources per node, as in `status.allocatable`:
    /// `ephemeral-storage`, `hugepages-2Mi`, extended resources such as `nvidia.com/gpu`.
    #[serde(default)]
    pub allocatable: BTreeMap<String, Spanned<Quantity>>,
    /// Price per node-hour in USD (overrides the catalog).
    pub price_per_hour: Option<Spanned<f64>>,
    /// Zones nodes are spread over, round-robin.
    pub zones: Option<Vec<String>>,
    /// Nodes at the start of the run.
    pub count: Spanned<i64>,
    /// Fewest nodes the cluster autoscaler keeps (default: count).
    pub min: Option<Spanned<i64>>,
    /// Most nodes the cluster autoscaler grows to (default: count).
    pub max: Option<Spanned<i64>>,
    /// Time from a node request to a Ready node (default median 90s, p90 150s).
    pub provisioning: Option<super::capacity::ProvisioningFile>,
    /// `provider` (default for catalog types: the managed service's kube-reserved and
    /// eviction formula) or `none` (allocatable = capacity).
    pub reservations: Option<Spanned<String>>,
    /// `onDemand` (default) or `spot`: spot nodes cost the catalog's spot price and can be
    /// interrupted.
    pub capacity_type: Option<Spanned<String>>,
    /// How spot nodes are interrupted.
    pub spot: Option<super::capacity::SpotFile>,
    /// Random node failures: `{meanTimeBetweenFailures: 720h, repairTime: 10m}`.
    pub failures: Option<super::faults::NodeFailuresFile>,
    /// Node labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Node taints.
    #[serde(default)]
    pub taints: Vec<TaintFile>,
}

/// A Kubernetes node taint (`v1.Taint`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TaintFile {
    /// Taint key.
    pub key: String,
    /// Taint value (may be empty).
    #[serde(default)]
    pub value: String,
    /// NoSchedule, PreferNoSchedule or NoExecute.
    pub effect: Spanned<String>,
}

/// A Kubernetes toleration (`v1.Toleration`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TolerationFile {
    /// Empty with operator Exists tolerates everything.
    #[serde(default)]
    pub key: String,
    /// Equal (default) or Exists.
    pub operator: Option<Spanned<String>>,
    /// Value compared with Equal.
    #[serde(default)]
    pub value: String,
    /// Empty matches all effects.
    pub effect: Option<Spanned<String>>,
    /// How long a NoExecute taint is tolerated (used by node lifecycle).
    pub toleration_seconds: Option<i64>,
}

/// A workload: a Deployment spec plus kubesim's service and traffic model.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadFile {
    /// Unique workload name (the Deployment's `metadata.name`).
    pub name: Spanned<String>,
    /// Deployment `spec.replicas` (default 1, as upstream).
    pub replicas: Option<Spanned<i64>>,
    /// Deployment `spec.selector`; checked against the template labels.
    pub selector: Option<LabelSelectorFile>,
    /// Deployment `spec.template`.
    pub template: PodTemplateFile,
    /// Time from binding to Ready (image pull, start, readiness).
    pub startup_time: Option<Spanned<Duration>>,
    /// When the Deployment is created (default 0s: it exists from the start).
    pub create_at: Option<Spanned<Duration>>,
    /// How each pod serves requests.
    pub service: Option<ServiceModelFile>,
    /// Offered load; components add up, spikes with a multiplier scale the sum.
    #[serde(default)]
    pub traffic: Vec<TrafficFile>,
    /// How requests arrive within a tick: `poisson` (default) or `fluid`.
    pub arrivals: Option<Spanned<String>>,
    /// Other workloads each request calls, in order, while it holds its slot.
    #[serde(default)]
    pub calls: Vec<CallFile>,
    /// A HorizontalPodAutoscaler's `spec` (autoscaling/v2) scaling this workload.
    pub hpa: Option<super::autoscaling::HpaFile>,
    /// Deployment `spec.strategy` (RollingUpdate 25%/25%, or Recreate).
    pub strategy: Option<super::rollout::StrategyFile>,
    /// Deployment `spec.minReadySeconds` (0).
    pub min_ready_seconds: Option<Spanned<i64>>,
    /// Deployment `spec.progressDeadlineSeconds` (600).
    pub progress_deadline_seconds: Option<Spanned<i64>>,
    /// Deployment `spec.revisionHistoryLimit` (accepted; old ReplicaSets cost nothing here).
    pub revision_history_limit: Option<Spanned<i64>>,
    /// Roll back automatically when a rollout misses its progress deadline (false).
    pub auto_rollback: Option<bool>,
    /// Container crashes: `{meanTimeBetweenFailures: 6h, onStart: 0.0}`.
    pub crashes: Option<super::rollout::CrashesFile>,
}

/// One downstream call of a workload's requests.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CallFile {
    /// The called workload's name.
    pub workload: Spanned<String>,
    /// Calls per request (default 1; 0.5 = every other request, 3 = three calls).
    pub ratio: Option<Spanned<f64>>,
}

/// Client retries of failed requests to a workload (as a service mesh's retry policy).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RetriesFile {
    /// Retries after the first attempt (Istio's `attempts`).
    pub attempts: Spanned<i64>,
    /// Wait before the first retry; doubled for each further one (default 25ms, Envoy's
    /// base interval).
    pub backoff: Option<Spanned<Duration>>,
}

/// `metav1.LabelSelector` with `matchLabels`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelectorFile {
    /// Labels the template must carry.
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
}

/// `v1.PodTemplateSpec`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodTemplateFile {
    /// Pod labels and annotations.
    pub metadata: Option<ObjectMetaFile>,
    /// The pod spec.
    pub spec: PodSpecFile,
}

/// The parts of `metav1.ObjectMeta` a template uses.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectMetaFile {
    /// Pod labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Pod annotations: `cluster-autoscaler.kubernetes.io/safe-to-evict: "false"` and
    /// `karpenter.sh/do-not-disrupt: "true"` keep autoscalers from removing the pod's node;
    /// others are kept and ignored.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// The parts of `v1.PodSpec` the simulator models.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodSpecFile {
    /// Containers; their requests add up to the pod's.
    pub containers: Vec<ContainerFile>,
    /// Node labels the pod requires.
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    /// Taints the pod tolerates.
    #[serde(default)]
    pub tolerations: Vec<TolerationFile>,
    /// Node affinity (pod affinity and anti-affinity come with the scheduler's next step).
    pub affinity: Option<AffinityFile>,
    /// Name of a PriorityClass; sets the pod's priority.
    pub priority_class_name: Option<Spanned<String>>,
    /// Bind to this node, bypassing node choice (the NodeName filter still applies).
    pub node_name: Option<Spanned<String>>,
    /// How replicas spread over zones, nodes or any topology key.
    #[serde(default)]
    pub topology_spread_constraints: Vec<SpreadConstraintFile>,
    /// Volumes; PersistentVolumeClaims bound to zonal volumes restrict the pod's zone.
    #[serde(default)]
    pub volumes: Vec<VolumeFile>,
}

/// `v1.TopologySpreadConstraint`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SpreadConstraintFile {
    /// Largest allowed difference between a domain's matching pods and the least loaded one.
    pub max_skew: Spanned<i64>,
    /// Node label whose values are the domains (`topology.kubernetes.io/zone`, `kubernetes.io/hostname`).
    pub topology_key: String,
    /// DoNotSchedule (a Filter) or ScheduleAnyway (a Score).
    pub when_unsatisfiable: Spanned<String>,
    /// Which pods count.
    pub label_selector: Option<PodSelectorFile>,
    /// With fewer eligible domains than this, the global minimum counts as 0.
    pub min_domains: Option<Spanned<i64>>,
    /// Honor (default): only nodes matching the pod's node affinity count; Ignore.
    pub node_affinity_policy: Option<Spanned<String>>,
    /// Ignore (default) or Honor: only nodes whose taints the pod tolerates count.
    pub node_taints_policy: Option<Spanned<String>>,
}

/// `metav1.LabelSelector` for pods.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodSelectorFile {
    /// Exact labels.
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    /// Requirements (In, NotIn, Exists, DoesNotExist).
    #[serde(default)]
    pub match_expressions: Vec<RequirementFile>,
}

/// `v1.Affinity`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AffinityFile {
    /// `v1.NodeAffinity`.
    pub node_affinity: Option<NodeAffinityFile>,
    /// `v1.PodAffinity`: near pods that match.
    pub pod_affinity: Option<PodAffinityFile>,
    /// `v1.PodAntiAffinity`: away from pods that match.
    pub pod_anti_affinity: Option<PodAffinityFile>,
}

/// `v1.PodAffinity` / `v1.PodAntiAffinity` (the same shape).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodAffinityFile {
    /// Hard terms, ANDed.
    #[serde(default)]
    pub required_during_scheduling_ignored_during_execution: Vec<PodAffinityTermFile>,
    /// Soft terms with weights 1..100.
    #[serde(default)]
    pub preferred_during_scheduling_ignored_during_execution: Vec<WeightedPodAffinityTermFile>,
}

/// `v1.PodAffinityTerm` (one namespace is simulated, so namespaces are not read).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodAffinityTermFile {
    /// Pods the term is about; absent selects none.
    pub label_selector: Option<PodSelectorFile>,
    /// Node label whose value defines "the same place" (`kubernetes.io/hostname`, a zone).
    pub topology_key: Spanned<String>,
}

/// `v1.WeightedPodAffinityTerm`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WeightedPodAffinityTermFile {
    /// 1..100.
    pub weight: Spanned<i64>,
    /// The term.
    pub pod_affinity_term: PodAffinityTermFile,
}

/// `v1.NodeAffinity`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeAffinityFile {
    /// Hard requirement: terms ORed.
    pub required_during_scheduling_ignored_during_execution: Option<NodeSelectorFile>,
    /// Soft preferences, each with a weight 1..100.
    #[serde(default)]
    pub preferred_during_scheduling_ignored_during_execution: Vec<PreferredTermFile>,
}

/// `v1.NodeSelector`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeSelectorFile {
    /// Terms, ORed.
    pub node_selector_terms: Vec<NodeSelectorTermFile>,
}

/// `v1.NodeSelectorTerm`: requirements ANDed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeSelectorTermFile {
    /// Requirements on node labels.
    #[serde(default)]
    pub match_expressions: Vec<RequirementFile>,
    /// Requirements on node fields (`metadata.name`).
    #[serde(default)]
    pub match_fields: Vec<RequirementFile>,
}

/// `v1.NodeSelectorRequirement`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RequirementFile {
    /// Label key (or `metadata.name` in matchFields).
    pub key: String,
    /// In, NotIn, Exists, DoesNotExist, Gt, Lt.
    pub operator: Spanned<String>,
    /// Values for In/NotIn (one integer for Gt/Lt).
    #[serde(default)]
    pub values: Vec<String>,
}

/// `v1.PreferredSchedulingTerm`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PreferredTermFile {
    /// 1..100.
    pub weight: Spanned<i64>,
    /// The term.
    pub preference: NodeSelectorTermFile,
}

/// A PriorityClass, flattened (`metadata.name` → `name`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PriorityClassFile {
    /// Class name.
    pub name: Spanned<String>,
    /// Priority; higher schedules first and may preempt lower.
    pub value: Spanned<i64>,
    /// Pods without a class get this one's value.
    #[serde(default)]
    pub global_default: bool,
    /// PreemptLowerPriority (default) or Never.
    pub preemption_policy: Option<Spanned<String>>,
    /// Free text.
    pub description: Option<String>,
}

/// The parts of `v1.Container` the simulator models.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContainerFile {
    /// Container name.
    pub name: String,
    /// Image (reported, used by image locality later).
    pub image: Option<String>,
    /// Requests and limits.
    pub resources: Option<ResourcesFile>,
    /// Ports; a `hostPort` occupies that port on the node (NodePorts filter).
    #[serde(default)]
    pub ports: Vec<ContainerPortFile>,
    /// `lifecycle.preStop.sleep.seconds` keeps a deleted pod answering while the
    /// endpoints catch up; other handlers are accepted and ignored.
    pub lifecycle: Option<LifecycleFile>,
    /// Liveness probe: timing fields are modelled, the handler is accepted and ignored.
    pub liveness_probe: Option<ProbeFile>,
    /// Readiness probe (as the liveness probe).
    pub readiness_probe: Option<ProbeFile>,
    /// Startup probe: accepted and ignored (`startupTime` covers start-up).
    pub startup_probe: Option<serde_json::Value>,
}

/// `v1.Probe`: upstream's defaults (period 10 s, timeout 1 s, failure threshold 3,
/// success threshold 1, no initial delay).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProbeFile {
    /// Seconds after the container starts before the first probe.
    pub initial_delay_seconds: Option<Spanned<i64>>,
    /// Seconds between probes.
    pub period_seconds: Option<Spanned<i64>>,
    /// Seconds a probe may take.
    pub timeout_seconds: Option<Spanned<i64>>,
    /// Consecutive failures that count.
    pub failure_threshold: Option<Spanned<i64>>,
    /// Consecutive successes that count.
    pub success_threshold: Option<Spanned<i64>>,
    /// Handlers: accepted and ignored (the probe answers as the app's requests do).
    pub http_get: Option<serde_json::Value>,
    /// Ignored.
    pub tcp_socket: Option<serde_json::Value>,
    /// Ignored.
    pub exec: Option<serde_json::Value>,
    /// Ignored.
    pub grpc: Option<serde_json::Value>,
}

/// `v1.Lifecycle`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LifecycleFile {
    /// Runs before the container is stopped.
    pub pre_stop: Option<HandlerFile>,
    /// Ignored.
    pub post_start: Option<serde_json::Value>,
}

/// `v1.LifecycleHandler`: only `sleep` has a duration the simulator can use.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HandlerFile {
    /// `sleep: {seconds: 5}`.
    pub sleep: Option<SleepFile>,
    /// Ignored (its duration is unknown).
    pub exec: Option<serde_json::Value>,
    /// Ignored.
    pub http_get: Option<serde_json::Value>,
}

/// `v1.SleepAction`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SleepFile {
    /// Seconds to sleep.
    pub seconds: Spanned<i64>,
}

/// `v1.ContainerPort`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContainerPortFile {
    /// Port name.
    pub name: Option<String>,
    /// Port inside the container.
    pub container_port: Spanned<i64>,
    /// Port claimed on the node, if any.
    pub host_port: Option<Spanned<i64>>,
    /// TCP (default), UDP or SCTP.
    pub protocol: Option<Spanned<String>>,
    /// Host IP to bind (the simulator treats every address as 0.0.0.0).
    #[serde(rename = "hostIP")]
    pub host_ip: Option<String>,
}

/// `v1.ResourceRequirements`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourcesFile {
    /// Resource requests by name (`cpu`, `memory`).
    #[serde(default)]
    pub requests: BTreeMap<String, Spanned<Quantity>>,
    /// Resource limits by name (`cpu`, `memory`).
    #[serde(default)]
    pub limits: BTreeMap<String, Spanned<Quantity>>,
}

/// How a pod turns CPU into served requests.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceModelFile {
    /// CPU time one request needs on one core.
    pub cpu_per_request: Spanned<Duration>,
    /// Requests one pod works on at once (worker threads, connection pool).
    pub concurrency: Option<Spanned<i64>>,
    /// A request not answered within this time fails.
    pub timeout: Option<Spanned<Duration>>,
    /// CPU a pod uses with no requests (runtime, health checks, background work).
    pub base_cpu: Option<Spanned<Quantity>>,
    /// Memory a pod uses with no requests (default: its memory request).
    pub base_memory: Option<Spanned<Quantity>>,
    /// Memory each request in flight holds (default 0).
    pub memory_per_request: Option<Spanned<Quantity>>,
    /// Shape of the CPU time around `cpuPerRequest`: `exponential` (default), `constant`
    /// or `lognormal` (with `cv`).
    pub service_time: Option<Spanned<String>>,
    /// Coefficient of variation (standard deviation ÷ mean) of a `lognormal` service time
    /// (default 1).
    pub cv: Option<Spanned<f64>>,
    /// Clients retry failed requests (default: no retries).
    pub retries: Option<RetriesFile>,
}

/// One component of a workload's offered load.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum TrafficFile {
    /// A flat rate.
    Constant {
        /// Requests per second.
        rps: Spanned<f64>,
    },
    /// A linear change from `from` to `to` between `start` and `end`.
    #[serde(rename_all = "camelCase")]
    Ramp {
        /// Rate before `start`.
        from: Spanned<f64>,
        /// Rate after `end`.
        to: Spanned<f64>,
        /// When the ramp begins (default 0s).
        start: Option<Duration>,
        /// When the ramp ends.
        end: Spanned<Duration>,
    },
    /// A burst: ramp up, hold, ramp down.
    #[serde(rename_all = "camelCase")]
    Spike {
        /// Start of the ramp-up.
        at: Spanned<Duration>,
        /// Peak as a multiple of the other components' sum (e.g. 3 = three times).
        multiplier: Option<Spanned<f64>>,
        /// Peak as extra requests per second.
        rps: Option<Spanned<f64>>,
        /// Time to reach the peak.
        ramp_up: Option<Duration>,
        /// Time at the peak.
        hold: Option<Duration>,
        /// Time back to normal.
        ramp_down: Option<Duration>,
    },
    /// A daily cycle: a cosine between `min` and `max` peaking at `peakAt`.
    #[serde(rename_all = "camelCase")]
    Diurnal {
        /// Lowest rate (at peakAt + period/2).
        min: Spanned<f64>,
        /// Highest rate (at peakAt).
        max: Spanned<f64>,
        /// Time of the peak, from the start of the run (default 14h).
        peak_at: Option<Duration>,
        /// Cycle length (default 24h).
        period: Option<Spanned<Duration>>,
    },
    /// A weekly cycle: a cosine between `min` and `max` peaking at `peakAt`, period 7 days.
    #[serde(rename_all = "camelCase")]
    Weekly {
        /// Lowest rate (at peakAt + 3.5 days).
        min: Spanned<f64>,
        /// Highest rate (at peakAt).
        max: Spanned<f64>,
        /// Time of the weekly peak from the start of the run (default 2d14h: Wednesday
        /// 14:00 when the run starts on a Monday at midnight).
        peak_at: Option<Duration>,
    },
    /// A level change: `rps` more (negative: less) from `at` until `until` (default: the end).
    #[serde(rename_all = "camelCase")]
    Step {
        /// When the new level starts.
        at: Spanned<Duration>,
        /// Requests per second added (negative: removed) while the step lasts.
        rps: Spanned<f64>,
        /// When the step ends (default: never).
        until: Option<Spanned<Duration>>,
    },
    /// Random bursts: a two-state Markov-modulated Poisson process multiplying the rate.
    #[serde(rename_all = "camelCase")]
    Bursts {
        /// Rate multiplier during a burst (more than 1).
        multiplier: Spanned<f64>,
        /// Mean length of a burst (exponentially distributed).
        mean_duration: Spanned<Duration>,
        /// Mean time between bursts (exponentially distributed).
        mean_interval: Spanned<Duration>,
    },
    /// Replay of a recorded rate from a CSV file or a web server access log.
    Trace(Box<TraceFile>),
}

/// A `trace` traffic component: which file, how to read it, how to play it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TraceFile {
    /// Trace path, relative to the scenario file.
    pub file: Spanned<String>,
    /// `csv` (default): rows of (time, rate or count); `accessLog`: a web server log in
    /// Common Log Format (or Combined), one request per line, counted per second.
    pub format: Option<Spanned<String>>,
    /// Column holding the time (default: the first).
    pub time_column: Option<String>,
    /// Column holding the rate or count (default: the second).
    pub column: Option<String>,
    /// `rate` (default): values are requests per second; `count`: values are requests
    /// per row interval.
    pub values: Option<Spanned<String>>,
    /// Trace seconds played per simulated second (default 1).
    pub speedup: Option<Spanned<f64>>,
    /// Multiplies every rate (default 1).
    pub scale: Option<Spanned<f64>>,
    /// Rescales so the trace's highest rate equals this (instead of `scale`).
    pub peak_rps: Option<Spanned<f64>>,
    /// Skip this much of the trace (in trace time) before playing.
    pub skip: Option<Duration>,
    /// Start again from the beginning when the trace ends (default true).
    #[serde(rename = "loop")]
    pub repeat: Option<bool>,
}

/// The service-level objective.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SloFile {
    /// Percent of offered requests served within their timeout, e.g. 99.9.
    pub availability: Option<Spanned<f64>>,
    /// Upper bound on the run's p99 latency.
    pub latency_p99: Option<Spanned<Duration>>,
}

/// Scheduler configuration: a built-in profile plus overrides in the shape of a
/// `KubeSchedulerConfiguration` profile (`percentageOfNodesToScore`, `plugins`, `pluginConfig`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SchedulerFile {
    /// `default` or `bin-packing`.
    pub profile: Option<Spanned<String>>,
    /// 0 (adaptive, upstream's default) to 100.
    pub percentage_of_nodes_to_score: Option<Spanned<i64>>,
    /// Plugins enabled or disabled per extension point.
    pub plugins: Option<PluginsFile>,
    /// Plugin arguments.
    #[serde(default)]
    pub plugin_config: Vec<PluginConfigFile>,
}

/// `Plugins`: per extension point.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PluginsFile {
    /// Enable/disable at every point a plugin implements.
    pub multi_point: Option<PluginSetFile>,
    /// Filter plugins.
    pub filter: Option<PluginSetFile>,
    /// Score plugins (with weights).
    pub score: Option<PluginSetFile>,
    /// PostFilter plugins (DefaultPreemption).
    pub post_filter: Option<PluginSetFile>,
}

/// `PluginSet`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PluginSetFile {
    /// Plugins to add (or re-weight).
    #[serde(default)]
    pub enabled: Vec<PluginRefFile>,
    /// Plugins to remove; `*` removes all defaults.
    #[serde(default)]
    pub disabled: Vec<PluginRefFile>,
}

/// `Plugin`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PluginRefFile {
    /// Upstream plugin name.
    pub name: Spanned<String>,
    /// Score weight (score plugins only).
    pub weight: Option<Spanned<i64>>,
}

/// `PluginConfig`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PluginConfigFile {
    /// Plugin name: NodeResourcesFit or NodeResourcesBalancedAllocation.
    pub name: Spanned<String>,
    /// Its arguments.
    pub args: PluginArgsFile,
}

/// The plugin arguments the simulator reads (NodeResourcesFitArgs,
/// NodeResourcesBalancedAllocationArgs).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PluginArgsFile {
    /// NodeResourcesFit.
    pub scoring_strategy: Option<ScoringStrategyFile>,
    /// NodeResourcesBalancedAllocation.
    pub resources: Option<Vec<ResourceWeightFile>>,
    /// PodTopologySpread: `System` (upstream's defaults) or `List` (`defaultConstraints`).
    pub defaulting_type: Option<Spanned<String>>,
    /// PodTopologySpread: constraints for pods without their own (no labelSelector).
    pub default_constraints: Option<Vec<SpreadConstraintFile>>,
}

/// `ScoringStrategy`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScoringStrategyFile {
    /// LeastAllocated, MostAllocated or RequestedToCapacityRatio.
    #[serde(rename = "type")]
    pub kind: Option<Spanned<String>>,
    /// Resources and weights (default cpu 1, memory 1).
    pub resources: Option<Vec<ResourceWeightFile>>,
    /// The shape for RequestedToCapacityRatio.
    pub requested_to_capacity_ratio: Option<RtcrFile>,
}

/// `ResourceSpec`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourceWeightFile {
    /// cpu or memory.
    pub name: Spanned<String>,
    /// Weight; 0 means 1, as upstream defaults it.
    pub weight: Option<Spanned<i64>>,
}

/// `RequestedToCapacityRatioParam`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RtcrFile {
    /// Points (utilization 0..100, score 0..10), increasing in utilization.
    pub shape: Vec<ShapePointFile>,
}

/// `UtilizationShapePoint`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ShapePointFile {
    /// 0..100.
    pub utilization: Spanned<i64>,
    /// 0..10.
    pub score: Spanned<i64>,
}

/// Limits that stop a runaway scenario with a clear error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LimitsFile {
    /// Most pods that may exist at once.
    pub max_pods: Option<Spanned<i64>>,
    /// Most events one run may process.
    pub max_events: Option<Spanned<i64>>,
}
