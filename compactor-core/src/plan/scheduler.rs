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
//! score ties at random, we take the first node found. Inter-pod affinity, anti-affinity and
//! topology spread (`DoNotSchedule`) filter through [`super::interpod`]. When preferences
//! exist, TaintToleration (PreferNoSchedule, weight 3), NodeAffinity's preferred terms
//! (weight 2) and InterPodAffinity's preferred terms (weight 2) are added to the score with
//! the scheduler's normalisations, and so is PodTopologySpread's for `ScheduleAnyway`
//! constraints (weight 2, simplified: fewer matching pods in the domain is better); the
//! default system spreading and ImageLocality are not scored, so predictions can differ there.

use crate::constraints::{
    Violation, host_ports_free, node_allows, term_matches, toleration_matches,
};
use crate::model::{HostPort, TaintEffect};
use crate::plan::interpod::{Index, State};
use crate::plan::placement::StaticGroups;
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
    /// Inter-pod constraints and preferences.
    inter: State<'a>,
    interpod: &'a Index,
    /// Static constraints, cached per group of pods.
    statics: &'a StaticGroups,
    /// Whether some node has a PreferNoSchedule taint (TaintToleration scoring matters).
    prefer_no_schedule: bool,
}

/// Plugin weights of kube-scheduler's default profile.
const TAINT_TOLERATION_WEIGHT: i64 = 3;
const NODE_AFFINITY_WEIGHT: i64 = 2;
const INTER_POD_AFFINITY_WEIGHT: i64 = 2;
const POD_TOPOLOGY_SPREAD_WEIGHT: i64 = 2;

/// A feasible node with its resource score and the raw scores normalised across nodes.
struct Scored {
    node: usize,
    resources: i64,
    untolerated: i64,
    affinity: i64,
    inter: i64,
    spread: i64,
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
    pub fn new(snap: &'a Snapshot, interpod: &'a Index, statics: &'a StaticGroups) -> Self {
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
            inter: State::new(interpod, snap),
            interpod,
            statics,
            prefer_no_schedule: snap.nodes().iter().any(|node| {
                node.spec
                    .taints
                    .iter()
                    .any(|t| t.effect == TaintEffect::PreferNoSchedule)
            }),
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
        // The pod leaves its node before its replacement is scheduled.
        self.inter.remove(pod);
        let dynamic = self.interpod.constrained(pod);
        let preferences = !p.spec.preferred_node_affinity.is_empty()
            || self.interpod.has_preferences(pod)
            || self.prefer_no_schedule;
        let mut scored: Vec<Scored> = Vec::new();
        let mut best: Option<(i64, usize)> = None;
        let mut found = 0;
        let mut processed = 0;
        // Nodes with room that a constraint rejects; explained only if no node is found.
        let mut rejected_nodes: Vec<usize> = Vec::new();
        for k in 0..n {
            if found == self.to_find {
                break;
            }
            processed += 1;
            let i = (self.next_start + k) % n;
            if !open(i) || !self.fits(i, &p.request) {
                continue;
            }
            if !self.statics.allows(self.snap, pod, i)
                || host_ports_free(&p.spec.host_ports, &self.ports[i]).is_err()
                || (dynamic && !self.inter.admits(pod, i))
            {
                rejected_nodes.push(i);
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
            if preferences {
                let node = &self.snap.nodes()[i].spec;
                scored.push(Scored {
                    node: i,
                    resources: score,
                    untolerated: node
                        .taints
                        .iter()
                        .filter(|t| {
                            t.effect == TaintEffect::PreferNoSchedule
                                && !p
                                    .spec
                                    .tolerations
                                    .iter()
                                    .any(|tol| toleration_matches(tol, t))
                        })
                        .count() as i64,
                    affinity: p
                        .spec
                        .preferred_node_affinity
                        .iter()
                        .filter(|t| term_matches(&t.preference, node))
                        .map(|t| i64::from(t.weight))
                        .sum(),
                    inter: self.inter.preference(pod, i),
                    spread: self.inter.spread_score(pod, i),
                });
            } else if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, i));
            }
        }
        if preferences {
            best = best_with_preferences(&scored);
        }
        if n > 0 {
            self.next_start = (self.next_start + processed) % n;
        }
        let Some((_, i)) = best else {
            let mut rejected: Vec<(Violation, usize)> = Vec::new();
            for i in rejected_nodes {
                let v = node_allows(&p.spec, &self.snap.nodes()[i].spec)
                    .and_then(|()| host_ports_free(&p.spec.host_ports, &self.ports[i]))
                    .and_then(|()| self.inter.allows(pod, i));
                if let Err(v) = v {
                    match rejected.iter_mut().find(|(w, _)| *w == v) {
                        Some(c) => c.1 += 1,
                        None => rejected.push((v, 1)),
                    }
                }
            }
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
        self.inter.place(pod, i);
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

/// The best node once TaintToleration (fewest untolerated PreferNoSchedule taints,
/// reversed max-normalised), NodeAffinity (preferred term weights, max-normalised) and
/// InterPodAffinity (preferred term weights, min-max-normalised) and PodTopologySpread
/// (`ScheduleAnyway` constraints: fewer matching pods in the node's domain is better,
/// reversed min-max-normalised; a simplification of the scheduler's weighting by domain
/// count) are added with their default weights; the first node found wins ties.
fn best_with_preferences(scored: &[Scored]) -> Option<(i64, usize)> {
    let max_untolerated = scored.iter().map(|s| s.untolerated).max().unwrap_or(0);
    let max_affinity = scored.iter().map(|s| s.affinity).max().unwrap_or(0);
    let min_inter = scored.iter().map(|s| s.inter).min().unwrap_or(0);
    let max_inter = scored.iter().map(|s| s.inter).max().unwrap_or(0);
    let min_spread = scored.iter().map(|s| s.spread).min().unwrap_or(0);
    let max_spread = scored.iter().map(|s| s.spread).max().unwrap_or(0);
    let mut best: Option<(i64, usize)> = None;
    for s in scored {
        let taint = if max_untolerated == 0 {
            100
        } else {
            100 - s.untolerated * 100 / max_untolerated
        };
        let affinity = if max_affinity <= 0 {
            0
        } else {
            s.affinity * 100 / max_affinity
        };
        let inter = if max_inter > min_inter {
            (s.inter - min_inter) * 100 / (max_inter - min_inter)
        } else {
            0
        };
        let spread = if max_spread > min_spread {
            (max_spread - s.spread) * 100 / (max_spread - min_spread)
        } else {
            100
        };
        let score = s.resources
            + TAINT_TOLERATION_WEIGHT * taint
            + NODE_AFFINITY_WEIGHT * affinity
            + INTER_POD_AFFINITY_WEIGHT * inter
            + POD_TOPOLOGY_SPREAD_WEIGHT * spread;
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, s.node));
        }
    }
    best
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
