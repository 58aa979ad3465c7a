//! Choosing the drain set with the strategy's packing under the safety cap.
//!
//! The packing decides *whether* a node can be emptied; where pods really land is predicted
//! afterwards by [`super::scheduler`]. Pods the packing put on a node that later becomes a
//! candidate itself are packed again with that node's own pods (a packing position is not a
//! real placement, so moving it costs nothing).
//!
//! The fit test is the [`Bins`] residual (cap-limited capacity minus load), then the
//! node-level scheduling constraints of [`crate::constraints`] (taints and tolerations,
//! nodeSelector, required node affinity, host ports).
//!
//! Constraints without touching the strategies, exactly and deterministically:
//! - *Views.* Pods are grouped by their static constraints (tolerations, nodeSelector,
//!   required node affinity). For each group whose constraints exclude some node, the packer
//!   keeps a second [`Bins`] over just the nodes the group allows (node order preserved),
//!   updated together with the main one on every take, give-back, open and close. The
//!   strategy selects within the pod's view, so it picks exactly the bin it would pick among
//!   the allowed nodes. Cost: a view costs O(N · (check + d · log N)) once and
//!   O(d · log N) per update of each of its nodes; at most [`MAX_VIEWS`] views, after which
//!   further groups use the next mechanism on the main bins.
//! - *Close and retry* for what views cannot hold (host ports, which depend on what is packed
//!   where, and groups beyond [`MAX_VIEWS`]): when the chosen bin violates a constraint it is
//!   closed for the pod and the strategy asked again; the closed bins are then reopened with
//!   their exact residuals. O((r + 1) · (select + d · log N)) per pod for r rejected bins.
//! - *Reasons.* When a pod fits no allowed node, the main bins are searched (close and retry,
//!   at most [`REASON_SCAN`] rejections) for nodes with room that the constraints exclude, and
//!   the constraint excluding the most of them is named.

use crate::constraints::{
    Violation, host_ports_free, matches_node_affinity, matches_node_selector, node_allows,
    port_taken, ports_conflict, tolerates, volumes_allow,
};
use crate::model::HostPort;
use crate::packing::{Bins, Strategy, weighted_size};
use crate::plan::interpod::{Index, State};
use crate::plan::{Reason, ReasonCode};
use crate::resources::Dimensions;
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
    /// Host ports in use per node: `(pod, port)` of the pods bound there and packed there.
    ports: Vec<Vec<(usize, HostPort)>>,
    /// Views: bins over the nodes a group of pods allows, and their nodes (local → node).
    views: Vec<(Bins, Vec<usize>)>,
    /// Per node, `(view, local index)` of every view holding it.
    in_views: Vec<Vec<(usize, usize)>>,
    /// Views by the node set they hold (looked up only).
    view_of: crate::fasthash::FastMap<Vec<usize>, usize>,
    /// Which nodes can receive pods, and how many.
    receiver: Vec<bool>,
    receivers: usize,
    /// Pods grouped by static constraints, with each group's allowed nodes.
    statics: &'a StaticGroups,
    /// Per group, where its pods are packed (computed on first use).
    target: Vec<Option<Target>>,
    /// Inter-pod constraints: where the packing has every pod.
    inter: State<'a>,
    interpod: &'a Index,
    /// What the strategy prefers beyond fit.
    preference: Preference<'a>,
}

/// What a strategy prefers beyond fit: the node of a pod's partners.
pub(crate) enum Preference<'a> {
    /// Nothing: the strategy's rule alone.
    None,
    /// Traffic partners: [`TrafficGraph::partners`](crate::traffic::TrafficGraph::partners)
    /// (network-aware).
    Traffic(&'a crate::traffic::TrafficGraph),
    /// Inter-pod affinity partners (affinity-based).
    Affinity,
}

/// Where evicted pods may go: the receiving nodes, their per-dimension limits under the
/// safety cap (node-major), and the cap in percent (for messages).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Room<'r> {
    /// Nodes that can receive pods.
    pub receiver: &'r [bool],
    /// Limit per node and dimension.
    pub limit: &'r [u64],
    /// The cap, percent.
    pub cap: u8,
}

