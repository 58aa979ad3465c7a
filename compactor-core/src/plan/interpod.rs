//! Inter-pod constraints, indexed by topology domain and label: required pod affinity and
//! anti-affinity (both directions), topology spread (`DoNotSchedule` filters), and the
//! preferred pod (anti-)affinity score, as kube-scheduler's InterPodAffinity and
//! PodTopologySpread plugins compute them.
//!
//! kube-scheduler recomputes these from every pod on every node for each pod it schedules,
//! which makes InterPodAffinity its slowest filter. Here the questions are answered from
//! counters kept up to date as pods move:
//!
//! - a *clause* is "pods in these namespaces whose labels match this selector"; its members
//!   are found once, through a namespace index and a `key=value` posting index;
//! - a *counter* counts a clause's members per domain of one topology key (optionally only
//!   on the nodes a spread constraint's inclusion policies allow). Counters are shared by all
//!   pods with the same term, so a Deployment's 100 replicas use one;
//! - moving a pod updates the counters it is a member of, O(c) for c counters;
//! - checking a node is O(t) lookups for the pod's t terms (plus the existing pods' terms
//!   that select it), independent of the number of pods.
//!
//! [`Index`] is built once per plan; [`State`] holds where pods are and the counts, and is
//! cheap to rebuild for each scheduler replay.
//!
//! Semantics, as in kube-scheduler (v1.34):
//! - affinity: for every term the node must have the topology label and a pod matching
//!   *all* the pod's affinity terms must be in its domain — unless no such pod exists
//!   anywhere and the pod matches all its own terms (the first pod of a group);
//! - anti-affinity: no pod matching a term in the node's domain (a node without the label
//!   passes), and no pod in the domain whose own anti-affinity term matches this pod;
//! - topology spread: the node must carry every constraint's topology label; its domain's
//!   count (plus one when the pod matches its own selector) minus the minimum over eligible
//!   domains (0 when there are fewer than `minDomains`) must not exceed `maxSkew`. Only pods
//!   of the pod's namespace on eligible nodes count (nodes with all the pod's spread keys,
//!   passing its node affinity when `nodeAffinityPolicy: Honor`, tolerated when
//!   `nodeTaintsPolicy: Honor`).
//!
//! Scores, for the scheduler prediction ([`State::spread_scores`], [`State::preference`]):
//! - PodTopologySpread scores the pod's `ScheduleAnyway` constraints or, when the pod has no
//!   constraint of its own and a ReplicaSet (or Deployment), StatefulSet or
//!   ReplicationController owns it, kube-scheduler's *system default* constraints
//!   (`kubernetes.io/hostname` maxSkew 3 and `topology.kubernetes.io/zone` maxSkew 5,
//!   counting the pods of the same controller: for a Deployment, of the same
//!   `pod-template-hash`, which is what its ReplicaSet selects);
//! - InterPodAffinity scores the pod's preferred terms (weight × matching pods in the
//!   domain) and the terms of existing pods that select it: their required affinity terms
//!   (weighted by the profile's `hardPodAffinityWeight`, default 1) and preferred terms.
//!
//! Not modelled: `matchLabelKeys` / `mismatchLabelKeys` of pod affinity terms; Services
//! (kube-scheduler adds a Service's selector to the default spreading selector, and spreads
//! pods that only a Service selects; dumps carry no Services).

use std::collections::BTreeMap;

use crate::fasthash::FastMap;

use crate::constraints::tolerates;
use crate::constraints::{Violation, matches_node_affinity, matches_node_selector, selector_text};
use crate::model::{
    LabelSelector, NodeInclusionPolicy, NodeSelectorTerm, PodAffinityTerm, PodSpec,
    SelectorOperator, Toleration, TopologySpreadConstraint, WhenUnsatisfiable,
};
use crate::snapshot::Snapshot;

const NONE: u32 = u32::MAX;

/// Keys with at most this many domains are judged per domain by [`State::impossible`].
pub(crate) const FEW_DOMAINS: usize = 64;

/// Namespaces a clause covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Namespaces {
    names: Vec<String>,
    selector: Option<LabelSelector>,
}

/// "Pods in these namespaces whose labels match this selector".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Clause {
    namespaces: Namespaces,
    /// `None` matches no pod.
    selector: Option<LabelSelector>,
}

impl Clause {
    /// The clause of `term` carried by a pod in namespace `own`.
    pub(crate) fn of_term(term: &PodAffinityTerm, own: &str) -> Self {
        let mut names = term.namespaces.clone();
        if names.is_empty() && term.namespace_selector.is_none() {
            names.push(own.to_owned());
        }
        names.sort();
        names.dedup();
        Self {
            namespaces: Namespaces {
                names,
                selector: term.namespace_selector.clone(),
            },
            selector: term.label_selector.clone(),
        }
    }

    pub(crate) fn matches(&self, snap: &Snapshot, pod: &PodSpec) -> bool {
        let Some(sel) = &self.selector else {
            return false;
        };
        let ns_ok = self.namespaces.names.binary_search(&pod.namespace).is_ok()
            || self.namespaces.selector.as_ref().is_some_and(|s| {
                snap.namespace_labels(&pod.namespace)
                    .is_some_and(|labels| s.matches(labels))
            });
        ns_ok && sel.matches(&pod.labels)
    }
}

/// The spread constraint's selector with `matchLabelKeys` folded in for `pod`.
fn spread_clause(c: &TopologySpreadConstraint, pod: &PodSpec) -> Clause {
    let selector = c.label_selector.clone().map(|mut s| {
        for key in &c.match_label_keys {
            if let Some(v) = pod.labels.get(key) {
                s.match_expressions.push(crate::model::SelectorRequirement {
                    key: key.clone(),
                    operator: SelectorOperator::In,
                    values: vec![v.clone()],
                });
            }
        }
        s
    });
    Clause {
        namespaces: Namespaces {
            names: vec![pod.namespace.clone()],
            selector: None,
        },
        selector,
    }
}

/// One topology key: the domain of every node.
#[derive(Debug)]
struct Key {
    name: String,
    /// Domain id per node, [`NONE`] without the label.
    domain_of: Vec<u32>,
    /// Domain values by id.
    values: Vec<String>,
}

/// What a counter's spread bookkeeping needs.
#[derive(Debug)]
struct SpreadDef {
    /// Eligibility class (nodes whose pods count and whose domains take part in the min).
    class: usize,
    /// A filter (`DoNotSchedule`): keeps the per-count histogram the skew needs.
    hard: bool,
}

/// A scored spread constraint (`ScheduleAnyway`, or a system default).
#[derive(Debug)]
struct SoftSpread {
    counter: u32,
    key: usize,
    max_skew: u32,
    /// `kubernetes.io/hostname`: the domain is the node itself.
    hostname: bool,
}

