//! `kube-compactor`: the command-line face of the planner.
//!
//! A thin layer: parse arguments, read files, call the crates, print.

mod analyze;
mod apply;
mod controller;
mod demo;
mod html;
mod overview;
mod progress;
mod serve;
mod table;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use compactor_core::model::SnapshotSpec;
use compactor_core::packing::StrategyKind;
use compactor_core::plan::{Plan, PlanOptions, plan};
use compactor_core::safety::SafetyLevel;
use compactor_core::{CoreError, Snapshot, verify::verify};

#[derive(Parser, Debug)]
#[command(
    name = "kube-compactor",
    version,
    about = "Kubernetes consolidation: which nodes can go, where their pods land, and why every other node stays"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Largest input file read (snapshot, plan, metrics, traffic, pricing, scheduler
    /// configuration), as a Kubernetes quantity (`512Mi`, `2Gi`); larger files are refused
    /// before they are read. Inputs must be regular files (not FIFOs or devices).
    #[arg(long, global = true, value_name = "SIZE", default_value = DEFAULT_MAX_INPUT, value_parser = parse_size)]
    max_input_size: u64,
}

/// Default of `--max-input-size`: a 10,000-node cluster's full dump is about 330 MiB.
const DEFAULT_MAX_INPUT: &str = "1Gi";

/// The `--max-input-size` in force (set once, from the command line).
static MAX_INPUT: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