/// Partner nodes looked at, at most, before the strategy's own rule.
const PARTNER_NODES: usize = 16;

/// Traffic partners of a pod read, at most, to find their nodes (a pod of a workload of
/// 5,000 pods talking to itself has 4,999; the first 1,024 in pod order show where the
/// workload is, and reading them all for every pod would be quadratic).
pub(crate) const PARTNERS_READ: usize = 1024;

/// Views kept at most (each costs N bins and slows every update of its nodes).
pub(crate) const MAX_VIEWS: usize = 32;
/// Rejections searched at most to explain a pod that fits no allowed node.
pub(crate) const REASON_SCAN: usize = 8;
/// Nodes rejected at most by a pod's constraints before the pod counts as not fitting (a
/// conservative cut: the candidate is kept, never wrongly drained).
pub(crate) const MAX_REJECTIONS: usize = 256;

/// Pods grouped by their static constraints (tolerations, nodeSelector, required node
/// affinity, volume node affinity), with each group's allowed nodes computed once, on first
/// use. Group 0 has no constraint of its own (its pods still avoid tainted nodes). The packer builds its views from it and the
/// scheduler prediction filters with it, so `node_admits` runs once per group and node.
#[derive(Debug)]
pub(crate) struct StaticGroups {
    group: Vec<usize>,
    /// Per group, its component ids: tolerations, nodeSelector, node affinity, volumes.
    parts: Vec<[usize; 4]>,
    /// Per component kind and id: a pod that has it, and the nodes it allows.
    components: [Vec<(usize, std::cell::OnceCell<Vec<bool>>)>; 4],
    allowed: Vec<std::cell::OnceCell<Vec<bool>>>,
}

impl StaticGroups {
    /// Groups the pods of `snap`. Ids are given in pod order (the maps are only looked up).
    ///
    /// Each group is the combination of four components (tolerations, nodeSelector, required
    /// node affinity, volume node affinity); a component's allowed nodes are computed once and
    /// a group's are their intersection, so the label matching runs once per distinct
    /// component and node, not once per combination.
    ///
    /// # Complexity
    /// O(P · s) for static constraints of size s.
    pub fn new(snap: &Snapshot) -> Self {
        use crate::model::{NodeSelectorTerm, Toleration, VolumeSource};
        type Map<'s, K> = crate::fasthash::FastMap<K, usize>;
        let mut tolerations: Map<'_, &[Toleration]> = Map::default();
        let mut selectors: Map<'_, &std::collections::BTreeMap<String, String>> = Map::default();
        let mut affinities: Map<'_, &[NodeSelectorTerm]> = Map::default();
        let mut volumes: Map<'_, Vec<&[NodeSelectorTerm]>> = Map::default();
        let mut groups: Map<'_, [usize; 4]> = Map::default();
        let mut components: [Vec<(usize, std::cell::OnceCell<Vec<bool>>)>; 4] = Default::default();
        let mut parts: Vec<[usize; 4]> = Vec::new();
        let mut group = Vec::with_capacity(snap.pods().len());
        for (p, pod) in snap.pods().iter().enumerate() {
            let s = &pod.spec;
            let vols: Vec<&[NodeSelectorTerm]> = s
                .volumes
                .iter()
                .filter_map(|v| match &v.source {
                    VolumeSource::PersistentVolumeClaim { node_affinity, .. }
                        if !node_affinity.is_empty() =>
                    {
                        Some(node_affinity.as_slice())
                    }
                    _ => None,
                })
                .collect();
            let mut id = |kind: usize, next: usize, found: Option<usize>| match found {
                Some(i) => i,
                None => {
                    components[kind].push((p, Default::default()));
                    next
                }
            };
            let key = [
                {
                    let (next, found) = (
                        tolerations.len(),
                        tolerations.get(s.tolerations.as_slice()).copied(),
                    );
                    let i = id(0, next, found);
                    tolerations.entry(s.tolerations.as_slice()).or_insert(i);
                    i
                },
                {
                    let (next, found) = (selectors.len(), selectors.get(&s.node_selector).copied());
                    let i = id(1, next, found);
                    selectors.entry(&s.node_selector).or_insert(i);
                    i
                },
                {
                    let terms = s.required_node_affinity.as_slice();
                    let (next, found) = (affinities.len(), affinities.get(terms).copied());
                    let i = id(2, next, found);
                    affinities.entry(terms).or_insert(i);
                    i
                },
                {
                    let (next, found) = (volumes.len(), volumes.get(&vols).copied());
                    let i = id(3, next, found);
                    volumes.entry(vols).or_insert(i);
                    i
                },
            ];
            let next = groups.len();
            let g = *groups.entry(key).or_insert(next);
            if g == parts.len() {
                parts.push(key);
            }
            group.push(g);
        }
        Self {
            group,
            allowed: (0..parts.len().max(1))
                .map(|_| Default::default())
                .collect(),
            parts,
            components,
        }
    }

