//! Real Kubernetes objects (Node, Pod, Deployment) read into the scenario model, for
//! `kubesim explain`.
//!
//! The input is what `kubectl get nodes,pods -A -o yaml` prints (a `v1 List`) or
//! multi-document YAML of Node and Pod objects. Rather than a second model, each object is
//! translated into the scenario format's own shapes — a Node becomes a one-node pool with its
//! allocatable resources, labels and taints; a Pod becomes a zero-replica workload whose
//! template is the pod's spec — pruned to the fields the simulator models, and then goes
//! through the same deserialization and validation as a scenario file. Errors found there are
//! mapped back to the object and its field (`Node worker-1: status.allocatable.cpu`).
//!
//! Fields that would change the scheduling decision but are not modelled yet (pod
//! (anti-)affinity, init containers, pod overhead, resources other than cpu and memory) are
//! dropped with a warning, so the user knows what the explanation leaves out.

use super::error::{InputError, InputErrors};
use super::file::ScenarioFile;
use super::load::{options, plain_message};
use super::model::Scenario;
use super::suggest::improve_message;
use super::validate::validate;
use crate::cluster::catalog::Catalog;
use serde_json::{Map, Value, json};
use std::path::Path;

/// A cluster snapshot and one pod to place in it.
#[derive(Debug)]
pub struct Snapshot {
    /// One pool per node (in input order), one workload per pod; the last workload is the pod
    /// being explained.
    pub scenario: Scenario,
    /// Pods already running: (workload index, pool index = node index).
    pub bound: Vec<(u32, u32)>,
    /// `namespace/name` of each workload's pod, by workload index.
    pub pod_names: Vec<String>,
    /// Pools (= nodes) whose Node has `spec.unschedulable: true` (cordoned).
    pub cordoned: Vec<u32>,
    /// What was read but left out of the model, for the user to know.
    pub warnings: Vec<String>,
}

/// Which file an object came from, and where in it.
struct Origin<'a> {
    file: &'a str,
    text: &'a str,
    kind: String,
    name: String,
    /// Prefix of the object's fields inside the generated scenario tree, and the same
    /// place in the object (`workloads[3].template.spec` ↔ `spec`).
    generated: String,
    original: String,
    line: Option<u32>,
}

