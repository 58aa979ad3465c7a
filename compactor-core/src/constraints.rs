//! Node-level hard scheduling constraints, as kube-scheduler's filter plugins apply them:
//! TaintToleration, NodeAffinity (nodeSelector and required node affinity) and NodePorts.
//!
//! Pure predicates over the model types. The planner's packing and its kube-scheduler
//! prediction both use them; [`crate::verify`] re-checks plans with its own, separate code.
//!
//! VolumeBinding / VolumeZone are modelled as the bound volume's node affinity (zone labels
//! folded in by the import). Inter-pod affinity, anti-affinity and topology spread depend on
//! where other pods are; they live in the planner's inter-pod index (`plan::interpod`) and are re-checked by
//! [`crate::verify`] with separate code.

use std::collections::BTreeMap;

use crate::model::{
    HostPort, LabelSelector, NodeSelectorOperator, NodeSelectorRequirement, NodeSelectorTerm,
    NodeSpec, PodSpec, SelectorOperator, Taint, TaintEffect, Toleration, TolerationOperator,
    VolumeSource,
};

/// Which constraint excluded a node, in plain words (see [`Violation::describe`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Violation {
    /// A NoSchedule / NoExecute taint the pod does not tolerate (`key=value:Effect`).
    Taint(String),
    /// A nodeSelector entry the node's labels do not satisfy (`key=value`).
    NodeSelector(String),
    /// No required node affinity term matches the node.
    NodeAffinity,
    /// A host port already used on the node (`port/PROTOCOL`).
    HostPort(String),
    /// The volume behind this PersistentVolumeClaim cannot be used on the node (its zone or
    /// node affinity).
    Volume(String),
    /// The node lacks this label, which the pod's affinity or spread constraints use as
    /// topology key.
    MissingTopologyLabel(String),
    /// A required pod affinity term finds no matching pod in the node's domain.
    PodAffinity {
        /// The term's pod selector, as kubectl prints selectors.
        selector: String,
        /// `key=value` of the node's domain.
        topology: String,
    },
    /// The pod's required anti-affinity finds pod `pod` in the node's domain.
    AntiAffinity {
        /// `namespace/name` of a pod found there.
        pod: String,
        /// `key=value` of the node's domain.
        topology: String,
    },
    /// Pod `pod` in the node's domain has a required anti-affinity term matching the pod.
    ExistingAntiAffinity {
        /// `namespace/name` of the pod with the term.
        pod: String,
        /// `key=value` of the node's domain.
        topology: String,
    },
    /// The node's domain would exceed the constraint's `maxSkew`.
    TopologySpread {
        /// `key=value` of the node's domain.
        topology: String,
        /// The skew placing the pod there would give.
        skew: u32,
        /// The constraint's `maxSkew`.
        max_skew: u32,
    },
}

impl Violation {
    /// The constraint, as a noun phrase: `taint dedicated=gpu:NoSchedule`,
    /// `node selector disktype=ssd`, `anti-affinity with pod shop/web-2 on topology …`.
    pub fn describe(&self) -> String {
        match self {
            Self::Taint(t) => format!("taint {t}"),
            Self::NodeSelector(s) => format!("node selector {s}"),
            Self::NodeAffinity => "required node affinity".to_owned(),
            Self::HostPort(p) => format!("host port {p}"),
            Self::Volume(c) => format!("volume zone of claim {c}"),
            Self::MissingTopologyLabel(k) => format!("topology label {k}"),
            Self::PodAffinity { selector, topology } => {
                format!("pod affinity to {selector} (none on topology {topology})")
            }
            Self::AntiAffinity { pod, topology } => {
                format!("anti-affinity with pod {pod} on topology {topology}")
            }
            Self::ExistingAntiAffinity { pod, topology } => {
                format!("anti-affinity of pod {pod} on topology {topology}")
            }
            Self::TopologySpread {
                topology,
                skew,
                max_skew,
            } => format!("topology spread on {topology} (skew {skew} > maxSkew {max_skew})"),
        }
    }

