//! The `kubesim` command line: parses arguments, calls the library, maps errors to exit
//! codes (0 ok, 1 SLO missed with --fail-on-slo, 2 bad input, 3 internal or I/O failure).

use clap::{Args, Parser, Subcommand};
use kubesim::report::summary::{Summary, WorkloadSummary, workload_summaries};
use kubesim::scenario::{InputErrors, SetOverride, load_path, load_quickstart};
use kubesim::{RunOptions, Scenario};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod many;
mod progress;

#[derive(Parser)]
#[command(
    name = "kubesim",
    version,
    about = "Simulate a Kubernetes cluster under traffic: cost, uptime and latency reports"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one simulation and write reports (no SCENARIO: the embedded quickstart).
    Run(RunArgs),
    /// Parse and check scenario files without running them.
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Explain one scheduling decision: per node, filter verdicts and per-plugin scores.
    Explain(ExplainArgs),
    /// Run one scenario under several settings on the same seeds; means, 95% intervals
    /// and paired differences against the first variant.
    Compare(CompareArgs),
    /// Search for the cheapest configuration that meets the SLO (PLAN.yaml: base scenario,
    /// keys to search, SLO, objective).
    Plan(PlanArgs),
    /// Join the shard folders of a plan or a comparison into what one machine would have
    /// written.
    Merge(MergeArgs),
    /// Re-render the charts, incidents.csv and index.html of a run folder from its CSV files.
    Report {
        /// A folder `kubesim run` wrote.
        dir: PathBuf,
    },
}

#[derive(Args)]
struct ExplainArgs {
    /// Cluster snapshot: `kubectl get nodes,pods -A -o yaml` output, or multi-document YAML
    /// of Node and Pod objects.
    cluster: PathBuf,
    /// The pod to place: one Pod, or a Deployment (its pod template is used).
    #[arg(long)]
    pod: PathBuf,
    /// Take the scheduler profile (`scheduler` block) from this scenario file.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Check only as many nodes as percentageOfNodesToScore allows, as a real cycle does
    /// (default: every node).
    #[arg(long)]
    sample: bool,
    /// Seed of the tie-break among nodes with the same top score.
    #[arg(long)]
    seed: Option<u64>,
}

