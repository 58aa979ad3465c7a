//! `kube-compactor analyze`: read a snapshot, usage and prices, print the analysis.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::table::Table;
use anyhow::Context;
use compactor_core::Snapshot;
use compactor_core::analysis::{
    Analysis, AnalysisOptions, ResourceFigures, WorkloadDimension, analyze,
};
use compactor_core::cost::{Pricing, format_dollars};
use compactor_core::plan::PlanOptions;
use compactor_core::resources::{CPU, MEMORY, human};
use compactor_kube::metrics::{MetricsCoverage, apply_metrics, read_metrics, read_pricing};

use crate::{InputError, SafetyArg, StrategyArg};

/// Arguments of `analyze`.
#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {
    /// Snapshot file: `kubectl get nodes,pods,pdb,pvc,pv,namespaces,csinodes -A -o json` output, or the core snapshot JSON
    /// (which may carry usage itself). The embedded demo cluster without it.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    #[command(flatten)]
    pub live: crate::LiveArgs,
    /// Usage: `kubectl get --raw /apis/metrics.k8s.io/v1beta1/pods` (PodMetricsList) or
    /// `…/nodes` (NodeMetricsList). Repeat it for a history, oldest first: pods seen in two or
    /// more files get a percentile recommendation.
    #[arg(long, value_name = "FILE")]
    pub metrics: Vec<PathBuf>,
    /// Price table (JSON): `{"table": [{"instanceType", "zone"?, "capacityType"?, "hourly"}],
    /// "cpuMonth"?, "gibMonth"?}`; see docs/analysis.md. The embedded demo's own without
    /// --from (`kube-compactor demo pricing`).
    #[arg(long, value_name = "FILE")]
    pub pricing: Option<PathBuf>,
    /// Packing strategy of the plans (current and what-if).
    #[arg(long, value_enum, default_value_t = StrategyArg::BestFit)]
    pub strategy: StrategyArg,
    /// Safety threshold of the plans.
    #[arg(long, value_enum, default_value_t = SafetyArg::Conservative)]
    pub safety: SafetyArg,
    #[command(flatten)]
    pub scheduler: crate::SchedulerArgs,
    /// Output format; `html` is one self-contained page (overview first, inline SVG and
    /// script, no network).
    #[arg(long, short, value_enum, default_value_t = ReportOutput::Table)]
    pub output: ReportOutput,
    /// Group nodes into pools by the value of this node label (the table's pools, and in the
    /// HTML report besides the pools by instance type); default: the instance type.
    #[arg(long, value_name = "LABEL", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub group_by: Option<String>,
    /// Write the output to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print every row of the table's long lists (default: the first 50 of each; JSON, YAML
    /// and HTML always hold everything).
    #[arg(long)]
    pub all: bool,
}

/// Output formats of `analyze` and `plan`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ReportOutput {
    /// Tables for people.
    Table,
    /// Everything as JSON (the analysis, or the plan).
    Json,
    /// Everything as YAML.
    Yaml,
    /// A self-contained HTML report: overview first, the node list last.
    Html,
}

/// Reads and validates a pricing file (`--pricing`). Errors are [`InputError`]s naming the
/// file and the field (`prices.json: pricing: table[0].hourly: …`).
pub fn load_pricing(path: &Path) -> anyhow::Result<Pricing> {
    let text = crate::read(path)?;
    read_pricing(&text).map_err(|e| InputError(format!("{}: {e}", path.display())).into())
}

