//! The embedded demo cluster: 20 nodes and about 150 pods of realistic shapes, built
//! deterministically, with nodes that stay for different reasons so that every kind of
//! explanation shows.
//!
//! The demo carries every input the commands read, so that each feature shows without files:
//!
//! - the snapshot itself, with inter-pod constraints (a required pod anti-affinity on the
//!   hostname, a preferred pod affinity, a topology spread over zones) and a tainted GPU pool;
//! - a usage history of every running pod ([`usage`]): twelve observations, two hours apart,
//!   as `usage` (the last) and `usageSamples`, so that `analyze` finds over-provisioned
//!   workloads, recommends requests and plans the what-if;
//! - traffic between workloads ([`traffic`]), the default of `plan --traffic` for the demo;
//! - a price table by instance type ([`pricing`]), the default of `--pricing` for the demo.
//!
//! `kube-compactor demo [snapshot|traffic|pricing|metrics]` prints each of them in the format
//! of the option that reads it (`--from`, `--traffic`, `--pricing`, `--metrics`), to be used
//! as templates.

mod inputs;
mod usage;

use std::collections::BTreeMap;
use std::io::Write;

use compactor_core::model::{
    CAPACITY_TYPE_LABEL, ContainerSpec, EXCLUDE_ANNOTATION, HOSTNAME_LABEL, INSTANCE_TYPE_LABEL,
    LabelSelector, MIRROR_ANNOTATION, NodeSpec, OwnerRef, PdbSpec, PodAffinityTerm, PodPhase,
    PodSpec, SAFE_TO_EVICT_ANNOTATION, SnapshotSpec, Taint, TaintEffect, Toleration,
    TopologySpreadConstraint, VolumeSource, VolumeSpec, WeightedPodAffinityTerm, WhenUnsatisfiable,
    ZONE_LABEL,
};
use compactor_core::resources::ResourceList;

pub use inputs::{pricing, traffic};
pub use usage::{SAMPLES, metrics};

use crate::InputError;

/// Which of the demo's inputs `kube-compactor demo` prints, named after the option that
/// reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoInput {
    /// The cluster, in the core snapshot JSON format (`--from`), usage history included.
    Snapshot,
    /// Traffic between its workloads (`plan --traffic`).
    Traffic,
    /// Its price table (`--pricing`).
    Pricing,
    /// One observation of its usage history as a PodMetricsList, the output of `kubectl get
    /// --raw /apis/metrics.k8s.io/v1beta1/pods` (`analyze --metrics`).
    Metrics,
}

/// Arguments of `kube-compactor demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// What to print (default: the snapshot). Each is a file in the format of the option that
    /// reads it, and the default of that option when the embedded demo is planned.
    #[arg(value_enum)]
    pub input: Option<DemoInput>,
    /// With `metrics`: which observation of the usage history, 1 (the oldest) to 12 (the
    /// latest, the default). `analyze --from SNAPSHOT --metrics 1.json … --metrics 12.json`
    /// gives the demo's usage history back:
    /// `for i in $(seq 1 12); do kube-compactor demo metrics --sample $i > pods-$i.json; done`.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(SAMPLES)))]
    pub sample: Option<u32>,
}

/// Runs `kube-compactor demo`: prints the chosen input as pretty JSON.
///
/// # Errors
/// An [`InputError`] for `--sample` without `metrics`; I/O errors of `out`.
pub fn run(args: &DemoArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let input = args.input.unwrap_or(DemoInput::Snapshot);
    if args.sample.is_some() && input != DemoInput::Metrics {
        return Err(InputError(
            "--sample picks an observation of `demo metrics`; it goes with `metrics` only"
                .to_owned(),
        )
        .into());
    }
    // Made whole first, so that a closed pipe (`| head`) is an I/O error main recognises.
    let text = match input {
        DemoInput::Snapshot => serde_json::to_string_pretty(&snapshot())?,
        DemoInput::Traffic => serde_json::to_string_pretty(&traffic())?,
        DemoInput::Pricing => serde_json::to_string_pretty(&pricing())?,
        DemoInput::Metrics => {
            let sample = args.sample.unwrap_or(SAMPLES);
            serde_json::to_string_pretty(&metrics(&snapshot(), sample))?
        }
    };
    out.write_all(text.as_bytes())?;
    writeln!(out)?;
    Ok(())
}

