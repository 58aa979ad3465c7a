//! Node-centric consolidation planning (DESIGN §5–§8).
//!
//! Eviction cannot target a node, so the planner chooses a set of nodes to drain such that all
//! their movable pods fit on the nodes that stay; pods on kept nodes stay where they are.
//! See [`plan`] for the algorithm.

mod blockers;
pub(crate) mod interpod;
mod part;
mod placement;
mod planner;
mod predict;
mod profile;
mod scheduler;
mod waves;

pub use blockers::{PodDisposition, classify_pod};
pub use planner::plan;
pub use predict::{PodPrediction, predict_pending, predict_pods};
pub use profile::{
    DEFAULT_SCHEDULER, FitScoring, FitStrategy, ResourceWeight, SchedulerConfig, SchedulerProfile,
    ScoreWeights, ShapePoint,
};

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::cost::{PriceSource, Pricing};
use crate::packing::StrategyKind;
use crate::resources::ResourceList;
use crate::risk::Risk;
use crate::safety::{SafetyLevel, Thresholds};

/// Namespaces excluded by default (the OptimizationConfig default).
pub const DEFAULT_EXCLUDED_NAMESPACES: [&str; 3] =
    ["kube-system", "kube-public", "kube-node-lease"];

/// Planner options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct PlanOptions {
    /// Packing rule used to decide whether a node's pods fit on the kept nodes.
    #[serde(default)]
    pub strategy: StrategyKind,
    /// Safety threshold (utilisation cap of receiving nodes, wave size).
    #[serde(default)]
    pub safety: SafetyLevel,
    /// Pods in these namespaces block draining their node.
    #[serde(default = "default_excluded")]
    pub excluded_namespaces: BTreeSet<String>,
    /// Node pricing.
    #[serde(default)]
    pub pricing: Pricing,
    /// Seed of the `search` strategy's random choices.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Traffic between pods (bytes per second): the `network-aware` strategy packs by it,
    /// and every plan reports cross-node traffic before and after when it is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<crate::traffic::TrafficSpec>,
    /// Edges below this rate (bytes per second) do not join pods into groups (they still
    /// count in the traffic figures). Default 0: every edge counts.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub traffic_threshold: f64,
    /// The cluster's kube-scheduler configuration, which the prediction follows: its
    /// profiles' scoring and `percentageOfNodesToScore` (see [`SchedulerConfig`]). Default:
    /// kube-scheduler's default profile.
    #[serde(default, skip_serializing_if = "SchedulerConfig::is_default")]
    pub scheduler: SchedulerConfig,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

fn default_seed() -> u64 {
    1
}

fn default_excluded() -> BTreeSet<String> {
    DEFAULT_EXCLUDED_NAMESPACES
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

/// Builder methods: `PlanOptions` may grow (it is `#[non_exhaustive]`), so outside this crate
/// it is made from [`PlanOptions::default`] and these, or by assigning fields.
///
/// ```
/// use compactor_core::{PlanOptions, packing::StrategyKind, safety::SafetyLevel};
/// let o = PlanOptions::default().with_strategy(StrategyKind::FirstFit).with_safety(SafetyLevel::Aggressive);
/// assert_eq!((o.strategy, o.safety), (StrategyKind::FirstFit, SafetyLevel::Aggressive));
/// ```
impl PlanOptions {
    /// With packing rule `strategy`.
    #[must_use]
    pub fn with_strategy(mut self, strategy: StrategyKind) -> Self {
        self.strategy = strategy;
        self
    }

    /// With safety threshold `safety`.
    #[must_use]
    pub fn with_safety(mut self, safety: SafetyLevel) -> Self {
        self.safety = safety;
        self
    }

    /// With these excluded namespaces (instead of the default three).
    #[must_use]
    pub fn with_excluded_namespaces(mut self, namespaces: BTreeSet<String>) -> Self {
        self.excluded_namespaces = namespaces;
        self
    }

    /// With node pricing `pricing`.
    #[must_use]
    pub fn with_pricing(mut self, pricing: Pricing) -> Self {
        self.pricing = pricing;
        self
    }

    /// With seed `seed` for the `search` strategy.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// With traffic data (or none).
    #[must_use]
    pub fn with_traffic(mut self, traffic: Option<crate::traffic::TrafficSpec>) -> Self {
        self.traffic = traffic;
        self
    }

    /// With traffic groups formed only by edges at or above `bytes_per_second`.
    #[must_use]
    pub fn with_traffic_threshold(mut self, bytes_per_second: f64) -> Self {
        self.traffic_threshold = bytes_per_second;
        self
    }

    /// With the cluster's kube-scheduler `percentageOfNodesToScore` (0: adaptive), for
    /// profiles that set none of their own.
    #[must_use]
    pub fn with_percentage_of_nodes_to_score(mut self, percent: u32) -> Self {
        self.scheduler.percentage_of_nodes_to_score = percent;
        self
    }

    /// With the cluster's kube-scheduler configuration `scheduler`.
    #[must_use]
    pub fn with_scheduler(mut self, scheduler: SchedulerConfig) -> Self {
        self.scheduler = scheduler;
        self
    }
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            strategy: StrategyKind::default(),
            safety: SafetyLevel::default(),
            excluded_namespaces: default_excluded(),
            pricing: Pricing::default(),
            seed: default_seed(),
            traffic: None,
            traffic_threshold: 0.0,
            scheduler: SchedulerConfig::default(),
        }
    }
}

