//! The reconciler: one OptimizationConfig at a time, reading the cluster and writing reports,
//! plans, status and Events.

use std::sync::Arc;
use std::time::Duration;

use compactor_core::Snapshot;
use compactor_core::analysis::analyze;
use compactor_core::plan::Plan;
use futures_util::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event as KubeEvent, EventType, Recorder, Reporter};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use serde_json::json;

use super::gate::{NODE_APPROVAL, executable};
use super::objects::{analysis_options, migration_plan, report, workload_count};
use super::telemetry::Telemetry;
use crate::KubeError;
use crate::crd::{
    Condition, MigrationPlan, MigrationPlanStatus, MigrationResult, Mode, OptimizationConfig,
    OptimizationReport, PlanPhase,
};
use crate::execute::{Event, ExecuteOptions, Outcome, execute};
use crate::live;
use crate::metrics::apply_metrics;
use crate::modes::Verdict;
use crate::schedule::Schedule;
use crate::window::any_open;

/// The label naming the config a MigrationPlan or OptimizationReport belongs to.
pub const CONFIG_LABEL: &str = "optimizer.io/config";

/// How often a plan waiting for a safe window (or near its expiry) is looked at again.
const WAIT_POLL: Duration = Duration::from_secs(60);

/// What the reconciler needs.
#[derive(Clone)]
pub struct Context {
    /// The API client.
    pub client: Client,
    /// Where MigrationPlans and OptimizationReports are written.
    pub namespace: String,
    /// Events.
    pub recorder: Recorder,
    /// Metrics.
    pub telemetry: Arc<Telemetry>,
    /// The executor's patience.
    pub execute: ExecuteOptions,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// A context writing into `namespace`, reporting Events as `identity` (the pod name).
    pub fn new(client: Client, namespace: &str, identity: &str, telemetry: Arc<Telemetry>) -> Self {
        let reporter = Reporter {
            controller: "kube-compactor".to_owned(),
            instance: Some(identity.to_owned()),
        };
        Self {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            namespace: namespace.to_owned(),
            telemetry,
            execute: ExecuteOptions::default(),
        }
    }

    /// With these executor options.
    pub fn with_execute(mut self, options: ExecuteOptions) -> Self {
        self.execute = options;
        self
    }

    async fn event(&self, reference: &ObjectReference, warning: bool, reason: &str, note: String) {
        let event = KubeEvent {
            type_: if warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: reason.to_owned(),
            note: Some(truncate(&note, 1000)),
            action: reason.to_owned(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&event, reference).await {
            tracing::warn!(reason, error = %e, "cannot write the event");
        }
    }
}

/// Runs the controller until `shutdown` completes: a reconcile per OptimizationConfig on
/// every change, on every change of its MigrationPlans (an approval), and when its schedule,
/// a plan's expiry or a safe window is due.
pub async fn run(ctx: Arc<Context>, shutdown: impl Future<Output = ()> + Send + Sync + 'static) {
    let configs: Api<OptimizationConfig> = Api::all(ctx.client.clone());
    let plans: Api<MigrationPlan> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
    Controller::new(configs, watcher::Config::default())
        .watches(plans, watcher::Config::default(), |plan| {
            Some(ObjectRef::<OptimizationConfig>::new(&plan.spec.config))
        })
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            match result {
                Ok((object, action)) => {
                    tracing::debug!(config = %object.name, ?action, "reconciled");
                }
                Err(e) => tracing::warn!(error = %e, "reconcile failed"),
            }
        })
        .await;
}

/// After a failed reconcile: log it and try again in 30 s (a failed execution part stays
/// `Executing` and is resumed then).
pub fn error_policy(config: Arc<OptimizationConfig>, error: &KubeError, _: Arc<Context>) -> Action {
    tracing::warn!(config = %config.name_any(), error = %error, "reconcile failed; retrying in 30 s");
    Action::requeue(Duration::from_secs(30))
}

