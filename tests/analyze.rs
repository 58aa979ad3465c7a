//! `kube-compactor analyze`, end to end: a kubectl dump, metrics dumps and a price file in,
//! every printed figure checked against a hand computation.

use std::path::PathBuf;
mod common;

use common::{chromium, find_browser, run, stderr, stdout};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kube-compactor-analyze-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

const TWO_NODES: [&str; 9] = [
    "analyze",
    "--from",
    "tests/data/metrics-2node-cluster.json",
    "--metrics",
    "tests/data/metrics-2node-pods.json",
    "--metrics",
    "tests/data/metrics-2node-nodes.json",
    "--pricing",
    "tests/data/pricing-2node.json",
];

/// Two nodes of 8 CPU / 16 GiB (kubectl dump), PodMetrics in nanocores and Ki, NodeMetrics, a
/// price table. Hand computation of every figure:
///
/// Requests: node-a = agent 100m/200Mi + web 3/6Gi = 3100m, 6344 MiB; node-b = agent + web +
/// api 1/2Gi = 4100m, 8392 MiB. Cluster 7200m of 16000m = 45.0 %; 14736 MiB = 14.39 GiB of
/// 32 GiB = 44.97 % → "45.0 %". Pod slots 5 of 220 = 2.27 %.
/// Usage (NodeMetrics): node-a 450000000n = 450m, 1572864Ki = 1.5 GiB; node-b 1500m, 3.5 GiB.
/// Cluster 1950m = 12.1875 % → "12.2 %"; 5 GiB = 15.625 % → "15.6 %" (ties round to even).
/// node-a: cpu 3100/8000 = 38.75 % → "38.8 %", 450/8000 = 5.625 % → "5.6 %"; memory
/// 6344/16384 = 38.72 %, 1.5/16 = 9.375 % → "9.4 %". node-b: 4100/8000 = 51.25 % → "51.2 %",
/// 1500/8000 = 18.75 % → "18.8 %", 8392/16384 = 51.22 %, 3.5/16 = 21.875 % → "21.9 %".
/// Prices: node-a m5.2xlarge in eu-west-1a from the table, $0.384/h × 730 = $280.32 (the
/// eu-west-1b and spot rows do not match); node-b from its annotation, $0.336 × 730 = $245.28;
/// total $0.72/h, $525.60/month.
/// Fragmentation: workload pods web, web, api → typical 3 CPU / 6 GiB (lower median). node-a
/// free 4900m / 10040 MiB → 1 fits, 1900m and 3896 MiB stranded; node-b free 3900m / 7992 MiB
/// → 1 fits, 900m and 1848 MiB stranded. 2800m of 8800m = 31.8 %; 5744 MiB (5.6 GiB) of 18032
/// MiB (17.6 GiB) = 31.85 % → "31.9 %".
/// Efficiency: allocation 50 × (0.45 + 14736/32768) = 44.99 → "45.0 %"; pod usage
/// (50 + 41 + 300 + 500 + 800 = 1691m of 7200m; 64+64+1024+1536+1792 = 4480 MiB of 14736
/// MiB) → (0.23486 + 0.30402) / 2 = 26.94 % → "26.9 %"; score 44.99 × 0.2694 = 12.12 → "12.1".
/// agent-b1's 40000001n rounds up to 41m; web-a's 299500000n to 300m.
/// Over-provisioned (usage × 100 < 30 × requests or limits): agent 91m of 200m = 45.5 %, of
/// the 400m limit 22.75 % → over (limit); memory 128 of 400 MiB = 32 %, limit 512 MiB 25 %.
/// web 800m of 6 CPU = 13.3 %, limit 8 CPU 10 %; 2.5 of 12 GiB = 20.8 %, limit 16 GiB
/// 15.625 % → "15.6 %". api 80 % / 87.5 %: not over.
/// Recommendations (one point: × 1.5, per pod the workload's highest): agent max(75m, 62m) =
/// 75m, 96Mi; web max(450m, 750m) = 750m, max(1.5, 2.25) GiB = 2304Mi; api 1200m, 2688Mi.
/// What-if: requests 75+750 + 75+750+1200 = 2850m, 96+2304 + 96+2304+2688 = 7488 MiB (7.3
/// GiB). Now nothing fits (node-a's web 3000m onto node-b: 7100m > 5600m, 70 % of 8 CPU);
/// right-sized, node-a's web (750m) fits on node-b (2775m ≤ 5600m, 7392 MiB ≤ 11468.8 MiB):
/// node-a is drained, 1 more node, $280.32 more per month.
///
/// Overview: no node drains (2 → 2); lower bound ⌈7.2 / 8⌉ = 1 node, at the 70 % cap
/// ⌈7.2 / 5.6⌉ = 2; one pool per instance type, priced $280.32 (table) and $245.28
/// (annotation), request shares as in the node table rounded (38.8 / 38.7 % → 39 %, 51.2 % →
/// 51 %); both nodes kept as no-fit.
const GOLDEN: &str = r#"Cluster: tests/data/metrics-2node-cluster.json
  2 nodes (0 idle), 5 running pods (5 with usage); $525.60 per month ($0.72 per hour)

