//! `kubesim plan`: the cheapest configuration that meets the SLO.
//!
//! The search space is the product of the plan's `values` keys; a `min`/`max` key (a count
//! of nodes or replicas, where more capacity means more availability) is bisected for its
//! smallest passing value within each combination, instead of trying every count. A
//! candidate passes when at least `seedsMeeting` of its seeds meet the SLO; seeds run in
//! batches (a quarter first, then the rest), and a candidate stops as soon as its verdict
//! cannot change — already enough seeds met it, or too few are left to reach the share —
//! so clearly failing or clearly passing candidates spend few seeds (sequential testing
//! that gives exactly the verdict all seeds would).
//!
//! Runs are cached in `runs.csv` in the output folder: a plan killed half-way resumes
//! without recomputing them (the cache is used only when the plan, the scenario and the
//! kubesim version are the same). Every candidate runs the same seeds (common random
//! numbers), so candidates compare on equal terms.

use super::compare::METRICS;
use super::planfile::{Dimension, PlanSpec};
use super::runner::{Job, RunFailed, run_jobs};
use super::stats::{Interval, interval};
use crate::Scenario;
use crate::report::summary::Summary;
use std::collections::BTreeMap;

/// A run's metrics, in [`METRICS`] order.
pub type RunValues = Vec<Option<f64>>;

fn metric(name: &str) -> usize {
    METRICS.iter().position(|m| m.name == name).unwrap_or(0)
}

/// The objectives a seed must meet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objectives {
    /// Least availability.
    pub availability: Option<f64>,
    /// Highest p99, ms.
    pub latency_p99_ms: Option<f64>,
    /// Share of seeds that must meet both.
    pub seeds_meeting: f64,
    /// Judge the means instead: the 95% lower bound of availability and the upper bound of
    /// p99 must meet the objectives (every seed runs; no early stop).
    pub by_bound: bool,
}

impl Objectives {
    /// Whether one run met the SLO.
    pub fn met(&self, v: &RunValues) -> bool {
        let avail_ok = self
            .availability
            .is_none_or(|a| v[metric("availability")].is_some_and(|x| x >= a));
        let p99_ok = self
            .latency_p99_ms
            .is_none_or(|l| v[metric("latency_p99_ms")].is_none_or(|p| p <= l));
        avail_ok && p99_ok
    }

    /// Whether a candidate's runs pass when judged by the bounds of their means.
    pub fn bounds_met(&self, runs: &[RunValues]) -> bool {
        let stat = |name: &str| {
            let m = metric(name);
            interval(&runs.iter().filter_map(|r| r[m]).collect::<Vec<_>>())
        };
        let avail_ok = self
            .availability
            .is_none_or(|a| stat("availability").low() >= a);
        let p99_ok = self.latency_p99_ms.is_none_or(|l| {
            let p = stat("latency_p99_ms");
            p.n == 0 || p.high() <= l
        });
        avail_ok && p99_ok
    }

    /// Seeds out of `total` that must meet it.
    pub fn needed(&self, total: usize) -> usize {
        ((self.seeds_meeting * total as f64) - 1e-9).ceil().max(1.0) as usize
    }
}

/// A candidate's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Met the SLO in enough seeds.
    Meets,
    /// Did not.
    Fails,
}

/// One evaluated candidate.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Its value for each searched key, in plan order.
    pub values: Vec<String>,
    /// Metrics of the seeds it ran, in seed order.
    pub runs: Vec<RunValues>,
    /// Seeds that met the SLO.
    pub met: usize,
    /// The verdict.
    pub verdict: Verdict,
}

impl Evaluation {
    /// Mean and interval of a metric over its seeds.
    pub fn stat(&self, name: &str) -> Interval {
        let m = metric(name);
        let xs: Vec<f64> = self.runs.iter().filter_map(|r| r[m]).collect();
        interval(&xs)
    }
}

/// The cache key of a candidate: its `KEY=VALUE` settings joined.
pub fn candidate_key(search: &[Dimension], values: &[String]) -> String {
    search
        .iter()
        .zip(values)
        .map(|(d, v)| format!("{}={v}", d.key()))
        .collect::<Vec<_>>()
        .join(",")
}