/// Whether a command reads the embedded demo cluster: no `--from` file and not `--live`.
/// The demo's traffic and prices are the defaults only then.
pub fn is_embedded(from: Option<&std::path::Path>, live: bool) -> bool {
    from.is_none() && !live
}

const MI: u64 = 1 << 20;
const GI: u64 = 1 << 30;

struct NodeType {
    name: &'static str,
    cpu: u64,
    memory: u64,
    gpus: u64,
}

const M5_LARGE: NodeType = NodeType {
    name: "m5.large",
    cpu: 1930,
    memory: 7 * GI + 200 * MI,
    gpus: 0,
};
const M5_XLARGE: NodeType = NodeType {
    name: "m5.xlarge",
    cpu: 3920,
    memory: 14 * GI + 850 * MI,
    gpus: 0,
};
const M5_2XLARGE: NodeType = NodeType {
    name: "m5.2xlarge",
    cpu: 7910,
    memory: 30 * GI + 500 * MI,
    gpus: 0,
};
const G4DN_XLARGE: NodeType = NodeType {
    name: "g4dn.xlarge",
    cpu: 3920,
    memory: 14 * GI + 850 * MI,
    gpus: 1,
};

/// Builds the demo snapshot.
pub fn snapshot() -> SnapshotSpec {
    let mut b = Builder::default();
    let zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
    // An edge node that runs a static load-balancer pod (managed control planes have no nodes).
    b.node(
        "ip-10-0-0-10",
        &M5_LARGE,
        zones[0],
        &[("node-role.kubernetes.io/edge", "")],
    );
    for i in 0..12 {
        b.node(
            &format!("ip-10-0-{}-{}", 1 + i % 3, 20 + i),
            &M5_XLARGE,
            zones[i % 3],
            &[],
        );
    }
    for i in 0..5 {
        b.node(
            &format!("ip-10-0-{}-{}", 1 + i % 3, 60 + i),
            &M5_2XLARGE,
            zones[i % 3],
            &[],
        );
    }
    for (i, zone) in zones.iter().take(2).enumerate() {
        b.node(
            &format!("ip-10-0-{}-{}", 1 + i, 90 + i),
            &G4DN_XLARGE,
            zone,
            &[("accelerator", "nvidia-t4")],
        );
    }
    // The GPU pool is tainted: only pods that tolerate it land there.
    for n in b
        .nodes
        .iter_mut()
        .filter(|n| n.allocatable.contains("nvidia.com/gpu"))
    {
        n.taints
            .push(Taint::no_schedule("nvidia.com/gpu", "present"));
    }
    // Capacity types as Karpenter labels them: two of the large nodes are spot instances,
    // which the price table prices apart.
    for (i, n) in b.nodes.iter_mut().enumerate() {
        let capacity = if i == 15 || i == 16 {
            "spot"
        } else {
            "on-demand"
        };
        n.labels
            .insert(CAPACITY_TYPE_LABEL.to_owned(), capacity.to_owned());
    }
    let workers: Vec<String> = b
        .nodes
        .iter()
        .skip(1)
        .take(17)
        .map(|n| n.name.clone())
        .collect();
    let big: Vec<String> = workers[12..].to_vec();
    let small: Vec<String> = workers[..12].to_vec();
    let gpu: Vec<String> = b.nodes.iter().skip(18).map(|n| n.name.clone()).collect();

    // One worker is NotReady, one is cordoned by a person, one is excluded by annotation.
    b.nodes[12].ready = false;
    b.nodes[11].unschedulable = true;
    b.nodes[17]
        .annotations
        .insert(EXCLUDE_ANNOTATION.into(), "true".into());

    // The edge node's static pod: its mirror pod cannot be evicted through the API.
    let edge = b.nodes[0].name.clone();
    let vip = b.pod(
        "ingress",
        &format!("haproxy-{edge}"),
        &edge,
        Some(("Node", &edge)),
        250,
        256 * MI,
    );
    vip.annotations
        .insert(MIRROR_ANNOTATION.into(), "8f3a1c".into());
    let envoy = b.pod(
        "ingress",
        "envoy-7f9c8-kq2mz",
        &edge,
        Some(("Deployment", "envoy")),
        500,
        512 * MI,
    );
    envoy.readiness_probe = true;

    // DaemonSets everywhere.
    let all: Vec<String> = b.nodes.iter().map(|n| n.name.clone()).collect();
    for (i, node) in all.iter().enumerate() {
        b.pod(
            "kube-system",
            &format!("kube-proxy-{}", suffix(i)),
            node,
            Some(("DaemonSet", "kube-proxy")),
            100,
            64 * MI,
        );
        b.pod(
            "logging",
            &format!("fluent-bit-{}", suffix(i + 40)),
            node,
            Some(("DaemonSet", "fluent-bit")),
            50,
            96 * MI,
        );
    }

    // kube-system services on two workers (the namespace is excluded by default).
    b.deployment(
        "kube-system",
        "coredns",
        &[&small[0], &small[5]],
        100,
        70 * MI,
        true,
    );
    b.deployment(
        "kube-system",
        "metrics-server",
        &[&small[0]],
        100,
        200 * MI,
        true,
    );

    // Stateless web tier, spread thinly over many nodes (the consolidation opportunity).
    b.deployment("shop", "web", &spread(&small, 16, 1), 250, 512 * MI, true);
    b.deployment("shop", "api", &spread(&small, 8, 3), 500, GI, true);
    b.deployment("shop", "cart", &spread(&small, 4, 2), 200, 256 * MI, true);
    b.deployment("shop", "checkout", &spread(&small, 3, 7), 500, GI, false);
    b.deployment(
        "shop",
        "recommendations",
        &spread(&big, 6, 0),
        1000,
        3 * GI,
        true,
    );
    b.deployment("shop", "images", &spread(&big, 4, 1), 300, 768 * MI, true);
    b.deployment(
        "payments",
        "gateway",
        &spread(&small, 3, 4),
        400,
        768 * MI,
        true,
    );
    b.deployment("payments", "ledger", &spread(&big, 2, 2), 750, 2 * GI, true);
    b.deployment(
        "auth",
        "keycloak",
        &spread(&small, 2, 8),
        500,
        1536 * MI,
        true,
    );
    b.deployment(
        "notifications",
        "sender",
        &spread(&small, 6, 5),
        100,
        128 * MI,
        true,
    );
    b.deployment(
        "notifications",
        "scheduler",
        &spread(&small, 1, 9),
        100,
        256 * MI,
        false,
    );
    b.deployment("search", "indexer", &spread(&big, 3, 3), 600, 2 * GI, true);
    b.deployment(
        "search",
        "query",
        &spread(&small, 8, 6),
        200,
        512 * MI,
        true,
    );
    b.deployment(
        "shop",
        "frontend",
        &spread(&small, 10, 10),
        100,
        256 * MI,
        true,
    );
    b.deployment("payments", "fraud", &spread(&big, 5, 4), 300, GI, true);
    b.deployment(
        "notifications",
        "webhooks",
        &spread(&small, 6, 11),
        100,
        128 * MI,
        true,
    );
    b.deployment(
        "auth",
        "sessions",
        &spread(&small, 4, 1),
        150,
        256 * MI,
        true,
    );

    // Inter-pod constraints, as the workloads' manifests would carry them.
    // The payment gateway's replicas never share a node (required anti-affinity).
    for pod in b.workload_mut("payments", "gateway") {
        pod.pod_anti_affinity
            .push(app_term("gateway", HOSTNAME_LABEL));
    }
    // Checkout prefers the node of a cart replica: they talk on every request.
    for pod in b.workload_mut("shop", "checkout") {
        pod.preferred_pod_affinity.push(WeightedPodAffinityTerm {
            weight: 100,
            pod_affinity_term: app_term("cart", HOSTNAME_LABEL),
        });
    }
    // The frontend stays spread evenly over the three zones.
    for pod in b.workload_mut("shop", "frontend") {
        pod.topology_spread_constraints
            .push(TopologySpreadConstraint {
                max_skew: 1,
                topology_key: ZONE_LABEL.to_owned(),
                when_unsatisfiable: WhenUnsatisfiable::DoNotSchedule,
                label_selector: Some(app_selector("frontend")),
                min_domains: None,
                match_label_keys: Vec::new(),
                node_affinity_policy: compactor_core::model::NodeInclusionPolicy::Honor,
                node_taints_policy: compactor_core::model::NodeInclusionPolicy::Ignore,
            });
    }

    // Stateful workloads with PVCs; the database's PDB allows no disruption.
    for (i, node) in big.iter().take(3).enumerate() {
        let pod = b.pod(
            "search",
            &format!("elasticsearch-{i}"),
            node,
            Some(("StatefulSet", "elasticsearch")),
            1500,
            6 * GI,
        );
        pod.volumes.push(pvc(&format!("data-elasticsearch-{i}")));
        pod.readiness_probe = true;
        pod.labels.insert("app".into(), "elasticsearch".into());
    }
    let pg = b.pod(
        "data",
        "postgres-0",
        &small[9],
        Some(("StatefulSet", "postgres")),
        2000,
        8 * GI,
    );
    pg.volumes.push(pvc("data-postgres-0"));
    pg.readiness_probe = true;
    pg.labels.insert("app".into(), "postgres".into());
    b.pdb("data", "postgres", "postgres", 0);
    b.pdb("search", "elasticsearch", "elasticsearch", 1);
    b.pdb("shop", "web", "web", 2);
    b.pdb("shop", "api", "api", 1);
    b.pdb("kube-system", "coredns", "coredns", 1);

    // Monitoring with local scratch data; a person's debugging pod without a controller.
    let prom = b.pod(
        "monitoring",
        "prometheus-0",
        &small[10],
        Some(("StatefulSet", "prometheus")),
        500,
        2 * GI,
    );
    prom.volumes.push(VolumeSpec {
        name: "wal".into(),
        source: VolumeSource::EmptyDir { memory: false },
    });
    b.pod("default", "debug-shell", &small[6], None, 50, 64 * MI);
    // A batch job that opted out of disruption, and a finished one (ignored).
    let report = b.pod(
        "batch",
        "nightly-report-29345",
        &small[4],
        Some(("Job", "nightly-report-29345")),
        1000,
        2 * GI,
    );
    report
        .annotations
        .insert("karpenter.sh/do-not-disrupt".into(), "true".into());
    let done = b.pod(
        "batch",
        "cleanup-29344-x7k2p",
        &small[2],
        Some(("Job", "cleanup-29344")),
        100,
        128 * MI,
    );
    done.phase = PodPhase::Succeeded;
    // An evictable cache pod whose emptyDir is declared safe to lose.
    let cache = b.pod(
        "shop",
        "session-cache-5d8f7-q2x9z",
        &small[7],
        Some(("Deployment", "session-cache")),
        200,
        512 * MI,
    );
    cache.volumes.push(VolumeSpec {
        name: "cache".into(),
        source: VolumeSource::EmptyDir { memory: false },
    });
    cache
        .annotations
        .insert(SAFE_TO_EVICT_ANNOTATION.into(), "true".into());

    // GPU inference on the GPU pool.
    for (i, node) in gpu.iter().enumerate() {
        let p = b.pod(
            "ml",
            &format!("inference-7c9d4-{}", suffix(i + 80)),
            node,
            Some(("Deployment", "inference")),
            2000,
            8 * GI,
        );
        p.containers[0].requests.set("nvidia.com/gpu", 1);
        p.tolerations.push(Toleration::exists(
            "nvidia.com/gpu",
            TaintEffect::NoSchedule,
        ));
        p.readiness_probe = true;
    }
    // Limits of the workloads whose manifests set them (CPU, memory): the analyzer compares
    // usage with them too.
    for (ns, name, cpu, memory) in [
        ("shop", "web", 500, 512 * MI),
        ("shop", "api", 1000, GI),
        ("shop", "checkout", 1000, GI),
        ("auth", "keycloak", 2000, 2 * GI),
        ("search", "elasticsearch", 3000, 6 * GI),
        ("data", "postgres", 2000, 8 * GI),
        ("payments", "fraud", 600, GI),
    ] {
        for pod in b.workload_mut(ns, name) {
            pod.limits = ResourceList::new().with("cpu", cpu).with("memory", memory);
        }
    }
    let mut spec = b.spec();
    usage::add_history(&mut spec);
    spec
}

