//! `kube-compactor demo` and the embedded demo's inputs, end to end: each input the demo
//! prints is a file the corresponding option reads, and fed back through that option it gives
//! the same plan or analysis as the built-in default.

use std::path::{Path, PathBuf};

mod common;

use common::{run, stderr, stdout};

/// Observations in the demo's usage history (`demo metrics --sample 1..=12`).
const SAMPLES: u32 = 12;

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("kube-compactor-demo-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Runs `args`, expects success, returns standard output.
fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// Writes what `kube-compactor demo <input> [more]` prints to `dir/<file>`.
fn save(dir: &Path, file: &str, args: &[&str]) -> String {
    let path = dir.join(file);
    std::fs::write(&path, ok(args)).expect("write");
    path.to_str().expect("utf-8 path").to_owned()
}

#[test]
fn demo_prints_the_snapshot_by_default() {
    let plain = ok(&["demo"]);
    assert_eq!(plain, ok(&["demo", "snapshot"]));
    let spec: compactor_core::model::SnapshotSpec =
        serde_json::from_str(&plain).expect("core snapshot JSON");
    assert_eq!(spec.nodes.len(), 20);
    let running: Vec<_> = spec
        .pods
        .iter()
        .filter(|p| !p.phase.is_terminal())
        .collect();
    assert!(running.iter().all(|p| p.usage.is_some()));
    assert!(
        running
            .iter()
            .all(|p| p.usage_samples.len() == SAMPLES as usize)
    );
    assert_eq!(
        ok(&["demo", "metrics"]),
        ok(&["demo", "metrics", "--sample", "12"])
    );
    assert_ne!(
        ok(&["demo", "metrics", "--sample", "1"]),
        ok(&["demo", "metrics"])
    );
}

#[test]
fn traffic_and_pricing_round_trip_through_their_options() {
    let dir = temp_dir("plan");
    let traffic = save(&dir, "traffic.json", &["demo", "traffic"]);
    let pricing = save(&dir, "pricing.json", &["demo", "pricing"]);
    let snapshot = save(&dir, "snapshot.json", &["demo", "snapshot"]);
    for strategy in ["network-aware", "best-fit"] {
        let built_in = ok(&["plan", "--strategy", strategy, "-o", "json"]);
        for args in [
            vec!["--traffic", &traffic],
            vec!["--traffic", &traffic, "--pricing", &pricing],
            vec![
                "--from",
                &snapshot,
                "--traffic",
                &traffic,
                "--pricing",
                &pricing,
            ],
        ] {
            let mut all = vec!["plan", "--strategy", strategy, "-o", "json"];
            all.extend(args.iter().copied());
            assert!(
                ok(&all) == built_in,
                "{all:?} differs from the built-in plan"
            );
        }
    }
    // The defaults are the demo's only: another snapshot gets neither.
    let from_file = ok(&["plan", "--from", &snapshot, "-o", "json"]);
    let plan: serde_json::Value = serde_json::from_str(&from_file).expect("json");
    assert!(plan.get("traffic").is_none(), "{plan}");
    let built_in: serde_json::Value =
        serde_json::from_str(&ok(&["plan", "-o", "json"])).expect("json");
    assert_ne!(plan["savings"], built_in["savings"]);

    let analysis = ok(&["analyze", "-o", "json"]);
    assert!(ok(&["analyze", "--pricing", &pricing, "-o", "json"]) == analysis);
    assert!(
        ok(&[
            "analyze",
            "--from",
            &snapshot,
            "--pricing",
            &pricing,
            "-o",
            "json"
        ]) == analysis
    );
}

/// The twelve observations, given to `--metrics` oldest first on the demo stripped of its
/// usage, give the built-in analysis.
#[test]
fn metrics_round_trip_through_the_metrics_option() {
    let dir = temp_dir("metrics");
    let pricing = save(&dir, "pricing.json", &["demo", "pricing"]);
    let mut spec: serde_json::Value =
        serde_json::from_str(&ok(&["demo", "snapshot"])).expect("json");
    for pod in spec["pods"].as_array_mut().expect("pods") {
        let pod = pod.as_object_mut().expect("pod");
        pod.remove("usage");
        pod.remove("usageSamples");
    }
    let bare = dir.join("bare.json");
    std::fs::write(&bare, spec.to_string()).expect("write");
    let bare = bare.to_str().expect("utf-8").to_owned();

    let without = ok(&["analyze", "--from", &bare, "--pricing", &pricing]);
    assert!(without.contains("usage unknown"), "{without}");

    let files: Vec<String> = (1..=SAMPLES)
        .map(|i| {
            let sample = i.to_string();
            save(
                &dir,
                &format!("pods-{i}.json"),
                &["demo", "metrics", "--sample", &sample],
            )
        })
        .collect();
    let mut args = vec![
        "analyze",
        "--from",
        &bare,
        "--pricing",
        &pricing,
        "-o",
        "json",
    ];
    for f in &files {
        args.extend(["--metrics", f.as_str()]);
    }
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "every metrics item matches a pod");
    assert!(
        stdout(&o) == ok(&["analyze", "-o", "json"]),
        "analysis differs"
    );
}

