//! Builders and a seeded snapshot generator shared by tests, property tests, benches and fuzz
//! targets (feature `test-util`).
//!
//! The generator is deterministic for a seed: the same seed gives the same snapshot on every
//! machine (a small xorshift generator, no global state).

use crate::model::{
    ContainerSpec, HOSTNAME_LABEL, HostPort, LabelSelector, NodeInclusionPolicy,
    NodeSelectorOperator, NodeSelectorRequirement, NodeSelectorTerm, NodeSpec, OwnerRef, PdbSpec,
    PodAffinityTerm, PodSpec, PreferredSchedulingTerm, Protocol, SnapshotSpec, Taint, TaintEffect,
    Toleration, TolerationOperator, TopologySpreadConstraint, VolumeSource, VolumeSpec,
    WeightedPodAffinityTerm, WhenUnsatisfiable, ZONE_LABEL,
};
use std::collections::BTreeMap;

use crate::resources::ResourceList;

/// One GiB in bytes.
pub const GI: u64 = 1 << 30;
/// One MiB in bytes.
pub const MI: u64 = 1 << 20;

/// A Ready node with `cpu` millicores and `memory` bytes allocatable.
pub fn node(name: &str, cpu: u64, memory: u64) -> NodeSpec {
    NodeSpec {
        name: name.into(),
        allocatable: ResourceList::new().with("cpu", cpu).with("memory", memory),
        ready: true,
        ..Default::default()
    }
}

/// A pod of Deployment `owner` (or a bare pod when `owner` is empty) in namespace `ns`,
/// bound to `node`, requesting `cpu` millicores and `memory` bytes.
pub fn pod(ns: &str, name: &str, node: &str, owner: &str, cpu: u64, memory: u64) -> PodSpec {
    PodSpec {
        namespace: ns.into(),
        name: name.into(),
        node_name: Some(node.into()),
        owner: (!owner.is_empty()).then(|| OwnerRef {
            kind: "Deployment".into(),
            name: owner.into(),
        }),
        containers: vec![ContainerSpec {
            name: "app".into(),
            requests: ResourceList::new().with("cpu", cpu).with("memory", memory),
        }],
        readiness_probe: true,
        ..Default::default()
    }
}

/// A PDB in `ns` selecting pods labelled `app=<app>`.
pub fn pdb(ns: &str, name: &str, app: &str, allowed: u32) -> PdbSpec {
    PdbSpec::for_app(ns, name, app, allowed)
}

pub use crate::rng::Rng;

/// The CSI driver of generated CSI volumes.
const CSI_DRIVER: &str = "ebs.csi.aws.com";

/// Zones of generated nodes, by node number.
const ZONES: [&str; 3] = ["zone-a", "zone-b", "zone-c"];

/// Shape of a generated cluster.
#[derive(Debug, Clone, Copy)]
pub struct ClusterShape {
    /// Number of nodes.
    pub nodes: usize,
    /// Average pods per node.
    pub pods_per_node: usize,
    /// Percentage of pods that carry a drain-blocking trait (bare, local storage, opt-out…).
    pub blocking_percent: u64,
    /// Whether workloads carry scheduling constraints (nodeSelector, node affinity, host
    /// ports, pod affinity and anti-affinity, topology spread, zonal volumes, preferences).
    /// The cluster is otherwise the same (same nodes, pods and sizes), so the two can be
    /// compared.
    pub constraints: bool,
}

