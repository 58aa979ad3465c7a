//! The independent checker against hand-edited plans: each edit breaks one promise, and the
//! checker must reject it for that reason (and only that one).
//!
//! The cluster: four nodes of 8000m / 32 GiB, conservative threshold (cap 70 %: 5600m,
//! 22.4 GiB; one node per wave).
//! - `a`: web-1, web-2 (Deployment web, 500m / 1 GiB each, PDB `shop/web` allows 1)
//! - `b`: api-1 (Deployment api, 500m / 1 GiB)
//! - `c`: db-1 (Deployment db, 3000m / 8 GiB)
//! - `d`: db-2 (Deployment db, 3000m / 8 GiB)
//!
//! Hand-worked plan: `b` is emptiest (500m), then `a` (1000m); both drain, since `c` and `d`
//! have room under the cap. kube-scheduler's LeastAllocated sends api-1 to `c` (a tie with `d`
//! at 3000m: first by name); `c` then holds 3500m and `d` 3000m, so web-1 goes to `d`, and
//! web-2 ties again and goes to `c`. `c` and `d` stay (draining either would put 6500m on the
//! other, over 5600m). Waves: b's eviction is wave 1; a's two evictions are one wave each (one
//! node per wave, and the web budget allows 1).

use compactor_core::Snapshot;
use compactor_core::model::{
    InitContainerSpec, OwnerRef, PodSpec, SnapshotSpec, Taint, TaintEffect, Toleration,
    TolerationOperator, VolumeSource, VolumeSpec,
};
use compactor_core::plan::{Plan, PlanOptions, plan};
use compactor_core::resources::ResourceList;
use compactor_core::testing::{GI, node, pdb, pod};
use compactor_core::verify::{Constraint, NodeRule, PodRule, Violation, verify};

fn labelled(mut p: PodSpec, app: &str) -> PodSpec {
    p.labels.insert("app".into(), app.into());
    p
}

fn base_spec() -> SnapshotSpec {
    SnapshotSpec {
        nodes: ["a", "b", "c", "d"]
            .iter()
            .map(|n| node(n, 8000, 32 * GI))
            .collect(),
        pods: vec![
            labelled(pod("shop", "web-1", "a", "web", 500, GI), "web"),
            labelled(pod("shop", "web-2", "a", "web", 500, GI), "web"),
            labelled(pod("shop", "api-1", "b", "api", 500, GI), "api"),
            labelled(pod("shop", "db-1", "c", "db", 3000, 8 * GI), "db"),
            labelled(pod("shop", "db-2", "d", "db", 3000, 8 * GI), "db"),
        ],
        pdbs: vec![pdb("shop", "web", "web", 1)],
        ..Default::default()
    }
}

fn snap(spec: SnapshotSpec) -> Snapshot {
    Snapshot::new(spec).expect("valid snapshot")
}

fn base() -> (Snapshot, Plan, PlanOptions) {
    let s = snap(base_spec());
    let opts = PlanOptions::default();
    let p = plan(&s, &opts).expect("plan");
    (s, p, opts)
}

/// The base plan is what the module comment works out, and the checker accepts it.
#[test]
fn the_base_plan_is_valid() {
    let (s, p, opts) = base();
    let drained: Vec<&str> = p.drain.iter().map(|d| d.node.as_str()).collect();
    assert_eq!(drained, ["b", "a"]);
    let moves: Vec<(&str, &str, u32)> = p
        .moves
        .iter()
        .map(|m| (m.pod.as_str(), m.to_node.as_str(), m.wave))
        .collect();
    assert_eq!(
        moves,
        [("api-1", "c", 1), ("web-1", "d", 2), ("web-2", "c", 3)]
    );
    // api-1 ties c with d; web-2 does not tie (system default spreading: web-1 is on d).
    assert_eq!(p.moves[0].tied_with, ["d"]);
    assert!(p.moves[2].tied_with.is_empty());
    assert_eq!(verify(&s, &p, &opts), vec![]);
}

