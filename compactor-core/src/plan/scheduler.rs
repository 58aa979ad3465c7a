//! The prediction of where kube-scheduler puts evicted pods.
//!
//! kube-scheduler filters nodes (here: resources within allocatable, node schedulable, and the
//! node-level constraints of [`crate::constraints`]: TaintToleration, NodeAffinity with
//! nodeSelector, NodePorts), and —
//! in clusters of 100 nodes or more — stops after finding `numFeasibleNodesToFind` feasible
//! nodes, starting where the previous pod's search stopped (adaptive
//! `percentageOfNodesToScore`: `max(5, 50 − nodes/125)` %, at least 100 nodes). It scores those
//! with NodeResourcesFit/LeastAllocated and NodeResourcesBalancedAllocation (weights 1 and 1)
//! and takes the best. We do the same in node-name order; where the real scheduler breaks
//! score ties at random, we take the first node found. TaintToleration's *score* (fewer
//! untolerated PreferNoSchedule taints is better) and NodeAffinity's preferred terms are not
//! scored yet, so predictions can differ where a cluster uses them.

use crate::constraints::{Violation, host_ports_free, node_allows};
use crate::model::HostPort;
use crate::plan::{Reason, ReasonCode};
use crate::resources::Dimensions;
use crate::snapshot::Snapshot;

/// Mutable simulation state: loads as the scheduler sees them.
#[derive(Debug, Clone)]
pub(crate) struct SchedulerSim<'a> {
    snap: &'a Snapshot,
    d: usize,
    /// Requests per node and dimension.
    load: Vec<u64>,
    /// CPU and memory requests as the scoring counts them (2 per node).
    scoring: Vec<u128>,
    /// Where the next search starts.
    next_start: usize,
    to_find: usize,
    /// Host ports in use per node.
    ports: Vec<Vec<HostPort>>,
}

/// How many feasible nodes kube-scheduler looks for before scoring (adaptive
/// `percentageOfNodesToScore`).
pub(crate) fn feasible_nodes_to_find(nodes: usize) -> usize {
    const MIN_FEASIBLE: usize = 100;
    if nodes < MIN_FEASIBLE {
        return nodes;
    }
    let percentage = 50usize.saturating_sub(nodes / 125).max(5);
    (nodes * percentage / 100).max(MIN_FEASIBLE)
}

impl<'a> SchedulerSim<'a> {
    /// Every pod where it is now.
    pub fn new(snap: &'a Snapshot) -> Self {
        let n = snap.nodes().len();
        let d = snap.dims().len();
        let mut load = Vec::with_capacity(n * d);
        for i in 0..n {
            load.extend_from_slice(snap.requested(i));
        }
        let mut scoring = vec![0u128; n * 2];
        let mut ports = vec![Vec::new(); n];
        for p in snap.pods() {
            if let (Some(i), false) = (p.node, p.spec.phase.is_terminal()) {
                scoring[i * 2] += u128::from(p.scoring[0]);
                scoring[i * 2 + 1] += u128::from(p.scoring[1]);
                ports[i].extend(p.spec.host_ports.iter().cloned());
            }
        }
        Self {
            snap,
            d,
            load,
            scoring,
            next_start: 0,
            to_find: feasible_nodes_to_find(n),
            ports,
        }
    }

