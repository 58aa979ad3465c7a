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

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use compactor_core::Snapshot;
use compactor_core::plan::{Plan, PlanOptions, SchedulerConfig, plan, predict_pods};
use compactor_core::safety::SafetyLevel;
use serde_json::{Value, json};

#[path = "common/kubectl.rs"]
mod kubectl;
use kubectl::{Kubectl, poll};

/// Labels a controller sets per pod, left out of a recreated template and selector.
const PER_POD_LABELS: [&str; 4] = [
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "controller-revision-hash",
    "pod-template-generation",
];

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

/// The pod template of a recreated workload: the pod's labels (less per-pod ones) and the
/// scheduling-relevant parts of its spec.
fn template(pod: &Value) -> Value {
    let labels: serde_json::Map<String, Value> = pod["metadata"]["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !PER_POD_LABELS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let spec = &pod["spec"];
    let containers: Vec<Value> = spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            json!({
                "name": c["name"],
                "image": c["image"].as_str().unwrap_or("registry.invalid/app:1"),
                "resources": c["resources"],
            })
        })
        .collect();
    let mut out = json!({"containers": containers, "terminationGracePeriodSeconds": 0});
    for key in [
        "tolerations",
        "nodeSelector",
        "affinity",
        "topologySpreadConstraints",
        "initContainers",
        "overhead",
    ] {
        if !spec[key].is_null() {
            out[key] = spec[key].clone();
        }
    }
    json!({"metadata": {"labels": labels}, "spec": out})
}

/// Nodes, namespaces, workloads and budgets to create for `dump`.
fn recreate(dump: &Value) -> Result<(Vec<Value>, Vec<Value>, BTreeSet<String>)> {
    let items = dump["items"].as_array().context("not a kubectl List")?;
    let mut nodes = Vec::new();
    let mut namespaces = BTreeSet::new();
    let mut groups: BTreeMap<(String, String, String), Vec<&Value>> = BTreeMap::new();
    let mut objects = Vec::new();
    for item in items {
        match item["kind"].as_str() {
            Some("Node") => {
                let mut meta = json!({"name": item["metadata"]["name"]});
                let mut labels = item["metadata"]["labels"].clone();
                labels["type"] = json!("kwok");
                meta["labels"] = labels;
                meta["annotations"] = json!({"kwok.x-k8s.io/node": "fake"});
                let resources = &item["status"]["allocatable"];
                let capacity = if item["status"]["capacity"].is_null() {
                    resources
                } else {
                    &item["status"]["capacity"]
                };
                nodes.push(json!({
                    "apiVersion": "v1", "kind": "Node", "metadata": meta,
                    "spec": {"taints": item["spec"]["taints"],
                             "unschedulable": item["spec"]["unschedulable"]},
                    "status": {"allocatable": resources, "capacity": capacity},
                }));
            }
            Some("Pod") => {
                let phase = item["status"]["phase"].as_str().unwrap_or("");
                if phase == "Succeeded" || phase == "Failed" {
                    continue;
                }
                let ns = item["metadata"]["namespace"].as_str().unwrap_or("default");
                namespaces.insert(ns.to_owned());
                let owner = item["metadata"]["ownerReferences"]
                    .as_array()
                    .and_then(|o| o.iter().find(|r| r["controller"] == true))
                    .map(|r| {
                        (
                            r["kind"].as_str().unwrap_or("").to_owned(),
                            r["name"].as_str().unwrap_or("").to_owned(),
                        )
                    });
                match owner {
                    Some((kind, name)) => groups
                        .entry((ns.to_owned(), kind, name))
                        .or_default()
                        .push(item),
                    None => {
                        let mut pod = template(item);
                        pod["apiVersion"] = json!("v1");
                        pod["kind"] = json!("Pod");
                        pod["metadata"]["name"] = item["metadata"]["name"].clone();
                        pod["metadata"]["namespace"] = json!(ns);
                        objects.push(pod);
                    }
                }
            }
            Some("PodDisruptionBudget") => {
                objects.push(json!({
                    "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                    "metadata": {"name": item["metadata"]["name"],
                                 "namespace": item["metadata"]["namespace"]},
                    "spec": item["spec"],
                }));
            }
            _ => {}
        }
    }
    for ((ns, kind, name), pods) in &groups {
        let tpl = template(pods[0]);
        let selector = json!({"matchLabels": tpl["metadata"]["labels"]});
        let meta = json!({"name": name, "namespace": ns});
        let replicas = pods.len();
        objects.push(match kind.as_str() {
            "DaemonSet" => json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta,
                "spec": {"selector": selector, "template": tpl}}),
            "StatefulSet" => json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": meta, "spec": {"replicas": replicas, "selector": selector,
                "serviceName": name, "podManagementPolicy": "Parallel", "template": tpl}}),
            // ReplicaSets, and any other controller, as a ReplicaSet of its pods.
            _ => json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta,
                "spec": {"replicas": replicas, "selector": selector, "template": tpl}}),
        });
    }
    let mut all = Vec::new();
    for ns in &namespaces {
        all.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
    }
    all.extend(objects);
    Ok((nodes, all, namespaces))
}