/// The node label of kube-scheduler's per-node spreading.
pub(crate) const HOSTNAME_KEY: &str = "kubernetes.io/hostname";
/// The node label of kube-scheduler's per-zone spreading.
pub(crate) const ZONE_KEY: &str = "topology.kubernetes.io/zone";
/// kube-scheduler's system default spread constraints: (key, maxSkew), `ScheduleAnyway`.
const SYSTEM_DEFAULT_SPREAD: [(&str, u32); 2] = [(HOSTNAME_KEY, 3), (ZONE_KEY, 5)];

/// Labels a controller sets per pod, which its selector never uses.
const PER_POD_LABELS: [&str; 4] = [
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "controller-revision-hash",
    "batch.kubernetes.io/job-completion-index",
];

/// Owner kinds whose selector kube-scheduler's default spreading uses (a Deployment's pods
/// are owned by its ReplicaSet).
fn default_spread_owner(pod: &PodSpec) -> bool {
    pod.topology_spread_constraints.is_empty()
        && pod.owner.as_ref().is_some_and(|o| {
            matches!(
                o.kind.as_str(),
                "ReplicaSet" | "Deployment" | "StatefulSet" | "ReplicationController"
            )
        })
}

/// The pods kube-scheduler's default spreading counts together with `pod`: same namespace,
/// same controller and, for a Deployment, same `pod-template-hash` (its ReplicaSet).
fn default_spread_group(pod: &PodSpec) -> Option<GroupKey<'_>> {
    let owner = pod.owner.as_ref()?;
    let hash = if owner.kind == "Deployment" {
        pod.labels
            .get("pod-template-hash")
            .map_or("", String::as_str)
    } else {
        ""
    };
    Some((
        pod.namespace.as_str(),
        owner.kind.as_str(),
        owner.name.as_str(),
        hash,
    ))
}

/// A counter: members of one clause (or several, ANDed) per domain of one key.
#[derive(Debug)]
struct CounterDef {
    key: usize,
    /// Member pods.
    members: Vec<u32>,
    spread: Option<SpreadDef>,
}

/// What one pod is checked against.
#[derive(Debug, Default)]
struct Rules {
    /// Required affinity: one counter per term (members match all terms); whether the pod
    /// matches all its own terms; the selector text of each term.
    affinity: Vec<(u32, String)>,
    self_affinity: bool,
    /// Required anti-affinity counters, one per term.
    anti: Vec<u32>,
    /// DoNotSchedule spread: counter, maxSkew, minDomains, whether the pod matches itself.
    spread: Vec<(u32, u32, u32, bool)>,
    /// Topology keys the node must carry for spread.
    spread_keys: Vec<usize>,
    /// Preferred terms: counter and signed weight (negative for anti-affinity).
    preferred: Vec<(u32, i64)>,
    /// Scored spread constraints: the pod's `ScheduleAnyway` ones, or the system defaults.
    soft_spread: Vec<SoftSpread>,
    /// The pod's own soft constraints: nodes missing one of their keys are not scored
    /// (kube-scheduler's `requireAllTopologies`); the system defaults do not require it.
    soft_require_all: bool,
    /// Whether any rule filters (affinity, anti-affinity, `DoNotSchedule` spread).
    hard: bool,
}

/// The immutable part: keys, counters, who is a member of what, and each pod's rules.
#[derive(Debug, Default)]
pub(crate) struct Index {
    keys: Vec<Key>,
    counters: Vec<CounterDef>,
    /// Per pod: counters it is a member of.
    member_of: Vec<Vec<u32>>,
    /// Per pod: existing-anti-affinity counters (members: owners of the term) whose clause
    /// matches the pod.
    targeted_by: Vec<Vec<u32>>,
    /// Per pod: counters of existing pods' scored terms that select it (members: owners of
    /// the term), with the weight each owner adds in its domain (required affinity 0, which
    /// stands for the profile's `hardPodAffinityWeight`; preferred affinity +w, preferred
    /// anti-affinity −w).
    scored_by: Vec<Vec<(u32, i64)>>,
    /// Per pod, its rule set in `rule_sets` (pods of one workload share one).
    rules: Vec<Option<u32>>,
    rule_sets: Vec<Rules>,
    /// Eligibility classes for spread: per class, eligible nodes and the number of eligible
    /// domains per key (by key id).
    classes: Vec<(Vec<bool>, BTreeMap<usize, u32>)>,
}

/// What makes two spread constraints count the same nodes.
type ClassKey<'a> = (
    Vec<usize>,
    Option<(&'a BTreeMap<String, String>, &'a [NodeSelectorTerm])>,
    Option<&'a [Toleration]>,
);

/// What makes two counters the same: clauses, key, spread class, kind, and a weight.
type CounterKey = (Vec<u32>, usize, Option<usize>, u8, i64);

/// A default spreading group: namespace, owner kind and name, `pod-template-hash`.
type GroupKey<'a> = (&'a str, &'a str, &'a str, &'a str);

/// Builds counters, deduplicating by definition.
struct Builder<'a> {
    snap: &'a Snapshot,
    ix: Index,
    key_ids: BTreeMap<String, usize>,
    /// Interned clauses and their members.
    clause_ids: BTreeMap<Clause, u32>,
    clause_members: Vec<Vec<u32>>,
    /// Clause of a term carried by a pod of a namespace (lookups only, never iterated).
    term_clauses: FastMap<(&'a PodAffinityTerm, &'a str), u32>,
    counter_ids: BTreeMap<CounterKey, u32>,
    /// Eligibility classes by (keys, node affinity when honoured, tolerations when
    /// honoured). Lookups only, never iterated.
    #[allow(clippy::type_complexity)]
    class_ids: FastMap<ClassKey<'a>, usize>,
    /// Pods per `key=value` label (only the label keys some term's `matchLabels` uses).
    /// Lookups only, never iterated.
    by_label: FastMap<(&'a str, &'a str), Vec<u32>>,
}

impl<'a> Builder<'a> {
    fn key(&mut self, name: &str) -> usize {
        if let Some(k) = self.key_ids.get(name) {
            return *k;
        }
        let mut ids: BTreeMap<&str, u32> = BTreeMap::new();
        let mut domain_of = Vec::with_capacity(self.snap.nodes().len());
        let mut values = Vec::new();
        for node in self.snap.nodes() {
            domain_of.push(match node.spec.labels.get(name) {
                None => NONE,
                Some(v) => *ids.entry(v.as_str()).or_insert_with(|| {
                    values.push(v.clone());
                    (values.len() - 1) as u32
                }),
            });
        }
        let k = self.ix.keys.len();
        self.ix.keys.push(Key {
            name: name.to_owned(),
            domain_of,
            values,
        });
        self.key_ids.insert(name.to_owned(), k);
        k
    }

    /// The id of the clause of `term` carried by a pod in namespace `ns`.
    fn term_clause(&mut self, term: &'a PodAffinityTerm, ns: &'a str) -> u32 {
        if let Some(id) = self.term_clauses.get(&(term, ns)) {
            return *id;
        }
        let id = self.clause(Clause::of_term(term, ns));
        self.term_clauses.insert((term, ns), id);
        id
    }