/// Reconciles one config: moves its plans on (approval, window, execution, expiry), then
/// analyses when the schedule (or a changed spec) says so. Every step can be repeated.
///
/// # Errors
/// [`KubeError::Api`] for a read or write the API server refuses; [`KubeError::Core`] when the
/// cluster cannot be analysed.
pub async fn reconcile(
    config: Arc<OptimizationConfig>,
    ctx: Arc<Context>,
) -> Result<Action, KubeError> {
    let name = config.name_any();
    let now = Timestamp::now();
    let config_ref = config.object_ref(&());
    let schedule = match Schedule::parse(&config.spec.schedule) {
        Ok(s) => s,
        Err(e) => {
            ctx.event(&config_ref, true, "InvalidSchedule", e.to_string())
                .await;
            patch_config_status(&ctx, &name, json!({"phase": "Failed",
                "conditions": [condition("Analyzed", false, "InvalidSchedule", &e.to_string(), now)]}))
            .await?;
            return Ok(Action::requeue(Duration::from_secs(300)));
        }
    };
    let mut wake: Option<Duration> = None;
    // The phases of the plans still open after their step.
    let mut open: Vec<PlanPhase> = Vec::new();
    for plan in plans_of(&ctx, &name).await? {
        if let Some((after, phase)) = step(&ctx, &config, &plan, now).await? {
            wake = Some(wake.map_or(after, |w| w.min(after)));
            open.push(phase);
        }
    }
    let status = config.status.clone().unwrap_or_default();
    let last = status
        .last_analysis
        .as_deref()
        .and_then(|t| t.parse::<Timestamp>().ok());
    let due = match last {
        None => true,
        Some(last) => {
            status.observed_generation != config.metadata.generation
                || schedule.next_after(last).is_some_and(|next| next <= now)
        }
    };
    if due && analyse(&ctx, &config, now, !open.is_empty()).await? {
        open.push(PlanPhase::Pending);
    }
    let phase = config_phase(&open);
    let next = schedule.next_after(Timestamp::now());
    let mut status = json!({ "phase": phase });
    if let Some(next) = next {
        status["nextAnalysis"] = json!(next.to_string());
        let until = Duration::try_from(next.duration_since(Timestamp::now()))
            .unwrap_or(Duration::from_secs(1));
        wake = Some(wake.map_or(until, |w| w.min(until)));
    }
    patch_config_status(&ctx, &name, status).await?;
    Ok(wake.map_or_else(Action::await_change, |d| {
        Action::requeue(d.max(Duration::from_secs(1)))
    }))
}

/// `text` cut to at most `bytes` bytes at a character boundary.
fn truncate(text: &str, bytes: usize) -> String {
    let mut end = text.len().min(bytes);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// The config's phase from the phases of its open plans: `PlanApproved` when one is approved
/// (waiting for a safe window or between parts), `WaitingForApproval` when one waits for a
/// person, else `Idle`.
fn config_phase(open: &[PlanPhase]) -> &'static str {
    if open.contains(&PlanPhase::Approved) {
        "PlanApproved"
    } else if open.contains(&PlanPhase::Pending) {
        "WaitingForApproval"
    } else {
        "Idle"
    }
}

fn terminal(phase: PlanPhase) -> bool {
    matches!(
        phase,
        PlanPhase::Completed | PlanPhase::Failed | PlanPhase::Cancelled | PlanPhase::Expired
    )
}

/// The config's plans, oldest first.
async fn plans_of(ctx: &Context, config: &str) -> Result<Vec<MigrationPlan>, KubeError> {
    let api: Api<MigrationPlan> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
    let mut plans = api
        .list(&ListParams::default().labels(&format!("{CONFIG_LABEL}={config}")))
        .await
        .map_err(|e| KubeError::api("list migrationplans", &e))?
        .items;
    plans.sort_by_key(|p| {
        (
            p.metadata.creation_timestamp.clone().map(|t| t.0),
            p.name_any(),
        )
    });
    Ok(plans)
}

