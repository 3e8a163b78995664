//! `kubesim explain` end to end on real-looking `kubectl get nodes,pods -A -o yaml` output.
//! The expected numbers are worked by hand in the comments from the snapshot's figures.

use crate::util::kubesim;
use serde_json::Value;

const CLUSTER: &str = "tests/data/explain/cluster.yaml";

fn explain_json(pod: &str, extra: &[&str]) -> Value {
    let mut args = vec!["explain", CLUSTER, "--pod", pod, "--format", "json"];
    args.extend_from_slice(extra);
    let out = kubesim(&args);
    assert_eq!(out.code, 0, "kubesim {args:?}: {}", out.stderr);
    serde_json::from_str(&out.stdout).expect("explain prints JSON")
}

/// A copy of a fixture with one edit, in a scratch folder. Panics when `from` is not in the
/// fixture, so a fixture change cannot quietly turn a test into one that checks nothing.
fn fixture_variant(fixture: &str, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(crate::util::repo().join(fixture)).expect("fixture");
    assert!(text.contains(from), "{fixture} no longer contains {from:?}");
    let name = std::path::Path::new(fixture)
        .file_name()
        .expect("file name");
    let path = crate::util::scratch("explain-variant").join(name);
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
    path.to_string_lossy().into_owned()
}

fn node<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["nodes"]
        .as_array()
        .and_then(|ns| ns.iter().find(|n| n["name"] == name))
        .unwrap_or_else(|| panic!("node {name} in {v}"))
}

#[test]
fn every_node_gets_upstream_reasons_or_scores() {
    let v = explain_json("tests/data/explain/pod.yaml", &[]);
    assert_eq!(v["pod"], "shop/web-7c9f8d6b5-new01");
    assert_eq!(
        v["nodes"].as_array().map(Vec::len),
        Some(5),
        "all nodes are listed"
    );
    assert_eq!(
        node(&v, "ip-10-0-3-41.ec2.internal")["reasons"],
        serde_json::json!(["node(s) were unschedulable"])
    );
    assert_eq!(
        node(&v, "ip-10-0-3-90.ec2.internal")["reasons"],
        serde_json::json!(["node(s) had untolerated taint {nvidia.com/gpu: present}"])
    );
    // m5.large: 1930m allocatable, 1500m used by cache-0; 7220184Ki, 6Gi used.
    assert_eq!(
        node(&v, "ip-10-0-1-52.ec2.internal")["reasons"],
        serde_json::json!(["Insufficient cpu", "Insufficient memory"])
    );
    // LeastAllocated on ip-10-0-2-33 with the new pod: cpu (3920-2100)*100/3920 = 46,
    // memory (15147552Ki - 4368Mi)*100/15147552Ki = 70; (46+70)/2 = 58. The finished
    // batch pod on this node takes no room.
    let fit = &node(&v, "ip-10-0-2-33.ec2.internal")["scores"]["NodeResourcesFit"];
    assert_eq!(fit["raw"], 58);
    assert_eq!(fit["weight"], 1);
    // ip-10-0-1-17 already runs two web replicas: cpu 820*100/3920 = 20, memory 57 → 38.
    assert_eq!(
        node(&v, "ip-10-0-1-17.ec2.internal")["scores"]["NodeResourcesFit"]["raw"],
        38
    );
    for n in v["nodes"].as_array().into_iter().flatten() {
        let sum: i64 = n["scores"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, s)| s["weighted"].as_i64().unwrap_or(0))
            .sum();
        assert_eq!(n["total"].as_i64(), Some(sum), "total of {}", n["name"]);
        assert_eq!(
            n["feasible"],
            n["reasons"].as_array().is_some_and(Vec::is_empty)
        );
    }
    // ImageLocality reads status.images: the 300Mi app image is listed on ip-10-0-1-17 only,
    // so it scores int64(300Mi · 1/5) = 60Mi → 100·(60 − 23)/(1000 − 23) = 3 there, 0 elsewhere.
    assert_eq!(
        node(&v, "ip-10-0-1-17.ec2.internal")["scores"]["ImageLocality"]["raw"],
        3
    );
    assert_eq!(
        node(&v, "ip-10-0-2-33.ec2.internal")["scores"]["ImageLocality"]["raw"],
        0
    );
    // Fewer web replicas on ip-10-0-2-33 (one, zone 1b) than on ip-10-0-1-17 (two, zone 1a):
    // default spreading and the emptier node both point there.
    assert_eq!(v["selected"], "ip-10-0-2-33.ec2.internal");
}

