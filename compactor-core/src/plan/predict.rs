//! Where kube-scheduler would place the snapshot's pending pods: the same prediction the
//! planner uses for evicted pods, exposed on its own so that it can be compared with the real
//! scheduler (the differential conformance suite in e2e/) and so that a reviewer can ask "where
//! would this pod go?".

use serde::{Deserialize, Serialize};

use crate::CoreError;
use crate::plan::interpod::Index;
use crate::plan::placement::StaticGroups;
use crate::plan::scheduler::SchedulerSim;
use crate::snapshot::Snapshot;

/// The predicted placement of one pending pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PodPrediction {
    /// `namespace/name`.
    pub pod: String,
    /// The predicted node: the first of the nodes tied for the top score, in search order;
    /// `None` when no node passes the filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The other nodes tied with `node` (kube-scheduler picks among all of them at random).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tied_with: Vec<String>,
    /// Why no node fits, when `node` is `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unschedulable: Option<String>,
}

/// Predicts where kube-scheduler (v1.34, default profile) places each pending pod of
/// `snapshot` — every pod not bound to a node and not terminal — one after the other, each
/// prediction counting the ones before it. Pods are taken as kube-scheduler's queue takes them:
/// higher priority first, then (for want of creation times) by namespace and name.
/// `percentage_of_nodes_to_score` is the cluster's kube-scheduler setting (0: its adaptive
/// default; see [`crate::plan::PlanOptions::percentage_of_nodes_to_score`]).
///
/// Every node the scheduler could use is a candidate: cordoned nodes only for pods that
/// tolerate `node.kubernetes.io/unschedulable:NoSchedule`; nodes that carry
/// `optimizer.io/exclude` too (kube-scheduler does not read it); nodes that are not Ready are
/// not (in a live cluster they carry the `node.kubernetes.io/not-ready` taint, which a
/// snapshot may leave out). There is no safety cap here: the question is where the pod goes,
/// not whether the planner would let it.
///
/// # Example
/// ```
/// use compactor_core::model::SnapshotSpec;
/// use compactor_core::plan::predict_pending;
/// use compactor_core::testing::{GI, node, pod};
/// use compactor_core::Snapshot;
///
/// let mut pending = pod("shop", "web-3", "a", "web", 500, GI);
/// pending.node_name = None;
/// let snap = Snapshot::new(SnapshotSpec {
///     nodes: vec![node("a", 4000, 16 * GI), node("b", 4000, 16 * GI)],
///     pods: vec![pod("shop", "web-1", "a", "web", 500, GI), pending],
///     ..Default::default()
/// })
/// .unwrap();
/// let p = predict_pending(&snap, 0);
/// // b is emptier and holds no replica of web yet.
/// assert_eq!(p[0].node.as_deref(), Some("b"));
/// ```
///
/// # Errors
/// None: a snapshot that could be built can be predicted.
///
/// # Complexity
/// O(Q · S · (d + t)) for Q pending pods, S nodes searched per pod (all below 100 nodes, else
/// kube-scheduler's adaptive sample) and t inter-pod terms, after the O(P) index build.
pub fn predict_pending(
    snapshot: &Snapshot,
    percentage_of_nodes_to_score: u32,
) -> Vec<PodPrediction> {
    let pending = pending_in_queue_order(snapshot);
    predict_in_order(snapshot, pending, percentage_of_nodes_to_score)
}

/// Predicts, as [`predict_pending`] does, the pending pods named by `keys`
/// (`namespace/name`), in the order given; the snapshot's other pending pods stay unplaced
/// (as gated pods, or pods kube-scheduler found no node for).
///
/// # Errors
/// [`CoreError::InvalidOption`] (field `pods`) when a key names no pod of the snapshot, a pod
/// bound to a node, a terminal pod, or a pod already named.
///
/// # Complexity
/// As [`predict_pending`], for the pods named.
pub fn predict_pods(
    snapshot: &Snapshot,
    keys: &[&str],
    percentage_of_nodes_to_score: u32,
) -> Result<Vec<PodPrediction>, CoreError> {
    let pods = snapshot.pods();
    let mut order = Vec::with_capacity(keys.len());
    for key in keys {
        let bad = |message: String| CoreError::InvalidOption {
            field: "pods".into(),
            message,
        };
        let (ns, name) = key
            .split_once('/')
            .ok_or_else(|| bad(format!("{key:?} is not namespace/name")))?;
        let p = snapshot
            .pod_index(ns, name)
            .ok_or_else(|| bad(format!("pod {key} is not in the snapshot")))?;
        if let Some(n) = pods[p].node {
            return Err(bad(format!(
                "pod {key} is bound to node {}, not pending",
                snapshot.nodes()[n].spec.name
            )));
        }
        if pods[p].spec.phase.is_terminal() {
            return Err(bad(format!("pod {key} has terminated")));
        }
        if order.contains(&p) {
            return Err(bad(format!("pod {key} is named twice")));
        }
        order.push(p);
    }
    Ok(predict_in_order(
        snapshot,
        order,
        percentage_of_nodes_to_score,
    ))
}

/// Predicts `pending` (unbound, non-terminal pods) one after the other.
fn predict_in_order(
    snapshot: &Snapshot,
    pending: Vec<usize>,
    percentage_of_nodes_to_score: u32,
) -> Vec<PodPrediction> {
    let pods = snapshot.pods();
    let mut wanted = vec![false; pods.len()];
    for &p in &pending {
        wanted[p] = true;
    }
    let interpod = Index::new(snapshot, |p| wanted[p]);
    let statics = StaticGroups::new(snapshot);
    let mut sim = SchedulerSim::new(snapshot, &interpod, &statics, percentage_of_nodes_to_score);
    let limit: Vec<u64> = snapshot
        .nodes()
        .iter()
        .flat_map(|n| n.allocatable.iter().copied())
        .collect();
    let nodes = snapshot.nodes();
    pending
        .into_iter()
        .map(|p| {
            let spec = &pods[p].spec;
            match sim.place(p, |_| false, |_| None, &limit, 100) {
                Ok(pred) => PodPrediction {
                    pod: spec.key(),
                    node: Some(nodes[pred.node].spec.name.clone()),
                    tied_with: pred
                        .tied
                        .iter()
                        .map(|&t| nodes[t].spec.name.clone())
                        .collect(),
                    unschedulable: None,
                },
                Err(reason) => PodPrediction {
                    pod: spec.key(),
                    node: None,
                    tied_with: Vec::new(),
                    unschedulable: Some(reason.message),
                },
            }
        })
        .collect()
}

/// The snapshot's pending pods (bound to no node, not terminal) in kube-scheduler's queue
/// order: higher priority first, then (for want of creation times) by namespace and name.
pub(crate) fn pending_in_queue_order(snapshot: &Snapshot) -> Vec<usize> {
    let pods = snapshot.pods();
    let mut pending: Vec<usize> = (0..pods.len())
        .filter(|&p| pods[p].node.is_none() && !pods[p].spec.phase.is_terminal())
        .collect();
    pending.sort_by(|&a, &b| {
        let (a, b) = (&pods[a].spec, &pods[b].spec);
        b.priority
            .cmp(&a.priority)
            .then_with(|| a.namespace.cmp(&b.namespace))
            .then_with(|| a.name.cmp(&b.name))
    });
    pending
}
