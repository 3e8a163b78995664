//! Upstream's HPA test cases, ported by their numbers: each case names the upstream test
//! (kubernetes/kubernetes `pkg/controller/podautoscaler/replica_calculator_test.go` and
//! `horizontal_test.go`) and asserts upstream's expected replica count, utilization and
//! limiting reason.
//!
//! Upstream's fixtures leave metric timestamps and Ready transition times at the zero
//! time and start pods in year 1; here "zero" is t = 0 and "now" is 10⁶ s, so the same
//! pods are hot, cool or long-started exactly as upstream's are.

use super::behavior::*;
use super::replicas::*;
use crate::engine::SimTime;

const NOW: SimTime = SimTime::from_secs(1_000_000);
/// Upstream's test constants (`defaultTestingCPUInitializationPeriod`,
/// `defaultTestingDelayOfInitialReadinessStatus`).
const TEST_CFG: CalculatorConfig = CalculatorConfig {
    cpu_initialization_period: SimTime::from_secs(120),
    initial_readiness_delay: SimTime::from_secs(10),
};
const TOL: Tolerances = Tolerances {
    scale_down: 0.1,
    scale_up: 0.1,
};

/// How a fixture pod starts: upstream's default (year 1), `hot` (now) or `cool` (3 min ago).
#[derive(Clone, Copy)]
enum Start {
    Default,
    Hot,
    Cool,
}

/// One fixture pod: phase, Ready status, start, pod request (milli) and metric (milli).
#[derive(Clone, Copy)]
struct P {
    phase: Phase,
    ready: bool,
    start: Start,
    deleting: bool,
    request: Option<i64>,
    metric: Option<i64>,
}

/// A Running, Ready, long-started pod with upstream's two containers of `req` each, each
/// using `usage` (so the pod values are doubled, as upstream's raw figures are).
fn pod(req: i64, usage: Option<i64>) -> P {
    P {
        phase: Phase::Running,
        ready: true,
        start: Start::Default,
        deleting: false,
        request: Some(2 * req),
        metric: usage.map(|u| 2 * u),
    }
}

fn views(pods: &[P]) -> Vec<PodView> {
    pods.iter()
        .map(|p| PodView {
            phase: p.phase,
            deleting: p.deleting,
            ready: Some((p.ready, SimTime::ZERO)),
            start: Some(match p.start {
                Start::Default => SimTime::ZERO,
                Start::Hot => NOW,
                Start::Cool => NOW.saturating_sub(SimTime::from_secs(180)),
            }),
            request: p.request,
            metric: p.metric.map(|value| PodMetric {
                value,
                timestamp: SimTime::ZERO,
                window: SimTime::from_secs(60),
            }),
        })
        .collect()
}

fn cpu(current: u32, target: i32, pods: &[P]) -> Result<Proposal, CalcError> {
    cpu_tol(current, target, pods, TOL)
}

fn cpu_tol(current: u32, target: i32, pods: &[P], tol: Tolerances) -> Result<Proposal, CalcError> {
    resource_utilization_replicas(current, target, "cpu", &views(pods), NOW, &TEST_CFG, tol)
}

fn with<F: Fn(&mut P)>(mut p: P, f: F) -> P {
    f(&mut p);
    p
}

fn unready(p: P) -> P {
    with(p, |p| p.ready = false)
}

fn started(p: P, s: Start) -> P {
    with(p, |p| p.start = s)
}

fn expect(r: Result<Proposal, CalcError>, replicas: u32, current: i64, case: &str) {
    let p = r.unwrap_or_else(|e| panic!("{case}: {e}"));
    assert_eq!((p.replicas, p.current), (replicas, current), "{case}");
}

