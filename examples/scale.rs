//! Plans a generated cluster once and prints timings and a summary; run under
//! `/usr/bin/time -v` to read the peak memory.
//!
//! ```sh
//! cargo run --release --example scale -- 10000        # nodes (about 10 pods per node)
//! /usr/bin/time -v target/release/examples/scale 10000 best-fit
//! target/release/examples/scale 10000 best-fit unconstrained   # no scheduling constraints
//! target/release/examples/scale 10000 network-aware   # with a generated service-call graph
//! target/release/examples/scale 40000 best-fit unconstrained 1   # one pod per node
//! ```

use std::time::Instant;

use anyhow::{Context, bail};
use compactor_core::Snapshot;
use compactor_core::packing::StrategyKind;
use compactor_core::plan::{PlanOptions, plan};
use compactor_core::testing::{ClusterShape, generate, generate_traffic};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let nodes: usize = args
        .next()
        .unwrap_or_else(|| "10000".into())
        .parse()
        .context("nodes must be a number")?;
    let strategy = match args.next().as_deref() {
        None | Some("best-fit") => StrategyKind::BestFit,
        Some("first-fit") => StrategyKind::FirstFit,
        Some("search") => StrategyKind::Search,
        Some("affinity-based") => StrategyKind::AffinityBased,
        Some("network-aware") => StrategyKind::NetworkAware,
        Some(other) => bail!(
            "unknown strategy {other:?} (first-fit, best-fit, search, affinity-based, network-aware)"
        ),
    };
    let constraints = match args.next().as_deref() {
        None | Some("constrained") => true,
        Some("unconstrained") => false,
        Some(other) => bail!("unknown mode {other:?} (constrained, unconstrained)"),
    };
    let pods_per_node: usize = args
        .next()
        .unwrap_or_else(|| "10".into())
        .parse()
        .context("pods per node must be a number")?;
    let t0 = Instant::now();
    let spec = generate(
        42,
        ClusterShape {
            nodes,
            pods_per_node,
            blocking_percent: 5,
            constraints,
        },
    );
    let pods = spec.pods.len();
    let traffic = (strategy == StrategyKind::NetworkAware).then(|| generate_traffic(42, &spec));
    let t1 = Instant::now();
    let snap = Snapshot::new(spec)?;
    let t2 = Instant::now();
    let p = plan(
        &snap,
        &PlanOptions::default()
            .with_strategy(strategy)
            .with_traffic(traffic),
    )?;
    let t3 = Instant::now();
    println!(
        "{nodes} nodes, {pods} pods, {}: generate {:.0} ms, snapshot {:.0} ms, plan {:.0} ms; drains {} nodes ({} moves, {} waves), lower bound {}",
        strategy.name(),
        (t1 - t0).as_secs_f64() * 1e3,
        (t2 - t1).as_secs_f64() * 1e3,
        (t3 - t2).as_secs_f64() * 1e3,
        p.drain.len(),
        p.moves.len(),
        p.waves.len(),
        p.lower_bound.nodes
    );
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    for k in &p.kept {
        *reasons.entry(format!("{:?}", k.reason.code)).or_default() += 1;
    }
    println!("kept nodes by reason: {reasons:?}");
    if let Some(t) = &p.traffic {
        println!(
            "traffic: {} groups, cross-node share {:.1} % now, {:.1} % as packed, {:.1} % as kube-scheduler is predicted to place",
            t.groups,
            t.before.cross_node_share * 100.0,
            t.packed.cross_node_share * 100.0,
            t.after.cross_node_share * 100.0
        );
    }
    if let Some(k) = p
        .kept
        .iter()
        .find(|k| k.reason.code == compactor_core::plan::ReasonCode::NoFit)
    {
        println!("e.g. {}: {}", k.node, k.reason.message);
    }
    Ok(())
}
