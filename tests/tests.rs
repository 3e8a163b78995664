//! kubesim's integration tests: one test binary (each extra binary re-links the crate,
//! which costs minutes on CI's two cores) driving the real `kubesim` executable.

mod util;

mod autoscaling;
mod bad_input;
mod behaviour;
mod capacity;
mod cli;
mod compare;
mod deploy;
mod determinism;
mod explain;
mod golden;
mod karpenter;
mod lifecycle;
mod plan;
mod reports;
mod rollout;
mod scenarios;
mod scheduling;
mod tidy;
mod traffic;
