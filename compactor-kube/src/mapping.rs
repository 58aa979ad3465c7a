//! Pure mapping of Kubernetes API objects into the compactor-core model.
//!
//! No I/O, no clock, no client: the functions take k8s-openapi objects, or the JSON that
//! `kubectl get nodes,pods,pdb,pvc,pv,namespaces,csinodes -A -o json` prints (Nodes, Pods,
//! PodDisruptionBudgets, Namespaces, PersistentVolumeClaims, PersistentVolumes and CSINodes;
//! other kinds are skipped), and return the core `*Spec` types. Output is deterministic: maps are
//! `BTreeMap`s and lists keep the input order (the core sorts them when it builds a
//! [`compactor_core::Snapshot`]).
//!
//! Rules worth knowing, each documented on the function that applies it:
//! - a container's request for a resource it only *limits* is the limit ([`pod_spec`]), as
//!   API-server defaulting does;
//! - a pod owned by a ReplicaSet named `<deployment>-<pod-template-hash>` is reported as owned
//!   by that Deployment ([`pod_spec`]);
//! - the `matchLabelKeys` / `mismatchLabelKeys` of pod (anti-)affinity terms are not read: the
//!   API server has already merged them into the terms' `labelSelector` ([`pod_spec`]);
//! - a PodDisruptionBudget without a (current) status allows no disruption ([`pdb_spec`]);
//! - a pod's PersistentVolumeClaim volume can be used where its bound PersistentVolume's node
//!   affinity and zone / region labels allow ([`persistent_volume_node_affinity`]); a claim
//!   that is unbound, or whose claim or volume is not in the dump, is marked `unresolved`
//!   (the core keeps such a pod where it is); the volume's CSI driver and the claim's
//!   `ReadWriteOncePod` access mode are carried, and a node's CSINode gives its attach limits
//!   ([`snapshot_from_kubectl_list`]).

use std::collections::BTreeMap;

use compactor_core::model::{
    ContainerSpec, HostPort, InitContainerSpec, LabelSelector, NodeInclusionPolicy,
    NodeSelectorOperator, NodeSelectorRequirement, NodeSelectorTerm, NodeSpec, OwnerRef, PdbSpec,
    PodAffinityTerm, PodPhase, PodSpec, PreferredSchedulingTerm, Protocol, SelectorOperator,
    SelectorRequirement, SnapshotSpec, Taint, TaintEffect, Toleration, TolerationOperator,
    TopologySpreadConstraint, VolumeSource, VolumeSpec, WeightedPodAffinityTerm, WhenUnsatisfiable,
    ZONE_LABEL,
};
use compactor_core::quantity;
use compactor_core::resources::{ResourceList, unit_of};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    Container, Namespace, Node, NodeSelectorRequirement as KubeNodeSelectorRequirement,
    NodeSelectorTerm as KubeNodeSelectorTerm, PersistentVolume, PersistentVolumeClaim, Pod,
    PodAffinityTerm as KubePodAffinityTerm,
    TopologySpreadConstraint as KubeTopologySpreadConstraint, Volume,
    WeightedPodAffinityTerm as KubeWeightedPodAffinityTerm,
};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::storage::v1::CSINode;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector as KubeLabelSelector, ObjectMeta, OwnerReference,
};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use crate::error::KubeError;

/// Namespace of an object whose `metadata.namespace` is absent or empty.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Label the Deployment controller puts on the pods (and in the name) of its ReplicaSets.
pub const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";

/// The deprecated zone label, still set on PersistentVolumes by older provisioners.
pub const LEGACY_ZONE_LABEL: &str = "failure-domain.beta.kubernetes.io/zone";

/// Label key of a node's (or a volume's) region.
pub const REGION_LABEL: &str = "topology.kubernetes.io/region";

/// The deprecated region label.
pub const LEGACY_REGION_LABEL: &str = "failure-domain.beta.kubernetes.io/region";

/// Separator of the zones of a volume that spans several (`eu-west-1a__eu-west-1b`), as
/// Kubernetes writes them into one label value.
pub const ZONE_DELIMITER: &str = "__";

/// Maps a Node.
///
/// - `name`: `metadata.name` (required);
/// - `allocatable`: every entry of `status.allocatable`, parsed in the resource's canonical
///   unit (millicores for `cpu`, the base unit otherwise); absent status → empty (the core then
///   rejects the node for zero CPU);
/// - `labels`, `annotations`: as given;
/// - `unschedulable`: `spec.unschedulable` (absent → false);
/// - `ready`: the `Ready` condition has status `"True"`; a node without that condition is not
///   Ready;
/// - `taints`: `spec.taints` (key, value, effect; `timeAdded` is dropped).
///
/// # Examples
/// ```
/// use k8s_openapi::api::core::v1::Node;
/// let node: Node = serde_json::from_value(serde_json::json!({
///     "metadata": {"name": "n1", "labels": {"topology.kubernetes.io/zone": "eu-west-1a"}},
///     "status": {"allocatable": {"cpu": "3920m", "memory": "15551676Ki", "pods": "110"},
///                "conditions": [{"type": "Ready", "status": "True"}]}
/// })).unwrap();
/// let spec = compactor_kube::mapping::node_spec(&node).unwrap();
/// assert_eq!(spec.allocatable.get("cpu"), 3920);
/// assert_eq!(spec.allocatable.get("memory"), 15_551_676 * 1024);
/// assert!(spec.ready && !spec.unschedulable);
/// ```
///
/// # Errors
/// - [`KubeError::Field`] when `metadata.name` is missing or empty;
/// - [`KubeError::Quantity`] naming `node X: status.allocatable.<resource>` for a quantity
///   that does not parse;
/// - [`KubeError::Field`] naming `spec.taints[i].effect` for an unknown taint effect.
///
/// # Complexity
/// O(labels + annotations + allocatable + conditions + taints).
pub fn node_spec(node: &Node) -> Result<NodeSpec, KubeError> {
    let meta = &node.metadata;
    let name = meta
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| KubeError::Field {
            object: "node".to_owned(),
            field: "metadata.name".to_owned(),
            message: "missing or empty".to_owned(),
        })?;
    let object = format!("node {name}");
    let status = node.status.as_ref();
    let allocatable = match status.and_then(|s| s.allocatable.as_ref()) {
        Some(list) => parse_list(&object, "status.allocatable", list)?,
        None => ResourceList::new(),
    };
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|conditions| conditions.iter().find(|c| c.type_ == "Ready"))
        .is_some_and(|c| c.status == "True");
    let mut taints = Vec::new();
    for (i, t) in node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        taints.push(Taint {
            key: t.key.clone(),
            value: t.value.clone().filter(|v| !v.is_empty()),
            effect: taint_effect(&object, &format!("spec.taints[{i}].effect"), &t.effect)?,
        });
    }
    Ok(NodeSpec {
        name,
        allocatable,
        labels: meta.labels.clone().unwrap_or_default(),
        annotations: meta.annotations.clone().unwrap_or_default(),
        unschedulable: node
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false),
        ready,
        usage: None,
        taints,
        // From the list's CSINode of the node, when there is one.
        attach_limits: None,
        images: node
            .status
            .as_ref()
            .and_then(|s| s.images.as_deref())
            .unwrap_or_default()
            .iter()
            .map(|image| compactor_core::model::NodeImage {
                names: image.names.clone().unwrap_or_default(),
                size_bytes: image
                    .size_bytes
                    .and_then(|b| u64::try_from(b).ok())
                    .unwrap_or(0),
            })
            .filter(|image| !image.names.is_empty())
            .collect(),
    })
}

/// Maps a Pod.
///
/// - `namespace`: `metadata.namespace`, `"default"` when absent or empty; `name` required;
/// - `node_name`: `spec.nodeName`;
/// - `phase`: `status.phase`; absent or empty → `Pending`;
/// - `owner`: the owner reference with `controller: true` (the first one, should there be
///   several). A ReplicaSet named `<deployment>-<hash>`, where `<hash>` is the pod's
///   `pod-template-hash` label, is reported as `Deployment <deployment>`; every other owner
///   keeps its kind and name (a DaemonSet stays a DaemonSet, a static pod's mirror is owned by
///   its `Node`). `replicas` is left unknown;
/// - `priority` (absent → 0), `priority_class_name`, `labels`, `annotations`: as given;
/// - containers and init containers: `resources.requests`, where a resource that has a limit
///   but no request gets the limit as its request — the API server applies that default when
///   it admits a pod, so this only matters for objects that did not go through it (manifests,
///   dry runs) and keeps them consistent with what the scheduler will see. An init container
///   with `restartPolicy: Always` is a sidecar. Ephemeral containers are ignored (the
///   scheduler does not count them);
/// - `overhead`: `spec.overhead` (no limit fallback);
/// - volumes: `persistentVolumeClaim` → claim (its `node_affinity` is left empty: the claim
///   and its volume are other objects, which [`snapshot_from_kubectl_list`] resolves),
///   `emptyDir` → emptyDir (memory-backed when `medium: Memory`), `hostPath` → hostPath,
///   anything else (generic `ephemeral` volumes included: a recreated pod gets a new claim)
///   → other;
/// - `readiness_probe`: there is at least one app container and every app container has a
///   `readinessProbe`;
/// - `limits`: for each resource that every app container limits, the sum of the limits
///   (used by the analyzer only); `usage` is left unknown (see [`crate::metrics`]);
/// - `tolerations`: `spec.tolerations` (operator absent → Equal; `tolerationSeconds` kept);
///   `node_selector`: `spec.nodeSelector`;
/// - `required_node_affinity`: the `nodeSelectorTerms` of
///   `spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution`;
///   `preferred_node_affinity`: `…nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution`
///   (weight and preference term);
/// - `pod_affinity` / `pod_anti_affinity`: the `requiredDuringSchedulingIgnoredDuringExecution`
///   terms of `spec.affinity.podAffinity` / `podAntiAffinity`; `preferred_pod_affinity` /
///   `preferred_pod_anti_affinity`: their `preferredDuringSchedulingIgnoredDuringExecution`
///   terms with their weights. A term keeps `labelSelector` (absent → `None`, which matches
///   no pod), `namespaces`, `namespaceSelector` (absent → `None`, `{}` → every namespace) and
///   `topologyKey`. `matchLabelKeys` and `mismatchLabelKeys` are not read: when it admits a
///   pod the API server (1.31 and later, MatchLabelKeysInPodAffinity) merges them into
///   `labelSelector` as `key In [value]` / `key NotIn [value]`, so the selector of a pod read
///   from a cluster already holds them; for a manifest that did not go through the API
///   server the selector is taken as written (broader than Kubernetes would make it);
/// - `topology_spread_constraints`: `spec.topologySpreadConstraints` with every field:
///   `maxSkew`, `topologyKey`, `whenUnsatisfiable` (absent → DoNotSchedule),
///   `labelSelector` (absent → `None`), `minDomains`, `matchLabelKeys`,
///   `nodeAffinityPolicy` (absent → Honor) and `nodeTaintsPolicy` (absent → Ignore);
/// - `host_ports`: every `ports[]` entry with a non-zero `hostPort` of the app containers and
///   of the sidecar init containers (protocol absent → TCP, `hostIP` absent or empty →
///   `0.0.0.0`).
///
/// # Examples
/// ```
/// use k8s_openapi::api::core::v1::Pod;
/// use compactor_core::model::OwnerRef;
/// let pod: Pod = serde_json::from_value(serde_json::json!({
///     "metadata": {"namespace": "shop", "name": "web-7d4b9c8f6d-x2x4p",
///                  "labels": {"app": "web", "pod-template-hash": "7d4b9c8f6d"},
///                  "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
///                      "name": "web-7d4b9c8f6d", "uid": "1", "controller": true}]},
///     "spec": {"nodeName": "n1", "containers": [{"name": "app",
///         "resources": {"requests": {"cpu": "250m"}, "limits": {"cpu": "1", "memory": "512Mi"}}}]},
///     "status": {"phase": "Running"}
/// })).unwrap();
/// let spec = compactor_kube::mapping::pod_spec(&pod).unwrap();
/// assert_eq!(spec.owner, Some(OwnerRef { kind: "Deployment".into(), name: "web".into() }));
/// assert_eq!(spec.containers[0].requests.get("cpu"), 250);
/// assert_eq!(spec.containers[0].requests.get("memory"), 512 << 20); // from the limit
/// ```
///
/// # Errors
/// - [`KubeError::Field`] when `metadata.name` is missing or `status.phase` is not one of
///   Pending, Running, Succeeded, Failed, Unknown;
/// - [`KubeError::Quantity`] naming `pod ns/name: spec.containers[i].resources.requests.<res>`
///   (or `.limits.<res>` when the limit is used, `spec.initContainers[i]…`, `spec.overhead.<res>`);
/// - [`KubeError::Field`] for an unknown toleration operator or effect, node selector
///   operator, port protocol, or a `hostPort` outside 1–65535, naming the field;
/// - [`KubeError::Field`] naming the field for a scheduling value Kubernetes would not
///   accept: a preferred term's `weight` outside 1–100, a label selector operator other than
///   In, NotIn, Exists, DoesNotExist (`…labelSelector.matchExpressions[j].operator`, also in
///   `namespaceSelector`), an empty `topologyKey`, a `maxSkew` below 1, a `minDomains` below
///   1, an unknown `whenUnsatisfiable`, `nodeAffinityPolicy` or `nodeTaintsPolicy`.
///
/// # Complexity
/// O(size of the pod object).
pub fn pod_spec(pod: &Pod) -> Result<PodSpec, KubeError> {
    let meta = &pod.metadata;
    let namespace = namespace_of(meta);
    let name = meta
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| KubeError::Field {
            object: format!("pod in namespace {namespace}"),
            field: "metadata.name".to_owned(),
            message: "missing or empty".to_owned(),
        })?;
    let object = format!("pod {namespace}/{name}");
    let labels = meta.labels.clone().unwrap_or_default();

    let phase = match pod.status.as_ref().and_then(|s| s.phase.as_deref()) {
        None | Some("") => PodPhase::Pending,
        Some(raw) => parse_phase(raw).ok_or_else(|| KubeError::Field {
            object: object.clone(),
            field: "status.phase".to_owned(),
            message: format!(
                "unknown phase {raw:?} (expected Pending, Running, Succeeded, Failed or Unknown)"
            ),
        })?,
    };
    let owner = controller_owner(
        meta.owner_references.as_deref().unwrap_or_default(),
        &labels,
    );

    let spec = pod.spec.as_ref();
    let app: &[Container] = spec.map(|s| s.containers.as_slice()).unwrap_or_default();
    let init: &[Container] = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default();

    let mut containers = Vec::with_capacity(app.len());
    for (i, c) in app.iter().enumerate() {
        containers.push(ContainerSpec {
            name: c.name.clone(),
            requests: container_requests(&object, &format!("spec.containers[{i}]"), c)?,
        });
    }
    let mut init_containers = Vec::with_capacity(init.len());
    for (i, c) in init.iter().enumerate() {
        init_containers.push(InitContainerSpec {
            name: c.name.clone(),
            requests: container_requests(&object, &format!("spec.initContainers[{i}]"), c)?,
            sidecar: c.restart_policy.as_deref() == Some("Always"),
        });
    }
    let overhead = match spec.and_then(|s| s.overhead.as_ref()) {
        Some(list) => parse_list(&object, "spec.overhead", list)?,
        None => ResourceList::new(),
    };
    let pod_requests = match spec
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
    {
        Some(list) => parse_list(&object, "spec.resources.requests", list)?,
        None => ResourceList::new(),
    };
    let volumes = spec
        .and_then(|s| s.volumes.as_deref())
        .unwrap_or_default()
        .iter()
        .map(volume_spec)
        .collect();
    let mut tolerations = Vec::new();
    for (i, t) in spec
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let operator = match t.operator.as_deref() {
            None | Some("") | Some("Equal") => TolerationOperator::Equal,
            Some("Exists") => TolerationOperator::Exists,
            Some(other) => {
                return Err(KubeError::Field {
                    object,
                    field: format!("spec.tolerations[{i}].operator"),
                    message: format!("unknown operator {other:?} (expected Equal or Exists)"),
                });
            }
        };
        let effect = match t.effect.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(taint_effect(
                &object,
                &format!("spec.tolerations[{i}].effect"),
                raw,
            )?),
        };
        tolerations.push(Toleration {
            key: t.key.clone().filter(|k| !k.is_empty()),
            operator,
            value: t.value.clone().filter(|v| !v.is_empty()),
            effect,
            toleration_seconds: t.toleration_seconds,
        });
    }
    let affinity = spec.and_then(|s| s.affinity.as_ref());
    let node_affinity = affinity.and_then(|a| a.node_affinity.as_ref());
    let required_node_affinity = node_selector_terms(
        &object,
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
        node_affinity
            .and_then(|n| {
                n.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .map(|sel| sel.node_selector_terms.as_slice())
            .unwrap_or_default(),
    )?;
    let mut preferred_node_affinity = Vec::new();
    for (i, t) in node_affinity
        .and_then(|n| {
            n.preferred_during_scheduling_ignored_during_execution
                .as_deref()
        })
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let path = format!(
            "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[{i}]"
        );
        preferred_node_affinity.push(PreferredSchedulingTerm {
            weight: weight(&object, &format!("{path}.weight"), t.weight)?,
            preference: node_selector_term(&object, &format!("{path}.preference"), &t.preference)?,
        });
    }
    let pod_affinity = affinity.and_then(|a| a.pod_affinity.as_ref());
    let pod_anti_affinity = affinity.and_then(|a| a.pod_anti_affinity.as_ref());
    let (required_pod_affinity, preferred_pod_affinity) = pod_affinity_terms(
        &object,
        "spec.affinity.podAffinity",
        pod_affinity.and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_deref()
        }),
        pod_affinity.and_then(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .as_deref()
        }),
    )?;
    let (required_pod_anti_affinity, preferred_pod_anti_affinity) = pod_affinity_terms(
        &object,
        "spec.affinity.podAntiAffinity",
        pod_anti_affinity.and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_deref()
        }),
        pod_anti_affinity.and_then(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .as_deref()
        }),
    )?;
    let mut topology_spread_constraints = Vec::new();
    for (i, c) in spec
        .and_then(|s| s.topology_spread_constraints.as_deref())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        topology_spread_constraints.push(topology_spread_constraint(
            &object,
            &format!("spec.topologySpreadConstraints[{i}]"),
            c,
        )?);
    }
    let mut host_ports = Vec::new();
    let with_ports = app
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("spec.containers[{i}]"), c))
        .chain(
            init.iter()
                .enumerate()
                .filter(|(_, c)| c.restart_policy.as_deref() == Some("Always"))
                .map(|(i, c)| (format!("spec.initContainers[{i}]"), c)),
        );
    for (path, c) in with_ports {
        for (j, port) in c.ports.as_deref().unwrap_or_default().iter().enumerate() {
            let Some(hp) = port.host_port.filter(|p| *p != 0) else {
                continue;
            };
            let field = format!("{path}.ports[{j}]");
            let port_number =
                u16::try_from(hp)
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| KubeError::Field {
                        object: object.clone(),
                        field: format!("{field}.hostPort"),
                        message: format!("{hp} is not a port number (1-65535)"),
                    })?;
            let protocol = match port.protocol.as_deref() {
                None | Some("") | Some("TCP") => Protocol::Tcp,
                Some("UDP") => Protocol::Udp,
                Some("SCTP") => Protocol::Sctp,
                Some(other) => {
                    return Err(KubeError::Field {
                        object,
                        field: format!("{field}.protocol"),
                        message: format!("unknown protocol {other:?} (expected TCP, UDP or SCTP)"),
                    });
                }
            };
            host_ports.push(HostPort {
                port: port_number,
                protocol,
                host_ip: port
                    .host_ip
                    .clone()
                    .filter(|ip| !ip.is_empty())
                    .unwrap_or_else(|| "0.0.0.0".to_owned()),
            });
        }
    }

    Ok(PodSpec {
        node_name: spec.and_then(|s| s.node_name.clone()),
        phase,
        terminating: meta.deletion_timestamp.is_some(),
        owner,
        replicas: None,
        priority: spec.and_then(|s| s.priority).unwrap_or(0),
        priority_class_name: spec.and_then(|s| s.priority_class_name.clone()),
        annotations: meta.annotations.clone().unwrap_or_default(),
        readiness_probe: !app.is_empty() && app.iter().all(|c| c.readiness_probe.is_some()),
        labels,
        containers,
        init_containers,
        overhead,
        pod_requests,
        volumes,
        limits: pod_limits(&object, app)?,
        usage: None,
        usage_samples: Vec::new(),
        images: init
            .iter()
            .chain(app)
            .filter_map(|c| c.image.clone())
            .filter(|i| !i.is_empty())
            .collect(),
        tolerations,
        node_selector: spec
            .and_then(|s| s.node_selector.clone())
            .unwrap_or_default(),
        required_node_affinity,
        host_ports,
        preferred_node_affinity,
        pod_affinity: required_pod_affinity,
        pod_anti_affinity: required_pod_anti_affinity,
        preferred_pod_affinity,
        preferred_pod_anti_affinity,
        topology_spread_constraints,
        namespace,
        name,
    })
}

