//! The prediction of where kube-scheduler (v1.34) puts evicted pods, for the default profile
//! or the profiles of a [`SchedulerConfig`] (each pod by its `schedulerName`).
//!
//! kube-scheduler filters nodes (here: resources within allocatable, node schedulable, the
//! node-level constraints of [`crate::constraints`]: TaintToleration, NodeAffinity with
//! nodeSelector, NodePorts, volume zones, and the inter-pod filters of [`super::interpod`]),
//! and — in clusters of 100 nodes or more — stops after finding `numFeasibleNodesToFind`
//! feasible nodes, starting where the previous pod's search stopped (adaptive
//! `percentageOfNodesToScore`: `max(5, 50 − nodes/125)` %, at least 100 nodes). It scores the
//! feasible nodes with the default plugins and weights, which are all modelled here (a
//! profile may change the weights, disable plugins, and pick NodeResourcesFit's strategy:
//! LeastAllocated, MostAllocated or RequestedToCapacityRatio, over any resources):
//! NodeResourcesFit/LeastAllocated (1), NodeResourcesBalancedAllocation (1, skipped for pods
//! that request none of its resources), TaintToleration (3, PreferNoSchedule), NodeAffinity
//! (2, preferred terms), InterPodAffinity (2: the pod's preferred terms and existing pods'
//! terms that select it) and PodTopologySpread (2: `ScheduleAnyway` constraints, or the
//! system default hostname and zone spreading of a controller's pods), each with the
//! scheduler's normalisation and integer arithmetic, and ImageLocality (1) where the input
//! lists node images (`status.images`). kube-scheduler picks among the nodes tied for the top score
//! at random; we predict the first in search order (node-name order; the scheduler's is
//! zone-interleaved) and report the others, and the safety cap must hold on all of them.

use crate::constraints::{
    Violation, host_ports_free, node_allows, term_matches, toleration_matches,
};
use crate::model::{HostPort, TaintEffect};
use crate::plan::interpod::{Index, State};
use crate::plan::placement::StaticGroups;
use crate::plan::profile::{FitStrategy, SchedulerConfig, ScoreWeights, broken_linear};
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
    /// The profiles, compiled.
    profiles: Vec<Profile>,
    /// Per pod, its profile in `profiles` (`None`: its scheduler is not modelled).
    pod_profile: Vec<Option<u8>>,
    /// Host ports in use per node.
    ports: Vec<Vec<HostPort>>,
    /// Inter-pod constraints and preferences.
    inter: State<'a>,
    interpod: &'a Index,
    /// Static constraints, cached per group of pods.
    statics: &'a StaticGroups,
    /// Whether some node has a PreferNoSchedule taint (TaintToleration scoring matters).
    prefer_no_schedule: bool,
    /// The images on the nodes, when the input lists any (ImageLocality scoring).
    images: Option<Images>,
    /// The node the last failed [`Self::place`] would have taken over the cap.
    over_cap: Option<usize>,
    /// Bumped by every change of the state a search reads (loads, ports, inter-pod counts).
    generation: u64,
    /// The last search, for [`Self::place_again`].
    last: Search,
}

/// One search for a node: what [`SchedulerSim::place_again`] resumes after more nodes are
/// cordoned, when nothing else changed.
#[derive(Debug, Clone, Default)]
struct Search {
    /// The pod, `None` when there is nothing to resume.
    pod: Option<usize>,
    /// The state's generation and the ring position it started from.
    generation: u64,
    start: usize,
    /// Nodes of the ring looked at, feasible nodes scored, and nodes with room that a
    /// constraint rejected.
    processed: usize,
    scored: Vec<Scored>,
    rejected: Vec<usize>,
}

/// kube-scheduler's image states: per image name its size (as the first node listing it
/// reports it) and the number of nodes that have it, and each node's image names.
#[derive(Debug, Clone)]
struct Images {
    states: std::collections::BTreeMap<String, (u64, u32)>,
    on_node: Vec<std::collections::BTreeSet<String>>,
}

impl Images {
    fn new(snap: &Snapshot) -> Option<Self> {
        if snap.nodes().iter().all(|n| n.spec.images.is_empty()) {
            return None;
        }
        let mut states = std::collections::BTreeMap::new();
        let mut on_node = Vec::with_capacity(snap.nodes().len());
        for node in snap.nodes() {
            let mut names = std::collections::BTreeSet::new();
            for image in &node.spec.images {
                for name in &image.names {
                    if names.insert(name.clone()) {
                        states
                            .entry(name.clone())
                            .or_insert((image.size_bytes, 0))
                            .1 += 1;
                    }
                }
            }
            on_node.push(names);
        }
        Some(Self { states, on_node })
    }

