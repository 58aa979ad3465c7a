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
use compactor_core::verify::verify;
use compactor_core::{Plan, Snapshot};

fn run(spec: SnapshotSpec, safety: SafetyLevel) -> Plan {
    let snap = Snapshot::new(spec).expect("valid snapshot");
    let opts = PlanOptions {
        safety,
        ..PlanOptions::default()
    };
    let p = plan(&snap, &opts).expect("plan");
    assert_eq!(
        verify(&snap, &p, &opts),
        Vec::<String>::new(),
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
    };
    let p = run(spec.clone(), SafetyLevel::Conservative);
    assert!(p.drain.is_empty());
    assert_eq!(
        p.kept[0].reason.message,
        "pod shop/web-1 needs 200m more cpu than the roomiest kept node (b) has free under the 70 % cap"
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
    };
    let p = run(spec, SafetyLevel::Conservative);
    assert!(p.drain.is_empty());
    assert_eq!(kept_code(&p, "a"), ReasonCode::NoFit);
    assert_eq!(
        p.kept[0].reason.message,
        "pod ml/trainer needs 700m more cpu than the roomiest kept node (b) has free under the 70 % cap"
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

/// Not Ready, cordoned and excluded nodes are never drained and never receive pods.
#[test]
fn node_level_rules() {
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
    let pods = vec![
        pod("shop", "web-1", "a", "web", 500, GI),
        pod("shop", "web-2", "b", "web", 100, GI),
    ];
    let p = run(
        SnapshotSpec {
            nodes,
            pods,
            pdbs: vec![],
        },
        SafetyLevel::Aggressive,
    );
    assert!(p.drain.is_empty(), "a's pod has no eligible receiver");
    assert_eq!(kept_code(&p, "a"), ReasonCode::NoFit);
    assert_eq!(
        p.kept[0].reason.message,
        "pod shop/web-1 has nowhere to go: every other node is drained, cordoned, not Ready or excluded"
    );
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
        };
        let snap = Snapshot::new(spec).expect("valid");
        let got = classify_pod(
            &snap,
            &snap.pods()[0],
            &PlanOptions::default().excluded_namespaces,
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
    let opts = PlanOptions {
        excluded_namespaces: Default::default(),
        ..PlanOptions::default()
    };
    let spec = SnapshotSpec {
        nodes: vec![node("a", 4000, 16 * GI)],
        pods: vec![ks.clone()],
        pdbs: vec![],
    };
    let snap = Snapshot::new(spec).expect("valid");
    let got = classify_pod(&snap, &snap.pods()[0], &opts.excluded_namespaces);
    assert!(
        matches!(got, PodDisposition::Blocks(ref r) if r.code == ReasonCode::KubeSystemNoPdb),
        "{got:?}"
    );
    ks.labels.insert("app".into(), "coredns".into());
    let spec = SnapshotSpec {
        nodes: vec![node("a", 4000, 16 * GI)],
        pods: vec![ks],
        pdbs: vec![pdb("kube-system", "coredns", "coredns", 1)],
    };
    let snap = Snapshot::new(spec).expect("valid");
    assert_eq!(
        classify_pod(&snap, &snap.pods()[0], &opts.excluded_namespaces),
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
        },
    });
    db.readiness_probe = false;
    let spec = SnapshotSpec {
        nodes: vec![node("a", 4000, 16 * GI), node("b", 4000, 16 * GI)],
        pods: vec![db, pod("shop", "api-1", "b", "api", 1000, GI)],
        pdbs: vec![],
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
