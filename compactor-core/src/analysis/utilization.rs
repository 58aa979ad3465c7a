//! Utilisation, idle nodes, fragmentation, efficiency and cost per node and for the cluster.

use serde::{Deserialize, Serialize};

use crate::cost::{HOURS_PER_MONTH, PriceSource, Pricing, format_dollars};
use crate::model::{INSTANCE_TYPE_LABEL, MIRROR_ANNOTATION, PodSpec};
use crate::resources::{CPU, Dimensions, MEMORY};
use crate::snapshot::Snapshot;

/// One dimension of a node or of the cluster.
///
/// Amounts are in the resource's canonical unit, named by `unit`: `millicores` for `cpu`,
/// `bytes` for `memory` and `ephemeral-storage`, `count` otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResourceFigures {
    /// Resource name (`cpu`, `memory`, …).
    pub resource: String,
    /// Unit of the amounts: `millicores`, `bytes` or `count`.
    pub unit: String,
    /// Allocatable.
    pub allocatable: u64,
    /// Sum of the effective requests of the bound, non-terminal pods (DaemonSet pods included).
    pub requested: u64,
    /// Observed usage; `None` when unknown (see [`NodeAnalysis::resources`]).
    pub used: Option<u64>,
    /// `100 × requested / allocatable`; `None` when nothing is allocatable.
    pub request_percent: Option<f64>,
    /// `100 × used / allocatable`; `None` when usage is unknown or nothing is allocatable.
    pub usage_percent: Option<f64>,
}

impl ResourceFigures {
    fn new(resource: &str, allocatable: u64, requested: u64, used: Option<u64>) -> Self {
        let unit = match resource {
            CPU => "millicores",
            MEMORY | crate::resources::EPHEMERAL_STORAGE => "bytes",
            r if r.starts_with("hugepages-") => "bytes",
            _ => "count",
        };
        Self {
            resource: resource.to_owned(),
            unit: unit.to_owned(),
            allocatable,
            requested,
            used,
            request_percent: percent(requested, allocatable),
            usage_percent: used.and_then(|u| percent(u, allocatable)),
        }
    }
}

/// `100 × part / whole`, `None` when `whole` is zero (never NaN).
pub(crate) fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// A node's CPU and memory after a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NodeAfter {
    /// The plan drains the node (all other figures are then zero).
    pub drained: bool,
    /// Pods the node is predicted to receive.
    pub receives: u32,
    /// Requested CPU after the moves.
    pub cpu_requested_millicores: u64,
    /// Requested memory after the moves.
    pub memory_requested_bytes: u64,
    /// Used CPU after the moves: the current usage less the usage of the pods that leave plus
    /// that of the pods that arrive; `None` when any of these is unknown.
    pub cpu_used_millicores: Option<u64>,
    /// Used memory after the moves (as for CPU).
    pub memory_used_bytes: Option<u64>,
}

/// One node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NodeAnalysis {
    /// Node name.
    pub node: String,
    /// `node.kubernetes.io/instance-type`, when labelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// Ready and not cordoned: new pods can land on it.
    pub schedulable: bool,
    /// Bound, non-terminal pods.
    pub pods: u32,
    /// Of those, workload pods: neither DaemonSet pods nor static (mirror) pods.
    pub workload_pods: u32,
    /// Idle: no workload pod (only DaemonSet and static pods, or nothing).
    pub idle: bool,
    /// Every dimension of the snapshot, in dimension order (cpu, memory, ephemeral-storage,
    /// pods, extended resources). `used` is the node's own usage (NodeMetrics) when given, else
    /// the sum of its pods' usage when every non-terminal pod on it has a known usage for that
    /// resource and the snapshot has usage at all; otherwise unknown.
    pub resources: Vec<ResourceFigures>,
    /// Dollars per hour (DESIGN §8).
    pub hourly_price: f64,
    /// Dollars per month (hourly × 730).
    pub monthly_price: f64,
    /// Where the price came from.
    pub price_source: PriceSource,
    /// CPU and memory after the current plan.
    pub after_plan: NodeAfter,
    /// CPU and memory after the what-if plan (right-sized requests); `None` without usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_what_if: Option<NodeAfter>,
}