#[test]
fn resource_scale_cases() {
    let p = |u| pod(1000, Some(u));
    // RS-1 TestReplicaCalcScaleUp: 50% against 30% → 5.
    expect(cpu(3, 30, &[p(300), p(500), p(700)]), 5, 50, "RS-1");
    // RS-3 ScaleUpUnreadyLessScale: the unready pod counts as 0 → 4.
    expect(
        cpu(3, 30, &[unready(p(300)), p(500), p(700)]),
        4,
        60,
        "RS-3",
    );
    // RS-5 ScaleUpHotCpuLessScale: a pod in its CPU initialization period likewise.
    let hot = [
        started(p(300), Start::Hot),
        started(p(500), Start::Cool),
        started(p(700), Start::Cool),
    ];
    expect(cpu(3, 30, &hot), 4, 60, "RS-5");
    // RS-6 ScaleUpUnreadyNoScale: filling the unready flips the direction → stay.
    expect(
        cpu(3, 30, &[p(400), unready(p(500)), unready(p(700))]),
        3,
        40,
        "RS-6",
    );
    // RS-7 ScaleHotCpuNoScale.
    let hot = [
        started(p(400), Start::Cool),
        unready(started(p(500), Start::Hot)),
        unready(started(p(700), Start::Hot)),
    ];
    expect(cpu(3, 30, &hot), 3, 40, "RS-7");
    // RS-8 ScaleUpIgnoresFailedPods.
    let failed = with(pod(1000, None), |p| {
        p.phase = Phase::Failed;
        p.ready = false;
    });
    expect(cpu(2, 30, &[p(500), p(700), failed, failed]), 4, 60, "RS-8");
    // RS-11 ScaleUpIgnoresDeletionPods.
    let deleting = with(unready(pod(1000, None)), |p| p.deleting = true);
    expect(
        cpu(2, 30, &[p(500), p(700), deleting, deleting]),
        4,
        60,
        "RS-11",
    );
    // RS-13 TestReplicaCalcScaleDown: 28% against 50% → 3.
    let five = [p(100), p(300), p(500), p(250), p(250)];
    expect(cpu(5, 50, &five), 3, 28, "RS-13");
    // RS-15 ScaleDownExcludeUnreadyPods: ceil(0.6 × 3 ready) = 2.
    let mut r15 = five;
    r15[3].ready = false;
    r15[4].ready = false;
    expect(cpu(5, 50, &r15), 2, 30, "RS-15");
    // RS-17 ScaleDownExcludeUnscheduledPods: Pending pods are unready.
    let pending = with(unready(pod(1000, None)), |p| p.phase = Phase::Pending);
    expect(
        cpu(5, 50, &[p(100), pending, pending, pending, pending]),
        1,
        10,
        "RS-17",
    );
    // RS-19 ScaleDownIgnoreHotCpuPods.
    let mut r19 = five;
    r19[3].start = Start::Hot;
    r19[4].start = Start::Hot;
    for p in &mut r19[..3] {
        p.start = Start::Cool;
    }
    expect(cpu(5, 50, &r19), 2, 30, "RS-19");
    // RS-21 ScaleDownIgnoresFailedPods, RS-23 ScaleDownIgnoresDeletionPods.
    let mut r21 = five.to_vec();
    r21.extend([failed, failed]);
    expect(cpu(5, 50, &r21), 3, 28, "RS-21");
    let mut r23 = five.to_vec();
    r23.extend([deleting, deleting]);
    expect(cpu(5, 50, &r23), 3, 28, "RS-23");
}

#[test]
fn resource_tolerance_cases() {
    // Requests 900m, 1000m, 1100m per container; target 100%; 3 pods.
    let pods = |a, b, c| [pod(900, Some(a)), pod(1000, Some(b)), pod(1100, Some(c))];
    let tol = |down, up| Tolerances {
        scale_down: down,
        scale_up: up,
    };
    expect(cpu(3, 100, &pods(1010, 1030, 1020)), 3, 102, "RT-1");
    expect(
        cpu_tol(3, 100, &pods(909, 1010, 1111), tol(0.0, 0.0)),
        4,
        101,
        "RT-2",
    );
    expect(
        cpu_tol(3, 100, &pods(1890, 1910, 1900), tol(0.1, 2.0)),
        3,
        190,
        "RT-3",
    );
    expect(
        cpu_tol(3, 100, &pods(1100, 1080, 1090), tol(2.0, 0.08)),
        4,
        109,
        "RT-4",
    );
    expect(
        cpu_tol(3, 100, &pods(660, 640, 650), tol(0.36, 0.1)),
        3,
        65,
        "RT-5",
    );
    expect(
        cpu_tol(3, 100, &pods(660, 640, 650), tol(0.34, 0.1)),
        2,
        65,
        "RT-6",
    );
    // TestReplicaCalcComputedToleranceAlgImplementation: 50% against 56 and 55.
    let reqs = [400, 200, 310, 290, 302, 298, 301, 299, 300, 300];
    let ten: Vec<P> = reqs.iter().map(|&r| pod(r, Some(150))).collect();
    expect(cpu(10, 56, &ten), 9, 50, "CT-1");
    expect(cpu(10, 55, &ten), 10, 50, "CT-2");
}

