//! Observe a live cluster, read only: how many nodes and pods, whether metrics.k8s.io serves
//! usage, how much of the cluster is requested and used, and what a conservative plan would
//! drain. Nothing in the cluster is changed.
//!
//! Against a kind cluster (`kind create cluster`, which writes the context `kind-kind`):
//!
//! ```sh
//! cargo run --example observe
//! cargo run --example observe -- --context kind-dev --kubeconfig ~/.kube/config
//! ```
//!
//! It prints the kubeconfig context and the server URL first, and refuses a context whose name
//! does not start with `kind-` unless `--allow-context NAME` names that context exactly.
//! Usage needs metrics-server in the cluster; without it the usage is reported unknown.

#[path = "live_common/mod.rs"]
#[macro_use]
mod live_common;

use anyhow::{Context, Result};
use clap::Parser;
use compactor_core::Snapshot;
use compactor_core::analysis::{AnalysisOptions, analyze};
use compactor_core::resources::{CPU, MEMORY, human};
use compactor_core::text::printable;
use compactor_kube::metrics::apply_metrics;

/// Observe a live cluster (read only).
#[derive(Parser, Debug)]
#[command(name = "observe")]
struct Args {
    #[command(flatten)]
    cluster: live_common::ClusterArgs,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    let target = live_common::target(&args.cluster)?;
    let client = target.connect().await?;
    let live = compactor_kube::live::snapshot(&client)
        .await
        .context("reading the cluster")?;
    let mut spec = live.spec;
    say!(
        "read in {} list requests: {} nodes, {} pods, {} PodDisruptionBudgets",
        live.requests,
        spec.nodes.len(),
        spec.pods.len(),
        spec.pdbs.len()
    );
    match live.metrics {
        Ok(dump) => {
            let coverage = apply_metrics(&mut spec, std::slice::from_ref(&dump));
            say!(
                "metrics: served by metrics.k8s.io: {} pod metrics, {} node metrics; {} pods with usage, {} without, {} metrics of objects not in the snapshot",
                dump.pods.len(),
                dump.nodes.len(),
                coverage.pods_with_usage,
                coverage.pods_without_usage,
                coverage.unmatched.len()
            );
        }
        Err(why) => say!("metrics: usage unknown: {}", printable(&why)),
    }
    let snapshot = Snapshot::new(spec).context("the cluster as read")?;
    let options = AnalysisOptions::default();
    let analysis = analyze(&snapshot, &options).context("analysing")?;
    let c = &analysis.cluster;
    say!(
        "cluster: {} nodes ({} idle), {} running pods ({} unscheduled), {} per month",
        c.nodes,
        c.idle_nodes.len(),
        c.pods,
        c.unscheduled_pods,
        c.monthly_cost_formatted
    );
    for resource in [CPU, MEMORY] {
        let Some(f) = c.resource(resource) else {
            continue;
        };
        say!(
            "  {resource:<6} allocatable {}, requested {} ({}), used {} ({})",
            human(resource, f.allocatable),
            human(resource, f.requested),
            percent(f.request_percent),
            f.used
                .map_or_else(|| "unknown".to_owned(), |u| human(resource, u).to_string()),
            percent(f.usage_percent)
        );
    }
    let e = &c.efficiency;
    say!(
        "efficiency score: {:.1} of 100 (requests {:.1} % of allocatable, usage {} of requests)",
        e.score,
        e.allocation_percent,
        percent(e.usage_of_requests_percent)
    );
    let over = analysis.over_provisioned().count();
    if !analysis.workloads.is_empty() {
        say!(
            "workloads with usage: {}, over-provisioned (peak usage below {} % of requests or limits): {over}",
            analysis.workloads.len(),
            options.over_provisioned_percent
        );
    }
    let p = &analysis.plan;
    say!(
        "a {} plan drains {} of {} nodes ({} evictions), saving {} per month; `cargo run --example plan` shows it",
        p.thresholds.level.name(),
        p.drain.len(),
        p.summary.nodes,
        p.moves.len(),
        p.savings.formatted
    );
    Ok(())
}

/// `45.0 %`, or `unknown`.
fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "unknown".to_owned(), |v| format!("{v:.1} %"))
}
