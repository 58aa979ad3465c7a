//! The sections only `analyze` has: the what-if, utilisation and fragmentation, the workloads
//! with usage (collapsed beyond the first rows).

use std::fmt::Write;

use compactor_core::analysis::{Analysis, WorkloadDimension};
use compactor_core::cost::format_dollars;
use compactor_core::resources::{CPU, MEMORY, human};

use super::escape;
use crate::analyze::{amount, kube_quantity, pct};

/// Workload rows shown before "show all".
const FIRST_WORKLOADS: usize = 15;

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

/// What-if, utilisation, fragmentation, workloads.
pub(super) fn sections(html: &mut String, a: &Analysis) {
    let c = &a.cluster;
    html.push_str("<section id=\"what-if-section\"><h2>What-if: right-size, then plan</h2>\n");
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
                if w.drain.is_empty() || w.drain.len() > 20 {
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
    html.push_str("</section>\n");

    html.push_str("<section id=\"utilization\"><h2>Utilization</h2>\n<table><tr><th>resource</th><th class=\"num\">allocatable</th><th class=\"num\">requested</th><th class=\"num\">used</th><th class=\"num\">requested %</th><th class=\"num\">used %</th></tr>\n");
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
    html.push_str("</section>\n");

    html.push_str("<section id=\"workloads\"><h2>Workloads with usage</h2>\n");
    if a.workloads.is_empty() {
        html.push_str("<p>Usage unknown.</p>\n");
    } else {
        html.push_str("<div><input type=\"checkbox\" class=\"toggle\" id=\"workloads-all\"><div class=\"scroll\"><table><tr><th>workload</th><th class=\"num\">pods measured</th><th>CPU used of requested</th><th>memory used of requested</th><th>CPU per pod</th><th>memory per pod</th><th>over-provisioned</th></tr>\n");
        for (k, w) in a.workloads.iter().enumerate() {
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
                "<tr data-workload=\"{key}\"{more}><td>{key}</td><td class=\"num\">{}/{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                w.measured_pods,
                w.replicas,
                escape(&dim_cell(CPU, w.cpu.as_ref())),
                escape(&dim_cell(MEMORY, w.memory.as_ref())),
                escape(&rec(CPU, w.cpu.as_ref())),
                escape(&rec(MEMORY, w.memory.as_ref())),
                if w.over_provisioned { "yes" } else { "no" },
                key = escape(&format!("{}/{}/{}", w.namespace, w.kind, w.name)),
                more = if k >= FIRST_WORKLOADS {
                    " class=\"more\""
                } else {
                    ""
                },
            );
        }
        html.push_str("</table></div>");
        if a.workloads.len() > FIRST_WORKLOADS {
            let _ = write!(
                html,
                "<label class=\"all\" for=\"workloads-all\">show all {} workloads</label>",
                a.workloads.len()
            );
        }
        html.push_str("</div>\n");
    }
    html.push_str("</section>\n");
}
