//! The other input files, chosen by the first byte: metrics (PodMetricsList /
//! NodeMetricsList), pricing, traffic and a scheduler configuration. Each is an error or a
//! value whose figures are finite and in range; applied to a generated cluster, they never
//! panic, and plans made with them pass the independent checker.
#![no_main]

use compactor_core::Snapshot;
use compactor_core::plan::{PlanOptions, plan, predict_pending};
use compactor_core::testing::{ClusterShape, generate};
use compactor_core::traffic::TrafficGraph;
use compactor_core::verify::verify;
use libfuzzer_sys::fuzz_target;

fn cluster() -> compactor_core::model::SnapshotSpec {
    generate(
        3,
        ClusterShape {
            nodes: 6,
            pods_per_node: 3,
            blocking_percent: 10,
            constraints: true,
        },
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match which % 4 {
        0 => {
            let Ok(dump) = compactor_kube::metrics::read_metrics(text) else {
                return;
            };
            let mut spec = cluster();
            compactor_kube::metrics::apply_metrics(&mut spec, &[dump]);
            let snap = Snapshot::new(spec).expect("usage never makes a snapshot invalid");
            let _ = compactor_core::analysis::analyze(&snap, &Default::default());
        }
        1 => {
            let Ok(pricing) = compactor_kube::metrics::read_pricing(text) else {
                return;
            };
            for node in &cluster().nodes {
                let (hourly, _) = pricing.hourly(node);
                assert!(hourly.is_finite() && hourly >= 0.0, "{hourly}");
                assert!((hourly * 730.0).is_finite());
            }
        }
        2 => {
            let Ok(traffic) = compactor_kube::metrics::read_traffic(text) else {
                return;
            };
            let snap = Snapshot::new(cluster()).expect("generated");
            let Ok(graph) = TrafficGraph::build(&snap, &traffic, 0.0) else {
                return;
            };
            let placement: Vec<Option<usize>> = snap.pods().iter().map(|p| p.node).collect();
            let report = graph.cross_node(&placement);
            assert!(report.total_bytes_per_second.is_finite());
            assert!(report.cross_node_share.is_finite());
            // Workload edges are counted, not expanded: expanding them here must agree.
            let (mut cross, mut unplaced) = (0.0, 0.0);
            let mut count = |a: usize, b: usize, rate: f64| match (placement[a], placement[b]) {
                (Some(x), Some(y)) if x != y => cross += rate,
                (Some(_), Some(_)) => {}
                _ => unplaced += rate,
            };
            for e in graph.edges() {
                count(e.from, e.to, e.bytes_per_second);
            }
            for b in graph.bundles() {
                for &a in &b.from {
                    for &c in b.to.iter().filter(|&&c| c != a) {
                        count(a, c, b.bytes_per_pair());
                    }
                }
            }
            let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0);
            assert!(
                close(cross, report.cross_node_bytes_per_second),
                "{cross} {report:?}"
            );
            assert!(
                close(unplaced, report.unplaced_bytes_per_second),
                "{unplaced} {report:?}"
            );
            let options = PlanOptions::default()
                .with_strategy(compactor_core::packing::StrategyKind::NetworkAware)
                .with_traffic(Some(traffic));
            if let Ok(p) = plan(&snap, &options) {
                assert!(verify(&snap, &p, &options).is_empty());
            }
        }
        _ => {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
                return;
            };
            let Ok(config) = compactor_kube::scheduler_config(&value) else {
                return;
            };
            let mut spec = cluster();
            if let Some(p) = spec.pods.first_mut() {
                p.node_name = None;
            }
            let snap = Snapshot::new(spec).expect("generated");
            predict_pending(&snap, &config).expect("a configuration read is valid");
            let options = PlanOptions::default().with_scheduler(config);
            if let Ok(p) = plan(&snap, &options) {
                assert!(verify(&snap, &p, &options).is_empty());
            }
        }
    }
});
