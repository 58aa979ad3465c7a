//! Differential conformance suite: the core's kube-scheduler prediction against the real
//! kube-scheduler, placement by placement.
//!
//! For each seed it builds a small random cluster on the e2e control plane (10–40 kwok nodes
//! of random sizes, zones, labels and taints) and random workloads (ReplicaSets,
//! StatefulSets, Jobs and bare pods with random requests, tolerations, node affinity, pod
//! affinity and anti-affinity, topology spread, host ports and preferred terms), every pod
//! created behind a scheduling gate. Then, one pod at a time: dump the cluster as `kubectl
//! get … -o json` does, predict with `compactor_core::plan::predict_pods`, remove the pod's
//! gate, and read where kube-scheduler bound it. A prediction whose top score ties between
//! several nodes is counted apart (kube-scheduler picks among them at random). Every
//! disagreement is written out as a reproducible case: the dump, the pod, both choices.
//!
//! ```sh
//! export KUBECONFIG="$(e2e/cluster.sh up)"        # the e2e cluster (kwok nodes only)
//! cargo run --release --example conformance -- --seeds 1..50 --out /tmp/conformance
//! cargo run --release --example conformance -- --seeds 7..8 --print-case   # the manifests only
//! ```
//!
//! It deletes every node and the scenario namespace `e2e-apps` of the cluster it runs on, so
//! it refuses a cluster with a node that is not a kwok node. `--kubectl` (default: the e2e
//! build's) and `KUBECONFIG` (default: the e2e cluster's) say where.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

#[path = "common/kubectl.rs"]
mod kubectl;
use compactor_core::Snapshot;
use compactor_core::plan::{PodPrediction, SchedulerConfig, predict_pods};
use compactor_core::testing::Rng;
use kubectl::{Kubectl, poll};
use serde::Serialize;
use serde_json::{Value, json};

/// The label that names a generated pod's workload.
const WORKLOAD_LABEL: &str = "conf.kube-compactor.io/workload";
/// The scheduling gate every generated pod is created behind.
const GATE: &str = "conf.kube-compactor.io/gate";
const ZONE: &str = "topology.kubernetes.io/zone";
/// The PriorityClass some generated pods use (value 1000; the others have 0).
const HIGH_PRIORITY: &str = "conf-high";
/// The storage class of the generated zonal volumes (static, pre-bound).
const STORAGE_CLASS: &str = "conf-static";
const HOST: &str = "kubernetes.io/hostname";

// ------------------------------------------------------------------------------ generator

/// One generated cluster: nodes, workloads, and the order in which pods are released.
#[derive(Debug)]
struct Case {
    seed: u64,
    namespace: String,
    nodes: Vec<Value>,
    objects: Vec<Value>,
    workloads: Vec<Workload>,
    /// Workload index per placement, in order.
    order: Vec<usize>,
}

#[derive(Debug)]
struct Workload {
    name: String,
    pods: u32,
    /// The features its pods exercise (for the per-feature report).
    features: Vec<&'static str>,
}

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.below(items.len() as u64) as usize]
}

const ZONES: [&str; 3] = ["conf-zone-a", "conf-zone-b", "conf-zone-c"];
/// Node shapes: CPU cores, memory GiB.
const SHAPES: [(u64, u64); 6] = [(2, 8), (4, 8), (4, 16), (8, 16), (8, 32), (16, 64)];
const CPU: [u64; 7] = [50, 100, 250, 500, 1000, 1500, 2000];
const MEMORY_MI: [u64; 7] = [64, 128, 256, 512, 1024, 2048, 4096];

