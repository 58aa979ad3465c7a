//! The self-contained HTML report of `analyze --output html`: one file, inline CSS and SVG,
//! no script, no network.

use std::fmt::Write;

use compactor_core::analysis::{Analysis, NodeAfter, NodeAnalysis, WorkloadDimension};
use compactor_core::cost::format_dollars;
use compactor_core::resources::{CPU, MEMORY, human};

use crate::analyze::{amount, kube_quantity, pct};

/// Escapes text for HTML content and attribute values (control and direction characters
/// as `\n`, `\u{1b}`, …).
pub fn escape(s: &str) -> String {
    let s = compactor_core::text::printable(s);
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1100px;color:#1f2933;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d9e2ec;padding-bottom:.3rem}
.sub{color:#52606d;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.card{border:1px solid #d9e2ec;border-radius:6px;padding:.6rem .9rem;min-width:150px}
.card b{display:block;font-size:1.3rem}.card span{color:#52606d;font-size:.85rem}
.card.good{border-color:#3ebd93;background:#effcf6}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border-bottom:1px solid #e4e7eb;padding:.3rem .6rem;text-align:left}th{background:#f5f7fa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.node{border:1px solid #d9e2ec;border-radius:6px;margin:.6rem 0;padding:.4rem .8rem}
.node h3{font-size:1rem;margin:.2rem 0}
.badge{display:inline-block;font-size:.75rem;border-radius:3px;padding:0 .4rem;margin-left:.4rem;background:#e4e7eb}
.badge.drained{background:#f9703e;color:#fff}.badge.whatif{background:#3ebd93;color:#fff}.badge.idle{background:#829ab1;color:#fff}
.legend span{display:inline-block;margin-right:1rem;font-size:.85rem}
.sw{display:inline-block;width:12px;height:12px;vertical-align:middle;margin-right:.3rem;border-radius:2px}
svg text{font-size:11px;fill:#334e68}
";

const W: f64 = 520.0;
const X0: f64 = 170.0;

/// One horizontal bar: allocatable (track), requested, used.
struct Bar<'a> {
    label: &'a str,
    resource: &'a str,
    alloc: u64,
    req: u64,
    used: Option<u64>,
}

fn bar(svg: &mut String, y: f64, b: Bar<'_>, cap: u8) {
    let Bar {
        label,
        resource,
        alloc,
        req,
        used,
    } = b;
    let frac = |v: u64| {
        if alloc == 0 {
            0.0
        } else {
            (v as f64 / alloc as f64).min(1.0)
        }
    };
    let _ = write!(
        svg,
        r##"<text x="{tx}" y="{ty:.1}">{label}</text><rect x="{X0}" y="{y:.1}" width="{W}" height="14" fill="#e4e7eb" rx="2"/><rect class="requested" x="{X0}" y="{y:.1}" width="{rw:.1}" height="14" fill="#9fb3c8" rx="2"/>"##,
        tx = X0 - 50.0,
        ty = y + 11.0,
        rw = frac(req) * W,
    );
    if let Some(u) = used {
        let _ = write!(
            svg,
            r##"<rect class="used" x="{X0}" y="{y1:.1}" width="{uw:.1}" height="6" fill="#243b53"/>"##,
            y1 = y + 4.0,
            uw = frac(u) * W,
        );
    }
    let capx = X0 + W * f64::from(cap) / 100.0;
    let _ = write!(
        svg,
        r##"<line x1="{capx:.1}" x2="{capx:.1}" y1="{y0:.1}" y2="{y2:.1}" stroke="#f9703e" stroke-dasharray="3,2"/><text x="{vx:.1}" y="{ty:.1}">{req_h} req · {used_h} used</text>"##,
        y0 = y - 2.0,
        y2 = y + 16.0,
        vx = X0 + W + 8.0,
        ty = y + 11.0,
        req_h = escape(&human(resource, req).to_string()),
        used_h = escape(&amount(resource, used)),
    );
}

fn state(
    svg: &mut String,
    y: f64,
    title: &str,
    n: &NodeAnalysis,
    after: Option<&NodeAfter>,
    cap: u8,
) {
    let _ = write!(
        svg,
        r#"<text x="0" y="{:.1}" font-weight="bold">{}</text>"#,
        y + 11.0,
        escape(title)
    );
    let alloc = |r: &str| n.resource(r).map_or(0, |f| f.allocatable);
    match after {
        Some(a) if a.drained => {
            let _ = write!(
                svg,
                r##"<rect x="{X0}" y="{y:.1}" width="{W}" height="34" fill="#fde8e1" stroke="#f9703e" rx="2"/><text x="{tx:.1}" y="{ty:.1}">drained: its pods move to other nodes, the node can go</text>"##,
                tx = X0 + 10.0,
                ty = y + 21.0,
            );
        }
        Some(a) => {
            let cpu = Bar {
                label: "CPU",
                resource: CPU,
                alloc: alloc(CPU),
                req: a.cpu_requested_millicores,
                used: a.cpu_used_millicores,
            };
            bar(svg, y, cpu, cap);
            let memory = Bar {
                label: "memory",
                resource: MEMORY,
                alloc: alloc(MEMORY),
                req: a.memory_requested_bytes,
                used: a.memory_used_bytes,
            };
            bar(svg, y + 20.0, memory, cap);
        }
        None => {
            for (k, (label, r)) in [("CPU", CPU), ("memory", MEMORY)].into_iter().enumerate() {
                let f = n.resource(r);
                let b = Bar {
                    label,
                    resource: r,
                    alloc: f.map_or(0, |f| f.allocatable),
                    req: f.map_or(0, |f| f.requested),
                    used: f.and_then(|f| f.used),
                };
                bar(svg, y + 20.0 * k as f64, b, cap);
            }
        }
    }
}

fn node_section(html: &mut String, n: &NodeAnalysis, cap: u8) {
    let drained = n.after_plan.drained;
    let whatif_drained = n.after_what_if.as_ref().is_some_and(|a| a.drained);
    let rows = if n.after_what_if.is_some() { 3 } else { 2 };
    let height = rows as f64 * 50.0;
    let _ = write!(
        html,
        r#"<section class="node" data-node-bar="{name}" data-plan="{plan}" data-what-if="{wi}"><h3>{name}"#,
        name = escape(&n.node),
        plan = if drained { "drained" } else { "kept" },
        wi = match &n.after_what_if {
            None => "unknown",
            Some(a) if a.drained => "drained",
            Some(_) => "kept",
        },
    );
    if let Some(t) = &n.instance_type {
        let _ = write!(html, r#" <span class="badge">{}</span>"#, escape(t));
    }
    let _ = write!(
        html,
        r#" <span class="badge">{} / month</span>"#,
        escape(&format_dollars(n.monthly_price))
    );
    if n.idle {
        html.push_str(r#" <span class="badge idle">idle</span>"#);
    }
    if drained {
        html.push_str(r#" <span class="badge drained">drained by the plan</span>"#);
    } else if whatif_drained {
        html.push_str(r#" <span class="badge whatif">drained after right-sizing</span>"#);
    }
    let _ = write!(
        html,
        r#"</h3><svg xmlns="http://www.w3.org/2000/svg" width="900" height="{height:.0}" viewBox="0 0 900 {height:.0}" role="img" aria-label="CPU and memory of node {}">"#,
        escape(&n.node)
    );
    let mut svg = String::new();
    state(&mut svg, 2.0, "now", n, None, cap);
    state(
        &mut svg,
        52.0,
        "after the plan",
        n,
        Some(&n.after_plan),
        cap,
    );
    if let Some(w) = &n.after_what_if {
        state(&mut svg, 102.0, "right-sized + plan", n, Some(w), cap);
    }
    html.push_str(&svg);
    html.push_str("</svg></section>\n");
}

fn card(html: &mut String, value: &str, label: &str, good: bool) {
    let _ = write!(
        html,
        r#"<div class="card{}"><b>{}</b><span>{}</span></div>"#,
        if good { " good" } else { "" },
        escape(value),
        escape(label)
    );
}

fn dim_cell(resource: &str, d: Option<&WorkloadDimension>) -> String {
    d.map_or("unknown".to_owned(), |d| {
        format!(
            "{} of {} ({}){}",
            human(resource, d.used),
            human(resource, d.requested),
            pct(d.request_usage_percent),
            d.limit.map_or(String::new(), |l| format!(
                "; limit {} ({})",
                human(resource, l),
                pct(d.limit_usage_percent)
            ))
        )
    })
}

/// The whole report.
pub fn render(a: &Analysis, source: &str) -> String {
    let c = &a.cluster;
    let cap = a.plan.thresholds.max_utilization_percent;
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>kube-compactor analysis: {src}</title><style>{STYLE}</style></head><body>\n<h1>kube-compactor analysis</h1><p class=\"sub\">{src} · report only: nothing is changed in the cluster</p>\n",
        src = escape(source)
    );

    html.push_str(r#"<div class="cards">"#);
    card(&mut html, &c.nodes.to_string(), "nodes", false);
    card(&mut html, &c.pods.to_string(), "running pods", false);
    card(&mut html, &c.monthly_cost_formatted, "per month", false);
    card(
        &mut html,
        &format!("{:.1}", c.efficiency.score),
        "efficiency score (of 100)",
        false,
    );
    card(
        &mut html,
        &a.plan.savings.formatted,
        &format!(
            "per month saved by the plan ({} of {} nodes drained)",
            a.plan.drain.len(),
            c.nodes
        ),
        !a.plan.drain.is_empty(),
    );
    if let Some(w) = &a.what_if {
        card(
            &mut html,
            &w.additional_monthly_savings_formatted,
            &format!(
                "more per month after right-sizing ({} more node(s) freed)",
                w.additional_nodes_freed
            ),
            w.additional_nodes_freed > 0,
        );
    }
    html.push_str("</div>\n");

    html.push_str("<h2>What-if: right-size, then plan</h2>\n");
    match &a.what_if {
        None => html
            .push_str("<p>Usage is unknown (no metrics), so there is nothing to right-size.</p>\n"),
        Some(w) => {
            let _ = writeln!(
                html,
                "<p id=\"what-if\">With the recommended requests of {} pods (CPU {} &rarr; {}, memory {} &rarr; {}), the plan drains <b>{}</b> of {} nodes{} instead of {}: <b>{} more node(s)</b> freed and <b>{}</b> more per month ({} per month in total).</p>",
                w.rightsized_pods,
                escape(&human(CPU, w.cpu_requested_millicores).to_string()),
                escape(&human(CPU, w.cpu_requested_after_millicores).to_string()),
                escape(&human(MEMORY, w.memory_requested_bytes).to_string()),
                escape(&human(MEMORY, w.memory_requested_after_bytes).to_string()),
                w.nodes_drained_after,
                c.nodes,
                if w.drain.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", escape(&w.drain.join(", ")))
                },
                w.nodes_drained,
                w.additional_nodes_freed,
                escape(&w.additional_monthly_savings_formatted),
                escape(&format_dollars(w.monthly_savings_after)),
            );
        }
    }

    let _ = write!(
        html,
        "<h2>Nodes</h2>\n<p class=\"legend\"><span><i class=\"sw\" style=\"background:#9fb3c8\"></i>requested</span><span><i class=\"sw\" style=\"background:#243b53\"></i>used</span><span><i class=\"sw\" style=\"background:#e4e7eb\"></i>allocatable</span><span><i class=\"sw\" style=\"border:1px dashed #f9703e\"></i>{cap} % cap of receiving nodes ({})</span></p>\n",
        a.plan.thresholds.level.name()
    );
    for n in &a.nodes {
        node_section(&mut html, n, cap);
    }

    html.push_str("<h2>Utilization</h2>\n<table><tr><th>resource</th><th>allocatable</th><th>requested</th><th>used</th><th>requested %</th><th>used %</th></tr>\n");
    for f in c
        .resources
        .iter()
        .filter(|f| f.allocatable > 0 || f.requested > 0)
    {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&f.resource),
            escape(&human(&f.resource, f.allocatable).to_string()),
            escape(&human(&f.resource, f.requested).to_string()),
            escape(&amount(&f.resource, f.used)),
            escape(&pct(f.request_percent)),
            escape(&pct(f.usage_percent)),
        );
    }
    html.push_str("</table>\n");
    if let Some(f) = &c.fragmentation {
        let _ = writeln!(
            html,
            "<p>Fragmentation: a typical pod requests {} and {}; {} more fit; {} of free CPU ({}) and {} of free memory ({}) are stranded.</p>",
            escape(&human(CPU, f.typical_cpu_millicores).to_string()),
            escape(&human(MEMORY, f.typical_memory_bytes).to_string()),
            f.typical_pods_that_fit,
            escape(&human(CPU, f.stranded_cpu_millicores).to_string()),
            escape(&pct(Some(f.cpu_percent))),
            escape(&human(MEMORY, f.stranded_memory_bytes).to_string()),
            escape(&pct(Some(f.memory_percent))),
        );
    }

    html.push_str("<h2>Workloads with usage</h2>\n");
    if a.workloads.is_empty() {
        html.push_str("<p>Usage unknown.</p>\n");
    } else {
        html.push_str("<table><tr><th>workload</th><th>pods measured</th><th>CPU used of requested</th><th>memory used of requested</th><th>CPU per pod</th><th>memory per pod</th><th>over-provisioned</th></tr>\n");
        for w in &a.workloads {
            let rec = |r: &str, d: Option<&WorkloadDimension>| {
                d.map_or("unknown".to_owned(), |d| {
                    format!(
                        "{} → {}",
                        kube_quantity(r, d.current_request),
                        kube_quantity(r, d.recommended)
                    )
                })
            };
            let _ = writeln!(
                html,
                "<tr data-workload=\"{key}\"><td>{key}</td><td class=\"num\">{}/{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                w.measured_pods,
                w.replicas,
                escape(&dim_cell(CPU, w.cpu.as_ref())),
                escape(&dim_cell(MEMORY, w.memory.as_ref())),
                escape(&rec(CPU, w.cpu.as_ref())),
                escape(&rec(MEMORY, w.memory.as_ref())),
                if w.over_provisioned { "yes" } else { "no" },
                key = escape(&format!("{}/{}/{}", w.namespace, w.kind, w.name)),
            );
        }
        html.push_str("</table>\n");
    }
    html.push_str("</body></html>\n");
    html
}
