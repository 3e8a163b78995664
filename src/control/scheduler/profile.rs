//! Scheduler profiles: which plugins run at Filter and Score, their weights and arguments.
//!
//! Mirrors upstream's `pkg/scheduler/apis/config/v1/default_plugins.go` (plugin order and
//! score weights) and `defaults.go` (plugin-arg defaults), so a user's
//! `KubeSchedulerConfiguration` profile maps onto this one to one.

/// Filter plugins, in upstream's default order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FilterPlugin {
    /// `spec.unschedulable` nodes (cordoned).
    NodeUnschedulable,
    /// `spec.nodeName`.
    NodeName,
    /// NoSchedule/NoExecute taints.
    TaintToleration,
    /// nodeSelector and required node affinity.
    NodeAffinity,
    /// hostPort conflicts.
    NodePorts,
    /// Requests against allocatable, pod count.
    NodeResourcesFit,
    /// Zonal PersistentVolumes: only nodes in the volume's zone.
    VolumeZone,
    /// DoNotSchedule topology spread constraints.
    PodTopologySpread,
    /// Required pod affinity and anti-affinity (both directions).
    InterPodAffinity,
}

/// Score plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ScorePlugin {
    /// PreferNoSchedule taints (normalized, reversed).
    TaintToleration,
    /// Preferred node affinity (normalized).
    NodeAffinity,
    /// The scoring strategy over requested resources.
    NodeResourcesFit,
    /// ScheduleAnyway constraints and the system default spreading.
    PodTopologySpread,
    /// Preferred pod affinity and anti-affinity (both directions).
    InterPodAffinity,
    /// Balance of CPU and memory fractions.
    NodeResourcesBalancedAllocation,
    /// Images of the pod already on the node, weighted by size and spread.
    ImageLocality,
}

impl FilterPlugin {
    /// Every filter, in upstream order.
    pub const ALL: [FilterPlugin; 9] = [
        FilterPlugin::NodeUnschedulable,
        FilterPlugin::NodeName,
        FilterPlugin::TaintToleration,
        FilterPlugin::NodeAffinity,
        FilterPlugin::NodePorts,
        FilterPlugin::NodeResourcesFit,
        FilterPlugin::VolumeZone,
        FilterPlugin::PodTopologySpread,
        FilterPlugin::InterPodAffinity,
    ];

    /// Upstream's plugin name.
    pub fn name(self) -> &'static str {
        match self {
            FilterPlugin::NodeUnschedulable => "NodeUnschedulable",
            FilterPlugin::NodeName => "NodeName",
            FilterPlugin::TaintToleration => "TaintToleration",
            FilterPlugin::NodeAffinity => "NodeAffinity",
            FilterPlugin::NodePorts => "NodePorts",
            FilterPlugin::NodeResourcesFit => "NodeResourcesFit",
            FilterPlugin::VolumeZone => "VolumeZone",
            FilterPlugin::PodTopologySpread => "PodTopologySpread",
            FilterPlugin::InterPodAffinity => "InterPodAffinity",
        }
    }
}

impl ScorePlugin {
    /// Every score plugin with its upstream default weight, in upstream order.
    pub const DEFAULTS: [(ScorePlugin, i64); 7] = [
        (ScorePlugin::TaintToleration, 3),
        (ScorePlugin::NodeAffinity, 2),
        (ScorePlugin::NodeResourcesFit, 1),
        (ScorePlugin::PodTopologySpread, 2),
        (ScorePlugin::InterPodAffinity, 2),
        (ScorePlugin::NodeResourcesBalancedAllocation, 1),
        (ScorePlugin::ImageLocality, 1),
    ];

    /// Upstream's plugin name.
    pub fn name(self) -> &'static str {
        match self {
            ScorePlugin::TaintToleration => "TaintToleration",
            ScorePlugin::NodeAffinity => "NodeAffinity",
            ScorePlugin::NodeResourcesFit => "NodeResourcesFit",
            ScorePlugin::PodTopologySpread => "PodTopologySpread",
            ScorePlugin::InterPodAffinity => "InterPodAffinity",
            ScorePlugin::NodeResourcesBalancedAllocation => "NodeResourcesBalancedAllocation",
            ScorePlugin::ImageLocality => "ImageLocality",
        }
    }
}

/// Plugin names upstream has that the simulator does not model yet; configuring them is
/// reported instead of silently ignored.
pub const NOT_YET_MODELLED: [&str; 3] = ["ImageLocality", "VolumeZone", "VolumeBinding"];

/// The PostFilter plugin's upstream name.
pub const DEFAULT_PREEMPTION: &str = "DefaultPreemption";

/// A resource the scoring strategies weigh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// CPU (milli-cores).
    Cpu,
    /// Memory (bytes).
    Memory,
}

/// NodeResourcesFit's `scoringStrategy.type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strategy {
    /// Prefer emptier nodes (spread).
    LeastAllocated,
    /// Prefer fuller nodes (pack).
    MostAllocated,
    /// A piecewise-linear function of utilization; points (utilization 0..100, score 0..10).
    RequestedToCapacityRatio(Vec<(i64, i64)>),
}

