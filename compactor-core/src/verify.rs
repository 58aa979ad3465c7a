//! An independent checker for plans.
//!
//! It shares no code with the planner's placement: it recomputes every node's load from the
//! snapshot and the plan's moves and checks the plan's promises. Property tests, fuzz targets,
//! the end-to-end tests and `kube-compactor check` use it.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{
    LabelSelector, MIRROR_ANNOTATION, NodeInclusionPolicy, NodeSelectorOperator, NodeSelectorTerm,
    NodeSpec, PodAffinityTerm, PodSpec, SelectorOperator, TaintEffect, TolerationOperator,
    VolumeSource, WhenUnsatisfiable,
};
use crate::plan::{Plan, PlanOptions};
use crate::snapshot::Snapshot;

/// Checks `plan` against `snapshot`; returns every violation found (empty when valid).
///
/// Checked:
/// - every move names a known pod, on a drained node, bound there, and moves once;
/// - every non-terminal pod on a drained node that is not a DaemonSet pod is moved
///   (drained nodes end empty of movable pods), and no mirror pod is on a drained node;
/// - moves land on nodes that are kept, Ready and schedulable (an excluded node is never
///   drained, but receives pods: kube-scheduler does not read the annotation);
/// - after the moves no node exceeds allocatable in any dimension, and no node that
///   receives pods exceeds the safety cap in CPU, memory or ephemeral storage;
/// - every moved pod's new node passes its scheduling constraints: NoSchedule / NoExecute
///   taints tolerated, nodeSelector, required node affinity, and no host port clash with the
///   pods on that node after the plan (checked here with code of its own, not
///   [`crate::constraints`]);
/// - replayed in eviction order (each pod leaves its node, then lands among the others as they
///   are at that moment), every moved pod's required pod affinity and anti-affinity (its own
///   terms and those of the pods already in the domain) and `DoNotSchedule` topology spread
///   hold, and the volume of each PersistentVolumeClaim can be used on the new node;
/// - every node is either drained or kept with a reason, never both;
/// - per wave, no PodDisruptionBudget is spent beyond `disruptionsAllowed`, and no wave
///   touches more nodes than the threshold allows;
/// - the plan keeps at least as many nodes as its lower bound.
///
/// # Examples
/// ```
/// use compactor_core::{Snapshot, model::SnapshotSpec, plan::{plan, PlanOptions}, verify::verify};
/// let snap = Snapshot::new(SnapshotSpec::default()).unwrap();
/// let opts = PlanOptions::default();
/// assert!(verify(&snap, &plan(&snap, &opts).unwrap(), &opts).is_empty());
/// ```
///
/// # Complexity
/// O((N + P) · d + M log P) for M moves, plus O(M · P · t) for moved pods with t inter-pod
/// terms.
pub fn verify(snapshot: &Snapshot, plan: &Plan, options: &PlanOptions) -> Vec<String> {
    let mut errors = Vec::new();
    let nodes = snapshot.nodes();
    let dims = snapshot.dims();
    let d = dims.len();
    let cap = u128::from(options.safety.thresholds().max_utilization_percent);

    let drained: BTreeSet<&str> = plan.drain.iter().map(|x| x.node.as_str()).collect();
    let kept: BTreeSet<&str> = plan.kept.iter().map(|x| x.node.as_str()).collect();
    for node in nodes {
        let name = node.spec.name.as_str();
        match (drained.contains(name), kept.contains(name)) {
            (true, true) => errors.push(format!("node {name} is both drained and kept")),
            (false, false) => errors.push(format!("node {name} is neither drained nor kept")),
            _ => {}
        }
    }
    for k in &plan.kept {
        if k.reason.message.is_empty() {
            errors.push(format!("kept node {} has no reason", k.node));
        }
    }
    for name in drained.iter().chain(&kept) {
        if snapshot.node_index(name).is_none() {
            errors.push(format!("plan names unknown node {name}"));
        }
    }

    // Loads after the plan.
    let mut load: Vec<Vec<u128>> = vec![vec![0; d]; nodes.len()];
    let mut location: Vec<Option<usize>> = snapshot.pods().iter().map(|p| p.node).collect();
    let mut moved: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut receives = vec![false; nodes.len()];
    for m in &plan.moves {
        let key = (m.namespace.clone(), m.pod.clone());
        *moved.entry(key).or_insert(0) += 1;
        let Some(p) = snapshot.pod_index(&m.namespace, &m.pod) else {
            errors.push(format!("move of unknown pod {}/{}", m.namespace, m.pod));
            continue;
        };
        let (Some(from), Some(to)) = (
            snapshot.node_index(&m.from_node),
            snapshot.node_index(&m.to_node),
        ) else {
            errors.push(format!(
                "move of {}/{} names an unknown node",
                m.namespace, m.pod
            ));
            continue;
        };
        if snapshot.pods()[p].node != Some(from) {
            errors.push(format!(
                "pod {}/{} is not on node {}",
                m.namespace, m.pod, m.from_node
            ));
        }
        if !drained.contains(m.from_node.as_str()) {
            errors.push(format!(
                "pod {}/{} moves off node {}, which is not drained",
                m.namespace, m.pod, m.from_node
            ));
        }
        let target = &nodes[to].spec;
        // Excluded nodes are never drained, but kube-scheduler uses them like any other.
        if drained.contains(m.to_node.as_str()) || !target.ready || target.unschedulable {
            errors.push(format!(
                "pod {}/{} moves to node {}, which cannot receive pods",
                m.namespace, m.pod, m.to_node
            ));
        }
        for problem in constraint_problems(&snapshot.pods()[p].spec, target) {
            errors.push(format!(
                "pod {}/{} moves to node {}, which {problem}",
                m.namespace, m.pod, m.to_node
            ));
        }
        // Replayed in eviction order: the pod leaves, then is scheduled among the others.
        location[p] = None;
        for problem in interpod_problems(snapshot, &location, p, to) {
            errors.push(format!(
                "pod {}/{} moves to node {}, which {problem}",
                m.namespace, m.pod, m.to_node
            ));
        }
        location[p] = Some(to);
        receives[to] = true;
    }
    // Host ports: a moved pod may not share a port with any other pod on its new node.
    let mut moved_pods = vec![false; snapshot.pods().len()];
    for m in &plan.moves {
        if let Some(p) = snapshot.pod_index(&m.namespace, &m.pod) {
            moved_pods[p] = true;
        }
    }
    let mut ports_on: BTreeMap<usize, Vec<(usize, u16, String, String)>> = BTreeMap::new();
    for (p, pod) in snapshot.pods().iter().enumerate() {
        if pod.spec.phase.is_terminal() {
            continue;
        }
        if let Some(n) = location[p] {
            for hp in &pod.spec.host_ports {
                ports_on.entry(n).or_default().push((
                    p,
                    hp.port,
                    format!("{:?}", hp.protocol),
                    hp.host_ip.clone(),
                ));
            }
        }
    }
    for (n, ports) in &ports_on {
        for (x, a) in ports.iter().enumerate() {
            for b in &ports[x + 1..] {
                let any = |ip: &str| ip == "0.0.0.0" || ip.is_empty();
                let clash = a.0 != b.0
                    && a.1 == b.1
                    && a.2 == b.2
                    && (a.3 == b.3 || any(&a.3) || any(&b.3));
                if clash && (moved_pods[a.0] || moved_pods[b.0]) {
                    errors.push(format!(
                        "pods {} and {} both use host port {}/{} on node {} after the plan",
                        snapshot.pods()[a.0].spec.key(),
                        snapshot.pods()[b.0].spec.key(),
                        a.1,
                        a.2,
                        nodes[*n].spec.name
                    ));
                }
            }
        }
    }
    for ((ns, name), count) in &moved {
        if *count > 1 {
            errors.push(format!("pod {ns}/{name} is moved {count} times"));
        }
    }
    for (p, pod) in snapshot.pods().iter().enumerate() {
        if pod.spec.phase.is_terminal() {
            continue;
        }
        let daemon = pod
            .spec
            .owner
            .as_ref()
            .is_some_and(|o| o.kind == "DaemonSet");
        if let Some(n) = pod.node
            && drained.contains(nodes[n].spec.name.as_str())
        {
            if pod.spec.annotations.contains_key(MIRROR_ANNOTATION) {
                errors.push(format!(
                    "mirror pod {} is on drained node {}",
                    pod.spec.key(),
                    nodes[n].spec.name
                ));
            } else if !daemon && !pod.spec.terminating && location[p] == pod.node {
                errors.push(format!(
                    "pod {} stays on drained node {}",
                    pod.spec.key(),
                    nodes[n].spec.name
                ));
            }
        }
        if let Some(n) = location[p] {
            if daemon && drained.contains(nodes[n].spec.name.as_str()) {
                continue; // goes away with its node
            }
            for (l, r) in load[n].iter_mut().zip(&pod.request) {
                *l += u128::from(*r);
            }
        }
    }
    for (n, node) in nodes.iter().enumerate() {
        if drained.contains(node.spec.name.as_str()) {
            continue;
        }
        if !receives[n] {
            continue;
        }
        for (dim, used) in load[n].iter().enumerate() {
            let alloc = u128::from(node.allocatable[dim]);
            if *used > alloc {
                errors.push(format!(
                    "node {} exceeds allocatable {} after the plan",
                    node.spec.name,
                    dims.name(dim)
                ));
            }
            if dim <= crate::resources::Dimensions::EPHEMERAL_STORAGE && used * 100 > alloc * cap {
                errors.push(format!(
                    "node {} receives pods and ends at {:.1} % of allocatable {}, over the {cap} % cap",
                    node.spec.name,
                    *used as f64 * 100.0 / alloc.max(1) as f64,
                    dims.name(dim)
                ));
            }
        }
    }

    // Waves: PDB budgets and nodes per wave.
    let max_nodes = options.safety.thresholds().max_nodes_per_wave as usize;
    let mut per_wave: BTreeMap<u32, (BTreeSet<&str>, BTreeMap<usize, u32>)> = BTreeMap::new();
    for m in &plan.moves {
        let entry = per_wave.entry(m.wave).or_default();
        entry.0.insert(m.from_node.as_str());
        if let Some(p) = snapshot.pod_index(&m.namespace, &m.pod) {
            for b in &snapshot.pods()[p].pdbs {
                *entry.1.entry(*b).or_insert(0) += 1;
            }
        }
    }
    for (wave, (wave_nodes, spent)) in &per_wave {
        if wave_nodes.len() > max_nodes.max(1) {
            errors.push(format!(
                "wave {wave} touches {} nodes, more than {max_nodes}",
                wave_nodes.len()
            ));
        }
        for (b, count) in spent {
            let pdb = &snapshot.pdbs()[*b];
            if *count > pdb.disruptions_allowed {
                errors.push(format!(
                    "wave {wave} evicts {count} pods under PodDisruptionBudget {}, which allows {}",
                    pdb.key(),
                    pdb.disruptions_allowed
                ));
            }
        }
    }
    let kept_count = nodes.len() - drained.len().min(nodes.len());
    if (kept_count as u64) < u64::from(plan.lower_bound.nodes) {
        errors.push(format!(
            "plan keeps {kept_count} nodes, below its lower bound of {}",
            plan.lower_bound.nodes
        ));
    }
    errors
}

