//! Plan fidelity at scale: does kube-scheduler put every replacement where the plan says?
//!
//! From a kubectl dump (nodes, pods, PodDisruptionBudgets), on the e2e control plane:
//! 1. the dump's nodes become kwok nodes (labels, taints, allocatable kept);
//! 2. its workloads are recreated — a ReplicaSet, StatefulSet or DaemonSet per controller of
//!    the dump, with the first pod's template and the pod count as replicas; bare pods as
//!    bare pods; its PodDisruptionBudgets — and the real scheduler places them;
//! 3. the live cluster is dumped and planned (`compactor_core::plan`);
//! 4. the plan is executed as DESIGN §11 says: every drained node cordoned first, then the
//!    evictions in plan order through the Eviction API (429: retried until the budget
//!    allows), each replacement waited for (bound, or found unschedulable) before the next
//!    eviction — one eviction in flight, the order the prediction assumes;
//! 5. every replacement's node is compared with the plan's `toNode` (and its tied nodes), and
//!    every node that received pods is checked against the cap.
//!
//! ```sh
//! export KUBECONFIG="$(e2e/cluster.sh up)"
//! cargo run --release --example fidelity -- ../shared/benchdata/clusters/openb-multigpu50-400.json \
//!     --safety conservative [--percentage-of-nodes-to-score 100] [--out DIR]
//! ```
//!
//! It deletes every node and every namespace of the dump on the cluster it runs on, so it
//! refuses a cluster with a node that is not a kwok node.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use compactor_core::Snapshot;
use compactor_core::plan::{Plan, PlanOptions, SchedulerConfig, plan, predict_pods};
use compactor_core::safety::SafetyLevel;
use serde_json::{Value, json};

#[path = "common/kubectl.rs"]
mod kubectl;
// Shared with the `recreate` example; this one reads none of `Loaded`.
#[allow(dead_code)]
#[path = "common/recreate.rs"]
mod recreate;
#[path = "common/variant.rs"]
#[allow(dead_code)] // only the node sample is used here
mod variant;
use kubectl::{Kubectl, poll};
use recreate::live_pods;

struct Args {
    dump: PathBuf,
    /// Execute with `compactor_kube::execute` (the `apply --execute` executor) instead of the
    /// sequential kubectl replay below.
    executor: bool,
    safety: SafetyLevel,
    percentage: u32,
    out: PathBuf,
}

fn args() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let mut dump = None;
    let mut safety = SafetyLevel::Conservative;
    let mut percentage = 0;
    let mut out = std::env::temp_dir().join("kube-compactor-fidelity");
    let mut executor = false;
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--safety" => {
                safety = serde_json::from_value(json!(value()?)).context("--safety")?;
            }
            "--percentage-of-nodes-to-score" => percentage = value()?.parse()?,
            "--out" => out = PathBuf::from(value()?),
            "--executor" => executor = true,
            s if !s.starts_with('-') && dump.is_none() => dump = Some(PathBuf::from(s)),
            other => bail!(
                "unknown argument {other}; usage: fidelity DUMP [--safety conservative|medium|aggressive] [--percentage-of-nodes-to-score N] [--out DIR] [--executor]"
            ),
        }
    }
    Ok(Args {
        dump: dump.context("usage: fidelity DUMP [options]")?,
        executor,
        safety,
        percentage,
        out,
    })
}

