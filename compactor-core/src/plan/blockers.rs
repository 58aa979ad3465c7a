//! Pods that block draining their node (DESIGN §6, pod-level rules 1–11; first match wins).

use std::collections::BTreeSet;

use crate::model::{
    DO_NOT_DISRUPT_ANNOTATION, EXCLUDE_ANNOTATION, MIRROR_ANNOTATION, SAFE_TO_EVICT_ANNOTATION,
    VolumeSource,
};
use crate::plan::{Reason, ReasonCode};
use crate::snapshot::{Pod, Snapshot};

/// Words of the `missing-input` reason of a pod whose CSI volume's attach limits are unknown.
pub(crate) const CSINODE_MISSING: &str = "has no CSINode for node";

/// Priority value from which kube-scheduler treats a pod as system-critical.
pub const SYSTEM_CRITICAL_PRIORITY: i32 = 2_000_000_000;

/// What draining a node means for one of its pods.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PodDisposition {
    /// A DaemonSet pod: it does not block and is never moved (it goes away with its node).
    DaemonSet,
    /// A Succeeded or Failed pod: it holds nothing and is ignored.
    Terminal,
    /// A terminating pod (`deletionTimestamp` set): it is going away by itself, so it does
    /// not block and is never moved (it is not evicted: a PodDisruptionBudget no longer
    /// protects it).
    Terminating,
    /// The pod blocks draining its node.
    Blocks(Reason),
    /// The pod can be evicted and recreated elsewhere.
    Movable,
}

