//! Scenario input: the YAML format users write, its parsing, validation and defaults.
//!
//! Two levels: [`file`] mirrors the YAML (with positions), [`model`] is the typed,
//! validated scenario in simulation units. [`load`] connects them and applies `--set`.

pub mod autoscaling;
pub mod capacity;
pub mod duration;
pub mod error;
pub mod faults;
pub mod file;
pub mod k8s;
pub mod karpenter;
pub mod load;
pub mod model;
pub mod quantity;
pub mod rollout;
mod scheduling;
pub mod suggest;
mod traffic;
pub mod validate;

pub use capacity::HEADROOM_WORKLOAD;
pub use error::{InputError, InputErrors};
pub use load::{
    QUICKSTART_SOURCE, QUICKSTART_YAML, SetOverride, load_path, load_quickstart, load_str,
};
pub use model::*;
pub use traffic::call_order;
