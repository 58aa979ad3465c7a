//! The overview a report opens with: node pools now and after the plan, and why nodes stay,
//! counted by reason. Pure computations over the snapshot and the plan; `table` prints them.

use std::collections::BTreeMap;

use compactor_core::Snapshot;
use compactor_core::cost::Pricing;
use compactor_core::model::{INSTANCE_TYPE_LABEL, NodeSpec};
use compactor_core::plan::{Plan, ReasonCode};
use compactor_core::resources::Dimensions;

/// Name of the pool of nodes that lack the grouping label.
pub(crate) const NO_LABEL: &str = "(none)";

/// One node pool: the nodes sharing an instance type (or the value of a label).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pool {
    /// The instance type or label value; [`NO_LABEL`] when a node has none.
    pub name: String,
    /// Nodes now.
    pub nodes: u32,
    /// Nodes the plan drains.
    pub drained: u32,
    /// Dollars per hour now, and after the plan (the drained nodes' price saved).
    pub hourly_now: f64,
    pub hourly_after: f64,
    /// Per dimension of the snapshot: requested and allocatable now, over every node of the
    /// pool; after, over the nodes that stay, with the moved pods on their predicted nodes.
    pub requested_now: Vec<u64>,
    pub allocatable_now: Vec<u64>,
    pub requested_after: Vec<u64>,
    pub allocatable_after: Vec<u64>,
}

impl Pool {
    /// A pool named `name` without nodes, over `dims` dimensions.
    pub(crate) fn empty(name: &str, dims: usize) -> Self {
        Self {
            name: name.to_owned(),
            nodes: 0,
            drained: 0,
            hourly_now: 0.0,
            hourly_after: 0.0,
            requested_now: vec![0; dims],
            allocatable_now: vec![0; dims],
            requested_after: vec![0; dims],
            allocatable_after: vec![0; dims],
        }
    }

    /// Adds `other`'s nodes, prices and figures to this pool.
    pub(crate) fn add(&mut self, other: &Pool) {
        self.nodes += other.nodes;
        self.drained += other.drained;
        self.hourly_now += other.hourly_now;
        self.hourly_after += other.hourly_after;
        let sum = |a: &mut Vec<u64>, b: &[u64]| {
            for (x, y) in a.iter_mut().zip(b) {
                *x = x.saturating_add(*y);
            }
        };
        sum(&mut self.requested_now, &other.requested_now);
        sum(&mut self.allocatable_now, &other.allocatable_now);
        sum(&mut self.requested_after, &other.requested_after);
        sum(&mut self.allocatable_after, &other.allocatable_after);
    }
}

/// The pool key of `node`: the value of `label` (default: the instance type label),
/// [`NO_LABEL`] when it has none.
pub(crate) fn pool_of<'a>(node: &'a NodeSpec, label: Option<&str>) -> &'a str {
    node.labels
        .get(label.unwrap_or(INSTANCE_TYPE_LABEL))
        .map_or(NO_LABEL, String::as_str)
}

/// Requests per node (dense, by the snapshot's dimensions) once `plan` is carried out as
/// predicted: a drained node holds nothing (its DaemonSet pods go with it), each moved pod
/// counts on its `toNode`.
///
/// # Complexity
/// O(nodes × dimensions + moves × (log pods + dimensions)).
pub(crate) fn requested_after(snap: &Snapshot, plan: &Plan) -> Vec<Vec<u64>> {
    let mut after: Vec<Vec<u64>> = (0..snap.nodes().len())
        .map(|i| snap.requested(i).to_vec())
        .collect();
    for d in &plan.drain {
        if let Some(i) = snap.node_index(&d.node) {
            after[i].iter_mut().for_each(|v| *v = 0);
        }
    }
    for m in &plan.moves {
        let (Some(p), Some(to)) = (
            snap.pod_index(&m.namespace, &m.pod),
            snap.node_index(&m.to_node),
        ) else {
            continue;
        };
        for (v, r) in after[to].iter_mut().zip(&snap.pods()[p].request) {
            *v = v.saturating_add(*r);
        }
    }
    after
}

