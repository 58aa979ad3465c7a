//! The embedded demo cluster: 20 nodes and about 150 pods of realistic shapes, built
//! deterministically, with nodes that stay for different reasons so that every kind of
//! explanation shows.

use std::collections::BTreeMap;

use compactor_core::model::{
    ContainerSpec, EXCLUDE_ANNOTATION, INSTANCE_TYPE_LABEL, MIRROR_ANNOTATION, NodeSpec, OwnerRef,
    PdbSpec, PodPhase, PodSpec, SAFE_TO_EVICT_ANNOTATION, SnapshotSpec, Taint, TaintEffect,
    Toleration, VolumeSource, VolumeSpec, ZONE_LABEL,
};
use compactor_core::resources::ResourceList;

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
    b.spec()
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
    use compactor_core::plan::{PlanOptions, ReasonCode, plan};
    use compactor_core::{Snapshot, verify::verify};

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
        let opts = PlanOptions::default();
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
}
