//! Reading scenario files: YAML text → [`ScenarioFile`] → validated [`Scenario`].
//!
//! Parsing goes through serde-saphyr (which records line and column) wrapped in
//! serde_path_to_error (which records the field path), so a type error reads
//! `scenario.yaml:12:17: workloads[0].replicas: invalid type ...`. `--set` overrides are
//! applied to a generic tree after the file itself parsed cleanly, so errors in the file
//! keep their line numbers and errors caused by an override name the override.

use super::error::{InputError, InputErrors};
use super::file::ScenarioFile;
use super::model::Scenario;
use super::suggest::{did_you_mean, improve_message};
use super::validate::validate;
use crate::cluster::catalog::Catalog;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::Path;

/// The embedded default scenario, the same file as `scenarios/quickstart.yaml`.
pub const QUICKSTART_YAML: &str = include_str!("../../scenarios/quickstart.yaml");
/// How the embedded scenario is named in messages.
pub const QUICKSTART_SOURCE: &str = "<embedded scenarios/quickstart.yaml>";

/// One `--set KEY=VALUE` override.
#[derive(Debug, Clone, PartialEq)]
pub struct SetOverride {
    /// The argument as given, for messages.
    pub text: String,
    /// Dotted path segments.
    pub path: Vec<String>,
    /// Value parsed as a YAML scalar or flow collection.
    pub value: Value,
}

impl SetOverride {
    /// Parses `KEY=VALUE`; the value is read as YAML so `6`, `true`, `500m` and `[a, b]`
    /// mean what they would in the file.
    pub fn parse(text: &str) -> Result<SetOverride, InputError> {
        let bad = |msg: &str| InputError::at(&format!("--set {text}"), None, "", msg);
        let (key, value) = text
            .split_once('=')
            .ok_or_else(|| bad("expected KEY=VALUE, e.g. workloads.web.replicas=6"))?;
        let path: Vec<String> = key.split('.').map(str::to_string).collect();
        if key.is_empty() || path.iter().any(String::is_empty) {
            return Err(bad(
                "the key must be a dotted path such as cluster.pools.general.count",
            ));
        }
        let value = if value.is_empty() {
            Value::String(String::new())
        } else {
            serde_saphyr::from_str::<Value>(value).map_err(|e| {
                bad(&format!(
                    "the value is not valid YAML: {}",
                    plain_message(&e)
                ))
            })?
        };
        Ok(SetOverride {
            text: text.to_string(),
            path,
            value,
        })
    }
}

/// Loads, overrides and validates a scenario file from disk.
pub fn load_path(path: &Path, sets: &[SetOverride]) -> Result<Scenario, InputErrors> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::file(&display, format!("cannot read the scenario: {e}")))?;
    let base = path.parent().unwrap_or(Path::new("."));
    load_str(&display, &text, base, sets)
}

/// Loads the embedded quickstart; its trace paths (if any) resolve from the working directory.
pub fn load_quickstart(sets: &[SetOverride]) -> Result<Scenario, InputErrors> {
    load_str(
        QUICKSTART_SOURCE,
        QUICKSTART_YAML,
        Path::new("scenarios"),
        sets,
    )
}

/// Loads scenario `text` named `file` for messages.
pub fn load_str(
    file: &str,
    text: &str,
    base_dir: &Path,
    sets: &[SetOverride],
) -> Result<Scenario, InputErrors> {
    if text.trim().is_empty() {
        return Err(InputError::file(
            file,
            "the file is empty (expected a scenario: name, duration, cluster, workloads)",
        )
        .into());
    }
    let with_source = |errors: InputErrors| {
        InputErrors(
            errors
                .0
                .into_iter()
                .map(|e| {
                    if e.file == file {
                        e.with_source_from(text)
                    } else {
                        e
                    }
                })
                .collect(),
        )
    };
    let raw: ScenarioFile = deserialize_located(file, text).map_err(|e| with_source(e.into()))?;
    let raw = if sets.is_empty() {
        raw
    } else {
        apply_sets(file, text, sets)?
    };
    let mut scenario = validate(raw, file, base_dir, &Catalog::builtin()).map_err(with_source)?;
    scenario.source_text = text.to_string();
    scenario.overrides = sets.iter().map(|s| s.text.clone()).collect();
    Ok(scenario)
}

/// Parser options: `yes`/`on` are strings, not booleans (YAML 1.2 behaviour).
pub(super) fn options() -> serde_saphyr::Options {
    serde_saphyr::options! { strict_booleans: true }
}

/// Deserializes YAML text into `T`, turning any failure into an [`InputError`] with the
/// location, the field path and a "did you mean" where it helps.
pub fn deserialize_located<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, InputError> {
    let mut path = String::new();
    let result = serde_saphyr::with_deserializer_from_str_with_options(text, options(), |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            path = e.path().to_string();
            e.into_inner()
        })
    });
    result.map_err(|e| {
        InputError::at(
            file,
            e.location(),
            &clean_path(&path),
            improve_message(&plain_message(&e)),
        )
    })
}

/// A serde_path_to_error path without the `.value` segments that `Spanned` wrappers add
/// (`cluster.pools.value[0].count.value` → `cluster.pools[0].count`). A real field named
/// `value` (a taint's) follows a list index and is kept.
pub(super) fn clean_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(i) = rest.find(".value") {
        let after = &rest[i + 6..];
        let ends_segment = after.is_empty() || after.starts_with(['.', '[']);
        let spanned = ends_segment && !rest[..i].ends_with(']') && !(out.is_empty() && i == 0);
        out.push_str(&rest[..i]);
        if !spanned {
            out.push_str(".value");
        }
        rest = after;
    }
    out.push_str(rest);
    if out == "." { String::new() } else { out }
}