    /// Number of groups.
    pub fn count(&self) -> usize {
        self.allowed.len()
    }

    /// Pod `p`'s group.
    pub fn group(&self, p: usize) -> usize {
        self.group[p]
    }

    /// The nodes component `id` of `kind` allows.
    fn component(&self, snap: &Snapshot, kind: usize, id: usize) -> &[bool] {
        let (rep, cell) = &self.components[kind][id];
        cell.get_or_init(|| {
            let spec = &snap.pods()[*rep].spec;
            snap.nodes()
                .iter()
                .map(|node| {
                    let node = &node.spec;
                    match kind {
                        0 => tolerates(spec, &node.taints).is_ok(),
                        1 => matches_node_selector(&spec.node_selector, &node.labels).is_ok(),
                        2 => matches_node_affinity(&spec.required_node_affinity, node).is_ok(),
                        _ => volumes_allow(spec, node).is_ok(),
                    }
                })
                .collect()
        })
    }

    /// Whether pod `p`'s static constraints allow node `n` (as [`node_allows`], cached).
    pub fn allows(&self, snap: &Snapshot, p: usize, n: usize) -> bool {
        let g = self.group[p];
        self.allowed[g].get_or_init(|| {
            let mut all = vec![true; snap.nodes().len()];
            for (kind, &id) in self.parts[g].iter().enumerate() {
                for (a, ok) in all.iter_mut().zip(self.component(snap, kind, id)) {
                    *a &= *ok;
                }
            }
            all
        })[n]
    }
}

/// Where a group of pods is packed.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// The main bins; `check_static` when the group's static constraints must still be
    /// checked per bin (they exclude nodes, but no view was left for them).
    Main { check_static: bool },
    /// View number `v`, which holds only allowed nodes.
    View(usize),
}

/// Why no bin was selected: constraint violations among nodes with room (counted), and
/// whether the count stopped at [`REASON_SCAN`].
type Rejections = (Vec<(Violation, usize)>, bool);

