//! Kubernetes-style events, stored as ids and numbers and rendered to text only when
//! `events.csv` is written, so emitting an event in the simulation allocates no strings.

use crate::cluster::{NodeId, PodId, WorkloadId, World};
use crate::control::scheduler::preemption::PreemptionFailure;
use crate::engine::SimTime;

/// Why a node was filtered out, in upstream's wording when rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FitReason {
    /// NodeUnschedulable: "node(s) were unschedulable".
    Unschedulable,
    /// TaintToleration: "node(s) had untolerated taint {key: value}" for taint `.1` of pool `.0`.
    UntoleratedTaint(u32, u32),
    /// NodeName: "node(s) didn't match the requested node name".
    NodeName,
    /// NodeAffinity: "node(s) didn't match Pod's node affinity/selector".
    NodeSelectorMismatch,
    /// NodePorts: "node(s) didn't have free ports for the requested pod ports".
    NodePorts,
    /// PodTopologySpread: "node(s) didn't match pod topology spread constraints".
    TopologySpreadMismatch,
    /// PodTopologySpread: the node lacks a constraint's topology key.
    TopologyMissingLabel,
    /// InterPodAffinity: "node(s) didn't match pod affinity rules".
    PodAffinityMismatch,
    /// InterPodAffinity: "node(s) didn't match pod anti-affinity rules".
    PodAntiAffinityMismatch,
    /// InterPodAffinity: "node(s) didn't satisfy existing pods anti-affinity rules".
    ExistingAntiAffinity,
    /// VolumeZone: "node(s) had no available volume zone".
    VolumeZoneConflict,
    /// NodeResourcesFit: "Too many pods".
    TooManyPods,
    /// NodeResourcesFit: "Insufficient cpu".
    InsufficientCpu,
    /// NodeResourcesFit: "Insufficient memory".
    InsufficientMemory,
    /// NodeResourcesFit: "Insufficient <resource>" for a resource beyond cpu and memory.
    InsufficientResource(u16),
}

/// `0/<nodes> nodes are available: <count> <reason>, ....` with the parts sorted as strings,
/// as upstream's `FitError.Error` writes it.
pub fn nodes_unavailable(nodes: u32, reasons: impl Iterator<Item = (String, u32)>) -> String {
    let mut parts: Vec<String> = reasons.map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    format!("0/{nodes} nodes are available: {}.", parts.join(", "))
}

impl FitReason {
    /// The upstream message for this reason.
    pub fn render(self, world: &World) -> String {
        match self {
            FitReason::Unschedulable => "node(s) were unschedulable".into(),
            FitReason::UntoleratedTaint(pool, taint) => {
                let t = &world.pools[pool as usize].taints[taint as usize];
                format!("node(s) had untolerated taint {{{}: {}}}", t.key, t.value)
            }
            FitReason::NodeName => "node(s) didn't match the requested node name".into(),
            FitReason::NodePorts => {
                "node(s) didn't have free ports for the requested pod ports".into()
            }
            FitReason::NodeSelectorMismatch => {
                "node(s) didn't match Pod's node affinity/selector".into()
            }
            FitReason::TopologySpreadMismatch => {
                "node(s) didn't match pod topology spread constraints".into()
            }
            FitReason::TopologyMissingLabel => {
                "node(s) didn't match pod topology spread constraints (missing required label)"
                    .into()
            }
            FitReason::PodAffinityMismatch => "node(s) didn't match pod affinity rules".into(),
            FitReason::PodAntiAffinityMismatch => {
                "node(s) didn't match pod anti-affinity rules".into()
            }
            FitReason::ExistingAntiAffinity => {
                "node(s) didn't satisfy existing pods anti-affinity rules".into()
            }
            FitReason::TooManyPods => "Too many pods".into(),
            FitReason::VolumeZoneConflict => "node(s) had no available volume zone".into(),
            FitReason::InsufficientResource(r) => format!(
                "Insufficient {}",
                world
                    .resource_names
                    .get(r as usize)
                    .map_or("?", String::as_str)
            ),
            FitReason::InsufficientCpu => "Insufficient cpu".into(),
            FitReason::InsufficientMemory => "Insufficient memory".into(),
        }
    }
}