fn taint_effect(object: &str, field: &str, raw: &str) -> Result<TaintEffect, KubeError> {
    match raw {
        "NoSchedule" => Ok(TaintEffect::NoSchedule),
        "PreferNoSchedule" => Ok(TaintEffect::PreferNoSchedule),
        "NoExecute" => Ok(TaintEffect::NoExecute),
        other => Err(KubeError::Field {
            object: object.to_owned(),
            field: field.to_owned(),
            message: format!(
                "unknown effect {other:?} (expected NoSchedule, PreferNoSchedule or NoExecute)"
            ),
        }),
    }
}

fn node_selector_operator(
    object: &str,
    field: &str,
    raw: &str,
) -> Result<NodeSelectorOperator, KubeError> {
    Ok(match raw {
        "In" => NodeSelectorOperator::In,
        "NotIn" => NodeSelectorOperator::NotIn,
        "Exists" => NodeSelectorOperator::Exists,
        "DoesNotExist" => NodeSelectorOperator::DoesNotExist,
        "Gt" => NodeSelectorOperator::Gt,
        "Lt" => NodeSelectorOperator::Lt,
        other => {
            return Err(KubeError::Field {
                object: object.to_owned(),
                field: field.to_owned(),
                message: format!(
                    "unknown operator {other:?} (expected In, NotIn, Exists, DoesNotExist, Gt or Lt)"
                ),
            });
        }
    })
}

/// Maps a list of node selector terms (required node affinity, a PersistentVolume's node
/// affinity); `base` is the path of the list, errors name `<base>[i].matchExpressions[j]…`.
fn node_selector_terms(
    object: &str,
    base: &str,
    terms: &[KubeNodeSelectorTerm],
) -> Result<Vec<NodeSelectorTerm>, KubeError> {
    terms
        .iter()
        .enumerate()
        .map(|(i, term)| node_selector_term(object, &format!("{base}[{i}]"), term))
        .collect()
}

/// Maps one node selector term found at `path`.
fn node_selector_term(
    object: &str,
    path: &str,
    term: &KubeNodeSelectorTerm,
) -> Result<NodeSelectorTerm, KubeError> {
    let reqs = |list: Option<&Vec<KubeNodeSelectorRequirement>>,
                what: &str|
     -> Result<Vec<NodeSelectorRequirement>, KubeError> {
        list.map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(j, r)| {
                Ok(NodeSelectorRequirement {
                    key: r.key.clone(),
                    operator: node_selector_operator(
                        object,
                        &format!("{path}.{what}[{j}].operator"),
                        &r.operator,
                    )?,
                    values: r.values.clone().unwrap_or_default(),
                })
            })
            .collect()
    };
    Ok(NodeSelectorTerm {
        match_expressions: reqs(term.match_expressions.as_ref(), "matchExpressions")?,
        match_fields: reqs(term.match_fields.as_ref(), "matchFields")?,
    })
}

/// A preferred term's weight, which Kubernetes keeps within 1–100.
fn weight(object: &str, field: &str, weight: i32) -> Result<i32, KubeError> {
    if (1..=100).contains(&weight) {
        Ok(weight)
    } else {
        Err(KubeError::Field {
            object: object.to_owned(),
            field: field.to_owned(),
            message: format!("weight {weight} is outside 1-100"),
        })
    }
}

/// The required and preferred terms of a `podAffinity` or `podAntiAffinity` found at `base`.
fn pod_affinity_terms(
    object: &str,
    base: &str,
    required: Option<&[KubePodAffinityTerm]>,
    preferred: Option<&[KubeWeightedPodAffinityTerm]>,
) -> Result<(Vec<PodAffinityTerm>, Vec<WeightedPodAffinityTerm>), KubeError> {
    let mut req = Vec::new();
    for (i, t) in required.unwrap_or_default().iter().enumerate() {
        req.push(pod_affinity_term(
            object,
            &format!("{base}.requiredDuringSchedulingIgnoredDuringExecution[{i}]"),
            t,
        )?);
    }
    let mut pref = Vec::new();
    for (i, t) in preferred.unwrap_or_default().iter().enumerate() {
        let path = format!("{base}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
        pref.push(WeightedPodAffinityTerm {
            weight: weight(object, &format!("{path}.weight"), t.weight)?,
            pod_affinity_term: pod_affinity_term(
                object,
                &format!("{path}.podAffinityTerm"),
                &t.pod_affinity_term,
            )?,
        });
    }
    Ok((req, pref))
}

/// One inter-pod (anti-)affinity term found at `path`. `matchLabelKeys` and
/// `mismatchLabelKeys` are not read: the API server merges them into `labelSelector` when it
/// admits the pod (MatchLabelKeysInPodAffinity, on by default since 1.31).
fn pod_affinity_term(
    object: &str,
    path: &str,
    term: &KubePodAffinityTerm,
) -> Result<PodAffinityTerm, KubeError> {
    if term.topology_key.is_empty() {
        return Err(KubeError::Field {
            object: object.to_owned(),
            field: format!("{path}.topologyKey"),
            message: "missing or empty".to_owned(),
        });
    }
    Ok(PodAffinityTerm {
        label_selector: term
            .label_selector
            .as_ref()
            .map(|s| label_selector(object, &format!("{path}.labelSelector"), s))
            .transpose()?,
        namespaces: term.namespaces.clone().unwrap_or_default(),
        namespace_selector: term
            .namespace_selector
            .as_ref()
            .map(|s| label_selector(object, &format!("{path}.namespaceSelector"), s))
            .transpose()?,
        topology_key: term.topology_key.clone(),
    })
}

/// One `spec.topologySpreadConstraints[]` entry found at `path`.
fn topology_spread_constraint(
    object: &str,
    path: &str,
    c: &KubeTopologySpreadConstraint,
) -> Result<TopologySpreadConstraint, KubeError> {
    let bad = |field: &str, message: String| KubeError::Field {
        object: object.to_owned(),
        field: format!("{path}.{field}"),
        message,
    };
    let max_skew = u32::try_from(c.max_skew)
        .ok()
        .filter(|s| *s >= 1)
        .ok_or_else(|| bad("maxSkew", format!("{} is not at least 1", c.max_skew)))?;
    if c.topology_key.is_empty() {
        return Err(bad("topologyKey", "missing or empty".to_owned()));
    }
    let when_unsatisfiable = match c.when_unsatisfiable.as_str() {
        // Required by the API; DoNotSchedule is its documented default and the stricter one.
        "" | "DoNotSchedule" => WhenUnsatisfiable::DoNotSchedule,
        "ScheduleAnyway" => WhenUnsatisfiable::ScheduleAnyway,
        other => {
            return Err(bad(
                "whenUnsatisfiable",
                format!("unknown value {other:?} (expected DoNotSchedule or ScheduleAnyway)"),
            ));
        }
    };
    let min_domains = match c.min_domains {
        None => None,
        Some(n) => Some(
            u32::try_from(n)
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| bad("minDomains", format!("{n} is not at least 1")))?,
        ),
    };
    let policy = |field: &str, raw: Option<&str>, default| match raw {
        None | Some("") => Ok(default),
        Some("Honor") => Ok(NodeInclusionPolicy::Honor),
        Some("Ignore") => Ok(NodeInclusionPolicy::Ignore),
        Some(other) => Err(bad(
            field,
            format!("unknown policy {other:?} (expected Honor or Ignore)"),
        )),
    };
    Ok(TopologySpreadConstraint {
        max_skew,
        topology_key: c.topology_key.clone(),
        when_unsatisfiable,
        label_selector: c
            .label_selector
            .as_ref()
            .map(|s| label_selector(object, &format!("{path}.labelSelector"), s))
            .transpose()?,
        min_domains,
        match_label_keys: c.match_label_keys.clone().unwrap_or_default(),
        node_affinity_policy: policy(
            "nodeAffinityPolicy",
            c.node_affinity_policy.as_deref(),
            NodeInclusionPolicy::Honor,
        )?,
        node_taints_policy: policy(
            "nodeTaintsPolicy",
            c.node_taints_policy.as_deref(),
            NodeInclusionPolicy::Ignore,
        )?,
    })
}

/// The pod's limits: for each resource that every app container limits, the sum of the
/// limits (the analyzer compares usage with it). Errors name `spec.containers[i].resources.limits.<res>`.
fn pod_limits(object: &str, app: &[Container]) -> Result<ResourceList, KubeError> {
    let mut per_container = Vec::with_capacity(app.len());
    for (i, c) in app.iter().enumerate() {
        per_container.push(match c.resources.as_ref().and_then(|r| r.limits.as_ref()) {
            Some(list) => parse_list(
                object,
                &format!("spec.containers[{i}].resources.limits"),
                list,
            )?,
            None => ResourceList::new(),
        });
    }
    let Some((first, rest)) = per_container.split_first() else {
        return Ok(ResourceList::new());
    };
    let mut out = ResourceList::new();
    for (resource, amount) in first.iter() {
        if rest.iter().all(|l| l.contains(resource)) {
            let total = rest
                .iter()
                .try_fold(amount, |acc, l| acc.checked_add(l.get(resource)));
            // A sum beyond 64 bits is as good as no limit.
            if let Some(total) = total {
                out.set(resource, total);
            }
        }
    }
    Ok(out)
}

/// Maps a policy/v1 PodDisruptionBudget.
///
/// - `namespace` (`"default"` when absent), `name` (required);
/// - `selector`: `spec.selector`; `None` when absent (a null selector matches no pod, an
///   empty one every pod of the namespace, as in policy/v1);
/// - `disruptions_allowed`: `status.disruptionsAllowed`, except that it is **0** when
///   - there is no status yet — the disruption controller has not computed the budget, and the
///     Eviction API refuses evictions until it has;
///   - `status.observedGeneration` is older than `metadata.generation` — the status is stale,
///     and the Eviction API answers 429 until it is current;
///   - the value is negative — the Eviction API refuses those too.
///
/// `minAvailable` / `maxUnavailable` are not read: the computed status is what the Eviction
/// API enforces.
///
/// # Examples
/// ```
/// use k8s_openapi::api::policy::v1::PodDisruptionBudget;
/// let pdb: PodDisruptionBudget = serde_json::from_value(serde_json::json!({
///     "metadata": {"namespace": "shop", "name": "web-pdb"},
///     "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}},
///     "status": {"disruptionsAllowed": 1, "currentHealthy": 4, "desiredHealthy": 3, "expectedPods": 4}
/// })).unwrap();
/// let spec = compactor_kube::mapping::pdb_spec(&pdb).unwrap();
/// assert_eq!(spec.disruptions_allowed, 1);
/// assert_eq!(spec.selector.unwrap().match_labels["app"], "web");
/// ```
///
/// # Errors
/// - [`KubeError::Field`] when `metadata.name` is missing, or naming
///   `spec.selector.matchExpressions[i].operator` for an operator other than In, NotIn,
///   Exists, DoesNotExist.
///
/// # Complexity
/// O(size of the selector).
pub fn pdb_spec(pdb: &PodDisruptionBudget) -> Result<PdbSpec, KubeError> {
    map_pdb(pdb, false)
}

