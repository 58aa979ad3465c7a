//! Traffic between pods, for the network-aware strategy: input format, the traffic graph, its
//! groups, and a pure packing over identical bins that keeps chatty pods together.
//!
//! # Model
//!
//! - **Input** ([`TrafficSpec`]): directed edges of bytes per second between endpoints; an
//!   endpoint is a pod (`namespace/name`) or a workload (`namespace/Kind/name`). A workload is
//!   matched against [`PodSpec::owner`](crate::model::PodSpec::owner): every pod in
//!   `namespace` whose owner has exactly that `kind` and `name` (case-sensitive; kubectl dumps
//!   already report a Deployment's ReplicaSet pods as the Deployment's). Traffic of a pod with
//!   itself is dropped everywhere: it never crosses a node.
//! - **Edges** ([`TrafficGraph::edges`]): input edges with a pod at both ends, summed per
//!   ordered pair `(from, to)`, sorted by `(from, to)`.
//! - **Bundles** ([`TrafficGraph::bundles`]): input edges with a workload at either end, summed
//!   per pair of ends. A bundle's rate is spread evenly over the ordered pairs of distinct pods
//!   of its two ends (pairs of a pod with itself do not count in the spreading), but the pairs
//!   are never listed: everything a bundle takes part in (totals, groups, cross-node traffic,
//!   splitting, partners) is computed from its two member lists, so cost and memory follow
//!   the number of pods, not the number of pairs.
//! - Every edge and bundle with a rate above zero counts in the total traffic and in
//!   [`TrafficReport`]s.
//! - **Graph** ([`TrafficGraph::graph`]): a petgraph [`DiGraph`] with one node per pod (node
//!   index = pod index, weight = pod index) and the *kept* edges: pod edges whose summed rate
//!   is `>= threshold` and `> 0`; a bundle whose rate per pair is, as a hub node between its
//!   senders and receivers (the threshold applies to each bundle by itself, not to a pod pair
//!   summed over the edges that reach it).
//! - **Groups** ([`TrafficGraph::groups`]): the connected components, with at least two pods,
//!   of the kept edges taken as undirected. A one-way chain `a → b → c` is therefore one group;
//!   mutual traffic (a strongly connected component, found with [`tarjan_scc`]) always lies
//!   inside one group and is listed in [`Group::mutual`] for explanations. Pods with no kept
//!   edge belong to no group.
//! - **Splitting** ([`TrafficGraph::split_to_fit`]): a group whose summed request does not fit
//!   a bin is cut along its lightest edges (maximum-spanning-forest Kruskal with a capacity
//!   check).
//!
//! Everything is deterministic: contributions are summed in a canonical order (so the order of
//! the input edges does not change a single bit of the output), and groups, parts and their
//! members are sorted by pod index.

use std::borrow::Cow;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::unionfind::UnionFind;
use petgraph::visit::EdgeRef;
use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::fasthash::FastMap;
use crate::packing::{Bins, validate_items, weighted_size, weights_for};
use crate::snapshot::Snapshot;

/// Traffic input: directed edges between pods or workloads, in bytes per second.
///
/// The JSON form is documented in `docs/traffic-format.md`; unknown fields are rejected.
///
/// # Examples
/// ```
/// use compactor_core::traffic::{Endpoint, TrafficSpec};
/// let spec: TrafficSpec = serde_json::from_str(r#"{"edges": [
///   {"from": {"workload": "shop/Deployment/web"}, "to": {"pod": "data/postgres-0"},
///    "bytesPerSecond": 1.5e6}]}"#).unwrap();
/// assert_eq!(spec.edges[0].to, Endpoint::Pod("data/postgres-0".into()));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrafficSpec {
    /// The edges, in any order; parallel edges are summed.
    #[serde(default)]
    pub edges: Vec<TrafficEdgeSpec>,
}

/// One directed traffic edge as given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrafficEdgeSpec {
    /// Sender.
    pub from: Endpoint,
    /// Receiver.
    pub to: Endpoint,
    /// Average rate, bytes per second; finite and `>= 0`.
    pub bytes_per_second: f64,
}

/// One end of a traffic edge: `{"pod": "namespace/name"}` or
/// `{"workload": "namespace/Kind/name"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "RawEndpoint")]
pub enum Endpoint {
    /// A pod, `namespace/name`.
    Pod(String),
    /// The pods of a workload, `namespace/Kind/name`, matched against the pods' owner.
    Workload(String),
}

/// An endpoint as written, so that one naming both or neither gets a message that says so.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    pod: Option<String>,
    workload: Option<String>,
}

impl TryFrom<RawEndpoint> for Endpoint {
    type Error = &'static str;

    fn try_from(raw: RawEndpoint) -> Result<Self, Self::Error> {
        match (raw.pod, raw.workload) {
            (Some(pod), None) => Ok(Self::Pod(pod)),
            (None, Some(workload)) => Ok(Self::Workload(workload)),
            (Some(_), Some(_)) => {
                Err("an endpoint is either {\"pod\": …} or {\"workload\": …}, not both")
            }
            (None, None) => Err("an endpoint needs \"pod\" or \"workload\""),
        }
    }
}

/// A pod-to-pod edge after resolution and merging.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TrafficEdge {
    /// Sending pod (index into [`Snapshot::pods`], or item index in [`pack_network`]).
    pub from: usize,
    /// Receiving pod.
    pub to: usize,
    /// Summed rate, bytes per second (always `> 0`).
    pub bytes_per_second: f64,
}

/// A workload edge, kept whole: its rate spread evenly over the ordered pairs of distinct pods
/// of `from × to`, never expanded into those pairs (a workload of 5,000 pods talking to itself
/// is 25 million pairs, and one bundle).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Bundle {
    /// Sending pods, ascending.
    pub from: Vec<usize>,
    /// Receiving pods, ascending.
    pub to: Vec<usize>,
    /// Ordered pairs of distinct pods: `|from| · |to| − |from ∩ to|` (at least one).
    pub pairs: u64,
    /// The summed rate of the input edges between these two ends, bytes per second.
    pub bytes_per_second: f64,
}

impl Bundle {
    /// The rate of each pair: `bytes_per_second / pairs`.
    pub fn bytes_per_pair(&self) -> f64 {
        self.bytes_per_second / self.pairs as f64
    }
}

/// A set of pods joined by kept edges (a connected component of the undirected view, at least
/// two pods).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Group {
    /// Pod indices, ascending.
    pub members: Vec<usize>,
    /// The strongly connected components of at least two pods inside the group (pods with
    /// traffic both ways, directly or around a cycle); each ascending, sorted by first pod.
    pub mutual: Vec<Vec<usize>>,
    /// Sum of the kept edges inside the group, bytes per second.
    pub bytes_per_second: f64,
}

/// Traffic measured against a placement (see [`TrafficGraph::cross_node`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TrafficReport {
    /// All traffic between distinct pods, bytes per second (every edge, threshold or not).
    pub total_bytes_per_second: f64,
    /// Traffic between pods placed on different nodes.
    pub cross_node_bytes_per_second: f64,
    /// `cross_node / total`, 0 when there is no traffic.
    pub cross_node_share: f64,
    /// Traffic with at least one end not placed (neither cross-node nor local: not measurable).
    pub unplaced_bytes_per_second: f64,
}

/// The resolved traffic: merged pod-to-pod edges, the petgraph graph of the edges at or above
/// the threshold, and its groups.
///
/// # Examples
/// ```
/// use compactor_core::traffic::TrafficGraph;
/// // Items 0 ↔ 1 chat, 2 → 3 is one-way, 4 → 5 is below the threshold.
/// let g = TrafficGraph::from_edges(6, &[(0, 1, 50.0), (1, 0, 30.0), (2, 3, 20.0), (4, 5, 1.0)], 10.0)
///     .unwrap();
/// let groups: Vec<_> = g.groups().iter().map(|g| g.members.clone()).collect();
/// assert_eq!(groups, vec![vec![0, 1], vec![2, 3]]);
/// assert_eq!(g.groups()[0].mutual, vec![vec![0, 1]]);
/// assert_eq!(g.total_bytes_per_second(), 101.0);
/// ```
#[derive(Debug, Clone)]
pub struct TrafficGraph {
    pods: usize,
    threshold: f64,
    edges: Vec<TrafficEdge>,
    bundles: Vec<Bundle>,
    total: f64,
    graph: DiGraph<usize, f64>,
    groups: Vec<Group>,
    group_of: Vec<Option<usize>>,
    /// Per pod, its kept pod edges both ways: `(partner, bytes per second)`.
    adjacency: Vec<Vec<(u32, f64)>>,
    /// Per pod, the kept bundles it is in (either end), ascending.
    bundles_of: Vec<Vec<u32>>,
}