    /// Interns `clause`, finding its members on first sight.
    fn clause(&mut self, clause: Clause) -> u32 {
        if let Some(id) = self.clause_ids.get(&clause) {
            return *id;
        }
        let members = self.members(&clause);
        let id = self.clause_members.len() as u32;
        self.clause_members.push(members);
        self.clause_ids.insert(clause, id);
        id
    }

    /// Non-terminal pods matching `clause`.
    fn members(&self, clause: &Clause) -> Vec<u32> {
        let snap = self.snap;
        let all: Vec<u32>;
        // Candidates: a matchLabels posting list, else the listed namespaces, else all pods.
        let candidates: &[u32] = match clause.selector.as_ref().and_then(|s| {
            s.match_labels
                .iter()
                .map(|(k, v)| {
                    self.by_label
                        .get(&(k.as_str(), v.as_str()))
                        .map_or(&[][..], Vec::as_slice)
                })
                .min_by_key(|l| l.len())
        }) {
            Some(list) => list,
            None if clause.namespaces.selector.is_none() => {
                all = clause
                    .namespaces
                    .names
                    .iter()
                    .flat_map(|ns| {
                        // Pods are sorted by namespace: its pods are one range.
                        let pods = snap.pods();
                        let start =
                            pods.partition_point(|q| q.spec.namespace.as_str() < ns.as_str());
                        let end =
                            pods.partition_point(|q| q.spec.namespace.as_str() <= ns.as_str());
                        start as u32..end as u32
                    })
                    .collect();
                &all
            }
            None => {
                all = (0..snap.pods().len() as u32).collect();
                &all
            }
        };
        let mut members: Vec<u32> = candidates
            .iter()
            .copied()
            .filter(|&q| {
                let pod = &snap.pods()[q as usize];
                !pod.spec.phase.is_terminal() && clause.matches(snap, &pod.spec)
            })
            .collect();
        members.sort_unstable();
        members
    }

    /// The counter of pods matching every clause of `clauses`, per domain of `key`; `kind`
    /// keeps otherwise equal counters of different meaning apart (owners of a term are not
    /// the pods it selects).
    /// `extra` keeps counters of equal definition but different use apart (a weight).
    fn counter(
        &mut self,
        clauses: Vec<u32>,
        (key, spread, kind, extra): (usize, Option<usize>, u8, i64),
        owners: Option<&[u32]>,
    ) -> u32 {
        let id_key = (clauses, key, spread, kind, extra);
        if let Some(c) = self.counter_ids.get(&id_key) {
            return *c;
        }
        let members = match owners {
            Some(o) => o.to_vec(),
            None => {
                let mut members: Option<Vec<u32>> = None;
                for &clause in &id_key.0 {
                    let m = &self.clause_members[clause as usize];
                    members = Some(match members {
                        None => m.clone(),
                        Some(prev) => prev
                            .into_iter()
                            .filter(|q| m.binary_search(q).is_ok())
                            .collect(),
                    });
                }
                members.unwrap_or_default()
            }
        };
        // kube-scheduler's spreading does not count terminating pods; affinity does.
        let members: Vec<u32> = if matches!(kind, SPREAD | SOFT_SPREAD | DEFAULT_SPREAD) {
            members
                .into_iter()
                .filter(|&q| !self.snap.pods()[q as usize].spec.terminating)
                .collect()
        } else {
            members
        };
        let id = self.ix.counters.len() as u32;
        for &q in &members {
            self.ix.member_of[q as usize].push(id);
        }
        self.ix.counters.push(CounterDef {
            key,
            members,
            spread: spread.map(|class| SpreadDef {
                class,
                hard: kind == SPREAD,
            }),
        });
        self.counter_ids.insert(id_key, id);
        id
    }

    /// The eligibility class of `pod`'s spread constraint `c`.
    fn class(&mut self, pod: &'a PodSpec, c: &TopologySpreadConstraint, keys: &[usize]) -> usize {
        let affinity = (c.node_affinity_policy == NodeInclusionPolicy::Honor)
            .then_some((&pod.node_selector, pod.required_node_affinity.as_slice()));
        let taints = (c.node_taints_policy == NodeInclusionPolicy::Honor)
            .then_some(pod.tolerations.as_slice());
        let id_key = (keys.to_vec(), affinity, taints);
        if let Some(c) = self.class_ids.get(&id_key) {
            return *c;
        }
        let eligible: Vec<bool> = self
            .snap
            .nodes()
            .iter()
            .enumerate()
            .map(|(i, node)| {
                keys.iter().all(|&k| self.ix.keys[k].domain_of[i] != NONE)
                    && (c.node_affinity_policy == NodeInclusionPolicy::Ignore
                        || (matches_node_selector(&pod.node_selector, &node.spec.labels).is_ok()
                            && matches_node_affinity(&pod.required_node_affinity, &node.spec)
                                .is_ok()))
                    && (c.node_taints_policy == NodeInclusionPolicy::Ignore
                        || tolerates(pod, &node.spec.taints).is_ok())
            })
            .collect();
        let mut domains = BTreeMap::new();
        for &k in keys {
            let mut seen = vec![false; self.ix.keys[k].values.len()];
            for (i, e) in eligible.iter().enumerate() {
                if *e {
                    seen[self.ix.keys[k].domain_of[i] as usize] = true;
                }
            }
            domains.insert(k, seen.iter().filter(|s| **s).count() as u32);
        }
        let id = self.ix.classes.len();
        self.ix.classes.push((eligible, domains));
        self.class_ids.insert(id_key, id);
        id
    }
}

/// Whether any pod of `snap` has an inter-pod constraint or preference.
fn any_rules(pod: &PodSpec) -> bool {
    !pod.pod_affinity.is_empty()
        || !pod.pod_anti_affinity.is_empty()
        || !pod.preferred_pod_affinity.is_empty()
        || !pod.preferred_pod_anti_affinity.is_empty()
        || !pod.topology_spread_constraints.is_empty()
}

const AFFINITY: u8 = 0;
const SELECTED: u8 = 1;
const OWNERS: u8 = 2;
const SPREAD: u8 = 3;
const SOFT_SPREAD: u8 = 4;
const DEFAULT_SPREAD: u8 = 5;
const SCORE_OWNERS: u8 = 6;