#[test]
fn resource_missing_metrics_cases() {
    let p = |u| pod(1000, Some(u));
    let missing = pod(1000, None);
    // RM-2 MissingMetrics: missing pods filled at the request when scaling down → 3.
    expect(
        cpu(4, 100, &[p(400), p(95), missing, missing]),
        3,
        24,
        "RM-2",
    );
    // RM-3..5: no change when the metric equals, exceeds or undershoots the target.
    expect(cpu(2, 100, &[p(1000), missing]), 2, 100, "RM-3");
    expect(cpu(2, 100, &[p(1900), missing]), 2, 190, "RM-4");
    expect(cpu(2, 100, &[p(600), missing]), 2, 60, "RM-5");
    // RM-6 MissingMetricsUnreadyChange, RM-7 MissingMetricsHotCpuNoChange.
    expect(
        cpu(3, 50, &[unready(p(100)), p(450), missing]),
        3,
        45,
        "RM-6",
    );
    let rm7 = [
        started(p(100), Start::Hot),
        started(p(450), Start::Cool),
        started(missing, Start::Cool),
    ];
    expect(cpu(3, 50, &rm7), 3, 45, "RM-7");
    // RM-8 MissingMetricsUnreadyScaleUp, RM-9 MissingMetricsHotCpuScaleUp.
    expect(
        cpu(3, 50, &[unready(p(100)), p(2000), missing]),
        4,
        200,
        "RM-8",
    );
    let rm9 = [
        unready(started(p(100), Start::Hot)),
        started(p(2000), Start::Cool),
        started(missing, Start::Cool),
    ];
    expect(cpu(3, 50, &rm9), 4, 200, "RM-9");
    // RM-10 MissingMetricsUnreadyScaleDown.
    expect(
        cpu(4, 50, &[unready(p(100)), p(100), p(100), missing]),
        3,
        10,
        "RM-10",
    );
    // RM-11 MissingMetricsScaleDownTargetOver100: missing filled at request × 300%.
    let rm11 = [
        unready(pod(1000, Some(200))),
        pod(1000, Some(100)),
        pod(2000, Some(100)),
        pod(2000, None),
    ];
    expect(cpu(4, 300, &rm11), 2, 6, "RM-11");
    // RM-12 DuringRollingUpdateWithMaxSurge: a surge pod without metrics does not scale up.
    expect(cpu(2, 50, &[p(100), p(100), missing]), 2, 10, "RM-12");
    // RM-14 EmptyMetrics and RM-15 EmptyCPURequest.
    assert_eq!(cpu(4, 100, &[missing; 4]), Err(CalcError::NoMetrics));
    let no_request = with(p(200), |p| p.request = None);
    assert_eq!(
        cpu(1, 100, &[no_request]),
        Err(CalcError::MissingRequest("cpu"))
    );
    assert_eq!(cpu(1, 100, &[]), Err(CalcError::NoPods));
}

fn plain(
    current: u32,
    target: i64,
    values: &[Option<i64>],
    readiness: &[(bool, Start)],
    tol: Tolerances,
) -> Proposal {
    let pods: Vec<P> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let (ready, start) = readiness.get(i).copied().unwrap_or((true, Start::Default));
            P {
                phase: Phase::Running,
                ready,
                start,
                deleting: false,
                request: None,
                metric: *v,
            }
        })
        .collect();
    average_value_replicas(current, target, false, &views(&pods), NOW, &TEST_CFG, tol)
        .expect("proposal")
}

#[test]
fn pods_metric_cases() {
    let v = |xs: &[i64]| xs.iter().map(|&x| Some(x)).collect::<Vec<_>>();
    let c = |p: Proposal| (p.replicas, p.current);
    assert_eq!(
        c(plain(3, 15000, &v(&[20000, 10000, 30000]), &[], TOL)),
        (4, 20000),
        "PM-1"
    );
    // Readiness and start time do not matter for Pods metrics.
    let r2 = [
        (true, Start::Cool),
        (true, Start::Cool),
        (false, Start::Hot),
    ];
    assert_eq!(
        c(plain(3, 15000, &v(&[50000, 10000, 30000]), &r2, TOL)),
        (6, 30000),
        "PM-2"
    );
    let r3 = [
        (false, Start::Hot),
        (true, Start::Cool),
        (false, Start::Hot),
    ];
    assert_eq!(
        c(plain(3, 15000, &v(&[50000, 15000, 30000]), &r3, TOL)),
        (7, 31666),
        "PM-3"
    );
    assert_eq!(
        c(plain(5, 20000, &v(&[12000; 5]), &[], TOL)),
        (3, 12000),
        "PM-4"
    );
    assert_eq!(
        c(plain(3, 20000, &v(&[20000, 21000, 21000]), &[], TOL)),
        (3, 20666),
        "PM-5"
    );
    let up1 = Tolerances {
        scale_down: 0.1,
        scale_up: 0.01,
    };
    assert_eq!(
        c(plain(3, 20000, &v(&[20000, 21000, 21000]), &[], up1)),
        (4, 20666),
        "PM-6"
    );
    let pm7 = [Some(20000), Some(19000), Some(21000), None, None];
    assert_eq!(c(plain(5, 20000, &pm7, &[], TOL)), (5, 20000), "PM-7");
    assert_eq!(
        c(plain(2, 17000, &[Some(10000), Some(10000), None], &[], TOL)),
        (2, 10000),
        "PM-8"
    );
}

