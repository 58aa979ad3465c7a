//! The cluster model: nodes, pods and PodDisruptionBudgets as plain data.
//!
//! These `*Spec` types are both the Rust builder API and the documented JSON snapshot format
//! (camelCase fields, Kubernetes quantity strings). [`crate::Snapshot::new`] validates them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::resources::ResourceList;

/// Label key of a node's zone.
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";
/// Label key of a node's hostname (the kubelet sets it; [`crate::Snapshot::new`] adds it,
/// with the node's name, where a snapshot leaves it out).
pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";
/// Label key of a node's instance type.
pub const INSTANCE_TYPE_LABEL: &str = "node.kubernetes.io/instance-type";
/// Label key of a node's capacity type (on-demand / spot), as Karpenter sets it.
pub const CAPACITY_TYPE_LABEL: &str = "karpenter.sh/capacity-type";
/// Annotation that excludes a node or a pod from consolidation when `"true"`.
pub const EXCLUDE_ANNOTATION: &str = "optimizer.io/exclude";
/// Node annotation carrying the node's hourly price in dollars.
pub const HOURLY_COST_ANNOTATION: &str = "optimizer.io/hourly-cost";
/// Cluster Autoscaler's eviction opt-in / opt-out annotation.
pub const SAFE_TO_EVICT_ANNOTATION: &str = "cluster-autoscaler.kubernetes.io/safe-to-evict";
/// Karpenter's opt-out annotation.
pub const DO_NOT_DISRUPT_ANNOTATION: &str = "karpenter.sh/do-not-disrupt";
/// Annotation the kubelet puts on mirror pods of static pods.
pub const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// A node as the planner sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSpec {
    /// Node name (unique).
    pub name: String,
    /// Allocatable resources. `pods` defaults to 110 (the kubelet default) when absent;
    /// `cpu` and `memory` must be present and non-zero.
    pub allocatable: ResourceList,
    /// Node labels (zone, instance type, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Node annotations (`optimizer.io/exclude`, `optimizer.io/hourly-cost`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// `spec.unschedulable` (cordoned).
    #[serde(default, skip_serializing_if = "is_false")]
    pub unschedulable: bool,
    /// The node's Ready condition; defaults to true.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub ready: bool,
    /// Observed usage of the whole node (NodeMetrics `usage`: `cpu`, `memory`), when known.
    /// Used by the analyzer only; a resource that is not listed is unknown, never zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<ResourceList>,
    /// `spec.taints`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
    /// `status.images`: the container images on the node, for kube-scheduler's
    /// ImageLocality score.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<NodeImage>,
    /// The node's CSINode: per CSI driver, how many volumes the node can attach
    /// (`spec.drivers[].allocatable.count`). A driver listed without a count, or not listed,
    /// has no limit, as for kube-scheduler. `None`: the input has no CSINode for the node, so
    /// its limits are unknown, and a pod with a CSI volume is not moved (`missing-input`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach_limits: Option<BTreeMap<String, u64>>,
}

/// A container image present on a node (`status.images[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeImage {
    /// Its names (`names`: tags and digests).
    pub names: Vec<String>,
    /// Its size in bytes (`sizeBytes`).
    #[serde(default)]
    pub size_bytes: u64,
}

/// Effect of a taint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TaintEffect {
    /// Pods that do not tolerate it are not scheduled onto the node.
    NoSchedule,
    /// The scheduler tries to avoid the node (a score, never a filter).
    PreferNoSchedule,
    /// Like NoSchedule, and running pods that do not tolerate it are evicted.
    NoExecute,
}

impl TaintEffect {
    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoSchedule => "NoSchedule",
            Self::PreferNoSchedule => "PreferNoSchedule",
            Self::NoExecute => "NoExecute",
        }
    }
}

/// A node taint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Taint {
    /// Taint key.
    pub key: String,
    /// Taint value (may be absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Effect.
    pub effect: TaintEffect,
}