fn node(rng: &mut Rng, i: usize, zones: usize) -> (Value, Option<String>) {
    let name = format!("conf-{i:02}");
    let zone = ZONES[i % zones];
    let (cpu, mem) = *pick(rng, &SHAPES);
    let pods = if rng.chance(10) { 8 } else { 110 };
    let mut taints = Vec::new();
    let mut dedicated = None;
    if rng.chance(15) {
        let group = pick(rng, &["gpu", "batch"]).to_string();
        taints.push(json!({"key": "dedicated", "value": group, "effect": "NoSchedule"}));
        dedicated = Some(group);
    }
    if rng.chance(12) {
        taints.push(json!({"key": "spot", "value": "true", "effect": "PreferNoSchedule"}));
    }
    let resources = json!({
        "cpu": cpu.to_string(),
        "memory": format!("{mem}Gi"),
        "pods": pods.to_string(),
        "ephemeral-storage": "100Gi",
    });
    let node = json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                HOST: name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
                ZONE: zone,
                "topology.kubernetes.io/region": "conf-region",
                "node.kubernetes.io/instance-type": format!("c{cpu}m{mem}"),
                "disk": *pick(rng, &["ssd", "hdd"]),
                "tier": pick(rng, &["1", "2", "3"]).to_string(),
            },
        },
        "spec": {"taints": taints},
        "status": {
            "allocatable": resources,
            "capacity": resources,
            "nodeInfo": {
                "architecture": "amd64",
                "operatingSystem": "linux",
                "kubeletVersion": "fake",
                "kubeProxyVersion": "fake",
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
                "kernelVersion": "",
                "osImage": "",
                "containerRuntimeVersion": "",
            },
        },
    });
    (node, dedicated)
}

fn selector(app: &str) -> Value {
    json!({"matchLabels": {"app": app}})
}