/// The largest rate an edge (or the threshold) may give, bytes per second: a petabyte per
/// second. Sums of a million such edges stay finite, so no report prints `inf` or `NaN`.
pub const MAX_RATE: f64 = 1e15;

pub(crate) fn check_threshold(threshold: f64) -> Result<(), CoreError> {
    if threshold.is_finite() && (0.0..=MAX_RATE).contains(&threshold) {
        Ok(())
    } else {
        Err(CoreError::InvalidOption {
            field: "trafficThreshold".to_owned(),
            message: format!("{threshold} is not a number from 0 to 1e15 bytes per second"),
        })
    }
}

fn check_rate(edge: usize, rate: f64) -> Result<(), CoreError> {
    if rate.is_finite() && (0.0..=MAX_RATE).contains(&rate) {
        Ok(())
    } else {
        Err(CoreError::InvalidTrafficRate {
            edge,
            value: rate.to_string(),
        })
    }
}

/// Pods per `(namespace, kind, name)` of their owner, ascending (looked up only, never
/// iterated).
type WorkloadIndex<'a> = FastMap<(&'a str, &'a str, &'a str), Vec<usize>>;

fn resolve<'w>(
    snapshot: &Snapshot,
    workloads: &'w WorkloadIndex<'w>,
    edge: usize,
    field: &str,
    endpoint: &'w Endpoint,
) -> Result<Cow<'w, [usize]>, CoreError> {
    let invalid = |message: String| CoreError::InvalidTrafficEdge {
        edge,
        field: field.to_owned(),
        message,
    };
    match endpoint {
        Endpoint::Pod(key) => {
            let (ns, name) = key
                .split_once('/')
                .filter(|(ns, name)| !ns.is_empty() && !name.is_empty() && !name.contains('/'))
                .ok_or_else(|| invalid(format!("pod reference {key:?} is not namespace/name")))?;
            let i = snapshot
                .pod_index(ns, name)
                .ok_or_else(|| CoreError::UnknownTrafficPod {
                    edge,
                    field: field.to_owned(),
                    pod: key.clone(),
                })?;
            Ok(Cow::Owned(vec![i]))
        }
        Endpoint::Workload(key) => {
            let parts: Vec<&str> = key.split('/').collect();
            let [ns, kind, name] = parts[..] else {
                return Err(invalid(format!(
                    "workload reference {key:?} is not namespace/Kind/name"
                )));
            };
            if ns.is_empty() || kind.is_empty() || name.is_empty() {
                return Err(invalid(format!(
                    "workload reference {key:?} is not namespace/Kind/name"
                )));
            }
            workloads
                .get(&(ns, kind, name))
                .map(|v| Cow::Borrowed(v.as_slice()))
                .ok_or_else(|| CoreError::UnknownTrafficWorkload {
                    edge,
                    field: field.to_owned(),
                    workload: key.clone(),
                })
        }
    }
}

/// Whether an edge of `rate` (a bundle: its rate per pair) is kept at `threshold`.
fn kept(rate: f64, threshold: f64) -> bool {
    rate >= threshold && rate > 0.0
}

/// Pods in both ascending, duplicate-free lists.
fn count_shared(a: &[usize], b: &[usize]) -> u64 {
    count_shared_by(a, b, |_| true)
}

/// Pods in both ascending, duplicate-free lists that pass `keep`.
fn count_shared_by(a: &[usize], b: &[usize], keep: impl Fn(usize) -> bool) -> u64 {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += u64::from(keep(a[i]));
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// `Σ_v count_a(v) · count_b(v)` over two ascending lists with repeats.
fn same_value_pairs(a: &[usize], b: &[usize]) -> u64 {
    let (mut i, mut j, mut n) = (0, 0, 0u64);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                let v = a[i];
                let run_a = a[i..].iter().take_while(|&&x| x == v).count();
                let run_b = b[j..].iter().take_while(|&&x| x == v).count();
                n += (run_a as u64) * (run_b as u64);
                i += run_a;
                j += run_b;
            }
        }
    }
    n
}

impl TrafficGraph {
    /// Resolves `spec` against the pods of `snapshot` and keeps, in the graph, the edges of at
    /// least `threshold_bytes_per_second` (see the [module documentation](self) for the exact
    /// rules).
    ///
    /// # Examples
    /// ```
    /// use compactor_core::{Snapshot, model::SnapshotSpec, traffic::{TrafficGraph, TrafficSpec}};
    /// let snap: SnapshotSpec = serde_json::from_str(r#"{
    ///   "nodes": [{"name": "a", "allocatable": {"cpu": "4", "memory": "16Gi"}}],
    ///   "pods": [
    ///     {"namespace": "shop", "name": "web-1", "owner": {"kind": "Deployment", "name": "web"}},
    ///     {"namespace": "shop", "name": "web-2", "owner": {"kind": "Deployment", "name": "web"}},
    ///     {"namespace": "shop", "name": "db-0"}]}"#).unwrap();
    /// let snap = Snapshot::new(snap).unwrap();
    /// let spec: TrafficSpec = serde_json::from_str(r#"{"edges": [
    ///   {"from": {"workload": "shop/Deployment/web"}, "to": {"pod": "shop/db-0"}, "bytesPerSecond": 100}
    /// ]}"#).unwrap();
    /// let g = TrafficGraph::build(&snap, &spec, 10.0).unwrap();
    /// // Pods sort as db-0 (0), web-1 (1), web-2 (2); the 100 B/s spread over two pairs.
    /// let b = &g.bundles()[0];
    /// assert_eq!((b.from.clone(), b.to.clone(), b.pairs), (vec![1, 2], vec![0], 2));
    /// assert_eq!(b.bytes_per_pair(), 50.0);
    /// assert_eq!(g.groups()[0].members, vec![0, 1, 2]);
    /// ```
    ///
    /// # Errors
    /// The first problem found, in edge order (within an edge: `bytesPerSecond`, `from`, `to`):
    /// - [`CoreError::InvalidOption`] (`trafficThreshold`) for a negative, NaN or infinite
    ///   threshold;
    /// - [`CoreError::InvalidTrafficRate`] for a negative, NaN or infinite rate;
    /// - [`CoreError::InvalidTrafficEdge`] for a reference that is not `namespace/name` (pod)
    ///   or `namespace/Kind/name` (workload);
    /// - [`CoreError::UnknownTrafficPod`] for a pod the snapshot does not contain;
    /// - [`CoreError::UnknownTrafficWorkload`] for a workload with no pod in the snapshot.
    ///
    /// # Complexity
    /// O(P log P + E log E + S · α) for P pods, E input edges and S the summed sizes of the
    /// workload edges' ends (a workload of 5,000 pods talking to itself counts 10,000, not
    /// its 25 million pairs).
    pub fn build(
        snapshot: &Snapshot,
        spec: &TrafficSpec,
        threshold_bytes_per_second: f64,
    ) -> Result<Self, CoreError> {
        check_threshold(threshold_bytes_per_second)?;
        let mut workloads: WorkloadIndex<'_> = FastMap::default();
        for (i, p) in snapshot.pods().iter().enumerate() {
            if let Some(o) = &p.spec.owner {
                workloads
                    .entry((p.spec.namespace.as_str(), o.kind.as_str(), o.name.as_str()))
                    .or_default()
                    .push(i);
            }
        }
        let mut contributions = Vec::new();
        let mut bundles = Vec::new();
        for (e, edge) in spec.edges.iter().enumerate() {
            check_rate(e, edge.bytes_per_second)?;
            let from = resolve(snapshot, &workloads, e, "from", &edge.from)?;
            let to = resolve(snapshot, &workloads, e, "to", &edge.to)?;
            if edge.bytes_per_second == 0.0 {
                continue;
            }
            if let (Endpoint::Pod(_), Endpoint::Pod(_)) = (&edge.from, &edge.to) {
                if from[0] != to[0] {
                    contributions.push((from[0], to[0], edge.bytes_per_second));
                }
                continue;
            }
            // Both lists are ascending and duplicate-free: count the shared pods (self pairs).
            let shared = count_shared(&from, &to);
            let pairs = (from.len() as u64) * (to.len() as u64) - shared;
            if pairs > 0 {
                bundles.push(Bundle {
                    from: from.into_owned(),
                    to: to.into_owned(),
                    pairs,
                    bytes_per_second: edge.bytes_per_second,
                });
            }
        }
        Ok(Self::assemble(
            snapshot.pods().len(),
            contributions,
            bundles,
            threshold_bytes_per_second,
        ))
    }