/// `app=<app>`.
fn app_selector(app: &str) -> LabelSelector {
    LabelSelector {
        match_labels: [("app".to_owned(), app.to_owned())].into(),
        match_expressions: Vec::new(),
    }
}

/// A pod (anti-)affinity term on the pods labelled `app=<app>` of the pod's own namespace.
fn app_term(app: &str, topology_key: &str) -> PodAffinityTerm {
    PodAffinityTerm {
        label_selector: Some(app_selector(app)),
        topology_key: topology_key.to_owned(),
        ..Default::default()
    }
}

fn pvc(claim: &str) -> VolumeSpec {
    VolumeSpec {
        name: "data".into(),
        source: VolumeSource::PersistentVolumeClaim {
            claim_name: claim.into(),
            node_affinity: Vec::new(),
            unresolved: None,
            csi_driver: None,
            read_write_once_pod: false,
        },
    }
}

/// `count` nodes out of `nodes`, starting at `offset` and stepping by a stride coprime to the
/// node count, so replicas land spread out as a default scheduler would leave them.
fn spread(nodes: &[String], count: usize, offset: usize) -> Vec<&String> {
    let stride = if nodes.len().is_multiple_of(5) { 3 } else { 5 };
    (0..count)
        .map(|i| &nodes[(offset + i * stride) % nodes.len()])
        .collect()
}