    /// A sentence explaining that no candidate node passed this constraint for `pod`.
    pub fn no_node_message(&self, pod: &str) -> String {
        match self {
            Self::Taint(t) => format!(
                "pod {pod} cannot move: the kept nodes with room carry taint {t}, which it does not tolerate"
            ),
            Self::NodeSelector(s) => {
                format!("pod {pod} cannot move: no kept node with room matches node selector {s}")
            }
            Self::NodeAffinity => format!(
                "pod {pod} cannot move: no kept node with room matches its required node affinity"
            ),
            Self::HostPort(p) => format!(
                "pod {pod} cannot move: host port {p} is already used on every kept node with room"
            ),
            Self::Volume(c) => format!(
                "pod {pod} cannot move: the volume of claim {c} cannot be used on any kept node with room (zone or node affinity)"
            ),
            Self::MissingTopologyLabel(k) => format!(
                "pod {pod} cannot move: kept nodes with room lack the topology label {k} its constraints need"
            ),
            other => format!("pod {pod} cannot move: {}", other.describe()),
        }
    }
}

/// Whether `toleration` tolerates `taint` (the core/v1 `ToleratesTaint` rule).
pub fn toleration_matches(toleration: &Toleration, taint: &Taint) -> bool {
    if toleration.effect.is_some_and(|e| e != taint.effect) {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match toleration.operator {
        // An empty key with Exists matches every key; with Equal it is invalid in the API and
        // matches only an empty taint key (the check above already passed it).
        TolerationOperator::Exists => true,
        TolerationOperator::Equal => {
            key == taint.key
                && toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
    }
}

/// TaintToleration filter: every NoSchedule and NoExecute taint must be tolerated;
/// PreferNoSchedule never blocks. Reports the first untolerated taint in node order.
///
/// # Errors
/// [`Violation::Taint`] naming the taint.
pub fn tolerates(pod: &PodSpec, taints: &[Taint]) -> Result<(), Violation> {
    match first_untolerated(pod, taints) {
        Some(taint) => Err(Violation::Taint(taint.to_string())),
        None => Ok(()),
    }
}

/// The first NoSchedule / NoExecute taint of `taints` that `pod` does not tolerate.
fn first_untolerated<'t>(pod: &PodSpec, taints: &'t [Taint]) -> Option<&'t Taint> {
    taints.iter().find(|taint| {
        taint.effect != TaintEffect::PreferNoSchedule
            && !pod.tolerations.iter().any(|t| toleration_matches(t, taint))
    })
}