impl Taint {
    /// A `NoSchedule` taint `key=value`, the usual way to reserve a node pool.
    ///
    /// # Examples
    /// ```
    /// let t = compactor_core::model::Taint::no_schedule("nvidia.com/gpu", "present");
    /// assert_eq!(t.to_string(), "nvidia.com/gpu=present:NoSchedule");
    /// ```
    pub fn no_schedule(key: &str, value: &str) -> Self {
        Self {
            key: key.to_owned(),
            value: Some(value.to_owned()),
            effect: TaintEffect::NoSchedule,
        }
    }
}

impl std::fmt::Display for Taint {
    /// `key=value:Effect`, or `key:Effect` without a value, as kubectl prints taints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.value {
            Some(v) if !v.is_empty() => write!(f, "{}={}:{}", self.key, v, self.effect.as_str()),
            _ => write!(f, "{}:{}", self.key, self.effect.as_str()),
        }
    }
}

/// Operator of a toleration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TolerationOperator {
    /// Key and value must equal the taint's.
    #[default]
    Equal,
    /// Key must equal the taint's (an empty key matches every key); the value is ignored.
    Exists,
}

/// A pod toleration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Toleration {
    /// Taint key; absent (or empty) with `Exists` tolerates every taint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Operator; defaults to `Equal`.
    #[serde(default)]
    pub operator: TolerationOperator,
    /// Value compared by `Equal` (absent means the empty string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Effect matched; absent matches every effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<TaintEffect>,
    /// `tolerationSeconds`: a `NoExecute` taint is tolerated for this long only, then the
    /// pod is evicted. kube-scheduler still places the pod on the node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toleration_seconds: Option<i64>,
}

impl Toleration {
    /// Tolerates every taint with `key` and `effect`, whatever its value (`operator: Exists`).
    pub fn exists(key: &str, effect: TaintEffect) -> Self {
        Self {
            key: Some(key.to_owned()),
            operator: TolerationOperator::Exists,
            value: None,
            effect: Some(effect),
            toleration_seconds: None,
        }
    }
}

/// Operator of a node selector requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NodeSelectorOperator {
    /// The label's value is one of `values`.
    In,
    /// The label is absent or its value is none of `values`.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
    /// The label's value, as an integer, is greater than the single value.
    Gt,
    /// The label's value, as an integer, is less than the single value.
    Lt,
}

impl NodeSelectorOperator {
    /// Whether `values` suit the operator as the API server validates them: one integer for
    /// `Gt` / `Lt`, at least one value for `In` / `NotIn`, none for `Exists` /
    /// `DoesNotExist`.
    ///
    /// ```
    /// use compactor_core::model::NodeSelectorOperator as Op;
    /// assert!(Op::Gt.check_values(&["3".into()]).is_ok());
    /// assert!(Op::In.check_values(&[]).is_err());
    /// assert!(Op::Exists.check_values(&["x".into()]).is_err());
    /// ```
    ///
    /// # Errors
    /// What is wrong, in a few words.
    pub fn check_values(self, values: &[String]) -> Result<(), &'static str> {
        match self {
            Self::Gt | Self::Lt if values.len() != 1 || values[0].parse::<i64>().is_err() => {
                Err("Gt and Lt need exactly one integer value")
            }
            Self::In | Self::NotIn if values.is_empty() => {
                Err("In and NotIn need at least one value")
            }
            Self::Exists | Self::DoesNotExist if !values.is_empty() => {
                Err("Exists and DoesNotExist take no values")
            }
            _ => Ok(()),
        }
    }
}

/// One node selector requirement (`matchExpressions` or `matchFields` entry).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSelectorRequirement {
    /// Label key (for `matchFields`, only `metadata.name`).
    pub key: String,
    /// Operator.
    pub operator: NodeSelectorOperator,
    /// Values (one integer for Gt / Lt, none for Exists / DoesNotExist).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// A node selector term: every requirement must hold (ANDed). A term without requirements
