//! Golden scenarios: small named clusters with hand-checked plans.
//!
//! Unless said otherwise nodes have 4000m CPU and 16 GiB memory, and the conservative cap is
//! 70 %: a receiving node may hold at most 2800m CPU and 11.2 GiB memory.

use compactor_core::model::{
    DO_NOT_DISRUPT_ANNOTATION, EXCLUDE_ANNOTATION, HOURLY_COST_ANNOTATION, MIRROR_ANNOTATION,
    OwnerRef, PdbSpec, PodSpec, SAFE_TO_EVICT_ANNOTATION, SnapshotSpec, VolumeSource, VolumeSpec,
};
use compactor_core::plan::{PlanOptions, PodDisposition, ReasonCode, classify_pod, plan};
use compactor_core::risk::RiskFactor;
use compactor_core::safety::SafetyLevel;
use compactor_core::testing::{GI, node, pdb, pod};
use compactor_core::verify::{Constraint, Violation, verify};
use compactor_core::{Plan, Snapshot};

fn run(spec: SnapshotSpec, safety: SafetyLevel) -> Plan {
    let snap = Snapshot::new(spec).expect("valid snapshot");
    let opts = PlanOptions::default().with_safety(safety);
    let p = plan(&snap, &opts).expect("plan");
    assert_eq!(
        verify(&snap, &p, &opts),
        Vec::new(),
        "independent checker rejects the plan"
    );
    p
}

fn drained(p: &Plan) -> Vec<&str> {
    p.drain.iter().map(|d| d.node.as_str()).collect()
}

fn moves(p: &Plan) -> Vec<(String, &str, &str, u32)> {
    p.moves
        .iter()
        .map(|m| {
            (
                m.pod.clone(),
                m.from_node.as_str(),
                m.to_node.as_str(),
                m.wave,
            )
        })
        .collect()
}

fn kept_code(p: &Plan, node: &str) -> ReasonCode {
    p.kept
        .iter()
        .find(|k| k.node == node)
        .unwrap_or_else(|| panic!("{node} is not kept"))
        .reason
        .code
}

fn nodes3() -> Vec<compactor_core::model::NodeSpec> {
    vec![
        node("a", 4000, 16 * GI),
        node("b", 4000, 16 * GI),
        node("c", 4000, 16 * GI),
    ]
}

fn with_app(mut p: PodSpec, app: &str) -> PodSpec {
    p.labels.insert("app".into(), app.into());
    p
}

/// Three half-empty nodes, each with two pods of 1000m / 4 GiB (25 % each), medium safety
/// (cap 3200m, 12.8 GiB). Total demand 6000m needs two nodes. All candidates weigh the same,
/// so `a` goes first: a-1 → b (best fit: tie, first node; scheduler: tie, first node) → b at
/// 3000m; a-2 cannot go to b under the cap (4000m > 3200m), so c → 3000m. The scheduler also
/// prefers c (LeastAllocated 25 + balanced 100 beats b's 12 + 87). Draining b or c next would
/// need 4000m on the one remaining node: no. One node drained, split across both.
#[test]
fn three_half_empty_nodes_one_drained() {
    let pods = ["a", "b", "c"]
        .iter()
        .flat_map(|n| {
            (1..=2).map(move |i| pod("shop", &format!("{n}-{i}"), n, "web", 1000, 4 * GI))
        })
        .collect();
    let p = run(
        SnapshotSpec {
            nodes: nodes3(),
            pods,
            pdbs: vec![],
            ..Default::default()
        },
        SafetyLevel::Medium,
    );
    assert_eq!(drained(&p), vec!["a"]);
    assert_eq!(
        moves(&p),
        vec![("a-1".into(), "a", "b", 1), ("a-2".into(), "a", "c", 1)]
    );
    assert_eq!(kept_code(&p, "b"), ReasonCode::NoFit);
    assert_eq!(kept_code(&p, "c"), ReasonCode::NoFit);
    assert_eq!(p.lower_bound.nodes, 2);
    assert_eq!(p.summary.nodes_after, 2);
}

/// A pod covered by a PDB that allows no disruption blocks its node; the other node's 2500m
/// pod cannot join a's 500m under the 2800m cap. Nothing is drained.
#[test]
fn pdb_with_zero_allowed_blocks() {
    let spec = SnapshotSpec {
        nodes: vec![node("a", 4000, 16 * GI), node("b", 4000, 16 * GI)],
        pods: vec![
            with_app(pod("data", "pg-0", "a", "pg", 500, GI), "pg"),
            pod("shop", "big", "b", "big", 2500, GI),
        ],
        pdbs: vec![pdb("data", "pg", "pg", 0)],
        ..Default::default()
    };
    let p = run(spec, SafetyLevel::Conservative);
    assert!(p.drain.is_empty());
    assert_eq!(kept_code(&p, "a"), ReasonCode::PdbExhausted);
    assert_eq!(
        p.kept[0].reason.message,
        "data/pg-0 is covered by PodDisruptionBudget data/pg, which allows no disruption now"
    );
    assert_eq!(kept_code(&p, "b"), ReasonCode::NoFit);
}

/// Two pods under one PDB allowing one disruption, on the node being drained: the second
/// eviction waits for the second wave (after the first replacement is Ready).
#[test]
fn pdb_budget_splits_waves() {
    let spec = SnapshotSpec {
        nodes: nodes3(),
        pods: vec![
            with_app(pod("shop", "web-1", "a", "web", 500, GI), "web"),
            with_app(pod("shop", "web-2", "a", "web", 500, GI), "web"),
            pod("shop", "api-1", "b", "api", 1200, 2 * GI),
            pod("shop", "api-2", "c", "api", 1200, 2 * GI),
        ],
        pdbs: vec![pdb("shop", "web", "web", 1)],
        ..Default::default()
    };
    let p = run(spec, SafetyLevel::Conservative);
    assert_eq!(drained(&p), vec!["a"]);
    let waves: Vec<u32> = p.moves.iter().map(|m| m.wave).collect();
    assert_eq!(waves, vec![1, 2]);
    assert_eq!(p.waves.len(), 2);
    assert_eq!(p.waves[0].evictions, 1);
}

/// hostPath and disk-backed emptyDir block; memory-backed emptyDir does not; safe-to-evict
/// lets disk emptyDir go, with the emptyDir risk factor.
#[test]
fn local_storage_blocks_unless_safe_to_evict() {
    let mut host = pod("ops", "agent", "a", "agent", 100, GI);
    host.volumes.push(VolumeSpec {
        name: "logs".into(),
        source: VolumeSource::HostPath {
            path: "/var/log".into(),
        },
    });
    let mut disk = pod("ops", "cache", "b", "cache", 100, GI);
    disk.volumes.push(VolumeSpec {
        name: "tmp".into(),
        source: VolumeSource::EmptyDir { memory: false },
    });
    let mut tmpfs = pod("ops", "fast", "c", "fast", 100, GI);
    tmpfs.volumes.push(VolumeSpec {
        name: "shm".into(),
        source: VolumeSource::EmptyDir { memory: true },
    });
    let spec = SnapshotSpec {
        nodes: nodes3(),
        pods: vec![host, disk.clone(), tmpfs],
        pdbs: vec![],
        ..Default::default()
    };
    let p = run(spec, SafetyLevel::Conservative);
    assert_eq!(kept_code(&p, "a"), ReasonCode::LocalStorage);
    assert_eq!(kept_code(&p, "b"), ReasonCode::LocalStorage);
    assert_eq!(
        p.kept[0].reason.message,
        "ops/agent keeps local data in hostPath volume logs (/var/log)"
    );
    assert_eq!(drained(&p), vec!["c"]);

    disk.annotations
        .insert(SAFE_TO_EVICT_ANNOTATION.into(), "true".into());
    let pin = pod("ops", "pin", "z", "", 100, GI);
    let spec = SnapshotSpec {
        nodes: vec![node("b", 4000, 16 * GI), node("z", 4000, 16 * GI)],
        pods: vec![disk, pin],
        pdbs: vec![],
        ..Default::default()
    };
    let p = run(spec, SafetyLevel::Conservative);
    assert_eq!(drained(&p), vec!["b"]);
    assert!(p.moves[0].risk.factors.contains(&RiskFactor::EmptyDirData));
}

/// A DaemonSet pod neither blocks nor moves: it goes away with its node.
#[test]
fn daemonset_does_not_block_and_is_not_moved() {
    let mut ds = pod("kube-system", "kube-proxy-x", "a", "", 100, GI);
    ds.owner = Some(OwnerRef {
        kind: "DaemonSet".into(),
        name: "kube-proxy".into(),
    });
    let mut ds_b = ds.clone();
    ds_b.name = "kube-proxy-y".into();
    ds_b.node_name = Some("b".into());
    let spec = SnapshotSpec {
        nodes: vec![node("a", 4000, 16 * GI), node("b", 4000, 16 * GI)],
        pods: vec![
            ds,
            ds_b,
            pod("shop", "web-1", "a", "web", 500, GI),
            pod("shop", "api-1", "b", "api", 1500, GI),
        ],
        pdbs: vec![],
        ..Default::default()
    };
    let p = run(spec, SafetyLevel::Conservative);
    assert_eq!(drained(&p), vec!["a"]);
    assert_eq!(moves(&p), vec![("web-1".into(), "a", "b", 1)]);
    assert_eq!(p.drain[0].daemon_set_pods, 1);
    assert_eq!(p.drain[0].evicted_pods, 1);
}

/// A pod without a controller blocks; safe-to-evict: "true" lets it go.
#[test]
fn bare_pod_blocks() {
    let bare = pod("default", "debug", "a", "", 100, GI);
    let spec = SnapshotSpec {
        nodes: nodes3(),
        pods: vec![bare.clone()],
        pdbs: vec![],
        ..Default::default()
    };
    let p = run(spec, SafetyLevel::Conservative);
    assert_eq!(kept_code(&p, "a"), ReasonCode::NoController);
    assert_eq!(
        p.kept[0].reason.message,
        "default/debug has no controller, so nothing would recreate it"
    );
    // b and c are empty: both go (an empty node is drained without evictions)... until one
    // must stay: nothing forces that, since a holds everything.
    assert_eq!(drained(&p), vec!["b", "c"]);

    let mut ok = bare;
    ok.annotations
        .insert(SAFE_TO_EVICT_ANNOTATION.into(), "true".into());
    let spec = SnapshotSpec {
        nodes: vec![node("a", 4000, 16 * GI), node("b", 4000, 16 * GI)],
        pods: vec![ok],
        pdbs: vec![],
        ..Default::default()
    };
    // a (100m) and b (empty): b is emptier and goes first; a is then the last node.
    let p = run(spec, SafetyLevel::Conservative);
    assert_eq!(drained(&p), vec!["b"]);
    assert_eq!(kept_code(&p, "a"), ReasonCode::LastNode);
}

/// Node a's two 1000m pods fit only split: b and c each hold a blocking 1800m pod, so each
/// can take exactly one more 1000m pod under the 2800m cap.
#[test]
fn pods_fit_only_split_across_two_nodes() {
    let spec = SnapshotSpec {
        nodes: nodes3(),
        pods: vec![
            pod("shop", "web-1", "a", "web", 1000, GI),
            pod("shop", "web-2", "a", "web", 1000, GI),
            pod("ops", "pinned-b", "b", "", 1800, GI),
            pod("ops", "pinned-c", "c", "", 1800, GI),
        ],
        pdbs: vec![],
        ..Default::default()
    };
    let p = run(spec, SafetyLevel::Conservative);
    assert_eq!(drained(&p), vec!["a"]);
    assert_eq!(
        moves(&p),
        vec![("web-1".into(), "a", "b", 1), ("web-2".into(), "a", "c", 1)]
    );
}

