//! Choosing the drain set with the strategy's packing under the safety cap.
//!
//! The packing decides *whether* a node can be emptied; where pods really land is predicted
//! afterwards by [`super::scheduler`]. Pods the packing put on a node that later becomes a
//! candidate itself are packed again with that node's own pods (a packing position is not a
//! real placement, so moving it costs nothing).
//!
//! The fit test is the [`Bins`] residual (cap-limited capacity minus load); scheduler
//! constraints (taints, affinity, spread) will slot in as further filters on the same bins.

use crate::packing::{Bins, Strategy, weighted_size};
use crate::plan::{Reason, ReasonCode};
use crate::resources::{Dimensions, human};
use crate::snapshot::Snapshot;

/// The strategy's packing of evicted pods onto the kept nodes.
pub(crate) struct Packer<'a> {
    snap: &'a Snapshot,
    d: usize,
    weights: &'a [f64],
    strategy: &'static dyn Strategy,
    cap: u8,
    bins: Bins,
    /// Pods the packing put on each node.
    hosted: Vec<Vec<usize>>,
}

impl<'a> Packer<'a> {
    /// Opens every receiver with `limit − load` as its residual.
    ///
    /// # Complexity
    /// O(N · d · log N).
    pub fn new(
        snap: &'a Snapshot,
        receiver: &[bool],
        limit: &[u64],
        weights: &'a [f64],
        strategy: &'static dyn Strategy,
        cap: u8,
    ) -> Self {
        let n = snap.nodes().len();
        let d = snap.dims().len();
        let mut bins = Bins::new(d, n, weights.to_vec());
        let mut residual = vec![0i128; d];
        for (i, open) in receiver.iter().enumerate() {
            if *open {
                for (k, r) in residual.iter_mut().enumerate() {
                    *r = i128::from(limit[i * d + k]) - i128::from(snap.requested(i)[k]);
                }
                bins.open(i, &residual);
            }
        }
        Self {
            snap,
            d,
            weights,
            strategy,
            cap,
            bins,
            hosted: vec![Vec::new(); n],
        }
    }

    /// Tries to empty node `c`: packs its movable pods `own` and the pods packed onto it so far
    /// onto the other open nodes. On failure nothing changes and the reason names the first
    /// pod that did not fit and what is short.
    ///
    /// # Complexity
    /// O(m · (log N + d · log N)) for m pods when the indexes prune well.
    pub fn try_drain(&mut self, c: usize, own: &[usize]) -> Result<(), Reason> {
        let was_open = self.bins.is_active(c);
        let saved: Vec<i128> = self.bins.residual(c).to_vec();
        if was_open {
            self.bins.close(c);
        }
        let mut pods: Vec<usize> = own.iter().chain(&self.hosted[c]).copied().collect();
        let size = |p: &usize| weighted_size(&self.snap.pods()[*p].request, self.weights);
        pods.sort_by(|a, b| size(b).total_cmp(&size(a)).then(a.cmp(b)));
        let mut placed: Vec<(usize, usize)> = Vec::with_capacity(pods.len());
        for &p in &pods {
            let request = &self.snap.pods()[p].request;
            match self.strategy.select(&self.bins, request) {
                Some(b) => {
                    self.bins.take(b, request);
                    placed.push((p, b));
                }
                None => {
                    let reason = self.shortfall(p);
                    for (p, b) in placed.into_iter().rev() {
                        self.bins.give_back(b, &self.snap.pods()[p].request);
                    }
                    if was_open {
                        self.bins.open(c, &saved);
                    }
                    return Err(reason);
                }
            }
        }
        self.hosted[c].clear();
        for (p, b) in placed {
            self.hosted[b].push(p);
        }
        Ok(())
    }

