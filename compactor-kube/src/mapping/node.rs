//! Nodes: allocatable, labels, taints, conditions, images.

use super::*;

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

pub(crate) fn taint_effect(object: &str, field: &str, raw: &str) -> Result<TaintEffect, KubeError> {
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