impl Index {
    /// Builds the index for the pods `wanted` says will be placed (their rules) — every
    /// pod's membership is indexed, since any pod can be in a counted domain.
    ///
    /// # Complexity
    /// O(P · L · log + Σ_clauses |candidates| · s + K · N) for P pods with L labels, K topology
    /// keys over N nodes; nothing when no pod has an inter-pod rule.
    pub fn new(snap: &Snapshot, wanted: impl Fn(usize) -> bool) -> Self {
        let pods = snap.pods();
        let ix = Index {
            member_of: vec![Vec::new(); pods.len()],
            targeted_by: vec![Vec::new(); pods.len()],
            scored_by: vec![Vec::new(); pods.len()],
            rules: (0..pods.len()).map(|_| None).collect(),
            ..Default::default()
        };
        let has_anti = pods.iter().any(|p| !p.spec.pod_anti_affinity.is_empty());
        if !pods
            .iter()
            .any(|p| any_rules(&p.spec) || default_spread_owner(&p.spec))
        {
            return ix;
        }
        // Default spreading groups (pods of one controller), with an id each.
        let mut default_groups: BTreeMap<GroupKey<'_>, (u32, Vec<u32>)> = BTreeMap::new();
        for (q, pod) in pods.iter().enumerate() {
            if pod.spec.phase.is_terminal() || !default_spread_owner(&pod.spec) {
                continue;
            }
            if let Some(g) = default_spread_group(&pod.spec) {
                let next = default_groups.len() as u32;
                default_groups
                    .entry(g)
                    .or_insert_with(|| (next, Vec::new()))
                    .1
                    .push(q as u32);
            }
        }
        // Each group's template labels: a pod's labels less those its controller sets per pod.
        // The controller's selector is a subset of them, so every pod carrying them all is
        // one kube-scheduler counts too (a bare pod with a Deployment's labels, say).
        let template_labels: Vec<BTreeMap<String, String>> = {
            let mut by_id = vec![BTreeMap::new(); default_groups.len()];
            for (id, members) in default_groups.values() {
                if let Some(&first) = members.first() {
                    by_id[*id as usize] = pods[first as usize]
                        .spec
                        .labels
                        .iter()
                        .filter(|(k, _)| !PER_POD_LABELS.contains(&k.as_str()))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                }
            }
            by_id
        };
        // Label keys worth indexing: those some term or spread constraint matches on.
        let mut keys: std::collections::BTreeSet<&str> = Default::default();
        for pod in pods {
            let s = &pod.spec;
            let selectors = s
                .pod_affinity
                .iter()
                .chain(&s.pod_anti_affinity)
                .chain(
                    s.preferred_pod_affinity
                        .iter()
                        .map(|w| &w.pod_affinity_term),
                )
                .chain(
                    s.preferred_pod_anti_affinity
                        .iter()
                        .map(|w| &w.pod_affinity_term),
                )
                .filter_map(|t| t.label_selector.as_ref())
                .chain(
                    s.topology_spread_constraints
                        .iter()
                        .filter_map(|c| c.label_selector.as_ref()),
                );
            for sel in selectors {
                keys.extend(sel.match_labels.keys().map(String::as_str));
            }
        }
        for labels in &template_labels {
            keys.extend(labels.keys().map(String::as_str));
        }
        let mut by_label: FastMap<(&str, &str), Vec<u32>> = FastMap::default();
        for (q, pod) in pods.iter().enumerate() {
            for &k in &keys {
                if let Some((k, v)) = pod.spec.labels.get_key_value(k) {
                    by_label
                        .entry((k.as_str(), v.as_str()))
                        .or_default()
                        .push(q as u32);
                }
            }
        }
        let mut b = Builder {
            snap,
            ix,
            key_ids: BTreeMap::new(),
            clause_ids: BTreeMap::new(),
            clause_members: Vec::new(),
            term_clauses: FastMap::default(),
            counter_ids: BTreeMap::new(),
            class_ids: FastMap::default(),
            by_label,
        };
        // Default spreading counts a group's pods and every pod carrying its template labels.
        for (g, (id, members)) in default_groups.iter_mut() {
            let labels = &template_labels[*id as usize];
            if labels.is_empty() {
                continue;
            }
            let clause = b.clause(Clause {
                namespaces: Namespaces {
                    names: vec![g.0.to_owned()],
                    selector: None,
                },
                selector: Some(LabelSelector {
                    match_labels: labels.clone(),
                    ..Default::default()
                }),
            });
            members.extend_from_slice(&b.clause_members[clause as usize]);
            members.sort_unstable();
            members.dedup();
        }
        // Existing pods' anti-affinity: per distinct (clause, key), the owners.
        if has_anti {
            let mut owners: BTreeMap<(u32, usize), Vec<u32>> = BTreeMap::new();
            for (q, pod) in pods.iter().enumerate() {
                if pod.spec.phase.is_terminal() {
                    continue;
                }
                for t in &pod.spec.pod_anti_affinity {
                    let clause = b.term_clause(t, &pod.spec.namespace);
                    let k = b.key(&t.topology_key);
                    owners.entry((clause, k)).or_default().push(q as u32);
                }
            }
            for ((clause, k), mut who) in owners {
                who.dedup();
                let c = b.counter(vec![clause], (k, None, OWNERS, 0), Some(&who));
                for i in 0..b.clause_members[clause as usize].len() {
                    let q = b.clause_members[clause as usize][i];
                    b.ix.targeted_by[q as usize].push(c);
                }
            }
        }
        // Existing pods' scored terms (InterPodAffinity's score for the pods they select):
        // per distinct (clause, key, weight), the owners, once per term they carry.
        let mut scoring: BTreeMap<(u32, usize, i64), Vec<u32>> = BTreeMap::new();
        for (q, pod) in pods.iter().enumerate() {
            let s = &pod.spec;
            if s.phase.is_terminal() {
                continue;
            }
            // Required terms carry weight 0: `hardPodAffinityWeight` is applied when scoring.
            let terms = s
                .pod_affinity
                .iter()
                .map(|t| (t, 0))
                .chain(
                    s.preferred_pod_affinity
                        .iter()
                        .map(|w| (&w.pod_affinity_term, i64::from(w.weight))),
                )
                .chain(
                    s.preferred_pod_anti_affinity
                        .iter()
                        .map(|w| (&w.pod_affinity_term, -i64::from(w.weight))),
                );
            for (t, weight) in terms {
                let clause = b.term_clause(t, &s.namespace);
                let k = b.key(&t.topology_key);
                scoring
                    .entry((clause, k, weight))
                    .or_default()
                    .push(q as u32);
            }
        }
        for ((clause, k, weight), who) in scoring {
            let c = b.counter(vec![clause], (k, None, SCORE_OWNERS, weight), Some(&who));
            for i in 0..b.clause_members[clause as usize].len() {
                let q = b.clause_members[clause as usize][i];
                if wanted(q as usize) {
                    b.ix.scored_by[q as usize].push((c, weight));
                }
            }
        }
        // Rule sets by signature (lookups only, never iterated).
        #[allow(clippy::type_complexity)]
        let mut seen: FastMap<_, Vec<(_, u32)>> = FastMap::default();
        for (p, pod) in pods.iter().enumerate() {
            let s = &pod.spec;
            if !wanted(p) || s.phase.is_terminal() || !(any_rules(s) || default_spread_owner(s)) {
                continue;
            }
            // Everything the rules depend on; replicas of a workload share it.
            let signature = (
                s.namespace.as_str(),
                &s.labels,
                s.pod_affinity.as_slice(),
                s.pod_anti_affinity.as_slice(),
                s.preferred_pod_affinity.as_slice(),
                s.preferred_pod_anti_affinity.as_slice(),
                s.topology_spread_constraints.as_slice(),
                (
                    &s.node_selector,
                    s.required_node_affinity.as_slice(),
                    s.tolerations.as_slice(),
                ),
            );
            // Looked up by owner (cheap to hash), then compared field by field.
            let owner = (s.namespace.as_str(), s.owner.as_ref());
            if let Some(&id) = seen.get(&owner).and_then(|list| {
                list.iter()
                    .find(|(sig, _)| *sig == signature)
                    .map(|(_, id)| id)
            }) {
                b.ix.rules[p] = Some(id);
                continue;
            }
            let mut rules = Rules::default();
            if !s.pod_affinity.is_empty() {
                let clauses: Vec<u32> = s
                    .pod_affinity
                    .iter()
                    .map(|t| b.term_clause(t, &s.namespace))
                    .collect();
                rules.self_affinity = s
                    .pod_affinity
                    .iter()
                    .all(|t| Clause::of_term(t, &s.namespace).matches(snap, s));
                for t in &s.pod_affinity {
                    let k = b.key(&t.topology_key);
                    let c = b.counter(clauses.clone(), (k, None, AFFINITY, 0), None);
                    rules
                        .affinity
                        .push((c, selector_text(t.label_selector.as_ref())));
                }
            }
            for t in &s.pod_anti_affinity {
                let k = b.key(&t.topology_key);
                let clause = b.term_clause(t, &s.namespace);
                let c = b.counter(vec![clause], (k, None, SELECTED, 0), None);
                rules.anti.push(c);
            }
            for (list, sign) in [
                (&s.preferred_pod_affinity, 1),
                (&s.preferred_pod_anti_affinity, -1),
            ] {
                for w in list {
                    let t = &w.pod_affinity_term;
                    let k = b.key(&t.topology_key);
                    let clause = b.term_clause(t, &s.namespace);
                    let c = b.counter(vec![clause], (k, None, SELECTED, 0), None);
                    rules.preferred.push((c, sign * i64::from(w.weight)));
                }
            }
            let hard: Vec<&TopologySpreadConstraint> = s
                .topology_spread_constraints
                .iter()
                .filter(|c| c.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule)
                .collect();
            if !hard.is_empty() {
                let mut keys: Vec<usize> = hard.iter().map(|c| b.key(&c.topology_key)).collect();
                keys.sort_unstable();
                keys.dedup();
                rules.spread_keys = keys.clone();
                for c in hard {
                    let k = b.key(&c.topology_key);
                    let class = b.class(s, c, &keys);
                    let clause = spread_clause(c, s);
                    let self_match = clause.matches(snap, s);
                    let clause = b.clause(clause);
                    let id = b.counter(vec![clause], (k, Some(class), SPREAD, 0), None);
                    rules
                        .spread
                        .push((id, c.max_skew, c.min_domains.unwrap_or(1), self_match));
                }
            }
            let soft: Vec<&TopologySpreadConstraint> = s
                .topology_spread_constraints
                .iter()
                .filter(|c| c.when_unsatisfiable == WhenUnsatisfiable::ScheduleAnyway)
                .collect();
            if !soft.is_empty() {
                // Pods count only on nodes with every soft key (requireAllTopologies).
                let mut keys: Vec<usize> = soft.iter().map(|c| b.key(&c.topology_key)).collect();
                keys.sort_unstable();
                keys.dedup();
                rules.soft_require_all = true;
                for c in soft {
                    let k = b.key(&c.topology_key);
                    let class = b.class(s, c, &keys);
                    let clause = b.clause(spread_clause(c, s));
                    let counter = b.counter(vec![clause], (k, Some(class), SOFT_SPREAD, 0), None);
                    rules.soft_spread.push(SoftSpread {
                        counter,
                        key: k,
                        max_skew: c.max_skew,
                        hostname: c.topology_key == HOSTNAME_KEY,
                    });
                }
            } else if let Some((group, members)) = default_spread_group(s)
                .filter(|_| default_spread_owner(s))
                .and_then(|g| default_groups.get(&g))
            {
                for (key, max_skew) in SYSTEM_DEFAULT_SPREAD {
                    let k = b.key(key);
                    // Default node inclusion policies: node affinity honoured, taints ignored.
                    let c = TopologySpreadConstraint {
                        max_skew,
                        topology_key: key.to_owned(),
                        when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
                        label_selector: None,
                        min_domains: None,
                        match_label_keys: Vec::new(),
                        node_affinity_policy: NodeInclusionPolicy::Honor,
                        node_taints_policy: NodeInclusionPolicy::Ignore,
                    };
                    let class = b.class(s, &c, &[k]);
                    let counter = b.counter(
                        vec![*group],
                        (k, Some(class), DEFAULT_SPREAD, 0),
                        Some(members),
                    );
                    rules.soft_spread.push(SoftSpread {
                        counter,
                        key: k,
                        max_skew,
                        hostname: key == HOSTNAME_KEY,
                    });
                }
            }
            rules.hard =
                !rules.affinity.is_empty() || !rules.anti.is_empty() || !rules.spread.is_empty();
            let id = b.ix.rule_sets.len() as u32;
            b.ix.rule_sets.push(rules);
            b.ix.rules[p] = Some(id);
            seen.entry(owner).or_default().push((signature, id));
        }
        b.ix
    }