/// [`pdb_spec`] with the policy/v1beta1 meaning of an empty selector (no pod) when `v1beta1`.
fn map_pdb(pdb: &PodDisruptionBudget, v1beta1: bool) -> Result<PdbSpec, KubeError> {
    let meta = &pdb.metadata;
    let namespace = namespace_of(meta);
    let name = meta
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| KubeError::Field {
            object: format!("poddisruptionbudget in namespace {namespace}"),
            field: "metadata.name".to_owned(),
            message: "missing or empty".to_owned(),
        })?;
    let object = format!("poddisruptionbudget {namespace}/{name}");
    let selector = match pdb.spec.as_ref().and_then(|s| s.selector.as_ref()) {
        Some(s) => Some(label_selector(&object, "spec.selector", s)?),
        None => None,
    };
    // policy/v1beta1: an empty selector selects nothing.
    let selector = selector.filter(|s| !(v1beta1 && *s == LabelSelector::default()));
    let disruptions_allowed = match &pdb.status {
        None => 0,
        Some(status) => {
            let stale = matches!(
                (status.observed_generation, meta.generation),
                (Some(observed), Some(generation)) if observed < generation
            );
            if stale {
                0
            } else {
                u32::try_from(status.disruptions_allowed).unwrap_or(0)
            }
        }
    };
    Ok(PdbSpec {
        namespace,
        name,
        selector,
        disruptions_allowed,
    })
}

/// Where the volume a PersistentVolume provides can be used: the terms a node must match
/// (ORed, each term's requirements ANDed), or an empty list when it can be used anywhere.
///
/// - the terms are `spec.nodeAffinity.required.nodeSelectorTerms`;
/// - the PV's topology labels are folded in as kube-scheduler's VolumeZone filter reads
///   them: for each of `topology.kubernetes.io/zone`, `topology.kubernetes.io/region` and
///   their deprecated `failure-domain.beta.kubernetes.io/…` forms that the PV carries, the
///   requirement `<label> In [values]` is added to every term (to a new single term when
///   there are none). The values are the label's value split on `__` (a volume replicated
///   across zones is labelled `zone-a__zone-b`), trimmed and sorted; a value with an empty
///   part is ignored, as the scheduler ignores it. The requirement always uses the GA key
///   (`topology.kubernetes.io/…`): the scheduler falls back to it on nodes without the
///   deprecated label, and nodes carry it wherever a zone is known (the kubelet or the cloud
///   controller manager sets it). A term that already holds the
///   same requirement does not get it twice, and a term with no requirement at all (which
///   matches no node) is left alone.
///
/// Two differences from the scheduler, both on the conservative side: VolumeZone lets a
/// node with no zone or region label at all through, and checks a deprecated PV label
/// against the node's deprecated label first; here such a node does not match the added
/// requirement, and only the GA label of the node counts.
///
/// # Examples
/// ```
/// use compactor_core::model::NodeSelectorOperator;
/// use k8s_openapi::api::core::v1::PersistentVolume;
/// let pv: PersistentVolume = serde_json::from_value(serde_json::json!({
///     "metadata": {"name": "pvc-0b1c", "labels": {"topology.kubernetes.io/zone": "eu-west-1a"}},
///     "spec": {"capacity": {"storage": "20Gi"}, "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1"},
///              "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
///                  {"key": "topology.ebs.csi.aws.com/zone", "operator": "In", "values": ["eu-west-1a"]}]}]}}}
/// })).unwrap();
/// let terms = compactor_kube::mapping::persistent_volume_node_affinity(&pv).unwrap();
/// assert_eq!(terms.len(), 1);
/// let keys: Vec<&str> = terms[0].match_expressions.iter().map(|r| r.key.as_str()).collect();
/// assert_eq!(keys, ["topology.ebs.csi.aws.com/zone", "topology.kubernetes.io/zone"]);
/// assert_eq!(terms[0].match_expressions[1].operator, NodeSelectorOperator::In);
/// ```
///
/// # Errors
/// - [`KubeError::Field`] when `metadata.name` is missing or empty;
/// - [`KubeError::Field`] naming
///   `spec.nodeAffinity.required.nodeSelectorTerms[i].matchExpressions[j].operator` (or
///   `matchFields`) for an unknown operator.
///
/// # Complexity
/// O(size of the node affinity + labels).
pub fn persistent_volume_node_affinity(
    pv: &PersistentVolume,
) -> Result<Vec<NodeSelectorTerm>, KubeError> {
    let name = pv
        .metadata
        .name
        .as_deref()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| KubeError::Field {
            object: "persistentvolume".to_owned(),
            field: "metadata.name".to_owned(),
            message: "missing or empty".to_owned(),
        })?;
    let mut terms = node_selector_terms(
        &format!("persistentvolume {name}"),
        "spec.nodeAffinity.required.nodeSelectorTerms",
        pv.spec
            .as_ref()
            .and_then(|s| s.node_affinity.as_ref())
            .and_then(|a| a.required.as_ref())
            .map(|r| r.node_selector_terms.as_slice())
            .unwrap_or_default(),
    )?;
    let topology = volume_topology_requirements(pv.metadata.labels.as_ref());
    if topology.is_empty() {
        return Ok(terms);
    }
    if terms.is_empty() {
        terms.push(NodeSelectorTerm {
            match_expressions: topology,
            match_fields: Vec::new(),
        });
        return Ok(terms);
    }
    for term in &mut terms {
        // An empty term matches no node; a requirement would make it match some.
        if term.match_expressions.is_empty() && term.match_fields.is_empty() {
            continue;
        }
        for req in &topology {
            if !term.match_expressions.contains(req) {
                term.match_expressions.push(req.clone());
            }
        }
    }
    Ok(terms)
}

/// `<GA label> In [values]` for every zone / region label of a PersistentVolume (see
/// [`persistent_volume_node_affinity`]); identical requirements appear once.
fn volume_topology_requirements(
    labels: Option<&BTreeMap<String, String>>,
) -> Vec<NodeSelectorRequirement> {
    let mut out: Vec<NodeSelectorRequirement> = Vec::new();
    let Some(labels) = labels else {
        return out;
    };
    for (ga, keys) in [
        (ZONE_LABEL, [ZONE_LABEL, LEGACY_ZONE_LABEL]),
        (REGION_LABEL, [REGION_LABEL, LEGACY_REGION_LABEL]),
    ] {
        for key in keys {
            let Some(values) = labels.get(key).and_then(|v| split_zones(v)) else {
                continue;
            };
            let req = NodeSelectorRequirement {
                key: ga.to_owned(),
                operator: NodeSelectorOperator::In,
                values,
            };
            if !out.contains(&req) {
                out.push(req);
            }
        }
    }
    out
}

/// The zones of a volume label value (`a__b` → `[a, b]`), sorted and deduplicated; `None`
/// when a part is empty (kube-scheduler ignores such a label).
fn split_zones(value: &str) -> Option<Vec<String>> {
    let mut zones = Vec::new();
    for part in value.split(ZONE_DELIMITER) {
        let zone = part.trim();
        if zone.is_empty() {
            return None;
        }
        zones.push(zone.to_owned());
    }
    zones.sort();
    zones.dedup();
    Some(zones)
}

/// Maps the JSON that `kubectl get nodes,pods,pdb,pvc,pv,namespaces,csinodes -A -o json`
/// prints: a `List` (kind `List` or a typed `NodeList`, `PodList`, …) whose items are Nodes,
/// Pods, PodDisruptionBudgets, Namespaces, PersistentVolumeClaims, PersistentVolumes and
/// CSINodes. The last four may be left out of the dump (`kubectl get nodes,pods,pdb -A -o
/// json`): the snapshot then lacks namespace labels, volumes and attach limits, and the
/// planner keeps the pods that depend on them where they are (`missing-input`).
///
/// - Nodes, Pods, PodDisruptionBudgets: [`node_spec`], [`pod_spec`], [`pdb_spec`].
///   PodDisruptionBudgets are read as policy/v1 and, with the v1beta1 meaning of an empty
///   selector, as policy/v1beta1;
/// - Namespaces: their labels go to [`SnapshotSpec::namespaces`] (for the
///   `namespaceSelector` of pod affinity terms);
/// - PersistentVolumeClaims and PersistentVolumes are not part of the snapshot: they give
///   each pod's `persistentVolumeClaim` volume its `node_affinity`, its CSI driver
///   (`spec.csi.driver` of the volume) and whether the claim's access modes include
///   `ReadWriteOncePod`. The claim is looked up in the pod's namespace, its
///   `spec.volumeName` names the PersistentVolume, and the volume's terms are
///   [`persistent_volume_node_affinity`]. A claim that is missing from the dump, not bound (no
///   `spec.volumeName`), or bound to a volume missing from the dump is marked `unresolved`
///   with the reason. The order of the items does not matter (volumes are resolved after
///   every item is read);
/// - CSINodes give their node's `attach_limits`: each driver's `allocatable.count` (a driver
///   without one has no limit); a node without a CSINode in the dump has `None`.
///
/// - ReplicaSets (apps/v1) and Jobs (batch/v1), when the dump has them (`kubectl get
///   …,replicasets,jobs`): a pod's workload is its ReplicaSet's Deployment or its Job's
///   CronJob as their owner references say, instead of the Deployment derived from the
///   `pod-template-hash` label (see [`SnapshotBuilder::add_owner`]).
///
/// Items of other kinds are skipped. Items of a typed list may omit `kind` and `apiVersion`
/// (as the API server's own list responses do); they take them from the list.
///
/// # Examples
/// ```
/// let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
///   "items": [
///     {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
///      "status": {"allocatable": {"cpu": "4", "memory": "16Gi"}, "conditions": [{"type": "Ready", "status": "True"}]}},
///     {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "web"}}},
///     {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "d", "name": "skipped"}}]});
/// let spec = compactor_kube::snapshot_from_kubectl_list(&list).unwrap();
/// assert_eq!(spec.nodes.len(), 1);
/// assert!(spec.pods.is_empty());
/// assert_eq!(spec.namespaces["shop"]["team"], "web");
/// ```
///
/// # Errors
/// - [`KubeError::Format`] when `value` is not an object whose kind ends in `List`;
/// - [`KubeError::Field`] when `items` is not an array;
/// - [`KubeError::Item`] naming `items[i] (Kind ns/name)` for an item that is not an object,
///   has no kind, or does not deserialize into its k8s-openapi type (with the field path and
///   serde's message), and for a second Namespace, PersistentVolumeClaim, PersistentVolume
///   or CSINode of the same name;
/// - [`KubeError::Field`] for a Namespace, PersistentVolumeClaim, PersistentVolume or CSINode
///   without `metadata.name`, and for a negative attach count;
/// - every error of [`node_spec`], [`pod_spec`], [`pdb_spec`] and
///   [`persistent_volume_node_affinity`].
///
/// # Complexity
/// O(size of the list).
pub fn snapshot_from_kubectl_list(value: &Value) -> Result<SnapshotSpec, KubeError> {
    let Some(list) = value.as_object() else {
        return Err(KubeError::Format {
            found: describe(value).to_owned(),
        });
    };
    let list_kind = list.get("kind").and_then(Value::as_str);
    let Some(list_kind) = list_kind.filter(|k| k.ends_with("List")) else {
        return Err(KubeError::Format {
            found: match list_kind {
                Some(kind) => format!("an object of kind {kind:?}"),
                None => "an object without a kind".to_owned(),
            },
        });
    };
    let items: &[Value] = match list.get("items") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(KubeError::Field {
                object: format!("kubectl {list_kind}"),
                field: "items".to_owned(),
                message: format!("expected an array, found {}", describe(other)),
            });
        }
    };
    // A typed list (NodeList, …) names the kind of its items.
    let item_kind = list_kind.strip_suffix("List").filter(|k| !k.is_empty());
    let list_api_version = list.get("apiVersion").and_then(Value::as_str);

    let mut builder = SnapshotBuilder::new();
    let duplicate = |index: usize, object: &str| KubeError::Item {
        index,
        object: object.to_owned(),
        message: "appears more than once in the list".to_owned(),
    };
    for (index, item) in items.iter().enumerate() {
        let Some(fields) = item.as_object() else {
            return Err(KubeError::Item {
                index,
                object: "?".to_owned(),
                message: format!("expected an object, found {}", describe(item)),
            });
        };
        let own_kind = fields.get("kind").and_then(Value::as_str);
        let kind = own_kind.or(item_kind);
        let api_version = match fields.get("apiVersion").and_then(Value::as_str) {
            Some(v) => Some(v),
            None if own_kind.is_none() => list_api_version,
            None => None,
        };
        let object = identity(kind.unwrap_or("object"), fields);
        let Some(kind) = kind else {
            return Err(KubeError::Item {
                index,
                object,
                message: "has no kind".to_owned(),
            });
        };
        let added = match kind {
            "Node" => builder.add_node(&deserialize_item(index, &object, item)?)?,
            "Pod" => builder.add_pod(&deserialize_item(index, &object, item)?)?,
            "PodDisruptionBudget" => match api_version {
                None | Some("policy/v1") => {
                    builder.add_pdb(&deserialize_item(index, &object, item)?)?
                }
                Some("policy/v1beta1") => {
                    // Same fields as v1; only the meaning of an empty selector differs.
                    let mut v1 = item.clone();
                    if let Some(fields) = v1.as_object_mut() {
                        fields.insert("apiVersion".to_owned(), Value::from("policy/v1"));
                    }
                    builder.add_pdb_v1beta1(&deserialize_item(index, &object, &v1)?)?
                }
                Some(other) => {
                    return Err(KubeError::Item {
                        index,
                        object,
                        message: format!(
                            "apiVersion: unsupported version {other:?} (expected policy/v1 or policy/v1beta1)"
                        ),
                    });
                }
            },
            "Namespace" => builder.add_namespace(&deserialize_item(index, &object, item)?)?,
            "PersistentVolumeClaim" => {
                builder.add_claim(&deserialize_item(index, &object, item)?)?
            }
            "PersistentVolume" => builder.add_volume(&deserialize_item(index, &object, item)?)?,
            "CSINode" => builder.add_csi_node(&deserialize_item(index, &object, item)?)?,
            "ReplicaSet" if api_version.is_none_or(|v| v == "apps/v1") => {
                let rs: ReplicaSet = deserialize_item(index, &object, item)?;
                builder.add_owner("ReplicaSet", &rs.metadata)?
            }
            "Job" if api_version.is_none_or(|v| v == "batch/v1") => {
                let job: Job = deserialize_item(index, &object, item)?;
                builder.add_owner("Job", &job.metadata)?
            }
            _ => true,
        };
        if !added {
            return Err(duplicate(index, &object));
        }
    }
    Ok(builder.finish())
}