/// Reads the cluster snapshot and the pod. `base`, when given, is a scenario whose
/// `scheduler` block and `priorityClasses` apply (it is read with the scenario loader first,
/// so its errors have their lines).
pub fn read_snapshot(
    cluster_file: &str,
    cluster_text: &str,
    pod_file: &str,
    pod_text: &str,
    base: Option<&Value>,
) -> Result<Snapshot, InputErrors> {
    let cluster_docs = documents(cluster_file, cluster_text)?;
    let pod_docs = documents(pod_file, pod_text)?;
    let mut warnings = Vec::new();
    let mut cursor = 0usize;

    // The pod to explain first: it decides which cluster pod (if any) is itself.
    let incoming_obj = match pod_docs.as_slice() {
        [one] => one,
        [] => {
            return Err(InputError::file(
                pod_file,
                "no object (expected one Pod, or a Deployment whose pod template is used)",
            )
            .into());
        }
        _ => {
            return Err(InputError::file(
                pod_file,
                format!(
                    "{} objects (expected exactly one Pod or Deployment)",
                    pod_docs.len()
                ),
            )
            .into());
        }
    };
    let incoming_kind = str_at(incoming_obj, &["kind"]).unwrap_or("");
    let (template_path, template): (&str, Option<&Value>) = if incoming_kind == "Pod" {
        ("", Some(incoming_obj))
    } else {
        ("spec.template.", incoming_obj.pointer("/spec/template"))
    };
    let Some(template) = template.filter(|t| t.pointer("/spec").is_some()) else {
        return Err(InputError::file(
            pod_file,
            format!(
                "kind `{incoming_kind}` is not a Pod and has no spec.template.spec (expected a Pod or a Deployment)"
            ),
        )
        .into());
    };
    let incoming_name = qualified_name(incoming_obj);
    let incoming_bound = incoming_kind == "Pod"
        && incoming_obj.pointer("/spec/nodeName").is_some()
        && incoming_obj.pointer("/status/phase").is_some();

    let mut pools = Vec::new();
    let mut node_names: Vec<String> = Vec::new();
    let mut node_unschedulable = Vec::new();
    let mut workloads = Vec::new();
    let mut pod_names = Vec::new();
    let mut bound_nodes: Vec<String> = Vec::new();
    let mut origins: Vec<Origin> = Vec::new();
    let mut ignored_kinds: Vec<String> = Vec::new();
    let mut skipped_pending = 0usize;
    let mut dropped_requests = std::collections::BTreeMap::<String, usize>::new();

    let mut images: Vec<Value> = Vec::new();
    let mut seen_images = std::collections::BTreeSet::new();
    let mut objects = Vec::new();
    for (d, doc) in cluster_docs.iter().enumerate() {
        if str_at(doc, &["kind"]) == Some("List") || doc.get("items").is_some() {
            match doc.get("items") {
                Some(Value::Array(items)) => objects.extend(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, o)| (format!("items[{i}]"), o)),
                ),
                _ => {
                    return Err(InputError::file(
                        cluster_file,
                        format!("document {}: a List without an items list", d + 1),
                    )
                    .into());
                }
            }
        } else {
            objects.push((format!("document {}", d + 1), doc));
        }
    }

    for (place, obj) in objects {
        let kind = str_at(obj, &["kind"]).unwrap_or("");
        let name = qualified_name(obj);
        let line = find_name_line(
            cluster_text,
            &mut cursor,
            str_at(obj, &["metadata", "name"]),
        );
        match kind {
            "Node" => {
                let i = pools.len();
                let allocatable = obj
                    .pointer("/status/allocatable")
                    .or_else(|| obj.pointer("/status/capacity"));
                let Some(Value::Object(alloc)) = allocatable else {
                    return Err(InputError {
                        file: cluster_file.to_string(),
                        line,
                        column: None,
                        field: Some(format!("Node {name}: status.allocatable")),
                        message: "missing (expected cpu, memory and pods, as kubectl prints them)"
                            .into(),
                        source_line: None,
                    }
                    .with_source_from(cluster_text)
                    .into());
                };
                let max_pods = match alloc.get("pods") {
                    None => Value::Null,
                    Some(Value::String(s)) => s
                        .parse::<i64>()
                        .map(Value::from)
                        .unwrap_or(Value::String(s.clone())),
                    Some(v) => v.clone(),
                };
                let taints: Vec<Value> = array_at(obj, "/spec/taints")
                    .iter()
                    .map(|t| {
                        json!({
                            "key": t.get("key").cloned().unwrap_or(Value::from("")),
                            "value": t.get("value").cloned().unwrap_or(Value::from("")),
                            "effect": t.get("effect").cloned().unwrap_or(Value::Null),
                        })
                    })
                    .collect();
                let mut pool = Map::new();
                pool.insert("name".into(), Value::from(format!("node{i}")));
                pool.insert("count".into(), Value::from(1));
                pool.insert("pricePerHour".into(), Value::from(0.0));
                pool.insert(
                    "cpu".into(),
                    alloc.get("cpu").cloned().unwrap_or(Value::Null),
                );
                pool.insert(
                    "memory".into(),
                    alloc.get("memory").cloned().unwrap_or(Value::Null),
                );
                if !max_pods.is_null() {
                    pool.insert("maxPods".into(), max_pods);
                }
                let others: Map<String, Value> = alloc
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "cpu" | "memory" | "pods"))
                    .filter(|(k, _)| is_scheduled_resource(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                pool.insert("allocatable".into(), Value::Object(others));
                // status.images: what ImageLocality looks for, with sizes.
                let mut names = Vec::new();
                for img in array_at(obj, "/status/images") {
                    let size = img.get("sizeBytes").cloned().unwrap_or(Value::from(0));
                    for name in img
                        .get("names")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(n) = name.as_str() {
                            names.push(Value::from(n));
                            if seen_images.insert(n.to_string()) {
                                images.push(json!({ "name": n, "size": size }));
                            }
                        }
                    }
                }
                pool.insert("images".into(), Value::Array(names));
                pool.insert("labels".into(), string_map(obj.pointer("/metadata/labels")));
                pool.insert("taints".into(), Value::Array(taints));
                pools.push(Value::Object(pool));
                node_names.push(str_at(obj, &["metadata", "name"]).unwrap_or("").to_string());
                node_unschedulable
                    .push(obj.pointer("/spec/unschedulable") == Some(&Value::Bool(true)));
                origins.push(Origin {
                    file: cluster_file,
                    text: cluster_text,
                    kind: "Node".into(),
                    name,
                    generated: format!("cluster.pools[{i}]"),
                    original: place,
                    line,
                });
            }
            "Pod" => {
                let phase = str_at(obj, &["status", "phase"]).unwrap_or("");
                if matches!(phase, "Succeeded" | "Failed") {
                    continue; // the scheduler's cache holds no terminated pods
                }
                if name == incoming_name && incoming_kind == "Pod" {
                    continue; // the pod being explained, as if not yet placed
                }
                let Some(node) = str_at(obj, &["spec", "nodeName"]) else {
                    skipped_pending += 1;
                    continue;
                };
                let i = workloads.len();
                let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
                let (spec, dropped) = prune_spec(&spec);
                for d in dropped {
                    *dropped_requests.entry(d).or_default() += 1;
                }
                let ns = str_at(obj, &["metadata", "namespace"]).unwrap_or("default");
                workloads.push(workload(i, obj.pointer("/metadata/labels"), spec, ns));
                pod_names.push(name.clone());
                bound_nodes.push(node.to_string());
                origins.push(Origin {
                    file: cluster_file,
                    text: cluster_text,
                    kind: "Pod".into(),
                    name,
                    generated: format!("workloads[{i}].template"),
                    original: place,
                    line,
                });
            }
            "" => {
                return Err(InputError {
                    file: cluster_file.to_string(),
                    line,
                    column: None,
                    field: Some(format!("{place}.kind")),
                    message: "missing (expected Node or Pod, as `kubectl get nodes,pods -A -o yaml` prints)".into(),
                    source_line: None,
                }
                .into());
            }
            other => {
                if !ignored_kinds.iter().any(|k| k == other) {
                    ignored_kinds.push(other.to_string());
                }
            }
        }
    }
    if pools.is_empty() {
        return Err(InputError::file(
            cluster_file,
            "no Node objects (expected the output of `kubectl get nodes,pods -A -o yaml`)",
        )
        .into());
    }

    // The incoming pod, last.
    let spec = template.get("spec").cloned().unwrap_or(Value::Null);
    let (mut spec, dropped) = prune_spec(&spec);
    for d in dropped {
        warnings.push(format!(
            "{pod_file}: {incoming_name}: {d} is not modelled yet and was ignored"
        ));
    }
    if incoming_bound
        && let Value::Object(m) = &mut spec
        && let Some(node) = m.remove("nodeName")
    {
        warnings.push(format!(
            "{pod_file}: {incoming_name} is already bound to {}; explaining its placement as if it were pending",
            node.as_str().unwrap_or("?")
        ));
    }
    let i = workloads.len();
    let ns = str_at(incoming_obj, &["metadata", "namespace"]).unwrap_or("default");
    workloads.push(workload(i, template.pointer("/metadata/labels"), spec, ns));
    pod_names.push(incoming_name.clone());
    origins.push(Origin {
        file: pod_file,
        text: pod_text,
        kind: if incoming_kind.is_empty() {
            "Pod".into()
        } else {
            incoming_kind.to_string()
        },
        name: incoming_name.clone(),
        generated: format!("workloads[{i}].template"),
        original: template_path.trim_end_matches('.').to_string(),
        line: None,
    });

    if !ignored_kinds.is_empty() {
        warnings.push(format!(
            "{cluster_file}: objects of kind {} are not used by explain and were skipped",
            ignored_kinds.join(", ")
        ));
    }
    if skipped_pending > 0 {
        warnings.push(format!(
            "{cluster_file}: {skipped_pending} pending pod(s) without spec.nodeName take no room and were skipped"
        ));
    }
    for (what, n) in &dropped_requests {
        warnings.push(format!(
            "{cluster_file}: {what} of {n} running pod(s) not modelled yet and ignored"
        ));
    }

    let mut tree = Map::new();
    tree.insert("name".into(), Value::from("explain"));
    tree.insert("duration".into(), Value::from("1s"));
    tree.insert("cluster".into(), json!({ "pools": pools }));
    tree.insert("workloads".into(), Value::Array(workloads));
    tree.insert("images".into(), Value::Array(images));
    if let Some(Value::Object(base)) = base {
        for key in ["scheduler", "priorityClasses", "seed"] {
            if let Some(v) = base.get(key) {
                tree.insert(key.into(), v.clone());
            }
        }
    }
    let map_errors = |errors: Vec<InputError>| -> InputErrors {
        InputErrors(errors.into_iter().map(|e| relocate(e, &origins)).collect())
    };
    let raw: ScenarioFile = serde_path_to_error::deserialize(Value::Object(tree)).map_err(|e| {
        let field = super::load::clean_path(&e.path().to_string());
        map_errors(vec![InputError::at(
            "<cluster snapshot>",
            None,
            &field,
            improve_message(&e.into_inner().to_string()),
        )])
    })?;
    let mut scenario = validate(
        raw,
        "<cluster snapshot>",
        Path::new("."),
        &Catalog::builtin(),
    )
    .map_err(|e| map_errors(e.0))?;
    for (p, pool) in scenario.pools.iter_mut().enumerate() {
        pool.zones = Vec::new();
        pool.node_names = vec![node_names[p].clone()];
        pool.instance_type = pool
            .labels
            .iter()
            .find(|(k, _)| k == crate::cluster::world::INSTANCE_TYPE_LABEL)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "unknown".into());
    }
    let mut bound = Vec::new();
    for (w, node) in bound_nodes.iter().enumerate() {
        match node_names.iter().position(|n| n == node) {
            Some(p) => bound.push((w as u32, p as u32)),
            None => warnings.push(format!(
                "{cluster_file}: {} runs on node {node}, which is not in the snapshot; it was skipped",
                pod_names[w]
            )),
        }
    }
    let cordoned = (0..node_unschedulable.len() as u32)
        .filter(|&p| node_unschedulable[p as usize])
        .collect();
    Ok(Snapshot {
        scenario,
        bound,
        pod_names,
        cordoned,
        warnings,
    })
}