    /// Pod `p`'s rules, if it has any.
    fn rule_set(&self, p: usize) -> Option<&Rules> {
        self.rules[p].map(|id| &self.rule_sets[id as usize])
    }

    /// Whether pod `p` is constrained by anything here (its own rules or another pod's
    /// anti-affinity); `false` makes [`State::allows`] trivially `Ok`.
    pub fn constrained(&self, p: usize) -> bool {
        self.rule_set(p).is_some_and(|r| r.hard) || !self.targeted_by[p].is_empty()
    }
}

/// A failed rule, cheap to produce; [`State::allows`] turns it into words.
#[derive(Debug, Clone, Copy)]
enum Failure<'a> {
    MissingLabel(usize),
    Spread { c: u32, skew: u32, max_skew: u32 },
    Affinity { c: u32, selector: &'a str },
    Anti(u32),
    Existing(u32),
}

/// Where pods are, and the counts that follow from it.
#[derive(Debug, Clone)]
pub(crate) struct State<'a> {
    ix: &'a Index,
    snap: &'a Snapshot,
    loc: Vec<u32>,
    /// Members per (counter, domain).
    counts: FastMap<(u32, u32), u32>,
    /// Members per counter, over all domains.
    totals: Vec<u32>,
    /// Per spread counter: domains with a non-zero count, by count (count → domains).
    nonzero: Vec<BTreeMap<u32, u32>>,
    /// Per spread counter: number of domains with a non-zero count.
    nonzero_domains: Vec<u32>,
}