impl<'a> Packer<'a> {
    /// Opens every receiver with `limit − load` as its residual.
    ///
    /// # Complexity
    /// O(N · d · log N).
    pub fn new(
        snap: &'a Snapshot,
        room: Room<'_>,
        weights: &'a [f64],
        strategy: &'static dyn Strategy,
        interpod: &'a Index,
        statics: &'a StaticGroups,
        preference: Preference<'a>,
    ) -> Self {
        let Room {
            receiver,
            limit,
            cap,
        } = room;
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
        let mut ports = vec![Vec::new(); n];
        for (p, pod) in snap.pods().iter().enumerate() {
            if let (Some(i), false) = (pod.node, pod.spec.phase.is_terminal()) {
                ports[i].extend(pod.spec.host_ports.iter().map(|h| (p, h.clone())));
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
            ports,
            views: Vec::new(),
            in_views: vec![Vec::new(); n],
            view_of: Default::default(),
            receiver: receiver.to_vec(),
            receivers: receiver.iter().filter(|r| **r).count(),
            target: vec![None; statics.count()],
            statics,
            inter: State::new(interpod, snap),
            interpod,
            preference,
        }
    }

    /// Where the packing has pod `p` now.
    pub fn location(&self, p: usize) -> Option<usize> {
        self.inter.location(p)
    }

    /// The node with room that the strategy's preference picks for pod `p`: among the nodes
    /// of its partners (at most [`PARTNER_NODES`], highest score first, then by index), the
    /// first that is open, has room and passes every constraint.
    ///
    /// # Complexity
    /// O(k log k + PARTNER_NODES · (d + t)) for k partners (at most [`PARTNERS_READ`]).
    fn preferred(&self, p: usize) -> Option<usize> {
        let mut scored: Vec<(f64, usize)> = match &self.preference {
            Preference::None => return None,
            Preference::Traffic(graph) => {
                let mut by_node: Vec<(usize, f64)> = graph
                    .partners(p)
                    .take(PARTNERS_READ)
                    .filter_map(|(q, w)| self.inter.location(q).map(|n| (n, w)))
                    .collect();
                by_node.sort_by_key(|x| x.0);
                let mut merged: Vec<(f64, usize)> = Vec::new();
                for (n, w) in by_node {
                    match merged.last_mut() {
                        Some(last) if last.1 == n => last.0 += w,
                        _ => merged.push((w, n)),
                    }
                }
                merged
            }
            Preference::Affinity => self
                .inter
                .affinity_nodes(p)
                .into_iter()
                .map(|n| (self.inter.affinity_score(p, n) as f64, n))
                .collect(),
        };
        scored.retain(|(w, _)| *w > 0.0);
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let snap = self.snap;
        let pod = &snap.pods()[p];
        scored
            .into_iter()
            .take(PARTNER_NODES)
            .map(|(_, n)| n)
            .find(|&n| {
                self.bins.fits(n, &pod.request)
                    && self.statics.allows(snap, p, n)
                    && free(snap, &self.ports, p, n).is_ok()
                    && self.inter.admits(p, n)
            })
    }

    /// Where pod `p`'s group is packed, creating its view on first use.
    fn target_of(&mut self, p: usize) -> Target {
        let g = self.statics.group(p);
        if let Some(t) = self.target[g] {
            return t;
        }
        // Only receivers can ever be open: the others need not be in a view.
        let allowed: Vec<usize> = (0..self.snap.nodes().len())
            .filter(|&i| self.receiver[i] && self.statics.allows(self.snap, p, i))
            .collect();
        let t = if allowed.len() == self.receivers {
            Target::Main {
                check_static: false,
            }
        } else if let Some(&v) = self.view_of.get(&allowed) {
            // Another group allows exactly these nodes (a zone by nodeSelector, by node
            // affinity or by a zonal volume): share its view.
            Target::View(v)
        } else if self.views.len() >= MAX_VIEWS {
            Target::Main { check_static: true }
        } else {
            let v = self.views.len();
            let mut bins = Bins::new(self.d, allowed.len(), self.weights.to_vec());
            for (local, &i) in allowed.iter().enumerate() {
                if self.bins.is_active(i) {
                    bins.open(local, self.bins.residual(i));
                }
                self.in_views[i].push((v, local));
            }
            self.view_of.insert(allowed.clone(), v);
            self.views.push((bins, allowed));
            Target::View(v)
        };
        self.target[g] = Some(t);
        t
    }

    /// Takes `item` into node `i`, in the main bins and every view.
    fn take(&mut self, i: usize, item: &[u64]) {
        self.bins.take(i, item);
        for &(v, local) in &self.in_views[i] {
            self.views[v].0.take(local, item);
        }
    }

    /// Gives `item` back to node `i`, in the main bins and every view.
    fn give_back(&mut self, i: usize, item: &[u64]) {
        self.bins.give_back(i, item);
        for &(v, local) in &self.in_views[i] {
            self.views[v].0.give_back(local, item);
        }
    }

    /// Closes node `i` everywhere.
    fn close(&mut self, i: usize) {
        self.bins.close(i);
        for &(v, local) in &self.in_views[i] {
            self.views[v].0.close(local);
        }
    }

    /// Opens node `i` everywhere with `residual`.
    fn open(&mut self, i: usize, residual: &[i128]) {
        self.bins.open(i, residual);
        for &(v, local) in &self.in_views[i] {
            self.views[v].0.open(local, residual);
        }
    }

    /// Asks the strategy for a bin of `bins` for pod `p`, closing and retrying the bins
    /// `admit` rejects (at most `limit` of them), then reopening them. Returns the bin (local
    /// index); when there is none, the violations `explain` gives for the rejected bins
    /// (words are built only then), with whether the limit stopped the search.
    fn select_in(
        strategy: &dyn Strategy,
        bins: &mut Bins,
        request: &[u64],
        limit: usize,
        mut admit: impl FnMut(usize) -> bool,
        mut explain: impl FnMut(usize) -> Option<Violation>,
    ) -> Result<usize, Rejections> {
        let mut rejected: Vec<(usize, Vec<i128>)> = Vec::new();
        let mut truncated = false;
        let chosen = loop {
            let Some(b) = strategy.select(bins, request) else {
                break None;
            };
            if admit(b) {
                break Some(b);
            }
            if rejected.len() == limit {
                truncated = true;
                break None;
            }
            rejected.push((b, bins.residual(b).to_vec()));
            bins.close(b);
        };
        let mut counts: Vec<(Violation, usize)> = Vec::new();
        for (b, residual) in rejected.into_iter().rev() {
            bins.open(b, &residual);
            if chosen.is_some() {
                continue;
            }
            if let Some(v) = explain(b) {
                match counts.iter_mut().find(|(w, _)| *w == v) {
                    Some(c) => c.1 += 1,
                    None => counts.push((v, 1)),
                }
            }
        }
        chosen.ok_or((counts, truncated))
    }

    /// The strategy's choice for pod `p` among the open bins that allow it; on `None`, the
    /// constraints that excluded nodes with room (empty when no node has room at all).
    fn select(&mut self, p: usize) -> Result<usize, Rejections> {
        let snap = self.snap;
        let request = &snap.pods()[p].request;
        let target = self.target_of(p);
        let dynamic = self.interpod.constrained(p);
        if dynamic && let Some(v) = self.inter.impossible(p) {
            return Err((vec![(v, 0)], false));
        }
        if let Some(b) = self.preferred(p) {
            return Ok(b);
        }
        let spec = &snap.pods()[p].spec;
        let ports = &self.ports;
        let inter = &self.inter;
        let statics = self.statics;
        let explain = |b: usize| {
            node_allows(spec, &snap.nodes()[b].spec)
                .and_then(|()| free(snap, ports, p, b))
                .and_then(|()| inter.allows(p, b))
                .err()
        };
        let chosen = match target {
            Target::Main { check_static } => {
                let admit = |b: usize| {
                    (!check_static || statics.allows(snap, p, b))
                        && free(snap, ports, p, b).is_ok()
                        && (!dynamic || inter.admits(p, b))
                };
                // On the main bins the rejections met are already every excluded node with room.
                return Self::select_in(
                    self.strategy,
                    &mut self.bins,
                    request,
                    MAX_REJECTIONS,
                    admit,
                    explain,
                );
            }
            Target::View(v) => {
                let (bins, nodes) = &mut self.views[v];
                let nodes: &[usize] = nodes;
                let admit = |b: usize| {
                    free(snap, ports, p, nodes[b]).is_ok()
                        && (!dynamic || inter.admits(p, nodes[b]))
                };
                Self::select_in(self.strategy, bins, request, MAX_REJECTIONS, admit, |_| {
                    None
                })
                .ok()
                .map(|b| nodes[b])
            }
        };
        if let Some(b) = chosen {
            return Ok(b);
        }
        // Explain: nodes with room that the constraints exclude.
        let admit = |b: usize| explain(b).is_none();
        Self::select_in(
            self.strategy,
            &mut self.bins,
            request,
            REASON_SCAN,
            admit,
            explain,
        )
    }

    fn add_ports(&mut self, p: usize, b: usize) {
        let ports = &self.snap.pods()[p].spec.host_ports;
        self.ports[b].extend(ports.iter().map(|h| (p, h.clone())));
    }

    fn remove_ports(&mut self, p: usize, b: usize) {
        if !self.snap.pods()[p].spec.host_ports.is_empty() {
            self.ports[b].retain(|(q, _)| *q != p);
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
            self.close(c);
        }
        let mut pods: Vec<usize> = own.iter().chain(&self.hosted[c]).copied().collect();
        let size = |p: &usize| weighted_size(&self.snap.pods()[*p].request, self.weights);
        pods.sort_by(|a, b| size(b).total_cmp(&size(a)).then(a.cmp(b)));
        for &p in &pods {
            self.inter.remove(p);
        }
        let mut placed: Vec<(usize, usize)> = Vec::with_capacity(pods.len());
        for &p in &pods {
            match self.select(p) {
                Ok(b) => {
                    self.take(b, &self.snap.pods()[p].request);
                    self.add_ports(p, b);
                    self.inter.place(p, b);
                    placed.push((p, b));
                }
                Err((rejected, truncated)) => {
                    let reason = if rejected.is_empty() {
                        self.shortfall(p)
                    } else {
                        self.constraint_failure(p, rejected, truncated)
                    };
                    for (p, b) in placed.into_iter().rev() {
                        self.give_back(b, &self.snap.pods()[p].request);
                        self.remove_ports(p, b);
                        self.inter.remove(p);
                    }
                    for &p in &pods {
                        self.inter.place(p, c);
                    }
                    if was_open {
                        self.open(c, &saved);
                    }
                    return Err(reason);
                }
            }
        }
        for p in std::mem::take(&mut self.hosted[c]) {
            self.remove_ports(p, c);
        }
        for (p, b) in placed {
            self.hosted[b].push(p);
        }
        Ok(())
    }

    /// The reason for a pod that fits some open nodes by resources but none by constraints:
    /// the constraint that excluded the most of those nodes (ties: the first in
    /// [`Violation`] order).
    fn constraint_failure(
        &self,
        pod: usize,
        mut rejected: Vec<(Violation, usize)>,
        truncated: bool,
    ) -> Reason {
        let key = self.snap.pods()[pod].spec.key();
        let total: usize = rejected.iter().map(|(_, c)| c).sum();
        rejected.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let (worst, count) = &rejected[0];
        let mut message = worst.no_node_message(&key);
        if *count == 0 {
            // From the per-domain check: every domain fails, whatever the room.
            message.push_str(" (in every topology domain)");
            return Reason {
                code: ReasonCode::NoFit,
                message,
            };
        }
        message.push_str(&format!(
            " ({count} of the {}{total} kept node{} with room",
            if truncated { "first " } else { "" },
            if total == 1 { "" } else { "s" }
        ));
        if rejected.len() > 1 {
            const LISTED: usize = 4;
            let mut others: Vec<String> = rejected[1..]
                .iter()
                .take(LISTED)
                .map(|(v, c)| format!("{} ({c})", v.describe()))
                .collect();
            if rejected.len() > LISTED + 1 {
                others.push(format!("{} more", rejected.len() - LISTED - 1));
            }
            message.push_str(&format!("; also excluded by {}", others.join(", ")));
        }
        message.push(')');
        Reason {
            code: ReasonCode::NoFit,
            message,
        }
    }

    /// Tries to empty node `c` by repacking every pod moved so far together with `c`'s pods
    /// (a consistent-neighbourhood search over the open nodes, at most `budget` moves).
    /// On failure nothing changes.
    ///
    /// # Complexity
    /// O(N + M + budget · 64 · k² · u² · d) for M moved pods, at most k per node and u pods
    /// to place (pairs among the heaviest 24).
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
        let mut origin: Vec<usize> = Vec::new();
        let mut members = vec![Vec::new(); nodes_of_bin.len()];
        for (b, &i) in nodes_of_bin.iter().enumerate() {
            for &p in &self.hosted[i] {
                members[b].push(pods.len());
                pods.push(p);
                origin.push(i);
            }
        }
        origin.resize(pods.len() + own.len() + self.hosted[c].len(), c);
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
        // The search knows resources only: reject an assignment that breaks a constraint.
        if !self.assignment_allowed(&pods, &nodes_of_bin, &assignment)
            || !self.inter_allowed(&pods, &origin, &nodes_of_bin, &assignment)
        {
            return false;
        }
        // Apply: take every moved pod out of its old node, then put it where the search did.
        for &i in &nodes_of_bin {
            for p in std::mem::take(&mut self.hosted[i]) {
                self.give_back(i, &self.snap.pods()[p].request);
            }
        }
        self.hosted[c].clear();
        if self.bins.is_active(c) {
            self.close(c);
        }
        for (k, &p) in pods.iter().enumerate() {
            let node = nodes_of_bin[assignment[k]];
            self.take(node, &self.snap.pods()[p].request);
            self.hosted[node].push(p);
        }
        self.rebuild_moved_ports();
        true
    }

