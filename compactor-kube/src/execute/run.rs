//! Performing a plan: re-validation, cordons, evictions, waits, rollback, fidelity.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use compactor_core::Snapshot;
use compactor_core::model::SnapshotSpec;
use compactor_core::plan::{Move, Plan, PlanOptions, SchedulerConfig};
use compactor_core::resources::Dimensions;
use compactor_core::verify::verify;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Client;
use kube::api::{Api, ListParams};
use serde::Serialize;
use tokio::time::Instant;

use super::steps::{
    ApiCall, CORDONED_BY, CordonReason, EVICTIONS, Step, cordon, evict, get_node, marker, plan_id,
    record_evictions, recorded_evictions, steps, uncordon,
};
use crate::error::KubeError;
use crate::live;
use crate::mapping::controller_owner;

/// How patient the executor is. The defaults suit a real cluster; tests shorten them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExecuteOptions {
    /// How long one eviction may be refused with 429 (a budget that says "wait") or a
    /// transient server error before the executor gives up and rolls back. Default 10 min.
    pub eviction_deadline: Duration,
    /// How long a wave may take until every replacement is scheduled and Ready. Default 10 min.
    pub wave_deadline: Duration,
    /// How long a replacement may stay unschedulable (PodScheduled False, Unschedulable)
    /// after the pod it replaces is gone, before the executor stops. Default 60 s.
    pub pending_grace: Duration,
    /// Between two polls of the cluster while waiting. Default 1 s.
    pub poll_interval: Duration,
    /// First back-off after a 429; doubled each time up to 30 s, with ±50 % jitter. Default 1 s.
    pub backoff: Duration,
    /// Re-predict each replacement from a fresh snapshot right before its eviction, and steer
    /// it (cordon the node it would overload) or stop when it would land over the cap.
    /// Default true.
    pub repredict: bool,
    /// The cluster's kube-scheduler configuration for the re-validation and the
    /// re-predictions; `None`: the one the plan was made with (`plan.scheduler`).
    pub scheduler: Option<SchedulerConfig>,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        Self {
            eviction_deadline: Duration::from_secs(600),
            wave_deadline: Duration::from_secs(600),
            pending_grace: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            backoff: Duration::from_secs(1),
            repredict: true,
            scheduler: None,
        }
    }
}

impl ExecuteOptions {
    /// With these deadlines (eviction, wave) and grace for unschedulable replacements.
    pub fn with_deadlines(mut self, eviction: Duration, wave: Duration, pending: Duration) -> Self {
        self.eviction_deadline = eviction;
        self.wave_deadline = wave;
        self.pending_grace = pending;
        self
    }

    /// With or without the re-prediction before each eviction, and the scheduler
    /// configuration it and the re-validation assume (`None`: the plan's own).
    pub fn with_reprediction(
        mut self,
        repredict: bool,
        scheduler: Option<SchedulerConfig>,
    ) -> Self {
        self.repredict = repredict;
        self.scheduler = scheduler;
        self
    }

    /// With this poll interval and first back-off.
    pub fn with_timing(mut self, poll: Duration, backoff: Duration) -> Self {
        self.poll_interval = poll;
        self.backoff = backoff;
        self
    }
}

/// One thing the executor did or saw, as it happens: what [`execute`] reports through its
/// `on_event` callback. Its [`Display`](std::fmt::Display) text is the progress line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A pod was evicted.
    Evicted {
        /// The pod, `namespace/name`.
        pod: String,
        /// The node it was evicted from.
        from: String,
        /// Where the plan predicts its replacement.
        predicted: String,
    },
    /// A pod of the plan was gone before its eviction (deleted, or evicted by an earlier run).
    Gone {
        /// The pod, `namespace/name`.
        pod: String,
    },
    /// A pod an earlier run of the same plan evicted (its record is on the node): not
    /// evicted again.
    Resumed {
        /// The pod, `namespace/name`.
        pod: String,
        /// The node it was evicted from.
        from: String,
    },
    /// Anything else: cordons, waves completed, steering, resuming, stopping.
    Note(String),
}

impl Event {
    fn note(text: String) -> Self {
        Self::Note(text)
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Evicted {
                pod,
                from,
                predicted,
            } => write!(f, "evicted {pod} from {from} (predicted: {predicted})"),
            Self::Gone { pod } => write!(f, "{pod} is already gone"),
            Self::Resumed { pod, from } => {
                write!(f, "{pod} was evicted from {from} by an earlier run")
            }
            Self::Note(text) => f.write_str(text),
        }
    }
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Outcome {
    /// Every step done: drained nodes cordoned and empty, every replacement Ready, the kept
    /// nodes the plan cordoned uncordoned.
    Completed,
    /// Not started: the plan no longer holds on the cluster.
    Refused {
        /// Every reason found.
        reasons: Vec<String>,
    },
    /// Stopped part way; every node this plan cordoned was uncordoned. Pods already evicted
    /// stay where kube-scheduler put their replacements.
    Stopped {
        /// Why.
        reason: String,
    },
}

/// Where one replacement landed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Landing {
    /// The evicted pod, `namespace/name`.
    pub pod: String,
    /// The node the plan predicted.
    pub predicted: String,
    /// Nodes tied with the prediction.
    pub tied_with: Vec<String>,
    /// The replacement (`namespace/name`), once created.
    pub replacement: Option<String>,
    /// Where it was bound; `None` while Pending.
    pub node: Option<String>,
    /// kube-scheduler's choice re-predicted from the cluster right before the eviction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repredicted: Option<String>,
    /// Nodes tied with the re-prediction.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repredicted_tied_with: Vec<String>,
    /// Nodes cordoned right before this eviction because the re-prediction would have put
    /// the replacement there over the cap.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steered: Vec<String>,
}

/// Plan fidelity: where replacements actually landed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Fidelity {
    /// Evictions whose replacement was observed.
    pub evictions: u32,
    /// Replacements bound to the predicted node.
    pub on_predicted: u32,
    /// Bound to a node tied with the prediction.
    pub on_tied: u32,
    /// Bound to another node the plan keeps.
    pub elsewhere: u32,
    /// Bound to a node the plan drains (never expected: they are cordoned).
    pub on_drained: u32,
    /// Not bound when the executor finished or stopped.
    pub pending: u32,
    /// Bound to the node re-predicted right before the eviction.
    pub on_repredicted: u32,
    /// Bound to a node tied with that re-prediction.
    pub on_repredicted_tie: u32,
    /// Nodes that received a replacement.
    pub receiving_nodes: u32,
    /// Receiving nodes over the cap (CPU, memory or ephemeral storage) once the plan is done,
    /// with the dimension and share: `n1 cpu 74 %`.
    pub receivers_over_cap: Vec<String>,
}