/// A complete profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Built-in name it started from (`default`, `bin-packing`) or `custom`.
    pub name: String,
    /// Filters, in upstream order.
    pub filters: Vec<FilterPlugin>,
    /// Score plugins with weights, in upstream order.
    pub scores: Vec<(ScorePlugin, i64)>,
    /// NodeResourcesFit scoring strategy.
    pub fit_strategy: Strategy,
    /// NodeResourcesFit resource weights.
    pub fit_resources: Vec<(Resource, i64)>,
    /// NodeResourcesBalancedAllocation resources.
    pub balanced_resources: Vec<Resource>,
    /// 0 = adaptive; otherwise 1..100.
    pub percentage_of_nodes_to_score: u32,
    /// PodTopologySpread's default constraints for pods without their own:
    /// (topology key, maxSkew, DoNotSchedule). Upstream's `System` defaulting by default.
    pub default_spread: Vec<(String, u32, bool)>,
    /// DefaultPreemption (the PostFilter) is enabled.
    pub preemption: bool,
}

/// Upstream's system default constraints (`podtopologyspread/plugin.go`).
pub fn system_default_spread() -> Vec<(String, u32, bool)> {
    vec![
        ("kubernetes.io/hostname".to_string(), 3, false),
        ("topology.kubernetes.io/zone".to_string(), 5, false),
    ]
}

impl Profile {
    /// Upstream's default profile (the plugins modelled so far).
    pub fn default_profile() -> Profile {
        Profile {
            name: "default".to_string(),
            filters: FilterPlugin::ALL.to_vec(),
            scores: ScorePlugin::DEFAULTS.to_vec(),
            fit_strategy: Strategy::LeastAllocated,
            fit_resources: vec![(Resource::Cpu, 1), (Resource::Memory, 1)],
            balanced_resources: vec![Resource::Cpu, Resource::Memory],
            percentage_of_nodes_to_score: 0,
            default_spread: system_default_spread(),
            preemption: true,
        }
    }

    /// The default profile with NodeResourcesFit's MostAllocated strategy (upstream's
    /// "resource bin packing") and PodTopologySpread's `defaultingType: List` with no default
    /// constraints: otherwise the system default spreading (weight 2) outweighs
    /// MostAllocated (weight 1) and replicas still spread over nodes.
    pub fn bin_packing() -> Profile {
        Profile {
            name: "bin-packing".to_string(),
            fit_strategy: Strategy::MostAllocated,
            default_spread: Vec::new(),
            ..Profile::default_profile()
        }
    }

    /// A built-in profile by name.
    pub fn builtin(name: &str) -> Option<Profile> {
        match name {
            "default" => Some(Profile::default_profile()),
            "bin-packing" => Some(Profile::bin_packing()),
            _ => None,
        }
    }

    /// Built-in profile names, for messages.
    pub const BUILTIN_NAMES: [&'static str; 2] = ["default", "bin-packing"];
}

/// `numFeasibleNodesToFind` (schedule_one.go): how many feasible nodes to find before
/// scoring, so large clusters score a sample.
pub fn num_feasible_nodes_to_find(percentage: u32, all_nodes: u32) -> u32 {
    const MIN_FEASIBLE_NODES_TO_FIND: u32 = 100;
    const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: i64 = 5;
    if all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return all_nodes;
    }
    let pct = if percentage == 0 {
        (50 - i64::from(all_nodes) / 125).max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    } else {
        i64::from(percentage)
    };
    let n = (i64::from(all_nodes) * pct / 100) as u32;
    n.max(MIN_FEASIBLE_NODES_TO_FIND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn num_feasible_nodes_matches_upstream_test_vectors() {
        // pkg/scheduler/schedule_one_test.go TestNumFeasibleNodesToFind.
        assert_eq!(num_feasible_nodes_to_find(0, 10), 10);
        assert_eq!(num_feasible_nodes_to_find(40, 10), 10);
        assert_eq!(num_feasible_nodes_to_find(0, 1000), 420);
        assert_eq!(num_feasible_nodes_to_find(40, 1000), 400);
        assert_eq!(num_feasible_nodes_to_find(0, 6000), 300);
        assert_eq!(num_feasible_nodes_to_find(0, 2000), 680);
        // Never below 100 once the cluster has 100 nodes.
        assert_eq!(num_feasible_nodes_to_find(1, 150), 100);
        assert_eq!(num_feasible_nodes_to_find(100, 5000), 5000);
    }

    #[test]
    fn default_profile_has_upstream_weights_and_order() {
        let p = Profile::default_profile();
        let names: Vec<_> = p.scores.iter().map(|(s, w)| (s.name(), *w)).collect();
        assert_eq!(
            names,
            [
                ("TaintToleration", 3),
                ("NodeAffinity", 2),
                ("NodeResourcesFit", 1),
                ("PodTopologySpread", 2),
                ("InterPodAffinity", 2),
                ("NodeResourcesBalancedAllocation", 1),
                ("ImageLocality", 1)
            ]
        );
        assert_eq!(p.filters.first(), Some(&FilterPlugin::NodeUnschedulable));
        assert_eq!(Profile::bin_packing().fit_strategy, Strategy::MostAllocated);
    }
}
