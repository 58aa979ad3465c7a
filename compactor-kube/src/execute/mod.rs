//! The executor: carries a plan out on a live cluster (DESIGN §11, docs/decisions.md "Cycles,
//! waves and cordons" and "Executing a plan").
//!
//! Computing what to do is kept apart from doing it: [`steps`] and [`dry_run`] are pure (the
//! plan in, the ordered steps and their exact [`ApiCall`]s out); [`execute`] performs them
//! against the API server after re-validating the plan against a fresh snapshot
//! ([`revalidate`]).
//!
//! Safety rules, all enforced here:
//! - a plan that no longer holds (a node or pod gone or changed, a budget that no longer
//!   allows it, a move that no longer fits) is refused with every reason;
//! - every cordon carries the [`CORDONED_BY`] marker and only nodes carrying this plan's
//!   marker are ever uncordoned;
//! - pods are evicted through policy/v1 `Eviction`, never deleted; 429 backs off with jitter
//!   until a deadline, 404 counts as done, 409 re-reads the pod, a pod under several budgets
//!   (500) blocks;
//! - the threshold's evictions in flight and per minute are respected, and after each wave the
//!   executor waits until every replacement is scheduled and Ready; a replacement that cannot
//!   be scheduled, a blocked eviction or a passed deadline stops it and uncordons what it
//!   cordoned;
//! - each eviction is recorded on its node ([`EVICTIONS`]) before it is made, so a rerun after
//!   a crash continues where the first run stopped and never evicts a pod twice.

mod run;
mod steps;

pub use run::{
    Event, EvictionVerdict, ExecuteOptions, Fidelity, Landing, Outcome, Report, eviction_verdict,
    execute, revalidate,
};
pub use steps::{
    ApiCall, CORDONED_BY, CordonReason, EVICTIONS, Step, cordon, dry_run, evict, get_node,
    list_pods, marker, plan_id, record_evictions, recorded_evictions, steps, uncordon,
};