/// A pod template (labels and spec) for workload `name`, with random constraints.
fn template(
    rng: &mut Rng,
    name: &str,
    others: &[String],
    dedicated: &[String],
    port: &mut u16,
) -> (Value, Vec<&'static str>) {
    let mut features = Vec::new();
    let mut requests = serde_json::Map::new();
    if rng.chance(6) {
        features.push("best-effort");
    } else {
        requests.insert("cpu".into(), format!("{}m", pick(rng, &CPU)).into());
        requests.insert(
            "memory".into(),
            format!("{}Mi", pick(rng, &MEMORY_MI)).into(),
        );
    }
    let mut container = json!({
        "name": "app",
        "image": "registry.invalid/app:1",
        "resources": {"requests": requests},
    });
    if rng.chance(6) {
        *port += 1;
        container["ports"] = json!([{"containerPort": 8080, "hostPort": *port}]);
        features.push("host-ports");
    }
    let mut spec = json!({
        "schedulingGates": [{"name": GATE}],
        "terminationGracePeriodSeconds": 0,
        "containers": [container],
    });
    if rng.chance(12) {
        spec["priorityClassName"] = json!(HIGH_PRIORITY);
        features.push("priority");
    }
    if !dedicated.is_empty() && rng.chance(30) {
        spec["tolerations"] = if rng.chance(30) {
            json!([{"key": "dedicated", "operator": "Exists"}])
        } else {
            json!([{"key": "dedicated", "operator": "Equal",
                    "value": pick(rng, dedicated), "effect": "NoSchedule"}])
        };
        features.push("tolerations");
    }
    if rng.chance(8) {
        spec["nodeSelector"] = json!({"disk": "ssd"});
        features.push("node-selector");
    }
    let mut affinity = serde_json::Map::new();
    let mut node_affinity = serde_json::Map::new();
    if rng.chance(10) {
        let mut tiers: Vec<&str> = ["1", "2", "3"]
            .into_iter()
            .filter(|_| rng.chance(60))
            .collect();
        if tiers.is_empty() {
            tiers.push(*pick(rng, &["1", "2", "3"]));
        }
        node_affinity.insert(
            "requiredDuringSchedulingIgnoredDuringExecution".into(),
            json!({"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "tier", "operator": "In", "values": tiers}]}]}),
        );
        features.push("node-affinity");
    }
    if rng.chance(20) {
        node_affinity.insert(
            "preferredDuringSchedulingIgnoredDuringExecution".into(),
            json!([{"weight": 1 + rng.below(100), "preference": {"matchExpressions": [
                {"key": "disk", "operator": "In", "values": [*pick(rng, &["ssd", "hdd"])]}]}}]),
        );
        features.push("preferred-node-affinity");
    }
    if !node_affinity.is_empty() {
        affinity.insert("nodeAffinity".into(), Value::Object(node_affinity));
    }
    let mut pod_affinity = serde_json::Map::new();
    let mut anti = serde_json::Map::new();
    if rng.chance(15) {
        let key = if rng.chance(80) { HOST } else { ZONE };
        anti.insert(
            "requiredDuringSchedulingIgnoredDuringExecution".into(),
            json!([{"labelSelector": selector(name), "topologyKey": key}]),
        );
        features.push("pod-anti-affinity");
    }
    if !others.is_empty() && rng.chance(8) {
        pod_affinity.insert(
            "requiredDuringSchedulingIgnoredDuringExecution".into(),
            json!([{"labelSelector": selector(pick(rng, others).as_str()), "topologyKey": ZONE}]),
        );
        features.push("pod-affinity");
    }
    if !others.is_empty() && rng.chance(15) {
        let key = if rng.chance(50) { HOST } else { ZONE };
        pod_affinity.insert(
            "preferredDuringSchedulingIgnoredDuringExecution".into(),
            json!([{"weight": 1 + rng.below(100), "podAffinityTerm":
                {"labelSelector": selector(pick(rng, others).as_str()), "topologyKey": key}}]),
        );
        features.push("preferred-pod-affinity");
    }
    if rng.chance(15) {
        anti.insert(
            "preferredDuringSchedulingIgnoredDuringExecution".into(),
            json!([{"weight": 1 + rng.below(100), "podAffinityTerm":
                {"labelSelector": selector(name), "topologyKey": HOST}}]),
        );
        features.push("preferred-pod-anti-affinity");
    }
    if !pod_affinity.is_empty() {
        affinity.insert("podAffinity".into(), Value::Object(pod_affinity));
    }
    if !anti.is_empty() {
        affinity.insert("podAntiAffinity".into(), Value::Object(anti));
    }
    if !affinity.is_empty() {
        spec["affinity"] = Value::Object(affinity);
    }
    let mut spread = Vec::new();
    if rng.chance(10) {
        spread.push(json!({"maxSkew": 1, "topologyKey": ZONE,
            "whenUnsatisfiable": "DoNotSchedule", "labelSelector": selector(name)}));
        features.push("spread-do-not-schedule");
    }
    if rng.chance(12) {
        let key = if rng.chance(50) { HOST } else { ZONE };
        spread.push(json!({"maxSkew": 1 + rng.below(2), "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": selector(name)}));
        features.push("spread-schedule-anyway");
    }
    if !spread.is_empty() {
        spec["topologySpreadConstraints"] = Value::Array(spread);
    }
    let labels = json!({"app": name, WORKLOAD_LABEL: name});
    (
        json!({"metadata": {"labels": labels}, "spec": spec}),
        features,
    )
}

/// The cluster and workloads of `seed`.
fn generate(seed: u64) -> Case {
    let mut rng = Rng::new(seed);
    let namespace = format!("conf-{seed}");
    let n = 10 + rng.below(31) as usize;
    let zones = 1 + rng.below(3) as usize;
    let mut nodes = Vec::new();
    let mut dedicated: Vec<String> = Vec::new();
    let mut total_cpu = 0;
    for i in 0..n {
        let (node, group) = node(&mut rng, i, zones);
        total_cpu += node["status"]["allocatable"]["cpu"]
            .as_str()
            .and_then(|c| c.parse::<u64>().ok())
            .unwrap_or(0)
            * 1000;
        nodes.push(node);
        if let Some(g) = group.filter(|g| !dedicated.contains(g)) {
            dedicated.push(g);
        }
    }
    // Workloads until their requests reach 40–90 % of the cluster's CPU.
    let target = total_cpu * (40 + rng.below(51)) / 100;
    let mut requested = 0;
    let mut objects = vec![json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": namespace, "labels": {"conf.kube-compactor.io/case": seed.to_string()}},
    })];
    let mut workloads: Vec<Workload> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut port = 9000;
    while requested < target && workloads.len() < 60 {
        let i = workloads.len();
        let name = format!("w{i:02}");
        let (mut tpl, mut features) = template(&mut rng, &name, &names, &dedicated, &mut port);
        let kind = *pick(
            &mut rng,
            &[
                "ReplicaSet",
                "ReplicaSet",
                "ReplicaSet",
                "StatefulSet",
                "Job",
                "Pod",
            ],
        );
        let pods = if kind == "Pod" {
            1 + rng.below(2)
        } else {
            1 + rng.below(6)
        } as u32;
        let cpu = tpl["spec"]["containers"][0]["resources"]["requests"]["cpu"]
            .as_str()
            .and_then(|c| c.trim_end_matches('m').parse::<u64>().ok())
            .unwrap_or(100);
        requested += cpu * u64::from(pods);
        let meta = json!({"name": name, "namespace": namespace});
        let select = json!({"matchLabels": {WORKLOAD_LABEL: name}});
        match kind {
            "ReplicaSet" => objects.push(json!({
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta,
                "spec": {"replicas": pods, "selector": select, "template": tpl},
            })),
            "StatefulSet" => objects.push(json!({
                "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta,
                "spec": {"replicas": pods, "selector": select, "serviceName": name,
                         "podManagementPolicy": "Parallel", "template": tpl},
            })),
            "Job" => {
                tpl["spec"]["restartPolicy"] = json!("Never");
                objects.push(json!({
                    "apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
                    "spec": {"parallelism": pods, "completions": pods, "backoffLimit": 0,
                             "template": tpl},
                }));
            }
            _ => {
                // Some bare pods get a volume in one zone: a static PersistentVolume with
                // zonal node affinity, pre-bound to the pod's claim.
                let zonal = rng
                    .chance(25)
                    .then(|| ZONES[rng.below(zones as u64) as usize]);
                if zonal.is_some() {
                    features.push("pvc-zone");
                }
                for k in 0..pods {
                    let mut pod = tpl.clone();
                    let pod_name = format!("{name}-{k}");
                    pod["apiVersion"] = json!("v1");
                    pod["kind"] = json!("Pod");
                    pod["metadata"]["name"] = json!(pod_name);
                    pod["metadata"]["namespace"] = json!(namespace);
                    if let Some(zone) = zonal {
                        let claim = format!("{pod_name}-data");
                        let pv = format!("{namespace}-{claim}");
                        objects.push(json!({
                            "apiVersion": "v1", "kind": "PersistentVolume",
                            "metadata": {"name": pv, "labels": {"conf.kube-compactor.io/case": seed.to_string()}},
                            "spec": {
                                "capacity": {"storage": "1Gi"},
                                "accessModes": ["ReadWriteOnce"],
                                "storageClassName": STORAGE_CLASS,
                                "hostPath": {"path": format!("/tmp/{pv}")},
                                "claimRef": {"namespace": namespace, "name": claim},
                                "nodeAffinity": {"required": {"nodeSelectorTerms": [
                                    {"matchExpressions": [{"key": ZONE, "operator": "In", "values": [zone]}]}]}},
                            },
                        }));
                        objects.push(json!({
                            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                            "metadata": {"name": claim, "namespace": namespace},
                            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": STORAGE_CLASS,
                                     "volumeName": pv, "resources": {"requests": {"storage": "1Gi"}}},
                        }));
                        pod["spec"]["volumes"] = json!([{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]);
                    }
                    objects.push(pod);
                }
            }
        }
        if matches!(kind, "ReplicaSet" | "StatefulSet")
            && !features.iter().any(|f| f.starts_with("spread"))
        {
            features.push("default-spreading");
        }
        features.push(match kind {
            "ReplicaSet" => "owner-replicaset",
            "StatefulSet" => "owner-statefulset",
            "Job" => "owner-job",
            _ => "bare-pod",
        });
        workloads.push(Workload {
            name: name.clone(),
            pods,
            features,
        });
        names.push(name);
    }
    let mut order: Vec<usize> = workloads
        .iter()
        .enumerate()
        .flat_map(|(i, w)| std::iter::repeat_n(i, w.pods as usize))
        .collect();
    for i in (1..order.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    Case {
        seed,
        namespace,
        nodes,
        objects,
        workloads,
        order,
    }
}

// --------------------------------------------------------------------------------- driver

#[derive(Debug, Default, Clone, Copy, Serialize)]
struct Tally {
    placements: u32,
    /// Our prediction had a single top node…
    exact: u32,
    /// …and kube-scheduler chose it.
    exact_agree: u32,
    /// Our top score tied between nodes…
    tied: u32,
    /// …and kube-scheduler chose one of them…
    tied_agree: u32,
    /// …the first of them, the one the plan names (the rest shows its random tie-break).
    tied_first: u32,
    /// Both found no node.
    both_unschedulable: u32,
}

impl Tally {
    fn add(&mut self, outcome: &Outcome) {
        self.placements += 1;
        match outcome {
            Outcome::BothUnschedulable => self.both_unschedulable += 1,
            Outcome::Exact(agree) => {
                self.exact += 1;
                self.exact_agree += u32::from(*agree);
            }
            Outcome::Tied { agree, first } => {
                self.tied += 1;
                self.tied_agree += u32::from(*agree);
                self.tied_first += u32::from(*first);
            }
        }
    }

    fn agreement(&self) -> f64 {
        let (ok, all) = (
            self.exact_agree + self.both_unschedulable,
            self.exact + self.both_unschedulable,
        );
        if all == 0 {
            100.0
        } else {
            f64::from(ok) * 100.0 / f64::from(all)
        }
    }
}

/// A placement compared: unschedulable on both sides, or a prediction (one node or a tie)
/// and whether kube-scheduler agreed (a prediction of "no node" that the scheduler placed,
/// or the reverse, counts as an exact disagreement).
enum Outcome {
    BothUnschedulable,
    Exact(bool),
    Tied { agree: bool, first: bool },
}

#[derive(Debug, Serialize)]
struct Disagreement<'a> {
    seed: u64,
    step: usize,
    pod: &'a str,
    features: &'a [&'static str],
    predicted: &'a PodPrediction,
    scheduled: Option<&'a str>,
}

