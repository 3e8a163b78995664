//! Interned labels and Kubernetes label/node selectors.
//!
//! Label keys and values are interned to `u32` ids when the World is built, so the
//! scheduler's per-node loop compares integers, never strings. Selector semantics follow
//! `k8s.io/component-helpers/scheduling/corev1/nodeaffinity` (`NodeSelectorRequirement`:
//! In, NotIn, Exists, DoesNotExist, Gt, Lt; terms ORed, requirements ANDed).

use std::collections::BTreeMap;

/// An interned label key or value.
pub type LabelId = u32;

/// String ↔ id table for label keys and values (one shared space).
#[derive(Debug, Clone, Default)]
pub struct Interner {
    ids: BTreeMap<String, LabelId>,
    strings: Vec<String>,
    /// `Some(n)` when the string is an integer, for the Gt/Lt operators.
    integers: Vec<Option<i64>>,
}

impl Interner {
    /// The id of `s`, adding it when new.
    pub fn intern(&mut self, s: &str) -> LabelId {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.strings.len() as LabelId;
        self.ids.insert(s.to_string(), id);
        self.strings.push(s.to_string());
        self.integers.push(s.parse().ok());
        id
    }

    /// The id of `s` if it was ever interned (a selector on an unknown value matches nothing).
    pub fn get(&self, s: &str) -> Option<LabelId> {
        self.ids.get(s).copied()
    }

    /// The text of an id.
    pub fn resolve(&self, id: LabelId) -> &str {
        &self.strings[id as usize]
    }

    /// The integer value of an id, when it is one.
    pub fn integer(&self, id: LabelId) -> Option<i64> {
        self.integers[id as usize]
    }
}

/// A node's labels, sorted by key for binary search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSet(Vec<(LabelId, LabelId)>);

impl LabelSet {
    /// Builds a set from pairs; a later duplicate key wins.
    pub fn new(mut pairs: Vec<(LabelId, LabelId)>) -> LabelSet {
        pairs.reverse();
        pairs.sort_by_key(|p| p.0); // stable: the last-given value of a key comes first
        pairs.dedup_by_key(|p| p.0);
        LabelSet(pairs)
    }

    /// The value of `key`.
    pub fn get(&self, key: LabelId) -> Option<LabelId> {
        self.0
            .binary_search_by_key(&key, |p| p.0)
            .ok()
            .map(|i| self.0[i].1)
    }

    /// All pairs, sorted by key.
    pub fn pairs(&self) -> &[(LabelId, LabelId)] {
        &self.0
    }
}

/// Node-selector operators (`v1.NodeSelectorOperator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operator {
    /// The label's value is one of the values.
    In,
    /// The label is absent or its value is none of the values.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
    /// The label's integer value is greater than the single value.
    Gt,
    /// The label's integer value is less than the single value.
    Lt,
}

/// One compiled requirement. Values that were never interned cannot match any node and
/// are dropped at compile time (an `In` with no known values matches nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Label key; None when the key is on no node at all.
    pub key: Option<LabelId>,
    /// Operator.
    pub op: Operator,
    /// Known values (In/NotIn).
    pub values: Vec<LabelId>,
    /// The bound for Gt/Lt.
    pub bound: i64,
}

impl Requirement {
    /// Compiles a requirement against the interner (values must already be parsed).
    pub fn compile(interner: &Interner, key: &str, op: Operator, values: &[String]) -> Requirement {
        Requirement {
            key: interner.get(key),
            op,
            values: values.iter().filter_map(|v| interner.get(v)).collect(),
            bound: values.first().and_then(|v| v.parse().ok()).unwrap_or(0),
        }
    }

    /// `NodeSelectorRequirement` semantics against a node's labels.
    pub fn matches(&self, labels: &LabelSet, interner: &Interner) -> bool {
        let value = self.key.and_then(|k| labels.get(k));
        match self.op {
            Operator::In => value.is_some_and(|v| self.values.contains(&v)),
            Operator::NotIn => value.is_none_or(|v| !self.values.contains(&v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::Gt => value
                .and_then(|v| interner.integer(v))
                .is_some_and(|n| n > self.bound),
            Operator::Lt => value
                .and_then(|v| interner.integer(v))
                .is_some_and(|n| n < self.bound),
        }
    }
}

/// A `NodeSelectorTerm`: requirements ANDed. An empty term matches nothing (upstream).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Term(pub Vec<Requirement>);

impl Term {
    /// True when every requirement holds (and there is at least one).
    pub fn matches(&self, labels: &LabelSet, interner: &Interner) -> bool {
        !self.0.is_empty() && self.0.iter().all(|r| r.matches(labels, interner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Interner, LabelSet) {
        let mut i = Interner::default();
        let pairs = vec![
            (i.intern("zone"), i.intern("us-east-1a")),
            (i.intern("gpus"), i.intern("4")),
            (i.intern("tier"), i.intern("gold")),
        ];
        (i, LabelSet::new(pairs))
    }

    fn req(i: &Interner, key: &str, op: Operator, values: &[&str]) -> Requirement {
        let values: Vec<String> = values.iter().map(|s| s.to_string()).collect();
        Requirement::compile(i, key, op, &values)
    }

    #[test]
    fn operators_follow_node_selector_requirement_semantics() {
        let (i, labels) = setup();
        let m = |key, op, values: &[&str]| req(&i, key, op, values).matches(&labels, &i);
        assert!(m("zone", Operator::In, &["us-east-1a", "us-east-1b"]));
        assert!(!m("zone", Operator::In, &["us-east-1b"]));
        assert!(!m("zone", Operator::In, &["never-seen"]));
        assert!(m("zone", Operator::NotIn, &["us-east-1b"]));
        assert!(m("missing", Operator::NotIn, &["x"]));
        assert!(m("tier", Operator::Exists, &[]));
        assert!(m("missing", Operator::DoesNotExist, &[]));
        assert!(m("gpus", Operator::Gt, &["3"]));
        assert!(!m("gpus", Operator::Gt, &["4"]));
        assert!(m("gpus", Operator::Lt, &["5"]));
        assert!(!m("tier", Operator::Gt, &["1"])); // not an integer
        assert!(!m("missing", Operator::Lt, &["1"]));
    }

    #[test]
    fn terms_and_requirements_and_an_empty_term_matches_nothing() {
        let (i, labels) = setup();
        let t = Term(vec![
            req(&i, "zone", Operator::Exists, &[]),
            req(&i, "tier", Operator::In, &["gold"]),
        ]);
        assert!(t.matches(&labels, &i));
        let t = Term(vec![
            req(&i, "zone", Operator::Exists, &[]),
            req(&i, "tier", Operator::In, &["silver"]),
        ]);
        assert!(!t.matches(&labels, &i));
        assert!(!Term(vec![]).matches(&labels, &i));
    }

    #[test]
    fn later_duplicate_keys_win() {
        let mut i = Interner::default();
        let (k, a, b) = (i.intern("k"), i.intern("a"), i.intern("b"));
        let set = LabelSet::new(vec![(k, a), (k, b)]);
        assert_eq!(set.get(k), Some(b));
        assert_eq!(set.pairs().len(), 1);
    }
}
