//! The bad-input catalogue (docs/bad-input.md), one case per row: every input the binary
//! reads, given wrong, mistaken or hostile, gets one printable line on standard error naming
//! the file and what is wrong, and exit code 2 — or, where the input is valid Kubernetes,
//! a plan that says what it did with it. The table in the docs lists the same ids (checked
//! below), with what the user sees, as printed by this binary.

use std::path::{Path, PathBuf};

mod common;

use common::{run, stderr, stdout};

/// How a case ends.
enum Expect {
    /// Exit 2 and this text in the one line on standard error.
    Refused(&'static str),
    /// Exit 0 and this text on standard output.
    Planned(&'static str),
}

struct Case {
    id: &'static str,
    /// Arguments; `{}` stands for the case's file.
    args: &'static [&'static str],
    /// The case's file, when it has one.
    file: Option<Vec<u8>>,
    expect: Expect,
}

fn node(name: &str) -> serde_json::Value {
    serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
        "status": {"allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                   "conditions": [{"type": "Ready", "status": "True"}]}})
}

fn pod(name: &str, on: &str, spec: serde_json::Value) -> serde_json::Value {
    let mut spec = spec;
    if spec.get("nodeName").is_none() {
        spec["nodeName"] = serde_json::json!(on);
    }
    if spec.get("containers").is_none() {
        spec["containers"] = serde_json::json!([{"name": "app",
            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}}]);
    }
    serde_json::json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"namespace": "shop", "name": name, "labels": {"app": "web"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "name": "web-7d4b9c8f6d", "uid": "u1", "controller": true}]},
        "spec": spec, "status": {"phase": "Running"}})
}

/// A kubectl list of two nodes and `items`.
fn list(items: Vec<serde_json::Value>) -> Vec<u8> {
    let mut all = vec![node("a"), node("b")];
    all.extend(items);
    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": all})
        .to_string()
        .into_bytes()
}

/// A kubectl list with one pod whose spec carries `spec`.
fn with_pod(spec: serde_json::Value) -> Option<Vec<u8>> {
    Some(list(vec![pod("web-1", "a", spec)]))
}

fn text(s: &str) -> Option<Vec<u8>> {
    Some(s.as_bytes().to_vec())
}

