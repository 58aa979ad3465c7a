//! kube-scheduler's configuration as the prediction models it: the scoring of each profile
//! (NodeResourcesFit's strategy, the score plugins and their weights) and
//! `percentageOfNodesToScore`.
//!
//! [`SchedulerConfig::default`] is kube-scheduler v1.34's default: one profile,
//! `default-scheduler`, with LeastAllocated over CPU and memory and the default weights.
//! `compactor-kube` reads a real `KubeSchedulerConfiguration` into these types (and refuses
//! what they cannot express); here they are plain data.

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// The scheduler name pods get when they name none.
pub const DEFAULT_SCHEDULER: &str = "default-scheduler";

/// The scheduler configuration the prediction follows.
///
/// # Example
/// ```
/// use compactor_core::plan::{FitStrategy, SchedulerConfig, SchedulerProfile};
/// let mut profile = SchedulerProfile::default();
/// profile.fit.strategy = FitStrategy::MostAllocated;
/// let config = SchedulerConfig::default().with_profiles(vec![profile]);
/// assert!(config.validate().is_ok());
/// assert_eq!(config.profile("default-scheduler").unwrap().fit.strategy, FitStrategy::MostAllocated);
/// assert!(config.profile("volcano").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct SchedulerConfig {
    /// `percentageOfNodesToScore` (1–100), or 0 for kube-scheduler's adaptive default,
    /// `max(5, 50 − nodes/125)` %. In clusters of 100 nodes or more kube-scheduler scores
    /// only that share of the feasible nodes (at least 100), starting where its previous
    /// search stopped — a position no snapshot shows — so predictions there are the best node
    /// of a sample, and the plan says so in `notes`; 100 scores every node.
    #[serde(default)]
    pub percentage_of_nodes_to_score: u32,
    /// The profiles, one per `schedulerName`. A pod whose `schedulerName` has no profile
    /// here is placed by a scheduler the prediction does not model: it stays.
    #[serde(default = "default_profiles")]
    pub profiles: Vec<SchedulerProfile>,
}

fn default_profiles() -> Vec<SchedulerProfile> {
    vec![SchedulerProfile::default()]
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            percentage_of_nodes_to_score: 0,
            profiles: default_profiles(),
        }
    }
}

impl SchedulerConfig {
    /// Whether this is kube-scheduler's default configuration.
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// With `percentageOfNodesToScore` `percent` (0: adaptive).
    #[must_use]
    pub fn with_percentage_of_nodes_to_score(mut self, percent: u32) -> Self {
        self.percentage_of_nodes_to_score = percent;
        self
    }

    /// With these profiles instead of the default one.
    #[must_use]
    pub fn with_profiles(mut self, profiles: Vec<SchedulerProfile>) -> Self {
        self.profiles = profiles;
        self
    }

    /// The profile of the scheduler named `scheduler_name`, if modelled.
    ///
    /// # Complexity
    /// O(profiles).
    pub fn profile(&self, scheduler_name: &str) -> Option<&SchedulerProfile> {
        self.profiles
            .iter()
            .find(|p| p.scheduler_name == scheduler_name)
    }

    /// The `percentageOfNodesToScore` of `profile`: its own, else the global one.
    pub fn percentage(&self, profile: &SchedulerProfile) -> u32 {
        profile
            .percentage_of_nodes_to_score
            .unwrap_or(self.percentage_of_nodes_to_score)
    }