#[test]
fn object_and_external_cases() {
    let up1 = Tolerances {
        scale_down: 0.1,
        scale_up: 0.01,
    };
    let c = |r: Result<Proposal, CalcError>| r.map(|p| (p.replicas, p.current)).expect("proposal");
    // Object Value (ready pods scale by the ratio).
    assert_eq!(
        c(value_replicas(3, 3, 20000, 15000, TOL)),
        (4, 20000),
        "OV-1"
    );
    assert_eq!(
        c(value_replicas(3, 1, 50000, 10000, TOL)),
        (5, 50000),
        "OV-3"
    );
    assert_eq!(
        c(value_replicas(5, 5, 12000, 20000, TOL)),
        (3, 12000),
        "OV-4"
    );
    assert_eq!(
        c(value_replicas(3, 3, 20666, 20000, TOL)),
        (3, 20666),
        "OV-5"
    );
    assert_eq!(
        c(value_replicas(3, 3, 20666, 20000, up1)),
        (4, 20666),
        "OV-6"
    );
    assert_eq!(
        value_replicas(3, 3, i64::MAX, 1, TOL).map(|p| p.replicas),
        Ok(i32::MAX as u32),
        "OV-2 saturates"
    );
    // Object AverageValue.
    assert_eq!(
        c(per_pod_value_replicas(3, 20000, 5000, TOL)),
        (4, 6667),
        "OA-1"
    );
    assert_eq!(
        c(per_pod_value_replicas(5, 6000, 2000, TOL)),
        (3, 1200),
        "OA-2"
    );
    assert_eq!(
        c(per_pod_value_replicas(4, 20166, 5000, TOL)),
        (4, 5042),
        "OA-3"
    );
    assert_eq!(
        c(per_pod_value_replicas(4, 20208, 5000, up1)),
        (5, 5052),
        "OA-4"
    );
    // External Value.
    assert_eq!(c(value_replicas(3, 1, 8600, 4400, TOL)), (2, 8600), "EV-1");
    assert_eq!(c(value_replicas(5, 5, 8600, 14334, TOL)), (3, 8600), "EV-2");
    assert_eq!(c(value_replicas(3, 3, 8600, 8888, TOL)), (3, 8600), "EV-3");
    assert_eq!(c(value_replicas(3, 3, 8900, 8800, up1)), (4, 8900), "EV-4");
    // External AverageValue.
    assert_eq!(
        c(per_pod_value_replicas(3, 8600, 2150, TOL)),
        (4, 2867),
        "EA-3"
    );
    assert_eq!(
        c(per_pod_value_replicas(5, 8600, 2867, TOL)),
        (3, 1720),
        "EA-4"
    );
    assert_eq!(
        c(per_pod_value_replicas(3, 8600, 2900, TOL)),
        (3, 2867),
        "EA-5"
    );
    assert_eq!(
        c(per_pod_value_replicas(3, 8600, 2800, up1)),
        (4, 2867),
        "EA-6"
    );
    assert_eq!(
        per_pod_value_replicas(1, i64::MAX, 1, TOL).map(|p| p.replicas),
        Ok(i32::MAX as u32),
        "EA-1 saturates"
    );
}

#[test]
fn group_pods_cases() {
    let g = |ready: Option<(bool, SimTime)>,
             start: Option<SimTime>,
             metric: Option<(SimTime, SimTime)>| {
        let view = PodView {
            phase: Phase::Running,
            deleting: false,
            ready,
            start,
            request: None,
            metric: metric.map(|(timestamp, window)| PodMetric {
                value: 1,
                timestamp,
                window,
            }),
        };
        group_pod(&view, true, NOW, &TEST_CFG)
    };
    let ago = |s: u64| NOW.saturating_sub(SimTime::from_secs(s));
    let fresh = Some((NOW, SimTime::from_secs(30)));
    // G-2: memory ignores readiness.
    let mem = PodView {
        phase: Phase::Running,
        deleting: false,
        ready: None,
        start: None,
        request: None,
        metric: Some(PodMetric {
            value: 1,
            timestamp: NOW,
            window: SimTime::from_secs(60),
        }),
    };
    assert_eq!(group_pod(&mem, false, NOW, &TEST_CFG), Group::Ready, "G-2");
    assert_eq!(g(None, Some(NOW), fresh), Group::Unready, "G-3");
    assert_eq!(
        g(Some((true, ago(30))), Some(ago(60)), fresh),
        Group::Ready,
        "G-4"
    );
    let stale = Some((NOW, SimTime::from_secs(60)));
    assert_eq!(
        g(Some((true, ago(30))), Some(ago(60)), stale),
        Group::Unready,
        "G-5"
    );
    assert_eq!(
        g(Some((false, ago(594))), Some(ago(600)), stale),
        Group::Unready,
        "G-6"
    );
    assert_eq!(
        g(
            Some((true, ago(180))),
            Some(ago(180)),
            Some((ago(120), SimTime::from_secs(60)))
        ),
        Group::Ready,
        "G-7"
    );
    assert_eq!(
        g(Some((false, ago(540))), Some(ago(600)), stale),
        Group::Ready,
        "G-8"
    );
    // G-9: the transition exactly at start + delay is not "before": ready.
    assert_eq!(
        g(Some((false, ago(590))), Some(ago(600)), stale),
        Group::Ready,
        "G-9"
    );
    assert_eq!(g(None, Some(ago(180)), None), Group::Missing, "G-10");
    let pending = PodView {
        phase: Phase::Pending,
        ..mem
    };
    assert_eq!(
        group_pod(&pending, true, NOW, &TEST_CFG),
        Group::Unready,
        "G-12"
    );
    let deleting = PodView {
        deleting: true,
        ..pending
    };
    assert_eq!(
        group_pod(&deleting, true, NOW, &TEST_CFG),
        Group::Ignored,
        "G-13"
    );
    let failed = PodView {
        phase: Phase::Failed,
        ..mem
    };
    assert_eq!(
        group_pod(&failed, true, NOW, &TEST_CFG),
        Group::Ignored,
        "G-14"
    );
}

