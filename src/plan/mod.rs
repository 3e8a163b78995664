//! Many runs: policy comparison on common random numbers (`compare`) and the capacity
//! planner (`planner`, read from `planfile`, written by `plan_report`). The only module that uses threads: rayon spreads independent runs over the
//! cores, each run stays single-threaded, and results are gathered in a fixed order so
//! every output is the same for any thread count.

pub mod compare;
pub mod plan_report;
pub mod planfile;
pub mod planner;
pub mod runner;
pub mod shard;
pub mod stats;
