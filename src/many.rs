//! The commands that make many runs: `compare`, `plan` and `merge` (argument checking,
//! shards, files and the terminal summary; the work is in `kubesim::plan`).

use super::{CompareArgs, MergeArgs, PlanArgs, load, print_input_errors, print_stdout, progress};
use kubesim::plan::compare::{
    CompareSpec, SpecFile, compare as run_comparison, from_rows, parse_variant, read_rows,
    run_rows, sentences, write_comparison, write_shard,
};
use kubesim::plan::plan_report::{read_cache, save_cache, write_plan};
use kubesim::plan::planfile::{PlanSpec, load_plan};
use kubesim::plan::planner::{
    Cache, Objectives, PlanError, Planner, pareto, range_dimension, recommend,
};
use kubesim::plan::shard::{Shard, parse_shard, shard_from_env};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Most seeds per variant or candidate.
const MAX_SEEDS: u32 = 10_000;

/// `--shard`, or the batch system's variables, or none.
fn resolve_shard(flag: Option<&str>) -> Result<Option<Shard>, String> {
    match flag {
        Some(text) => parse_shard(text).map(Some),
        None => shard_from_env(&|k| std::env::var(k).ok()),
    }
}

fn bad(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// Loads the scenario named by `source` (a path, or the embedded quickstart).
fn load_source(source: &str, sets: &[String]) -> Result<kubesim::Scenario, kubesim::InputErrors> {
    if source == kubesim::scenario::QUICKSTART_SOURCE {
        load(None, sets)
    } else {
        load(Some(Path::new(source)), sets)
    }
}

/// `kubesim compare`.
pub fn compare(args: &CompareArgs) -> ExitCode {
    let mut variants = Vec::new();
    for text in &args.variants {
        match parse_variant(text) {
            Ok(v) => variants.push(v),
            Err(e) => return bad(e),
        }
    }
    for (i, v) in variants.iter().enumerate() {
        if variants[..i].iter().any(|w| w.name == v.name) {
            return bad(format!(
                "--variant `{}` is given twice (names must differ)",
                v.name
            ));
        }
    }
    if args.seeds == 0 || args.seeds > MAX_SEEDS {
        return bad(format!("--seeds {}: expected 1 to {MAX_SEEDS}", args.seeds));
    }
    let shard = match resolve_shard(args.shard.as_deref()) {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    let base = match load(args.scenario.as_deref(), &args.sets) {
        Ok(s) => s,
        Err(e) => {
            print_input_errors(&e);
            return ExitCode::from(2);
        }
    };
    let mut loaded = Vec::new();
    for v in variants {
        let sets: Vec<String> = args.sets.iter().chain(&v.sets).cloned().collect();
        match load(args.scenario.as_deref(), &sets) {
            Ok(s) => loaded.push((v, s)),
            Err(e) => {
                eprintln!("error: in --variant `{}`:", v.name);
                print_input_errors(&e);
                return ExitCode::from(2);
            }
        }
    }
    let spec = CompareSpec {
        scenario_name: base.name.clone(),
        source: base.source.clone(),
        seeds: (0..u64::from(args.seeds))
            .map(|i| base.seed.wrapping_add(i))
            .collect(),
        variants: loaded,
        sets: args.sets.clone(),
    };
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("reports").join(format!("{}-compare", base.name)));
    let total = spec.seeds.len() * spec.variants.len();
    let bar = progress::Counter::new(total as u64, "runs", !args.quiet);
    if let Some(shard) = shard {
        let rows = run_rows(&spec, Some(shard), args.threads, &|d| bar.update(d as u64));
        bar.finish();
        let rows = match rows {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(3);
            }
        };
        if let Err(e) = write_shard(&out_dir, &spec, shard, &rows) {
            eprintln!("error: {e}");
            return ExitCode::from(3);
        }
        if !args.quiet {
            print_stdout(&format!(
                "kubesim compare: shard {} ran {} of {total} runs into {}/; join the shards with `kubesim merge DIR... --out DIR`\n",
                shard.label(),
                rows.len(),
                out_dir.display()
            ));
        }
        return ExitCode::SUCCESS;
    }
    let result = run_comparison(&spec, args.threads, &|d| bar.update(d as u64));
    bar.finish();
    let (rows, comparison) = match result {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(3);
        }
    };
    if let Err(e) = write_comparison(&out_dir, &spec, &rows, &comparison) {
        eprintln!("error: {e}");
        return ExitCode::from(3);
    }
    if !args.quiet {
        print_comparison(&spec, &comparison, &out_dir);
    }
    ExitCode::SUCCESS
}