fn secs(s: u64) -> SimTime {
    SimTime::from_secs(s)
}

fn recs(list: &[(u32, u64)]) -> History {
    History {
        recommendations: list
            .iter()
            .map(|&(replicas, age)| Recommendation {
                at: NOW.saturating_sub(secs(age)),
                replicas,
            })
            .collect(),
        ..History::default()
    }
}

#[test]
fn legacy_stabilization_cases() {
    // TestNormalizeDesiredReplicas: (history, prenormalized, stabilized, log length).
    type Case<'a> = (&'a [(u32, u64)], u32, u32, usize);
    let cases: [Case; 5] = [
        (&[], 5, 5, 1),
        (&[(4, 120), (5, 60)], 3, 5, 3),
        (&[(1, 120), (2, 60)], 3, 3, 3),
        (&[(10, 600), (9, 540)], 3, 3, 2),
        (&[(10, 600), (4, 60), (5, 120), (9, 540)], 3, 5, 4),
    ];
    for (i, (history, desired, expected, len)) in cases.into_iter().enumerate() {
        let mut h = recs(history);
        assert_eq!(
            h.stabilize_legacy(NOW, desired, secs(300)),
            expected,
            "case {}",
            i + 1
        );
        assert_eq!(h.recommendations.len(), len, "case {} log", i + 1);
    }
    // TestConvertDesiredReplicasWithRules (upstream's tests set the factor to 8).
    let cases = [
        (5, 7, 3, 8, 7, Limit::DesiredWithinRange),
        (3, 1, 2, 8, 2, Limit::TooFewReplicas),
        (1, 0, 0, 10, 0, Limit::DesiredWithinRange),
        (20, 1000, 1, 10, 10, Limit::TooManyReplicas),
        (3, 1000, 1, 2000, 24, Limit::ScaleUpLimit),
    ];
    for (current, desired, min, max, expected, limit) in cases {
        assert_eq!(
            convert_legacy_with_factor(current, desired, min, max, 8.0),
            (expected, limit)
        );
    }
    // With the production factor 2 the last case caps at max(2 × 3, 4) = 6.
    assert_eq!(convert_legacy(3, 1000, 1, 2000), (6, Limit::ScaleUpLimit));
}

fn behavior(up: ScalingRules, down: ScalingRules) -> Behavior {
    Behavior {
        scale_up: up,
        scale_down: down,
    }
}

fn windows(up: u64, down: u64) -> Behavior {
    let mut b = behavior(
        ScalingRules::default_up(0.1),
        ScalingRules::default_down(secs(down), 0.1),
    );
    b.scale_up.stabilization = secs(up);
    b
}

#[test]
fn behavior_stabilization_cases() {
    // TestNormalizeDesiredReplicasWithBehavior: (history, current, desired, up window,
    // down window, stabilized, log values).
    type Case<'a> = (&'a [(u32, u64)], u32, u32, u64, u64, u32, &'a [u32]);
    let cases: [Case; 11] = [
        (&[], 100, 5, 0, 0, 5, &[5]),
        (&[(4, 120), (5, 60)], 100, 3, 0, 180, 5, &[4, 5, 3]),
        (&[(4, 120), (5, 60)], 1, 7, 300, 0, 4, &[4, 5, 7]),
        (&[(1, 120), (2, 60)], 100, 3, 300, 0, 3, &[1, 2, 3]),
        (&[(4, 120), (5, 60)], 1, 3, 0, 300, 3, &[4, 5, 3]),
        (&[(10, 600), (9, 540)], 100, 3, 0, 0, 3, &[10, 3]),
        (&[(10, 600), (9, 540)], 1, 100, 0, 0, 100, &[10, 100]),
        (
            &[(10, 600), (4, 60), (5, 120), (9, 540)],
            100,
            3,
            0,
            180,
            5,
            &[10, 4, 5, 3],
        ),
        (
            &[(10, 6000), (6, 60), (5, 120), (9, 180)],
            1,
            100,
            300,
            0,
            5,
            &[100, 6, 5, 9],
        ),
        (&[(2, 6000), (3, 180)], 2, 1, 300, 300, 2, &[]),
        (&[(2, 6000), (1, 180)], 2, 3, 300, 300, 2, &[]),
    ];
    for (i, (history, current, desired, up, down, expected, log)) in cases.into_iter().enumerate() {
        let mut h = recs(history);
        let got = h.stabilize(NOW, current, desired, &windows(up, down));
        assert_eq!(got, expected, "case {}", i + 1);
        if !log.is_empty() {
            let values: Vec<u32> = h.recommendations.iter().map(|r| r.replicas).collect();
            assert_eq!(values, log, "case {} log", i + 1);
        }
    }
}

