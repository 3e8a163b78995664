//! Benchmarks: the event queue alone, and one full quickstart run.
fn main() {}