#[test]
fn analyze_on_the_demo_shows_every_feature() {
    let table = ok(&["analyze"]);
    for needle in [
        "146 running pods (146 with usage)",
        "Over-provisioned workloads (",
        "shop/Deployment/web",
        "shop/Deployment/recommendations",
        "Right-sizing (requests per pod",
        "percentile",
        "What-if right-sizing (the plan again with the recommended requests of",
        "more node(s) freed",
        "  table  ",
    ] {
        assert!(table.contains(needle), "missing {needle:?} in:\n{table}");
    }
    assert!(
        !table.contains("  resources  "),
        "every node priced by the table"
    );
    let gpu = table
        .lines()
        .find(|l| l.trim_start().starts_with("nvidia.com/gpu"))
        .unwrap_or_else(|| panic!("no GPU figures in:\n{table}"));
    assert!(gpu.contains("100.0 %"), "{gpu}");
    let a: serde_json::Value = serde_json::from_str(&ok(&["analyze", "-o", "json"])).expect("json");
    assert!(
        a["whatIf"]["additionalNodesFreed"]
            .as_i64()
            .expect("number")
            > 0
    );
    assert!(
        a["whatIf"]["additionalMonthlySavings"]
            .as_f64()
            .expect("number")
            > 0.0
    );
}

#[test]
fn network_aware_demo_plan_reports_traffic_and_checks() {
    let table = ok(&["plan", "--strategy", "network-aware"]);
    assert!(table.contains("Traffic ("), "{table}");
    assert!(table.contains("cross-node"), "{table}");
    assert!(!table.contains("no traffic data given"), "{table}");
    let json = ok(&["plan", "--strategy", "network-aware", "-o", "json"]);
    let plan: serde_json::Value = serde_json::from_str(&json).expect("json");
    let t = &plan["traffic"];
    let cross = |at: &str| t[at]["crossNodeBytesPerSecond"].as_f64().expect("number");
    assert!(cross("after") < cross("before"), "{t}");
    assert_eq!(plan["strategy"], "network-aware");
    let dir = temp_dir("check");
    let path = dir.join("plan.json");
    std::fs::write(&path, json).expect("write");
    let c = run(&["check", "--plan", path.to_str().expect("utf-8")]);
    assert!(c.status.success(), "{}{}", stdout(&c), stderr(&c));
}

#[test]
fn sample_goes_with_metrics_only() {
    let o = run(&["demo", "traffic", "--sample", "2"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "kube-compactor: --sample picks an observation of `demo metrics`; it goes with `metrics` only\n"
    );
    for bad in ["0", "13"] {
        let o = run(&["demo", "metrics", "--sample", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(stderr(&o).contains("is not in 1..=12"), "{}", stderr(&o));
    }
}