struct Run {
    kc: Kubectl,
    /// The scheduler configuration the cluster runs (the prediction follows it).
    scheduler: SchedulerConfig,
    out: PathBuf,
    total: Tally,
    by_feature: BTreeMap<&'static str, Tally>,
    disagreements: u32,
    timeouts: u32,
}

impl Run {
    fn case(&mut self, case: &Case) -> Result<()> {
        let kc = &self.kc;
        kc.run(&["delete", "nodes", "--all", "--wait=true"], None)?;
        kc.create(&case.nodes)?;
        let n = case.nodes.len();
        let ready = kc.wait_nodes_ready(n, Duration::from_secs(60))?;
        if !ready {
            bail!("seed {}: the {n} nodes did not become Ready", case.seed);
        }
        kc.create(&case.objects)?;
        let ns = case.namespace.as_str();
        let expected: u32 = case.workloads.iter().map(|w| w.pods).sum();
        let created = poll(Duration::from_secs(60), || {
            let pods = kc.json(&["get", "pods", "-n", ns])?;
            let have = pods["items"].as_array().map_or(0, Vec::len) as u32;
            Ok((have >= expected).then_some(()))
        })?;
        if created.is_none() {
            bail!(
                "seed {}: the workloads did not create {expected} pods",
                case.seed
            );
        }
        let bound = poll(Duration::from_secs(60), || {
            let claims = kc.json(&["get", "pvc", "-n", ns])?;
            Ok(claims["items"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|c| c["status"]["phase"] == "Bound")
                .then_some(()))
        })?;
        if bound.is_none() {
            bail!("seed {}: the claims did not bind", case.seed);
        }
        for (step, &w) in case.order.iter().enumerate() {
            self.step(case, step, &case.workloads[w])?;
        }
        let kc = &self.kc;
        // Gone at once: controllers orphaned, pods force-deleted, the namespace in the background.
        kc.empty_namespace(ns, "rs,sts,job")?;
        kc.run(&["delete", "namespace", ns, "--wait=false"], None)?;
        kc.run(
            &[
                "delete",
                "pv",
                "-l",
                &format!("conf.kube-compactor.io/case={}", case.seed),
                "--wait=false",
            ],
            None,
        )?;
        Ok(())
    }

