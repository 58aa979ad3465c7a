//! A kubectl dump rebuilt on the e2e control plane: its nodes as kwok nodes, its workloads
//! recreated so that the real kube-scheduler places every pod again. Shared by the examples
//! `fidelity` (executes a plan on it) and `recreate` (what e2e/ca-compare.sh runs before it
//! puts Cluster Autoscaler and kube-compactor side by side).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::kubectl::{Kubectl, poll};
use super::variant::sample_nodes;

/// Labels a controller sets per pod, left out of a recreated template and selector.
const PER_POD_LABELS: [&str; 4] = [
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "controller-revision-hash",
    "pod-template-generation",
];

/// The annotation that names a node's node group for Cluster Autoscaler's kwok provider.
const CA_NODE_GROUP: &str = "cluster-autoscaler.kwok.nodegroup/name";
/// The label ca-compare.sh configures as CA's GPU label (`kwok-provider-config`).
pub const CA_GPU_LABEL: &str = "kube-compactor.io/gpu-node";

/// How to rebuild a dump.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Keep this many nodes, picked at random with the seed, and only the pods that ran on
    /// them (budgets kept whole).
    pub sample: Option<(usize, u64)>,
    /// Nodes carry what Cluster Autoscaler's kwok cloud provider needs to adopt them:
    /// providerID `kwok:<name>`, a node group per instance type whose min size is 0 and max
    /// size its size (so CA can never scale it up), and [`CA_GPU_LABEL`] on GPU nodes.
    pub cluster_autoscaler: bool,
    /// A DaemonSet that ran on every node of the dump tolerates every taint, so that it runs
    /// there again (the dumps put node agents on tainted GPU nodes with templates that
    /// tolerate nothing). Off: the template as it is, and fewer DaemonSet pods.
    pub daemonsets_where_they_ran: bool,
}

/// The pod template of a recreated workload: the pod's labels (less per-pod ones) and the
/// scheduling-relevant parts of its spec (volumes are left out: every pod can move).
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

/// What [`recreate`] builds.
pub struct Recreated {
    /// Node objects, to create first.
    pub nodes: Vec<Value>,
    /// Namespaces, then workloads and budgets.
    pub objects: Vec<Value>,
    /// The namespaces of the dump's pods.
    pub namespaces: BTreeSet<String>,
    /// The pods the recreated workloads should come to.
    pub expected_pods: usize,
}

