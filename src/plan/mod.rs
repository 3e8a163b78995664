//! Many runs: policy comparison on common random numbers (and, next, the capacity
//! planner). The only module that uses threads: rayon spreads independent runs over the
//! cores, each run stays single-threaded, and results are gathered in a fixed order so
//! every output is the same for any thread count.

pub mod compare;
pub mod runner;
pub mod stats;
