//! The checker's own reading of the raw objects: effective requests, allocatable with its
//! defaults, PodDisruptionBudget coverage and the drain rules of DESIGN §6. Written apart from
//! the planner on purpose (other representation: resource names, not dimensions), so that a
//! mistake in one is caught by the other.

use std::collections::{BTreeMap, BTreeSet};

use super::placement::selects;
use super::violation::{NodeRule, PodRule};
use crate::model::{NodeSpec, PdbSpec, PodAffinityTerm, PodSpec, VolumeSource};

/// Resource amounts by name, wide enough that no sum overflows.
pub(super) type Amounts = BTreeMap<String, u128>;

/// kube-scheduler's pod request: app containers plus sidecars, or the highest init step if
/// higher (an init container runs beside the sidecars started before it), a pod-level request
/// replacing the container sum for its resource, plus overhead, plus one pod slot.
pub(super) fn pod_request(pod: &PodSpec) -> Amounts {
    let mut app = Amounts::new();
    for c in &pod.containers {
        for (name, amount) in c.requests.iter() {
            *app.entry(name.to_owned()).or_default() += u128::from(amount);
        }
    }
    let mut sidecars = Amounts::new();
    let mut init_peak = Amounts::new();
    for c in &pod.init_containers {
        let step: Amounts = if c.sidecar {
            for (name, amount) in c.requests.iter() {
                *app.entry(name.to_owned()).or_default() += u128::from(amount);
                *sidecars.entry(name.to_owned()).or_default() += u128::from(amount);
            }
            sidecars.clone()
        } else {
            let mut step = sidecars.clone();
            for (name, amount) in c.requests.iter() {
                *step.entry(name.to_owned()).or_default() += u128::from(amount);
            }
            step
        };
        for (name, amount) in step {
            let peak = init_peak.entry(name).or_default();
            *peak = (*peak).max(amount);
        }
    }
    let mut out = app;
    for (name, amount) in init_peak {
        let v = out.entry(name).or_default();
        *v = (*v).max(amount);
    }
    for (name, amount) in pod.pod_requests.iter() {
        out.insert(name.to_owned(), u128::from(amount));
    }
    for (name, amount) in pod.overhead.iter() {
        *out.entry(name.to_owned()).or_default() += u128::from(amount);
    }
    *out.entry(crate::resources::PODS.to_owned()).or_default() += 1;
    out.retain(|_, v| *v > 0);
    out
}

/// Name of the amount counting a CSI driver's attached volumes (the driver's name follows).
pub(super) const ATTACHED: &str = "attachable-volumes-csi-";

/// What `pod` takes of a node: its [`pod_request`], plus one attached volume per distinct
/// claim of each CSI driver.
pub(super) fn pod_load(pod: &PodSpec) -> Amounts {
    let mut out = pod_request(pod);
    let mut seen = BTreeSet::new();
    for v in &pod.volumes {
        if let VolumeSource::PersistentVolumeClaim {
            claim_name,
            csi_driver: Some(driver),
            ..
        } = &v.source
            && seen.insert((driver, claim_name))
        {
            *out.entry(format!("{ATTACHED}{driver}")).or_default() += 1;
        }
    }
    out
}

/// A node's allocatable; a node that does not state `pods` gets the kubelet's default, 110;
/// its CSINode's attach limits are amounts too (a driver without one has no limit).
pub(super) fn allocatable(node: &NodeSpec) -> Amounts {
    let mut out: Amounts = node
        .allocatable
        .iter()
        .map(|(name, amount)| (name.to_owned(), u128::from(amount)))
        .collect();
    out.entry(crate::resources::PODS.to_owned()).or_insert(110);
    for (driver, limit) in node.attach_limits.iter().flatten() {
        out.insert(format!("{ATTACHED}{driver}"), u128::from(*limit));
    }
    out
}

