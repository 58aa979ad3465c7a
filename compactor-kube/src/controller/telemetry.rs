//! The controller's Prometheus metrics (DESIGN §10), in the text exposition format.
//!
//! | series | type | labels | what |
//! |---|---|---|---|
//! | `kube_compactor_analysis_duration_seconds` | histogram | | snapshot read + analysis |
//! | `kube_compactor_binpacking_duration_seconds` | histogram | | the plan alone |
//! | `kube_compactor_migrations_total` | counter | `status` | evictions `succeeded`, `skipped` (pod already gone), plan parts `failed` |
//! | `kube_compactor_nodes_total` | gauge | `config` | nodes in the last analysis |
//! | `kube_compactor_workloads_total` | gauge | `config` | workloads in the last analysis |
//! | `kube_compactor_potential_savings_dollars` | gauge | `config` | monthly savings of the last plan |
//! | `kube_compactor_binpacking_efficiency_percent` | gauge | `config` | lower bound ÷ nodes the plan keeps × 100 (100: provably optimal) |
//! | `kube_compactor_placement_score` | gauge | `config` | share of the last execution's replacements that landed on the predicted node or a tied one (0–1) |

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

type Labels = Vec<(String, String)>;
type FloatGauge = Family<Labels, Gauge<f64, AtomicU64>>;
/// Counts (nodes, workloads) print as integers.
type CountGauge = Family<Labels, Gauge>;

/// The metrics of one controller process.
#[derive(Debug)]
pub struct Telemetry {
    registry: Registry,
    /// Seconds per analysis (snapshot read and analysis).
    pub analysis_duration: Histogram,
    /// Seconds per plan computation.
    pub binpacking_duration: Histogram,
    migrations: Family<Labels, Counter>,
    nodes: CountGauge,
    workloads: CountGauge,
    savings: FloatGauge,
    efficiency: FloatGauge,
    placement: FloatGauge,
}

fn label(key: &str, value: &str) -> Labels {
    vec![(key.to_owned(), value.to_owned())]
}

impl Default for Telemetry {
    fn default() -> Self {
        let mut registry = Registry::default();
        // 10 ms … ~82 s.
        let analysis_duration = Histogram::new(exponential_buckets(0.01, 2.0, 14));
        let binpacking_duration = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        let migrations = Family::<Labels, Counter>::default();
        let (nodes, workloads): (CountGauge, CountGauge) = Default::default();
        let (savings, efficiency, placement) = Default::default();
        registry.register(
            "kube_compactor_analysis_duration_seconds",
            "Seconds per analysis: cluster snapshot read and analysis",
            analysis_duration.clone(),
        );
        registry.register(
            "kube_compactor_binpacking_duration_seconds",
            "Seconds per plan computation",
            binpacking_duration.clone(),
        );
        // The client appends `_total` to counters.
        registry.register(
            "kube_compactor_migrations",
            "Evictions by outcome: succeeded, skipped (already gone), failed (plan parts stopped or refused)",
            migrations.clone(),
        );
        registry.register(
            "kube_compactor_nodes_total",
            "Nodes in the last analysis",
            nodes.clone(),
        );
        registry.register(
            "kube_compactor_workloads_total",
            "Workloads in the last analysis (in the config's namespaces)",
            workloads.clone(),
        );
        for (name, help, family) in [
            (
                "kube_compactor_potential_savings_dollars",
                "Dollars per month the last plan saves",
                &savings,
            ),
            (
                "kube_compactor_binpacking_efficiency_percent",
                "Lower bound on nodes needed divided by the nodes the plan keeps, in percent",
                &efficiency,
            ),
            (
                "kube_compactor_placement_score",
                "Share of the last execution's replacements that landed where the plan predicted (or on a tied node)",
                &placement,
            ),
        ] {
            registry.register(name, help, FloatGauge::clone(family));
        }
        Self {
            registry,
            analysis_duration,
            binpacking_duration,
            migrations,
            nodes,
            workloads,
            savings,
            efficiency,
            placement,
        }
    }
}