/// Why a pod blocks draining its node, or why a node is kept (DESIGN §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ReasonCode {
    /// Mirror pod of a static pod: the Eviction API cannot evict it.
    MirrorPod,
    /// Opt-out annotation (`optimizer.io/exclude`, `safe-to-evict: "false"`, `do-not-disrupt`).
    OptOut,
    /// The pod's namespace is excluded by the configuration.
    NamespaceExcluded,
    /// No controller owner: nothing would recreate the pod.
    NoController,
    /// system-cluster-critical or system-node-critical priority.
    SystemCritical,
    /// kube-system pod without a PodDisruptionBudget.
    KubeSystemNoPdb,
    /// hostPath or disk-backed emptyDir data would be lost.
    LocalStorage,
    /// The input leaves out what deciding needs (a pod's PersistentVolumeClaim or its
    /// volume): in doubt, the pod stays.
    MissingInput,
    /// Covered by more than one PodDisruptionBudget (the Eviction API answers 500).
    MultiplePdbs,
    /// Its PodDisruptionBudget allows no disruption now.
    PdbExhausted,
    /// The node's pods do not fit on the kept nodes under the cap.
    NoFit,
    /// kube-scheduler would place a pod beyond the cap (or nowhere).
    SchedulerOverCap,
    /// kube-scheduler's predicted choice for a moved pod is a node the plan may not use: one
    /// being drained (a pod that tolerates `node.kubernetes.io/unschedulable` can land on a
    /// cordoned node), one cordoned by someone else, or one whose `NoExecute` taint the pod
    /// tolerates only for `tolerationSeconds`.
    SchedulerOffPlan,
    /// Node annotated `optimizer.io/exclude: "true"`.
    NodeExcluded,
    /// Node is not Ready.
    NodeNotReady,
    /// Node is cordoned (by someone else).
    NodeCordoned,
    /// The node's pods request more than its allocatable (input no kubelet would run): its
    /// pods fit nowhere as the input states them, so it stays.
    NodeOverCommitted,
    /// The last node of the cluster: a plan never drains every node.
    LastNode,
    /// The pod names a scheduler (`schedulerName`) the prediction does not model: where
    /// its replacement would go is unknown, so it stays.
    SchedulerNotModelled,
    /// A drain node of the whole plan that this part of it ([`Plan::part`]) leaves alone:
    /// drained by an earlier part, or waiting for its approval or a safe window.
    OtherPart,
}