/// What `node` violates of `pod`'s taints, nodeSelector and required node affinity, each as
/// "does not …" words. Written independently of [`crate::constraints`] on purpose.
fn constraint_problems(pod: &PodSpec, node: &NodeSpec) -> Vec<String> {
    let mut problems = Vec::new();
    for taint in &node.taints {
        if taint.effect == TaintEffect::PreferNoSchedule {
            continue;
        }
        let taint_value = taint.value.clone().unwrap_or_default();
        let mut tolerated = false;
        for t in &pod.tolerations {
            let key = t.key.clone().unwrap_or_default();
            let effect_ok = match t.effect {
                None => true,
                Some(e) => e == taint.effect,
            };
            let key_ok = key.is_empty() || key == taint.key;
            let value_ok = match t.operator {
                TolerationOperator::Exists => true,
                TolerationOperator::Equal => {
                    key == taint.key && t.value.clone().unwrap_or_default() == taint_value
                }
            };
            if effect_ok && key_ok && value_ok {
                tolerated = true;
            }
        }
        if !tolerated {
            problems.push(format!(
                "has taint {} that the pod does not tolerate",
                taint.key
            ));
        }
    }
    for (key, value) in &pod.node_selector {
        if node.labels.get(key) != Some(value) {
            problems.push(format!("does not match node selector {key}={value}"));
        }
    }
    if !pod.required_node_affinity.is_empty()
        && !pod
            .required_node_affinity
            .iter()
            .any(|t| term_holds(t, node))
    {
        problems.push("matches no term of the pod's required node affinity".to_owned());
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
            problems.push(format!("cannot use the volume of claim {claim_name}"));
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
fn selects(selector: Option<&LabelSelector>, labels: &BTreeMap<String, String>) -> bool {
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
    snapshot: &Snapshot,
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
            let mut labels = snapshot
                .namespace_labels(&other.namespace)
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
fn interpod_problems(
    snapshot: &Snapshot,
    location: &[Option<usize>],
    p: usize,
    to: usize,
) -> Vec<String> {
    let nodes = snapshot.nodes();
    let pods = snapshot.pods();
    let pod = &pods[p].spec;
    let target = &nodes[to].spec;
    let mut problems = Vec::new();
    let placed = || {
        pods.iter()
            .enumerate()
            .filter_map(|(q, other)| location[q].map(|n| (q, other, &nodes[n].spec)))
            .filter(|(_, other, _)| !other.spec.phase.is_terminal())
    };
    // Topology spread (DoNotSchedule).
    let hard: Vec<_> = pod
        .topology_spread_constraints
        .iter()
        .filter(|c| c.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule)
        .collect();
    for c in &hard {
        let Some(value) = target.labels.get(&c.topology_key) else {
            problems.push(format!("lacks topology label {}", c.topology_key));
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
                    || constraint_problems(
                        &PodSpec {
                            tolerations: pod.tolerations.clone(),
                            ..Default::default()
                        },
                        node,
                    )
                    .is_empty())
        };
        let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
        for node in nodes.iter().map(|n| &n.spec).filter(|n| eligible(n)) {
            counts
                .entry(node.labels[&c.topology_key].as_str())
                .or_insert(0);
        }
        for (_, other, node) in placed() {
            // Terminating pods do not count for spreading (they do for affinity).
            if other.spec.namespace == pod.namespace
                && !other.spec.terminating
                && eligible(node)
                && selects(selector.as_ref(), &other.spec.labels)
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
            problems.push(format!(
                "breaks topology spread on {}={value}: skew {} > maxSkew {}",
                c.topology_key,
                here - min,
                c.max_skew
            ));
        }
    }
    // Required pod affinity: per term, a pod matching every term in the target's domain.
    if !pod.pod_affinity.is_empty() {
        let all_terms = |other: &PodSpec| {
            pod.pod_affinity
                .iter()
                .all(|t| term_selects(snapshot, t, &pod.namespace, other))
        };
        let mut missing = Vec::new();
        let mut anywhere = false;
        for t in &pod.pod_affinity {
            if !target.labels.contains_key(&t.topology_key) {
                problems.push(format!("lacks topology label {}", t.topology_key));
                continue;
            }
            let mut found = false;
            for (_, other, node) in placed() {
                if all_terms(&other.spec) && node.labels.contains_key(&t.topology_key) {
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
            problems.push(format!(
                "has no pod the pod's required affinity asks for on {}",
                missing.join(", ")
            ));
        }
    }
    // Required anti-affinity, the pod's own terms.
    for t in &pod.pod_anti_affinity {
        for (_, other, node) in placed() {
            if same_domain(node, target, &t.topology_key)
                && term_selects(snapshot, t, &pod.namespace, &other.spec)
            {
                problems.push(format!(
                    "shares {} with pod {}, which the pod's anti-affinity excludes",
                    t.topology_key,
                    other.spec.key()
                ));
            }
        }
    }
    // Required anti-affinity of the pods already there.
    for (_, other, node) in placed() {
        for t in &other.spec.pod_anti_affinity {
            if same_domain(node, target, &t.topology_key)
                && term_selects(snapshot, t, &other.spec.namespace, pod)
            {
                problems.push(format!(
                    "shares {} with pod {}, whose anti-affinity excludes the pod",
                    t.topology_key,
                    other.spec.key()
                ));
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