fn rules(
    select: SelectPolicy,
    policies: &[(PolicyKind, i32, u64)],
    stabilization: u64,
) -> ScalingRules {
    ScalingRules {
        stabilization: secs(stabilization),
        select,
        policies: policies
            .iter()
            .map(|&(kind, value, period)| Policy {
                kind,
                value,
                period: secs(period),
            })
            .collect(),
        tolerance: 0.1,
    }
}

fn events(list: &[(u32, u64)]) -> Vec<ScaleEvent> {
    list.iter()
        .map(|&(change, age)| ScaleEvent {
            at: NOW.saturating_sub(secs(age)),
            change,
            outdated: false,
        })
        .collect()
}

#[test]
fn scaling_with_rules_cases() {
    use PolicyKind::{Percent, Pods};
    let def_up = ScalingRules::default_up(0.1);
    let def_down = ScalingRules::default_down(secs(300), 0.1);
    let max = SelectPolicy::Max;
    let burst: &[(u32, u64)] = &[(1, 100), (5, 60), (9, 20)];
    // TestScalingWithRules: (up events, down events, up rules, down rules, current,
    // prenormalized, min, max, expected, reason).
    type Case<'a> = (
        &'a [(u32, u64)],
        &'a [(u32, u64)],
        ScalingRules,
        ScalingRules,
        u32,
        u32,
        u32,
        u32,
        u32,
        Limit,
    );
    let cases: Vec<Case> = vec![
        (
            &[],
            &[],
            def_up.clone(),
            def_down.clone(),
            5,
            7,
            3,
            8,
            7,
            Limit::DesiredWithinRange,
        ),
        (
            &[],
            &[],
            def_up.clone(),
            def_down.clone(),
            3,
            1,
            2,
            8,
            2,
            Limit::TooFewReplicas,
        ),
        (
            &[],
            &[],
            def_up.clone(),
            def_down.clone(),
            1,
            0,
            0,
            10,
            0,
            Limit::DesiredWithinRange,
        ),
        (
            &[],
            &[],
            def_up.clone(),
            def_down.clone(),
            20,
            1000,
            1,
            10,
            10,
            Limit::TooManyReplicas,
        ),
        (
            &[],
            &[],
            def_up.clone(),
            def_down.clone(),
            100,
            1000,
            100,
            150,
            150,
            Limit::TooManyReplicas,
        ),
        (
            &[],
            &[],
            rules(max, &[(Percent, 1, 60)], 0),
            def_down.clone(),
            3,
            1000,
            1,
            2000,
            4,
            Limit::ScaleUpLimit,
        ),
        (
            &[],
            &[],
            def_up.clone(),
            def_down.clone(),
            10,
            50,
            1,
            1000,
            20,
            Limit::ScaleUpLimit,
        ),
        (
            &[],
            &[],
            rules(max, &[(Pods, 100, 60), (Percent, 100, 60)], 0),
            def_down.clone(),
            10,
            500,
            1,
            1000,
            110,
            Limit::ScaleUpLimit,
        ),
        (
            &[],
            &[],
            rules(max, &[(Pods, 2, 60), (Percent, 100, 60)], 0),
            def_down.clone(),
            10,
            500,
            1,
            1000,
            20,
            Limit::ScaleUpLimit,
        ),
        (
            &[],
            &[],
            rules(max, &[(Pods, 100, 60)], 0),
            def_down.clone(),
            10,
            50,
            1,
            1000,
            50,
            Limit::DesiredWithinRange,
        ),
        (
            &[],
            &[],
            rules(max, &[(Pods, 10000, 60)], 0),
            def_down.clone(),
            10,
            50,
            1,
            1000,
            50,
            Limit::DesiredWithinRange,
        ),
        (
            &[],
            &[],
            rules(max, &[(Pods, 30, 60)], 0),
            def_down.clone(),
            10,
            50,
            1,
            1000,
            40,
            Limit::ScaleUpLimit,
        ),
        (
            &[],
            &[],
            rules(max, &[(Percent, 200, 60)], 0),
            def_down.clone(),
            10,
            50,
            1,
            1000,
            30,
            Limit::ScaleUpLimit,
        ),
        (
            &[],
            &[],
            def_up.clone(),
            rules(max, &[(Pods, 20, 60), (Percent, 1, 60)], 300),
            100,
            2,
            1,
            1000,
            80,
            Limit::ScaleDownLimit,
        ),
        (
            &[],
            &[],
            def_up.clone(),
            rules(max, &[(Pods, 2, 60), (Percent, 1, 60)], 300),
            100,
            2,
            1,
            1000,
            98,
            Limit::ScaleDownLimit,
        ),
        (
            &[],
            &[],
            def_up.clone(),
            rules(max, &[(Pods, 100, 60)], 300),
            10,
            0,
            1,
            1000,
            1,
            Limit::TooFewReplicas,
        ),
        (
            &[],
            &[],
            def_up.clone(),
            rules(max, &[(Percent, 100, 60)], 300),
            10,
            2,
            5,
            1000,
            5,
            Limit::TooFewReplicas,
        ),
        (
            &[],
            &[],
            def_up.clone(),
            rules(max, &[(Pods, 5, 60)], 300),
            10,
            2,
            1,
            1000,
            5,
            Limit::ScaleDownLimit,
        ),
        (
            &[],
            &[],
            def_up.clone(),
            rules(max, &[(Percent, 50, 60)], 300),
            10,
            5,
            1,
            1000,
            5,
            Limit::DesiredWithinRange,
        ),
        (
            burst,
            &[],
            rules(max, &[(Pods, 300, 60)], 0),
            def_down.clone(),
            100,
            500,
            1,
            200,
            200,
            Limit::TooManyReplicas,
        ),
        (
            burst,
            &[],
            rules(max, &[(Percent, 10000, 60)], 0),
            def_down.clone(),
            100,
            500,
            1,
            200,
            200,
            Limit::TooManyReplicas,
        ),
        (
            burst,
            &[],
            rules(max, &[(Pods, 5, 120)], 0),
            def_down.clone(),
            100,
            500,
            1,
            1000,
            100,
            Limit::ScaleUpLimit,
        ),
        (
            burst,
            &[],
            rules(max, &[(Pods, 150, 120)], 0),
            def_down.clone(),
            100,
            500,
            1,
            1000,
            235,
            Limit::ScaleUpLimit,
        ),
        (
            burst,
            &[],
            rules(max, &[(Percent, 200, 120)], 0),
            def_down.clone(),
            100,
            500,
            1,
            1000,
            255,
            Limit::ScaleUpLimit,
        ),
        (
            &[(4, 60)],
            &[(2, 60)],
            rules(max, &[(Percent, 300, 300)], 0),
            def_down.clone(),
            6,
            24,
            1,
            1000,
            16,
            Limit::ScaleUpLimit,
        ),
        (
            &[],
            burst,
            def_up.clone(),
            def_down.clone(),
            10,
            5,
            1,
            1000,
            5,
            Limit::DesiredWithinRange,
        ),
        (
            &[],
            burst,
            def_up.clone(),
            rules(max, &[(Pods, 115, 120)], 300),
            100,
            0,
            1,
            1000,
            1,
            Limit::TooFewReplicas,
        ),
        (
            &[],
            burst,
            def_up.clone(),
            rules(max, &[(Pods, 130, 120)], 300),
            100,
            0,
            5,
            1000,
            5,
            Limit::TooFewReplicas,
        ),
        (
            &[],
            burst,
            def_up.clone(),
            rules(max, &[(Percent, 100, 120)], 300),
            100,
            2,
            5,
            1000,
            5,
            Limit::TooFewReplicas,
        ),
        (
            &[],
            burst,
            def_up.clone(),
            rules(max, &[(Pods, 5, 120)], 300),
            100,
            2,
            1,
            1000,
            100,
            Limit::ScaleDownLimit,
        ),
        (
            &[],
            &[(2, 100), (4, 60), (6, 20)],
            def_up.clone(),
            rules(max, &[(Percent, 50, 120)], 300),
            100,
            0,
            1,
            1000,
            56,
            Limit::ScaleDownLimit,
        ),
        (
            &[(2, 60)],
            &[(4, 60)],
            def_up.clone(),
            rules(max, &[(Percent, 50, 180)], 0),
            10,
            1,
            1,
            1000,
            6,
            Limit::ScaleDownLimit,
        ),
        (
            &[],
            &[(10, 100), (10, 60), (10, 20)],
            def_up.clone(),
            rules(max, &[(Percent, 10, 120)], 300),
            100,
            0,
            1,
            1000,
            100,
            Limit::ScaleDownLimit,
        ),
        (
            &[],
            &[(10, 100), (10, 60), (10, 20)],
            def_up.clone(),
            rules(max, &[(Percent, 1000, 120)], 300),
            10,
            5,
            1,
            1000,
            5,
            Limit::DesiredWithinRange,
        ),
        (
            &[(8, 105), (12, 75), (9, 45), (11, 15)],
            &[],
            rules(max, &[(Pods, 1000, 60)], 0),
            def_down.clone(),
            100,
            200,
            1,
            1000,
            200,
            Limit::DesiredWithinRange,
        ),
        (
            &[],
            &[(8, 105), (12, 75), (9, 45), (11, 15)],
            def_up.clone(),
            rules(max, &[(Pods, 1000, 30), (Percent, 100, 60)], 300),
            100,
            5,
            1,
            1000,
            5,
            Limit::DesiredWithinRange,
        ),
    ];
    for (i, (up, down, up_rules, down_rules, current, desired, min, max_r, expected, limit)) in
        cases.into_iter().enumerate()
    {
        let h = History {
            recommendations: Vec::new(),
            scale_up_events: events(up),
            scale_down_events: events(down),
        };
        let b = behavior(up_rules, down_rules);
        assert_eq!(
            convert_with_behavior(&h, NOW, current, desired, min, max_r, &b),
            (expected, limit),
            "case {}",
            i + 1
        );
    }
    // TestCalculateScaleUpLimitWithScalingRules / ...ScaleDownLimitWithBehaviors (Min).
    let min_rules = rules(SelectPolicy::Min, &[(Pods, 2, 60), (Percent, 50, 60)], 300);
    assert_eq!(History::default().scale_up_limit(NOW, 1, &min_rules), 2);
    assert_eq!(History::default().scale_down_limit(NOW, 5, &min_rules), 3);
    // Disabled: no change in that direction.
    let disabled = rules(SelectPolicy::Disabled, &[], 0);
    let b = behavior(disabled.clone(), disabled);
    assert_eq!(
        convert_with_behavior(&History::default(), NOW, 5, 9, 1, 10, &b),
        (5, Limit::ScaleUpLimit)
    );
    assert_eq!(
        convert_with_behavior(&History::default(), NOW, 5, 2, 1, 10, &b),
        (5, Limit::ScaleDownLimit)
    );
}