/// Finished runs by (candidate key, seed).
pub type Cache = BTreeMap<(String, u64), RunValues>;

/// Loads a candidate's scenario from its settings.
pub type Loader<'a> = dyn Fn(&[String]) -> Result<Scenario, crate::InputErrors> + 'a;

/// Why a plan stopped.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A candidate's settings do not make a valid scenario.
    #[error("candidate {candidate}: {errors}")]
    Input {
        /// Its settings.
        candidate: String,
        /// What the scenario loader said.
        errors: crate::InputErrors,
    },
    /// A run failed.
    #[error(transparent)]
    Run(#[from] RunFailed),
    /// Merging: a run no shard made.
    #[error("candidate {candidate}, seed {seed}: no shard ran it (is a shard's folder missing?)")]
    Missing {
        /// Its settings.
        candidate: String,
        /// The seed.
        seed: u64,
    },
}

/// The search, step by step.
pub struct Planner<'a> {
    spec: &'a PlanSpec,
    objectives: Objectives,
    seeds: Vec<u64>,
    load: &'a Loader<'a>,
    threads: usize,
    /// Finished runs (loaded from a previous attempt, then grown).
    pub cache: Cache,
    /// Called after each batch with the cache (to persist it) and runs made so far.
    on_batch: &'a (dyn Fn(&Cache, usize) + Sync),
    runs_made: usize,
    /// Only this slice of the combinations (None: all).
    shard: Option<super::shard::Shard>,
    /// Merging: every run must come from the cache.
    offline: bool,
}

