//! The custom resources of kube-compactor (DESIGN §9), group `optimizer.io`, version
//! `v1alpha1`: [`OptimizationConfig`] (cluster-scoped: what to optimise, how, and when),
//! [`MigrationPlan`] (namespaced: the moves of one plan, and what became of them) and
//! [`OptimizationReport`] (namespaced: one analysis).
//!
//! The schemas are derived from these types: each has a status subresource, printer columns,
//! defaults and CEL validation rules (`x-kubernetes-validations`) that the API server enforces.
//! [`crds`] returns the three definitions; `kube-compactor crds` prints them, and
//! `deploy/crds.yaml` is that output (a test fails when it is stale).
//!
//! # Examples
//! ```
//! use compactor_kube::crd::{Mode, OptimizationConfigSpec};
//! let spec: OptimizationConfigSpec = serde_json::from_str("{}").unwrap();
//! assert_eq!(spec.mode, Mode::Observe);
//! assert_eq!(spec.exclude_namespaces, ["kube-system", "kube-public", "kube-node-lease"]);
//! ```

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::core::crd::CustomResourceExt;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How far the controller may act on its own (DESIGN §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Analyse and write an [`OptimizationReport`]; never act.
    #[default]
    Observe,
    /// Create a [`MigrationPlan`] and wait for `spec.approved` or per-item approvals.
    Manual,
    /// Carry out, inside a safe window, the moves within the threshold's risk set; the others
    /// wait for approval.
    SemiAuto,
    /// Carry out every move inside a safe window; only with `confirmFullAuto: true`.
    FullAuto,
}

/// The safety level whose thresholds the plans follow (docs/decisions.md has the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SafetyThreshold {
    /// Receiving nodes at most 70 % of allocatable; one node per wave.
    #[default]
    Conservative,
    /// 80 %.
    Medium,
    /// 90 %.
    Aggressive,
}

/// The packing strategy of the plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// First-fit decreasing.
    FirstFit,
    /// Best-fit decreasing (the CLI's default).
    #[default]
    BestFit,
    /// The best of four plans (best fit, with a bounded repair search, with most-room
    /// packing, with another tie order): never more nodes kept than best fit.
    Search,
    /// Keeps pods that exchange traffic together.
    NetworkAware,
    /// Follows preferred inter-pod affinity.
    AffinityBased,
}

// The schema's enums mirror compactor-core's (which stays free of schemars); these exhaustive
// conversions make a new value on either side a compile error here.

impl From<SafetyThreshold> for compactor_core::safety::SafetyLevel {
    fn from(t: SafetyThreshold) -> Self {
        match t {
            SafetyThreshold::Conservative => Self::Conservative,
            SafetyThreshold::Medium => Self::Medium,
            SafetyThreshold::Aggressive => Self::Aggressive,
        }
    }
}

impl From<Strategy> for compactor_core::packing::StrategyKind {
    fn from(s: Strategy) -> Self {
        match s {
            Strategy::FirstFit => Self::FirstFit,
            Strategy::BestFit => Self::BestFit,
            Strategy::Search => Self::Search,
            Strategy::NetworkAware => Self::NetworkAware,
            Strategy::AffinityBased => Self::AffinityBased,
        }
    }
}

impl From<compactor_core::risk::RiskLevel> for Risk {
    fn from(r: compactor_core::risk::RiskLevel) -> Self {
        use compactor_core::risk::RiskLevel;
        match r {
            RiskLevel::Low => Self::Low,
            RiskLevel::Medium => Self::Medium,
            RiskLevel::High => Self::High,
        }
    }
}

