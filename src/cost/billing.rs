//! Billing: node time and the control plane in dollars.
//!
//! Node time is integrated per pool by the recorder (every node from the request to the
//! cloud until it is gone, plus the provider's minimum charge for short-lived nodes, which
//! the simulation adds as it removes them). A pool's price is its capacity type's: the
//! catalog's spot price for spot pools. Simplified: spot prices are constant over the run
//! (real spot prices move a little each hour); no savings plans or committed-use discounts.

use crate::metrics::Recorder;
use crate::scenario::{PoolSpec, Scenario};

/// What one pool cost over the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolCost {
    /// Node-hours billed.
    pub node_hours: f64,
    /// Dollars.
    pub usd: f64,
}

/// Node-hours and cost of each pool, in pool order.
pub fn pool_costs(pools: &[PoolSpec], recorder: &Recorder) -> Vec<PoolCost> {
    pools
        .iter()
        .zip(&recorder.pool_node_ms)
        .map(|(pool, &ms)| {
            let node_hours = ms as f64 / 3_600_000.0;
            PoolCost {
                node_hours,
                usd: node_hours * pool.price_usd_per_hour,
            }
        })
        .collect()
}

/// The managed control plane's fee for the whole run.
pub fn control_plane_cost(scenario: &Scenario) -> f64 {
    scenario.control_plane_usd_per_hour * scenario.duration.as_secs_f64() / 3600.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimTime;

    pub(crate) fn pool(name: &str, price: f64) -> PoolSpec {
        PoolSpec {
            name: name.into(),
            instance_type: "m5.large".into(),
            cpu_milli: 2000,
            memory_bytes: 8 << 30,
            cpu_capacity_milli: 2000,
            memory_capacity_bytes: 8 << 30,
            max_pods: 29,
            price_usd_per_hour: price,
            zones: vec!["a".into()],
            count: 3,
            min: 3,
            max: 3,
            labels: vec![],
            taints: vec![],
            node_names: vec![],
            extra_allocatable: vec![],
            images: vec![],
            provisioning: crate::scenario::Provisioning {
                median: SimTime::from_secs(90),
                p90: SimTime::from_secs(150),
                ..Default::default()
            },
            spot: None,
            daemon_cpu_milli: 0,
            daemon_memory_bytes: 0,
            daemon_pods: 0,
            billing_minimum: SimTime::ZERO,
            karpenter: None,
            failures: None,
            provider: String::new(),
            capacity_type: Default::default(),
        }
    }

    #[test]
    fn bills_node_time_at_the_pool_price() {
        let mut rec = Recorder::new(0, &[3]);
        rec.pool_nodes_changed(SimTime::from_secs(1800), 0, 1);
        rec.finish(SimTime::from_secs(3600));
        let costs = pool_costs(&[pool("p", 0.096)], &rec);
        // 3 nodes × 0.5 h + 1 node × 0.5 h = 2 node-hours.
        assert!((costs[0].node_hours - 2.0).abs() < 1e-12);
        assert!((costs[0].usd - 0.192).abs() < 1e-12);
        assert_eq!((rec.nodes_min, rec.nodes_max), (1, 3));
    }

    #[test]
    fn a_minimum_charge_adds_to_the_node_time() {
        let mut rec = Recorder::new(0, &[0]);
        rec.pool_nodes_changed(SimTime::ZERO, 0, 1);
        rec.pool_nodes_changed(SimTime::from_secs(20), 0, 0);
        // The provider bills a minute: the simulation adds the 40 s not yet billed.
        rec.bill_extra(0, SimTime::from_secs(40));
        rec.finish(SimTime::from_secs(3600));
        let costs = pool_costs(&[pool("p", 3.6)], &rec);
        assert!((costs[0].usd - 0.06).abs() < 1e-12, "{}", costs[0].usd);
    }
}