/// Parses every YAML document of a file; empty documents are skipped.
fn documents(file: &str, text: &str) -> Result<Vec<Value>, InputErrors> {
    if text.trim().is_empty() {
        return Err(InputError::file(
            file,
            "the file is empty (expected Kubernetes objects in YAML)",
        )
        .into());
    }
    let docs: Vec<Value> =
        serde_saphyr::from_multiple_with_options(text, options()).map_err(|e| {
            InputErrors::from(
                InputError::at(file, e.location(), "", plain_message(&e)).with_source_from(text),
            )
        })?;
    let docs: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    for (d, doc) in docs.iter().enumerate() {
        if !doc.is_object() {
            return Err(InputError::file(
                file,
                format!("document {} is not a mapping (expected a Kubernetes object with kind and metadata)", d + 1),
            )
            .into());
        }
    }
    Ok(docs)
}

/// The line of `name: <name>` at or after `cursor` (objects come in file order).
fn find_name_line(text: &str, cursor: &mut usize, name: Option<&str>) -> Option<u32> {
    let name = name?;
    let rest = text.get(*cursor..)?;
    let mut offset = *cursor;
    for line in rest.split_inclusive('\n') {
        let t = line.trim();
        let value = t
            .strip_prefix("name:")
            .map(|v| v.trim().trim_matches(['"', '\'']));
        offset += line.len();
        if value == Some(name) {
            *cursor = offset;
            return Some(
                text[..offset].matches('\n').count() as u32 + u32::from(!line.ends_with('\n')),
            );
        }
    }
    None
}