/// The pools of `snap` under `plan`, by `label` (default: instance type), sorted by name.
///
/// # Complexity
/// O(nodes × (dimensions + log pools) + moves × (log pods + dimensions)).
pub(crate) fn pools(
    snap: &Snapshot,
    plan: &Plan,
    pricing: &Pricing,
    label: Option<&str>,
) -> Vec<Pool> {
    let dims = snap.dims().len();
    let after = requested_after(snap, plan);
    let drained: std::collections::BTreeSet<&str> =
        plan.drain.iter().map(|d| d.node.as_str()).collect();
    let mut pools: BTreeMap<&str, Pool> = BTreeMap::new();
    for (i, node) in snap.nodes().iter().enumerate() {
        let name = pool_of(&node.spec, label);
        let pool = pools.entry(name).or_insert_with(|| Pool::empty(name, dims));
        let (hourly, _) = pricing.hourly(&node.spec);
        let gone = drained.contains(node.spec.name.as_str());
        pool.nodes += 1;
        pool.hourly_now += hourly;
        if gone {
            pool.drained += 1;
        } else {
            pool.hourly_after += hourly;
        }
        let now = snap.requested(i);
        for (d, &alloc) in node.allocatable.iter().enumerate().take(dims) {
            pool.requested_now[d] += now[d];
            pool.allocatable_now[d] += alloc;
            if !gone {
                pool.requested_after[d] += after[i][d];
                pool.allocatable_after[d] += alloc;
            }
        }
    }
    pools.into_values().collect()
}

/// The dimensions an overview shows: CPU, memory and every extended resource some node
/// offers (GPUs…); not ephemeral storage or the pod count.
pub(crate) fn shown_dimensions(snap: &Snapshot) -> Vec<usize> {
    (0..snap.dims().len())
        .filter(|&d| d != Dimensions::EPHEMERAL_STORAGE && d != Dimensions::PODS)
        .filter(|&d| {
            d == Dimensions::CPU
                || d == Dimensions::MEMORY
                || snap.nodes().iter().any(|n| n.allocatable[d] > 0)
        })
        .collect()
}