/// The checker's verdict on the base plan against an edited snapshot.
fn with_snapshot(edit: impl FnOnce(&mut SnapshotSpec)) -> Vec<Violation> {
    let (_, p, opts) = base();
    let mut spec = base_spec();
    edit(&mut spec);
    verify(&snap(spec), &p, &opts)
}

/// The checker's verdict on an edited base plan.
fn with_plan(edit: impl FnOnce(&mut Plan)) -> Vec<Violation> {
    let (s, mut p, opts) = base();
    edit(&mut p);
    verify(&s, &p, &opts)
}

fn pod_mut<'a>(spec: &'a mut SnapshotSpec, name: &str) -> &'a mut PodSpec {
    spec.pods.iter_mut().find(|p| p.name == name).expect("pod")
}

fn not_movable(pod: &str, rule: PodRule) -> Violation {
    Violation::NotMovable {
        pod: format!("shop/{pod}"),
        rule,
    }
}

fn placement(pod: &str, node: &str, tied: bool, constraint: Constraint) -> Violation {
    Violation::Placement {
        pod: format!("shop/{pod}"),
        node: node.into(),
        tied,
        constraint,
    }
}

#[test]
fn a_bare_pod_on_a_drained_node() {
    // Moved: nothing would recreate it.
    let v = with_snapshot(|s| pod_mut(s, "web-1").owner = None);
    assert_eq!(v, [not_movable("web-1", PodRule::NoController)]);
    // Left where it is: the node cannot be emptied.
    let (_, mut p, opts) = base();
    p.moves.retain(|m| m.pod != "web-1");
    p.waves.retain(|w| w.index != 2);
    let mut spec = base_spec();
    pod_mut(&mut spec, "web-1").owner = None;
    assert_eq!(
        verify(&snap(spec), &p, &opts),
        [Violation::DrainBlocked {
            node: "a".into(),
            pod: "shop/web-1".into(),
            rule: PodRule::NoController
        }]
    );
}

#[test]
fn a_pod_that_opts_out() {
    let v = with_snapshot(|s| {
        pod_mut(s, "web-1").annotations.insert(
            "cluster-autoscaler.kubernetes.io/safe-to-evict".into(),
            "false".into(),
        );
    });
    assert_eq!(
        v,
        [not_movable(
            "web-1",
            PodRule::OptOut {
                annotation: "cluster-autoscaler.kubernetes.io/safe-to-evict".into(),
                value: "false".into()
            }
        )]
    );
    assert_eq!(
        v[0].to_string(),
        "pod shop/web-1 is moved, but it opts out with annotation cluster-autoscaler.kubernetes.io/safe-to-evict: \"false\""
    );
}

#[test]
fn a_pod_under_two_budgets() {
    let v = with_snapshot(|s| s.pdbs.push(pdb("shop", "web-all", "web", 5)));
    let rule = PodRule::SeveralPdbs {
        pdbs: vec!["shop/web".into(), "shop/web-all".into()],
    };
    assert_eq!(
        v,
        [
            not_movable("web-1", rule.clone()),
            not_movable("web-2", rule)
        ]
    );
}

#[test]
fn every_other_pod_rule() {
    type Edit = Box<dyn Fn(&mut PodSpec)>;
    let cases: Vec<(Edit, PodRule)> = vec![
        (
            Box::new(|p| {
                p.annotations
                    .insert("kubernetes.io/config.mirror".into(), "x".into());
            }),
            PodRule::MirrorPod,
        ),
        (
            Box::new(|p| {
                p.owner = Some(OwnerRef {
                    kind: "DaemonSet".into(),
                    name: "agent".into(),
                })
            }),
            PodRule::DaemonSet,
        ),
        (Box::new(|p| p.terminating = true), PodRule::Terminating),
        (
            Box::new(|p| p.priority_class_name = Some("system-cluster-critical".into())),
            PodRule::SystemCritical,
        ),
        (
            Box::new(|p| {
                p.volumes.push(VolumeSpec {
                    name: "scratch".into(),
                    source: VolumeSource::EmptyDir { memory: false },
                })
            }),
            PodRule::LocalStorage {
                volume: "scratch".into(),
            },
        ),
        (
            Box::new(|p| {
                p.volumes.push(VolumeSpec {
                    name: "data".into(),
                    source: VolumeSource::PersistentVolumeClaim {
                        claim_name: "data-web-1".into(),
                        node_affinity: vec![],
                        unresolved: Some("claim data-web-1 is missing from the input".into()),
                        csi_driver: None,
                        read_write_once_pod: false,
                    },
                })
            }),
            PodRule::UnresolvedClaim {
                volume: "data".into(),
                why: "claim data-web-1 is missing from the input".into(),
            },
        ),
        (
            Box::new(|p| p.scheduler_name = Some("volcano".into())),
            PodRule::SchedulerNotModelled {
                scheduler: "volcano".into(),
            },
        ),
    ];
    for (edit, rule) in cases {
        let v = with_snapshot(|s| edit(pod_mut(s, "web-1")));
        assert_eq!(v, [not_movable("web-1", rule)]);
    }
}