/// The PodDisruptionBudgets (indices) that cover `pod`: same namespace, selector matching
/// its labels (a null selector matches nothing, an empty one everything).
pub(super) fn covering(pdbs: &[PdbSpec], pod: &PodSpec) -> Vec<usize> {
    pdbs.iter()
        .enumerate()
        .filter(|(_, b)| {
            b.namespace == pod.namespace
                && b.selector
                    .as_ref()
                    .is_some_and(|s| selects(Some(s), &pod.labels))
        })
        .map(|(i, _)| i)
        .collect()
}

/// Whether `pod` is a DaemonSet pod.
pub(super) fn is_daemon(pod: &PodSpec) -> bool {
    pod.owner.as_ref().is_some_and(|o| o.kind == "DaemonSet")
}

/// What the raw objects say about evicting `pod`: `None` when it may be moved.
pub(super) struct PodRules<'a> {
    /// Every PodDisruptionBudget.
    pub pdbs: &'a [PdbSpec],
    /// Namespaces the configuration excludes.
    pub excluded_namespaces: &'a BTreeSet<String>,
    /// Namespaces whose labels the input gives.
    pub listed_namespaces: &'a BTreeSet<String>,
    /// A namespace of some pod whose labels the input lacks.
    pub unlisted_namespace: Option<&'a str>,
    /// Required anti-affinity terms of bound pods that select namespaces by label.
    pub anti_terms_by_label: Vec<&'a PodAffinityTerm>,
    /// A schedulable, Ready node whose CSINode the input lacks.
    pub without_csinode: Option<&'a str>,
    /// The schedulers the prediction models.
    pub scheduler: &'a crate::plan::SchedulerConfig,
}

impl PodRules<'_> {
    /// The first rule (DESIGN §6 order) that keeps `pod` where it is.
    pub fn blocking(&self, pod: &PodSpec) -> Option<PodRule> {
        let annotation = |key: &str| pod.annotations.get(key).map(String::as_str);
        let owner = pod.owner.as_ref().map(|o| o.kind.as_str());
        if annotation(crate::model::MIRROR_ANNOTATION).is_some() || owner == Some("Node") {
            return Some(PodRule::MirrorPod);
        }
        if owner == Some("DaemonSet") {
            return Some(PodRule::DaemonSet);
        }
        if pod.phase.is_terminal() {
            return Some(PodRule::Terminal);
        }
        if pod.terminating {
            return Some(PodRule::Terminating);
        }
        if pod.node_name.is_none() {
            return Some(PodRule::NotBound);
        }
        for (key, value) in [
            ("optimizer.io/exclude", "true"),
            ("cluster-autoscaler.kubernetes.io/safe-to-evict", "false"),
            ("karpenter.sh/do-not-disrupt", "true"),
        ] {
            if annotation(key) == Some(value) {
                return Some(PodRule::OptOut {
                    annotation: key.to_owned(),
                    value: value.to_owned(),
                });
            }
        }
        if self.excluded_namespaces.contains(&pod.namespace) {
            return Some(PodRule::NamespaceExcluded);
        }
        let safe = annotation("cluster-autoscaler.kubernetes.io/safe-to-evict") == Some("true");
        if owner.is_none() && !safe {
            return Some(PodRule::NoController);
        }
        if matches!(
            pod.priority_class_name.as_deref(),
            Some("system-cluster-critical" | "system-node-critical")
        ) || pod.priority >= 2_000_000_000
        {
            return Some(PodRule::SystemCritical);
        }
        let budgets = covering(self.pdbs, pod);
        if pod.namespace == "kube-system" && budgets.is_empty() {
            return Some(PodRule::KubeSystemWithoutPdb);
        }
        if !safe {
            for v in &pod.volumes {
                if matches!(
                    v.source,
                    VolumeSource::HostPath { .. } | VolumeSource::EmptyDir { memory: false }
                ) {
                    return Some(PodRule::LocalStorage {
                        volume: v.name.clone(),
                    });
                }
            }
        }
        for v in &pod.volumes {
            if let VolumeSource::PersistentVolumeClaim {
                unresolved: Some(why),
                ..
            } = &v.source
            {
                return Some(PodRule::UnresolvedClaim {
                    volume: v.name.clone(),
                    why: why.clone(),
                });
            }
        }
        if let Some(node) = self.without_csinode {
            for v in &pod.volumes {
                if let VolumeSource::PersistentVolumeClaim {
                    csi_driver: Some(driver),
                    ..
                } = &v.source
                {
                    return Some(PodRule::AttachLimitUnknown {
                        volume: v.name.clone(),
                        driver: driver.clone(),
                        node: node.to_owned(),
                    });
                }
            }
        }
        let own_by_label = pod
            .pod_affinity
            .iter()
            .chain(&pod.pod_anti_affinity)
            .any(|t| t.namespace_selector.is_some());
        if own_by_label && let Some(ns) = self.unlisted_namespace {
            return Some(PodRule::NamespaceLabelsMissing {
                namespace: ns.to_owned(),
            });
        }
        if !self.listed_namespaces.contains(&pod.namespace)
            && self.anti_terms_by_label.iter().any(|t| {
                t.label_selector
                    .as_ref()
                    .is_some_and(|s| selects(Some(s), &pod.labels))
            })
        {
            return Some(PodRule::NamespaceLabelsMissing {
                namespace: pod.namespace.clone(),
            });
        }
        let scheduler = pod
            .scheduler_name
            .as_deref()
            .unwrap_or(crate::plan::DEFAULT_SCHEDULER);
        if self.scheduler.profile(scheduler).is_none() {
            return Some(PodRule::SchedulerNotModelled {
                scheduler: scheduler.to_owned(),
            });
        }
        if budgets.len() > 1 {
            return Some(PodRule::SeveralPdbs {
                pdbs: budgets.iter().map(|b| self.pdbs[*b].key()).collect(),
            });
        }
        if let Some(b) = budgets.first()
            && self.pdbs[*b].disruptions_allowed == 0
        {
            return Some(PodRule::BudgetExhausted {
                pdb: self.pdbs[*b].key(),
            });
        }
        None
    }
}