    fn step(&mut self, case: &Case, step: usize, workload: &Workload) -> Result<()> {
        let kc = &self.kc;
        let ns = case.namespace.as_str();
        let label = format!("{WORKLOAD_LABEL}={}", workload.name);
        // The workload's first gated pod (a controller may still be replacing one).
        let name = poll(Duration::from_secs(20), || {
            let pods = kc.json(&["get", "pods", "-n", ns, "-l", &label])?;
            let mut gated: Vec<String> = pods["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| {
                    p["spec"]["schedulingGates"]
                        .as_array()
                        .is_some_and(|g| !g.is_empty())
                        && p["metadata"]["deletionTimestamp"].is_null()
                })
                .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_owned))
                .collect();
            gated.sort();
            Ok(gated.into_iter().next())
        })?;
        let Some(name) = name else {
            // Every pod of the workload was released already (a Job or ReplicaSet recreated
            // fewer than the order expects): nothing to compare.
            return Ok(());
        };
        let key = format!("{ns}/{name}");
        let dump = kc.dump()?;
        let spec = compactor_kube::read_snapshot(&dump).context("reading the dump")?;
        let snapshot = Snapshot::new(spec).context("building the snapshot")?;
        let predicted = predict_pods(&snapshot, &[key.as_str()], &self.scheduler)?
            .into_iter()
            .next()
            .context("no prediction")?;
        kc.run(
            &[
                "patch",
                "pod",
                &name,
                "-n",
                ns,
                "--type=json",
                "-p",
                r#"[{"op":"remove","path":"/spec/schedulingGates"}]"#,
            ],
            None,
        )?;
        // Bound, or found unschedulable.
        let result = poll(Duration::from_secs(30), || {
            let pod = kc.json(&["get", "pod", &name, "-n", ns])?;
            if let Some(node) = pod["spec"]["nodeName"].as_str() {
                return Ok(Some(Some(node.to_owned())));
            }
            let unschedulable = pod["status"]["conditions"].as_array().is_some_and(|c| {
                c.iter().any(|c| {
                    c["type"] == "PodScheduled"
                        && c["status"] == "False"
                        && c["reason"] == "Unschedulable"
                })
            });
            Ok(unschedulable.then_some(None))
        })?;
        let Some(scheduled) = result else {
            self.timeouts += 1;
            eprintln!(
                "seed {} step {step}: {key} neither bound nor unschedulable in 30 s",
                case.seed
            );
            return Ok(());
        };
        if scheduled.is_none() {
            // Out of the way, so that it cannot be bound later behind our back.
            kc.force_delete(&["pod", &name], ns)?;
        }
        let outcome = match (&predicted.node, &scheduled) {
            (None, None) => Outcome::BothUnschedulable,
            (Some(ours), Some(theirs)) if !predicted.tied_with.is_empty() => Outcome::Tied {
                agree: ours == theirs || predicted.tied_with.contains(theirs),
                first: ours == theirs,
            },
            (Some(ours), Some(theirs)) => Outcome::Exact(ours == theirs),
            _ => Outcome::Exact(false),
        };
        let agree = match outcome {
            Outcome::BothUnschedulable => true,
            Outcome::Exact(a) | Outcome::Tied { agree: a, .. } => a,
        };
        self.total.add(&outcome);
        for f in &workload.features {
            self.by_feature.entry(f).or_default().add(&outcome);
        }
        if !agree {
            self.disagreements += 1;
            let dir = self.out.join(format!("seed-{}-step-{step:03}", case.seed));
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join("dump.json"), &dump)?;
            let record = Disagreement {
                seed: case.seed,
                step,
                pod: &key,
                features: &workload.features,
                predicted: &predicted,
                scheduled: scheduled.as_deref(),
            };
            std::fs::write(
                dir.join("result.json"),
                serde_json::to_string_pretty(&record)?,
            )?;
            eprintln!(
                "seed {} step {step}: {key} predicted {} (tied with [{}]), kube-scheduler chose {} ({})",
                case.seed,
                predicted.node.as_deref().unwrap_or("no node"),
                predicted.tied_with.join(", "),
                scheduled.as_deref().unwrap_or("no node"),
                dir.display()
            );
        }
        Ok(())
    }
}