/// Node a holds 1000m (25 %), node b 2000m (50 %). Moving a's pod to b gives 75 %: over the
/// conservative 70 % cap, within the aggressive 90 % cap.
#[test]
fn conservative_refuses_what_aggressive_accepts() {
    let spec = SnapshotSpec {
        nodes: vec![node("a", 4000, 16 * GI), node("b", 4000, 16 * GI)],
        pods: vec![
            pod("shop", "web-1", "a", "web", 1000, GI),
            pod("shop", "api-1", "b", "api", 2000, GI),
        ],
        pdbs: vec![],
        ..Default::default()
    };
    let p = run(spec.clone(), SafetyLevel::Conservative);
    assert!(p.drain.is_empty());
    assert_eq!(
        p.kept[0].reason.message,
        "pod shop/web-1 needs 200m CPU more than the roomiest kept node (b) has free under the 70 % cap"
    );
    let p = run(spec, SafetyLevel::Aggressive);
    assert_eq!(drained(&p), vec!["a"]);
    assert_eq!(moves(&p), vec![("web-1".into(), "a", "b", 1)]);
}

/// A 2000m pod cannot go anywhere: the only other node holds a blocking 1500m pod and may
/// reach 2800m, 1300m free. It keeps its node, and the reason names the shortfall (700m).
#[test]
fn pod_bigger_than_any_free_room_keeps_its_node() {
    let spec = SnapshotSpec {
        nodes: vec![node("a", 4000, 16 * GI), node("b", 4000, 16 * GI)],
        pods: vec![
            pod("ml", "trainer", "a", "trainer", 2000, GI),
            pod("ops", "pinned", "b", "", 1500, GI),
        ],
        pdbs: vec![],
        ..Default::default()
    };
    let p = run(spec, SafetyLevel::Conservative);
    assert!(p.drain.is_empty());
    assert_eq!(kept_code(&p, "a"), ReasonCode::NoFit);
    assert_eq!(
        p.kept[0].reason.message,
        "pod ml/trainer needs 700m CPU more than the roomiest kept node (b) has free under the 70 % cap"
    );
}

/// A GPU pod only fits a node with a free GPU, however empty the CPU nodes are. GPUs are
/// checked against allocatable, not the cap (one GPU of one is 100 %).
#[test]
fn gpu_pods_only_fit_gpu_nodes() {
    let gpu_node = |name: &str| {
        let mut n = node(name, 4000, 16 * GI);
        n.allocatable.set("nvidia.com/gpu", 1);
        n
    };
    let mut infer = pod("ml", "infer-1", "gpu-a", "infer", 1000, 4 * GI);
    infer.containers[0].requests.set("nvidia.com/gpu", 1);
    let pods = vec![
        infer.clone(),
        pod("ops", "pin-b", "gpu-b", "", 500, GI),
        pod("ops", "pin-c", "cpu-c", "", 100, GI),
        pod("ops", "pin-d", "cpu-d", "", 100, GI),
    ];
    let nodes = vec![
        gpu_node("gpu-a"),
        gpu_node("gpu-b"),
        node("cpu-c", 8000, 32 * GI),
        node("cpu-d", 8000, 32 * GI),
    ];
    let p = run(
        SnapshotSpec {
            nodes: nodes.clone(),
            pods,
            pdbs: vec![],
            ..Default::default()
        },
        SafetyLevel::Conservative,
    );
    assert_eq!(drained(&p), vec!["gpu-a"]);
    assert_eq!(moves(&p), vec![("infer-1".into(), "gpu-a", "gpu-b", 1)]);

    // With gpu-b's GPU taken, there is nowhere to go; GPUs are not judged by the cap.
    let mut busy = infer.clone();
    busy.name = "infer-2".into();
    busy.node_name = Some("gpu-b".into());
    busy.owner = None;
    let pods = vec![
        infer,
        busy,
        pod("ops", "pin-c", "cpu-c", "", 100, GI),
        pod("ops", "pin-d", "cpu-d", "", 100, GI),
    ];
    let p = run(
        SnapshotSpec {
            nodes,
            pods,
            pdbs: vec![],
            ..Default::default()
        },
        SafetyLevel::Conservative,
    );
    assert!(p.drain.is_empty());
    assert_eq!(
        p.kept
            .iter()
            .find(|k| k.node == "gpu-a")
            .map(|k| k.reason.message.as_str()),
        Some(
            "pod ml/infer-1 requests 1 nvidia.com/gpu and no kept node has any nvidia.com/gpu free"
        )
    );
}

/// Not Ready, cordoned and excluded nodes are never drained. Not Ready and cordoned nodes
/// receive no pods; an excluded node does (kube-scheduler does not read the annotation), so
/// a's pod goes to d; without d it has nowhere to go.
#[test]
fn node_level_rules() {
    let spec = |with_d: bool| {
        let mut nodes = vec![
            node("a", 4000, 16 * GI),
            node("b", 4000, 16 * GI),
            node("c", 4000, 16 * GI),
            node("d", 4000, 16 * GI),
        ];
        nodes[1].ready = false;
        nodes[2].unschedulable = true;
        nodes[3]
            .annotations
            .insert(EXCLUDE_ANNOTATION.into(), "true".into());
        if !with_d {
            nodes.pop();
        }
        SnapshotSpec {
            nodes,
            pods: vec![
                pod("shop", "web-1", "a", "web", 500, GI),
                pod("shop", "web-2", "b", "web", 100, GI),
            ],
            pdbs: vec![],
            ..Default::default()
        }
    };
    let p = run(spec(false), SafetyLevel::Aggressive);
    assert!(p.drain.is_empty(), "a's pod has no eligible receiver");
    assert_eq!(kept_code(&p, "a"), ReasonCode::NoFit);
    assert_eq!(
        p.kept[0].reason.message,
        "pod shop/web-1 has nowhere to go: every other node is drained, cordoned, not Ready or already over the cap"
    );
    let p = run(spec(true), SafetyLevel::Aggressive);
    assert_eq!(drained(&p), vec!["a"]);
    assert_eq!(moves(&p), vec![("web-1".into(), "a", "d", 1)]);
    assert_eq!(kept_code(&p, "b"), ReasonCode::NodeNotReady);
    assert_eq!(kept_code(&p, "c"), ReasonCode::NodeCordoned);
    assert_eq!(kept_code(&p, "d"), ReasonCode::NodeExcluded);
    // Three nodes cannot be drained; their room covers all demand, so the bound is 3.
    assert_eq!(p.lower_bound.nodes, 3);
}

/// Every pod-level rule of DESIGN §6, first match wins.
#[test]
fn pod_rules_in_order() {
    let base = || pod("shop", "p", "a", "web", 100, GI);
    let mut cases: Vec<(PodSpec, Option<ReasonCode>)> = Vec::new();
    let mut mirror = base();
    mirror
        .annotations
        .insert(MIRROR_ANNOTATION.into(), "x".into());
    mirror.owner = Some(OwnerRef {
        kind: "DaemonSet".into(),
        name: "x".into(),
    }); // mirror wins
    cases.push((mirror, Some(ReasonCode::MirrorPod)));
    for (k, v) in [
        (EXCLUDE_ANNOTATION, "true"),
        (SAFE_TO_EVICT_ANNOTATION, "false"),
        (DO_NOT_DISRUPT_ANNOTATION, "true"),
    ] {
        let mut p = base();
        p.annotations.insert(k.into(), v.into());
        cases.push((p, Some(ReasonCode::OptOut)));
    }
    let mut excluded = base();
    excluded.namespace = "kube-public".into();
    cases.push((excluded, Some(ReasonCode::NamespaceExcluded)));
    let mut critical = base();
    critical.priority_class_name = Some("system-cluster-critical".into());
    cases.push((critical, Some(ReasonCode::SystemCritical)));
    let mut critical_by_value = base();
    critical_by_value.priority = 2_000_000_000;
    cases.push((critical_by_value, Some(ReasonCode::SystemCritical)));
    let mut covered_twice = base();
    covered_twice.labels.insert("app".into(), "web".into());
    covered_twice.labels.insert("tier".into(), "front".into());
    cases.push((covered_twice, Some(ReasonCode::MultiplePdbs)));
    let mut terminal = base();
    terminal.phase = compactor_core::model::PodPhase::Succeeded;
    terminal.owner = None;
    cases.push((terminal, None));
    cases.push((base(), None));

    let pdbs = vec![
        pdb("shop", "web", "web", 1),
        PdbSpec {
            selector: Some(compactor_core::model::LabelSelector {
                match_labels: [("tier".to_owned(), "front".to_owned())].into(),
                ..Default::default()
            }),
            ..pdb("shop", "front", "-", 1)
        },
    ];
    for (i, (p, want)) in cases.into_iter().enumerate() {
        let spec = SnapshotSpec {
            nodes: vec![node("a", 4000, 16 * GI)],
            pods: vec![p],
            pdbs: pdbs.clone(),
            ..Default::default()
        };
        let snap = Snapshot::new(spec).expect("valid");
        let got = classify_pod(
            &snap,
            &snap.pods()[0],
            &PlanOptions::default().excluded_namespaces,
            &Default::default(),
        );
        match (want, got) {
            (Some(code), PodDisposition::Blocks(r)) => {
                assert_eq!(r.code, code, "case {i}: {}", r.message)
            }
            (None, PodDisposition::Movable | PodDisposition::Terminal) => {}
            (want, got) => panic!("case {i}: want {want:?}, got {got:?}"),
        }
    }

    // kube-system without a PDB blocks once the namespace is no longer excluded; with one it moves.
    let mut ks = pod("kube-system", "coredns-1", "a", "coredns", 100, GI);
    let opts = PlanOptions::default().with_excluded_namespaces(Default::default());
    let spec = SnapshotSpec {
        nodes: vec![node("a", 4000, 16 * GI)],
        pods: vec![ks.clone()],
        pdbs: vec![],
        ..Default::default()
    };
    let snap = Snapshot::new(spec).expect("valid");
    let got = classify_pod(
        &snap,
        &snap.pods()[0],
        &opts.excluded_namespaces,
        &opts.scheduler,
    );
    assert!(
        matches!(got, PodDisposition::Blocks(ref r) if r.code == ReasonCode::KubeSystemNoPdb),
        "{got:?}"
    );
    ks.labels.insert("app".into(), "coredns".into());
    let spec = SnapshotSpec {
        nodes: vec![node("a", 4000, 16 * GI)],
        pods: vec![ks],
        pdbs: vec![pdb("kube-system", "coredns", "coredns", 1)],
        ..Default::default()
    };
    let snap = Snapshot::new(spec).expect("valid");
    assert_eq!(
        classify_pod(
            &snap,
            &snap.pods()[0],
            &opts.excluded_namespaces,
            &opts.scheduler
        ),
        PodDisposition::Movable
    );
}

/// Savings: a drained node priced by annotation at $0.192/h saves $140.16 per month.
#[test]
fn savings_use_the_node_price() {
    let mut nodes = vec![node("a", 4000, 16 * GI), node("b", 4000, 16 * GI)];
    nodes[0]
        .annotations
        .insert(HOURLY_COST_ANNOTATION.into(), "0.192".into());
    let spec = SnapshotSpec {
        nodes,
        pods: vec![
            pod("shop", "web-1", "a", "web", 500, GI),
            pod("shop", "api-1", "b", "api", 1000, GI),
        ],
        pdbs: vec![],
        ..Default::default()
    };
    let p = run(spec, SafetyLevel::Conservative);
    assert_eq!(drained(&p), vec!["a"]);
    assert!(
        (p.savings.monthly - 140.16).abs() < 1e-9,
        "{}",
        p.savings.monthly
    );
    assert_eq!(p.savings.formatted, "$140.16");
    // b is priced by resources: 4 vCPU × $30 + 16 GiB × $4 = $184 per month.
    assert!((p.summary.hourly_cost * 730.0 - (140.16 + 184.0)).abs() < 1e-9);
}

