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

/// Where `apply --execute` writes its progress lines. A run that has started cordoning and
/// evicting must not die of its output: when the primary writer fails (stdout closed by
/// `| head`, a terminal gone), the lines go to the fallback from then on, after one line
/// saying so, and a failing fallback drops them. The run goes on to its end (completed, or
/// stopped and rolled back) either way.
struct EventLines {
    primary: Option<Box<dyn Write + Send + Sync>>,
    prefix: &'static str,
    fallback: Box<dyn Write + Send + Sync>,
}

impl EventLines {
    fn new(
        primary: Box<dyn Write + Send + Sync>,
        prefix: &'static str,
        fallback: Box<dyn Write + Send + Sync>,
    ) -> Self {
        EventLines {
            primary: Some(primary),
            prefix,
            fallback,
        }
    }

    fn line(&mut self, line: &str) {
        if let Some(w) = &mut self.primary {
            if writeln!(w, "{}{line}", self.prefix)
                .and_then(|()| w.flush())
                .is_ok()
            {
                return;
            }
            self.primary = None;
            let _ = writeln!(
                self.fallback,
                "kube-compactor: progress output failed; the run goes on, its lines follow here"
            );
        }
        let _ = writeln!(self.fallback, "kube-compactor: {line}");
    }
}

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
        // Progress goes to stderr when stdout carries the JSON report.
        let mut progress = if table {
            EventLines::new(Box::new(std::io::stdout()), "", Box::new(std::io::stderr()))
        } else {
            EventLines::new(
                Box::new(std::io::stderr()),
                "kube-compactor: ",
                Box::new(std::io::sink()),
            )
        };
        let mut on_event = |event: &execute::Event| progress.line(&event.to_string());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Shared;

    /// A writer that fails every write (a closed pipe).
    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
    }

    #[test]
    fn progress_lines_go_to_the_primary_writer() {
        let (out, err) = (Shared::default(), Shared::default());
        let mut p = EventLines::new(Box::new(out.clone()), "", Box::new(err.clone()));
        p.line("cordoned node a");
        p.line("evicted d/x");
        assert_eq!(out.text(), "cordoned node a\nevicted d/x\n");
        assert_eq!(err.text(), "");
    }

    #[test]
    fn a_closed_primary_sends_the_lines_to_the_fallback_and_never_panics() {
        let err = Shared::default();
        let mut p = EventLines::new(Box::new(Closed), "", Box::new(err.clone()));
        p.line("cordoned node a");
        p.line("evicted d/x");
        assert_eq!(
            err.text(),
            "kube-compactor: progress output failed; the run goes on, its lines follow here\n\
             kube-compactor: cordoned node a\nkube-compactor: evicted d/x\n"
        );
        // Both writers closed: the lines are dropped, the run is not disturbed.
        let mut p = EventLines::new(Box::new(Closed), "", Box::new(Closed));
        p.line("evicted d/y");
    }
}