/// What happened.
#[derive(Clone, Debug, PartialEq)]
pub enum EventKind {
    /// The scheduler bound a pod (`Scheduled`).
    Scheduled {
        /// The pod.
        pod: PodId,
        /// Its node.
        node: NodeId,
    },
    /// No node fits (`FailedScheduling`), with the count of nodes per reason.
    FailedScheduling {
        /// The pod.
        pod: PodId,
        /// Nodes considered.
        nodes: u32,
        /// Reason histogram.
        reasons: Vec<(FitReason, u32)>,
        /// Why DefaultPreemption could not help (None: it did, or it is disabled).
        preemption: Option<PreemptionFailure>,
    },
    /// A pod was deleted to make room for a higher-priority one (`Preempted`).
    Preempted {
        /// The victim.
        victim: PodId,
        /// The preemptor.
        by: PodId,
        /// The node.
        node: NodeId,
    },
    /// The ReplicaSet controller created a pod (`SuccessfulCreate`).
    SuccessfulCreate {
        /// Owner.
        workload: WorkloadId,
        /// New pod.
        pod: PodId,
    },
    /// The ReplicaSet controller deleted a pod (`SuccessfulDelete`).
    SuccessfulDelete {
        /// Owner.
        workload: WorkloadId,
        /// Deleted pod.
        pod: PodId,
    },
    /// The cluster autoscaler added nodes for a pending pod (`TriggeredScaleUp`).
    TriggeredScaleUp {
        /// The pod.
        pod: PodId,
        /// The pools grown: (pool, size before, size after), sizes counting nodes running
        /// or booting.
        groups: Vec<(u32, u32, u32)>,
    },
    /// No node group could help a pending pod (`NotTriggerScaleUp`).
    NotTriggerScaleUp {
        /// The pod.
        pod: PodId,
        /// Upstream's summary of why, per node group.
        message: String,
    },
    /// The cluster autoscaler removed a node (`ScaleDown` on the node).
    ScaleDownNode {
        /// The node.
        node: NodeId,
    },
    /// The cluster autoscaler evicted a pod from a node it removes (`ScaleDown` on the pod).
    ScaleDownPod {
        /// The pod.
        pod: PodId,
        /// Its node.
        node: NodeId,
    },
    /// A spot node got its interruption notice (`SpotInterruption`, as the cloud's node
    /// termination handlers report it).
    SpotInterruption {
        /// The node.
        node: NodeId,
        /// Time until termination.
        notice: SimTime,
    },
    /// The kubelet stopped a pod's container (`Killing`).
    Killing {
        /// The pod.
        pod: PodId,
        /// Why, in a few words (e.g. "spot interruption").
        why: &'static str,
    },
    /// Karpenter launched a NodeClaim (`Launched` on the NodeClaim `<nodepool>-<claim>`).
    NodeClaimLaunched {
        /// The scenario pool (instance type × capacity type) it launched.
        pool: u32,
        /// Its number within the NodePool.
        claim: u32,
        /// Pods nominated to it.
        pods: u32,
        /// Nodes it replaces (0: launched for pending pods).
        replacing: u32,
    },
    /// Karpenter expects a pending pod to land on a NodeClaim it launched (`Nominated`).
    Nominated {
        /// The pod.
        pod: PodId,
        /// The NodeClaim's pool.
        pool: u32,
        /// The NodeClaim's number.
        claim: u32,
    },
    /// Karpenter could not find a NodePool for a pod (`FailedScheduling` from karpenter).
    KarpenterFailedScheduling {
        /// The pod.
        pod: PodId,
        /// Upstream-style reasons per NodePool.
        message: String,
    },
    /// Karpenter's disruption controller started removing a node
    /// (`DisruptionTerminating`).
    DisruptionTerminating {
        /// The node.
        node: NodeId,
        /// Why.
        reason: crate::control::karpenter::config::Reason,
        /// Whether a replacement was launched for it.
        replace: bool,
    },
    /// Karpenter's launch of a pool's offering failed: the cloud is out of that capacity
    /// (`InsufficientCapacityError`).
    InsufficientCapacity {
        /// The cheapest pool (instance type × capacity type) tried.
        pool: u32,
        /// How many more of the NodeClaim's types were out of capacity too.
        others: u32,
    },
    /// A requested node did not register in time (cluster autoscaler: `ScaleUpTimedOut`;
    /// Karpenter: registration TTL).
    ProvisionTimedOut {
        /// The pool.
        pool: u32,
        /// Time since the request.
        after: SimTime,
    },
    /// A fault hit a node, or it came back (not an upstream event: the scenario's doing).
    NodeFault {
        /// The node.
        node: NodeId,
        /// `NodeFailure`, `NetworkPartition`, `NodeUpgrade` or `NodeRecovered`.
        reason: &'static str,
    },
    /// The node lifecycle controller saw the node's heartbeats stop (`NodeNotReady`).
    NodeNotReady {
        /// The node.
        node: NodeId,
    },
    /// The node heartbeats again (`NodeReady`).
    NodeReady {
        /// The node.
        node: NodeId,
    },
    /// The taint manager deleted a pod whose toleration of the node's NoExecute taint ran
    /// out (`TaintManagerEviction`).
    TaintManagerEviction {
        /// The pod.
        pod: PodId,
    },
    /// A probe failed its threshold (`Unhealthy`).
    Unhealthy {
        /// The pod.
        pod: PodId,
        /// Liveness (true) or readiness.
        liveness: bool,
        /// The probe's timeout.
        timeout: SimTime,
    },
    /// The kubelet waits before restarting a crashed container (`BackOff`).
    BackOff {
        /// The pod.
        pod: PodId,
    },
    /// The Deployment controller resized a ReplicaSet (`ScalingReplicaSet`).
    ScalingReplicaSet {
        /// The Deployment.
        workload: WorkloadId,
        /// The ReplicaSet's revision.
        revision: u16,
        /// Its new size.
        to: u32,
        /// Up (true) or down.
        up: bool,
    },
    /// A rollout made no progress for `progressDeadlineSeconds`.
    ProgressDeadlineExceeded {
        /// The Deployment.
        workload: WorkloadId,
        /// The revision that stalled.
        revision: u16,
    },
    /// The Deployment went back to an earlier revision (`DeploymentRollback`).
    DeploymentRollback {
        /// The Deployment.
        workload: WorkloadId,
        /// The revision it returned to.
        revision: u16,
    },
    /// A pod was evicted from a node being drained (`Evicted`).
    Evicted {
        /// The pod.
        pod: PodId,
        /// Why, in upstream's words (the disruption reason).
        why: &'static str,
    },
    /// The HPA changed a workload's replicas.
    SuccessfulRescale {
        /// The scaled workload.
        workload: WorkloadId,
        /// Its new `spec.replicas`.
        new_size: u32,
        /// Why, as upstream words it.
        reason: RescaleReason,
    },
    /// The HPA could not compute a proposal from its metrics (a warning; emitted when the
    /// message changes, not on every sync).
    FailedComputeMetricsReplicas {
        /// The workload.
        workload: WorkloadId,
        /// Upstream's error text.
        message: String,
    },
}