impl NodeAnalysis {
    /// The figures of `resource`, if the snapshot has that dimension.
    pub fn resource(&self, resource: &str) -> Option<&ResourceFigures> {
        self.resources.iter().find(|r| r.resource == resource)
    }
}

/// Free capacity that no pod of the typical shape could use.
///
/// The typical shape is the lower median, per dimension, of the effective CPU and memory
/// requests of the workload pods (bound, non-terminal, neither DaemonSet nor static pods),
/// plus one pod slot. On each schedulable node (Ready, not cordoned), `fits` = how many such
/// pods fit in its free capacity (allocatable − requested, CPU, memory and pod slots; a
/// dimension in which the typical pod requests nothing does not limit); the rest of the free
/// capacity is *stranded*: free − fits × typical. The percentages are stranded / free over
/// all schedulable nodes (0 when nothing is free).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Fragmentation {
    /// Typical CPU request.
    pub typical_cpu_millicores: u64,
    /// Typical memory request.
    pub typical_memory_bytes: u64,
    /// Typical pods that still fit, over all schedulable nodes.
    pub typical_pods_that_fit: u64,
    /// Free CPU on schedulable nodes.
    pub free_cpu_millicores: u64,
    /// Free memory on schedulable nodes.
    pub free_memory_bytes: u64,
    /// Free CPU that no typical pod could use.
    pub stranded_cpu_millicores: u64,
    /// Free memory that no typical pod could use.
    pub stranded_memory_bytes: u64,
    /// `100 × stranded / free` CPU.
    pub cpu_percent: f64,
    /// `100 × stranded / free` memory.
    pub memory_percent: f64,
}

/// The efficiency score, 0–100.
///
/// - `allocationPercent` = 50 × (min(1, requested CPU / allocatable CPU) + min(1, requested
///   memory / allocatable memory)), over the cluster: how much of what is paid for is reserved;
/// - `usageOfRequestsPercent` = the mean, over CPU and memory, of min(1, Σ used / Σ requested)
///   over the pods whose current usage of that resource is known (requests as the containers
///   count them, without overhead); a resource without measured requests is left out; `None`
///   when no pod has usage;
/// - `score` = allocationPercent × usageOfRequestsPercent / 100 when usage is known (the share
///   of the paid capacity that is reserved *and* used), else allocationPercent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Efficiency {
    /// The score.
    pub score: f64,
    /// Requests over allocatable.
    pub allocation_percent: f64,
    /// Usage over requests of the measured pods.
    pub usage_of_requests_percent: Option<f64>,
}

/// Cluster totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClusterAnalysis {
    /// Nodes.
    pub nodes: u32,
    /// Bound, non-terminal pods.
    pub pods: u32,
    /// Non-terminal pods bound to no node.
    pub unscheduled_pods: u32,
    /// Pods whose current usage is known (any resource).
    pub pods_with_usage: u32,
    /// Idle nodes, by name.
    pub idle_nodes: Vec<String>,
    /// Every dimension, summed over the nodes; `used` only when it is known on every node.
    pub resources: Vec<ResourceFigures>,
    /// Fragmentation; `None` without workload pods.
    pub fragmentation: Option<Fragmentation>,
    /// Efficiency score.
    pub efficiency: Efficiency,
    /// Dollars per hour of all nodes.
    pub hourly_cost: f64,
    /// Dollars per month (hourly × 730).
    pub monthly_cost: f64,
    /// `monthly_cost` for people (`$1,234.56`).
    pub monthly_cost_formatted: String,
}

impl ClusterAnalysis {
    /// The figures of `resource`, if the snapshot has that dimension.
    pub fn resource(&self, resource: &str) -> Option<&ResourceFigures> {
        self.resources.iter().find(|r| r.resource == resource)
    }
}

/// DaemonSet or static (mirror) pod: infrastructure that stays with its node.
pub(crate) fn is_infrastructure(pod: &PodSpec) -> bool {
    pod.annotations.contains_key(MIRROR_ANNOTATION)
        || pod
            .owner
            .as_ref()
            .is_some_and(|o| o.kind == "DaemonSet" || o.kind == "Node")
}

/// The pod's current usage: `usage`, else the last sample.
pub(crate) fn current_usage(pod: &PodSpec) -> Option<&crate::resources::ResourceList> {
    pod.usage.as_ref().or(pod.usage_samples.last())
}