/// The parser's message without its snippet and location suffix (we print those ourselves).
pub(super) fn plain_message(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    let first = text.lines().next().unwrap_or("").trim();
    match first.rfind(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first.to_string(),
    }
}

fn apply_sets(file: &str, text: &str, sets: &[SetOverride]) -> Result<ScenarioFile, InputErrors> {
    let mut tree: Value = serde_saphyr::from_str_with_options(text, options())
        .map_err(|e| InputError::file(file, plain_message(&e)))?;
    for set in sets {
        apply_one(&mut tree, set)?;
    }
    let label = format!("{file} (after --set)");
    serde_path_to_error::deserialize::<_, ScenarioFile>(tree).map_err(|e| {
        let field = clean_path(&e.path().to_string());
        InputErrors(vec![InputError::at(
            &label,
            None,
            &field,
            improve_message(&e.into_inner().to_string()),
        )])
    })
}

fn apply_one(tree: &mut Value, set: &SetOverride) -> Result<(), InputError> {
    let err = |msg: String| {
        InputError::at(
            &format!("--set {}", set.text),
            None,
            &set.path.join("."),
            msg,
        )
    };
    let mut node = tree;
    let mut walked: Vec<&str> = Vec::new();
    for (i, seg) in set.path.iter().enumerate() {
        let last = i + 1 == set.path.len();
        node = match node {
            Value::Object(map) => {
                if last {
                    map.insert(seg.clone(), set.value.clone());
                    return Ok(());
                }
                map.entry(seg.clone())
                    .or_insert_with(|| Value::Object(Default::default()))
            }
            Value::Array(items) => {
                let names: Vec<String> = items
                    .iter()
                    .filter_map(|it| it.get("name").and_then(Value::as_str).map(str::to_string))
                    .collect();
                let pos = items
                    .iter()
                    .position(|it| it.get("name").and_then(Value::as_str) == Some(seg.as_str()))
                    .or_else(|| seg.parse::<usize>().ok().filter(|&n| n < items.len()));
                let Some(pos) = pos else {
                    let hint = did_you_mean(seg, names.iter().map(String::as_str));
                    return Err(err(format!(
                        "`{}` has no item named `{seg}`{hint} (items: {})",
                        walked.join("."),
                        names.join(", ")
                    )));
                };
                if last {
                    items[pos] = set.value.clone();
                    return Ok(());
                }
                &mut items[pos]
            }
            _ => {
                return Err(err(format!(
                    "`{}` is a single value, so `{seg}` cannot be set inside it",
                    walked.join(".")
                )));
            }
        };
        walked.push(seg);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spanned_value_segments_are_dropped_but_real_value_fields_stay() {
        assert_eq!(
            clean_path("cluster.pools.value[0].count.value"),
            "cluster.pools[0].count"
        );
        assert_eq!(
            clean_path("cluster.pools.value[0].taints[1].value"),
            "cluster.pools[0].taints[1].value"
        );
        assert_eq!(
            clean_path("workloads.value[0].values"),
            "workloads[0].values"
        );
        assert_eq!(clean_path("."), "");
    }

    #[test]
    fn set_values_are_read_as_yaml_scalars() {
        let s = SetOverride::parse("workloads.web.replicas=6").expect("valid");
        assert_eq!(s.path, ["workloads", "web", "replicas"]);
        assert_eq!(s.value, Value::from(6));
        assert_eq!(
            SetOverride::parse("a.b=500m").expect("valid").value,
            Value::from("500m")
        );
        assert!(SetOverride::parse("novalue").is_err());
        assert!(SetOverride::parse("a..b=1").is_err());
    }

    #[test]
    fn set_addresses_list_items_by_name() {
        let mut tree: Value =
            serde_json::json!({"pools": [{"name": "a", "count": 1}, {"name": "b", "count": 2}]});
        apply_one(
            &mut tree,
            &SetOverride::parse("pools.b.count=7").expect("valid"),
        )
        .expect("applies");
        assert_eq!(tree["pools"][1]["count"], Value::from(7));
        let e = apply_one(
            &mut tree,
            &SetOverride::parse("pools.c.count=7").expect("valid"),
        )
        .expect_err("no item");
        assert!(e.message.contains("no item named `c`"), "{e}");
    }
}

#[cfg(test)]
mod located_tests {
    use super::*;

    const MINIMAL: &str = "name: t\nduration: 1h\ncluster:\n  pools: []\nworkloads: []\n";

    #[test]
    fn list_locations_survive_both_parse_routes() {
        let errs = load_str("t.yaml", MINIMAL, Path::new("."), &[]).expect_err("empty pools");
        let pools = errs
            .0
            .iter()
            .find(|e| e.field.as_deref() == Some("cluster.pools"))
            .expect("pools error");
        assert_eq!((pools.line, pools.column), (Some(4), Some(10)));
        let set = SetOverride::parse("name=u").expect("valid");
        let errs = load_str("t.yaml", MINIMAL, Path::new("."), &[set]).expect_err("still empty");
        assert!(
            errs.0
                .iter()
                .any(|e| e.field.as_deref() == Some("cluster.pools") && e.line.is_none())
        );
    }

    #[test]
    fn type_errors_carry_line_column_and_path() {
        let text = "name: t\nduration: 1h\ncluster:\n  pools:\n    - name: a\n      count: lots\n";
        let e = deserialize_located::<ScenarioFile>("t.yaml", text).expect_err("bad type");
        assert_eq!(e.line, Some(6));
        assert_eq!(e.field.as_deref(), Some("cluster.pools[0].count"));
    }
}
