//! Scale benchmarks: planning generated clusters of 10 to 10,000 nodes (about 10 pods per
//! node) with every strategy (network-aware with a generated service-call graph), the growth
//! cases of the documented limits (10k–40k nodes of one pod each; one workload of up to 10,000
//! pods talking to itself), validating the snapshot, and the packing kernels at 1k, 10k and
//! 100k items. Seeded: every run measures the same inputs.
//!
//! ```sh
//! cargo bench --bench scale                 # everything
//! cargo bench --bench scale -- plan/best-fit/10000
//! ```

use std::hint::black_box;
use std::time::Duration;

use compactor_core::Snapshot;
use compactor_core::packing::{StrategyKind, pack};
use compactor_core::plan::{PlanOptions, plan};
use compactor_core::testing::{ClusterShape, Rng, generate, generate_traffic};
use compactor_core::traffic::TrafficSpec;
use criterion::measurement::WallTime;
use criterion::{
    BatchSize, BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main,
};

fn shape(nodes: usize, constraints: bool) -> ClusterShape {
    ClusterShape {
        nodes,
        pods_per_node: 10,
        blocking_percent: 5,
        constraints,
    }
}

/// A group for inputs that take up to a second: 10 samples in 5 s.
fn slow_group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    group
}

/// Benchmarks planning `snap` with `opts`.
fn bench_plan(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    snap: &Snapshot,
    opts: &PlanOptions,
) {
    group.bench_with_input(id, snap, |b, snap| {
        b.iter(|| plan(black_box(snap), opts).expect("plan"));
    });
}

fn planning(c: &mut Criterion) {
    let mut group = slow_group(c, "plan");
    for nodes in [10, 100, 1_000, 10_000] {
        let snap =
            Snapshot::new(generate(42, shape(nodes, true))).expect("generated snapshot is valid");
        for strategy in [
            StrategyKind::FirstFit,
            StrategyKind::BestFit,
            StrategyKind::Search,
            StrategyKind::AffinityBased,
        ] {
            let opts = PlanOptions::default().with_strategy(strategy);
            bench_plan(
                &mut group,
                BenchmarkId::new(strategy.name(), nodes),
                &snap,
                &opts,
            );
        }
    }
    group.finish();
    // Network-aware planning with a generated service-call graph (about half the workloads
    // call another of their namespace).
    let mut group = slow_group(c, "plan-traffic");
    for nodes in [10, 100, 1_000, 10_000] {
        let spec = generate(42, shape(nodes, true));
        let opts = PlanOptions::default()
            .with_strategy(StrategyKind::NetworkAware)
            .with_traffic(Some(generate_traffic(42, &spec)));
        let snap = Snapshot::new(spec).expect("generated snapshot is valid");
        let id = BenchmarkId::new(StrategyKind::NetworkAware.name(), nodes);
        bench_plan(&mut group, id, &snap, &opts);
    }
    group.finish();
    // The same clusters without scheduling constraints: the cost of honouring them.
    let mut group = slow_group(c, "plan-unconstrained");
    for nodes in [1_000, 10_000] {
        let snap =
            Snapshot::new(generate(42, shape(nodes, false))).expect("generated snapshot is valid");
        let opts = PlanOptions::default();
        bench_plan(
            &mut group,
            BenchmarkId::new("best-fit", nodes),
            &snap,
            &opts,
        );
    }
    group.finish();
}

/// Limits: cost growth with size (issue 13). One small pod per node at 10k, 20k and 40k nodes
/// (most nodes drain, so the moves grow with the nodes and each prediction scores a sample of
/// them: expect about 4× per doubling); one workload talking to itself at 2,500 to 10,000 pods
/// (a bundle, not its pairs: about 2× per doubling).
fn limits(c: &mut Criterion) {
    let mut group = slow_group(c, "plan-sparse");
    for nodes in [10_000, 20_000, 40_000] {
        let sparse = ClusterShape {
            pods_per_node: 1,
            ..shape(nodes, false)
        };
        let snap = Snapshot::new(generate(42, sparse)).expect("generated snapshot is valid");
        let id = BenchmarkId::new("best-fit", nodes);
        bench_plan(&mut group, id, &snap, &PlanOptions::default());
    }
    group.finish();
    let mut group = slow_group(c, "plan-workload-traffic");
    for pods in [2_500, 5_000, 10_000] {
        let (snap, traffic) = one_chatty_workload(pods);
        let opts = PlanOptions::default()
            .with_strategy(StrategyKind::NetworkAware)
            .with_traffic(Some(traffic))
            .with_traffic_threshold(0.0);
        bench_plan(
            &mut group,
            BenchmarkId::new("network-aware", pods),
            &snap,
            &opts,
        );
    }
    group.finish();
}

/// `pods` pods of one Deployment spread over `pods / 50` nodes of 32 CPU, and one traffic edge
/// from the Deployment to itself (`pods · (pods − 1)` pod pairs).
fn one_chatty_workload(pods: usize) -> (Snapshot, TrafficSpec) {
    use compactor_core::model::{ContainerSpec, NodeSpec, OwnerRef, PodSpec, SnapshotSpec};
    use compactor_core::resources::ResourceList;
    let nodes = pods / 50;
    let spec = SnapshotSpec {
        nodes: (0..nodes)
            .map(|i| NodeSpec {
                name: format!("n{i:05}"),
                allocatable: ResourceList::new()
                    .with("cpu", 32_000)
                    .with("memory", 128 << 30)
                    .with("pods", 110),
                ready: true,
                ..Default::default()
            })
            .collect(),
        pods: (0..pods)
            .map(|i| PodSpec {
                namespace: "s".into(),
                name: format!("w-{i:05}"),
                node_name: Some(format!("n{:05}", i % nodes)),
                owner: Some(OwnerRef {
                    kind: "Deployment".into(),
                    name: "w".into(),
                }),
                containers: vec![ContainerSpec {
                    name: "c".into(),
                    requests: ResourceList::new()
                        .with("cpu", 100)
                        .with("memory", 128 << 20),
                }],
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let traffic: TrafficSpec = serde_json::from_str(
        r#"{"edges": [{"from": {"workload": "s/Deployment/w"}, "to": {"workload": "s/Deployment/w"}, "bytesPerSecond": 1e9}]}"#,
    )
    .expect("traffic");
    (Snapshot::new(spec).expect("valid"), traffic)
}

fn snapshot(c: &mut Criterion) {
    let mut group = slow_group(c, "snapshot");
    for nodes in [1_000, 10_000] {
        let spec = generate(42, shape(nodes, true));
        group.bench_function(BenchmarkId::from_parameter(nodes), |b| {
            b.iter_batched(
                || spec.clone(),
                |s| Snapshot::new(s).expect("valid"),
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

/// `n` items of `d` dimensions, sizes 1–40 % of a bin of 1000.
fn items(n: usize, d: usize, seed: u64) -> Vec<Vec<u64>> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| (0..d).map(|_| 10 + rng.below(391)).collect())
        .collect()
}

fn packing(c: &mut Criterion) {
    let mut group = slow_group(c, "pack");
    for n in [1_000, 10_000, 100_000] {
        let input = items(n, 3, 7);
        // The per-item rules; `search` is a whole-instance search (see the quality harness).
        for strategy in [StrategyKind::FirstFit, StrategyKind::BestFit] {
            group.bench_with_input(BenchmarkId::new(strategy.name(), n), &input, |b, input| {
                b.iter(|| pack(black_box(input), &[1000, 1000, 1000], strategy).expect("pack"));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, planning, limits, snapshot, packing);
criterion_main!(benches);