fn condition(kind: &str, ok: bool, reason: &str, message: &str, now: Timestamp) -> Condition {
    Condition {
        type_: kind.to_owned(),
        status: if ok { "True" } else { "False" }.to_owned(),
        reason: reason.to_owned(),
        message: truncate(message, 1000),
        last_transition_time: now.to_string(),
        observed_generation: 0,
    }
}

/// Merge-patches `status` into the status subresource of `name` through `api`.
async fn patch_status<K>(
    api: Api<K>,
    name: &str,
    status: serde_json::Value,
) -> Result<(), KubeError>
where
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let kind = K::kind(&()).to_lowercase();
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await
    .map_err(|e| KubeError::api(format!("update {kind} {name} status"), &e))?;
    Ok(())
}

async fn patch_config_status(
    ctx: &Context,
    name: &str,
    status: serde_json::Value,
) -> Result<(), KubeError> {
    let api: Api<OptimizationConfig> = Api::all(ctx.client.clone());
    patch_status(api, name, status).await
}

async fn patch_plan_status(
    ctx: &Context,
    name: &str,
    status: &MigrationPlanStatus,
) -> Result<(), KubeError> {
    let api: Api<MigrationPlan> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
    patch_status(api, name, json!(status)).await
}

/// Reads the cluster, writes a report (and a plan when the mode acts and no plan is open),
/// keeps the last `reportHistory` reports, and records the figures in the config's status.
/// `true` when it created a plan (Pending).
async fn analyse(
    ctx: &Context,
    config: &OptimizationConfig,
    now: Timestamp,
    plan_open: bool,
) -> Result<bool, KubeError> {
    let name = config.name_any();
    let config_ref = config.object_ref(&());
    let started = std::time::Instant::now();
    let mut snapshot = live::snapshot(&ctx.client).await?;
    if let Ok(dump) = &snapshot.metrics {
        apply_metrics(&mut snapshot.spec, std::slice::from_ref(dump));
    }
    let options = analysis_options(&config.spec, &snapshot.spec);
    let workloads = workload_count(&config.spec, &snapshot.spec);
    let core_error = |e: compactor_core::CoreError| KubeError::Core {
        context: format!("analyse config {name}"),
        message: e.to_string(),
    };
    let snap = Snapshot::new(snapshot.spec).map_err(core_error)?;
    let planning = std::time::Instant::now();
    let analysis = analyze(&snap, &options).map_err(core_error)?;
    ctx.telemetry
        .binpacking_duration
        .observe(planning.elapsed().as_secs_f64());
    ctx.telemetry
        .analysis_duration
        .observe(started.elapsed().as_secs_f64());
    let plan = &analysis.plan;
    let owner = config.controller_owner_ref(&());
    let labels = [(CONFIG_LABEL.to_owned(), name.clone())].into();
    // The report.
    let mut report_object = OptimizationReport::new(
        "",
        report(&name, &analysis, now, config.spec.right_sizing_enabled),
    );
    report_object.metadata.name = None;
    report_object.metadata.generate_name = Some(format!("{name}-"));
    report_object.metadata.labels = Some(labels);
    report_object.metadata.owner_references = owner.clone().map(|o| vec![o]);
    let reports: Api<OptimizationReport> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
    let written = reports
        .create(&PostParams::default(), &report_object)
        .await
        .map_err(|e| KubeError::api("create optimizationreport", &e))?;
    let report_name = written.name_any();
    collect_reports(ctx, &name, config.spec.report_history).await?;
    ctx.telemetry.analysed(
        &name,
        plan.summary.nodes,
        workloads,
        plan.savings.monthly,
        plan.summary.nodes_after,
        plan.lower_bound.nodes,
    );
    ctx.event(
        &config_ref,
        false,
        "AnalysisCompleted",
        format!("report {report_name}: {}", written.spec.summary),
    )
    .await;
    // The plan.
    let acts = config.spec.mode != Mode::Observe && config.spec.consolidation_enabled;
    let mut plan_name = None;
    if acts && !plan.drain.is_empty() && !plan_open {
        match migration_plan(&name, plan, now, config.spec.plan_ttl_minutes) {
            Ok(spec) => {
                let mut object = MigrationPlan::new("", spec);
                object.metadata.name = None;
                object.metadata.generate_name = Some(format!("{name}-"));
                object.metadata.labels = Some([(CONFIG_LABEL.to_owned(), name.clone())].into());
                object.metadata.owner_references = owner.map(|o| vec![o]);
                let plans: Api<MigrationPlan> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
                let created = plans
                    .create(&PostParams::default(), &object)
                    .await
                    .map_err(|e| KubeError::api("create migrationplan", &e))?;
                let total = u32::try_from(plan.moves.len()).unwrap_or(u32::MAX);
                let status = MigrationPlanStatus {
                    total_migrations: total,
                    message: "waiting for approval or a safe window".to_owned(),
                    ..MigrationPlanStatus::default()
                };
                patch_plan_status(ctx, &created.name_any(), &status).await?;
                ctx.event(
                    &created.object_ref(&()),
                    false,
                    "MigrationPlanCreated",
                    format!(
                        "{} moves draining {} node(s), saving {}",
                        total,
                        plan.drain.len(),
                        plan.savings.formatted
                    ),
                )
                .await;
                ctx.event(
                    &config_ref,
                    false,
                    "MigrationPlanCreated",
                    format!("plan {}", created.name_any()),
                )
                .await;
                plan_name = Some(created.name_any());
            }
            Err(e) => {
                ctx.event(&config_ref, true, "PlanTooLarge", e.to_string())
                    .await;
            }
        }
    }
    let mut status = json!({
        "lastAnalysis": now.to_string(),
        "observedGeneration": config.metadata.generation,
        "nodeCount": plan.summary.nodes,
        "workloadCount": workloads,
        "potentialMonthlySavings": plan.savings.monthly,
        "potentialSavings": plan.savings.formatted,
        "lastReport": report_name,
        "conditions": [condition("Analyzed", true, "AnalysisCompleted", &written.spec.summary, now)],
    });
    if let Some(p) = &plan_name {
        status["lastPlan"] = json!(p);
    }
    patch_config_status(ctx, &name, status).await?;
    Ok(plan_name.is_some())
}

