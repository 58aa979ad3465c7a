//! Over-provisioned workloads and right-sizing recommendations.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::AnalysisOptions;
use super::utilization::percent;
use crate::model::{PodSpec, SnapshotSpec};
use crate::resources::{CPU, MEMORY};
use crate::snapshot::Snapshot;

/// How a recommendation was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Method {
    /// From a usage history (two or more samples): percentile plus margin.
    Percentile,
    /// From one usage point: usage × 1.5 (by default).
    SinglePoint,
    /// Some pods of the workload had a history, others one point.
    Mixed,
}

/// One resource (CPU in millicores, memory in bytes) of a workload with measured usage.
///
/// Requests here are what the containers ask for as the metrics measure them: the pod-level
/// request when set, else the app containers plus the native sidecars (no init containers,
/// no overhead). See [`WorkloadAnalysis`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WorkloadDimension {
    /// Σ requests of the measured pods.
    pub requested: u64,
    /// Σ peak usage of the measured pods (the highest of `usage` and the samples).
    pub used: u64,
    /// Σ limits of the measured pods, when every one of them has a limit.
    pub limit: Option<u64>,
    /// `100 × used / requested`; `None` when nothing is requested.
    pub request_usage_percent: Option<f64>,
    /// `100 × used / limit`; `None` without a (non-zero) limit.
    pub limit_usage_percent: Option<f64>,
    /// Usage below the threshold of the requests.
    pub over_requested: bool,
    /// Usage below the threshold of the limits.
    pub over_limit: bool,
    /// Current request per pod (the highest over the workload's pods).
    pub current_request: u64,
    /// Recommended request per pod (the highest recommendation over the measured pods, so
    /// that every replica of the shared template is covered).
    pub recommended: u64,
    /// How the recommendation was computed.
    pub method: Method,
}

/// A workload (its pods grouped by namespace and owner; a pod without an owner is its own
/// workload of kind `Pod`) of which at least one pod has a known usage.
///
/// Per resource, over the measured pods: requested, peak usage and limits are summed; the
/// workload is over-provisioned in that resource when `used × 100 < threshold × requested`
/// (default threshold 30 %), or the same against the limits where every measured pod has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WorkloadAnalysis {
    /// Namespace.
    pub namespace: String,
    /// Owner kind (Deployment, StatefulSet, DaemonSet, …, or `Pod`).
    pub kind: String,
    /// Owner name (the pod name for kind `Pod`).
    pub name: String,
    /// Non-terminal pods of the workload in the snapshot.
    pub replicas: u32,
    /// Of those, pods with a known usage.
    pub measured_pods: u32,
    /// CPU, when some pod's CPU usage is known.
    pub cpu: Option<WorkloadDimension>,
    /// Memory, when some pod's memory usage is known.
    pub memory: Option<WorkloadDimension>,
    /// Over-provisioned in CPU or memory, against requests or limits.
    pub over_provisioned: bool,
}

impl WorkloadAnalysis {
    /// `cpu` or `memory`.
    pub fn dimension(&self, resource: &str) -> Option<&WorkloadDimension> {
        match resource {
            CPU => self.cpu.as_ref(),
            MEMORY => self.memory.as_ref(),
            _ => None,
        }
    }
}

/// The `p`-th percentile (nearest rank) of `values`: the smallest value such that at least
/// `p` % of the values are at or below it, i.e. the value at rank ⌈p·n/100⌉ of the sorted
/// values. `None` for no values.
///
/// # Examples
/// ```
/// use compactor_core::analysis::percentile;
/// let v = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
/// assert_eq!(percentile(&v, 90), Some(90));
/// assert_eq!(percentile(&v, 95), Some(100));
/// assert_eq!(percentile(&[5, 1], 50), Some(1));
/// assert_eq!(percentile(&[], 90), None);
/// ```
///
/// # Complexity
/// O(n log n).
pub fn percentile(values: &[u64], p: u32) -> Option<u64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len() as u128;
    let rank = (u128::from(p.min(100)) * n).div_ceil(100).max(1);
    let idx = usize::try_from(rank - 1).ok()?;
    sorted.get(idx).copied()
}

