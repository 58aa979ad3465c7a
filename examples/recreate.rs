//! Rebuilds a kubectl dump on the e2e control plane: its nodes as kwok nodes, its workloads
//! recreated (a ReplicaSet, StatefulSet or DaemonSet per controller of the dump with the
//! first pod's template and the pod count as replicas; bare pods; its budgets) so that the
//! real kube-scheduler places every pod again. What e2e/ca-compare.sh runs first.
//!
//! ```sh
//! export KUBECONFIG="$(e2e/cluster.sh up)"
//! cargo run --release --example recreate -- ../shared/benchdata/clusters/openb-multigpu50-400.json \
//!     [--sample N] [--seed S] [--cluster-autoscaler]
//! ```
//!
//! `--sample N` keeps N nodes picked at random (seeded; default seed 1) and the pods that ran
//! on them. `--cluster-autoscaler` makes the nodes adoptable by Cluster Autoscaler's kwok
//! cloud provider (providerID, a node group per instance type whose max size is its size,
//! the GPU label) and runs the dump's node agent on every node as it ran there. Prints one
//! JSON line: nodes, pods expected, pods recreated, pods bound, seconds.
//!
//! It deletes every node and empties every namespace of the dump on the cluster it runs on,
//! so it refuses a cluster with a node that is not a kwok node.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

// Shared with the other e2e examples; this one uses part of it.
#[allow(dead_code)]
#[path = "common/kubectl.rs"]
mod kubectl;
#[path = "common/recreate.rs"]
mod recreate;
#[path = "common/variant.rs"]
#[allow(dead_code)] // only the node sample is used here
mod variant;

const USAGE: &str = "usage: recreate DUMP [--sample N] [--seed S] [--cluster-autoscaler]";

fn main() -> Result<()> {
    let mut it = std::env::args().skip(1);
    let mut dump = None;
    let mut sample = None;
    let mut seed = 1;
    let mut options = recreate::Options::default();
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--sample" => sample = Some(value()?.parse().context("--sample")?),
            "--seed" => seed = value()?.parse().context("--seed")?,
            "--cluster-autoscaler" => {
                options.cluster_autoscaler = true;
                options.daemonsets_where_they_ran = true;
            }
            s if !s.starts_with('-') && dump.is_none() => dump = Some(PathBuf::from(s)),
            other => bail!("unknown argument {other}; {USAGE}"),
        }
    }
    let dump = dump.context(USAGE)?;
    options.sample = sample.map(|n| (n, seed));
    let text =
        std::fs::read_to_string(&dump).with_context(|| format!("reading {}", dump.display()))?;
    let value: Value = serde_json::from_str(&text).context("the dump is not JSON")?;
    let t0 = Instant::now();
    let kc = kubectl::Kubectl::from_env();
    let loaded = recreate::load(&kc, &value, &options, t0)?;
    println!(
        "{}",
        json!({
            "nodes": loaded.nodes,
            "expectedPods": loaded.expected,
            "pods": loaded.pods,
            "boundPods": loaded.bound,
            "seconds": (t0.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        })
    );
    Ok(())
}