impl ReasonCode {
    /// The kebab-case code as printed and serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::MirrorPod => "mirror-pod",
            ReasonCode::OptOut => "opt-out",
            ReasonCode::NamespaceExcluded => "namespace-excluded",
            ReasonCode::NoController => "no-controller",
            ReasonCode::SystemCritical => "system-critical",
            ReasonCode::KubeSystemNoPdb => "kube-system-no-pdb",
            ReasonCode::LocalStorage => "local-storage",
            ReasonCode::MultiplePdbs => "multiple-pdbs",
            ReasonCode::PdbExhausted => "pdb-exhausted",
            ReasonCode::NoFit => "no-fit",
            ReasonCode::SchedulerOverCap => "scheduler-over-cap",
            ReasonCode::SchedulerOffPlan => "scheduler-off-plan",
            ReasonCode::MissingInput => "missing-input",
            ReasonCode::NodeExcluded => "node-excluded",
            ReasonCode::NodeNotReady => "node-not-ready",
            ReasonCode::NodeCordoned => "node-cordoned",
            ReasonCode::NodeOverCommitted => "node-over-committed",
            ReasonCode::LastNode => "last-node",
            ReasonCode::SchedulerNotModelled => "scheduler-not-modelled",
            ReasonCode::OtherPart => "other-part",
        }
    }

    /// What the code means, in one line for people (reports, legends).
    ///
    /// ```
    /// use compactor_core::plan::ReasonCode;
    /// assert_eq!(ReasonCode::NodeNotReady.meaning(), "the node is not Ready");
    /// ```
    pub fn meaning(self) -> &'static str {
        match self {
            ReasonCode::MirrorPod => {
                "a static (mirror) pod runs there: the Eviction API cannot evict it"
            }
            ReasonCode::OptOut => {
                "a pod opts out of eviction (optimizer.io/exclude, safe-to-evict: false, do-not-disrupt)"
            }
            ReasonCode::NamespaceExcluded => "a pod runs in an excluded namespace",
            ReasonCode::NoController => "a pod has no controller: nothing would recreate it",
            ReasonCode::SystemCritical => "a system-critical pod runs there",
            ReasonCode::KubeSystemNoPdb => "a kube-system pod has no PodDisruptionBudget",
            ReasonCode::LocalStorage => "a pod keeps data on the node (hostPath, disk emptyDir)",
            ReasonCode::MissingInput => {
                "a pod's volume claim or volume is missing from the input: in doubt, it stays"
            }
            ReasonCode::MultiplePdbs => {
                "a pod is covered by several PodDisruptionBudgets (eviction fails)"
            }
            ReasonCode::PdbExhausted => "a pod's PodDisruptionBudget allows no disruption now",
            ReasonCode::NoFit => "its pods fit on no node that stays, under the safety cap",
            ReasonCode::SchedulerOverCap => {
                "kube-scheduler would put a moved pod over the cap: cordoned while the plan runs"
            }
            ReasonCode::SchedulerOffPlan => {
                "kube-scheduler would put a moved pod where the plan may not: cordoned while the plan runs"
            }
            ReasonCode::NodeExcluded => "the node is annotated optimizer.io/exclude",
            ReasonCode::NodeNotReady => "the node is not Ready",
            ReasonCode::NodeCordoned => "the node is cordoned by someone else",
            ReasonCode::NodeOverCommitted => "its pods request more than the node's allocatable",
            ReasonCode::LastNode => "the last node: a plan never drains every node",
            ReasonCode::SchedulerNotModelled => {
                "a pod names a scheduler the prediction does not model"
            }
            ReasonCode::OtherPart => "drained by another part of the plan",
        }
    }
}

/// A reason with its plain-words explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Reason {
    /// Machine-readable code.
    pub code: ReasonCode,
    /// Explanation naming the objects involved.
    pub message: String,
}

/// A pod that blocks draining its node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BlockingPod {
    /// `namespace/name`.
    pub pod: String,
    /// Why it blocks.
    pub reason: Reason,
}

/// A node that stays, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct KeptNode {
    /// Node name.
    pub node: String,
    /// The deciding reason: a node rule, else the blocking pod whose rule comes first in
    /// DESIGN §6 order, else the fit failure.
    pub reason: Reason,
    /// Every pod that blocks the node, in pod order (empty for node-level and fit reasons).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocking_pods: Vec<BlockingPod>,
    /// Pods this node is predicted to receive.
    pub receives: u32,
}

/// A node the plan drains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DrainedNode {
    /// Node name.
    pub node: String,
    /// Pods evicted from it.
    pub evicted_pods: u32,
    /// DaemonSet pods that go away with the node (not moved).
    pub daemon_set_pods: u32,
    /// Hourly price saved.
    pub hourly_price: f64,
    /// Where the price came from.
    pub price_source: PriceSource,
}

/// The workload a moved pod belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WorkloadRef {
    /// Kind (Deployment, StatefulSet, …).
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// One planned eviction and its predicted landing node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Move {
    /// Pod namespace.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Owning workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadRef>,
    /// The node being drained.
    pub from_node: String,
    /// Where kube-scheduler is predicted to place the replacement.
    pub to_node: String,
    /// Other nodes that tie with `to_node` for kube-scheduler's top score: it picks among
    /// them at random, so the replacement may land on any of them (the cap was checked on
    /// every one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tied_with: Vec<String>,
    /// Kept nodes to cordon right before this eviction (and uncordon when the plan is done):
    /// kube-scheduler would put the replacement there (or could, on a tie) over the safety
    /// cap, so the plan steers it off them; `toNode` is the prediction with them cordoned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cordon_first: Vec<String>,
    /// Wave (1-based): evictions of wave k+1 start after wave k's replacements are Ready.
    pub wave: u32,
    /// Risk of the move.
    pub risk: Risk,
    /// Why the pod moves.
    pub reason: String,
}

