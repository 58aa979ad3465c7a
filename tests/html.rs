//! The HTML report of `analyze` and `plan`, end to end: the embedded demo and a generated
//! 1,500-node cluster rendered by the binary, checked for size (< 1 MB), self-containment and
//! section order (overview before the node list); then, when headless Chromium is installed,
//! rendered for real: screenshots, the overview sections within the first screen (the page's
//! `#selftest` writes their tops into the DOM), and the render time (printed, not asserted).
//!
//! Without Chromium the browser part prints a `SKIP` line with the reason and passes; with
//! `KUBE_COMPACTOR_REQUIRE_CHROMIUM=1` a missing browser fails instead.
//! `KUBE_COMPACTOR_CHROMIUM=PATH` names the browser (empty: none, to try the skip).

use std::io::Write;
use std::path::{Path, PathBuf};

use compactor_core::model::INSTANCE_TYPE_LABEL;
use compactor_core::testing::{ClusterShape, generate};

mod common;

use common::{chromium, find_browser, run, stderr, stdout};

/// The page may not grow beyond this at 1,500 nodes.
const MAX_BYTES: usize = 1_000_000;
/// The sections of the page, in order: the overview first, the node list last.
const SECTIONS: [&str; 6] = [
    "ov-cards",
    "ov-dist",
    "ov-pools",
    "ov-reasons",
    "plan",
    "nodes",
];
/// The overview sections that must start within the first screen (1280 × 900).
const OVERVIEW: [&str; 4] = ["ov-cards", "ov-dist", "ov-pools", "ov-reasons"];
const SCREEN_HEIGHT: i64 = 900;

