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
use compactor_core::resources::{ResourceList, is_pod_level_resource, unit_of};
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

pub(crate) mod list;
mod node;
mod pdb;
mod pod;
mod volume;

pub use list::*;
pub use node::*;
pub use pdb::*;
pub use pod::*;
pub use volume::*;

/// `metadata.name`, or an error naming `object` (`namespace`, `persistentvolume`, …).
pub(crate) fn required_name(meta: &ObjectMeta, object: &str) -> Result<String, KubeError> {
    meta.name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| KubeError::Field {
            object: object.to_owned(),
            field: "metadata.name".to_owned(),
            message: "missing or empty".to_owned(),
        })
}

pub(crate) fn namespace_of(meta: &ObjectMeta) -> String {
    meta.namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned())
}

pub(crate) fn parse_quantity(
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
pub(crate) fn parse_list(
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

pub(crate) fn label_selector(
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
        let values = req.values.clone().unwrap_or_default();
        if let Err(message) = operator.check_values(&values) {
            return Err(KubeError::Field {
                object: object.to_owned(),
                field: format!("{field}.matchExpressions[{i}].values"),
                message: message.to_owned(),
            });
        }
        match_expressions.push(SelectorRequirement {
            key: req.key.clone(),
            operator,
            values,
        });
    }
    Ok(LabelSelector {
        match_labels: selector.match_labels.clone().unwrap_or_default(),
        match_expressions,
    })
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
        // The API server accepts only cpu, memory and hugepages at pod level.
        let err = pod_spec(&pod(json!({
            "metadata": {"namespace": "shop", "name": "p"},
            "spec": {"resources": {"requests": {"hugepages-2Mi": "2Mi", "storage": "1Gi"}},
                     "containers": []}
        })))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod shop/p: spec.resources.requests.storage: only cpu, memory and hugepages-* can be \
             requested at pod level"
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
        // Values the API server's validation refuses for the operator.
        assert_eq!(
            err(json!({"containers": [], "affinity": {"podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "h",
                    "labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": []}]}}]}}})),
            "pod d/p: spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].values: In and NotIn need at least one value"
        );
        assert_eq!(
            err(
                json!({"containers": [], "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "h",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["x"]}]}}]})
            ),
            "pod d/p: spec.topologySpreadConstraints[0].labelSelector.matchExpressions[0].values: Exists and DoesNotExist take no values"
        );
        assert_eq!(
            err(json!({"containers": [], "affinity": {"nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "k", "operator": "NotIn"}]}]}}}})),
            "pod d/p: spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: In and NotIn need at least one value"
        );
    }

    #[test]
    fn an_empty_node_name_is_no_binding() {
        let p = pod_spec(&pod(json!({"metadata": {"namespace": "d", "name": "p"},
            "spec": {"nodeName": "", "containers": []}, "status": {"phase": "Pending"}})))
        .unwrap();
        assert_eq!(p.node_name, None);
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