/// What an execution did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Report {
    /// The plan's id ([`plan_id`]).
    pub plan_id: String,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Evictions made by this run.
    pub evictions: u32,
    /// Evictions an earlier run of the same plan had made (resumed).
    pub resumed: u32,
    /// Waves whose replacements were all Ready.
    pub waves_completed: u32,
    /// Nodes cordoned by this run.
    pub cordoned: Vec<String>,
    /// Nodes uncordoned (kept nodes at the end, or everything on a stop).
    pub uncordoned: Vec<String>,
    /// Where the replacements of this run's evictions landed.
    pub fidelity: Fidelity,
    /// One entry per eviction of this run.
    pub landings: Vec<Landing>,
}

impl Report {
    /// How the execution ended, as printed lines (names escaped): `plan ID completed: …`,
    /// `plan ID refused: …` with one `  - reason` line each, or `plan ID stopped after …`.
    ///
    /// # Examples
    /// See the tests: one of each outcome.
    pub fn summary(&self) -> Vec<String> {
        use compactor_core::text::printable;
        match &self.outcome {
            Outcome::Refused { reasons } => {
                let mut lines = vec![format!(
                    "plan {} refused: it no longer holds on the cluster; nothing was done",
                    self.plan_id
                )];
                lines.extend(reasons.iter().map(|r| format!("  - {}", printable(r))));
                lines
            }
            Outcome::Stopped { reason } => vec![format!(
                "plan {} stopped after {} evictions: {}; uncordoned {}",
                self.plan_id,
                self.evictions,
                printable(reason),
                if self.uncordoned.is_empty() {
                    "nothing".to_owned()
                } else {
                    printable(&self.uncordoned.join(", ")).into_owned()
                }
            )],
            Outcome::Completed => vec![format!(
                "plan {} completed: {} evictions ({} by an earlier run), {} waves",
                self.plan_id, self.evictions, self.resumed, self.waves_completed
            )],
        }
    }
}

/// What an eviction answer means ([`eviction_verdict`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EvictionVerdict {
    /// Accepted: the pod is being deleted gracefully.
    Evicted,
    /// 404: the pod is already gone; counts as done.
    Gone,
    /// 429 (a budget says wait) or a transient server error: back off and retry.
    Retry(String),
    /// 409: a conflict; re-read the pod and retry.
    Reread(String),
    /// Refused for good (several budgets, forbidden, invalid): stop.
    Blocked(String),
}

/// Classifies the API server's answer to an eviction: `code` is the HTTP status, `message`
/// its Status message.
///
/// # Examples
/// ```
/// use compactor_kube::execute::{EvictionVerdict, eviction_verdict};
/// assert_eq!(eviction_verdict(201, ""), EvictionVerdict::Evicted);
/// assert!(matches!(eviction_verdict(429, "Cannot evict pod as it would violate the pod's disruption budget."), EvictionVerdict::Retry(_)));
/// assert!(matches!(eviction_verdict(500, "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."), EvictionVerdict::Blocked(_)));
/// ```
pub fn eviction_verdict(code: u16, message: &str) -> EvictionVerdict {
    match code {
        200..=299 => EvictionVerdict::Evicted,
        404 => EvictionVerdict::Gone,
        429 => EvictionVerdict::Retry(format!("429: {message}")),
        409 => EvictionVerdict::Reread(format!("409: {message}")),
        500 if message.contains("more than one PodDisruptionBudget") => EvictionVerdict::Blocked(
            format!("the pod is under several PodDisruptionBudgets: {message}"),
        ),
        502..=504 => EvictionVerdict::Retry(format!("{code}: {message}")),
        _ => EvictionVerdict::Blocked(format!("{code}: {message}")),
    }
}

/// Checks that `plan` still holds on the cluster as `fresh` shows it, `done` being the pods
/// (`namespace/name`) an earlier run of the plan already evicted: every node the plan names
/// still exists, every remaining move's pod is still bound to its node and not terminating,
/// and the remaining moves pass the independent checker
/// ([`compactor_core::verify::verify`]) on the fresh snapshot — budgets, fit under the cap,
/// every scheduling constraint. Nodes carrying this plan's [`CORDONED_BY`] marker are
/// judged as if uncordoned (the plan was made before it cordoned them).
///
/// Returns every reason the plan no longer holds; empty when it does.
///
/// # Complexity
/// That of the checker on the remaining moves.
pub fn revalidate(fresh: &SnapshotSpec, plan: &Plan, done: &BTreeSet<String>) -> Vec<String> {
    let id = plan_id(plan);
    let ours = marker(&id);
    let mut spec = fresh.clone();
    for node in &mut spec.nodes {
        if node.annotations.get(CORDONED_BY) == Some(&ours) {
            node.unschedulable = false;
        }
    }
    let nodes: BTreeSet<&str> = spec.nodes.iter().map(|n| n.name.as_str()).collect();
    let pods: BTreeMap<(&str, &str), &compactor_core::model::PodSpec> = spec
        .pods
        .iter()
        .map(|p| ((p.namespace.as_str(), p.name.as_str()), p))
        .collect();
    let mut reasons = Vec::new();
    let mut named: BTreeSet<&str> = plan.drain.iter().map(|d| d.node.as_str()).collect();
    named.extend(plan.cordon_only.iter().map(String::as_str));
    for m in &plan.moves {
        named.insert(&m.to_node);
        named.extend(m.cordon_first.iter().map(String::as_str));
    }
    for n in &named {
        if !nodes.contains(n) {
            reasons.push(format!("node {n} is gone"));
        }
    }
    let mut remaining = plan.clone();
    remaining.moves.retain(|m| {
        let key = format!("{}/{}", m.namespace, m.pod);
        let gone = pods
            .get(&(m.namespace.as_str(), m.pod.as_str()))
            .is_none_or(|p| p.terminating || p.node_name.as_deref() != Some(&m.from_node));
        !(done.contains(&key) && gone)
    });
    for m in &remaining.moves {
        match pods.get(&(m.namespace.as_str(), m.pod.as_str())) {
            None => reasons.push(format!("pod {}/{} is gone", m.namespace, m.pod)),
            Some(p) if p.node_name.as_deref() != Some(&m.from_node) => reasons.push(format!(
                "pod {}/{} is no longer on node {} (now {})",
                m.namespace,
                m.pod,
                m.from_node,
                p.node_name.as_deref().unwrap_or("unbound")
            )),
            Some(p) if p.terminating => {
                reasons.push(format!("pod {}/{} is terminating", m.namespace, m.pod))
            }
            Some(_) => {}
        }
    }
    if !reasons.is_empty() {
        return reasons;
    }
    // The wave list of what remains.
    for wave in &mut remaining.waves {
        let moves: Vec<&Move> = remaining
            .moves
            .iter()
            .filter(|m| m.wave == wave.index)
            .collect();
        wave.evictions = u32::try_from(moves.len()).unwrap_or(u32::MAX);
        wave.nodes
            .retain(|n| moves.iter().any(|m| &m.from_node == n));
    }
    remaining.waves.retain(|w| w.evictions > 0);
    let snapshot = match Snapshot::new(spec) {
        Ok(s) => s,
        Err(e) => return vec![format!("the cluster does not map: {e}")],
    };
    let options = PlanOptions::default()
        .with_strategy(plan.strategy)
        .with_safety(plan.thresholds.level)
        .with_scheduler(plan.scheduler.clone());
    verify(&snapshot, &remaining, &options)
        .into_iter()
        .map(|v| v.to_string())
        .collect()
}