#[derive(Args)]
pub(crate) struct CompareArgs {
    /// Scenario YAML; omitted, the embedded quickstart.
    scenario: Option<PathBuf>,
    /// A variant: NAME:KEY=VALUE[,KEY=VALUE]... (NAME alone: the scenario as written). The
    /// first is the baseline. Repeat for each variant.
    #[arg(long = "variant", value_name = "NAME:KEY=VALUE,...", required = true)]
    variants: Vec<String>,
    /// Seeds per variant (the scenario's seed, +1, +2, ...; the same for every variant).
    #[arg(long, default_value_t = 10)]
    seeds: u32,
    /// Output folder (default reports/<scenario name>-compare/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override a scenario key for every variant (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Worker threads (default: one per core). Results are the same for any number.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Run only slice I of N (from 0) of the runs; `kubesim merge` joins the slices.
    /// Without it, JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID name the slice.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Print nothing on success.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
pub(crate) struct MergeArgs {
    /// Shard folders written by `plan --shard` or `compare --shard`.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Where the merged result goes.
    #[arg(long)]
    out: PathBuf,
    /// Print nothing on success.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
pub(crate) struct PlanArgs {
    /// The plan file.
    plan: PathBuf,
    /// Seeds per candidate (overrides the plan's `seeds`).
    #[arg(long)]
    seeds: Option<u32>,
    /// Output folder (default reports/<plan name>/). A folder from an interrupted plan
    /// resumes: its finished runs are not run again.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads (default: one per core). Results are the same for any number.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Evaluate only slice I of N (from 0) of the searched combinations; `kubesim merge`
    /// joins the slices. Without it, JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID name it.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Print nothing on success.
    #[arg(long)]
    quiet: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    /// Aligned columns for people.
    Table,
    /// The JSON object of CONTRACT.md, for scripts.
    Json,
}

#[derive(Args)]
struct RunArgs {
    /// Scenario YAML; omitted, the embedded scenarios/quickstart.yaml runs.
    scenario: Option<PathBuf>,
    /// Root seed (overrides the scenario's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Output folder (default reports/<scenario name>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override a scenario key by dotted path, e.g. workloads.web.replicas=6 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Print nothing on success.
    #[arg(long)]
    quiet: bool,
    /// Verify invariants after every event; stop at the first violation.
    #[arg(long)]
    check: bool,
    /// Exit with code 1 when the scenario's SLO is missed.
    #[arg(long)]
    fail_on_slo: bool,
    /// Simulate every request as an event (requestModel: exact) instead of the fluid
    /// queueing model: slower, used to check it.
    #[arg(long)]
    exact: bool,
    /// Also write the time series in the OpenMetrics text format (for Prometheus:
    /// `promtool tsdb create-blocks-from openmetrics FILE DIR`).
    #[arg(long, value_name = "FILE")]
    openmetrics: Option<PathBuf>,
    /// Unix time (seconds) of the simulated start in the OpenMetrics export, e.g.
    /// `$(date -d 2026-01-01 +%s)`; default 0.
    #[arg(long, value_name = "UNIX_SECONDS", default_value_t = 0)]
    openmetrics_start: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(args),
        Command::Validate { files } => validate(&files),
        Command::Explain(args) => explain(&args),
        Command::Report { dir } => report(&dir),
        Command::Compare(args) => many::compare(&args),
        Command::Plan(args) => many::plan(&args),
        Command::Merge(args) => many::merge(&args),
    }
}

/// Writes to stdout once; a closed pipe (`kubesim run | head -1`) is not an error worth a
/// panic, the reports are already on disk.
fn print_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

fn print_input_errors(errors: &InputErrors) {
    for e in &errors.0 {
        eprintln!("error: {e}");
    }
}

fn load(scenario: Option<&Path>, sets: &[String]) -> Result<Scenario, InputErrors> {
    let sets = sets
        .iter()
        .map(|s| SetOverride::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(InputErrors::from)?;
    match scenario {
        Some(path) => load_path(path, &sets),
        None => load_quickstart(&sets),
    }
}

fn run(args: RunArgs) -> ExitCode {
    let mut scenario = match load(args.scenario.as_deref(), &args.sets) {
        Ok(s) => s,
        Err(e) => {
            print_input_errors(&e);
            return ExitCode::from(2);
        }
    };
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    if args.exact {
        scenario.request_model = kubesim::scenario::RequestModel::Exact;
    }
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("reports").join(&scenario.name));
    let started = std::time::Instant::now(); // wall clock for the terminal summary only
    let bar = progress::Bar::new(scenario.duration, !args.quiet);
    let report_progress = |t: kubesim::engine::SimTime, events: u64| bar.update(t, events);
    let options = RunOptions {
        check: args.check,
        progress: Some(&report_progress),
    };
    let result = kubesim::run(&scenario, options);
    bar.finish();
    let output = match result {
        Ok(o) => o,
        Err(kubesim::SimError::LimitExceeded(msg)) => {
            eprintln!("error: {}: {msg}", scenario.source);
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: internal: {e}");
            return ExitCode::from(3);
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    let (summary, rendered) = match kubesim::report::write_report(&out_dir, &output) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(3);
        }
    };
    if let Some(path) = &args.openmetrics {
        let written = kubesim::report::atomic::write_atomic_with(path, |w| {
            kubesim::report::openmetrics::write_openmetrics(&output, args.openmetrics_start, w)
        });
        if let Err(e) = written {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(3);
        }
    }
    if !args.quiet {
        print_stdout(&summary_text(
            &scenario,
            &summary,
            &workload_summaries(&output),
            &out_dir,
            elapsed,
            output.events_processed,
            rendered.incidents,
        ));
    }
    if args.fail_on_slo && summary.slo_met == Some(false) {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn pct(x: f64) -> String {
    format!("{:.3}%", x * 100.0)
}

fn opt_ms(x: Option<f64>) -> String {
    x.map_or("-".to_string(), |v| format!("{v:.1} ms"))
}

fn summary_text(
    s: &Scenario,
    sum: &Summary,
    workloads: &[WorkloadSummary],
    out_dir: &Path,
    elapsed: f64,
    events: u64,
    incidents: usize,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "kubesim: {} (seed {}): {} s simulated in {:.2} s ({} events)",
        sum.scenario, sum.seed, sum.duration_s, elapsed, events
    );
    let _ = writeln!(
        out,
        "  requests   {} offered, {} served within timeout ({} failed)",
        sum.requests_offered,
        pct(sum.availability),
        sum.requests_failed
    );
    let _ = writeln!(
        out,
        "  latency    p50 {}, p95 {}, p99 {}",
        opt_ms(sum.latency_p50_ms),
        opt_ms(sum.latency_p95_ms),
        opt_ms(sum.latency_p99_ms)
    );
    let control_plane = if sum.cost_control_plane_usd > 0.0 {
        format!(", ${:.2} control plane", sum.cost_control_plane_usd)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "  cost       ${:.2}: ${:.2} for {:.1} node-hours ({} to {} nodes){control_plane}; ${:.2} idle",
        sum.cost_total_usd,
        sum.cost_nodes_usd,
        sum.node_hours,
        sum.nodes_min,
        sum.nodes_max,
        sum.cost_idle_usd
    );
    for w in workloads {
        if w.offered == 0 {
            let _ = writeln!(out, "  {:<10} no traffic", w.name);
            continue;
        }
        let uptime = match w.uptime {
            Some(u) if u < 1.0 => format!(", up {}", pct(u)),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {:<10} {} of {} requests served, p99 {}{uptime}",
            w.name,
            pct(w.availability),
            w.offered,
            opt_ms(w.latency_p99_ms)
        );
    }
    if sum.unschedulable_pod_seconds > 0.0 {
        let _ = writeln!(
            out,
            "  pending    {:.0} pod-seconds unschedulable (see events.csv)",
            sum.unschedulable_pod_seconds
        );
    }
    match (sum.slo_met, s.slo) {
        (Some(met), Some(slo)) => {
            let mut parts = Vec::new();
            if let Some(a) = slo.availability {
                parts.push(format!(
                    "availability {} (target {})",
                    pct(sum.availability),
                    pct(a)
                ));
            }
            if let Some(l) = slo.latency_p99_ms {
                parts.push(format!(
                    "p99 {} (target {l:.0} ms)",
                    opt_ms(sum.latency_p99_ms)
                ));
            }
            if let Some(spent) = sum.error_budget_spent {
                parts.push(format!("error budget {:.0}% spent", spent * 100.0));
            }
            let _ = writeln!(
                out,
                "  SLO        {}: {}",
                if met { "met" } else { "MISSED" },
                parts.join(", ")
            );
        }
        _ => {
            let _ = writeln!(out, "  SLO        none given");
        }
    }
    if incidents > 0 {
        let _ = writeln!(
            out,
            "  incidents  {incidents} period{} missed the SLO (incidents.csv)",
            if incidents == 1 { "" } else { "s" }
        );
    }
    let _ = writeln!(out, "  reports    {}/ (open index.html)", out_dir.display());
    out
}

fn report(dir: &Path) -> ExitCode {
    use kubesim::report::render::{RenderError, render_dir};
    match render_dir(dir) {
        Ok(r) => {
            print_stdout(&format!(
                "kubesim: re-rendered {} files in {}/ ({} incident{}); open {}\n",
                r.files.len(),
                dir.display(),
                r.incidents,
                if r.incidents == 1 { "" } else { "s" },
                dir.join("index.html").display()
            ));
            ExitCode::SUCCESS
        }
        Err(e @ RenderError::Tables(_)) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(3)
        }
    }
}

fn validate(files: &[PathBuf]) -> ExitCode {
    let mut ok = true;
    for f in files {
        match load_path(f, &[]) {
            Ok(s) => print_stdout(&format!(
                "ok: {} (scenario `{}`: {} pool(s), {} workload(s), {} s)\n",
                f.display(),
                s.name,
                s.pools.len(),
                s.workloads.len(),
                s.duration.as_secs_f64()
            )),
            Err(e) => {
                ok = false;
                print_input_errors(&e);
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

fn read_input(path: &Path, what: &str) -> Result<String, InputErrors> {
    std::fs::read_to_string(path).map_err(|e| {
        InputErrors::from(kubesim::InputError::file(
            &path.display().to_string(),
            format!("cannot read the {what}: {e}"),
        ))
    })
}

fn explain(args: &ExplainArgs) -> ExitCode {
    let loaded = (|| {
        let base = match &args.scenario {
            None => None,
            Some(path) => {
                load_path(path, &[])?; // its own errors, with lines, first
                let text = read_input(path, "scenario")?;
                serde_saphyr::from_str::<serde_json::Value>(&text).ok()
            }
        };
        let cluster = read_input(&args.cluster, "cluster snapshot")?;
        let pod = read_input(&args.pod, "pod")?;
        kubesim::scenario::k8s::read_snapshot(
            &args.cluster.display().to_string(),
            &cluster,
            &args.pod.display().to_string(),
            &pod,
            base.as_ref(),
        )
    })();
    let snapshot = match loaded {
        Ok(s) => s,
        Err(e) => {
            print_input_errors(&e);
            return ExitCode::from(2);
        }
    };
    for w in &snapshot.warnings {
        eprintln!("warning: {w}");
    }
    let seed = args.seed.unwrap_or(snapshot.scenario.seed);
    let report = kubesim::explain::explain(&snapshot, seed, args.sample);
    print_stdout(&match args.format {
        Format::Table => kubesim::explain::render_table(&report),
        Format::Json => kubesim::explain::render_json(&report),
    });
    ExitCode::SUCCESS
}