/// Puts an error found in the generated tree back on the object it came from.
fn relocate(e: InputError, origins: &[Origin]) -> InputError {
    let Some(field) = &e.field else { return e };
    for o in origins {
        let Some(rest) = field.strip_prefix(&o.generated) else {
            continue;
        };
        if !(rest.is_empty() || rest.starts_with(['.', '['])) {
            continue;
        }
        let inner = match (o.kind.as_str(), rest) {
            ("Node", r) if r.starts_with(".cpu") => "status.allocatable.cpu".to_string(),
            ("Node", r) if r.starts_with(".memory") => "status.allocatable.memory".to_string(),
            ("Node", r) if r.starts_with(".maxPods") => "status.allocatable.pods".to_string(),
            ("Node", r) if r.starts_with(".allocatable") => format!("status{r}"),
            ("Node", r) if r.starts_with(".labels") => format!("metadata{r}"),
            ("Node", r) if r.starts_with(".images") => format!("status{r}"),
            ("Node", r) if r.starts_with(".taints") => format!("spec{r}"),
            ("Node", r) => r.trim_start_matches('.').to_string(),
            (_, r) => format!("{}{}", o.original_prefix(), r.trim_start_matches('.')),
        };
        let where_ = if o.original.starts_with("items[") {
            format!("{} ", o.original)
        } else {
            String::new()
        };
        return InputError {
            file: o.file.to_string(),
            line: o.line,
            column: None,
            field: Some(format!("{where_}{} {}: {inner}", o.kind, o.name)),
            message: e.message,
            source_line: None,
        }
        .with_source_from(o.text);
    }
    e
}

