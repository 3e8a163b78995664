//! Every scenario shipped in scenarios/ runs cleanly with invariant checks on.

use crate::util::{read_csv, run_scenario, shipped_scenarios, summary};

#[test]
fn every_shipped_scenario_runs_with_checks_on() {
    let files = shipped_scenarios();
    assert!(files.len() >= 2);
    for file in files {
        let dir = run_scenario(&file, &[]);
        let s = summary(&dir);
        let availability = s["availability"].as_f64().expect("availability");
        assert!(
            (0.0..=1.0).contains(&availability),
            "{file}: {availability}"
        );
        let (_, rows) = read_csv(&dir.join("timeseries.csv"));
        assert!(!rows.is_empty(), "{file}: no time series");
        let offered = s["requests_offered"].as_u64().expect("offered");
        let served = s["requests_served"].as_u64().expect("served");
        let failed = s["requests_failed"].as_u64().expect("failed");
        assert_eq!(served + failed, offered, "{file}");
    }
}
