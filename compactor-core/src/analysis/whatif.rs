//! The what-if: the plan again, with right-sized requests.

use serde::{Deserialize, Serialize};

use super::utilization::{NodeAfter, count, current_usage};
use crate::cost::format_dollars;
use crate::plan::Plan;
use crate::resources::Dimensions;
use crate::snapshot::Snapshot;

/// What right-sizing would free: the plan made again on the snapshot whose requests are
/// replaced by the recommendations ([`super::rightsized_spec`]), compared with the plan on the
/// current requests. Both plans use the same options (strategy, safety threshold, pricing).
///
/// `additional_*` are right-sized minus current; they can be negative when the
/// recommendations raise requests (pods using more than they request).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WhatIf {
    /// Pods whose requests were rewritten.
    pub rightsized_pods: u32,
    /// Cluster CPU requests now (effective requests of bound, non-terminal pods).
    pub cpu_requested_millicores: u64,
    /// Cluster CPU requests after right-sizing.
    pub cpu_requested_after_millicores: u64,
    /// Cluster memory requests now.
    pub memory_requested_bytes: u64,
    /// Cluster memory requests after right-sizing.
    pub memory_requested_after_bytes: u64,
    /// Nodes the current plan drains.
    pub nodes_drained: u32,
    /// Nodes the right-sized plan drains.
    pub nodes_drained_after: u32,
    /// `nodes_drained_after − nodes_drained`.
    pub additional_nodes_freed: i64,
    /// Nodes the right-sized plan drains, in drain order.
    pub drain: Vec<String>,
    /// Nodes left by the right-sized plan.
    pub nodes_after: u32,
    /// Lower bound on nodes with right-sized requests.
    pub lower_bound_nodes: u32,
    /// Monthly savings of the current plan (dollars).
    pub monthly_savings: f64,
    /// Monthly savings of the right-sized plan (dollars).
    pub monthly_savings_after: f64,
    /// `monthly_savings_after − monthly_savings`.
    pub additional_monthly_savings: f64,
    /// `additional_monthly_savings` for people (`$1,234.56`).
    pub additional_monthly_savings_formatted: String,
}

/// CPU and memory of every node after `plan`'s moves. `used` is the per-node usage now.
pub(crate) fn after_plan(
    snapshot: &Snapshot,
    plan: &Plan,
    used: &[Vec<Option<u64>>],
) -> Vec<NodeAfter> {
    let dims = [Dimensions::CPU, Dimensions::MEMORY];
    let mut req: Vec<[u64; 2]> = (0..snapshot.nodes().len())
        .map(|i| dims.map(|d| snapshot.requested(i)[d]))
        .collect();
    let mut use_: Vec<[Option<u64>; 2]> = used.iter().map(|u| dims.map(|d| u[d])).collect();
    let mut receives = vec![0u32; snapshot.nodes().len()];
    for m in &plan.moves {
        let (Some(p), Some(from), Some(to)) = (
            snapshot.pod_index(&m.namespace, &m.pod),
            snapshot.node_index(&m.from_node),
            snapshot.node_index(&m.to_node),
        ) else {
            continue;
        };
        let pod = &snapshot.pods()[p];
        receives[to] += 1;
        let usage = current_usage(&pod.spec);
        for (k, d) in dims.iter().enumerate() {
            let name = snapshot.dims().name(*d);
            let r = pod.request[*d];
            req[from][k] = req[from][k].saturating_sub(r);
            req[to][k] = req[to][k].saturating_add(r);
            let u = usage.filter(|u| u.contains(name)).map(|u| u.get(name));
            use_[from][k] = use_[from][k].zip(u).map(|(a, b)| a.saturating_sub(b));
            use_[to][k] = use_[to][k].zip(u).map(|(a, b)| a.saturating_add(b));
        }
    }
    snapshot
        .nodes()
        .iter()
        .enumerate()
        .map(|(i, node)| {
            if plan.drain.iter().any(|d| d.node == node.spec.name) {
                NodeAfter {
                    drained: true,
                    receives: 0,
                    cpu_requested_millicores: 0,
                    memory_requested_bytes: 0,
                    cpu_used_millicores: Some(0),
                    memory_used_bytes: Some(0),
                }
            } else {
                NodeAfter {
                    drained: false,
                    receives: receives[i],
                    cpu_requested_millicores: req[i][0],
                    memory_requested_bytes: req[i][1],
                    cpu_used_millicores: use_[i][0],
                    memory_used_bytes: use_[i][1],
                }
            }
        })
        .collect()
}

pub(crate) fn summarize(
    current: &Snapshot,
    rightsized: &Snapshot,
    plan: &Plan,
    what_if: &Plan,
) -> WhatIf {
    let total = |s: &Snapshot, d: usize| -> u64 {
        (0..s.nodes().len())
            .map(|i| s.requested(i)[d])
            .fold(0, u64::saturating_add)
    };
    let rightsized_pods = current
        .pods()
        .iter()
        .zip(rightsized.pods())
        .filter(|(a, b)| a.spec != b.spec)
        .count();
    let drained = count(plan.drain.len());
    let drained_after = count(what_if.drain.len());
    let additional = what_if.savings.monthly - plan.savings.monthly;
    WhatIf {
        rightsized_pods: count(rightsized_pods),
        cpu_requested_millicores: total(current, Dimensions::CPU),
        cpu_requested_after_millicores: total(rightsized, Dimensions::CPU),
        memory_requested_bytes: total(current, Dimensions::MEMORY),
        memory_requested_after_bytes: total(rightsized, Dimensions::MEMORY),
        nodes_drained: drained,
        nodes_drained_after: drained_after,
        additional_nodes_freed: i64::from(drained_after) - i64::from(drained),
        drain: what_if.drain.iter().map(|d| d.node.clone()).collect(),
        nodes_after: what_if.summary.nodes_after,
        lower_bound_nodes: what_if.lower_bound.nodes,
        monthly_savings: plan.savings.monthly,
        monthly_savings_after: what_if.savings.monthly,
        additional_monthly_savings: additional,
        additional_monthly_savings_formatted: format_dollars(additional),
    }
}
