//! An independent checker for plans.
//!
//! It reads the raw objects of the snapshot (the specs as given, never the planner's derived
//! data: no dense request vectors, PDB indices, node indices or constraint caches) and computes
//! on its own — effective requests, allocatable defaults, PodDisruptionBudget coverage, every
//! DESIGN §6 pod rule and the node rules, the scheduling filters, the inter-pod rules replayed
//! in eviction order, waves against budgets and nodes per cycle, a lower bound — then checks
//! the plan's promises. It returns typed [`Violation`]s. Property tests, fuzz targets, the
//! end-to-end tests and `kube-compactor check` use it.

mod placement;
mod rules;
mod violation;

use std::collections::{BTreeMap, BTreeSet};

pub use violation::{Constraint, NodeRule, PodRule, Violation};

use crate::plan::{Plan, PlanOptions};
use crate::snapshot::Snapshot;
use placement::{World, interpod_problems, node_problems};
use rules::{ATTACHED, Amounts, PodRules, allocatable, covering, pod_load};

/// Resources the safety cap applies to (DESIGN §7).
const CAPPED: [&str; 3] = ["cpu", "memory", "ephemeral-storage"];

/// Checks `plan` against `snapshot`; returns every violation found (empty when valid).
///
/// Checked, from the raw objects:
/// - every node is drained or kept (with a reason), never both, the plan names only known
///   nodes and pods, and the nodes it cordons without draining (`cordonOnly`) are kept;
/// - no drained node is excluded, not Ready or cordoned by someone else, and none holds a pod
///   that a DESIGN §6 rule keeps (mirror, opt-out, excluded namespace, no controller,
///   system-critical, kube-system without a budget, local storage, a claim or namespace
///   labels the input does not resolve, several budgets, an exhausted budget); every other
///   pod of a drained node except DaemonSet, terminal and terminating pods is moved exactly
///   once, from the node it is bound to;
/// - replayed in eviction order (each pod leaves its node and is placed among the others as
///   they are at that moment), the predicted node and every node tied with it is kept, Ready,
///   not cordoned (by someone else, or by the plan: `cordonOnly`, or a move's `cordonFirst`
///   from that move on), passes the pod's taints (a `NoExecute` taint tolerated for a while only is
///   no home), nodeSelector, required node affinity, volume node affinity, required pod
///   affinity and anti-affinity in both directions and `DoNotSchedule` topology spread, and a
///   tied node would stay under allocatable and the cap if the pod landed there;
/// - after the plan no two pods share a host port on a node a pod moved to, and no node that
///   receives pods is over its allocatable, or over the cap in CPU, memory or ephemeral
///   storage;
/// - moves are in wave order, no wave evicts from more nodes than the threshold's nodes per
///   cycle or spends a budget beyond `disruptionsAllowed`, and the plan's wave list agrees;
/// - the plan keeps at least its own lower bound and the checker's (per resource, the
///   fewest largest nodes holding every pod that must stay somewhere).
///
/// Pending pods are not replayed (the planner lets them take room first; leaving them out
/// can only make the checker more lenient, never report a false violation).
///
/// # Examples
/// ```
/// use compactor_core::{Snapshot, model::SnapshotSpec, plan::{plan, PlanOptions}, verify::verify};
/// let snap = Snapshot::new(SnapshotSpec::default()).unwrap();
/// let opts = PlanOptions::default();
/// assert!(verify(&snap, &plan(&snap, &opts).unwrap(), &opts).is_empty());
/// ```
///
/// # Complexity
/// O((N + P) · r log r + B · P) for r resources and B budgets, plus O(M · (1 + T) · P · t) for
/// M moves with T tied nodes each and pods with t inter-pod terms.
pub fn verify(snapshot: &Snapshot, plan: &Plan, options: &PlanOptions) -> Vec<Violation> {
    let world = World {
        nodes: snapshot.nodes().iter().map(|n| &n.spec).collect(),
        pods: snapshot.pods().iter().map(|p| &p.spec).collect(),
        namespaces: &namespace_labels(snapshot),
    };
    Checker::new(&world, snapshot.pdbs(), plan, options).run()
}

/// The namespaces the input lists, with their labels.
fn namespace_labels(snapshot: &Snapshot) -> BTreeMap<String, BTreeMap<String, String>> {
    snapshot
        .pods()
        .iter()
        .map(|p| p.spec.namespace.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|ns| snapshot.namespace_listed(ns))
        .filter_map(|ns| Some((ns.to_owned(), snapshot.namespace_labels(ns)?.clone())))
        .collect()
}