/// nodeSelector: every entry must be a node label with that value.
///
/// # Errors
/// [`Violation::NodeSelector`] naming the first entry (in key order) that fails.
pub fn matches_node_selector(
    selector: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> Result<(), Violation> {
    match selector.iter().find(|(k, v)| labels.get(*k) != Some(*v)) {
        Some((k, v)) => Err(Violation::NodeSelector(format!("{k}={v}"))),
        None => Ok(()),
    }
}

fn requirement_matches(req: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let int = |s: &str| s.parse::<i64>().ok();
    match req.operator {
        NodeSelectorOperator::In => value.is_some_and(|v| req.values.iter().any(|x| x == v)),
        NodeSelectorOperator::NotIn => value.is_none_or(|v| req.values.iter().all(|x| x != v)),
        NodeSelectorOperator::Exists => value.is_some(),
        NodeSelectorOperator::DoesNotExist => value.is_none(),
        NodeSelectorOperator::Gt | NodeSelectorOperator::Lt => {
            let (Some(have), [want]) = (value.and_then(int), req.values.as_slice()) else {
                return false;
            };
            let Some(want) = int(want) else {
                return false;
            };
            if req.operator == NodeSelectorOperator::Gt {
                have > want
            } else {
                have < want
            }
        }
    }
}

/// Whether one node selector term matches `node`: every expression against the labels and
/// every field requirement (`metadata.name`, In / NotIn) against the name. A term with no
/// requirement matches nothing.
pub fn term_matches(term: &NodeSelectorTerm, node: &NodeSpec) -> bool {
    if term.match_expressions.is_empty() && term.match_fields.is_empty() {
        return false;
    }
    term.match_expressions
        .iter()
        .all(|r| requirement_matches(r, node.labels.get(&r.key).map(String::as_str)))
        && term.match_fields.iter().all(|r| {
            r.key == "metadata.name"
                && matches!(
                    r.operator,
                    NodeSelectorOperator::In | NodeSelectorOperator::NotIn
                )
                && requirement_matches(r, Some(node.name.as_str()))
        })
}

/// Required node affinity: some term must match (terms ORed); no terms is no constraint.
///
/// # Errors
/// [`Violation::NodeAffinity`].
pub fn matches_node_affinity(terms: &[NodeSelectorTerm], node: &NodeSpec) -> Result<(), Violation> {
    if terms.is_empty() || terms.iter().any(|t| term_matches(t, node)) {
        Ok(())
    } else {
        Err(Violation::NodeAffinity)
    }
}

/// Whether two host ports conflict: same port and protocol, and overlapping host IPs
/// (`0.0.0.0` overlaps every address).
pub fn ports_conflict(a: &HostPort, b: &HostPort) -> bool {
    let wild = |ip: &str| ip.is_empty() || ip == "0.0.0.0";
    a.port == b.port
        && a.protocol == b.protocol
        && (wild(&a.host_ip) || wild(&b.host_ip) || a.host_ip == b.host_ip)
}

/// NodePorts filter: none of `wanted` may conflict with `used` (the ports of the pods already
/// on the node).
///
/// # Errors
/// [`Violation::HostPort`] naming the first conflicting port.
pub fn host_ports_free(wanted: &[HostPort], used: &[HostPort]) -> Result<(), Violation> {
    match wanted
        .iter()
        .find(|w| used.iter().any(|u| ports_conflict(w, u)))
    {
        Some(w) => Err(port_taken(w)),
        None => Ok(()),
    }
}

/// The violation for host port `port` being taken.
pub fn port_taken(port: &HostPort) -> Violation {
    Violation::HostPort(format!("{}/{}", port.port, protocol_name(port)))
}

fn protocol_name(p: &HostPort) -> &'static str {
    match p.protocol {
        crate::model::Protocol::Tcp => "TCP",
        crate::model::Protocol::Udp => "UDP",
        crate::model::Protocol::Sctp => "SCTP",
    }
}

/// VolumeBinding / VolumeZone: the volume of every PersistentVolumeClaim must be usable on
/// the node (its node affinity, zone labels included).
///
/// # Errors
/// [`Violation::Volume`] naming the first claim whose volume the node cannot use.
pub fn volumes_allow(pod: &PodSpec, node: &NodeSpec) -> Result<(), Violation> {
    for v in &pod.volumes {
        if let VolumeSource::PersistentVolumeClaim {
            claim_name,
            node_affinity,
            ..
        } = &v.source
            && !node_affinity.is_empty()
            && !node_affinity.iter().any(|t| term_matches(t, node))
        {
            return Err(Violation::Volume(claim_name.clone()));
        }
    }
    Ok(())
}

/// A label selector as kubectl prints it: `app=web,tier in (a,b),!legacy`; `<none>` for a
/// null selector (which matches nothing) and `<all>` for the empty one.
pub fn selector_text(selector: Option<&LabelSelector>) -> String {
    let Some(s) = selector else {
        return "<none>".to_owned();
    };
    let mut parts: Vec<String> = s
        .match_labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for r in &s.match_expressions {
        parts.push(match r.operator {
            SelectorOperator::In => format!("{} in ({})", r.key, r.values.join(",")),
            SelectorOperator::NotIn => format!("{} notin ({})", r.key, r.values.join(",")),
            SelectorOperator::Exists => r.key.clone(),
            SelectorOperator::DoesNotExist => format!("!{}", r.key),
        });
    }
    if parts.is_empty() {
        "<all>".to_owned()
    } else {
        parts.join(",")
    }
}

