//! `kube-compactor apply`: print a plan's API calls, or carry the plan out.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use compactor_core::plan::Plan;
use compactor_core::text::printable;
use compactor_kube::execute::{self, ExecuteOptions, Outcome, Step};

use crate::{ApplyArgs, InputError, Output};

/// Exit code of a plan refused as stale.
const REFUSED: u8 = 3;
/// Exit code of an execution stopped and rolled back.
const STOPPED: u8 = 4;

pub(crate) fn run(args: ApplyArgs, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let text = crate::read(&args.plan)?;
    let plan: Plan = serde_json::from_str(&text).map_err(|e| {
        InputError(format!(
            "{}: not a plan printed by `plan --output json`: {e}",
            args.plan.display()
        ))
    })?;
    if !args.execute {
        return dry_run(&plan, args.output, out);
    }
    let options = ExecuteOptions::default()
        .with_deadlines(
            Duration::from_secs(args.eviction_timeout),
            Duration::from_secs(args.wave_timeout),
            Duration::from_secs(args.pending_grace),
        )
        .with_reprediction(
            !args.no_repredict,
            Some(args.scheduler.resolve(&plan.scheduler)?),
        );
    let table = matches!(args.output, Output::Table);
    let report = crate::runtime()?.block_on(async {
        let client = crate::connect(&args.connection).await?;
        let mut on_event = |event: &execute::Event| {
            let line = event.to_string();
            // Progress goes to stderr when stdout carries the JSON report.
            if table {
                println!("{line}");
            } else {
                eprintln!("kube-compactor: {line}");
            }
        };
        execute::execute(&client, &plan, &options, &mut on_event)
            .await
            .map_err(|e| anyhow::Error::new(e).context("executing the plan"))
    })?;
    match args.output {
        Output::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        Output::Yaml => write!(out, "{}", serde_yaml_ng::to_string(&report)?)?,
        Output::Table => {
            let f = &report.fidelity;
            for line in report.summary() {
                writeln!(out, "{line}")?;
            }
            if f.evictions > 0 {
                writeln!(
                    out,
                    "replacements: {} on the predicted node, {} on a tied node, {} on another kept node, {} on a drained node, {} pending",
                    f.on_predicted, f.on_tied, f.elsewhere, f.on_drained, f.pending
                )?;
                writeln!(
                    out,
                    "against the re-prediction right before each eviction: {} on the node, {} on a tied node; receiving nodes over the cap: {} of {}{}",
                    f.on_repredicted,
                    f.on_repredicted_tie,
                    f.receivers_over_cap.len(),
                    f.receiving_nodes,
                    if f.receivers_over_cap.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", f.receivers_over_cap.join(", "))
                    }
                )?;
            }
        }
    }
    Ok(match report.outcome {
        Outcome::Refused { .. } => ExitCode::from(REFUSED),
        Outcome::Stopped { .. } => ExitCode::from(STOPPED),
        _ => ExitCode::SUCCESS,
    })
}

fn dry_run(plan: &Plan, output: Output, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let calls = execute::dry_run(plan);
    match output {
        Output::Json => {
            serde_json::to_writer_pretty(
                &mut *out,
                &serde_json::json!({
                    "planId": execute::plan_id(plan),
                    "steps": calls.iter().map(|(step, calls)| serde_json::json!({"step": step, "calls": calls})).collect::<Vec<_>>(),
                }),
            )?;
            writeln!(out)?;
        }
        Output::Yaml => {
            let value = serde_json::json!({
                "planId": execute::plan_id(plan),
                "steps": calls.iter().map(|(step, calls)| serde_json::json!({"step": step, "calls": calls})).collect::<Vec<_>>(),
            });
            write!(out, "{}", serde_yaml_ng::to_string(&value)?)?;
        }
        Output::Table => {
            writeln!(
                out,
                "# dry run of plan {}: the API calls `apply --execute` makes, in order",
                execute::plan_id(plan)
            )?;
            if calls.is_empty() {
                writeln!(out, "# the plan drains nothing: no call")?;
            } else {
                writeln!(
                    out,
                    "# re-validate the plan against a fresh snapshot (every page of each list)"
                )?;
                for c in compactor_kube::live::snapshot_calls() {
                    writeln!(out, "{}", printable(&c.to_string()))?;
                }
            }
            for (step, calls) in &calls {
                let what = match step {
                    Step::Cordon { node, reason } => format!("cordon {node} ({reason:?})"),
                    Step::Evict { index, wave } => {
                        let m = &plan.moves[*index];
                        format!(
                            "wave {wave}: evict {}/{} from {} (kube-scheduler is predicted to place it on {})",
                            m.namespace, m.pod, m.from_node, m.to_node
                        )
                    }
                    Step::WaitWave { wave } => format!(
                        "wait until wave {wave}'s replacements are scheduled and Ready (polled)"
                    ),
                    Step::Uncordon { node } => format!("uncordon {node}"),
                    _ => format!("{step:?}"),
                };
                writeln!(out, "# {}", printable(&what))?;
                for c in calls {
                    writeln!(out, "{}", printable(&c.to_string()))?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
