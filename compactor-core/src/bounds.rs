//! Lower bounds on the number of nodes a cluster needs.

use crate::plan::LowerBound;
use crate::resources::Dimensions;
use crate::snapshot::Snapshot;

/// Per-dimension continuous bound with fixed nodes: nodes in `fixed` must stay; the remaining
/// demand of each dimension (requests of all bound, non-terminal pods that are not DaemonSet
/// pods, minus what the fixed nodes can hold) needs at least as many further nodes as the
/// smallest number of the largest remaining capacities that add up to it. A node's capacity
/// here is its allocatable (or what its pods request now, if more: an over-committed node
/// keeps its pods) less its own DaemonSet pods (they stay with the node and go away with it). The bound is the fixed count plus the maximum over dimensions, and at least one
/// node while the cluster has any. It uses allocatable, not the safety cap, so it holds for
/// every threshold. A dimension whose demand exceeds every node's capacity together (an
/// over-committed cluster) is left out.
///
/// # Examples
/// ```
/// use compactor_core::{Snapshot, bounds::continuous, model::*, resources::ResourceList};
/// let node = |n: &str| NodeSpec { name: n.into(), allocatable: ResourceList::new().with("cpu", 1000).with("memory", 1 << 30), ready: true, ..Default::default() };
/// let pod = |n: &str, on: &str| PodSpec { namespace: "d".into(), name: n.into(), node_name: Some(on.into()),
///     containers: vec![ContainerSpec { name: "c".into(), requests: ResourceList::new().with("cpu", 600) }], ..Default::default() };
/// let snap = Snapshot::new(SnapshotSpec { nodes: vec![node("a"), node("b"), node("c")], pods: vec![pod("x", "a"), pod("y", "b")], pdbs: vec![], ..Default::default() }).unwrap();
/// // 1200m of CPU needs two 1000m nodes.
/// assert_eq!(continuous(&snap, &[false; 3]).nodes, 2);
/// ```
///
/// # Complexity
/// O(P · d + d · N log N).
pub fn continuous(snapshot: &Snapshot, fixed: &[bool]) -> LowerBound {
    continuous_with(snapshot, fixed, None)
}

/// [`continuous`] at the safety cap: in a valid plan a kept node that receives pods ends at
/// most at `cap_percent` of its allocatable in CPU, memory and ephemeral storage, and one
/// that receives none keeps what it has; so a node holds at most `max(cap · allocatable,
/// what it holds now)` there (allocatable in the other dimensions). The same fixed nodes,
/// DaemonSet and terminating pods as [`continuous`]. It is at least [`continuous`] on a
/// cluster whose nodes are within their allocatable.
///
/// # Examples
/// ```
/// use compactor_core::{Snapshot, bounds::{continuous, continuous_at_cap}, model::*, resources::ResourceList};
/// let node = |n: &str| NodeSpec { name: n.into(), allocatable: ResourceList::new().with("cpu", 1000).with("memory", 1 << 30), ready: true, ..Default::default() };
/// let pod = |n: &str, on: &str| PodSpec { namespace: "d".into(), name: n.into(), node_name: Some(on.into()),
///     containers: vec![ContainerSpec { name: "c".into(), requests: ResourceList::new().with("cpu", 300) }], ..Default::default() };
/// let snap = Snapshot::new(SnapshotSpec { nodes: vec![node("a"), node("b"), node("c")], pods: vec![pod("x", "a"), pod("y", "b"), pod("z", "c")], ..Default::default() }).unwrap();
/// // 900m fits one 1000m node, but not one node at 70 % (700m): two.
/// assert_eq!(continuous(&snap, &[false; 3]).nodes, 1);
/// assert_eq!(continuous_at_cap(&snap, &[false; 3], 70).nodes, 2);
/// ```
///
/// # Complexity
/// O(P · d + d · N log N).
pub fn continuous_at_cap(snapshot: &Snapshot, fixed: &[bool], cap_percent: u8) -> LowerBound {
    let mut bound = continuous_with(snapshot, fixed, Some(cap_percent));
    bound.method = format!(
        "continuous per dimension at the {cap_percent} % cap, nodes that cannot be drained fixed"
    );
    bound
}

