//! Human-readable plan output.

use std::io::{self, Write};

use compactor_core::Snapshot;
use compactor_core::cost::{Pricing, format_dollars};
use compactor_core::model::INSTANCE_TYPE_LABEL;
use compactor_core::plan::Plan;
use compactor_core::resources::{CPU, Dimensions, MEMORY, human};

use crate::overview;

/// Left-aligned columns, two spaces apart (shared by `plan` and `analyze`).
pub(crate) struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|s| (*s).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; control and direction characters in the cells are escaped (a newline
    /// in a name must not forge a row).
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(
            cells
                .into_iter()
                .map(|c| compactor_core::text::printable(&c).into_owned())
                .collect(),
        );
    }

    /// Writes every row.
    pub(crate) fn write(&self, out: &mut impl Write) -> io::Result<()> {
        self.write_first(out, None)
    }

    /// Writes the first `limit` rows (all when `None`), then `… N more (--all)` for the rest;
    /// the column widths are those of the rows shown.
    pub(crate) fn write_first(&self, out: &mut impl Write, limit: Option<usize>) -> io::Result<()> {
        let shown = limit.map_or(self.rows.len(), |l| l.min(self.rows.len()));
        let rows = &self.rows[..shown];
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let last = cells.len().saturating_sub(1);
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i == last {
                        c.clone()
                    } else {
                        format!("{c:<w$}", w = widths[i])
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
        };
        writeln!(out, "  {}", line(&self.header))?;
        for r in rows {
            writeln!(out, "  {}", line(r))?;
        }
        let more = self.rows.len() - shown;
        if more > 0 {
            writeln!(out, "  … {more} more (--all)")?;
        }
        Ok(())
    }
}

/// Rows a long list shows in a terminal table unless `--all` is given (JSON and YAML always
/// hold everything).
pub(crate) const DEFAULT_ROWS: usize = 50;

/// How a report is printed: prices for the pools, the pool label, the row limit.
pub(crate) struct View<'a> {
    /// Prices of the nodes (the plan's pricing).
    pub pricing: &'a Pricing,
    /// Label whose values group nodes into pools (default: the instance type).
    pub group_by: Option<&'a str>,
    /// Rows per long list (`None`: all).
    pub limit: Option<usize>,
}

/// The overview a plan or analysis opens with: nodes now → after → lower bound, the pools
/// now and after the plan, and the kept nodes counted by reason.
pub(crate) fn overview(
    out: &mut impl Write,
    snap: &Snapshot,
    plan: &Plan,
    view: &View<'_>,
) -> io::Result<()> {
    let s = &plan.summary;
    let month = compactor_core::cost::HOURS_PER_MONTH;
    writeln!(
        out,
        "Overview: {} nodes now → {} after the plan; lower bound {}{}; {} → {} per month",
        s.nodes,
        s.nodes_after,
        plan.lower_bound.nodes,
        plan.cap_lower_bound
            .as_ref()
            .map_or(String::new(), |cb| format!(
                " ({} at the {} % cap)",
                cb.nodes, plan.thresholds.max_utilization_percent
            )),
        format_dollars(s.hourly_cost * month),
        format_dollars((s.hourly_cost - plan.savings.hourly).max(0.0) * month),
    )?;
    let pools = overview::pools(snap, plan, view.pricing, view.group_by);
    let dims = overview::shown_dimensions(snap);
    writeln!(
        out,
        "Node pools by {} ({}): nodes, cost per month and request share, now → after",
        compactor_core::text::printable(view.group_by.unwrap_or("instance type")),
        pools.len()
    )?;
    let mut header = vec!["POOL".to_owned(), "NODES".to_owned(), "$/MONTH".to_owned()];
    header.extend(dims.iter().map(|&d| snap.dims().name(d).to_uppercase()));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut tab = Table::new(&header);
    for p in &pools {
        let mut row = vec![
            p.name.clone(),
            format!("{} → {}", p.nodes, p.nodes - p.drained),
            format!(
                "{} → {}",
                format_dollars(p.hourly_now * month),
                format_dollars(p.hourly_after * month)
            ),
        ];
        row.extend(dims.iter().map(|&d| {
            format!(
                "{} → {}",
                pct(p.requested_now[d], p.allocatable_now[d]),
                pct(p.requested_after[d], p.allocatable_after[d])
            )
        }));
        tab.row(row);
    }
    tab.write_first(out, view.limit)?;
    let reasons = overview::kept_by_reason(plan);
    if !reasons.is_empty() {
        let counts: Vec<String> = reasons
            .iter()
            .map(|(code, nodes)| format!("{} {}", code.as_str(), nodes.len()))
            .collect();
        writeln!(
            out,
            "Kept nodes by reason ({}): {}",
            plan.kept.len(),
            counts.join(", ")
        )?;
    }
    Ok(())
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".to_owned()
    } else {
        format!("{:.0} %", part as f64 * 100.0 / whole as f64)
    }
}

