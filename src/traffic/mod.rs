//! Traffic: what users send (arrival patterns, trace replay) and what the pods make of it
//! (the queueing model that turns load and capacity into served, failed and latency).

pub mod bursts;
pub mod exact;
pub mod fluid;
pub mod latency_book;
pub mod latency_tables;
pub mod pattern;
pub mod plane;
pub mod queueing;
pub mod rate_ahead;
pub mod trace;

pub use pattern::{Component, SpikeShape, TrafficModel};
pub use trace::TraceSeries;