/// Nodes, namespaces, workloads and budgets to create for `dump`.
pub fn recreate(dump: &Value, options: &Options) -> Result<Recreated> {
    let items = dump["items"].as_array().context("not a kubectl List")?;
    let all_nodes: Vec<&Value> = items.iter().filter(|i| i["kind"] == "Node").collect();
    let node_name = |n: &Value| n["metadata"]["name"].as_str().unwrap_or("").to_owned();
    let kept: BTreeSet<String> = match options.sample {
        Some((n, seed)) => sample_nodes(all_nodes.iter().map(|n| node_name(n)).collect(), n, seed),
        None => all_nodes.iter().map(|n| node_name(n)).collect(),
    };
    let instance_type = |n: &Value| {
        n["metadata"]["labels"]["node.kubernetes.io/instance-type"]
            .as_str()
            .unwrap_or("default")
            .to_owned()
    };
    let mut group_size: BTreeMap<String, usize> = BTreeMap::new();
    for n in all_nodes.iter().filter(|n| kept.contains(&node_name(n))) {
        *group_size.entry(instance_type(n)).or_default() += 1;
    }
    let mut nodes = Vec::new();
    let mut namespaces = BTreeSet::new();
    let mut groups: BTreeMap<(String, String, String), Vec<&Value>> = BTreeMap::new();
    let mut objects = Vec::new();
    let mut expected_pods = 0;
    for item in items {
        match item["kind"].as_str() {
            Some("Node") if kept.contains(&node_name(item)) => {
                let name = node_name(item);
                let mut meta = json!({"name": name});
                let mut labels = item["metadata"]["labels"].clone();
                labels["type"] = json!("kwok");
                let mut annotations = json!({"kwok.x-k8s.io/node": "fake"});
                let resources = &item["status"]["allocatable"];
                if resources.is_null() {
                    bail!("node {name}: status.allocatable is missing");
                }
                let capacity = if item["status"]["capacity"].is_null() {
                    resources
                } else {
                    &item["status"]["capacity"]
                };
                let mut spec = json!({"taints": item["spec"]["taints"],
                                      "unschedulable": item["spec"]["unschedulable"]});
                if options.cluster_autoscaler {
                    let group = instance_type(item);
                    annotations[CA_NODE_GROUP] = json!(group);
                    annotations["cluster-autoscaler.kwok.nodegroup/min-count"] = json!("0");
                    annotations["cluster-autoscaler.kwok.nodegroup/max-count"] =
                        json!(group_size[&group].to_string());
                    spec["providerID"] = json!(format!("kwok:{name}"));
                    let gpus = resources["nvidia.com/gpu"].as_str().unwrap_or("0");
                    if gpus != "0" {
                        labels[CA_GPU_LABEL] = json!("true");
                    }
                }
                meta["labels"] = labels;
                meta["annotations"] = annotations;
                nodes.push(json!({
                    "apiVersion": "v1", "kind": "Node", "metadata": meta, "spec": spec,
                    "status": {"allocatable": resources, "capacity": capacity},
                }));
            }
            Some("Pod") => {
                let phase = item["status"]["phase"].as_str().unwrap_or("");
                if phase == "Succeeded" || phase == "Failed" {
                    continue;
                }
                if !item["spec"]["nodeName"]
                    .as_str()
                    .is_some_and(|n| kept.contains(n))
                {
                    continue;
                }
                expected_pods += 1;
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
        let mut tpl = template(pods[0]);
        let selector = json!({"matchLabels": tpl["metadata"]["labels"]});
        let meta = json!({"name": name, "namespace": ns});
        let replicas = pods.len();
        objects.push(match kind.as_str() {
            "DaemonSet" => {
                if options.daemonsets_where_they_ran && replicas == nodes.len() {
                    tpl["spec"]["tolerations"] = json!([{"operator": "Exists"}]);
                }
                json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta,
                "spec": {"selector": selector, "template": tpl}})
            }
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
    Ok(Recreated {
        nodes,
        objects: all,
        namespaces,
        expected_pods,
    })
}

/// The pods of namespace `ns`, or of every namespace.
pub fn live_pods(kc: &Kubectl, ns: Option<&str>) -> Result<Vec<Value>> {
    let args: Vec<&str> = match ns {
        Some(ns) => vec!["get", "pods", "-n", ns],
        None => vec!["get", "pods", "-A"],
    };
    Ok(kc.json(&args)?["items"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// How [`load`] went.
pub struct Loaded {
    /// Pods that exist once settled (bound, or found unschedulable).
    pub pods: usize,
    /// Of those, bound to a node.
    pub bound: usize,
    /// Pods of the (sampled) dump.
    pub expected: usize,
    /// Nodes created.
    pub nodes: usize,
}

/// Rebuilds `dump` on the cluster `kc` talks to: refuses a cluster with a node that is not
/// a kwok node; empties the dump's namespaces (and `e2e-apps`), deletes every node, creates
/// the recreated nodes and waits until they are Ready, creates the workloads and waits until
/// they settle (every pod of the dump recreated, or the count stable for 20 s; each bound or
/// unschedulable), every bound pod is Ready and the budgets' statuses are computed and stable.
pub fn load(kc: &Kubectl, dump: &Value, options: &Options, t0: Instant) -> Result<Loaded> {
    let Recreated {
        nodes,
        objects,
        namespaces,
        expected_pods: expected,
    } = recreate(dump, options)?;
    let live = kc.json(&["get", "nodes"])?;
    if live["items"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|n| n["metadata"]["labels"]["type"] != "kwok")
    {
        bail!("refusing to run: the cluster has nodes that are not kwok nodes");
    }
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
    if !kc.wait_nodes_ready(n, Duration::from_secs(300))? {
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
    let mut last = (usize::MAX, Instant::now());
    let settled = poll(Duration::from_secs(1800), || {
        std::thread::sleep(Duration::from_secs(2));
        let pods = live_pods(kc, None)?;
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
        let bound = pods
            .iter()
            .filter(|p| !p["spec"]["nodeName"].is_null())
            .count();
        Ok((complete && waiting == 0).then_some((pods.len(), bound)))
    })?;
    let Some((pods, bound)) = settled else {
        bail!("the workloads did not settle in 1,800 s");
    };
    // Every bound pod Ready (kwok reports it a little after binding): until then the
    // disruption controller counts it unhealthy and its budget allows nothing.
    let ready = poll(Duration::from_secs(600), || {
        std::thread::sleep(Duration::from_secs(1));
        let unready = live_pods(kc, None)?
            .iter()
            .filter(|p| {
                !p["spec"]["nodeName"].is_null()
                    && !p["status"]["conditions"].as_array().is_some_and(|c| {
                        c.iter()
                            .any(|c| c["type"] == "Ready" && c["status"] == "True")
                    })
            })
            .count();
        Ok((unready == 0).then_some(()))
    })?;
    if ready.is_none() {
        bail!("the bound pods were not all Ready in 600 s");
    }
    // Then the budgets: computed for their generation, and the same two reads in a row.
    let mut previous = Value::Null;
    let settled_budgets = poll(Duration::from_secs(120), || {
        std::thread::sleep(Duration::from_secs(2));
        let statuses: Vec<Value> = kc.json(&["get", "pdb", "-A"])?["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|b| {
                json!([
                    b["metadata"]["namespace"],
                    b["metadata"]["name"],
                    b["status"]
                ])
            })
            .collect();
        let computed = statuses
            .iter()
            .all(|s| !s[2]["observedGeneration"].is_null());
        let statuses = Value::Array(statuses);
        let same = statuses == previous;
        previous = statuses;
        Ok((computed && same).then_some(()))
    })?;
    if settled_budgets.is_none() {
        bail!("the PodDisruptionBudgets' statuses did not settle in 120 s");
    }
    eprintln!(
        "{pods} pods ({expected} in the dump, {bound} bound) placed by kube-scheduler at {:.0} s",
        t0.elapsed().as_secs_f64()
    );
    Ok(Loaded {
        pods,
        bound,
        expected,
        nodes: n,
    })
}