    /// The names of the modelled schedulers, for messages.
    pub fn names(&self) -> String {
        self.profiles
            .iter()
            .map(|p| p.scheduler_name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Checks the ranges kube-scheduler's own validation enforces.
    ///
    /// # Errors
    /// [`CoreError::InvalidOption`] naming the field: a percentage over 100, no profile, two
    /// profiles with one scheduler name, a resource weight outside 1–100, a
    /// `hardPodAffinityWeight` outside 0–100, or a RequestedToCapacityRatio shape that
    /// is empty, unsorted or out of range (utilisation 0–100, score 0–10).
    pub fn validate(&self) -> Result<(), CoreError> {
        let invalid = |field: String, message: String| CoreError::InvalidOption { field, message };
        if self.percentage_of_nodes_to_score > 100 {
            return Err(invalid(
                "percentageOfNodesToScore".into(),
                format!("{} is not in 0–100", self.percentage_of_nodes_to_score),
            ));
        }
        if self.profiles.is_empty() {
            return Err(invalid(
                "profiles".into(),
                "at least one profile is needed".into(),
            ));
        }
        for (i, p) in self.profiles.iter().enumerate() {
            let at = |field: &str| format!("profiles[{i}].{field}");
            if self.profiles[..i]
                .iter()
                .any(|q| q.scheduler_name == p.scheduler_name)
            {
                return Err(invalid(
                    at("schedulerName"),
                    format!("{:?} names two profiles", p.scheduler_name),
                ));
            }
            if let Some(pct) = p.percentage_of_nodes_to_score.filter(|&x| x > 100) {
                return Err(invalid(
                    at("percentageOfNodesToScore"),
                    format!("{pct} is not in 0–100"),
                ));
            }
            for (k, r) in p.fit.resources.iter().enumerate() {
                if !(1..=100).contains(&r.weight) {
                    return Err(invalid(
                        at(&format!("fit.resources[{k}].weight")),
                        format!("{} ({}) is not in 1–100", r.weight, r.name),
                    ));
                }
            }
            if let FitStrategy::RequestedToCapacityRatio { shape } = &p.fit.strategy {
                if shape.is_empty() {
                    return Err(invalid(
                        at("fit.strategy.shape"),
                        "at least one point is needed".into(),
                    ));
                }
                for (k, s) in shape.iter().enumerate() {
                    if !(0..=100).contains(&s.utilization) || !(0..=10).contains(&s.score) {
                        return Err(invalid(
                            at(&format!("fit.strategy.shape[{k}]")),
                            format!(
                                "utilization {} must be in 0–100 and score {} in 0–10",
                                s.utilization, s.score
                            ),
                        ));
                    }
                    if k > 0 && shape[k - 1].utilization >= s.utilization {
                        return Err(invalid(
                            at(&format!("fit.strategy.shape[{k}].utilization")),
                            "utilization values must increase".into(),
                        ));
                    }
                }
            }
            if !(0..=100).contains(&p.hard_pod_affinity_weight) {
                return Err(invalid(
                    at("hardPodAffinityWeight"),
                    format!("{} is not in 0–100", p.hard_pod_affinity_weight),
                ));
            }
        }
        Ok(())
    }
}

/// One kube-scheduler profile: how it scores nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct SchedulerProfile {
    /// The `schedulerName` pods use to pick this profile.
    pub scheduler_name: String,
    /// This profile's own `percentageOfNodesToScore`, overriding the global one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage_of_nodes_to_score: Option<u32>,
    /// NodeResourcesFit's scoring strategy.
    #[serde(default)]
    pub fit: FitScoring,
    /// The resources NodeResourcesBalancedAllocation balances.
    #[serde(default = "default_balanced")]
    pub balanced_resources: Vec<String>,
    /// Score plugin weights (0: the plugin does not score).
    #[serde(default)]
    pub weights: ScoreWeights,
    /// InterPodAffinity's `hardPodAffinityWeight`: what an existing pod's required affinity
    /// term that selects the incoming pod adds to the score of its domain (0–100).
    #[serde(default = "one")]
    pub hard_pod_affinity_weight: i64,
    /// InterPodAffinity's `ignorePreferredTermsOfExistingPods`: when set, a pod without
    /// preferred inter-pod terms of its own is not scored by InterPodAffinity at all.
    #[serde(default)]
    pub ignore_preferred_terms_of_existing_pods: bool,
}

fn one() -> i64 {
    1
}

fn default_balanced() -> Vec<String> {
    vec!["cpu".into(), "memory".into()]
}

impl Default for SchedulerProfile {
    fn default() -> Self {
        Self {
            scheduler_name: DEFAULT_SCHEDULER.into(),
            percentage_of_nodes_to_score: None,
            fit: FitScoring::default(),
            balanced_resources: default_balanced(),
            weights: ScoreWeights::default(),
            hard_pod_affinity_weight: 1,
            ignore_preferred_terms_of_existing_pods: false,
        }
    }
}

impl SchedulerProfile {
    /// The default profile under another scheduler name.
    pub fn named(scheduler_name: &str) -> Self {
        Self {
            scheduler_name: scheduler_name.into(),
            ..Self::default()
        }
    }
}

/// NodeResourcesFit's `scoringStrategy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct FitScoring {
    /// How a node's requested share of a resource becomes a score.
    #[serde(default)]
    pub strategy: FitStrategy,
    /// The resources scored, with their weights (1–100).
    #[serde(default = "default_resources")]
    pub resources: Vec<ResourceWeight>,
}