/// A realistic random cluster: a mix of node types (4/16, 8/32, 16/64, some GPU nodes),
/// Deployments and StatefulSets of common pod shapes, DaemonSet pods on every node, PDBs on
/// some workloads, a few blocking pods and a few cordoned or NotReady nodes. Pods are placed
/// so that no node exceeds its allocatable.
///
/// Scheduling constraints, all satisfied by the generated placement: nodes are spread over
/// three zones (`topology.kubernetes.io/zone`), GPU nodes are tainted
/// `nvidia.com/gpu=present:NoSchedule` (GPU pods tolerate it, other pods avoid those nodes,
/// DaemonSet pods tolerate everything); some workloads pin their pods to the zone they run in
/// by nodeSelector, by required node affinity (`In`, or `NotIn` another zone) or ask for a host
/// port (never two on one node). With `constraints`, also by workload number: hostname
/// anti-affinity between replicas (placed on distinct nodes), zone topology spread
/// (`maxSkew` 1, DoNotSchedule; the generated placement may already break it, as real
/// clusters do after scale-downs), required zone affinity to the previous workload's pods,
/// preferred anti-affinity and node affinity, and stateful volumes bound to their zone.
///
/// # Examples
/// ```
/// use compactor_core::testing::{generate, ClusterShape};
/// let a = generate(7, ClusterShape { nodes: 10, pods_per_node: 8, blocking_percent: 5, constraints: true });
/// let b = generate(7, ClusterShape { nodes: 10, pods_per_node: 8, blocking_percent: 5, constraints: true });
/// assert_eq!(a, b);
/// assert_eq!(a.nodes.len(), 10);
/// ```
///
/// # Complexity
/// O(N · pods_per_node).
pub fn generate(seed: u64, shape: ClusterShape) -> SnapshotSpec {
    let mut rng = Rng::new(seed);
    const NODE_TYPES: [(u64, u64, u64); 4] = [
        (3920, 15 * GI, 0),
        (7910, 30 * GI, 0),
        (15_890, 61 * GI, 0),
        (3920, 15 * GI, 1),
    ];
    const SHAPES: [(u64, u64); 8] = [
        (100, 128 * MI),
        (250, 512 * MI),
        (500, GI),
        (1000, 2 * GI),
        (200, 256 * MI),
        (1500, 6 * GI),
        (2000, 4 * GI),
        (50, 64 * MI),
    ];
    let mut nodes = Vec::with_capacity(shape.nodes);
    for i in 0..shape.nodes {
        let t = NODE_TYPES[if rng.chance(8) {
            3
        } else {
            rng.below(3) as usize
        }];
        let mut n = node(&format!("node-{i:05}"), t.0, t.1);
        n.allocatable.set("pods", 110);
        if t.2 > 0 {
            n.allocatable.set("nvidia.com/gpu", t.2);
        }
        n.ready = !rng.chance(3);
        n.unschedulable = rng.chance(3);
        n.labels
            .insert(ZONE_LABEL.into(), ZONES[i % ZONES.len()].into());
        if t.2 > 0 {
            n.taints
                .push(Taint::no_schedule("nvidia.com/gpu", "present"));
        }
        // By node number, so that they cost no random draws.
        if shape.constraints {
            if i % 23 == 7 {
                n.taints.push(Taint {
                    key: "spot".into(),
                    value: Some("true".into()),
                    effect: TaintEffect::PreferNoSchedule,
                });
            }
            if i % 29 == 11 && t.2 == 0 {
                n.taints.push(Taint {
                    key: "maintenance".into(),
                    value: None,
                    effect: TaintEffect::NoExecute,
                });
            }
            if i % 43 == 9 {
                n.annotations
                    .insert(crate::model::EXCLUDE_ANNOTATION.into(), "true".into());
            }
            // CSINodes: a small EBS attach limit; on one seed in four the input has none.
            if seed % 4 != 1 {
                n.attach_limits = Some([(CSI_DRIVER.to_owned(), 3 + (i % 3) as u64)].into());
            }
        }
        nodes.push(n);
    }
    let tainted: Vec<bool> = nodes
        .iter()
        .map(|n| {
            n.taints
                .iter()
                .any(|t| t.effect != TaintEffect::PreferNoSchedule)
        })
        .collect();
    let mut ports_used: Vec<Vec<u16>> = vec![Vec::new(); nodes.len()];
    // CSI volumes attached per node, and how many each node may attach.
    let mut attached: Vec<u64> = vec![0; nodes.len()];
    let attach_limit: Vec<u64> = nodes
        .iter()
        .map(|n| {
            n.attach_limits
                .as_ref()
                .and_then(|l| l.get(CSI_DRIVER).copied())
                .unwrap_or(3)
        })
        .collect();
    let mut free: Vec<(u64, u64, u64)> = nodes
        .iter()
        .map(|n| {
            (
                n.allocatable.get("cpu"),
                n.allocatable.get("memory"),
                n.allocatable.get("nvidia.com/gpu"),
            )
        })
        .collect();
    let node_cpu: Vec<u64> = nodes.iter().map(|n| n.allocatable.get("cpu")).collect();
    let mut pods = Vec::new();
    let mut pdbs = Vec::new();
    let workloads = (shape.nodes * shape.pods_per_node / 4).max(1);
    for w in 0..workloads {
        let ns = format!("team-{}", w % 7);
        let name = format!("app-{w}");
        let (cpu, mem) = SHAPES[rng.below(SHAPES.len() as u64) as usize];
        let gpu = u64::from(rng.chance(3));
        let replicas = 1 + rng.below(7);
        let stateful = rng.chance(10);
        if rng.chance(30) {
            pdbs.push(pdb(&ns, &name, &name, rng.below(3) as u32));
        }
        if shape.constraints && w % 31 == 4 {
            // A second budget over the same pods: the Eviction API refuses them (500).
            pdbs.push(pdb(&ns, &format!("{name}-extra"), &name, 2));
        }
        // Constraints by workload number, so that they cost no random draws.
        let host_port = (shape.constraints && w % 19 == 3).then(|| 9100 + (w % 5) as u16);
        let kind = if shape.constraints { w % 13 } else { 0 };
        let anti_host = kind == 4;
        // A third of the stateful workloads use a CSI volume (counted against attach limits).
        let csi = shape.constraints && stateful && w % 3 == 1;
        let mut mine: Vec<usize> = Vec::new();
        for r in 0..replicas {
            // Utilisation between roughly 10 % and 60 % per node: place on a random node with room.
            let has_room = |k: usize| {
                let (c, m, g) = free[k];
                c >= cpu
                    && m >= mem
                    && g >= gpu
                    && c * 10 > node_cpu[k] * 4
                    && (gpu > 0 || !tainted[k])
                    && host_port.is_none_or(|hp| !ports_used[k].contains(&hp))
                    && !(anti_host && mine.contains(&k))
                    && !(csi && attached[k] >= attach_limit[k])
            };
            // A few random probes, then a scan from a random start.
            let probes: Vec<usize> = (0..8)
                .map(|_| rng.below(shape.nodes.max(1) as u64) as usize)
                .collect();
            let start = rng.below(shape.nodes.max(1) as u64) as usize;
            let Some(target) = probes.into_iter().find(|&k| has_room(k)).or_else(|| {
                (0..shape.nodes)
                    .map(|k| (start + k) % shape.nodes)
                    .find(|&k| has_room(k))
            }) else {
                continue;
            };
            free[target].0 -= cpu;
            free[target].1 -= mem;
            free[target].2 -= gpu;
            mine.push(target);
            let mut p = pod(
                &ns,
                &format!("{name}-{r}"),
                &nodes[target].name,
                &name,
                cpu,
                mem,
            );
            p.labels.insert("app".into(), name.clone());
            if shape.constraints {
                split_request(&mut p, w, cpu, mem);
            }
            if gpu > 0 {
                p.containers[0].requests.set("nvidia.com/gpu", 1);
                p.tolerations.push(Toleration::exists(
                    "nvidia.com/gpu",
                    TaintEffect::NoSchedule,
                ));
            }
            let zone = target % ZONES.len();
            let zone_req = |operator, z: usize| NodeSelectorTerm {
                match_expressions: vec![NodeSelectorRequirement {
                    key: ZONE_LABEL.into(),
                    operator,
                    values: vec![ZONES[z].into()],
                }],
                match_fields: vec![],
            };
            let app_term = |app: String, key: &str| PodAffinityTerm {
                // Every fifth term picks the namespace by label (the namespaces of the
                // generated workloads carry `team: <name>`).
                namespace_selector: (w % 5 == 0).then(|| LabelSelector {
                    match_labels: [(
                        "team".to_owned(),
                        format!("team-{}", w.saturating_sub(1) % 7),
                    )]
                    .into(),
                    ..Default::default()
                }),
                label_selector: Some(LabelSelector {
                    match_labels: [("app".to_owned(), app)].into(),
                    ..Default::default()
                }),
                topology_key: key.into(),
                ..Default::default()
            };
            match kind {
                4 => p
                    .pod_anti_affinity
                    .push(app_term(name.clone(), HOSTNAME_LABEL)),
                // Zone spread, with minDomains on every other one, or hostname spread.
                6 => p
                    .topology_spread_constraints
                    .push(TopologySpreadConstraint {
                        max_skew: if w % 3 == 0 { 2 } else { 1 },
                        topology_key: if w % 3 == 0 {
                            HOSTNAME_LABEL.into()
                        } else {
                            ZONE_LABEL.into()
                        },
                        when_unsatisfiable: WhenUnsatisfiable::DoNotSchedule,
                        label_selector: Some(LabelSelector {
                            match_labels: [("app".to_owned(), name.clone())].into(),
                            ..Default::default()
                        }),
                        min_domains: (w % 2 == 0 && w % 3 != 0).then_some(3),
                        match_label_keys: Vec::new(),
                        node_affinity_policy: NodeInclusionPolicy::Honor,
                        node_taints_policy: NodeInclusionPolicy::Ignore,
                    }),
                8 => p.preferred_pod_anti_affinity.push(WeightedPodAffinityTerm {
                    weight: 100,
                    pod_affinity_term: app_term(name.clone(), HOSTNAME_LABEL),
                }),
                10 if w > 0 => p
                    .pod_affinity
                    .push(app_term(format!("app-{}", w - 1), ZONE_LABEL)),
                12 => p.preferred_node_affinity.push(PreferredSchedulingTerm {
                    weight: 20,
                    preference: zone_req(NodeSelectorOperator::In, zone),
                }),
                // Tolerates the maintenance taint for five minutes only: no home for it.
                2 => p.tolerations.push(Toleration {
                    key: Some("maintenance".into()),
                    operator: TolerationOperator::Exists,
                    value: None,
                    effect: Some(TaintEffect::NoExecute),
                    toleration_seconds: Some(300),
                }),
                // A Deployment that tolerates every taint, the cordon included.
                11 => p.tolerations.push(Toleration {
                    operator: TolerationOperator::Exists,
                    ..Default::default()
                }),
                _ => {}
            }
            match if shape.constraints { w % 11 } else { 0 } {
                5 => {
                    p.node_selector
                        .insert(ZONE_LABEL.into(), ZONES[zone].into());
                }
                7 => {
                    let mut term = zone_req(NodeSelectorOperator::In, zone);
                    term.match_expressions[0]
                        .values
                        .push(ZONES[(zone + 1) % ZONES.len()].into());
                    p.required_node_affinity.push(term);
                }
                9 => p.required_node_affinity.push(zone_req(
                    NodeSelectorOperator::NotIn,
                    (zone + 2) % ZONES.len(),
                )),
                _ => {}
            }
            if let Some(port) = host_port {
                ports_used[target].push(port);
                p.host_ports.push(HostPort {
                    port,
                    protocol: Protocol::Tcp,
                    host_ip: "0.0.0.0".into(),
                });
            }
            if stateful {
                p.owner = Some(OwnerRef {
                    kind: "StatefulSet".into(),
                    name: name.clone(),
                });
                p.volumes.push(VolumeSpec {
                    name: "data".into(),
                    source: VolumeSource::PersistentVolumeClaim {
                        claim_name: format!("data-{name}-{r}"),
                        node_affinity: if shape.constraints && w % 2 == 0 {
                            vec![zone_req(NodeSelectorOperator::In, zone)]
                        } else {
                            Vec::new()
                        },
                        unresolved: None,
                        csi_driver: csi.then(|| CSI_DRIVER.to_owned()),
                        read_write_once_pod: csi && w % 2 == 0,
                    },
                });
                if csi {
                    attached[target] += 1;
                }
            }
            if rng.chance(shape.blocking_percent) {
                match rng.below(7) {
                    // Going away: neither blocks nor moves, holds its room.
                    4 => p.terminating = true,
                    // Pending: placed first by the prediction, wherever it fits.
                    5 => p.node_name = None,
                    // Tolerates every taint, the cordon included.
                    6 => p.tolerations.push(Toleration {
                        operator: TolerationOperator::Exists,
                        ..Default::default()
                    }),
                    0 => p.owner = None,
                    1 => p.volumes.push(VolumeSpec {
                        name: "scratch".into(),
                        source: VolumeSource::EmptyDir { memory: false },
                    }),
                    2 => {
                        p.annotations.insert(
                            crate::model::SAFE_TO_EVICT_ANNOTATION.into(),
                            "false".into(),
                        );
                    }
                    _ => p.namespace = "kube-system".into(),
                }
            }
            pods.push(p);
        }
    }
    for (i, n) in nodes.iter().enumerate() {
        let mut ds = pod(
            "kube-system",
            &format!("kube-proxy-{i:05}"),
            &n.name,
            "kube-proxy",
            100,
            64 * MI,
        );
        ds.owner = Some(OwnerRef {
            kind: "DaemonSet".into(),
            name: "kube-proxy".into(),
        });
        ds.tolerations.push(Toleration {
            operator: TolerationOperator::Exists,
            ..Default::default()
        });
        let tolerate_all = ds.tolerations.clone();
        if free[i].0 >= 100 && free[i].1 >= 64 * MI {
            free[i].0 -= 100;
            free[i].1 -= 64 * MI;
            pods.push(ds);
        }
        if shape.constraints && i % 37 == 5 && free[i].0 >= 100 && free[i].1 >= 64 * MI {
            // A static pod's mirror: blocks its node.
            let mut mirror = pod(
                "kube-system",
                &format!("etcd-{i:05}"),
                &n.name,
                "",
                100,
                64 * MI,
            );
            mirror.owner = Some(OwnerRef {
                kind: "Node".into(),
                name: n.name.clone(),
            });
            mirror
                .annotations
                .insert(crate::model::MIRROR_ANNOTATION.into(), "hash".into());
            mirror.tolerations = tolerate_all.clone();
            pods.push(mirror);
        }
        if shape.constraints && i % 41 == 6 {
            // A finished Job pod: holds nothing, blocks nothing.
            let mut done = pod("batch", &format!("report-{i:05}"), &n.name, "", 500, GI);
            done.owner = Some(OwnerRef {
                kind: "Job".into(),
                name: "report".into(),
            });
            done.phase = crate::model::PodPhase::Succeeded;
            done.tolerations = tolerate_all.clone();
            pods.push(done);
        }
    }
    // Namespace labels for namespaceSelector terms; on odd seeds one team's namespace is
    // missing from the input (its pods with such terms stay: missing-input).
    let namespaces = if shape.constraints {
        (0..7)
            .filter(|t| seed.is_multiple_of(2) || *t != 6)
            .map(|t| {
                let ns = format!("team-{t}");
                (ns.clone(), [("team".to_owned(), ns)].into())
            })
            .chain(["kube-system", "batch"].map(|ns| (ns.to_owned(), BTreeMap::new())))
            .collect()
    } else {
        BTreeMap::new()
    };
    SnapshotSpec {
        nodes,
        pods,
        pdbs,
        namespaces,
    }
}