    /// A traffic graph over `n` items (indices `0..n`) from `(from, to, bytes per second)`
    /// edges; self edges are dropped, parallel edges summed. This is what
    /// [`TrafficGraph::build`] produces after resolving endpoints, and what [`pack_network`]
    /// uses.
    ///
    /// # Examples
    /// ```
    /// use compactor_core::traffic::TrafficGraph;
    /// let g = TrafficGraph::from_edges(3, &[(0, 1, 5.0), (0, 1, 7.0), (2, 2, 9.0)], 0.0).unwrap();
    /// assert_eq!(g.edges().len(), 1);
    /// assert_eq!(g.edges()[0].bytes_per_second, 12.0);
    /// ```
    ///
    /// # Errors
    /// [`CoreError::InvalidOption`] (`trafficThreshold`) for a negative, NaN or infinite
    /// threshold; [`CoreError::InvalidTrafficRate`] for such a rate;
    /// [`CoreError::InvalidTrafficEdge`] (field `from` or `to`) for an index `>= n`.
    ///
    /// # Complexity
    /// O(n + m log m) for m edges.
    pub fn from_edges(
        n: usize,
        edges: &[(usize, usize, f64)],
        threshold: f64,
    ) -> Result<Self, CoreError> {
        check_threshold(threshold)?;
        let mut contributions = Vec::with_capacity(edges.len());
        for (e, &(a, b, rate)) in edges.iter().enumerate() {
            check_rate(e, rate)?;
            for (field, i) in [("from", a), ("to", b)] {
                if i >= n {
                    return Err(CoreError::InvalidTrafficEdge {
                        edge: e,
                        field: field.to_owned(),
                        message: format!("is item {i}, out of range for {n} items"),
                    });
                }
            }
            if a != b && rate > 0.0 {
                contributions.push((a, b, rate));
            }
        }
        Ok(Self::assemble(n, contributions, Vec::new(), threshold))
    }