impl Telemetry {
    /// Records an analysis of `config`.
    pub fn analysed(
        &self,
        config: &str,
        nodes: u32,
        workloads: u32,
        monthly_savings: f64,
        nodes_kept: u32,
        lower_bound: u32,
    ) {
        let l = label("config", config);
        self.nodes.get_or_create(&l).set(i64::from(nodes));
        self.workloads.get_or_create(&l).set(i64::from(workloads));
        self.savings.get_or_create(&l).set(monthly_savings);
        let efficiency = if nodes_kept == 0 {
            100.0
        } else {
            100.0 * f64::from(lower_bound.min(nodes_kept)) / f64::from(nodes_kept)
        };
        self.efficiency.get_or_create(&l).set(efficiency);
    }

    /// Counts `n` migrations that ended in `status` (`succeeded`, `skipped`, `failed`).
    pub fn migrations(&self, status: &str, n: u64) {
        self.migrations
            .get_or_create(&label("status", status))
            .inc_by(n);
    }

    /// Records where an execution's replacements landed: `on_prediction` of `evictions`.
    pub fn placement(&self, config: &str, on_prediction: u32, evictions: u32) {
        if evictions > 0 {
            self.placement
                .get_or_create(&label("config", config))
                .set(f64::from(on_prediction) / f64::from(evictions));
        }
    }

    /// The metrics in the Prometheus text format (what `/metrics` serves).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses the text format into (series with labels, value), skipping comments.
    fn samples(text: &str) -> Vec<(String, f64)> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let (name, value) = l.rsplit_once(' ').unwrap();
                (name.to_owned(), value.parse().unwrap())
            })
            .collect()
    }

    #[test]
    fn every_series_of_the_design_is_exposed_and_parses() {
        let t = Telemetry::default();
        t.analysed("default", 10, 7, 353.85, 8, 6);
        t.migrations("succeeded", 3);
        t.migrations("skipped", 1);
        t.placement("default", 3, 4);
        t.analysis_duration.observe(0.25);
        t.binpacking_duration.observe(0.002);
        let text = t.encode();
        assert!(text.ends_with("# EOF\n"), "{text}");
        // Counts print as integers.
        assert!(
            text.lines()
                .any(|l| l == r#"kube_compactor_nodes_total{config="default"} 10"#),
            "{text}"
        );
        let s = samples(&text);
        let value = |name: &str| {
            s.iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| *v)
                .unwrap_or_else(|| panic!("{name} not in {text}"))
        };
        assert_eq!(
            value(r#"kube_compactor_nodes_total{config="default"}"#),
            10.0
        );
        assert_eq!(
            value(r#"kube_compactor_workloads_total{config="default"}"#),
            7.0
        );
        assert_eq!(
            value(r#"kube_compactor_potential_savings_dollars{config="default"}"#),
            353.85
        );
        assert_eq!(
            value(r#"kube_compactor_binpacking_efficiency_percent{config="default"}"#),
            75.0
        );
        assert_eq!(
            value(r#"kube_compactor_placement_score{config="default"}"#),
            0.75
        );
        assert_eq!(
            value(r#"kube_compactor_migrations_total{status="succeeded"}"#),
            3.0
        );
        assert_eq!(
            value(r#"kube_compactor_migrations_total{status="skipped"}"#),
            1.0
        );
        assert_eq!(value("kube_compactor_analysis_duration_seconds_count"), 1.0);
        assert_eq!(value("kube_compactor_analysis_duration_seconds_sum"), 0.25);
        assert_eq!(
            value("kube_compactor_binpacking_duration_seconds_count"),
            1.0
        );
        for name in [
            "kube_compactor_analysis_duration_seconds",
            "kube_compactor_binpacking_duration_seconds",
            "kube_compactor_migrations",
            "kube_compactor_nodes_total",
            "kube_compactor_workloads_total",
            "kube_compactor_potential_savings_dollars",
            "kube_compactor_binpacking_efficiency_percent",
            "kube_compactor_placement_score",
        ] {
            assert!(text.contains(&format!("# HELP {name} ")), "{name}");
        }
    }
}