struct Checker<'a> {
    world: &'a World<'a>,
    pdbs: &'a [crate::model::PdbSpec],
    plan: &'a Plan,
    options: &'a PlanOptions,
    node_index: BTreeMap<&'a str, usize>,
    pod_index: BTreeMap<(&'a str, &'a str), usize>,
    /// Where each pod is bound, by its `nodeName`.
    bound: Vec<Option<usize>>,
    /// What each pod takes of a node ([`rules::pod_load`]), computed once.
    pod_loads: Vec<Amounts>,
    drained: Vec<bool>,
    /// Kept, but cordoned by the plan: from the start (`cordonOnly`), or from the eviction
    /// that names it in `cordonFirst` on (updated during the replay).
    cordon_only: Vec<bool>,
    out: Vec<Violation>,
}

impl<'a> Checker<'a> {
    fn new(
        world: &'a World<'a>,
        pdbs: &'a [crate::model::PdbSpec],
        plan: &'a Plan,
        options: &'a PlanOptions,
    ) -> Self {
        let node_index: BTreeMap<&str, usize> = world
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.as_str(), i))
            .collect();
        let pod_index = world
            .pods
            .iter()
            .enumerate()
            .map(|(i, p)| ((p.namespace.as_str(), p.name.as_str()), i))
            .collect();
        let bound = world
            .pods
            .iter()
            .map(|p| {
                p.node_name
                    .as_deref()
                    .and_then(|n| node_index.get(n).copied())
            })
            .collect();
        let mut drained = vec![false; world.nodes.len()];
        for d in &plan.drain {
            if let Some(&i) = node_index.get(d.node.as_str()) {
                drained[i] = true;
            }
        }
        let mut cordon_only = vec![false; world.nodes.len()];
        for name in &plan.cordon_only {
            if let Some(&i) = node_index.get(name.as_str()) {
                cordon_only[i] = true;
            }
        }
        Self {
            world,
            pdbs,
            plan,
            options,
            node_index,
            pod_index,
            bound,
            pod_loads: world.pods.iter().map(|p| pod_load(p)).collect(),
            drained,
            cordon_only,
            out: Vec::new(),
        }
    }

    fn run(mut self) -> Vec<Violation> {
        self.accounting();
        self.drain_rules();
        let (location, receives, loads) = self.replay();
        self.host_ports(&location);
        self.final_loads(&receives, &loads);
        self.waves();
        self.lower_bounds();
        self.out
    }

    /// Every node drained or kept, with a reason; only known names.
    fn accounting(&mut self) {
        let drained: BTreeSet<&str> = self.plan.drain.iter().map(|x| x.node.as_str()).collect();
        let kept: BTreeSet<&str> = self.plan.kept.iter().map(|x| x.node.as_str()).collect();
        for node in &self.world.nodes {
            let name = node.name.as_str();
            match (drained.contains(name), kept.contains(name)) {
                (true, true) => self.out.push(Violation::DrainedAndKept {
                    node: name.to_owned(),
                }),
                (false, false) => self.out.push(Violation::Unaccounted {
                    node: name.to_owned(),
                }),
                _ => {}
            }
        }
        for name in &self.plan.cordon_only {
            if !kept.contains(name.as_str()) {
                self.out
                    .push(Violation::CordonOnlyNotKept { node: name.clone() });
            }
        }
        for k in &self.plan.kept {
            if k.reason.message.is_empty() {
                self.out.push(Violation::KeptWithoutReason {
                    node: k.node.clone(),
                });
            }
        }
        for name in drained.iter().chain(&kept) {
            if !self.node_index.contains_key(name) {
                self.out.push(Violation::UnknownNode {
                    node: (*name).to_owned(),
                });
            }
        }
    }

    /// Node rules on drained nodes; every pod of a drained node blocks, stays legitimately
    /// (DaemonSet, terminal, terminating) or is moved.
    fn drain_rules(&mut self) {
        let listed: BTreeSet<String> = self.world.namespaces.keys().cloned().collect();
        let rules = PodRules {
            pdbs: self.pdbs,
            excluded_namespaces: &self.options.excluded_namespaces,
            listed_namespaces: &listed,
            unlisted_namespace: self
                .world
                .pods
                .iter()
                .map(|p| p.namespace.as_str())
                .filter(|ns| !listed.contains(*ns))
                .min(),
            anti_terms_by_label: self
                .world
                .pods
                .iter()
                .filter(|p| p.node_name.is_some() && !p.phase.is_terminal())
                .flat_map(|p| &p.pod_anti_affinity)
                .filter(|t| t.namespace_selector.is_some())
                .collect(),
            without_csinode: self
                .world
                .nodes
                .iter()
                .filter(|n| n.ready && !n.unschedulable && n.attach_limits.is_none())
                .map(|n| n.name.as_str())
                .min(),
            scheduler: &self.options.scheduler,
        };
        let mut moved: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for m in &self.plan.moves {
            *moved
                .entry((m.namespace.as_str(), m.pod.as_str()))
                .or_insert(0) += 1;
        }
        let mut load: Vec<Amounts> = vec![Amounts::new(); self.world.nodes.len()];
        for (p, pod) in self.world.pods.iter().enumerate() {
            if let (Some(n), false) = (self.bound[p], pod.phase.is_terminal()) {
                add(&mut load[n], &self.pod_loads[p]);
            }
        }
        for (n, node) in self.world.nodes.iter().enumerate() {
            let over_committed = || {
                let capacity = allocatable(node);
                over(&load[n], &capacity, 100)
                    .into_iter()
                    .find(|(resource, share)| share.is_none() && !resource.starts_with(ATTACHED))
                    .map(|(resource, _)| violation::NodeRule::OverCommitted { resource })
            };
            if self.drained[n]
                && let Some(rule) = rules::node_rule(node).or_else(over_committed)
            {
                self.out.push(Violation::NodeNotDrainable {
                    node: node.name.clone(),
                    rule,
                });
            }
        }
        for (p, pod) in self.world.pods.iter().enumerate() {
            let times = moved
                .get(&(pod.namespace.as_str(), pod.name.as_str()))
                .copied()
                .unwrap_or(0);
            if times > 1 {
                self.out.push(Violation::MovedTwice {
                    pod: pod.key(),
                    times,
                });
            }
            let on_drained = self.bound[p].filter(|n| self.drained[*n]);
            match rules.blocking(pod) {
                Some(PodRule::DaemonSet | PodRule::Terminal | PodRule::Terminating)
                | Some(PodRule::NotBound)
                    if times == 0 => {}
                Some(rule) if times > 0 => self.out.push(Violation::NotMovable {
                    pod: pod.key(),
                    rule,
                }),
                Some(rule) => {
                    if let Some(n) = on_drained {
                        self.out.push(Violation::DrainBlocked {
                            node: self.world.nodes[n].name.clone(),
                            pod: pod.key(),
                            rule,
                        });
                    }
                }
                None => {
                    if let (Some(n), 0) = (on_drained, times) {
                        self.out.push(Violation::LeftBehind {
                            node: self.world.nodes[n].name.clone(),
                            pod: pod.key(),
                        });
                    }
                }
            }
        }
    }

    /// Replays the moves in eviction order. Returns where every pod ends, which nodes receive
    /// pods, and every node's requested amounts after the plan.
    fn replay(&mut self) -> (Vec<Option<usize>>, Vec<bool>, Vec<Amounts>) {
        let world = self.world;
        let mut location: Vec<Option<usize>> = self.bound.clone();
        let mut loads: Vec<Amounts> = vec![Amounts::new(); world.nodes.len()];
        for (p, pod) in world.pods.iter().enumerate() {
            if let (Some(n), false) = (self.bound[p], pod.phase.is_terminal()) {
                add(&mut loads[n], &self.pod_loads[p]);
            }
        }
        let capacity: Vec<Amounts> = world.nodes.iter().map(|n| allocatable(n)).collect();
        let cap = u32::from(self.options.safety.thresholds().max_utilization_percent);
        let mut receives = vec![false; world.nodes.len()];
        let mut last_wave = 1u32;
        let mut order_broken = false;
        for m in &self.plan.moves {
            let key = format!("{}/{}", m.namespace, m.pod);
            if (m.wave < last_wave || m.wave == 0) && !order_broken {
                order_broken = true;
                self.out.push(Violation::WaveOrder {
                    pod: key.clone(),
                    wave: m.wave,
                });
            }
            last_wave = last_wave.max(m.wave);
            let Some(&p) = self.pod_index.get(&(m.namespace.as_str(), m.pod.as_str())) else {
                self.out.push(Violation::UnknownPod { pod: key });
                continue;
            };
            let (from, to) = (self.known(&m.from_node), self.known(&m.to_node));
            let (Some(from), Some(to)) = (from, to) else {
                continue;
            };
            if self.bound[p] != Some(from) {
                self.out.push(Violation::WrongSource {
                    pod: key.clone(),
                    node: m.from_node.clone(),
                });
            }
            if !self.drained[from] {
                self.out.push(Violation::SourceNotDrained {
                    pod: key.clone(),
                    node: m.from_node.clone(),
                });
            }
            let request = self.pod_loads[p].clone();
            // Nodes cordoned right before this eviction (steering) take nothing from now on.
            for name in &m.cordon_first {
                if let Some(y) = self.known(name) {
                    self.cordon_only[y] = true;
                }
            }
            // The pod leaves, then kube-scheduler places it among the others.
            location[p] = None;
            let mut targets = vec![(to, false)];
            for t in &m.tied_with {
                if let Some(t) = self.known(t) {
                    targets.push((t, true));
                }
            }
            for (t, tied) in targets {
                let mut problems = self.receiver_problems(t);
                problems.extend(node_problems(world.pods[p], world.nodes[t]));
                if problems.is_empty() {
                    problems.extend(interpod_problems(world, &location, p, t));
                }
                if tied && problems.is_empty() {
                    let mut after = loads[t].clone();
                    add(&mut after, &request);
                    problems.extend(over(&after, &capacity[t], cap).into_iter().map(
                        |(resource, pm)| match pm {
                            Some(per_mille) => Constraint::OverCap {
                                resource,
                                per_mille,
                                cap,
                            },
                            None => Constraint::OverAllocatable { resource },
                        },
                    ));
                }
                for constraint in problems {
                    self.out.push(Violation::Placement {
                        pod: key.clone(),
                        node: world.nodes[t].name.clone(),
                        tied,
                        constraint,
                    });
                }
            }
            location[p] = Some(to);
            add(&mut loads[to], &request);
            receives[to] = true;
        }
        (location, receives, loads)
    }

    /// The index of node `name`, reporting it when unknown.
    fn known(&mut self, name: &str) -> Option<usize> {
        let found = self.node_index.get(name).copied();
        if found.is_none() {
            self.out.push(Violation::UnknownNode {
                node: name.to_owned(),
            });
        }
        found
    }

    /// Why node `n` takes no evicted pod at all.
    fn receiver_problems(&self, n: usize) -> Vec<Constraint> {
        let node = self.world.nodes[n];
        if self.drained[n] {
            vec![Constraint::Drained]
        } else if self.cordon_only[n] {
            vec![Constraint::CordonedByPlan]
        } else if !node.ready {
            vec![Constraint::NotReady]
        } else if node.unschedulable {
            vec![Constraint::Cordoned]
        } else {
            Vec::new()
        }
    }

    /// No host port shared on a node a pod moved to.
    fn host_ports(&mut self, location: &[Option<usize>]) {
        let world = self.world;
        let mut moved = vec![false; world.pods.len()];
        for m in &self.plan.moves {
            if let Some(&p) = self.pod_index.get(&(m.namespace.as_str(), m.pod.as_str())) {
                moved[p] = true;
            }
        }
        let mut on: BTreeMap<usize, Vec<(usize, &crate::model::HostPort)>> = BTreeMap::new();
        for (p, pod) in world.pods.iter().enumerate() {
            if let (Some(n), false) = (location[p], pod.phase.is_terminal()) {
                for hp in &pod.host_ports {
                    on.entry(n).or_default().push((p, hp));
                }
            }
        }
        let wildcard = |ip: &str| ip.is_empty() || ip == "0.0.0.0";
        for (n, ports) in &on {
            for (x, (a, pa)) in ports.iter().enumerate() {
                for (b, pb) in &ports[x + 1..] {
                    let clash = a != b
                        && pa.port == pb.port
                        && pa.protocol == pb.protocol
                        && (pa.host_ip == pb.host_ip
                            || wildcard(&pa.host_ip)
                            || wildcard(&pb.host_ip));
                    if !clash || !(moved[*a] || moved[*b]) {
                        continue;
                    }
                    let (mover, other) = if moved[*a] { (*a, *b) } else { (*b, *a) };
                    self.out.push(Violation::Placement {
                        pod: world.pods[mover].key(),
                        node: world.nodes[*n].name.clone(),
                        tied: false,
                        constraint: Constraint::HostPort {
                            port: pa.port,
                            protocol: format!("{:?}", pa.protocol),
                            other: world.pods[other].key(),
                        },
                    });
                }
            }
        }
    }

    /// Receiving nodes under allocatable and the cap after the plan.
    fn final_loads(&mut self, receives: &[bool], loads: &[Amounts]) {
        let cap = u32::from(self.options.safety.thresholds().max_utilization_percent);
        for (n, node) in self.world.nodes.iter().enumerate() {
            if self.drained[n] || !receives[n] {
                continue;
            }
            let capacity = allocatable(node);
            for (resource, per_mille) in over(&loads[n], &capacity, cap) {
                self.out.push(match per_mille {
                    Some(per_mille) => Violation::OverCap {
                        node: node.name.clone(),
                        resource,
                        per_mille,
                        cap,
                    },
                    None => Violation::OverAllocatable {
                        node: node.name.clone(),
                        requested: loads[n][&resource],
                        allocatable: capacity.get(&resource).copied().unwrap_or(0),
                        resource,
                    },
                });
            }
        }
    }

    /// Nodes per wave, budgets per wave (coverage computed here), and the wave list.
    fn waves(&mut self) {
        let max = self.options.safety.thresholds().max_nodes_per_wave.max(1);
        let mut per_wave: BTreeMap<u32, WaveTally<'_>> = BTreeMap::new();
        for m in &self.plan.moves {
            let entry = per_wave.entry(m.wave).or_default();
            entry.0.insert(m.from_node.as_str());
            entry.2 += 1;
            if let Some(&p) = self.pod_index.get(&(m.namespace.as_str(), m.pod.as_str())) {
                for b in covering(self.pdbs, self.world.pods[p]) {
                    *entry.1.entry(b).or_insert(0) += 1;
                }
            }
        }
        let listed: BTreeMap<u32, &crate::plan::Wave> =
            self.plan.waves.iter().map(|w| (w.index, w)).collect();
        for (wave, (nodes, spent, evictions)) in &per_wave {
            if nodes.len() > max as usize {
                self.out.push(Violation::WaveTooWide {
                    wave: *wave,
                    nodes: nodes.len(),
                    max,
                });
            }
            for (b, count) in spent {
                let pdb = &self.pdbs[*b];
                if *count > pdb.disruptions_allowed {
                    self.out.push(Violation::BudgetOverspent {
                        wave: *wave,
                        pdb: pdb.key(),
                        evictions: *count,
                        allowed: pdb.disruptions_allowed,
                    });
                }
            }
            let agrees = listed.get(wave).is_some_and(|w| {
                w.evictions == *evictions
                    && w.nodes.iter().map(String::as_str).collect::<BTreeSet<_>>() == *nodes
            });
            if !agrees {
                self.out.push(Violation::WaveList { wave: *wave });
            }
        }
        for wave in listed.keys() {
            if !per_wave.contains_key(wave) {
                self.out.push(Violation::WaveList { wave: *wave });
            }
        }
    }

    /// At least the plan's bound and the checker's own.
    fn lower_bounds(&mut self) {
        let nodes = self.world.nodes.len();
        let kept = nodes - self.drained.iter().filter(|d| **d).count();
        let own = rules::lower_bound(&self.world.nodes, &self.world.pods, &self.pod_loads);
        let at_cap = self.plan.cap_lower_bound.as_ref().map_or(0, |b| b.nodes);
        for (bound, by) in [
            (u64::from(self.plan.lower_bound.nodes), "plan"),
            (u64::from(at_cap), "plan-cap"),
            (own, "checker"),
        ] {
            if (kept as u64) < bound {
                self.out
                    .push(Violation::BelowLowerBound { kept, bound, by });
            }
        }
    }
}

/// One wave as the moves give it: nodes touched, evictions per budget, evictions.
type WaveTally<'a> = (BTreeSet<&'a str>, BTreeMap<usize, u32>, u32);

/// Adds `b` into `a`.
fn add(a: &mut Amounts, b: &Amounts) {
    for (name, amount) in b {
        *a.entry(name.clone()).or_default() += amount;
    }
}

/// Resources of `load` over `capacity` (`None`) or, for capped resources, over `cap` %
/// (`Some(per mille of allocatable)`).
fn over(load: &Amounts, capacity: &Amounts, cap: u32) -> Vec<(String, Option<u128>)> {
    let mut out = Vec::new();
    for (resource, used) in load {
        let alloc = match capacity.get(resource) {
            Some(a) => *a,
            // A CSI driver without a limit on the node: kube-scheduler does not filter.
            None if resource.starts_with(ATTACHED) => continue,
            None => 0,
        };
        if *used > alloc {
            out.push((resource.clone(), None));
        } else if CAPPED.contains(&resource.as_str()) && used * 100 > alloc * u128::from(cap) {
            out.push((resource.clone(), Some(used * 1000 / alloc.max(1))));
        }
    }
    out
}
