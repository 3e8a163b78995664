//! The scheduler end to end: affinity, priorities, ports, nodeName and custom profiles,
//! read back from events.csv.

use crate::util::{col, kubesim, read_csv, run_scenario, scratch};
use std::collections::BTreeMap;
use std::path::Path;

/// pod → node from `Scheduled` events, and pod → message from `FailedScheduling`.
fn placements(dir: &Path) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let (h, rows) = read_csv(&dir.join("events.csv"));
    let mut placed = BTreeMap::new();
    let mut failed = BTreeMap::new();
    for r in &rows {
        let pod = col(&h, r, "object").to_string();
        match col(&h, r, "reason") {
            "Scheduled" => {
                let node = col(&h, r, "message")
                    .rsplit(' ')
                    .next()
                    .unwrap_or("")
                    .to_string();
                placed.insert(pod, node);
            }
            "FailedScheduling" => {
                failed.insert(pod, col(&h, r, "message").to_string());
            }
            _ => {}
        }
    }
    (placed, failed)
}

fn nodes_of<'a>(placed: &'a BTreeMap<String, String>, workload: &str) -> Vec<&'a str> {
    placed
        .iter()
        .filter(|(pod, _)| pod.rsplit_once('-').map(|p| p.0) == Some(workload))
        .map(|(_, n)| n.as_str())
        .collect()
}

#[test]
fn required_and_preferred_node_affinity_decide_placement() {
    let (placed, failed) = placements(&run_scenario("tests/data/scenarios/affinity.yaml", &[]));
    assert!(failed.is_empty(), "{failed:?}");
    // zone-b AND generation > 5: only new-1 (new nodes alternate zone-a, zone-b).
    assert_eq!(nodes_of(&placed, "zonal"), ["new-1"; 4]);
    // Weight-100 preference for disk=ssd beats spreading: new-0 or new-1 only.
    let ssd = nodes_of(&placed, "prefers-ssd");
    assert_eq!(ssd.len(), 3);
    assert!(ssd.iter().all(|n| n.starts_with("new-")), "{ssd:?}");
    // Terms are ORed: no `disk` label (old-*) or the node named new-0.
    let not_old = nodes_of(&placed, "not-old");
    assert_eq!(not_old.len(), 2);
    assert!(
        not_old
            .iter()
            .all(|n| ["old-0", "old-1", "new-0"].contains(n)),
        "{not_old:?}"
    );
}

#[test]
fn higher_priority_pods_are_scheduled_first() {
    let (placed, failed) = placements(&run_scenario("tests/data/scenarios/priority.yaml", &[]));
    // The API's pods were created after the batch's but take their room first.
    assert_eq!(nodes_of(&placed, "api").len(), 2);
    assert_eq!(nodes_of(&placed, "batch").len(), 2);
    assert_eq!(failed.len(), 2);
    assert!(failed.keys().all(|p| p.starts_with("batch-")));
    assert!(
        failed
            .values()
            .all(|m| m == "0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.")
    );
}

/// (time, reason, object, message) of every event but creations and bindings.
fn notable_events(dir: &Path) -> Vec<(String, String, String, String)> {
    let (h, rows) = read_csv(&dir.join("events.csv"));
    rows.iter()
        .filter(|r| !["SuccessfulCreate", "Scheduled"].contains(&col(&h, r, "reason")))
        .map(|r| {
            (
                col(&h, r, "time_s").to_string(),
                col(&h, r, "reason").to_string(),
                col(&h, r, "object").to_string(),
                col(&h, r, "message").to_string(),
            )
        })
        .collect()
}

#[test]
fn preemption_makes_room_and_spares_pods_a_budget_protects() {
    let dir = run_scenario("tests/data/scenarios/preemption.yaml", &[]);
    let (placed, _) = placements(&dir);
    assert_eq!(nodes_of(&placed, "api").len(), 2, "{placed:?}");
    let events = notable_events(&dir);
    let preempted: Vec<&(String, String, String, String)> =
        events.iter().filter(|e| e.1 == "Preempted").collect();
    assert_eq!(preempted.len(), 2, "{events:?}");
    for e in &preempted {
        assert_eq!(
            e.0, "600",
            "preemption happens when the API is created: {e:?}"
        );
        assert!(
            e.2.starts_with("batch-"),
            "the PDB keeps reports pods: {e:?}"
        );
        assert!(
            e.3.starts_with("Preempted by pod default/api-") && e.3.contains(" on node small-"),
            "{e:?}"
        );
    }
    // The replacements have no one to preempt (priority 0 like everything else running).
    let failed: Vec<&str> = events
        .iter()
        .filter(|e| e.1 == "FailedScheduling" && e.2.starts_with("batch-"))
        .map(|e| e.3.as_str())
        .collect();
    assert!(!failed.is_empty());
    assert!(failed.iter().all(|m| *m
        == "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."));
}

