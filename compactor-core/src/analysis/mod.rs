//! Cluster analysis (DESIGN §3, §8): utilisation, waste, over-provisioned workloads,
//! right-sizing recommendations, cost, and a **what-if** plan with right-sized requests.
//!
//! Report only: nothing here changes a cluster. [`analyze`] reads a [`Snapshot`] (with
//! optional usage: [`crate::model::PodSpec::usage`], [`crate::model::PodSpec::usage_samples`],
//! [`crate::model::NodeSpec::usage`]) and returns an [`Analysis`]. Unknown usage stays unknown
//! (`None`), never zero.
//!
//! The rules, each documented on its item:
//! - utilisation per node and for the cluster, per dimension ([`ResourceFigures`]); idle nodes
//!   ([`NodeAnalysis::idle`]); fragmentation ([`Fragmentation`]); the efficiency score
//!   ([`Efficiency`]);
//! - over-provisioned workloads and right-sizing ([`WorkloadAnalysis`], [`recommend`]);
//! - the what-if ([`WhatIf`], [`rightsized_spec`]).
//!
//! ```
//! use compactor_core::{Snapshot, analysis::{analyze, AnalysisOptions}, model::*, resources::ResourceList};
//! let node = |n: &str| NodeSpec { name: n.into(), allocatable: ResourceList::new().with("cpu", 4000).with("memory", 16 << 30), ready: true, ..Default::default() };
//! let pod = |n: &str, on: &str, used_cpu: u64| PodSpec {
//!     namespace: "shop".into(), name: n.into(), node_name: Some(on.into()),
//!     owner: Some(OwnerRef { kind: "Deployment".into(), name: "web".into() }),
//!     containers: vec![ContainerSpec { name: "app".into(), requests: ResourceList::new().with("cpu", 2000).with("memory", 4 << 30) }],
//!     usage: Some(ResourceList::new().with("cpu", used_cpu).with("memory", 1 << 30)),
//!     ..Default::default() };
//! let snap = Snapshot::new(SnapshotSpec { nodes: vec![node("a"), node("b")], pods: vec![pod("w1", "a", 200), pod("w2", "b", 300)], pdbs: vec![], ..Default::default() }).unwrap();
//! let a = analyze(&snap, &AnalysisOptions::default()).unwrap();
//! assert!(a.workloads[0].over_provisioned);              // 500m used of 4000m requested
//! assert_eq!(a.workloads[0].cpu.as_ref().unwrap().recommended, 450); // 300m × 1.5
//! assert!(a.plan.drain.is_empty());                       // 2 CPU + 2 CPU > 70 % of 4 CPU
//! let what_if = a.what_if.unwrap();
//! assert_eq!(what_if.additional_nodes_freed, 1);          // after right-sizing one node goes
//! ```

mod rightsizing;
mod utilization;
mod whatif;

pub use rightsizing::{
    Method, WorkloadAnalysis, WorkloadDimension, percentile, recommend, rightsized_spec,
    set_running_request,
};
pub use utilization::{
    ClusterAnalysis, Efficiency, Fragmentation, NodeAfter, NodeAnalysis, ResourceFigures,
};
pub use whatif::WhatIf;

use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::plan::{Plan, PlanOptions, plan};
use crate::snapshot::Snapshot;

/// Analyzer options. The defaults are the documented ones.
///
/// # Examples
/// ```
/// let o = compactor_core::analysis::AnalysisOptions::default();
/// assert_eq!((o.over_provisioned_percent, o.percentile, o.margin_percent), (30, 90, 15));
/// assert_eq!((o.single_point_percent, o.min_cpu_millicores, o.min_memory_bytes), (150, 10, 32 << 20));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct AnalysisOptions {
    /// Options of the plans (current and what-if), including pricing.
    #[serde(default)]
    pub plan: PlanOptions,
    /// A workload is over-provisioned in a dimension when its usage is below this percentage
    /// of its requests (or of its limits, where set). Default 30.
    #[serde(default = "d30")]
    pub over_provisioned_percent: u32,
    /// Percentile of the usage history recommended (with two or more samples). Default 90.
    #[serde(default = "d90")]
    pub percentile: u32,
    /// Margin added to the percentile, in percent. Default 15 (p90 + 15 %, as the Vertical
    /// Pod Autoscaler's recommender does).
    #[serde(default = "d15")]
    pub margin_percent: u32,
    /// With a single usage point, the recommendation is usage × this / 100. Default 150.
    #[serde(default = "d150")]
    pub single_point_percent: u32,
    /// Smallest CPU recommendation, millicores. Default 10.
    #[serde(default = "d10")]
    pub min_cpu_millicores: u64,
    /// Smallest memory recommendation, bytes. Default 32 MiB.
    #[serde(default = "d32mi")]
    pub min_memory_bytes: u64,
}

