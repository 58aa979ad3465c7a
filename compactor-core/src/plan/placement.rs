//! Placement of evicted pods onto kept nodes: the strategy's packing (under the safety cap)
//! and the prediction of kube-scheduler's choice (under allocatable, then checked against the
//! cap).
//!
//! The placement check is one function per rule ([`Cluster::strategy_fits`],
//! [`Cluster::scheduler_fits`]), so scheduler constraints (taints, affinity, spread) slot in as
//! further filters beside the resource test.

use crate::packing::{Strategy, fits};
use crate::plan::{Reason, ReasonCode};
use crate::resources::{Dimensions, human};
use crate::safety::Thresholds;
use crate::snapshot::Snapshot;

/// Per-plan constants.
pub(crate) struct Cluster<'a> {
    pub snap: &'a Snapshot,
    pub d: usize,
    /// Cap-limited capacity per node and dimension (row-major).
    pub limit: Vec<u64>,
    /// Whether a node may receive pods at all (Ready, schedulable, not excluded).
    pub receiver: Vec<bool>,
    /// Per-dimension normalisation weights.
    pub weights: Vec<f64>,
    pub strategy: &'static dyn Strategy,
    pub thresholds: Thresholds,
}

/// Mutable placement state.
#[derive(Clone)]
pub(crate) struct State {
    /// Loads as the strategy packs them.
    pub load: Vec<u64>,
    /// Loads as kube-scheduler is predicted to place the pods.
    pub sim_load: Vec<u64>,
    /// Non-zero-defaulted CPU and memory loads used by the scheduler's scoring (2 per node).
    pub sim_scoring: Vec<u128>,
    /// Nodes in the drain set.
    pub drained: Vec<bool>,
    /// Nodes that received a pod in either placement.
    pub received: Vec<bool>,
    /// `(pod, predicted node)` in eviction order.
    pub placed: Vec<(usize, usize)>,
    /// Strategy's node for each entry of `placed`.
    pub packed: Vec<usize>,
}

