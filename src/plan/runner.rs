//! Many runs on every core: each run is single-threaded and independent, rayon spreads
//! them over a pool of the requested size, and results come back in job order, so the
//! numbers (and every file made from them) are the same for any thread count.

use crate::Scenario;
use crate::report::summary::{Summary, summarize};
use crate::sim::{RunOptions, SimError, run};
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One run to make: a scenario (shared by every seed of its variant) and a seed.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    /// The scenario, overrides applied.
    pub scenario: &'a Scenario,
    /// The root seed of this run.
    pub seed: u64,
}

/// Why a batch of runs failed.
#[derive(Debug, thiserror::Error)]
#[error("run {job} (seed {seed}) failed: {source}")]
pub struct RunFailed {
    /// Index of the failed job.
    pub job: usize,
    /// Its seed.
    pub seed: u64,
    /// What went wrong.
    pub source: SimError,
}

/// Runs `jobs` on `threads` threads (0: one per core) and returns their summaries in job
/// order. `done` is called with the number of finished runs after each one.
pub fn run_jobs(
    jobs: &[Job<'_>],
    threads: usize,
    done: &(dyn Fn(usize) + Sync),
) -> Result<Vec<Summary>, RunFailed> {
    let finished = AtomicUsize::new(0);
    let one = |(i, job): (usize, &Job<'_>)| {
        let mut scenario = job.scenario.clone();
        scenario.seed = job.seed;
        let out = run(&scenario, RunOptions::default()).map_err(|source| RunFailed {
            job: i,
            seed: job.seed,
            source,
        })?;
        let summary = summarize(&out);
        drop(out);
        done(finished.fetch_add(1, Ordering::SeqCst) + 1);
        Ok(summary)
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
    match pool {
        Ok(pool) => pool.install(|| jobs.par_iter().enumerate().map(one).collect()),
        // No pool (threads could not start): run here, one after the other.
        Err(_) => jobs.iter().enumerate().map(one).collect(),
    }
}