fn continuous_with(snapshot: &Snapshot, fixed: &[bool], cap: Option<u8>) -> LowerBound {
    let dims = snapshot.dims();
    let d = dims.len();
    let mut demand = vec![0u128; d];
    let mut daemon = vec![0u64; snapshot.nodes().len() * d];
    for p in snapshot.pods() {
        // Terminal and terminating pods hold nothing once the plan is carried out.
        let Some(n) = p
            .node
            .filter(|_| !p.spec.phase.is_terminal() && !p.spec.terminating)
        else {
            continue;
        };
        if p.spec.owner.as_ref().is_some_and(|o| o.kind == "DaemonSet") {
            for (t, r) in daemon[n * d..(n + 1) * d].iter_mut().zip(&p.request) {
                *t = t.saturating_add(*r);
            }
        } else {
            for (t, r) in demand.iter_mut().zip(&p.request) {
                *t += u128::from(*r);
            }
        }
    }
    let fixed_count = fixed.iter().filter(|f| **f).count();
    let mut best = (0usize, Dimensions::CPU);
    for (dim, total) in demand.iter().enumerate() {
        let mut free: Vec<u64> = Vec::new();
        let mut remaining = *total;
        for (i, n) in snapshot.nodes().iter().enumerate() {
            let room = match cap {
                Some(cap) if Dimensions::is_capped(dim) => {
                    let capped =
                        u64::try_from(u128::from(n.allocatable[dim]) * u128::from(cap) / 100)
                            .unwrap_or(u64::MAX);
                    capped.max(snapshot.requested(i)[dim])
                }
                // An over-committed node holds what it holds now, whether it stays or not.
                _ => n.allocatable[dim].max(snapshot.requested(i)[dim]),
            };
            let capacity = room.saturating_sub(daemon[i * d + dim]);
            if fixed[i] {
                remaining = remaining.saturating_sub(u128::from(capacity));
            } else {
                free.push(capacity);
            }
        }
        free.sort_unstable_by(|a, b| b.cmp(a));
        let mut k = 0;
        let mut covered = 0u128;
        while covered < remaining && k < free.len() {
            covered += u128::from(free[k]);
            k += 1;
        }
        // Demand beyond what every node holds (allocatable shrank, an attach limit was
        // lowered): the cluster is over-committed there, and the dimension bounds nothing.
        if covered < remaining {
            continue;
        }
        if k > best.0 {
            best = (k, dim);
        }
    }
    let at_least_one = usize::from(!snapshot.nodes().is_empty());
    LowerBound {
        nodes: u32::try_from((fixed_count + best.0).max(at_least_one)).unwrap_or(u32::MAX),
        method: "continuous per dimension, nodes that cannot be drained fixed".to_owned(),
        binding_dimension: dims.name(best.1).to_owned(),
    }
}

/// Continuous bound for identical bins: `max_d ⌈Σ_i item_i[d] / capacity[d]⌉`.
///
/// # Examples
/// ```
/// assert_eq!(compactor_core::bounds::continuous_identical(&[vec![6, 1], vec![6, 1]], &[10, 10]), 2);
/// ```
///
/// # Complexity
/// O(n · d).
pub fn continuous_identical(items: &[Vec<u64>], capacity: &[u64]) -> usize {
    (0..capacity.len())
        .map(|k| {
            let total: u128 = items.iter().map(|i| u128::from(i[k])).sum();
            usize::try_from(total.div_ceil(u128::from(capacity[k].max(1)))).unwrap_or(usize::MAX)
        })
        .max()
        .unwrap_or(0)
}

