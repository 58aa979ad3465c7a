//! Where kube-scheduler would place the snapshot's pending pods: the same prediction the
//! planner uses for evicted pods, exposed on its own so that it can be compared with the real
//! scheduler (the differential conformance suite in e2e/) and so that a reviewer can ask "where
//! would this pod go?".

use serde::{Deserialize, Serialize};

use crate::CoreError;
use crate::plan::interpod::Index;
use crate::plan::placement::StaticGroups;
use crate::plan::profile::SchedulerConfig;
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

/// Predicts where kube-scheduler (v1.34, configured by `scheduler`: each pod by the profile
/// of its `schedulerName`) places each pending pod of `snapshot` — every pod not bound to a
/// node and not terminal — one after the other, each prediction counting the ones before it.
/// Pods are taken as kube-scheduler's queue takes them: higher priority first, then (for want
/// of creation times) by namespace and name. A pod whose scheduler has no profile in
/// `scheduler` gets no node, and `unschedulable` says why.
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
/// let p = predict_pending(&snap, &Default::default()).unwrap();
/// // b is emptier and holds no replica of web yet.
/// assert_eq!(p[0].node.as_deref(), Some("b"));
/// ```
///
/// # Errors
/// [`CoreError::InvalidOption`] when [`SchedulerConfig::validate`] refuses `scheduler`.
///
/// # Complexity
/// O(Q · S · (d + t)) for Q pending pods, S nodes searched per pod (all below 100 nodes, else
/// kube-scheduler's adaptive sample) and t inter-pod terms, after the O(P) index build.
pub fn predict_pending(
    snapshot: &Snapshot,
    scheduler: &SchedulerConfig,
) -> Result<Vec<PodPrediction>, CoreError> {
    scheduler.validate()?;
    let pending = pending_in_queue_order(snapshot);
    Ok(predict_in_order(snapshot, pending, scheduler))
}

/// Predicts, as [`predict_pending`] does, the pending pods named by `keys`
/// (`namespace/name`), in the order given; the snapshot's other pending pods stay unplaced
/// (as gated pods, or pods kube-scheduler found no node for).
///
/// # Errors
/// [`CoreError::InvalidOption`] (field `pods`) when a key names no pod of the snapshot, a pod
/// bound to a node, a terminal pod, or a pod already named; as [`predict_pending`] for
/// `scheduler`.
///
/// # Complexity
/// As [`predict_pending`], for the pods named.
pub fn predict_pods(
    snapshot: &Snapshot,
    keys: &[&str],
    scheduler: &SchedulerConfig,
) -> Result<Vec<PodPrediction>, CoreError> {
    scheduler.validate()?;
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
    Ok(predict_in_order(snapshot, order, scheduler))
}