/// One eviction this run made, and what became of it.
#[derive(Debug)]
struct Tracked {
    index: usize,
    wave: u32,
    namespace: String,
    uid: String,
    /// The workload's pods (uids) when the eviction was made.
    before: BTreeSet<String>,
    workload: Option<(String, String)>,
    replacement: Option<Observed>,
    gone: bool,
    /// Since when the replacement has been unschedulable while the evicted pod is gone.
    unschedulable_since: Option<Instant>,
    /// The re-prediction: node, tied nodes, nodes steered off.
    repredicted: Option<(Option<String>, Vec<String>, Vec<String>)>,
}

/// A pod as the waits see it.
#[derive(Debug, Clone)]
struct Observed {
    name: String,
    uid: String,
    workload: Option<(String, String)>,
    node: Option<String>,
    ready: bool,
    terminating: bool,
    unschedulable: Option<String>,
    created: String,
}

fn observe(pod: &Pod) -> Observed {
    let meta = &pod.metadata;
    let status = pod.status.as_ref();
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let ready = conditions
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    let unschedulable = conditions
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        .filter(|c| c.reason.as_deref() == Some("Unschedulable"))
        .map(|c| c.message.clone().unwrap_or_default());
    let workload = controller_owner(
        meta.owner_references.as_deref().unwrap_or_default(),
        meta.labels.as_ref().unwrap_or(&BTreeMap::new()),
    )
    .map(|o| (o.kind, o.name));
    Observed {
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        workload,
        node: pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .filter(|n| !n.is_empty()),
        ready,
        terminating: meta.deletion_timestamp.is_some(),
        unschedulable,
        created: meta
            .creation_timestamp
            .as_ref()
            .map(|t| format!("{:?}", t.0))
            .unwrap_or_default(),
    }
}

/// The executor's state for one run.
struct Run<'a> {
    client: &'a Client,
    plan: &'a Plan,
    id: String,
    options: &'a ExecuteOptions,
    on_event: &'a mut (dyn FnMut(&Event) + Send + Sync),
    report: Report,
    tracked: Vec<Tracked>,
    recorded: BTreeMap<String, Vec<String>>,
    recent: VecDeque<Instant>,
    /// Nodes this plan may have cordoned (uncordoned on a stop when they carry the marker).
    touched: BTreeSet<String>,
    /// Workloads (namespace, kind, name) of moves an earlier run made.
    resumed_workloads: BTreeSet<(String, String, String)>,
    /// Kept nodes cordoned at run time to steer a replacement (uncordoned at the end).
    steered: Vec<String>,
}

/// Executes `plan` on the cluster: [`revalidate`] against a fresh snapshot, then the
/// [`steps`], reporting progress lines through `on_event`.
///
/// # Errors
/// [`KubeError::Api`] when the API server cannot be reached or refuses a read; the
/// cordons made so far are undone first where the server still answers. Refusals of the plan,
/// blocked evictions, deadlines and unschedulable replacements are not errors: they end in
/// [`Outcome::Refused`] or [`Outcome::Stopped`].
///
/// # Complexity
/// One fresh snapshot, then per eviction a node read, a record patch and the eviction, plus
/// one pod list per namespace of the wave per poll.
pub async fn execute(
    client: &Client,
    plan: &Plan,
    options: &ExecuteOptions,
    on_event: &mut (dyn FnMut(&Event) + Send + Sync),
) -> Result<Report, KubeError> {
    let id = plan_id(plan);
    let fresh = live::snapshot_without_metrics(client).await?;
    let drained: BTreeSet<&str> = plan.drain.iter().map(|d| d.node.as_str()).collect();
    let mut recorded: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for node in &fresh.spec.nodes {
        if drained.contains(node.name.as_str())
            && let Some(value) = node.annotations.get(EVICTIONS)
        {
            let pods = recorded_evictions(value, &id);
            if !pods.is_empty() {
                recorded.insert(node.name.clone(), pods);
            }
        }
    }
    let done: BTreeSet<String> = recorded.values().flatten().cloned().collect();
    let mut report = Report {
        plan_id: id.clone(),
        outcome: Outcome::Completed,
        evictions: 0,
        resumed: 0,
        waves_completed: 0,
        cordoned: Vec::new(),
        uncordoned: Vec::new(),
        fidelity: Fidelity::default(),
        landings: Vec::new(),
    };
    let reasons = revalidate(&fresh.spec, plan, &done);
    if !reasons.is_empty() {
        report.outcome = Outcome::Refused { reasons };
        return Ok(report);
    }
    if !done.is_empty() {
        on_event(&Event::note(format!(
            "resuming plan {id}: {} evictions were made by an earlier run",
            done.len()
        )));
    }
    let still_there: BTreeSet<(String, String)> = fresh
        .spec
        .pods
        .iter()
        .filter(|p| !p.terminating)
        .map(|p| (p.namespace.clone(), p.name.clone()))
        .collect();
    let mut run = Run {
        client,
        plan,
        id,
        options,
        on_event,
        report,
        tracked: Vec::new(),
        recorded,
        recent: VecDeque::new(),
        touched: BTreeSet::new(),
        resumed_workloads: BTreeSet::new(),
        steered: Vec::new(),
    };
    let result = run.steps(&done, &still_there).await;
    match result {
        Ok(None) => {
            for node in std::mem::take(&mut run.steered) {
                if run.uncordon(&node).await? {
                    run.report.uncordoned.push(node);
                }
            }
            run.receivers_over_cap().await?;
        }
        Ok(Some(reason)) => {
            (run.on_event)(&Event::note(format!("stopping: {reason}")));
            run.rollback().await?;
            run.report.outcome = Outcome::Stopped { reason };
        }
        Err(e) => {
            (run.on_event)(&Event::note(format!("stopping: {e}")));
            // Best effort: the error may be the API server itself.
            let _ = run.rollback().await;
            return Err(e);
        }
    }
    run.fidelity();
    Ok(run.report)
}