/// The static (load-independent) node constraints: taints, nodeSelector, required node
/// affinity, volume zones, in that order.
///
/// # Errors
/// The first violated constraint.
///
/// # Complexity
/// O(|taints| · |tolerations| + |selector| · log L + Σ term sizes · log L).
pub fn node_allows(pod: &PodSpec, node: &NodeSpec) -> Result<(), Violation> {
    tolerates(pod, &node.taints)?;
    matches_node_selector(&pod.node_selector, &node.labels)?;
    matches_node_affinity(&pod.required_node_affinity, node)?;
    volumes_allow(pod, node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Protocol;

    fn taint(key: &str, value: Option<&str>, effect: TaintEffect) -> Taint {
        Taint {
            key: key.into(),
            value: value.map(Into::into),
            effect,
        }
    }

    fn tol(
        key: Option<&str>,
        operator: TolerationOperator,
        value: Option<&str>,
        effect: Option<TaintEffect>,
    ) -> Toleration {
        Toleration {
            key: key.map(Into::into),
            operator,
            value: value.map(Into::into),
            effect,
            toleration_seconds: None,
        }
    }

    fn pod_with(tolerations: Vec<Toleration>) -> PodSpec {
        PodSpec {
            namespace: "ml".into(),
            name: "x".into(),
            tolerations,
            ..Default::default()
        }
    }

    fn node(labels: &[(&str, &str)]) -> NodeSpec {
        NodeSpec {
            name: "n1".into(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            ..Default::default()
        }
    }

    fn req(key: &str, operator: NodeSelectorOperator, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator,
            values: values.iter().map(|v| (*v).into()).collect(),
        }
    }

    fn term(reqs: Vec<NodeSelectorRequirement>) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions: reqs,
            match_fields: vec![],
        }
    }

    use NodeSelectorOperator::*;
    use TaintEffect::*;
    use TolerationOperator::{Equal, Exists as TolExists};

    #[test]
    fn effects() {
        let none = pod_with(vec![]);
        assert_eq!(
            tolerates(&none, &[taint("dedicated", Some("gpu"), NoSchedule)]),
            Err(Violation::Taint("dedicated=gpu:NoSchedule".into()))
        );
        assert_eq!(
            tolerates(&none, &[taint("dedicated", None, NoExecute)]),
            Err(Violation::Taint("dedicated:NoExecute".into()))
        );
        assert_eq!(
            tolerates(&none, &[taint("dedicated", Some("gpu"), PreferNoSchedule)]),
            Ok(())
        );
        assert_eq!(tolerates(&none, &[]), Ok(()));
    }

    #[test]
    fn equal_operator_compares_key_and_value() {
        let t = taint("dedicated", Some("gpu"), NoSchedule);
        let ok = pod_with(vec![tol(Some("dedicated"), Equal, Some("gpu"), None)]);
        let wrong_value = pod_with(vec![tol(Some("dedicated"), Equal, Some("cpu"), None)]);
        let wrong_key = pod_with(vec![tol(Some("other"), Equal, Some("gpu"), None)]);
        assert_eq!(tolerates(&ok, std::slice::from_ref(&t)), Ok(()));
        assert!(tolerates(&wrong_value, std::slice::from_ref(&t)).is_err());
        assert!(tolerates(&wrong_key, std::slice::from_ref(&t)).is_err());
        // An absent value equals an empty one.
        let bare = taint("k", None, NoSchedule);
        assert_eq!(
            tolerates(&pod_with(vec![tol(Some("k"), Equal, None, None)]), &[bare]),
            Ok(())
        );
    }

    #[test]
    fn exists_operator() {
        let t = taint("dedicated", Some("gpu"), NoExecute);
        let key_only = pod_with(vec![tol(Some("dedicated"), TolExists, None, None)]);
        let everything = pod_with(vec![tol(None, TolExists, None, None)]);
        let other = pod_with(vec![tol(Some("x"), TolExists, None, None)]);
        assert_eq!(tolerates(&key_only, std::slice::from_ref(&t)), Ok(()));
        assert_eq!(tolerates(&everything, std::slice::from_ref(&t)), Ok(()));
        assert!(tolerates(&other, &[t]).is_err());
    }

    #[test]
    fn toleration_effect_must_match_when_given() {
        let t = taint("k", Some("v"), NoExecute);
        let same = pod_with(vec![tol(Some("k"), Equal, Some("v"), Some(NoExecute))]);
        let other = pod_with(vec![tol(Some("k"), Equal, Some("v"), Some(NoSchedule))]);
        let any = pod_with(vec![tol(Some("k"), Equal, Some("v"), None)]);
        assert_eq!(tolerates(&same, std::slice::from_ref(&t)), Ok(()));
        assert!(tolerates(&other, std::slice::from_ref(&t)).is_err());
        assert_eq!(tolerates(&any, &[t]), Ok(()));
    }

    #[test]
    fn every_hard_taint_needs_a_toleration() {
        let taints = [
            taint("a", None, NoSchedule),
            taint("b", None, NoSchedule),
            taint("c", None, PreferNoSchedule),
        ];
        let one = pod_with(vec![tol(Some("a"), TolExists, None, None)]);
        assert_eq!(
            tolerates(&one, &taints),
            Err(Violation::Taint("b:NoSchedule".into()))
        );
    }

    #[test]
    fn node_selector() {
        let n = node(&[("disktype", "ssd"), ("zone", "a")]);
        let sel = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect()
        };
        assert_eq!(matches_node_selector(&sel(&[]), &n.labels), Ok(()));
        assert_eq!(
            matches_node_selector(&sel(&[("disktype", "ssd")]), &n.labels),
            Ok(())
        );
        assert_eq!(
            matches_node_selector(&sel(&[("disktype", "hdd")]), &n.labels),
            Err(Violation::NodeSelector("disktype=hdd".into()))
        );
        assert!(matches_node_selector(&sel(&[("gpu", "true")]), &n.labels).is_err());
        assert_eq!(
            Violation::NodeSelector("disktype=ssd".into()).describe(),
            "node selector disktype=ssd"
        );
    }

    #[test]
    fn affinity_operators() {
        let n = node(&[("zone", "a"), ("cores", "16"), ("bad", "x16")]);
        let ok = |r: NodeSelectorRequirement| matches_node_affinity(&[term(vec![r])], &n).is_ok();
        assert!(ok(req("zone", In, &["a", "b"])));
        assert!(!ok(req("zone", In, &["b"])));
        assert!(!ok(req("missing", In, &["a"])));
        assert!(ok(req("zone", NotIn, &["b"])));
        assert!(ok(req("missing", NotIn, &["b"])));
        assert!(!ok(req("zone", NotIn, &["a"])));
        assert!(ok(req("zone", Exists, &[])));
        assert!(!ok(req("missing", Exists, &[])));
        assert!(ok(req("missing", DoesNotExist, &[])));
        assert!(!ok(req("zone", DoesNotExist, &[])));
        assert!(ok(req("cores", Gt, &["8"])));
        assert!(!ok(req("cores", Gt, &["16"])));
        assert!(ok(req("cores", Lt, &["32"])));
        assert!(!ok(req("cores", Lt, &["16"])));
        // A non-integer label or value, or a missing label, fails Gt / Lt.
        assert!(!ok(req("bad", Gt, &["1"])));
        assert!(!ok(req("bad", Lt, &["100"])));
        assert!(!ok(req("missing", Gt, &["1"])));
        assert!(!ok(req("cores", Gt, &["eight"])));
    }

    #[test]
    fn affinity_terms_or_expressions_and() {
        let n = node(&[("zone", "a"), ("disk", "ssd")]);
        let both = term(vec![req("zone", In, &["a"]), req("disk", In, &["ssd"])]);
        let half = term(vec![req("zone", In, &["a"]), req("disk", In, &["hdd"])]);
        let other = term(vec![req("zone", In, &["b"])]);
        assert!(matches_node_affinity(std::slice::from_ref(&both), &n).is_ok());
        assert_eq!(
            matches_node_affinity(std::slice::from_ref(&half), &n),
            Err(Violation::NodeAffinity)
        );
        assert!(matches_node_affinity(&[other.clone(), both], &n).is_ok());
        assert!(matches_node_affinity(&[other, half], &n).is_err());
        assert!(matches_node_affinity(&[], &n).is_ok());
        assert!(matches_node_affinity(&[NodeSelectorTerm::default()], &n).is_err());
    }

    #[test]
    fn affinity_match_fields() {
        let n = node(&[]);
        let field = |operator, name: &str| NodeSelectorTerm {
            match_expressions: vec![],
            match_fields: vec![req("metadata.name", operator, &[name])],
        };
        assert!(matches_node_affinity(&[field(In, "n1")], &n).is_ok());
        assert!(matches_node_affinity(&[field(In, "n2")], &n).is_err());
        assert!(matches_node_affinity(&[field(NotIn, "n2")], &n).is_ok());
        assert!(matches_node_affinity(&[field(NotIn, "n1")], &n).is_err());
        let mut wrong = field(In, "n1");
        wrong.match_fields[0].key = "metadata.uid".into();
        assert!(matches_node_affinity(&[wrong], &n).is_err());
    }

    #[test]
    fn host_ports() {
        let hp = |port, protocol, ip: &str| HostPort {
            port,
            protocol,
            host_ip: ip.into(),
        };
        let used = [hp(80, Protocol::Tcp, "10.0.0.1")];
        assert!(host_ports_free(&[hp(80, Protocol::Tcp, "0.0.0.0")], &used).is_err());
        assert!(host_ports_free(&[hp(80, Protocol::Tcp, "10.0.0.1")], &used).is_err());
        assert!(host_ports_free(&[hp(80, Protocol::Tcp, "10.0.0.2")], &used).is_ok());
        assert!(host_ports_free(&[hp(80, Protocol::Udp, "0.0.0.0")], &used).is_ok());
        assert!(host_ports_free(&[hp(81, Protocol::Tcp, "0.0.0.0")], &used).is_ok());
        let wild = [hp(53, Protocol::Udp, "0.0.0.0")];
        assert_eq!(
            host_ports_free(&[hp(53, Protocol::Udp, "192.168.1.1")], &wild),
            Err(Violation::HostPort("53/UDP".into()))
        );
        assert!(host_ports_free(&[], &wild).is_ok());
    }

    #[test]
    fn node_allows_checks_in_order() {
        let mut n = node(&[("zone", "a")]);
        n.taints = vec![taint("dedicated", Some("gpu"), NoSchedule)];
        let mut p = pod_with(vec![]);
        p.node_selector.insert("zone".into(), "b".into());
        assert!(matches!(node_allows(&p, &n), Err(Violation::Taint(_))));
        p.tolerations = vec![tol(Some("dedicated"), TolExists, None, None)];
        assert!(matches!(
            node_allows(&p, &n),
            Err(Violation::NodeSelector(_))
        ));
        p.node_selector.insert("zone".into(), "a".into());
        assert_eq!(node_allows(&p, &n), Ok(()));
        assert!(
            Violation::Taint("dedicated=gpu:NoSchedule".into())
                .no_node_message("ml/x")
                .contains("the kept nodes with room carry taint dedicated=gpu:NoSchedule, which it does not tolerate")
        );
    }
}