/// Splits a generated pod's request over the shapes kube-scheduler adds up, by workload
/// number, keeping the effective request at `cpu` / `mem`: a native sidecar (a quarter of it),
/// an init container as large as the whole pod, or a pod overhead of 10m / 16 MiB.
fn split_request(p: &mut PodSpec, w: usize, cpu: u64, mem: u64) {
    let quarter = || {
        ResourceList::new()
            .with("cpu", cpu / 4)
            .with("memory", mem / 4)
    };
    match w % 17 {
        5 => {
            p.containers[0].requests = ResourceList::new()
                .with("cpu", cpu - cpu / 4)
                .with("memory", mem - mem / 4);
            p.init_containers.push(crate::model::InitContainerSpec {
                name: "proxy".into(),
                requests: quarter(),
                sidecar: true,
            });
        }
        2 => p.init_containers.push(crate::model::InitContainerSpec {
            name: "migrate".into(),
            requests: ResourceList::new().with("cpu", cpu).with("memory", mem),
            sidecar: false,
        }),
        8 if cpu > 10 && mem > 16 * MI => {
            p.containers[0].requests = ResourceList::new()
                .with("cpu", cpu - 10)
                .with("memory", mem - 16 * MI);
            p.overhead = ResourceList::new().with("cpu", 10).with("memory", 16 * MI);
        }
        _ => {}
    }
}