/// A day of the week, by its English name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[allow(missing_docs)]
pub enum Day {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

/// When the controller may carry moves out: from `start` to `end` local time in `timeZone`,
/// on `days` (every day when empty). An `end` before `start` is an overnight window: it ends
/// the next day, and `days` names the day it starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.start != self.end").message("a safe window needs start and end to differ"))]
pub struct SafeWindow {
    /// Start, `HH:MM` (24-hour).
    #[schemars(length(max = 5))]
    #[x_kube(validation = Rule::new("self.matches('^([01][0-9]|2[0-3]):[0-5][0-9]$')").message("start must be HH:MM, 00:00 to 23:59"))]
    pub start: String,
    /// End, `HH:MM` (24-hour).
    #[schemars(length(max = 5))]
    #[x_kube(validation = Rule::new("self.matches('^([01][0-9]|2[0-3]):[0-5][0-9]$')").message("end must be HH:MM, 00:00 to 23:59"))]
    pub end: String,
    /// Days the window opens on; every day when empty.
    #[serde(default)]
    #[schemars(length(max = 7))]
    pub days: Vec<Day>,
    /// IANA time zone (`Europe/Paris`, `UTC`).
    #[serde(default = "utc")]
    #[schemars(length(max = 64))]
    #[x_kube(validation = Rule::new("self.matches('^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$')").message("timeZone must be an IANA zone name such as Europe/Paris or UTC"))]
    pub time_zone: String,
}

fn utc() -> String {
    "UTC".to_owned()
}

/// One row of a price table: what a node of `instanceType` costs per hour, in dollars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriceRow {
    /// The node label `node.kubernetes.io/instance-type`.
    pub instance_type: String,
    /// Dollars per hour.
    #[x_kube(validation = Rule::new("self >= 0.0 && self <= 1e9").message("hourly must be from 0 to 1e9 dollars"))]
    pub hourly: f64,
}

/// What the controller optimises, how, and when (cluster-scoped).
// `printcolumn(type_ = …)` repeats per column in `#[kube(...)]`: not a duplicate.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "optimizer.io",
    version = "v1alpha1",
    kind = "OptimizationConfig",
    status = "OptimizationConfigStatus",
    shortname = "optconfig",
    category = "kube-compactor",
    doc = "What kube-compactor optimises, how far it may act on its own, and when.",
    printcolumn(name = "Mode", type_ = "string", json_path = ".spec.mode"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Nodes", type_ = "integer", json_path = ".status.nodeCount"),
    printcolumn(
        name = "Savings",
        type_ = "string",
        json_path = ".status.potentialSavings"
    ),
    printcolumn(
        name = "Last analysis",
        type_ = "date",
        json_path = ".status.lastAnalysis"
    )
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.mode != 'full-auto' || self.confirmFullAuto").message("mode full-auto requires confirmFullAuto: true").field_path(".confirmFullAuto"))]
pub struct OptimizationConfigSpec {
    /// How far the controller may act on its own.
    #[serde(default)]
    pub mode: Mode,
    /// Must be `true` for `full-auto`.
    #[serde(default)]
    pub confirm_full_auto: bool,
    /// When to analyse: a five-field cron expression (minute hour day-of-month month
    /// day-of-week), at most once a minute.
    #[serde(default = "hourly")]
    #[schemars(length(max = 64))]
    #[x_kube(validation = Rule::new("self.matches('^\\\\S+( \\\\S+){4}$')").message("schedule must be a five-field cron expression"))]
    pub schedule: String,
    /// The safety level of the plans.
    #[serde(default)]
    pub safety_threshold: SafetyThreshold,
    /// Namespaces whose pods may move; all when empty.
    #[serde(default)]
    pub target_namespaces: Vec<String>,
    /// Namespaces whose pods never move.
    #[serde(default = "system_namespaces")]
    pub exclude_namespaces: Vec<String>,
    /// The packing strategy.
    #[serde(default)]
    pub bin_packing_strategy: Strategy,
    /// When moves may be carried out; never in `semi-auto` and `full-auto` when empty.
    #[serde(default)]
    #[schemars(length(max = 16))]
    pub safe_windows: Vec<SafeWindow>,
    /// Plan node consolidation.
    #[serde(default = "yes")]
    pub consolidation_enabled: bool,
    /// Report right-sizing advice.
    #[serde(default = "yes")]
    pub right_sizing_enabled: bool,
    /// Node prices by instance type; nodes of other types are priced by their resources.
    #[serde(default)]
    #[schemars(length(max = 1000))]
    pub pricing: Vec<PriceRow>,
    /// Minutes a [`MigrationPlan`] stays valid after it is made; an older plan is never
    /// carried out (it becomes `Expired`). Default 120.
    #[serde(default = "two_hours")]
    #[schemars(range(min = 5, max = 10080))]
    pub plan_ttl_minutes: u32,
    /// How many [`OptimizationReport`]s of this config are kept; older ones are deleted.
    /// Default 5.
    #[serde(default = "five")]
    #[schemars(range(min = 1, max = 100))]
    pub report_history: u32,
}

fn two_hours() -> u32 {
    120
}

fn five() -> u32 {
    5
}

fn hourly() -> String {
    "0 * * * *".to_owned()
}

fn system_namespaces() -> Vec<String> {
    ["kube-system", "kube-public", "kube-node-lease"]
        .map(str::to_owned)
        .to_vec()
}

fn yes() -> bool {
    true
}

/// A condition, as Kubernetes objects report them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `Ready`, `Progressing`, …
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// One CamelCase word.
    #[serde(default)]
    pub reason: String,
    /// For people.
    #[serde(default)]
    pub message: String,
    /// RFC 3339.
    #[serde(default)]
    pub last_transition_time: String,
    /// The spec generation the condition was set for.
    #[serde(default)]
    pub observed_generation: i64,
}