#[test]
fn an_excluded_namespace_and_an_exhausted_budget() {
    let (s, p, mut opts) = base();
    opts.excluded_namespaces.insert("shop".into());
    let v = verify(&s, &p, &opts);
    assert_eq!(
        v,
        ["api-1", "web-1", "web-2"].map(|x| not_movable(x, PodRule::NamespaceExcluded))
    );
    let v = with_snapshot(|s| s.pdbs[0].disruptions_allowed = 0);
    let exhausted = PodRule::BudgetExhausted {
        pdb: "shop/web".into(),
    };
    assert!(
        v.contains(&not_movable("web-1", exhausted.clone())),
        "{v:?}"
    );
    assert!(v.contains(&not_movable("web-2", exhausted)), "{v:?}");
    assert!(
        v.contains(&Violation::BudgetOverspent {
            wave: 2,
            pdb: "shop/web".into(),
            evictions: 1,
            allowed: 0
        }),
        "{v:?}"
    );
}

#[test]
fn node_rules_on_drained_nodes() {
    let v = with_snapshot(|s| {
        s.nodes[0]
            .annotations
            .insert("optimizer.io/exclude".into(), "true".into());
        s.nodes[1].unschedulable = true;
    });
    assert_eq!(
        v,
        [
            Violation::NodeNotDrainable {
                node: "a".into(),
                rule: NodeRule::Excluded
            },
            Violation::NodeNotDrainable {
                node: "b".into(),
                rule: NodeRule::Cordoned
            }
        ]
    );
}

#[test]
fn a_move_onto_a_full_node() {
    // db-1 grows to 7200m: c would hold 7200 + 500 + 500 > 8000.
    let v = with_snapshot(|s| {
        pod_mut(s, "db-1").containers[0].requests =
            ResourceList::new().with("cpu", 7200).with("memory", 8 * GI);
    });
    assert_eq!(
        v,
        [Violation::OverAllocatable {
            node: "c".into(),
            resource: "cpu".into(),
            requested: 8200,
            allocatable: 8000
        }]
    );
}

#[test]
fn a_move_over_the_cap() {
    // db-1 at 5000m: c ends at 5000 + 500 + 500 = 6000m, 75 % of 8000m, over 70 %.
    let v = with_snapshot(|s| {
        pod_mut(s, "db-1").containers[0].requests =
            ResourceList::new().with("cpu", 5000).with("memory", 8 * GI);
    });
    assert_eq!(
        v,
        [Violation::OverCap {
            node: "c".into(),
            resource: "cpu".into(),
            per_mille: 750,
            cap: 70
        }]
    );
    assert_eq!(
        v[0].to_string(),
        "node c receives pods and ends at 75.0 % of allocatable cpu, over the 70 % cap"
    );
}

#[test]
fn init_containers_count_as_kube_scheduler_counts_them() {
    // web-1's init container needs 6000m: its effective request is 6000m, and d (3000m)
    // would need 9000m.
    let v = with_snapshot(|s| {
        pod_mut(s, "web-1").init_containers.push(InitContainerSpec {
            name: "migrate".into(),
            requests: ResourceList::new().with("cpu", 6000),
            sidecar: false,
        });
    });
    assert_eq!(
        v,
        [Violation::OverAllocatable {
            node: "d".into(),
            resource: "cpu".into(),
            requested: 9000,
            allocatable: 8000
        }]
    );
}