#[test]
fn without_the_budget_the_victims_still_come_from_the_lowest_priority() {
    let dir = run_scenario(
        "tests/data/scenarios/preemption.yaml",
        &["--set", "podDisruptionBudgets=[]"],
    );
    let events = notable_events(&dir);
    assert_eq!(events.iter().filter(|e| e.1 == "Preempted").count(), 2);
}

#[test]
fn disabling_default_preemption_leaves_the_high_priority_pods_pending() {
    let dir = run_scenario(
        "tests/data/scenarios/preemption.yaml",
        &[
            "--set",
            "scheduler.plugins={postFilter: {disabled: [{name: DefaultPreemption}]}}",
        ],
    );
    let events = notable_events(&dir);
    assert!(events.iter().all(|e| e.1 != "Preempted"), "{events:?}");
    let (placed, failed) = placements(&dir);
    assert!(nodes_of(&placed, "api").is_empty());
    assert_eq!(
        failed.get("api-0").map(String::as_str),
        Some("0/3 nodes are available: 3 Insufficient cpu.")
    );
}

#[test]
fn pod_affinity_and_anti_affinity_place_pods_by_their_neighbours() {
    let dir = run_scenario("tests/data/scenarios/pod-affinity.yaml", &[]);
    let (placed, failed) = placements(&dir);
    let cache = nodes_of(&placed, "cache");
    assert_eq!(cache.len(), 1);
    // Required affinity on the zone: every web pod in zone-b, where the cache runs.
    let web = nodes_of(&placed, "web");
    assert_eq!(web.len(), 4);
    assert!(web.iter().all(|n| n.starts_with("b-")), "{web:?}");
    // Required anti-affinity on the hostname: four nodes, four db pods, one pending.
    let mut db = nodes_of(&placed, "db");
    db.sort();
    db.dedup();
    assert_eq!(db.len(), 4, "one db per node: {placed:?}");
    assert_eq!(
        failed.get("db-4").map(String::as_str),
        Some(
            "0/4 nodes are available: 4 node(s) didn't match pod anti-affinity rules. preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod."
        )
    );
    // Preferred anti-affinity (weight 100) outweighs the resource scores: zone-a.
    let batch = nodes_of(&placed, "batch");
    assert!(batch.iter().all(|n| n.starts_with("a-")), "{batch:?}");
    // Dropping the preference lets batch pods use zone-b as well.
    let dir = run_scenario(
        "tests/data/scenarios/pod-affinity.yaml",
        &[
            "--set",
            "scheduler.plugins={score: {disabled: [{name: InterPodAffinity}]}}",
        ],
    );
    let (placed, _) = placements(&dir);
    assert!(
        nodes_of(&placed, "batch")
            .iter()
            .any(|n| n.starts_with("b-")),
        "{placed:?}"
    );
}

#[test]
fn extended_resources_and_ephemeral_storage_are_counted_per_node() {
    let dir = run_scenario("tests/data/scenarios/extended-resources.yaml", &[]);
    let (placed, failed) = placements(&dir);
    assert_eq!(nodes_of(&placed, "train"), ["gpu-0", "gpu-0"]);
    assert_eq!(
        failed.get("train-2").map(String::as_str),
        Some(
            "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
        )
    );
    assert_eq!(nodes_of(&placed, "logs").len(), 4);
    assert!(
        failed
            .get("logs-4")
            .is_some_and(|m| m.contains("2 Insufficient ephemeral-storage")),
        "{failed:?}"
    );
    // Twice the GPUs: all three fit.
    let dir = run_scenario(
        "tests/data/scenarios/extended-resources.yaml",
        &["--set", "cluster.pools.gpu.allocatable={nvidia.com/gpu: 8}"],
    );
    let (placed, _) = placements(&dir);
    assert_eq!(nodes_of(&placed, "train").len(), 3);
}

