//! Risk of moving a pod, computed from facts (DESIGN §7), never from names.

use serde::{Deserialize, Serialize};

/// Risk level of a move.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum RiskLevel {
    /// Score below 40.
    #[default]
    Low,
    /// Score 40 to 69.
    Medium,
    /// Score 70 or more.
    High,
}

/// One fact that raised a risk score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RiskFactor {
    /// Owned by a StatefulSet or mounts a PersistentVolumeClaim: +50.
    Stateful,
    /// The workload has a single replica: +30.
    SingleReplica,
    /// No readiness probe: +20.
    NoReadinessProbe,
    /// Holds emptyDir data that eviction loses (allowed by safe-to-evict): +20.
    EmptyDirData,
    /// Requests more than 25 % of its node in some dimension: +20.
    LargePod,
    /// Not covered by a PodDisruptionBudget: +10.
    NoPdb,
}

impl RiskFactor {
    /// Points this factor adds.
    pub fn points(self) -> u32 {
        match self {
            RiskFactor::Stateful => 50,
            RiskFactor::SingleReplica => 30,
            RiskFactor::NoReadinessProbe | RiskFactor::EmptyDirData | RiskFactor::LargePod => 20,
            RiskFactor::NoPdb => 10,
        }
    }
}

/// A computed risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Risk {
    /// Sum of the factors' points.
    pub score: u32,
    /// Level derived from the score.
    pub level: RiskLevel,
    /// The facts behind the score.
    pub factors: Vec<RiskFactor>,
}

impl Risk {
    /// Scores a set of facts.
    ///
    /// # Examples
    /// ```
    /// use compactor_core::risk::{Risk, RiskFactor, RiskLevel};
    /// let r = Risk::from_factors(vec![RiskFactor::Stateful, RiskFactor::SingleReplica]);
    /// assert_eq!((r.score, r.level), (80, RiskLevel::High));
    /// assert_eq!(Risk::from_factors(vec![RiskFactor::NoPdb]).level, RiskLevel::Low);
    /// ```
    pub fn from_factors(mut factors: Vec<RiskFactor>) -> Self {
        factors.sort();
        factors.dedup();
        let score = factors.iter().map(|f| f.points()).sum();
        let level = match score {
            70.. => RiskLevel::High,
            40.. => RiskLevel::Medium,
            _ => RiskLevel::Low,
        };
        Self {
            score,
            level,
            factors,
        }
    }

    /// Whether the move is stateful (never auto-approved).
    pub fn is_stateful(&self) -> bool {
        self.factors.contains(&RiskFactor::Stateful)
    }
}
