//! What a run measured: the recorder that controllers write into, and the latency math.
//!
//! The recorder stores numbers and ids only; [`crate::report`] turns them into files.

pub mod events;
pub mod histogram;
pub mod recorder;
pub mod row_store;

pub use recorder::{NodeRow, Recorder, TimeseriesRow, WorkloadTotals};
pub use row_store::RowStore;