impl Run<'_> {
    /// Performs every step; `Some(reason)` when the run must stop.
    async fn steps(
        &mut self,
        done: &BTreeSet<String>,
        still_there: &BTreeSet<(String, String)>,
    ) -> Result<Option<String>, KubeError> {
        let plan = self.plan;
        for step in steps(plan) {
            match step {
                Step::Cordon { node, reason } => {
                    self.touched.insert(node.clone());
                    if reason == CordonReason::Steer {
                        // Every earlier replacement must be placed before the cordon, so
                        // that none of them was headed there.
                        if let Some(stop) = self.wait(None, true).await? {
                            return Ok(Some(stop));
                        }
                    }
                    self.cordon(&node, reason).await?;
                }
                Step::Evict { index, wave } => {
                    let m = &plan.moves[index];
                    let key = format!("{}/{}", m.namespace, m.pod);
                    let present = still_there.contains(&(m.namespace.clone(), m.pod.clone()));
                    if done.contains(&key) && !present {
                        self.report.resumed += 1;
                        (self.on_event)(&Event::Resumed {
                            pod: key.clone(),
                            from: m.from_node.clone(),
                        });
                        if let Some(w) = &m.workload {
                            self.resumed_workloads.insert((
                                w.namespace.clone(),
                                w.kind.clone(),
                                w.name.clone(),
                            ));
                        }
                        continue;
                    }
                    if let Some(stop) = self.evict(index, wave).await? {
                        return Ok(Some(stop));
                    }
                }
                Step::WaitWave { wave } => {
                    if let Some(stop) = self.wait(Some(wave), false).await? {
                        return Ok(Some(stop));
                    }
                    self.report.waves_completed += 1;
                    let n = self.tracked.iter().filter(|t| t.wave == wave).count();
                    (self.on_event)(&Event::note(format!(
                        "wave {wave}: {n} evictions, every replacement scheduled and Ready"
                    )));
                }
                Step::Uncordon { node } => {
                    if self.uncordon(&node).await? {
                        self.report.uncordoned.push(node);
                    }
                }
            }
        }
        Ok(None)
    }

    async fn send(&self, call: &ApiCall, what: &str) -> Result<String, kube::Error> {
        let request = call.request().map_err(|e| {
            kube::Error::Service(Box::new(std::io::Error::other(format!("{what}: {e}"))))
        })?;
        self.client.request_text(request).await
    }

    async fn read_node(&self, node: &str) -> Result<Node, KubeError> {
        let text = self
            .send(&get_node(node), "get node")
            .await
            .map_err(|e| KubeError::api(format!("get node {node}"), &e))?;
        serde_json::from_str(&text).map_err(|e| KubeError::Api {
            operation: format!("get node {node}"),
            code: None,
            message: format!("unreadable answer: {e}"),
        })
    }

    /// Cordons `node` with the marker unless it is cordoned already (ours: nothing to do;
    /// someone else's: left alone and never uncordoned). 409 → read again and retry.
    async fn cordon(&mut self, node: &str, reason: CordonReason) -> Result<(), KubeError> {
        let ours = marker(&self.id);
        for _ in 0..5 {
            let current = self.read_node(node).await?;
            let annotations = current.metadata.annotations.clone().unwrap_or_default();
            let cordoned = current
                .spec
                .as_ref()
                .and_then(|s| s.unschedulable)
                .unwrap_or(false);
            if cordoned {
                if annotations.get(CORDONED_BY) != Some(&ours) {
                    (self.on_event)(&Event::note(format!(
                        "node {node} is already cordoned by someone else: left as it is"
                    )));
                }
                return Ok(());
            }
            let rv = current.metadata.resource_version.unwrap_or_default();
            match self.send(&cordon(node, &self.id, &rv), "cordon").await {
                Ok(_) => {
                    let why = match reason {
                        CordonReason::Drain => "to drain",
                        CordonReason::CordonOnly => "kept, cordoned while the plan runs",
                        CordonReason::Steer => "kept, cordoned to steer the next eviction",
                    };
                    (self.on_event)(&Event::note(format!("cordoned {node} ({why})")));
                    self.report.cordoned.push(node.to_owned());
                    return Ok(());
                }
                Err(kube::Error::Api(s)) if s.code == 409 => continue,
                Err(e) => return Err(KubeError::api(format!("cordon node {node}"), &e)),
            }
        }
        Err(KubeError::Api {
            operation: format!("cordon node {node}"),
            code: Some(409),
            message: "the node kept changing (5 conflicts in a row)".to_owned(),
        })
    }

    /// Uncordons `node` if it carries this plan's marker; `true` when it did.
    async fn uncordon(&mut self, node: &str) -> Result<bool, KubeError> {
        let ours = marker(&self.id);
        for _ in 0..5 {
            let current = match self.read_node(node).await {
                Ok(n) => n,
                Err(KubeError::Api {
                    code: Some(404), ..
                }) => return Ok(false),
                Err(e) => return Err(e),
            };
            let annotations = current.metadata.annotations.clone().unwrap_or_default();
            if annotations.get(CORDONED_BY) != Some(&ours) {
                return Ok(false);
            }
            let rv = current.metadata.resource_version.unwrap_or_default();
            match self.send(&uncordon(node, &rv), "uncordon").await {
                Ok(_) => {
                    (self.on_event)(&Event::note(format!("uncordoned {node}")));
                    return Ok(true);
                }
                Err(kube::Error::Api(s)) if s.code == 409 => continue,
                Err(e) => return Err(KubeError::api(format!("uncordon node {node}"), &e)),
            }
        }
        Err(KubeError::Api {
            operation: format!("uncordon node {node}"),
            code: Some(409),
            message: "the node kept changing (5 conflicts in a row)".to_owned(),
        })
    }

    /// Uncordons every node this plan cordoned (those carrying its marker).
    async fn rollback(&mut self) -> Result<(), KubeError> {
        let mut nodes: BTreeSet<String> = self.touched.clone();
        nodes.extend(self.plan.drain.iter().map(|d| d.node.clone()));
        nodes.extend(self.plan.cordon_only.iter().cloned());
        for node in nodes {
            if self.uncordon(&node).await? {
                self.report.uncordoned.push(node);
            }
        }
        Ok(())
    }

    async fn pods_of(&self, namespace: &str) -> Result<Vec<Observed>, KubeError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let mut params = ListParams::default().limit(live::PAGE_SIZE);
        let mut out = Vec::new();
        loop {
            let page = match api.list(&params).await {
                Ok(p) => p,
                Err(kube::Error::Api(s)) if s.code == 410 => {
                    out.clear();
                    params = ListParams::default().limit(live::PAGE_SIZE);
                    continue;
                }
                Err(e) => {
                    return Err(KubeError::api(format!("list pods in {namespace}"), &e));
                }
            };
            out.extend(page.items.iter().map(observe));
            match page.metadata.continue_ {
                Some(t) if !t.is_empty() => params = params.continue_token(&t),
                _ => return Ok(out),
            }
        }
    }

    /// Evicts `plan.moves[index]`: waits for room (in flight, per minute), records the
    /// eviction on its node, then evicts with retries. `Some(reason)` to stop.
    async fn evict(&mut self, index: usize, wave: u32) -> Result<Option<String>, KubeError> {
        let plan = self.plan;
        let m = &plan.moves[index];
        let thresholds = &plan.thresholds;
        // Room: evictions in flight (evicted, replacement not yet scheduled).
        let in_flight_max =
            usize::try_from(thresholds.max_evictions_in_flight.max(1)).unwrap_or(usize::MAX);
        let started = Instant::now();
        loop {
            self.poll().await?;
            let in_flight = self
                .tracked
                .iter()
                .filter(|t| !(t.gone && t.replacement.as_ref().is_some_and(|r| r.node.is_some())))
                .count();
            if in_flight < in_flight_max {
                break;
            }
            if let Some(stop) = self.pending_stop() {
                return Ok(Some(stop));
            }
            if started.elapsed() > self.options.wave_deadline {
                return Ok(Some(format!(
                    "evictions in flight did not finish within {:?}",
                    self.options.wave_deadline
                )));
            }
            tokio::time::sleep(self.options.poll_interval).await;
        }
        let per_minute =
            usize::try_from(thresholds.max_evictions_per_minute.max(1)).unwrap_or(usize::MAX);
        while let Some(first) = self.recent.front().copied() {
            if first.elapsed() >= Duration::from_secs(60) {
                self.recent.pop_front();
            } else if self.recent.len() >= per_minute {
                tokio::time::sleep_until(first + Duration::from_secs(60)).await;
            } else {
                break;
            }
        }
        // The pod and its workload's pods right now.
        let pods = self.pods_of(&m.namespace).await?;
        let Some(pod) = pods.iter().find(|p| p.name == m.pod && !p.terminating) else {
            (self.on_event)(&Event::Gone {
                pod: format!("{}/{}", m.namespace, m.pod),
            });
            return Ok(None);
        };
        let workload = pod.workload.clone();
        let before: BTreeSet<String> = pods
            .iter()
            .filter(|p| p.workload == workload)
            .map(|p| p.uid.clone())
            .collect();
        let uid = pod.uid.clone();
        // Re-predicted from the cluster as it is now; steered off nodes it would overload.
        let repredicted = if self.options.repredict {
            match self.repredict(m).await? {
                Ok(r) => Some(r),
                Err(stop) => return Ok(Some(stop)),
            }
        } else {
            None
        };
        // Write-ahead record on the node.
        let key = format!("{}/{}", m.namespace, m.pod);
        let list = self.recorded.entry(m.from_node.clone()).or_default();
        if !list.contains(&key) {
            list.push(key.clone());
        }
        let record = record_evictions(&m.from_node, &self.id, list);
        self.send(&record, "record")
            .await
            .map_err(|e| KubeError::api(format!("annotate node {}", m.from_node), &e))?;
        // The eviction, with retries.
        let deadline = Instant::now() + self.options.eviction_deadline;
        let mut attempt: u32 = 0;
        let mut last;
        loop {
            let verdict = match self.send(&evict(&m.namespace, &m.pod), "evict").await {
                Ok(_) => EvictionVerdict::Evicted,
                Err(kube::Error::Api(s)) => eviction_verdict(s.code, &s.message),
                Err(e) => return Err(KubeError::api(format!("evict pod {key}"), &e)),
            };
            match verdict {
                EvictionVerdict::Evicted => break,
                EvictionVerdict::Gone => {
                    (self.on_event)(&Event::Gone { pod: key.clone() });
                    return Ok(None);
                }
                EvictionVerdict::Blocked(why) => {
                    return Ok(Some(format!("eviction of {key} refused: {why}")));
                }
                EvictionVerdict::Reread(why) => {
                    let now = self.pods_of(&m.namespace).await?;
                    if !now.iter().any(|p| p.uid == uid && !p.terminating) {
                        (self.on_event)(&Event::Gone { pod: key.clone() });
                        return Ok(None);
                    }
                    last = why;
                }
                EvictionVerdict::Retry(why) => last = why,
            }
            attempt += 1;
            let pause = jittered(self.options.backoff, attempt, &key);
            if Instant::now() + pause > deadline {
                return Ok(Some(format!(
                    "eviction of {key} still refused after {:?} ({attempt} attempts): {last}",
                    self.options.eviction_deadline
                )));
            }
            tokio::time::sleep(pause).await;
        }
        self.recent.push_back(Instant::now());
        self.report.evictions += 1;
        (self.on_event)(&Event::Evicted {
            pod: key.clone(),
            from: m.from_node.clone(),
            predicted: m.to_node.clone(),
        });
        self.tracked.push(Tracked {
            index,
            wave,
            namespace: m.namespace.clone(),
            uid,
            before,
            workload,
            replacement: None,
            gone: false,
            unschedulable_since: None,
            repredicted,
        });
        Ok(None)
    }

    /// Refreshes every tracked eviction: evicted pod gone, its replacement found and its
    /// state.
    async fn poll(&mut self) -> Result<(), KubeError> {
        let namespaces: BTreeSet<String> =
            self.tracked.iter().map(|t| t.namespace.clone()).collect();
        for ns in namespaces {
            let pods = self.pods_of(&ns).await?;
            match_replacements(&mut self.tracked, &ns, &pods, Instant::now());
        }
        Ok(())
    }

    /// A replacement unschedulable for longer than the grace: the reason to stop.
    fn pending_stop(&self) -> Option<String> {
        self.tracked.iter().find_map(|t| {
            let since = t.unschedulable_since?;
            (since.elapsed() >= self.options.pending_grace).then(|| {
                let r = t.replacement.as_ref();
                format!(
                    "replacement {}/{} of {}/{} is Pending: {}",
                    t.namespace,
                    r.map_or("?", |r| r.name.as_str()),
                    t.namespace,
                    self.plan.moves[t.index].pod,
                    r.and_then(|r| r.unschedulable.as_deref())
                        .unwrap_or("unschedulable")
                )
            })
        })
    }

    /// Waits until the evictions of `wave` (every tracked one when `None`) are done: the
    /// evicted pod gone and its replacement bound (`bound_only`) or bound and Ready; and,
    /// for a wave, every pod of the workloads an earlier run moved bound and Ready.
    async fn wait(
        &mut self,
        wave: Option<u32>,
        bound_only: bool,
    ) -> Result<Option<String>, KubeError> {
        let started = Instant::now();
        loop {
            self.poll().await?;
            let mut waiting = 0;
            for t in self
                .tracked
                .iter()
                .filter(|t| wave.is_none_or(|w| t.wave == w))
            {
                let ok = t
                    .replacement
                    .as_ref()
                    .is_some_and(|r| r.node.is_some() && (bound_only || (t.gone && r.ready)));
                if !ok {
                    waiting += 1;
                }
            }
            if wave.is_some() && !self.resumed_workloads.is_empty() {
                waiting += self.resumed_not_ready().await?;
            }
            if waiting == 0 {
                return Ok(None);
            }
            if let Some(stop) = self.pending_stop() {
                return Ok(Some(stop));
            }
            if started.elapsed() > self.options.wave_deadline {
                return Ok(Some(format!(
                    "{waiting} replacement(s) not {} within {:?}",
                    if bound_only {
                        "scheduled"
                    } else {
                        "scheduled and Ready"
                    },
                    self.options.wave_deadline
                )));
            }
            tokio::time::sleep(self.options.poll_interval).await;
        }
    }

    /// Pods of workloads an earlier run evicted from that are not yet bound and Ready.
    async fn resumed_not_ready(&mut self) -> Result<usize, KubeError> {
        let namespaces: BTreeSet<String> =
            self.resumed_workloads.iter().map(|w| w.0.clone()).collect();
        let mut n = 0;
        for ns in namespaces {
            for p in self.pods_of(&ns).await? {
                let Some((kind, name)) = &p.workload else {
                    continue;
                };
                if self
                    .resumed_workloads
                    .contains(&(ns.clone(), kind.clone(), name.clone()))
                    && !p.terminating
                    && !(p.node.is_some() && p.ready)
                {
                    n += 1;
                }
            }
        }
        if n == 0 {
            self.resumed_workloads.clear();
        }
        Ok(n)
    }

    /// Where kube-scheduler puts the replacement of `m` now: a fresh snapshot with the pod
    /// pending. A predicted or tied node the replacement would take over the cap (or that the
    /// plan drains) is cordoned — a steer, undone at the end — and the prediction made again,
    /// at most [`STEERS`] times. `Err(reason)` to stop: no node fits, or still over the cap.
    #[allow(clippy::type_complexity)]
    async fn repredict(
        &mut self,
        m: &Move,
    ) -> Result<Result<(Option<String>, Vec<String>, Vec<String>), String>, KubeError> {
        let mut steered = Vec::new();
        for _ in 0..=STEERS {
            let fresh = live::snapshot_without_metrics(self.client).await?;
            let scheduler = self
                .options
                .scheduler
                .as_ref()
                .unwrap_or(&self.plan.scheduler);
            match judge(fresh.spec, self.plan, m, scheduler) {
                Judged::Fits { node, tied } => return Ok(Ok((node, tied, steered))),
                Judged::Stop(reason) => return Ok(Err(reason)),
                Judged::Over(nodes) => {
                    for (node, _) in &nodes {
                        self.touched.insert(node.clone());
                        self.cordon(node, CordonReason::Steer).await?;
                        self.steered.push(node.clone());
                        steered.push(node.clone());
                    }
                    (self.on_event)(&Event::note(format!(
                        "steering {}/{}: {}",
                        m.namespace,
                        m.pod,
                        nodes
                            .iter()
                            .map(|(_, d)| d.as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    )));
                }
            }
        }
        Ok(Err(format!(
            "the replacement of {}/{} would still land over the cap after {STEERS} steering cordons",
            m.namespace, m.pod
        )))
    }

    /// The receiving nodes over the cap once the plan is done.
    async fn receivers_over_cap(&mut self) -> Result<(), KubeError> {
        let receivers: BTreeSet<String> = self
            .tracked
            .iter()
            .filter_map(|t| t.replacement.as_ref().and_then(|r| r.node.clone()))
            .collect();
        self.report.fidelity.receiving_nodes = u32::try_from(receivers.len()).unwrap_or(u32::MAX);
        if receivers.is_empty() {
            return Ok(());
        }
        let fresh = live::snapshot_without_metrics(self.client).await?;
        let Ok(snapshot) = Snapshot::new(fresh.spec) else {
            return Ok(());
        };
        let cap = u128::from(self.plan.thresholds.max_utilization_percent);
        let mut over = Vec::new();
        for name in &receivers {
            let Some(i) = snapshot.node_index(name) else {
                continue;
            };
            let requested = snapshot.requested(i);
            let allocatable = &snapshot.nodes()[i].allocatable;
            for d in (0..requested.len()).filter(|&d| Dimensions::is_capped(d)) {
                if u128::from(requested[d]) * 100 > u128::from(allocatable[d]) * cap {
                    over.push(format!(
                        "{name} {} {:.0} %",
                        snapshot.dims().name(d),
                        requested[d] as f64 * 100.0 / allocatable[d].max(1) as f64
                    ));
                }
            }
        }
        self.report.fidelity.receivers_over_cap = over;
        Ok(())
    }

    /// Fills the fidelity figures and landings from the tracked evictions.
    fn fidelity(&mut self) {
        let drained: BTreeSet<&str> = self.plan.drain.iter().map(|d| d.node.as_str()).collect();
        let mut f = Fidelity::default();
        let mut landings = Vec::new();
        for t in &self.tracked {
            let m = &self.plan.moves[t.index];
            let node = t.replacement.as_ref().and_then(|r| r.node.clone());
            f.evictions += 1;
            if let (Some(n), Some((Some(r), tied, _))) = (node.as_deref(), &t.repredicted) {
                if n == r {
                    f.on_repredicted += 1;
                } else if tied.iter().any(|x| x == n) {
                    f.on_repredicted_tie += 1;
                }
            }
            match node.as_deref() {
                None => f.pending += 1,
                Some(n) if n == m.to_node => f.on_predicted += 1,
                Some(n) if m.tied_with.iter().any(|x| x == n) => f.on_tied += 1,
                Some(n) if drained.contains(n) => f.on_drained += 1,
                Some(_) => f.elsewhere += 1,
            }
            landings.push(Landing {
                pod: format!("{}/{}", m.namespace, m.pod),
                predicted: m.to_node.clone(),
                tied_with: m.tied_with.clone(),
                replacement: t
                    .replacement
                    .as_ref()
                    .map(|r| format!("{}/{}", t.namespace, r.name)),
                node,
                repredicted: t.repredicted.as_ref().and_then(|r| r.0.clone()),
                repredicted_tied_with: t
                    .repredicted
                    .as_ref()
                    .map(|r| r.1.clone())
                    .unwrap_or_default(),
                steered: t
                    .repredicted
                    .as_ref()
                    .map(|r| r.2.clone())
                    .unwrap_or_default(),
            });
        }
        let receivers = std::mem::take(&mut self.report.fidelity.receivers_over_cap);
        f.receiving_nodes = self.report.fidelity.receiving_nodes;
        f.receivers_over_cap = receivers;
        self.report.fidelity = f;
        self.report.landings = landings;
    }
}

