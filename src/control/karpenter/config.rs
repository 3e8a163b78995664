//! Karpenter's settings: the operator's batching options and each NodePool's
//! requirements, limits and disruption block, with upstream's defaults
//! (kubernetes-sigs/karpenter `pkg/operator/options/options.go`, `pkg/apis/v1/nodepool.go`).

use crate::engine::SimTime;

/// `BATCH_IDLE_DURATION`: the batch of pending pods closes after this long without new ones.
pub const DEFAULT_BATCH_IDLE: SimTime = SimTime::from_secs(1);
/// `BATCH_MAX_DURATION`: a batch never stays open longer than this.
pub const DEFAULT_BATCH_MAX: SimTime = SimTime::from_secs(10);
/// The disruption controller's poll period.
pub const DISRUPTION_POLL: SimTime = SimTime::from_secs(10);
/// `consolidationTTL`: a consolidation command is carried out only if it still holds this
/// long after it was computed (pod churn abandons it).
pub const COMMAND_VALIDATION_DELAY: SimTime = SimTime::from_secs(15);
/// Multi-node consolidation considers at most this many candidates.
pub const MAX_MULTI_NODE_CANDIDATES: usize = 100;
/// `MinInstanceTypesForSpotToSpotConsolidation`: a spot node is replaced by a cheaper spot
/// node only when at least this many cheaper types are allowed.
pub const MIN_TYPES_FOR_SPOT_TO_SPOT: usize = 15;

/// When a NodePool's nodes may be consolidated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsolidationPolicy {
    /// Only nodes without workload pods are removed.
    WhenEmpty,
    /// Empty nodes, and nodes whose pods fit elsewhere or on one cheaper node (default).
    WhenEmptyOrUnderutilized,
}

/// Why a node is disrupted; budgets can be limited to some reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// No workload pods.
    Empty,
    /// Its pods fit elsewhere, or on a cheaper node.
    Underutilized,
    /// Older than `expireAfter` (forceful: budgets do not apply).
    Expired,
    /// The node no longer matches its NodePool (accepted in budgets; drift is not
    /// simulated).
    Drifted,
}

impl Reason {
    /// Upstream's spelling, for events and budgets.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Empty => "Empty",
            Reason::Underutilized => "Underutilized",
            Reason::Expired => "Expired",
            Reason::Drifted => "Drifted",
        }
    }
}

/// How many nodes a budget lets be disrupted at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetNodes {
    /// A percentage of the NodePool's nodes, rounded up.
    Percent(u32),
    /// A fixed number.
    Count(u32),
}

/// One entry of a NodePool's `disruption.budgets`.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// The limit.
    pub nodes: BudgetNodes,
    /// The reasons it limits (empty: all).
    pub reasons: Vec<Reason>,
    /// When it is active: a cron schedule (UTC, simulated time from midnight of day 0) and
    /// how long each activation lasts; None: always.
    pub window: Option<(super::cron::Cron, SimTime)>,
}

impl Budget {
    /// Nodes this budget allows to be disrupted now for `reason` out of `nodes` (None: the
    /// budget does not apply to the reason or is not active).
    pub fn allowed(&self, reason: Reason, nodes: u32, now: SimTime) -> Option<u32> {
        if !self.reasons.is_empty() && !self.reasons.contains(&reason) {
            return None;
        }
        if let Some((cron, duration)) = &self.window
            && !cron.active(now, *duration)
        {
            return None;
        }
        Some(match self.nodes {
            BudgetNodes::Count(n) => n,
            BudgetNodes::Percent(p) => (u64::from(nodes) * u64::from(p)).div_ceil(100) as u32,
        })
    }
}

/// One Karpenter NodePool.
#[derive(Debug, Clone, PartialEq)]
pub struct NodePoolConfig {
    /// Its name.
    pub name: String,
    /// `spec.weight`: pods try higher weights first.
    pub weight: i32,
    /// The scenario pools (one per allowed instance type and capacity type) it launches.
    pub pools: Vec<u32>,
    /// `spec.limits.cpu` over the capacity of its nodes, milli-cores.
    pub limit_cpu_milli: Option<u64>,
    /// `spec.limits.memory`, bytes.
    pub limit_memory_bytes: Option<u64>,
    /// `disruption.consolidationPolicy`.
    pub policy: ConsolidationPolicy,
    /// `disruption.consolidateAfter` (None: `Never`, no consolidation).
    pub consolidate_after: Option<SimTime>,
    /// `disruption.budgets` (default one budget of 10%).
    pub budgets: Vec<Budget>,
    /// `template.spec.expireAfter` (None: `Never`).
    pub expire_after: Option<SimTime>,
}

impl NodePoolConfig {
    /// Upstream `GetAllowedDisruptionsByReason` before subtracting nodes already being
    /// disrupted: the smallest active budget for the reason (no active budget: unlimited).
    pub fn allowed_disruptions(&self, reason: Reason, nodes: u32, now: SimTime) -> u32 {
        self.budgets
            .iter()
            .filter_map(|b| b.allowed(reason, nodes, now))
            .min()
            .unwrap_or(u32::MAX)
    }
}

/// Karpenter as a whole.
#[derive(Debug, Clone, PartialEq)]
pub struct KarpenterConfig {
    /// `BATCH_IDLE_DURATION`.
    pub batch_idle: SimTime,
    /// `BATCH_MAX_DURATION`.
    pub batch_max: SimTime,
    /// The NodePools, in the scenario's order.
    pub node_pools: Vec<NodePoolConfig>,
    /// The `SpotToSpotConsolidation` feature gate (off upstream by default): may a spot
    /// node be replaced by a cheaper spot node.
    pub spot_to_spot: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(budgets: Vec<Budget>) -> NodePoolConfig {
        NodePoolConfig {
            name: "default".into(),
            weight: 0,
            pools: vec![],
            limit_cpu_milli: None,
            limit_memory_bytes: None,
            policy: ConsolidationPolicy::WhenEmptyOrUnderutilized,
            consolidate_after: Some(SimTime::ZERO),
            budgets,
            expire_after: None,
        }
    }

    fn budget(nodes: BudgetNodes, reasons: Vec<Reason>) -> Budget {
        Budget {
            nodes,
            reasons,
            window: None,
        }
    }

    #[test]
    fn ten_percent_budget_rounds_up_like_upstream() {
        // The reference's derived vectors for the default budget "10%".
        let p = pool(vec![budget(BudgetNodes::Percent(10), vec![])]);
        let at = |n| p.allowed_disruptions(Reason::Underutilized, n, SimTime::ZERO);
        assert_eq!((at(10), at(15), at(5), at(0)), (1, 2, 1, 0));
    }

    #[test]
    fn smallest_matching_budget_wins_and_other_reasons_are_unlimited() {
        let p = pool(vec![
            budget(BudgetNodes::Percent(50), vec![]),
            budget(BudgetNodes::Count(0), vec![Reason::Underutilized]),
        ]);
        assert_eq!(
            p.allowed_disruptions(Reason::Underutilized, 8, SimTime::ZERO),
            0
        );
        assert_eq!(p.allowed_disruptions(Reason::Empty, 8, SimTime::ZERO), 4);
        let none = pool(vec![budget(BudgetNodes::Count(3), vec![Reason::Empty])]);
        assert_eq!(
            none.allowed_disruptions(Reason::Underutilized, 8, SimTime::ZERO),
            u32::MAX
        );
    }
}