fn main() -> Result<()> {
    let mut seeds = 1..11u64;
    let mut out = std::env::temp_dir().join("kube-compactor-conformance");
    let mut print_case = false;
    let mut min_agreement: Option<f64> = None;
    let mut scheduler = SchedulerConfig::default();
    let mut kc = Kubectl::from_env();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--seeds" => {
                let v = value()?;
                let (a, b) = v.split_once("..").context("--seeds takes FROM..TO")?;
                seeds = a.parse()?..b.parse()?;
            }
            "--out" => out = PathBuf::from(value()?),
            "--kubectl" => kc.bin = PathBuf::from(value()?),
            "--min-agreement" => min_agreement = Some(value()?.parse()?),
            "--print-case" => print_case = true,
            "--scheduler-config" => {
                let path = value()?;
                let text = std::fs::read_to_string(&path).with_context(|| path.clone())?;
                let value: Value = serde_yaml_ng::from_str(&text).with_context(|| path.clone())?;
                scheduler =
                    compactor_kube::scheduler_config(&value).with_context(|| path.clone())?;
            }
            other => bail!(
                "unknown argument {other}; usage: conformance [--seeds FROM..TO] [--out DIR] [--kubectl FILE] [--min-agreement PERCENT] [--scheduler-config FILE] [--print-case]"
            ),
        }
    }
    if print_case {
        for seed in seeds {
            let case = generate(seed);
            let items: Vec<&Value> = case.nodes.iter().chain(&case.objects).collect();
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &json!({"apiVersion": "v1", "kind": "List", "items": items})
                )?
            );
        }
        return Ok(());
    }
    // Only a cluster of kwok nodes: this deletes every node.
    let nodes = kc.json(&["get", "nodes"])?;
    let foreign: Vec<&str> = nodes["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| n["metadata"]["labels"]["type"] != "kwok")
        .filter_map(|n| n["metadata"]["name"].as_str())
        .collect();
    if !foreign.is_empty() {
        bail!(
            "refusing to run: nodes {foreign:?} are not kwok nodes (this suite deletes every node)"
        );
    }
    kc.run(
        &[
            "delete",
            "namespace",
            "e2e-apps",
            "--ignore-not-found",
            "--wait=true",
        ],
        None,
    )?;
    let priority = json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
        "metadata": {"name": HIGH_PRIORITY}, "value": 1000,
        "description": "kube-compactor conformance suite: the high-priority pods"});
    kc.run(&["apply", "-f", "-"], Some(priority.to_string().as_bytes()))?;
    std::fs::create_dir_all(&out)?;
    let mut run = Run {
        kc,
        scheduler,
        out: out.clone(),
        total: Tally::default(),
        by_feature: BTreeMap::new(),
        disagreements: 0,
        timeouts: 0,
    };
    let start = Instant::now();
    let cases = seeds.end.saturating_sub(seeds.start);
    let start_seed = seeds.start;
    for seed in seeds {
        let case = generate(seed);
        run.case(&case)
            .with_context(|| format!("seed {seed} ({} nodes)", case.nodes.len()))?;
        // Kept after every cluster, so that an interrupted run still has its figures.
        write_summary(&run, seed + 1 - start_seed, &out)?;
        eprintln!(
            "seed {seed}: {} nodes, {} placements so far, {:.1} % agreement on non-tied choices, {:.0} s",
            case.nodes.len(),
            run.total.placements,
            run.total.agreement(),
            start.elapsed().as_secs_f64()
        );
    }
    run.kc.run(&["delete", "nodes", "--all"], None)?;
    report(&run, cases, &out)?;
    if let Some(min) = min_agreement
        && run.total.agreement() < min
    {
        bail!(
            "agreement on non-tied choices {:.2} % is below {min} %",
            run.total.agreement()
        );
    }
    Ok(())
}