impl<'a> Planner<'a> {
    /// A planner over `seeds` with a warm `cache`.
    pub fn new(
        spec: &'a PlanSpec,
        objectives: Objectives,
        seeds: Vec<u64>,
        load: &'a Loader<'a>,
        threads: usize,
        cache: Cache,
        on_batch: &'a (dyn Fn(&Cache, usize) + Sync),
    ) -> Planner<'a> {
        Planner {
            spec,
            objectives,
            seeds,
            load,
            threads,
            cache,
            on_batch,
            runs_made: 0,
            shard: None,
            offline: false,
        }
    }

    /// Searches only `shard`'s slice of the combinations of `values` keys (each
    /// combination's bisection is independent, so slices need no coordination).
    pub fn with_shard(mut self, shard: Option<super::shard::Shard>) -> Self {
        self.shard = shard;
        self
    }

    /// Makes no run: every one must be in the cache (merging shards).
    pub fn offline(mut self) -> Self {
        self.offline = true;
        self
    }

    /// Evaluates one candidate, batch by batch, stopping once its verdict is settled.
    fn evaluate(&mut self, values: Vec<String>) -> Result<Evaluation, PlanError> {
        let key = candidate_key(&self.spec.search, &values);
        let total = self.seeds.len();
        let needed = self.objectives.needed(total);
        let first = total.div_ceil(4).max(2).min(total);
        let mut runs: Vec<RunValues> = Vec::new();
        let mut scenario: Option<Scenario> = None;
        for batch in [0..first, first..total] {
            if batch.is_empty() {
                continue;
            }
            let missing: Vec<u64> = self.seeds[batch.clone()]
                .iter()
                .copied()
                .filter(|&s| !self.cache.contains_key(&(key.clone(), s)))
                .collect();
            if let (true, Some(&seed)) = (self.offline, missing.first()) {
                return Err(PlanError::Missing {
                    candidate: key,
                    seed,
                });
            }
            if !missing.is_empty() {
                if scenario.is_none() {
                    let mut sets = self.spec.sets.clone();
                    sets.extend(
                        self.spec
                            .search
                            .iter()
                            .zip(&values)
                            .map(|(d, v)| format!("{}={v}", d.key())),
                    );
                    scenario = Some((self.load)(&sets).map_err(|errors| PlanError::Input {
                        candidate: key.clone(),
                        errors,
                    })?);
                }
                let Some(sc) = scenario.as_ref() else {
                    continue;
                };
                let jobs: Vec<Job<'_>> = missing
                    .iter()
                    .map(|&seed| Job { scenario: sc, seed })
                    .collect();
                let summaries: Vec<Summary> = run_jobs(&jobs, self.threads, &|_| {})?;
                for (seed, s) in missing.iter().zip(&summaries) {
                    let v: RunValues = METRICS.iter().map(|m| (m.get)(s)).collect();
                    self.cache.insert((key.clone(), *seed), v);
                }
                self.runs_made += missing.len();
                (self.on_batch)(&self.cache, self.runs_made);
            }
            for &seed in &self.seeds[batch] {
                if let Some(v) = self.cache.get(&(key.clone(), seed)) {
                    runs.push(v.clone());
                }
            }
            let met = runs.iter().filter(|r| self.objectives.met(r)).count();
            let left = total - runs.len();
            if !self.objectives.by_bound && (met >= needed || met + left < needed) {
                break;
            }
        }
        let met = runs.iter().filter(|r| self.objectives.met(r)).count();
        let passes = if self.objectives.by_bound {
            self.objectives.bounds_met(&runs)
        } else {
            met >= needed
        };
        Ok(Evaluation {
            values,
            met,
            verdict: if passes {
                Verdict::Meets
            } else {
                Verdict::Fails
            },
            runs,
        })
    }

    /// Runs the whole search; evaluations in the order they were made.
    pub fn search(&mut self) -> Result<Vec<Evaluation>, PlanError> {
        let dims = self.spec.search.clone();
        // Every combination of the `values` keys, in file order (last key fastest).
        let mut combos: Vec<Vec<Option<String>>> = vec![Vec::new()];
        for d in &dims {
            combos = match d {
                Dimension::Values { values, .. } => combos
                    .into_iter()
                    .flat_map(|c| {
                        values.iter().map(move |v| {
                            let mut c = c.clone();
                            c.push(Some(v.clone()));
                            c
                        })
                    })
                    .collect(),
                Dimension::Range { .. } => combos
                    .into_iter()
                    .map(|mut c| {
                        c.push(None);
                        c
                    })
                    .collect(),
            };
        }
        let range = dims.iter().enumerate().find_map(|(i, d)| match d {
            Dimension::Range { min, max, .. } => Some((i, *min, *max)),
            Dimension::Values { .. } => None,
        });
        let mut out = Vec::new();
        for (c, combo) in combos.into_iter().enumerate() {
            if self.shard.is_some_and(|s| !s.owns(c)) {
                continue;
            }
            let with = |k: Option<i64>| -> Vec<String> {
                combo
                    .iter()
                    .map(|v| match (v, k) {
                        (Some(v), _) => v.clone(),
                        (None, Some(k)) => k.to_string(),
                        (None, None) => String::new(),
                    })
                    .collect()
            };
            let Some((_, min, max)) = range else {
                out.push(self.evaluate(with(None))?);
                continue;
            };
            // Bisection for the smallest passing count: `hi` passes, `lo` fails.
            let top = self.evaluate(with(Some(max)))?;
            let passes = top.verdict == Verdict::Meets;
            out.push(top);
            if !passes {
                continue;
            }
            let (mut lo, mut hi) = (min - 1, max);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                let e = self.evaluate(with(Some(mid)))?;
                if e.verdict == Verdict::Meets {
                    hi = mid;
                } else {
                    lo = mid;
                }
                out.push(e);
            }
        }
        Ok(out)
    }
}

/// Indexes of the candidates on the cost/availability Pareto frontier (no other is both
/// cheaper and more available), cheapest first.
pub fn pareto(evals: &[Evaluation]) -> Vec<usize> {
    let point = |e: &Evaluation| (e.stat("cost_total_usd").mean, e.stat("availability").mean);
    let mut idx: Vec<usize> = (0..evals.len())
        .filter(|&i| {
            let (c, a) = point(&evals[i]);
            c.is_finite()
                && a.is_finite()
                && !evals.iter().enumerate().any(|(j, e)| {
                    let (c2, a2) = point(e);
                    j != i && c2 <= c && a2 >= a && (c2 < c || a2 > a)
                })
        })
        .collect();
    idx.sort_by(|&a, &b| {
        point(&evals[a])
            .0
            .total_cmp(&point(&evals[b]).0)
            .then(a.cmp(&b))
    });
    idx.dedup_by(|a, b| evals[*a].values == evals[*b].values);
    idx
}