/// Updates the tracked evictions of namespace `ns` from its pods: whether each evicted pod is
/// gone, which pod replaces it, and since when that replacement is unschedulable.
///
/// A replacement of eviction `t` is a pod of the same workload that is not an evicted pod,
/// not terminating, and was not among the workload's pods when `t` was made (`t.before`).
/// Evictions of one workload are matched latest first: a later eviction's `before` holds
/// every pod an earlier one could have caused, so the latest can only take pods created after
/// it, and the earlier ones take the rest (first-to-first would hand the later replacement
/// to the earlier eviction and leave the later one without any).
fn match_replacements(tracked: &mut [Tracked], ns: &str, pods: &[Observed], now: Instant) {
    let evicted: BTreeSet<String> = tracked.iter().map(|t| t.uid.clone()).collect();
    let mut taken: BTreeSet<String> = tracked
        .iter()
        .filter_map(|t| t.replacement.as_ref().map(|r| r.uid.clone()))
        .collect();
    let mut candidates: Vec<&Observed> = pods
        .iter()
        .filter(|p| !evicted.contains(&p.uid) && !p.terminating)
        .collect();
    candidates.sort_by(|a, b| a.created.cmp(&b.created).then(a.name.cmp(&b.name)));
    for t in tracked.iter_mut().rev().filter(|t| t.namespace == ns) {
        t.gone = !pods.iter().any(|p| p.uid == t.uid);
        if let Some(r) = &t.replacement {
            if let Some(current) = pods.iter().find(|p| p.uid == r.uid) {
                t.replacement = Some(current.clone());
            }
        } else if let Some(c) = candidates.iter().find(|c| {
            c.workload == t.workload && !t.before.contains(&c.uid) && !taken.contains(&c.uid)
        }) {
            taken.insert(c.uid.clone());
            t.replacement = Some((*c).clone());
        }
        let unschedulable = t.gone
            && t.replacement
                .as_ref()
                .is_some_and(|r| r.node.is_none() && r.unschedulable.is_some());
        if !unschedulable {
            t.unschedulable_since = None;
        } else if t.unschedulable_since.is_none() {
            t.unschedulable_since = Some(now);
        }
    }
}