fn default_resources() -> Vec<ResourceWeight> {
    vec![
        ResourceWeight {
            name: "cpu".into(),
            weight: 1,
        },
        ResourceWeight {
            name: "memory".into(),
            weight: 1,
        },
    ]
}

impl Default for FitScoring {
    fn default() -> Self {
        Self {
            strategy: FitStrategy::default(),
            resources: default_resources(),
        }
    }
}

/// NodeResourcesFit's scoring strategy types.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
#[non_exhaustive]
pub enum FitStrategy {
    /// Prefer the emptiest node: `(allocatable − requested) · 100 / allocatable`.
    #[default]
    LeastAllocated,
    /// Prefer the fullest node (bin packing): `requested · 100 / allocatable`.
    MostAllocated,
    /// A broken-linear function of the requested share, given by points.
    RequestedToCapacityRatio {
        /// Points `(utilization %, score 0–10)` in increasing utilisation.
        shape: Vec<ShapePoint>,
    },
}

/// A resource and its weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceWeight {
    /// Resource name (`cpu`, `memory`, `nvidia.com/gpu`, …).
    pub name: String,
    /// Weight, 1–100.
    pub weight: i64,
}

/// A point of RequestedToCapacityRatio's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShapePoint {
    /// Requested share, percent (0–100).
    pub utilization: i64,
    /// Score at that share (0–10; scaled to 0–100 as kube-scheduler does).
    pub score: i64,
}

impl ShapePoint {
    /// The point `(utilization %, score)`.
    pub const fn new(utilization: i64, score: i64) -> Self {
        Self { utilization, score }
    }
}

/// The weights of the score plugins the prediction models (0: disabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct ScoreWeights {
    /// NodeResourcesFit (default 1).
    pub node_resources_fit: u32,
    /// NodeResourcesBalancedAllocation (default 1).
    pub node_resources_balanced_allocation: u32,
    /// TaintToleration (default 3).
    pub taint_toleration: u32,
    /// NodeAffinity (default 2).
    pub node_affinity: u32,
    /// InterPodAffinity (default 2).
    pub inter_pod_affinity: u32,
    /// PodTopologySpread (default 2).
    pub pod_topology_spread: u32,
    /// ImageLocality (default 1).
    pub image_locality: u32,
}

impl Default for ScoreWeights {
    fn default() -> Self {
        Self {
            node_resources_fit: 1,
            node_resources_balanced_allocation: 1,
            taint_toleration: 3,
            node_affinity: 2,
            inter_pod_affinity: 2,
            pod_topology_spread: 2,
            image_locality: 1,
        }
    }
}

impl ScoreWeights {
    /// Every weight at 0 (no plugin scores).
    pub fn none() -> Self {
        Self {
            node_resources_fit: 0,
            node_resources_balanced_allocation: 0,
            taint_toleration: 0,
            node_affinity: 0,
            inter_pod_affinity: 0,
            pod_topology_spread: 0,
            image_locality: 0,
        }
    }

