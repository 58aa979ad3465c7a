//! Plan a consolidation of a live cluster: read it, run the planner, print the nodes it
//! drains, the moves (pod, from, predicted node, wave, risk) and why every other node stays;
//! optionally write the plan as JSON for `examples/apply.rs`. Read only.
//!
//! Against a kind cluster (`kind create cluster`, which writes the context `kind-kind`):
//!
//! ```sh
//! cargo run --example plan -- --out /tmp/plan.json
//! cargo run --example plan -- --safety aggressive --context kind-dev
//! cargo run --example apply -- --plan /tmp/plan.json    # its API calls, a dry run
//! ```
//!
//! It prints the kubeconfig context and the server URL first, and refuses a context whose name
//! does not start with `kind-` unless `--allow-context NAME` names that context exactly. The
//! cluster is read as `kube-compactor plan --live` reads it (requests, not usage), so the JSON
//! is the plan that command prints.

#[path = "live_common/mod.rs"]
#[macro_use]
mod live_common;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use compactor_core::Snapshot;
use compactor_core::cost::{HOURS_PER_MONTH, format_dollars};
use compactor_core::plan::{Plan, PlanOptions, plan};
use compactor_core::safety::SafetyLevel;
use compactor_core::text::printable;

/// Plan a consolidation of a live cluster (read only).
#[derive(Parser, Debug)]
#[command(name = "plan")]
struct Args {
    #[command(flatten)]
    cluster: live_common::ClusterArgs,
    /// Safety threshold: utilisation cap of receiving nodes (70 / 80 / 90 %) and wave sizes.
    #[arg(long, value_enum, default_value_t = Safety::Conservative)]
    safety: Safety,
    /// Also write the plan as JSON to this file (what `--example apply -- --plan` reads).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Safety {
    Conservative,
    Medium,
    Aggressive,
}

impl From<Safety> for SafetyLevel {
    fn from(s: Safety) -> Self {
        match s {
            Safety::Conservative => SafetyLevel::Conservative,
            Safety::Medium => SafetyLevel::Medium,
            Safety::Aggressive => SafetyLevel::Aggressive,
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    let target = live_common::target(&args.cluster)?;
    let client = target.connect().await?;
    let live = compactor_kube::live::snapshot_without_metrics(&client)
        .await
        .context("reading the cluster")?;
    let snapshot = Snapshot::new(live.spec).context("the cluster as read")?;
    let options = PlanOptions::default().with_safety(args.safety.into());
    let plan = plan(&snapshot, &options).context("planning")?;
    print_plan(&plan);
    if let Some(path) = &args.out {
        let json = serde_json::to_string_pretty(&plan).context("the plan as JSON")?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("writing the plan to {}", path.display()))?;
        say!();
        say!(
            "plan written to {}; its API calls: cargo run --example apply -- --plan {}",
            path.display(),
            path.display()
        );
    }
    Ok(())
}

/// The plan as three compact tables.
fn print_plan(plan: &Plan) {
    let s = &plan.summary;
    let t = &plan.thresholds;
    say!(
        "{} nodes, {} running pods; safety {}: receiving nodes stay at or below {} % of allocatable, at most {} node(s) per wave",
        s.nodes,
        s.pods,
        t.level.name(),
        t.max_utilization_percent,
        t.max_nodes_per_wave
    );
    say!(
        "drains {} node(s), {} evictions in {} wave(s); {} nodes after (lower bound {}); saves {} per month",
        plan.drain.len(),
        plan.moves.len(),
        plan.waves.len(),
        s.nodes_after,
        plan.lower_bound.nodes,
        plan.savings.formatted
    );

    say!();
    say!("Drained nodes ({}):", plan.drain.len());
    table(
        &["NODE", "EVICT", "DAEMONSET PODS", "$/MONTH"],
        plan.drain.iter().map(|d| {
            vec![
                d.node.clone(),
                d.evicted_pods.to_string(),
                d.daemon_set_pods.to_string(),
                format_dollars(d.hourly_price * HOURS_PER_MONTH),
            ]
        }),
    );

    say!();
    say!("Moves ({}):", plan.moves.len());
    table(
        &["WAVE", "POD", "FROM", "TO (PREDICTED)", "RISK"],
        plan.moves.iter().map(|m| {
            let to = if m.tied_with.is_empty() {
                m.to_node.clone()
            } else {
                format!("{} (tied with {})", m.to_node, m.tied_with.join(", "))
            };
            vec![
                m.wave.to_string(),
                format!("{}/{}", m.namespace, m.pod),
                m.from_node.clone(),
                to,
                format!("{:?} ({})", m.risk.level, m.risk.score).to_lowercase(),
            ]
        }),
    );

    say!();
    say!("Kept nodes ({}):", plan.kept.len());
    table(
        &["NODE", "RECEIVES", "REASON", "WHY"],
        plan.kept.iter().map(|k| {
            vec![
                k.node.clone(),
                k.receives.to_string(),
                k.reason.code.as_str().to_owned(),
                k.reason.message.clone(),
            ]
        }),
    );
    for note in &plan.notes {
        say!("note: {}", printable(note));
    }
}

/// Left-aligned columns two spaces apart; cells made printable (a name cannot forge a row).
/// Prints `  none` for no rows.
fn table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    let rows: Vec<Vec<String>> = rows
        .map(|r| r.iter().map(|c| printable(c).into_owned()).collect())
        .collect();
    if rows.is_empty() {
        say!("  none");
        return;
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    (*c).to_owned()
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        say!("  {}", padded.join("  "));
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
}
