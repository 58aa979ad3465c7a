//! The node list, last on the page: sortable and filterable (by the page's script), collapsed
//! beyond the first items. Up to [`CARD_LIMIT`] nodes, a card per node with bars of every
//! shown dimension now, after the plan (and after the right-sized plan); beyond, one compact
//! table row per node.
//!
//! Every item carries the same data for the script: `data-s` (`drained` or the reason code
//! it stays for), `data-v` (the numbers it sorts by, in the order of [`sort_keys`], empty when
//! unknown), and on cards `data-n` (name) and `data-p` (pool), which a row holds in its first
//! two cells.

use std::fmt::Write;

use compactor_core::analysis::{NodeAfter, NodeAnalysis};
use compactor_core::cost::format_dollars;
use compactor_core::resources::{Dimensions, human};

use super::{Ctx, Fate, escape, percent, short_dollars, thousands};

/// Clusters up to this many nodes get cards with bars; bigger ones get compact rows.
pub(crate) const CARD_LIMIT: usize = 50;
/// Cards shown before "show all".
pub(crate) const FIRST_CARDS: usize = 10;
/// Rows shown before "show all".
pub(crate) const FIRST_ROWS: usize = 25;

/// The sort keys: (value of the sort option, label). `n`, `p`, `s` sort by name, pool and
/// plan; a number is an index into `data-v`.
pub(crate) fn sort_keys(c: &Ctx<'_>) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = [("n", "name"), ("p", "pool"), ("s", "plan")]
        .into_iter()
        .map(|(k, l)| (k.to_owned(), l.to_owned()))
        .collect();
    let mut labels = vec!["pods".to_owned(), "$/month".to_owned()];
    for &d in &c.dims {
        labels.push(format!("{} % now", c.dim_name(d)));
        labels.push(format!("{} % after", c.dim_name(d)));
    }
    if c.usage {
        labels.push("cpu % used".to_owned());
        labels.push("memory % used".to_owned());
    }
    keys.extend(
        labels
            .into_iter()
            .enumerate()
            .map(|(k, l)| (k.to_string(), l)),
    );
    keys
}

/// The request share of node `i` in dimension `d`, now and after the plan (`None`: nothing
/// allocatable, or drained).
fn shares(c: &Ctx<'_>, i: usize, d: usize) -> (Option<u64>, Option<u64>) {
    let alloc = c.r.snapshot.nodes()[i].allocatable[d];
    let now = percent(c.r.snapshot.requested(i)[d], alloc);
    let after = if c.fates[i].drained() {
        None
    } else {
        percent(c.after[i][d], alloc)
    };
    (now, after)
}

/// The used share of CPU and memory of node `i` now (`analyze` with usage only).
fn used_shares(c: &Ctx<'_>, i: usize) -> [Option<u64>; 2] {
    [Dimensions::CPU, Dimensions::MEMORY].map(|d| {
        c.analyzed[i]
            .and_then(|n| n.resources.get(d))
            .and_then(|f| f.used.and_then(|u| percent(u, f.allocatable)))
    })
}

/// The `data-v` numbers of node `i`, in the order of [`sort_keys`].
pub(crate) fn sort_values(c: &Ctx<'_>, i: usize) -> String {
    let opt = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
    let mut v = vec![
        c.r.snapshot.requested(i)[Dimensions::PODS].to_string(),
        format!("{:.0}", c.monthly[i]),
    ];
    for &d in &c.dims {
        let (now, after) = shares(c, i, d);
        v.push(opt(now));
        v.push(opt(after));
    }
    if c.usage {
        v.extend(used_shares(c, i).map(opt));
    }
    v.join(",")
}

fn data_attributes(html: &mut String, c: &Ctx<'_>, i: usize, names: bool) {
    if names {
        let _ = write!(
            html,
            r#" data-n="{}" data-p="{}""#,
            escape(&c.r.snapshot.nodes()[i].spec.name),
            escape(c.pool(i)),
        );
    }
    let _ = write!(
        html,
        r#" data-s="{}" data-v="{}""#,
        c.fates[i].key(),
        sort_values(c, i),
    );
}

