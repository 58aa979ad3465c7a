//! Clusters harness: plans every kubectl dump in a folder at every safety level with every
//! strategy, and prints side by side the nodes kept, both lower bounds, the gap, what an
//! emulation of Cluster Autoscaler's documented scale-down rule keeps, plan time and peak
//! memory.
//!
//! ```sh
//! cargo run --release --example clusters -- ../shared/benchdata/clusters
//! cargo run --release --example clusters -- DIR --output json
//! cargo run --release --example clusters -- DIR --strategy best-fit --level aggressive
//! ```
//!
//! DIR holds kubectl dumps (`kubectl get nodes,pods,pdb,pvc,pv,namespaces,csinodes -A -o json`)
//! or core snapshots, as `*.json`; a single file works too.
//!
//! **Variants**, so that no figure rests on the files at hand alone: `--sample N` plans a
//! seeded sample of N nodes (with their pods), `--pods PCT` keeps a seeded PCT % of the pods
//! that are not DaemonSet pods (a lower fill), `--seeds K` makes K variants (seeds `--seed`,
//! `--seed`+1, …; default 1 from seed 1). Budget statuses are recomputed for what is left.
//! Kubectl Lists only. `--write DIR` also saves each variant there (`NAME~n600-s1.json`), for
//! `kube-compactor plan --from` and `check`.
//!
//! ```sh
//! cargo run --release --example clusters -- DIR --sample 600 --seeds 3 --strategy best-fit
//! cargo run --release --example clusters -- DIR --pods 70 --seeds 2
//! ```
//!
//! **The CA-style rule is an emulation, not Cluster Autoscaler.** It follows CA's documented
//! scale-down rule: a node whose larger share of requested CPU or memory is under 50 % is a
//! candidate, the least utilised first; a candidate goes when each of its movable pods (the
//! same drain rules as ours: bare pods, local storage, budgets… block) first-fits, in node
//! name order, onto another remaining Ready, schedulable node that passes the pod's taints,
//! nodeSelector, node affinity and volume zone, staying under the safety cap in CPU, memory
//! and ephemeral storage and under allocatable elsewhere. It does not model inter-pod rules
//! or kube-scheduler's choice (CA simulates its own scheduler), so it is a yardstick, not a
//! prediction of CA.
//!
//! Peak memory is the process's peak resident set (`VmHWM`), reset before each plan where
//! the kernel allows it (`/proc/self/clear_refs`), so it includes the loaded snapshot.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use compactor_core::Snapshot;
use compactor_core::constraints::node_allows;
use compactor_core::packing::StrategyKind;
use compactor_core::plan::{PlanOptions, PodDisposition, classify_pod, plan};
use compactor_core::resources::Dimensions;
use compactor_core::safety::SafetyLevel;
use compactor_core::verify::verify;
use serde::Serialize;

#[path = "common/variant.rs"]
mod variant;

use variant::Variant;

struct Args {
    inputs: Vec<PathBuf>,
    json: bool,
    strategies: Vec<StrategyKind>,
    levels: Vec<SafetyLevel>,
    variants: Vec<Variant>,
    write: Option<PathBuf>,
}

const USAGE: &str = "usage: clusters DIR|FILE [--output table|json] [--strategy NAME]... [--level NAME]... [--sample NODES] [--pods PERCENT] [--seed S] [--seeds K] [--write DIR]";

fn number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> anyhow::Result<T> {
    let value = value.with_context(|| format!("{flag} needs a value"))?;
    value
        .parse()
        .map_err(|_| anyhow::anyhow!("{flag}: expected a whole number, got {value:?}"))
}