impl Origin<'_> {
    /// The object's path to the fields that the generated `template` holds.
    fn original_prefix(&self) -> String {
        if self.original.is_empty()
            || self.original.starts_with("items[")
            || self.original.starts_with("document")
        {
            String::new()
        } else {
            format!("{}.", self.original)
        }
    }
}

/// `namespace/name` (namespace `default` when absent).
fn qualified_name(obj: &Value) -> String {
    let ns = str_at(obj, &["metadata", "namespace"]).unwrap_or("default");
    let name = str_at(obj, &["metadata", "name"]).unwrap_or("<unnamed>");
    if str_at(obj, &["kind"]) == Some("Node") {
        name.to_string()
    } else {
        format!("{ns}/{name}")
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

fn array_at<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Label maps as strings (`"true"` stays a string even if the YAML left it unquoted).
fn string_map(v: Option<&Value>) -> Value {
    let Some(Value::Object(m)) = v else {
        return Value::Object(Map::new());
    };
    Value::Object(
        m.iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k.clone(), Value::String(s))
            })
            .collect(),
    )
}

/// A pseudo-label carrying each pod's namespace: the model has one namespace, so selectors
/// (spread constraints, affinity terms) get a requirement on it to stay within the pod's own
/// namespace (or the term's `namespaces`), as upstream's do.
pub const NAMESPACE_LABEL: &str = "kubesim.io/namespace";

fn workload(i: usize, labels: Option<&Value>, mut spec: Value, namespace: &str) -> Value {
    scope_selectors(&mut spec, namespace);
    let mut labels = string_map(labels);
    if let Value::Object(m) = &mut labels {
        m.insert(NAMESPACE_LABEL.into(), Value::from(namespace));
    }
    json!({
        "name": format!("pod{i}"),
        "replicas": 0,
        "template": { "metadata": { "labels": labels }, "spec": spec },
    })
}

/// Adds the namespace requirement to every pod selector of a (pruned) pod spec.
fn scope_selectors(spec: &mut Value, namespace: &str) {
    fn require(selector: Option<&mut Value>, namespaces: Vec<Value>, own: &str) {
        let Some(Value::Object(sel)) = selector else {
            return;
        };
        if namespaces.is_empty() {
            let labels = sel.entry("matchLabels").or_insert_with(|| json!({}));
            if let Value::Object(m) = labels {
                m.insert(NAMESPACE_LABEL.into(), Value::from(own));
            }
        } else {
            let exprs = sel.entry("matchExpressions").or_insert_with(|| json!([]));
            if let Value::Array(list) = exprs {
                list.push(json!({"key": NAMESPACE_LABEL, "operator": "In", "values": namespaces}));
            }
        }
    }
    if let Some(Value::Array(list)) = spec.pointer_mut("/topologySpreadConstraints") {
        for c in list {
            require(c.get_mut("labelSelector"), Vec::new(), namespace);
        }
    }
    for kind in ["podAffinity", "podAntiAffinity"] {
        let Some(Value::Object(aff)) = spec.pointer_mut(&format!("/affinity/{kind}")) else {
            continue;
        };
        let mut terms: Vec<&mut Value> = Vec::new();
        for (key, list) in aff.iter_mut() {
            let Value::Array(list) = list else { continue };
            if key == "requiredDuringSchedulingIgnoredDuringExecution" {
                terms.extend(list.iter_mut());
            } else {
                terms.extend(list.iter_mut().filter_map(|p| p.get_mut("podAffinityTerm")));
            }
        }
        for term in terms {
            let namespaces = match term.as_object_mut().and_then(|t| t.remove("namespaces")) {
                Some(Value::Array(ns)) => ns,
                _ => Vec::new(),
            };
            require(term.get_mut("labelSelector"), namespaces, namespace);
        }
    }
}

