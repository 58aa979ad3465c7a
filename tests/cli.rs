//! The binary, end to end: the README's commands, output formats, and bad input.

use compactor_core::Plan;
use std::path::PathBuf;

mod common;

use common::{run, stderr, stdout};

fn temp(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kube-compactor-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write temp file");
    path
}

#[test]
fn demo_plan_table_explains_everything() {
    let o = run(&["plan"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for needle in [
        "Cluster: embedded demo cluster",
        "Nodes to drain (",
        "Moves (",
        "Kept nodes (",
        "mirror-pod",
        "node-not-ready",
        "node-cordoned",
        "node-excluded",
        "pdb-exhausted",
        "Lower bound: at least",
        "Savings: $",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
}

#[test]
fn json_plan_passes_check_and_is_deterministic() {
    let a = run(&["plan", "--output", "json"]);
    let b = run(&["plan", "--output", "json"]);
    assert!(a.status.success(), "{}", stderr(&a));
    assert_eq!(a.stdout, b.stdout, "same input, different JSON");
    let plan: Plan = serde_json::from_slice(&a.stdout).expect("plan JSON");
    assert!(!plan.drain.is_empty());
    let path = temp("plan.json", &stdout(&a));
    let c = run(&["check", "--plan", path.to_str().expect("utf-8 path")]);
    assert!(c.status.success(), "{}{}", stdout(&c), stderr(&c));
    assert!(stdout(&c).starts_with("plan is valid:"), "{}", stdout(&c));
}

#[test]
fn check_rejects_a_tampered_plan() {
    let a = run(&["plan", "--output", "json"]);
    let mut plan: Plan = serde_json::from_slice(&a.stdout).expect("plan JSON");
    let moved = plan.moves.pop().expect("demo plan moves pods");
    let path = temp(
        "tampered.json",
        &serde_json::to_string(&plan).expect("json"),
    );
    let c = run(&["check", "--plan", path.to_str().expect("utf-8 path")]);
    assert_eq!(c.status.code(), Some(1));
    let out = stdout(&c);
    assert!(
        out.contains(&format!(
            "pod {}/{} stays on drained node {}",
            moved.namespace, moved.pod, moved.from_node
        )),
        "{out}"
    );
    let j = run(&[
        "check",
        "--plan",
        path.to_str().expect("utf-8 path"),
        "--output",
        "json",
    ]);
    assert_eq!(j.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&j.stdout).expect("check JSON");
    assert_eq!(report["valid"], false);
    let left = report["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .find(|v| v["violation"] == "left-behind")
        .unwrap_or_else(|| panic!("no left-behind violation in {report}"));
    assert_eq!(left["pod"], format!("{}/{}", moved.namespace, moved.pod));
    assert_eq!(left["node"], moved.from_node);
}

#[test]
fn yaml_output_and_safety_levels() {
    let o = run(&[
        "plan",
        "--from",
        "examples/data/snapshot.json",
        "-o",
        "yaml",
        "--safety",
        "aggressive",
        "--strategy",
        "first-fit",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("strategy: first-fit"), "{out}");
    assert!(out.contains("maxUtilizationPercent: 90"), "{out}");
}

#[test]
fn kubectl_dump_plans_end_to_end() {
    let o = run(&[
        "plan",
        "--from",
        "tests/data/kubectl-cluster.json",
        "--output",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan: Plan = serde_json::from_slice(&o.stdout).expect("plan JSON");
    assert_eq!(
        plan.summary.nodes as usize,
        plan.drain.len() + plan.kept.len()
    );
    let path = temp("kubectl-plan.json", &stdout(&o));
    let c = run(&[
        "check",
        "--from",
        "tests/data/kubectl-cluster.json",
        "--plan",
        path.to_str().expect("utf-8 path"),
    ]);
    assert!(c.status.success(), "{}{}", stdout(&c), stderr(&c));
}

#[test]
fn bad_files_get_one_line_and_exit_code_2() {
    let missing = run(&["plan", "--from", "/nonexistent/cluster.json"]);
    assert_eq!(missing.status.code(), Some(2));
    let err = stderr(&missing);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("kube-compactor: /nonexistent/cluster.json: "),
        "{err}"
    );

    let garbage = temp("garbage.json", "{ not json");
    let o = run(&["plan", "--from", garbage.to_str().expect("utf-8 path")]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("garbage.json"), "{}", stderr(&o));

    let bad_quantity = temp(
        "bad-quantity.json",
        r#"{"nodes":[{"name":"n","allocatable":{"cpu":"4","memory":"16Gi"}}],
            "pods":[{"namespace":"d","name":"p","nodeName":"n","containers":[{"name":"c","requests":{"cpu":"1.5.3"}}]}]}"#,
    );
    let o = run(&["plan", "--from", bad_quantity.to_str().expect("utf-8 path")]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("pods[0].containers[0].requests"), "{err}");
    assert!(err.contains("resource cpu"), "{err}");

    let unknown_node = temp(
        "unknown-node.json",
        r#"{"nodes":[{"name":"n","allocatable":{"cpu":"4","memory":"16Gi"}}],
            "pods":[{"namespace":"d","name":"p","nodeName":"gone"}]}"#,
    );
    let o = run(&["plan", "--from", unknown_node.to_str().expect("utf-8 path")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("pod d/p is bound to node gone, which is not in the snapshot"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn traffic_file_reports_cross_node_traffic() {
    let o = run(&[
        "plan",
        "--from",
        "examples/data/snapshot.json",
        "--traffic",
        "examples/data/traffic.json",
        "--strategy",
        "network-aware",
        "--output",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(plan["strategy"], "network-aware");
    let t = &plan["traffic"];
    // examples/data/traffic.json: 12,391,200 B/s in all, 6,391,200 B/s across nodes now.
    assert_eq!(t["before"]["totalBytesPerSecond"], 12_391_200.0);
    assert_eq!(t["before"]["crossNodeBytesPerSecond"], 6_391_200.0);
    assert!(
        t["after"]["crossNodeBytesPerSecond"]
            .as_f64()
            .expect("number")
            < t["before"]["crossNodeBytesPerSecond"]
                .as_f64()
                .expect("number")
    );
    assert!(plan.get("notes").is_none());

    // Without traffic (the embedded demo brings its own: tests/demo.rs), a note says so.
    let table = run(&[
        "plan",
        "--from",
        "examples/data/snapshot.json",
        "--strategy",
        "network-aware",
    ]);
    assert!(table.status.success(), "{}", stderr(&table));
    assert!(
        stdout(&table).contains(
            "Note: network-aware: no traffic data given (--traffic); planned with best-fit"
        ),
        "{}",
        stdout(&table)
    );

    let bad = temp(
        "bad-traffic.json",
        r#"{"edges":[{"from":{"pod":"shop/web-7d4b9c-x2x5z"},"to":{"pod":"shop/nope"},"bytesPerSecond":5}]}"#,
    );
    let o = run(&[
        "plan",
        "--from",
        "examples/data/snapshot.json",
        "--traffic",
        bad.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("bad-traffic.json: traffic edge 0"), "{err}");
}

/// A kubectl List with two 4-CPU nodes: `a` holds web-1 (1 CPU), `b` nothing; web-2 (same
/// ReplicaSet) and solo (a bare pod with web's labels) are pending. In name order: solo
/// (no default spreading: not owned by a controller) goes to the emptier b. Then web-2: a
/// and b hold 1 CPU each and one pod matching the ReplicaSet's labels each (web-1, and solo,
/// which kube-scheduler's selector counts too), so they tie. Predicted alone, web-2 goes to
/// b, away from its sibling.
fn pending_list() -> String {
    let node = |name: &str| {
        serde_json::json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "status": {
                "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        })
    };
    let pod = |name: &str, node: Option<&str>, owner: bool| {
        let mut p = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop",
                         "labels": {"app": "web", "pod-template-hash": "5c9f"}},
            "spec": {"containers": [{"name": "app",
                     "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]},
            "status": {"phase": if node.is_some() { "Running" } else { "Pending" }},
        });
        if let Some(n) = node {
            p["spec"]["nodeName"] = n.into();
        }
        if owner {
            p["metadata"]["ownerReferences"] = serde_json::json!([{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5c9f",
                "uid": "1", "controller": true}]);
        }
        p
    };
    serde_json::json!({
        "apiVersion": "v1", "kind": "List",
        "items": [node("a"), node("b"), pod("web-1", Some("a"), true),
                  pod("web-2", None, true), pod("solo", None, false)],
    })
    .to_string()
}

#[test]
fn predict_places_pending_pods_as_kube_scheduler_would() {
    let path = temp("pending.json", &pending_list());
    let from = path.to_str().expect("utf-8 path");
    let o = run(&["predict", "--from", from]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "shop/solo -> b\nshop/web-2 -> a (tied with b)\n"
    );
    let o = run(&[
        "predict",
        "--from",
        from,
        "--pod",
        "shop/web-2",
        "-o",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v, serde_json::json!([{"pod": "shop/web-2", "node": "b"}]));
    let o = run(&["predict", "--from", from, "--pod", "shop/web-1"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "kube-compactor: --pod: invalid option pods: pod shop/web-1 is bound to node a, not pending\n"
    );
}

#[test]
fn percentage_of_nodes_to_score_is_a_percentage() {
    let o = run(&["plan", "--percentage-of-nodes-to-score", "101"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("101 is not in 0..=100"),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "plan",
        "--percentage-of-nodes-to-score",
        "100",
        "-o",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn scheduler_config_is_followed_recorded_and_checked() {
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/e2e/manifests/scheduler-bin-packing.yaml"
    );
    let o = run(&["plan", "--scheduler-config", config, "-o", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan: Plan = serde_json::from_slice(&o.stdout).expect("plan JSON");
    let profile = plan
        .scheduler
        .profile("default-scheduler")
        .expect("profile");
    assert_eq!(
        profile.fit.strategy,
        compactor_core::plan::FitStrategy::MostAllocated
    );
    assert_eq!(plan.scheduler.percentage_of_nodes_to_score, 100);
    // `check` reads the configuration from the plan.
    let path = temp("binpack-plan.json", &stdout(&o));
    let o = run(&["check", "--plan", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stdout(&o));
    // The flag wins over the file.
    let o = run(&[
        "plan",
        "--scheduler-config",
        config,
        "--percentage-of-nodes-to-score",
        "30",
        "-o",
        "json",
    ]);
    let plan: Plan = serde_json::from_slice(&o.stdout).expect("plan JSON");
    assert_eq!(plan.scheduler.percentage_of_nodes_to_score, 30);
    // What is not modelled is refused, naming the file and the field.
    let bad = temp(
        "bad-scheduler.yaml",
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- plugins:\n    multiPoint:\n      disabled:\n      - name: NodeAffinity\n",
    );
    let o = run(&["plan", "--scheduler-config", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("bad-scheduler.yaml: KubeSchedulerConfiguration: profiles[0].plugins.multiPoint.disabled[0]: disabling NodeAffinity"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn inputs_must_be_regular_files_within_the_size_limit() {
    let dir = std::env::temp_dir().join(format!("kube-compactor-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("fifo");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    let mut cases: Vec<(Vec<String>, String)> = vec![
        (
            vec!["plan".into(), "--from".into(), "/dev/zero".into()],
            "kube-compactor: /dev/zero: not a regular file (a FIFO, socket or device); give a file\n".into(),
        ),
        (
            vec!["check".into(), "--plan".into(), dir.display().to_string()],
            format!("kube-compactor: {}: a directory; give a file\n", dir.display()),
        ),
    ];
    if made.is_ok_and(|s| s.success()) {
        cases.push((
            vec!["plan".into(), "--from".into(), fifo.display().to_string()],
            format!(
                "kube-compactor: {}: not a regular file (a FIFO, socket or device); give a file\n",
                fifo.display()
            ),
        ));
    }
    let small = temp("small.json", "[]");
    cases.push((
        vec![
            "plan".into(),
            "--max-input-size".into(),
            "1".into(),
            "--from".into(),
            small.display().to_string(),
        ],
        format!(
            "kube-compactor: {}: 2 bytes is more than the 1-byte input limit (--max-input-size)\n",
            small.display()
        ),
    ));
    for (args, want) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&o), want, "{args:?}");
    }
    let o = run(&[
        "plan",
        "--max-input-size",
        "1Ki",
        "--from",
        small.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "[] is read, then refused as no snapshot"
    );
    assert!(!stderr(&o).contains("input limit"), "{}", stderr(&o));
}

#[test]
fn names_cannot_forge_output() {
    // A node name with a newline and an ANSI escape: one line, escaped, exit 2.
    let dump = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "a\nkube-compactor: all good\u{1b}[32m"},
         "status": {"allocatable": {"cpu": "4", "memory": "16Gi"},
                    "conditions": [{"type": "Ready", "status": "True"}]}}]});
    let path = temp("forged-node.json", &dump.to_string());
    let o = run(&["plan", "--from", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains('\u{1b}'), "{err}");
    assert!(
        err.contains("node a\\nkube-compactor: all good\\u{1b}[32m: invalid name: contains the control or direction character \\n"),
        "{err}"
    );
    // A hand-edited plan naming such a pod: `check` prints each violation on one line.
    let o = run(&["plan", "-o", "json"]);
    let mut plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    if let Some(m) = plan["moves"].as_array_mut().and_then(|m| m.first_mut()) {
        m["pod"] = serde_json::json!("web\nviolation: none\u{202e}");
    }
    let path = temp("forged-plan.json", &plan.to_string());
    let o = run(&["check", "--plan", path.to_str().unwrap()]);
    let out = stdout(&o);
    assert!(!out.contains('\u{202e}'), "{out}");
    assert!(
        out.lines()
            .all(|l| l.starts_with("violation: ") || l.starts_with("plan is invalid")),
        "{out}"
    );
}

/// A reader that goes away (`kube-compactor plan | head -1`) ends the run quietly, as SIGPIPE
/// would: no "Broken pipe" message, exit status 141.
#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    use std::process::{Command, Stdio};
    // 3,000 empty nodes: a drain table far larger than a pipe's buffer.
    let nodes: Vec<String> = (0..3000)
        .map(|i| {
            format!(r#"{{"name": "n{i:04}", "allocatable": {{"cpu": "4", "memory": "16Gi"}}}}"#)
        })
        .collect();
    let path = temp(
        "many-nodes.json",
        &format!(r#"{{"nodes": [{}]}}"#, nodes.join(",")),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_kube-compactor"))
        .args(["plan", "--from", path.to_str().expect("utf-8 path")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    // Read one line, then close our end while it still has most of the table to write.
    let mut first = [0u8; 16];
    let mut stdout = child.stdout.take().expect("stdout");
    std::io::Read::read_exact(&mut stdout, &mut first).expect("some output");
    drop(stdout);
    let o = child.wait_with_output().expect("exits");
    assert_eq!(o.status.code(), Some(141), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
}

/// deploy/crds.yaml is what `kube-compactor crds` prints (regenerate with
/// `cargo run -q -- crds > deploy/crds.yaml`).
#[test]
fn deploy_crds_are_current() {
    let o = run(&["crds"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/crds.yaml"))
            .expect("deploy/crds.yaml");
    assert!(
        stdout(&o) == committed,
        "deploy/crds.yaml is stale: run `cargo run -q -- crds > deploy/crds.yaml`"
    );
    for kind in ["OptimizationConfig", "MigrationPlan", "OptimizationReport"] {
        assert!(committed.contains(&format!("kind: {kind}\n")), "{kind}");
    }
}