fn scale_up(v: u64, percent: u32) -> u64 {
    let scaled = (u128::from(v) * u128::from(percent)).div_ceil(100);
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

/// One mebibyte: memory recommendations are whole MiB.
const MIB: u64 = 1 << 20;

/// The recommended request for one resource (`cpu` or `memory`) from its observations.
///
/// - two or more `samples`: the [`percentile`] (default p90) times (100 + margin) / 100
///   (default +15 %), rounded up;
/// - one sample: usage × `single_point_percent` / 100 (default × 1.5), rounded up;
/// - then the floor: at least `min_cpu_millicores` (10m) or `min_memory_bytes` (32 MiB);
/// - memory is never below `peak`, the highest usage observed.
///
/// Returns `None` without samples.
///
/// # Examples
/// ```
/// use compactor_core::analysis::{recommend, AnalysisOptions, Method};
/// let o = AnalysisOptions::default();
/// // p90 of ten samples is the 9th smallest, 900m; + 15 % = 1035m.
/// let cpu: Vec<u64> = (1..=10).map(|i| i * 100).collect();
/// assert_eq!(recommend("cpu", &cpu, 1000, &o), Some((1035, Method::Percentile)));
/// // One point: × 1.5, with the 10m floor.
/// assert_eq!(recommend("cpu", &[4], 4, &o), Some((10, Method::SinglePoint)));
/// // Memory never below the peak, and in whole MiB (rounded up).
/// assert_eq!(recommend("memory", &[100 << 20, 101 << 20], 101 << 20, &o).map(|r| r.0), Some(117 << 20));
/// let gib = 1u64 << 30;
/// let mem = [gib, gib, gib, gib, gib, gib, gib, gib, gib, 3 * gib];
/// assert_eq!(recommend("memory", &mem, 3 * gib, &o), Some((3 * gib, Method::Percentile)));
/// ```
///
/// # Complexity
/// O(n log n) for n samples.
pub fn recommend(
    resource: &str,
    samples: &[u64],
    peak: u64,
    options: &AnalysisOptions,
) -> Option<(u64, Method)> {
    let (raw, method) = match samples {
        [] => return None,
        [one] => (
            scale_up(*one, options.single_point_percent),
            Method::SinglePoint,
        ),
        many => (
            scale_up(
                percentile(many, options.percentile)?,
                100u32.saturating_add(options.margin_percent),
            ),
            Method::Percentile,
        ),
    };
    let rec = match resource {
        CPU => raw.max(options.min_cpu_millicores),
        // A request as one writes it: whole MiB, rounded up.
        MEMORY => raw
            .max(options.min_memory_bytes)
            .max(peak)
            .div_ceil(MIB)
            .saturating_mul(MIB),
        _ => raw,
    };
    Some((rec, method))
}

/// What the containers of `pod` request of `resource` as metrics measure them: the pod-level
/// request when set, else the app containers plus the native sidecars.
pub(crate) fn running_request(pod: &PodSpec, resource: &str) -> u64 {
    if pod.pod_requests.contains(resource) {
        return pod.pod_requests.get(resource);
    }
    pod.containers
        .iter()
        .map(|c| c.requests.get(resource))
        .chain(
            pod.init_containers
                .iter()
                .filter(|c| c.sidecar)
                .map(|c| c.requests.get(resource)),
        )
        .fold(0u64, u64::saturating_add)
}

/// Observations of `resource` for a pod: the samples that list it when the pod has samples,
/// else its `usage`; and the peak over both.
fn observations(pod: &PodSpec, resource: &str) -> (Vec<u64>, Option<u64>) {
    let mut obs: Vec<u64> = pod
        .usage_samples
        .iter()
        .filter(|s| s.contains(resource))
        .map(|s| s.get(resource))
        .collect();
    let usage = pod
        .usage
        .as_ref()
        .filter(|u| u.contains(resource))
        .map(|u| u.get(resource));
    if obs.is_empty() {
        obs.extend(usage);
    }
    let peak = obs.iter().copied().chain(usage).max();
    (obs, peak)
}

/// The workload key of a pod: (namespace, kind, name).
pub(crate) fn workload_key(pod: &PodSpec) -> (String, String, String) {
    match &pod.owner {
        Some(o) => (pod.namespace.clone(), o.kind.clone(), o.name.clone()),
        None => (pod.namespace.clone(), "Pod".to_owned(), pod.name.clone()),
    }
}

/// Replicas, measured pods, and the CPU and memory accumulators of one workload.
type Group = (u32, u32, [Acc; 2]);

#[derive(Default)]
struct Acc {
    requested: u64,
    used: u64,
    limit: Option<u64>,
    measured: u32,
    current_request: u64,
    recommended: u64,
    percentile: bool,
    single: bool,
}

pub(crate) fn workloads(snapshot: &Snapshot, options: &AnalysisOptions) -> Vec<WorkloadAnalysis> {
    // (namespace, kind, name) → (replicas, measured pods, [cpu, memory] accumulators).
    let mut groups: BTreeMap<(String, String, String), Group> = BTreeMap::new();
    for pod in snapshot.pods() {
        let spec = &pod.spec;
        if spec.phase.is_terminal() {
            continue;
        }
        let entry = groups.entry(workload_key(spec)).or_default();
        entry.0 += 1;
        let mut measured = false;
        for (acc, resource) in entry.2.iter_mut().zip([CPU, MEMORY]) {
            let request = running_request(spec, resource);
            acc.current_request = acc.current_request.max(request);
            let (obs, peak) = observations(spec, resource);
            let (Some(peak), Some((rec, method))) =
                (peak, recommend(resource, &obs, peak.unwrap_or(0), options))
            else {
                continue;
            };
            measured = true;
            acc.limit = match (acc.measured, acc.limit) {
                (0, _) => spec
                    .limits
                    .contains(resource)
                    .then(|| spec.limits.get(resource)),
                (_, Some(l)) if spec.limits.contains(resource) => {
                    Some(l.saturating_add(spec.limits.get(resource)))
                }
                _ => None,
            };
            acc.measured += 1;
            acc.requested = acc.requested.saturating_add(request);
            acc.used = acc.used.saturating_add(peak);
            acc.recommended = acc.recommended.max(rec);
            match method {
                Method::Percentile => acc.percentile = true,
                _ => acc.single = true,
            }
        }
        if measured {
            entry.1 += 1;
        }
    }
    let threshold = u128::from(options.over_provisioned_percent);
    let below = |used: u64, of: u64| u128::from(used) * 100 < threshold * u128::from(of);
    groups
        .into_iter()
        .filter(|(_, (_, measured, _))| *measured > 0)
        .map(|((namespace, kind, name), (replicas, measured, accs))| {
            let [cpu, memory] = accs.map(|a| {
                (a.measured > 0).then(|| WorkloadDimension {
                    requested: a.requested,
                    used: a.used,
                    limit: a.limit,
                    request_usage_percent: percent(a.used, a.requested),
                    limit_usage_percent: a.limit.and_then(|l| percent(a.used, l)),
                    over_requested: a.requested > 0 && below(a.used, a.requested),
                    over_limit: a.limit.is_some_and(|l| l > 0 && below(a.used, l)),
                    current_request: a.current_request,
                    recommended: a.recommended,
                    method: match (a.percentile, a.single) {
                        (true, false) => Method::Percentile,
                        (false, _) => Method::SinglePoint,
                        (true, true) => Method::Mixed,
                    },
                })
            });
            let over = [&cpu, &memory]
                .iter()
                .any(|d| d.as_ref().is_some_and(|d| d.over_requested || d.over_limit));
            WorkloadAnalysis {
                namespace,
                kind,
                name,
                replicas,
                measured_pods: measured,
                cpu,
                memory,
                over_provisioned: over,
            }
        })
        .collect()
}

/// Sets what the containers of `pod` request of `resource` to `amount` in total.
///
/// When the pod has a pod-level request for `resource`, that is replaced. Otherwise the
/// amount is spread over the app containers and native sidecars in proportion to their
/// current requests of `resource` (largest remainder, ties to the earlier container, so the
/// parts add up exactly); when none of them requests it, evenly (the remainder to the first
/// ones). A pod without such containers gets a pod-level request. Init containers that are
/// not sidecars and the overhead are left as they are.
///
/// # Examples
/// ```
/// use compactor_core::{analysis::set_running_request, model::*, resources::ResourceList};
/// let c = |n: &str, cpu: u64| ContainerSpec { name: n.into(), requests: ResourceList::new().with("cpu", cpu) };
/// let mut pod = PodSpec { containers: vec![c("app", 300), c("proxy", 100)], ..Default::default() };
/// set_running_request(&mut pod, "cpu", 101);
/// assert_eq!(pod.containers[0].requests.get("cpu"), 76); // 75.75 → 75, +1 for the larger remainder
/// assert_eq!(pod.containers[1].requests.get("cpu"), 25); // 25.25 → 25
/// ```
///
/// # Complexity
/// O(c log c) for c containers.
pub fn set_running_request(pod: &mut PodSpec, resource: &str, amount: u64) {
    if pod.pod_requests.contains(resource) {
        pod.pod_requests.set(resource, amount);
        return;
    }
    let mut targets: Vec<&mut crate::resources::ResourceList> = pod
        .containers
        .iter_mut()
        .map(|c| &mut c.requests)
        .chain(
            pod.init_containers
                .iter_mut()
                .filter(|c| c.sidecar)
                .map(|c| &mut c.requests),
        )
        .collect();
    if targets.is_empty() {
        pod.pod_requests.set(resource, amount);
        return;
    }
    let weights: Vec<u128> = targets
        .iter()
        .map(|r| u128::from(r.get(resource)))
        .collect();
    let total: u128 = weights.iter().sum();
    let k = targets.len() as u128;
    let amount128 = u128::from(amount);
    let (mut shares, rems): (Vec<u128>, Vec<u128>) = if total == 0 {
        (0..k)
            .map(|i| (amount128 / k + u128::from(i < amount128 % k), 0))
            .unzip()
    } else {
        weights
            .iter()
            .map(|w| (amount128 * w / total, amount128 * w % total))
            .unzip()
    };
    let mut left = amount128 - shares.iter().sum::<u128>();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|a, b| rems[*b].cmp(&rems[*a]).then(a.cmp(b)));
    for i in order {
        if left == 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    for ((list, share), w) in targets.iter_mut().zip(shares).zip(weights) {
        // share ≤ amount, so it fits.
        let share = u64::try_from(share).unwrap_or(amount);
        if share > 0 || w > 0 || list.contains(resource) {
            list.set(resource, share);
        }
    }
}

/// The snapshot with right-sized requests, for the what-if.
///
/// Every non-terminal pod of a workload in `workloads` gets, for CPU and memory where the
/// workload has a recommendation, that per-pod recommendation as its container requests
/// ([`set_running_request`]) — including replicas without usage of their own, since replicas
/// share one template. Pods of workloads without usage keep their requests. Usage, limits
/// and everything else are kept.
///
/// # Complexity
/// O(P · (log W + containers)).
pub fn rightsized_spec(snapshot: &Snapshot, workloads: &[WorkloadAnalysis]) -> SnapshotSpec {
    let by_key: BTreeMap<(&str, &str, &str), &WorkloadAnalysis> = workloads
        .iter()
        .map(|w| ((w.namespace.as_str(), w.kind.as_str(), w.name.as_str()), w))
        .collect();
    let pods = snapshot
        .pods()
        .iter()
        .map(|p| {
            let mut spec = p.spec.clone();
            if !spec.phase.is_terminal() {
                let (ns, kind, name) = workload_key(&spec);
                if let Some(w) = by_key.get(&(ns.as_str(), kind.as_str(), name.as_str())) {
                    for resource in [CPU, MEMORY] {
                        if let Some(d) = w.dimension(resource) {
                            set_running_request(&mut spec, resource, d.recommended);
                        }
                    }
                }
            }
            spec
        })
        .collect();
    SnapshotSpec {
        nodes: snapshot.nodes().iter().map(|n| n.spec.clone()).collect(),
        pods,
        pdbs: snapshot.pdbs().to_vec(),
        ..Default::default()
    }
}
