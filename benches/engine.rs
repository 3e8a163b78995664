//! Criterion benchmarks: the event queue alone, one scheduling decision at 100, 1,000 and
//! 5,000 nodes, one full quickstart run, the scale scenario, the traffic models (and the
//! fluid model's floor), and one cluster-autoscaler and Karpenter pass. Figures and how to
//! reproduce them are in BENCHMARKS.md.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use kubesim::cluster::{NodeId, WorkloadId, World};
use kubesim::control::autoscaler::ClusterAutoscaler;
use kubesim::control::karpenter::Karpenter;
use kubesim::control::scheduler::Scheduler;
use kubesim::engine::{EventQueue, RngStreams, SimTime};
use kubesim::scenario::{load_path, load_quickstart, load_str};
use rand::RngExt;
use std::hint::black_box;
use std::path::Path;

/// Push then pop 100,000 events with random times: the queue's cost per event.
fn event_queue(c: &mut Criterion) {
    const N: u64 = 100_000;
    let mut rng = RngStreams::new(1).stream("bench");
    let times: Vec<u64> = (0..N).map(|_| rng.random_range(0..3_600_000u64)).collect();
    let mut group = c.benchmark_group("event_queue");
    group.throughput(Throughput::Elements(N));
    group.bench_function("push_pop_100k", |b| {
        b.iter_batched(
            || EventQueue::with_capacity(N as usize),
            |mut q| {
                for (i, &t) in times.iter().enumerate() {
                    q.push(SimTime(t), i as u32);
                }
                let mut sum = 0u64;
                while let Some((t, e)) = q.pop() {
                    sum = sum.wrapping_add(t.0 ^ u64::from(e));
                }
                black_box(sum)
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// One `schedule_one` with the default profile on N m5.4xlarge nodes that already run
/// 0 to 15 pods of 500m each (so scores differ), as upstream's SchedulingBasic sets up.
fn scheduling_decision(c: &mut Criterion) {
    let mut group = c.benchmark_group("scheduling_decision");
    for nodes in [100u32, 1_000, 5_000] {
        let yaml = format!(
            "name: bench\nduration: 1m\ncluster:\n  pools: [{{name: p, instanceType: m5.4xlarge, zones: [a, b, c], count: {nodes}}}]\nworkloads:\n  - name: w\n    replicas: 0\n    template: {{spec: {{containers: [{{name: c, resources: {{requests: {{cpu: 500m, memory: 1Gi}}}}}}]}}}}\n"
        );
        let scenario = match load_str("bench.yaml", &yaml, Path::new("."), &[]) {
            Ok(s) => s,
            Err(e) => panic!("bench scenario must load: {e}"),
        };
        let mut world = World::new(&scenario);
        let mut scheduler = Scheduler::new(
            scenario.scheduler.clone(),
            RngStreams::new(1).stream("scheduler"),
            &mut world,
        );
        for n in 0..nodes {
            for _ in 0..(n * 7 % 16) {
                let pod = world.create_pod(WorkloadId(0), SimTime::ZERO);
                world.bind(pod, NodeId(n));
            }
        }
        let pending = world.create_pod(WorkloadId(0), SimTime::ZERO);
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("{nodes}_nodes"), |b| {
            b.iter(|| black_box(scheduler.schedule_one(&world, pending)))
        });
    }
    group.finish();
}

/// The embedded quickstart, parse excluded: 2 simulated hours, 3 workloads.
fn quickstart_run(c: &mut Criterion) {
    let scenario = match load_quickstart(&[]) {
        Ok(s) => s,
        Err(e) => panic!("quickstart must load: {e}"),
    };
    c.bench_function("quickstart_run", |b| {
        b.iter(|| {
            black_box(
                kubesim::run(&scenario, kubesim::RunOptions::default()).map(|o| o.events_processed),
            )
        })
    });
}

/// benches/scale.yaml: 1,000 nodes and 20,000 pods scheduled, then one simulated hour.
fn scale_run(c: &mut Criterion) {
    let scenario = match load_path(Path::new("benches/scale.yaml"), &[]) {
        Ok(s) => s,
        Err(e) => panic!("benches/scale.yaml must load: {e}"),
    };
    let mut group = c.benchmark_group("scale");
    group.sample_size(10);
    group.bench_function("1k_nodes_20k_pods_1h", |b| {
        b.iter(|| {
            black_box(
                kubesim::run(&scenario, kubesim::RunOptions::default()).map(|o| o.events_processed),
            )
        })
    });
    group.finish();
}

/// The traffic models alone: one hour of benches/traffic-1k.yaml (1,000 workloads replaying
/// a 1-second trace, 15 s ticks: 240,000 workload-ticks) in the fluid model, and the exact
/// model's throughput on quickstart (about 2.1 M requests).
fn traffic(c: &mut Criterion) {
    let fluid = match load_path(
        Path::new("benches/traffic-1k.yaml"),
        &[kubesim::scenario::SetOverride::parse("duration=1h").expect("valid --set")],
    ) {
        Ok(s) => s,
        Err(e) => panic!("benches/traffic-1k.yaml must load: {e}"),
    };
    let mut exact = match load_quickstart(&[]) {
        Ok(s) => s,
        Err(e) => panic!("quickstart must load: {e}"),
    };
    exact.request_model = kubesim::scenario::RequestModel::Exact;
    let mut group = c.benchmark_group("traffic");
    group.sample_size(10);
    group.throughput(Throughput::Elements(240_000));
    group.bench_function("fluid_1k_workloads_1h", |b| {
        b.iter(|| {
            black_box(
                kubesim::run(&fluid, kubesim::RunOptions::default()).map(|o| o.events_processed),
            )
        })
    });
    group.bench_function("fluid_floor_1k_workloads_1h", |b| {
        b.iter(|| black_box(fluid_floor(&fluid.workloads, 240)))
    });
    group.throughput(Throughput::Elements(5_760_000));
    group.bench_function("fluid_floor_1k_workloads_day", |b| {
        b.iter(|| black_box(fluid_floor(&fluid.workloads, 5760)))
    });
    group.throughput(Throughput::Elements(2_106_000));
    group.bench_function("exact_quickstart_requests", |b| {
        b.iter(|| {
            black_box(
                kubesim::run(&exact, kubesim::RunOptions::default()).map(|o| o.events_processed),
            )
        })
    });
    group.finish();
}

/// The floor under `fluid_1k_workloads_1h`: the fluid model's own steps for each workload
/// and 15 s tick — the curve's mean rate (a batch at a time), the Poisson draw, the queue
/// (`serve_tick`), the latency booked against the shared tables with its p99, the row
/// stored — called back to back on the library's functions, with none of the run around
/// them: no endpoint averages, cores per pod, usage samples, totals, retries, calls or
/// control plane. Each workload is one pod with its limit's cores, as in
/// benches/traffic-1k.yaml. What the whole run takes beyond this is plumbing; this is what
/// the steps themselves cost as the library has them, the least a single-threaded run of
/// the model can take without making the steps cheaper (BENCHMARKS.md, Traffic). Returns
/// the requests served and rows stored, so nothing is optimised away.
fn fluid_floor(specs: &[kubesim::scenario::WorkloadSpec], ticks: usize) -> f64 {
    use kubesim::metrics::TimeseriesRow;
    use kubesim::metrics::histogram::LatencyHistogram;
    use kubesim::metrics::row_store::RowStore;
    use kubesim::traffic::latency_book::LatencyBook;
    use kubesim::traffic::latency_tables::LatencyTables;
    use kubesim::traffic::queueing::{TickLoad, serve_tick};
    use rand_distr::{Distribution, Poisson};
    const STEP_S: f64 = 15.0;
    const BATCH: usize = 64;
    struct Lane {
        rng: kubesim::engine::SimRng,
        rates: Vec<f64>,
        edges: Vec<f64>,
        book: LatencyBook,
        hist: LatencyHistogram,
        backlog: f64,
        servers: u32,
        per_server_s: f64,
        timeout_s: f64,
    }
    let streams = RngStreams::new(3);
    let mut lanes: Vec<Lane> = specs
        .iter()
        .enumerate()
        .map(|(w, spec)| {
            let cores = spec.cpu_limit_milli.map_or(1.0, |m| m as f64 / 1000.0)
                - spec.service.base_cpu_milli as f64 / 1000.0;
            let usable = f64::from(spec.service.concurrency).min(cores).max(1e-3);
            let (servers, per_server_s) = kubesim::traffic::fluid::own_servers(
                usable,
                spec.service.concurrency,
                spec.service.cpu_seconds_per_request,
            );
            Lane {
                rng: streams.stream_indexed("floor", w as u64),
                rates: Vec::new(),
                edges: Vec::new(),
                book: LatencyBook::default(),
                hist: LatencyHistogram::default(),
                backlog: 0.0,
                servers,
                per_server_s,
                timeout_s: spec.service.timeout.as_secs_f64(),
            }
        })
        .collect();
    let mut tables = LatencyTables::new();
    let mut rows = RowStore::<TimeseriesRow>::with_expected_rows(specs.len() * ticks);
    let mut served_total = 0.0;
    for t in 0..ticks {
        let now = SimTime::from_millis((t as u64 + 1) * 15_000);
        for (w, (lane, spec)) in lanes.iter_mut().zip(specs).enumerate() {
            if t % BATCH == 0 {
                lane.edges.clear();
                lane.edges
                    .extend((t..=t + BATCH).map(|k| k as f64 * STEP_S));
                lane.rates.clear();
                spec.traffic
                    .mean_rates_between(&lane.edges, &mut lane.rates);
            }
            let expected = lane.rates[t % BATCH] * STEP_S;
            let arrivals = match Poisson::new(expected) {
                Ok(d) => d.sample(&mut lane.rng),
                Err(_) => 0.0,
            };
            let out = serve_tick(&TickLoad {
                arrivals,
                expected_arrivals: expected,
                dt_s: STEP_S,
                endpoints: 1.0,
                cores_per_pod: f64::from(lane.servers),
                cpu_s_per_request: lane.per_server_s,
                concurrency: lane.servers,
                timeout_s: lane.timeout_s,
                backlog: lane.backlog,
            });
            lane.backlog = out.backlog;
            let p99_s = out.latency.map(|d| {
                lane.book.book(
                    d,
                    out.served,
                    0.0,
                    lane.timeout_s,
                    &mut tables,
                    &mut lane.hist,
                )
            });
            served_total += out.served;
            rows.push(TimeseriesRow {
                time: now,
                workload: w as u32,
                replicas_desired: 1,
                replicas_ready: 1,
                rps_offered: arrivals / STEP_S,
                rps_served: out.served / STEP_S,
                rps_failed: out.failed / STEP_S,
                rps_capacity: f64::from(lane.servers) / lane.per_server_s,
                cpu_utilization: out.cpu_cores_used,
                latency_p99_ms: p99_s.map(|s| s * 1000.0),
            });
        }
    }
    for lane in &mut lanes {
        lane.book.flush(&mut tables, &mut lane.hist);
        served_total += lane.hist.total();
    }
    served_total + rows.len() as f64
}

/// One cluster-autoscaler loop over 5,000 nodes (m5.xlarge, 0 to 7 pods of 500m each, so
/// some are underused and get the drain simulation) with 1,000 pending pods to place.
fn autoscaler_pass(c: &mut Criterion) {
    let yaml = "name: bench\nduration: 1m\ncluster:\n  pools: [{name: p, instanceType: m5.xlarge, zones: [a, b, c], count: 5000, min: 100, max: 8000}]\nclusterAutoscaler: {}\nworkloads:\n  - name: w\n    replicas: 0\n    template: {spec: {containers: [{name: c, resources: {requests: {cpu: 500m, memory: 1Gi}}}]}}\n";
    let scenario = match load_str("bench.yaml", yaml, Path::new("."), &[]) {
        Ok(s) => s,
        Err(e) => panic!("bench scenario must load: {e}"),
    };
    let mut world = World::new(&scenario);
    for n in 0..5000u32 {
        for _ in 0..(n * 3 % 8) {
            let pod = world.create_pod(WorkloadId(0), SimTime::ZERO);
            world.bind(pod, NodeId(n));
        }
    }
    for _ in 0..1000 {
        let pod = world.create_pod(WorkloadId(0), SimTime::ZERO);
        world.pods[pod.0 as usize].unschedulable_since = Some(SimTime::ZERO);
    }
    let cfg = scenario.cluster_autoscaler.clone().unwrap_or_default();
    let budgets = vec![Vec::new(); world.specs.len()];
    let mut group = c.benchmark_group("cluster_autoscaler");
    group.throughput(Throughput::Elements(1));
    group.bench_function("5000_nodes_1000_pending", |b| {
        b.iter_batched(
            || ClusterAutoscaler::new(cfg.clone(), RngStreams::new(1).stream("ca"), &world),
            |mut ca| black_box(ca.run_once(&world, SimTime::from_secs(10), &[], &budgets)),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// Karpenter over 1,000 of its nodes (c6i.xlarge, 1 to 7 pods of 500m each): one
/// provisioning pass for 1,000 pending pods, and one disruption poll (no empty node: the
/// multi-node binary search over the candidates, within the default 10% budget).
fn karpenter_pass(c: &mut Criterion) {
    let yaml = "name: bench\nduration: 1m\ncluster:\n  pools: []\nkarpenter:\n  nodePools:\n    - {name: default, provider: aws, instanceTypes: [\"c6i.*\", \"m6i.*\"], zones: [a, b, c]}\nworkloads:\n  - name: w\n    replicas: 0\n    template: {spec: {containers: [{name: c, resources: {requests: {cpu: 500m, memory: 1Gi}}}]}}\n";
    let scenario = match load_str("bench.yaml", yaml, Path::new("."), &[]) {
        Ok(s) => s,
        Err(e) => panic!("bench scenario must load: {e}"),
    };
    let mut world = World::new(&scenario);
    let xlarge = world
        .pools
        .iter()
        .position(|p| p.instance_type == "c6i.xlarge")
        .unwrap_or(0) as u32;
    for n in 0..1000u32 {
        let node = world.add_node(kubesim::cluster::PoolId(xlarge), SimTime::ZERO);
        for _ in 0..1 + n * 3 % 7 {
            let pod = world.create_pod(WorkloadId(0), SimTime::ZERO);
            world.bind(pod, node);
        }
    }
    for _ in 0..1000 {
        let pod = world.create_pod(WorkloadId(0), SimTime::ZERO);
        world.pods[pod.0 as usize].unschedulable_since = Some(SimTime::ZERO);
    }
    let Some(cfg) = scenario.karpenter.clone() else {
        panic!("bench scenario has karpenter");
    };
    let budgets = vec![Vec::new(); world.specs.len()];
    let mut group = c.benchmark_group("karpenter");
    group.throughput(Throughput::Elements(1));
    group.bench_function("provision_1000_pending", |b| {
        b.iter_batched(
            || {
                let mut k = Karpenter::new(cfg.clone(), &world);
                k.open_batch(SimTime::ZERO);
                k
            },
            |mut k| black_box(k.batch_tick(&world, SimTime::from_secs(20))),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("disruption_poll_1000_nodes", |b| {
        b.iter_batched(
            || Karpenter::new(cfg.clone(), &world),
            |mut k| black_box(k.disrupt(&world, SimTime::from_secs(100), &[], &budgets)),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(
    benches,
    event_queue,
    scheduling_decision,
    quickstart_run,
    scale_run,
    traffic,
    autoscaler_pass,
    karpenter_pass
);
criterion_main!(benches);