/// matches no node, as in Kubernetes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSelectorTerm {
    /// Requirements on node labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<NodeSelectorRequirement>,
    /// Requirements on node fields (only `metadata.name` with In / NotIn).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_fields: Vec<NodeSelectorRequirement>,
}

/// Protocol of a host port.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Protocol {
    /// TCP (the default).
    #[default]
    #[serde(rename = "TCP")]
    Tcp,
    /// UDP.
    #[serde(rename = "UDP")]
    Udp,
    /// SCTP.
    #[serde(rename = "SCTP")]
    Sctp,
}

/// A container port bound on the node (`hostPort`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostPort {
    /// The host port number.
    pub port: u16,
    /// Protocol; defaults to TCP.
    #[serde(default)]
    pub protocol: Protocol,
    /// Host IP; defaults to `0.0.0.0` (every address).
    #[serde(default = "any_ip")]
    pub host_ip: String,
}

fn any_ip() -> String {
    "0.0.0.0".to_owned()
}

/// Lifecycle phase of a pod.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PodPhase {
    /// Accepted but not (fully) started.
    Pending,
    /// Bound to a node and running.
    #[default]
    Running,
    /// All containers terminated successfully.
    Succeeded,
    /// All containers terminated, at least one in failure.
    Failed,
    /// State unknown.
    Unknown,
}

impl PodPhase {
    /// Succeeded or Failed: the pod holds no resources any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed)
    }
}

/// The controller that owns a pod, resolved to the workload a person would name
/// (a ReplicaSet created by a Deployment is reported as that Deployment).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OwnerRef {
    /// Kind: Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, Node (static pod), …
    pub kind: String,
    /// Name of the owning object.
    pub name: String,
}

/// One app container's resource requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerSpec {
    /// Container name.
    pub name: String,
    /// `resources.requests`.
    #[serde(default, skip_serializing_if = "ResourceList::is_empty")]
    pub requests: ResourceList,
}

/// One init container's requests; `sidecar` marks `restartPolicy: Always` (native sidecars).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InitContainerSpec {
    /// Container name.
    pub name: String,
    /// `resources.requests`.
    #[serde(default, skip_serializing_if = "ResourceList::is_empty")]
    pub requests: ResourceList,
    /// `restartPolicy: Always`: a sidecar that keeps running beside the app containers.
    #[serde(default, skip_serializing_if = "is_false")]
    pub sidecar: bool,
}

/// The kind of a pod volume, as far as draining is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum VolumeSource {
    /// A PersistentVolumeClaim.
    #[serde(rename_all = "camelCase")]
    PersistentVolumeClaim {
        /// Claim name.
        claim_name: String,
        /// Where the bound volume can be used: the PersistentVolume's required node
        /// affinity (terms ORed), with its zone / region labels added as terms'
        /// requirements. Empty when the volume can be used anywhere.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        node_affinity: Vec<NodeSelectorTerm>,
        /// Why the volume is not known, when it is not: the claim or its PersistentVolume is
        /// missing from the input, or the claim is not bound. Such a pod stays (reason
        /// `missing-input`): where its volume could follow is unknown.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unresolved: Option<String>,
        /// The CSI driver of the bound PersistentVolume (`spec.csi.driver`): the volume counts
        /// against the receiving node's attach limit for that driver (kube-scheduler's
        /// NodeVolumeLimits; see [`NodeSpec::attach_limits`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        csi_driver: Option<String>,
        /// The claim's access modes include `ReadWriteOncePod`: the replacement is scheduled
        /// only once the evicted pod is gone (kube-scheduler's VolumeRestrictions).
        #[serde(default, skip_serializing_if = "is_false")]
        read_write_once_pod: bool,
    },
    /// An emptyDir; `memory` when `medium: Memory` (tmpfs, no node-local disk data).
    EmptyDir {
        /// Backed by memory.
        #[serde(default)]
        memory: bool,
    },
    /// A hostPath.
    HostPath {
        /// The host path.
        path: String,
    },
    /// Anything else (configMap, secret, projected, …): irrelevant to draining.
    Other,
}

