//! Matching-pod counts per node and per topology domain, kept current on every bind and
//! delete, so PodTopologySpread reads counts instead of walking every pod of every node.
//!
//! A *group* is one pod label selector used by some spread constraint; each workload knows
//! which groups its pods match. A *key* is a topology key in use (zone, hostname, or any
//! node label); each node maps to one domain of each key, or none when it lacks the label.

use super::labels::{LabelId, LabelSet};
use super::world::NodeId;
use crate::scenario::PodSelector;
use std::collections::BTreeMap;

/// One topology key's node → domain map.
#[derive(Debug, Clone, Default)]
struct Key {
    label: LabelId,
    /// Domain of each node (None: the node lacks the label).
    node_domain: Vec<Option<u32>>,
    /// Label value → domain id.
    domains: BTreeMap<LabelId, u32>,
    /// Nodes lacking the label.
    missing: u32,
}

/// The index.
#[derive(Debug, Clone, Default)]
pub struct SpreadIndex {
    selectors: Vec<PodSelector>,
    /// Groups each workload's pods match.
    workload_groups: Vec<Vec<u32>>,
    keys: Vec<Key>,
    /// `node_counts[group][node]`.
    node_counts: Vec<Vec<u32>>,
    /// `domain_counts[group][key][domain]`.
    domain_counts: Vec<Vec<Vec<u32>>>,
    nodes: usize,
}

impl SpreadIndex {
    /// An index for `workloads` (their labels) over `nodes` existing nodes.
    pub fn new(workload_labels: &[Vec<(String, String)>], nodes: usize) -> SpreadIndex {
        SpreadIndex {
            workload_groups: vec![Vec::new(); workload_labels.len()],
            nodes,
            ..Default::default()
        }
    }

    /// The group of a selector already registered.
    pub fn known_group(&self, selector: &PodSelector) -> Option<u32> {
        self.selectors
            .iter()
            .position(|s| s == selector)
            .map(|g| g as u32)
    }

    /// The group of a selector, registered on first use. `bound` lists (node, workload) of
    /// every pod already bound, so counts start right even mid-run.
    pub fn group(
        &mut self,
        selector: &PodSelector,
        workload_labels: &[&[(String, String)]],
        bound: &[(NodeId, u32)],
    ) -> u32 {
        if let Some(g) = self.known_group(selector) {
            return g;
        }
        let g = self.selectors.len() as u32;
        self.selectors.push(selector.clone());
        for (w, labels) in workload_labels.iter().enumerate() {
            if selector.matches(labels) {
                self.workload_groups[w].push(g);
            }
        }
        self.node_counts.push(vec![0; self.nodes]);
        self.domain_counts
            .push(self.keys.iter().map(|k| vec![0; k.domains.len()]).collect());
        for &(node, w) in bound {
            if self.workload_groups[w as usize].contains(&g) {
                self.add_one(g as usize, node, 1);
            }
        }
        g
    }

    /// The slot of a topology key, registered on first use.
    pub fn key(
        &mut self,
        label: LabelId,
        node_labels: &[&LabelSet],
        bound: &[(NodeId, u32)],
    ) -> u32 {
        if let Some(k) = self.keys.iter().position(|k| k.label == label) {
            return k as u32;
        }
        let mut key = Key {
            label,
            ..Default::default()
        };
        for labels in node_labels {
            let d = Self::domain_for(&mut key, labels);
            key.node_domain.push(d);
        }
        let k = self.keys.len();
        let n_domains = key.domains.len();
        self.keys.push(key);
        for g in 0..self.selectors.len() {
            self.domain_counts[g].push(vec![0; n_domains]);
            for &(node, w) in bound {
                if self.workload_groups[w as usize].contains(&(g as u32))
                    && let Some(d) = self.keys[k].node_domain[node.0 as usize]
                {
                    self.domain_counts[g][k][d as usize] += 1;
                }
            }
        }
        k as u32
    }

    fn domain_for(key: &mut Key, labels: &LabelSet) -> Option<u32> {
        match labels.get(key.label) {
            Some(v) => {
                let next = key.domains.len() as u32;
                Some(*key.domains.entry(v).or_insert(next))
            }
            None => {
                key.missing += 1;
                None
            }
        }
    }

    /// A node joined: give it a domain per key (new domains start at 0).
    pub fn node_added(&mut self, labels: &LabelSet) {
        self.nodes += 1;
        for (k, key) in self.keys.iter_mut().enumerate() {
            let before = key.domains.len();
            let d = Self::domain_for(key, labels);
            key.node_domain.push(d);
            if key.domains.len() > before {
                for g in &mut self.domain_counts {
                    g[k].push(0);
                }
            }
        }
        for g in &mut self.node_counts {
            g.push(0);
        }
    }

    /// A pod of workload `w` was bound to (`delta` 1) or removed from (−1) `node`.
    pub fn pod_changed(&mut self, w: usize, node: NodeId, delta: i32) {
        for i in 0..self.workload_groups[w].len() {
            let g = self.workload_groups[w][i] as usize;
            self.add_one(g, node, delta);
        }
    }

    fn add_one(&mut self, g: usize, node: NodeId, delta: i32) {
        let c = &mut self.node_counts[g][node.0 as usize];
        *c = c.saturating_add_signed(delta);
        for (k, key) in self.keys.iter().enumerate() {
            if let Some(d) = key.node_domain[node.0 as usize] {
                let c = &mut self.domain_counts[g][k][d as usize];
                *c = c.saturating_add_signed(delta);
            }
        }
    }

    /// True when the workload's pods match the group's selector (selfMatch).
    pub fn workload_matches(&self, w: usize, g: u32) -> bool {
        self.workload_groups[w].contains(&g)
    }

    /// Matching pods on a node.
    pub fn node_count(&self, g: u32, node: NodeId) -> u32 {
        self.node_counts[g as usize][node.0 as usize]
    }

    /// Every node's domain for a key, indexed by node id (for tight loops).
    pub fn node_domains(&self, k: u32) -> &[Option<u32>] {
        &self.keys[k as usize].node_domain
    }

    /// Every node's matching-pod count for a group, indexed by node id.
    pub fn node_counts(&self, g: u32) -> &[u32] {
        &self.node_counts[g as usize]
    }

    /// A node's domain for a key.
    pub fn domain(&self, k: u32, node: NodeId) -> Option<u32> {
        self.keys[k as usize].node_domain[node.0 as usize]
    }

    /// Matching pods in a domain, over all nodes.
    pub fn domain_count(&self, g: u32, k: u32, d: u32) -> u32 {
        self.domain_counts[g as usize][k as usize][d as usize]
    }

    /// Matching-pod counts of every domain of a key.
    pub fn domain_counts(&self, g: u32, k: u32) -> &[u32] {
        &self.domain_counts[g as usize][k as usize]
    }

    /// Number of domains of a key.
    pub fn domains(&self, k: u32) -> usize {
        self.keys[k as usize].domains.len()
    }

    /// True when every node has the key's label.
    pub fn complete(&self, k: u32) -> bool {
        self.keys[k as usize].missing == 0
    }
}