/// Kept nodes by reason code: (code, nodes), most nodes first, then by code.
///
/// # Complexity
/// O(kept × log kept).
pub(crate) fn kept_by_reason(plan: &Plan) -> Vec<(ReasonCode, Vec<&str>)> {
    let mut by: BTreeMap<&'static str, (ReasonCode, Vec<&str>)> = BTreeMap::new();
    for k in &plan.kept {
        by.entry(k.reason.code.as_str())
            .or_insert_with(|| (k.reason.code, Vec::new()))
            .1
            .push(k.node.as_str());
    }
    let mut out: Vec<(ReasonCode, Vec<&str>)> = by.into_values().collect();
    out.sort_by(|a, b| {
        b.1.len()
            .cmp(&a.1.len())
            .then(a.0.as_str().cmp(b.0.as_str()))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use compactor_core::plan::{PlanOptions, plan};

    /// Two m5 nodes (one half full, one nearly empty) and a GPU node with one GPU pod;
    /// the nearly empty m5 node drains onto the other.
    fn cluster() -> Snapshot {
        let node = |n: &str, it: &str, gpu: Option<u32>| {
            let mut alloc = serde_json::json!({"cpu": "4", "memory": "16Gi"});
            if let Some(g) = gpu {
                alloc["nvidia.com/gpu"] = serde_json::json!(g.to_string());
            }
            serde_json::json!({"name": n, "allocatable": alloc,
                "labels": {"node.kubernetes.io/instance-type": it, "team": "a"}})
        };
        let pod = |name: &str, node: &str, cpu: &str, gpu: bool| {
            let mut requests = serde_json::json!({"cpu": cpu, "memory": "1Gi"});
            if gpu {
                requests["nvidia.com/gpu"] = serde_json::json!("1");
            }
            serde_json::json!({"namespace": "shop", "name": name, "nodeName": node,
                "owner": {"kind": "Deployment", "name": name}, "replicas": 3,
                "readinessProbe": true,
                "containers": [{"name": "c", "requests": requests}]})
        };
        let mut unlabelled = node("x", "m5.xlarge", None);
        unlabelled["labels"] = serde_json::json!({});
        let spec = serde_json::from_value(serde_json::json!({
            "nodes": [node("a", "m5.xlarge", None), node("b", "m5.xlarge", None),
                      node("g", "g4dn.xlarge", Some(1)), unlabelled],
            "pods": [pod("big", "a", "2", false), pod("small", "b", "500m", false),
                     pod("train", "g", "1", true), pod("tiny", "x", "100m", false)]
        }))
        .unwrap();
        Snapshot::new(spec).unwrap()
    }

    #[test]
    fn pools_add_up_now_and_after_the_plan() {
        let snap = cluster();
        let p = plan(&snap, &PlanOptions::default()).unwrap();
        let pools = pools(&snap, &p, &Pricing::default(), None);
        let names: Vec<&str> = pools.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, [NO_LABEL, "g4dn.xlarge", "m5.xlarge"]);
        // Every node in exactly one pool; drained counts match the plan.
        assert_eq!(pools.iter().map(|p| p.nodes).sum::<u32>(), 4);
        assert_eq!(
            pools.iter().map(|p| p.drained).sum::<u32>() as usize,
            p.drain.len()
        );
        // Requests are conserved: what leaves drained nodes lands on kept ones (no DaemonSet
        // pods here), per dimension.
        let dims = snap.dims().len();
        for d in 0..dims {
            let now: u64 = pools.iter().map(|p| p.requested_now[d]).sum();
            let after: u64 = pools.iter().map(|p| p.requested_after[d]).sum();
            assert_eq!(now, after, "dimension {}", snap.dims().name(d));
        }
        // Prices: after = now minus the drained nodes' price.
        let now: f64 = pools.iter().map(|p| p.hourly_now).sum();
        let after: f64 = pools.iter().map(|p| p.hourly_after).sum();
        assert!((now - after - p.savings.hourly).abs() < 1e-9);
        // The GPU pool keeps its GPU pod: 1 of 1 requested now and after.
        let gpu = snap
            .dims()
            .names()
            .iter()
            .position(|n| n == "nvidia.com/gpu");
        let g = pools.iter().find(|p| p.name == "g4dn.xlarge").unwrap();
        let gpu = gpu.unwrap();
        assert_eq!((g.requested_now[gpu], g.allocatable_now[gpu]), (1, 1));
        assert_eq!((g.requested_after[gpu], g.allocatable_after[gpu]), (1, 1));
        assert!(shown_dimensions(&snap).contains(&gpu));
        assert!(!shown_dimensions(&snap).contains(&Dimensions::PODS));
        // By a label: nodes without it form their own pool.
        let by_team = super::pools(&snap, &p, &Pricing::default(), Some("team"));
        let names: Vec<(&str, u32)> = by_team.iter().map(|p| (p.name.as_str(), p.nodes)).collect();
        assert_eq!(names, [(NO_LABEL, 1), ("a", 3)]);
    }

    #[test]
    fn kept_nodes_are_counted_by_reason_most_first() {
        let snap = cluster();
        let p = plan(&snap, &PlanOptions::default()).unwrap();
        let by = kept_by_reason(&p);
        assert_eq!(by.iter().map(|(_, n)| n.len()).sum::<usize>(), p.kept.len());
        for w in by.windows(2) {
            assert!(
                w[0].1.len() > w[1].1.len() || (w[0].1.len() == w[1].1.len() && w[0].0 < w[1].0)
            );
        }
    }
}