fn parse_size(text: &str) -> Result<u64, String> {
    compactor_core::quantity::parse(text, compactor_core::quantity::Unit::Base)
        .map_err(|e| format!("{text:?} is not a size: {e}"))
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Plan a consolidation of a cluster snapshot (the embedded demo cluster without --from).
    Plan(PlanArgs),
    /// Check a plan (JSON from `plan --output json`) against its snapshot with the independent checker.
    Check {
        /// The snapshot the plan was made from (kubectl List or core snapshot JSON).
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
        /// The plan, as printed by `plan --output json`.
        #[arg(long, value_name = "FILE")]
        plan: PathBuf,
        /// Output format (`json` / `yaml`: `{"valid": …, "violations": [...]}`, each violation
        /// typed with the objects and the rule).
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Predict where kube-scheduler places the snapshot's pending pods (those bound to no
    /// node), one after the other, with the nodes that tie for the top score.
    Predict {
        /// Snapshot file (kubectl List or core snapshot JSON).
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Predict only these pending pods (`namespace/name`, repeatable), in this order; the
        /// other pending pods stay unplaced.
        #[arg(long, value_name = "NAMESPACE/NAME")]
        pod: Vec<String>,
        #[command(flatten)]
        scheduler: SchedulerArgs,
        /// Output format (`table`: one line per pod).
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Print the embedded demo cluster in the core snapshot JSON format, or another of its
    /// inputs (traffic, pricing, metrics) in the format of the option that reads it: templates
    /// for your own files.
    Demo(demo::DemoArgs),
    /// Print the CustomResourceDefinitions of optimizer.io/v1alpha1 (OptimizationConfig,
    /// MigrationPlan, OptimizationReport) as YAML, for `kubectl apply -f -`
    /// (deploy/crds.yaml is this output).
    Crds,
    /// Analyze a snapshot: utilization, waste, over-provisioned workloads, right-sizing, cost,
    /// and what right-sizing would free (a second plan). Report only.
    Analyze(analyze::AnalyzeArgs),
    /// Carry a plan out on the live cluster: without --execute, print every API call it would
    /// make, in order (no cluster needed); with --execute, re-validate the plan against the
    /// cluster, then cordon, evict wave by wave and wait for the replacements (exit 0 done,
    /// 3 plan refused as stale, 4 stopped and rolled back).
    Apply(ApplyArgs),
    /// Run the operator: reconcile OptimizationConfigs (reports, plans, approvals, safe
    /// windows, execution) as the single leader of a Lease; /healthz and /readyz on :8080,
    /// /metrics on :8081. See deploy/ for the manifests.
    Controller(Box<controller::ControllerArgs>),
    /// Print a shell completion script (`kube-compactor completions bash > /etc/bash_completion.d/kube-compactor`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Where a live cluster is reached: the kubeconfig and context (`plan --live`, `analyze
/// --live`, `apply --execute`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Connection {
    /// kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster
    /// service account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// kubeconfig context (default: the current one).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

/// Reading the cluster itself instead of a file.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LiveArgs {
    /// Read the live cluster through the API (nodes, pods, budgets, claims, volumes,
    /// namespaces, CSINodes, ReplicaSets, Jobs, and metrics.k8s.io when served) instead of
    /// a file.
    #[arg(long, conflicts_with = "from")]
    pub live: bool,
    #[command(flatten)]
    pub connection: Connection,
}

#[derive(clap::Args, Debug)]
pub(crate) struct ApplyArgs {
    /// The plan, as printed by `plan --output json`.
    #[arg(long, value_name = "FILE")]
    plan: PathBuf,
    /// Act on the cluster. Without it, print the API calls only.
    #[arg(long)]
    execute: bool,
    #[command(flatten)]
    connection: Connection,
    /// Give up on an eviction a budget keeps refusing (429) after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    eviction_timeout: u64,
    /// Stop when a wave's replacements are not all scheduled and Ready after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    wave_timeout: u64,
    /// Stop when a replacement stays unschedulable this many seconds after the pod it
    /// replaces is gone.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pending_grace: u64,
    /// The scheduler configuration for the re-validation and the re-prediction made right
    /// before each eviction; without these flags, the one the plan was made with.
    #[command(flatten)]
    scheduler: SchedulerArgs,
    /// Skip the re-prediction before each eviction (and the steering it does): evict as the
    /// plan says and only measure where replacements land.
    #[arg(long)]
    no_repredict: bool,
    /// Output format: `table` prints one line per action; `json` / `yaml` print the calls
    /// (dry run) or the execution report.
    #[arg(long, short, value_enum, default_value_t = Output::Table)]
    output: Output,
}

#[derive(clap::Args, Debug)]
struct PlanArgs {
    /// Snapshot file: `kubectl get nodes,pods,pdb,pvc,pv,namespaces,csinodes -A -o json` output, or the core snapshot JSON.
    #[arg(long, value_name = "FILE")]
    from: Option<PathBuf>,
    #[command(flatten)]
    live: LiveArgs,
    /// Packing strategy.
    #[arg(long, value_enum, default_value_t = StrategyArg::BestFit)]
    strategy: StrategyArg,
    /// Safety threshold: utilisation cap of receiving nodes (70 / 80 / 90 %) and wave sizes.
    #[arg(long, value_enum, default_value_t = SafetyArg::Conservative)]
    safety: SafetyArg,
    /// Price table (JSON, see docs/analysis.md): instance type, optional zone and capacity
    /// type to dollars per hour. The embedded demo's own without --from (`kube-compactor
    /// demo pricing`).
    #[arg(long, value_name = "FILE")]
    pricing: Option<PathBuf>,
    /// Traffic between pods or workloads, bytes per second (JSON, see
    /// docs/traffic-format.md): the network-aware strategy packs by it, and the plan reports
    /// cross-node traffic before and after. The embedded demo's own without --from
    /// (`kube-compactor demo traffic`).
    #[arg(long, value_name = "FILE")]
    traffic: Option<PathBuf>,
    /// Edges below this many bytes per second do not join pods into traffic groups.
    #[arg(long, value_name = "BYTES_PER_SECOND", default_value_t = 0.0)]
    traffic_threshold: f64,
    #[command(flatten)]
    scheduler: SchedulerArgs,
    /// Output format; `html` is one self-contained page (overview first, the node list last).
    #[arg(long, short, value_enum, default_value_t = analyze::ReportOutput::Table)]
    output: analyze::ReportOutput,
    /// Group nodes into pools by the value of this node label (default: the instance type).
    #[arg(long, value_name = "LABEL", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    group_by: Option<String>,
    /// Print every row of the table's long lists (default: the first 50 of each; JSON and
    /// YAML always hold everything).
    #[arg(long)]
    all: bool,
}

/// How the cluster's kube-scheduler is configured: the prediction follows it.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct SchedulerArgs {
    /// The cluster's kube-scheduler configuration (`KubeSchedulerConfiguration`,
    /// kubescheduler.config.k8s.io/v1, YAML or JSON: the file given to `kube-scheduler
    /// --config`). The prediction follows its profiles' scoring (NodeResourcesFit strategy,
    /// score plugin weights) and percentageOfNodesToScore; settings it cannot model are
    /// refused (see docs/decisions.md).
    #[arg(long, value_name = "FILE")]
    pub scheduler_config: Option<PathBuf>,
    /// The cluster's kube-scheduler `percentageOfNodesToScore` (0: its adaptive default),
    /// over the configuration's. 100 makes predictions on clusters of 100 nodes or more exact.
    #[arg(long, value_name = "PERCENT", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub percentage_of_nodes_to_score: Option<u32>,
}

impl SchedulerArgs {
    /// The configuration these flags give, starting from `base` when no file is named.
    pub(crate) fn resolve(
        &self,
        base: &compactor_core::plan::SchedulerConfig,
    ) -> anyhow::Result<compactor_core::plan::SchedulerConfig> {
        let mut config = match &self.scheduler_config {
            Some(path) => {
                let value: serde_json::Value =
                    serde_yaml_ng::from_str(&read(path)?).map_err(|e| {
                        InputError(format!("{}: not YAML or JSON: {e}", path.display()))
                    })?;
                compactor_kube::scheduler_config(&value)
                    .map_err(|e| InputError(format!("{}: {e}", path.display())))?
            }
            None => base.clone(),
        };
        if let Some(p) = self.percentage_of_nodes_to_score {
            config.percentage_of_nodes_to_score = p;
            for profile in &mut config.profiles {
                profile.percentage_of_nodes_to_score = None;
            }
        }
        Ok(config)
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum StrategyArg {
    FirstFit,
    BestFit,
    Search,
    NetworkAware,
    AffinityBased,
}

impl From<StrategyArg> for StrategyKind {
    fn from(a: StrategyArg) -> Self {
        match a {
            StrategyArg::FirstFit => StrategyKind::FirstFit,
            StrategyArg::BestFit => StrategyKind::BestFit,
            StrategyArg::Search => StrategyKind::Search,
            StrategyArg::NetworkAware => StrategyKind::NetworkAware,
            StrategyArg::AffinityBased => StrategyKind::AffinityBased,
        }
    }
}

impl From<SafetyArg> for SafetyLevel {
    fn from(a: SafetyArg) -> Self {
        match a {
            SafetyArg::Conservative => SafetyLevel::Conservative,
            SafetyArg::Medium => SafetyLevel::Medium,
            SafetyArg::Aggressive => SafetyLevel::Aggressive,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SafetyArg {
    Conservative,
    Medium,
    Aggressive,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Output {
    Table,
    Json,
    Yaml,
}

/// An error caused by the user's input: one line on stderr, exit code 2.
#[derive(Debug)]
struct InputError(String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = MAX_INPUT.set(cli.max_input_size);
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            // The reader went away (`| head`): stop as a process killed by SIGPIPE would,
            // without a message (128 + 13).
            let broken_pipe = err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::from(141);
            }
            // One line, whatever names the message carries.
            use compactor_core::text::printable;
            if err.downcast_ref::<InputError>().is_some() {
                eprintln!("kube-compactor: {}", printable(&err.to_string()));
                ExitCode::from(2)
            } else {
                eprintln!("kube-compactor: {}", printable(&format!("{err:#}")));
                ExitCode::FAILURE
            }
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match cli.command {
        Command::Plan(args) => {
            let (spec, source) = if args.live.live {
                let live = live_snapshot(&args.live.connection, false)?;
                (live.spec, "live cluster".to_owned())
            } else {
                (
                    load_spec(args.from.as_deref())?,
                    source_name(args.from.as_deref()),
                )
            };
            let snapshot = Snapshot::new(spec).map_err(|e| InputError(format!("{source}: {e}")))?;
            // The embedded demo brings its own prices and traffic (`kube-compactor demo`).
            let embedded = demo::is_embedded(args.from.as_deref(), args.live.live);
            let pricing = match &args.pricing {
                Some(path) => analyze::load_pricing(path)?,
                None if embedded => demo::pricing(),
                None => Default::default(),
            };
            let traffic = match &args.traffic {
                Some(path) => Some(
                    compactor_kube::metrics::read_traffic(&read(path)?)
                        .map_err(|e| InputError(format!("{}: {e}", path.display())))?,
                ),
                None if embedded => Some(demo::traffic()),
                None => None,
            };
            let options = PlanOptions::default()
                .with_strategy(args.strategy.into())
                .with_safety(args.safety.into())
                .with_pricing(pricing.clone())
                .with_traffic(traffic)
                .with_traffic_threshold(args.traffic_threshold)
                .with_scheduler(args.scheduler.resolve(&Default::default())?);
            let progress = progress::Progress::start(format!(
                "planning {} nodes, {} pods",
                snapshot.nodes().len(),
                snapshot.pods().len()
            ));
            let planned = plan(&snapshot, &options);
            drop(progress);
            let plan = planned.map_err(|e| match e {
                e @ (CoreError::UnknownTrafficPod { .. }
                | CoreError::UnknownTrafficWorkload { .. }
                | CoreError::InvalidTrafficRate { .. }
                | CoreError::InvalidTrafficEdge { .. }) => {
                    let source = args.traffic.as_deref().map_or_else(
                        || "embedded demo traffic".to_owned(),
                        |p| p.display().to_string(),
                    );
                    anyhow::Error::new(InputError(format!("{source}: {e}")))
                }
                e @ CoreError::InvalidOption { .. } => {
                    anyhow::Error::new(InputError(e.to_string()))
                }
                e => anyhow::Error::new(e).context("planning failed"),
            })?;
            match args.output {
                analyze::ReportOutput::Table => {
                    let view = table::View {
                        pricing: &pricing,
                        group_by: args.group_by.as_deref(),
                        limit: (!args.all).then_some(table::DEFAULT_ROWS),
                    };
                    table::render(&mut out, &snapshot, &plan, source, &view)?;
                }
                analyze::ReportOutput::Json => {
                    serde_json::to_writer_pretty(&mut out, &plan)?;
                    writeln!(out)?;
                }
                analyze::ReportOutput::Yaml => write!(out, "{}", serde_yaml_ng::to_string(&plan)?)?,
                analyze::ReportOutput::Html => {
                    let report = html::Report {
                        snapshot: &snapshot,
                        plan: &plan,
                        source: &source,
                        pricing: &pricing,
                        group_by: args.group_by.as_deref(),
                        analysis: None,
                    };
                    out.write_all(html::render(&report).as_bytes())?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            from,
            plan: plan_path,
            output,
        } => {
            let snapshot = load(from.as_deref())?;
            let text = read(&plan_path)?;
            let plan: Plan = serde_json::from_str(&text).map_err(|e| {
                InputError(format!(
                    "{}: not a plan printed by `plan --output json`: {e}",
                    plan_path.display()
                ))
            })?;
            let options = PlanOptions::default()
                .with_strategy(plan.strategy)
                .with_safety(plan.thresholds.level)
                .with_scheduler(plan.scheduler.clone());
            let violations = verify(&snapshot, &plan, &options);
            let code = if violations.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
            let report = serde_json::json!({
                "valid": violations.is_empty(),
                "violations": violations,
            });
            match output {
                Output::Json => {
                    serde_json::to_writer_pretty(&mut out, &report)?;
                    writeln!(out)?;
                    return Ok(code);
                }
                Output::Yaml => {
                    write!(out, "{}", serde_yaml_ng::to_string(&report)?)?;
                    return Ok(code);
                }
                Output::Table => {}
            }
            if violations.is_empty() {
                writeln!(
                    out,
                    "plan is valid: {} nodes drained, {} moves, {} nodes kept with reasons",
                    plan.drain.len(),
                    plan.moves.len(),
                    plan.kept.len()
                )?;
                Ok(ExitCode::SUCCESS)
            } else {
                for v in &violations {
                    writeln!(
                        out,
                        "violation: {}",
                        compactor_core::text::printable(&v.to_string())
                    )?;
                }
                writeln!(out, "plan is invalid: {} violations", violations.len())?;
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Analyze(args) => {
            analyze::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Predict {
            from,
            pod,
            scheduler,
            output,
        } => {
            let snapshot = load(Some(&from))?;
            let scheduler = scheduler.resolve(&Default::default())?;
            let predictions = if pod.is_empty() {
                compactor_core::plan::predict_pending(&snapshot, &scheduler)
                    .map_err(|e| InputError(e.to_string()))?
            } else {
                let keys: Vec<&str> = pod.iter().map(String::as_str).collect();
                compactor_core::plan::predict_pods(&snapshot, &keys, &scheduler)
                    .map_err(|e| InputError(format!("--pod: {e}")))?
            };
            match output {
                Output::Table => {
                    if predictions.is_empty() {
                        writeln!(out, "no pending pods in {}", from.display())?;
                    }
                    for p in &predictions {
                        match (&p.node, &p.unschedulable) {
                            (Some(node), _) if p.tied_with.is_empty() => {
                                writeln!(out, "{} -> {node}", p.pod)?
                            }
                            (Some(node), _) => writeln!(
                                out,
                                "{} -> {node} (tied with {})",
                                p.pod,
                                p.tied_with.join(", ")
                            )?,
                            (None, why) => writeln!(
                                out,
                                "{} -> unschedulable: {}",
                                p.pod,
                                why.as_deref().unwrap_or("no node fits")
                            )?,
                        }
                    }
                }
                Output::Json => {
                    serde_json::to_writer_pretty(&mut out, &predictions)?;
                    writeln!(out)?;
                }
                Output::Yaml => write!(out, "{}", serde_yaml_ng::to_string(&predictions)?)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Apply(args) => apply::run(args, &mut out),
        Command::Controller(args) => controller::run_controller(*args),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "kube-compactor", &mut out);
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => {
            demo::run(&args, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Crds => {
            writeln!(
                out,
                "# Generated by `kube-compactor crds`; do not edit (a test fails when stale)."
            )?;
            for crd in compactor_kube::crd::crds() {
                writeln!(out, "---")?;
                write!(out, "{}", serde_yaml_ng::to_string(&crd)?)?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A current-thread runtime for the commands that talk to a cluster.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Reads the live cluster. A configuration problem is the user's (exit 2); an API failure
/// is not.
/// `plan` leaves metrics.k8s.io out (it plans on requests); `analyze` reads it.
pub(crate) fn live_snapshot(
    connection: &Connection,
    with_metrics: bool,
) -> anyhow::Result<compactor_kube::live::LiveSnapshot> {
    runtime()?.block_on(async {
        let client = connect(connection).await?;
        let read = if with_metrics {
            compactor_kube::live::snapshot(&client).await
        } else {
            compactor_kube::live::snapshot_without_metrics(&client).await
        };
        read.map_err(|e| anyhow::Error::new(e).context("reading the live cluster"))
    })
}

pub(crate) async fn connect(connection: &Connection) -> anyhow::Result<kube::Client> {
    compactor_kube::live::connect(
        connection.kubeconfig.as_deref(),
        connection.context.as_deref(),
    )
    .await
    .map_err(|e| InputError(e.to_string()).into())
}

fn source_name(path: Option<&Path>) -> String {
    path.map_or_else(
        || "embedded demo cluster".to_owned(),
        |p| p.display().to_string(),
    )
}

fn read(path: &Path) -> anyhow::Result<String> {
    use std::io::Read;
    let fail =
        |e: String| -> anyhow::Error { InputError(format!("{}: {e}", path.display())).into() };
    let limit = MAX_INPUT
        .get()
        .copied()
        .unwrap_or_else(|| parse_size(DEFAULT_MAX_INPUT).unwrap_or(u64::MAX));
    // Checked before opening (opening a FIFO blocks until a writer comes) and again on the
    // file opened: a FIFO would block and a device never end.
    let regular = |meta: &std::fs::Metadata| -> anyhow::Result<()> {
        if meta.is_file() {
            return Ok(());
        }
        let kind = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        Err(fail(format!("{kind}; give a file")))
    };
    regular(&std::fs::metadata(path).map_err(|e| fail(e.to_string()))?)?;
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let meta = file.metadata().map_err(|e| fail(e.to_string()))?;
    regular(&meta)?;
    let too_big = |size: u64| {
        fail(format!(
            "{size} bytes is more than the {limit}-byte input limit (--max-input-size)"
        ))
    };
    if meta.len() > limit {
        return Err(too_big(meta.len()));
    }
    // The size can change while it is read: never read more than the limit.
    let mut text = String::new();
    file.take(limit.saturating_add(1))
        .read_to_string(&mut text)
        .map_err(|e| fail(e.to_string()))?;
    if text.len() as u64 > limit {
        return Err(too_big(text.len() as u64));
    }
    Ok(text)
}

/// Reads a snapshot file, or the demo cluster when `path` is `None` (not yet validated).
fn load_spec(path: Option<&Path>) -> anyhow::Result<SnapshotSpec> {
    Ok(match path {
        None => demo::snapshot(),
        Some(p) => compactor_kube::read_snapshot(&read(p)?)
            .map_err(|e| InputError(format!("{}: {e}", p.display())))?,
    })
}

/// Reads and validates a snapshot file, or the demo cluster when `path` is `None`.
fn load(path: Option<&Path>) -> anyhow::Result<Snapshot> {
    let spec = load_spec(path)?;
    Snapshot::new(spec).map_err(|e| InputError(format!("{}: {e}", source_name(path))).into())
}
