//! Cluster state: nodes, pods and workloads in index-based arenas, plus the instance catalog.
//!
//! **Invariant:** objects refer to each other by integer ids (`NodeId`, `PodId`,
//! `WorkloadId`), never by pointers or names; names are rendered only when reports are
//! written. Ids are never reused within a run, so a stale id in a queued event can be
//! detected by looking at the object's state.

pub mod allocatable;
pub mod catalog;
pub mod endpoints;
pub mod labels;
pub mod topology;
pub mod usage;
pub mod world;

pub use world::{Node, NodeId, Pod, PodId, PodState, PoolId, WorkloadId, WorkloadState, World};