#[test]
fn store_scale_events_cases() {
    use PolicyKind::{Percent, Pods};
    let two = rules(SelectPolicy::Max, &[(Pods, 10, 60), (Percent, 100, 60)], 0);
    // TestStoreScaleEvents: (previous, rules, change in last 60 s, events after).
    type Case<'a> = (&'a [(u32, u64)], ScalingRules, i64, &'a [(u32, bool)]);
    let cases: [Case; 6] = [
        (&[], two.clone(), 0, &[(5, false)]),
        (&[(7, 61)], two.clone(), 0, &[(5, false)]),
        (&[(7, 58)], two.clone(), 7, &[(7, false), (5, false)]),
        (
            &[(7, 61), (6, 59)],
            rules(SelectPolicy::Max, &[(Pods, 10, 60)], 0),
            6,
            &[(5, false), (6, false)],
        ),
        (
            &[(8, 29), (6, 59), (7, 61), (9, 61)],
            rules(SelectPolicy::Max, &[(Pods, 10, 60), (Percent, 100, 30)], 0),
            14,
            &[(8, false), (6, false), (7, true), (5, false)],
        ),
        (
            &[(7, 58), (6, 59)],
            rules(SelectPolicy::Max, &[(Pods, 10, 120), (Percent, 100, 30)], 0),
            13,
            &[(7, false), (6, false), (5, false)],
        ),
    ];
    for (i, (previous, r, change, after)) in cases.into_iter().enumerate() {
        for up in [true, false] {
            let mut h = History::default();
            let b = behavior(r.clone(), r.clone());
            if up {
                h.scale_up_events = events(previous);
                // period start = current − added: the change is what the window holds.
                assert_eq!(
                    10 - h.scale_up_limit(NOW, 10, &rules(SelectPolicy::Max, &[(Pods, 0, 60)], 0)),
                    change,
                    "case {} up",
                    i + 1
                );
                h.store_scale_event(&b, NOW, 10, 15);
            } else {
                h.scale_down_events = events(previous);
                h.store_scale_event(&b, NOW, 10, 5);
            }
            let list = if up {
                &h.scale_up_events
            } else {
                &h.scale_down_events
            };
            let got: Vec<(u32, bool)> = list.iter().map(|e| (e.change, e.outdated)).collect();
            assert_eq!(
                got,
                after,
                "case {} ({})",
                i + 1,
                if up { "up" } else { "down" }
            );
        }
    }
}