fn pct(a: u32, b: u32) -> String {
    if b == 0 {
        "–".into()
    } else {
        format!("{:.1} %", f64::from(a) * 100.0 / f64::from(b))
    }
}

fn report(run: &Run, cases: u64, out: &Path) -> Result<()> {
    println!(
        "| feature | placements | non-tied agree | tied: scheduler chose one of the tied nodes | tied: it chose the first | both unschedulable |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let row = |name: &str, t: &Tally| {
        println!(
            "| {name} | {} | {}/{} ({}) | {}/{} ({}) | {} | {} |",
            t.placements,
            t.exact_agree,
            t.exact,
            pct(t.exact_agree, t.exact),
            t.tied_agree,
            t.tied,
            pct(t.tied_agree, t.tied),
            t.tied_first,
            t.both_unschedulable
        );
    };
    for (f, t) in &run.by_feature {
        row(f, t);
    }
    row("**all**", &run.total);
    println!(
        "{cases} clusters, {} placements, {} disagreements ({}), {} timeouts",
        run.total.placements,
        run.disagreements,
        out.display(),
        run.timeouts
    );
    write_summary(run, cases, out)
}

fn write_summary(run: &Run, cases: u64, out: &Path) -> Result<()> {
    let summary = json!({
        "cases": cases,
        "total": run.total,
        "byFeature": run.by_feature,
        "disagreements": run.disagreements,
        "timeouts": run.timeouts,
    });
    std::fs::write(
        out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    Ok(())
}
