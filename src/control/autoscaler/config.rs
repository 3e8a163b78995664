//! The cluster autoscaler's settings: upstream's flags, with upstream's defaults
//! (cluster-autoscaler/FAQ.md parameter table, `config/autoscaling_options.go`).

use crate::engine::SimTime;

/// How the autoscaler picks among node groups that could take the pending pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expander {
    /// Uniformly at random (from the autoscaler's own random stream).
    Random,
    /// The option that schedules the most pods.
    MostPods,
    /// The option that leaves the least CPU and memory idle (upstream's default).
    LeastWaste,
    /// The option that adds the fewest nodes.
    LeastNodes,
    /// The cheapest option for the pods it schedules (upstream's `price` expander).
    Price,
    /// The pools of the highest configured priority.
    Priority,
}

impl Expander {
    /// Names as the `--expander` flag takes them.
    pub const NAMES: [(&'static str, Expander); 6] = [
        ("random", Expander::Random),
        ("most-pods", Expander::MostPods),
        ("least-waste", Expander::LeastWaste),
        ("least-nodes", Expander::LeastNodes),
        ("price", Expander::Price),
        ("priority", Expander::Priority),
    ];
}

/// `cluster-autoscaler` flags.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoscalerConfig {
    /// `--scan-interval` (10 s).
    pub scan_interval: SimTime,
    /// `--expander`: a chain, each narrowing the previous one's ties; final ties random.
    pub expanders: Vec<Expander>,
    /// `priority` expander: (priority, pool indices); higher wins.
    pub priorities: Vec<(i32, Vec<u32>)>,
    /// `--scale-down-enabled` (true).
    pub scale_down_enabled: bool,
    /// `--scale-down-utilization-threshold` (0.5).
    pub utilization_threshold: f64,
    /// `--scale-down-unneeded-time` (10 min).
    pub unneeded_time: SimTime,
    /// `--scale-down-delay-after-add` (10 min).
    pub delay_after_add: SimTime,
    /// `--scale-down-delay-after-delete` (0 s).
    pub delay_after_delete: SimTime,
    /// `--scale-down-delay-after-failure` (3 min).
    pub delay_after_failure: SimTime,
    /// `--max-node-provision-time` (15 min).
    pub max_node_provision_time: SimTime,
    /// `--max-nodes-total` (0: no limit).
    pub max_nodes_total: u32,
    /// `--max-scale-down-parallelism` (10): empty nodes deleted at once.
    pub max_scale_down_parallelism: u32,
    /// `--max-drain-parallelism` (1): non-empty nodes drained at once.
    pub max_drain_parallelism: u32,
    /// `--expendable-pods-priority-cutoff` (−10): lower-priority pods neither trigger
    /// scale-up nor block scale-down.
    pub expendable_priority_cutoff: i32,
    /// `--balance-similar-node-groups` (false): spread a scale-up over similar pools
    /// (typically one per zone).
    pub balance_similar_node_groups: bool,
    /// `--initial-node-group-backoff-duration` (5 min).
    pub initial_node_group_backoff: SimTime,
    /// `--max-node-group-backoff-duration` (30 min).
    pub max_node_group_backoff: SimTime,
    /// `--node-group-backoff-reset-timeout` (3 h).
    pub node_group_backoff_reset: SimTime,
}

impl Default for AutoscalerConfig {
    fn default() -> Self {
        AutoscalerConfig {
            scan_interval: SimTime::from_secs(10),
            expanders: vec![Expander::LeastWaste],
            priorities: Vec::new(),
            scale_down_enabled: true,
            utilization_threshold: 0.5,
            unneeded_time: SimTime::from_secs(600),
            delay_after_add: SimTime::from_secs(600),
            delay_after_delete: SimTime::ZERO,
            delay_after_failure: SimTime::from_secs(180),
            max_node_provision_time: SimTime::from_secs(900),
            max_nodes_total: 0,
            max_scale_down_parallelism: 10,
            max_drain_parallelism: 1,
            expendable_priority_cutoff: -10,
            balance_similar_node_groups: false,
            initial_node_group_backoff: SimTime::from_secs(300),
            max_node_group_backoff: SimTime::from_secs(1800),
            node_group_backoff_reset: SimTime::from_secs(3 * 3600),
        }
    }
}
