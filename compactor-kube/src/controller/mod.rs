//! The controller (DESIGN §10): a kube-runtime controller on [`OptimizationConfig`].
//!
//! For each config, on every change of it or of its MigrationPlans, and when its schedule, a
//! plan's expiry or a safe window is due, [`reconcile`]:
//! 1. moves each open [`MigrationPlan`] on: a part started and not finished is resumed
//!    (`status.executingNodes`; the executor's eviction records make the rerun evict nothing
//!    twice); a cancelled plan ends `Cancelled`, an expired one `Expired`; otherwise
//!    [`executable`] picks the part that may run now by mode, approvals, threshold and safe
//!    window ([`crate::modes`]), which the executor carries out ([`crate::execute`]) while the
//!    plan's status counts up;
//! 2. analyses when the schedule says so (or the spec changed): reads the cluster, writes an
//!    [`OptimizationReport`] (keeping the last `reportHistory`), and in the acting modes,
//!    when no plan of the config is open, a new MigrationPlan holding the plan itself;
//! 3. records figures in the config's status and metrics, and Events on the config and plans
//!    (`AnalysisCompleted`, `MigrationPlanCreated`, `MigrationStarted`, `MigrationCompleted`,
//!    `MigrationFailed`, `MigrationCancelled`, `MigrationPlanExpired`, `InvalidSchedule`).
//!
//! Only one replica acts: the binary holds a Lease ([`crate::lease`]) while [`run`] runs.
//!
//! [`OptimizationConfig`]: crate::crd::OptimizationConfig
//! [`MigrationPlan`]: crate::crd::MigrationPlan
//! [`OptimizationReport`]: crate::crd::OptimizationReport

mod gate;
mod objects;
mod reconcile;
mod telemetry;

pub use gate::{Gate, NODE_APPROVAL, executable};
pub use objects::{MAX_PLAN_BYTES, MAX_REPORT_ITEMS, analysis_options, migration_plan, report};
pub use reconcile::{CONFIG_LABEL, Context, error_policy, reconcile, run};
pub use telemetry::Telemetry;
