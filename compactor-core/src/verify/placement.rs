//! The checker's own scheduling rules: node-level filters and the inter-pod rules replayed in
//! eviction order. Written apart from [`crate::constraints`] and [`crate::plan`] on purpose.

use std::collections::BTreeMap;

use super::violation::Constraint;
use crate::model::{
    LabelSelector, NodeInclusionPolicy, NodeSelectorOperator, NodeSelectorTerm, NodeSpec,
    PodAffinityTerm, PodSpec, SelectorOperator, TaintEffect, TolerationOperator, VolumeSource,
    WhenUnsatisfiable,
};

/// The raw objects the replay reads.
pub(super) struct World<'a> {
    /// Nodes.
    pub nodes: Vec<&'a NodeSpec>,
    /// Pods.
    pub pods: Vec<&'a PodSpec>,
    /// Labels of the namespaces the input lists.
    pub namespaces: &'a BTreeMap<String, BTreeMap<String, String>>,
}

/// What `node` violates of `pod`'s taints, nodeSelector, required node affinity and volume
/// node affinity.
pub(super) fn node_problems(pod: &PodSpec, node: &NodeSpec) -> Vec<Constraint> {
    let mut problems = Vec::new();
    for taint in &node.taints {
        if taint.effect == TaintEffect::PreferNoSchedule {
            continue;
        }
        let taint_value = taint.value.clone().unwrap_or_default();
        // None: not tolerated; Some(None): for good; Some(Some(s)): for s seconds at most.
        let mut tolerated: Option<Option<i64>> = None;
        for t in &pod.tolerations {
            let key = t.key.clone().unwrap_or_default();
            let effect_ok = t.effect.is_none_or(|e| e == taint.effect);
            let key_ok = key.is_empty() || key == taint.key;
            let value_ok = match t.operator {
                TolerationOperator::Exists => true,
                TolerationOperator::Equal => {
                    key == taint.key && t.value.clone().unwrap_or_default() == taint_value
                }
            };
            if effect_ok && key_ok && value_ok {
                // Seconds matter for NoExecute only; a toleration without them is permanent.
                let seconds = t
                    .toleration_seconds
                    .filter(|_| taint.effect == TaintEffect::NoExecute);
                tolerated = Some(match (tolerated, seconds) {
                    (Some(None), _) | (_, None) => None,
                    (Some(Some(a)), Some(b)) => Some(a.min(b)),
                    (None, Some(b)) => Some(b),
                });
            }
        }
        match tolerated {
            None => problems.push(Constraint::UntoleratedTaint {
                taint: taint.to_string(),
            }),
            Some(Some(seconds)) => problems.push(Constraint::TimedToleration {
                taint: taint.to_string(),
                seconds,
            }),
            Some(None) => {}
        }
    }
    for (key, value) in &pod.node_selector {
        if node.labels.get(key) != Some(value) {
            problems.push(Constraint::NodeSelector {
                key: key.clone(),
                value: value.clone(),
            });
        }
    }
    if !pod.required_node_affinity.is_empty()
        && !pod
            .required_node_affinity
            .iter()
            .any(|t| term_holds(t, node))
    {
        problems.push(Constraint::NodeAffinity);
    }
    for v in &pod.volumes {
        if let VolumeSource::PersistentVolumeClaim {
            claim_name,
            node_affinity,
            ..
        } = &v.source
            && !node_affinity.is_empty()
            && !node_affinity.iter().any(|t| term_holds(t, node))
        {
            problems.push(Constraint::VolumeAffinity {
                claim: claim_name.clone(),
            });
        }
    }
    problems
}

/// Whether one node selector term holds on `node` (an empty term holds nowhere).
fn term_holds(term: &NodeSelectorTerm, node: &NodeSpec) -> bool {
    if term.match_expressions.is_empty() && term.match_fields.is_empty() {
        return false;
    }
    let labels_ok = term
        .match_expressions
        .iter()
        .all(|r| requirement_holds(r.operator, &r.values, node.labels.get(&r.key)));
    let fields_ok = term.match_fields.iter().all(|r| {
        r.key == "metadata.name"
            && (r.operator == NodeSelectorOperator::In || r.operator == NodeSelectorOperator::NotIn)
            && requirement_holds(r.operator, &r.values, Some(&node.name))
    });
    labels_ok && fields_ok
}