/// Costs closer than this (relative) are a tie.
const COST_TIE: f64 = 1e-9;

/// The recommended candidate: the lowest mean cost among those that pass; on a tie (a
/// replica count that does not change the node bill), the smallest value of the bisected
/// key `range` (the fewest pods or nodes), then the first evaluated.
pub fn recommend(evals: &[Evaluation], range: Option<usize>) -> Option<usize> {
    let cost = |i: usize| evals[i].stat("cost_total_usd").mean;
    let count = |i: usize| {
        range
            .and_then(|d| evals[i].values.get(d))
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    };
    (0..evals.len())
        .filter(|&i| evals[i].verdict == Verdict::Meets)
        .min_by(|&a, &b| {
            let (ca, cb) = (cost(a), cost(b));
            let tie = (ca - cb).abs() <= COST_TIE * ca.abs().max(cb.abs());
            if tie {
                count(a).cmp(&count(b)).then(a.cmp(&b))
            } else {
                ca.total_cmp(&cb)
            }
        })
}

/// The index of the bisected key in the plan's search, if any.
pub fn range_dimension(search: &[Dimension]) -> Option<usize> {
    search
        .iter()
        .position(|d| matches!(d, Dimension::Range { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(avail: f64, p99: f64) -> RunValues {
        let mut v = vec![None; METRICS.len()];
        v[metric("availability")] = Some(avail);
        v[metric("latency_p99_ms")] = Some(p99);
        v
    }

    #[test]
    fn a_seed_meets_both_objectives_or_none() {
        let o = Objectives {
            availability: Some(0.999),
            latency_p99_ms: Some(500.0),
            seeds_meeting: 0.9,
            by_bound: false,
        };
        assert!(o.met(&values(0.9995, 400.0)));
        assert!(!o.met(&values(0.998, 400.0)));
        assert!(!o.met(&values(0.9995, 501.0)));
        // 90% of 10 seeds is 9; of 4 seeds, 4 (3.6 rounds up).
        assert_eq!(o.needed(10), 9);
        assert_eq!(o.needed(4), 4);
        assert_eq!(o.needed(1), 1);
        // Judged by bounds: three seeds around 0.9992 (sd 0.0001) have a lower bound of
        // 0.9992 − 4.303 × 0.0001 / √3 = 0.99895, below 0.999: not enough evidence.
        let by_bound = Objectives {
            by_bound: true,
            ..o
        };
        let runs = [
            values(0.9991, 1.0),
            values(0.9992, 1.0),
            values(0.9993, 1.0),
        ];
        assert!(!by_bound.bounds_met(&runs));
        let tight = [
            values(0.99925, 1.0),
            values(0.9992, 1.0),
            values(0.99915, 1.0),
        ];
        assert!(by_bound.bounds_met(&tight));
    }

    fn eval(cost: f64, avail: f64, verdict: Verdict) -> Evaluation {
        let mut v = vec![None; METRICS.len()];
        v[metric("cost_total_usd")] = Some(cost);
        v[metric("availability")] = Some(avail);
        Evaluation {
            values: vec![format!("{cost}")],
            runs: vec![v],
            met: usize::from(verdict == Verdict::Meets),
            verdict,
        }
    }

    #[test]
    fn the_frontier_keeps_only_undominated_candidates() {
        let evals = vec![
            eval(10.0, 0.99, Verdict::Fails),
            eval(12.0, 0.999, Verdict::Meets),
            eval(13.0, 0.998, Verdict::Fails), // dominated by 12 / 0.999
            eval(20.0, 0.9999, Verdict::Meets),
        ];
        assert_eq!(pareto(&evals), vec![0, 1, 3]);
        assert_eq!(recommend(&evals, None), Some(1));
        assert_eq!(recommend(&evals[..1], None), None);
        // Same cost: the smaller bisected count wins.
        let mut a = eval(12.0, 0.999, Verdict::Meets);
        a.values = vec!["12".into()];
        let mut b = eval(12.0, 0.999, Verdict::Meets);
        b.values = vec!["7".into()];
        assert_eq!(recommend(&[a, b], Some(0)), Some(1));
    }
}