/// Martello–Toth bound L2 for identical bins, taken per dimension (the best over dimensions).
///
/// For one dimension with capacity C and a threshold K ≤ C/2: items larger than C − K each
/// need their own bin (J1); items in (C/2, C − K] too, and no two share a bin (J2); items in
/// [K, C/2] (J3) fit only into the room J2 leaves or into further bins:
/// `L(K) = |J1| + |J2| + max(0, ⌈(Σ J3 − (|J2|·C − Σ J2)) / C⌉)`. L2 is the maximum over
/// K ∈ {0} ∪ {sizes ≤ C/2}. It is never below the continuous bound of that dimension.
///
/// # Examples
/// ```
/// // Three items of 6 in bins of 10: no two fit together, so three bins (continuous: 2).
/// assert_eq!(compactor_core::bounds::martello_toth_l2(&[vec![6], vec![6], vec![6]], &[10]), 3);
/// ```
///
/// # Complexity
/// O(d · n log n).
pub fn martello_toth_l2(items: &[Vec<u64>], capacity: &[u64]) -> usize {
    let mut best = 0;
    for (k, &c) in capacity.iter().enumerate() {
        let c = u128::from(c.max(1));
        let mut sizes: Vec<u128> = items.iter().map(|i| u128::from(i[k])).collect();
        sizes.sort_unstable();
        // prefix[i] = sum of the i smallest sizes
        let mut prefix = vec![0u128; sizes.len() + 1];
        for (i, s) in sizes.iter().enumerate() {
            prefix[i + 1] = prefix[i] + s;
        }
        let count_le = |x: u128| sizes.partition_point(|s| *s <= x);
        let count_lt = |x: u128| sizes.partition_point(|s| *s < x);
        let half = c / 2;
        let mut thresholds: Vec<u128> = sizes.iter().copied().filter(|s| *s <= half).collect();
        thresholds.push(0);
        thresholds.dedup();
        for kk in thresholds {
            let j1 = sizes.len() - count_le(c - kk); // s > C − K
            let j2_lo = count_le(half); // s > C/2
            let j2_hi = count_le(c - kk); // s ≤ C − K
            let j2 = j2_hi.saturating_sub(j2_lo);
            let sum_j2 = prefix[j2_hi] - prefix[j2_lo.min(j2_hi)];
            let j3_lo = count_lt(kk); // s ≥ K
            let sum_j3 = prefix[j2_lo] - prefix[j3_lo.min(j2_lo)];
            let room = (j2 as u128) * c - sum_j2;
            let extra = sum_j3.saturating_sub(room).div_ceil(c);
            let bound = j1 + j2 + usize::try_from(extra).unwrap_or(usize::MAX);
            best = best.max(bound);
        }
    }
    best.max(continuous_identical(items, capacity))
}