/// What the controller last did with a config (written by the controller only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OptimizationConfigStatus {
    /// `Idle`, `Analyzing`, `WaitingForApproval`, `Executing` or `Failed`.
    #[serde(default)]
    pub phase: String,
    /// When the last analysis ended (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_analysis: Option<String>,
    /// Nodes seen by the last analysis.
    #[serde(default)]
    pub node_count: u32,
    /// Workloads seen by the last analysis.
    #[serde(default)]
    pub workload_count: u32,
    /// Dollars per month the last plan saves.
    #[serde(default)]
    pub potential_monthly_savings: f64,
    /// The same, for people (`$353.85/month`).
    #[serde(default)]
    pub potential_savings: String,
    /// Name of the last [`OptimizationReport`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_report: Option<String>,
    /// Name of the last [`MigrationPlan`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_plan: Option<String>,
    /// When the schedule next runs an analysis (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_analysis: Option<String>,
    /// The `metadata.generation` the last analysis read: a changed spec is analysed at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions.
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

/// The workload a pod belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadRef {
    /// `Deployment`, `StatefulSet`, …
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// The risk of a move (docs/decisions.md: how it is scored).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum Risk {
    Low,
    Medium,
    High,
}

/// One move of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Migration {
    /// The pod's workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadRef>,
    /// The pod, `namespace/name`.
    pub pod: String,
    /// The node it is evicted from.
    pub from_node: String,
    /// Where kube-scheduler is predicted to place its replacement.
    pub to_node: String,
    /// The wave it is evicted in (1-based).
    pub wave: u32,
    /// The move's risk.
    pub risk: Risk,
    /// Why it moves.
    #[serde(default)]
    pub reason: String,
    /// Dollars per month its move contributes (its share of the drained node's cost).
    #[serde(default)]
    pub estimated_savings: f64,
}

/// The moves of one plan, for people to review and approve (namespaced, owned by its config).
// `printcolumn(type_ = …)` repeats per column in `#[kube(...)]`: not a duplicate.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "optimizer.io",
    version = "v1alpha1",
    kind = "MigrationPlan",
    namespaced,
    status = "MigrationPlanStatus",
    shortname = "migplan",
    category = "kube-compactor",
    doc = "The moves of one kube-compactor plan: which pods move where, in which waves, and what became of them.",
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(
        name = "Executed",
        type_ = "integer",
        json_path = ".status.executedMigrations"
    ),
    printcolumn(
        name = "Total",
        type_ = "integer",
        json_path = ".status.totalMigrations"
    ),
    printcolumn(
        name = "Highest risk",
        type_ = "string",
        json_path = ".spec.highestRisk"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct MigrationPlanSpec {
    /// The [`OptimizationConfig`] the plan was made for.
    pub config: String,
    /// The moves, wave by wave.
    #[serde(default)]
    pub migrations: Vec<Migration>,
    /// The nodes the plan empties.
    #[serde(default)]
    pub drain_nodes: Vec<String>,
    /// Number of waves.
    #[serde(default)]
    pub waves: u32,
    /// The highest risk among the moves (`none` without moves).
    #[serde(default)]
    pub highest_risk: String,
    /// When the plan stops being valid (RFC 3339); an older plan is never carried out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Set by a person: carry out every move.
    #[serde(default)]
    pub approved: bool,
    /// Set by a person: carry out these moves (pods, `namespace/name`), and drain these nodes
    /// with nothing to move (`node:NAME`).
    #[serde(default)]
    pub approved_migrations: Vec<String>,
    /// Set by a person: never carry the plan out (an executing part finishes first).
    #[serde(default)]
    pub cancelled: bool,
    /// The plan itself, as `kube-compactor plan --output json` prints it: what the
    /// controller re-validates and carries out. `migrations` is its summary for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_object")]
    pub plan: Option<serde_json::Value>,
}

/// An object the API server stores as it is (`x-kubernetes-preserve-unknown-fields`).
fn any_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
        "description": "The plan itself, as `kube-compactor plan --output json` prints it: what the controller re-validates and carries out."
    })
}