#[test]
fn a_bin_packing_profile_from_a_scenario_changes_the_choice() {
    let v = explain_json(
        "tests/data/explain/pod.yaml",
        &["--scenario", "tests/data/explain/bin-packing.yaml"],
    );
    // MostAllocated prefers the fuller m5.xlarge, and no default spreading pulls away.
    assert_eq!(v["selected"], "ip-10-0-1-17.ec2.internal");
    let scores = node(&v, "ip-10-0-1-17.ec2.internal")["scores"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(!scores.contains_key("PodTopologySpread"), "{scores:?}");
    // MostAllocated: cpu 3100*100/3920 = 79, memory 42; (79+42)/2 = 60.
    assert_eq!(scores["NodeResourcesFit"]["raw"], 60);
}

#[test]
fn a_deployment_is_explained_through_its_pod_template() {
    let v = explain_json("tests/data/explain/deployment.yaml", &[]);
    assert_eq!(v["pod"], "shop/cache");
    let feasible: Vec<&str> = v["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| n["feasible"] == true)
        .filter_map(|n| n["name"].as_str())
        .collect();
    // nodeSelector zone us-east-1a: ip-10-0-1-17 and ip-10-0-1-52 (500m of 430m free: no).
    assert_eq!(feasible, ["ip-10-0-1-17.ec2.internal"]);
    assert_eq!(
        node(&v, "ip-10-0-2-33.ec2.internal")["reasons"],
        serde_json::json!(["node(s) didn't match Pod's node affinity/selector"])
    );
}

#[test]
fn an_unschedulable_pod_gets_upstreams_failed_scheduling_summary() {
    let out = kubesim(&[
        "explain",
        CLUSTER,
        "--pod",
        "tests/data/explain/gpu-job.yaml",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("Unschedulable: 0/5 nodes are available: "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("1 node(s) were unschedulable"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("4 Insufficient memory"),
        "{}",
        out.stdout
    );
    let v = explain_json("tests/data/explain/gpu-job.yaml", &[]);
    assert_eq!(v["selected"], Value::Null);
}

#[test]
fn what_is_not_modelled_is_reported_not_hidden() {
    let out = kubesim(&["explain", CLUSTER, "--pod", "tests/data/explain/pod.yaml"]);
    assert!(out.stderr.contains("1 pending pod(s)"), "{}", out.stderr);
    // Ephemeral storage is modelled: no warning about it.
    assert!(!out.stderr.contains("ephemeral-storage"), "{}", out.stderr);
    let path = fixture_variant(
        "tests/data/explain/pod.yaml",
        "  containers:\n",
        "  initContainers:\n  - name: migrate\n  containers:\n",
    );
    let out = kubesim(&["explain", CLUSTER, "--pod", &path]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("warning:")
            && out
                .stderr
                .contains("spec.initContainers is not modelled yet"),
        "{}",
        out.stderr
    );
}

#[test]
fn ephemeral_storage_requests_are_checked_against_node_allocatable() {
    // 95491281146 bytes allocatable per node; the running pods hold 1Gi each.
    let path = fixture_variant(
        "tests/data/explain/pod.yaml",
        "        memory: 2Gi\n      limits:",
        "        memory: 2Gi\n        ephemeral-storage: 93G\n      limits:",
    );
    let v = explain_json(&path, &[]);
    // ip-10-0-1-17 runs three pods (3Gi used): 93G no longer fits; ip-10-0-2-33 runs two
    // (the finished batch pod holds nothing): 95491281146 − 2Gi ≥ 93G still fits.
    assert_eq!(
        node(&v, "ip-10-0-1-17.ec2.internal")["reasons"],
        serde_json::json!(["Insufficient ephemeral-storage"])
    );
    assert_eq!(node(&v, "ip-10-0-2-33.ec2.internal")["feasible"], true);
}

#[test]
fn bad_snapshots_name_file_line_object_and_field() {
    let path = fixture_variant(CLUSTER, "cpu: 1930m", "cpu: plenty");
    let out = kubesim(&["explain", &path, "--pod", "tests/data/explain/pod.yaml"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("Node ip-10-0-1-52.ec2.internal: status.allocatable.cpu"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("cluster.yaml:"), "{}", out.stderr);
    let missing = kubesim(&["explain", CLUSTER, "--pod", "no/such/pod.yaml"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("no/such/pod.yaml"),
        "{}",
        missing.stderr
    );
    let dir = crate::util::scratch("explain-two");
    std::fs::write(dir.join("two.yaml"), "kind: Pod\nmetadata: {name: a}\nspec: {containers: []}\n---\nkind: Pod\nmetadata: {name: b}\nspec: {containers: []}\n").expect("write");
    let two = kubesim(&[
        "explain",
        CLUSTER,
        "--pod",
        &dir.join("two.yaml").to_string_lossy(),
    ]);
    assert_eq!(two.code, 2);
    assert!(
        two.stderr.contains("expected exactly one Pod"),
        "{}",
        two.stderr
    );
}

#[test]
fn pod_anti_affinity_is_scoped_to_the_pods_namespace() {
    // In its own namespace `other` there are no web pods: every node with room fits.
    let v = explain_json("tests/data/explain/anti-web.yaml", &[]);
    assert_eq!(
        node(&v, "ip-10-0-1-17.ec2.internal")["feasible"],
        true,
        "{v}"
    );
    // Naming the `shop` namespace makes the web pods count: their nodes are refused.
    let path = fixture_variant(
        "tests/data/explain/anti-web.yaml",
        "      - labelSelector:",
        "      - namespaces: [shop]\n        labelSelector:",
    );
    let v = explain_json(&path, &[]);
    for web_node in ["ip-10-0-1-17.ec2.internal", "ip-10-0-2-33.ec2.internal"] {
        assert_eq!(
            node(&v, web_node)["reasons"],
            serde_json::json!(["node(s) didn't match pod anti-affinity rules"]),
            "{web_node}"
        );
    }
    // Only the small m5.large is left, and it runs the cache pod (no web): it fits 100m.
    assert_eq!(v["selected"], "ip-10-0-1-52.ec2.internal");
}