fn print_comparison(spec: &CompareSpec, c: &kubesim::plan::compare::Comparison, out: &Path) {
    let mut text = format!(
        "kubesim compare: {} ({} variants × {} seeds = {} runs)\n",
        spec.scenario_name,
        spec.variants.len(),
        spec.seeds.len(),
        spec.variants.len() * spec.seeds.len()
    );
    for s in sentences(spec, c) {
        text.push_str(&format!("  {s}\n"));
    }
    text.push_str(&format!(
        "  reports    {}/ (compare.csv, open index.html)\n",
        out.display()
    ));
    print_stdout(&text);
}

/// FNV-1a over the texts a plan's runs depend on: a changed plan, scenario or kubesim
/// version makes the cached runs of an earlier attempt stale.
fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// A plan read and checked, ready to search.
struct Prepared {
    spec: PlanSpec,
    objectives: Objectives,
    seeds: Vec<u64>,
    fingerprint: String,
}

fn prepare(plan: &Path, seeds: Option<u32>) -> Result<Prepared, ExitCode> {
    let spec = load_plan(plan).map_err(|e| {
        print_input_errors(&e);
        ExitCode::from(2)
    })?;
    let base = load(spec.scenario.as_deref(), &spec.sets).map_err(|e| {
        print_input_errors(&e);
        ExitCode::from(2)
    })?;
    let objectives = Objectives {
        availability: spec.availability.or(base.slo.and_then(|s| s.availability)),
        latency_p99_ms: spec
            .latency_p99_ms
            .or(base.slo.and_then(|s| s.latency_p99_ms)),
        seeds_meeting: spec.seeds_meeting,
        by_bound: spec.by_bound,
    };
    if objectives.availability.is_none() && objectives.latency_p99_ms.is_none() {
        return Err(bad(format!(
            "{}: slo: expected an objective to plan for (slo.availability or slo.latencyP99Ms, here or in the scenario's slo)",
            plan.display()
        )));
    }
    let n = seeds.unwrap_or(spec.seeds);
    if n == 0 || n > MAX_SEEDS {
        return Err(bad(format!("--seeds {n}: expected 1 to {MAX_SEEDS}")));
    }
    let plan_text = std::fs::read_to_string(plan).unwrap_or_default();
    Ok(Prepared {
        seeds: (0..u64::from(n))
            .map(|i| base.seed.wrapping_add(i))
            .collect(),
        fingerprint: fingerprint(&[
            &plan_text,
            &base.source_text,
            &n.to_string(),
            env!("CARGO_PKG_VERSION"),
        ]),
        spec,
        objectives,
    })
}

/// The most runs a plan can make: every combination, a bisection's steps, every seed.
fn most_runs(spec: &PlanSpec, seeds: usize) -> u64 {
    use kubesim::plan::planfile::Dimension;
    let mut runs = seeds as u64;
    for d in &spec.search {
        runs *= match d {
            Dimension::Values { values, .. } => values.len() as u64,
            Dimension::Range { min, max, .. } => {
                let span = (max - min + 1).max(1) as u64;
                1 + u64::from(span.next_power_of_two().trailing_zeros())
            }
        };
    }
    runs
}

/// shard.json of a plan shard's folder.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct PlanShardFile {
    plan: PathBuf,
    seeds: u32,
    shard: String,
    fingerprint: String,
}

