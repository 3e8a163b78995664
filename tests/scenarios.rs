//! Every scenario shipped in scenarios/ runs cleanly with invariant checks on.

use crate::util::{read_csv, repo, run_scenario, summary};

#[test]
fn every_shipped_scenario_runs_with_checks_on() {
    let mut files: Vec<String> = std::fs::read_dir(repo().join("scenarios"))
        .expect("scenarios/")
        .filter_map(|e| e.ok())
        .map(|e| format!("scenarios/{}", e.file_name().to_string_lossy()))
        .filter(|p| p.ends_with(".yaml"))
        .collect();
    files.sort();
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