/// Steering cordons per eviction at most (as the planner's `cordonFirst`).
const STEERS: usize = 16;

/// What a re-prediction found.
#[derive(Debug, PartialEq, Eq)]
enum Judged {
    /// The replacement goes to `node` (or one tied with it), all under the cap.
    Fits {
        node: Option<String>,
        tied: Vec<String>,
    },
    /// These kept nodes (with why) would be taken over the cap: steer off them.
    Over(Vec<(String, String)>),
    /// Stop: the reason.
    Stop(String),
}

/// Re-predicts the replacement of `m` on `spec` (the cluster now, the pod still bound to its
/// cordoned node): the pod as pending, kube-scheduler's choice and ties, each checked
/// against the cap and allocatable with the pod added.
fn judge(mut spec: SnapshotSpec, plan: &Plan, m: &Move, scheduler: &SchedulerConfig) -> Judged {
    let Some(pod) = spec
        .pods
        .iter_mut()
        .find(|p| p.namespace == m.namespace && p.name == m.pod)
    else {
        return Judged::Stop(format!("pod {}/{} is gone", m.namespace, m.pod));
    };
    pod.node_name = None;
    pod.phase = compactor_core::model::PodPhase::Pending;
    let snapshot = match Snapshot::new(spec) {
        Ok(s) => s,
        Err(e) => return Judged::Stop(format!("the cluster does not map: {e}")),
    };
    let key = format!("{}/{}", m.namespace, m.pod);
    let prediction = match compactor_core::plan::predict_pods(&snapshot, &[key.as_str()], scheduler)
    {
        Ok(mut p) if !p.is_empty() => p.remove(0),
        Ok(_) => return Judged::Stop(format!("no prediction for {key}")),
        Err(e) => return Judged::Stop(format!("re-prediction of {key}: {e}")),
    };
    let Some(node) = prediction.node.clone() else {
        return Judged::Stop(format!(
            "the replacement of {key} would be Pending: {}",
            prediction
                .unschedulable
                .as_deref()
                .unwrap_or("no node fits")
        ));
    };
    let Some(p) = snapshot.pod_index(&m.namespace, &m.pod) else {
        return Judged::Stop(format!("pod {key} is gone"));
    };
    let request = &snapshot.pods()[p].request;
    let drained: BTreeSet<&str> = plan.drain.iter().map(|d| d.node.as_str()).collect();
    let cap = u128::from(plan.thresholds.max_utilization_percent);
    let mut over = Vec::new();
    for name in std::iter::once(&node).chain(&prediction.tied_with) {
        if drained.contains(name.as_str()) {
            return Judged::Stop(format!(
                "kube-scheduler would put the replacement of {key} on {name}, which the plan drains"
            ));
        }
        let Some(i) = snapshot.node_index(name) else {
            continue;
        };
        let requested = snapshot.requested(i);
        let allocatable = &snapshot.nodes()[i].allocatable;
        for d in 0..requested.len() {
            let after = u128::from(requested[d]) + u128::from(request[d]);
            let limit = if Dimensions::is_capped(d) {
                u128::from(allocatable[d]) * cap
            } else {
                u128::from(allocatable[d]) * 100
            };
            if request[d] > 0 && after * 100 > limit {
                over.push((
                    name.clone(),
                    format!(
                        "{name} would reach {:.0} % {}",
                        after as f64 * 100.0 / allocatable[d].max(1) as f64,
                        snapshot.dims().name(d)
                    ),
                ));
                break;
            }
        }
    }
    if over.is_empty() {
        Judged::Fits {
            node: Some(node),
            tied: prediction.tied_with,
        }
    } else {
        Judged::Over(over)
    }
}

