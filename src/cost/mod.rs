//! Cost: what a run's cluster costs and who it is spent on.
//!
//! [`billing`] turns node time into dollars with the provider's rules (per-second billing
//! after a one-minute minimum, spot and on-demand prices, the managed control plane's fee);
//! [`allocation`] splits the node bill over workloads by their requests, the way OpenCost
//! and Kubecost allocate, leaving idle capacity and unused requests visible.

pub mod allocation;
pub mod billing;

pub use billing::{PoolCost, control_plane_cost, pool_costs};