/// A seeded service-call graph for a generated snapshot: about half the workloads call one
/// other workload of their namespace (and a tenth of the calls are answered back), at 10 kB/s
/// to 10 MB/s, as workload-to-workload edges.
///
/// # Examples
/// ```
/// use compactor_core::testing::{generate, generate_traffic, ClusterShape};
/// let spec = generate(7, ClusterShape { nodes: 20, pods_per_node: 8, blocking_percent: 5, constraints: false });
/// let traffic = generate_traffic(7, &spec);
/// assert!(!traffic.edges.is_empty());
/// assert_eq!(traffic, generate_traffic(7, &spec));
/// ```
///
/// # Complexity
/// O(P log P) for P pods.
pub fn generate_traffic(seed: u64, spec: &SnapshotSpec) -> crate::traffic::TrafficSpec {
    use crate::traffic::{Endpoint, TrafficEdgeSpec, TrafficSpec};
    let mut rng = Rng::new(seed);
    // Workloads by namespace, each once, in name order.
    let mut by_namespace: std::collections::BTreeMap<&str, std::collections::BTreeSet<String>> =
        std::collections::BTreeMap::new();
    for p in &spec.pods {
        if let Some(o) = &p.owner {
            by_namespace
                .entry(p.namespace.as_str())
                .or_default()
                .insert(format!("{}/{}/{}", p.namespace, o.kind, o.name));
        }
    }
    let mut edges = Vec::new();
    for workloads in by_namespace.values() {
        let workloads: Vec<&String> = workloads.iter().collect();
        for from in &workloads {
            if workloads.len() < 2 || !rng.chance(50) {
                continue;
            }
            let to = workloads[rng.below(workloads.len() as u64) as usize];
            if to == *from {
                continue;
            }
            let rate = 10_000.0 * 1000f64.powf(rng.below(1001) as f64 / 1000.0);
            edges.push(TrafficEdgeSpec {
                from: Endpoint::Workload((*from).clone()),
                to: Endpoint::Workload(to.clone()),
                bytes_per_second: rate.round(),
            });
            if rng.chance(10) {
                edges.push(TrafficEdgeSpec {
                    from: Endpoint::Workload(to.clone()),
                    to: Endpoint::Workload((*from).clone()),
                    bytes_per_second: (rate / 4.0).round(),
                });
            }
        }
    }
    TrafficSpec { edges }
}
