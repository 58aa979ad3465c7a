//! The demo's usage history: twelve observations of every running pod, two hours apart over
//! one day, as metrics-server would report them (`kubectl get --raw
//! /apis/metrics.k8s.io/v1beta1/pods`).
//!
//! Each workload has a usage profile: the share of its requests it uses at the quietest and
//! at the busiest hour of the day, for CPU and for memory. A pod's usage at each observation
//! follows a daily load curve between the two, plus a small jitter of its own (a hash of the
//! pod's name and the observation: deterministic, no random generator). Some workloads are
//! heavily over-provisioned (the shop's web tier and recommendations use under a fifth of
//! their requests), some right-sized, a few at or over their requests (checkout, fraud
//! scoring, the search indexer).

use compactor_core::model::{PodSpec, SnapshotSpec};
use compactor_core::resources::{CPU, MEMORY, ResourceList};
use std::collections::BTreeMap;

use serde::Serialize;

/// Observations in the demo's usage history.
pub const SAMPLES: u32 = 12;

/// The daily load, in percent of the busiest hour, at each observation (00:00, 02:00, …,
/// 22:00 UTC).
const LOAD: [u64; SAMPLES as usize] = [10, 5, 0, 10, 35, 65, 90, 100, 95, 75, 45, 25];

/// Usage in percent of the requests at the quietest and at the busiest hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Profile {
    cpu: (u64, u64),
    memory: (u64, u64),
}

const fn profile(cpu: (u64, u64), memory: (u64, u64)) -> Profile {
    Profile { cpu, memory }
}