/// The lifecycle of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub enum PlanPhase {
    #[default]
    Pending,
    Approved,
    Executing,
    Completed,
    Failed,
    Cancelled,
    Expired,
}

/// What became of one move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MigrationResult {
    /// The pod, `namespace/name`.
    pub pod: String,
    /// `Evicted`, `Landed`, `Skipped` or `Failed`.
    pub status: String,
    /// Details.
    #[serde(default)]
    pub message: String,
    /// The node its replacement landed on, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landed_on: Option<String>,
    /// When (RFC 3339).
    #[serde(default)]
    pub timestamp: String,
}

/// What became of a plan (written by the controller only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MigrationPlanStatus {
    /// Where the plan is in its lifecycle.
    #[serde(default)]
    pub phase: PlanPhase,
    /// Moves carried out.
    #[serde(default)]
    pub executed_migrations: u32,
    /// Moves in the plan.
    #[serde(default)]
    pub total_migrations: u32,
    /// Per move carried out or tried.
    #[serde(default)]
    pub results: Vec<MigrationResult>,
    /// Drained nodes whose part of the plan is done, in drain order.
    #[serde(default)]
    pub completed_nodes: Vec<String>,
    /// The nodes of the part being carried out (a restarted controller resumes exactly this
    /// part); empty when none is.
    #[serde(default)]
    pub executing_nodes: Vec<String>,
    /// Why the plan waits, stopped or failed, for people.
    #[serde(default)]
    pub message: String,
    /// Conditions.
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

/// The consolidation part of a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Consolidation {
    /// Whether any node can be emptied.
    pub feasible: bool,
    /// Nodes now.
    pub current_nodes: u32,
    /// Nodes the plan keeps.
    pub required_nodes: u32,
    /// At least this many nodes are needed, whatever the plan.
    pub lower_bound: u32,
    /// `currentNodes − requiredNodes`.
    pub node_reduction: u32,
    /// Dollars per month.
    pub estimated_savings: f64,
}

/// A workload that requests much more than it uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverProvisioned {
    /// The workload.
    pub workload: WorkloadRef,
    /// `cpu` or `memory`.
    pub resource: String,
    /// What its pods request, in Kubernetes quantity form.
    pub requested: String,
    /// The recommended request.
    pub recommended: String,
}

/// Why a node stays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Blocker {
    /// The node.
    pub node: String,
    /// The reason code (`pdb-exhausted`, `no-fit`, …).
    pub reason: String,
    /// For people.
    pub detail: String,
}

