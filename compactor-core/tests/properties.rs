//! Property tests: invariants that hold for every generated cluster.

use compactor_core::Snapshot;
use compactor_core::bounds::martello_toth_l2;
use compactor_core::constraints::{host_ports_free, node_allows};
use compactor_core::packing::{Packing, SearchOptions, StrategyKind, pack, pack_search};
use compactor_core::plan::{Plan, PlanOptions, plan};
use compactor_core::quantity::{Unit, format, parse};
use compactor_core::safety::SafetyLevel;
use compactor_core::testing::{ClusterShape, generate};
use compactor_core::verify::{Constraint, Violation, verify};
use proptest::prelude::*;

fn options() -> impl Strategy<Value = PlanOptions> {
    (
        prop::sample::select(StrategyKind::ALL.to_vec()),
        prop::sample::select(SafetyLevel::ALL.to_vec()),
    )
        .prop_map(|(strategy, safety)| {
            PlanOptions::default()
                .with_strategy(strategy)
                .with_safety(safety)
        })
}

fn shape() -> impl Strategy<Value = ClusterShape> {
    (1usize..16, 1usize..12, 0u64..30, any::<bool>()).prop_map(
        |(nodes, pods_per_node, blocking_percent, constraints)| ClusterShape {
            nodes,
            pods_per_node,
            blocking_percent,
            constraints,
        },
    )
}