impl<'a> State<'a> {
    /// Every pod where the snapshot has it.
    ///
    /// # Complexity
    /// O(P + Σ memberships · log).
    pub fn new(ix: &'a Index, snap: &'a Snapshot) -> Self {
        let mut st = Self {
            ix,
            snap,
            loc: vec![NONE; snap.pods().len()],
            counts: FastMap::default(),
            totals: vec![0; ix.counters.len()],
            nonzero: vec![BTreeMap::new(); ix.counters.len()],
            nonzero_domains: vec![0; ix.counters.len()],
        };
        for (p, pod) in snap.pods().iter().enumerate() {
            if let (Some(n), false) = (pod.node, pod.spec.phase.is_terminal()) {
                st.place(p, n);
            }
        }
        st
    }

    fn domain(&self, c: u32, node: usize) -> u32 {
        let def = &self.ix.counters[c as usize];
        let dom = self.ix.keys[def.key].domain_of[node];
        match &def.spread {
            Some(s) if !self.ix.classes[s.class].0[node] => NONE,
            _ => dom,
        }
    }

    fn count(&self, c: u32, dom: u32) -> u32 {
        self.counts.get(&(c, dom)).copied().unwrap_or(0)
    }

    fn adjust(&mut self, c: u32, node: usize, up: bool) {
        let dom = self.domain(c, node);
        if dom == NONE {
            return;
        }
        let before = self.count(c, dom);
        let after = if up { before + 1 } else { before - 1 };
        if after == 0 {
            self.counts.remove(&(c, dom));
        } else {
            self.counts.insert((c, dom), after);
        }
        let ci = c as usize;
        if up {
            self.totals[ci] += 1;
        } else {
            self.totals[ci] -= 1;
        }
        if self.ix.counters[ci].spread.as_ref().is_some_and(|s| s.hard) {
            let hist = &mut self.nonzero[ci];
            if before > 0 {
                let e = hist.entry(before).or_insert(0);
                *e -= 1;
                if *e == 0 {
                    hist.remove(&before);
                }
            } else {
                self.nonzero_domains[ci] += 1;
            }
            if after > 0 {
                *hist.entry(after).or_insert(0) += 1;
            } else {
                self.nonzero_domains[ci] -= 1;
            }
        }
    }

    /// Pod `p` leaves its node (evicted, or taken off a node being drained).
    pub fn remove(&mut self, p: usize) {
        let n = self.loc[p];
        if n == NONE {
            return;
        }
        self.loc[p] = NONE;
        for &c in &self.ix.member_of[p] {
            self.adjust(c, n as usize, false);
        }
    }

    /// Pod `p` lands on node `n`.
    pub fn place(&mut self, p: usize, n: usize) {
        debug_assert_eq!(self.loc[p], NONE, "pod placed twice");
        self.loc[p] = n as u32;
        for &c in &self.ix.member_of[p] {
            self.adjust(c, n, true);
        }
    }

    /// The skew placing a pod in domain `dom` of spread counter `c` would give: its count
    /// (plus one when the pod matches itself) minus the fewest in any eligible domain (0 when
    /// some eligible domain has none, or fewer than `min_domains` domains exist).
    fn skew(
        &self,
        spread: &SpreadDef,
        c: u32,
        dom: u32,
        min_domains: u32,
        self_match: bool,
    ) -> u32 {
        let ci = c as usize;
        let domains = self.ix.classes[spread.class].1[&self.ix.counters[ci].key];
        let min = if domains < min_domains || self.nonzero_domains[ci] < domains {
            0
        } else {
            self.nonzero[ci].keys().next().copied().unwrap_or(0)
        };
        (self.count(c, dom) + u32::from(self_match)).saturating_sub(min)
    }

    /// `key=value` of `node`'s domain under counter `c`'s key.
    fn topology(&self, c: u32, node: usize) -> String {
        let key = &self.ix.keys[self.ix.counters[c as usize].key];
        let dom = key.domain_of[node];
        let value = if dom == NONE {
            ""
        } else {
            key.values[dom as usize].as_str()
        };
        format!("{}={value}", key.name)
    }

    /// A member of counter `c` in `node`'s domain (for messages).
    fn member_in(&self, c: u32, node: usize) -> String {
        let def = &self.ix.counters[c as usize];
        let dom = self.ix.keys[def.key].domain_of[node];
        def.members
            .iter()
            .find(|&&q| {
                let at = self.loc[q as usize];
                at != NONE && self.ix.keys[def.key].domain_of[at as usize] == dom
            })
            .map_or_else(String::new, |&q| self.snap.pods()[q as usize].spec.key())
    }

    /// Whether pod `p` (not placed) may go to node `n` as far as inter-pod constraints go.
    ///
    /// # Errors
    /// The first violated constraint, in kube-scheduler's order: topology spread, then pod
    /// affinity, anti-affinity, and the anti-affinity of pods already in the domain.
    ///
    /// # Complexity
    /// O(t) hash lookups for the t terms involved (plus a walk of one counter's members to
    /// name a pod when the answer is no).
    pub fn allows(&self, p: usize, n: usize) -> Result<(), Violation> {
        match self.failure(p, n) {
            None => Ok(()),
            Some(f) => Err(self.violation(f, n)),
        }
    }

    /// [`State::allows`] as a yes/no answer, without building the violation's words.
    pub fn admits(&self, p: usize, n: usize) -> bool {
        self.failure(p, n).is_none()
    }

    /// The words of failure `f` on node `n`.
    fn violation(&self, f: Failure, n: usize) -> Violation {
        match f {
            Failure::MissingLabel(k) => {
                Violation::MissingTopologyLabel(self.ix.keys[k].name.clone())
            }
            Failure::Spread { c, skew, max_skew } => Violation::TopologySpread {
                topology: self.topology(c, n),
                skew,
                max_skew,
            },
            Failure::Affinity { c, selector } => Violation::PodAffinity {
                selector: selector.to_owned(),
                topology: self.topology(c, n),
            },
            Failure::Anti(c) => Violation::AntiAffinity {
                pod: self.member_in(c, n),
                topology: self.topology(c, n),
            },
            Failure::Existing(c) => Violation::ExistingAntiAffinity {
                pod: self.member_in(c, n),
                topology: self.topology(c, n),
            },
        }
    }