/// The pod's (first) container, as kubelet events name it.
fn container_name(world: &World, pod: PodId) -> &str {
    let w = world.pods[pod.0 as usize].workload.0 as usize;
    world.specs[w]
        .container_requests
        .first()
        .map_or("app", |c| c.name.as_str())
}

/// The NodePool a Karpenter pool belongs to (its `karpenter.sh/nodepool` label).
fn nodepool_name(world: &World, pool: u32) -> &str {
    let p = &world.pools[pool as usize];
    p.labels
        .iter()
        .find(|(k, _)| k == crate::control::karpenter::NODEPOOL_LABEL)
        .map_or(p.name.as_str(), |(_, v)| v.as_str())
}

/// The `reason:` part of a `SuccessfulRescale` message (upstream `rescaleReason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RescaleReason {
    /// The metric (index into the HPA's metrics) with the largest proposal was above target.
    AboveTarget(u32),
    /// Every proposal was below the current count.
    AllBelowTarget,
    /// `spec.replicas` was above `maxReplicas`.
    AboveMax,
    /// `spec.replicas` was below `minReplicas`.
    BelowMin,
    /// The proposal equalled the current count; stabilization moved it (upstream leaves
    /// the reason empty).
    Unchanged,
}

/// An event at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRecord {
    /// When.
    pub time: SimTime,
    /// What.
    pub kind: EventKind,
}