    /// Predicts the node for `pod` among nodes for which `open(node)` holds, then checks the
    /// result against `limit` (the safety cap, per node and dimension). On success the pod is
    /// placed there.
    pub fn place(
        &mut self,
        pod: usize,
        open: impl Fn(usize) -> bool,
        limit: &[u64],
        cap: u8,
    ) -> Result<usize, Reason> {
        let p = &self.snap.pods()[pod];
        let n = self.snap.nodes().len();
        let [sc, sm] = p.scoring.map(u128::from);
        let mut best: Option<(i64, usize)> = None;
        let mut found = 0;
        let mut processed = 0;
        let mut rejected: Vec<(Violation, usize)> = Vec::new();
        for k in 0..n {
            if found == self.to_find {
                break;
            }
            processed += 1;
            let i = (self.next_start + k) % n;
            if !open(i) || !self.fits(i, &p.request) {
                continue;
            }
            if let Err(v) = node_allows(&p.spec, &self.snap.nodes()[i].spec)
                .and_then(|()| host_ports_free(&p.spec.host_ports, &self.ports[i]))
            {
                match rejected.iter_mut().find(|(w, _)| *w == v) {
                    Some(c) => c.1 += 1,
                    None => rejected.push((v, 1)),
                }
                continue;
            }
            found += 1;
            let alloc = &self.snap.nodes()[i].allocatable;
            let load = &self.load[i * self.d..(i + 1) * self.d];
            let least = (least_allocated(alloc[Dimensions::CPU], self.scoring[i * 2] + sc)
                + least_allocated(alloc[Dimensions::MEMORY], self.scoring[i * 2 + 1] + sm))
                / 2;
            let balanced = balanced_allocation(
                fraction(
                    load[Dimensions::CPU] + p.request[Dimensions::CPU],
                    alloc[Dimensions::CPU],
                ),
                fraction(
                    load[Dimensions::MEMORY] + p.request[Dimensions::MEMORY],
                    alloc[Dimensions::MEMORY],
                ),
            );
            let score = least + balanced;
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, i));
            }
        }
        if n > 0 {
            self.next_start = (self.next_start + processed) % n;
        }
        let Some((_, i)) = best else {
            rejected.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let message = match rejected.first() {
                Some((v, count)) => format!(
                    "kube-scheduler would find no node for pod {}: {count} node(s) with room fail its {}",
                    p.spec.key(),
                    v.describe()
                ),
                None => format!(
                    "kube-scheduler would find no node with room for pod {}",
                    p.spec.key()
                ),
            };
            return Err(Reason {
                code: ReasonCode::SchedulerOverCap,
                message,
            });
        };
        let load = &self.load[i * self.d..(i + 1) * self.d];
        let lim = &limit[i * self.d..(i + 1) * self.d];
        if let Some(dim) = (0..self.d).find(|&k| load[k] + p.request[k] > lim[k]) {
            let alloc = self.snap.nodes()[i].allocatable[dim];
            let pct = (load[dim] + p.request[dim]) as f64 * 100.0 / alloc as f64;
            return Err(Reason {
                code: ReasonCode::SchedulerOverCap,
                message: format!(
                    "kube-scheduler would place pod {} on node {}, taking its {} to {pct:.0} % of allocatable, over the {cap} % cap",
                    p.spec.key(),
                    self.snap.nodes()[i].spec.name,
                    self.snap.dims().name(dim),
                ),
            });
        }
        for (l, r) in self.load[i * self.d..(i + 1) * self.d]
            .iter_mut()
            .zip(&p.request)
        {
            *l += r;
        }
        self.scoring[i * 2] += sc;
        self.scoring[i * 2 + 1] += sm;
        self.ports[i].extend(p.spec.host_ports.iter().cloned());
        Ok(i)
    }

    fn fits(&self, i: usize, request: &[u64]) -> bool {
        let load = &self.load[i * self.d..(i + 1) * self.d];
        let alloc = &self.snap.nodes()[i].allocatable;
        request
            .iter()
            .zip(load)
            .zip(alloc)
            .all(|((r, l), a)| l.checked_add(*r).is_some_and(|t| t <= *a))
    }
}

/// NodeResourcesFit LeastAllocated score of one resource, 0–100 (integer, as the scheduler).
fn least_allocated(allocatable: u64, requested: u128) -> i64 {
    let allocatable = u128::from(allocatable);
    if allocatable == 0 || requested > allocatable {
        return 0;
    }
    ((allocatable - requested) * 100 / allocatable) as i64
}

fn fraction(requested: u64, allocatable: u64) -> f64 {
    if allocatable == 0 {
        1.0
    } else {
        (requested as f64 / allocatable as f64).min(1.0)
    }
}

/// NodeResourcesBalancedAllocation score over CPU and memory, 0–100.
fn balanced_allocation(cpu: f64, memory: f64) -> i64 {
    let std = (cpu - memory).abs() / 2.0;
    ((1.0 - std) * 100.0) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoring_matches_the_scheduler_formulas() {
        assert_eq!(least_allocated(4000, 1000), 75);
        assert_eq!(least_allocated(4000, 5000), 0);
        assert_eq!(least_allocated(0, 0), 0);
        assert_eq!(balanced_allocation(0.5, 0.5), 100);
        assert_eq!(balanced_allocation(1.0, 0.0), 50);
    }

    #[test]
    fn adaptive_percentage_of_nodes_to_score() {
        assert_eq!(feasible_nodes_to_find(10), 10);
        assert_eq!(feasible_nodes_to_find(99), 99);
        assert_eq!(feasible_nodes_to_find(100), 100); // 49 % of 100 is below the minimum
        assert_eq!(feasible_nodes_to_find(1000), 420); // 50 − 8 = 42 %
        assert_eq!(feasible_nodes_to_find(5000), 500); // 50 − 40 = 10 %
        assert_eq!(feasible_nodes_to_find(10_000), 500); // floor of 5 %
    }
}