/// A named pod volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeSpec {
    /// Volume name.
    pub name: String,
    /// What backs it.
    #[serde(flatten)]
    pub source: VolumeSource,
}

/// A pod as the planner sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodSpec {
    /// Namespace.
    pub namespace: String,
    /// Name (unique within the namespace).
    pub name: String,
    /// The node the pod is bound to; `None` for an unscheduled pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// Phase; defaults to Running.
    #[serde(default)]
    pub phase: PodPhase,
    /// `metadata.deletionTimestamp` is set: the pod is going away. It still holds its
    /// resources and counts for inter-pod affinity (as kube-scheduler counts it) but not for
    /// topology spreading; it neither blocks a drain nor is moved.
    #[serde(default, skip_serializing_if = "is_false")]
    pub terminating: bool,
    /// Controlling owner, resolved to the workload (see [`OwnerRef`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<OwnerRef>,
    /// Desired replicas of the owning workload when known; otherwise the planner counts the
    /// owner's pods in the snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// `spec.priority`.
    #[serde(default)]
    pub priority: i32,
    /// `spec.priorityClassName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    /// Pod labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Pod annotations (opt-out, safe-to-evict, mirror).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// App containers.
    #[serde(default)]
    pub containers: Vec<ContainerSpec>,
    /// Init containers, in order (sidecars included).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<InitContainerSpec>,
    /// Pod-level `spec.resources.requests` (PodLevelResources): where set, they replace the
    /// containers' sum for that resource.
    #[serde(default, skip_serializing_if = "ResourceList::is_empty")]
    pub pod_requests: ResourceList,
    /// `spec.overhead` (RuntimeClass overhead).
    #[serde(default, skip_serializing_if = "ResourceList::is_empty")]
    pub overhead: ResourceList,
    /// Volumes that matter to draining.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<VolumeSpec>,
    /// Whether every app container has a readiness probe (used for risk).
    #[serde(default, skip_serializing_if = "is_false")]
    pub readiness_probe: bool,
    /// Pod limits: for each resource that *every* app container limits, the sum of those
    /// limits (a resource some app container leaves unlimited is absent). Used by the analyzer
    /// only (usage against limits); the planner ignores it.
    #[serde(default, skip_serializing_if = "ResourceList::is_empty")]
    pub limits: ResourceList,
    /// The pod's current observed usage, summed over its containers (PodMetrics), when known.
    /// A resource that is not listed is unknown, never zero. Used by the analyzer only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<ResourceList>,
    /// Usage history, oldest first (one entry per observation, each summed over the
    /// containers). With two or more samples the analyzer recommends requests from a
    /// percentile of them; see `compactor_core::analysis`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usage_samples: Vec<ResourceList>,
    /// The image of every init container, then of every app container, for kube-scheduler's
    /// ImageLocality score (empty when unknown).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// `spec.tolerations`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// `spec.nodeSelector`: every label must be on the node with this value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// `affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`:
    /// the terms are ORed; an empty list is no constraint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_node_affinity: Vec<NodeSelectorTerm>,
    /// Container ports with a `hostPort`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_ports: Vec<HostPort>,
    /// `affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution`: scored, never
    /// a filter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferred_node_affinity: Vec<PreferredSchedulingTerm>,
    /// `affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution`: every term must
    /// find a matching pod in the candidate node's topology domain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pod_affinity: Vec<PodAffinityTerm>,
    /// `affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution`: no term may
    /// find a matching pod in the candidate node's topology domain (and, symmetrically, no
    /// pod already placed may have a term matching this pod there).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pod_anti_affinity: Vec<PodAffinityTerm>,
    /// `affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferred_pod_affinity: Vec<WeightedPodAffinityTerm>,
    /// `affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferred_pod_anti_affinity: Vec<WeightedPodAffinityTerm>,
    /// `spec.topologySpreadConstraints`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
    /// `spec.schedulerName`; absent means `default-scheduler`. A pod whose scheduler the
    /// prediction does not model (no profile of that name) stays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler_name: Option<String>,
}