/// The pods of namespace `ns`, or of every namespace.
fn live_pods(kc: &Kubectl, ns: Option<&str>) -> Result<Vec<Value>> {
    let args: Vec<&str> = match ns {
        Some(ns) => vec!["get", "pods", "-n", ns],
        None => vec!["get", "pods", "-A"],
    };
    Ok(kc.json(&args)?["items"]
        .as_array()
        .cloned()
        .unwrap_or_default())
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
    let (nodes, objects, namespaces) = recreate(&dump)?;
    std::fs::create_dir_all(&args.out)?;

    let live = kc.json(&["get", "nodes"])?;
    if live["items"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|n| n["metadata"]["labels"]["type"] != "kwok")
    {
        bail!("refusing to run: the cluster has nodes that are not kwok nodes");
    }
    let t0 = Instant::now();
    eprintln!("resetting the cluster");
    // Controllers orphaned, pods force-deleted, budgets deleted; the namespaces are kept
    // (deleting one also deletes every event of its pods, at the controller manager's
    // request rate: minutes for 1,000 pods).
    for ns in namespaces.iter().map(String::as_str).chain(["e2e-apps"]) {
        if kc.run(&["get", "namespace", ns], None).is_err() {
            continue;
        }
        kc.empty_namespace(ns, "rs,sts,ds,job,deploy")?;
        kc.run(&["delete", "pdb", "--all", "-n", ns], None)?;
    }
    kc.run(&["delete", "nodes", "--all"], None)?;
    eprintln!("creating {} nodes", nodes.len());
    for chunk in nodes.chunks(100) {
        kc.create(chunk)?;
    }
    let n = nodes.len();
    let ready = kc.wait_nodes_ready(n, Duration::from_secs(300))?;
    if !ready {
        bail!("the {n} nodes did not become Ready in 300 s");
    }
    eprintln!(
        "nodes Ready at {:.0} s; creating the workloads",
        t0.elapsed().as_secs_f64()
    );
    let (namespace_items, workloads): (Vec<Value>, Vec<Value>) =
        objects.into_iter().partition(|o| o["kind"] == "Namespace");
    let list = json!({"apiVersion": "v1", "kind": "List", "items": namespace_items});
    kc.run(&["apply", "-f", "-"], Some(list.to_string().as_bytes()))?;
    for chunk in workloads.chunks(200) {
        kc.create(chunk)?;
    }
    // Settled: every pod of the dump recreated (or the count stable for 20 s), each bound or
    // unschedulable, and the budgets computed.
    let expected = dump["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| {
            i["kind"] == "Pod"
                && !matches!(i["status"]["phase"].as_str(), Some("Succeeded" | "Failed"))
        })
        .count();
    let mut last = (usize::MAX, Instant::now());
    let settled = poll(Duration::from_secs(900), || {
        std::thread::sleep(Duration::from_secs(2));
        let pods = live_pods(&kc, None)?;
        let waiting = pods
            .iter()
            .filter(|p| {
                p["spec"]["nodeName"].is_null()
                    && !p["status"]["conditions"].as_array().is_some_and(|c| {
                        c.iter()
                            .any(|c| c["type"] == "PodScheduled" && c["reason"] == "Unschedulable")
                    })
            })
            .count();
        if pods.len() != last.0 {
            last = (pods.len(), Instant::now());
        }
        let complete = pods.len() >= expected || last.1.elapsed() > Duration::from_secs(20);
        Ok((complete && waiting == 0).then_some(pods.len()))
    })?;
    let Some(count) = settled else {
        bail!("the workloads did not settle in 900 s");
    };
    poll(Duration::from_secs(120), || {
        let pdbs = kc.json(&["get", "pdb", "-A"])?;
        Ok(pdbs["items"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|b| !b["status"]["observedGeneration"].is_null())
            .then_some(()))
    })?;
    eprintln!(
        "{count} pods ({expected} in the dump) placed by kube-scheduler at {:.0} s; planning",
        t0.elapsed().as_secs_f64()
    );

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