    /// `(plugin name, weight)` for each modelled score plugin, in kube-scheduler's default
    /// order.
    pub fn named(&self) -> [(&'static str, u32); 7] {
        [
            ("TaintToleration", self.taint_toleration),
            ("NodeAffinity", self.node_affinity),
            ("NodeResourcesFit", self.node_resources_fit),
            ("PodTopologySpread", self.pod_topology_spread),
            ("InterPodAffinity", self.inter_pod_affinity),
            (
                "NodeResourcesBalancedAllocation",
                self.node_resources_balanced_allocation,
            ),
            ("ImageLocality", self.image_locality),
        ]
    }

    /// The weight of the score plugin called `name`, mutable; `None` for a plugin the
    /// prediction does not model.
    pub fn by_name_mut(&mut self, name: &str) -> Option<&mut u32> {
        Some(match name {
            "TaintToleration" => &mut self.taint_toleration,
            "NodeAffinity" => &mut self.node_affinity,
            "NodeResourcesFit" => &mut self.node_resources_fit,
            "PodTopologySpread" => &mut self.pod_topology_spread,
            "InterPodAffinity" => &mut self.inter_pod_affinity,
            "NodeResourcesBalancedAllocation" => &mut self.node_resources_balanced_allocation,
            "ImageLocality" => &mut self.image_locality,
            _ => return None,
        })
    }
}

/// kube-scheduler's broken-linear function of RequestedToCapacityRatio: the score (0–100)
/// at `utilization` (0–100) for `shape` (scores 0–10, scaled by 10).
pub(crate) fn broken_linear(shape: &[ShapePoint], utilization: i64) -> i64 {
    for (i, point) in shape.iter().enumerate() {
        if utilization <= point.utilization {
            if i == 0 {
                return point.score * 10;
            }
            let prev = shape[i - 1];
            return prev.score * 10
                + (point.score - prev.score) * 10 * (utilization - prev.utilization)
                    / (point.utilization - prev.utilization);
        }
    }
    shape.last().map_or(0, |p| p.score * 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_kube_schedulers_default_profile() {
        let c = SchedulerConfig::default();
        assert!(c.is_default());
        assert!(c.validate().is_ok());
        let p = c.profile(DEFAULT_SCHEDULER).unwrap();
        assert_eq!(p.weights.taint_toleration, 3);
        assert_eq!(p.fit.strategy, FitStrategy::LeastAllocated);
        assert_eq!(c.percentage(p), 0);
    }

    #[test]
    fn serde_round_trip_and_defaults() {
        let json = r#"{"percentageOfNodesToScore": 50, "profiles": [{"schedulerName": "packer",
            "fit": {"strategy": {"type": "RequestedToCapacityRatio", "shape": [{"utilization": 0, "score": 0}, {"utilization": 100, "score": 10}]}}}]}"#;
        let c: SchedulerConfig = serde_json::from_str(json).unwrap();
        let p = c.profile("packer").unwrap();
        assert_eq!(p.weights, ScoreWeights::default());
        assert_eq!(p.fit.resources.len(), 2);
        assert_eq!(
            serde_json::from_str::<SchedulerConfig>(&serde_json::to_string(&c).unwrap()).unwrap(),
            c
        );
        assert!(serde_json::from_str::<SchedulerConfig>(r#"{"profiles": [{}]}"#).is_err());
    }

    #[test]
    fn validation_names_the_field() {
        let mut p = SchedulerProfile::default();
        p.fit.strategy = FitStrategy::RequestedToCapacityRatio {
            shape: vec![ShapePoint::new(50, 5), ShapePoint::new(50, 10)],
        };
        let err = SchedulerConfig::default()
            .with_profiles(vec![p])
            .validate()
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("profiles[0].fit.strategy.shape[1].utilization"),
            "{err}"
        );
        let twice = SchedulerConfig::default().with_profiles(vec![
            SchedulerProfile::default(),
            SchedulerProfile::default(),
        ]);
        assert!(
            twice
                .validate()
                .unwrap_err()
                .to_string()
                .contains("profiles[1].schedulerName")
        );
        let mut w = SchedulerProfile::default();
        w.fit.resources[0].weight = 0;
        assert!(
            SchedulerConfig::default()
                .with_profiles(vec![w])
                .validate()
                .is_err()
        );
    }

    #[test]
    fn broken_linear_matches_kube_scheduler() {
        // kube-scheduler's helper test shape: (10, 1), (50, 5)... here the usual bin-packing
        // shape 0 → 0, 100 → 10, and a two-segment one.
        let up = [ShapePoint::new(0, 0), ShapePoint::new(100, 10)];
        assert_eq!(broken_linear(&up, 0), 0);
        assert_eq!(broken_linear(&up, 37), 37);
        assert_eq!(broken_linear(&up, 100), 100);
        let bent = [
            ShapePoint::new(10, 1),
            ShapePoint::new(50, 9),
            ShapePoint::new(90, 2),
        ];
        assert_eq!(broken_linear(&bent, 5), 10); // before the first point: its score
        assert_eq!(broken_linear(&bent, 30), 10 + 80 * 20 / 40);
        assert_eq!(broken_linear(&bent, 70), 90 + (20 - 90) * 20 / 40);
        assert_eq!(broken_linear(&bent, 95), 20); // after the last: its score
    }
}