/// Collects cluster objects one at a time into a [`SnapshotSpec`]: what
/// [`snapshot_from_kubectl_list`] does with a list's items, for callers that hold typed
/// objects (the live snapshot maps each page of a list as it arrives, so it never holds a
/// whole list of raw objects).
///
/// Claims, volumes, CSINodes and owners may arrive in any order: pods' volumes, nodes'
/// attach limits and pods' top controllers are resolved by [`SnapshotBuilder::finish`].
///
/// # Examples
/// ```
/// use k8s_openapi::api::core::v1::Node;
/// let node: Node = serde_json::from_value(serde_json::json!({
///     "metadata": {"name": "n1"},
///     "status": {"allocatable": {"cpu": "4", "memory": "16Gi"},
///                "conditions": [{"type": "Ready", "status": "True"}]}})).unwrap();
/// let mut builder = compactor_kube::SnapshotBuilder::new();
/// assert!(builder.add_node(&node).unwrap());
/// let spec = builder.finish();
/// assert_eq!(spec.nodes[0].name, "n1");
/// assert_eq!(spec.nodes[0].attach_limits, None); // no CSINode given
/// ```
///
/// # Errors
/// Each `add_*` method returns the errors of the mapping function of its kind
/// ([`node_spec`], [`pod_spec`], [`pdb_spec`], [`persistent_volume_node_affinity`]),
/// [`KubeError::Field`] for a Namespace, claim, volume, CSINode or owner without
/// `metadata.name` and for a negative attach count, and `Ok(false)` (nothing added) for a
/// second Namespace, claim, volume, CSINode or owner of the same name.
///
/// # Complexity
/// Each `add_*` is O(size of the object + log n); `finish` is O((pods + volumes) · log n).
#[derive(Debug, Default)]
pub struct SnapshotBuilder {
    spec: SnapshotSpec,
    /// Each pod's controller reference as written (kind, name), beside `spec.pods`.
    pod_controllers: Vec<Option<(String, String)>>,
    /// Claim namespace → claim name → the bound volume's name (if bound) and whether its
    /// access modes include ReadWriteOncePod.
    claims: BTreeMap<String, BTreeMap<String, (Option<String>, bool)>>,
    /// Volume name → where it can be used, and its CSI driver.
    volumes: BTreeMap<String, (Vec<NodeSelectorTerm>, Option<String>)>,
    /// Node name → its CSINode's attach limits per driver.
    csi_nodes: BTreeMap<String, BTreeMap<String, u64>>,
    /// (namespace, kind, name) of a ReplicaSet or Job → its own controller, if any.
    owners: BTreeMap<(String, String, String), Option<OwnerRef>>,
}

impl SnapshotBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a Node ([`node_spec`]). Always `Ok(true)` when it maps: two nodes of one name
    /// are reported by [`compactor_core::Snapshot::new`].
    ///
    /// # Errors
    /// Those of [`node_spec`].
    pub fn add_node(&mut self, node: &Node) -> Result<bool, KubeError> {
        self.spec.nodes.push(node_spec(node)?);
        Ok(true)
    }

    /// Adds a Pod ([`pod_spec`]); its top controller is resolved by [`Self::finish`] when
    /// its ReplicaSet or Job was added with [`Self::add_owner`].
    ///
    /// # Errors
    /// Those of [`pod_spec`].
    pub fn add_pod(&mut self, pod: &Pod) -> Result<bool, KubeError> {
        self.spec.pods.push(pod_spec(pod)?);
        let controller = pod
            .metadata
            .owner_references
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|r| r.controller == Some(true))
            .map(|r| (r.kind.clone(), r.name.clone()));
        self.pod_controllers.push(controller);
        Ok(true)
    }

    /// Adds a policy/v1 PodDisruptionBudget ([`pdb_spec`]).
    ///
    /// # Errors
    /// Those of [`pdb_spec`].
    pub fn add_pdb(&mut self, pdb: &PodDisruptionBudget) -> Result<bool, KubeError> {
        self.spec.pdbs.push(map_pdb(pdb, false)?);
        Ok(true)
    }

    /// Adds a policy/v1beta1 PodDisruptionBudget, read into the v1 type (the fields are
    /// the same): an empty selector selects no pod.
    ///
    /// # Errors
    /// Those of [`pdb_spec`].
    pub fn add_pdb_v1beta1(&mut self, pdb: &PodDisruptionBudget) -> Result<bool, KubeError> {
        self.spec.pdbs.push(map_pdb(pdb, true)?);
        Ok(true)
    }

    /// Adds a Namespace's labels (for `namespaceSelector`s). `Ok(false)` for a second one
    /// of the same name.
    ///
    /// # Errors
    /// [`KubeError::Field`] without `metadata.name`.
    pub fn add_namespace(&mut self, ns: &Namespace) -> Result<bool, KubeError> {
        let name = required_name(&ns.metadata, "namespace")?;
        let labels = ns.metadata.labels.clone().unwrap_or_default();
        Ok(self.spec.namespaces.insert(name, labels).is_none())
    }

    /// Adds a PersistentVolumeClaim: the volume it is bound to, and whether it is
    /// ReadWriteOncePod. `Ok(false)` for a second one of the same namespace and name.
    ///
    /// # Errors
    /// [`KubeError::Field`] without `metadata.name`.
    pub fn add_claim(&mut self, pvc: &PersistentVolumeClaim) -> Result<bool, KubeError> {
        let namespace = namespace_of(&pvc.metadata);
        let name = required_name(
            &pvc.metadata,
            &format!("persistentvolumeclaim in namespace {namespace}"),
        )?;
        let spec = pvc.spec.as_ref();
        let rwop = spec
            .and_then(|s| s.access_modes.as_deref())
            .unwrap_or_default()
            .iter()
            .any(|m| m == "ReadWriteOncePod");
        let volume = spec
            .and_then(|s| s.volume_name.clone())
            .filter(|v| !v.is_empty());
        Ok(self
            .claims
            .entry(namespace)
            .or_default()
            .insert(name, (volume, rwop))
            .is_none())
    }

    /// Adds a PersistentVolume: where it can be used
    /// ([`persistent_volume_node_affinity`]) and its CSI driver. `Ok(false)` for a second
    /// one of the same name.
    ///
    /// # Errors
    /// Those of [`persistent_volume_node_affinity`]; [`KubeError::Field`] without
    /// `metadata.name`.
    pub fn add_volume(&mut self, pv: &PersistentVolume) -> Result<bool, KubeError> {
        let terms = persistent_volume_node_affinity(pv)?;
        let name = required_name(&pv.metadata, "persistentvolume")?;
        let driver = pv
            .spec
            .as_ref()
            .and_then(|s| s.csi.as_ref())
            .map(|c| c.driver.clone());
        Ok(self.volumes.insert(name, (terms, driver)).is_none())
    }

    /// Adds a CSINode: its node's attach limit per driver (`allocatable.count`; a driver
    /// without one has no limit). `Ok(false)` for a second one of the same name.
    ///
    /// # Errors
    /// [`KubeError::Field`] without `metadata.name` or for a negative count.
    pub fn add_csi_node(&mut self, node: &CSINode) -> Result<bool, KubeError> {
        let name = required_name(&node.metadata, "csinode")?;
        let mut limits = BTreeMap::new();
        for (i, driver) in node.spec.drivers.iter().enumerate() {
            let Some(count) = driver.allocatable.as_ref().and_then(|a| a.count) else {
                continue; // no limit for this driver
            };
            let count = u64::try_from(count).map_err(|_| KubeError::Field {
                object: format!("csinode {name}"),
                field: format!("spec.drivers[{i}].allocatable.count"),
                message: format!("{count} is negative"),
            })?;
            limits.insert(driver.name.clone(), count);
        }
        Ok(self.csi_nodes.insert(name, limits).is_none())
    }

    /// Adds an intermediate owner (`kind` ReplicaSet or Job) by its metadata: a pod it
    /// controls gets that owner's own controller (Deployment, CronJob) as its workload, or
    /// the owner itself when it has none. Without it, a ReplicaSet's Deployment is derived
    /// from the `pod-template-hash` label and a Job stays the workload. `Ok(false)` for a
    /// second one of the same kind, namespace and name.
    ///
    /// # Errors
    /// [`KubeError::Field`] without `metadata.name`.
    pub fn add_owner(&mut self, kind: &str, meta: &ObjectMeta) -> Result<bool, KubeError> {
        let namespace = namespace_of(meta);
        let name = required_name(
            meta,
            &format!("{} in namespace {namespace}", kind.to_lowercase()),
        )?;
        let controller = meta
            .owner_references
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|r| r.controller == Some(true))
            .map(|r| OwnerRef {
                kind: r.kind.clone(),
                name: r.name.clone(),
            });
        Ok(self
            .owners
            .insert((namespace, kind.to_owned(), name), controller)
            .is_none())
    }

    /// Takes in everything `other` collected (the live snapshot fills one builder per list
    /// concurrently, then merges them). Objects of a name `self` already has are replaced.
    pub fn merge(&mut self, other: SnapshotBuilder) {
        self.spec.nodes.extend(other.spec.nodes);
        self.spec.pods.extend(other.spec.pods);
        self.spec.pdbs.extend(other.spec.pdbs);
        self.spec.namespaces.extend(other.spec.namespaces);
        self.pod_controllers.extend(other.pod_controllers);
        for (namespace, claims) in other.claims {
            self.claims.entry(namespace).or_default().extend(claims);
        }
        self.volumes.extend(other.volumes);
        self.csi_nodes.extend(other.csi_nodes);
        self.owners.extend(other.owners);
    }

    /// The snapshot: pods' claims resolved against the claims and volumes added (a claim
    /// that is missing, unbound or bound to a missing volume is marked `unresolved` with
    /// the reason), nodes' attach limits from their CSINodes (`None` without one), pods'
    /// owners resolved through the owners added.
    pub fn finish(mut self) -> SnapshotSpec {
        for node in &mut self.spec.nodes {
            node.attach_limits = self.csi_nodes.remove(&node.name);
        }
        for (pod, controller) in self.spec.pods.iter_mut().zip(&self.pod_controllers) {
            if let Some((kind, name)) = controller {
                let key = (pod.namespace.clone(), kind.clone(), name.clone());
                if let Some(owner) = self.owners.get(&key) {
                    pod.owner = Some(owner.clone().unwrap_or_else(|| OwnerRef {
                        kind: kind.clone(),
                        name: name.clone(),
                    }));
                }
            }
            let pod_claims = self.claims.get(&pod.namespace);
            for volume in &mut pod.volumes {
                if let VolumeSource::PersistentVolumeClaim {
                    claim_name,
                    node_affinity,
                    unresolved,
                    csi_driver,
                    read_write_once_pod,
                } = &mut volume.source
                {
                    let claim = format!("PersistentVolumeClaim {}/{claim_name}", pod.namespace);
                    let found = pod_claims.and_then(|c| c.get(claim_name.as_str()));
                    *read_write_once_pod = found.is_some_and(|(_, rwop)| *rwop);
                    match found {
                        None => *unresolved = Some(format!("{claim} is not in the input")),
                        Some((None, _)) => *unresolved = Some(format!("{claim} is not bound")),
                        Some((Some(volume_name), _)) => match self.volumes.get(volume_name) {
                            None => {
                                *unresolved = Some(format!(
                                    "{claim} is bound to PersistentVolume {volume_name}, which is not in the input"
                                ));
                            }
                            Some((terms, driver)) => {
                                node_affinity.clone_from(terms);
                                csi_driver.clone_from(driver);
                                *unresolved = None;
                            }
                        },
                    }
                }
            }
        }
        self.spec
    }
}

/// `metadata.name`, or an error naming `object` (`namespace`, `persistentvolume`, …).
fn required_name(meta: &ObjectMeta, object: &str) -> Result<String, KubeError> {
    meta.name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| KubeError::Field {
            object: object.to_owned(),
            field: "metadata.name".to_owned(),
            message: "missing or empty".to_owned(),
        })
}

/// Reads a snapshot from text in either accepted format:
///
/// 1. the kubectl list JSON (`kubectl get nodes,pods,pdb,pvc,pv,namespaces,csinodes -A -o json`,
///    `kubectl get nodes,pods,pdb -A -o json`, or the list of a single
///    resource type such as `kubectl get nodes -o json`), recognised by a `kind` ending in
///    `List`; see [`snapshot_from_kubectl_list`];
/// 2. the kube-compactor snapshot JSON ([`compactor_core::model::SnapshotSpec`]), recognised
///    by a `nodes` field and no `kind`.
///
/// # Examples
/// ```
/// let core = compactor_kube::read_snapshot(r#"{"nodes": [{"name": "n1", "allocatable": {"cpu": "4", "memory": "16Gi"}}]}"#).unwrap();
/// let kubectl = compactor_kube::read_snapshot(r#"{"apiVersion": "v1", "kind": "List", "items": [
///   {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
///    "status": {"allocatable": {"cpu": "4", "memory": "16Gi"}, "conditions": [{"type": "Ready", "status": "True"}]}}]}"#).unwrap();
/// assert_eq!(core, kubectl);
/// let err = compactor_kube::read_snapshot(r#"{"pods": []}"#).unwrap_err();
/// assert!(err.to_string().contains("expected either a kubectl list"));
/// ```
///
/// # Errors
/// - [`KubeError::Json`] when the text is not JSON;
/// - [`KubeError::Format`] when it is JSON in neither format (the message names both);
/// - [`KubeError::Snapshot`] naming the path (`pods[3].containers[0].requests: resource cpu:
///   …`) for an invalid kube-compactor snapshot;
/// - every error of [`snapshot_from_kubectl_list`] for a kubectl list.
///
/// # Complexity
/// O(len) time. The format is detected by a first pass that skips values without building
/// them; only the kubectl format builds a `serde_json::Value` of the whole document.
pub fn read_snapshot(text: &str) -> Result<SnapshotSpec, KubeError> {
    /// The fields that tell the formats apart; everything else is skipped.
    #[derive(Deserialize)]
    struct Probe {
        kind: Option<Value>,
        nodes: Option<IgnoredAny>,
    }
    let json_error = |e: serde_json::Error| KubeError::Json {
        message: e.to_string(),
    };
    if !text.trim_start().starts_with('{') {
        // Not an object (a derived struct would also accept an array): say which.
        serde_json::from_str::<IgnoredAny>(text).map_err(json_error)?;
        return Err(KubeError::Format {
            found: "a JSON value that is not an object".to_owned(),
        });
    }
    let probe: Probe = serde_json::from_str(text).map_err(json_error)?;
    match (&probe.kind, &probe.nodes) {
        (Some(Value::String(kind)), _) if kind.ends_with("List") => {
            let value: Value = serde_json::from_str(text).map_err(json_error)?;
            snapshot_from_kubectl_list(&value)
        }
        (None, Some(_)) => {
            let mut de = serde_json::Deserializer::from_str(text);
            let spec: SnapshotSpec =
                serde_path_to_error::deserialize(&mut de).map_err(|e| KubeError::Snapshot {
                    path: e.path().to_string(),
                    message: e.into_inner().to_string(),
                })?;
            de.end().map_err(json_error)?;
            Ok(spec)
        }
        (Some(Value::String(kind)), _) => Err(KubeError::Format {
            found: format!("an object of kind {kind:?}"),
        }),
        (Some(other), _) => Err(KubeError::Format {
            found: format!("an object whose kind is {}", describe(other)),
        }),
        (None, None) => Err(KubeError::Format {
            found: "an object with neither \"kind\" nor \"nodes\"".to_owned(),
        }),
    }
}

pub(crate) fn namespace_of(meta: &ObjectMeta) -> String {
    meta.namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned())
}

fn parse_phase(raw: &str) -> Option<PodPhase> {
    Some(match raw {
        "Pending" => PodPhase::Pending,
        "Running" => PodPhase::Running,
        "Succeeded" => PodPhase::Succeeded,
        "Failed" => PodPhase::Failed,
        "Unknown" => PodPhase::Unknown,
        _ => return None,
    })
}

fn parse_quantity(
    object: &str,
    field: String,
    resource: &str,
    value: &Quantity,
) -> Result<u64, KubeError> {
    quantity::parse(&value.0, unit_of(resource)).map_err(|error| KubeError::Quantity {
        object: object.to_owned(),
        field,
        value: value.0.clone(),
        error,
    })
}

/// Parses every entry of a resource map; errors name `<prefix>.<resource>`.
fn parse_list(
    object: &str,
    prefix: &str,
    list: &BTreeMap<String, Quantity>,
) -> Result<ResourceList, KubeError> {
    let mut out = ResourceList::new();
    for (resource, value) in list {
        let amount = parse_quantity(object, format!("{prefix}.{resource}"), resource, value)?;
        out.set(resource, amount);
    }
    Ok(out)
}