#[test]
fn image_locality_prefers_the_node_that_already_has_the_image() {
    let dir = run_scenario("tests/data/scenarios/image-locality.yaml", &[]);
    let (placed, _) = placements(&dir);
    assert_eq!(nodes_of(&placed, "inference"), ["baked-0"]);
    // With the image on neither pool the two empty nodes tie, and the seeded uniform pick
    // lands on `plain` for some seeds (it never does while `baked` has the image).
    let picks: Vec<String> = ["1", "2", "3", "4", "5", "6"]
        .iter()
        .map(|seed| {
            let dir = run_scenario(
                "tests/data/scenarios/image-locality.yaml",
                &["--set", "cluster.pools.baked.images=[]", "--seed", seed],
            );
            let (placed, _) = placements(&dir);
            nodes_of(&placed, "inference").concat()
        })
        .collect();
    assert!(picks.iter().any(|n| n == "plain-0"), "{picks:?}");
}

#[test]
fn zonal_volumes_keep_pods_in_their_zone() {
    let dir = run_scenario("tests/data/scenarios/volume-zone.yaml", &[]);
    let (placed, failed) = placements(&dir);
    assert!(failed.is_empty(), "{failed:?}");
    // Zones go round-robin over the pool: general-1 and general-4 are zone-b.
    let db = nodes_of(&placed, "db");
    assert_eq!(db.len(), 3);
    assert!(
        db.iter().all(|n| ["general-1", "general-4"].contains(n)),
        "{db:?}"
    );
    let reader = nodes_of(&placed, "reader");
    assert_eq!(reader.len(), 4);
    assert!(
        reader
            .iter()
            .all(|n| !["general-1", "general-4"].contains(n)),
        "zone-a or zone-c only: {reader:?}"
    );
    // A volume in a zone no node has: the pods stay Pending with upstream's reason.
    let dir = run_scenario(
        "tests/data/scenarios/volume-zone.yaml",
        &[
            "--set",
            "persistentVolumes=[{name: pv-db, claim: db-data, labels: {topology.kubernetes.io/zone: zone-d}}, {name: pv-shared, claim: shared}]",
            "--set",
            "cluster.pools.general.zones=[zone-a, zone-b, zone-c, zone-d]",
            "--set",
            "cluster.pools.general.count=3",
        ],
    );
    let (placed, failed) = placements(&dir);
    assert!(nodes_of(&placed, "db").is_empty(), "{placed:?}");
    assert!(
        failed
            .get("db-0")
            .is_some_and(|m| m
                .starts_with("0/3 nodes are available: 3 node(s) had no available volume zone.")),
        "{failed:?}"
    );
}

#[test]
fn host_ports_and_node_name_constrain_nodes() {
    let (placed, failed) = placements(&run_scenario("tests/data/scenarios/host-ports.yaml", &[]));
    let mut ingress = nodes_of(&placed, "ingress");
    ingress.sort();
    assert_eq!(ingress, ["edge-0", "edge-1"]);
    assert_eq!(
        failed.get("ingress-2").map(String::as_str),
        Some(
            "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."
        )
    );
    assert_eq!(nodes_of(&placed, "pinned"), ["edge-1"; 3]);
}

#[test]
fn a_requested_to_capacity_ratio_profile_packs_nodes() {
    let (placed, _) = placements(&run_scenario(
        "tests/data/scenarios/custom-profile.yaml",
        &[],
    ));
    let mut used: Vec<&str> = nodes_of(&placed, "web");
    used.sort();
    used.dedup();
    // 7 one-core pods on 4-core nodes: packing fills two nodes; the default would use four.
    assert_eq!(used.len(), 2, "{placed:?}");
    let (spread, _) = placements(&run_scenario(
        "tests/data/scenarios/custom-profile.yaml",
        &[
            "--set",
            "scheduler.pluginConfig=[]",
            "--set",
            "scheduler.plugins={}",
        ],
    ));
    let mut used: Vec<&str> = nodes_of(&spread, "web");
    used.sort();
    used.dedup();
    assert_eq!(used.len(), 4);
}

