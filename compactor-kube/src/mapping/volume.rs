//! PersistentVolumes (where a claim can be used) and node selector terms.

use super::*;

pub(crate) fn node_selector_operator(
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
pub(crate) fn node_selector_terms(
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
pub(crate) fn node_selector_term(
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
                let operator = node_selector_operator(
                    object,
                    &format!("{path}.{what}[{j}].operator"),
                    &r.operator,
                )?;
                let values = r.values.clone().unwrap_or_default();
                operator
                    .check_values(&values)
                    .map_err(|message| KubeError::Field {
                        object: object.to_owned(),
                        field: format!("{path}.{what}[{j}].values"),
                        message: message.to_owned(),
                    })?;
                Ok(NodeSelectorRequirement {
                    key: r.key.clone(),
                    operator,
                    values,
                })
            })
            .collect()
    };
    Ok(NodeSelectorTerm {
        match_expressions: reqs(term.match_expressions.as_ref(), "matchExpressions")?,
        match_fields: reqs(term.match_fields.as_ref(), "matchFields")?,
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
pub(crate) fn volume_topology_requirements(
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
pub(crate) fn split_zones(value: &str) -> Option<Vec<String>> {
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