/// `base · 2^(attempt-1)`, at most 30 s, times a factor in [0.5, 1.5) drawn from the pod's
/// name and the attempt (evictions of different pods spread out; no global randomness).
fn jittered(base: Duration, attempt: u32, key: &str) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let capped = exp.min(Duration::from_secs(30));
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ u64::from(attempt);
    for b in key.bytes() {
        x = (x ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    // 0.5 + [0, 1) in 1/1024 steps.
    let factor = 512 + (x % 1024);
    capped.mul_f64(factor as f64 / 1024.0)
}

#[cfg(test)]
mod tests {

    #[test]
    fn summaries_name_the_outcome() {
        let report = |outcome| Report {
            plan_id: "p1".into(),
            outcome,
            evictions: 2,
            resumed: 1,
            waves_completed: 1,
            cordoned: vec![],
            uncordoned: vec!["a".into(), "b\nc".into()],
            fidelity: Fidelity::default(),
            landings: vec![],
        };
        assert_eq!(
            report(Outcome::Completed).summary(),
            ["plan p1 completed: 2 evictions (1 by an earlier run), 1 waves"]
        );
        assert_eq!(
            report(Outcome::Refused {
                reasons: vec!["node x is gone".into(), "pod y is gone".into()]
            })
            .summary(),
            [
                "plan p1 refused: it no longer holds on the cluster; nothing was done",
                "  - node x is gone",
                "  - pod y is gone"
            ]
        );
        // Names are escaped: a newline cannot forge a line.
        assert_eq!(
            report(Outcome::Stopped {
                reason: "budget".into()
            })
            .summary(),
            ["plan p1 stopped after 2 evictions: budget; uncordoned a, b\\nc"]
        );
    }

    use super::*;

    #[test]
    fn verdicts_follow_the_eviction_api() {
        assert_eq!(eviction_verdict(201, ""), EvictionVerdict::Evicted);
        assert_eq!(eviction_verdict(404, "not found"), EvictionVerdict::Gone);
        assert!(matches!(
            eviction_verdict(429, "budget"),
            EvictionVerdict::Retry(_)
        ));
        assert!(matches!(
            eviction_verdict(409, "conflict"),
            EvictionVerdict::Reread(_)
        ));
        assert!(matches!(
            eviction_verdict(503, "unavailable"),
            EvictionVerdict::Retry(_)
        ));
        assert!(matches!(
            eviction_verdict(
                500,
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
            ),
            EvictionVerdict::Blocked(_)
        ));
        assert!(matches!(
            eviction_verdict(500, "internal"),
            EvictionVerdict::Blocked(_)
        ));
        assert!(matches!(
            eviction_verdict(403, "forbidden"),
            EvictionVerdict::Blocked(_)
        ));
    }

    fn fixture() -> SnapshotSpec {
        let pod = |name: &str, node: &str, cpu: &str| {
            format!(
                r#"{{"namespace": "shop", "name": "{name}", "nodeName": "{node}",
                "owner": {{"kind": "Deployment", "name": "{name}"}}, "labels": {{"app": "{name}"}},
                "containers": [{{"name": "app", "requests": {{"cpu": "{cpu}", "memory": "1Gi"}}}}],
                "readinessProbe": true, "replicas": 2}}"#
            )
        };
        let node = |name: &str| {
            format!(r#"{{"name": "{name}", "allocatable": {{"cpu": "4", "memory": "16Gi"}}}}"#)
        };
        crate::read_snapshot(&format!(
            r#"{{"nodes": [{}, {}, {}], "pods": [{}, {}, {}]}}"#,
            node("a"),
            node("b"),
            node("c"),
            pod("web", "a", "500m"),
            pod("big", "b", "2500m"),
            pod("mid", "c", "1")
        ))
        .unwrap()
    }

    #[test]
    fn reprediction_fits_or_names_the_node_it_would_overload() {
        let spec = fixture();
        let plan = compactor_core::plan::plan(
            &Snapshot::new(spec.clone()).unwrap(),
            &PlanOptions::default(),
        )
        .unwrap();
        let m = plan.moves.iter().find(|m| m.pod == "web").unwrap();
        assert_eq!((m.from_node.as_str(), m.to_node.as_str()), ("a", "c"));
        let all = SchedulerConfig::default().with_percentage_of_nodes_to_score(100);
        // Uncordoned, the drained node itself is kube-scheduler's choice: stop.
        assert!(matches!(
            judge(spec.clone(), &plan, m, &all),
            Judged::Stop(r) if r.contains("on a, which the plan drains")
        ));
        // As the executor runs it: a cordoned.
        let mut spec = spec;
        spec.nodes[0].unschedulable = true;
        // The cluster as planned: kube-scheduler still picks c, 1.5 of 4 CPU.
        assert_eq!(
            judge(spec.clone(), &plan, m, &all),
            Judged::Fits {
                node: Some("c".to_owned()),
                tied: Vec::new()
            }
        );
        // c filled up since: b is the only choice, and 3 of 4 CPU is over the 70 % cap.
        let mut changed = spec.clone();
        changed
            .pods
            .iter_mut()
            .find(|p| p.name == "mid")
            .unwrap()
            .containers[0]
            .requests
            .set("cpu", 3_800);
        match judge(changed, &plan, m, &all) {
            Judged::Over(nodes) => {
                assert_eq!(nodes.len(), 1);
                assert_eq!(nodes[0].0, "b");
                assert!(nodes[0].1.contains("75 % cpu"), "{nodes:?}");
            }
            other => panic!("{other:?}"),
        }
        // The pod is gone: stop.
        let mut gone = spec;
        gone.pods.retain(|p| p.name != "web");
        assert!(matches!(judge(gone, &plan, m, &all), Judged::Stop(r) if r.contains("is gone")));
    }

    fn observed(name: &str, node: Option<&str>) -> Observed {
        Observed {
            name: name.to_owned(),
            uid: name.to_owned(),
            workload: Some(("Deployment".to_owned(), "w".to_owned())),
            node: node.map(str::to_owned),
            ready: node.is_some(),
            terminating: false,
            unschedulable: None,
            created: "2026-12-05T00:00:00Z".to_owned(),
        }
    }

    fn tracked(index: usize, uid: &str, before: &[&str]) -> Tracked {
        Tracked {
            index,
            wave: 1,
            namespace: "ns".to_owned(),
            uid: uid.to_owned(),
            before: before.iter().map(|s| (*s).to_owned()).collect(),
            workload: Some(("Deployment".to_owned(), "w".to_owned())),
            replacement: None,
            gone: false,
            unschedulable_since: None,
            repredicted: None,
        }
    }

    /// Measured on openb-multigpu50-400: the first replacement appeared between the poll
    /// before the second eviction and that eviction's `before`, both were created in the same
    /// second, and first-to-first matching gave the second replacement to the first eviction:
    /// the second waited 600 s for a replacement it never got.
    #[test]
    fn replacements_match_latest_eviction_first() {
        // x1 evicted (before: x1, x2); r1 created; x2 evicted (before: x2, r1); r2 created.
        // Names put r2 ahead of r1 in the creation-time tie.
        let mut t = vec![
            tracked(0, "x1", &["x1", "x2"]),
            tracked(1, "x2", &["x2", "za-r1"]),
        ];
        let pods = [observed("za-r1", Some("n1")), observed("a-r2", Some("n2"))];
        match_replacements(&mut t, "ns", &pods, Instant::now());
        let got: Vec<&str> = t
            .iter()
            .map(|t| t.replacement.as_ref().map_or("none", |r| r.name.as_str()))
            .collect();
        assert_eq!(got, ["za-r1", "a-r2"]);
        assert!(t.iter().all(|t| t.gone));
        // Another namespace's trackers are left alone.
        let mut other = vec![tracked(0, "x1", &["x1"])];
        other[0].namespace = "elsewhere".to_owned();
        match_replacements(&mut other, "ns", &pods, Instant::now());
        assert!(other[0].replacement.is_none());
    }

    #[test]
    fn backoff_doubles_is_capped_and_jittered() {
        let base = Duration::from_secs(1);
        for attempt in 1..40 {
            let d = jittered(base, attempt, "shop/web-1");
            let nominal = base
                .saturating_mul(1u32 << (attempt - 1).min(16))
                .min(Duration::from_secs(30));
            assert!(
                d >= nominal / 2 && d < nominal.mul_f64(1.5),
                "{attempt}: {d:?}"
            );
        }
        assert_ne!(jittered(base, 3, "a/x"), jittered(base, 3, "a/y"));
    }
}