    /// Whether putting `pods[k]` on `nodes_of_bin[assignment[k]]` passes every constraint,
    /// host ports counted against the pods bound to the node plus those assigned to it.
    fn assignment_allowed(
        &self,
        pods: &[usize],
        nodes_of_bin: &[usize],
        assignment: &[usize],
    ) -> bool {
        let mut used: Vec<Vec<HostPort>> = nodes_of_bin
            .iter()
            .map(|&i| {
                self.ports[i]
                    .iter()
                    .filter(|(q, _)| self.snap.pods()[*q].node == Some(i))
                    .map(|(_, h)| h.clone())
                    .collect()
            })
            .collect();
        for (k, &p) in pods.iter().enumerate() {
            let b = assignment[k];
            let spec = &self.snap.pods()[p].spec;
            if node_allows(spec, &self.snap.nodes()[nodes_of_bin[b]].spec).is_err()
                || host_ports_free(&spec.host_ports, &used[b]).is_err()
            {
                return false;
            }
            used[b].extend(spec.host_ports.iter().cloned());
        }
        true
    }

    /// Whether the inter-pod constraints accept the search's assignment, pods placed in
    /// order; on success the inter-pod state holds it, on failure it is unchanged.
    fn inter_allowed(
        &mut self,
        pods: &[usize],
        before: &[usize],
        nodes_of_bin: &[usize],
        assignment: &[usize],
    ) -> bool {
        if !pods.iter().any(|&p| self.interpod.constrained(p)) {
            // Nobody checks; keep the memberships right.
            for (k, &p) in pods.iter().enumerate() {
                self.inter.remove(p);
                self.inter.place(p, nodes_of_bin[assignment[k]]);
            }
            return true;
        }
        for &p in pods {
            self.inter.remove(p);
        }
        for (k, &p) in pods.iter().enumerate() {
            let node = nodes_of_bin[assignment[k]];
            if self.interpod.constrained(p) && self.inter.allows(p, node).is_err() {
                for &q in &pods[..k] {
                    self.inter.remove(q);
                }
                for (&q, &at) in pods.iter().zip(before) {
                    self.inter.place(q, at);
                }
                return false;
            }
            self.inter.place(p, node);
        }
        true
    }