    /// ImageLocality's score (0–100) of node `n` for a pod with `images` (its containers'
    /// images, normalised by [`normalized_image_name`]) and `containers` containers, init
    /// containers included.
    fn score(
        &self,
        images: &[std::borrow::Cow<'_, str>],
        containers: usize,
        n: usize,
        total_nodes: usize,
    ) -> i64 {
        const MB: i64 = 1024 * 1024;
        const MIN: i64 = 23 * MB;
        const MAX_PER_CONTAINER: i64 = 1000 * MB;
        let mut sum: i64 = 0;
        for name in images {
            if self.on_node[n].contains(name.as_ref())
                && let Some(&(size, nodes)) = self.states.get(name.as_ref())
            {
                let spread = f64::from(nodes) / total_nodes as f64;
                sum = sum.saturating_add((size as f64 * spread) as i64);
            }
        }
        let max = MAX_PER_CONTAINER.saturating_mul(containers as i64);
        if max <= MIN {
            return 0;
        }
        let sum = sum.clamp(MIN, max);
        100 * (sum - MIN) / (max - MIN)
    }
}

/// An image reference with the `:latest` tag added when it has none, as kube-scheduler
/// compares them.
fn normalized_image_name(name: &str) -> std::borrow::Cow<'_, str> {
    let colon = name.rfind(':');
    let slash = name.rfind('/');
    if colon.is_none_or(|c| slash.is_some_and(|s| c <= s)) {
        std::borrow::Cow::Owned(format!("{name}:latest"))
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

/// Whether `pod` tolerates the taint kube-scheduler's NodeUnschedulable filter tests a
/// cordoned node with (`node.kubernetes.io/unschedulable:NoSchedule`): such a pod may be
/// scheduled onto a cordoned node, the one being drained included.
pub(crate) fn tolerates_cordon(pod: &crate::model::PodSpec) -> bool {
    let taint = crate::model::Taint {
        key: "node.kubernetes.io/unschedulable".into(),
        value: None,
        effect: TaintEffect::NoSchedule,
    };
    pod.tolerations
        .iter()
        .any(|t| toleration_matches(t, &taint))
}

/// A `NoExecute` taint of `node` that `pod` tolerates only for a while (every matching
/// toleration has `tolerationSeconds`), with the time the taint manager then gives it (the
/// shortest): kube-scheduler places the pod there, and it is evicted again later.
pub(crate) fn timed_no_execute(
    pod: &crate::model::PodSpec,
    node: &crate::model::NodeSpec,
) -> Option<(String, i64)> {
    node.taints
        .iter()
        .filter(|t| t.effect == TaintEffect::NoExecute)
        .find_map(|t| {
            let mut seconds: Option<i64> = None;
            for tol in pod
                .tolerations
                .iter()
                .filter(|tol| toleration_matches(tol, t))
            {
                match tol.toleration_seconds {
                    None => return None,
                    Some(s) => seconds = Some(seconds.map_or(s, |x| x.min(s))),
                }
            }
            seconds.map(|s| (t.to_string(), s))
        })
}

/// Where a scored resource's figures come from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// CPU or memory (dimension 0 or 1): the requests as the scoring counts them (a
    /// container without a request counts 100m / 200 MiB) for NodeResourcesFit, the plain
    /// requests for BalancedAllocation.
    Scoring(usize),
    /// Another dimension: plain requests; `scalar` (an extended resource) is left out for a
    /// pod that does not request it.
    Plain { dim: usize, scalar: bool },
}

/// A profile, with resource names resolved to dimensions.
#[derive(Debug, Clone)]
struct Profile {
    to_find: usize,
    /// NodeResourcesFit: resources with weights, and the strategy.
    fit: Vec<(Source, i64)>,
    strategy: FitStrategy,
    /// NodeResourcesBalancedAllocation's resources.
    balanced: Vec<Source>,
    weights: ScoreWeights,
    hard_pod_affinity_weight: i64,
    ignore_preferred_terms_of_existing_pods: bool,
}

impl Profile {
    fn new(
        snap: &Snapshot,
        config: &SchedulerConfig,
        p: &crate::plan::profile::SchedulerProfile,
    ) -> Self {
        let dims = snap.dims();
        // kube-scheduler scores cpu, memory, ephemeral-storage and the node's scalar
        // resources; a name that is none of these (`pods`, a resource no node has) scores
        // nothing, as there.
        let source = |name: &str| -> Option<Source> {
            match name {
                crate::resources::CPU => Some(Source::Scoring(Dimensions::CPU)),
                crate::resources::MEMORY => Some(Source::Scoring(Dimensions::MEMORY)),
                crate::resources::PODS => None,
                _ if name.starts_with(crate::snapshot::ATTACH_PREFIX) => None,
                _ => (0..dims.len())
                    .find(|&d| dims.name(d) == name)
                    .map(|dim| Source::Plain {
                        dim,
                        scalar: name != crate::resources::EPHEMERAL_STORAGE,
                    }),
            }
        };
        Self {
            to_find: feasible_nodes_to_find(snap.nodes().len(), config.percentage(p)),
            fit: p
                .fit
                .resources
                .iter()
                .filter_map(|r| source(&r.name).map(|s| (s, r.weight)))
                .collect(),
            strategy: p.fit.strategy.clone(),
            balanced: p
                .balanced_resources
                .iter()
                .filter_map(|r| source(r))
                .collect(),
            weights: p.weights,
            hard_pod_affinity_weight: p.hard_pod_affinity_weight,
            ignore_preferred_terms_of_existing_pods: p.ignore_preferred_terms_of_existing_pods,
        }
    }
}

/// A feasible node with its resource score and the raw scores normalised across nodes.
#[derive(Debug, Clone)]
struct Scored {
    node: usize,
    /// NodeResourcesFit and BalancedAllocation, weighted (neither is normalised).
    resources: i64,
    untolerated: i64,
    affinity: i64,
    inter: i64,
    /// ImageLocality, already 0–100.
    image: i64,
}

/// Where the prediction puts a pod: `node`, and the other nodes that tied with it for the
/// top score (kube-scheduler picks among all of them at random).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prediction {
    pub node: usize,
    pub tied: Vec<usize>,
}