fn d30() -> u32 {
    30
}
fn d90() -> u32 {
    90
}
fn d15() -> u32 {
    15
}
fn d150() -> u32 {
    150
}
fn d10() -> u64 {
    10
}
fn d32mi() -> u64 {
    32 << 20
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        Self {
            plan: PlanOptions::default(),
            over_provisioned_percent: d30(),
            percentile: d90(),
            margin_percent: d15(),
            single_point_percent: d150(),
            min_cpu_millicores: d10(),
            min_memory_bytes: d32mi(),
        }
    }
}

impl AnalysisOptions {
    /// Checks the options.
    ///
    /// # Errors
    /// [`CoreError::InvalidOption`] when `percentile` or `overProvisionedPercent` is not in
    /// 1..=100, `singlePointPercent` is below 100, `marginPercent` is above 1000, or the
    /// pricing is invalid.
    pub fn validate(&self) -> Result<(), CoreError> {
        let bad = |field: &str, message: String| {
            Err(CoreError::InvalidOption {
                field: field.to_owned(),
                message,
            })
        };
        if !(1..=100).contains(&self.percentile) {
            return bad(
                "analysis.percentile",
                format!("{} is not in 1..=100", self.percentile),
            );
        }
        if !(1..=100).contains(&self.over_provisioned_percent) {
            return bad(
                "analysis.overProvisionedPercent",
                format!("{} is not in 1..=100", self.over_provisioned_percent),
            );
        }
        if self.single_point_percent < 100 {
            return bad(
                "analysis.singlePointPercent",
                format!(
                    "{} is below 100 (a recommendation below the observed usage)",
                    self.single_point_percent
                ),
            );
        }
        if self.margin_percent > 1000 {
            return bad(
                "analysis.marginPercent",
                format!("{} is above 1000", self.margin_percent),
            );
        }
        self.plan.pricing.validate()
    }
}

/// Everything the analyzer finds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Analysis {
    /// Cluster totals, fragmentation, efficiency, cost.
    pub cluster: ClusterAnalysis,
    /// Every node, by name.
    pub nodes: Vec<NodeAnalysis>,
    /// Every workload with measured usage, by namespace, kind, name.
    pub workloads: Vec<WorkloadAnalysis>,
    /// The consolidation plan with the current requests.
    pub plan: Plan,
    /// The plan with right-sized requests; `None` when no pod has usage.
    pub what_if: Option<WhatIf>,
}

impl Analysis {
    /// The over-provisioned workloads (a filter of [`Analysis::workloads`]).
    pub fn over_provisioned(&self) -> impl Iterator<Item = &WorkloadAnalysis> {
        self.workloads.iter().filter(|w| w.over_provisioned)
    }
}

/// Analyzes `snapshot`: utilisation, idle nodes, fragmentation, efficiency, cost, workloads
/// with usage (over-provisioning and recommendations), the current plan, and the what-if plan
/// with recommended requests.
///
/// # Examples
/// See the [module documentation](self).
///
/// # Errors
/// [`CoreError::InvalidOption`] for invalid options ([`AnalysisOptions::validate`]); any
/// error of [`Snapshot::new`] for the right-sized snapshot ([`CoreError::Overflow`] when a
/// recommendation makes a sum overflow).
///
/// # Complexity
/// Two calls of [`plan`] plus O((N + P) · d + P · (S log S + containers)) for S usage samples
/// per pod.
pub fn analyze(snapshot: &Snapshot, options: &AnalysisOptions) -> Result<Analysis, CoreError> {
    options.validate()?;
    let current = plan(snapshot, &options.plan)?;
    let used_now = utilization::node_usage(snapshot);
    let after_plan = whatif::after_plan(snapshot, &current, &used_now);
    let workloads = rightsizing::workloads(snapshot, options);

    let (what_if, after_what_if) = if workloads.is_empty() {
        (None, None)
    } else {
        let spec = rightsized_spec(snapshot, &workloads);
        let rightsized = Snapshot::new(spec)?;
        let what_if_plan = plan(&rightsized, &options.plan)?;
        let after = whatif::after_plan(&rightsized, &what_if_plan, &used_now);
        (
            Some(whatif::summarize(
                snapshot,
                &rightsized,
                &current,
                &what_if_plan,
            )),
            Some(after),
        )
    };

    let nodes = utilization::nodes(
        snapshot,
        &options.plan.pricing,
        &used_now,
        after_plan,
        after_what_if,
    );
    let cluster = utilization::cluster(snapshot, &nodes);
    Ok(Analysis {
        cluster,
        nodes,
        workloads,
        plan: current,
        what_if,
    })
}
