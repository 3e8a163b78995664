//! The simulated control plane: one module per controller.
//!
//! **Invariant:** controllers read simulated time only from the engine and randomness only
//! from their own named stream; nothing here reads the wall clock.

pub mod autoscaler;
pub mod deployment;
pub mod fresh_nodes;
pub mod hpa;
pub mod karpenter;
pub mod kubelet;
pub mod nodelifecycle;
pub mod probes;
pub mod replicaset;

pub mod scheduler;
pub mod vpa;
