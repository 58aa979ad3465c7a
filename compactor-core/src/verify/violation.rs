//! What the checker reports: one typed violation per broken promise, naming the objects and
//! the rule.

use serde::Serialize;

/// A pod-level rule of DESIGN §6 (or a pod the plan may not move at all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PodRule {
    /// A mirror pod of a static pod: the Eviction API cannot remove it.
    MirrorPod,
    /// A DaemonSet pod: it goes away with its node and is never moved.
    DaemonSet,
    /// A Succeeded or Failed pod: nothing to move.
    Terminal,
    /// A terminating pod: it goes away by itself and is not evicted.
    Terminating,
    /// A pod not bound to any node: nothing to evict.
    NotBound,
    /// An opt-out annotation.
    OptOut {
        /// The annotation key.
        annotation: String,
        /// Its value.
        value: String,
    },
    /// The pod's namespace is excluded by the configuration.
    NamespaceExcluded,
    /// No controller owner and no `safe-to-evict: "true"`.
    NoController,
    /// System-critical priority.
    SystemCritical,
    /// A kube-system pod that no PodDisruptionBudget covers.
    KubeSystemWithoutPdb,
    /// Node-local data (hostPath, or emptyDir not backed by memory).
    LocalStorage {
        /// The volume.
        volume: String,
    },
    /// A PersistentVolumeClaim whose volume the input does not resolve.
    UnresolvedClaim {
        /// The pod volume.
        volume: String,
        /// Why it is not resolved.
        why: String,
    },
    /// A required pod (anti-)affinity term that selects namespaces by label, judged without
    /// the labels of a namespace.
    NamespaceLabelsMissing {
        /// The namespace whose labels the input lacks.
        namespace: String,
    },
    /// A CSI volume, and a node whose CSINode (attach limits) the input lacks.
    AttachLimitUnknown {
        /// The pod volume.
        volume: String,
        /// Its CSI driver.
        driver: String,
        /// A node without a CSINode in the input.
        node: String,
    },
    /// Placed by a scheduler the prediction does not model.
    SchedulerNotModelled {
        /// Its `schedulerName`.
        scheduler: String,
    },
    /// Covered by more than one PodDisruptionBudget: the Eviction API answers 500.
    SeveralPdbs {
        /// The budgets, `namespace/name`.
        pdbs: Vec<String>,
    },
    /// Its only PodDisruptionBudget allows no disruption.
    BudgetExhausted {
        /// The budget, `namespace/name`.
        pdb: String,
    },
}

impl std::fmt::Display for PodRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MirrorPod => f.write_str("it is a mirror pod of a static pod"),
            Self::DaemonSet => f.write_str("it is a DaemonSet pod"),
            Self::Terminal => f.write_str("it has terminated"),
            Self::Terminating => f.write_str("it is terminating"),
            Self::NotBound => f.write_str("it is bound to no node"),
            Self::OptOut { annotation, value } => {
                write!(f, "it opts out with annotation {annotation}: \"{value}\"")
            }
            Self::NamespaceExcluded => f.write_str("its namespace is excluded"),
            Self::NoController => f.write_str("it has no controller"),
            Self::SystemCritical => f.write_str("it is system-critical"),
            Self::KubeSystemWithoutPdb => {
                f.write_str("it is a kube-system pod without a PodDisruptionBudget")
            }
            Self::LocalStorage { volume } => write!(f, "it keeps local data in volume {volume}"),
            Self::UnresolvedClaim { volume, why } => {
                write!(
                    f,
                    "the claim of its volume {volume} is not resolved ({why})"
                )
            }
            Self::NamespaceLabelsMissing { namespace } => write!(
                f,
                "its required pod affinity depends on the labels of namespace {namespace}, which the input lacks"
            ),
            Self::AttachLimitUnknown {
                volume,
                driver,
                node,
            } => write!(
                f,
                "its volume {volume} uses CSI driver {driver}, and the input has no CSINode for node {node}"
            ),
            Self::SchedulerNotModelled { scheduler } => write!(
                f,
                "it is placed by scheduler {scheduler:?}, which the prediction does not model"
            ),
            Self::SeveralPdbs { pdbs } => write!(
                f,
                "it is covered by several PodDisruptionBudgets ({})",
                pdbs.join(", ")
            ),
            Self::BudgetExhausted { pdb } => {
                write!(f, "its PodDisruptionBudget {pdb} allows no disruption")
            }
        }
    }
}