/// `kubesim plan`.
pub fn plan(args: &PlanArgs) -> ExitCode {
    let shard = match resolve_shard(args.shard.as_deref()) {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    let p = match prepare(&args.plan, args.seeds) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("reports").join(&p.spec.name));
    let cache = read_cache(&out_dir.join("runs.csv"), &p.fingerprint);
    let cached = cache.len();
    let loader = |sets: &[String]| load(p.spec.scenario.as_deref(), sets);
    let bar = progress::Counter::new(
        most_runs(&p.spec, p.seeds.len()),
        "runs (at most)",
        !args.quiet,
    );
    let save_failed = std::sync::atomic::AtomicBool::new(false);
    let on_batch = |cache: &Cache, made: usize| {
        bar.update(made as u64);
        if save_cache(&out_dir, &p.fingerprint, cache).is_err() {
            save_failed.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    };
    let mut planner = Planner::new(
        &p.spec,
        p.objectives,
        p.seeds.clone(),
        &loader,
        args.threads,
        cache,
        &on_batch,
    )
    .with_shard(shard);
    let result = planner.search();
    bar.finish();
    let evals = match result {
        Ok(e) => e,
        Err(e) => return plan_error(e),
    };
    if save_failed.load(std::sync::atomic::Ordering::SeqCst) {
        eprintln!(
            "warning: the run cache could not always be saved; an interrupted plan would redo some runs"
        );
    }
    if let Some(shard) = shard {
        let file = PlanShardFile {
            plan: args.plan.clone(),
            seeds: p.seeds.len() as u32,
            shard: shard.label(),
            fingerprint: p.fingerprint.clone(),
        };
        let mut json = serde_json::to_string_pretty(&file).unwrap_or_default();
        json.push('\n');
        let written = save_cache(&out_dir, &p.fingerprint, &planner.cache)
            .and_then(|()| kubesim::report::write_file(&out_dir, "shard.json", json.as_bytes()));
        if let Err(e) = written {
            eprintln!("error: {e}");
            return ExitCode::from(3);
        }
        if !args.quiet {
            print_stdout(&format!(
                "kubesim plan: {}: shard {} evaluated {} candidates into {}/; join the shards with `kubesim merge DIR... --out DIR`\n",
                p.spec.name,
                shard.label(),
                evals.len(),
                out_dir.display()
            ));
        }
        return ExitCode::SUCCESS;
    }
    finish_plan(&p, &planner.cache, &evals, &out_dir, cached, args.quiet)
}

fn plan_error(e: PlanError) -> ExitCode {
    match e {
        PlanError::Input { candidate, errors } => {
            eprintln!("error: candidate {candidate}:");
            print_input_errors(&errors);
            ExitCode::from(2)
        }
        e @ PlanError::Missing { .. } => bad(e),
        e @ PlanError::Run(_) => {
            eprintln!("error: {e}");
            ExitCode::from(3)
        }
    }
}

fn finish_plan(
    p: &Prepared,
    cache: &Cache,
    evals: &[kubesim::plan::planner::Evaluation],
    out_dir: &Path,
    cached: usize,
    quiet: bool,
) -> ExitCode {
    let frontier = pareto(evals);
    let chosen = recommend(evals, range_dimension(&p.spec.search));
    let written = save_cache(out_dir, &p.fingerprint, cache)
        .and_then(|()| write_plan(out_dir, &p.spec, &p.objectives, evals, &frontier, chosen));
    let why = match written {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(3);
        }
    };
    if !quiet {
        let runs: usize = evals.iter().map(|e| e.runs.len()).sum();
        print_stdout(&format!(
            "kubesim plan: {}: {} candidates, {runs} runs ({cached} from an earlier attempt)\n  {why}\n  reports    {}/ (plan.csv, open index.html)\n",
            p.spec.name,
            evals.len(),
            out_dir.display()
        ));
    }
    ExitCode::SUCCESS
}

/// Checks that shard labels `I/N` cover 0..N once each.
fn check_coverage(labels: &[(PathBuf, String)]) -> Result<(), String> {
    let mut shards = Vec::new();
    for (dir, label) in labels {
        let s = parse_shard(label).map_err(|e| format!("{}: {e}", dir.display()))?;
        shards.push((dir, s));
    }
    let n = shards.first().map_or(0, |s| s.1.count);
    for (dir, s) in &shards {
        if s.count != n {
            return Err(format!(
                "{}: shard {} is of another split than {}/{n}",
                dir.display(),
                s.label(),
                shards[0].1.index
            ));
        }
    }
    let missing: Vec<String> = (0..n)
        .filter(|i| !shards.iter().any(|s| s.1.index == *i))
        .map(|i| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!("shard(s) {} missing", missing.join(", ")));
    }
    Ok(())
}

/// `kubesim merge`.
pub fn merge(args: &MergeArgs) -> ExitCode {
    let compare_dirs = args.dirs.iter().all(|d| d.join("compare.json").exists());
    let plan_dirs = args.dirs.iter().all(|d| d.join("shard.json").exists());
    if compare_dirs {
        merge_compare(args)
    } else if plan_dirs {
        merge_plan(args)
    } else {
        bad(
            "every folder must be a shard of the same run: `plan --shard` writes shard.json, `compare --shard` compare.json",
        )
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}:{}: {e}", path.display(), e.line()))
}