/// How many feasible nodes kube-scheduler looks for before scoring, for its
/// `percentageOfNodesToScore` (0: adaptive, `max(5, 50 − nodes/125)` %).
pub(crate) fn feasible_nodes_to_find(nodes: usize, percentage: u32) -> usize {
    const MIN_FEASIBLE: usize = 100;
    if nodes < MIN_FEASIBLE {
        return nodes;
    }
    let percentage = if percentage == 0 {
        50usize.saturating_sub(nodes / 125).max(5)
    } else {
        (percentage as usize).min(100)
    };
    (nodes * percentage / 100).max(MIN_FEASIBLE)
}

impl<'a> SchedulerSim<'a> {
    /// Every pod where it is now, each placed by the profile of its `schedulerName` in
    /// `config` (which [`SchedulerConfig::validate`] accepted).
    pub fn new(
        snap: &'a Snapshot,
        interpod: &'a Index,
        statics: &'a StaticGroups,
        config: &SchedulerConfig,
    ) -> Self {
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
            profiles: config
                .profiles
                .iter()
                .map(|p| Profile::new(snap, config, p))
                .collect(),
            pod_profile: snap
                .pods()
                .iter()
                .map(|p| {
                    let name = p
                        .spec
                        .scheduler_name
                        .as_deref()
                        .unwrap_or(crate::plan::profile::DEFAULT_SCHEDULER);
                    config
                        .profiles
                        .iter()
                        .position(|q| q.scheduler_name == name)
                        .and_then(|i| u8::try_from(i).ok())
                })
                .collect(),
            ports,
            inter: State::new(interpod, snap),
            interpod,
            statics,
            images: Images::new(snap),
            over_cap: None,
            generation: 0,
            last: Search::default(),
            prefer_no_schedule: snap.nodes().iter().any(|node| {
                node.spec
                    .taints
                    .iter()
                    .any(|t| t.effect == TaintEffect::PreferNoSchedule)
            }),
        }
    }

    /// Predicts the node for `pod` among the nodes kube-scheduler considers: Ready nodes that
    /// are neither unschedulable nor `cordoned(node)` (the plan's own cordons), cordoned ones
    /// too when the pod tolerates `node.kubernetes.io/unschedulable` (NodeUnschedulable);
    /// then checks every node that ties for the top score (kube-scheduler picks among those
    /// at random): `off_plan(node)` must be `None` (else it says why the plan may not use
    /// that node) and the pod must fit under `limit` (the safety cap, per node and
    /// dimension). On success the pod is placed on the first of them (in search order) and
    /// the prediction returned.
    pub fn place(
        &mut self,
        pod: usize,
        cordoned: impl Fn(usize) -> bool,
        off_plan: impl Fn(usize) -> Option<String>,
        limit: &[u64],
        cap: u8,
    ) -> Result<Prediction, Reason> {
        self.search(pod, false, cordoned, off_plan, limit, cap)
    }

    /// [`Self::place`] again for the pod whose `place` just failed, once more nodes are
    /// cordoned and nothing else changed (the failed pod [`Self::unplace`]d, the position
    /// [`Self::rewind`]ed): the same prediction as `place`, but the nodes already scored are
    /// not scored again — the newly cordoned ones leave the sample, and the search goes on
    /// along the ring until the sample is full again. Falls back to `place` otherwise.
    ///
    /// # Complexity
    /// O(s + r · d) for a sample of s nodes and r nodes newly looked at, instead of
    /// `place`'s whole search.
    pub fn place_again(
        &mut self,
        pod: usize,
        cordoned: impl Fn(usize) -> bool,
        off_plan: impl Fn(usize) -> Option<String>,
        limit: &[u64],
        cap: u8,
    ) -> Result<Prediction, Reason> {
        self.search(pod, true, cordoned, off_plan, limit, cap)
    }

    fn search(
        &mut self,
        pod: usize,
        again: bool,
        cordoned: impl Fn(usize) -> bool,
        off_plan: impl Fn(usize) -> Option<String>,
        limit: &[u64],
        cap: u8,
    ) -> Result<Prediction, Reason> {
        let p = &self.snap.pods()[pod];
        let n = self.snap.nodes().len();
        self.over_cap = None;
        let resume = again
            && self.last.pod == Some(pod)
            && self.last.generation == self.generation
            && self.last.start == self.next_start;
        let mut last = std::mem::take(&mut self.last);
        let Some(profile) = self.pod_profile[pod].map(|i| &self.profiles[usize::from(i)]) else {
            return Err(Reason {
                code: ReasonCode::SchedulerNotModelled,
                message: format!(
                    "pod {} is placed by scheduler {:?}, which the prediction does not model",
                    p.spec.key(),
                    p.spec.scheduler_name.as_deref().unwrap_or_default()
                ),
            });
        };
        let [sc, sm] = p.scoring.map(u128::from);
        let weights = profile.weights;
        // BalancedAllocation skips pods that request none of its resources.
        let best_effort = weights.node_resources_balanced_allocation == 0
            || profile.balanced.iter().all(|s| match *s {
                Source::Scoring(d) | Source::Plain { dim: d, .. } => p.request[d] == 0,
            });
        // InterPodAffinity skips pods without preferred terms when told to.
        let skip_inter = weights.inter_pod_affinity == 0
            || (profile.ignore_preferred_terms_of_existing_pods
                && p.spec.preferred_pod_affinity.is_empty()
                && p.spec.preferred_pod_anti_affinity.is_empty());
        // The pod leaves its node before its replacement is scheduled.
        self.inter.remove(pod);
        let dynamic = self.interpod.constrained(pod);
        let cordon_ok = tolerates_cordon(&p.spec);
        // Normalised once per pod, not per node.
        let pod_images: Vec<std::borrow::Cow<'_, str>> = match &self.images {
            Some(_) => p
                .spec
                .images
                .iter()
                .map(|i| normalized_image_name(i))
                .collect(),
            None => Vec::new(),
        };
        let open = |i: usize| {
            let node = &self.snap.nodes()[i].spec;
            node.ready && (cordon_ok || !(node.unschedulable || cordoned(i)))
        };
        // The sample scored, and the nodes with room that a constraint rejects (explained
        // only if no node is found).
        let (mut scored, mut rejected_nodes, mut processed) = if resume {
            // Only cordons were added: the nodes they close leave the sample.
            last.scored.retain(|s| open(s.node));
            last.rejected.retain(|&i| open(i));
            (last.scored, last.rejected, last.processed)
        } else {
            last.scored.clear();
            last.rejected.clear();
            (last.scored, last.rejected, 0)
        };
        let mut found = scored.len();
        // The ring from `next_start`, without a division per node; a resumed search goes on
        // where the last one stopped.
        let ring = (self.next_start..n)
            .chain(0..self.next_start.min(n))
            .skip(processed);
        for i in ring {
            if found == profile.to_find {
                break;
            }
            processed += 1;
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
            // (requested with the pod, allocatable) of a resource, or None when
            // kube-scheduler leaves it out of the score.
            let figures = |source: Source, scoring_counts: bool| -> Option<(u128, u64)> {
                let (requested, a) = match source {
                    Source::Scoring(d) if scoring_counts => {
                        (self.scoring[i * 2 + d] + [sc, sm][d], alloc[d])
                    }
                    Source::Scoring(d) => (u128::from(load[d] + p.request[d]), alloc[d]),
                    Source::Plain { dim, scalar } => {
                        if scalar && p.request[dim] == 0 {
                            return None;
                        }
                        (u128::from(load[dim] + p.request[dim]), alloc[dim])
                    }
                };
                (a > 0).then_some((requested, a))
            };
            let fit = if weights.node_resources_fit == 0 {
                0
            } else {
                fit_score(
                    &profile.strategy,
                    profile
                        .fit
                        .iter()
                        .filter_map(|&(s, w)| figures(s, true).map(|(r, a)| (r, a, w))),
                )
            };
            let balanced = if best_effort {
                0
            } else {
                balanced_allocation(profile.balanced.iter().filter_map(|&s| figures(s, false)))
            };
            let node = &self.snap.nodes()[i].spec;
            scored.push(Scored {
                node: i,
                resources: i64::from(weights.node_resources_fit) * fit
                    + i64::from(weights.node_resources_balanced_allocation) * balanced,
                untolerated: if self.prefer_no_schedule {
                    node.taints
                        .iter()
                        .filter(|t| {
                            t.effect == TaintEffect::PreferNoSchedule
                                && !p
                                    .spec
                                    .tolerations
                                    .iter()
                                    .any(|tol| toleration_matches(tol, t))
                        })
                        .count() as i64
                } else {
                    0
                },
                affinity: p
                    .spec
                    .preferred_node_affinity
                    .iter()
                    .filter(|t| term_matches(&t.preference, node))
                    .map(|t| i64::from(t.weight))
                    .sum(),
                inter: if skip_inter {
                    0
                } else {
                    self.inter
                        .preference(pod, i, profile.hard_pod_affinity_weight)
                },
                image: self.images.as_ref().map_or(0, |images| {
                    images.score(
                        &pod_images,
                        p.spec.containers.len() + p.spec.init_containers.len(),
                        i,
                        n,
                    )
                }),
            });
        }
        let start = self.next_start;
        if n > 0 {
            self.next_start = (self.next_start + processed) % n;
        }
        let outcome = self.decide(
            pod,
            &weights,
            &scored,
            &rejected_nodes,
            off_plan,
            limit,
            cap,
        );
        self.last = Search {
            pod: Some(pod),
            generation: self.generation,
            start,
            processed,
            scored,
            rejected: rejected_nodes,
        };
        outcome
    }

    /// The prediction among the `scored` sample of a search for `pod` (the error names the
    /// constraint that `rejected` most often failed when the sample is empty), placing the
    /// pod on success.
    #[allow(clippy::too_many_arguments)]
    fn decide(
        &mut self,
        pod: usize,
        weights: &ScoreWeights,
        scored: &[Scored],
        rejected_nodes: &[usize],
        off_plan: impl Fn(usize) -> Option<String>,
        limit: &[u64],
        cap: u8,
    ) -> Result<Prediction, Reason> {
        let p = &self.snap.pods()[pod];
        let [sc, sm] = p.scoring.map(u128::from);
        let nodes: Vec<usize> = scored.iter().map(|s| s.node).collect();
        let spread = if weights.pod_topology_spread == 0 {
            None
        } else {
            self.inter.spread_scores(pod, &nodes)
        };
        let top = top_scores(scored, spread.as_deref(), weights);
        let Some(&i) = top.first() else {
            let mut rejected: Vec<(Violation, usize)> = Vec::new();
            for &i in rejected_nodes {
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
                    "kube-scheduler would find no node for pod {}: {count} node(s) with room are excluded by {}",
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
        let tie = |top: &[usize]| {
            if top.len() > 1 {
                format!(" (one of {} nodes tied for its top score)", top.len())
            } else {
                String::new()
            }
        };
        for &t in &top {
            if let Some(why) = off_plan(t) {
                return Err(Reason {
                    code: ReasonCode::SchedulerOffPlan,
                    message: format!(
                        "kube-scheduler could place pod {} on node {}{}, which is {why}",
                        p.spec.key(),
                        self.snap.nodes()[t].spec.name,
                        tie(&top),
                    ),
                });
            }
            let load = &self.load[t * self.d..(t + 1) * self.d];
            let lim = &limit[t * self.d..(t + 1) * self.d];
            if let Some(dim) = (0..self.d).find(|&k| load[k] + p.request[k] > lim[k]) {
                self.over_cap = Some(t);
                let alloc = self.snap.nodes()[t].allocatable[dim];
                let pct = (load[dim] + p.request[dim]) as f64 * 100.0 / alloc as f64;
                return Err(Reason {
                    code: ReasonCode::SchedulerOverCap,
                    message: format!(
                        "kube-scheduler could place pod {} on node {}{}, taking its {} to {pct:.0} % of allocatable, over the {cap} % cap",
                        p.spec.key(),
                        self.snap.nodes()[t].spec.name,
                        tie(&top),
                        self.snap.dims().name(dim),
                    ),
                });
            }
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
        self.generation += 1;
        Ok(Prediction {
            node: i,
            tied: top[1..].to_vec(),
        })
    }

    /// The node that made the last [`Self::place`] fail by going over the cap (the predicted
    /// node or one tied with it), if that was why it failed.
    pub fn over_cap(&self) -> Option<usize> {
        self.over_cap
    }

    /// Where the next search starts (kube-scheduler's round-robin position), to be handed
    /// back to [`Self::rewind`].
    pub fn position(&self) -> usize {
        self.next_start
    }

    /// Undoes [`Self::place`] of `pod`: takes it off `placed_on` (its resources, scoring
    /// counts, host ports and inter-pod counts; `None` when `place` failed) and puts it back
    /// on its own node in the inter-pod counts. Undo placements in reverse order, then
    /// [`Self::rewind`] to the position saved before the first of them.
    pub fn unplace(&mut self, pod: usize, placed_on: Option<usize>) {
        let p = &self.snap.pods()[pod];
        if let Some(i) = placed_on {
            self.generation += 1;
            for (l, r) in self.load[i * self.d..(i + 1) * self.d]
                .iter_mut()
                .zip(&p.request)
            {
                *l -= r;
            }
            let [sc, sm] = p.scoring.map(u128::from);
            self.scoring[i * 2] -= sc;
            self.scoring[i * 2 + 1] -= sm;
            let kept = self.ports[i].len() - p.spec.host_ports.len();
            self.ports[i].truncate(kept);
        }
        self.inter.remove(pod);
        if let (Some(n), false) = (p.node, p.spec.phase.is_terminal()) {
            self.inter.place(pod, n);
        }
    }

    /// Sets where the next search starts (see [`Self::position`]).
    pub fn rewind(&mut self, position: usize) {
        self.next_start = position;
    }

    /// Takes placed pod `pod` out of the inter-pod counts (its resources and host ports
    /// stay): for a placement that is only assumed, which must not relax another pod's
    /// affinity or spread.
    pub fn forget_constraints(&mut self, pod: usize) {
        self.generation += 1;
        self.inter.remove(pod);
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

/// The nodes with the top total score, in search order, once TaintToleration (fewest
/// untolerated PreferNoSchedule taints, reversed max-normalised), NodeAffinity (preferred
/// term weights, max-normalised), InterPodAffinity (min-max-normalised, in floating point
/// and truncated as kube-scheduler does) and PodTopologySpread (`spread`, already
/// normalised; `None` when it skips the pod) are added with the profile's `weights`.
fn top_scores(scored: &[Scored], spread: Option<&[i64]>, weights: &ScoreWeights) -> Vec<usize> {
    let w = |x: u32| i64::from(x);
    let max_untolerated = scored.iter().map(|s| s.untolerated).max().unwrap_or(0);
    let max_affinity = scored.iter().map(|s| s.affinity).max().unwrap_or(0);
    let min_inter = scored.iter().map(|s| s.inter).min().unwrap_or(0);
    let max_inter = scored.iter().map(|s| s.inter).max().unwrap_or(0);
    let mut best = i64::MIN;
    let mut top = Vec::new();
    for (k, s) in scored.iter().enumerate() {
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
            (100.0 * ((s.inter - min_inter) as f64 / (max_inter - min_inter) as f64)) as i64
        } else {
            0
        };
        let spread = spread.map_or(0, |v| v[k]);
        let score = s.resources
            + w(weights.image_locality) * s.image
            + w(weights.taint_toleration) * taint
            + w(weights.node_affinity) * affinity
            + w(weights.inter_pod_affinity) * inter
            + w(weights.pod_topology_spread) * spread;
        if score > best {
            best = score;
            top.clear();
        }
        if score == best {
            top.push(s.node);
        }
    }
    top
}

/// NodeResourcesFit's score, 0–100, over `(requested, allocatable, weight)` of the scored
/// resources (allocatable non-zero), with kube-scheduler's integer arithmetic: the weighted
/// mean of each resource's score, truncated (rounded for RequestedToCapacityRatio, which
/// also leaves resources scoring 0 out of the mean).
fn fit_score(strategy: &FitStrategy, resources: impl Iterator<Item = (u128, u64, i64)>) -> i64 {
    let (mut sum, mut weights) = (0i64, 0i64);
    for (requested, allocatable, weight) in resources {
        let score = match strategy {
            FitStrategy::LeastAllocated => least_allocated(allocatable, requested),
            FitStrategy::MostAllocated => most_allocated(allocatable, requested),
            FitStrategy::RequestedToCapacityRatio { shape } => {
                let a = u128::from(allocatable);
                let utilization = if requested > a {
                    100
                } else {
                    (requested * 100 / a) as i64
                };
                let score = broken_linear(shape, utilization);
                if score <= 0 {
                    continue;
                }
                score
            }
        };
        sum += score * weight;
        weights += weight;
    }
    if weights == 0 {
        0
    } else if matches!(strategy, FitStrategy::RequestedToCapacityRatio { .. }) {
        (sum as f64 / weights as f64).round() as i64
    } else {
        sum / weights
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

/// NodeResourcesFit MostAllocated score of one resource, 0–100: requests beyond allocatable
/// (pods without requests count default ones) count as full.
fn most_allocated(allocatable: u64, requested: u128) -> i64 {
    let allocatable = u128::from(allocatable);
    if allocatable == 0 {
        return 0;
    }
    (requested.min(allocatable) * 100 / allocatable) as i64
}

/// NodeResourcesBalancedAllocation score over `(requested, allocatable)` of its resources
/// (allocatable non-zero), 0–100: one minus the standard deviation of the requested
/// fractions (each at most 1).
fn balanced_allocation(resources: impl Iterator<Item = (u128, u64)> + Clone) -> i64 {
    // No allocation: this runs for every node scored for every pod predicted.
    let fraction = |(r, a): (u128, u64)| (r as f64 / a as f64).min(1.0);
    let (mut n, mut sum, mut first) = (0usize, 0.0f64, [0.0f64; 2]);
    for f in resources.clone().map(fraction) {
        if n < 2 {
            first[n] = f;
        }
        n += 1;
        sum += f;
    }
    let std = match n {
        0 | 1 => 0.0,
        2 => ((first[0] - first[1]) / 2.0).abs(),
        _ => {
            let mean = sum / n as f64;
            let var = resources
                .map(fraction)
                .map(|f| (f - mean) * (f - mean))
                .sum::<f64>()
                / n as f64;
            var.sqrt()
        }
    };
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
        assert_eq!(balanced_allocation([(2, 4), (8, 16)].into_iter()), 100);
        assert_eq!(balanced_allocation([(4, 4), (0, 16)].into_iter()), 50);
        assert_eq!(balanced_allocation([(6, 4), (0, 16)].into_iter()), 50); // fractions capped at 1
        assert_eq!(balanced_allocation([(4, 4)].into_iter()), 100); // one resource
        // Three resources: population standard deviation of 0.5, 0.25, 0 is 0.204.
        assert_eq!(
            balanced_allocation([(2, 4), (1, 4), (0, 4)].into_iter()),
            79
        );
        assert_eq!(most_allocated(4000, 1000), 25);
        assert_eq!(most_allocated(4000, 5000), 100); // default requests beyond allocatable
    }

    #[test]
    fn fit_strategies_weigh_resources_as_kube_scheduler() {
        use crate::plan::profile::ShapePoint;
        // kube-scheduler's most_allocated_test "resources with weights": cpu 1, memory 2 …
        // here cpu 3000/4000 (75) weight 1 and memory 2 GiB/10 GiB (20) weight 2: (75 + 40) / 3.
        let r = [(3000u128, 4000u64, 1i64), (2 << 30, 10 << 30, 2)];
        assert_eq!(fit_score(&FitStrategy::MostAllocated, r.into_iter()), 38);
        assert_eq!(
            fit_score(&FitStrategy::LeastAllocated, r.into_iter()),
            (25 + 160) / 3
        );
        let packing = FitStrategy::RequestedToCapacityRatio {
            shape: vec![ShapePoint::new(0, 0), ShapePoint::new(100, 10)],
        };
        // round((75 + 2 · 20) / 3) = round(38.33)
        assert_eq!(fit_score(&packing, r.into_iter()), 38);
        // A resource scoring 0 leaves the mean: only cpu counts.
        let r0 = [(3000u128, 4000u64, 1i64), (0, 10 << 30, 2)];
        assert_eq!(fit_score(&packing, r0.into_iter()), 75);
        assert_eq!(
            fit_score(&FitStrategy::MostAllocated, std::iter::empty()),
            0
        );
    }

    /// `place_again` after a steering cordon predicts exactly what a fresh `place` does,
    /// on a generated cluster with every kind of constraint, a sampled search (300 nodes,
    /// 144 scored) and a low cap so that steering happens often.
    #[test]
    fn a_resumed_search_predicts_as_a_fresh_one() {
        let snap = Snapshot::new(crate::testing::generate(
            7,
            crate::testing::ClusterShape {
                nodes: 300,
                pods_per_node: 8,
                blocking_percent: 0,
                constraints: true,
            },
        ))
        .unwrap();
        let interpod = Index::new(&snap, |_| true);
        let statics = StaticGroups::new(&snap);
        let config = SchedulerConfig::default();
        let mut sim = SchedulerSim::new(&snap, &interpod, &statics, &config);
        let cap = 55;
        let limit: Vec<u64> = snap
            .nodes()
            .iter()
            .flat_map(|n| n.allocatable.iter().map(|a| a * cap / 100))
            .collect();
        let mut cordoned = vec![false; snap.nodes().len()];
        let (mut resumed, mut placed_after_steering) = (0, 0);
        for p in (0..snap.pods().len()).step_by(3).take(600) {
            if snap.pods()[p].node.is_none() {
                continue;
            }
            let before = sim.position();
            let mut outcome = sim.place(p, |i| cordoned[i], |_| None, &limit, cap as u8);
            for _ in 0..8 {
                let Some(y) = sim.over_cap().filter(|&y| !cordoned[y]) else {
                    break;
                };
                sim.unplace(p, None);
                sim.rewind(before);
                cordoned[y] = true;
                let mut fresh = sim.clone();
                let expected = fresh.place(p, |i| cordoned[i], |_| None, &limit, cap as u8);
                outcome = sim.place_again(p, |i| cordoned[i], |_| None, &limit, cap as u8);
                assert_eq!(outcome, expected, "pod {p} after cordoning {y}");
                assert_eq!(sim.position(), fresh.position());
                assert_eq!(sim.over_cap(), fresh.over_cap());
                assert_eq!(sim.load, fresh.load);
                resumed += 1;
                placed_after_steering += usize::from(outcome.is_ok());
            }
            if outcome.is_err() {
                sim.unplace(p, None);
                sim.rewind(before);
            }
        }
        // The test exercises what it claims to.
        assert!(resumed > 50, "{resumed} resumed searches");
        assert!(placed_after_steering > 5, "{placed_after_steering} placed");
    }

    #[test]
    fn image_names_get_the_latest_tag_when_they_have_none() {
        assert_eq!(normalized_image_name("nginx"), "nginx:latest");
        assert_eq!(normalized_image_name("nginx:1.27"), "nginx:1.27");
        assert_eq!(
            normalized_image_name("registry:5000/team/app"),
            "registry:5000/team/app:latest"
        );
        assert_eq!(
            normalized_image_name("registry:5000/team/app:2"),
            "registry:5000/team/app:2"
        );
    }

    #[test]
    fn adaptive_percentage_of_nodes_to_score() {
        assert_eq!(feasible_nodes_to_find(10, 0), 10);
        assert_eq!(feasible_nodes_to_find(99, 0), 99);
        assert_eq!(feasible_nodes_to_find(100, 0), 100); // 49 % of 100 is below the minimum
        assert_eq!(feasible_nodes_to_find(400, 0), 188); // 50 − 3 = 47 %
        assert_eq!(feasible_nodes_to_find(1000, 0), 420); // 50 − 8 = 42 %
        assert_eq!(feasible_nodes_to_find(5000, 0), 500); // 50 − 40 = 10 %
        assert_eq!(feasible_nodes_to_find(10_000, 0), 500); // floor of 5 %
        assert_eq!(feasible_nodes_to_find(400, 100), 400);
        assert_eq!(feasible_nodes_to_find(1000, 20), 200);
        assert_eq!(feasible_nodes_to_find(1000, 5), 100); // at least 100
    }
}