/// Each bin's load, after checking that every item is in one existing bin and no bin is over
/// `cap`.
fn bin_loads(
    items: &[Vec<u64>],
    cap: &[u64; 3],
    p: &Packing,
) -> Result<Vec<[u64; 3]>, TestCaseError> {
    prop_assert_eq!(p.assignment.len(), items.len());
    let mut used = vec![[0u64; 3]; p.bins];
    for (item, b) in items.iter().zip(&p.assignment) {
        prop_assert!(*b < p.bins);
        for d in 0..3 {
            used[*b][d] += item[d];
        }
    }
    for u in &used {
        prop_assert!(u.iter().zip(cap).all(|(x, c)| x <= c));
    }
    Ok(used)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// The independent checker accepts every plan: no receiving node over its cap or over
    /// allocatable, every movable pod of a drained node moved exactly once, drained nodes end
    /// empty of movable pods, PDB budgets per wave, nodes kept ≥ lower bound, every kept node
    /// has a reason.
    #[test]
    fn plans_pass_the_independent_checker(seed in any::<u64>(), shape in shape(), opts in options()) {
        let snap = Snapshot::new(generate(seed, shape)).expect("generated snapshots are valid");
        let p = plan(&snap, &opts).expect("plan");
        let violations = verify(&snap, &p, &opts);
        prop_assert!(violations.is_empty(), "{violations:#?}");
        prop_assert_eq!(p.summary.nodes_after as usize, p.kept.len());
        prop_assert!(p.kept.len() as u32 >= p.lower_bound.nodes);
    }

    /// The checker is not vacuous: on every generated plan with moves, dropping a move leaves
    /// that pod behind, and sending a pod to a node the plan drains is caught.
    #[test]
    fn tampered_plans_are_rejected(seed in any::<u64>(), shape in shape(), opts in options()) {
        let snap = Snapshot::new(generate(seed, shape)).expect("valid");
        let p = plan(&snap, &opts).expect("plan");
        prop_assume!(!p.moves.is_empty());
        let mut dropped = p.clone();
        let m = dropped.moves.pop().expect("a move");
        let v = verify(&snap, &dropped, &opts);
        prop_assert!(v.contains(&Violation::LeftBehind { node: m.from_node.clone(), pod: format!("{}/{}", m.namespace, m.pod) }), "{v:#?}");
        let mut misdirected = p.clone();
        misdirected.moves[0].to_node = misdirected.moves[0].from_node.clone();
        let v = verify(&snap, &misdirected, &opts);
        prop_assert!(v.iter().any(|x| matches!(x, Violation::Placement { constraint: Constraint::Drained, tied: false, .. })), "{v:#?}");
    }

    /// The generator's placement satisfies every pod's node constraints (so that a plan can
    /// only break them by moving pods), and its host ports never clash on a node.
    #[test]
    fn generated_placement_respects_constraints(seed in any::<u64>(), shape in shape()) {
        let snap = Snapshot::new(generate(seed, shape)).expect("valid");
        let mut ports: Vec<Vec<compactor_core::model::HostPort>> = vec![Vec::new(); snap.nodes().len()];
        for pod in snap.pods() {
            let Some(n) = pod.node else { continue };
            let node = &snap.nodes()[n].spec;
            prop_assert_eq!(node_allows(&pod.spec, node), Ok(()), "{} on {}", pod.spec.key(), node.name);
            prop_assert_eq!(host_ports_free(&pod.spec.host_ports, &ports[n]), Ok(()));
            ports[n].extend(pod.spec.host_ports.iter().cloned());
        }
    }

    /// Same input, byte-identical JSON plan; the plan survives a JSON round trip; the input
    /// order of nodes and pods does not matter.
    #[test]
    fn plans_are_deterministic(seed in any::<u64>(), shape in shape(), opts in options()) {
        let spec = generate(seed, shape);
        let mut reversed = spec.clone();
        reversed.nodes.reverse();
        reversed.pods.reverse();
        let a = serde_json::to_string(&plan(&Snapshot::new(spec.clone()).expect("valid"), &opts).expect("plan")).expect("json");
        let b = serde_json::to_string(&plan(&Snapshot::new(spec).expect("valid"), &opts).expect("plan")).expect("json");
        let c = serde_json::to_string(&plan(&Snapshot::new(reversed).expect("valid"), &opts).expect("plan")).expect("json");
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(&a, &c);
        let back: Plan = serde_json::from_str(&a).expect("plan JSON reads back");
        prop_assert_eq!(serde_json::to_string(&back).expect("json"), a);
    }

    /// Packing: each item in exactly one bin, no bin over capacity, no empty bin, and never
    /// fewer bins than the continuous bound ⌈Σ size / capacity⌉ of any dimension.
    #[test]
    fn packing_is_valid(items in prop::collection::vec(prop::collection::vec(0u64..=100, 3), 0..60), kind in prop::sample::select(StrategyKind::ALL.to_vec())) {
        let cap = [100u64, 100, 100];
        let p = pack(&items, &cap, kind).expect("items fit a bin");
        let used = bin_loads(&items, &cap, &p)?;
        prop_assert!(used.iter().all(|u| u.iter().any(|x| *x > 0)) || items.iter().all(|i| i == &[0, 0, 0]));
        for d in 0..3 {
            let total: u64 = items.iter().map(|i| i[d]).sum();
            prop_assert!(p.bins as u64 >= total.div_ceil(100));
        }
    }

    /// The packing search: every item in exactly one bin, no bin over capacity, never below
    /// the Martello–Toth bound, never worse than best fit, the same packing for the same seed.
    #[test]
    fn search_packing_is_valid_bounded_and_deterministic(
        items in prop::collection::vec(prop::collection::vec(1u64..=100, 3), 1..50),
        seed in any::<u64>(),
    ) {
        let cap = [100u64, 100, 100];
        let options = SearchOptions { seed, budget: 200, work_limit: 100_000 };
        let r = pack_search(&items, &cap, options).expect("items fit a bin");
        let p = &r.packing;
        for u in bin_loads(&items, &cap, p)? {
            prop_assert!(u.iter().any(|x| *x > 0), "empty bin");
        }
        prop_assert_eq!(r.lower_bound, martello_toth_l2(&items, &cap));
        prop_assert!(p.bins >= r.lower_bound);
        let best_fit = pack(&items, &cap, StrategyKind::BestFit).expect("fits");
        prop_assert!(p.bins <= best_fit.bins);
        prop_assert_eq!(&r, &pack_search(&items, &cap, options).expect("fits"));
    }

    /// Quantities: formatting reads back exactly; parsing arbitrary text never panics.
    #[test]
    fn quantities_round_trip(v in any::<u64>(), text in "[-+]?[0-9]{0,25}(\\.[0-9]{0,12})?([numkMGTPE]|[KMGTPE]i|[eE][-+]?[0-9]{1,4})?") {
        prop_assert_eq!(parse(&format(v, Unit::Base), Unit::Base), Ok(v));
        prop_assert_eq!(parse(&format(v / 1000 * 1000, Unit::Milli), Unit::Milli), Ok(v / 1000 * 1000));
        let _ = parse(&text, Unit::Milli);
        let _ = parse(&text, Unit::Base);
    }

    /// Decimal and binary suffixes agree with plain integer arithmetic.
    #[test]
    fn quantity_suffixes_scale_exactly(n in 0u64..1_000_000) {
        prop_assert_eq!(parse(&std::format!("{n}Ki"), Unit::Base), Ok(n * 1024));
        prop_assert_eq!(parse(&std::format!("{n}M"), Unit::Base), Ok(n * 1_000_000));
        prop_assert_eq!(parse(&std::format!("{n}m"), Unit::Milli), Ok(n));
        prop_assert_eq!(parse(&std::format!("{n}m"), Unit::Base), Ok(n.div_ceil(1000)));
        prop_assert_eq!(parse(&std::format!("{n}e-3"), Unit::Milli), Ok(n));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The network-aware packing is a valid packing (no bin over capacity, none empty), every
    /// part of a group lands whole in one bin (so it fits one), and the reported
    /// cross-bin traffic is the traffic between items in different bins.
    #[test]
    fn network_packing_is_valid(
        items in prop::collection::vec(prop::collection::vec(0u64..=10, 2), 0..24),
        raw_edges in prop::collection::vec((0usize..24, 0usize..24, 0.0f64..100.0), 0..40),
        threshold in 0.0f64..50.0,
    ) {
        use compactor_core::traffic::{TrafficGraph, pack_network};
        let n = items.len();
        let edges: Vec<(usize, usize, f64)> = if n == 0 {
            Vec::new()
        } else {
            raw_edges.iter().map(|(a, b, r)| (a % n, b % n, *r)).collect()
        };
        let cap = [10u64, 10];
        let p = pack_network(&items, &cap, &edges, threshold).unwrap();
        let mut used = vec![[0u64; 2]; p.bins];
        for (item, b) in items.iter().zip(&p.assignment) {
            prop_assert!(*b < p.bins);
            used[*b][0] += item[0];
            used[*b][1] += item[1];
        }
        for u in &used {
            prop_assert!(u[0] <= 10 && u[1] <= 10, "bin over capacity: {u:?}");
        }
        prop_assert!((0..p.bins).all(|b| p.assignment.contains(&b)), "empty bin");
        for part in &p.parts {
            prop_assert!(part.iter().all(|i| p.assignment[*i] == p.assignment[part[0]]));
        }
        let g = TrafficGraph::from_edges(n, &edges, threshold).unwrap();
        let cross: f64 = g
            .edges()
            .iter()
            .filter(|e| p.assignment[e.from] != p.assignment[e.to])
            .map(|e| e.bytes_per_second)
            .sum();
        prop_assert_eq!(p.traffic.cross_node_bytes_per_second, cross);
        prop_assert_eq!(p.traffic.unplaced_bytes_per_second, 0.0);
        // Every group is covered exactly once by its split.
        let views: Vec<&[u64]> = items.iter().map(Vec::as_slice).collect();
        for grp in g.groups() {
            let mut covered: Vec<usize> =
                g.split_to_fit(&grp.members, &views, &cap).concat();
            covered.sort_unstable();
            prop_assert_eq!(&covered, &grp.members);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// The same on clusters of more than 100 nodes, where the scheduler prediction samples
    /// nodes as kube-scheduler does (fewer cases: each plans a larger cluster).
    #[test]
    fn large_plans_pass_the_independent_checker(
        seed in any::<u64>(),
        nodes in 101usize..160,
        constraints in any::<bool>(),
        opts in options(),
    ) {
        let shape = ClusterShape { nodes, pods_per_node: 6, blocking_percent: 10, constraints };
        let snap = Snapshot::new(generate(seed, shape)).expect("generated snapshots are valid");
        let p = plan(&snap, &opts).expect("plan");
        let violations = verify(&snap, &p, &opts);
        prop_assert!(violations.is_empty(), "{violations:#?}");
        prop_assert!(p.kept.len() as u32 >= p.lower_bound.nodes);
        if !p.moves.is_empty() {
            prop_assert!(p.notes.iter().any(|n| n.starts_with("kube-scheduler scores only")));
        }
    }
}

/// The fewest nodes that can hold every bound pod within allocatable in every dimension, by
/// brute force: a node's DaemonSet pods stay with it (and go away with it), every other
/// non-terminal, non-terminating pod goes to some kept node; `fixed` nodes are kept.
fn brute_force_optimum(snap: &Snapshot, fixed: &[bool]) -> usize {
    let n = snap.nodes().len();
    let d = snap.dims().len();
    let mut daemon = vec![vec![0u64; d]; n];
    let mut items: Vec<&[u64]> = Vec::new();
    for p in snap.pods() {
        let Some(node) = p
            .node
            .filter(|_| !p.spec.phase.is_terminal() && !p.spec.terminating)
        else {
            continue;
        };
        if p.spec.owner.as_ref().is_some_and(|o| o.kind == "DaemonSet") {
            for (t, r) in daemon[node].iter_mut().zip(&p.request) {
                *t += r;
            }
        } else {
            items.push(&p.request);
        }
    }
    fn fits(items: &[&[u64]], free: &mut [Vec<u64>]) -> bool {
        let Some((first, rest)) = items.split_first() else {
            return true;
        };
        for b in 0..free.len() {
            if free[b].iter().zip(first.iter()).all(|(f, r)| f >= r) {
                for (f, r) in free[b].iter_mut().zip(first.iter()) {
                    *f -= r;
                }
                let ok = fits(rest, free);
                for (f, r) in free[b].iter_mut().zip(first.iter()) {
                    *f += r;
                }
                if ok {
                    return true;
                }
            }
        }
        false
    }
    let mut best = n;
    for mask in 0u32..(1 << n) {
        let kept: Vec<usize> = (0..n).filter(|i| mask & (1 << i) != 0).collect();
        if kept.len() >= best || (0..n).any(|i| fixed[i] && mask & (1 << i) == 0) {
            continue;
        }
        let mut free: Vec<Vec<u64>> = kept
            .iter()
            .map(|&i| {
                snap.nodes()[i]
                    .allocatable
                    .iter()
                    .zip(&daemon[i])
                    .map(|(a, t)| a.saturating_sub(*t))
                    .collect()
            })
            .collect();
        if fits(&items, &mut free) {
            best = kept.len();
        }
    }
    best.max(1)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The lower bound never exceeds the true optimum, found by brute force on tiny, dense
    /// clusters (up to 5 nodes of 2 or 4 CPU and 4 or 8 GiB, up to 9 pods of up to 2 CPU and
    /// 4 GiB, some pinned as DaemonSet pods), with or without nodes that must stay.
    #[test]
    fn the_lower_bound_is_below_the_optimum(
        nodes in prop::collection::vec((1u64..=2, 1u64..=2), 1..=5),
        pods in prop::collection::vec((0usize..5, 1u64..=20, 1u64..=16, 0u8..10), 0..=9),
        fixed_mask in 0u32..32,
    ) {
        use compactor_core::testing::{GI, node, pod};
        let n = nodes.len();
        let spec = compactor_core::model::SnapshotSpec {
            nodes: nodes
                .iter()
                .enumerate()
                .map(|(i, (c, m))| node(&format!("n{i}"), c * 2000, m * 4 * GI))
                .collect(),
            pods: pods
                .iter()
                .enumerate()
                .map(|(k, (on, cpu, mem, kind))| {
                    let mut p = pod("d", &format!("p{k}"), &format!("n{}", on % n), "w", cpu * 100, mem * GI / 4);
                    if *kind == 0 {
                        p.owner = Some(compactor_core::model::OwnerRef { kind: "DaemonSet".into(), name: "ds".into() });
                    }
                    p
                })
                .collect(),
            ..Default::default()
        };
        let snap = Snapshot::new(spec).expect("valid");
        let fixed: Vec<bool> = (0..n).map(|i| fixed_mask & (1 << i) != 0).collect();
        let bound = compactor_core::bounds::continuous(&snap, &fixed).nodes as usize;
        let optimum = brute_force_optimum(&snap, &fixed);
        prop_assert!(bound <= optimum, "bound {bound} > optimum {optimum}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// A looser threshold never keeps more nodes than a stricter one on the same cluster.
    #[test]
    fn looser_thresholds_keep_no_more_nodes(seed in any::<u64>(), shape in shape(), strategy in prop::sample::select(StrategyKind::ALL.to_vec())) {
        let snap = Snapshot::new(generate(seed, shape)).expect("valid");
        let kept: Vec<usize> = SafetyLevel::ALL
            .iter()
            .map(|level| plan(&snap, &PlanOptions::default().with_strategy(strategy).with_safety(*level)).expect("plan").kept.len())
            .collect();
        prop_assert!(kept.windows(2).all(|w| w[1] <= w[0]), "kept per level {kept:?}");
    }

    /// `search` never keeps more nodes than best fit, at any threshold.
    #[test]
    fn search_keeps_no_more_than_best_fit(seed in any::<u64>(), shape in shape(), level in prop::sample::select(SafetyLevel::ALL.to_vec())) {
        let snap = Snapshot::new(generate(seed, shape)).expect("valid");
        let kept = |strategy| plan(&snap, &PlanOptions::default().with_strategy(strategy).with_safety(level)).expect("plan").kept.len();
        let (search, best_fit) = (kept(StrategyKind::Search), kept(StrategyKind::BestFit));
        prop_assert!(search <= best_fit, "search keeps {search}, best fit {best_fit}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Workload edges are held as bundles, never expanded; expanding them here into every
    /// pod pair gives the same cross-node and unplaced traffic, the same groups (the
    /// threshold applying to each bundle's rate per pair) and the same mutual sets.
    #[test]
    fn bundles_agree_with_their_expansion(
        seed in any::<u64>(),
        shape in shape(),
        raw in prop::collection::vec((any::<u16>(), any::<u16>(), 0u8..4, 0.0f64..1000.0), 0..12),
        threshold in 0.0f64..200.0,
        unplace in any::<u64>(),
    ) {
        use compactor_core::traffic::{Endpoint, TrafficEdgeSpec, TrafficGraph, TrafficSpec};
        use petgraph::graph::{DiGraph, NodeIndex};
        let snap = Snapshot::new(generate(seed, shape)).unwrap();
        let pods = snap.pods();
        prop_assume!(!pods.is_empty());
        let endpoint = |i: u16, workload: bool| {
            let p = &pods[usize::from(i) % pods.len()].spec;
            match (&p.owner, workload) {
                (Some(o), true) => Endpoint::Workload(format!("{}/{}/{}", p.namespace, o.kind, o.name)),
                _ => Endpoint::Pod(p.key()),
            }
        };
        let spec = TrafficSpec {
            edges: raw
                .iter()
                .map(|&(a, b, kinds, rate)| TrafficEdgeSpec {
                    from: endpoint(a, kinds & 1 == 1),
                    to: endpoint(b, kinds & 2 == 2),
                    bytes_per_second: rate,
                })
                .collect(),
        };
        let g = TrafficGraph::build(&snap, &spec, threshold).unwrap();
        // The expansion: every contribution as a pod pair, kept by its own edge's rule.
        let mut pairs: Vec<(usize, usize, f64, bool)> = g
            .edges()
            .iter()
            .map(|e| (e.from, e.to, e.bytes_per_second, e.bytes_per_second >= threshold))
            .collect();
        for (k, b) in g.bundles().iter().enumerate() {
            let mut n = 0u64;
            for &a in &b.from {
                for &c in b.to.iter().filter(|&&c| c != a) {
                    pairs.push((a, c, b.bytes_per_pair(), g.is_kept_bundle(k)));
                    n += 1;
                }
            }
            prop_assert_eq!(n, b.pairs);
        }
        let placement: Vec<Option<usize>> = pods
            .iter()
            .enumerate()
            .map(|(i, p)| p.node.filter(|_| unplace >> (i % 64) & 1 == 0))
            .collect();
        let (mut cross, mut unplaced) = (0.0, 0.0);
        for &(a, b, rate, _) in &pairs {
            match (placement[a], placement[b]) {
                (Some(x), Some(y)) if x != y => cross += rate,
                (Some(_), Some(_)) => {}
                _ => unplaced += rate,
            }
        }
        let r = g.cross_node(&placement);
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0);
        prop_assert!(close(cross, r.cross_node_bytes_per_second), "{} {:?}", cross, r);
        prop_assert!(close(unplaced, r.unplaced_bytes_per_second), "{} {:?}", unplaced, r);
        // Groups and mutual sets of the expanded kept pairs.
        let n = pods.len();
        let mut graph = DiGraph::<usize, ()>::new();
        for i in 0..n {
            graph.add_node(i);
        }
        let mut uf = petgraph::unionfind::UnionFind::<usize>::new(n);
        for &(a, b, rate, kept) in &pairs {
            if kept && rate > 0.0 {
                graph.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
                uf.union(a, b);
            }
        }
        let mut expected: Vec<Vec<usize>> = Vec::new();
        let labels = uf.into_labeling();
        for root in 0..n {
            let members: Vec<usize> = (0..n).filter(|&i| labels[i] == root).collect();
            if members.len() >= 2 {
                expected.push(members);
            }
        }
        expected.sort();
        let got: Vec<Vec<usize>> = g.groups().iter().map(|x| x.members.clone()).collect();
        prop_assert_eq!(&got, &expected);
        let mut mutual: Vec<Vec<usize>> = petgraph::algo::tarjan_scc(&graph)
            .into_iter()
            .filter(|c| c.len() >= 2)
            .map(|c| {
                let mut v: Vec<usize> = c.into_iter().map(NodeIndex::index).collect();
                v.sort_unstable();
                v
            })
            .collect();
        mutual.sort();
        let mut got: Vec<Vec<usize>> = g.groups().iter().flat_map(|x| x.mutual.clone()).collect();
        got.sort();
        prop_assert_eq!(got, mutual);
    }
}