/// A node-level rule of DESIGN §6: the node is no drain candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum NodeRule {
    /// Annotated `optimizer.io/exclude: "true"`.
    Excluded,
    /// Not Ready.
    NotReady,
    /// Cordoned by someone else.
    Cordoned,
    /// Its pods request more than its allocatable of `resource`.
    OverCommitted {
        /// The resource.
        resource: String,
    },
}

impl std::fmt::Display for NodeRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Excluded => f.write_str("it is annotated optimizer.io/exclude: \"true\""),
            Self::NotReady => f.write_str("it is not Ready"),
            Self::Cordoned => f.write_str("it is cordoned by someone else"),
            Self::OverCommitted { resource } => {
                write!(
                    f,
                    "its pods request more {resource} than it has allocatable"
                )
            }
        }
    }
}

/// Why a node cannot take a moved pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "constraint", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Constraint {
    /// The plan drains it (every drained node is cordoned before the first eviction).
    Drained,
    /// The plan keeps it but cordons it while it runs (`cordonOnly`).
    CordonedByPlan,
    /// Not Ready.
    NotReady,
    /// Cordoned by someone else.
    Cordoned,
    /// A `NoSchedule` or `NoExecute` taint the pod does not tolerate.
    UntoleratedTaint {
        /// The taint, `key[=value]:Effect`.
        taint: String,
    },
    /// A `NoExecute` taint the pod tolerates for a while only (`tolerationSeconds`).
    TimedToleration {
        /// The taint.
        taint: String,
        /// The shortest matching `tolerationSeconds`.
        seconds: i64,
    },
    /// A `nodeSelector` entry the node's labels do not match.
    NodeSelector {
        /// Label key.
        key: String,
        /// Wanted value.
        value: String,
    },
    /// No term of the pod's required node affinity holds.
    NodeAffinity,
    /// The volume of a claim cannot be used there.
    VolumeAffinity {
        /// The claim.
        claim: String,
    },
    /// Another pod uses the same host port there after the plan.
    HostPort {
        /// The port.
        port: u16,
        /// Its protocol.
        protocol: String,
        /// The other pod.
        other: String,
    },
    /// The node lacks a topology label a hard rule of the pod needs.
    TopologyLabelMissing {
        /// The key.
        key: String,
    },
    /// A `DoNotSchedule` topology spread constraint would be broken.
    TopologySpread {
        /// Topology key.
        key: String,
        /// The node's domain.
        value: String,
        /// Skew after the move.
        skew: u32,
        /// The constraint's maxSkew.
        max_skew: u32,
    },
    /// No pod the pod's required affinity asks for is in the node's domain.
    PodAffinity {
        /// Topology keys of the unmet terms.
        keys: Vec<String>,
    },
    /// The pod's required anti-affinity excludes a pod in the domain.
    AntiAffinity {
        /// Topology key.
        key: String,
        /// The pod already there.
        other: String,
    },
    /// The required anti-affinity of a pod in the domain excludes the pod.
    ExistingAntiAffinity {
        /// Topology key.
        key: String,
        /// The pod whose term it is.
        other: String,
    },
    /// The node would exceed the safety cap (CPU, memory, ephemeral storage).
    OverCap {
        /// Resource name.
        resource: String,
        /// Requested share after the pod lands, in per mille of allocatable.
        per_mille: u128,
        /// The cap, in percent.
        cap: u32,
    },
    /// The node would exceed its allocatable.
    OverAllocatable {
        /// Resource name.
        resource: String,
    },
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Drained => f.write_str("is drained by the plan"),
            Self::CordonedByPlan => f.write_str("is cordoned by the plan while it runs"),
            Self::NotReady => f.write_str("is not Ready"),
            Self::Cordoned => f.write_str("is cordoned by someone else"),
            Self::UntoleratedTaint { taint } => {
                write!(f, "has taint {taint} that the pod does not tolerate")
            }
            Self::TimedToleration { taint, seconds } => write!(
                f,
                "has taint {taint} that the pod tolerates for {seconds} s only"
            ),
            Self::NodeSelector { key, value } => {
                write!(f, "does not match node selector {key}={value}")
            }
            Self::NodeAffinity => {
                f.write_str("matches no term of the pod's required node affinity")
            }
            Self::VolumeAffinity { claim } => {
                write!(f, "cannot use the volume of claim {claim}")
            }
            Self::HostPort {
                port,
                protocol,
                other,
            } => write!(f, "has pod {other} on host port {port}/{protocol} too"),
            Self::TopologyLabelMissing { key } => write!(f, "lacks topology label {key}"),
            Self::TopologySpread {
                key,
                value,
                skew,
                max_skew,
            } => write!(
                f,
                "breaks topology spread on {key}={value}: skew {skew} > maxSkew {max_skew}"
            ),
            Self::PodAffinity { keys } => write!(
                f,
                "has no pod the pod's required affinity asks for on {}",
                keys.join(", ")
            ),
            Self::AntiAffinity { key, other } => write!(
                f,
                "shares {key} with pod {other}, which the pod's anti-affinity excludes"
            ),
            Self::ExistingAntiAffinity { key, other } => write!(
                f,
                "shares {key} with pod {other}, whose anti-affinity excludes the pod"
            ),
            Self::OverCap {
                resource,
                per_mille,
                cap,
            } => write!(
                f,
                "would be at {}.{} % of allocatable {resource}, over the {cap} % cap",
                per_mille / 10,
                per_mille % 10
            ),
            Self::OverAllocatable { resource } => {
                write!(f, "would exceed its allocatable {resource}")
            }
        }
    }
}

