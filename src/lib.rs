//! kubesim: a discrete-event simulator of a Kubernetes cluster and a capacity planner.
//!
//! A run goes scenario YAML → [`scenario::Scenario`] → [`cluster::World`] driven by
//! [`engine::Engine`] and the controllers in [`control`] → [`metrics::Recorder`] →
//! report files ([`report`]). See ARCHITECTURE.md for the map and the invariants.

pub mod cluster;
pub mod control;
pub mod cost;
pub mod engine;
pub mod explain;
pub mod invariants;
pub mod metrics;
pub mod plan;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod traffic;

pub use scenario::{InputError, InputErrors, Scenario};
pub use sim::{RunOptions, RunOutput, SimError, run};