/// A preferred node affinity term: `weight` (1–100) is added to the score of nodes that
/// match `preference`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferredSchedulingTerm {
    /// Weight, 1–100.
    pub weight: i32,
    /// The node selector term.
    pub preference: NodeSelectorTerm,
}

/// An inter-pod (anti-)affinity term: the pods selected by `label_selector` in the term's
/// namespaces, and the node label that defines "the same place" (`topology_key`).
///
/// Namespaces: `namespaces` ∪ the namespaces whose labels match `namespace_selector`; when
/// both are absent, the namespace of the pod that carries the term. An empty
/// `namespace_selector` (`{}`) selects every namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodAffinityTerm {
    /// The pods the term is about; `None` (a null selector) matches no pod, an empty
    /// selector every pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<LabelSelector>,
    /// Namespaces by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// Namespaces by their labels (see [`SnapshotSpec::namespaces`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    /// Node label whose value is the topology domain (`kubernetes.io/hostname`,
    /// `topology.kubernetes.io/zone`, or any custom label).
    pub topology_key: String,
}

/// A preferred inter-pod (anti-)affinity term with its weight (1–100).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeightedPodAffinityTerm {
    /// Weight, 1–100.
    pub weight: i32,
    /// The term.
    pub pod_affinity_term: PodAffinityTerm,
}

/// What the scheduler does with a node that would break a spread constraint.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum WhenUnsatisfiable {
    /// A filter: the node is not feasible.
    #[default]
    DoNotSchedule,
    /// A preference: the node scores lower.
    ScheduleAnyway,
}

/// Whether a spread constraint's node inclusion policy applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NodeInclusionPolicy {
    /// Only nodes that pass the pod's node affinity / tolerate its taints count.
    Honor,
    /// Every node with the topology label counts.
    Ignore,
}

fn honor() -> NodeInclusionPolicy {
    NodeInclusionPolicy::Honor
}

fn ignore() -> NodeInclusionPolicy {
    NodeInclusionPolicy::Ignore
}

/// A topology spread constraint (`spec.topologySpreadConstraints[]`).
///
/// Skew of a domain = matching pods in it (plus one for the incoming pod when it matches
/// its own selector) minus the fewest matching pods in any eligible domain (0 when fewer
/// than `min_domains` domains exist). Only pods in the pod's own namespace count.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TopologySpreadConstraint {
    /// Largest skew allowed (at least 1).
    pub max_skew: u32,
    /// Node label that defines the domains.
    pub topology_key: String,
    /// Filter (`DoNotSchedule`, the default) or preference (`ScheduleAnyway`).
    #[serde(default)]
    pub when_unsatisfiable: WhenUnsatisfiable,
    /// The pods counted; `None` counts none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<LabelSelector>,
    /// Fewest eligible domains; with fewer, the global minimum is taken as 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_domains: Option<u32>,
    /// Pod label keys whose values (the incoming pod's) are ANDed into the selector.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_label_keys: Vec<String>,
    /// Whether the pod's nodeSelector / required node affinity limit the counted nodes
    /// (default `Honor`).
    #[serde(default = "honor")]
    pub node_affinity_policy: NodeInclusionPolicy,
    /// Whether untolerated taints exclude nodes from counting (default `Ignore`).
    #[serde(default = "ignore")]
    pub node_taints_policy: NodeInclusionPolicy,
}

impl PodSpec {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The value of annotation `key`, if set.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }
}

/// Operator of a label selector requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SelectorOperator {
    /// The label's value is one of `values`.
    In,
    /// The label is absent or its value is none of `values`.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
}