    /// Merges contributions (all valid, positive, no self pairs) and bundles (at least one
    /// pair each), and derives graph and groups.
    fn assemble(
        n: usize,
        mut contributions: Vec<(usize, usize, f64)>,
        mut bundles: Vec<Bundle>,
        threshold: f64,
    ) -> Self {
        // A canonical order makes every floating-point sum independent of the input order.
        contributions.sort_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)).then(x.2.total_cmp(&y.2)));
        let mut edges: Vec<TrafficEdge> = Vec::new();
        for (a, b, r) in contributions {
            match edges.last_mut() {
                Some(last) if last.from == a && last.to == b => last.bytes_per_second += r,
                _ => edges.push(TrafficEdge {
                    from: a,
                    to: b,
                    bytes_per_second: r,
                }),
            }
        }
        bundles.sort_by(|x, y| {
            (&x.from, &x.to)
                .cmp(&(&y.from, &y.to))
                .then(x.bytes_per_second.total_cmp(&y.bytes_per_second))
        });
        let mut merged: Vec<Bundle> = Vec::with_capacity(bundles.len());
        for b in bundles {
            match merged.last_mut() {
                Some(last) if last.from == b.from && last.to == b.to => {
                    last.bytes_per_second += b.bytes_per_second;
                }
                _ => merged.push(b),
            }
        }
        let bundles = merged;
        let total = edges.iter().map(|e| e.bytes_per_second).sum::<f64>()
            + bundles.iter().map(|b| b.bytes_per_second).sum::<f64>();
        let kept_edge = |e: &&TrafficEdge| kept(e.bytes_per_second, threshold);
        let kept_bundle = |b: &&Bundle| kept(b.bytes_per_pair(), threshold);

        // Pods are nodes 0..n; each kept bundle is a hub node after them, with an edge from
        // every sender and to every receiver (a path a → hub → b is the pair a → b).
        let hubs = bundles.iter().filter(kept_bundle).count();
        let hub_edges: usize = bundles
            .iter()
            .filter(kept_bundle)
            .map(|b| b.from.len() + b.to.len())
            .sum();
        let mut graph = DiGraph::with_capacity(n + hubs, edges.len() + hub_edges);
        for i in 0..n + hubs {
            graph.add_node(i);
        }
        let mut uf = UnionFind::<usize>::new(n);
        let mut adjacency: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
        for e in edges.iter().filter(kept_edge) {
            graph.add_edge(
                NodeIndex::new(e.from),
                NodeIndex::new(e.to),
                e.bytes_per_second,
            );
            uf.union(e.from, e.to);
            adjacency[e.from].push((e.to as u32, e.bytes_per_second));
            adjacency[e.to].push((e.from as u32, e.bytes_per_second));
        }
        for a in &mut adjacency {
            a.sort_by_key(|x| x.0);
        }
        let mut bundles_of: Vec<Vec<u32>> = vec![Vec::new(); n];
        let kept_bundles = bundles.iter().enumerate().filter(|(_, b)| kept_bundle(b));
        for (hub, (k, b)) in (n..).zip(kept_bundles) {
            let each = b.bytes_per_pair();
            let first = b.from[0];
            for &a in &b.from {
                graph.add_edge(NodeIndex::new(a), NodeIndex::new(hub), each);
                uf.union(first, a);
                bundles_of[a].push(k as u32);
            }
            for &c in &b.to {
                graph.add_edge(NodeIndex::new(hub), NodeIndex::new(c), each);
                uf.union(first, c);
                if b.from.binary_search(&c).is_err() {
                    bundles_of[c].push(k as u32);
                }
            }
        }

        // Components in order of their smallest pod; members ascending.
        let mut index_of_root: Vec<Option<usize>> = vec![None; n];
        let mut components: Vec<Vec<usize>> = Vec::new();
        let component_of: Vec<usize> = (0..n)
            .map(|i| {
                let r = uf.find_mut(i);
                let c = *index_of_root[r].get_or_insert_with(|| {
                    components.push(Vec::new());
                    components.len() - 1
                });
                components[c].push(i);
                c
            })
            .collect();
        let mut group_index: Vec<Option<usize>> = vec![None; components.len()];
        let mut groups: Vec<Group> = Vec::new();
        for (c, members) in components.into_iter().enumerate() {
            if members.len() >= 2 {
                group_index[c] = Some(groups.len());
                groups.push(Group {
                    members,
                    mutual: Vec::new(),
                    bytes_per_second: 0.0,
                });
            }
        }
        let group_of: Vec<Option<usize>> = (0..n).map(|i| group_index[component_of[i]]).collect();
        for e in edges.iter().filter(kept_edge) {
            if let Some(g) = group_of[e.from] {
                groups[g].bytes_per_second += e.bytes_per_second;
            }
        }
        for b in bundles.iter().filter(kept_bundle) {
            if let Some(g) = group_of[b.from[0]] {
                groups[g].bytes_per_second += b.bytes_per_second;
            }
        }
        for scc in tarjan_scc(&graph) {
            // Hubs only relay: the pods of a component are what is mutual.
            let mut pods: Vec<usize> = scc
                .into_iter()
                .map(NodeIndex::index)
                .filter(|&i| i < n)
                .collect();
            if pods.len() < 2 {
                continue;
            }
            pods.sort_unstable();
            if let Some(g) = group_of[pods[0]] {
                groups[g].mutual.push(pods);
            }
        }
        for g in &mut groups {
            g.mutual.sort_unstable();
        }
        Self {
            pods: n,
            threshold,
            edges,
            bundles,
            total,
            graph,
            groups,
            group_of,
            adjacency,
            bundles_of,
        }
    }

    /// Number of pods (graph nodes).
    pub fn pod_count(&self) -> usize {
        self.pods
    }

    /// The threshold the graph was built with, bytes per second.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Every merged pod-to-pod edge with a positive rate (input edges with a pod at both
    /// ends), sorted by `(from, to)`, threshold or not.
    pub fn edges(&self) -> &[TrafficEdge] {
        &self.edges
    }

    /// Every workload edge (an input edge with a workload at either end), merged per pair of
    /// ends, sorted by `(from, to)`, threshold or not.
    pub fn bundles(&self) -> &[Bundle] {
        &self.bundles
    }

    /// Whether bundle `b` (an index into [`TrafficGraph::bundles`]) is kept: its rate per pair
    /// is at least the threshold. `false` for an index out of range.
    pub fn is_kept_bundle(&self, b: usize) -> bool {
        self.bundles
            .get(b)
            .is_some_and(|b| kept(b.bytes_per_pair(), self.threshold))
    }

    /// The pods `pod` exchanges kept traffic with, and the rate of each contribution (bytes
    /// per second): kept pod edges both ways (ascending by partner), then every other member
    /// of each kept bundle `pod` is in (a partner reached both ways, or through several edges,
    /// comes once per contribution). Empty for a pod out of range.
    ///
    /// # Examples
    /// ```
    /// use compactor_core::traffic::TrafficGraph;
    /// let g = TrafficGraph::from_edges(3, &[(0, 1, 5.0), (2, 0, 7.0)], 0.0).unwrap();
    /// assert_eq!(g.partners(0).collect::<Vec<_>>(), vec![(1, 5.0), (2, 7.0)]);
    /// ```
    ///
    /// # Complexity
    /// O(1) per item; as many items as the pod's kept edges plus the sizes of its bundles.
    pub fn partners(&self, pod: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let pairs = self.adjacency.get(pod).map(Vec::as_slice).unwrap_or(&[]);
        let bundles = self.bundles_of.get(pod).map(Vec::as_slice).unwrap_or(&[]);
        let pairs = pairs.iter().map(|&(q, w)| (q as usize, w));
        pairs.chain(bundles.iter().flat_map(move |&k| {
            let b = &self.bundles[k as usize];
            let each = b.bytes_per_pair();
            let sends = b.from.binary_search(&pod).is_ok();
            let receives = b.to.binary_search(&pod).is_ok();
            let to = b.to.iter().filter(move |_| sends);
            let from = b.from.iter().filter(move |_| receives);
            to.chain(from)
                .filter(move |&&q| q != pod)
                .map(move |&q| (q, each))
        }))
    }

    /// The sum of [`TrafficGraph::edges`], bytes per second.
    pub fn total_bytes_per_second(&self) -> f64 {
        self.total
    }

    /// The petgraph graph: node `i < pod_count` is pod `i` (its weight is `i`); edges are the
    /// kept pod edges (`>= threshold`), weighted in bytes per second, added in `(from, to)`
    /// order. Each kept bundle follows as one hub node (weight: its index in the graph), with
    /// an edge from each sender to the hub and from the hub to each receiver, weighted with
    /// the rate per pair: a path `a → hub → b` is the pair `a → b`, so reachability among
    /// distinct pods is the traffic's, with `|from| + |to|` edges instead of every pair.
    pub fn graph(&self) -> &DiGraph<usize, f64> {
        &self.graph
    }

    /// The groups, sorted by their smallest pod.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// Index into [`TrafficGraph::groups`] of the group holding `pod`; `None` for a pod
    /// without kept edges or out of range.
    pub fn group_of(&self, pod: usize) -> Option<usize> {
        self.group_of.get(pod).copied().flatten()
    }

    /// Splits `members` into parts that each fit `capacity`, cutting the lightest edges:
    /// when the summed request of all members fits, one part; otherwise the kept edges among
    /// the members, merged both ways per pod pair (a kept bundle offers the chain of its
    /// members in ascending order, at its rate per pair), and taken heaviest first (ties by
    /// pod pair),
    /// merge the parts at their ends whenever the merged request still fits (Kruskal on a
    /// maximum spanning forest with a capacity check). A pod whose partners never fit stays
    /// alone, even one that does not fit `capacity` by itself.
    ///
    /// `sizes[i]` is the request of pod `i` (dimensions as `capacity`; missing ones count as 0).
    ///
    /// Returns parts sorted by smallest pod, members ascending; duplicates in `members` are
    /// ignored.
    ///
    /// # Examples
    /// ```
    /// use compactor_core::traffic::TrafficGraph;
    /// // A chain 0 -100- 1 -90- 2 -10- 3 -80- 4 of pods of size 3 into bins of 9:
    /// // the lightest edge (2, 3) is cut.
    /// let g = TrafficGraph::from_edges(5, &[(0, 1, 100.0), (1, 2, 90.0), (2, 3, 10.0), (3, 4, 80.0)], 0.0)
    ///     .unwrap();
    /// let sizes: Vec<&[u64]> = vec![&[3]; 5];
    /// assert_eq!(g.split_to_fit(&[0, 1, 2, 3, 4], &sizes, &[9]), vec![vec![0, 1, 2], vec![3, 4]]);
    /// ```
    ///
    /// # Panics
    /// When a member is not an index of `sizes` or of the graph.
    ///
    /// # Complexity
    /// O(k · d + m log m + m · (d + log k)) for k members and m kept edges at them, where a
    /// kept bundle counts as many edges as it has members, plus O(B) over all bundles.
    pub fn split_to_fit(
        &self,
        members: &[usize],
        sizes: &[&[u64]],
        capacity: &[u64],
    ) -> Vec<Vec<usize>> {
        let mut members = members.to_vec();
        members.sort_unstable();
        members.dedup();
        let k = members.len();
        let fits = |sum: &[u128]| sum.iter().zip(capacity).all(|(s, c)| *s <= u128::from(*c));
        let mut sums: Vec<Vec<u128>> = members
            .iter()
            .map(|&p| {
                (0..capacity.len())
                    .map(|d| sizes[p].get(d).map_or(0, |x| u128::from(*x)))
                    .collect()
            })
            .collect();
        let mut whole = vec![0u128; capacity.len()];
        for s in &sums {
            for (w, x) in whole.iter_mut().zip(s) {
                *w += x;
            }
        }
        if k <= 1 || fits(&whole) {
            return if k == 0 { Vec::new() } else { vec![members] };
        }
        // Undirected pair weights among members.
        let mut pairs: Vec<(usize, usize, f64)> = Vec::new();
        for (li, &p) in members.iter().enumerate() {
            for e in self.graph.edges(NodeIndex::new(p)) {
                let target = e.target().index();
                if target >= self.pods {
                    continue;
                }
                if let Ok(lj) = members.binary_search(&target) {
                    pairs.push((li.min(lj), li.max(lj), *e.weight()));
                }
            }
        }
        // A kept bundle's pairs all weigh the same, so any spanning tree of them is a heaviest
        // one: its members here offer the chain of consecutive members (ascending), at the
        // rate per pair, instead of every pair.
        let mut groups: Vec<usize> = members.iter().filter_map(|&p| self.group_of(p)).collect();
        groups.sort_unstable();
        groups.dedup();
        for (k, b) in self.bundles.iter().enumerate() {
            let in_groups = self
                .group_of(b.from[0])
                .is_some_and(|g| groups.binary_search(&g).is_ok());
            if !self.is_kept_bundle(k) || !in_groups {
                continue;
            }
            let mut local: Vec<usize> = b
                .from
                .iter()
                .chain(&b.to)
                .filter_map(|p| members.binary_search(p).ok())
                .collect();
            local.sort_unstable();
            local.dedup();
            let each = b.bytes_per_pair();
            pairs.extend(local.windows(2).map(|w| (w[0], w[1], each)));
        }
        pairs.sort_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)).then(x.2.total_cmp(&y.2)));
        let mut merged: Vec<(usize, usize, f64)> = Vec::with_capacity(pairs.len());
        for (a, b, w) in pairs {
            match merged.last_mut() {
                Some(last) if last.0 == a && last.1 == b => last.2 += w,
                _ => merged.push((a, b, w)),
            }
        }
        merged.sort_by(|x, y| y.2.total_cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
        let mut uf = UnionFind::<usize>::new(k);
        for (a, b, _) in merged {
            let (ra, rb) = (uf.find_mut(a), uf.find_mut(b));
            if ra == rb {
                continue;
            }
            let joined: Vec<u128> = sums[ra].iter().zip(&sums[rb]).map(|(x, y)| x + y).collect();
            if fits(&joined) {
                uf.union(ra, rb);
                let r = uf.find_mut(ra);
                sums[r] = joined;
            }
        }
        let mut part_of_root: Vec<Option<usize>> = vec![None; k];
        let mut parts: Vec<Vec<usize>> = Vec::new();
        for (li, &p) in members.iter().enumerate() {
            let r = uf.find_mut(li);
            let part = *part_of_root[r].get_or_insert_with(|| {
                parts.push(Vec::new());
                parts.len() - 1
            });
            parts[part].push(p);
        }
        parts
    }

    /// Traffic across nodes under `placement` (`placement[i]`: the node of pod `i`, `None` when
    /// not placed; pods past the end of `placement` count as not placed). Every edge counts in
    /// the total; an edge with an unplaced end is reported as unplaced, neither cross-node nor
    /// local.
    ///
    /// # Examples
    /// ```
    /// use compactor_core::traffic::TrafficGraph;
    /// let g = TrafficGraph::from_edges(3, &[(0, 1, 30.0), (1, 2, 10.0), (2, 0, 60.0)], 0.0).unwrap();
    /// let r = g.cross_node(&[Some(0), Some(0), Some(1)]);
    /// assert_eq!(r.total_bytes_per_second, 100.0);
    /// assert_eq!(r.cross_node_bytes_per_second, 70.0);
    /// assert_eq!(r.cross_node_share, 0.7);
    /// let r = g.cross_node(&[Some(0), Some(1), None]);
    /// assert_eq!((r.cross_node_bytes_per_second, r.unplaced_bytes_per_second), (30.0, 70.0));
    /// ```
    ///
    /// # Complexity
    /// O(E + Σ s log s) over the merged pod edges and the sizes s of the bundles' ends.
    pub fn cross_node(&self, placement: &[Option<usize>]) -> TrafficReport {
        let at = |i: usize| placement.get(i).copied().flatten();
        let mut cross = 0.0;
        let mut unplaced = 0.0;
        for e in &self.edges {
            match (at(e.from), at(e.to)) {
                (Some(x), Some(y)) => {
                    if x != y {
                        cross += e.bytes_per_second;
                    }
                }
                _ => unplaced += e.bytes_per_second,
            }
        }
        for b in &self.bundles {
            // Counted, not enumerated: placed pairs are pA · pB less the placed pods at both
            // ends (self pairs); pairs on one node are Σ over nodes of cA · cB less the same.
            let nodes_of = |pods: &[usize]| {
                let mut v: Vec<usize> = pods.iter().filter_map(|&p| at(p)).collect();
                v.sort_unstable();
                v
            };
            let (a, c) = (nodes_of(&b.from), nodes_of(&b.to));
            let shared_placed = count_shared_by(&b.from, &b.to, |p| at(p).is_some());
            let placed_pairs = (a.len() as u64) * (c.len() as u64) - shared_placed;
            let cross_pairs = (a.len() as u64) * (c.len() as u64) - same_value_pairs(&a, &c);
            let each = b.bytes_per_pair();
            cross += cross_pairs as f64 * each;
            unplaced += (b.pairs - placed_pairs) as f64 * each;
        }
        TrafficReport {
            total_bytes_per_second: self.total,
            cross_node_bytes_per_second: cross,
            cross_node_share: if self.total > 0.0 {
                cross / self.total
            } else {
                0.0
            },
            unplaced_bytes_per_second: unplaced,
        }
    }
}