/// Predicts `pending` (unbound, non-terminal pods) one after the other.
fn predict_in_order(
    snapshot: &Snapshot,
    pending: Vec<usize>,
    scheduler: &SchedulerConfig,
) -> Vec<PodPrediction> {
    let pods = snapshot.pods();
    let mut wanted = vec![false; pods.len()];
    for &p in &pending {
        wanted[p] = true;
    }
    let interpod = Index::new(snapshot, |p| wanted[p]);
    let statics = StaticGroups::new(snapshot);
    let mut sim = SchedulerSim::new(snapshot, &interpod, &statics, scheduler);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SnapshotSpec;
    use crate::plan::profile::{FitStrategy, SchedulerProfile, ScoreWeights, ShapePoint};
    use crate::plan::{PlanOptions, ReasonCode, plan};
    use crate::testing::{GI, node, pod};

    /// Node `a` holds 1 CPU and 4 GiB, `b` 3 CPU and 12 GiB (both 4 CPU, 16 GiB); one
    /// pending pod of 500m and 1 GiB.
    fn cluster() -> Snapshot {
        Snapshot::new(cluster_spec()).unwrap()
    }

    fn cluster_spec() -> SnapshotSpec {
        let mut pending = pod("shop", "new", "a", "batch", 500, GI);
        pending.node_name = None;
        SnapshotSpec {
            nodes: vec![node("a", 4000, 16 * GI), node("b", 4000, 16 * GI)],
            pods: vec![
                pod("shop", "small", "a", "x", 1000, 4 * GI),
                pod("shop", "big", "b", "y", 3000, 12 * GI),
                pending,
            ],
            ..Default::default()
        }
    }

    fn with(profile: SchedulerProfile) -> SchedulerConfig {
        SchedulerConfig::default().with_profiles(vec![profile])
    }

    #[test]
    fn the_fit_strategy_decides_between_emptier_and_fuller() {
        let snap = cluster();
        let at = |config: &SchedulerConfig| predict_pending(&snap, config).unwrap()[0].clone();
        // LeastAllocated: a ((62 + 68) / 2 = 65) over b ((12 + 18) / 2 = 15); both are
        // balanced alike (96).
        assert_eq!(at(&SchedulerConfig::default()).node.as_deref(), Some("a"));
        let mut most = SchedulerProfile::default();
        most.fit.strategy = FitStrategy::MostAllocated;
        // MostAllocated: b ((87 + 81) / 2 = 84) over a ((37 + 31) / 2 = 34).
        assert_eq!(at(&with(most.clone())).node.as_deref(), Some("b"));
        // With NodeResourcesFit's weight at 0 only BalancedAllocation (96 on both) is left.
        most.weights.node_resources_fit = 0;
        let p = at(&with(most));
        assert_eq!(
            (p.node.as_deref(), p.tied_with.as_slice()),
            (Some("a"), ["b".to_owned()].as_slice())
        );
        // A broken-linear shape that prefers 60 % requested: a ends at 37 %, b at 87 %.
        let mut ratio = SchedulerProfile::default();
        ratio.fit.strategy = FitStrategy::RequestedToCapacityRatio {
            shape: vec![
                ShapePoint::new(0, 0),
                ShapePoint::new(60, 10),
                ShapePoint::new(100, 0),
            ],
        };
        ratio.fit.resources.retain(|r| r.name == "cpu");
        ratio.weights = ScoreWeights::none();
        ratio.weights.node_resources_fit = 1;
        let p = at(&with(ratio));
        // a: 37 % → 61; b: 87 % → 100 − 27·100/40 = 33.
        assert_eq!(p.node.as_deref(), Some("a"));
        assert!(p.tied_with.is_empty());
        // Every score off: both nodes tie.
        let mut none = SchedulerProfile::default();
        none.weights = ScoreWeights::none();
        assert_eq!(at(&with(none)).tied_with, vec!["b".to_owned()]);
    }

    #[test]
    fn a_pod_of_an_unmodelled_scheduler_is_not_predicted_and_stays() {
        let mut spec = cluster_spec();
        spec.pods[2].scheduler_name = Some("volcano".into());
        let snap = Snapshot::new(spec.clone()).unwrap();
        let p = predict_pending(&snap, &SchedulerConfig::default()).unwrap();
        assert!(p[0].node.is_none());
        assert!(
            p[0].unschedulable.as_deref().unwrap().contains("volcano"),
            "{p:?}"
        );
        // Two nodes of 4 CPU: a's 1 CPU fits on b (2 CPU there) under the 70 % cap.
        spec.pods[1].containers[0].requests.set("cpu", 1000);
        spec.pods[1].containers[0].requests.set("memory", 4 * GI);
        spec.pods[0].scheduler_name = Some("volcano".into());
        let snap = Snapshot::new(spec).unwrap();
        let plan = plan(&snap, &PlanOptions::default()).unwrap();
        let a = plan.kept.iter().find(|k| k.node == "a").unwrap();
        assert_eq!(a.reason.code, ReasonCode::SchedulerNotModelled);
        assert!(
            plan.notes.iter().any(|n| n.contains("volcano")),
            "{:?}",
            plan.notes
        );
        // Modelled under that name, it moves.
        let both = SchedulerConfig::default().with_profiles(vec![
            SchedulerProfile::default(),
            SchedulerProfile::named("volcano"),
        ]);
        let moved = plan_with_scheduler(&snap, both);
        assert!(moved.drain.iter().any(|d| d.node == "a"), "{moved:?}");
        assert!(!moved.scheduler.is_default());
    }

    fn plan_with_scheduler(snap: &Snapshot, scheduler: SchedulerConfig) -> crate::plan::Plan {
        plan(snap, &PlanOptions::default().with_scheduler(scheduler)).unwrap()
    }

    #[test]
    fn an_invalid_configuration_is_refused() {
        let mut p = SchedulerProfile::default();
        p.fit.strategy = FitStrategy::RequestedToCapacityRatio { shape: vec![] };
        assert!(predict_pending(&cluster(), &with(p.clone())).is_err());
        assert!(plan(&cluster(), &PlanOptions::default().with_scheduler(with(p))).is_err());
    }
}