/// Reads every shard folder's `file`, checks each describes the same work as the first
/// (`same`; `what` says what differs) and that their shard labels cover 0..N once each.
fn read_shards<T: serde::de::DeserializeOwned>(
    dirs: &[PathBuf],
    file: &str,
    same: fn(&T, &T) -> bool,
    what: &str,
    label: fn(&T) -> String,
) -> Result<Vec<T>, String> {
    let files = dirs
        .iter()
        .map(|d| read_json::<T>(&d.join(file)))
        .collect::<Result<Vec<T>, String>>()?;
    for (d, f) in dirs.iter().zip(&files).skip(1) {
        if !same(f, &files[0]) {
            return Err(format!(
                "{}: {what} than {}",
                d.display(),
                dirs[0].display()
            ));
        }
    }
    let labels: Vec<(PathBuf, String)> = dirs
        .iter()
        .zip(&files)
        .map(|(d, f)| (d.clone(), label(f)))
        .collect();
    check_coverage(&labels)?;
    Ok(files)
}

fn merge_compare(args: &MergeArgs) -> ExitCode {
    let files = match read_shards::<SpecFile>(
        &args.dirs,
        "compare.json",
        |a, b| {
            a.source == b.source
                && a.sets == b.sets
                && a.variants == b.variants
                && a.seeds == b.seeds
        },
        "compare.json describes another comparison",
        |f| f.shard.clone().unwrap_or_else(|| "0/1".into()),
    ) {
        Ok(f) => f,
        Err(e) => return bad(e),
    };
    let first = &files[0];
    let mut variants = Vec::new();
    for v in &first.variants {
        let sets: Vec<String> = first.sets.iter().chain(&v.sets).cloned().collect();
        match load_source(&first.source, &sets) {
            Ok(s) => variants.push((v.clone(), s)),
            Err(e) => {
                eprintln!("error: in variant `{}`:", v.name);
                print_input_errors(&e);
                return ExitCode::from(2);
            }
        }
    }
    let spec = CompareSpec {
        scenario_name: first.scenario.clone(),
        source: first.source.clone(),
        variants,
        seeds: first.seeds.clone(),
        sets: first.sets.clone(),
    };
    let mut rows = Vec::new();
    for d in &args.dirs {
        match read_rows(&d.join("runs.csv"), &spec) {
            Ok(r) => rows.extend(r),
            Err(e) => return bad(e),
        }
    }
    rows.sort_by_key(|r| r.0);
    rows.dedup_by_key(|r| r.0);
    let comparison = match from_rows(&spec, &rows) {
        Ok(c) => c,
        Err(e) => return bad(e),
    };
    if let Err(e) = write_comparison(&args.out, &spec, &rows, &comparison) {
        eprintln!("error: {e}");
        return ExitCode::from(3);
    }
    if !args.quiet {
        print_comparison(&spec, &comparison, &args.out);
    }
    ExitCode::SUCCESS
}

fn merge_plan(args: &MergeArgs) -> ExitCode {
    let files = match read_shards::<PlanShardFile>(
        &args.dirs,
        "shard.json",
        |a, b| a.fingerprint == b.fingerprint,
        "a shard of another plan (or seeds, scenario, kubesim version)",
        |f| f.shard.clone(),
    ) {
        Ok(f) => f,
        Err(e) => return bad(e),
    };
    let first = &files[0];
    let p = match prepare(&first.plan, Some(first.seeds)) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if p.fingerprint != first.fingerprint {
        return bad(format!(
            "{}: the plan or its scenario changed since the shards ran",
            first.plan.display()
        ));
    }
    let mut cache = Cache::new();
    for d in &args.dirs {
        cache.extend(read_cache(&d.join("runs.csv"), &p.fingerprint));
    }
    let merged = cache.len();
    let loader = |sets: &[String]| load(p.spec.scenario.as_deref(), sets);
    let on_batch = |_: &Cache, _: usize| {};
    let mut planner = Planner::new(
        &p.spec,
        p.objectives,
        p.seeds.clone(),
        &loader,
        1,
        cache,
        &on_batch,
    )
    .offline();
    let evals = match planner.search() {
        Ok(e) => e,
        Err(e) => return plan_error(e),
    };
    finish_plan(&p, &planner.cache, &evals, &args.out, merged, args.quiet)
}