/// Applies the pod-level drain rules to `pod`; `scheduler` says which schedulers the
/// prediction models (a pod naming another one stays).
///
/// # Examples
/// ```
/// use compactor_core::{Snapshot, model::*, plan::{classify_pod, PodDisposition, ReasonCode}, resources::ResourceList};
/// let snap = Snapshot::new(SnapshotSpec {
///     nodes: vec![NodeSpec { name: "n".into(), allocatable: ResourceList::new().with("cpu", 1000).with("memory", 1 << 30), ready: true, ..Default::default() }],
///     pods: vec![PodSpec { namespace: "d".into(), name: "bare".into(), node_name: Some("n".into()), ..Default::default() }],
///     ..Default::default()
/// }).unwrap();
/// let PodDisposition::Blocks(r) = classify_pod(&snap, &snap.pods()[0], &Default::default(), &Default::default()) else { panic!() };
/// assert_eq!(r.code, ReasonCode::NoController);
/// ```
///
/// # Complexity
/// O(annotations + volumes + covering PDBs).
pub fn classify_pod(
    snapshot: &Snapshot,
    pod: &Pod,
    excluded_namespaces: &BTreeSet<String>,
    scheduler: &crate::plan::SchedulerConfig,
) -> PodDisposition {
    let spec = &pod.spec;
    let blocks = |code, message: String| PodDisposition::Blocks(Reason { code, message });
    let owner_kind = spec.owner.as_ref().map(|o| o.kind.as_str());
    let safe_to_evict = spec.annotation(SAFE_TO_EVICT_ANNOTATION) == Some("true");

    if spec.annotations.contains_key(MIRROR_ANNOTATION) || owner_kind == Some("Node") {
        return blocks(
            ReasonCode::MirrorPod,
            format!(
                "{} is a mirror pod of a static pod and cannot be evicted",
                spec.key()
            ),
        );
    }
    if owner_kind == Some("DaemonSet") {
        return PodDisposition::DaemonSet;
    }
    if spec.phase.is_terminal() {
        return PodDisposition::Terminal;
    }
    if spec.terminating {
        return PodDisposition::Terminating;
    }
    for (key, value) in [
        (EXCLUDE_ANNOTATION, "true"),
        (SAFE_TO_EVICT_ANNOTATION, "false"),
        (DO_NOT_DISRUPT_ANNOTATION, "true"),
    ] {
        if spec.annotation(key) == Some(value) {
            return blocks(
                ReasonCode::OptOut,
                format!("{} opts out with annotation {key}: \"{value}\"", spec.key()),
            );
        }
    }
    if excluded_namespaces.contains(&spec.namespace) {
        return blocks(
            ReasonCode::NamespaceExcluded,
            format!(
                "{} is in namespace {}, which the configuration excludes",
                spec.key(),
                spec.namespace
            ),
        );
    }
    if spec.owner.is_none() && !safe_to_evict {
        return blocks(
            ReasonCode::NoController,
            format!(
                "{} has no controller, so nothing would recreate it",
                spec.key()
            ),
        );
    }
    let class = spec.priority_class_name.as_deref();
    if matches!(
        class,
        Some("system-cluster-critical" | "system-node-critical")
    ) || spec.priority >= SYSTEM_CRITICAL_PRIORITY
    {
        let what = class.map_or_else(
            || format!("priority {}", spec.priority),
            |c| format!("priority class {c}"),
        );
        return blocks(
            ReasonCode::SystemCritical,
            format!("{} is system-critical ({what})", spec.key()),
        );
    }
    if spec.namespace == "kube-system" && pod.pdbs.is_empty() {
        return blocks(
            ReasonCode::KubeSystemNoPdb,
            format!(
                "{} is a kube-system pod without a PodDisruptionBudget",
                spec.key()
            ),
        );
    }
    if !safe_to_evict {
        for v in &spec.volumes {
            let local = match &v.source {
                VolumeSource::HostPath { path } => {
                    Some(format!("hostPath volume {} ({path})", v.name))
                }
                VolumeSource::EmptyDir { memory: false } => {
                    Some(format!("emptyDir volume {}", v.name))
                }
                _ => None,
            };
            if let Some(what) = local {
                return blocks(
                    ReasonCode::LocalStorage,
                    format!("{} keeps local data in {what}", spec.key()),
                );
            }
        }
    }
    // In doubt, the pod stays: a claim whose volume the input does not show could be bound
    // to a volume that cannot follow the pod (a local one, another zone's).
    for v in &spec.volumes {
        if let VolumeSource::PersistentVolumeClaim {
            unresolved: Some(why),
            ..
        } = &v.source
        {
            return blocks(
                ReasonCode::MissingInput,
                format!(
                    "{} uses volume {}: {why}, so where the volume can be used is unknown",
                    spec.key(),
                    v.name
                ),
            );
        }
    }
    // In doubt, the pod stays: without a node's CSINode its attach limit is unknown, and a
    // replacement over the limit would stay Pending.
    if let Some(node) = snapshot.node_without_csinode() {
        for v in &spec.volumes {
            if let VolumeSource::PersistentVolumeClaim {
                csi_driver: Some(driver),
                ..
            } = &v.source
            {
                return blocks(
                    ReasonCode::MissingInput,
                    format!(
                        "{} uses volume {} of CSI driver {driver}, and the input {CSINODE_MISSING} {node}, so how many volumes a node can still attach is unknown",
                        spec.key(),
                        v.name
                    ),
                );
            }
        }
    }
    // In doubt, the pod stays: another scheduler places its replacement by rules the
    // prediction does not know.
    let name = spec
        .scheduler_name
        .as_deref()
        .unwrap_or(crate::plan::DEFAULT_SCHEDULER);
    if scheduler.profile(name).is_none() {
        return blocks(
            ReasonCode::SchedulerNotModelled,
            format!(
                "{} is placed by scheduler {name:?}, which the prediction does not model (modelled: {}; give its profile with --scheduler-config)",
                spec.key(),
                scheduler.names()
            ),
        );
    }
    if pod.pdbs.len() > 1 {
        let names: Vec<String> = pod.pdbs.iter().map(|i| snapshot.pdbs()[*i].key()).collect();
        return blocks(
            ReasonCode::MultiplePdbs,
            format!(
                "{} is covered by {} PodDisruptionBudgets ({}); the Eviction API refuses it",
                spec.key(),
                names.len(),
                names.join(", ")
            ),
        );
    }
    if let Some(pdb) = pod.pdbs.first().map(|i| &snapshot.pdbs()[*i])
        && pdb.disruptions_allowed == 0
    {
        return blocks(
            ReasonCode::PdbExhausted,
            format!(
                "{} is covered by PodDisruptionBudget {}, which allows no disruption now",
                spec.key(),
                pdb.key()
            ),
        );
    }
    PodDisposition::Movable
}