impl SelectorOperator {
    /// Whether `values` suit the operator as the API server validates them: at least one
    /// value for `In` / `NotIn`, none for `Exists` / `DoesNotExist`.
    ///
    /// ```
    /// use compactor_core::model::SelectorOperator as Op;
    /// assert!(Op::In.check_values(&["a".into()]).is_ok());
    /// assert!(Op::NotIn.check_values(&[]).is_err());
    /// ```
    ///
    /// # Errors
    /// What is wrong, in a few words.
    pub fn check_values(self, values: &[String]) -> Result<(), &'static str> {
        match self {
            Self::In | Self::NotIn if values.is_empty() => {
                Err("In and NotIn need at least one value")
            }
            Self::Exists | Self::DoesNotExist if !values.is_empty() => {
                Err("Exists and DoesNotExist take no values")
            }
            _ => Ok(()),
        }
    }
}

/// One `matchExpressions` requirement.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelectorRequirement {
    /// Label key.
    pub key: String,
    /// Operator.
    pub operator: SelectorOperator,
    /// Values for In / NotIn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// A Kubernetes label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelector {
    /// Exact label matches.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// Set-based requirements (ANDed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<SelectorRequirement>,
}

impl LabelSelector {
    /// Whether `labels` satisfy the selector.
    ///
    /// # Examples
    /// ```
    /// use compactor_core::model::LabelSelector;
    /// let sel = LabelSelector { match_labels: [("app".into(), "web".into())].into(), ..Default::default() };
    /// assert!(sel.matches(&[("app".to_string(), "web".to_string())].into()));
    /// assert!(LabelSelector::default().matches(&Default::default()));
    /// ```
    ///
    /// # Complexity
    /// O((|matchLabels| + Σ|values|) · log |labels|).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|req| {
                let value = labels.get(&req.key);
                match req.operator {
                    SelectorOperator::In => value.is_some_and(|v| req.values.contains(v)),
                    SelectorOperator::NotIn => value.is_none_or(|v| !req.values.contains(v)),
                    SelectorOperator::Exists => value.is_some(),
                    SelectorOperator::DoesNotExist => value.is_none(),
                }
            })
    }
}

/// A PodDisruptionBudget with its computed status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PdbSpec {
    /// Namespace (a PDB covers pods of its own namespace only).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Pod selector; `None` (a null selector) matches no pod, an empty one matches all.
    #[serde(default)]
    pub selector: Option<LabelSelector>,
    /// `status.disruptionsAllowed`.
    pub disruptions_allowed: u32,
}

impl PdbSpec {
    /// A PDB in `namespace` selecting the pods labelled `app=<app>`, the most common shape.
    ///
    /// # Examples
    /// ```
    /// let pdb = compactor_core::model::PdbSpec::for_app("shop", "web", "web", 1);
    /// assert_eq!(pdb.selector.unwrap().match_labels["app"], "web");
    /// ```
    pub fn for_app(namespace: &str, name: &str, app: &str, disruptions_allowed: u32) -> Self {
        Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            selector: Some(LabelSelector {
                match_labels: [("app".to_owned(), app.to_owned())].into(),
                match_expressions: Vec::new(),
            }),
            disruptions_allowed,
        }
    }

    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Whether this PDB covers `pod`.
    pub fn covers(&self, pod: &PodSpec) -> bool {
        pod.namespace == self.namespace
            && self
                .selector
                .as_ref()
                .is_some_and(|s| s.matches(&pod.labels))
    }
}