/// Deletes the config's reports beyond the newest `keep`.
async fn collect_reports(ctx: &Context, config: &str, keep: u32) -> Result<(), KubeError> {
    let api: Api<OptimizationReport> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
    let mut reports = api
        .list(&ListParams::default().labels(&format!("{CONFIG_LABEL}={config}")))
        .await
        .map_err(|e| KubeError::api("list optimizationreports", &e))?
        .items;
    // Newest first: by generation time, then name.
    reports.sort_by(|a, b| {
        (&b.spec.generated_at, b.name_any()).cmp(&(&a.spec.generated_at, a.name_any()))
    });
    for old in reports
        .iter()
        .skip(usize::try_from(keep.max(1)).unwrap_or(usize::MAX))
    {
        let name = old.name_any();
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => {
                return Err(KubeError::api(
                    format!("delete optimizationreport {name}"),
                    &e,
                ));
            }
        }
    }
    Ok(())
}

/// Moves one plan on (approval, window, execution, expiry). `Some((d, phase))` while the
/// plan is open: look at it again within `d`; `phase` is the one this step left.
async fn step(
    ctx: &Context,
    config: &OptimizationConfig,
    object: &MigrationPlan,
    now: Timestamp,
) -> Result<Option<(Duration, PlanPhase)>, KubeError> {
    let name = object.name_any();
    let plan_ref = object.object_ref(&());
    let mut status = object.status.clone().unwrap_or_default();
    if terminal(status.phase) {
        return Ok(None);
    }
    let core: Option<Plan> = object
        .spec
        .plan
        .as_ref()
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let Some(core) = core else {
        status.phase = PlanPhase::Failed;
        status.message = "spec.plan is missing or is not a kube-compactor plan".to_owned();
        patch_plan_status(ctx, &name, &status).await?;
        ctx.event(&plan_ref, true, "MigrationFailed", status.message.clone())
            .await;
        return Ok(None);
    };
    status.total_migrations = u32::try_from(core.moves.len()).unwrap_or(u32::MAX);
    if !status.executing_nodes.is_empty() {
        // A part was started and not finished: a restarted (or new leader) controller resumes
        // exactly that part; the executor's eviction records prevent a second eviction.
        let part = status.executing_nodes.clone();
        return open_between_parts(
            execute_part(ctx, config, object, &core, status, part, true).await,
        );
    }
    if object.spec.cancelled {
        status.phase = PlanPhase::Cancelled;
        status.message = "cancelled by spec.cancelled".to_owned();
        patch_plan_status(ctx, &name, &status).await?;
        ctx.event(
            &plan_ref,
            false,
            "MigrationCancelled",
            status.message.clone(),
        )
        .await;
        return Ok(None);
    }
    let expires = object
        .spec
        .expires_at
        .as_deref()
        .and_then(|t| t.parse::<Timestamp>().ok());
    if expires.is_some_and(|t| t <= now) {
        status.phase = PlanPhase::Expired;
        status.message = format!(
            "expired at {}: a plan this old is never carried out; the next analysis makes a new one",
            object.spec.expires_at.as_deref().unwrap_or("")
        );
        patch_plan_status(ctx, &name, &status).await?;
        ctx.event(
            &plan_ref,
            false,
            "MigrationPlanExpired",
            status.message.clone(),
        )
        .await;
        return Ok(None);
    }
    let (window_open, window_error) = match any_open(&config.spec.safe_windows, now) {
        Ok(open) => (open, None),
        Err(e) => (false, Some(e.to_string())),
    };
    let gate = executable(
        &core,
        &object.spec,
        &status.completed_nodes,
        config.spec.mode,
        config.spec.confirm_full_auto,
        config.spec.safety_threshold.into(),
        window_open,
    );
    if !gate.nodes.is_empty() {
        return open_between_parts(
            execute_part(ctx, config, object, &core, status, gate.nodes, false).await,
        );
    }
    let waiting = match &gate.waiting {
        Some((key, Verdict::WaitForApproval)) => match key.strip_prefix(NODE_APPROVAL) {
            Some(node) => format!(
                "waiting for approval of node {node}, which has nothing to move: approve the \
                 plan, or add {key} to approvedMigrations"
            ),
            None => format!("waiting for approval of {key}"),
        },
        Some((pod, Verdict::WaitForWindow)) => {
            format!("{pod} may be carried out automatically; waiting for a safe window")
        }
        Some((_, Verdict::Never)) => match config.spec.mode {
            Mode::FullAuto => {
                "full-auto mode without confirmFullAuto: true never carries plans out".to_owned()
            }
            _ => "observe mode never carries plans out".to_owned(),
        },
        _ => "nothing left to carry out".to_owned(),
    };
    let message = match window_error {
        Some(e) => format!("{waiting} ({e})"),
        None => waiting,
    };
    // Approved: by a person, or (waiting for a window) by the mode; never in a mode that
    // carries nothing out.
    let phase = match &gate.waiting {
        Some((_, Verdict::Never)) => PlanPhase::Pending,
        Some((_, Verdict::WaitForWindow)) => PlanPhase::Approved,
        _ if object.spec.approved || !object.spec.approved_migrations.is_empty() => {
            PlanPhase::Approved
        }
        _ => PlanPhase::Pending,
    };
    if status.phase != phase || status.message != message {
        status.phase = phase;
        status.message = message;
        patch_plan_status(ctx, &name, &status).await?;
    }
    let until_expiry = expires
        .and_then(|t| Duration::try_from(t.duration_since(now)).ok())
        .unwrap_or(WAIT_POLL);
    Ok(Some((until_expiry.min(WAIT_POLL), phase)))
}