    /// The first failed inter-pod rule of pod `p` on node `n`, if any.
    fn failure(&self, p: usize, n: usize) -> Option<Failure<'a>> {
        let ix: &'a Index = self.ix;
        if let Some(r) = ix.rule_set(p) {
            for &k in &r.spread_keys {
                if ix.keys[k].domain_of[n] == NONE {
                    return Some(Failure::MissingLabel(k));
                }
            }
            for &(c, max_skew, min_domains, self_match) in &r.spread {
                let def = &ix.counters[c as usize];
                let Some(spread) = &def.spread else { continue };
                let dom = self.domain(c, n);
                // A node outside the class (its node affinity / taints) is filtered by the
                // static constraints already; the spread filter does not judge it.
                if dom == NONE {
                    continue;
                }
                let skew = self.skew(spread, c, dom, min_domains, self_match);
                if skew > max_skew {
                    return Some(Failure::Spread { c, skew, max_skew });
                }
            }
            if !r.affinity.is_empty() {
                let mut missing = None;
                for (c, selector) in &r.affinity {
                    let dom = self.domain(*c, n);
                    if dom == NONE {
                        return Some(Failure::MissingLabel(ix.counters[*c as usize].key));
                    }
                    if missing.is_none() && self.count(*c, dom) == 0 {
                        missing = Some(Failure::Affinity {
                            c: *c,
                            selector: selector.as_str(),
                        });
                    }
                }
                if missing.is_some() {
                    let nobody = r
                        .affinity
                        .iter()
                        .all(|(c, _)| self.totals[*c as usize] == 0);
                    if !(nobody && r.self_affinity) {
                        return missing;
                    }
                }
            }
            for &c in &r.anti {
                let dom = self.domain(c, n);
                if dom != NONE && self.count(c, dom) > 0 {
                    return Some(Failure::Anti(c));
                }
            }
        }
        for &c in &ix.targeted_by[p] {
            let dom = self.domain(c, n);
            if dom != NONE && self.count(c, dom) > 0 {
                return Some(Failure::Existing(c));
            }
        }
        None
    }

    /// A constraint of pod `p` that no node can pass, judged per domain of the keys with at
    /// most [`FEW_DOMAINS`] domains (zones, regions, racks): when every domain of such a key
    /// fails some rule of the pod keyed on it, no node passes [`State::allows`] — so the
    /// packer can stop at once instead of rejecting every node with room one by one.
    /// `None` means "maybe": nodes must still be checked.
    ///
    /// Sound because each rule keyed on K depends on the node only through its K domain (a
    /// node outside a spread constraint's eligible class fails the pod's static constraints
    /// or lacks the label, so it cannot pass either).
    ///
    /// # Complexity
    /// O(t · D) for t rules over keys of D ≤ [`FEW_DOMAINS`] domains.
    pub fn impossible(&self, p: usize) -> Option<Violation> {
        let rules = self.ix.rule_set(p);
        if rules.is_none() && self.ix.targeted_by[p].is_empty() {
            return None;
        }
        // (counter, kind): 0 affinity, 1 anti / existing anti, 2 spread (max, min_domains, self).
        let mut checks: Vec<(u32, u8, u32, u32, bool)> = Vec::new();
        if let Some(r) = rules {
            let nobody = r
                .affinity
                .iter()
                .all(|(c, _)| self.totals[*c as usize] == 0);
            if !(nobody && r.self_affinity) {
                checks.extend(r.affinity.iter().map(|(c, _)| (*c, 0, 0, 0, false)));
            }
            checks.extend(r.anti.iter().map(|c| (*c, 1, 0, 0, false)));
            checks.extend(r.spread.iter().map(|&(c, m, d, s)| (c, 2, m, d, s)));
        }
        checks.extend(self.ix.targeted_by[p].iter().map(|c| (*c, 1, 0, 0, false)));
        let mut keys: Vec<usize> = checks
            .iter()
            .map(|x| self.ix.counters[x.0 as usize].key)
            .filter(|&k| self.ix.keys[k].values.len() <= FEW_DOMAINS)
            .collect();
        keys.sort_unstable();
        keys.dedup();
        'keys: for k in keys {
            // Nodes without the label pass anti-affinity: only a rule that needs the label
            // (affinity, spread) rules them out.
            let needs_label = checks
                .iter()
                .any(|x| x.1 != 1 && self.ix.counters[x.0 as usize].key == k);
            if !needs_label && self.ix.keys[k].domain_of.contains(&NONE) {
                continue;
            }
            let mut first: Option<(u32, u32)> = None;
            for dom in 0..self.ix.keys[k].values.len() as u32 {
                let mut fails = None;
                for &(c, kind, max_skew, min_domains, self_match) in &checks {
                    let def = &self.ix.counters[c as usize];
                    if def.key != k {
                        continue;
                    }
                    let count = self.count(c, dom);
                    let bad = match kind {
                        0 => count == 0,
                        1 => count > 0,
                        _ => {
                            let Some(spread) = &def.spread else { continue };
                            self.skew(spread, c, dom, min_domains, self_match) > max_skew
                        }
                    };
                    if bad {
                        fails = Some(c);
                        break;
                    }
                }
                match fails {
                    None => continue 'keys,
                    Some(c) => {
                        first.get_or_insert((c, dom));
                    }
                }
            }
            // Every domain of k fails: name the first failure, on a node of that domain.
            let (_, dom) = first?;
            let node = self.ix.keys[k].domain_of.iter().position(|d| *d == dom)?;
            return self.allows(p, node).err();
        }
        None
    }

    /// The node pod `p` is on now (in this state), if placed.
    pub fn location(&self, p: usize) -> Option<usize> {
        let n = self.loc[p];
        (n != NONE).then_some(n as usize)
    }

    /// Nodes where pod `p`'s affinity partners are: the pods its required affinity and its
    /// positive preferred affinity terms select (at most 64 per term), deduplicated, by
    /// node index.
    pub fn affinity_nodes(&self, p: usize) -> Vec<usize> {
        let Some(r) = self.ix.rule_set(p) else {
            return Vec::new();
        };
        let counters = r
            .affinity
            .iter()
            .map(|(c, _)| *c)
            .chain(r.preferred.iter().filter(|(_, w)| *w > 0).map(|(c, _)| *c));
        let mut nodes: Vec<usize> = counters
            .flat_map(|c| self.ix.counters[c as usize].members.iter().take(64))
            .filter_map(|&q| self.location(q as usize))
            .collect();
        nodes.sort_unstable();
        nodes.dedup();
        nodes
    }

    /// The affinity-based strategy's score of node `n` for pod `p`: its preferred terms'
    /// weights ([`State::preference`]) plus 100 for each required affinity term that finds a
    /// pod in `n`'s domain.
    pub fn affinity_score(&self, p: usize, n: usize) -> i64 {
        const DEFAULT_HARD_POD_AFFINITY_WEIGHT: i64 = 1;
        let Some(r) = self.ix.rule_set(p) else {
            return 0;
        };
        let required = r
            .affinity
            .iter()
            .filter(|(c, _)| {
                let dom = self.domain(*c, n);
                dom != NONE && self.count(*c, dom) > 0
            })
            .count() as i64;
        self.preference(p, n, DEFAULT_HARD_POD_AFFINITY_WEIGHT) + 100 * required
    }

    /// PodTopologySpread's normalised score (0–100) of each of `nodes`, the nodes that
    /// passed the filters, for pod `p`, as kube-scheduler's PreScore, Score and
    /// NormalizeScore compute it; `None` when the plugin skips the pod (no soft constraint and
    /// no default spreading), which scores every node alike.
    ///
    /// A node scores Σ over the constraints whose key it carries of `count · ln(size + 2) +
    /// maxSkew − 1`, rounded, where `count` is the matching pods in its domain (on nodes
    /// passing the inclusion policies) and `size` the number of domains among `nodes` (for the
    /// hostname key, of nodes); fewer is better: `100 · (max + min − s) / max`. Nodes missing
    /// a key of the pod's own constraints score 0.
    ///
    /// # Complexity
    /// O(|nodes| · c) hash lookups for c constraints.
    pub fn spread_scores(&self, p: usize, nodes: &[usize]) -> Option<Vec<i64>> {
        let r = self.ix.rule_set(p)?;
        if r.soft_spread.is_empty() {
            return None;
        }
        let keys = &self.ix.keys;
        let ignored: Vec<bool> = nodes
            .iter()
            .map(|&n| {
                r.soft_require_all
                    && r.soft_spread
                        .iter()
                        .any(|c| keys[c.key].domain_of[n] == NONE)
            })
            .collect();
        let scored = ignored.iter().filter(|i| !**i).count();
        let weights: Vec<f64> = r
            .soft_spread
            .iter()
            .map(|c| {
                let size = if c.hostname {
                    scored
                } else {
                    // Distinct values among the scored nodes; a node without the label
                    // counts as the value "".
                    let mut values: Vec<u32> = nodes
                        .iter()
                        .zip(&ignored)
                        .filter(|(_, i)| !**i)
                        .map(|(&n, _)| keys[c.key].domain_of[n])
                        .collect();
                    values.sort_unstable();
                    values.dedup();
                    values.len()
                };
                ((size + 2) as f64).ln()
            })
            .collect();
        let raw: Vec<i64> = nodes
            .iter()
            .map(|&n| {
                let mut score = 0.0;
                for (c, w) in r.soft_spread.iter().zip(&weights) {
                    let dom = keys[c.key].domain_of[n];
                    if dom != NONE {
                        let count = f64::from(self.count(c.counter, dom));
                        score += count * w + f64::from(c.max_skew) - 1.0;
                    }
                }
                score.round() as i64
            })
            .collect();
        let (mut min, mut max) = (i64::MAX, 0);
        for (s, i) in raw.iter().zip(&ignored) {
            if !*i {
                min = min.min(*s);
                max = max.max(*s);
            }
        }
        Some(
            raw.iter()
                .zip(&ignored)
                .map(|(&s, &i)| {
                    if i {
                        0
                    } else if max == 0 {
                        100
                    } else {
                        100 * (max + min - s) / max
                    }
                })
                .collect(),
        )
    }

    /// InterPodAffinity's raw score of node `n` for pod `p`, before normalisation: for each
    /// of the pod's preferred terms, its weight times the matching pods in `n`'s domain
    /// (negative for anti-affinity); plus, for each existing pod in `n`'s domain with a term
    /// that selects `p`, that term's weight (`hard_weight` for a required affinity term:
    /// InterPodAffinity's `hardPodAffinityWeight`).
    pub fn preference(&self, p: usize, n: usize, hard_weight: i64) -> i64 {
        let own = self
            .ix
            .rule_set(p)
            .map_or(0, |r| self.weighted_count(&r.preferred, n, 0));
        own + self.weighted_count(&self.ix.scored_by[p], n, hard_weight)
    }

    /// Σ weight × members of each counter in `n`'s domain (weight 0 stands for
    /// `hard_weight`).
    fn weighted_count(&self, terms: &[(u32, i64)], n: usize, hard_weight: i64) -> i64 {
        terms
            .iter()
            .map(|&(c, w)| {
                let w = if w == 0 { hard_weight } else { w };
                let dom = self.domain(c, n);
                if dom == NONE {
                    0
                } else {
                    w * i64::from(self.count(c, dom))
                }
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SelectorRequirement, SnapshotSpec, TopologySpreadConstraint};
    use crate::testing::{GI, node, pod};

    /// kube-scheduler v1.34's own table test (podtopologyspread/scoring_test.go, "two
    /// Constraints on zone and node, 2 out of 4 nodes are candidates"): zone1 holds node-a
    /// (2 foo pods) and node-b (1), zone2 node-x (2) and node-y (4); only a and x passed the
    /// filters. Zone weight and node weight ln(2 + 2); a: round(3 · 1.386 + 2 · 1.386) = 7,
    /// x: round(6 · 1.386 + 2 · 1.386) = 11 → a 100 · (18 − 7) / 11 = 100, x 63.
    #[test]
    fn spread_scores_match_kube_schedulers_table() {
        let foo = LabelSelector {
            match_expressions: vec![SelectorRequirement {
                key: "foo".into(),
                operator: SelectorOperator::Exists,
                values: vec![],
            }],
            ..Default::default()
        };
        let soft = |key: &str| TopologySpreadConstraint {
            max_skew: 1,
            topology_key: key.into(),
            when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
            label_selector: Some(foo.clone()),
            min_domains: None,
            match_label_keys: vec![],
            node_affinity_policy: NodeInclusionPolicy::Honor,
            node_taints_policy: NodeInclusionPolicy::Ignore,
        };
        let zoned = |name: &str, zone: &str| {
            let mut n = node(name, 4000, 16 * GI);
            n.labels.insert("zone".into(), zone.into());
            n
        };
        let with_foo = |name: &str, on: &str| {
            let mut p = pod("default", name, on, "", 10, 0);
            p.labels.insert("foo".into(), String::new());
            p
        };
        let mut incoming = with_foo("p", "node-a");
        incoming.node_name = None;
        incoming.topology_spread_constraints = vec![soft("zone"), soft(HOSTNAME_KEY)];
        let mut pods = vec![incoming];
        for (name, on) in [
            ("p-a1", "node-a"),
            ("p-a2", "node-a"),
            ("p-b1", "node-b"),
            ("p-x1", "node-x"),
            ("p-x2", "node-x"),
            ("p-y1", "node-y"),
            ("p-y2", "node-y"),
            ("p-y3", "node-y"),
            ("p-y4", "node-y"),
        ] {
            pods.push(with_foo(name, on));
        }
        let snap = Snapshot::new(SnapshotSpec {
            nodes: vec![
                zoned("node-a", "zone1"),
                zoned("node-b", "zone1"),
                zoned("node-x", "zone2"),
                zoned("node-y", "zone2"),
            ],
            pods,
            ..Default::default()
        })
        .expect("valid snapshot");
        let p = snap.pod_index("default", "p").expect("pod p");
        let ix = Index::new(&snap, |q| q == p);
        let state = State::new(&ix, &snap);
        let a = snap.node_index("node-a").expect("node-a");
        let x = snap.node_index("node-x").expect("node-x");
        assert_eq!(state.spread_scores(p, &[a, x]), Some(vec![100, 63]));
    }
}