Overview: 2 nodes now → 2 after the plan; lower bound 1 (2 at the 70 % cap); $525.60 → $525.60 per month
Node pools by instance type (2): nodes, cost per month and request share, now → after
  POOL         NODES  $/MONTH            CPU          MEMORY
  c6i.2xlarge  1 → 1  $245.28 → $245.28  51 % → 51 %  51 % → 51 %
  m5.2xlarge   1 → 1  $280.32 → $280.32  39 % → 39 %  39 % → 39 %
Kept nodes by reason (2): no-fit 2

Utilization (of allocatable):
  RESOURCE  ALLOCATABLE  REQUESTED  USED      REQUESTED %  USED %
  cpu       16.00 CPU    7.20 CPU   1.95 CPU  45.0 %       12.2 %
  memory    32.0 GiB     14.4 GiB   5.0 GiB   45.0 %       15.6 %
  pods      220          5          unknown   2.3 %        unknown

Nodes:
  NODE    INSTANCE TYPE  PODS  CPU REQ  CPU USED  MEM REQ  MEM USED  $/MONTH  PRICE FROM  PLAN  RIGHT-SIZED PLAN
  node-a  m5.2xlarge     2     38.8 %   5.6 %     38.7 %   9.4 %     $280.32  table       kept  drained
  node-b  c6i.2xlarge    3     51.2 %   18.8 %    51.2 %   21.9 %    $245.28  annotation  kept  kept, receives 1

Fragmentation: a typical pod requests 3.00 CPU and 6.0 GiB; 2 more fit on the schedulable nodes; stranded CPU 2.80 CPU of 8.80 CPU free (31.8 %), stranded memory 5.6 GiB of 17.6 GiB free (31.9 %)
Efficiency score: 12.1 of 100 = requests 45.0 % of allocatable × usage 26.9 % of requests

Over-provisioned workloads (2; peak usage below 30 % of requests or limits):
  WORKLOAD                     PODS  CPU USED OF REQUESTED      CPU LIMIT          MEMORY USED OF REQUESTED      MEMORY LIMIT
  kube-system/DaemonSet/agent  2/2   91m of 200m (45.5 %)       400m (22.8 %)      128 MiB of 400 MiB (32.0 %)   512 MiB (25.0 %)
  shop/Deployment/web          2/2   800m of 6.00 CPU (13.3 %)  8.00 CPU (10.0 %)  2.5 GiB of 12.0 GiB (20.8 %)  16.0 GiB (15.6 %)

Right-sizing (requests per pod; report only, nothing is changed):
  WORKLOAD                     PODS  CPU          MEMORY         METHOD
  kube-system/DaemonSet/agent  2/2   100m -> 75m  200Mi -> 96Mi  single-point
  shop/Deployment/web          2/2   3 -> 750m    6Gi -> 2304Mi  single-point
  shop/StatefulSet/api         1/1   1 -> 1200m   2Gi -> 2688Mi  single-point

Plan: drains 0 of 2 nodes, saving $0.00 per month (`kube-compactor plan` explains every node).
What-if right-sizing (the plan again with the recommended requests of 5 pods):
  requests: cpu 7.20 CPU -> 2.85 CPU, memory 14.4 GiB -> 7.3 GiB
  drains 1 of 2 nodes (node-a) instead of 0: 1 more node(s) freed, $280.32 more per month ($280.32 per month in total)
"#;

#[test]
fn two_node_cluster_every_figure() {
    let o = run(&TWO_NODES);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    let out = stdout(&o);
    for (i, (got, want)) in out.lines().zip(GOLDEN.lines()).enumerate() {
        assert_eq!(got, want, "line {}", i + 1);
    }
    assert_eq!(out, GOLDEN);
}

#[test]
fn json_carries_the_same_figures() {
    let mut args = TWO_NODES.to_vec();
    args.extend(["--output", "json"]);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let cpu = &v["cluster"]["resources"][0];
    assert_eq!(cpu["resource"], "cpu");
    assert_eq!(cpu["allocatable"], 16000);
    assert_eq!(cpu["requested"], 7200);
    assert_eq!(cpu["used"], 1950);
    assert_eq!(v["cluster"]["monthlyCostFormatted"], "$525.60");
    assert_eq!(v["nodes"][0]["priceSource"], "table");
    assert_eq!(v["nodes"][1]["priceSource"], "annotation");
    assert_eq!(v["whatIf"]["additionalNodesFreed"], 1);
    assert_eq!(v["whatIf"]["drain"][0], "node-a");
    assert_eq!(v["whatIf"]["cpuRequestedAfterMillicores"], 2850);
    assert_eq!(v["whatIf"]["memoryRequestedAfterBytes"], 7488u64 << 20);
    // The same run twice gives the same bytes.
    assert_eq!(run(&args).stdout, o.stdout);
}