/// Whether `labels` satisfy `selector` (`None` selects nothing). Written here again on
/// purpose, so that the checker does not share the planner's code.
pub(super) fn selects(selector: Option<&LabelSelector>, labels: &BTreeMap<String, String>) -> bool {
    let Some(sel) = selector else {
        return false;
    };
    for (k, v) in &sel.match_labels {
        if labels.get(k) != Some(v) {
            return false;
        }
    }
    for r in &sel.match_expressions {
        let have = labels.get(&r.key);
        let ok = match r.operator {
            SelectorOperator::In => have.is_some_and(|v| r.values.iter().any(|x| x == v)),
            SelectorOperator::NotIn => have.is_none_or(|v| r.values.iter().all(|x| x != v)),
            SelectorOperator::Exists => have.is_some(),
            SelectorOperator::DoesNotExist => have.is_none(),
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Whether pod `other` is one of the pods `term` (carried by a pod in namespace `owner_ns`)
/// is about.
fn term_selects(
    world: &World<'_>,
    term: &PodAffinityTerm,
    owner_ns: &str,
    other: &PodSpec,
) -> bool {
    let by_name = if term.namespaces.is_empty() && term.namespace_selector.is_none() {
        other.namespace == owner_ns
    } else {
        term.namespaces.contains(&other.namespace)
    };
    let by_labels = match &term.namespace_selector {
        None => false,
        Some(sel) => {
            let mut labels = world
                .namespaces
                .get(&other.namespace)
                .cloned()
                .unwrap_or_default();
            labels
                .entry("kubernetes.io/metadata.name".to_owned())
                .or_insert_with(|| other.namespace.clone());
            selects(Some(sel), &labels)
        }
    };
    (by_name || by_labels) && selects(term.label_selector.as_ref(), &other.labels)
}

/// Whether nodes `a` and `b` are in the same domain of `key` (both carry the label, with the
/// same value).
fn same_domain(a: &NodeSpec, b: &NodeSpec, key: &str) -> bool {
    match (a.labels.get(key), b.labels.get(key)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// Inter-pod problems of putting pod `p` on node `to`, with every other pod where
/// `location` says (pod `p` itself already taken off its node): required pod affinity and
/// anti-affinity in both directions, and `DoNotSchedule` topology spread — the rules as
/// kube-scheduler applies them when it schedules the pod.
pub(super) fn interpod_problems(
    world: &World<'_>,
    location: &[Option<usize>],
    p: usize,
    to: usize,
) -> Vec<Constraint> {
    let nodes = &world.nodes;
    let pods = &world.pods;
    let pod = &pods[p];
    let target = &nodes[to];
    let mut problems = Vec::new();
    let placed = || {
        pods.iter()
            .enumerate()
            .filter_map(|(q, other)| location[q].map(|n| (q, other, &nodes[n])))
            .filter(|(_, other, _)| !other.phase.is_terminal())
    };
    // Topology spread (DoNotSchedule).
    let hard: Vec<_> = pod
        .topology_spread_constraints
        .iter()
        .filter(|c| c.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule)
        .collect();
    for c in &hard {
        let Some(value) = target.labels.get(&c.topology_key) else {
            problems.push(Constraint::TopologyLabelMissing {
                key: c.topology_key.clone(),
            });
            continue;
        };
        let mut selector = c.label_selector.clone();
        if let Some(sel) = &mut selector {
            for key in &c.match_label_keys {
                if let Some(v) = pod.labels.get(key) {
                    sel.match_expressions
                        .push(crate::model::SelectorRequirement {
                            key: key.clone(),
                            operator: SelectorOperator::In,
                            values: vec![v.clone()],
                        });
                }
            }
        }
        let eligible = |node: &NodeSpec| {
            hard.iter()
                .all(|h| node.labels.contains_key(&h.topology_key))
                && (c.node_affinity_policy == NodeInclusionPolicy::Ignore
                    || (pod
                        .node_selector
                        .iter()
                        .all(|(k, v)| node.labels.get(k) == Some(v))
                        && (pod.required_node_affinity.is_empty()
                            || pod
                                .required_node_affinity
                                .iter()
                                .any(|t| term_holds(t, node)))))
                && (c.node_taints_policy == NodeInclusionPolicy::Ignore
                    || node_problems(
                        &PodSpec {
                            tolerations: pod.tolerations.clone(),
                            ..Default::default()
                        },
                        node,
                    )
                    .iter()
                    .all(|x| matches!(x, Constraint::TimedToleration { .. })))
        };
        let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
        for node in nodes.iter().filter(|n| eligible(n)) {
            counts
                .entry(node.labels[&c.topology_key].as_str())
                .or_insert(0);
        }
        for (_, other, node) in placed() {
            // Terminating pods do not count for spreading (they do for affinity).
            if other.namespace == pod.namespace
                && !other.terminating
                && eligible(node)
                && selects(selector.as_ref(), &other.labels)
            {
                *counts
                    .entry(node.labels[&c.topology_key].as_str())
                    .or_insert(0) += 1;
            }
        }
        let min = if (counts.len() as u32) < c.min_domains.unwrap_or(1) {
            0
        } else {
            counts.values().copied().min().unwrap_or(0)
        };
        let here = counts.get(value.as_str()).copied().unwrap_or(0)
            + u32::from(selects(selector.as_ref(), &pod.labels));
        if here.saturating_sub(min) > c.max_skew {
            problems.push(Constraint::TopologySpread {
                key: c.topology_key.clone(),
                value: value.clone(),
                skew: here - min,
                max_skew: c.max_skew,
            });
        }
    }
    // Required pod affinity: per term, a pod matching every term in the target's domain.
    if !pod.pod_affinity.is_empty() {
        let all_terms = |other: &PodSpec| {
            pod.pod_affinity
                .iter()
                .all(|t| term_selects(world, t, &pod.namespace, other))
        };
        let mut missing = Vec::new();
        let mut anywhere = false;
        for t in &pod.pod_affinity {
            if !target.labels.contains_key(&t.topology_key) {
                problems.push(Constraint::TopologyLabelMissing {
                    key: t.topology_key.clone(),
                });
                continue;
            }
            let mut found = false;
            for (_, other, node) in placed() {
                if all_terms(other) && node.labels.contains_key(&t.topology_key) {
                    anywhere = true;
                    if same_domain(node, target, &t.topology_key) {
                        found = true;
                    }
                }
            }
            if !found {
                missing.push(t.topology_key.clone());
            }
        }
        let first_of_group = !anywhere && all_terms(pod);
        if !missing.is_empty() && !first_of_group {
            problems.push(Constraint::PodAffinity { keys: missing });
        }
    }
    // Required anti-affinity, the pod's own terms.
    for t in &pod.pod_anti_affinity {
        for (_, other, node) in placed() {
            if same_domain(node, target, &t.topology_key)
                && term_selects(world, t, &pod.namespace, other)
            {
                problems.push(Constraint::AntiAffinity {
                    key: t.topology_key.clone(),
                    other: other.key(),
                });
            }
        }
    }
    // Required anti-affinity of the pods already there.
    for (_, other, node) in placed() {
        for t in &other.pod_anti_affinity {
            if same_domain(node, target, &t.topology_key)
                && term_selects(world, t, &other.namespace, pod)
            {
                problems.push(Constraint::ExistingAntiAffinity {
                    key: t.topology_key.clone(),
                    other: other.key(),
                });
            }
        }
    }
    problems
}

fn requirement_holds(op: NodeSelectorOperator, values: &[String], label: Option<&String>) -> bool {
    match op {
        NodeSelectorOperator::In => label.is_some_and(|v| values.contains(v)),
        NodeSelectorOperator::NotIn => match label {
            None => true,
            Some(v) => !values.contains(v),
        },
        NodeSelectorOperator::Exists => label.is_some(),
        NodeSelectorOperator::DoesNotExist => label.is_none(),
        NodeSelectorOperator::Gt | NodeSelectorOperator::Lt => {
            if values.len() != 1 {
                return false;
            }
            let (Some(Ok(have)), Ok(bound)) =
                (label.map(|v| v.parse::<i64>()), values[0].parse::<i64>())
            else {
                return false;
            };
            if op == NodeSelectorOperator::Gt {
                have > bound
            } else {
                have < bound
            }
        }
    }
}