/// One broken promise of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "violation", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Violation {
    /// A node is listed as drained and as kept.
    DrainedAndKept {
        /// The node.
        node: String,
    },
    /// A node is listed neither as drained nor as kept.
    Unaccounted {
        /// The node.
        node: String,
    },
    /// A node the plan lists as cordoned only is drained, or unknown.
    CordonOnlyNotKept {
        /// The node.
        node: String,
    },
    /// A kept node has no reason.
    KeptWithoutReason {
        /// The node.
        node: String,
    },
    /// The plan names a node the snapshot does not hold.
    UnknownNode {
        /// The node.
        node: String,
    },
    /// The plan moves a pod the snapshot does not hold.
    UnknownPod {
        /// `namespace/name`.
        pod: String,
    },
    /// A pod is moved more than once.
    MovedTwice {
        /// `namespace/name`.
        pod: String,
        /// How often.
        times: usize,
    },
    /// A move's `fromNode` is not where the pod is bound.
    WrongSource {
        /// `namespace/name`.
        pod: String,
        /// The move's `fromNode`.
        node: String,
    },
    /// A pod moves off a node the plan does not drain.
    SourceNotDrained {
        /// `namespace/name`.
        pod: String,
        /// The node.
        node: String,
    },
    /// A pod that may not be moved is moved.
    NotMovable {
        /// `namespace/name`.
        pod: String,
        /// Why not.
        rule: PodRule,
    },
    /// A drained node holds a pod that blocks draining it.
    DrainBlocked {
        /// The node.
        node: String,
        /// `namespace/name`.
        pod: String,
        /// The rule.
        rule: PodRule,
    },
    /// A movable pod of a drained node is not moved.
    LeftBehind {
        /// The node.
        node: String,
        /// `namespace/name`.
        pod: String,
    },
    /// A drained node is no drain candidate.
    NodeNotDrainable {
        /// The node.
        node: String,
        /// The rule.
        rule: NodeRule,
    },
    /// A pod's predicted node (or, with `tied`, a node tied with it) cannot take it.
    Placement {
        /// `namespace/name`.
        pod: String,
        /// The node.
        node: String,
        /// Whether `node` is a node tied with the prediction, not `toNode`.
        tied: bool,
        /// Why not.
        constraint: Constraint,
    },
    /// A node that receives pods ends over its safety cap.
    OverCap {
        /// The node.
        node: String,
        /// Resource name.
        resource: String,
        /// Requested share after the plan, in per mille of allocatable.
        per_mille: u128,
        /// The cap, in percent.
        cap: u32,
    },
    /// A node that receives pods ends over its allocatable.
    OverAllocatable {
        /// The node.
        node: String,
        /// Resource name.
        resource: String,
        /// Requested after the plan.
        requested: u128,
        /// Allocatable.
        allocatable: u128,
    },
    /// Moves are not in wave order (waves numbered from 1, never decreasing).
    WaveOrder {
        /// `namespace/name` of the first move out of order.
        pod: String,
        /// Its wave.
        wave: u32,
    },
    /// A wave evicts from more nodes than the threshold allows at once.
    WaveTooWide {
        /// The wave.
        wave: u32,
        /// Nodes it touches.
        nodes: usize,
        /// The threshold's nodes per cycle.
        max: u32,
    },
    /// A wave spends more of a PodDisruptionBudget than it allows.
    BudgetOverspent {
        /// The wave.
        wave: u32,
        /// The budget, `namespace/name`.
        pdb: String,
        /// Evictions under it in the wave.
        evictions: u32,
        /// Its `disruptionsAllowed`.
        allowed: u32,
    },
    /// The plan's list of waves disagrees with its moves.
    WaveList {
        /// The wave.
        wave: u32,
    },
    /// The plan keeps fewer nodes than a lower bound: the plan's own, or the checker's.
    BelowLowerBound {
        /// Nodes kept.
        kept: usize,
        /// The bound.
        bound: u64,
        /// Whose bound: `"plan"`, `"plan-cap"` (the plan's cap-aware bound) or `"checker"`.
        by: &'static str,
    },
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DrainedAndKept { node } => write!(f, "node {node} is both drained and kept"),
            Self::Unaccounted { node } => write!(f, "node {node} is neither drained nor kept"),
            Self::KeptWithoutReason { node } => write!(f, "kept node {node} has no reason"),
            Self::CordonOnlyNotKept { node } => write!(
                f,
                "node {node} is listed as cordoned only, but is not a kept node"
            ),
            Self::UnknownNode { node } => write!(f, "plan names unknown node {node}"),
            Self::UnknownPod { pod } => write!(f, "move of unknown pod {pod}"),
            Self::MovedTwice { pod, times } => write!(f, "pod {pod} is moved {times} times"),
            Self::WrongSource { pod, node } => write!(f, "pod {pod} is not on node {node}"),
            Self::SourceNotDrained { pod, node } => {
                write!(f, "pod {pod} moves off node {node}, which is not drained")
            }
            Self::NotMovable { pod, rule } => write!(f, "pod {pod} is moved, but {rule}"),
            Self::DrainBlocked { node, pod, rule } => write!(
                f,
                "node {node} is drained, but its pod {pod} blocks that: {rule}"
            ),
            Self::LeftBehind { node, pod } => write!(f, "pod {pod} stays on drained node {node}"),
            Self::NodeNotDrainable { node, rule } => {
                write!(f, "node {node} is drained, but {rule}")
            }
            Self::Placement {
                pod,
                node,
                tied,
                constraint,
            } => {
                if *tied {
                    write!(
                        f,
                        "pod {pod} may land on node {node} (tied with its prediction), which {constraint}"
                    )
                } else {
                    write!(f, "pod {pod} moves to node {node}, which {constraint}")
                }
            }
            Self::OverCap {
                node,
                resource,
                per_mille,
                cap,
            } => write!(
                f,
                "node {node} receives pods and ends at {}.{} % of allocatable {resource}, over the {cap} % cap",
                per_mille / 10,
                per_mille % 10
            ),
            Self::OverAllocatable {
                node,
                resource,
                requested,
                allocatable,
            } => write!(
                f,
                "node {node} exceeds allocatable {resource} after the plan ({requested} > {allocatable})"
            ),
            Self::WaveOrder { pod, wave } => write!(
                f,
                "eviction of pod {pod} in wave {wave} is out of wave order"
            ),
            Self::WaveTooWide { wave, nodes, max } => {
                write!(f, "wave {wave} touches {nodes} nodes, more than {max}")
            }
            Self::BudgetOverspent {
                wave,
                pdb,
                evictions,
                allowed,
            } => write!(
                f,
                "wave {wave} evicts {evictions} pods under PodDisruptionBudget {pdb}, which allows {allowed}"
            ),
            Self::WaveList { wave } => write!(
                f,
                "the plan's list of waves disagrees with its moves in wave {wave}"
            ),
            Self::BelowLowerBound { kept, bound, by } => {
                if *by == "plan" {
                    write!(
                        f,
                        "plan keeps {kept} nodes, below its lower bound of {bound}"
                    )
                } else if *by == "plan-cap" {
                    write!(
                        f,
                        "plan keeps {kept} nodes, below its cap-aware lower bound of {bound}"
                    )
                } else {
                    write!(
                        f,
                        "plan keeps {kept} nodes, below the checker's lower bound of {bound}"
                    )
                }
            }
        }
    }
}