/// Requests of one container, a resource with only a limit taking the limit.
fn container_requests(
    object: &str,
    path: &str,
    container: &Container,
) -> Result<ResourceList, KubeError> {
    let resources = container.resources.as_ref();
    let requests = resources.and_then(|r| r.requests.as_ref());
    let mut out = match requests {
        Some(list) => parse_list(object, &format!("{path}.resources.requests"), list)?,
        None => ResourceList::new(),
    };
    if let Some(limits) = resources.and_then(|r| r.limits.as_ref()) {
        for (resource, value) in limits {
            if !out.contains(resource) {
                let field = format!("{path}.resources.limits.{resource}");
                out.set(resource, parse_quantity(object, field, resource, value)?);
            }
        }
    }
    Ok(out)
}

pub(crate) fn controller_owner(
    refs: &[OwnerReference],
    labels: &BTreeMap<String, String>,
) -> Option<OwnerRef> {
    let owner = refs.iter().find(|r| r.controller == Some(true))?;
    if owner.kind == "ReplicaSet" {
        let deployment = labels
            .get(POD_TEMPLATE_HASH_LABEL)
            .filter(|hash| !hash.is_empty())
            .and_then(|hash| owner.name.strip_suffix(hash.as_str()))
            .and_then(|rest| rest.strip_suffix('-'))
            .filter(|name| !name.is_empty());
        if let Some(deployment) = deployment {
            return Some(OwnerRef {
                kind: "Deployment".to_owned(),
                name: deployment.to_owned(),
            });
        }
    }
    Some(OwnerRef {
        kind: owner.kind.clone(),
        name: owner.name.clone(),
    })
}

fn volume_spec(volume: &Volume) -> VolumeSpec {
    let source = if let Some(pvc) = &volume.persistent_volume_claim {
        VolumeSource::PersistentVolumeClaim {
            claim_name: pvc.claim_name.clone(),
            node_affinity: Vec::new(),
            // Resolved against the list's claims and volumes, when there is a list.
            unresolved: Some(format!(
                "PersistentVolumeClaim {} is not in the input",
                pvc.claim_name
            )),
            csi_driver: None,
            read_write_once_pod: false,
        }
    } else if let Some(dir) = &volume.empty_dir {
        VolumeSource::EmptyDir {
            memory: dir.medium.as_deref() == Some("Memory"),
        }
    } else if let Some(host) = &volume.host_path {
        VolumeSource::HostPath {
            path: host.path.clone(),
        }
    } else {
        VolumeSource::Other
    };
    VolumeSpec {
        name: volume.name.clone(),
        source,
    }
}

fn label_selector(
    object: &str,
    field: &str,
    selector: &KubeLabelSelector,
) -> Result<LabelSelector, KubeError> {
    let mut match_expressions = Vec::new();
    for (i, req) in selector
        .match_expressions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let operator = match req.operator.as_str() {
            "In" => SelectorOperator::In,
            "NotIn" => SelectorOperator::NotIn,
            "Exists" => SelectorOperator::Exists,
            "DoesNotExist" => SelectorOperator::DoesNotExist,
            other => {
                return Err(KubeError::Field {
                    object: object.to_owned(),
                    field: format!("{field}.matchExpressions[{i}].operator"),
                    message: format!(
                        "unknown operator {other:?} (expected In, NotIn, Exists or DoesNotExist)"
                    ),
                });
            }
        };
        match_expressions.push(SelectorRequirement {
            key: req.key.clone(),
            operator,
            values: req.values.clone().unwrap_or_default(),
        });
    }
    Ok(LabelSelector {
        match_labels: selector.match_labels.clone().unwrap_or_default(),
        match_expressions,
    })
}

/// Deserializes one list item into its k8s-openapi type; errors carry the path inside it.
fn deserialize_item<'a, T: Deserialize<'a>>(
    index: usize,
    object: &str,
    item: &'a Value,
) -> Result<T, KubeError> {
    serde_path_to_error::deserialize(item).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        KubeError::Item {
            index,
            object: object.to_owned(),
            message: if path == "." {
                inner.to_string()
            } else {
                format!("{path}: {inner}")
            },
        }
    })
}