/// One analysis of the cluster (namespaced, owned by its config; the last few are kept).
// `printcolumn(type_ = …)` repeats per column in `#[kube(...)]`: not a duplicate.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "optimizer.io",
    version = "v1alpha1",
    kind = "OptimizationReport",
    namespaced,
    status = "OptimizationReportStatus",
    shortname = "optreport",
    category = "kube-compactor",
    doc = "One kube-compactor analysis: nodes now and needed, the lower bound, savings, over-provisioned workloads, and why each kept node stays.",
    printcolumn(
        name = "Nodes",
        type_ = "integer",
        json_path = ".spec.consolidation.currentNodes"
    ),
    printcolumn(
        name = "Required",
        type_ = "integer",
        json_path = ".spec.consolidation.requiredNodes"
    ),
    printcolumn(
        name = "Lower bound",
        type_ = "integer",
        json_path = ".spec.consolidation.lowerBound"
    ),
    printcolumn(
        name = "Savings",
        type_ = "number",
        json_path = ".spec.consolidation.estimatedSavings"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct OptimizationReportSpec {
    /// The [`OptimizationConfig`] the report was made for.
    pub config: String,
    /// When the analysis ran (RFC 3339).
    pub generated_at: String,
    /// One paragraph for people.
    #[serde(default)]
    pub summary: String,
    /// Nodes now, needed, and the savings.
    #[serde(default)]
    pub consolidation: Consolidation,
    /// Workloads that request much more than they use.
    #[serde(default)]
    pub over_provisioned_workloads: Vec<OverProvisioned>,
    /// Advice, one line each.
    #[serde(default)]
    pub recommendations: Vec<String>,
    /// Why each kept node stays.
    #[serde(default)]
    pub blockers: Vec<Blocker>,
}

/// Reports are written whole; the status only marks them read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OptimizationReportStatus {
    /// `Current` for the config's last report, `Superseded` for older ones.
    #[serde(default)]
    pub phase: String,
}

/// The three definitions, in the order `kube-compactor crds` prints them.
///
/// # Examples
/// ```
/// let crds = compactor_kube::crd::crds();
/// let names: Vec<_> = crds.iter().map(|c| c.metadata.name.clone().unwrap()).collect();
/// assert_eq!(names, ["optimizationconfigs.optimizer.io", "migrationplans.optimizer.io",
///                    "optimizationreports.optimizer.io"]);
/// ```
///
/// # Complexity
/// O(size of the schemas).
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        OptimizationConfig::crd(),
        MigrationPlan::crd(),
        OptimizationReport::crd(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(crd: &CustomResourceDefinition) -> serde_json::Value {
        serde_json::to_value(&crd.spec.versions[0].schema).unwrap()
    }

    #[test]
    fn definitions_have_status_columns_and_scope() {
        for crd in crds() {
            let v = &crd.spec.versions[0];
            assert_eq!(v.name, "v1alpha1");
            assert!(v.served && v.storage);
            assert!(
                v.subresources
                    .as_ref()
                    .and_then(|s| s.status.as_ref())
                    .is_some()
            );
            assert!(
                v.additional_printer_columns
                    .as_ref()
                    .is_some_and(|c| c.len() >= 4)
            );
        }
        let scopes: Vec<_> = crds().iter().map(|c| c.spec.scope.clone()).collect();
        assert_eq!(scopes, ["Cluster", "Namespaced", "Namespaced"]);
    }

    #[test]
    fn config_schema_carries_defaults_and_rules() {
        let s = schema(&OptimizationConfig::crd()).to_string();
        for needle in [
            r#""rule":"self.mode != 'full-auto' || self.confirmFullAuto""#,
            "start must be HH:MM",
            "timeZone must be an IANA zone name",
            "schedule must be a five-field cron expression",
            r#""default":"0 * * * *""#,
            r#""default":["kube-system","kube-public","kube-node-lease"]"#,
            r#""enum":["observe","manual","semi-auto","full-auto"]"#,
        ] {
            assert!(s.contains(needle), "{needle} not in {s}");
        }
    }

    #[test]
    fn specs_round_trip_in_camel_case() {
        let spec: OptimizationConfigSpec = serde_json::from_value(serde_json::json!({
            "mode": "full-auto", "confirmFullAuto": true,
            "safeWindows": [{"start": "22:00", "end": "04:00", "days": ["Friday"],
                             "timeZone": "Europe/Paris"}],
            "pricing": [{"instanceType": "m5.xlarge", "hourly": 0.192}]
        }))
        .unwrap();
        assert_eq!(spec.mode, Mode::FullAuto);
        assert_eq!(spec.safe_windows[0].days, [Day::Friday]);
        assert!(spec.consolidation_enabled && spec.right_sizing_enabled);
        let back = serde_json::to_value(&spec).unwrap();
        assert_eq!(back["safeWindows"][0]["timeZone"], "Europe/Paris");
        assert!(
            serde_json::from_value::<OptimizationConfigSpec>(serde_json::json!({"mode": "yolo"}))
                .is_err()
        );
    }
}