/// The result of [`pack_network`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NetworkPacking {
    /// Bin index of each item, in item order.
    pub assignment: Vec<usize>,
    /// Number of bins opened.
    pub bins: usize,
    /// The traffic groups before splitting (see [`TrafficGraph::groups`]).
    pub groups: Vec<Group>,
    /// The parts of at least two items placed whole into one bin, in placement order.
    pub parts: Vec<Vec<usize>>,
    /// Traffic across bins.
    pub traffic: TrafficReport,
}

/// Packs `items` into identical bins of size `capacity`, keeping traffic groups together.
///
/// The traffic graph is built from `edges` (`(from item, to item, bytes per second)`) with
/// `threshold` ([`TrafficGraph::from_edges`]); each group is split with
/// [`TrafficGraph::split_to_fit`]. Parts of at least two items are placed first, in decreasing
/// normalised size of their summed request (ties by smallest item), each whole into one bin by
/// best fit (the tightest open bin that takes the whole part, as [`Bins::best_fit`]; a new bin
/// when none does). Then every remaining item — pods without kept edges and the singletons of
/// split groups — by best fit decreasing. Without edges this is best-fit decreasing.
///
/// # Examples
/// ```
/// use compactor_core::traffic::pack_network;
/// // 0 and 3 chat; best fit alone would pair 0 with 1 (4 + 6) and 2 with 3.
/// let items = vec![vec![4], vec![6], vec![5], vec![5]];
/// let p = pack_network(&items, &[10], &[(0, 3, 100.0)], 1.0).unwrap();
/// assert_eq!(p.assignment[0], p.assignment[3]);
/// assert_eq!(p.traffic.cross_node_bytes_per_second, 0.0);
/// assert_eq!(p.bins, 3);
/// ```
///
/// # Errors
/// [`CoreError::DimensionMismatch`] and [`CoreError::ItemTooLarge`] as [`crate::packing::pack`];
/// the errors of [`TrafficGraph::from_edges`].
///
/// # Complexity
/// O(n · d + m log m + g log g · d) for grouping and splitting (n items, m edges, g parts and
/// singletons), plus one best-fit query and update per part or singleton (see [`Bins`]).
pub fn pack_network(
    items: &[Vec<u64>],
    capacity: &[u64],
    edges: &[(usize, usize, f64)],
    threshold: f64,
) -> Result<NetworkPacking, CoreError> {
    validate_items(items, capacity)?;
    let graph = TrafficGraph::from_edges(items.len(), edges, threshold)?;
    let views: Vec<&[u64]> = items.iter().map(Vec::as_slice).collect();
    let weights = weights_for(capacity);
    let d = capacity.len();

    let mut parts: Vec<(Vec<u64>, Vec<usize>)> = Vec::new();
    let mut singles: Vec<usize> = Vec::new();
    let mut grouped = vec![false; items.len()];
    for g in graph.groups() {
        for part in graph.split_to_fit(&g.members, &views, capacity) {
            for &i in &part {
                grouped[i] = true;
            }
            if part.len() >= 2 {
                // A part of two or more fits `capacity`, so its sum fits in u64.
                let mut sum = vec![0u64; d];
                for &i in &part {
                    for (s, x) in sum.iter_mut().zip(&items[i]) {
                        *s = s.saturating_add(*x);
                    }
                }
                parts.push((sum, part));
            } else {
                singles.extend(part);
            }
        }
    }
    singles.extend((0..items.len()).filter(|i| !grouped[*i]));
    let key = |v: &[u64]| weighted_size(v, &weights);
    parts.sort_by(|x, y| key(&y.0).total_cmp(&key(&x.0)).then(x.1[0].cmp(&y.1[0])));
    singles.sort_by(|a, b| key(views[*b]).total_cmp(&key(views[*a])).then(a.cmp(b)));

    let full: Vec<i128> = capacity.iter().map(|c| i128::from(*c)).collect();
    let mut bins = Bins::new(d, items.len(), weights.clone());
    let mut opened = 0;
    let mut place = |bins: &mut Bins, v: &[u64]| {
        let b = bins.best_fit(v).unwrap_or_else(|| {
            bins.open(opened, &full);
            opened += 1;
            opened - 1
        });
        bins.take(b, v);
        b
    };
    let mut assignment = vec![0; items.len()];
    for (sum, part) in &parts {
        let b = place(&mut bins, sum);
        for &i in part {
            assignment[i] = b;
        }
    }
    for &i in &singles {
        assignment[i] = place(&mut bins, views[i]);
    }
    let placement: Vec<Option<usize>> = assignment.iter().map(|b| Some(*b)).collect();
    Ok(NetworkPacking {
        traffic: graph.cross_node(&placement),
        assignment,
        bins: opened,
        groups: graph.groups().to_vec(),
        parts: parts.into_iter().map(|(_, p)| p).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SnapshotSpec;
    use crate::packing::{StrategyKind, pack};

    /// Pods in index order: data/db-0 (0), shop/api-1 (1), shop/api-2 (2), shop/lonely (3),
    /// shop/web-1 (4), shop/web-2 (5).
    fn snapshot() -> Snapshot {
        let spec: SnapshotSpec = serde_json::from_str(
            r#"{
          "nodes": [
            {"name": "a", "allocatable": {"cpu": "4", "memory": "16Gi"}},
            {"name": "b", "allocatable": {"cpu": "4", "memory": "16Gi"}}],
          "pods": [
            {"namespace": "shop", "name": "web-2", "nodeName": "b", "owner": {"kind": "Deployment", "name": "web"}},
            {"namespace": "shop", "name": "web-1", "nodeName": "a", "owner": {"kind": "Deployment", "name": "web"}},
            {"namespace": "shop", "name": "api-1", "nodeName": "a", "owner": {"kind": "Deployment", "name": "api"}},
            {"namespace": "shop", "name": "api-2", "nodeName": "b", "owner": {"kind": "Deployment", "name": "api"}},
            {"namespace": "shop", "name": "lonely"},
            {"namespace": "data", "name": "db-0", "nodeName": "b", "owner": {"kind": "StatefulSet", "name": "db"}}]
        }"#,
        )
        .unwrap();
        Snapshot::new(spec).unwrap()
    }

    fn spec(json: &str) -> TrafficSpec {
        serde_json::from_str(json).unwrap()
    }

    fn triples(g: &TrafficGraph) -> Vec<(usize, usize, f64)> {
        g.edges()
            .iter()
            .map(|e| (e.from, e.to, e.bytes_per_second))
            .collect()
    }

    fn members(g: &TrafficGraph) -> Vec<Vec<usize>> {
        g.groups().iter().map(|g| g.members.clone()).collect()
    }

    #[test]
    fn chatty_pair_ends_in_one_bin() {
        // Best fit decreasing alone puts 0 with 1 and 2 with 3; the pair (0, 3) talks.
        let items = vec![vec![5, 1], vec![5, 1], vec![5, 1], vec![5, 1]];
        let plain = pack(&items, &[10, 10], StrategyKind::BestFit).unwrap();
        assert_ne!(plain.assignment[0], plain.assignment[3]);
        let p = pack_network(&items, &[10, 10], &[(0, 3, 500.0), (3, 0, 20.0)], 1.0).unwrap();
        assert_eq!(p.assignment[0], p.assignment[3]);
        assert_eq!(p.bins, 2);
        assert_eq!(p.parts, vec![vec![0, 3]]);
        assert_eq!(p.groups[0].mutual, vec![vec![0, 3]]);
        assert_eq!(
            p.traffic,
            TrafficReport {
                total_bytes_per_second: 520.0,
                cross_node_bytes_per_second: 0.0,
                cross_node_share: 0.0,
                unplaced_bytes_per_second: 0.0,
            }
        );
    }

    #[test]
    fn chatty_pods_of_a_snapshot_share_a_node() {
        let snap = snapshot();
        let t = spec(
            r#"{"edges": [{"from": {"pod": "shop/web-1"}, "to": {"pod": "data/db-0"}, "bytesPerSecond": 1000}]}"#,
        );
        let g = TrafficGraph::build(&snap, &t, 0.0).unwrap();
        let sizes: Vec<&[u64]> = snap.pods().iter().map(|p| p.request.as_slice()).collect();
        let cap = &snap.nodes()[0].allocatable;
        assert_eq!(
            g.split_to_fit(&g.groups()[0].members, &sizes, cap),
            vec![vec![0, 4]]
        );
        let before: Vec<Option<usize>> = snap.pods().iter().map(|p| p.node).collect();
        assert_eq!(g.cross_node(&before).cross_node_bytes_per_second, 1000.0);
        let items: Vec<Vec<u64>> = snap.pods().iter().map(|p| p.request.clone()).collect();
        let edges: Vec<_> = g
            .edges()
            .iter()
            .map(|e| (e.from, e.to, e.bytes_per_second))
            .collect();
        let p = pack_network(&items, cap, &edges, 0.0).unwrap();
        assert_eq!(p.assignment[0], p.assignment[4]);
        assert_eq!(p.traffic.cross_node_share, 0.0);
    }

    #[test]
    fn a_group_too_big_is_split_along_its_lightest_edge() {
        // 0 ⇄ 1 (100 + 100), 1 → 2 (3), 2 ⇄ 3 (60 + 1); each item 5 of 10. Heaviest first:
        // {0,1} (10 fits), {2,3} (10 fits), then (1,2) would make 20: cut, 3 B/s across.
        let edges = [
            (0, 1, 100.0),
            (1, 0, 100.0),
            (1, 2, 3.0),
            (2, 3, 60.0),
            (3, 2, 1.0),
        ];
        let g = TrafficGraph::from_edges(4, &edges, 0.0).unwrap();
        assert_eq!(members(&g), vec![vec![0, 1, 2, 3]]);
        let sizes: Vec<&[u64]> = vec![&[5]; 4];
        assert_eq!(
            g.split_to_fit(&[3, 2, 1, 0], &sizes, &[10]),
            vec![vec![0, 1], vec![2, 3]]
        );
        assert_eq!(
            g.split_to_fit(&[0, 1, 2, 3], &sizes, &[20]),
            vec![vec![0, 1, 2, 3]]
        );
        let items = vec![vec![5]; 4];
        let p = pack_network(&items, &[10], &edges, 0.0).unwrap();
        assert_eq!(p.bins, 2);
        assert_eq!(p.parts, vec![vec![0, 1], vec![2, 3]]);
        assert_eq!(p.traffic.cross_node_bytes_per_second, 3.0);
    }

    #[test]
    fn a_triangle_is_cut_where_the_cut_is_lightest() {
        // Pairs 0-1: 10, 1-2: 20, 0-2: 30; two of three fit. Keeping {0,2} cuts 10 + 20 = 30,
        // the least of the three possible cuts (50 for {0,1}, 40 for {1,2}).
        let g =
            TrafficGraph::from_edges(3, &[(0, 1, 10.0), (2, 1, 20.0), (0, 2, 30.0)], 0.0).unwrap();
        let sizes: Vec<&[u64]> = vec![&[5, 1]; 3];
        assert_eq!(
            g.split_to_fit(&[0, 1, 2], &sizes, &[10, 10]),
            vec![vec![0, 2], vec![1]]
        );
        // A pod too large to join anything stays alone, even when it fits no bin.
        let sizes: Vec<&[u64]> = vec![&[5, 1], &[11, 1], &[5, 1]];
        assert_eq!(
            g.split_to_fit(&[0, 1, 2], &sizes, &[10, 10]),
            vec![vec![0, 2], vec![1]]
        );
        assert!(g.split_to_fit(&[], &sizes, &[10, 10]).is_empty());
    }

    #[test]
    fn one_way_chain_is_one_group_and_cycles_are_mutual() {
        let g = TrafficGraph::from_edges(3, &[(0, 1, 5.0), (1, 2, 5.0)], 1.0).unwrap();
        assert_eq!(members(&g), vec![vec![0, 1, 2]]);
        assert!(g.groups()[0].mutual.is_empty());
        assert_eq!(g.groups()[0].bytes_per_second, 10.0);

        // 4 → 2 → 1 → 4 is a cycle, 1 → 0 one-way, 3 alone, 5 ⇄ 6 another group.
        let g = TrafficGraph::from_edges(
            7,
            &[
                (4, 2, 1.0),
                (2, 1, 1.0),
                (1, 4, 1.0),
                (1, 0, 1.0),
                (6, 5, 1.0),
                (5, 6, 1.0),
            ],
            0.0,
        )
        .unwrap();
        assert_eq!(members(&g), vec![vec![0, 1, 2, 4], vec![5, 6]]);
        assert_eq!(g.groups()[0].mutual, vec![vec![1, 2, 4]]);
        assert_eq!(g.groups()[1].mutual, vec![vec![5, 6]]);
        assert_eq!(
            (0..7).map(|i| g.group_of(i)).collect::<Vec<_>>(),
            vec![Some(0), Some(0), Some(0), None, Some(0), Some(1), Some(1)]
        );
        assert_eq!(g.group_of(99), None);
    }

    #[test]
    fn threshold_drops_light_edges_from_the_graph_not_from_the_total() {
        let edges = [(0, 1, 100.0), (2, 3, 9.5), (4, 5, 10.0), (1, 0, 0.0)];
        let g = TrafficGraph::from_edges(6, &edges, 10.0).unwrap();
        assert_eq!(members(&g), vec![vec![0, 1], vec![4, 5]]);
        assert_eq!(g.graph().edge_count(), 2);
        assert_eq!(g.graph().node_count(), 6);
        assert_eq!(g.edges().len(), 3, "the zero edge is dropped");
        assert_eq!(g.total_bytes_per_second(), 119.5);
        assert_eq!(g.threshold(), 10.0);
        assert_eq!(g.pod_count(), 6);
        // Below the threshold, the pair is placed like any other pod.
        let r = g.cross_node(&[Some(0), Some(0), Some(0), Some(1), Some(1), Some(1)]);
        assert_eq!(r.cross_node_bytes_per_second, 9.5);
    }

    #[test]
    fn workload_edges_are_bundles_never_pod_pairs() {
        let snap = snapshot();
        let t = spec(
            r#"{"edges": [
              {"from": {"workload": "shop/Deployment/web"}, "to": {"workload": "shop/Deployment/api"}, "bytesPerSecond": 400},
              {"from": {"workload": "shop/Deployment/web"}, "to": {"workload": "shop/Deployment/web"}, "bytesPerSecond": 60},
              {"from": {"pod": "shop/web-1"}, "to": {"workload": "shop/Deployment/web"}, "bytesPerSecond": 10},
              {"from": {"workload": "data/StatefulSet/db"}, "to": {"pod": "data/db-0"}, "bytesPerSecond": 7},
              {"from": {"pod": "shop/lonely"}, "to": {"workload": "data/StatefulSet/db"}, "bytesPerSecond": 8},
              {"from": {"workload": "shop/Deployment/web"}, "to": {"workload": "shop/Deployment/api"}, "bytesPerSecond": 4}
            ]}"#,
        );
        let g = TrafficGraph::build(&snap, &t, 0.0).unwrap();
        assert!(triples(&g).is_empty(), "no edge has a pod at both ends");
        // Sorted by ends; db → db-0 has no pair of distinct pods; the two web → api edges
        // are summed.
        let bundles: Vec<_> = g
            .bundles()
            .iter()
            .map(|b| (b.from.clone(), b.to.clone(), b.pairs, b.bytes_per_second))
            .collect();
        assert_eq!(
            bundles,
            vec![
                (vec![3], vec![0], 1, 8.0),
                (vec![4], vec![4, 5], 1, 10.0),
                (vec![4, 5], vec![1, 2], 4, 404.0),
                (vec![4, 5], vec![4, 5], 2, 60.0),
            ]
        );
        assert_eq!(g.bundles()[2].bytes_per_pair(), 101.0);
        assert_eq!(g.total_bytes_per_second(), 482.0);
        assert_eq!(members(&g), vec![vec![0, 3], vec![1, 2, 4, 5]]);
        assert_eq!(g.groups()[1].mutual, vec![vec![4, 5]]);
        assert_eq!(g.groups()[1].bytes_per_second, 474.0);
        // One hub per kept bundle, one edge per end member: 4 hubs, 2 + 3 + 4 + 4 edges.
        assert_eq!(g.graph().node_count(), 6 + 4);
        assert_eq!(g.graph().edge_count(), 13);
        assert_eq!(
            g.partners(4).collect::<Vec<_>>(),
            vec![(5, 10.0), (1, 101.0), (2, 101.0), (5, 30.0), (5, 30.0)]
        );
        // Counted per node, as the pairs would be: db-0 b, api-1 a, api-2 b, lonely unplaced,
        // web-1 a, web-2 b. web-1 → web-2 10 across; web → api: 4→2 and 5→1 across (202);
        // web ⇄ web 60 across; lonely → db-0 8 unplaced.
        let before: Vec<Option<usize>> = snap.pods().iter().map(|p| p.node).collect();
        let r = g.cross_node(&before);
        assert_eq!(r.cross_node_bytes_per_second, 272.0);
        assert_eq!(r.unplaced_bytes_per_second, 8.0);
        // The threshold applies to a bundle's rate per pair: only web → api (101) is kept.
        let g = TrafficGraph::build(&snap, &t, 50.0).unwrap();
        assert_eq!(members(&g), vec![vec![1, 2, 4, 5]]);
        assert!(g.groups()[0].mutual.is_empty());
        assert!(g.is_kept_bundle(2) && !g.is_kept_bundle(3) && !g.is_kept_bundle(9));
        assert_eq!(g.partners(3).count(), 0);
    }

    /// A workload of 3,000 pods talking to itself is 8,997,000 pod pairs, held as one bundle:
    /// 6,000 graph edges, counted placement, one mutual group, and a split in chunks.
    #[test]
    fn a_large_workload_talking_to_itself_is_not_expanded() {
        let pods: Vec<String> = (0..3000)
            .map(|i| {
                format!(
                    r#"{{"namespace": "s", "name": "w-{i:04}", "nodeName": "n{}", "owner": {{"kind": "Deployment", "name": "w"}}}}"#,
                    i % 3
                )
            })
            .collect();
        let json = format!(
            r#"{{"nodes": [{nodes}], "pods": [{pods}]}}"#,
            nodes = (0..3)
                .map(|i| format!(
                    r#"{{"name": "n{i}", "allocatable": {{"cpu": "4", "memory": "16Gi"}}}}"#
                ))
                .collect::<Vec<_>>()
                .join(","),
            pods = pods.join(",")
        );
        let snap = Snapshot::new(serde_json::from_str(&json).unwrap()).unwrap();
        let t = spec(
            r#"{"edges": [{"from": {"workload": "s/Deployment/w"}, "to": {"workload": "s/Deployment/w"}, "bytesPerSecond": 8997000}]}"#,
        );
        let g = TrafficGraph::build(&snap, &t, 0.5).unwrap();
        assert_eq!(g.bundles()[0].pairs, 8_997_000);
        assert_eq!(g.bundles()[0].bytes_per_pair(), 1.0);
        assert_eq!(g.graph().edge_count(), 6000);
        assert_eq!(g.groups().len(), 1);
        assert_eq!(g.groups()[0].members.len(), 3000);
        assert_eq!(g.groups()[0].mutual.len(), 1);
        // 1,000 pods per node: 3 · 1000 · 999 pairs stay on a node, the rest cross.
        let before: Vec<Option<usize>> = snap.pods().iter().map(|p| p.node).collect();
        let r = g.cross_node(&before);
        assert_eq!(r.cross_node_bytes_per_second, 8_997_000.0 - 2_997_000.0);
        let mut half = before.clone();
        half[..1500].fill(None);
        // Placed: 1,500 pods, 1,500 · 1,499 pairs; the rest has an unplaced end.
        assert_eq!(
            g.cross_node(&half).unplaced_bytes_per_second,
            8_997_000.0 - 2_248_500.0
        );
        // Ten pods fit a bin: chunks of ten consecutive pods.
        let sizes: Vec<&[u64]> = vec![&[1]; 3000];
        let parts = g.split_to_fit(&g.groups()[0].members, &sizes, &[10]);
        assert_eq!(parts.len(), 300);
        assert_eq!(parts[0], (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn unknown_or_malformed_endpoints_name_the_edge_and_field() {
        let snap = snapshot();
        let err = |json: &str| {
            let e = TrafficGraph::build(&snap, &spec(json), 0.0).unwrap_err();
            (e.clone(), e.to_string())
        };
        let ok =
            r#"{"from": {"pod": "shop/web-1"}, "to": {"pod": "shop/web-2"}, "bytesPerSecond": 1}"#;
        let (e, msg) = err(&format!(
            r#"{{"edges": [{ok}, {{"from": {{"pod": "shop/web-1"}}, "to": {{"pod": "shop/nope"}}, "bytesPerSecond": 1}}]}}"#
        ));
        assert_eq!(
            e,
            CoreError::UnknownTrafficPod {
                edge: 1,
                field: "to".into(),
                pod: "shop/nope".into()
            }
        );
        assert_eq!(
            msg,
            "traffic edge 1: to names pod shop/nope, which is not in the snapshot"
        );
        // The kind must match the owner's exactly.
        let (e, msg) = err(
            r#"{"edges": [{"from": {"workload": "shop/StatefulSet/web"}, "to": {"pod": "shop/web-1"}, "bytesPerSecond": 1}]}"#,
        );
        assert!(matches!(
            e,
            CoreError::UnknownTrafficWorkload { edge: 0, .. }
        ));
        assert_eq!(
            msg,
            "traffic edge 0: from names workload shop/StatefulSet/web, which has no pod in the snapshot"
        );
        let (_, msg) = err(
            r#"{"edges": [{"from": {"workload": "other/Deployment/web"}, "to": {"pod": "shop/web-1"}, "bytesPerSecond": 1}]}"#,
        );
        assert!(
            msg.contains("from names workload other/Deployment/web"),
            "{msg}"
        );
        let (_, msg) = err(
            r#"{"edges": [{"from": {"pod": "shop/web-1"}, "to": {"pod": "web-1"}, "bytesPerSecond": 1}]}"#,
        );
        assert_eq!(
            msg,
            r#"traffic edge 0: to pod reference "web-1" is not namespace/name"#
        );
        let (_, msg) = err(
            r#"{"edges": [{"from": {"workload": "shop/web"}, "to": {"pod": "shop/web-1"}, "bytesPerSecond": 1}]}"#,
        );
        assert_eq!(
            msg,
            r#"traffic edge 0: from workload reference "shop/web" is not namespace/Kind/name"#
        );
        let (_, msg) = err(
            r#"{"edges": [{"from": {"workload": "shop//web"}, "to": {"pod": "shop/web-1"}, "bytesPerSecond": 1}]}"#,
        );
        assert!(msg.contains("is not namespace/Kind/name"), "{msg}");
    }

    #[test]
    fn bad_rates_and_thresholds_are_rejected() {
        let snap = snapshot();
        let t = spec(
            r#"{"edges": [{"from": {"pod": "shop/web-1"}, "to": {"pod": "shop/nope"}, "bytesPerSecond": -1.5}]}"#,
        );
        let e = TrafficGraph::build(&snap, &t, 0.0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "traffic edge 0: bytesPerSecond is -1.5, expected a number from 0 to 1e15 (a petabyte per second)"
        );
        for rate in [f64::NAN, f64::INFINITY, -0.001] {
            let mut t = t.clone();
            t.edges[0].to = Endpoint::Pod("shop/web-2".into());
            t.edges[0].bytes_per_second = rate;
            assert!(matches!(
                TrafficGraph::build(&snap, &t, 0.0),
                Err(CoreError::InvalidTrafficRate { edge: 0, .. })
            ));
            assert!(matches!(
                TrafficGraph::from_edges(2, &[(0, 1, 1.0), (1, 0, rate)], 0.0),
                Err(CoreError::InvalidTrafficRate { edge: 1, .. })
            ));
        }
        for threshold in [f64::NAN, -1.0, f64::INFINITY] {
            let e = TrafficGraph::from_edges(2, &[], threshold).unwrap_err();
            assert!(
                matches!(&e, CoreError::InvalidOption { field, .. } if field == "trafficThreshold")
            );
        }
        assert_eq!(
            TrafficGraph::from_edges(2, &[(0, 1, 1.0), (1, 2, 1.0)], 0.0)
                .unwrap_err()
                .to_string(),
            "traffic edge 1: to is item 2, out of range for 2 items"
        );
        assert!(matches!(
            pack_network(&[vec![1], vec![2]], &[1], &[], 0.0),
            Err(CoreError::ItemTooLarge { item: 1, .. })
        ));
    }

    #[test]
    fn the_format_is_strict() {
        let bad = [
            r#"{"edges": [{"from": {"pod": "a/b"}, "to": {"pod": "a/c"}, "bytesPerSecond": 1, "x": 1}]}"#,
            r#"{"edges": [{"from": {"node": "a"}, "to": {"pod": "a/c"}, "bytesPerSecond": 1}]}"#,
            r#"{"edges": [{"from": {"pod": "a/b", "workload": "a/K/c"}, "to": {"pod": "a/c"}, "bytesPerSecond": 1}]}"#,
            r#"{"edges": [{"from": {"pod": "a/b"}, "to": {"pod": "a/c"}, "bytes_per_second": 1}]}"#,
            r#"{"edge": []}"#,
        ];
        for json in bad {
            assert!(serde_json::from_str::<TrafficSpec>(json).is_err(), "{json}");
        }
        assert_eq!(spec("{}"), TrafficSpec::default());
        let t = spec(
            r#"{"edges": [{"from": {"pod": "a/b"}, "to": {"workload": "a/K/c"}, "bytesPerSecond": 2.5}]}"#,
        );
        let back: TrafficSpec = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn output_does_not_depend_on_edge_order() {
        // Parallel edges whose floating-point sum depends on the order of addition.
        let edges = vec![
            (0, 1, 0.1),
            (0, 1, 0.2),
            (0, 1, 0.3),
            (1, 2, 0.7),
            (2, 3, 1e-9),
            (3, 4, 0.6),
            (4, 3, 0.15),
            (5, 6, 0.25),
            (6, 0, 0.05),
            (0, 1, 1e15),
            (0, 1, 1.0),
        ];
        let items: Vec<Vec<u64>> = (0..7).map(|i| vec![3 + i % 3, 2]).collect();
        let reference = pack_network(&items, &[10, 10], &edges, 0.1).unwrap();
        let g0 = TrafficGraph::from_edges(7, &edges, 0.1).unwrap();
        let mut shuffled = edges.clone();
        let mut rng = crate::rng::Rng::new(7);
        for round in 0..20 {
            for i in (1..shuffled.len()).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                shuffled.swap(i, j);
            }
            let g = TrafficGraph::from_edges(7, &shuffled, 0.1).unwrap();
            let bits = |g: &TrafficGraph| -> Vec<(usize, usize, u64)> {
                g.edges()
                    .iter()
                    .map(|e| (e.from, e.to, e.bytes_per_second.to_bits()))
                    .collect()
            };
            assert_eq!(bits(&g), bits(&g0), "round {round}");
            assert_eq!(g.groups(), g0.groups(), "round {round}");
            assert_eq!(
                g.total_bytes_per_second().to_bits(),
                g0.total_bytes_per_second().to_bits()
            );
            let p = pack_network(&items, &[10, 10], &shuffled, 0.1).unwrap();
            assert_eq!(p, reference, "round {round}");
        }
    }

    #[test]
    fn cross_node_report_hand_checked() {
        // 0 → 1: 30, 1 → 2: 10, 2 → 0: 60, 3 → 0: 100 (3 is unplaced).
        let g = TrafficGraph::from_edges(
            4,
            &[(0, 1, 30.0), (1, 2, 10.0), (2, 0, 60.0), (3, 0, 100.0)],
            0.0,
        )
        .unwrap();
        let r = g.cross_node(&[Some(0), Some(0), Some(1), None]);
        assert_eq!(
            r,
            TrafficReport {
                total_bytes_per_second: 200.0,
                cross_node_bytes_per_second: 70.0,
                cross_node_share: 0.35,
                unplaced_bytes_per_second: 100.0,
            }
        );
        // A short placement leaves the rest unplaced; an empty graph reports zeros.
        assert_eq!(g.cross_node(&[]).unplaced_bytes_per_second, 200.0);
        let empty = TrafficGraph::from_edges(3, &[], 0.0).unwrap();
        assert_eq!(
            empty
                .cross_node(&[Some(0), Some(1), Some(2)])
                .cross_node_share,
            0.0
        );
        assert_eq!(
            serde_json::to_value(r).unwrap(),
            serde_json::json!({
                "totalBytesPerSecond": 200.0,
                "crossNodeBytesPerSecond": 70.0,
                "crossNodeShare": 0.35,
                "unplacedBytesPerSecond": 100.0
            })
        );
    }

    #[test]
    fn example_files_agree() {
        let snap: SnapshotSpec =
            serde_json::from_str(include_str!("../../examples/data/snapshot.json")).unwrap();
        let snap = Snapshot::new(snap).unwrap();
        let t = spec(include_str!("../../examples/data/traffic.json"));
        let g = TrafficGraph::build(&snap, &t, 10_000.0).unwrap();
        // Pods: report (0, node 0), postgres (1, node 1), kube-proxy (2, node 0),
        // web-q9w8e (3, node 1), web-x2x5z (4, node 0). kube-proxy's 1.2 kB/s is under the
        // threshold.
        assert_eq!(members(&g), vec![vec![0, 1, 3, 4]]);
        assert_eq!(g.groups()[0].mutual, vec![vec![1, 3, 4]]);
        let before: Vec<Option<usize>> = snap.pods().iter().map(|p| p.node).collect();
        let r = g.cross_node(&before);
        assert_eq!(r.total_bytes_per_second, 12_391_200.0);
        // web-x2x5z ⇄ postgres 1.2 M + 4.8 M, web ⇄ web 40 k, report 350 k, kube-proxy 1.2 k.
        assert_eq!(r.cross_node_bytes_per_second, 6_391_200.0);
        assert_eq!(r.unplaced_bytes_per_second, 0.0);
    }

    #[test]
    fn without_edges_it_is_best_fit_decreasing() {
        let items = vec![
            vec![7, 1],
            vec![5, 4],
            vec![4, 4],
            vec![1, 1],
            vec![3, 6],
            vec![6, 2],
        ];
        let p = pack_network(&items, &[10, 10], &[], 0.0).unwrap();
        let bfd = pack(&items, &[10, 10], StrategyKind::BestFit).unwrap();
        assert_eq!((p.assignment, p.bins), (bfd.assignment, bfd.bins));
        assert!(p.groups.is_empty() && p.parts.is_empty());
        let p = pack_network(&[], &[10], &[], 0.0).unwrap();
        assert_eq!(p.bins, 0);
    }
}