fn traffic(edge: &str) -> Option<Vec<u8>> {
    text(&format!(r#"{{"edges": [{edge}]}}"#))
}

fn cases() -> Vec<Case> {
    use Expect::{Planned, Refused};
    let c = |id, args, file, expect| Case {
        id,
        args,
        file,
        expect,
    };
    let from: &'static [&'static str] = &["plan", "--from", "{}"];
    let traffic_args: &'static [&'static str] = &["plan", "--traffic", "{}"];
    let pricing_args: &'static [&'static str] = &["plan", "--pricing", "{}"];
    let metrics_args: &'static [&'static str] = &["analyze", "--metrics", "{}"];
    let check_args: &'static [&'static str] = &["check", "--plan", "{}"];
    let scheduler_args: &'static [&'static str] = &["plan", "--scheduler-config", "{}"];
    vec![
        // Files.
        c(
            "file-missing",
            &["plan", "--from", "/nonexistent/dump.json"],
            None,
            Refused("/nonexistent/dump.json: No such file or directory"),
        ),
        c(
            "file-directory",
            &["plan", "--from", "/tmp"],
            None,
            Refused("/tmp: a directory; give a file"),
        ),
        c(
            "file-device",
            &["plan", "--from", "/dev/zero"],
            None,
            Refused("/dev/zero: not a regular file (a FIFO, socket or device); give a file"),
        ),
        c(
            "file-too-large",
            &["plan", "--max-input-size", "100", "--from", "{}"],
            Some(list(vec![])),
            Refused("bytes is more than the 100-byte input limit (--max-input-size)"),
        ),
        c(
            "file-size-not-a-quantity",
            &["plan", "--max-input-size", "1x"],
            None,
            Refused("\"1x\" is not a size"),
        ),
        c(
            "file-not-utf8",
            from,
            Some(vec![0xff, 0xfe, b'{']),
            Refused("stream did not contain valid UTF-8"),
        ),
        c(
            "file-empty",
            from,
            text(""),
            Refused("input is not valid json: EOF while parsing"),
        ),
        // The snapshot (--from): format.
        c(
            "snapshot-not-json",
            from,
            text("nodes: []"),
            Refused("input is not valid json: expected ident at line 1 column 2"),
        ),
        c(
            "snapshot-array",
            from,
            text("[]"),
            Refused("unrecognised input (a JSON value that is not an object)"),
        ),
        c(
            "snapshot-number",
            from,
            text("42"),
            Refused("unrecognised input (a JSON value that is not an object)"),
        ),
        c(
            "snapshot-no-kind",
            from,
            text(r#"{"items": []}"#),
            Refused("unrecognised input (an object with neither \"kind\" nor \"nodes\")"),
        ),
        c(
            "snapshot-other-kind",
            from,
            text(r#"{"kind": "Deployment"}"#),
            Refused("unrecognised input (an object of kind \"Deployment\")"),
        ),
        c(
            "snapshot-metrics-list",
            from,
            text(r#"{"kind": "PodMetricsList", "items": []}"#),
            Refused("a PodMetricsList: usage from metrics.k8s.io, which `analyze --metrics` reads"),
        ),
        c(
            "snapshot-list-without-nodes",
            from,
            text(r#"{"apiVersion": "v1", "kind": "List", "items": [{"kind": "ConfigMap"}]}"#),
            Refused("a List without any Node (1 ConfigMap)"),
        ),
        c(
            "snapshot-items-not-array",
            from,
            text(r#"{"kind": "List", "items": {}}"#),
            Refused("items"),
        ),
        c(
            "snapshot-deep-nesting",
            from,
            Some(
                [
                    "{\"kind\": \"List\", \"items\": ".to_owned(),
                    "[".repeat(100_000),
                    "]".repeat(100_000),
                    "}".to_owned(),
                ]
                .concat()
                .into_bytes(),
            ),
            Refused("recursion limit exceeded"),
        ),
        c(
            "snapshot-trailing-data",
            from,
            text(r#"{"nodes": []} {"nodes": []}"#),
            Refused("trailing characters"),
        ),
        c(
            "snapshot-core-unknown-field",
            from,
            text(r#"{"nodes": [{"name": "a", "alocatable": {}}]}"#),
            Refused("unknown field `alocatable`"),
        ),
        c(
            "snapshot-core-empty-node-name",
            from,
            text(
                r#"{"nodes": [{"name": "a", "allocatable": {"cpu": "4", "memory": "1Gi"}}], "pods": [{"namespace": "d", "name": "p", "nodeName": ""}]}"#,
            ),
            Refused("pod d/p: invalid nodeName: must not be empty"),
        ),
        // Quantities.
        c(
            "quantity-too-large",
            from,
            with_pod(
                serde_json::json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "1e400"}}}]}),
            ),
            Refused("spec.containers[0].resources.requests.cpu: invalid quantity \"1e400\""),
        ),
        c(
            "quantity-exa-overflow",
            from,
            with_pod(
                serde_json::json!({"containers": [{"name": "c", "resources": {"requests": {"memory": "9223372036854775807Ei"}}}]}),
            ),
            Refused("invalid quantity \"9223372036854775807Ei\""),
        ),
        c(
            "quantity-negative",
            from,
            with_pod(
                serde_json::json!({"containers": [{"name": "c", "resources": {"requests": {"memory": "-1Gi"}}}]}),
            ),
            Refused("invalid quantity \"-1Gi\""),
        ),
        c(
            "quantity-malformed",
            from,
            with_pod(
                serde_json::json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "1.5.3"}}}]}),
            ),
            Refused("invalid quantity \"1.5.3\""),
        ),
        c(
            "quantity-unknown-suffix",
            from,
            with_pod(
                serde_json::json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "2 cores"}}}]}),
            ),
            Refused("invalid quantity \"2 cores\""),
        ),
        // Objects.
        c(
            "object-duplicate-node",
            from,
            Some(list(vec![node("a")])),
            Refused("duplicate node a"),
        ),
        c(
            "object-duplicate-pod",
            from,
            Some(list(vec![
                pod("web-1", "a", serde_json::json!({})),
                pod("web-1", "b", serde_json::json!({})),
            ])),
            Refused("duplicate pod shop/web-1"),
        ),
        c(
            "object-unknown-node",
            from,
            Some(list(vec![pod("web-1", "z", serde_json::json!({}))])),
            Refused("pod shop/web-1 is bound to node z, which is not in the snapshot"),
        ),
        c(
            "object-empty-node-name-is-pending",
            from,
            with_pod(serde_json::json!({"nodeName": ""})),
            Planned("1 unscheduled, not planned"),
        ),
        c(
            "object-node-without-name",
            from,
            text(
                r#"{"apiVersion": "v1", "kind": "List", "items": [{"kind": "Node", "metadata": {}}]}"#,
            ),
            Refused("metadata.name"),
        ),
        c(
            "object-name-newline",
            from,
            Some(list(vec![node("c\nkube-compactor: all good")])),
            Refused(
                "node c\\nkube-compactor: all good: invalid name: contains the control or direction character \\n",
            ),
        ),
        c(
            "object-name-ansi",
            from,
            Some(list(vec![pod("web-\u{1b}[2J", "a", serde_json::json!({}))])),
            Refused("invalid name: contains the control or direction character \\u{1b}"),
        ),
        c(
            "object-label-bidi",
            from,
            Some(list(vec![{
                let mut n = node("c");
                n["metadata"]["labels"] = serde_json::json!({"team": "a\u{202e}b"});
                n
            }])),
            Refused("invalid labels[team]: contains the control or direction character \\u{202e}"),
        ),
        c(
            "selector-in-without-values",
            from,
            with_pod(
                serde_json::json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": []}]}}]}}}),
            ),
            Refused(
                "labelSelector.matchExpressions[0].values: In and NotIn need at least one value",
            ),
        ),
        c(
            "selector-exists-with-values",
            from,
            with_pod(
                serde_json::json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["x"]}]}}]}),
            ),
            Refused("Exists and DoesNotExist take no values"),
        ),
        c(
            "selector-unknown-operator",
            from,
            with_pod(
                serde_json::json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "k", "operator": "Near"}]}]}}}}),
            ),
            Refused("unknown operator \"Near\""),
        ),
        c(
            "selector-gt-not-integer",
            from,
            with_pod(
                serde_json::json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "k", "operator": "Gt", "values": ["x"]}]}]}}}}),
            ),
            Refused("Gt and Lt need exactly one integer value"),
        ),
        c(
            "toleration-unknown-operator",
            from,
            with_pod(serde_json::json!({"tolerations": [{"key": "k", "operator": "Like"}]})),
            Refused("spec.tolerations[0].operator: unknown operator \"Like\""),
        ),
        c(
            "preferred-weight-zero",
            from,
            with_pod(
                serde_json::json!({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 0, "preference": {"matchExpressions": [{"key": "k", "operator": "Exists"}]}}]}}}),
            ),
            Refused("weight 0 is outside 1-100"),
        ),
        c(
            "host-port-out-of-range",
            from,
            with_pod(
                serde_json::json!({"containers": [{"name": "a", "ports": [{"containerPort": 1, "hostPort": 70000}]}]}),
            ),
            Refused("hostPort: 70000 is not a port number"),
        ),
        c(
            "spread-max-skew-zero",
            from,
            with_pod(
                serde_json::json!({"topologySpreadConstraints": [{"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]}),
            ),
            Refused("maxSkew"),
        ),
        c(
            "pod-level-request-unsupported",
            from,
            with_pod(serde_json::json!({"resources": {"requests": {"storage": "1Gi"}}})),
            Refused("spec.resources.requests.storage: only cpu, memory and hugepages-*"),
        ),
        c(
            "node-over-committed",
            from,
            with_pod(
                serde_json::json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "100"}}}]}),
            ),
            Planned(
                "node-over-committed  node a is over-committed: its pods request 100.00 CPU of 4.00 CPU allocatable",
            ),
        ),
        // The plan (--plan of check and apply).
        c(
            "plan-not-a-plan",
            check_args,
            text(r#"{"nodes": []}"#),
            Refused("not a plan printed by `plan --output json`"),
        ),
        c(
            "plan-array",
            check_args,
            text("[]"),
            Refused("not a plan printed by `plan --output json`"),
        ),
        c(
            "plan-apply-not-a-plan",
            &["apply", "--plan", "{}"],
            text("{}"),
            Refused("not a plan printed by `plan --output json`"),
        ),
        // Traffic (--traffic).
        c(
            "traffic-array",
            traffic_args,
            text("[]"),
            Refused("traffic: .: expected a traffic file, {\"edges\": [...]}, found an array"),
        ),
        c(
            "traffic-pod-and-workload",
            traffic_args,
            traffic(
                r#"{"from": {"pod": "shop/web-1", "workload": "shop/Deployment/web"}, "to": {"pod": "data/postgres-0"}, "bytesPerSecond": 1}"#,
            ),
            Refused(
                "traffic: edges[0].from: an endpoint is either {\"pod\": …} or {\"workload\": …}, not both",
            ),
        ),
        c(
            "traffic-no-endpoint",
            traffic_args,
            traffic(r#"{"from": {}, "to": {"pod": "data/postgres-0"}, "bytesPerSecond": 1}"#),
            Refused("an endpoint needs \"pod\" or \"workload\""),
        ),
        c(
            "traffic-unknown-pod",
            traffic_args,
            traffic(
                r#"{"from": {"pod": "shop/nope"}, "to": {"pod": "data/postgres-0"}, "bytesPerSecond": 1}"#,
            ),
            Refused("shop/nope"),
        ),
        c(
            "traffic-bad-workload-reference",
            traffic_args,
            traffic(
                r#"{"from": {"workload": "shop/web"}, "to": {"pod": "data/postgres-0"}, "bytesPerSecond": 1}"#,
            ),
            Refused("workload reference \"shop/web\" is not namespace/Kind/name"),
        ),
        c(
            "traffic-rate-huge",
            traffic_args,
            traffic(
                r#"{"from": {"workload": "shop/Deployment/web"}, "to": {"pod": "data/postgres-0"}, "bytesPerSecond": 1e308}"#,
            ),
            Refused("expected a number from 0 to 1e15"),
        ),
        c(
            "traffic-rate-negative",
            traffic_args,
            traffic(
                r#"{"from": {"workload": "shop/Deployment/web"}, "to": {"pod": "data/postgres-0"}, "bytesPerSecond": -1}"#,
            ),
            Refused("bytesPerSecond is -1"),
        ),
        c(
            "traffic-unknown-field",
            traffic_args,
            traffic(r#"{"from": {"pod": "a/b"}, "to": {"pod": "a/c"}, "rate": 1}"#),
            Refused("unknown field `rate`"),
        ),
        c(
            "traffic-threshold-nan",
            &["plan", "--traffic-threshold", "NaN"],
            None,
            Refused("trafficThreshold: NaN is not a number from 0 to 1e15 bytes per second"),
        ),
        // Pricing (--pricing).
        c(
            "pricing-array",
            pricing_args,
            text("[]"),
            Refused("pricing: .: expected a price table, {\"table\": [...]}, found an array"),
        ),
        c(
            "pricing-duplicate-row",
            pricing_args,
            text(
                r#"{"table": [{"instanceType": "m5.large", "hourly": 0.1}, {"instanceType": "m5.large", "hourly": 0.2}]}"#,
            ),
            Refused("pricing: table[1]: repeats table[0]: both price instance type m5.large"),
        ),
        c(
            "pricing-huge",
            pricing_args,
            text(r#"{"table": [{"instanceType": "m5.large", "hourly": 1.7e308}]}"#),
            Refused("is over the largest price accepted (1e9 dollars)"),
        ),
        c(
            "pricing-negative",
            pricing_args,
            text(r#"{"table": [{"instanceType": "m5.large", "hourly": -1}]}"#),
            Refused("-1 is not a finite, non-negative price"),
        ),
        c(
            "pricing-unknown-field",
            pricing_args,
            text(r#"{"tabel": []}"#),
            Refused("unknown field `tabel`"),
        ),
        c(
            "pricing-wrong-type",
            pricing_args,
            text(r#"{"table": [{"instanceType": "m5.large", "hourly": "cheap"}]}"#),
            Refused("pricing: table[0].hourly: invalid type"),
        ),
        // Metrics (--metrics).
        c(
            "metrics-cluster-dump",
            metrics_args,
            Some(list(vec![])),
            Refused(
                "items[0] (Node): expected PodMetrics or NodeMetrics (a cluster dump? give it with --from)",
            ),
        ),
        c(
            "metrics-pod-twice",
            metrics_args,
            text(
                r#"{"kind": "PodMetricsList", "items": [{"metadata": {"name": "p", "namespace": "d"}, "containers": []}, {"metadata": {"name": "p", "namespace": "d"}, "containers": []}]}"#,
            ),
            Refused("items[1] (PodMetrics): d/p is also items[0]"),
        ),
        c(
            "metrics-other-kind",
            metrics_args,
            text(r#"{"kind": "ConfigMapList", "items": []}"#),
            Refused("expected PodMetricsList or NodeMetricsList"),
        ),
        c(
            "metrics-bad-usage",
            metrics_args,
            text(
                r#"{"kind": "PodMetricsList", "items": [{"metadata": {"name": "p", "namespace": "d"}, "containers": [{"name": "a", "usage": {"memory": "12XB"}}]}]}"#,
            ),
            Refused("podmetrics d/p: containers[0].usage.memory"),
        ),
        // Options and the scheduler configuration.
        c(
            "option-percentage-over-100",
            &["plan", "--percentage-of-nodes-to-score", "101"],
            None,
            Refused("101 is not in 0..=100"),
        ),
        c(
            "option-unknown-strategy",
            &["plan", "--strategy", "fastest"],
            None,
            Refused("invalid value 'fastest' for '--strategy"),
        ),
        c(
            "scheduler-config-filter-disabled",
            scheduler_args,
            text(
                "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- plugins:\n    multiPoint:\n      disabled:\n      - name: TaintToleration\n",
            ),
            Refused(
                "profiles[0].plugins.multiPoint.disabled[0]: disabling TaintToleration also changes kube-scheduler's filters",
            ),
        ),
        c(
            "scheduler-config-old-version",
            scheduler_args,
            text(
                "apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n",
            ),
            Refused(
                "apiVersion: expected kubescheduler.config.k8s.io/v1, got \"kubescheduler.config.k8s.io/v1beta3\"",
            ),
        ),
        c(
            "scheduler-config-extenders",
            scheduler_args,
            text(
                "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nextenders:\n- urlPrefix: http://x\n",
            ),
            Refused("extenders: scheduler extenders are not modelled"),
        ),
        c(
            "scheduler-config-typo",
            scheduler_args,
            text(
                "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npercentageOfNodesToscore: 50\n",
            ),
            Refused("unknown field `percentageOfNodesToscore`"),
        ),
        c(
            "scheduler-config-bad-shape",
            scheduler_args,
            text(
                "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: RequestedToCapacityRatio\n        requestedToCapacityRatio:\n          shape:\n          - {utilization: 50, score: 5}\n          - {utilization: 40, score: 10}\n",
            ),
            Refused("utilization values must increase"),
        ),
        c(
            "pod-of-another-scheduler",
            from,
            with_pod(serde_json::json!({"schedulerName": "volcano"})),
            Planned("scheduler-not-modelled"),
        ),
    ]
}

fn case_file(dir: &Path, id: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(format!("{id}.input"));
    std::fs::write(&path, content).expect("write the case's file");
    path
}

#[test]
fn every_row_of_the_catalogue() {
    let dir = std::env::temp_dir().join(format!("kube-compactor-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut failures = Vec::new();
    for case in cases() {
        let path = case.file.as_ref().map(|f| case_file(&dir, case.id, f));
        let args: Vec<String> = case
            .args
            .iter()
            .map(|a| match (*a, &path) {
                ("{}", Some(p)) => p.display().to_string(),
                (a, _) => a.to_owned(),
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(&args);
        let (err, out) = (stderr(&o), stdout(&o));
        let printable = !err
            .chars()
            .chain(out.chars())
            .any(|c| c != '\n' && compactor_core::text::is_unprintable(c));
        let ok = printable
            && match &case.expect {
                // One line of ours, or clap's usage error (its message on the first line).
                Expect::Refused(want) => {
                    o.status.code() == Some(2)
                        && ((err.starts_with("kube-compactor: ") && err.lines().count() == 1)
                            || err.starts_with("error: "))
                        && err.lines().next().is_some_and(|l| l.contains(want))
                }
                Expect::Planned(want) => o.status.success() && out.contains(want),
            };
        if let Ok(table) = std::env::var("KUBE_COMPACTOR_BAD_INPUT_TABLE") {
            // Regenerates the "what the user sees" column of docs/bad-input.md.
            let seen = match case.expect {
                Expect::Refused(_) => err.lines().next().unwrap_or_default().to_owned(),
                Expect::Planned(want) => format!("exit 0; the plan reads \"{want}\""),
            };
            let line = serde_json::json!({"id": case.id, "seen": seen.replace(&dir.display().to_string(), "DIR")});
            let mut text = std::fs::read_to_string(&table).unwrap_or_default();
            text.push_str(&format!("{line}\n"));
            std::fs::write(&table, text).expect("write the table");
        }
        if !ok {
            failures.push(format!(
                "{}: exit {:?}\n  stderr: {err}\n  stdout (start): {}",
                case.id,
                o.status.code(),
                out.chars().take(300).collect::<String>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_docs_list_every_case_once() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/bad-input.md"))
        .expect("docs/bad-input.md");
    let listed: Vec<&str> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    let ids: Vec<&str> = cases().iter().map(|c| c.id).collect();
    assert!(ids.len() >= 60, "{} cases", ids.len());
    let mut sorted = listed.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), listed.len(), "a row is listed twice");
    for id in &ids {
        assert!(listed.contains(id), "docs/bad-input.md has no row for {id}");
    }
    for id in &listed {
        assert!(
            ids.contains(id),
            "docs/bad-input.md lists {id}, which no case tests"
        );
    }
}