/// A wave of evictions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Wave {
    /// 1-based index.
    pub index: u32,
    /// Nodes whose pods are evicted in this wave.
    pub nodes: Vec<String>,
    /// Evictions in this wave.
    pub evictions: u32,
}

/// A lower bound on the number of nodes the cluster needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LowerBound {
    /// No valid packing keeps fewer nodes.
    pub nodes: u32,
    /// Which bound this is.
    pub method: String,
    /// The dimension that decides it.
    pub binding_dimension: String,
}

/// Cluster figures before and after the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Summary {
    /// Nodes in the snapshot.
    pub nodes: u32,
    /// Nodes after the plan.
    pub nodes_after: u32,
    /// Running (bound, non-terminal) pods.
    pub pods: u32,
    /// Pods not bound to a node (not planned).
    pub unscheduled_pods: u32,
    /// Predictions where kube-scheduler's top score ties between several nodes.
    #[serde(default)]
    pub tied_predictions: u32,
    /// Nodes kept beyond the cap-aware lower bound (`nodesAfter − capLowerBound.nodes`):
    /// what a perfect plan at this threshold could still save, at most.
    #[serde(default)]
    pub gap_nodes: u32,
    /// `gapNodes` as a percentage of the cap-aware lower bound.
    #[serde(default)]
    pub gap_percent: f64,
    /// Sum of allocatable over all nodes.
    pub allocatable: ResourceList,
    /// Sum of requests of bound, non-terminal pods.
    pub requested: ResourceList,
    /// Hourly price of all nodes.
    pub hourly_cost: f64,
}

/// Money the plan saves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Savings {
    /// Dollars per hour.
    pub hourly: f64,
    /// Dollars per month (hourly × 730).
    pub monthly: f64,
    /// `monthly` for people (`$1,234.56`).
    pub formatted: String,
}

/// A consolidation plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Plan {
    /// Strategy used.
    pub strategy: StrategyKind,
    /// Safety threshold used.
    pub thresholds: Thresholds,
    /// Cluster figures.
    pub summary: Summary,
    /// Nodes to drain, in drain order.
    pub drain: Vec<DrainedNode>,
    /// Nodes that stay but are cordoned with the drained ones while the plan runs, and
    /// uncordoned when it is done: drain candidates one of whose replacements kube-scheduler
    /// would put where the plan may not (over the cap, on a node the plan may not use, or
    /// nowhere). Every prediction is made with them cordoned, so the executor cordons them
    /// too. Each is in `kept` with its reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cordon_only: Vec<String>,
    /// Evictions in eviction order.
    pub moves: Vec<Move>,
    /// Waves of evictions.
    pub waves: Vec<Wave>,
    /// Every node that stays, with its reason, by name.
    pub kept: Vec<KeptNode>,
    /// Lower bound on nodes needed, over allocatable (valid for every threshold).
    pub lower_bound: LowerBound,
    /// Lower bound on nodes needed at this plan's safety cap (at least `lower_bound`); the
    /// gap between it and the nodes kept is in `summary`. Absent in plans of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_lower_bound: Option<LowerBound>,
    /// Money saved.
    pub savings: Savings,
    /// Cross-node traffic before and after the plan, when traffic data was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<TrafficSummary>,
    /// Things the reader should know about how the plan was made (e.g. a strategy that fell
    /// back to best fit).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The kube-scheduler configuration the predictions follow (absent: kube-scheduler's
    /// default), so that checking and applying the plan predict as planning did.
    #[serde(default, skip_serializing_if = "SchedulerConfig::is_default")]
    pub scheduler: SchedulerConfig,
}

/// Cross-node traffic of the cluster as it is, after the plan as kube-scheduler is predicted
/// to place the evicted pods, and as the strategy's packing placed them (the placement the
/// drain decision rests on; kube-scheduler, not the plan, decides where pods land).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TrafficSummary {
    /// Now.
    pub before: crate::traffic::TrafficReport,
    /// After the plan, at the predicted landing nodes (`toNode`).
    pub after: crate::traffic::TrafficReport,
    /// After the plan, at the nodes the strategy's packing chose.
    pub packed: crate::traffic::TrafficReport,
    /// Traffic groups (pods joined by edges at or above the threshold).
    pub groups: usize,
}