    /// Recomputes the ports of packed pods from `hosted` (after a search moved them).
    fn rebuild_moved_ports(&mut self) {
        let snap = self.snap;
        for (i, ports) in self.ports.iter_mut().enumerate() {
            ports.retain(|(q, _)| snap.pods()[*q].node == Some(i));
        }
        for i in 0..self.hosted.len() {
            for k in 0..self.hosted[i].len() {
                let p = self.hosted[i][k];
                self.add_ports(p, i);
            }
        }
    }

    /// Explains why `pod` fits no open node, from the per-dimension maxima of the residuals.
    fn shortfall(&self, pod: usize) -> Reason {
        let p = &self.snap.pods()[pod];
        let dims = self.snap.dims();
        let key = p.spec.key();
        let message = if self.bins.active_count() == 0 {
            format!(
                "pod {key} has nowhere to go: every other node is drained, cordoned, not Ready or already over the cap"
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
                    .map(|&k| dims.amount(k, p.request[k]))
                    .collect();
                let names: Vec<String> = exhausted.iter().map(|&k| dims.label(k)).collect();
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
                        format!("{} more", dims.amount(k, missing))
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
                    .map(|k| dims.amount(k, p.request[k]))
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

/// Whether pod `p` may use its host ports on node `b`, given the ports in use.
fn free(
    snap: &Snapshot,
    ports: &[Vec<(usize, HostPort)>],
    p: usize,
    b: usize,
) -> Result<(), Violation> {
    match snap.pods()[p]
        .spec
        .host_ports
        .iter()
        .find(|w| ports[b].iter().any(|(_, u)| ports_conflict(w, u)))
    {
        Some(w) => Err(port_taken(w)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SnapshotSpec;
    use crate::packing::weights_for;

    /// a holds x (500m); b holds 1000m, c 100m (bare pods). x prefers the node of cache-0
    /// (on c) with weight 80 and talks with pin-c.
    fn snapshot() -> Snapshot {
        let spec: SnapshotSpec = serde_json::from_str(
            r#"{
              "nodes": [
                {"name": "a", "allocatable": {"cpu": "4", "memory": "16Gi"}},
                {"name": "b", "allocatable": {"cpu": "4", "memory": "16Gi"}},
                {"name": "c", "allocatable": {"cpu": "4", "memory": "16Gi"}}],
              "pods": [
                {"namespace": "shop", "name": "x", "nodeName": "a", "labels": {"app": "web"},
                 "owner": {"kind": "Deployment", "name": "web"},
                 "containers": [{"name": "app", "requests": {"cpu": "500m", "memory": "1Gi"}}],
                 "preferredPodAffinity": [{"weight": 80, "podAffinityTerm": {
                   "labelSelector": {"matchLabels": {"app": "cache"}},
                   "topologyKey": "kubernetes.io/hostname"}}]},
                {"namespace": "ops", "name": "pin-b", "nodeName": "b",
                 "containers": [{"name": "app", "requests": {"cpu": "1", "memory": "64Mi"}}]},
                {"namespace": "shop", "name": "cache-0", "nodeName": "c", "labels": {"app": "cache"},
                 "containers": [{"name": "app", "requests": {"cpu": "100m", "memory": "64Mi"}}]}]
            }"#,
        )
        .expect("spec");
        Snapshot::new(spec).expect("valid")
    }

    fn packed_at(snap: &Snapshot, preference: Preference) -> Option<usize> {
        let d = snap.dims().len();
        let mut limit = Vec::new();
        for node in snap.nodes() {
            limit.extend(node.allocatable.iter().map(|a| a * 7 / 10));
        }
        let weights = weights_for(&snap.nodes()[0].allocatable);
        let ix = Index::new(snap, |_| true);
        let statics = StaticGroups::new(snap);
        let mut packer = Packer::new(
            snap,
            Room {
                receiver: &[true; 3],
                limit: &limit,
                cap: 70,
            },
            &weights,
            crate::packing::StrategyKind::BestFit.strategy(),
            &ix,
            &statics,
            preference,
        );
        assert_eq!(limit.len(), 3 * d);
        let x = snap.pod_index("shop", "x").expect("x");
        packer.try_drain(0, &[x]).expect("a drains");
        packer.location(x)
    }

    #[test]
    fn best_fit_takes_the_tightest_node() {
        assert_eq!(packed_at(&snapshot(), Preference::None), Some(1));
    }

    #[test]
    fn affinity_based_follows_preferred_affinity() {
        assert_eq!(packed_at(&snapshot(), Preference::Affinity), Some(2));
    }

    #[test]
    fn network_aware_follows_traffic() {
        let snap = snapshot();
        let pin_b = snap.pod_index("ops", "pin-b").expect("pin-b");
        let x = snap.pod_index("shop", "x").expect("x");
        let n = snap.pods().len();
        let graph = |edges: &[(usize, usize, f64)]| {
            crate::traffic::TrafficGraph::from_edges(n, edges, 0.0).expect("graph")
        };
        // Best fit's b is also the partner's node: b.
        let g = graph(&[(x, pin_b, 5.0)]);
        assert_eq!(packed_at(&snap, Preference::Traffic(&g)), Some(1));
        let cache = snap.pod_index("shop", "cache-0").expect("cache");
        let g = graph(&[(cache, x, 5.0), (x, pin_b, 1.0)]);
        assert_eq!(packed_at(&snap, Preference::Traffic(&g)), Some(2));
    }
}
