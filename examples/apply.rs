//! Apply a plan written by `examples/plan.rs`: by default a dry run that prints every step
//! and the exact API calls it makes, in order, and changes nothing; with `--execute`, carry
//! the plan out with the executor (`compactor_kube::execute::execute`, default options):
//! re-validate it against the cluster, cordon, evict wave by wave through the Eviction API,
//! wait for the replacements.
//!
//! Against a kind cluster (`kind create cluster`, which writes the context `kind-kind`):
//!
//! ```sh
//! cargo run --example plan -- --out /tmp/plan.json
//! cargo run --example apply -- --plan /tmp/plan.json              # dry run
//! cargo run --example apply -- --plan /tmp/plan.json --execute    # cordons and evicts
//! ```
//!
//! It prints the kubeconfig context and the server URL first, and refuses a context whose name
//! does not start with `kind-` unless `--allow-context NAME` names that context exactly (the
//! dry run too: it shows what would be done to that cluster). Exit status: 0 when the dry run
//! is printed or the plan completed, 3 when the cluster no longer matches the plan (refused,
//! nothing done), 4 when the execution stopped part way (every node it cordoned uncordoned).

#[path = "live_common/mod.rs"]
#[macro_use]
mod live_common;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use compactor_core::plan::Plan;
use compactor_core::text::printable;
use compactor_kube::execute::{self, ExecuteOptions, Outcome, Step};

/// Exit status of a plan refused as stale.
const REFUSED: u8 = 3;
/// Exit status of an execution stopped and rolled back.
const STOPPED: u8 = 4;

/// Print a plan's API calls, or carry it out with --execute.
#[derive(Parser, Debug)]
#[command(name = "apply")]
struct Args {
    #[command(flatten)]
    cluster: live_common::ClusterArgs,
    /// The plan, as `--example plan -- --out FILE` (or `kube-compactor plan -o json`) wrote it.
    #[arg(long, value_name = "FILE")]
    plan: PathBuf,
    /// Act on the cluster: cordon and evict. Without it, print the API calls only.
    #[arg(long)]
    execute: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<ExitCode> {
    let args = Args::parse();
    let target = live_common::target(&args.cluster)?;
    let text = std::fs::read_to_string(&args.plan)
        .with_context(|| format!("reading {}", args.plan.display()))?;
    let plan: Plan = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a plan written as JSON", args.plan.display()))?;
    if !args.execute {
        print_dry_run(&plan);
        return Ok(ExitCode::SUCCESS);
    }
    let client = target.connect().await?;
    say!(
        "executing plan {}: {} node(s) to drain, {} evictions",
        execute::plan_id(&plan),
        plan.drain.len(),
        plan.moves.len()
    );
    let report = execute::execute(&client, &plan, &ExecuteOptions::default(), &mut |event| {
        say!("{}", printable(&event.to_string()))
    })
    .await
    .context("executing the plan")?;
    for line in report.summary() {
        say!("{line}");
    }
    let code = match &report.outcome {
        Outcome::Completed => ExitCode::SUCCESS,
        Outcome::Refused { .. } => ExitCode::from(REFUSED),
        Outcome::Stopped { .. } => ExitCode::from(STOPPED),
        other => {
            say!("plan {} ended: {other:?}", report.plan_id);
            ExitCode::FAILURE
        }
    };
    let f = &report.fidelity;
    if f.evictions > 0 {
        say!(
            "replacements: {} on the predicted node, {} on a tied node, {} elsewhere, {} on a drained node, {} pending",
            f.on_predicted,
            f.on_tied,
            f.elsewhere,
            f.on_drained,
            f.pending
        );
    }
    Ok(code)
}

/// Every step of the plan and its API calls, in order (`compactor_kube::execute::dry_run`).
fn print_dry_run(plan: &Plan) {
    let steps = execute::dry_run(plan);
    say!(
        "# dry run of plan {}: the API calls --execute makes, in order; nothing is changed",
        execute::plan_id(plan)
    );
    if steps.is_empty() {
        say!("# the plan drains nothing: no call");
        return;
    }
    say!("# re-validate the plan against a fresh snapshot (every page of each list)");
    for call in compactor_kube::live::snapshot_calls() {
        say!("{}", printable(&call));
    }
    for (step, calls) in &steps {
        say!("# {}", printable(&describe(plan, step)));
        for call in calls {
            say!("{}", printable(&call.to_string()));
        }
    }
    say!(
        "# {} steps; run again with --execute to carry them out",
        steps.len()
    );
}

/// One step in words.
fn describe(plan: &Plan, step: &Step) -> String {
    match step {
        Step::Cordon { node, reason } => format!("cordon {node} ({reason:?})"),
        Step::Evict { index, wave } => match plan.moves.get(*index) {
            Some(m) => format!(
                "wave {wave}: evict {}/{} from {} (kube-scheduler is predicted to place it on {})",
                m.namespace, m.pod, m.from_node, m.to_node
            ),
            None => format!("wave {wave}: evict move {index}"),
        },
        Step::WaitWave { wave } => {
            format!("wait until wave {wave}'s replacements are scheduled and Ready")
        }
        Step::Uncordon { node } => format!("uncordon {node}"),
        other => format!("{other:?}"),
    }
}