/// A short, stable pod-name suffix like the ones ReplicaSets generate.
fn suffix(i: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut x = (i as u64).wrapping_mul(2_654_435_761).wrapping_add(97);
    (0..5)
        .map(|_| {
            let c = ALPHABET[(x % ALPHABET.len() as u64) as usize] as char;
            x /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

#[derive(Default)]
struct Builder {
    nodes: Vec<NodeSpec>,
    pods: Vec<PodSpec>,
    pdbs: Vec<PdbSpec>,
    counter: usize,
}

impl Builder {
    fn node(&mut self, name: &str, t: &NodeType, zone: &str, extra: &[(&str, &str)]) {
        let mut allocatable = ResourceList::new()
            .with("cpu", t.cpu)
            .with("memory", t.memory)
            .with("pods", 58)
            .with("ephemeral-storage", 95 * GI);
        if t.gpus > 0 {
            allocatable.set("nvidia.com/gpu", t.gpus);
        }
        let mut labels: BTreeMap<String, String> = [
            (INSTANCE_TYPE_LABEL, t.name),
            (ZONE_LABEL, zone),
            ("kubernetes.io/hostname", name),
            ("kubernetes.io/os", "linux"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        labels.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        self.nodes.push(NodeSpec {
            name: name.into(),
            allocatable,
            labels,
            ready: true,
            ..Default::default()
        });
    }

    fn pod(
        &mut self,
        ns: &str,
        name: &str,
        node: &str,
        owner: Option<(&str, &str)>,
        cpu: u64,
        memory: u64,
    ) -> &mut PodSpec {
        self.pods.push(PodSpec {
            namespace: ns.into(),
            name: name.into(),
            node_name: Some(node.into()),
            owner: owner.map(|(kind, name)| OwnerRef {
                kind: kind.into(),
                name: name.into(),
            }),
            containers: vec![ContainerSpec {
                name: "app".into(),
                requests: ResourceList::new().with("cpu", cpu).with("memory", memory),
            }],
            ..Default::default()
        });
        let last = self.pods.len() - 1;
        &mut self.pods[last]
    }

    fn deployment(
        &mut self,
        ns: &str,
        name: &str,
        nodes: &[&String],
        cpu: u64,
        memory: u64,
        probe: bool,
    ) {
        for node in nodes {
            self.counter += 1;
            let pod_name = format!(
                "{name}-{}-{}",
                &suffix(name.len() * 7)[..4],
                suffix(self.counter)
            );
            let pod = self.pod(ns, &pod_name, node, Some(("Deployment", name)), cpu, memory);
            pod.labels.insert("app".into(), name.into());
            pod.readiness_probe = probe;
        }
    }

    /// The pods of the workload (Deployment, StatefulSet, …) named `name` in `ns`.
    fn workload_mut<'a>(
        &'a mut self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a mut PodSpec> + 'a {
        self.pods
            .iter_mut()
            .filter(move |p| p.namespace == ns && p.owner.as_ref().is_some_and(|o| o.name == name))
    }

    fn pdb(&mut self, ns: &str, name: &str, app: &str, allowed: u32) {
        self.pdbs.push(PdbSpec::for_app(ns, name, app, allowed));
    }

    fn spec(self) -> SnapshotSpec {
        SnapshotSpec {
            nodes: self.nodes,
            pods: self.pods,
            pdbs: self.pdbs,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use compactor_core::analysis::{AnalysisOptions, analyze};
    use compactor_core::cost::PriceSource;
    use compactor_core::packing::StrategyKind;
    use compactor_core::plan::{PlanOptions, ReasonCode, plan};
    use compactor_core::safety::SafetyLevel;
    use compactor_core::{Snapshot, verify::verify};

    const STRATEGIES: [StrategyKind; 5] = [
        StrategyKind::FirstFit,
        StrategyKind::BestFit,
        StrategyKind::Search,
        StrategyKind::NetworkAware,
        StrategyKind::AffinityBased,
    ];
    const LEVELS: [SafetyLevel; 3] = [
        SafetyLevel::Conservative,
        SafetyLevel::Medium,
        SafetyLevel::Aggressive,
    ];

    /// The options `plan` uses on the embedded demo: its prices and traffic.
    fn demo_options() -> PlanOptions {
        PlanOptions::default()
            .with_pricing(pricing())
            .with_traffic(Some(traffic()))
    }

    #[test]
    fn demo_is_valid_and_explains_every_kind_of_keep() {
        let spec = snapshot();
        assert_eq!(spec.nodes.len(), 20);
        assert!(
            (140..=170).contains(&spec.pods.len()),
            "{} pods",
            spec.pods.len()
        );
        let snap = Snapshot::new(spec).expect("demo snapshot is valid");
        let opts = demo_options();
        let p = plan(&snap, &opts).expect("plan");
        assert_eq!(verify(&snap, &p, &opts), Vec::new());
        assert!(!p.drain.is_empty(), "the demo drains something");
        let codes: std::collections::BTreeSet<ReasonCode> =
            p.kept.iter().map(|k| k.reason.code).collect();
        for code in [
            ReasonCode::MirrorPod,
            ReasonCode::NodeNotReady,
            ReasonCode::NodeCordoned,
            ReasonCode::NodeExcluded,
            ReasonCode::PdbExhausted,
        ] {
            assert!(
                codes.contains(&code),
                "no kept node shows {code:?}: {codes:?}"
            );
        }
    }

    #[test]
    fn demo_inputs_are_deterministic() {
        assert_eq!(snapshot(), snapshot());
        assert_eq!(traffic(), traffic());
        assert_eq!(pricing(), pricing());
        let spec = snapshot();
        for sample in 1..=SAMPLES {
            assert_eq!(
                serde_json::to_string(&metrics(&spec, sample)).expect("json"),
                serde_json::to_string(&metrics(&snapshot(), sample)).expect("json")
            );
        }
    }

    /// The twelve PodMetricsLists, read as `--metrics` reads them and applied oldest first to
    /// the demo without usage, give the demo's usage back exactly.
    #[test]
    fn metrics_files_carry_the_usage_history() {
        let spec = snapshot();
        let running = spec.pods.iter().filter(|p| !p.phase.is_terminal()).count();
        assert!(
            spec.pods
                .iter()
                .filter(|p| !p.phase.is_terminal())
                .all(|p| p.usage_samples.len() == SAMPLES as usize
                    && p.usage.as_ref() == p.usage_samples.last())
        );
        let mut bare = spec.clone();
        for pod in &mut bare.pods {
            pod.usage = None;
            pod.usage_samples.clear();
        }
        let dumps: Vec<_> = (1..=SAMPLES)
            .map(|sample| {
                let text = serde_json::to_string_pretty(&metrics(&spec, sample)).expect("json");
                compactor_kube::metrics::read_metrics(&text).expect("a PodMetricsList")
            })
            .collect();
        assert!(dumps.iter().all(|d| d.pods.len() == running));
        let coverage = compactor_kube::metrics::apply_metrics(&mut bare, &dumps);
        assert_eq!(coverage.unmatched, Vec::<String>::new());
        assert_eq!(coverage.pods_without_usage, 0);
        assert_eq!(bare, spec);
    }

    /// Some workloads far over their needs, some right-sized, some over their requests; the
    /// what-if frees more nodes; the GPUs are in the figures; every node priced by the table.
    #[test]
    fn analysis_shows_right_sizing_and_the_what_if() {
        let snap = Snapshot::new(snapshot()).expect("valid");
        let mut options = AnalysisOptions::default();
        options.plan = PlanOptions::default().with_pricing(pricing());
        let a = analyze(&snap, &options).expect("analysis");
        let over: Vec<String> = a.over_provisioned().map(|w| w.name.clone()).collect();
        for name in ["web", "recommendations", "frontend", "keycloak"] {
            assert!(over.iter().any(|o| o == name), "{name} not in {over:?}");
        }
        for name in ["api", "cart", "gateway", "ledger", "checkout", "indexer"] {
            assert!(!over.iter().any(|o| o == name), "{name} in {over:?}");
        }
        let raised: Vec<&str> = a
            .workloads
            .iter()
            .filter(|w| {
                w.cpu
                    .as_ref()
                    .is_some_and(|d| d.recommended > d.current_request)
            })
            .map(|w| w.name.as_str())
            .collect();
        for name in ["checkout", "indexer", "fraud"] {
            assert!(raised.contains(&name), "{name} not in {raised:?}");
        }
        assert!(a.workloads.iter().all(|w| w.measured_pods == w.replicas));
        let what_if = a.what_if.as_ref().expect("usage is known");
        assert!(what_if.additional_nodes_freed > 0, "{what_if:?}");
        assert!(what_if.additional_monthly_savings > 0.0, "{what_if:?}");
        let gpu = a.cluster.resource("nvidia.com/gpu").expect("gpu figures");
        assert_eq!((gpu.allocatable, gpu.requested), (2, 2));
        assert!(a.cluster.resource("cpu").and_then(|c| c.used).is_some());
        assert!(a.nodes.iter().all(|n| n.price_source == PriceSource::Table));
    }

    /// Every strategy at every level: the checker accepts the plan, every node is drained or
    /// kept with a reason, and after the moves the constraints hold: gateway replicas on
    /// distinct nodes, the frontend within one pod of even over the zones.
    #[test]
    fn plans_honour_the_inter_pod_constraints() {
        let spec = snapshot();
        let snap = Snapshot::new(spec.clone()).expect("valid");
        assert!(spec.pods.iter().any(|p| !p.pod_anti_affinity.is_empty()));
        assert!(
            spec.pods
                .iter()
                .any(|p| !p.preferred_pod_affinity.is_empty())
        );
        assert!(
            spec.pods
                .iter()
                .any(|p| !p.topology_spread_constraints.is_empty())
        );
        let zone: BTreeMap<&str, &str> = spec
            .nodes
            .iter()
            .map(|n| (n.name.as_str(), n.labels[ZONE_LABEL].as_str()))
            .collect();
        for strategy in STRATEGIES {
            for level in LEVELS {
                let opts = demo_options().with_strategy(strategy).with_safety(level);
                let p = plan(&snap, &opts).expect("plan");
                let what = format!("{strategy:?} {level:?}");
                assert_eq!(verify(&snap, &p, &opts), Vec::new(), "{what}");
                assert_eq!(p.drain.len() + p.kept.len(), spec.nodes.len(), "{what}");
                assert!(
                    p.kept.iter().all(|k| !k.reason.message.is_empty()),
                    "{what}"
                );
                assert!(p.notes.iter().all(|n| !n.contains("no traffic")), "{what}");
                let node_after = |pod: &PodSpec| -> String {
                    p.moves
                        .iter()
                        .find(|m| m.namespace == pod.namespace && m.pod == pod.name)
                        .map_or_else(
                            || pod.node_name.clone().unwrap_or_default(),
                            |m| m.to_node.clone(),
                        )
                };
                let of = |ns: &str, app: &str| -> Vec<String> {
                    spec.pods
                        .iter()
                        .filter(|q| {
                            q.namespace == ns && q.labels.get("app").is_some_and(|a| a == app)
                        })
                        .map(node_after)
                        .collect()
                };
                let mut gateway = of("payments", "gateway");
                let replicas = gateway.len();
                gateway.sort();
                gateway.dedup();
                assert_eq!(gateway.len(), replicas, "{what}: {gateway:?}");
                let mut per_zone: BTreeMap<&str, usize> =
                    ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
                        .map(|z| (z, 0))
                        .into();
                for n in of("shop", "frontend") {
                    *per_zone.entry(zone[n.as_str()]).or_default() += 1;
                }
                let (lo, hi) = (
                    per_zone.values().min().copied().unwrap_or(0),
                    per_zone.values().max().copied().unwrap_or(0),
                );
                assert!(hi - lo <= 1, "{what}: {per_zone:?}");
            }
        }
    }

    #[test]
    fn traffic_is_reported_and_prices_cover_every_node() {
        let snap = Snapshot::new(snapshot()).expect("valid");
        let opts = demo_options().with_strategy(StrategyKind::NetworkAware);
        let p = plan(&snap, &opts).expect("plan");
        let t = p.traffic.as_ref().expect("traffic figures");
        assert!(t.groups > 0);
        assert!(t.before.total_bytes_per_second > 0.0);
        assert!(t.after.cross_node_bytes_per_second < t.before.cross_node_bytes_per_second);
        assert!(
            p.notes.iter().all(|n| !n.contains("network-aware")),
            "{:?}",
            p.notes
        );
        pricing().validate().expect("valid prices");
        let spot = snap
            .nodes()
            .iter()
            .filter(|n| pricing().hourly(&n.spec) == (0.171, PriceSource::Table))
            .count();
        assert_eq!(spot, 2);
    }
}