#[test]
fn receivers_that_cannot_take_the_pod() {
    // Onto a drained node.
    let v = with_plan(|p| p.moves[0].to_node = "a".into());
    assert!(
        v.contains(&placement("api-1", "a", false, Constraint::Drained)),
        "{v:?}"
    );
    // A node tied with the prediction that the plan drains.
    let v = with_plan(|p| p.moves[0].tied_with = vec!["b".into()]);
    assert_eq!(v, [placement("api-1", "b", true, Constraint::Drained)]);
    // An untolerated taint, and a NoExecute taint tolerated for a while only. api-1's
    // prediction ties `c` with `d`, so kube-scheduler may send it to `d` as well.
    let v = with_snapshot(|s| {
        s.nodes[3].taints = vec![Taint {
            key: "maintenance".into(),
            value: None,
            effect: TaintEffect::NoExecute,
        }];
    });
    let untolerated = || Constraint::UntoleratedTaint {
        taint: "maintenance:NoExecute".into(),
    };
    assert_eq!(
        v,
        [
            placement("api-1", "d", true, untolerated()),
            placement("web-1", "d", false, untolerated())
        ]
    );
    let v = with_snapshot(|s| {
        s.nodes[3].taints = vec![Taint {
            key: "maintenance".into(),
            value: None,
            effect: TaintEffect::NoExecute,
        }];
        pod_mut(s, "web-1").tolerations = vec![Toleration {
            key: Some("maintenance".into()),
            operator: TolerationOperator::Exists,
            value: None,
            effect: Some(TaintEffect::NoExecute),
            toleration_seconds: Some(300),
        }];
    });
    assert_eq!(
        v,
        [
            placement("api-1", "d", true, untolerated()),
            placement(
                "web-1",
                "d",
                false,
                Constraint::TimedToleration {
                    taint: "maintenance:NoExecute".into(),
                    seconds: 300
                }
            )
        ]
    );
}

#[test]
fn waves_that_overspend_a_budget_or_touch_too_many_nodes() {
    // web-2 joins web-1's wave: two evictions under a budget of 1.
    let v = with_plan(|p| {
        p.moves[2].wave = 2;
        p.waves.retain(|w| w.index != 3);
        p.waves[1].evictions = 2;
    });
    assert_eq!(
        v,
        [Violation::BudgetOverspent {
            wave: 2,
            pdb: "shop/web".into(),
            evictions: 2,
            allowed: 1
        }]
    );
    // Everything in wave 1: nodes b and a at once, one node per cycle allowed.
    let (_, mut p, opts) = base();
    for m in &mut p.moves {
        m.wave = 1;
    }
    p.waves.truncate(1);
    p.waves[0].nodes = vec!["b".into(), "a".into()];
    p.waves[0].evictions = 3;
    let mut spec = base_spec();
    spec.pdbs[0].disruptions_allowed = 2;
    assert_eq!(
        verify(&snap(spec), &p, &opts),
        [Violation::WaveTooWide {
            wave: 1,
            nodes: 2,
            max: 1
        }]
    );
}

#[test]
fn moves_out_of_order_twice_or_from_elsewhere() {
    let v = with_plan(|p| {
        let first = p.moves.remove(0);
        p.moves.push(first);
    });
    assert_eq!(
        v,
        [Violation::WaveOrder {
            pod: "shop/api-1".into(),
            wave: 1
        }]
    );
    let v = with_plan(|p| {
        let again = p.moves[2].clone();
        p.moves.push(again);
    });
    assert_eq!(
        v,
        [
            Violation::MovedTwice {
                pod: "shop/web-2".into(),
                times: 2
            },
            Violation::BudgetOverspent {
                wave: 3,
                pdb: "shop/web".into(),
                evictions: 2,
                allowed: 1
            },
            Violation::WaveList { wave: 3 }
        ]
    );
    let v = with_plan(|p| p.moves[1].from_node = "b".into());
    assert_eq!(
        v,
        [
            Violation::WrongSource {
                pod: "shop/web-1".into(),
                node: "b".into()
            },
            Violation::WaveList { wave: 2 }
        ]
    );
}