/// The first node rule that makes `node` no drain candidate.
pub(super) fn node_rule(node: &NodeSpec) -> Option<NodeRule> {
    if node
        .annotations
        .get("optimizer.io/exclude")
        .map(String::as_str)
        == Some("true")
    {
        Some(NodeRule::Excluded)
    } else if !node.ready {
        Some(NodeRule::NotReady)
    } else if node.unschedulable {
        Some(NodeRule::Cordoned)
    } else {
        None
    }
}

/// A lower bound of the checker's own: for each resource, the fewest nodes whose largest
/// capacities add up to what the pods that must stay somewhere request (bound, running, not
/// terminating, not DaemonSet pods: those go away with their node). A node's capacity is its
/// allocatable, or what its pods take now if more (an over-committed node keeps its pods). At
/// least 1 when there is a node. A resource the nodes together cannot hold bounds nothing.
pub(super) fn lower_bound(nodes: &[&NodeSpec], pods: &[&PodSpec], loads: &[Amounts]) -> u64 {
    let index: BTreeMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), i))
        .collect();
    let mut capacities: Vec<Amounts> = nodes.iter().map(|n| allocatable(n)).collect();
    let mut held: Vec<Amounts> = vec![Amounts::new(); nodes.len()];
    for (pod, load) in pods.iter().zip(loads) {
        if let (Some(&n), false) = (
            pod.node_name.as_deref().and_then(|name| index.get(name)),
            pod.phase.is_terminal(),
        ) {
            for (name, amount) in load {
                *held[n].entry(name.clone()).or_default() += amount;
            }
        }
    }
    for (capacity, held) in capacities.iter_mut().zip(held) {
        for (name, amount) in held {
            // No attach limit for a driver stays no limit.
            if name.starts_with(ATTACHED) && !capacity.contains_key(&name) {
                continue;
            }
            let c = capacity.entry(name).or_default();
            *c = (*c).max(amount);
        }
    }
    let mut demand = Amounts::new();
    for (pod, load) in pods.iter().zip(loads) {
        if pod.node_name.is_none() || pod.phase.is_terminal() || pod.terminating || is_daemon(pod) {
            continue;
        }
        for (name, amount) in load {
            *demand.entry(name.clone()).or_default() += amount;
        }
    }
    let mut bound = u64::from(!nodes.is_empty());
    for (name, need) in demand {
        // A node without an attach limit for a driver can attach any number of its volumes.
        let missing = if name.starts_with(ATTACHED) { need } else { 0 };
        let mut sizes: Vec<u128> = capacities
            .iter()
            .map(|a| a.get(&name).copied().unwrap_or(missing))
            .collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        let mut sum = 0u128;
        let mut k = 0u64;
        for s in sizes {
            if sum >= need {
                break;
            }
            sum += s;
            k += 1;
        }
        // Already over what every node together holds (allocatable shrank, a limit was
        // lowered): the state is over-committed, and this resource bounds nothing.
        if sum >= need {
            bound = bound.max(k);
        }
    }
    bound
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ContainerSpec, InitContainerSpec};
    use crate::resources::ResourceList;

    fn req(cpu: u64) -> ResourceList {
        ResourceList::new().with("cpu", cpu)
    }

    #[test]
    fn requests_follow_kube_scheduler_arithmetic() {
        // app 300 + sidecar 100 = 400; init steps: 500 alone, then 100 + 200 = 300 beside the
        // sidecar; overhead 50: max(400, 500) + 50 = 550.
        let pod = PodSpec {
            containers: vec![ContainerSpec {
                name: "app".into(),
                requests: req(300),
            }],
            init_containers: vec![
                InitContainerSpec {
                    name: "setup".into(),
                    requests: req(500),
                    sidecar: false,
                },
                InitContainerSpec {
                    name: "proxy".into(),
                    requests: req(100),
                    sidecar: true,
                },
                InitContainerSpec {
                    name: "late".into(),
                    requests: req(200),
                    sidecar: false,
                },
            ],
            overhead: req(50),
            ..Default::default()
        };
        let r = pod_request(&pod);
        assert_eq!(r["cpu"], 550);
        assert_eq!(r["pods"], 1);
    }

    /// The checker's arithmetic and the planner's agree on every generated pod (sidecars,
    /// init containers, overhead, GPUs), though they share no code.
    #[test]
    fn requests_agree_with_the_planner() {
        use crate::testing::{ClusterShape, generate};
        for seed in 0..8 {
            let shape = ClusterShape {
                nodes: 40,
                pods_per_node: 8,
                blocking_percent: 10,
                constraints: true,
            };
            let snap = crate::Snapshot::new(generate(seed, shape)).expect("valid");
            let dims = snap.dims();
            for pod in snap.pods() {
                let ours = pod_load(&pod.spec);
                for (k, planner) in pod.request.iter().enumerate() {
                    let name = dims.name(k);
                    assert_eq!(
                        ours.get(name).copied().unwrap_or(0),
                        u128::from(*planner),
                        "{} {name}",
                        pod.spec.key()
                    );
                }
            }
        }
    }

    #[test]
    fn bound_counts_the_largest_nodes_first() {
        let node = |name: &str, cpu: u64| NodeSpec {
            name: name.into(),
            allocatable: req(cpu).with("memory", 1 << 30),
            ready: true,
            ..Default::default()
        };
        let pod = |cpu: u64, on: &str| PodSpec {
            node_name: Some(on.into()),
            containers: vec![ContainerSpec {
                name: "c".into(),
                requests: req(cpu),
            }],
            ..Default::default()
        };
        let nodes = [node("a", 1000), node("b", 4000), node("c", 1000)];
        let nodes: Vec<&NodeSpec> = nodes.iter().collect();
        let (big, mid, other) = (pod(3000, "b"), pod(900, "a"), pod(900, "c"));
        let bound = |pods: &[&PodSpec]| {
            let loads: Vec<Amounts> = pods.iter().map(|p| pod_load(p)).collect();
            lower_bound(&nodes, pods, &loads)
        };
        assert_eq!(bound(&[&big]), 1);
        assert_eq!(bound(&[&big, &mid, &other]), 2);
        assert_eq!(bound(&[]), 1);
        // An over-committed node holds what it holds: 4500m on "b" (4000m) is one node.
        assert_eq!(bound(&[&pod(4500, "b")]), 1);
    }
}