/// The shape of the modelled part of a PodSpec.
enum Shape {
    /// Kept as is.
    Any,
    /// An object with these keys.
    Obj(&'static [(&'static str, Shape)]),
    /// A list of one shape.
    List(&'static Shape),
    /// A resource list: cpu and memory kept.
    Resources,
    /// A string-to-string map.
    Strings,
}

const REQUIREMENT: Shape = Shape::Obj(&[
    ("key", Shape::Any),
    ("operator", Shape::Any),
    ("values", Shape::Any),
]);
const NODE_TERM: Shape = Shape::Obj(&[
    ("matchExpressions", Shape::List(&REQUIREMENT)),
    ("matchFields", Shape::List(&REQUIREMENT)),
]);
const SELECTOR: Shape = Shape::Obj(&[
    ("matchLabels", Shape::Strings),
    ("matchExpressions", Shape::List(&REQUIREMENT)),
]);
const POD_TERM: Shape = Shape::Obj(&[
    ("labelSelector", SELECTOR),
    ("topologyKey", Shape::Any),
    ("namespaces", Shape::Any),
]);
const POD_AFFINITY: Shape = Shape::Obj(&[
    (
        "requiredDuringSchedulingIgnoredDuringExecution",
        Shape::List(&POD_TERM),
    ),
    (
        "preferredDuringSchedulingIgnoredDuringExecution",
        Shape::List(&Shape::Obj(&[
            ("weight", Shape::Any),
            ("podAffinityTerm", POD_TERM),
        ])),
    ),
]);
static POD_SPEC: Shape = Shape::Obj(&[
    (
        "containers",
        Shape::List(&Shape::Obj(&[
            ("name", Shape::Any),
            ("image", Shape::Any),
            (
                "resources",
                Shape::Obj(&[("requests", Shape::Resources), ("limits", Shape::Resources)]),
            ),
            (
                "ports",
                Shape::List(&Shape::Obj(&[
                    ("name", Shape::Any),
                    ("containerPort", Shape::Any),
                    ("hostPort", Shape::Any),
                    ("protocol", Shape::Any),
                    ("hostIP", Shape::Any),
                ])),
            ),
        ])),
    ),
    ("nodeSelector", Shape::Strings),
    (
        "tolerations",
        Shape::List(&Shape::Obj(&[
            ("key", Shape::Any),
            ("operator", Shape::Any),
            ("value", Shape::Any),
            ("effect", Shape::Any),
            ("tolerationSeconds", Shape::Any),
        ])),
    ),
    (
        "affinity",
        Shape::Obj(&[
            ("podAffinity", POD_AFFINITY),
            ("podAntiAffinity", POD_AFFINITY),
            (
                "nodeAffinity",
                Shape::Obj(&[
                    (
                        "requiredDuringSchedulingIgnoredDuringExecution",
                        Shape::Obj(&[("nodeSelectorTerms", Shape::List(&NODE_TERM))]),
                    ),
                    (
                        "preferredDuringSchedulingIgnoredDuringExecution",
                        Shape::List(&Shape::Obj(&[
                            ("weight", Shape::Any),
                            ("preference", NODE_TERM),
                        ])),
                    ),
                ]),
            ),
        ]),
    ),
    ("nodeName", Shape::Any),
    (
        "topologySpreadConstraints",
        Shape::List(&Shape::Obj(&[
            ("maxSkew", Shape::Any),
            ("topologyKey", Shape::Any),
            ("whenUnsatisfiable", Shape::Any),
            ("labelSelector", SELECTOR),
            ("minDomains", Shape::Any),
            ("nodeAffinityPolicy", Shape::Any),
            ("nodeTaintsPolicy", Shape::Any),
        ])),
    ),
]);
/// Fields that change where upstream would place a pod but that the model leaves out.
const UNMODELLED: &[&str] = &[
    "spec.initContainers",
    "spec.overhead",
    "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[].namespaceSelector",
    "spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[].podAffinityTerm.namespaceSelector",
    "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[].namespaceSelector",
    "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[].podAffinityTerm.namespaceSelector",
    "spec.schedulingGates",
    "spec.resourceClaims",
    "spec.topologySpreadConstraints[].matchLabelKeys",
];