/// The usage profile of a pod's workload.
fn profile_of(pod: &PodSpec) -> Profile {
    let owner = pod
        .owner
        .as_ref()
        .map(|o| (o.kind.as_str(), o.name.as_str()));
    match (pod.namespace.as_str(), owner) {
        // Node agents and the static load balancer.
        ("kube-system", Some(("DaemonSet", _))) => profile((10, 35), (45, 55)),
        ("logging", Some(("DaemonSet", _))) => profile((20, 60), (40, 60)),
        (_, Some(("Node", _))) => profile((10, 45), (35, 40)),
        ("ingress", _) => profile((15, 60), (30, 40)),
        ("kube-system", Some((_, "coredns"))) => profile((5, 20), (30, 35)),
        ("kube-system", _) => profile((5, 12), (15, 20)),
        // Heavily over-provisioned: sized for a launch that never came.
        ("shop", Some((_, "web"))) => profile((4, 14), (18, 24)),
        ("shop", Some((_, "recommendations"))) => profile((6, 20), (15, 22)),
        ("shop", Some((_, "frontend"))) => profile((10, 50), (12, 16)),
        ("auth", Some((_, "keycloak"))) => profile((4, 15), (85, 92)),
        ("notifications", Some((_, "scheduler"))) => profile((3, 6), (10, 12)),
        ("notifications", Some((_, "webhooks"))) => profile((5, 25), (20, 28)),
        ("shop", Some((_, "session-cache"))) => profile((5, 20), (70, 80)),
        // Right-sized.
        ("shop", Some((_, "api"))) => profile((30, 75), (55, 70)),
        ("shop", Some((_, "cart"))) => profile((20, 55), (60, 75)),
        ("shop", Some((_, "images"))) => profile((10, 70), (35, 50)),
        ("payments", Some((_, "gateway"))) => profile((25, 70), (50, 60)),
        ("payments", Some((_, "ledger"))) => profile((30, 65), (70, 80)),
        ("notifications", Some((_, "sender"))) => profile((10, 80), (50, 70)),
        ("search", Some((_, "query"))) => profile((15, 60), (40, 50)),
        ("auth", Some((_, "sessions"))) => profile((10, 40), (50, 60)),
        ("search", Some((_, "elasticsearch"))) => profile((20, 60), (88, 94)),
        ("data", _) => profile((10, 45), (60, 70)),
        ("ml", _) => profile((15, 45), (40, 45)),
        // At or over their requests.
        ("shop", Some((_, "checkout"))) => profile((35, 95), (80, 95)),
        ("payments", Some((_, "fraud"))) => profile((50, 98), (60, 70)),
        ("search", Some((_, "indexer"))) => profile((40, 105), (75, 90)),
        ("monitoring", _) => profile((40, 80), (85, 97)),
        ("batch", _) => profile((85, 100), (60, 80)),
        // A person's shell, idle.
        ("default", None) => profile((1, 3), (5, 6)),
        _ => profile((20, 60), (50, 60)),
    }
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash of `x`.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// FNV-1a of `text`.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `request × share / 100 000`, share in thousandths of a percent, without overflow.
fn part(request: u64, share: u64) -> u64 {
    u64::try_from(u128::from(request) * u128::from(share) / 100_000).unwrap_or(u64::MAX)
}

/// The usage of `pod` at observation `t` (0-based): CPU in whole millicores (at least 1m),
/// memory in whole KiB (at least 4 MiB), as metrics-server reports them.
fn usage_at(pod: &PodSpec, t: usize) -> ResourceList {
    let p = profile_of(pod);
    let load = LOAD[t % LOAD.len()];
    let h = mix(fnv(&pod.key()) ^ mix(t as u64));
    // Jitter in thousandths of a percent: ±3 points of CPU, ±1 point of memory.
    let jitter =
        |bits: u64, points: u64| (bits % (2 * points * 1000 + 1)) as i64 - (points * 1000) as i64;
    let share = |(lo, hi): (u64, u64), jitter: i64| {
        let base = (lo * 1000 + (hi - lo) * load * 10) as i64;
        u64::try_from((base + jitter).max(0)).unwrap_or(0)
    };
    let request = |r: &str| {
        pod.containers
            .iter()
            .map(|c| c.requests.get(r))
            .sum::<u64>()
    };
    let cpu = part(request(CPU), share(p.cpu, jitter(h & 0xffff_ffff, 3))).max(1);
    let memory = part(request(MEMORY), share(p.memory, jitter(h >> 32, 1)));
    let memory = (memory / 1024).max(4 * 1024) * 1024;
    ResourceList::new().with(CPU, cpu).with(MEMORY, memory)
}

/// Gives every running pod of `spec` the demo's usage history: [`SAMPLES`] observations as
/// `usage_samples` (oldest first) and the latest as `usage`, exactly what `analyze --metrics`
/// makes of the [`metrics`] files given oldest first. Terminal pods get none, as
/// metrics-server reports none for them.
pub(super) fn add_history(spec: &mut SnapshotSpec) {
    for pod in spec.pods.iter_mut().filter(|p| !p.phase.is_terminal()) {
        let samples: Vec<ResourceList> = (0..SAMPLES as usize).map(|t| usage_at(pod, t)).collect();
        pod.usage = samples.last().cloned();
        pod.usage_samples = samples;
    }
}

/// The time of observation `sample` (1-based): 00:00 UTC on the demo's day, then every two
/// hours.
fn timestamp(sample: u32) -> String {
    format!("2026-01-14T{:02}:00:00Z", 2 * sample.saturating_sub(1))
}

/// A PodMetricsList, fields in the order metrics-server writes them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMetricsList {
    kind: &'static str,
    api_version: &'static str,
    metadata: BTreeMap<String, String>,
    items: Vec<PodMetrics>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PodMetrics {
    metadata: Metadata,
    timestamp: String,
    window: &'static str,
    containers: Vec<ContainerMetrics>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    name: String,
    namespace: String,
    creation_timestamp: String,
}

#[derive(Debug, Serialize)]
struct ContainerMetrics {
    name: String,
    usage: BTreeMap<&'static str, String>,
}

/// Observation `sample` (1 = the oldest, [`SAMPLES`] = the latest; clamped to that range) of
/// the usage history of `spec` as a PodMetricsList, the output of `kubectl get --raw
/// /apis/metrics.k8s.io/v1beta1/pods`: CPU in nanocores, memory in KiB, as metrics-server
/// writes them; a pod's usage is put on its first container. Pods without a history are
/// left out.
pub fn metrics(spec: &SnapshotSpec, sample: u32) -> PodMetricsList {
    let sample = sample.clamp(1, SAMPLES);
    let at = timestamp(sample);
    let items = spec
        .pods
        .iter()
        .filter_map(|pod| {
            let usage = pod.usage_samples.get(sample as usize - 1)?;
            let container = pod.containers.first().map_or("app", |c| c.name.as_str());
            Some(PodMetrics {
                metadata: Metadata {
                    name: pod.name.clone(),
                    namespace: pod.namespace.clone(),
                    creation_timestamp: at.clone(),
                },
                timestamp: at.clone(),
                window: "30s",
                containers: vec![ContainerMetrics {
                    name: container.to_owned(),
                    usage: [
                        (CPU, format!("{}n", u128::from(usage.get(CPU)) * 1_000_000)),
                        (MEMORY, format!("{}Ki", usage.get(MEMORY) / 1024)),
                    ]
                    .into(),
                }],
            })
        })
        .collect();
    PodMetricsList {
        kind: "PodMetricsList",
        api_version: "metrics.k8s.io/v1beta1",
        metadata: BTreeMap::new(),
        items,
    }
}
