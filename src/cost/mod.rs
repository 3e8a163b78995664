//! Billing: what the nodes of a run cost.
//!
//! Simplified for now: node time is billed per millisecond at the pool's on-demand price,
//! with no minimum charge, spot discount or control-plane fee (the capacity issue adds the
//! providers' rules).

use crate::metrics::Recorder;
use crate::scenario::PoolSpec;

/// Node-hours and cost of each pool, in pool order.
pub fn pool_costs(pools: &[PoolSpec], recorder: &Recorder) -> Vec<(f64, f64)> {
    pools
        .iter()
        .zip(&recorder.pool_node_ms)
        .map(|(pool, &ms)| {
            let hours = ms as f64 / 3_600_000.0;
            (hours, hours * pool.price_usd_per_hour)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimTime;

    #[test]
    fn bills_node_time_at_the_pool_price() {
        let pool = PoolSpec {
            name: "p".into(),
            instance_type: "m5.large".into(),
            cpu_milli: 2000,
            memory_bytes: 8 << 30,
            cpu_capacity_milli: 2000,
            memory_capacity_bytes: 8 << 30,
            max_pods: 29,
            price_usd_per_hour: 0.096,
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
        };
        let mut rec = Recorder::new(0, &[3]);
        rec.pool_nodes_changed(SimTime::from_secs(1800), 0, 1);
        rec.finish(SimTime::from_secs(3600));
        let costs = pool_costs(&[pool], &rec);
        // 3 nodes × 0.5 h + 1 node × 0.5 h = 2 node-hours.
        assert!((costs[0].0 - 2.0).abs() < 1e-12);
        assert!((costs[0].1 - 0.192).abs() < 1e-12);
        assert_eq!((rec.nodes_min, rec.nodes_max), (1, 3));
    }
}
