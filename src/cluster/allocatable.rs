//! A node's allocatable from its capacity, by each managed Kubernetes service's published
//! reservation formula: capacity minus kube-reserved, system-reserved and the hard
//! eviction threshold.
//!
//! Sources: EKS — awslabs/amazon-eks-ami `nodeadm/internal/kubelet/config.go`
//! (`getCPUMillicoresToReserve`, `getMemoryMebibytesToReserve`: 11 MiB × maxPods + 255 MiB;
//! eviction 100 MiB); GKE — "Plan node sizes: memory and CPU reservations" (25/20/10/6/2 %
//! memory brackets, 255 MiB under 1 GiB, 1060m on shared-core e2 types, eviction 100 MiB);
//! AKS — "Node resource reservations" for Kubernetes 1.29 and later (memory
//! min(20 MiB × maxPods + 50 MiB, 25 %), CPU 60/100/140/180/260/420/740m for
//! 1/2/4/8/16/32/64 cores, eviction 100 MiB). All computed on the nominal instance memory
//! (a real kubelet sees 2–7 % less); OCI's formula is not modelled (allocatable =
//! capacity).

const MIB: u64 = 1024 * 1024;

/// Which provider's formula applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservations {
    /// Amazon EKS.
    Eks,
    /// Google GKE.
    Gke,
    /// Azure AKS (1.29+).
    Aks,
    /// Allocatable = capacity.
    None,
}

impl Reservations {
    /// The formula of a catalog provider (`aws`, `gcp`, `azure`; others none).
    pub fn for_provider(provider: &str) -> Reservations {
        match provider {
            "aws" => Reservations::Eks,
            "gcp" => Reservations::Gke,
            "azure" => Reservations::Aks,
            _ => Reservations::None,
        }
    }
}

/// Σ rate × (the part of `x` inside each bracket); `brackets` are (upper bound, rate).
fn tiered(x: f64, brackets: &[(f64, f64)]) -> f64 {
    let mut lower = 0.0;
    let mut total = 0.0;
    for &(upper, rate) in brackets {
        if x <= lower {
            break;
        }
        total += (x.min(upper) - lower) * rate;
        lower = upper;
    }
    total
}

/// Kube-reserved CPU, milli-cores.
fn reserved_cpu_milli(r: Reservations, cpu_milli: u64, instance_type: &str) -> u64 {
    let cpu = cpu_milli as f64;
    let inf = f64::INFINITY;
    match r {
        Reservations::None => 0,
        Reservations::Gke if matches!(instance_type, "e2-micro" | "e2-small" | "e2-medium") => 1060,
        Reservations::Eks | Reservations::Gke => tiered(
            cpu,
            &[
                (1000.0, 0.06),
                (2000.0, 0.01),
                (4000.0, 0.005),
                (inf, 0.0025),
            ],
        ) as u64,
        Reservations::Aks => tiered(
            cpu,
            &[(1000.0, 0.06), (2000.0, 0.04), (4000.0, 0.02), (inf, 0.01)],
        ) as u64,
    }
}

/// Kube-reserved memory plus the eviction threshold, bytes.
fn reserved_memory_bytes(r: Reservations, memory_bytes: u64, max_pods: u32) -> u64 {
    let mib = (memory_bytes / MIB) as f64;
    let eviction = 100 * MIB;
    match r {
        Reservations::None => 0,
        Reservations::Eks => (11 * u64::from(max_pods) + 255) * MIB + eviction,
        Reservations::Gke if memory_bytes < 1024 * MIB => 255 * MIB + eviction,
        Reservations::Gke => {
            // Each bracket truncated to whole MiB, as the implementations do.
            let brackets = [
                (4096.0, 0.25),
                (8192.0, 0.20),
                (16384.0, 0.10),
                (131072.0, 0.06),
                (f64::INFINITY, 0.02),
            ];
            let mut lower = 0.0;
            let mut total = 0u64;
            for (upper, rate) in brackets {
                if mib <= lower {
                    break;
                }
                total += ((mib.min(upper) - lower) * rate) as u64;
                lower = upper;
            }
            total * MIB + eviction
        }
        Reservations::Aks => {
            let by_pods = 20 * u64::from(max_pods) + 50;
            let cap = (mib * 0.25) as u64;
            by_pods.min(cap) * MIB + eviction
        }
    }
}

/// Allocatable (CPU milli-cores, memory bytes) of a node with this capacity.
pub fn allocatable(
    r: Reservations,
    cpu_milli: u64,
    memory_bytes: u64,
    max_pods: u32,
    instance_type: &str,
) -> (u64, u64) {
    (
        cpu_milli.saturating_sub(reserved_cpu_milli(r, cpu_milli, instance_type)),
        memory_bytes.saturating_sub(reserved_memory_bytes(r, memory_bytes, max_pods)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mib(r: Reservations, vcpu: u64, gib: u64, pods: u32) -> (u64, u64) {
        let (c, m) = allocatable(r, vcpu * 1000, gib * 1024 * MIB, pods, "x");
        (c, m / MIB)
    }

    #[test]
    fn published_worked_examples() {
        // EKS (maxPods from eni-max-pods.txt): m5.large, m5.xlarge; 110 pods with prefix
        // delegation.
        assert_eq!(mib(Reservations::Eks, 2, 8, 29), (1930, 7518));
        assert_eq!(mib(Reservations::Eks, 4, 16, 58), (3920, 15391));
        assert_eq!(mib(Reservations::Eks, 2, 8, 110), (1930, 6627));
        // GKE: e2-standard-2, e2-standard-4 (the doc's 4-vCPU example: 3920m).
        assert_eq!(mib(Reservations::Gke, 2, 8, 110), (1930, 6249));
        assert_eq!(mib(Reservations::Gke, 4, 16, 110), (3920, 13622));
        // AKS 1.29+: D2s_v5 and D4s_v5 with CNI Overlay (250 pods), and 110 / 30 pods.
        assert_eq!(mib(Reservations::Aks, 2, 8, 250), (1900, 6044));
        assert_eq!(mib(Reservations::Aks, 4, 16, 250), (3860, 12188));
        assert_eq!(mib(Reservations::Aks, 4, 16, 110), (3860, 14034));
        assert_eq!(mib(Reservations::Aks, 2, 8, 30), (1900, 7442));
    }

    #[test]
    fn cpu_reservation_tables() {
        // EKS/GKE: 60, 70, 80, 90, 110, 150, 230m for 1..64 cores; AKS: 60, 100, 140, 180,
        // 260, 420, 740m.
        let cores = [1, 2, 4, 8, 16, 32, 64];
        let eks = cores.map(|c| reserved_cpu_milli(Reservations::Eks, c * 1000, "x"));
        assert_eq!(eks, [60, 70, 80, 90, 110, 150, 230]);
        let aks = cores.map(|c| reserved_cpu_milli(Reservations::Aks, c * 1000, "x"));
        assert_eq!(aks, [60, 100, 140, 180, 260, 420, 740]);
        assert_eq!(
            reserved_cpu_milli(Reservations::Gke, 2000, "e2-medium"),
            1060
        );
        assert_eq!(
            reserved_memory_bytes(Reservations::Gke, 512 * MIB, 110),
            355 * MIB
        );
        assert_eq!(
            allocatable(Reservations::None, 2000, 8 << 30, 110, "x"),
            (2000, 8 << 30)
        );
    }
}