/// Runs `analyze`.
pub fn run(args: AnalyzeArgs) -> anyhow::Result<()> {
    let mut dumps = Vec::with_capacity(args.metrics.len() + 1);
    let (mut spec, source) = if args.live.live {
        let live = crate::live_snapshot(&args.live.connection, true)?;
        match live.metrics {
            Ok(dump) => dumps.push(dump),
            Err(why) => eprintln!("kube-compactor: note: usage unknown: {why}"),
        }
        (live.spec, "live cluster".to_owned())
    } else {
        (
            crate::load_spec(args.from.as_deref())?,
            crate::source_name(args.from.as_deref()),
        )
    };
    for path in &args.metrics {
        let text = crate::read(path)?;
        dumps
            .push(read_metrics(&text).map_err(|e| InputError(format!("{}: {e}", path.display())))?);
    }
    let coverage = (!dumps.is_empty()).then(|| apply_metrics(&mut spec, &dumps));
    if let Some(c) = &coverage {
        note_unmatched(c);
    }
    let snapshot = Snapshot::new(spec).map_err(|e| InputError(format!("{source}: {e}")))?;
    let pricing = match &args.pricing {
        Some(p) => load_pricing(p)?,
        None if crate::demo::is_embedded(args.from.as_deref(), args.live.live) => {
            crate::demo::pricing()
        }
        None => Pricing::default(),
    };
    let mut options = AnalysisOptions::default();
    options.plan = PlanOptions::default()
        .with_strategy(args.strategy.into())
        .with_safety(args.safety.into())
        .with_pricing(pricing.clone())
        .with_scheduler(args.scheduler.resolve(&Default::default())?);
    let progress = crate::progress::Progress::start(format!(
        "analysing {} nodes, {} pods",
        snapshot.nodes().len(),
        snapshot.pods().len()
    ));
    let analysed = analyze(&snapshot, &options);
    drop(progress);
    let analysis = analysed.context("analysis failed")?;
    let view = crate::table::View {
        pricing: &pricing,
        group_by: args.group_by.as_deref(),
        limit: (!args.all).then_some(crate::table::DEFAULT_ROWS),
    };
    let mut buf: Vec<u8> = Vec::new();
    match args.output {
        ReportOutput::Table => render_table(&mut buf, &snapshot, &analysis, &source, &view)?,
        ReportOutput::Json => {
            serde_json::to_writer_pretty(&mut buf, &analysis)?;
            writeln!(buf)?;
        }
        ReportOutput::Yaml => write!(buf, "{}", serde_yaml_ng::to_string(&analysis)?)?,
        ReportOutput::Html => buf.extend(
            crate::html::render(&crate::html::Report {
                snapshot: &snapshot,
                plan: &analysis.plan,
                source: &source,
                pricing: &pricing,
                group_by: args.group_by.as_deref(),
                analysis: Some(&analysis),
            })
            .into_bytes(),
        ),
    }
    match &args.out {
        Some(path) => std::fs::write(path, &buf)
            .map_err(|e| InputError(format!("{}: {e}", path.display())))?,
        None => std::io::stdout().lock().write_all(&buf)?,
    }
    Ok(())
}

fn note_unmatched(c: &MetricsCoverage) {
    if !c.unmatched.is_empty() {
        const SHOWN: usize = 5;
        let mut names = c
            .unmatched
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if c.unmatched.len() > SHOWN {
            names.push_str(&format!(", +{} more", c.unmatched.len() - SHOWN));
        }
        eprintln!(
            "kube-compactor: note: metrics for {} object(s) not in the snapshot were ignored: {names}",
            c.unmatched.len()
        );
    }
}

/// An amount as one would write it in a manifest: `750m`, `2`, `2304Mi`, `96Mi`, `1536Ki`.
pub fn kube_quantity(resource: &str, v: u64) -> String {
    if resource == CPU {
        return compactor_core::quantity::format(v, compactor_core::quantity::Unit::Milli);
    }
    if resource != MEMORY || v == 0 {
        return v.to_string();
    }
    for (shift, suffix) in [(40, "Ti"), (30, "Gi"), (20, "Mi"), (10, "Ki")] {
        if v.is_multiple_of(1u64 << shift) {
            return format!("{}{suffix}", v >> shift);
        }
    }
    v.to_string()
}

/// `45.0 %`, or `unknown`.
pub fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "unknown".to_owned(), |v| format!("{v:.1} %"))
}

/// An amount for people, or `unknown`.
pub fn amount(resource: &str, v: Option<u64>) -> String {
    v.map_or_else(|| "unknown".to_owned(), |v| human(resource, v).to_string())
}

fn shown(f: &ResourceFigures) -> bool {
    f.allocatable > 0 || f.requested > 0
}

fn dimension_cells(resource: &str, d: Option<&WorkloadDimension>) -> [String; 2] {
    match d {
        None => ["unknown".to_owned(), "unknown".to_owned()],
        Some(d) => [
            format!(
                "{} of {} ({})",
                human(resource, d.used),
                human(resource, d.requested),
                pct(d.request_usage_percent)
            ),
            d.limit.map_or_else(
                || "no limit".to_owned(),
                |l| format!("{} ({})", human(resource, l), pct(d.limit_usage_percent)),
            ),
        ],
    }
}