/// The JSON snapshot format: everything the planner reads.
///
/// ```json
/// {"nodes": [{"name": "n1", "allocatable": {"cpu": "4", "memory": "16Gi"}}],
///  "pods": [{"namespace": "shop", "name": "web-1", "nodeName": "n1",
///            "owner": {"kind": "Deployment", "name": "web"},
///            "containers": [{"name": "app", "requests": {"cpu": "500m", "memory": "1Gi"}}]}],
///  "pdbs": []}
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SnapshotSpec {
    /// Nodes.
    pub nodes: Vec<NodeSpec>,
    /// Pods (any phase; terminal pods are ignored).
    #[serde(default)]
    pub pods: Vec<PodSpec>,
    /// PodDisruptionBudgets.
    #[serde(default)]
    pub pdbs: Vec<PdbSpec>,
    /// Namespace labels, for the `namespaceSelector` of pod affinity terms. A namespace
    /// not listed has only `kubernetes.io/metadata.name: <name>`, which the API server
    /// sets on every namespace (and which is added here too); since its other labels are
    /// unknown, a pod whose required pod (anti-)affinity depends on them stays where it is
    /// (`missing-input`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn selector_operators() {
        let req = |operator, values: &[&str]| LabelSelector {
            match_labels: BTreeMap::new(),
            match_expressions: vec![SelectorRequirement {
                key: "tier".into(),
                operator,
                values: values.iter().map(|s| (*s).to_owned()).collect(),
            }],
        };
        let web = labels(&[("tier", "web")]);
        let none = labels(&[]);
        assert!(req(SelectorOperator::In, &["web", "api"]).matches(&web));
        assert!(!req(SelectorOperator::In, &["api"]).matches(&web));
        assert!(!req(SelectorOperator::In, &["web"]).matches(&none));
        assert!(req(SelectorOperator::NotIn, &["api"]).matches(&web));
        assert!(req(SelectorOperator::NotIn, &["api"]).matches(&none));
        assert!(!req(SelectorOperator::NotIn, &["web"]).matches(&web));
        assert!(req(SelectorOperator::Exists, &[]).matches(&web));
        assert!(!req(SelectorOperator::Exists, &[]).matches(&none));
        assert!(req(SelectorOperator::DoesNotExist, &[]).matches(&none));
        assert!(!req(SelectorOperator::DoesNotExist, &[]).matches(&web));
    }

    #[test]
    fn pdb_coverage_is_namespaced_and_null_matches_nothing() {
        let pod = PodSpec {
            namespace: "a".into(),
            name: "p".into(),
            labels: labels(&[("app", "x")]),
            ..Default::default()
        };
        let mut pdb = PdbSpec {
            namespace: "a".into(),
            name: "b".into(),
            selector: Some(LabelSelector::default()),
            disruptions_allowed: 1,
        };
        assert!(pdb.covers(&pod));
        pdb.namespace = "other".into();
        assert!(!pdb.covers(&pod));
        pdb.namespace = "a".into();
        pdb.selector = None;
        assert!(!pdb.covers(&pod));
    }

    #[test]
    fn snapshot_json_defaults() {
        let spec: SnapshotSpec = serde_json::from_str(
            r#"{"nodes":[{"name":"n","allocatable":{"cpu":"4","memory":"8Gi"}}],
                "pods":[{"namespace":"d","name":"p","nodeName":"n",
                         "volumes":[{"name":"v","type":"emptyDir","memory":true},{"name":"c","type":"persistentVolumeClaim","claimName":"data"}]}]}"#,
        )
        .unwrap();
        assert!(spec.nodes[0].ready);
        assert_eq!(spec.pods[0].phase, PodPhase::Running);
        assert_eq!(
            spec.pods[0].volumes[0].source,
            VolumeSource::EmptyDir { memory: true }
        );
        assert_eq!(
            spec.pods[0].volumes[1].source,
            VolumeSource::PersistentVolumeClaim {
                claim_name: "data".into(),
                node_affinity: Vec::new(),
                unresolved: None,
                csi_driver: None,
                read_write_once_pod: false,
            }
        );
        let err = serde_json::from_str::<SnapshotSpec>(
            r#"{"nodes":[{"name":"n","allocatable":{},"colour":1}]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `colour`"), "{err}");
    }
}