#[test]
fn without_metrics_usage_is_unknown() {
    let o = run(&["analyze", "--from", "tests/data/metrics-2node-cluster.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("  cpu       16.00 CPU    7.20 CPU   unknown  45.0 %       unknown"),
        "{out}"
    );
    assert!(out.contains("What-if right-sizing: usage unknown"), "{out}");
    // Without --pricing: node-a is priced by resources, 8 × $30 + 16 × $4 = $304.
    assert!(out.contains("$304.00  resources"), "{out}");
}

#[test]
fn bad_metrics_and_pricing_files_name_file_and_field() {
    let dir = temp_dir("bad");
    let metrics = dir.join("metrics.json");
    std::fs::write(
        &metrics,
        r#"{"kind": "PodMetricsList", "items": [{"metadata": {"name": "api-0", "namespace": "shop"},
            "containers": [{"name": "app", "usage": {"cpu": "12x"}}]}]}"#,
    )
    .expect("write");
    let o = run(&[
        "analyze",
        "--from",
        "tests/data/metrics-2node-cluster.json",
        "--metrics",
        metrics.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(
            "metrics.json: podmetrics shop/api-0: containers[0].usage.cpu: invalid quantity \"12x\""
        ),
        "{err}"
    );

    let pricing = dir.join("prices.json");
    std::fs::write(
        &pricing,
        r#"{"table": [{"instanceType": "m5.large", "hourly": "0.1"}]}"#,
    )
    .expect("write");
    let o = run(&["analyze", "--pricing", pricing.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("prices.json: pricing: table[0].hourly: invalid type: string \"0.1\""),
        "{err}"
    );

    // Metrics for pods that are not in the snapshot: a note on stderr, the analysis goes on.
    std::fs::write(
        &metrics,
        r#"{"kind": "PodMetricsList", "items": [{"metadata": {"name": "gone", "namespace": "shop"}, "containers": []}]}"#,
    )
    .expect("write");
    let o = run(&[
        "analyze",
        "--from",
        "tests/data/metrics-2node-cluster.json",
        "--metrics",
        metrics.to_str().expect("utf-8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("ignored: pod shop/gone"),
        "{}",
        stderr(&o)
    );
}

/// Renders `html` in headless Chromium and returns the DOM it built.
fn rendered_dom(browser: &str, html: &std::path::Path, dir: &std::path::Path) -> String {
    let url = format!("file://{}", html.display());
    chromium(browser, dir, &["--dump-dom".to_owned()], &url).0
}

#[test]
fn html_report_renders_one_bar_per_node_in_chromium() {
    let dir = temp_dir("html");
    let report = dir.join("report.html");
    let mut args = TWO_NODES.to_vec();
    let report_arg = report.to_str().expect("utf-8").to_owned();
    args.extend(["--output", "html", "--out", &report_arg]);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "--out writes the file, not stdout");
    let html = std::fs::read_to_string(&report).expect("report written");
    // Self-contained: one inline script (sorting and filtering), no link, no remote URL (the
    // SVG namespace is an identifier).
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("<script src"));
    assert!(!html.contains("<link"));
    assert_eq!(
        html.matches("http").count(),
        html.matches("http://www.w3.org/2000/svg").count()
    );

    let Some(browser) = find_browser() else {
        println!(
            "SKIPPED html_report_renders_one_bar_per_node_in_chromium: chromium is not installed \
             (apt-get install -y chromium; .ci/run installs it)"
        );
        return;
    };
    let dom = rendered_dom(&browser, &report, &dir);
    assert_eq!(dom.matches("data-node-bar=").count(), 2, "{dom}");
    assert!(dom.contains(r#"data-node-bar="node-a" data-plan="kept" data-what-if="drained""#));
    assert!(dom.contains(r#"data-node-bar="node-b" data-plan="kept" data-what-if="kept""#));
    // Bars of requested CPU and memory: node-a now and after the plan (2 × 2; drained after
    // right-sizing), node-b in all three states (3 × 2).
    assert_eq!(dom.matches(r#"class="requested""#).count(), 10);
    assert_eq!(dom.matches(r#"class="used""#).count(), 10);
    assert!(dom.contains("$280.32"), "the what-if savings are shown");

    // The demo cluster: 20 nodes, drained ones marked as the plan says.
    let demo = dir.join("demo.html");
    let o = run(&[
        "analyze",
        "-o",
        "html",
        "--out",
        demo.to_str().expect("utf-8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan = run(&["plan", "-o", "json"]);
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("plan json");
    let drained = plan["drain"].as_array().map_or(0, Vec::len);
    assert!(drained > 0);
    let dom = rendered_dom(&browser, &demo, &dir);
    assert_eq!(dom.matches("data-node-bar=").count(), 20);
    assert_eq!(dom.matches(r#"data-plan="drained""#).count(), drained);
}