/// Writes the analysis as tables.
pub(crate) fn render_table(
    out: &mut impl Write,
    snap: &Snapshot,
    a: &Analysis,
    source: &str,
    view: &crate::table::View<'_>,
) -> std::io::Result<()> {
    let c = &a.cluster;
    writeln!(out, "Cluster: {}", compactor_core::text::printable(source))?;
    writeln!(
        out,
        "  {} nodes ({} idle{}), {} running pods ({} with usage){}; {} per month ({} per hour)",
        c.nodes,
        c.idle_nodes.len(),
        if c.idle_nodes.is_empty() {
            String::new()
        } else {
            const NAMED: usize = 10;
            let more = c.idle_nodes.len().saturating_sub(NAMED);
            format!(
                ": {}{}",
                c.idle_nodes[..c.idle_nodes.len().min(NAMED)].join(", "),
                if more > 0 && view.limit.is_some() {
                    format!(", … {more} more")
                } else if more > 0 {
                    format!(", {}", c.idle_nodes[NAMED..].join(", "))
                } else {
                    String::new()
                }
            )
        },
        c.pods,
        c.pods_with_usage,
        if c.unscheduled_pods > 0 {
            format!(", {} unscheduled", c.unscheduled_pods)
        } else {
            String::new()
        },
        c.monthly_cost_formatted,
        format_dollars(c.hourly_cost)
    )?;

    writeln!(out)?;
    crate::table::overview(out, snap, &a.plan, view)?;

    writeln!(out)?;
    writeln!(out, "Utilization (of allocatable):")?;
    let mut t = Table::new(&[
        "RESOURCE",
        "ALLOCATABLE",
        "REQUESTED",
        "USED",
        "REQUESTED %",
        "USED %",
    ]);
    for f in c.resources.iter().filter(|f| shown(f)) {
        t.row(vec![
            f.resource.clone(),
            human(&f.resource, f.allocatable).to_string(),
            human(&f.resource, f.requested).to_string(),
            amount(&f.resource, f.used),
            pct(f.request_percent),
            pct(f.usage_percent),
        ]);
    }
    t.write(out)?;

    writeln!(out)?;
    writeln!(out, "Nodes:")?;
    let mut t = Table::new(&[
        "NODE",
        "INSTANCE TYPE",
        "PODS",
        "CPU REQ",
        "CPU USED",
        "MEM REQ",
        "MEM USED",
        "$/MONTH",
        "PRICE FROM",
        "PLAN",
        "RIGHT-SIZED PLAN",
    ]);
    for n in &a.nodes {
        let p = |r: &str, used: bool| {
            n.resource(r).map_or("-".to_owned(), |f| {
                pct(if used {
                    f.usage_percent
                } else {
                    f.request_percent
                })
            })
        };
        let fate = |after: Option<&compactor_core::analysis::NodeAfter>| match after {
            None => "-".to_owned(),
            Some(x) if x.drained => "drained".to_owned(),
            Some(x) if x.receives > 0 => format!("kept, receives {}", x.receives),
            Some(_) => "kept".to_owned(),
        };
        t.row(vec![
            n.node.clone(),
            n.instance_type.clone().unwrap_or_else(|| "-".into()),
            format!("{}{}", n.pods, if n.idle { " (idle)" } else { "" }),
            p(CPU, false),
            p(CPU, true),
            p(MEMORY, false),
            p(MEMORY, true),
            format_dollars(n.monthly_price),
            serde_json::to_value(n.price_source)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            fate(Some(&n.after_plan)),
            fate(n.after_what_if.as_ref()),
        ]);
    }
    t.write_first(out, view.limit)?;

    writeln!(out)?;
    match &c.fragmentation {
        None => writeln!(out, "Fragmentation: no workload pods")?,
        Some(f) => writeln!(
            out,
            "Fragmentation: a typical pod requests {} and {}; {} more fit on the schedulable nodes; stranded CPU {} of {} free ({}), stranded memory {} of {} free ({})",
            human(CPU, f.typical_cpu_millicores),
            human(MEMORY, f.typical_memory_bytes),
            f.typical_pods_that_fit,
            human(CPU, f.stranded_cpu_millicores),
            human(CPU, f.free_cpu_millicores),
            pct(Some(f.cpu_percent)),
            human(MEMORY, f.stranded_memory_bytes),
            human(MEMORY, f.free_memory_bytes),
            pct(Some(f.memory_percent)),
        )?,
    }
    let e = &c.efficiency;
    match e.usage_of_requests_percent {
        Some(u) => writeln!(
            out,
            "Efficiency score: {:.1} of 100 = requests {} of allocatable × usage {} of requests",
            e.score,
            pct(Some(e.allocation_percent)),
            pct(Some(u))
        )?,
        None => writeln!(
            out,
            "Efficiency score: {:.1} of 100 = requests {} of allocatable (usage unknown)",
            e.score,
            pct(Some(e.allocation_percent))
        )?,
    }

    writeln!(out)?;
    let over: Vec<_> = a.over_provisioned().collect();
    if a.workloads.is_empty() {
        writeln!(
            out,
            "Over-provisioned workloads: usage unknown (pass --metrics FILE)"
        )?;
    } else if over.is_empty() {
        writeln!(out, "Over-provisioned workloads: none (threshold 30 %)")?;
    } else {
        writeln!(
            out,
            "Over-provisioned workloads ({}; peak usage below 30 % of requests or limits):",
            over.len()
        )?;
        let mut t = Table::new(&[
            "WORKLOAD",
            "PODS",
            "CPU USED OF REQUESTED",
            "CPU LIMIT",
            "MEMORY USED OF REQUESTED",
            "MEMORY LIMIT",
        ]);
        for w in over {
            let [cr, cl] = dimension_cells(CPU, w.cpu.as_ref());
            let [mr, ml] = dimension_cells(MEMORY, w.memory.as_ref());
            t.row(vec![
                format!("{}/{}/{}", w.namespace, w.kind, w.name),
                format!("{}/{}", w.measured_pods, w.replicas),
                cr,
                cl,
                mr,
                ml,
            ]);
        }
        t.write_first(out, view.limit)?;
    }

    if !a.workloads.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Right-sizing (requests per pod; report only, nothing is changed):"
        )?;
        let mut t = Table::new(&["WORKLOAD", "PODS", "CPU", "MEMORY", "METHOD"]);
        for w in &a.workloads {
            let cell = |r: &str, d: Option<&WorkloadDimension>| {
                d.map_or("unknown".to_owned(), |d| {
                    format!(
                        "{} -> {}",
                        kube_quantity(r, d.current_request),
                        kube_quantity(r, d.recommended)
                    )
                })
            };
            let method = w
                .cpu
                .as_ref()
                .or(w.memory.as_ref())
                .and_then(|d| serde_json::to_value(d.method).ok())
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            t.row(vec![
                format!("{}/{}/{}", w.namespace, w.kind, w.name),
                format!("{}/{}", w.measured_pods, w.replicas),
                cell(CPU, w.cpu.as_ref()),
                cell(MEMORY, w.memory.as_ref()),
                method,
            ]);
        }
        t.write_first(out, view.limit)?;
    }

    writeln!(out)?;
    let p = &a.plan;
    writeln!(
        out,
        "Plan: drains {} of {} nodes{}, saving {} per month (`kube-compactor plan` explains every node).",
        p.drain.len(),
        p.summary.nodes,
        if p.drain.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                p.drain
                    .iter()
                    .map(|d| d.node.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        p.savings.formatted
    )?;
    match &a.what_if {
        None => writeln!(
            out,
            "What-if right-sizing: usage unknown, no recommendation to plan with."
        )?,
        Some(w) => {
            writeln!(
                out,
                "What-if right-sizing (the plan again with the recommended requests of {} pods):",
                w.rightsized_pods
            )?;
            writeln!(
                out,
                "  requests: cpu {} -> {}, memory {} -> {}",
                human(CPU, w.cpu_requested_millicores),
                human(CPU, w.cpu_requested_after_millicores),
                human(MEMORY, w.memory_requested_bytes),
                human(MEMORY, w.memory_requested_after_bytes)
            )?;
            writeln!(
                out,
                "  drains {} of {} nodes{} instead of {}: {} more node(s) freed, {} more per month ({} per month in total)",
                w.nodes_drained_after,
                p.summary.nodes,
                if w.drain.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", w.drain.join(", "))
                },
                w.nodes_drained,
                w.additional_nodes_freed,
                w.additional_monthly_savings_formatted,
                format_dollars(w.monthly_savings_after)
            )?;
        }
    }
    Ok(())
}