impl<'a> Cluster<'a> {
    pub fn row<'s>(&self, v: &'s [u64], n: usize) -> &'s [u64] {
        &v[n * self.d..(n + 1) * self.d]
    }

    /// The empty state: every pod where it is now.
    pub fn initial_state(&self) -> State {
        let n = self.snap.nodes().len();
        let mut load = Vec::with_capacity(n * self.d);
        let mut scoring = vec![0u128; n * 2];
        for i in 0..n {
            load.extend_from_slice(self.snap.requested(i));
        }
        for p in self.snap.pods() {
            if let (Some(i), false) = (p.node, p.spec.phase.is_terminal()) {
                scoring[i * 2] += u128::from(p.scoring[0]);
                scoring[i * 2 + 1] += u128::from(p.scoring[1]);
            }
        }
        State {
            sim_load: load.clone(),
            load,
            sim_scoring: scoring,
            drained: vec![false; n],
            received: vec![false; n],
            placed: Vec::new(),
            packed: Vec::new(),
        }
    }

    fn can_receive(&self, st: &State, n: usize) -> bool {
        self.receiver[n] && !st.drained[n]
    }

    /// The strategy's fit test: resources under the cap.
    pub fn strategy_fits(&self, st: &State, n: usize, request: &[u64]) -> bool {
        let load = self.row(&st.load, n);
        let limit = self.row(&self.limit, n);
        request
            .iter()
            .zip(load)
            .zip(limit)
            .all(|((r, l), lim)| l.checked_add(*r).is_some_and(|t| t <= *lim))
    }

    /// kube-scheduler's resource filter: requests within allocatable.
    pub fn scheduler_fits(&self, st: &State, n: usize, request: &[u64]) -> bool {
        let load = self.row(&st.sim_load, n);
        let alloc = &self.snap.nodes()[n].allocatable;
        request
            .iter()
            .zip(load)
            .zip(alloc)
            .all(|((r, l), a)| l.checked_add(*r).is_some_and(|t| t <= *a))
    }

    /// Places `pod` with the strategy; on failure explains what is short.
    pub fn place_by_strategy(&self, st: &mut State, pod: usize) -> Result<usize, Reason> {
        let request = &self.snap.pods()[pod].request;
        let mut residuals: Vec<(usize, Vec<u64>)> = Vec::new();
        for n in 0..self.snap.nodes().len() {
            if self.can_receive(st, n) && self.strategy_fits(st, n, request) {
                let residual = self
                    .row(&self.limit, n)
                    .iter()
                    .zip(self.row(&st.load, n))
                    .map(|(l, x)| l - x)
                    .collect();
                residuals.push((n, residual));
            }
        }
        let fitting: Vec<(usize, &[u64])> =
            residuals.iter().map(|(n, r)| (*n, r.as_slice())).collect();
        debug_assert!(fitting.iter().all(|(_, r)| fits(request, r)));
        let Some(n) = self.strategy.select(request, &fitting, &self.weights) else {
            return Err(self.shortfall(st, pod));
        };
        add(&mut st.load[n * self.d..(n + 1) * self.d], request);
        Ok(n)
    }

    /// Predicts kube-scheduler's node for `pod` (LeastAllocated + BalancedAllocation scoring,
    /// ties to the first node by name) and checks the result against the cap.
    pub fn place_by_scheduler(&self, st: &mut State, pod: usize) -> Result<usize, Reason> {
        let p = &self.snap.pods()[pod];
        let [sc, sm] = p.scoring.map(u128::from);
        let mut best: Option<(i64, usize)> = None;
        for n in 0..self.snap.nodes().len() {
            if !self.can_receive(st, n) || !self.scheduler_fits(st, n, &p.request) {
                continue;
            }
            let alloc = &self.snap.nodes()[n].allocatable;
            let least = (least_allocated(alloc[Dimensions::CPU], st.sim_scoring[n * 2] + sc)
                + least_allocated(alloc[Dimensions::MEMORY], st.sim_scoring[n * 2 + 1] + sm))
                / 2;
            let load = self.row(&st.sim_load, n);
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
                best = Some((score, n));
            }
        }
        let Some((_, n)) = best else {
            return Err(Reason {
                code: ReasonCode::SchedulerOverCap,
                message: format!(
                    "kube-scheduler would find no node with room for pod {}",
                    p.spec.key()
                ),
            });
        };
        let load = self.row(&st.sim_load, n);
        let limit = self.row(&self.limit, n);
        let alloc = &self.snap.nodes()[n].allocatable;
        if let Some(dim) = (0..self.d).find(|&i| load[i] + p.request[i] > limit[i]) {
            let pct = (load[dim] + p.request[dim]) as f64 * 100.0 / alloc[dim] as f64;
            return Err(Reason {
                code: ReasonCode::SchedulerOverCap,
                message: format!(
                    "kube-scheduler would place pod {} on node {}, taking its {} to {pct:.0} % of allocatable, over the {} % cap",
                    p.spec.key(),
                    self.snap.nodes()[n].spec.name,
                    self.snap.dims().name(dim),
                    self.thresholds.max_utilization_percent
                ),
            });
        }
        add(&mut st.sim_load[n * self.d..(n + 1) * self.d], &p.request);
        st.sim_scoring[n * 2] += sc;
        st.sim_scoring[n * 2 + 1] += sm;
        Ok(n)
    }

    /// Takes a placement back (both rules).
    pub fn unplace(&self, st: &mut State, pod: usize, packed: usize, predicted: usize) {
        let request = &self.snap.pods()[pod].request;
        sub(
            &mut st.load[packed * self.d..(packed + 1) * self.d],
            request,
        );
        sub(
            &mut st.sim_load[predicted * self.d..(predicted + 1) * self.d],
            request,
        );
        let [sc, sm] = self.snap.pods()[pod].scoring.map(u128::from);
        st.sim_scoring[predicted * 2] -= sc;
        st.sim_scoring[predicted * 2 + 1] -= sm;
    }

    /// "pod X needs 350m more CPU than the roomiest kept node (Y) has free under the 70 % cap".
    fn shortfall(&self, st: &State, pod: usize) -> Reason {
        let p = &self.snap.pods()[pod];
        let dims = self.snap.dims();
        let mut best: Option<(f64, f64, usize, Vec<u64>)> = None;
        for n in 0..self.snap.nodes().len() {
            if !self.can_receive(st, n) {
                continue;
            }
            let short: Vec<u64> = (0..self.d)
                .map(|i| {
                    (self.row(&st.load, n)[i].saturating_add(p.request[i]))
                        .saturating_sub(self.row(&self.limit, n)[i])
                })
                .collect();
            // Smallest shortfall first; among equals the node with the most free room.
            let size = crate::packing::weighted_size(&short, &self.weights);
            let room = self
                .row(&self.limit, n)
                .iter()
                .zip(self.row(&st.load, n))
                .map(|(l, x)| l.saturating_sub(*x));
            let room = -crate::packing::weighted_size(&room.collect::<Vec<_>>(), &self.weights);
            if best
                .as_ref()
                .is_none_or(|(s, r, _, _)| (size, room) < (*s, *r))
            {
                best = Some((size, room, n, short));
            }
        }
        // A resource the pod requests of which no receiver has any left is the real obstacle
        // (typically a device such as a GPU): name it alone.
        let exhausted: Vec<usize> = (0..self.d)
            .filter(|&i| {
                p.request[i] > 0
                    && (0..self.snap.nodes().len())
                        .filter(|&n| self.can_receive(st, n))
                        .all(|n| self.row(&st.load, n)[i] >= self.row(&self.limit, n)[i])
            })
            .collect();
        if best.is_some() && !exhausted.is_empty() {
            let parts: Vec<String> = exhausted
                .iter()
                .map(|&i| format!("{} {}", human(dims.name(i), p.request[i]), dims.name(i)))
                .collect();
            let names: Vec<&str> = exhausted.iter().map(|&i| dims.name(i)).collect();
            return Reason {
                code: ReasonCode::NoFit,
                message: format!(
                    "pod {} requests {} and no kept node has any {} free",
                    p.spec.key(),
                    parts.join(" and "),
                    names.join(" or ")
                ),
            };
        }
        let message = match best {
            None => format!(
                "pod {} has nowhere to go: every other node is drained, cordoned, not Ready or excluded",
                p.spec.key()
            ),
            Some((_, _, n, short)) => {
                let parts: Vec<String> = short
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| **s > 0)
                    .map(|(i, s)| format!("{} more {}", human(dims.name(i), *s), dims.name(i)))
                    .collect();
                let capped = short
                    .iter()
                    .enumerate()
                    .any(|(i, s)| *s > 0 && Dimensions::is_capped(i));
                format!(
                    "pod {} needs {} than the roomiest kept node ({}) has free{}",
                    p.spec.key(),
                    parts.join(" and "),
                    self.snap.nodes()[n].spec.name,
                    if capped {
                        format!(
                            " under the {} % cap",
                            self.thresholds.max_utilization_percent
                        )
                    } else {
                        String::new()
                    }
                )
            }
        };
        Reason {
            code: ReasonCode::NoFit,
            message,
        }
    }
}

fn add(row: &mut [u64], v: &[u64]) {
    for (r, x) in row.iter_mut().zip(v) {
        *r += x;
    }
}

fn sub(row: &mut [u64], v: &[u64]) {
    for (r, x) in row.iter_mut().zip(v) {
        *r -= x;
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
}