/// Risk is computed from facts: a single-replica StatefulSet pod with a PVC, no readiness
/// probe and no PDB scores 50 + 30 + 20 + 10 = 110 (high).
#[test]
fn risk_from_facts() {
    let mut db = pod("data", "db-0", "a", "db", 500, GI);
    db.owner = Some(OwnerRef {
        kind: "StatefulSet".into(),
        name: "db".into(),
    });
    db.volumes.push(VolumeSpec {
        name: "data".into(),
        source: VolumeSource::PersistentVolumeClaim {
            claim_name: "data-db-0".into(),
            node_affinity: Vec::new(),
            unresolved: None,
            csi_driver: None,
            read_write_once_pod: false,
        },
    });
    db.readiness_probe = false;
    let spec = SnapshotSpec {
        nodes: vec![node("a", 4000, 16 * GI), node("b", 4000, 16 * GI)],
        pods: vec![db, pod("shop", "api-1", "b", "api", 1000, GI)],
        pdbs: vec![],
        ..Default::default()
    };
    let p = run(spec, SafetyLevel::Conservative);
    let r = &p.moves[0].risk;
    assert_eq!(r.score, 110);
    assert_eq!(r.level, compactor_core::risk::RiskLevel::High);
    assert_eq!(
        r.factors,
        vec![
            RiskFactor::Stateful,
            RiskFactor::SingleReplica,
            RiskFactor::NoReadinessProbe,
            RiskFactor::NoPdb
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Node-level scheduling constraints (taints, nodeSelector, node affinity, host ports).
//
// Unless said otherwise: node `a` holds one movable pod `shop/x` (500m, 1 GiB); node `b` holds
// a bare pod `ops/pinned` (100m, 64 MiB, no owner, so `b` cannot be drained) and is the only
// place `x` could go. With the constraint satisfied `a` is drained and `x` moves to `b`;
// otherwise nothing is drained and `a` is kept with a NoFit reason naming the constraint.
// ---------------------------------------------------------------------------------------

mod constraints {
    use super::*;
    use compactor_core::model::{
        HostPort, NodeSelectorOperator, NodeSelectorRequirement, NodeSelectorTerm, NodeSpec,
        Protocol, Taint, TaintEffect, Toleration, TolerationOperator,
    };
    use compactor_core::testing::MI;

    fn scenario(b: NodeSpec, x: PodSpec, pinned: PodSpec) -> Plan {
        run(
            SnapshotSpec {
                nodes: vec![node("a", 4000, 16 * GI), b],
                pods: vec![x, pinned],
                pdbs: vec![],
                ..Default::default()
            },
            SafetyLevel::Conservative,
        )
    }

    fn x() -> PodSpec {
        pod("shop", "x", "a", "web", 500, GI)
    }

    fn pinned() -> PodSpec {
        pod("ops", "pinned", "b", "", 100, 64 * MI)
    }

    fn b_with(f: impl FnOnce(&mut NodeSpec)) -> NodeSpec {
        let mut b = node("b", 4000, 16 * GI);
        f(&mut b);
        b
    }

    fn moved_to_b(p: &Plan) {
        assert_eq!(drained(p), vec!["a"]);
        assert_eq!(moves(p), vec![("x".into(), "a", "b", 1)]);
    }

    fn stuck(p: &Plan, needle: &str) {
        assert!(p.drain.is_empty(), "{:?}", drained(p));
        let a = p.kept.iter().find(|k| k.node == "a").expect("a kept");
        assert_eq!(a.reason.code, ReasonCode::NoFit);
        assert!(
            a.reason.message.contains(needle),
            "{:?} does not contain {needle:?}",
            a.reason.message
        );
    }

    fn taint(key: &str, value: Option<&str>, effect: TaintEffect) -> Taint {
        Taint {
            key: key.into(),
            value: value.map(Into::into),
            effect,
        }
    }

    fn gpu_node() -> NodeSpec {
        b_with(|b| b.taints = vec![taint("dedicated", Some("gpu"), TaintEffect::NoSchedule)])
    }

    #[test]
    fn untolerated_taint_blocks_the_move() {
        stuck(
            &scenario(gpu_node(), x(), pinned()),
            "pod shop/x cannot move: the kept nodes with room carry taint dedicated=gpu:NoSchedule, which it does not tolerate (1 of the 1 kept node with room)",
        );
    }

    #[test]
    fn tolerated_taint_allows_the_move() {
        let mut x = x();
        x.tolerations = vec![Toleration {
            key: Some("dedicated".into()),
            operator: TolerationOperator::Equal,
            value: Some("gpu".into()),
            effect: Some(TaintEffect::NoSchedule),
            toleration_seconds: None,
        }];
        moved_to_b(&scenario(gpu_node(), x, pinned()));
    }

    #[test]
    fn no_execute_blocks_and_prefer_no_schedule_does_not() {
        let b = b_with(|b| b.taints = vec![taint("maintenance", None, TaintEffect::NoExecute)]);
        stuck(
            &scenario(b, x(), pinned()),
            "carry taint maintenance:NoExecute, which it does not tolerate",
        );
        let b = b_with(|b| b.taints = vec![taint("spot", None, TaintEffect::PreferNoSchedule)]);
        moved_to_b(&scenario(b, x(), pinned()));
    }

    #[test]
    fn exists_with_empty_key_tolerates_everything() {
        let mut x = x();
        x.tolerations = vec![Toleration {
            operator: TolerationOperator::Exists,
            ..Default::default()
        }];
        let b = b_with(|b| {
            b.taints = vec![
                taint("dedicated", Some("gpu"), TaintEffect::NoSchedule),
                taint("maintenance", None, TaintEffect::NoExecute),
            ]
        });
        moved_to_b(&scenario(b, x, pinned()));
    }

    /// A control-plane node (tainted node-role.kubernetes.io/control-plane:NoSchedule, with a
    /// 250m static pod so it is never drained) beside two workers each holding a 1000m pod.
    /// Untainted, kube-scheduler would put both workers' pods on the emptier control plane
    /// (2250m ≤ 2800m) and drain both workers. Tainted, w1's pod can only go to w2 (2000m),
    /// and w2 cannot be emptied: its pods would have to go to the control plane.
    #[test]
    fn control_plane_node_receives_no_pods() {
        let mut cp = node("cp", 4000, 16 * GI);
        cp.taints = vec![taint(
            "node-role.kubernetes.io/control-plane",
            None,
            TaintEffect::NoSchedule,
        )];
        let mut apiserver = pod("kube-system", "kube-apiserver-cp", "cp", "", 250, GI);
        apiserver
            .annotations
            .insert(MIRROR_ANNOTATION.into(), "hash".into());
        let spec = SnapshotSpec {
            nodes: vec![cp, node("w1", 4000, 16 * GI), node("w2", 4000, 16 * GI)],
            pods: vec![
                apiserver,
                pod("shop", "w1-pod", "w1", "web", 1000, 2 * GI),
                pod("shop", "w2-pod", "w2", "web", 1000, 2 * GI),
            ],
            pdbs: vec![],
            ..Default::default()
        };
        let mut untainted = spec.clone();
        untainted.nodes[0].taints.clear();
        let without = run(untainted, SafetyLevel::Conservative);
        assert_eq!(
            moves(&without),
            vec![
                ("w1-pod".into(), "w1", "cp", 1),
                ("w2-pod".into(), "w2", "cp", 2)
            ]
        );
        let p = run(spec, SafetyLevel::Conservative);
        assert_eq!(drained(&p), vec!["w1"]);
        assert_eq!(moves(&p), vec![("w1-pod".into(), "w1", "w2", 1)]);
        assert!(p.moves.iter().all(|m| m.to_node != "cp"));
        let w2 = p.kept.iter().find(|k| k.node == "w2").expect("w2 kept");
        assert_eq!(w2.reason.code, ReasonCode::NoFit);
        assert!(
            w2.reason.message.contains(
                "carry taint node-role.kubernetes.io/control-plane:NoSchedule, which it does not tolerate"
            ),
            "{}",
            w2.reason.message
        );
    }

    #[test]
    fn node_selector() {
        let b = b_with(|b| {
            b.labels.insert("disktype".into(), "ssd".into());
        });
        let mut ok = x();
        ok.node_selector.insert("disktype".into(), "ssd".into());
        moved_to_b(&scenario(b.clone(), ok, pinned()));
        let mut wrong = x();
        wrong.node_selector.insert("disktype".into(), "hdd".into());
        stuck(
            &scenario(b, wrong, pinned()),
            "pod shop/x cannot move: no kept node with room matches node selector disktype=hdd",
        );
    }

    fn affinity(key: &str, operator: NodeSelectorOperator, values: &[&str]) -> PodSpec {
        let mut x = x();
        x.required_node_affinity = vec![NodeSelectorTerm {
            match_expressions: vec![NodeSelectorRequirement {
                key: key.into(),
                operator,
                values: values.iter().map(|v| (*v).into()).collect(),
            }],
            match_fields: vec![],
        }];
        x
    }

    /// b is labelled zone=eu-1a and cores=16; every operator once passing, once failing.
    #[test]
    fn node_affinity_operators() {
        use NodeSelectorOperator::*;
        let b = b_with(|b| {
            b.labels.insert("zone".into(), "eu-1a".into());
            b.labels.insert("cores".into(), "16".into());
        });
        let cases: [(&str, NodeSelectorOperator, &[&str], bool); 12] = [
            ("zone", In, &["eu-1a", "eu-1b"], true),
            ("zone", In, &["eu-1b"], false),
            ("zone", NotIn, &["eu-1b"], true),
            ("zone", NotIn, &["eu-1a"], false),
            ("zone", Exists, &[], true),
            ("gpu", Exists, &[], false),
            ("gpu", DoesNotExist, &[], true),
            ("zone", DoesNotExist, &[], false),
            ("cores", Gt, &["8"], true),
            ("cores", Gt, &["16"], false),
            ("cores", Lt, &["32"], true),
            ("zone", Lt, &["32"], false), // not an integer
        ];
        for (key, op, values, passes) in cases {
            let p = scenario(b.clone(), affinity(key, op, values), pinned());
            if passes {
                moved_to_b(&p);
            } else {
                stuck(&p, "matches its required node affinity");
            }
        }
    }

    fn with_port(mut p: PodSpec, port: u16, protocol: Protocol, ip: &str) -> PodSpec {
        p.host_ports.push(HostPort {
            port,
            protocol,
            host_ip: ip.into(),
        });
        p
    }

    #[test]
    fn host_port_conflict() {
        let used = || with_port(pinned(), 8080, Protocol::Tcp, "0.0.0.0");
        stuck(
            &scenario(
                node("b", 4000, 16 * GI),
                with_port(x(), 8080, Protocol::Tcp, "10.0.0.1"),
                used(),
            ),
            "pod shop/x cannot move: host port 8080/TCP is already used on every kept node with room",
        );
        moved_to_b(&scenario(
            node("b", 4000, 16 * GI),
            with_port(x(), 8080, Protocol::Udp, "0.0.0.0"),
            used(),
        ));
        moved_to_b(&scenario(
            node("b", 4000, 16 * GI),
            with_port(x(), 8081, Protocol::Tcp, "0.0.0.0"),
            used(),
        ));
    }

    /// Two pods of the drained node want host port 80: they cannot share a receiver. Without
    /// the ports kube-scheduler would put both on b (the emptier: 500m, then 700m, against
    /// c's 1000m); with them the second goes to c. (The pods belong to a Job, which gets no
    /// default topology spreading; spreading alone would send a Deployment's second replica
    /// to c, see `default_spreading_sends_a_second_replica_elsewhere`.)
    #[test]
    fn host_ports_of_moved_pods_conflict_with_each_other() {
        let spec = |ports: bool| {
            let x = |name: &str| {
                let mut p = pod("shop", name, "a", "web", 200, GI);
                p.owner = Some(compactor_core::model::OwnerRef {
                    kind: "Job".into(),
                    name: "web".into(),
                });
                if ports {
                    with_port(p, 80, Protocol::Tcp, "")
                } else {
                    p
                }
            };
            SnapshotSpec {
                nodes: vec![
                    node("a", 4000, 16 * GI),
                    node("b", 4000, 16 * GI),
                    node("c", 4000, 16 * GI),
                ],
                pods: vec![
                    x("x1"),
                    x("x2"),
                    pod("ops", "pin-b", "b", "", 500, GI),
                    pod("ops", "pin-c", "c", "", 1000, GI),
                ],
                pdbs: vec![],
                ..Default::default()
            }
        };
        let p = run(spec(false), SafetyLevel::Conservative);
        assert_eq!(
            moves(&p),
            vec![("x1".into(), "a", "b", 1), ("x2".into(), "a", "b", 1)]
        );
        let p = run(spec(true), SafetyLevel::Conservative);
        assert_eq!(drained(&p), vec!["a"]);
        assert_eq!(
            moves(&p),
            vec![("x1".into(), "a", "b", 1), ("x2".into(), "a", "c", 1)]
        );
    }

    /// The independent checker rejects a move onto a node whose taint the pod does not
    /// tolerate: plan an untainted cluster, then check that plan against the tainted one.
    #[test]
    fn checker_catches_untolerated_taint() {
        let plain = Snapshot::new(SnapshotSpec {
            nodes: vec![node("a", 4000, 16 * GI), node("b", 4000, 16 * GI)],
            pods: vec![x(), pinned()],
            pdbs: vec![],
            ..Default::default()
        })
        .expect("valid");
        let opts = PlanOptions::default();
        let p = plan(&plain, &opts).expect("plan");
        assert_eq!(drained(&p), vec!["a"]);
        let tainted = Snapshot::new(SnapshotSpec {
            nodes: vec![node("a", 4000, 16 * GI), gpu_node()],
            pods: vec![x(), pinned()],
            pdbs: vec![],
            ..Default::default()
        })
        .expect("valid");
        let errors = verify(&tainted, &p, &opts);
        assert_eq!(
            errors,
            vec![Violation::Placement {
                pod: "shop/x".into(),
                node: "b".into(),
                tied: false,
                constraint: Constraint::UntoleratedTaint {
                    taint: "dedicated=gpu:NoSchedule".into()
                }
            }]
        );
        assert_eq!(
            errors[0].to_string(),
            "pod shop/x moves to node b, which has taint dedicated=gpu:NoSchedule that the pod does not tolerate"
        );
        let mut selective = x();
        selective
            .node_selector
            .insert("disktype".into(), "ssd".into());
        let with_ports = Snapshot::new(SnapshotSpec {
            nodes: vec![node("a", 4000, 16 * GI), node("b", 4000, 16 * GI)],
            pods: vec![
                with_port(selective, 53, Protocol::Udp, ""),
                with_port(pinned(), 53, Protocol::Udp, "10.1.1.1"),
            ],
            pdbs: vec![],
            ..Default::default()
        })
        .expect("valid");
        let errors = verify(&with_ports, &p, &opts);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            matches!(&errors[0], Violation::Placement { constraint: Constraint::NodeSelector { key, .. }, .. } if key == "disktype"),
            "{errors:?}"
        );
        assert!(
            matches!(&errors[1], Violation::Placement { constraint: Constraint::HostPort { port: 53, other, .. }, .. } if other == "ops/pinned"),
            "{errors:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Inter-pod constraints, volume zones and preferences.
//
// Nodes `a` and `b` are in zone z1, `c` in zone z2 (4000m / 16 GiB each, conservative cap
// 2800m). `a` holds the movable pod `shop/x` (500m, 1 GiB, app=web). `b` and `c` hold bare
// pods (no owner), so they are never drained and are the only places `x` can go: `b` holds
// 100m, `c` 1000m, so without constraints kube-scheduler (LeastAllocated) prefers `b`
// (score 85 + 96 against 62 + 87, hand-computed from the formulas).
// ---------------------------------------------------------------------------------------

mod interpod {
    use super::*;
    use compactor_core::model::{
        LabelSelector, NodeSelectorOperator, NodeSelectorRequirement, NodeSelectorTerm, NodeSpec,
        PodAffinityTerm, PreferredSchedulingTerm, Taint, TaintEffect, TopologySpreadConstraint,
        WeightedPodAffinityTerm, WhenUnsatisfiable, ZONE_LABEL,
    };
    use compactor_core::testing::MI;

    const HOST: &str = "kubernetes.io/hostname";

    fn zoned(name: &str, zone: &str) -> NodeSpec {
        let mut n = node(name, 4000, 16 * GI);
        n.labels.insert(ZONE_LABEL.into(), zone.into());
        n
    }

    fn bare(ns: &str, name: &str, on: &str, cpu: u64, app: &str) -> PodSpec {
        let mut p = pod(ns, name, on, "", cpu, 64 * MI);
        if !app.is_empty() {
            p.labels.insert("app".into(), app.into());
        }
        p
    }

    fn x() -> PodSpec {
        with_app(pod("shop", "x", "a", "web", 500, GI), "web")
    }

    fn app(value: &str) -> Option<LabelSelector> {
        Some(LabelSelector {
            match_labels: [("app".to_owned(), value.to_owned())].into(),
            ..Default::default()
        })
    }

    fn term(key: &str, value: &str) -> PodAffinityTerm {
        PodAffinityTerm {
            label_selector: app(value),
            topology_key: key.into(),
            ..Default::default()
        }
    }

    /// Runs the fixture with `x`, the given extra pods, and `b` / `c` changed by `nodes`.
    fn scenario(x: PodSpec, extra: Vec<PodSpec>, nodes: impl FnOnce(&mut [NodeSpec])) -> Plan {
        let mut ns = vec![zoned("a", "z1"), zoned("b", "z1"), zoned("c", "z2")];
        nodes(&mut ns);
        let mut pods = vec![
            x,
            bare("ops", "pin-b", "b", 100, ""),
            bare("ops", "pin-c", "c", 1000, ""),
        ];
        pods.extend(extra);
        run(
            SnapshotSpec {
                nodes: ns,
                pods,
                ..Default::default()
            },
            SafetyLevel::Conservative,
        )
    }

    /// Shrinks c to 1400m: its 1000m pod already exceeds the 70 % cap, so c takes nothing.
    fn c_full(nodes: &mut [NodeSpec]) {
        nodes[2].allocatable = compactor_core::resources::ResourceList::new()
            .with("cpu", 1400)
            .with("memory", 16 * GI);
    }

    fn lands_on(p: &Plan, to: &str) {
        assert_eq!(drained(p), vec!["a"], "{:?}", p.kept);
        assert_eq!(moves(p), vec![("x".into(), "a", to, 1)]);
    }

    fn stuck(p: &Plan, needle: &str) {
        assert!(p.drain.is_empty(), "{:?}", drained(p));
        let a = p.kept.iter().find(|k| k.node == "a").expect("a kept");
        assert_eq!(a.reason.code, ReasonCode::NoFit);
        assert!(
            a.reason.message.contains(needle),
            "{:?} does not contain {needle:?}",
            a.reason.message
        );
    }

    #[test]
    fn without_constraints_the_scheduler_prefers_b() {
        lands_on(&scenario(x(), vec![], |_| {}), "b");
    }

    /// x has anti-affinity to app=web on `key`. With web-2 on b, x goes to c; with web-3 on
    /// c as well, x is stuck with `needle` in its reason.
    fn replicas_avoided(key: &str, needle: &str) {
        let mut x = x();
        x.pod_anti_affinity = vec![term(key, "web")];
        let web2 = || bare("shop", "web-2", "b", 100, "web");
        lands_on(&scenario(x.clone(), vec![web2()], |_| {}), "c");
        let both = vec![web2(), bare("shop", "web-3", "c", 100, "web")];
        stuck(&scenario(x, both, |_| {}), needle);
    }

    #[test]
    fn hostname_anti_affinity_avoids_the_node_with_a_replica() {
        replicas_avoided(
            HOST,
            "anti-affinity with pod shop/web-2 on topology kubernetes.io/hostname=b",
        );
    }

    /// A selector with only `matchExpressions` (found through the namespace's pods rather
    /// than a label index) works the same.
    #[test]
    fn set_based_selectors_select_the_same_pods() {
        let mut x = x();
        x.pod_anti_affinity = vec![PodAffinityTerm {
            label_selector: Some(LabelSelector {
                match_expressions: vec![compactor_core::model::SelectorRequirement {
                    key: "app".into(),
                    operator: compactor_core::model::SelectorOperator::In,
                    values: vec!["web".into(), "api".into()],
                }],
                ..Default::default()
            }),
            topology_key: HOST.into(),
            ..Default::default()
        }];
        let web2 = bare("shop", "web-2", "b", 100, "web");
        lands_on(&scenario(x.clone(), vec![web2.clone()], |_| {}), "c");
        // The same pod in another namespace is not selected (the term covers x's own).
        let mut elsewhere = web2;
        elsewhere.namespace = "other".into();
        lands_on(&scenario(x, vec![elsewhere], |_| {}), "b");
    }

    /// web-2 sits on b, in z1: all of z1 is excluded, so x goes to c in z2.
    #[test]
    fn zone_anti_affinity_avoids_the_zone() {
        replicas_avoided(
            ZONE_LABEL,
            "anti-affinity with pod shop/web-2 on topology topology.kubernetes.io/zone=z1",
        );
    }

    #[test]
    fn existing_pods_anti_affinity_is_symmetric() {
        let guard = |name: &str, on: &str| {
            let mut g = bare("ops", name, on, 100, "guard");
            g.pod_anti_affinity = vec![PodAffinityTerm {
                namespaces: vec!["shop".into()],
                ..term(HOST, "web")
            }];
            g
        };
        lands_on(&scenario(x(), vec![guard("guard-b", "b")], |_| {}), "c");
        stuck(
            &scenario(
                x(),
                vec![guard("guard-b", "b"), guard("guard-c", "c")],
                |_| {},
            ),
            "anti-affinity of pod ops/guard-b on topology kubernetes.io/hostname=b",
        );
    }

    #[test]
    fn anti_affinity_term_namespaces_default_to_the_pods_own() {
        // The guard's term has no namespaces: it covers namespace ops only, not shop/x.
        let mut g = bare("ops", "guard-b", "b", 100, "guard");
        g.pod_anti_affinity = vec![term(HOST, "web")];
        lands_on(&scenario(x(), vec![g], |_| {}), "b");
    }

    #[test]
    fn namespace_selector_picks_namespaces_by_label() {
        let mut x = x();
        x.pod_anti_affinity = vec![PodAffinityTerm {
            namespace_selector: Some(LabelSelector {
                match_labels: [("team".to_owned(), "blue".to_owned())].into(),
                ..Default::default()
            }),
            ..term(HOST, "web")
        }];
        let spec_with = |x: PodSpec| SnapshotSpec {
            nodes: vec![zoned("a", "z1"), zoned("b", "z1"), zoned("c", "z2")],
            pods: vec![
                x,
                bare("ops", "pin-c", "c", 1000, ""),
                bare("blue", "web-b", "b", 100, "web"),
                bare("red", "web-c", "c", 100, "web"),
            ],
            namespaces: [
                (
                    "blue".to_owned(),
                    [("team".to_owned(), "blue".to_owned())].into(),
                ),
                (
                    "red".to_owned(),
                    [("team".to_owned(), "red".to_owned())].into(),
                ),
                // Listed, so that their labels are known (else x stays: missing-input).
                ("shop".to_owned(), Default::default()),
                ("ops".to_owned(), Default::default()),
            ]
            .into(),
            ..Default::default()
        };
        // web-b is in a blue namespace (excluded), web-c in a red one (ignored).
        let p = run(spec_with(x), SafetyLevel::Conservative);
        lands_on(&p, "c");
    }

    #[test]
    fn required_affinity_follows_the_pods_it_names() {
        let mut x = x();
        x.pod_affinity = vec![term(ZONE_LABEL, "db")];
        lands_on(
            &scenario(x, vec![bare("shop", "db-0", "c", 100, "db")], |_| {}),
            "c",
        );
    }

    /// The only db pod is on d, a cordoned node in z3: no kept node shares its zone.
    #[test]
    fn required_affinity_fails_with_the_term_named() {
        let mut x = x();
        x.pod_affinity = vec![term(ZONE_LABEL, "db")];
        let mut d = zoned("d", "z3");
        d.unschedulable = true;
        let p = run(
            SnapshotSpec {
                nodes: vec![zoned("a", "z1"), zoned("b", "z1"), zoned("c", "z2"), d],
                pods: vec![
                    x,
                    bare("ops", "pin-b", "b", 100, ""),
                    bare("ops", "pin-c", "c", 1000, ""),
                    bare("shop", "db-0", "d", 100, "db"),
                ],
                ..Default::default()
            },
            SafetyLevel::Conservative,
        );
        stuck(
            &p,
            "pod affinity to app=db (none on topology topology.kubernetes.io/zone=z1)",
        );
    }

    #[test]
    fn the_first_pod_of_a_self_affine_group_goes_anywhere() {
        // x asks for app=web pods in its zone; it is the only one, and matches its own term.
        let mut x = x();
        x.pod_affinity = vec![term(ZONE_LABEL, "web")];
        lands_on(&scenario(x, vec![], |_| {}), "b");
    }

    fn spread(max_skew: u32, when: WhenUnsatisfiable) -> TopologySpreadConstraint {
        TopologySpreadConstraint {
            max_skew,
            topology_key: ZONE_LABEL.into(),
            when_unsatisfiable: when,
            label_selector: app("web"),
            min_domains: None,
            match_label_keys: vec![],
            node_affinity_policy: compactor_core::model::NodeInclusionPolicy::Honor,
            node_taints_policy: compactor_core::model::NodeInclusionPolicy::Ignore,
        }
    }

    #[test]
    fn topology_spread_moves_the_pod_to_the_emptier_zone() {
        // web-2 on b: z1 holds 1 web pod once x has left, z2 none. On b the skew would be
        // 1 + 1 − 0 = 2 > 1; on c it is 0 + 1 − 0 = 1.
        let mut x = x();
        x.topology_spread_constraints = vec![spread(1, WhenUnsatisfiable::DoNotSchedule)];
        lands_on(
            &scenario(
                x.clone(),
                vec![bare("shop", "web-2", "b", 100, "web")],
                |_| {},
            ),
            "c",
        );
        // With maxSkew 2 both zones are allowed and the scheduler prefers b again.
        let mut loose = x.clone();
        loose.topology_spread_constraints = vec![spread(2, WhenUnsatisfiable::DoNotSchedule)];
        lands_on(
            &scenario(loose, vec![bare("shop", "web-2", "b", 100, "web")], |_| {}),
            "b",
        );
        // ScheduleAnyway is a preference (PodTopologySpread score 100 × 2 for c's empty
        // zone outweighs b's resource lead of 32), never a filter: with c full, b it is.
        let mut soft = x.clone();
        soft.topology_spread_constraints = vec![spread(1, WhenUnsatisfiable::ScheduleAnyway)];
        lands_on(
            &scenario(
                soft.clone(),
                vec![bare("shop", "web-2", "b", 100, "web")],
                |_| {},
            ),
            "c",
        );
        lands_on(
            &scenario(soft, vec![bare("shop", "web-2", "b", 100, "web")], c_full),
            "b",
        );
        // c full: only b has room, and b breaks the skew.
        stuck(
            &scenario(x, vec![bare("shop", "web-2", "b", 100, "web")], c_full),
            "topology spread on topology.kubernetes.io/zone=z1 (skew 2 > maxSkew 1)",
        );
    }

    #[test]
    fn topology_spread_needs_the_label() {
        let mut x = x();
        x.topology_spread_constraints = vec![spread(1, WhenUnsatisfiable::DoNotSchedule)];
        stuck(
            &scenario(x, vec![], |nodes| {
                nodes[1].labels.remove(ZONE_LABEL);
                nodes[2].labels.remove(ZONE_LABEL);
            }),
            "kept nodes with room lack the topology label topology.kubernetes.io/zone",
        );
    }

    fn zone_term(zones: &[&str]) -> Vec<NodeSelectorTerm> {
        vec![NodeSelectorTerm {
            match_expressions: vec![NodeSelectorRequirement {
                key: ZONE_LABEL.into(),
                operator: NodeSelectorOperator::In,
                values: zones.iter().map(|z| (*z).to_owned()).collect(),
            }],
            match_fields: vec![],
        }]
    }

    fn with_volume(mut x: PodSpec, zones: &[&str]) -> PodSpec {
        x.owner = Some(OwnerRef {
            kind: "StatefulSet".into(),
            name: "web".into(),
        });
        x.volumes = vec![VolumeSpec {
            name: "data".into(),
            source: VolumeSource::PersistentVolumeClaim {
                claim_name: "data-x".into(),
                node_affinity: zone_term(zones),
                unresolved: None,
                csi_driver: None,
                read_write_once_pod: false,
            },
        }];
        x
    }

    #[test]
    fn a_zonal_volume_keeps_the_pod_in_its_zone() {
        lands_on(&scenario(with_volume(x(), &["z2"]), vec![], |_| {}), "c");
        stuck(
            &scenario(with_volume(x(), &["z3"]), vec![], |_| {}),
            "the volume of claim data-x cannot be used on any kept node with room",
        );
    }

    #[test]
    fn preferences_break_ties() {
        // Preferred node affinity for z2 (weight 100 → NodeAffinity 100 × 2) outweighs b's
        // resource lead (85 + 96 − 62 − 87 = 32).
        let mut pref = x();
        pref.preferred_node_affinity = vec![PreferredSchedulingTerm {
            weight: 100,
            preference: zone_term(&["z2"]).remove(0),
        }];
        lands_on(&scenario(pref, vec![], |_| {}), "c");
        // An untolerated PreferNoSchedule taint on b (TaintToleration 0 against 100, × 3).
        lands_on(
            &scenario(x(), vec![], |nodes| {
                nodes[1].taints = vec![Taint {
                    key: "spot".into(),
                    value: None,
                    effect: TaintEffect::PreferNoSchedule,
                }];
            }),
            "c",
        );
        // Preferred pod affinity towards the cache pod on c (InterPodAffinity 100 × 2).
        let mut near = x();
        near.preferred_pod_affinity = vec![WeightedPodAffinityTerm {
            weight: 50,
            pod_affinity_term: term(HOST, "cache"),
        }];
        lands_on(
            &scenario(
                near,
                vec![bare("shop", "cache-0", "c", 100, "cache")],
                |_| {},
            ),
            "c",
        );
        // Preferred anti-affinity never filters: with the only other node full, b it is.
        let mut apart = x();
        apart.preferred_pod_anti_affinity = vec![WeightedPodAffinityTerm {
            weight: 100,
            pod_affinity_term: term(HOST, "web"),
        }];
        lands_on(
            &scenario(apart, vec![bare("shop", "web-2", "b", 100, "web")], c_full),
            "b",
        );
    }

    #[test]
    fn a_custom_topology_key_defines_its_own_domains() {
        // Rack r1 holds a and b, rack r2 holds c; web-2 on b fills r1 for x's anti-affinity.
        let rack = "example.com/rack";
        let mut x = x();
        x.pod_anti_affinity = vec![term(rack, "web")];
        let racks = |nodes: &mut [NodeSpec]| {
            for (n, r) in nodes.iter_mut().zip(["r1", "r1", "r2"]) {
                n.labels.insert(rack.into(), r.into());
            }
        };
        lands_on(
            &scenario(
                x.clone(),
                vec![bare("shop", "web-2", "b", 100, "web")],
                racks,
            ),
            "c",
        );
        // All three racks different: b is its own domain, and c is fine too; b is emptier.
        lands_on(
            &scenario(x, vec![bare("shop", "web-2", "c", 100, "web")], |nodes| {
                for (n, r) in nodes.iter_mut().zip(["r1", "r2", "r3"]) {
                    n.labels.insert(rack.into(), r.into());
                }
            }),
            "b",
        );
    }

    #[test]
    fn max_pods_is_a_dimension() {
        // b allows 2 pods and holds 1: x fits. With 1 allowed, b is full and only c remains.
        let with_slots = |slots: u64| {
            move |nodes: &mut [NodeSpec]| {
                nodes[1].allocatable.set("pods", slots);
            }
        };
        lands_on(&scenario(x(), vec![], with_slots(3)), "b");
        lands_on(&scenario(x(), vec![], with_slots(1)), "c");
    }

    /// Three small web replicas, one per node, each with hostname anti-affinity against the
    /// others: resources alone need one node, the conflict clique three. Nothing moves.
    #[test]
    fn conflict_clique_bound() {
        let web = |name: &str, on: &str| {
            let mut p = with_app(pod("shop", name, on, "web", 100, 64 * MI), "web");
            p.pod_anti_affinity = vec![term(HOST, "web")];
            p
        };
        let p = run(
            SnapshotSpec {
                nodes: vec![zoned("a", "z1"), zoned("b", "z1"), zoned("c", "z2")],
                pods: vec![web("web-1", "a"), web("web-2", "b"), web("web-3", "c")],
                ..Default::default()
            },
            SafetyLevel::Conservative,
        );
        assert!(p.drain.is_empty());
        assert_eq!(p.lower_bound.nodes, 3);
        assert_eq!(
            p.lower_bound.method,
            "conflict clique: 3 pods of shop/web on 3 nodes are pairwise anti-affine on kubernetes.io/hostname"
        );
        assert_eq!(p.lower_bound.binding_dimension, "anti-affinity");
    }

    /// The same, with web-3 terminating: it will be gone, so the clique is two pods on two
    /// nodes (found by the plan fuzz target: a clique counting a terminating pod made the
    /// bound exceed what a plan keeps). c then holds only a terminating pod and is drained.
    #[test]
    fn a_terminating_pod_is_in_no_conflict_clique() {
        let web = |name: &str, on: &str| {
            let mut p = with_app(pod("shop", name, on, "web", 100, 64 * MI), "web");
            p.pod_anti_affinity = vec![term(HOST, "web")];
            p
        };
        let mut leaving = web("web-3", "c");
        leaving.terminating = true;
        let p = run(
            SnapshotSpec {
                nodes: vec![zoned("a", "z1"), zoned("b", "z1"), zoned("c", "z2")],
                pods: vec![web("web-1", "a"), web("web-2", "b"), leaving],
                ..Default::default()
            },
            SafetyLevel::Conservative,
        );
        assert_eq!(p.lower_bound.nodes, 2);
        assert!(p.lower_bound.method.starts_with("conflict clique: 2 pods"));
        assert_eq!(drained(&p), vec!["c"]);
    }

    #[test]
    fn invalid_constraints_are_rejected_with_the_field() {
        let mut x = x();
        x.topology_spread_constraints = vec![spread(0, WhenUnsatisfiable::DoNotSchedule)];
        let err = Snapshot::new(SnapshotSpec {
            nodes: vec![zoned("a", "z1")],
            pods: vec![x],
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod shop/x: invalid topologySpreadConstraints[0].maxSkew: must be at least 1"
        );
    }

    #[test]
    fn checker_catches_an_anti_affinity_violation() {
        let mut x = x();
        x.pod_anti_affinity = vec![term(HOST, "web")];
        let snap = Snapshot::new(SnapshotSpec {
            nodes: vec![zoned("a", "z1"), zoned("b", "z1"), zoned("c", "z2")],
            pods: vec![
                x,
                bare("ops", "pin-b", "b", 100, ""),
                bare("ops", "pin-c", "c", 1000, ""),
                bare("shop", "web-2", "b", 100, "web"),
            ],
            ..Default::default()
        })
        .expect("valid");
        let opts = PlanOptions::default().with_safety(SafetyLevel::Conservative);
        let mut p = plan(&snap, &opts).expect("plan");
        assert!(verify(&snap, &p, &opts).is_empty());
        p.moves[0].to_node = "b".into();
        let errors = verify(&snap, &p, &opts);
        assert_eq!(
            errors,
            vec![Violation::Placement {
                pod: "shop/x".into(),
                node: "b".into(),
                tied: false,
                constraint: Constraint::AntiAffinity {
                    key: "kubernetes.io/hostname".into(),
                    other: "shop/web-2".into()
                }
            }]
        );
    }
}

// ---------------------------------------------------------------------------------------
// Strategies that follow traffic and affinity.
//
// Nodes a, b, c (4000m / 16 GiB, conservative cap 2800m). `a` holds the movable pod shop/x
// (500m). `b` and `c` hold bare pods (never drained): `b` 1000m, `c` 100m. Best fit packs x
// onto `b` (the tightest node with room); kube-scheduler places it on `c` (the emptiest).
// ---------------------------------------------------------------------------------------

mod strategies {
    use super::*;
    use compactor_core::model::{LabelSelector, PodAffinityTerm, WeightedPodAffinityTerm};
    use compactor_core::packing::StrategyKind;
    use compactor_core::testing::MI;
    use compactor_core::traffic::{Endpoint, TrafficEdgeSpec, TrafficSpec};

    fn spec(extra: Vec<PodSpec>) -> SnapshotSpec {
        let mut pods = vec![
            with_app(pod("shop", "x", "a", "web", 500, GI), "web"),
            pod("ops", "pin-b", "b", "", 1000, 64 * MI),
            pod("ops", "pin-c", "c", "", 100, 64 * MI),
        ];
        pods.extend(extra);
        SnapshotSpec {
            nodes: nodes3(),
            pods,
            ..Default::default()
        }
    }

    fn chat(from: &str, to: &str, rate: f64) -> TrafficEdgeSpec {
        TrafficEdgeSpec {
            from: Endpoint::Pod(from.into()),
            to: Endpoint::Pod(to.into()),
            bytes_per_second: rate,
        }
    }

    fn plan_with(strategy: StrategyKind, traffic: Option<TrafficSpec>) -> Plan {
        let snap = Snapshot::new(spec(vec![])).expect("valid");
        let opts = PlanOptions::default()
            .with_strategy(strategy)
            .with_safety(SafetyLevel::Conservative)
            .with_traffic(traffic);
        let p = plan(&snap, &opts).expect("plan");
        assert!(verify(&snap, &p, &opts).is_empty());
        p
    }

    /// x talks with pin-c (1 MB/s both ways) and, lightly, with pin-b (10 kB/s). The
    /// network-aware packing puts x next to pin-c; best fit puts it on b, splitting the pair.
    /// kube-scheduler is predicted to put it on c either way.
    #[test]
    fn network_aware_packs_a_chatty_pair_together() {
        let traffic = TrafficSpec {
            edges: vec![
                chat("shop/x", "ops/pin-c", 600_000.0),
                chat("ops/pin-c", "shop/x", 400_000.0),
                chat("shop/x", "ops/pin-b", 10_000.0),
            ],
        };
        let aware = plan_with(StrategyKind::NetworkAware, Some(traffic.clone()));
        assert_eq!(moves(&aware), vec![("x".into(), "a", "c", 1)]);
        let t = aware.traffic.expect("traffic report");
        assert_eq!(t.groups, 1);
        assert_eq!(t.before.total_bytes_per_second, 1_010_000.0);
        assert_eq!(t.before.cross_node_bytes_per_second, 1_010_000.0);
        assert_eq!(t.after.cross_node_bytes_per_second, 10_000.0);
        assert_eq!(t.packed.cross_node_bytes_per_second, 10_000.0);
        assert!(aware.notes.is_empty());

        let best = plan_with(StrategyKind::BestFit, Some(traffic));
        let t = best.traffic.expect("traffic report");
        assert_eq!(t.after.cross_node_bytes_per_second, 10_000.0);
        assert_eq!(t.packed.cross_node_bytes_per_second, 1_000_000.0);
    }

    /// A threshold above every edge leaves no group: the strategy says it fell back.
    #[test]
    fn network_aware_without_traffic_falls_back_to_best_fit() {
        let p = plan_with(StrategyKind::NetworkAware, None);
        assert_eq!(
            p.notes,
            vec!["network-aware: no traffic data given (--traffic); planned with best-fit"]
        );
        assert!(p.traffic.is_none());
        assert_eq!(moves(&p), vec![("x".into(), "a", "c", 1)]);
    }

    #[test]
    fn unknown_pod_in_traffic_is_an_error() {
        let snap = Snapshot::new(spec(vec![])).expect("valid");
        let opts = PlanOptions::default()
            .with_strategy(StrategyKind::NetworkAware)
            .with_traffic(Some(TrafficSpec {
                edges: vec![chat("shop/x", "shop/nope", 1.0)],
            }));
        assert_eq!(
            plan(&snap, &opts).unwrap_err().to_string(),
            "traffic edge 0: to names pod shop/nope, which is not in the snapshot"
        );
    }

    /// x prefers (weight 80) the node of a cache pod on c. The affinity-based packing follows
    /// it (see the packer's unit tests); kube-scheduler's InterPodAffinity score does too, so
    /// every strategy predicts c.
    #[test]
    fn preferred_affinity_steers_the_prediction_for_every_strategy() {
        let mut x = with_app(pod("shop", "x", "a", "web", 500, GI), "web");
        x.preferred_pod_affinity = vec![WeightedPodAffinityTerm {
            weight: 80,
            pod_affinity_term: PodAffinityTerm {
                label_selector: Some(LabelSelector {
                    match_labels: [("app".to_owned(), "cache".to_owned())].into(),
                    ..Default::default()
                }),
                topology_key: "kubernetes.io/hostname".into(),
                ..Default::default()
            },
        }];
        let mut cache = pod("shop", "cache-0", "c", "", 100, 64 * MI);
        cache.labels.insert("app".into(), "cache".into());
        let s = SnapshotSpec {
            nodes: nodes3(),
            pods: vec![x, pod("ops", "pin-b", "b", "", 1000, 64 * MI), cache],
            ..Default::default()
        };
        let snap = Snapshot::new(s).expect("valid");
        for strategy in [StrategyKind::AffinityBased, StrategyKind::BestFit] {
            let opts = PlanOptions::default()
                .with_strategy(strategy)
                .with_safety(SafetyLevel::Conservative);
            let p = plan(&snap, &opts).expect("plan");
            assert!(verify(&snap, &p, &opts).is_empty());
            // kube-scheduler scores the preferred term too (InterPodAffinity): c.
            assert_eq!(moves(&p), vec![("x".into(), "a", "c", 1)], "{strategy:?}");
        }
    }
}

/// kube-scheduler's scores, worked by hand with the v1.34 formulas (LeastAllocated and
/// BalancedAllocation weight 1, InterPodAffinity and PodTopologySpread weight 2). Nodes a,
/// b, c have 4 CPU and 16 GiB and no zone label; a is drained; bare pods pin b and c.
mod scoring {
    use super::*;
    use compactor_core::model::{
        LabelSelector, NodeSpec, PodAffinityTerm, WeightedPodAffinityTerm,
    };

    const HOST: &str = "kubernetes.io/hostname";

    fn labelled(mut p: PodSpec, app: &str) -> PodSpec {
        p.labels.insert("app".into(), app.into());
        p
    }

    fn term(app: &str) -> PodAffinityTerm {
        PodAffinityTerm {
            label_selector: Some(LabelSelector {
                match_labels: [("app".to_string(), app.to_string())].into(),
                ..Default::default()
            }),
            topology_key: HOST.into(),
            ..Default::default()
        }
    }

    fn spec(nodes: Vec<NodeSpec>, pods: Vec<PodSpec>) -> SnapshotSpec {
        SnapshotSpec {
            nodes,
            pods,
            pdbs: vec![],
            ..Default::default()
        }
    }

    fn abc() -> Vec<NodeSpec> {
        vec![
            node("a", 4000, 16 * GI),
            node("b", 4000, 16 * GI),
            node("c", 4000, 16 * GI),
        ]
    }

    /// Two replicas of Deployment web (200m, 1 GiB each) leave a; b holds 500m, c 1000m.
    /// First replica: b 177 (least (77+81)/2 = 79, balanced 98) plus spread 200 against c
    /// 169 plus 200 (no sibling anywhere: every node scores 100) → b. Second replica: resources b
    /// 177, c 169; default spreading on the hostname (maxSkew 3, weight ln(2 + 2)): b raw
    /// round(1 · 1.386 + 2) = 3, c 2 → normalised b 100 · (3 + 2 − 3) / 3 = 66, c 100 →
    /// b 177 + 132 = 309, c 169 + 200 = 369 → c. Without default spreading both would go to b.
    #[test]
    fn default_spreading_sends_a_second_replica_elsewhere() {
        let p = run(
            spec(
                abc(),
                vec![
                    pod("shop", "x1", "a", "web", 200, GI),
                    pod("shop", "x2", "a", "web", 200, GI),
                    pod("ops", "pin-b", "b", "", 500, GI),
                    pod("ops", "pin-c", "c", "", 1000, GI),
                ],
            ),
            SafetyLevel::Conservative,
        );
        assert_eq!(drained(&p), vec!["a"]);
        assert_eq!(
            moves(&p),
            vec![("x1".into(), "a", "b", 1), ("x2".into(), "a", "c", 1)]
        );
        assert_eq!(p.summary.tied_predictions, 0);
    }

    /// A Job's pods get no default spreading: the same cluster sends both to b.
    #[test]
    fn a_jobs_pods_are_not_spread_by_default() {
        let job = |name: &str| {
            let mut p = pod("shop", name, "a", "web", 200, GI);
            p.owner = Some(compactor_core::model::OwnerRef {
                kind: "Job".into(),
                name: "web".into(),
            });
            p
        };
        let p = run(
            spec(
                abc(),
                vec![
                    job("x1"),
                    job("x2"),
                    pod("ops", "pin-b", "b", "", 500, GI),
                    pod("ops", "pin-c", "c", "", 1000, GI),
                ],
            ),
            SafetyLevel::Conservative,
        );
        assert_eq!(
            moves(&p),
            vec![("x1".into(), "a", "b", 1), ("x2".into(), "a", "b", 1)]
        );
    }

    /// x prefers (weight 10) nodes with db pods; b holds one (300m, 1 GiB), c two. Resources:
    /// b 187 (least 87, balanced 100), c 179 (least (80 + 81) / 2 = 80, balanced 99).
    /// InterPodAffinity counts every matching pod: b 10, c 20 → normalised 0 and 100, so c
    /// gets 2 · 100 more → c 379 against b 187. (Counting only "some db pod is there" would
    /// score both 10 and send x to b.)
    #[test]
    fn preferred_affinity_weighs_every_matching_pod() {
        let mut x = labelled(pod("shop", "x", "a", "web", 200, GI), "web");
        x.preferred_pod_affinity = vec![WeightedPodAffinityTerm {
            weight: 10,
            pod_affinity_term: term("db"),
        }];
        let db = |name: &str, on: &str| labelled(pod("shop", name, on, "", 300, GI), "db");
        let p = run(
            spec(
                abc(),
                vec![x, db("db1", "b"), db("db2", "c"), db("db3", "c")],
            ),
            SafetyLevel::Conservative,
        );
        assert_eq!(moves(&p), vec![("x".into(), "a", "c", 1)]);
    }

    /// An existing pod on c requires affinity to app=web on its node: kube-scheduler scores
    /// that term for x (hardPodAffinityWeight 1). Resources: b (100m, 1 GiB) 186 (least
    /// (92 + 87) / 2 = 89, balanced 97), c (600m, 1 GiB) 179 (least (80 + 87) / 2 = 83,
    /// balanced 96); InterPodAffinity b 0, c 1 → normalised 0 and 100 → c 379.
    #[test]
    fn existing_pods_required_affinity_attracts_the_pods_it_names() {
        let x = labelled(pod("shop", "x", "a", "web", 200, GI), "web");
        let mut fan = pod("shop", "fan", "c", "", 600, GI);
        fan.pod_affinity = vec![term("web")];
        let pin = pod("shop", "pin-b", "b", "", 100, GI);
        let p = run(
            spec(abc(), vec![x.clone(), pin.clone(), fan.clone()]),
            SafetyLevel::Conservative,
        );
        assert_eq!(moves(&p), vec![("x".into(), "a", "c", 1)]);
        fan.pod_affinity.clear();
        let p = run(spec(abc(), vec![x, pin, fan]), SafetyLevel::Conservative);
        assert_eq!(moves(&p), vec![("x".into(), "a", "b", 1)]);
    }

    /// b and c are alike in CPU and memory, so they tie for x; the plan names the tie.
    #[test]
    fn ties_are_reported() {
        let p = run(
            spec(
                abc(),
                vec![
                    pod("shop", "x", "a", "web", 200, GI),
                    pod("ops", "pin-b", "b", "", 500, GI),
                    pod("ops", "pin-c", "c", "", 500, GI),
                ],
            ),
            SafetyLevel::Conservative,
        );
        assert_eq!(moves(&p), vec![("x".into(), "a", "b", 1)]);
        assert_eq!(p.moves[0].tied_with, vec!["c".to_string()]);
        assert_eq!(p.summary.tied_predictions, 1);
    }

    /// `n` with 100 GiB of ephemeral storage.
    fn disk(mut n: NodeSpec) -> NodeSpec {
        n.allocatable = n.allocatable.with("ephemeral-storage", 100 * GI);
        n
    }

    /// `p` requesting `gi` GiB of ephemeral storage.
    fn with_disk(mut p: PodSpec, gi: u64) -> PodSpec {
        p.containers[0].requests = p.containers[0]
            .requests
            .clone()
            .with("ephemeral-storage", gi * GI);
        p
    }

    /// The same tie, but c's ephemeral storage (100 GiB, 65 GiB requested) would go to 75 %
    /// with x's 10 GiB, over the 70 % cap. Scores ignore ephemeral storage, so c still ties
    /// with b and kube-scheduler may pick it. The plan steers: c is cordoned right before x's
    /// eviction (`cordonFirst`), and kube-scheduler's only choice left is b.
    #[test]
    fn the_cap_must_hold_on_every_tied_node() {
        let p = run(
            spec(
                abc().into_iter().map(disk).collect(),
                vec![
                    with_disk(pod("shop", "x", "a", "web", 200, GI), 10),
                    pod("ops", "pin-b", "b", "", 500, GI),
                    with_disk(pod("ops", "pin-c", "c", "", 500, GI), 65),
                ],
            ),
            SafetyLevel::Conservative,
        );
        assert_eq!(drained(&p), vec!["a"]);
        assert_eq!(moves(&p), vec![("x".into(), "a", "b", 1)]);
        assert_eq!(p.moves[0].cordon_first, vec!["c".to_string()]);
        assert!(p.moves[0].tied_with.is_empty());
        assert!(
            p.notes
                .iter()
                .any(|n| n.starts_with("1 kept node(s) are cordoned during the plan to steer")),
            "{:?}",
            p.notes
        );
    }

    /// Twenty nodes c00…c19 hold 65 GiB of ephemeral storage each and little else: for
    /// kube-scheduler they are the roomiest, but x's 10 GiB would take each to 75 %, over the
    /// 70 % cap. Steering x off them takes 20 cordons, more than the 16 of the first pass, so
    /// a fails there; tried again at the end of the order (up to 64 cordons, nothing comes
    /// after it) it drains: x lands on b with all twenty cordoned first.
    #[test]
    fn a_retried_drain_may_steer_further() {
        let baits: Vec<String> = (0..20).map(|i| format!("c{i:02}")).collect();
        let mut nodes = vec![node("a", 4000, 16 * GI), node("b", 4000, 16 * GI)];
        nodes.extend(baits.iter().map(|c| node(c, 4000, 16 * GI)));
        let mut pods = vec![
            with_disk(pod("shop", "x", "a", "web", 200, GI), 10),
            pod("ops", "pin-b", "b", "", 500, GI),
        ];
        pods.extend(
            baits
                .iter()
                .map(|c| with_disk(pod("ops", &format!("pin-{c}"), c, "", 100, GI), 65)),
        );
        let p = run(
            spec(nodes.into_iter().map(disk).collect(), pods),
            SafetyLevel::Conservative,
        );
        assert_eq!(drained(&p), vec!["a"]);
        assert_eq!(moves(&p), vec![("x".into(), "a", "b", 1)]);
        let mut steered = p.moves[0].cordon_first.clone();
        steered.sort();
        assert_eq!(steered, baits);
        assert!(p.cordon_only.is_empty(), "{:?}", p.cordon_only);
    }
}

/// Where kube-scheduler may put a replacement that the plan cannot accept.
mod off_plan {
    use super::*;
    use compactor_core::model::{Toleration, TolerationOperator};

    /// b (1.5 CPU used) has room under the 70 % cap for x (1 CPU) from a — unless the
    /// pending pod p (1 CPU) takes it first: kube-scheduler places p as soon as it fits, and
    /// b at 2.5 CPU cannot take x as well (3.5 CPU, 88 %). So a stays, and the plan says why.
    #[test]
    fn pending_pods_take_their_room_first() {
        let spec = |pending: bool| {
            let mut pods = vec![
                pod("shop", "x", "a", "web", 1000, GI),
                pod("ops", "pin-b", "b", "", 1500, GI),
            ];
            if pending {
                let mut p = pod("shop", "p", "a", "", 1000, GI);
                p.node_name = None;
                pods.push(p);
            }
            SnapshotSpec {
                nodes: vec![node("a", 4000, 16 * GI), node("b", 4000, 16 * GI)],
                pods,
                pdbs: vec![],
                ..Default::default()
            }
        };
        let p = run(spec(false), SafetyLevel::Conservative);
        assert_eq!(moves(&p), vec![("x".into(), "a", "b", 1)]);
        let p = run(spec(true), SafetyLevel::Conservative);
        assert!(p.drain.is_empty());
        assert_eq!(kept_code(&p, "a"), ReasonCode::SchedulerOverCap);
        assert!(
            p.kept[0]
                .reason
                .message
                .contains("on node b, taking its cpu to 88 %"),
            "{}",
            p.kept[0].reason.message
        );
        assert!(
            p.notes
                .iter()
                .any(|n| n.starts_with("1 pending pod(s) fit"))
        );
    }

    /// b carries `maintenance=soon:NoExecute`; x tolerates it, but for 60 s only. The filter
    /// lets kube-scheduler put x on b (100m used, against c's 2 CPU), and the taint manager would evict it
    /// again a minute later: a stays. With a permanent toleration x goes to b.
    #[test]
    fn a_timed_no_execute_toleration_is_not_a_home() {
        let spec = |seconds: Option<i64>| {
            let mut x = pod("shop", "x", "a", "web", 200, GI);
            x.tolerations = vec![Toleration {
                key: Some("maintenance".into()),
                operator: TolerationOperator::Exists,
                effect: Some(compactor_core::model::TaintEffect::NoExecute),
                toleration_seconds: seconds,
                ..Default::default()
            }];
            let mut b = node("b", 4000, 16 * GI);
            b.taints = vec![compactor_core::model::Taint {
                key: "maintenance".into(),
                value: Some("soon".into()),
                effect: compactor_core::model::TaintEffect::NoExecute,
            }];
            SnapshotSpec {
                nodes: vec![node("a", 4000, 16 * GI), b, node("c", 4000, 16 * GI)],
                pods: vec![
                    x,
                    pod("ops", "pin-b", "b", "", 100, GI),
                    pod("ops", "pin-c", "c", "", 2000, GI),
                ],
                pdbs: vec![],
                ..Default::default()
            }
        };
        let p = run(spec(None), SafetyLevel::Conservative);
        assert_eq!(moves(&p), vec![("x".into(), "a", "b", 1)]);
        let p = run(spec(Some(60)), SafetyLevel::Conservative);
        assert!(p.drain.is_empty());
        assert_eq!(kept_code(&p, "a"), ReasonCode::SchedulerOffPlan);
        assert_eq!(
            p.kept[0].reason.message,
            "kube-scheduler could place pod shop/x on node b, which is tainted maintenance=soon:NoExecute, which the pod tolerates for 60 s only (tolerationSeconds): it would be evicted again"
        );
    }

    /// x (200m, 1 GiB) on a tolerates every taint, `node.kubernetes.io/unschedulable`
    /// included, so kube-scheduler may put its replacement back on a, cordoned for the drain.
    /// a (still holding the terminating x: 400m, 2 GiB) scores 88 + 98 = 186 against b's
    /// (2.2 CPU) 66 + 78 = 144: the replacement would land on a, which then cannot be emptied.
    /// Without the toleration x goes to b.
    #[test]
    fn a_pod_that_tolerates_the_cordon_can_land_back_on_its_node() {
        let spec = |tolerate: bool| {
            let mut x = pod("shop", "x", "a", "web", 200, GI);
            if tolerate {
                x.tolerations = vec![Toleration {
                    operator: TolerationOperator::Exists,
                    ..Default::default()
                }];
            }
            SnapshotSpec {
                nodes: vec![node("a", 4000, 16 * GI), node("b", 4000, 16 * GI)],
                pods: vec![x, pod("ops", "pin-b", "b", "", 2000, GI)],
                pdbs: vec![],
                ..Default::default()
            }
        };
        let p = run(spec(false), SafetyLevel::Conservative);
        assert_eq!(moves(&p), vec![("x".into(), "a", "b", 1)]);
        let p = run(spec(true), SafetyLevel::Conservative);
        assert!(p.drain.is_empty());
        assert_eq!(kept_code(&p, "a"), ReasonCode::SchedulerOffPlan);
        assert_eq!(
            p.kept[0].reason.message,
            "kube-scheduler could place pod shop/x on node a, which is cordoned by this plan"
        );
        // Nothing is drained, so nothing needs a protective cordon.
        assert!(p.cordon_only.is_empty());
    }
}

/// A terminating pod (`deletionTimestamp` set) goes away by itself: it neither blocks its
/// node nor is moved, still holds its resources (kube-scheduler counts it until it is gone),
/// and no longer counts for spreading.
mod terminating {
    use super::*;

    /// a holds a bare pod that is terminating and a Deployment pod x: without the
    /// terminating flag the bare pod blocks a (no-controller); with it a is drained and only
    /// x moves. b keeps the terminating pod's 3 CPU: x (1 CPU) does not fit there under the
    /// 70 % cap (4 of 4 CPU), so it goes to c.
    #[test]
    fn a_terminating_pod_neither_blocks_nor_moves_but_holds_its_room() {
        let spec = |terminating: bool| {
            let mut bare = pod("ops", "old", "a", "", 100, GI);
            bare.terminating = terminating;
            let mut leaving = pod("ops", "leaving", "b", "", 3000, GI);
            leaving.terminating = true;
            SnapshotSpec {
                nodes: vec![
                    node("a", 4000, 16 * GI),
                    node("b", 4000, 16 * GI),
                    node("c", 4000, 16 * GI),
                ],
                pods: vec![
                    bare,
                    pod("shop", "x", "a", "web", 1000, GI),
                    leaving,
                    pod("ops", "pin-c", "c", "", 1500, GI),
                ],
                pdbs: vec![],
                ..Default::default()
            }
        };
        let p = run(spec(false), SafetyLevel::Conservative);
        assert_eq!(kept_code(&p, "a"), ReasonCode::NoController);
        let p = run(spec(true), SafetyLevel::Conservative);
        assert!(drained(&p).contains(&"a"), "{:?}", drained(&p));
        assert_eq!(moves(&p), vec![("x".into(), "a", "c", 1)]);
    }
}

/// In doubt, the pod stays: what the input leaves out.
mod missing_input {
    use super::*;
    use compactor_core::model::{LabelSelector, PodAffinityTerm};

    /// guard on b keeps pods labelled app=web of namespaces labelled team=shop off its node.
    /// x (app=web, namespace shop) on a can go to b only if shop is not team=shop — which the
    /// input must say. Namespace listed with team=shop: x cannot move (no-fit); listed
    /// without it: x moves to b; not listed at all: x stays with missing-input.
    #[test]
    fn a_namespace_selector_needs_the_namespace_labels() {
        let spec = |namespace: Option<&str>| {
            let mut x = pod("shop", "x", "a", "web", 500, GI);
            x.labels.insert("app".into(), "web".into());
            let mut guard = pod("ops", "guard", "b", "", 100, GI);
            guard.pod_anti_affinity = vec![PodAffinityTerm {
                label_selector: Some(LabelSelector {
                    match_labels: [("app".to_string(), "web".to_string())].into(),
                    ..Default::default()
                }),
                namespace_selector: Some(LabelSelector {
                    match_labels: [("team".to_string(), "shop".to_string())].into(),
                    ..Default::default()
                }),
                topology_key: "kubernetes.io/hostname".into(),
                ..Default::default()
            }];
            let mut namespaces = std::collections::BTreeMap::new();
            if let Some(team) = namespace {
                namespaces.insert(
                    "shop".to_string(),
                    [("team".to_string(), team.to_string())].into(),
                );
                namespaces.insert("ops".to_string(), Default::default());
            }
            SnapshotSpec {
                nodes: vec![node("a", 4000, 16 * GI), node("b", 4000, 16 * GI)],
                pods: vec![x, guard],
                pdbs: vec![],
                namespaces,
            }
        };
        let p = run(spec(Some("shop")), SafetyLevel::Conservative);
        assert_eq!(kept_code(&p, "a"), ReasonCode::NoFit);
        let p = run(spec(Some("other")), SafetyLevel::Conservative);
        assert_eq!(moves(&p), vec![("x".into(), "a", "b", 1)]);
        let p = run(spec(None), SafetyLevel::Conservative);
        assert_eq!(kept_code(&p, "a"), ReasonCode::MissingInput);
        assert!(
            p.kept[0].reason.message.starts_with(
                "shop/x: pod guard's anti-affinity selects namespaces by label, and the input has no labels for namespace shop"
            ),
            "{}",
            p.kept[0].reason.message
        );
        assert!(
            p.notes
                .iter()
                .any(|n| n.starts_with("1 pod(s) stay because"))
        );
    }
}

/// ImageLocality (weight 1): nodes that already hold the pod's image score higher.
mod images {
    use super::*;
    use compactor_core::model::NodeImage;

    /// b and c are alike (500m used each), so x would tie between them; c holds x's image
    /// (900 MiB): sum 900 MiB · 1/3 nodes = 300 MiB → 100 · (300 − 23) / (1000 − 23) = 28,
    /// so x goes to c, and no tie is reported.
    #[test]
    fn a_node_with_the_image_wins_a_tie() {
        let spec = |image_on_c: bool| {
            let mut x = pod("shop", "x", "a", "web", 200, GI);
            x.images = vec!["registry.example/web:1.4".into()];
            let mut c = node("c", 4000, 16 * GI);
            if image_on_c {
                c.images = vec![NodeImage {
                    names: vec!["registry.example/web:1.4".into()],
                    size_bytes: 900 << 20,
                }];
            }
            SnapshotSpec {
                nodes: vec![node("a", 4000, 16 * GI), node("b", 4000, 16 * GI), c],
                pods: vec![
                    x,
                    pod("ops", "pin-b", "b", "", 500, GI),
                    pod("ops", "pin-c", "c", "", 500, GI),
                ],
                pdbs: vec![],
                ..Default::default()
            }
        };
        let p = run(spec(false), SafetyLevel::Conservative);
        assert_eq!(moves(&p), vec![("x".into(), "a", "b", 1)]);
        assert_eq!(p.moves[0].tied_with, vec!["c".to_string()]);
        let p = run(spec(true), SafetyLevel::Conservative);
        assert_eq!(moves(&p), vec![("x".into(), "a", "c", 1)]);
        assert!(p.moves[0].tied_with.is_empty());
    }
}

/// CSI attach limits (kube-scheduler's NodeVolumeLimits) and ReadWriteOncePod claims.
mod attach_limits {
    use super::*;

    const EBS: &str = "ebs.csi.aws.com";

    fn with_csi_volume(mut p: PodSpec, claim: &str, rwop: bool) -> PodSpec {
        p.owner = Some(OwnerRef {
            kind: "StatefulSet".into(),
            name: p.name.trim_end_matches(|c: char| c.is_ascii_digit()).into(),
        });
        p.volumes.push(VolumeSpec {
            name: "data".into(),
            source: VolumeSource::PersistentVolumeClaim {
                claim_name: claim.into(),
                node_affinity: vec![],
                unresolved: None,
                csi_driver: Some(EBS.into()),
                read_write_once_pod: rwop,
            },
        });
        p
    }

    /// db-0 (CSI volume) on a can go only to b, where db-1 (a bare pod: b stays) already has a
    /// volume attached.
    /// With b's CSINode allowing 1 EBS volume, b is full for attachments: db-0 stays (no-fit,
    /// naming the attach count); allowing 2, it moves. Without a CSINode for b the limit is
    /// unknown: db-0 stays (missing-input), and the notes say which dump carries CSINodes.
    #[test]
    fn a_node_attaches_no_more_volumes_than_its_csinode_allows() {
        let spec = |limit_on_b: Option<u64>| {
            let limits = |n: u64| Some([(EBS.to_string(), n)].into());
            let mut a = node("a", 4000, 16 * GI);
            a.attach_limits = limits(25);
            let mut b = node("b", 4000, 16 * GI);
            b.attach_limits = limit_on_b.and_then(limits);
            SnapshotSpec {
                nodes: vec![a, b],
                pods: vec![
                    with_csi_volume(pod("data", "db-0", "a", "db", 500, GI), "data-db-0", false),
                    // A bare pod: b stays.
                    PodSpec {
                        owner: None,
                        ..with_csi_volume(pod("data", "db-1", "b", "", 500, GI), "data-db-1", false)
                    },
                ],
                pdbs: vec![],
                ..Default::default()
            }
        };
        let p = run(spec(Some(1)), SafetyLevel::Conservative);
        assert!(p.drain.is_empty(), "{:?}", p.drain);
        assert_eq!(kept_code(&p, "a"), ReasonCode::NoFit);
        let a = p.kept.iter().find(|k| k.node == "a").expect("a kept");
        assert!(
            a.reason
                .message
                .contains("CSI volume attachments (ebs.csi.aws.com)"),
            "{}",
            a.reason.message
        );
        let p = run(spec(Some(2)), SafetyLevel::Conservative);
        assert_eq!(moves(&p), vec![("db-0".into(), "a", "b", 1)]);
        let p = run(spec(None), SafetyLevel::Conservative);
        assert_eq!(kept_code(&p, "a"), ReasonCode::MissingInput);
        let a = p.kept.iter().find(|k| k.node == "a").expect("a kept");
        assert!(
            a.reason.message.contains(
                "data/db-0 uses volume data of CSI driver ebs.csi.aws.com, and the input has no CSINode for node b"
            ),
            "{}",
            a.reason.message
        );
        assert!(
            p.notes
                .iter()
                .any(|n| n.starts_with("1 pod(s) use CSI volumes") && n.contains("csinodes")),
            "{:?}",
            p.notes
        );
    }

    /// A ReadWriteOncePod claim does not change where the replacement goes (the evicted pod
    /// is on a cordoned node), only when: the plan says kube-scheduler waits for the evicted
    /// pod to be gone.
    #[test]
    fn a_read_write_once_pod_claim_is_noted() {
        let mut a = node("a", 4000, 16 * GI);
        a.attach_limits = Some(Default::default());
        let mut b = node("b", 4000, 16 * GI);
        b.attach_limits = Some(Default::default());
        let p = run(
            SnapshotSpec {
                nodes: vec![a, b],
                pods: vec![
                    with_csi_volume(pod("data", "db-0", "a", "db", 500, GI), "data-db-0", true),
                    pod("ops", "pin", "b", "", 1000, GI),
                ],
                pdbs: vec![],
                ..Default::default()
            },
            SafetyLevel::Conservative,
        );
        assert_eq!(moves(&p), vec![("db-0".into(), "a", "b", 1)]);
        assert!(
            p.notes
                .iter()
                .any(|n| n.starts_with("1 moved pod(s) use ReadWriteOncePod claims")),
            "{:?}",
            p.notes
        );
    }
}

/// A candidate whose replacement kube-scheduler would put where the plan may not costs that
/// node only: it stays, cordoned while the plan runs, and the candidates after it still go.
mod cordon_only {
    use super::*;
    use compactor_core::model::{Taint, TaintEffect, Toleration, TolerationOperator};

    /// Nodes of 4000m / 16 GiB, conservative (cap 2800m). b carries `maintenance:NoExecute`
    /// and a bare pod (it stays); c holds a bare 2000m pod (it stays). Candidates: a (x,
    /// 200m, tolerates the maintenance taint for 60 s) then e (y, 300m).
    /// - x: feasible b (100m) and c (2000m); LeastAllocated picks b, where x would be evicted
    ///   again after 60 s: a cannot be emptied (scheduler-off-plan). a stays, but cordoned.
    /// - y: a and e are cordoned, b's taint is not tolerated: c, at 2300m (57.5 %). e drains.
    ///
    /// Were a not cordoned, y would go to a (200m, the emptiest), a prediction the plan
    /// could not keep once a is uncordoned; and with the old replay, a failing candidate
    /// could defer every candidate after it.
    #[test]
    fn a_failing_candidate_stays_cordoned_and_the_next_one_drains() {
        let mut x = pod("shop", "x", "a", "web", 200, GI);
        x.tolerations = vec![Toleration {
            key: Some("maintenance".into()),
            operator: TolerationOperator::Exists,
            value: None,
            effect: Some(TaintEffect::NoExecute),
            toleration_seconds: Some(60),
        }];
        let mut b = node("b", 4000, 16 * GI);
        b.taints = vec![Taint {
            key: "maintenance".into(),
            value: None,
            effect: TaintEffect::NoExecute,
        }];
        let mut pin_b = pod("ops", "pin-b", "b", "", 100, GI);
        pin_b.tolerations = x.tolerations.clone();
        pin_b.tolerations[0].toleration_seconds = None;
        let spec = SnapshotSpec {
            nodes: vec![
                node("a", 4000, 16 * GI),
                b,
                node("c", 4000, 16 * GI),
                node("e", 4000, 16 * GI),
            ],
            pods: vec![
                x,
                pod("shop", "y", "e", "api", 300, GI),
                pin_b,
                pod("ops", "pin-c", "c", "", 2000, GI),
            ],
            pdbs: vec![],
            ..Default::default()
        };
        let p = run(spec, SafetyLevel::Conservative);
        assert_eq!(drained(&p), vec!["e"]);
        assert_eq!(p.cordon_only, vec!["a".to_string()]);
        assert_eq!(moves(&p), vec![("y".into(), "e", "c", 1)]);
        assert_eq!(kept_code(&p, "a"), ReasonCode::SchedulerOffPlan);
        let a = p.kept.iter().find(|k| k.node == "a").expect("a kept");
        assert!(
            a.reason.message.ends_with(
                "; the node stays, cordoned while the plan runs so that the other predictions hold"
            ),
            "{}",
            a.reason.message
        );
    }
}

/// Impossible input: a pod requesting more than its node's allocatable. The node is kept as
/// over-committed (its pods fit nowhere as stated), the bound leaves the over-committed
/// dimension out, the plan keeps at least the bound, and the checker accepts the plan but
/// refuses a hand-edited one that drains the node.
#[test]
fn an_over_committed_node_is_kept_and_said_so() {
    let spec = SnapshotSpec {
        nodes: nodes3(),
        pods: vec![
            pod("shop", "huge", "a", "huge", 100_000, GI),
            pod("shop", "web-1", "b", "web", 500, GI),
            pod("shop", "web-2", "c", "web", 500, GI),
        ],
        ..Default::default()
    };
    let p = run(spec.clone(), SafetyLevel::Aggressive);
    assert_eq!(kept_code(&p, "a"), ReasonCode::NodeOverCommitted);
    let a = p.kept.iter().find(|k| k.node == "a").unwrap();
    assert!(
        a.reason
            .message
            .starts_with("node a is over-committed: its pods request 100.00 CPU of"),
        "{}",
        a.reason.message
    );
    assert!(p.summary.nodes_after >= p.lower_bound.nodes);
    let snap = Snapshot::new(spec).unwrap();
    let options = PlanOptions::default().with_safety(SafetyLevel::Aggressive);
    assert_eq!(verify(&snap, &p, &options), vec![]);
    let mut forged = p.clone();
    forged.kept.retain(|k| k.node != "a");
    forged.drain.push(p.drain.first().cloned().map_or_else(
        || panic!("the plan drains b or c"),
        |mut d| {
            d.node = "a".into();
            d
        },
    ));
    let v = verify(&snap, &forged, &options);
    assert!(
        v.iter().any(|v| v
            .to_string()
            .contains("its pods request more cpu than it has allocatable")),
        "{v:?}"
    );
}