/// The modelled part of a PodSpec, and the scheduling-relevant paths that were dropped
/// (`priorityClassName` is dropped silently: explain does not preempt, and the classes a
/// live cluster names are not in the snapshot).
fn prune_spec(spec: &Value) -> (Value, Vec<String>) {
    let mut dropped = Vec::new();
    let v = prune(spec, &POD_SPEC, "spec", &mut dropped);
    (v, dropped)
}

fn prune(v: &Value, shape: &Shape, path: &str, dropped: &mut Vec<String>) -> Value {
    match (shape, v) {
        (Shape::Any, _) => v.clone(),
        (Shape::Strings, _) => string_map(Some(v)),
        (Shape::Obj(keys), Value::Object(m)) => {
            let mut out = Map::new();
            for (k, val) in m {
                let child = format!("{path}.{k}");
                match keys.iter().find(|(name, _)| name == k) {
                    Some((_, s)) => {
                        out.insert(k.clone(), prune(val, s, &child, dropped));
                    }
                    None => {
                        let generic = generic_path(&child);
                        if UNMODELLED.contains(&generic.as_str()) && !dropped.contains(&generic) {
                            dropped.push(generic);
                        }
                    }
                }
            }
            Value::Object(out)
        }
        (Shape::List(item), Value::Array(items)) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, it)| prune(it, item, &format!("{path}[{i}]"), dropped))
                .collect(),
        ),
        (Shape::Resources, Value::Object(m)) => {
            let mut out = Map::new();
            for (k, val) in m {
                if is_scheduled_resource(k) {
                    out.insert(k.clone(), val.clone());
                } else {
                    let what = format!("{} `{k}`", path.rsplit('.').next().unwrap_or("requests"));
                    if !dropped.contains(&what) {
                        dropped.push(what);
                    }
                }
            }
            Value::Object(out)
        }
        // Wrong type: keep it so validation reports it against the field.
        _ => v.clone(),
    }
}

/// Resources the scheduler's NodeResourcesFit checks: cpu, memory, ephemeral storage,
/// huge pages and domain-prefixed extended resources.
fn is_scheduled_resource(name: &str) -> bool {
    matches!(name, "cpu" | "memory" | "ephemeral-storage")
        || name.starts_with("hugepages-")
        || (name.contains('/') && !name.starts_with("kubernetes.io/"))
}