impl EventRecord {
    /// `(kind, object, reason, message)` as events.csv shows them.
    pub fn render(&self, world: &World) -> (&'static str, String, &'static str, String) {
        match &self.kind {
            EventKind::Scheduled { pod, node } => (
                "Pod",
                world.pod_name(*pod),
                "Scheduled",
                format!(
                    "Successfully assigned default/{} to {}",
                    world.pod_name(*pod),
                    world.node_name(*node)
                ),
            ),
            EventKind::FailedScheduling {
                pod,
                nodes,
                reasons,
                preemption,
            } => {
                // Upstream (FitError.Error) lists "<count> <reason>" sorted as strings, then
                // the PostFilter's message.
                let parts = reasons.iter().map(|(r, n)| (r.render(world), *n));
                let mut message = nodes_unavailable(*nodes, parts);
                match preemption {
                    None => {}
                    Some(PreemptionFailure::Never) => {
                        message.push_str(" preemption: not eligible due to preemptionPolicy=Never.")
                    }
                    Some(PreemptionFailure::Nodes(why)) => {
                        message.push_str(" preemption: ");
                        message.push_str(&nodes_unavailable(
                            *nodes,
                            why.iter().map(|(r, n)| (r.render(world), *n)),
                        ));
                    }
                }
                ("Pod", world.pod_name(*pod), "FailedScheduling", message)
            }
            EventKind::Preempted { victim, by, node } => (
                "Pod",
                world.pod_name(*victim),
                "Preempted",
                format!(
                    "Preempted by pod default/{} on node {}",
                    world.pod_name(*by),
                    world.node_name(*node)
                ),
            ),
            EventKind::SuccessfulCreate { workload, pod } => (
                "ReplicaSet",
                world.specs[workload.0 as usize].name.clone(),
                "SuccessfulCreate",
                format!("Created pod: {}", world.pod_name(*pod)),
            ),
            EventKind::SuccessfulDelete { workload, pod } => (
                "ReplicaSet",
                world.specs[workload.0 as usize].name.clone(),
                "SuccessfulDelete",
                format!("Deleted pod: {}", world.pod_name(*pod)),
            ),
            EventKind::TriggeredScaleUp { pod, groups } => {
                let infos: Vec<String> = groups
                    .iter()
                    .map(|&(pool, from, to)| {
                        let p = &world.pools[pool as usize];
                        format!("{{{} {from}->{to} (max: {})}}", p.name, p.max)
                    })
                    .collect();
                (
                    "Pod",
                    world.pod_name(*pod),
                    "TriggeredScaleUp",
                    format!("pod triggered scale-up: [{}]", infos.join(" ")),
                )
            }
            EventKind::NotTriggerScaleUp { pod, message } => (
                "Pod",
                world.pod_name(*pod),
                "NotTriggerScaleUp",
                message.clone(),
            ),
            EventKind::ScaleDownNode { node } => (
                "Node",
                world.node_name(*node),
                "ScaleDown",
                "nodes removed by cluster autoscaler".to_string(),
            ),
            EventKind::ScaleDownPod { pod, .. } => (
                "Pod",
                world.pod_name(*pod),
                "ScaleDown",
                "deleting pod for node scale down".to_string(),
            ),
            EventKind::SpotInterruption { node, notice } => (
                "Node",
                world.node_name(*node),
                "SpotInterruption",
                format!(
                    "spot instance interruption notice: the node is cordoned, drained and terminated in {}s",
                    notice.as_secs_f64()
                ),
            ),
            EventKind::Killing { pod, why } => {
                let container = container_name(world, *pod);
                (
                    "Pod",
                    world.pod_name(*pod),
                    "Killing",
                    format!("Stopping container {container} ({why})"),
                )
            }
            EventKind::SuccessfulRescale {
                workload,
                new_size,
                reason,
            } => {
                let spec = &world.specs[workload.0 as usize];
                let why = match reason {
                    RescaleReason::AboveTarget(m) => {
                        let metric = spec
                            .hpa
                            .as_ref()
                            .and_then(|h| h.metrics.get(*m as usize))
                            .map_or("", |m| m.description.as_str());
                        format!("{metric} above target")
                    }
                    RescaleReason::AllBelowTarget => "All metrics below target".into(),
                    RescaleReason::AboveMax => {
                        "Current number of replicas above Spec.MaxReplicas".into()
                    }
                    RescaleReason::BelowMin => {
                        "Current number of replicas below Spec.MinReplicas".into()
                    }
                    RescaleReason::Unchanged => String::new(),
                };
                (
                    "HorizontalPodAutoscaler",
                    spec.name.clone(),
                    "SuccessfulRescale",
                    format!("New size: {new_size}; reason: {why}"),
                )
            }
            EventKind::NodeClaimLaunched {
                pool,
                claim,
                pods,
                replacing,
            } => {
                let p = &world.pools[*pool as usize];
                let capacity = if p.spot.is_some() {
                    "spot"
                } else {
                    "on-demand"
                };
                let why = if *replacing > 0 {
                    format!("replacing {replacing} node(s)")
                } else {
                    format!("for {pods} pod(s)")
                };
                (
                    "NodeClaim",
                    format!("{}-{claim}", nodepool_name(world, *pool)),
                    "Launched",
                    format!(
                        "launched nodeclaim {why}: instance-type {}, capacity-type {capacity}, price {}/h",
                        p.instance_type, p.price_usd_per_hour
                    ),
                )
            }
            EventKind::Nominated { pod, pool, claim } => (
                "Pod",
                world.pod_name(*pod),
                "Nominated",
                format!(
                    "Pod should schedule on: nodeclaim/{}-{claim}",
                    nodepool_name(world, *pool)
                ),
            ),
            EventKind::KarpenterFailedScheduling { pod, message } => (
                "Pod",
                world.pod_name(*pod),
                "FailedScheduling",
                message.clone(),
            ),
            EventKind::DisruptionTerminating {
                node,
                reason,
                replace,
            } => (
                "Node",
                world.node_name(*node),
                "DisruptionTerminating",
                format!(
                    "Disrupting Node: {}/{}",
                    reason.as_str(),
                    if *replace { "Replace" } else { "Delete" }
                ),
            ),
            EventKind::InsufficientCapacity { pool, others } => {
                let p = &world.pools[*pool as usize];
                let capacity = if p.spot.is_some() {
                    "spot"
                } else {
                    "on-demand"
                };
                (
                    "NodePool",
                    nodepool_name(world, *pool).to_string(),
                    "InsufficientCapacityError",
                    format!(
                        "creating nodeclaim, insufficient capacity: no {capacity} capacity for {}{}; offerings unavailable for 3m",
                        p.instance_type,
                        if *others > 0 {
                            format!(" and {others} other type(s)")
                        } else {
                            String::new()
                        }
                    ),
                )
            }
            EventKind::ProvisionTimedOut { pool, after } => {
                let p = &world.pools[*pool as usize];
                let secs = after.as_millis() / 1000;
                let took = format!("{}m{}s", secs / 60, secs % 60);
                if p.karpenter.is_some() {
                    (
                        "NodePool",
                        nodepool_name(world, *pool).to_string(),
                        "RegistrationTimeout",
                        format!(
                            "nodeclaim of {} did not register within {took}; deleting it",
                            p.instance_type
                        ),
                    )
                } else {
                    (
                        "ConfigMap",
                        "cluster-autoscaler-status".to_string(),
                        "ScaleUpTimedOut",
                        format!(
                            "Nodes added to group {} failed to register within {took}",
                            p.name
                        ),
                    )
                }
            }
            EventKind::NodeFault { node, reason } => {
                let message = match *reason {
                    "NodeFailure" => "fault: the node's kubelet and containers stopped",
                    "NetworkPartition" => {
                        "fault: the node lost the control plane; its containers keep running"
                    }
                    "NodeUpgrade" => "node pool upgrade: cordoned and drained for replacement",
                    _ => "fault over: the node heartbeats again",
                };
                ("Node", world.node_name(*node), reason, message.to_string())
            }
            EventKind::NodeNotReady { node } => (
                "Node",
                world.node_name(*node),
                "NodeNotReady",
                format!(
                    "Node {} status is now: NodeNotReady",
                    world.node_name(*node)
                ),
            ),
            EventKind::NodeReady { node } => (
                "Node",
                world.node_name(*node),
                "NodeReady",
                format!("Node {} status is now: NodeReady", world.node_name(*node)),
            ),
            EventKind::TaintManagerEviction { pod } => (
                "Pod",
                world.pod_name(*pod),
                "TaintManagerEviction",
                format!("Marking for deletion Pod default/{}", world.pod_name(*pod)),
            ),
            EventKind::Unhealthy {
                pod,
                liveness,
                timeout,
            } => (
                "Pod",
                world.pod_name(*pod),
                "Unhealthy",
                format!(
                    "{} probe failed: context deadline exceeded (no answer within {}s)",
                    if *liveness { "Liveness" } else { "Readiness" },
                    timeout.as_secs_f64()
                ),
            ),
            EventKind::BackOff { pod } => {
                let container = container_name(world, *pod);
                (
                    "Pod",
                    world.pod_name(*pod),
                    "BackOff",
                    format!(
                        "Back-off restarting failed container {container} in pod {}",
                        world.pod_name(*pod)
                    ),
                )
            }
            EventKind::ScalingReplicaSet {
                workload,
                revision,
                to,
                up,
            } => {
                let name = &world.specs[workload.0 as usize].name;
                (
                    "Deployment",
                    name.clone(),
                    "ScalingReplicaSet",
                    format!(
                        "Scaled {} replica set {name}-{} to {to}",
                        if *up { "up" } else { "down" },
                        revision + 1
                    ),
                )
            }
            EventKind::ProgressDeadlineExceeded { workload, revision } => {
                let name = &world.specs[workload.0 as usize].name;
                let rev = *revision;
                (
                    "Deployment",
                    name.clone(),
                    "ProgressDeadlineExceeded",
                    format!(
                        "ReplicaSet \"{name}-{}\" has timed out progressing.",
                        rev + 1
                    ),
                )
            }
            EventKind::DeploymentRollback { workload, revision } => {
                let name = &world.specs[workload.0 as usize].name;
                (
                    "Deployment",
                    name.clone(),
                    "DeploymentRollback",
                    format!(
                        "Rolled back deployment \"{name}\" to revision {}",
                        revision + 1
                    ),
                )
            }
            EventKind::Evicted { pod, why } => (
                "Pod",
                world.pod_name(*pod),
                "Evicted",
                format!("Evicted pod: {why}"),
            ),
            EventKind::FailedComputeMetricsReplicas { workload, message } => (
                "HorizontalPodAutoscaler",
                world.specs[workload.0 as usize].name.clone(),
                "FailedComputeMetricsReplicas",
                message.clone(),
            ),
        }
    }
}