    /// Tries to empty node `c` by repacking every pod moved so far together with `c`'s pods
    /// (a consistent-neighbourhood search over the open nodes, at most `budget` moves).
    /// On failure nothing changes.
    ///
    /// # Complexity
    /// O(N + M + budget · 256 · k² · d) for M moved pods and at most k per node.
    pub fn try_drain_by_search(&mut self, c: usize, own: &[usize], seed: u64, budget: u64) -> bool {
        let n = self.snap.nodes().len();
        // Bins: open nodes other than c, with their room before any moved pod.
        let mut nodes_of_bin = Vec::new();
        let mut capacity = Vec::new();
        for i in (0..n).filter(|&i| i != c && self.bins.is_active(i)) {
            let mut room = self.bins.residual(i).to_vec();
            for &p in &self.hosted[i] {
                for (r, x) in room.iter_mut().zip(&self.snap.pods()[p].request) {
                    *r += i128::from(*x);
                }
            }
            if room.iter().all(|r| *r >= 0) {
                nodes_of_bin.push(i);
                capacity.push(
                    room.iter()
                        .map(|r| u64::try_from(*r).unwrap_or(u64::MAX))
                        .collect(),
                );
            }
        }
        let mut pods: Vec<usize> = Vec::new();
        let mut members = vec![Vec::new(); nodes_of_bin.len()];
        for (b, &i) in nodes_of_bin.iter().enumerate() {
            for &p in &self.hosted[i] {
                members[b].push(pods.len());
                pods.push(p);
            }
        }
        let unassigned: Vec<usize> =
            (pods.len()..pods.len() + own.len() + self.hosted[c].len()).collect();
        pods.extend(own.iter().chain(&self.hosted[c]));
        let items: Vec<&[u64]> = pods
            .iter()
            .map(|p| self.snap.pods()[*p].request.as_slice())
            .collect();
        let Some(assignment) = crate::packing::repair(
            items,
            capacity,
            members,
            unassigned,
            self.weights,
            seed,
            budget,
        ) else {
            return false;
        };
        // Apply: take every moved pod out of its old node, then put it where the search did.
        for &i in &nodes_of_bin {
            for p in std::mem::take(&mut self.hosted[i]) {
                self.bins.give_back(i, &self.snap.pods()[p].request);
            }
        }
        self.hosted[c].clear();
        if self.bins.is_active(c) {
            self.bins.close(c);
        }
        for (k, &p) in pods.iter().enumerate() {
            let node = nodes_of_bin[assignment[k]];
            self.bins.take(node, &self.snap.pods()[p].request);
            self.hosted[node].push(p);
        }
        true
    }

    /// Explains why `pod` fits no open node, from the per-dimension maxima of the residuals.
    fn shortfall(&self, pod: usize) -> Reason {
        let p = &self.snap.pods()[pod];
        let dims = self.snap.dims();
        let key = p.spec.key();
        let message = if self.bins.active_count() == 0 {
            format!(
                "pod {key} has nowhere to go: every other node is drained, cordoned, not Ready or excluded"
            )
        } else {
            let max: Vec<(i128, usize)> = (0..self.d)
                .map(|k| self.bins.max_residual(k).unwrap_or((0, 0)))
                .collect();
            let exhausted: Vec<usize> = (0..self.d)
                .filter(|&k| p.request[k] > 0 && max[k].0 <= 0)
                .collect();
            let short: Vec<usize> = (0..self.d)
                .filter(|&k| i128::from(p.request[k]) > max[k].0)
                .collect();
            let under_cap = |dims_short: &[usize]| {
                if dims_short.iter().any(|k| Dimensions::is_capped(*k)) {
                    format!(" under the {} % cap", self.cap)
                } else {
                    String::new()
                }
            };
            if !exhausted.is_empty() {
                let asked: Vec<String> = exhausted
                    .iter()
                    .map(|&k| format!("{} {}", human(dims.name(k), p.request[k]), dims.name(k)))
                    .collect();
                let names: Vec<&str> = exhausted.iter().map(|&k| dims.name(k)).collect();
                format!(
                    "pod {key} requests {} and no kept node has any {} free{}",
                    asked.join(" and "),
                    names.join(" or "),
                    under_cap(&exhausted)
                )
            } else if !short.is_empty() {
                let parts: Vec<String> = short
                    .iter()
                    .map(|&k| {
                        let missing =
                            u64::try_from(i128::from(p.request[k]) - max[k].0).unwrap_or(u64::MAX);
                        format!("{} more {}", human(dims.name(k), missing), dims.name(k))
                    })
                    .collect();
                let node = max[short[0]].1;
                let where_ = if short.iter().all(|&k| max[k].1 == node) {
                    format!(
                        "the roomiest kept node ({})",
                        self.snap.nodes()[node].spec.name
                    )
                } else {
                    "any kept node".to_owned()
                };
                format!(
                    "pod {key} needs {} than {where_} has free{}",
                    parts.join(" and "),
                    under_cap(&short)
                )
            } else {
                let asked: Vec<String> = (0..self.d)
                    .filter(|&k| p.request[k] > 0 && k != Dimensions::PODS)
                    .map(|k| format!("{} {}", human(dims.name(k), p.request[k]), dims.name(k)))
                    .collect();
                format!(
                    "pod {key} needs {} at once, and no kept node has all of it free under the {} % cap",
                    asked.join(" and "),
                    self.cap
                )
            }
        };
        Reason {
            code: ReasonCode::NoFit,
            message,
        }
    }
}