/// `spec.containers[2].x` → `spec.containers[].x`.
fn generic_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODES: &str = "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata:
    name: a
    labels:
      kubernetes.io/hostname: a
      topology.kubernetes.io/zone: z1
  status:
    allocatable: {cpu: 3920m, memory: 15Gi, pods: \"110\", ephemeral-storage: 100Gi}
- apiVersion: v1
  kind: Node
  metadata:
    name: b
  spec:
    unschedulable: true
    taints: [{key: dedicated, value: gpu, effect: NoSchedule}]
  status:
    allocatable: {cpu: \"4\", memory: 16Gi, pods: \"58\"}
- apiVersion: v1
  kind: Pod
  metadata: {name: web-1, namespace: shop, labels: {app: web}}
  spec:
    nodeName: a
    containers:
    - name: c
      resources: {requests: {cpu: 500m, memory: 1Gi, ephemeral-storage: 1Gi}}
  status: {phase: Running}
- apiVersion: v1
  kind: Pod
  metadata: {name: done, namespace: shop}
  spec: {nodeName: a, containers: [{name: c, resources: {requests: {cpu: '3'}}}]}
  status: {phase: Succeeded}
";

    const POD: &str = "\
apiVersion: v1
kind: Pod
metadata: {name: new, labels: {app: web}}
spec:
  initContainers: [{name: init}]
  containers: [{name: c, image: nginx, resources: {requests: {cpu: 100m}}}]
";

    #[test]
    fn nodes_become_one_node_pools_with_their_own_names_and_allocatable() {
        let s = read_snapshot("c.yaml", NODES, "p.yaml", POD, None).expect("reads");
        let pools = &s.scenario.pools;
        assert_eq!(pools.len(), 2);
        assert_eq!(pools[0].node_names, ["a"]);
        assert_eq!(pools[0].cpu_milli, 3920);
        assert_eq!(pools[0].memory_bytes, 15 << 30);
        assert_eq!(pools[1].max_pods, 58);
        assert_eq!(s.cordoned, [1]);
        assert_eq!(pools[1].taints.len(), 1);
        assert!(
            pools[0].zones.is_empty(),
            "the zone comes from the node's own label"
        );
    }

    #[test]
    fn running_pods_are_bound_and_terminated_ones_skipped() {
        let s = read_snapshot("c.yaml", NODES, "p.yaml", POD, None).expect("reads");
        assert_eq!(s.bound, [(0, 0)]);
        assert_eq!(s.pod_names, ["shop/web-1", "default/new"]);
        assert_eq!(s.scenario.workloads[0].cpu_request_milli, 500);
        assert_eq!(s.scenario.workloads[1].cpu_request_milli, 100);
        let w = s.warnings.join("\n");
        assert!(w.contains("spec.initContainers"), "{w}");
        assert!(!w.contains("ephemeral-storage"), "modelled now: {w}");
        // Node a lists 100Gi of ephemeral storage; the running pod holds 1Gi of it.
        assert_eq!(s.scenario.extra_resources, ["ephemeral-storage"]);
        assert_eq!(s.scenario.pools[0].extra_allocatable, [(0, 100 << 30)]);
        assert_eq!(s.scenario.workloads[0].extra_requests, [(0, 1 << 30)]);
    }

    #[test]
    fn errors_name_the_object_and_its_field() {
        let bad = NODES.replace("cpu: 3920m", "cpu: lots");
        let e = read_snapshot("c.yaml", &bad, "p.yaml", POD, None).expect_err("bad cpu");
        let text = e.to_string();
        assert!(text.contains("c.yaml:7"), "{text}");
        assert!(text.contains("Node a: status.allocatable.cpu"), "{text}");
        let bad_pod = POD.replace("cpu: 100m", "cpu: -1");
        let e = read_snapshot("c.yaml", NODES, "p.yaml", &bad_pod, None).expect_err("bad pod");
        assert!(
            e.to_string()
                .contains("p.yaml: Pod default/new: spec.containers[0].resources.requests.cpu"),
            "{e}"
        );
    }

    #[test]
    fn a_pod_already_bound_is_explained_as_if_pending_and_not_counted_twice() {
        let cluster = format!(
            "{NODES}- kind: Pod\n  metadata: {{name: new}}\n  spec: {{nodeName: b, containers: [{{name: c}}]}}\n  status: {{phase: Running}}\n"
        );
        let pod = "kind: Pod\nmetadata: {name: new}\nspec: {nodeName: b, containers: [{name: c}]}\nstatus: {phase: Running}\n";
        let s = read_snapshot("c.yaml", &cluster, "p.yaml", pod, None).expect("reads");
        assert_eq!(
            s.bound,
            [(0, 0)],
            "the pod itself is not among the running ones"
        );
        assert!(
            s.scenario
                .workloads
                .last()
                .is_some_and(|w| w.node_name.is_none())
        );
        assert!(
            s.warnings.iter().any(|w| w.contains("already bound to b")),
            "{:?}",
            s.warnings
        );
    }

    #[test]
    fn a_deployment_contributes_its_pod_template() {
        let dep = "kind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n    metadata: {labels: {app: api}}\n    spec: {containers: [{name: c, resources: {requests: {memory: 2Gi}}}]}\n";
        let s = read_snapshot("c.yaml", NODES, "d.yaml", dep, None).expect("reads");
        let w = s.scenario.workloads.last().expect("incoming");
        assert_eq!(w.memory_request_bytes, 2 << 30);
        assert_eq!(s.pod_names.last().map(String::as_str), Some("default/api"));
    }
}