fn parse_args() -> anyhow::Result<Args> {
    let mut path = None;
    let mut json = false;
    let mut strategies = Vec::new();
    let mut levels = Vec::new();
    let (mut sample, mut pods_percent, mut seed, mut seeds) = (None, 100u64, 1u64, 1u64);
    let mut write = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--output" => match args.next().as_deref() {
                Some("json") => json = true,
                Some("table") => json = false,
                other => bail!("--output: expected table or json, got {other:?}"),
            },
            "--strategy" => {
                let name = args.next().context("--strategy needs a value")?;
                let kind = StrategyKind::ALL
                    .into_iter()
                    .find(|k| k.name() == name)
                    .with_context(|| format!("--strategy: unknown strategy {name:?}"))?;
                strategies.push(kind);
            }
            "--level" => {
                let name = args.next().context("--level needs a value")?;
                let level: SafetyLevel =
                    serde_json::from_value(serde_json::Value::from(name.clone()))
                        .with_context(|| format!("--level: unknown safety level {name:?}"))?;
                levels.push(level);
            }
            "--sample" => sample = Some(number("--sample", args.next())?),
            "--pods" => {
                pods_percent = number("--pods", args.next())?;
                if pods_percent > 100 {
                    bail!("--pods: a percentage of the pods, 0 to 100, got {pods_percent}");
                }
            }
            "--seed" => seed = number("--seed", args.next())?,
            "--seeds" => seeds = number("--seeds", args.next())?,
            "--write" => {
                write = Some(PathBuf::from(
                    args.next().context("--write needs a folder")?,
                ))
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other if !other.starts_with('-') && path.is_none() => path = Some(PathBuf::from(other)),
            other => bail!("unexpected argument {other:?}"),
        }
    }
    let path = path.context(USAGE)?;
    let inputs = if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
            .with_context(|| format!("reading {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
    } else {
        vec![path]
    };
    if inputs.is_empty() {
        bail!("no *.json dumps found");
    }
    if strategies.is_empty() {
        strategies = StrategyKind::ALL.to_vec();
    }
    if levels.is_empty() {
        levels = SafetyLevel::ALL.to_vec();
    }
    // Without a sample or a share of pods every seed gives the dump itself: plan it once.
    let seeds = if sample.is_none() && pods_percent == 100 {
        1
    } else {
        seeds.max(1)
    };
    let variants = (0..seeds)
        .map(|k| Variant {
            nodes: sample,
            pods_percent,
            seed: seed.wrapping_add(k),
        })
        .collect();
    Ok(Args {
        inputs,
        json,
        strategies,
        variants,
        write,
        levels,
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    cluster: String,
    nodes: usize,
    level: String,
    strategy: String,
    kept: usize,
    cordon_only: usize,
    lower_bound: u32,
    cap_lower_bound: u32,
    gap_nodes: u32,
    gap_percent: f64,
    ca_style_kept: usize,
    plan_ms: f64,
    peak_rss_mib: Option<f64>,
    valid: bool,
}

/// Resets the process's peak resident set, where the kernel allows it.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak resident set, MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Nodes the CA-style rule keeps (see the module documentation).
fn ca_style_kept(snap: &Snapshot, level: SafetyLevel) -> usize {
    let nodes = snap.nodes();
    let n = nodes.len();
    let d = snap.dims().len();
    let cap = u128::from(level.thresholds().max_utilization_percent);
    let mut load: Vec<Vec<u64>> = (0..n).map(|i| snap.requested(i).to_vec()).collect();
    let by_node = snap.pods_by_node();
    let excluded = PlanOptions::default().excluded_namespaces;
    let open = |i: usize| {
        let s = &nodes[i].spec;
        s.ready
            && !s.unschedulable
            && s.annotations
                .get("optimizer.io/exclude")
                .map(String::as_str)
                != Some("true")
    };
    let share = |i: usize, load: &[Vec<u64>]| {
        [Dimensions::CPU, Dimensions::MEMORY]
            .iter()
            .map(|&k| load[i][k] as f64 / nodes[i].allocatable[k].max(1) as f64)
            .fold(0.0, f64::max)
    };
    let mut candidates: Vec<usize> = (0..n)
        .filter(|&i| open(i) && share(i, &load) < 0.5)
        .collect();
    candidates.sort_by(|&a, &b| {
        share(a, &load)
            .total_cmp(&share(b, &load))
            .then_with(|| nodes[a].spec.name.cmp(&nodes[b].spec.name))
    });
    let mut removed = vec![false; n];
    let fits = |to: usize, request: &[u64], load: &[Vec<u64>]| {
        (0..d).all(|k| {
            let after = u128::from(load[to][k]) + u128::from(request[k]);
            let alloc = u128::from(nodes[to].allocatable[k]);
            after <= alloc && (!Dimensions::is_capped(k) || after * 100 <= alloc * cap)
        })
    };
    let mut kept = n;
    for c in candidates {
        if kept <= 1 {
            break;
        }
        let mut movable = Vec::new();
        let mut blocked = false;
        for &p in &by_node[c] {
            match classify_pod(snap, &snap.pods()[p], &excluded, &Default::default()) {
                PodDisposition::Movable => movable.push(p),
                PodDisposition::Blocks(_) => blocked = true,
                _ => {}
            }
        }
        if blocked {
            continue;
        }
        let mut trial = load.clone();
        let mut ok = true;
        for p in movable {
            let pod = &snap.pods()[p];
            let target = (0..n).find(|&to| {
                to != c
                    && !removed[to]
                    && open(to)
                    && node_allows(&pod.spec, &nodes[to].spec).is_ok()
                    && fits(to, &pod.request, &trial)
            });
            match target {
                Some(to) => {
                    for (l, r) in trial[to].iter_mut().zip(&pod.request) {
                        *l += r;
                    }
                }
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            load = trial;
            removed[c] = true;
            kept -= 1;
        }
    }
    kept
}

fn cluster_name(path: &Path) -> String {
    path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}

/// Plans one cluster (a dump's text) at every level with every strategy asked for.
fn plan_all(args: &Args, name: &str, text: &str) -> anyhow::Result<Vec<Row>> {
    let spec =
        compactor_kube::read_snapshot(text).with_context(|| format!("{name}: not a snapshot"))?;
    let snap = Snapshot::new(spec).with_context(|| name.to_owned())?;
    let mut rows = Vec::new();
    for &level in &args.levels {
        let ca = ca_style_kept(&snap, level);
        for &strategy in &args.strategies {
            let options = PlanOptions::default()
                .with_strategy(strategy)
                .with_safety(level);
            reset_peak();
            let started = Instant::now();
            let p = plan(&snap, &options)?;
            let plan_ms = started.elapsed().as_secs_f64() * 1e3;
            let peak = peak_rss_mib();
            let cap = p.cap_lower_bound.as_ref().map_or(0, |b| b.nodes);
            rows.push(Row {
                cluster: name.to_owned(),
                nodes: snap.nodes().len(),
                level: format!("{level:?}").to_lowercase(),
                strategy: strategy.name().to_owned(),
                kept: p.kept.len(),
                cordon_only: p.cordon_only.len(),
                lower_bound: p.lower_bound.nodes,
                cap_lower_bound: cap,
                gap_nodes: p.summary.gap_nodes,
                gap_percent: p.summary.gap_percent,
                ca_style_kept: ca,
                plan_ms,
                peak_rss_mib: peak,
                valid: verify(&snap, &p, &options).is_empty(),
            });
        }
    }
    Ok(rows)
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let mut rows = Vec::new();
    for path in &args.inputs {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        // The dump is parsed once for all its variants (none when planning the dump itself).
        let dump: Option<serde_json::Value> = if args.variants[0].suffix().is_empty() {
            None
        } else {
            Some(
                serde_json::from_str(&text)
                    .with_context(|| format!("{}: not JSON", path.display()))?,
            )
        };
        for variant in &args.variants {
            let derived;
            let text = match &dump {
                None => &text,
                Some(dump) => {
                    derived =
                        serde_json::to_string(&variant::derive(dump, variant).with_context(
                            || format!("{}: variants need a kubectl List", path.display()),
                        )?)?;
                    &derived
                }
            };
            let name = format!("{}{}", cluster_name(path), variant.suffix());
            if let Some(dir) = &args.write {
                let file = dir.join(format!("{name}.json"));
                std::fs::write(&file, text)
                    .with_context(|| format!("writing {}", file.display()))?;
            }
            rows.extend(plan_all(&args, &name, text)?);
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{:<30} {:>6} {:<12} {:<15} {:>6} {:>8} {:>6} {:>8} {:>8} {:>9} {:>9} {:>9} {:>5}",
        "cluster",
        "nodes",
        "level",
        "strategy",
        "kept",
        "cordon",
        "bound",
        "capbound",
        "gap",
        "CA-style",
        "plan ms",
        "peak MiB",
        "valid"
    );
    for r in &rows {
        println!(
            "{:<30} {:>6} {:<12} {:<15} {:>6} {:>8} {:>6} {:>8} {:>7.1}% {:>9} {:>9.0} {:>9} {:>5}",
            r.cluster,
            r.nodes,
            r.level,
            r.strategy,
            r.kept,
            r.cordon_only,
            r.lower_bound,
            r.cap_lower_bound,
            r.gap_percent,
            r.ca_style_kept,
            r.plan_ms,
            r.peak_rss_mib
                .map_or_else(|| "-".to_owned(), |m| format!("{m:.0}")),
            if r.valid { "yes" } else { "NO" }
        );
    }
    Ok(())
}