/// Used amount per node per dimension (`None` = unknown), row-major like `requested`.
pub(crate) fn node_usage(snapshot: &Snapshot) -> Vec<Vec<Option<u64>>> {
    let dims = snapshot.dims();
    let any_pod_usage = snapshot
        .pods()
        .iter()
        .any(|p| current_usage(&p.spec).is_some());
    let by_node = snapshot.pods_by_node();
    snapshot
        .nodes()
        .iter()
        .zip(&by_node)
        .map(|(node, pods)| {
            (0..dims.len())
                .map(|d| {
                    let name = dims.name(d);
                    if let Some(u) = node.spec.usage.as_ref().filter(|u| u.contains(name)) {
                        return Some(u.get(name));
                    }
                    if !any_pod_usage {
                        return None;
                    }
                    let mut total: u64 = 0;
                    for &p in pods {
                        let spec = &snapshot.pods()[p].spec;
                        if spec.phase.is_terminal() {
                            continue;
                        }
                        let u = current_usage(spec).filter(|u| u.contains(name))?;
                        total = total.saturating_add(u.get(name));
                    }
                    Some(total)
                })
                .collect()
        })
        .collect()
}

pub(crate) fn nodes(
    snapshot: &Snapshot,
    pricing: &Pricing,
    used: &[Vec<Option<u64>>],
    after_plan: Vec<NodeAfter>,
    after_what_if: Option<Vec<NodeAfter>>,
) -> Vec<NodeAnalysis> {
    let dims = snapshot.dims();
    let by_node = snapshot.pods_by_node();
    let mut what_if = after_what_if.map(Vec::into_iter);
    snapshot
        .nodes()
        .iter()
        .enumerate()
        .zip(after_plan)
        .map(|((i, node), after)| {
            let live: Vec<&PodSpec> = by_node[i]
                .iter()
                .map(|&p| &snapshot.pods()[p].spec)
                .filter(|p| !p.phase.is_terminal())
                .collect();
            let workload_pods = live.iter().filter(|p| !is_infrastructure(p)).count();
            let (hourly, source) = pricing.hourly(&node.spec);
            NodeAnalysis {
                node: node.spec.name.clone(),
                instance_type: node.spec.labels.get(INSTANCE_TYPE_LABEL).cloned(),
                schedulable: node.spec.ready && !node.spec.unschedulable,
                pods: count(live.len()),
                workload_pods: count(workload_pods),
                idle: workload_pods == 0,
                resources: (0..dims.len())
                    .map(|d| {
                        ResourceFigures::new(
                            dims.name(d),
                            node.allocatable[d],
                            snapshot.requested(i)[d],
                            used[i][d],
                        )
                    })
                    .collect(),
                hourly_price: hourly,
                monthly_price: hourly * HOURS_PER_MONTH,
                price_source: source,
                after_plan: after,
                after_what_if: what_if.as_mut().and_then(Iterator::next),
            }
        })
        .collect()
}

pub(crate) fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub(crate) fn cluster(snapshot: &Snapshot, nodes: &[NodeAnalysis]) -> ClusterAnalysis {
    let dims = snapshot.dims();
    let resources = (0..dims.len())
        .map(|d| {
            let mut alloc: u64 = 0;
            let mut req: u64 = 0;
            let mut used: Option<u64> = Some(0);
            for n in nodes {
                let f = &n.resources[d];
                alloc = alloc.saturating_add(f.allocatable);
                req = req.saturating_add(f.requested);
                used = used.zip(f.used).map(|(a, b)| a.saturating_add(b));
            }
            if nodes.is_empty() {
                used = None;
            }
            ResourceFigures::new(dims.name(d), alloc, req, used)
        })
        .collect::<Vec<_>>();
    let live = || {
        snapshot
            .pods()
            .iter()
            .filter(|p| !p.spec.phase.is_terminal())
    };
    let hourly: f64 = nodes.iter().map(|n| n.hourly_price).sum();
    ClusterAnalysis {
        nodes: count(nodes.len()),
        pods: count(live().filter(|p| p.node.is_some()).count()),
        unscheduled_pods: count(live().filter(|p| p.node.is_none()).count()),
        pods_with_usage: count(live().filter(|p| current_usage(&p.spec).is_some()).count()),
        idle_nodes: nodes
            .iter()
            .filter(|n| n.idle)
            .map(|n| n.node.clone())
            .collect(),
        efficiency: efficiency(snapshot, &resources),
        resources,
        fragmentation: fragmentation(snapshot),
        hourly_cost: hourly,
        monthly_cost: hourly * HOURS_PER_MONTH,
        monthly_cost_formatted: format_dollars(hourly * HOURS_PER_MONTH),
    }
}