/// A line on the test's terminal even when output is captured (a skip must be seen).
fn note(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("kube-compactor-html-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A deterministic 1,500-node cluster: the core generator's nodes and pods (GPU nodes
/// included), with instance types by shape, a `team` label, and one label value that tries to
/// break out of the markup.
fn big_cluster(dir: &Path) -> PathBuf {
    let mut spec = generate(
        16,
        ClusterShape {
            nodes: 1500,
            pods_per_node: 4,
            blocking_percent: 5,
            constraints: false,
        },
    );
    for (i, n) in spec.nodes.iter_mut().enumerate() {
        let it = match (
            n.allocatable.get("cpu"),
            n.allocatable.get("nvidia.com/gpu"),
        ) {
            (_, g) if g > 0 => "g4dn.xlarge",
            (c, _) if c < 5000 => "m5.xlarge",
            (c, _) if c < 10_000 => "m5.2xlarge",
            _ => "m5.4xlarge",
        };
        n.labels.insert(INSTANCE_TYPE_LABEL.into(), it.into());
        n.labels.insert("team".into(), format!("team-{}", i % 6));
        if i == 7 {
            n.labels
                .insert("team".into(), "<script>alert('team')</script>".into());
        }
    }
    let path = dir.join("cluster-1500.json");
    std::fs::write(&path, serde_json::to_vec(&spec).expect("json")).expect("write cluster");
    path
}

/// Runs the binary with `args` + `-o html`, returns the page.
fn page(args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend(["-o", "html"]);
    let o = run(&all);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// Checks what every page must be: self-contained, in order, small.
fn check_page(html: &str, what: &str) {
    assert!(html.len() < MAX_BYTES, "{what}: {} bytes", html.len());
    assert!(html.starts_with("<!DOCTYPE html>"), "{what}");
    // One inline script, no external asset, no address at all.
    assert_eq!(html.matches("<script").count(), 1, "{what}");
    for needle in [
        "<script src",
        " src=",
        " href=",
        "<link",
        "url(",
        "@import",
        "http:",
        "https:",
    ] {
        assert!(!html.contains(needle), "{what}: contains {needle:?}");
    }
    let mut last = 0;
    for id in SECTIONS {
        let at = html
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("{what}: no section {id}"));
        assert!(at > last, "{what}: section {id} out of order");
        last = at;
    }
}

#[test]
fn demo_pages_are_small_self_contained_and_overview_first() {
    for cmd in ["plan", "analyze"] {
        let html = page(&[cmd]);
        check_page(&html, cmd);
        // 20 nodes: cards with bars, GPUs shown.
        assert_eq!(html.matches("data-node-bar=").count(), 20, "{cmd}");
        assert!(html.contains(r#"data-dim="nvidia.com/gpu""#), "{cmd}");
        assert!(html.contains("nvidia.com/gpu requested: 2 of 2"), "{cmd}");
        assert!(html.contains("Why nodes stay"), "{cmd}");
    }
    // Pools by a label: the label's table first, then the instance types.
    let html = page(&["plan", "--group-by", "topology.kubernetes.io/zone"]);
    let by_label = html
        .find("label <code>topology.kubernetes.io/zone</code>")
        .expect("pools by the label");
    assert!(by_label < html.find("By instance type").expect("by type"));
    assert!(html.contains("eu-west-1a"));
}

#[test]
fn group_by_needs_a_label_name() {
    let o = run(&["plan", "--group-by", "", "-o", "html"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["analyze", "--group-by", "", "-o", "html"]);
    assert_eq!(o.status.code(), Some(2));
}

/// The `data-selftest` the page's script wrote: section id → top in pixels, `ms` from
/// navigation to the end of the layout, `drained` nodes the drained filter shows, `sorted` 1
/// when sorting by pods orders the list.
fn selftest(dom: &str) -> Vec<(String, i64)> {
    let start = dom
        .find("data-selftest=\"")
        .unwrap_or_else(|| panic!("no self-test in the DOM:\n{}", &dom[..dom.len().min(2000)]))
        + "data-selftest=\"".len();
    let end = start + dom[start..].find('"').expect("closing quote");
    dom[start..end]
        .split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once(':').expect("id:top");
            (k.to_owned(), v.parse().expect("a number"))
        })
        .collect()
}

/// Renders a page: a screenshot, then the DOM with `#selftest`; checks the overview is in
/// the first screen; returns (wall seconds of the DOM render, in-page milliseconds).
fn browse(browser: &str, dir: &Path, html: &Path, name: &str) -> (f64, i64) {
    let url = format!("file://{}", html.display());
    let png = dir.join(format!("{name}.png"));
    chromium(
        browser,
        dir,
        &[format!("--screenshot={}", png.display())],
        &url,
    );
    let shot = std::fs::metadata(&png).map_or(0, |m| m.len());
    assert!(shot > 10_000, "{name}: screenshot of {shot} bytes");
    let (dom, secs) = chromium(
        browser,
        dir,
        &["--dump-dom".to_owned()],
        &format!("{url}#selftest"),
    );
    let tops = selftest(&dom);
    let top = |id: &str| {
        tops.iter()
            .find(|(k, _)| k == id)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("{name}: no top for {id}: {tops:?}"))
    };
    for id in OVERVIEW {
        let t = top(id);
        assert!(
            (0..SCREEN_HEIGHT).contains(&t),
            "{name}: {id} starts at {t} px, not in the first screen: {tops:?}"
        );
    }
    assert!(top("nodes") > top("ov-reasons"), "{name}: {tops:?}");
    // The script works: the drained filter shows the drained nodes, sorting orders them.
    let drained = std::fs::read_to_string(html)
        .expect("page")
        .matches(r#"data-s="drained""#)
        .count();
    assert_eq!(top("drained"), drained as i64, "{name}: {tops:?}");
    assert_eq!(top("sorted"), 1, "{name}: {tops:?}");
    note(&format!(
        "{name}: screenshot {} ({shot} bytes); overview tops {tops:?}",
        png.display()
    ));
    (secs, top("ms"))
}

#[test]
fn big_cluster_pages_stay_small_and_open_on_the_overview() {
    let dir = temp_dir("big");
    let cluster = big_cluster(&dir);
    let cluster_arg = cluster.to_str().expect("utf-8 path");
    let plan = page(&["plan", "--from", cluster_arg, "--group-by", "team"]);
    check_page(&plan, "plan, 1,500 nodes");
    // Compact rows, not cards; one per node.
    assert_eq!(plan.matches("<tr data-s=").count(), 1500);
    assert_eq!(plan.matches("data-node-bar=").count(), 0);
    assert!(plan.contains(r#"data-dim="nvidia.com/gpu""#));
    assert!(plan.contains("&lt;script&gt;alert(&#39;team&#39;)&lt;/script&gt;"));
    let analysis = page(&["analyze", "--from", cluster_arg]);
    check_page(&analysis, "analyze, 1,500 nodes");
    note(&format!(
        "1,500-node pages: plan {} bytes, analyze {} bytes (limit {MAX_BYTES})",
        plan.len(),
        analysis.len()
    ));

    let demo = dir.join("demo.html");
    std::fs::write(&demo, page(&["analyze"])).expect("write demo");
    let big = dir.join("plan-1500.html");
    std::fs::write(&big, &plan).expect("write page");
    let Some(browser) = find_browser() else {
        let why = "SKIP html browser checks: headless Chromium not found (looked for \
                   $KUBE_COMPACTOR_CHROMIUM, else /usr/bin/chromium, chromium, \
                   chromium-browser, google-chrome; `apt-get install -y chromium`, which \
                   .ci/run tries); size, escaping and section order were checked without it";
        assert!(
            std::env::var_os("KUBE_COMPACTOR_REQUIRE_CHROMIUM").is_none(),
            "{why}"
        );
        note(why);
        return;
    };
    browse(&browser, &dir, &demo, "demo");
    let (secs, ms) = browse(&browser, &dir, &big, "plan-1500");
    note(&format!(
        "render of the 1,500-node page in headless Chromium: {secs:.2} s wall (browser start \
         included), {ms} ms in the page to the end of its script (parse, layout, sort)"
    ));
}