/// Conflict-clique bound: pods that share a required anti-affinity term on
/// `kubernetes.io/hostname` and are selected by it are pairwise in conflict, so no two of
/// them can end on one node. Pods are never moved onto a node holding one of them, and pods
/// that are not moved keep their nodes, so every plan keeps at least as many nodes as such a
/// set occupies now (distinct nodes; two already sharing a node may stay together).
///
/// Returns the largest such count with a description, or `None` when no pod has a hostname
/// anti-affinity term that selects another owner of it.
///
/// # Examples
/// ```
/// use compactor_core::{Snapshot, bounds::conflict_clique, model::*, resources::ResourceList};
/// let node = |n: &str| NodeSpec { name: n.into(), allocatable: ResourceList::new().with("cpu", 4000).with("memory", 1 << 34), ..Default::default() };
/// let web = |n: &str, on: &str| PodSpec { namespace: "shop".into(), name: n.into(), node_name: Some(on.into()),
///     labels: [("app".to_owned(), "web".to_owned())].into(),
///     pod_anti_affinity: vec![PodAffinityTerm { label_selector: Some(LabelSelector { match_labels: [("app".to_owned(), "web".to_owned())].into(), ..Default::default() }),
///         topology_key: "kubernetes.io/hostname".into(), ..Default::default() }],
///     ..Default::default() };
/// let snap = Snapshot::new(SnapshotSpec { nodes: vec![node("a"), node("b"), node("c")], pods: vec![web("w1", "a"), web("w2", "b"), web("w3", "c")], ..Default::default() }).unwrap();
/// assert_eq!(conflict_clique(&snap).unwrap().0, 3);
/// ```
///
/// # Complexity
/// O(P · t · log P) for t anti-affinity terms per pod.
pub fn conflict_clique(snapshot: &Snapshot) -> Option<(usize, String)> {
    use std::collections::{BTreeMap, BTreeSet};
    // Owners of each distinct (owner namespace, term).
    type Owners = BTreeMap<(String, String), (crate::model::PodAffinityTerm, Vec<usize>)>;
    let mut owners: Owners = BTreeMap::new();
    for (p, pod) in snapshot.pods().iter().enumerate() {
        // Terminating pods are going away: they are in no final placement.
        if pod.node.is_none() || pod.spec.phase.is_terminal() || pod.spec.terminating {
            continue;
        }
        for t in &pod.spec.pod_anti_affinity {
            if t.topology_key == crate::model::HOSTNAME_LABEL {
                owners
                    .entry((pod.spec.namespace.clone(), format!("{t:?}")))
                    .or_insert_with(|| (t.clone(), Vec::new()))
                    .1
                    .push(p);
            }
        }
    }
    let mut best: Option<(usize, String)> = None;
    let pods = snapshot.pods();
    for ((ns, _), (term, who)) in owners {
        // Owners this term selects (namespaces: listed, by selector, or the owner's own).
        let clause = crate::plan::interpod::Clause::of_term(&term, &ns);
        let selects = |q: usize| clause.matches(snapshot, &pods[q].spec);
        let clique: Vec<usize> = who.iter().copied().filter(|&q| selects(q)).collect();
        let nodes: BTreeSet<usize> = clique.iter().filter_map(|&q| pods[q].node).collect();
        if nodes.len() >= 2 && best.as_ref().is_none_or(|b| nodes.len() > b.0) {
            let workload = pods[clique[0]].spec.owner.as_ref().map_or_else(
                || pods[clique[0]].spec.key(),
                |o| format!("{ns}/{}", o.name),
            );
            best = Some((
                nodes.len(),
                format!(
                    "conflict clique: {} pods of {workload} on {} nodes are pairwise anti-affine on {}",
                    clique.len(),
                    nodes.len(),
                    crate::model::HOSTNAME_LABEL
                ),
            ));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l2_on_textbook_cases() {
        let one = |v: &[u64]| v.iter().map(|x| vec![*x]).collect::<Vec<_>>();
        // Sizes 60, 60, 60, 30, 30, 30 in bins of 100: continuous 3; L2 with K = 30 gives
        // |J2| = 3 (room 3 × 40 = 120 ≥ 90), so 3.
        assert_eq!(martello_toth_l2(&one(&[60, 60, 60, 30, 30, 30]), &[100]), 3);
        // 51 × 4 + 49 × 4 = 400 in bins of 100: continuous 4, L2 with K = 49: |J2| = 4,
        // room 4 × 49 = 196 ≥ 196 → 4.
        assert_eq!(
            martello_toth_l2(&one(&[51, 51, 51, 51, 49, 49, 49, 49]), &[100]),
            4
        );
        // 70 × 3 + 20 × 3: J1 with K = 20 → 3 big items alone; room 30 each fits the 20s → 3.
        assert_eq!(martello_toth_l2(&one(&[70, 70, 70, 20, 20, 20]), &[100]), 3);
        // 80 × 2 + 40 × 3 = 280: continuous 3; K = 40: J1 = {80, 80} (> 60), J3 = 40s (120),
        // no J2 → 2 + ⌈120 / 100⌉ = 4.
        assert_eq!(martello_toth_l2(&one(&[80, 80, 40, 40, 40]), &[100]), 4);
        assert_eq!(martello_toth_l2(&[], &[100]), 0);
    }

    /// An over-committed node that must stay holds its pods: the bound does not ask for a
    /// further node to take what is over its allocatable (fuzz find: kept 1, bound 2).
    #[test]
    fn an_over_committed_fixed_node_holds_its_pods() {
        use crate::model::{ContainerSpec, NodeSpec, PodSpec, SnapshotSpec};
        use crate::resources::ResourceList;
        let node = |n: &str, cpu| NodeSpec {
            name: n.into(),
            allocatable: ResourceList::new().with("cpu", cpu).with("memory", 1 << 30),
            ready: true,
            ..Default::default()
        };
        let pod = PodSpec {
            namespace: "d".into(),
            name: "p".into(),
            node_name: Some("small".into()),
            containers: vec![ContainerSpec {
                name: "c".into(),
                requests: ResourceList::new().with("cpu", 1000),
            }],
            ..Default::default()
        };
        let snap = Snapshot::new(SnapshotSpec {
            nodes: vec![node("big", 4000), node("small", 1)],
            pods: vec![pod],
            ..Default::default()
        })
        .unwrap();
        // "small" (index 1) is fixed: it alone holds the 1000m.
        assert_eq!(continuous(&snap, &[false, true]).nodes, 1);
        assert_eq!(continuous_at_cap(&snap, &[false, true], 70).nodes, 1);
        assert_eq!(continuous(&snap, &[false, false]).nodes, 1);
    }
}