fn efficiency(snapshot: &Snapshot, resources: &[ResourceFigures]) -> Efficiency {
    let share = |d: usize| {
        let f = &resources[d];
        if f.allocatable == 0 {
            0.0
        } else {
            (f.requested as f64 / f.allocatable as f64).min(1.0)
        }
    };
    let allocation = 50.0 * (share(Dimensions::CPU) + share(Dimensions::MEMORY));
    let mut ratios = Vec::new();
    for resource in [CPU, MEMORY] {
        let (mut used, mut requested) = (0u128, 0u128);
        for p in snapshot.pods() {
            if p.spec.phase.is_terminal() || p.node.is_none() {
                continue;
            }
            if let Some(u) = current_usage(&p.spec).filter(|u| u.contains(resource)) {
                used += u128::from(u.get(resource));
                requested += u128::from(super::rightsizing::running_request(&p.spec, resource));
            }
        }
        if requested > 0 {
            ratios.push((used as f64 / requested as f64).min(1.0));
        }
    }
    let usage =
        (!ratios.is_empty()).then(|| 100.0 * ratios.iter().sum::<f64>() / ratios.len() as f64);
    Efficiency {
        score: usage.map_or(allocation, |u| allocation * u / 100.0),
        allocation_percent: allocation,
        usage_of_requests_percent: usage,
    }
}

fn lower_median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get(v.len().saturating_sub(1) / 2).copied().unwrap_or(0)
}

fn fragmentation(snapshot: &Snapshot) -> Option<Fragmentation> {
    let workload: Vec<&crate::snapshot::Pod> = snapshot
        .pods()
        .iter()
        .filter(|p| p.node.is_some() && !p.spec.phase.is_terminal() && !is_infrastructure(&p.spec))
        .collect();
    if workload.is_empty() {
        return None;
    }
    let t_cpu = lower_median(
        workload
            .iter()
            .map(|p| p.request[Dimensions::CPU])
            .collect(),
    );
    let t_mem = lower_median(
        workload
            .iter()
            .map(|p| p.request[Dimensions::MEMORY])
            .collect(),
    );
    let (mut fits_total, mut free_cpu, mut free_mem, mut str_cpu, mut str_mem) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    for (i, node) in snapshot.nodes().iter().enumerate() {
        if !node.spec.ready || node.spec.unschedulable {
            continue;
        }
        let free = |d: usize| node.allocatable[d].saturating_sub(snapshot.requested(i)[d]);
        let (fc, fm, fp) = (
            free(Dimensions::CPU),
            free(Dimensions::MEMORY),
            free(Dimensions::PODS),
        );
        let mut fits = fp;
        // A dimension the typical pod does not request does not limit.
        if let Some(n) = fc.checked_div(t_cpu) {
            fits = fits.min(n);
        }
        if let Some(n) = fm.checked_div(t_mem) {
            fits = fits.min(n);
        }
        fits_total = fits_total.saturating_add(fits);
        free_cpu = free_cpu.saturating_add(fc);
        free_mem = free_mem.saturating_add(fm);
        str_cpu = str_cpu.saturating_add(fc - fits.saturating_mul(t_cpu).min(fc));
        str_mem = str_mem.saturating_add(fm - fits.saturating_mul(t_mem).min(fm));
    }
    Some(Fragmentation {
        typical_cpu_millicores: t_cpu,
        typical_memory_bytes: t_mem,
        typical_pods_that_fit: fits_total,
        free_cpu_millicores: free_cpu,
        free_memory_bytes: free_mem,
        stranded_cpu_millicores: str_cpu,
        stranded_memory_bytes: str_mem,
        cpu_percent: percent(str_cpu, free_cpu).unwrap_or(0.0),
        memory_percent: percent(str_mem, free_mem).unwrap_or(0.0),
    })
}