/// Writes the plan as tables: summary, drained nodes, moves, kept nodes, bound and savings.
pub(crate) fn render(
    out: &mut impl Write,
    snap: &Snapshot,
    plan: &Plan,
    source: String,
    view: &View<'_>,
) -> io::Result<()> {
    let s = &plan.summary;
    let t = &plan.thresholds;
    writeln!(out, "Cluster: {}", compactor_core::text::printable(&source))?;
    writeln!(
        out,
        "  {} nodes, {} running pods{}, {} per month",
        s.nodes,
        s.pods,
        if s.unscheduled_pods > 0 {
            format!(" ({} unscheduled, not planned)", s.unscheduled_pods)
        } else {
            String::new()
        },
        format_dollars(s.hourly_cost * compactor_core::cost::HOURS_PER_MONTH)
    )?;
    for r in [CPU, MEMORY] {
        let (req, alloc) = (s.requested.get(r), s.allocatable.get(r));
        writeln!(
            out,
            "  {r:<6} requested {} of {} ({})",
            human(r, req),
            human(r, alloc),
            pct(req, alloc)
        )?;
    }
    writeln!(out)?;
    overview(out, snap, plan, view)?;
    writeln!(out)?;
    writeln!(
        out,
        "Strategy {}, safety {}: receiving nodes stay at or below {} % of allocatable CPU, memory and ephemeral storage; at most {} node(s) per wave",
        plan.strategy.name(),
        t.level.name(),
        t.max_utilization_percent,
        t.max_nodes_per_wave
    )?;

    writeln!(out)?;
    if plan.drain.is_empty() {
        writeln!(out, "Nodes to drain: none")?;
    } else {
        writeln!(out, "Nodes to drain ({}):", plan.drain.len())?;
        let mut tab = Table::new(&[
            "NODE",
            "INSTANCE TYPE",
            "CPU REQ",
            "MEM REQ",
            "EVICT",
            "DAEMONSET PODS",
            "$/MONTH",
        ]);
        for d in &plan.drain {
            let i = snap.node_index(&d.node);
            let node = i.map(|i| &snap.nodes()[i]);
            let util = |dim: usize| {
                i.zip(node).map_or("-".to_owned(), |(i, n)| {
                    pct(snap.requested(i)[dim], n.allocatable[dim])
                })
            };
            tab.row(vec![
                d.node.clone(),
                node.and_then(|n| n.spec.labels.get(INSTANCE_TYPE_LABEL).cloned())
                    .unwrap_or_else(|| "-".into()),
                util(Dimensions::CPU),
                util(Dimensions::MEMORY),
                d.evicted_pods.to_string(),
                d.daemon_set_pods.to_string(),
                format_dollars(d.hourly_price * compactor_core::cost::HOURS_PER_MONTH),
            ]);
        }
        tab.write_first(out, view.limit)?;
    }

    writeln!(out)?;
    if plan.moves.is_empty() {
        writeln!(out, "Moves: none")?;
    } else {
        writeln!(
            out,
            "Moves ({} evictions in {} waves; predicted landing node by kube-scheduler's scoring):",
            plan.moves.len(),
            plan.waves.len()
        )?;
        let mut tab = Table::new(&["WAVE", "POD", "WORKLOAD", "FROM", "TO", "RISK"]);
        for m in &plan.moves {
            tab.row(vec![
                m.wave.to_string(),
                format!("{}/{}", m.namespace, m.pod),
                m.workload
                    .as_ref()
                    .map_or("-".to_owned(), |w| format!("{}/{}", w.kind, w.name)),
                m.from_node.clone(),
                m.to_node.clone(),
                format!("{:?} ({})", m.risk.level, m.risk.score).to_lowercase(),
            ]);
        }
        tab.write_first(out, view.limit)?;
    }

    if !plan.cordon_only.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Cordoned while the plan runs, not drained ({}): {}",
            plan.cordon_only.len(),
            plan.cordon_only.join(", ")
        )?;
        writeln!(
            out,
            "  (kube-scheduler would put one of their pods where the plan may not; every prediction assumes them cordoned, and they are uncordoned when the plan is done)"
        )?;
    }

    writeln!(out)?;
    writeln!(out, "Kept nodes ({}), and why each stays:", plan.kept.len())?;
    let mut tab = Table::new(&["NODE", "RECEIVES", "REASON", "DETAIL"]);
    for k in &plan.kept {
        let more = k.blocking_pods.len().saturating_sub(1);
        let detail = if more > 0 {
            format!("{} (+{more} more blocking pods)", k.reason.message)
        } else {
            k.reason.message.clone()
        };
        tab.row(vec![
            k.node.clone(),
            k.receives.to_string(),
            k.reason.code.as_str().to_owned(),
            detail,
        ]);
    }
    tab.write_first(out, view.limit)?;

    writeln!(out)?;
    let lb = &plan.lower_bound;
    writeln!(
        out,
        "Lower bound: at least {} {} needed ({}; binding dimension {}); the plan keeps {}.",
        lb.nodes,
        if lb.nodes == 1 {
            "node is"
        } else {
            "nodes are"
        },
        lb.method,
        lb.binding_dimension,
        s.nodes_after
    )?;
    if let Some(cb) = &plan.cap_lower_bound {
        writeln!(
            out,
            "At the {} % cap: at least {} (binding dimension {}); the plan keeps {} more ({:.1} % over).",
            plan.thresholds.max_utilization_percent,
            cb.nodes,
            cb.binding_dimension,
            s.gap_nodes,
            s.gap_percent
        )?;
    }
    writeln!(
        out,
        "Savings: {} per month ({} per hour) by draining {} of {} nodes.",
        plan.savings.formatted,
        format_dollars(plan.savings.hourly),
        plan.drain.len(),
        s.nodes
    )?;
    if let Some(t) = &plan.traffic {
        let line = |r: &compactor_core::traffic::TrafficReport| {
            format!(
                "{}/s cross-node ({:.1} % of {}/s)",
                human_bytes(r.cross_node_bytes_per_second),
                r.cross_node_share * 100.0,
                human_bytes(r.total_bytes_per_second)
            )
        };
        writeln!(
            out,
            "Traffic ({} group(s)): before {}; after {} as kube-scheduler is predicted to place pods; {} as the strategy packed them.",
            t.groups,
            line(&t.before),
            line(&t.after),
            line(&t.packed)
        )?;
    }
    for note in &plan.notes {
        writeln!(out, "Note: {}", compactor_core::text::printable(note))?;
    }
    Ok(())
}

/// Bytes (per second) in binary units: `512 B`, `1.5 MiB`.
fn human_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} {}", UNITS[0])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