#[test]
fn a_pod_left_behind_and_bounds() {
    let v = with_plan(|p| {
        p.moves.pop();
        p.waves.pop();
    });
    assert_eq!(
        v,
        [Violation::LeftBehind {
            node: "a".into(),
            pod: "shop/web-2".into()
        }]
    );
    let v = with_plan(|p| p.lower_bound.nodes = 3);
    assert_eq!(
        v,
        [Violation::BelowLowerBound {
            kept: 2,
            bound: 3,
            by: "plan"
        }]
    );
    // Everything drained: nothing is left to hold db-1 and db-2.
    let v = with_plan(|p| {
        let kept: Vec<_> = p.kept.drain(..).collect();
        for k in kept {
            let mut d = p.drain[0].clone();
            d.node = k.node;
            p.drain.push(d);
        }
        p.lower_bound.nodes = 0;
    });
    assert!(
        v.contains(&Violation::BelowLowerBound {
            kept: 0,
            bound: 1,
            by: "checker"
        }),
        "{v:?}"
    );
    assert!(
        v.contains(&Violation::LeftBehind {
            node: "c".into(),
            pod: "shop/db-1".into()
        }),
        "{v:?}"
    );
}

#[test]
fn attach_limits_are_counted_and_required() {
    let csi = |s: &mut SnapshotSpec| {
        pod_mut(s, "web-1").volumes.push(VolumeSpec {
            name: "data".into(),
            source: VolumeSource::PersistentVolumeClaim {
                claim_name: "data-web-1".into(),
                node_affinity: vec![],
                unresolved: None,
                csi_driver: Some("ebs.csi.aws.com".into()),
                read_write_once_pod: false,
            },
        });
    };
    // d's CSINode allows no EBS volume: web-1's move needs one attachment.
    let v = with_snapshot(|s| {
        csi(s);
        for n in &mut s.nodes {
            n.attach_limits = Some([("ebs.csi.aws.com".to_string(), 0)].into());
        }
    });
    assert_eq!(
        v,
        [Violation::OverAllocatable {
            node: "d".into(),
            resource: "attachable-volumes-csi-ebs.csi.aws.com".into(),
            requested: 1,
            allocatable: 0
        }]
    );
    // No CSINodes in the input: the limit is unknown, web-1 may not move.
    let v = with_snapshot(csi);
    assert_eq!(
        v,
        [not_movable(
            "web-1",
            PodRule::AttachLimitUnknown {
                volume: "data".into(),
                driver: "ebs.csi.aws.com".into(),
                node: "a".into()
            }
        )]
    );
}

#[test]
fn nodes_cordoned_only_take_no_pods_and_stay() {
    // c kept but cordoned while the plan runs: api-1 and web-2 may not land there.
    let v = with_plan(|p| p.cordon_only = vec!["c".into()]);
    assert_eq!(
        v,
        [
            placement("api-1", "c", false, Constraint::CordonedByPlan),
            placement("web-2", "c", false, Constraint::CordonedByPlan)
        ]
    );
    let v = with_plan(|p| p.cordon_only = vec!["a".into()]);
    assert_eq!(v, [Violation::CordonOnlyNotKept { node: "a".into() }]);
}

#[test]
fn a_node_cordoned_to_steer_takes_nothing_after() {
    // api-1's eviction cordons c first: web-2 (to c, later) breaks that.
    let v = with_plan(|p| p.moves[0].cordon_first = vec!["c".into()]);
    assert_eq!(
        v,
        [
            placement("api-1", "c", false, Constraint::CordonedByPlan),
            placement("web-2", "c", false, Constraint::CordonedByPlan)
        ]
    );
    // Cordoned right before web-2's eviction: api-1 went to c before, only web-2 breaks.
    let v = with_plan(|p| p.moves[2].cordon_first = vec!["c".into()]);
    assert_eq!(
        v,
        [placement("web-2", "c", false, Constraint::CordonedByPlan)]
    );
}
