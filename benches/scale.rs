//! Scale benchmarks: planning generated clusters of 10 to 10,000 nodes (about 10 pods per
//! node) with every strategy (network-aware with a generated service-call graph), validating the snapshot, and the packing kernels at 1k, 10k and
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

criterion_group!(benches, planning, snapshot, packing);
criterion_main!(benches);
