//! Lower bounds on the number of nodes a cluster needs.

use crate::plan::LowerBound;
use crate::resources::Dimensions;
use crate::snapshot::Snapshot;

/// Per-dimension continuous bound with fixed nodes: nodes in `fixed` must stay; the remaining
/// demand of each dimension (requests of all bound, non-terminal pods that are not DaemonSet
/// pods, minus what the fixed nodes can hold) needs at least as many further nodes as the
/// smallest number of the largest remaining capacities that add up to it. A node's capacity
/// here is its allocatable less its own DaemonSet pods (they stay with the node and go away
/// with it). The bound is the fixed count plus the maximum over dimensions, and at least one
/// node while the cluster has any. It uses allocatable, not the safety cap, so it holds for
/// every threshold.
///
/// # Examples
/// ```
/// use compactor_core::{Snapshot, bounds::continuous, model::*, resources::ResourceList};
/// let node = |n: &str| NodeSpec { name: n.into(), allocatable: ResourceList::new().with("cpu", 1000).with("memory", 1 << 30), ready: true, ..Default::default() };
/// let pod = |n: &str, on: &str| PodSpec { namespace: "d".into(), name: n.into(), node_name: Some(on.into()),
///     containers: vec![ContainerSpec { name: "c".into(), requests: ResourceList::new().with("cpu", 600) }], ..Default::default() };
/// let snap = Snapshot::new(SnapshotSpec { nodes: vec![node("a"), node("b"), node("c")], pods: vec![pod("x", "a"), pod("y", "b")], pdbs: vec![] }).unwrap();
/// // 1200m of CPU needs two 1000m nodes.
/// assert_eq!(continuous(&snap, &[false; 3]).nodes, 2);
/// ```
///
/// # Complexity
/// O(P · d + d · N log N).
pub fn continuous(snapshot: &Snapshot, fixed: &[bool]) -> LowerBound {
    let dims = snapshot.dims();
    let d = dims.len();
    let mut demand = vec![0u128; d];
    let mut daemon = vec![0u64; snapshot.nodes().len() * d];
    for p in snapshot.pods() {
        let Some(n) = p.node.filter(|_| !p.spec.phase.is_terminal()) else {
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
            let capacity = n.allocatable[dim].saturating_sub(daemon[i * d + dim]);
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