#[test]
fn scheduler_configuration_errors_are_located() {
    let dir = scratch("sched-bad");
    let f = dir.join("s.yaml");
    let base = "name: t\nduration: 1m\ncluster:\n  pools: [{name: p, instanceType: m5.large, count: 1}]\nworkloads:\n  - name: w\n    template: {spec: {containers: [{name: c}]}}\n";
    let cases = [
        (
            "scheduler:\n  plugins:\n    score:\n      disabled: [{name: NodeResourceFit}]\n",
            "11:25:",
            "scheduler.plugins.score.disabled[0].name: unknown plugin `NodeResourceFit`; did you mean `NodeResourcesFit`?",
        ),
        (
            "scheduler:\n  plugins:\n    score:\n      enabled: [{name: VolumeBinding}]\n",
            "11:24:",
            "plugin `VolumeBinding` is not modelled yet",
        ),
        (
            "scheduler:\n  percentageOfNodesToScore: 150\n",
            "9:29:",
            "scheduler.percentageOfNodesToScore: 150 must be between 0 and 100",
        ),
    ];
    for (extra, line, message) in cases {
        std::fs::write(&f, format!("{base}{extra}")).expect("write");
        let r = kubesim(&["validate", &f.to_string_lossy()]);
        assert_eq!(r.code, 2, "{extra}");
        assert!(
            r.stderr.contains(&format!("s.yaml:{line}")),
            "{extra}: {}",
            r.stderr
        );
        assert!(r.stderr.contains(message), "{extra}: {}", r.stderr);
    }
    let pod_cases = [
        (
            "        priorityClassName: gold\n",
            "9:28:",
            "no PriorityClass `gold`",
        ),
        (
            "        affinity:\n          nodeAffinity:\n            requiredDuringSchedulingIgnoredDuringExecution:\n              nodeSelectorTerms: [{matchExpressions: [{key: gen, operator: Gt, values: [new]}]}]\n",
            "12:",
            "operator Gt needs exactly one integer value",
        ),
        (
            "        affinity:\n          nodeAffinity:\n            preferredDuringSchedulingIgnoredDuringExecution:\n              - {weight: 0, preference: {matchExpressions: [{key: a, operator: Exists}]}}\n",
            "12:",
            "weight: 0 must be at least 1",
        ),
    ];
    for (spec, line, message) in pod_cases {
        let text = format!(
            "name: t\nduration: 1m\ncluster:\n  pools: [{{name: p, instanceType: m5.large, count: 1}}]\nworkloads:\n  - name: w\n    template:\n      spec:\n{spec}        containers: [{{name: c}}]\n"
        );
        std::fs::write(&f, text).expect("write");
        let r = kubesim(&["validate", &f.to_string_lossy()]);
        assert_eq!(r.code, 2, "{spec}");
        assert!(
            r.stderr.contains(&format!("s.yaml:{line}")),
            "{spec}: {}",
            r.stderr
        );
        assert!(r.stderr.contains(message), "{spec}: {}", r.stderr);
    }
}

#[test]
fn topology_spread_constraints_bound_the_skew() {
    let (placed, failed) = placements(&run_scenario("tests/data/scenarios/spread.yaml", &[]));
    // general-N sits in zone a, b, c for N mod 3 = 0, 1, 2.
    let zone = |node: &str| {
        node.rsplit('-')
            .next()
            .and_then(|n| n.parse::<u32>().ok())
            .map(|n| n % 3)
    };
    let per = |workload: &str, key: &dyn Fn(&str) -> Option<u32>| {
        let mut counts = BTreeMap::new();
        for node in nodes_of(&placed, workload) {
            *counts.entry(key(node)).or_insert(0u32) += 1;
        }
        counts
    };
    // DoNotSchedule, zone, maxSkew 1: 7 pods over 3 zones → 3/2/2.
    let zones = per("zonal", &zone);
    assert_eq!(zones.values().sum::<u32>(), 7);
    assert!(
        zones.values().max().copied().unwrap_or(0) - zones.values().min().copied().unwrap_or(0)
            <= 1,
        "{zones:?}"
    );
    // DoNotSchedule, hostname, maxSkew 1: 9 pods over 6 nodes → no node has 3, every node has 1.
    let hosts = per("per-node", &|n: &str| {
        n.rsplit('-').next().and_then(|x| x.parse().ok())
    });
    assert_eq!(hosts.len(), 6, "{hosts:?}");
    assert!(hosts.values().all(|&c| c == 1 || c == 2), "{hosts:?}");
    // minDomains 2 with one eligible zone: the global minimum counts as 0, so one pod only.
    assert_eq!(nodes_of(&placed, "needs-two-zones"), ["solo-0"]);
    assert_eq!(
        failed.get("needs-two-zones-1").map(String::as_str),
        Some(
            "0/7 nodes are available: 1 node(s) didn't match pod topology spread constraints, 6 node(s) didn't match Pod's node affinity/selector. preemption: 0/7 nodes are available: 1 No preemption victims found for incoming pod, 6 Preemption is not helpful for scheduling."
        )
    );
    // No constraints: the system defaults (hostname 3, zone 5, ScheduleAnyway) spread 6 pods
    // one per node.
    let defaults = per("defaults", &|n: &str| {
        n.rsplit('-').next().and_then(|x| x.parse().ok())
    });
    assert_eq!(defaults.len(), 6, "{defaults:?}");
}