/// [`execute_part`]'s result as [`step`]'s: a plan left open after a part has more parts to
/// go, and is Approved.
fn open_between_parts(
    wake: Result<Option<Duration>, KubeError>,
) -> Result<Option<(Duration, PlanPhase)>, KubeError> {
    wake.map(|w| w.map(|d| (d, PlanPhase::Approved)))
}

/// Carries out the part of `core` draining `nodes`, recording progress in the plan's status
/// as it goes.
async fn execute_part(
    ctx: &Context,
    config: &OptimizationConfig,
    object: &MigrationPlan,
    core: &Plan,
    mut status: MigrationPlanStatus,
    nodes: Vec<String>,
    resuming: bool,
) -> Result<Option<Duration>, KubeError> {
    let name = object.name_any();
    let plan_ref = object.object_ref(&());
    let part = core.part(&nodes);
    status.phase = PlanPhase::Executing;
    status.executing_nodes = nodes.clone();
    status.message = format!(
        "{} {} move(s) draining {}",
        if resuming { "resuming" } else { "carrying out" },
        part.moves.len(),
        nodes.join(", ")
    );
    patch_plan_status(ctx, &name, &status).await?;
    if !resuming {
        ctx.event(&plan_ref, false, "MigrationStarted", status.message.clone())
            .await;
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let client = ctx.client.clone();
    let options = ctx.execute.clone();
    let run = async move {
        let mut forward = |e: &Event| {
            let _ = tx.send(e.clone());
        };
        execute(&client, &part, &options, &mut forward).await
    };
    let progress = async {
        let mut status = status.clone();
        while let Some(event) = rx.recv().await {
            tracing::info!(plan = %name, "{event}");
            let (pod, outcome, result) = match &event {
                Event::Evicted { pod, from, .. } => {
                    (pod, "Evicted", format!("evicted from {from}"))
                }
                // The earlier run stopped before recording it here.
                Event::Resumed { pod, from } => (
                    pod,
                    "Evicted",
                    format!("evicted from {from} by an earlier run"),
                ),
                Event::Gone { pod } => (pod, "Skipped", "already gone".to_owned()),
                _ => continue,
            };
            if status.results.iter().any(|r| &r.pod == pod) {
                continue;
            }
            status.results.push(MigrationResult {
                pod: pod.clone(),
                status: outcome.to_owned(),
                message: result,
                landed_on: None,
                timestamp: Timestamp::now().to_string(),
            });
            status.executed_migrations = u32::try_from(status.results.len()).unwrap_or(u32::MAX);
            if let Err(e) = patch_plan_status(ctx, &name, &status).await {
                tracing::warn!(plan = %name, error = %e, "cannot record progress");
            }
        }
        status
    };
    let (result, mut status) = tokio::join!(run, progress);
    let report = result?;
    let config_name = config.name_any();
    for landing in &report.landings {
        if let Some(r) = status.results.iter_mut().find(|r| r.pod == landing.pod) {
            r.landed_on = landing.node.clone();
            if landing.node.is_some() {
                r.status = "Landed".to_owned();
            }
        }
    }
    let f = &report.fidelity;
    ctx.telemetry
        .migrations("succeeded", u64::from(report.evictions));
    ctx.telemetry
        .placement(&config_name, f.on_predicted + f.on_tied, f.evictions);
    status.executing_nodes.clear();
    let wake = match &report.outcome {
        Outcome::Completed => {
            status.completed_nodes.extend(nodes.iter().cloned());
            let remaining = core
                .drain
                .iter()
                .filter(|d| !status.completed_nodes.contains(&d.node))
                .count();
            if remaining == 0 {
                status.phase = PlanPhase::Completed;
                let (on_predicted, landed) = landed_as_predicted(core, &status.results);
                status.message = format!(
                    "completed: {} eviction(s); {on_predicted} of the {landed} replacement(s) seen \
                     landed on the predicted node",
                    status.results.len(),
                );
                patch_plan_status(ctx, &name, &status).await?;
                ctx.event(
                    &plan_ref,
                    false,
                    "MigrationCompleted",
                    status.message.clone(),
                )
                .await;
                None
            } else {
                status.phase = PlanPhase::Approved;
                status.message = format!(
                    "drained {}; {remaining} node(s) of the plan remain",
                    nodes.join(", ")
                );
                patch_plan_status(ctx, &name, &status).await?;
                Some(Duration::from_secs(1))
            }
        }
        Outcome::Refused { reasons } => {
            status.phase = PlanPhase::Failed;
            status.message = format!("refused, the plan no longer holds: {}", reasons.join("; "));
            fail(ctx, &name, &plan_ref, &status).await?;
            None
        }
        Outcome::Stopped { reason } => {
            status.phase = PlanPhase::Failed;
            status.message = format!(
                "stopped and rolled back (uncordoned {}): {reason}",
                if report.uncordoned.is_empty() {
                    "nothing".to_owned()
                } else {
                    report.uncordoned.join(", ")
                }
            );
            fail(ctx, &name, &plan_ref, &status).await?;
            None
        }
    };
    Ok(wake)
}

/// Of the `results` whose replacement was seen on a node (every part of the plan): how many
/// landed on the node the plan predicted, and how many were seen.
fn landed_as_predicted(core: &Plan, results: &[MigrationResult]) -> (usize, usize) {
    let predicted: std::collections::BTreeMap<String, &str> = core
        .moves
        .iter()
        .map(|m| (format!("{}/{}", m.namespace, m.pod), m.to_node.as_str()))
        .collect();
    let landed: Vec<(&MigrationResult, &str)> = results
        .iter()
        .filter_map(|r| r.landed_on.as_deref().map(|n| (r, n)))
        .collect();
    let on_predicted = landed
        .iter()
        .filter(|(r, n)| predicted.get(&r.pod) == Some(n))
        .count();
    (on_predicted, landed.len())
}

async fn fail(
    ctx: &Context,
    name: &str,
    plan_ref: &ObjectReference,
    status: &MigrationPlanStatus,
) -> Result<(), KubeError> {
    ctx.telemetry.migrations("failed", 1);
    patch_plan_status(ctx, name, status).await?;
    ctx.event(plan_ref, true, "MigrationFailed", status.message.clone())
        .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use compactor_core::plan::{PlanOptions, plan};

    #[test]
    fn landings_are_compared_with_the_prediction_over_every_part() {
        let node =
            |n: &str| serde_json::json!({"name": n, "allocatable": {"cpu": "4", "memory": "16Gi"}});
        let pod = |name: &str, node: &str, cpu: &str| {
            serde_json::json!({"namespace": "shop", "name": name, "nodeName": node,
                "owner": {"kind": "Deployment", "name": name}, "replicas": 3,
                "readinessProbe": true,
                "containers": [{"name": "c", "requests": {"cpu": cpu, "memory": "1Gi"}}]})
        };
        let text = serde_json::json!({
            "nodes": [node("n1"), node("n2"), node("n3"), node("n4")],
            "pods": [pod("a", "n1", "200m"), pod("b", "n2", "200m"), pod("big", "n3", "1"),
                     pod("big2", "n4", "1")]
        })
        .to_string();
        let spec = crate::read_snapshot(&text).unwrap();
        let p = plan(&Snapshot::new(spec).unwrap(), &PlanOptions::default()).unwrap();
        assert!(p.moves.len() >= 2, "{:#?}", p.kept);
        let result = |m: &compactor_core::plan::Move, landed: Option<&str>| MigrationResult {
            pod: format!("{}/{}", m.namespace, m.pod),
            status: "Landed".to_owned(),
            message: String::new(),
            landed_on: landed.map(str::to_owned),
            timestamp: String::new(),
        };
        let (first, second) = (&p.moves[0], &p.moves[1]);
        let elsewhere = if second.to_node == "n1" { "n2" } else { "n1" };
        // One on its predicted node, one elsewhere: 1 of 2.
        let results = [
            result(first, Some(&first.to_node)),
            result(second, Some(elsewhere)),
        ];
        assert_eq!(landed_as_predicted(&p, &results), (1, 2));
        // A replacement not seen counts in neither.
        let results = [result(first, Some(&first.to_node)), result(second, None)];
        assert_eq!(landed_as_predicted(&p, &results), (1, 1));
    }
}