/// Why the node stays or what draining it takes, in words.
fn why(c: &Ctx<'_>, i: usize) -> String {
    match c.fates[i] {
        Fate::Drained(d) => format!(
            "evicts {} pod(s){}",
            d.evicted_pods,
            if d.daemon_set_pods > 0 {
                format!(" (+{} DaemonSet)", d.daemon_set_pods)
            } else {
                String::new()
            }
        ),
        Fate::Kept(k, cordon) => {
            let mut s = k.reason.message.clone();
            if cordon {
                s.push_str(" (cordoned while the plan runs)");
            }
            if k.receives > 0 {
                s.push_str(&format!("; receives {} pod(s)", k.receives));
            }
            s
        }
        Fate::Unknown => "the plan does not name this node".to_owned(),
    }
}

/// The filter and sort controls (hidden until the script shows them).
fn controls(html: &mut String, c: &Ctx<'_>) {
    let drained = c.fates.iter().filter(|f| f.drained()).count();
    let _ = write!(
        html,
        r#"<div class="controls" id="controls" hidden><label>show <select id="f-state"><option value="">all nodes ({})</option><option value="drained">drained ({})</option><option value="kept">kept ({})</option>"#,
        thousands(c.fates.len() as u64),
        thousands(drained as u64),
        thousands((c.fates.len() - drained) as u64),
    );
    for (code, nodes) in crate::overview::kept_by_reason(c.r.plan) {
        let _ = write!(
            html,
            r#"<option value="{code}">kept: {code} ({})</option>"#,
            thousands(nodes.len() as u64),
            code = escape(code.as_str()),
        );
    }
    html.push_str(
        r#"</select></label><label>pool <select id="f-pool"><option value="">all</option>"#,
    );
    let mut pools: Vec<&str> = (0..c.fates.len()).map(|i| c.pool(i)).collect();
    pools.sort_unstable();
    pools.dedup();
    for p in pools {
        let _ = write!(html, r#"<option value="{p}">{p}</option>"#, p = escape(p));
    }
    html.push_str(r#"</select></label><label>name <input id="f-name" type="search" placeholder="contains…"></label><label>sort by <select id="f-sort">"#);
    for (k, label) in sort_keys(c) {
        let _ = write!(html, r#"<option value="{k}">{}</option>"#, escape(&label));
    }
    html.push_str(r#"</select></label><button type="button" id="f-dir">↑</button><span id="f-count"></span><button type="button" id="f-all" hidden>show all</button></div>"#);
}

/// The section.
pub(crate) fn section(html: &mut String, c: &Ctx<'_>) {
    let n = c.fates.len();
    let _ = write!(
        html,
        r#"<section id="nodes"><h2>Nodes ({})</h2>"#,
        thousands(n as u64)
    );
    controls(html, c);
    if n <= CARD_LIMIT {
        cards(html, c);
    } else {
        rows(html, c);
    }
    html.push_str("</section>\n");
}

/// One compact row per node.
fn rows(html: &mut String, c: &Ctx<'_>) {
    let what_if = c.r.analysis.is_some_and(|a| a.what_if.is_some());
    let _ = write!(
        html,
        r#"<div class="scroll"><table id="items" class="rows" data-first="{FIRST_ROWS}"><thead><tr><th data-k="n">node</th><th data-k="p">pool</th>"#
    );
    if c.r.group_by.is_some() {
        html.push_str("<th>instance type</th>");
    }
    html.push_str(r#"<th data-k="s">plan</th><th class="num" data-k="0">pods</th><th class="num" data-k="1">$/month</th>"#);
    let mut k = 2;
    for &d in &c.dims {
        let name = escape(c.dim_name(d));
        let _ = write!(
            html,
            r#"<th class="num" data-k="{k}">{name} %</th><th class="num" data-k="{}">after</th>"#,
            k + 1
        );
        k += 2;
    }
    if c.usage {
        let _ = write!(
            html,
            r#"<th class="num" data-k="{k}">cpu used %</th><th class="num" data-k="{}">mem used %</th>"#,
            k + 1
        );
    }
    if what_if {
        html.push_str("<th>right-sized plan</th>");
    }
    html.push_str("<th>why</th></tr></thead><tbody>\n");
    let opt = |v: Option<u64>| v.map_or("-".to_owned(), |v| v.to_string());
    for i in 0..c.fates.len() {
        html.push_str("<tr");
        data_attributes(html, c, i, false);
        let _ = write!(
            html,
            r#"><td class="t">{}</td><td class="t">{}</td>"#,
            escape(&c.r.snapshot.nodes()[i].spec.name),
            escape(c.pool(i))
        );
        if c.r.group_by.is_some() {
            let _ = write!(
                html,
                r#"<td class="t">{}</td>"#,
                escape(c.instance_type(i).unwrap_or("-"))
            );
        }
        match c.fates[i] {
            Fate::Drained(_) => html.push_str(r#"<td class="d">drained</td>"#),
            f => {
                let _ = write!(html, r#"<td class="t">{}</td>"#, f.key());
            }
        }
        let _ = write!(
            html,
            "<td>{}</td><td>{}</td>",
            c.r.snapshot.requested(i)[Dimensions::PODS],
            short_dollars(c.monthly[i])
        );
        for &d in &c.dims {
            let (now, after) = shares(c, i, d);
            let _ = write!(html, "<td>{}</td><td>{}</td>", opt(now), opt(after));
        }
        if c.usage {
            for u in used_shares(c, i) {
                let _ = write!(html, "<td>{}</td>", opt(u));
            }
        }
        if what_if {
            let fate = match c.analyzed[i].and_then(|n| n.after_what_if.as_ref()) {
                Some(a) if a.drained => "drained",
                Some(_) => "kept",
                None => "-",
            };
            let _ = write!(html, r#"<td class="t">{fate}</td>"#);
        }
        let _ = writeln!(html, r#"<td class="why">{}</td></tr>"#, escape(&why(c, i)));
    }
    html.push_str("</tbody></table></div>");
}

const W: f64 = 480.0;
const X0: f64 = 170.0;

/// One horizontal bar: allocatable (track), requested, used.
struct Bar<'a> {
    label: &'a str,
    resource: &'a str,
    alloc: u64,
    req: u64,
    used: Option<u64>,
    /// Whether the safety cap applies (CPU, memory, ephemeral storage).
    capped: bool,
    /// Whether usage is part of the report (`analyze`).
    with_usage: bool,
}

fn bar(svg: &mut String, y: f64, b: &Bar<'_>, cap: u8) {
    let frac = |v: u64| {
        if b.alloc == 0 {
            0.0
        } else {
            (v as f64 / b.alloc as f64).min(1.0)
        }
    };
    let _ = write!(
        svg,
        r##"<text x="{tx}" y="{ty:.1}" text-anchor="end">{label}</text><rect x="{X0}" y="{y:.1}" width="{W}" height="14" fill="#e4e7eb" rx="2"/><rect class="requested" x="{X0}" y="{y:.1}" width="{rw:.1}" height="14" fill="#9fb3c8" rx="2"/>"##,
        tx = X0 - 8.0,
        ty = y + 11.0,
        rw = frac(b.req) * W,
        label = escape(b.label),
    );
    if let Some(u) = b.used {
        let _ = write!(
            svg,
            r##"<rect class="used" x="{X0}" y="{y1:.1}" width="{uw:.1}" height="6" fill="#243b53"/>"##,
            y1 = y + 4.0,
            uw = frac(u) * W,
        );
    }
    if b.capped {
        let capx = X0 + W * f64::from(cap) / 100.0;
        let _ = write!(
            svg,
            r##"<line x1="{capx:.1}" x2="{capx:.1}" y1="{y0:.1}" y2="{y2:.1}" stroke="#f9703e" stroke-dasharray="3,2"/>"##,
            y0 = y - 2.0,
            y2 = y + 16.0,
        );
    }
    let share = percent(b.req, b.alloc).map_or(String::new(), |p| format!(" ({p} %)"));
    let used = if b.with_usage {
        format!(
            " · {} used",
            b.used
                .map_or("unknown".to_owned(), |u| human(b.resource, u).to_string())
        )
    } else {
        String::new()
    };
    let _ = write!(
        svg,
        r#"<text x="{vx:.1}" y="{ty:.1}">{} of {} req{share}{used}</text>"#,
        escape(&human(b.resource, b.req).to_string()),
        escape(&human(b.resource, b.alloc).to_string()),
        vx = X0 + W + 8.0,
        ty = y + 11.0,
        used = escape(&used),
    );
}

/// The dimensions node `i` has (something allocatable), among the shown ones.
fn node_dims(c: &Ctx<'_>, i: usize) -> Vec<usize> {
    let node = &c.r.snapshot.nodes()[i];
    c.dims
        .iter()
        .copied()
        .filter(|&d| d <= Dimensions::MEMORY || node.allocatable[d] > 0)
        .collect()
}

/// Bars of one state of node `i`; returns the height drawn.
fn state(svg: &mut String, y: f64, c: &Ctx<'_>, i: usize, which: State<'_>) -> f64 {
    let title = match which {
        State::Now => "now",
        State::AfterPlan => "after the plan",
        State::RightSized(_) => "right-sized + plan",
    };
    let _ = write!(
        svg,
        r#"<text x="0" y="{:.1}" font-weight="bold">{title}</text>"#,
        y + 11.0,
    );
    let drained = match which {
        State::Now => false,
        State::AfterPlan => c.fates[i].drained(),
        State::RightSized(a) => a.drained,
    };
    if drained {
        let _ = write!(
            svg,
            r##"<rect x="{X0}" y="{y:.1}" width="{W}" height="34" fill="#fde8e1" stroke="#f9703e" rx="2"/><text x="{tx:.1}" y="{ty:.1}">drained: its pods move to other nodes, the node can go</text>"##,
            tx = X0 + 10.0,
            ty = y + 21.0,
        );
        return 44.0;
    }
    let node = &c.r.snapshot.nodes()[i];
    let names = c.r.snapshot.dims();
    let analysis: Option<&NodeAnalysis> = c.analyzed[i];
    let with_usage = c.usage;
    let dims: Vec<usize> = match which {
        State::RightSized(_) => vec![Dimensions::CPU, Dimensions::MEMORY],
        _ => node_dims(c, i),
    };
    let cap = c.r.plan.thresholds.max_utilization_percent;
    for (k, &d) in dims.iter().enumerate() {
        let resource = names.name(d);
        let (req, used) = match which {
            State::Now => (
                c.r.snapshot.requested(i)[d],
                analysis
                    .and_then(|n| n.resources.get(d))
                    .and_then(|f| f.used),
            ),
            State::AfterPlan => {
                let after = analysis.map(|n| &n.after_plan);
                let used = match d {
                    Dimensions::CPU => after.and_then(|a| a.cpu_used_millicores),
                    Dimensions::MEMORY => after.and_then(|a| a.memory_used_bytes),
                    _ => None,
                };
                (c.after[i][d], used)
            }
            State::RightSized(a) => {
                if d == Dimensions::CPU {
                    (a.cpu_requested_millicores, a.cpu_used_millicores)
                } else {
                    (a.memory_requested_bytes, a.memory_used_bytes)
                }
            }
        };
        let label = match d {
            Dimensions::CPU => "CPU",
            Dimensions::MEMORY => "memory",
            _ => resource.rsplit('/').next().unwrap_or(resource),
        };
        let b = Bar {
            label,
            resource,
            alloc: node.allocatable[d],
            req,
            used,
            capped: Dimensions::is_capped(d),
            with_usage: with_usage && d <= Dimensions::MEMORY,
        };
        bar(svg, y + 20.0 * k as f64, &b, cap);
    }
    20.0 * dims.len() as f64 + 10.0
}

#[derive(Clone, Copy)]
enum State<'a> {
    Now,
    AfterPlan,
    RightSized(&'a NodeAfter),
}

/// A card per node.
fn cards(html: &mut String, c: &Ctx<'_>) {
    let cap = c.r.plan.thresholds.max_utilization_percent;
    let _ = write!(
        html,
        "<p class=\"legend\"><span><i class=\"sw\" style=\"background:#9fb3c8\"></i>requested</span>{}<span><i class=\"sw\" style=\"background:#e4e7eb\"></i>allocatable</span><span><i class=\"sw\" style=\"border:1px dashed #f9703e\"></i>{cap} % cap of receiving nodes ({}; CPU, memory)</span></p>\n<div id=\"items\" data-first=\"{FIRST_CARDS}\">",
        if c.usage {
            "<span><i class=\"sw\" style=\"background:#243b53\"></i>used</span>"
        } else {
            ""
        },
        escape(c.r.plan.thresholds.level.name()),
    );
    for i in 0..c.fates.len() {
        let name = &c.r.snapshot.nodes()[i].spec.name;
        let analysis = c.analyzed[i];
        let what_if = analysis.and_then(|n| n.after_what_if.as_ref());
        let _ = write!(
            html,
            r#"<section class="node" data-node-bar="{}" data-plan="{}" data-what-if="{}""#,
            escape(name),
            if c.fates[i].drained() {
                "drained"
            } else {
                "kept"
            },
            match what_if {
                None => "unknown",
                Some(a) if a.drained => "drained",
                Some(_) => "kept",
            },
        );
        data_attributes(html, c, i, true);
        let _ = write!(
            html,
            r#"><h3>{} <span class="badge">{}</span>"#,
            escape(name),
            escape(c.pool(i))
        );
        if c.r.group_by.is_some()
            && let Some(t) = c.instance_type(i)
        {
            let _ = write!(html, r#" <span class="badge">{}</span>"#, escape(t));
        }
        let _ = write!(
            html,
            r#" <span class="badge">{} / month</span>"#,
            escape(&format_dollars(c.monthly[i]))
        );
        if analysis.is_some_and(|n| n.idle) {
            html.push_str(r#" <span class="badge idle">idle</span>"#);
        }
        match c.fates[i] {
            Fate::Drained(_) => {
                html.push_str(r#" <span class="badge drained">drained by the plan</span>"#)
            }
            f => {
                let _ = write!(html, r#" <span class="badge">kept: {}</span>"#, f.key());
                if what_if.is_some_and(|a| a.drained) {
                    html.push_str(
                        r#" <span class="badge whatif">drained after right-sizing</span>"#,
                    );
                }
            }
        }
        let _ = write!(html, r#"</h3><p class="why">{}</p>"#, escape(&why(c, i)));
        let mut svg = String::new();
        let mut y = 2.0;
        y += state(&mut svg, y, c, i, State::Now);
        y += state(&mut svg, y, c, i, State::AfterPlan);
        if let Some(w) = what_if {
            y += state(&mut svg, y, c, i, State::RightSized(w));
        }
        let _ = write!(
            html,
            r#"<svg width="960" height="{y:.0}" viewBox="0 0 960 {y:.0}" role="img" aria-label="requests of node {}, now and after the plan">{svg}</svg></section>"#,
            escape(name)
        );
        html.push('\n');
    }
    html.push_str("</div>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::tests::hostile;
    use compactor_core::cost::Pricing;
    use compactor_core::plan::{PlanOptions, plan};

    #[test]
    fn every_item_carries_its_sort_values_in_key_order() {
        let snap = hostile();
        let p = plan(&snap, &PlanOptions::default()).expect("plan");
        let pricing = Pricing::default();
        let c = Ctx::new(crate::html::tests::report(&snap, &p, &pricing, None));
        let keys = sort_keys(&c);
        let numeric = keys
            .iter()
            .filter(|(k, _)| k.parse::<usize>().is_ok())
            .count();
        // pods, $/month, and now/after for cpu, memory, nvidia.com/gpu.
        assert_eq!(numeric, 2 + 2 * 3);
        let g = snap.node_index("g").expect("g");
        let v = sort_values(&c, g);
        assert_eq!(v.split(',').count(), numeric);
        // g: 1 pod; cpu 1 of 4 = 25 %, memory 1 of 16 GiB = 6 %, GPU 1 of 2 = 50 %.
        let fields: Vec<&str> = v.split(',').collect();
        assert_eq!(fields[0], "1");
        assert_eq!((fields[2], fields[4], fields[6]), ("25", "6", "50"));
        // A node without GPUs has no GPU share: empty, sorted first.
        let a = sort_values(&c, snap.node_index("a").expect("a"));
        assert!(a.ends_with(",,"), "{a}");
    }

    #[test]
    fn small_clusters_get_cards_big_ones_rows() {
        let snap = hostile();
        let p = plan(&snap, &PlanOptions::default()).expect("plan");
        let pricing = Pricing::default();
        let c = Ctx::new(crate::html::tests::report(
            &snap,
            &p,
            &pricing,
            Some("team"),
        ));
        let mut html = String::new();
        section(&mut html, &c);
        assert_eq!(html.matches("data-node-bar=").count(), 4);
        assert_eq!(html.matches("data-n=").count(), 4);
        assert_eq!(html.matches(r#"data-s="drained""#).count(), p.drain.len());
        assert!(!html.contains("<tr data-s"));
        // The GPU node has a GPU bar, now and after the plan (kept), without a cap line.
        assert!(html.contains(">gpu</text>"));
        let mut rows_html = String::new();
        rows(&mut rows_html, &c);
        assert_eq!(rows_html.matches("<tr data-s=").count(), 4);
        assert!(!rows_html.contains("<script"));
        assert!(rows_html.contains("<th>instance type</th>"));
    }
}