/// `Kind ns/name`, or `Kind name` without a namespace, as far as the raw item tells.
fn identity(kind: &str, fields: &serde_json::Map<String, Value>) -> String {
    let meta = fields.get("metadata");
    let text = |key: &str| {
        meta.and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let name = text("name").unwrap_or("<unnamed>");
    match text("namespace") {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use compactor_core::quantity::QuantityError;
    use serde_json::json;

    fn node(value: Value) -> Node {
        serde_json::from_value(value).unwrap()
    }

    fn pod(value: Value) -> Pod {
        serde_json::from_value(value).unwrap()
    }

    fn pdb(value: Value) -> PodDisruptionBudget {
        serde_json::from_value(value).unwrap()
    }

    fn pv(value: Value) -> PersistentVolume {
        serde_json::from_value(value).unwrap()
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    fn node_req(
        key: &str,
        operator: NodeSelectorOperator,
        values: &[&str],
    ) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator,
            values: strings(values),
        }
    }

    fn app_selector(app: &str) -> LabelSelector {
        LabelSelector {
            match_labels: [("app".to_owned(), app.to_owned())].into(),
            match_expressions: Vec::new(),
        }
    }

    /// The error of mapping a pod `d/p` with `spec`.
    fn pod_error(spec: Value) -> KubeError {
        pod_spec(&pod(
            json!({"metadata": {"namespace": "d", "name": "p"}, "spec": spec}),
        ))
        .unwrap_err()
    }

    /// The field path of a [`KubeError::Field`] about pod `d/p`.
    fn pod_error_field(spec: Value) -> String {
        match pod_error(spec) {
            KubeError::Field { object, field, .. } => {
                assert_eq!(object, "pod d/p");
                field
            }
            other => panic!("{other:?}"),
        }
    }

    fn ready_node(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
               "status": {"allocatable": {"cpu": "4", "memory": "16Gi"},
                          "conditions": [{"type": "Ready", "status": "True"}]}})
    }

    fn owned_pod(owner_kind: &str, owner_name: &str, hash: Option<&str>) -> Value {
        let mut labels = serde_json::Map::new();
        labels.insert("app".into(), json!("web"));
        if let Some(h) = hash {
            labels.insert(POD_TEMPLATE_HASH_LABEL.into(), json!(h));
        }
        json!({"metadata": {"namespace": "shop", "name": "p", "labels": labels,
                            "ownerReferences": [
                                {"apiVersion": "v1", "kind": "ConfigMap", "name": "not-a-controller", "uid": "0"},
                                {"apiVersion": "apps/v1", "kind": owner_kind, "name": owner_name,
                                 "uid": "1", "controller": true}]},
               "spec": {"containers": [{"name": "app"}]}})
    }

    fn owner(kind: &str, name: &str) -> Option<OwnerRef> {
        Some(OwnerRef {
            kind: kind.into(),
            name: name.into(),
        })
    }

    #[test]
    fn node_fields() {
        let spec = node_spec(&node(json!({
            "metadata": {"name": "n1", "labels": {"topology.kubernetes.io/zone": "a"},
                         "annotations": {"optimizer.io/hourly-cost": "0.19"}},
            "spec": {"unschedulable": true},
            "status": {"allocatable": {"cpu": "3920m", "memory": "15551676Ki", "pods": "110",
                                       "ephemeral-storage": "95491281146", "hugepages-2Mi": "0"},
                       "conditions": [{"type": "MemoryPressure", "status": "False"},
                                      {"type": "Ready", "status": "True"}]}
        })))
        .unwrap();
        assert_eq!(spec.name, "n1");
        assert_eq!(spec.allocatable.get("cpu"), 3920);
        assert_eq!(spec.allocatable.get("memory"), 15_924_916_224);
        assert_eq!(spec.allocatable.get("pods"), 110);
        assert_eq!(spec.allocatable.get("ephemeral-storage"), 95_491_281_146);
        assert!(spec.allocatable.contains("hugepages-2Mi"));
        assert_eq!(spec.labels["topology.kubernetes.io/zone"], "a");
        assert_eq!(spec.annotations["optimizer.io/hourly-cost"], "0.19");
        assert!(spec.unschedulable);
        assert!(spec.ready);
    }

    #[test]
    fn pod_level_requests() {
        let spec = pod_spec(&pod(json!({
            "metadata": {"namespace": "shop", "name": "p"},
            "spec": {"resources": {"requests": {"cpu": "1500m", "memory": "2Gi"}},
                     "containers": [{"name": "app", "resources": {"requests": {"cpu": "100m"}}}]}
        })))
        .unwrap();
        assert_eq!(spec.pod_requests.get("cpu"), 1500);
        assert_eq!(spec.pod_requests.get("memory"), 2 << 30);
        let err = pod_spec(&pod(json!({
            "metadata": {"namespace": "shop", "name": "p"},
            "spec": {"resources": {"requests": {"cpu": "lots"}}, "containers": []}
        })))
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("pod shop/p: spec.resources.requests.cpu: invalid quantity"),
            "{err}"
        );
    }

    #[test]
    fn node_readiness() {
        let with = |conditions: Value| {
            node_spec(&node(
                json!({"metadata": {"name": "n"}, "status": {"conditions": conditions}}),
            ))
            .unwrap()
        };
        assert!(!with(json!([{"type": "Ready", "status": "False"}])).ready);
        assert!(!with(json!([{"type": "Ready", "status": "Unknown"}])).ready);
        assert!(!with(json!([{"type": "DiskPressure", "status": "True"}])).ready);
        let bare = node_spec(&node(json!({"metadata": {"name": "n"}}))).unwrap();
        assert!(!bare.ready && !bare.unschedulable && bare.allocatable.is_empty());
    }

    #[test]
    fn node_errors() {
        let err = node_spec(&node(json!({"metadata": {"name": "n1"},
            "status": {"allocatable": {"cpu": "3.9.2", "memory": "1Gi"}}})))
        .unwrap_err();
        assert!(matches!(
            &err,
            KubeError::Quantity {
                error: QuantityError::BadSuffix { .. },
                ..
            }
        ));
        assert!(
            err.to_string().starts_with(
                "node n1: status.allocatable.cpu: invalid quantity \"3.9.2\": unknown suffix"
            ),
            "{err}"
        );
        let err = node_spec(&node(json!({"metadata": {}}))).unwrap_err();
        assert_eq!(err.to_string(), "node: metadata.name: missing or empty");
    }

    #[test]
    fn node_taints() {
        let spec = node_spec(&node(json!({"metadata": {"name": "cp"},
            "spec": {"taints": [
                {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
                {"key": "dedicated", "value": "gpu", "effect": "NoExecute",
                 "timeAdded": "2026-01-01T00:00:00Z"},
                {"key": "spot", "value": "", "effect": "PreferNoSchedule"}]}})))
        .unwrap();
        assert_eq!(
            spec.taints,
            vec![
                Taint {
                    key: "node-role.kubernetes.io/control-plane".into(),
                    value: None,
                    effect: TaintEffect::NoSchedule
                },
                Taint {
                    key: "dedicated".into(),
                    value: Some("gpu".into()),
                    effect: TaintEffect::NoExecute
                },
                Taint {
                    key: "spot".into(),
                    value: None,
                    effect: TaintEffect::PreferNoSchedule
                },
            ]
        );
        assert_eq!(spec.taints[1].to_string(), "dedicated=gpu:NoExecute");
        let err = node_spec(&node(json!({"metadata": {"name": "n"},
            "spec": {"taints": [{"key": "k", "effect": "Sometimes"}]}})))
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("node n: spec.taints[0].effect: unknown effect"),
            "{err}"
        );
        let plain = node_spec(&node(json!({"metadata": {"name": "n"}}))).unwrap();
        assert!(plain.taints.is_empty());
    }

    #[test]
    fn deletion_timestamp_marks_a_terminating_pod() {
        let of = |meta: Value| {
            pod_spec(&pod(json!({"metadata": meta, "spec": {"containers": []}})))
                .unwrap()
                .terminating
        };
        assert!(of(json!({"namespace": "a", "name": "x",
            "deletionTimestamp": "2026-12-04T10:00:00Z"})));
        assert!(!of(json!({"namespace": "a", "name": "x"})));
    }

    #[test]
    fn pod_scheduling_constraints() {
        let spec = pod_spec(&pod(json!({"metadata": {"namespace": "ml", "name": "x"},
            "spec": {
                "nodeSelector": {"disktype": "ssd"},
                "tolerations": [
                    {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"},
                    {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                     "effect": "NoExecute", "tolerationSeconds": 300},
                    {"operator": "Exists"},
                    {"key": "k", "value": "v"}],
                "affinity": {"nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                        {"matchExpressions": [
                            {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["a", "b"]},
                            {"key": "cores", "operator": "Gt", "values": ["8"]}]},
                        {"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["n9"]}]}]},
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 1, "preference": {"matchExpressions": [
                            {"key": "x", "operator": "Exists"}]}}]}},
                "containers": [
                    {"name": "app", "ports": [
                        {"containerPort": 8080, "hostPort": 80},
                        {"containerPort": 9090},
                        {"containerPort": 53, "hostPort": 53, "protocol": "UDP", "hostIP": "10.0.0.1"}]}],
                "initContainers": [
                    {"name": "once", "ports": [{"containerPort": 1, "hostPort": 1}]},
                    {"name": "proxy", "restartPolicy": "Always",
                     "ports": [{"containerPort": 15001, "hostPort": 15001, "protocol": "SCTP"}]}]}})))
        .unwrap();
        assert_eq!(spec.node_selector["disktype"], "ssd");
        assert_eq!(
            spec.tolerations,
            vec![
                Toleration {
                    key: Some("dedicated".into()),
                    operator: TolerationOperator::Equal,
                    value: Some("gpu".into()),
                    effect: Some(TaintEffect::NoSchedule),
                    toleration_seconds: None,
                },
                Toleration {
                    key: Some("node.kubernetes.io/not-ready".into()),
                    operator: TolerationOperator::Exists,
                    value: None,
                    effect: Some(TaintEffect::NoExecute),
                    toleration_seconds: Some(300),
                },
                Toleration {
                    operator: TolerationOperator::Exists,
                    ..Default::default()
                },
                Toleration {
                    key: Some("k".into()),
                    operator: TolerationOperator::Equal,
                    value: Some("v".into()),
                    effect: None,
                    toleration_seconds: None,
                },
            ]
        );
        let req = |key: &str, operator, values: &[&str]| NodeSelectorRequirement {
            key: key.into(),
            operator,
            values: values.iter().map(|v| (*v).into()).collect(),
        };
        assert_eq!(
            spec.required_node_affinity,
            vec![
                NodeSelectorTerm {
                    match_expressions: vec![
                        req(
                            "topology.kubernetes.io/zone",
                            NodeSelectorOperator::In,
                            &["a", "b"]
                        ),
                        req("cores", NodeSelectorOperator::Gt, &["8"]),
                    ],
                    match_fields: vec![],
                },
                NodeSelectorTerm {
                    match_expressions: vec![],
                    match_fields: vec![req("metadata.name", NodeSelectorOperator::NotIn, &["n9"])],
                },
            ]
        );
        let hp = |port, protocol, ip: &str| HostPort {
            port,
            protocol,
            host_ip: ip.into(),
        };
        assert_eq!(
            spec.host_ports,
            vec![
                hp(80, Protocol::Tcp, "0.0.0.0"),
                hp(53, Protocol::Udp, "10.0.0.1"),
                hp(15001, Protocol::Sctp, "0.0.0.0"),
            ]
        );
        let plain = pod_spec(&pod(json!({"metadata": {"name": "p"}}))).unwrap();
        assert!(plain.tolerations.is_empty() && plain.node_selector.is_empty());
        assert!(plain.required_node_affinity.is_empty() && plain.host_ports.is_empty());
    }

    #[test]
    fn pod_scheduling_constraint_errors() {
        let err = |spec: Value| {
            pod_spec(&pod(
                json!({"metadata": {"namespace": "d", "name": "p"}, "spec": spec}),
            ))
            .unwrap_err()
            .to_string()
        };
        assert_eq!(
            err(json!({"containers": [], "tolerations": [{"key": "k", "operator": "Like"}]})),
            "pod d/p: spec.tolerations[0].operator: unknown operator \"Like\" (expected Equal or Exists)"
        );
        assert!(
            err(json!({"containers": [], "tolerations": [{"key": "k", "effect": "Never"}]}))
                .starts_with("pod d/p: spec.tolerations[0].effect: unknown effect")
        );
        assert!(
            err(json!({"containers": [], "affinity": {"nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "k", "operator": "Near"}]}]}}}}))
            .starts_with("pod d/p: spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator: unknown operator")
        );
        assert_eq!(
            err(
                json!({"containers": [{"name": "a", "ports": [{"containerPort": 1, "hostPort": 70000}]}]})
            ),
            "pod d/p: spec.containers[0].ports[0].hostPort: 70000 is not a port number (1-65535)"
        );
        assert!(
            err(json!({"containers": [{"name": "a", "ports": [{"containerPort": 1, "hostPort": 1, "protocol": "ICMP"}]}]}))
                .starts_with("pod d/p: spec.containers[0].ports[0].protocol: unknown protocol")
        );
    }

    #[test]
    fn pod_defaults() {
        let spec = pod_spec(&pod(json!({"metadata": {"name": "p"}}))).unwrap();
        assert_eq!(spec.namespace, "default");
        assert_eq!(spec.phase, PodPhase::Pending);
        assert_eq!(spec.node_name, None);
        assert_eq!(spec.owner, None);
        assert_eq!(spec.priority, 0);
        assert_eq!(spec.priority_class_name, None);
        assert!(spec.containers.is_empty());
        assert!(!spec.readiness_probe, "no containers: no readiness probe");
        let empty_phase = pod_spec(&pod(
            json!({"metadata": {"name": "p"}, "status": {"phase": ""}}),
        ))
        .unwrap();
        assert_eq!(empty_phase.phase, PodPhase::Pending);
    }

    #[test]
    fn pod_fields() {
        let spec = pod_spec(&pod(json!({
            "metadata": {"namespace": "shop", "name": "api-0",
                         "labels": {"app": "api"},
                         "annotations": {"cluster-autoscaler.kubernetes.io/safe-to-evict": "true"}},
            "spec": {"nodeName": "n1", "priority": 1000, "priorityClassName": "high",
                     "overhead": {"cpu": "250m", "memory": "120Mi"},
                     "containers": [
                        {"name": "app", "readinessProbe": {"httpGet": {"path": "/", "port": 80}},
                         "resources": {"requests": {"cpu": "500m", "memory": "1Gi"},
                                       "limits": {"cpu": "2", "memory": "2Gi", "nvidia.com/gpu": "1"}}},
                        {"name": "proxy", "readinessProbe": {"tcpSocket": {"port": 15021}},
                         "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}}],
                     "initContainers": [
                        {"name": "migrate", "resources": {"requests": {"cpu": "1"}}},
                        {"name": "log-shipper", "restartPolicy": "Always",
                         "resources": {"requests": {"cpu": "50m"}, "limits": {"memory": "64Mi"}}}],
                     "volumes": [
                        {"name": "data", "persistentVolumeClaim": {"claimName": "data-api-0"}},
                        {"name": "cache", "emptyDir": {}},
                        {"name": "tmp", "emptyDir": {"medium": "Memory"}},
                        {"name": "logs", "hostPath": {"path": "/var/log", "type": "Directory"}},
                        {"name": "config", "configMap": {"name": "api"}}]},
            "status": {"phase": "Running"}
        })))
        .unwrap();
        assert_eq!(spec.key(), "shop/api-0");
        assert_eq!(spec.node_name.as_deref(), Some("n1"));
        assert_eq!(spec.phase, PodPhase::Running);
        assert_eq!(spec.priority, 1000);
        assert_eq!(spec.priority_class_name.as_deref(), Some("high"));
        assert_eq!(spec.labels["app"], "api");
        assert_eq!(
            spec.annotation("cluster-autoscaler.kubernetes.io/safe-to-evict"),
            Some("true")
        );
        // Requests win over limits; a limit without a request becomes the request.
        let app = &spec.containers[0].requests;
        assert_eq!(
            (app.get("cpu"), app.get("memory"), app.get("nvidia.com/gpu")),
            (500, 1 << 30, 1)
        );
        let proxy = &spec.containers[1].requests;
        assert_eq!((proxy.get("cpu"), proxy.get("memory")), (100, 64 << 20));
        assert_eq!(spec.init_containers[0].name, "migrate");
        assert!(!spec.init_containers[0].sidecar);
        assert_eq!(spec.init_containers[0].requests.get("cpu"), 1000);
        assert!(spec.init_containers[1].sidecar);
        assert_eq!(spec.init_containers[1].requests.get("memory"), 64 << 20);
        assert_eq!(spec.overhead.get("cpu"), 250);
        assert_eq!(spec.overhead.get("memory"), 120 << 20);
        let sources: Vec<&VolumeSource> = spec.volumes.iter().map(|v| &v.source).collect();
        assert_eq!(
            sources,
            [
                &VolumeSource::PersistentVolumeClaim {
                    claim_name: "data-api-0".into(),
                    node_affinity: Vec::new(),
                    unresolved: Some("PersistentVolumeClaim data-api-0 is not in the input".into()),
                    csi_driver: None,
                    read_write_once_pod: false,
                },
                &VolumeSource::EmptyDir { memory: false },
                &VolumeSource::EmptyDir { memory: true },
                &VolumeSource::HostPath {
                    path: "/var/log".into()
                },
                &VolumeSource::Other,
            ]
        );
        assert_eq!(spec.volumes[4].name, "config");
        assert!(spec.readiness_probe);
    }

    #[test]
    fn readiness_probe_needs_every_app_container() {
        let spec = pod_spec(&pod(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "a", "readinessProbe": {"exec": {"command": ["true"]}}},
            {"name": "b"}]}}),
        ))
        .unwrap();
        assert!(!spec.readiness_probe);
        // Init containers (sidecars included) do not count.
        let spec = pod_spec(&pod(json!({"metadata": {"name": "p"}, "spec": {
            "containers": [{"name": "a", "readinessProbe": {"exec": {"command": ["true"]}}}],
            "initContainers": [{"name": "s", "restartPolicy": "Always"}]}})))
        .unwrap();
        assert!(spec.readiness_probe);
    }

    #[test]
    fn phases() {
        for (raw, phase) in [
            ("Pending", PodPhase::Pending),
            ("Running", PodPhase::Running),
            ("Succeeded", PodPhase::Succeeded),
            ("Failed", PodPhase::Failed),
            ("Unknown", PodPhase::Unknown),
        ] {
            let spec = pod_spec(&pod(
                json!({"metadata": {"name": "p"}, "status": {"phase": raw}}),
            ))
            .unwrap();
            assert_eq!(spec.phase, phase);
        }
        let err = pod_spec(&pod(json!({"metadata": {"namespace": "shop", "name": "p"},
                                       "status": {"phase": "running"}})))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod shop/p: status.phase: unknown phase \"running\" (expected Pending, Running, Succeeded, Failed or Unknown)"
        );
    }

    #[test]
    fn owners() {
        let of = |v| pod_spec(&pod(v)).unwrap().owner;
        assert_eq!(
            of(owned_pod(
                "ReplicaSet",
                "web-7d4b9c8f6d",
                Some("7d4b9c8f6d")
            )),
            owner("Deployment", "web")
        );
        // Deployment names may contain dashes.
        assert_eq!(
            of(owned_pod("ReplicaSet", "shop-web-5c9f", Some("5c9f"))),
            owner("Deployment", "shop-web")
        );
        // A ReplicaSet not named after the hash, or without the label, stays a ReplicaSet.
        assert_eq!(
            of(owned_pod("ReplicaSet", "web-abc", Some("7d4b9c8f6d"))),
            owner("ReplicaSet", "web-abc")
        );
        assert_eq!(
            of(owned_pod("ReplicaSet", "web-7d4b9c8f6d", None)),
            owner("ReplicaSet", "web-7d4b9c8f6d")
        );
        assert_eq!(
            of(owned_pod("ReplicaSet", "7d4b9c8f6d", Some("7d4b9c8f6d"))),
            owner("ReplicaSet", "7d4b9c8f6d")
        );
        assert_eq!(
            of(owned_pod("ReplicaSet", "-7d4b9c8f6d", Some("7d4b9c8f6d"))),
            owner("ReplicaSet", "-7d4b9c8f6d")
        );
        assert_eq!(
            of(owned_pod("DaemonSet", "kube-proxy", None)),
            owner("DaemonSet", "kube-proxy")
        );
        assert_eq!(
            of(owned_pod("StatefulSet", "postgres", None)),
            owner("StatefulSet", "postgres")
        );
        assert_eq!(of(owned_pod("Node", "cp-1", None)), owner("Node", "cp-1"));
        // Only a controller reference counts.
        assert_eq!(
            of(json!({"metadata": {"name": "p", "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "x", "uid": "1"},
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "y", "uid": "2", "controller": false}]}})),
            None
        );
    }

    #[test]
    fn pod_quantity_errors_name_the_field() {
        let bad = |spec: Value| {
            pod_spec(&pod(
                json!({"metadata": {"namespace": "shop", "name": "web-1"}, "spec": spec}),
            ))
            .unwrap_err()
            .to_string()
        };
        let err = bad(json!({"containers": [
            {"name": "a", "resources": {"requests": {"memory": "1Gi"}}},
            {"name": "b", "resources": {"requests": {"memory": "12XB"}}}]}));
        assert!(
            err.starts_with(
                "pod shop/web-1: spec.containers[1].resources.requests.memory: invalid quantity \"12XB\": unknown suffix \"XB\""
            ),
            "{err}"
        );
        let err =
            bad(json!({"containers": [{"name": "a", "resources": {"limits": {"cpu": "-1"}}}]}));
        assert_eq!(
            err,
            "pod shop/web-1: spec.containers[0].resources.limits.cpu: invalid quantity \"-1\": negative quantity \"-1\""
        );
        let err = bad(json!({"containers": [], "initContainers": [
            {"name": "i", "resources": {"requests": {"cpu": ""}}}]}));
        assert_eq!(
            err,
            "pod shop/web-1: spec.initContainers[0].resources.requests.cpu: invalid quantity \"\": empty quantity"
        );
        let err = bad(json!({"containers": [], "overhead": {"memory": "1e30"}}));
        assert_eq!(
            err,
            "pod shop/web-1: spec.overhead.memory: invalid quantity \"1e30\": quantity \"1e30\" is out of range"
        );
        let err = pod_spec(&pod(json!({"metadata": {"namespace": "shop"}}))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod in namespace shop: metadata.name: missing or empty"
        );
    }

    #[test]
    fn pdb_fields() {
        let spec = pdb_spec(&pdb(json!({
            "metadata": {"namespace": "shop", "name": "web-pdb", "generation": 2},
            "spec": {"maxUnavailable": 1, "selector": {
                "matchLabels": {"app": "web"},
                "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["a", "b"]},
                    {"key": "x", "operator": "NotIn", "values": ["c"]},
                    {"key": "y", "operator": "Exists"},
                    {"key": "z", "operator": "DoesNotExist"}]}},
            "status": {"disruptionsAllowed": 2, "currentHealthy": 4, "desiredHealthy": 2,
                       "expectedPods": 4, "observedGeneration": 2}
        })))
        .unwrap();
        assert_eq!(spec.key(), "shop/web-pdb");
        assert_eq!(spec.disruptions_allowed, 2);
        let sel = spec.selector.unwrap();
        assert_eq!(sel.match_labels["app"], "web");
        let ops: Vec<SelectorOperator> = sel.match_expressions.iter().map(|r| r.operator).collect();
        assert_eq!(
            ops,
            [
                SelectorOperator::In,
                SelectorOperator::NotIn,
                SelectorOperator::Exists,
                SelectorOperator::DoesNotExist
            ]
        );
        assert_eq!(sel.match_expressions[0].values, ["a", "b"]);
        assert!(sel.match_expressions[2].values.is_empty());
    }

    #[test]
    fn pdb_budget_defaults_to_blocking() {
        let allowed = |extra: Value| {
            let mut v = json!({"metadata": {"name": "b", "generation": 3},
                               "spec": {"selector": {}}});
            if let (Some(obj), Some(add)) = (v.as_object_mut(), extra.as_object()) {
                obj.extend(add.clone());
            }
            pdb_spec(&pdb(v)).unwrap().disruptions_allowed
        };
        assert_eq!(allowed(json!({})), 0, "no status yet");
        assert_eq!(allowed(json!({"status": {"disruptionsAllowed": -2}})), 0);
        assert_eq!(
            allowed(json!({"status": {"disruptionsAllowed": 1, "observedGeneration": 2}})),
            0,
            "stale status"
        );
        assert_eq!(
            allowed(json!({"status": {"disruptionsAllowed": 1, "observedGeneration": 3}})),
            1
        );
        assert_eq!(allowed(json!({"status": {"disruptionsAllowed": 1}})), 1);
        let spec = pdb_spec(&pdb(json!({"metadata": {"name": "b"}}))).unwrap();
        assert_eq!(spec.namespace, "default");
        assert_eq!(spec.selector, None);
        // policy/v1: an empty selector is kept (it matches every pod of the namespace).
        let spec = pdb_spec(&pdb(
            json!({"metadata": {"name": "b"}, "spec": {"selector": {}}}),
        ))
        .unwrap();
        assert_eq!(spec.selector, Some(LabelSelector::default()));
    }

    #[test]
    fn pdb_unknown_operator() {
        let err = pdb_spec(&pdb(
            json!({"metadata": {"namespace": "shop", "name": "web-pdb"},
            "spec": {"selector": {"matchExpressions": [
                {"key": "a", "operator": "Exists"},
                {"key": "b", "operator": "Gt", "values": ["1"]}]}}}),
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "poddisruptionbudget shop/web-pdb: spec.selector.matchExpressions[1].operator: unknown operator \"Gt\" (expected In, NotIn, Exists or DoesNotExist)"
        );
    }

    #[test]
    fn pod_preferred_node_affinity() {
        let spec = pod_spec(&pod(json!({"metadata": {"name": "p"}, "spec": {"containers": [],
            "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 1, "preference": {"matchExpressions": [{"key": "x", "operator": "Exists"}]}},
                {"weight": 100, "preference": {
                    "matchExpressions": [{"key": "cores", "operator": "Lt", "values": ["64"]}],
                    "matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}}]}}}})))
        .unwrap();
        assert_eq!(
            spec.preferred_node_affinity,
            vec![
                PreferredSchedulingTerm {
                    weight: 1,
                    preference: NodeSelectorTerm {
                        match_expressions: vec![node_req("x", NodeSelectorOperator::Exists, &[])],
                        match_fields: vec![],
                    },
                },
                PreferredSchedulingTerm {
                    weight: 100,
                    preference: NodeSelectorTerm {
                        match_expressions: vec![node_req(
                            "cores",
                            NodeSelectorOperator::Lt,
                            &["64"]
                        )],
                        match_fields: vec![node_req(
                            "metadata.name",
                            NodeSelectorOperator::In,
                            &["n1"]
                        )],
                    },
                },
            ]
        );
        assert!(spec.required_node_affinity.is_empty());
    }

    #[test]
    fn pod_preferred_node_affinity_errors() {
        let preferred = |term: Value| {
            json!({"containers": [], "affinity": {"nodeAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 5, "preference": {}}, term]}}})
        };
        let base = "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[1]";
        for w in [0, -3, 101] {
            let e = pod_error(preferred(json!({"weight": w, "preference": {}})));
            assert_eq!(
                e.to_string(),
                format!("pod d/p: {base}.weight: weight {w} is outside 1-100")
            );
        }
        assert_eq!(
            pod_error_field(preferred(json!({"weight": 1, "preference": {
                "matchFields": [{"key": "metadata.name", "operator": "Equals", "values": ["n"]}]}}))),
            format!("{base}.preference.matchFields[0].operator")
        );
        assert_eq!(
            pod_error_field(preferred(
                json!({"weight": 1, "preference": {"matchExpressions": [
                {"key": "a", "operator": "In", "values": ["b"]},
                {"key": "a", "operator": "Near"}]}})
            )),
            format!("{base}.preference.matchExpressions[1].operator")
        );
        // A missing weight is 0 to k8s-openapi, and so out of range.
        assert_eq!(
            pod_error_field(preferred(json!({"preference": {}}))),
            format!("{base}.weight")
        );
    }

    #[test]
    fn pod_inter_pod_affinity() {
        let spec = pod_spec(&pod(json!({"metadata": {"namespace": "shop", "name": "p"},
            "spec": {"containers": [], "affinity": {
                "podAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {"labelSelector": {"matchLabels": {"app": "cache"}},
                         "topologyKey": "topology.kubernetes.io/zone"},
                        // No selector: matches no pod. matchLabelKeys is ignored.
                        {"topologyKey": "kubernetes.io/hostname", "matchLabelKeys": ["pod-template-hash"]}],
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 30, "podAffinityTerm": {
                            "labelSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["db"]}]},
                            "namespaces": ["data", "cache"],
                            "topologyKey": "kubernetes.io/hostname"}}]},
                "podAntiAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {"labelSelector": {"matchLabels": {"app": "web"}},
                         "namespaceSelector": {},
                         "mismatchLabelKeys": ["tenant"],
                         "topologyKey": "kubernetes.io/hostname"}],
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 100, "podAffinityTerm": {
                            "labelSelector": {},
                            "namespaceSelector": {"matchLabels": {"team": "web"}},
                            "topologyKey": "topology.kubernetes.io/zone"}}]}}}})))
        .unwrap();
        assert_eq!(
            spec.pod_affinity,
            vec![
                PodAffinityTerm {
                    label_selector: Some(app_selector("cache")),
                    namespaces: vec![],
                    namespace_selector: None,
                    topology_key: "topology.kubernetes.io/zone".into(),
                },
                PodAffinityTerm {
                    label_selector: None,
                    namespaces: vec![],
                    namespace_selector: None,
                    topology_key: "kubernetes.io/hostname".into(),
                },
            ]
        );
        assert_eq!(
            spec.preferred_pod_affinity,
            vec![WeightedPodAffinityTerm {
                weight: 30,
                pod_affinity_term: PodAffinityTerm {
                    label_selector: Some(LabelSelector {
                        match_labels: BTreeMap::new(),
                        match_expressions: vec![SelectorRequirement {
                            key: "tier".into(),
                            operator: SelectorOperator::In,
                            values: strings(&["db"]),
                        }],
                    }),
                    namespaces: strings(&["data", "cache"]),
                    namespace_selector: None,
                    topology_key: "kubernetes.io/hostname".into(),
                },
            }]
        );
        assert_eq!(
            spec.pod_anti_affinity,
            vec![PodAffinityTerm {
                label_selector: Some(app_selector("web")),
                namespaces: vec![],
                // `{}`: every namespace.
                namespace_selector: Some(LabelSelector::default()),
                topology_key: "kubernetes.io/hostname".into(),
            }]
        );
        assert_eq!(
            spec.preferred_pod_anti_affinity,
            vec![WeightedPodAffinityTerm {
                weight: 100,
                pod_affinity_term: PodAffinityTerm {
                    label_selector: Some(LabelSelector::default()),
                    namespaces: vec![],
                    namespace_selector: Some(LabelSelector {
                        match_labels: [("team".to_owned(), "web".to_owned())].into(),
                        match_expressions: vec![],
                    }),
                    topology_key: "topology.kubernetes.io/zone".into(),
                },
            }]
        );
        let plain = pod_spec(&pod(json!({"metadata": {"name": "p"},
            "spec": {"containers": [], "affinity": {"podAffinity": {}, "podAntiAffinity": {}}}})))
        .unwrap();
        assert!(plain.pod_affinity.is_empty() && plain.pod_anti_affinity.is_empty());
        assert!(plain.preferred_pod_affinity.is_empty());
        assert!(plain.preferred_pod_anti_affinity.is_empty());
    }

    #[test]
    fn pod_inter_pod_affinity_errors() {
        let affinity = |kind: &str, rule: &str, terms: Value| json!({"containers": [], "affinity": {kind: {rule: terms}}});
        let required = "requiredDuringSchedulingIgnoredDuringExecution";
        let preferred = "preferredDuringSchedulingIgnoredDuringExecution";
        let ok = json!({"topologyKey": "kubernetes.io/hostname"});
        assert_eq!(
            pod_error(affinity(
                "podAntiAffinity",
                required,
                json!([ok, {"topologyKey": ""}])
            ))
            .to_string(),
            "pod d/p: spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[1].topologyKey: missing or empty"
        );
        assert_eq!(
            pod_error_field(affinity("podAffinity", required, json!([{}]))),
            "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey"
        );
        assert_eq!(
            pod_error(affinity("podAffinity", required, json!([
                {"labelSelector": {"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
                 "topologyKey": "k"}])))
            .to_string(),
            "pod d/p: spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].operator: unknown operator \"Gt\" (expected In, NotIn, Exists or DoesNotExist)"
        );
        assert_eq!(
            pod_error_field(affinity(
                "podAntiAffinity",
                required,
                json!([
                {"namespaceSelector": {"matchExpressions": [
                    {"key": "a", "operator": "Exists"}, {"key": "b", "operator": "exists"}]},
                 "topologyKey": "k"}])
            )),
            "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].namespaceSelector.matchExpressions[1].operator"
        );
        for w in [0, 101, -1] {
            assert_eq!(
                pod_error(affinity(
                    "podAffinity",
                    preferred,
                    json!([
                    {"weight": w, "podAffinityTerm": ok}])
                ))
                .to_string(),
                format!(
                    "pod d/p: spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: weight {w} is outside 1-100"
                )
            );
        }
        assert_eq!(
            pod_error_field(affinity(
                "podAntiAffinity",
                preferred,
                json!([
                {"weight": 1, "podAffinityTerm": ok},
                {"weight": 1, "podAffinityTerm": {"topologyKey": ""}}])
            )),
            "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[1].podAffinityTerm.topologyKey"
        );
        assert_eq!(
            pod_error_field(affinity(
                "podAntiAffinity",
                preferred,
                json!([
                {"weight": 1, "podAffinityTerm": {"topologyKey": "k",
                    "labelSelector": {"matchExpressions": [{"key": "a", "operator": "Lt"}]}}}])
            )),
            "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector.matchExpressions[0].operator"
        );
    }

    #[test]
    fn pod_topology_spread_constraints() {
        let spec = pod_spec(&pod(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [],
            "topologySpreadConstraints": [
                {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                 "whenUnsatisfiable": "DoNotSchedule",
                 "labelSelector": {"matchLabels": {"app": "web"}},
                 "minDomains": 3, "matchLabelKeys": ["pod-template-hash"],
                 "nodeAffinityPolicy": "Ignore", "nodeTaintsPolicy": "Honor"},
                {"maxSkew": 2, "topologyKey": "kubernetes.io/hostname",
                 "whenUnsatisfiable": "ScheduleAnyway"},
                {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                 "nodeAffinityPolicy": "Honor", "nodeTaintsPolicy": "Ignore"}]}}),
        ))
        .unwrap();
        assert_eq!(
            spec.topology_spread_constraints,
            vec![
                TopologySpreadConstraint {
                    max_skew: 1,
                    topology_key: "topology.kubernetes.io/zone".into(),
                    when_unsatisfiable: WhenUnsatisfiable::DoNotSchedule,
                    label_selector: Some(app_selector("web")),
                    min_domains: Some(3),
                    match_label_keys: strings(&["pod-template-hash"]),
                    node_affinity_policy: NodeInclusionPolicy::Ignore,
                    node_taints_policy: NodeInclusionPolicy::Honor,
                },
                // Absent selector and policies: none, Honor, Ignore.
                TopologySpreadConstraint {
                    max_skew: 2,
                    topology_key: "kubernetes.io/hostname".into(),
                    when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
                    label_selector: None,
                    min_domains: None,
                    match_label_keys: vec![],
                    node_affinity_policy: NodeInclusionPolicy::Honor,
                    node_taints_policy: NodeInclusionPolicy::Ignore,
                },
                // whenUnsatisfiable absent: DoNotSchedule.
                TopologySpreadConstraint {
                    max_skew: 1,
                    topology_key: "kubernetes.io/hostname".into(),
                    when_unsatisfiable: WhenUnsatisfiable::DoNotSchedule,
                    label_selector: None,
                    min_domains: None,
                    match_label_keys: vec![],
                    node_affinity_policy: NodeInclusionPolicy::Honor,
                    node_taints_policy: NodeInclusionPolicy::Ignore,
                },
            ]
        );
    }

    #[test]
    fn pod_topology_spread_errors() {
        let with = |c: Value| {
            let mut constraint =
                json!({"maxSkew": 1, "topologyKey": "k", "whenUnsatisfiable": "DoNotSchedule"});
            if let (Some(obj), Some(add)) = (constraint.as_object_mut(), c.as_object()) {
                obj.extend(add.clone());
            }
            json!({"containers": [], "topologySpreadConstraints": [
                {"maxSkew": 1, "topologyKey": "k", "whenUnsatisfiable": "ScheduleAnyway"}, constraint]})
        };
        let base = "spec.topologySpreadConstraints[1]";
        for (change, field, message) in [
            (json!({"maxSkew": 0}), "maxSkew", "0 is not at least 1"),
            (json!({"maxSkew": -2}), "maxSkew", "-2 is not at least 1"),
            (
                json!({"minDomains": 0}),
                "minDomains",
                "0 is not at least 1",
            ),
            (
                json!({"minDomains": -1}),
                "minDomains",
                "-1 is not at least 1",
            ),
            (
                json!({"topologyKey": ""}),
                "topologyKey",
                "missing or empty",
            ),
            (
                json!({"whenUnsatisfiable": "Sometimes"}),
                "whenUnsatisfiable",
                "unknown value \"Sometimes\" (expected DoNotSchedule or ScheduleAnyway)",
            ),
            (
                json!({"nodeAffinityPolicy": "honor"}),
                "nodeAffinityPolicy",
                "unknown policy \"honor\" (expected Honor or Ignore)",
            ),
            (
                json!({"nodeTaintsPolicy": "Respect"}),
                "nodeTaintsPolicy",
                "unknown policy \"Respect\" (expected Honor or Ignore)",
            ),
            (
                json!({"labelSelector": {"matchExpressions": [{"key": "a", "operator": "Gt"}]}}),
                "labelSelector.matchExpressions[0].operator",
                "unknown operator \"Gt\" (expected In, NotIn, Exists or DoesNotExist)",
            ),
        ] {
            assert_eq!(
                pod_error(with(change)),
                KubeError::Field {
                    object: "pod d/p".into(),
                    field: format!("{base}.{field}"),
                    message: message.into(),
                }
            );
        }
    }

    #[test]
    fn persistent_volume_terms_and_zone_labels() {
        use NodeSelectorOperator::{Exists, In};
        let terms = |labels: Value, node_affinity: Value| {
            persistent_volume_node_affinity(&pv(json!({
                "metadata": {"name": "pv-1", "labels": labels},
                "spec": {"nodeAffinity": node_affinity}})))
            .unwrap()
        };
        let zone = |values: &[&str]| node_req(ZONE_LABEL, In, values);
        let region = |values: &[&str]| node_req(REGION_LABEL, In, values);
        let only = |reqs: Vec<NodeSelectorRequirement>| NodeSelectorTerm {
            match_expressions: reqs,
            match_fields: vec![],
        };
        // No labels, no affinity: usable anywhere.
        assert!(terms(json!({}), json!(null)).is_empty());
        assert!(
            terms(
                json!({"app": "x"}),
                json!({"required": {"nodeSelectorTerms": []}})
            )
            .is_empty()
        );
        // Labels only: one term with the zone and the region.
        assert_eq!(
            terms(
                json!({"topology.kubernetes.io/zone": "eu-west-1a", "topology.kubernetes.io/region": "eu-west-1"}),
                json!(null)
            ),
            vec![only(vec![zone(&["eu-west-1a"]), region(&["eu-west-1"])])]
        );
        // A replicated volume: `__` separates its zones (sorted, trimmed, deduplicated).
        assert_eq!(
            terms(
                json!({"topology.kubernetes.io/zone": "b__a__ c__a"}),
                json!(null)
            ),
            vec![only(vec![zone(&["a", "b", "c"])])]
        );
        // The deprecated labels become requirements on the GA keys; identical ones once.
        assert_eq!(
            terms(
                json!({"failure-domain.beta.kubernetes.io/zone": "a",
                       "failure-domain.beta.kubernetes.io/region": "r",
                       "topology.kubernetes.io/zone": "a"}),
                json!(null)
            ),
            vec![only(vec![zone(&["a"]), region(&["r"])])]
        );
        assert_eq!(
            terms(
                json!({"failure-domain.beta.kubernetes.io/zone": "a__b",
                       "topology.kubernetes.io/zone": "a"}),
                json!(null)
            ),
            vec![only(vec![zone(&["a"]), zone(&["a", "b"])])]
        );
        // A value with an empty part is ignored, as kube-scheduler ignores it.
        assert!(
            terms(
                json!({"topology.kubernetes.io/zone": "a____b"}),
                json!(null)
            )
            .is_empty()
        );
        assert!(terms(json!({"topology.kubernetes.io/zone": ""}), json!(null)).is_empty());
        assert!(terms(json!({"topology.kubernetes.io/zone": "a__"}), json!(null)).is_empty());
        // Terms are kept (ORed) and the zone is ANDed into each, once; an empty term stays
        // empty (it matches no node).
        let hostname = node_req("kubernetes.io/hostname", In, &["n1"]);
        let field = node_req("metadata.name", In, &["n2"]);
        assert_eq!(
            terms(
                json!({"topology.kubernetes.io/zone": "a"}),
                json!({"required": {"nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["n1"]}]},
                    {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["a"]}]},
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]},
                    {}]}})
            ),
            vec![
                only(vec![hostname.clone(), zone(&["a"])]),
                only(vec![zone(&["a"])]),
                NodeSelectorTerm {
                    match_expressions: vec![zone(&["a"])],
                    match_fields: vec![field],
                },
                NodeSelectorTerm::default(),
            ]
        );
        // Without topology labels the terms are as written (a local volume).
        assert_eq!(
            terms(
                json!({}),
                json!({"required": {"nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["n1"]},
                                          {"key": "ssd", "operator": "Exists"}]}]}})
            ),
            vec![only(vec![hostname, node_req("ssd", Exists, &[])])]
        );
    }

    #[test]
    fn persistent_volume_errors() {
        let err = persistent_volume_node_affinity(&pv(json!({"metadata": {"name": "pv-1"},
            "spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "a", "operator": "Exists"}]},
                {"matchFields": [{"key": "metadata.name", "operator": "Is", "values": ["n"]}]}]}}}})))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "persistentvolume pv-1: spec.nodeAffinity.required.nodeSelectorTerms[1].matchFields[0].operator: unknown operator \"Is\" (expected In, NotIn, Exists, DoesNotExist, Gt or Lt)"
        );
        let err = persistent_volume_node_affinity(&pv(json!({"metadata": {}}))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "persistentvolume: metadata.name: missing or empty"
        );
    }

    fn claim(namespace: &str, name: &str, volume: Option<&str>) -> Value {
        let mut spec = json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}});
        if let (Some(obj), Some(v)) = (spec.as_object_mut(), volume) {
            obj.insert("volumeName".into(), json!(v));
        }
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
               "metadata": {"namespace": namespace, "name": name}, "spec": spec,
               "status": {"phase": if volume.is_some() { "Bound" } else { "Pending" }}})
    }

    fn zonal_volume(name: &str, zone: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "PersistentVolume",
               "metadata": {"name": name, "labels": {"topology.kubernetes.io/zone": zone}},
               "spec": {"capacity": {"storage": "1Gi"}, "csi": {"driver": "d", "volumeHandle": name}}})
    }

    fn claim_pod(namespace: &str, name: &str, claims: &[&str]) -> Value {
        let volumes: Vec<Value> = claims
            .iter()
            .map(|c| json!({"name": c, "persistentVolumeClaim": {"claimName": c}}))
            .collect();
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": namespace, "name": name},
               "spec": {"nodeName": "n1", "containers": [{"name": "c"}], "volumes": volumes},
               "status": {"phase": "Running"}})
    }

    /// The node affinity of every PVC volume of every pod, by `pod/volume`.
    fn claim_affinities(spec: &SnapshotSpec) -> BTreeMap<String, Vec<NodeSelectorTerm>> {
        let mut out = BTreeMap::new();
        for p in &spec.pods {
            for v in &p.volumes {
                if let VolumeSource::PersistentVolumeClaim { node_affinity, .. } = &v.source {
                    out.insert(format!("{}/{}", p.key(), v.name), node_affinity.clone());
                }
            }
        }
        out
    }

    #[test]
    fn list_resolves_claims_to_volumes_in_any_order() {
        let items = vec![
            ready_node("n1"),
            claim_pod("db", "pg-0", &["data-pg-0", "unbound", "lost", "missing"]),
            claim_pod("other", "pg-0", &["data-pg-0"]),
            claim("db", "data-pg-0", Some("pv-a")),
            claim("db", "unbound", None),
            claim("db", "lost", Some("pv-gone")),
            zonal_volume("pv-a", "zone-a"),
            zonal_volume("pv-b", "zone-b"),
            // Same name in another namespace, bound to another volume.
            claim("other", "data-pg-0", Some("pv-b")),
        ];
        let zone = |z: &str| {
            vec![NodeSelectorTerm {
                match_expressions: vec![node_req(ZONE_LABEL, NodeSelectorOperator::In, &[z])],
                match_fields: vec![],
            }]
        };
        let expected: BTreeMap<String, Vec<NodeSelectorTerm>> = [
            ("db/pg-0/data-pg-0", zone("zone-a")),
            ("db/pg-0/unbound", vec![]),
            ("db/pg-0/lost", vec![]),
            ("db/pg-0/missing", vec![]),
            ("other/pg-0/data-pg-0", zone("zone-b")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        // Every rotation of the items gives the same result (volumes after pods, before, …).
        for shift in 0..items.len() {
            let mut rotated = items.clone();
            rotated.rotate_left(shift);
            let spec =
                snapshot_from_kubectl_list(&json!({"kind": "List", "items": rotated})).unwrap();
            assert_eq!(claim_affinities(&spec), expected, "rotation {shift}");
        }
    }

    #[test]
    fn list_reads_csi_drivers_access_modes_and_csinodes() {
        let spec = snapshot_from_kubectl_list(&json!({"kind": "List", "items": [
            ready_node("n1"),
            ready_node("n2"),
            ready_node("n3"),
            claim_pod("db", "pg-0", &["data-pg-0", "logs"]),
            {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": {"namespace": "db", "name": "data-pg-0"},
             "spec": {"volumeName": "pv-a", "accessModes": ["ReadWriteOncePod"]}},
            {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": {"namespace": "db", "name": "logs"},
             "spec": {"volumeName": "pv-nfs", "accessModes": ["ReadWriteMany"]}},
            {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-a"},
             "spec": {"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1"}}},
            {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-nfs"},
             "spec": {"nfs": {"server": "nfs", "path": "/logs"}}},
            {"apiVersion": "storage.k8s.io/v1", "kind": "CSINode", "metadata": {"name": "n1"},
             "spec": {"drivers": [
                 {"name": "ebs.csi.aws.com", "nodeID": "i-1", "allocatable": {"count": 25}},
                 {"name": "efs.csi.aws.com", "nodeID": "i-1"}]}},
            {"apiVersion": "storage.k8s.io/v1", "kind": "CSINode", "metadata": {"name": "n2"},
             "spec": {"drivers": []}}
        ]}))
        .unwrap();
        let limits: Vec<Option<BTreeMap<String, u64>>> =
            spec.nodes.iter().map(|n| n.attach_limits.clone()).collect();
        assert_eq!(
            limits,
            [
                Some([("ebs.csi.aws.com".to_owned(), 25)].into()),
                Some(BTreeMap::new()),
                None
            ]
        );
        let sources: Vec<(Option<String>, bool)> = spec.pods[0]
            .volumes
            .iter()
            .map(|v| match &v.source {
                VolumeSource::PersistentVolumeClaim {
                    csi_driver,
                    read_write_once_pod,
                    unresolved,
                    ..
                } => {
                    assert_eq!(unresolved, &None);
                    (csi_driver.clone(), *read_write_once_pod)
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            sources,
            [(Some("ebs.csi.aws.com".to_owned()), true), (None, false)]
        );
        let err = snapshot_from_kubectl_list(&json!({"kind": "List", "items": [
            {"apiVersion": "storage.k8s.io/v1", "kind": "CSINode", "metadata": {"name": "n1"},
             "spec": {"drivers": [{"name": "d", "nodeID": "i", "allocatable": {"count": -1}}]}}]}))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "csinode n1: spec.drivers[0].allocatable.count: -1 is negative"
        );
    }

    #[test]
    fn list_reads_namespace_labels() {
        let spec = snapshot_from_kubectl_list(&json!({"kind": "List", "items": [
            {"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": "shop", "labels": {"kubernetes.io/metadata.name": "shop", "team": "web"}},
             "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bare"}}]}))
        .unwrap();
        assert_eq!(spec.namespaces.len(), 2);
        assert_eq!(spec.namespaces["shop"]["team"], "web");
        assert_eq!(spec.namespaces["shop"].len(), 2);
        assert!(spec.namespaces["bare"].is_empty());
        // A typed NamespaceList without kinds on its items.
        let spec = snapshot_from_kubectl_list(&json!({"apiVersion": "v1", "kind": "NamespaceList",
            "items": [{"metadata": {"name": "a", "labels": {"x": "y"}}}]}))
        .unwrap();
        assert_eq!(spec.namespaces["a"]["x"], "y");
    }

    #[test]
    fn list_errors_of_namespaces_claims_and_volumes() {
        let err = |items: Value| {
            snapshot_from_kubectl_list(&json!({"kind": "List", "items": items}))
                .unwrap_err()
                .to_string()
        };
        let ns = |name: &str| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        assert_eq!(
            err(json!([ns("a"), ns("b"), ns("a")])),
            "items[2] (Namespace a): appears more than once in the list"
        );
        assert_eq!(
            err(json!([claim("d", "c", Some("v")), claim("d", "c", None)])),
            "items[1] (PersistentVolumeClaim d/c): appears more than once in the list"
        );
        assert_eq!(
            err(json!([zonal_volume("v", "a"), zonal_volume("v", "b")])),
            "items[1] (PersistentVolume v): appears more than once in the list"
        );
        assert_eq!(
            err(json!([{"apiVersion": "v1", "kind": "Namespace", "metadata": {}}])),
            "namespace: metadata.name: missing or empty"
        );
        assert_eq!(
            err(
                json!([{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"namespace": "d"}}])
            ),
            "persistentvolumeclaim in namespace d: metadata.name: missing or empty"
        );
        assert_eq!(
            err(
                json!([{"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "v"},
                "spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "a", "operator": "Near"}]}]}}}}])
            ),
            "persistentvolume v: spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].operator: unknown operator \"Near\" (expected In, NotIn, Exists, DoesNotExist, Gt or Lt)"
        );
        let e = err(json!([{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"namespace": "d", "name": "c"}, "spec": {"volumeName": 7}}]));
        assert!(
            e.starts_with("items[0] (PersistentVolumeClaim d/c): spec.volumeName: invalid type"),
            "{e}"
        );
    }

    #[test]
    fn list_maps_known_kinds_and_skips_others() {
        let list = json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [
            ready_node("n1"),
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": "d", "name": "p"},
             "spec": {"nodeName": "n1", "containers": [{"name": "c"}]}, "status": {"phase": "Running"}},
            {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"namespace": "d", "name": "b"},
             "spec": {"selector": {}}, "status": {"disruptionsAllowed": 1}},
            {"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget", "metadata": {"namespace": "d", "name": "old"},
             "spec": {"selector": {}}, "status": {"disruptionsAllowed": 1}},
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"namespace": "d", "name": "web"}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": "d", "name": "web"}, "spec": 42}]});
        let spec = snapshot_from_kubectl_list(&list).unwrap();
        assert_eq!(spec.nodes.len(), 1);
        assert_eq!(spec.pods.len(), 1);
        assert_eq!(spec.pods[0].node_name.as_deref(), Some("n1"));
        assert_eq!(spec.pdbs.len(), 2);
        assert_eq!(spec.pdbs[0].selector, Some(LabelSelector::default()));
        // policy/v1beta1: the empty selector matches nothing.
        assert_eq!(spec.pdbs[1].selector, None);
        assert_eq!(spec.pdbs[1].disruptions_allowed, 1);
    }

    #[test]
    fn typed_lists_lend_their_kind_to_items() {
        let list = json!({"apiVersion": "v1", "kind": "NodeList", "items": [
            {"metadata": {"name": "n1"}, "status": {"allocatable": {"cpu": "4", "memory": "1Gi"}}}]});
        let spec = snapshot_from_kubectl_list(&list).unwrap();
        assert_eq!(spec.nodes[0].name, "n1");
        let empty = snapshot_from_kubectl_list(&json!({"kind": "List", "items": null})).unwrap();
        assert_eq!(empty, SnapshotSpec::default());
        let empty = snapshot_from_kubectl_list(&json!({"kind": "PodList"})).unwrap();
        assert_eq!(empty, SnapshotSpec::default());
    }

    #[test]
    fn list_errors() {
        let err = |v: Value| snapshot_from_kubectl_list(&v).unwrap_err().to_string();
        assert!(err(json!([])).starts_with("unrecognised input (an array)"));
        assert!(
            err(json!({"kind": "Pod", "metadata": {"name": "p"}}))
                .starts_with("unrecognised input (an object of kind \"Pod\")")
        );
        assert!(
            err(json!({"items": []})).starts_with("unrecognised input (an object without a kind)")
        );
        assert_eq!(
            err(json!({"kind": "List", "items": {}})),
            "kubectl List: items: expected an array, found an object"
        );
        assert_eq!(
            err(json!({"kind": "List", "items": [ready_node("n1"), "n2"]})),
            "items[1] (?): expected an object, found a string"
        );
        assert_eq!(
            err(json!({"kind": "List", "items": [{"metadata": {"name": "x"}}]})),
            "items[0] (object x): has no kind"
        );
        // Not a valid object of its kind: serde's message with the path inside the item.
        let e = err(json!({"kind": "List", "items": [
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": "shop", "name": "web-1"},
             "spec": {"containers": [{"name": "a", "ports": "80"}]}}]}));
        assert!(
            e.starts_with(
                "items[0] (Pod shop/web-1): spec.containers[0].ports: invalid type: string \"80\""
            ),
            "{e}"
        );
        let e = err(json!({"kind": "List", "items": [
            {"apiVersion": "v2", "kind": "Node", "metadata": {"name": "n1"}}]}));
        assert!(
            e.starts_with("items[0] (Node n1): invalid value: string \"v2\", expected v1"),
            "{e}"
        );
        let e = err(json!({"kind": "List", "items": [
            {"apiVersion": "policy/v2", "kind": "PodDisruptionBudget", "metadata": {"namespace": "d", "name": "b"}}]}));
        assert_eq!(
            e,
            "items[0] (PodDisruptionBudget d/b): apiVersion: unsupported version \"policy/v2\" (expected policy/v1 or policy/v1beta1)"
        );
        // Mapping errors of items name the object themselves.
        let e = err(json!({"kind": "List", "items": [
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
             "status": {"allocatable": {"memory": "lots"}}}]}));
        assert!(
            e.starts_with("node n1: status.allocatable.memory: invalid quantity \"lots\""),
            "{e}"
        );
    }

    #[test]
    fn read_snapshot_accepts_both_formats() {
        let core = read_snapshot(
            r#"{"nodes": [{"name": "n1", "allocatable": {"cpu": "4", "memory": "1Gi"}}],
                "pods": [{"namespace": "d", "name": "p", "nodeName": "n1"}]}"#,
        )
        .unwrap();
        assert_eq!(core.pods[0].phase, PodPhase::Running);
        let list = read_snapshot(
            &json!({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
             "status": {"allocatable": {"cpu": "4", "memory": "1Gi"},
                        "conditions": [{"type": "Ready", "status": "True"}]}},
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": "d", "name": "p"},
             "spec": {"nodeName": "n1", "containers": []}, "status": {"phase": "Running"}}]})
            .to_string(),
        )
        .unwrap();
        assert_eq!(list, core);
        // kubectl get nodes -o json: a List of one resource type.
        let nodes = read_snapshot(
            &json!({"apiVersion": "v1", "kind": "List", "items": [ready_node("a"), ready_node("b")]})
                .to_string(),
        )
        .unwrap();
        assert_eq!(nodes.nodes.len(), 2);
    }

    #[test]
    fn read_snapshot_errors() {
        let err = |text: &str| read_snapshot(text).unwrap_err();
        assert!(matches!(err("{\"nodes\": ["), KubeError::Json { .. }));
        assert!(matches!(err(""), KubeError::Json { .. }));
        assert!(
            err("{} x")
                .to_string()
                .starts_with("input is not valid json: trailing characters")
        );
        let both =
            "expected either a kubectl list (the output of `kubectl get nodes,pods,pdb -A -o json`";
        for (text, found) in [
            ("[1, 2]", "a JSON value that is not an object"),
            ("\"nodes\"", "a JSON value that is not an object"),
            (
                "{\"pods\": []}",
                "an object with neither \"kind\" nor \"nodes\"",
            ),
            (
                "{\"kind\": \"Pod\", \"metadata\": {}}",
                "an object of kind \"Pod\"",
            ),
            (
                "{\"kind\": 3, \"nodes\": []}",
                "an object whose kind is a number",
            ),
        ] {
            let e = err(text);
            assert_eq!(
                e,
                KubeError::Format {
                    found: found.into()
                }
            );
            assert!(e.to_string().contains(both), "{e}");
            assert!(
                e.to_string().contains("or a kube-compactor snapshot"),
                "{e}"
            );
        }
        let e = err(
            r#"{"nodes": [{"name": "n1", "allocatable": {"cpu": "4", "memory": "1Gi"}}],
                "pods": [{"namespace": "d", "name": "p"}, {"namespace": "d", "name": "q",
                          "containers": [{"name": "c", "requests": {"cpu": "lots"}}]}]}"#,
        );
        let text = e.to_string();
        assert!(
            text.starts_with(
                "snapshot: pods[1].containers[0].requests: resource cpu: malformed number in \"lots\""
            ),
            "{text}"
        );
        let KubeError::Snapshot { path, .. } = e else {
            panic!("{e:?}")
        };
        assert_eq!(path, "pods[1].containers[0].requests");
        let e = err(r#"{"nodes": [{"name": "n1", "allocatable": {}, "colour": 1}]}"#).to_string();
        assert!(
            e.starts_with("snapshot: nodes[0].colour: unknown field `colour`"),
            "{e}"
        );
    }
}