fn controller_uid(pod: &Value) -> Option<String> {
    pod["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == true)
        .and_then(|r| r["uid"].as_str().map(str::to_owned))
}

#[derive(Debug, Default, serde::Serialize)]
struct Figures {
    evictions: u32,
    exact: u32,
    exact_on_prediction: u32,
    tied: u32,
    tied_hit: u32,
    tied_first: u32,
    elsewhere: u32,
    pending: u32,
    refused: u32,
    receiving_nodes: u32,
    receiving_over_cap: u32,
    over_cap: Vec<String>,
    /// The replacement predicted again from the live cluster right before its eviction (as
    /// an executor that re-validates each step would): single-node predictions and their hits,
    /// tied ones and the hits among the tied nodes.
    repredicted_exact: u32,
    repredicted_exact_hit: u32,
    repredicted_tied: u32,
    repredicted_tied_hit: u32,
}

fn main() -> Result<()> {
    let args = args()?;
    let kc = Kubectl::from_env();
    let text = std::fs::read_to_string(&args.dump)
        .with_context(|| format!("reading {}", args.dump.display()))?;
    let dump: Value = serde_json::from_str(&text).context("the dump is not JSON")?;
    std::fs::create_dir_all(&args.out)?;
    let t0 = Instant::now();
    let options = recreate::Options::default();
    recreate::load(&kc, &dump, &options, t0)?;
    eprintln!("planning");

    if args.executor {
        return with_executor(&args, t0);
    }
    let live_dump = kc.dump()?;
    std::fs::write(args.out.join("before.json"), &live_dump)?;
    let snapshot = Snapshot::new(compactor_kube::read_snapshot(&live_dump)?)?;
    let options = PlanOptions::default()
        .with_safety(args.safety)
        .with_percentage_of_nodes_to_score(args.percentage);
    let started = Instant::now();
    let plan: Plan = plan(&snapshot, &options)?;
    eprintln!(
        "plan in {:.2} s: {} nodes drained, {} evictions, {} tied predictions",
        started.elapsed().as_secs_f64(),
        plan.drain.len(),
        plan.moves.len(),
        plan.summary.tied_predictions
    );
    std::fs::write(
        args.out.join("plan.json"),
        serde_json::to_string_pretty(&plan)?,
    )?;

    // Execute: cordon every drained node, and the nodes the plan cordons without draining
    // them, then evict in plan order.
    for node in plan.drain.iter().map(|d| &d.node).chain(&plan.cordon_only) {
        kc.run(&["cordon", node], None)?;
    }
    let mut figures = Figures::default();
    let mut receivers: BTreeSet<String> = BTreeSet::new();
    let mut log = Vec::new();
    for m in &plan.moves {
        // Steering: nodes the plan cordons right before this eviction.
        for node in &m.cordon_first {
            kc.run(&["cordon", node], None)?;
        }
        let before = live_pods(&kc, Some(&m.namespace))?;
        let known: BTreeSet<String> = before
            .iter()
            .filter_map(|p| p["metadata"]["uid"].as_str().map(str::to_owned))
            .collect();
        let Some(victim) = before.iter().find(|p| {
            p["metadata"]["namespace"] == m.namespace.as_str()
                && p["metadata"]["name"] == m.pod.as_str()
        }) else {
            bail!("pod {}/{} is gone before its eviction", m.namespace, m.pod);
        };
        let owner = controller_uid(victim);
        // Re-predicted from the live state: the victim as its own pending replacement (its
        // node is cordoned, so what it still holds there does not matter).
        let live = kc.dump()?;
        let mut spec = compactor_kube::read_snapshot(&live)?;
        if let Some(v) = spec
            .pods
            .iter_mut()
            .find(|p| p.namespace == m.namespace && p.name == m.pod)
        {
            v.node_name = None;
            v.phase = compactor_core::model::PodPhase::Pending;
        }
        let key = format!("{}/{}", m.namespace, m.pod);
        let again = predict_pods(
            &Snapshot::new(spec)?,
            &[key.as_str()],
            &SchedulerConfig::default().with_percentage_of_nodes_to_score(args.percentage),
        )?
        .into_iter()
        .next()
        .context("no prediction")?;
        let body = json!({"apiVersion": "policy/v1", "kind": "Eviction",
            "metadata": {"name": m.pod, "namespace": m.namespace}})
        .to_string();
        let path = format!("/api/v1/namespaces/{}/pods/{}/eviction", m.namespace, m.pod);
        // 429 while the budget is spent: retry until a replacement is Ready (≤ 120 s).
        let evicted = poll(Duration::from_secs(120), || {
            match kc.run(
                &["create", "--raw", &path, "-f", "-"],
                Some(body.as_bytes()),
            ) {
                Ok(_) => Ok(Some(())),
                Err(e) if e.to_string().contains("disruption budget") => {
                    std::thread::sleep(Duration::from_millis(500));
                    Ok(None)
                }
                Err(e) => Err(e),
            }
        })?;
        figures.evictions += 1;
        if evicted.is_none() {
            figures.refused += 1;
            eprintln!("{}/{}: eviction refused for 120 s", m.namespace, m.pod);
            continue;
        }
        // The replacement: a new pod of the same controller.
        let landed = poll(Duration::from_secs(60), || {
            for p in live_pods(&kc, Some(&m.namespace))? {
                let uid = p["metadata"]["uid"].as_str().unwrap_or("");
                if known.contains(uid) || controller_uid(&p) != owner || owner.is_none() {
                    continue;
                }
                if let Some(node) = p["spec"]["nodeName"].as_str() {
                    return Ok(Some(Some(node.to_owned())));
                }
                if p["status"]["conditions"].as_array().is_some_and(|c| {
                    c.iter()
                        .any(|c| c["type"] == "PodScheduled" && c["reason"] == "Unschedulable")
                }) {
                    return Ok(Some(None));
                }
            }
            Ok(None)
        })?;
        let landed = landed.flatten();
        match &landed {
            None => figures.pending += 1,
            Some(node) => {
                receivers.insert(node.clone());
                if *node == m.to_node {
                    figures.exact_on_prediction += 1;
                }
                if m.tied_with.is_empty() {
                    figures.exact += u32::from(*node == m.to_node);
                    figures.elsewhere += u32::from(*node != m.to_node);
                } else {
                    figures.tied += 1;
                    let hit = *node == m.to_node || m.tied_with.contains(node);
                    figures.tied_hit += u32::from(hit);
                    figures.tied_first += u32::from(*node == m.to_node);
                    figures.elsewhere += u32::from(!hit);
                }
            }
        }
        if let Some(node) = &landed {
            if again.tied_with.is_empty() {
                figures.repredicted_exact += 1;
                figures.repredicted_exact_hit += u32::from(again.node.as_ref() == Some(node));
            } else {
                figures.repredicted_tied += 1;
                figures.repredicted_tied_hit +=
                    u32::from(again.node.as_ref() == Some(node) || again.tied_with.contains(node));
            }
        }
        log.push(
            json!({"pod": format!("{}/{}", m.namespace, m.pod), "from": m.from_node,
            "predicted": m.to_node, "tiedWith": m.tied_with, "landed": landed,
            "repredicted": again.node, "repredictedTiedWith": again.tied_with}),
        );
    }

    // Receiving nodes against the cap (requests / allocatable, CPU and memory).
    let after = kc.dump()?;
    std::fs::write(args.out.join("after.json"), &after)?;
    let snap_after = Snapshot::new(compactor_kube::read_snapshot(&after)?)?;
    let cap = u128::from(plan.thresholds.max_utilization_percent);
    for name in &receivers {
        figures.receiving_nodes += 1;
        let Some(i) = snap_after.node_index(name) else {
            continue;
        };
        let req = snap_after.requested(i);
        let alloc = &snap_after.nodes()[i].allocatable;
        let over: Vec<String> = [0usize, 1]
            .iter()
            .filter(|&&d| u128::from(req[d]) * 100 > u128::from(alloc[d]) * cap)
            .map(|&d| {
                format!(
                    "{name} {} {:.0} %",
                    snap_after.dims().name(d),
                    req[d] as f64 * 100.0 / alloc[d] as f64
                )
            })
            .collect();
        if !over.is_empty() {
            figures.receiving_over_cap += 1;
            figures.over_cap.extend(over);
        }
    }
    std::fs::write(
        args.out.join("fidelity.json"),
        serde_json::to_string_pretty(&json!({"figures": figures, "moves": log}))?,
    )?;
    let pct = |a: u32, b: u32| {
        if b == 0 {
            0.0
        } else {
            f64::from(a) * 100.0 / f64::from(b)
        }
    };
    println!(
        "{}: safety {:?}, percentageOfNodesToScore {} | drained {} | evictions {} | landed on toNode {} ({:.1} %) | single-node predictions exact {}/{} | tied {} (landed among the tied {}, on toNode {}) | elsewhere {} | Pending {} | refused {} | receiving nodes over the cap {} of {} {:?} | re-predicted before each eviction: single-node {}/{}, tied {}/{} | {:.0} s",
        args.dump.display(),
        args.safety,
        args.percentage,
        plan.drain.len(),
        figures.evictions,
        figures.exact_on_prediction,
        pct(figures.exact_on_prediction, figures.evictions),
        figures.exact,
        figures.evictions - figures.tied - figures.pending - figures.refused,
        figures.tied,
        figures.tied_hit,
        figures.tied_first,
        figures.elsewhere,
        figures.pending,
        figures.refused,
        figures.receiving_over_cap,
        figures.receiving_nodes,
        figures.over_cap,
        figures.repredicted_exact_hit,
        figures.repredicted_exact,
        figures.repredicted_tied_hit,
        figures.repredicted_tied,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Steps 3–5 as `plan --live` + `apply --execute` do them: the live snapshot through the API,
/// the plan, and the executor (waves, budgets, re-prediction and steering before each
/// eviction); the figures are the executor's own report.
fn with_executor(args: &Args, t0: Instant) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = compactor_kube::live::connect(None, None).await?;
        let live = compactor_kube::live::snapshot(&client).await?;
        let options = PlanOptions::default()
            .with_safety(args.safety)
            .with_percentage_of_nodes_to_score(args.percentage);
        let started = Instant::now();
        let plan: Plan = plan(&Snapshot::new(live.spec)?, &options)?;
        eprintln!(
            "plan --live in {:.2} s ({} requests): {} nodes drained, {} evictions, {} tied predictions",
            started.elapsed().as_secs_f64(),
            live.requests,
            plan.drain.len(),
            plan.moves.len(),
            plan.summary.tied_predictions
        );
        std::fs::write(args.out.join("plan.json"), serde_json::to_string_pretty(&plan)?)?;
        let exec = compactor_kube::execute::ExecuteOptions::default()
            .with_reprediction(true, Some(SchedulerConfig::default().with_percentage_of_nodes_to_score(args.percentage)));
        let report = compactor_kube::execute::execute(&client, &plan, &exec, &mut |line| {
            eprintln!("{line}")
        })
        .await?;
        std::fs::write(
            args.out.join("report.json"),
            serde_json::to_string_pretty(&report)?,
        )?;
        let f = &report.fidelity;
        let single = report.landings.iter().filter(|l| l.tied_with.is_empty()).count();
        let single_hit = report
            .landings
            .iter()
            .filter(|l| l.tied_with.is_empty() && l.node.as_deref() == Some(l.predicted.as_str()))
            .count();
        println!(
            "{} (executor): safety {:?}, percentageOfNodesToScore {} | outcome {:?} | drained {} | evictions {} | on toNode {} ({:.1} %) | single-node predictions exact {single_hit}/{single} | on a tied node {} | elsewhere {} | Pending {} | on the re-prediction {} + tied {} | steered {} | receiving nodes over the cap {} of {} {:?} | {:.0} s",
            args.dump.display(),
            args.safety,
            args.percentage,
            report.outcome,
            plan.drain.len(),
            f.evictions,
            f.on_predicted,
            if f.evictions == 0 { 0.0 } else { f64::from(f.on_predicted) * 100.0 / f64::from(f.evictions) },
            f.on_tied,
            f.elsewhere,
            f.pending,
            f.on_repredicted,
            f.on_repredicted_tie,
            report.landings.iter().map(|l| l.steered.len()).sum::<usize>(),
            f.receivers_over_cap.len(),
            f.receiving_nodes,
            f.receivers_over_cap,
            t0.elapsed().as_secs_f64()
        );
        Ok(())
    })
}
